/* xenamp-load: the firmware image as the loader sees it.
 *
 * fw_image_load() reads a firmware ELF, validates it completely and copies
 * everything the rest of the loader needs (ELF header, program headers,
 * the decoded resource table, the RPMsg vdev and the link parameters
 * derived from it) into a struct fw_image. After it returns XLD_EXIT_OK,
 * the image is known to be consistent: the inspector and the boot targets
 * (boot_xl.c, boot_libvirt.c, boot_local.c) never re-validate and
 * never touch libelf.
 *
 * Exit codes: stable, part of the command-line interface (also printed by
 * --help). Each fault in codes 3..8 is reported as exactly one line
 *     xenamp-load: FILE: offset 0xNN: fault
 * where NN is the byte offset IN THE FILE of the field at fault (for a
 * truncated file: the offset where the data ends).
 *
 *   code  meaning
 *   0     success
 *   1     I/O or system error (cannot open or read FILE, out of memory)
 *   2     usage error (bad option, missing FILE, bad NAME or value)
 *   3     not an ELF file (empty, or bad magic)
 *   4     unsupported ELF: class not ELF32/ELF64, big-endian, version != 1
 *   5     malformed ELF: truncated ELF header, bad header entry size,
 *         program or section header table outside the file, a segment or
 *         section outside the file, bad section name table or name
 *   6     .resource_table section missing, duplicated, or without contents
 *   7     resource table fault (xa_rsc_parse: header, offsets, entries,
 *         overlaps); the offset is converted to a file offset
 *   8     no usable RPMsg vdev (xa_rsc_find_rpmsg_vdev: none, several, not
 *         virtio id 7, not 2 vrings, vring num not a power of two, bad
 *         align) or vrings of different sizes
 *   9     boot failure (template, writing the config, running xl)
 *  10     not a bootable Xen image for this host (--xl, --libvirt only):
 *         no usable Xen ELF notes, wrong class or machine, or a guest
 *         type the host does not run; one line
 *             xenamp-load: FILE: not bootable ...: reason
 */
#ifndef XENAMP_LOADER_LOADER_H
#define XENAMP_LOADER_LOADER_H

#include <stddef.h>
#include <stdint.h>

#include "core/rsc_parse.h"
#include "common/link_params.h"
#include "xen_notes.h"

enum xld_exit {
	XLD_EXIT_OK = 0,
	XLD_EXIT_IO = 1,
	XLD_EXIT_USAGE = 2,
	XLD_EXIT_NOT_ELF = 3,
	XLD_EXIT_ELF_KIND = 4,
	XLD_EXIT_ELF_MALFORMED = 5,
	XLD_EXIT_NO_RSC = 6,
	XLD_EXIT_RSC = 7,
	XLD_EXIT_VDEV = 8,
	XLD_EXIT_BOOT = 9,
	XLD_EXIT_NOT_XEN = 10,
};

/* Files larger than this are refused (code 1): firmware is small and the
 * whole file is read into memory. */
#define XLD_MAX_FILE_SIZE ((size_t)512 << 20)

/* Domain memory: carveouts rounded up to MiB, never below this. */
#define XLD_MIN_MEMORY_MIB 32u

/* Why loading failed. */
struct fw_fault {
	int code;            /* enum xld_exit */
	int has_offset;      /* 0 for code 1 (no file offset applies) */
	uint64_t offset;     /* file offset of the field at fault */
	char msg[320];
};

struct fw_segment {
	uint32_t type;       /* p_type */
	uint32_t flags;      /* p_flags (PF_R 4, PF_W 2, PF_X 1) */
	uint64_t offset, vaddr, paddr, filesz, memsz, align;
};

struct fw_image {
	const char *path;

	/* the file, read once; every offset below has been checked against size */
	uint8_t *data;
	size_t size;

	/* ELF header */
	unsigned elfclass;   /* 32 or 64 */
	uint16_t type;       /* e_type */
	uint16_t machine;    /* e_machine */
	uint32_t eflags;     /* e_flags */
	uint64_t entry;      /* e_entry */
	uint64_t phoff, shoff;
	size_t shnum;

	/* program headers */
	size_t phnum;
	struct fw_segment *seg;

	/* the .resource_table section */
	size_t rsc_index;    /* section index */
	uint64_t rsc_offset; /* file offset of the table */
	uint64_t rsc_size;
	uint64_t rsc_addr;   /* sh_addr: where the firmware expects it */
	struct xa_rsc_table rsc;

	/* derived */
	int vdev;                    /* entry index of the RPMsg vdev */
	struct xa_link_params link;  /* buf_count, buf_size, max_pages */
	const char *buf_size_source; /* "default" or "--buf-size" */
	uint64_t carveout_bytes;     /* sum of the carveout lengths */
	uint32_t memory_mib;         /* carveouts rounded up, >= 32 */

	/* Xen ELF notes of the PT_NOTE segments (descriptors point into data)
	 * and the guest types they make the image bootable as */
	struct xld_xen_notes xen;
	struct xld_xen_boot xboot;
};

/* Read and validate path. buf_size: RPMsg buffer size for the link, or 0
 * for the default (512, docs/protocol.md#rpmsg-wire-format). Returns
 * XLD_EXIT_OK, or another enum xld_exit with *f filled. The image must be
 * released with fw_image_free() in both cases. */
int fw_image_load(struct fw_image *img, const char *path, uint32_t buf_size,
		  struct fw_fault *f);
void fw_image_free(struct fw_image *img);

/* Bytes of the file at [off, off + len), or NULL when that range is not
 * inside the file. */
const uint8_t *fw_image_bytes(const struct fw_image *img, uint64_t off,
			      uint64_t len);

/* Names for display ("EXEC", "x86-64", "LOAD"); never NULL. Unknown values
 * are rendered as a number into buf (at least 16 bytes). */
const char *fw_elf_type_name(uint16_t type, char *buf, size_t len);
const char *fw_elf_machine_name(uint16_t machine, char *buf, size_t len);
const char *fw_seg_type_name(uint32_t type, char *buf, size_t len);

/* --inspect output (inspect.c). Return an exit code. */
int fw_inspect_text(const struct fw_image *img);
int fw_inspect_json(const struct fw_image *img);

#endif

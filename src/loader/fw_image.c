/* Firmware ELF reading and validation for xenamp-load.
 *
 * Library choice: libelf (elfutils) decodes the headers (gelf_* for both
 * classes, extended section/segment numbering, section names through
 * elf_strptr). libelf alone cannot give the messages we need: elf_memory()
 * refuses a file whose section header table lies outside it with a bare
 * "invalid ELF file", and elf_getphdrnum() silently shortens a program
 * header table that runs past the end of the file. So the *geometry* of the
 * ELF header (identification, header size, where the two header tables lie)
 * is checked first on the raw little-endian bytes, with the file offset of
 * every field at hand; only then is the buffer handed to libelf, which
 * therefore never sees a table outside the file. Every later check (each
 * segment, each section, the section name table) is done on the values
 * libelf returns, against the file size, overflow-safe.
 *
 * Every value read from the file is hostile. The file is read once into
 * private memory; nothing is re-read. */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/byteorder.h"
#include "core/rpmsg_wire.h"
#include "core/vring.h"
#include "loader.h"
#include "xenamp/rsc_table.h"

#define PAGE 4096u
#define MIB  ((uint64_t)1 << 20)

/* ------------------------------------------------------------------ */
/* Faults                                                              */

static int fault(struct fw_fault *f, int code, uint64_t off, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int fault(struct fw_fault *f, int code, uint64_t off, const char *fmt, ...)
{
	va_list ap;

	f->code = code;
	f->has_offset = 1;
	f->offset = off;
	va_start(ap, fmt);
	vsnprintf(f->msg, sizeof(f->msg), fmt, ap);
	va_end(ap);
	return code;
}

static int sysfault(struct fw_fault *f, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int sysfault(struct fw_fault *f, const char *fmt, ...)
{
	va_list ap;

	f->code = XLD_EXIT_IO;
	f->has_offset = 0;
	f->offset = 0;
	va_start(ap, fmt);
	vsnprintf(f->msg, sizeof(f->msg), fmt, ap);
	va_end(ap);
	return XLD_EXIT_IO;
}

/* Is [off, off + len) inside a file of size bytes? Overflow-safe. */
static bool in_file(uint64_t off, uint64_t len, uint64_t size)
{
	return off <= size && len <= size - off;
}

/* Copy a name from the file for a message: at most 40 characters,
 * anything unprintable shown as '?', so a message stays one line. */
static const char *safe_name(const char *s, char buf[48])
{
	size_t i;

	if (s == NULL)
		return "?";
	for (i = 0; i < 40 && s[i] != '\0'; i++)
		buf[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
	if (i == 40 && s[i] != '\0') {
		buf[i++] = '.';
		buf[i++] = '.';
	}
	buf[i] = '\0';
	return buf;
}

/* ------------------------------------------------------------------ */
/* Names                                                               */

const char *fw_elf_type_name(uint16_t type, char *buf, size_t len)
{
	switch (type) {
	case ET_NONE: return "NONE";
	case ET_REL: return "REL";
	case ET_EXEC: return "EXEC";
	case ET_DYN: return "DYN";
	case ET_CORE: return "CORE";
	default:
		snprintf(buf, len, "0x%x", (unsigned)type);
		return buf;
	}
}

const char *fw_elf_machine_name(uint16_t machine, char *buf, size_t len)
{
	switch (machine) {
	case EM_NONE: return "none";
	case EM_386: return "i386";
	case EM_X86_64: return "x86-64";
	case EM_ARM: return "ARM";
	case EM_AARCH64: return "AArch64";
	case EM_RISCV: return "RISC-V";
	case EM_PPC: return "PowerPC";
	case EM_PPC64: return "PowerPC64";
	case EM_MIPS: return "MIPS";
	case EM_XTENSA: return "Xtensa";
	default:
		snprintf(buf, len, "%u", (unsigned)machine);
		return buf;
	}
}

const char *fw_seg_type_name(uint32_t type, char *buf, size_t len)
{
	switch (type) {
	case PT_NULL: return "NULL";
	case PT_LOAD: return "LOAD";
	case PT_DYNAMIC: return "DYNAMIC";
	case PT_INTERP: return "INTERP";
	case PT_NOTE: return "NOTE";
	case PT_SHLIB: return "SHLIB";
	case PT_PHDR: return "PHDR";
	case PT_TLS: return "TLS";
	case PT_GNU_EH_FRAME: return "GNU_EH_FRAME";
	case PT_GNU_STACK: return "GNU_STACK";
	case PT_GNU_RELRO: return "GNU_RELRO";
	default:
		snprintf(buf, len, "0x%x", (unsigned)type);
		return buf;
	}
}

/* ------------------------------------------------------------------ */
/* Raw header geometry                                                 */

/* Where the fields we report on sit, per class. */
struct elf_layout {
	unsigned ehsize;
	unsigned addr;           /* width of an address/offset field */
	unsigned e_phoff, e_shoff, e_phentsize, e_phnum;
	unsigned e_shentsize, e_shnum, e_shstrndx;
	unsigned phentsize, p_offset, p_filesz, p_memsz;
	unsigned shentsize, sh_name, sh_type, sh_offset, sh_size, sh_info;
};

static const struct elf_layout lay32 = {
	.ehsize = 52, .addr = 4,
	.e_phoff = 0x1c, .e_shoff = 0x20, .e_phentsize = 0x2a, .e_phnum = 0x2c,
	.e_shentsize = 0x2e, .e_shnum = 0x30, .e_shstrndx = 0x32,
	.phentsize = 32, .p_offset = 0x04, .p_filesz = 0x10, .p_memsz = 0x14,
	.shentsize = 40, .sh_name = 0x00, .sh_type = 0x04, .sh_offset = 0x10,
	.sh_size = 0x14, .sh_info = 0x1c,
};

static const struct elf_layout lay64 = {
	.ehsize = 64, .addr = 8,
	.e_phoff = 0x20, .e_shoff = 0x28, .e_phentsize = 0x36, .e_phnum = 0x38,
	.e_shentsize = 0x3a, .e_shnum = 0x3c, .e_shstrndx = 0x3e,
	.phentsize = 56, .p_offset = 0x08, .p_filesz = 0x20, .p_memsz = 0x28,
	.shentsize = 64, .sh_name = 0x00, .sh_type = 0x04, .sh_offset = 0x18,
	.sh_size = 0x20, .sh_info = 0x2c,
};

/* Read an address-sized field; the caller has checked it is in the file. */
static uint64_t rd_addr(const uint8_t *p, const struct elf_layout *l)
{
	return l->addr == 8 ? xa_get_le64(p) : xa_get_le32(p);
}

/* e_ident: the magic, then class, data encoding and version. On success
 * *lp is the class layout and img->elfclass is set. */
static int check_ident(struct fw_image *img, const struct elf_layout **lp,
		       struct fw_fault *f)
{
	static const uint8_t magic[4] = { 0x7f, 'E', 'L', 'F' };
	const uint8_t *d = img->data;
	const size_t size = img->size;
	size_t i;

	if (size == 0)
		return fault(f, XLD_EXIT_NOT_ELF, 0, "not an ELF file (empty)");
	for (i = 0; i < 4; i++) {
		if (i >= size)
			return fault(f, XLD_EXIT_NOT_ELF, i,
				     "not an ELF file (only %zu bytes)", size);
		if (d[i] != magic[i])
			return fault(f, XLD_EXIT_NOT_ELF, i,
				     "not an ELF file (byte 0x%02x where the magic \\177ELF has 0x%02x)",
				     d[i], magic[i]);
	}
	if (size < EI_NIDENT)
		return fault(f, XLD_EXIT_ELF_MALFORMED, size,
			     "ELF header truncated: the file ends after %zu bytes, inside e_ident",
			     size);
	if (d[EI_CLASS] != ELFCLASS32 && d[EI_CLASS] != ELFCLASS64)
		return fault(f, XLD_EXIT_ELF_KIND, EI_CLASS,
			     "ELF class %u is neither ELFCLASS32 (1) nor ELFCLASS64 (2)",
			     d[EI_CLASS]);
	if (d[EI_DATA] == ELFDATA2MSB)
		return fault(f, XLD_EXIT_ELF_KIND, EI_DATA,
			     "big-endian ELF (ELFDATA2MSB) is not supported; only little-endian ELF32 and ELF64 are");
	if (d[EI_DATA] != ELFDATA2LSB)
		return fault(f, XLD_EXIT_ELF_KIND, EI_DATA,
			     "ELF data encoding %u is invalid", d[EI_DATA]);
	if (d[EI_VERSION] != EV_CURRENT)
		return fault(f, XLD_EXIT_ELF_KIND, EI_VERSION,
			     "ELF version %u is not EV_CURRENT (1)", d[EI_VERSION]);
	*lp = d[EI_CLASS] == ELFCLASS64 ? &lay64 : &lay32;
	img->elfclass = d[EI_CLASS] == ELFCLASS64 ? 64 : 32;
	return XLD_EXIT_OK;
}

/* The section header table: *shoff and *shnum (extended numbering
 * resolved). On success, shnum != 0 implies the whole table, section 0
 * included, lies inside the file. */
static int check_sh_table(const struct fw_image *img, const struct elf_layout *l,
			  uint64_t *shoff_out, uint64_t *shnum_out,
			  struct fw_fault *f)
{
	const uint8_t *d = img->data;
	const size_t size = img->size;
	uint64_t shoff = rd_addr(d + l->e_shoff, l);
	unsigned shentsize = xa_get_le16(d + l->e_shentsize);
	uint64_t shnum = xa_get_le16(d + l->e_shnum);

	if (shoff == 0) {
		if (shnum != 0)
			return fault(f, XLD_EXIT_ELF_MALFORMED, l->e_shoff,
				     "e_shoff is 0 but e_shnum is %u", (unsigned)shnum);
	} else {
		if (shentsize != l->shentsize)
			return fault(f, XLD_EXIT_ELF_MALFORMED, l->e_shentsize,
				     "e_shentsize %u is not the ELF%u section header size %u",
				     shentsize, img->elfclass, l->shentsize);
		if (!in_file(shoff, shentsize, size))
			return fault(f, XLD_EXIT_ELF_MALFORMED, l->e_shoff,
				     "section header table at 0x%llx is outside the file (%zu bytes)",
				     (unsigned long long)shoff, size);
		if (shnum == 0) /* extended numbering: the count is in section 0 */
			shnum = rd_addr(d + shoff + l->sh_size, l);
		if (shnum > (size - shoff) / shentsize)
			return fault(f, XLD_EXIT_ELF_MALFORMED, l->e_shoff,
				     "section header table (%llu entries of %u bytes at 0x%llx) runs past the end of the file (%zu bytes)",
				     (unsigned long long)shnum, shentsize,
				     (unsigned long long)shoff, size);
	}
	*shoff_out = shoff;
	*shnum_out = shnum;
	return XLD_EXIT_OK;
}

/* The program header table: *phoff and *phnum (PN_XNUM resolved through
 * section 0, which check_sh_table() has placed inside the file). */
static int check_ph_table(const struct fw_image *img, const struct elf_layout *l,
			  uint64_t shoff, uint64_t shnum,
			  uint64_t *phoff_out, uint64_t *phnum_out,
			  struct fw_fault *f)
{
	const uint8_t *d = img->data;
	const size_t size = img->size;
	uint64_t phoff = rd_addr(d + l->e_phoff, l);
	unsigned phentsize = xa_get_le16(d + l->e_phentsize);
	uint64_t phnum = xa_get_le16(d + l->e_phnum);

	if (phnum == PN_XNUM) {
		if (shnum == 0)
			return fault(f, XLD_EXIT_ELF_MALFORMED, l->e_phnum,
				     "e_phnum is PN_XNUM but there is no section 0 to hold the count");
		phnum = xa_get_le32(d + shoff + l->sh_info);
	}
	if (phnum != 0) {
		if (phentsize != l->phentsize)
			return fault(f, XLD_EXIT_ELF_MALFORMED, l->e_phentsize,
				     "e_phentsize %u is not the ELF%u program header size %u",
				     phentsize, img->elfclass, l->phentsize);
		if (phoff > size || phnum > (size - phoff) / phentsize)
			return fault(f, XLD_EXIT_ELF_MALFORMED, l->e_phoff,
				     "program header table (%llu entries of %u bytes at 0x%llx) runs past the end of the file (%zu bytes)",
				     (unsigned long long)phnum, phentsize,
				     (unsigned long long)phoff, size);
	}
	*phoff_out = phoff;
	*phnum_out = phnum;
	return XLD_EXIT_OK;
}

/* Identification, header size and the extent of both header tables.
 * On success *lp is the class layout and *shnum_out / *phnum_out the real
 * entry counts (extended numbering resolved). */
static int check_geometry(struct fw_image *img, const struct elf_layout **lp,
			  uint64_t *shnum_out, uint64_t *phnum_out,
			  struct fw_fault *f)
{
	uint64_t shoff = 0, phoff = 0, shnum = 0, phnum = 0;
	const struct elf_layout *l;
	int rc;

	rc = check_ident(img, lp, f);
	if (rc != XLD_EXIT_OK)
		return rc;
	l = *lp;
	if (img->size < l->ehsize)
		return fault(f, XLD_EXIT_ELF_MALFORMED, img->size,
			     "ELF header truncated: the file is %zu bytes, an ELF%u header needs %u",
			     img->size, img->elfclass, l->ehsize);
	rc = check_sh_table(img, l, &shoff, &shnum, f);
	if (rc != XLD_EXIT_OK)
		return rc;
	rc = check_ph_table(img, l, shoff, shnum, &phoff, &phnum, f);
	if (rc != XLD_EXIT_OK)
		return rc;
	img->shoff = shoff;
	img->phoff = phoff;
	*shnum_out = shnum;
	*phnum_out = phnum;
	return XLD_EXIT_OK;
}

/* ------------------------------------------------------------------ */
/* Reading the file                                                    */

static int read_file(struct fw_image *img, struct fw_fault *f)
{
	struct stat st;
	size_t got = 0;
	int fd;

	fd = open(img->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return sysfault(f, "cannot open: %s", strerror(errno));
	if (fstat(fd, &st) != 0) {
		int e = errno;

		close(fd);
		return sysfault(f, "cannot stat: %s", strerror(e));
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return sysfault(f, "not a regular file");
	}
	if ((uint64_t)st.st_size > XLD_MAX_FILE_SIZE) {
		close(fd);
		return sysfault(f, "file too large (%llu bytes, the limit is %zu)",
				(unsigned long long)st.st_size, XLD_MAX_FILE_SIZE);
	}
	img->size = (size_t)st.st_size;
	/* +1: never malloc(0); the extra byte is not part of the file */
	img->data = malloc(img->size + 1);
	if (img->data == NULL) {
		close(fd);
		return sysfault(f, "out of memory");
	}
	while (got < img->size) {
		ssize_t n = read(fd, img->data + got, img->size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;

			close(fd);
			return sysfault(f, "read error: %s", strerror(e));
		}
		if (n == 0)
			break;   /* shrank under us: use what we got */
		got += (size_t)n;
	}
	img->size = got;
	close(fd);
	return XLD_EXIT_OK;
}

const uint8_t *fw_image_bytes(const struct fw_image *img, uint64_t off,
			      uint64_t len)
{
	if (img->data == NULL || !in_file(off, len, img->size))
		return NULL;
	return img->data + off;
}

/* ------------------------------------------------------------------ */
/* Segments and sections, through libelf                               */

static int libelf_fault(struct fw_fault *f, uint64_t off, const char *what)
{
	return fault(f, XLD_EXIT_ELF_MALFORMED, off, "%s: libelf: %s", what,
		     elf_errmsg(-1));
}

static int read_segments(struct fw_image *img, Elf *elf,
			 const struct elf_layout *l, uint64_t phnum,
			 struct fw_fault *f)
{
	size_t n, i;
	char tb[16];

	if (elf_getphdrnum(elf, &n) != 0)
		return libelf_fault(f, l->e_phnum, "program headers");
	if (n != phnum)   /* cannot happen after check_geometry() */
		return fault(f, XLD_EXIT_ELF_MALFORMED, l->e_phnum,
			     "libelf sees %zu program headers, the header says %llu",
			     n, (unsigned long long)phnum);
	img->phnum = n;
	if (n == 0)
		return XLD_EXIT_OK;
	img->seg = calloc(n, sizeof(*img->seg));
	if (img->seg == NULL)
		return sysfault(f, "out of memory");
	for (i = 0; i < n; i++) {
		uint64_t ph = img->phoff + (uint64_t)i * l->phentsize;
		struct fw_segment *s = &img->seg[i];
		GElf_Phdr p;

		if (gelf_getphdr(elf, (int)i, &p) == NULL)
			return libelf_fault(f, ph, "program header");
		s->type = p.p_type;
		s->flags = p.p_flags;
		s->offset = p.p_offset;
		s->vaddr = p.p_vaddr;
		s->paddr = p.p_paddr;
		s->filesz = p.p_filesz;
		s->memsz = p.p_memsz;
		s->align = p.p_align;
		if (s->filesz != 0 && !in_file(s->offset, s->filesz, img->size))
			return fault(f, XLD_EXIT_ELF_MALFORMED, ph + l->p_offset,
				     "segment %zu (%s): file range 0x%llx + 0x%llx runs past the end of the file (%zu bytes)",
				     i, fw_seg_type_name(s->type, tb, sizeof(tb)),
				     (unsigned long long)s->offset,
				     (unsigned long long)s->filesz, img->size);
		if (s->type == PT_LOAD && s->filesz > s->memsz)
			return fault(f, XLD_EXIT_ELF_MALFORMED, ph + l->p_filesz,
				     "segment %zu (LOAD): p_filesz 0x%llx exceeds p_memsz 0x%llx",
				     i, (unsigned long long)s->filesz,
				     (unsigned long long)s->memsz);
	}
	return XLD_EXIT_OK;
}

/* The section name table must be a string table inside the file before
 * elf_strptr() may read it. On success *strndx_out is its index. */
static int check_name_table(const struct fw_image *img, Elf *elf,
			    const struct elf_layout *l, size_t n,
			    size_t *strndx_out, struct fw_fault *f)
{
	size_t strndx;
	uint64_t shp;
	GElf_Shdr sh;
	Elf_Scn *scn;

	if (elf_getshdrstrndx(elf, &strndx) != 0)
		return libelf_fault(f, l->e_shstrndx, "section name table index");
	if (strndx == 0 || strndx >= n)
		return fault(f, XLD_EXIT_ELF_MALFORMED, l->e_shstrndx,
			     "e_shstrndx %zu is not a section index (%zu sections)",
			     strndx, n);
	shp = img->shoff + (uint64_t)strndx * l->shentsize;
	scn = elf_getscn(elf, strndx);
	if (scn == NULL || gelf_getshdr(scn, &sh) == NULL)
		return libelf_fault(f, shp, "section name table");
	if (sh.sh_type != SHT_STRTAB)
		return fault(f, XLD_EXIT_ELF_MALFORMED, shp + l->sh_type,
			     "section %zu (the section name table) has type %u, not SHT_STRTAB",
			     strndx, (unsigned)sh.sh_type);
	if (!in_file(sh.sh_offset, sh.sh_size, img->size))
		return fault(f, XLD_EXIT_ELF_MALFORMED, shp + l->sh_offset,
			     "section %zu (the section name table): contents 0x%llx + 0x%llx run past the end of the file (%zu bytes)",
			     strndx, (unsigned long long)sh.sh_offset,
			     (unsigned long long)sh.sh_size, img->size);
	*strndx_out = strndx;
	return XLD_EXIT_OK;
}

/* Section i's header and name; its contents, unless it has none, must lie
 * inside the file. *namep points into libelf's copy of the name table. */
static int read_section(const struct fw_image *img, Elf *elf,
			const struct elf_layout *l, size_t strndx, size_t i,
			GElf_Shdr *sh, const char **namep, struct fw_fault *f)
{
	uint64_t shp = img->shoff + (uint64_t)i * l->shentsize;
	const char *name;
	Elf_Scn *scn;
	char nb[48];

	scn = elf_getscn(elf, i);
	if (scn == NULL || gelf_getshdr(scn, sh) == NULL)
		return libelf_fault(f, shp, "section header");
	name = elf_strptr(elf, strndx, sh->sh_name);
	if (name == NULL)
		return fault(f, XLD_EXIT_ELF_MALFORMED, shp + l->sh_name,
			     "section %zu: name offset 0x%x is outside the section name table (or not terminated)",
			     i, (unsigned)sh->sh_name);
	if (sh->sh_type != SHT_NOBITS && sh->sh_size != 0 &&
	    !in_file(sh->sh_offset, sh->sh_size, img->size))
		return fault(f, XLD_EXIT_ELF_MALFORMED, shp + l->sh_offset,
			     "section %zu (%s): contents 0x%llx + 0x%llx run past the end of the file (%zu bytes)",
			     i, safe_name(name, nb),
			     (unsigned long long)sh->sh_offset,
			     (unsigned long long)sh->sh_size, img->size);
	*namep = name;
	return XLD_EXIT_OK;
}

/* Section i is named .resource_table: it must be the first so named and
 * have contents in the file; then it is recorded as the table. */
static int take_rsc_section(struct fw_image *img, const struct elf_layout *l,
			    size_t i, const GElf_Shdr *sh, bool *found,
			    struct fw_fault *f)
{
	uint64_t shp = img->shoff + (uint64_t)i * l->shentsize;

	if (*found)
		return fault(f, XLD_EXIT_NO_RSC, shp + l->sh_name,
			     "second .resource_table section (section %zu; the first is section %zu)",
			     i, img->rsc_index);
	if (sh->sh_type == SHT_NOBITS)
		return fault(f, XLD_EXIT_NO_RSC, shp + l->sh_type,
			     "section %zu (.resource_table) is SHT_NOBITS: it has no contents in the file",
			     i);
	/* An empty section skipped read_section()'s range check: its
	 * sh_offset may lie anywhere. */
	if (sh->sh_size == 0)
		return fault(f, XLD_EXIT_NO_RSC, shp + l->sh_size,
			     "section %zu (.resource_table) is empty (sh_size 0): it has no contents",
			     i);
	*found = true;
	img->rsc_index = i;
	img->rsc_offset = sh->sh_offset;
	img->rsc_size = sh->sh_size;
	img->rsc_addr = sh->sh_addr;
	return XLD_EXIT_OK;
}

/* Every section is checked (name, contents inside the file), not only up
 * to the first .resource_table, so a second one is refused. */
static int find_rsc_section(struct fw_image *img, Elf *elf,
			    const struct elf_layout *l, uint64_t shnum,
			    struct fw_fault *f)
{
	size_t n, strndx = 0, i;
	bool found = false;
	int rc;

	if (elf_getshdrnum(elf, &n) != 0)
		return libelf_fault(f, l->e_shnum, "section headers");
	if (n != shnum)   /* cannot happen after check_geometry() */
		return fault(f, XLD_EXIT_ELF_MALFORMED, l->e_shnum,
			     "libelf sees %zu sections, the header says %llu",
			     n, (unsigned long long)shnum);
	img->shnum = n;
	if (n == 0)
		return fault(f, XLD_EXIT_NO_RSC, l->e_shoff,
			     "no section headers, so no .resource_table section");
	rc = check_name_table(img, elf, l, n, &strndx, f);
	if (rc != XLD_EXIT_OK)
		return rc;
	for (i = 1; i < n; i++) {
		const char *name = NULL;
		GElf_Shdr sh;

		rc = read_section(img, elf, l, strndx, i, &sh, &name, f);
		if (rc != XLD_EXIT_OK)
			return rc;
		if (strcmp(name, ".resource_table") != 0)
			continue;
		rc = take_rsc_section(img, l, i, &sh, &found, f);
		if (rc != XLD_EXIT_OK)
			return rc;
	}
	if (!found)
		return fault(f, XLD_EXIT_NO_RSC, img->shoff,
			     "no .resource_table section (%zu sections)", n);
	return XLD_EXIT_OK;
}

/* ------------------------------------------------------------------ */
/* Resource table and derived parameters                               */

static uint64_t page_up(uint64_t v)
{
	return (v + PAGE - 1) / PAGE * PAGE;
}

/* The link the vdev describes: both vrings the same size (one buf_count),
 * and the smallest region that holds it: the resource table page, both
 * rings and the buffers of both directions, each part page-aligned.
 * xa_rsc_find_rpmsg_vdev() guarantees two vrings, num a power of two in
 * 1..32768, align a power of two >= 4. */
static int derive_link(struct fw_image *img, int idx, uint32_t buf_size,
		       struct fw_fault *f)
{
	const struct xa_rsc_entry *v = &img->rsc.entry[idx];
	uint64_t vr_field = img->rsc_offset + v->offset + XA_RSC_VDEV_SIZE;
	uint64_t region = PAGE;
	uint32_t i;

	if (v->u.vdev.vring[0].num != v->u.vdev.vring[1].num)
		return fault(f, XLD_EXIT_VDEV, vr_field + XA_RSC_VRING_SIZE + 8,
			     "resource table: entry %d (vdev): vring 0 num %u and vring 1 num %u differ; an RPMsg link needs both directions the same size",
			     idx, (unsigned)v->u.vdev.vring[0].num,
			     (unsigned)v->u.vdev.vring[1].num);

	img->link.buf_count = v->u.vdev.vring[0].num;
	img->link.buf_size = buf_size != 0 ? buf_size : XA_RPMSG_DEFAULT_BUF_SIZE;
	img->buf_size_source = buf_size != 0 ? "--buf-size" : "default";

	for (i = 0; i < 2; i++) {
		size_t rs = xa_vring_size(v->u.vdev.vring[i].num,
					  v->u.vdev.vring[i].align);

		if (rs == 0)
			return fault(f, XLD_EXIT_VDEV,
				     vr_field + (uint64_t)i * XA_RSC_VRING_SIZE + 4,
				     "resource table: entry %d (vdev): vring %u align %u is larger than 65536",
				     idx, (unsigned)i,
				     (unsigned)v->u.vdev.vring[i].align);
		region += page_up(rs);
	}
	region += page_up(2 * (uint64_t)img->link.buf_count * img->link.buf_size);
	img->link.max_pages = (uint32_t)(region / PAGE);
	return XLD_EXIT_OK;
}

/* The domain's memory: the carveouts' total, in MiB rounded up, at least
 * XLD_MIN_MEMORY_MIB. */
static void size_memory(struct fw_image *img)
{
	uint64_t mib;
	uint32_t i;

	img->carveout_bytes = 0;
	for (i = 0; i < img->rsc.num; i++)
		if (img->rsc.entry[i].type == RSC_CARVEOUT)
			img->carveout_bytes += img->rsc.entry[i].u.mem.len;
	mib = (img->carveout_bytes + MIB - 1) / MIB;
	img->memory_mib = mib < XLD_MIN_MEMORY_MIB ? XLD_MIN_MEMORY_MIB
						   : (uint32_t)mib;
}

static int check_rsc(struct fw_image *img, uint32_t buf_size, struct fw_fault *f)
{
	const uint8_t *tbl = fw_image_bytes(img, img->rsc_offset, img->rsc_size);
	struct xa_rsc_error err;
	int idx, rc;

	if (tbl == NULL)   /* checked in find_rsc_section() */
		return fault(f, XLD_EXIT_ELF_MALFORMED, img->rsc_offset,
			     ".resource_table is outside the file");
	if (xa_rsc_parse(tbl, (size_t)img->rsc_size, &img->rsc, &err) != XA_OK)
		return fault(f, XLD_EXIT_RSC, img->rsc_offset + err.offset,
			     "resource table: %s", err.msg);
	idx = xa_rsc_find_rpmsg_vdev(&img->rsc, &err);
	if (idx < 0)
		return fault(f, XLD_EXIT_VDEV, img->rsc_offset + err.offset,
			     "resource table: %s", err.msg);
	img->vdev = idx;
	rc = derive_link(img, idx, buf_size, f);
	if (rc != XLD_EXIT_OK)
		return rc;
	size_memory(img);
	return XLD_EXIT_OK;
}

/* The Xen ELF notes of every PT_NOTE segment (read_segments() checked
 * that each lies inside the file) and the guest types they allow. Not a
 * fault here: --inspect shows any image; the Xen boot targets refuse one
 * that Xen would not boot (fw_guest_type(), guest_type.c). */
static void read_xen_notes(struct fw_image *img)
{
	xld_xen_notes_init(&img->xen);
	for (size_t i = 0; i < img->phnum; i++) {
		const struct fw_segment *s = &img->seg[i];
		const uint8_t *p;

		if (s->type != PT_NOTE ||
		    (p = fw_image_bytes(img, s->offset, s->filesz)) == NULL)
			continue;
		xld_xen_notes_walk(&img->xen, p, s->filesz, s->offset, s->align);
	}
	xld_xen_classify(&img->xen, img->elfclass, img->machine, &img->xboot);
}

/* ------------------------------------------------------------------ */

int fw_image_load(struct fw_image *img, const char *path, uint32_t buf_size,
		  struct fw_fault *f)
{
	const struct elf_layout *l = NULL;
	uint64_t shnum = 0, phnum = 0;
	GElf_Ehdr eh;
	Elf *elf;
	int rc;

	memset(img, 0, sizeof(*img));
	memset(f, 0, sizeof(*f));
	img->path = path;
	img->vdev = -1;

	rc = read_file(img, f);
	if (rc != XLD_EXIT_OK)
		return rc;
	rc = check_geometry(img, &l, &shnum, &phnum, f);
	if (rc != XLD_EXIT_OK)
		return rc;

	if (elf_version(EV_CURRENT) == EV_NONE)
		return sysfault(f, "libelf: %s", elf_errmsg(-1));
	elf = elf_memory((char *)img->data, img->size);
	if (elf == NULL)
		return libelf_fault(f, 0, "ELF file");
	if (elf_kind(elf) != ELF_K_ELF) {
		elf_end(elf);
		return fault(f, XLD_EXIT_NOT_ELF, 0, "libelf does not recognise an ELF file");
	}
	if (gelf_getehdr(elf, &eh) == NULL) {
		rc = libelf_fault(f, 0, "ELF header");
		elf_end(elf);
		return rc;
	}
	img->type = eh.e_type;
	img->machine = eh.e_machine;
	img->eflags = eh.e_flags;
	img->entry = eh.e_entry;

	rc = read_segments(img, elf, l, phnum, f);
	if (rc == XLD_EXIT_OK)
		rc = find_rsc_section(img, elf, l, shnum, f);
	elf_end(elf);
	if (rc != XLD_EXIT_OK)
		return rc;
	read_xen_notes(img);
	return check_rsc(img, buf_size, f);
}

void fw_image_free(struct fw_image *img)
{
	free(img->seg);
	free(img->data);
	img->seg = NULL;
	img->data = NULL;
	img->size = 0;
	img->phnum = 0;
}

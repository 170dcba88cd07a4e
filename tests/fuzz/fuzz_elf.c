/* libFuzzer target: the firmware ELF reader of xenamp-load
 * (src/loader/fw_image.c: fw_image_load(), which runs the raw header
 * checks, libelf, the resource-table parser and the link derivation),
 * then, for an accepted image, both --inspect printers (inspect.c), which
 * trust what fw_image_load() validated.
 *
 * fw_image_load() reads a path, so the input is written to a memfd and
 * loaded through /proc/self/fd/N (a temporary file when /proc is not
 * there); the loader itself is unchanged. The printers write to stdout,
 * which is sent to /dev/null (libFuzzer reports on stderr).
 *
 * Checked with __builtin_trap() (besides ASan/UBSan):
 *   - a failure is one of the documented exit codes 1, 3..8 with a
 *     one-line message, and its file offset is not past the end of the
 *     file (loader.h: the offset of the field at fault, or where a
 *     truncated file ends);
 *   - an accepted image has its resource table and every segment's file
 *     range inside the file, an RPMsg vdev, and link parameters derived
 *     from it. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "loader/loader.h"
#include "xenamp/rsc_table.h"

#include "fuzz_file.h"

#define CHECK(c) do { if (!(c)) __builtin_trap(); } while (0)

int LLVMFuzzerInitialize(int *argc, char ***argv);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_file_open("xenamp-fuzz-elf");
	if (freopen("/dev/null", "w", stdout) == NULL) {
		perror("fuzz_elf: /dev/null");
		exit(1);
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fw_image img;
	struct fw_fault f;
	/* Exercise --buf-size too, without changing the file's bytes. */
	static const uint32_t bufsz[4] = { 0, 32, 512, 65536 };
	int rc;

	fuzz_file_put(data, size);
	rc = fw_image_load(&img, fuzz_file_path, bufsz[size & 3], &f);
	if (rc != XLD_EXIT_OK) {
		CHECK(rc == f.code);
		CHECK(rc == XLD_EXIT_IO || (rc >= XLD_EXIT_NOT_ELF && rc <= XLD_EXIT_VDEV));
		CHECK(memchr(f.msg, '\0', sizeof(f.msg)) != NULL);
		CHECK(f.msg[0] != '\0' && strchr(f.msg, '\n') == NULL);
		if (rc != XLD_EXIT_IO) {
			CHECK(f.has_offset);
			CHECK(f.offset <= size);
		}
		fw_image_free(&img);
		return 0;
	}

	CHECK(img.size == size);
	CHECK(img.elfclass == 32 || img.elfclass == 64);
	CHECK(fw_image_bytes(&img, img.rsc_offset, img.rsc_size) != NULL);
	for (size_t i = 0; i < img.phnum; i++) {
		const struct fw_segment *s = &img.seg[i];

		if (s->filesz != 0)
			CHECK(fw_image_bytes(&img, s->offset, s->filesz) != NULL);
	}
	CHECK(img.vdev >= 0 && (uint32_t)img.vdev < img.rsc.num);
	CHECK(img.rsc.entry[img.vdev].type == RSC_VDEV);
	CHECK(img.link.buf_count >= 1 && img.link.buf_count <= 32768);
	CHECK(img.link.max_pages >= 3);
	CHECK(img.memory_mib >= XLD_MIN_MEMORY_MIB);

	CHECK(fw_inspect_text(&img) == XLD_EXIT_OK);
	CHECK(fw_inspect_json(&img) == XLD_EXIT_OK);
	fflush(stdout);
	fw_image_free(&img);
	return 0;
}

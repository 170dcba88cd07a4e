/* A file whose contents are the fuzz input, for code that reads a path
 * (the loader's ELF reader, the configuration loader). A memfd reached
 * through /proc/self/fd costs no disk I/O; where /proc is not usable, a
 * temporary file stands in. Shared by the fuzz targets only. */
#ifndef XENAMP_FUZZ_FILE_H
#define XENAMP_FUZZ_FILE_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

static int fuzz_file_fd = -1;
static char fuzz_file_path[4096];

static void fuzz_file_cleanup(void)
{
	unlink(fuzz_file_path);
}

/* Create the file once (from LLVMFuzzerInitialize); exits on failure. */
static void fuzz_file_open(const char *name)
{
	fuzz_file_fd = memfd_create(name, MFD_CLOEXEC);
	if (fuzz_file_fd >= 0) {
		snprintf(fuzz_file_path, sizeof(fuzz_file_path), "/proc/self/fd/%d",
			 fuzz_file_fd);
		int probe = open(fuzz_file_path, O_RDONLY | O_CLOEXEC);

		if (probe >= 0) {
			close(probe);
			return;
		}
		close(fuzz_file_fd);
		fuzz_file_fd = -1;
	}
	const char *tmp = getenv("TMPDIR");

	snprintf(fuzz_file_path, sizeof(fuzz_file_path), "%s/%s.XXXXXX",
		 tmp && *tmp ? tmp : "/tmp", name);
	fuzz_file_fd = mkstemp(fuzz_file_path);
	if (fuzz_file_fd < 0) {
		perror("fuzz: mkstemp");
		exit(1);
	}
	atexit(fuzz_file_cleanup);
}

/* Replace the file's contents with the input. */
static void fuzz_file_put(const uint8_t *data, size_t size)
{
	size_t done = 0;

	if (ftruncate(fuzz_file_fd, 0) != 0)
		abort();
	while (done < size) {
		ssize_t n = pwrite(fuzz_file_fd, data + done, size - done, (off_t)done);

		if (n <= 0)
			abort();
		done += (size_t)n;
	}
}

#endif

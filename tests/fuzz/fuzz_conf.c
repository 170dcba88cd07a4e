/* libFuzzer target: the backend's configuration loader
 * (src/backend/conf.c, inih underneath). Both entry points are driven:
 * xa_config_load_string() on the input (NUL-terminated copy), and, for an
 * input without NUL bytes, xa_config_load() on the same bytes as a file
 * (a memfd through /proc/self/fd/N, else a temporary file). The two read
 * the text through different branches of the same line reader, so they
 * must agree: same result, same configuration, same error message once
 * the file name that starts it is set aside.
 *
 * Checked with __builtin_trap() (besides ASan/UBSan):
 *   - failure: one line "NAME:LINE: ..." or "NAME: ...", and the
 *     configuration left empty;
 *   - success: at least one link (or none when another source of links is
 *     configured), names NUL-terminated, buf-size / buf-count in range,
 *     ends distinct, and xa_config_region_pages() within max-pages. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "backend/conf.h"

#include "fuzz_file.h"

#define CHECK(c) do { if (!(c)) __builtin_trap(); } while (0)

#define NAME "fuzz.conf"

int LLVMFuzzerInitialize(int *argc, char ***argv);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_file_open("xenamp-fuzz-conf");
	return 0;
}

static void check_cfg(int rc, const struct xa_config *cfg, const char *err,
		      const char *name)
{
	size_t nl = strlen(name);

	if (rc != 0) {
		CHECK(rc == -1);
		CHECK(strncmp(err, name, nl) == 0 && err[nl] == ':');
		CHECK(strchr(err, '\n') == NULL);
		CHECK(cfg->links == NULL && cfg->nlinks == 0);
		return;
	}
	CHECK(memchr(cfg->socket_path, '\0', sizeof(cfg->socket_path)) != NULL);
	for (size_t i = 0; i < cfg->nlinks; i++) {
		const struct xa_cfg_link *l = &cfg->links[i];

		CHECK(memchr(l->name, '\0', sizeof(l->name)) != NULL && l->name[0]);
		CHECK(l->buf_size >= XA_CFG_MIN_BUF_SIZE &&
		      l->buf_size <= XA_CFG_MAX_BUF_SIZE);
		CHECK(l->buf_count >= 1 && l->buf_count <= XA_CFG_MAX_BUF_COUNT &&
		      (l->buf_count & (l->buf_count - 1)) == 0);
		uint64_t pages = xa_config_region_pages(l->buf_size, l->buf_count);

		CHECK(pages != 0 && pages <= cfg->max_pages);
		for (int j = 0; j < 2; j++) {
			const struct xa_cfg_end *e = &l->end[j];

			CHECK(memchr(e->partition, '\0', sizeof(e->partition)) != NULL);
			CHECK(e->partition[0] != '\0' && e->devno <= XA_CFG_MAX_DEVNO);
			CHECK(e->line != 0);
		}
		CHECK(strcmp(l->end[0].partition, l->end[1].partition) != 0 ||
		      l->end[0].devno != l->end[1].devno);
		for (size_t k = 0; k < i; k++)
			CHECK(strcmp(cfg->links[k].name, l->name) != 0);
	}
}

static int same_cfg(const struct xa_config *a, const struct xa_config *b)
{
	if (strcmp(a->socket_path, b->socket_path) != 0 ||
	    a->max_pages != b->max_pages || a->max_services != b->max_services ||
	    a->log_level != b->log_level || a->nlinks != b->nlinks)
		return 0;
	for (size_t i = 0; i < a->nlinks; i++) {
		const struct xa_cfg_link *x = &a->links[i], *y = &b->links[i];

		if (strcmp(x->name, y->name) != 0 || x->line != y->line ||
		    x->buf_size != y->buf_size || x->buf_count != y->buf_count)
			return 0;
		for (int j = 0; j < 2; j++)
			if (strcmp(x->end[j].partition, y->end[j].partition) != 0 ||
			    x->end[j].devno != y->end[j].devno ||
			    x->end[j].line != y->end[j].line)
				return 0;
	}
	return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct xa_config c1, c2;
	char e1[512], e2[512];
	char *text;
	int r1, r2;

	text = malloc(size + 1);
	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	e1[0] = '\0';
	r1 = xa_config_load_string(text, NAME, &c1, e1, sizeof(e1));
	free(text);
	check_cfg(r1, &c1, e1, NAME);

	if (memchr(data, '\0', size) == NULL) {
		fuzz_file_put(data, size);
		e2[0] = '\0';
		r2 = xa_config_load(fuzz_file_path, &c2, e2, sizeof(e2));
		check_cfg(r2, &c2, e2, fuzz_file_path);
		CHECK(r1 == r2);
		if (r1 == 0)
			CHECK(same_cfg(&c1, &c2));
		else
			CHECK(strcmp(e1 + strlen(NAME), e2 + strlen(fuzz_file_path)) == 0);
		xa_config_free(&c2);
	}
	xa_config_free(&c1);
	return 0;
}

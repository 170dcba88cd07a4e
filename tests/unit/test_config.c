/* Unit tests: xenamp-backend's configuration loader (src/backend/conf.c).
 * A good file gives the values written and the defaults for the rest;
 * every bad file gives exactly one line "FILE:LINE: message" naming the
 * right line and saying what to do. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend/conf.h"
#include "backend/log.h"

static struct xa_config cfg;
static char err[512];

static int load(const char *text)
{
	memset(err, 0, sizeof(err));
	return xa_config_load_string(text, "t.conf", &cfg, err, sizeof(err));
}

static void teardown(void)
{
	xa_config_free(&cfg);
}

/* ------------------------------------------------------------------ */
/* Good files                                                          */

START_TEST(good_full)
{
	const char *text =
		"; comment\n"
		"# another\n"
		"[backend]\n"
		"socket = /run/xenamp/b.sock\n"
		"max-pages = 512 ; inline comment\n"
		"max-services = 8\n"
		"log-level = debug\n"
		"\n"
		"[link echo]\n"
		"end-a = host\n"
		"end-b = fw:3\n"
		"buf-size = 1024\n"
		"buf-count = 64\n"
		"[link dsp.1]\n"
		"end-a = host:1\n"
		"end-b = dsp\n";

	ck_assert_int_eq(load(text), 0);
	ck_assert_str_eq(cfg.socket_path, "/run/xenamp/b.sock");
	ck_assert_uint_eq(cfg.max_pages, 512);
	ck_assert_uint_eq(cfg.max_services, 8);
	ck_assert_int_eq(cfg.log_level, XA_LOG_DEBUG);
	ck_assert_uint_eq(cfg.nlinks, 2);
	ck_assert_str_eq(cfg.links[0].name, "echo");
	ck_assert_uint_eq(cfg.links[0].line, 9);
	ck_assert_str_eq(cfg.links[0].end[0].partition, "host");
	ck_assert_uint_eq(cfg.links[0].end[0].devno, 0);
	ck_assert_str_eq(cfg.links[0].end[1].partition, "fw");
	ck_assert_uint_eq(cfg.links[0].end[1].devno, 3);
	ck_assert_uint_eq(cfg.links[0].end[1].line, 11);
	ck_assert_uint_eq(cfg.links[0].buf_size, 1024);
	ck_assert_uint_eq(cfg.links[0].buf_count, 64);
	ck_assert_str_eq(cfg.links[1].name, "dsp.1");
	ck_assert_uint_eq(cfg.links[1].end[0].devno, 1);
	ck_assert_str_eq(cfg.links[1].end[1].partition, "dsp");
}
END_TEST

START_TEST(good_defaults)
{
	ck_assert_int_eq(load("[link l]\nend-a = a\nend-b = b\n"), 0);
	ck_assert_str_eq(cfg.socket_path, "");
	ck_assert_uint_eq(cfg.max_pages, XA_CFG_DEFAULT_MAX_PAGES);
	ck_assert_uint_eq(cfg.max_services, 64);
	ck_assert_int_eq(cfg.log_level, -1);
	ck_assert_uint_eq(cfg.links[0].buf_size, 512);
	ck_assert_uint_eq(cfg.links[0].buf_count, 256);
}
END_TEST

/* [backend] dynamic-links and libvirt-uri; with libvirt-uri the links
 * may all come from domain metadata, so no [link] is needed. */
START_TEST(good_libvirt)
{
	ck_assert_int_eq(load("[link l]\nend-a = a\nend-b = b\n"), 0);
	ck_assert_uint_eq(cfg.dynamic_links, XA_CFG_DEFAULT_DYNAMIC_LINKS);
	ck_assert_str_eq(cfg.libvirt_uri, "");
	xa_config_free(&cfg);
	ck_assert_msg(load("[backend]\nlibvirt-uri = xen:///system\ndynamic-links = 0\n") == 0,
		      "%s", err);
	ck_assert_str_eq(cfg.libvirt_uri, "xen:///system");
	ck_assert_uint_eq(cfg.dynamic_links, 0);
	ck_assert_uint_eq(cfg.nlinks, 0);
}
END_TEST

START_TEST(good_edges)
{
	/* BOM, CRLF, no final newline, the extreme values. */
	const char *text =
		"\xEF\xBB\xBF[backend]\r\n"
		"max-pages = 1048576\r\n"
		"[link x]\r\n"
		"end-a = p:65535\r\n"
		"end-b = p:0\r\n"
		"buf-size = 65536\r\n"
		"buf-count = 4096";

	ck_assert_msg(load(text) == 0, "%s", err);
	ck_assert_uint_eq(cfg.links[0].end[0].devno, 65535);
	ck_assert_uint_eq(cfg.links[0].buf_size, 65536);
	ck_assert_uint_eq(cfg.links[0].buf_count, 4096);

	xa_config_free(&cfg);
	ck_assert_msg(load("[link x]\nend-a=a\nend-b=b\nbuf-size=56\nbuf-count=32768\n") == 0,
		      "%s", err);
	ck_assert_uint_eq(cfg.links[0].buf_count, 32768);
	xa_config_free(&cfg);
	ck_assert_msg(load("[link x]\nend-a=a\nend-b=b\nbuf-size=56\nbuf-count=1\n") == 0,
		      "%s", err);
}
END_TEST

/* The example shipped in xen-configs/ must load. */
START_TEST(good_example_file)
{
	const char *srcdir = getenv("top_srcdir");
	char path[1024];

	snprintf(path, sizeof(path), "%s/xen-configs/xenamp.conf",
		 srcdir ? srcdir : ".");
	ck_assert_msg(xa_config_load(path, &cfg, err, sizeof(err)) == 0, "%s", err);
	ck_assert_uint_eq(cfg.nlinks, 1);
	ck_assert_str_eq(cfg.links[0].end[0].partition, "host");
	ck_assert_str_eq(cfg.links[0].end[1].partition, "fw");
}
END_TEST

/* The Xen region-map rate (docs/security.md): set, and unset (0: the
 * transport's default). */
START_TEST(good_xen_limits)
{
	ck_assert_int_eq(load("[backend]\nxen-region-maps = 3\nxen-map-window-ms = 60000\n"
			      "[link l]\nend-a = a\nend-b = fw\n"), 0);
	ck_assert_uint_eq(cfg.limits.v[XA_LIM_XEN_MAPS], 3);
	ck_assert_uint_eq(cfg.limits.v[XA_LIM_XEN_WINDOW_MS], 60000);
	ck_assert_uint_eq(cfg.limits.line[XA_LIM_XEN_WINDOW_MS], 3);
	xa_config_free(&cfg);
	ck_assert_int_eq(load("[link l]\nend-a = a\nend-b = fw\n"), 0);
	ck_assert_uint_eq(cfg.limits.v[XA_LIM_XEN_MAPS], 0);
	ck_assert_uint_eq(cfg.limits.v[XA_LIM_XEN_WINDOW_MS], 0);
}
END_TEST

/* [partition NAME] with users and groups by number and by name (root and
 * its group 0 exist everywhere), admin-group, region-timeout-ms. */
START_TEST(good_partitions)
{
	const char *text =
		"[backend]\n"
		"admin-group = 0\n"
		"region-timeout-ms = 2500\n"
		"[link l]\nend-a = a\nend-b = fw\n"
		"[partition fw]\n"
		"uid = 1000, root 65534\n"
		"gid = root\n"
		"[partition other]\n"
		"gid = 4242\n";

	ck_assert_int_eq(load(text), 0);
	ck_assert(cfg.has_admin_gid);
	ck_assert_uint_eq(cfg.admin_gid, 0);
	ck_assert_uint_eq(cfg.limits.v[XA_LIM_REGION_MS], 2500);
	ck_assert_uint_eq(cfg.limits.line[XA_LIM_REGION_MS], 3);
	ck_assert_uint_eq(cfg.npartitions, 2);
	ck_assert_str_eq(cfg.partitions[0].name, "fw");
	ck_assert_uint_eq(cfg.partitions[0].line, 7);
	ck_assert_uint_eq(cfg.partitions[0].nuid, 3);
	ck_assert_uint_eq(cfg.partitions[0].uid[0], 1000);
	ck_assert_uint_eq(cfg.partitions[0].uid[1], 0);
	ck_assert_uint_eq(cfg.partitions[0].uid[2], 65534);
	ck_assert_uint_eq(cfg.partitions[0].ngid, 1);
	ck_assert_uint_eq(cfg.partitions[0].gid[0], 0);
	ck_assert_str_eq(cfg.partitions[1].name, "other");
	ck_assert_uint_eq(cfg.partitions[1].nuid, 0);
	ck_assert_uint_eq(cfg.partitions[1].ngid, 1);
	ck_assert_uint_eq(cfg.partitions[1].gid[0], 4242);

	/* unset: no admin group, no partitions, the transport's default */
	xa_config_free(&cfg);
	ck_assert_int_eq(load("[link l]\nend-a = a\nend-b = b\n"), 0);
	ck_assert(!cfg.has_admin_gid);
	ck_assert_uint_eq(cfg.npartitions, 0);
	ck_assert_ptr_null(cfg.partitions);
	ck_assert_uint_eq(cfg.limits.v[XA_LIM_REGION_MS], 0);
}
END_TEST

START_TEST(region_pages)
{
	/* 512 x 256: 1 + 2 * 3 (rings) + 2 * 32 (buffers) */
	ck_assert_uint_eq(xa_config_region_pages(512, 256), 71);
	/* stride rounds 500 up to 512 */
	ck_assert_uint_eq(xa_config_region_pages(500, 256), 71);
	ck_assert_uint_eq(xa_config_region_pages(512, 3), 0);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Bad files: (text, line, substring)                                  */

struct bad {
	const char *text;
	unsigned line;          /* 0: no line number */
	const char *needle;
};

#define L "[link l]\nend-a = a\nend-b = b\n"

static const struct bad bad_cases[] = {
	{ "[frobnicate]\n", 1, "unknown section [frobnicate]; expected [backend], [link NAME] or [partition NAME]" },
	/* [partition NAME], admin-group, region-timeout-ms */
	{ L "[partition fw]\n", 4, "[partition fw] names no uid and no gid; add uid = USER or gid = GROUP" },
	{ L "[partition]\nuid = 0\n", 4, "[partition ]: " },
	{ L "[partition f:w]\nuid = 0\n", 4, "[partition f:w]: " },
	{ L "[partition fw]\nuid = 1\n[partition fw]\ngid = 2\n", 6, "[partition fw] appears twice (first on line 4)" },
	{ L "[partition fw]\nuid = 1\nuid = 2\n", 6, "uid is set twice in [partition fw] (first on line 5)" },
	{ L "[partition fw]\nuser = 1\n", 5, "unknown key 'user' in [partition fw]; expected uid or gid" },
	{ L "[partition fw]\nuid = no-such-user-xa13\n", 5, "uid = 'no-such-user-xa13': no such user on this system" },
	{ L "[partition fw]\ngid = no-such-group-xa13\n", 5, "gid = 'no-such-group-xa13': no such group" },
	{ L "[partition fw]\nuid = 4294967295\n", 5, "uid = '4294967295': expected a user name or a number below 4294967295" },
	{ L "[partition fw]\nuid = 12x\n", 5, "uid = '12x'" },
	{ L "[partition fw]\nuid = ,\n", 5, "uid is empty in [partition fw]" },
	{ L "[partition fw]\nuid = 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17\n", 5, "more than 16 ids in [partition fw]" },
	{ "[backend]\nadmin-group = no-such-group-xa13\n" L, 2, "admin-group = 'no-such-group-xa13': no such group" },
	{ "[backend]\nadmin-group = 1\nadmin-group = 2\n" L, 3, "admin-group is set twice in [backend] (first on line 2)" },
	{ "[backend]\nregion-timeout-ms = 99\n" L, 2, "region-timeout-ms = '99': expected a number of milliseconds from 100 to 600000" },
	{ "[backend]\nregion-timeout-ms = 600001\n" L, 2, "region-timeout-ms = '600001'" },
	{ "[backend]\nxen-region-maps = 0\n" L, 2, "xen-region-maps = '0': expected a number of region maps from 1 to 1000" },
	{ "[backend]\nxen-map-window-ms = 3600001\n" L, 2, "xen-map-window-ms = '3600001': expected a number of milliseconds from 100 to 3600000" },
	{ "[backend]\n[link]\nend-a=a\n", 2, "section [link] needs a name" },
	{ "[link a b]\nend-a=a\nend-b=b\n", 1, "link name 'a b' is not valid" },
	{ L "[link l]\nend-a=c\nend-b=d\n", 4, "link 'l' is defined twice (first on line 1)" },
	{ "[backend]\nsokcet = /x\n" L, 2, "unknown key 'sokcet' in [backend]; expected socket" },
	{ L "bufsize = 5\n", 4, "unknown key 'bufsize' in [link l]" },
	{ "max-pages = 5\n" L, 1, "'max-pages' is outside any section" },
	{ L "buf-size = 512\nbuf-size = 256\n", 5, "buf-size is set twice in [link l] (first on line 4)" },
	{ "[backend]\nmax-pages = lots\n" L, 2, "max-pages = 'lots': expected a number of 4 KiB pages from 2 to" },
	{ "[backend]\nmax-pages = 1\n" L, 2, "max-pages = '1'" },
	{ "[backend]\nmax-pages = 99999999999\n" L, 2, "max-pages = '99999999999'" },
	{ "[backend]\nmax-pages = -3\n" L, 2, "max-pages = '-3'" },
	{ "[backend]\nmax-services = 0\n" L, 2, "max-services = '0': expected a number from 1 to 4096" },
	{ "[backend]\nlog-level = loud\n" L, 2, "log-level = 'loud': expected error, warning, info, debug or trace" },
	{ "[backend]\ndynamic-links = 2000\n" L, 2, "dynamic-links = '2000': expected a number from 0 to 1024" },
	{ "[backend]\nlibvirt-uri =\n" L, 2, "libvirt-uri = '': give a libvirt URI" },
	{ "[backend]\nsocket = /aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n" L,
	  2, "socket = '/aaaa" },
	{ "[backend]\nsocket =\n" L, 2, "give a path of 1 to 107 characters" },
	{ L "buf-size = 55\n", 4, "buf-size = '55': expected a number of bytes from 56 to 65536" },
	{ L "buf-size = 65537\n", 4, "buf-size = '65537'" },
	{ L "buf-size = 0x200\n", 4, "buf-size = '0x200'" },
	{ L "buf-count = 3\n", 4, "buf-count = '3': expected a power of two from 1 to 32768" },
	{ L "buf-count = 0\n", 4, "buf-count = '0'" },
	{ L "buf-count = 65536\n", 4, "buf-count = '65536'" },
	{ "[link l]\nend-a =\nend-b = b\n", 2, "end-a = '': expected PARTITION[:DEVNO]" },
	{ "[link l]\nend-a = :1\nend-b = b\n", 2, "end-a = ':1'" },
	{ "[link l]\nend-a = a\nend-b = fw:x\n", 3, "end-b = 'fw:x': DEVNO after ':' must be a number from 0 to 65535" },
	{ "[link l]\nend-a = a\nend-b = fw:70000\n", 3, "end-b = 'fw:70000'" },
	{ "[link l]\nend-a = a\nend-b = fw:\n", 3, "end-b = 'fw:'" },
	{ "[link l]\nend-a = a\nend-b = aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n", 3,
	  "partition name of 1 to 63 characters" },
	{ "[link l]\nend-a = a\nend-b = f\x01w\n", 3, "only printable characters" },
	{ "\n\n[link l]\nend-a = a\n", 3, "[link l] has no end-b; add end-b = PARTITION[:DEVNO]" },
	{ "[link l]\n", 1, "[link l] has no end-a" },
	{ L "[link m]\nend-a = c\nend-b = b:0\n", 6, "b:0 is already end-b of link l (line 3); a device belongs to one link" },
	{ "[link l]\nend-a = a:1\nend-b = a:1\n", 3, "a:1 is already end-a of link l (line 2)" },
	{ "[backend]\nmax-pages = 16\n" L "buf-count = 1024\n", 6,
	  "[link l] needs up to 273 pages per end (buf-size 512 x buf-count 1024" },
	{ "[backend]\nmax-pages = 16\n" L, 3, "[link l] needs up to 71 pages per end" },
	{ "[backend]\nmax-pages = 16\n", 0, "no [link NAME] section" },
	{ "", 0, "no [link NAME] section" },
	{ L "this is not ini\n", 4, "syntax error: expected [section], key = value, or a comment" },
	{ L "[link m\n", 4, "section header without ']'" },
	{ L "[link m] junk\n", 4, "text after the section header: 'junk'" },
	{ L "end-a = aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\nx=1\n",
	  4, "line is longer than" },
	/* the first error wins, even when a later one is a syntax error */
	{ "[backend]\nmax-pages = x\ngarbage\n" L, 2, "max-pages = 'x'" },
	{ "[backend]\ngarbage\nmax-pages = x\n" L, 2, "syntax error" },
};

START_TEST(bad_file)
{
	const struct bad *b = &bad_cases[_i];
	char prefix[64];

	ck_assert_msg(load(b->text) == -1, "case %d loaded", _i);
	if (b->line)
		snprintf(prefix, sizeof(prefix), "t.conf:%u: ", b->line);
	else
		snprintf(prefix, sizeof(prefix), "t.conf: ");
	ck_assert_msg(strncmp(err, prefix, strlen(prefix)) == 0,
		      "case %d: expected prefix '%s', got '%s'", _i, prefix, err);
	ck_assert_msg(strstr(err, b->needle) != NULL,
		      "case %d: expected '%s' in '%s'", _i, b->needle, err);
	ck_assert_msg(strchr(err, '\n') == NULL, "case %d: message is not one line", _i);
	/* Nothing leaks out of a failed load. */
	ck_assert_ptr_null(cfg.links);
	ck_assert_uint_eq(cfg.nlinks, 0);
	ck_assert_ptr_null(cfg.partitions);
	ck_assert_uint_eq(cfg.npartitions, 0);
}
END_TEST

START_TEST(bad_missing_file)
{
	ck_assert_int_eq(xa_config_load("/nonexistent/xenamp.conf", &cfg, err,
					sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "cannot read the configuration /nonexistent/xenamp.conf"));
	ck_assert_ptr_nonnull(strstr(err, "--config"));
}
END_TEST

/* The file path is in the message as given, with the line. */
START_TEST(bad_real_file)
{
	char path[] = "/tmp/xenamp-test-config-XXXXXX";
	int fd = mkstemp(path);
	FILE *f;

	ck_assert_int_ge(fd, 0);
	f = fdopen(fd, "w");
	fputs("[link l]\nend-a = a\nend-b = b\nbuf-count = 100\n", f);
	fclose(f);
	ck_assert_int_eq(xa_config_load(path, &cfg, err, sizeof(err)), -1);
	unlink(path);

	char want[128];

	snprintf(want, sizeof(want), "%s:4: buf-count = '100'", path);
	ck_assert_msg(strncmp(err, want, strlen(want)) == 0, "got '%s'", err);
}
END_TEST

/* Found by tests/fuzz (fuzz_conf): a last line without a newline that
 * exactly fills the line buffer loaded from a string, but from a file was
 * refused as "line is longer than ..." (fgets had not hit EOF yet). */
START_TEST(file_last_line_fills_buffer)
{
	char path[] = "/tmp/xenamp-test-config-XXXXXX";
	char line[1024], text[2048];
	const char *p;
	int max, fd, rc;
	FILE *f;

	/* The reader's limit, from its own message (buffer = max + 3). */
	memset(line, 'x', 1000);
	line[1000] = '\0';
	snprintf(text, sizeof(text), "[link l]\nend-a = a\nend-b = b\n;%s\n", line);
	ck_assert_int_eq(load(text), -1);
	p = strstr(err, "longer than ");
	ck_assert_ptr_nonnull(p);
	max = atoi(p + strlen("longer than "));
	ck_assert_int_gt(max, 0);
	ck_assert_int_lt(max, 900);

	/* ';' and max + 1 'x': the whole buffer but its NUL, no newline. */
	memset(line, 'x', (size_t)max + 1);
	line[max + 1] = '\0';
	snprintf(text, sizeof(text), "[link l]\nend-a = a\nend-b = b\n;%s", line);
	ck_assert_msg(load(text) == 0, "string: %s", err);
	xa_config_free(&cfg);

	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	f = fdopen(fd, "w");
	fputs(text, f);
	fclose(f);
	rc = xa_config_load(path, &cfg, err, sizeof(err));
	unlink(path);
	ck_assert_msg(rc == 0, "file: %s", err);
	ck_assert_uint_eq(cfg.nlinks, 1);
}
END_TEST

START_TEST(log_levels)
{
	ck_assert_int_eq(xa_log_level_parse("error"), XA_LOG_ERROR);
	ck_assert_int_eq(xa_log_level_parse("warn"), XA_LOG_WARNING);
	ck_assert_int_eq(xa_log_level_parse("trace"), XA_LOG_TRACE);
	ck_assert_int_eq(xa_log_level_parse("INFO"), -1);
	ck_assert_str_eq(xa_log_level_name(XA_LOG_DEBUG), "debug");
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("config");
	TCase *tc = tcase_create("good");

	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, good_full);
	tcase_add_test(tc, good_defaults);
	tcase_add_test(tc, good_libvirt);
	tcase_add_test(tc, good_edges);
	tcase_add_test(tc, good_example_file);
	tcase_add_test(tc, region_pages);
	tcase_add_test(tc, good_partitions);
	tcase_add_test(tc, good_xen_limits);
	tcase_add_test(tc, log_levels);
	suite_add_tcase(s, tc);

	tc = tcase_create("bad");
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_loop_test(tc, bad_file, 0,
			    (int)(sizeof(bad_cases) / sizeof(bad_cases[0])));
	tcase_add_test(tc, bad_missing_file);
	tcase_add_test(tc, bad_real_file);
	tcase_add_test(tc, file_last_line_fills_buffer);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

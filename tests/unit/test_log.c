/* xenamp-backend logging: strings a partition supplies (partition and
 * service names, fault details) reach stderr/syslog with every
 * non-printable byte escaped, so no guest can forge a log line or send
 * terminal escapes to whoever reads the log. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend/log.h"

START_TEST(sanitize_plain_unchanged)
{
	char out[64];

	ck_assert_uint_eq(xa_log_sanitize(out, sizeof(out), "link echo: end fw:0"), 19);
	ck_assert_str_eq(out, "link echo: end fw:0");
}
END_TEST

START_TEST(sanitize_escapes_controls_and_high_bytes)
{
	char out[128];

	xa_log_sanitize(out, sizeof(out), "svc\nxenamp-backend: forged\x1b[2J\x7f\xc3\xa9");
	ck_assert_str_eq(out,
			 "svc\\x0axenamp-backend: forged\\x1b[2J\\x7f\\xc3\\xa9");
	ck_assert_ptr_null(strchr(out, '\n'));
}
END_TEST

START_TEST(sanitize_truncates_whole_escapes)
{
	char out[8];

	/* "ab" + "\x01" (4) = 6 chars; the next escape would not fit. */
	ck_assert_uint_eq(xa_log_sanitize(out, sizeof(out), "ab\x01\x02"), 6);
	ck_assert_str_eq(out, "ab\\x01");
	ck_assert_uint_eq(xa_log_sanitize(out, 1, "abc"), 0);
	ck_assert_str_eq(out, "");
}
END_TEST

/* xa_log() itself: the line on stderr is one line, escaped. */
START_TEST(log_line_is_escaped)
{
	char path[] = "/tmp/xenamp-test-log.XXXXXX";
	char buf[512];
	int fd = mkstemp(path), saved = dup(2);
	FILE *f;

	ck_assert_int_ge(fd, 0);
	ck_assert_int_ge(saved, 0);
	fflush(stderr);
	dup2(fd, 2);
	xa_log_set_level(XA_LOG_DEBUG);
	xa_log(XA_LOG_DEBUG, "link %s: %s announced service '%s' at %u", "echo",
	       "fw:0", "evil\r\nxenamp-backend: link echo: end host:0 connected", 1024u);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	f = fdopen(fd, "r");
	ck_assert_ptr_nonnull(f);
	rewind(f);
	ck_assert_ptr_nonnull(fgets(buf, sizeof(buf), f));
	ck_assert_str_eq(buf,
			 "xenamp-backend: link echo: fw:0 announced service 'evil\\x0d\\x0axenamp-backend: link echo: end host:0 connected' at 1024\n");
	ck_assert_ptr_null(fgets(buf, sizeof(buf), f));
	fclose(f);
	unlink(path);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("log");
	TCase *tc = tcase_create("sanitize");

	tcase_add_test(tc, sanitize_plain_unchanged);
	tcase_add_test(tc, sanitize_escapes_controls_and_high_bytes);
	tcase_add_test(tc, sanitize_truncates_whole_escapes);
	tcase_add_test(tc, log_line_is_escaped);
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

/* Unit tests: the partition-name rule (src/common/partition_name.h), the
 * one check xenamp.conf, the local socket's HELLO and link-add share. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/partition_name.h"

static int check_str(const char *s, char *why, size_t whylen)
{
	return xa_partition_name_check(s, strlen(s), why, whylen);
}

static const char *const good[] = {
	"fw", "host", "a", "fw@1", "dom-1.a_b", "Fw+2", "x~y", "#1",
	/* 63 characters: the longest */
	"abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijk",
};

START_TEST(accepted)
{
	char why[160] = "";

	ck_assert_msg(check_str(good[_i], why, sizeof(why)) == 0, "%s: %s",
		      good[_i], why);
}
END_TEST

static const struct { const char *name, *why; } bad[] = {
	{ "", "empty" },
	{ "f w", "non-printable or blank character at 1" },
	{ "f\tw", "non-printable or blank character at 1" },
	{ "fw\x7f", "non-printable or blank character at 2" },
	{ "f\xc3\xa9", "non-printable or blank character at 1" },
	{ "fw:1", "':' at 2" },
	{ ":", "':' at 0" },
	/* 64 characters: one too many */
	{ "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijkl",
	  "a partition name of 1 to 63 characters" },
};

START_TEST(refused)
{
	char why[200] = "";

	ck_assert_int_eq(check_str(bad[_i].name, why, sizeof(why)), -EINVAL);
	ck_assert_msg(strstr(why, bad[_i].why) != NULL, "'%s': %s", bad[_i].name, why);
	ck_assert_ptr_null(strchr(why, '\n'));
}
END_TEST

START_TEST(length_not_string)
{
	/* Only n bytes count: the rest of the buffer is not looked at. */
	ck_assert_int_eq(xa_partition_name_check("fw:1", 2, NULL, 0), 0);
	ck_assert_int_eq(xa_partition_name_check("fw", 0, NULL, 0), -EINVAL);
}
END_TEST

START_TEST(wire_field)
{
	char f[XA_PARTITION_NAME_MAX], why[160];

	memset(f, 0, sizeof(f));
	memcpy(f, "fw@1", 4);
	ck_assert_int_eq(xa_partition_name_check_field(f, sizeof(f), why, sizeof(why)), 0);
	/* bytes after the NUL are not the name's */
	f[10] = '\x01';
	ck_assert_int_eq(xa_partition_name_check_field(f, sizeof(f), why, sizeof(why)), 0);
	memset(f, 'a', sizeof(f));
	ck_assert_int_eq(xa_partition_name_check_field(f, sizeof(f), why, sizeof(why)),
			 -EINVAL);
	ck_assert_msg(strstr(why, "not NUL-terminated within 64 bytes") != NULL, "%s", why);
	f[XA_PARTITION_NAME_MAX - 1] = '\0';   /* 63 characters */
	ck_assert_int_eq(xa_partition_name_check_field(f, sizeof(f), why, sizeof(why)), 0);
	memset(f, 0, sizeof(f));
	ck_assert_int_eq(xa_partition_name_check_field(f, sizeof(f), why, sizeof(why)),
			 -EINVAL);
	ck_assert_msg(strstr(why, "empty") != NULL, "%s", why);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("partition_name");
	TCase *tc = tcase_create("rule");
	SRunner *sr;
	int nf;

	tcase_add_loop_test(tc, accepted, 0, (int)(sizeof(good) / sizeof(good[0])));
	tcase_add_loop_test(tc, refused, 0, (int)(sizeof(bad) / sizeof(bad[0])));
	tcase_add_test(tc, length_not_string);
	tcase_add_test(tc, wire_field);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

/* xenamp-rpc-proxy's request handling (src/tools/rpc-proxy/serve.c,
 * files.c) fed hostile requests directly: lengths against the message,
 * paths NUL-terminated, bounded and confined to the root, only regular
 * files, open flags outside the list, per-client fd tables and their
 * bounds, unknown ids, TERM. Each refusal must be answered (negative
 * errno) and, where it is one, logged in one line. */
#define _GNU_SOURCE
#include <config.h>

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openamp/rpmsg_retarget.h>

#include "tools/rpc-proxy/rpc_proxy.h"

#define HDR sizeof(struct rpmsg_rpc_syscall)
#define ROOM 496

static char root[] = "/tmp/xa-rpc-proxy.XXXXXX";
static struct rp_state st;
static unsigned char ans[ROOM];

static void setup(void)
{
	ck_assert_ptr_nonnull(mkdtemp(root));
	ck_assert_int_eq(rp_init(&st, root), 0);
	st.log = tmpfile();
	st.quiet = true;
}

static void teardown(void)
{
	char cmd[128];

	rp_fini(&st);
	fclose(st.log);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	ck_assert_int_eq(system(cmd), 0);
	strcpy(root, "/tmp/xa-rpc-proxy.XXXXXX");
}

static int log_lines(void)
{
	int n = 0, c;

	fflush(st.log);
	rewind(st.log);
	while ((c = fgetc(st.log)) != EOF)
		n += c == '\n';
	return n;
}

/* Send id/f1/f2/data_len + n bytes of data from src; the answer's
 * int_field1 (or 9999 when there is no answer). */
static int32_t call(uint32_t src, uint32_t id, int32_t f1, int32_t f2,
		    uint32_t dlen, const void *data, size_t n)
{
	unsigned char msg[2048];
	struct rpmsg_rpc_syscall h = { id, { f1, f2, dlen } }, a;
	size_t len;

	memcpy(msg, &h, HDR);
	memcpy(msg + HDR, data, n);
	len = rp_handle(&st, src, msg, HDR + n, ans, sizeof(ans));
	if (len == 0)
		return 9999;
	ck_assert_uint_ge(len, HDR);
	ck_assert_uint_le(len, sizeof(ans));
	memcpy(&a, ans, HDR);
	ck_assert_uint_eq(a.id, id);
	return a.args.int_field1;
}

static int32_t open_path(uint32_t src, const char *p, int32_t flags)
{
	return call(src, OPEN_SYSCALL_ID, flags, 0600, (uint32_t)strlen(p) + 1, p,
		    strlen(p) + 1);
}

START_TEST(short_and_inconsistent_messages)
{
	unsigned char m[8] = { 1 };

	ck_assert_uint_eq(rp_handle(&st, 1024, m, sizeof(m), ans, sizeof(ans)), 0);
	ck_assert_int_eq(log_lines(), 1);
	/* data_len claims more than the message carries. */
	ck_assert_int_eq(call(1024, OPEN_SYSCALL_ID, 0, 0, 100, "a", 2), -EINVAL);
	/* The path has no NUL within data_len. */
	ck_assert_int_eq(call(1024, OPEN_SYSCALL_ID, 0, 0, 3, "abcd", 4), -EINVAL);
	/* A write count beyond data_len, or negative. */
	ck_assert_int_eq(call(1024, WRITE_SYSCALL_ID, 1, 10, 4, "abcd", 4), -EINVAL);
	ck_assert_int_eq(call(1024, WRITE_SYSCALL_ID, 1, -1, 4, "abcd", 4), -EINVAL);
	ck_assert_int_eq(call(1024, READ_SYSCALL_ID, 0, -5, 0, "", 0), -EINVAL);
	ck_assert_int_eq(call(1024, 77, 0, 0, 0, "", 0), -ENOSYS);
	ck_assert_int_eq(log_lines(), 7);
}
END_TEST

START_TEST(paths_stay_beneath_the_root)
{
	char longp[1100];
	char link[300];

	ck_assert_int_eq(open_path(1024, "../x", 0101), -EACCES);
	ck_assert_int_eq(open_path(1024, "a/../../x", 0101), -EACCES);
	ck_assert_int_eq(open_path(1024, "/etc/passwd", 0), -EACCES);
	ck_assert_int_eq(open_path(1024, "", 0), -ENOENT);
	snprintf(link, sizeof(link), "%s/up", root);
	ck_assert_int_eq(symlink("/etc", link), 0);
	ck_assert_int_eq(open_path(1024, "up/passwd", 0), -EACCES);
	memset(longp, 'a', sizeof(longp) - 1);
	longp[sizeof(longp) - 1] = '\0';
	ck_assert_int_eq(open_path(1024, longp, 0101), -ENAMETOOLONG);
	ck_assert_int_eq(log_lines(), 6);
	/* "..." and "..x" are names, not "..". */
	ck_assert_int_ge(open_path(1024, "...", 0101), RP_FIRST_FD);
	ck_assert_int_ge(open_path(1024, "..x", 0101), RP_FIRST_FD);
}
END_TEST

START_TEST(only_regular_files_and_listed_flags)
{
	char p[300];

	snprintf(p, sizeof(p), "%s/fifo", root);
	ck_assert_int_eq(mkfifo(p, 0600), 0);
	/* Would block a plain open(O_RDONLY) for ever. */
	ck_assert_int_eq(open_path(1024, "fifo", 0), -EACCES);
	snprintf(p, sizeof(p), "%s/dir", root);
	ck_assert_int_eq(mkdir(p, 0700), 0);
	ck_assert_int_eq(open_path(1024, "dir", 0), -EACCES);
	ck_assert_int_eq(open_path(1024, "f", 0101 | 0400000 /* O_NOFOLLOW */), -EINVAL);
	ck_assert_int_eq(open_path(1024, "f", 0101 | 020000000 /* O_PATH */), -EINVAL);
	ck_assert_int_eq(log_lines(), 4);
}
END_TEST

START_TEST(per_client_tables)
{
	int32_t fd, fds[RP_MAX_FILES];
	char name[16];

	for (int i = 0; i < RP_MAX_FILES; i++) {
		snprintf(name, sizeof(name), "f%d", i);
		fds[i] = open_path(1024, name, 0102);
		ck_assert_int_eq(fds[i], RP_FIRST_FD + i);
	}
	ck_assert_int_eq(open_path(1024, "one-more", 0102), -EMFILE);
	/* Another client has a table of its own: 1024's fds mean nothing. */
	ck_assert_int_eq(call(1025, WRITE_SYSCALL_ID, fds[0], 1, 1, "x", 1), -EBADF);
	ck_assert_int_eq(call(1025, CLOSE_SYSCALL_ID, fds[0], 0, 0, "", 0), -EBADF);
	ck_assert_int_eq(call(1024, WRITE_SYSCALL_ID, fds[0], 3, 3, "abc", 3), 3);
	ck_assert_int_eq(call(1024, CLOSE_SYSCALL_ID, fds[0], 0, 0, "", 0), 0);
	ck_assert_int_eq(call(1024, CLOSE_SYSCALL_ID, fds[0], 0, 0, "", 0), -EBADF);
	ck_assert_int_eq(call(1024, CLOSE_SYSCALL_ID, 1000, 0, 0, "", 0), -EBADF);
	ck_assert_int_eq(call(1024, CLOSE_SYSCALL_ID, -3, 0, 0, "", 0), -EBADF);
	/* Reads of fd 1 and writes of fd 0 are refused; closing 0..2 keeps
	 * the proxy's console. */
	ck_assert_int_eq(call(1024, READ_SYSCALL_ID, 1, 4, 0, "", 0), -EBADF);
	ck_assert_int_eq(call(1024, WRITE_SYSCALL_ID, 0, 1, 1, "x", 1), -EBADF);
	ck_assert_int_eq(call(1024, CLOSE_SYSCALL_ID, 2, 0, 0, "", 0), 0);
	ck_assert_int_ne(fcntl(2, F_GETFD), -1);
	/* Reopen in the freed slot and read back what was written. */
	fd = open_path(1024, "f0", 0);
	ck_assert_int_eq(fd, fds[0]);
	ck_assert_int_eq(call(1024, READ_SYSCALL_ID, fd, 100000, 0, "", 0), 3);
	ck_assert_int_eq(memcmp(ans + HDR, "abc", 3), 0);
}
END_TEST

START_TEST(clients_bounded_and_term)
{
	for (uint32_t a = 0; a < RP_MAX_CLIENTS; a++)
		ck_assert_int_eq(call(2000 + a, CLOSE_SYSCALL_ID, 9, 0, 0, "", 0), -EBADF);
	ck_assert_int_eq(call(3000, CLOSE_SYSCALL_ID, 9, 0, 0, "", 0), -EUSERS);
	ck_assert_int_eq(log_lines(), 1);
	for (uint32_t a = 0; a < RP_MAX_CLIENTS - 1; a++) {
		ck_assert_int_eq(call(2000 + a, TERM_SYSCALL_ID, 0, 0, 0, "", 0), 9999);
		ck_assert(!st.ended);
	}
	ck_assert_int_eq(call(2000 + RP_MAX_CLIENTS - 1, TERM_SYSCALL_ID, 0, 0, 0, "", 0), 9999);
	ck_assert(st.ended);
}
END_TEST

START_TEST(reads_fit_the_answer)
{
	static char big[3000];
	int32_t fd = open_path(1024, "big", 0102);

	memset(big, 'q', sizeof(big));
	ck_assert_int_eq(call(1024, WRITE_SYSCALL_ID, fd, 1000, 1000, big, 1000), 1000);
	ck_assert_int_eq(call(1024, CLOSE_SYSCALL_ID, fd, 0, 0, "", 0), 0);
	fd = open_path(1024, "big", 0);
	/* Asked for 1000, the answer holds what fits: ROOM - 16. */
	ck_assert_int_eq(call(1024, READ_SYSCALL_ID, fd, 1000, 0, "", 0), ROOM - (int)HDR);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("rpc-proxy");
	TCase *tc = tcase_create("requests");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, short_and_inconsistent_messages);
	tcase_add_test(tc, paths_stay_beneath_the_root);
	tcase_add_test(tc, only_regular_files_and_listed_flags);
	tcase_add_test(tc, per_client_tables);
	tcase_add_test(tc, clients_bounded_and_term);
	tcase_add_test(tc, reads_fit_the_answer);
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
	return failed == 0 ? 0 : 1;
}

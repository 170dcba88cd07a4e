/* xenamp-rpmsgd's pure parts: the bounded receive queue
 * (src/tools/rpmsgd/msgq.c) and the rpmsg character-device ABI
 * (src/tools/rpmsgd/abi.c): ioctl classification and argument sizes,
 * struct rpmsg_endpoint_info parsing, RELEASE_DEV matching, read
 * truncation, the EMSGSIZE rule, error mapping, names made safe. */
#include <config.h>

#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <linux/rpmsg.h>

#include <xenamp/rpmsg.h>

#include "tools/rpmsgd/abi.h"
#include "tools/rpmsgd/msgq.h"

START_TEST(queue_fifo_and_bound)
{
	struct rd_msgq q;
	struct rd_msg *m;
	char b[8];

	rd_msgq_init(&q, 3);
	for (int i = 0; i < 3; i++) {
		memset(b, 'a' + i, sizeof(b));
		ck_assert_int_eq(rd_msgq_push(&q, b, (size_t)i + 1), 0);
	}
	ck_assert_uint_eq(q.count, 3);
	ck_assert_uint_eq(q.bytes, 6);
	/* Full: the newest is dropped and counted, the queue unchanged. */
	ck_assert_int_eq(rd_msgq_push(&q, "zz", 2), -ENOBUFS);
	ck_assert_uint_eq(q.drops, 1);
	ck_assert_uint_eq(q.count, 3);
	for (int i = 0; i < 3; i++) {
		m = rd_msgq_pop(&q);
		ck_assert_ptr_nonnull(m);
		ck_assert_uint_eq(m->len, (size_t)i + 1);
		ck_assert_int_eq(m->data[0], 'a' + i);
		ck_assert_int_eq(m->data[m->len - 1], 'a' + i);
		free(m);
	}
	ck_assert_ptr_null(rd_msgq_pop(&q));
	ck_assert_uint_eq(q.bytes, 0);
	ck_assert_ptr_null(q.tail);
	/* Room again after popping. */
	ck_assert_int_eq(rd_msgq_push(&q, "x", 1), 0);
	ck_assert_uint_eq(q.drops, 1);
	rd_msgq_clear(&q);
}
END_TEST

START_TEST(queue_empty_messages_and_clear)
{
	struct rd_msgq q;
	struct rd_msg *m;

	rd_msgq_init(&q, 0);   /* a bound of 0 is taken as 1 */
	ck_assert_uint_eq(q.max, 1);
	ck_assert_int_eq(rd_msgq_push(&q, NULL, 0), 0);   /* a 0-byte message */
	m = rd_msgq_pop(&q);
	ck_assert_ptr_nonnull(m);
	ck_assert_uint_eq(m->len, 0);
	free(m);
	rd_msgq_init(&q, 100);
	for (int i = 0; i < 100; i++)
		ck_assert_int_eq(rd_msgq_push(&q, "abc", 3), 0);
	rd_msgq_clear(&q);
	ck_assert_uint_eq(q.count, 0);
	ck_assert_uint_eq(q.drops, 0);   /* clearing is not dropping */
	ck_assert_ptr_null(q.head);
	ck_assert_int_eq(rd_msgq_push(&q, "abc", 3), 0);
	rd_msgq_clear(&q);
}
END_TEST

START_TEST(ioctl_kinds)
{
	ck_assert_int_eq(rd_ioc_kind(RPMSG_CREATE_EPT_IOCTL, true), RD_IOC_CREATE_EPT);
#ifdef RPMSG_CREATE_DEV_IOCTL   /* Linux >= 5.18 headers (Debian 12: 6.1) */
	ck_assert_int_eq(rd_ioc_kind(RPMSG_CREATE_DEV_IOCTL, true), RD_IOC_CREATE_DEV);
	ck_assert_int_eq(rd_ioc_kind(RPMSG_RELEASE_DEV_IOCTL, true), RD_IOC_RELEASE_DEV);
#endif
	ck_assert_int_eq(rd_ioc_kind(RPMSG_DESTROY_EPT_IOCTL, false), RD_IOC_DESTROY_EPT);
	/* Each device serves only its own. */
	ck_assert_int_eq(rd_ioc_kind(RPMSG_DESTROY_EPT_IOCTL, true), RD_IOC_UNKNOWN);
	ck_assert_int_eq(rd_ioc_kind(RPMSG_CREATE_EPT_IOCTL, false), RD_IOC_UNKNOWN);
	/* Same number, other size or direction: not ours. */
	ck_assert_int_eq(rd_ioc_kind(_IOW(0xb5, 0x1, int), true), RD_IOC_UNKNOWN);
	ck_assert_int_eq(rd_ioc_kind(_IOR(0xb5, 0x1, struct rpmsg_endpoint_info), true),
			 RD_IOC_UNKNOWN);
	ck_assert_int_eq(rd_ioc_kind(_IO(0xb5, 0x7f), false), RD_IOC_UNKNOWN);
	ck_assert_int_eq(rd_ioc_kind(0, false), RD_IOC_UNKNOWN);
	ck_assert_uint_eq(rd_ioc_in_size(RD_IOC_CREATE_EPT), 40);
	ck_assert_uint_eq(rd_ioc_in_size(RD_IOC_RELEASE_DEV), 40);
	ck_assert_uint_eq(rd_ioc_in_size(RD_IOC_DESTROY_EPT), 0);
	/* The size the kernel copies in is the one encoded in the command. */
	ck_assert_uint_eq(_IOC_SIZE(RPMSG_CREATE_EPT_IOCTL), rd_ioc_in_size(RD_IOC_CREATE_EPT));
#ifndef RPMSG_GET_OUTGOING_FLOWCONTROL
	/* Debian 12's header: no flow-control ioctls, none served. */
	ck_assert_int_eq(rd_ioc_kind(_IOR(0xb5, 0x5, int), false), RD_IOC_UNKNOWN);
#endif
}
END_TEST

START_TEST(eptinfo_parsing)
{
	struct rpmsg_endpoint_info info;
	struct rd_chinfo ci;

	memset(&info, 0, sizeof(info));
	strcpy(info.name, "rpmsg-echo");
	info.src = RPMSG_ADDR_ANY;
	info.dst = 1024;
	ck_assert_int_eq(rd_parse_eptinfo(&info, sizeof(info), &ci), 0);
	ck_assert_str_eq(ci.name, "rpmsg-echo");
	ck_assert_uint_eq(ci.src, RD_ADDR_ANY);
	ck_assert_uint_eq(ci.dst, 1024);
	/* A name filling all 32 bytes without a NUL: cut to 31, terminated. */
	memset(info.name, 'N', sizeof(info.name));
	ck_assert_int_eq(rd_parse_eptinfo(&info, sizeof(info), &ci), 0);
	ck_assert_uint_eq(strlen(ci.name), 31);
	/* Wrong sizes and no buffer are refused. */
	ck_assert_int_eq(rd_parse_eptinfo(&info, sizeof(info) - 1, &ci), -EINVAL);
	ck_assert_int_eq(rd_parse_eptinfo(&info, sizeof(info) + 1, &ci), -EINVAL);
	ck_assert_int_eq(rd_parse_eptinfo(&info, 0, &ci), -EINVAL);
	ck_assert_int_eq(rd_parse_eptinfo(NULL, sizeof(info), &ci), -EINVAL);
}
END_TEST

START_TEST(release_matching)
{
	struct rd_chinfo ch = { "rpmsg-raw", 1030, 1024 };
	struct rd_chinfo p = { "rpmsg-raw", RD_ADDR_ANY, RD_ADDR_ANY };

	ck_assert(rd_chinfo_match(&p, &ch));
	p.src = 1030;
	ck_assert(rd_chinfo_match(&p, &ch));
	p.dst = 1025;
	ck_assert(!rd_chinfo_match(&p, &ch));
	p.dst = 1024;
	p.src = 1031;
	ck_assert(!rd_chinfo_match(&p, &ch));
	p.src = RD_ADDR_ANY;
	strcpy(p.name, "rpmsg-ra");   /* names are compared whole */
	ck_assert(!rd_chinfo_match(&p, &ch));
}
END_TEST

START_TEST(read_write_rules)
{
	ck_assert_uint_eq(rd_read_len(4096, 100), 100);
	ck_assert_uint_eq(rd_read_len(10, 100), 10);   /* truncated */
	ck_assert_uint_eq(rd_read_len(0, 100), 0);
	ck_assert_uint_eq(rd_read_len(100, 0), 0);
	ck_assert_int_eq(rd_write_check(496, 496), 0);
	ck_assert_int_eq(rd_write_check(0, 496), 0);
	ck_assert_int_eq(rd_write_check(497, 496), -EMSGSIZE);
	ck_assert_int_eq(rd_write_check((size_t)1 << 40, 496), -EMSGSIZE);
	ck_assert_int_eq(rd_write_check(1, RPMSG_ERR_PARAM), -EMSGSIZE);
}
END_TEST

START_TEST(errno_mapping)
{
	ck_assert_int_eq(rd_errno_from_rpmsg(RPMSG_ERR_NO_BUFF), -EAGAIN);
	ck_assert_int_eq(rd_errno_from_rpmsg(RPMSG_ERR_PARAM), -EINVAL);
	ck_assert_int_eq(rd_errno_from_rpmsg(RPMSG_ERR_DEV_STATE), -EPIPE);
	ck_assert_int_eq(rd_errno_from_rpmsg(RPMSG_ERR_BUFF_SIZE), -EMSGSIZE);
	ck_assert_int_eq(rd_errno_from_rpmsg(RPMSG_ERR_ADDR), -EADDRINUSE);
	ck_assert_int_eq(rd_errno_from_rpmsg(RPMSG_ERR_NO_MEM), -ENOMEM);
	ck_assert_int_eq(rd_errno_from_rpmsg(-12345), -EIO);
}
END_TEST

START_TEST(safe_names)
{
	char out[RD_NAME_SIZE];
	char raw[RD_NAME_SIZE];

	rd_safe_name("rpmsg-tty", RD_NAME_SIZE, out, sizeof(out));
	ck_assert_str_eq(out, "rpmsg-tty");
	rd_safe_name("a b\n\x1b[2J\\", RD_NAME_SIZE, out, sizeof(out));
	ck_assert_str_eq(out, "a?b??[2J?");
	rd_safe_name("", RD_NAME_SIZE, out, sizeof(out));
	ck_assert_str_eq(out, "-");
	memset(raw, 'x', sizeof(raw));   /* no terminator within maxlen */
	rd_safe_name(raw, sizeof(raw), out, sizeof(out));
	ck_assert_uint_eq(strlen(out), sizeof(out) - 1);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("rpmsgd");
	TCase *t = tcase_create("pure");

	tcase_add_test(t, queue_fifo_and_bound);
	tcase_add_test(t, queue_empty_messages_and_clear);
	tcase_add_test(t, ioctl_kinds);
	tcase_add_test(t, eptinfo_parsing);
	tcase_add_test(t, release_matching);
	tcase_add_test(t, read_write_rules);
	tcase_add_test(t, errno_mapping);
	tcase_add_test(t, safe_names);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

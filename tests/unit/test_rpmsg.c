/* Unit tests: RPMsg header and name-service wire format, endpoint address
 * allocation, error strings. Golden vectors are literal bytes taken from
 * the published layouts (Linux virtio_rpmsg_bus / OpenAMP), so a wrong
 * field order or size fails. Buffers handed to decoders are malloc'd to
 * their exact length so that ASan catches any over-read. */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/byteorder.h"
#include "core/rpmsg_wire.h"
#include "core/xa_error.h"

/* {src 0x400, dst 0x35, reserved 0, len 40, flags 0} */
static const uint8_t golden_hdr[16] = {
	0x00, 0x04, 0x00, 0x00,   /* src 0x400 */
	0x35, 0x00, 0x00, 0x00,   /* dst 0x35 */
	0x00, 0x00, 0x00, 0x00,   /* reserved */
	0x28, 0x00,               /* len 40 */
	0x00, 0x00,               /* flags */
};

/* name "rpmsg-echo", addr 0x401, flags 0 (create) */
static const uint8_t golden_ns[40] = {
	'r', 'p', 'm', 's', 'g', '-', 'e', 'c', 'h', 'o', 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0x01, 0x04, 0x00, 0x00,   /* addr 0x401 */
	0x00, 0x00, 0x00, 0x00,   /* flags create */
};

/* An exact-size heap copy of src (len may be 0). */
static uint8_t *dup_exact(const void *src, size_t len)
{
	uint8_t *p = malloc(len ? len : 1);

	ck_assert_ptr_nonnull(p);
	if (len)
		memcpy(p, src, len);
	return p;
}

/* ------------------------------------------------------------------ */
/* Header                                                              */

START_TEST(hdr_encode_golden)
{
	struct xa_rpmsg_hdr h = { .src = 0x400, .dst = 0x35, .reserved = 0,
				  .len = 40, .flags = 0 };
	uint8_t out[18];

	memset(out, 0xa5, sizeof(out));
	xa_rpmsg_hdr_encode(out, &h);
	ck_assert_mem_eq(out, golden_hdr, 16);
	ck_assert_uint_eq(out[16], 0xa5);   /* writes exactly 16 bytes */
	ck_assert_uint_eq(XA_RPMSG_HDR_SIZE, 16);
}
END_TEST

START_TEST(hdr_decode_golden)
{
	/* header + the 40-byte name-service payload it announces */
	uint8_t *buf = malloc(56);
	struct xa_rpmsg_hdr h;

	ck_assert_ptr_nonnull(buf);
	memcpy(buf, golden_hdr, 16);
	memcpy(buf + 16, golden_ns, 40);
	memset(&h, 0xff, sizeof(h));
	ck_assert_int_eq(xa_rpmsg_hdr_decode(buf, 56, &h), XA_OK);
	ck_assert_uint_eq(h.src, 0x400);
	ck_assert_uint_eq(h.dst, 0x35);
	ck_assert_uint_eq(h.reserved, 0);
	ck_assert_uint_eq(h.len, 40);
	ck_assert_uint_eq(h.flags, 0);
	free(buf);
}
END_TEST

START_TEST(hdr_decode_fields_le)
{
	/* distinct bytes in every field: catches swapped or mis-sized fields */
	static const uint8_t bytes[16] = {
		0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
		0x09, 0x0a, 0x0b, 0x0c, 0x00, 0x00, 0x0f, 0x10,
	};
	uint8_t *buf = dup_exact(bytes, 16);
	struct xa_rpmsg_hdr h, h2;
	uint8_t out[16];

	ck_assert_int_eq(xa_rpmsg_hdr_decode(buf, 16, &h), XA_OK);
	ck_assert_uint_eq(h.src, 0x04030201u);
	ck_assert_uint_eq(h.dst, 0x08070605u);
	ck_assert_uint_eq(h.reserved, 0x0c0b0a09u);
	ck_assert_uint_eq(h.len, 0);
	ck_assert_uint_eq(h.flags, 0x100f);
	xa_rpmsg_hdr_encode(out, &h);
	ck_assert_mem_eq(out, bytes, 16);

	h.len = 0xfffe;
	xa_rpmsg_hdr_encode(out, &h);
	ck_assert_uint_eq(out[12], 0xfe);
	ck_assert_uint_eq(out[13], 0xff);
	free(buf);
	buf = malloc(16 + 0xfffe);
	ck_assert_ptr_nonnull(buf);
	memset(buf, 0, 16 + 0xfffe);
	memcpy(buf, out, 16);
	ck_assert_int_eq(xa_rpmsg_hdr_decode(buf, 16 + 0xfffe, &h2), XA_OK);
	ck_assert_uint_eq(h2.len, 0xfffe);
	free(buf);
}
END_TEST

START_TEST(hdr_decode_short)
{
	size_t len;

	for (len = 0; len < 16; len++) {
		uint8_t *buf = dup_exact(golden_hdr, len);
		struct xa_rpmsg_hdr h;

		ck_assert_int_eq(xa_rpmsg_hdr_decode(buf, len, &h),
				 XA_ERR_MSG_SHORT);
		free(buf);
	}
	ck_assert_int_eq(xa_rpmsg_hdr_decode(NULL, 0, NULL), XA_ERR_MSG_SHORT);
}
END_TEST

START_TEST(hdr_decode_len_past_buffer)
{
	uint8_t tmp[56];
	struct xa_rpmsg_hdr h;
	uint8_t *buf;
	size_t len;

	memcpy(tmp, golden_hdr, 16);
	memcpy(tmp + 16, golden_ns, 40);
	/* len 40 needs 56 bytes; every shorter buffer >= 16 is rejected */
	for (len = 16; len < 56; len++) {
		buf = dup_exact(tmp, len);
		ck_assert_int_eq(xa_rpmsg_hdr_decode(buf, len, &h), XA_ERR_MSG_LEN);
		free(buf);
	}
	/* a longer buffer is fine: len is what counts */
	buf = malloc(512);
	ck_assert_ptr_nonnull(buf);
	memset(buf, 0, 512);
	memcpy(buf, tmp, 56);
	ck_assert_int_eq(xa_rpmsg_hdr_decode(buf, 512, &h), XA_OK);
	ck_assert_uint_eq(h.len, 40);
	/* len 0xffff in a 512-byte buffer */
	buf[12] = 0xff;
	buf[13] = 0xff;
	ck_assert_int_eq(xa_rpmsg_hdr_decode(buf, 512, &h), XA_ERR_MSG_LEN);
	free(buf);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Name service                                                        */

START_TEST(ns_encode_golden)
{
	uint8_t out[44];

	memset(out, 0xa5, sizeof(out));
	xa_rpmsg_ns_encode(out, "rpmsg-echo", 0x401, XA_RPMSG_NS_CREATE);
	ck_assert_mem_eq(out, golden_ns, 40);
	ck_assert_uint_eq(out[40], 0xa5);   /* writes exactly 40 bytes */
	ck_assert_uint_eq(XA_RPMSG_NS_SIZE, 40);
	ck_assert_uint_eq(XA_RPMSG_NS_ADDR, 0x35);
}
END_TEST

START_TEST(ns_encode_destroy_and_truncate)
{
	const char *longname = "0123456789abcdef0123456789ABCDEF-too-long";
	uint8_t out[40];
	struct xa_rpmsg_ns ns;

	xa_rpmsg_ns_encode(out, longname, 0x12345678, XA_RPMSG_NS_DESTROY);
	ck_assert_mem_eq(out, longname, 31);
	ck_assert_uint_eq(out[31], 0);
	ck_assert_uint_eq(out[32], 0x78);
	ck_assert_uint_eq(out[33], 0x56);
	ck_assert_uint_eq(out[34], 0x34);
	ck_assert_uint_eq(out[35], 0x12);
	ck_assert_uint_eq(out[36], 0x01);
	ck_assert_uint_eq(out[37], 0x00);
	ck_assert_uint_eq(out[38], 0x00);
	ck_assert_uint_eq(out[39], 0x00);
	ck_assert_int_eq(xa_rpmsg_ns_decode(out, 40, &ns), XA_OK);
	ck_assert_uint_eq(strlen(ns.name), 31);
	ck_assert_int_eq(strncmp(ns.name, longname, 31), 0);
	ck_assert_uint_eq(ns.addr, 0x12345678);
	ck_assert_uint_eq(ns.flags, XA_RPMSG_NS_DESTROY);
}
END_TEST

START_TEST(ns_decode_golden)
{
	uint8_t *buf = dup_exact(golden_ns, 40);
	struct xa_rpmsg_ns ns;

	memset(&ns, 0xff, sizeof(ns));
	ck_assert_int_eq(xa_rpmsg_ns_decode(buf, 40, &ns), XA_OK);
	ck_assert_str_eq(ns.name, "rpmsg-echo");
	ck_assert_uint_eq(ns.addr, 0x401);
	ck_assert_uint_eq(ns.flags, XA_RPMSG_NS_CREATE);
	free(buf);
}
END_TEST

START_TEST(ns_decode_wrong_size)
{
	static const size_t sizes[] = { 0, 1, 16, 39, 41, 56, 512 };
	struct xa_rpmsg_ns ns;
	size_t i;

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		uint8_t *buf = malloc(sizes[i] ? sizes[i] : 1);

		ck_assert_ptr_nonnull(buf);
		memset(buf, 0, sizes[i] ? sizes[i] : 1);
		memcpy(buf, golden_ns, sizes[i] < 40 ? sizes[i] : 40);
		ck_assert_int_eq(xa_rpmsg_ns_decode(buf, sizes[i], &ns),
				 XA_ERR_NS_SIZE);
		free(buf);
	}
}
END_TEST

START_TEST(ns_decode_name_unterminated)
{
	uint8_t *buf = dup_exact(golden_ns, 40);
	struct xa_rpmsg_ns ns;

	memset(buf, 'a', 32);   /* 32 printable bytes, no NUL */
	ck_assert_int_eq(xa_rpmsg_ns_decode(buf, 40, &ns), XA_ERR_NS_NAME);
	buf[31] = 0;            /* 31 characters + NUL is fine */
	ck_assert_int_eq(xa_rpmsg_ns_decode(buf, 40, &ns), XA_OK);
	ck_assert_uint_eq(strlen(ns.name), 31);
	free(buf);
}
END_TEST

START_TEST(ns_decode_name_not_printable)
{
	static const uint8_t bad[] = { 0x01, 0x09, 0x0a, 0x1f, 0x7f, 0x80, 0xff };
	struct xa_rpmsg_ns ns;
	size_t i;

	for (i = 0; i < sizeof(bad); i++) {
		uint8_t *buf = dup_exact(golden_ns, 40);

		buf[3] = bad[i];
		ck_assert_int_eq(xa_rpmsg_ns_decode(buf, 40, &ns), XA_ERR_NS_NAME);
		free(buf);
	}
}
END_TEST

START_TEST(ns_decode_bad_flags)
{
	static const uint32_t flags[] = { 2, 3, 0x100, 0x80000000u, 0xffffffffu };
	struct xa_rpmsg_ns ns;
	size_t i;

	for (i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
		uint8_t *buf = dup_exact(golden_ns, 40);

		xa_put_le32(buf + 36, flags[i]);
		ck_assert_int_eq(xa_rpmsg_ns_decode(buf, 40, &ns), XA_ERR_NS_FLAGS);
		free(buf);
	}
	{
		uint8_t *buf = dup_exact(golden_ns, 40);

		buf[36] = 1;   /* destroy */
		ck_assert_int_eq(xa_rpmsg_ns_decode(buf, 40, &ns), XA_OK);
		ck_assert_uint_eq(ns.flags, XA_RPMSG_NS_DESTROY);
		free(buf);
	}
}
END_TEST

START_TEST(ns_decode_name_garbage_after_nul)
{
	/* bytes after the terminating NUL are not part of the name */
	uint8_t *buf = dup_exact(golden_ns, 40);
	struct xa_rpmsg_ns ns;

	buf[20] = 0x01;
	buf[31] = 'x';
	ck_assert_int_eq(xa_rpmsg_ns_decode(buf, 40, &ns), XA_OK);
	ck_assert_str_eq(ns.name, "rpmsg-echo");
	ck_assert_uint_eq(ns.name[20], 0);
	ck_assert_uint_eq(ns.name[31], 0);
	free(buf);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Endpoint address allocator                                          */

START_TEST(addr_alloc_unique_until_full)
{
	static struct xa_addr_bitmap b;
	static uint8_t seen[XA_ADDR_BITMAP_MAX];
	uint32_t a, i;

	memset(seen, 0, sizeof(seen));
	xa_addr_init(&b, XA_RPMSG_RESERVED_ADDRESSES, XA_ADDR_BITMAP_MAX);
	for (i = 0; i < XA_ADDR_BITMAP_MAX; i++) {
		ck_assert_int_eq(xa_addr_alloc(&b, &a), XA_OK);
		ck_assert_uint_ge(a, 1024);
		ck_assert_uint_lt(a, 1024 + XA_ADDR_BITMAP_MAX);
		ck_assert_uint_eq(seen[a - 1024], 0);
		seen[a - 1024] = 1;
		ck_assert_int_eq(xa_addr_in_use(&b, a), 1);
	}
	ck_assert_int_eq(xa_addr_alloc(&b, &a), XA_ERR_ADDR_FULL);
	ck_assert_int_eq(xa_addr_alloc(&b, &a), XA_ERR_ADDR_FULL);
}
END_TEST

START_TEST(addr_first_is_1024)
{
	struct xa_addr_bitmap b;
	uint32_t a;

	xa_addr_init(&b, XA_RPMSG_RESERVED_ADDRESSES, 16);
	ck_assert_int_eq(xa_addr_alloc(&b, &a), XA_OK);
	ck_assert_uint_eq(a, 1024);
	ck_assert_int_eq(xa_addr_alloc(&b, &a), XA_OK);
	ck_assert_uint_eq(a, 1025);
}
END_TEST

START_TEST(addr_release_reuse)
{
	struct xa_addr_bitmap b;
	uint32_t a, i;

	xa_addr_init(&b, 1024, 4);
	for (i = 0; i < 4; i++)
		ck_assert_int_eq(xa_addr_alloc(&b, &a), XA_OK);
	ck_assert_int_eq(xa_addr_alloc(&b, &a), XA_ERR_ADDR_FULL);
	xa_addr_release(&b, 1026);
	ck_assert_int_eq(xa_addr_in_use(&b, 1026), 0);
	ck_assert_int_eq(xa_addr_alloc(&b, &a), XA_OK);
	ck_assert_uint_eq(a, 1026);
	ck_assert_int_eq(xa_addr_alloc(&b, &a), XA_ERR_ADDR_FULL);
	/* out-of-range releases are ignored */
	xa_addr_release(&b, 5);
	xa_addr_release(&b, 1028);
	xa_addr_release(&b, XA_RPMSG_ADDR_ANY);
	ck_assert_int_eq(xa_addr_alloc(&b, &a), XA_ERR_ADDR_FULL);
}
END_TEST

START_TEST(addr_round_robin)
{
	struct xa_addr_bitmap b;
	uint32_t a, a2;

	xa_addr_init(&b, 1024, 8);
	ck_assert_int_eq(xa_addr_alloc(&b, &a), XA_OK);
	ck_assert_uint_eq(a, 1024);
	xa_addr_release(&b, a);
	/* a just-released address is not handed out again at once */
	ck_assert_int_eq(xa_addr_alloc(&b, &a2), XA_OK);
	ck_assert_uint_eq(a2, 1025);
	/* the search wraps round */
	for (a = 1026; a < 1032; a++) {
		ck_assert_int_eq(xa_addr_alloc(&b, &a2), XA_OK);
		ck_assert_uint_eq(a2, a);
	}
	ck_assert_int_eq(xa_addr_alloc(&b, &a2), XA_OK);
	ck_assert_uint_eq(a2, 1024);
	ck_assert_int_eq(xa_addr_alloc(&b, &a2), XA_ERR_ADDR_FULL);
}
END_TEST

START_TEST(addr_reserve)
{
	struct xa_addr_bitmap b;
	uint32_t a, i;

	xa_addr_init(&b, 1024, 4);
	ck_assert_int_eq(xa_addr_reserve(&b, 1023), XA_ERR_ADDR_RANGE);
	ck_assert_int_eq(xa_addr_reserve(&b, 0x35), XA_ERR_ADDR_RANGE);
	ck_assert_int_eq(xa_addr_reserve(&b, 1028), XA_ERR_ADDR_RANGE);
	ck_assert_int_eq(xa_addr_reserve(&b, XA_RPMSG_ADDR_ANY), XA_ERR_ADDR_RANGE);
	ck_assert_int_eq(xa_addr_in_use(&b, 1023), 0);
	ck_assert_int_eq(xa_addr_in_use(&b, 1028), 0);

	ck_assert_int_eq(xa_addr_reserve(&b, 1024), XA_OK);
	ck_assert_int_eq(xa_addr_reserve(&b, 1024), XA_ERR_ADDR_BUSY);
	ck_assert_int_eq(xa_addr_reserve(&b, 1027), XA_OK);
	ck_assert_int_eq(xa_addr_in_use(&b, 1027), 1);
	/* allocation skips reserved addresses */
	for (i = 0; i < 2; i++) {
		ck_assert_int_eq(xa_addr_alloc(&b, &a), XA_OK);
		ck_assert_uint_ne(a, 1024);
		ck_assert_uint_ne(a, 1027);
		ck_assert_int_eq(xa_addr_reserve(&b, a), XA_ERR_ADDR_BUSY);
	}
	ck_assert_int_eq(xa_addr_alloc(&b, &a), XA_ERR_ADDR_FULL);
	xa_addr_release(&b, 1027);
	ck_assert_int_eq(xa_addr_reserve(&b, 1027), XA_OK);
}
END_TEST

START_TEST(addr_limits)
{
	struct xa_addr_bitmap b;
	uint32_t a;

	/* count is clamped to the bitmap size */
	xa_addr_init(&b, 1024, 100000);
	ck_assert_uint_eq(b.count, XA_ADDR_BITMAP_MAX);
	ck_assert_int_eq(xa_addr_reserve(&b, 1024 + XA_ADDR_BITMAP_MAX),
			 XA_ERR_ADDR_RANGE);
	/* an empty allocator is always full */
	xa_addr_init(&b, 1024, 0);
	ck_assert_int_eq(xa_addr_alloc(&b, &a), XA_ERR_ADDR_FULL);
	ck_assert_int_eq(xa_addr_reserve(&b, 1024), XA_ERR_ADDR_RANGE);
	/* never manages RPMSG_ADDR_ANY, never wraps past it */
	xa_addr_init(&b, 0xfffffffeu, 16);
	ck_assert_int_eq(xa_addr_alloc(&b, &a), XA_OK);
	ck_assert_uint_eq(a, 0xfffffffeu);
	ck_assert_int_eq(xa_addr_alloc(&b, &a), XA_ERR_ADDR_FULL);
	ck_assert_int_eq(xa_addr_reserve(&b, XA_RPMSG_ADDR_ANY), XA_ERR_ADDR_RANGE);
	ck_assert_int_eq(xa_addr_reserve(&b, 0), XA_ERR_ADDR_RANGE);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Error strings                                                       */

START_TEST(strerror_all)
{
	static const int codes[] = {
		XA_OK, XA_EMPTY, XA_ERR_RING_PARAM, XA_ERR_RING_PLACE,
		XA_ERR_AVAIL_IDX, XA_ERR_DESC_ID, XA_ERR_DESC_RANGE,
		XA_ERR_DESC_LOOP, XA_ERR_DESC_FLAGS, XA_ERR_CHAIN_LONG,
		XA_ERR_DESC_LEN, XA_ERR_USED_IDX, XA_ERR_USED_ID,
		XA_ERR_USED_LEN, XA_ERR_RING_FULL, XA_ERR_MSG_SHORT,
		XA_ERR_MSG_LEN, XA_ERR_NS_NAME, XA_ERR_NS_FLAGS, XA_ERR_NS_SIZE,
		XA_ERR_ADDR_FULL, XA_ERR_ADDR_RANGE, XA_ERR_ADDR_BUSY, XA_ERR_RSC,
	};
	size_t n = sizeof(codes) / sizeof(codes[0]), i, j;

	for (i = 0; i < n; i++) {
		const char *s = xa_strerror(codes[i]);

		ck_assert_ptr_nonnull(s);
		ck_assert_uint_gt(strlen(s), 0);
		ck_assert_str_ne(s, "unknown error");
		for (j = 0; j < i; j++)
			ck_assert_str_ne(s, xa_strerror(codes[j]));
	}
	ck_assert_str_eq(xa_strerror(XA_ERR_DESC_ID), "descriptor id out of range");
	ck_assert_str_eq(xa_strerror(-999), "unknown error");
	ck_assert_str_eq(xa_strerror(2), "unknown error");
	ck_assert_str_eq(xa_strerror(-3), "unknown error");
}
END_TEST

static Suite *rpmsg_suite(void)
{
	Suite *s = suite_create("rpmsg");
	TCase *tc;

	tc = tcase_create("header");
	tcase_add_test(tc, hdr_encode_golden);
	tcase_add_test(tc, hdr_decode_golden);
	tcase_add_test(tc, hdr_decode_fields_le);
	tcase_add_test(tc, hdr_decode_short);
	tcase_add_test(tc, hdr_decode_len_past_buffer);
	suite_add_tcase(s, tc);

	tc = tcase_create("name-service");
	tcase_add_test(tc, ns_encode_golden);
	tcase_add_test(tc, ns_encode_destroy_and_truncate);
	tcase_add_test(tc, ns_decode_golden);
	tcase_add_test(tc, ns_decode_wrong_size);
	tcase_add_test(tc, ns_decode_name_unterminated);
	tcase_add_test(tc, ns_decode_name_not_printable);
	tcase_add_test(tc, ns_decode_bad_flags);
	tcase_add_test(tc, ns_decode_name_garbage_after_nul);
	suite_add_tcase(s, tc);

	tc = tcase_create("addr");
	tcase_add_test(tc, addr_alloc_unique_until_full);
	tcase_add_test(tc, addr_first_is_1024);
	tcase_add_test(tc, addr_release_reuse);
	tcase_add_test(tc, addr_round_robin);
	tcase_add_test(tc, addr_reserve);
	tcase_add_test(tc, addr_limits);
	suite_add_tcase(s, tc);

	tc = tcase_create("strerror");
	tcase_add_test(tc, strerror_all);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(rpmsg_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

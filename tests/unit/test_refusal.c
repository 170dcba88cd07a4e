/* The one error space on the wire (src/common/refusal.h) and the reconnect
 * decision both partition-side transports share
 * (src/frontend/transport/reconnect.c). */
#include <config.h>

#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/refusal.h"
#include "core/xa_error.h"
#include "frontend/transport/fe_transport.h"

static const int final_codes[] = {
	XA_REFUSE_NO_LINK, XA_REFUSE_PROTOCOL, XA_REFUSE_REGION, XA_REFUSE_RING,
	XA_REFUSE_MESSAGE, XA_REFUSE_PARAMS, XA_REFUSE_DENIED, XA_REFUSE_QUOTA,
};
static const int transient_codes[] = {
	XA_REFUSE_BUSY, XA_REFUSE_LIMIT, XA_REFUSE_SHUTDOWN,
};

START_TEST(final_and_transient)
{
	for (size_t i = 0; i < sizeof(final_codes) / sizeof(final_codes[0]); i++) {
		ck_assert_msg(!xa_refusal_retry(final_codes[i]), "code %d", final_codes[i]);
		ck_assert_int_eq(xa_refusal_errno(final_codes[i]), -EPERM);
		ck_assert_str_ne(xa_refusal_name(final_codes[i]), "unknown refusal");
	}
	for (size_t i = 0; i < sizeof(transient_codes) / sizeof(transient_codes[0]); i++) {
		ck_assert_msg(xa_refusal_retry(transient_codes[i]), "code %d", transient_codes[i]);
		ck_assert_int_eq(xa_refusal_errno(transient_codes[i]), -EAGAIN);
	}
	/* dom0 let go without refusing: retryable, but never success */
	ck_assert_int_eq(xa_refusal_errno(XA_REFUSE_NONE), -ECONNRESET);
}
END_TEST

START_TEST(unknown_codes_are_final)
{
	/* a newer backend's code, and what older backends put on the wire
	 * (negative errno or XA_ERR_* values) */
	const int odd[] = { 9, 31, 35, 200, -1, -11, -16, -40, -EAGAIN };

	for (size_t i = 0; i < sizeof(odd) / sizeof(odd[0]); i++) {
		ck_assert_msg(!xa_refusal_retry(odd[i]), "code %d", odd[i]);
		ck_assert_int_eq(xa_refusal_errno(odd[i]), -EPERM);
		ck_assert_str_eq(xa_refusal_name(odd[i]), "unknown refusal");
	}
}
END_TEST

/* The case that went wrong when XA_ERR_* and errno shared one field: a
 * refused resource table (-40, -ELOOP as an errno) was retried for the
 * whole reconnect window, and a ring fault of -11 read as -EAGAIN. */
START_TEST(core_faults_are_final)
{
	ck_assert_int_eq(xa_refusal_of_core(XA_ERR_RSC), XA_REFUSE_REGION);
	ck_assert_int_eq(xa_refusal_of_core(XA_ERR_RING_PARAM), XA_REFUSE_REGION);
	ck_assert_int_eq(xa_refusal_of_core(XA_ERR_RING_PLACE), XA_REFUSE_REGION);
	ck_assert_int_eq(xa_refusal_of_core(XA_ERR_DESC_ID), XA_REFUSE_RING);
	ck_assert_int_eq(xa_refusal_of_core(XA_ERR_AVAIL_IDX), XA_REFUSE_RING);
	ck_assert_int_eq(xa_refusal_of_core(XA_ERR_RING_FULL), XA_REFUSE_RING);
	ck_assert_int_eq(xa_refusal_of_core(XA_ERR_MSG_LEN), XA_REFUSE_MESSAGE);
	ck_assert_int_eq(xa_refusal_of_core(XA_ERR_NS_NAME), XA_REFUSE_MESSAGE);
	ck_assert_int_eq(xa_refusal_of_core(XA_ERR_ADDR_BUSY), XA_REFUSE_MESSAGE);
	ck_assert_int_eq(xa_refusal_of_core(XA_OK), XA_REFUSE_NONE);
	for (int c = XA_ERR_RSC; c < 0; c++) {
		int r = xa_refusal_of_core(c);

		ck_assert_msg(r != XA_REFUSE_NONE && !xa_refusal_retry(r),
			      "core code %d gave refusal %d", c, r);
	}
}
END_TEST

START_TEST(errno_reasons)
{
	ck_assert_int_eq(xa_refusal_of_errno(0), XA_REFUSE_NONE);
	ck_assert_int_eq(xa_refusal_of_errno(-ENOENT), XA_REFUSE_NO_LINK);
	ck_assert_int_eq(xa_refusal_of_errno(-EBUSY), XA_REFUSE_BUSY);
	ck_assert_int_eq(xa_refusal_of_errno(-EACCES), XA_REFUSE_DENIED);
	ck_assert_int_eq(xa_refusal_of_errno(-EPERM), XA_REFUSE_DENIED);
	ck_assert_int_eq(xa_refusal_of_errno(-EMFILE), XA_REFUSE_LIMIT);
	ck_assert_int_eq(xa_refusal_of_errno(-ENOMEM), XA_REFUSE_LIMIT);
	ck_assert_int_eq(xa_refusal_of_errno(-ESHUTDOWN), XA_REFUSE_SHUTDOWN);
	ck_assert_int_eq(xa_refusal_of_errno(-EPROTO), XA_REFUSE_PROTOCOL);
	ck_assert_int_eq(xa_refusal_of_errno(-EINVAL), XA_REFUSE_PROTOCOL);
	ck_assert_int_eq(xa_refusal_of_errno(-EBADF), XA_REFUSE_REGION);
	ck_assert(xa_refusal_retry(xa_refusal_of_errno(-EBUSY)));
	ck_assert(!xa_refusal_retry(xa_refusal_of_errno(-ENOENT)));
}
END_TEST

START_TEST(parse_error_node)
{
	const char *text;

	ck_assert_int_eq(xa_refusal_parse("3 TX ring: bad", &text), XA_REFUSE_REGION);
	ck_assert_str_eq(text, "TX ring: bad");
	ck_assert_int_eq(xa_refusal_parse("32", &text), XA_REFUSE_BUSY);
	ck_assert_str_eq(text, "");
	/* an older backend's "-40 ..." is a final protocol refusal */
	ck_assert_int_eq(xa_refusal_parse("-40 resource table", &text), XA_REFUSE_PROTOCOL);
	ck_assert_str_eq(text, "-40 resource table");
	ck_assert_int_eq(xa_refusal_parse("", &text), XA_REFUSE_PROTOCOL);
	ck_assert_int_eq(xa_refusal_parse("abc", &text), XA_REFUSE_PROTOCOL);
	ck_assert_int_eq(xa_refusal_parse("300 x", &text), XA_REFUSE_PROTOCOL);
	ck_assert_int_eq(xa_refusal_parse("0 x", &text), XA_REFUSE_PROTOCOL);
	ck_assert_int_eq(xa_refusal_parse("7x", &text), XA_REFUSE_PROTOCOL);
	ck_assert_int_eq(xa_refusal_parse(" 7 x", &text), XA_REFUSE_PROTOCOL);
	ck_assert_int_eq(xa_refusal_parse("99999999999999999999 x", &text),
			 XA_REFUSE_PROTOCOL);
}
END_TEST

START_TEST(reconnect_decision)
{
	char err[256];

	ck_assert_int_eq(xa_fe_reconnect_refused(XA_REFUSE_BUSY, "held", err, sizeof(err)),
			 -EAGAIN);
	ck_assert_ptr_nonnull(strstr(err, "end busy"));
	ck_assert_ptr_nonnull(strstr(err, "held"));
	ck_assert_int_eq(xa_fe_reconnect_refused(XA_REFUSE_REGION, "", err, sizeof(err)),
			 -EPERM);
	ck_assert_ptr_nonnull(strstr(err, "(no reason given)"));
}
END_TEST

START_TEST(reconnect_params)
{
	const struct xa_link_params want = { 512, 256, 80 };
	struct xa_link_params got = want;
	char err[256] = "";

	ck_assert_int_eq(xa_fe_reconnect_params_ok(&got, &want, 71, err, sizeof(err)), 0);
	got.max_pages = 71;   /* just enough for the region */
	ck_assert_int_eq(xa_fe_reconnect_params_ok(&got, &want, 71, err, sizeof(err)), 0);
	got.max_pages = 70;
	ck_assert_int_eq(xa_fe_reconnect_params_ok(&got, &want, 71, err, sizeof(err)), -EPROTO);
	ck_assert_ptr_nonnull(strstr(err, "max-pages 70"));
	got = want;
	got.buf_size = 1024;
	ck_assert_int_eq(xa_fe_reconnect_params_ok(&got, &want, 71, err, sizeof(err)), -EPROTO);
	got = want;
	got.buf_count = 128;
	ck_assert_int_eq(xa_fe_reconnect_params_ok(&got, &want, 71, err, sizeof(err)), -EPROTO);
	ck_assert_ptr_nonnull(strstr(err, "buf-count 128"));
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("refusal");
	TCase *t = tcase_create("wire");

	tcase_add_test(t, final_and_transient);
	tcase_add_test(t, unknown_codes_are_final);
	tcase_add_test(t, core_faults_are_final);
	tcase_add_test(t, errno_reasons);
	tcase_add_test(t, parse_error_node);
	tcase_add_test(t, reconnect_decision);
	tcase_add_test(t, reconnect_params);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	SRunner *r = srunner_create(suite());
	int failed;

	srunner_run_all(r, CK_NORMAL);
	failed = srunner_ntests_failed(r);
	srunner_free(r);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

/* Host unit test of the firmware's reconnection decision
 * (src/firmware/rpmsg/fw_reconnect.c): every situation a lost link can
 * find in xenstore after a backend restart, and the refusal codes against
 * libxenamp's own decision (src/common/refusal.c), so that the firmware
 * and the library never disagree on what to retry. */
#include <config.h>

#include <stdio.h>
#include <string.h>

#include "common/refusal.h"
#include "firmware/rpmsg/fw_reconnect.h"

static int failures, checks;

#define CHECK_EQ(a, b) do {                                                   \
		long long a_ = (long long)(a), b_ = (long long)(b);           \
		checks++;                                                     \
		if (a_ != b_) {                                               \
			failures++;                                           \
			fprintf(stderr, "%s:%d: %s == %s failed: %lld != %lld\n", \
				__FILE__, __LINE__, #a, #b, a_, b_);          \
		}                                                             \
	} while (0)

/* The link of these tests: 256 x 512, 71 pages, latest offer on port 9. */
static const struct fw_rc_link fresh = { 512, 256, 71, 9, false };
static const struct fw_rc_link sent = { 512, 256, 71, 9, true };

/* A new backend's offer: frontend dir rewritten (Initialising, no port). */
static struct fw_rc_view offer(void)
{
	return (struct fw_rc_view){
		.be_state = 2, .fe_state = 1, .has_params = true,
		.buf_size = 512, .buf_count = 256, .max_pages = 256,
	};
}

static void test_before_the_offer(void)
{
	/* A SIGKILLed backend's nodes, untouched: Connected, our old port. */
	struct fw_rc_view v = { .be_state = 4, .fe_state = 4, .has_port = true,
				.fe_port = 9, .has_params = true, .buf_size = 512,
				.buf_count = 256, .max_pages = 256 };

	CHECK_EQ(fw_rc_decide(&v, &fresh), FW_RC_WAIT);
	/* No backend dir at all (an orderly stop removed it), or closing. */
	v = (struct fw_rc_view){ .be_state = FW_RC_ABSENT, .fe_state = FW_RC_ABSENT };
	CHECK_EQ(fw_rc_decide(&v, &fresh), FW_RC_WAIT);
	v.be_state = 6;
	CHECK_EQ(fw_rc_decide(&v, &fresh), FW_RC_WAIT);
	/* The new backend rewrote the dirs but has not offered yet. */
	v = offer();
	v.be_state = 1;
	CHECK_EQ(fw_rc_decide(&v, &fresh), FW_RC_WAIT);
	/* InitWait without the parameters written yet. */
	v = offer();
	v.has_params = false;
	CHECK_EQ(fw_rc_decide(&v, &fresh), FW_RC_WAIT);
}

static void test_offer_and_answer(void)
{
	struct fw_rc_view v = offer();

	CHECK_EQ(fw_rc_decide(&v, &fresh), FW_RC_OFFER);
	/* Our offer written, not yet taken: it still stands, no second one
	 * (it would close the port the backend may be binding). */
	v.fe_state = 3;
	v.has_port = true;
	v.fe_port = 9;
	CHECK_EQ(fw_rc_decide(&v, &sent), FW_RC_WAIT);
	/* Taken: Connected. */
	v.be_state = 4;
	CHECK_EQ(fw_rc_decide(&v, &sent), FW_RC_CONNECTED);
	/* ... also once we wrote Connected ourselves before looking again. */
	v.fe_state = 4;
	CHECK_EQ(fw_rc_decide(&v, &sent), FW_RC_CONNECTED);
	/* Connected with another port is not our answer. */
	v.fe_port = 8;
	CHECK_EQ(fw_rc_decide(&v, &sent), FW_RC_WAIT);
	/* Yet another backend came meanwhile and rewrote the dir: offer
	 * again, even though we had offered to the previous one. */
	v = offer();
	CHECK_EQ(fw_rc_decide(&v, &sent), FW_RC_OFFER);
	/* State 3 with a port that is not our latest offer: offer. */
	v.fe_state = 3;
	v.has_port = true;
	v.fe_port = 7;
	CHECK_EQ(fw_rc_decide(&v, &sent), FW_RC_OFFER);
}

static void test_params(void)
{
	struct fw_rc_view v = offer();

	v.buf_size = 496;
	CHECK_EQ(fw_rc_decide(&v, &fresh), FW_RC_PARAMS);
	v = offer();
	v.buf_count = 128;
	CHECK_EQ(fw_rc_decide(&v, &fresh), FW_RC_PARAMS);
	v = offer();
	v.max_pages = 70;
	CHECK_EQ(fw_rc_decide(&v, &fresh), FW_RC_PARAMS);
	v.max_pages = 71;
	CHECK_EQ(fw_rc_decide(&v, &fresh), FW_RC_OFFER);
}

static void test_refusals(void)
{
	struct fw_rc_view v = offer();

	v.has_error = true;
	v.refusal = XA_REFUSE_BUSY;    /* transient: wait for the next offer */
	CHECK_EQ(fw_rc_decide(&v, &fresh), FW_RC_WAIT);
	v.refusal = XA_REFUSE_REGION;  /* final, even with a standing offer */
	CHECK_EQ(fw_rc_decide(&v, &fresh), FW_RC_REFUSED);
	v.be_state = 6;
	CHECK_EQ(fw_rc_decide(&v, &sent), FW_RC_REFUSED);
	/* The same decision as libxenamp's, for every code. */
	for (int code = -300; code <= 300; code++)
		CHECK_EQ(fw_rc_refusal_transient(code), xa_refusal_retry(code));
}

static void test_refusal_parse(void)
{
	static const char *const values[] = {
		"32 the end is busy", "3 invalid region", "34", "255 x", "256 x",
		"0 none", "-32 negative", "", " 32", "32x", "abc", "0032 zeros",
		"99999999999999999999 huge", "7\tdenied",
	};
	const char *text;

	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		checks++;
		if (fw_rc_refusal(values[i]) != xa_refusal_parse(values[i], &text)) {
			failures++;
			fprintf(stderr, "refusal '%s': firmware %d, libxenamp %d\n", values[i],
				fw_rc_refusal(values[i]), xa_refusal_parse(values[i], &text));
		}
	}
	CHECK_EQ(fw_rc_refusal("33 limit"), XA_REFUSE_LIMIT);
	CHECK_EQ(fw_rc_refusal("banana"), XA_REFUSE_PROTOCOL);
}

int main(void)
{
	test_before_the_offer();
	test_offer_and_answer();
	test_params();
	test_refusals();
	test_refusal_parse();
	printf("test-fw-reconnect: %d checks, %d failed\n", checks, failures);
	return failures != 0;
}

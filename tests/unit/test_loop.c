/* Unit tests: one turn of the backend's event loop (src/backend/loop.h)
 * with fake sources. The regression: a transport pump that handled no
 * event used to make the turn skip libvirt's dispatch (the pump's return
 * value was reused for the libvirt condition), so a domain's lifecycle
 * event waited for the next turn with transport events -- or for ever. */
#include <check.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/loop.h"

#define NTR 2

struct fake {
	int pump_rc[NTR];      /* what each transport's pump returns */
	char calls[128];       /* "p0 p1 f1 r l R " */
};

static void note(struct fake *f, const char *what)
{
	size_t n = strlen(f->calls);

	snprintf(f->calls + n, sizeof(f->calls) - n, "%s ", what);
}

static int f_pump(void *ctx, unsigned i)
{
	struct fake *f = ctx;
	char w[8];

	snprintf(w, sizeof(w), "p%u", i);
	note(f, w);
	return f->pump_rc[i];
}

static void f_failed(void *ctx, unsigned i, int rc)
{
	char w[16];

	snprintf(w, sizeof(w), "f%u:%d", i, rc);
	note(ctx, w);
}

static void f_reap(void *ctx) { note(ctx, "r"); }
static void f_lv(void *ctx) { note(ctx, "l"); }
static void f_round(void *ctx) { note(ctx, "R"); }

static const struct xa_loop_ops ops = {
	.pump = f_pump, .failed = f_failed, .reap_owners = f_reap,
	.lv_dispatch = f_lv, .relay_round = f_round,
};

/* pfd as main.c lays it out: signal, NTR transports, owners, libvirt;
 * readable[] gives revents POLLIN for each of them. */
static int turn(struct fake *f, const int readable[NTR + 3], bool has_lv,
		bool *failed)
{
	struct pollfd pfd[NTR + 3];
	int polled = 0;

	for (int i = 0; i < NTR + 3; i++) {
		pfd[i].fd = 10 + i;
		pfd[i].events = POLLIN;
		pfd[i].revents = readable[i] ? POLLIN : 0;
		polled += readable[i] != 0;
	}
	f->calls[0] = '\0';
	*failed = xa_loop_turn(&ops, f, polled, pfd, NTR, has_lv);
	return polled;
}

/* The bug: transport 1 readable but its pump found nothing (0), libvirt's
 * pipe readable: libvirt is dispatched in this very turn. */
START_TEST(lv_dispatched_after_empty_pump)
{
	struct fake f = { .pump_rc = { 0, 0 } };
	const int rd[NTR + 3] = { 0, 0, 1, 0, 1 };
	bool failed;

	turn(&f, rd, true, &failed);
	ck_assert_str_eq(f.calls, "p1 l R ");
	ck_assert(!failed);
}
END_TEST

/* Only libvirt's pipe is readable: no pump at all, libvirt dispatched. */
START_TEST(lv_dispatched_alone)
{
	struct fake f = { .pump_rc = { 3, 3 } };
	const int rd[NTR + 3] = { 0, 0, 0, 0, 1 };
	bool failed;

	turn(&f, rd, true, &failed);
	ck_assert_str_eq(f.calls, "l R ");
}
END_TEST

/* Transports busy, libvirt quiet: not dispatched; no libvirt at all: its
 * slot is never looked at. */
START_TEST(lv_only_when_readable)
{
	struct fake f = { .pump_rc = { 5, 7 } };
	const int rd[NTR + 3] = { 0, 1, 1, 0, 0 };
	const int rd2[NTR + 3] = { 0, 1, 0, 0, 1 };
	bool failed;

	turn(&f, rd, true, &failed);
	ck_assert_str_eq(f.calls, "p0 p1 R ");
	turn(&f, rd2, false, &failed);
	ck_assert_str_eq(f.calls, "p0 R ");
}
END_TEST

/* A poll timeout: nothing is pumped or dispatched, the relay round runs. */
START_TEST(timeout_runs_the_round)
{
	struct fake f = { .pump_rc = { 1, 1 } };
	const int rd[NTR + 3] = { 0 };
	bool failed;

	turn(&f, rd, true, &failed);
	ck_assert_str_eq(f.calls, "R ");
}
END_TEST

/* Owners reaped when their set is readable, also after an empty pump. */
START_TEST(owners_reaped)
{
	struct fake f = { .pump_rc = { 0, 0 } };
	const int rd[NTR + 3] = { 0, 1, 0, 1, 0 };
	bool failed;

	turn(&f, rd, true, &failed);
	ck_assert_str_eq(f.calls, "p0 r R ");
}
END_TEST

/* A failed transport is reported and ends the loop after this turn; the
 * rest of the turn still runs (libvirt included). */
START_TEST(failed_transport)
{
	struct fake f = { .pump_rc = { -EIO, 0 } };
	const int rd[NTR + 3] = { 0, 1, 1, 0, 1 };
	bool failed;

	turn(&f, rd, true, &failed);
	ck_assert(failed);
	ck_assert_str_eq(f.calls, "p0 f0:-5 p1 l R ");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("loop");
	TCase *tc = tcase_create("turn");
	SRunner *sr;
	int nf;

	tcase_add_test(tc, lv_dispatched_after_empty_pump);
	tcase_add_test(tc, lv_dispatched_alone);
	tcase_add_test(tc, lv_only_when_readable);
	tcase_add_test(tc, timeout_runs_the_round);
	tcase_add_test(tc, owners_reaped);
	tcase_add_test(tc, failed_transport);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

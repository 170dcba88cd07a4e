/* Unit tests: the pure parts of the Xen transport's bound on the work a
 * guest can cause (src/backend/transport/xen_bound.h): which end a
 * watch path names, the listing check before any per-page read, and the
 * region-map rate limit. */
#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/transport/xen_bound.h"

static const struct { const char *path; unsigned domid, devno; } good_paths[] = {
	{ "/local/domain/5/device/rpmsg/0", 5, 0 },
	{ "/local/domain/5/device/rpmsg/0/state", 5, 0 },
	{ "/local/domain/32751/device/rpmsg/65535/state", 32751, 65535 },
	/* a node the guest made below its state node still names the end */
	{ "/local/domain/7/device/rpmsg/2/state/x/y", 7, 2 },
	{ "/local/domain/0/device/rpmsg/1/state", 0, 1 },
};

START_TEST(path_good)
{
	unsigned d = 99, n = 99;

	ck_assert_int_eq(xa_xb_fe_path(good_paths[_i].path, "rpmsg", &d, &n), 0);
	ck_assert_uint_eq(d, good_paths[_i].domid);
	ck_assert_uint_eq(n, good_paths[_i].devno);
}
END_TEST

static const char *const bad_paths[] = {
	"", "/", "/local/domain", "/local/domain/5", "/local/domain/5/device/rpmsg",
	"/local/domain/5/device/rpmsg/", "/local/domain/5/device/vif/0/state",
	"/local/domain/5/device/rpmsgx/0/state", "/local/domain/05/device/rpmsg/0",
	"/local/domain/5/device/rpmsg/00", "/local/domain/+5/device/rpmsg/0",
	"/local/domain/-1/device/rpmsg/0", "/local/domain/32752/device/rpmsg/0",
	"/local/domain/5/device/rpmsg/65536", "/local/domain/5/device/rpmsg/1x",
	"/local/domain/99999999999999999999/device/rpmsg/0",
	"local/domain/5/device/rpmsg/0", "/local/domain/5//device/rpmsg/0",
	"/local/domain/5/device/rpmsg/0state", "@releaseDomain",
};

START_TEST(path_bad)
{
	unsigned d = 99, n = 99;

	ck_assert_msg(xa_xb_fe_path(bad_paths[_i], "rpmsg", &d, &n) == -1, "%s",
		      bad_paths[_i]);
	ck_assert_uint_eq(d, 99);
	ck_assert_uint_eq(n, 99);
}
END_TEST

/* A frontend dir listing: the layout's keys plus refs 0..n-1 (skipping
 * skip, when below n), plus extra junk names. */
static char **listing(unsigned long n, long skip, unsigned extra, unsigned *num)
{
	static const char *const keys[] = { "backend", "backend-id", "state",
		"buf-size", "buf-count", "max-pages", "num-pages", "event-channel" };
	unsigned k = 0, cap = (unsigned)(n + extra + 8);
	char **v = calloc(cap, sizeof(*v));

	ck_assert_ptr_nonnull(v);
	for (unsigned i = 0; i < 8; i++)
		v[k++] = strdup(keys[i]);
	for (unsigned long i = 0; i < n; i++) {
		if ((long)i == skip)
			continue;
		v[k] = malloc(32);
		snprintf(v[k++], 32, "ring-ref%lu", i);
	}
	for (unsigned i = 0; i < extra; i++) {
		v[k] = malloc(32);
		snprintf(v[k++], 32, "junk%u", i);
	}
	*num = k;
	return v;
}

static void free_listing(char **v, unsigned num)
{
	for (unsigned i = 0; i < num; i++)
		free(v[i]);
	free(v);
}

START_TEST(refs_complete)
{
	unsigned num;
	unsigned long missing = 12345;
	char **v = listing(71, -1, 0, &num);

	ck_assert_int_eq(xa_xb_refs_listed(v, num, 71, &missing), 0);
	ck_assert_uint_eq(missing, 12345);   /* untouched */
	/* fewer pages announced than listed refs: still all there */
	ck_assert_int_eq(xa_xb_refs_listed(v, num, 70, &missing), 0);
	free_listing(v, num);
}
END_TEST

START_TEST(refs_missing)
{
	unsigned num;
	unsigned long missing = 0;
	char **v = listing(71, 40, 0, &num);

	ck_assert_int_eq(xa_xb_refs_listed(v, num, 71, &missing), -ENOENT);
	ck_assert_uint_eq(missing, 40);
	free_listing(v, num);
	/* more pages announced than refs written */
	v = listing(4, -1, 0, &num);
	ck_assert_int_eq(xa_xb_refs_listed(v, num, 5, &missing), -ENOENT);
	ck_assert_uint_eq(missing, 4);
	free_listing(v, num);
}
END_TEST

/* "ring-ref07" is not ring-ref7, and repeats of a name cannot stand in
 * for a missing one (a listing names each node once; the count relies
 * on the canonical form). */
START_TEST(refs_not_canonical)
{
	char *v[] = { "ring-ref0", "ring-ref01", "ring-ref2", "ring-ref-1",
		      "ring-ref", "ring-ref1x", "xring-ref1" };
	unsigned long missing = 0;

	ck_assert_int_eq(xa_xb_refs_listed(v, 7, 3, &missing), -ENOENT);
	ck_assert_uint_eq(missing, 1);
}
END_TEST

/* A guest that stuffs its dir is refused on the listing's size alone. */
START_TEST(refs_too_many)
{
	unsigned num;
	unsigned long missing = 0;
	char **v = listing(16, -1, 9, &num);   /* 8 keys + 16 refs + 9 = 33 */

	ck_assert_uint_eq(xa_xb_listing_cap(16), 32);
	ck_assert_int_eq(xa_xb_refs_listed(v, num, 16, &missing), -E2BIG);
	ck_assert_int_eq(xa_xb_refs_listed(v, num - 1, 16, &missing), 0);
	free_listing(v, num);
}
END_TEST

START_TEST(rate_burst_then_interval)
{
	uint64_t tat = 0;

	/* burst 3, then one per 1000 ms */
	for (int i = 0; i < 3; i++)
		ck_assert_uint_eq(xa_xb_rate_take(&tat, 5000, 3, 1000), 0);
	ck_assert_uint_eq(xa_xb_rate_take(&tat, 5000, 3, 1000), 1000);
	ck_assert_uint_eq(xa_xb_rate_take(&tat, 5400, 3, 1000), 600);
	ck_assert_uint_eq(xa_xb_rate_take(&tat, 6000, 3, 1000), 0);
	ck_assert_uint_eq(xa_xb_rate_take(&tat, 6000, 3, 1000), 1000);
	/* a quiet end gets its whole burst back, no more */
	for (int i = 0; i < 3; i++)
		ck_assert_uint_eq(xa_xb_rate_take(&tat, 100000, 3, 1000), 0);
	ck_assert_uint_ne(xa_xb_rate_take(&tat, 100000, 3, 1000), 0);
}
END_TEST

/* The bound docs/security.md states: a guest asking for its region as
 * often as it can, every millisecond for 60 s, gets at most burst + 60 s
 * / interval maps (defaults: 10 + 60 = 70), and the waits it is given
 * are exact (asking again at the end of each wait succeeds). */
START_TEST(rate_bound_under_churn)
{
	uint32_t burst = XA_XB_MAPS_DEFAULT;
	uint64_t interval = XA_XB_WINDOW_MS_DEFAULT / XA_XB_MAPS_DEFAULT;
	uint64_t tat = 0, t0 = 1000000, maps = 0;

	for (uint64_t t = t0; t < t0 + 60000; t++) {
		uint64_t wait = xa_xb_rate_take(&tat, t, burst, interval);

		if (wait == 0) {
			maps++;
		} else {
			uint64_t tat2 = tat;

			ck_assert_uint_eq(xa_xb_rate_take(&tat2, t + wait, burst, interval), 0);
			ck_assert_uint_ne(xa_xb_rate_take(&tat2, t + wait - 1, burst, interval), 0);
		}
	}
	/* the burst at t0, then one per interval from t0 + interval on */
	ck_assert_uint_le(maps, burst + 60000 / interval);
	ck_assert_uint_eq(maps, burst + 60000 / interval - 1);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("xen_bound");
	TCase *tc = tcase_create("bound");
	SRunner *sr;
	int nf;

	tcase_add_loop_test(tc, path_good, 0, (int)(sizeof(good_paths) / sizeof(good_paths[0])));
	tcase_add_loop_test(tc, path_bad, 0, (int)(sizeof(bad_paths) / sizeof(bad_paths[0])));
	tcase_add_test(tc, refs_complete);
	tcase_add_test(tc, refs_missing);
	tcase_add_test(tc, refs_not_canonical);
	tcase_add_test(tc, refs_too_many);
	tcase_add_test(tc, rate_burst_then_interval);
	tcase_add_test(tc, rate_bound_under_churn);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

/* xenamp-bench: the plan. Round trips at 32 and 496 bytes, one-way
 * throughput at 496 and 65520 bytes for every --links count, then idle;
 * each measured for xenamp, then for raw, right after each other so that
 * both see the same machine load. --only leaves some out: their rows are
 * kept, marked skipped, so that the report's shape never changes. */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

static bool want(unsigned what)
{
	return B.only == 0 || (B.only & what) != 0;
}

static uint64_t div_up(uint64_t a, uint64_t b)
{
	return (a + b - 1) / b;
}

/* xenamp, then raw, unless --only leaves this measurement out. */
static void run_pair(struct run *rn, unsigned what, const char *label,
		     struct outcome *x, struct outcome *r)
{
	if (!want(what)) {
		memset(x, 0, sizeof(*x));
		memset(r, 0, sizeof(*r));
		x->skipped = r->skipped = true;
		snprintf(x->err, sizeof(x->err), "not run (--only)");
		snprintf(r->err, sizeof(r->err), "not run (--only)");
		return;
	}
	say("%s: xenamp", label);
	rn->sys = SYS_XENAMP;
	run_one(rn, x);
	say("%s: raw", label);
	rn->sys = SYS_RAW;
	run_one(rn, r);
}

/* N/20 timed round trips after a warm-up of a tenth of that (at most
 * 1000), one link of buf-size 512. */
static void plan_latency(struct results *res)
{
	uint64_t warm = res->n_rt / 10 < 1000 ? res->n_rt / 10 + 1 : 1000;

	res->lat[0].payload = 32;
	res->lat[1].payload = SMALL_BUF - HDR;
	for (unsigned i = 0; i < 2; i++) {
		struct run rn = {
			.kind = K_PINGPONG, .links = 1, .payload = res->lat[i].payload,
			.buf_size = SMALL_BUF, .buf_count = SMALL_COUNT,
			.per_link = res->n_rt, .warmup = warm, .link_prefix = 'm',
		};
		char label[64];

		res->lat[i].n = res->n_rt;
		snprintf(label, sizeof(label), "round trips, %u bytes", rn.payload);
		run_pair(&rn, ONLY_LATENCY, label, &res->lat[i].x, &res->lat[i].r);
	}
}

/* One row: n messages in all, shared by the links (rounded up). */
static void plan_oneway(struct tp_row *t, unsigned big, unsigned links,
			uint64_t n)
{
	char label[64];
	struct run rn = {
		.kind = K_ONEWAY, .links = links,
		.buf_size = big ? BIG_BUF : SMALL_BUF,
		.buf_count = big ? BIG_COUNT : SMALL_COUNT,
		.per_link = div_up(n, links),
		.link_prefix = big ? 'g' : 'm',
	};

	rn.payload = rn.buf_size - HDR;
	t->payload = rn.payload;
	t->buf_size = rn.buf_size;
	t->buf_count = rn.buf_count;
	t->links = rn.links;
	t->total = rn.per_link * rn.links;
	snprintf(label, sizeof(label), "one-way, %u bytes, %u link%s",
		 rn.payload, rn.links, rn.links == 1 ? "" : "s");
	run_pair(&rn, big ? ONLY_BIG : ONLY_ONEWAY, label, &t->x, &t->r);
}

int plan_run(struct results *res)
{
	uint64_t n_big = B.messages / 20 ? B.messages / 20 : 1;
	struct run idle = { .kind = K_IDLE, .links = 1, .payload = 32,
			    .buf_size = SMALL_BUF, .buf_count = SMALL_COUNT };

	memset(res, 0, sizeof(*res));
	res->n_rt = B.messages / 20 ? B.messages / 20 : 1;
	res->tp = calloc(2 * B.nlinks, sizeof(*res->tp));
	if (res->tp == NULL)
		return -1;
	plan_latency(res);
	for (unsigned big = 0; big < 2; big++)
		for (unsigned i = 0; i < B.nlinks; i++)
			plan_oneway(&res->tp[res->ntp++], big, B.links[i],
				    big ? n_big : B.messages);
	run_pair(&idle, ONLY_IDLE, "idle", &res->idle_x, &res->idle_r);
	return 0;
}

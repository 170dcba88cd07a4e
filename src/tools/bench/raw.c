/* xenamp-bench: the raw baseline. Two processes share a memfd holding two
 * single-producer single-consumer rings of fixed-size slots (ring 0 from
 * process 0 to process 1, ring 1 back), and each sleeps on its own
 * eventfd. A side that finds its ring empty (or full) raises its
 * "waiting" flag, looks again, and only then blocks; the other side
 * writes the eventfd only when the flag is up, once per sleep. A side
 * loads its own index (head for the producer, tail for the consumer)
 * relaxed: nobody else writes it. Every other atomic is sequentially
 * consistent: the flag store and the second look must not be reordered,
 * or a wake-up is lost; this is a baseline, not a place to shave fences. */
#include <config.h>

#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include <errno.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"

/* One cache line per field that one side writes. */
struct raw_line {
	_Alignas(64) _Atomic uint32_t v;
};

struct raw_hdr {
	struct raw_line waiting[2];         /* process i sleeps on efd[i] */
	struct raw_line head[2], tail[2];   /* ring 0: 0 -> 1, ring 1: 1 -> 0 */
};

#define RAW_SLOTS_OFF 4096u

size_t raw_shm_size(uint32_t buf_size, uint32_t buf_count)
{
	return RAW_SLOTS_OFF + 2u * (size_t)buf_size * buf_count;
}

struct raw {
	struct raw_hdr *h;
	uint8_t *slots[2];
	uint32_t nslots, slot_size;
	int efd[2];
	unsigned me;
};

static void raw_signal(struct raw *c, unsigned who)
{
	/* Only when that side sleeps, and only once per sleep. */
	if (atomic_load(&c->h->waiting[who].v) &&
	    atomic_exchange(&c->h->waiting[who].v, 0)) {
		uint64_t one = 1;

		while (write(c->efd[who], &one, sizeof(one)) < 0 && errno == EINTR)
			;
		R_out.kicks++;   /* this baseline's notification */
	}
}

static bool raw_can_send(struct raw *c, unsigned ring)
{
	return atomic_load(&c->h->head[ring].v) -
	       atomic_load(&c->h->tail[ring].v) < c->nslots;
}

static bool raw_can_recv(struct raw *c, unsigned ring)
{
	return atomic_load(&c->h->head[ring].v) !=
	       atomic_load(&c->h->tail[ring].v);
}

/* Sleep on our eventfd until cond(ring) holds. */
static void raw_wait(struct raw *c, bool (*cond)(struct raw *, unsigned),
		     unsigned ring)
{
	while (!cond(c, ring)) {
		uint64_t v;

		atomic_store(&c->h->waiting[c->me].v, 1);
		if (!cond(c, ring)) {
			while (read(c->efd[c->me], &v, sizeof(v)) < 0 && errno == EINTR)
				;
		}
		atomic_store(&c->h->waiting[c->me].v, 0);
	}
}

static void raw_send(struct raw *c, unsigned ring, const void *data,
		     uint32_t len)
{
	uint32_t h;
	uint8_t *slot;

	raw_wait(c, raw_can_send, ring);
	h = atomic_load_explicit(&c->h->head[ring].v, memory_order_relaxed);
	slot = c->slots[ring] + (size_t)(h % c->nslots) * c->slot_size;
	memcpy(slot, &len, sizeof(len));
	memcpy(slot + HDR, data, len);
	atomic_store(&c->h->head[ring].v, h + 1);
	raw_signal(c, 1 - c->me);
}

/* The next message: pointer to its payload and length; call raw_done()
 * when finished with it. */
static const uint8_t *raw_peek(struct raw *c, unsigned ring, uint32_t *len)
{
	uint32_t t;
	const uint8_t *slot;

	raw_wait(c, raw_can_recv, ring);
	t = atomic_load_explicit(&c->h->tail[ring].v, memory_order_relaxed);
	slot = c->slots[ring] + (size_t)(t % c->nslots) * c->slot_size;
	memcpy(len, slot, sizeof(*len));
	return slot + HDR;
}

static void raw_done(struct raw *c, unsigned ring)
{
	uint32_t t = atomic_load_explicit(&c->h->tail[ring].v, memory_order_relaxed);

	atomic_store(&c->h->tail[ring].v, t + 1);
	raw_signal(c, 1 - c->me);
}

static void raw_attach(struct raw *c, const struct role *r)
{
	c->h = (struct raw_hdr *)r->shm;
	c->slots[0] = r->shm + RAW_SLOTS_OFF;
	c->slots[1] = c->slots[0] + (size_t)r->buf_size * r->buf_count;
	c->nslots = r->buf_count;
	c->slot_size = r->buf_size;
	c->efd[0] = r->efd[0];
	c->efd[1] = r->efd[1];
	c->me = r->role;
}

/* Sit in poll() on our eventfd, like an idle application, until "quit". */
static void raw_idle_loop(struct raw *c)
{
	for (;;) {
		struct pollfd pf[2] = {
			{ .fd = c->efd[c->me], .events = POLLIN },
			{ .fd = S.quit[0], .events = POLLIN },
		};

		if (poll(pf, 2, -1) < 0 && errno != EINTR)
			break;
		if (pf[1].revents)
			break;
	}
}

static void raw_send_all(struct raw *c, const struct role *r, uint8_t *buf)
{
	for (uint64_t i = 0; i < r->count; i++) {
		put_seq(buf, i);
		raw_send(c, 0, buf, r->payload);
		R_out.done++;
	}
	R_out.t_end = now_ns();
}

static void raw_receive_all(struct raw *c, const struct role *r)
{
	const uint8_t *p;
	uint32_t len;

	for (uint64_t i = 0; i < r->count; i++) {
		p = raw_peek(c, 0, &len);
		if (len != r->payload || get_seq(p) != i)
			R_out.bad++;
		else
			R_out.done++;
		raw_done(c, 0);
	}
	R_out.t_end = now_ns();
}

/* Copy each message from ring 0 straight into ring 1. */
static void raw_echo_all(struct raw *c, const struct role *r)
{
	const uint8_t *p;
	uint32_t len;

	for (uint64_t i = 0; i < r->warmup + r->count; i++) {
		p = raw_peek(c, 0, &len);
		raw_send(c, 1, p, len);
		raw_done(c, 0);
		R_out.done++;
	}
	R_out.t_end = now_ns();
}

static void raw_ping_all(struct raw *c, const struct role *r, uint8_t *buf,
			 uint64_t *samples)
{
	const uint8_t *p;
	uint32_t len;

	for (uint64_t i = 0; i < r->warmup + r->count; i++) {
		uint64_t t0 = now_ns();

		put_seq(buf, i);
		raw_send(c, 0, buf, r->payload);
		p = raw_peek(c, 1, &len);
		if (len != r->payload || get_seq(p) != i)
			R_out.bad++;
		else if (i >= r->warmup)
			R_out.done++;
		raw_done(c, 1);
		if (i >= r->warmup)
			samples[i - r->warmup] = now_ns() - t0;
	}
	R_out.t_end = now_ns();
	if (R_out.done == r->count && R_out.bad == 0)
		latency_stats(samples, r->count);
}

static void raw_measure(struct raw *c, const struct role *r, uint8_t *buf,
			uint64_t *samples)
{
	R_out.phase_msgs = r->kind == K_PINGPONG ? r->warmup + r->count : r->count;
	if (r->kind == K_ONEWAY && r->role == 0)
		raw_send_all(c, r, buf);
	else if (r->kind == K_ONEWAY)
		raw_receive_all(c, r);
	else if (r->role == 1)
		raw_echo_all(c, r);
	else
		raw_ping_all(c, r, buf, samples);
}

void raw_child(const struct role *r)
{
	bool client = r->kind == K_PINGPONG && r->role == 0;
	uint8_t *buf = calloc(1, r->payload);
	uint64_t *samples = NULL;
	struct raw c;

	raw_attach(&c, r);
	if (client)
		samples = calloc(r->count ? r->count : 1, sizeof(*samples));
	if (buf == NULL || (client && samples == NULL)) {
		child_fail("out of memory");
		child_ready();
		child_report();
	} else if (r->kind == K_IDLE) {
		child_ready();
		raw_idle_loop(&c);
		child_report();
	} else {
		child_ready();
		child_go();
		raw_measure(&c, r, buf, samples);
		child_finish();
	}
	free(buf);
	free(samples);
}

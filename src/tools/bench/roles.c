/* xenamp-bench: the xenamp children. Each one is a partition process that
 * opens its own device through libxenamp's public API and plays one role:
 * one-way sender or receiver, ping-pong client or echo server, or an idle
 * application sitting in its poll(xenamp_fd()) loop. */
#include <config.h>

#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <xenamp/xenamp.h>

#include "bench.h"

/* This child's device and what its callbacks count. */
static struct {
	struct xenamp_dev *dev;
	struct rpmsg_endpoint ept;
	const struct role *r;
	uint64_t expect;     /* next sequence number */
	uint64_t target;     /* messages to receive */
	uint64_t got, bad;
	uint64_t t_last;
	int echo_err;
	bool replied;
} X;

static int xa_open_retry(const char *name)
{
	struct xenamp_opts o;
	uint64_t deadline = now_ns() + 20ull * 1000000000ull;
	int r;

	memset(&o, 0, sizeof(o));
	o.transport = "local";
	o.socket_path = B.sock;
	o.connect_timeout_ms = 10000;
	o.poll_us = B.poll_us;
	/* The previous measurement's partition of the same name may not be
	 * gone from the backend yet ("already connected"): try again. */
	for (;;) {
		r = xenamp_open(name, 0, &o, &X.dev);
		if (r == 0)
			return 0;
		if (now_ns() > deadline) {
			child_fail("%s", xenamp_strerror_last());
			return r;
		}
		usleep(20000);
	}
}

/* One-way receiver and ping-pong client: count what arrives in order. */
static int sink_cb(struct rpmsg_endpoint *ept, void *data, size_t len,
		   uint32_t src, void *priv)
{
	(void)ept; (void)src; (void)priv;
	if (len != X.r->payload || get_seq(data) != X.expect)
		X.bad++;
	else
		X.got++;
	X.expect++;
	X.replied = true;
	if (X.got + X.bad == X.target)
		X.t_last = now_ns();
	return RPMSG_SUCCESS;
}

/* Ping-pong server: send every message back where it came from. */
static int echo_cb(struct rpmsg_endpoint *ept, void *data, size_t len,
		   uint32_t src, void *priv)
{
	int r;

	(void)priv;
	r = rpmsg_sendto(ept, data, (int)len, src);
	if (r != (int)len && X.echo_err == 0)
		X.echo_err = r;
	X.got++;
	return RPMSG_SUCCESS;
}

/* Dispatch until cond() holds; false on failure (reported). */
static bool xa_wait(bool (*cond)(void))
{
	uint64_t last = X.got + X.bad, t_prog = now_ns();

	while (!cond()) {
		int r = xenamp_dispatch(X.dev, 1000);

		if (r < 0) {
			child_fail("xenamp_dispatch: %s", xenamp_strerror_last());
			return false;
		}
		if (X.echo_err) {
			child_fail("echo send failed: error %d", X.echo_err);
			return false;
		}
		if (X.got + X.bad != last) {
			last = X.got + X.bad;
			t_prog = now_ns();
		} else if (now_ns() - t_prog > STALL_S * 1000000000ull) {
			child_fail("no message for %d s (%llu of %llu received)",
				   STALL_S, (unsigned long long)(X.got + X.bad),
				   (unsigned long long)X.target);
			return false;
		}
	}
	return true;
}

static bool all_in(void)
{
	return X.got + X.bad >= X.target;
}

static bool got_reply(void)
{
	return X.replied;
}

static bool is_client(const struct role *r)
{
	return r->kind == K_PINGPONG && r->role == 0;
}

/* The endpoint and the buffers of role r; false on failure (reported).
 * The ping-pong client also gets room for one sample per round trip. */
static bool xa_setup(const struct role *r, uint8_t **buf, uint64_t **samples)
{
	rpmsg_ept_cb cb = r->kind == K_PINGPONG && r->role == 1 ? echo_cb : sink_cb;
	int rc;

	if (r->kind == K_IDLE) {
		/* A named endpoint, announced and bound through the name
		 * service, as an application would have. */
		rc = rpmsg_create_ept(&X.ept, xenamp_rpmsg_dev(X.dev), "bench-idle",
				      RPMSG_ADDR_ANY, RPMSG_ADDR_ANY, sink_cb, NULL);
	} else {
		rc = rpmsg_create_ept(&X.ept, xenamp_rpmsg_dev(X.dev), "",
				      EPT_ADDR, EPT_ADDR, cb, NULL);
	}
	if (rc != 0) {
		child_fail("rpmsg_create_ept: error %d", rc);
		return false;
	}
	if (rpmsg_get_tx_buffer_size(&X.ept) < (int)r->payload) {
		child_fail("payload %u larger than the link's %d", r->payload,
			   rpmsg_get_tx_buffer_size(&X.ept));
		return false;
	}
	*buf = calloc(1, r->payload);
	if (is_client(r))
		*samples = calloc(r->count ? r->count : 1, sizeof(**samples));
	if (*buf == NULL || (is_client(r) && *samples == NULL)) {
		child_fail("out of memory");
		return false;
	}
	return true;
}

/* The application's own event loop on xenamp_fd(), until "quit". */
static void xa_idle_loop(void)
{
	for (;;) {
		struct pollfd p[2] = {
			{ .fd = xenamp_fd(X.dev), .events = POLLIN },
			{ .fd = S.quit[0], .events = POLLIN },
		};

		if (poll(p, 2, -1) < 0 && errno != EINTR) {
			child_fail("poll: %s", strerror(errno));
			break;
		}
		if (p[1].revents)
			break;
		if (p[0].revents && xenamp_dispatch(X.dev, 0) < 0) {
			child_fail("xenamp_dispatch: %s", xenamp_strerror_last());
			break;
		}
	}
}

static void xa_send_all(const struct role *r, uint8_t *buf)
{
	for (uint64_t i = 0; i < r->count; i++) {
		int rc;

		put_seq(buf, i);
		rc = rpmsg_send(&X.ept, buf, (int)r->payload);
		if (rc != (int)r->payload) {
			child_fail("rpmsg_send of message %llu: error %d",
				   (unsigned long long)i, rc);
			break;
		}
		R_out.done++;
	}
	R_out.t_end = now_ns();
}

/* The end of the phase is the last message's arrival, not the moment
 * the loop noticed it. */
static void xa_receive_all(const struct role *r)
{
	X.target = r->count;
	(void)xa_wait(all_in);
	R_out.done = X.got;
	R_out.bad = X.bad;
	R_out.t_end = X.t_last ? X.t_last : now_ns();
}

static void xa_echo_all(const struct role *r)
{
	X.target = r->warmup + r->count;
	(void)xa_wait(all_in);
	R_out.done = X.got;
	R_out.t_end = now_ns();
}

/* One message out, wait for it to come back, time it; the first
 * r->warmup round trips are not sampled. */
static void xa_ping_all(const struct role *r, uint8_t *buf, uint64_t *samples)
{
	uint64_t total = r->warmup + r->count;

	X.target = total;
	for (uint64_t i = 0; i < total; i++) {
		uint64_t t0 = now_ns();
		int rc;

		put_seq(buf, i);
		X.replied = false;
		rc = rpmsg_send(&X.ept, buf, (int)r->payload);
		if (rc != (int)r->payload) {
			child_fail("rpmsg_send of round trip %llu: error %d",
				   (unsigned long long)i, rc);
			break;
		}
		if (!xa_wait(got_reply))
			break;
		if (i >= r->warmup)
			samples[i - r->warmup] = now_ns() - t0;
	}
	R_out.done = X.got >= r->warmup ? X.got - r->warmup : 0;
	R_out.bad = X.bad;
	R_out.t_end = now_ns();
	if (R_out.done == r->count && X.bad == 0)
		latency_stats(samples, r->count);
}

/* The device's notification counters over the measured phase. */
static void xa_count(const struct xenamp_stats *before)
{
	struct xenamp_stats after;

	if (xenamp_get_stats(X.dev, &after) != 0)
		return;
	R_out.kicks = after.kicks - before->kicks;
	R_out.calls = after.calls - before->calls;
}

static void xa_measure(const struct role *r, uint8_t *buf, uint64_t *samples)
{
	R_out.phase_msgs = r->kind == K_PINGPONG ? r->warmup + r->count : r->count;
	if (r->kind == K_ONEWAY && r->role == 0)
		xa_send_all(r, buf);
	else if (r->kind == K_ONEWAY)
		xa_receive_all(r);
	else if (r->role == 1)
		xa_echo_all(r);
	else
		xa_ping_all(r, buf, samples);
}

void xa_child(const struct role *r)
{
	uint8_t *buf = NULL;
	uint64_t *samples = NULL;

	X.r = r;
	if (xa_open_retry(r->name) != 0) {
		child_ready();
		child_report();
		return;
	}
	if (!xa_setup(r, &buf, &samples)) {
		child_ready();
		child_report();
	} else if (r->kind == K_IDLE) {
		child_ready();
		xa_idle_loop();
		child_report();
	} else {
		struct xenamp_stats st0;

		memset(&st0, 0, sizeof(st0));
		child_ready();
		(void)xenamp_get_stats(X.dev, &st0);
		child_go();
		xa_measure(r, buf, samples);
		xa_count(&st0);
		child_finish();
	}
	free(buf);
	free(samples);
	if (X.ept.rdev != NULL)
		rpmsg_destroy_ept(&X.ept);
	xenamp_close(X.dev);
}

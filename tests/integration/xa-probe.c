/* xa-probe: one partition program with several behaviours, used by the
 * integration tests to observe libxenamp and the backend from the outside.
 * Every mode prints machine-readable result lines the test scripts assert on.
 *
 *   xa-probe -p PART watch  -N NAME [-e EVENTS]     print "bound ADDR" / "unbound"
 *   xa-probe -p PART sink   -N NAME -c COUNT [--pause-after K --pause-ms MS]
 *   xa-probe -p PART source -N NAME -c COUNT [--try] [--rate MSGS_PER_S]
 *   xa-probe -p PART zerocopy -c COUNT              against the echo service
 *
 * Exit status: 0 when the mode's checks held, 1 when they did not, 2 on
 * usage errors, 3 when the device could not be opened. */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <xenamp/rpmsg.h>
#include <xenamp/xenamp.h>

struct probe {
	struct xenamp_dev *dev;
	struct rpmsg_endpoint ept;
	const char *name;
	long count;
	long pause_after;
	long pause_ms;
	long events;
	long rate;          /* source: messages per second, 0 = unpaced */
	bool use_try;
	/* state */
	long received;
	long out_of_order;
	long duplicates;
	uint32_t next_seq;
	long events_seen;
	bool unbound;
	/* zero-copy */
	void *held[64];
	int nheld;
	long zc_mismatch;
};

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static void on_unbind(struct rpmsg_endpoint *ept)
{
	struct probe *p = ept->priv;
	printf("unbound\n");
	fflush(stdout);
	p->unbound = true;
	p->events_seen++;
}

static int on_msg_ignore(struct rpmsg_endpoint *ept, void *data, size_t len,
			 uint32_t src, void *priv)
{
	(void)ept; (void)data; (void)len; (void)src; (void)priv;
	return RPMSG_SUCCESS;
}

static int on_msg_sink(struct rpmsg_endpoint *ept, void *data, size_t len,
		       uint32_t src, void *priv)
{
	struct probe *p = priv;
	uint32_t seq;
	(void)ept; (void)src;
	if (len < sizeof(seq)) {
		p->out_of_order++;
		return RPMSG_SUCCESS;
	}
	memcpy(&seq, data, sizeof(seq));
	if (seq < p->next_seq)
		p->duplicates++;
	else if (seq > p->next_seq)
		p->out_of_order++;
	if (seq >= p->next_seq)
		p->next_seq = seq + 1;
	p->received++;
	return RPMSG_SUCCESS;
}

static void fill_pattern(uint8_t *buf, size_t len, uint32_t seq)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)(seq * 31u + i * 7u);
}

static int on_msg_zc(struct rpmsg_endpoint *ept, void *data, size_t len,
		     uint32_t src, void *priv)
{
	struct probe *p = priv;
	(void)src;
	/* Keep the buffer out of the ring until the main loop checks it. */
	if (p->nheld < (int)(sizeof(p->held) / sizeof(p->held[0]))) {
		rpmsg_hold_rx_buffer(ept, data);
		p->held[p->nheld++] = data;
	}
	(void)len;
	p->received++;
	return RPMSG_SUCCESS;
}

static int wait_ready(struct probe *p, int timeout_ms)
{
	double end = now_ms() + timeout_ms;
	while (!is_rpmsg_ept_ready(&p->ept)) {
		if (now_ms() > end)
			return -1;
		if (xenamp_dispatch(p->dev, 100) < 0)
			return -1;
	}
	return 0;
}

static int mode_watch(struct probe *p)
{
	bool was_ready = false;
	double end = now_ms() + 120000;
	while (p->events_seen < p->events && now_ms() < end) {
		int r = xenamp_dispatch(p->dev, 100);
		if (r < 0) {
			fprintf(stderr, "xa-probe: dispatch: %d\n", r);
			return 1;
		}
		bool ready = is_rpmsg_ept_ready(&p->ept);
		if (ready && !was_ready) {
			printf("bound %u\n", p->ept.dest_addr);
			fflush(stdout);
			p->events_seen++;
		}
		was_ready = ready;
	}
	return p->events_seen >= p->events ? 0 : 1;
}

static int mode_sink(struct probe *p)
{
	double end = now_ms() + 300000;
	bool paused = false;
	while (p->received < p->count && now_ms() < end) {
		if (!paused && p->pause_after > 0 && p->received >= p->pause_after) {
			printf("pausing %ld ms after %ld messages\n", p->pause_ms, p->received);
			fflush(stdout);
			sleep_ms(p->pause_ms);
			paused = true;
			printf("resumed\n");
			fflush(stdout);
		}
		int r = xenamp_dispatch(p->dev, 100);
		if (r < 0) {
			fprintf(stderr, "xa-probe: dispatch: %d\n", r);
			break;
		}
	}
	/* Give a duplicate a chance to show up. */
	for (int i = 0; i < 5; i++)
		xenamp_dispatch(p->dev, 20);
	printf("received %ld out-of-order %ld duplicates %ld missing %ld\n", p->received,
	       p->out_of_order, p->duplicates, p->count - (long)p->next_seq);
	return p->received == p->count && p->out_of_order == 0 && p->duplicates == 0 &&
	       (long)p->next_seq == p->count ? 0 : 1;
}

static int mode_source(struct probe *p)
{
	uint8_t msg[64];
	long nobuff = 0;
	double blocked_max = 0;
	if (wait_ready(p, 30000)) {
		fprintf(stderr, "xa-probe: no peer bound to '%s' within 30 s\n", p->name);
		return 1;
	}
	double t_start = now_ms();
	for (uint32_t seq = 0; seq < (uint32_t)p->count; seq++) {
		if (p->rate > 0 && seq % 64 == 0) {
			double due = t_start + seq * 1000.0 / p->rate;
			if (due > now_ms() + 1)
				sleep_ms((long)(due - now_ms()));
		}
		memset(msg, 0, sizeof(msg));
		memcpy(msg, &seq, sizeof(seq));
		double t0 = now_ms();
		int r;
		for (;;) {
			r = p->use_try ? rpmsg_trysend(&p->ept, msg, sizeof(msg))
				       : rpmsg_send(&p->ept, msg, sizeof(msg));
			if (r == RPMSG_ERR_NO_BUFF && p->use_try) {
				nobuff++;
				xenamp_dispatch(p->dev, 10);
				continue;
			}
			break;
		}
		double dt = now_ms() - t0;
		if (dt > blocked_max)
			blocked_max = dt;
		if (r < 0) {
			fprintf(stderr, "xa-probe: send %u failed: %d\n", seq, r);
			printf("sent %u nobuff %ld blocked-max-ms %.0f\n", seq, nobuff, blocked_max);
			return 1;
		}
	}
	printf("sent %ld nobuff %ld blocked-max-ms %.0f\n", p->count, nobuff, blocked_max);
	return 0;
}

static int mode_zerocopy(struct probe *p)
{
	long sent = 0, checked = 0, released_unsent = 0;
	if (wait_ready(p, 30000)) {
		fprintf(stderr, "xa-probe: echo service not bound within 30 s\n");
		return 1;
	}
	for (uint32_t seq = 0; seq < (uint32_t)p->count; seq++) {
		uint32_t cap = 0;
		uint8_t *buf = rpmsg_get_tx_payload_buffer(&p->ept, &cap, 1);
		if (!buf || cap < 64) {
			fprintf(stderr, "xa-probe: no tx payload buffer (cap %u)\n", cap);
			return 1;
		}
		if (seq % 10 == 9) {
			/* An unsent buffer goes back to the pool. */
			if (rpmsg_release_tx_buffer(&p->ept, buf) != RPMSG_SUCCESS) {
				fprintf(stderr, "xa-probe: release_tx_buffer failed\n");
				return 1;
			}
			released_unsent++;
			continue;
		}
		size_t len = 1 + seq % cap;
		fill_pattern(buf, len, seq);
		int r = rpmsg_send_nocopy(&p->ept, buf, (int)len);
		if (r != (int)len) {
			fprintf(stderr, "xa-probe: send_nocopy returned %d, want %zu\n", r, len);
			return 1;
		}
		sent++;
		long before = p->received;
		double end = now_ms() + 10000;
		while (p->received == before && now_ms() < end)
			xenamp_dispatch(p->dev, 50);
		if (p->received == before) {
			fprintf(stderr, "xa-probe: no echo for message %u\n", seq);
			return 1;
		}
		/* The held buffer must still hold the echo after the callback
		 * returned: compare, then release it back to the ring. */
		uint8_t want[512];
		fill_pattern(want, len, seq);
		void *held = p->held[--p->nheld];
		if (memcmp(held, want, len) != 0)
			p->zc_mismatch++;
		rpmsg_release_rx_buffer(&p->ept, held);
		checked++;
	}
	printf("zerocopy sent %ld checked %ld mismatches %ld released-unsent %ld\n", sent,
	       checked, p->zc_mismatch, released_unsent);
	return p->zc_mismatch == 0 && checked == sent ? 0 : 1;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: xa-probe -p PARTITION MODE [options]\n"
		   "modes: watch, sink, source, zerocopy\n"
		   "options: -N NAME  -c COUNT  -e EVENTS  --pause-after K  --pause-ms MS  --try  --rate N\n");
}

int main(int argc, char **argv)
{
	struct probe p = { .name = "rpmsg-echo", .count = 100, .events = 1, .pause_ms = 2000 };
	const char *partition = NULL;
	static const struct option opts[] = {
		{ "partition", required_argument, NULL, 'p' },
		{ "name", required_argument, NULL, 'N' },
		{ "count", required_argument, NULL, 'c' },
		{ "events", required_argument, NULL, 'e' },
		{ "pause-after", required_argument, NULL, 'a' },
		{ "pause-ms", required_argument, NULL, 'm' },
		{ "try", no_argument, NULL, 't' },
		{ "rate", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int c;
	while ((c = getopt_long(argc, argv, "p:N:c:e:h", opts, NULL)) != -1) {
		switch (c) {
		case 'p': partition = optarg; break;
		case 'N': p.name = optarg; break;
		case 'c': p.count = atol(optarg); break;
		case 'e': p.events = atol(optarg); break;
		case 'a': p.pause_after = atol(optarg); break;
		case 'm': p.pause_ms = atol(optarg); break;
		case 't': p.use_try = true; break;
		case 'r': p.rate = atol(optarg); break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc - 1) {
		usage(stderr);
		return 2;
	}
	const char *mode = argv[optind];
	setvbuf(stdout, NULL, _IOLBF, 0);

	int r = xenamp_open(partition, 0, NULL, &p.dev);
	if (r) {
		fprintf(stderr, "xa-probe: %s\n", xenamp_strerror_last());
		return 3;
	}
	rpmsg_ept_cb cb = on_msg_ignore;
	if (!strcmp(mode, "sink"))
		cb = on_msg_sink;
	else if (!strcmp(mode, "zerocopy"))
		cb = on_msg_zc;
	r = rpmsg_create_ept(&p.ept, xenamp_rpmsg_dev(p.dev), p.name, RPMSG_ADDR_ANY,
			     RPMSG_ADDR_ANY, cb, on_unbind);
	if (r) {
		fprintf(stderr, "xa-probe: rpmsg_create_ept: %d\n", r);
		xenamp_close(p.dev);
		return 1;
	}
	p.ept.priv = &p;

	int rc;
	if (!strcmp(mode, "watch"))
		rc = mode_watch(&p);
	else if (!strcmp(mode, "sink"))
		rc = mode_sink(&p);
	else if (!strcmp(mode, "source"))
		rc = mode_source(&p);
	else if (!strcmp(mode, "zerocopy"))
		rc = mode_zerocopy(&p);
	else {
		usage(stderr);
		rc = 2;
	}
	rpmsg_destroy_ept(&p.ept);
	xenamp_close(p.dev);
	return rc;
}

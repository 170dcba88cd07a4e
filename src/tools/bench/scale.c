/* xenamp-bench --scale: the backend's own cost per link. The number of
 * partition processes is fixed (one sender, one receiver), so what grows
 * with the links is the relay's work and not the scheduler's: each
 * process opens devices 0..N-1 of its partition (scs, scr; links c0..),
 * the sender sends 496-byte messages round-robin over them, the receiver
 * waits on all of them with epoll and checks every message's sequence
 * number per link. Figures: the backend's CPU per message (exact, from
 * /proc/PID/schedstat: its event loop is its only thread here), its
 * ratio to one link, notifications per message, the backend's memory per
 * connected link (VmRSS and Pss before the idle links' devices were
 * opened and once all were connected, on a fresh backend), and the CPU of the backend with --idle-links
 * connected idle links over --seconds. */
#include <config.h>

#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <unistd.h>

#include <xenamp/xenamp.h>

#include "bench.h"

/* ------------------------------------------------------------------ */
/* Child: one process, r->ndev devices                                 */

struct mdev {
	struct xenamp_dev *dev;
	struct rpmsg_endpoint ept;
	uint64_t seq;                /* next to send / expected */
};

static struct {
	const struct role *r;
	struct mdev *d;
	uint64_t got, bad, t_last;
} M;

static int m_cb(struct rpmsg_endpoint *ept, void *data, size_t len,
		uint32_t src, void *priv)
{
	struct mdev *d = (struct mdev *)(void *)((char *)ept - offsetof(struct mdev, ept));

	(void)src; (void)priv;
	if (len != M.r->payload || get_seq(data) != d->seq)
		M.bad++;
	else
		M.got++;
	d->seq++;
	if (M.got + M.bad == M.r->count)
		M.t_last = now_ns();
	return RPMSG_SUCCESS;
}

/* 1,024 devices hold a few thousand descriptors: take the hard limit. */
static void raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
}

/* Open every device (again while a previous measurement's process of
 * the same name is still leaving) and its endpoint; false on failure. */
static bool m_open(const struct role *r)
{
	struct xenamp_opts o;

	memset(&o, 0, sizeof(o));
	o.transport = "local";
	o.socket_path = B.sock;
	o.connect_timeout_ms = 10000;
	for (unsigned i = 0; i < r->ndev; i++) {
		uint64_t deadline = now_ns() + 20ull * 1000000000ull;

		while (xenamp_open(r->name, i, &o, &M.d[i].dev) != 0) {
			if (now_ns() > deadline) {
				child_fail("device %u of %s: %s", i, r->name, xenamp_strerror_last());
				return false;
			}
			usleep(20000);
		}
		if (rpmsg_create_ept(&M.d[i].ept, xenamp_rpmsg_dev(M.d[i].dev), "",
				     EPT_ADDR, EPT_ADDR, m_cb, NULL) != 0) {
			child_fail("device %u: rpmsg_create_ept failed", i);
			return false;
		}
	}
	return true;
}

static void m_send_all(const struct role *r, uint8_t *buf)
{
	for (uint64_t i = 0; i < r->count; i++) {
		struct mdev *d = &M.d[i % r->active];
		int rc;

		put_seq(buf, d->seq++);
		rc = rpmsg_send(&d->ept, buf, (int)r->payload);
		if (rc != (int)r->payload) {
			child_fail("rpmsg_send of message %llu: error %d", (unsigned long long)i, rc);
			break;
		}
		R_out.done++;
	}
	R_out.t_end = now_ns();
}

/* Dispatch the devices epoll says are ready until `until` holds or the
 * quit pipe (in ep as data.u32 = ndev) closes; false on failure. */
static bool m_loop(int ep, bool receive)
{
	uint64_t last = 0, t_prog = now_ns();

	while (!receive || M.got + M.bad < M.r->count) {
		struct epoll_event ev[64];
		int n = epoll_wait(ep, ev, 64, 1000);

		if (n < 0 && errno != EINTR) {
			child_fail("epoll_wait: %s", strerror(errno));
			return false;
		}
		for (int i = 0; i < n; i++) {
			if (ev[i].data.u32 == M.r->ndev)
				return true;   /* quit */
			if (xenamp_dispatch(M.d[ev[i].data.u32].dev, 0) < 0) {
				child_fail("xenamp_dispatch: %s", xenamp_strerror_last());
				return false;
			}
		}
		if (M.got + M.bad != last) {
			last = M.got + M.bad;
			t_prog = now_ns();
		} else if (receive && now_ns() - t_prog > STALL_S * 1000000000ull) {
			child_fail("no message for %d s (%llu of %llu received)", STALL_S,
				   (unsigned long long)last, (unsigned long long)M.r->count);
			return false;
		}
	}
	return true;
}

static int m_epoll(const struct role *r, bool with_quit)
{
	int ep = epoll_create1(EPOLL_CLOEXEC);

	for (unsigned i = 0; ep >= 0 && i <= r->ndev; i++) {
		struct epoll_event ev = { .events = EPOLLIN, .data.u32 = i };
		int fd = i < r->ndev ? xenamp_fd(M.d[i].dev) : S.quit[0];

		if (i == r->ndev && !with_quit)
			break;
		if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
			child_fail("epoll_ctl: %s", strerror(errno));
			close(ep);
			return -1;
		}
	}
	if (ep < 0)
		child_fail("epoll_create1: %s", strerror(errno));
	return ep;
}

/* The devices' notification counters summed: kicks sent, calls taken. */
static void m_counts(uint64_t *kicks, uint64_t *calls)
{
	struct xenamp_stats st;

	*kicks = *calls = 0;
	for (unsigned i = 0; i < M.r->ndev; i++)
		if (xenamp_get_stats(M.d[i].dev, &st) == 0) {
			*kicks += st.kicks;
			*calls += st.calls;
		}
}

static void m_measure(const struct role *r, uint8_t *buf)
{
	int ep = r->role == 1 || r->kind == K_IDLE ? m_epoll(r, r->kind == K_IDLE) : -1;
	uint64_t k0, c0, k1, c1;

	child_ready();
	if (r->kind == K_IDLE) {
		if (ep >= 0)
			(void)m_loop(ep, false);
		child_report();
	} else {
		m_counts(&k0, &c0);
		child_go();
		R_out.phase_msgs = r->count;
		if (r->role == 0) {
			m_send_all(r, buf);
		} else if (ep >= 0 && m_loop(ep, true)) {
			R_out.done = M.got;
			R_out.bad = M.bad;
			R_out.t_end = M.t_last ? M.t_last : now_ns();
		}
		m_counts(&k1, &c1);
		R_out.kicks = k1 - k0;
		R_out.calls = c1 - c0;
		child_finish();
	}
	if (ep >= 0)
		close(ep);
}

void xa_multi_child(const struct role *r)
{
	uint8_t *buf = calloc(1, r->payload);

	M.r = r;
	M.d = calloc(r->ndev, sizeof(*M.d));
	raise_nofile();
	if (buf == NULL || M.d == NULL) {
		child_fail("out of memory");
		child_ready();
		child_report();
	} else if (!m_open(r)) {
		child_ready();
		child_report();
	} else {
		m_measure(r, buf);
	}
	for (unsigned i = 0; M.d != NULL && i < r->ndev; i++) {
		if (M.d[i].ept.rdev != NULL)
			rpmsg_destroy_ept(&M.d[i].ept);
		if (M.d[i].dev != NULL)
			xenamp_close(M.d[i].dev);
	}
	free(M.d);
	free(buf);
}

/* ------------------------------------------------------------------ */
/* Parent: the measurements and the report                             */

static long long status_kib(pid_t pid, const char *file, const char *key)
{
	char path[64], line[256];
	size_t kl = strlen(key);
	long long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%ld/%s", (long)pid, file);
	f = fopen(path, "re");
	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, key, kl) == 0 && sscanf(line + kl, " %lld", &v) == 1)
			break;
	fclose(f);
	return v;
}

void backend_mem(long long *rss_kib, long long *pss_kib)
{
	*rss_kib = status_kib(B.backend_pid, "status", "VmRSS:");
	*pss_kib = status_kib(B.backend_pid, "smaps_rollup", "Pss:");
}

struct scale_row {
	unsigned links, active;
	struct outcome o;
};

/* ns per message of the backend; < 0 when unknown */
static double be_ns_msg(const struct outcome *o)
{
	return o->run_be_ok && o->received ? (double)o->run_be_ns / (double)o->received : -1;
}

static double per_link(long long a, long long b, unsigned links)
{
	return a >= 0 && b >= 0 && links ? (double)(b - a) / links : -1;
}

/* A row's outcome is a failure when messages were lost or an end did
 * not connect. */
static void scale_check(struct outcome *o, unsigned links, bool idle)
{
	if (o->ok && o->connected != 2 * links)
		fail(o, "%u of %u ends connected", o->connected, 2 * links);
	if (o->ok && !idle && o->received != B.messages)
		fail(o, "%llu of %lu messages arrived", (unsigned long long)o->received, B.messages);
}

/* Until the backend has closed every end of the previous measurement
 * (1,024 links take it a while): its CPU for that must not be counted
 * in the next one. */
static void wait_closed(void)
{
	for (int i = 0; i < 300 && backend_connected_ends("sc") > 0; i++)
		usleep(100000);
	usleep(200000);
}

/* The idle links first, on a fresh backend: its memory delta is then
 * what the links take, not heap that earlier measurements left free. */
static void scale_run(struct scale_row *rows, struct outcome *idle)
{
	struct run in = {
		.sys = SYS_XENAMP, .kind = K_IDLE, .links = 1, .payload = 32,
		.buf_size = SCALE_BUF, .buf_count = SCALE_COUNT,
		.link_prefix = 'c', .ndev = B.idle_links,
	};

	say("scale: %u idle links", B.idle_links);
	run_one(&in, idle);
	scale_check(idle, B.idle_links, true);
	for (unsigned i = 0; i < B.nlinks; i++) {
		struct run rn = {
			.sys = SYS_XENAMP, .kind = K_ONEWAY, .links = 1,
			.payload = SCALE_BUF - HDR, .buf_size = SCALE_BUF,
			.buf_count = SCALE_COUNT, .per_link = B.messages,
			.link_prefix = 'c', .ndev = B.links[i],
		};

		say("scale: %u links", B.links[i]);
		wait_closed();
		rows[i].links = rows[i].active = B.links[i];
		run_one(&rn, &rows[i].o);
		scale_check(&rows[i].o, B.links[i], false);
	}
	{
		/* What the other links cost while they are connected but
		 * quiet: every message on link 0 of --idle-links. */
		struct run rn = {
			.sys = SYS_XENAMP, .kind = K_ONEWAY, .links = 1,
			.payload = SCALE_BUF - HDR, .buf_size = SCALE_BUF,
			.buf_count = SCALE_COUNT, .per_link = B.messages,
			.link_prefix = 'c', .ndev = B.idle_links, .active = 1,
		};
		struct scale_row *q = &rows[B.nlinks];

		say("scale: 1 active of %u links", B.idle_links);
		wait_closed();
		q->links = B.idle_links;
		q->active = 1;
		run_one(&rn, &q->o);
		scale_check(&q->o, B.idle_links, false);
	}
}

static double notif_msg(const struct outcome *o)
{
	return o->calls_ok && o->phase_msgs ?
	       (double)(o->kicks_part + o->calls_be) / (double)o->phase_msgs : -1;
}

static void scale_text(const struct scale_row *rows, const struct outcome *idle,
		       double ratio, bool idle_met)
{
	double base = be_ns_msg(&rows[0].o);

	printf("xenamp-bench %s --scale: the backend's own cost per link, local mode, %ld CPUs\n",
	       PACKAGE_VERSION, sysconf(_SC_NPROCESSORS_ONLN));
	printf("One sender and one receiver process, each opening N devices (links of %u x %u);\n"
	       "%lu messages of %u B round-robin over the links. Backend CPU: /proc/PID/schedstat.\n\n",
	       SCALE_BUF, SCALE_COUNT, B.messages, SCALE_BUF - HDR);
	printf("  links (active)  connected  backend ns/msg  vs 1 link  partitions ns/msg  notif/msg  wall s\n");
	for (unsigned i = 0; i <= B.nlinks; i++) {
		const struct outcome *o = &rows[i].o;
		double b = be_ns_msg(o);

		if (!o->ok) {
			printf("  %5u (%5u)  FAILED: %s\n", rows[i].links, rows[i].active, o->err);
			continue;
		}
		printf("  %5u (%5u)  %9u  %14.0f  %8.2fx  %17.0f  %9.3f  %6.2f\n",
		       rows[i].links, rows[i].active, o->connected, b, base > 0 && b >= 0 ? b / base : 0,
		       (double)o->cpu_part_ns / (double)o->received, notif_msg(o),
		       (double)(o->t1 - o->t0) / 1e9);
	}
	if (idle->ok)
		printf("\nIdle (measured first, fresh backend): %u links connected (%u ends); backend memory per link: RSS %.1f KiB, PSS %.1f KiB;\n"
		       "  backend %.3f ms CPU in %.1f s (%.4f %% of a CPU; %.0f ms in clock ticks)\n",
		       B.idle_links, idle->connected,
		       per_link(idle->rss0, idle->rss1, B.idle_links),
		       per_link(idle->pss0, idle->pss1, B.idle_links),
		       (double)idle->run_be_ns / 1e6, B.idle_s,
		       (double)idle->run_be_ns / 1e7 / B.idle_s, idle->idle_be_ms);
	else
		printf("\nIdle: %u links: FAILED: %s\n", B.idle_links, idle->err);
	printf("\nTargets\n");
	printf("  backend CPU per message, %u links / 1 link  %8.3f   goal <= 1.25: %s\n",
	       rows[B.nlinks - 1].links, ratio, ratio > 0 && ratio <= 1.25 ? "met" : "MISSED");
	printf("  ... 1 active of %u connected / 1 link      %8.3f   (the quiet links' cost)\n",
	       B.idle_links, base > 0 && be_ns_msg(&rows[B.nlinks].o) >= 0 ?
	       be_ns_msg(&rows[B.nlinks].o) / base : 0);
	printf("  idle backend, %u links, %% of one CPU      %8.3f   goal 0 (at most 1 clock tick): %s\n",
	       B.idle_links, (double)idle->run_be_ns / 1e7 / B.idle_s, idle_met ? "met" : "MISSED");
}

static void scale_json(const struct scale_row *rows, const struct outcome *idle,
		       double ratio, bool idle_met)
{
	printf("{\n  \"mode\": \"scale\",\n  \"messages\": %lu,\n  \"payload\": %u,\n  \"rows\": [\n",
	       B.messages, SCALE_BUF - HDR);
	for (unsigned i = 0; i <= B.nlinks; i++) {
		const struct outcome *o = &rows[i].o;

		printf("    {\"links\": %u, \"active\": %u, \"ok\": %s, \"connected\": %u, \"received\": %llu, "
		       "\"backend_ns_per_msg\": %.1f, \"partitions_ns_per_msg\": %.1f, "
		       "\"notifications_per_msg\": %.4f, \"seconds\": %.3f}%s\n",
		       rows[i].links, rows[i].active, o->ok ? "true" : "false", o->connected,
		       (unsigned long long)o->received, be_ns_msg(o),
		       o->received ? (double)o->cpu_part_ns / (double)o->received : -1,
		       notif_msg(o), o->ok ? (double)(o->t1 - o->t0) / 1e9 : 0, i < B.nlinks ? "," : "");
	}
	printf("  ],\n  \"idle\": {\"links\": %u, \"ok\": %s, \"connected\": %u, \"seconds\": %.1f, "
	       "\"backend_cpu_ms\": %.3f, \"backend_tick_ms\": %.0f, \"rss_kib_per_link\": %.2f, "
	       "\"pss_kib_per_link\": %.2f},\n",
	       B.idle_links, idle->ok ? "true" : "false", idle->connected, B.idle_s,
	       (double)idle->run_be_ns / 1e6, idle->idle_be_ms,
	       per_link(idle->rss0, idle->rss1, B.idle_links),
	       per_link(idle->pss0, idle->pss1, B.idle_links));
	printf("  \"targets\": {\"cpu_per_msg_ratio\": %.3f, \"cpu_per_msg_flat_met\": %s, "
	       "\"idle_met\": %s}\n}\n", ratio, ratio > 0 && ratio <= 1.25 ? "true" : "false",
	       idle_met ? "true" : "false");
}

int scale_main(void)
{
	struct scale_row *rows = calloc(B.nlinks + 1, sizeof(*rows));
	struct outcome idle;
	double b0, bn, ratio;
	bool ok = true, idle_met;

	if (rows == NULL)
		return EX_FAIL;
	scale_run(rows, &idle);
	for (unsigned i = 0; i <= B.nlinks; i++)
		if (!rows[i].o.ok) {
			fprintf(stderr, "xenamp-bench: scale, %u links: %s\n", rows[i].links, rows[i].o.err);
			ok = false;
		}
	if (!idle.ok) {
		fprintf(stderr, "xenamp-bench: scale, %u idle links: %s\n", B.idle_links, idle.err);
		ok = false;
	}
	b0 = be_ns_msg(&rows[0].o);
	bn = be_ns_msg(&rows[B.nlinks - 1].o);
	ratio = b0 > 0 && bn >= 0 ? bn / b0 : 0;
	/* The tick clock of /proc/PID/stat, as the main run's idle target:
	 * a tick may fall in the window by chance. */
	idle_met = idle.ok && idle.idle_be_ms <= 1000.0 / (double)B.clk_tck;
	if (B.json)
		scale_json(rows, &idle, ratio, idle_met);
	else
		scale_text(rows, &idle, ratio, idle_met);
	free(rows);
	return ok ? EX_OK : EX_FAIL;
}

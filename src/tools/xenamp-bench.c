/* xenamp-bench: what xenamp costs, measured against a raw baseline in the
 * same run (docs/design.md#tests; docs/performance.md has the results and
 * targets).
 *
 * xenamp side: local mode through a real xenamp-backend process, as users
 * run it. The program writes a configuration into a private directory,
 * starts the backend on a private socket, and for every measurement forks
 * the partitions as separate processes; each opens its own xenamp device
 * (libxenamp, the public API only), so every message goes
 * partition -> backend (relay) -> partition.
 *
 * Raw baseline: two processes sharing a memfd that holds single-producer
 * single-consumer rings of fixed-size slots (slot size and count equal to
 * the link's buf-size and buf-count), one eventfd per process to wake it.
 * A process that finds its ring empty (or full) raises its "waiting" flag,
 * looks again and blocks in read() on its eventfd; the other side writes
 * that eventfd only when the flag is up (the same notification suppression
 * the virtio rings use). No backend, no copy other than into the slot.
 *
 * Measurements (each one for xenamp and for raw, interleaved):
 *   - round-trip latency, 32 and 496 bytes: median, p99, mean;
 *   - one-way throughput, 496 bytes (buf-size 512) and 65520 bytes
 *     (buf-size 65536), with 1, 4, 16, 64 links at once (one sender and
 *     one receiver process per link): aggregate messages/s and MB/s
 *     (10^6 payload bytes), and CPU time per message: the partitions'
 *     getrusage(RUSAGE_SELF, all threads) over the measured phase plus the
 *     backend's utime+stime from /proc/PID/stat over the same phase;
 *   - idle cost: CPU used over --seconds by the backend and two connected
 *     partitions sitting in their event loop (/proc/PID/stat utime+stime).
 *
 * Synchronisation with the children is through pipes: each child writes
 * one byte when it is set up, the parent closes the "go" pipe (everybody
 * reads EOF at once), each child writes a fixed-size result record
 * (atomic: smaller than PIPE_BUF), and waits for the parent to close the
 * "quit" pipe before it tears down, so tear-down never counts. */
#include <config.h>

#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <xenamp/xenamp.h>

#define EX_OK 0
#define EX_FAIL 1      /* a measurement failed or lost messages */
#define EX_USAGE 2

#define HDR 16u                   /* RPMsg header; raw slots keep it too */
#define SMALL_BUF 512u            /* 496-byte payload */
#define SMALL_COUNT 256u          /* the configuration default */
#define BIG_BUF 65536u            /* the largest buf-size: 65520 payload */
#define BIG_COUNT 32u             /* 2 MiB in flight each way */
#define EPT_ADDR 1024u            /* fixed endpoint on both sides: no NS */
#define MAX_LINKS 256u
#define MAX_LINK_COUNTS 8u
#define STALL_S 30                /* no progress for this long: failure */
#define DEFAULT_MESSAGES 1000000ul
#define ONLY_LATENCY 1u
#define ONLY_ONEWAY 2u
#define ONLY_BIG 4u
#define ONLY_IDLE 8u
#define QUICK_MESSAGES 2000ul

/* ------------------------------------------------------------------ */
/* Options and global state                                            */

static struct {
	bool quick, json, keep, verbose;
	unsigned only;               /* ONLY_* bits; 0: everything */
	unsigned long messages;
	unsigned links[MAX_LINK_COUNTS];
	unsigned nlinks;
	double idle_s;
	const char *backend_opt;
	char backend[PATH_MAX];
	char dir[96];
	char sock[128];
	char conf[PATH_MAX];
	char log[PATH_MAX];
	pid_t backend_pid;
	unsigned max_links;
	long clk_tck;
} B;

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Progress to stderr (stdout carries the table or the JSON). */
static void say(const char *fmt, ...)
{
	va_list ap;

	if (!B.verbose)
		return;
	va_start(ap, fmt);
	fputs("xenamp-bench: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* CPU time of this process, all threads, user + system. */
static uint64_t self_cpu_ns(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ((uint64_t)ru.ru_utime.tv_sec + (uint64_t)ru.ru_stime.tv_sec) *
	       1000000000ull +
	       ((uint64_t)ru.ru_utime.tv_usec + (uint64_t)ru.ru_stime.tv_usec) * 1000ull;
}

/* utime + stime of a process from /proc/PID/stat, in clock ticks; -1 when
 * it cannot be read. Fields 14 and 15, counted after the ')' that ends
 * the command name (which may itself hold blanks and parentheses). */
static long long proc_ticks(pid_t pid)
{
	char path[64], buf[1024];
	unsigned long long ut, st;
	ssize_t n;
	char *p;
	int fd;

	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	p = strrchr(buf, ')');
	if (p == NULL)
		return -1;
	/* After ')': state(3) ppid pgrp session tty tpgid flags minflt
	 * cminflt majflt cmajflt utime(14) stime(15). */
	if (sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu",
		   &ut, &st) != 2)
		return -1;
	return (long long)(ut + st);
}

static uint64_t ticks_ns(long long t)
{
	return t <= 0 ? 0 : (uint64_t)t * (1000000000ull / (uint64_t)B.clk_tck);
}

/* ------------------------------------------------------------------ */
/* Child <-> parent protocol                                           */

enum sys { SYS_XENAMP = 0, SYS_RAW = 1 };
enum kind { K_PINGPONG, K_ONEWAY, K_IDLE };

struct child_res {
	uint32_t link, role;
	int32_t status;             /* 0 or the failure */
	uint32_t pad;
	uint64_t done;              /* messages sent / received / echoed */
	uint64_t bad;               /* out of order or of the wrong size */
	uint64_t t_start, t_end;    /* CLOCK_MONOTONIC ns */
	uint64_t cpu_ns;            /* own CPU over the measured phase */
	uint64_t lat_med, lat_p99, lat_mean;   /* ns (ping-pong client) */
	char err[200];
};

struct sync {
	int ready[2], go[2], quit[2], res[2];
};

/* What one child does. */
struct role {
	enum sys sys;
	enum kind kind;
	unsigned link;
	unsigned role;              /* 0: sender / client, 1: receiver / server */
	char name[32];              /* partition (xenamp) */
	uint32_t payload;
	uint32_t buf_size, buf_count;
	uint64_t count;             /* messages or measured round trips */
	uint64_t warmup;            /* round trips not measured */
	/* raw */
	uint8_t *shm;
	size_t shm_size;
	int efd[2];
};

static struct sync S;
static struct child_res R_out;   /* the child's own result */

static void child_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void child_fail(const char *fmt, ...)
{
	va_list ap;

	if (R_out.status != 0)
		return;   /* keep the first */
	R_out.status = 1;
	va_start(ap, fmt);
	vsnprintf(R_out.err, sizeof(R_out.err), fmt, ap);
	va_end(ap);
}

static void write_all(int fd, const void *p, size_t n)
{
	const uint8_t *b = p;

	while (n > 0) {
		ssize_t w = write(fd, b, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		b += w;
		n -= (size_t)w;
	}
}

static void child_ready(void)
{
	write_all(S.ready[1], "r", 1);
}

/* Block until the parent closes the pipe (EOF). */
static void wait_eof(int fd)
{
	char c;

	for (;;) {
		ssize_t r = read(fd, &c, 1);

		if (r == 0 || (r < 0 && errno != EINTR))
			return;
	}
}

static void child_report(void)
{
	write_all(S.res[1], &R_out, sizeof(R_out));
}

/* ------------------------------------------------------------------ */
/* Payload check: the first 8 bytes carry the sequence number           */

static void put_seq(uint8_t *p, uint64_t seq)
{
	memcpy(p, &seq, sizeof(seq));
}

static uint64_t get_seq(const uint8_t *p)
{
	uint64_t s;

	memcpy(&s, p, sizeof(s));
	return s;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void latency_stats(uint64_t *s, uint64_t n)
{
	long double sum = 0;
	uint64_t i99;

	if (n == 0)
		return;
	qsort(s, n, sizeof(*s), cmp_u64);
	for (uint64_t i = 0; i < n; i++)
		sum += s[i];
	/* p99: the smallest sample with at least 99 % at or below it. */
	i99 = (n * 99 + 99) / 100;
	if (i99 > 0)
		i99--;
	R_out.lat_med = s[n / 2];
	R_out.lat_p99 = s[i99 < n ? i99 : n - 1];
	R_out.lat_mean = (uint64_t)(sum / n);
}

/* ------------------------------------------------------------------ */
/* xenamp children                                                     */

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

static void xa_child(const struct role *r)
{
	rpmsg_ept_cb cb = r->kind == K_PINGPONG && r->role == 1 ? echo_cb : sink_cb;
	uint8_t *buf = NULL;
	uint64_t *samples = NULL;
	int rc;

	X.r = r;
	if (xa_open_retry(r->name) != 0) {
		child_ready();
		child_report();
		return;
	}
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
		goto out_ready;
	}
	if (rpmsg_get_tx_buffer_size(&X.ept) < (int)r->payload) {
		child_fail("payload %u larger than the link's %d", r->payload,
			   rpmsg_get_tx_buffer_size(&X.ept));
		goto out_ready;
	}
	buf = calloc(1, r->payload);
	if (r->kind == K_PINGPONG && r->role == 0)
		samples = calloc(r->count ? r->count : 1, sizeof(*samples));
	if (buf == NULL || (r->kind == K_PINGPONG && r->role == 0 && samples == NULL)) {
		child_fail("out of memory");
		goto out_ready;
	}

	if (r->kind == K_IDLE) {
		/* The application's own event loop on xenamp_fd(). */
		child_ready();
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
		child_report();
		goto out;
	}

	child_ready();
	wait_eof(S.go[0]);
	R_out.cpu_ns = self_cpu_ns();
	R_out.t_start = now_ns();

	if (r->kind == K_ONEWAY && r->role == 0) {
		for (uint64_t i = 0; i < r->count; i++) {
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
	} else if (r->kind == K_ONEWAY) {
		X.target = r->count;
		(void)xa_wait(all_in);
		R_out.done = X.got;
		R_out.bad = X.bad;
		R_out.t_end = X.t_last ? X.t_last : now_ns();
	} else if (r->role == 1) {
		X.target = r->warmup + r->count;
		(void)xa_wait(all_in);
		R_out.done = X.got;
		R_out.t_end = now_ns();
	} else {
		uint64_t total = r->warmup + r->count;

		X.target = total;
		for (uint64_t i = 0; i < total; i++) {
			uint64_t t0 = now_ns();

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
	R_out.cpu_ns = self_cpu_ns() - R_out.cpu_ns;
	child_report();
	wait_eof(S.quit[0]);
	goto out;

out_ready:
	child_ready();
	child_report();
out:
	free(buf);
	free(samples);
	if (X.ept.rdev != NULL)
		rpmsg_destroy_ept(&X.ept);
	xenamp_close(X.dev);
}

/* ------------------------------------------------------------------ */
/* Raw baseline                                                        */

/* One cache line per field that one side writes. */
struct raw_line {
	_Alignas(64) _Atomic uint32_t v;
};

struct raw_hdr {
	struct raw_line waiting[2];         /* process i sleeps on efd[i] */
	struct raw_line head[2], tail[2];   /* ring 0: 0 -> 1, ring 1: 1 -> 0 */
};

#define RAW_SLOTS_OFF 4096u

static size_t raw_shm_size(uint32_t buf_size, uint32_t buf_count)
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

static void raw_child(const struct role *r)
{
	struct raw c;
	uint8_t *buf = calloc(1, r->payload);
	uint64_t *samples = NULL;
	const uint8_t *p;
	uint32_t len;

	c.h = (struct raw_hdr *)r->shm;
	c.slots[0] = r->shm + RAW_SLOTS_OFF;
	c.slots[1] = c.slots[0] + (size_t)r->buf_size * r->buf_count;
	c.nslots = r->buf_count;
	c.slot_size = r->buf_size;
	c.efd[0] = r->efd[0];
	c.efd[1] = r->efd[1];
	c.me = r->role;
	if (r->kind == K_PINGPONG && r->role == 0)
		samples = calloc(r->count ? r->count : 1, sizeof(*samples));
	if (buf == NULL || (r->kind == K_PINGPONG && r->role == 0 && samples == NULL)) {
		child_fail("out of memory");
		child_ready();
		child_report();
		free(buf);
		return;
	}

	if (r->kind == K_IDLE) {
		child_ready();
		for (;;) {
			struct pollfd pf[2] = {
				{ .fd = c.efd[c.me], .events = POLLIN },
				{ .fd = S.quit[0], .events = POLLIN },
			};

			if (poll(pf, 2, -1) < 0 && errno != EINTR)
				break;
			if (pf[1].revents)
				break;
		}
		child_report();
		free(buf);
		return;
	}

	child_ready();
	wait_eof(S.go[0]);
	R_out.cpu_ns = self_cpu_ns();
	R_out.t_start = now_ns();
	if (r->kind == K_ONEWAY && r->role == 0) {
		for (uint64_t i = 0; i < r->count; i++) {
			put_seq(buf, i);
			raw_send(&c, 0, buf, r->payload);
			R_out.done++;
		}
		R_out.t_end = now_ns();
	} else if (r->kind == K_ONEWAY) {
		for (uint64_t i = 0; i < r->count; i++) {
			p = raw_peek(&c, 0, &len);
			if (len != r->payload || get_seq(p) != i)
				R_out.bad++;
			else
				R_out.done++;
			raw_done(&c, 0);
		}
		R_out.t_end = now_ns();
	} else if (r->role == 1) {
		for (uint64_t i = 0; i < r->warmup + r->count; i++) {
			p = raw_peek(&c, 0, &len);
			raw_send(&c, 1, p, len);
			raw_done(&c, 0);
			R_out.done++;
		}
		R_out.t_end = now_ns();
	} else {
		for (uint64_t i = 0; i < r->warmup + r->count; i++) {
			uint64_t t0 = now_ns();

			put_seq(buf, i);
			raw_send(&c, 0, buf, r->payload);
			p = raw_peek(&c, 1, &len);
			if (len != r->payload || get_seq(p) != i)
				R_out.bad++;
			else if (i >= r->warmup)
				R_out.done++;
			raw_done(&c, 1);
			if (i >= r->warmup)
				samples[i - r->warmup] = now_ns() - t0;
		}
		R_out.t_end = now_ns();
		if (R_out.done == r->count && R_out.bad == 0)
			latency_stats(samples, r->count);
	}
	R_out.cpu_ns = self_cpu_ns() - R_out.cpu_ns;
	child_report();
	wait_eof(S.quit[0]);
	free(buf);
	free(samples);
}

/* ------------------------------------------------------------------ */
/* Parent: running one measurement                                     */

struct run {
	enum sys sys;
	enum kind kind;
	unsigned links;
	uint32_t payload, buf_size, buf_count;
	uint64_t per_link;          /* messages (one-way) or round trips */
	uint64_t warmup;
	char link_prefix;           /* 'm' small links, 'g' big links */
};

struct outcome {
	bool ok;
	bool skipped;               /* not run (--only) */
	char err[256];
	uint64_t sent, received, bad;
	uint64_t t0, t1;
	uint64_t cpu_part_ns, cpu_be_ns;
	double med_us, p99_us, mean_us;
	double idle_be_ms, idle_part_ms;
};

static void close_pair(int p[2])
{
	for (int i = 0; i < 2; i++)
		if (p[i] >= 0) {
			close(p[i]);
			p[i] = -1;
		}
}

static int pipes_open(void)
{
	int *all[4] = { S.ready, S.go, S.quit, S.res };

	for (int i = 0; i < 4; i++)
		if (pipe2(all[i], O_CLOEXEC) < 0)
			return -1;
	return 0;
}

static void pipes_close(void)
{
	close_pair(S.ready);
	close_pair(S.go);
	close_pair(S.quit);
	close_pair(S.res);
}

static pid_t spawn(const struct role *r)
{
	pid_t parent = getpid();
	pid_t pid = fork();

	if (pid != 0)
		return pid;
	/* Child: die with the parent; keep only our ends of the pipes. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(EX_FAIL);
	close(S.ready[0]);
	close(S.go[1]);
	close(S.quit[1]);
	close(S.res[0]);
	memset(&R_out, 0, sizeof(R_out));
	R_out.link = r->link;
	R_out.role = r->role;
	if (r->sys == SYS_XENAMP)
		xa_child(r);
	else
		raw_child(r);
	_exit(R_out.status == 0 ? EX_OK : EX_FAIL);
}

/* Read exactly n bytes within timeout_ms (0: EOF or timeout counts as
 * failure). Returns 0 or -1. */
static int read_full(int fd, void *p, size_t n, int timeout_ms)
{
	uint8_t *b = p;
	uint64_t deadline = now_ns() + (uint64_t)timeout_ms * 1000000ull;

	while (n > 0) {
		struct pollfd pf = { .fd = fd, .events = POLLIN };
		int64_t left = (int64_t)(deadline - now_ns()) / 1000000;
		ssize_t r;

		if (left <= 0)
			return -1;
		if (poll(&pf, 1, (int)left) <= 0)
			continue;
		r = read(fd, b, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		b += r;
		n -= (size_t)r;
	}
	return 0;
}

static void fail(struct outcome *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void fail(struct outcome *o, const char *fmt, ...)
{
	va_list ap;

	if (!o->ok)
		return;
	o->ok = false;
	va_start(ap, fmt);
	vsnprintf(o->err, sizeof(o->err), fmt, ap);
	va_end(ap);
}

static bool backend_alive(void)
{
	int st;

	return B.backend_pid > 0 && waitpid(B.backend_pid, &st, WNOHANG) == 0;
}

static void run_one(const struct run *rn, struct outcome *o)
{
	unsigned nch = 2 * rn->links;
	pid_t *pids = calloc(nch, sizeof(*pids));
	struct role *roles = calloc(nch, sizeof(*roles));
	struct child_res *res = calloc(nch, sizeof(*res));
	long long be0 = 0, be1 = 0, *p0 = NULL, *p1 = NULL;
	unsigned started = 0;
	char c;

	memset(o, 0, sizeof(*o));
	o->ok = true;
	if (pids == NULL || roles == NULL || res == NULL || pipes_open() < 0) {
		fail(o, "out of memory or file descriptors");
		goto out;
	}
	for (unsigned l = 0; l < rn->links && o->ok; l++) {
		uint8_t *shm = NULL;
		size_t shm_size = 0;
		int efd[2] = { -1, -1 };

		if (rn->sys == SYS_RAW) {
			int mfd = memfd_create("xenamp-bench-raw", MFD_CLOEXEC);

			shm_size = raw_shm_size(rn->buf_size, rn->buf_count);
			if (mfd < 0 || ftruncate(mfd, (off_t)shm_size) < 0) {
				fail(o, "memfd: %s", strerror(errno));
				if (mfd >= 0)
					close(mfd);
				break;
			}
			shm = mmap(NULL, shm_size, PROT_READ | PROT_WRITE,
				   MAP_SHARED, mfd, 0);
			close(mfd);
			efd[0] = eventfd(0, EFD_CLOEXEC);
			efd[1] = eventfd(0, EFD_CLOEXEC);
			if (shm == MAP_FAILED || efd[0] < 0 || efd[1] < 0) {
				fail(o, "raw set-up: %s", strerror(errno));
				if (shm != MAP_FAILED)
					munmap(shm, shm_size);
				close_pair(efd);
				break;
			}
		}
		for (unsigned k = 0; k < 2; k++) {
			struct role *r = &roles[2 * l + k];

			r->sys = rn->sys;
			r->kind = rn->kind;
			r->link = l;
			r->role = k;
			if (rn->kind == K_IDLE)
				snprintf(r->name, sizeof(r->name), "idle-%c", k ? 'b' : 'a');
			else
				snprintf(r->name, sizeof(r->name), "%c%c%u",
					 rn->link_prefix, k ? 'r' : 's', l);
			r->payload = rn->payload;
			r->buf_size = rn->buf_size;
			r->buf_count = rn->buf_count;
			r->count = rn->per_link;
			r->warmup = rn->warmup;
			r->shm = shm;
			r->shm_size = shm_size;
			r->efd[0] = efd[0];
			r->efd[1] = efd[1];
			pids[2 * l + k] = spawn(r);
			if (pids[2 * l + k] < 0) {
				fail(o, "fork: %s", strerror(errno));
				break;
			}
			started++;
		}
		if (shm != NULL)
			munmap(shm, shm_size);
		close_pair(efd);
	}
	close(S.ready[1]);
	S.ready[1] = -1;
	close(S.res[1]);
	S.res[1] = -1;
	close(S.go[0]);
	S.go[0] = -1;
	close(S.quit[0]);
	S.quit[0] = -1;

	/* Everybody set up (or failed and said so). */
	for (unsigned i = 0; i < started && o->ok; i++)
		if (read_full(S.ready[0], &c, 1, 60000) < 0)
			fail(o, "a partition process did not get ready within 60 s");
	if (rn->sys == SYS_XENAMP && !backend_alive())
		fail(o, "xenamp-backend died (see %s)", B.log);

	if (rn->kind == K_IDLE) {
		p0 = calloc(nch, sizeof(*p0));
		p1 = calloc(nch, sizeof(*p1));
		if (p0 == NULL || p1 == NULL)
			fail(o, "out of memory");
		if (o->ok) {
			/* Let the handshakes and name service settle. */
			usleep(500000);
			be0 = rn->sys == SYS_XENAMP ? proc_ticks(B.backend_pid) : 0;
			for (unsigned i = 0; i < nch; i++)
				p0[i] = proc_ticks(pids[i]);
			usleep((useconds_t)(B.idle_s * 1e6));
			be1 = rn->sys == SYS_XENAMP ? proc_ticks(B.backend_pid) : 0;
			for (unsigned i = 0; i < nch; i++)
				p1[i] = proc_ticks(pids[i]);
			o->idle_be_ms = (double)ticks_ns(be1 - be0) / 1e6;
			for (unsigned i = 0; i < nch; i++)
				o->idle_part_ms += (double)ticks_ns(p1[i] - p0[i]) / 1e6;
		}
		close(S.go[1]);
		S.go[1] = -1;
		close(S.quit[1]);
		S.quit[1] = -1;
		for (unsigned i = 0; i < started; i++)
			if (read_full(S.res[0], &res[i], sizeof(res[i]), 30000) < 0) {
				fail(o, "a partition did not report");
				started = i;
				break;
			}
	} else {
		be0 = rn->sys == SYS_XENAMP ? proc_ticks(B.backend_pid) : 0;
		close(S.go[1]);
		S.go[1] = -1;
		for (unsigned i = 0; i < started; i++) {
			if (read_full(S.res[0], &res[i], sizeof(res[i]),
				      (STALL_S + 60) * 1000) < 0) {
				fail(o, "a partition process neither finished nor reported within %d s",
				     STALL_S + 60);
				started = i;
				break;
			}
		}
		be1 = rn->sys == SYS_XENAMP ? proc_ticks(B.backend_pid) : 0;
		o->cpu_be_ns = ticks_ns(be1 - be0);
		close(S.quit[1]);
		S.quit[1] = -1;
	}

	/* Combine. */
	o->t0 = UINT64_MAX;
	for (unsigned i = 0; i < started; i++) {
		const struct child_res *x = &res[i];

		if (x->status != 0)
			fail(o, "link %u %s: %s", x->link,
			     x->role ? "receiver" : "sender", x->err);
		if (rn->kind == K_IDLE)
			continue;
		o->cpu_part_ns += x->cpu_ns;
		o->bad += x->bad;
		if (x->role == 0) {
			if (x->t_start < o->t0)
				o->t0 = x->t_start;
		}
		if (rn->kind == K_ONEWAY) {
			if (x->role == 0) {
				o->sent += x->done;
			} else {
				o->received += x->done;
				if (x->t_end > o->t1)
					o->t1 = x->t_end;
			}
		} else if (x->role == 0) {
			o->received += x->done;
			o->sent += x->done;
			o->med_us = (double)x->lat_med / 1000.0;
			o->p99_us = (double)x->lat_p99 / 1000.0;
			o->mean_us = (double)x->lat_mean / 1000.0;
			o->t1 = x->t_end;
		}
	}
	if (rn->kind != K_IDLE) {
		uint64_t want = (uint64_t)rn->links * rn->per_link;

		if (o->ok && (o->received != want || o->bad != 0))
			fail(o, "%llu of %llu messages arrived intact (%llu out of order)",
			     (unsigned long long)o->received, (unsigned long long)want,
			     (unsigned long long)o->bad);
	}

out:
	pipes_close();
	for (unsigned i = 0; i < nch && pids != NULL; i++) {
		int st;

		if (pids[i] <= 0)
			continue;
		if (!o->ok)
			kill(pids[i], SIGKILL);
		while (waitpid(pids[i], &st, 0) < 0 && errno == EINTR)
			;
		if (o->ok && !(WIFEXITED(st) && WEXITSTATUS(st) == 0))
			fail(o, "partition process %u exited abnormally (status 0x%x)", i, st);
	}
	free(p0);
	free(p1);
	free(pids);
	free(roles);
	free(res);
}

static bool want(unsigned what)
{
	return B.only == 0 || (B.only & what) != 0;
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

/* ------------------------------------------------------------------ */
/* The backend                                                         */

static bool exe_ok(const char *p)
{
	struct stat st;

	return stat(p, &st) == 0 && S_ISREG(st.st_mode) && access(p, X_OK) == 0;
}

static bool find_backend(void)
{
	const char *env = getenv("XENAMP_BACKEND");
	char self[PATH_MAX], dir[PATH_MAX];
	ssize_t n;

	if (B.backend_opt != NULL || (env != NULL && env[0] != '\0')) {
		const char *p = B.backend_opt ? B.backend_opt : env;

		if (!exe_ok(p)) {
			fprintf(stderr, "xenamp-bench: %s is not an executable xenamp-backend (%s)\n",
				p, B.backend_opt ? "--backend" : "$XENAMP_BACKEND");
			return false;
		}
		snprintf(B.backend, sizeof(B.backend), "%s", p);
		return true;
	}
	/* Next to ourselves: installed (bin/ and sbin/), or in the build
	 * tree (src/tools/[.libs/] and src/backend/). */
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		static const char *const rel[] = {
			"xenamp-backend",
			"../sbin/xenamp-backend",
			"../backend/xenamp-backend",
			"../../backend/xenamp-backend",
		};
		char *slash;

		self[n] = '\0';
		snprintf(dir, sizeof(dir), "%s", self);
		slash = strrchr(dir, '/');
		if (slash != NULL)
			*slash = '\0';
		for (size_t i = 0; i < sizeof(rel) / sizeof(rel[0]); i++) {
			char cand[PATH_MAX + 64];

			snprintf(cand, sizeof(cand), "%s/%s", dir, rel[i]);
			if (exe_ok(cand) && realpath(cand, B.backend) != NULL)
				return true;
		}
	}
#ifdef XA_SBINDIR
	if (exe_ok(XA_SBINDIR "/xenamp-backend")) {
		snprintf(B.backend, sizeof(B.backend), "%s", XA_SBINDIR "/xenamp-backend");
		return true;
	}
#endif
	fprintf(stderr,
		"xenamp-bench: cannot find xenamp-backend next to this program; give it with --backend PATH or $XENAMP_BACKEND\n");
	return false;
}

static int write_config(void)
{
	FILE *f = fopen(B.conf, "w");

	if (f == NULL) {
		fprintf(stderr, "xenamp-bench: cannot write %s: %s\n", B.conf, strerror(errno));
		return -1;
	}
	fprintf(f, "# written by xenamp-bench\n[backend]\nmax-services = 8\nlog-level = warning\n");
	for (unsigned i = 0; i < B.max_links; i++)
		fprintf(f, "\n[link m%u]\nend-a = ms%u\nend-b = mr%u\nbuf-size = %u\nbuf-count = %u\n",
			i, i, i, SMALL_BUF, SMALL_COUNT);
	for (unsigned i = 0; i < B.max_links; i++)
		fprintf(f, "\n[link g%u]\nend-a = gs%u\nend-b = gr%u\nbuf-size = %u\nbuf-count = %u\n",
			i, i, i, BIG_BUF, BIG_COUNT);
	fprintf(f, "\n[link idle]\nend-a = idle-a\nend-b = idle-b\nbuf-size = %u\nbuf-count = %u\n",
		SMALL_BUF, SMALL_COUNT);
	if (fclose(f) != 0) {
		fprintf(stderr, "xenamp-bench: cannot write %s: %s\n", B.conf, strerror(errno));
		return -1;
	}
	return 0;
}

static int start_backend(void)
{
	pid_t parent = getpid();
	pid_t pid;

	if (write_config() < 0)
		return -1;
	pid = fork();
	if (pid < 0) {
		fprintf(stderr, "xenamp-bench: fork: %s\n", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		int fd = open(B.log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);

		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (getppid() != parent)
			_exit(127);
		if (fd >= 0)
			dup2(fd, 2);
		fd = open("/dev/null", O_RDWR | O_CLOEXEC);
		if (fd >= 0) {
			dup2(fd, 0);
			dup2(fd, 1);
		}
		execl(B.backend, "xenamp-backend", "--foreground", "--config", B.conf,
		      "--socket", B.sock, (char *)NULL);
		fprintf(stderr, "xenamp-bench: cannot run %s: %s\n", B.backend, strerror(errno));
		_exit(127);
	}
	B.backend_pid = pid;
	for (int i = 0; i < 200; i++) {
		struct stat st;

		if (stat(B.sock, &st) == 0 && S_ISSOCK(st.st_mode))
			return 0;
		if (!backend_alive()) {
			B.backend_pid = 0;
			fprintf(stderr, "xenamp-bench: xenamp-backend (%s) exited at start-up; its log is %s\n",
				B.backend, B.log);
			return -1;
		}
		usleep(50000);
	}
	fprintf(stderr, "xenamp-bench: xenamp-backend did not create %s within 10 s\n", B.sock);
	return -1;
}

/* SIGTERM, wait; true when it stopped as it should (status 0). */
static bool stop_backend(void)
{
	int st = 0;

	if (B.backend_pid <= 0)
		return false;
	kill(B.backend_pid, SIGTERM);
	while (waitpid(B.backend_pid, &st, 0) < 0 && errno == EINTR)
		;
	B.backend_pid = 0;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

static void remove_dir(void)
{
	if (B.dir[0] == '\0' || B.keep)
		return;
	unlink(B.conf);
	unlink(B.log);
	unlink(B.sock);
	rmdir(B.dir);
}

/* ------------------------------------------------------------------ */
/* The plan and the report                                             */

struct lat_row {
	uint32_t payload;
	uint64_t n;
	struct outcome x, r;
};

struct tp_row {
	uint32_t payload, buf_size, buf_count;
	unsigned links;
	uint64_t total;
	struct outcome x, r;
};

static double secs(const struct outcome *o)
{
	return o->t1 > o->t0 ? (double)(o->t1 - o->t0) / 1e9 : NAN;
}

static double msgs_per_s(const struct outcome *o)
{
	return o->ok ? (double)o->received / secs(o) : NAN;
}

static double mb_per_s(const struct outcome *o, uint32_t payload)
{
	return msgs_per_s(o) * payload / 1e6;
}

static double cpu_us_per_msg(const struct outcome *o)
{
	return o->ok && o->received ?
	       (double)(o->cpu_part_ns + o->cpu_be_ns) / 1e3 / (double)o->received : NAN;
}

static double ratio(double a, double b)
{
	return isfinite(a) && isfinite(b) && b > 0 ? a / b : NAN;
}

/* JSON number or null. */
static void jnum(const char *key, double v, const char *tail)
{
	if (isfinite(v))
		printf("\"%s\": %.6g%s", key, v, tail);
	else
		printf("\"%s\": null%s", key, tail);
}

static void jstr(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			printf("\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			printf("\\u%04x", (unsigned)(unsigned char)*s);
		else
			putchar(*s);
	}
	putchar('"');
}

static void fmt_num(char *b, size_t n, double v, int prec, const char *unit)
{
	if (isfinite(v))
		snprintf(b, n, "%.*f%s", prec, v, unit);
	else
		snprintf(b, n, "-");
}

static void fmt_ratio(char *b, size_t n, double v)
{
	if (isfinite(v))
		snprintf(b, n, "%.2fx", v);
	else
		snprintf(b, n, "-");
}

struct target {
	const char *name, *what, *goal;
	double value;
	bool met;
	bool known;
};

static void usage(FILE *f)
{
	fprintf(f,
"Usage: xenamp-bench [OPTION]...\n"
"Measure xenamp in local mode through a real xenamp-backend process, beside\n"
"a raw baseline (two processes, a memfd ring and an eventfd pair) measured\n"
"in the same run, and print every figure with its ratio xenamp / raw.\n"
"\n"
"  -q, --quick          tiny counts, for a smoke test (%lu messages, idle 1 s)\n"
"  -n, --messages N     one-way messages per 496-byte measurement, shared by\n"
"                       the links (default %lu); round trips and 65520-byte\n"
"                       messages: N / 20\n"
"  -l, --links LIST     link counts for the throughput runs (default 1,4,16,64;\n"
"                       at most %u)\n"
"  -s, --seconds S      idle measurement length (default 5)\n"
"  -j, --json           print JSON instead of the table\n"
"  -b, --backend PATH   the xenamp-backend to run (default: $XENAMP_BACKEND,\n"
"                       else the one installed or built next to this program)\n"
"  -o, --only LIST      run only some measurements: latency, oneway (496 B),\n"
"                       big (65520 B), idle; comma-separated\n"
"  -k, --keep           keep the private directory (configuration, backend log)\n"
"  -v, --verbose        progress on stderr\n"
"  -h, --help           this help\n"
"\n"
"Exit status: 0 every measurement completed with every message intact;\n"
"1 a measurement failed or lost messages; 2 usage error. The targets of\n"
"docs/performance.md are reported, never turned into a failure.\n",
		QUICK_MESSAGES, DEFAULT_MESSAGES, MAX_LINKS);
}

static int parse_links(const char *s)
{
	char *copy = strdup(s), *tok, *save = NULL;

	if (copy == NULL)
		return -1;
	B.nlinks = 0;
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *end;
		unsigned long v = strtoul(tok, &end, 10);

		if (*end || end == tok || v == 0 || v > MAX_LINKS ||
		    B.nlinks == MAX_LINK_COUNTS) {
			free(copy);
			return -1;
		}
		B.links[B.nlinks++] = (unsigned)v;
	}
	free(copy);
	return B.nlinks ? 0 : -1;
}

static int parse_only(const char *s)
{
	static const char *const names[] = { "latency", "oneway", "big", "idle" };
	char *copy = strdup(s), *tok, *save = NULL;

	if (copy == NULL)
		return -1;
	B.only = 0;
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		unsigned i;

		for (i = 0; i < 4; i++)
			if (strcmp(tok, names[i]) == 0)
				break;
		if (i == 4) {
			free(copy);
			return -1;
		}
		B.only |= 1u << i;
	}
	free(copy);
	return B.only ? 0 : -1;
}

static uint64_t div_up(uint64_t a, uint64_t b)
{
	return (a + b - 1) / b;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "quick", no_argument, NULL, 'q' },
		{ "messages", required_argument, NULL, 'n' },
		{ "links", required_argument, NULL, 'l' },
		{ "seconds", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "backend", required_argument, NULL, 'b' },
		{ "only", required_argument, NULL, 'o' },
		{ "keep", no_argument, NULL, 'k' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool msgs_set = false, secs_set = false, all_ok = true;
	const char *tmp;
	int ch;

	B.links[0] = 1; B.links[1] = 4; B.links[2] = 16; B.links[3] = 64;
	B.nlinks = 4;
	B.messages = DEFAULT_MESSAGES;
	B.idle_s = 5;
	while ((ch = getopt_long(argc, argv, "qn:l:s:jb:o:kvh", lo, NULL)) != -1) {
		char *end;

		switch (ch) {
		case 'q':
			B.quick = true;
			break;
		case 'n':
			errno = 0;
			B.messages = strtoul(optarg, &end, 10);
			if (errno || *end || end == optarg || optarg[0] == '-' ||
			    B.messages < 10 || B.messages > 1000000000ul) {
				fprintf(stderr, "xenamp-bench: --messages: expected 10..1000000000, not '%s'\n", optarg);
				return EX_USAGE;
			}
			msgs_set = true;
			break;
		case 'l':
			if (parse_links(optarg) < 0) {
				fprintf(stderr, "xenamp-bench: --links: expected a comma-separated list of 1..%u (at most %u entries), not '%s'\n",
					MAX_LINKS, MAX_LINK_COUNTS, optarg);
				return EX_USAGE;
			}
			break;
		case 's':
			B.idle_s = strtod(optarg, &end);
			if (*end || end == optarg || !(B.idle_s >= 0.1 && B.idle_s <= 3600)) {
				fprintf(stderr, "xenamp-bench: --seconds: expected 0.1..3600, not '%s'\n", optarg);
				return EX_USAGE;
			}
			secs_set = true;
			break;
		case 'j':
			B.json = true;
			break;
		case 'b':
			B.backend_opt = optarg;
			break;
		case 'o':
			if (parse_only(optarg) < 0) {
				fprintf(stderr, "xenamp-bench: --only: expected a comma-separated list of latency, oneway, big, idle; not '%s'\n",
					optarg);
				return EX_USAGE;
			}
			break;
		case 'k':
			B.keep = true;
			break;
		case 'v':
			B.verbose = true;
			break;
		case 'h':
			usage(stdout);
			return EX_OK;
		default:
			usage(stderr);
			return EX_USAGE;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "xenamp-bench: unexpected argument '%s'; see --help\n", argv[optind]);
		return EX_USAGE;
	}
	if (B.quick && !msgs_set)
		B.messages = QUICK_MESSAGES;
	if (B.quick && !secs_set)
		B.idle_s = 1;
	B.clk_tck = sysconf(_SC_CLK_TCK);
	if (B.clk_tck <= 0)
		B.clk_tck = 100;
	for (unsigned i = 0; i < B.nlinks; i++)
		if (B.links[i] > B.max_links)
			B.max_links = B.links[i];
	if (!find_backend())
		return EX_USAGE;

	signal(SIGPIPE, SIG_IGN);
	tmp = getenv("TMPDIR");
	if (tmp == NULL || tmp[0] == '\0' || strlen(tmp) > 60)
		tmp = "/tmp";
	snprintf(B.dir, sizeof(B.dir), "%s/xenamp-bench.XXXXXX", tmp);
	if (mkdtemp(B.dir) == NULL) {
		fprintf(stderr, "xenamp-bench: cannot create a directory in %s: %s\n", tmp, strerror(errno));
		return EX_FAIL;
	}
	snprintf(B.sock, sizeof(B.sock), "%s/backend.sock", B.dir);
	snprintf(B.conf, sizeof(B.conf), "%s/xenamp.conf", B.dir);
	snprintf(B.log, sizeof(B.log), "%s/backend.log", B.dir);
	if (start_backend() < 0) {
		B.keep = true;
		stop_backend();
		return EX_FAIL;
	}
	say("backend %s (pid %ld) on %s", B.backend, (long)B.backend_pid, B.sock);

	/* ---- the plan ---- */
	uint64_t n_rt = B.messages / 20 ? B.messages / 20 : 1;
	uint64_t warm = n_rt / 10 < 1000 ? n_rt / 10 + 1 : 1000;
	uint64_t n_big = B.messages / 20 ? B.messages / 20 : 1;
	struct lat_row lat[2] = { { .payload = 32 }, { .payload = SMALL_BUF - HDR } };
	struct tp_row *tp = calloc(2 * B.nlinks, sizeof(*tp));
	struct outcome idle_x, idle_r;
	unsigned ntp = 0;

	if (tp == NULL)
		return EX_FAIL;
	for (unsigned i = 0; i < 2; i++) {
		struct run rn = {
			.kind = K_PINGPONG, .links = 1, .payload = lat[i].payload,
			.buf_size = SMALL_BUF, .buf_count = SMALL_COUNT,
			.per_link = n_rt, .warmup = warm, .link_prefix = 'm',
		};

		char label[64];

		lat[i].n = n_rt;
		snprintf(label, sizeof(label), "round trips, %u bytes", rn.payload);
		run_pair(&rn, ONLY_LATENCY, label, &lat[i].x, &lat[i].r);
	}
	for (unsigned big = 0; big < 2; big++)
		for (unsigned i = 0; i < B.nlinks; i++) {
			struct tp_row *t = &tp[ntp++];
			uint64_t n = big ? n_big : B.messages;
			char label[64];
			struct run rn = {
				.kind = K_ONEWAY, .links = B.links[i],
				.buf_size = big ? BIG_BUF : SMALL_BUF,
				.buf_count = big ? BIG_COUNT : SMALL_COUNT,
				.per_link = div_up(n, B.links[i]),
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
	{
		struct run rn = { .kind = K_IDLE, .links = 1, .payload = 32,
				  .buf_size = SMALL_BUF, .buf_count = SMALL_COUNT };

		run_pair(&rn, ONLY_IDLE, "idle", &idle_x, &idle_r);
	}
	bool backend_clean = stop_backend();

	/* ---- failures ---- */
	for (unsigned i = 0; i < 2; i++) {
		const struct outcome *o[2] = { &lat[i].x, &lat[i].r };

		for (int k = 0; k < 2; k++)
			if (!o[k]->ok && !o[k]->skipped) {
				fprintf(stderr, "xenamp-bench: round trips %u B (%s): %s\n",
					lat[i].payload, k ? "raw" : "xenamp", o[k]->err);
				all_ok = false;
			}
	}
	for (unsigned i = 0; i < ntp; i++) {
		const struct outcome *o[2] = { &tp[i].x, &tp[i].r };

		for (int k = 0; k < 2; k++)
			if (!o[k]->ok && !o[k]->skipped) {
				fprintf(stderr, "xenamp-bench: one-way %u B, %u links (%s): %s\n",
					tp[i].payload, tp[i].links, k ? "raw" : "xenamp", o[k]->err);
				all_ok = false;
			}
	}
	if ((!idle_x.ok && !idle_x.skipped) || (!idle_r.ok && !idle_r.skipped)) {
		fprintf(stderr, "xenamp-bench: idle (%s): %s\n", idle_x.ok ? "raw" : "xenamp",
			idle_x.ok ? idle_r.err : idle_x.err);
		all_ok = false;
	}
	if (!backend_clean) {
		fprintf(stderr, "xenamp-bench: xenamp-backend did not stop cleanly on SIGTERM (log %s)\n",
			B.log);
		all_ok = false;
	}
	if (!all_ok)
		B.keep = true;

	/* ---- targets (docs/performance.md) ---- */
	struct target tg[4];
	double idle_pct = idle_x.ok ?
		(idle_x.idle_be_ms + idle_x.idle_part_ms) / (B.idle_s * 1000.0) * 100.0 : NAN;
	const struct tp_row *one = NULL, *lo_row = NULL, *hi_row = NULL;

	for (unsigned i = 0; i < ntp; i++) {
		if (tp[i].payload != SMALL_BUF - HDR)
			continue;
		if (tp[i].links == 1)
			one = &tp[i];
		if (lo_row == NULL || tp[i].links < lo_row->links)
			lo_row = &tp[i];
		if (hi_row == NULL || tp[i].links > hi_row->links)
			hi_row = &tp[i];
	}
	tg[0] = (struct target){ "oneway_496_ratio", "one-way 496 B, 1 link, xenamp / raw messages/s",
				 ">= 0.5", NAN, false, false };
	if (one != NULL) {
		tg[0].value = ratio(msgs_per_s(&one->x), msgs_per_s(&one->r));
		tg[0].known = isfinite(tg[0].value);
		tg[0].met = tg[0].known && tg[0].value >= 0.5;
	}
	tg[1] = (struct target){ "rtt_32_ratio", "round trip 32 B, xenamp / raw median",
				 "<= 1.2", ratio(lat[0].x.med_us, lat[0].r.med_us), false, false };
	tg[1].known = lat[0].x.ok && lat[0].r.ok && isfinite(tg[1].value);
	tg[1].met = tg[1].known && tg[1].value <= 1.2;
	/* One clock tick (10 ms) in the whole window is the resolution of
	 * /proc/PID/stat: that is what "0 %" can mean here. */
	tg[2] = (struct target){ "idle_cpu_percent", "idle: backend + 2 partitions, % of one CPU",
				 "0 (at most 1 clock tick in the window)", idle_pct, false, false };
	tg[2].known = isfinite(idle_pct);
	tg[2].met = tg[2].known &&
		    idle_x.idle_be_ms + idle_x.idle_part_ms <= 1000.0 / (double)B.clk_tck + 1e-9;
	tg[3] = (struct target){ "cpu_per_msg_flat", "CPU per message 496 B, most links / fewest links",
				 "<= 1.25 (flat)", NAN, false, false };
	if (lo_row != NULL && hi_row != NULL && lo_row != hi_row) {
		tg[3].value = ratio(cpu_us_per_msg(&hi_row->x), cpu_us_per_msg(&lo_row->x));
		tg[3].known = isfinite(tg[3].value);
		tg[3].met = tg[3].known && tg[3].value <= 1.25;
	}

	/* ---- output ---- */
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);

	if (B.json) {
		printf("{\n  \"tool\": \"xenamp-bench\",\n  \"version\": \"%s\",\n", PACKAGE_VERSION);
		printf("  \"mode\": \"local\",\n  \"backend\": ");
		jstr(B.backend);
		printf(",\n  \"cpus\": %ld,\n  \"quick\": %s,\n  \"messages\": %lu,\n",
		       ncpu, B.quick ? "true" : "false", B.messages);
		printf("  \"ratio\": \"xenamp / raw; throughput: higher is better; latency and CPU per message: lower is better\",\n");
		printf("  \"complete\": %s,\n", all_ok ? "true" : "false");
		printf("  \"latency\": [\n");
		for (unsigned i = 0; i < 2; i++) {
			const struct lat_row *l = &lat[i];
			const struct outcome *o[2] = { &l->x, &l->r };

			printf("    {\"payload\": %u, \"buf_size\": %u, \"round_trips\": %llu, ",
			       l->payload, SMALL_BUF, (unsigned long long)l->n);
			for (int k = 0; k < 2; k++) {
				printf("\"%s\": {\"ok\": %s, \"completed\": %llu, ", k ? "raw" : "xenamp",
				       o[k]->ok ? "true" : "false",
				       (unsigned long long)o[k]->received);
				jnum("median_us", o[k]->ok ? o[k]->med_us : NAN, ", ");
				jnum("p99_us", o[k]->ok ? o[k]->p99_us : NAN, ", ");
				jnum("mean_us", o[k]->ok ? o[k]->mean_us : NAN, ", ");
				jnum("cpu_us_per_round_trip", o[k]->ok && o[k]->received ?
				     (double)(o[k]->cpu_part_ns + o[k]->cpu_be_ns) / 1e3 /
				     (double)o[k]->received : NAN, "}, ");
			}
			jnum("ratio_median", ratio(l->x.med_us, l->r.med_us), ", ");
			jnum("ratio_p99", ratio(l->x.p99_us, l->r.p99_us), "}");
			printf("%s\n", i == 0 ? "," : "");
		}
		printf("  ],\n  \"throughput\": [\n");
		for (unsigned i = 0; i < ntp; i++) {
			const struct tp_row *t = &tp[i];
			const struct outcome *o[2] = { &t->x, &t->r };

			printf("    {\"payload\": %u, \"buf_size\": %u, \"buf_count\": %u, \"links\": %u, \"messages\": %llu, ",
			       t->payload, t->buf_size, t->buf_count, t->links,
			       (unsigned long long)t->total);
			for (int k = 0; k < 2; k++) {
				printf("\"%s\": {\"ok\": %s, \"sent\": %llu, \"received\": %llu, ",
				       k ? "raw" : "xenamp", o[k]->ok ? "true" : "false",
				       (unsigned long long)o[k]->sent,
				       (unsigned long long)o[k]->received);
				jnum("seconds", o[k]->ok ? secs(o[k]) : NAN, ", ");
				jnum("msgs_per_s", msgs_per_s(o[k]), ", ");
				jnum("mb_per_s", mb_per_s(o[k], t->payload), ", ");
				jnum("cpu_us_per_msg", cpu_us_per_msg(o[k]), ", ");
				jnum("cpu_backend_s", (double)o[k]->cpu_be_ns / 1e9, ", ");
				jnum("cpu_partitions_s", (double)o[k]->cpu_part_ns / 1e9, "}, ");
			}
			jnum("ratio_msgs_per_s", ratio(msgs_per_s(&t->x), msgs_per_s(&t->r)), ", ");
			jnum("ratio_cpu_per_msg", ratio(cpu_us_per_msg(&t->x), cpu_us_per_msg(&t->r)), "}");
			printf("%s\n", i + 1 < ntp ? "," : "");
		}
		printf("  ],\n  \"idle\": {\"seconds\": %g, ", B.idle_s);
		{
			const struct outcome *o[2] = { &idle_x, &idle_r };

			for (int k = 0; k < 2; k++) {
				printf("\"%s\": {\"ok\": %s, ", k ? "raw" : "xenamp",
				       o[k]->ok ? "true" : "false");
				jnum("backend_cpu_ms", o[k]->ok ? o[k]->idle_be_ms : NAN, ", ");
				jnum("partitions_cpu_ms", o[k]->ok ? o[k]->idle_part_ms : NAN, ", ");
				jnum("cpu_percent", o[k]->ok ? (o[k]->idle_be_ms + o[k]->idle_part_ms) /
				     (B.idle_s * 1000.0) * 100.0 : NAN, k ? "}},\n" : "}, ");
			}
		}
		printf("  \"targets\": [\n");
		for (int i = 0; i < 4; i++) {
			printf("    {\"name\": \"%s\", \"what\": ", tg[i].name);
			jstr(tg[i].what);
			printf(", \"goal\": ");
			jstr(tg[i].goal);
			printf(", ");
			jnum("value", tg[i].value, ", ");
			printf("\"met\": %s}%s\n", !tg[i].known ? "null" : tg[i].met ? "true" : "false",
			       i < 3 ? "," : "");
		}
		printf("  ]\n}\n");
	} else {
		char a[8][32];

		printf("xenamp-bench %s: local mode through a real xenamp-backend process, %ld CPUs\n",
		       PACKAGE_VERSION, ncpu);
		printf("raw = two processes, memfd SPSC ring + eventfd pair, same slot size and count.\n");
		printf("Ratios are xenamp / raw: throughput higher is better; latency and CPU per message lower is better.\n\n");
		printf("Round-trip latency (%llu round trips, 1 link, buf-size %u)\n",
		       (unsigned long long)n_rt, SMALL_BUF);
		printf("  %-8s %12s %12s %12s %12s %9s %9s\n", "payload", "xenamp med",
		       "xenamp p99", "raw med", "raw p99", "med", "p99");
		for (unsigned i = 0; i < 2; i++) {
			const struct lat_row *l = &lat[i];

			fmt_num(a[0], 32, l->x.ok ? l->x.med_us : NAN, 1, " us");
			fmt_num(a[1], 32, l->x.ok ? l->x.p99_us : NAN, 1, " us");
			fmt_num(a[2], 32, l->r.ok ? l->r.med_us : NAN, 1, " us");
			fmt_num(a[3], 32, l->r.ok ? l->r.p99_us : NAN, 1, " us");
			fmt_ratio(a[4], 32, ratio(l->x.med_us, l->r.med_us));
			fmt_ratio(a[5], 32, ratio(l->x.p99_us, l->r.p99_us));
			printf("  %5u B  %12s %12s %12s %12s %9s %9s\n", l->payload,
			       a[0], a[1], a[2], a[3], a[4], a[5]);
		}
		printf("\nOne-way throughput (aggregate over the links; CPU = partitions + backend per message)\n");
		printf("  %-8s %5s %11s %9s %8s %11s %9s %8s %7s %7s\n", "payload", "links",
		       "xenamp msg/s", "MB/s", "us CPU", "raw msg/s", "MB/s", "us CPU",
		       "msg/s", "CPU");
		for (unsigned i = 0; i < ntp; i++) {
			const struct tp_row *t = &tp[i];

			fmt_num(a[0], 32, msgs_per_s(&t->x), 0, "");
			fmt_num(a[1], 32, mb_per_s(&t->x, t->payload), 0, "");
			fmt_num(a[2], 32, cpu_us_per_msg(&t->x), 2, "");
			fmt_num(a[3], 32, msgs_per_s(&t->r), 0, "");
			fmt_num(a[4], 32, mb_per_s(&t->r, t->payload), 0, "");
			fmt_num(a[5], 32, cpu_us_per_msg(&t->r), 2, "");
			fmt_ratio(a[6], 32, ratio(msgs_per_s(&t->x), msgs_per_s(&t->r)));
			fmt_ratio(a[7], 32, ratio(cpu_us_per_msg(&t->x), cpu_us_per_msg(&t->r)));
			printf("  %5u B  %5u %12s %9s %8s %11s %9s %8s %7s %7s\n", t->payload,
			       t->links, a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7]);
		}
		if (idle_x.ok && idle_r.ok)
			printf("\nIdle, %.1f s: xenamp backend %.0f ms + 2 partitions %.0f ms CPU (%.2f %% of a CPU); raw %.0f ms (%.2f %%)\n",
			       B.idle_s, idle_x.idle_be_ms, idle_x.idle_part_ms,
			       (idle_x.idle_be_ms + idle_x.idle_part_ms) / (B.idle_s * 10.0),
			       idle_r.idle_part_ms, idle_r.idle_part_ms / (B.idle_s * 10.0));
		else
			printf("\nIdle: %s\n", idle_x.ok ? idle_r.err : idle_x.err);
		printf("\nTargets\n");
		for (int i = 0; i < 4; i++) {
			fmt_num(a[0], 32, tg[i].value, 3, "");
			printf("  %-52s %-10s goal %-s: %s\n", tg[i].what, a[0], tg[i].goal,
			       !tg[i].known ? "unknown" : tg[i].met ? "met" : "MISSED");
		}
		if (!all_ok)
			printf("\nSome measurements failed (see stderr); the private directory %s is kept.\n",
			       B.dir);
	}
	fflush(stdout);
	free(tp);
	remove_dir();
	return all_ok ? EX_OK : EX_FAIL;
}

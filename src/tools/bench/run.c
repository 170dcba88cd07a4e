/* xenamp-bench: one measurement, parent side. Fork one sender and one
 * receiver (or client and server) per link, wait until all are set up,
 * say "go", collect their result records with the backend's CPU over the
 * same phase, combine them into one outcome, say "quit" and reap. The
 * pipe protocol is described in bench.h. */
#include <config.h>

#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"

/* The children of one measurement, as the parent sees them. */
struct meas {
	const struct run *rn;
	struct outcome *o;
	unsigned nch;               /* 2 per link */
	unsigned started;           /* forked; also results to read */
	pid_t *pids;                /* 0: never forked */
	struct role *roles;
	struct child_res *res;
};

void fail(struct outcome *o, const char *fmt, ...)
{
	va_list ap;

	if (!o->ok)
		return;
	o->ok = false;
	va_start(ap, fmt);
	vsnprintf(o->err, sizeof(o->err), fmt, ap);
	va_end(ap);
}

void close_pair(int p[2])
{
	for (int i = 0; i < 2; i++)
		if (p[i] >= 0) {
			close(p[i]);
			p[i] = -1;
		}
}

static void close_one(int *fd)
{
	close(*fd);
	*fd = -1;
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
	if (r->sys == SYS_XENAMP && r->ndev > 0)
		xa_multi_child(r);
	else if (r->sys == SYS_XENAMP)
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

/* The raw baseline's shared memory and eventfds for one link; both
 * children inherit them, the parent drops its copies once they are
 * forked. false on failure (recorded in o). */
static bool raw_link_setup(struct outcome *o, const struct run *rn,
			   uint8_t **shm, size_t *shm_size, int efd[2])
{
	int mfd = memfd_create("xenamp-bench-raw", MFD_CLOEXEC);

	*shm_size = raw_shm_size(rn->buf_size, rn->buf_count);
	if (mfd < 0 || ftruncate(mfd, (off_t)*shm_size) < 0) {
		fail(o, "memfd: %s", strerror(errno));
		if (mfd >= 0)
			close(mfd);
		return false;
	}
	*shm = mmap(NULL, *shm_size, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
	close(mfd);
	efd[0] = eventfd(0, EFD_CLOEXEC);
	efd[1] = eventfd(0, EFD_CLOEXEC);
	if (*shm == MAP_FAILED || efd[0] < 0 || efd[1] < 0) {
		fail(o, "raw set-up: %s", strerror(errno));
		if (*shm != MAP_FAILED)
			munmap(*shm, *shm_size);
		*shm = NULL;
		close_pair(efd);
		return false;
	}
	return true;
}

static void role_fill(struct role *r, const struct run *rn, unsigned l,
		      unsigned k)
{
	r->sys = rn->sys;
	r->kind = rn->kind;
	r->link = l;
	r->role = k;
	if (rn->ndev > 0)   /* devices 0..ndev-1 of links c0.. */
		snprintf(r->name, sizeof(r->name), "sc%c", k ? 'r' : 's');
	else if (rn->kind == K_IDLE)
		snprintf(r->name, sizeof(r->name), "idle-%c", k ? 'b' : 'a');
	else
		snprintf(r->name, sizeof(r->name), "%c%c%u",
			 rn->link_prefix, k ? 'r' : 's', l);
	r->payload = rn->payload;
	r->buf_size = rn->buf_size;
	r->buf_count = rn->buf_count;
	r->count = rn->per_link;
	r->warmup = rn->warmup;
	r->ndev = rn->ndev;
	r->active = rn->active ? rn->active : rn->ndev;
}

/* Fork both children of link l; false when the measurement failed. */
static bool spawn_link(struct meas *m, unsigned l)
{
	uint8_t *shm = NULL;
	size_t shm_size = 0;
	int efd[2] = { -1, -1 };

	if (m->rn->sys == SYS_RAW &&
	    !raw_link_setup(m->o, m->rn, &shm, &shm_size, efd))
		return false;
	for (unsigned k = 0; k < 2; k++) {
		struct role *r = &m->roles[2 * l + k];

		role_fill(r, m->rn, l, k);
		r->shm = shm;
		r->shm_size = shm_size;
		r->efd[0] = efd[0];
		r->efd[1] = efd[1];
		m->pids[2 * l + k] = spawn(r);
		if (m->pids[2 * l + k] < 0) {
			fail(m->o, "fork: %s", strerror(errno));
			break;
		}
		m->started++;
	}
	if (shm != NULL)
		munmap(shm, shm_size);
	close_pair(efd);
	return m->o->ok;
}

/* Fork everybody, keep the parent's ends of the pipes, wait until every
 * child is set up (or failed and said so). */
static void start_children(struct meas *m)
{
	char c;

	for (unsigned l = 0; l < m->rn->links && m->o->ok; l++)
		if (!spawn_link(m, l))
			break;
	close_one(&S.ready[1]);
	close_one(&S.res[1]);
	close_one(&S.go[0]);
	close_one(&S.quit[0]);
	for (unsigned i = 0; i < m->started && m->o->ok; i++)
		if (read_full(S.ready[0], &c, 1, 60000) < 0)
			fail(m->o, "a partition process did not get ready within 60 s");
	if (m->rn->sys == SYS_XENAMP && !backend_alive())
		fail(m->o, "xenamp-backend died (see %s)", B.log);
}

/* Read every started child's result; on a timeout, only those read so
 * far count. */
static void collect(struct meas *m, int timeout_ms, const char *what)
{
	for (unsigned i = 0; i < m->started; i++)
		if (read_full(S.res[0], &m->res[i], sizeof(m->res[i]), timeout_ms) < 0) {
			fail(m->o, "%s", what);
			m->started = i;
			break;
		}
}

/* CPU of the backend and of the idle children over --seconds, after the
 * handshakes and the name service had half a second to settle. */
static void idle_sample(struct meas *m, long long *p0, long long *p1)
{
	const struct run *rn = m->rn;
	long long be0, be1, ns0, ns1;

	usleep(500000);
	be0 = rn->sys == SYS_XENAMP ? proc_ticks(B.backend_pid) : 0;
	ns0 = rn->sys == SYS_XENAMP ? proc_run_ns(B.backend_pid) : -1;
	for (unsigned i = 0; i < m->nch; i++)
		p0[i] = proc_ticks(m->pids[i]);
	usleep((useconds_t)(B.idle_s * 1e6));
	be1 = rn->sys == SYS_XENAMP ? proc_ticks(B.backend_pid) : 0;
	ns1 = rn->sys == SYS_XENAMP ? proc_run_ns(B.backend_pid) : -1;
	for (unsigned i = 0; i < m->nch; i++)
		p1[i] = proc_ticks(m->pids[i]);
	m->o->run_be_ok = ns0 >= 0 && ns1 >= ns0;
	m->o->run_be_ns = m->o->run_be_ok ? (uint64_t)(ns1 - ns0) : 0;
	m->o->idle_be_ms = (double)ticks_ns(be1 - be0) / 1e6;
	for (unsigned i = 0; i < m->nch; i++)
		m->o->idle_part_ms += (double)ticks_ns(p1[i] - p0[i]) / 1e6;
}

static void measure_idle(struct meas *m)
{
	long long *p0 = calloc(m->nch, sizeof(*p0));
	long long *p1 = calloc(m->nch, sizeof(*p1));

	if (p0 == NULL || p1 == NULL)
		fail(m->o, "out of memory");
	if (m->o->ok)
		idle_sample(m, p0, p1);
	close_one(&S.go[1]);
	close_one(&S.quit[1]);
	collect(m, 30000, "a partition did not report");
	free(p0);
	free(p1);
}

/* "go", then every result, with the backend's CPU, system calls and
 * notification counters over that span (its control requests, which
 * cost it system calls, are made outside the span); "quit" only after,
 * so that tear-down never counts. */
static void measure_timed(struct meas *m)
{
	bool xa = m->rn->sys == SYS_XENAMP;
	uint64_t k0 = 0, c0 = 0, k1 = 0, c1 = 0;
	long long be0, be1, ns0, ns1;
	char what[96];
	bool ctl_ok = xa && backend_notify_counts(&k0, &c0);
	int sc = xa ? sc_start(B.backend_pid) : -1;

	snprintf(what, sizeof(what),
		 "a partition process neither finished nor reported within %d s",
		 STALL_S + 60);
	be0 = xa ? proc_ticks(B.backend_pid) : 0;
	ns0 = xa ? proc_run_ns(B.backend_pid) : -1;
	close_one(&S.go[1]);
	collect(m, (STALL_S + 60) * 1000, what);
	be1 = xa ? proc_ticks(B.backend_pid) : 0;
	ns1 = xa ? proc_run_ns(B.backend_pid) : -1;
	m->o->run_be_ok = ns0 >= 0 && ns1 >= ns0;
	m->o->run_be_ns = m->o->run_be_ok ? (uint64_t)(ns1 - ns0) : 0;
	m->o->sc_ok[2] = sc_stop(sc, &m->o->sc[2]);
	m->o->cpu_be_ns = ticks_ns(be1 - be0);
	m->o->calls_ok = ctl_ok && backend_notify_counts(&k1, &c1);
	if (m->o->calls_ok)
		m->o->calls_be = c1 - c0;
	close_one(&S.quit[1]);
}

/* Add one child's record to the outcome: senders give the start of the
 * phase, receivers its end (one-way); the ping-pong client gives all. */
static void combine_one(struct outcome *o, enum kind kind,
			const struct child_res *x)
{
	o->cpu_part_ns += x->cpu_ns;
	o->bad += x->bad;
	o->kicks_part += x->kicks;
	/* Every child of a measurement covers the same messages; the
	 * sender's (client's) count is the one kept. */
	if (x->role == 0)
		o->phase_msgs += x->phase_msgs;
	o->sc[x->role ? 1 : 0] += x->syscalls;
	if (!x->sc_ok)
		o->sc_ok[x->role ? 1 : 0] = false;
	if (x->role == 0 && x->t_start < o->t0)
		o->t0 = x->t_start;
	if (kind == K_ONEWAY) {
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

static void combine(struct meas *m)
{
	const struct run *rn = m->rn;
	struct outcome *o = m->o;

	o->t0 = UINT64_MAX;
	/* System calls of a role are known when every child of it counted. */
	o->sc_ok[0] = o->sc_ok[1] = m->started > 0;
	for (unsigned i = 0; i < m->started; i++) {
		const struct child_res *x = &m->res[i];

		if (x->status != 0)
			fail(o, "link %u %s: %s", x->link,
			     x->role ? "receiver" : "sender", x->err);
		if (rn->kind != K_IDLE)
			combine_one(o, rn->kind, x);
	}
	if (rn->kind != K_IDLE) {
		uint64_t want = (uint64_t)rn->links * rn->per_link;

		if (o->ok && (o->received != want || o->bad != 0))
			fail(o, "%llu of %llu messages arrived intact (%llu out of order)",
			     (unsigned long long)o->received, (unsigned long long)want,
			     (unsigned long long)o->bad);
	}
}

/* Wait for every child; after a failure, kill them first. */
static void reap(struct meas *m)
{
	for (unsigned i = 0; i < m->nch && m->pids != NULL; i++) {
		int st;

		if (m->pids[i] <= 0)
			continue;
		if (!m->o->ok)
			kill(m->pids[i], SIGKILL);
		while (waitpid(m->pids[i], &st, 0) < 0 && errno == EINTR)
			;
		if (m->o->ok && !(WIFEXITED(st) && WEXITSTATUS(st) == 0))
			fail(m->o, "partition process %u exited abnormally (status 0x%x)", i, st);
	}
}

void run_one(const struct run *rn, struct outcome *o)
{
	struct meas m = { .rn = rn, .o = o, .nch = 2 * rn->links };

	memset(o, 0, sizeof(*o));
	o->ok = true;
	m.pids = calloc(m.nch, sizeof(*m.pids));
	m.roles = calloc(m.nch, sizeof(*m.roles));
	m.res = calloc(m.nch, sizeof(*m.res));
	if (m.pids == NULL || m.roles == NULL || m.res == NULL || pipes_open() < 0) {
		fail(o, "out of memory or file descriptors");
	} else {
		if (rn->ndev > 0)
			backend_mem(&o->rss0, &o->pss0);
		start_children(&m);
		if (rn->ndev > 0 && o->ok) {
			int c = backend_connected_ends(rn->link_prefix == 'c' ? "sc" : "");

			backend_mem(&o->rss1, &o->pss1);
			o->connected = c > 0 ? (unsigned)c : 0;
		}
		if (rn->kind == K_IDLE)
			measure_idle(&m);
		else
			measure_timed(&m);
		combine(&m);
	}
	pipes_close();
	reap(&m);
	free(m.pids);
	free(m.roles);
	free(m.res);
}

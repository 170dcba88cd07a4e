/* Local backend transport (docs/protocol.md, "Local socket protocol"):
 * partitions are processes that reach the backend over a UNIX
 * SOCK_SEQPACKET socket (local_proto.h), share their region as a memfd and
 * notify over a socketpair the backend makes. The same socket serves
 * xenampctl (CTL_REQ instead of HELLO). The limits against clients
 * (connections, per uid, silent clients, queued replies) are in
 * docs/security.md.
 *
 * Nothing a client sends is trusted more than a Xen guest's grants:
 *   - datagrams must have the exact size of their type; names must be
 *     NUL-terminated printable ASCII;
 *   - REGION must carry exactly one fd, the memfd; its real size must
 *     equal the announced one, a multiple of 4096 within the end's page cap;
 *   - the memfd must live on tmpfs (memfd_create without MFD_HUGETLB):
 *     a hugetlbfs file can lose its pages under the mapping (a hole punch
 *     is not stopped by F_SEAL_SHRINK, and freed huge pages can be taken
 *     by someone else), and the backend's next access is SIGBUS. tmpfs
 *     refills a punched hole with zeros instead;
 *   - the memfd is sealed against shrinking (F_SEAL_SHRINK) before it is
 *     mapped: otherwise the partition could truncate it and the backend
 *     would take SIGBUS on its next access -- one process crashing every
 *     link. A memfd created without MFD_ALLOW_SEALING is refused;
 *   - notifications (kicks and calls) travel over a stream socketpair the
 *     backend creates itself; see lb_notify_pair() for why not eventfds.
 *     The backend's end never leaves the backend, and every send and
 *     receive on it is MSG_DONTWAIT, so nothing the partition does to its
 *     own end (file status flags, a full buffer, shutdown) can block the
 *     backend;
 *   - fds that arrive with any other message, or beyond the one, are
 *     closed at once;
 *   - the name in HELLO is only taken from a peer whose credentials
 *     (SO_PEERCRED, SO_PEERGROUPS) the configuration binds to it
 *     (claim_allowed()); a partition that has its PARAMS must send REGION
 *     within region-timeout-ms, or the end is freed again.
 * One client misbehaving closes that client only. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <malloc.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/timerfd.h>
#include <sys/types.h>
#include <sys/un.h>
#include <unistd.h>

#include "backend/transport/be_transport.h"
#include "common/local_proto.h"
#include "common/partition_name.h"
#include "common/refusal.h"
#include "common/xa_time.h"

#define LB_BATCH 64u            /* epoll events read per refill */
/* Defaults of the limits in struct xa_be_opts (docs/security.md). */
#define LB_MAX_CONNS 1024u      /* clients at once; more are refused */
#define LB_PER_UID 64u          /* of them from one non-root uid */
#define LB_RESERVED 16u         /* kept for root and the backend's uid */
#define LB_HELLO_MS 5000u       /* to say HELLO or CTL_REQ */
#define LB_REGION_MS 10000u     /* from PARAMS to REGION */
#define LB_MAX_GROUPS 65536u    /* NGROUPS_MAX of Linux */
#define LB_CTLQ_MAX ((size_t)1 << 20)    /* unread replies, one client */
#define LB_CTLQ_TOTAL ((size_t)16 << 20) /* ... all control clients */
#define LB_MAX_FDS 8u           /* fds we make room for in one recvmsg */
#define LB_OUTQ_PART 65536u     /* queued to a partition (a few STATEs) */
#define PAGE 4096u
#define LB_ACCEPTS_PER_CALL 16u /* then the relay gets a turn */
#define LB_LISTEN_PAUSE_MS 200  /* listener rests when fds ran out */
#define LB_LOG_EVERY_MS 5000    /* one line per kind of flood */

enum lb_kind { W_LISTEN, W_SOCK, W_KICK, W_TIMER };

/* A log line that a flood can repeat (accept failing, clients refused at a
 * cap): at most one per LB_LOG_EVERY_MS, with the count of those left
 * out. */
struct lb_ratelimit {
	int64_t next_ms;
	unsigned suppressed;
};

struct lb_watch {
	enum lb_kind kind;
	struct xa_be_end *c;
};

enum lb_phase {
	P_NEW,        /* connected, nothing said yet */
	P_APPEARED,   /* HELLO reported; the backend is deciding */
	P_INITWAIT,   /* PARAMS sent, waiting for REGION */
	P_REGION,     /* region reported; the backend is validating */
	P_CONNECTED,
	P_GONE,       /* reported gone; waiting for close_end */
	P_CTL,        /* a control client */
};

struct lb_out {
	struct lb_out *next;
	size_t len;
	unsigned char data[];
};

struct xa_be_ctl {
	struct xa_be_end *conn;
};

struct xa_be_end {
	struct xa_be_end *next, *prev;  /* live list */
	struct xa_be_end *znext;        /* zombie list */
	struct lb_watch wsock, wkick;
	struct xa_be_ctl ctl;
	enum lb_phase phase;
	bool dead;                      /* freed at the next batch refill */
	bool epollout;
	int sock;
	int ntf;                        /* backend's end of the notification pair */
	char name[XA_LOCAL_NAME_MAX];
	unsigned devno;
	char peer[64];
	uid_t uid;                      /* SO_PEERCRED; (uid_t)-1 unknown */
	gid_t gid;
	pid_t pid;
	bool privileged;                /* root or the backend's own uid */
	bool ctl_admin;                 /* a control client in admin-group */
	int64_t born_ms;                /* accepted at (hello timeout) */
	int64_t params_ms;              /* PARAMS sent at (region timeout) */
	void *cookie;
	struct xa_link_params params;
	void *region;
	size_t region_size;
	struct lb_out *outq, *outq_tail;
	size_t outq_bytes;
};

struct lb {
	struct xa_be_transport pub;
	int epfd, lfd;
	struct lb_watch wlisten, wtimer;
	int tfd;                /* timerfd: listener pause, idle clients */
	int spare_fd;           /* kept free for accept() under EMFILE */
	bool listen_paused;
	int64_t listen_resume_ms;
	unsigned accepts;       /* in this next_event() call */
	struct lb_ratelimit rl_accept, rl_refuse, rl_slow, rl_silent, rl_denied;
	bool reap_due;          /* the timer fired: look for late REGIONs */
	/* limits (opts or defaults) */
	unsigned max_conns, per_uid, reserved, hello_ms, region_ms;
	const struct xa_be_claim *claims;
	size_t nclaims;
	bool has_admin_gid;
	gid_t admin_gid;
	size_t ctlq_max, ctlq_total_max;
	size_t ctlq_total;      /* bytes queued to all control clients */
	size_t ctlq_peak;       /* since the queues were last empty */
	char *path;
	dev_t sock_dev;
	ino_t sock_ino;
	struct xa_be_end *conns;
	struct xa_be_end *zombies;
	unsigned nconns;
	struct epoll_event batch[LB_BATCH];
	int nbatch, pos;
	void (*log)(void *ctx, int level, const char *line);
	void *log_ctx;
	char detail[320];
	unsigned char rbuf[XA_LOCAL_MSG_MAX];
};

static struct lb *lb_of(struct xa_be_transport *t)
{
	return t->priv;
}

static void lb_log(struct lb *lb, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void lb_log(struct lb *lb, int level, const char *fmt, ...)
{
	char line[400];
	va_list ap;

	if (lb->log == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	lb->log(lb->log_ctx, level, line);
}

static void lb_log_rl(struct lb *lb, struct lb_ratelimit *rl, int level,
		      const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void lb_log_rl(struct lb *lb, struct lb_ratelimit *rl, int level,
		      const char *fmt, ...)
{
	char line[400];
	int64_t now = xa_now_ms();
	va_list ap;

	if (now < rl->next_ms) {
		rl->suppressed++;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (rl->suppressed)
		lb_log(lb, level, "%s (and %u more like it in the last %d s)",
		       line, rl->suppressed, LB_LOG_EVERY_MS / 1000);
	else
		lb_log(lb, level, "%s", line);
	rl->suppressed = 0;
	rl->next_ms = now + LB_LOG_EVERY_MS;
}

static void seterr(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static void close_fd(int *fd)
{
	if (*fd >= 0) {
		close(*fd);
		*fd = -1;
	}
}

/* ------------------------------------------------------------------ */
/* Sending                                                             */

static void conn_kill(struct lb *lb, struct xa_be_end *c);

/* len bytes left a control client's queue. When all the queues have
 * drained after holding a lot, give the memory back to the system: the
 * allocator keeps freed small blocks otherwise, and a burst of slow
 * clients would leave the backend big for good. */
static void outq_gone(struct lb *lb, struct xa_be_end *c, size_t len)
{
	if (c->phase != P_CTL)
		return;
	lb->ctlq_total -= len;
	if (lb->ctlq_total == 0 && lb->ctlq_peak > ((size_t)1 << 20)) {
		lb->ctlq_peak = 0;
#ifdef __GLIBC__
		malloc_trim(0);
#endif
	}
}

/* May c queue len more bytes? A partition only ever has a few STATE or
 * ERROR datagrams queued. A control client has its own cap, and all of
 * them together share ctlq_total_max: when that is reached the slowest
 * reader (the largest queue) is dropped to make room, unless that is c
 * itself. Memory for unread replies is therefore bounded whatever the
 * number of clients. */
static bool outq_room(struct lb *lb, struct xa_be_end *c, size_t len)
{
	if (c->phase != P_CTL)
		return c->outq_bytes + len <= LB_OUTQ_PART;
	if (c->outq_bytes + len > lb->ctlq_max)
		return false;
	while (lb->ctlq_total + len > lb->ctlq_total_max) {
		struct xa_be_end *big = c;

		for (struct xa_be_end *o = lb->conns; o != NULL; o = o->next)
			if (o->phase == P_CTL && o->outq_bytes > big->outq_bytes)
				big = o;
		if (big == c)
			return false;
		lb_log_rl(lb, &lb->rl_slow, XA_BE_LOG_WARNING,
			  "control client (%s) dropped: %zu KiB of replies unread while all control clients hold %zu KiB (ctl-queue-total-kib)",
			  big->peer, big->outq_bytes >> 10, lb->ctlq_total >> 10);
		conn_kill(lb, big);
	}
	return true;
}

/* Send one datagram now, or queue it behind earlier ones. Returns 0, or
 * -errno when the client must be dropped. */
static int conn_send(struct lb *lb, struct xa_be_end *c, const void *buf,
		     size_t len)
{
	if (c->sock < 0)
		return -EPIPE;
	if (c->outq == NULL) {
		ssize_t n = send(c->sock, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n == (ssize_t)len)
			return 0;
		if (n >= 0)
			return -EMSGSIZE;  /* seqpacket: all or nothing */
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return -errno;
	}
	if (!outq_room(lb, c, len))
		return -ENOBUFS;

	struct lb_out *o = malloc(sizeof(*o) + len);

	if (o == NULL)
		return -ENOMEM;
	o->next = NULL;
	o->len = len;
	memcpy(o->data, buf, len);
	if (c->outq_tail)
		c->outq_tail->next = o;
	else
		c->outq = o;
	c->outq_tail = o;
	c->outq_bytes += len;
	if (c->phase == P_CTL) {
		lb->ctlq_total += len;
		if (lb->ctlq_total > lb->ctlq_peak)
			lb->ctlq_peak = lb->ctlq_total;
	}
	if (!c->epollout) {
		struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT,
					  .data.ptr = &c->wsock };

		if (epoll_ctl(lb->epfd, EPOLL_CTL_MOD, c->sock, &ev) < 0)
			return -errno;
		c->epollout = true;
	}
	return 0;
}

static int conn_flush(struct lb *lb, struct xa_be_end *c)
{
	while (c->outq) {
		struct lb_out *o = c->outq;
		ssize_t n = send(c->sock, o->data, o->len,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			return -errno;
		}
		c->outq = o->next;
		if (c->outq == NULL)
			c->outq_tail = NULL;
		c->outq_bytes -= o->len;
		outq_gone(lb, c, o->len);
		free(o);
	}
	if (c->epollout) {
		struct epoll_event ev = { .events = EPOLLIN,
					  .data.ptr = &c->wsock };

		if (epoll_ctl(lb->epfd, EPOLL_CTL_MOD, c->sock, &ev) < 0)
			return -errno;
		c->epollout = false;
	}
	return 0;
}

/* Tell the client why it is dropped: refusal is an enum xa_refusal. */
static void send_error(struct lb *lb, struct xa_be_end *c, int refusal,
		       const char *msg)
{
	struct xa_local_error e;

	memset(&e, 0, sizeof(e));
	e.type = XA_LOCAL_ERROR;
	e.code = refusal;
	snprintf(e.msg, sizeof(e.msg), "%s", msg);
	/* Best effort: the client is being dropped anyway. */
	(void)conn_send(lb, c, &e, sizeof(e));
}

static int send_state(struct lb *lb, struct xa_be_end *c, enum xa_state st)
{
	struct xa_local_state s = { .type = XA_LOCAL_STATE, .state = st };

	return conn_send(lb, c, &s, sizeof(s));
}

/* ------------------------------------------------------------------ */
/* Connection lifetime                                                 */

static void conn_release_resources(struct lb *lb, struct xa_be_end *c)
{
	if (c->ntf >= 0)
		(void)epoll_ctl(lb->epfd, EPOLL_CTL_DEL, c->ntf, NULL);
	if (c->sock >= 0)
		(void)epoll_ctl(lb->epfd, EPOLL_CTL_DEL, c->sock, NULL);
	if (c->region != NULL) {
		munmap(c->region, c->region_size);
		c->region = NULL;
		c->region_size = 0;
	}
	close_fd(&c->ntf);
	if (c->sock >= 0 && c->outq) {
		/* Last chance for an ERROR still queued; the socket buffer
		 * of a client that stopped reading is its own problem. */
		(void)conn_flush(lb, c);
	}
	close_fd(&c->sock);
	while (c->outq) {
		struct lb_out *o = c->outq;

		c->outq = o->next;
		outq_gone(lb, c, o->len);
		free(o);
	}
	c->outq_tail = NULL;
	c->outq_bytes = 0;
}

/* Unlink and free later: events for c may still sit in the current
 * batch, and they must find it (marked dead) rather than freed memory. */
static void conn_kill(struct lb *lb, struct xa_be_end *c)
{
	if (c->dead)
		return;
	conn_release_resources(lb, c);
	c->dead = true;
	if (c->prev)
		c->prev->next = c->next;
	else
		lb->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	c->next = c->prev = NULL;
	c->znext = lb->zombies;
	lb->zombies = c;
	lb->nconns--;
}

static void free_zombies(struct lb *lb)
{
	while (lb->zombies) {
		struct xa_be_end *c = lb->zombies;

		lb->zombies = c->znext;
		free(c);
	}
}

/* The client is gone (EOF, Closing) or broke the protocol. A partition the
 * backend took is reported and kept until close_end(); anything else just
 * goes. Returns 1 when *ev was filled. */
static int conn_gone_as(struct lb *lb, struct xa_be_end *c, int code,
			int refusal, const char *detail, struct xa_be_event *ev)
{
	bool report = c->cookie != NULL &&
		(c->phase == P_INITWAIT || c->phase == P_REGION ||
		 c->phase == P_CONNECTED);

	if (code != 0 && c->sock >= 0)
		send_error(lb, c, refusal, detail);
	if (!report) {
		if (code != 0)
			lb_log(lb, XA_BE_LOG_INFO, "local client (%s%s%s) dropped: %s",
			       c->peer, c->name[0] ? ", partition " : "",
			       c->name, detail);
		conn_kill(lb, c);
		return 0;
	}
	/* Stop listening to it; the region stays mapped until close_end. */
	if (c->ntf >= 0)
		(void)epoll_ctl(lb->epfd, EPOLL_CTL_DEL, c->ntf, NULL);
	if (c->sock >= 0)
		(void)epoll_ctl(lb->epfd, EPOLL_CTL_DEL, c->sock, NULL);
	close_fd(&c->sock);
	c->phase = P_GONE;
	snprintf(lb->detail, sizeof(lb->detail), "%s", detail);
	memset(ev, 0, sizeof(*ev));
	ev->type = XA_BE_EV_END_GONE;
	ev->end = c;
	ev->cookie = c->cookie;
	ev->code = code;
	ev->detail = lb->detail;
	return 1;
}

/* conn_gone with the refusal the errno code stands for. */
static int conn_gone(struct lb *lb, struct xa_be_end *c, int code,
		     const char *detail, struct xa_be_event *ev)
{
	return conn_gone_as(lb, c, code, xa_refusal_of_errno(code), detail, ev);
}

/* Wake up in ms (or sooner, if already set to). */
static void timer_arm(struct lb *lb, int ms)
{
	struct itimerspec cur, its;

	memset(&its, 0, sizeof(its));
	if (ms < 1)
		ms = 1;
	its.it_value.tv_sec = ms / 1000;
	its.it_value.tv_nsec = (long)(ms % 1000) * 1000000L;
	if (timerfd_gettime(lb->tfd, &cur) == 0 &&
	    (cur.it_value.tv_sec || cur.it_value.tv_nsec) &&
	    (cur.it_value.tv_sec < its.it_value.tv_sec ||
	     (cur.it_value.tv_sec == its.it_value.tv_sec &&
	      cur.it_value.tv_nsec <= its.it_value.tv_nsec)))
		return;
	(void)timerfd_settime(lb->tfd, 0, &its, NULL);
}

static void listen_pause(struct lb *lb)
{
	if (lb->listen_paused)
		return;
	(void)epoll_ctl(lb->epfd, EPOLL_CTL_DEL, lb->lfd, NULL);
	lb->listen_paused = true;
	lb->listen_resume_ms = xa_now_ms() + LB_LISTEN_PAUSE_MS;
	timer_arm(lb, LB_LISTEN_PAUSE_MS);
}

static void listen_resume(struct lb *lb)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &lb->wlisten };

	if (!lb->listen_paused || xa_now_ms() < lb->listen_resume_ms)
		return;
	if (epoll_ctl(lb->epfd, EPOLL_CTL_ADD, lb->lfd, &ev) == 0 ||
	    errno == EEXIST)
		lb->listen_paused = false;
	else
		listen_pause(lb);   /* try again later */
}

/* accept() failed with EMFILE or ENFILE. A pending connection that is not
 * taken keeps the listener readable, so without this the loop would spin
 * on it (100 % CPU, a log line each time) and never serve the links.
 * Close the spare fd kept for this moment, take the connection and close
 * it at once (the client sees the connection closed), take the spare
 * back. If the spare cannot be had again (ENFILE: another process took
 * the slot), stop watching the listener for LB_LISTEN_PAUSE_MS. */
static void accept_out_of_fds(struct lb *lb, int err)
{
	lb_log_rl(lb, &lb->rl_accept, XA_BE_LOG_WARNING,
		  "out of file descriptors (%s): refusing new clients on %s; raise LimitNOFILE (ulimit -n) or lower max-clients",
		  strerror(err), lb->path);
	if (lb->spare_fd >= 0) {
		close_fd(&lb->spare_fd);
		int fd = accept4(lb->lfd, NULL, NULL, SOCK_CLOEXEC);

		if (fd >= 0)
			close(fd);
		lb->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (fd >= 0 && lb->spare_fd >= 0)
			return;
	}
	listen_pause(lb);
}

static bool uid_privileged(uid_t uid)
{
	return uid == 0 || uid == geteuid();
}

/* May a client of this uid have one more connection? Everyone shares
 * max_conns, but the last `reserved` slots are for root and the backend's
 * own uid (xenampctl run by the administrator, a restarted partition), and
 * other uids have at most per_uid each: one user's idle connections can
 * lock out neither another user nor the administrator. */
static bool admit(struct lb *lb, uid_t uid)
{
	bool priv = uid_privileged(uid);
	unsigned mine = 0;
	const char *why = NULL;

	if (lb->nconns >= lb->max_conns)
		why = "max-clients";
	else if (!priv && lb->nconns >= lb->max_conns - lb->reserved)
		why = "reserved-clients (the rest are kept for root)";
	if (why == NULL && !priv) {
		for (struct xa_be_end *o = lb->conns; o != NULL; o = o->next)
			mine += o->uid == uid;
		if (mine >= lb->per_uid)
			why = "max-clients-per-uid";
	}
	if (why == NULL)
		return true;
	lb_log_rl(lb, &lb->rl_refuse, XA_BE_LOG_WARNING,
		  "refusing a client of uid %ld on %s: %u clients connected, %u of them of this uid; limit %s",
		  (long)uid, lb->path, lb->nconns, mine, why);
	return false;
}

#ifndef SO_PEERGROUPS
#define SO_PEERGROUPS 59        /* Linux 4.13 */
#endif

/* Is c's peer in group g: its gid (SO_PEERCRED) or one of its
 * supplementary groups (SO_PEERGROUPS)? Both are what the kernel recorded
 * at connect(): the peer cannot change them afterwards. */
static bool peer_in_group(struct xa_be_end *c, gid_t g)
{
	gid_t small[64], *v = small;
	socklen_t len = sizeof(small);
	bool in = false;

	if (c->uid == (uid_t)-1 || c->sock < 0)
		return false;
	if (c->gid == g)
		return true;
	if (getsockopt(c->sock, SOL_SOCKET, SO_PEERGROUPS, v, &len) < 0) {
		if (errno != ERANGE || len > LB_MAX_GROUPS * sizeof(gid_t))
			return false;
		v = malloc(len);
		if (v == NULL ||
		    getsockopt(c->sock, SOL_SOCKET, SO_PEERGROUPS, v, &len) < 0) {
			free(v);
			return false;
		}
	}
	for (size_t i = 0; i < len / sizeof(gid_t); i++)
		in = in || v[i] == g;
	if (v != small)
		free(v);
	return in;
}

/* May c be the partition called name? Root and the backend's own uid
 * may be any (they are trusted: docs/security.md); anyone else only a
 * name whose [partition NAME] entry lists its uid or one of its groups.
 * So a name nobody configured is safe by default: an ordinary user
 * cannot take 'fw' just by saying it first. */
static bool claim_allowed(struct lb *lb, struct xa_be_end *c, const char *name)
{
	if (c->privileged)
		return true;
	if (c->uid == (uid_t)-1)
		return false;
	for (size_t i = 0; i < lb->nclaims; i++) {
		const struct xa_be_claim *k = &lb->claims[i];

		if (strcmp(k->partition, name) != 0)
			continue;
		for (unsigned j = 0; j < k->nuids; j++)
			if (k->uids[j] == (uint32_t)c->uid)
				return true;
		for (unsigned j = 0; j < k->ngids; j++)
			if (peer_in_group(c, (gid_t)k->gids[j]))
				return true;
		return false;
	}
	return false;
}

/* HELLO named a partition c may not be: one log line with the name and
 * the real credentials (rate-limited: a loop of connects must not flood
 * the log), DENIED to the client, and the connection goes. */
static void refuse_claim(struct lb *lb, struct xa_be_end *c, const char *name)
{
	char msg[256];

	lb_log_rl(lb, &lb->rl_denied, XA_BE_LOG_WARNING,
		  "refused partition name '%s' to pid %ld uid %ld gid %ld: only root, the backend's uid and the uids and groups of [partition %s] may claim it",
		  name, (long)c->pid, (long)c->uid, (long)c->gid, name);
	snprintf(msg, sizeof(msg),
		 "uid %ld may not be partition '%s': the backend's configuration must name this uid or one of its groups in [partition %s]",
		 (long)c->uid, name, name);
	send_error(lb, c, XA_REFUSE_DENIED, msg);
	conn_kill(lb, c);
}

/* A partition that has its PARAMS but sent no REGION within region_ms
 * holds the end for nothing: report the first such one gone (1 and *ev
 * filled; lb->reap_due stays set so that the next call looks again).
 * When there is none, re-arm the timer for the next one due and return
 * 0. */
static int reap_late_region(struct lb *lb, struct xa_be_event *ev)
{
	int64_t now = xa_now_ms(), next = -1;
	char msg[128];

	for (struct xa_be_end *c = lb->conns; c != NULL; c = c->next) {
		int64_t due = c->params_ms + (int64_t)lb->region_ms;

		if (c->phase != P_INITWAIT)
			continue;
		if (due <= now) {
			snprintf(msg, sizeof(msg),
				 "sent no REGION within %u ms of PARAMS (region-timeout-ms)",
				 lb->region_ms);
			return conn_gone_as(lb, c, -ETIMEDOUT, XA_REFUSE_PROTOCOL,
					    msg, ev);
		}
		if (next < 0 || due < next)
			next = due;
	}
	lb->reap_due = false;
	if (next >= 0)
		timer_arm(lb, (int)(next - now));
	return 0;
}

/* Drop clients that have said nothing (no HELLO, no CTL_REQ) for
 * hello_ms: a connection costs a slot and an fd, and one that never names
 * itself would otherwise keep them for ever. Re-arms the timer for the
 * next one due. */
static void reap_silent(struct lb *lb)
{
	int64_t now = xa_now_ms(), next = -1;
	struct xa_be_end *c = lb->conns;

	while (c != NULL) {
		struct xa_be_end *nx = c->next;
		int64_t due = c->born_ms + (int64_t)lb->hello_ms;

		if (c->phase == P_NEW && due <= now) {
			lb_log_rl(lb, &lb->rl_silent, XA_BE_LOG_INFO,
				  "local client (%s) dropped: it said nothing within %u ms (hello-timeout-ms)",
				  c->peer, lb->hello_ms);
			conn_kill(lb, c);
		} else if (c->phase == P_NEW && (next < 0 || due < next)) {
			next = due;
		}
		c = nx;
	}
	if (next >= 0)
		timer_arm(lb, (int)(next - now));
}

static void do_accept_conn(struct lb *lb)
{
	int fd = accept4(lb->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

	if (fd < 0) {
		int e = errno;

		if (e == EMFILE || e == ENFILE)
			accept_out_of_fds(lb, e);
		else if (e == ENOBUFS || e == ENOMEM)
			listen_pause(lb);   /* no memory: let the relay run */
		if (e != EAGAIN && e != EWOULDBLOCK && e != EINTR &&
		    e != ECONNABORTED && e != EMFILE && e != ENFILE)
			lb_log_rl(lb, &lb->rl_accept, XA_BE_LOG_WARNING,
				  "accept on %s: %s", lb->path, strerror(e));
		return;
	}
	struct ucred cred;
	socklen_t cl = sizeof(cred);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cl) < 0) {
		cred.pid = 0;
		cred.uid = (uid_t)-1;
	}
	if (!admit(lb, cred.uid)) {
		close(fd);
		return;
	}

	struct xa_be_end *c = calloc(1, sizeof(*c));

	if (c == NULL) {
		close(fd);
		return;
	}
	c->uid = cred.uid;
	c->gid = cred.uid != (uid_t)-1 ? cred.gid : (gid_t)-1;
	c->pid = cred.pid;
	c->privileged = uid_privileged(cred.uid);
	c->born_ms = xa_now_ms();
	c->sock = fd;
	c->ntf = -1;
	c->phase = P_NEW;
	c->wsock.kind = W_SOCK;
	c->wsock.c = c;
	c->wkick.kind = W_KICK;
	c->wkick.c = c;
	c->ctl.conn = c;

	if (cred.uid != (uid_t)-1)
		snprintf(c->peer, sizeof(c->peer), "pid %ld uid %ld",
			 (long)cred.pid, (long)cred.uid);
	else
		snprintf(c->peer, sizeof(c->peer), "unknown peer");

	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &c->wsock };

	if (epoll_ctl(lb->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		lb_log(lb, XA_BE_LOG_WARNING, "epoll_ctl: %s", strerror(errno));
		close(fd);
		free(c);
		return;
	}
	c->next = lb->conns;
	if (lb->conns)
		lb->conns->prev = c;
	lb->conns = c;
	lb->nconns++;
	timer_arm(lb, (int)lb->hello_ms);
}

/* ------------------------------------------------------------------ */
/* Receiving                                                           */

static void close_fds(int *fds, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

/* Only memory the backend can never fault on: a tmpfs (shmem) file, which
 * is what memfd_create() without MFD_HUGETLB makes. Anything else is
 * refused, hugetlbfs by name because it is the likely mistake. */
static bool region_fs_ok(int fd, char *msg, size_t msglen)
{
	struct statfs sf;

	if (fstatfs(fd, &sf) < 0) {
		seterr(msg, msglen, "fstatfs of the region memfd: %s",
		       strerror(errno));
		return false;
	}
	if ((unsigned long)sf.f_type == (unsigned long)TMPFS_MAGIC)
		return true;
	if ((unsigned long)sf.f_type == (unsigned long)HUGETLBFS_MAGIC)
		seterr(msg, msglen,
		       "the region memfd is on hugetlbfs, whose pages can vanish under the backend (SIGBUS); create it with memfd_create(..., MFD_ALLOW_SEALING) without MFD_HUGETLB");
	else
		seterr(msg, msglen,
		       "the region fd is on file system type 0x%lx, not tmpfs; create it with memfd_create(..., MFD_ALLOW_SEALING)",
		       (unsigned long)sf.f_type);
	return false;
}

/* REGION with its fd: check, seal, map. On success c owns the mapping
 * (the memfd is closed by the caller). Returns 0 or a negative errno with
 * msg filled. */
static int take_region(struct lb *lb, struct xa_be_end *c,
		       const struct xa_local_region *r, int *fds,
		       unsigned nfds, char *msg, size_t msglen)
{
	uint64_t max = (uint64_t)c->params.max_pages * PAGE;
	struct stat st;
	int seals;

	if (nfds != 1) {
		seterr(msg, msglen,
		       "REGION must carry exactly 1 fd (the region memfd); it carried %u",
		       nfds);
		return -EINVAL;
	}
	if (r->size == 0 || r->size % PAGE != 0) {
		seterr(msg, msglen,
		       "region size %llu is not a non-zero multiple of 4096",
		       (unsigned long long)r->size);
		return -EINVAL;
	}
	if (r->size > max) {
		seterr(msg, msglen,
		       "region of %llu bytes exceeds this end's cap of %u pages (%llu bytes; max-pages in the backend config)",
		       (unsigned long long)r->size, c->params.max_pages,
		       (unsigned long long)max);
		return -EFBIG;
	}
	if (fstat(fds[0], &st) < 0 || !S_ISREG(st.st_mode)) {
		seterr(msg, msglen, "the region fd is not a memfd");
		return -EINVAL;
	}
	if (!region_fs_ok(fds[0], msg, msglen))
		return -EINVAL;
	/* Seal before looking at the size: after this it can only grow. */
	seals = fcntl(fds[0], F_GET_SEALS);
	if (seals < 0) {
		seterr(msg, msglen, "the region fd is not a memfd (F_GET_SEALS: %s)",
		       strerror(errno));
		return -EINVAL;
	}
	if (!(seals & F_SEAL_SHRINK) &&
	    fcntl(fds[0], F_ADD_SEALS, F_SEAL_SHRINK) < 0) {
		seterr(msg, msglen,
		       "cannot seal the region memfd against shrinking (%s); create it with memfd_create(..., MFD_ALLOW_SEALING)",
		       strerror(errno));
		return -EPERM;
	}
	if (fstat(fds[0], &st) < 0) {
		seterr(msg, msglen, "fstat of the region memfd: %s", strerror(errno));
		return -errno;
	}
	if ((uint64_t)st.st_size != r->size) {
		seterr(msg, msglen,
		       "region memfd holds %lld bytes but REGION announced %llu",
		       (long long)st.st_size, (unsigned long long)r->size);
		return -EINVAL;
	}
	void *p = mmap(NULL, (size_t)r->size, PROT_READ | PROT_WRITE,
		       MAP_SHARED, fds[0], 0);

	if (p == MAP_FAILED) {
		int e = errno;

		seterr(msg, msglen, "cannot map the region: %s", strerror(e));
		return -e;
	}

	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &c->wkick };

	if (epoll_ctl(lb->epfd, EPOLL_CTL_ADD, c->ntf, &ev) < 0) {
		int e = errno;

		munmap(p, (size_t)r->size);
		seterr(msg, msglen, "epoll_ctl on the notification socket: %s",
		       strerror(e));
		return -e;
	}
	close_fd(&fds[0]);   /* the mapping keeps the memory */
	c->region = p;
	c->region_size = (size_t)r->size;
	return 0;
}

static const char *type_name(uint32_t t)
{
	switch (t) {
	case XA_LOCAL_HELLO: return "HELLO";
	case XA_LOCAL_PARAMS: return "PARAMS";
	case XA_LOCAL_REGION: return "REGION";
	case XA_LOCAL_STATE: return "STATE";
	case XA_LOCAL_ERROR: return "ERROR";
	case XA_LOCAL_CTL_REQ: return "CTL_REQ";
	case XA_LOCAL_CTL_REPLY: return "CTL_REPLY";
	default: return "unknown";
	}
}

/* Read and handle one datagram from c. Returns 1 with *ev filled, 0 when
 * there was nothing to report. */
/* One datagram as conn_read received it: its length and type, the fds
 * that came with it (owned until handed on or closed) and its flags. */
struct lb_dgram {
	ssize_t n;
	uint32_t type;
	int fds[LB_MAX_FDS];
	unsigned nfds;
	int flags;              /* msghdr.msg_flags */
};

/* HELLO from a new client: check version, name and who may claim it. */
static int read_hello(struct lb *lb, struct xa_be_end *c,
		      const struct lb_dgram *d, struct xa_be_event *ev)
{
	struct xa_local_hello h;
	char msg[256];

	if ((size_t)d->n != sizeof(h))
		return conn_gone(lb, c, -EPROTO, "HELLO has the wrong size", ev);
	memcpy(&h, lb->rbuf, sizeof(h));
	if (h.version != XA_LOCAL_PROTO_VERSION) {
		snprintf(msg, sizeof(msg),
			 "protocol version %u is not supported (this backend speaks %u); use matching xenamp versions",
			 h.version, XA_LOCAL_PROTO_VERSION);
		return conn_gone(lb, c, -EPROTONOSUPPORT, msg, ev);
	}
	if (xa_partition_name_check_field(h.name, sizeof(h.name), msg, sizeof(msg)) < 0)
		return conn_gone(lb, c, -EINVAL, msg, ev);
	if (!claim_allowed(lb, c, h.name)) {
		refuse_claim(lb, c, h.name);
		return 0;
	}
	memcpy(c->name, h.name, sizeof(c->name));
	c->devno = h.devno;
	c->phase = P_APPEARED;
	memset(ev, 0, sizeof(*ev));
	ev->type = XA_BE_EV_END_APPEARED;
	ev->end = c;
	ev->partition = c->name;
	ev->devno = c->devno;
	ev->peer = c->peer;
	return 1;
}

/* REGION in InitWait: take the memfd (the fds are closed either way). */
static int read_region(struct lb *lb, struct xa_be_end *c, struct lb_dgram *d,
		       struct xa_be_event *ev)
{
	struct xa_local_region r;
	char msg[256];
	int rc;

	if ((size_t)d->n != sizeof(r)) {
		close_fds(d->fds, d->nfds);
		return conn_gone(lb, c, -EPROTO, "REGION has the wrong size", ev);
	}
	memcpy(&r, lb->rbuf, sizeof(r));
	if (d->flags & MSG_CTRUNC) {
		rc = -EINVAL;
		snprintf(msg, sizeof(msg),
			 "REGION must carry exactly 1 fd; it carried more than %u",
			 LB_MAX_FDS);
	} else {
		rc = take_region(lb, c, &r, d->fds, d->nfds, msg, sizeof(msg));
	}
	close_fds(d->fds, d->nfds);
	if (rc < 0)   /* whatever the errno, the region is at fault */
		return conn_gone_as(lb, c, rc, XA_REFUSE_REGION, msg, ev);
	c->phase = P_REGION;
	memset(ev, 0, sizeof(*ev));
	ev->type = XA_BE_EV_REGION_READY;
	ev->end = c;
	ev->cookie = c->cookie;
	ev->region = c->region;
	ev->region_size = c->region_size;
	return 1;
}

/* STATE from a partition: only Closing or Closed may come unasked. */
static int read_state(struct lb *lb, struct xa_be_end *c,
		      const struct lb_dgram *d, struct xa_be_event *ev)
{
	struct xa_local_state s;
	char msg[256];

	if ((size_t)d->n != sizeof(s))
		return conn_gone(lb, c, -EPROTO, "STATE has the wrong size", ev);
	memcpy(&s, lb->rbuf, sizeof(s));
	if (s.state == XA_STATE_CLOSING || s.state == XA_STATE_CLOSED) {
		snprintf(msg, sizeof(msg), "moved to %s", xa_state_name((int)s.state));
		return conn_gone(lb, c, 0, msg, ev);
	}
	snprintf(msg, sizeof(msg), "announced state %u (%s) out of turn",
		 s.state, xa_state_name((int)s.state));
	return conn_gone(lb, c, -EPROTO, msg, ev);
}

/* CTL_REQ from a control client: the request, and who asks. */
static int read_ctl(struct lb *lb, struct xa_be_end *c,
		    const struct lb_dgram *d, struct xa_be_event *ev)
{
	if (d->type != XA_LOCAL_CTL_REQ || (size_t)d->n < sizeof(struct xa_local_ctl))
		return conn_gone(lb, c, -EPROTO,
				 "a control client may only send CTL_REQ", ev);
	memset(ev, 0, sizeof(*ev));
	ev->type = XA_BE_EV_CTL_REQUEST;
	ev->ctl = &c->ctl;
	ev->req = (const char *)lb->rbuf + sizeof(struct xa_local_ctl);
	ev->req_len = (size_t)d->n - sizeof(struct xa_local_ctl);
	ev->ctl_pid = c->uid != (uid_t)-1 ? (long)c->pid : 0;
	ev->ctl_uid = c->uid != (uid_t)-1 ? (long)c->uid : -1;
	ev->ctl_privileged = c->privileged || c->ctl_admin;
	return 1;
}

/* The first message decides what the client is: a control client
 * (CTL_REQ) or a partition (HELLO). */
static int read_first(struct lb *lb, struct xa_be_end *c,
		      const struct lb_dgram *d, struct xa_be_event *ev)
{
	if (d->type == XA_LOCAL_CTL_REQ) {
		c->phase = P_CTL;
		snprintf(c->name, sizeof(c->name), "xenampctl");
		c->ctl_admin = lb->has_admin_gid && peer_in_group(c, lb->admin_gid);
		return read_ctl(lb, c, d, ev);
	}
	if (d->type != XA_LOCAL_HELLO)
		return conn_gone(lb, c, -EPROTO,
				 "the first message must be HELLO or CTL_REQ", ev);
	return read_hello(lb, c, d, ev);
}

/* Dispatch a datagram by the client's phase. */
static int read_in_phase(struct lb *lb, struct xa_be_end *c, struct lb_dgram *d,
			 struct xa_be_event *ev)
{
	char msg[256];

	switch (c->phase) {
	case P_NEW:
		return read_first(lb, c, d, ev);
	case P_INITWAIT:
		if (d->type == XA_LOCAL_STATE)
			return read_state(lb, c, d, ev);
		if (d->type == XA_LOCAL_REGION)
			return read_region(lb, c, d, ev);
		close_fds(d->fds, d->nfds);
		snprintf(msg, sizeof(msg), "sent %s while the backend waits for REGION",
			 type_name(d->type));
		return conn_gone(lb, c, -EPROTO, msg, ev);
	case P_CONNECTED:
		if (d->type == XA_LOCAL_STATE)
			return read_state(lb, c, d, ev);
		snprintf(msg, sizeof(msg), "sent %s while Connected", type_name(d->type));
		return conn_gone(lb, c, -EPROTO, msg, ev);
	case P_CTL:
		return read_ctl(lb, c, d, ev);
	case P_APPEARED:
	case P_REGION:
	case P_GONE:
	default:
		/* The backend answers these synchronously; nothing can
		 * arrive in between. Treat as a violation all the same. */
		snprintf(msg, sizeof(msg), "sent %s out of turn", type_name(d->type));
		return conn_gone(lb, c, -EPROTO, msg, ev);
	}
}

/* Read one datagram of c and act on it: 1 when *ev was filled, else 0. */
static int conn_read(struct lb *lb, struct xa_be_end *c,
		     struct xa_be_event *ev)
{
	union {
		char buf[CMSG_SPACE(LB_MAX_FDS * sizeof(int))];
		struct cmsghdr align;
	} cbuf;
	struct iovec iov = { .iov_base = lb->rbuf, .iov_len = sizeof(lb->rbuf) };
	struct msghdr mh = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf.buf, .msg_controllen = sizeof(cbuf.buf),
	};
	struct lb_dgram d = { .nfds = 0 };
	char msg[256];

	d.n = recvmsg(c->sock, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	if (d.n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return 0;
		snprintf(msg, sizeof(msg), "socket error: %s", strerror(errno));
		return conn_gone(lb, c, 0, msg, ev);
	}
	d.nfds = xa_local_take_fds(&mh, d.fds, LB_MAX_FDS, 0);
	d.flags = mh.msg_flags;
	if (d.n == 0 && d.nfds == 0)
		return conn_gone(lb, c, 0, "closed the connection", ev);
	if (d.flags & MSG_TRUNC) {
		close_fds(d.fds, d.nfds);
		return conn_gone(lb, c, -EMSGSIZE,
				 "sent a datagram larger than 65536 bytes", ev);
	}
	if ((size_t)d.n < sizeof(uint32_t)) {
		close_fds(d.fds, d.nfds);
		return conn_gone(lb, c, -EPROTO, "sent a datagram without a type", ev);
	}
	memcpy(&d.type, lb->rbuf, sizeof(d.type));
	/* Fds are only ever welcome with REGION in InitWait. */
	if (d.nfds && !(d.type == XA_LOCAL_REGION && c->phase == P_INITWAIT)) {
		close_fds(d.fds, d.nfds);
		snprintf(msg, sizeof(msg), "sent file descriptors with %s",
			 type_name(d.type));
		return conn_gone(lb, c, -EPROTO, msg, ev);
	}
	return read_in_phase(lb, c, &d, ev);
}

/* The notification socket is readable: each byte is a kick. One
 * bounded recv per event (level triggering brings us back for the rest);
 * kicks are coalesced anyway. */
static int conn_kick(struct lb *lb, struct xa_be_end *c,
		     struct xa_be_event *ev)
{
	unsigned char buf[256];
	ssize_t n;

	if (c->phase != P_CONNECTED || c->ntf < 0)
		return 0;
	n = recv(c->ntf, buf, sizeof(buf), MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return 0;
	if (n <= 0) {
		/* The partition closed its end: it exited (its control
		 * socket reports that next, as "gone") or it no longer
		 * wants kicks heard, which harms only itself. Stop
		 * watching so that level triggering does not spin. */
		(void)epoll_ctl(lb->epfd, EPOLL_CTL_DEL, c->ntf, NULL);
		return 0;
	}
	memset(ev, 0, sizeof(*ev));
	ev->type = XA_BE_EV_KICK;
	ev->end = c;
	ev->cookie = c->cookie;
	return 1;
}

/* ------------------------------------------------------------------ */
/* Operations                                                          */

static int lb_declare_end(struct xa_be_transport *t, const char *partition,
			  unsigned devno)
{
	(void)t; (void)partition; (void)devno;
	return 0;   /* partitions come to us */
}

static int lb_event_fd(struct xa_be_transport *t)
{
	return lb_of(t)->epfd;
}

/* The timer fired: resume a paused listener, drop silent clients.
 * Re-arms itself while it is still needed. */
static void on_timer(struct lb *lb)
{
	uint64_t n;

	if (read(lb->tfd, &n, sizeof(n)) < 0) {
		/* EAGAIN: already read; the work below is due either way */
	}
	listen_resume(lb);
	reap_silent(lb);
	lb->reap_due = true;   /* lb_next_event() reports late REGIONs */
	if (lb->listen_paused)
		timer_arm(lb, (int)(lb->listen_resume_ms - xa_now_ms()));
}

static int lb_next_event(struct xa_be_transport *t, struct xa_be_event *ev)
{
	struct lb *lb = lb_of(t);

	for (;;) {
		if (lb->reap_due && reap_late_region(lb, ev))
			return 1;
		if (lb->pos >= lb->nbatch) {
			/* Nothing of the last batch is left to point at the
			 * dead: now they can go. */
			free_zombies(lb);
			lb->pos = lb->nbatch = 0;
			int n = epoll_wait(lb->epfd, lb->batch, (int)LB_BATCH, 0);

			if (n < 0)
				return errno == EINTR ? 0 : -errno;
			if (n == 0) {
				lb->accepts = 0;
				return 0;
			}
			lb->nbatch = n;
		}

		struct epoll_event *e = &lb->batch[lb->pos++];
		struct lb_watch *w = e->data.ptr;
		struct xa_be_end *c = w->c;

		switch (w->kind) {
		case W_LISTEN:
			/* A connection flood must not keep this call from
			 * returning: the relay needs its turns. */
			do_accept_conn(lb);
			if (++lb->accepts >= LB_ACCEPTS_PER_CALL) {
				lb->accepts = 0;
				return 0;
			}
			continue;
		case W_TIMER:
			on_timer(lb);
			continue;
		case W_KICK:
			if (c->dead)
				continue;
			if (conn_kick(lb, c, ev))
				return 1;
			continue;
		case W_SOCK:
			if (c->dead || c->sock < 0)
				continue;
			if (e->events & EPOLLOUT) {
				int rc = conn_flush(lb, c);

				if (rc < 0) {
					char m[96];

					snprintf(m, sizeof(m), "socket error: %s",
						 strerror(-rc));
					if (conn_gone(lb, c, 0, m, ev))
						return 1;
					continue;
				}
			}
			if (e->events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
				/* One datagram per event keeps the work per
				 * client bounded; level triggering brings us
				 * back for the rest. HUP with data still queued
				 * reads the data first; then recvmsg gives 0. */
				if (conn_read(lb, c, ev))
					return 1;
			}
			continue;
		}
	}
}

/* Why a socketpair and not two eventfds, as in protocol version 1: an fd
 * passed over SCM_RIGHTS shares its open file description, so O_NONBLOCK
 * on it is the partition's to change at any moment. An eventfd has no
 * per-call non-blocking write: checking the flag and then writing leaves
 * a window in which the partition clears it and fills the counter, and
 * the backend blocks for ever (every link stops). A socket takes
 * MSG_DONTWAIT per call, whatever the flags say; and the backend creating
 * the pair means its end is never in the partition's hands at all (no
 * shutdown, no SO_RCVTIMEO, no reads stealing kicks). A stream rather than
 * datagrams: one recv drains many coalesced kicks, and a full buffer
 * (EAGAIN) simply means a wake-up is already pending. */
static int lb_notify_pair(struct xa_be_end *c, int *theirs)
{
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0,
		       sv) < 0)
		return -errno;
	close_fd(&c->ntf);
	c->ntf = sv[0];
	*theirs = sv[1];
	return 0;
}

/* PARAMS goes with the partition's end of a new notification pair. It is
 * the first datagram the backend sends to this client, so the socket
 * buffer is empty and it is never queued: a failure drops the client. */
static int send_params(struct xa_be_end *c, const struct xa_local_params *p)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} cbuf;
	struct iovec iov = { .iov_base = (void *)p, .iov_len = sizeof(*p) };
	struct msghdr mh = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf.buf, .msg_controllen = sizeof(cbuf.buf),
	};
	struct cmsghdr *cm;
	int theirs = -1, rc;
	ssize_t n;

	if (c->sock < 0 || c->outq != NULL)
		return -EPIPE;
	rc = lb_notify_pair(c, &theirs);
	if (rc < 0)
		return rc;
	memset(&cbuf, 0, sizeof(cbuf));
	cm = CMSG_FIRSTHDR(&mh);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &theirs, sizeof(int));
	n = sendmsg(c->sock, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
	rc = n == (ssize_t)sizeof(*p) ? 0 : n < 0 ? -errno : -EMSGSIZE;
	close(theirs);   /* the datagram in flight holds its own reference */
	return rc;
}

static int lb_accept(struct xa_be_transport *t, struct xa_be_end *c,
		     void *cookie, const struct xa_link_params *params,
		     char *err, size_t errlen)
{
	struct lb *lb = lb_of(t);
	struct xa_local_params p = {
		.type = XA_LOCAL_PARAMS,
		.buf_size = params->buf_size,
		.buf_count = params->buf_count,
		.max_pages = params->max_pages,
	};
	int rc;

	c->cookie = cookie;
	c->params = *params;
	rc = send_params(c, &p);
	if (rc < 0) {
		seterr(err, errlen, "cannot send PARAMS to %s: %s", c->peer,
		       strerror(-rc));
		conn_kill(lb, c);
		return rc;
	}
	c->phase = P_INITWAIT;
	c->params_ms = xa_now_ms();
	timer_arm(lb, (int)lb->region_ms);
	return 0;
}

static int lb_set_state(struct xa_be_transport *t, struct xa_be_end *c,
			enum xa_state state)
{
	struct lb *lb = lb_of(t);
	int rc;

	if (c->dead || c->phase == P_GONE)
		return -EPIPE;
	rc = send_state(lb, c, state);
	if (rc < 0)
		return rc;
	if (state == XA_STATE_CONNECTED)
		c->phase = P_CONNECTED;
	return 0;
}

/* One byte on the backend's own end of the pair, MSG_DONTWAIT: this can
 * never block, whatever the partition does to its end. */
static int lb_notify(struct xa_be_transport *t, struct xa_be_end *c)
{
	static const unsigned char one = 1;

	(void)t;
	if (c->ntf < 0)
		return -EPIPE;
	if (send(c->ntf, &one, 1, MSG_DONTWAIT | MSG_NOSIGNAL) < 0 &&
	    errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR &&
	    errno != EPIPE && errno != ECONNRESET)
		return -errno;
	/* EAGAIN: the partition has unread calls, so a wake-up is pending.
	 * EPIPE / ECONNRESET: it closed its end (exited, most likely); its
	 * control socket reports the departure, as for a Xen domain. */
	return 0;
}

static void lb_close_end(struct xa_be_transport *t, struct xa_be_end *c,
			 int refusal, const char *why)
{
	struct lb *lb = lb_of(t);

	if (c->dead)
		return;
	if (why != NULL && c->sock >= 0)
		send_error(lb, c, refusal, why);
	else if (c->sock >= 0 && c->phase == P_CONNECTED)
		(void)send_state(lb, c, XA_STATE_CLOSED);
	conn_kill(lb, c);
}

static int lb_ctl_reply(struct xa_be_transport *t, struct xa_be_ctl *ctl,
			const char *json, size_t len)
{
	struct lb *lb = lb_of(t);
	struct xa_be_end *c = ctl->conn;
	const size_t chunk = XA_LOCAL_MSG_MAX - sizeof(struct xa_local_ctl);
	unsigned char *buf;
	size_t off = 0;
	int rc = 0;

	if (c->dead || c->sock < 0)
		return -EPIPE;
	buf = malloc(XA_LOCAL_MSG_MAX);
	if (buf == NULL)
		return -ENOMEM;
	do {
		size_t n = len - off < chunk ? len - off : chunk;
		struct xa_local_ctl h = {
			.type = XA_LOCAL_CTL_REPLY,
			.flags = off + n == len ? XA_CTL_F_LAST : 0,
		};

		memcpy(buf, &h, sizeof(h));
		memcpy(buf + sizeof(h), json + off, n);
		rc = conn_send(lb, c, buf, sizeof(h) + n);
		off += n;
	} while (rc == 0 && off < len);
	free(buf);
	if (rc < 0) {
		lb_log_rl(lb, &lb->rl_slow, XA_BE_LOG_INFO,
			  "control client (%s) dropped: %s", c->peer,
			  rc == -ENOBUFS ? "it does not read its replies" :
			  strerror(-rc));
		conn_kill(lb, c);
	}
	return rc;
}

static void lb_destroy(struct xa_be_transport *t)
{
	struct lb *lb = lb_of(t);
	struct stat st;

	while (lb->conns)
		conn_kill(lb, lb->conns);
	free_zombies(lb);
	close_fd(&lb->lfd);
	close_fd(&lb->epfd);
	close_fd(&lb->tfd);
	close_fd(&lb->spare_fd);
	/* Remove the socket only if it is still ours: a second backend
	 * started by mistake may have replaced it. */
	if (lb->path && stat(lb->path, &st) == 0 && st.st_dev == lb->sock_dev &&
	    st.st_ino == lb->sock_ino)
		unlink(lb->path);
	free(lb->path);
	free(lb);
}

static const struct xa_be_ops lb_ops = {
	.name = "local",
	.declare_end = lb_declare_end,
	.event_fd = lb_event_fd,
	.next_event = lb_next_event,
	.accept = lb_accept,
	.set_state = lb_set_state,
	.notify = lb_notify,
	.close_end = lb_close_end,
	.ctl_reply = lb_ctl_reply,
	.destroy = lb_destroy,
};

/* ------------------------------------------------------------------ */
/* Set-up                                                              */

/* An existing file at path: remove it only when it is a socket nobody
 * answers on (a backend that died without cleaning up). */
static int clear_stale(struct lb *lb, const struct sockaddr_un *sa,
		       char *err, size_t errlen)
{
	struct stat st;

	if (lstat(sa->sun_path, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode)) {
		seterr(err, errlen,
		       "%s exists and is not a socket; remove it or choose another --socket",
		       sa->sun_path);
		return -EEXIST;
	}

	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	if (connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) == 0) {
		close(fd);
		seterr(err, errlen,
		       "another xenamp-backend is already listening on %s; stop it or choose another --socket",
		       sa->sun_path);
		return -EADDRINUSE;
	}
	int e = errno;

	close(fd);
	if (e != ECONNREFUSED) {
		seterr(err, errlen, "cannot probe the existing socket %s: %s",
		       sa->sun_path, strerror(e));
		return -e;
	}
	if (unlink(sa->sun_path) < 0 && errno != ENOENT) {
		e = errno;
		seterr(err, errlen, "cannot remove the stale socket %s: %s",
		       sa->sun_path, strerror(e));
		return -e;
	}
	lb_log(lb, XA_BE_LOG_INFO, "removed stale socket %s", sa->sun_path);
	return 0;
}

static unsigned or_default(unsigned v, unsigned def)
{
	return v ? v : def;
}

static void set_limits(struct lb *lb, const struct xa_be_opts *o)
{
	lb->max_conns = or_default(o->max_clients, LB_MAX_CONNS);
	lb->per_uid = or_default(o->max_clients_per_uid, LB_PER_UID);
	lb->reserved = or_default(o->reserved_clients, LB_RESERVED);
	if (lb->reserved >= lb->max_conns)
		lb->reserved = lb->max_conns / 2;
	lb->hello_ms = or_default(o->hello_timeout_ms, LB_HELLO_MS);
	lb->region_ms = or_default(o->region_timeout_ms, LB_REGION_MS);
	lb->claims = o->claims;
	lb->nclaims = o->claims ? o->nclaims : 0;
	lb->has_admin_gid = o->has_admin_gid;
	lb->admin_gid = (gid_t)o->admin_gid;
	lb->ctlq_max = o->ctl_queue_max ? o->ctl_queue_max : LB_CTLQ_MAX;
	lb->ctlq_total_max = o->ctl_queue_total ? o->ctl_queue_total
		: LB_CTLQ_TOTAL;
}

/* The timer (in the epoll set) and the spare fd accept_out_of_fds()
 * needs. */
static int setup_guards(struct lb *lb, char *err, size_t errlen)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &lb->wtimer };
	int rc;

	lb->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (lb->tfd < 0 || epoll_ctl(lb->epfd, EPOLL_CTL_ADD, lb->tfd, &ev) < 0) {
		rc = -errno;
		seterr(err, errlen, "timerfd: %s", strerror(-rc));
		return rc;
	}
	lb->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (lb->spare_fd < 0) {
		rc = -errno;
		seterr(err, errlen, "cannot open /dev/null: %s", strerror(-rc));
		return rc;
	}
	return 0;
}

/* bind() under a umask no wider than mode, creating one missing parent
 * directory level (such as /run/xenamp, 0755), not a whole tree a typo
 * could invent. 0 or -errno. */
static int bind_socket(struct lb *lb, const struct sockaddr_un *sa,
		       unsigned mode)
{
	mode_t old = umask((mode_t)(~mode & 0777));
	int rc = bind(lb->lfd, (const struct sockaddr *)sa, sizeof(*sa));
	int e = errno;

	if (rc < 0 && e == ENOENT) {
		char dir[sizeof(sa->sun_path)];
		char *slash;

		memcpy(dir, sa->sun_path, sizeof(dir));
		slash = strrchr(dir, '/');
		if (slash != NULL && slash != dir) {
			*slash = '\0';
			umask(old);
			if (mkdir(dir, 0755) == 0) {
				lb_log(lb, XA_BE_LOG_INFO, "created %s", dir);
				umask((mode_t)(~mode & 0777));
				rc = bind(lb->lfd, (const struct sockaddr *)sa, sizeof(*sa));
				e = errno;
			}
		}
	}
	umask(old);
	return rc < 0 ? -e : 0;
}

/* Create, bind and mode the listening socket at path; remember its
 * identity (so that only our own file is ever unlinked). On failure the
 * socket file is gone again. */
static int open_listener(struct lb *lb, const struct sockaddr_un *sa,
			 const char *path, unsigned mode, char *err,
			 size_t errlen)
{
	struct stat st;
	int rc;

	lb->lfd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (lb->lfd < 0) {
		rc = -errno;
		seterr(err, errlen, "socket(AF_UNIX, SOCK_SEQPACKET): %s", strerror(-rc));
		return rc;
	}
	/* The socket file is created with the umask; make it no wider than
	 * the requested mode from the start, then set the mode exactly. */
	rc = bind_socket(lb, sa, mode);
	if (rc < 0) {
		seterr(err, errlen, "cannot bind %s: %s (check the directory exists and is writable)",
		       path, strerror(-rc));
		return rc;
	}
	if (chmod(path, mode) < 0 || stat(path, &st) < 0) {
		rc = -errno;
		seterr(err, errlen, "cannot set the mode of %s: %s", path,
		       strerror(-rc));
		unlink(path);
		return rc;
	}
	lb->path = strdup(path);
	if (lb->path == NULL) {
		unlink(path);
		return -ENOMEM;
	}
	lb->sock_dev = st.st_dev;
	lb->sock_ino = st.st_ino;
	if (listen(lb->lfd, 64) < 0) {
		rc = -errno;
		seterr(err, errlen, "listen on %s: %s", path, strerror(-rc));
		unlink(path);
		return rc;
	}
	return 0;
}

/* The epoll set the event loop waits on, with the listener in it. */
static int open_epoll(struct lb *lb, char *err, size_t errlen)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &lb->wlisten };
	int rc;

	lb->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (lb->epfd < 0) {
		rc = -errno;
		seterr(err, errlen, "epoll_create1: %s", strerror(-rc));
		return rc;
	}
	if (epoll_ctl(lb->epfd, EPOLL_CTL_ADD, lb->lfd, &ev) < 0) {
		rc = -errno;
		seterr(err, errlen, "epoll_ctl: %s", strerror(-rc));
		return rc;
	}
	return 0;
}

static struct lb *lb_alloc(const struct xa_be_opts *opts)
{
	struct lb *lb = calloc(1, sizeof(*lb));

	if (lb == NULL)
		return NULL;
	lb->pub.ops = &lb_ops;
	lb->pub.priv = lb;
	lb->lfd = lb->epfd = lb->tfd = lb->spare_fd = -1;
	lb->log = opts->log;
	lb->log_ctx = opts->log_ctx;
	lb->wlisten.kind = W_LISTEN;
	lb->wtimer.kind = W_TIMER;
	set_limits(lb, opts);
	return lb;
}

int xa_be_local_new(const struct xa_be_opts *opts,
		    struct xa_be_transport **out, char *err, size_t errlen)
{
	char defpath[XA_LOCAL_PATH_MAX];
	const char *path = opts->socket_path ? opts->socket_path
		: xa_local_default_socket(defpath, sizeof(defpath));
	unsigned mode = opts->socket_mode ? opts->socket_mode : 0660;
	struct sockaddr_un sa;
	struct lb *lb;
	int rc;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (path[0] == '\0' || strlen(path) >= sizeof(sa.sun_path)) {
		seterr(err, errlen,
		       "socket path '%s' is empty or longer than %zu characters; choose a shorter --socket",
		       path, sizeof(sa.sun_path) - 1);
		return -ENAMETOOLONG;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	lb = lb_alloc(opts);
	if (lb == NULL)
		return -ENOMEM;
	rc = clear_stale(lb, &sa, err, errlen);
	if (rc < 0 && err && err[0] == '\0')
		seterr(err, errlen, "cannot use %s: %s", path, strerror(-rc));
	if (rc == 0)
		rc = open_listener(lb, &sa, path, mode, err, errlen);
	if (rc == 0) {
		rc = open_epoll(lb, err, errlen);
		if (rc == 0)
			rc = setup_guards(lb, err, errlen);
		if (rc < 0)
			unlink(path);
	}
	if (rc == 0) {
		*out = &lb->pub;
		return 0;
	}
	close_fd(&lb->lfd);
	close_fd(&lb->epfd);
	close_fd(&lb->tfd);
	close_fd(&lb->spare_fd);
	free(lb->path);
	free(lb);
	return rc;
}

/* The factory. A Xen transport adds its branch here (under HAVE_XEN). */
int xa_be_transport_new(const char *name, const struct xa_be_opts *opts,
			struct xa_be_transport **out, char *err, size_t errlen)
{
	if (name == NULL || strcmp(name, "local") == 0)
		return xa_be_local_new(opts, out, err, errlen);
	seterr(err, errlen, "unknown backend transport '%s' (this build has: local)",
	       name);
	return -ENOENT;
}

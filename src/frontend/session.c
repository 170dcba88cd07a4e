/* libxenamp sessions: xenamp_open / xenamp_dispatch / xenamp_close, the
 * transport (frontend/transport/fe_transport.h) and surviving a backend
 * restart. This is the top layer: it builds the device (rpmsg_virtio.h)
 * and the endpoint layer (rpmsg.c) and is the device's environment
 * (core/fe_env.h, transport half): kicks, transport events, the wake-up
 * fds.
 *
 * Wake-ups. The transport has one event fd E (backend notifications and
 * control-plane changes); consuming it (ops->consume) clears it. Three
 * kinds of thread may sleep:
 *   - the dispatcher (xenamp_dispatch), or the application's own loop,
 *     polls xenamp_fd() = epoll{E, rx_efd};
 *   - one blocking sender, the "poller", polls {E, tx_efd};
 *   - further blocking senders wait on the condition variable.
 * Whoever wakes up consumes E under the lock (xa_fe_pump_locked), reclaims
 * the TX buffers the backend returned, broadcasts the condition variable,
 * sets tx_efd if a poller sleeps and it was not the poller, and sets
 * rx_efd if the RX ring has work and it is not the dispatcher. So neither
 * side can swallow the other's notification: the information is in the
 * rings, and every consumer passes it on. rx_efd is cleared only by the
 * dispatcher, before it looks at the RX ring. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "frontend/core/rpmsg_virtio.h"
#include "frontend/fe_internal.h"

static bool is_dispatcher_locked(struct xenamp_dev *d)
{
	assert_locked(&d->c);
	return d->dispatching && d->dispatcher == xa_fe_self();
}

/* rx_efd is written only here, under the lock, so whether it is set is
 * known without a read() (one system call per wake-up saved). */
static void rx_signal_locked(struct xenamp_dev *d)
{
	assert_locked(&d->c);
	d->rx_signalled = true;
	xa_fe_wake_signal(d->wake.rx_efd);
}

static void rx_clear_locked(struct xenamp_dev *d)
{
	assert_locked(&d->c);
	if (d->rx_signalled) {
		xa_fe_wake_clear(d->wake.rx_efd);
		d->rx_signalled = false;
	}
}

/* ------------------------------------------------------------------ */
/* Surviving a backend restart                                         */
/*
 * When the backend goes away (local: its socket closes on a crash,
 * SIGKILL or restart; Xen: a restarted backend offers the device anew, or
 * a stopping one closes it), the region is still ours and intact: both
 * rings, every buffer, every message in flight. Instead of dying, the
 * device is marked `lost` and a thread retries the transport's
 * reconnect() for reconnect_ms (opts, else $XENAMP_RECONNECT_MS, else
 * 30 s), sharing the SAME region (same memfd, or the same granted pages)
 * with new notification channels. Meanwhile nobody else touches the transport
 * (no consume, no kick); senders go on filling free TX buffers and then
 * wait, the dispatcher goes on delivering what is already in the RX ring.
 * The new backend resumes each ring at its used index (relay.c), so what
 * it had not returned is relayed (again); the device drops the duplicates
 * by sequence number (rpmsg_virtio.h). On success the thread wakes
 * everybody and announces our named endpoints again (the new backend
 * knows none; it replays the peer's to us). On failure the device is dead
 * (RPMSG_ERR_DEV_STATE), as before. A backend that refused the end (an
 * ERROR message; under Xen an `error` node) is not retried.
 */

static void *reconnect_main(void *arg);

/* The backend went away: reconnect (thread) or give up. Joins a previous
 * reconnect thread only once it has left its loop (it then needs no lock
 * to return), so the lock is never dropped. */
static void lost_locked(struct xenamp_dev *d, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void lost_locked(struct xenamp_dev *d, const char *fmt, ...)
{
	va_list ap;

	assert_locked(&d->c);
	if (d->c.dead || d->c.lost)
		return;
	va_start(ap, fmt);
	vsnprintf(d->lost_why, sizeof(d->lost_why), fmt, ap);
	va_end(ap);
	if (d->reconnect_ms < 0 || d->reconnect_abort ||
	    d->t->ops->reconnect == NULL) {
		xa_fe_mark_dead_locked(&d->c, "%s", d->lost_why);
		return;
	}
	d->c.lost = true;
	xa_fe_dbg(&d->c, "%s; reconnecting for up to %d ms", d->lost_why, d->reconnect_ms);
	if (d->reconnect_running && !d->reconnect_done)
		return;   /* it is still announcing: it sees `lost` and goes on */
	if (d->reconnect_running) {
		/* It left its loop under this lock and only returns now. */
		(void)pthread_join(d->reconnect_thread, NULL);
		d->reconnect_running = false;
	}
	d->reconnect_done = false;
	if (pthread_create(&d->reconnect_thread, NULL, reconnect_main, d) != 0) {
		d->c.lost = false;
		xa_fe_mark_dead_locked(&d->c, "%s (cannot start the reconnect thread)",
				       d->lost_why);
		return;
	}
	d->reconnect_running = true;
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* Retry the transport's reconnect() until it succeeds, fails for good or
 * reconnect_ms pass. Leaves `lost` false; the device dead on failure.
 * Drops the lock around every attempt and sleep: afterwards the caller
 * must look at d->c.dead (and d->c.lost: the new backend may be gone again). */
static void reconnect_loop_unlocking(struct xenamp_dev *d)
{
	char err[XA_FE_ERRLEN];
	struct timespec deadline;
	int backoff = 10;

	assert_locked(&d->c);
	xa_timespec_after(&deadline, d->reconnect_ms);
	for (;;) {
		int left = xa_ms_until(&deadline), r;

		if (d->reconnect_abort || left == 0) {
			d->c.lost = false;
			xa_fe_mark_dead_locked(&d->c, "%s; no xenamp-backend came back within %d ms",
					       d->lost_why, d->reconnect_ms);
			return;
		}
		xa_fe_lock_release(&d->lk);
		err[0] = '\0';
		r = d->t->ops->reconnect(d->t, d->devno, &d->params,
					 left < 5000 ? left : 5000, err, sizeof(err));
		xa_fe_lock_acquire(&d->lk);
		if (r == 0) {
			d->c.lost = false;
			d->features = xa_fe_region_features_apply(&d->c.reg);
			d->c.stats.reconnects++;
			xa_fe_dbg(&d->c, "reconnected to xenamp-backend (%llu so far)",
				  (unsigned long long)d->c.stats.reconnects);
			return;
		}
		if (r == -EPERM || r == -EPROTO || r == -ENOTSUP) {
			d->c.lost = false;
			xa_fe_mark_dead_locked(&d->c, "%s; reconnecting: %s", d->lost_why, err);
			return;
		}
		xa_fe_dbg(&d->c, "reconnect attempt: %s", err);
		xa_fe_lock_release(&d->lk);
		sleep_ms(backoff < left ? backoff : left);
		xa_fe_lock_acquire(&d->lk);
		if (backoff < 200)
			backoff *= 2;
	}
}

/* fe_transport.h's before_offer: the transport is about to offer the
 * region to a backend. That one may be an older backend that
 * acknowledges nothing: flags until it says otherwise. Only here, not at
 * every attempt: an attempt that waits on its predecessor's offer must
 * keep what the backend taking it wrote. */
static void before_offer(void *ctx)
{
	struct xenamp_dev *d = ctx;

	xa_fe_lock_acquire(&d->lk);
	xa_fe_region_features_reset(&d->c.reg);
	xa_fe_lock_release(&d->lk);
}

static void *reconnect_main(void *arg)
{
	struct xenamp_dev *d = arg;

	xa_fe_lock_acquire(&d->lk);
	while (d->c.lost && !d->c.dead) {
		reconnect_loop_unlocking(d);
		if (d->c.dead)
			break;
		/* Everybody looks again: the rings may have moved. */
		xa_fe_lock_broadcast(&d->lk);
		xa_fe_wake_signal(d->wake.tx_efd);
		rx_signal_locked(d);
		xa_fe_kick_locked(&d->c);
		xa_fe_epts_reannounce_unlocking(&d->c);
	}
	d->reconnect_done = true;
	xa_fe_lock_broadcast(&d->lk);
	xa_fe_lock_release(&d->lk);
	return NULL;
}

/* ------------------------------------------------------------------ */
/* The transport half of the core's environment (core/fe_env.h)       */

static void env_notify_locked(struct xa_fe_core *c)
{
	struct xenamp_dev *d = xa_fe_sess(c);

	assert_locked(&d->c);
	(void)d->t->ops->notify(d->t);
}

static void env_consume_locked(struct xa_fe_core *c)
{
	struct xenamp_dev *d = xa_fe_sess(c);
	unsigned ev = 0;
	int r, st;

	assert_locked(&d->c);
	r = d->t->ops->consume(d->t, &ev);
	if (ev & XA_FE_EV_NOTIFY)
		d->c.stats.calls++;
	if (r < 0)
		lost_locked(d, "transport failure: %s", strerror(-r));
	st = d->t->ops->state(d->t);
	if (!d->c.lost && (st == XA_STATE_CLOSING || st == XA_STATE_CLOSED))
		lost_locked(d, "xenamp-backend closed the link (backend state %s)",
			    xa_state_name(st));
}

static void env_rx_work_locked(struct xa_fe_core *c)
{
	struct xenamp_dev *d = xa_fe_sess(c);

	assert_locked(&d->c);
	if (!is_dispatcher_locked(d))
		rx_signal_locked(d);
}

static void env_wake_tx_poller_locked(struct xa_fe_core *c)
{
	struct xenamp_dev *d = xa_fe_sess(c);

	assert_locked(&d->c);
	xa_fe_wake_signal(d->wake.tx_efd);
}

static void env_wake_all_locked(struct xa_fe_core *c)
{
	struct xenamp_dev *d = xa_fe_sess(c);

	assert_locked(&d->c);
	/* Both stay readable: every sleeper must come and see. */
	xa_fe_wake_signal(d->wake.tx_efd);
	rx_signal_locked(d);
}

static void env_wait_unlocking(struct xa_fe_core *c, bool tx, int timeout_ms)
{
	struct xenamp_dev *d = xa_fe_sess(c);
	int fds[2] = { d->wake.tr_fd, d->wake.tx_efd };

	assert_locked(&d->c);
	if (tx)
		xa_fe_wake_clear(d->wake.tx_efd);
	xa_fe_lock_release(&d->lk);
	(void)xa_fe_wake_poll(fds, tx ? 2 : 1, timeout_ms);
	xa_fe_lock_acquire(&d->lk);
}

static const struct xa_fe_env_ops posix_env = {
	.lock = xa_fe_posix_lock,
	.unlock = xa_fe_posix_unlock,
	.assert_locked = xa_fe_posix_assert_locked,
	.cond_wait = xa_fe_posix_cond_wait,
	.broadcast = xa_fe_posix_broadcast,
	.self = xa_fe_posix_self,
	.now_ns = xa_fe_posix_now_ns,
	.notify_locked = env_notify_locked,
	.consume_locked = env_consume_locked,
	.rx_work_locked = env_rx_work_locked,
	.wake_tx_poller_locked = env_wake_tx_poller_locked,
	.wake_all_locked = env_wake_all_locked,
	.wait_unlocking = env_wait_unlocking,
	.vformat = xa_fe_posix_vformat,
	.error = xa_fe_posix_error,
	.debug = xa_fe_posix_debug,
};

/* ------------------------------------------------------------------ */
/* Dispatch                                                            */

/* Become the one dispatcher; waits (lock dropped) while another thread
 * dispatches. 0, RPMSG_ERR_PERM (called from inside a callback), or 1
 * when the deadline passed first. Afterwards the caller must look at
 * d->c.dead again. */
static int dispatch_begin_unlocking(struct xenamp_dev *d, bool forever,
				    const struct timespec *deadline)
{
	assert_locked(&d->c);
	if (is_dispatcher_locked(d)) {
		xa_fe_set_error("xenamp_dispatch called from inside a callback");
		return RPMSG_ERR_PERM;
	}
	while (d->dispatching) {
		/* One dispatcher at a time; the next one waits its turn. */
		if (forever)
			xa_fe_lock_wait(&d->lk);
		else if (!xa_fe_lock_wait_until(&d->lk, deadline))
			return 1;
	}
	d->dispatching = true;
	d->dispatcher = xa_fe_self();
	return 0;
}

/* The opt-in busy-poll (xenamp_opts.poll_us): after activity, watch the
 * RX ring for up to poll_ns (and not past the deadline) without the lock
 * and without system calls. True when something arrived. The ring
 * pointer and size never change after open; the used index is read with
 * the vring's own acquire load. Bounded and only once per activity: an
 * idle device never polls. */
static bool poll_rx_unlocking(struct xenamp_dev *d, bool forever,
			      const struct timespec *deadline)
{
	struct xa_vq_driver *q = &d->c.reg.rxq;
	uint64_t until;
	bool got = false;

	assert_locked(&d->c);
	if (d->poll_ns == 0 || !d->c.active || d->c.dead)
		return false;
	d->c.active = false;
	until = xa_now_ns() + d->poll_ns;
	if (!forever && xa_ms_until(deadline) == 0)
		return false;
	xa_fe_lock_release(&d->lk);
	do {
		/* Any pending entry, or a bogus index (the deliver after
		 * reports it). */
		if (xa_vqdrv_used_pending(q) != 0) {
			got = true;
			break;
		}
	} while (xa_now_ns() < until);
	xa_fe_lock_acquire(&d->lk);
	return got;
}

/* The dispatch loop proper: deliver what is in the RX ring, else sleep on
 * xenamp_fd() until something arrives or the deadline passes. Returns the
 * number of messages handled, or 0 with *ret set. Drops the lock while
 * callbacks run and while it sleeps: the caller looks at d->c.dead again. */
static int dispatch_loop_unlocking(struct xenamp_dev *d, bool forever,
				   const struct timespec *deadline, int *ret)
{
	/* System calls cost about a microsecond each in a VM, several per
	 * message once the backend polls (docs/performance.md). So: what is
	 * already in the RX ring is delivered first, without any; the
	 * notification is consumed (pump) only once the ring is empty, on
	 * the way to sleep; and rx_efd, rarely set, is read only when it can
	 * matter: after a poll returned (it may be what woke us), or when
	 * returning for the timeout (it must not stay readable). It is still
	 * cleared before the last look at the ring (enable_notify below, or
	 * the one after the loop), so no work it announced is missed. */
	bool woke = false;
	int n;

	assert_locked(&d->c);
	for (;;) {
		int r;
		bool expired;

		n = xa_fe_rx_deliver_unlocking(&d->c, (int)d->c.reg.buf_count);
		if (n > 0)
			return n;
		if (poll_rx_unlocking(d, forever, deadline))
			continue;
		xa_fe_pump_locked(&d->c);
		if (d->c.dead) {
			xa_fe_set_error("%s", d->c.dead_why);
			*ret = RPMSG_ERR_DEV_STATE;
			return 0;
		}
		expired = !forever && xa_ms_until(deadline) == 0;
		if (woke || expired)
			rx_clear_locked(d);
		if (expired)
			return 0;
		/* Interrupts on, then look once more before sleeping. */
		if (xa_vqdrv_enable_notify(&d->c.reg.rxq))
			continue;
		xa_fe_lock_release(&d->lk);
		r = xa_fe_wake_poll(&d->wake.epfd, 1,
				    forever ? -1 : xa_ms_until(deadline));
		xa_fe_lock_acquire(&d->lk);
		woke = true;
		if (r < 0) {
			xa_fe_mark_dead_locked(&d->c, "poll on the event fd failed: %s",
					       strerror(-r));
		} else if (r == 0 && !d->c.dead) {
			/* Timeout or signal: one last look, then return. */
			xa_fe_pump_locked(&d->c);
			return xa_fe_rx_deliver_unlocking(&d->c, (int)d->c.reg.buf_count);
		}
	}
}

int xenamp_dispatch(struct xenamp_dev *d, int timeout_ms)
{
	struct timespec deadline;
	int n, r, ret = 0;
	bool forever = timeout_ms < 0;

	if (d == NULL)
		return RPMSG_ERR_PARAM;
	if (!forever)
		xa_timespec_after(&deadline, timeout_ms);

	xa_fe_lock_acquire(&d->lk);
	r = dispatch_begin_unlocking(d, forever, &deadline);
	if (r != 0) {
		xa_fe_lock_release(&d->lk);
		return r == 1 ? 0 : r;
	}
	n = dispatch_loop_unlocking(d, forever, &deadline, &ret);
	if (!d->c.dead && xa_vqdrv_enable_notify(&d->c.reg.rxq))
		rx_signal_locked(d);   /* more for the next call */
	d->dispatching = false;
	xa_fe_lock_broadcast(&d->lk);
	xa_fe_lock_release(&d->lk);
	return n > 0 ? n : ret;
}

int xenamp_fd(struct xenamp_dev *d)
{
	return d != NULL ? d->wake.epfd : -1;
}

struct rpmsg_device *xenamp_rpmsg_dev(struct xenamp_dev *d)
{
	return d != NULL ? &d->c.rdev : NULL;
}

void *xenamp_priv(struct xenamp_dev *d)
{
	return d != NULL ? d->priv : NULL;
}

/* Reserve up to n TX buffers, the first one waiting as rpmsg_send does.
 * Returns how many (>= 1) in idx[], or a negative RPMSG_ERR_*. */
static int batch_reserve(struct xenamp_dev *d, unsigned *idx, int n)
{
	int got = 0, r;

	xa_fe_lock_acquire(&d->lk);
	r = xa_fe_tx_get_unlocking(&d->c, &idx[0]);
	if (r == 0)
		for (got = 1; got < n && xa_fe_tx_get_locked(&d->c, &idx[got]) == 0; got++)
			;
	xa_fe_lock_release(&d->lk);
	return r != 0 ? r : got;
}

int xenamp_send_batch(struct rpmsg_endpoint *ept, const struct xenamp_msg *msgs,
		      int n)
{
	unsigned idx[64];
	struct xenamp_dev *d;
	struct xa_fe_core *c;
	int got, sent = 0, r = 0;

	if (ept == NULL || msgs == NULL || n <= 0 || ept->dest_addr == RPMSG_ADDR_ANY)
		return RPMSG_ERR_PARAM;
	c = xa_fe_dev(ept->rdev);
	if (c == NULL)
		return RPMSG_ERR_PARAM;
	d = xa_fe_sess(c);
	for (int k = 0; k < n; k++)
		if (msgs[k].data == NULL || msgs[k].len < 0)
			return RPMSG_ERR_PARAM;
	got = batch_reserve(d, idx, n < 64 ? n : 64);
	if (got < 0)
		return got;
	/* The buffers are ours (reserved): fill them without the lock. */
	for (int k = 0; k < got; k++) {
		uint32_t len = (uint32_t)msgs[k].len;

		if (len > xa_fe_payload_max(&d->c))
			len = xa_fe_payload_max(&d->c);   /* as rpmsg_send */
		memcpy(xa_fe_tx_payload(&d->c, idx[k]), msgs[k].data, len);
	}
	xa_fe_lock_acquire(&d->lk);
	for (int k = 0; k < got; k++) {
		uint32_t len = (uint32_t)msgs[k].len;

		if (len > xa_fe_payload_max(&d->c))
			len = xa_fe_payload_max(&d->c);
		if (r == 0)
			r = xa_fe_tx_queue_locked(&d->c, idx[k], ept->addr, ept->dest_addr, len);
		if (r != 0)
			xa_fe_tx_put_locked(&d->c, idx[k]);
		else
			sent++;
	}
	xa_fe_tx_publish_locked(&d->c);
	xa_fe_lock_release(&d->lk);
	return sent > 0 ? sent : r;
}

int xenamp_get_stats(struct xenamp_dev *d, struct xenamp_stats *out)
{
	if (d == NULL || out == NULL)
		return RPMSG_ERR_PARAM;
	xa_fe_lock_acquire(&d->lk);
	*out = (struct xenamp_stats){
		.tx_msgs = d->c.stats.tx_msgs,
		.rx_msgs = d->c.stats.rx_msgs,
		.kicks = d->c.stats.kicks,
		.calls = d->c.stats.calls,
		.rx_dup = d->c.stats.rx_dup,
		.reconnects = d->c.stats.reconnects,
	};
	xa_fe_lock_release(&d->lk);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Open and close                                                      */

/* The options that do not need the transport: names, callbacks,
 * reconnection, the first sequence number, debug output. */
static void open_options(struct xenamp_dev *d, const char *partition,
			 unsigned devno, const struct xenamp_opts *opts)
{
	const char *dbgenv;

	snprintf(d->partition, sizeof(d->partition), "%s", partition);
	d->devno = devno;
	if (opts != NULL) {
		d->priv = opts->priv;
		d->c.rdev.ns_bind_cb = opts->ns_bind_cb;
	}
	d->reconnect_ms = opts != NULL ? opts->reconnect_ms : 0;
	if (opts != NULL && opts->poll_us > 0)
		d->poll_ns = (uint64_t)(opts->poll_us < 1000 ? opts->poll_us : 1000) * 1000u;
	if (d->reconnect_ms == 0) {
		const char *rc = getenv("XENAMP_RECONNECT_MS");

		d->reconnect_ms = rc != NULL && rc[0] != '\0' ? atoi(rc) :
				  XA_FE_RECONNECT_MS;
		if (d->reconnect_ms == 0)
			d->reconnect_ms = -1;   /* "0" in the environment: never */
	}
	/* Random first sequence number (rpmsg_virtio.h). */
	if (getrandom(&d->c.tx_seq, sizeof(d->c.tx_seq), GRND_NONBLOCK) !=
	    (ssize_t)sizeof(d->c.tx_seq)) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		d->c.tx_seq = (uint32_t)ts.tv_nsec * 2654435761u ^
			    (uint32_t)getpid() ^ (uint32_t)ts.tv_sec;
	}
	/* $XENAMP_EVENT_IDX=0: do not offer event indices (to test a
	 * backend against partitions without them). */
	dbgenv = getenv("XENAMP_EVENT_IDX");
	d->event_idx = dbgenv == NULL || strcmp(dbgenv, "0") != 0;
	dbgenv = getenv("XENAMP_DEBUG");
	d->c.debug = dbgenv != NULL && dbgenv[0] != '\0' && strcmp(dbgenv, "0") != 0;
}

static int ms_left_min1(const struct timespec *deadline)
{
	int left = xa_ms_until(deadline);

	return left > 0 ? left : 1;
}

/* The region's bookkeeping (core/fe_core.h), buf_count entries each. */
static void store_free(struct xenamp_dev *d)
{
	free(d->store.rx_slots);
	free(d->store.tx_slots);
	free(d->store.rx_refs);
	free(d->store.tx_state);
	free(d->store.tx_free);
	memset(&d->store, 0, sizeof(d->store));
}

static int store_alloc(struct xenamp_dev *d)
{
	unsigned n = d->c.reg.buf_count;
	struct xa_fe_region_storage *st = &d->store;

	st->rx_slots = calloc(n, sizeof(*st->rx_slots));
	st->tx_slots = calloc(n, sizeof(*st->tx_slots));
	st->rx_refs = calloc(n, sizeof(*st->rx_refs));
	st->tx_state = calloc(n, sizeof(*st->tx_state));
	st->tx_free = calloc(n, sizeof(*st->tx_free));
	if (!st->rx_slots || !st->tx_slots || !st->rx_refs || !st->tx_state ||
	    !st->tx_free) {
		store_free(d);
		return -ENOMEM;
	}
	xa_fe_region_attach(&d->c.reg, st);
	return 0;
}

/* Create the transport, connect, lay out and share the region, set up the
 * wake-up fds. 0, or an RPMSG_ERR_* with a line in err. */
static int open_transport(struct xenamp_dev *d, const struct xenamp_opts *opts,
			  const struct timespec *deadline, char *err, size_t errlen)
{
	void *base = NULL;
	int r;

	r = xa_fe_transport_new(opts != NULL ? opts->transport : NULL, &d->t,
				err, errlen);
	if (r < 0)
		return r == -ENOMEM ? RPMSG_ERR_NO_MEM : RPMSG_ERR_INIT;
	if (opts != NULL && opts->socket_path != NULL &&
	    xa_fe_transport_set_option(d->t, "socket", opts->socket_path,
				       err, errlen) < 0)
		return RPMSG_ERR_INIT;
	if (d->t->ops->connect(d->t, d->partition, d->devno, &d->params,
			       ms_left_min1(deadline), err, errlen) < 0 ||
	    xa_fe_region_layout(&d->c, d->params.buf_size, d->params.buf_count,
				d->params.max_pages, err, errlen) < 0)
		return RPMSG_ERR_INIT;
	if (store_alloc(d) < 0) {
		snprintf(err, errlen, "out of memory");
		return RPMSG_ERR_NO_MEM;
	}
	if (d->t->ops->alloc_region(d->t, d->c.reg.size, &base, err, errlen) < 0)
		return RPMSG_ERR_INIT;
	if (xa_fe_region_init(&d->c.reg, base, d->event_idx) < 0) {
		snprintf(err, errlen, "cannot lay out the rings (buf_count %u)",
			 d->c.reg.buf_count);
		return RPMSG_ERR_INIT;
	}
	d->t->before_offer = before_offer;
	d->t->before_offer_ctx = d;
	if (d->t->ops->publish(d->t, ms_left_min1(deadline), err, errlen) < 0 ||
	    xa_fe_wake_init(&d->wake, d->t->ops->event_fd(d->t), err, errlen) < 0)
		return RPMSG_ERR_INIT;
	/* Connected: the backend has acknowledged what it supports. Nobody
	 * else knows the device yet, so no lock is needed. */
	d->features = xa_fe_region_features_apply(&d->c.reg);
	return 0;
}

/* Free what xenamp_open built (transport closed first: unshare, unmap). */
static void dev_free(struct xenamp_dev *d)
{
	if (d->t != NULL)
		d->t->ops->close(d->t);
	xa_fe_wake_fini(&d->wake);
	store_free(d);
	d->c.rdev.xa_magic = 0;
	xa_fe_lock_fini(&d->lk);
	free(d);
}

int xenamp_open(const char *partition, unsigned devno,
		const struct xenamp_opts *opts, struct xenamp_dev **out)
{
	struct xenamp_dev *d;
	char err[XA_FE_ERRLEN] = "";
	struct timespec deadline;
	int ret;

	if (out == NULL) {
		xa_fe_set_error("xenamp_open: out is NULL");
		return RPMSG_ERR_PARAM;
	}
	*out = NULL;
	if (partition == NULL || partition[0] == '\0')
		partition = getenv("XENAMP_PARTITION");
	if (partition == NULL || partition[0] == '\0') {
		xa_fe_set_error("xenamp_open: no partition name: pass one or set XENAMP_PARTITION");
		return RPMSG_ERR_PARAM;
	}
	if (strlen(partition) >= sizeof(d->partition)) {
		xa_fe_set_error("xenamp_open: partition name '%.40s...' is too long (max %zu)",
				partition, sizeof(d->partition) - 1);
		return RPMSG_ERR_PARAM;
	}
	xa_timespec_after(&deadline, opts != NULL && opts->connect_timeout_ms > 0 ?
				     opts->connect_timeout_ms : 10000);

	d = calloc(1, sizeof(*d));
	if (d == NULL) {
		xa_fe_set_error("xenamp_open: out of memory");
		return RPMSG_ERR_NO_MEM;
	}
	if (xa_fe_lock_init(&d->lk) != 0) {
		free(d);
		xa_fe_set_error("xenamp_open: cannot initialise the lock");
		return RPMSG_ERR_NO_MEM;
	}
	d->wake.epfd = d->wake.rx_efd = d->wake.tx_efd = -1;
	open_options(d, partition, devno, opts);
	d->c.env = &posix_env;
	xa_fe_lock_acquire(&d->lk);
	xa_fe_epts_init_locked(&d->c);
	d->c.rdev.xa_dev = d;
	xa_fe_lock_release(&d->lk);

	ret = open_transport(d, opts, &deadline, err, sizeof(err));
	if (ret != 0) {
		xa_fe_set_error("xenamp_open(partition '%s', device %u): %s",
				partition, devno, err[0] ? err : "failed");
		dev_free(d);
		return ret;
	}
	xa_fe_dbg(&d->c, "connected: %u buffers of %u bytes per direction, region %zu bytes, features 0x%x (event indices %s)",
		  d->c.reg.buf_count, d->c.reg.buf_size, d->c.reg.size, d->features,
		  d->features & (1u << XA_VIRTIO_RING_F_EVENT_IDX) ? "on" : "off");
	*out = d;
	return 0;
}

void xenamp_close(struct xenamp_dev *d)
{
	if (d == NULL)
		return;
	xa_fe_lock_acquire(&d->lk);
	d->c.closing = true;
	xa_fe_epts_close_unlocking(&d->c);
	xa_fe_tx_flush_unlocking(&d->c);
	/* A reconnection still under way is abandoned. */
	d->reconnect_abort = true;
	if (d->reconnect_running) {
		xa_fe_lock_release(&d->lk);
		(void)pthread_join(d->reconnect_thread, NULL);
		xa_fe_lock_acquire(&d->lk);
		d->reconnect_running = false;
	}
	xa_fe_lock_release(&d->lk);
	xa_fe_dbg(&d->c, "closing: duplicates dropped %llu, backend restarts survived %llu",
		  (unsigned long long)d->c.stats.rx_dup,
		  (unsigned long long)d->c.stats.reconnects);
	xa_fe_dbg(&d->c, "closing: rx %llu ns %llu bad-hdr %llu unknown-dst %llu bad-ns %llu tx %llu kicks %llu",
		  (unsigned long long)d->c.stats.rx_msgs, (unsigned long long)d->c.stats.rx_ns,
		  (unsigned long long)d->c.stats.rx_bad_hdr,
		  (unsigned long long)d->c.stats.rx_unknown_dst,
		  (unsigned long long)d->c.stats.rx_bad_ns,
		  (unsigned long long)d->c.stats.tx_msgs, (unsigned long long)d->c.stats.kicks);
	dev_free(d);
}

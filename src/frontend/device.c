/* libxenamp device set-up, receive path, name service and wake-ups.
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
 * dispatcher, before it looks at the RX ring.
 *
 * Notification suppression: TX completions do not interrupt us unless a
 * sender waits for a buffer (avail->flags NO_INTERRUPT on the TX ring
 * otherwise). RX interrupts are off while the dispatcher drains the ring
 * and on again before it sleeps or returns (re-checking the ring after
 * enabling, the usual lost-wake-up guard). Kicks to the backend follow the
 * return value of xa_vqdrv_publish(). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "frontend/fe_internal.h"

static __thread char last_error[XA_FE_ERRLEN] = "no error";

void xa_fe_set_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(last_error, sizeof(last_error), fmt, ap);
	va_end(ap);
}

const char *xenamp_strerror_last(void)
{
	return last_error;
}

static void dbg(struct xenamp_dev *d, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void dbg(struct xenamp_dev *d, const char *fmt, ...)
{
	va_list ap;

	if (!d->debug)
		return;
	va_start(ap, fmt);
	fprintf(stderr, "libxenamp[%s/%u]: ", d->partition, d->devno);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

void xa_fe_mark_dead(struct xenamp_dev *d, const char *fmt, ...)
{
	va_list ap;

	if (d->dead)
		return;
	d->dead = true;
	va_start(ap, fmt);
	vsnprintf(d->dead_why, sizeof(d->dead_why), fmt, ap);
	va_end(ap);
	dbg(d, "link lost: %s", d->dead_why);
	pthread_cond_broadcast(&d->cond);
	/* Both stay readable: every sleeper must come and see. */
	xa_fe_wake_signal(d->wake.tx_efd);
	xa_fe_wake_signal(d->wake.rx_efd);
}

void xa_fe_kick_locked(struct xenamp_dev *d)
{
	if (d->dead || d->lost)   /* a new backend scans the rings anyway */
		return;
	d->stats.kicks++;
	(void)d->t->ops->notify(d->t);
}

void xa_fe_wake_tx_locked(struct xenamp_dev *d)
{
	if (d->tx_waiters == 0)
		return;
	pthread_cond_broadcast(&d->cond);
	if (d->tx_poller)
		xa_fe_wake_signal(d->wake.tx_efd);
}

static bool is_dispatcher(const struct xenamp_dev *d)
{
	return d->dispatching && pthread_equal(d->dispatcher, pthread_self());
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
 * it had not returned is relayed (again). On success the thread wakes
 * everybody and announces our named endpoints again (the new backend
 * knows none; it replays the peer's to us). On failure the device is dead
 * (RPMSG_ERR_DEV_STATE), as before. A backend that refused the end (an
 * ERROR message; under Xen an `error` node) is not retried.
 *
 * Exactly once. The relay publishes the receiver's RX used entry before
 * it returns the sender's TX buffer, so a crash in between can only
 * duplicate a message, never lose it: the new backend relays it again.
 * Duplicates are dropped by the receiving library with sequence numbers:
 *   - the sending library stamps every message it sends (data and
 *     name-service) with a per-device 32-bit sequence number in the RPMsg
 *     header's `reserved` field, +1 per message in TX-ring order, skipping
 *     0; the first is random (getrandom), so a restarted peer instance
 *     starts somewhere unrelated to its predecessor;
 *   - 0 means unsequenced: messages the backend builds itself, and those
 *     of foreign peers (OpenAMP and Linux write 0 and ignore the field on
 *     receive), are always accepted;
 *   - the receiving library keeps the last sequence number S it accepted
 *     from its peer end (one device = one link = one sending end) and
 *     drops a message with sequence number q when S - q (mod 2^32) <
 *     buf_count, i.e. q is S or one of the buf_count - 1 numbers before
 *     it. A duplicate always is: it was in the sender's TX ring (at most
 *     buf_count messages) when the backend died, and S is at most the
 *     newest the sender stamped. Anything else is new and accepted,
 *     which also takes a restarted peer's new random start (wrongly
 *     dropped only if that start falls in that window: probability
 *     buf_count / 2^32 per peer restart).
 */

static void *reconnect_main(void *arg);

/* The backend went away: reconnect (thread) or give up. */
static void lost_locked(struct xenamp_dev *d, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void lost_locked(struct xenamp_dev *d, const char *fmt, ...)
{
	va_list ap;

	if (d->dead || d->lost)
		return;
	va_start(ap, fmt);
	vsnprintf(d->lost_why, sizeof(d->lost_why), fmt, ap);
	va_end(ap);
	if (d->reconnect_ms < 0 || d->reconnect_abort ||
	    d->t->ops->reconnect == NULL) {
		xa_fe_mark_dead(d, "%s", d->lost_why);
		return;
	}
	d->lost = true;
	dbg(d, "%s; reconnecting for up to %d ms", d->lost_why, d->reconnect_ms);
	if (d->reconnect_running && !d->reconnect_done)
		return;   /* it is still announcing: it sees `lost` and goes on */
	if (d->reconnect_running) {
		/* It left its loop under this lock and only returns now. */
		(void)pthread_join(d->reconnect_thread, NULL);
		d->reconnect_running = false;
	}
	d->reconnect_done = false;
	if (pthread_create(&d->reconnect_thread, NULL, reconnect_main, d) != 0) {
		d->lost = false;
		xa_fe_mark_dead(d, "%s (cannot start the reconnect thread)",
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


/* Announce again every named endpoint that was announced. */
static void reannounce_locked(struct xenamp_dev *d)
{
	struct rpmsg_endpoint *e;
	unsigned i;

	for (e = d->epts; e != NULL && !d->lost && !d->dead; e = e->xa_next) {
		if (e == &d->ns_ept || !(e->xa_flags & XA_EPT_F_ANNOUNCED) ||
		    e->addr < RPMSG_RESERVED_ADDRESSES)
			continue;
		if (xa_fe_tx_get_locked(d, true, &i) != 0)
			return;
		/* tx_get may have dropped the lock: e may be gone. */
		struct rpmsg_endpoint *f;

		for (f = d->epts; f != NULL && f != e; f = f->xa_next)
			;
		if (f == NULL) {
			xa_fe_tx_put_locked(d, i);
			return;
		}
		xa_rpmsg_ns_encode(xa_fe_tx_buf(&d->reg, i) + XA_RPMSG_HDR_SIZE,
				   e->name, e->addr, XA_RPMSG_NS_CREATE);
		if (xa_fe_tx_submit_locked(d, i, e->addr, RPMSG_NS_EPT_ADDR,
					   XA_RPMSG_NS_SIZE) != 0)
			xa_fe_tx_put_locked(d, i);
	}
}

static void *reconnect_main(void *arg)
{
	struct xenamp_dev *d = arg;
	char err[XA_FE_ERRLEN];
	struct timespec deadline;
	int backoff;

	pthread_mutex_lock(&d->lock);
	while (d->lost && !d->dead) {
		xa_timespec_after(&deadline, d->reconnect_ms);
		backoff = 10;
		for (;;) {
			int left = xa_ms_until(&deadline), r;

			if (d->reconnect_abort || left == 0) {
				d->lost = false;
				xa_fe_mark_dead(d, "%s; no xenamp-backend came back within %d ms",
						d->lost_why, d->reconnect_ms);
				break;
			}
			pthread_mutex_unlock(&d->lock);
			err[0] = '\0';
			r = d->t->ops->reconnect(d->t, d->devno, &d->params,
						 left < 5000 ? left : 5000,
						 err, sizeof(err));
			pthread_mutex_lock(&d->lock);
			if (r == 0) {
				d->lost = false;
				d->stats.reconnects++;
				dbg(d, "reconnected to xenamp-backend (%llu so far)",
				    (unsigned long long)d->stats.reconnects);
				break;
			}
			if (r == -EPERM || r == -EPROTO || r == -ENOTSUP) {
				d->lost = false;
				xa_fe_mark_dead(d, "%s; reconnecting: %s", d->lost_why, err);
				break;
			}
			dbg(d, "reconnect attempt: %s", err);
			pthread_mutex_unlock(&d->lock);
			sleep_ms(backoff < left ? backoff : left);
			pthread_mutex_lock(&d->lock);
			if (backoff < 200)
				backoff *= 2;
		}
		if (d->dead)
			break;
		/* Everybody looks again: the rings may have moved. */
		pthread_cond_broadcast(&d->cond);
		xa_fe_wake_signal(d->wake.tx_efd);
		xa_fe_wake_signal(d->wake.rx_efd);
		xa_fe_kick_locked(d);
		reannounce_locked(d);
	}
	d->reconnect_done = true;
	pthread_cond_broadcast(&d->cond);
	pthread_mutex_unlock(&d->lock);
	return NULL;
}

uint32_t xa_fe_tx_seq_next_locked(struct xenamp_dev *d)
{
	if (++d->tx_seq == 0)
		d->tx_seq = 1;
	return d->tx_seq;
}

/* True when a message with sequence number seq was seen already (see
 * above); otherwise it becomes the last one. */
static bool rx_seq_dup_locked(struct xenamp_dev *d, uint32_t seq)
{
	if (seq == 0)
		return false;
	if (d->rx_seq_valid && d->rx_seq - seq < d->reg.buf_count)
		return true;
	d->rx_seq = seq;
	d->rx_seq_valid = true;
	return false;
}

void xa_fe_pump_locked(struct xenamp_dev *d)
{
	unsigned ev = 0;
	int r, st;

	if (!d->dead && !d->lost) {
		r = d->t->ops->consume(d->t, &ev);
		if (r < 0)
			lost_locked(d, "transport failure: %s", strerror(-r));
		st = d->t->ops->state(d->t);
		if (!d->lost && (st == XA_STATE_CLOSING || st == XA_STATE_CLOSED))
			lost_locked(d, "xenamp-backend closed the link (backend state %s)",
				    xa_state_name(st));
	}
	if (xa_fe_tx_reclaim_locked(d) > 0)
		xa_fe_wake_tx_locked(d);
	if (!d->dead && !is_dispatcher(d) &&
	    xa_vqdrv_used_pending(&d->reg.rxq) != 0)
		xa_fe_wake_signal(d->wake.rx_efd);
}

/* ------------------------------------------------------------------ */
/* Receive path                                                        */

/* Drop one reference to RX buffer i; repost it when none is left. */
static void rx_unref_locked(struct xenamp_dev *d, unsigned i)
{
	if (d->reg.rx_refs[i] == 0)
		return;
	if (--d->reg.rx_refs[i] == 0)
		xa_fe_rx_repost(&d->reg, i);
}

/* Make reposted RX buffers visible; kick if the backend asked. */
static void rx_flush_locked(struct xenamp_dev *d)
{
	if (xa_vqdrv_publish(&d->reg.rxq))
		xa_fe_kick_locked(d);
}

/* OpenAMP's rpmsg_get_endpoint(rdev, name, ANY, dest): an endpoint of that
 * name bound to dest, or one of that name still waiting (dest ANY). */
static struct rpmsg_endpoint *ept_for_ns(struct xenamp_dev *d,
					 const char *name, uint32_t dest)
{
	struct rpmsg_endpoint *e;

	for (e = d->epts; e != NULL; e = e->xa_next) {
		if (e == &d->ns_ept)
			continue;
		if (strncmp(e->name, name, RPMSG_NAME_SIZE) != 0)
			continue;
		if (dest != RPMSG_ADDR_ANY && e->dest_addr == dest)
			return e;
		if (e->dest_addr == RPMSG_ADDR_ANY)
			return e;
	}
	return NULL;
}

/* Run an endpoint-related callback without the lock; e cannot be
 * destroyed by another thread meanwhile (rpmsg_destroy_ept waits). */
static void begin_cb_locked(struct xenamp_dev *d, struct rpmsg_endpoint *e)
{
	d->cb_ept = e;
	d->cb_thread = pthread_self();
	pthread_mutex_unlock(&d->lock);
}

static void end_cb_locked(struct xenamp_dev *d)
{
	pthread_mutex_lock(&d->lock);
	d->cb_ept = NULL;
	pthread_cond_broadcast(&d->cond);
}

static void ns_handle_locked(struct xenamp_dev *d, const uint8_t *payload,
			     uint16_t len)
{
	struct xa_rpmsg_ns ns;
	struct rpmsg_endpoint *e;
	int r;

	r = xa_rpmsg_ns_decode(payload, len, &ns);
	if (r != XA_OK) {
		d->stats.rx_bad_ns++;
		dbg(d, "name-service message dropped: %s", xa_strerror(r));
		return;
	}
	d->stats.rx_ns++;
	e = ept_for_ns(d, ns.name, ns.addr);
	if (ns.flags == XA_RPMSG_NS_DESTROY) {
		dbg(d, "remote service '%s' at %u destroyed", ns.name, ns.addr);
		if (e == NULL)
			return;
		/* atomic: is_rpmsg_ept_ready() and rpmsg_send() read it
		 * without the lock, in other threads */
		__atomic_store_n(&e->dest_addr, RPMSG_ADDR_ANY, __ATOMIC_RELEASE);
		if (e->ns_unbind_cb != NULL) {
			rpmsg_ns_unbind_cb cb = e->ns_unbind_cb;

			begin_cb_locked(d, e);
			cb(e);
			end_cb_locked(d);
		}
		return;
	}
	dbg(d, "remote service '%s' at %u announced", ns.name, ns.addr);
	if (e != NULL) {
		__atomic_store_n(&e->dest_addr, ns.addr, __ATOMIC_RELEASE);
		return;
	}
	if (d->ns_bind_cb != NULL) {
		rpmsg_ns_bind_cb cb = d->ns_bind_cb;

		pthread_mutex_unlock(&d->lock);
		cb(&d->rdev, ns.name, ns.addr);
		pthread_mutex_lock(&d->lock);
	}
}

/* Deliver up to budget messages. Called and returns with the lock held;
 * drops it around callbacks. Returns the number handled (endpoint and
 * name-service messages). */
static int deliver_locked(struct xenamp_dev *d, int budget)
{
	int n = 0;

	xa_vqdrv_disable_notify(&d->reg.rxq);
	while (n < budget && !d->dead) {
		struct xa_rpmsg_hdr h;
		struct rpmsg_endpoint *e;
		void *tok;
		uint32_t len;
		unsigned i;
		uint8_t *buf;
		int r;

		r = xa_vqdrv_get_used(&d->reg.rxq, &tok, &len);
		if (r == XA_EMPTY)
			break;
		if (r != XA_OK) {
			xa_fe_mark_dead(d, "xenamp-backend corrupted the RX ring: %s",
					xa_strerror(r));
			break;
		}
		i = xa_fe_token_index(tok);
		if (i >= d->reg.buf_count || d->reg.rx_refs[i] != 0) {
			xa_fe_mark_dead(d, "RX ring returned buffer %u twice", i);
			break;
		}
		d->reg.rx_refs[i] = 1;
		buf = xa_fe_rx_buf(&d->reg, i);
		r = xa_rpmsg_hdr_decode(buf, len, &h);
		if (r != XA_OK) {
			d->stats.rx_bad_hdr++;
			dbg(d, "RX message dropped (%u bytes): %s", len, xa_strerror(r));
			rx_unref_locked(d, i);
			continue;
		}
		if (rx_seq_dup_locked(d, h.reserved)) {
			/* Relayed again by a restarted backend. */
			d->stats.rx_dup++;
			dbg(d, "duplicate from %u to %u (sequence %u, last %u) dropped",
			    h.src, h.dst, h.reserved, d->rx_seq);
			rx_unref_locked(d, i);
			continue;
		}
		e = xa_fe_ept_by_addr(d, h.dst);
		if (e == NULL) {
			d->stats.rx_unknown_dst++;
			dbg(d, "RX message from %u to unknown address %u dropped",
			    h.src, h.dst);
			rx_unref_locked(d, i);
			continue;
		}
		/* Buffers reposted so far go back before we lose control. */
		rx_flush_locked(d);
		if (e == &d->ns_ept) {
			ns_handle_locked(d, buf + XA_RPMSG_HDR_SIZE, h.len);
		} else {
			rpmsg_ept_cb cb = e->cb;
			void *priv = e->priv;

			if (e->dest_addr == RPMSG_ADDR_ANY)
				__atomic_store_n(&e->dest_addr, h.src,
						 __ATOMIC_RELEASE);   /* first message binds */
			d->stats.rx_msgs++;
			begin_cb_locked(d, e);
			(void)cb(e, buf + XA_RPMSG_HDR_SIZE, h.len, h.src, priv);
			end_cb_locked(d);
		}
		rx_unref_locked(d, i);
		n++;
	}
	rx_flush_locked(d);
	return n;
}

int xenamp_dispatch(struct xenamp_dev *d, int timeout_ms)
{
	struct timespec deadline;
	int n = 0, ret = 0;
	bool forever = timeout_ms < 0;

	if (d == NULL)
		return RPMSG_ERR_PARAM;
	if (!forever)
		xa_timespec_after(&deadline, timeout_ms);

	pthread_mutex_lock(&d->lock);
	if (is_dispatcher(d)) {
		pthread_mutex_unlock(&d->lock);
		xa_fe_set_error("xenamp_dispatch called from inside a callback");
		return RPMSG_ERR_PERM;
	}
	while (d->dispatching) {
		/* One dispatcher at a time; the next one waits its turn. */
		if (forever) {
			pthread_cond_wait(&d->cond, &d->lock);
		} else if (pthread_cond_timedwait(&d->cond, &d->lock, &deadline) ==
			   ETIMEDOUT) {
			pthread_mutex_unlock(&d->lock);
			return 0;
		}
	}
	d->dispatching = true;
	d->dispatcher = pthread_self();

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

	for (;;) {
		int r;
		bool expired;

		n = deliver_locked(d, (int)d->reg.buf_count);
		if (n > 0)
			break;
		xa_fe_pump_locked(d);
		if (d->dead) {
			xa_fe_set_error("%s", d->dead_why);
			ret = RPMSG_ERR_DEV_STATE;
			break;
		}
		expired = !forever && xa_ms_until(&deadline) == 0;
		if (woke || expired)
			xa_fe_wake_clear(d->wake.rx_efd);
		if (expired)
			break;
		/* Interrupts on, then look once more before sleeping. */
		if (xa_vqdrv_enable_notify(&d->reg.rxq))
			continue;
		pthread_mutex_unlock(&d->lock);
		r = xa_fe_wake_poll(&d->wake.epfd, 1,
				    forever ? -1 : xa_ms_until(&deadline));
		pthread_mutex_lock(&d->lock);
		woke = true;
		if (r < 0) {
			xa_fe_mark_dead(d, "poll on the event fd failed: %s",
					strerror(-r));
		} else if (r == 0 && !d->dead) {
			/* Timeout or signal: one last look, then return. */
			xa_fe_pump_locked(d);
			n = deliver_locked(d, (int)d->reg.buf_count);
			break;
		}
	}
	if (!d->dead && xa_vqdrv_enable_notify(&d->reg.rxq))
		xa_fe_wake_signal(d->wake.rx_efd);   /* more for the next call */
	d->dispatching = false;
	pthread_cond_broadcast(&d->cond);
	pthread_mutex_unlock(&d->lock);
	return n > 0 ? n : ret;
}

int xenamp_fd(struct xenamp_dev *d)
{
	return d != NULL ? d->wake.epfd : -1;
}

struct rpmsg_device *xenamp_rpmsg_dev(struct xenamp_dev *d)
{
	return d != NULL ? &d->rdev : NULL;
}

void *xenamp_priv(struct xenamp_dev *d)
{
	return d != NULL ? d->priv : NULL;
}

/* ------------------------------------------------------------------ */
/* Open and close                                                      */

static int ns_ept_cb(struct rpmsg_endpoint *ept, void *data, size_t len,
		     uint32_t src, void *priv)
{
	/* Never called: name-service messages are handled in place. */
	(void)ept; (void)data; (void)len; (void)src; (void)priv;
	return RPMSG_SUCCESS;
}

static int init_sync(struct xenamp_dev *d)
{
	pthread_condattr_t ca;
	int r;

	if (pthread_mutex_init(&d->lock, NULL) != 0)
		return -1;
	if (pthread_condattr_init(&ca) != 0)
		goto fail_mutex;
	r = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	if (r == 0)
		r = pthread_cond_init(&d->cond, &ca);
	pthread_condattr_destroy(&ca);
	if (r != 0)
		goto fail_mutex;
	return 0;
fail_mutex:
	pthread_mutex_destroy(&d->lock);
	return -1;
}

int xenamp_open(const char *partition, unsigned devno,
		const struct xenamp_opts *opts, struct xenamp_dev **out)
{
	struct xenamp_dev *d;
	char err[XA_FE_ERRLEN] = "";
	struct timespec deadline;
	const char *dbgenv;
	void *base = NULL;
	int timeout, r, ret = RPMSG_ERR_INIT;

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
	timeout = opts != NULL && opts->connect_timeout_ms > 0 ?
		  opts->connect_timeout_ms : 10000;
	xa_timespec_after(&deadline, timeout);

	d = calloc(1, sizeof(*d));
	if (d == NULL) {
		xa_fe_set_error("xenamp_open: out of memory");
		return RPMSG_ERR_NO_MEM;
	}
	if (init_sync(d) != 0) {
		free(d);
		xa_fe_set_error("xenamp_open: cannot initialise the lock");
		return RPMSG_ERR_NO_MEM;
	}
	d->rdev.magic = XA_RDEV_MAGIC;
	d->rdev.xdev = d;
	d->wake.epfd = d->wake.rx_efd = d->wake.tx_efd = -1;
	snprintf(d->partition, sizeof(d->partition), "%s", partition);
	d->devno = devno;
	if (opts != NULL) {
		d->priv = opts->priv;
		d->ns_bind_cb = opts->ns_bind_cb;
	}
	d->reconnect_ms = opts != NULL ? opts->reconnect_ms : 0;
	if (d->reconnect_ms == 0) {
		const char *rc = getenv("XENAMP_RECONNECT_MS");

		d->reconnect_ms = rc != NULL && rc[0] != '\0' ? atoi(rc) :
				  XA_FE_RECONNECT_MS;
		if (d->reconnect_ms == 0)
			d->reconnect_ms = -1;   /* "0" in the environment: never */
	}
	if (getrandom(&d->tx_seq, sizeof(d->tx_seq), GRND_NONBLOCK) !=
	    (ssize_t)sizeof(d->tx_seq)) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		d->tx_seq = (uint32_t)ts.tv_nsec * 2654435761u ^
			    (uint32_t)getpid() ^ (uint32_t)ts.tv_sec;
	}
	dbgenv = getenv("XENAMP_DEBUG");
	d->debug = dbgenv != NULL && dbgenv[0] != '\0' && strcmp(dbgenv, "0") != 0;

	r = xa_fe_transport_new(opts != NULL ? opts->transport : NULL, &d->t,
				err, sizeof(err));
	if (r < 0) {
		ret = r == -ENOMEM ? RPMSG_ERR_NO_MEM : RPMSG_ERR_INIT;
		goto fail;
	}
	if (opts != NULL && opts->socket_path != NULL) {
		r = xa_fe_transport_set_option(d->t, "socket", opts->socket_path,
					       err, sizeof(err));
		if (r < 0)
			goto fail;
	}
	r = d->t->ops->connect(d->t, partition, devno, &d->params,
			       xa_ms_until(&deadline) > 0 ? xa_ms_until(&deadline) : 1,
			       err, sizeof(err));
	if (r < 0)
		goto fail;
	r = xa_fe_region_layout(&d->reg, &d->params, err, sizeof(err));
	if (r < 0)
		goto fail;
	if (xa_fe_region_alloc(&d->reg) < 0) {
		snprintf(err, sizeof(err), "out of memory");
		ret = RPMSG_ERR_NO_MEM;
		goto fail;
	}
	r = d->t->ops->alloc_region(d->t, d->reg.size, &base, err, sizeof(err));
	if (r < 0)
		goto fail;
	if (xa_fe_region_init(&d->reg, base) < 0) {
		snprintf(err, sizeof(err), "cannot lay out the rings (buf_count %u)",
			 d->reg.buf_count);
		goto fail;
	}
	r = d->t->ops->publish(d->t,
			       xa_ms_until(&deadline) > 0 ? xa_ms_until(&deadline) : 1,
			       err, sizeof(err));
	if (r < 0)
		goto fail;
	r = xa_fe_wake_init(&d->wake, d->t->ops->event_fd(d->t), err, sizeof(err));
	if (r < 0)
		goto fail;

	xa_addr_init(&d->addrs, RPMSG_RESERVED_ADDRESSES, XA_ADDR_BITMAP_MAX);
	snprintf(d->ns_ept.name, sizeof(d->ns_ept.name), "NS");
	d->ns_ept.rdev = &d->rdev;
	d->ns_ept.addr = RPMSG_NS_EPT_ADDR;
	d->ns_ept.dest_addr = RPMSG_NS_EPT_ADDR;
	d->ns_ept.cb = ns_ept_cb;
	d->ns_ept.priv = d;
	d->epts = &d->ns_ept;
	dbg(d, "connected: %u buffers of %u bytes per direction, region %zu bytes",
	    d->reg.buf_count, d->reg.buf_size, d->reg.size);
	*out = d;
	return 0;

fail:
	xa_fe_set_error("xenamp_open(partition '%s', device %u): %s",
			partition, devno, err[0] ? err : "failed");
	if (d->t != NULL)
		d->t->ops->close(d->t);
	xa_fe_wake_fini(&d->wake);
	xa_fe_region_free(&d->reg);
	pthread_cond_destroy(&d->cond);
	pthread_mutex_destroy(&d->lock);
	free(d);
	return ret;
}

void xenamp_close(struct xenamp_dev *d)
{
	struct rpmsg_endpoint *e;

	if (d == NULL)
		return;
	pthread_mutex_lock(&d->lock);
	d->closing = true;
	/* Best effort announcements; the backend also announces the
	 * destruction of our services when we go away. */
	while ((e = d->epts) != NULL) {
		if (e == &d->ns_ept) {
			d->epts = e->xa_next;
			continue;
		}
		if (e->name[0] != '\0' && e->addr >= RPMSG_RESERVED_ADDRESSES &&
		    !d->dead) {
			unsigned i;

			if (xa_fe_tx_get_locked(d, false, &i) == 0) {
				xa_rpmsg_ns_encode(xa_fe_tx_buf(&d->reg, i) +
						   XA_RPMSG_HDR_SIZE, e->name,
						   e->addr, XA_RPMSG_NS_DESTROY);
				if (xa_fe_tx_submit_locked(d, i, e->addr,
							   RPMSG_NS_EPT_ADDR,
							   XA_RPMSG_NS_SIZE) != 0)
					xa_fe_tx_put_locked(d, i);
			}
		}
		xa_fe_ept_unlink_locked(d, e);
		e->rdev = NULL;
	}
	xa_fe_tx_flush_locked(d);
	/* A reconnection still under way is abandoned. */
	d->reconnect_abort = true;
	if (d->reconnect_running) {
		pthread_mutex_unlock(&d->lock);
		(void)pthread_join(d->reconnect_thread, NULL);
		pthread_mutex_lock(&d->lock);
		d->reconnect_running = false;
	}
	pthread_mutex_unlock(&d->lock);
	dbg(d, "closing: duplicates dropped %llu, backend restarts survived %llu",
	    (unsigned long long)d->stats.rx_dup,
	    (unsigned long long)d->stats.reconnects);
	dbg(d, "closing: rx %llu ns %llu bad-hdr %llu unknown-dst %llu bad-ns %llu tx %llu kicks %llu",
	    (unsigned long long)d->stats.rx_msgs, (unsigned long long)d->stats.rx_ns,
	    (unsigned long long)d->stats.rx_bad_hdr,
	    (unsigned long long)d->stats.rx_unknown_dst,
	    (unsigned long long)d->stats.rx_bad_ns,
	    (unsigned long long)d->stats.tx_msgs, (unsigned long long)d->stats.kicks);
	d->t->ops->close(d->t);   /* Closing, unshare, unmap */
	xa_fe_wake_fini(&d->wake);
	xa_fe_region_free(&d->reg);
	d->rdev.magic = 0;
	pthread_cond_destroy(&d->cond);
	pthread_mutex_destroy(&d->lock);
	free(d);
}

/* The virtio RPMsg device (see rpmsg_virtio.h for its contract). No OS
 * call here: sleeping, kicking and waking go through the environment
 * (fe_env.h), messages go up through d->up. */
#include <stdarg.h>

#include "frontend/core/rpmsg_virtio.h"

void xa_fe_dbg(struct xa_fe_core *d, const char *fmt, ...)
{
	char line[XA_FE_ERRLEN];
	va_list ap;

	if (!d->debug || d->env->debug == NULL)
		return;
	va_start(ap, fmt);
	(void)d->env->vformat(line, sizeof(line), fmt, ap);
	va_end(ap);
	d->env->debug(d, line);
}

void xa_fe_dev_set_upper_locked(struct xa_fe_core *d, const struct xa_fe_upper_ops *up)
{
	assert_locked(d);
	d->up = up;
}

void xa_fe_mark_dead_locked(struct xa_fe_core *d, const char *fmt, ...)
{
	va_list ap;

	assert_locked(d);
	if (d->dead)
		return;
	d->dead = true;
	va_start(ap, fmt);
	d->env->vformat(d->dead_why, sizeof(d->dead_why), fmt, ap);
	va_end(ap);
	xa_fe_dbg(d, "link lost: %s", d->dead_why);
	xa_fe_env_broadcast(d);
	d->env->wake_all_locked(d);
}

void xa_fe_kick_locked(struct xa_fe_core *d)
{
	assert_locked(d);
	if (d->dead || d->lost)   /* a new backend scans the rings anyway */
		return;
	d->stats.kicks++;
	d->env->notify_locked(d);
}

/* Wake senders waiting for a TX buffer. */
static void wake_tx_locked(struct xa_fe_core *d)
{
	assert_locked(d);
	if (d->tx_waiters == 0)
		return;
	xa_fe_env_broadcast(d);
	if (d->tx_poller)
		d->env->wake_tx_poller_locked(d);
}

/* ------------------------------------------------------------------ */
/* TX buffers                                                          */

/* Take back the TX buffers the backend returned; the number taken. */
static unsigned tx_reclaim_locked(struct xa_fe_core *d)
{
	struct xa_fe_region *r = &d->reg;
	unsigned n = 0;
	void *tok;
	uint32_t len;
	int e;

	assert_locked(d);
	if (r->base == NULL)
		return 0;
	while ((e = xa_vqdrv_get_used(&r->txq, &tok, &len)) == XA_OK) {
		unsigned i = xa_fe_token_index(tok);

		if (i >= r->buf_count || (r->tx_state[i] != XA_TXB_INFLIGHT &&
					  r->tx_state[i] != XA_TXB_INFLIGHT_NS)) {
			xa_fe_mark_dead_locked(d, "TX ring returned buffer %u that was not in flight", i);
			return n;
		}
		r->tx_state[i] = XA_TXB_FREE;
		r->tx_free[r->tx_nfree++] = (uint16_t)i;
		n++;
	}
	if (e != XA_EMPTY)
		xa_fe_mark_dead_locked(d, "xenamp-backend corrupted the TX ring: %s",
				       xa_strerror(e));
	return n;
}

void xa_fe_pump_locked(struct xa_fe_core *d)
{
	assert_locked(d);
	if (!d->dead && !d->lost)
		d->env->consume_locked(d);
	if (tx_reclaim_locked(d) > 0)
		wake_tx_locked(d);
	if (!d->dead && xa_vqdrv_used_pending(&d->reg.rxq) != 0)
		d->env->rx_work_locked(d);
}

void xa_fe_tx_put_locked(struct xa_fe_core *d, unsigned i)
{
	assert_locked(d);
	d->reg.tx_state[i] = XA_TXB_FREE;
	d->reg.tx_free[d->reg.tx_nfree++] = (uint16_t)i;
	wake_tx_locked(d);
}

int xa_fe_tx_reserved_index_locked(struct xa_fe_core *d, const void *payload)
{
	int i;

	assert_locked(d);
	i = xa_fe_tx_index(&d->reg, payload);
	if (i < 0 || d->reg.tx_state[i] != XA_TXB_RESERVED)
		return -1;
	return i;
}

int xa_fe_tx_get_locked(struct xa_fe_core *d, unsigned *idx)
{
	struct xa_fe_region *r = &d->reg;

	assert_locked(d);
	if (r->tx_nfree == 0 && !d->dead)
		(void)tx_reclaim_locked(d);
	if (d->dead) {
		d->env->error(d, d->dead_why);
		return RPMSG_ERR_DEV_STATE;
	}
	if (r->tx_nfree == 0)
		return RPMSG_ERR_NO_BUFF;
	*idx = r->tx_free[--r->tx_nfree];
	r->tx_state[*idx] = XA_TXB_RESERVED;
	return 0;
}

/* One sleep of a sender without a TX buffer. The first waiter sleeps in
 * the environment's wait (the transport's notification, or a wake-up from
 * whoever consumed it); later ones on the condition variable, which every
 * consumer of a notification broadcasts. TX completion interrupts are
 * enabled while anyone waits. The lock is dropped while sleeping: the
 * caller looks at the free stack, d->dead and d->lost again. */
static void tx_sleep_unlocking(struct xa_fe_core *d, uint64_t deadline)
{
	/* With event indices the backend interrupts once half of what is
	 * in flight came back, so a blocked sender wakes once per batch
	 * (and then has half a ring to fill), not at every returned buffer.
	 * Without them (an older backend), at the first. */
	unsigned inflight = d->reg.buf_count - xa_vqdrv_num_free(&d->reg.txq);
	uint16_t batch = (uint16_t)(inflight > 1 ? inflight / 2 : 1);

	assert_locked(d);
	d->tx_waiters++;
	if (xa_vqdrv_enable_notify_after(&d->reg.txq, batch)) {
		/* Completions arrived meanwhile: reclaim them. */
	} else if (!d->tx_poller) {
		d->tx_poller = true;
		d->env->wait_unlocking(d, true, xa_fe_ms_until(d, deadline));
		d->tx_poller = false;
		xa_fe_pump_locked(d);
		/* Hand the poller role to the next waiter. */
		xa_fe_env_broadcast(d);
	} else {
		(void)xa_fe_env_cond_wait(d, deadline);
	}
	if (--d->tx_waiters == 0)
		xa_vqdrv_disable_notify(&d->reg.txq);
}

int xa_fe_tx_get_unlocking(struct xa_fe_core *d, unsigned *idx)
{
	uint64_t deadline = 0;
	bool have_deadline = false;
	int r;

	assert_locked(d);
	for (;;) {
		r = xa_fe_tx_get_locked(d, idx);
		if (r != RPMSG_ERR_NO_BUFF)
			return r;
		if (d->lost)   /* backend restarting: wait for it (bounded) */
			have_deadline = false;
		if (!have_deadline) {
			deadline = xa_fe_deadline_after(d, XA_FE_SEND_TIMEOUT_MS);
			have_deadline = true;
		} else if (xa_fe_ms_until(d, deadline) == 0) {
			return RPMSG_ERR_NO_BUFF;
		}
		tx_sleep_unlocking(d, deadline);
	}
}

/* rpmsg_send() returns once a message is in the TX ring, but the backend
 * relays it only while this end is connected. Closing first waits, while
 * the backend makes progress, until it has taken every data message in
 * flight, so that an accepted message is never lost by closing right
 * after it.
 *
 * Name-service announcements in flight are not waited for: the backend
 * says the same in our place when this end goes (it withdraws every
 * service of ours it still lists, relay.c), and an announcement for a
 * peer that has already gone can never be taken, so waiting for one cost
 * the full idle time at every close after the peer left (an OpenAMP echo
 * that destroys its endpoint when the ping leaves). The backend takes the
 * TX ring in order, so once the data messages are taken, only
 * announcements can remain. */
void xa_fe_tx_flush_unlocking(struct xa_fe_core *d)
{
	struct xa_fe_region *r = &d->reg;
	uint64_t deadline = 0;
	unsigned last_inflight = ~0u;

	assert_locked(d);
	while (!d->dead && r->base != NULL) {
		unsigned inflight = 0;
		int left;

		(void)tx_reclaim_locked(d);
		for (unsigned i = 0; i < r->buf_count; i++)
			inflight += r->tx_state[i] == XA_TXB_INFLIGHT;   /* data */
		if (inflight == 0)
			break;
		/* Wait as long as the backend keeps taking messages; give up
		 * only after XA_FE_FLUSH_IDLE_MS without progress (the peer is
		 * gone or stopped reading: waiting longer would not help). */
		if (inflight < last_inflight)
			deadline = xa_fe_deadline_after(d, XA_FE_FLUSH_IDLE_MS);
		last_inflight = inflight;
		left = xa_fe_ms_until(d, deadline);
		if (d->lost) {
			/* The backend restarts: the messages wait in the ring;
			 * the reconnect thread ends this (bounded) wait. */
			(void)xa_fe_env_cond_wait(d, xa_fe_deadline_after(d, 100));
			deadline = xa_fe_deadline_after(d, XA_FE_FLUSH_IDLE_MS);
			continue;
		}
		if (left == 0)
			break;
		d->tx_waiters++;
		if (!xa_vqdrv_enable_notify(&r->txq)) {
			d->env->wait_unlocking(d, false, left);
			xa_fe_pump_locked(d);
		}
		if (--d->tx_waiters == 0)
			xa_vqdrv_disable_notify(&r->txq);
	}
}

static uint32_t tx_seq_next_locked(struct xa_fe_core *d)
{
	assert_locked(d);
	if (++d->tx_seq == 0)
		d->tx_seq = 1;
	return d->tx_seq;
}

int xa_fe_tx_queue_locked(struct xa_fe_core *d, unsigned i, uint32_t src,
			  uint32_t dst, uint32_t len)
{
	struct xa_fe_region *r = &d->reg;
	struct xa_rpmsg_hdr h;

	assert_locked(d);
	if (d->dead)
		return RPMSG_ERR_DEV_STATE;
	h.src = src;
	h.dst = dst;
	h.reserved = tx_seq_next_locked(d);
	h.len = (uint16_t)len;
	h.flags = 0;
	xa_rpmsg_hdr_encode(xa_fe_tx_buf(r, i), &h);
	if (xa_vqdrv_add(&r->txq, r->tx_off + (uint64_t)i * r->stride,
			 XA_RPMSG_HDR_SIZE + len, false, xa_fe_token(i)) != XA_OK)
		return RPMSG_ERR_NO_BUFF;   /* cannot happen: one slot per buffer */
	r->tx_state[i] = dst == RPMSG_NS_EPT_ADDR ? XA_TXB_INFLIGHT_NS :
			 XA_TXB_INFLIGHT;
	d->stats.tx_msgs++;
	d->active = true;
	return 0;
}

void xa_fe_tx_publish_locked(struct xa_fe_core *d)
{
	assert_locked(d);
	if (!d->dead && xa_vqdrv_publish(&d->reg.txq))
		xa_fe_kick_locked(d);
}

int xa_fe_tx_submit_locked(struct xa_fe_core *d, unsigned i, uint32_t src,
			   uint32_t dst, uint32_t len)
{
	int r = xa_fe_tx_queue_locked(d, i, src, dst, len);

	if (r == 0)
		xa_fe_tx_publish_locked(d);
	return r;
}

/* ------------------------------------------------------------------ */
/* RX                                                                  */

/* True when a message with sequence number seq was seen already (see
 * rpmsg_virtio.h); otherwise it becomes the last one. */
static bool rx_seq_dup_locked(struct xa_fe_core *d, uint32_t seq)
{
	assert_locked(d);
	if (seq == 0)
		return false;
	if (d->rx_seq_valid && d->rx_seq - seq < d->reg.buf_count)
		return true;
	d->rx_seq = seq;
	d->rx_seq_valid = true;
	return false;
}

/* Drop one reference to RX buffer i; repost it when none is left. */
static void rx_unref_locked(struct xa_fe_core *d, unsigned i)
{
	assert_locked(d);
	if (d->reg.rx_refs[i] == 0)
		return;
	if (--d->reg.rx_refs[i] == 0)
		xa_fe_rx_repost(&d->reg, i);
}

/* Make reposted RX buffers visible; kick if the backend asked. */
static void rx_flush_locked(struct xa_fe_core *d)
{
	assert_locked(d);
	if (xa_vqdrv_publish(&d->reg.rxq))
		xa_fe_kick_locked(d);
}

/* Take the next used RX buffer: its index, with one reference, in *idx and
 * its length in *len. 1 when one was taken, 0 when the ring is empty, -1
 * when the backend corrupted the ring (the device is dead then). */
static int rx_take_locked(struct xa_fe_core *d, unsigned *idx, uint32_t *len)
{
	void *tok;
	unsigned i;
	int r;

	assert_locked(d);
	r = xa_vqdrv_get_used(&d->reg.rxq, &tok, len);
	if (r == XA_EMPTY)
		return 0;
	if (r != XA_OK) {
		xa_fe_mark_dead_locked(d, "xenamp-backend corrupted the RX ring: %s",
				       xa_strerror(r));
		return -1;
	}
	i = xa_fe_token_index(tok);
	if (i >= d->reg.buf_count || d->reg.rx_refs[i] != 0) {
		xa_fe_mark_dead_locked(d, "RX ring returned buffer %u twice", i);
		return -1;
	}
	d->reg.rx_refs[i] = 1;
	*idx = i;
	return 1;
}

/* The endpoint that must get RX buffer i (len bytes), or NULL when the
 * message is dropped (bad header, duplicate, unknown destination). */
static struct rpmsg_endpoint *rx_accept_locked(struct xa_fe_core *d, unsigned i,
					       uint32_t len, struct xa_rpmsg_hdr *h)
{
	struct rpmsg_endpoint *e;
	int r;

	assert_locked(d);
	r = xa_rpmsg_hdr_decode(xa_fe_rx_buf(&d->reg, i), len, h);
	if (r != XA_OK) {
		d->stats.rx_bad_hdr++;
		xa_fe_dbg(d, "RX message dropped (%u bytes): %s", len, xa_strerror(r));
		return NULL;
	}
	if (rx_seq_dup_locked(d, h->reserved)) {
		/* Relayed again by a restarted backend. */
		d->stats.rx_dup++;
		xa_fe_dbg(d, "duplicate from %u to %u (sequence %u, last %u) dropped",
			  h->src, h->dst, h->reserved, d->rx_seq);
		return NULL;
	}
	e = d->up->ept_locked(d, h->dst);
	if (e == NULL) {
		d->stats.rx_unknown_dst++;
		xa_fe_dbg(d, "RX message from %u to unknown address %u dropped",
			  h->src, h->dst);
	}
	return e;
}

int xa_fe_rx_deliver_unlocking(struct xa_fe_core *d, int budget)
{
	int n = 0;

	assert_locked(d);
	xa_vqdrv_disable_notify(&d->reg.rxq);
	while (n < budget && !d->dead) {
		struct xa_rpmsg_hdr h;
		struct rpmsg_endpoint *e;
		uint32_t len;
		unsigned i;

		if (rx_take_locked(d, &i, &len) <= 0)
			break;
		e = rx_accept_locked(d, i, len, &h);
		d->active = true;
		if (e != NULL) {
			/* Buffers reposted so far go back before we lose control. */
			rx_flush_locked(d);
			d->up->deliver_unlocking(d, e, &h,
						 xa_fe_rx_buf(&d->reg, i) + XA_RPMSG_HDR_SIZE);
			n++;
		}
		rx_unref_locked(d, i);
	}
	rx_flush_locked(d);
	return n;
}

void xa_fe_rx_hold_locked(struct xa_fe_core *d, const void *payload)
{
	int i;

	assert_locked(d);
	i = xa_fe_rx_index(&d->reg, payload);
	/* Only a buffer out of the ring (being delivered, or held) can be
	 * held again. */
	if (i >= 0 && d->reg.rx_refs[i] > 0 && d->reg.rx_refs[i] < UINT32_MAX)
		d->reg.rx_refs[i]++;
}

void xa_fe_rx_release_locked(struct xa_fe_core *d, const void *payload)
{
	int i;

	assert_locked(d);
	i = xa_fe_rx_index(&d->reg, payload);
	if (i >= 0 && d->reg.rx_refs[i] > 0 && --d->reg.rx_refs[i] == 0) {
		xa_fe_rx_repost(&d->reg, (unsigned)i);
		rx_flush_locked(d);
	}
}

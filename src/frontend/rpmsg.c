/* The OpenAMP-compatible RPMsg API: endpoints, sends, zero-copy buffers.
 * Semantics follow OpenAMP's lib/rpmsg/rpmsg.c and rpmsg_virtio.c (driver
 * role); see include/xenamp/rpmsg.h. */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "frontend/fe_internal.h"

/* ------------------------------------------------------------------ */
/* TX buffers                                                          */

unsigned xa_fe_tx_reclaim_locked(struct xenamp_dev *d)
{
	struct xa_fe_region *r = &d->reg;
	unsigned n = 0;
	void *tok;
	uint32_t len;
	int e;

	if (r->base == NULL)
		return 0;
	while ((e = xa_vqdrv_get_used(&r->txq, &tok, &len)) == XA_OK) {
		unsigned i = xa_fe_token_index(tok);

		if (i >= r->buf_count || r->tx_state[i] != XA_TXB_INFLIGHT) {
			xa_fe_mark_dead(d, "TX ring returned buffer %u that was not in flight", i);
			return n;
		}
		r->tx_state[i] = XA_TXB_FREE;
		r->tx_free[r->tx_nfree++] = (uint16_t)i;
		n++;
	}
	if (e != XA_EMPTY)
		xa_fe_mark_dead(d, "xenamp-backend corrupted the TX ring: %s",
				xa_strerror(e));
	return n;
}

void xa_fe_tx_put_locked(struct xenamp_dev *d, unsigned i)
{
	d->reg.tx_state[i] = XA_TXB_FREE;
	d->reg.tx_free[d->reg.tx_nfree++] = (uint16_t)i;
	xa_fe_wake_tx_locked(d);
}

/* Wait for a TX buffer (see the wake-up notes in device.c). The first
 * waiter sleeps in poll() on the transport fd and tx_efd; later ones on
 * the condition variable, which every consumer of a notification
 * broadcasts. TX completion interrupts are enabled while anyone waits. */
int xa_fe_tx_get_locked(struct xenamp_dev *d, bool wait, unsigned *idx)
{
	struct xa_fe_region *r = &d->reg;
	struct timespec deadline;
	bool have_deadline = false;

	for (;;) {
		if (r->tx_nfree == 0 && !d->dead)
			(void)xa_fe_tx_reclaim_locked(d);
		if (d->dead) {
			xa_fe_set_error("%s", d->dead_why);
			return RPMSG_ERR_DEV_STATE;
		}
		if (r->tx_nfree > 0) {
			unsigned i = r->tx_free[--r->tx_nfree];

			r->tx_state[i] = XA_TXB_RESERVED;
			*idx = i;
			return 0;
		}
		if (!wait)
			return RPMSG_ERR_NO_BUFF;
		if (d->lost)   /* backend restarting: wait for it (bounded) */
			have_deadline = false;
		if (!have_deadline) {
			xa_timespec_after(&deadline, XA_FE_SEND_TIMEOUT_MS);
			have_deadline = true;
		} else if (xa_ms_until(&deadline) == 0) {
			return RPMSG_ERR_NO_BUFF;
		}

		d->tx_waiters++;
		if (xa_vqdrv_enable_notify(&r->txq)) {
			/* Completions arrived meanwhile: reclaim them. */
		} else if (!d->tx_poller) {
			int fds[2] = { d->wake.tr_fd, d->wake.tx_efd };

			d->tx_poller = true;
			xa_fe_wake_clear(d->wake.tx_efd);
			pthread_mutex_unlock(&d->lock);
			(void)xa_fe_wake_poll(fds, 2, xa_ms_until(&deadline));
			pthread_mutex_lock(&d->lock);
			d->tx_poller = false;
			xa_fe_pump_locked(d);
			/* Hand the poller role to the next waiter. */
			pthread_cond_broadcast(&d->cond);
		} else {
			(void)pthread_cond_timedwait(&d->cond, &d->lock, &deadline);
		}
		if (--d->tx_waiters == 0)
			xa_vqdrv_disable_notify(&r->txq);
	}
}

/* rpmsg_send() returns once a message is in the TX ring, but the backend
 * relays it only while this end is connected. Closing first waits, while
 * the backend makes progress, until it has taken every message in flight,
 * so that an accepted message is never lost by closing right after it. */
void xa_fe_tx_flush_locked(struct xenamp_dev *d)
{
	struct xa_fe_region *r = &d->reg;
	struct timespec deadline;
	unsigned last_inflight = ~0u;

	while (!d->dead && r->base != NULL) {
		unsigned inflight = 0;
		int left;

		(void)xa_fe_tx_reclaim_locked(d);
		for (unsigned i = 0; i < r->buf_count; i++)
			inflight += r->tx_state[i] == XA_TXB_INFLIGHT;
		if (inflight == 0)
			break;
		/* Wait as long as the backend keeps taking messages; give up
		 * only after XA_FE_FLUSH_IDLE_MS without progress (the peer is
		 * gone or stopped reading: waiting longer would not help). */
		if (inflight < last_inflight)
			xa_timespec_after(&deadline, XA_FE_FLUSH_IDLE_MS);
		last_inflight = inflight;
		left = xa_ms_until(&deadline);
		if (d->lost) {
			/* The backend restarts: the messages wait in the ring;
			 * the reconnect thread ends this (bounded) wait. */
			struct timespec t;

			xa_timespec_after(&t, 100);
			(void)pthread_cond_timedwait(&d->cond, &d->lock, &t);
			xa_timespec_after(&deadline, XA_FE_FLUSH_IDLE_MS);
			continue;
		}
		if (left == 0)
			break;
		d->tx_waiters++;
		if (!xa_vqdrv_enable_notify(&r->txq)) {
			int fds[1] = { d->wake.tr_fd };

			pthread_mutex_unlock(&d->lock);
			(void)xa_fe_wake_poll(fds, 1, left);
			pthread_mutex_lock(&d->lock);
			xa_fe_pump_locked(d);
		}
		if (--d->tx_waiters == 0)
			xa_vqdrv_disable_notify(&r->txq);
	}
}

int xa_fe_tx_submit_locked(struct xenamp_dev *d, unsigned i, uint32_t src,
			   uint32_t dst, uint32_t len)
{
	struct xa_fe_region *r = &d->reg;
	struct xa_rpmsg_hdr h;

	if (d->dead)
		return RPMSG_ERR_DEV_STATE;
	h.src = src;
	h.dst = dst;
	h.reserved = xa_fe_tx_seq_next_locked(d);   /* see device.c */
	h.len = (uint16_t)len;
	h.flags = 0;
	xa_rpmsg_hdr_encode(xa_fe_tx_buf(r, i), &h);
	if (xa_vqdrv_add(&r->txq, r->tx_off + (uint64_t)i * r->stride,
			 XA_RPMSG_HDR_SIZE + len, false, xa_fe_token(i)) != XA_OK)
		return RPMSG_ERR_NO_BUFF;   /* cannot happen: one slot per buffer */
	r->tx_state[i] = XA_TXB_INFLIGHT;
	d->stats.tx_msgs++;
	if (xa_vqdrv_publish(&r->txq))
		xa_fe_kick_locked(d);
	return 0;
}

static uint32_t payload_max(const struct xenamp_dev *d)
{
	return d->reg.buf_size - XA_RPMSG_HDR_SIZE;
}

int rpmsg_send_offchannel_raw(struct rpmsg_endpoint *ept, uint32_t src,
			      uint32_t dst, const void *data, int len,
			      int wait)
{
	struct xenamp_dev *d;
	unsigned i;
	int r;

	if (ept == NULL || data == NULL || dst == RPMSG_ADDR_ANY || len < 0)
		return RPMSG_ERR_PARAM;
	d = xa_fe_dev(ept->rdev);
	if (d == NULL)
		return RPMSG_ERR_PARAM;
	if ((uint32_t)len > payload_max(d))
		len = (int)payload_max(d);   /* OpenAMP truncates */

	pthread_mutex_lock(&d->lock);
	r = xa_fe_tx_get_locked(d, wait != 0, &i);
	if (r != 0) {
		pthread_mutex_unlock(&d->lock);
		return r;
	}
	/* The buffer is ours (reserved): fill it without the lock. */
	pthread_mutex_unlock(&d->lock);
	memcpy(xa_fe_tx_buf(&d->reg, i) + XA_RPMSG_HDR_SIZE, data, (size_t)len);
	pthread_mutex_lock(&d->lock);
	r = xa_fe_tx_submit_locked(d, i, src, dst, (uint32_t)len);
	if (r != 0)
		xa_fe_tx_put_locked(d, i);
	pthread_mutex_unlock(&d->lock);
	return r != 0 ? r : len;
}

void *rpmsg_get_tx_payload_buffer(struct rpmsg_endpoint *ept,
				  uint32_t *len, int wait)
{
	struct xenamp_dev *d;
	unsigned i;
	int r;

	if (ept == NULL || len == NULL)
		return NULL;
	d = xa_fe_dev(ept->rdev);
	if (d == NULL)
		return NULL;
	pthread_mutex_lock(&d->lock);
	r = xa_fe_tx_get_locked(d, wait != 0, &i);
	pthread_mutex_unlock(&d->lock);
	if (r != 0)
		return NULL;
	*len = payload_max(d);
	return xa_fe_tx_buf(&d->reg, i) + XA_RPMSG_HDR_SIZE;
}

/* Lock d and find the TX buffer whose payload is buf, reserved by
 * rpmsg_get_tx_payload_buffer: its index, with d->lock held; -1, not
 * locked, when buf is no such buffer. */
static int lock_reserved_tx(struct xenamp_dev *d, const void *buf)
{
	int i;

	pthread_mutex_lock(&d->lock);
	i = xa_fe_tx_index(&d->reg, buf);
	if (i < 0 || d->reg.tx_state[i] != XA_TXB_RESERVED) {
		pthread_mutex_unlock(&d->lock);
		return -1;
	}
	return i;
}

int rpmsg_send_offchannel_nocopy(struct rpmsg_endpoint *ept, uint32_t src,
				 uint32_t dst, const void *data, int len)
{
	struct xenamp_dev *d;
	int i, r;

	if (ept == NULL || data == NULL || dst == RPMSG_ADDR_ANY || len < 0)
		return RPMSG_ERR_PARAM;
	d = xa_fe_dev(ept->rdev);
	if (d == NULL)
		return RPMSG_ERR_PARAM;
	if ((uint32_t)len > payload_max(d))
		return RPMSG_ERR_BUFF_SIZE;
	i = lock_reserved_tx(d, data);
	if (i < 0)
		return RPMSG_ERR_PARAM;
	r = xa_fe_tx_submit_locked(d, (unsigned)i, src, dst, (uint32_t)len);
	pthread_mutex_unlock(&d->lock);
	return r != 0 ? r : len;
}

int rpmsg_release_tx_buffer(struct rpmsg_endpoint *ept, void *txbuf)
{
	struct xenamp_dev *d;
	int i;

	if (ept == NULL || txbuf == NULL)
		return RPMSG_ERR_PARAM;
	d = xa_fe_dev(ept->rdev);
	if (d == NULL)
		return RPMSG_ERR_PARAM;
	i = lock_reserved_tx(d, txbuf);
	if (i < 0)
		return RPMSG_ERR_PARAM;
	xa_fe_tx_put_locked(d, (unsigned)i);
	pthread_mutex_unlock(&d->lock);
	return RPMSG_SUCCESS;
}

/* ------------------------------------------------------------------ */
/* RX buffers                                                          */

/* The device of ept, locked, and in *idx the RX buffer index of rxbuf
 * (-1 when it is none of the device's); NULL (nothing locked) for bad
 * arguments. */
static struct xenamp_dev *lock_rx_buffer(struct rpmsg_endpoint *ept,
					 const void *rxbuf, int *idx)
{
	struct xenamp_dev *d;

	if (ept == NULL || rxbuf == NULL)
		return NULL;
	d = xa_fe_dev(ept->rdev);
	if (d == NULL)
		return NULL;
	pthread_mutex_lock(&d->lock);
	*idx = xa_fe_rx_index(&d->reg, rxbuf);
	return d;
}

void rpmsg_hold_rx_buffer(struct rpmsg_endpoint *ept, void *rxbuf)
{
	int i;
	struct xenamp_dev *d = lock_rx_buffer(ept, rxbuf, &i);

	if (d == NULL)
		return;
	/* Only a buffer out of the ring (being delivered, or held) can be
	 * held again. */
	if (i >= 0 && d->reg.rx_refs[i] > 0 && d->reg.rx_refs[i] < UINT32_MAX)
		d->reg.rx_refs[i]++;
	pthread_mutex_unlock(&d->lock);
}

void rpmsg_release_rx_buffer(struct rpmsg_endpoint *ept, void *rxbuf)
{
	int i;
	struct xenamp_dev *d = lock_rx_buffer(ept, rxbuf, &i);

	if (d == NULL)
		return;
	if (i >= 0 && d->reg.rx_refs[i] > 0 && --d->reg.rx_refs[i] == 0) {
		xa_fe_rx_repost(&d->reg, (unsigned)i);
		if (xa_vqdrv_publish(&d->reg.rxq))
			xa_fe_kick_locked(d);
	}
	pthread_mutex_unlock(&d->lock);
}

int rpmsg_get_tx_buffer_size(struct rpmsg_endpoint *ept)
{
	struct xenamp_dev *d;

	if (ept == NULL || (d = xa_fe_dev(ept->rdev)) == NULL)
		return RPMSG_ERR_PARAM;
	return (int)payload_max(d);
}

int rpmsg_get_rx_buffer_size(struct rpmsg_endpoint *ept)
{
	struct xenamp_dev *d;

	if (ept == NULL || (d = xa_fe_dev(ept->rdev)) == NULL)
		return RPMSG_ERR_PARAM;
	return (int)payload_max(d);
}

/* ------------------------------------------------------------------ */
/* Endpoints                                                           */

struct rpmsg_endpoint *xa_fe_ept_by_addr(struct xenamp_dev *d, uint32_t addr)
{
	struct rpmsg_endpoint *e;

	for (e = d->epts; e != NULL; e = e->xa_next)
		if (e->addr == addr)
			return e;
	return NULL;
}

void xa_fe_ept_unlink_locked(struct xenamp_dev *d, struct rpmsg_endpoint *ept)
{
	struct rpmsg_endpoint **pp;

	for (pp = &d->epts; *pp != NULL; pp = &(*pp)->xa_next) {
		if (*pp == ept) {
			*pp = ept->xa_next;
			ept->xa_next = NULL;
			xa_addr_release(&d->addrs, ept->addr);
			return;
		}
	}
}

static bool ept_registered(struct xenamp_dev *d, struct rpmsg_endpoint *ept)
{
	struct rpmsg_endpoint *e;

	for (e = d->epts; e != NULL; e = e->xa_next)
		if (e == ept)
			return true;
	return false;
}

/* Blocking name-service announcement from ept, as OpenAMP's
 * rpmsg_send_ns_message(). */
static int send_ns(struct xenamp_dev *d, struct rpmsg_endpoint *ept,
		   uint32_t flags)
{
	unsigned i;
	int r;

	pthread_mutex_lock(&d->lock);
	r = xa_fe_tx_get_locked(d, true, &i);
	if (r == 0) {
		xa_rpmsg_ns_encode(xa_fe_tx_buf(&d->reg, i) + XA_RPMSG_HDR_SIZE,
				   ept->name, ept->addr, flags);
		r = xa_fe_tx_submit_locked(d, i, ept->addr, RPMSG_NS_EPT_ADDR,
					   XA_RPMSG_NS_SIZE);
		if (r != 0)
			xa_fe_tx_put_locked(d, i);
	}
	pthread_mutex_unlock(&d->lock);
	return r;
}

int rpmsg_create_ept(struct rpmsg_endpoint *ept, struct rpmsg_device *rdev,
		     const char *name, uint32_t src, uint32_t dest,
		     rpmsg_ept_cb cb, rpmsg_ns_unbind_cb ns_unbind_cb)
{
	struct xenamp_dev *d = xa_fe_dev(rdev);
	uint32_t addr = src;
	int r;

	if (ept == NULL || d == NULL || cb == NULL)
		return RPMSG_ERR_PARAM;

	pthread_mutex_lock(&d->lock);
	if (d->closing || ept_registered(d, ept)) {
		pthread_mutex_unlock(&d->lock);
		return RPMSG_ERR_PARAM;
	}
	if (src == RPMSG_ADDR_ANY) {
		if (xa_addr_alloc(&d->addrs, &addr) != XA_OK) {
			pthread_mutex_unlock(&d->lock);
			return RPMSG_ERR_ADDR;
		}
	} else if (src >= RPMSG_RESERVED_ADDRESSES) {
		r = xa_addr_reserve(&d->addrs, src);
		if (r != XA_OK) {
			pthread_mutex_unlock(&d->lock);
			return r == XA_ERR_ADDR_BUSY ? RPMSG_ERR_ADDR : RPMSG_ERR_PARAM;
		}
	}
	/* Addresses below 1024 are not checked for duplicates (as OpenAMP:
	 * the authors of predefined services are trusted). */

	memset(ept->name, 0, sizeof(ept->name));
	if (name != NULL) {
		size_t n = strnlen(name, RPMSG_NAME_SIZE - 1);

		memcpy(ept->name, name, n);
	}
	ept->rdev = rdev;
	ept->addr = addr;
	ept->dest_addr = dest;
	ept->cb = cb;
	ept->ns_unbind_cb = ns_unbind_cb;
	/* ept->priv is the caller's, set before the call */
	/* Announced services are announced again after a backend restart. */
	ept->xa_flags = ept->name[0] != '\0' && dest == RPMSG_ADDR_ANY ?
			XA_EPT_F_ANNOUNCED : 0;
	ept->xa_next = NULL;
	{
		struct rpmsg_endpoint **pp = &d->epts;

		while (*pp != NULL)
			pp = &(*pp)->xa_next;
		*pp = ept;
	}
	pthread_mutex_unlock(&d->lock);

	if (ept->name[0] != '\0' && dest == RPMSG_ADDR_ANY) {
		r = send_ns(d, ept, XA_RPMSG_NS_CREATE);
		if (r != 0) {
			pthread_mutex_lock(&d->lock);
			xa_fe_ept_unlink_locked(d, ept);
			pthread_mutex_unlock(&d->lock);
			ept->rdev = NULL;
			return r;
		}
	}
	return RPMSG_SUCCESS;
}

void rpmsg_destroy_ept(struct rpmsg_endpoint *ept)
{
	struct xenamp_dev *d;

	if (ept == NULL || (d = xa_fe_dev(ept->rdev)) == NULL)
		return;
	if (ept->name[0] != '\0' && ept->addr >= RPMSG_RESERVED_ADDRESSES)
		(void)send_ns(d, ept, XA_RPMSG_NS_DESTROY);

	pthread_mutex_lock(&d->lock);
	xa_fe_ept_unlink_locked(d, ept);
	/* A callback of this endpoint running in another thread finishes
	 * first; from inside its own callback, just unregister. */
	while (d->cb_ept == ept && !pthread_equal(d->cb_thread, pthread_self()))
		pthread_cond_wait(&d->cond, &d->lock);
	ept->rdev = NULL;
	pthread_mutex_unlock(&d->lock);
}

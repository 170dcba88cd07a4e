/* The OpenAMP-compatible RPMsg API: endpoints, sends, zero-copy buffers,
 * and the name service. Semantics follow OpenAMP's lib/rpmsg/rpmsg.c (see
 * include/xenamp/rpmsg.h). This layer sits on the virtio RPMsg device
 * (rpmsg_virtio.h) and gets received messages from it through the upper
 * ops it registers; it makes no POSIX call (the lock is fe_lock.h's). */
#include <stdio.h>
#include <string.h>

#include "frontend/rpmsg_virtio.h"

/* ------------------------------------------------------------------ */
/* Endpoint list                                                       */

static struct rpmsg_endpoint *ept_by_addr_locked(struct xenamp_dev *d, uint32_t addr)
{
	struct rpmsg_endpoint *e;

	assert_locked(d);
	for (e = d->epts; e != NULL; e = e->xa_next)
		if (e->addr == addr)
			return e;
	return NULL;
}

static void ept_unlink_locked(struct xenamp_dev *d, struct rpmsg_endpoint *ept)
{
	struct rpmsg_endpoint **pp;

	assert_locked(d);
	for (pp = &d->epts; *pp != NULL; pp = &(*pp)->xa_next) {
		if (*pp == ept) {
			*pp = ept->xa_next;
			ept->xa_next = NULL;
			xa_addr_release(&d->addrs, ept->addr);
			return;
		}
	}
}

static bool ept_registered_locked(struct xenamp_dev *d, struct rpmsg_endpoint *ept)
{
	struct rpmsg_endpoint *e;

	assert_locked(d);
	for (e = d->epts; e != NULL; e = e->xa_next)
		if (e == ept)
			return true;
	return false;
}

static void ept_append_locked(struct xenamp_dev *d, struct rpmsg_endpoint *ept)
{
	struct rpmsg_endpoint **pp = &d->epts;

	assert_locked(d);
	ept->xa_next = NULL;
	while (*pp != NULL)
		pp = &(*pp)->xa_next;
	*pp = ept;
}

/* OpenAMP's rpmsg_get_endpoint(rdev, name, ANY, dest): an endpoint of that
 * name bound to dest, or one of that name still waiting (dest ANY). */
static struct rpmsg_endpoint *ept_for_ns_locked(struct xenamp_dev *d,
						const char *name, uint32_t dest)
{
	struct rpmsg_endpoint *e;

	assert_locked(d);
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

/* ------------------------------------------------------------------ */
/* Receive (called by the device through the upper ops)               */

/* Application callbacks of an endpoint run without the lock, marked by
 * these two (rpmsg_destroy_ept of e in another thread waits until the
 * mark is gone, so e stays valid meanwhile). */
static void cb_mark_locked(struct xenamp_dev *d, struct rpmsg_endpoint *e)
{
	assert_locked(d);
	d->cb_ept = e;
	d->cb_thread = xa_fe_self();
}

static void cb_unmark_locked(struct xenamp_dev *d)
{
	assert_locked(d);
	d->cb_ept = NULL;
	xa_fe_lock_broadcast(&d->lk);
}

/* The remote service bound to e went away: unbind e and tell its owner.
 * Runs ns_unbind_cb without the lock: afterwards the caller must not
 * touch e or any endpoint it found before. */
static void ns_unbind_unlocking(struct xenamp_dev *d, struct rpmsg_endpoint *e)
{
	rpmsg_ns_unbind_cb cb = e->ns_unbind_cb;

	assert_locked(d);
	/* atomic: is_rpmsg_ept_ready() and rpmsg_send() read it without the
	 * lock, in other threads */
	__atomic_store_n(&e->dest_addr, RPMSG_ADDR_ANY, __ATOMIC_RELEASE);
	if (cb == NULL)
		return;
	cb_mark_locked(d, e);
	xa_fe_lock_release(&d->lk);
	cb(e);
	xa_fe_lock_acquire(&d->lk);
	cb_unmark_locked(d);
}

/* A name-service message from the peer. May run ns_unbind_cb or the
 * device's ns_bind_cb without the lock: the caller revalidates
 * everything (the device only looks at d->dead). */
static void ns_handle_unlocking(struct xenamp_dev *d, const uint8_t *payload,
				uint16_t len)
{
	struct xa_rpmsg_ns ns;
	struct rpmsg_endpoint *e;
	int r;

	assert_locked(d);
	r = xa_rpmsg_ns_decode(payload, len, &ns);
	if (r != XA_OK) {
		d->stats.rx_bad_ns++;
		xa_fe_dbg(d, "name-service message dropped: %s", xa_strerror(r));
		return;
	}
	d->stats.rx_ns++;
	e = ept_for_ns_locked(d, ns.name, ns.addr);
	if (ns.flags == XA_RPMSG_NS_DESTROY) {
		xa_fe_dbg(d, "remote service '%s' at %u destroyed", ns.name, ns.addr);
		if (e != NULL)
			ns_unbind_unlocking(d, e);
		return;
	}
	xa_fe_dbg(d, "remote service '%s' at %u announced", ns.name, ns.addr);
	if (e != NULL) {
		__atomic_store_n(&e->dest_addr, ns.addr, __ATOMIC_RELEASE);
		return;
	}
	if (d->ns_bind_cb != NULL) {
		rpmsg_ns_bind_cb cb = d->ns_bind_cb;

		xa_fe_lock_release(&d->lk);
		cb(&d->rdev, ns.name, ns.addr);
		xa_fe_lock_acquire(&d->lk);
	}
}

/* xa_fe_upper_ops.deliver_unlocking (rpmsg_virtio.h). */
static void deliver_unlocking(struct xenamp_dev *d, struct rpmsg_endpoint *e,
			      const struct xa_rpmsg_hdr *h, uint8_t *payload)
{
	rpmsg_ept_cb cb = e->cb;
	void *priv = e->priv;

	assert_locked(d);
	if (e == &d->ns_ept) {
		ns_handle_unlocking(d, payload, h->len);
		return;
	}
	if (e->dest_addr == RPMSG_ADDR_ANY)   /* first message binds */
		__atomic_store_n(&e->dest_addr, h->src, __ATOMIC_RELEASE);
	d->stats.rx_msgs++;
	cb_mark_locked(d, e);
	xa_fe_lock_release(&d->lk);
	(void)cb(e, payload, h->len, h->src, priv);
	xa_fe_lock_acquire(&d->lk);
	cb_unmark_locked(d);
}

static const struct xa_fe_upper_ops upper_ops = {
	.ept_locked = ept_by_addr_locked,
	.deliver_unlocking = deliver_unlocking,
};

/* ------------------------------------------------------------------ */
/* Name-service announcements                                          */

/* Announce (flags: XA_RPMSG_NS_CREATE / DESTROY) service name at addr in
 * reserved TX buffer i; the buffer goes back to the pool on failure. */
static int ns_submit_locked(struct xenamp_dev *d, unsigned i, const char *name,
			    uint32_t addr, uint32_t flags)
{
	int r;

	assert_locked(d);
	xa_rpmsg_ns_encode(xa_fe_tx_payload(d, i), name, addr, flags);
	r = xa_fe_tx_submit_locked(d, i, addr, RPMSG_NS_EPT_ADDR, XA_RPMSG_NS_SIZE);
	if (r != 0)
		xa_fe_tx_put_locked(d, i);
	return r;
}

/* Blocking name-service announcement from ept, as OpenAMP's
 * rpmsg_send_ns_message(). */
static int send_ns(struct xenamp_dev *d, struct rpmsg_endpoint *ept,
		   uint32_t flags)
{
	unsigned i;
	int r;

	xa_fe_lock_acquire(&d->lk);
	r = xa_fe_tx_get_unlocking(d, &i);
	if (r == 0)
		r = ns_submit_locked(d, i, ept->name, ept->addr, flags);
	xa_fe_lock_release(&d->lk);
	return r;
}

void xa_fe_epts_reannounce_unlocking(struct xenamp_dev *d)
{
	struct rpmsg_endpoint *e, *f;
	unsigned i;

	assert_locked(d);
	for (e = d->epts; e != NULL && !d->lost && !d->dead; e = e->xa_next) {
		if (e == &d->ns_ept || !(e->xa_flags & XA_EPT_F_ANNOUNCED) ||
		    e->addr < RPMSG_RESERVED_ADDRESSES)
			continue;
		if (xa_fe_tx_get_unlocking(d, &i) != 0)
			return;
		/* The lock may have been dropped: e may be gone. */
		for (f = d->epts; f != NULL && f != e; f = f->xa_next)
			;
		if (f == NULL) {
			xa_fe_tx_put_locked(d, i);
			return;
		}
		(void)ns_submit_locked(d, i, e->name, e->addr, XA_RPMSG_NS_CREATE);
	}
}

/* ------------------------------------------------------------------ */
/* Set-up and tear-down (for the session)                              */

static int ns_ept_cb(struct rpmsg_endpoint *ept, void *data, size_t len,
		     uint32_t src, void *priv)
{
	/* Never called: name-service messages are handled in place. */
	(void)ept; (void)data; (void)len; (void)src; (void)priv;
	return RPMSG_SUCCESS;
}

void xa_fe_epts_init_locked(struct xenamp_dev *d)
{
	assert_locked(d);
	d->rdev.magic = XA_RDEV_MAGIC;
	d->rdev.xdev = d;
	xa_addr_init(&d->addrs, RPMSG_RESERVED_ADDRESSES, XA_ADDR_BITMAP_MAX);
	snprintf(d->ns_ept.name, sizeof(d->ns_ept.name), "NS");
	d->ns_ept.rdev = &d->rdev;
	d->ns_ept.addr = RPMSG_NS_EPT_ADDR;
	d->ns_ept.dest_addr = RPMSG_NS_EPT_ADDR;
	d->ns_ept.cb = ns_ept_cb;
	d->ns_ept.priv = d;
	d->epts = &d->ns_ept;
	xa_fe_dev_set_upper_locked(d, &upper_ops);
}

void xa_fe_epts_close_locked(struct xenamp_dev *d)
{
	struct rpmsg_endpoint *e;
	unsigned i;

	assert_locked(d);
	/* Best effort announcements; the backend also announces the
	 * destruction of our services when we go away. */
	while ((e = d->epts) != NULL) {
		if (e == &d->ns_ept) {
			d->epts = e->xa_next;
			continue;
		}
		if (e->name[0] != '\0' && e->addr >= RPMSG_RESERVED_ADDRESSES &&
		    !d->dead && xa_fe_tx_get_locked(d, &i) == 0)
			(void)ns_submit_locked(d, i, e->name, e->addr,
					       XA_RPMSG_NS_DESTROY);
		ept_unlink_locked(d, e);
		e->rdev = NULL;
	}
}

/* ------------------------------------------------------------------ */
/* Sends and buffers                                                   */

/* Reserve a TX buffer, waiting for one when wait != 0 (then the lock may
 * be dropped: the caller revalidates what it read before). */
static int tx_get_unlocking(struct xenamp_dev *d, int wait, unsigned *idx)
{
	assert_locked(d);
	return wait != 0 ? xa_fe_tx_get_unlocking(d, idx) : xa_fe_tx_get_locked(d, idx);
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
	if ((uint32_t)len > xa_fe_payload_max(d))
		len = (int)xa_fe_payload_max(d);   /* OpenAMP truncates */

	xa_fe_lock_acquire(&d->lk);
	r = tx_get_unlocking(d, wait, &i);
	xa_fe_lock_release(&d->lk);
	if (r != 0)
		return r;
	/* The buffer is ours (reserved): fill it without the lock. */
	memcpy(xa_fe_tx_payload(d, i), data, (size_t)len);
	xa_fe_lock_acquire(&d->lk);
	r = xa_fe_tx_submit_locked(d, i, src, dst, (uint32_t)len);
	if (r != 0)
		xa_fe_tx_put_locked(d, i);
	xa_fe_lock_release(&d->lk);
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
	xa_fe_lock_acquire(&d->lk);
	r = tx_get_unlocking(d, wait, &i);
	xa_fe_lock_release(&d->lk);
	if (r != 0)
		return NULL;
	*len = xa_fe_payload_max(d);
	return xa_fe_tx_payload(d, i);
}

int rpmsg_send_offchannel_nocopy(struct rpmsg_endpoint *ept, uint32_t src,
				 uint32_t dst, const void *data, int len)
{
	struct xenamp_dev *d;
	int i, r = RPMSG_ERR_PARAM;

	if (ept == NULL || data == NULL || dst == RPMSG_ADDR_ANY || len < 0)
		return RPMSG_ERR_PARAM;
	d = xa_fe_dev(ept->rdev);
	if (d == NULL)
		return RPMSG_ERR_PARAM;
	if ((uint32_t)len > xa_fe_payload_max(d))
		return RPMSG_ERR_BUFF_SIZE;
	xa_fe_lock_acquire(&d->lk);
	i = xa_fe_tx_reserved_index_locked(d, data);
	if (i >= 0)
		r = xa_fe_tx_submit_locked(d, (unsigned)i, src, dst, (uint32_t)len);
	xa_fe_lock_release(&d->lk);
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
	xa_fe_lock_acquire(&d->lk);
	i = xa_fe_tx_reserved_index_locked(d, txbuf);
	if (i >= 0)
		xa_fe_tx_put_locked(d, (unsigned)i);
	xa_fe_lock_release(&d->lk);
	return i >= 0 ? RPMSG_SUCCESS : RPMSG_ERR_PARAM;
}

void rpmsg_hold_rx_buffer(struct rpmsg_endpoint *ept, void *rxbuf)
{
	struct xenamp_dev *d;

	if (ept == NULL || rxbuf == NULL || (d = xa_fe_dev(ept->rdev)) == NULL)
		return;
	xa_fe_lock_acquire(&d->lk);
	xa_fe_rx_hold_locked(d, rxbuf);
	xa_fe_lock_release(&d->lk);
}

void rpmsg_release_rx_buffer(struct rpmsg_endpoint *ept, void *rxbuf)
{
	struct xenamp_dev *d;

	if (ept == NULL || rxbuf == NULL || (d = xa_fe_dev(ept->rdev)) == NULL)
		return;
	xa_fe_lock_acquire(&d->lk);
	xa_fe_rx_release_locked(d, rxbuf);
	xa_fe_lock_release(&d->lk);
}

int rpmsg_get_tx_buffer_size(struct rpmsg_endpoint *ept)
{
	struct xenamp_dev *d;

	if (ept == NULL || (d = xa_fe_dev(ept->rdev)) == NULL)
		return RPMSG_ERR_PARAM;
	return (int)xa_fe_payload_max(d);
}

int rpmsg_get_rx_buffer_size(struct rpmsg_endpoint *ept)
{
	struct xenamp_dev *d;

	if (ept == NULL || (d = xa_fe_dev(ept->rdev)) == NULL)
		return RPMSG_ERR_PARAM;
	return (int)xa_fe_payload_max(d);
}

/* ------------------------------------------------------------------ */
/* Endpoints                                                           */

/* Bind ept to a local address: src, or a free one for RPMSG_ADDR_ANY.
 * RPMSG_SUCCESS or an error. */
static int ept_bind_addr_locked(struct xenamp_dev *d, uint32_t src, uint32_t *addr)
{
	int r;

	assert_locked(d);
	*addr = src;
	if (src == RPMSG_ADDR_ANY)
		return xa_addr_alloc(&d->addrs, addr) == XA_OK ? RPMSG_SUCCESS :
		       RPMSG_ERR_ADDR;
	/* Addresses below 1024 are not checked for duplicates (as OpenAMP:
	 * the authors of predefined services are trusted). */
	if (src < RPMSG_RESERVED_ADDRESSES)
		return RPMSG_SUCCESS;
	r = xa_addr_reserve(&d->addrs, src);
	if (r == XA_OK)
		return RPMSG_SUCCESS;
	return r == XA_ERR_ADDR_BUSY ? RPMSG_ERR_ADDR : RPMSG_ERR_PARAM;
}

int rpmsg_create_ept(struct rpmsg_endpoint *ept, struct rpmsg_device *rdev,
		     const char *name, uint32_t src, uint32_t dest,
		     rpmsg_ept_cb cb, rpmsg_ns_unbind_cb ns_unbind_cb)
{
	struct xenamp_dev *d = xa_fe_dev(rdev);
	uint32_t addr;
	int r;

	if (ept == NULL || d == NULL || cb == NULL)
		return RPMSG_ERR_PARAM;

	xa_fe_lock_acquire(&d->lk);
	r = d->closing || ept_registered_locked(d, ept) ? RPMSG_ERR_PARAM :
	    ept_bind_addr_locked(d, src, &addr);
	if (r != RPMSG_SUCCESS) {
		xa_fe_lock_release(&d->lk);
		return r;
	}
	memset(ept->name, 0, sizeof(ept->name));
	if (name != NULL)
		memcpy(ept->name, name, strnlen(name, RPMSG_NAME_SIZE - 1));
	ept->rdev = rdev;
	ept->addr = addr;
	ept->dest_addr = dest;
	ept->cb = cb;
	ept->ns_unbind_cb = ns_unbind_cb;
	/* ept->priv is the caller's, set before the call */
	/* Announced services are announced again after a backend restart. */
	ept->xa_flags = ept->name[0] != '\0' && dest == RPMSG_ADDR_ANY ?
			XA_EPT_F_ANNOUNCED : 0;
	ept_append_locked(d, ept);
	xa_fe_lock_release(&d->lk);

	if (ept->name[0] != '\0' && dest == RPMSG_ADDR_ANY) {
		r = send_ns(d, ept, XA_RPMSG_NS_CREATE);
		if (r != 0) {
			xa_fe_lock_acquire(&d->lk);
			ept_unlink_locked(d, ept);
			xa_fe_lock_release(&d->lk);
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

	xa_fe_lock_acquire(&d->lk);
	ept_unlink_locked(d, ept);
	/* A callback of this endpoint running in another thread finishes
	 * first; from inside its own callback, just unregister. */
	while (d->cb_ept == ept && d->cb_thread != xa_fe_self())
		xa_fe_lock_wait(&d->lk);
	ept->rdev = NULL;
	xa_fe_lock_release(&d->lk);
}

/* The OpenAMP-compatible RPMsg API: endpoints, sends, zero-copy buffers,
 * and the name service. Semantics follow OpenAMP's lib/rpmsg/rpmsg.c (see
 * include/xenamp/rpmsg.h). This layer sits on the virtio RPMsg device
 * (rpmsg_virtio.h) and gets received messages from it through the upper
 * ops it registers; it makes no OS call (the lock, the condition variable
 * and the thread identity are the environment's, fe_env.h). */
#include <string.h>

#include "frontend/core/rpmsg_virtio.h"

/* ------------------------------------------------------------------ */
/* Endpoint list: d->rdev.endpoints, linked through rpmsg_endpoint.node
 * (circular, libmetal's layout, so that applications can walk it as
 * they do under OpenAMP); the name-service endpoint first. */

_Static_assert(RPMSG_ADDR_BMP_SIZE == XA_ADDR_BITMAP_MAX,
	       "RPMSG_ADDR_BMP_SIZE tells applications the size of the address table");

#define EPT_OF(n) ((struct rpmsg_endpoint *)(void *)((char *)(n) - \
			offsetof(struct rpmsg_endpoint, node)))
#define FOR_EACH_EPT(d, e) \
	for (struct metal_list *n_ = (d)->rdev.endpoints.next; \
	     n_ != &(d)->rdev.endpoints && ((e) = EPT_OF(n_), 1); n_ = n_->next)

static struct rpmsg_endpoint *ept_by_addr_locked(struct xa_fe_core *d, uint32_t addr)
{
	struct rpmsg_endpoint *e;

	assert_locked(d);
	FOR_EACH_EPT(d, e)
		if (e->addr == addr)
			return e;
	return NULL;
}

static bool ept_registered_locked(struct xa_fe_core *d, struct rpmsg_endpoint *ept)
{
	struct rpmsg_endpoint *e;

	assert_locked(d);
	FOR_EACH_EPT(d, e)
		if (e == ept)
			return true;
	return false;
}

static void ept_unlink_locked(struct xa_fe_core *d, struct rpmsg_endpoint *ept)
{
	assert_locked(d);
	if (!ept_registered_locked(d, ept))
		return;
	ept->node.prev->next = ept->node.next;
	ept->node.next->prev = ept->node.prev;
	ept->node.next = ept->node.prev = &ept->node;
	xa_addr_release(&d->addrs, ept->addr);
}

static void ept_append_locked(struct xa_fe_core *d, struct rpmsg_endpoint *ept)
{
	struct metal_list *head = &d->rdev.endpoints;

	assert_locked(d);
	ept->node.next = head;
	ept->node.prev = head->prev;
	head->prev->next = &ept->node;
	head->prev = &ept->node;
}

/* The first endpoint registered after the name-service one, or NULL. */
static struct rpmsg_endpoint *ept_first_user_locked(struct xa_fe_core *d)
{
	struct rpmsg_endpoint *e;

	assert_locked(d);
	FOR_EACH_EPT(d, e)
		if (e != &d->rdev.ns_ept)
			return e;
	return NULL;
}

/* Drop one reference to e (struct rpmsg_endpoint in <xenamp/rpmsg.h>);
 * with the last, e is released: its release_cb runs without the lock.
 * Afterwards the caller must not touch e, and must look again at
 * whatever it read before (d->dead, d->lost, endpoints). */
static void ept_put_unlocking(struct xa_fe_core *d, struct rpmsg_endpoint *e)
{
	rpmsg_ept_release_cb rel;

	assert_locked(d);
	if (e->refcnt == 0 || --e->refcnt != 0)
		return;
	rel = e->release_cb;
	if (rel == NULL)
		return;
	xa_fe_env_unlock(d);
	rel(e);
	xa_fe_env_lock(d);
}

/* strncmp(a, b, RPMSG_NAME_SIZE) == 0, with the core's short list of
 * library calls (fe_env.h). */
static bool name_eq(const char *a, const char *b)
{
	size_t n = strnlen(a, RPMSG_NAME_SIZE);

	return n == strnlen(b, RPMSG_NAME_SIZE) && memcmp(a, b, n) == 0;
}

/* OpenAMP's rpmsg_get_endpoint(rdev, name, ANY, dest): an endpoint of that
 * name bound to dest, or one of that name still waiting (dest ANY). */
static struct rpmsg_endpoint *ept_for_ns_locked(struct xa_fe_core *d,
						const char *name, uint32_t dest)
{
	struct rpmsg_endpoint *e;

	assert_locked(d);
	FOR_EACH_EPT(d, e) {
		if (e == &d->rdev.ns_ept)
			continue;
		if (!name_eq(e->name, name))
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
static void cb_mark_locked(struct xa_fe_core *d, struct rpmsg_endpoint *e)
{
	assert_locked(d);
	d->cb_ept = e;
	d->cb_thread = d->env->self();
}

static void cb_unmark_locked(struct xa_fe_core *d)
{
	assert_locked(d);
	d->cb_ept = NULL;
	xa_fe_env_broadcast(d);
}

/* The remote service bound to e went away: unbind e and tell its owner.
 * Runs ns_unbind_cb without the lock, holding a reference to e when it
 * has a release_cb (without one, the callback may free e: e is not
 * touched after it). Afterwards the caller must not touch e or any
 * endpoint it found before. */
static void ns_unbind_unlocking(struct xa_fe_core *d, struct rpmsg_endpoint *e)
{
	rpmsg_ns_unbind_cb cb = e->ns_unbind_cb;
	bool ref = e->release_cb != NULL;

	assert_locked(d);
	/* atomic: is_rpmsg_ept_ready() and rpmsg_send() read it without the
	 * lock, in other threads */
	__atomic_store_n(&e->dest_addr, RPMSG_ADDR_ANY, __ATOMIC_RELEASE);
	if (cb == NULL)
		return;
	if (ref)
		e->refcnt++;
	cb_mark_locked(d, e);
	xa_fe_env_unlock(d);
	cb(e);
	xa_fe_env_lock(d);
	cb_unmark_locked(d);
	if (ref)
		ept_put_unlocking(d, e);
}

/* Run the device's ns_bind_cb or ns_unbind_cb (read once, may be NULL)
 * without the lock: the caller revalidates everything afterwards. */
static void ns_dev_cb_unlocking(struct xa_fe_core *d, rpmsg_ns_bind_cb cb,
				const struct xa_rpmsg_ns *ns)
{
	assert_locked(d);
	if (cb == NULL)
		return;
	xa_fe_env_unlock(d);
	cb(&d->rdev, ns->name, ns->addr);
	xa_fe_env_lock(d);
}

/* A name-service message from the peer. May run ns_unbind_cb or the
 * device's ns_bind_cb without the lock: the caller revalidates
 * everything (the device only looks at d->dead). */
static void ns_handle_unlocking(struct xa_fe_core *d, const uint8_t *payload,
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
		/* As OpenAMP: the endpoint's ns_unbind_cb, then the device's
		 * (for every withdrawal, bound or not). */
		if (e != NULL)
			ns_unbind_unlocking(d, e);
		ns_dev_cb_unlocking(d, d->rdev.ns_unbind_cb, &ns);
		return;
	}
	xa_fe_dbg(d, "remote service '%s' at %u announced", ns.name, ns.addr);
	if (e != NULL) {
		__atomic_store_n(&e->dest_addr, ns.addr, __ATOMIC_RELEASE);
		return;
	}
	ns_dev_cb_unlocking(d, d->rdev.ns_bind_cb, &ns);
}

/* xa_fe_upper_ops.deliver_unlocking (rpmsg_virtio.h). */
static void deliver_unlocking(struct xa_fe_core *d, struct rpmsg_endpoint *e,
			      const struct xa_rpmsg_hdr *h, uint8_t *payload)
{
	rpmsg_ept_cb cb = e->cb;
	void *priv = e->priv;
	/* With a release_cb, the callback holds a reference (it may destroy
	 * e; release_cb then runs when it returns). Without one, e is not
	 * touched after the callback, which may destroy and free it. */
	bool ref = e->release_cb != NULL;

	assert_locked(d);
	if (e == &d->rdev.ns_ept) {
		ns_handle_unlocking(d, payload, h->len);
		return;
	}
	if (e->dest_addr == RPMSG_ADDR_ANY)   /* first message binds */
		__atomic_store_n(&e->dest_addr, h->src, __ATOMIC_RELEASE);
	d->stats.rx_msgs++;
	if (ref)
		e->refcnt++;
	cb_mark_locked(d, e);
	xa_fe_env_unlock(d);
	(void)cb(e, payload, h->len, h->src, priv);
	xa_fe_env_lock(d);
	cb_unmark_locked(d);
	if (ref)
		ept_put_unlocking(d, e);
}

static const struct xa_fe_upper_ops upper_ops = {
	.ept_locked = ept_by_addr_locked,
	.deliver_unlocking = deliver_unlocking,
};

/* ------------------------------------------------------------------ */
/* Name-service announcements                                          */

/* Announce (flags: XA_RPMSG_NS_CREATE / DESTROY) service name at addr in
 * reserved TX buffer i; the buffer goes back to the pool on failure. */
static int ns_submit_locked(struct xa_fe_core *d, unsigned i, const char *name,
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
static int send_ns(struct xa_fe_core *d, struct rpmsg_endpoint *ept,
		   uint32_t flags)
{
	unsigned i;
	int r;

	xa_fe_env_lock(d);
	r = xa_fe_tx_get_unlocking(d, &i);
	if (r == 0)
		r = ns_submit_locked(d, i, ept->name, ept->addr, flags);
	xa_fe_env_unlock(d);
	return r;
}

void xa_fe_epts_reannounce_unlocking(struct xa_fe_core *d)
{
	struct rpmsg_endpoint *e;
	struct metal_list *n;
	unsigned i;

	assert_locked(d);
	for (n = d->rdev.endpoints.next; n != &d->rdev.endpoints &&
	     !d->lost && !d->dead; n = n->next) {
		e = EPT_OF(n);
		if (e == &d->rdev.ns_ept || !(e->xa_flags & XA_EPT_F_ANNOUNCED) ||
		    e->addr < RPMSG_RESERVED_ADDRESSES || !d->rdev.support_ns)
			continue;
		if (xa_fe_tx_get_unlocking(d, &i) != 0)
			return;
		/* The lock may have been dropped: e may be gone. */
		if (!ept_registered_locked(d, e)) {
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

void xa_fe_epts_init_locked(struct xa_fe_core *d)
{
	struct rpmsg_endpoint *ns = &d->rdev.ns_ept;

	assert_locked(d);
	d->rdev.xa_magic = XA_RDEV_MAGIC;
	/* rdev.xa_dev is the environment's (libxenamp: its xenamp_dev). */
	d->rdev.support_ns = true;   /* ns_bind_cb: set by the session */
	d->rdev.endpoints.next = d->rdev.endpoints.prev = &d->rdev.endpoints;
	xa_addr_init(&d->addrs, RPMSG_RESERVED_ADDRESSES, XA_ADDR_BITMAP_MAX);
	memset(ns->name, 0, sizeof(ns->name));
	memcpy(ns->name, "NS", 2);
	ns->rdev = &d->rdev;
	ns->addr = RPMSG_NS_EPT_ADDR;
	ns->dest_addr = RPMSG_NS_EPT_ADDR;
	ns->refcnt = 1;
	ns->cb = ns_ept_cb;
	ns->priv = d;
	ept_append_locked(d, ns);
	xa_fe_dev_set_upper_locked(d, &upper_ops);
}

void xa_fe_epts_close_unlocking(struct xa_fe_core *d)
{
	struct rpmsg_endpoint *e;
	unsigned i;

	assert_locked(d);
	/* Best effort announcements; the backend also announces the
	 * destruction of our services when we go away. New endpoints are
	 * refused (d->closing), so the loop ends. */
	while ((e = ept_first_user_locked(d)) != NULL) {
		if (e->name[0] != '\0' && e->addr >= RPMSG_RESERVED_ADDRESSES &&
		    d->rdev.support_ns && !d->dead && xa_fe_tx_get_locked(d, &i) == 0)
			(void)ns_submit_locked(d, i, e->name, e->addr,
					       XA_RPMSG_NS_DESTROY);
		ept_unlink_locked(d, e);
		e->rdev = NULL;
		ept_put_unlocking(d, e);
	}
	ept_unlink_locked(d, &d->rdev.ns_ept);
}

/* ------------------------------------------------------------------ */
/* Sends and buffers                                                   */

/* Reserve a TX buffer, waiting for one when wait != 0 (then the lock may
 * be dropped: the caller revalidates what it read before). */
static int tx_get_unlocking(struct xa_fe_core *d, int wait, unsigned *idx)
{
	assert_locked(d);
	return wait != 0 ? xa_fe_tx_get_unlocking(d, idx) : xa_fe_tx_get_locked(d, idx);
}

int rpmsg_send_offchannel_raw(struct rpmsg_endpoint *ept, uint32_t src,
			      uint32_t dst, const void *data, int len,
			      int wait)
{
	struct xa_fe_core *d;
	unsigned i;
	int r;

	if (ept == NULL || data == NULL || dst == RPMSG_ADDR_ANY || len < 0)
		return RPMSG_ERR_PARAM;
	d = xa_fe_dev(ept->rdev);
	if (d == NULL)
		return RPMSG_ERR_PARAM;
	if ((uint32_t)len > xa_fe_payload_max(d))
		len = (int)xa_fe_payload_max(d);   /* OpenAMP truncates */

	xa_fe_env_lock(d);
	r = tx_get_unlocking(d, wait, &i);
	xa_fe_env_unlock(d);
	if (r != 0)
		return r;
	/* The buffer is ours (reserved): fill it without the lock. */
	memcpy(xa_fe_tx_payload(d, i), data, (size_t)len);
	xa_fe_env_lock(d);
	r = xa_fe_tx_submit_locked(d, i, src, dst, (uint32_t)len);
	if (r != 0)
		xa_fe_tx_put_locked(d, i);
	xa_fe_env_unlock(d);
	return r != 0 ? r : len;
}

void *rpmsg_get_tx_payload_buffer(struct rpmsg_endpoint *ept,
				  uint32_t *len, int wait)
{
	struct xa_fe_core *d;
	unsigned i;
	int r;

	if (ept == NULL || len == NULL)
		return NULL;
	d = xa_fe_dev(ept->rdev);
	if (d == NULL)
		return NULL;
	xa_fe_env_lock(d);
	r = tx_get_unlocking(d, wait, &i);
	xa_fe_env_unlock(d);
	if (r != 0)
		return NULL;
	*len = xa_fe_payload_max(d);
	return xa_fe_tx_payload(d, i);
}

int rpmsg_send_offchannel_nocopy(struct rpmsg_endpoint *ept, uint32_t src,
				 uint32_t dst, const void *data, int len)
{
	struct xa_fe_core *d;
	int i, r = RPMSG_ERR_PARAM;

	if (ept == NULL || data == NULL || dst == RPMSG_ADDR_ANY || len < 0)
		return RPMSG_ERR_PARAM;
	d = xa_fe_dev(ept->rdev);
	if (d == NULL)
		return RPMSG_ERR_PARAM;
	if ((uint32_t)len > xa_fe_payload_max(d))
		return RPMSG_ERR_BUFF_SIZE;
	xa_fe_env_lock(d);
	i = xa_fe_tx_reserved_index_locked(d, data);
	if (i >= 0)
		r = xa_fe_tx_submit_locked(d, (unsigned)i, src, dst, (uint32_t)len);
	xa_fe_env_unlock(d);
	return r != 0 ? r : len;
}

int rpmsg_release_tx_buffer(struct rpmsg_endpoint *ept, void *txbuf)
{
	struct xa_fe_core *d;
	int i;

	if (ept == NULL || txbuf == NULL)
		return RPMSG_ERR_PARAM;
	d = xa_fe_dev(ept->rdev);
	if (d == NULL)
		return RPMSG_ERR_PARAM;
	xa_fe_env_lock(d);
	i = xa_fe_tx_reserved_index_locked(d, txbuf);
	if (i >= 0)
		xa_fe_tx_put_locked(d, (unsigned)i);
	xa_fe_env_unlock(d);
	return i >= 0 ? RPMSG_SUCCESS : RPMSG_ERR_PARAM;
}

void rpmsg_hold_rx_buffer(struct rpmsg_endpoint *ept, void *rxbuf)
{
	struct xa_fe_core *d;

	if (ept == NULL || rxbuf == NULL || (d = xa_fe_dev(ept->rdev)) == NULL)
		return;
	xa_fe_env_lock(d);
	xa_fe_rx_hold_locked(d, rxbuf);
	xa_fe_env_unlock(d);
}

void rpmsg_release_rx_buffer(struct rpmsg_endpoint *ept, void *rxbuf)
{
	struct xa_fe_core *d;

	if (ept == NULL || rxbuf == NULL || (d = xa_fe_dev(ept->rdev)) == NULL)
		return;
	xa_fe_env_lock(d);
	xa_fe_rx_release_locked(d, rxbuf);
	xa_fe_env_unlock(d);
}

int rpmsg_get_tx_buffer_size(struct rpmsg_endpoint *ept)
{
	struct xa_fe_core *d;

	if (ept == NULL || (d = xa_fe_dev(ept->rdev)) == NULL)
		return RPMSG_ERR_PARAM;
	return (int)xa_fe_payload_max(d);
}

int rpmsg_get_rx_buffer_size(struct rpmsg_endpoint *ept)
{
	struct xa_fe_core *d;

	if (ept == NULL || (d = xa_fe_dev(ept->rdev)) == NULL)
		return RPMSG_ERR_PARAM;
	return (int)xa_fe_payload_max(d);
}

/* ------------------------------------------------------------------ */
/* Endpoints                                                           */

/* Bind ept to a local address: src, or a free one for RPMSG_ADDR_ANY.
 * RPMSG_SUCCESS or an error. */
static int ept_bind_addr_locked(struct xa_fe_core *d, uint32_t src, uint32_t *addr)
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
	struct xa_fe_core *d = xa_fe_dev(rdev);
	uint32_t addr;
	int r;

	if (ept == NULL || d == NULL || cb == NULL)
		return RPMSG_ERR_PARAM;

	xa_fe_env_lock(d);
	r = d->closing || ept_registered_locked(d, ept) ? RPMSG_ERR_PARAM :
	    ept_bind_addr_locked(d, src, &addr);
	if (r != RPMSG_SUCCESS) {
		xa_fe_env_unlock(d);
		return r;
	}
	memset(ept->name, 0, sizeof(ept->name));
	if (name != NULL)
		memcpy(ept->name, name, strnlen(name, RPMSG_NAME_SIZE - 1));
	ept->rdev = rdev;
	ept->addr = addr;
	ept->dest_addr = dest;
	ept->refcnt = 1;
	/* ept->release_cb is the caller's, as priv */
	ept->cb = cb;
	ept->ns_unbind_cb = ns_unbind_cb;
	/* ept->priv is the caller's, set before the call */
	/* Announced services are announced again after a backend restart. */
	ept->xa_flags = ept->name[0] != '\0' && dest == RPMSG_ADDR_ANY &&
			d->rdev.support_ns ? XA_EPT_F_ANNOUNCED : 0;
	ept_append_locked(d, ept);
	xa_fe_env_unlock(d);

	if (ept->xa_flags & XA_EPT_F_ANNOUNCED) {
		r = send_ns(d, ept, XA_RPMSG_NS_CREATE);
		if (r != 0) {
			/* Never seen by a callback: no release. */
			xa_fe_env_lock(d);
			ept_unlink_locked(d, ept);
			ept->refcnt = 0;
			xa_fe_env_unlock(d);
			ept->rdev = NULL;
			return r;
		}
	}
	return RPMSG_SUCCESS;
}

void rpmsg_destroy_ept(struct rpmsg_endpoint *ept)
{
	struct xa_fe_core *d;

	if (ept == NULL || (d = xa_fe_dev(ept->rdev)) == NULL)
		return;
	if (ept->name[0] != '\0' && ept->addr >= RPMSG_RESERVED_ADDRESSES &&
	    d->rdev.support_ns)
		(void)send_ns(d, ept, XA_RPMSG_NS_DESTROY);

	xa_fe_env_lock(d);
	if (!ept_registered_locked(d, ept) || ept == &d->rdev.ns_ept) {
		/* Destroyed meanwhile by another thread (or xenamp_close),
		 * or the device's own: nothing of ours to drop. */
		xa_fe_env_unlock(d);
		return;
	}
	ept_unlink_locked(d, ept);
	/* A callback of this endpoint running in another thread finishes
	 * first (dropping its reference); from inside its own callback, just
	 * unregister: its reference is dropped when it returns. */
	while (d->cb_ept == ept && d->cb_thread != d->env->self())
		(void)xa_fe_env_cond_wait(d, 0);
	ept->rdev = NULL;
	ept_put_unlocking(d, ept);
	xa_fe_env_unlock(d);
}

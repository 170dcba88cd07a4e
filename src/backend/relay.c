/* xenamp-backend: the relay policy, name service, scheduling (relay.h). */
#include <errno.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/log.h"
#include "backend/relay.h"
#include "common/refusal.h"
#include "common/xa_time.h"
#include "core/byteorder.h"
#include "core/xa_error.h"

#define NS_MSG_SIZE (XA_RPMSG_HDR_SIZE + XA_RPMSG_NS_SIZE)

static struct xa_end *peer_of(struct xa_end *e)
{
	return xa_end_peer(e);
}

static bool connected(const struct xa_end *e)
{
	return xa_end_connected(e);
}

/* ------------------------------------------------------------------ */
/* Ready queue                                                         */

static void enqueue(struct xa_relay *r, struct xa_end *e)
{
	if (e->queued)
		return;
	e->queued = true;
	e->qnext = NULL;
	if (r->qtail)
		r->qtail->qnext = e;
	else
		r->qhead = e;
	r->qtail = e;
	r->qlen++;
}

static struct xa_end *dequeue(struct xa_relay *r)
{
	struct xa_end *e = r->qhead;

	if (e == NULL)
		return NULL;
	r->qhead = e->qnext;
	if (r->qhead == NULL)
		r->qtail = NULL;
	r->qlen--;
	e->queued = false;
	e->qnext = NULL;
	return e;
}

bool xa_relay_busy(const struct xa_relay *r)
{
	return r->qhead != NULL;
}

/* ------------------------------------------------------------------ */
/* Name service bookkeeping                                            */

static int svc_find(const struct xa_end *e, const char *name, uint32_t addr)
{
	for (unsigned i = 0; i < e->nsvc; i++)
		if (e->svc[i].addr == addr && strcmp(e->svc[i].name, name) == 0)
			return (int)i;
	return -1;
}

static void inj_push(struct xa_end *e, const char *name, uint32_t addr,
		     uint32_t flags)
{
	/* Capacity 2 * max-services: at most one replay of the peer's
	 * services plus their destroys are ever waiting (registry.h). If
	 * that reasoning were wrong the oldest entry is overwritten, never
	 * memory outside the array. */
	struct xa_inj *q;

	if (e->inj_len == e->inj_cap) {
		e->inj_head = (e->inj_head + 1) % e->inj_cap;
		e->inj_len--;
	}
	q = &e->inj[(e->inj_head + e->inj_len) % e->inj_cap];
	memset(q, 0, sizeof(*q));
	snprintf(q->name, sizeof(q->name), "%s", name);
	q->addr = addr;
	q->flags = flags;
	e->inj_len++;
}

/* S's announcement ns was delivered: S's live services follow it. */
static void ns_track(struct xa_end *S, const struct xa_rpmsg_ns *ns)
{
	int i = svc_find(S, ns->name, ns->addr);

	if (ns->flags == XA_RPMSG_NS_CREATE && i < 0) {
		S->svc[S->nsvc].addr = ns->addr;
		memcpy(S->svc[S->nsvc].name, ns->name, sizeof(ns->name));
		S->nsvc++;
	} else if (ns->flags == XA_RPMSG_NS_DESTROY && i >= 0) {
		S->svc[i] = S->svc[S->nsvc - 1];
		S->nsvc--;
	}
	if (xa_log_enabled(XA_LOG_DEBUG)) {
		char a[96];

		xa_log(XA_LOG_DEBUG, "link %s: %s %s service '%s' at %u",
		       S->link->cfg->name, xa_end_label(S, a, sizeof(a)),
		       ns->flags == XA_RPMSG_NS_CREATE ? "announced" : "withdrew",
		       ns->name, ns->addr);
	}
}

/* e connected: what the backend has to tell it is the peer's live
 * services, nothing older. */
static void ns_replay(struct xa_end *e)
{
	struct xa_end *p = peer_of(e);

	e->inj_head = e->inj_len = 0;
	if (connected(p))
		for (unsigned i = 0; i < p->nsvc; i++)
			inj_push(e, p->svc[i].name, p->svc[i].addr,
				 XA_RPMSG_NS_CREATE);
}

/* ------------------------------------------------------------------ */
/* Disconnecting                                                       */

/* The notify and polled lists (relay.h). Unlinking walks the list: only
 * when a connection closes. */
static void notify_mark(struct xa_relay *r, struct xa_end *e)
{
	e->need_notify = true;
	if (!e->nlisted) {
		e->nlisted = true;
		e->nnext = r->nhead;
		r->nhead = e;
	}
}

static void poll_mark(struct xa_relay *r, struct xa_end *e)
{
	if (!e->plisted) {
		e->plisted = true;
		e->pnext = r->phead;
		r->phead = e;
	}
}

static void lists_unlink(struct xa_relay *r, struct xa_end *e)
{
	struct xa_end **pp;

	for (pp = &r->nhead; e->nlisted && *pp != NULL; pp = &(*pp)->nnext)
		if (*pp == e) {
			*pp = e->nnext;
			e->nlisted = false;
			break;
		}
	for (pp = &r->phead; e->plisted && *pp != NULL; pp = &(*pp)->pnext)
		if (*pp == e) {
			*pp = e->pnext;
			e->plisted = false;
			break;
		}
	e->nnext = e->pnext = NULL;
}

/* The registry's on_close hook: e's connection is gone, e->svc still
 * lists its services. The peer is told they are gone, in the partition's
 * place: so only those the partition itself would have withdrawn. RPMsg
 * never announces the destruction of a service at a reserved address
 * (below RPMSG_RESERVED_ADDRESSES, 1024: OpenAMP's rpmsg_destroy_ept and
 * libxenamp's skip them), and OpenAMP peers treat such a destroy as an
 * error ("unexpected Remote endpoint destroy"). */
static void end_closed(void *ctx, struct xa_end *e)
{
	struct xa_relay *r = ctx;
	struct xa_end *p = peer_of(e);

	lists_unlink(r, e);
	if (connected(p)) {
		for (unsigned i = 0; i < e->nsvc; i++)
			if (e->svc[i].addr >= XA_RPMSG_RESERVED_ADDRESSES)
				inj_push(p, e->svc[i].name, e->svc[i].addr,
					 XA_RPMSG_NS_DESTROY);
		enqueue(r, p);
	}
	/* Lets the peer's TX ring be disarmed while nobody can receive. */
	enqueue(r, e);
}

static void fault_end(struct xa_relay *r, struct xa_end *e, int refusal,
		      const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Hostile input from e: one log line, e is disconnected with refusal (an
 * enum xa_refusal, what the partition is told), the rest goes on. */
static void fault_end(struct xa_relay *r, struct xa_end *e, int refusal,
		      const char *fmt, ...)
{
	char label[96];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(e->last_fault, sizeof(e->last_fault), fmt, ap);
	va_end(ap);
	e->st.faults++;
	xa_log(XA_LOG_WARNING, "link %s: end %s disconnected: %s",
	       e->link->cfg->name, xa_end_label(e, label, sizeof(label)),
	       e->last_fault);
	xa_reg_end_close(&r->reg, e, refusal, e->last_fault);
}

/* A ring of e returned the fault rc. */
static void ring_fault(struct xa_relay *r, struct xa_end *e,
		       const struct xa_dev_ring *q, int rc)
{
	bool rx = q == &e->dev.rx;

	fault_end(r, e, xa_refusal_of_core(rc),
		  "%s ring (vring %d): %s (avail index %u, ring num %u)",
		  rx ? "RX" : "TX", rx ? 0 : 1, xa_strerror(rc),
		  (unsigned)q->vq.last_avail_idx, q->vq.num);
}

/* ------------------------------------------------------------------ */
/* Connecting                                                          */

/* Refuse the end ev announces, with why told to the partition. */
static void refuse(struct xa_be_transport *t, const struct xa_be_event *ev,
		   int refusal, const char *why)
{
	t->ops->close_end(t, ev->end, refusal, why);
}

static void on_appeared(struct xa_relay *r, struct xa_be_transport *t,
			const struct xa_be_event *ev)
{
	struct xa_end *e = xa_reg_find_end(&r->reg, ev->partition, ev->devno);
	char why[256], label[96], err[256];

	if (e == NULL) {
		snprintf(why, sizeof(why),
			 "no link of the backend configuration has the end %s:%u; add it as end-a or end-b of a [link] in %s",
			 ev->partition, ev->devno,
			 r->config_path ? r->config_path : "the configuration");
		xa_log(XA_LOG_WARNING, "refused %s:%u (%s): not an end of any link",
		       ev->partition, ev->devno, ev->peer ? ev->peer : "?");
		refuse(t, ev, XA_REFUSE_NO_LINK, why);
		return;
	}
	xa_end_label(e, label, sizeof(label));
	if (e->t != NULL) {
		snprintf(why, sizeof(why),
			 "%s is already connected (%s); stop that instance first",
			 label, e->peer_desc);
		xa_log(XA_LOG_WARNING, "link %s: refused a second %s (%s): already connected (%s)",
		       e->link->cfg->name, label, ev->peer ? ev->peer : "?",
		       e->peer_desc);
		refuse(t, ev, XA_REFUSE_BUSY, why);
		return;
	}

	struct xa_link_params params = {
		.buf_size = e->link->cfg->buf_size,
		.buf_count = e->link->cfg->buf_count,
		.max_pages = r->reg.cfg->max_pages,
	};

	if (t->ops->accept(t, ev->end, e, &params, err, sizeof(err)) < 0) {
		xa_log(XA_LOG_WARNING, "link %s: end %s: %s", e->link->cfg->name,
		       label, err);
		return;
	}
	e->t = t;
	e->h = ev->end;
	e->state = XA_STATE_INITWAIT;
	snprintf(e->peer_desc, sizeof(e->peer_desc), "%s %s", t->ops->name,
		 ev->peer ? ev->peer : "");
	xa_log(XA_LOG_INFO, "link %s: end %s appeared (%s); parameters published",
	       e->link->cfg->name, label, e->peer_desc);
}

static void on_region(struct xa_relay *r, const struct xa_be_event *ev)
{
	struct xa_end *e = ev->cookie;
	struct xa_end *p;
	char msg[256], label[96];
	int rc;

	if (e == NULL || e->h != ev->end || e->state != XA_STATE_INITWAIT)
		return;
	rc = xa_dev_attach(&e->dev, ev->region, ev->region_size,
			   e->link->cfg->buf_count, r->features, msg, sizeof(msg));
	if (rc != XA_OK) {
		fault_end(r, e, xa_refusal_of_core(rc), "%s", msg);
		return;
	}
	rc = e->t->ops->set_state(e->t, e->h, XA_STATE_CONNECTED);
	if (rc < 0) {
		xa_log(XA_LOG_WARNING, "link %s: end %s: cannot publish Connected: %s",
		       e->link->cfg->name, xa_end_label(e, label, sizeof(label)),
		       strerror(-rc));
		xa_reg_end_close(&r->reg, e, 0, NULL);
		return;
	}
	e->state = XA_STATE_CONNECTED;
	e->orphaned = false;
	peer_of(e)->orphaned = false;
	xa_reg_live_add(&r->reg, e);
	e->st.connects++;
	e->last_fault[0] = '\0';
	xa_dev_start(&e->dev);
	ns_replay(e);
	p = peer_of(e);
	xa_log(XA_LOG_INFO,
	       "link %s: end %s connected (%zu KiB region, %u buffers of %u bytes each way)%s",
	       e->link->cfg->name, xa_end_label(e, label, sizeof(label)),
	       e->dev.region_size / 1024, e->link->cfg->buf_count,
	       e->link->cfg->buf_size,
	       connected(p) ? "" : "; its peer is not connected yet");
	enqueue(r, e);
	enqueue(r, p);
}

static int deliver_into(struct xa_relay *r, struct xa_end *R, unsigned budget);

static void on_gone(struct xa_relay *r, const struct xa_be_event *ev)
{
	struct xa_end *e = ev->cookie;
	char label[96];

	if (e == NULL || e->h != ev->end)
		return;
	xa_end_label(e, label, sizeof(label));
	/* A partition that left in good order may have sent its last
	 * messages just before: its region is still mapped, so deliver what
	 * the peer has room for now (what is behind the backend's own
	 * name-service messages first). Anything beyond is lost with the
	 * sender, as a message still in a dead core's memory would be. */
	if (ev->code == 0 && connected(e) && connected(peer_of(e))) {
		struct xa_end *p = peer_of(e);

		(void)deliver_into(r, p, p->inj_len + e->dev.tx.vq.num);
	}
	if (ev->code < 0) {
		e->st.faults++;
		snprintf(e->last_fault, sizeof(e->last_fault), "%s",
			 ev->detail ? ev->detail : "protocol error");
		xa_log(XA_LOG_WARNING, "link %s: end %s disconnected: %s",
		       e->link->cfg->name, label, e->last_fault);
	} else {
		xa_log(XA_LOG_INFO, "link %s: end %s gone: %s",
		       e->link->cfg->name, label,
		       ev->detail ? ev->detail : "closed");
	}
	xa_reg_end_close(&r->reg, e, 0, NULL);
}

void xa_relay_event(struct xa_relay *r, struct xa_be_transport *t,
		    const struct xa_be_event *ev)
{
	struct xa_end *e = ev->cookie;

	switch (ev->type) {
	case XA_BE_EV_END_APPEARED:
		on_appeared(r, t, ev);
		break;
	case XA_BE_EV_REGION_READY:
		on_region(r, ev);
		break;
	case XA_BE_EV_KICK:
		if (e != NULL && e->h == ev->end && connected(e)) {
			e->st.kicks++;
			/* Its TX ring may hold messages for the peer, its
			 * RX ring may have room for the peer's. */
			enqueue(r, e);
			enqueue(r, peer_of(e));
		}
		break;
	case XA_BE_EV_END_GONE:
		on_gone(r, ev);
		break;
	case XA_BE_EV_CTL_REQUEST:   /* the caller's (ctl.h) */
	case XA_BE_EV_NONE:
		break;
	}
}

/* ------------------------------------------------------------------ */
/* The relay: take, room check, copy, name-service tracking            */

enum { IDLE = 0, MORE = 1 };

/* While the polling window is open an empty ring stays unarmed:
 * xa_relay_poll_timeout() looks at it instead. */
static bool may_arm(const struct xa_relay *r)
{
	return r->poll_ns == 0;
}

/* Free RX buffers of R (arming its ring when none and arm): >= 0, or a
 * fault code (R is then disconnected). */
static int rx_avail(struct xa_relay *r, struct xa_end *R, bool arm)
{
	int n = xa_ring_avail(&R->dev.rx, arm);

	if (n < 0)
		ring_fault(r, R, &R->dev.rx, n);
	return n;
}

/* The one take path for R's RX buffers (relayed and backend-built
 * messages alike): a free buffer of R, or none (then R's RX ring is armed
 * when arm). Returns XA_OK, XA_EMPTY, or a fault code (R is then
 * disconnected). */
static int rx_take(struct xa_relay *r, struct xa_end *R, bool arm,
		   struct xa_vq_seg *seg, struct xa_vq_buf *buf)
{
	int n = rx_avail(r, R, arm);

	if (n <= 0)
		return n == 0 ? XA_EMPTY : n;
	n = xa_ring_take(&R->dev.rx, seg, buf);
	if (n != XA_OK && n != XA_EMPTY)
		ring_fault(r, R, &R->dev.rx, n);
	return n;
}

/* Does S have a message waiting? XA_OK, XA_EMPTY (TX ring armed unless
 * polling) or a fault code (S disconnected). */
static int tx_pending(struct xa_relay *r, struct xa_end *S)
{
	int n = xa_ring_avail(&S->dev.tx, may_arm(r));

	if (n < 0) {
		ring_fault(r, S, &S->dev.tx, n);
		return n;
	}
	if (n == 0)
		return XA_EMPTY;
	xa_ring_quiet(&S->dev.tx);   /* we are draining it */
	return XA_OK;
}

/* Has R room for one of S's messages? Checked before taking the message,
 * so that a full peer leaves S's TX ring exactly as it was (back-
 * pressure: S->blocked until R frees a buffer). */
static int rx_room(struct xa_relay *r, struct xa_end *S, struct xa_end *R)
{
	int n = rx_avail(r, R, may_arm(r));

	if (n < 0)
		return n;
	if (n == 0) {
		if (!S->blocked) {
			char a[96], b[96];

			S->blocked = true;
			S->st.backpressure++;
			xa_log(XA_LOG_TRACE,
			       "link %s: back-pressure: %s waits for a free RX buffer of %s",
			       S->link->cfg->name, xa_end_label(S, a, sizeof(a)),
			       xa_end_label(R, b, sizeof(b)));
		}
		return XA_EMPTY;
	}
	S->blocked = false;
	return XA_OK;
}

/* A message taken from S's TX ring, checked. */
struct taken {
	struct xa_vq_seg seg;
	struct xa_vq_buf buf;
	const uint8_t *src;            /* in S's region: the payload's source */
	struct xa_rpmsg_hdr h;         /* decoded from the private copy */
	uint32_t total;                /* header + payload */
	bool is_ns;
	struct xa_rpmsg_ns ns;         /* when is_ns */
};

/* A name-service message in L->bounce: decode it, and refuse a create
 * beyond max-services. XA_OK or a fault code (S disconnected). */
static int take_ns(struct xa_relay *r, struct xa_end *S, struct taken *m)
{
	struct xa_link *L = S->link;
	int rc;

	memcpy(L->bounce + XA_RPMSG_HDR_SIZE, m->src + XA_RPMSG_HDR_SIZE, m->h.len);
	rc = xa_rpmsg_ns_decode(L->bounce + XA_RPMSG_HDR_SIZE, m->h.len, &m->ns);
	if (rc != XA_OK) {
		fault_end(r, S, xa_refusal_of_core(rc), "name-service message from %u: %s",
			  m->h.src, xa_strerror(rc));
		return rc;
	}
	if (m->ns.flags == XA_RPMSG_NS_CREATE &&
	    svc_find(S, m->ns.name, m->ns.addr) < 0 &&
	    S->nsvc >= r->reg.cfg->max_services) {
		fault_end(r, S, XA_REFUSE_QUOTA,
			  "announced more than max-services (%u) live services (the last '%s' at %u); raise max-services in [backend] if this is legitimate",
			  r->reg.cfg->max_services, m->ns.name, m->ns.addr);
		return -ENOSPC;
	}
	m->is_ns = true;
	return XA_OK;
}

/* Take S's next message: its header is copied into private memory and
 * decoded and checked there; a name-service payload too, as the backend
 * parses it. A data payload, opaque to the backend, is copied once,
 * straight from the sender's buffer into the peer's (copy_msg; a private
 * copy of it would protect nothing and cost a second copy --
 * docs/performance.md). Nothing the backend uses is read from the region
 * twice. XA_OK, XA_EMPTY or a fault code (S disconnected). */
static int take_msg(struct xa_relay *r, struct xa_end *S, struct taken *m)
{
	struct xa_link *L = S->link;
	const uint32_t buf_size = L->cfg->buf_size;
	int rc = xa_ring_take(&S->dev.tx, &m->seg, &m->buf);

	if (rc != XA_OK) {
		if (rc != XA_EMPTY)
			ring_fault(r, S, &S->dev.tx, rc);
		return rc;
	}
	m->src = xa_ring_ptr(&S->dev.tx, &m->seg);
	m->is_ns = false;
	if (m->seg.len < XA_RPMSG_HDR_SIZE) {
		fault_end(r, S, XA_REFUSE_MESSAGE,
			  "TX buffer (descriptor %u) of %u bytes is shorter than the RPMsg header",
			  m->buf.head, m->seg.len);
		return XA_ERR_MSG_SHORT;
	}
	memcpy(L->bounce, m->src, XA_RPMSG_HDR_SIZE);
	/* The decoder reads the 16 header bytes only; limit is the length
	 * the message may have: its descriptor, and the link's buffer size
	 * (the peer's buffers are that size). */
	uint32_t limit = m->seg.len < buf_size ? m->seg.len : buf_size;

	rc = xa_rpmsg_hdr_decode(L->bounce, limit, &m->h);
	if (rc != XA_OK) {
		fault_end(r, S, xa_refusal_of_core(rc),
			  "TX message (descriptor %u): header length %u does not fit %s of %u bytes",
			  m->buf.head, (unsigned)xa_get_le16(L->bounce + 12),
			  m->seg.len <= buf_size ? "its buffer" : "the link's buf-size",
			  limit);
		return rc;
	}
	m->total = XA_RPMSG_HDR_SIZE + m->h.len;
	if (m->h.dst == XA_RPMSG_NS_ADDR)
		return take_ns(r, S, m);
	return XA_OK;
}

/* Write m into R's buffer and return both buffers; counters. */
static void copy_msg(struct xa_relay *r, struct xa_end *S, struct xa_end *R,
		     const struct taken *m, const struct xa_vq_seg *rseg,
		     uint16_t rhead)
{
	const uint8_t *bounce = S->link->bounce;
	uint8_t *dst = xa_ring_ptr(&R->dev.rx, rseg);

	/* The checked header from the private copy; the payload (h.len
	 * bytes, within both checked segments) as take_msg() says. */
	memcpy(dst, bounce, XA_RPMSG_HDR_SIZE);
	memcpy(dst + XA_RPMSG_HDR_SIZE,
	       (m->is_ns ? bounce : m->src) + XA_RPMSG_HDR_SIZE, m->h.len);
	xa_ring_put(&R->dev.rx, rhead, m->total);
	xa_ring_put(&S->dev.tx, m->buf.head, 0);
	r->moved++;
	S->st.msgs_in++;
	S->st.bytes_in += m->total;
	R->st.msgs_out++;
	R->st.bytes_out += m->total;
}

/* Move one message from S's TX ring into R's RX ring. Returns XA_OK,
 * XA_EMPTY (nothing to send, or no room: see S->blocked), or a fault
 * code (the faulty end is already disconnected). */
static int relay_one(struct xa_relay *r, struct xa_end *S, struct xa_end *R)
{
	struct xa_vq_seg rseg;
	struct xa_vq_buf rbuf;
	struct taken m;
	int rc;

	rc = tx_pending(r, S);
	if (rc == XA_OK)
		rc = rx_room(r, S, R);
	if (rc == XA_OK)
		rc = take_msg(r, S, &m);
	if (rc != XA_OK)
		return rc;
	rc = rx_take(r, R, may_arm(r), &rseg, &rbuf);
	if (rc == XA_OK && rseg.len < m.total) {
		rc = XA_ERR_DESC_LEN;
		fault_end(r, R, xa_refusal_of_core(rc),
			  "RX buffer (descriptor %u) of %u bytes cannot hold a %u-byte message (the link's buf-size is %u)",
			  rbuf.head, rseg.len, m.total, S->link->cfg->buf_size);
	}
	if (rc != XA_OK) {
		/* S's message stays first in its ring (S is still connected:
		 * a fault above was R's). */
		if (connected(S))
			xa_ring_untake(&S->dev.tx);
		return rc;
	}
	copy_msg(r, S, R, &m, &rseg, rbuf.head);
	if (m.is_ns)
		ns_track(S, &m.ns);
	if (xa_log_enabled(XA_LOG_TRACE)) {
		char a[96], b[96];

		xa_log(XA_LOG_TRACE, "link %s: %s -> %s: src %u dst %u len %u",
		       S->link->cfg->name, xa_end_label(S, a, sizeof(a)),
		       xa_end_label(R, b, sizeof(b)), m.h.src, m.h.dst, m.h.len);
	}
	return XA_OK;
}

/* Deliver one backend-built name-service message into R. */
static int deliver_injected(struct xa_relay *r, struct xa_end *R)
{
	const struct xa_inj *q = &R->inj[R->inj_head];
	struct xa_vq_seg seg;
	struct xa_vq_buf buf;
	uint8_t msg[NS_MSG_SIZE];
	/* Always armed when R is full: the polling scan looks only at the
	 * rings of blocked senders, not at R's for its backlog. */
	int rc = rx_take(r, R, true, &seg, &buf);

	if (rc != XA_OK)
		return rc;
	if (seg.len < NS_MSG_SIZE) {
		fault_end(r, R, XA_REFUSE_MESSAGE,
			  "RX buffer of %u bytes cannot hold a %u-byte name-service message",
			  seg.len, NS_MSG_SIZE);
		return XA_ERR_MSG_SHORT;
	}

	struct xa_rpmsg_hdr h = {
		.src = q->addr, .dst = XA_RPMSG_NS_ADDR, .reserved = 0,
		.len = XA_RPMSG_NS_SIZE, .flags = 0,
	};

	xa_rpmsg_hdr_encode(msg, &h);
	xa_rpmsg_ns_encode(msg + XA_RPMSG_HDR_SIZE, q->name, q->addr, q->flags);
	memcpy(xa_ring_ptr(&R->dev.rx, &seg), msg, sizeof(msg));
	xa_ring_put(&R->dev.rx, buf.head, NS_MSG_SIZE);
	R->st.msgs_out++;
	R->st.bytes_out += NS_MSG_SIZE;
	R->st.ns_built++;
	if (xa_log_enabled(XA_LOG_DEBUG)) {
		char label[96];

		xa_log(XA_LOG_DEBUG, "link %s: told %s: service '%s' at %u %s",
		       R->link->cfg->name, xa_end_label(R, label, sizeof(label)),
		       q->name, q->addr,
		       q->flags == XA_RPMSG_NS_CREATE ? "created" : "destroyed");
	}
	R->inj_head = (R->inj_head + 1) % R->inj_cap;
	R->inj_len--;
	return XA_OK;
}

/* Notification moderation: in the middle of a burst (budget used up, so
 * R is served again next round) while more than half of R's RX buffers
 * are still free, publish nothing yet: the next round publishes these
 * messages with its own, so R and S wake once per burst rather than once
 * per round. S's used entries wait too: its TX buffers never come back
 * before R's RX entries are published. */
static void publish(struct xa_relay *r, struct xa_end *S, struct xa_end *R,
		    int ret)
{
	if (ret == MORE && connected(R) && connected(S) &&
	    xa_vqdev_avail_count(&R->dev.rx.vq) > (int)(R->dev.rx.vq.num / 2))
		return;
	if (connected(R) && xa_ring_publish(&R->dev.rx))
		notify_mark(r, R);
	if (connected(S) && xa_ring_publish(&S->dev.tx))
		notify_mark(r, S);
}

/* S is orphaned (registry.h): its peer R, which this connection of S
 * talked to, went away. What S has sent R, and sends it until R connects
 * again, was meant for the partition that left. Delivered to the next one
 * to connect as R, which may reuse its addresses, it would be a message
 * from a conversation that one never had (a reply to a message its
 * predecessor sent, say). So it is taken and returned to S unread, as a
 * message sent to a dead core is lost; S was told R's services are gone.
 * (A connection of S made after R left is not orphaned: what it sends
 * waits for R, as for a late peer.) A name-service message is still
 * tracked: R's next connection gets S's live services replayed. At most
 * budget messages; S's TX ring is armed when empty, polling or not (the
 * polling scan skips an end whose peer is away), so that S's next message
 * wakes us. MORE when some are left. */
static int drop_orphaned(struct xa_relay *r, struct xa_end *S, unsigned budget)
{
	struct taken m;
	int ret = IDLE, n;

	while (connected(S)) {
		n = xa_ring_avail(&S->dev.tx, true);
		if (n < 0) {
			ring_fault(r, S, &S->dev.tx, n);
			return IDLE;
		}
		if (n == 0)
			break;
		if (budget-- == 0) {
			ret = MORE;
			break;
		}
		xa_ring_quiet(&S->dev.tx);   /* we are draining it */
		if (take_msg(r, S, &m) != XA_OK)
			return IDLE;   /* S faulted (disconnected) */
		if (m.is_ns)
			ns_track(S, &m.ns);
		xa_ring_put(&S->dev.tx, m.buf.head, 0);
		S->st.dropped++;
	}
	if (connected(S) && xa_ring_publish(&S->dev.tx))
		notify_mark(r, S);
	return ret;
}

/* Everything that is due into R: first what the backend itself has to
 * say (name service), then the peer's messages, XA_RELAY_BUDGET at most. */
static int deliver_into(struct xa_relay *r, struct xa_end *R, unsigned budget)
{
	struct xa_end *S = peer_of(R);
	int ret = IDLE;

	/* Both may have rings left unarmed below, or S blocked on R. */
	poll_mark(r, R);
	poll_mark(r, S);
	if (!connected(R)) {
		if (!connected(S))
			return IDLE;
		if (S->orphaned)
			return drop_orphaned(r, S, budget);
		/* Nobody to deliver to yet: S's messages wait in its ring
		 * for R, and its kicks would wake us for nothing. */
		xa_ring_quiet(&S->dev.tx);
		return IDLE;
	}
	while (R->inj_len > 0) {
		if (budget == 0) {
			ret = MORE;
			goto out;
		}
		if (deliver_injected(r, R) != XA_OK)
			goto out;   /* no room (R will kick), or R faulted */
		budget--;
	}
	while (connected(S) && connected(R)) {
		if (budget == 0) {
			ret = MORE;
			break;
		}
		if (relay_one(r, S, R) != XA_OK)
			break;
		budget--;
	}
out:
	publish(r, S, R, ret);
	return ret;
}

static void flush_notify(struct xa_relay *r, struct xa_end *e)
{
	int rc;

	if (!e->need_notify)
		return;
	e->need_notify = false;
	if (!connected(e))
		return;
	e->st.notifies++;
	rc = e->t->ops->notify(e->t, e->h);
	if (rc == -EPERM)
		fault_end(r, e, XA_REFUSE_PROTOCOL, "cleared O_NONBLOCK on its call eventfd");
	else if (rc < 0)
		fault_end(r, e, xa_refusal_of_errno(rc), "cannot notify it: %s", strerror(-rc));
}

void xa_relay_round(struct xa_relay *r)
{
	unsigned n = r->qlen;
	uint64_t moved = r->moved;

	for (unsigned i = 0; i < n && r->qhead; i++) {
		struct xa_end *e = dequeue(r);

		if (deliver_into(r, e, XA_RELAY_BUDGET) == MORE)
			enqueue(r, e);
	}
	/* One call per end per round, however many buffers moved: only the
	 * ends publish() marked, O(ends served this round). Each is taken
	 * off the list before its notify, which may close it. */
	while (r->nhead != NULL) {
		struct xa_end *e = r->nhead;

		r->nhead = e->nnext;
		e->nnext = NULL;
		e->nlisted = false;
		flush_notify(r, e);
	}
	if (r->moved != moved && r->poll_max_ns != 0)
		r->last_work_ns = xa_now_ns();
}

/* ------------------------------------------------------------------ */
/* Adaptive polling (relay.h)                                          */

#define XA_RELAY_POLL_SLICE_NS 4000u  /* ring-only looking between fd polls */

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield" ::: "memory");
#endif
}

/* Look once at every ring relay_one() left unarmed while the window was
 * open (arm: and arm it, re-checking), and queue the end that has work
 * waiting: an empty TX ring of an end whose peer is not full, or the full
 * RX ring of the peer of a blocked end. Returns true when something was
 * queued. A bogus index also queues: relay_one() then reports the fault.
 * Walks the polled list only (relay.h): O(ends served since they were
 * last all armed), not O(links); an end found with nothing unarmed to
 * watch, or whose ring this pass armed and found empty, leaves it. */
static bool scan_polled(struct xa_relay *r, bool arm)
{
	struct xa_end **pp = &r->phead, *e;
	bool found = false;

	while ((e = *pp) != NULL) {
		struct xa_end *p = xa_end_peer(e);
		struct xa_dev_ring *q = NULL;

		if (!xa_end_connected(e) || !xa_end_connected(p))
			q = NULL;
		else if (!e->blocked && !e->dev.tx.armed)
			q = &e->dev.tx;
		else if (e->blocked && !p->dev.rx.armed)
			q = &p->dev.rx;
		if (q == NULL) {
			*pp = e->pnext;
			e->pnext = NULL;
			e->plisted = false;
			continue;
		}
		if (arm ? xa_ring_arm(q) : xa_vqdev_avail_count(&q->vq) != 0) {
			enqueue(r, p);   /* deliver_into(p) moves e's TX */
			found = true;
		} else if (arm) {
			/* armed now and empty: nothing left to watch */
			*pp = e->pnext;
			e->pnext = NULL;
			e->plisted = false;
			continue;
		}
		pp = &e->pnext;
	}
	return found;
}

int xa_relay_poll_timeout(struct xa_relay *r)
{
	uint64_t now;

	if (r->qhead != NULL)
		return 0;
	if (r->poll_max_ns == 0 && r->poll_ns == 0)
		return -1;   /* polling off: every empty ring was armed */
	now = xa_now_ns();
	if (r->sleep_ns != 0) {
		/* Just woke up: a window this long would have caught the
		 * wake-up without sleeping (grow), or it would have been
		 * spent for nothing (shrink). */
		uint64_t slept = now - r->sleep_ns;

		r->sleep_ns = 0;
		if (slept < r->poll_max_ns) {
			r->poll_ns = r->poll_ns ? 2 * r->poll_ns : XA_RELAY_POLL_MIN_NS;
			if (r->poll_ns > r->poll_max_ns)
				r->poll_ns = r->poll_max_ns;
		} else {
			r->poll_ns /= 2;
			if (r->poll_ns < XA_RELAY_POLL_MIN_NS)
				r->poll_ns = 0;
		}
	}
	if (r->poll_ns != 0 && now - r->last_work_ns < r->poll_ns) {
		/* Look at the rings for a slice (cheap loads; a system call
		 * costs about a microsecond in a VM), then let a partition
		 * that shares this CPU run before the caller polls the fds. */
		uint64_t until = now + XA_RELAY_POLL_SLICE_NS;

		do {
			if (scan_polled(r, false))
				return 0;
			cpu_relax();
		} while (xa_now_ns() < until);
		sched_yield();
		return 0;
	}
	if (scan_polled(r, true))
		return 0;
	r->sleep_ns = now;
	return -1;
}

/* ------------------------------------------------------------------ */
/* Set-up and teardown                                                 */

/* $XENAMP_POLL_US: the longest polling window, at most 10 ms. */
static uint64_t poll_max_from_env(void)
{
	const char *us = getenv("XENAMP_POLL_US");
	char *end;
	unsigned long v;

	if (us != NULL && us[0] != '\0') {
		v = strtoul(us, &end, 10);
		if (*end == '\0' && v <= 10000)
			return (uint64_t)v * 1000u;
	}
	return XA_RELAY_POLL_MAX_NS;
}

int xa_relay_init(struct xa_relay *r, const struct xa_config *cfg,
		  char *err, size_t errlen)
{
	int rc;

	memset(r, 0, sizeof(*r));
	rc = xa_reg_init(&r->reg, cfg, err, errlen);
	if (rc < 0)
		return rc;
	r->reg.on_close = end_closed;
	r->reg.hook_ctx = r;
	r->poll_max_ns = poll_max_from_env();
	/* $XENAMP_EVENT_IDX=0: never acknowledge event indices (to test
	 * partitions against a backend without them). */
	r->features = XA_DEV_FEATURES_KNOWN;
	if (getenv("XENAMP_EVENT_IDX") != NULL &&
	    strcmp(getenv("XENAMP_EVENT_IDX"), "0") == 0)
		r->features &= ~(1u << XA_VIRTIO_RING_F_EVENT_IDX);
	return 0;
}

int xa_relay_add_transport(struct xa_relay *r, struct xa_be_transport *t,
			   char *err, size_t errlen)
{
	return xa_reg_add_transport(&r->reg, t, err, errlen);
}

void xa_relay_shutdown(struct xa_relay *r)
{
	xa_reg_close_all(&r->reg);
	r->qhead = r->qtail = NULL;
	r->qlen = 0;
	r->nhead = r->phead = NULL;
}

void xa_relay_free(struct xa_relay *r)
{
	xa_reg_free(&r->reg);
}

/* xenamp-backend core: ends, links, relay, name service (see relay.h). */
#include <errno.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backend/log.h"
#include "backend/relay.h"
#include "core/byteorder.h"
#include "core/rsc_parse.h"
#include "core/xa_error.h"
#include "common/xa_time.h"

#define RSC_PAGE 4096u
#define NS_MSG_SIZE (XA_RPMSG_HDR_SIZE + XA_RPMSG_NS_SIZE)

const char *xa_end_label(const struct xa_end *e, char *buf, size_t len)
{
	snprintf(buf, len, "%s:%u", e->cfg->partition, e->cfg->devno);
	return buf;
}

static struct xa_end *peer_of(struct xa_end *e)
{
	return &e->link->end[1 - e->side];
}

static bool connected(const struct xa_end *e)
{
	return e->state == XA_STATE_CONNECTED;
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

/* The list of connected ends (relay.h). */
static void live_add(struct xa_relay *r, struct xa_end *e)
{
	if (e->live_pos != 0 || r->live == NULL)
		return;
	r->live[r->nlive++] = e;
	e->live_pos = r->nlive;
}

static void live_del(struct xa_relay *r, struct xa_end *e)
{
	unsigned i = e->live_pos;

	if (i == 0)
		return;
	r->live[i - 1] = r->live[--r->nlive];
	r->live[i - 1]->live_pos = i;
	e->live_pos = 0;
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

static void inj_clear(struct xa_end *e)
{
	e->inj_head = e->inj_len = 0;
}

static void inj_push(struct xa_end *e, const char *name, uint32_t addr,
		     uint32_t flags)
{
	/* Capacity 2 * max-services: at most one replay of the peer's
	 * services plus their destroys are ever waiting (relay.h). If that
	 * reasoning were wrong the oldest entry is overwritten, never
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

/* ------------------------------------------------------------------ */
/* Disconnecting                                                       */

/* Release e's connection (why != NULL: tell the partition why) and tell
 * the peer that e's services are gone. */
static void end_drop(struct xa_relay *r, struct xa_end *e, int code,
		     const char *why)
{
	struct xa_end *p = peer_of(e);

	if (e->t != NULL && e->h != NULL)
		e->t->ops->close_end(e->t, e->h, code, why);
	e->t = NULL;
	e->h = NULL;
	e->state = XA_STATE_CLOSED;
	live_del(r, e);
	e->region_size = 0;
	memset(&e->rx, 0, sizeof(e->rx));
	memset(&e->tx, 0, sizeof(e->tx));
	e->tx_armed = e->rx_armed = false;
	e->need_notify = false;
	e->blocked = false;
	inj_clear(e);

	if (connected(p)) {
		for (unsigned i = 0; i < e->nsvc; i++)
			inj_push(p, e->svc[i].name, e->svc[i].addr,
				 XA_RPMSG_NS_DESTROY);
		enqueue(r, p);
	}
	e->nsvc = 0;
	/* Lets the peer's TX ring be disarmed while nobody can receive. */
	enqueue(r, e);
}

void xa_relay_end_drop(struct xa_relay *r, struct xa_end *e, const char *why)
{
	end_drop(r, e, 0, why);
}

static void fault_end(struct xa_relay *r, struct xa_end *e, int code,
		      const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Hostile input from e: one log line, e is disconnected, the rest goes on. */
static void fault_end(struct xa_relay *r, struct xa_end *e, int code,
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
	end_drop(r, e, code, e->last_fault);
}

/* ------------------------------------------------------------------ */
/* Connecting                                                          */

static struct xa_end *find_end(struct xa_relay *r, const char *partition,
			       unsigned devno)
{
	for (size_t i = 0; i < r->nlinks; i++)
		for (int j = 0; j < 2; j++) {
			struct xa_end *e = &r->links[i].end[j];

			if (e->cfg->devno == devno &&
			    strcmp(e->cfg->partition, partition) == 0)
				return e;
		}
	return NULL;
}

struct xa_end *xa_relay_find_end(struct xa_relay *r, const char *partition,
				 unsigned devno)
{
	return find_end(r, partition, devno);
}

static void on_appeared(struct xa_relay *r, struct xa_be_transport *t,
			const struct xa_be_event *ev)
{
	struct xa_end *e = find_end(r, ev->partition, ev->devno);
	char why[256], label[96], err[256];

	if (e == NULL) {
		snprintf(why, sizeof(why),
			 "no link of the backend configuration has the end %s:%u; add it as end-a or end-b of a [link] in %s",
			 ev->partition, ev->devno,
			 r->config_path ? r->config_path : "the configuration");
		xa_log(XA_LOG_WARNING, "refused %s:%u (%s): not an end of any link",
		       ev->partition, ev->devno, ev->peer ? ev->peer : "?");
		t->ops->close_end(t, ev->end, -ENOENT, why);
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
		t->ops->close_end(t, ev->end, -EBUSY, why);
		return;
	}

	struct xa_link_params params = {
		.buf_size = e->link->cfg->buf_size,
		.buf_count = e->link->cfg->buf_count,
		.max_pages = r->cfg->max_pages,
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

/* Validate a freshly shared region and attach to its rings. Returns 0,
 * or an XA_ERR_* with msg filled. */
static int attach_region(struct xa_end *e, void *region, size_t size,
			 char *msg, size_t msglen)
{
	/* The table is read once, into private memory, and parsed there: the
	 * partition may change the shared page while we look. */
	static uint8_t page[RSC_PAGE];
	size_t tl = size < RSC_PAGE ? size : RSC_PAGE;
	struct xa_rsc_table *tab;
	struct xa_rsc_error rerr;
	uint32_t count = e->link->cfg->buf_count;
	int rc, idx;

	tab = malloc(sizeof(*tab));
	if (tab == NULL) {
		snprintf(msg, msglen, "out of memory");
		return XA_ERR_RSC;
	}
	memcpy(page, region, tl);
	memset(&rerr, 0, sizeof(rerr));
	rc = xa_rsc_parse(page, tl, tab, &rerr);
	if (rc == XA_OK) {
		idx = xa_rsc_find_rpmsg_vdev(tab, &rerr);
		rc = idx < 0 ? idx : XA_OK;
	}
	if (rc != XA_OK) {
		snprintf(msg, msglen, "resource table: %s", rerr.msg[0] ? rerr.msg
			 : xa_strerror(rc));
		free(tab);
		return rc;
	}

	struct xa_rsc_vring v[2];

	memcpy(v, tab->entry[idx].u.vdev.vring, sizeof(v));
	free(tab);
	for (int i = 0; i < 2; i++) {
		if (v[i].num != count) {
			snprintf(msg, msglen,
				 "vring %d has %u entries but the link's buf-count is %u",
				 i, v[i].num, count);
			return XA_ERR_RING_PARAM;
		}
	}
	/* vring 0 is the driver's RX: we write its buffers. */
	struct xa_vq_device *q[2] = { &e->rx, &e->tx };

	for (int i = 0; i < 2; i++) {
		rc = xa_vqdev_init(q[i], region, size, v[i].da, v[i].num,
				   v[i].align, i == 0, 0);
		if (rc != XA_OK) {
			snprintf(msg, msglen,
				 "vring %d (da 0x%x, num %u, align %u) in a region of %zu bytes: %s",
				 i, v[i].da, v[i].num, v[i].align, size,
				 xa_strerror(rc));
			return rc;
		}
	}
	uint64_t a0 = v[0].da, a1 = v[1].da;

	if (a0 < a1 + e->tx.lay.size && a1 < a0 + e->rx.lay.size) {
		snprintf(msg, msglen, "vring 0 (da 0x%x) and vring 1 (da 0x%x) overlap",
			 v[0].da, v[1].da);
		return XA_ERR_RING_PLACE;
	}
	/* Resume where the driver's used rings stand: 0 for a fresh region,
	 * the old position when a partition kept its rings across a
	 * backend restart. */
	for (int i = 0; i < 2; i++) {
		uint16_t start = xa_vqdev_read_used_idx(q[i]);

		(void)xa_vqdev_init(q[i], region, size, v[i].da, v[i].num,
				    v[i].align, i == 0, start);
	}
	return XA_OK;
}

static void on_region(struct xa_relay *r, const struct xa_be_event *ev)
{
	struct xa_end *e = ev->cookie;
	struct xa_end *p;
	char msg[256], label[96];
	int rc;

	if (e == NULL || e->h != ev->end || e->state != XA_STATE_INITWAIT)
		return;
	rc = attach_region(e, ev->region, ev->region_size, msg, sizeof(msg));
	if (rc != XA_OK) {
		fault_end(r, e, rc, "%s", msg);
		return;
	}
	e->region_size = ev->region_size;
	rc = e->t->ops->set_state(e->t, e->h, XA_STATE_CONNECTED);
	if (rc < 0) {
		xa_log(XA_LOG_WARNING, "link %s: end %s: cannot publish Connected: %s",
		       e->link->cfg->name, xa_end_label(e, label, sizeof(label)),
		       strerror(-rc));
		end_drop(r, e, 0, NULL);
		return;
	}
	e->state = XA_STATE_CONNECTED;
	live_add(r, e);
	e->st.connects++;
	e->last_fault[0] = '\0';
	xa_vqdev_enable_notify(&e->tx);
	e->tx_armed = true;
	xa_vqdev_disable_notify(&e->rx);
	e->rx_armed = false;

	p = peer_of(e);
	inj_clear(e);
	if (connected(p))
		for (unsigned i = 0; i < p->nsvc; i++)
			inj_push(e, p->svc[i].name, p->svc[i].addr,
				 XA_RPMSG_NS_CREATE);
	xa_log(XA_LOG_INFO,
	       "link %s: end %s connected (%zu KiB region, %u buffers of %u bytes each way)%s",
	       e->link->cfg->name, xa_end_label(e, label, sizeof(label)),
	       e->region_size / 1024, e->link->cfg->buf_count,
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

		(void)deliver_into(r, p, p->inj_len + e->tx.num);
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
	end_drop(r, e, 0, NULL);
}

/* ------------------------------------------------------------------ */
/* The relay                                                           */

enum { IDLE = 0, MORE = 1 };

/* A free RX buffer of R, or none (then R's RX ring is armed). Returns
 * XA_OK, XA_EMPTY, or a fault code (R is then disconnected). */
static int rx_take(struct xa_relay *r, struct xa_end *R, struct xa_vq_seg *seg,
		   struct xa_vq_buf *buf)
{
	int n = xa_vqdev_avail_count(&R->rx);

	if (n == 0 && !R->rx_armed) {
		R->rx_armed = true;
		if (xa_vqdev_enable_notify(&R->rx))
			n = xa_vqdev_avail_count(&R->rx);
	}
	if (n == 0)
		return XA_EMPTY;
	if (n > 0)
		n = xa_vqdev_pop(&R->rx, seg, 1, buf);
	if (n != XA_OK) {
		fault_end(r, R, n, "RX ring (vring 0): %s (avail index %u, ring num %u)",
			  xa_strerror(n), (unsigned)R->rx.last_avail_idx, R->rx.num);
		return n;
	}
	if (R->rx_armed) {
		/* We have buffers again; their kicks are not needed until
		 * we run out. */
		xa_vqdev_disable_notify(&R->rx);
		R->rx_armed = false;
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
	int rc = rx_take(r, R, &seg, &buf);

	if (rc != XA_OK)
		return rc;
	if (seg.len < NS_MSG_SIZE) {
		fault_end(r, R, XA_ERR_MSG_SHORT,
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
	memcpy(xa_vqdev_seg_ptr(&R->rx, &seg), msg, sizeof(msg));
	xa_vqdev_push(&R->rx, buf.head, NS_MSG_SIZE);
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

/* Move one message from S's TX ring into R's RX ring. Returns XA_OK,
 * XA_EMPTY (nothing to send, or no room: see S->blocked), or a fault
 * code (the faulty end is already disconnected). */
static int relay_one(struct xa_relay *r, struct xa_end *S, struct xa_end *R)
{
	struct xa_link *L = S->link;
	const uint32_t buf_size = L->cfg->buf_size;
	struct xa_vq_seg seg, rseg;
	struct xa_vq_buf buf, rbuf;
	struct xa_rpmsg_hdr h;
	struct xa_rpmsg_ns ns;
	bool is_ns = false;
	int n, rc;

	/* Is there something to send? While the polling window is open an
	 * empty TX ring stays unarmed: xa_relay_poll_timeout() looks at it. */
	n = xa_vqdev_avail_count(&S->tx);
	if (n == 0 && !S->tx_armed && r->poll_ns == 0) {
		S->tx_armed = true;
		if (xa_vqdev_enable_notify(&S->tx))
			n = xa_vqdev_avail_count(&S->tx);
	}
	if (n < 0) {
		fault_end(r, S, n, "TX ring (vring 1): %s (avail index %u, ring num %u)",
			  xa_strerror(n), (unsigned)S->tx.last_avail_idx, S->tx.num);
		return n;
	}
	if (n == 0)
		return XA_EMPTY;
	if (S->tx_armed) {
		xa_vqdev_disable_notify(&S->tx);
		S->tx_armed = false;
	}

	/* Is there room? Checked before taking the message, so that a full
	 * peer leaves the TX ring exactly as it was. */
	n = xa_vqdev_avail_count(&R->rx);
	if (n == 0 && !R->rx_armed && r->poll_ns == 0) {
		/* (While the polling window is open, a full RX ring is
		 * polled instead: xa_relay_poll_timeout().) */
		R->rx_armed = true;
		if (xa_vqdev_enable_notify(&R->rx))
			n = xa_vqdev_avail_count(&R->rx);
	}
	if (n < 0) {
		fault_end(r, R, n, "RX ring (vring 0): %s (avail index %u, ring num %u)",
			  xa_strerror(n), (unsigned)R->rx.last_avail_idx, R->rx.num);
		return n;
	}
	if (n == 0) {
		if (!S->blocked) {
			char a[96], b[96];

			S->blocked = true;
			S->st.backpressure++;
			xa_log(XA_LOG_TRACE,
			       "link %s: back-pressure: %s waits for a free RX buffer of %s",
			       L->cfg->name, xa_end_label(S, a, sizeof(a)),
			       xa_end_label(R, b, sizeof(b)));
		}
		return XA_EMPTY;
	}
	S->blocked = false;

	/* Take the message: its header is copied into private memory and
	 * decoded and checked there; a name-service payload too, as the
	 * backend parses it. A data payload, opaque to the backend, is
	 * copied once, straight from the sender's buffer into the peer's
	 * (below; a private copy of it would protect nothing and cost a
	 * second copy -- docs/performance.md). Nothing the backend uses is
	 * read from the region twice. */
	rc = xa_vqdev_pop(&S->tx, &seg, 1, &buf);
	if (rc != XA_OK) {
		if (rc == XA_EMPTY)
			return rc;
		fault_end(r, S, rc, "TX ring (vring 1): %s (avail index %u, ring num %u)",
			  xa_strerror(rc), (unsigned)S->tx.last_avail_idx, S->tx.num);
		return rc;
	}
	const uint8_t *src = xa_vqdev_seg_ptr(&S->tx, &seg);
	uint32_t limit = seg.len < buf_size ? seg.len : buf_size;

	if (seg.len < XA_RPMSG_HDR_SIZE) {
		fault_end(r, S, XA_ERR_MSG_SHORT,
			  "TX buffer (descriptor %u) of %u bytes is shorter than the RPMsg header",
			  buf.head, seg.len);
		return XA_ERR_MSG_SHORT;
	}
	memcpy(L->bounce, src, XA_RPMSG_HDR_SIZE);
	/* The decoder reads the 16 header bytes only; limit is the length
	 * the message may have: its descriptor, and the link's buffer size
	 * (the peer's buffers are that size). */
	rc = xa_rpmsg_hdr_decode(L->bounce, limit, &h);
	if (rc != XA_OK) {
		fault_end(r, S, rc,
			  "TX message (descriptor %u): header length %u does not fit %s of %u bytes",
			  buf.head, (unsigned)xa_get_le16(L->bounce + 12),
			  seg.len <= buf_size ? "its buffer" : "the link's buf-size",
			  limit);
		return rc;
	}
	uint32_t total = XA_RPMSG_HDR_SIZE + h.len;

	if (h.dst == XA_RPMSG_NS_ADDR) {
		memcpy(L->bounce + XA_RPMSG_HDR_SIZE, src + XA_RPMSG_HDR_SIZE, h.len);
		rc = xa_rpmsg_ns_decode(L->bounce + XA_RPMSG_HDR_SIZE, h.len, &ns);
		if (rc != XA_OK) {
			fault_end(r, S, rc, "name-service message from %u: %s",
				  h.src, xa_strerror(rc));
			return rc;
		}
		if (ns.flags == XA_RPMSG_NS_CREATE &&
		    svc_find(S, ns.name, ns.addr) < 0 &&
		    S->nsvc >= r->cfg->max_services) {
			fault_end(r, S, -ENOSPC,
				  "announced more than max-services (%u) live services (the last '%s' at %u); raise max-services in [backend] if this is legitimate",
				  r->cfg->max_services, ns.name, ns.addr);
			return -ENOSPC;
		}
		is_ns = true;
	}

	/* The peer's buffer. */
	rc = xa_vqdev_pop(&R->rx, &rseg, 1, &rbuf);
	if (rc != XA_OK || rseg.len < total) {
		xa_vqdev_unpop(&S->tx);
		if (rc == XA_EMPTY)
			return rc;
		if (rc == XA_OK) {
			rc = XA_ERR_DESC_LEN;
			fault_end(r, R, rc,
				  "RX buffer (descriptor %u) of %u bytes cannot hold a %u-byte message (the link's buf-size is %u)",
				  rbuf.head, rseg.len, total, buf_size);
		} else {
			fault_end(r, R, rc, "RX ring (vring 0): %s (avail index %u, ring num %u)",
				  xa_strerror(rc), (unsigned)R->rx.last_avail_idx,
				  R->rx.num);
		}
		return rc;
	}
	if (R->rx_armed) {
		xa_vqdev_disable_notify(&R->rx);
		R->rx_armed = false;
	}
	{
		uint8_t *dst = xa_vqdev_seg_ptr(&R->rx, &rseg);

		/* The checked header from the private copy; the payload
		 * (h.len bytes, within both checked segments) as above. */
		memcpy(dst, L->bounce, XA_RPMSG_HDR_SIZE);
		memcpy(dst + XA_RPMSG_HDR_SIZE,
		       (is_ns ? L->bounce : src) + XA_RPMSG_HDR_SIZE, h.len);
	}
	xa_vqdev_push(&R->rx, rbuf.head, total);
	xa_vqdev_push(&S->tx, buf.head, 0);

	r->moved++;
	S->st.msgs_in++;
	S->st.bytes_in += total;
	R->st.msgs_out++;
	R->st.bytes_out += total;

	if (is_ns) {
		int i = svc_find(S, ns.name, ns.addr);

		if (ns.flags == XA_RPMSG_NS_CREATE && i < 0) {
			S->svc[S->nsvc].addr = ns.addr;
			memcpy(S->svc[S->nsvc].name, ns.name, sizeof(ns.name));
			S->nsvc++;
		} else if (ns.flags == XA_RPMSG_NS_DESTROY && i >= 0) {
			S->svc[i] = S->svc[S->nsvc - 1];
			S->nsvc--;
		}
		if (xa_log_enabled(XA_LOG_DEBUG)) {
			char a[96];

			xa_log(XA_LOG_DEBUG, "link %s: %s %s service '%s' at %u",
			       L->cfg->name, xa_end_label(S, a, sizeof(a)),
			       ns.flags == XA_RPMSG_NS_CREATE ? "announced" : "withdrew",
			       ns.name, ns.addr);
		}
	}
	if (xa_log_enabled(XA_LOG_TRACE)) {
		char a[96], b[96];

		xa_log(XA_LOG_TRACE, "link %s: %s -> %s: src %u dst %u len %u",
		       L->cfg->name, xa_end_label(S, a, sizeof(a)),
		       xa_end_label(R, b, sizeof(b)), h.src, h.dst, h.len);
	}
	return XA_OK;
}

/* Everything that is due into R: first what the backend itself has to
 * say (name service), then the peer's messages, XA_RELAY_BUDGET at most. */
static int deliver_into(struct xa_relay *r, struct xa_end *R, unsigned budget)
{
	struct xa_end *S = peer_of(R);
	int ret = IDLE;

	if (!connected(R)) {
		/* Nobody to deliver to: S's messages wait in its ring,
		 * and its kicks would wake us for nothing. */
		if (connected(S) && S->tx_armed) {
			xa_vqdev_disable_notify(&S->tx);
			S->tx_armed = false;
		}
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
	/* Notification moderation: in the middle of a burst (budget used
	 * up, so R is served again next round) while more than half of R's
	 * RX buffers are still free, publish nothing yet: the next round
	 * publishes these messages with its own, so R and S wake once per
	 * burst rather than once per round. S's used entries wait too: its
	 * TX buffers never come back before R's RX entries are published. */
	if (ret == MORE && connected(R) && connected(S) &&
	    xa_vqdev_avail_count(&R->rx) > (int)(R->rx.num / 2))
		return ret;
	if (connected(R) && xa_vqdev_publish(&R->rx))
		R->need_notify = true;
	if (connected(S) && xa_vqdev_publish(&S->tx))
		S->need_notify = true;
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
	rc = e->t->ops->notify(e->t, e->h);
	if (rc == -EPERM)
		fault_end(r, e, rc, "cleared O_NONBLOCK on its call eventfd");
	else if (rc < 0)
		fault_end(r, e, rc, "cannot notify it: %s", strerror(-rc));
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
	/* One call per end per round, however many buffers moved. Only a
	 * connected end can need one; backwards, because a failed notify
	 * disconnects the end (live_del moves the last one into its slot). */
	for (unsigned i = r->nlive; i-- > 0;)
		flush_notify(r, r->live[i]);
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
 * queued. A bogus index also queues: relay_one() then reports the fault. */
static bool scan_polled(struct xa_relay *r, bool arm)
{
	bool found = false;

	for (unsigned i = 0; i < r->nlive; i++) {
		struct xa_end *e = r->live[i];
		struct xa_end *p = peer_of(e);
		struct xa_vq_device *q;
		bool work;

		if (!connected(e) || !connected(p))
			continue;
		if (!e->blocked && !e->tx_armed) {
			q = &e->tx;
			if (arm)
				e->tx_armed = true;
		} else if (e->blocked && !p->rx_armed) {
			q = &p->rx;
			if (arm)
				p->rx_armed = true;
		} else {
			continue;
		}
		work = arm ? xa_vqdev_enable_notify(q)
			   : xa_vqdev_avail_count(q) != 0;
		if (work) {
			enqueue(r, p);   /* deliver_into(p) moves e's TX */
			found = true;
		}
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
/* Events                                                              */

int xa_relay_pump(struct xa_relay *r, struct xa_be_transport *t, unsigned max)
{
	struct xa_be_event ev;
	unsigned done = 0;

	while (done < max) {
		int rc = t->ops->next_event(t, &ev);

		if (rc < 0)
			return rc;
		if (rc == 0)
			break;
		done++;
		switch (ev.type) {
		case XA_BE_EV_END_APPEARED:
			on_appeared(r, t, &ev);
			break;
		case XA_BE_EV_REGION_READY:
			on_region(r, &ev);
			break;
		case XA_BE_EV_KICK: {
			struct xa_end *e = ev.cookie;

			if (e != NULL && e->h == ev.end && connected(e)) {
				/* Its TX ring may hold messages for the peer,
				 * its RX ring may have room for the peer's. */
				enqueue(r, e);
				enqueue(r, peer_of(e));
			}
			break;
		}
		case XA_BE_EV_END_GONE:
			on_gone(r, &ev);
			break;
		case XA_BE_EV_CTL_REQUEST: {
			size_t len = 0;
			char *json = xa_relay_ctl(r, ev.req, ev.req_len, &len);

			if (json == NULL) {
				static const char oom[] = "{\"error\":\"out of memory\"}";

				t->ops->ctl_reply(t, ev.ctl, oom, sizeof(oom) - 1);
			} else {
				t->ops->ctl_reply(t, ev.ctl, json, len);
				free(json);
			}
			break;
		}
		case XA_BE_EV_NONE:
			break;
		}
	}
	return (int)done;
}

/* ------------------------------------------------------------------ */
/* Set-up and teardown                                                 */

int xa_relay_init(struct xa_relay *r, const struct xa_config *cfg,
		  char *err, size_t errlen)
{
	memset(r, 0, sizeof(*r));
	r->cfg = cfg;
	r->poll_max_ns = XA_RELAY_POLL_MAX_NS;
	{
		const char *us = getenv("XENAMP_POLL_US");
		char *end;
		unsigned long v;

		if (us != NULL && us[0] != '\0') {
			v = strtoul(us, &end, 10);
			if (*end == '\0' && v <= 10000)   /* at most 10 ms */
				r->poll_max_ns = (uint64_t)v * 1000u;
		}
	}
	r->links_cap = cfg->nlinks + cfg->dynamic_links;
	r->links = calloc(r->links_cap, sizeof(*r->links));
	r->live = calloc(2 * r->links_cap + 1, sizeof(*r->live));
	if (r->live == NULL) {
		free(r->links);
		r->links = NULL;
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	if (cfg->dynamic_links)
		r->dyn_cfg = calloc(cfg->dynamic_links, sizeof(*r->dyn_cfg));
	if ((r->links == NULL && r->links_cap) ||
	    (r->dyn_cfg == NULL && cfg->dynamic_links)) {
		free(r->links);
		free(r->dyn_cfg);
		free(r->live);
		r->live = NULL;
		r->links = NULL;
		r->dyn_cfg = NULL;
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	r->nlinks = cfg->nlinks;
	for (size_t i = 0; i < cfg->nlinks; i++) {
		struct xa_link *L = &r->links[i];

		L->cfg = &cfg->links[i];
		L->bounce = malloc(L->cfg->buf_size);
		if (L->bounce == NULL)
			goto oom;
		for (int j = 0; j < 2; j++) {
			struct xa_end *e = &L->end[j];

			e->link = L;
			e->side = j;
			e->cfg = &L->cfg->end[j];
			e->state = XA_STATE_CLOSED;
			e->svc = calloc(cfg->max_services, sizeof(*e->svc));
			e->inj_cap = 2 * cfg->max_services;
			e->inj = calloc(e->inj_cap, sizeof(*e->inj));
			if (e->svc == NULL || e->inj == NULL)
				goto oom;
		}
	}
	return 0;
oom:
	xa_relay_free(r);
	snprintf(err, errlen, "out of memory");
	return -ENOMEM;
}

int xa_relay_add_transport(struct xa_relay *r, struct xa_be_transport *t,
			   char *err, size_t errlen)
{
	if (r->ntr == XA_RELAY_MAX_TRANSPORTS) {
		snprintf(err, errlen, "too many transports");
		return -ENOSPC;
	}
	for (size_t i = 0; i < r->nlinks; i++)
		for (int j = 0; j < 2; j++) {
			const struct xa_cfg_end *c = r->links[i].end[j].cfg;
			int rc = t->ops->declare_end(t, c->partition, c->devno);

			if (rc < 0) {
				snprintf(err, errlen, "%s transport: cannot serve %s:%u: %s",
					 t->ops->name, c->partition, c->devno,
					 strerror(-rc));
				return rc;
			}
		}
	r->tr[r->ntr++] = t;
	return 0;
}

void xa_relay_shutdown(struct xa_relay *r)
{
	for (size_t i = 0; i < r->nlinks; i++)
		for (int j = 0; j < 2; j++) {
			struct xa_end *e = &r->links[i].end[j];

			if (e->t != NULL && e->h != NULL)
				e->t->ops->close_end(e->t, e->h, 0, NULL);
			e->t = NULL;
			e->h = NULL;
			e->state = XA_STATE_CLOSED;
			e->live_pos = 0;
		}
	r->nlive = 0;
	r->qhead = r->qtail = NULL;
	r->qlen = 0;
}

void xa_relay_free(struct xa_relay *r)
{
	if (r->links) {
		for (size_t i = 0; i < r->nlinks; i++) {
			free(r->links[i].bounce);
			for (int j = 0; j < 2; j++) {
				free(r->links[i].end[j].svc);
				free(r->links[i].end[j].inj);
			}
		}
		free(r->links);
	}
	free(r->dyn_cfg);
	r->dyn_cfg = NULL;
	free(r->live);
	r->live = NULL;
	r->nlive = 0;
	r->links = NULL;
	r->nlinks = 0;
	r->links_cap = 0;
}

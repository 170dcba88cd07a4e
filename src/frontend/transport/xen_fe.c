/* Xen transport, partition side: a frontend in a Linux domU
 * (docs/design.md#xen-transport; the xenstore layout is in
 * common/xen_layout.h and docs/protocol.md#xenstore-layout).
 *
 * connect:      read device/rpmsg/N/{backend, backend-id, buf-size,
 *               buf-count, max-pages} once the backend is in InitWait.
 * alloc_region: xengntshr_share_pages (gntalloc) of every page, writable,
 *               to backend-id; the pages come zeroed.
 * publish:      bind an unbound event channel for backend-id, write every
 *               ring-ref<i>, num-pages, event-channel and state=3 in one
 *               transaction, wait for the backend's Connected (4).
 * events:       one epoll set over the evtchn fd (XA_FE_EV_NOTIFY) and the
 *               xenstore watch fd on the backend's state (XA_FE_EV_STATE).
 *               A backend that drops below Connected (a restarted one
 *               offers the device anew) reads as Closed: the link is lost.
 * reconnect:    wait for the offer again, publish the same grant refs with
 *               a new event channel, wait for Connected; while an offer
 *               made by an earlier attempt stands, wait on it instead.
 * close:        state Closing then Closed, unshare, unbind. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include <xenevtchn.h>
#include <xengnttab.h>
#include <xenstore.h>

#include "frontend/transport/fe_transport.h"
#include "common/xen_layout.h"
#include "common/refusal.h"
#include "common/xen_store.h"
#include "common/xa_time.h"

#define PAGE 4096u
#define TOKEN_BE "xenamp-be-state"
#define TOKEN_FE "xenamp-fe-dir"

struct xen_fe {
	struct xa_fe_transport t;
	struct xs_handle *xs;
	xenevtchn_handle *xce;
	xengntshr_handle *xgs;
	int epfd;
	unsigned domid;
	unsigned be_domid;
	unsigned devno;
	char fe_dir[96];
	char be_dir[128];
	char be_state_path[160];
	bool fe_watch, be_watch;
	bool xs_in_epoll;   /* the xenstore fd is in epfd */
	xenevtchn_port_or_error_t port;
	void *region;
	uint32_t npages;
	uint32_t max_pages;
	uint32_t *refs;
	int be_state;
};

static struct xen_fe *xfe(struct xa_fe_transport *t)
{
	return (struct xen_fe *)t->priv;
}

static void read_be_state(struct xen_fe *x)
{
	unsigned long v;

	if (x->be_state_path[0] == '\0')
		return;
	if (xa_xs_get_uint(x->xs, x->be_state_path, NULL, &v) < 0)
		x->be_state = XA_STATE_CLOSED;   /* the backend removed it */
	else
		x->be_state = (int)v;
}

/* Drain the xenstore watch queue; returns whether anything fired. */
static bool drain_watches(struct xen_fe *x)
{
	bool any = false;
	char **w;

	while ((w = xs_check_watch(x->xs)) != NULL) {
		free(w);
		any = true;
	}
	return any;
}

/* Sleep until the xenstore fd is readable or the deadline passes. */
static int wait_xs(struct xen_fe *x, int64_t deadline)
{
	int left = xa_ms_left(deadline);
	struct pollfd p = { .fd = xs_fileno(x->xs), .events = POLLIN };

	if (left == 0)
		return -ETIMEDOUT;
	if (left > 1000)
		left = 1000;   /* re-read now and then: a watch can be missed */
	if (poll(&p, 1, left) < 0 && errno != EINTR)
		return -errno;
	drain_watches(x);
	return 0;
}

/* Wait until the backend offers device x->devno: the frontend dir names
 * the backend, whose state is InitWait, and holds the link parameters.
 * With reset_stale, a frontend state of Initialised or Connected left by
 * a process of this domain that died without closing is moved to Closed
 * first: the backend then releases that region and offers the device
 * again (one process per device and domain). */
static int wait_offer(struct xen_fe *x, int64_t deadline, bool reset_stale,
		      unsigned long *bs, unsigned long *bc, unsigned long *mp)
{
	bool reset_sent = !reset_stale;

	for (;;) {
		unsigned long fst;

		if (!reset_sent && xa_xs_get_uint(x->xs, x->fe_dir, "state", &fst) == 0 &&
		    (fst == XA_STATE_INITIALISED || fst == XA_STATE_CONNECTED)) {
			reset_sent = true;
			(void)xa_xs_put(x->xs, XBT_NULL, x->fe_dir, "state", "%d", XA_STATE_CLOSED);
		}
		char *be;

		if (xa_xs_get(x->xs, x->fe_dir, "backend", &be) == 0) {
			if (x->be_dir[0] == '\0' || strcmp(be, x->be_dir) != 0) {
				snprintf(x->be_dir, sizeof(x->be_dir), "%s", be);
				snprintf(x->be_state_path, sizeof(x->be_state_path),
					 "%s/state", be);
				if (x->be_watch)
					xs_unwatch(x->xs, x->be_state_path, TOKEN_BE);
				x->be_watch = xs_watch(x->xs, x->be_state_path, TOKEN_BE);
			}
			free(be);
			read_be_state(x);
			if (x->be_state == XA_STATE_INITWAIT &&
			    xa_xs_get_uint(x->xs, x->fe_dir, "buf-size", bs) == 0 &&
			    xa_xs_get_uint(x->xs, x->fe_dir, "buf-count", bc) == 0 &&
			    xa_xs_get_uint(x->xs, x->fe_dir, "max-pages", mp) == 0)
				return 0;
		}
		if (wait_xs(x, deadline) == -ETIMEDOUT)
			return -ETIMEDOUT;
	}
}

static int xen_connect(struct xa_fe_transport *t, const char *partition,
		       unsigned devno, struct xa_link_params *params,
		       int timeout_ms, char *err, size_t errlen)
{
	struct xen_fe *x = xfe(t);
	int64_t deadline = xa_now_ms() + (timeout_ms > 0 ? timeout_ms : 10000);
	unsigned long v, bs = 0, bc = 0, mp = 0;
	unsigned len;
	char *s;

	(void)partition;   /* in Xen mode the partition is this domain */
	x->devno = devno;
	x->xs = xs_open(0);
	if (x->xs == NULL) {
		snprintf(err, errlen,
			 "cannot open xenstore: %s (is this a Xen domU with /dev/xen/xenbus?)",
			 strerror(errno));
		return -errno ? -errno : -ENODEV;
	}
	s = xs_read(x->xs, XBT_NULL, "domid", &len);
	if (s == NULL) {
		snprintf(err, errlen, "cannot read this domain's id from xenstore: %s",
			 strerror(errno));
		return -ENODEV;
	}
	x->domid = (unsigned)strtoul(s, NULL, 10);
	free(s);
	snprintf(x->fe_dir, sizeof(x->fe_dir), "/local/domain/%u/device/%s/%u",
		 x->domid, XA_XEN_DEVTYPE, devno);
	if (xs_watch(x->xs, x->fe_dir, TOKEN_FE))
		x->fe_watch = true;

	/* Wait for the backend (the toolstack role) to create the device
	 * and reach InitWait with the parameters. */
	if (wait_offer(x, deadline, true, &bs, &bc, &mp) == -ETIMEDOUT) {
		snprintf(err, errlen,
			 "xenamp-backend did not offer device %u to domain %u in time (no InitWait at %s; is the backend running in dom0 with this domain's name in a link?)",
			 devno, x->domid, x->fe_dir);
		return -ETIMEDOUT;
	}
	if (xa_xs_get_uint(x->xs, x->fe_dir, "backend-id", &v) < 0) {
		snprintf(err, errlen, "%s/backend-id is missing or invalid", x->fe_dir);
		return -EPROTO;
	}
	x->be_domid = (unsigned)v;
	if (bs == 0 || bc == 0 || mp == 0 || bs > 0xffffffffUL ||
	    bc > 0xffffffffUL || mp > 0xffffffffUL) {
		snprintf(err, errlen, "invalid link parameters in %s", x->fe_dir);
		return -EPROTO;
	}
	params->buf_size = (uint32_t)bs;
	params->buf_count = (uint32_t)bc;
	params->max_pages = (uint32_t)mp;
	x->max_pages = (uint32_t)mp;
	return 0;
}

static int xen_alloc_region(struct xa_fe_transport *t, size_t size,
			    void **region, char *err, size_t errlen)
{
	struct xen_fe *x = xfe(t);
	uint32_t n;

	if (size == 0 || size % PAGE != 0 || x->region != NULL) {
		snprintf(err, errlen, "invalid region size %zu (or region already allocated)",
			 size);
		return -EINVAL;
	}
	n = (uint32_t)(size / PAGE);
	if (x->max_pages && n > x->max_pages) {
		snprintf(err, errlen,
			 "the region needs %u pages but the backend maps at most %u (max-pages)",
			 n, x->max_pages);
		return -E2BIG;
	}
	x->xgs = xengntshr_open(NULL, 0);
	if (x->xgs == NULL) {
		int e = errno;

		snprintf(err, errlen,
			 "cannot open the grant sharing device: %s (load xen-gntalloc: /dev/xen/gntalloc)",
			 strerror(e));
		return -e;
	}
	x->refs = calloc(n, sizeof(*x->refs));
	if (x->refs == NULL) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	x->region = xengntshr_share_pages(x->xgs, x->be_domid, (int)n, x->refs, 1);
	if (x->region == NULL) {
		int e = errno ? errno : ENOMEM;

		snprintf(err, errlen,
			 "cannot share %u pages with domain %u: %s (gntalloc's limit?)",
			 n, x->be_domid, strerror(e));
		return -e;
	}
	memset(x->region, 0, size);
	x->npages = n;
	*region = x->region;
	return 0;
}

/* Bind a fresh unbound event channel for the backend. The port of an
 * earlier connection is released first: the backend bound to it is gone
 * (its end of the channel closed with it). Xen may hand out the same
 * port number again; what tells offers apart is the frontend dir, which
 * every new offer of the backend rewrites (offer_stands). */
static int bind_port(struct xen_fe *x, char *err, size_t errlen)
{
	int e;

	if (x->xce == NULL) {
		x->xce = xenevtchn_open(NULL, 0);
		if (x->xce == NULL) {
			e = errno;
			snprintf(err, errlen,
				 "cannot open the event channel device: %s (load xen-evtchn)",
				 strerror(e));
			return -e;
		}
		int fl = fcntl(xenevtchn_fd(x->xce), F_GETFL);

		(void)fcntl(xenevtchn_fd(x->xce), F_SETFL, fl | O_NONBLOCK);
	}
	if (x->port >= 0) {
		(void)xenevtchn_unbind(x->xce, (evtchn_port_t)x->port);
		x->port = -1;
	}
	x->port = xenevtchn_bind_unbound_port(x->xce, x->be_domid);
	if (x->port < 0) {
		e = errno;
		x->port = -1;
		snprintf(err, errlen, "cannot allocate an event channel for domain %u: %s",
			 x->be_domid, strerror(e));
		return -e;
	}
	return 0;
}

/* Every ring-ref<i>, num-pages, event-channel and state Initialised, in
 * one transaction: the backend sees all or nothing. */
static int write_region_keys(struct xen_fe *x, char *err, size_t errlen)
{
	xs_transaction_t tx;
	char key[32];
	int rc, e;

	for (int attempt = 0; attempt < 20; attempt++) {
		tx = xs_transaction_start(x->xs);
		if (tx == XBT_NULL) {
			e = errno;
			snprintf(err, errlen, "xenstore transaction: %s", strerror(e));
			return -e;
		}
		rc = 0;
		for (uint32_t i = 0; i < x->npages && rc == 0; i++) {
			snprintf(key, sizeof(key), "ring-ref%u", i);
			rc = xa_xs_put(x->xs, tx, x->fe_dir, key, "%u", x->refs[i]);
		}
		if (rc == 0)
			rc = xa_xs_put(x->xs, tx, x->fe_dir, "num-pages", "%u", x->npages);
		if (rc == 0)
			rc = xa_xs_put(x->xs, tx, x->fe_dir, "event-channel", "%d", (int)x->port);
		if (rc == 0)
			rc = xa_xs_put(x->xs, tx, x->fe_dir, "state", "%d", XA_STATE_INITIALISED);
		if (rc < 0) {
			(void)xs_transaction_end(x->xs, tx, true);
			snprintf(err, errlen, "cannot write %s: %s", x->fe_dir,
				 strerror(-rc));
			return rc;
		}
		if (xs_transaction_end(x->xs, tx, false))
			return 0;
		if (errno != EAGAIN) {
			e = errno;
			snprintf(err, errlen, "xenstore transaction on %s: %s",
				 x->fe_dir, strerror(e));
			return -e;
		}
	}
	snprintf(err, errlen, "xenstore transaction on %s kept conflicting", x->fe_dir);
	return -EAGAIN;
}

/* Does our last offer still stand: the frontend dir still says
 * Initialised with the event channel we bound? Every backend that offers
 * the device (a restarted one, or one that reset it) rewrites the dir in
 * state Initialising first, so while it stands, the backend that offered
 * last has it and may be mapping it and binding that very port. */
static bool offer_stands(struct xen_fe *x)
{
	unsigned long st, port;

	return x->port >= 0 &&
	       xa_xs_get_uint(x->xs, x->fe_dir, "state", &st) == 0 &&
	       st == XA_STATE_INITIALISED &&
	       xa_xs_get_uint(x->xs, x->fe_dir, "event-channel", &port) == 0 &&
	       port == (unsigned long)x->port;
}

/* Wait for the backend to validate the region (Connected), then say
 * Connected too. -EAGAIN when our offer was withdrawn meanwhile (a new
 * backend offers the device afresh: offer again). */
static int wait_connected(struct xen_fe *x, int64_t deadline,
			  char *err, size_t errlen)
{
	for (;;) {
		read_be_state(x);
		if (x->be_state == XA_STATE_CONNECTED && offer_stands(x))
			break;
		if (!offer_stands(x)) {
			snprintf(err, errlen,
				 "xenamp-backend offered device %u of domain %u afresh before it took the region",
				 x->devno, x->domid);
			return -EAGAIN;
		}
		if (x->be_state >= XA_STATE_CLOSING) {
			snprintf(err, errlen,
				 "xenamp-backend moved device %u of domain %u to %s instead of Connected (see the backend's log)",
				 x->devno, x->domid, xa_state_name(x->be_state));
			return -ECONNRESET;
		}
		if (wait_xs(x, deadline) == -ETIMEDOUT) {
			snprintf(err, errlen,
				 "xenamp-backend did not accept the region of domain %u device %u in time",
				 x->domid, x->devno);
			return -ETIMEDOUT;
		}
	}
	(void)xa_xs_put(x->xs, XBT_NULL, x->fe_dir, "state", "%d", XA_STATE_CONNECTED);
	return 0;
}

/* Give the backend the region: a fresh port, the keys, then Connected. */
static int hand_over_region(struct xen_fe *x, int64_t deadline,
			    char *err, size_t errlen)
{
	int rc = bind_port(x, err, errlen);

	if (rc == 0)
		rc = write_region_keys(x, err, errlen);
	if (rc == 0)
		rc = wait_connected(x, deadline, err, errlen);
	return rc;
}

/* Add (or, with add false, remove) the xenstore fd in the event set. It
 * leaves the set while the backend is away, so that the library's
 * sleepers do not spin on watches nobody consumes; reconnect() reads
 * them itself. */
static int watch_events(struct xen_fe *x, bool add)
{
	struct epoll_event ev = { .events = EPOLLIN };
	int fd = xs_fileno(x->xs);

	if (x->xs_in_epoll == add)
		return 0;
	ev.data.fd = fd;
	if (epoll_ctl(x->epfd, add ? EPOLL_CTL_ADD : EPOLL_CTL_DEL, fd, &ev) < 0)
		return -errno;
	x->xs_in_epoll = add;
	return 0;
}

static int xen_publish(struct xa_fe_transport *t, int timeout_ms,
		       char *err, size_t errlen)
{
	struct xen_fe *x = xfe(t);
	int64_t deadline = xa_now_ms() + (timeout_ms > 0 ? timeout_ms : 10000);
	int rc, e;

	if (x->region == NULL) {
		snprintf(err, errlen, "no region to publish");
		return -EINVAL;
	}
	rc = hand_over_region(x, deadline, err, errlen);
	if (rc < 0)
		return rc;

	x->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (x->epfd < 0) {
		e = errno;
		snprintf(err, errlen, "epoll_create1: %s", strerror(e));
		return -e;
	}
	struct epoll_event ev = { .events = EPOLLIN };

	ev.data.fd = xenevtchn_fd(x->xce);
	rc = epoll_ctl(x->epfd, EPOLL_CTL_ADD, ev.data.fd, &ev) < 0 ? -errno : 0;
	if (rc == 0)
		rc = watch_events(x, true);
	if (rc < 0) {
		snprintf(err, errlen, "cannot set up the event set: %s", strerror(-rc));
		return rc;
	}
	return 0;
}

/* Connected again: the library's sleepers watch the backend's state. */
static int resume_events(struct xen_fe *x, char *err, size_t errlen)
{
	int rc = watch_events(x, true);

	if (rc < 0)
		snprintf(err, errlen, "cannot set up the event set: %s", strerror(-rc));
	return rc;
}

/* xa_fe_ops.reconnect. A restarted backend rewrites this device's
 * directories and offers it again (InitWait); one that stopped removed
 * them and its successor creates them anew. Either way the granted pages
 * are still ours and still granted to the backend domain: publish the
 * same grant refs with a fresh event channel, and the new backend maps
 * the rings where they stand. */
static int xen_reconnect(struct xa_fe_transport *t, unsigned devno,
			 const struct xa_link_params *want, int timeout_ms,
			 char *err, size_t errlen)
{
	struct xen_fe *x = xfe(t);
	int64_t deadline = xa_now_ms() + (timeout_ms > 0 ? timeout_ms : 5000);
	unsigned long bs = 0, bc = 0, mp = 0;
	struct xa_link_params got;
	char *why;
	int rc;

	if (x->xs == NULL || x->region == NULL || x->epfd < 0 || devno != x->devno) {
		snprintf(err, errlen, "no region to share again");
		return -EINVAL;
	}
	(void)watch_events(x, false);
	x->be_state = XA_STATE_UNKNOWN;
	if (offer_stands(x)) {
		/* An earlier attempt offered the region and ran out of time
		 * before the backend answered. Offering again would unbind the
		 * port that backend may have bound already: both sides would
		 * then be Connected with no notification crossing. Wait on. */
		rc = wait_connected(x, deadline, err, errlen);
		return rc < 0 ? rc : resume_events(x, err, errlen);
	}
	if (wait_offer(x, deadline, false, &bs, &bc, &mp) == -ETIMEDOUT) {
		snprintf(err, errlen,
			 "xenamp-backend has not offered device %u of domain %u again yet (no InitWait at %s)",
			 x->devno, x->domid, x->be_state_path);
		return -ETIMEDOUT;
	}
	/* A backend that dropped this end says why ("CODE TEXT"); whether
	 * trying again makes sense is the shared decision. */
	if (xa_xs_get(x->xs, x->fe_dir, "error", &why) == 0) {
		const char *text;
		int refusal = xa_refusal_parse(why, &text);

		rc = xa_fe_reconnect_refused(refusal, text, err, errlen);
		free(why);
		return rc;
	}
	got.buf_size = bs > UINT32_MAX ? UINT32_MAX : (uint32_t)bs;
	got.buf_count = bc > UINT32_MAX ? UINT32_MAX : (uint32_t)bc;
	got.max_pages = mp > UINT32_MAX ? UINT32_MAX : (uint32_t)mp;
	rc = xa_fe_reconnect_params_ok(&got, want, x->npages, err, errlen);
	if (rc < 0)
		return rc;
	xa_fe_before_offer(t);
	rc = hand_over_region(x, deadline, err, errlen);
	if (rc < 0)   /* only the backend's word (above) ends the retries */
		return rc == -EPERM ? -EIO : rc;
	return resume_events(x, err, errlen);
}

static int xen_notify(struct xa_fe_transport *t)
{
	struct xen_fe *x = xfe(t);

	if (x->xce == NULL || x->port < 0)
		return -ENOTCONN;
	return xenevtchn_notify(x->xce, (evtchn_port_t)x->port) < 0 ? -errno : 0;
}

static int xen_event_fd(struct xa_fe_transport *t)
{
	return xfe(t)->epfd;
}

static int xen_consume(struct xa_fe_transport *t, unsigned *events)
{
	struct xen_fe *x = xfe(t);
	xenevtchn_port_or_error_t p;

	*events = 0;
	if (x->xce != NULL) {
		while ((p = xenevtchn_pending(x->xce)) >= 0) {
			(void)xenevtchn_unmask(x->xce, (evtchn_port_t)p);
			if (p == x->port)
				*events |= XA_FE_EV_NOTIFY;
		}
	}
	if (x->xs != NULL && drain_watches(x)) {
		int old = x->be_state;

		read_be_state(x);
		/* Once closing, stay closed; a backend that drops below
		 * Connected (it reset the device, or restarted) means this
		 * connection is over. */
		if (old == XA_STATE_CLOSING || old == XA_STATE_CLOSED)
			x->be_state = old;
		else if (old == XA_STATE_CONNECTED &&
			 x->be_state < XA_STATE_CONNECTED)
			x->be_state = XA_STATE_CLOSED;
		if (x->be_state == XA_STATE_CLOSING || x->be_state == XA_STATE_CLOSED)
			(void)watch_events(x, false);   /* until reconnect() */
		*events |= XA_FE_EV_STATE;
	}
	return 0;
}

static int xen_state(struct xa_fe_transport *t)
{
	return xfe(t)->be_state;
}

static void xen_close(struct xa_fe_transport *t)
{
	struct xen_fe *x;

	if (t == NULL)
		return;
	x = xfe(t);
	if (x->xs != NULL) {
		if (x->fe_dir[0]) {
			(void)xa_xs_put(x->xs, XBT_NULL, x->fe_dir, "state", "%d", XA_STATE_CLOSING);
			(void)xa_xs_put(x->xs, XBT_NULL, x->fe_dir, "state", "%d", XA_STATE_CLOSED);
		}
		if (x->be_watch)
			xs_unwatch(x->xs, x->be_state_path, TOKEN_BE);
		if (x->fe_watch)
			xs_unwatch(x->xs, x->fe_dir, TOKEN_FE);
	}
	if (x->region != NULL)
		(void)xengntshr_unshare(x->xgs, x->region, x->npages);
	if (x->xgs != NULL)
		xengntshr_close(x->xgs);
	if (x->xce != NULL) {
		if (x->port >= 0)
			(void)xenevtchn_unbind(x->xce, (evtchn_port_t)x->port);
		xenevtchn_close(x->xce);
	}
	if (x->epfd >= 0)
		close(x->epfd);
	if (x->xs != NULL)
		xs_close(x->xs);
	free(x->refs);
	free(x);
}

static const struct xa_fe_ops xen_fe_ops = {
	.name = "xen",
	.connect = xen_connect,
	.alloc_region = xen_alloc_region,
	.publish = xen_publish,
	.notify = xen_notify,
	.event_fd = xen_event_fd,
	.consume = xen_consume,
	.state = xen_state,
	.reconnect = xen_reconnect,
	.close = xen_close,
};

int xa_xen_fe_new(struct xa_fe_transport **out, char *err, size_t errlen)
{
	struct xen_fe *x = calloc(1, sizeof(*x));

	if (x == NULL) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	x->epfd = -1;
	x->port = -1;
	x->be_state = XA_STATE_UNKNOWN;
	x->t.ops = &xen_fe_ops;
	x->t.priv = x;
	*out = &x->t;
	return 0;
}

/* A domU: the xenbus device exists and we are not the control domain. */
int xa_xen_fe_detect(void)
{
	char buf[256];
	ssize_t n;
	int fd;

	if (access("/dev/xen/xenbus", F_OK) != 0)
		return 0;
	fd = open("/proc/xen/capabilities", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 1;   /* xenfs not mounted: not a dom0 that runs a toolstack */
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0)
		return 1;
	buf[n] = '\0';
	return strstr(buf, "control_d") == NULL;
}

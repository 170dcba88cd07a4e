/* Xen transport, backend side (docs/design.md#xen-transport; the xenstore
 * layout is in common/xen_layout.h and docs/protocol.md#xenstore-layout). xenamp-backend in dom0 plays the toolstack for device
 * type "rpmsg":
 *
 *   - @introduceDomain: every live domain (xc_domain_getinfolist) whose
 *     xenstore name is a declared end's partition gets, per declared
 *     device n, the frontend dir and the backend dir (state Initialising,
 *     permissions: only dom0 and that domain) -> XA_BE_EV_END_APPEARED;
 *     an end declared later (a link added at run time) is offered at once
 *     to a running domain of that name;
 *   - accept(): the link parameters go into the frontend dir, the backend
 *     state to InitWait (2), a watch on the frontend's state;
 *   - frontend Initialised (3): num-pages (at most max-pages) grant refs
 *     mapped as one region (xengnttab_map_domain_grant_refs), the event
 *     channel bound (xenevtchn_bind_interdomain) -> XA_BE_EV_REGION_READY;
 *   - a pending port -> XA_BE_EV_KICK;
 *   - frontend Closing/Closed, or the domain dying / shut down / gone
 *     (@releaseDomain, then xc_domain_getinfolist tells which) ->
 *     XA_BE_EV_END_GONE;
 *   - close_end(): backend Closing, Closed, unbind, unmap; a live domain's
 *     device is reset and offered again (a new END_APPEARED), a dead
 *     domain's nodes are removed.
 *
 * Grants stay mapped only between REGION_READY and close_end(); the
 * memory cannot vanish under the backend in between (a dying domain's
 * granted pages stay until we unmap them).
 *
 * What a domain can make the backend do (xen_bound.h states the bound;
 * docs/security.md): a watch event costs a path parse and a lookup, no
 * xenstore round trip; an end named by any number of events in one turn
 * has its state read once (fe_dirty); a region map reads the frontend
 * dir's listing first and maps only a complete, consistent set of refs
 * (one transaction); and region maps per (domain, device) are
 * rate-limited (struct decl's tat), a deferred end being looked at again
 * when the timerfd fires. */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include <xenctrl.h>
#include <xenevtchn.h>
#include <xengnttab.h>
#include <xenstore.h>

#include "backend/transport/be_transport.h"
#include "backend/transport/xen_bound.h"
#include "common/partition_name.h"
#include "common/xen_layout.h"
#include "common/xen_store.h"

#define PAGE 4096u
#define TOK_DOM "xenamp-dom"
#define TOK_FE "xenamp-fe"
#define MAX_DOMS 1024

struct decl {
	char partition[XA_PARTITION_NAME_MAX];
	unsigned devno;
	/* region-map rate limit of this (domain, device): kept here, not
	 * in the end, because each reconnection makes a new end */
	uint64_t tat;             /* xa_xb_rate_take()'s state */
	uint64_t logged_ms;       /* last "maps deferred" line; 0: none */
	unsigned unlogged;        /* deferrals since that line */
};

struct xa_be_end {
	struct xa_be_end *next;
	unsigned domid;
	unsigned devno;
	char partition[XA_PARTITION_NAME_MAX];
	char peer[32];
	char fe_dir[96];
	char be_dir[96];
	char fe_state_path[112];
	void *cookie;
	bool accepted;
	bool watching;
	bool dead;        /* the domain is gone: remove the nodes */
	bool gone_sent;
	bool region_sent;
	bool kick_queued;
	bool fe_dirty;    /* a watch event named it this turn */
	bool deferred;    /* Initialised, its map waits for the rate limit */
	struct xa_link_params params;
	int lport;        /* bound local port, -1 */
	void *region;
	uint32_t npages;
};

struct qev {
	struct qev *next;
	enum xa_be_event_type type;
	struct xa_be_end *end;
	int code;
	char detail[200];
};

/* A device to offer again whose xenstore transaction kept failing (its
 * guest rewrites the dir all the time): tried again once a second, so
 * that a churning guest cannot make the backend lose the device. */
struct reoffer {
	struct reoffer *next;
	unsigned domid, devno;
	char partition[XA_PARTITION_NAME_MAX];
	char error[240];          /* "" : none */
};

/* A domain the backend has looked at (so its name is read once). */
struct seen {
	unsigned domid;
	bool matched;
};

struct xb {
	struct xa_be_transport pub;
	struct xa_be_opts opts;
	struct xs_handle *xs;
	xc_interface *xc;
	xenevtchn_handle *xce;
	xengnttab_handle *xgt;
	int epfd;
	int qfd;          /* eventfd: readable while events are queued */
	int tfd;          /* timerfd: a deferred region map may go now */
	uint64_t timer_at;        /* when tfd fires (monotonic ms); 0: off */
	uint32_t map_burst;       /* xen-region-maps */
	uint64_t map_interval_ms; /* xen-map-window-ms / xen-region-maps */
	struct xa_be_counters ctr;
	struct reoffer *reoffers;
	struct decl *decl;
	unsigned ndecl;
	struct xa_be_end *ends;
	struct qev *qhead, *qtail;
	struct seen *seen;
	unsigned nseen;
	bool rescan;
	bool stopping;
	bool swept;       /* the nodes of an earlier instance were looked at */
	char detail[200];
	xc_domaininfo_t *info;
};

static struct xb *xb_of(struct xa_be_transport *t)
{
	return (struct xb *)t->priv;
}

static void xlog(struct xb *x, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void xlog(struct xb *x, int level, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	if (x->opts.log == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	x->opts.log(x->opts.log_ctx, level, line);
}

/* ------------------------------------------------------------------ */
/* Event queue                                                         */

static void q_signal(struct xb *x)
{
	uint64_t one = 1;

	if (write(x->qfd, &one, sizeof(one)) < 0) {
		/* an eventfd at its maximum is readable already */
	}
}

static void q_clear(struct xb *x)
{
	uint64_t v;

	if (read(x->qfd, &v, sizeof(v)) < 0) {
		/* EAGAIN: nothing to clear */
	}
}

static void q_push(struct xb *x, enum xa_be_event_type type,
		   struct xa_be_end *e, int code, const char *detail)
{
	struct qev *q = calloc(1, sizeof(*q));

	if (q == NULL) {
		xlog(x, XA_BE_LOG_ERR, "xen: out of memory queueing an event for domain %u",
		     e->domid);
		return;
	}
	q->type = type;
	q->end = e;
	q->code = code;
	if (detail)
		snprintf(q->detail, sizeof(q->detail), "%s", detail);
	if (x->qtail)
		x->qtail->next = q;
	else
		x->qhead = q;
	x->qtail = q;
	q_signal(x);
}

static void q_purge(struct xb *x, struct xa_be_end *e)
{
	struct qev **pp = &x->qhead, *q;

	x->qtail = NULL;
	while ((q = *pp) != NULL) {
		if (q->end == e) {
			*pp = q->next;
			free(q);
			continue;
		}
		x->qtail = q;
		pp = &q->next;
	}
}

/* ------------------------------------------------------------------ */
/* Ends                                                                */

static bool declared(struct xb *x, const char *name)
{
	for (unsigned i = 0; i < x->ndecl; i++)
		if (strcmp(x->decl[i].partition, name) == 0)
			return true;
	return false;
}

static void set_perms(struct xb *x, xs_transaction_t tx, const char *path,
		      unsigned domid, unsigned perm)
{
	struct xs_permissions p[2] = {
		{ .id = 0, .perms = XS_PERM_NONE },
		{ .id = domid, .perms = perm },
	};

	if (!xs_set_permissions(x->xs, tx, path, p, 2))
		xlog(x, XA_BE_LOG_WARNING, "xen: cannot set the permissions of %s: %s",
		     path, strerror(errno));
}

/* Both dirs of an end, fresh, in transaction tx: 0 or -errno. */
static int write_initial_tx(struct xb *x, xs_transaction_t tx,
			    struct xa_be_end *e, const char *error)
{
	struct xs_handle *xs = x->xs;
	int rc;

	xs_rm(xs, tx, e->fe_dir);
	xs_rm(xs, tx, e->be_dir);
	if (!xs_mkdir(xs, tx, e->fe_dir) || !xs_mkdir(xs, tx, e->be_dir))
		return errno != 0 ? -errno : -EIO;
	set_perms(x, tx, e->fe_dir, e->domid, XS_PERM_READ | XS_PERM_WRITE);
	set_perms(x, tx, e->be_dir, e->domid, XS_PERM_READ);
	rc = xa_xs_put(xs, tx, e->fe_dir, "backend", "%s", e->be_dir);
	if (rc == 0) rc = xa_xs_put(xs, tx, e->fe_dir, "backend-id", "0");
	if (rc == 0) rc = xa_xs_put(xs, tx, e->fe_dir, "state", "%d", XA_STATE_INITIALISING);
	if (rc == 0) rc = xa_xs_put(xs, tx, e->be_dir, "frontend", "%s", e->fe_dir);
	if (rc == 0) rc = xa_xs_put(xs, tx, e->be_dir, "frontend-id", "%u", e->domid);
	if (rc == 0) rc = xa_xs_put(xs, tx, e->be_dir, "partition", "%s", e->partition);
	if (rc == 0) rc = xa_xs_put(xs, tx, e->be_dir, "online", "1");
	if (rc == 0) rc = xa_xs_put(xs, tx, e->be_dir, "state", "%d", XA_STATE_INITIALISING);
	if (rc == 0 && error != NULL)
		rc = xa_xs_put(xs, tx, e->fe_dir, "error", "%s", error);
	return rc;
}

/* (Re)write both dirs of an end in state Initialising. A non-NULL error
 * goes into the frontend dir in the same transaction, so that a frontend
 * waiting to reconnect never sees the new offer without it. */
static int write_initial(struct xb *x, struct xa_be_end *e, const char *error,
			 int tries)
{
	for (int attempt = 0; attempt < tries; attempt++) {
		xs_transaction_t tx = xs_transaction_start(x->xs);
		int rc;

		if (tx == XBT_NULL)
			return -errno;
		rc = write_initial_tx(x, tx, e, error);
		if (rc < 0) {
			xs_transaction_end(x->xs, tx, true);
			return rc;
		}
		if (xs_transaction_end(x->xs, tx, false))
			return 0;
		if (errno != EAGAIN)
			return -errno;
	}
	return -EAGAIN;
}

/* The xenstore paths of device devno of domain domid. */
static void set_paths(struct xa_be_end *e, unsigned domid, unsigned devno)
{
	snprintf(e->fe_dir, sizeof(e->fe_dir), "/local/domain/%u/device/%s/%u",
		 domid, XA_XEN_DEVTYPE, devno);
	snprintf(e->be_dir, sizeof(e->be_dir), "/local/domain/0/backend/%s/%u/%u",
		 XA_XEN_DEVTYPE, domid, devno);
	snprintf(e->fe_state_path, sizeof(e->fe_state_path), "%s/state", e->fe_dir);
}

/* A new end for device devno of domain domid, offered in xenstore; NULL
 * when out of memory or the offer's transaction failed tries times
 * (logged unless quiet). */
static struct xa_be_end *new_end_n(struct xb *x, unsigned domid,
				   const char *name, unsigned devno,
				   const char *error, int tries, bool quiet)
{
	struct xa_be_end *e = calloc(1, sizeof(*e));
	int rc;

	if (e == NULL)
		return NULL;
	e->domid = domid;
	e->devno = devno;
	e->lport = -1;
	snprintf(e->partition, sizeof(e->partition), "%s", name);
	snprintf(e->peer, sizeof(e->peer), "domid %u", domid);
	set_paths(e, domid, devno);
	rc = write_initial(x, e, error, tries);
	if (rc < 0) {
		if (!quiet)
			xlog(x, XA_BE_LOG_WARNING,
			     "xen: cannot create the rpmsg device %u of domain %u ('%s') in xenstore: %s",
			     devno, domid, name, strerror(-rc));
		free(e);
		return NULL;
	}
	e->next = x->ends;
	x->ends = e;
	q_push(x, XA_BE_EV_END_APPEARED, e, 0, NULL);
	return e;
}

static struct xa_be_end *new_end(struct xb *x, unsigned domid,
				 const char *name, unsigned devno,
				 const char *error)
{
	return new_end_n(x, domid, name, devno, error, 20, false);
}

static void offer_domain(struct xb *x, unsigned domid, const char *name)
{
	for (unsigned i = 0; i < x->ndecl; i++)
		if (strcmp(x->decl[i].partition, name) == 0)
			(void)new_end(x, domid, name, x->decl[i].devno, NULL);
}

static void unmap_end(struct xb *x, struct xa_be_end *e)
{
	if (e->lport >= 0) {
		(void)xenevtchn_unbind(x->xce, (evtchn_port_t)e->lport);
		e->lport = -1;
	}
	if (e->region != NULL) {
		if (xengnttab_unmap(x->xgt, e->region, e->npages) < 0)
			xlog(x, XA_BE_LOG_WARNING,
			     "xen: unmapping the %u pages of domain %u failed: %s",
			     e->npages, e->domid, strerror(errno));
		e->region = NULL;
		e->npages = 0;
	}
	if (e->watching) {
		(void)xs_unwatch(x->xs, e->fe_state_path, TOK_FE);
		e->watching = false;
	}
}

static void report_gone(struct xb *x, struct xa_be_end *e, int code,
			const char *detail)
{
	if (e->gone_sent)
		return;
	e->gone_sent = true;
	q_push(x, XA_BE_EV_END_GONE, e, code, detail);
}

/* After a failed map of the whole region: map each ref alone to say
 * which ones Xen refuses (gntdev turns any failed grant operation into
 * EINVAL for the whole mapping). Diagnostics only: the end is refused
 * either way. */
static void probe_refs(struct xb *x, uint32_t domid, const uint32_t *refs,
		       uint32_t n, char *out, size_t outlen)
{
	uint32_t bad = 0, first = 0;

	for (uint32_t i = 0; i < n; i++) {
		void *p = xengnttab_map_grant_ref(x->xgt, domid, refs[i],
						  PROT_READ | PROT_WRITE);

		if (p == NULL) {
			if (bad++ == 0)
				first = i;
			continue;
		}
		(void)xengnttab_unmap(x->xgt, p, 1);
	}
	if (bad == 0)
		snprintf(out, outlen, "each page maps on its own");
	else
		snprintf(out, outlen, "%u of them fail alone, first ring-ref%u = %u",
			 bad, first, refs[first]);
}

/* The frontend's num-pages, event-channel and grant refs, read in
 * transaction tx so that they are one consistent set (the frontend
 * writes them in one transaction with state 3). The listing comes first:
 * nothing is read per page unless every ring-ref is there and the dir
 * is no larger than the layout allows (xen_bound.h). 0, or -EPROTO /
 * -ENOMEM / -EAGAIN (the transaction) with msg. *refs is malloc'd. */
static int read_region_tx(struct xb *x, xs_transaction_t tx,
			  struct xa_be_end *e, unsigned long *n,
			  unsigned long *port, uint32_t **refs, char *msg,
			  size_t msglen)
{
	unsigned long v, missing = 0;
	unsigned num = 0;
	char key[32], **names;
	int rc;

	if (xa_xs_get_uint_tx(x->xs, tx, e->fe_dir, "num-pages", n) < 0 ||
	    *n == 0 || *n > e->params.max_pages) {
		snprintf(msg, msglen, "num-pages is missing or outside 1..%u (max-pages)",
			 e->params.max_pages);
		return -EPROTO;
	}
	names = xs_directory(x->xs, tx, e->fe_dir, &num);
	rc = names != NULL ? xa_xb_refs_listed(names, num, *n, &missing) : -ENOENT;
	free(names);
	if (rc == -E2BIG) {
		snprintf(msg, msglen, "its device dir holds %u nodes, more than %u for %lu pages",
			 num, xa_xb_listing_cap(*n), *n);
		return -EPROTO;
	}
	if (rc < 0) {
		snprintf(msg, msglen, "ring-ref%lu of its %lu pages is missing", missing, *n);
		return -EPROTO;
	}
	if (xa_xs_get_uint_tx(x->xs, tx, e->fe_dir, "event-channel", port) < 0 ||
	    *port == 0 || *port > 0xffffffffUL) {
		snprintf(msg, msglen, "event-channel is missing or invalid");
		return -EPROTO;
	}
	*refs = calloc(*n, sizeof(**refs));
	if (*refs == NULL) {
		snprintf(msg, msglen, "out of memory");
		return -ENOMEM;
	}
	for (unsigned long i = 0; i < *n; i++) {
		snprintf(key, sizeof(key), "ring-ref%lu", i);
		if (xa_xs_get_uint_tx(x->xs, tx, e->fe_dir, key, &v) < 0 ||
		    v > 0xffffffffUL) {
			snprintf(msg, msglen, "%s is missing or invalid", key);
			return -EPROTO;
		}
		(*refs)[i] = (uint32_t)v;
	}
	return 0;
}

/* read_region_tx() in a read-only transaction, tried twice: a frontend
 * that rewrites its nodes while they are read gets no third try. */
static int read_region(struct xb *x, struct xa_be_end *e, unsigned long *n,
		       unsigned long *port, uint32_t **refs, char *msg,
		       size_t msglen)
{
	for (int attempt = 0; attempt < 2; attempt++) {
		xs_transaction_t tx = xs_transaction_start(x->xs);
		int rc;

		if (tx == XBT_NULL) {
			snprintf(msg, msglen, "cannot start a xenstore transaction: %s",
				 strerror(errno));
			return -EIO;
		}
		rc = read_region_tx(x, tx, e, n, port, refs, msg, msglen);
		if (rc < 0) {
			xs_transaction_end(x->xs, tx, true);
			free(*refs);
			*refs = NULL;
			return rc;
		}
		if (xs_transaction_end(x->xs, tx, false))
			return 0;
		free(*refs);
		*refs = NULL;
		if (errno != EAGAIN)
			break;
	}
	snprintf(msg, msglen, "its grant refs kept changing while they were read");
	return -EPROTO;
}

/* The frontend is Initialised: map its region, bind its port. */
static void take_region(struct xb *x, struct xa_be_end *e)
{
	unsigned long n = 0, port = 0;
	uint32_t *refs = NULL;
	char msg[200];
	int rc;

	x->ctr.region_maps++;
	rc = read_region(x, e, &n, &port, &refs, msg, sizeof(msg));
	if (rc < 0)
		goto fail;
	e->region = xengnttab_map_domain_grant_refs(x->xgt, (uint32_t)n, e->domid,
						    refs, PROT_READ | PROT_WRITE);
	if (e->region == NULL) {
		int err = errno;
		char which[96];

		probe_refs(x, e->domid, refs, (uint32_t)n, which, sizeof(which));
		snprintf(msg, sizeof(msg), "cannot map its %lu granted pages: %s (%s)",
			 n, strerror(err), which);
		rc = -EPROTO;
		goto fail;
	}
	e->npages = (uint32_t)n;
	e->lport = xenevtchn_bind_interdomain(x->xce, e->domid, (evtchn_port_t)port);
	if (e->lport < 0) {
		e->lport = -1;
		snprintf(msg, sizeof(msg), "cannot bind its event channel %lu: %s",
			 port, strerror(errno));
		rc = -EPROTO;
		goto fail;
	}
	free(refs);
	e->region_sent = true;
	q_push(x, XA_BE_EV_REGION_READY, e, 0, NULL);
	return;
fail:
	free(refs);
	unmap_end(x, e);
	report_gone(x, e, rc, msg);
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static struct decl *decl_of(struct xb *x, const struct xa_be_end *e)
{
	for (unsigned i = 0; i < x->ndecl; i++)
		if (x->decl[i].devno == e->devno &&
		    strcmp(x->decl[i].partition, e->partition) == 0)
			return &x->decl[i];
	return NULL;
}

/* Have the timerfd fire at monotonic time at (ms), unless it fires
 * earlier already. */
static void arm_timer(struct xb *x, uint64_t at)
{
	struct itimerspec its = { 0 };

	if (x->timer_at != 0 && x->timer_at <= at)
		return;
	its.it_value.tv_sec = (time_t)(at / 1000u);
	its.it_value.tv_nsec = (long)(at % 1000u) * 1000000L;
	if (timerfd_settime(x->tfd, TFD_TIMER_ABSTIME, &its, NULL) == 0)
		x->timer_at = at;
}

/* One line per XA_XB_LOG_EVERY_MS per (domain, device) at most. */
static void log_deferred(struct xb *x, struct decl *d, struct xa_be_end *e,
			 uint64_t now, uint64_t wait)
{
	if (d->logged_ms != 0 && now - d->logged_ms < XA_XB_LOG_EVERY_MS) {
		d->unlogged++;
		return;
	}
	xlog(x, XA_BE_LOG_WARNING,
	     "xen: domain %u ('%s') device %u asks for its region too often (at most %u maps, then %u per %llu ms: xen-region-maps, xen-map-window-ms); the next map waits %llu ms (%u more deferred since the last such line)",
	     e->domid, e->partition, e->devno, x->map_burst, x->map_burst,
	     (unsigned long long)(x->map_interval_ms * x->map_burst),
	     (unsigned long long)wait, d->unlogged);
	d->logged_ms = now;
	d->unlogged = 0;
}

/* Initialised: map now, or once the rate limit of its (domain, device)
 * allows. */
static void region_due(struct xb *x, struct xa_be_end *e)
{
	struct decl *d = decl_of(x, e);
	uint64_t now = now_ms(), wait;

	if (d == NULL)
		return;   /* withdrawn: no link names this end now */
	wait = xa_xb_rate_take(&d->tat, now, x->map_burst, x->map_interval_ms);
	if (wait != 0) {
		e->deferred = true;
		x->ctr.maps_deferred++;
		arm_timer(x, now + wait);
		log_deferred(x, d, e, now, wait);
		return;
	}
	e->deferred = false;
	take_region(x, e);
}

/* Look at one accepted end's frontend state: one xenstore read. */
static void check_frontend(struct xb *x, struct xa_be_end *e)
{
	unsigned long st;

	e->fe_dirty = false;
	if (!e->accepted || e->gone_sent || e->dead)
		return;
	x->ctr.state_reads++;
	if (xa_xs_get_uint(x->xs, e->fe_state_path, NULL, &st) < 0) {
		if (e->region_sent)
			report_gone(x, e, 0, "its xenstore device node went away");
		return;
	}
	if (st == XA_STATE_INITIALISED && !e->region_sent)
		region_due(x, e);
	else if ((st == XA_STATE_CLOSING || st == XA_STATE_CLOSED) &&
		 e->region_sent)
		report_gone(x, e, 0, st == XA_STATE_CLOSING ?
			    "frontend Closing" : "frontend Closed");
}

/* A frontend watch fired for path: mark the end it names, if any, to be
 * looked at once this turn. No xenstore I/O. */
static void frontend_event(struct xb *x, const char *path)
{
	unsigned domid, devno;

	x->ctr.watch_events++;
	if (xa_xb_fe_path(path, XA_XEN_DEVTYPE, &domid, &devno) < 0)
		return;
	for (struct xa_be_end *e = x->ends; e; e = e->next)
		if (e->domid == domid && e->devno == devno && e->watching) {
			if (e->fe_dirty)
				x->ctr.coalesced++;
			e->fe_dirty = true;
			return;
		}
}

/* The timerfd fired: every deferred end is looked at again. */
static void retry_reoffers(struct xb *x);

static void timer_fired(struct xb *x)
{
	uint64_t n;

	if (read(x->tfd, &n, sizeof(n)) != (ssize_t)sizeof(n))
		return;
	x->timer_at = 0;
	for (struct xa_be_end *e = x->ends; e; e = e->next)
		if (e->deferred)
			e->fe_dirty = true;
	retry_reoffers(x);
}

static bool seen_has(struct xb *x, unsigned domid)
{
	for (unsigned i = 0; i < x->nseen; i++)
		if (x->seen[i].domid == domid)
			return true;
	return false;
}

static void sweep_stale(struct xb *x);

/* Which domains live; which are new, which died. */
static void scan_domains(struct xb *x)
{
	int n = xc_domain_getinfolist(x->xc, 0, MAX_DOMS, x->info);
	unsigned live[MAX_DOMS];
	unsigned nlive = 0;

	if (n < 0) {
		xlog(x, XA_BE_LOG_WARNING, "xen: xc_domain_getinfolist: %s",
		     strerror(errno));
		return;
	}
	for (int i = 0; i < n; i++) {
		if (x->info[i].flags & (XEN_DOMINF_dying | XEN_DOMINF_shutdown))
			continue;
		live[nlive++] = x->info[i].domain;
	}
	/* the dead */
	for (struct xa_be_end *e = x->ends; e; e = e->next) {
		bool alive = false;

		for (unsigned i = 0; i < nlive; i++)
			alive |= live[i] == e->domid;
		if (!alive && !e->dead) {
			char msg[128];

			e->dead = true;
			snprintf(msg, sizeof(msg), "domain %u ('%s') died",
				 e->domid, e->partition);
			report_gone(x, e, 0, msg);
		}
	}
	for (unsigned i = 0; i < x->nseen;) {
		bool alive = false;

		for (unsigned j = 0; j < nlive; j++)
			alive |= live[j] == x->seen[i].domid;
		if (!alive)
			x->seen[i] = x->seen[--x->nseen];
		else
			i++;
	}
	/* the new */
	for (unsigned i = 0; i < nlive; i++) {
		char path[64], *name;
		unsigned len;

		if (live[i] == 0 || seen_has(x, live[i]))
			continue;
		snprintf(path, sizeof(path), "/local/domain/%u/name", live[i]);
		name = xs_read(x->xs, XBT_NULL, path, &len);
		if (name == NULL)
			continue;   /* not named yet: look again next time */
		if (x->nseen < MAX_DOMS) {
			x->seen[x->nseen].domid = live[i];
			x->seen[x->nseen].matched = declared(x, name);
			x->nseen++;
		}
		if (declared(x, name)) {
			xlog(x, XA_BE_LOG_INFO, "xen: domain %u ('%s') is an end; offering its rpmsg device(s)",
			     live[i], name);
			offer_domain(x, live[i], name);
		}
		free(name);
	}
	if (!x->swept) {
		x->swept = true;
		sweep_stale(x);
	}
}

/* ------------------------------------------------------------------ */
/* Input                                                               */

static struct xa_be_end *end_by_port(struct xb *x, int port)
{
	for (struct xa_be_end *e = x->ends; e; e = e->next)
		if (e->lport == port)
			return e;
	return NULL;
}

static void read_input(struct xb *x)
{
	xenevtchn_port_or_error_t p;
	char **w;

	while ((p = xenevtchn_pending(x->xce)) >= 0) {
		struct xa_be_end *e = end_by_port(x, p);

		(void)xenevtchn_unmask(x->xce, (evtchn_port_t)p);
		if (e != NULL && !e->kick_queued && !e->gone_sent) {
			e->kick_queued = true;
			q_push(x, XA_BE_EV_KICK, e, 0, NULL);
		}
	}
	/* At most a batch per turn; the fd stays readable for the rest. */
	for (unsigned i = 0; i < XA_XB_WATCH_EVENTS_PER_TURN &&
			     (w = xs_check_watch(x->xs)) != NULL; i++) {
		if (strcmp(w[XS_WATCH_TOKEN], TOK_DOM) == 0)
			x->rescan = true;
		else if (strcmp(w[XS_WATCH_TOKEN], TOK_FE) == 0)
			frontend_event(x, w[XS_WATCH_PATH]);
		free(w);
	}
	timer_fired(x);
	if (x->rescan) {
		x->rescan = false;
		scan_domains(x);
	}
	/* each named end once, however many events named it */
	for (struct xa_be_end *e = x->ends; e; e = e->next)
		if (e->fe_dirty)
			check_frontend(x, e);
}

/* ------------------------------------------------------------------ */
/* Operations                                                          */

static int xb_declare_end(struct xa_be_transport *t, const char *partition,
			  unsigned devno)
{
	struct xb *x = xb_of(t);
	struct decl *d;

	if (strlen(partition) >= XA_PARTITION_NAME_MAX)
		return -ENAMETOOLONG;
	/* a link updated at run time declares its ends again */
	for (unsigned i = 0; i < x->ndecl; i++)
		if (x->decl[i].devno == devno && strcmp(x->decl[i].partition, partition) == 0)
			return 0;
	d = realloc(x->decl, (x->ndecl + 1) * sizeof(*d));
	if (d == NULL)
		return -ENOMEM;
	x->decl = d;
	memset(&d[x->ndecl], 0, sizeof(*d));
	snprintf(d[x->ndecl].partition, XA_PARTITION_NAME_MAX, "%s", partition);
	d[x->ndecl].devno = devno;
	x->ndecl++;
	/* A link added at run time (control request link-add, libvirt
	 * metadata) may name a domain that is already running, such as the
	 * peer of a firmware being loaded or a domain whose STARTED event
	 * brought the link: scan_domains() only offers devices to domains it
	 * has not seen yet, so offer this one now. (Before the first scan,
	 * at start-up, no domain has been seen.) */
	for (unsigned i = 0; i < x->nseen; i++) {
		char path[64], *name;
		unsigned len;

		snprintf(path, sizeof(path), "/local/domain/%u/name", x->seen[i].domid);
		name = xs_read(x->xs, XBT_NULL, path, &len);
		if (name == NULL)
			continue;
		if (strcmp(name, partition) == 0) {
			x->seen[i].matched = true;
			xlog(x, XA_BE_LOG_INFO, "xen: domain %u ('%s') is an end of a new link; offering its rpmsg device %u",
			     x->seen[i].domid, name, devno);
			(void)new_end(x, x->seen[i].domid, name, devno, NULL);
		}
		free(name);
	}
	x->rescan = true;
	q_signal(x);
	return 0;
}

static int xb_event_fd(struct xa_be_transport *t)
{
	return xb_of(t)->epfd;
}

static int xb_next_event(struct xa_be_transport *t, struct xa_be_event *ev)
{
	struct xb *x = xb_of(t);
	struct qev *q;

	if (x->qhead == NULL) {
		q_clear(x);
		read_input(x);
	}
	q = x->qhead;
	if (q == NULL)
		return 0;
	x->qhead = q->next;
	if (x->qhead == NULL) {
		x->qtail = NULL;
		q_clear(x);
	}
	memset(ev, 0, sizeof(*ev));
	ev->type = q->type;
	ev->end = q->end;
	ev->cookie = q->end->cookie;
	switch (q->type) {
	case XA_BE_EV_END_APPEARED:
		ev->partition = q->end->partition;
		ev->devno = q->end->devno;
		ev->peer = q->end->peer;
		break;
	case XA_BE_EV_REGION_READY:
		ev->region = q->end->region;
		ev->region_size = (size_t)q->end->npages * PAGE;
		break;
	case XA_BE_EV_KICK:
		q->end->kick_queued = false;
		break;
	case XA_BE_EV_END_GONE:
		snprintf(x->detail, sizeof(x->detail), "%s", q->detail);
		ev->code = q->code;
		ev->detail = x->detail;
		break;
	default:
		break;
	}
	free(q);
	if (x->qhead != NULL)
		q_signal(x);
	return 1;
}

static int xb_accept(struct xa_be_transport *t, struct xa_be_end *e,
		     void *cookie, const struct xa_link_params *params,
		     char *err, size_t errlen)
{
	struct xb *x = xb_of(t);
	int rc;

	e->cookie = cookie;
	e->params = *params;
	e->accepted = true;
	rc = xa_xs_put(x->xs, XBT_NULL, e->fe_dir, "buf-size", "%u", params->buf_size);
	if (rc == 0)
		rc = xa_xs_put(x->xs, XBT_NULL, e->fe_dir, "buf-count", "%u", params->buf_count);
	if (rc == 0)
		rc = xa_xs_put(x->xs, XBT_NULL, e->fe_dir, "max-pages", "%u", params->max_pages);
	if (rc == 0) {
		e->watching = xs_watch(x->xs, e->fe_state_path, TOK_FE);
		rc = e->watching ? 0 : -errno;
	}
	if (rc == 0)
		rc = xa_xs_put(x->xs, XBT_NULL, e->be_dir, "state", "%d", XA_STATE_INITWAIT);
	if (rc < 0) {
		snprintf(err, errlen, "xen: cannot publish the parameters in %s: %s",
			 e->fe_dir, strerror(-rc));
		t->ops->close_end(t, e, 0, NULL);
		return -EIO;
	}
	return 0;
}

static int xb_set_state(struct xa_be_transport *t, struct xa_be_end *e,
			enum xa_state state)
{
	struct xb *x = xb_of(t);

	return xa_xs_put(x->xs, XBT_NULL, e->be_dir, "state", "%d", (int)state);
}

static int xb_notify(struct xa_be_transport *t, struct xa_be_end *e)
{
	struct xb *x = xb_of(t);

	if (e->lport < 0)
		return -ENOTCONN;
	return xenevtchn_notify(x->xce, (evtchn_port_t)e->lport) < 0 ? -errno : 0;
}

static void remove_nodes(struct xb *x, struct xa_be_end *e)
{
	char parent[96];

	xs_rm(x->xs, XBT_NULL, e->be_dir);
	snprintf(parent, sizeof(parent), "/local/domain/0/backend/%s/%u",
		 XA_XEN_DEVTYPE, e->domid);
	{
		unsigned num = 0;
		char **l = xs_directory(x->xs, XBT_NULL, parent, &num);

		if (l == NULL || num == 0)
			xs_rm(x->xs, XBT_NULL, parent);
		free(l);
	}
	xs_rm(x->xs, XBT_NULL, e->fe_dir);
}

/* After the first scan: the devices an earlier backend instance offered
 * (it was killed, or ran with other links) that this one does not serve
 * are removed, so that no domain waits on a device nobody will connect,
 * and none is left behind when this instance stops. A link declared
 * later offers its devices anew. */
static void sweep_stale(struct xb *x)
{
	char root[64], dir[96];
	unsigned ndom = 0, ndev;
	char **doms, **devs;

	snprintf(root, sizeof(root), "/local/domain/0/backend/%s", XA_XEN_DEVTYPE);
	doms = xs_directory(x->xs, XBT_NULL, root, &ndom);
	for (unsigned i = 0; doms != NULL && i < ndom; i++) {
		char *end;
		unsigned long domid = strtoul(doms[i], &end, 10);

		snprintf(dir, sizeof(dir), "%s/%s", root, doms[i]);
		if (*end != '\0' || end == doms[i] || domid == 0 || domid >= 0x7ff0) {
			xs_rm(x->xs, XBT_NULL, dir);   /* not ours to keep */
			continue;
		}
		ndev = 0;
		devs = xs_directory(x->xs, XBT_NULL, dir, &ndev);
		for (unsigned j = 0; devs != NULL && j < ndev; j++) {
			unsigned long devno = strtoul(devs[j], &end, 10);
			struct xa_be_end *e, stale;
			bool served = false;

			if (*end != '\0' || end == devs[j] || devno > 0xffff) {
				char bad[160];

				snprintf(bad, sizeof(bad), "%s/%s", dir, devs[j]);
				xs_rm(x->xs, XBT_NULL, bad);
				continue;
			}
			for (e = x->ends; e != NULL; e = e->next)
				served |= e->domid == domid && e->devno == devno;
			if (served)
				continue;
			memset(&stale, 0, sizeof(stale));
			stale.domid = (unsigned)domid;
			set_paths(&stale, (unsigned)domid, (unsigned)devno);
			xlog(x, XA_BE_LOG_INFO,
			     "xen: removing rpmsg device %lu of domain %lu left by an earlier backend (no link names it now)",
			     devno, domid);
			remove_nodes(x, &stale);
		}
		free(devs);
	}
	free(doms);
}

/* Offer e's device again later (new_end() failed). */
static void queue_reoffer(struct xb *x, const struct xa_be_end *e,
			  const char *error)
{
	struct reoffer *r = calloc(1, sizeof(*r));

	if (r == NULL)
		return;
	r->domid = e->domid;
	r->devno = e->devno;
	snprintf(r->partition, sizeof(r->partition), "%s", e->partition);
	snprintf(r->error, sizeof(r->error), "%s", error);
	r->next = x->reoffers;
	x->reoffers = r;
	arm_timer(x, now_ms() + 1000u);
}

/* The timer fired: try the queued offers again, one transaction each (a
 * guest that keeps rewriting its dir makes each try conflict: this is
 * all the work it gets per device per second, and the failure was
 * logged once already). One whose domain is gone or renamed, or whose
 * end no link names now, is dropped; one that fails again waits another
 * second. */
static void retry_reoffers(struct xb *x)
{
	struct reoffer **pp = &x->reoffers, *r;

	while ((r = *pp) != NULL) {
		char path[64], *name;
		unsigned len;
		bool drop = true;
		struct xa_be_end probe = { .devno = r->devno };

		snprintf(probe.partition, sizeof(probe.partition), "%s", r->partition);
		snprintf(path, sizeof(path), "/local/domain/%u/name", r->domid);
		name = xs_read(x->xs, XBT_NULL, path, &len);
		if (name != NULL && strcmp(name, r->partition) == 0 &&
		    decl_of(x, &probe) != NULL)
			drop = new_end_n(x, r->domid, r->partition, r->devno,
					 r->error[0] ? r->error : NULL, 1, true) != NULL;
		free(name);
		if (drop) {
			*pp = r->next;
			free(r);
			continue;
		}
		arm_timer(x, now_ms() + 1000u);
		pp = &r->next;
	}
}

/* Forget the queued offers of (partition, devno), removing their nodes
 * (withdraw_end); all of them when partition is NULL (destroy). */
static void drop_reoffers(struct xb *x, const char *partition, unsigned devno)
{
	struct reoffer **pp = &x->reoffers, *r;

	while ((r = *pp) != NULL) {
		if (partition != NULL &&
		    (r->devno != devno || strcmp(r->partition, partition) != 0)) {
			pp = &r->next;
			continue;
		}
		struct xa_be_end stale = { .domid = r->domid, .devno = r->devno };

		set_paths(&stale, r->domid, r->devno);
		xlog(x, XA_BE_LOG_INFO,
		     "xen: withdrawing rpmsg device %u of domain %u ('%s'): no link names it now",
		     r->devno, r->domid, r->partition);
		remove_nodes(x, &stale);
		*pp = r->next;
		free(r);
	}
}

static void xb_close_end(struct xa_be_transport *t, struct xa_be_end *e,
			 int refusal, const char *why)
{
	struct xb *x = xb_of(t);
	struct xa_be_end **pp;
	bool reoffer;

	q_purge(x, e);
	q_clear(x);
	if (x->qhead != NULL)
		q_signal(x);
	if (why != NULL && !e->dead)
		(void)xa_xs_put(x->xs, XBT_NULL, e->fe_dir, "error", "%d %s", refusal, why);
	if (!e->dead) {
		(void)xa_xs_put(x->xs, XBT_NULL, e->be_dir, "state", "%d", XA_STATE_CLOSING);
		(void)xa_xs_put(x->xs, XBT_NULL, e->be_dir, "state", "%d", XA_STATE_CLOSED);
	}
	unmap_end(x, e);
	for (pp = &x->ends; *pp; pp = &(*pp)->next)
		if (*pp == e) {
			*pp = e->next;
			break;
		}
	/* A live domain whose end was in use gets its device again, for the
	 * next open; a refused end (never accepted) stays Closed with its
	 * error node; the nodes of a dead domain (or of one whose xenstore
	 * directory the toolstack already removed) go. */
	unsigned long st;
	bool alive = !e->dead &&
		     xa_xs_get_uint(x->xs, e->fe_state_path, NULL, &st) == 0;

	bool withdrawn = decl_of(x, e) == NULL;

	reoffer = alive && e->accepted && !x->stopping && !withdrawn;
	if (withdrawn && alive && !x->stopping && e->region_sent && why != NULL) {
		/* its frontend was connected: the dirs stay, Closed, with
		 * the error node that tells it why (a final refusal), until
		 * the domain goes */
		xlog(x, XA_BE_LOG_INFO,
		     "xen: withdrawing rpmsg device %u of domain %u ('%s'): no link names it now; its frontend was told why, its nodes stay Closed",
		     e->devno, e->domid, e->partition);
	} else if (reoffer) {
		char error[240];

		if (why != NULL)
			snprintf(error, sizeof(error), "%d %s", refusal, why);
		if (new_end(x, e->domid, e->partition, e->devno,
			    why != NULL ? error : NULL) == NULL)
			queue_reoffer(x, e, why != NULL ? error : "");
	} else if (!alive || x->stopping || withdrawn) {
		if (withdrawn && alive && !x->stopping)
			xlog(x, XA_BE_LOG_INFO,
			     "xen: withdrawing rpmsg device %u of domain %u ('%s'): no link names it now",
			     e->devno, e->domid, e->partition);
		remove_nodes(x, e);
	}
	free(e);
}

/* No link names (partition, devno) any longer: forget the declaration,
 * so that no domain of that name is offered the device again, and remove
 * the offers not taken yet (their END_APPEARED purged: the backend never
 * sees them). An accepted end is the backend's to close; close_end()
 * then finds no declaration and does not offer it again. */
static void xb_withdraw_end(struct xa_be_transport *t, const char *partition,
			    unsigned devno)
{
	struct xb *x = xb_of(t);
	struct xa_be_end **pp = &x->ends, *e;

	for (unsigned i = 0; i < x->ndecl; i++)
		if (x->decl[i].devno == devno &&
		    strcmp(x->decl[i].partition, partition) == 0) {
			x->decl[i] = x->decl[--x->ndecl];
			break;
		}
	drop_reoffers(x, partition, devno);
	while ((e = *pp) != NULL) {
		if (e->accepted || e->devno != devno ||
		    strcmp(e->partition, partition) != 0) {
			pp = &e->next;
			continue;
		}
		*pp = e->next;
		q_purge(x, e);
		xlog(x, XA_BE_LOG_INFO,
		     "xen: withdrawing rpmsg device %u of domain %u ('%s'): no link names it now",
		     devno, e->domid, e->partition);
		unmap_end(x, e);
		remove_nodes(x, e);
		free(e);
	}
	q_clear(x);
	if (x->qhead != NULL)
		q_signal(x);
}

static int xb_ctl_reply(struct xa_be_transport *t, struct xa_be_ctl *ctl,
			const char *json, size_t len)
{
	return -ENOTSUP;
}

static void xb_counters(struct xa_be_transport *t, struct xa_be_counters *out)
{
	*out = xb_of(t)->ctr;
}

static void xb_destroy(struct xa_be_transport *t)
{
	struct xb *x;

	if (t == NULL)
		return;
	x = xb_of(t);
	x->stopping = true;
	while (x->ends != NULL)
		xb_close_end(t, x->ends, 0, NULL);
	while (x->reoffers != NULL) {
		struct reoffer *r = x->reoffers;

		x->reoffers = r->next;
		free(r);
	}
	while (x->qhead) {
		struct qev *q = x->qhead;

		x->qhead = q->next;
		free(q);
	}
	if (x->xs) {
		xs_unwatch(x->xs, "@introduceDomain", TOK_DOM);
		xs_unwatch(x->xs, "@releaseDomain", TOK_DOM);
		xs_close(x->xs);
	}
	if (x->xce)
		xenevtchn_close(x->xce);
	if (x->xgt)
		xengnttab_close(x->xgt);
	if (x->xc)
		xc_interface_close(x->xc);
	if (x->epfd >= 0)
		close(x->epfd);
	if (x->qfd >= 0)
		close(x->qfd);
	if (x->tfd >= 0)
		close(x->tfd);
	free(x->decl);
	free(x->seen);
	free(x->info);
	free(x);
}

static const struct xa_be_ops xb_ops = {
	.name = "xen",
	.declare_end = xb_declare_end,
	.withdraw_end = xb_withdraw_end,
	.event_fd = xb_event_fd,
	.next_event = xb_next_event,
	.accept = xb_accept,
	.set_state = xb_set_state,
	.notify = xb_notify,
	.close_end = xb_close_end,
	.ctl_reply = xb_ctl_reply,
	.counters = xb_counters,
	.destroy = xb_destroy,
};

int xa_be_xen_new(const struct xa_be_opts *opts,
		  struct xa_be_transport **out, char *err, size_t errlen)
{
	struct xb *x = calloc(1, sizeof(*x));
	const char *what;
	int fl, e;

	*out = NULL;
	if (x == NULL) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	x->pub.ops = &xb_ops;
	x->pub.priv = x;
	x->epfd = x->qfd = x->tfd = -1;
	if (opts)
		x->opts = *opts;
	x->map_burst = x->opts.xen_region_maps ? x->opts.xen_region_maps
					       : XA_XB_MAPS_DEFAULT;
	x->map_interval_ms = (x->opts.xen_map_window_ms ? x->opts.xen_map_window_ms
							: XA_XB_WINDOW_MS_DEFAULT) / x->map_burst;
	if (x->map_interval_ms == 0)
		x->map_interval_ms = 1;
	x->seen = calloc(MAX_DOMS, sizeof(*x->seen));
	x->info = calloc(MAX_DOMS, sizeof(*x->info));
	if (x->seen == NULL || x->info == NULL) {
		e = ENOMEM;
		what = "memory";
		goto fail;
	}
	what = "xenstore (is xenstored running?)";
	x->xs = xs_open(0);
	if (x->xs == NULL)
		goto fail_errno;
	what = "libxenctrl (/dev/xen/privcmd; are we in dom0?)";
	x->xc = xc_interface_open(NULL, NULL, 0);
	if (x->xc == NULL)
		goto fail_errno;
	what = "the event channel device (load xen-evtchn)";
	x->xce = xenevtchn_open(NULL, 0);
	if (x->xce == NULL)
		goto fail_errno;
	what = "the grant mapping device (load xen-gntdev)";
	x->xgt = xengnttab_open(NULL, 0);
	if (x->xgt == NULL)
		goto fail_errno;
	fl = fcntl(xenevtchn_fd(x->xce), F_GETFL);
	(void)fcntl(xenevtchn_fd(x->xce), F_SETFL, fl | O_NONBLOCK);
	what = "an eventfd, timerfd or epoll set";
	x->qfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	x->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	x->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (x->qfd < 0 || x->tfd < 0 || x->epfd < 0)
		goto fail_errno;
	int fds[4] = { xs_fileno(x->xs), xenevtchn_fd(x->xce), x->qfd, x->tfd };

	for (int i = 0; i < 4; i++) {
		struct epoll_event ev = { .events = EPOLLIN, .data.fd = fds[i] };

		if (epoll_ctl(x->epfd, EPOLL_CTL_ADD, fds[i], &ev) < 0)
			goto fail_errno;
	}
	what = "xenstore watches on @introduceDomain/@releaseDomain";
	if (!xs_watch(x->xs, "@introduceDomain", TOK_DOM) ||
	    !xs_watch(x->xs, "@releaseDomain", TOK_DOM))
		goto fail_errno;
	x->rescan = true;
	q_signal(x);
	*out = &x->pub;
	return 0;
fail_errno:
	e = errno ? errno : EIO;
fail:
	snprintf(err, errlen, "xen transport: cannot open %s: %s", what, strerror(e));
	xb_destroy(&x->pub);
	return -e;
}

int xa_xen_be_detect(void)
{
	char buf[256];
	ssize_t n;
	int fd = open("/proc/xen/capabilities", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	return strstr(buf, "control_d") != NULL;
}

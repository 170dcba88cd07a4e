/* One RPMsg device of a firmware domain (contract in fw_rpmsg.h): the
 * xenbus handshake, and the bare-metal Xen environment of the RPMsg driver
 * core (src/frontend/core/fe_env.h). */
#include "firmware/runtime/fw.h"
#include "firmware/rpmsg/fw_rpmsg.h"

#include "firmware/rpmsg/fw_reconnect.h"
#include "frontend/core/rpmsg_virtio.h"

#define PAGE 4096u
/* xenbus states (src/common/state.h) */
#define ST_INITWAIT 2
#define ST_INITIALISED 3
#define ST_CONNECTED 4
#define ST_CLOSING 5
#define ST_CLOSED 6

struct fw_rpmsg_dev {
	struct xa_fe_core c;           /* the driver core's device */
	bool locked;                   /* the "lock": bookkeeping only */
	bool opened;
	unsigned devno;
	unsigned domid;
	uint16_t be_domid;
	uint32_t port;                 /* our unbound port for the backend */
	char fe_dir[64];
	char be_dir[96];
	int be_state;
	uint32_t npages;
	uint32_t refs[FW_RPMSG_MAX_PAGES];
	/* the core's region bookkeeping (xa_fe_region_storage) */
	struct xa_vq_driver_slot rx_slots[FW_RPMSG_MAX_BUFS];
	struct xa_vq_driver_slot tx_slots[FW_RPMSG_MAX_BUFS];
	uint32_t rx_refs[FW_RPMSG_MAX_BUFS];
	uint8_t tx_state[FW_RPMSG_MAX_BUFS];
	uint16_t tx_free[FW_RPMSG_MAX_BUFS];
	/* Reconnection, while c.lost (see reconnect_locked). */
	bool offered;                  /* an offer written since the loss */
	bool reannounce;               /* endpoints to announce again */
	uint64_t lost_deadline;        /* give up then */
	uint64_t next_report;          /* the next "still waiting" line */
	unsigned reconnects;
};

/* The one device and its region, granted page by page to the backend. */
static struct fw_rpmsg_dev dev;
static uint8_t region[FW_RPMSG_MAX_PAGES * PAGE] __attribute__((aligned(PAGE)));
static char last_error[XA_FE_ERRLEN] = "no error";

static struct fw_rpmsg_dev *fw_dev(const struct xa_fe_core *c)
{
	return (struct fw_rpmsg_dev *)(void *)((char *)c -
					       offsetof(struct fw_rpmsg_dev, c));
}

static uint64_t deadline_ms(uint32_t ms)
{
	return fw_now_ns() + (uint64_t)ms * 1000000u;
}

/* Sleep for xenstore news until deadline, but at most 1 s: a watch event
 * can be missed (xenstored drops them under pressure), so the callers look
 * again now and then, as xen_fe.c does. 0 once the deadline has passed. */
static int xs_nap(uint64_t deadline)
{
	uint64_t step = fw_now_ns() + 1000000000ull;

	if (fw_now_ns() >= deadline)
		return 0;
	(void)fw_xs_wait(step < deadline ? step : deadline, 0);
	return 1;
}

static int fe_read_uint(struct fw_rpmsg_dev *d, const char *key, unsigned long *v)
{
	char p[96];

	fw_snprintf(p, sizeof(p), "%s/%s", d->fe_dir, key);
	return fw_xs_read_uint(0, p, v);
}

/* The backend's state; its node gone reads as Closed. A read that failed
 * otherwise (xenstored slow: one console line was printed) keeps the last
 * value: a guess must not end a link nor declare it lost. */
static int read_be_state(struct fw_rpmsg_dev *d)
{
	char p[112];
	unsigned long v;
	int rc;

	if (d->be_dir[0] == '\0')
		return 0;
	fw_snprintf(p, sizeof(p), "%s/state", d->be_dir);
	rc = fw_xs_read_uint(0, p, &v);
	if (rc == 0)
		d->be_state = v > ST_CLOSED ? ST_CLOSED : (int)v;
	else if (rc == -FW_ENOENT)
		d->be_state = ST_CLOSED;
	return d->be_state;
}

/* Follow fe_dir/backend, watching the backend's state; false while the
 * frontend dir names no backend. */
static bool follow_backend(struct fw_rpmsg_dev *d)
{
	char p[96], be[96];

	fw_snprintf(p, sizeof(p), "%s/backend", d->fe_dir);
	if (fw_xs_read(0, p, be, sizeof(be), NULL) < 0)
		return false;
	if (strcmp(be, d->be_dir) != 0) {
		char w[112];

		memcpy(d->be_dir, be, sizeof(be));
		fw_snprintf(w, sizeof(w), "%s/state", d->be_dir);
		(void)fw_xs_watch(w, "be");
	}
	return true;
}

/* Whether the backend sits in InitWait with the three link parameters
 * written. */
static bool offered(struct fw_rpmsg_dev *d, unsigned long *bs, unsigned long *bc,
		    unsigned long *mp)
{
	return follow_backend(d) && read_be_state(d) == ST_INITWAIT &&
	       fe_read_uint(d, "buf-size", bs) == 0 &&
	       fe_read_uint(d, "buf-count", bc) == 0 &&
	       fe_read_uint(d, "max-pages", mp) == 0;
}

/* Wait for the offer. A frontend state of Initialised or Connected left
 * by an earlier boot of this domain is moved to Closed first, so that the
 * backend releases that region and offers the device again (as xen_fe.c). */
static int wait_offer(struct fw_rpmsg_dev *d, uint64_t deadline, unsigned long *bs,
		      unsigned long *bc, unsigned long *mp)
{
	unsigned long st;

	if (fe_read_uint(d, "state", &st) == 0 &&
	    (st == ST_INITIALISED || st == ST_CONNECTED)) {
		char p[96];

		fw_snprintf(p, sizeof(p), "%s/state", d->fe_dir);
		(void)fw_xs_printf(0, p, "%d", ST_CLOSED);
	}
	for (;;) {
		(void)fw_xs_take_events();   /* before looking: no lost wake-up */
		if (offered(d, bs, bc, mp))
			return 0;
		if (xs_nap(deadline) == 0)
			return -FW_ETIMEDOUT;
	}
}

static int grant_region(struct fw_rpmsg_dev *d)
{
	for (uint32_t i = 0; i < d->npages; i++) {
		int rc = fw_gnt_grant(region + (size_t)i * PAGE, d->be_domid, false,
				      &d->refs[i]);

		if (rc < 0) {
			fw_printf("xenamp-fw: rpmsg: cannot grant page %u of %u to domain %u: %d\n",
				  i, d->npages, d->be_domid, rc);
			return rc;
		}
	}
	return 0;
}

/* Every ring-ref<i>, num-pages, event-channel and state Initialised in
 * one transaction: the backend sees all or nothing. */
static int write_region_keys(struct fw_rpmsg_dev *d)
{
	char p[96];
	int rc = 0;

	for (int attempt = 0; attempt < 20; attempt++) {
		uint32_t tx;

		rc = fw_xs_transaction_start(&tx);
		if (rc < 0)
			return rc;
		for (uint32_t i = 0; i < d->npages && rc == 0; i++) {
			fw_snprintf(p, sizeof(p), "%s/ring-ref%u", d->fe_dir, i);
			rc = fw_xs_printf(tx, p, "%u", d->refs[i]);
		}
		fw_snprintf(p, sizeof(p), "%s/num-pages", d->fe_dir);
		if (rc == 0)
			rc = fw_xs_printf(tx, p, "%u", d->npages);
		fw_snprintf(p, sizeof(p), "%s/event-channel", d->fe_dir);
		if (rc == 0)
			rc = fw_xs_printf(tx, p, "%u", d->port);
		fw_snprintf(p, sizeof(p), "%s/state", d->fe_dir);
		if (rc == 0)
			rc = fw_xs_printf(tx, p, "%d", ST_INITIALISED);
		if (rc < 0) {
			(void)fw_xs_transaction_end(tx, false);
			return rc;
		}
		rc = fw_xs_transaction_end(tx, true);
		if (rc != -FW_EAGAIN)
			return rc;
	}
	return rc;
}

static int wait_connected(struct fw_rpmsg_dev *d, uint64_t deadline)
{
	char p[96];

	for (;;) {
		(void)fw_xs_take_events();
		int st = read_be_state(d);

		if (st == ST_CONNECTED)
			break;
		if (st >= ST_CLOSING) {
			fw_printf("xenamp-fw: rpmsg: the backend moved device %u to state %d instead of Connected\n",
				  d->devno, st);
			return -FW_EIO;
		}
		if (xs_nap(deadline) == 0)
			return -FW_ETIMEDOUT;
	}
	fw_snprintf(p, sizeof(p), "%s/state", d->fe_dir);
	return fw_xs_printf(0, p, "%d", ST_CONNECTED);
}

/* ------------------------------------------------------------------ */
/* Reconnection after a backend restart (docs/protocol.md, "Backend     */
/* restart"; the decision is fw_reconnect.c's)                          */
/*
 * Invariants while c.lost:
 *   - the region stays as it is and stays granted (same refs) to the
 *     backend domain: the rings, every buffer and every message in flight
 *     survive; the next backend resumes each ring at its used index and
 *     sequence numbers drop what it relays twice;
 *   - nothing kicks or consumes the port (the core skips both while
 *     lost); senders may fill free TX buffers, RX delivers what is there;
 *   - d->port is the port of our latest offer; d->offered says whether
 *     one was written since the loss (a SIGKILLed backend leaves its
 *     Connected state and our previous port behind, which must not read
 *     as an answer);
 *   - it ends connected (lost false) or dead (mark_dead), never silently:
 *     after FW_RPMSG_RECONNECT_MS without a backend the link dies. */

/* The link is gone for good: one console line, and every call fails. */
static void give_up_locked(struct fw_rpmsg_dev *d, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void give_up_locked(struct fw_rpmsg_dev *d, const char *fmt, ...)
{
	char why[XA_FE_ERRLEN];
	va_list ap;

	va_start(ap, fmt);
	(void)fw_vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	fw_printf("xenamp-fw: rpmsg: device %u: %s\n", d->devno, why);
	d->c.lost = false;
	xa_fe_mark_dead_locked(&d->c, "%s", why);
}

/* The backend left Connected: keep everything, wait for the next offer. */
static void lost_locked(struct fw_rpmsg_dev *d)
{
	struct xa_fe_core *c = &d->c;

	assert_locked(c);
	if (c->dead || c->lost)
		return;
	fw_printf("xenamp-fw: rpmsg: device %u: the backend left Connected (state %d); waiting up to %u ms for xenamp-backend to offer it again\n",
		  d->devno, d->be_state, FW_RPMSG_RECONNECT_MS);
	c->lost = true;
	d->offered = false;
	d->lost_deadline = deadline_ms(FW_RPMSG_RECONNECT_MS);
	d->next_report = deadline_ms(FW_RPMSG_REPORT_MS);
	/* The next backend may acknowledge nothing: flags until it says. */
	xa_fe_region_features_reset(&c->reg);
}

/* The `error` node of our frontend dir, if any: its code and text. */
static bool read_refusal(struct fw_rpmsg_dev *d, int *code, char *text, size_t size)
{
	char p[96];
	int rc;

	fw_snprintf(p, sizeof(p), "%s/error", d->fe_dir);
	rc = fw_xs_read(0, p, text, size, NULL);
	if (rc == -FW_ERANGE)   /* present, but longer than any we write */
		fw_snprintf(text, size, "(an error node too long to show)");
	*code = fw_rc_refusal(rc == 0 ? text : "");
	return rc == 0 || rc == -FW_ERANGE;
}

/* What xenstore shows now (fw_reconnect.h); the refusal text in text. */
static void observe(struct fw_rpmsg_dev *d, struct fw_rc_view *v, char *text,
		    size_t size)
{
	unsigned long st;

	memset(v, 0, sizeof(*v));
	/* Only what was read now: a kept value could pass for an answer. */
	d->be_state = FW_RC_ABSENT;
	v->be_state = follow_backend(d) ? read_be_state(d) : FW_RC_ABSENT;
	if (fe_read_uint(d, "state", &st) == 0)
		v->fe_state = st > ST_CLOSED ? ST_CLOSED : (int)st;
	v->has_port = fe_read_uint(d, "event-channel", &v->fe_port) == 0;
	v->has_error = read_refusal(d, &v->refusal, text, size);
	v->has_params = fe_read_uint(d, "buf-size", &v->buf_size) == 0 &&
			fe_read_uint(d, "buf-count", &v->buf_count) == 0 &&
			fe_read_uint(d, "max-pages", &v->max_pages) == 0;
}

/* The same ring-refs with a fresh port. The new port is allocated before
 * the old one is closed, so that the backend can never mistake one for
 * the other; the old one's remote end died with the old backend. A failed
 * write is retried at the next look (d->offered stays false). */
static void offer_again_locked(struct fw_rpmsg_dev *d)
{
	uint32_t old = d->port;
	int rc = fw_evtchn_alloc_unbound(d->be_domid, &d->port);

	if (rc < 0) {
		give_up_locked(d, "cannot allocate an event channel for domain %u: %d",
			       d->be_domid, rc);
		return;
	}
	(void)fw_evtchn_close(old);
	rc = write_region_keys(d);
	if (rc < 0)
		fw_printf("xenamp-fw: rpmsg: device %u: offering the region again failed: %d (retrying)\n",
			  d->devno, rc);
	d->offered = rc == 0;
}

/* The backend took our offer: Connected, and the rings go on. */
static void resumed_locked(struct fw_rpmsg_dev *d)
{
	struct xa_fe_core *c = &d->c;
	char p[96];
	uint32_t features;

	fw_snprintf(p, sizeof(p), "%s/state", d->fe_dir);
	(void)fw_xs_printf(0, p, "%d", ST_CONNECTED);
	c->lost = false;
	d->offered = false;
	d->reconnects++;
	features = xa_fe_region_features_apply(&c->reg);
	fw_printf("xenamp-fw: rpmsg: device %u reconnected to domain %u (reconnection %u, port %u, event indices %s)\n",
		  d->devno, d->be_domid, d->reconnects, d->port,
		  features & (1u << XA_VIRTIO_RING_F_EVENT_IDX) ? "on" : "off");
	d->reannounce = true;   /* by the poll loop: it may wait for TX buffers */
	xa_fe_kick_locked(c);   /* what was queued meanwhile */
}

/* One look at xenstore, and what it calls for. */
static void reconnect_pass_locked(struct fw_rpmsg_dev *d)
{
	struct xa_fe_region *r = &d->c.reg;
	struct fw_rc_link l = { r->buf_size, r->buf_count, d->npages, d->port, d->offered };
	struct fw_rc_view v;
	char text[160];

	observe(d, &v, text, sizeof(text));
	switch (fw_rc_decide(&v, &l)) {
	case FW_RC_WAIT:
		break;
	case FW_RC_OFFER:
		offer_again_locked(d);
		break;
	case FW_RC_CONNECTED:
		resumed_locked(d);
		break;
	case FW_RC_REFUSED:
		give_up_locked(d, "xenamp-backend refused this end: %s", text);
		break;
	case FW_RC_PARAMS:
		give_up_locked(d, "the restarted xenamp-backend has different link parameters (buf-size %lu, buf-count %lu, max-pages %lu; this end has %u, %u and a region of %u pages)",
			       v.buf_size, v.buf_count, v.max_pages, r->buf_size,
			       r->buf_count, d->npages);
		break;
	}
}

/* A deadline passed while lost: one line per FW_RPMSG_REPORT_MS, and the
 * end of the link after FW_RPMSG_RECONNECT_MS. */
static void lost_timeouts_locked(struct fw_rpmsg_dev *d, uint64_t now)
{
	if (now >= d->lost_deadline) {
		give_up_locked(d, "no xenamp-backend offered the device again within %u ms",
			       FW_RPMSG_RECONNECT_MS);
	} else if (now >= d->next_report) {
		fw_printf("xenamp-fw: rpmsg: device %u: still waiting for xenamp-backend (backend state %d, %s; %llu ms left)\n",
			  d->devno, d->be_state, d->offered ? "our offer stands" : "no offer yet",
			  (unsigned long long)((d->lost_deadline - now) / 1000000u));
		d->next_report = now + (uint64_t)FW_RPMSG_REPORT_MS * 1000000u;
	}
}

/* Reconnect until connected, given up, or `until` (0: no limit but the
 * window); at least one look. Sleeps on xenstore with the lock held: there
 * is one thread, and nothing else may touch the device meanwhile. True
 * when the link is up again. */
static bool reconnect_locked(struct fw_rpmsg_dev *d, uint64_t until)
{
	struct xa_fe_core *c = &d->c;

	assert_locked(c);
	for (;;) {
		uint64_t now, nap;

		(void)fw_xs_take_events();   /* before looking: no lost wake-up */
		reconnect_pass_locked(d);
		if (!c->lost)
			return !c->dead;
		now = fw_now_ns();
		lost_timeouts_locked(d, now);
		if (!c->lost || (until != 0 && now >= until))
			return false;
		nap = d->next_report < d->lost_deadline ? d->next_report : d->lost_deadline;
		(void)xs_nap(until != 0 && until < nap ? until : nap);
	}
}

/* ------------------------------------------------------------------ */
/* The environment of the core (fe_env.h): one thread, no interrupts.  */

/* The lock is bookkeeping: nothing can run concurrently, but the core's
 * _locked / _unlocking discipline is still checked (a fault is a bug of
 * the core or of this file, so it is fatal). */
static void env_lock(struct xa_fe_core *c)
{
	struct fw_rpmsg_dev *d = fw_dev(c);

	if (d->locked)
		fw_fatal("xenamp-fw: rpmsg: device lock taken twice");
	d->locked = true;
}

static void env_unlock(struct xa_fe_core *c)
{
	fw_dev(c)->locked = false;
}

static void env_assert_locked(struct xa_fe_core *c)
{
	if (!fw_dev(c)->locked)
		fw_fatal("xenamp-fw: rpmsg: a _locked function ran without the lock");
}

/* Nobody else can broadcast in one thread: the core only waits here for
 * another thread's work, which cannot exist, or (a flush) for the end of
 * a reconnection, which this thread then runs. Sleep on the device's port
 * (bounded) so that a wait that does happen still makes progress. */
static bool env_cond_wait(struct xa_fe_core *c, uint64_t deadline_ns)
{
	uint64_t step = fw_now_ns() + 100000000ull;

	if (c->lost) {
		(void)reconnect_locked(fw_dev(c), deadline_ns != 0 && deadline_ns < step ?
				       deadline_ns : step);
		return deadline_ns == 0 || fw_now_ns() < deadline_ns;
	}
	xa_fe_env_unlock(c);
	(void)fw_xs_wait(deadline_ns != 0 && deadline_ns < step ? deadline_ns : step,
			 fw_dev(c)->port);
	xa_fe_env_lock(c);
	return deadline_ns == 0 || fw_now_ns() < deadline_ns;
}

static void env_broadcast(struct xa_fe_core *c)
{
	(void)c;
}

static const void *env_self(void)
{
	return &dev;
}

static uint64_t env_now_ns(void)
{
	return fw_now_ns();
}

static void env_notify_locked(struct xa_fe_core *c)
{
	(void)fw_evtchn_notify(fw_dev(c)->port);
}

/* Take the port's notification; after a xenstore watch event, look at
 * the backend's state: anything but Connected (a restarted backend
 * rewrote it, a stopped one removed it) loses the link until a backend
 * offers the device again. */
static void env_consume_locked(struct xa_fe_core *c)
{
	struct fw_rpmsg_dev *d = fw_dev(c);

	if (fw_evtchn_take(d->port))
		c->stats.calls++;
	if (fw_xs_take_events() > 0 && read_be_state(d) != ST_CONNECTED)
		lost_locked(d);
}

/* The one thread is the dispatcher, and nobody else sleeps. */
static void env_rx_work_locked(struct xa_fe_core *c)
{
	(void)c;
}

static void env_wake_tx_poller_locked(struct xa_fe_core *c)
{
	(void)c;
}

static void env_wake_all_locked(struct xa_fe_core *c)
{
	(void)c;
}

/* While the link is lost, the wait is the reconnection (bounded the
 * same): a sender waiting for a TX buffer gets it back from the next
 * backend. */
static void env_wait_unlocking(struct xa_fe_core *c, bool tx, int timeout_ms)
{
	(void)tx;
	if (c->lost) {
		(void)reconnect_locked(fw_dev(c), deadline_ms(timeout_ms > 0 ?
							     (uint32_t)timeout_ms : 0));
		return;
	}
	xa_fe_env_unlock(c);
	(void)fw_xs_wait(deadline_ms(timeout_ms > 0 ? (uint32_t)timeout_ms : 0),
			 fw_dev(c)->port);
	xa_fe_env_lock(c);
}

static int env_vformat(char *buf, size_t size, const char *fmt, va_list ap)
{
	return fw_vsnprintf(buf, size, fmt, ap);
}

static void env_error(struct xa_fe_core *c, const char *line)
{
	(void)c;
	(void)fw_snprintf(last_error, sizeof(last_error), "%s", line);
}

const char *fw_rpmsg_strerror_last(void)
{
	return last_error;
}

/* Debug lines are off in the firmware (debug NULL): the console is for
 * the application and for failures. */
static const struct xa_fe_env_ops fw_env = {
	.lock = env_lock,
	.unlock = env_unlock,
	.assert_locked = env_assert_locked,
	.cond_wait = env_cond_wait,
	.broadcast = env_broadcast,
	.self = env_self,
	.now_ns = env_now_ns,
	.notify_locked = env_notify_locked,
	.consume_locked = env_consume_locked,
	.rx_work_locked = env_rx_work_locked,
	.wake_tx_poller_locked = env_wake_tx_poller_locked,
	.wake_all_locked = env_wake_all_locked,
	.wait_unlocking = env_wait_unlocking,
	.vformat = env_vformat,
	.error = env_error,
	.debug = NULL,
};

/* ------------------------------------------------------------------ */
/* Open and poll                                                       */

/* The core's layout for the backend's parameters, within this build's
 * static storage. */
static int layout(struct fw_rpmsg_dev *d, unsigned long bs, unsigned long bc,
		  unsigned long mp)
{
	struct xa_fe_region_storage st = {
		d->rx_slots, d->tx_slots, d->rx_refs, d->tx_state, d->tx_free,
	};
	struct xa_fe_region *r = &d->c.reg;
	char err[XA_FE_ERRLEN];

	if (bc > FW_RPMSG_MAX_BUFS || bs > 0xffffffffUL || mp == 0) {
		fw_printf("xenamp-fw: rpmsg: link parameters buf-size %lu buf-count %lu max-pages %lu do not fit this firmware (at most %u buffers)\n",
			  bs, bc, mp, FW_RPMSG_MAX_BUFS);
		return -FW_EINVAL;
	}
	if (xa_fe_region_layout(&d->c, (uint32_t)bs, (uint32_t)bc,
				mp > 0xffffffffUL ? 0xffffffffu : (uint32_t)mp,
				err, sizeof(err)) < 0) {
		fw_printf("xenamp-fw: rpmsg: device %u: %s\n", d->devno, err);
		return -FW_EINVAL;
	}
	d->npages = (uint32_t)(r->size / PAGE);
	if (d->npages > FW_RPMSG_MAX_PAGES) {
		fw_printf("xenamp-fw: rpmsg: the region needs %u pages; this firmware has %u\n",
			  d->npages, FW_RPMSG_MAX_PAGES);
		return -FW_E2BIG;
	}
	xa_fe_region_attach(r, &st);
	memset(region, 0, r->size);
	return xa_fe_region_init(r, region, true) == 0 ? 0 : -FW_EINVAL;
}

/* The first sequence number: anything unrelated to the previous boot's
 * (rpmsg_virtio.h); Xen's clock in ns since the host booted will do. */
static uint32_t seq_seed(void)
{
	uint64_t t = fw_now_ns();

	return (uint32_t)(t ^ (t >> 32)) * 2654435761u;
}

/* Share the region and wait for Connected. */
static int share(struct fw_rpmsg_dev *d, uint64_t deadline, uint32_t timeout_ms)
{
	int rc = grant_region(d);

	if (rc == 0)
		rc = fw_evtchn_alloc_unbound(d->be_domid, &d->port);
	if (rc == 0)
		rc = write_region_keys(d);
	if (rc < 0) {
		fw_printf("xenamp-fw: rpmsg: sharing the region of device %u failed: %d\n",
			  d->devno, rc);
		return rc;
	}
	rc = wait_connected(d, deadline);
	if (rc == -FW_ETIMEDOUT)
		fw_printf("xenamp-fw: rpmsg: xenamp-backend did not accept the region of device %u in %u ms\n",
			  d->devno, timeout_ms);
	return rc;
}

int fw_rpmsg_open(unsigned devno, uint32_t timeout_ms, struct rpmsg_device **rdev)
{
	struct fw_rpmsg_dev *d = &dev;
	uint64_t deadline = deadline_ms(timeout_ms);
	unsigned long domid, bs, bc, mp, be;
	uint32_t features;
	int rc;

	if (d->opened)
		return -FW_EEXIST;
	memset(d, 0, sizeof(*d));
	d->devno = devno;
	d->c.env = &fw_env;
	rc = fw_xs_read_uint(0, "domid", &domid);
	if (rc < 0)
		return rc;
	d->domid = (unsigned)domid;
	fw_snprintf(d->fe_dir, sizeof(d->fe_dir), "/local/domain/%u/device/rpmsg/%u",
		    d->domid, devno);
	(void)fw_xs_watch(d->fe_dir, "fe");
	if (wait_offer(d, deadline, &bs, &bc, &mp) < 0) {
		fw_printf("xenamp-fw: rpmsg: xenamp-backend did not offer device %u in %u ms (no InitWait at %s)\n",
			  devno, timeout_ms, d->fe_dir);
		return -FW_ETIMEDOUT;
	}
	if (fe_read_uint(d, "backend-id", &be) < 0 || be > 0x7fef)
		return -FW_EPROTO;
	d->be_domid = (uint16_t)be;
	xa_fe_env_lock(&d->c);
	d->c.tx_seq = seq_seed();
	xa_fe_epts_init_locked(&d->c);
	xa_fe_env_unlock(&d->c);
	rc = layout(d, bs, bc, mp);
	if (rc == 0)
		rc = share(d, deadline, timeout_ms);
	if (rc < 0)
		return rc;
	/* Connected: the backend acknowledged what it supports. */
	features = xa_fe_region_features_apply(&d->c.reg);
	d->opened = true;
	fw_printf("xenamp-fw: rpmsg: device %u connected to domain %u (%u pages, %u buffers of %u bytes each way, port %u, event indices %s)\n",
		  devno, d->be_domid, d->npages, d->c.reg.buf_count, d->c.reg.buf_size,
		  d->port, features & (1u << XA_VIRTIO_RING_F_EVENT_IDX) ? "on" : "off");
	*rdev = &d->c.rdev;
	return 0;
}

/* Idle: look at the backend's state without a watch event too, in case
 * one was missed (xenstored may drop them). */
static void idle_check_locked(struct fw_rpmsg_dev *d)
{
	assert_locked(&d->c);
	if (!d->c.dead && !d->c.lost && read_be_state(d) != ST_CONNECTED)
		lost_locked(d);
}

/* As libxenamp's dispatcher: deliver what is in the RX ring; when it is
 * empty, consume the notification, enable RX interrupts, look once more,
 * then sleep. A lost link is reconnected here (within the poll's
 * timeout), and the endpoints announced again once it is back. */
static int poll_locked_unlocking(struct fw_rpmsg_dev *d, uint64_t deadline)
{
	struct xa_fe_core *c = &d->c;

	for (;;) {
		int n;

		if (d->reannounce && !c->lost && !c->dead) {
			d->reannounce = false;
			xa_fe_epts_reannounce_unlocking(c);
		}
		n = xa_fe_rx_deliver_unlocking(c, (int)c->reg.buf_count);
		if (n > 0)
			return n;
		if (c->lost) {
			if (!reconnect_locked(d, deadline))
				return c->dead ? RPMSG_ERR_DEV_STATE : 0;
			continue;   /* announce, and look at the rings again */
		}
		xa_fe_pump_locked(c);
		if (c->dead)
			return RPMSG_ERR_DEV_STATE;
		if (xa_vqdrv_enable_notify(&c->reg.rxq))
			continue;
		if (xa_fe_ms_until(c, deadline) == 0) {
			idle_check_locked(d);
			return c->dead ? RPMSG_ERR_DEV_STATE : 0;
		}
		c->env->wait_unlocking(c, false, xa_fe_ms_until(c, deadline));
	}
}

int fw_rpmsg_poll(struct rpmsg_device *rdev, uint32_t timeout_ms)
{
	struct xa_fe_core *c = xa_fe_dev(rdev);
	int n;

	if (c == NULL || c != &dev.c || !dev.opened)
		return RPMSG_ERR_PARAM;
	xa_fe_env_lock(c);
	n = poll_locked_unlocking(&dev, deadline_ms(timeout_ms));
	if (n == RPMSG_ERR_DEV_STATE)
		env_error(c, c->dead_why);
	xa_fe_env_unlock(c);
	return n;
}

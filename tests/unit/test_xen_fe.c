/* The Xen frontend's reconnection (src/frontend/transport/xen_fe.c)
 * against a fake xenstore, event channel device and grant sharing device
 * defined here: the test links xen_fe.c with these instead of Xen's
 * libraries, and plays the backend itself through the store.
 *
 * What is tested: an attempt of reconnect() that runs out of time after it
 * offered the region (ring-refs, event-channel, state Initialised) must
 * leave that offer standing. The backend may be taking it at that very
 * moment (it has read the port and binds it); a second offer with a new
 * port would close the port that backend bound, and both sides would be
 * Connected with no notification crossing: the partition's senders time
 * out (RPMSG_ERR_NO_BUFF), which is how tests/xen's kill stream failed. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <xenevtchn.h>
#include <xengnttab.h>
#include <xenstore.h>

#include "common/state.h"
#include "frontend/transport/fe_transport.h"

#define FE "/local/domain/5/device/rpmsg/0"
#define BE "/local/domain/0/backend/rpmsg/5/0"

/* ------------------------------------------------------------------ */
/* The fake xenstore: a flat table of paths, watches by prefix          */

#define NODES 256
static struct { char path[128]; char val[64]; } store[NODES];
static unsigned nstore;
static int watch_pipe[2] = { -1, -1 };
static char watched[4][128];
static unsigned nwatched;

/* The backend's side of the play. */
static unsigned offers;          /* frontend states Initialised written */
static long offered_port = -1;   /* event-channel read at the first offer */
static int be_reads_to_connect;  /* > 0: Connected after that many reads */
static int be_reads_to_restart;  /* > 0: a new backend after that many */

static void backend_offers(void);

static int find(const char *path)
{
	for (unsigned i = 0; i < nstore; i++)
		if (strcmp(store[i].path, path) == 0)
			return (int)i;
	return -1;
}

static const char *get(const char *path)
{
	int i = find(path);

	return i < 0 ? NULL : store[i].val;
}

static void fire(const char *path)
{
	for (unsigned i = 0; i < nwatched; i++)
		if (strncmp(path, watched[i], strlen(watched[i])) == 0)
			(void)!write(watch_pipe[1], "w", 1);
}

static void put(const char *path, const char *val)
{
	int i = find(path);

	if (i < 0) {
		ck_assert_uint_lt(nstore, NODES);
		i = (int)nstore++;
		snprintf(store[i].path, sizeof(store[i].path), "%s", path);
	}
	snprintf(store[i].val, sizeof(store[i].val), "%s", val);
	fire(path);
}

struct xs_handle { int unused; };
static struct xs_handle the_xs;

struct xs_handle *xs_open(unsigned long flags)
{
	(void)flags;
	return &the_xs;
}

void xs_close(struct xs_handle *h)
{
	(void)h;
}

void *xs_read(struct xs_handle *h, xs_transaction_t t, const char *path,
	      unsigned int *len)
{
	const char *v;

	(void)h;
	(void)t;
	if (strcmp(path, "domid") == 0)
		v = "5";
	else {
		if (strcmp(path, BE "/state") == 0 && be_reads_to_connect > 0 &&
		    --be_reads_to_connect == 0)
			put(BE "/state", "4");
		if (strcmp(path, BE "/state") == 0 && be_reads_to_restart > 0 &&
		    --be_reads_to_restart == 0)
			backend_offers();
		v = get(path);
	}
	if (v == NULL) {
		errno = ENOENT;
		return NULL;
	}
	if (len != NULL)
		*len = (unsigned)strlen(v);
	return strdup(v);
}

bool xs_write(struct xs_handle *h, xs_transaction_t t, const char *path,
	      const void *data, unsigned int len)
{
	char val[64];

	(void)h;
	(void)t;
	snprintf(val, sizeof(val), "%.*s", (int)len, (const char *)data);
	put(path, val);
	/* The backend reads the port when it sees the offer (check_frontends,
	 * take_region in xen_be.c); the keys come in one transaction, the
	 * state last. */
	if (strcmp(path, FE "/state") == 0 && strcmp(val, "3") == 0 &&
	    offers++ == 0)
		offered_port = strtol(get(FE "/event-channel"), NULL, 10);
	return true;
}

bool xs_watch(struct xs_handle *h, const char *path, const char *token)
{
	(void)h;
	(void)token;
	ck_assert_uint_lt(nwatched, 4);
	snprintf(watched[nwatched++], sizeof(watched[0]), "%s", path);
	(void)!write(watch_pipe[1], "w", 1);   /* a new watch fires once */
	return true;
}

bool xs_unwatch(struct xs_handle *h, const char *path, const char *token)
{
	(void)h;
	(void)path;
	(void)token;
	return true;
}

int xs_fileno(struct xs_handle *h)
{
	(void)h;
	return watch_pipe[0];
}

char **xs_check_watch(struct xs_handle *h)
{
	char c;
	char **w;

	(void)h;
	if (read(watch_pipe[0], &c, 1) != 1)
		return NULL;
	w = calloc(2, sizeof(*w));   /* callers only free() it */
	ck_assert_ptr_nonnull(w);
	return w;
}

xs_transaction_t xs_transaction_start(struct xs_handle *h)
{
	(void)h;
	return 1;
}

bool xs_transaction_end(struct xs_handle *h, xs_transaction_t t, bool abort)
{
	(void)h;
	(void)t;
	(void)abort;
	return true;
}

/* ------------------------------------------------------------------ */
/* The fake event channels: Xen hands out the lowest free port          */

struct xenevtchn_handle { int fd; };
static struct xenevtchn_handle the_xce;
static bool port_open[64];
static long be_bound = -1;       /* the port the backend bound, -1 */
static bool be_channel_alive;    /* that channel still joins both ends */
static long last_notified = -1;

xenevtchn_handle *xenevtchn_open(struct xentoollog_logger *l, unsigned f)
{
	(void)l;
	(void)f;
	the_xce.fd = eventfd(0, EFD_NONBLOCK);
	return &the_xce;
}

int xenevtchn_close(xenevtchn_handle *xce)
{
	close(xce->fd);
	return 0;
}

int xenevtchn_fd(xenevtchn_handle *xce)
{
	return xce->fd;
}

int xenevtchn_notify(xenevtchn_handle *xce, evtchn_port_t port)
{
	(void)xce;
	last_notified = port;
	return 0;
}

xenevtchn_port_or_error_t xenevtchn_bind_unbound_port(xenevtchn_handle *xce,
						      uint32_t domid)
{
	(void)xce;
	(void)domid;
	for (int p = 1; p < 64; p++)
		if (!port_open[p]) {
			port_open[p] = true;
			return p;
		}
	errno = ENOSPC;
	return -1;
}

int xenevtchn_unbind(xenevtchn_handle *xce, evtchn_port_t port)
{
	(void)xce;
	ck_assert_uint_lt(port, 64);
	port_open[port] = false;
	if ((long)port == be_bound)
		be_channel_alive = false;   /* Xen closes the channel */
	return 0;
}

xenevtchn_port_or_error_t xenevtchn_pending(xenevtchn_handle *xce)
{
	(void)xce;
	return -1;
}

int xenevtchn_unmask(xenevtchn_handle *xce, evtchn_port_t port)
{
	(void)xce;
	(void)port;
	return 0;
}

/* The backend binds the port it read from the first offer. */
static void backend_binds(void)
{
	ck_assert_int_ge(offered_port, 1);
	ck_assert(port_open[offered_port]);
	be_bound = offered_port;
	be_channel_alive = true;
}

/* ------------------------------------------------------------------ */
/* The fake grant sharing                                               */

struct xengntdev_handle { int unused; };
static struct xengntdev_handle the_xgs;

xengntshr_handle *xengntshr_open(struct xentoollog_logger *l, unsigned f)
{
	(void)l;
	(void)f;
	return &the_xgs;
}

int xengntshr_close(xengntshr_handle *xgs)
{
	(void)xgs;
	return 0;
}

void *xengntshr_share_pages(xengntshr_handle *xgs, uint32_t domid, int count,
			    uint32_t *refs, int writable)
{
	(void)xgs;
	(void)domid;
	(void)writable;
	for (int i = 0; i < count; i++)
		refs[i] = 100u + (uint32_t)i;
	return calloc((size_t)count, 4096);
}

int xengntshr_unshare(xengntshr_handle *xgs, void *start, uint32_t count)
{
	(void)xgs;
	(void)count;
	free(start);
	return 0;
}

/* ------------------------------------------------------------------ */
/* The play                                                             */

static unsigned before_offers;

static void count_offer(void *ctx)
{
	(void)ctx;
	before_offers++;
}

/* A backend (re)writes the device in state Initialising, then publishes
 * the parameters and reaches InitWait (xen_be.c: write_initial, accept). */
static void backend_offers(void)
{
	put(FE "/state", "1");
	put(FE "/backend", BE);
	put(FE "/backend-id", "0");
	put(FE "/buf-size", "512");
	put(FE "/buf-count", "8");
	put(FE "/max-pages", "16");
	put(BE "/state", "1");
	put(BE "/state", "2");
	offers = 0;
	offered_port = -1;
	be_bound = -1;
	be_channel_alive = false;
}

static const struct xa_link_params want = { 512, 8, 16 };

/* A frontend Connected to a first backend, which then restarts: the new
 * one offers the device and the frontend sees the link lost. */
static struct xa_fe_transport *connected_then_backend_restarts(void)
{
	struct xa_fe_transport *t;
	struct xa_link_params p;
	char err[256];
	void *region;
	unsigned ev;

	nstore = nwatched = 0;
	memset(port_open, 0, sizeof(port_open));
	before_offers = 0;
	last_notified = -1;
	be_reads_to_connect = 0;
	if (watch_pipe[0] < 0)
		ck_assert_int_eq(pipe2(watch_pipe, O_NONBLOCK), 0);
	while (read(watch_pipe[0], err, sizeof(err)) > 0)
		;
	backend_offers();
	ck_assert_int_eq(xa_xen_fe_new(&t, err, sizeof(err)), 0);
	t->before_offer = count_offer;
	ck_assert_int_eq(t->ops->connect(t, "fw", 0, &p, 1000, err, sizeof(err)), 0);
	ck_assert_uint_eq(p.buf_count, 8);
	ck_assert_int_eq(t->ops->alloc_region(t, 2 * 4096, &region, err, sizeof(err)), 0);
	be_reads_to_connect = 2;   /* the first backend answers at once */
	ck_assert_msg(t->ops->publish(t, 1000, err, sizeof(err)) == 0, "%s", err);
	backend_binds();
	ck_assert_int_eq(t->ops->notify(t), 0);
	ck_assert_int_eq(last_notified, be_bound);

	backend_offers();   /* killed; the next one offers the device again */
	ck_assert_int_eq(t->ops->consume(t, &ev), 0);
	ck_assert(ev & XA_FE_EV_STATE);
	ck_assert_int_eq(t->ops->state(t), XA_STATE_CLOSED);
	return t;
}

/* The first attempt offers the region; the backend is slow and the
 * attempt runs out of time. Returns the attempt's result. */
static int first_attempt_times_out(struct xa_fe_transport *t, char *err,
				   size_t errlen)
{
	int r = t->ops->reconnect(t, 0, &want, 300, err, errlen);

	ck_assert_uint_eq(offers, 1);
	ck_assert_uint_eq(before_offers, 1);
	return r;
}

/* The backend bound the offered port and is about to say Connected when
 * the next attempt starts: that attempt must wait on the standing offer,
 * and the frontend must notify the port the backend bound. */
START_TEST(test_slow_backend_keeps_the_offered_port)
{
	struct xa_fe_transport *t = connected_then_backend_restarts();
	char err[256] = "";
	int r;

	ck_assert_int_eq(first_attempt_times_out(t, err, sizeof(err)), -ETIMEDOUT);
	backend_binds();
	be_reads_to_connect = 2;   /* Connected at its second look */
	r = t->ops->reconnect(t, 0, &want, 2000, err, sizeof(err));
	ck_assert_msg(r == 0, "second attempt: %d %s", r, err);
	ck_assert_msg(offers == 1,
		      "the region was offered %u times to one backend", offers);
	ck_assert_uint_eq(before_offers, 1);
	ck_assert_msg(be_channel_alive,
		      "the frontend closed the port %ld the backend had bound", be_bound);
	ck_assert_int_eq(t->ops->notify(t), 0);
	ck_assert_int_eq(last_notified, be_bound);
	ck_assert_str_eq(get(FE "/state"), "4");
	t->ops->close(t);
}
END_TEST

/* The backend answered (Connected) between two attempts: the next one
 * sees it at once instead of waiting for an InitWait that never comes. */
START_TEST(test_connected_between_attempts)
{
	struct xa_fe_transport *t = connected_then_backend_restarts();
	char err[256] = "";
	int r;

	ck_assert_int_eq(first_attempt_times_out(t, err, sizeof(err)), -ETIMEDOUT);
	backend_binds();
	put(BE "/state", "4");
	r = t->ops->reconnect(t, 0, &want, 300, err, sizeof(err));
	ck_assert_msg(r == 0, "second attempt: %d %s", r, err);
	ck_assert_uint_eq(offers, 1);
	ck_assert(be_channel_alive);
	ck_assert_int_eq(t->ops->notify(t), 0);
	ck_assert_int_eq(last_notified, be_bound);
	t->ops->close(t);
}
END_TEST

/* The backend that had the offer is killed before it takes it, and the
 * next one offers the device afresh while an attempt waits on the old
 * offer: that attempt returns at once (-EAGAIN, not at its deadline),
 * the next offers the region anew, and the new backend connects it. */
START_TEST(test_offer_withdrawn_by_a_new_backend)
{
	struct xa_fe_transport *t = connected_then_backend_restarts();
	char err[256] = "";
	int r;

	ck_assert_int_eq(first_attempt_times_out(t, err, sizeof(err)), -ETIMEDOUT);
	be_reads_to_restart = 1;
	r = t->ops->reconnect(t, 0, &want, 60000, err, sizeof(err));
	ck_assert_msg(r == -EAGAIN, "%d %s", r, err);
	ck_assert_uint_eq(offers, 0);
	be_reads_to_connect = 2;
	r = t->ops->reconnect(t, 0, &want, 2000, err, sizeof(err));
	ck_assert_msg(r == 0, "%d %s", r, err);
	ck_assert_uint_eq(offers, 1);
	ck_assert_uint_eq(before_offers, 2);
	backend_binds();
	ck_assert_int_eq(t->ops->notify(t), 0);
	ck_assert_int_eq(last_notified, be_bound);
	t->ops->close(t);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("xen_fe");
	TCase *tc = tcase_create("reconnect");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_slow_backend_keeps_the_offered_port);
	tcase_add_test(tc, test_connected_between_attempts);
	tcase_add_test(tc, test_offer_withdrawn_by_a_new_backend);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

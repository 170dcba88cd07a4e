/* The partition side of the transport seam: how this partition's region is
 * shared with dom0, how notifications cross, and how the control-plane
 * state moves. Two implementations: `local` (memfd + eventfds over a UNIX
 * socket, local_fe.c) and `xen` (grant tables, event channels, xenstore,
 * xen_fe.c). libxenamp only ever sees this interface; the dom0 side has its
 * own (src/backend/transport/be_transport.h).
 *
 * Every function returns 0 on success or a negative errno value; functions
 * that take (err, errlen) also leave one human line there on failure,
 * naming what failed and what to do. */
#ifndef XENAMP_FRONTEND_TRANSPORT_FE_TRANSPORT_H
#define XENAMP_FRONTEND_TRANSPORT_FE_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>

#include "common/link_params.h"
#include "common/state.h"

/* Events reported by xa_fe_ops.consume(). */
#define XA_FE_EV_NOTIFY 1u   /* the backend notified us: rings changed */
#define XA_FE_EV_STATE  2u   /* the backend's state changed (see state()) */

struct xa_fe_transport;

struct xa_fe_ops {
	const char *name;   /* "local", "xen" */

	/* Reach the backend, announce (partition, devno), and wait until it
	 * publishes the link parameters (backend InitWait). */
	int (*connect)(struct xa_fe_transport *t, const char *partition,
		       unsigned devno, struct xa_link_params *params,
		       int timeout_ms, char *err, size_t errlen);

	/* Allocate a zeroed region of size bytes (multiple of 4096) that
	 * can be shared with the backend; *region is where it is mapped. */
	int (*alloc_region)(struct xa_fe_transport *t, size_t size,
			    void **region, char *err, size_t errlen);

	/* The region is initialised: share it (frontend Initialised) and
	 * wait for the backend to validate it and reach Connected. */
	int (*publish)(struct xa_fe_transport *t, int timeout_ms,
		       char *err, size_t errlen);

	/* Notify the backend (a kick). Cheap; may be called from any thread. */
	int (*notify)(struct xa_fe_transport *t);

	/* One fd that becomes readable on any event for this end. */
	int (*event_fd)(struct xa_fe_transport *t);

	/* Consume pending events without blocking; *events gets XA_FE_EV_*. */
	int (*consume)(struct xa_fe_transport *t, unsigned *events);

	/* The backend's last known state (XA_STATE_*); Closed when the
	 * backend went away. */
	int (*state)(struct xa_fe_transport *t);

	/* After the backend went away (consume() failed, or state() says
	 * Closing/Closed): one attempt, of up to timeout_ms, to wait for a
	 * backend to offer this end again and share the SAME region (rings
	 * and buffers intact, the new backend resumes each ring at its used
	 * index). An attempt that ends before the backend answered leaves
	 * its offer standing: the next attempt waits on it rather than make
	 * another (a backend may be taking the first one that very moment).
	 * The event fd stays the same. Returns 0 once the backend is
	 * Connected again; -EPERM when the backend refused the end (no point
	 * retrying), -EPROTO when the new backend's link parameters differ
	 * from want; any other -errno (no backend yet...): retry later.
	 * NULL when the transport cannot reconnect. */
	int (*reconnect)(struct xa_fe_transport *t, unsigned devno,
			 const struct xa_link_params *want, int timeout_ms,
			 char *err, size_t errlen);

	/* Set an option before connect(); NULL when the transport has none.
	 * Unknown keys: -ENOENT. The local transport knows "socket" (path of
	 * the backend's UNIX socket; NULL value: environment / default). */
	int (*set_option)(struct xa_fe_transport *t, const char *key,
			  const char *value, char *err, size_t errlen);

	/* Walk Closing -> Closed, unshare and unmap the region, free t. */
	void (*close)(struct xa_fe_transport *t);
};

struct xa_fe_transport {
	const struct xa_fe_ops *ops;
	void *priv;
	/* Set by the library, NULL if none: reconnect() calls it (through
	 * xa_fe_before_offer, without any lock of the library held) right
	 * before it offers the region to a backend, never when it goes on
	 * waiting on an offer it made in an earlier attempt. The library
	 * forgets there what the last backend acknowledged in the region:
	 * only the backend that takes this offer may acknowledge anew, and
	 * an acknowledgement already written for a standing offer must stay. */
	void (*before_offer)(void *ctx);
	void *before_offer_ctx;
};

static inline void xa_fe_before_offer(struct xa_fe_transport *t)
{
	if (t->before_offer != NULL)
		t->before_offer(t->before_offer_ctx);
}

/* Create a frontend transport by name ("local" or "xen"). NULL name
 * means: $XENAMP_TRANSPORT, else "xen" when running in a Xen domU with
 * xenamp support built in, else "local". Returns 0 or -errno with err. */
int xa_fe_transport_new(const char *name, struct xa_fe_transport **out,
			char *err, size_t errlen);

/* The reconnect decision both transports share (reconnect.c).
 * xa_fe_reconnect_refused: the backend refused the end with refusal
 * (enum xa_refusal) and text; writes the line to err and returns -EPERM
 * when retrying is pointless, else a retryable -errno.
 * xa_fe_reconnect_params_ok: 0 when a backend offering got may take over
 * a region laid out for want, of region_pages pages; else -EPROTO and a
 * line in err. */
int xa_fe_reconnect_refused(int refusal, const char *text, char *err,
			    size_t errlen);
int xa_fe_reconnect_params_ok(const struct xa_link_params *got,
			      const struct xa_link_params *want,
			      uint32_t region_pages, char *err, size_t errlen);

/* Set a transport option through ops->set_option; -ENOENT with a line in
 * err when the transport has no such option. */
int xa_fe_transport_set_option(struct xa_fe_transport *t, const char *key,
			       const char *value, char *err, size_t errlen);

/* The local transport (memfd + eventfds over a UNIX socket). */
int xa_local_fe_new(struct xa_fe_transport **out, char *err, size_t errlen);

/* The Xen transport (built only with HAVE_XEN), and whether this looks like
 * a Xen domU with the xenbus device (for the automatic choice). */
int xa_xen_fe_new(struct xa_fe_transport **out, char *err, size_t errlen);
int xa_xen_fe_detect(void);

#endif

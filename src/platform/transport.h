/* The OS seam: how one end's region is shared, how notifications cross,
 * and how the control-plane state moves. Two implementations: `local`
 * (memfd + eventfds over a UNIX socket) and `xen` (grant tables, event
 * channels, xenstore). The frontend library and the backend daemon only
 * ever see these interfaces.
 *
 * Every function returns 0 on success or a negative errno value; functions
 * that take (err, errlen) also leave one human line there on failure,
 * naming what failed and what to do. */
#ifndef XENAMP_PLATFORM_TRANSPORT_H
#define XENAMP_PLATFORM_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>

#include "link_params.h"
#include "state.h"

/* ------------------------------------------------------------------ */
/* Frontend side: inside a partition                                   */

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
	 * index). The event fd stays the same. Returns 0 once the backend is
	 * Connected again; -EPERM when the backend refused the end (no point
	 * retrying), -EPROTO when the new backend's link parameters differ
	 * from want; any other -errno (no backend yet...): retry later.
	 * NULL when the transport cannot reconnect. */
	int (*reconnect)(struct xa_fe_transport *t, unsigned devno,
			 const struct xa_link_params *want, int timeout_ms,
			 char *err, size_t errlen);

	/* Walk Closing -> Closed, unshare and unmap the region, free t. */
	void (*close)(struct xa_fe_transport *t);
};

struct xa_fe_transport {
	const struct xa_fe_ops *ops;
	void *priv;
};

/* Create a frontend transport by name ("local" or "xen"). NULL name
 * means: $XENAMP_TRANSPORT, else "xen" when running in a Xen domU with
 * xenamp support built in, else "local". Returns 0 or -errno with err. */
int xa_fe_transport_new(const char *name, struct xa_fe_transport **out,
			char *err, size_t errlen);

#endif

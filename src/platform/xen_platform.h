/* The Xen transport (DESIGN §4): constructors and the xenstore layout both
 * sides agree on. Built only with HAVE_XEN.
 *
 * xenstore layout for end (domain D, device n), device type "rpmsg":
 *
 *   /local/domain/D/device/rpmsg/n/          frontend dir: owner dom0,
 *                                            read/write for D only
 *     backend      = /local/domain/0/backend/rpmsg/D/n     (backend writes)
 *     backend-id   = 0                                      (backend)
 *     buf-size, buf-count, max-pages = the link parameters  (backend)
 *     state        = the frontend's xenbus state (1 written by the
 *                    backend as toolstack, then 3, 4, 5, 6 by D)
 *     num-pages    = region size in 4 KiB pages             (frontend)
 *     ring-ref<i>  = grant ref of region page i, i in 0..num-pages-1,
 *                    one key per page, granted writable to backend-id
 *                    (frontend; all written in one transaction together
 *                    with event-channel and state = 3)
 *     event-channel = the frontend's unbound port for backend-id
 *
 *   /local/domain/0/backend/rpmsg/D/n/       backend dir: owner dom0,
 *                                            read-only for D
 *     frontend     = /local/domain/D/device/rpmsg/n
 *     frontend-id  = D
 *     partition    = the domain's name (the end's partition)
 *     online       = 1
 *     state        = the backend's xenbus state: 1, 2 (InitWait:
 *                    parameters published), 4 (Connected: region
 *                    validated), 5/6 on teardown
 *
 * The backend maps exactly num-pages refs (refused above max-pages) as
 * one contiguous region with xengnttab_map_domain_grant_refs and binds
 * event-channel with xenevtchn_bind_interdomain. After an orderly
 * frontend close (Closing/Closed) the backend unmaps, unbinds, resets both
 * dirs (frontend state 1, backend state InitWait, stale keys removed) and
 * offers the end again, so a later process of the same domain can open
 * the device anew. When the domain dies, both dirs are removed.
 *
 * A restarted backend offers every device anew the same way. A frontend
 * that was Connected and sees the backend state drop (or its node go)
 * reconnects: unless the new frontend dir has an `error` node or other
 * link parameters, it publishes the same ring-refs with a fresh event
 * channel and state 3, and the new backend resumes the rings where they
 * stand (docs/protocol.md, "Backend restart"). Devices an earlier
 * backend offered that no link of this one names are removed after its
 * first scan. */
#ifndef XENAMP_PLATFORM_XEN_PLATFORM_H
#define XENAMP_PLATFORM_XEN_PLATFORM_H

#include <stddef.h>

#include "be_transport.h"
#include "transport.h"

#define XA_XEN_DEVTYPE "rpmsg"

/* Frontend inside a Xen domU (xen_fe.c). */
int xa_xen_fe_new(struct xa_fe_transport **out, char *err, size_t errlen);

/* Whether this looks like a Xen domU with the xenbus device (for the
 * automatic transport choice). */
int xa_xen_fe_detect(void);

/* Backend in dom0 (xen_be.c). */
int xa_be_xen_new(const struct xa_be_opts *opts,
		  struct xa_be_transport **out, char *err, size_t errlen);

/* Whether this looks like a Xen dom0 (/proc/xen/capabilities says
 * control_d). */
int xa_xen_be_detect(void);

#endif

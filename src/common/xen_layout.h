/* The Xen transport's xenstore layout, which the partition side
 * (src/frontend/transport/xen_fe.c) and the dom0 side
 * (src/backend/transport/xen_be.c) agree on. Used only with HAVE_XEN.
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
 * first scan, and so are those of a link removed at run time
 * (link-remove, its registrant's exit), unless a connected frontend was
 * told why: its dirs stay Closed with the `error` node. The backend
 * reacts to `state` only: a frontend's other nodes are read when it
 * moves to Initialised, and how often that may map a region is limited
 * (docs/security.md). */
#ifndef XENAMP_COMMON_XEN_LAYOUT_H
#define XENAMP_COMMON_XEN_LAYOUT_H

#define XA_XEN_DEVTYPE "rpmsg"

#endif

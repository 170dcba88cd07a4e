/* The pure parts of the Xen transport's defence against a guest that
 * churns its xenstore nodes (xen_be.c; docs/security.md, "A Xen guest
 * cannot make the backend busy"). No Xen headers, no I/O: unit-tested in
 * tests/unit/test_xen_bound.c, and built whether or not Xen is.
 *
 * The bound the backend keeps, whatever a domain writes:
 *   - per xenstore watch event: a path parsed and an end looked up, no
 *     xenstore round trip (xa_xb_fe_path);
 *   - per end per event-loop turn: at most one read of its frontend state,
 *     however many events named it (the others are counted as coalesced);
 *   - per region map: one listing of the frontend dir, refused before any
 *     value is read unless ring-ref0..num-pages-1 are all there, with
 *     num-pages within max-pages and the listing within
 *     xa_xb_listing_cap() entries (xa_xb_refs_listed), then num-pages + 2
 *     reads in one transaction and one grant map;
 *   - region maps per end (domain, device): a burst of xen-region-maps,
 *     then one per xen-map-window-ms / xen-region-maps (xa_xb_rate_take);
 *     a frontend that asks more often waits, and one line per
 *     XA_XB_LOG_EVERY_MS says so. */
#ifndef XENAMP_BACKEND_TRANSPORT_XEN_BOUND_H
#define XENAMP_BACKEND_TRANSPORT_XEN_BOUND_H

#include <stdbool.h>
#include <stdint.h>

/* Defaults of the [backend] keys (conf.c has their ranges). */
#define XA_XB_MAPS_DEFAULT 10u          /* xen-region-maps */
#define XA_XB_WINDOW_MS_DEFAULT 10000u  /* xen-map-window-ms */
/* One "maps deferred" line per end at most this often. */
#define XA_XB_LOG_EVERY_MS 10000u
/* Watch events taken from xenstore per event-loop turn; the rest wait
 * for the next turn (the watch fd stays readable), so the relay round
 * runs between batches. */
#define XA_XB_WATCH_EVENTS_PER_TURN 256u

/* The end a frontend watch path names: "/local/domain/D/device/TYPE/N",
 * alone or followed by "/..." (a watch fires for the node and any node
 * below it). D and N are plain decimal (no sign, no leading zero, D below
 * 0x7ff0, N at most 0xffff). 0, or -1 when path is anything else. */
int xa_xb_fe_path(const char *path, const char *type, unsigned *domid,
		  unsigned *devno);

/* Entries a frontend dir may list when it announces npages pages:
 * ring-ref0..npages-1 plus room for the other keys of the layout
 * (common/xen_layout.h) and a few more. */
unsigned xa_xb_listing_cap(unsigned long npages);

/* Whether names[0..num) (a frontend dir's listing) holds every
 * ring-ref0..npages-1 and no more than xa_xb_listing_cap(npages)
 * entries. 0; -E2BIG (too many entries); -ENOENT with *missing the first
 * absent index (npages when it could not be told). */
int xa_xb_refs_listed(char *const *names, unsigned num, unsigned long npages,
		      unsigned long *missing);

/* A rate limit (generic cell rate): burst events at once, then one per
 * interval_ms. *tat is the state, 0 at first. Takes one event at now_ms:
 * returns 0 when it may happen now, else the milliseconds until it may
 * (the event is not taken then). */
uint64_t xa_xb_rate_take(uint64_t *tat, uint64_t now_ms, uint32_t burst,
			 uint64_t interval_ms);

#endif

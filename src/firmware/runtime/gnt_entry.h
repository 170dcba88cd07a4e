/* Grant table v1 entries and the free list of grant references, as pure
 * functions over a table the caller supplies (in the domain: the frames
 * GNTTABOP_setup_table gave us, gnttab.c; in the host's unit tests:
 * ordinary memory).
 *
 * Granting: domid and frame are written first, then flags with release
 * ordering, so Xen never sees GTF_permit_access with a stale frame.
 * Ending: refused (-FW_EAGAIN) while Xen reports the frame mapped
 * (GTF_reading/GTF_writing); otherwise flags go from their current value
 * to 0 with a compare-and-swap, so a mapping that starts in between is
 * seen and refused the same way. References 0..XEN_GNTTAB_NR_RESERVED-1
 * belong to the toolstack (console, xenstore) and are never handed out. */
#ifndef XENAMP_FW_GNT_ENTRY_H
#define XENAMP_FW_GNT_ENTRY_H

#include <stdbool.h>
#include <stdint.h>

#include "xen_abi.h"

#define FW_GNT_MAX_REFS 2048u   /* 4 table frames */

struct gnt_table {
	struct xen_grant_entry_v1 *e;
	uint32_t nr;                       /* entries in e */
	uint32_t free_head;                /* FW_GNT_MAX_REFS: none free */
	uint16_t next[FW_GNT_MAX_REFS];    /* free list links */
	bool used[FW_GNT_MAX_REFS];
};

/* Take over nr entries at e (nr <= FW_GNT_MAX_REFS); every entry above the
 * reserved ones goes on the free list. */
void gnt_table_init(struct gnt_table *t, struct xen_grant_entry_v1 *e, uint32_t nr);
/* Grant frame to domid; 0 and *ref, or -FW_ENOSPC. */
int gnt_grant(struct gnt_table *t, uint16_t domid, uint32_t frame, bool readonly,
	      uint32_t *ref);
/* End grant ref and free it: 0, -FW_EAGAIN (still mapped), -FW_EINVAL
 * (not a reference we granted). */
int gnt_end(struct gnt_table *t, uint32_t ref);

#endif

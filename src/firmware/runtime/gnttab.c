/* The grant table of a PV domain: GNTTABOP_setup_table returns the
 * machine frames of our table, which we map over pages of our image and
 * then fill as v1 entries (gnt_entry.c). Set up on first use. */
#include "fw_priv.h"
#include "gnt_entry.h"
#include "hypercall.h"

#define GNT_FRAMES (FW_GNT_MAX_REFS / (XEN_PAGE_SIZE / sizeof(struct xen_grant_entry_v1)))

static uint8_t table_pages[GNT_FRAMES][XEN_PAGE_SIZE] __attribute__((aligned(XEN_PAGE_SIZE)));
static struct gnt_table tab;
static bool ready;

static int gnt_setup(void)
{
	struct xen_gnttab_query_size q = { .dom = XEN_DOMID_SELF };
	uint64_t frames[GNT_FRAMES];
	struct xen_gnttab_setup_table st = { .dom = XEN_DOMID_SELF, .frame_list = frames };
	long rc;

	rc = hyp_grant_table_op(XEN_GNTTABOP_query_size, &q, 1);
	if (rc != 0 || q.status != 0) {
		fw_printf("xenamp-fw: grant table: query_size failed (%ld, status %d)\n",
			  rc, q.status);
		return rc ? (int)rc : -FW_EIO;
	}
	st.nr_frames = q.max_nr_frames < GNT_FRAMES ? q.max_nr_frames : GNT_FRAMES;
	if (st.nr_frames == 0)
		return -FW_ENOSPC;
	rc = hyp_grant_table_op(XEN_GNTTABOP_setup_table, &st, 1);
	if (rc != 0 || st.status != 0) {
		fw_printf("xenamp-fw: grant table: setup_table of %u frames failed (%ld, status %d)\n",
			  st.nr_frames, rc, st.status);
		return rc ? (int)rc : -FW_EIO;
	}
	for (uint32_t i = 0; i < st.nr_frames; i++) {
		rc = fw_map_mfn(table_pages[i], frames[i]);
		if (rc != 0) {
			fw_printf("xenamp-fw: grant table: cannot map frame %u (%ld)\n", i, rc);
			return (int)rc;
		}
	}
	gnt_table_init(&tab, (struct xen_grant_entry_v1 *)table_pages,
		       st.nr_frames * (XEN_PAGE_SIZE / sizeof(struct xen_grant_entry_v1)));
	ready = true;
	return 0;
}

int fw_gnt_grant(const void *va, uint16_t domid, bool readonly, uint32_t *ref)
{
	uint64_t mfn;
	int rc;

	if (((uintptr_t)va & (XEN_PAGE_SIZE - 1)) != 0)
		return -FW_EINVAL;
	if (!ready && (rc = gnt_setup()) != 0)
		return rc;
	mfn = fw_virt_to_mfn(va);
	if (mfn > 0xffffffffu)   /* a v1 entry holds 32 bits of frame */
		return -FW_ERANGE;
	return gnt_grant(&tab, domid, (uint32_t)mfn, readonly, ref);
}

int fw_gnt_end(uint32_t ref)
{
	return ready ? gnt_end(&tab, ref) : -FW_EINVAL;
}

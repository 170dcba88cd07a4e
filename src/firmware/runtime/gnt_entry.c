/* Grant table v1 entries (contract in gnt_entry.h). */
#include "fw.h"
#include "gnt_entry.h"

void gnt_table_init(struct gnt_table *t, struct xen_grant_entry_v1 *e, uint32_t nr)
{
	if (nr > FW_GNT_MAX_REFS)
		nr = FW_GNT_MAX_REFS;
	t->e = e;
	t->nr = nr;
	t->free_head = FW_GNT_MAX_REFS;
	for (uint32_t r = nr; r-- > XEN_GNTTAB_NR_RESERVED;) {
		t->next[r] = (uint16_t)t->free_head;
		t->free_head = r;
		t->used[r] = false;
	}
}

int gnt_grant(struct gnt_table *t, uint16_t domid, uint32_t frame, bool readonly,
	      uint32_t *ref)
{
	uint32_t r = t->free_head;
	uint16_t flags = XEN_GTF_permit_access | (readonly ? XEN_GTF_readonly : 0);

	if (r >= t->nr)
		return -FW_ENOSPC;
	t->free_head = t->next[r];
	t->used[r] = true;
	t->e[r].domid = domid;
	t->e[r].frame = frame;
	__atomic_store_n(&t->e[r].flags, flags, __ATOMIC_RELEASE);
	*ref = r;
	return 0;
}

int gnt_end(struct gnt_table *t, uint32_t ref)
{
	uint16_t f;

	if (ref < XEN_GNTTAB_NR_RESERVED || ref >= t->nr || !t->used[ref])
		return -FW_EINVAL;
	f = __atomic_load_n(&t->e[ref].flags, __ATOMIC_ACQUIRE);
	do {
		if (f & (XEN_GTF_reading | XEN_GTF_writing))
			return -FW_EAGAIN;
	} while (!__atomic_compare_exchange_n(&t->e[ref].flags, &f, 0, false,
					      __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE));
	t->used[ref] = false;
	t->next[ref] = (uint16_t)t->free_head;
	t->free_head = ref;
	return 0;
}

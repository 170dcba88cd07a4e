/* Virtio split ring, legacy layout: one engine, two roles.
 *
 * The ring lives in a region shared between two partitions. The *driver*
 * (libxenamp, inside a partition) owns the ring and posts buffers; the
 * *device* (xenamp-backend) consumes them. The device side treats every
 * value in the ring as hostile, in the manner of Linux's vringh:
 *   - each shared index or descriptor field is loaded exactly once into
 *     private memory, then checked, then used (no double fetch);
 *   - descriptor ids, chain links, addresses and lengths are checked
 *     against the ring size and the region bounds before use;
 *   - a fault is returned as an XA_ERR_* code; the failing call writes
 *     nothing to the region and consumes nothing, so the caller can
 *     disconnect the partition cleanly.
 * Addresses in descriptors are offsets from the start of the region
 * (docs/design.md#offsets-not-addresses), never host pointers.
 *
 * Layout (bytes from the start of the ring, num entries, align A):
 *   desc   16*num                         {u64 addr, u32 len, u16 flags, u16 next}
 *   avail  6+2*num                        {u16 flags, u16 idx, u16 ring[num], u16 used_event}
 *   used   at ALIGN(16*num + 6+2*num, A)  {u16 flags, u16 idx, {u32 id,u32 len}[num], u16 avail_event}
 *
 * Notification suppression comes in virtio's two forms, chosen per ring
 * by the caller once both sides agreed (feature VIRTIO_RING_F_EVENT_IDX,
 * bit 29, negotiated in the resource table: region.c, end_device.c):
 *   - flags (always written, so a peer without the feature still sees
 *     them): avail->flags NO_INTERRUPT from the driver, used->flags
 *     NO_NOTIFY from the device, a plain on/off;
 *   - event indices (with event_idx on): the driver writes used_event,
 *     "interrupt me when used->idx passes this entry", the device writes
 *     avail_event, "kick me when avail->idx passes this one"; whoever
 *     publishes then notifies only when its index moved across the
 *     other's event index (xa_vring_need_event). A receiver can ask to
 *     be woken after a batch, not at every buffer, and the other side
 *     needs no guess.
 * Each side reads the other's event index once per publish, after a full
 * fence that orders its index store before that load; the other side
 * stores its event index and then, after the same fence, reads the index
 * again (enable_notify): one of the two always sees the other, so no
 * wake-up is lost. A hostile event index only costs its writer wake-ups.
 *
 * No allocation, no system calls: the caller provides every piece of
 * storage. Requires a little-endian host (checked at compile time), as the
 * wire format is little-endian and shared fields are accessed in place
 * with atomic loads and stores. */
#ifndef XENAMP_CORE_VRING_H
#define XENAMP_CORE_VRING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "xa_error.h"

#define XA_VRING_DESC_F_NEXT      1u
#define XA_VRING_DESC_F_WRITE     2u
#define XA_VRING_DESC_F_INDIRECT  4u
#define XA_VRING_AVAIL_F_NO_INTERRUPT 1u
#define XA_VRING_USED_F_NO_NOTIFY 1u

#define XA_VRING_MAX_NUM 32768u   /* virtio's limit for split rings */
#define XA_VIRTIO_RING_F_EVENT_IDX 29u   /* feature bit: used_event / avail_event */
#define XA_VRING_DESC_SIZE 16u
#define XA_VRING_USED_ELEM_SIZE 8u

/* Byte offsets of the three parts, relative to the start of the ring. */
struct xa_vring_layout {
	size_t desc_off;
	size_t avail_off;
	size_t used_off;
	size_t size;        /* total bytes the ring occupies */
};

/* Fill *out for a ring of num entries with used-ring alignment align.
 * num must be a power of two in 1..XA_VRING_MAX_NUM, align a power of two
 * in 4..65536. Returns XA_OK or XA_ERR_RING_PARAM. */
int xa_vring_layout(unsigned num, unsigned align, struct xa_vring_layout *out);

/* Total ring size in bytes, 0 when the parameters are invalid. */
size_t xa_vring_size(unsigned num, unsigned align);

/* virtio's event-index test: the side that moved its index from old to
 * new_idx must notify when the other side's event index event lies in
 * [old, new_idx) -- the other side asked to hear when the entry at event
 * is published. All arithmetic is modulo 2^16 (indices wrap at 65535):
 * new_idx - event - 1 < new_idx - old. With old == new_idx, never. */
static inline bool xa_vring_need_event(uint16_t event, uint16_t new_idx,
				       uint16_t old)
{
	return (uint16_t)(new_idx - event - 1u) < (uint16_t)(new_idx - old);
}

/* ------------------------------------------------------------------ */
/* Driver side (the partition's library owns and initialises the ring) */

/* Per-descriptor private bookkeeping; the caller provides num of them. */
struct xa_vq_driver_slot {
	void *token;        /* caller's cookie, returned by get_used */
	uint32_t len;       /* length posted, to bound the used length */
	uint16_t next_free; /* free-list link */
	uint8_t in_flight;  /* posted and not yet returned */
	uint8_t device_writes;
};

struct xa_vq_driver {
	uint8_t *ring;      /* start of the ring in the shared region */
	unsigned num;
	struct xa_vring_layout lay;
	struct xa_vq_driver_slot *slots;
	uint16_t free_head;
	uint16_t num_free;
	uint16_t avail_idx;      /* private shadow of avail->idx */
	uint16_t published_idx;  /* value last stored to avail->idx */
	uint16_t last_used_idx;  /* next used entry to consume */
	bool event_idx;          /* suppression by used_event / avail_event */
	bool notify_on;          /* interrupts asked for (flags 0) */
};

/* Initialise a driver ring at `ring` (zeroes the whole ring; all
 * descriptors free). slots must hold num entries. Returns XA_OK,
 * XA_ERR_RING_PARAM, or XA_ERR_RING_PLACE when ring is not 16-byte aligned
 * (the in-place atomic accesses need natural alignment). */
int xa_vqdrv_init(struct xa_vq_driver *d, void *ring, unsigned num,
		  unsigned align, struct xa_vq_driver_slot *slots);

/* Post one buffer of len bytes at region offset addr. device_writes: the
 * device fills it (RX); otherwise the device reads it (TX). Not visible to
 * the device until xa_vqdrv_publish(). Returns XA_OK or XA_ERR_RING_FULL. */
int xa_vqdrv_add(struct xa_vq_driver *d, uint64_t addr, uint32_t len,
		 bool device_writes, void *token);

/* Use event indices (true) or flags only (false, the initial mode) from
 * now on; only once both sides agreed. Switching on writes used_event to
 * match the current flag (interrupts on or off). */
void xa_vqdrv_set_event_idx(struct xa_vq_driver *d, bool on);

/* Make all added buffers visible (release store of avail->idx). Returns
 * true when something new was published and the device asked to be
 * notified of it: used->flags without NO_NOTIFY, or with event indices,
 * avail_event in the range just published. */
bool xa_vqdrv_publish(struct xa_vq_driver *d);

/* Take one returned buffer. On XA_OK, *token and *len are set (len: bytes
 * the device wrote, 0 for TX buffers). Returns XA_EMPTY when nothing is
 * returned, or XA_ERR_USED_IDX / XA_ERR_USED_ID / XA_ERR_USED_LEN when the
 * device misbehaved (nothing is consumed then). */
int xa_vqdrv_get_used(struct xa_vq_driver *d, void **token, uint32_t *len);

/* Number of returned buffers waiting, or a negative XA_ERR_USED_IDX. */
int xa_vqdrv_used_pending(const struct xa_vq_driver *d);

/* Ask the device not to interrupt us / to interrupt us again. enable
 * returns true when buffers were returned in the meantime, so the caller
 * must poll again before sleeping (the usual lost-wakeup guard). */
void xa_vqdrv_disable_notify(struct xa_vq_driver *d);
bool xa_vqdrv_enable_notify(struct xa_vq_driver *d);

/* Like enable_notify, but with event indices the device interrupts only
 * once count (>= 1) more buffers were returned: a sender that waits for
 * TX buffers is woken once per batch. Returns true when count buffers are
 * already back (do not sleep). Without event indices, count is ignored:
 * the device interrupts at the first, and any returned buffer counts. */
bool xa_vqdrv_enable_notify_after(struct xa_vq_driver *d, uint16_t count);

/* Free descriptors left. */
static inline unsigned xa_vqdrv_num_free(const struct xa_vq_driver *d)
{
	return d->num_free;
}

/* ------------------------------------------------------------------ */
/* Device side (the backend; every ring value is hostile)              */

struct xa_vq_device {
	uint8_t *region;         /* whole shared region of the partition */
	size_t region_size;
	uint64_t ring_off;       /* offset of the ring in the region */
	unsigned num;
	struct xa_vring_layout lay;
	bool device_writes;      /* true for the RX queue (we fill buffers) */
	uint16_t last_avail_idx; /* next avail entry to consume (private) */
	uint16_t used_idx;       /* private shadow of used->idx; never read back */
	uint16_t published_idx;  /* value last stored to used->idx */
	bool event_idx;          /* suppression by used_event / avail_event */
};

/* One segment of a buffer, already checked to lie inside the region. */
struct xa_vq_seg {
	uint64_t off;
	uint32_t len;
};

/* A buffer taken from the avail ring. */
struct xa_vq_buf {
	uint16_t head;     /* descriptor id to give back with push() */
	unsigned nseg;     /* segments filled in */
	uint64_t total_len;
};

/* Attach to the ring at region offset ring_off. Checks num/align and that
 * the whole ring lies inside the region at an offset aligned to 16 (and
 * that region + ring_off is itself 16-byte aligned).
 * start_idx is where both last_avail_idx and used_idx start: 0 for a fresh
 * ring, or the value from xa_vqdev_read_used_idx() to resume a ring the
 * driver kept while the device was away. device_writes selects the
 * direction every descriptor must have. Returns XA_OK,
 * XA_ERR_RING_PARAM or XA_ERR_RING_PLACE. */
int xa_vqdev_init(struct xa_vq_device *d, void *region, size_t region_size,
		  uint64_t ring_off, unsigned num, unsigned align,
		  bool device_writes, uint16_t start_idx);

/* One load of used->idx (to resume after a restart). */
uint16_t xa_vqdev_read_used_idx(const struct xa_vq_device *d);

/* How many buffers the driver has made available that we have not taken:
 * 0..num, or XA_ERR_AVAIL_IDX when avail->idx is more than num ahead. */
int xa_vqdev_avail_count(struct xa_vq_device *d);

/* Take the next available buffer, following its chain into segs (at most
 * max_segs). Returns XA_OK, XA_EMPTY, or a fault: XA_ERR_AVAIL_IDX,
 * XA_ERR_DESC_ID, XA_ERR_DESC_RANGE, XA_ERR_DESC_LOOP, XA_ERR_DESC_FLAGS,
 * XA_ERR_DESC_LEN, XA_ERR_CHAIN_LONG. On a fault nothing is consumed and
 * nothing is written. */
int xa_vqdev_pop(struct xa_vq_device *d, struct xa_vq_seg *segs,
		 unsigned max_segs, struct xa_vq_buf *out);

/* Give the last popped buffer back to the avail side, unconsumed (used
 * when the relay found no room on the other end). */
void xa_vqdev_unpop(struct xa_vq_device *d);

/* Return a buffer: write used element {head, len}. Not visible to the
 * driver until xa_vqdev_publish(). */
void xa_vqdev_push(struct xa_vq_device *d, uint16_t head, uint32_t len);

/* As xa_vqdrv_set_event_idx, device side (init starts with it off). */
void xa_vqdev_set_event_idx(struct xa_vq_device *d, bool on);

/* Release-store used->idx. Returns true when something new was published
 * and the driver wants to be notified of it: avail->flags without
 * NO_INTERRUPT, or with event indices, used_event in the range just
 * published (read once; a hostile value only costs the driver). */
bool xa_vqdev_publish(struct xa_vq_device *d);

/* Notification suppression from the device side (used->flags). enable
 * returns true when new buffers became available meanwhile. */
void xa_vqdev_disable_notify(struct xa_vq_device *d);
bool xa_vqdev_enable_notify(struct xa_vq_device *d);

/* Pointer to a checked segment. */
static inline uint8_t *xa_vqdev_seg_ptr(const struct xa_vq_device *d,
					const struct xa_vq_seg *s)
{
	return d->region + s->off;
}

#endif

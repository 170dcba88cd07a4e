/* Virtio split ring, legacy layout: driver side and hardened device side.
 *
 * See vring.h for the contract. Notes on how the shared memory is touched:
 *   - Every shared field goes through the ld / st helpers below, which are
 *     __atomic builtins. A plain load could legally be duplicated by the
 *     compiler (re-read after the check, in place of a spilled register),
 *     which would reopen the check-then-use window that a hostile peer
 *     exploits; an atomic load is performed exactly once.
 *   - The pointer types carry may_alias because the region is a byte array
 *     owned by whoever mapped it; the ring's fields have no declared type of
 *     their own.
 *   - Relaxed ordering for fields, acquire for the peer's index, release
 *     for our own index: the index is the only publication point of a
 *     split ring, so it alone needs to order the fields behind it.
 *   - The suppression fields (flags, used_event, avail_event) carry no
 *     data: they are relaxed, and a sequentially consistent fence sits
 *     between "store my index / my wish" and "load the other side's
 *     wish / index" -- the store-load order that acquire and release
 *     cannot give (vring.h, top). */
#include "vring.h"

_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
	       "the vring is accessed in place; its wire format is little-endian");

typedef uint16_t __attribute__((may_alias)) xa_sh16;
typedef uint32_t __attribute__((may_alias)) xa_sh32;

/* Field offsets of the wire layout (docs/protocol.md#shared-region-layout). */
#define DESC_ADDR   0u
#define DESC_LEN    8u
#define DESC_FLAGS 12u
#define DESC_NEXT  14u
#define AVAIL_FLAGS 0u
#define AVAIL_IDX   2u
#define AVAIL_RING  4u
#define USED_FLAGS  0u
#define USED_IDX    2u
#define USED_RING   4u

/* The event indices sit after each ring's entries (vring.h's layout). */
static inline size_t used_event_off(unsigned num)
{
	return AVAIL_RING + 2u * (size_t)num;
}

static inline size_t avail_event_off(unsigned num)
{
	return USED_RING + (size_t)XA_VRING_USED_ELEM_SIZE * num;
}

/* The ring start is required to be 16-aligned, and every field sits at an
 * offset that is a multiple of its size, so these accesses are naturally
 * aligned (required for them to be single, untorn accesses). */
static inline uint16_t ld16(const uint8_t *p, int order)
{
	return __atomic_load_n((const xa_sh16 *)(const void *)p, order);
}

static inline uint32_t ld32(const uint8_t *p)
{
	return __atomic_load_n((const xa_sh32 *)(const void *)p, __ATOMIC_RELAXED);
}

static inline void st16(uint8_t *p, uint16_t v, int order)
{
	__atomic_store_n((xa_sh16 *)(void *)p, v, order);
}

static inline void st32(uint8_t *p, uint32_t v)
{
	__atomic_store_n((xa_sh32 *)(void *)p, v, __ATOMIC_RELAXED);
}

/* The 64-bit address is moved as two 32-bit halves: 32-bit guests (the
 * freestanding firmware build) have no native 64-bit atomic, and a torn
 * value is harmless because the device checks the combined local copy,
 * which it never re-reads. */
static inline uint64_t ld64(const uint8_t *p)
{
	uint64_t lo = ld32(p), hi = ld32(p + 4);
	return lo | (hi << 32);
}

static inline void st64(uint8_t *p, uint64_t v)
{
	st32(p, (uint32_t)v);
	st32(p + 4, (uint32_t)(v >> 32));
}

static bool is_pow2(unsigned v)
{
	return v != 0 && (v & (v - 1)) == 0;
}

int xa_vring_layout(unsigned num, unsigned align, struct xa_vring_layout *out)
{
	if (!is_pow2(num) || num > XA_VRING_MAX_NUM)
		return XA_ERR_RING_PARAM;
	if (!is_pow2(align) || align < 4 || align > 65536)
		return XA_ERR_RING_PARAM;

	/* At most 32768 entries and 64 KiB alignment: no overflow in size_t
	 * even when it is 32 bits wide. */
	size_t desc = (size_t)XA_VRING_DESC_SIZE * num;
	size_t avail_end = desc + 6 + 2 * (size_t)num;
	size_t used = (avail_end + align - 1) & ~((size_t)align - 1);

	out->desc_off = 0;
	out->avail_off = desc;
	out->used_off = used;
	out->size = used + 6 + (size_t)XA_VRING_USED_ELEM_SIZE * num;
	return XA_OK;
}

size_t xa_vring_size(unsigned num, unsigned align)
{
	struct xa_vring_layout lay;

	if (xa_vring_layout(num, align, &lay) != XA_OK)
		return 0;
	return lay.size;
}

/* ------------------------------------------------------------------ */
/* Driver side                                                         */

static inline uint8_t *drv_desc(const struct xa_vq_driver *d, unsigned id)
{
	return d->ring + d->lay.desc_off + (size_t)id * XA_VRING_DESC_SIZE;
}

static inline uint8_t *drv_avail(const struct xa_vq_driver *d)
{
	return d->ring + d->lay.avail_off;
}

static inline uint8_t *drv_used(const struct xa_vq_driver *d)
{
	return d->ring + d->lay.used_off;
}

int xa_vqdrv_init(struct xa_vq_driver *d, void *ring, unsigned num,
		  unsigned align, struct xa_vq_driver_slot *slots)
{
	struct xa_vring_layout lay;
	int err = xa_vring_layout(num, align, &lay);

	if (err != XA_OK)
		return err;
	/* The atomic accesses need natural alignment; 16 covers them all. */
	if (((uintptr_t)ring & 15u) != 0)
		return XA_ERR_RING_PLACE;

	d->ring = ring;
	d->num = num;
	d->lay = lay;
	d->slots = slots;
	/* No device is attached yet, so a plain clear is enough. The builtin
	 * keeps <string.h> out of a core meant to build freestanding. */
	__builtin_memset(ring, 0, lay.size);
	for (unsigned i = 0; i < num; i++) {
		slots[i].token = NULL;
		slots[i].len = 0;
		/* The last link is never followed: num_free stops first. */
		slots[i].next_free = (uint16_t)(i + 1);
		slots[i].in_flight = 0;
		slots[i].device_writes = 0;
	}
	d->free_head = 0;
	d->num_free = (uint16_t)num;  /* 32768 at most: fits */
	d->avail_idx = 0;
	d->published_idx = 0;
	d->last_used_idx = 0;
	d->event_idx = false;
	d->notify_on = true;   /* flags 0 in the zeroed ring */
	return XA_OK;
}

void xa_vqdrv_set_event_idx(struct xa_vq_driver *d, bool on)
{
	d->event_idx = on;
	/* used_event says what the flag says (the caller may already sleep
	 * with interrupts on: an application polling xenamp_fd()). */
	if (on && d->notify_on)
		(void)xa_vqdrv_enable_notify(d);
	else if (on)
		xa_vqdrv_disable_notify(d);
}

int xa_vqdrv_add(struct xa_vq_driver *d, uint64_t addr, uint32_t len,
		 bool device_writes, void *token)
{
	if (d->num_free == 0)
		return XA_ERR_RING_FULL;

	uint16_t id = d->free_head;
	struct xa_vq_driver_slot *s = &d->slots[id];
	uint8_t *desc = drv_desc(d, id);

	d->free_head = s->next_free;
	d->num_free--;

	st64(desc + DESC_ADDR, addr);
	st32(desc + DESC_LEN, len);
	st16(desc + DESC_FLAGS, device_writes ? XA_VRING_DESC_F_WRITE : 0,
	     __ATOMIC_RELAXED);
	st16(desc + DESC_NEXT, 0, __ATOMIC_RELAXED);

	s->token = token;
	s->len = len;
	s->in_flight = 1;
	s->device_writes = device_writes ? 1 : 0;

	/* The slot is free for writing: at most num buffers are in flight, so
	 * the device has already consumed the entry num positions back. */
	st16(drv_avail(d) + AVAIL_RING + 2u * (d->avail_idx & (d->num - 1)), id,
	     __ATOMIC_RELAXED);
	d->avail_idx = (uint16_t)(d->avail_idx + 1);
	return XA_OK;
}

bool xa_vqdrv_publish(struct xa_vq_driver *d)
{
	uint16_t old = d->published_idx;

	if (d->avail_idx == old)
		return false;
	/* Release: the descriptors and ring entries above become visible no
	 * later than the index that announces them. */
	st16(drv_avail(d) + AVAIL_IDX, d->avail_idx, __ATOMIC_RELEASE);
	d->published_idx = d->avail_idx;
	/* Store-load ordering: without it the device could set NO_NOTIFY
	 * (or avail_event), check avail->idx before our store lands, go to
	 * sleep, and we would read the stale wish and skip the kick -- a
	 * lost wakeup. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (d->event_idx) {
		uint16_t ev = ld16(drv_used(d) + avail_event_off(d->num),
				   __ATOMIC_RELAXED);

		return xa_vring_need_event(ev, d->avail_idx, old);
	}
	uint16_t flags = ld16(drv_used(d) + USED_FLAGS, __ATOMIC_RELAXED);
	return (flags & XA_VRING_USED_F_NO_NOTIFY) == 0;
}

/* used->idx as seen from last_used_idx: the distance, or a fault when the
 * device claims to have returned more than the ring can hold. */
static int drv_pending(const struct xa_vq_driver *d)
{
	uint16_t idx = ld16(drv_used(d) + USED_IDX, __ATOMIC_ACQUIRE);
	uint16_t n = (uint16_t)(idx - d->last_used_idx);

	if (n > d->num)
		return XA_ERR_USED_IDX;
	return n;
}

int xa_vqdrv_get_used(struct xa_vq_driver *d, void **token, uint32_t *len)
{
	int n = drv_pending(d);

	if (n < 0)
		return n;
	if (n == 0)
		return XA_EMPTY;

	/* The device is not trusted either: a wrong id would hand a buffer
	 * back twice, a wrong length would make us read past it. */
	const uint8_t *elem = drv_used(d) + USED_RING +
		(size_t)XA_VRING_USED_ELEM_SIZE * (d->last_used_idx & (d->num - 1));
	uint32_t id = ld32(elem);
	uint32_t used_len = ld32(elem + 4);

	if (id >= d->num || !d->slots[id].in_flight)
		return XA_ERR_USED_ID;

	struct xa_vq_driver_slot *s = &d->slots[id];

	if (s->device_writes) {
		if (used_len > s->len)
			return XA_ERR_USED_LEN;
	} else {
		/* A device may report a length for a buffer it only read;
		 * it means nothing, so it is dropped rather than refused. */
		used_len = 0;
	}

	*token = s->token;
	*len = used_len;
	s->token = NULL;
	s->in_flight = 0;
	s->next_free = d->free_head;
	d->free_head = (uint16_t)id;
	d->num_free++;
	d->last_used_idx = (uint16_t)(d->last_used_idx + 1);
	return XA_OK;
}

int xa_vqdrv_used_pending(const struct xa_vq_driver *d)
{
	return drv_pending(d);
}

void xa_vqdrv_disable_notify(struct xa_vq_driver *d)
{
	d->notify_on = false;
	st16(drv_avail(d) + AVAIL_FLAGS, XA_VRING_AVAIL_F_NO_INTERRUPT,
	     __ATOMIC_RELAXED);
	/* The entry before the next one to consume: the device has already
	 * published past it (used->idx >= last_used_idx), so no range it
	 * publishes contains it until the index wraps (65536 entries on,
	 * at worst one spurious interrupt). */
	if (d->event_idx)
		st16(drv_avail(d) + used_event_off(d->num),
		     (uint16_t)(d->last_used_idx - 1u), __ATOMIC_RELAXED);
}

bool xa_vqdrv_enable_notify_after(struct xa_vq_driver *d, uint16_t count)
{
	if (count == 0)
		count = 1;
	if (count > d->num)
		count = (uint16_t)d->num;   /* more can never be in flight */
	d->notify_on = true;
	st16(drv_avail(d) + AVAIL_FLAGS, 0, __ATOMIC_RELAXED);
	if (d->event_idx)
		st16(drv_avail(d) + used_event_off(d->num),
		     (uint16_t)(d->last_used_idx + count - 1u), __ATOMIC_RELAXED);
	else
		count = 1;
	/* Order the flag (event index) store before the index load: a
	 * device that pushed while the old value stood did not interrupt
	 * us, so we must see its work here. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	uint16_t idx = ld16(drv_used(d) + USED_IDX, __ATOMIC_ACQUIRE);
	uint16_t n = (uint16_t)(idx - d->last_used_idx);
	/* A bogus index also counts as work: the next get_used reports it. */
	return n >= count || n > d->num;
}

bool xa_vqdrv_enable_notify(struct xa_vq_driver *d)
{
	return xa_vqdrv_enable_notify_after(d, 1);
}

/* ------------------------------------------------------------------ */
/* Device side                                                         */

static inline uint8_t *dev_ring(const struct xa_vq_device *d)
{
	return d->region + d->ring_off;
}

static inline uint8_t *dev_avail(const struct xa_vq_device *d)
{
	return dev_ring(d) + d->lay.avail_off;
}

static inline uint8_t *dev_used(const struct xa_vq_device *d)
{
	return dev_ring(d) + d->lay.used_off;
}

int xa_vqdev_init(struct xa_vq_device *d, void *region, size_t region_size,
		  uint64_t ring_off, unsigned num, unsigned align,
		  bool device_writes, uint16_t start_idx)
{
	struct xa_vring_layout lay;
	int err = xa_vring_layout(num, align, &lay);

	if (err != XA_OK)
		return err;
	/* Written so that neither side can wrap: ring_off comes from the
	 * partition's resource table. */
	if (ring_off > region_size || lay.size > region_size - ring_off)
		return XA_ERR_RING_PLACE;
	/* The offset must be aligned, and so must the mapping it lands in,
	 * or the in-place atomic accesses would be misaligned. */
	if ((ring_off & 15u) != 0 ||
	    (((uintptr_t)region + (uintptr_t)ring_off) & 15u) != 0)
		return XA_ERR_RING_PLACE;

	d->region = region;
	d->region_size = region_size;
	d->ring_off = ring_off;
	d->num = num;
	d->lay = lay;
	d->device_writes = device_writes;
	d->last_avail_idx = start_idx;
	d->used_idx = start_idx;
	d->published_idx = start_idx;
	d->event_idx = false;
	return XA_OK;
}

void xa_vqdev_set_event_idx(struct xa_vq_device *d, bool on)
{
	d->event_idx = on;
}

uint16_t xa_vqdev_read_used_idx(const struct xa_vq_device *d)
{
	return ld16(dev_used(d) + USED_IDX, __ATOMIC_ACQUIRE);
}

/* avail->idx as seen from last_avail_idx. The acquire pairs with the
 * driver's release, so ring entries and descriptors read afterwards are
 * at least as new as the index. */
static int dev_avail_count(const struct xa_vq_device *d)
{
	uint16_t idx = ld16(dev_avail(d) + AVAIL_IDX, __ATOMIC_ACQUIRE);
	uint16_t n = (uint16_t)(idx - d->last_avail_idx);

	if (n > d->num)
		return XA_ERR_AVAIL_IDX;
	return n;
}

int xa_vqdev_avail_count(struct xa_vq_device *d)
{
	return dev_avail_count(d);
}

int xa_vqdev_pop(struct xa_vq_device *d, struct xa_vq_seg *segs,
		 unsigned max_segs, struct xa_vq_buf *out)
{
	int n = dev_avail_count(d);

	if (n < 0)
		return n;
	if (n == 0)
		return XA_EMPTY;

	const uint8_t *ring = dev_ring(d);
	const uint8_t *avail = dev_avail(d);
	uint16_t head = ld16(avail + AVAIL_RING +
			     2u * (d->last_avail_idx & (d->num - 1)),
			     __ATOMIC_RELAXED);
	if (head >= d->num)
		return XA_ERR_DESC_ID;

	const uint16_t want_write = d->device_writes ? XA_VRING_DESC_F_WRITE : 0;
	uint16_t id = head;
	unsigned walked = 0, nseg = 0;
	uint64_t total = 0;

	for (;;) {
		/* A chain of distinct descriptors has at most num links;
		 * one more means it revisits one, i.e. it loops. */
		if (walked == d->num)
			return XA_ERR_DESC_LOOP;
		walked++;

		/* One load per field; only these locals are used below. */
		const uint8_t *desc = ring + d->lay.desc_off +
			(size_t)id * XA_VRING_DESC_SIZE;
		uint64_t addr = ld64(desc + DESC_ADDR);
		uint32_t len = ld32(desc + DESC_LEN);
		uint16_t flags = ld16(desc + DESC_FLAGS, __ATOMIC_RELAXED);
		uint16_t next = ld16(desc + DESC_NEXT, __ATOMIC_RELAXED);

		/* Indirect tables were not negotiated; following one would
		 * be a second, unchecked ring. */
		if (flags & XA_VRING_DESC_F_INDIRECT)
			return XA_ERR_DESC_FLAGS;
		if ((flags & XA_VRING_DESC_F_WRITE) != want_write)
			return XA_ERR_DESC_FLAGS;
		if (len == 0)
			return XA_ERR_DESC_LEN;
		/* Subtraction form: addr + len may wrap 64 bits. */
		if (addr > d->region_size || len > d->region_size - addr)
			return XA_ERR_DESC_RANGE;

		/* Past max_segs the walk goes on (bounded by num) without
		 * storing, so a loop or a bad descriptor further down is
		 * reported as such rather than as a long chain. */
		if (nseg < max_segs) {
			segs[nseg].off = addr;
			segs[nseg].len = len;
		}
		nseg++;
		total += len;

		if (!(flags & XA_VRING_DESC_F_NEXT))
			break;
		if (next >= d->num)
			return XA_ERR_DESC_ID;
		id = next;
	}

	if (nseg > max_segs)
		return XA_ERR_CHAIN_LONG;

	out->head = head;
	out->nseg = nseg;
	out->total_len = total;
	d->last_avail_idx = (uint16_t)(d->last_avail_idx + 1);
	return XA_OK;
}

void xa_vqdev_unpop(struct xa_vq_device *d)
{
	/* Every push advances used_idx, so last_avail_idx - used_idx counts
	 * the buffers popped and still held; with none held there is nothing
	 * to give back, and stepping back would re-deliver a returned one. */
	if (d->last_avail_idx != d->used_idx)
		d->last_avail_idx = (uint16_t)(d->last_avail_idx - 1);
}

void xa_vqdev_push(struct xa_vq_device *d, uint16_t head, uint32_t len)
{
	uint8_t *elem = dev_used(d) + USED_RING +
		(size_t)XA_VRING_USED_ELEM_SIZE * (d->used_idx & (d->num - 1));

	st32(elem, head);
	st32(elem + 4, len);
	/* Only the private copy advances: used->idx in the region is the
	 * driver's to corrupt, so it is written but never read back. */
	d->used_idx = (uint16_t)(d->used_idx + 1);
}

bool xa_vqdev_publish(struct xa_vq_device *d)
{
	uint16_t old = d->published_idx;

	if (d->used_idx == old)
		return false;
	st16(dev_used(d) + USED_IDX, d->used_idx, __ATOMIC_RELEASE);
	d->published_idx = d->used_idx;
	/* Same store-load ordering as the driver's publish: the driver's
	 * enable_notify stores its flag (used_event) and then reads
	 * used->idx. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (d->event_idx) {
		/* One load; any value is only the driver's wish. */
		uint16_t ev = ld16(dev_avail(d) + used_event_off(d->num),
				   __ATOMIC_RELAXED);

		return xa_vring_need_event(ev, d->used_idx, old);
	}
	uint16_t flags = ld16(dev_avail(d) + AVAIL_FLAGS, __ATOMIC_RELAXED);
	return (flags & XA_VRING_AVAIL_F_NO_INTERRUPT) == 0;
}

void xa_vqdev_disable_notify(struct xa_vq_device *d)
{
	st16(dev_used(d) + USED_FLAGS, XA_VRING_USED_F_NO_NOTIFY,
	     __ATOMIC_RELAXED);
	/* As the driver's: the entry before the next one we take has been
	 * published already, so no kick until the index wraps. */
	if (d->event_idx)
		st16(dev_used(d) + avail_event_off(d->num),
		     (uint16_t)(d->last_avail_idx - 1u), __ATOMIC_RELAXED);
}

bool xa_vqdev_enable_notify(struct xa_vq_device *d)
{
	st16(dev_used(d) + USED_FLAGS, 0, __ATOMIC_RELAXED);
	/* With event indices: kick when the entry we take next is there. */
	if (d->event_idx)
		st16(dev_used(d) + avail_event_off(d->num), d->last_avail_idx,
		     __ATOMIC_RELAXED);
	/* The driver's publish stores avail->idx and then reads our flag;
	 * this fence is the other half, so one of us sees the other. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	uint16_t idx = ld16(dev_avail(d) + AVAIL_IDX, __ATOMIC_ACQUIRE);
	/* A bogus index counts as work too, so the caller pops and sees the
	 * fault instead of sleeping on it. */
	return idx != d->last_avail_idx;
}

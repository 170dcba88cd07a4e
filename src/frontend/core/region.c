/* The shared region of one RPMsg device, as libxenamp (the virtio driver)
 * lays it out. The backend trusts none of it: it parses the resource table
 * with xa_rsc_parse and checks every ring value against the region.
 *
 * All offsets are from the start of the region (docs/design.md#region-layout,
 * docs/protocol.md#shared-region-layout); N = buf_count,
 * B = buf_size, S = stride = B rounded up to 16, P = 4096:
 *
 *   0x0000  page 0: resource table (little-endian, packed)
 *             0   ver = 1, num = 1, reserved[2] = 0
 *             16  offset[0] = 20
 *             20  fw_rsc_vdev: type 3 (vdev), id 7 (RPMsg), notifyid 2,
 *                 dfeatures = 1 << VIRTIO_RPMSG_F_NS, plus
 *                 1 << VIRTIO_RING_F_EVENT_IDX (29) unless disabled
 *                 ($XENAMP_EVENT_IDX=0): what we offer;
 *                 gfeatures = 1 << VIRTIO_RPMSG_F_NS: what holds until
 *                 the backend acknowledges (it writes dfeatures & what it
 *                 supports there before it reports Connected; an older
 *                 backend writes nothing, and flags are used),
 *                 config_len 0, status (0, then 0x7 = ACKNOWLEDGE |
 *                 DRIVER | DRIVER_OK once the rings and RX buffers are
 *                 ready), num_of_vrings 2
 *             48  vring[0] {da = V0, align P, num N, notifyid 0}
 *             68  vring[1] {da = V1, align P, num N, notifyid 1}
 *   V0 = P  vring 0: driver RX (we post empty buffers; the device fills
 *           them), legacy split layout, used ring aligned to P
 *   V1      vring 1: driver TX (we post full buffers; the device reads
 *           them), V1 = V0 + ALIGN(vring_size(N, P), P)
 *   R       N RX buffers of B bytes, buffer i at R + i*S,
 *           R = V1 + ALIGN(vring_size(N, P), P)
 *   T       N TX buffers of B bytes, buffer i at T + i*S,
 *           T = R + ALIGN(N*S, P)
 *   size    T + ALIGN(N*S, P), which must be <= max_pages * P
 *
 * RX descriptors are {addr = R + i*S, len = B, WRITE}; TX descriptors are
 * {addr = T + i*S, len = 16 + payload length}. Descriptor ids are private:
 * the token of each buffer is its index, so any used id the device returns
 * is checked by vring.c and mapped back without trusting the ring. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <xenamp/rsc_table.h>

#include "core/byteorder.h"
#include "frontend/core/fe_core.h"

static bool is_pow2(uint32_t v)
{
	return v != 0 && (v & (v - 1)) == 0;
}

static uint64_t align_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) & ~(a - 1);
}

static void fmt_err(const struct xa_fe_core *d, char *err, size_t errlen,
		    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void fmt_err(const struct xa_fe_core *d, char *err, size_t errlen,
		    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	(void)d->env->vformat(err, errlen, fmt, ap);
	va_end(ap);
}

int xa_fe_region_layout(struct xa_fe_core *d, uint32_t buf_size,
			uint32_t buf_count, uint32_t max_pages,
			char *err, size_t errlen)
{
	struct xa_fe_region *r = &d->reg;
	uint64_t vsize, bufs, off;

	memset(r, 0, sizeof(*r));
	if (!is_pow2(buf_count) || buf_count > XA_VRING_MAX_NUM) {
		fmt_err(d, err, errlen,
			"the backend's buf_count %u is not a power of two in 1..%u",
			buf_count, XA_VRING_MAX_NUM);
		return -1;
	}
	if (buf_size < XA_RPMSG_HDR_SIZE + XA_RPMSG_NS_SIZE ||
	    buf_size > XA_RPMSG_HDR_SIZE + 0xffffu) {
		fmt_err(d, err, errlen,
			"the backend's buf_size %u is outside %u..%u",
			buf_size, XA_RPMSG_HDR_SIZE + XA_RPMSG_NS_SIZE,
			XA_RPMSG_HDR_SIZE + 0xffffu);
		return -1;
	}
	r->buf_size = buf_size;
	r->buf_count = buf_count;
	r->stride = (uint32_t)align_up(buf_size, 16);
	vsize = align_up(xa_vring_size(buf_count, XA_FE_VRING_ALIGN), XA_FE_PAGE);
	bufs = align_up((uint64_t)buf_count * r->stride, XA_FE_PAGE);

	off = XA_FE_PAGE;
	r->vring_off[0] = (size_t)off;
	off += vsize;
	r->vring_off[1] = (size_t)off;
	off += vsize;
	r->rx_off = (size_t)off;
	off += bufs;
	r->tx_off = (size_t)off;
	off += bufs;
	if (off > SIZE_MAX / 2) {
		fmt_err(d, err, errlen, "region of %llu bytes is too large",
			(unsigned long long)off);
		return -1;
	}
	if (max_pages != 0 && off / XA_FE_PAGE > max_pages) {
		fmt_err(d, err, errlen,
			"the region needs %llu pages (buf_count %u, buf_size %u) but the backend maps at most %u; lower buf_count or buf_size in the link's configuration, or raise its page cap",
			(unsigned long long)(off / XA_FE_PAGE), buf_count,
			buf_size, max_pages);
		return -1;
	}
	r->size = (size_t)off;
	return 0;
}

void xa_fe_region_attach(struct xa_fe_region *r, const struct xa_fe_region_storage *st)
{
	r->rx_slots = st->rx_slots;
	r->tx_slots = st->tx_slots;
	r->rx_refs = st->rx_refs;
	r->tx_state = st->tx_state;
	r->tx_free = st->tx_free;
}

static void write_rsc_table(struct xa_fe_region *r)
{
	uint8_t *t = r->base;
	uint8_t *v = t + XA_FE_RSC_VDEV_OFF;
	unsigned i;

	xa_put_le32(t + offsetof(struct resource_table, ver), 1);
	xa_put_le32(t + offsetof(struct resource_table, num), 1);
	xa_put_le32(t + offsetof(struct resource_table, reserved), 0);
	xa_put_le32(t + offsetof(struct resource_table, reserved) + 4, 0);
	xa_put_le32(t + offsetof(struct resource_table, offset), XA_FE_RSC_VDEV_OFF);

	xa_put_le32(v + offsetof(struct fw_rsc_vdev, type), RSC_VDEV);
	xa_put_le32(v + offsetof(struct fw_rsc_vdev, id), XA_VIRTIO_ID_RPMSG);
	xa_put_le32(v + offsetof(struct fw_rsc_vdev, notifyid), 2);
	xa_put_le32(v + offsetof(struct fw_rsc_vdev, dfeatures), r->offered);
	xa_put_le32(v + offsetof(struct fw_rsc_vdev, gfeatures), XA_FE_BASE_FEATURES);
	xa_put_le32(v + offsetof(struct fw_rsc_vdev, config_len), 0);
	v[offsetof(struct fw_rsc_vdev, status)] = 0;
	v[offsetof(struct fw_rsc_vdev, num_of_vrings)] = 2;
	v[offsetof(struct fw_rsc_vdev, reserved)] = 0;
	v[offsetof(struct fw_rsc_vdev, reserved) + 1] = 0;
	for (i = 0; i < 2; i++) {
		uint8_t *vr = v + offsetof(struct fw_rsc_vdev, vring) +
			      i * sizeof(struct fw_rsc_vdev_vring);

		xa_put_le32(vr + offsetof(struct fw_rsc_vdev_vring, da),
			    (uint32_t)r->vring_off[i]);
		xa_put_le32(vr + offsetof(struct fw_rsc_vdev_vring, align),
			    XA_FE_VRING_ALIGN);
		xa_put_le32(vr + offsetof(struct fw_rsc_vdev_vring, num),
			    r->buf_count);
		xa_put_le32(vr + offsetof(struct fw_rsc_vdev_vring, notifyid), i);
		xa_put_le32(vr + offsetof(struct fw_rsc_vdev_vring, reserved), 0);
	}
}

void xa_fe_rx_repost(struct xa_fe_region *r, unsigned i)
{
	/* Cannot fail: there are exactly as many descriptors as buffers,
	 * and buffer i is not in the ring. */
	(void)xa_vqdrv_add(&r->rxq, r->rx_off + (uint64_t)i * r->stride,
			   r->buf_size, true, xa_fe_token(i));
}

/* The gfeatures word: 4-aligned (table at 0, vdev at 20, word at +16),
 * accessed in place as the rings are (little-endian host: core/vring.c
 * asserts it). */
static uint32_t *gfeatures_word(const struct xa_fe_region *r)
{
	return (uint32_t *)(void *)(r->base + XA_FE_RSC_VDEV_OFF +
				    offsetof(struct fw_rsc_vdev, gfeatures));
}

uint32_t xa_fe_region_features_apply(struct xa_fe_region *r)
{
	/* One load: the backend wrote it before Connected, which we have
	 * seen through a system call; acquire for form's sake. Whatever it
	 * claims beyond our offer is ignored. */
	uint32_t acked = __atomic_load_n(gfeatures_word(r), __ATOMIC_ACQUIRE);
	bool ev;

	acked &= r->offered;
	ev = (acked & (1u << XA_VIRTIO_RING_F_EVENT_IDX)) != 0;
	xa_vqdrv_set_event_idx(&r->rxq, ev);
	xa_vqdrv_set_event_idx(&r->txq, ev);
	return acked | XA_FE_BASE_FEATURES;
}

void xa_fe_region_features_reset(struct xa_fe_region *r)
{
	xa_vqdrv_set_event_idx(&r->rxq, false);
	xa_vqdrv_set_event_idx(&r->txq, false);
	__atomic_store_n(gfeatures_word(r), XA_FE_BASE_FEATURES, __ATOMIC_RELEASE);
}

int xa_fe_region_init(struct xa_fe_region *r, void *base, bool event_idx)
{
	unsigned i, n = r->buf_count;
	int e;

	if (r->vring_off[1] > UINT32_MAX) /* da is 32 bits */
		return -1;
	r->base = base;
	r->offered = XA_FE_BASE_FEATURES |
		     (event_idx ? 1u << XA_VIRTIO_RING_F_EVENT_IDX : 0);
	write_rsc_table(r);
	e = xa_vqdrv_init(&r->rxq, r->base + r->vring_off[0], n,
			  XA_FE_VRING_ALIGN, r->rx_slots);
	if (e == XA_OK)
		e = xa_vqdrv_init(&r->txq, r->base + r->vring_off[1], n,
				  XA_FE_VRING_ALIGN, r->tx_slots);
	if (e != XA_OK)
		return -1;
	for (i = 0; i < n; i++) {
		r->rx_refs[i] = 0;
		xa_fe_rx_repost(r, i);
	}
	(void)xa_vqdrv_publish(&r->rxq);   /* nobody to kick yet */
	r->tx_nfree = 0;
	for (i = n; i-- > 0;) {
		r->tx_state[i] = XA_TXB_FREE;
		r->tx_free[r->tx_nfree++] = (uint16_t)i;
	}
	/* TX completions are reclaimed lazily; a sender that runs out asks
	 * for the interrupt while it waits. */
	xa_vqdrv_disable_notify(&r->txq);
	__atomic_store_n(r->base + XA_FE_RSC_VDEV_OFF +
			 offsetof(struct fw_rsc_vdev, status),
			 (uint8_t)XA_FE_STATUS_READY, __ATOMIC_RELEASE);
	return 0;
}

static int buf_index(const struct xa_fe_region *r, size_t area,
		     const void *payload)
{
	uintptr_t p = (uintptr_t)payload, start;
	size_t off;

	if (r->base == NULL)
		return -1;
	start = (uintptr_t)(r->base + area) + XA_RPMSG_HDR_SIZE;
	if (p < start)
		return -1;
	off = (size_t)(p - start);
	if (off % r->stride != 0 || off / r->stride >= r->buf_count)
		return -1;
	return (int)(off / r->stride);
}

int xa_fe_rx_index(const struct xa_fe_region *r, const void *payload)
{
	return buf_index(r, r->rx_off, payload);
}

int xa_fe_tx_index(const struct xa_fe_region *r, const void *payload)
{
	return buf_index(r, r->tx_off, payload);
}

/* The RPMsg virtio device of one end (end_device.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/end_device.h"
#include "core/byteorder.h"
#include "core/rsc_parse.h"
#include "core/xa_error.h"

#define RSC_PAGE 4096u

/* What the backend takes from the resource table's RPMsg vdev. */
struct vdev_info {
	struct xa_rsc_vring v[2];
	uint32_t dfeatures;     /* offered by the partition */
	uint32_t offset;        /* of the entry, checked inside the page */
};

/* The resource table's RPMsg vdev, parsed from a private copy of the
 * region's first page: the partition may change the shared page while
 * we look. Returns XA_OK with it in vi, or a fault with msg. */
static int read_vdev(const void *region, size_t size, struct vdev_info *vi,
		     char *msg, size_t msglen)
{
	static uint8_t page[RSC_PAGE];
	size_t tl = size < RSC_PAGE ? size : RSC_PAGE;
	struct xa_rsc_table *tab;
	struct xa_rsc_error rerr;
	int rc, idx = 0;

	tab = malloc(sizeof(*tab));
	if (tab == NULL) {
		snprintf(msg, msglen, "out of memory");
		return XA_ERR_RSC;
	}
	memcpy(page, region, tl);
	memset(&rerr, 0, sizeof(rerr));
	rc = xa_rsc_parse(page, tl, tab, &rerr);
	if (rc == XA_OK) {
		idx = xa_rsc_find_rpmsg_vdev(tab, &rerr);
		rc = idx < 0 ? idx : XA_OK;
	}
	if (rc != XA_OK)
		snprintf(msg, msglen, "resource table: %s", rerr.msg[0] ? rerr.msg
			 : xa_strerror(rc));
	else {
		memcpy(vi->v, tab->entry[idx].u.vdev.vring, sizeof(vi->v));
		vi->dfeatures = tab->entry[idx].u.vdev.dfeatures;
		vi->offset = tab->entry[idx].offset;
	}
	free(tab);
	return rc;
}

/* Acknowledge what the partition offered and we accept: gfeatures, in
 * the shared table (the parser checked that the whole entry lies in the
 * page, so the word does). Byte stores: the entry may be unaligned, and
 * the partition reads the word only once it sees Connected, which the
 * transport sends after this (a system call between: ordered). */
static void ack_features(struct xa_end_dev *d, uint8_t *region,
			 const struct vdev_info *vi, uint32_t accept)
{
	d->features = vi->dfeatures & accept & XA_DEV_FEATURES_KNOWN;
	xa_put_le32(region + vi->offset + XA_RSC_VDEV_GFEATURES_OFF, d->features);
	if (d->features & (1u << XA_VIRTIO_RING_F_EVENT_IDX)) {
		xa_vqdev_set_event_idx(&d->rx.vq, true);
		xa_vqdev_set_event_idx(&d->tx.vq, true);
	}
}

int xa_dev_attach(struct xa_end_dev *d, void *region, size_t size,
		  uint32_t buf_count, uint32_t accept, char *msg, size_t msglen)
{
	struct vdev_info vi;
	const struct xa_rsc_vring *v = vi.v;
	/* vring 0 is the driver's RX: we write its buffers. */
	struct xa_vq_device *q[2] = { &d->rx.vq, &d->tx.vq };
	int rc = read_vdev(region, size, &vi, msg, msglen);

	if (rc != XA_OK)
		return rc;
	for (int i = 0; i < 2; i++) {
		if (v[i].num != buf_count) {
			snprintf(msg, msglen,
				 "vring %d has %u entries but the link's buf-count is %u",
				 i, v[i].num, buf_count);
			return XA_ERR_RING_PARAM;
		}
	}
	for (int i = 0; i < 2; i++) {
		rc = xa_vqdev_init(q[i], region, size, v[i].da, v[i].num,
				   v[i].align, i == 0, 0);
		if (rc != XA_OK) {
			snprintf(msg, msglen,
				 "vring %d (da 0x%x, num %u, align %u) in a region of %zu bytes: %s",
				 i, v[i].da, v[i].num, v[i].align, size,
				 xa_strerror(rc));
			return rc;
		}
	}
	uint64_t a0 = v[0].da, a1 = v[1].da;

	if (a0 < a1 + d->tx.vq.lay.size && a1 < a0 + d->rx.vq.lay.size) {
		snprintf(msg, msglen, "vring 0 (da 0x%x) and vring 1 (da 0x%x) overlap",
			 v[0].da, v[1].da);
		return XA_ERR_RING_PLACE;
	}
	/* Resume where the driver's used rings stand: 0 for a fresh region,
	 * the old position when a partition kept its rings across a
	 * backend restart. */
	for (int i = 0; i < 2; i++) {
		uint16_t start = xa_vqdev_read_used_idx(q[i]);

		(void)xa_vqdev_init(q[i], region, size, v[i].da, v[i].num,
				    v[i].align, i == 0, start);
	}
	d->region_size = size;
	ack_features(d, region, &vi, accept);
	return XA_OK;
}

void xa_dev_start(struct xa_end_dev *d)
{
	(void)xa_ring_arm(&d->tx);
	/* Written even though rx.armed is false: a region kept across a
	 * backend restart may still carry the old flag. */
	xa_vqdev_disable_notify(&d->rx.vq);
	d->rx.armed = false;
}

int xa_ring_avail(struct xa_dev_ring *q, bool may_arm)
{
	int n = xa_vqdev_avail_count(&q->vq);

	if (n == 0 && may_arm && !q->armed && xa_ring_arm(q))
		n = xa_vqdev_avail_count(&q->vq);
	return n;
}

bool xa_ring_arm(struct xa_dev_ring *q)
{
	q->armed = true;
	return xa_vqdev_enable_notify(&q->vq);
}

void xa_ring_quiet(struct xa_dev_ring *q)
{
	if (q->armed) {
		xa_vqdev_disable_notify(&q->vq);
		q->armed = false;
	}
}

int xa_ring_take(struct xa_dev_ring *q, struct xa_vq_seg *seg,
		 struct xa_vq_buf *buf)
{
	int rc = xa_vqdev_pop(&q->vq, seg, 1, buf);

	if (rc == XA_OK)
		xa_ring_quiet(q);
	return rc;
}

void xa_ring_untake(struct xa_dev_ring *q)
{
	xa_vqdev_unpop(&q->vq);
}

void xa_ring_put(struct xa_dev_ring *q, uint16_t head, uint32_t len)
{
	xa_vqdev_push(&q->vq, head, len);
}

bool xa_ring_publish(struct xa_dev_ring *q)
{
	return xa_vqdev_publish(&q->vq);
}

/* The RPMsg virtio device of one end: the backend's side of the two
 * vrings a partition shares (vring 0 = the driver's RX, which we fill;
 * vring 1 = the driver's TX, which we drain). Bottom layer of the backend:
 * it knows rings and the shared region, nothing of links, peers or the
 * name service (registry.h, relay.h build on it).
 *
 * Contract:
 *   - xa_dev_attach() validates a freshly shared region -- the resource
 *     table is copied once into private memory and parsed there -- and
 *     attaches both rings, resuming where the driver's used rings stand
 *     (a partition may keep its rings across a backend restart). On a
 *     fault nothing is attached and msg says why.
 *   - Every ring value read afterwards goes through core/vring.h's device
 *     side: a hostile index or descriptor is a fault code, never memory
 *     outside the region.
 *   - Notification suppression is per ring: "armed" means we asked the
 *     driver to kick when it adds buffers. xa_ring_avail() arms an empty
 *     ring only when the caller allows it, and looks again after arming,
 *     so no kick is lost between the check and the sleep (vring.h's
 *     enable_notify). The relay decides when to arm (relay.h).
 *   - Features: the partition offers feature bits in the vdev's
 *     dfeatures and writes in gfeatures what holds without a reply (the
 *     RPMsg name service). xa_dev_attach() acknowledges the offered bits
 *     it is allowed to (accept) by writing dfeatures & accept into
 *     gfeatures before the end is Connected; a backend that predates
 *     this writes nothing, so gfeatures keeps the partition's base bits
 *     and both sides use flags. With VIRTIO_RING_F_EVENT_IDX
 *     acknowledged, both rings suppress notifications with event indices
 *     (core/vring.h).
 *   - Taken buffers are returned with xa_ring_put() and become visible to
 *     the driver only at xa_ring_publish(), whose result says whether the
 *     driver wants a notification. Sending it is the transport's job
 *     (be_transport.h notify); the relay batches them per round.
 *
 * Single-threaded: the relay's thread only. */
#ifndef XENAMP_BACKEND_END_DEVICE_H
#define XENAMP_BACKEND_END_DEVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/rpmsg_wire.h"
#include "core/vring.h"

struct xa_dev_ring {
	struct xa_vq_device vq;
	bool armed;                     /* driver asked to kick on new buffers */
};

struct xa_end_dev {
	size_t region_size;             /* 0: no region attached */
	uint32_t features;              /* acknowledged feature bits */
	struct xa_dev_ring rx;          /* vring 0: we fill the driver's RX buffers */
	struct xa_dev_ring tx;          /* vring 1: we read the driver's TX buffers */
};

/* Feature bits a backend may acknowledge (accept of xa_dev_attach). */
#define XA_DEV_FEATURES_KNOWN \
	((1u << XA_VIRTIO_RPMSG_F_NS) | (1u << XA_VIRTIO_RING_F_EVENT_IDX))

/* Validate the region (size bytes, shared by the partition), attach to
 * its rings (each must have buf_count entries) and acknowledge the
 * offered features within accept (see above). Returns XA_OK, or an
 * XA_ERR_* with one line in msg (then nothing is written). */
int xa_dev_attach(struct xa_end_dev *d, void *region, size_t size,
		  uint32_t buf_count, uint32_t accept, char *msg, size_t msglen);

/* Connected: TX armed (the driver kicks when it sends), RX quiet (the
 * relay asks for RX kicks only while a delivery waits for a buffer). */
void xa_dev_start(struct xa_end_dev *d);

/* Forget the region: nothing is read or written through d afterwards.
 * Touches no shared memory (the region may already be unmapped). */
static inline void xa_dev_reset(struct xa_end_dev *d)
{
	memset(d, 0, sizeof(*d));
}

/* Buffers the driver made available in q that we have not taken: 0..num,
 * or a negative XA_ERR_* fault. When there are none and may_arm, q is
 * armed (if it was not) and looked at again. */
int xa_ring_avail(struct xa_dev_ring *q, bool may_arm);

/* Arm q; true when buffers became available meanwhile. */
bool xa_ring_arm(struct xa_dev_ring *q);

/* No kicks for q: we are going to look at it ourselves. */
void xa_ring_quiet(struct xa_dev_ring *q);

/* Take the next buffer of q as one checked segment; q is quiet after a
 * success (it has buffers again). XA_OK, XA_EMPTY, or a fault code:
 * nothing is consumed then. */
int xa_ring_take(struct xa_dev_ring *q, struct xa_vq_seg *seg,
		 struct xa_vq_buf *buf);

/* Give the last taken buffer back, unconsumed. */
void xa_ring_untake(struct xa_dev_ring *q);

/* Return a buffer with len bytes written; visible at xa_ring_publish(). */
void xa_ring_put(struct xa_dev_ring *q, uint16_t head, uint32_t len);

/* Make the returned buffers visible; true when the driver wants a
 * notification for them. */
bool xa_ring_publish(struct xa_dev_ring *q);

static inline uint8_t *xa_ring_ptr(const struct xa_dev_ring *q,
				   const struct xa_vq_seg *s)
{
	return xa_vqdev_seg_ptr(&q->vq, s);
}

#endif

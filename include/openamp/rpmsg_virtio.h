/* OpenAMP compatibility: <openamp/rpmsg_virtio.h>.
 *
 * xenamp sets RPMsg devices up with xenamp_open() (or the platform_*()
 * calls of <platform_info.h>): the shared memory, the vrings and the
 * notifications are libxenamp's, and buffer size and count are set per
 * link in xenamp.conf. What an application asks of a device at run time
 * is provided: the buffer sizes (implemented in libxenamp-openamp). The
 * set-up calls (rpmsg_init_vdev...) are a compile-time error that says
 * why (below; docs/porting-firmware.md). */
#ifndef XENAMP_COMPAT_OPENAMP_RPMSG_VIRTIO_H
#define XENAMP_COMPAT_OPENAMP_RPMSG_VIRTIO_H

#include <stddef.h>

#include <metal/io.h>
#include <metal/mutex.h>
#include <openamp/rpmsg.h>
#include <openamp/virtio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Compile-time default buffer size (header included), as OpenAMP's. The
 * size of a link is its buf-size in xenamp.conf (default 512); ask the
 * device at run time with rpmsg_virtio_get_buffer_size(). */
#ifndef RPMSG_BUFFER_SIZE
#define RPMSG_BUFFER_SIZE (512)
#endif

#define RPMSG_HOST   VIRTIO_DEV_DRIVER
#define RPMSG_REMOTE VIRTIO_DEV_DEVICE
#define RPMSG_MASTER RPMSG_HOST
#define RPMSG_SLAVE  RPMSG_REMOTE

/* Payload bytes of one TX / RX buffer of rdev (buffer size minus the
 * 16-byte header), or RPMSG_ERR_PARAM for a NULL or foreign device.
 * rpmsg_virtio_get_buffer_size() is the TX size (older releases' name). */
int rpmsg_virtio_get_tx_buffer_size(struct rpmsg_device *rdev);
int rpmsg_virtio_get_rx_buffer_size(struct rpmsg_device *rdev);
int rpmsg_virtio_get_buffer_size(struct rpmsg_device *rdev);

struct rpmsg_virtio_device;
struct rpmsg_virtio_shm_pool;
struct metal_io_region;
struct virtio_device;

/* Setting a device up from an application's virtio device and shared
 * memory has no meaning under xenamp, so these are declared only to
 * turn a call into a compile-time error that says why: the virtio
 * device comes from remoteproc (xenamp-load's job), the shared region
 * must be memory the transport can share (a memfd, or Xen grants) laid
 * out by libxenamp, and buffer size and count are the link's, from
 * xenamp.conf, not the pool's. Use platform_create_rpmsg_vdev() or
 * xenamp_open() (docs/porting-firmware.md, "rpmsg_init_vdev"). */
#if defined(__clang__)
#define XA_OA_NOT_PROVIDED(msg) __attribute__((unavailable(msg)))
#else
#define XA_OA_NOT_PROVIDED(msg) __attribute__((error(msg)))
#endif
#define XA_OA_NO_VDEV_SETUP \
	XA_OA_NOT_PROVIDED("xenamp sets RPMsg devices up itself: use platform_create_rpmsg_vdev() or xenamp_open() (docs/porting-firmware.md)")

int rpmsg_init_vdev(struct rpmsg_virtio_device *rvdev,
		    struct virtio_device *vdev, rpmsg_ns_bind_cb ns_bind_cb,
		    struct metal_io_region *shm_io,
		    struct rpmsg_virtio_shm_pool *shpool) XA_OA_NO_VDEV_SETUP;
void rpmsg_deinit_vdev(struct rpmsg_virtio_device *rvdev) XA_OA_NO_VDEV_SETUP;
void rpmsg_virtio_init_shm_pool(struct rpmsg_virtio_shm_pool *shpool,
				void *shbuf, size_t size) XA_OA_NO_VDEV_SETUP;
struct rpmsg_device *
rpmsg_virtio_get_rpmsg_device(struct rpmsg_virtio_device *rvdev) XA_OA_NO_VDEV_SETUP;

#ifdef __cplusplus
}
#endif

#endif

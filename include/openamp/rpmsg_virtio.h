/* OpenAMP compatibility: <openamp/rpmsg_virtio.h>.
 *
 * xenamp sets RPMsg devices up with xenamp_open() (or the platform_*()
 * calls of <platform_info.h>): the shared memory, the vrings and the
 * notifications are libxenamp's, and buffer size and count are set per
 * link in xenamp.conf. What an application asks of a device at run time
 * is provided: the buffer sizes (implemented in libxenamp-openamp). The
 * set-up calls (rpmsg_init_vdev...) are described at their declarations
 * below and in docs/porting-firmware.md. */
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

#ifdef __cplusplus
}
#endif

#endif

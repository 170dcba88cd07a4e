/* OpenAMP compatibility: <openamp/rpmsg_virtio.h>.
 *
 * xenamp sets RPMsg devices up with xenamp_open() (or the platform_*()
 * calls of <platform_info.h>), not rpmsg_init_vdev(): the shared memory,
 * vrings and notifications are libxenamp's. Only the role names and the
 * opaque types are provided, so that sources including this header build. */
#ifndef XENAMP_COMPAT_OPENAMP_RPMSG_VIRTIO_H
#define XENAMP_COMPAT_OPENAMP_RPMSG_VIRTIO_H

#include <openamp/rpmsg.h>
#include <openamp/virtio.h>

#ifdef __cplusplus
extern "C" {
#endif

#define RPMSG_HOST   VIRTIO_DEV_DRIVER
#define RPMSG_REMOTE VIRTIO_DEV_DEVICE
#define RPMSG_MASTER RPMSG_HOST
#define RPMSG_SLAVE  RPMSG_REMOTE

struct rpmsg_virtio_device;
struct rpmsg_virtio_shm_pool;

#ifdef __cplusplus
}
#endif

#endif

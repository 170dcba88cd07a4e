/* OpenAMP compatibility: "platform_info.h", the machine layer of OpenAMP's
 * demo applications (apps/machine/<machine>/platform_info.h), implemented
 * by libxenamp-openamp over libxenamp.
 *
 * platform_init() reads the partition name and the backend socket from
 * $XENAMP_PARTITION / $XENAMP_SOCKET (and $XENAMP_TRANSPORT), or from
 * --xenamp-partition=NAME, --xenamp-socket=PATH, --xenamp-transport=T
 * anywhere in argv (other arguments, such as the numeric proc and rsc ids
 * of OpenAMP's Linux demos, are ignored). platform_create_rpmsg_vdev()
 * opens RPMsg device vdev_index of that partition through xenamp-backend;
 * the role is ignored (every partition is the virtio driver of its end).
 * platform_poll() waits up to one second for traffic and runs the
 * callbacks; it returns 0, or a negative RPMSG_ERR_* code when a link is
 * gone. */
#ifndef XENAMP_COMPAT_PLATFORM_INFO_H
#define XENAMP_COMPAT_PLATFORM_INFO_H

#include <openamp/remoteproc.h>
#include <openamp/virtio.h>
#include <openamp/rpmsg.h>

#ifdef __cplusplus
extern "C" {
#endif

#ifndef RPMSG_CHAN_NAME
#define RPMSG_CHAN_NAME "rpmsg-openamp-demo-channel"
#endif

int platform_init(int argc, char *argv[], void **platform);

struct rpmsg_device *
platform_create_rpmsg_vdev(void *platform, unsigned int vdev_index,
			   unsigned int role,
			   void (*rst_cb)(struct virtio_device *vdev),
			   rpmsg_ns_bind_cb ns_bind_cb);

int platform_poll(void *platform);

void platform_release_rpmsg_vdev(struct rpmsg_device *rpdev, void *platform);

void platform_cleanup(void *platform);

/* Older OpenAMP demos call platform_release_rpmsg_vdev(rpdev) with one
 * argument: accept both forms. */
#define XA_OA_PICK2(_1, _2, NAME, ...) NAME
#define XA_OA_RELEASE1(rpdev) platform_release_rpmsg_vdev((rpdev), (void *)0)
#define platform_release_rpmsg_vdev(...) \
	XA_OA_PICK2(__VA_ARGS__, platform_release_rpmsg_vdev, XA_OA_RELEASE1, \
		    unused)(__VA_ARGS__)

#ifdef __cplusplus
}
#endif

#endif

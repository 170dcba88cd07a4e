/* OpenAMP compatibility: <openamp/virtio.h>.
 *
 * Under xenamp every partition is the virtio driver of its RPMsg device and
 * xenamp-backend is the device; the role an OpenAMP application asks for
 * (host/master/driver or remote/slave/device) does not change anything,
 * since the backend relays the messages between the two ends of a link. */
#ifndef XENAMP_COMPAT_OPENAMP_VIRTIO_H
#define XENAMP_COMPAT_OPENAMP_VIRTIO_H

#ifdef __cplusplus
extern "C" {
#endif

#define VIRTIO_DEV_DRIVER 0UL
#define VIRTIO_DEV_DEVICE 1UL
/* The older names. */
#define VIRTIO_DEV_MASTER VIRTIO_DEV_DRIVER
#define VIRTIO_DEV_SLAVE  VIRTIO_DEV_DEVICE

#ifndef VIRTIO_ID_RPMSG
#define VIRTIO_ID_RPMSG 7UL
#endif
#ifndef VIRTIO_RPMSG_F_NS
#define VIRTIO_RPMSG_F_NS 0
#endif

/* Opaque: xenamp has no virtio_device object an application could use
 * (the reset callback of platform_create_rpmsg_vdev() is never called). */
struct virtio_device;

#ifdef __cplusplus
}
#endif

#endif

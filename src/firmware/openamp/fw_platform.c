/* The machine layer of OpenAMP's demo applications (platform_init,
 * platform_create_rpmsg_vdev, platform_poll, platform_release_rpmsg_vdev,
 * platform_cleanup; include/openamp/platform_info.h) on the firmware
 * runtime: the same calls libxenamp-openamp offers a process, here over
 * the firmware's RPMsg device (fw_rpmsg_open / fw_rpmsg_poll), so that a
 * demo's application file builds for a firmware domain unchanged.
 *
 * What differs from a process, and why:
 *  - the partition is the domain itself: platform_init() takes no names
 *    from argv (they are accepted and ignored);
 *  - one RPMsg device per firmware (the device's storage is static):
 *    vdev_index is the device number under device/rpmsg/ in xenstore;
 *    asking for a second index fails with one console line;
 *  - platform_create_rpmsg_vdev() waits up to FW_OA_OPEN_TIMEOUT_MS for
 *    the backend to offer the device, then fails (fw_rpmsg_open printed
 *    why), as OpenAMP's remote waits for its host;
 *  - the device is never closed: the link ends with the domain.
 *    platform_release_rpmsg_vdev() and platform_cleanup() only forget it
 *    (a later platform_create_rpmsg_vdev() gets the same device back);
 *  - a dead link: platform_poll() returns RPMSG_ERR_DEV_STATE and sleeps
 *    100 ms, so that a demo loop that ignores the result does not spin;
 *    a demo that keeps polling a dead link for FW_OA_DEAD_POLLS calls
 *    (5 s) gets one console line and a crash, so that on_crash applies
 *    instead of a firmware that looks alive and does nothing. */
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include <platform_info.h>
#include <openamp/rpmsg_virtio.h>

#include "firmware/runtime/fw.h"
#include "firmware/rpmsg/fw_rpmsg.h"

#define FW_OA_OPEN_TIMEOUT_MS 60000u
#define FW_OA_POLL_MS 1000u
#define FW_OA_DEAD_NAP_MS 100u
#define FW_OA_DEAD_POLLS 50u

struct fw_oa_platform {
	bool in_use;
	bool have_dev;
	unsigned vdev_index;
	struct rpmsg_device *rdev;
	unsigned dead_polls;     /* consecutive polls of a dead link */
};

static struct fw_oa_platform the_platform;
/* The device outlives platform_cleanup (it cannot be closed). */
static struct rpmsg_device *g_rdev;
static unsigned g_vdev_index;

int platform_init(int argc, char *argv[], void **platform)
{
	(void)argc;
	(void)argv;
	if (platform == NULL)
		return -FW_EINVAL;
	if (the_platform.in_use) {
		fw_printf("platform_init: the platform is set up already (one per firmware)\n");
		return -FW_EEXIST;
	}
	memset(&the_platform, 0, sizeof(the_platform));
	the_platform.in_use = true;
	*platform = &the_platform;
	return 0;
}

struct rpmsg_device *
platform_create_rpmsg_vdev(void *platform, unsigned int vdev_index,
			   unsigned int role,
			   void (*rst_cb)(struct virtio_device *vdev),
			   rpmsg_ns_bind_cb ns_bind_cb)
{
	struct fw_oa_platform *p = platform;

	(void)role;     /* every partition is the virtio driver of its end */
	(void)rst_cb;   /* no virtio reset under xenamp */
	if (p != &the_platform || !p->in_use) {
		fw_printf("platform_create_rpmsg_vdev: no platform (call platform_init first)\n");
		return NULL;
	}
	if (g_rdev == NULL) {
		if (fw_rpmsg_open(vdev_index, FW_OA_OPEN_TIMEOUT_MS, &g_rdev) < 0) {
			fw_printf("platform_create_rpmsg_vdev: RPMsg device %u is not available\n",
				  vdev_index);
			g_rdev = NULL;
			return NULL;
		}
		g_vdev_index = vdev_index;
	} else if (vdev_index != g_vdev_index) {
		fw_printf("platform_create_rpmsg_vdev: RPMsg device %u refused: the firmware has one device, %u\n",
			  vdev_index, g_vdev_index);
		return NULL;
	}
	/* Names the other side announces with no local endpoint waiting. */
	g_rdev->ns_bind_cb = ns_bind_cb;
	p->have_dev = true;
	p->vdev_index = vdev_index;
	p->rdev = g_rdev;
	p->dead_polls = 0;
	return g_rdev;
}

int platform_poll(void *platform)
{
	struct fw_oa_platform *p = platform;
	int rc;

	if (p != &the_platform || !p->in_use)
		return RPMSG_ERR_PARAM;
	if (!p->have_dev)
		return RPMSG_ERR_DEV_STATE;
	rc = fw_rpmsg_poll(p->rdev, FW_OA_POLL_MS);
	if (rc >= 0) {
		p->dead_polls = 0;
		return 0;
	}
	if (++p->dead_polls >= FW_OA_DEAD_POLLS)
		fw_fatal("platform_poll: RPMsg device %u has been gone for %u s and the application keeps polling it",
			 p->vdev_index, FW_OA_DEAD_POLLS * FW_OA_DEAD_NAP_MS / 1000u);
	if (p->dead_polls == 1)
		fw_printf("platform_poll: RPMsg device %u: %s\n", p->vdev_index,
			  fw_rpmsg_strerror_last());
	fw_sleep_ms(FW_OA_DEAD_NAP_MS);
	return rc;
}

/* Parenthesised: platform_info.h also defines a macro of this name that
 * accepts the one-argument form of older OpenAMP demos. */
void (platform_release_rpmsg_vdev)(struct rpmsg_device *rpdev, void *platform)
{
	struct fw_oa_platform *p = platform != NULL ? platform : &the_platform;

	if (rpdev != NULL && p == &the_platform && p->rdev == rpdev) {
		p->have_dev = false;
		p->rdev = NULL;
	}
}

void platform_cleanup(void *platform)
{
	if (platform == &the_platform)
		memset(&the_platform, 0, sizeof(the_platform));
}

/* ------------------------------------------------------------------ */
/* <openamp/rpmsg_virtio.h>: buffer sizes of a device                  */

/* The driver core answers per endpoint and reads nothing of it but its
 * rdev: a blank endpoint on rdev asks the device. */
static int device_payload_size(struct rpmsg_device *rdev, bool tx)
{
	struct rpmsg_endpoint probe;

	if (rdev == NULL)
		return RPMSG_ERR_PARAM;
	memset(&probe, 0, sizeof(probe));
	probe.rdev = rdev;
	return tx ? rpmsg_get_tx_buffer_size(&probe) :
		    rpmsg_get_rx_buffer_size(&probe);
}

int rpmsg_virtio_get_tx_buffer_size(struct rpmsg_device *rdev)
{
	return device_payload_size(rdev, true);
}

int rpmsg_virtio_get_rx_buffer_size(struct rpmsg_device *rdev)
{
	return device_payload_size(rdev, false);
}

int (rpmsg_virtio_get_buffer_size)(struct rpmsg_device *rdev)
{
	return device_payload_size(rdev, true);
}

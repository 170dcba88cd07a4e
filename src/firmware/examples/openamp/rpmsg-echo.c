/* RPMsg echo, written as an application of OpenAMP's demos is: only
 * OpenAMP's API (<openamp/open_amp.h>, libmetal's headers and the
 * machine layer's "platform_info.h": platform_init,
 * platform_create_rpmsg_vdev, platform_poll, platform_release_rpmsg_vdev,
 * platform_cleanup) and the C library's printf. Nothing of xenamp.
 *
 * The same file builds, unchanged,
 *  - as firmware (rpmsg-echo.elf: the firmware SDK's flags, linked with
 *    libxenamp-fw.a and a resource table, rsc_table.c), where printf is
 *    the domain's console and main's argv is its command line;
 *  - as a process of a local-mode or Linux partition (rpmsg-echo-local:
 *    -I include/openamp, linked with libxenamp-openamp), partition from
 *    $XENAMP_PARTITION.
 *
 * It announces RPMSG_SERVICE_NAME and sends every message back to the
 * endpoint it came from; it stops on the 4-byte SHUTDOWN_MSG or when the
 * other side's endpoint goes away (name-service destroy), then reports
 * how many messages it echoed and returns 0 (the firmware powers off). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openamp/open_amp.h>
#include <metal/alloc.h>
#include "platform_info.h"
#include "rpmsg-echo.h"

#define SHUTDOWN_MSG 0xEF56A55Au

#define LPRINTF(format, ...) printf("rpmsg-echo: " format, ##__VA_ARGS__)
#define LPERROR(format, ...) LPRINTF("ERROR: " format, ##__VA_ARGS__)

static struct rpmsg_endpoint lept;
static int shutdown_req;
static unsigned long echoed, send_errors;

static int rpmsg_endpoint_cb(struct rpmsg_endpoint *ept, void *data, size_t len,
			     uint32_t src, void *priv)
{
	unsigned int word;

	(void)src;
	(void)priv;
	/* The payload is the other side's: copied out before it is looked at. */
	if (len == sizeof(word)) {
		memcpy(&word, data, sizeof(word));
		if (word == SHUTDOWN_MSG) {
			LPRINTF("shutdown message is received.\n");
			shutdown_req = 1;
			return RPMSG_SUCCESS;
		}
	}
	/* Back to the sender: the first message bound ept to it. */
	if (rpmsg_send(ept, data, (int)len) < 0) {
		LPERROR("rpmsg_send failed\n");
		send_errors++;
	} else {
		echoed++;
	}
	return RPMSG_SUCCESS;
}

static void rpmsg_service_unbind(struct rpmsg_endpoint *ept)
{
	(void)ept;
	LPRINTF("the remote endpoint went away\n");
	shutdown_req = 1;
}

static int app(struct rpmsg_device *rdev, void *priv)
{
	int ret;

	LPRINTF("creating endpoint %s\n", RPMSG_SERVICE_NAME);
	ret = rpmsg_create_ept(&lept, rdev, RPMSG_SERVICE_NAME,
			       RPMSG_ADDR_ANY, RPMSG_ADDR_ANY,
			       rpmsg_endpoint_cb, rpmsg_service_unbind);
	if (ret) {
		LPERROR("failed to create endpoint: %d\n", ret);
		return -1;
	}
	LPRINTF("serving %s at address %u, payload up to %d bytes\n",
		RPMSG_SERVICE_NAME, (unsigned)lept.addr,
		rpmsg_virtio_get_buffer_size(rdev));
	while (!shutdown_req)
		platform_poll(priv);
	rpmsg_destroy_ept(&lept);
	LPRINTF("echoed %lu messages, %lu send errors\n", echoed, send_errors);
	return send_errors == 0 ? 0 : -1;
}

int main(int argc, char *argv[])
{
	void *platform;
	struct rpmsg_device *rpdev;
	int ret;

	LPRINTF("starting application\n");
	ret = platform_init(argc, argv, &platform);
	if (ret) {
		LPERROR("failed to initialize platform\n");
		return EXIT_FAILURE;
	}
	rpdev = platform_create_rpmsg_vdev(platform, 0, VIRTIO_DEV_DEVICE,
					   NULL, NULL);
	if (!rpdev) {
		LPERROR("failed to create rpmsg virtio device\n");
		ret = -1;
	} else {
		ret = app(rpdev, platform);
		platform_release_rpmsg_vdev(rpdev, platform);
	}
	LPRINTF("stopping application\n");
	platform_cleanup(platform);
	return ret == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

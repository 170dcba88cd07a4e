/* The RPMsg echo service as bare-metal firmware, written as OpenAMP's
 * echo demo is: an endpoint named "rpmsg-echo" created with
 * rpmsg_create_ept (announced through the name service) whose callback
 * sends every message back to its sender with rpmsg_sendto, and a loop
 * that polls the device (fw_rpmsg_poll where OpenAMP calls
 * platform_poll). The same service as xenamp-echo-server, on the firmware
 * runtime's RPMsg device 0: the RPMsg driver core of libxenamp, compiled
 * for the firmware.
 *
 * Runs until the domain is destroyed. A backend restart is survived (the
 * device reconnects inside fw_rpmsg_poll, fw_rpmsg.h). If the backend does
 * not offer the device within 60 s, or the link goes away for good (no
 * backend back within 30 s, a refusal), it prints one line and crashes
 * (the domain's on_crash decides what happens next). Every 100 messages,
 * and after 2 s without any, it prints a count. */
#include <stddef.h>

#include <xenamp/rpmsg.h>
#include <xenamp/rsc_table.h>

#include "firmware/runtime/fw.h"
#include "firmware/rpmsg/fw_rpmsg.h"

#define SERVICE "rpmsg-echo"
#define OPEN_TIMEOUT_MS 60000u

/* The resource table (OpenAMP layout) that xenamp-load --inspect reads
 * from the file: one RPMsg vdev whose vrings give the link's buf-count.
 * Like xenamp-echo-fw's, it is not read at run time: the region's own
 * table is laid out from the backend's parameters (fw_rpmsg.c). */
#define ECHO_VRING_NUM 256

struct echo_rsc {
	struct resource_table hdr;
	uint32_t offset[1];
	struct fw_rsc_vdev vdev;
	struct fw_rsc_vdev_vring vring[2];
} XENAMP_PACKED;

extern const struct echo_rsc echo_resource_table;
__attribute__((section(".resource_table"), used, aligned(8)))
const struct echo_rsc echo_resource_table = {
	.hdr = { .ver = 1, .num = 1 },
	.offset = { offsetof(struct echo_rsc, vdev) },
	.vdev = { .type = RSC_VDEV, .id = 7 /* RPMsg */, .dfeatures = 1u /* NS */,
		  .num_of_vrings = 2 },
	.vring = {
		{ .da = FW_RSC_U32_ADDR_ANY, .align = 4096, .num = ECHO_VRING_NUM, .notifyid = 0 },
		{ .da = FW_RSC_U32_ADDR_ANY, .align = 4096, .num = ECHO_VRING_NUM, .notifyid = 1 },
	},
};

static struct rpmsg_endpoint lept;
static unsigned long count;
static int send_error;

/* OpenAMP's echo callback: the payload goes straight back (rpmsg_sendto
 * copies it out of the RX buffer into a TX buffer). */
static int rpmsg_endpoint_cb(struct rpmsg_endpoint *ept, void *data, size_t len,
			     uint32_t src, void *priv)
{
	int rc;

	(void)priv;
	if (send_error != 0)
		return RPMSG_SUCCESS;
	rc = rpmsg_sendto(ept, data, (int)len, src);
	if (rc < 0)
		send_error = rc;
	else if (++count % 100 == 0)
		fw_printf("echo: %lu messages echoed\n", count);
	return RPMSG_SUCCESS;
}

static void rpmsg_service_unbind(struct rpmsg_endpoint *ept)
{
	(void)ept;
	fw_printf("echo: the remote end of %s went away\n", SERVICE);
}

int fw_main(void)
{
	struct rpmsg_device *rdev;
	unsigned long reported = 0;
	int rc;

	fw_printf("echo: waiting for RPMsg device 0\n");
	if (fw_rpmsg_open(0, OPEN_TIMEOUT_MS, &rdev) < 0)
		return 3;
	rc = rpmsg_create_ept(&lept, rdev, SERVICE, RPMSG_ADDR_ANY, RPMSG_ADDR_ANY,
			      rpmsg_endpoint_cb, rpmsg_service_unbind);
	if (rc != RPMSG_SUCCESS) {
		fw_printf("echo: creating %s failed: %d (%s)\n", SERVICE, rc,
			  fw_rpmsg_strerror_last());
		return 4;
	}
	fw_printf("echo: %s announced at address %u (payload up to %d bytes)\n",
		  SERVICE, lept.addr, rpmsg_get_tx_buffer_size(&lept));
	for (;;) {
		rc = fw_rpmsg_poll(rdev, 2000);
		if (send_error != 0) {
			fw_printf("echo: sending a reply failed: %d (%s)\n", send_error,
				  fw_rpmsg_strerror_last());
			return 5;
		}
		if (rc < 0) {
			fw_printf("echo: the link is gone after %lu messages: %s\n",
				  count, fw_rpmsg_strerror_last());
			return 6;
		}
		if (rc == 0 && count != reported) {
			fw_printf("echo: %lu messages echoed, idle\n", count);
			reported = count;
		}
	}
}

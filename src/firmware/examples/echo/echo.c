/* The RPMsg echo service as bare-metal firmware: the same service as
 * xenamp-echo-server (an endpoint named "rpmsg-echo", announced through
 * the name service, that sends every message back to its sender), on the
 * firmware runtime's RPMsg device 0 instead of libxenamp.
 *
 * Runs until the domain is destroyed. If the backend does not offer the
 * device within 60 s, or the link goes away, it prints one line and
 * crashes (the domain's on_crash decides what happens next). Every 100
 * messages, and after 2 s without any, it prints a count. */
#include <stddef.h>

#include <xenamp/rsc_table.h>

#include "firmware/runtime/fw.h"
#include "firmware/rpmsg/fw_rpmsg.h"

#define SERVICE "rpmsg-echo"
#define ECHO_ADDR 1024u          /* the first dynamic address */
#define OPEN_TIMEOUT_MS 60000u
#define SEND_TIMEOUT_MS 15000u

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

static struct fw_rpmsg_dev dev;
static uint8_t copy[65536];
static int send_error;

static void echo_cb(struct fw_rpmsg_dev *d, uint32_t src, uint32_t dst,
		    const void *payload, uint32_t len, void *arg)
{
	uint64_t *count = arg;

	if (dst != ECHO_ADDR || send_error)
		return;
	/* the payload lives in a buffer the backend can still write: send
	 * back one private copy of it */
	memcpy(copy, payload, len);
	send_error = fw_rpmsg_send(d, ECHO_ADDR, src, copy, len, SEND_TIMEOUT_MS);
	if (send_error == 0 && ++*count % 100 == 0)
		fw_printf("echo: %lu messages echoed\n", (unsigned long)*count);
}

int fw_main(void)
{
	uint64_t count = 0, reported = 0;
	int rc;

	fw_printf("echo: waiting for RPMsg device 0\n");
	rc = fw_rpmsg_open(&dev, 0, OPEN_TIMEOUT_MS);
	if (rc < 0)
		return 3;
	rc = fw_rpmsg_announce(&dev, SERVICE, ECHO_ADDR);
	if (rc < 0) {
		fw_printf("echo: announcing %s failed: %d\n", SERVICE, rc);
		return 4;
	}
	fw_printf("echo: %s announced at address %u (payload up to %u bytes)\n",
		  SERVICE, ECHO_ADDR, fw_rpmsg_payload_max(&dev));
	for (;;) {
		rc = fw_rpmsg_poll(&dev, 2000, echo_cb, &count);
		if (send_error) {
			fw_printf("echo: sending a reply failed: %d\n", send_error);
			return 5;
		}
		if (rc < 0) {
			fw_printf("echo: the link is gone after %lu messages\n",
				  (unsigned long)count);
			return 6;
		}
		if (rc == 0 && count != reported) {
			fw_printf("echo: %lu messages echoed, idle\n", (unsigned long)count);
			reported = count;
		}
	}
}

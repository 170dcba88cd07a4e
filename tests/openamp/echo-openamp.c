/* An RPMsg echo application written only against OpenAMP's published API
 * and the platform layer of OpenAMP's demo applications (platform_info.h),
 * as an application for an OpenAMP remote would be. It includes nothing of
 * xenamp: built with -I include/openamp (the compatibility headers) and
 * linked with libxenamp-openamp, it runs over xenamp-backend unchanged.
 *
 * It announces RPMSG_SERVICE_NAME, sends every message back to its
 * sender, and stops when the peer's endpoint goes away (name-service
 * destroy) or when it receives the 4-byte shutdown word. */
#include <stdio.h>
#include <string.h>
#include <openamp/open_amp.h>
#include <openamp/version.h>
#include <metal/alloc.h>
#include <metal/log.h>
#include <metal/version.h>
#include "platform_info.h"
#include "echo-openamp.h"

#define SHUTDOWN_WORD 0xEF56A55Au

struct echo_stats {
	unsigned long msgs;
	unsigned long bytes;
	unsigned long errors;
};

static struct rpmsg_endpoint echo_ept;
static volatile int done;

static int echo_cb(struct rpmsg_endpoint *ept, void *data, size_t len,
		   uint32_t src, void *priv)
{
	struct echo_stats *st = priv;
	unsigned int word;

	if (len == sizeof(word)) {
		memcpy(&word, data, sizeof(word));
		if (word == SHUTDOWN_WORD) {
			metal_info("echo-openamp: shutdown word received\n");
			done = 1;
			return RPMSG_SUCCESS;
		}
	}
	if (rpmsg_sendto(ept, data, (int)len, src) < 0)
		st->errors++;
	else {
		st->msgs++;
		st->bytes += len;
	}
	return RPMSG_SUCCESS;
}

static void echo_unbind(struct rpmsg_endpoint *ept)
{
	(void)ept;
	metal_info("echo-openamp: the remote endpoint went away\n");
	done = 1;
}

static int run(struct rpmsg_device *rdev, void *platform)
{
	struct echo_stats *st = metal_allocate_memory(sizeof(*st));
	int ret;

	if (st == NULL)
		return -1;
	memset(st, 0, sizeof(*st));
	echo_ept.priv = st;
	ret = rpmsg_create_ept(&echo_ept, rdev, RPMSG_SERVICE_NAME,
			       RPMSG_ADDR_ANY, RPMSG_ADDR_ANY, echo_cb,
			       echo_unbind);
	if (ret) {
		metal_err("echo-openamp: cannot create endpoint: %d\n", ret);
		metal_free_memory(st);
		return -1;
	}
	printf("echo-openamp: serving '%s' at address %u, TX payload %d bytes\n",
	       RPMSG_SERVICE_NAME, (unsigned)echo_ept.addr,
	       rpmsg_get_tx_buffer_size(&echo_ept));
	fflush(stdout);
	while (!done) {
		if (platform_poll(platform) < 0) {
			metal_err("echo-openamp: platform_poll failed\n");
			st->errors++;
			break;
		}
	}
	rpmsg_destroy_ept(&echo_ept);
	printf("echo-openamp: echoed %lu messages, %lu bytes, %lu errors\n",
	       st->msgs, st->bytes, st->errors);
	ret = st->errors ? -1 : 0;
	metal_free_memory(st);
	return ret;
}

int main(int argc, char *argv[])
{
	struct rpmsg_device *rpdev;
	void *platform;
	int ret;

	printf("echo-openamp: openamp %s (%d.%d.%d), libmetal %s\n",
	       openamp_version(), openamp_version_major(),
	       openamp_version_minor(), openamp_version_patch(), metal_ver());
	ret = platform_init(argc, argv, &platform);
	if (ret) {
		metal_err("echo-openamp: platform_init failed\n");
		return 1;
	}
	rpdev = platform_create_rpmsg_vdev(platform, 0, VIRTIO_DEV_DEVICE,
					   NULL, NULL);
	if (rpdev == NULL) {
		metal_err("echo-openamp: cannot create the rpmsg virtio device\n");
		ret = 1;
	} else {
		ret = run(rpdev, platform) ? 1 : 0;
		platform_release_rpmsg_vdev(rpdev, platform);
	}
	platform_cleanup(platform);
	return ret;
}

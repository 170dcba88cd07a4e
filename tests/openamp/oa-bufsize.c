/* OpenAMP API group: buffer sizes of a virtio RPMsg device
 * (rpmsg_virtio_get_buffer_size, rpmsg_virtio_get_tx_buffer_size,
 * rpmsg_virtio_get_rx_buffer_size, RPMSG_BUFFER_SIZE), as OpenAMP's ping
 * demos up to v2022 use them to size their messages.
 *
 * fw: announces "oa-bufsize" and echoes every message until "bye".
 * host: binds to it, sends one message of the full payload size and one
 * longer one (truncated to it, as OpenAMP does), checks both echoes byte
 * for byte, says "bye". The link's buf-size is 512 (RPMSG_BUFFER_SIZE). */
#include "oa-pair.h"

#define SVC "oa-bufsize"

static struct rpmsg_endpoint ept;
static volatile int bound, bye, nrecv, got2;
static unsigned char rx[2][RPMSG_BUFFER_SIZE];
static size_t rxlen[2];

static int fw_cb(struct rpmsg_endpoint *e, void *data, size_t len,
		 uint32_t src, void *priv)
{
	(void)priv;
	if (len == 3 && memcmp(data, "bye", 3) == 0) {
		bye = 1;
		return RPMSG_SUCCESS;
	}
	OA_CHECK(rpmsg_sendto(e, data, (int)len, src) == (int)len);
	return RPMSG_SUCCESS;
}

static int host_cb(struct rpmsg_endpoint *e, void *data, size_t len,
		   uint32_t src, void *priv)
{
	(void)e; (void)src; (void)priv;
	if (nrecv < 2 && len <= sizeof(rx[0])) {
		memcpy(rx[nrecv], data, len);
		rxlen[nrecv] = len;
	}
	if (++nrecv == 2)
		got2 = 1;
	return RPMSG_SUCCESS;
}

static void host_bind(struct rpmsg_device *rdev, const char *name, uint32_t dest)
{
	if (strcmp(name, SVC) != 0)
		return;
	OA_CHECK(rpmsg_create_ept(&ept, rdev, SVC, RPMSG_ADDR_ANY, dest, host_cb,
				  NULL) == RPMSG_SUCCESS);
	bound = 1;
}

static void check_sizes(struct rpmsg_device *rdev)
{
	int payload = RPMSG_BUFFER_SIZE - 16;   /* minus struct rpmsg_hdr */

	OA_CHECK(RPMSG_BUFFER_SIZE == 512);
	OA_CHECK(rpmsg_virtio_get_buffer_size(rdev) == payload);
	OA_CHECK(rpmsg_virtio_get_tx_buffer_size(rdev) == payload);
	OA_CHECK(rpmsg_virtio_get_rx_buffer_size(rdev) == payload);
	OA_CHECK(rpmsg_virtio_get_buffer_size(NULL) == RPMSG_ERR_PARAM);
	OA_CHECK(rpmsg_virtio_get_tx_buffer_size(NULL) == RPMSG_ERR_PARAM);
	OA_CHECK(rpmsg_virtio_get_rx_buffer_size(NULL) == RPMSG_ERR_PARAM);
}

static void host_run(struct rpmsg_device *rdev, void *platform)
{
	int max = rpmsg_virtio_get_buffer_size(rdev);
	unsigned char msg[RPMSG_BUFFER_SIZE + 64];

	if (!oa_poll_until(platform, &bound, 10.0)) {
		OA_CHECK(!"service " SVC " announced");
		return;
	}
	OA_CHECK(rpmsg_get_tx_buffer_size(&ept) == max);
	for (size_t i = 0; i < sizeof(msg); i++)
		msg[i] = (unsigned char)(i * 7 + 3);
	OA_CHECK(rpmsg_send(&ept, msg, max) == max);
	/* Longer than a buffer: truncated to the payload size. */
	OA_CHECK(rpmsg_send(&ept, msg, max + 40) == max);
	OA_CHECK(oa_poll_until(platform, &got2, 10.0));
	for (int k = 0; k < 2; k++) {
		OA_CHECK(rxlen[k] == (size_t)max);
		OA_CHECK(memcmp(rx[k], msg, (size_t)max) == 0);
	}
	OA_CHECK(rpmsg_send(&ept, "bye", 3) == 3);
	rpmsg_destroy_ept(&ept);
}

int main(int argc, char *argv[])
{
	int host = oa_start("oa-bufsize", argc, argv);
	void *platform;
	struct rpmsg_device *rdev = oa_open(&platform, argc, argv,
					    host ? host_bind : NULL);

	check_sizes(rdev);
	if (host) {
		host_run(rdev, platform);
	} else {
		OA_CHECK(rpmsg_create_ept(&ept, rdev, SVC, RPMSG_ADDR_ANY,
					  RPMSG_ADDR_ANY, fw_cb, NULL) == 0);
		printf("oa-bufsize fw: ready\n");
		fflush(stdout);
		OA_CHECK(oa_poll_until(platform, &bye, 20.0));
		rpmsg_destroy_ept(&ept);
	}
	return oa_finish(rdev, platform);
}

/* The matrix-multiply service of OpenAMP's demos, written as such an
 * application is: OpenAMP's API, libmetal's headers, the machine layer's
 * "platform_info.h" and printf; nothing of xenamp. Built unchanged as
 * firmware (matrix_multiply.elf, with the firmware SDK and rsc_table.c)
 * and as a local-mode process (matrix_multiply-local, with
 * libxenamp-openamp).
 *
 * A request is NUM_MATRIX square matrices of the same size (1..MAX_SIZE)
 * in one message; the reply is their product. A request of any other
 * length or size is refused (counted, no reply). The 4-byte
 * SHUTDOWN_MSG, or the other side's endpoint going away, ends it: it
 * reports its counts and returns 0 (the firmware powers off). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openamp/open_amp.h>
#include <metal/alloc.h>
#include "platform_info.h"
#include "matrix_multiply.h"

#define SHUTDOWN_MSG 0xEF56A55Au

#define LPRINTF(format, ...) printf("matrix_multiply: " format, ##__VA_ARGS__)
#define LPERROR(format, ...) LPRINTF("ERROR: " format, ##__VA_ARGS__)

static struct rpmsg_endpoint lept;
static int shutdown_req;
static unsigned long products, refused, send_errors;

static void Matrix_Multiply(const matrix *m, const matrix *n, matrix *r)
{
	unsigned int i, j, k;

	memset(r, 0, sizeof(*r));
	r->size = m->size;
	for (i = 0; i < m->size; ++i)
		for (j = 0; j < n->size; ++j)
			for (k = 0; k < r->size; ++k)
				r->elements[i][j] += m->elements[i][k] * n->elements[k][j];
}

static int rpmsg_endpoint_cb(struct rpmsg_endpoint *ept, void *data, size_t len,
			     uint32_t src, void *priv)
{
	matrix matrix_array[NUM_MATRIX];
	matrix matrix_result;
	unsigned int word;

	(void)src;
	(void)priv;
	if (len == sizeof(word)) {
		memcpy(&word, data, sizeof(word));
		if (word == SHUTDOWN_MSG) {
			LPRINTF("shutdown message is received.\n");
			shutdown_req = 1;
			return RPMSG_SUCCESS;
		}
	}
	/* One copy out of the shared buffer, then checked: the loops use
	 * the copy's sizes only. */
	if (len != sizeof(matrix_array)) {
		refused++;
		return RPMSG_SUCCESS;
	}
	memcpy(matrix_array, data, sizeof(matrix_array));
	if (matrix_array[0].size == 0 || matrix_array[0].size > MAX_SIZE ||
	    matrix_array[1].size != matrix_array[0].size) {
		refused++;
		return RPMSG_SUCCESS;
	}
	Matrix_Multiply(&matrix_array[0], &matrix_array[1], &matrix_result);
	if (rpmsg_send(ept, &matrix_result, sizeof(matrix)) < 0) {
		LPERROR("rpmsg_send failed\n");
		send_errors++;
	} else {
		products++;
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

	ret = rpmsg_create_ept(&lept, rdev, RPMSG_SERVICE_NAME,
			       RPMSG_ADDR_ANY, RPMSG_ADDR_ANY,
			       rpmsg_endpoint_cb, rpmsg_service_unbind);
	if (ret) {
		LPERROR("failed to create endpoint: %d\n", ret);
		return -1;
	}
	LPRINTF("serving %s at address %u\n", RPMSG_SERVICE_NAME,
		(unsigned)lept.addr);
	while (!shutdown_req)
		platform_poll(priv);
	rpmsg_destroy_ept(&lept);
	LPRINTF("%lu products, %lu requests refused, %lu send errors\n",
		products, refused, send_errors);
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

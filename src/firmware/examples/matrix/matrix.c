/* The matrix-multiply service of OpenAMP's demos as bare-metal firmware
 * (and, from this same file, as the local-mode process matrix-local): an
 * endpoint named "rpmsg-openamp-demo-channel", announced through the name
 * service, receives two square matrices in one message and sends back
 * their product; the message SHUTDOWN_MSG ends it (return 0: the firmware
 * powers off, the process exits 0).
 *
 * Wire format, as OpenAMP's demo: struct matrix, host byte order, two of
 * them per request, one in the reply. A request of any other length, or
 * with a size outside 1..MAX_SIZE, is answered with nothing and counted.
 *
 * If the backend does not offer the device within 60 s, or the link goes
 * away, it prints one line and returns non-zero (the firmware crashes,
 * so the domain's on_crash decides). */
#include <stddef.h>
#include <stdint.h>

#include <xenamp/rpmsg.h>

#include "firmware/runtime/fw.h"
#include "firmware/rpmsg/fw_rpmsg.h"

#define SERVICE "rpmsg-openamp-demo-channel"
#define OPEN_TIMEOUT_MS 60000u
#define MAX_SIZE 6
#define NUM_MATRIX 2
#define SHUTDOWN_MSG 0xEF56A55Au

struct matrix {
	unsigned int size;
	unsigned int elements[MAX_SIZE][MAX_SIZE];
};

static struct rpmsg_endpoint lept;
static unsigned long served, refused;
static int shutdown_req, send_error;

static void multiply(const struct matrix *a, const struct matrix *b,
		     struct matrix *r)
{
	unsigned n = a->size;

	r->size = n;
	for (unsigned i = 0; i < n; i++)
		for (unsigned j = 0; j < n; j++) {
			unsigned int sum = 0;

			for (unsigned k = 0; k < n; k++)
				sum += a->elements[i][k] * b->elements[k][j];
			r->elements[i][j] = sum;
		}
}

static int rpmsg_endpoint_cb(struct rpmsg_endpoint *ept, void *data, size_t len,
			     uint32_t src, void *priv)
{
	struct matrix in[NUM_MATRIX], out;
	uint32_t word;
	int rc;

	(void)priv;
	if (len == sizeof(word)) {
		memcpy(&word, data, sizeof(word));
		if (word == SHUTDOWN_MSG) {
			shutdown_req = 1;
			return RPMSG_SUCCESS;
		}
	}
	/* One copy out of the shared buffer, then checked: the sizes the
	 * loops use are the copy's. */
	if (len != sizeof(in)) {
		refused++;
		return RPMSG_SUCCESS;
	}
	memcpy(in, data, sizeof(in));
	if (in[0].size == 0 || in[0].size > MAX_SIZE || in[1].size != in[0].size) {
		refused++;
		return RPMSG_SUCCESS;
	}
	memset(&out, 0, sizeof(out));
	multiply(&in[0], &in[1], &out);
	rc = rpmsg_sendto(ept, &out, sizeof(out), src);
	if (rc < 0)
		send_error = rc;
	else
		served++;
	return RPMSG_SUCCESS;
}

int fw_main(void)
{
	struct rpmsg_device *rdev;
	int rc;

	fw_printf("matrix: waiting for RPMsg device 0\n");
	if (fw_rpmsg_open(0, OPEN_TIMEOUT_MS, &rdev) < 0)
		return 3;
	rc = rpmsg_create_ept(&lept, rdev, SERVICE, RPMSG_ADDR_ANY, RPMSG_ADDR_ANY,
			      rpmsg_endpoint_cb, NULL);
	if (rc != RPMSG_SUCCESS) {
		fw_printf("matrix: creating %s failed: %d (%s)\n", SERVICE, rc,
			  fw_rpmsg_strerror_last());
		return 4;
	}
	fw_printf("matrix: %s announced at address %u\n", SERVICE, lept.addr);
	while (!shutdown_req) {
		rc = fw_rpmsg_poll(rdev, 2000);
		if (send_error != 0) {
			fw_printf("matrix: sending a product failed: %d (%s)\n",
				  send_error, fw_rpmsg_strerror_last());
			return 5;
		}
		if (rc < 0) {
			fw_printf("matrix: the link is gone after %lu products: %s\n",
				  served, fw_rpmsg_strerror_last());
			return 6;
		}
	}
	fw_printf("matrix: shutdown after %lu products, %lu requests refused\n",
		  served, refused);
	rpmsg_destroy_ept(&lept);
	return 0;
}

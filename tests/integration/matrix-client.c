/* Client of the matrix-multiply example (src/firmware/examples/matrix):
 *   matrix-client N
 * waits (10 s) for the service "rpmsg-openamp-demo-channel" to be
 * announced, sends N requests of two random square matrices (sizes 1..6),
 * checks every product against its own, then sends the demo's shutdown
 * message. Prints "products N, mismatches M" and exits 0 only when every
 * product came back right. Partition: $XENAMP_PARTITION. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xenamp/rpmsg.h>
#include <xenamp/xenamp.h>

#define SERVICE "rpmsg-openamp-demo-channel"
#define MAX_SIZE 6
#define SHUTDOWN_MSG 0xEF56A55Au

struct matrix {
	unsigned int size;
	unsigned int elements[MAX_SIZE][MAX_SIZE];
};

static uint32_t peer = RPMSG_ADDR_ANY;
static struct matrix reply;
static int replies, bad_len;

static void ns_bind(struct rpmsg_device *rdev, const char *name, uint32_t dest)
{
	(void)rdev;
	if (strcmp(name, SERVICE) == 0)
		peer = dest;
}

static int cb(struct rpmsg_endpoint *ept, void *data, size_t len, uint32_t src,
	      void *priv)
{
	(void)ept; (void)src; (void)priv;
	if (len != sizeof(reply)) {
		bad_len++;
		return RPMSG_SUCCESS;
	}
	memcpy(&reply, data, sizeof(reply));
	replies++;
	return RPMSG_SUCCESS;
}

static void random_matrix(struct matrix *m, unsigned n)
{
	memset(m, 0, sizeof(*m));
	m->size = n;
	for (unsigned i = 0; i < n; i++)
		for (unsigned j = 0; j < n; j++)
			m->elements[i][j] = (unsigned)rand() % 1000u;
}

static int product_ok(const struct matrix *a, const struct matrix *b,
		      const struct matrix *r)
{
	if (r->size != a->size)
		return 0;
	for (unsigned i = 0; i < a->size; i++)
		for (unsigned j = 0; j < a->size; j++) {
			unsigned int sum = 0;

			for (unsigned k = 0; k < a->size; k++)
				sum += a->elements[i][k] * b->elements[k][j];
			if (r->elements[i][j] != sum)
				return 0;
		}
	return 1;
}

/* Dispatch until want replies arrived or 5 s passed. */
static int wait_replies(struct xenamp_dev *d, int want)
{
	for (int i = 0; i < 50 && replies < want; i++)
		if (xenamp_dispatch(d, 100) < 0)
			return -1;
	return replies >= want ? 0 : -1;
}

int main(int argc, char **argv)
{
	struct xenamp_opts o = { .ns_bind_cb = ns_bind };
	struct rpmsg_endpoint ept;
	struct xenamp_dev *d;
	int n = argc > 1 ? atoi(argv[1]) : 100, mismatches = 0, i;
	uint32_t shut = SHUTDOWN_MSG;

	if (xenamp_open(NULL, 0, &o, &d) != 0) {
		fprintf(stderr, "matrix-client: %s\n", xenamp_strerror_last());
		return 1;
	}
	memset(&ept, 0, sizeof(ept));
	if (rpmsg_create_ept(&ept, xenamp_rpmsg_dev(d), "", RPMSG_ADDR_ANY,
			     RPMSG_ADDR_ANY, cb, NULL) != RPMSG_SUCCESS) {
		fprintf(stderr, "matrix-client: cannot create the endpoint\n");
		return 1;
	}
	for (i = 0; i < 100 && peer == RPMSG_ADDR_ANY; i++)
		(void)xenamp_dispatch(d, 100);
	if (peer == RPMSG_ADDR_ANY) {
		fprintf(stderr, "matrix-client: %s was not announced in 10 s\n", SERVICE);
		return 1;
	}
	srand(12345);
	for (i = 0; i < n; i++) {
		struct matrix m[2];
		unsigned size = 1u + (unsigned)i % MAX_SIZE;

		random_matrix(&m[0], size);
		random_matrix(&m[1], size);
		if (rpmsg_sendto(&ept, m, sizeof(m), peer) != (int)sizeof(m) ||
		    wait_replies(d, i + 1) < 0) {
			fprintf(stderr, "matrix-client: request %d got no product\n", i);
			break;
		}
		mismatches += !product_ok(&m[0], &m[1], &reply);
	}
	(void)rpmsg_sendto(&ept, &shut, sizeof(shut), peer);
	printf("products %d, mismatches %d, bad lengths %d\n", replies, mismatches, bad_len);
	rpmsg_destroy_ept(&ept);
	xenamp_close(d);
	return replies == n && mismatches == 0 && bad_len == 0 ? 0 : 1;
}

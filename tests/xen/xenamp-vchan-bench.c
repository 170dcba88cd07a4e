/* xenamp-vchan-bench: the baseline for the relay's throughput in tests/xen.
 *
 * A plain libxenvchan byte stream between the same two domUs, carrying the
 * same traffic as `xenamp-echo-client -n N` (message k has (k % 496) + 1
 * bytes of the client's pattern), echoed back by the server and checked
 * byte for byte by the client. Not a test: it prints a figure.
 *
 *   xenamp-vchan-bench server CLIENT_DOMID XS_PATH
 *   xenamp-vchan-bench client SERVER_DOMID XS_PATH COUNT
 *
 * The client prints
 *   vchan: COUNT messages, BYTES bytes echoed in SECS s (KIB KiB/s), mismatches M
 * and exits 0 when every byte came back intact. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libxenvchan.h>

#define PAYLOAD_MAX 496u
#define RING_BYTES 65536u

struct gen {
	unsigned long k;   /* message number */
	unsigned i;        /* byte within it */
};

static uint8_t pattern(unsigned long seq, size_t i)
{
	uint32_t x = (uint32_t)seq * 2654435761u + (uint32_t)i * 40503u;

	return (uint8_t)(x ^ (x >> 13) ^ (x >> 24));
}

static uint8_t gen_next(struct gen *g)
{
	uint8_t b = pattern(g->k, g->i);

	if (++g->i == (g->k % PAYLOAD_MAX) + 1) {
		g->i = 0;
		g->k++;
	}
	return b;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int server(int peer, const char *path)
{
	struct libxenvchan *c = libxenvchan_server_init(NULL, peer, path,
							RING_BYTES, RING_BYTES);
	static uint8_t buf[8192];
	unsigned long long total = 0;

	if (c == NULL) {
		fprintf(stderr, "xenamp-vchan-bench: server_init(%d, %s): %s\n",
			peer, path, strerror(errno));
		return 1;
	}
	c->blocking = 1;
	for (;;) {
		int n = libxenvchan_read(c, buf, sizeof(buf));

		if (n <= 0)
			break;
		if (libxenvchan_write(c, buf, (size_t)n) != n)
			break;
		total += (unsigned)n;
	}
	printf("vchan server: echoed %llu bytes\n", total);
	libxenvchan_close(c);
	return 0;
}

static int client(int peer, const char *path, unsigned long count)
{
	struct libxenvchan *c = NULL;
	struct gen tx = { 0, 0 }, rx = { 0, 0 };
	unsigned long long total = 0, sent = 0, got = 0, bad = 0;
	static uint8_t buf[8192];
	double t0, t1;

	for (unsigned long k = 0; k < count; k++)
		total += (k % PAYLOAD_MAX) + 1;
	for (int i = 0; i < 300 && c == NULL; i++) {
		c = libxenvchan_client_init(NULL, peer, path);
		if (c == NULL)
			usleep(100000);
	}
	if (c == NULL) {
		fprintf(stderr, "xenamp-vchan-bench: client_init(%d, %s): %s\n",
			peer, path, strerror(errno));
		return 1;
	}
	c->blocking = 0;
	t0 = now_s();
	while (got < total) {
		int progress = 0, n;

		if (sent < total) {
			n = libxenvchan_buffer_space(c);
			if (n > (int)sizeof(buf))
				n = sizeof(buf);
			if ((unsigned long long)n > total - sent)
				n = (int)(total - sent);
			if (n > 0) {
				struct gen save = tx;

				for (int i = 0; i < n; i++)
					buf[i] = gen_next(&tx);
				n = libxenvchan_write(c, buf, (size_t)n);
				if (n < 0)
					break;
				/* a short write: regenerate from where it stopped */
				tx = save;
				for (int i = 0; i < n; i++)
					(void)gen_next(&tx);
				sent += (unsigned)n;
				progress |= n > 0;
			}
		}
		if (libxenvchan_data_ready(c) > 0) {
			n = libxenvchan_read(c, buf, sizeof(buf));
			if (n < 0)
				break;
			for (int i = 0; i < n; i++)
				bad += buf[i] != gen_next(&rx);
			got += (unsigned)n;
			progress |= n > 0;
		}
		if (!progress) {
			if (!libxenvchan_is_open(c))
				break;
			if (libxenvchan_wait(c) < 0)
				break;
		}
	}
	t1 = now_s();
	printf("vchan: %lu messages, %llu bytes echoed in %.2f s (%.0f KiB/s), mismatches %llu\n",
	       count, got, t1 - t0, t1 > t0 ? got / 1024.0 / (t1 - t0) : 0.0, bad);
	libxenvchan_close(c);
	return got == total && bad == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
	if (argc == 4 && strcmp(argv[1], "server") == 0)
		return server(atoi(argv[2]), argv[3]);
	if (argc == 5 && strcmp(argv[1], "client") == 0)
		return client(atoi(argv[2]), argv[3], strtoul(argv[4], NULL, 10));
	fprintf(stderr,
		"usage: xenamp-vchan-bench server CLIENT_DOMID XS_PATH\n"
		"       xenamp-vchan-bench client SERVER_DOMID XS_PATH COUNT\n");
	return 2;
}

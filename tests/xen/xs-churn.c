/* xs-churn: a hostile frontend for tests/xen/scenario-churn.sh, run in a
 * domU by domu-churn.sh.
 *
 *   xs-churn DIR SECS
 *
 * For SECS seconds, as fast as xenstore answers: write DIR's num-pages
 * (1..8, every fourth round 100000, above any max-pages), ring-ref0..7
 * (grant refs never granted) and event-channel, then flip DIR/state
 * between 3 (Initialised) and 1 fifty times. Every write is its own
 * request, outside any transaction, so that each state write fires the
 * watches on it (xenstore-write puts all its writes in one transaction,
 * whose watch events show only the last value). Failed writes (the
 * backend removing and recreating the dir) are counted and skipped.
 * Prints "churn: R rounds, W state writes (F failed) in S s". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <xenstore.h>

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static unsigned long failed;

static void put(struct xs_handle *xs, const char *dir, const char *key,
		unsigned long v)
{
	char path[256], val[32];
	int n = snprintf(val, sizeof(val), "%lu", v);

	snprintf(path, sizeof(path), "%s/%s", dir, key);
	if (!xs_write(xs, XBT_NULL, path, val, (unsigned)n))
		failed++;
}

int main(int argc, char **argv)
{
	struct xs_handle *xs;
	unsigned long rounds = 0, writes = 0;
	double t0, secs;

	if (argc != 3 || (secs = atof(argv[2])) <= 0) {
		fprintf(stderr, "usage: xs-churn DIR SECS\n");
		return 2;
	}
	xs = xs_open(0);
	if (xs == NULL) {
		perror("xs-churn: xs_open");
		return 1;
	}
	t0 = now_s();
	while (now_s() - t0 < secs) {
		char key[16];

		rounds++;
		put(xs, argv[1], "num-pages", rounds % 4 == 0 ? 100000 : rounds % 8 + 1);
		for (unsigned i = 0; i < 8; i++) {
			snprintf(key, sizeof(key), "ring-ref%u", i);
			put(xs, argv[1], key, rounds + i);
		}
		put(xs, argv[1], "event-channel", 9);
		for (int k = 0; k < 50; k++) {
			put(xs, argv[1], "state", 3);
			put(xs, argv[1], "state", 1);
			writes += 2;
		}
	}
	printf("churn: %lu rounds, %lu state writes (%lu writes failed) in %.0f s\n",
	       rounds, writes, failed, now_s() - t0);
	xs_close(xs);
	return 0;
}

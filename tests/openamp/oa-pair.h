/* Helpers shared by the OpenAMP compatibility pair programs (oa-*.c).
 * Written only against OpenAMP's API and the demo platform layer, as the
 * programs are: each runs as one of two partitions ("host" or "fw", the
 * first argument), opened with the platform layer of OpenAMP's demos,
 * and exits 0 only when every check held. One line per failed check on
 * stderr, "oa-NAME ROLE: ok" on stdout at the end. */
#ifndef OA_PAIR_H
#define OA_PAIR_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openamp/open_amp.h>
#include "platform_info.h"

static const char *oa_prog = "oa";
static const char *oa_role = "?";
static int oa_failures;

#define OA_CHECK(cond) \
	do { \
		if (!(cond)) { \
			fprintf(stderr, "%s %s: check failed at line %d: %s\n", \
				oa_prog, oa_role, __LINE__, #cond); \
			oa_failures++; \
		} \
	} while (0)

/* Role from argv[1] ("host" or "fw"); 1 when host. */
static inline int oa_start(const char *prog, int argc, char *argv[])
{
	oa_prog = prog;
	if (argc < 2 || (strcmp(argv[1], "host") != 0 && strcmp(argv[1], "fw") != 0)) {
		fprintf(stderr, "usage: %s host|fw\n", prog);
		exit(2);
	}
	oa_role = argv[1];
	return strcmp(argv[1], "host") == 0;
}

static inline double oa_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* platform_poll() until *flag is set or seconds pass; 1 when it was set. */
static inline int oa_poll_until(void *platform, volatile int *flag, double seconds)
{
	double end = oa_now() + seconds;

	while (!*flag && oa_now() < end)
		if (platform_poll(platform) < 0)
			break;
	return *flag != 0;
}

/* Open vdev 0 of the partition named by $XENAMP_PARTITION. */
static inline struct rpmsg_device *oa_open(void **platform, int argc, char *argv[],
					   rpmsg_ns_bind_cb bind_cb)
{
	struct rpmsg_device *rdev;

	if (platform_init(argc, argv, platform) != 0) {
		fprintf(stderr, "%s %s: platform_init failed\n", oa_prog, oa_role);
		exit(1);
	}
	rdev = platform_create_rpmsg_vdev(*platform, 0, VIRTIO_DEV_DRIVER, NULL,
					  bind_cb);
	if (rdev == NULL) {
		fprintf(stderr, "%s %s: no rpmsg device\n", oa_prog, oa_role);
		exit(1);
	}
	return rdev;
}

static inline int oa_finish(struct rpmsg_device *rdev, void *platform)
{
	platform_release_rpmsg_vdev(rdev, platform);
	platform_cleanup(platform);
	if (oa_failures == 0)
		printf("%s %s: ok\n", oa_prog, oa_role);
	else
		printf("%s %s: %d failed checks\n", oa_prog, oa_role, oa_failures);
	return oa_failures == 0 ? 0 : 1;
}

#endif

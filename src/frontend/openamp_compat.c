/* libxenamp-openamp: the machine layer of OpenAMP's demo applications
 * (platform_init, platform_create_rpmsg_vdev, platform_poll,
 * platform_release_rpmsg_vdev, platform_cleanup; see
 * include/openamp/platform_info.h) over libxenamp, so that an application
 * written for OpenAMP builds against include/openamp and runs over
 * xenamp-backend without a source change.
 *
 * A separate library so that libxenamp itself exports only rpmsg_* and
 * xenamp_* (platform_* names are too generic for a general-purpose
 * library); only platform_* is exported from this one. */
#include <config.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <platform_info.h>
#include <openamp/rpmsg_virtio.h>
#include <xenamp/xenamp.h>

#define XA_OA_MAX_VDEVS 16
#define XA_OA_POLL_MS 1000

struct xa_oa_platform {
	char *partition;         /* NULL: $XENAMP_PARTITION at open time */
	char *socket_path;       /* NULL: $XENAMP_SOCKET / default */
	char *transport;         /* NULL: $XENAMP_TRANSPORT / auto */
	struct xenamp_dev *dev[XA_OA_MAX_VDEVS];
};

/* The platform last set up, for the one-argument release of old demos. */
static struct xa_oa_platform *g_last;

static char *opt_value(const char *arg, const char *name)
{
	size_t n = strlen(name);

	if (strncmp(arg, name, n) == 0 && arg[n] == '=' && arg[n + 1] != '\0')
		return strdup(arg + n + 1);
	return NULL;
}

int platform_init(int argc, char *argv[], void **platform)
{
	struct xa_oa_platform *p;

	if (platform == NULL)
		return -EINVAL;
	p = calloc(1, sizeof(*p));
	if (p == NULL)
		return -ENOMEM;
	for (int i = 1; i < argc && argv != NULL && argv[i] != NULL; i++) {
		char *v;

		if ((v = opt_value(argv[i], "--xenamp-partition")) != NULL) {
			free(p->partition);
			p->partition = v;
		} else if ((v = opt_value(argv[i], "--xenamp-socket")) != NULL) {
			free(p->socket_path);
			p->socket_path = v;
		} else if ((v = opt_value(argv[i], "--xenamp-transport")) != NULL) {
			free(p->transport);
			p->transport = v;
		}
	}
	if (p->partition == NULL && getenv("XENAMP_PARTITION") == NULL) {
		fprintf(stderr,
			"platform_init: no partition name: set XENAMP_PARTITION or pass --xenamp-partition=NAME\n");
		free(p->socket_path);
		free(p->transport);
		free(p);
		return -EINVAL;
	}
	*platform = p;
	g_last = p;
	return 0;
}

struct rpmsg_device *
platform_create_rpmsg_vdev(void *platform, unsigned int vdev_index,
			   unsigned int role,
			   void (*rst_cb)(struct virtio_device *vdev),
			   rpmsg_ns_bind_cb ns_bind_cb)
{
	struct xa_oa_platform *p = platform;
	struct xenamp_opts opts;
	int r;

	(void)role;     /* every partition is the virtio driver of its end */
	(void)rst_cb;   /* no virtio reset under xenamp: a lost link is an error */
	if (p == NULL || vdev_index >= XA_OA_MAX_VDEVS) {
		fprintf(stderr, "platform_create_rpmsg_vdev: bad platform or vdev index %u (0..%d)\n",
			vdev_index, XA_OA_MAX_VDEVS - 1);
		return NULL;
	}
	if (p->dev[vdev_index] != NULL)
		return xenamp_rpmsg_dev(p->dev[vdev_index]);
	memset(&opts, 0, sizeof(opts));
	opts.transport = p->transport;
	opts.socket_path = p->socket_path;
	opts.ns_bind_cb = ns_bind_cb;
	opts.priv = p;
	r = xenamp_open(p->partition, vdev_index, &opts, &p->dev[vdev_index]);
	if (r < 0) {
		fprintf(stderr, "platform_create_rpmsg_vdev: %s\n",
			xenamp_strerror_last());
		p->dev[vdev_index] = NULL;
		return NULL;
	}
	return xenamp_rpmsg_dev(p->dev[vdev_index]);
}

int platform_poll(void *platform)
{
	struct xa_oa_platform *p = platform;
	struct pollfd pfd[XA_OA_MAX_VDEVS];
	struct xenamp_dev *d[XA_OA_MAX_VDEVS];
	int n = 0, ret = 0;

	if (p == NULL)
		return RPMSG_ERR_PARAM;
	for (int i = 0; i < XA_OA_MAX_VDEVS; i++) {
		if (p->dev[i] == NULL)
			continue;
		d[n] = p->dev[i];
		pfd[n].fd = xenamp_fd(p->dev[i]);
		pfd[n].events = POLLIN;
		n++;
	}
	if (n == 0)
		return RPMSG_ERR_DEV_STATE;
	if (n == 1) {
		ret = xenamp_dispatch(d[0], XA_OA_POLL_MS);
	} else {
		if (poll(pfd, (nfds_t)n, XA_OA_POLL_MS) < 0 && errno != EINTR)
			return RPMSG_ERR_DEV_STATE;
		for (int i = 0; i < n; i++) {
			int r = xenamp_dispatch(d[i], 0);

			if (r < 0 && ret == 0)
				ret = r;
		}
	}
	if (ret == RPMSG_ERR_DEV_STATE) {
		/* Demo loops ignore the result: do not let them spin. */
		struct timespec ts = { 0, 100 * 1000 * 1000 };

		nanosleep(&ts, NULL);
	}
	return ret < 0 ? ret : 0;
}

/* Parenthesised: platform_info.h also defines a macro of this name that
 * accepts the one-argument form of older OpenAMP demos. */
void (platform_release_rpmsg_vdev)(struct rpmsg_device *rpdev, void *platform)
{
	struct xa_oa_platform *p = platform;

	if (rpdev == NULL)
		return;
	/* The one-argument form gives no platform: use the last one. */
	if (p == NULL)
		p = g_last;
	for (int i = 0; p != NULL && i < XA_OA_MAX_VDEVS; i++) {
		if (p->dev[i] != NULL && xenamp_rpmsg_dev(p->dev[i]) == rpdev) {
			xenamp_close(p->dev[i]);
			p->dev[i] = NULL;
			return;
		}
	}
}

void platform_cleanup(void *platform)
{
	struct xa_oa_platform *p = platform;

	if (p == NULL)
		return;
	for (int i = 0; i < XA_OA_MAX_VDEVS; i++)
		if (p->dev[i] != NULL)
			xenamp_close(p->dev[i]);
	free(p->partition);
	free(p->socket_path);
	free(p->transport);
	if (g_last == p)
		g_last = NULL;
	free(p);
}

/* ------------------------------------------------------------------ */
/* <openamp/rpmsg_virtio.h>: buffer sizes of a device                  */

/* Payload size of one TX / RX buffer of rdev (the link's buf-size minus
 * the 16-byte RPMsg header; both directions of a link use the same
 * size), or RPMSG_ERR_PARAM. libxenamp answers per endpoint and reads
 * nothing of the endpoint but its rdev, so a blank endpoint on rdev asks
 * the device. */
static int device_payload_size(struct rpmsg_device *rdev, bool tx)
{
	struct rpmsg_endpoint probe;

	if (rdev == NULL)
		return RPMSG_ERR_PARAM;
	memset(&probe, 0, sizeof(probe));
	probe.rdev = rdev;
	return tx ? rpmsg_get_tx_buffer_size(&probe) :
		    rpmsg_get_rx_buffer_size(&probe);
}

int rpmsg_virtio_get_tx_buffer_size(struct rpmsg_device *rdev)
{
	return device_payload_size(rdev, true);
}

int rpmsg_virtio_get_rx_buffer_size(struct rpmsg_device *rdev)
{
	return device_payload_size(rdev, false);
}

/* Parenthesised: <openamp/rpmsg_virtio.h> may define it as a macro too. */
int (rpmsg_virtio_get_buffer_size)(struct rpmsg_device *rdev)
{
	return device_payload_size(rdev, true);
}

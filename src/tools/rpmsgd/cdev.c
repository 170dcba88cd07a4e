/* One CUSE character device per libfuse session (rpmsgd.h).
 *
 * cuse_lowlevel_setup() would open /dev/cuse, daemonize and install signal
 * handlers for one device per process. The daemon serves many devices
 * from one loop, so it builds each session itself: cuse_lowlevel_new(),
 * its own descriptor of /dev/cuse handed over as "/dev/fd/N" (libfuse
 * then takes the descriptor as it is and mounts nothing), and its own
 * receive/process calls. fuse_session_destroy() closes the descriptor,
 * which makes the kernel remove the device. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tools/rpmsgd/rpmsgd.h"

#define CUSE_PATH "/dev/cuse"

int rd_cuse_available(char *why, size_t len)
{
	int fd = open(CUSE_PATH, O_RDWR | O_CLOEXEC);
	int e;

	if (fd >= 0) {
		close(fd);
		return 0;
	}
	e = errno;
	if (e == ENOENT || e == ENODEV || e == ENXIO)
		snprintf(why, len, "no CUSE in this kernel (%s: %s): load the cuse module (modprobe cuse), or in a container pass /dev/cuse in; no rpmsg character device can be served",
			 CUSE_PATH, strerror(e));
	else
		snprintf(why, len, "cannot open %s: %s (the daemon needs read-write access to it, normally root)",
			 CUSE_PATH, strerror(e));
	return -e;
}

bool rd_devname_taken(const char *name)
{
	char p[96];
	struct stat st;

	snprintf(p, sizeof(p), "/dev/%s", name);
	if (lstat(p, &st) == 0)
		return true;
	snprintf(p, sizeof(p), "/sys/class/cuse/%s", name);
	return lstat(p, &st) == 0;
}

/* Answer the CUSE_INIT the kernel queued when the descriptor was opened:
 * the kernel creates the device while it takes the answer. */
static int cdev_init_sync(struct rd_cdev *c)
{
	struct pollfd p = { .fd = c->fd, .events = POLLIN };
	char sysp[96];
	struct stat st;
	int r;

	do
		r = poll(&p, 1, 5000);
	while (r < 0 && errno == EINTR);
	if (r <= 0)
		return r == 0 ? -ETIMEDOUT : -errno;
	if (rd_cdev_process(c) < 0)
		return -ENODEV;
	/* A name taken meanwhile makes the kernel refuse the device. */
	snprintf(sysp, sizeof(sysp), "/sys/class/cuse/%s", c->name);
	if (stat(sysp, &st) != 0)
		return -EEXIST;
	return 0;
}

int rd_cdev_create(struct rd_cdev *c, const char *name,
		   const struct cuse_lowlevel_ops *ops, void *priv)
{
	char devname[64], mnt[32];
	const char *info[1] = { devname };
	char arg0[] = RD_PROG;
	char *argv[] = { arg0, NULL };
	struct fuse_args args = FUSE_ARGS_INIT(1, argv);
	struct cuse_info ci;
	int fd, r;

	memset(c, 0, sizeof(*c));
	c->fd = -1;
	snprintf(c->name, sizeof(c->name), "%s", name);
	snprintf(devname, sizeof(devname), "DEVNAME=%s", name);
	memset(&ci, 0, sizeof(ci));
	ci.dev_info_argc = 1;
	ci.dev_info_argv = info;
	fd = open(CUSE_PATH, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	c->se = cuse_lowlevel_new(&args, &ci, ops, priv);
	fuse_opt_free_args(&args);
	if (c->se == NULL) {
		close(fd);
		return -ENOMEM;
	}
	snprintf(mnt, sizeof(mnt), "/dev/fd/%d", fd);
	if (fuse_session_mount(c->se, mnt) != 0) {
		fuse_session_destroy(c->se);
		c->se = NULL;
		close(fd);
		return -EIO;
	}
	c->fd = fd;   /* owned by the session from here */
	r = cdev_init_sync(c);
	if (r < 0)
		rd_cdev_destroy(c);
	return r;
}

int rd_cdev_process(struct rd_cdev *c)
{
	int r;

	if (c->se == NULL || fuse_session_exited(c->se))
		return -1;
	r = fuse_session_receive_buf(c->se, &c->buf);
	if (r == -EINTR || r == -EAGAIN || r == -ENOENT)
		return 0;   /* nothing, or a request the kernel dropped */
	if (r <= 0)
		return -1;  /* ENODEV: the kernel ended the connection */
	fuse_session_process_buf(c->se, &c->buf);
	return 0;
}

void rd_cdev_destroy(struct rd_cdev *c)
{
	if (c->se != NULL)
		fuse_session_destroy(c->se);   /* closes c->fd */
	c->se = NULL;
	c->fd = -1;
	free(c->buf.mem);
	c->buf.mem = NULL;
}

/* libfuse calls this (from fuse_session_process_buf() of the FUSE_INTERRUPT
 * request, or at once from fuse_req_interrupt_func()) with the request's
 * lock held: it must not answer the request, so it only marks it; the
 * loop answers EINTR after the turn (rd_epts_service). */
static void pending_interrupted(fuse_req_t req, void *data)
{
	struct rd_pending *p = data;

	(void)req;
	p->interrupted = true;
}

void rd_pending_watch(struct rd_pending *p)
{
	fuse_req_interrupt_func(p->req, pending_interrupted, p);
}

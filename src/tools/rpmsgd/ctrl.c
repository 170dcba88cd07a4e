/* /dev/rpmsg_ctrlN: the control device (rpmsgd.h), as Linux's
 * rpmsg_ctrl: RPMSG_CREATE_EPT_IOCTL makes an endpoint device /dev/rpmsgM;
 * RPMSG_CREATE_DEV_IOCTL makes a local service ("channel"), and
 * RPMSG_RELEASE_DEV_IOCTL removes it. Any other ioctl, and read or write,
 * fail with EINVAL. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/rpmsgd/rpmsgd.h"

static void ctrl_open(fuse_req_t req, struct fuse_file_info *fi)
{
	fi->nonseekable = 1;
	fuse_reply_open(req, fi);
}

static void ctrl_release(fuse_req_t req, struct fuse_file_info *fi)
{
	(void)fi;
	fuse_reply_err(req, 0);
}

static void ctrl_read(fuse_req_t req, size_t size, off_t off,
		      struct fuse_file_info *fi)
{
	(void)size, (void)off, (void)fi;
	fuse_reply_err(req, EINVAL);
}

static void ctrl_write(fuse_req_t req, const char *buf, size_t size, off_t off,
		       struct fuse_file_info *fi)
{
	(void)buf, (void)size, (void)off, (void)fi;
	fuse_reply_err(req, EINVAL);
}

static bool channel_exists(struct rd_daemon *rd, const struct rd_chinfo *ci)
{
	for (struct rd_eptdev *ep = rd->epts; ep != NULL; ep = ep->next)
		if (ep->channel && !ep->destroyed &&
		    strcmp(ep->chinfo.name, ci->name) == 0 &&
		    ep->chinfo.src == ci->src && ep->chinfo.dst == ci->dst)
			return true;
	for (struct rd_channel *c = rd->channels; c != NULL; c = c->next)
		if (strcmp(c->chinfo.name, ci->name) == 0 &&
		    c->chinfo.src == ci->src && c->chinfo.dst == ci->dst)
			return true;
	return false;
}

/* RPMSG_CREATE_DEV_IOCTL. The kernel's rpmsg_char serves channels named
 * "rpmsg-raw" with an endpoint device; a channel of another name gets no
 * driver here and is only recorded. A channel that exists already:
 * ENXIO, as the kernel's "channel already exists". */
static int channel_create(struct rd_daemon *rd, const struct rd_chinfo *ci)
{
	struct rd_channel *c;
	char n[RD_NAME_SIZE];

	if (channel_exists(rd, ci))
		return -ENXIO;
	if (strcmp(ci->name, "rpmsg-raw") == 0)
		return rd_eptdev_create(rd, ci, true);
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return -ENOMEM;
	c->chinfo = *ci;
	c->next = rd->channels;
	rd->channels = c;
	rd_safe_name(ci->name, sizeof(ci->name), n, sizeof(n));
	rd_log("channel '%s' (src %#x, dst %#x) created; no driver here serves that name",
	       n, ci->src, ci->dst);
	return 0;
}

/* RPMSG_RELEASE_DEV_IOCTL: the first channel that matches (name equal,
 * src and dst equal or RPMSG_ADDR_ANY in the request); EINVAL if none. */
static int channel_release(struct rd_daemon *rd, const struct rd_chinfo *ci)
{
	for (struct rd_eptdev *ep = rd->epts; ep != NULL; ep = ep->next) {
		if (ep->channel && !ep->destroyed && rd_chinfo_match(ci, &ep->chinfo)) {
			rd_eptdev_kill(ep);
			return 0;
		}
	}
	for (struct rd_channel **pc = &rd->channels; *pc != NULL; pc = &(*pc)->next) {
		struct rd_channel *c = *pc;

		if (rd_chinfo_match(ci, &c->chinfo)) {
			*pc = c->next;
			free(c);
			return 0;
		}
	}
	return -EINVAL;
}

static void ctrl_ioctl(fuse_req_t req, int cmd, void *arg,
		       struct fuse_file_info *fi, unsigned flags,
		       const void *in_buf, size_t in_bufsz, size_t out_bufsz)
{
	struct rd_daemon *rd = fuse_req_userdata(req);
	enum rd_ioc kind = rd_ioc_kind((unsigned)cmd, true);
	struct rd_chinfo ci;
	int r;

	(void)arg, (void)fi, (void)flags, (void)out_bufsz;
	if (kind == RD_IOC_UNKNOWN) {
		fuse_reply_err(req, EINVAL);
		return;
	}
	r = rd_parse_eptinfo(in_buf, in_bufsz, &ci);
	if (r == 0) {
		if (kind == RD_IOC_CREATE_EPT)
			r = rd_eptdev_create(rd, &ci, false);
		else if (kind == RD_IOC_CREATE_DEV)
			r = channel_create(rd, &ci);
		else
			r = channel_release(rd, &ci);
	}
	if (r < 0)
		fuse_reply_err(req, -r);
	else
		fuse_reply_ioctl(req, 0, NULL, 0);
}

static const struct cuse_lowlevel_ops ctrl_ops = {
	.open = ctrl_open,
	.release = ctrl_release,
	.read = ctrl_read,
	.write = ctrl_write,
	.ioctl = ctrl_ioctl,
};

int rd_ctrl_create(struct rd_daemon *rd)
{
	char name[32];

	snprintf(name, sizeof(name), "rpmsg_ctrl%u", rd->ctrl_index);
	if (rd_devname_taken(name))
		return -EEXIST;
	return rd_cdev_create(&rd->ctrl, name, &ctrl_ops, rd);
}

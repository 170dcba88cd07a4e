/* /dev/rpmsgM: endpoint devices (rpmsgd.h), with the semantics of Linux's
 * rpmsg_char:
 *   - open creates the endpoint (one opener at a time, else EBUSY; a
 *     channel's endpoint exists as long as the channel); release destroys
 *     it and drops what was queued;
 *   - read returns one message; a buffer smaller than the message gets its
 *     first bytes and the rest is discarded; nothing queued: EAGAIN with
 *     O_NONBLOCK, else the read waits (the daemon keeps the request);
 *   - write sends one message to the device's dst (when that is
 *     RPMSG_ADDR_ANY: to the address the name service or the first message
 *     bound, else EINVAL as the kernel); larger than a buffer's payload:
 *     EMSGSIZE; no TX buffer: EAGAIN with O_NONBLOCK, else it waits, up to
 *     RD_WRITE_WAIT_MS (then ETIMEDOUT);
 *   - poll: POLLIN when a message is queued, POLLOUT when a TX buffer is
 *     free, POLLERR once the endpoint is gone;
 *   - RPMSG_DESTROY_EPT_IOCTL destroys the endpoint (EINVAL for a
 *     channel's); every operation then fails with EPIPE. The node stays
 *     until the last opener closes it (the kernel removes it at once; a
 *     CUSE device cannot go while its connection must answer).
 * Every pending request belongs to the file that made it; they are all
 * answered before the endpoint goes away. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/rpmsgd/rpmsgd.h"

static void addr_str(uint32_t a, char *buf, size_t len)
{
	if (a == RD_ADDR_ANY)
		snprintf(buf, len, "ANY");
	else
		snprintf(buf, len, "%u", a);
}

static void pending_push(struct rd_pending **head, struct rd_pending *p)
{
	while (*head != NULL)
		head = &(*head)->next;
	p->next = NULL;
	*head = p;
}

/* Answer and free every pending request of a list with -err. */
static void pending_fail_all(struct rd_pending **head, int err)
{
	struct rd_pending *p;

	while ((p = *head) != NULL) {
		*head = p->next;
		fuse_reply_err(p->req, err);
		free(p);
	}
}

/* Answer EINTR to the requests whose caller was interrupted. */
static void pending_sweep(struct rd_pending **head)
{
	while (*head != NULL) {
		struct rd_pending *p = *head;

		if (!p->interrupted) {
			head = &p->next;
			continue;
		}
		*head = p->next;
		fuse_reply_err(p->req, EINTR);
		free(p);
	}
}

/* Wake poll(2) callers of the device: its readiness changed. */
static void ep_notify(struct rd_eptdev *ep)
{
	if (ep->ph == NULL)
		return;
	fuse_lowlevel_notify_poll(ep->ph);
	fuse_pollhandle_destroy(ep->ph);
	ep->ph = NULL;
	ep->want_out = false;
}

/* Where a write goes: the device's dst, else the bound address. */
static uint32_t ep_dst(const struct rd_eptdev *ep)
{
	if (ep->chinfo.dst != RD_ADDR_ANY)
		return ep->chinfo.dst;
	return ep->ept.dest_addr;
}

/* A free TX buffer now (reserved and given back at once)? Only when no
 * write of this device waits: those go first. */
static bool ep_tx_ready(struct rd_eptdev *ep)
{
	uint32_t len = 0;
	void *b;

	if (!ep->ept_live || ep->writes != NULL)
		return false;
	b = rpmsg_get_tx_payload_buffer(&ep->ept, &len, 0);
	if (b == NULL)
		return false;
	(void)rpmsg_release_tx_buffer(&ep->ept, b);
	return true;
}

/* Receive callback (the loop's thread, from xenamp_dispatch): the oldest
 * waiting read takes the message, else it is queued (or dropped when the
 * queue is full). */
static int ep_rx_cb(struct rpmsg_endpoint *ept, void *data, size_t len,
		    uint32_t src, void *priv)
{
	struct rd_eptdev *ep = priv;
	struct rd_pending *p;

	(void)ept, (void)src;
	if (ep->destroyed)
		return RPMSG_SUCCESS;
	pending_sweep(&ep->reads);
	p = ep->reads;
	if (p != NULL) {
		ep->reads = p->next;
		fuse_reply_buf(p->req, data, rd_read_len(p->size, len));
		free(p);
		return RPMSG_SUCCESS;
	}
	if (rd_msgq_push(&ep->q, data, len) < 0 &&
	    (ep->q.drops & (ep->q.drops - 1)) == 0)   /* 1, 2, 4, 8... */
		rd_log("rpmsg%u: receive queue full (%u messages): %llu dropped so far",
		       ep->index, ep->q.max, (unsigned long long)ep->q.drops);
	ep_notify(ep);
	return RPMSG_SUCCESS;
}

static int ep_create_ept(struct rd_eptdev *ep)
{
	int r;

	memset(&ep->ept, 0, sizeof(ep->ept));
	ep->ept.priv = ep;
	r = rpmsg_create_ept(&ep->ept, ep->rd->rdev, ep->chinfo.name,
			     ep->chinfo.src, ep->chinfo.dst, ep_rx_cb, NULL);
	if (r < 0)
		return rd_errno_from_rpmsg(r);
	ep->ept_live = true;
	return 0;
}

static void ep_open(fuse_req_t req, struct fuse_file_info *fi)
{
	struct rd_eptdev *ep = fuse_req_userdata(req);
	int r;

	if (ep->destroyed) {
		fuse_reply_err(req, ENODEV);
		return;
	}
	if (ep->open) {
		fuse_reply_err(req, EBUSY);
		return;
	}
	if (!ep->channel) {
		r = ep_create_ept(ep);
		if (r < 0) {
			rd_log("rpmsg%u: cannot create the endpoint (src %#x): %s",
			       ep->index, ep->chinfo.src, strerror(-r));
			fuse_reply_err(req, EINVAL);   /* as the kernel */
			return;
		}
	}
	ep->open = true;
	fi->nonseekable = 1;
	fi->direct_io = 1;
	rd_dbg(ep->rd, "rpmsg%u opened: local address %u", ep->index, ep->ept.addr);
	fuse_reply_open(req, fi);
}

static void ep_release(fuse_req_t req, struct fuse_file_info *fi)
{
	struct rd_eptdev *ep = fuse_req_userdata(req);

	(void)fi;
	pending_fail_all(&ep->reads, EPIPE);
	pending_fail_all(&ep->writes, EPIPE);
	if (!ep->channel && ep->ept_live) {
		rpmsg_destroy_ept(&ep->ept);
		ep->ept_live = false;
	}
	rd_msgq_clear(&ep->q);
	if (ep->ph != NULL)
		fuse_pollhandle_destroy(ep->ph);
	ep->ph = NULL;
	ep->want_out = false;
	ep->open = false;
	if (ep->destroyed)
		ep->reap = true;
	fuse_reply_err(req, 0);
}

static void ep_read(fuse_req_t req, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	struct rd_eptdev *ep = fuse_req_userdata(req);
	struct rd_msg *m;
	struct rd_pending *p;

	(void)off;
	if (ep->destroyed || !ep->ept_live) {
		fuse_reply_err(req, EPIPE);
		return;
	}
	m = rd_msgq_pop(&ep->q);
	if (m != NULL) {
		fuse_reply_buf(req, (const char *)m->data, rd_read_len(size, m->len));
		free(m);
		return;
	}
	if (fi->flags & O_NONBLOCK) {
		fuse_reply_err(req, EAGAIN);
		return;
	}
	p = calloc(1, sizeof(*p));
	if (p == NULL) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	p->req = req;
	p->size = size;
	pending_push(&ep->reads, p);
	rd_pending_watch(p);
}

/* One send attempt: >= 0 sent, -EAGAIN no TX buffer, else -errno. */
static int ep_try_send(struct rd_eptdev *ep, const void *buf, size_t size)
{
	uint32_t dst = ep_dst(ep);
	int r;

	if (dst == RD_ADDR_ANY)
		return -EINVAL;   /* the kernel: no destination */
	r = rpmsg_trysendto(&ep->ept, buf, (int)size, dst);
	return r < 0 ? rd_errno_from_rpmsg(r) : r;
}

static void ep_write(fuse_req_t req, const char *buf, size_t size, off_t off,
		     struct fuse_file_info *fi)
{
	struct rd_eptdev *ep = fuse_req_userdata(req);
	bool nonblock = (fi->flags & O_NONBLOCK) != 0;
	struct rd_pending *p;
	int r;

	(void)off;
	if (ep->destroyed || !ep->ept_live) {
		fuse_reply_err(req, EPIPE);
		return;
	}
	r = rd_write_check(size, rpmsg_get_tx_buffer_size(&ep->ept));
	if (r == 0)
		r = ep->writes != NULL ? -EAGAIN : ep_try_send(ep, buf, size);
	if (r >= 0) {
		fuse_reply_write(req, size);
		return;
	}
	if (r != -EAGAIN || nonblock) {
		fuse_reply_err(req, -r);
		return;
	}
	p = malloc(sizeof(*p) + size);
	if (p == NULL) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	memset(p, 0, sizeof(*p));
	p->req = req;
	p->size = size;
	p->deadline_ms = rd_now_ms() + RD_WRITE_WAIT_MS;
	memcpy(p->data, buf, size);
	pending_push(&ep->writes, p);
	rd_pending_watch(p);
}

static void ep_poll(fuse_req_t req, struct fuse_file_info *fi,
		    struct fuse_pollhandle *ph)
{
	struct rd_eptdev *ep = fuse_req_userdata(req);
	unsigned ev = 0;

	(void)fi;
	if (ep->destroyed || !ep->ept_live) {
		ev = POLLERR;
	} else {
		if (ep->q.count > 0)
			ev |= POLLIN | POLLRDNORM;
		if (ep_tx_ready(ep))
			ev |= POLLOUT | POLLWRNORM;
		else if (ph != NULL)
			ep->want_out = true;   /* looked at again every turn */
	}
	if (ph != NULL) {
		if (ep->ph != NULL)
			fuse_pollhandle_destroy(ep->ph);
		ep->ph = ph;
	}
	fuse_reply_poll(req, ev);
}

static void ep_ioctl(fuse_req_t req, int cmd, void *arg,
		     struct fuse_file_info *fi, unsigned flags,
		     const void *in_buf, size_t in_bufsz, size_t out_bufsz)
{
	struct rd_eptdev *ep = fuse_req_userdata(req);
	enum rd_ioc kind = rd_ioc_kind((unsigned)cmd, false);

	(void)arg, (void)fi, (void)flags, (void)in_buf, (void)in_bufsz, (void)out_bufsz;
	if (kind == RD_IOC_DESTROY_EPT) {
		if (ep->channel) {   /* a channel's endpoint: RELEASE_DEV */
			fuse_reply_err(req, EINVAL);
			return;
		}
		rd_eptdev_kill(ep);
		fuse_reply_ioctl(req, 0, NULL, 0);
		return;
	}
	/* The flow-control ioctls (newer headers): xenamp's links carry no
	 * flow-control messages. */
	fuse_reply_err(req, kind == RD_IOC_UNKNOWN ? EINVAL : EOPNOTSUPP);
}

static const struct cuse_lowlevel_ops ep_ops = {
	.open = ep_open,
	.release = ep_release,
	.read = ep_read,
	.write = ep_write,
	.poll = ep_poll,
	.ioctl = ep_ioctl,
};

/* The lowest free M, as the kernel's ida: not ours, not another's. */
static unsigned ep_free_index(struct rd_daemon *rd)
{
	char name[32];

	for (unsigned i = 0;; i++) {
		bool ours = false;

		for (struct rd_eptdev *ep = rd->epts; ep != NULL; ep = ep->next)
			ours = ours || ep->index == i;
		snprintf(name, sizeof(name), "rpmsg%u", i);
		if (!ours && !rd_devname_taken(name))
			return i;
	}
}

int rd_eptdev_create(struct rd_daemon *rd, const struct rd_chinfo *ci,
		     bool channel)
{
	struct rd_eptdev *ep = calloc(1, sizeof(*ep));
	char name[32], n[RD_NAME_SIZE], s[16], d[16];
	int r;

	if (ep == NULL)
		return -ENOMEM;
	ep->rd = rd;
	ep->chinfo = *ci;
	ep->channel = channel;
	ep->index = ep_free_index(rd);
	rd_msgq_init(&ep->q, rd->queue_max);
	if (channel && (r = ep_create_ept(ep)) < 0) {
		free(ep);
		return -ENXIO;   /* the kernel: the channel could not be made */
	}
	snprintf(name, sizeof(name), "rpmsg%u", ep->index);
	r = rd_cdev_create(&ep->cdev, name, &ep_ops, ep);
	if (r < 0) {
		if (ep->ept_live)
			rpmsg_destroy_ept(&ep->ept);
		free(ep);
		rd_log("cannot create /dev/%s: %s", name, strerror(-r));
		return r;
	}
	ep->next = rd->epts;
	rd->epts = ep;
	rd_safe_name(ci->name, sizeof(ci->name), n, sizeof(n));
	addr_str(ci->src, s, sizeof(s));
	addr_str(ci->dst, d, sizeof(d));
	rd_log("/dev/%s: %s '%s', src %s, dst %s", name,
	       channel ? "channel" : "endpoint", n, s, d);
	return 0;
}

void rd_eptdev_kill(struct rd_eptdev *ep)
{
	if (ep->destroyed)
		return;
	ep->destroyed = true;
	if (ep->ept_live) {
		rpmsg_destroy_ept(&ep->ept);
		ep->ept_live = false;
	}
	pending_fail_all(&ep->reads, EPIPE);
	pending_fail_all(&ep->writes, EPIPE);
	rd_msgq_clear(&ep->q);
	ep_notify(ep);
	if (!ep->open)
		ep->reap = true;
	rd_log("/dev/rpmsg%u: endpoint destroyed (%llu messages dropped on a full queue)",
	       ep->index, (unsigned long long)ep->q.drops);
}

/* Blocked writes, oldest first: send what now fits, fail what waited
 * too long. */
static void ep_retry_writes(struct rd_eptdev *ep, int64_t now)
{
	struct rd_pending *p;
	int r;

	while ((p = ep->writes) != NULL) {
		r = ep_try_send(ep, p->data, p->size);
		if (r == -EAGAIN && now < p->deadline_ms)
			return;
		ep->writes = p->next;
		if (r >= 0)
			fuse_reply_write(p->req, p->size);
		else
			fuse_reply_err(p->req, r == -EAGAIN ? ETIMEDOUT : -r);
		free(p);
	}
}

int rd_epts_service(struct rd_daemon *rd)
{
	int64_t now = rd_now_ms();
	int timeout = -1;

	for (struct rd_eptdev **pe = &rd->epts; *pe != NULL;) {
		struct rd_eptdev *ep = *pe;

		if (ep->reap) {
			*pe = ep->next;
			rd_cdev_destroy(&ep->cdev);
			free(ep);
			continue;
		}
		pending_sweep(&ep->reads);
		pending_sweep(&ep->writes);
		ep_retry_writes(ep, now);
		if (ep->want_out && ep_tx_ready(ep))
			ep_notify(ep);
		if (ep->writes != NULL || ep->want_out)
			timeout = RD_RETRY_MS;
		pe = &ep->next;
	}
	return timeout;
}

void rd_epts_shutdown(struct rd_daemon *rd)
{
	struct rd_eptdev *ep;
	struct rd_channel *c;

	while ((ep = rd->epts) != NULL) {
		rd->epts = ep->next;
		rd_eptdev_kill(ep);
		if (ep->ph != NULL)
			fuse_pollhandle_destroy(ep->ph);
		rd_cdev_destroy(&ep->cdev);
		free(ep);
	}
	while ((c = rd->channels) != NULL) {
		rd->channels = c->next;
		free(c);
	}
}

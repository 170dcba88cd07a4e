/* Local transport, partition side (local_proto.h; docs/protocol.md,
 * "Local socket protocol").
 *
 * The partition connects to xenamp-backend's UNIX SOCK_SEQPACKET socket,
 * says HELLO {name, devno}, receives PARAMS (backend InitWait) with its end
 * of the notification socket (kicks out, calls in), creates its region as
 * a memfd mapped MAP_SHARED, sends REGION with the memfd as SCM_RIGHTS
 * (frontend Initialised) and waits for STATE Connected or an ERROR.
 * Afterwards the event fd is an epoll set over the notification socket and
 * the control socket: a call is XA_FE_EV_NOTIFY; a STATE message, an ERROR
 * or the socket closing is XA_FE_EV_STATE (the latter two mean Closed). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1   /* memfd_create, F_ADD_SEALS */
#endif
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "common/local_proto.h"
#include "common/refusal.h"
#include "frontend/transport/fe_transport.h"
#include "common/xa_time.h"

struct local_fe {
	struct xa_fe_transport t;
	int sock;
	int memfd;
	int ntf;        /* notification socket: kicks out, calls in */
	unsigned ctl_skips;   /* consumes since the control socket was read */
	int epfd;
	bool sock_in_epoll;
	void *region;
	size_t size;
	int be_state;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	bool path_set;
	/* The last refusal the backend sent while connected (enum
	 * xa_refusal; XA_REFUSE_NONE: none), and its text: reconnect()
	 * gives up at once when it is final. */
	int refusal;
	char refusal_msg[sizeof(((struct xa_local_error *)0)->msg)];
	char partition[XA_LOCAL_NAME_MAX];
};

static struct local_fe *lfe(struct xa_fe_transport *t)
{
	return (struct local_fe *)t->priv;
}

/* Receive one datagram, waiting until deadline. Returns its length,
 * -ETIMEDOUT, -ECONNRESET on EOF, or -errno. An fd that came with it is
 * left in *fd (-1 if none; fd may be NULL: then it is closed). */
static ssize_t recv_until(int sock, void *buf, size_t len, int64_t deadline,
			  int *fd)
{
	union {
		char buf[CMSG_SPACE(4 * sizeof(int))];
		struct cmsghdr align;
	} cbuf;

	if (fd != NULL)
		*fd = -1;
	for (;;) {
		struct pollfd p = { .fd = sock, .events = POLLIN };
		int r = poll(&p, 1, xa_ms_left(deadline));

		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (r == 0)
			return -ETIMEDOUT;
		struct iovec iov = { .iov_base = buf, .iov_len = len };
		struct msghdr mh = {
			.msg_iov = &iov, .msg_iovlen = 1,
			.msg_control = cbuf.buf,
			.msg_controllen = sizeof(cbuf.buf),
		};
		ssize_t n = recvmsg(sock, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return -errno;
		}
		{
			/* the first into *fd (when wanted and still free), the
			 * rest closed */
			int one = fd != NULL ? *fd : -1;
			unsigned max = fd != NULL ? 1 : 0;

			(void)xa_local_take_fds(&mh, &one, max, one >= 0 ? 1 : 0);
			if (fd != NULL)
				*fd = one;
		}
		if (n == 0) {
			if (fd != NULL && *fd >= 0) {
				close(*fd);
				*fd = -1;
			}
			return -ECONNRESET;
		}
		return n;
	}
}

/* Copy the backend's ERROR message into err. */
static int take_error(struct local_fe *l, const void *buf, size_t n,
		      const char *when, char *err, size_t errlen)
{
	struct xa_local_error e;

	memset(&e, 0, sizeof(e));
	memcpy(&e, buf, n < sizeof(e) ? n : sizeof(e));
	e.msg[sizeof(e.msg) - 1] = '\0';
	snprintf(err, errlen, "xenamp-backend refused partition '%s' %s (%s): %s",
		 l->partition, when, xa_refusal_name(e.code),
		 e.msg[0] ? e.msg : "(no reason given)");
	l->be_state = XA_STATE_CLOSED;
	/* Retry or give up: decided in one place for both transports. */
	return xa_refusal_errno(e.code);
}

/* Keep the code and text of an ERROR that arrived while connected, for
 * the reconnect decision. A datagram too short to hold them is a
 * protocol refusal (final). */
static void remember_refusal(struct local_fe *l, const void *buf, size_t n)
{
	struct xa_local_error e;

	memset(&e, 0, sizeof(e));
	memcpy(&e, buf, n < sizeof(e) ? n : sizeof(e));
	e.msg[sizeof(e.msg) - 1] = '\0';
	l->refusal = n >= offsetof(struct xa_local_error, msg) ? e.code
							       : XA_REFUSE_PROTOCOL;
	if (l->refusal == XA_REFUSE_NONE)
		l->refusal = XA_REFUSE_PROTOCOL;
	snprintf(l->refusal_msg, sizeof(l->refusal_msg), "%s", e.msg);
}

/* The handshake's reply datagrams (PARAMS, ERROR, STATE). */
union hs_msg {
	uint32_t type;
	struct xa_local_params p;
	struct xa_local_error e;
	struct xa_local_state s;
	char raw[1024];
};

/* Connect l->sock to the backend at path and check who serves it. */
static int open_socket(struct local_fe *l, const char *path, char *err,
		       size_t errlen)
{
	struct sockaddr_un sa;
	int e;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "backend socket path too long: %s", path);
		return -ENAMETOOLONG;
	}
	memcpy(sa.sun_path, path, strlen(path));
	l->sock = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (l->sock < 0) {
		e = errno;
		snprintf(err, errlen, "cannot create a UNIX socket: %s", strerror(e));
		return -e;
	}
	if (connect(l->sock, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		e = errno;
		if (e == EACCES || e == EPERM)
			snprintf(err, errlen,
				 "cannot connect to xenamp-backend at %s: %s (run as the backend's user or in the socket's group)",
				 path, strerror(e));
		else
			snprintf(err, errlen,
				 "cannot connect to xenamp-backend at %s: %s (is the backend running? set %s or the socket option to its socket)",
				 path, strerror(e), XA_LOCAL_SOCKET_ENV);
		return -e;
	}
	/* Before anything is sent: HELLO names us, and REGION would hand
	 * over our memory. */
	e = xa_local_check_server(l->sock, path, err, errlen);
	if (e < 0) {
		/* Not the backend we trust: never hand it our memory, not at
		 * a reconnection either. */
		l->refusal = XA_REFUSE_DENIED;
		snprintf(l->refusal_msg, sizeof(l->refusal_msg), "%s", err);
	}
	return e;
}

static int send_hello(struct local_fe *l, const char *path, unsigned devno,
		      char *err, size_t errlen)
{
	struct xa_local_hello hello;
	int e;

	memset(&hello, 0, sizeof(hello));
	hello.type = XA_LOCAL_HELLO;
	hello.version = XA_LOCAL_PROTO_VERSION;
	hello.devno = devno;
	hello.flags = 0;
	memcpy(hello.name, l->partition, strlen(l->partition));
	if (send(l->sock, &hello, sizeof(hello), MSG_NOSIGNAL) < 0) {
		e = errno;
		snprintf(err, errlen, "cannot send HELLO to xenamp-backend at %s: %s",
			 path, strerror(e));
		return -e;
	}
	return 0;
}

/* Read the handshake until PARAMS, which carries the notification socket
 * (*ntf). 0 with *m holding PARAMS, or -errno with one line in err. */
static int wait_params(struct local_fe *l, const char *path, unsigned devno,
		       int64_t deadline, union hs_msg *m, int *ntf, char *err,
		       size_t errlen)
{
	const char *partition = l->partition;
	ssize_t n;

	for (;;) {
		if (*ntf >= 0) {
			close(*ntf);   /* came with something other than PARAMS */
			*ntf = -1;
		}
		n = recv_until(l->sock, m, sizeof(*m), deadline, ntf);
		if (n == -ETIMEDOUT) {
			snprintf(err, errlen,
				 "xenamp-backend at %s did not send the link parameters for partition '%s' device %u in time (is '%s' in a link of its configuration?)",
				 path, partition, devno, partition);
			return (int)n;
		}
		if (n == -ECONNRESET) {
			snprintf(err, errlen,
				 "xenamp-backend at %s closed the connection after HELLO from partition '%s' device %u (unknown partition or device?)",
				 path, partition, devno);
			return (int)n;
		}
		if (n < 0) {
			snprintf(err, errlen, "reading from xenamp-backend at %s: %s",
				 path, strerror((int)-n));
			return (int)n;
		}
		if ((size_t)n < sizeof(uint32_t))
			continue;
		if (m->type == XA_LOCAL_ERROR)
			return take_error(l, m, (size_t)n, "at HELLO", err, errlen);
		if (m->type == XA_LOCAL_STATE && (size_t)n >= sizeof(m->s)) {
			if (m->s.state >= XA_STATE_CLOSING) {
				snprintf(err, errlen,
					 "xenamp-backend moved partition '%s' device %u to %s during the handshake",
					 partition, devno, xa_state_name((int)m->s.state));
				return -ECONNRESET;
			}
			l->be_state = (int)m->s.state;
			continue;
		}
		if (m->type == XA_LOCAL_PARAMS && (size_t)n >= sizeof(m->p))
			return 0;
		/* anything else during the handshake is ignored */
	}
}

/* Take the notification socket ntf that came with PARAMS and put it and
 * the control socket in the epoll set the library waits on. */
static int take_notify_socket(struct local_fe *l, const char *path, int ntf,
			      char *err, size_t errlen)
{
	struct epoll_event ev = { .events = EPOLLIN };
	struct stat st;
	int e;

	if (ntf < 0 || fstat(ntf, &st) < 0 || !S_ISSOCK(st.st_mode)) {
		if (ntf >= 0)
			close(ntf);
		snprintf(err, errlen,
			 "xenamp-backend at %s sent PARAMS without its notification socket (a backend of another xenamp version?)",
			 path);
		return -EPROTO;
	}
	l->ntf = ntf;
	if (l->epfd < 0)   /* kept across local_reconnect() */
		l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd < 0) {
		e = errno;
		snprintf(err, errlen, "cannot create an epoll set: %s", strerror(e));
		return -e;
	}
	ev.data.fd = l->ntf;
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, l->ntf, &ev) < 0)
		goto epoll_fail;
	ev.data.fd = l->sock;
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, l->sock, &ev) < 0)
		goto epoll_fail;
	l->sock_in_epoll = true;
	return 0;
epoll_fail:
	e = errno;
	snprintf(err, errlen, "cannot set up the event set: %s", strerror(e));
	return -e;
}

static int local_connect(struct xa_fe_transport *t, const char *partition,
			 unsigned devno, struct xa_link_params *params,
			 int timeout_ms, char *err, size_t errlen)
{
	struct local_fe *l = lfe(t);
	union hs_msg m;
	const char *path;
	char defpath[XA_LOCAL_PATH_MAX];
	int64_t deadline = xa_now_ms() + (timeout_ms > 0 ? timeout_ms : 10000);
	int rc, ntf = -1;

	if (partition == NULL || partition[0] == '\0' ||
	    strlen(partition) >= XA_LOCAL_NAME_MAX) {
		snprintf(err, errlen,
			 "partition name must be 1..%u characters",
			 XA_LOCAL_NAME_MAX - 1);
		return -EINVAL;
	}
	snprintf(l->partition, sizeof(l->partition), "%s", partition);
	path = l->path_set ? l->path : getenv(XA_LOCAL_SOCKET_ENV);
	if (path == NULL || path[0] == '\0')
		path = xa_local_default_socket(defpath, sizeof(defpath));
	rc = open_socket(l, path, err, errlen);
	if (rc == 0)
		rc = send_hello(l, path, devno, err, errlen);
	if (rc == 0)
		rc = wait_params(l, path, devno, deadline, &m, &ntf, err, errlen);
	if (rc < 0) {
		if (ntf >= 0)
			close(ntf);
		return rc;
	}
	params->buf_size = m.p.buf_size;
	params->buf_count = m.p.buf_count;
	params->max_pages = m.p.max_pages;
	l->be_state = XA_STATE_INITWAIT;
	return take_notify_socket(l, path, ntf, err, errlen);
}

static int local_alloc_region(struct xa_fe_transport *t, size_t size,
			      void **region, char *err, size_t errlen)
{
	struct local_fe *l = lfe(t);
	void *p;
	int e;

	if (size == 0 || size % 4096 != 0 || l->memfd >= 0) {
		snprintf(err, errlen, "invalid region size %zu (or region already allocated)",
			 size);
		return -EINVAL;
	}
	l->memfd = memfd_create("xenamp-region", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (l->memfd < 0) {
		e = errno;
		snprintf(err, errlen, "memfd_create: %s", strerror(e));
		return -e;
	}
	if (ftruncate(l->memfd, (off_t)size) < 0) {
		e = errno;
		snprintf(err, errlen, "cannot size the region to %zu bytes: %s",
			 size, strerror(e));
		return -e;
	}
	/* The backend maps exactly this size; it must never change under it. */
	(void)fcntl(l->memfd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL);
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, l->memfd, 0);
	if (p == MAP_FAILED) {
		e = errno;
		snprintf(err, errlen, "cannot map the region (%zu bytes): %s",
			 size, strerror(e));
		return -e;
	}
	l->region = p;
	l->size = size;
	*region = p;
	return 0;
}

static int local_publish(struct xa_fe_transport *t, int timeout_ms,
			 char *err, size_t errlen)
{
	struct local_fe *l = lfe(t);
	struct xa_local_region r;
	struct msghdr mh;
	struct iovec iov;
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} ctl;
	struct cmsghdr *c;
	int fds[1];
	union {
		uint32_t type;
		struct xa_local_state s;
		struct xa_local_error e;
		char raw[1024];
	} m;
	int64_t deadline = xa_now_ms() + (timeout_ms > 0 ? timeout_ms : 10000);
	ssize_t n;
	int e;

	if (l->region == NULL) {
		snprintf(err, errlen, "no region to publish");
		return -EINVAL;
	}
	memset(&r, 0, sizeof(r));
	r.type = XA_LOCAL_REGION;
	r.size = l->size;
	iov.iov_base = &r;
	iov.iov_len = sizeof(r);
	memset(&mh, 0, sizeof(mh));
	memset(&ctl, 0, sizeof(ctl));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = ctl.buf;
	mh.msg_controllen = sizeof(ctl.buf);
	c = CMSG_FIRSTHDR(&mh);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(fds));
	fds[0] = l->memfd;
	memcpy(CMSG_DATA(c), fds, sizeof(fds));
	if (sendmsg(l->sock, &mh, MSG_NOSIGNAL) < 0) {
		e = errno;
		snprintf(err, errlen, "cannot send the region to xenamp-backend: %s",
			 strerror(e));
		return -e;
	}
	l->be_state = XA_STATE_INITWAIT;

	for (;;) {
		n = recv_until(l->sock, &m, sizeof(m), deadline, NULL);
		if (n == -ETIMEDOUT) {
			snprintf(err, errlen,
				 "xenamp-backend did not accept the region of partition '%s' in time",
				 l->partition);
			return (int)n;
		}
		if (n == -ECONNRESET) {
			l->be_state = XA_STATE_CLOSED;
			snprintf(err, errlen,
				 "xenamp-backend closed the connection of partition '%s' after the region was sent (see the backend's log)",
				 l->partition);
			return (int)n;
		}
		if (n < 0) {
			snprintf(err, errlen, "reading from xenamp-backend: %s",
				 strerror((int)-n));
			return (int)n;
		}
		if ((size_t)n < sizeof(uint32_t))
			continue;
		if (m.type == XA_LOCAL_ERROR)
			return take_error(l, &m, (size_t)n, "when validating its region",
					  err, errlen);
		if (m.type != XA_LOCAL_STATE || (size_t)n < sizeof(m.s))
			continue;
		l->be_state = (int)m.s.state;
		if (m.s.state == XA_STATE_CONNECTED)
			return 0;
		if (m.s.state >= XA_STATE_CLOSING) {
			snprintf(err, errlen,
				 "xenamp-backend moved partition '%s' to %s instead of Connected (see the backend's log)",
				 l->partition, xa_state_name((int)m.s.state));
			return -ECONNRESET;
		}
	}
}

/* A kick: one byte, never blocking. EAGAIN means the backend has unread
 * kicks, so it will look at the rings anyway. */
static int local_notify(struct xa_fe_transport *t)
{
	struct local_fe *l = lfe(t);
	static const unsigned char one = 1;
	ssize_t r;

	if (l->ntf < 0)
		return -EPIPE;
	do
		r = send(l->ntf, &one, 1, MSG_DONTWAIT | MSG_NOSIGNAL);
	while (r < 0 && errno == EINTR);
	/* EPIPE / ECONNRESET: the backend let go of this end; the control
	 * socket reports that as a state change, as it always has. */
	if (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EPIPE &&
	    errno != ECONNRESET)
		return -errno;
	return 0;
}

static int local_event_fd(struct xa_fe_transport *t)
{
	return lfe(t)->epfd;
}

static void drop_socket(struct local_fe *l)
{
	if (l->sock_in_epoll) {
		(void)epoll_ctl(l->epfd, EPOLL_CTL_DEL, l->sock, NULL);
		l->sock_in_epoll = false;
	}
	l->be_state = XA_STATE_CLOSED;
}

static int local_consume(struct xa_fe_transport *t, unsigned *events)
{
	struct local_fe *l = lfe(t);
	union {
		uint32_t type;
		struct xa_local_state s;
		char raw[512];
	} m;
	unsigned char calls[256];
	ssize_t n;

	*events = 0;
	/* Calls are coalesced: drain what is there (a bounded number of
	 * reads; level triggering brings the caller back for more). A short
	 * read emptied the stream: no second recv() to hear EAGAIN. EOF:
	 * the backend is gone; the control socket says so next. */
	for (int i = 0; l->ntf >= 0 && i < 16; i++) {
		n = recv(l->ntf, calls, sizeof(calls), MSG_DONTWAIT);
		if (n > 0) {
			*events |= XA_FE_EV_NOTIFY;
			if ((size_t)n < sizeof(calls))
				break;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
			(void)epoll_ctl(l->epfd, EPOLL_CTL_DEL, l->ntf, NULL);
		break;
	}
	/* The control socket carries only state changes and refusals, rare
	 * next to calls: a recv() on it at every consume was one system
	 * call per message direction for nothing (docs/performance.md). It
	 * is read when no call explained the wake-up (a backend that goes
	 * away also closes the notification stream: EOF, no call) and at
	 * least every 16th consume, so a state change waits behind a stream
	 * of calls for a bounded number of consumes. */
	if ((*events & XA_FE_EV_NOTIFY) && ++l->ctl_skips < 16)
		return 0;
	l->ctl_skips = 0;
	while (l->sock_in_epoll) {
		n = recv(l->sock, &m, sizeof(m), MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			drop_socket(l);   /* ECONNRESET and friends */
			*events |= XA_FE_EV_STATE;
			break;
		}
		if (n == 0) {
			drop_socket(l);
			*events |= XA_FE_EV_STATE;
			break;
		}
		if ((size_t)n < sizeof(uint32_t))
			continue;
		if (m.type == XA_LOCAL_ERROR) {
			/* The backend gives up on this end; it closes next. */
			remember_refusal(l, m.raw, (size_t)n);
			drop_socket(l);
			*events |= XA_FE_EV_STATE;
			break;
		}
		if (m.type == XA_LOCAL_STATE && (size_t)n >= sizeof(m.s)) {
			int st = (int)m.s.state;

			if (st == XA_STATE_CLOSING || st == XA_STATE_CLOSED)
				l->be_state = st;
			else if (l->be_state != XA_STATE_CLOSED &&
				 l->be_state != XA_STATE_CLOSING)
				l->be_state = st;
			*events |= XA_FE_EV_STATE;
		}
	}
	return 0;
}

static int local_state(struct xa_fe_transport *t)
{
	return lfe(t)->be_state;
}

static void local_close(struct xa_fe_transport *t)
{
	struct local_fe *l;

	if (t == NULL)
		return;
	l = lfe(t);
	if (l->sock >= 0) {
		if (l->sock_in_epoll) {
			struct xa_local_state s = { .type = XA_LOCAL_STATE,
						    .state = XA_STATE_CLOSING };

			(void)send(l->sock, &s, sizeof(s), MSG_NOSIGNAL | MSG_DONTWAIT);
		}
		close(l->sock);
	}
	if (l->region != NULL)
		munmap(l->region, l->size);
	if (l->memfd >= 0)
		close(l->memfd);
	if (l->ntf >= 0)
		close(l->ntf);
	if (l->epfd >= 0)
		close(l->epfd);
	free(l);
}

static int local_reconnect(struct xa_fe_transport *t, unsigned devno,
			   const struct xa_link_params *want, int timeout_ms,
			   char *err, size_t errlen);

/* xa_fe_ops.set_option: "socket" is the path of the backend's UNIX socket
 * (NULL: $XENAMP_SOCKET, else the default). */
static int local_set_option(struct xa_fe_transport *t, const char *key,
			    const char *path, char *err, size_t errlen)
{
	struct local_fe *l = lfe(t);

	if (strcmp(key, "socket") != 0) {
		snprintf(err, errlen, "transport 'local' has no option '%s'", key);
		return -ENOENT;
	}
	if (path == NULL) {
		l->path_set = false;
		return 0;
	}
	if (path[0] == '\0' || strlen(path) >= sizeof(l->path)) {
		snprintf(err, errlen, "invalid backend socket path '%s' (1..%zu characters)",
			 path, sizeof(l->path) - 1);
		return -EINVAL;
	}
	snprintf(l->path, sizeof(l->path), "%s", path);
	l->path_set = true;
	return 0;
}

static const struct xa_fe_ops local_ops = {
	.name = "local",
	.connect = local_connect,
	.alloc_region = local_alloc_region,
	.publish = local_publish,
	.notify = local_notify,
	.event_fd = local_event_fd,
	.consume = local_consume,
	.state = local_state,
	.reconnect = local_reconnect,
	.set_option = local_set_option,
	.close = local_close,
};

int xa_local_fe_new(struct xa_fe_transport **out, char *err, size_t errlen)
{
	struct local_fe *l = calloc(1, sizeof(*l));

	if (l == NULL) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	l->sock = l->memfd = l->ntf = l->epfd = -1;
	l->be_state = XA_STATE_UNKNOWN;
	l->t.ops = &local_ops;
	l->t.priv = l;
	*out = &l->t;
	return 0;
}

/* Reconnection after the backend went away (SIGKILL, crash, restart).
 * Keeps the memfd and its mapping (the region with its rings and buffers,
 * exactly as the partition left it) and the epoll fd the library polls;
 * replaces the socket and the notification socket, walks HELLO / PARAMS / REGION /
 * Connected again with the same memfd. One attempt. */
/* xa_fe_ops.reconnect: connect again over a new socket and share the
 * SAME region (same memfd) with new notification fds. */
static int local_reconnect(struct xa_fe_transport *t, unsigned devno,
			   const struct xa_link_params *want, int timeout_ms,
			   char *err, size_t errlen)
{
	struct local_fe *l;
	struct xa_link_params got;
	char name[XA_LOCAL_NAME_MAX];
	int r;

	if (t == NULL || t->ops != &local_ops) {
		snprintf(err, errlen, "not a local transport");
		return -ENOTSUP;
	}
	l = lfe(t);
	if (l->refusal != XA_REFUSE_NONE && !xa_refusal_retry(l->refusal))
		return xa_fe_reconnect_refused(l->refusal, l->refusal_msg,
					       err, errlen);
	if (l->region == NULL || l->memfd < 0 || l->epfd < 0) {
		snprintf(err, errlen, "no region to share again");
		return -EINVAL;
	}
	if (l->sock_in_epoll)
		(void)epoll_ctl(l->epfd, EPOLL_CTL_DEL, l->sock, NULL);
	l->sock_in_epoll = false;
	if (l->ntf >= 0)
		(void)epoll_ctl(l->epfd, EPOLL_CTL_DEL, l->ntf, NULL);
	if (l->sock >= 0)
		close(l->sock);
	if (l->ntf >= 0)
		close(l->ntf);
	l->sock = l->ntf = -1;
	l->be_state = XA_STATE_UNKNOWN;

	snprintf(name, sizeof(name), "%s", l->partition);
	memset(&got, 0, sizeof(got));
	r = local_connect(t, name, devno, &got, timeout_ms, err, errlen);
	if (r < 0)
		return r;
	r = xa_fe_reconnect_params_ok(&got, want, (uint32_t)(l->size / 4096),
				      err, errlen);
	if (r < 0) {
		l->refusal = XA_REFUSE_PARAMS;
		snprintf(l->refusal_msg, sizeof(l->refusal_msg), "%s", err);
		return r;
	}
	/* The handshake reads the socket itself: keep the library's
	 * sleepers from waking on it until Connected. */
	(void)epoll_ctl(l->epfd, EPOLL_CTL_DEL, l->sock, NULL);
	l->sock_in_epoll = false;
	/* Each attempt is a new connection: its backend knows no earlier
	 * offer, so this one is always new. */
	xa_fe_before_offer(t);
	r = local_publish(t, timeout_ms, err, errlen);
	if (r < 0)
		return r;
	struct epoll_event ev = { .events = EPOLLIN };
	ev.data.fd = l->sock;
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, l->sock, &ev) < 0) {
		r = -errno;
		snprintf(err, errlen, "cannot set up the event set: %s", strerror(-r));
		return r;
	}
	l->sock_in_epoll = true;
	return 0;
}

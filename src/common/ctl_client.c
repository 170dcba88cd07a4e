/* Control socket client (see ctl_client.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "common/ctl_client.h"
#include "common/local_proto.h"
#include "common/xa_time.h"

#define REPLY_MAX (64u << 20)   /* refuse replies larger than this */

const char *xa_ctl_socket_path(const char *socket_path)
{
	static char def[XA_LOCAL_PATH_MAX];   /* tools are single-threaded */
	const char *p = socket_path;

	if (p == NULL || p[0] == '\0')
		p = getenv(XA_LOCAL_SOCKET_ENV);
	if (p == NULL || p[0] == '\0')
		p = xa_local_default_socket(def, sizeof(def));
	return p;
}

/* Connect to the backend's socket at path and check who serves it:
 * the fd, or -errno with one line in err. */
static int ctl_connect(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sa;
	int fd, rc;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "socket path %s is too long", path);
		return -ENAMETOOLONG;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "socket: %s", strerror(-rc));
		return rc;
	}
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		rc = -errno;
		if (rc == -ENOENT || rc == -ECONNREFUSED)
			snprintf(err, errlen,
				 "cannot reach the backend at %s (%s): is xenamp-backend running? (--socket or $%s choose another socket)",
				 path, strerror(-rc), XA_LOCAL_SOCKET_ENV);
		else if (rc == -EACCES || rc == -EPERM)
			snprintf(err, errlen,
				 "no permission to use %s: run as the socket's owner (the backend's user) or a member of its group",
				 path);
		else
			snprintf(err, errlen, "cannot connect to %s: %s", path,
				 strerror(-rc));
		close(fd);
		return rc;
	}
	/* Before the request leaves: only the backend we trust reads it. */
	rc = xa_local_check_server(fd, path, err, errlen);
	if (rc < 0) {
		close(fd);
		return rc;
	}
	return fd;
}

/* Wait until fd is readable or the deadline passes: 0, or -errno. */
static int ctl_wait(int fd, int64_t deadline, const char *path, int timeout_ms,
		    char *err, size_t errlen)
{
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int rc = poll(&pfd, 1, xa_ms_left(deadline));

		if (rc > 0)
			return 0;
		if (rc < 0 && errno == EINTR)
			continue;
		if (rc == 0) {
			snprintf(err, errlen,
				 "the backend at %s did not answer within %d ms",
				 path, timeout_ms);
			return -ETIMEDOUT;
		}
		rc = -errno;
		snprintf(err, errlen, "poll: %s", strerror(-rc));
		return rc;
	}
}

/* Receive one datagram of the reply into buf (XA_LOCAL_MSG_MAX bytes) and
 * check its header: its length, or -errno with one line in err. An ERROR
 * datagram is the backend's refusal of the request. */
static ssize_t ctl_recv_part(int fd, unsigned char *buf, const char *path,
			     struct xa_local_ctl *h, char *err, size_t errlen)
{
	ssize_t n;

	do
		n = recv(fd, buf, XA_LOCAL_MSG_MAX, MSG_TRUNC);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		int rc = -errno;

		snprintf(err, errlen, "receiving from the backend: %s", strerror(-rc));
		return rc;
	}
	if (n == 0) {
		snprintf(err, errlen,
			 "the backend at %s closed the connection before answering", path);
		return -EPROTO;
	}
	if ((size_t)n > XA_LOCAL_MSG_MAX || (size_t)n < sizeof(*h)) {
		snprintf(err, errlen, "malformed reply from the backend");
		return -EPROTO;
	}
	memcpy(h, buf, sizeof(*h));
	if (h->type == XA_LOCAL_ERROR && (size_t)n == sizeof(struct xa_local_error)) {
		struct xa_local_error e;

		memcpy(&e, buf, sizeof(e));
		e.msg[sizeof(e.msg) - 1] = '\0';
		snprintf(err, errlen, "the backend refused the request: %s", e.msg);
		return -EPROTO;
	}
	if (h->type != XA_LOCAL_CTL_REPLY) {
		snprintf(err, errlen, "unexpected message type %u from the backend",
			 h->type);
		return -EPROTO;
	}
	return n;
}

/* Append add bytes to the NUL-terminated reply (*out, *outlen): 0 or
 * -errno with one line in err. */
static int ctl_append(char **out, size_t *outlen, const unsigned char *part,
		      size_t add, char *err, size_t errlen)
{
	char *nb;

	if (*outlen + add > REPLY_MAX) {
		snprintf(err, errlen, "the backend's reply is too large");
		return -EPROTO;
	}
	nb = realloc(*out, *outlen + add + 1);
	if (nb == NULL) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	*out = nb;
	memcpy(nb + *outlen, part, add);
	*outlen += add;
	nb[*outlen] = '\0';
	return 0;
}

/* Send the request on fd, then gather the reply's datagrams until the one
 * flagged XA_CTL_F_LAST: 0 with *out (malloc'd) and *outlen, or -errno. */
static int ctl_exchange(int fd, unsigned char *buf, const char *path,
			const char *req, int timeout_ms, char **out,
			size_t *outlen, char *err, size_t errlen)
{
	int64_t deadline = xa_now_ms() + timeout_ms;
	struct xa_local_ctl h = { .type = XA_LOCAL_CTL_REQ, .flags = 0 };
	size_t rlen = strlen(req);
	int rc;

	memcpy(buf, &h, sizeof(h));
	memcpy(buf + sizeof(h), req, rlen);
	if (send(fd, buf, sizeof(h) + rlen, MSG_NOSIGNAL) < 0) {
		rc = -errno;
		snprintf(err, errlen, "cannot send to the backend at %s: %s", path,
			 strerror(-rc));
		return rc;
	}
	do {
		ssize_t n;

		rc = ctl_wait(fd, deadline, path, timeout_ms, err, errlen);
		if (rc < 0)
			return rc;
		n = ctl_recv_part(fd, buf, path, &h, err, errlen);
		if (n < 0)
			return (int)n;
		rc = ctl_append(out, outlen, buf + sizeof(h), (size_t)n - sizeof(h),
				err, errlen);
		if (rc < 0)
			return rc;
	} while (!(h.flags & XA_CTL_F_LAST));
	return 0;
}

int xa_ctl_request(const char *socket_path, const char *req, int timeout_ms,
		   char **reply, size_t *reply_len, char *err, size_t errlen)
{
	const char *path = xa_ctl_socket_path(socket_path);
	unsigned char *buf;
	char *out = NULL;
	size_t outlen = 0;
	int fd, rc;

	*reply = NULL;
	*reply_len = 0;
	if (strlen(req) + sizeof(struct xa_local_ctl) > XA_LOCAL_MSG_MAX) {
		snprintf(err, errlen, "request too long");
		return -EMSGSIZE;
	}
	fd = ctl_connect(path, err, errlen);
	if (fd < 0)
		return fd;
	buf = malloc(XA_LOCAL_MSG_MAX);
	if (buf == NULL) {
		snprintf(err, errlen, "out of memory");
		rc = -ENOMEM;
	} else {
		rc = ctl_exchange(fd, buf, path, req, timeout_ms, &out, &outlen,
				  err, errlen);
	}
	free(buf);
	close(fd);
	if (rc == 0 && out == NULL && (out = strdup("")) == NULL)
		rc = -ENOMEM;
	if (rc < 0) {
		free(out);
		return rc;
	}
	*reply = out;
	*reply_len = outlen;
	return 0;
}

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

int xa_ctl_request(const char *socket_path, const char *req, int timeout_ms,
		   char **reply, size_t *reply_len, char *err, size_t errlen)
{
	const char *path = xa_ctl_socket_path(socket_path);
	struct sockaddr_un sa;
	size_t rlen = strlen(req);
	unsigned char *buf = NULL;
	char *out = NULL;
	size_t outlen = 0;
	int64_t deadline = xa_now_ms() + timeout_ms;
	int fd, rc;

	*reply = NULL;
	*reply_len = 0;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "socket path %s is too long", path);
		return -ENAMETOOLONG;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if (rlen + sizeof(struct xa_local_ctl) > XA_LOCAL_MSG_MAX) {
		snprintf(err, errlen, "request too long");
		return -EMSGSIZE;
	}

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
	rc = xa_local_check_server(fd, path, err, errlen);
	if (rc < 0) {
		close(fd);
		return rc;
	}

	buf = malloc(XA_LOCAL_MSG_MAX);
	if (buf == NULL) {
		close(fd);
		return -ENOMEM;
	}
	struct xa_local_ctl h = { .type = XA_LOCAL_CTL_REQ, .flags = 0 };

	memcpy(buf, &h, sizeof(h));
	memcpy(buf + sizeof(h), req, rlen);
	if (send(fd, buf, sizeof(h) + rlen, MSG_NOSIGNAL) < 0) {
		rc = -errno;
		snprintf(err, errlen, "cannot send to the backend at %s: %s", path,
			 strerror(-rc));
		goto fail;
	}

	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		rc = poll(&pfd, 1, xa_ms_left(deadline));
		if (rc < 0 && errno == EINTR)
			continue;
		if (rc == 0) {
			rc = -ETIMEDOUT;
			snprintf(err, errlen,
				 "the backend at %s did not answer within %d ms",
				 path, timeout_ms);
			goto fail;
		}
		if (rc < 0) {
			rc = -errno;
			snprintf(err, errlen, "poll: %s", strerror(-rc));
			goto fail;
		}

		ssize_t n = recv(fd, buf, XA_LOCAL_MSG_MAX, MSG_TRUNC);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			rc = -errno;
			snprintf(err, errlen, "receiving from the backend: %s",
				 strerror(-rc));
			goto fail;
		}
		if (n == 0) {
			rc = -EPROTO;
			snprintf(err, errlen,
				 "the backend at %s closed the connection before answering",
				 path);
			goto fail;
		}
		if ((size_t)n > XA_LOCAL_MSG_MAX || (size_t)n < sizeof(h)) {
			rc = -EPROTO;
			snprintf(err, errlen, "malformed reply from the backend");
			goto fail;
		}
		memcpy(&h, buf, sizeof(h));
		if (h.type == XA_LOCAL_ERROR &&
		    (size_t)n == sizeof(struct xa_local_error)) {
			struct xa_local_error e;

			memcpy(&e, buf, sizeof(e));
			e.msg[sizeof(e.msg) - 1] = '\0';
			rc = -EPROTO;
			snprintf(err, errlen, "the backend refused the request: %s",
				 e.msg);
			goto fail;
		}
		if (h.type != XA_LOCAL_CTL_REPLY) {
			rc = -EPROTO;
			snprintf(err, errlen, "unexpected message type %u from the backend",
				 h.type);
			goto fail;
		}

		size_t add = (size_t)n - sizeof(h);

		if (outlen + add > REPLY_MAX) {
			rc = -EPROTO;
			snprintf(err, errlen, "the backend's reply is too large");
			goto fail;
		}
		char *nb = realloc(out, outlen + add + 1);

		if (nb == NULL) {
			rc = -ENOMEM;
			snprintf(err, errlen, "out of memory");
			goto fail;
		}
		out = nb;
		memcpy(out + outlen, buf + sizeof(h), add);
		outlen += add;
		out[outlen] = '\0';
		if (h.flags & XA_CTL_F_LAST)
			break;
	}
	free(buf);
	close(fd);
	if (out == NULL) {
		out = strdup("");
		if (out == NULL)
			return -ENOMEM;
	}
	*reply = out;
	*reply_len = outlen;
	return 0;

fail:
	free(buf);
	free(out);
	close(fd);
	return rc;
}

/* Client side of the backend's control socket (local_proto.h: CTL_REQ in,
 * CTL_REPLY datagrams out, the last flagged XA_CTL_F_LAST). Used by
 * xenampctl and by tests. */
#ifndef XENAMP_COMMON_CTL_CLIENT_H
#define XENAMP_COMMON_CTL_CLIENT_H

#include <stddef.h>

/* Send one JSON request to the backend at socket_path (NULL:
 * $XENAMP_SOCKET, else the default) and wait up to timeout_ms for the
 * whole reply. On success returns 0 and *reply (malloc'd, NUL-terminated)
 * with its length. On failure returns a negative errno and one line in
 * err: -ENOENT/-ECONNREFUSED when no backend listens there, -ETIMEDOUT,
 * -EPROTO for a malformed reply. */
int xa_ctl_request(const char *socket_path, const char *req, int timeout_ms,
		   char **reply, size_t *reply_len, char *err, size_t errlen);

/* The path xa_ctl_request would use for socket_path. */
const char *xa_ctl_socket_path(const char *socket_path);

#endif

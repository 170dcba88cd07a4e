/* Control requests of xenamp-backend (xenampctl, xenamp-load): the layer
 * above the relay. It reads the registry and the relay's counters and
 * adds links through the registry; it never moves a message. The
 * requests and their answers are described at the top of ctl.c. */
#ifndef XENAMP_BACKEND_CTL_H
#define XENAMP_BACKEND_CTL_H

#include <stddef.h>

#include "backend/relay.h"

#include <stdbool.h>

/* Who sent a request, as the transport's kernel credentials say. */
struct xa_ctl_peer {
	long pid;            /* 0: unknown */
	long uid;            /* -1: unknown */
	bool privileged;     /* root, the backend's uid, admin-group */
};

/* Answer the control request req (len bytes, not NUL-terminated, from a
 * client: hostile) of peer. Requests that change the links need a
 * privileged peer; status shows the partitions' pids and uids to
 * privileged peers only. Returns a malloc'd JSON text and its length, or
 * NULL when out of memory. */
char *xa_relay_ctl(struct xa_relay *r, const char *req, size_t len,
		   const struct xa_ctl_peer *peer, size_t *outlen);

#endif

/* Local transport wire protocol (docs/protocol.md, "Local socket protocol").
 *
 * A partition process talks to xenamp-backend over a UNIX SOCK_SEQPACKET
 * socket: one datagram per message, host byte order (both ends are on the
 * same machine). The socket doubles as the control socket of xenampctl;
 * the first message tells which kind of client is speaking.
 *
 *   partition                         backend
 *   HELLO {name, devno}        --->
 *                              <---   PARAMS {buf_size, buf_count, max_pages}  (InitWait)
 *                                      + fd: the partition's end of the
 *                                      notification socket
 *   REGION {size} + fd         --->   (Initialised) fd: the region memfd
 *                              <---   STATE Connected   (or ERROR and close)
 *   ... traffic through the region; kicks and calls on the notification
 *       socket ...
 *   STATE Closing              --->   (or the socket simply closes)
 *
 *   xenampctl                         backend
 *   CTL_REQ {"cmd": ...}       --->
 *                              <---   CTL_REPLY {json}  (one or more; the
 *                                      last has XA_CTL_F_LAST)
 */
#ifndef XENAMP_COMMON_LOCAL_PROTO_H
#define XENAMP_COMMON_LOCAL_PROTO_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

/* Version 2: notifications over a backend-made socketpair instead of two
 * eventfds made by the partition (see struct xa_local_params). */
#define XA_LOCAL_PROTO_VERSION 2u
#define XA_LOCAL_NAME_MAX 64u        /* partition name, NUL included */
#define XA_LOCAL_MSG_MAX 65536u      /* largest datagram either side sends */
#define XA_LOCAL_SOCKET_ENV "XENAMP_SOCKET"
#define XA_LOCAL_BACKEND_UID_ENV "XENAMP_BACKEND_UID"
/* The default socket lives in a directory only its user can create in
 * (never /tmp, where another user could squat the name first): root's
 * backend in /run/xenamp, anyone else's in $XDG_RUNTIME_DIR/xenamp.
 * XA_LOCAL_DEFAULT_SOCKET_DOC is the rule in words, for --help texts. */
#define XA_LOCAL_DEFAULT_SOCKET_ROOT "/run/xenamp/backend.sock"
#define XA_LOCAL_DEFAULT_SOCKET_DOC \
	"$XDG_RUNTIME_DIR/xenamp/backend.sock, for root /run/xenamp/backend.sock"
#define XA_LOCAL_PATH_MAX 108u       /* sun_path, NUL included */

enum xa_local_type {
	XA_LOCAL_HELLO = 1,
	XA_LOCAL_PARAMS = 2,
	XA_LOCAL_REGION = 3,
	XA_LOCAL_STATE = 4,
	XA_LOCAL_ERROR = 5,
	XA_LOCAL_CTL_REQ = 16,
	XA_LOCAL_CTL_REPLY = 17,
};

struct xa_local_hello {
	uint32_t type;          /* XA_LOCAL_HELLO */
	uint32_t version;       /* XA_LOCAL_PROTO_VERSION */
	uint32_t devno;         /* device number N within the partition */
	uint32_t flags;         /* 0 */
	char name[XA_LOCAL_NAME_MAX];
};

/* Sent with SCM_RIGHTS carrying exactly one fd: the partition's end of a
 * UNIX SOCK_STREAM socketpair the backend made for this end (the
 * notification socket). Any byte the partition writes is a kick
 * (partition -> backend: rings changed); any byte the backend writes is a
 * call (backend -> partition). Bytes carry no value: a reader drains what
 * is there, and a writer that gets EAGAIN knows a wake-up is pending.
 * Both sides write with MSG_DONTWAIT, so neither can block the other; the
 * backend's end never leaves the backend. */
struct xa_local_params {
	uint32_t type;          /* XA_LOCAL_PARAMS */
	uint32_t buf_size;
	uint32_t buf_count;
	uint32_t max_pages;
};

/* Sent with SCM_RIGHTS carrying exactly one fd: the region memfd,
 * created with MFD_ALLOW_SEALING (the backend seals it against shrinking
 * before mapping it). */
struct xa_local_region {
	uint32_t type;          /* XA_LOCAL_REGION */
	uint32_t reserved;
	uint64_t size;          /* bytes of the region, a multiple of 4096 */
};

struct xa_local_state {
	uint32_t type;          /* XA_LOCAL_STATE */
	uint32_t state;         /* enum xa_state */
};

struct xa_local_error {
	uint32_t type;          /* XA_LOCAL_ERROR */
	int32_t code;           /* enum xa_refusal (common/refusal.h) */
	char msg[256];          /* NUL-terminated, one line */
};

#define XA_CTL_F_LAST 1u

/* Followed by a JSON text (not NUL-terminated; its length is the rest of
 * the datagram). */
struct xa_local_ctl {
	uint32_t type;          /* XA_LOCAL_CTL_REQ or XA_LOCAL_CTL_REPLY */
	uint32_t flags;         /* XA_CTL_F_LAST on the last reply */
};

/* Client-side helpers (libxenamp, xenampctl, tests); header-only so that
 * every client gets them without another library. */

/* The SCM_RIGHTS fds of a received message: appended to fds[n..max),
 * every one beyond max closed at once (a peer may send more than the
 * message allows; none may leak). Returns the new count. */
static inline unsigned xa_local_take_fds(struct msghdr *mh, int *fds,
					 unsigned max, unsigned n)
{
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(mh); cm != NULL;
	     cm = CMSG_NXTHDR(mh, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		size_t k = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);

		for (size_t i = 0; i < k; i++) {
			int fd;

			memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof(fd));
			if (n < max)
				fds[n++] = fd;
			else
				close(fd);
		}
	}
	return n;
}

/* The default socket path for this process (see XA_LOCAL_DEFAULT_SOCKET_DOC):
 * root, or no usable $XDG_RUNTIME_DIR, gives the root path. buf holds
 * XA_LOCAL_PATH_MAX bytes; the result is buf or a constant. */
static inline const char *xa_local_default_socket(char *buf, size_t len)
{
	const char *x = getenv("XDG_RUNTIME_DIR");

	if (geteuid() == 0 || x == NULL || x[0] != '/')
		return XA_LOCAL_DEFAULT_SOCKET_ROOT;
	if ((size_t)snprintf(buf, len, "%s/xenamp/backend.sock", x) >= len)
		return XA_LOCAL_DEFAULT_SOCKET_ROOT;
	return buf;
}

/* Is the process listening at the other end of fd one we may trust with
 * our memory? Its uid (SO_PEERCRED, recorded by the kernel when it called
 * listen()) must be root, ours, or the one $XENAMP_BACKEND_UID names.
 * Anyone can create a socket where a backend is expected; this is what
 * stops a client from handing such a squatter its shared memory or
 * requests. Returns 0, or -EPERM (or -errno) with one line in err. */
static inline int xa_local_check_server(int fd, const char *path, char *err,
					size_t errlen)
{
	/* struct ucred's layout, spelled out so that this header does not
	 * need _GNU_SOURCE from every file that includes it. */
	struct { pid_t pid; uid_t uid; gid_t gid; } cr;
	socklen_t cl = sizeof(cr);
	const char *want = getenv(XA_LOCAL_BACKEND_UID_ENV);
	char *end = NULL;
	unsigned long named;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &cl) < 0) {
		int e = errno;

		snprintf(err, errlen, "cannot learn who serves %s (SO_PEERCRED: %s)",
			 path, strerror(e));
		return -e;
	}
	if (cr.uid == 0 || cr.uid == geteuid())
		return 0;
	if (want != NULL && want[0] != '\0') {
		named = strtoul(want, &end, 10);
		if (*end == '\0' && named == (unsigned long)cr.uid)
			return 0;
	}
	snprintf(err, errlen,
		 "refusing the server at %s: it runs as uid %lu, not root, this user (uid %lu) or $%s; if that uid really is xenamp-backend, set %s=%lu",
		 path, (unsigned long)cr.uid, (unsigned long)geteuid(),
		 XA_LOCAL_BACKEND_UID_ENV, XA_LOCAL_BACKEND_UID_ENV,
		 (unsigned long)cr.uid);
	return -EPERM;
}

#endif

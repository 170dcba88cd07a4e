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

#include <stdint.h>

/* Version 2: notifications over a backend-made socketpair instead of two
 * eventfds made by the partition (see struct xa_local_params). */
#define XA_LOCAL_PROTO_VERSION 2u
#define XA_LOCAL_NAME_MAX 64u        /* partition name, NUL included */
#define XA_LOCAL_MSG_MAX 65536u      /* largest datagram either side sends */
#define XA_LOCAL_DEFAULT_SOCKET "/tmp/xenamp-backend.sock"
#define XA_LOCAL_SOCKET_ENV "XENAMP_SOCKET"

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
	int32_t code;           /* negative errno-style or XA_ERR_* */
	char msg[256];          /* NUL-terminated, one line */
};

#define XA_CTL_F_LAST 1u

/* Followed by a JSON text (not NUL-terminated; its length is the rest of
 * the datagram). */
struct xa_local_ctl {
	uint32_t type;          /* XA_LOCAL_CTL_REQ or XA_LOCAL_CTL_REPLY */
	uint32_t flags;         /* XA_CTL_F_LAST on the last reply */
};

#endif

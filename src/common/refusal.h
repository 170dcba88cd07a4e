/* Why dom0 gave up on an end: the one error space on the wire.
 *
 * When the backend refuses or drops an end it tells the partition a
 * refusal code and a line of text: in the local transport's ERROR
 * datagram (local_proto.h, field `code`), and in the Xen transport's
 * `error` node of the frontend dir ("CODE TEXT", docs/protocol.md). These
 * codes are their own numbering, positive, and never errno values or the
 * protocol core's XA_ERR_* codes, which the backend uses internally: the
 * two used to share one field, and -40 (XA_ERR_RSC, a refused resource
 * table) read as -ELOOP made a partition retry a region that would be
 * refused forever.
 *
 * Whether a partition should try the same end again is decided here and
 * nowhere else (xa_refusal_retry), for both transports:
 *   - final: the same region or request would be refused again; the
 *     library gives up on the device at once;
 *   - transient: the condition may pass (the end is still held by a dying
 *     connection, the backend is at a limit or stopping); the library
 *     keeps trying within its reconnect window.
 * A code this build does not know is final: a newer backend's refusal is
 * never turned into a retry loop. */
#ifndef XENAMP_COMMON_REFUSAL_H
#define XENAMP_COMMON_REFUSAL_H

#include <stdbool.h>

enum xa_refusal {
	XA_REFUSE_NONE = 0,        /* an orderly close: no error */

	/* final */
	XA_REFUSE_NO_LINK = 1,     /* no link names this PARTITION:DEVNO */
	XA_REFUSE_PROTOCOL = 2,    /* broke the handshake: a malformed or
				    * out-of-order control message */
	XA_REFUSE_REGION = 3,      /* the shared region, its resource table or
				    * ring layout is invalid */
	XA_REFUSE_RING = 4,        /* broke a virtqueue rule at run time */
	XA_REFUSE_MESSAGE = 5,     /* a malformed RPMsg or name-service message */
	XA_REFUSE_PARAMS = 6,      /* the end's link parameters do not match */
	XA_REFUSE_DENIED = 7,      /* this peer may not hold this end */
	XA_REFUSE_QUOTA = 8,       /* exceeded a per-end limit (max-services...) */

	/* transient */
	XA_REFUSE_BUSY = 32,       /* the end is still held by another connection */
	XA_REFUSE_LIMIT = 33,      /* the backend is at a resource limit */
	XA_REFUSE_SHUTDOWN = 34,   /* the backend is stopping */
};

/* Whether a partition refused with code may try the same end again. */
bool xa_refusal_retry(int code);

/* The library's errno for a refusal: -EAGAIN when xa_refusal_retry(code),
 * else -EPERM (what xa_fe_ops.reconnect documents as "no point
 * retrying"). XA_REFUSE_NONE (dom0 let go of the end without refusing
 * it, e.g. its domain stopped) gives -ECONNRESET: retryable. */
int xa_refusal_errno(int code);

/* Short stable name ("no link", "invalid region", ...); never NULL. */
const char *xa_refusal_name(int code);

/* The refusal for an internal reason, converted where the reason's kind
 * is known: errno values and the core's XA_ERR_* codes overlap
 * numerically (-EPERM is XA_ERR_RING_PARAM, -EBUSY is XA_ERR_DESC_LEN),
 * so one function for both could not tell them apart.
 *   xa_refusal_of_errno: 0 or a negative errno value (handshake, socket,
 *                        limits);
 *   xa_refusal_of_core:  a negative XA_ERR_* code (region, ring and
 *                        message checks). */
int xa_refusal_of_errno(int neg_errno);
int xa_refusal_of_core(int xa_err);

/* Parse the Xen `error` node's value "CODE TEXT": the code, or
 * XA_REFUSE_PROTOCOL (final) when it does not start with a number in
 * range. *text points at TEXT (or at the whole value). */
int xa_refusal_parse(const char *value, const char **text);

#endif

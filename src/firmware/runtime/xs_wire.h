/* The xenstore wire protocol and ring, as pure functions (no hypercall,
 * no global state), so that the host's unit tests run them on a ring in
 * ordinary memory. xs.c drives them over the real page.
 *
 * Ring: two byte rings of 1024 bytes in the shared page, free-running
 * 32-bit indexes. We produce req (req_prod) and consume rsp (rsp_cons);
 * xenstored does the opposite. The peer's index is loaded once per call
 * with acquire ordering (the bytes before it are visible), our own is
 * stored with release ordering after the bytes. An index pair further
 * apart than the ring size is a corrupt ring: -FW_EIO, nothing consumed.
 *
 * Message: struct xen_xs_hdr (type, req_id, tx_id, len) then len bytes of
 * payload, len <= XEN_XS_PAYLOAD_MAX. Strings in a payload are
 * NUL-terminated, except the value of XS_WRITE, which runs to the end. */
#ifndef XENAMP_FW_XS_WIRE_H
#define XENAMP_FW_XS_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "xen_abi.h"

struct xs_part {
	const void *p;
	size_t n;
};

/* Header + the parts, concatenated into out (outsize bytes). Returns the
 * message length, or -FW_E2BIG when the payload exceeds
 * XEN_XS_PAYLOAD_MAX or out. */
long xs_msg_encode(uint8_t *out, size_t outsize, uint32_t type, uint32_t req_id,
		   uint32_t tx_id, const struct xs_part *parts, unsigned nparts);

/* Copy up to n bytes into the request ring; returns the bytes copied (0
 * when full) or -FW_EIO for a corrupt ring. */
long xs_ring_write(struct xen_xs_interface *r, const void *data, size_t n);
/* Copy up to n bytes out of the response ring; returns the bytes copied
 * (0 when empty) or -FW_EIO. */
long xs_ring_read(struct xen_xs_interface *r, void *data, size_t n);

/* Check a reply header received for a request of type `type`: 0 when it
 * matches, the negated errno of an XS_ERROR reply (payload "EINVAL" etc.),
 * -FW_EPROTO for any other type or a length above the maximum. */
int xs_reply_check(const struct xen_xs_hdr *h, const char *payload, uint32_t type);
/* Map a xenstore error name ("ENOENT") to its negated errno; -FW_EIO for
 * an unknown one. */
int xs_error_code(const char *name, size_t len);

/* Split an XS_WATCH_EVENT payload "path\0token\0" (len bytes). 0, or
 * -FW_EPROTO when it is not two NUL-terminated strings. */
int xs_watch_event_parse(const char *payload, uint32_t len,
			 const char **path, const char **token);

#endif

/* The xenstore wire protocol and ring (contract in xs_wire.h). */
#include "fw.h"
#include "xs_wire.h"

long xs_msg_encode(uint8_t *out, size_t outsize, uint32_t type, uint32_t req_id,
		   uint32_t tx_id, const struct xs_part *parts, unsigned nparts)
{
	struct xen_xs_hdr h = { .type = type, .req_id = req_id, .tx_id = tx_id };
	size_t len = 0;

	for (unsigned i = 0; i < nparts; i++) {
		if (parts[i].n > XEN_XS_PAYLOAD_MAX - len)
			return -FW_E2BIG;
		len += parts[i].n;
	}
	if (outsize < sizeof(h) || len > outsize - sizeof(h))
		return -FW_E2BIG;
	h.len = (uint32_t)len;
	memcpy(out, &h, sizeof(h));
	len = sizeof(h);
	for (unsigned i = 0; i < nparts; i++) {
		memcpy(out + len, parts[i].p, parts[i].n);
		len += parts[i].n;
	}
	return (long)len;
}

long xs_ring_write(struct xen_xs_interface *r, const void *data, size_t n)
{
	uint32_t cons = __atomic_load_n(&r->req_cons, __ATOMIC_ACQUIRE);
	uint32_t prod = r->req_prod;   /* ours: nobody else writes it */
	uint32_t used = prod - cons;
	const uint8_t *d = data;
	size_t done = 0;

	if (used > XEN_XS_RING_SIZE)
		return -FW_EIO;
	if (n > XEN_XS_RING_SIZE - used)
		n = XEN_XS_RING_SIZE - used;
	while (done < n) {
		uint32_t at = (prod + (uint32_t)done) & (XEN_XS_RING_SIZE - 1);
		size_t chunk = XEN_XS_RING_SIZE - at;

		if (chunk > n - done)
			chunk = n - done;
		memcpy(&r->req[at], d + done, chunk);
		done += chunk;
	}
	__atomic_store_n(&r->req_prod, prod + (uint32_t)n, __ATOMIC_RELEASE);
	return (long)n;
}

long xs_ring_read(struct xen_xs_interface *r, void *data, size_t n)
{
	uint32_t prod = __atomic_load_n(&r->rsp_prod, __ATOMIC_ACQUIRE);
	uint32_t cons = r->rsp_cons;   /* ours */
	uint32_t avail = prod - cons;
	uint8_t *d = data;
	size_t done = 0;

	if (avail > XEN_XS_RING_SIZE)
		return -FW_EIO;
	if (n > avail)
		n = avail;
	while (done < n) {
		uint32_t at = (cons + (uint32_t)done) & (XEN_XS_RING_SIZE - 1);
		size_t chunk = XEN_XS_RING_SIZE - at;

		if (chunk > n - done)
			chunk = n - done;
		memcpy(d + done, &r->rsp[at], chunk);
		done += chunk;
	}
	/* The bytes are copied before the slot is handed back. */
	__atomic_store_n(&r->rsp_cons, cons + (uint32_t)n, __ATOMIC_RELEASE);
	return (long)n;
}

static const struct {
	const char *name;
	int code;
} xs_errors[] = {
	{ "EINVAL", FW_EINVAL }, { "EACCES", FW_EACCES }, { "EEXIST", FW_EEXIST },
	{ "EISDIR", 21 }, { "ENOENT", FW_ENOENT }, { "ENOMEM", FW_ENOMEM },
	{ "ENOSPC", FW_ENOSPC }, { "EIO", FW_EIO }, { "ENOTEMPTY", 39 },
	{ "ENOSYS", FW_ENOSYS }, { "EROFS", 30 }, { "EBUSY", 16 },
	{ "EAGAIN", FW_EAGAIN }, { "EISCONN", 106 }, { "E2BIG", FW_E2BIG },
	{ "EPERM", FW_EPERM },
};

int xs_error_code(const char *name, size_t len)
{
	for (size_t i = 0; i < sizeof(xs_errors) / sizeof(xs_errors[0]); i++) {
		size_t n = strlen(xs_errors[i].name);

		if (len == n && memcmp(name, xs_errors[i].name, n) == 0)
			return -xs_errors[i].code;
	}
	return -FW_EIO;
}

int xs_reply_check(const struct xen_xs_hdr *h, const char *payload, uint32_t type)
{
	if (h->len > XEN_XS_PAYLOAD_MAX)
		return -FW_EPROTO;
	if (h->type == XEN_XS_ERROR)   /* "ENOENT\0": the name, maybe NUL-terminated */
		return xs_error_code(payload, strnlen(payload, h->len));
	return h->type == type ? 0 : -FW_EPROTO;
}

int xs_watch_event_parse(const char *payload, uint32_t len,
			 const char **path, const char **token)
{
	size_t n1, n2;

	if (len > XEN_XS_PAYLOAD_MAX)
		return -FW_EPROTO;
	n1 = strnlen(payload, len);
	if (n1 == len)
		return -FW_EPROTO;
	n2 = strnlen(payload + n1 + 1, len - n1 - 1);
	if (n1 + 1 + n2 == len)
		return -FW_EPROTO;
	*path = payload;
	*token = payload + n1 + 1;
	return 0;
}

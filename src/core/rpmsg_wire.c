/* RPMsg header and name-service message encoding and decoding.
 *
 * Decoders read hostile buffers byte-wise through byteorder.h; no wire
 * buffer is ever cast to a structure. */
#include <string.h>

#include "byteorder.h"
#include "rpmsg_wire.h"

void xa_rpmsg_hdr_encode(void *out, const struct xa_rpmsg_hdr *h)
{
	uint8_t *b = out;

	xa_put_le32(b + 0, h->src);
	xa_put_le32(b + 4, h->dst);
	xa_put_le32(b + 8, h->reserved);
	xa_put_le16(b + 12, h->len);
	xa_put_le16(b + 14, h->flags);
}

int xa_rpmsg_hdr_decode(const void *buf, size_t buf_len,
			struct xa_rpmsg_hdr *h)
{
	const uint8_t *b = buf;
	uint16_t len;

	if (buf == NULL || buf_len < XA_RPMSG_HDR_SIZE)
		return XA_ERR_MSG_SHORT;
	len = xa_get_le16(b + 12);
	if ((size_t)len > buf_len - XA_RPMSG_HDR_SIZE)
		return XA_ERR_MSG_LEN;
	h->src = xa_get_le32(b + 0);
	h->dst = xa_get_le32(b + 4);
	h->reserved = xa_get_le32(b + 8);
	h->len = len;
	h->flags = xa_get_le16(b + 14);
	return XA_OK;
}

void xa_rpmsg_ns_encode(void *out, const char *name, uint32_t addr,
			uint32_t flags)
{
	uint8_t *b = out;
	size_t n = 0;

	memset(b, 0, XA_RPMSG_NS_NAME_SIZE);
	if (name != NULL) {
		while (n < XA_RPMSG_NS_NAME_SIZE - 1 && name[n] != '\0')
			n++;
		memcpy(b, name, n);
	}
	xa_put_le32(b + XA_RPMSG_NS_NAME_SIZE, addr);
	xa_put_le32(b + XA_RPMSG_NS_NAME_SIZE + 4, flags);
}

int xa_rpmsg_ns_decode(const void *payload, size_t len,
		       struct xa_rpmsg_ns *ns)
{
	const uint8_t *b = payload;
	uint32_t flags;
	size_t n;

	if (payload == NULL || len != XA_RPMSG_NS_SIZE)
		return XA_ERR_NS_SIZE;
	for (n = 0; n < XA_RPMSG_NS_NAME_SIZE; n++) {
		if (b[n] == 0)
			break;
		if (b[n] < 0x20 || b[n] > 0x7e)
			return XA_ERR_NS_NAME;
	}
	if (n == XA_RPMSG_NS_NAME_SIZE)
		return XA_ERR_NS_NAME;
	flags = xa_get_le32(b + XA_RPMSG_NS_NAME_SIZE + 4);
	if (flags != XA_RPMSG_NS_CREATE && flags != XA_RPMSG_NS_DESTROY)
		return XA_ERR_NS_FLAGS;
	memset(ns->name, 0, sizeof(ns->name));
	memcpy(ns->name, b, n);
	ns->addr = xa_get_le32(b + XA_RPMSG_NS_NAME_SIZE);
	ns->flags = flags;
	return XA_OK;
}

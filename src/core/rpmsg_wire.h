/* RPMsg wire format (byte-compatible with Linux virtio_rpmsg_bus and
 * OpenAMP): the 16-byte message header and the 40-byte name-service
 * message. Encoders write little-endian bytes; decoders read a buffer
 * that may come from a hostile partition and check every field. */
#ifndef XENAMP_CORE_RPMSG_WIRE_H
#define XENAMP_CORE_RPMSG_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "xa_error.h"

#define XA_RPMSG_HDR_SIZE      16u
#define XA_RPMSG_NS_SIZE       40u
#define XA_RPMSG_NS_NAME_SIZE  32u   /* including the terminating NUL */
#define XA_RPMSG_NS_ADDR       53u   /* 0x35 */
#define XA_RPMSG_RESERVED_ADDRESSES 1024u
#define XA_RPMSG_ADDR_ANY      0xffffffffu
#define XA_RPMSG_NS_CREATE     0u
#define XA_RPMSG_NS_DESTROY    1u
#define XA_RPMSG_DEFAULT_BUF_SIZE 512u

#define XA_VIRTIO_ID_RPMSG     7u
#define XA_VIRTIO_RPMSG_F_NS   0u    /* feature bit number */

struct xa_rpmsg_hdr {
	uint32_t src;
	uint32_t dst;
	uint32_t reserved;
	uint16_t len;
	uint16_t flags;
};

struct xa_rpmsg_ns {
	char name[XA_RPMSG_NS_NAME_SIZE]; /* always NUL-terminated after decode */
	uint32_t addr;
	uint32_t flags;
};

/* Write the 16 header bytes. */
void xa_rpmsg_hdr_encode(void *out, const struct xa_rpmsg_hdr *h);

/* Decode the header of a buffer of buf_len bytes. Checks that the buffer
 * holds the header (XA_ERR_MSG_SHORT) and that len fits in what follows
 * (XA_ERR_MSG_LEN). */
int xa_rpmsg_hdr_decode(const void *buf, size_t buf_len,
			struct xa_rpmsg_hdr *h);

/* Write the 40 name-service bytes: name copied and NUL-padded to 32 bytes
 * (truncated to 31 characters), addr, flags. */
void xa_rpmsg_ns_encode(void *out, const char *name, uint32_t addr,
			uint32_t flags);

/* Decode a name-service payload of len bytes. len must be exactly 40
 * (XA_ERR_NS_SIZE); the name must be NUL-terminated within 32 bytes and
 * contain only printable ASCII (XA_ERR_NS_NAME); flags must be create or
 * destroy (XA_ERR_NS_FLAGS). */
int xa_rpmsg_ns_decode(const void *payload, size_t len,
		       struct xa_rpmsg_ns *ns);

/* ------------------------------------------------------------------ */
/* Endpoint address allocation: a bitmap over [base, base + count).     */

#define XA_ADDR_BITMAP_MAX 1024u

struct xa_addr_bitmap {
	uint32_t base;      /* first dynamic address, XA_RPMSG_RESERVED_ADDRESSES */
	uint32_t count;     /* number of addresses managed, <= XA_ADDR_BITMAP_MAX */
	uint32_t next_hint; /* where the next search starts (round robin) */
	uint64_t bits[XA_ADDR_BITMAP_MAX / 64];
};

void xa_addr_init(struct xa_addr_bitmap *b, uint32_t base, uint32_t count);
/* Take the next free address: XA_OK with *addr set, or XA_ERR_ADDR_FULL. */
int xa_addr_alloc(struct xa_addr_bitmap *b, uint32_t *addr);
/* Reserve a specific address: XA_OK, XA_ERR_ADDR_RANGE (not managed
 * here), XA_ERR_ADDR_BUSY. */
int xa_addr_reserve(struct xa_addr_bitmap *b, uint32_t addr);
/* Release; addresses outside the range are ignored. */
void xa_addr_release(struct xa_addr_bitmap *b, uint32_t addr);
int xa_addr_in_use(const struct xa_addr_bitmap *b, uint32_t addr);

#endif

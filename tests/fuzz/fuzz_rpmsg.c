/* libFuzzer target: the RPMsg wire decoders (src/core/rpmsg_wire.c) as
 * the relay uses them on a message taken from a TX buffer: the 16-byte
 * header, then, for a message to the name service (address 53), the
 * 40-byte announcement; then the endpoint-address bitmap (addr_alloc.c)
 * driven by the rest of the message.
 *
 * Input: one message (header + payload), in a buffer of exactly that size.
 *
 * Checked with __builtin_trap() (besides ASan/UBSan): a decoded header's
 * len fits the buffer and re-encodes to the same 16 bytes; a decoded
 * announcement has a printable, NUL-terminated name, create or destroy
 * flags, and round-trips through the encoder; the bitmap never hands out
 * an address twice or outside its range. */
#include <stdint.h>
#include <string.h>

#include "core/rpmsg_wire.h"

#define CHECK(c) do { if (!(c)) __builtin_trap(); } while (0)

static void check_ns(const uint8_t *p, size_t len)
{
	struct xa_rpmsg_ns ns, ns2;
	uint8_t enc[XA_RPMSG_NS_SIZE];
	size_t n;
	int rc;

	rc = xa_rpmsg_ns_decode(p, len, &ns);
	if (rc != XA_OK) {
		CHECK(rc == XA_ERR_NS_SIZE || rc == XA_ERR_NS_NAME ||
		      rc == XA_ERR_NS_FLAGS);
		CHECK(rc != XA_ERR_NS_SIZE || len != XA_RPMSG_NS_SIZE);
		return;
	}
	CHECK(len == XA_RPMSG_NS_SIZE);
	n = strnlen(ns.name, sizeof(ns.name));
	CHECK(n < sizeof(ns.name));
	for (size_t i = 0; i < n; i++)
		CHECK(ns.name[i] >= 0x20 && ns.name[i] <= 0x7e);
	CHECK(ns.flags == XA_RPMSG_NS_CREATE || ns.flags == XA_RPMSG_NS_DESTROY);

	xa_rpmsg_ns_encode(enc, ns.name, ns.addr, ns.flags);
	CHECK(xa_rpmsg_ns_decode(enc, sizeof(enc), &ns2) == XA_OK);
	CHECK(memcmp(ns.name, ns2.name, sizeof(ns.name)) == 0);
	CHECK(ns.addr == ns2.addr && ns.flags == ns2.flags);
}

static void run_bitmap(const uint8_t *p, size_t len)
{
	static struct xa_addr_bitmap b;
	static uint8_t mine[XA_ADDR_BITMAP_MAX];
	uint32_t count, addr;

	if (len < 2)
		return;
	count = (uint32_t)(p[0] | p[1] << 8) % (XA_ADDR_BITMAP_MAX + 1);
	xa_addr_init(&b, XA_RPMSG_RESERVED_ADDRESSES, count);
	memset(mine, 0, sizeof(mine));
	for (size_t i = 2; i + 1 < len; i += 2) {
		uint32_t a = XA_RPMSG_RESERVED_ADDRESSES - 8 +
			(uint32_t)(p[i + 1] | (p[i + 1] & 0x07) << 8);
		int rc;

		switch (p[i] & 3) {
		case 0:
			rc = xa_addr_alloc(&b, &addr);
			if (rc == XA_OK) {
				CHECK(addr >= b.base && addr - b.base < count);
				CHECK(!mine[addr - b.base]);
				mine[addr - b.base] = 1;
			} else {
				CHECK(rc == XA_ERR_ADDR_FULL);
				for (uint32_t k = 0; k < count; k++)
					CHECK(mine[k]);
			}
			break;
		case 1:
			rc = xa_addr_reserve(&b, a);
			if (a < b.base || a - b.base >= count) {
				CHECK(rc == XA_ERR_ADDR_RANGE);
			} else if (mine[a - b.base]) {
				CHECK(rc == XA_ERR_ADDR_BUSY);
			} else {
				CHECK(rc == XA_OK);
				mine[a - b.base] = 1;
			}
			break;
		case 2:
			xa_addr_release(&b, a);
			if (a >= b.base && a - b.base < count)
				mine[a - b.base] = 0;
			break;
		case 3:
			rc = xa_addr_in_use(&b, a);
			if (a >= b.base && a - b.base < count)
				CHECK(!!rc == mine[a - b.base]);
			break;
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct xa_rpmsg_hdr h;
	uint8_t enc[XA_RPMSG_HDR_SIZE];
	int rc;

	rc = xa_rpmsg_hdr_decode(data, size, &h);
	if (rc != XA_OK) {
		CHECK(rc == XA_ERR_MSG_SHORT || rc == XA_ERR_MSG_LEN);
		CHECK(rc != XA_ERR_MSG_SHORT || size < XA_RPMSG_HDR_SIZE);
		/* still decode the bytes as an announcement */
		check_ns(data, size);
		run_bitmap(data, size);
		return 0;
	}
	CHECK(size >= XA_RPMSG_HDR_SIZE);
	CHECK((size_t)h.len <= size - XA_RPMSG_HDR_SIZE);
	xa_rpmsg_hdr_encode(enc, &h);
	CHECK(memcmp(enc, data, XA_RPMSG_HDR_SIZE) == 0);

	if (h.dst == XA_RPMSG_NS_ADDR)
		check_ns(data + XA_RPMSG_HDR_SIZE, h.len);
	run_bitmap(data + XA_RPMSG_HDR_SIZE, size - XA_RPMSG_HDR_SIZE);
	return 0;
}

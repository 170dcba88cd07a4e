/* RPMsg endpoint address allocation: a bitmap over [base, base + count).
 *
 * next_hint is an index relative to base; allocation searches round robin
 * from it so that a just-released address is not handed out again at once. */
#include <string.h>

#include "rpmsg_wire.h"

static int bit_test(const struct xa_addr_bitmap *b, uint32_t i)
{
	return (int)((b->bits[i / 64] >> (i % 64)) & 1u);
}

static void bit_set(struct xa_addr_bitmap *b, uint32_t i)
{
	b->bits[i / 64] |= (uint64_t)1 << (i % 64);
}

static void bit_clear(struct xa_addr_bitmap *b, uint32_t i)
{
	b->bits[i / 64] &= ~((uint64_t)1 << (i % 64));
}

/* Index of addr in the bitmap, or -1 if it is not managed here. */
static int64_t addr_index(const struct xa_addr_bitmap *b, uint32_t addr)
{
	if (addr < b->base || addr - b->base >= b->count)
		return -1;
	return (int64_t)(addr - b->base);
}

void xa_addr_init(struct xa_addr_bitmap *b, uint32_t base, uint32_t count)
{
	memset(b, 0, sizeof(*b));
	if (count > XA_ADDR_BITMAP_MAX)
		count = XA_ADDR_BITMAP_MAX;
	/* Never manage XA_RPMSG_ADDR_ANY, and never wrap past it. */
	if (count > XA_RPMSG_ADDR_ANY - base)
		count = XA_RPMSG_ADDR_ANY - base;
	b->base = base;
	b->count = count;
	b->next_hint = 0;
}

int xa_addr_alloc(struct xa_addr_bitmap *b, uint32_t *addr)
{
	uint32_t n, i;

	if (b->count == 0 || b->count > XA_ADDR_BITMAP_MAX)
		return XA_ERR_ADDR_FULL;
	i = b->next_hint < b->count ? b->next_hint : 0;
	for (n = 0; n < b->count; n++) {
		if (!bit_test(b, i)) {
			bit_set(b, i);
			b->next_hint = (i + 1 < b->count) ? i + 1 : 0;
			*addr = b->base + i;
			return XA_OK;
		}
		i = (i + 1 < b->count) ? i + 1 : 0;
	}
	return XA_ERR_ADDR_FULL;
}

int xa_addr_reserve(struct xa_addr_bitmap *b, uint32_t addr)
{
	int64_t i = addr_index(b, addr);

	if (i < 0 || b->count > XA_ADDR_BITMAP_MAX)
		return XA_ERR_ADDR_RANGE;
	if (bit_test(b, (uint32_t)i))
		return XA_ERR_ADDR_BUSY;
	bit_set(b, (uint32_t)i);
	return XA_OK;
}

void xa_addr_release(struct xa_addr_bitmap *b, uint32_t addr)
{
	int64_t i = addr_index(b, addr);

	if (i < 0 || b->count > XA_ADDR_BITMAP_MAX)
		return;
	bit_clear(b, (uint32_t)i);
}

int xa_addr_in_use(const struct xa_addr_bitmap *b, uint32_t addr)
{
	int64_t i = addr_index(b, addr);

	if (i < 0 || b->count > XA_ADDR_BITMAP_MAX)
		return 0;
	return bit_test(b, (uint32_t)i);
}

/* Check suite for the split ring (src/core/vring.c).
 *
 * Both roles run against one static byte array that stands in for a
 * partition's shared region; descriptor addresses are offsets into it, as
 * on the wire. The malformed-ring tests corrupt the ring by hand the way a
 * hostile partition would, and prove three things for every fault: the
 * exact code, a region that is byte-for-byte unchanged, and nothing
 * consumed (the same pop succeeds once the ring is repaired). */
#include <check.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/byteorder.h"
#include "core/vring.h"

#define REGION_SIZE 0x10000u
#define RING_OFF    0x1000u   /* ring of the single-queue tests */
#define NUM         8u
#define ALIGN       4096u
#define BUF_OFF     0x8000u   /* buffers of the single-queue tests */
#define BUF_SZ      512u
#define MAXQ        32u

/* ck_assert_* records a mark point (a write to Check's pipe) even when it
 * passes; in the loops below that write would dominate the run time, so
 * these reach Check only on failure (ck_abort_msg keeps file and line). */
#define REQ_IOP(x, op, y)                                                         \
	do {                                                                      \
		intmax_t x_ = (intmax_t)(x), y_ = (intmax_t)(y);                  \
		if (!(x_ op y_))                                                  \
			ck_abort_msg("Assertion '%s %s %s' failed: %jd, %jd",     \
				     #x, #op, #y, x_, y_);                        \
	} while (0)
#define REQ_UOP(x, op, y)                                                         \
	do {                                                                      \
		uintmax_t x_ = (uintmax_t)(x), y_ = (uintmax_t)(y);               \
		if (!(x_ op y_))                                                  \
			ck_abort_msg("Assertion '%s %s %s' failed: %ju, %ju",     \
				     #x, #op, #y, x_, y_);                        \
	} while (0)
#define REQ_MSG(expr, ...)                                                        \
	do {                                                                      \
		if (!(expr))                                                      \
			ck_abort_msg(__VA_ARGS__);                                \
	} while (0)

static _Alignas(4096) uint8_t region[REGION_SIZE];
static uint8_t snap[REGION_SIZE];

/* The single-queue fixture: a driver and a device on one ring. */
static struct xa_vq_driver drv;
static struct xa_vq_device dev;
static struct xa_vq_driver_slot slots[MAXQ];
static int tokens[MAXQ];
static struct xa_vq_seg segs[64];
static struct xa_vq_buf buf;

/* ------------------------------------------------------------------ */
/* Raw access to the ring, as the peer sees it                          */

static size_t q_desc(unsigned id)
{
	return RING_OFF + drv.lay.desc_off + 16u * id;
}

static size_t q_avail(void)
{
	return RING_OFF + drv.lay.avail_off;
}

static size_t q_used(void)
{
	return RING_OFF + drv.lay.used_off;
}

static void set_desc(unsigned id, uint64_t addr, uint32_t len, uint16_t flags,
		     uint16_t next)
{
	uint8_t *p = region + q_desc(id);
	xa_put_le64(p, addr);
	xa_put_le32(p + 8, len);
	xa_put_le16(p + 12, flags);
	xa_put_le16(p + 14, next);
}

static void set_desc_addr(unsigned id, uint64_t addr)
{
	xa_put_le64(region + q_desc(id), addr);
}

static void set_desc_len(unsigned id, uint32_t len)
{
	xa_put_le32(region + q_desc(id) + 8, len);
}

static uint16_t get_desc_flags(unsigned id)
{
	return xa_get_le16(region + q_desc(id) + 12);
}

static void set_desc_flags(unsigned id, uint16_t flags)
{
	xa_put_le16(region + q_desc(id) + 12, flags);
}

static void set_desc_next(unsigned id, uint16_t next)
{
	xa_put_le16(region + q_desc(id) + 14, next);
}

static void set_avail_ring(unsigned slot, uint16_t id)
{
	xa_put_le16(region + q_avail() + 4 + 2u * slot, id);
}

static void set_avail_idx(uint16_t v)
{
	xa_put_le16(region + q_avail() + 2, v);
}

static uint16_t get_avail_flags(void)
{
	return xa_get_le16(region + q_avail());
}

static void set_used_idx(uint16_t v)
{
	xa_put_le16(region + q_used() + 2, v);
}

static uint16_t get_used_idx(void)
{
	return xa_get_le16(region + q_used() + 2);
}

static uint16_t get_used_flags(void)
{
	return xa_get_le16(region + q_used());
}

static void set_used_elem(unsigned slot, uint32_t id, uint32_t len)
{
	xa_put_le32(region + q_used() + 4 + 8u * slot, id);
	xa_put_le32(region + q_used() + 8 + 8u * slot, len);
}

/* Fill the whole region with a non-zero background, so that a stray write
 * of zeroes shows up too, then attach both roles. */
static void setup_queue(bool device_writes)
{
	for (size_t i = 0; i < REGION_SIZE; i++)
		region[i] = (uint8_t)(0xA5 ^ (i * 7));
	ck_assert_int_eq(xa_vqdrv_init(&drv, region + RING_OFF, NUM, ALIGN, slots), XA_OK);
	ck_assert_int_eq(xa_vqdev_init(&dev, region, REGION_SIZE, RING_OFF, NUM, ALIGN,
				       device_writes, 0), XA_OK);
}

/* Post n buffers of len bytes (buffer i at BUF_OFF + i*BUF_SZ) and publish. */
static void post(unsigned n, uint32_t len, bool device_writes)
{
	for (unsigned i = 0; i < n; i++) {
		unsigned k = NUM - xa_vqdrv_num_free(&drv);
		ck_assert_int_eq(xa_vqdrv_add(&drv, BUF_OFF + (uint64_t)k * BUF_SZ, len,
					      device_writes, &tokens[k]), XA_OK);
	}
	xa_vqdrv_publish(&drv);
}

static long first_diff(void)
{
	if (memcmp(region, snap, REGION_SIZE) == 0)
		return -1;
	for (size_t i = 0; i < REGION_SIZE; i++)
		if (region[i] != snap[i])
			return (long)i;
	return -1;
}

/* Pop and expect a fault: exact code, region untouched, nothing consumed. */
#define EXPECT_FAULT(max, code)                                                   \
	do {                                                                      \
		memcpy(snap, region, REGION_SIZE);                                \
		uint16_t last_ = dev.last_avail_idx;                              \
		uint16_t used_ = dev.used_idx;                                    \
		int cnt_ = xa_vqdev_avail_count(&dev);                            \
		int r_ = xa_vqdev_pop(&dev, segs, (max), &buf);                   \
		REQ_MSG(r_ == (code), "pop returned %d (%s), expected %d (%s)", \
			      r_, xa_strerror(r_), (code), xa_strerror(code));    \
		long d_ = first_diff();                                           \
		REQ_MSG(d_ < 0, "region modified at offset %ld", d_);       \
		REQ_UOP(dev.last_avail_idx, ==, last_);                     \
		REQ_UOP(dev.used_idx, ==, used_);                           \
		REQ_IOP(xa_vqdev_avail_count(&dev), ==, cnt_);               \
	} while (0)

#define EXPECT_POP_OK(max, nsegs)                                                 \
	do {                                                                      \
		uint16_t last_ = dev.last_avail_idx;                              \
		int r_ = xa_vqdev_pop(&dev, segs, (max), &buf);                   \
		REQ_MSG(r_ == XA_OK, "pop returned %d (%s)", r_, xa_strerror(r_)); \
		REQ_UOP(buf.nseg, ==, (nsegs));                             \
		REQ_UOP(dev.last_avail_idx, ==, (uint16_t)(last_ + 1));     \
	} while (0)

/* ------------------------------------------------------------------ */
/* Layout                                                               */

static size_t linux_vring_size(size_t num, size_t align)
{
	return ((16 * num + 2 * (3 + num) + align - 1) & ~(align - 1)) + 2 * 3 + 8 * num;
}

START_TEST(test_layout_golden)
{
	/* Worked by hand: desc 16n, avail 6+2n, used at ALIGN(desc+avail, A),
	 * used 6+8n. */
	static const struct {
		unsigned num, align;
		size_t avail, used, size;
	} g[] = {
		{ 1, 4, 16, 24, 38 },              /* 16+8=24, +14 */
		{ 1, 4096, 16, 4096, 4110 },       /* 24 -> 4096, +14 */
		{ 2, 16, 32, 48, 70 },             /* 32+10=42 -> 48, +22 */
		{ 4, 4, 64, 80, 118 },             /* 64+14=78 -> 80, +38 */
		{ 8, 4096, 128, 4096, 4166 },      /* 128+22=150 -> 4096, +70 */
		{ 16, 64, 256, 320, 454 },         /* 256+38=294 -> 320, +134 */
		{ 256, 4096, 4096, 8192, 10246 },  /* 4096+518=4614 -> 8192, +2054 */
		{ 1024, 4, 16384, 18440, 26638 },  /* 16384+2054=18438 -> 18440, +8198 */
		{ 32768, 4096, 524288, 593920, 856070 },  /* 589830 -> 145*4096, +262150 */
		{ 32768, 65536, 524288, 655360, 917510 }, /* 589830 -> 10*65536 */
	};
	for (size_t i = 0; i < sizeof g / sizeof g[0]; i++) {
		struct xa_vring_layout lay;
		ck_assert_int_eq(xa_vring_layout(g[i].num, g[i].align, &lay), XA_OK);
		ck_assert_uint_eq(lay.desc_off, 0);
		ck_assert_uint_eq(lay.avail_off, g[i].avail);
		ck_assert_uint_eq(lay.used_off, g[i].used);
		ck_assert_uint_eq(lay.size, g[i].size);
		ck_assert_uint_eq(xa_vring_size(g[i].num, g[i].align), g[i].size);
		ck_assert_uint_eq(linux_vring_size(g[i].num, g[i].align), g[i].size);
	}
}
END_TEST

START_TEST(test_layout_matches_linux)
{
	for (unsigned num = 1; num <= XA_VRING_MAX_NUM; num <<= 1)
		for (unsigned align = 4; align <= 65536; align <<= 1) {
			struct xa_vring_layout lay;
			ck_assert_int_eq(xa_vring_layout(num, align, &lay), XA_OK);
			ck_assert_uint_eq(lay.size, linux_vring_size(num, align));
			ck_assert_uint_eq(lay.used_off % align, 0);
			ck_assert_uint_ge(lay.used_off, lay.avail_off + 6 + 2 * num);
			ck_assert_uint_lt(lay.used_off - (lay.avail_off + 6 + 2 * num), align);
		}
}
END_TEST

START_TEST(test_layout_invalid)
{
	static const unsigned bad_num[] = { 0, 3, 6, 100, 32769, 65536, 1u << 20 };
	static const unsigned bad_align[] = { 0, 1, 2, 3, 12, 48, 131072 };
	struct xa_vring_layout lay;

	for (size_t i = 0; i < sizeof bad_num / sizeof bad_num[0]; i++) {
		ck_assert_int_eq(xa_vring_layout(bad_num[i], 4096, &lay), XA_ERR_RING_PARAM);
		ck_assert_uint_eq(xa_vring_size(bad_num[i], 4096), 0);
		ck_assert_int_eq(xa_vqdrv_init(&drv, region, bad_num[i], 4096, slots),
				 XA_ERR_RING_PARAM);
		ck_assert_int_eq(xa_vqdev_init(&dev, region, REGION_SIZE, 0, bad_num[i], 4096,
					       false, 0), XA_ERR_RING_PARAM);
	}
	for (size_t i = 0; i < sizeof bad_align / sizeof bad_align[0]; i++) {
		ck_assert_int_eq(xa_vring_layout(8, bad_align[i], &lay), XA_ERR_RING_PARAM);
		ck_assert_uint_eq(xa_vring_size(8, bad_align[i]), 0);
		ck_assert_int_eq(xa_vqdrv_init(&drv, region, 8, bad_align[i], slots),
				 XA_ERR_RING_PARAM);
		ck_assert_int_eq(xa_vqdev_init(&dev, region, REGION_SIZE, 0, 8, bad_align[i],
					       false, 0), XA_ERR_RING_PARAM);
	}
	/* The extremes are valid. */
	ck_assert_int_eq(xa_vring_layout(1, 4, &lay), XA_OK);
	ck_assert_int_eq(xa_vring_layout(32768, 65536, &lay), XA_OK);
}
END_TEST

START_TEST(test_driver_init)
{
	memset(region, 0xEE, REGION_SIZE);
	ck_assert_int_eq(xa_vqdrv_init(&drv, region + RING_OFF, NUM, ALIGN, slots), XA_OK);
	/* The whole ring is cleared, nothing around it. */
	for (size_t i = 0; i < REGION_SIZE; i++) {
		uint8_t want = (i >= RING_OFF && i < RING_OFF + 4166) ? 0 : 0xEE;
		REQ_MSG(region[i] == want, "byte %zu is %#x", i, region[i]);
	}
	ck_assert_uint_eq(xa_vqdrv_num_free(&drv), NUM);
	/* The atomic accesses need an aligned ring. */
	ck_assert_int_eq(xa_vqdrv_init(&drv, region + RING_OFF + 8, NUM, ALIGN, slots),
			 XA_ERR_RING_PLACE);
}
END_TEST

START_TEST(test_device_init_place)
{
	size_t sz = xa_vring_size(NUM, ALIGN);

	memset(region, 0x5A, REGION_SIZE);
	memcpy(snap, region, REGION_SIZE);
	/* Exact fit at the end of the region. */
	ck_assert_int_eq(xa_vqdev_init(&dev, region, RING_OFF + sz, RING_OFF, NUM, ALIGN,
				       false, 0), XA_OK);
	ck_assert_int_eq(xa_vqdev_init(&dev, region, sz, 0, NUM, ALIGN, false, 0), XA_OK);
	/* One byte short. */
	ck_assert_int_eq(xa_vqdev_init(&dev, region, RING_OFF + sz - 1, RING_OFF, NUM, ALIGN,
				       false, 0), XA_ERR_RING_PLACE);
	ck_assert_int_eq(xa_vqdev_init(&dev, region, sz - 1, 0, NUM, ALIGN, false, 0),
			 XA_ERR_RING_PLACE);
	/* Starting at or past the end. */
	ck_assert_int_eq(xa_vqdev_init(&dev, region, REGION_SIZE, REGION_SIZE, NUM, ALIGN,
				       false, 0), XA_ERR_RING_PLACE);
	ck_assert_int_eq(xa_vqdev_init(&dev, region, REGION_SIZE, REGION_SIZE + 16, NUM, ALIGN,
				       false, 0), XA_ERR_RING_PLACE);
	ck_assert_int_eq(xa_vqdev_init(&dev, region, REGION_SIZE, REGION_SIZE - 16, NUM, ALIGN,
				       false, 0), XA_ERR_RING_PLACE);
	/* ring_off + size wraps 64 bits. */
	ck_assert_int_eq(xa_vqdev_init(&dev, region, REGION_SIZE, UINT64_MAX - 15, NUM, ALIGN,
				       false, 0), XA_ERR_RING_PLACE);
	ck_assert_int_eq(xa_vqdev_init(&dev, region, REGION_SIZE, (uint64_t)1 << 63, NUM, ALIGN,
				       false, 0), XA_ERR_RING_PLACE);
	/* Misaligned offsets. */
	static const uint64_t bad_off[] = { 1, 2, 4, 8, RING_OFF + 8, RING_OFF + 12 };
	for (size_t i = 0; i < sizeof bad_off / sizeof bad_off[0]; i++)
		ck_assert_int_eq(xa_vqdev_init(&dev, region, REGION_SIZE, bad_off[i], NUM, ALIGN,
					       false, 0), XA_ERR_RING_PLACE);
	/* A misaligned offset into a mapping that makes it land aligned is
	 * still refused: ring_off itself must be a multiple of 16. */
	ck_assert_int_eq(xa_vqdev_init(&dev, region + 8, REGION_SIZE - 8, 8, NUM, ALIGN,
				       false, 0), XA_ERR_RING_PLACE);
	/* An aligned offset into a misaligned mapping is still misaligned. */
	ck_assert_int_eq(xa_vqdev_init(&dev, region + 8, REGION_SIZE - 8, RING_OFF, NUM, ALIGN,
				       false, 0), XA_ERR_RING_PLACE);
	/* init never writes the region. */
	ck_assert_int_eq(first_diff(), -1);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Basic behaviour                                                      */

START_TEST(test_visibility_and_full)
{
	setup_queue(false);
	for (unsigned i = 0; i < NUM; i++)
		ck_assert_int_eq(xa_vqdrv_add(&drv, BUF_OFF + i * BUF_SZ, 10 + i, false,
					      &tokens[i]), XA_OK);
	ck_assert_uint_eq(xa_vqdrv_num_free(&drv), 0);
	ck_assert_int_eq(xa_vqdrv_add(&drv, BUF_OFF, 1, false, NULL), XA_ERR_RING_FULL);

	/* Added is not published. */
	ck_assert_int_eq(xa_vqdev_avail_count(&dev), 0);
	ck_assert_int_eq(xa_vqdev_pop(&dev, segs, 4, &buf), XA_EMPTY);
	ck_assert_uint_eq(xa_get_le16(region + q_avail() + 2), 0);

	xa_vqdrv_publish(&drv);
	ck_assert_int_eq(xa_vqdev_avail_count(&dev), NUM);
	for (unsigned i = 0; i < NUM; i++) {
		EXPECT_POP_OK(4, 1);
		ck_assert_uint_eq(segs[0].off, BUF_OFF + i * BUF_SZ);
		ck_assert_uint_eq(segs[0].len, 10 + i);
		ck_assert_uint_eq(buf.total_len, 10 + i);
		ck_assert_ptr_eq(xa_vqdev_seg_ptr(&dev, &segs[0]), region + BUF_OFF + i * BUF_SZ);
		xa_vqdev_push(&dev, buf.head, 0);
	}
	ck_assert_int_eq(xa_vqdev_pop(&dev, segs, 4, &buf), XA_EMPTY);

	/* Pushed is not published. */
	void *tok;
	uint32_t len;
	ck_assert_int_eq(xa_vqdrv_used_pending(&drv), 0);
	ck_assert_int_eq(xa_vqdrv_get_used(&drv, &tok, &len), XA_EMPTY);
	ck_assert_uint_eq(get_used_idx(), 0);

	xa_vqdev_publish(&dev);
	ck_assert_uint_eq(get_used_idx(), NUM);
	ck_assert_int_eq(xa_vqdrv_used_pending(&drv), NUM);
	for (unsigned i = 0; i < NUM; i++) {
		ck_assert_int_eq(xa_vqdrv_get_used(&drv, &tok, &len), XA_OK);
		ck_assert_ptr_eq(tok, &tokens[i]);
		ck_assert_uint_eq(len, 0);
	}
	ck_assert_int_eq(xa_vqdrv_get_used(&drv, &tok, &len), XA_EMPTY);
	ck_assert_uint_eq(xa_vqdrv_num_free(&drv), NUM);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Bulk exchange: a TX and an RX queue in one region, indices wrapping  */

#define XCHG_N 100000u
#define RX_RING_OFF 0x1000u
#define TX_RING_OFF 0x3000u
#define RX_POOL     0x8000u
#define TX_POOL     0xC000u

static uint32_t rng_state;

static uint32_t rnd(void)
{
	/* xorshift32: deterministic, so a failure reproduces. */
	uint32_t x = rng_state;
	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return rng_state = x;
}

static uint8_t pattern(uint32_t seq, uint32_t i)
{
	return (uint8_t)(seq * 131u + (seq >> 8) * 17u + i * 7u + (i >> 8));
}

static uint32_t tx_len(uint32_t seq)
{
	return 1 + (seq * 2654435761u >> 7) % BUF_SZ;          /* 1..512 */
}

static uint32_t rx_len(uint32_t seq)
{
	return 4 + (seq * 2246822519u >> 9) % (BUF_SZ - 3);    /* 4..512 */
}

struct xq {
	struct xa_vq_driver drv;
	struct xa_vq_device dev;
	struct xa_vq_driver_slot slots[MAXQ];
	unsigned num;
	uint64_t pool;
	/* driver-side state of each buffer area */
	int area_id[MAXQ];            /* tokens point here */
	bool area_busy[MAXQ];
	uint32_t area_len[MAXQ];      /* length posted */
	unsigned free_areas[MAXQ];
	unsigned nfree_areas;
	/* device-side buffers popped and not yet pushed */
	struct { uint16_t head; uint32_t len; } held[MAXQ];
	unsigned nheld;
	/* counters */
	uint32_t sent, recv, returned;
	unsigned max_batch, max_pending_pop;
};

static struct xq txq, rxq;
static uint8_t rx_seen[XCHG_N];

static void xq_init(struct xq *q, uint64_t ring_off, uint64_t pool, unsigned num,
		    bool device_writes)
{
	memset(q, 0, sizeof *q);
	q->num = num;
	q->pool = pool;
	ck_assert_int_eq(xa_vqdrv_init(&q->drv, region + ring_off, num, ALIGN, q->slots), XA_OK);
	ck_assert_int_eq(xa_vqdev_init(&q->dev, region, REGION_SIZE, ring_off, num, ALIGN,
				       device_writes, 0), XA_OK);
	for (unsigned i = 0; i < num; i++) {
		q->area_id[i] = (int)i;
		q->free_areas[i] = num - 1 - i;
	}
	q->nfree_areas = num;
}

static unsigned token_area(struct xq *q, void *tok)
{
	int *p = tok;
	REQ_MSG(p >= q->area_id && p < q->area_id + q->num, "token outside the table");
	unsigned a = (unsigned)(p - q->area_id);
	REQ_MSG(q->area_busy[a], "token %u returned while not posted", a);
	return a;
}

/* Device: push a random subset of what it holds, in random order. */
static void xq_push_some(struct xq *q, bool tx)
{
	unsigned k = q->nheld ? rnd() % (q->nheld + 1) : 0;
	for (unsigned i = 0; i < k; i++) {
		unsigned j = rnd() % q->nheld;
		/* TX lengths are ignored by the driver: send garbage. */
		uint32_t len = tx ? rnd() % 100000 : q->held[j].len;
		xa_vqdev_push(&q->dev, q->held[j].head, len);
		q->held[j] = q->held[--q->nheld];
	}
	if (rnd() % 4 != 0)
		xa_vqdev_publish(&q->dev);
}

static void tx_round(struct xq *q)
{
	/* Driver: a batch of filled buffers, published most of the time. */
	unsigned k = q->nfree_areas ? rnd() % (q->nfree_areas + 1) : 0;
	for (unsigned i = 0; i < k && q->sent < XCHG_N; i++) {
		unsigned a = q->free_areas[--q->nfree_areas];
		uint32_t seq = q->sent++, len = tx_len(seq);
		uint8_t *p = region + q->pool + a * BUF_SZ;
		for (uint32_t b = 0; b < len; b++)
			p[b] = pattern(seq, b);
		q->area_busy[a] = true;
		q->area_len[a] = len;
		REQ_IOP(xa_vqdrv_add(&q->drv, q->pool + a * BUF_SZ, len, false,
					      &q->area_id[a]), ==, XA_OK);
		if (k > q->max_batch)
			q->max_batch = k;
	}
	if (rnd() % 4 != 0)
		xa_vqdrv_publish(&q->drv);

	/* Device: consume part of what is available, in FIFO order. */
	int avail = xa_vqdev_avail_count(&q->dev);
	REQ_IOP(avail, >=, 0);
	unsigned m = rnd() % ((unsigned)avail + 1);
	if ((unsigned)avail > m && (unsigned)avail - m > q->max_pending_pop)
		q->max_pending_pop = (unsigned)avail - m;
	for (unsigned i = 0; i < m; i++) {
		struct xa_vq_seg s[2];
		struct xa_vq_buf b;
		REQ_IOP(xa_vqdev_pop(&q->dev, s, 2, &b), ==, XA_OK);
		REQ_UOP(b.nseg, ==, 1);
		uint32_t seq = q->recv;
		REQ_UOP(s[0].len, ==, tx_len(seq));
		REQ_UOP(b.total_len, ==, tx_len(seq));
		REQ_UOP(s[0].off, >=, q->pool);
		REQ_UOP((s[0].off - q->pool) % BUF_SZ, ==, 0);
		REQ_UOP((s[0].off - q->pool) / BUF_SZ, <, q->num);
		const uint8_t *p = xa_vqdev_seg_ptr(&q->dev, &s[0]);
		for (uint32_t x = 0; x < s[0].len; x++)
			REQ_MSG(p[x] == pattern(seq, x), "tx seq %u byte %u", seq, x);
		if (rnd() % 16 == 0) {
			/* No room on the other end: hand it back, see it again. */
			xa_vqdev_unpop(&q->dev);
			break;
		}
		q->recv++;
		q->held[q->nheld].head = b.head;
		q->held[q->nheld].len = 0;
		q->nheld++;
	}
	xq_push_some(q, true);

	/* Driver: reap some of the returned buffers. */
	unsigned r = rnd() % (q->num + 1);
	for (unsigned i = 0; i < r; i++) {
		void *tok;
		uint32_t len;
		int e = xa_vqdrv_get_used(&q->drv, &tok, &len);
		if (e == XA_EMPTY)
			break;
		REQ_IOP(e, ==, XA_OK);
		unsigned a = token_area(q, tok);
		REQ_UOP(len, ==, 0);
		q->area_busy[a] = false;
		q->free_areas[q->nfree_areas++] = a;
		q->returned++;
	}
}

static void rx_round(struct xq *q)
{
	/* Driver: post empty buffers of varying sizes, over stale bytes. */
	unsigned k = q->nfree_areas ? rnd() % (q->nfree_areas + 1) : 0;
	for (unsigned i = 0; i < k && q->sent < XCHG_N; i++) {
		unsigned a = q->free_areas[--q->nfree_areas];
		uint32_t len = 4 + rnd() % (BUF_SZ - 3);
		memset(region + q->pool + a * BUF_SZ, 0xCC, BUF_SZ);
		q->area_busy[a] = true;
		q->area_len[a] = len;
		q->sent++;
		REQ_IOP(xa_vqdrv_add(&q->drv, q->pool + a * BUF_SZ, len, true,
					      &q->area_id[a]), ==, XA_OK);
		if (k > q->max_batch)
			q->max_batch = k;
	}
	if (rnd() % 4 != 0)
		xa_vqdrv_publish(&q->drv);

	/* Device: fill part of what is available. */
	int avail = xa_vqdev_avail_count(&q->dev);
	REQ_IOP(avail, >=, 0);
	unsigned m = rnd() % ((unsigned)avail + 1);
	for (unsigned i = 0; i < m; i++) {
		struct xa_vq_seg s[1];
		struct xa_vq_buf b;
		REQ_IOP(xa_vqdev_pop(&q->dev, s, 1, &b), ==, XA_OK);
		REQ_UOP(b.nseg, ==, 1);
		unsigned a = (unsigned)((s[0].off - q->pool) / BUF_SZ);
		REQ_UOP(s[0].off, ==, q->pool + a * BUF_SZ);
		REQ_UOP(a, <, q->num);
		REQ_UOP(s[0].len, ==, q->area_len[a]);
		if (rnd() % 16 == 0) {
			xa_vqdev_unpop(&q->dev);
			break;
		}
		uint32_t seq = q->recv++;
		uint32_t n = rx_len(seq) < s[0].len ? rx_len(seq) : s[0].len;
		uint8_t *p = xa_vqdev_seg_ptr(&q->dev, &s[0]);
		xa_put_le32(p, seq);
		for (uint32_t x = 4; x < n; x++)
			p[x] = pattern(seq, x);
		q->held[q->nheld].head = b.head;
		q->held[q->nheld].len = n;
		q->nheld++;
	}
	xq_push_some(q, false);

	/* Driver: reap and check what the device wrote. */
	unsigned r = rnd() % (q->num + 1);
	for (unsigned i = 0; i < r; i++) {
		void *tok;
		uint32_t len;
		int e = xa_vqdrv_get_used(&q->drv, &tok, &len);
		if (e == XA_EMPTY)
			break;
		REQ_IOP(e, ==, XA_OK);
		unsigned a = token_area(q, tok);
		const uint8_t *p = region + q->pool + a * BUF_SZ;
		REQ_UOP(len, >=, 4);
		uint32_t seq = xa_get_le32(p);
		REQ_UOP(seq, <, q->recv);
		REQ_MSG(!rx_seen[seq], "rx seq %u delivered twice", seq);
		rx_seen[seq] = 1;
		uint32_t want = rx_len(seq) < q->area_len[a] ? rx_len(seq) : q->area_len[a];
		REQ_UOP(len, ==, want);
		for (uint32_t x = 4; x < len; x++)
			REQ_MSG(p[x] == pattern(seq, x), "rx seq %u byte %u", seq, x);
		/* Nothing past the returned length was touched. */
		for (uint32_t x = len; x < BUF_SZ; x++)
			REQ_UOP(p[x], ==, 0xCC);
		q->area_busy[a] = false;
		q->free_areas[q->nfree_areas++] = a;
		q->returned++;
	}
}

static const unsigned xchg_nums[] = { 4, 32 };

START_TEST(test_exchange)
{
	unsigned num = xchg_nums[_i];

	rng_state = 0x12345678u + num;
	memset(region, 0, REGION_SIZE);
	memset(rx_seen, 0, sizeof rx_seen);
	xq_init(&rxq, RX_RING_OFF, RX_POOL, num, true);
	xq_init(&txq, TX_RING_OFF, TX_POOL, num, false);
	/* Rings and pools must not overlap. */
	REQ_UOP(RX_RING_OFF + xa_vring_size(num, ALIGN), <=, TX_RING_OFF);
	REQ_UOP(TX_RING_OFF + xa_vring_size(num, ALIGN), <=, RX_POOL);
	REQ_UOP(RX_POOL + num * BUF_SZ, <=, TX_POOL);
	REQ_UOP(TX_POOL + num * BUF_SZ, <=, REGION_SIZE);

	unsigned long rounds = 0;
	while (txq.returned < XCHG_N || rxq.returned < XCHG_N) {
		if (txq.returned < XCHG_N)
			tx_round(&txq);
		if (rxq.returned < XCHG_N)
			rx_round(&rxq);
		REQ_UOP(++rounds, <, 40u * XCHG_N);
	}
	REQ_UOP(txq.sent, ==, XCHG_N);
	REQ_UOP(txq.recv, ==, XCHG_N);
	REQ_UOP(rxq.recv, ==, XCHG_N);
	for (uint32_t i = 0; i < XCHG_N; i++)
		REQ_MSG(rx_seen[i], "rx seq %u never delivered", i);
	/* The 16-bit indices wrapped (100000 = 65536 + 34464). */
	REQ_UOP(txq.drv.last_used_idx, ==, (uint16_t)XCHG_N);
	REQ_UOP(txq.dev.last_avail_idx, ==, (uint16_t)XCHG_N);
	REQ_UOP(rxq.drv.last_used_idx, ==, (uint16_t)XCHG_N);
	REQ_UOP(rxq.dev.used_idx, ==, (uint16_t)XCHG_N);
	REQ_UOP(xa_vqdrv_num_free(&txq.drv), ==, num);
	REQ_UOP(xa_vqdrv_num_free(&rxq.drv), ==, num);
	/* The run did batch and did leave work behind between rounds. */
	if (num > 1) {
		REQ_UOP(txq.max_batch, >, 1);
		REQ_UOP(rxq.max_batch, >, 1);
		REQ_UOP(txq.max_pending_pop, >, 0);
	}
}
END_TEST

/* ------------------------------------------------------------------ */
/* Malformed rings, device side                                         */

START_TEST(test_bad_head_id)
{
	setup_queue(false);
	post(1, 100, false);
	set_avail_ring(0, NUM);
	EXPECT_FAULT(4, XA_ERR_DESC_ID);
	set_avail_ring(0, 0xFFFF);
	EXPECT_FAULT(4, XA_ERR_DESC_ID);
	set_avail_ring(0, 0);
	EXPECT_POP_OK(4, 1);
	ck_assert_uint_eq(buf.head, 0);
	ck_assert_uint_eq(segs[0].off, BUF_OFF);
	ck_assert_uint_eq(segs[0].len, 100);
}
END_TEST

START_TEST(test_bad_next_id)
{
	setup_queue(false);
	post(1, 100, false);
	set_desc(1, BUF_OFF + BUF_SZ, 50, 0, 0);
	set_desc_flags(0, XA_VRING_DESC_F_NEXT);
	set_desc_next(0, NUM);
	EXPECT_FAULT(4, XA_ERR_DESC_ID);
	set_desc_next(0, 0xFFFF);
	EXPECT_FAULT(4, XA_ERR_DESC_ID);
	/* Deeper in the chain. */
	set_desc_next(0, 1);
	set_desc(1, BUF_OFF + BUF_SZ, 50, XA_VRING_DESC_F_NEXT, NUM + 3);
	EXPECT_FAULT(4, XA_ERR_DESC_ID);
	set_desc(1, BUF_OFF + BUF_SZ, 50, 0, NUM + 3);   /* no NEXT: next ignored */
	EXPECT_POP_OK(4, 2);
	ck_assert_uint_eq(segs[0].off, BUF_OFF);
	ck_assert_uint_eq(segs[0].len, 100);
	ck_assert_uint_eq(segs[1].off, BUF_OFF + BUF_SZ);
	ck_assert_uint_eq(segs[1].len, 50);
	ck_assert_uint_eq(buf.total_len, 150);
}
END_TEST

START_TEST(test_addr_outside)
{
	setup_queue(false);
	post(1, 100, false);
	set_desc_addr(0, REGION_SIZE);
	EXPECT_FAULT(4, XA_ERR_DESC_RANGE);
	set_desc_addr(0, REGION_SIZE + 4096);
	EXPECT_FAULT(4, XA_ERR_DESC_RANGE);
	set_desc_addr(0, (uint64_t)1 << 40);
	EXPECT_FAULT(4, XA_ERR_DESC_RANGE);
	set_desc_addr(0, BUF_OFF);
	EXPECT_POP_OK(4, 1);
	ck_assert_uint_eq(segs[0].off, BUF_OFF);
}
END_TEST

START_TEST(test_addr_len_past_end)
{
	setup_queue(false);
	post(1, 100, false);
	set_desc_addr(0, REGION_SIZE - 99);
	EXPECT_FAULT(4, XA_ERR_DESC_RANGE);
	set_desc_addr(0, REGION_SIZE - 1);
	EXPECT_FAULT(4, XA_ERR_DESC_RANGE);
	set_desc_addr(0, 0);
	set_desc_len(0, 0xFFFFFFFFu);
	EXPECT_FAULT(4, XA_ERR_DESC_RANGE);
	set_desc_len(0, REGION_SIZE + 1);
	EXPECT_FAULT(4, XA_ERR_DESC_RANGE);
	/* Ending exactly at the end of the region is fine. */
	set_desc_addr(0, REGION_SIZE - 100);
	set_desc_len(0, 100);
	EXPECT_POP_OK(4, 1);
	ck_assert_uint_eq(segs[0].off, REGION_SIZE - 100);
	ck_assert_uint_eq(segs[0].len, 100);
}
END_TEST

START_TEST(test_addr_len_overflow)
{
	setup_queue(false);
	post(1, 100, false);
	set_desc_addr(0, UINT64_MAX - 49);            /* addr + 100 wraps to 50 */
	EXPECT_FAULT(4, XA_ERR_DESC_RANGE);
	set_desc_addr(0, 0xFFFFFFFFFFFFFF00ull);      /* addr + 0x100 wraps to 0 */
	set_desc_len(0, 0x100);
	EXPECT_FAULT(4, XA_ERR_DESC_RANGE);
	set_desc_addr(0, UINT64_MAX);
	set_desc_len(0, 1);
	EXPECT_FAULT(4, XA_ERR_DESC_RANGE);
	set_desc_addr(0, BUF_OFF);
	EXPECT_POP_OK(4, 1);
	ck_assert_uint_eq(segs[0].len, 1);
}
END_TEST

START_TEST(test_zero_len)
{
	setup_queue(false);
	post(1, 100, false);
	set_desc_len(0, 0);
	EXPECT_FAULT(4, XA_ERR_DESC_LEN);
	/* Also in the second link of a chain. */
	set_desc_len(0, 100);
	set_desc_flags(0, XA_VRING_DESC_F_NEXT);
	set_desc_next(0, 1);
	set_desc(1, BUF_OFF + BUF_SZ, 0, 0, 0);
	EXPECT_FAULT(4, XA_ERR_DESC_LEN);
	set_desc_len(1, 1);
	EXPECT_POP_OK(4, 2);
	ck_assert_uint_eq(buf.total_len, 101);
}
END_TEST

START_TEST(test_indirect)
{
	setup_queue(false);
	post(1, 32, false);
	/* A plausible indirect table in the buffer: still refused. */
	set_desc_flags(0, XA_VRING_DESC_F_INDIRECT);
	EXPECT_FAULT(4, XA_ERR_DESC_FLAGS);
	set_desc_flags(0, XA_VRING_DESC_F_INDIRECT | XA_VRING_DESC_F_NEXT);
	set_desc_next(0, 1);
	set_desc(1, BUF_OFF, 16, 0, 0);
	EXPECT_FAULT(4, XA_ERR_DESC_FLAGS);
	set_desc_flags(0, 0);
	EXPECT_POP_OK(4, 1);
}
END_TEST

START_TEST(test_wrong_direction_tx)
{
	setup_queue(false);   /* device reads */
	post(1, 100, false);
	set_desc_flags(0, XA_VRING_DESC_F_WRITE);
	EXPECT_FAULT(4, XA_ERR_DESC_FLAGS);
	/* A mixed chain: readable head, writable tail. */
	set_desc_flags(0, XA_VRING_DESC_F_NEXT);
	set_desc_next(0, 1);
	set_desc(1, BUF_OFF + BUF_SZ, 10, XA_VRING_DESC_F_WRITE, 0);
	EXPECT_FAULT(4, XA_ERR_DESC_FLAGS);
	set_desc_flags(1, 0);
	EXPECT_POP_OK(4, 2);
}
END_TEST

START_TEST(test_wrong_direction_rx)
{
	setup_queue(true);    /* device writes */
	post(1, 100, true);
	ck_assert_uint_eq(get_desc_flags(0), XA_VRING_DESC_F_WRITE);
	set_desc_flags(0, 0);
	EXPECT_FAULT(4, XA_ERR_DESC_FLAGS);
	set_desc_flags(0, XA_VRING_DESC_F_WRITE);
	EXPECT_POP_OK(4, 1);
}
END_TEST

START_TEST(test_avail_idx_ahead)
{
	setup_queue(false);
	post(NUM, 100, false);
	/* Exactly num ahead is a full ring: fine. */
	ck_assert_int_eq(xa_vqdev_avail_count(&dev), NUM);
	set_avail_idx(NUM + 1);
	ck_assert_int_eq(xa_vqdev_avail_count(&dev), XA_ERR_AVAIL_IDX);
	EXPECT_FAULT(4, XA_ERR_AVAIL_IDX);
	set_avail_idx(0xFFFF);                 /* "behind": 65535 ahead */
	EXPECT_FAULT(4, XA_ERR_AVAIL_IDX);
	set_avail_idx(NUM);
	for (unsigned i = 0; i < NUM; i++) {
		EXPECT_POP_OK(4, 1);
		ck_assert_uint_eq(buf.head, i);
		xa_vqdev_push(&dev, buf.head, 0);
	}
	ck_assert_int_eq(xa_vqdev_pop(&dev, segs, 4, &buf), XA_EMPTY);
}
END_TEST

START_TEST(test_avail_idx_ahead_wrapped)
{
	/* Same bound across the 16-bit wrap: a device resumed at 0xFFFC. */
	setup_queue(false);
	post(NUM, 100, false);
	ck_assert_int_eq(xa_vqdev_init(&dev, region, REGION_SIZE, RING_OFF, NUM, ALIGN,
				       false, 0xFFFC), XA_OK);
	set_avail_idx((uint16_t)(0xFFFC + NUM + 1));   /* 5 */
	EXPECT_FAULT(4, XA_ERR_AVAIL_IDX);
	set_avail_idx((uint16_t)(0xFFFC + NUM));       /* 4: exactly num */
	ck_assert_int_eq(xa_vqdev_avail_count(&dev), NUM);
	for (unsigned i = 0; i < NUM; i++) {
		EXPECT_POP_OK(4, 1);
		ck_assert_uint_eq(buf.head, (0xFFFCu + i) & (NUM - 1));
	}
	ck_assert_uint_eq(dev.last_avail_idx, 4);
	ck_assert_int_eq(xa_vqdev_pop(&dev, segs, 4, &buf), XA_EMPTY);
}
END_TEST

START_TEST(test_loop_two)
{
	setup_queue(false);
	post(1, 100, false);
	set_desc_flags(0, XA_VRING_DESC_F_NEXT);
	set_desc_next(0, 1);
	set_desc(1, BUF_OFF + BUF_SZ, 20, XA_VRING_DESC_F_NEXT, 0);
	EXPECT_FAULT(64, XA_ERR_DESC_LOOP);
	/* A loop is reported as such even when max_segs is smaller. */
	EXPECT_FAULT(1, XA_ERR_DESC_LOOP);
	set_desc_flags(1, 0);
	EXPECT_POP_OK(64, 2);
}
END_TEST

START_TEST(test_loop_self)
{
	setup_queue(false);
	post(1, 100, false);
	set_desc_flags(0, XA_VRING_DESC_F_NEXT);
	set_desc_next(0, 0);
	EXPECT_FAULT(64, XA_ERR_DESC_LOOP);
	EXPECT_FAULT(2, XA_ERR_DESC_LOOP);
	/* A tail looping back on itself after a sound head. */
	set_desc_next(0, 1);
	set_desc(1, BUF_OFF + BUF_SZ, 20, XA_VRING_DESC_F_NEXT, 1);
	EXPECT_FAULT(64, XA_ERR_DESC_LOOP);
	set_desc_flags(1, 0);
	EXPECT_POP_OK(64, 2);
}
END_TEST

START_TEST(test_chain_num_long_ok)
{
	/* A chain through all num descriptors is the longest legal one. */
	setup_queue(false);
	post(1, 100, false);
	for (unsigned i = 0; i < NUM; i++)
		set_desc(i, BUF_OFF + i * BUF_SZ, 1 + i,
			 i + 1 < NUM ? XA_VRING_DESC_F_NEXT : 0, (uint16_t)(i + 1));
	EXPECT_FAULT(NUM - 1, XA_ERR_CHAIN_LONG);
	EXPECT_POP_OK(NUM, NUM);
	for (unsigned i = 0; i < NUM; i++) {
		ck_assert_uint_eq(segs[i].off, BUF_OFF + i * BUF_SZ);
		ck_assert_uint_eq(segs[i].len, 1 + i);
	}
	ck_assert_uint_eq(buf.total_len, NUM * (NUM + 1) / 2);
}
END_TEST

START_TEST(test_chain_long)
{
	setup_queue(false);
	post(1, 100, false);
	set_desc_flags(0, XA_VRING_DESC_F_NEXT);
	set_desc_next(0, 1);
	set_desc(1, BUF_OFF + BUF_SZ, 20, XA_VRING_DESC_F_NEXT, 2);
	set_desc(2, BUF_OFF + 2 * BUF_SZ, 30, 0, 0);
	EXPECT_FAULT(2, XA_ERR_CHAIN_LONG);
	EXPECT_FAULT(1, XA_ERR_CHAIN_LONG);
	EXPECT_FAULT(0, XA_ERR_CHAIN_LONG);
	/* Repair: a shorter chain fits. */
	set_desc_flags(1, 0);
	EXPECT_POP_OK(2, 2);
	ck_assert_uint_eq(buf.total_len, 120);
}
END_TEST

START_TEST(test_chain_long_accepted_with_room)
{
	setup_queue(false);
	post(1, 100, false);
	set_desc_flags(0, XA_VRING_DESC_F_NEXT);
	set_desc_next(0, 1);
	set_desc(1, BUF_OFF + BUF_SZ, 20, XA_VRING_DESC_F_NEXT, 2);
	set_desc(2, BUF_OFF + 2 * BUF_SZ, 30, 0, 0);
	EXPECT_FAULT(2, XA_ERR_CHAIN_LONG);
	EXPECT_POP_OK(3, 3);
	ck_assert_uint_eq(segs[2].off, BUF_OFF + 2 * BUF_SZ);
	ck_assert_uint_eq(buf.total_len, 150);
}
END_TEST

/* Random corruption against a reference walk written from the spec: the
 * same verdict, the same segments, and never a write to the region. */
static int ref_pop(unsigned max_segs, struct xa_vq_seg *out, unsigned *nseg_out,
		   uint16_t *head_out)
{
	uint16_t aidx = xa_get_le16(region + q_avail() + 2);
	uint16_t n = (uint16_t)(aidx - dev.last_avail_idx);
	if (n > NUM)
		return XA_ERR_AVAIL_IDX;
	if (n == 0)
		return XA_EMPTY;
	uint16_t head = xa_get_le16(region + q_avail() + 4 + 2 * (dev.last_avail_idx % NUM));
	if (head >= NUM)
		return XA_ERR_DESC_ID;
	unsigned nseg = 0;
	uint16_t id = head;
	for (unsigned walked = 0;; walked++) {
		if (walked == NUM)
			return XA_ERR_DESC_LOOP;
		const uint8_t *p = region + q_desc(id);
		uint64_t addr = xa_get_le64(p);
		uint32_t len = xa_get_le32(p + 8);
		uint16_t fl = xa_get_le16(p + 12), next = xa_get_le16(p + 14);
		if (fl & XA_VRING_DESC_F_INDIRECT)
			return XA_ERR_DESC_FLAGS;
		if (!!(fl & XA_VRING_DESC_F_WRITE) != dev.device_writes)
			return XA_ERR_DESC_FLAGS;
		if (len == 0)
			return XA_ERR_DESC_LEN;
		if (addr + len < addr || addr + len > REGION_SIZE)
			return XA_ERR_DESC_RANGE;
		if (nseg < max_segs) {
			out[nseg].off = addr;
			out[nseg].len = len;
		}
		nseg++;
		if (!(fl & XA_VRING_DESC_F_NEXT))
			break;
		if (next >= NUM)
			return XA_ERR_DESC_ID;
		id = next;
	}
	if (nseg > max_segs)
		return XA_ERR_CHAIN_LONG;
	*nseg_out = nseg;
	*head_out = head;
	return XA_OK;
}

START_TEST(test_random_corruption)
{
	static const uint64_t addrs[] = { 0, 16, BUF_OFF, REGION_SIZE - 64, REGION_SIZE - 1,
		REGION_SIZE, UINT64_MAX - 8, 0xFFFFFFFF00000000ull, RING_OFF };
	static const uint32_t lens[] = { 0, 1, 64, 65, 4096, REGION_SIZE, 0xFFFFFFFFu };
	unsigned seen[32] = { 0 };   /* indexed by verdict + 20 */

	rng_state = 0xC0FFEE;
	setup_queue(false);
	for (unsigned iter = 0; iter < 10000; iter++) {
		bool w = rnd() & 1;
		REQ_IOP(xa_vqdrv_init(&drv, region + RING_OFF, NUM, ALIGN, slots), ==, XA_OK);
		REQ_IOP(xa_vqdev_init(&dev, region, REGION_SIZE, RING_OFF, NUM, ALIGN,
					       w, (uint16_t)rnd()), ==, XA_OK);
		for (unsigned i = 0; i < NUM; i++) {
			/* Mostly sound descriptors, so that deep chains occur. */
			uint16_t fl = (rnd() % 4) ? (w ? XA_VRING_DESC_F_WRITE : 0) : (uint16_t)(rnd() % 8);
			if (rnd() % 2)
				fl |= XA_VRING_DESC_F_NEXT;
			uint64_t a = (rnd() % 4) ? BUF_OFF + (rnd() % 8) * 64 : addrs[rnd() % 9];
			uint32_t l = (rnd() % 4) ? 1 + rnd() % 64 : lens[rnd() % 7];
			uint16_t nx = (rnd() % 8) ? (uint16_t)(rnd() % NUM) : (uint16_t)rnd();
			set_desc(i, a, l, fl, nx);
			set_avail_ring(i, (rnd() % 8) ? (uint16_t)(rnd() % NUM) : (uint16_t)rnd());
		}
		set_avail_idx((uint16_t)(dev.last_avail_idx +
					 ((rnd() % 4) ? rnd() % (NUM + 1) : rnd())));
		unsigned max = rnd() % 10;

		struct xa_vq_seg ref[64];
		unsigned ref_n = 0;
		uint16_t ref_head = 0;
		int want = ref_pop(max, ref, &ref_n, &ref_head);
		REQ_IOP(want + 20, >=, 0);
		REQ_IOP(want + 20, <, 32);
		seen[want + 20]++;
		if (want == XA_OK) {
			memcpy(snap, region, REGION_SIZE);
			uint16_t last = dev.last_avail_idx;
			int r = xa_vqdev_pop(&dev, segs, max, &buf);
			REQ_IOP(r, ==, XA_OK);
			REQ_IOP(first_diff(), ==, -1);
			REQ_UOP(dev.last_avail_idx, ==, (uint16_t)(last + 1));
			REQ_UOP(buf.head, ==, ref_head);
			REQ_UOP(buf.nseg, ==, ref_n);
			uint64_t total = 0;
			for (unsigned s = 0; s < ref_n; s++) {
				REQ_UOP(segs[s].off, ==, ref[s].off);
				REQ_UOP(segs[s].len, ==, ref[s].len);
				REQ_UOP(segs[s].off + segs[s].len, <=, REGION_SIZE);
				total += segs[s].len;
			}
			REQ_UOP(buf.total_len, ==, total);
		} else if (want == XA_EMPTY) {
			REQ_IOP(xa_vqdev_pop(&dev, segs, max, &buf), ==, XA_EMPTY);
		} else {
			EXPECT_FAULT(max, want);
		}
	}
	/* The generator reached every verdict. */
	static const int codes[] = { XA_OK, XA_EMPTY, XA_ERR_AVAIL_IDX, XA_ERR_DESC_ID,
		XA_ERR_DESC_RANGE, XA_ERR_DESC_LOOP, XA_ERR_DESC_FLAGS, XA_ERR_CHAIN_LONG,
		XA_ERR_DESC_LEN };
	for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++)
		REQ_MSG(seen[codes[i] + 20] > 0, "verdict %s never produced",
			      xa_strerror(codes[i]));
}
END_TEST

/* ------------------------------------------------------------------ */
/* Malformed used ring, driver side                                     */

/* get_used must fail with code and consume nothing. */
#define EXPECT_USED_FAULT(code)                                                   \
	do {                                                                      \
		void *t_ = (void *)1;                                             \
		uint32_t l_ = 12345;                                              \
		uint16_t lu_ = drv.last_used_idx;                                 \
		unsigned nf_ = xa_vqdrv_num_free(&drv);                           \
		memcpy(snap, region, REGION_SIZE);                                \
		int r_ = xa_vqdrv_get_used(&drv, &t_, &l_);                       \
		ck_assert_msg(r_ == (code), "get_used returned %d (%s), expected %s", \
			      r_, xa_strerror(r_), xa_strerror(code));            \
		ck_assert_ptr_eq(t_, (void *)1);                                  \
		ck_assert_uint_eq(l_, 12345);                                     \
		ck_assert_uint_eq(drv.last_used_idx, lu_);                        \
		ck_assert_uint_eq(xa_vqdrv_num_free(&drv), nf_);                  \
		ck_assert_int_eq(first_diff(), -1);                               \
	} while (0)

START_TEST(test_used_idx_ahead)
{
	setup_queue(true);
	post(2, 100, true);
	EXPECT_POP_OK(1, 1);
	xa_vqdev_push(&dev, buf.head, 10);
	xa_vqdev_publish(&dev);
	set_used_idx(NUM + 1);
	ck_assert_int_eq(xa_vqdrv_used_pending(&drv), XA_ERR_USED_IDX);
	EXPECT_USED_FAULT(XA_ERR_USED_IDX);
	set_used_idx(0xFFFF);
	ck_assert_int_eq(xa_vqdrv_used_pending(&drv), XA_ERR_USED_IDX);
	EXPECT_USED_FAULT(XA_ERR_USED_IDX);
	/* A bogus index is "work" for enable_notify, so the caller finds it. */
	ck_assert(xa_vqdrv_enable_notify(&drv));
	set_used_idx(1);
	ck_assert_int_eq(xa_vqdrv_used_pending(&drv), 1);
	void *tok;
	uint32_t len;
	ck_assert_int_eq(xa_vqdrv_get_used(&drv, &tok, &len), XA_OK);
	ck_assert_ptr_eq(tok, &tokens[0]);
	ck_assert_uint_eq(len, 10);
}
END_TEST

START_TEST(test_used_id_not_in_flight)
{
	setup_queue(true);
	post(2, 100, true);                /* ids 0 and 1 in flight */
	xa_vqdev_push(&dev, 5, 10);        /* free descriptor */
	xa_vqdev_publish(&dev);
	EXPECT_USED_FAULT(XA_ERR_USED_ID);
	set_used_elem(0, NUM, 10);
	EXPECT_USED_FAULT(XA_ERR_USED_ID);
	set_used_elem(0, 0xFFFFFFFFu, 10);
	EXPECT_USED_FAULT(XA_ERR_USED_ID);
	set_used_elem(0, 0x10000u, 10);    /* would alias id 0 if truncated */
	EXPECT_USED_FAULT(XA_ERR_USED_ID);
	set_used_elem(0, 1, 10);
	void *tok;
	uint32_t len;
	ck_assert_int_eq(xa_vqdrv_get_used(&drv, &tok, &len), XA_OK);
	ck_assert_ptr_eq(tok, &tokens[1]);
	ck_assert_uint_eq(len, 10);

	/* The same id returned twice: the second is no longer in flight. */
	xa_vqdev_push(&dev, 1, 10);
	xa_vqdev_publish(&dev);
	EXPECT_USED_FAULT(XA_ERR_USED_ID);
	set_used_elem(1, 0, 7);
	ck_assert_int_eq(xa_vqdrv_get_used(&drv, &tok, &len), XA_OK);
	ck_assert_ptr_eq(tok, &tokens[0]);
	ck_assert_uint_eq(len, 7);
	ck_assert_uint_eq(xa_vqdrv_num_free(&drv), NUM);
}
END_TEST

START_TEST(test_used_len)
{
	setup_queue(true);
	post(1, 100, true);
	xa_vqdev_push(&dev, 0, 101);
	xa_vqdev_publish(&dev);
	EXPECT_USED_FAULT(XA_ERR_USED_LEN);
	set_used_elem(0, 0, 0xFFFFFFFFu);
	EXPECT_USED_FAULT(XA_ERR_USED_LEN);
	set_used_elem(0, 0, 100);         /* the whole buffer is fine */
	void *tok;
	uint32_t len;
	ck_assert_int_eq(xa_vqdrv_get_used(&drv, &tok, &len), XA_OK);
	ck_assert_ptr_eq(tok, &tokens[0]);
	ck_assert_uint_eq(len, 100);
}
END_TEST

START_TEST(test_used_len_tx_ignored)
{
	setup_queue(false);
	post(2, 100, false);
	xa_vqdev_push(&dev, 0, 5000);
	xa_vqdev_push(&dev, 1, 0xFFFFFFFFu);
	xa_vqdev_publish(&dev);
	void *tok;
	uint32_t len = 99;
	ck_assert_int_eq(xa_vqdrv_get_used(&drv, &tok, &len), XA_OK);
	ck_assert_ptr_eq(tok, &tokens[0]);
	ck_assert_uint_eq(len, 0);
	len = 99;
	ck_assert_int_eq(xa_vqdrv_get_used(&drv, &tok, &len), XA_OK);
	ck_assert_ptr_eq(tok, &tokens[1]);
	ck_assert_uint_eq(len, 0);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Notification suppression                                             */

START_TEST(test_notify_driver_to_device)
{
	setup_queue(false);
	ck_assert(!xa_vqdrv_publish(&drv));             /* nothing new */
	ck_assert_int_eq(xa_vqdrv_add(&drv, BUF_OFF, 10, false, &tokens[0]), XA_OK);
	ck_assert(xa_vqdrv_publish(&drv));
	ck_assert(!xa_vqdrv_publish(&drv));             /* nothing new */

	xa_vqdev_disable_notify(&dev);
	ck_assert_uint_eq(get_used_flags(), XA_VRING_USED_F_NO_NOTIFY);
	ck_assert_int_eq(xa_vqdrv_add(&drv, BUF_OFF + BUF_SZ, 10, false, &tokens[1]), XA_OK);
	ck_assert(!xa_vqdrv_publish(&drv));             /* suppressed */
	/* Work arrived while disabled: enable says so. */
	ck_assert(xa_vqdev_enable_notify(&dev));
	ck_assert_uint_eq(get_used_flags(), 0);
	EXPECT_POP_OK(1, 1);
	EXPECT_POP_OK(1, 1);
	ck_assert(!xa_vqdev_enable_notify(&dev));       /* drained */
	ck_assert_int_eq(xa_vqdrv_add(&drv, BUF_OFF + 2 * BUF_SZ, 10, false, &tokens[2]), XA_OK);
	ck_assert(xa_vqdrv_publish(&drv));

	/* Disable, nothing arrives, enable: no work. */
	EXPECT_POP_OK(1, 1);
	xa_vqdev_disable_notify(&dev);
	ck_assert(!xa_vqdev_enable_notify(&dev));
}
END_TEST

START_TEST(test_notify_device_to_driver)
{
	setup_queue(true);
	post(4, 100, true);
	ck_assert(!xa_vqdev_publish(&dev));             /* nothing new */
	EXPECT_POP_OK(1, 1);
	xa_vqdev_push(&dev, buf.head, 1);
	ck_assert(xa_vqdev_publish(&dev));
	ck_assert(!xa_vqdev_publish(&dev));

	xa_vqdrv_disable_notify(&drv);
	ck_assert_uint_eq(get_avail_flags(), XA_VRING_AVAIL_F_NO_INTERRUPT);
	/* The already published buffer is pending, so enable reports it. */
	ck_assert(xa_vqdrv_enable_notify(&drv));
	void *tok;
	uint32_t len;
	ck_assert_int_eq(xa_vqdrv_get_used(&drv, &tok, &len), XA_OK);
	ck_assert(!xa_vqdrv_enable_notify(&drv));       /* drained */

	xa_vqdrv_disable_notify(&drv);
	EXPECT_POP_OK(1, 1);
	xa_vqdev_push(&dev, buf.head, 2);
	ck_assert(!xa_vqdev_publish(&dev));             /* suppressed */
	ck_assert(xa_vqdrv_enable_notify(&drv));        /* lost-wakeup guard */
	ck_assert_uint_eq(get_avail_flags(), 0);
	ck_assert_int_eq(xa_vqdrv_get_used(&drv, &tok, &len), XA_OK);
	ck_assert_uint_eq(len, 2);

	EXPECT_POP_OK(1, 1);
	xa_vqdev_push(&dev, buf.head, 3);
	ck_assert(xa_vqdev_publish(&dev));
}
END_TEST

/* ------------------------------------------------------------------ */
/* Event indices (VIRTIO_RING_F_EVENT_IDX)                              */

static uint16_t get_used_event(void)
{
	return xa_get_le16(region + q_avail() + 4 + 2u * NUM);
}

static uint16_t get_avail_event(void)
{
	return xa_get_le16(region + q_used() + 4 + 8u * NUM);
}

/* need_event against its meaning: notify when event is one of the
 * entries old, old+1, ..., new-1 (mod 2^16), for every event value and
 * olds on both sides of the wrap at 65535. */
START_TEST(test_need_event_arith)
{
	static const uint16_t olds[] = { 0, 1, 100, 32767, 32768, 65533, 65534, 65535 };
	static const uint16_t deltas[] = { 0, 1, 2, 3, 8, 255, 32768 };

	for (size_t i = 0; i < sizeof olds / sizeof olds[0]; i++)
		for (size_t k = 0; k < sizeof deltas / sizeof deltas[0]; k++) {
			uint16_t old = olds[i], nw = (uint16_t)(old + deltas[k]);

			for (uint32_t e = 0; e < 65536u; e++) {
				bool want = (uint16_t)(e - old) < deltas[k];

				REQ_MSG(xa_vring_need_event((uint16_t)e, nw, old) == want,
					"need_event(%u, %u, %u) != %d", e, nw, old, want);
			}
		}
	/* The cases virtio's text spells out, around the wrap. */
	ck_assert(xa_vring_need_event(65535, 0, 65535));    /* published 65535 */
	ck_assert(xa_vring_need_event(65535, 1, 65534));
	ck_assert(xa_vring_need_event(0, 1, 65535));
	ck_assert(!xa_vring_need_event(1, 1, 65535));      /* not yet there */
	ck_assert(!xa_vring_need_event(65533, 1, 65534));  /* already passed */
	ck_assert(!xa_vring_need_event(7, 7, 7));          /* nothing moved */
}
END_TEST

/* Device side: avail_event decides the driver's kicks. Started just
 * before the wrap so that the indices cross 65535 -> 0. */
START_TEST(test_event_idx_avail_event)
{
	setup_queue(false);
	ck_assert_int_eq(xa_vqdev_init(&dev, region, REGION_SIZE, RING_OFF, NUM, ALIGN,
				       false, 65534), XA_OK);
	drv.avail_idx = drv.published_idx = drv.last_used_idx = 65534;
	set_avail_idx(65534);
	set_used_idx(65534);
	xa_vqdrv_set_event_idx(&drv, true);
	xa_vqdev_set_event_idx(&dev, true);

	ck_assert(!xa_vqdev_enable_notify(&dev));           /* empty: sleep */
	ck_assert_uint_eq(get_avail_event(), 65534);
	ck_assert_uint_eq(get_used_flags(), 0);
	post(1, 10, false);                                 /* 65534 -> 65535 */
	ck_assert_uint_eq(drv.published_idx, 65535);
	/* The device has not looked yet: two more, across the wrap, do not
	 * kick again (avail_event 65534 is behind [65535, 1)). */
	ck_assert_int_eq(xa_vqdrv_add(&drv, BUF_OFF + BUF_SZ, 10, false, &tokens[1]), XA_OK);
	ck_assert_int_eq(xa_vqdrv_add(&drv, BUF_OFF + 2 * BUF_SZ, 10, false, &tokens[2]), XA_OK);
	ck_assert(!xa_vqdrv_publish(&drv));
	ck_assert_uint_eq(drv.published_idx, 1);
	/* Draining: quiet means "no kick", in both forms. */
	EXPECT_POP_OK(1, 1);
	xa_vqdev_disable_notify(&dev);
	ck_assert_uint_eq(get_used_flags(), XA_VRING_USED_F_NO_NOTIFY);
	ck_assert_uint_eq(get_avail_event(), 65534);        /* last_avail - 1 */
	EXPECT_POP_OK(1, 1);
	EXPECT_POP_OK(1, 1);
	ck_assert_uint_eq(dev.last_avail_idx, 1);
	ck_assert_int_eq(xa_vqdrv_add(&drv, BUF_OFF + 3 * BUF_SZ, 10, false, &tokens[3]), XA_OK);
	ck_assert(!xa_vqdrv_publish(&drv));                 /* quiet */
	/* Armed again with that one waiting: enable reports it (no sleep). */
	ck_assert(xa_vqdev_enable_notify(&dev));
	EXPECT_POP_OK(1, 1);
	ck_assert(!xa_vqdev_enable_notify(&dev));
	ck_assert_uint_eq(get_avail_event(), 2);
	ck_assert_int_eq(xa_vqdrv_add(&drv, BUF_OFF + 4 * BUF_SZ, 10, false, &tokens[4]), XA_OK);
	ck_assert(xa_vqdrv_publish(&drv));                  /* crosses 2 */
}
END_TEST

/* Driver side: used_event decides the device's calls, and a driver that
 * waits for a batch (enable_notify_after) is called once for it. The
 * flags are still written, for a device without event indices. */
START_TEST(test_event_idx_used_event)
{
	void *tok;
	uint32_t len;

	setup_queue(true);
	xa_vqdrv_set_event_idx(&drv, true);
	xa_vqdev_set_event_idx(&dev, true);
	post(NUM, 100, true);
	ck_assert(!xa_vqdrv_enable_notify(&drv));
	ck_assert_uint_eq(get_used_event(), 0);
	ck_assert_uint_eq(get_avail_flags(), 0);
	EXPECT_POP_OK(1, 1);
	xa_vqdev_push(&dev, buf.head, 1);
	ck_assert(xa_vqdev_publish(&dev));                  /* entry 0: wanted */
	EXPECT_POP_OK(1, 1);
	xa_vqdev_push(&dev, buf.head, 1);
	ck_assert(!xa_vqdev_publish(&dev));                 /* already told */

	/* Wait for 3 more than the 2 returned: used_event = 2 + 3 - 1. */
	for (int i = 0; i < 2; i++)
		ck_assert_int_eq(xa_vqdrv_get_used(&drv, &tok, &len), XA_OK);
	ck_assert(!xa_vqdrv_enable_notify_after(&drv, 3));
	ck_assert_uint_eq(get_used_event(), 4);
	for (int i = 0; i < 2; i++) {
		EXPECT_POP_OK(1, 1);
		xa_vqdev_push(&dev, buf.head, 1);
		ck_assert(!xa_vqdev_publish(&dev));         /* 2 and 3: not yet */
	}
	/* The batch is not complete: enable_after says sleep, even though
	 * two are back; the third one calls. */
	ck_assert(!xa_vqdrv_enable_notify_after(&drv, 3));
	EXPECT_POP_OK(1, 1);
	xa_vqdev_push(&dev, buf.head, 1);
	ck_assert(xa_vqdev_publish(&dev));
	ck_assert(xa_vqdrv_enable_notify_after(&drv, 3));   /* all 3 there */

	/* Disabled: both the flag and a stale used_event. */
	xa_vqdrv_disable_notify(&drv);
	ck_assert_uint_eq(get_avail_flags(), XA_VRING_AVAIL_F_NO_INTERRUPT);
	ck_assert_uint_eq(get_used_event(), (uint16_t)(drv.last_used_idx - 1));
	EXPECT_POP_OK(1, 1);
	xa_vqdev_push(&dev, buf.head, 1);
	ck_assert(!xa_vqdev_publish(&dev));

	/* Without event indices, count is ignored: one returned buffer is
	 * work, and the device goes by the flag. */
	xa_vqdrv_set_event_idx(&drv, false);
	xa_vqdev_set_event_idx(&dev, false);
	ck_assert(xa_vqdrv_enable_notify_after(&drv, 3));
	ck_assert_uint_eq(get_avail_flags(), 0);
	EXPECT_POP_OK(1, 1);
	xa_vqdev_push(&dev, buf.head, 1);
	ck_assert(xa_vqdev_publish(&dev));
}
END_TEST

/* Switching event indices on keeps the interrupt state the flags had. */
START_TEST(test_event_idx_switch_keeps_state)
{
	setup_queue(true);
	post(2, 100, true);
	xa_vqdrv_set_event_idx(&drv, true);                 /* flags 0: on */
	ck_assert_uint_eq(get_used_event(), drv.last_used_idx);
	xa_vqdev_set_event_idx(&dev, true);
	EXPECT_POP_OK(1, 1);
	xa_vqdev_push(&dev, buf.head, 1);
	ck_assert(xa_vqdev_publish(&dev));
	xa_vqdrv_disable_notify(&drv);
	xa_vqdrv_set_event_idx(&drv, false);
	xa_vqdrv_set_event_idx(&drv, true);                 /* off stays off */
	ck_assert_uint_eq(get_used_event(), (uint16_t)(drv.last_used_idx - 1));
	EXPECT_POP_OK(1, 1);
	xa_vqdev_push(&dev, buf.head, 1);
	ck_assert(!xa_vqdev_publish(&dev));
}
END_TEST

/* ------------------------------------------------------------------ */
/* unpop and resume                                                     */

START_TEST(test_unpop)
{
	setup_queue(false);
	post(2, 100, false);
	set_desc_len(1, 50);
	EXPECT_POP_OK(4, 1);
	ck_assert_uint_eq(buf.head, 0);
	xa_vqdev_unpop(&dev);
	ck_assert_int_eq(xa_vqdev_avail_count(&dev), 2);
	EXPECT_POP_OK(4, 1);
	ck_assert_uint_eq(buf.head, 0);
	ck_assert_uint_eq(segs[0].off, BUF_OFF);
	ck_assert_uint_eq(segs[0].len, 100);
	EXPECT_POP_OK(4, 1);
	ck_assert_uint_eq(buf.head, 1);
	xa_vqdev_unpop(&dev);
	EXPECT_POP_OK(4, 1);
	ck_assert_uint_eq(buf.head, 1);
	ck_assert_uint_eq(segs[0].off, BUF_OFF + BUF_SZ);
	ck_assert_uint_eq(segs[0].len, 50);

	/* Nothing held: unpop must not re-deliver a returned buffer. */
	xa_vqdev_push(&dev, 0, 0);
	xa_vqdev_push(&dev, 1, 0);
	xa_vqdev_unpop(&dev);
	ck_assert_int_eq(xa_vqdev_pop(&dev, segs, 4, &buf), XA_EMPTY);
	ck_assert_uint_eq(dev.last_avail_idx, 2);
}
END_TEST

START_TEST(test_resume)
{
	void *tok;
	uint32_t len;

	setup_queue(false);
	/* Age the ring so the resume point sits just before the 16-bit wrap. */
	for (unsigned i = 0; i < 65534; i++) {
		REQ_IOP(xa_vqdrv_add(&drv, BUF_OFF, 1, false, &tokens[0]), ==, XA_OK);
		xa_vqdrv_publish(&drv);
		EXPECT_POP_OK(1, 1);
		xa_vqdev_push(&dev, buf.head, 0);
		xa_vqdev_publish(&dev);
		REQ_IOP(xa_vqdrv_get_used(&drv, &tok, &len), ==, XA_OK);
	}
	for (unsigned i = 0; i < 5; i++)
		ck_assert_int_eq(xa_vqdrv_add(&drv, BUF_OFF + i * BUF_SZ, 10 + i, false,
					      &tokens[i]), XA_OK);
	xa_vqdrv_publish(&drv);
	uint16_t heads[5];
	for (unsigned i = 0; i < 3; i++) {
		EXPECT_POP_OK(1, 1);
		heads[i] = buf.head;
		ck_assert_uint_eq(segs[0].len, 10 + i);
	}
	xa_vqdev_push(&dev, heads[0], 0);
	xa_vqdev_push(&dev, heads[1], 0);
	xa_vqdev_publish(&dev);
	for (unsigned i = 0; i < 2; i++) {
		ck_assert_int_eq(xa_vqdrv_get_used(&drv, &tok, &len), XA_OK);
		ck_assert_ptr_eq(tok, &tokens[i]);
	}

	/* The first device goes away holding buffer 2; a new one attaches. */
	struct xa_vq_device dev2;
	uint16_t start = xa_vqdev_read_used_idx(&dev);
	ck_assert_uint_eq(start, (uint16_t)(65534 + 2));
	ck_assert_int_eq(xa_vqdev_init(&dev2, region, REGION_SIZE, RING_OFF, NUM, ALIGN,
				       false, start), XA_OK);
	ck_assert_int_eq(xa_vqdev_avail_count(&dev2), 3);
	for (unsigned i = 2; i < 5; i++) {
		ck_assert_int_eq(xa_vqdev_pop(&dev2, segs, 1, &buf), XA_OK);
		if (i == 2)
			ck_assert_uint_eq(buf.head, heads[2]);
		ck_assert_uint_eq(segs[0].off, BUF_OFF + i * BUF_SZ);
		ck_assert_uint_eq(segs[0].len, 10 + i);
		xa_vqdev_push(&dev2, buf.head, 0);
	}
	ck_assert_int_eq(xa_vqdev_pop(&dev2, segs, 1, &buf), XA_EMPTY);
	xa_vqdev_publish(&dev2);
	for (unsigned i = 2; i < 5; i++) {
		ck_assert_int_eq(xa_vqdrv_get_used(&drv, &tok, &len), XA_OK);
		ck_assert_ptr_eq(tok, &tokens[i]);
	}
	ck_assert_int_eq(xa_vqdrv_get_used(&drv, &tok, &len), XA_EMPTY);
	ck_assert_uint_eq(xa_vqdrv_num_free(&drv), NUM);
	ck_assert_uint_eq(drv.last_used_idx, (uint16_t)(65534 + 5));   /* wrapped: 3 */
}
END_TEST

/* ------------------------------------------------------------------ */
/* Two threads, one ring: ordering and the lost-wakeup guard for real   */

/* Each side "sleeps" the way the backend and the library do: suppress
 * notifications while busy; when idle, re-enable, and wait for a kick only
 * if enable_notify reports no work. A kick is an atomic counter the peer
 * bumps when publish() says a notification is wanted. If the
 * flag/fence/re-check protocol loses a wakeup, a side waits forever; the
 * wait is bounded and a timeout fails the test. */

#define MT_N 200000u
#define MT_NUM 16u
#define MT_RING_OFF 0x1000u
#define MT_POOL 0x8000u
#define MT_BUF 64u
#define MT_WAIT_S 20

static struct {
	struct xa_vq_driver drv;
	struct xa_vq_device dev;
	struct xa_vq_driver_slot slots[MT_NUM];
	int area_id[MT_NUM];
	unsigned kick_dev, kick_drv;   /* atomic */
	unsigned failed;               /* atomic: first failure wins */
	char why[160];
	unsigned long dev_waits, drv_waits, kicks;
} mt;

static void mt_fail(const char *why, unsigned long a, unsigned long b)
{
	unsigned zero = 0;
	if (__atomic_compare_exchange_n(&mt.failed, &zero, 1, false, __ATOMIC_SEQ_CST,
					__ATOMIC_SEQ_CST))
		snprintf(mt.why, sizeof mt.why, "%s (%lu, %lu)", why, a, b);
}

static bool mt_failed(void)
{
	return __atomic_load_n(&mt.failed, __ATOMIC_SEQ_CST) != 0;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Wait for *kick to move away from k0; false on timeout or peer failure. */
static bool mt_wait(unsigned *kick, unsigned k0)
{
	double end = now_s() + MT_WAIT_S;
	while (__atomic_load_n(kick, __ATOMIC_ACQUIRE) == k0) {
		if (mt_failed())
			return false;
		if (now_s() > end) {
			mt_fail("lost wakeup: no kick while work was pending", k0, 0);
			return false;
		}
		sched_yield();
	}
	return true;
}

static uint32_t mt_len(uint32_t seq)
{
	return 1 + (seq * 2654435761u >> 11) % MT_BUF;
}

static void *mt_device(void *arg)
{
	uint32_t recv = 0;
	unsigned idle = 0;
	(void)arg;
	xa_vqdev_disable_notify(&mt.dev);
	while (!mt_failed()) {
		struct xa_vq_seg s[2];
		struct xa_vq_buf b;
		int r = xa_vqdev_pop(&mt.dev, s, 2, &b);
		if (r == XA_OK) {
			if (b.nseg != 1 || s[0].len != mt_len(recv)) {
				mt_fail("device: bad buffer", recv, s[0].len);
				break;
			}
			const uint8_t *p = xa_vqdev_seg_ptr(&mt.dev, &s[0]);
			for (uint32_t x = 0; x < s[0].len; x++)
				if (p[x] != pattern(recv, x)) {
					mt_fail("device: bad byte", recv, x);
					return NULL;
				}
			recv++;
			xa_vqdev_push(&mt.dev, b.head, 0);
			if (recv % 5 == 0 && xa_vqdev_publish(&mt.dev)) {
				__atomic_fetch_add(&mt.kick_drv, 1, __ATOMIC_SEQ_CST);
				__atomic_fetch_add(&mt.kicks, 1, __ATOMIC_RELAXED);
			}
			continue;
		}
		if (r != XA_EMPTY) {
			mt_fail("device: pop fault", (unsigned long)-r, recv);
			break;
		}
		if (xa_vqdev_publish(&mt.dev)) {
			__atomic_fetch_add(&mt.kick_drv, 1, __ATOMIC_SEQ_CST);
			__atomic_fetch_add(&mt.kicks, 1, __ATOMIC_RELAXED);
		}
		if (recv == MT_N)
			break;
		/* Every other time, widen the window in which the peer
		 * publishes while we still suppress its notifications: exactly
		 * the race enable_notify guards. */
		if (++idle & 1)
			sched_yield();
		unsigned k0 = __atomic_load_n(&mt.kick_dev, __ATOMIC_ACQUIRE);
		if (!xa_vqdev_enable_notify(&mt.dev)) {
			mt.dev_waits++;
			if (!mt_wait(&mt.kick_dev, k0))
				break;
		}
		xa_vqdev_disable_notify(&mt.dev);
	}
	return NULL;
}

static void *mt_driver(void *arg)
{
	unsigned free_areas[MT_NUM], nfree = MT_NUM;
	bool busy[MT_NUM] = { false };
	uint32_t sent = 0, returned = 0, rs = 0x9E3779B9u;
	unsigned idle = 0;
	(void)arg;
	for (unsigned i = 0; i < MT_NUM; i++)
		free_areas[i] = i;
	xa_vqdrv_disable_notify(&mt.drv);
	while (!mt_failed()) {
		bool progress = false;
		rs ^= rs << 13; rs ^= rs >> 17; rs ^= rs << 5;
		unsigned batch = 1 + rs % MT_NUM;
		for (unsigned i = 0; i < batch && nfree > 0 && sent < MT_N; i++) {
			unsigned a = free_areas[--nfree];
			uint8_t *p = region + MT_POOL + a * MT_BUF;
			uint32_t len = mt_len(sent);
			for (uint32_t x = 0; x < len; x++)
				p[x] = pattern(sent, x);
			busy[a] = true;
			if (xa_vqdrv_add(&mt.drv, MT_POOL + a * MT_BUF, len, false,
					 &mt.area_id[a]) != XA_OK) {
				mt_fail("driver: add failed", sent, nfree);
				return NULL;
			}
			sent++;
			progress = true;
		}
		if (xa_vqdrv_publish(&mt.drv)) {
			__atomic_fetch_add(&mt.kick_dev, 1, __ATOMIC_SEQ_CST);
			__atomic_fetch_add(&mt.kicks, 1, __ATOMIC_RELAXED);
		}
		for (;;) {
			void *tok;
			uint32_t len;
			int r = xa_vqdrv_get_used(&mt.drv, &tok, &len);
			if (r == XA_EMPTY)
				break;
			int *t = tok;
			if (r != XA_OK || t < mt.area_id || t >= mt.area_id + MT_NUM ||
			    !busy[t - mt.area_id] || len != 0) {
				mt_fail("driver: bad used entry", (unsigned long)-r, returned);
				return NULL;
			}
			busy[t - mt.area_id] = false;
			free_areas[nfree++] = (unsigned)(t - mt.area_id);
			returned++;
			progress = true;
		}
		if (returned == MT_N)
			break;
		if (progress)
			continue;
		if (++idle & 1)
			sched_yield();
		unsigned k0 = __atomic_load_n(&mt.kick_drv, __ATOMIC_ACQUIRE);
		if (!xa_vqdrv_enable_notify(&mt.drv)) {
			mt.drv_waits++;
			if (!mt_wait(&mt.kick_drv, k0))
				break;
		}
		xa_vqdrv_disable_notify(&mt.drv);
	}
	return NULL;
}

/* _i = 1: the same with event indices on both sides. */
START_TEST(test_threads)
{
	memset(&mt, 0, sizeof mt);
	memset(region, 0, REGION_SIZE);
	for (unsigned i = 0; i < MT_NUM; i++)
		mt.area_id[i] = (int)i;
	ck_assert_uint_le(MT_POOL + MT_NUM * MT_BUF, REGION_SIZE);
	ck_assert_int_eq(xa_vqdrv_init(&mt.drv, region + MT_RING_OFF, MT_NUM, ALIGN, mt.slots),
			 XA_OK);
	ck_assert_int_eq(xa_vqdev_init(&mt.dev, region, REGION_SIZE, MT_RING_OFF, MT_NUM, ALIGN,
				       false, 0), XA_OK);
	xa_vqdrv_set_event_idx(&mt.drv, _i == 1);
	xa_vqdev_set_event_idx(&mt.dev, _i == 1);
	pthread_t td, tv;
	ck_assert_int_eq(pthread_create(&tv, NULL, mt_device, NULL), 0);
	ck_assert_int_eq(pthread_create(&td, NULL, mt_driver, NULL), 0);
	pthread_join(td, NULL);
	if (mt_failed())
		/* Wake a device stuck waiting so that it sees the failure. */
		__atomic_fetch_add(&mt.kick_dev, 1, __ATOMIC_SEQ_CST);
	pthread_join(tv, NULL);
	ck_assert_msg(!mt_failed(), "%s", mt.why);
	ck_assert_uint_eq(mt.drv.last_used_idx, (uint16_t)MT_N);
	ck_assert_uint_eq(mt.dev.last_avail_idx, (uint16_t)MT_N);
	ck_assert_uint_eq(xa_vqdrv_num_free(&mt.drv), MT_NUM);
	/* The sleep/kick path really ran (thousands of times in practice). */
	ck_assert_uint_gt(mt.kicks, 0);
	ck_assert_uint_gt(mt.dev_waits + mt.drv_waits, 0);
	if (getenv("VRING_MT_STATS"))
		fprintf(stderr, "kicks %lu, device waits %lu, driver waits %lu\n",
			mt.kicks, mt.dev_waits, mt.drv_waits);
}
END_TEST

/* ------------------------------------------------------------------ */

static Suite *vring_suite(void)
{
	Suite *s = suite_create("vring");
	TCase *tc;

	tc = tcase_create("layout");
	tcase_add_test(tc, test_layout_golden);
	tcase_add_test(tc, test_layout_matches_linux);
	tcase_add_test(tc, test_layout_invalid);
	tcase_add_test(tc, test_driver_init);
	tcase_add_test(tc, test_device_init_place);
	suite_add_tcase(s, tc);

	tc = tcase_create("exchange");
	tcase_set_timeout(tc, 600);
	tcase_add_test(tc, test_visibility_and_full);
	tcase_add_loop_test(tc, test_exchange, 0, (int)(sizeof xchg_nums / sizeof xchg_nums[0]));
	suite_add_tcase(s, tc);

	tc = tcase_create("hostile_driver");
	tcase_set_timeout(tc, 600);
	tcase_add_test(tc, test_bad_head_id);
	tcase_add_test(tc, test_bad_next_id);
	tcase_add_test(tc, test_addr_outside);
	tcase_add_test(tc, test_addr_len_past_end);
	tcase_add_test(tc, test_addr_len_overflow);
	tcase_add_test(tc, test_zero_len);
	tcase_add_test(tc, test_indirect);
	tcase_add_test(tc, test_wrong_direction_tx);
	tcase_add_test(tc, test_wrong_direction_rx);
	tcase_add_test(tc, test_avail_idx_ahead);
	tcase_add_test(tc, test_avail_idx_ahead_wrapped);
	tcase_add_test(tc, test_loop_two);
	tcase_add_test(tc, test_loop_self);
	tcase_add_test(tc, test_chain_num_long_ok);
	tcase_add_test(tc, test_chain_long);
	tcase_add_test(tc, test_chain_long_accepted_with_room);
	tcase_add_test(tc, test_random_corruption);
	suite_add_tcase(s, tc);

	tc = tcase_create("hostile_device");
	tcase_add_test(tc, test_used_idx_ahead);
	tcase_add_test(tc, test_used_id_not_in_flight);
	tcase_add_test(tc, test_used_len);
	tcase_add_test(tc, test_used_len_tx_ignored);
	suite_add_tcase(s, tc);

	tc = tcase_create("notify");
	tcase_add_test(tc, test_notify_driver_to_device);
	tcase_add_test(tc, test_notify_device_to_driver);
	suite_add_tcase(s, tc);

	tc = tcase_create("event_idx");
	tcase_add_test(tc, test_need_event_arith);
	tcase_add_test(tc, test_event_idx_avail_event);
	tcase_add_test(tc, test_event_idx_used_event);
	tcase_add_test(tc, test_event_idx_switch_keeps_state);
	suite_add_tcase(s, tc);

	tc = tcase_create("unpop_resume");
	tcase_set_timeout(tc, 600);
	tcase_add_test(tc, test_unpop);
	tcase_add_test(tc, test_resume);
	suite_add_tcase(s, tc);

	tc = tcase_create("threads");
	tcase_set_timeout(tc, 600);
	tcase_add_loop_test(tc, test_threads, 0, 2);
	suite_add_tcase(s, tc);

	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(vring_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed != 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}

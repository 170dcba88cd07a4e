/* libFuzzer target: the device side of the split ring (src/core/vring.c)
 * over a hostile region, driven the way xenamp-backend drives it.
 *
 * Input (see make-seeds.py): an 8-byte header (num, align, ring offset,
 * direction and max_segs, start index, number of operations), the
 * operations (4 bytes each), then the region: every remaining byte, in a
 * buffer of exactly that size, so AddressSanitizer sees any access past
 * it. The operations interleave the backend's calls with the driver's
 * meddling (poking region bytes, moving avail->idx); after them the ring
 * is drained as the relay would.
 *
 * Checked with __builtin_trap() (besides ASan/UBSan):
 *   - init accepts only a ring that lies inside the region;
 *   - avail_count is 0..num or XA_ERR_AVAIL_IDX;
 *   - a popped buffer has 1..max_segs segments, each non-empty and inside
 *     the region (and its bytes are touched, so ASan checks that too),
 *     total_len is their sum, head < num;
 *   - a failed pop changes neither the region nor the device state;
 *   - unpop right after a pop gives back exactly that buffer;
 *   - publish stores used->idx = the private used index when it has
 *     something new, and asks for a kick only then. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/vring.h"

#define MAX_SEGS 8u
#define MAX_HELD 64u

#define CHECK(c) do { if (!(c)) __builtin_trap(); } while (0)

enum { OP_AVAIL, OP_POP, OP_PUSH, OP_PUBLISH, OP_NOTIFY, OP_POKE, OP_KICK,
       OP_RESUME };

struct held {
	uint16_t head;
	uint64_t total;
};

struct st {
	struct xa_vq_device d;
	uint8_t *region;
	size_t size;
	uint64_t ring_off;
	unsigned num, align, max_segs;
	bool device_writes;
	bool up;
	struct held held[MAX_HELD];
	unsigned nheld;
	uint8_t *snap;
	volatile uint8_t sink;
};

static uint16_t rd16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, 2);
	return v;
}

static void wr16(uint8_t *p, uint16_t v)
{
	memcpy(p, &v, 2);
}

static int rc_is_pop_fault(int rc)
{
	switch (rc) {
	case XA_ERR_AVAIL_IDX: case XA_ERR_DESC_ID: case XA_ERR_DESC_RANGE:
	case XA_ERR_DESC_LOOP: case XA_ERR_DESC_FLAGS: case XA_ERR_DESC_LEN:
	case XA_ERR_CHAIN_LONG:
		return 1;
	}
	return 0;
}

static void do_avail(struct st *s)
{
	int n = xa_vqdev_avail_count(&s->d);

	CHECK(n == XA_ERR_AVAIL_IDX || (n >= 0 && (unsigned)n <= s->num));
}

static void push_one(struct st *s, unsigned arg)
{
	uint32_t len = 0;
	struct held h;

	if (s->nheld == 0)
		return;
	h = s->held[0];
	memmove(&s->held[0], &s->held[1], (s->nheld - 1) * sizeof(s->held[0]));
	s->nheld--;
	if (s->device_writes) {   /* bytes "written", never more than the buffer */
		len = (uint32_t)arg;
		if (len > h.total)
			len = (uint32_t)h.total;
	}
	xa_vqdev_push(&s->d, h.head, len);
}

/* Pop one buffer; returns its rc. */
static int do_pop(struct st *s, bool check_unpop)
{
	struct xa_vq_seg segs[MAX_SEGS], segs2[MAX_SEGS];
	struct xa_vq_buf buf, buf2;
	struct xa_vq_device before = s->d;
	uint64_t total = 0;
	int rc;

	memcpy(s->snap, s->region, s->size);
	memset(&buf, 0, sizeof(buf));
	rc = xa_vqdev_pop(&s->d, segs, s->max_segs, &buf);
	if (rc != XA_OK) {
		CHECK(rc == XA_EMPTY || rc_is_pop_fault(rc));
		/* nothing consumed, nothing written */
		CHECK(s->d.last_avail_idx == before.last_avail_idx &&
		      s->d.used_idx == before.used_idx &&
		      s->d.published_idx == before.published_idx);
		CHECK(memcmp(s->snap, s->region, s->size) == 0);
		return rc;
	}
	CHECK(buf.head < s->num);
	CHECK(buf.nseg >= 1 && buf.nseg <= s->max_segs);
	for (unsigned i = 0; i < buf.nseg; i++) {
		CHECK(segs[i].len > 0);
		CHECK(segs[i].off <= s->size);
		CHECK(segs[i].len <= s->size - segs[i].off);
		total += segs[i].len;
	}
	CHECK(total == buf.total_len);
	CHECK(s->d.last_avail_idx == (uint16_t)(before.last_avail_idx + 1));

	if (check_unpop) {
		/* The relay's "no room on the other end" path. */
		xa_vqdev_unpop(&s->d);
		CHECK(s->d.last_avail_idx == before.last_avail_idx);
		memset(&buf2, 0, sizeof(buf2));
		rc = xa_vqdev_pop(&s->d, segs2, s->max_segs, &buf2);
		CHECK(rc == XA_OK);
		CHECK(buf2.head == buf.head && buf2.nseg == buf.nseg &&
		      buf2.total_len == buf.total_len);
		for (unsigned i = 0; i < buf.nseg; i++)
			CHECK(segs2[i].off == segs[i].off &&
			      segs2[i].len == segs[i].len);
	}

	/* Use the buffer as the relay does: read a TX message, fill an RX
	 * buffer. A segment may overlap the ring itself; that is the
	 * driver's problem, not a memory-safety one. */
	for (unsigned i = 0; i < buf.nseg; i++) {
		uint8_t *p = xa_vqdev_seg_ptr(&s->d, &segs[i]);

		if (s->device_writes) {
			memset(p, 0xa5, segs[i].len);
		} else {
			uint8_t x = 0;

			for (uint32_t k = 0; k < segs[i].len; k++)
				x ^= p[k];
			s->sink = x;
		}
	}

	if (s->nheld == MAX_HELD)
		push_one(s, 0);
	s->held[s->nheld].head = buf.head;
	s->held[s->nheld].total = buf.total_len;
	s->nheld++;
	return rc;
}

static void do_publish(struct st *s)
{
	bool news = s->d.used_idx != s->d.published_idx;
	bool kick = xa_vqdev_publish(&s->d);

	CHECK(s->d.published_idx == s->d.used_idx);
	CHECK(news || !kick);
	/* Stored when there was something to publish (otherwise used->idx
	 * is whatever the driver, or a buffer that overlaps it, left). */
	if (news)
		CHECK(rd16(s->region + s->ring_off + s->d.lay.used_off + 2) ==
		      s->d.used_idx);
}

static bool attach(struct st *s, uint16_t start)
{
	int rc = xa_vqdev_init(&s->d, s->region, s->size, s->ring_off, s->num,
			       s->align, s->device_writes, start);

	s->nheld = 0;
	s->up = rc == XA_OK;
	if (!s->up) {
		CHECK(rc == XA_ERR_RING_PARAM || rc == XA_ERR_RING_PLACE);
		return false;
	}
	CHECK(s->ring_off <= s->size && s->d.lay.size <= s->size - s->ring_off);
	CHECK(s->d.lay.used_off + 6 + 8 * (size_t)s->num == s->d.lay.size);
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct st s;
	const uint8_t *ops;
	unsigned nops;
	void *mem = NULL;

	if (size < 8)
		return 0;
	memset(&s, 0, sizeof(s));
	s.num = 1u << (data[0] & 15);
	s.align = 1u << (data[1] & 31);
	s.ring_off = rd16(data + 2);
	s.device_writes = data[4] & 1;
	s.max_segs = 1u + ((data[4] >> 1) & 7);
	uint16_t start = rd16(data + 5);
	nops = data[7];
	data += 8;
	size -= 8;
	if ((size_t)nops * 4 > size)
		nops = (unsigned)(size / 4);
	ops = data;
	data += (size_t)nops * 4;
	size -= (size_t)nops * 4;

	/* The region: exactly size bytes, 16-byte aligned like a mapping. */
	if (posix_memalign(&mem, 16, size ? size : 1) != 0)
		return 0;
	s.region = mem;
	s.size = size;
	memcpy(s.region, data, size);
	s.snap = malloc(size ? size : 1);
	if (s.snap == NULL) {
		free(mem);
		return 0;
	}

	if (!attach(&s, start))
		goto out;

	for (unsigned i = 0; i < nops; i++) {
		const uint8_t *o = ops + 4 * (size_t)i;
		unsigned a = o[1], b = o[2], c = o[3];

		if (!s.up)
			break;
		switch (o[0] & 7) {
		case OP_AVAIL:
			do_avail(&s);
			break;
		case OP_POP:
			(void)do_pop(&s, a & 1);
			break;
		case OP_PUSH:
			push_one(&s, a | b << 8);
			break;
		case OP_PUBLISH:
			do_publish(&s);
			break;
		case OP_NOTIFY:
			if (a & 1)
				(void)xa_vqdev_enable_notify(&s.d);
			else
				xa_vqdev_disable_notify(&s.d);
			break;
		case OP_POKE:   /* the driver changes a byte behind our back */
			if (s.size)
				s.region[(a | b << 8) % s.size] = (uint8_t)c;
			break;
		case OP_KICK:   /* the driver makes buffers available */
			wr16(s.region + s.ring_off + s.d.lay.avail_off + 2,
			     (uint16_t)(s.d.last_avail_idx + a % (s.num + 2)));
			break;
		case OP_RESUME: /* backend restart: resume at used->idx */
			(void)attach(&s, xa_vqdev_read_used_idx(&s.d));
			break;
		}
	}

	/* Drain like the relay: pop until empty or a fault, return all. */
	if (s.up) {
		for (unsigned i = 0; i <= s.num && i < 256; i++)
			if (do_pop(&s, false) != XA_OK)
				break;
		while (s.nheld)
			push_one(&s, 0xffff);
		do_publish(&s);
	}
out:
	free(s.snap);
	free(mem);
	return 0;
}

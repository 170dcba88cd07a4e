/* libFuzzer target: the resource-table parser (src/core/rsc_parse.c) and
 * xa_rsc_find_rpmsg_vdev(), then the ring placement the backend derives
 * from them (xa_vqdev_init() over the same bytes taken as a region, as
 * relay.c's attach_region() does).
 *
 * Input: the table bytes, in a buffer of exactly that size.
 *
 * Checked with __builtin_trap() (besides ASan/UBSan):
 *   - on success: num <= XA_RSC_MAX_ENTRIES, every entry lies inside the
 *     table, after the offset array, and no two overlap; decoded names are
 *     NUL-terminated; a vdev's vrings and config lie inside its entry;
 *   - on failure: a NUL-terminated, non-empty message, and an offset
 *     inside the table (or just past it, where a truncated table ends);
 *   - find_rpmsg_vdev: an index of an RPMsg vdev with two usable vrings,
 *     or XA_ERR_RSC with a message. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/rpmsg_wire.h"
#include "core/rsc_parse.h"
#include "core/vring.h"
#include "xenamp/rsc_table.h"

#define CHECK(c) do { if (!(c)) __builtin_trap(); } while (0)

static int is_pow2(uint32_t v)
{
	return v != 0 && (v & (v - 1)) == 0;
}

static void check_err(const struct xa_rsc_error *err, size_t len)
{
	CHECK(memchr(err->msg, '\0', sizeof(err->msg)) != NULL);
	CHECK(err->msg[0] != '\0');
	/* the field at fault, or where a truncated table ends */
	CHECK(err->offset <= len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct xa_rsc_table t;
	struct xa_rsc_error err;
	int rc, idx;

	memset(&err, 0x5a, sizeof(err));
	rc = xa_rsc_parse(data, size, &t, &err);
	if (rc != XA_OK) {
		CHECK(rc == XA_ERR_RSC);
		check_err(&err, size);
		/* NULL err is allowed too */
		CHECK(xa_rsc_parse(data, size, &t, NULL) == XA_ERR_RSC);
		return 0;
	}
	CHECK(t.ver == 1 && t.num <= XA_RSC_MAX_ENTRIES);
	for (uint32_t i = 0; i < t.num; i++) {
		const struct xa_rsc_entry *e = &t.entry[i];

		CHECK(e->offset >= XA_RSC_HDR_SIZE + 4 * t.num);
		CHECK(e->size >= 4);
		CHECK((uint64_t)e->offset + e->size <= size);
		for (uint32_t j = 0; j < t.num; j++) {
			const struct xa_rsc_entry *f = &t.entry[j];

			if (j == i)
				continue;
			CHECK((uint64_t)e->offset + e->size <= f->offset ||
			      (uint64_t)f->offset + f->size <= e->offset);
		}
		CHECK(xa_rsc_type_name(e->type) != NULL);
		switch (e->type) {
		case RSC_CARVEOUT:
		case RSC_DEVMEM:
			CHECK(strlen(e->u.mem.name) <= 32);
			break;
		case RSC_TRACE:
			CHECK(strlen(e->u.trace.name) <= 32);
			break;
		case RSC_VDEV:
			CHECK(e->u.vdev.num_of_vrings <= XA_RSC_MAX_VRINGS);
			CHECK(e->u.vdev.config_off ==
			      e->offset + XA_RSC_VDEV_SIZE +
			      e->u.vdev.num_of_vrings * XA_RSC_VRING_SIZE);
			CHECK((uint64_t)e->u.vdev.config_off + e->u.vdev.config_len ==
			      (uint64_t)e->offset + e->size);
			break;
		default:
			break;
		}
	}

	memset(&err, 0x5a, sizeof(err));
	idx = xa_rsc_find_rpmsg_vdev(&t, &err);
	if (idx < 0) {
		CHECK(idx == XA_ERR_RSC);
		check_err(&err, size);
		return 0;
	}
	CHECK((uint32_t)idx < t.num);
	const struct xa_rsc_entry *v = &t.entry[idx];

	CHECK(v->type == RSC_VDEV && v->u.vdev.id == XA_VIRTIO_ID_RPMSG);
	CHECK(v->u.vdev.num_of_vrings == 2);

	/* The backend's next step: the vrings, placed in the region. */
	void *mem = NULL;

	if (posix_memalign(&mem, 16, size) != 0)
		return 0;
	memcpy(mem, data, size);
	for (int i = 0; i < 2; i++) {
		const struct xa_rsc_vring *r = &v->u.vdev.vring[i];
		struct xa_vq_device d;

		CHECK(is_pow2(r->num) && r->num <= XA_VRING_MAX_NUM);
		CHECK(is_pow2(r->align) && r->align >= 4);
		rc = xa_vqdev_init(&d, mem, size, r->da, r->num, r->align,
				   i == 0, 0);
		if (rc == XA_OK) {
			CHECK((uint64_t)r->da + d.lay.size <= size);
			(void)xa_vqdev_avail_count(&d);
			(void)xa_vqdev_read_used_idx(&d);
		} else {
			CHECK(rc == XA_ERR_RING_PARAM || rc == XA_ERR_RING_PLACE);
		}
	}
	free(mem);
	return 0;
}

/* Unit tests: resource table parsing and validation.
 *
 * The golden table is written as literal bytes from the remoteproc/OpenAMP
 * layout so that a wrong field order or size fails. Every table handed to
 * the parser is malloc'd to its exact length so that ASan catches any
 * read beyond it. */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/byteorder.h"
#include "core/rsc_parse.h"
#include "xenamp/rsc_table.h"

/* Layout:
 *   0x00 header: ver 1, num 2, reserved[2], offset[0] 0x18, offset[1] 0x50
 *   0x18 entry 0: carveout (56 bytes)
 *   0x50 entry 1: vdev, id 7, 2 vrings, config_len 0 (28 + 40 = 68 bytes)
 *   0x94 end (148 bytes) */
#define GOLDEN_LEN 0x94u
static const uint8_t golden[GOLDEN_LEN] = {
	/* 0x00 header */
	0x01, 0x00, 0x00, 0x00,               /* ver 1 */
	0x02, 0x00, 0x00, 0x00,               /* num 2 */
	0x00, 0x00, 0x00, 0x00,               /* reserved[0] */
	0x00, 0x00, 0x00, 0x00,               /* reserved[1] */
	0x18, 0x00, 0x00, 0x00,               /* offset[0] 0x18 */
	0x50, 0x00, 0x00, 0x00,               /* offset[1] 0x50 */
	/* 0x18 fw_rsc_carveout */
	0x00, 0x00, 0x00, 0x00,               /* type RSC_CARVEOUT */
	0x00, 0x00, 0x10, 0x00,               /* da 0x100000 */
	0xff, 0xff, 0xff, 0xff,               /* pa FW_RSC_U32_ADDR_ANY */
	0x00, 0x00, 0x02, 0x00,               /* len 0x20000 */
	0x05, 0x00, 0x00, 0x00,               /* flags 5 */
	0x00, 0x00, 0x00, 0x00,               /* reserved */
	's', 'h', 'm', '-', 'c', 'a', 'r', 'v', /* name[32] */
	'e', 'o', 'u', 't', 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0,
	/* 0x50 fw_rsc_vdev */
	0x03, 0x00, 0x00, 0x00,               /* type RSC_VDEV */
	0x07, 0x00, 0x00, 0x00,               /* id 7 (RPMsg) */
	0x02, 0x00, 0x00, 0x00,               /* notifyid 2 */
	0x01, 0x00, 0x00, 0x00,               /* dfeatures 1 (NS) */
	0x00, 0x00, 0x00, 0x00,               /* gfeatures 0 */
	0x00, 0x00, 0x00, 0x00,               /* config_len 0 */
	0x00,                                 /* status */
	0x02,                                 /* num_of_vrings 2 */
	0x00, 0x00,                           /* reserved[2] */
	/* 0x6c vring 0 */
	0x00, 0x10, 0x00, 0x00,               /* da 0x1000 */
	0x00, 0x10, 0x00, 0x00,               /* align 4096 */
	0x08, 0x00, 0x00, 0x00,               /* num 8 */
	0x00, 0x00, 0x00, 0x00,               /* notifyid 0 */
	0x00, 0x00, 0x00, 0x00,               /* reserved */
	/* 0x80 vring 1 */
	0x00, 0x20, 0x00, 0x00,               /* da 0x2000 */
	0x00, 0x10, 0x00, 0x00,               /* align 4096 */
	0x08, 0x00, 0x00, 0x00,               /* num 8 */
	0x01, 0x00, 0x00, 0x00,               /* notifyid 1 */
	0x00, 0x00, 0x00, 0x00,               /* reserved */
	/* 0x94 end */
};

/* field offsets in the golden table */
#define G_NUM        0x04u
#define G_OFF0       0x10u
#define G_OFF1       0x14u
#define G_CO         0x18u
#define G_CO_NAME    (G_CO + 24u)
#define G_VD         0x50u
#define G_VD_ID      (G_VD + 4u)
#define G_VD_CFGLEN  (G_VD + 20u)
#define G_VD_NVR     (G_VD + 25u)
#define G_VR(i)      (G_VD + 28u + 20u * (i))

/* The struct is large; tests keep it static. */
static struct xa_rsc_table tbl;
static struct xa_rsc_error er;

/* Parse len bytes of src from an exact-size heap copy. */
static int parse_exact(const void *src, size_t len)
{
	uint8_t *p = malloc(len ? len : 1);
	int rc;

	ck_assert_ptr_nonnull(p);
	if (len)
		memcpy(p, src, len);
	memset(&er, 0, sizeof(er));
	rc = xa_rsc_parse(p, len, &tbl, &er);
	free(p);
	return rc;
}

/* A modifiable copy of the golden table with room to grow. */
static uint8_t work[1024];

static void work_reset(void)
{
	memset(work, 0, sizeof(work));
	memcpy(work, golden, GOLDEN_LEN);
}

/* Expect a failure whose message contains each of the given strings. */
static void expect_fail(size_t len, int entry, uint32_t field_off,
			const char *s1, const char *s2, const char *s3)
{
	int rc = parse_exact(work, len);

	ck_assert_int_eq(rc, XA_ERR_RSC);
	ck_assert_int_eq(er.entry, entry);
	ck_assert_uint_eq(er.offset, field_off);
	ck_assert_msg(er.msg[0] != '\0', "empty message");
	ck_assert_msg(strstr(er.msg, s1) != NULL, "'%s' not in '%s'", s1, er.msg);
	if (s2)
		ck_assert_msg(strstr(er.msg, s2) != NULL, "'%s' not in '%s'",
			      s2, er.msg);
	if (s3)
		ck_assert_msg(strstr(er.msg, s3) != NULL, "'%s' not in '%s'",
			      s3, er.msg);
	ck_assert_ptr_nonnull(memchr(er.msg, 0, sizeof(er.msg)));
}

/* ------------------------------------------------------------------ */
/* Golden table                                                        */

START_TEST(golden_parses)
{
	const struct xa_rsc_entry *e;

	ck_assert_int_eq(parse_exact(golden, GOLDEN_LEN), XA_OK);
	ck_assert_uint_eq(tbl.ver, 1);
	ck_assert_uint_eq(tbl.num, 2);

	e = &tbl.entry[0];
	ck_assert_uint_eq(e->type, RSC_CARVEOUT);
	ck_assert_uint_eq(e->offset, 0x18);
	ck_assert_uint_eq(e->size, 56);
	ck_assert_uint_eq(e->u.mem.da, 0x100000);
	ck_assert_uint_eq(e->u.mem.pa, FW_RSC_U32_ADDR_ANY);
	ck_assert_uint_eq(e->u.mem.len, 0x20000);
	ck_assert_uint_eq(e->u.mem.flags, 5);
	ck_assert_str_eq(e->u.mem.name, "shm-carveout");

	e = &tbl.entry[1];
	ck_assert_uint_eq(e->type, RSC_VDEV);
	ck_assert_uint_eq(e->offset, 0x50);
	ck_assert_uint_eq(e->size, 68);
	ck_assert_uint_eq(e->u.vdev.id, 7);
	ck_assert_uint_eq(e->u.vdev.notifyid, 2);
	ck_assert_uint_eq(e->u.vdev.dfeatures, 1);
	ck_assert_uint_eq(e->u.vdev.gfeatures, 0);
	ck_assert_uint_eq(e->u.vdev.config_len, 0);
	ck_assert_uint_eq(e->u.vdev.status, 0);
	ck_assert_uint_eq(e->u.vdev.num_of_vrings, 2);
	ck_assert_uint_eq(e->u.vdev.vring[0].da, 0x1000);
	ck_assert_uint_eq(e->u.vdev.vring[0].align, 4096);
	ck_assert_uint_eq(e->u.vdev.vring[0].num, 8);
	ck_assert_uint_eq(e->u.vdev.vring[0].notifyid, 0);
	ck_assert_uint_eq(e->u.vdev.vring[1].da, 0x2000);
	ck_assert_uint_eq(e->u.vdev.vring[1].align, 4096);
	ck_assert_uint_eq(e->u.vdev.vring[1].num, 8);
	ck_assert_uint_eq(e->u.vdev.vring[1].notifyid, 1);
	ck_assert_uint_eq(e->u.vdev.config_off, 0x94);

	ck_assert_int_eq(xa_rsc_find_rpmsg_vdev(&tbl, &er), 1);
}
END_TEST

START_TEST(golden_matches_packed_structs)
{
	/* the public packed structures agree with the literal layout */
	ck_assert_uint_eq(sizeof(struct resource_table), XA_RSC_HDR_SIZE);
	ck_assert_uint_eq(sizeof(struct fw_rsc_carveout), XA_RSC_CARVEOUT_SIZE);
	ck_assert_uint_eq(sizeof(struct fw_rsc_devmem), XA_RSC_DEVMEM_SIZE);
	ck_assert_uint_eq(sizeof(struct fw_rsc_trace), XA_RSC_TRACE_SIZE);
	ck_assert_uint_eq(sizeof(struct fw_rsc_vdev), XA_RSC_VDEV_SIZE);
	ck_assert_uint_eq(sizeof(struct fw_rsc_vdev_vring), XA_RSC_VRING_SIZE);
	ck_assert_uint_eq(sizeof(struct fw_rsc_vendor), XA_RSC_VENDOR_HDR_SIZE);
	ck_assert_uint_eq(offsetof(struct fw_rsc_vdev, config_len), 20);
	ck_assert_uint_eq(offsetof(struct fw_rsc_vdev, num_of_vrings), 25);
	ck_assert_uint_eq(offsetof(struct fw_rsc_carveout, name), 24);
	ck_assert_uint_eq(offsetof(struct fw_rsc_trace, name), 16);
}
END_TEST

START_TEST(golden_err_null)
{
	uint8_t *p = malloc(GOLDEN_LEN);

	ck_assert_ptr_nonnull(p);
	memcpy(p, golden, GOLDEN_LEN);
	ck_assert_int_eq(xa_rsc_parse(p, GOLDEN_LEN, &tbl, NULL), XA_OK);
	ck_assert_int_eq(xa_rsc_find_rpmsg_vdev(&tbl, NULL), 1);
	ck_assert_int_eq(xa_rsc_parse(p, GOLDEN_LEN - 1, &tbl, NULL), XA_ERR_RSC);
	ck_assert_int_eq(xa_rsc_parse(NULL, 0, &tbl, NULL), XA_ERR_RSC);
	free(p);
}
END_TEST

START_TEST(truncated_every_byte)
{
	size_t len;

	for (len = 0; len < GOLDEN_LEN; len++) {
		int rc = parse_exact(golden, len);

		ck_assert_msg(rc == XA_ERR_RSC, "len %zu: rc %d", len, rc);
		ck_assert_msg(er.msg[0] != '\0', "len %zu: empty message", len);
	}
	ck_assert_int_eq(parse_exact(golden, GOLDEN_LEN), XA_OK);
}
END_TEST

START_TEST(truncated_messages)
{
	work_reset();
	expect_fail(15, -1, 0, "table header", "shorter", NULL);
	expect_fail(20, -1, 16, "table header", "offset array", NULL);
	expect_fail(0x18, 0, 0x10, "entry 0", "outside", NULL);
	expect_fail(0x18 + 55, 0, 0x18, "entry 0 (carveout)", "end of the table", NULL);
	expect_fail(0x50 + 27, 1, 0x50, "entry 1 (vdev)", "end of the table", NULL);
	expect_fail(0x50 + 28 + 39, 1, G_VD_NVR, "entry 1 (vdev)", "num_of_vrings", NULL);
	expect_fail(0x52, 1, G_OFF1, "entry 1", "type", NULL);
}
END_TEST

START_TEST(longer_buffer_ok)
{
	/* slack after the last entry is allowed */
	work_reset();
	ck_assert_int_eq(parse_exact(work, 512), XA_OK);
	ck_assert_uint_eq(tbl.num, 2);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Header                                                              */

START_TEST(bad_ver)
{
	work_reset();
	xa_put_le32(work, 2);
	expect_fail(GOLDEN_LEN, -1, 0, "table header", "ver 2", NULL);
	xa_put_le32(work, 0);
	expect_fail(GOLDEN_LEN, -1, 0, "table header", "ver 0", NULL);
}
END_TEST

START_TEST(num_too_large)
{
	work_reset();
	xa_put_le32(work + G_NUM, XA_RSC_MAX_ENTRIES + 1);
	expect_fail(1024, -1, G_NUM, "table header", "num 33", NULL);
	xa_put_le32(work + G_NUM, 0xffffffffu);
	expect_fail(1024, -1, G_NUM, "table header", "num 4294967295", NULL);
	xa_put_le32(work + G_NUM, 0x40000004u);   /* 16 + 4*num wraps in 32 bits */
	expect_fail(1024, -1, G_NUM, "table header", "num", NULL);
}
END_TEST

START_TEST(num_zero_ok)
{
	work_reset();
	xa_put_le32(work + G_NUM, 0);
	ck_assert_int_eq(parse_exact(work, 16), XA_OK);
	ck_assert_uint_eq(tbl.num, 0);
	ck_assert_int_eq(xa_rsc_find_rpmsg_vdev(&tbl, &er), XA_ERR_RSC);
	ck_assert_str_eq(er.msg, "no vdev entry");
}
END_TEST

START_TEST(offset_array_past_end)
{
	/* num 32 in a 100-byte buffer: the offset array needs 144 bytes */
	work_reset();
	xa_put_le32(work + G_NUM, 32);
	expect_fail(100, -1, 16, "table header", "offset array", "num 32");
}
END_TEST

/* ------------------------------------------------------------------ */
/* Offsets                                                             */

START_TEST(offset_outside)
{
	work_reset();
	xa_put_le32(work + G_OFF1, 0x200);
	expect_fail(GOLDEN_LEN, 1, G_OFF1, "entry 1", "offset 0x200", "outside");
	xa_put_le32(work + G_OFF1, GOLDEN_LEN);
	expect_fail(GOLDEN_LEN, 1, G_OFF1, "entry 1", "offset 0x94", "outside");
	xa_put_le32(work + G_OFF1, 0xfffffffcu);
	expect_fail(GOLDEN_LEN, 1, G_OFF1, "entry 1", "offset", "outside");
	/* inside but too close to the end for even the type field */
	xa_put_le32(work + G_OFF1, 0x90);
	expect_fail(0x92, 1, G_OFF1, "entry 1", "offset 0x90", "type");
}
END_TEST

START_TEST(offset_into_header)
{
	uint32_t off;

	for (off = 0; off < 0x18; off += 4) {
		work_reset();
		xa_put_le32(work + G_OFF0, off);
		expect_fail(GOLDEN_LEN, 0, G_OFF0, "entry 0", "offset", "header");
	}
}
END_TEST

START_TEST(offset_unaligned)
{
	uint32_t d;

	for (d = 1; d < 4; d++) {
		work_reset();
		xa_put_le32(work + G_OFF1, G_VD + d);
		expect_fail(GOLDEN_LEN, 1, G_OFF1, "entry 1", "offset", "aligned");
	}
}
END_TEST

START_TEST(overlap_same_offset)
{
	work_reset();
	xa_put_le32(work + G_OFF1, G_CO);
	expect_fail(GOLDEN_LEN, 1, G_CO, "entry 1 (carveout)", "overlaps entry 0",
		    NULL);
}
END_TEST

START_TEST(overlap_partial)
{
	/* entry 0: vendor 128 at 0x18 of 16 bytes (to 0x28); entry 1: vendor
	 * 129 at 0x20 of 8 bytes, inside entry 0. */
	static const uint8_t t[] = {
		0x01, 0, 0, 0, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		0x18, 0, 0, 0, 0x20, 0, 0, 0,
		0x80, 0, 0, 0, 0x10, 0, 0, 0,     /* 0x18 vendor 128 len 16 */
		0x81, 0, 0, 0, 0x08, 0, 0, 0,     /* 0x20 vendor 129 len 8 */
	};

	memset(work, 0, sizeof(work));
	memcpy(work, t, sizeof(t));
	expect_fail(sizeof(t), 1, 0x20, "entry 1 (vendor)", "overlaps entry 0",
		    NULL);

	/* the same, listed in the other order: the later one (by offset) is
	 * named, whatever its index */
	xa_put_le32(work + 16, 0x20);
	xa_put_le32(work + 20, 0x18);
	expect_fail(sizeof(t), 0, 0x20, "entry 0 (vendor)", "overlaps entry 1",
		    NULL);

	/* adjacent entries do not overlap */
	memcpy(work, t, sizeof(t));
	xa_put_le32(work + 0x1c, 8);
	ck_assert_int_eq(parse_exact(work, sizeof(t)), XA_OK);
	ck_assert_uint_eq(tbl.entry[0].type, 128);
	ck_assert_uint_eq(tbl.entry[0].size, 8);
	ck_assert_uint_eq(tbl.entry[1].type, 129);
	ck_assert_uint_eq(tbl.entry[1].u.vendor.len, 8);
}
END_TEST

START_TEST(overlap_carveout_into_vdev)
{
	/* move the carveout so that its 56 bytes run into the vdev */
	work_reset();
	memmove(work + 0x20, work + G_CO, 56);   /* 0x20..0x58 */
	memset(work + G_CO, 0, 8);
	memcpy(work + G_VD, golden + G_VD, 68);
	xa_put_le32(work + G_OFF0, 0x20);
	expect_fail(GOLDEN_LEN, 1, G_VD, "entry 1 (vdev)", "overlaps entry 0",
		    "carveout");
}
END_TEST

/* ------------------------------------------------------------------ */
/* Entries                                                             */

START_TEST(vdev_config_len)
{
	work_reset();
	xa_put_le32(work + G_VD_CFGLEN, 1);
	expect_fail(GOLDEN_LEN, 1, G_VD_CFGLEN, "entry 1 (vdev)", "config_len 1",
		    NULL);
	ck_assert_str_eq(er.msg,
			 "entry 1 (vdev) at offset 0x50: config_len 1 runs past the end of the table (len 148)");

	/* would wrap a 32-bit sum: 0x94 + 0xffffff6c == 0 */
	xa_put_le32(work + G_VD_CFGLEN, 0xffffff6cu);
	expect_fail(GOLDEN_LEN, 1, G_VD_CFGLEN, "entry 1 (vdev)",
		    "config_len 4294967148", NULL);
	xa_put_le32(work + G_VD_CFGLEN, 0xffffffffu);
	expect_fail(GOLDEN_LEN, 1, G_VD_CFGLEN, "entry 1 (vdev)",
		    "config_len 4294967295", NULL);

	/* config space that fits */
	xa_put_le32(work + G_VD_CFGLEN, 12);
	ck_assert_int_eq(parse_exact(work, GOLDEN_LEN + 12), XA_OK);
	ck_assert_uint_eq(tbl.entry[1].size, 80);
	ck_assert_uint_eq(tbl.entry[1].u.vdev.config_len, 12);
	ck_assert_uint_eq(tbl.entry[1].u.vdev.config_off, 0x94);
}
END_TEST

START_TEST(vdev_too_many_vrings)
{
	work_reset();
	work[G_VD_NVR] = XA_RSC_MAX_VRINGS + 1;
	expect_fail(1024, 1, G_VD_NVR, "entry 1 (vdev)", "num_of_vrings 9", NULL);
	work[G_VD_NVR] = 255;
	expect_fail(1024, 1, G_VD_NVR, "entry 1 (vdev)", "num_of_vrings 255",
		    NULL);
	/* 8 vrings fit in a long enough buffer */
	work[G_VD_NVR] = 8;
	ck_assert_int_eq(parse_exact(work, G_VD + 28 + 8 * 20), XA_OK);
	ck_assert_uint_eq(tbl.entry[1].u.vdev.num_of_vrings, 8);
	/* but not in the golden length */
	expect_fail(GOLDEN_LEN, 1, G_VD_NVR, "entry 1 (vdev)", "num_of_vrings 8",
		    NULL);
}
END_TEST

START_TEST(vendor_len)
{
	/* turn the carveout into a vendor entry */
	work_reset();
	xa_put_le32(work + G_CO, 128);
	xa_put_le32(work + G_CO + 4, 4);
	expect_fail(GOLDEN_LEN, 0, G_CO + 4, "entry 0 (vendor)", "len 4", NULL);
	xa_put_le32(work + G_CO + 4, 0);
	expect_fail(GOLDEN_LEN, 0, G_CO + 4, "entry 0 (vendor)", "len 0", NULL);
	xa_put_le32(work + G_CO + 4, 10);
	expect_fail(GOLDEN_LEN, 0, G_CO + 4, "entry 0 (vendor)", "len 10",
		    "multiple of 4");
	xa_put_le32(work + G_CO + 4, 0xfffffffcu);
	expect_fail(GOLDEN_LEN, 0, G_CO + 4, "entry 0 (vendor)", "len 4294967292",
		    "end of the table");
	/* 56 bytes: exactly the old carveout */
	xa_put_le32(work + G_CO + 4, 56);
	ck_assert_int_eq(parse_exact(work, GOLDEN_LEN), XA_OK);
	ck_assert_uint_eq(tbl.entry[0].u.vendor.len, 56);
	/* 60 bytes: runs into the vdev */
	xa_put_le32(work + G_CO + 4, 60);
	expect_fail(GOLDEN_LEN, 1, G_VD, "entry 1 (vdev)", "overlaps entry 0",
		    "vendor");
	/* last vendor type */
	xa_put_le32(work + G_CO, 511);
	xa_put_le32(work + G_CO + 4, 8);
	ck_assert_int_eq(parse_exact(work, GOLDEN_LEN), XA_OK);
}
END_TEST

START_TEST(unknown_types)
{
	static const uint32_t types[] = { 4, 5, 127, 512, 0x10000, 0xffffffffu };
	size_t i;

	work_reset();
	xa_put_le32(work + G_CO, 5);
	expect_fail(GOLDEN_LEN, 0, G_CO, "entry 0 (unknown)", "type 5", NULL);
	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		work_reset();
		xa_put_le32(work + G_VD, types[i]);
		expect_fail(GOLDEN_LEN, 1, G_VD, "entry 1 (unknown)", "type", NULL);
	}
}
END_TEST

START_TEST(devmem_trace_names)
{
	/* devmem at 0x18 (56 bytes, full 32-byte name), trace at 0x50 (48) */
	work_reset();
	xa_put_le32(work + G_CO, RSC_DEVMEM);
	memset(work + G_CO_NAME, 'A', 32);
	memset(work + G_VD, 0, 68);
	xa_put_le32(work + G_VD, RSC_TRACE);
	xa_put_le32(work + G_VD + 4, 0x3000);
	xa_put_le32(work + G_VD + 8, 0x400);
	memcpy(work + G_VD + 16, "trace0", 6);
	ck_assert_int_eq(parse_exact(work, G_VD + 48), XA_OK);
	ck_assert_uint_eq(tbl.entry[0].type, RSC_DEVMEM);
	ck_assert_uint_eq(tbl.entry[0].size, 56);
	ck_assert_uint_eq(strlen(tbl.entry[0].u.mem.name), 32);
	ck_assert_uint_eq(tbl.entry[0].u.mem.name[0], 'A');
	ck_assert_uint_eq(tbl.entry[1].type, RSC_TRACE);
	ck_assert_uint_eq(tbl.entry[1].size, 48);
	ck_assert_uint_eq(tbl.entry[1].u.trace.da, 0x3000);
	ck_assert_uint_eq(tbl.entry[1].u.trace.len, 0x400);
	ck_assert_str_eq(tbl.entry[1].u.trace.name, "trace0");
	expect_fail(G_VD + 47, 1, G_VD, "entry 1 (trace)", "end of the table",
		    NULL);
}
END_TEST

START_TEST(type_names)
{
	ck_assert_str_eq(xa_rsc_type_name(0), "carveout");
	ck_assert_str_eq(xa_rsc_type_name(1), "devmem");
	ck_assert_str_eq(xa_rsc_type_name(2), "trace");
	ck_assert_str_eq(xa_rsc_type_name(3), "vdev");
	ck_assert_str_eq(xa_rsc_type_name(128), "vendor");
	ck_assert_str_eq(xa_rsc_type_name(511), "vendor");
	ck_assert_str_eq(xa_rsc_type_name(4), "unknown");
	ck_assert_str_eq(xa_rsc_type_name(127), "unknown");
	ck_assert_str_eq(xa_rsc_type_name(512), "unknown");
}
END_TEST

/* ------------------------------------------------------------------ */
/* xa_rsc_find_rpmsg_vdev                                              */

static int find_in_work(size_t len)
{
	ck_assert_int_eq(parse_exact(work, len), XA_OK);
	memset(&er, 0, sizeof(er));
	return xa_rsc_find_rpmsg_vdev(&tbl, &er);
}

START_TEST(find_no_vdev)
{
	work_reset();
	xa_put_le32(work + G_NUM, 1);   /* only the carveout (0x50 now slack) */
	ck_assert_int_eq(find_in_work(GOLDEN_LEN), XA_ERR_RSC);
	ck_assert_str_eq(er.msg, "no vdev entry");
	ck_assert_int_eq(er.entry, -1);
}
END_TEST

START_TEST(find_not_rpmsg)
{
	work_reset();
	xa_put_le32(work + G_VD_ID, 3);
	ck_assert_int_eq(find_in_work(GOLDEN_LEN), XA_ERR_RSC);
	ck_assert_str_eq(er.msg, "vdev entry 1 is virtio id 3, not RPMsg (7)");
	ck_assert_int_eq(er.entry, 1);
	ck_assert_uint_eq(er.offset, G_VD_ID);
}
END_TEST

START_TEST(find_one_vring)
{
	work_reset();
	work[G_VD_NVR] = 1;
	ck_assert_int_eq(find_in_work(GOLDEN_LEN), XA_ERR_RSC);
	ck_assert_int_eq(er.entry, 1);
	ck_assert_uint_eq(er.offset, G_VD_NVR);
	ck_assert_ptr_nonnull(strstr(er.msg, "entry 1 (vdev)"));
	ck_assert_ptr_nonnull(strstr(er.msg, "num_of_vrings 1"));
}
END_TEST

START_TEST(find_num_not_pow2)
{
	work_reset();
	xa_put_le32(work + G_VR(1) + 8, 3);
	ck_assert_int_eq(find_in_work(GOLDEN_LEN), XA_ERR_RSC);
	ck_assert_int_eq(er.entry, 1);
	ck_assert_uint_eq(er.offset, G_VR(1) + 8);
	ck_assert_ptr_nonnull(strstr(er.msg, "entry 1 (vdev)"));
	ck_assert_ptr_nonnull(strstr(er.msg, "vring 1 num 3 is not a power of two"));

	xa_put_le32(work + G_VR(1) + 8, 0);
	ck_assert_int_eq(find_in_work(GOLDEN_LEN), XA_ERR_RSC);
	ck_assert_ptr_nonnull(strstr(er.msg, "vring 1 num 0"));

	xa_put_le32(work + G_VR(1) + 8, 65536);
	ck_assert_int_eq(find_in_work(GOLDEN_LEN), XA_ERR_RSC);
	ck_assert_ptr_nonnull(strstr(er.msg, "vring 1 num 65536"));

	xa_put_le32(work + G_VR(1) + 8, 32768);
	ck_assert_int_eq(find_in_work(GOLDEN_LEN), 1);
	xa_put_le32(work + G_VR(1) + 8, 1);
	ck_assert_int_eq(find_in_work(GOLDEN_LEN), 1);
}
END_TEST

START_TEST(find_bad_align)
{
	static const uint32_t bad[] = { 0, 1, 2, 3, 6, 4097 };
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		work_reset();
		xa_put_le32(work + G_VR(0) + 4, bad[i]);
		ck_assert_int_eq(find_in_work(GOLDEN_LEN), XA_ERR_RSC);
		ck_assert_uint_eq(er.offset, G_VR(0) + 4);
		ck_assert_ptr_nonnull(strstr(er.msg, "vring 0 align"));
	}
	work_reset();
	xa_put_le32(work + G_VR(0) + 4, 4);
	ck_assert_int_eq(find_in_work(GOLDEN_LEN), 1);
}
END_TEST

START_TEST(find_two_rpmsg_vdevs)
{
	/* header with 3 entries: carveout, vdev, vdev */
	work_reset();
	memmove(work + 0x1c, work + 0x18, GOLDEN_LEN - 0x18);
	xa_put_le32(work + G_NUM, 3);
	xa_put_le32(work + 0x10, 0x1c);
	xa_put_le32(work + 0x14, 0x54);
	xa_put_le32(work + 0x18, 0x98);
	memcpy(work + 0x98, golden + G_VD, 68);
	ck_assert_int_eq(find_in_work(0x98 + 68), XA_ERR_RSC);
	ck_assert_int_eq(er.entry, 2);
	ck_assert_ptr_nonnull(strstr(er.msg, "entry 2 (vdev)"));
	ck_assert_ptr_nonnull(strstr(er.msg, "entry 1"));

	/* a non-RPMsg vdev beside the RPMsg one is fine */
	xa_put_le32(work + 0x98 + 4, 3);
	ck_assert_int_eq(find_in_work(0x98 + 68), 1);
	xa_put_le32(work + 0x98 + 4, 7);
	xa_put_le32(work + 0x54 + 4, 3);
	ck_assert_int_eq(find_in_work(0x98 + 68), 2);
}
END_TEST

static Suite *rsc_suite(void)
{
	Suite *s = suite_create("rsc");
	TCase *tc;

	tc = tcase_create("golden");
	tcase_add_test(tc, golden_parses);
	tcase_add_test(tc, golden_matches_packed_structs);
	tcase_add_test(tc, golden_err_null);
	tcase_add_test(tc, truncated_every_byte);
	tcase_add_test(tc, truncated_messages);
	tcase_add_test(tc, longer_buffer_ok);
	suite_add_tcase(s, tc);

	tc = tcase_create("header");
	tcase_add_test(tc, bad_ver);
	tcase_add_test(tc, num_too_large);
	tcase_add_test(tc, num_zero_ok);
	tcase_add_test(tc, offset_array_past_end);
	suite_add_tcase(s, tc);

	tc = tcase_create("offsets");
	tcase_add_test(tc, offset_outside);
	tcase_add_test(tc, offset_into_header);
	tcase_add_test(tc, offset_unaligned);
	tcase_add_test(tc, overlap_same_offset);
	tcase_add_test(tc, overlap_partial);
	tcase_add_test(tc, overlap_carveout_into_vdev);
	suite_add_tcase(s, tc);

	tc = tcase_create("entries");
	tcase_add_test(tc, vdev_config_len);
	tcase_add_test(tc, vdev_too_many_vrings);
	tcase_add_test(tc, vendor_len);
	tcase_add_test(tc, unknown_types);
	tcase_add_test(tc, devmem_trace_names);
	tcase_add_test(tc, type_names);
	suite_add_tcase(s, tc);

	tc = tcase_create("find_rpmsg_vdev");
	tcase_add_test(tc, find_no_vdev);
	tcase_add_test(tc, find_not_rpmsg);
	tcase_add_test(tc, find_one_vring);
	tcase_add_test(tc, find_num_not_pow2);
	tcase_add_test(tc, find_bad_align);
	tcase_add_test(tc, find_two_rpmsg_vdevs);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(rsc_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

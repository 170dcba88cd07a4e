/* Resource table parsing and validation.
 *
 * The buffer is hostile: every field is read byte-wise through byteorder.h
 * after checking that it lies inside the buffer, all sums are computed in
 * 64 bits, and every failure names the entry, its type and the field. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "byteorder.h"
#include "rpmsg_wire.h"
#include "rsc_parse.h"
#include "xenamp/rsc_table.h"

const char *xa_rsc_type_name(uint32_t type)
{
	switch (type) {
	case RSC_CARVEOUT:
		return "carveout";
	case RSC_DEVMEM:
		return "devmem";
	case RSC_TRACE:
		return "trace";
	case RSC_VDEV:
		return "vdev";
	default:
		if (type >= RSC_VENDOR_START && type < RSC_VENDOR_END)
			return "vendor";
		return "unknown";
	}
}

/* ------------------------------------------------------------------ */
/* Error reporting                                                     */

static int vfail(struct xa_rsc_error *err, uint32_t field_off, int entry,
		 const char *prefix, const char *fmt, va_list ap)
	__attribute__((format(printf, 5, 0)));

static int vfail(struct xa_rsc_error *err, uint32_t field_off, int entry,
		 const char *prefix, const char *fmt, va_list ap)
{
	int n;

	if (err == NULL)
		return XA_ERR_RSC;
	err->offset = field_off;
	err->entry = entry;
	n = snprintf(err->msg, sizeof(err->msg), "%s: ", prefix);
	if (n < 0)
		n = 0;
	if ((size_t)n < sizeof(err->msg))
		vsnprintf(err->msg + n, sizeof(err->msg) - (size_t)n, fmt, ap);
	return XA_ERR_RSC;
}

/* A fault in the table header or offset array. */
static int hdr_fail(struct xa_rsc_error *err, uint32_t field_off,
		    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int hdr_fail(struct xa_rsc_error *err, uint32_t field_off,
		    const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = vfail(err, field_off, -1, "table header", fmt, ap);
	va_end(ap);
	return rc;
}

/* A fault in an entry's offset, before its type is known. */
static int off_fail(struct xa_rsc_error *err, uint32_t field_off,
		    uint32_t idx, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int off_fail(struct xa_rsc_error *err, uint32_t field_off,
		    uint32_t idx, const char *fmt, ...)
{
	char prefix[32];
	va_list ap;
	int rc;

	snprintf(prefix, sizeof(prefix), "entry %u", (unsigned)idx);
	va_start(ap, fmt);
	rc = vfail(err, field_off, (int)idx, prefix, fmt, ap);
	va_end(ap);
	return rc;
}

/* A fault inside an entry. */
static int ent_fail(struct xa_rsc_error *err, uint32_t field_off,
		    uint32_t idx, uint32_t type, uint32_t ent_off,
		    const char *fmt, ...) __attribute__((format(printf, 6, 7)));

static int ent_fail(struct xa_rsc_error *err, uint32_t field_off,
		    uint32_t idx, uint32_t type, uint32_t ent_off,
		    const char *fmt, ...)
{
	char prefix[64];
	va_list ap;
	int rc;

	snprintf(prefix, sizeof(prefix), "entry %u (%s) at offset 0x%x",
		 (unsigned)idx, xa_rsc_type_name(type), (unsigned)ent_off);
	va_start(ap, fmt);
	rc = vfail(err, field_off, (int)idx, prefix, fmt, ap);
	va_end(ap);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Parsing                                                             */

/* Copy a u8[32] name: up to 32 bytes, stopping at a NUL, always
 * terminated. */
static void copy_name(char dst[33], const uint8_t *src)
{
	size_t n;

	memset(dst, 0, 33);
	for (n = 0; n < 32 && src[n] != 0; n++)
		dst[n] = (char)src[n];
}

/* Does [off, off + size) end inside a table of len bytes? */
static int fits(uint64_t off, uint64_t size, size_t len)
{
	return off + size <= (uint64_t)len;
}

/* The bounds fault every fixed-size entry reports when its fixed part
 * does not fit; what names the part ("entry", "fixed part", "header"). */
static int short_fail(struct xa_rsc_error *err, uint32_t idx, uint32_t type,
		      uint32_t off, const char *what, uint32_t size, size_t len)
{
	return ent_fail(err, off, idx, type, off,
			"%s of %u bytes runs past the end of the table (len %zu)",
			what, (unsigned)size, len);
}

/* RSC_CARVEOUT and RSC_DEVMEM: both are 56 bytes (type, da, pa, len,
 * flags, reserved, name). */
static int parse_mem(const uint8_t *p, size_t len, uint32_t idx,
		     uint32_t off, struct xa_rsc_entry *e,
		     struct xa_rsc_error *err)
{
	if (!fits(off, XA_RSC_CARVEOUT_SIZE, len))
		return short_fail(err, idx, e->type, off, "entry",
				  XA_RSC_CARVEOUT_SIZE, len);
	e->size = XA_RSC_CARVEOUT_SIZE;
	e->u.mem.da = xa_get_le32(p + 4);
	e->u.mem.pa = xa_get_le32(p + 8);
	e->u.mem.len = xa_get_le32(p + 12);
	e->u.mem.flags = xa_get_le32(p + 16);
	copy_name(e->u.mem.name, p + 24);
	return XA_OK;
}

static int parse_trace(const uint8_t *p, size_t len, uint32_t idx,
		       uint32_t off, struct xa_rsc_entry *e,
		       struct xa_rsc_error *err)
{
	if (!fits(off, XA_RSC_TRACE_SIZE, len))
		return short_fail(err, idx, e->type, off, "entry",
				  XA_RSC_TRACE_SIZE, len);
	e->size = XA_RSC_TRACE_SIZE;
	e->u.trace.da = xa_get_le32(p + 4);
	e->u.trace.len = xa_get_le32(p + 8);
	copy_name(e->u.trace.name, p + 16);
	return XA_OK;
}

/* Decode nvr vring descriptors starting at v; the caller has checked that
 * all of them lie inside the table. */
static void read_vrings(const uint8_t *v, uint8_t nvr, struct xa_rsc_vring *out)
{
	unsigned i;

	for (i = 0; i < nvr; i++, v += XA_RSC_VRING_SIZE) {
		out[i].da = xa_get_le32(v + 0);
		out[i].align = xa_get_le32(v + 4);
		out[i].num = xa_get_le32(v + 8);
		out[i].notifyid = xa_get_le32(v + 12);
	}
}

/* RSC_VDEV: a 28-byte fixed part, then num_of_vrings vring descriptors,
 * then config_len bytes of config space. num_of_vrings and config_len are
 * read once and bound the entry's size; the rest is decoded only once the
 * whole entry is known to lie inside the table. */
static int parse_vdev(const uint8_t *b, size_t len, uint32_t idx,
		      uint32_t off, struct xa_rsc_entry *e,
		      struct xa_rsc_error *err)
{
	const uint8_t *p = b + off;
	uint64_t vr_off, cfg_off, end;
	uint32_t config_len;
	uint8_t nvr;

	if (!fits(off, XA_RSC_VDEV_SIZE, len))
		return short_fail(err, idx, e->type, off, "fixed part",
				  XA_RSC_VDEV_SIZE, len);
	config_len = xa_get_le32(p + 20);
	nvr = p[25];
	if (nvr > XA_RSC_MAX_VRINGS)
		return ent_fail(err, off + 25, idx, e->type, off,
				"num_of_vrings %u exceeds the maximum of %u",
				(unsigned)nvr, XA_RSC_MAX_VRINGS);
	vr_off = (uint64_t)off + XA_RSC_VDEV_SIZE;
	cfg_off = vr_off + (uint64_t)nvr * XA_RSC_VRING_SIZE;
	if (cfg_off > (uint64_t)len)
		return ent_fail(err, off + 25, idx, e->type, off,
				"num_of_vrings %u: vrings run past the end of the table (len %zu)",
				(unsigned)nvr, len);
	end = cfg_off + config_len;
	if (end > (uint64_t)len)
		return ent_fail(err, off + 20, idx, e->type, off,
				"config_len %u runs past the end of the table (len %zu)",
				(unsigned)config_len, len);
	e->size = (uint32_t)(end - off);
	e->u.vdev.id = xa_get_le32(p + 4);
	e->u.vdev.notifyid = xa_get_le32(p + 8);
	e->u.vdev.dfeatures = xa_get_le32(p + 12);
	e->u.vdev.gfeatures = xa_get_le32(p + 16);
	e->u.vdev.config_len = config_len;
	e->u.vdev.status = p[24];
	e->u.vdev.num_of_vrings = nvr;
	read_vrings(b + vr_off, nvr, e->u.vdev.vring);
	e->u.vdev.config_off = (uint32_t)cfg_off;
	return XA_OK;
}

/* A vendor entry (type in [RSC_VENDOR_START, RSC_VENDOR_END)): an 8-byte
 * header whose len, read once, covers the header and the payload. */
static int parse_vendor(const uint8_t *p, size_t len, uint32_t idx,
			uint32_t off, struct xa_rsc_entry *e,
			struct xa_rsc_error *err)
{
	uint32_t vlen;

	if (!fits(off, XA_RSC_VENDOR_HDR_SIZE, len))
		return short_fail(err, idx, e->type, off, "header",
				  XA_RSC_VENDOR_HDR_SIZE, len);
	vlen = xa_get_le32(p + 4);
	if (vlen < XA_RSC_VENDOR_HDR_SIZE)
		return ent_fail(err, off + 4, idx, e->type, off,
				"len %u is smaller than the %u-byte vendor header",
				(unsigned)vlen, XA_RSC_VENDOR_HDR_SIZE);
	if (vlen % 4 != 0)
		return ent_fail(err, off + 4, idx, e->type, off,
				"len %u is not a multiple of 4",
				(unsigned)vlen);
	if (!fits(off, vlen, len))
		return ent_fail(err, off + 4, idx, e->type, off,
				"len %u runs past the end of the table (len %zu)",
				(unsigned)vlen, len);
	e->size = vlen;
	e->u.vendor.len = vlen;
	return XA_OK;
}

/* Decode entry idx at off; the caller has checked that its 4-byte type
 * field lies inside the table. The type is read once and recorded, with
 * the offset, even when the entry then fails. */
static int parse_entry(const uint8_t *b, size_t len, uint32_t idx,
		       uint32_t off, struct xa_rsc_entry *e,
		       struct xa_rsc_error *err)
{
	const uint8_t *p = b + off;
	uint32_t type = xa_get_le32(p);

	e->type = type;
	e->offset = off;

	switch (type) {
	case RSC_CARVEOUT:
	case RSC_DEVMEM:
		return parse_mem(p, len, idx, off, e, err);
	case RSC_TRACE:
		return parse_trace(p, len, idx, off, e, err);
	case RSC_VDEV:
		return parse_vdev(b, len, idx, off, e, err);
	default:
		break;
	}
	if (type >= RSC_VENDOR_START && type < RSC_VENDOR_END)
		return parse_vendor(p, len, idx, off, e, err);
	return ent_fail(err, off, idx, type, off,
			"type %u is not a known resource type", (unsigned)type);
}

/* Check the header (ver, num) and that the offset array fits; on success
 * *hdr_end is where the offset array ends. */
static int parse_header(const uint8_t *b, size_t len, struct xa_rsc_table *out,
			uint64_t *hdr_end, struct xa_rsc_error *err)
{
	uint32_t ver, num;

	if (b == NULL || len < XA_RSC_HDR_SIZE)
		return hdr_fail(err, 0,
				"table length %zu is shorter than the %u-byte header",
				b == NULL ? (size_t)0 : len, XA_RSC_HDR_SIZE);
	ver = xa_get_le32(b + 0);
	num = xa_get_le32(b + 4);
	if (ver != 1)
		return hdr_fail(err, 0, "ver %u is not 1", (unsigned)ver);
	if (num > XA_RSC_MAX_ENTRIES)
		return hdr_fail(err, 4, "num %u exceeds the maximum of %u entries",
				(unsigned)num, XA_RSC_MAX_ENTRIES);
	*hdr_end = XA_RSC_HDR_SIZE + (uint64_t)num * 4;
	if (*hdr_end > (uint64_t)len)
		return hdr_fail(err, XA_RSC_HDR_SIZE,
				"offset array of num %u entries runs past the end of the table (len %zu)",
				(unsigned)num, len);
	out->ver = ver;
	out->num = num;
	return XA_OK;
}

/* Read entry i's offset once and check it: inside the table, aligned,
 * past the header and offset array, room for the type field. */
static int entry_offset(const uint8_t *b, size_t len, uint32_t i,
			uint64_t hdr_end, uint32_t *offp,
			struct xa_rsc_error *err)
{
	uint32_t field = XA_RSC_HDR_SIZE + i * 4;
	uint32_t off = xa_get_le32(b + field);

	if ((uint64_t)off >= (uint64_t)len)
		return off_fail(err, field, i,
				"offset 0x%x is outside the table (len %zu)",
				(unsigned)off, len);
	if (off % 4 != 0)
		return off_fail(err, field, i,
				"offset 0x%x is not 4-byte aligned",
				(unsigned)off);
	if ((uint64_t)off < hdr_end)
		return off_fail(err, field, i,
				"offset 0x%x points into the table header or offset array (which end at 0x%x)",
				(unsigned)off, (unsigned)hdr_end);
	if (!fits(off, 4, len))
		return off_fail(err, field, i,
				"offset 0x%x: type field runs past the end of the table (len %zu)",
				(unsigned)off, len);
	*offp = off;
	return XA_OK;
}

/* Overlap: sort entry indices by offset (insertion sort, n <= 32) and
 * compare neighbours; the fault names the later entry. */
static int check_overlap(const struct xa_rsc_table *t,
			 struct xa_rsc_error *err)
{
	uint32_t order[XA_RSC_MAX_ENTRIES];
	uint32_t i, j;

	for (i = 0; i < t->num; i++) {
		for (j = i; j > 0 && t->entry[order[j - 1]].offset > t->entry[i].offset; j--)
			order[j] = order[j - 1];
		order[j] = i;
	}
	for (i = 1; i < t->num; i++) {
		const struct xa_rsc_entry *a = &t->entry[order[i - 1]];
		const struct xa_rsc_entry *c = &t->entry[order[i]];

		if ((uint64_t)a->offset + a->size > c->offset)
			return ent_fail(err, c->offset, order[i], c->type, c->offset,
					"overlaps entry %u (%s) at offset 0x%x (%u bytes)",
					(unsigned)order[i - 1], xa_rsc_type_name(a->type),
					(unsigned)a->offset, (unsigned)a->size);
	}
	return XA_OK;
}

int xa_rsc_parse(const void *buf, size_t len, struct xa_rsc_table *out,
		 struct xa_rsc_error *err)
{
	const uint8_t *b = buf;
	uint64_t hdr_end = 0;   /* set by parse_header() when it succeeds */
	uint32_t i, off = 0;
	int rc;

	if (err != NULL) {
		err->offset = 0;
		err->entry = -1;
		err->msg[0] = '\0';
	}
	memset(out, 0, sizeof(*out));

	rc = parse_header(b, len, out, &hdr_end, err);
	if (rc != XA_OK)
		return rc;
	/* out->num is now checked (<= XA_RSC_MAX_ENTRIES) and is the one
	 * count every loop below uses. */
	for (i = 0; i < out->num; i++) {
		rc = entry_offset(b, len, i, hdr_end, &off, err);
		if (rc != XA_OK)
			return rc;
		rc = parse_entry(b, len, i, off, &out->entry[i], err);
		if (rc != XA_OK)
			return rc;
	}
	return check_overlap(out, err);
}

/* ------------------------------------------------------------------ */
/* RPMsg vdev lookup                                                   */

static int is_pow2(uint32_t v)
{
	return v != 0 && (v & (v - 1)) == 0;
}

static int rsc_fail(struct xa_rsc_error *err, uint32_t field_off, int entry,
		    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int rsc_fail(struct xa_rsc_error *err, uint32_t field_off, int entry,
		    const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return XA_ERR_RSC;
	err->offset = field_off;
	err->entry = entry;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return XA_ERR_RSC;
}

int xa_rsc_find_rpmsg_vdev(const struct xa_rsc_table *t,
			   struct xa_rsc_error *err)
{
	uint32_t num = t->num < XA_RSC_MAX_ENTRIES ? t->num : XA_RSC_MAX_ENTRIES;
	int found = -1, first_vdev = -1;
	const struct xa_rsc_entry *e;
	uint32_t i;

	for (i = 0; i < num; i++) {
		e = &t->entry[i];
		if (e->type != RSC_VDEV)
			continue;
		if (first_vdev < 0)
			first_vdev = (int)i;
		if (e->u.vdev.id != XA_VIRTIO_ID_RPMSG)
			continue;
		if (found >= 0)
			return ent_fail(err, e->offset + 4, i, e->type, e->offset,
					"second RPMsg vdev (the first is entry %d)",
					found);
		found = (int)i;
	}
	if (first_vdev < 0)
		return rsc_fail(err, 0, -1, "no vdev entry");
	if (found < 0) {
		e = &t->entry[first_vdev];
		return rsc_fail(err, e->offset + 4, first_vdev,
				"vdev entry %d is virtio id %u, not RPMsg (%u)",
				first_vdev, (unsigned)e->u.vdev.id,
				XA_VIRTIO_ID_RPMSG);
	}

	e = &t->entry[found];
	if (e->u.vdev.num_of_vrings != 2)
		return ent_fail(err, e->offset + 25, (uint32_t)found, e->type, e->offset,
				"num_of_vrings %u is not 2",
				(unsigned)e->u.vdev.num_of_vrings);
	for (i = 0; i < 2; i++) {
		const struct xa_rsc_vring *v = &e->u.vdev.vring[i];
		uint32_t voff = e->offset + XA_RSC_VDEV_SIZE + i * XA_RSC_VRING_SIZE;

		if (!is_pow2(v->num))
			return ent_fail(err, voff + 8, (uint32_t)found, e->type, e->offset,
					"vring %u num %u is not a power of two",
					(unsigned)i, (unsigned)v->num);
		if (v->num > 32768)
			return ent_fail(err, voff + 8, (uint32_t)found, e->type, e->offset,
					"vring %u num %u exceeds 32768",
					(unsigned)i, (unsigned)v->num);
		if (!is_pow2(v->align) || v->align < 4)
			return ent_fail(err, voff + 4, (uint32_t)found, e->type, e->offset,
					"vring %u align %u is not a power of two >= 4",
					(unsigned)i, (unsigned)v->align);
	}
	return found;
}

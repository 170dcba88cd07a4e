/* xenamp-load --inspect: print a validated firmware image, as text or as
 * JSON (json-c). Works only on a struct fw_image that fw_image_load()
 * accepted, so every offset used here is already known to be in the file.
 *
 * JSON layout (numbers are JSON integers, never strings):
 *   { "file", "elf": {class, endianness, machine, machine_id, type,
 *     type_id, entry, flags},
 *     "segments": [{index, type, type_id, offset, vaddr, paddr, filesz,
 *                   memsz, align, flags ("RWX" letters), flags_raw}],
 *     "xen_notes": [{type ("GUEST_OS"...), type_id, value (string, or
 *                    integer for numeric notes)}],
 *     "xen_guest": "pv" | "pvh" | null (no Xen notes),
 *     "resource_table": {section, section_index, offset, size, addr, ver,
 *                        num, entries: [{index, type, type_id, offset,
 *                        file_offset, size, ...type fields}]},
 *     "link": {vdev_entry, buf_count, buf_size, buf_size_source,
 *              min_region_pages},
 *     "domain": {carveout_bytes, memory_mib} } */
#include <config.h>

#include <gelf.h>
#include <json-c/json.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "core/byteorder.h"
#include "core/rpmsg_wire.h"
#include "loader.h"
#include "xenamp/rsc_table.h"

#define HEX_MAX 64u   /* bytes of vendor data / vdev config shown */

static void seg_flags(uint32_t flags, char out[4])
{
	out[0] = (flags & PF_R) ? 'R' : '-';
	out[1] = (flags & PF_W) ? 'W' : '-';
	out[2] = (flags & PF_X) ? 'X' : '-';
	out[3] = '\0';
}

/* Printable copy of a name decoded by xa_rsc_parse (at most 32 chars). */
static void clean_name(const char *in, char out[33])
{
	size_t i;

	for (i = 0; i < 32 && in[i] != '\0'; i++)
		out[i] = (in[i] >= 0x20 && in[i] < 0x7f) ? in[i] : '?';
	out[i] = '\0';
}

/* Hex of up to HEX_MAX bytes: "01 02 ..", with "..." when cut. */
static void hex_bytes(const uint8_t *p, uint64_t len, char *out, size_t outlen)
{
	size_t n = len < HEX_MAX ? (size_t)len : HEX_MAX;
	size_t i, w = 0;

	out[0] = '\0';
	if (p == NULL)
		return;
	for (i = 0; i < n && w + 4 < outlen; i++)
		w += (size_t)snprintf(out + w, outlen - w, i ? " %02x" : "%02x", p[i]);
	if (len > n && w + 5 < outlen)
		snprintf(out + w, outlen - w, " ...");
}

/* Vendor data: the bytes after the 8-byte vendor header. */
static const uint8_t *vendor_data(const struct fw_image *img,
				  const struct xa_rsc_entry *e, uint64_t *len)
{
	*len = e->u.vendor.len - XA_RSC_VENDOR_HDR_SIZE;
	return fw_image_bytes(img, img->rsc_offset + e->offset + XA_RSC_VENDOR_HDR_SIZE,
			      *len);
}

static const uint8_t *vdev_config(const struct fw_image *img,
				  const struct xa_rsc_entry *e)
{
	return fw_image_bytes(img, img->rsc_offset + e->u.vdev.config_off,
			      e->u.vdev.config_len);
}

/* ------------------------------------------------------------------ */
/* Text                                                                */

static void text_entry(const struct fw_image *img, uint32_t i)
{
	const struct xa_rsc_entry *e = &img->rsc.entry[i];
	char name[33], hex[HEX_MAX * 3 + 8];
	const uint8_t *p;
	uint64_t len;
	unsigned k;

	printf("  [%u] %-8s at 0x%x (file 0x%llx), %u bytes\n", (unsigned)i,
	       xa_rsc_type_name(e->type), (unsigned)e->offset,
	       (unsigned long long)(img->rsc_offset + e->offset), (unsigned)e->size);
	switch (e->type) {
	case RSC_CARVEOUT:
	case RSC_DEVMEM:
		clean_name(e->u.mem.name, name);
		printf("      da 0x%08x pa 0x%08x len 0x%x flags 0x%x name \"%s\"\n",
		       (unsigned)e->u.mem.da, (unsigned)e->u.mem.pa,
		       (unsigned)e->u.mem.len, (unsigned)e->u.mem.flags, name);
		break;
	case RSC_TRACE:
		clean_name(e->u.trace.name, name);
		printf("      da 0x%08x len 0x%x name \"%s\"\n",
		       (unsigned)e->u.trace.da, (unsigned)e->u.trace.len, name);
		break;
	case RSC_VDEV:
		printf("      id %u%s, notifyid %u, dfeatures 0x%x%s, gfeatures 0x%x, status 0x%x, config_len %u, %u vrings\n",
		       (unsigned)e->u.vdev.id,
		       e->u.vdev.id == XA_VIRTIO_ID_RPMSG ? " (rpmsg)" : "",
		       (unsigned)e->u.vdev.notifyid, (unsigned)e->u.vdev.dfeatures,
		       (e->u.vdev.dfeatures & (1u << XA_VIRTIO_RPMSG_F_NS)) ? " (NS)" : "",
		       (unsigned)e->u.vdev.gfeatures, (unsigned)e->u.vdev.status,
		       (unsigned)e->u.vdev.config_len,
		       (unsigned)e->u.vdev.num_of_vrings);
		for (k = 0; k < e->u.vdev.num_of_vrings && k < XA_RSC_MAX_VRINGS; k++)
			printf("      vring %u: da 0x%08x align %u num %u notifyid %u%s\n",
			       k, (unsigned)e->u.vdev.vring[k].da,
			       (unsigned)e->u.vdev.vring[k].align,
			       (unsigned)e->u.vdev.vring[k].num,
			       (unsigned)e->u.vdev.vring[k].notifyid,
			       (int)i == img->vdev ? (k == 0 ? " (driver RX)"
							    : " (driver TX)")
						   : "");
		if (e->u.vdev.config_len != 0) {
			hex_bytes(vdev_config(img, e), e->u.vdev.config_len, hex,
				  sizeof(hex));
			printf("      config: %s\n", hex);
		}
		break;
	default:
		if (e->type >= RSC_VENDOR_START && e->type < RSC_VENDOR_END) {
			p = vendor_data(img, e, &len);
			hex_bytes(p, len, hex, sizeof(hex));
			printf("      type %u len %u data: %s\n", (unsigned)e->type,
			       (unsigned)e->u.vendor.len, len ? hex : "(none)");
		}
		break;
	}
}

static void text_xen_notes(const struct fw_image *img);

int fw_inspect_text(const struct fw_image *img)
{
	char b1[16], b2[16];
	size_t i;
	uint32_t k;

	printf("file: %s\n", img->path);
	printf("ELF header:\n");
	printf("  class ELF%u, little-endian, machine %s (%u), type %s, entry 0x%llx, flags 0x%x\n",
	       img->elfclass, fw_elf_machine_name(img->machine, b1, sizeof(b1)),
	       (unsigned)img->machine, fw_elf_type_name(img->type, b2, sizeof(b2)),
	       (unsigned long long)img->entry, (unsigned)img->eflags);

	printf("Program headers: %zu\n", img->phnum);
	if (img->phnum != 0)
		printf("  %-3s %-12s %-10s %-18s %-18s %-10s %-10s %s\n", "#",
		       "type", "offset", "vaddr", "paddr", "filesz", "memsz", "flags");
	for (i = 0; i < img->phnum; i++) {
		const struct fw_segment *s = &img->seg[i];
		char fl[4];

		seg_flags(s->flags, fl);
		printf("  %-3zu %-12s 0x%08llx 0x%016llx 0x%016llx 0x%08llx 0x%08llx %s\n",
		       i, fw_seg_type_name(s->type, b1, sizeof(b1)),
		       (unsigned long long)s->offset, (unsigned long long)s->vaddr,
		       (unsigned long long)s->paddr, (unsigned long long)s->filesz,
		       (unsigned long long)s->memsz, fl);
	}

	text_xen_notes(img);
	printf("Resource table: section %zu .resource_table, file offset 0x%llx, size 0x%llx, addr 0x%llx\n",
	       img->rsc_index, (unsigned long long)img->rsc_offset,
	       (unsigned long long)img->rsc_size, (unsigned long long)img->rsc_addr);
	printf("  ver %u, %u entries (offsets below: in the table, and in the file)\n",
	       (unsigned)img->rsc.ver, (unsigned)img->rsc.num);
	for (k = 0; k < img->rsc.num && k < XA_RSC_MAX_ENTRIES; k++)
		text_entry(img, k);

	printf("Link parameters (from vdev entry %d):\n", img->vdev);
	printf("  buf-count %u (vring num), buf-size %u (%s), min region %u pages of 4 KiB\n",
	       (unsigned)img->link.buf_count, (unsigned)img->link.buf_size,
	       img->buf_size_source, (unsigned)img->link.max_pages);
	printf("Domain:\n");
	printf("  memory %u MiB (carveouts 0x%llx bytes, rounded up to MiB, minimum %u)\n",
	       (unsigned)img->memory_mib, (unsigned long long)img->carveout_bytes,
	       XLD_MIN_MEMORY_MIB);
	return fflush(stdout) == 0 && !ferror(stdout) ? XLD_EXIT_OK : XLD_EXIT_IO;
}

/* ------------------------------------------------------------------ */
/* JSON                                                                */

static void jset(json_object *o, const char *k, json_object *v)
{
	json_object_object_add(o, k, v);
}

static void jstr(json_object *o, const char *k, const char *v)
{
	jset(o, k, json_object_new_string(v));
}

static void ju64(json_object *o, const char *k, uint64_t v)
{
	jset(o, k, json_object_new_uint64(v));
}

static void jhex(json_object *o, const char *k, const uint8_t *p, uint64_t len)
{
	char hex[HEX_MAX * 3 + 8];

	hex_bytes(p, len, hex, sizeof(hex));
	jstr(o, k, hex);
}

/* ------------------------------------------------------------------ */
/* Xen ELF notes                                                       */

/* The value as text: a quoted printable string, a number (descriptors of
 * 1, 2, 4 or 8 bytes) or hex bytes. */
static void xen_note_value(const struct xld_xen_note *x, char *out, size_t outlen,
			   bool *is_num, uint64_t *num)
{
	*is_num = false;
	if (xld_xen_note_is_string(x->type)) {
		size_t w = 0;

		for (uint32_t i = 0; i < x->len && x->desc[i] != '\0' && w + 2 < outlen && i < 64; i++)
			out[w++] = (x->desc[i] >= 0x20 && x->desc[i] < 0x7f) ? (char)x->desc[i] : '?';
		out[w] = '\0';
		return;
	}
	if (xld_xen_note_num(x, num)) {
		*is_num = true;
		snprintf(out, outlen, "0x%llx", (unsigned long long)*num);
		return;
	}
	hex_bytes(x->desc, x->len, out, outlen);
}

/* "PV", "PVH", "PV or PVH"; NULL: not bootable. */
static const char *bootable_as(unsigned m)
{
	return m == (XLD_GUEST_PV | XLD_GUEST_PVH) ? "PV or PVH"
	     : m == XLD_GUEST_PV ? "PV" : m == XLD_GUEST_PVH ? "PVH" : NULL;
}

static void text_xen_notes(const struct fw_image *img)
{
	const struct xld_xen_notes *x = &img->xen;
	const struct xld_xen_boot *b = &img->xboot;
	const char *as = bootable_as(b->bootable);
	char v[HEX_MAX * 3 + 8];
	bool is_num;
	uint64_t num;

	if (as != NULL)
		printf("Xen ELF notes: %zu (boots as a %s guest)\n", x->n, as);
	else
		printf("Xen ELF notes: %zu (not a bootable Xen image)\n", x->n);
	for (size_t i = 0; i < x->n; i++) {
		xen_note_value(&x->note[i], v, sizeof(v), &is_num, &num);
		printf(xld_xen_note_is_string(x->note[i].type) ? "  %-18s \"%s\"\n" : "  %-18s %s\n",
		       xld_xen_note_name(x->note[i].type), v);
	}
	if (x->dropped != 0)
		printf("  (%zu more Xen notes not shown)\n", x->dropped);
	if (b->why_pv[0] != '\0')
		printf("  not PV: %s\n", b->why_pv);
	if (b->why_pvh[0] != '\0')
		printf("  not PVH: %s\n", b->why_pvh);
}

static json_object *json_xen_notes(const struct fw_image *img, json_object *root)
{
	const struct xld_xen_notes *x = &img->xen;
	const struct xld_xen_boot *b = &img->xboot;
	json_object *arr = json_object_new_array();
	json_object *as = json_object_new_array();
	char v[HEX_MAX * 3 + 8];
	bool is_num;
	uint64_t num;

	for (size_t i = 0; i < x->n; i++) {
		json_object *o = json_object_new_object();

		xen_note_value(&x->note[i], v, sizeof(v), &is_num, &num);
		jstr(o, "type", xld_xen_note_name(x->note[i].type));
		ju64(o, "type_id", x->note[i].type);
		if (is_num)
			ju64(o, "value", num);
		else
			jstr(o, "value", v);
		json_object_array_add(arr, o);
	}
	/* xen_guest: the type --xl/--libvirt boot it as on a host that runs
	 * both (PV when the image can be PV, xld_guest_choose()) */
	jset(root, "xen_guest", b->bootable ? json_object_new_string(
		     xld_guest_name(b->bootable & XLD_GUEST_PV ? XLD_GUEST_PV : XLD_GUEST_PVH)) : NULL);
	if (b->bootable & XLD_GUEST_PV)
		json_object_array_add(as, json_object_new_string("pv"));
	if (b->bootable & XLD_GUEST_PVH)
		json_object_array_add(as, json_object_new_string("pvh"));
	jset(root, "xen_bootable", as);
	jset(root, "xen_not_pv", b->why_pv[0] ? json_object_new_string(b->why_pv) : NULL);
	jset(root, "xen_not_pvh", b->why_pvh[0] ? json_object_new_string(b->why_pvh) : NULL);
	return arr;
}

static json_object *json_entry(const struct fw_image *img, uint32_t i)
{
	const struct xa_rsc_entry *e = &img->rsc.entry[i];
	json_object *o = json_object_new_object();
	char name[33];
	uint64_t len;
	const uint8_t *p;
	unsigned k;

	ju64(o, "index", i);
	jstr(o, "type", xa_rsc_type_name(e->type));
	ju64(o, "type_id", e->type);
	ju64(o, "offset", e->offset);
	ju64(o, "file_offset", img->rsc_offset + e->offset);
	ju64(o, "size", e->size);
	switch (e->type) {
	case RSC_CARVEOUT:
	case RSC_DEVMEM:
		clean_name(e->u.mem.name, name);
		ju64(o, "da", e->u.mem.da);
		ju64(o, "pa", e->u.mem.pa);
		ju64(o, "len", e->u.mem.len);
		ju64(o, "flags", e->u.mem.flags);
		jstr(o, "name", name);
		break;
	case RSC_TRACE:
		clean_name(e->u.trace.name, name);
		ju64(o, "da", e->u.trace.da);
		ju64(o, "len", e->u.trace.len);
		jstr(o, "name", name);
		break;
	case RSC_VDEV: {
		json_object *vr = json_object_new_array();
		json_object *feat = json_object_new_array();

		ju64(o, "id", e->u.vdev.id);
		jset(o, "rpmsg", json_object_new_boolean(e->u.vdev.id == XA_VIRTIO_ID_RPMSG));
		ju64(o, "notifyid", e->u.vdev.notifyid);
		ju64(o, "dfeatures", e->u.vdev.dfeatures);
		ju64(o, "gfeatures", e->u.vdev.gfeatures);
		if (e->u.vdev.dfeatures & (1u << XA_VIRTIO_RPMSG_F_NS))
			json_object_array_add(feat, json_object_new_string("VIRTIO_RPMSG_F_NS"));
		jset(o, "features", feat);
		ju64(o, "status", e->u.vdev.status);
		ju64(o, "config_len", e->u.vdev.config_len);
		ju64(o, "config_offset", e->u.vdev.config_off);
		jhex(o, "config", vdev_config(img, e), e->u.vdev.config_len);
		ju64(o, "num_of_vrings", e->u.vdev.num_of_vrings);
		for (k = 0; k < e->u.vdev.num_of_vrings && k < XA_RSC_MAX_VRINGS; k++) {
			json_object *r = json_object_new_object();

			ju64(r, "index", k);
			ju64(r, "da", e->u.vdev.vring[k].da);
			ju64(r, "align", e->u.vdev.vring[k].align);
			ju64(r, "num", e->u.vdev.vring[k].num);
			ju64(r, "notifyid", e->u.vdev.vring[k].notifyid);
			json_object_array_add(vr, r);
		}
		jset(o, "vrings", vr);
		break;
	}
	default:
		if (e->type >= RSC_VENDOR_START && e->type < RSC_VENDOR_END) {
			p = vendor_data(img, e, &len);
			ju64(o, "len", e->u.vendor.len);
			jhex(o, "data", p, len);
		}
		break;
	}
	return o;
}

int fw_inspect_json(const struct fw_image *img)
{
	json_object *root = json_object_new_object();
	json_object *elf = json_object_new_object();
	json_object *segs = json_object_new_array();
	json_object *rsc = json_object_new_object();
	json_object *ents = json_object_new_array();
	json_object *link = json_object_new_object();
	json_object *dom = json_object_new_object();
	char b1[16], cls[8];
	size_t i;
	uint32_t k;
	int rc;

	jstr(root, "file", img->path);

	snprintf(cls, sizeof(cls), "ELF%u", img->elfclass);
	jstr(elf, "class", cls);
	jstr(elf, "endianness", "little");
	jstr(elf, "machine", fw_elf_machine_name(img->machine, b1, sizeof(b1)));
	ju64(elf, "machine_id", img->machine);
	jstr(elf, "type", fw_elf_type_name(img->type, b1, sizeof(b1)));
	ju64(elf, "type_id", img->type);
	ju64(elf, "entry", img->entry);
	ju64(elf, "flags", img->eflags);
	jset(root, "elf", elf);

	for (i = 0; i < img->phnum; i++) {
		const struct fw_segment *s = &img->seg[i];
		json_object *o = json_object_new_object();
		char fl[4];

		seg_flags(s->flags, fl);
		ju64(o, "index", i);
		jstr(o, "type", fw_seg_type_name(s->type, b1, sizeof(b1)));
		ju64(o, "type_id", s->type);
		ju64(o, "offset", s->offset);
		ju64(o, "vaddr", s->vaddr);
		ju64(o, "paddr", s->paddr);
		ju64(o, "filesz", s->filesz);
		ju64(o, "memsz", s->memsz);
		ju64(o, "align", s->align);
		jstr(o, "flags", fl);
		ju64(o, "flags_raw", s->flags);
		json_object_array_add(segs, o);
	}
	jset(root, "segments", segs);
	jset(root, "xen_notes", json_xen_notes(img, root));

	jstr(rsc, "section", ".resource_table");
	ju64(rsc, "section_index", img->rsc_index);
	ju64(rsc, "offset", img->rsc_offset);
	ju64(rsc, "size", img->rsc_size);
	ju64(rsc, "addr", img->rsc_addr);
	ju64(rsc, "ver", img->rsc.ver);
	ju64(rsc, "num", img->rsc.num);
	for (k = 0; k < img->rsc.num && k < XA_RSC_MAX_ENTRIES; k++)
		json_object_array_add(ents, json_entry(img, k));
	jset(rsc, "entries", ents);
	jset(root, "resource_table", rsc);

	jset(link, "vdev_entry", json_object_new_int(img->vdev));
	ju64(link, "buf_count", img->link.buf_count);
	ju64(link, "buf_size", img->link.buf_size);
	jstr(link, "buf_size_source", img->buf_size_source);
	ju64(link, "min_region_pages", img->link.max_pages);
	jset(root, "link", link);

	ju64(dom, "carveout_bytes", img->carveout_bytes);
	ju64(dom, "memory_mib", img->memory_mib);
	jset(root, "domain", dom);

	printf("%s\n", json_object_to_json_string_ext(root,
		JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(root);
	rc = fflush(stdout) == 0 && !ferror(stdout) ? XLD_EXIT_OK : XLD_EXIT_IO;
	return rc;
}

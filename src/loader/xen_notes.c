/* Xen ELF notes of a firmware image and the guest type they allow
 * (contract in xen_notes.h). Every byte comes from an untrusted file. */
#include <config.h>

#include <elf.h>
#include <stdio.h>
#include <string.h>

#include "core/byteorder.h"
#include "xen_notes.h"

void xld_xen_notes_init(struct xld_xen_notes *x)
{
	memset(x, 0, sizeof(*x));
}

static uint64_t pad(uint64_t v, uint64_t a)
{
	return (v + a - 1) & ~(a - 1);
}

static void keep(struct xld_xen_notes *x, uint32_t type, const uint8_t *desc,
		 uint32_t len)
{
	if (x->n < XLD_XEN_NOTES_MAX)
		x->note[x->n++] = (struct xld_xen_note){ type, len, desc };
	else
		x->dropped++;
}

/* Invariant of the loop: off <= len. namesz and descsz are 32-bit and len
 * comes from a file of at most 512 MiB, so no sum below can overflow 64
 * bits; each range is compared with what is left of the segment. Padding
 * is relative to the segment start (gABI: 8-byte notes put the descriptor
 * of a 4-byte name at 16, not 20). */
bool xld_xen_notes_walk(struct xld_xen_notes *x, const uint8_t *p, uint64_t len,
			uint64_t base, uint64_t align)
{
	uint64_t a = align == 8 ? 8 : 4, off = 0;

	while (len - off >= 12) {
		uint64_t namesz = xa_get_le32(p + off);
		uint64_t descsz = xa_get_le32(p + off + 4);
		uint32_t type = xa_get_le32(p + off + 8);
		uint64_t name_off = off + 12, desc_off, end;

		if (namesz > len - name_off)
			goto bad;
		desc_off = pad(name_off + namesz, a);
		if (desc_off > len || descsz > len - desc_off)
			goto bad;
		end = pad(desc_off + descsz, a);
		if (namesz == 4 && memcmp(p + name_off, "Xen", 4) == 0)
			keep(x, type, p + desc_off, (uint32_t)descsz);
		if (end >= len)
			return true;   /* the last note may omit its padding */
		off = end;
	}
	return true;
bad:
	if (!x->bad) {
		x->bad = true;
		x->bad_off = base + off;
	}
	return false;
}

bool xld_xen_note_num(const struct xld_xen_note *n, uint64_t *v)
{
	if (n->len != 1 && n->len != 2 && n->len != 4 && n->len != 8)
		return false;
	*v = 0;
	for (uint32_t i = 0; i < n->len; i++)
		*v |= (uint64_t)n->desc[i] << (8 * i);
	return true;
}

const char *xld_xen_note_name(uint32_t type)
{
	static const char *const names[] = {
		"INFO", "ENTRY", "HYPERCALL_PAGE", "VIRT_BASE", "PADDR_OFFSET",
		"XEN_VERSION", "GUEST_OS", "GUEST_VERSION", "LOADER", "PAE_MODE",
		"FEATURES", "BSD_SYMTAB", "HV_START_LOW", "L1_MFN_VALID",
		"SUSPEND_CANCEL", "INIT_P2M", "MOD_START_PFN", "SUPPORTED_FEATURES",
		"PHYS32_ENTRY",
	};

	return type < sizeof(names) / sizeof(names[0]) ? names[type] : "unknown";
}

bool xld_xen_note_is_string(uint32_t type)
{
	return type >= XLD_XEN_XEN_VERSION && type <= XLD_XEN_BSD_SYMTAB;
}

/* The last note of a type (the domain builder keeps the last), or NULL. */
static const struct xld_xen_note *find(const struct xld_xen_notes *x, uint32_t type)
{
	const struct xld_xen_note *r = NULL;

	for (size_t i = 0; i < x->n; i++)
		if (x->note[i].type == type)
			r = &x->note[i];
	return r;
}

/* Does a string note start with prefix (the builder compares prefixes)? */
static bool str_prefix(const struct xld_xen_note *n, const char *prefix)
{
	size_t k = strlen(prefix);

	return n != NULL && n->len >= k && memcmp(n->desc, prefix, k) == 0;
}

/* A numeric note: absent (false, no reason), or its value; a bad size is
 * a reason in why. */
static bool num_note(const struct xld_xen_notes *x, uint32_t type, uint64_t *v,
		     char *why, size_t whylen)
{
	const struct xld_xen_note *n = find(x, type);

	if (n == NULL)
		return false;
	if (xld_xen_note_num(n, v))
		return true;
	if (*why == '\0')
		snprintf(why, whylen, "its %s note has %u bytes, not 1, 2, 4 or 8",
			 xld_xen_note_name(type), (unsigned)n->len);
	return false;
}

static void classify_pv(const struct xld_xen_notes *x, unsigned elfclass,
			uint16_t machine, struct xld_xen_boot *b)
{
	char *why = b->why_pv;
	size_t wl = sizeof(b->why_pv);
	if (machine != EM_X86_64 || elfclass != 64)
		snprintf(why, wl, "a PV guest is an ELF64 x86-64 image");
	else if (x->n == 0)
		snprintf(why, wl, "no Xen ELF notes");
	else if (!str_prefix(find(x, XLD_XEN_XEN_VERSION), "xen-3.0"))
		snprintf(why, wl, "no XEN_VERSION note \"xen-3.0\"");
	else if (!str_prefix(find(x, XLD_XEN_LOADER), "generic") &&
		 !str_prefix(find(x, XLD_XEN_GUEST_OS), "linux"))
		snprintf(why, wl, "neither LOADER \"generic\" nor GUEST_OS \"linux\"");
	else if (find(x, XLD_XEN_PADDR_OFFSET) != NULL && find(x, XLD_XEN_VIRT_BASE) == NULL)
		snprintf(why, wl, "PADDR_OFFSET without VIRT_BASE");
	else if (!b->has_entry && why[0] == '\0')
		snprintf(why, wl, "no XEN_ELFNOTE_ENTRY note");
}

void xld_xen_classify(const struct xld_xen_notes *x, unsigned elfclass,
		      uint16_t machine, struct xld_xen_boot *b)
{
	memset(b, 0, sizeof(*b));
	b->has_entry = num_note(x, XLD_XEN_ENTRY, &b->entry, b->why_pv, sizeof(b->why_pv));
	b->has_hypercall_page = num_note(x, XLD_XEN_HYPERCALL_PAGE, &b->hypercall_page,
					 b->why_pv, sizeof(b->why_pv));
	b->has_phys32 = num_note(x, XLD_XEN_PHYS32_ENTRY, &b->phys32_entry,
				 b->why_pvh, sizeof(b->why_pvh));
	if (x->bad) {
		snprintf(b->why_pv, sizeof(b->why_pv),
			 "the ELF note at file offset 0x%llx does not fit in its PT_NOTE segment",
			 (unsigned long long)x->bad_off);
		snprintf(b->why_pvh, sizeof(b->why_pvh), "%s", b->why_pv);
		return;
	}
	classify_pv(x, elfclass, machine, b);
	if (b->why_pv[0] == '\0')
		b->bootable |= XLD_GUEST_PV;
	if (machine != EM_X86_64 && machine != EM_386)
		snprintf(b->why_pvh, sizeof(b->why_pvh), "a PVH guest is an x86 image");
	else if (!b->has_phys32 && b->why_pvh[0] == '\0')
		snprintf(b->why_pvh, sizeof(b->why_pvh), "no XEN_ELFNOTE_PHYS32_ENTRY note");
	if (b->why_pvh[0] == '\0')
		b->bootable |= XLD_GUEST_PVH;
}

/* Is word one of the blank-separated words of s[0..len)? */
static bool has_word(const char *s, size_t len, const char *word)
{
	size_t k = strlen(word), i = 0;

	while (i < len) {
		size_t j;

		while (i < len && (s[i] == ' ' || s[i] == '\t'))
			i++;
		for (j = i; j < len && s[j] != ' ' && s[j] != '\t'; j++)
			;
		if (j - i == k && memcmp(s + i, word, k) == 0)
			return true;
		i = j;
	}
	return false;
}

int xld_host_caps_xl(const char *text)
{
	const char *p = text;

	while (p != NULL && *p != '\0') {
		const char *eol = strchr(p, '\n');
		size_t len = eol ? (size_t)(eol - p) : strlen(p);
		const char *colon = memchr(p, ':', len);

		if (len > 9 && memcmp(p, "virt_caps", 9) == 0 && colon != NULL) {
			const char *v = colon + 1;
			size_t vl = len - (size_t)(v - p);
			int m = 0;

			if (has_word(v, vl, "pv"))
				m |= XLD_GUEST_PV;
			if (has_word(v, vl, "hvm") &&
			    (has_word(v, vl, "hap") || has_word(v, vl, "shadow")))
				m |= XLD_GUEST_PVH;
			return m;
		}
		p = eol ? eol + 1 : NULL;
	}
	return -1;
}

int xld_host_caps_libvirt(const char *xml)
{
	int m = 0;

	if (strstr(xml, "<os_type>") == NULL)
		return -1;
	if (strstr(xml, "<os_type>xen</os_type>") != NULL)
		m |= XLD_GUEST_PV;
	if (strstr(xml, "<os_type>xenpvh</os_type>") != NULL)
		m |= XLD_GUEST_PVH;
	return m;
}

const char *xld_guest_name(unsigned guest)
{
	return guest == XLD_GUEST_PV ? "pv" : guest == XLD_GUEST_PVH ? "pvh" : "none";
}

unsigned xld_guest_choose(const struct xld_xen_boot *b, int host, char *why,
			  size_t whylen)
{
	unsigned can = b->bootable;

	if (can == 0 && strcmp(b->why_pv, b->why_pvh) == 0) {
		snprintf(why, whylen, "not a bootable Xen image: %s", b->why_pv);
		return 0;
	}
	if (can == 0) {
		snprintf(why, whylen, "not a bootable Xen image: not PV: %s; not PVH: %s",
			 b->why_pv, b->why_pvh);
		return 0;
	}
	if (host >= 0 && (can & (unsigned)host) == 0) {
		snprintf(why, whylen, "boots only as a %s guest, which this host does not run",
			 can == XLD_GUEST_PVH ? "PVH" : can == XLD_GUEST_PV ? "PV" : "PV or PVH");
		return 0;
	}
	if (host >= 0)
		can &= (unsigned)host;
	return (can & XLD_GUEST_PV) ? XLD_GUEST_PV : XLD_GUEST_PVH;
}

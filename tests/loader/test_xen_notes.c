/* Unit test: the Xen ELF note walker and the guest-type choice of
 * xenamp-load (src/loader/xen_notes.c), on crafted note segments: a good
 * PV set (the in-tree firmware's), PV + PVH (a Linux vmlinux), PVH only,
 * and hostile ones (truncated headers, names and descriptors, sizes near
 * 2^32, bad numeric sizes, too many notes). Each segment is malloc'd to
 * its exact length so that a sanitizer build catches a read past it.
 * Prints one line per case; exits 1 on any failure. */
#include <config.h>

#include <elf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xen_notes.h"

static int failed, passed;

#define CHECK(cond, ...)                                                  \
	do {                                                              \
		if (cond) {                                               \
			passed++;                                         \
		} else {                                                  \
			failed++;                                         \
			printf("FAIL %s:%d: ", __FILE__, __LINE__);       \
			printf(__VA_ARGS__);                              \
			printf("\n");                                     \
		}                                                         \
	} while (0)

/* A segment under construction. */
struct seg {
	uint8_t b[4096];
	size_t len;
};

static void put32(struct seg *s, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		s->b[s->len++] = (uint8_t)(v >> (8 * i));
}

static void put_bytes(struct seg *s, const void *p, size_t n, size_t align)
{
	memcpy(s->b + s->len, p, n);
	s->len += n;
	while (s->len % align)
		s->b[s->len++] = 0;
}

/* note NAME TYPE DESC/DLEN, 4-byte padded */
static void note(struct seg *s, const char *name, uint32_t type, const void *d, size_t dl)
{
	put32(s, (uint32_t)strlen(name) + 1);
	put32(s, (uint32_t)dl);
	put32(s, type);
	put_bytes(s, name, strlen(name) + 1, 4);
	put_bytes(s, d, dl, 4);
}

static void note_str(struct seg *s, uint32_t type, const char *v)
{
	note(s, "Xen", type, v, strlen(v) + 1);
}

static void note_u64(struct seg *s, uint32_t type, uint64_t v)
{
	uint8_t d[8];

	for (int i = 0; i < 8; i++)
		d[i] = (uint8_t)(v >> (8 * i));
	note(s, "Xen", type, d, 8);
}

/* The notes of src/firmware/runtime/start.S. */
static void pv_notes(struct seg *s)
{
	note_str(s, XLD_XEN_GUEST_OS, "xenamp-fw");
	note_str(s, XLD_XEN_GUEST_VERSION, "0.1");
	note_str(s, XLD_XEN_XEN_VERSION, "xen-3.0");
	note_str(s, XLD_XEN_LOADER, "generic");
	note_u64(s, XLD_XEN_VIRT_BASE, 0x200000);
	note_u64(s, XLD_XEN_PADDR_OFFSET, 0x200000);
	note_u64(s, XLD_XEN_ENTRY, 0x2011ee);
	note_u64(s, XLD_XEN_HYPERCALL_PAGE, 0x200000);
}

/* Walk s (copied to an exact-size heap block) and classify it. */
static bool walk(const struct seg *s, uint64_t base, unsigned cls, uint16_t mach,
		 struct xld_xen_notes *x, struct xld_xen_boot *b)
{
	uint8_t *p = malloc(s->len ? s->len : 1);
	bool ok;

	memcpy(p, s->b, s->len);
	xld_xen_notes_init(x);
	ok = xld_xen_notes_walk(x, p, s->len, base, 4);
	xld_xen_classify(x, cls, mach, b);
	free(p);   /* x's pointers are dead now: only counts and b are used */
	return ok;
}

static void test_good_pv(void)
{
	struct seg s = { .len = 0 };
	struct xld_xen_notes x;
	struct xld_xen_boot b;
	char why[400];

	note(&s, "GNU", 3, "\x01\x02\x03\x04\x05", 5);   /* build-id: skipped */
	pv_notes(&s);
	CHECK(walk(&s, 0x1000, 64, EM_X86_64, &x, &b), "good notes walked");
	CHECK(x.n == 8 && !x.bad, "8 Xen notes, got %zu (bad %d)", x.n, x.bad);
	CHECK(b.bootable == XLD_GUEST_PV, "PV only, got %u (pv: %s)", b.bootable, b.why_pv);
	CHECK(b.has_entry && b.entry == 0x2011ee, "ENTRY 0x2011ee");
	CHECK(b.has_hypercall_page && b.hypercall_page == 0x200000, "HYPERCALL_PAGE");
	CHECK(strstr(b.why_pvh, "PHYS32_ENTRY") != NULL, "why not PVH: %s", b.why_pvh);
	CHECK(xld_guest_choose(&b, -1, why, sizeof(why)) == XLD_GUEST_PV, "unknown host: pv");
	CHECK(xld_guest_choose(&b, XLD_GUEST_PV | XLD_GUEST_PVH, why, sizeof(why)) == XLD_GUEST_PV,
	      "host with HAP: still pv (the image has no PVH entry)");
	CHECK(xld_guest_choose(&b, XLD_GUEST_PVH, why, sizeof(why)) == 0 &&
	      strstr(why, "only as a PV guest") != NULL, "host without pv: %s", why);
	/* the same notes in a 32-bit or non-x86 image are no PV guest */
	xld_xen_classify(&(struct xld_xen_notes){ .n = 0 }, 64, EM_X86_64, &b);
	CHECK(b.bootable == 0 && strstr(b.why_pv, "no Xen ELF notes"), "no notes: %s", b.why_pv);
	walk(&s, 0, 32, EM_386, &x, &b);
	CHECK(b.bootable == 0 && strstr(b.why_pv, "ELF64 x86-64"), "ELF32: %s", b.why_pv);
	walk(&s, 0, 64, EM_AARCH64, &x, &b);
	CHECK(b.bootable == 0 && strstr(b.why_pvh, "x86"), "aarch64: %s", b.why_pvh);
	CHECK(xld_guest_choose(&b, -1, why, sizeof(why)) == 0 &&
	      strncmp(why, "not a bootable Xen image: not PV: a PV guest is an ELF64 x86-64 image; not PVH: a PVH guest is an x86 image", 200) == 0, "%s", why);
}

static void test_pv_and_pvh(void)
{
	struct seg s = { .len = 0 };
	struct xld_xen_notes x;
	struct xld_xen_boot b;
	uint8_t e32[4] = { 0x00, 0x10, 0x00, 0x01 };
	char why[400];

	/* a Linux vmlinux: GUEST_OS linux, no LOADER, and a PVH entry */
	note_str(&s, XLD_XEN_GUEST_OS, "linux");
	note_str(&s, XLD_XEN_XEN_VERSION, "xen-3.0");
	note_u64(&s, XLD_XEN_ENTRY, 0xffffffff82e3c1e0ull);
	note(&s, "Xen", XLD_XEN_PHYS32_ENTRY, e32, 4);
	walk(&s, 0, 64, EM_X86_64, &x, &b);
	CHECK(b.bootable == (XLD_GUEST_PV | XLD_GUEST_PVH), "PV and PVH, got %u: %s / %s",
	      b.bootable, b.why_pv, b.why_pvh);
	CHECK(b.phys32_entry == 0x01001000, "PHYS32_ENTRY 0x01001000");
	CHECK(xld_guest_choose(&b, -1, why, sizeof(why)) == XLD_GUEST_PV, "unknown host: pv");
	CHECK(xld_guest_choose(&b, XLD_GUEST_PV, why, sizeof(why)) == XLD_GUEST_PV,
	      "host without HAP: pv");
	CHECK(xld_guest_choose(&b, XLD_GUEST_PV | XLD_GUEST_PVH, why, sizeof(why)) == XLD_GUEST_PV,
	      "host with HAP: still pv, which needs no HAP");
	CHECK(xld_guest_choose(&b, XLD_GUEST_PVH, why, sizeof(why)) == XLD_GUEST_PVH,
	      "host without pv: pvh");
	CHECK(xld_guest_choose(&b, 0, why, sizeof(why)) == 0, "host with neither");
}

static void test_pvh_only(void)
{
	struct seg s = { .len = 0 };
	struct xld_xen_notes x;
	struct xld_xen_boot b;
	uint8_t e32[4] = { 0x00, 0x00, 0x10, 0x00 };
	char why[400];

	note(&s, "Xen", XLD_XEN_PHYS32_ENTRY, e32, 4);
	walk(&s, 0, 32, EM_386, &x, &b);
	CHECK(b.bootable == XLD_GUEST_PVH, "ELF32 i386 PVH: %u / %s", b.bootable, b.why_pvh);
	CHECK(xld_guest_choose(&b, XLD_GUEST_PV, why, sizeof(why)) == 0 &&
	      strcmp(why, "boots only as a PVH guest, which this host does not run") == 0,
	      "PVH on a host without HAP: %s", why);
	CHECK(xld_guest_choose(&b, -1, why, sizeof(why)) == XLD_GUEST_PVH, "unknown host: pvh");
}

/* PV rules of Xen's domain builder, each on its own. */
static void test_pv_rules(void)
{
	struct seg s;
	struct xld_xen_notes x;
	struct xld_xen_boot b;
	static const struct { const char *os, *ver, *loader; bool entry, paddr; const char *want; } c[] = {
		{ "xenamp-fw", "xen-3.0", "generic", true, false, "" },
		{ "linux-6.1", "xen-3.0", NULL, true, false, "" },
		{ "xenamp-fw", "xen-3.0", "elf", true, false, "neither LOADER" },
		{ "xenamp-fw", "xen-4.0", "generic", true, false, "XEN_VERSION" },
		{ "xenamp-fw", NULL, "generic", true, false, "XEN_VERSION" },
		{ "xenamp-fw", "xen-3.0", "generic", false, false, "no XEN_ELFNOTE_ENTRY" },
		{ "xenamp-fw", "xen-3.0", "generic", true, true, "PADDR_OFFSET without VIRT_BASE" },
	};

	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		s.len = 0;
		note_str(&s, XLD_XEN_GUEST_OS, c[i].os);
		if (c[i].ver)
			note_str(&s, XLD_XEN_XEN_VERSION, c[i].ver);
		if (c[i].loader)
			note_str(&s, XLD_XEN_LOADER, c[i].loader);
		if (c[i].entry)
			note_u64(&s, XLD_XEN_ENTRY, 0x1000);
		if (c[i].paddr)
			note_u64(&s, XLD_XEN_PADDR_OFFSET, 0);
		walk(&s, 0, 64, EM_X86_64, &x, &b);
		CHECK(c[i].want[0] ? strstr(b.why_pv, c[i].want) != NULL && b.bootable == 0
				   : b.bootable == XLD_GUEST_PV,
		      "rule %zu: want '%s', got %u '%s'", i, c[i].want, b.bootable, b.why_pv);
	}
	/* a numeric note of 3 bytes is refused, with its size named */
	s.len = 0;
	note_str(&s, XLD_XEN_XEN_VERSION, "xen-3.0");
	note_str(&s, XLD_XEN_LOADER, "generic");
	note(&s, "Xen", XLD_XEN_ENTRY, "\x01\x02\x03", 3);
	walk(&s, 0, 64, EM_X86_64, &x, &b);
	CHECK(b.bootable == 0 && strstr(b.why_pv, "ENTRY note has 3 bytes"), "%s", b.why_pv);
}

/* Hostile segments: every header field that can point out of the segment. */
static void test_hostile(void)
{
	struct seg good = { .len = 0 }, s;
	struct xld_xen_notes x;
	struct xld_xen_boot b;

	pv_notes(&good);
	/* every truncation of a good segment: never reads past it; a cut
	 * inside a note's name or descriptor is reported, at that note */
	for (size_t cut = 0; cut < good.len; cut++) {
		bool ok;

		s = good;
		s.len = cut;
		ok = walk(&s, 0x400, 64, EM_X86_64, &x, &b);
		CHECK(x.n <= 8 && (ok || (x.bad && x.bad_off >= 0x400 && x.bad_off < 0x400 + cut)),
		      "cut at %zu: n %zu ok %d bad_off 0x%llx", cut, x.n, ok,
		      (unsigned long long)x.bad_off);
		/* bootable needs ENTRY, the 7th note, whole */
		CHECK(b.bootable == 0 || x.n >= 7, "cut at %zu bootable with %zu notes", cut, x.n);
	}
	/* descsz 0xffffffff */
	s.len = 0;
	note_str(&s, XLD_XEN_LOADER, "generic");
	put32(&s, 4);
	put32(&s, 0xffffffffu);
	put32(&s, XLD_XEN_ENTRY);
	put_bytes(&s, "Xen", 4, 4);
	CHECK(!walk(&s, 0x100, 64, EM_X86_64, &x, &b) && x.bad && x.bad_off == 0x100 + 24 &&
	      x.n == 1, "descsz 2^32-1: bad at 0x%llx, n %zu", (unsigned long long)x.bad_off, x.n);
	CHECK(b.bootable == 0 && strstr(b.why_pv, "does not fit in its PT_NOTE segment") &&
	      strstr(b.why_pv, "0x118"), "%s", b.why_pv);
	/* namesz 0xfffffffd: pad() would wrap a 32-bit sum */
	s.len = 0;
	put32(&s, 0xfffffffdu);
	put32(&s, 0);
	put32(&s, 1);
	put_bytes(&s, "Xen", 4, 4);
	CHECK(!walk(&s, 0, 64, EM_X86_64, &x, &b) && x.bad && x.bad_off == 0, "namesz 2^32-3");
	/* name "Xen" without its NUL (namesz 3) is not a Xen note */
	s.len = 0;
	put32(&s, 3);
	put32(&s, 8);
	put32(&s, XLD_XEN_ENTRY);
	put_bytes(&s, "Xen", 3, 4);
	put_bytes(&s, "\0\0\0\0\0\0\0\0", 8, 4);
	CHECK(walk(&s, 0, 64, EM_X86_64, &x, &b) && x.n == 0, "namesz 3: %zu notes", x.n);
	/* trailing bytes shorter than a header are ignored */
	s = good;
	put_bytes(&s, "\x01\x02\x03\x04\x05\x06\x07", 7, 1);
	CHECK(walk(&s, 0, 64, EM_X86_64, &x, &b) && x.n == 8 && b.bootable == XLD_GUEST_PV,
	      "7 trailing bytes");
	/* more Xen notes than kept: counted, never written past note[] */
	s.len = 0;
	for (int i = 0; i < 100; i++)
		note_str(&s, XLD_XEN_GUEST_VERSION, "v");
	CHECK(walk(&s, 0, 64, EM_X86_64, &x, &b) && x.n == XLD_XEN_NOTES_MAX &&
	      x.dropped == 100 - XLD_XEN_NOTES_MAX, "100 notes: %zu kept, %zu dropped",
	      x.n, x.dropped);
}

/* 8-byte padded notes (p_align 8) */
static void test_align8(void)
{
	struct seg s = { .len = 0 };
	struct xld_xen_notes x;

	put32(&s, 4);
	put32(&s, 4);
	put32(&s, XLD_XEN_PHYS32_ENTRY);
	put_bytes(&s, "Xen", 4, 8);        /* 12 + 4, padded to 8: desc at 16 */
	put_bytes(&s, "\x00\x10\x00\x00", 4, 8);
	xld_xen_notes_init(&x);
	CHECK(xld_xen_notes_walk(&x, s.b, s.len, 0, 8) && x.n == 1 && x.note[0].len == 4 &&
	      x.note[0].desc == s.b + 16, "align 8: desc at 16");
}

static void test_host_caps(void)
{
	CHECK(xld_host_caps_xl("host : x\nvirt_caps              : pv hvm gnttab-v1 gnttab-v2\n") ==
	      XLD_GUEST_PV, "tests/xen's virt_caps: pv only");
	CHECK(xld_host_caps_xl("virt_caps : pv hvm hap shadow gnttab-v1\n") ==
	      (XLD_GUEST_PV | XLD_GUEST_PVH), "with hap: pv and pvh");
	CHECK(xld_host_caps_xl("virt_caps : hvm shadow\n") == XLD_GUEST_PVH, "no pv");
	CHECK(xld_host_caps_xl("virt_caps : hvm_directio pv_directio\n") == 0, "words, not prefixes");
	CHECK(xld_host_caps_xl("xen_caps : xen-3.0-x86_64\n") == -1, "no virt_caps line: unknown");
	CHECK(xld_host_caps_xl("") == -1, "empty: unknown");
	CHECK(xld_host_caps_libvirt("<guest><os_type>xen</os_type></guest><guest><os_type>hvm</os_type></guest>") ==
	      XLD_GUEST_PV, "libvirt: xen");
	CHECK(xld_host_caps_libvirt("<guest><os_type>xenpvh</os_type></guest>") == XLD_GUEST_PVH,
	      "libvirt: xenpvh");
	CHECK(xld_host_caps_libvirt("<guest><os_type>hvm</os_type></guest>") == 0, "libvirt: hvm only");
	CHECK(xld_host_caps_libvirt("<capabilities/>") == -1, "libvirt: no guests: unknown");
}

int main(void)
{
	test_good_pv();
	test_pv_and_pvh();
	test_pvh_only();
	test_pv_rules();
	test_hostile();
	test_align8();
	test_host_caps();
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}

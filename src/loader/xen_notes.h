/* xenamp-load: the Xen ELF notes of a firmware image, and the guest type
 * they make it bootable as. Pure: no I/O, no allocation; every function
 * here works on bytes and values handed in, so tests/loader/test_xen_notes
 * drives it with crafted, hostile input.
 *
 * Contract.
 *  - xld_xen_notes_walk() walks ONE PT_NOTE segment (its bytes, as read
 *    from the file, with their file offset). Every note header, and its
 *    padded name and descriptor, is checked against the segment before
 *    use; a note that does not fit stops the walk of that segment and is
 *    recorded (bad, bad_off). Notes named "Xen" are kept (type, length,
 *    a pointer to the descriptor inside the caller's bytes, which must
 *    outlive the struct); others (GNU build-id, ...) are skipped.
 *  - xld_xen_classify() says how Xen 4.17's domain builder would take the
 *    image: PV (the builder's rules for a 64-bit x86 PV guest: Xen notes
 *    with XEN_VERSION "xen-3.0", LOADER "generic" or GUEST_OS "linux...",
 *    an ENTRY note; VIRT_BASE when PADDR_OFFSET is given) and/or PVH
 *    (x86, a PHYS32_ENTRY note). Where it is not bootable one way, a
 *    one-phrase reason is left in why_pv / why_pvh.
 *  - xld_host_caps_xl() / xld_host_caps_libvirt() read what the host runs
 *    from `xl info` text / libvirt capabilities XML.
 *  - xld_guest_choose() picks the guest type for a boot. */
#ifndef XENAMP_LOADER_XEN_NOTES_H
#define XENAMP_LOADER_XEN_NOTES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Note types (Xen's public/elfnote.h). */
enum {
	XLD_XEN_ENTRY = 1,
	XLD_XEN_HYPERCALL_PAGE = 2,
	XLD_XEN_VIRT_BASE = 3,
	XLD_XEN_PADDR_OFFSET = 4,
	XLD_XEN_XEN_VERSION = 5,
	XLD_XEN_GUEST_OS = 6,
	XLD_XEN_GUEST_VERSION = 7,
	XLD_XEN_LOADER = 8,
	XLD_XEN_PAE_MODE = 9,
	XLD_XEN_FEATURES = 10,
	XLD_XEN_BSD_SYMTAB = 11,
	XLD_XEN_PHYS32_ENTRY = 18,
};

#define XLD_XEN_NOTES_MAX 32u

struct xld_xen_note {
	uint32_t type;
	uint32_t len;          /* descriptor bytes, all inside the segment */
	const uint8_t *desc;
};

struct xld_xen_notes {
	size_t n;              /* Xen notes kept in note[] */
	size_t dropped;        /* Xen notes beyond XLD_XEN_NOTES_MAX */
	bool bad;              /* some note did not fit in its segment */
	uint64_t bad_off;      /* file offset of the first such note */
	struct xld_xen_note note[XLD_XEN_NOTES_MAX];
};

/* Guest types, as a mask. */
enum { XLD_GUEST_PV = 1u, XLD_GUEST_PVH = 2u };

struct xld_xen_boot {
	unsigned bootable;     /* XLD_GUEST_* mask; 0: not a bootable Xen image */
	bool has_entry, has_hypercall_page, has_phys32;
	uint64_t entry, hypercall_page, phys32_entry;
	char why_pv[160];      /* "" when bootable as PV */
	char why_pvh[160];     /* "" when bootable as PVH */
};

void xld_xen_notes_init(struct xld_xen_notes *x);

/* Add the Xen notes of one PT_NOTE segment: len bytes at p, which lie at
 * file offset base; align is the segment's p_align (8: 8-byte padded
 * notes, anything else: 4). Returns false when a note did not fit. */
bool xld_xen_notes_walk(struct xld_xen_notes *x, const uint8_t *p, uint64_t len,
			uint64_t base, uint64_t align);

/* A numeric note (1, 2, 4 or 8 bytes, little-endian) into *v. */
bool xld_xen_note_num(const struct xld_xen_note *n, uint64_t *v);

/* Note type name ("ENTRY", ...; "unknown" past the table), and whether its
 * descriptor is a string. */
const char *xld_xen_note_name(uint32_t type);
bool xld_xen_note_is_string(uint32_t type);

/* elfclass 32 or 64, machine e_machine (EM_*). */
void xld_xen_classify(const struct xld_xen_notes *x, unsigned elfclass,
		      uint16_t machine, struct xld_xen_boot *b);

/* The guest types a host runs (XLD_GUEST_* mask), or -1 when the text
 * does not say. xl: the virt_caps line (PV: "pv"; PVH: "hvm" and "hap" or
 * "shadow"). libvirt: <os_type>xen</os_type> (PV), xenpvh (PVH). */
int xld_host_caps_xl(const char *xl_info);
int xld_host_caps_libvirt(const char *caps_xml);

/* The guest type to boot b as on a host running host (mask, or -1:
 * unknown, assumed to run what the image asks for): PV when the image and
 * the host both can, else PVH when both can. PV first, because it needs
 * neither HVM nor HAP, and because what a host claims for PVH is not
 * always what it runs (libvirt's libxl driver lists xenpvh on any host
 * with HVM, HAP or not). Returns XLD_GUEST_PV or XLD_GUEST_PVH, or 0 with
 * the reason in why. */
unsigned xld_guest_choose(const struct xld_xen_boot *b, int host, char *why,
			  size_t whylen);

/* "pv", "pvh" (for xl's type=), or "none". */
const char *xld_guest_name(unsigned guest);

#endif

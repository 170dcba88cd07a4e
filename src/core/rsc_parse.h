/* Resource table parsing and validation.
 *
 * The table comes from a partition or a firmware file and is hostile: the
 * parser copies every field into a private, decoded form, checks that the
 * header, the offset array and every entry lie inside the buffer, that
 * entries do not overlap each other or the header, and that each entry's
 * fields are consistent. On failure it fills a message naming the entry
 * and the field at fault. No allocation, no system calls. */
#ifndef XENAMP_CORE_RSC_PARSE_H
#define XENAMP_CORE_RSC_PARSE_H

#include <stddef.h>
#include <stdint.h>

#include "xa_error.h"

#define XA_RSC_MAX_ENTRIES 32u
#define XA_RSC_MAX_VRINGS  8u
#define XA_RSC_HDR_SIZE    16u     /* ver, num, reserved[2] */
#define XA_RSC_CARVEOUT_SIZE 56u
#define XA_RSC_DEVMEM_SIZE   56u
#define XA_RSC_TRACE_SIZE    48u
#define XA_RSC_VDEV_SIZE     28u   /* without vrings and config */
#define XA_RSC_VRING_SIZE    20u
#define XA_RSC_VENDOR_HDR_SIZE 8u
/* Byte offsets of the feature words in a vdev entry (fw_rsc_vdev). */
#define XA_RSC_VDEV_DFEATURES_OFF 12u
#define XA_RSC_VDEV_GFEATURES_OFF 16u

struct xa_rsc_vring {
	uint32_t da;
	uint32_t align;
	uint32_t num;
	uint32_t notifyid;
};

struct xa_rsc_entry {
	uint32_t type;
	uint32_t offset;   /* from the start of the table */
	uint32_t size;     /* bytes the entry occupies */
	union {
		struct {   /* RSC_CARVEOUT and RSC_DEVMEM */
			uint32_t da, pa, len, flags;
			char name[33];
		} mem;
		struct {
			uint32_t da, len;
			char name[33];
		} trace;
		struct {
			uint32_t id, notifyid, dfeatures, gfeatures, config_len;
			uint8_t status, num_of_vrings;
			struct xa_rsc_vring vring[XA_RSC_MAX_VRINGS];
			uint32_t config_off;   /* from the start of the table */
		} vdev;
		struct {
			uint32_t len;
		} vendor;
	} u;
};

struct xa_rsc_table {
	uint32_t ver;
	uint32_t num;
	struct xa_rsc_entry entry[XA_RSC_MAX_ENTRIES];
};

/* Where and why parsing failed. */
struct xa_rsc_error {
	uint32_t offset;   /* byte offset in the table of the faulty field */
	int entry;         /* entry index, or -1 for the table header */
	char msg[192];     /* e.g. "entry 1 (vdev) at 0x30: vring 1 num 3 is not a power of two" */
};

/* Parse len bytes at buf. Returns XA_OK or XA_ERR_RSC with *err filled
 * (err may be NULL). */
int xa_rsc_parse(const void *buf, size_t len, struct xa_rsc_table *out,
		 struct xa_rsc_error *err);

/* Find the single RPMsg vdev (id 7) and check it is usable as one: exactly
 * two vrings, each num a power of two in 1..32768, align a power of two
 * >= 4. Returns its index, or XA_ERR_RSC with *err filled (none, several,
 * not RPMsg, bad vrings). */
int xa_rsc_find_rpmsg_vdev(const struct xa_rsc_table *t,
			   struct xa_rsc_error *err);

/* "carveout", "devmem", "trace", "vdev", "vendor" or "unknown". */
const char *xa_rsc_type_name(uint32_t type);

#endif

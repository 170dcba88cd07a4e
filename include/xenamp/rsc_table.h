/* Resource table structures (remoteproc / OpenAMP layout, little-endian,
 * packed). Firmware embeds one of these in its `.resource_table` ELF
 * section; the first page of every xenamp shared region holds one that
 * describes the RPMsg vdev and its two vrings (addresses in `da` are
 * offsets from the start of the region). */
#ifndef XENAMP_RSC_TABLE_H
#define XENAMP_RSC_TABLE_H

#include <stdint.h>

#define RSC_CARVEOUT     0
#define RSC_DEVMEM       1
#define RSC_TRACE        2
#define RSC_VDEV         3
#define RSC_VENDOR_START 128
#define RSC_VENDOR_END   512   /* exclusive */

#define FW_RSC_U32_ADDR_ANY 0xFFFFFFFFu

#define XENAMP_PACKED __attribute__((packed))

struct resource_table {
	uint32_t ver;          /* 1 */
	uint32_t num;          /* number of entries */
	uint32_t reserved[2];
	uint32_t offset[];     /* byte offset of each entry from the table start */
} XENAMP_PACKED;

struct fw_rsc_hdr {
	uint32_t type;
	uint8_t data[];
} XENAMP_PACKED;

struct fw_rsc_carveout {
	uint32_t type;         /* RSC_CARVEOUT */
	uint32_t da;
	uint32_t pa;
	uint32_t len;
	uint32_t flags;
	uint32_t reserved;
	uint8_t name[32];
} XENAMP_PACKED;

struct fw_rsc_devmem {
	uint32_t type;         /* RSC_DEVMEM */
	uint32_t da;
	uint32_t pa;
	uint32_t len;
	uint32_t flags;
	uint32_t reserved;
	uint8_t name[32];
} XENAMP_PACKED;

struct fw_rsc_trace {
	uint32_t type;         /* RSC_TRACE */
	uint32_t da;
	uint32_t len;
	uint32_t reserved;
	uint8_t name[32];
} XENAMP_PACKED;

struct fw_rsc_vdev_vring {
	uint32_t da;
	uint32_t align;
	uint32_t num;
	uint32_t notifyid;
	uint32_t reserved;
} XENAMP_PACKED;

struct fw_rsc_vdev {
	uint32_t type;         /* RSC_VDEV */
	uint32_t id;           /* virtio device id: 7 for RPMsg */
	uint32_t notifyid;
	uint32_t dfeatures;
	uint32_t gfeatures;
	uint32_t config_len;
	uint8_t status;
	uint8_t num_of_vrings;
	uint8_t reserved[2];
	struct fw_rsc_vdev_vring vring[];
	/* followed by config_len bytes of config space */
} XENAMP_PACKED;

/* Vendor-specific entry (types RSC_VENDOR_START..RSC_VENDOR_END-1): len is
 * the size of the whole entry in bytes, this header included. */
struct fw_rsc_vendor {
	uint32_t type;
	uint32_t len;
	uint8_t data[];
} XENAMP_PACKED;

#endif

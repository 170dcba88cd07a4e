/* Resource table of a firmware image, in the ELF section that
 * `xenamp-load --inspect` and `xenamp-load --xl` read from the file
 * (".resource_table", OpenAMP / remoteproc layout of <xenamp/rsc_table.h>).
 *
 *     #include <xenamp/fw_rsc_table.h>
 *     XENAMP_FW_RSC_TABLE_RPMSG(256);
 *
 * in one file of the firmware defines the table with one entry: the
 * RPMsg virtio device (id 7) offering the name service (feature bit 0),
 * with two vrings of `nbufs` buffers each (vring 0: the driver's RX, vring
 * 1: its TX), addresses left to the loader (FW_RSC_U32_ADDR_ANY).
 * xenamp-load takes the link's buf-count from `nbufs` (a power of two,
 * at most 256, the FW_RPMSG_MAX_BUFS of the firmware's RPMsg device;
 * checked at compile time). The buffer size is the link's (xenamp.conf,
 * or xenamp-load --buf-size).
 *
 * The firmware itself never reads the table: its RPMsg device lays its
 * region out from what the backend offers (docs/firmware.md). The table
 * tells the loader what the image expects. */
#ifndef XENAMP_FW_RSC_TABLE_H
#define XENAMP_FW_RSC_TABLE_H

#include <stddef.h>
#include <stdint.h>

#include <xenamp/rsc_table.h>

#define XENAMP_FW_VIRTIO_ID_RPMSG 7u
#define XENAMP_FW_RPMSG_F_NS      (1u << 0)

/* The table: header, one offset, the vdev entry and its two vrings. */
struct xenamp_fw_rsc_table_rpmsg {
	struct resource_table hdr;
	uint32_t offset[1];
	struct fw_rsc_vdev vdev;
	struct fw_rsc_vdev_vring vring[2];
} XENAMP_PACKED;

/* An initialiser for the table above with `nbufs` buffers per vring. */
#define XENAMP_FW_RSC_TABLE_RPMSG_INIT(nbufs) { \
	.hdr = { .ver = 1, .num = 1 }, \
	.offset = { offsetof(struct xenamp_fw_rsc_table_rpmsg, vdev) }, \
	.vdev = { .type = RSC_VDEV, .id = XENAMP_FW_VIRTIO_ID_RPMSG, \
		  .dfeatures = XENAMP_FW_RPMSG_F_NS, .num_of_vrings = 2 }, \
	.vring = { \
		{ .da = FW_RSC_U32_ADDR_ANY, .align = 4096, .num = (nbufs), .notifyid = 0 }, \
		{ .da = FW_RSC_U32_ADDR_ANY, .align = 4096, .num = (nbufs), .notifyid = 1 }, \
	}, \
}

/* Define the image's table, named xenamp_fw_resource_table, in the
 * .resource_table section (kept by the linker script even though
 * nothing refers to it). One per image. */
#define XENAMP_FW_RSC_TABLE_RPMSG(nbufs) \
	_Static_assert((nbufs) > 0 && ((nbufs) & ((nbufs) - 1)) == 0 && (nbufs) <= 256, \
		       "XENAMP_FW_RSC_TABLE_RPMSG: nbufs must be a power of two, 1..256"); \
	extern const struct xenamp_fw_rsc_table_rpmsg xenamp_fw_resource_table; \
	__attribute__((section(".resource_table"), used, aligned(8))) \
	const struct xenamp_fw_rsc_table_rpmsg xenamp_fw_resource_table = \
		XENAMP_FW_RSC_TABLE_RPMSG_INIT(nbufs)

#endif

/* xenamp-echo-fw: the echo service (xenamp-echo-server.c, linked in
 * unchanged) built as AMP "firmware": a program that carries an OpenAMP
 * resource table in its .resource_table ELF section, the way a firmware
 * image for a remote core does. xenamp-load reads the table from the ELF
 * file (--inspect) and derives the RPMsg link from its vdev; --local runs
 * the program as a local partition of xenamp-backend.
 *
 * The table is never read at run time: libxenamp lays out its own region
 * with the same vring size (buf-count), which the backend checks. It is
 * only there, in the file, for the loader -- hence `used`, so neither the
 * compiler nor the linker drops it. */
#include <stddef.h>
#include <stdint.h>

#include <xenamp/rsc_table.h>

#define ECHO_FW_NUM_ENTRIES 2
#define ECHO_FW_VRING_NUM 256       /* = buf-count of the link */
#define ECHO_FW_VRING_ALIGN 4096
#define ECHO_FW_CARVEOUT_LEN 0x100000 /* 1 MiB: buffers and vrings */
#define VIRTIO_ID_RPMSG 7
#define VIRTIO_RPMSG_F_NS 0         /* feature bit: name service */

struct echo_fw_rsc {
	struct resource_table hdr;
	uint32_t offset[ECHO_FW_NUM_ENTRIES];
	struct fw_rsc_carveout mem;
	struct fw_rsc_vdev vdev;
	struct fw_rsc_vdev_vring vring[2];
} XENAMP_PACKED;

/* One declaration, no definition elsewhere: -Wmissing-variable-declarations
 * style warnings stay quiet without making the symbol static-unused. */
extern const struct echo_fw_rsc xenamp_echo_fw_resource_table;

__attribute__((section(".resource_table"), used, aligned(8)))
const struct echo_fw_rsc xenamp_echo_fw_resource_table = {
	.hdr = { .ver = 1, .num = ECHO_FW_NUM_ENTRIES },
	.offset = {
		offsetof(struct echo_fw_rsc, mem),
		offsetof(struct echo_fw_rsc, vdev),
	},
	.mem = {
		.type = RSC_CARVEOUT,
		.da = FW_RSC_U32_ADDR_ANY,
		.pa = FW_RSC_U32_ADDR_ANY,
		.len = ECHO_FW_CARVEOUT_LEN,
		.name = "echo-fw-mem",
	},
	.vdev = {
		.type = RSC_VDEV,
		.id = VIRTIO_ID_RPMSG,
		.notifyid = 0,
		.dfeatures = 1u << VIRTIO_RPMSG_F_NS,
		.config_len = 0,
		.num_of_vrings = 2,
	},
	.vring = {
		{ .da = FW_RSC_U32_ADDR_ANY, .align = ECHO_FW_VRING_ALIGN,
		  .num = ECHO_FW_VRING_NUM, .notifyid = 1 },
		{ .da = FW_RSC_U32_ADDR_ANY, .align = ECHO_FW_VRING_ALIGN,
		  .num = ECHO_FW_VRING_NUM, .notifyid = 2 },
	},
};

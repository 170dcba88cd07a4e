/* One RPMsg device of a firmware domain: the xenbus frontend handshake of
 * docs/protocol.md ("Xenstore layout"), spoken exactly as the Linux-side
 * transport (src/frontend/transport/xen_fe.c) speaks it, and the virtio
 * driver side of the region (docs/protocol.md, "Shared region layout"),
 * on src/core/vring.c. The backend cannot tell this end from a Linux one.
 *
 * Storage is static and sized at build time: the region (at most
 * FW_RPMSG_MAX_PAGES pages) and the ring bookkeeping (at most
 * FW_RPMSG_MAX_BUFS buffers each way). A link whose parameters do not fit
 * is refused at open with one console line.
 *
 * Single-threaded, no interrupts: fw_rpmsg_poll() sleeps on the device's
 * event channel and the backend's xenstore state, delivers received
 * messages to the callback, and reclaims sent buffers. Messages carry
 * sequence number 0 (unsequenced, always accepted by libxenamp).
 *
 * Timeouts: open and a send that finds no free buffer wait at most the
 * time given, then print one console line and return -FW_ETIMEDOUT; the
 * caller retries or gives up (the examples crash, so on_crash applies). */
#ifndef XENAMP_FW_RPMSG_H
#define XENAMP_FW_RPMSG_H

#include <stdbool.h>
#include <stdint.h>

#include "core/vring.h"

#define FW_RPMSG_MAX_PAGES 80u   /* 320 KiB: a 256 x 512 link needs 71 */
#define FW_RPMSG_MAX_BUFS 256u

struct fw_rpmsg_dev {
	unsigned devno;
	unsigned domid;
	uint16_t be_domid;
	uint32_t port;                 /* our unbound port for the backend */
	char fe_dir[64];
	char be_dir[96];
	int be_state;
	bool connected;
	/* link parameters (from the backend) and the region's layout */
	uint32_t buf_size, buf_count, max_pages, stride;
	uint32_t vring_off[2], rx_off, tx_off, size, npages;
	uint8_t *base;
	uint32_t refs[FW_RPMSG_MAX_PAGES];
	struct xa_vq_driver rxq, txq;
	struct xa_vq_driver_slot rx_slots[FW_RPMSG_MAX_BUFS];
	struct xa_vq_driver_slot tx_slots[FW_RPMSG_MAX_BUFS];
	uint16_t tx_free[FW_RPMSG_MAX_BUFS];
	unsigned tx_nfree;
	uint64_t rx_msgs, tx_msgs;
};

/* Receive callback: one message, its payload valid until it returns. */
typedef void (*fw_rpmsg_cb)(struct fw_rpmsg_dev *d, uint32_t src, uint32_t dst,
			    const void *payload, uint32_t len, void *arg);

/* Wait up to timeout_ms for the backend to offer device devno, share the
 * region and wait until the backend accepted it (Connected). Only one
 * device per firmware (the region storage is a single static array). */
int fw_rpmsg_open(struct fw_rpmsg_dev *d, unsigned devno, uint32_t timeout_ms);
/* Largest payload of one message. */
uint32_t fw_rpmsg_payload_max(const struct fw_rpmsg_dev *d);
/* Send len bytes from src to dst; waits up to timeout_ms for a buffer. */
int fw_rpmsg_send(struct fw_rpmsg_dev *d, uint32_t src, uint32_t dst,
		  const void *data, uint32_t len, uint32_t timeout_ms);
/* Name-service announcement (create) of name at addr. */
int fw_rpmsg_announce(struct fw_rpmsg_dev *d, const char *name, uint32_t addr);
/* Deliver what arrived, sleeping up to timeout_ms for something to arrive.
 * Returns the messages delivered (0 on timeout), or -FW_EIO when the link
 * is gone (backend state below Connected, or a ring fault). */
int fw_rpmsg_poll(struct fw_rpmsg_dev *d, uint32_t timeout_ms, fw_rpmsg_cb cb, void *arg);

#endif

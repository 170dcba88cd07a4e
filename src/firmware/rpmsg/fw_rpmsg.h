/* The RPMsg device of a firmware domain: the portable RPMsg driver core
 * of libxenamp (src/frontend/core: vring driver side, TX/RX buffers,
 * endpoints, name service, sequence numbers) over a bare-metal Xen
 * environment (core/fe_env.h), reached through the xenbus frontend
 * handshake of docs/protocol.md ("Xenstore layout"), spoken exactly as the
 * Linux-side transport (src/frontend/transport/xen_fe.c) speaks it. The
 * backend cannot tell this end from a Linux one.
 *
 * The application uses the OpenAMP RPMsg API of <xenamp/rpmsg.h> on the
 * struct rpmsg_device that fw_rpmsg_open() returns (rpmsg_create_ept and
 * rpmsg_destroy_ept with the name service, rpmsg_send / trysend / sendto /
 * send_offchannel, the nocopy sends, hold / release of RX buffers), and
 * fw_rpmsg_poll() where OpenAMP applications call platform_poll():
 * received messages are handed to the endpoint callbacks from inside it.
 *
 * Storage is static and sized at build time: one device per firmware,
 * its region (at most FW_RPMSG_MAX_PAGES pages) and the ring bookkeeping
 * (at most FW_RPMSG_MAX_BUFS buffers each way). A link whose parameters do
 * not fit is refused at open with one console line.
 *
 * Single-threaded, no interrupts: only fw_rpmsg_poll() and a send that
 * waits for a TX buffer sleep (on the device's event channel and the
 * backend's xenstore state). A blocking send waits at most 15 s, as in
 * libxenamp, then fails with RPMSG_ERR_NO_BUFF.
 *
 * Timeouts and failures print one console line ("xenamp-fw: rpmsg: ...").
 *
 * Backend restart (docs/protocol.md): a backend that leaves Connected (a
 * restarted one rewrites the device, a stopped one removes it) loses the
 * link, not the region: the device waits up to FW_RPMSG_RECONNECT_MS for
 * a backend to offer it again, inside fw_rpmsg_poll() (within its
 * timeout) and inside a send that waits for a TX buffer, printing one
 * console line every FW_RPMSG_REPORT_MS; then it shares the same pages
 * with a fresh event channel, resumes the rings where they stand and
 * announces its endpoints again. Nothing is lost or delivered twice
 * (sequence numbers). A refusal (`error` node, final code), other link
 * parameters, or no backend within the window end the link; so does a
 * corrupt ring: every later call fails with RPMSG_ERR_DEV_STATE. */
#ifndef XENAMP_FW_RPMSG_H
#define XENAMP_FW_RPMSG_H

#include <stdbool.h>
#include <stdint.h>

#include <xenamp/rpmsg.h>

#define FW_RPMSG_MAX_PAGES 80u   /* 320 KiB: a 256 x 512 link needs 71 */
#define FW_RPMSG_MAX_BUFS 256u
/* How long a lost link waits for a backend (libxenamp's reconnect_ms
 * default), and how often it says it still waits. */
#define FW_RPMSG_RECONNECT_MS 30000u
#define FW_RPMSG_REPORT_MS 5000u

/* Wait up to timeout_ms for the backend to offer device devno, share the
 * region and wait until the backend accepted it (Connected). 0 and *rdev,
 * or a negative FW_E* code (one console line said why). Only one device
 * per firmware, opened once. */
int fw_rpmsg_open(unsigned devno, uint32_t timeout_ms, struct rpmsg_device **rdev);
/* Deliver what arrived to the endpoint callbacks, sleeping up to
 * timeout_ms for something to arrive (or reconnecting a lost link).
 * Returns the messages delivered (0 on timeout, also while the link is
 * still being reconnected), or RPMSG_ERR_DEV_STATE when the link is gone
 * for good. */
int fw_rpmsg_poll(struct rpmsg_device *rdev, uint32_t timeout_ms);
/* The last error line of a failed rpmsg_* call (libxenamp's
 * xenamp_strerror_last). */
const char *fw_rpmsg_strerror_last(void);

#endif

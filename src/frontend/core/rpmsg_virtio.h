/* The virtio RPMsg device of libxenamp (driver role): the TX buffer pool,
 * delivery of the RX ring, kicks, and the sequence numbers that make
 * delivery exactly-once across a backend restart.
 *
 * Contract.
 *   - Below it: the shared region (region.c, ring shadows in struct
 *     xa_fe_region) and the environment (fe_env.h): kick the backend,
 *     consume transport events, wake or put to sleep the threads that
 *     wait, the lock, the condition variable and the clock. This file
 *     makes no OS call of its own.
 *   - Above it: the endpoint layer registers struct xa_fe_upper_ops; the
 *     device hands it each accepted RX message and never calls rpmsg.c
 *     (or the environment's session) by name.
 *   - Locking: every function here is called with the device lock held and returns
 *     with it held. *_locked functions never drop it; *_unlocking ones do
 *     (their comment says what the caller must look at again).
 *   - Failure: a ring the backend corrupted marks the device dead (with a
 *     reason) and writes nothing more to the region; every later call
 *     fails with RPMSG_ERR_DEV_STATE.
 *
 * TX buffer ownership (reg.tx_state[i]): FREE (in the free stack) ->
 * RESERVED (tx_get: handed to a sender or to the application for a
 * zero-copy send) -> INFLIGHT (tx_submit: in the TX ring, owned by the
 * backend) -> FREE (tx_reclaim, when the backend returns it). tx_put takes
 * a RESERVED buffer back to FREE.
 *
 * RX buffer ownership (reg.rx_refs[i]): 0 while posted in the RX ring;
 * otherwise the number of references (the running delivery + holds of the
 * application); the buffer is posted again when the last one goes.
 *
 * Sequence numbers (exactly once). The relay publishes the receiver's RX
 * used entry before it returns the sender's TX buffer, so a backend that
 * dies in between can only duplicate a message, never lose it: the new
 * backend relays it again. Duplicates are dropped here:
 *   - every message we send (data and name-service) carries a per-device
 *     32-bit sequence number in the RPMsg header's `reserved` field, +1
 *     per message in TX-ring order, skipping 0; the first is random
 *     (the environment seeds tx_seq), so a restarted peer instance starts
 *     somewhere unrelated to its predecessor;
 *   - 0 means unsequenced: messages the backend builds itself, and those
 *     of foreign peers (OpenAMP and Linux write 0 and ignore the field on
 *     receive), are always accepted;
 *   - the receiver keeps the last sequence number S it accepted from its
 *     peer end (one device = one link = one sending end) and drops a
 *     message with sequence number q when S - q (mod 2^32) < buf_count,
 *     i.e. q is S or one of the buf_count - 1 numbers before it. A
 *     duplicate always is: it was in the sender's TX ring (at most
 *     buf_count messages) when the backend died, and S is at most the
 *     newest the sender stamped. Anything else is new and accepted, which
 *     also takes a restarted peer's new random start (wrongly dropped only
 *     if that start falls in that window: probability buf_count / 2^32
 *     per peer restart).
 *
 * Notification suppression: TX completions do not interrupt us unless a
 * sender waits for a buffer (avail->flags NO_INTERRUPT on the TX ring
 * otherwise; with event indices, negotiated at open (region.c), the
 * waiting sender asks to be interrupted once half of the buffers in
 * flight are back: one wake-up per batch). RX interrupts are off while the RX ring is drained and on
 * again before the dispatcher sleeps (the environment re-checks the ring after
 * enabling). Kicks follow the return value of xa_vqdrv_publish(). */
#ifndef XENAMP_FRONTEND_CORE_RPMSG_VIRTIO_H
#define XENAMP_FRONTEND_CORE_RPMSG_VIRTIO_H

#include "frontend/core/fe_core.h"

/* What the device needs from the endpoint layer (rpmsg.c). */
struct xa_fe_upper_ops {
	/* The endpoint bound to local address addr, or NULL. */
	struct rpmsg_endpoint *(*ept_locked)(struct xa_fe_core *d, uint32_t addr);
	/* Hand one accepted message (h->len bytes at payload, in RX buffer
	 * that stays referenced until this returns) to e, found by
	 * ept_locked just before. May run application code without the
	 * lock: afterwards the device looks at d->dead again and touches no
	 * endpoint. */
	void (*deliver_unlocking)(struct xa_fe_core *d, struct rpmsg_endpoint *e,
				  const struct xa_rpmsg_hdr *h, uint8_t *payload);
};

/* Register the endpoint layer (at open, before sharing). */
void xa_fe_dev_set_upper_locked(struct xa_fe_core *d, const struct xa_fe_upper_ops *up);

/* The link is gone for good: remember why (first reason wins), wake every
 * sleeper. */
void xa_fe_mark_dead_locked(struct xa_fe_core *d, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Kick the backend unless the device is dead or lost (a new backend scans
 * the rings anyway). */
void xa_fe_kick_locked(struct xa_fe_core *d);
/* Consume transport events, reclaim returned TX buffers, wake whoever must
 * look (TX waiters; the dispatcher when the RX ring has work). */
void xa_fe_pump_locked(struct xa_fe_core *d);

/* --- TX --- */
/* Largest payload of one message (constant while the device exists). */
static inline uint32_t xa_fe_payload_max(const struct xa_fe_core *d)
{
	return d->reg.buf_size - XA_RPMSG_HDR_SIZE;
}

static inline uint8_t *xa_fe_tx_payload(const struct xa_fe_core *d, unsigned i)
{
	return xa_fe_tx_buf(&d->reg, i) + XA_RPMSG_HDR_SIZE;
}

/* Reserve a free TX buffer without waiting: 0 and *idx, RPMSG_ERR_NO_BUFF,
 * or RPMSG_ERR_DEV_STATE (with the error line set). */
int xa_fe_tx_get_locked(struct xa_fe_core *d, unsigned *idx);
/* The same, waiting up to 15 s for one (without limit while the backend
 * restarts). Sleeps without the lock: afterwards the caller must look
 * again at whatever it read before (endpoints may be gone, the device
 * lost, dead or closing); the buffer it got is its own. */
int xa_fe_tx_get_unlocking(struct xa_fe_core *d, unsigned *idx);
/* Put a RESERVED TX buffer back in the free stack. */
void xa_fe_tx_put_locked(struct xa_fe_core *d, unsigned idx);
/* Index of the RESERVED TX buffer whose payload starts at payload, or -1. */
int xa_fe_tx_reserved_index_locked(struct xa_fe_core *d, const void *payload);
/* Header (with the next sequence number) + queue + publish + kick of a
 * RESERVED buffer. 0, or an error and the buffer stays reserved. */
int xa_fe_tx_submit_locked(struct xa_fe_core *d, unsigned idx, uint32_t src,
			   uint32_t dst, uint32_t len);
/* The same in two steps, for a batch: queue (not visible to the backend
 * yet), then one publish (and kick, if the backend asked) for all. */
int xa_fe_tx_queue_locked(struct xa_fe_core *d, unsigned idx, uint32_t src,
			  uint32_t dst, uint32_t len);
void xa_fe_tx_publish_locked(struct xa_fe_core *d);
/* Wait, as long as the backend keeps taking messages, until it took every
 * data message in flight, not name-service ones (bounded; see
 * XA_FE_FLUSH_IDLE_MS). Sleeps without
 * the lock: afterwards the caller must look at d->dead and d->lost again. */
void xa_fe_tx_flush_unlocking(struct xa_fe_core *d);

/* --- RX --- */
/* Deliver up to budget messages of the RX ring (with RX interrupts off)
 * through the upper ops. Returns the number handed up. Drops the lock
 * while application code runs: afterwards the caller must look at
 * d->dead, d->lost and the RX ring again. */
int xa_fe_rx_deliver_unlocking(struct xa_fe_core *d, int budget);
/* Take one more reference to the RX buffer whose payload is at payload, if
 * it is out of the ring (being delivered or held); else nothing. */
void xa_fe_rx_hold_locked(struct xa_fe_core *d, const void *payload);
/* Drop one reference; the buffer goes back to the ring with the last. */
void xa_fe_rx_release_locked(struct xa_fe_core *d, const void *payload);

#endif

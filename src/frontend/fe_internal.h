/* libxenamp internals: the state of one RPMsg device and the region it
 * drives.
 *
 * Layers (each calls only the ones below it; the device reaches the layers
 * above only through the ops tables they register, rpmsg_virtio.h):
 *   session.c        xenamp_open/dispatch/close, reconnection, the
 *                    transport and the wake-up fds (POSIX)
 *   rpmsg.c          endpoints, the public rpmsg_* API, the name service
 *   rpmsg_virtio.c   the virtio RPMsg device: TX buffer pool, RX delivery,
 *                    kicks, sequence numbers (no POSIX calls)
 *   region.c, wake.c, fe_lock.c, fe_log.c, transport/: helpers below all.
 *
 * Two objects:
 *   - struct xa_fe_region: the shared region and every piece of driver
 *     state that describes it (ring shadows, buffer ownership). It stays
 *     valid across a change of transport connection, so that a later
 *     reconnection after a backend restart can re-share the same region.
 *   - struct xenamp_dev: the device the application sees: transport,
 *     region, endpoints, name service, lock, wake-up machinery.
 *
 * Locking: one lock (xenamp_dev.lk, fe_lock.h, which also states the
 * _locked / _unlocking naming rule) protects everything in both objects.
 * It is never held while an application callback runs. */
#ifndef XENAMP_FRONTEND_FE_INTERNAL_H
#define XENAMP_FRONTEND_FE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <xenamp/rpmsg.h>
#include <xenamp/xenamp.h>

#include "core/rpmsg_wire.h"
#include "core/vring.h"
#include "frontend/fe_lock.h"
#include "frontend/wake.h"
#include "common/link_params.h"
#include "common/xa_time.h"
#include "frontend/transport/fe_transport.h"

#define XA_FE_PAGE 4096u
#define XA_FE_VRING_ALIGN 4096u
#define XA_FE_RSC_VDEV_OFF 20u     /* vdev entry offset in the table */
#define XA_FE_STATUS_READY 0x07u   /* ACKNOWLEDGE | DRIVER | DRIVER_OK */
#define XA_FE_SEND_TIMEOUT_MS 15000
/* Close gives up flushing after this long without the backend taking a
 * data message. */
#define XA_FE_FLUSH_IDLE_MS 2000
#define XA_FE_ERRLEN 256
#define XA_EPT_F_ANNOUNCED 1u      /* rpmsg_endpoint.xa_flags */
#define XA_FE_RECONNECT_MS 30000

/* TX buffer ownership. */
enum {
	XA_TXB_FREE = 0,       /* in the free stack */
	XA_TXB_RESERVED = 1,   /* handed to the application (or being filled) */
	XA_TXB_INFLIGHT = 2,   /* in the TX ring, owned by the backend */
	/* The same, a name-service announcement: xenamp_close() does not
	 * wait for it (xa_fe_tx_flush_unlocking, rpmsg_virtio.c). */
	XA_TXB_INFLIGHT_NS = 3,
};

struct xa_fe_region {
	uint8_t *base;
	size_t size;
	uint32_t buf_size;      /* bytes per buffer, header included */
	uint32_t buf_count;     /* buffers per direction = vring num */
	uint32_t stride;        /* distance between two buffers */
	size_t vring_off[2];    /* 0: RX (device writes), 1: TX */
	size_t rx_off, tx_off;  /* first RX / TX buffer */
	struct xa_vq_driver rxq, txq;
	struct xa_vq_driver_slot *rx_slots, *tx_slots;
	uint32_t *rx_refs;      /* 0: posted in the RX ring; else references
				 * (the running dispatch + holds) */
	uint8_t *tx_state;      /* XA_TXB_* */
	uint16_t *tx_free;      /* stack of free TX buffer indices */
	unsigned tx_nfree;
	uint32_t offered;       /* feature bits offered in dfeatures */
};

/* Feature bits every backend honours without acknowledging them. */
#define XA_FE_BASE_FEATURES (1u << XA_VIRTIO_RPMSG_F_NS)

/* Compute the layout for the backend's parameters (checks them). */
int xa_fe_region_layout(struct xa_fe_region *r, const struct xa_link_params *p,
			char *err, size_t errlen);
/* Allocate the private bookkeeping (after layout). */
int xa_fe_region_alloc(struct xa_fe_region *r);
void xa_fe_region_free(struct xa_fe_region *r);
/* Lay out the zeroed shared memory at base: resource table (offering
 * the base features, and event indices when event_idx), both rings, all
 * RX buffers posted, TX interrupts suppressed, status DRIVER_OK. */
int xa_fe_region_init(struct xa_fe_region *r, void *base, bool event_idx);
/* Once the backend is Connected: use what it acknowledged in gfeatures
 * (read once; only bits we offered count) on both rings. Returns the
 * features in effect. */
uint32_t xa_fe_region_features_apply(struct xa_fe_region *r);
/* Before a (new) backend looks at the region: gfeatures back to the
 * base bits and both rings back to flags, so that a backend which does
 * not acknowledge anything (an older one) is driven with flags. */
void xa_fe_region_features_reset(struct xa_fe_region *r);

static inline uint8_t *xa_fe_rx_buf(const struct xa_fe_region *r, unsigned i)
{
	return r->base + r->rx_off + (size_t)i * r->stride;
}

static inline uint8_t *xa_fe_tx_buf(const struct xa_fe_region *r, unsigned i)
{
	return r->base + r->tx_off + (size_t)i * r->stride;
}

/* Index of the RX / TX buffer whose payload starts at p, or -1. */
int xa_fe_rx_index(const struct xa_fe_region *r, const void *payload);
int xa_fe_tx_index(const struct xa_fe_region *r, const void *payload);

/* Post RX buffer i again (not published). */
void xa_fe_rx_repost(struct xa_fe_region *r, unsigned i);

static inline void *xa_fe_token(unsigned i)
{
	return (void *)(uintptr_t)(i + 1u);
}

static inline unsigned xa_fe_token_index(void *tok)
{
	return (unsigned)((uintptr_t)tok - 1u);
}

/* ------------------------------------------------------------------ */

/* struct rpmsg_device is public (<xenamp/rpmsg.h>): xa_magic says it is
 * a live device of ours, xa_dev points back. */
#define XA_RDEV_MAGIC 0x78616d70u   /* "xamp" */

struct xa_fe_stats {
	uint64_t rx_msgs;         /* delivered to an endpoint callback */
	uint64_t rx_ns;           /* name-service messages handled */
	uint64_t rx_bad_hdr;      /* header failed xa_rpmsg_hdr_decode */
	uint64_t rx_unknown_dst;  /* no endpoint at the destination */
	uint64_t rx_bad_ns;       /* name-service payload rejected */
	uint64_t tx_msgs;
	uint64_t kicks;
	uint64_t calls;           /* consumes that found a backend notification */
	uint64_t rx_dup;          /* duplicates dropped (sequence number) */
	uint64_t reconnects;      /* backend restarts survived */
};

struct xa_fe_env_ops;
struct xa_fe_upper_ops;

/* One device. Every field is protected by lk; each group is written by
 * the layer named in its heading (others may read it under the lock). */
struct xenamp_dev {
	struct xa_fe_lock lk;       /* cond: TX buffer freed, callback done,
				     * dispatcher done, link lost */

	/* --- device (rpmsg_virtio.c) --- */
	struct xa_fe_region reg;
	const struct xa_fe_env_ops *env;     /* set by the session */
	const struct xa_fe_upper_ops *up;    /* set by the endpoint layer */
	/* Sequence numbers in the RPMsg header's `reserved` field (see
	 * rpmsg_virtio.h). */
	uint32_t tx_seq;                  /* last stamped; never 0 */
	uint32_t rx_seq;                  /* last accepted from the peer */
	bool rx_seq_valid;
	bool dead;                        /* the link is gone for good */
	char dead_why[XA_FE_ERRLEN];
	unsigned tx_waiters;              /* senders waiting for a TX buffer */
	bool tx_poller;                   /* one of them sleeps in poll() */
	struct xa_fe_stats stats;         /* counted by all layers */

	/* --- endpoints (rpmsg.c) --- */
	/* The public device: the endpoint list (ns_ept, address 0x35,
	 * first), the name-service callbacks, support_ns. */
	struct rpmsg_device rdev;
	struct xa_addr_bitmap addrs;
	struct rpmsg_endpoint *cb_ept;    /* endpoint whose callback runs */
	const void *cb_thread;            /* ... in this thread (xa_fe_self) */

	/* --- session (session.c) --- */
	struct xa_fe_transport *t;
	struct xa_link_params params;
	struct xa_fe_wake wake;
	char partition[64];
	unsigned devno;
	void *priv;
	bool debug;
	bool event_idx;                   /* offer VIRTIO_RING_F_EVENT_IDX */
	uint32_t features;                /* in effect with this backend */
	bool closing;                     /* xenamp_close runs */
	/* Backend restarts: while `lost`, the transport is not touched by
	 * anyone but the reconnect thread; the rings live on (the device
	 * reads `lost`: no kicks, senders wait). */
	bool lost;
	char lost_why[XA_FE_ERRLEN];
	int reconnect_ms;                 /* < 0: never */
	bool reconnect_running;           /* the thread exists (join it) */
	bool reconnect_done;              /* ... and has left its loop */
	bool reconnect_abort;             /* xenamp_close gives up waiting */
	pthread_t reconnect_thread;
	bool dispatching;
	const void *dispatcher;           /* xa_fe_self() of the dispatcher */
	bool rx_signalled;                /* wake.rx_efd is (may be) readable */
	/* Opt-in busy-poll (xenamp_opts.poll_us): active is set by every
	 * message sent or delivered and cleared by each poll, so the
	 * dispatcher polls once per burst of activity, never when idle. */
	uint64_t poll_ns;                 /* 0: never poll */
	bool active;
};

/* The lock-owner check at the top of every _locked function (fe_lock.h). */
#define assert_locked(d) xa_fe_lock_assert_held(&(d)->lk)

static inline struct xenamp_dev *xa_fe_dev(struct rpmsg_device *rdev)
{
	if (rdev == NULL || rdev->xa_magic != XA_RDEV_MAGIC)
		return NULL;
	return rdev->xa_dev;
}

/* fe_log.c: the thread's last error (xenamp_strerror_last) and debug lines
 * on stderr when XENAMP_DEBUG is set. Neither needs the lock. */
void xa_fe_set_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void xa_fe_dbg(const struct xenamp_dev *d, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* rpmsg.c, the endpoint layer, as the session uses it. */
/* Set up the name-service endpoint and register the endpoint layer's
 * callbacks with the device (before the device is shared). */
void xa_fe_epts_init_locked(struct xenamp_dev *d);
/* Unregister every endpoint, announcing the destruction of named ones
 * without waiting for TX buffers (best effort), and release them
 * (release_cb, without the lock: afterwards the caller must look at
 * d->dead and d->lost again). */
void xa_fe_epts_close_unlocking(struct xenamp_dev *d);
/* After a reconnection: announce again every named endpoint that was
 * announced. May sleep for TX buffers: afterwards the caller must look at
 * d->lost and d->dead again (the backend may have gone away meanwhile). */
void xa_fe_epts_reannounce_unlocking(struct xenamp_dev *d);

#endif

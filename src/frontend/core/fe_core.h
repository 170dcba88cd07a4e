/* The portable RPMsg driver core: the state of one RPMsg device (driver
 * side of the virtio RPMsg device, the region it drives, endpoints, name
 * service, sequence numbers), with no operating system in it. Compiled
 * into libxenamp and, freestanding, into the firmware runtime; what
 * differs per OS is the environment, core/fe_env.h.
 *
 * Layers (each calls only the ones below it and the environment; the
 * device reaches the endpoint layer only through the ops it registers,
 * rpmsg_virtio.h):
 *   rpmsg.c          endpoints, the public rpmsg_* API, the name service
 *   rpmsg_virtio.c   the virtio RPMsg device: TX buffer pool, RX delivery,
 *                    kicks, sequence numbers
 *   region.c         the layout of the shared region
 *
 * Two objects:
 *   - struct xa_fe_region: the shared region and every piece of driver
 *     state that describes it (ring shadows, buffer ownership). It stays
 *     valid across a change of transport connection, so that a later
 *     reconnection after a backend restart can re-share the same region.
 *   - struct xa_fe_core: the device the endpoint layer sees. An
 *     environment embeds it in its own device object (libxenamp: struct
 *     xenamp_dev, with the transport, lock and wake-up machinery).
 *
 * Locking: the environment's one device lock (fe_env.h, which also states
 * the _locked / _unlocking naming rule) protects every field here. It is
 * never held while an application callback runs. */
#ifndef XENAMP_FRONTEND_CORE_FE_CORE_H
#define XENAMP_FRONTEND_CORE_FE_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <xenamp/rpmsg.h>

#include "core/rpmsg_wire.h"
#include "core/vring.h"
#include "frontend/core/fe_env.h"

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

/* Compute the layout of d->reg for the backend's link parameters (buffer size with
 * header, buffers per direction, page cap; 0: none), checking them.
 * 0, or -1 with one line in err. */
int xa_fe_region_layout(struct xa_fe_core *d, uint32_t buf_size,
			uint32_t buf_count, uint32_t max_pages,
			char *err, size_t errlen);
/* The private bookkeeping of the region, buf_count entries each, supplied
 * by the environment (static storage or its allocator) after layout and
 * before init; it must stay valid as long as the region. */
struct xa_fe_region_storage {
	struct xa_vq_driver_slot *rx_slots, *tx_slots;
	uint32_t *rx_refs;
	uint8_t *tx_state;
	uint16_t *tx_free;
};
void xa_fe_region_attach(struct xa_fe_region *r, const struct xa_fe_region_storage *s);
/* Lay out the zeroed shared memory at base (r->size bytes): resource
 * table (offering the base features, and event indices when event_idx),
 * both rings, all RX buffers posted, TX interrupts suppressed, status
 * DRIVER_OK. 0, or -1 when the rings cannot be laid out. */
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

struct xa_fe_upper_ops;

/* One device. Every field is protected by the environment's lock; each
 * group is written by the layer named in its heading (others may read it
 * under the lock). */
struct xa_fe_core {
	/* --- set by the environment before xa_fe_epts_init_locked --- */
	const struct xa_fe_env_ops *env;
	bool debug;                       /* env->debug gets the core's lines */

	/* --- device (rpmsg_virtio.c) --- */
	struct xa_fe_region reg;
	const struct xa_fe_upper_ops *up;    /* set by the endpoint layer */
	/* Sequence numbers in the RPMsg header's `reserved` field (see
	 * rpmsg_virtio.h). */
	uint32_t tx_seq;                  /* last stamped; never 0 (the
					   * environment seeds it) */
	uint32_t rx_seq;                  /* last accepted from the peer */
	bool rx_seq_valid;
	bool dead;                        /* the link is gone for good */
	char dead_why[XA_FE_ERRLEN];
	unsigned tx_waiters;              /* senders waiting for a TX buffer */
	bool tx_poller;                   /* one of them sleeps in the env wait */
	struct xa_fe_stats stats;         /* counted by all layers */
	/* Set by every message sent or delivered; the environment may clear
	 * it (libxenamp's opt-in busy-poll). */
	bool active;

	/* --- set by the environment --- */
	/* The backend restarts: the transport is away, the rings live on
	 * (no kicks; senders wait without the 15 s limit). */
	bool lost;
	/* The device is being closed: no new endpoints. */
	bool closing;

	/* --- endpoints (rpmsg.c) --- */
	/* The public device: the endpoint list (ns_ept, address 0x35,
	 * first), the name-service callbacks, support_ns. */
	struct rpmsg_device rdev;
	struct xa_addr_bitmap addrs;
	struct rpmsg_endpoint *cb_ept;    /* endpoint whose callback runs */
	const void *cb_thread;            /* ... in this thread (env self) */
};

/* The environment's functions, as the core calls them. */
static inline void xa_fe_env_lock(struct xa_fe_core *d) { d->env->lock(d); }
static inline void xa_fe_env_unlock(struct xa_fe_core *d) { d->env->unlock(d); }
static inline bool xa_fe_env_cond_wait(struct xa_fe_core *d, uint64_t deadline_ns)
{
	return d->env->cond_wait(d, deadline_ns);
}
static inline void xa_fe_env_broadcast(struct xa_fe_core *d) { d->env->broadcast(d); }

/* The lock-owner check at the top of every _locked function. */
#define assert_locked(d) ((d)->env->assert_locked(d))

/* A debug line (only while d->debug; formatted by the environment). */
void xa_fe_dbg(struct xa_fe_core *d, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static inline struct xa_fe_core *xa_fe_dev(struct rpmsg_device *rdev)
{
	if (rdev == NULL || rdev->xa_magic != XA_RDEV_MAGIC)
		return NULL;
	return (struct xa_fe_core *)(void *)((char *)rdev -
					     offsetof(struct xa_fe_core, rdev));
}

/* Milliseconds from now until deadline_ns, rounded up, clamped to
 * 0..INT32_MAX (0 once it has passed). */
static inline int xa_fe_ms_until(const struct xa_fe_core *d, uint64_t deadline_ns)
{
	uint64_t now = d->env->now_ns(), ms;

	if (now >= deadline_ns)
		return 0;
	ms = (deadline_ns - now + 999999u) / 1000000u;
	return ms > INT32_MAX ? INT32_MAX : (int)ms;
}

static inline uint64_t xa_fe_deadline_after(const struct xa_fe_core *d, int ms)
{
	return d->env->now_ns() + (uint64_t)(ms > 0 ? ms : 0) * 1000000u;
}

/* rpmsg.c, the endpoint layer, as the environment uses it. */
/* Set up the name-service endpoint and register the endpoint layer's
 * callbacks with the device (before the device is shared). */
void xa_fe_epts_init_locked(struct xa_fe_core *d);
/* Unregister every endpoint, announcing the destruction of named ones
 * without waiting for TX buffers (best effort), and release them
 * (release_cb, without the lock: afterwards the caller must look at
 * d->dead and d->lost again). */
void xa_fe_epts_close_unlocking(struct xa_fe_core *d);
/* After a reconnection: announce again every named endpoint that was
 * announced. May sleep for TX buffers: afterwards the caller must look at
 * d->lost and d->dead again (the backend may have gone away meanwhile). */
void xa_fe_epts_reannounce_unlocking(struct xa_fe_core *d);

#endif

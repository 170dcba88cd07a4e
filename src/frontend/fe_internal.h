/* libxenamp internals: the virtio driver side of one RPMsg device.
 *
 * Two objects:
 *   - struct xa_fe_region: the shared region and every piece of driver
 *     state that describes it (ring shadows, buffer ownership). It stays
 *     valid across a change of transport connection, so that a later
 *     reconnection after a backend restart can re-share the same region.
 *   - struct xenamp_dev: the device the application sees: transport,
 *     region, endpoints, name service, lock, wake-up machinery.
 *
 * Locking: one pthread mutex (xenamp_dev.lock) protects everything in both
 * objects. It is never held while an application callback runs. */
#ifndef XENAMP_FRONTEND_FE_INTERNAL_H
#define XENAMP_FRONTEND_FE_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <xenamp/rpmsg.h>
#include <xenamp/xenamp.h>

#include "core/rpmsg_wire.h"
#include "core/vring.h"
#include "frontend/wake.h"
#include "common/link_params.h"
#include "common/xa_time.h"
#include "frontend/transport/fe_transport.h"

#define XA_FE_PAGE 4096u
#define XA_FE_VRING_ALIGN 4096u
#define XA_FE_RSC_VDEV_OFF 20u     /* vdev entry offset in the table */
#define XA_FE_STATUS_READY 0x07u   /* ACKNOWLEDGE | DRIVER | DRIVER_OK */
#define XA_FE_SEND_TIMEOUT_MS 15000
/* Close gives up flushing after this long without the backend taking a message. */
#define XA_FE_FLUSH_IDLE_MS 2000
#define XA_FE_ERRLEN 256
#define XA_EPT_F_ANNOUNCED 1u      /* rpmsg_endpoint.xa_flags */
#define XA_FE_RECONNECT_MS 30000

/* TX buffer ownership. */
enum {
	XA_TXB_FREE = 0,       /* in the free stack */
	XA_TXB_RESERVED = 1,   /* handed to the application (or being filled) */
	XA_TXB_INFLIGHT = 2,   /* in the TX ring, owned by the backend */
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
};

/* Compute the layout for the backend's parameters (checks them). */
int xa_fe_region_layout(struct xa_fe_region *r, const struct xa_link_params *p,
			char *err, size_t errlen);
/* Allocate the private bookkeeping (after layout). */
int xa_fe_region_alloc(struct xa_fe_region *r);
void xa_fe_region_free(struct xa_fe_region *r);
/* Lay out the zeroed shared memory at base: resource table, both rings,
 * all RX buffers posted, TX interrupts suppressed, status DRIVER_OK. */
int xa_fe_region_init(struct xa_fe_region *r, void *base);

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

#define XA_RDEV_MAGIC 0x78616d70u   /* "xamp" */

struct rpmsg_device {
	uint32_t magic;
	struct xenamp_dev *xdev;
};

struct xa_fe_stats {
	uint64_t rx_msgs;         /* delivered to an endpoint callback */
	uint64_t rx_ns;           /* name-service messages handled */
	uint64_t rx_bad_hdr;      /* header failed xa_rpmsg_hdr_decode */
	uint64_t rx_unknown_dst;  /* no endpoint at the destination */
	uint64_t rx_bad_ns;       /* name-service payload rejected */
	uint64_t tx_msgs;
	uint64_t kicks;
	uint64_t rx_dup;          /* duplicates dropped (sequence number) */
	uint64_t reconnects;      /* backend restarts survived */
};

struct xenamp_dev {
	struct rpmsg_device rdev;
	pthread_mutex_t lock;
	pthread_cond_t cond;        /* TX buffer freed, callback done,
				     * dispatcher done, link lost */
	struct xa_fe_transport *t;
	struct xa_link_params params;
	struct xa_fe_region reg;
	struct xa_fe_wake wake;
	char partition[64];
	unsigned devno;
	void *priv;
	rpmsg_ns_bind_cb ns_bind_cb;
	bool debug;

	struct rpmsg_endpoint ns_ept;     /* address 0x35, head of the list */
	struct rpmsg_endpoint *epts;      /* registered endpoints */
	struct xa_addr_bitmap addrs;

	/* Backend restarts (device.c): while `lost`, the transport is not
	 * touched by anyone but the reconnect thread; the rings live on. */
	bool lost;
	char lost_why[XA_FE_ERRLEN];
	int reconnect_ms;                 /* < 0: never */
	bool reconnect_running;           /* the thread exists (join it) */
	bool reconnect_done;              /* ... and has left its loop */
	bool reconnect_abort;             /* xenamp_close gives up waiting */
	pthread_t reconnect_thread;
	/* Sequence numbers in the RPMsg header's `reserved` field (see
	 * xa_fe_rx_seq_dup_locked in device.c). */
	uint32_t tx_seq;                  /* last stamped; never 0 */
	uint32_t rx_seq;                  /* last accepted from the peer */
	bool rx_seq_valid;

	bool dead;                        /* the link is gone for good */
	char dead_why[XA_FE_ERRLEN];
	bool closing;

	/* Wake-up bookkeeping (see device.c). */
	unsigned tx_waiters;              /* senders waiting for a TX buffer */
	bool tx_poller;                   /* one of them sleeps in poll() */
	bool dispatching;
	pthread_t dispatcher;
	struct rpmsg_endpoint *cb_ept;    /* endpoint whose callback runs */
	pthread_t cb_thread;

	struct xa_fe_stats stats;
};

static inline struct xenamp_dev *xa_fe_dev(struct rpmsg_device *rdev)
{
	if (rdev == NULL || rdev->magic != XA_RDEV_MAGIC)
		return NULL;
	return rdev->xdev;
}

/* device.c */
void xa_fe_set_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void xa_fe_mark_dead(struct xenamp_dev *d, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Consume transport events, reclaim TX buffers, wake whoever must look. */
void xa_fe_pump_locked(struct xenamp_dev *d);
/* Next sequence number to stamp into an outgoing header. */
uint32_t xa_fe_tx_seq_next_locked(struct xenamp_dev *d);
/* Wake senders waiting for a TX buffer. */
void xa_fe_wake_tx_locked(struct xenamp_dev *d);
void xa_fe_kick_locked(struct xenamp_dev *d);

/* rpmsg.c */
/* Reserve a TX buffer: 0 and *idx, RPMSG_ERR_NO_BUFF, RPMSG_ERR_DEV_STATE. */
int xa_fe_tx_get_locked(struct xenamp_dev *d, bool wait, unsigned *idx);
/* Put a reserved TX buffer back in the free stack. */
void xa_fe_tx_put_locked(struct xenamp_dev *d, unsigned idx);
/* Header + queue + publish + kick of a reserved buffer. 0 or an error
 * (the buffer stays reserved then). */
int xa_fe_tx_submit_locked(struct xenamp_dev *d, unsigned idx, uint32_t src,
			   uint32_t dst, uint32_t len);
unsigned xa_fe_tx_reclaim_locked(struct xenamp_dev *d);
/* Wait (bounded) until the backend took every TX message in flight. */
void xa_fe_tx_flush_locked(struct xenamp_dev *d);
struct rpmsg_endpoint *xa_fe_ept_by_addr(struct xenamp_dev *d, uint32_t addr);
void xa_fe_ept_unlink_locked(struct xenamp_dev *d, struct rpmsg_endpoint *ept);

#endif

/* xenamp-backend core: the ends, the links and the relay between them.
 *
 * The backend is the virtio device of every end. For each link it moves
 * every RPMsg message from one end's TX vring into a free RX buffer of the
 * other end, header untouched, and tracks the name service so that both
 * ends keep a true picture of each other's services across disconnects.
 *
 * Scheduling: an end is "ready" when something may be delivered into it
 * (its peer kicked, it kicked -- it may have posted RX buffers --, it or
 * its peer connected). xa_relay_round() serves each ready end once, at most
 * XA_RELAY_BUDGET messages, in FIFO order; an end that used its whole
 * budget goes to the back of the queue. The event loop polls without
 * sleeping while the queue is not empty and sleeps otherwise.
 *
 * Notification suppression (the ring flags are per ring, the kicks share
 * one eventfd/event channel per end):
 *   - a TX ring is armed (driver should kick) only when we found it empty;
 *     while we are draining it, or while its messages wait for the peer
 *     (back-pressure, peer absent), kicks for it would be useless;
 *   - an RX ring is armed only while a delivery waits for a free buffer.
 * Every arm re-checks the ring afterwards (enable_notify), so no kick is
 * lost between the check and the sleep.
 *
 * All reads of a region go through vring.h's checked segments; messages
 * are copied once into private memory, checked there, and written to the
 * peer from the private copy. */
#ifndef XENAMP_BACKEND_RELAY_H
#define XENAMP_BACKEND_RELAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backend/conf.h"
#include "core/rpmsg_wire.h"
#include "core/vring.h"
#include "platform/be_transport.h"

#define XA_RELAY_BUDGET 64u          /* messages per end per round */
#define XA_RELAY_MAX_TRANSPORTS 4u

struct xa_svc {
	char name[XA_RPMSG_NS_NAME_SIZE];
	uint32_t addr;
};

/* A name-service message the backend builds itself (replay, destroy). */
struct xa_inj {
	char name[XA_RPMSG_NS_NAME_SIZE];
	uint32_t addr;
	uint32_t flags;
};

struct xa_end_stats {
	uint64_t msgs_in, bytes_in;     /* taken from this end's TX ring */
	uint64_t msgs_out, bytes_out;   /* written into this end's RX ring */
	uint64_t backpressure;          /* times its TX stalled on the peer */
	uint64_t faults;                /* disconnects for hostile input */
	uint64_t connects;
	uint64_t ns_built;              /* backend-built NS messages delivered */
};

struct xa_link;

struct xa_end {
	struct xa_link *link;
	int side;                       /* 0: end-a, 1: end-b */
	const struct xa_cfg_end *cfg;

	/* the connection; t == NULL when absent */
	struct xa_be_transport *t;
	struct xa_be_end *h;
	int state;                      /* XA_STATE_CLOSED, _INITWAIT, _CONNECTED */
	char peer_desc[64];
	size_t region_size;
	struct xa_vq_device rx;         /* vring 0: we fill the driver's RX buffers */
	struct xa_vq_device tx;         /* vring 1: we read the driver's TX buffers */
	bool tx_armed, rx_armed;

	/* name service: this end's live services, and what the backend
	 * still has to tell this end about the peer's */
	struct xa_svc *svc;
	unsigned nsvc;
	struct xa_inj *inj;
	unsigned inj_head, inj_len, inj_cap;

	/* scheduling */
	bool queued;
	struct xa_end *qnext;
	bool need_notify;
	bool blocked;                   /* its TX waits for the peer's RX */

	struct xa_end_stats st;
	char last_fault[256];
};

struct xa_link {
	const struct xa_cfg_link *cfg;
	struct xa_end end[2];
	uint8_t *bounce;                /* private copy of the message in flight */
};

struct xa_relay {
	const struct xa_config *cfg;
	const char *config_path;
	const char *socket_path;
	long pid;
	struct xa_link *links;
	size_t nlinks;
	struct xa_end *qhead, *qtail;
	unsigned qlen;
	struct xa_be_transport *tr[XA_RELAY_MAX_TRANSPORTS];
	unsigned ntr;
};

int xa_relay_init(struct xa_relay *r, const struct xa_config *cfg,
		  char *err, size_t errlen);

/* Serve the ends of transport t (declares every configured end to it). */
int xa_relay_add_transport(struct xa_relay *r, struct xa_be_transport *t,
			   char *err, size_t errlen);

/* Handle at most max events of t. Returns the number handled, or a
 * negative errno when the transport failed. */
int xa_relay_pump(struct xa_relay *r, struct xa_be_transport *t,
		  unsigned max);

/* Is there relay work queued (then do not sleep)? */
bool xa_relay_busy(const struct xa_relay *r);

/* Serve every ready end once (see the top of this file). */
void xa_relay_round(struct xa_relay *r);

/* Tell every connected end the backend is closing, release them. */
void xa_relay_shutdown(struct xa_relay *r);

void xa_relay_free(struct xa_relay *r);

/* Answer a control request (ctl.c). Returns a malloc'd JSON text and its
 * length, or NULL when out of memory. */
char *xa_relay_ctl(struct xa_relay *r, const char *req, size_t len,
		   size_t *outlen);

/* "host:0" */
const char *xa_end_label(const struct xa_end *e, char *buf, size_t len);

#endif

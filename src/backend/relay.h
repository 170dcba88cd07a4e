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
 * Adaptive polling (docs/performance.md): a kick costs the partition a
 * system call and a cross-CPU wake-up of the backend, per message when the
 * backend keeps up with a sender. So after a round that moved messages the
 * loop does not sleep at once: for a short window (poll_ns) it keeps TX
 * rings that it found empty unarmed and looks at them itself between
 * non-blocking polls of its event fds, yielding the CPU each time it finds
 * nothing. The window adapts as KVM's halt polling does: it doubles (from
 * XA_RELAY_POLL_MIN_NS up to poll_max_ns) when a sleep turned out shorter
 * than the longest window, and halves (to 0: no polling) when a sleep was
 * longer. Idle, nothing moves, so nothing polls: the backend sleeps in
 * poll(-1) with every ring armed. $XENAMP_POLL_US sets poll_max_ns in
 * microseconds (0 turns polling off; default XA_RELAY_POLL_MAX_NS).
 *
 * All reads of a region go through vring.h's checked segments. Whatever
 * the backend interprets (the RPMsg header, name-service messages) is
 * copied once into private memory, checked there, and written to the peer
 * from the private copy; a data payload, which it does not interpret, is
 * copied once from the sender's buffer into the peer's. */
#ifndef XENAMP_BACKEND_RELAY_H
#define XENAMP_BACKEND_RELAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backend/conf.h"
#include "core/rpmsg_wire.h"
#include "core/vring.h"
#include "backend/transport/be_transport.h"

#define XA_RELAY_BUDGET 64u          /* messages per end per round */
#define XA_RELAY_MAX_TRANSPORTS 4u
#define XA_RELAY_POLL_MAX_NS 50000u  /* longest polling window, default */
#define XA_RELAY_POLL_MIN_NS 5000u   /* shortest non-zero window */

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
	unsigned live_pos;              /* 1 + index in relay.live; 0: not connected */
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
	uint8_t *bounce;                /* private copy: header, NS payload */
};

struct xa_relay {
	const struct xa_config *cfg;
	const char *config_path;
	const char *socket_path;
	long pid;
	struct xa_link *links;
	size_t nlinks;
	/* links[] has room for cfg->dynamic_links more, added at run time
	 * (links.c); it is never reallocated: ends are transport cookies.
	 * Their configurations live in dyn_cfg[i - cfg->nlinks]. */
	size_t links_cap;
	struct xa_cfg_link *dyn_cfg;
	struct xa_end *qhead, *qtail;
	unsigned qlen;
	struct xa_be_transport *tr[XA_RELAY_MAX_TRANSPORTS];
	unsigned ntr;

	/* The connected ends: what notification flushing and polling walk,
	 * so their cost follows the live links, not the configured ones. */
	struct xa_end **live;           /* room for 2 * links_cap */
	unsigned nlive;

	/* Adaptive polling (top of this file), times CLOCK_MONOTONIC ns. */
	uint64_t poll_max_ns;           /* 0: never poll */
	uint64_t poll_ns;               /* current window, 0..poll_max_ns */
	uint64_t last_work_ns;          /* end of the last round that moved */
	uint64_t sleep_ns;              /* when the loop went to sleep; 0 awake */
	uint64_t moved;                 /* messages relayed, all links */
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

/* The event loop's poll() timeout: 0 while there is relay work or the
 * polling window is open (then the polled rings have been looked at),
 * -1 to sleep (every ring armed first). See "Adaptive polling" above. */
int xa_relay_poll_timeout(struct xa_relay *r);

/* Tell every connected end the backend is closing, release them. */
void xa_relay_shutdown(struct xa_relay *r);

void xa_relay_free(struct xa_relay *r);

/* Answer a control request (ctl.c). Returns a malloc'd JSON text and its
 * length, or NULL when out of memory. */
char *xa_relay_ctl(struct xa_relay *r, const char *req, size_t len,
		   size_t *outlen);

/* Release e's connection, if any (why: told to the partition), and tell
 * the peer its services are gone: the end is Absent afterwards. */
void xa_relay_end_drop(struct xa_relay *r, struct xa_end *e, const char *why);

/* Dynamic links (links.c): the control request link-add and the libvirt
 * metadata. Add the link c, or accept it when the backend already has it.
 * An existing link with the same name, or one that holds c's end-b, is
 * "the same" when its ends, buf-size and buf-count are equal (*added =
 * false); a dynamic link whose ends are both Absent is updated to c
 * (*added = false, *updated = true). Anything else -- an end that belongs
 * to another link, a config link with other values, a connected dynamic
 * link, no room left (dynamic-links) -- fails with one line in err and
 * a negative errno. Either out pointer may be NULL. */
int xa_relay_link_add(struct xa_relay *r, const struct xa_cfg_link *c,
		      bool *added, bool *updated, const struct xa_link **out,
		      char *err, size_t errlen);

/* "PARTITION[:DEVNO]" into e (line 0). 0 or -EINVAL. */
int xa_relay_parse_end(const char *s, struct xa_cfg_end *e);

/* The end (partition, devno) of any link, or NULL. */
struct xa_end *xa_relay_find_end(struct xa_relay *r, const char *partition,
				 unsigned devno);

/* "host:0" */
const char *xa_end_label(const struct xa_end *e, char *buf, size_t len);

#endif

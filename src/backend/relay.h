/* xenamp-backend: the relay policy between the two ends of each link.
 * Layers (each includes only those below it): end_device.h (the rings of
 * one end), registry.h (links, ends, connections), this file (what moves
 * when), then ctl.h and main.c (control requests, the event loop).
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
#include "backend/registry.h"
#include "backend/transport/be_transport.h"

#define XA_RELAY_BUDGET 64u          /* messages per end per round */
#define XA_RELAY_POLL_MAX_NS 50000u  /* longest polling window, default */
#define XA_RELAY_POLL_MIN_NS 5000u   /* shortest non-zero window */

struct xa_relay {
	struct xa_registry reg;         /* the links and ends it serves */
	const char *config_path;        /* for messages and status */
	const char *socket_path;
	long pid;

	/* The ready queue (top of this file). */
	struct xa_end *qhead, *qtail;
	unsigned qlen;

	/* What the per-round and per-poll walks look at, so that their cost
	 * follows the ends that moved messages, never the links configured
	 * or connected (1,024 idle links cost nothing per message):
	 *   notify: the ends whose need_notify publish() set; emptied by
	 *     the flush at the end of every round;
	 *   polled: the ends served by deliver_into() (as receiver or as
	 *     sender) since their rings were last all armed. Every disarm
	 *     of a ring and every "blocked" happens there, for that S or R,
	 *     so an end not on it has its TX ring armed and, if blocked, its
	 *     peer's RX ring too; the scan drops an end once it finds it so.
	 * An end leaves both when its connection closes (end_closed). */
	struct xa_end *nhead, *phead;

	/* Adaptive polling (top of this file), times CLOCK_MONOTONIC ns. */
	uint64_t poll_max_ns;           /* 0: never poll */
	uint64_t poll_ns;               /* current window, 0..poll_max_ns */
	uint64_t last_work_ns;          /* end of the last round that moved */
	uint64_t sleep_ns;              /* when the loop went to sleep; 0 awake */
	uint64_t moved;                 /* messages relayed, all links */
	uint32_t features;              /* what xa_dev_attach may acknowledge */
};

/* The registry of cfg (which must outlive r) and an idle relay over it;
 * $XENAMP_POLL_US and $XENAMP_EVENT_IDX (0: do not acknowledge
 * VIRTIO_RING_F_EVENT_IDX) read here. 0, or -ENOMEM with err. */
int xa_relay_init(struct xa_relay *r, const struct xa_config *cfg,
		  char *err, size_t errlen);

/* Serve the ends of transport t (declares every known end to it). */
int xa_relay_add_transport(struct xa_relay *r, struct xa_be_transport *t,
			   char *err, size_t errlen);

/* One event of transport t that concerns an end (appeared, region
 * ready, kick, gone). Control requests are not the relay's: the caller
 * answers them (ctl.h). */
void xa_relay_event(struct xa_relay *r, struct xa_be_transport *t,
		    const struct xa_be_event *ev);

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

#endif

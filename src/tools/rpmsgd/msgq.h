/* A bounded FIFO of messages: the receive queue of one endpoint device of
 * xenamp-rpmsgd (docs/man/xenamp-rpmsgd.8, "Receive queue").
 *
 * Linux's rpmsg_char queues every received message (one skb each) without
 * a bound. The daemon must not let a peer that floods an endpoint nobody
 * reads grow its memory without end, so the queue holds at most `max`
 * messages; a message arriving at a full queue is dropped (the newest, so
 * that what a reader gets is still in order, with a gap at the end) and
 * counted in `drops`.
 *
 * Invariants: count <= max; head == NULL iff count == 0; tail is the last
 * node; bytes is the sum of the lengths queued. No locking: one thread
 * (the daemon's event loop) owns a queue. */
#ifndef XENAMP_RPMSGD_MSGQ_H
#define XENAMP_RPMSGD_MSGQ_H

#include <stddef.h>
#include <stdint.h>

struct rd_msg {
	struct rd_msg *next;
	size_t len;
	unsigned char data[];
};

struct rd_msgq {
	struct rd_msg *head, *tail;
	unsigned count, max;
	size_t bytes;
	uint64_t drops;
};

/* An empty queue that holds at most max messages (max >= 1). */
void rd_msgq_init(struct rd_msgq *q, unsigned max);

/* Append a copy of len bytes (len may be 0). 0, or -ENOBUFS when the
 * queue is full, -ENOMEM when the copy cannot be allocated; both count a
 * drop and leave the queue as it was. */
int rd_msgq_push(struct rd_msgq *q, const void *data, size_t len);

/* Take the oldest message (NULL when empty); the caller frees it. */
struct rd_msg *rd_msgq_pop(struct rd_msgq *q);

/* Drop every queued message (not counted as drops: the reader left). */
void rd_msgq_clear(struct rd_msgq *q);

#endif

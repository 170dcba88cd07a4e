/* libxenamp device set-up: open RPMsg device N of a partition, get the
 * OpenAMP-compatible struct rpmsg_device, wait and dispatch, close.
 *
 * The transport (local or xen) is chosen by xenamp_opts.transport, else
 * $XENAMP_TRANSPORT, else automatically. The partition name comes from the
 * argument, else $XENAMP_PARTITION. In local mode the backend socket is
 * xenamp_opts.socket_path, else $XENAMP_SOCKET, else
 * $XDG_RUNTIME_DIR/xenamp/backend.sock (root: /run/xenamp/backend.sock);
 * the server must run as root, this user or $XENAMP_BACKEND_UID.
 *
 * Callbacks (endpoint callbacks, name-service bind/unbind) run in the
 * thread that calls xenamp_dispatch(). All calls are thread-safe. */
#ifndef XENAMP_XENAMP_H
#define XENAMP_XENAMP_H

#include <stddef.h>
#include <stdint.h>

#include <xenamp/rpmsg.h>

#ifdef __cplusplus
extern "C" {
#endif

struct xenamp_dev;

struct xenamp_opts {
	const char *transport;     /* "local", "xen" or NULL (environment/auto) */
	const char *socket_path;   /* local mode; NULL: environment/default */
	int connect_timeout_ms;    /* 0: 10000 */
	/* Called (in the dispatching thread) when the peer announces a
	 * service for which no local endpoint waits; may be NULL. */
	rpmsg_ns_bind_cb ns_bind_cb;
	void *priv;                /* returned by xenamp_priv() */
	/* When the backend goes away (crash, SIGKILL, restart), keep the
	 * region and retry connecting for this long, re-sharing the same
	 * rings: blocked senders keep waiting, nothing accepted is lost.
	 * Local transport: counted from the socket closing. Xen: from the
	 * restarted backend offering the device again (a dead one cannot
	 * be noticed before), or from an orderly stop.
	 * 0: $XENAMP_RECONNECT_MS, else 30000; < 0: never (the link is gone
	 * at once, RPMSG_ERR_DEV_STATE). */
	int reconnect_ms;
	/* Opt-in busy-poll, for a partition with a CPU of its own: before
	 * xenamp_dispatch() sleeps, it watches the RX ring for up to this
	 * many microseconds (at most 1000), but only after a message was
	 * sent or received since its last poll, so an idle partition still
	 * sleeps at once (0 % CPU). Saves the wake-up of a round trip at the
	 * price of that CPU time. 0 (default): never poll. */
	int poll_us;
};

/* Open device `devno` of `partition`: connect to the backend, lay out and
 * share the region, reach Connected. Returns 0 and *out, or a negative
 * RPMSG_ERR_* code; xenamp_strerror_last() then gives one line saying
 * what failed and what to do. */
int xenamp_open(const char *partition, unsigned devno,
		const struct xenamp_opts *opts, struct xenamp_dev **out);

/* The RPMsg device for the rpmsg_* API. */
struct rpmsg_device *xenamp_rpmsg_dev(struct xenamp_dev *dev);

/* A file descriptor that becomes readable when xenamp_dispatch() has work
 * (for poll/epoll in the application's own loop). */
int xenamp_fd(struct xenamp_dev *dev);

/* Wait up to timeout_ms (-1 forever, 0 not at all) for traffic and run
 * the callbacks of everything received. Returns the number of messages
 * delivered (>= 0), or a negative RPMSG_ERR_* code (RPMSG_ERR_DEV_STATE
 * when the link is gone for good). */
int xenamp_dispatch(struct xenamp_dev *dev, int timeout_ms);

/* Destroy remaining endpoints, wait until the backend has taken every
 * data message already sent (giving up after 2 s without progress: the
 * peer is gone; name-service announcements are not waited for, the
 * backend withdraws our services itself), walk Closing/Closed, unshare,
 * free. It returns at once when no data message is in flight. While the backend is away
 * (restarting) and messages are in flight, it waits for its return, up to
 * the reconnect time (reconnect_ms), so that they are not lost: a program
 * that must exit at once sets reconnect_ms < 0. */
void xenamp_close(struct xenamp_dev *dev);

void *xenamp_priv(struct xenamp_dev *dev);

/* One message of a batch. */
struct xenamp_msg {
	const void *data;
	int len;                   /* truncated to the TX payload size */
};

/* Send msgs[0..n) from ept to its destination, in order, as rpmsg_send()
 * would each, but with one publish and at most one notification of the
 * backend for all of them (rpmsg_send: one per message). Waits (as
 * rpmsg_send) for the first TX buffer only: returns how many were sent,
 * 1..n (at most 64 per call), fewer when TX buffers ran out (send the
 * rest again), or a negative RPMSG_ERR_* code when none was. */
int xenamp_send_batch(struct rpmsg_endpoint *ept, const struct xenamp_msg *msgs,
		      int n);

/* Counters of one device since xenamp_open(), for monitoring and
 * benchmarks (xenamp-bench prints notifications per message from them).
 * Unlike times, they do not depend on the machine's load. */
struct xenamp_stats {
	uint64_t tx_msgs;      /* messages put in the TX ring (with name service) */
	uint64_t rx_msgs;      /* messages handed to an endpoint callback */
	uint64_t kicks;        /* notifications sent to the backend */
	uint64_t calls;        /* wake-ups by the backend's notifications that
				* were consumed (several calls that arrive
				* together count once) */
	uint64_t rx_dup;       /* duplicates dropped after a backend restart */
	uint64_t reconnects;   /* backend restarts survived */
};

/* Copy the counters into *out. 0, or RPMSG_ERR_PARAM. */
int xenamp_get_stats(struct xenamp_dev *dev, struct xenamp_stats *out);

/* One line about the last failure in this thread (never NULL). */
const char *xenamp_strerror_last(void);

#ifdef __cplusplus
}
#endif

#endif

/* The OS seam, backend side: how xenamp-backend meets the ends it serves.
 *
 * The backend (src/backend) is the virtio device for every end. What it
 * needs from the operating system is small and the same in both
 * transports, so it is captured here once:
 *
 *   - learn that a partition wants to be (or can be) an end: "end appeared
 *     (partition name, devno)";
 *   - publish the link parameters to it (Xen: xenstore keys next to
 *     state InitWait; local: the PARAMS datagram);
 *   - receive its shared region once the partition has laid it out:
 *     "region ready (mapped pointer, size)" (Xen: grant refs mapped with
 *     gntdev; local: the memfd mapped MAP_SHARED);
 *   - receive its kicks and send it calls (Xen: one event channel; local:
 *     a socketpair the backend makes, see local_proto.h);
 *   - walk the xenbus state machine (state.h) and learn that it went away
 *     (Xen: state Closing or @releaseDomain; local: the socket closed);
 *   - for the local transport only, serve xenampctl on the same socket.
 *
 * Why the backend polls the transport through one fd and pulls events
 * one at a time, instead of registering callbacks or owning each end's
 * fds itself:
 *   - the backend's loop stays the only place where work is scheduled, so
 *     the fairness rules (bounded work per end per round, round robin) are
 *     applied in one place, whatever produced the wake-up;
 *   - a Xen implementation has a different set of fds (xenstore watch fd,
 *     evtchn fd, gntdev) and a different notion of "which end kicked" (a
 *     pending port); hiding them behind event_fd()/next_event() means
 *     src/backend never changes when it slots in;
 *   - the backend can run several transports at once (a domU and a dom0
 *     process on one link) by polling several event fds.
 *
 * Lifetimes. A `struct xa_be_end` handle is created by the transport and
 * reported in XA_BE_EV_END_APPEARED. It stays valid until the backend
 * calls close_end() on it -- also after XA_BE_EV_END_GONE, which only says
 * the partition is gone; the backend still has to release the handle
 * (after it stopped touching the region). The transport never reports an
 * event for a handle after close_end(), even one it had already read from
 * the kernel. The region pointer given in XA_BE_EV_REGION_READY is valid
 * until close_end().
 *
 * Threading: none. All calls come from the backend's single event loop.
 *
 * Every function returns 0 on success or a negative errno value; with
 * (err, errlen) it also leaves one human line there on failure. */
#ifndef XENAMP_BACKEND_TRANSPORT_BE_TRANSPORT_H
#define XENAMP_BACKEND_TRANSPORT_BE_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/link_params.h"
#include "common/state.h"

struct xa_be_transport;
struct xa_be_end;   /* one end as the transport sees it (opaque) */
struct xa_be_ctl;   /* one control request's client (opaque) */

enum xa_be_event_type {
	XA_BE_EV_NONE = 0,

	/* A partition asks to be end (partition, devno). The transport has
	 * checked the form of the request (protocol version, a printable
	 * name) and that this peer may be that partition (local: the
	 * claims of xa_be_opts; Xen: the hypervisor names domains);
	 * whether the end exists in a link and is free is the backend's
	 * decision: it must answer before the next next_event() with
	 * accept() or close_end(). */
	XA_BE_EV_END_APPEARED = 1,

	/* The partition shared its region (frontend Initialised). The
	 * transport checked what it can without reading the contents:
	 * the size (a multiple of 4096, at most params.max_pages pages, the
	 * size announced), and that the memory cannot vanish under the
	 * backend. Everything inside is untrusted. The backend validates
	 * it and answers set_state(XA_STATE_CONNECTED) or close_end(). */
	XA_BE_EV_REGION_READY = 2,

	/* The partition notified the backend (rings changed). Kicks are
	 * coalesced: one event may stand for many kicks. */
	XA_BE_EV_KICK = 3,

	/* The partition is gone: closed its socket, moved to Closing or
	 * Closed, its domain died, or it broke the control protocol
	 * (code < 0, detail says how). The backend stops using the region
	 * and calls close_end(end, 0, NULL). */
	XA_BE_EV_END_GONE = 4,

	/* A control client sent a request (local transport only): a JSON
	 * text of req_len bytes, not NUL-terminated. The backend answers
	 * with ctl_reply() before the next next_event(). */
	XA_BE_EV_CTL_REQUEST = 5,
};

struct xa_be_event {
	enum xa_be_event_type type;
	struct xa_be_end *end;      /* every END_* / REGION / KICK event */
	void *cookie;               /* what the backend passed to accept(); NULL before */

	/* END_APPEARED; the strings stay valid until close_end(). */
	const char *partition;      /* printable ASCII, 1..63 characters */
	unsigned devno;
	const char *peer;           /* "pid 1234 uid 1000", "domid 5", ... */

	/* REGION_READY */
	void *region;
	size_t region_size;

	/* END_GONE: 0 for an orderly departure, a negative errno or XA_ERR_*
	 * for a protocol fault; detail is one line either way. Valid until
	 * the next next_event(). */
	int code;
	const char *detail;

	/* CTL_REQUEST; req valid until the next next_event(). The client's
	 * credentials, as the kernel gave them (SO_PEERCRED): privileged
	 * when it is root, the backend's own uid or a member of the admin
	 * group (xa_be_opts.admin_gid). */
	struct xa_be_ctl *ctl;
	const char *req;
	size_t req_len;
	long ctl_pid;               /* 0: unknown */
	long ctl_uid;               /* -1: unknown */
	bool ctl_privileged;
};

/* Who may claim a local partition name in HELLO (the [partition NAME]
 * sections of xenamp.conf): a peer whose uid is one of uids, or whose
 * gid or a supplementary group is one of gids. Root and the backend's own
 * uid may claim any name; a name without an entry is theirs only. */
struct xa_be_claim {
	const char *partition;
	const uint32_t *uids;
	unsigned nuids;
	const uint32_t *gids;
	unsigned ngids;
};

/* Log levels, numerically equal to syslog's. */
#define XA_BE_LOG_ERR     3
#define XA_BE_LOG_WARNING 4
#define XA_BE_LOG_INFO    6
#define XA_BE_LOG_DEBUG   7

/* How a transport is set up. Fields a transport does not use are
 * ignored (the Xen transport has no socket). */
struct xa_be_opts {
	const char *socket_path;   /* local: where to listen */
	unsigned socket_mode;      /* local: permission bits, e.g. 0660 */
	/* Where the transport reports what it handles on its own (a client
	 * that sent garbage before naming itself, a stale socket removed).
	 * The line has no trailing newline. May be NULL. */
	void (*log)(void *ctx, int level, const char *line);
	void *log_ctx;
	/* local: limits against clients (docs/security.md); 0 for each
	 * means the transport's default. */
	unsigned max_clients;           /* connections at once (1024) */
	unsigned max_clients_per_uid;   /* from one non-root uid (64) */
	unsigned reserved_clients;      /* of max_clients, for root and the
					 * backend's own uid only (16) */
	unsigned hello_timeout_ms;      /* to say HELLO or CTL_REQ (5000) */
	size_t ctl_queue_max;           /* bytes of unread replies, one client (1 MiB) */
	size_t ctl_queue_total;         /* ... all clients together (16 MiB) */
	unsigned region_timeout_ms;     /* from PARAMS to REGION (10000) */
	/* local: partition names bound to credentials; the array must
	 * outlive the transport. */
	const struct xa_be_claim *claims;
	size_t nclaims;
	/* local: members of this group are privileged control clients */
	bool has_admin_gid;
	uint32_t admin_gid;
	/* xen: region maps one (domain, device) may cause: a burst of
	 * xen_region_maps, then that many per xen_map_window_ms
	 * (docs/security.md; 0: 10 per 10000 ms) */
	unsigned xen_region_maps;
	unsigned xen_map_window_ms;
};

/* What a transport did on a partition's behalf (xenampctl status --json
 * shows them per transport): the work a guest can cause, counted.
 * Xen only for now. */
struct xa_be_counters {
	uint64_t watch_events;     /* frontend watch events taken */
	uint64_t coalesced;        /* ... of them for an end already due
				    * to be looked at this turn */
	uint64_t state_reads;      /* frontend state reads they caused */
	uint64_t region_maps;      /* region map attempts */
	uint64_t maps_deferred;    /* maps put off by the rate limit */
};

struct xa_be_ops {
	const char *name;   /* "local", "xen" */

	/* Tell the transport that (partition, devno) is an end of some
	 * link, before the first next_event(). A transport that plays the
	 * toolstack (Xen: it writes device/rpmsg/N when the domain is
	 * introduced) needs the list up front; the local transport, where
	 * partitions come to the backend, accepts it and does nothing. */
	int (*declare_end)(struct xa_be_transport *t, const char *partition,
			   unsigned devno);

	/* (partition, devno) is no longer an end of any link (link-remove,
	 * a registrant's exit, a dynamic link re-pointed): stop offering
	 * it. Xen: the device of a running domain is removed from xenstore,
	 * unless an accepted handle still holds it; close_end() of such a
	 * handle then does not offer it again. Called before the backend
	 * closes the end's accepted handle, if any. May be NULL: the
	 * transport offers nothing (local: partitions come to the backend,
	 * and one that names a removed end is refused). */
	void (*withdraw_end)(struct xa_be_transport *t, const char *partition,
			     unsigned devno);

	/* Readable when next_event() may have something. Level-triggered:
	 * it stays readable while the kernel holds unread input. */
	int (*event_fd)(struct xa_be_transport *t);

	/* Take one event without blocking: 1 and *ev filled, 0 when there is
	 * nothing now, or a negative errno when the transport itself failed
	 * (the backend then exits: it cannot serve anyone). */
	int (*next_event)(struct xa_be_transport *t, struct xa_be_event *ev);

	/* Take the end: remember cookie (reported with each later event),
	 * publish the parameters (state InitWait) and start waiting for the
	 * region; the transport refuses a region larger than
	 * params->max_pages pages. On failure the handle is already
	 * released and must not be used again. */
	int (*accept)(struct xa_be_transport *t, struct xa_be_end *end,
		      void *cookie, const struct xa_link_params *params,
		      char *err, size_t errlen);

	/* Publish the backend's state to the partition. The backend calls
	 * it with XA_STATE_CONNECTED once the region validated. */
	int (*set_state)(struct xa_be_transport *t, struct xa_be_end *end,
			 enum xa_state state);

	/* Send the end a call (used/avail rings changed; the virtio
	 * interrupt). Never blocks. */
	int (*notify)(struct xa_be_transport *t, struct xa_be_end *end);

	/* Let go of the end: when why is not NULL, tell the partition why
	 * with refusal, an enum xa_refusal (common/refusal.h: the one error
	 * space on the wire, never an errno or XA_ERR_* value) -- local: an
	 * ERROR datagram; Xen: the `error` node "CODE TEXT", as
	 * xenbus_dev_fatal does -- then move to Closing and Closed, unmap
	 * the region, close the notifications, free the handle. Also the
	 * answer that refuses an END_APPEARED. Never fails. */
	void (*close_end)(struct xa_be_transport *t, struct xa_be_end *end,
			  int refusal, const char *why);

	/* Answer a control request with a JSON text (the transport splits
	 * it into datagrams as the protocol says). Never blocks; a client
	 * that does not read its replies is dropped. */
	int (*ctl_reply)(struct xa_be_transport *t, struct xa_be_ctl *ctl,
			 const char *json, size_t len);

	/* The transport's counters (struct xa_be_counters). May be NULL:
	 * the transport counts nothing. */
	void (*counters)(struct xa_be_transport *t, struct xa_be_counters *out);

	/* Close every end and the listening side; free t. */
	void (*destroy)(struct xa_be_transport *t);
};

struct xa_be_transport {
	const struct xa_be_ops *ops;
	void *priv;
};

/* Create a backend transport by name ("local"; "xen" when built in).
 * Returns 0, or -errno with one line in err (e.g. the socket path is in
 * use by a running backend). */
int xa_be_transport_new(const char *name, const struct xa_be_opts *opts,
			struct xa_be_transport **out, char *err, size_t errlen);

/* The local transport (local_be.c). */
int xa_be_local_new(const struct xa_be_opts *opts,
		    struct xa_be_transport **out, char *err, size_t errlen);

/* The Xen transport (xen_be.c, built only with HAVE_XEN): the device side
 * of every domU's xenbus devices (common/xen_layout.h). */
int xa_be_xen_new(const struct xa_be_opts *opts,
		  struct xa_be_transport **out, char *err, size_t errlen);

/* Whether this looks like a Xen dom0 (/proc/xen/capabilities says
 * control_d). */
int xa_xen_be_detect(void);

#endif

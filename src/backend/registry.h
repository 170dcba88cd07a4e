/* The registry of links and ends: what the backend serves, and the state
 * of each end's connection. Above the device (end_device.h), below the
 * relay (relay.h): it never calls the relay; the relay learns that an end
 * closed through the on_close hook it installs.
 *
 * Links come from xenamp.conf (config links, links[0..cfg->nlinks)) or are
 * added at run time by the control request link-add and by libvirt
 * metadata (dynamic links, xa_reg_link_add). Both kinds are set up by one
 * link-init. links[] is allocated once with room for [backend]
 * dynamic-links more and never moves: an end is the transport's cookie.
 *
 * A dynamic link is removed by link-remove, or when the process that
 * registered it exits unless it was registered persistent
 * (xa_reg_link_own; the registrant is watched through a pidfd in one
 * epoll set, xa_reg_owner_fd). A removed link's slot stays allocated and
 * is skipped by every lookup (L->removed); link-add reuses it once the
 * relay's ready queue no longer holds its ends. Config links are never
 * removed; their ends become Absent when their partitions go.
 *
 * Who writes what in struct xa_end: the registry the identity (link,
 * side, cfg), the connection (t, h, state, peer_desc, live_pos) and the
 * allocation of svc/inj; the relay the device's rings, the name-service
 * lists' contents, the scheduling fields and the counters. Control
 * requests (ctl.c) read, and add or remove links only through the
 * functions below. */
#ifndef XENAMP_BACKEND_REGISTRY_H
#define XENAMP_BACKEND_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backend/conf.h"
#include "backend/end_device.h"
#include "backend/transport/be_transport.h"
#include "common/state.h"
#include "core/rpmsg_wire.h"

#define XA_REG_MAX_TRANSPORTS 4u

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
	uint64_t kicks;                 /* notifications it sent us (coalesced
					 * by the transport: wake-ups taken) */
	uint64_t notifies;              /* notifications (calls) we sent it */
	uint64_t dropped;               /* taken from its TX ring for a peer
					 * that went away: not delivered */
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
	struct xa_end_dev dev;          /* its rings, once Connected */
	/* Its peer was Connected with this very connection and went away,
	 * and has not connected again: what this end sends meanwhile was
	 * meant for that partition, and is dropped (relay.c). Set by
	 * xa_reg_end_close of the peer; cleared when either end connects and
	 * when this one closes. */
	bool orphaned;

	/* name service: this end's live services (max-services), and what
	 * the backend still has to tell this end about the peer's (room for
	 * 2 * max-services: one replay plus its destroys) */
	struct xa_svc *svc;
	unsigned nsvc;
	struct xa_inj *inj;
	unsigned inj_head, inj_len, inj_cap;

	/* scheduling (relay.h) */
	unsigned live_pos;              /* 1 + index in reg.live; 0: not connected */
	bool queued;
	struct xa_end *qnext;
	bool need_notify;
	bool blocked;                   /* its TX waits for the peer's RX */
	/* On the relay's notify and polled lists (relay.h). */
	bool nlisted, plisted;
	struct xa_end *nnext, *pnext;

	struct xa_end_stats st;
	char last_fault[256];
};

struct xa_link {
	const struct xa_cfg_link *cfg;
	struct xa_end end[2];
	uint8_t *bounce;                /* private copy: header, NS payload */
	/* dynamic links only */
	bool removed;                   /* slot free: skipped by lookups */
	bool persistent;                /* lives until link-remove */
	long owner_pid;                 /* registrant; 0: none */
	int owner_fd;                   /* its pidfd in owners_fd; -1: none */
};

struct xa_registry {
	const struct xa_config *cfg;
	struct xa_link *links;
	size_t nlinks;
	/* links[] has room for cfg->dynamic_links more, added at run time;
	 * their configurations live in dyn_cfg[i - cfg->nlinks]. */
	size_t links_cap;
	struct xa_cfg_link *dyn_cfg;
	struct xa_be_transport *tr[XA_REG_MAX_TRANSPORTS];
	unsigned ntr;
	int owners_fd;                  /* epoll set of registrants' pidfds */

	/* The connected ends. The relay's per-round flush and polling scan
	 * no longer walk them: they walk the ends they served (relay.h,
	 * notify and polled lists), so their cost follows the busy links,
	 * not the connected ones. */
	struct xa_end **live;           /* room for 2 * links_cap */
	unsigned nlive;

	/* Called by xa_reg_end_close() once the end's connection is gone,
	 * while e->svc still lists what it had announced. NULL: nothing. */
	void (*on_close)(void *ctx, struct xa_end *e);
	void *hook_ctx;
};

/* The links of cfg (which must outlive reg). 0, or -ENOMEM with err. */
int xa_reg_init(struct xa_registry *reg, const struct xa_config *cfg,
		char *err, size_t errlen);
void xa_reg_free(struct xa_registry *reg);

/* Serve the ends of transport t (declares every known end to it). */
int xa_reg_add_transport(struct xa_registry *reg, struct xa_be_transport *t,
			 char *err, size_t errlen);

/* The end (partition, devno) of any link, or NULL. */
struct xa_end *xa_reg_find_end(struct xa_registry *reg, const char *partition,
			       unsigned devno);

/* e is Connected: list it among the live ends. */
void xa_reg_live_add(struct xa_registry *reg, struct xa_end *e);

/* Release e's connection, if any (why != NULL: told to the partition,
 * with refusal, an enum xa_refusal of common/refusal.h), reset its device
 * and scheduling state, call on_close, and forget its services: the end
 * is Absent afterwards. */
void xa_reg_end_close(struct xa_registry *reg, struct xa_end *e, int refusal,
		      const char *why);

/* Release every connection (shutdown: no hook, no message). */
void xa_reg_close_all(struct xa_registry *reg);

/* "PARTITION[:DEVNO]" into e (line 0): the partition-name rule of
 * common/partition_name.h, DEVNO up to XA_CFG_MAX_DEVNO. 0 or -EINVAL. */
int xa_reg_parse_end(const char *s, struct xa_cfg_end *e);

/* Dynamic links: the control request link-add and the libvirt metadata.
 * Add the link c, or accept it when the backend already has it. An
 * existing link with the same name, or one that holds c's end-b, is "the
 * same" when its ends, buf-size and buf-count are equal (*added = false);
 * a dynamic link whose ends are both Absent is updated to c (*added =
 * false, *updated = true). Anything else -- an end that belongs to
 * another link, a config link with other values, a connected dynamic
 * link, no room left (dynamic-links) -- fails with one line in err and a
 * negative errno. Any out pointer may be NULL. */
int xa_reg_link_add(struct xa_registry *reg, const struct xa_cfg_link *c,
		    bool *added, bool *updated, const struct xa_link **out,
		    char *err, size_t errlen);

/* Who keeps dynamic link L alive (after xa_reg_link_add): persistent,
 * or pid <= 0 (no process: libvirt metadata) makes it live until
 * link-remove, and a persistent link stays so; otherwise it lives as long
 * as process pid (the latest registrant takes over from an earlier one).
 * No-op for a config link. 0; or -ESRCH when pid has already exited: L
 * is then removed and err says so. Without pidfd_open (Linux < 5.3) the
 * link is kept as persistent, with a log line. */
int xa_reg_link_own(struct xa_registry *reg, const struct xa_link *L,
		    long pid, bool persistent, char *err, size_t errlen);

/* link-remove: the dynamic link called name. Refused (-EPERM) for a link
 * of xenamp.conf and (-EBUSY) while an end is connected or handshaking,
 * unless force: its ends are then closed with XA_REFUSE_NO_LINK. -ENOENT
 * when there is no such link. 0, or a negative errno with err. */
int xa_reg_link_remove(struct xa_registry *reg, const char *name, bool force,
		       char *err, size_t errlen);

/* Readable when a registrant may have exited; -1 when none can be
 * watched. xa_reg_reap_owners() then removes their links. */
int xa_reg_owner_fd(const struct xa_registry *reg);
void xa_reg_reap_owners(struct xa_registry *reg);

/* Whether L came from link-add or libvirt rather than xenamp.conf. */
bool xa_reg_link_dynamic(const struct xa_registry *reg, const struct xa_link *L);

/* "host:0" */
const char *xa_end_label(const struct xa_end *e, char *buf, size_t len);

static inline struct xa_end *xa_end_peer(struct xa_end *e)
{
	return &e->link->end[1 - e->side];
}

static inline bool xa_end_connected(const struct xa_end *e)
{
	return e->state == XA_STATE_CONNECTED;
}

#endif

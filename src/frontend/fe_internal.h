/* libxenamp internals: the POSIX environment of the RPMsg driver core
 * (frontend/core/fe_core.h) and the session around it.
 *
 * Layers (each calls only the ones below it):
 *   session.c        xenamp_open/dispatch/close, reconnection, the
 *                    transport and the wake-up fds; the transport half of
 *                    the core's environment (fe_env.h: notify, consume,
 *                    wake, wait)
 *   core/            the OS-independent driver core (rpmsg.c,
 *                    rpmsg_virtio.c, region.c)
 *   env_posix.c      the rest of the environment: lock, condition
 *                    variable, thread identity, time, formatting
 *   wake.c, fe_lock.c, fe_log.c, transport/: helpers below all.
 *
 * struct xenamp_dev embeds the core's device (c) and adds what is POSIX:
 * the transport, the lock, the wake-up fds, the reconnect thread.
 *
 * Locking: one lock (xenamp_dev.lk, fe_lock.h; the core's
 * xa_fe_env_lock takes it) protects everything in both. It is never held
 * while an application callback runs. */
#ifndef XENAMP_FRONTEND_FE_INTERNAL_H
#define XENAMP_FRONTEND_FE_INTERNAL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <xenamp/rpmsg.h>
#include <xenamp/xenamp.h>

#include "frontend/core/fe_core.h"
#include "frontend/fe_lock.h"
#include "frontend/wake.h"
#include "common/link_params.h"
#include "common/xa_time.h"
#include "frontend/transport/fe_transport.h"

#define XA_FE_RECONNECT_MS 30000

struct xenamp_dev {
	struct xa_fe_core c;              /* the driver core's device */
	struct xa_fe_lock lk;             /* cond: TX buffer freed, callback done,
					   * dispatcher done, link lost */

	/* --- session (session.c) --- */
	struct xa_fe_transport *t;
	struct xa_link_params params;
	struct xa_fe_wake wake;
	char partition[64];
	unsigned devno;
	void *priv;
	bool event_idx;                   /* offer VIRTIO_RING_F_EVENT_IDX */
	uint32_t features;                /* in effect with this backend */
	/* Backend restarts: while c.lost, the transport is not touched by
	 * anyone but the reconnect thread; the rings live on. */
	char lost_why[XA_FE_ERRLEN];
	int reconnect_ms;                 /* < 0: never */
	bool reconnect_running;           /* the thread exists (join it) */
	bool reconnect_done;              /* ... and has left its loop */
	bool reconnect_abort;             /* xenamp_close gives up waiting */
	pthread_t reconnect_thread;
	bool dispatching;
	const void *dispatcher;           /* xa_fe_self() of the dispatcher */
	bool rx_signalled;                /* wake.rx_efd is (may be) readable */
	/* Opt-in busy-poll (xenamp_opts.poll_us): c.active is set by every
	 * message sent or delivered and cleared by each poll, so the
	 * dispatcher polls once per burst of activity, never when idle. */
	uint64_t poll_ns;                 /* 0: never poll */
	/* Bookkeeping of the region (xa_fe_region_storage), calloc'ed. */
	struct xa_fe_region_storage store;
};

/* The session device around a core device (every core device of
 * libxenamp is the c of a struct xenamp_dev). */
static inline struct xenamp_dev *xa_fe_sess(const struct xa_fe_core *c)
{
	return (struct xenamp_dev *)(void *)((char *)c -
					     offsetof(struct xenamp_dev, c));
}

/* The POSIX environment of the core (core/fe_env.h); session.c puts the
 * table together with its transport half. */
void xa_fe_posix_lock(struct xa_fe_core *c);
void xa_fe_posix_unlock(struct xa_fe_core *c);
void xa_fe_posix_assert_locked(struct xa_fe_core *c);
bool xa_fe_posix_cond_wait(struct xa_fe_core *c, uint64_t deadline_ns);
void xa_fe_posix_broadcast(struct xa_fe_core *c);
const void *xa_fe_posix_self(void);
uint64_t xa_fe_posix_now_ns(void);
int xa_fe_posix_vformat(char *buf, size_t size, const char *fmt, va_list ap);
void xa_fe_posix_error(struct xa_fe_core *c, const char *line);
void xa_fe_posix_debug(struct xa_fe_core *c, const char *line);

/* fe_log.c: the thread's last error (xenamp_strerror_last). No lock
 * needed. */
void xa_fe_set_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif

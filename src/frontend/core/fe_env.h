/* The environment seam of the portable RPMsg driver core (frontend/core):
 * everything the core needs from the operating system it runs on, and
 * nothing else. The core (region.c, rpmsg_virtio.c, rpmsg.c) is compiled
 * unchanged into libxenamp (POSIX: src/frontend/env_posix.c, session.c,
 * fe_log.c) and into the bare-metal Xen firmware
 * (src/firmware/rpmsg/fw_rpmsg.c); each fills in its own table of the
 * functions below. Porting the core to another RTOS means writing these
 * sixteen functions (docs/firmware.md, "Porting the core").
 *
 * The core calls nothing else of its environment: no allocator, no
 * threads, no libc beyond memcpy, memset, memcmp and strnlen (checked by
 * `nm -u` in tests/firmware/test-fw-tools.sh).
 *
 * Locking model. One lock per device protects every field of struct
 * xa_fe_core. Naming rule of every function that touches a device:
 *   *_locked     the lock is held on entry and on exit and is NEVER dropped
 *                inside; such a function starts with assert_locked(d);
 *   *_unlocking  the lock is held on entry and on exit but may be dropped
 *                and retaken inside (application callbacks, sleeping);
 *                its declaration says what the caller must look at again;
 *   no suffix    takes and releases the lock itself (public API).
 * A single-threaded environment without interrupts (the firmware) may make
 * lock and unlock mere bookkeeping; it must still never run the core
 * re-entrantly from an interrupt handler.
 *
 * Time: deadlines are absolute values of now_ns(); 0 means "no deadline". */
#ifndef XENAMP_FRONTEND_CORE_FE_ENV_H
#define XENAMP_FRONTEND_CORE_FE_ENV_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct xa_fe_core;

/* The environment of one device: a table of functions the environment
 * fills in and hands to the core in xa_fe_core.env before
 * xa_fe_epts_init_locked(). Every entry must be set except debug. The
 * core reaches the environment only through this table (never by a
 * symbol: its objects link against no environment), so the environment
 * may call into the core freely. */
struct xa_fe_env_ops {
	/* --- lock and condition --- */
	/* Take / drop the device lock (not recursive). */
	void (*lock)(struct xa_fe_core *d);
	void (*unlock)(struct xa_fe_core *d);
	/* Abort (debug builds) when the calling thread does not hold the
	 * lock. */
	void (*assert_locked)(struct xa_fe_core *d);
	/* Drop the lock, sleep until broadcast() or the deadline (0: none),
	 * take it again. False when the deadline passed. Spurious returns
	 * are allowed: the core always re-checks its condition. */
	bool (*cond_wait)(struct xa_fe_core *d, uint64_t deadline_ns);
	/* Wake every cond_wait() sleeper of this device. */
	void (*broadcast)(struct xa_fe_core *d);
	/* An identity of the calling thread (never NULL), comparable with
	 * ==. */
	const void *(*self)(void);
	/* Monotonic nanoseconds since an arbitrary fixed point. */
	uint64_t (*now_ns)(void);

	/* --- the transport (all called with the lock held) --- */
	/* Kick the backend (never blocks). */
	void (*notify_locked)(struct xa_fe_core *d);
	/* Consume pending transport events without blocking; may find the
	 * backend gone and set d->lost or call xa_fe_mark_dead_locked(). */
	void (*consume_locked)(struct xa_fe_core *d);
	/* The RX ring has work: make sure a dispatcher will look (unless the
	 * calling thread is the dispatcher). */
	void (*rx_work_locked)(struct xa_fe_core *d);
	/* Wake the thread that sleeps in wait_unlocking(tx = true). */
	void (*wake_tx_poller_locked)(struct xa_fe_core *d);
	/* The device died: every sleeper must come and see. */
	void (*wake_all_locked)(struct xa_fe_core *d);
	/* Sleep without the lock up to timeout_ms until the backend
	 * notifies us (tx: or wake_tx_poller_locked is called). The caller
	 * revalidates everything and consumes the events with
	 * xa_fe_pump_locked. */
	void (*wait_unlocking)(struct xa_fe_core *d, bool tx, int timeout_ms);

	/* --- messages --- */
	/* vsnprintf: %s %c %d %u %x with l, ll and z sizes is all the core
	 * uses; always NUL-terminates when size > 0. */
	int (*vformat)(char *buf, size_t size, const char *fmt, va_list ap);
	/* A failed API call's error line (libxenamp: xenamp_strerror_last,
	 * per thread). */
	void (*error)(struct xa_fe_core *d, const char *line);
	/* One debug line about d; called only while d->debug is set. May be
	 * NULL (no debug output). */
	void (*debug)(struct xa_fe_core *d, const char *line);
};

#endif

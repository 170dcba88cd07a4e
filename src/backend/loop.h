/* One turn of xenamp-backend's event loop after poll() (main.c): which
 * sources are served, in which order. Factored out of main.c so that the
 * rules can be tested with fake sources (tests/unit/test_loop.c).
 *
 * The poll set, in this order:
 *   pfd[0]              the signalfd (main.c handles it before the turn)
 *   pfd[1 .. ntr]       the transports' event fds
 *   pfd[1 + ntr]        the registrants' pidfd set (xa_reg_owner_fd)
 *   pfd[2 + ntr]        libvirt's event pipe, when has_lv
 *
 * The rules, each decided by poll()'s answer for that source alone:
 *   - a transport is pumped only when its fd is readable (level-triggered:
 *     events left from the last turn keep it readable);
 *   - the registrants are reaped when their set is readable;
 *   - libvirt is dispatched when its pipe is readable, whatever the
 *     transports' pumps returned (a pump that handled no event must not
 *     hold libvirt's lifecycle events back);
 *   - the relay round runs every turn, a poll timeout included. */
#ifndef XENAMP_BACKEND_LOOP_H
#define XENAMP_BACKEND_LOOP_H

#include <poll.h>
#include <stdbool.h>

struct xa_loop_ops {
	/* Handle the events of transport i: how many, or -errno when it
	 * failed. */
	int (*pump)(void *ctx, unsigned i);
	/* Transport i failed with rc (< 0): say so. */
	void (*failed)(void *ctx, unsigned i, int rc);
	void (*reap_owners)(void *ctx);
	void (*lv_dispatch)(void *ctx);   /* only called when has_lv */
	void (*relay_round)(void *ctx);
};

/* The turn after poll() returned polled (< 0: interrupted) for pfd laid
 * out as above. Returns true when a transport failed (the loop must end
 * after this turn), false otherwise. */
bool xa_loop_turn(const struct xa_loop_ops *ops, void *ctx, int polled,
		  const struct pollfd *pfd, unsigned ntr, bool has_lv);

#endif

/* See loop.h. */
#include <config.h>

#include "backend/loop.h"

static bool readable(int polled, const struct pollfd *p)
{
	return polled > 0 && (p->revents & POLLIN);
}

bool xa_loop_turn(const struct xa_loop_ops *ops, void *ctx, int polled,
		  const struct pollfd *pfd, unsigned ntr, bool has_lv)
{
	bool failed = false;

	for (unsigned i = 0; i < ntr; i++) {
		/* Any revents (POLLERR, POLLHUP too) sends the transport to
		 * its pump, which reports its failure. */
		if (polled <= 0 || !pfd[1 + i].revents)
			continue;
		int rc = ops->pump(ctx, i);

		if (rc < 0) {
			ops->failed(ctx, i, rc);
			failed = true;
		}
	}
	if (readable(polled, &pfd[1 + ntr]))
		ops->reap_owners(ctx);
	/* Decided by the pipe alone, never by what a pump returned. */
	if (has_lv && readable(polled, &pfd[2 + ntr]))
		ops->lv_dispatch(ctx);
	ops->relay_round(ctx);
	return failed;
}

/* The POSIX environment of the RPMsg driver core (core/fe_env.h): the
 * device lock and condition variable of struct xenamp_dev (fe_lock.h,
 * with its lock-owner check), the thread identity, CLOCK_MONOTONIC and
 * vsnprintf. The transport half (notify, consume, wake, wait) is
 * session.c's, the error and debug lines fe_log.c's; session.c puts the
 * table together. */
#include <stdio.h>
#include <time.h>

#include "frontend/fe_internal.h"

void xa_fe_posix_lock(struct xa_fe_core *c)
{
	xa_fe_lock_acquire(&xa_fe_sess(c)->lk);
}

void xa_fe_posix_unlock(struct xa_fe_core *c)
{
	xa_fe_lock_release(&xa_fe_sess(c)->lk);
}

void xa_fe_posix_assert_locked(struct xa_fe_core *c)
{
	xa_fe_lock_assert_held(&xa_fe_sess(c)->lk);
}

bool xa_fe_posix_cond_wait(struct xa_fe_core *c, uint64_t deadline_ns)
{
	struct xa_fe_lock *l = &xa_fe_sess(c)->lk;
	struct timespec ts;

	if (deadline_ns == 0) {
		xa_fe_lock_wait(l);
		return true;
	}
	/* xa_fe_posix_now_ns() is CLOCK_MONOTONIC, the condition's clock. */
	ts.tv_sec = (time_t)(deadline_ns / 1000000000u);
	ts.tv_nsec = (long)(deadline_ns % 1000000000u);
	return xa_fe_lock_wait_until(l, &ts);
}

void xa_fe_posix_broadcast(struct xa_fe_core *c)
{
	xa_fe_lock_broadcast(&xa_fe_sess(c)->lk);
}

const void *xa_fe_posix_self(void)
{
	return xa_fe_self();
}

uint64_t xa_fe_posix_now_ns(void)
{
	return xa_now_ns();
}

int xa_fe_posix_vformat(char *buf, size_t size, const char *fmt, va_list ap)
{
	return vsnprintf(buf, size, fmt, ap);
}

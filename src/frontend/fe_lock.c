/* The device lock (see fe_lock.h). */
#include <errno.h>

#include "frontend/fe_lock.h"

static __thread char self_tag;

const void *xa_fe_self(void)
{
	return &self_tag;
}

int xa_fe_lock_init(struct xa_fe_lock *l)
{
	pthread_condattr_t ca;
	int r;

	if (pthread_mutex_init(&l->mutex, NULL) != 0)
		return -1;
	if (pthread_condattr_init(&ca) != 0)
		goto fail_mutex;
	r = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	if (r == 0)
		r = pthread_cond_init(&l->cond, &ca);
	pthread_condattr_destroy(&ca);
	if (r != 0)
		goto fail_mutex;
	xa_fe_lock_owner_clear(l);
	return 0;
fail_mutex:
	pthread_mutex_destroy(&l->mutex);
	return -1;
}

void xa_fe_lock_fini(struct xa_fe_lock *l)
{
	pthread_cond_destroy(&l->cond);
	pthread_mutex_destroy(&l->mutex);
}

bool xa_fe_lock_wait_until(struct xa_fe_lock *l, const struct timespec *deadline)
{
	int r;

	xa_fe_lock_owner_clear(l);
	r = pthread_cond_timedwait(&l->cond, &l->mutex, deadline);
	xa_fe_lock_owner_set(l);
	return r != ETIMEDOUT;
}

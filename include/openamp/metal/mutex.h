/* libmetal compatibility: <metal/mutex.h>, over a POSIX mutex. A
 * metal_mutex_t must be initialised (metal_mutex_init, or
 * METAL_MUTEX_INIT / METAL_MUTEX_DEFINE for a static one) before use and
 * is not recursive. */
#ifndef XENAMP_COMPAT_METAL_MUTEX_H
#define XENAMP_COMPAT_METAL_MUTEX_H

#include <pthread.h>
#include <stdatomic.h>

typedef struct {
	pthread_mutex_t m;
	atomic_int held;      /* for metal_mutex_is_acquired() */
} metal_mutex_t;

#define METAL_MUTEX_INIT(m) { PTHREAD_MUTEX_INITIALIZER, 0 }
#define METAL_MUTEX_DEFINE(m) metal_mutex_t m = METAL_MUTEX_INIT(m)

static inline void metal_mutex_init(metal_mutex_t *mutex)
{
	(void)pthread_mutex_init(&mutex->m, NULL);
	atomic_init(&mutex->held, 0);
}

static inline void metal_mutex_deinit(metal_mutex_t *mutex)
{
	(void)pthread_mutex_destroy(&mutex->m);
}

/* 1 when acquired, 0 when another holder has it. */
static inline int metal_mutex_try_acquire(metal_mutex_t *mutex)
{
	if (pthread_mutex_trylock(&mutex->m) != 0)
		return 0;
	atomic_store(&mutex->held, 1);
	return 1;
}

static inline void metal_mutex_acquire(metal_mutex_t *mutex)
{
	(void)pthread_mutex_lock(&mutex->m);
	atomic_store(&mutex->held, 1);
}

static inline void metal_mutex_release(metal_mutex_t *mutex)
{
	atomic_store(&mutex->held, 0);
	(void)pthread_mutex_unlock(&mutex->m);
}

/* Whether some thread holds it (a snapshot). */
static inline int metal_mutex_is_acquired(metal_mutex_t *mutex)
{
	return atomic_load(&mutex->held);
}

#endif

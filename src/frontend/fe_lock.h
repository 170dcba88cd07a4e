/* The device lock of libxenamp: one mutex and its condition variable, with
 * a lock-owner check in debug builds. The driver core (core/) never sees
 * it: env_posix.c hands it to the core as the lock of its environment
 * (core/fe_env.h); session.c and wake.c use it directly.
 *
 * Naming convention used by every function that touches a device
 * (struct xenamp_dev, and the core's struct xa_fe_core) under this lock:
 *   *_locked     the lock is held on entry and on exit and is NEVER dropped
 *                inside; such a function starts with assert_locked(d).
 *   *_unlocking  the lock is held on entry and on exit but may be dropped
 *                and retaken inside (to run an application callback, to
 *                sleep on the condition variable or in poll()). Its
 *                declaration says what the caller must look at again
 *                afterwards: anything read before the call may be stale.
 *   no suffix    takes and releases the lock itself (public API), or does
 *                not need it.
 *
 * Debug check (compiled in unless NDEBUG is defined, so it is active in the
 * normal, sanitizer and ThreadSanitizer builds): acquire records the owning
 * thread, release and the condition waits clear it, and
 * xa_fe_lock_assert_held() aborts when the calling thread is not the owner.
 * The owner is one relaxed atomic word: only the owner itself writes it
 * while it holds the mutex, and a thread that is not the owner can never
 * read its own tag there (it cleared the word when it last released the
 * mutex, before anyone else could write it), so relaxed ordering suffices
 * and the check costs a TLS address and a load. */
#ifndef XENAMP_FRONTEND_FE_LOCK_H
#define XENAMP_FRONTEND_FE_LOCK_H

#include <assert.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

struct xa_fe_lock {
	pthread_mutex_t mutex;
	pthread_cond_t cond;        /* CLOCK_MONOTONIC */
#ifndef NDEBUG
	uintptr_t owner;            /* xa_fe_self() of the holder, or 0 */
#endif
};

/* An identity of the calling thread, unique among live threads (the address
 * of a thread-local tag), never NULL. Cheaper than pthread_self() and
 * comparable with ==. */
const void *xa_fe_self(void);

/* 0, or -1 when the mutex or condition variable cannot be created. */
int xa_fe_lock_init(struct xa_fe_lock *l);
void xa_fe_lock_fini(struct xa_fe_lock *l);

static inline void xa_fe_lock_owner_set(struct xa_fe_lock *l)
{
#ifndef NDEBUG
	__atomic_store_n(&l->owner, (uintptr_t)xa_fe_self(), __ATOMIC_RELAXED);
#else
	(void)l;
#endif
}

static inline void xa_fe_lock_owner_clear(struct xa_fe_lock *l)
{
#ifndef NDEBUG
	__atomic_store_n(&l->owner, (uintptr_t)0, __ATOMIC_RELAXED);
#else
	(void)l;
#endif
}

static inline void xa_fe_lock_acquire(struct xa_fe_lock *l)
{
	pthread_mutex_lock(&l->mutex);
	xa_fe_lock_owner_set(l);
}

static inline void xa_fe_lock_release(struct xa_fe_lock *l)
{
	xa_fe_lock_owner_clear(l);
	pthread_mutex_unlock(&l->mutex);
}

/* Wait on the condition variable (the lock is dropped meanwhile). */
static inline void xa_fe_lock_wait(struct xa_fe_lock *l)
{
	xa_fe_lock_owner_clear(l);
	pthread_cond_wait(&l->cond, &l->mutex);
	xa_fe_lock_owner_set(l);
}

/* The same, until the CLOCK_MONOTONIC deadline; false when it passed. */
bool xa_fe_lock_wait_until(struct xa_fe_lock *l, const struct timespec *deadline);

static inline void xa_fe_lock_broadcast(struct xa_fe_lock *l)
{
	pthread_cond_broadcast(&l->cond);
}

static inline void xa_fe_lock_assert_held(struct xa_fe_lock *l)
{
#ifndef NDEBUG
	assert(__atomic_load_n(&l->owner, __ATOMIC_RELAXED) ==
	       (uintptr_t)xa_fe_self());
#else
	(void)l;
#endif
}

#endif

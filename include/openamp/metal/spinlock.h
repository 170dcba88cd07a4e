/* libmetal compatibility: <metal/spinlock.h>, a busy-waiting lock over a
 * C11 atomic_flag (acquire on taking, release on giving back, so what
 * one holder wrote is seen by the next). For very short sections only:
 * a waiter spins, yielding the CPU between tries. Not recursive. */
#ifndef XENAMP_COMPAT_METAL_SPINLOCK_H
#define XENAMP_COMPAT_METAL_SPINLOCK_H

#include <sched.h>
#include <stdatomic.h>

struct metal_spinlock {
	atomic_flag v;
};

#define METAL_SPINLOCK_INIT { ATOMIC_FLAG_INIT }

static inline void metal_spinlock_init(struct metal_spinlock *slock)
{
	atomic_flag_clear_explicit(&slock->v, memory_order_relaxed);
}

static inline void metal_spinlock_acquire(struct metal_spinlock *slock)
{
	while (atomic_flag_test_and_set_explicit(&slock->v, memory_order_acquire))
		(void)sched_yield();
}

static inline void metal_spinlock_release(struct metal_spinlock *slock)
{
	atomic_flag_clear_explicit(&slock->v, memory_order_release);
}

#endif

/* libmetal's <metal/spinlock.h> for the firmware: one vCPU and no
 * interrupts, so nobody can release a lock the firmware spins on; taking
 * a held lock is a deadlock, reported like metal/mutex.h's (one console
 * line, crash). */
#ifndef XENAMP_FW_METAL_SPINLOCK_H
#define XENAMP_FW_METAL_SPINLOCK_H

struct metal_spinlock {
	int held;
};

#define METAL_SPINLOCK_INIT { 0 }

__attribute__((noreturn)) void fw_metal_deadlock(const void *lock);

static inline void metal_spinlock_init(struct metal_spinlock *slock)
{
	slock->held = 0;
}

static inline void metal_spinlock_acquire(struct metal_spinlock *slock)
{
	if (slock->held)
		fw_metal_deadlock(slock);
	slock->held = 1;
}

static inline void metal_spinlock_release(struct metal_spinlock *slock)
{
	slock->held = 0;
}

#endif

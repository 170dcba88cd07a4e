/* libmetal's <metal/mutex.h> for the firmware (one vCPU, no interrupts,
 * no threads): a mutex is a flag. Nobody else can ever release a mutex
 * the firmware already holds, so acquiring it twice is a deadlock: it
 * prints one console line and crashes the domain (on_crash applies)
 * instead of hanging silently. Replaces the POSIX one of the
 * compatibility headers in the firmware SDK's include path. */
#ifndef XENAMP_FW_METAL_MUTEX_H
#define XENAMP_FW_METAL_MUTEX_H

typedef struct {
	int held;
} metal_mutex_t;

#define METAL_MUTEX_INIT(m) { 0 }
#define METAL_MUTEX_DEFINE(m) metal_mutex_t m = METAL_MUTEX_INIT(m)

/* fw_metal.c: one console line naming the lock, then crash. */
__attribute__((noreturn)) void fw_metal_deadlock(const void *lock);

static inline void metal_mutex_init(metal_mutex_t *mutex)
{
	mutex->held = 0;
}

static inline void metal_mutex_deinit(metal_mutex_t *mutex)
{
	(void)mutex;
}

/* 1 when acquired, 0 when it is held already. */
static inline int metal_mutex_try_acquire(metal_mutex_t *mutex)
{
	if (mutex->held)
		return 0;
	mutex->held = 1;
	return 1;
}

static inline void metal_mutex_acquire(metal_mutex_t *mutex)
{
	if (mutex->held)
		fw_metal_deadlock(mutex);
	mutex->held = 1;
}

static inline void metal_mutex_release(metal_mutex_t *mutex)
{
	mutex->held = 0;
}

static inline int metal_mutex_is_acquired(metal_mutex_t *mutex)
{
	return mutex->held;
}

#endif

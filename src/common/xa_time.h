/* Monotonic time and deadlines, the one implementation every part uses.
 *
 * All clocks are CLOCK_MONOTONIC: a deadline never moves when the wall
 * clock is set. Millisecond deadlines are int64_t values of xa_now_ms();
 * the timespec forms exist for pthread_cond_timedwait on a condition
 * variable whose clock attribute is CLOCK_MONOTONIC. */
#ifndef XENAMP_COMMON_XA_TIME_H
#define XENAMP_COMMON_XA_TIME_H

#include <stdint.h>
#include <time.h>

/* Now, in milliseconds / nanoseconds since an arbitrary fixed point. */
int64_t xa_now_ms(void);
uint64_t xa_now_ns(void);

/* Milliseconds from now until deadline (an xa_now_ms() value), clamped to
 * 0..INT_MAX: 0 once it has passed, so the result can be handed straight
 * to poll(). */
int xa_ms_left(int64_t deadline);

/* *ts = now + ms, as a CLOCK_MONOTONIC timespec (ms >= 0). */
void xa_timespec_after(struct timespec *ts, int ms);

/* Milliseconds until *ts, rounded up, clamped to 0..INT_MAX. */
int xa_ms_until(const struct timespec *ts);

#endif

/* libmetal compatibility: <metal/sleep.h>. */
#ifndef XENAMP_COMPAT_METAL_SLEEP_H
#define XENAMP_COMPAT_METAL_SLEEP_H

#include <errno.h>
#include <time.h>

/* Sleep at least usec microseconds (signals do not cut it short).
 * 0, as libmetal's Linux port. */
static inline int metal_sleep_usec(unsigned int usec)
{
	struct timespec ts = { (time_t)(usec / 1000000u),
			       (long)(usec % 1000000u) * 1000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
	return 0;
}

#endif

/* libmetal compatibility: <metal/time.h>. */
#ifndef XENAMP_COMPAT_METAL_TIME_H
#define XENAMP_COMPAT_METAL_TIME_H

#ifdef __cplusplus
extern "C" {
#endif

/* A monotonic timestamp in nanoseconds (CLOCK_MONOTONIC), as libmetal's
 * Linux port: only differences between two calls mean something. */
unsigned long long metal_get_timestamp(void);

#ifdef __cplusplus
}
#endif

#endif

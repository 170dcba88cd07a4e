/* libmetal compatibility: <metal/cpu.h>. A partition is a process or a
 * domU vCPU: yielding gives the CPU to other runnable threads. */
#ifndef XENAMP_COMPAT_METAL_CPU_H
#define XENAMP_COMPAT_METAL_CPU_H

#include <sched.h>

static inline void metal_cpu_yield(void)
{
	(void)sched_yield();
}

#endif

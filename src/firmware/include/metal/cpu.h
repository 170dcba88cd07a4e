/* libmetal's <metal/cpu.h> for the firmware: the domain has one vCPU and
 * nothing else of its own to run, so yielding is a pause hint. */
#ifndef XENAMP_FW_METAL_CPU_H
#define XENAMP_FW_METAL_CPU_H

static inline void metal_cpu_yield(void)
{
	__builtin_ia32_pause();
}

#endif

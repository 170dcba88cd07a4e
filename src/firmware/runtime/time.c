/* Time: Xen system time (ns since the host booted) from vCPU 0's
 * vcpu_time_info in shared_info, extrapolated with the TSC. Xen bumps
 * `version` to an odd value while it rewrites the fields and to the
 * next even one after: a read is good when version was even and
 * unchanged around it. */
#include "fw_priv.h"
#include "hypercall.h"

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ __volatile__("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

uint64_t fw_now_ns(void)
{
	volatile struct xen_vcpu_time_info *t = &fw_shared->vcpu_info[0].time;
	uint32_t v, mul;
	uint64_t tsc_ts, sys, delta;
	int8_t shift;

	do {
		v = t->version;
		fw_barrier();
		tsc_ts = t->tsc_timestamp;
		sys = t->system_time;
		mul = t->tsc_to_system_mul;
		shift = t->tsc_shift;
		fw_barrier();
	} while ((v & 1) || v != t->version);
	delta = rdtsc() - tsc_ts;
	if (shift < 0)
		delta >>= -shift;
	else
		delta <<= shift;
	return sys + (uint64_t)(((unsigned __int128)delta * mul) >> 32);
}

uint64_t fw_now_ms(void)
{
	return fw_now_ns() / 1000000u;
}

void fw_sleep_ms(uint32_t ms)
{
	uint64_t deadline = fw_now_ns() + (uint64_t)ms * 1000000u;

	/* Poll on no port: SCHEDOP_poll then only ends at the timeout. */
	while (fw_now_ns() < deadline)
		(void)fw_evtchn_wait(NULL, 0, deadline);
}

/* Hypercalls of an x86-64 PV guest: a call into the hypercall page that
 * Xen filled in at load time (XEN_ELFNOTE_HYPERCALL_PAGE, start.S). Stub
 * nr sits at hypercall_page + 32 * nr; arguments go in rdi, rsi, rdx,
 * r10, r8, the result comes back in rax; the stub's `syscall` clobbers
 * rcx and r11. Every hypercall may read or write guest memory through
 * its pointer arguments, hence the "memory" clobber. */
#ifndef XENAMP_FW_HYPERCALL_H
#define XENAMP_FW_HYPERCALL_H

#include <stdint.h>

#include "xen_abi.h"

extern char hypercall_page[4096];

_Static_assert(XEN_HC_sched_op == 29 && XEN_HC_event_channel_op == 32 &&
	       XEN_HC_grant_table_op == 20 && XEN_HC_update_va_mapping == 14 &&
	       XEN_HC_console_io == 18, "literal hypercall numbers below");

#define FW_HYPERCALL_STUB(nr) "call hypercall_page + " #nr " * 32"


#define FW_HC2(nr, a1, a2) ({ \
	register long _a1 asm("rdi") = (long)(a1); \
	register long _a2 asm("rsi") = (long)(a2); \
	long _ret; \
	asm volatile(FW_HYPERCALL_STUB(nr) \
		     : "=a"(_ret), "+r"(_a1), "+r"(_a2) \
		     : : "rcx", "r11", "rdx", "r10", "r8", "memory"); \
	_ret; })

#define FW_HC3(nr, a1, a2, a3) ({ \
	register long _a1 asm("rdi") = (long)(a1); \
	register long _a2 asm("rsi") = (long)(a2); \
	register long _a3 asm("rdx") = (long)(a3); \
	long _ret; \
	asm volatile(FW_HYPERCALL_STUB(nr) \
		     : "=a"(_ret), "+r"(_a1), "+r"(_a2), "+r"(_a3) \
		     : : "rcx", "r11", "r10", "r8", "memory"); \
	_ret; })

/* The numbers must be literal for the stub offset; xen_abi.h's names are
 * checked against them above. */
static inline long hyp_sched_op(int cmd, void *arg)
{
	return FW_HC2(29, cmd, arg);
}

static inline long hyp_event_channel_op(int cmd, void *arg)
{
	return FW_HC2(32, cmd, arg);
}

static inline long hyp_grant_table_op(int cmd, void *arg, unsigned count)
{
	return FW_HC3(20, cmd, arg, count);
}

static inline long hyp_update_va_mapping(uint64_t va, uint64_t pte, unsigned long flags)
{
	return FW_HC3(14, va, pte, flags);
}

static inline long hyp_console_io(int cmd, int count, const char *buf)
{
	return FW_HC3(18, cmd, count, buf);
}

#endif

/* Runtime internals shared by its files (not for applications). */
#ifndef XENAMP_FW_PRIV_H
#define XENAMP_FW_PRIV_H

#include "fw.h"
#include "xen_abi.h"

/* boot.c */
extern struct xen_shared_info *fw_shared;
/* Map machine frame mfn at the page-aligned va of a page of our image
 * (the page's own frame is left unused). 0 or a negated Xen errno. */
int fw_map_mfn(void *va, uint64_t mfn);

/* console.c */
void fw_console_init(void *page, uint32_t port);
/* Wait (bounded) until xenconsoled has read everything written. */
void fw_console_flush(void);

/* xs.c */
void fw_xs_init(void *page, uint32_t port);

/* Compiler barrier: the hypervisor and the other domains see memory
 * through their own mappings; x86 keeps stores in order, loads in order. */
#define fw_barrier() __asm__ __volatile__("" ::: "memory")

#endif

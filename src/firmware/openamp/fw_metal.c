/* The state and out-of-line code of libmetal that OpenAMP applications
 * reach, for the firmware: the log handler and level (messages go to the
 * PV console), metal_init / metal_finish, metal_get_timestamp (Xen's
 * clock), the static arena behind metal_allocate_memory
 * (src/firmware/include/metal/alloc.h), and the deadlock report of the
 * firmware's metal mutex and spinlock. Single-threaded, no interrupts:
 * plain statics. */
#include <stdint.h>

#include <metal/alloc.h>
#include <metal/log.h>
#include <metal/mutex.h>
#include <metal/sys.h>
#include <metal/time.h>

#include "firmware/runtime/fw.h"

static metal_log_handler g_handler = metal_default_log_handler;
static enum metal_log_level g_level = METAL_LOG_INFO;
static unsigned g_init_count;

void metal_default_log_handler(enum metal_log_level level, const char *format, ...)
{
	char line[512];
	va_list ap;
	int n;

	(void)level;
	va_start(ap, format);
	n = fw_vsnprintf(line, sizeof(line), format, ap);
	va_end(ap);
	if (n > 0)
		fw_write(line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
}

void metal_set_log_handler(metal_log_handler handler)
{
	g_handler = handler;
}

metal_log_handler metal_get_log_handler(void)
{
	return g_handler;
}

void metal_set_log_level(enum metal_log_level level)
{
	g_level = level;
}

enum metal_log_level metal_get_log_level(void)
{
	return g_level;
}

int metal_init(const struct metal_init_params *params)
{
	static const struct metal_init_params defaults = METAL_INIT_DEFAULTS;

	if (params == NULL)
		params = &defaults;
	g_handler = params->log_handler;
	g_level = params->log_level;
	g_init_count++;
	return 0;
}

void metal_finish(void)
{
	if (g_init_count > 0)
		g_init_count--;
}

unsigned long long metal_get_timestamp(void)
{
	return fw_now_ns();
}

void fw_metal_deadlock(const void *lock)
{
	fw_fatal("metal: lock %p taken twice (one vCPU, no threads: nobody can release it)",
		 lock);
}

/* ------------------------------------------------------------------ */
/* The arena: blocks in order, each after a header; `top` is the end of
 * the last block. Invariant: the blocks from the arena start to top
 * chain through prev_off, and the last block is never marked freed (a
 * free of the last block pops it and every freed block below it). */

#define ARENA_ALIGN 16u
#define ARENA_MAGIC 0x6d65746cu   /* "metl" */

struct arena_hdr {
	uint32_t prev_off;   /* offset of the previous header, or NO_PREV */
	uint32_t size;       /* bytes of the block, rounded up to ARENA_ALIGN */
	uint32_t freed;
	uint32_t magic;
};
#define NO_PREV 0xffffffffu

_Static_assert(sizeof(struct arena_hdr) == ARENA_ALIGN, "one alignment unit");

static unsigned char arena[FW_METAL_HEAP_SIZE] __attribute__((aligned(ARENA_ALIGN)));
static uint32_t top;                 /* bytes of the arena in use */
static uint32_t last_off = NO_PREV;  /* header of the last block */

void *fw_metal_allocate(unsigned int size)
{
	uint32_t need = (uint32_t)sizeof(struct arena_hdr);
	struct arena_hdr *h;

	if (size == 0 || size > FW_METAL_HEAP_SIZE)
		return NULL;
	need += (size + ARENA_ALIGN - 1) & ~(ARENA_ALIGN - 1);
	if (need > FW_METAL_HEAP_SIZE - top)
		return NULL;
	h = (struct arena_hdr *)(void *)&arena[top];
	h->prev_off = last_off;
	h->size = need - (uint32_t)sizeof(*h);
	h->freed = 0;
	h->magic = ARENA_MAGIC;
	last_off = top;
	top += need;
	return h + 1;
}

void fw_metal_free(void *ptr)
{
	unsigned char *p = ptr;
	struct arena_hdr *h;

	if (p == NULL)
		return;
	if (p < arena + sizeof(*h) || p >= arena + top ||
	    (size_t)(p - arena) % ARENA_ALIGN != 0)
		fw_fatal("metal_free_memory(%p): not a block of metal_allocate_memory", ptr);
	h = (struct arena_hdr *)(void *)p - 1;
	if (h->magic != ARENA_MAGIC || h->freed)
		fw_fatal("metal_free_memory(%p): not an allocated block (freed twice?)", ptr);
	h->freed = 1;
	/* Pop freed blocks off the end. */
	while (last_off != NO_PREV) {
		h = (struct arena_hdr *)(void *)&arena[last_off];
		if (!h->freed)
			break;
		h->magic = 0;
		top = last_off;
		last_off = h->prev_off;
	}
}

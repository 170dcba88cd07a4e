/* libmetal's <metal/alloc.h> for the firmware. The runtime has no heap;
 * these take blocks from a static arena of FW_METAL_HEAP_SIZE bytes
 * (fw_metal.c), 16-byte aligned, in order. Freeing the most recent block
 * gives its space back; freeing any other block keeps its space until
 * every block after it is freed too (a stack, enough for set-up time
 * allocations). NULL when the arena is exhausted. */
#ifndef XENAMP_FW_METAL_ALLOC_H
#define XENAMP_FW_METAL_ALLOC_H

#define FW_METAL_HEAP_SIZE 16384u

void *fw_metal_allocate(unsigned int size);
void fw_metal_free(void *ptr);

static inline void *metal_allocate_memory(unsigned int size)
{
	return fw_metal_allocate(size);
}

static inline void metal_free_memory(void *ptr)
{
	fw_metal_free(ptr);
}

#endif

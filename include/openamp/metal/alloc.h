/* libmetal compatibility (for OpenAMP applications built on xenamp):
 * <metal/alloc.h>. */
#ifndef XENAMP_COMPAT_METAL_ALLOC_H
#define XENAMP_COMPAT_METAL_ALLOC_H

#include <stdlib.h>

static inline void *metal_allocate_memory(unsigned int size)
{
	return malloc(size);
}

static inline void metal_free_memory(void *ptr)
{
	free(ptr);
}

#endif

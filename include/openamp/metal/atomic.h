/* libmetal compatibility: <metal/atomic.h>. libmetal maps it to C11's
 * <stdatomic.h> where the compiler has it; so does this one (C only:
 * C++ applications use <atomic>). */
#ifndef XENAMP_COMPAT_METAL_ATOMIC_H
#define XENAMP_COMPAT_METAL_ATOMIC_H

#include <stdatomic.h>

#endif

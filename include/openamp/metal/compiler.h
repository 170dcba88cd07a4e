/* libmetal compatibility: <metal/compiler.h> (GCC and Clang). */
#ifndef XENAMP_COMPAT_METAL_COMPILER_H
#define XENAMP_COMPAT_METAL_COMPILER_H

#ifdef __cplusplus
#define restrict __restrict__
#endif
#define metal_align(n)       __attribute__((aligned(n)))
#define metal_weak           __attribute__((weak))
#define METAL_PACKED_BEGIN
#define METAL_PACKED_END     __attribute__((__packed__))
#ifndef metal_unreachable
#define metal_unreachable()  __builtin_unreachable()
#endif

#endif

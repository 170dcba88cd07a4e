/* <limits.h> for freestanding firmware builds: the compiler's own.
 * GCC's limits.h, when it is not told that a C library's limits.h has
 * been read, includes "syslimits.h", which goes looking for the C
 * library's with #include_next and fails under -nostdinc. There is no C
 * library here: say so, and take the compiler's definitions (clang's
 * header looks for no C library in a freestanding build anyway). */
#ifndef XENAMP_FW_LIMITS_H
#define XENAMP_FW_LIMITS_H

#ifndef _LIBC_LIMITS_H_
#define _LIBC_LIMITS_H_ 1
#endif
#include_next <limits.h>

#endif

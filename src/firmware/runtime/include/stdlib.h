/* <stdlib.h> of the firmware runtime: what a bare-metal application may
 * use of it. There is no heap (the runtime allocates nothing: storage is
 * static), so malloc and free are not declared: a call fails to build
 * instead of failing at run time. exit() ends the domain as a return
 * from fw_main does (0: power off, anything else: crash); abort()
 * crashes it. Implemented in stdio.c. */
#ifndef XENAMP_FW_STDLIB_H
#define XENAMP_FW_STDLIB_H

#include <stddef.h>

#define EXIT_SUCCESS 0
#define EXIT_FAILURE 1

__attribute__((noreturn)) void exit(int status);
__attribute__((noreturn)) void abort(void);
int abs(int v);
long labs(long v);

#endif

/* <string.h> of the firmware runtime (freestanding builds use
 * -nostdinc: only the compiler's own headers and these). The functions
 * are in string.c; this is the whole list the runtime, src/core and the
 * examples may call. */
#ifndef XENAMP_FW_STRING_H
#define XENAMP_FW_STRING_H

#include <stddef.h>

void *memcpy(void *restrict d, const void *restrict s, size_t n);
void *memmove(void *d, const void *s, size_t n);
void *memset(void *d, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
size_t strnlen(const char *s, size_t max);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
char *strchr(const char *s, int c);

#endif

/* <stdio.h> of the firmware runtime: the console output an application
 * written for a bare-metal target prints with (OpenAMP's demos call
 * printf). Everything goes to the PV console (fw_write); stdout and
 * stderr are the same console. The formats are fw_vsnprintf's (fw.h):
 * %s %c %d %i %u %x %X %p %% with l/ll/z, 0/- flags, a width and %.*s;
 * no floating point (the runtime is built -mgeneral-regs-only). One call
 * prints at most 511 bytes. No input, no files. Implemented in stdio.c. */
#ifndef XENAMP_FW_STDIO_H
#define XENAMP_FW_STDIO_H

#include <stdarg.h>
#include <stddef.h>

#define EOF (-1)

typedef struct fw_stdio_stream FILE;
extern FILE *const stdout;
extern FILE *const stderr;

int printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int vprintf(const char *fmt, va_list ap);
int fprintf(FILE *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int vfprintf(FILE *f, const char *fmt, va_list ap);
int snprintf(char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
/* puts adds a newline, as C's; fputs does not. */
int puts(const char *s);
int fputs(const char *s, FILE *f);
int putchar(int c);
int fflush(FILE *f);

#endif

/* The C library calls of include/stdio.h and include/stdlib.h, over the
 * PV console and the runtime's shutdown (fw.h). A bare-metal application
 * written against C's names (OpenAMP's demos: printf, exit) builds
 * unchanged; the runtime itself never calls these. */
#include <stdio.h>
#include <stdlib.h>

#include "fw.h"

/* The streams are tokens: both are the console. */
struct fw_stdio_stream {
	int unused;
};
static struct fw_stdio_stream console_stream;
FILE *const stdout = &console_stream;
FILE *const stderr = &console_stream;

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	return fw_vsnprintf(buf, size, fmt, ap);
}

int snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = fw_vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

/* One console write per call, so that lines of one call stay together;
 * longer output is cut at the buffer (documented in stdio.h). */
int vprintf(const char *fmt, va_list ap)
{
	char line[512];
	int n = fw_vsnprintf(line, sizeof(line), fmt, ap);

	if (n > 0)
		fw_write(line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
	return n;
}

int printf(const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vprintf(fmt, ap);
	va_end(ap);
	return n;
}

int vfprintf(FILE *f, const char *fmt, va_list ap)
{
	(void)f;
	return vprintf(fmt, ap);
}

int fprintf(FILE *f, const char *fmt, ...)
{
	va_list ap;
	int n;

	(void)f;
	va_start(ap, fmt);
	n = vprintf(fmt, ap);
	va_end(ap);
	return n;
}

int fputs(const char *s, FILE *f)
{
	(void)f;
	fw_puts(s);
	return 0;
}

int puts(const char *s)
{
	fw_puts(s);
	fw_write("\n", 1);
	return 0;
}

int putchar(int c)
{
	char ch = (char)c;

	fw_write(&ch, 1);
	return (unsigned char)ch;
}

/* The console is written through at every call. */
int fflush(FILE *f)
{
	(void)f;
	return 0;
}

void exit(int status)
{
	if (status == 0) {
		fw_printf("xenamp-fw: exit(0): power off\n");
		fw_poweroff();
	}
	fw_printf("xenamp-fw: exit(%d): crash\n", status);
	fw_crash();
}

void abort(void)
{
	fw_fatal("abort() called");
}

int abs(int v)
{
	return v < 0 ? -v : v;
}

long labs(long v)
{
	return v < 0 ? -v : v;
}

/* libxenamp's error line (per thread) and debug output. */
#include <stdarg.h>
#include <stdio.h>

#include "frontend/fe_internal.h"

static __thread char last_error[XA_FE_ERRLEN] = "no error";

void xa_fe_set_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(last_error, sizeof(last_error), fmt, ap);
	va_end(ap);
}

const char *xenamp_strerror_last(void)
{
	return last_error;
}

void xa_fe_dbg(const struct xenamp_dev *d, const char *fmt, ...)
{
	va_list ap;

	if (!d->debug)
		return;
	va_start(ap, fmt);
	fprintf(stderr, "libxenamp[%s/%u]: ", d->partition, d->devno);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

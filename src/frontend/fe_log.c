/* libxenamp's error line (per thread) and debug output on stderr when
 * XENAMP_DEBUG is set (the core's error and debug, core/fe_env.h). */
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

void xa_fe_posix_error(struct xa_fe_core *c, const char *line)
{
	(void)c;
	xa_fe_set_error("%s", line);
}

void xa_fe_posix_debug(struct xa_fe_core *c, const char *line)
{
	const struct xenamp_dev *d = xa_fe_sess(c);

	fprintf(stderr, "libxenamp[%s/%u]: %s\n", d->partition, d->devno, line);
}

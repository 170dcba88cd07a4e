/* xenstore helpers (xen_store.h). */
#include <config.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/xen_store.h"

static int build_path(char path[XA_XS_PATH_MAX], const char *dir, const char *key)
{
	int n = key != NULL ? snprintf(path, XA_XS_PATH_MAX, "%s/%s", dir, key)
			    : snprintf(path, XA_XS_PATH_MAX, "%s", dir);

	return (n < 0 || n >= XA_XS_PATH_MAX) ? -ENAMETOOLONG : 0;
}

int xa_xs_get(struct xs_handle *xs, const char *dir, const char *key,
	      char **out)
{
	return xa_xs_get_tx(xs, XBT_NULL, dir, key, out);
}

int xa_xs_get_tx(struct xs_handle *xs, xs_transaction_t tx, const char *dir,
		 const char *key, char **out)
{
	char path[XA_XS_PATH_MAX];
	unsigned len;
	int rc = build_path(path, dir, key);

	*out = NULL;
	if (rc < 0)
		return rc;
	*out = xs_read(xs, tx, path, &len);
	if (*out == NULL)
		return errno != 0 ? -errno : -ENOENT;
	return 0;
}

int xa_xs_get_uint(struct xs_handle *xs, const char *dir, const char *key,
		   unsigned long *v)
{
	return xa_xs_get_uint_tx(xs, XBT_NULL, dir, key, v);
}

int xa_xs_get_uint_tx(struct xs_handle *xs, xs_transaction_t tx,
		      const char *dir, const char *key, unsigned long *v)
{
	char *s, *end;
	int rc = xa_xs_get_tx(xs, tx, dir, key, &s);

	if (rc < 0)
		return rc;
	errno = 0;
	*v = strtoul(s, &end, 10);
	/* strtoul accepts leading blanks and a sign: only digits are ours. */
	rc = (errno != 0 || end == s || *end != '\0' || s[0] < '0' || s[0] > '9')
		? -EINVAL : 0;
	free(s);
	return rc;
}

int xa_xs_put(struct xs_handle *xs, xs_transaction_t tx, const char *dir,
	      const char *key, const char *fmt, ...)
{
	char path[XA_XS_PATH_MAX], val[XA_XS_VALUE_MAX];
	va_list ap;
	int n, rc = build_path(path, dir, key);

	if (rc < 0)
		return rc;
	va_start(ap, fmt);
	n = vsnprintf(val, sizeof(val), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(val))
		return -EOVERFLOW;
	return xs_write(xs, tx, path, val, (unsigned)n) ? 0 : -errno;
}

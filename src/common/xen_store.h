/* xenstore helpers both Xen transports use (built only with HAVE_XEN).
 *
 * One contract for all of them: 0 on success or a negative errno value,
 * never a bool. A key is addressed as (dir, key); key NULL means dir
 * itself. Paths and values that do not fit the fixed buffers are refused
 * with -ENAMETOOLONG / -EOVERFLOW rather than silently truncated, since a
 * truncated path would read or write another node. */
#ifndef XENAMP_COMMON_XEN_STORE_H
#define XENAMP_COMMON_XEN_STORE_H

#include <xenstore.h>

#define XA_XS_PATH_MAX 256   /* longest path we build, NUL included */
#define XA_XS_VALUE_MAX 160  /* longest value we write, NUL included */

/* Read (dir[/key]) outside a transaction; *out is malloc'd and
 * NUL-terminated (free it). -ENOENT when the node does not exist, other
 * -errno values from xenstore. */
int xa_xs_get(struct xs_handle *xs, const char *dir, const char *key,
	      char **out);

/* Read (dir[/key]) as a decimal unsigned long: the whole value must be
 * digits. -ENOENT when absent, -EINVAL when not a number. The value is
 * the other side's: the caller still range-checks it. */
int xa_xs_get_uint(struct xs_handle *xs, const char *dir, const char *key,
		   unsigned long *v);

/* The same two inside transaction tx (XBT_NULL: none). */
int xa_xs_get_tx(struct xs_handle *xs, xs_transaction_t tx, const char *dir,
		 const char *key, char **out);
int xa_xs_get_uint_tx(struct xs_handle *xs, xs_transaction_t tx,
		      const char *dir, const char *key, unsigned long *v);

/* Write printf-formatted value to dir/key in transaction tx (XBT_NULL:
 * none). */
int xa_xs_put(struct xs_handle *xs, xs_transaction_t tx, const char *dir,
	      const char *key, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

#endif

/* The partition-name rule: what may name a partition (the PARTITION of an
 * end PARTITION:DEVNO), wherever a name enters the backend -- xenamp.conf
 * (end-a, end-b), the local socket's HELLO, the control request link-add
 * and libvirt metadata. One rule, so that a name accepted in one place is
 * accepted in all of them.
 *
 * The rule: 1 to XA_PARTITION_NAME_MAX - 1 bytes, each printable ASCII
 * other than blank (0x21..0x7e), except ':'.
 *
 *   - It is wide because the name must equal the partition's own name: a
 *     Xen domain name (xl and libvirt accept '-', '.', '_', '@', '+' and
 *     more) or whatever a local partition passes to xenamp_open(). A
 *     narrower rule would leave such domains unable to have an end.
 *   - '@' is allowed: nothing in xenamp gives it a meaning (xenstore's
 *     special "@..." watch paths are never built from a partition name;
 *     the backend's xenstore paths use domain ids).
 *   - ':' is refused: it separates PARTITION from DEVNO in
 *     "PARTITION[:DEVNO]", so a name holding one could not be written
 *     in xenamp.conf or link-add.
 *   - blanks and control bytes are refused: names appear in log lines,
 *     xenampctl output and configuration files, one token each.
 *
 * The limit is XA_PARTITION_NAME_MAX bytes with the NUL, the size of the
 * name field of the local protocol's HELLO (local_proto.h) and of every
 * buffer that holds a partition name. */
#ifndef XENAMP_COMMON_PARTITION_NAME_H
#define XENAMP_COMMON_PARTITION_NAME_H

#include <stddef.h>

#define XA_PARTITION_NAME_MAX 64u   /* bytes, NUL included: 63 characters */

/* Check the n bytes s[0..n) as a partition name (s need not be
 * NUL-terminated). Returns 0, or -EINVAL with one line saying why in
 * why (may be NULL). */
int xa_partition_name_check(const char *s, size_t n, char *why, size_t whylen);

/* Check a fixed-size wire field of fieldlen bytes (at most
 * XA_PARTITION_NAME_MAX is meaningful) that must hold a NUL-terminated
 * name: the name ends at the first NUL, which must lie inside the field.
 * Returns 0 or -EINVAL with why filled, as above. Reads no byte past
 * field[fieldlen - 1]. */
int xa_partition_name_check_field(const char *field, size_t fieldlen,
				  char *why, size_t whylen);

#endif

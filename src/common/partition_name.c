/* The partition-name rule (partition_name.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/local_proto.h"
#include "common/partition_name.h"

/* The HELLO field carries exactly what this rule allows. */
_Static_assert(XA_LOCAL_NAME_MAX == XA_PARTITION_NAME_MAX,
	       "the local protocol's name field and the partition-name limit differ");

static int refuse(char *why, size_t whylen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int refuse(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;

	if (why != NULL && whylen > 0) {
		va_start(ap, fmt);
		vsnprintf(why, whylen, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

int xa_partition_name_check(const char *s, size_t n, char *why, size_t whylen)
{
	if (n == 0)
		return refuse(why, whylen, "partition name is empty");
	if (n >= XA_PARTITION_NAME_MAX)
		return refuse(why, whylen,
			      "partition name of %zu characters is too long: a partition name of 1 to %zu characters is needed",
			      n, (size_t)XA_PARTITION_NAME_MAX - 1);
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch < 0x21 || ch > 0x7e)
			return refuse(why, whylen,
				      "partition name has a non-printable or blank character at %zu (only printable characters without blanks are allowed)",
				      i);
		if (ch == ':')
			return refuse(why, whylen,
				      "partition name has ':' at %zu; ':' separates PARTITION from DEVNO",
				      i);
	}
	return 0;
}

int xa_partition_name_check_field(const char *field, size_t fieldlen,
				  char *why, size_t whylen)
{
	const char *nul = memchr(field, '\0', fieldlen);

	if (nul == NULL)
		return refuse(why, whylen,
			      "partition name is not NUL-terminated within %zu bytes (at most %zu characters)",
			      fieldlen, (size_t)XA_PARTITION_NAME_MAX - 1);
	return xa_partition_name_check(field, (size_t)(nul - field), why, whylen);
}

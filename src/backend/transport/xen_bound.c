/* See xen_bound.h. */
#include <config.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "backend/transport/xen_bound.h"

/* A plain decimal at *s up to the next '/' or the end: no sign, no
 * leading zero, at most max. Advances *s past it. */
static bool take_uint(const char **s, unsigned long max, unsigned *out)
{
	const char *p = *s;
	unsigned long v = 0;

	if (*p < '0' || *p > '9' || (p[0] == '0' && p[1] >= '0' && p[1] <= '9'))
		return false;
	for (; *p >= '0' && *p <= '9'; p++) {
		v = v * 10 + (unsigned long)(*p - '0');
		if (v > max)
			return false;
	}
	*s = p;
	*out = (unsigned)v;
	return true;
}

static bool take_lit(const char **s, const char *lit)
{
	size_t n = strlen(lit);

	if (strncmp(*s, lit, n) != 0)
		return false;
	*s += n;
	return true;
}

int xa_xb_fe_path(const char *path, const char *type, unsigned *domid,
		  unsigned *devno)
{
	const char *p = path;
	unsigned d, n;

	if (!take_lit(&p, "/local/domain/") || !take_uint(&p, 0x7fef, &d) ||
	    !take_lit(&p, "/device/") || !take_lit(&p, type) ||
	    !take_lit(&p, "/") || !take_uint(&p, 0xffff, &n))
		return -1;
	if (*p != '\0' && *p != '/')
		return -1;
	*domid = d;
	*devno = n;
	return 0;
}

unsigned xa_xb_listing_cap(unsigned long npages)
{
	/* backend, backend-id, state, buf-size, buf-count, max-pages,
	 * num-pages, event-channel, error: 9 keys; 7 more for a frontend
	 * version's additions. */
	return (unsigned)npages + 16u;
}

/* The index of "ring-refK" (canonical decimal K < npages), or -1. */
static long ref_index(const char *name, unsigned long npages)
{
	const char *p = name;
	unsigned idx;

	if (npages == 0 || !take_lit(&p, "ring-ref") ||
	    !take_uint(&p, npages - 1, &idx) || *p != '\0')
		return -1;
	return (long)idx;
}

int xa_xb_refs_listed(char *const *names, unsigned num, unsigned long npages,
		      unsigned long *missing)
{
	unsigned long found = 0;
	unsigned char *seen;

	if (num > xa_xb_listing_cap(npages))
		return -E2BIG;
	/* A listing names each node once and K is canonical (no leading
	 * zero), so distinct names are distinct indices: counting them is
	 * enough to know that all are there. */
	for (unsigned i = 0; i < num; i++)
		found += ref_index(names[i], npages) >= 0;
	if (found == npages)
		return 0;
	/* Which one is missing, for the error line only. */
	*missing = npages;
	seen = calloc((npages + 7) / 8, 1);
	if (seen == NULL)
		return -ENOENT;
	for (unsigned i = 0; i < num; i++) {
		long k = ref_index(names[i], npages);

		if (k >= 0)
			seen[k / 8] |= (unsigned char)(1u << (k % 8));
	}
	for (unsigned long i = 0; i < npages; i++)
		if (!(seen[i / 8] & (1u << (i % 8)))) {
			*missing = i;
			break;
		}
	free(seen);
	return -ENOENT;
}

uint64_t xa_xb_rate_take(uint64_t *tat, uint64_t now_ms, uint32_t burst,
			 uint64_t interval_ms)
{
	uint64_t t = *tat > now_ms ? *tat : now_ms;
	uint64_t slack = (uint64_t)(burst ? burst - 1 : 0) * interval_ms;

	/* t - now is how far ahead of now the allowed events already
	 * reach; burst - 1 intervals of it are allowed. */
	if (t - now_ms > slack)
		return t - now_ms - slack;
	*tat = t + interval_ms;
	return 0;
}

/* What every partition-side transport checks before it shares the same
 * region with a backend again (fe_transport.h). One place, so that the
 * local and the Xen transport take the same decision on the same facts. */
#include <config.h>

#include <errno.h>
#include <stdio.h>

#include "common/refusal.h"
#include "frontend/transport/fe_transport.h"

int xa_fe_reconnect_refused(int refusal, const char *text, char *err,
			    size_t errlen)
{
	snprintf(err, errlen, "xenamp-backend refused this end (%s): %s",
		 xa_refusal_name(refusal), text[0] ? text : "(no reason given)");
	return xa_refusal_errno(refusal);
}

int xa_fe_reconnect_params_ok(const struct xa_link_params *got,
			      const struct xa_link_params *want,
			      uint32_t region_pages, char *err, size_t errlen)
{
	/* The rings and buffers in the region were laid out for want: any
	 * other buffer size or count would make the backend misread them,
	 * and a smaller page limit would refuse the region anyway. */
	if (got->buf_size == want->buf_size && got->buf_count == want->buf_count &&
	    got->max_pages >= region_pages)
		return 0;
	snprintf(err, errlen,
		 "the restarted xenamp-backend has different link parameters (now buf-size %u, buf-count %u, max-pages %u; this end has %u, %u and a region of %u pages)",
		 got->buf_size, got->buf_count, got->max_pages,
		 want->buf_size, want->buf_count, region_pages);
	return -EPROTO;
}

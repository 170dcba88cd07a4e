/* Registering a firmware's link parameters with xenamp-backend: the seam.
 *
 * The backend learns the parameters of a link (buffer count and size,
 * largest region) from xenamp.conf today. The next step is a control-socket
 * request (see src/platform/local_proto.h) so that booting a firmware
 * registers its end by itself; it will be implemented here and nowhere
 * else. Until then this only prints what the configuration must say. */
#include <config.h>

#include <stdio.h>

#include "boot.h"

int fw_register_link(const struct fw_image *img, const char *name, bool dry_run)
{
	fprintf(stderr,
		"xenamp-load: %s: link parameters not registered automatically yet; "
		"xenamp.conf must give this end buf-count %u buf-size %u (region >= %u pages)%s\n",
		name, (unsigned)img->link.buf_count, (unsigned)img->link.buf_size,
		(unsigned)img->link.max_pages, dry_run ? " [dry run]" : "");
	return XLD_EXIT_OK;
}

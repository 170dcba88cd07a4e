/* What the backend tells a partition about its end of a link before the
 * partition lays out its shared region. The same values go through
 * xenstore (Xen) or the socket (local). */
#ifndef XENAMP_COMMON_LINK_PARAMS_H
#define XENAMP_COMMON_LINK_PARAMS_H

#include <stdint.h>

struct xa_link_params {
	uint32_t buf_size;    /* bytes per RPMsg buffer, header included */
	uint32_t buf_count;   /* buffers per direction (= vring num), power of two */
	uint32_t max_pages;   /* largest region the backend will map, in 4 KiB pages */
};

#endif

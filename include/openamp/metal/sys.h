/* libmetal compatibility: <metal/sys.h>, the application-facing part:
 * metal_init() / metal_finish() and their parameters. Under xenamp there
 * is no device, bus or interrupt layer to set up: metal_init() sets the
 * process-wide log handler and level (metal/log.h) and counts calls;
 * metal_finish() undoes one. Physical addresses (metal_phys_addr_t) are
 * what an application's own metal_io_region says they are. */
#ifndef XENAMP_COMPAT_METAL_SYS_H
#define XENAMP_COMPAT_METAL_SYS_H

#include <stdint.h>

#include <metal/log.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef unsigned long metal_phys_addr_t;
#define METAL_BAD_PHYS   ((metal_phys_addr_t)-1)
#define METAL_BAD_OFFSET ((unsigned long)-1)
#define METAL_BAD_VA     ((void *)-1)

struct metal_init_params {
	metal_log_handler log_handler;     /* NULL: log nothing */
	enum metal_log_level log_level;
};

#ifndef METAL_INIT_DEFAULTS
#define METAL_INIT_DEFAULTS \
	{ \
		.log_handler = metal_default_log_handler, \
		.log_level = METAL_LOG_INFO, \
	}
#endif

/* 0 (never fails). params NULL: METAL_INIT_DEFAULTS. Nested calls are
 * counted; each sets the log handler and level. */
int metal_init(const struct metal_init_params *params);
/* Undo one metal_init() (nothing is left to release). */
void metal_finish(void);

#ifdef __cplusplus
}
#endif

#endif

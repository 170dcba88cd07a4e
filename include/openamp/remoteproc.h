/* OpenAMP compatibility: <openamp/remoteproc.h>.
 *
 * Loading and starting a remote processor is xenamp-load's job (it boots
 * firmware as a Xen domain or a local partition); the remoteproc_* life
 * cycle API is not provided. The opaque type is declared so that sources
 * that only pass `struct remoteproc *` around still build. */
#ifndef XENAMP_COMPAT_OPENAMP_REMOTEPROC_H
#define XENAMP_COMPAT_OPENAMP_REMOTEPROC_H

#include <stddef.h>
#include <stdint.h>

#include <xenamp/rsc_table.h>

#ifdef __cplusplus
extern "C" {
#endif

struct remoteproc;

#ifdef __cplusplus
}
#endif

#endif

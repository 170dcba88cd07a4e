/* OpenAMP compatibility: <openamp/version.h>. Reports the OpenAMP API
 * level xenamp follows (2024.x style numbering is not implied). */
#ifndef XENAMP_COMPAT_OPENAMP_VERSION_H
#define XENAMP_COMPAT_OPENAMP_VERSION_H

#define OPENAMP_VERSION_MAJOR 1
#define OPENAMP_VERSION_MINOR 0
#define OPENAMP_VERSION_PATCH 0
#define OPENAMP_VERSION "1.0.0-xenamp"

static inline int openamp_version_major(void) { return OPENAMP_VERSION_MAJOR; }
static inline int openamp_version_minor(void) { return OPENAMP_VERSION_MINOR; }
static inline int openamp_version_patch(void) { return OPENAMP_VERSION_PATCH; }
static inline const char *openamp_version(void) { return OPENAMP_VERSION; }

#endif

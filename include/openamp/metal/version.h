/* libmetal compatibility: <metal/version.h>. xenamp needs no libmetal; the
 * version reported is that of this shim. */
#ifndef XENAMP_COMPAT_METAL_VERSION_H
#define XENAMP_COMPAT_METAL_VERSION_H

#define METAL_VER_MAJOR 1
#define METAL_VER_MINOR 0
#define METAL_VER_PATCH 0
#define METAL_VER "1.0.0-xenamp"

static inline int metal_ver_major(void) { return METAL_VER_MAJOR; }
static inline int metal_ver_minor(void) { return METAL_VER_MINOR; }
static inline int metal_ver_patch(void) { return METAL_VER_PATCH; }
static inline const char *metal_ver(void) { return METAL_VER; }

#endif

/* OpenAMP compatibility: <openamp/rpmsg.h>.
 *
 * libxenamp implements OpenAMP's RPMsg endpoint API itself (same names,
 * signatures, error codes and semantics, see <xenamp/rpmsg.h>); this header
 * only maps OpenAMP's include path onto it and adds the few names OpenAMP
 * applications also use. Install path: $(includedir)/xenamp/compat/openamp,
 * found through `pkg-config --cflags xenamp-openamp`. */
#ifndef XENAMP_COMPAT_OPENAMP_RPMSG_H
#define XENAMP_COMPAT_OPENAMP_RPMSG_H

#include <metal/compiler.h>
#include <metal/list.h>
#include <metal/mutex.h>
#include <metal/utilities.h>
#include <xenamp/rpmsg.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Newer OpenAMP releases call the name-service bind callback type this. */
typedef rpmsg_ns_bind_cb rpmsg_unbound_service_cb;

#ifndef RPMSG_NS_CREATE
#define RPMSG_NS_CREATE  0
#define RPMSG_NS_DESTROY 1
#endif

#ifdef __cplusplus
}
#endif

#endif

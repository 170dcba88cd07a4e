/* OpenAMP compatibility: <openamp/open_amp.h>, the umbrella header. As
 * OpenAMP's, it brings in libmetal's io, sys and log headers (through
 * rpmsg_virtio.h), so that metal_info() / metal_err() / METAL_LOG_* need
 * no include of their own. */
#ifndef XENAMP_COMPAT_OPENAMP_OPEN_AMP_H
#define XENAMP_COMPAT_OPENAMP_OPEN_AMP_H

#include <openamp/rpmsg.h>
#include <openamp/rpmsg_virtio.h>
#include <openamp/remoteproc.h>
#include <openamp/virtio.h>

#endif

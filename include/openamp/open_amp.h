/* OpenAMP compatibility: <openamp/open_amp.h>, the umbrella header. */
#ifndef XENAMP_COMPAT_OPENAMP_OPEN_AMP_H
#define XENAMP_COMPAT_OPENAMP_OPEN_AMP_H

#include <openamp/rpmsg.h>
#include <openamp/rpmsg_virtio.h>
#include <openamp/remoteproc.h>
#include <openamp/virtio.h>

#endif

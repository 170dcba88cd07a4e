/* The firmware API over libxenamp (fw_host.c): what an example built as a
 * process needs besides the calls of fw.h and fw_rpmsg.h it implements. */
#ifndef XENAMP_FW_HOST_H
#define XENAMP_FW_HOST_H

/* Close the device fw_rpmsg_open opened (flushes what was sent). */
void fw_host_close(void);

#endif

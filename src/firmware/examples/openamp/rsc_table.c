/* The resource table of the OpenAMP example firmware (an OpenAMP machine
 * layer keeps it in its own rsc_table.c): one RPMsg vdev with 256 buffers
 * each way, which xenamp-load reads from the image. Linked only into the
 * firmware builds; the local-mode processes get their link from
 * xenamp.conf. */
#include <xenamp/fw_rsc_table.h>

XENAMP_FW_RSC_TABLE_RPMSG(256);

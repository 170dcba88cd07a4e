/* Second translation unit of oa-metal. Includes <openamp/open_amp.h> and
 * nothing else, as OpenAMP's system-reference examples do, and still has
 * metal_info / metal_err / METAL_LOG_NOTICE (open_amp.h brings in
 * metal/log.h). Logs at a given level, so that oa-metal.c can check that
 * the level and handler it set apply here too (one per process). */
#include <openamp/open_amp.h>

void oa_metal_log_from_other_file(int n);

void oa_metal_log_from_other_file(int n)
{
	metal_log(METAL_LOG_NOTICE, "notice %d\n", n);
	metal_info("info %d\n", n);
	metal_dbg("debug %d\n", n);
	metal_err("error %d\n", n);
}

/* main() of an example application built as a process (see
 * src/firmware/host/fw_host.c): what the firmware runtime's boot does for
 * the same file, run fw_main, then close the device; fw_main's return
 * value is the exit status. */
#include "firmware/runtime/fw.h"
#include "firmware/host/fw_host.h"

int main(void)
{
	int rc = fw_main();

	fw_host_close();
	return rc;
}

/* The smallest firmware: says hello on the PV console, reads who it is
 * from xenstore, shows that time runs, and returns 0, which powers the
 * domain off. With "crash" on its command line (xl's extra=) it returns
 * 1 instead, which crashes it (tests/xen checks both). */
#include "firmware/runtime/fw.h"

static int show(const char *key)
{
	char v[128];
	int rc = fw_xs_read(0, key, v, sizeof(v), NULL);

	if (rc < 0) {
		fw_printf("hello: xenstore read of '%s' failed: %d\n", key, rc);
		return rc;
	}
	fw_printf("hello: xenstore %s = %s\n", key, v);
	return 0;
}

int fw_main(void)
{
	uint64_t t0 = fw_now_ns();

	fw_printf("hello: firmware running\n");
	if (show("domid") < 0 || show("name") < 0)
		return 2;
	fw_sleep_ms(100);
	fw_printf("hello: slept %lu ms by Xen's clock\n",
		  (unsigned long)((fw_now_ns() - t0) / 1000000u));
	if (strcmp(fw_info()->cmdline, "crash") == 0) {
		fw_printf("hello: asked to crash\n");
		return 1;
	}
	fw_printf("hello: done\n");
	return 0;
}

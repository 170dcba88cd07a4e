/* The firmware API an RPMsg example uses (fw_main, fw_printf,
 * fw_rpmsg_open/poll/strerror_last), over libxenamp, so that the same
 * application file builds as a bare-metal Xen firmware (linked with
 * libxenamp-fw.a) and as an ordinary process of a local-mode or Linux
 * partition (linked with this file and libxenamp). The RPMsg calls are
 * the same code in both: libxenamp's driver core (src/frontend/core).
 *
 * The partition is $XENAMP_PARTITION, the transport libxenamp's usual
 * choice ($XENAMP_TRANSPORT, $XENAMP_SOCKET). main() is
 * src/firmware/examples/host_main.c (it calls the application's fw_main,
 * which lives above this file). */
#include <stdarg.h>
#include <stdio.h>

#include <xenamp/xenamp.h>

#include "firmware/runtime/fw.h"
#include "firmware/rpmsg/fw_rpmsg.h"
#include "firmware/host/fw_host.h"

static struct xenamp_dev *dev;

int fw_printf(const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vprintf(fmt, ap);
	va_end(ap);
	fflush(stdout);
	return n;
}

int fw_rpmsg_open(unsigned devno, uint32_t timeout_ms, struct rpmsg_device **rdev)
{
	struct xenamp_opts o = { .connect_timeout_ms = (int)timeout_ms };
	int rc;

	if (dev != NULL)
		return -FW_EEXIST;
	rc = xenamp_open(NULL, devno, &o, &dev);
	if (rc != 0) {
		fprintf(stderr, "%s\n", xenamp_strerror_last());
		return -FW_EIO;
	}
	*rdev = xenamp_rpmsg_dev(dev);
	return 0;
}

int fw_rpmsg_poll(struct rpmsg_device *rdev, uint32_t timeout_ms)
{
	if (dev == NULL || rdev != xenamp_rpmsg_dev(dev))
		return RPMSG_ERR_PARAM;
	return xenamp_dispatch(dev, timeout_ms > 0x7fffffffu ? 0x7fffffff :
				    (int)timeout_ms);
}

const char *fw_rpmsg_strerror_last(void)
{
	return xenamp_strerror_last();
}

void fw_host_close(void)
{
	xenamp_close(dev);
	dev = NULL;
}

/* OpenAMP's rpc_demo, the firmware side, written only against OpenAMP's
 * headers and names (<openamp/rpmsg_retarget.h>, the demo platform
 * layer): console output, console input and file I/O served by the other
 * partition (xenamp-rpc-proxy in tests/openamp/test-rpc.sh).
 *
 * As OpenAMP's demo: rpmsg_rpc_init on "rpmsg-openamp-demo-channel",
 * rpmsg_set_default_rpc, then printf, a file created and written, read
 * back, closed; scanf of a name from the host's console; TERM. Newlib
 * firmware calls open()/read()/write()/close(); glibc does not route
 * those through the retarget layer, so this program calls their newlib
 * names (_open...) directly. The flags are Linux's O_* values, spelt as
 * OpenAMP's demo spells them.
 *
 * Checks (one line each on stderr when they fail): the bytes read back
 * are those written; the console line arrives; the proxy refuses a path
 * leaving its root, an unknown fd and a foreign O_ flag. Prints
 * "oa-rpc-demo fw: ok" locally once stdout is the partition's own again
 * (after rpmsg_rpc_release). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openamp/open_amp.h>
#include <openamp/rpmsg_retarget.h>
#include "platform_info.h"

#define RPMSG_SERVICE_NAME "rpmsg-openamp-demo-channel"

#define REDEF_O_CREAT   0000100
#define REDEF_O_EXCL    0000200
#define REDEF_O_RDONLY  0000000
#define REDEF_O_WRONLY  0000001
#define REDEF_O_RDWR    0000002
#define REDEF_O_APPEND  0002000
#define REDEF_O_ACCMODE 0000003

static int failures;
static int shut_down;

#define CHECK(cond) \
	do { \
		if (!(cond)) { \
			fprintf(stderr, "oa-rpc-demo fw: check failed at line %d: %s\n", \
				__LINE__, #cond); \
			failures++; \
		} \
	} while (0)

static void rpmsg_rpc_shutdown(struct rpmsg_rpc_data *rpc)
{
	(void)rpc;
	shut_down = 1;
}

static const char wbuff[] = "This is a test string being written to file..";

/* Create, write, close, reopen, read back, close. */
static void file_io(void)
{
	char rbuff[1024];
	int fd, bytes_written, bytes_read;

	fd = _open("remote.file", REDEF_O_CREAT | REDEF_O_WRONLY | REDEF_O_APPEND, 0600);
	printf("\nRemote>Opened file '%s' with fd = %d\r\n", "remote.file", fd);
	CHECK(fd >= 3);
	bytes_written = _write(fd, wbuff, (int)strlen(wbuff));
	printf("\nRemote>Wrote to fd = %d, size = %d, content = %s\r\n", fd,
	       bytes_written, wbuff);
	CHECK(bytes_written == (int)strlen(wbuff));
	CHECK(_close(fd) == 0);

	fd = _open("remote.file", REDEF_O_RDONLY, 0);
	CHECK(fd >= 3);
	memset(rbuff, 0, sizeof(rbuff));
	bytes_read = _read(fd, rbuff, (int)sizeof(rbuff) - 1);
	printf("\nRemote>Read from fd = %d, size = %d, printing contents below .. %s\r\n",
	       fd, bytes_read, rbuff);
	CHECK(bytes_read == (int)strlen(wbuff));
	CHECK(memcmp(rbuff, wbuff, strlen(wbuff)) == 0);
	CHECK(_close(fd) == 0);
	CHECK(_close(fd) == -EBADF);
}

/* What the proxy must refuse (and say so in one line each). */
static void refusals(void)
{
	char b[8];

	CHECK(_open("../escape.file", REDEF_O_CREAT | REDEF_O_WRONLY, 0600) == -EACCES);
	CHECK(_open("/etc/passwd", REDEF_O_RDONLY, 0) == -EACCES);
	/* test-rpc.sh makes it a symbolic link to a file outside the root. */
	CHECK(_open("outside.link", REDEF_O_RDONLY, 0) == -EACCES);
	CHECK(_open("remote.file", REDEF_O_RDONLY | 0400000 /* O_NOFOLLOW */, 0) == -EINVAL);
	CHECK(_read(42, b, (int)sizeof(b)) == -EBADF);
	CHECK(_write(42, "x", 1) == -EBADF);
}

/* A long write goes out in pieces and comes back whole. */
static void long_write(void)
{
	static char big[3000], back[3000];
	int fd, n = 0, r;

	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (char)('a' + i % 26);
	fd = _open("big.file", REDEF_O_CREAT | REDEF_O_RDWR, 0600);
	CHECK(fd >= 3);
	CHECK(_write(fd, big, (int)sizeof(big)) == (int)sizeof(big));
	CHECK(_close(fd) == 0);
	fd = _open("big.file", REDEF_O_RDONLY, 0);
	while (n < (int)sizeof(back) && (r = _read(fd, back + n, (int)sizeof(back) - n)) > 0)
		n += r;
	CHECK(n == (int)sizeof(big));
	CHECK(memcmp(big, back, sizeof(big)) == 0);
	CHECK(_close(fd) == 0);
}

static int rpmsg_rpc_app(struct rpmsg_device *rdev, void *priv)
{
	struct rpmsg_rpc_data rpc;
	struct rpmsg_rpc_syscall rpccall;
	char ubuff[50];
	int ret;

	ret = rpmsg_rpc_init(&rpc, rdev, RPMSG_SERVICE_NAME, RPMSG_ADDR_ANY,
			     RPMSG_ADDR_ANY, priv, platform_poll, rpmsg_rpc_shutdown);
	rpmsg_set_default_rpc(&rpc);
	if (ret) {
		fprintf(stderr, "oa-rpc-demo fw: rpmsg_rpc_init failed: %d\n", ret);
		return -1;
	}
	printf("\nRemote>Baremetal Remote Procedure Call (RPC) Demonstration\r\n");
	printf("\nRemote>Rpmsg based retargetting to proxy initialized..\r\n");
	file_io();
	refusals();
	long_write();

	printf("\nRemote>Enter name\r\n");
	ret = scanf("%49s", ubuff);
	CHECK(ret == 1);
	if (ret == 1)
		printf("\nRemote>User name = '%s'\r\n", ubuff);
	CHECK(ret == 1 && strcmp(ubuff, "xenamp-user") == 0);

	printf("\nRemote> Firmware's rpmsg-rpc-channel going down! \r\n");
	rpccall.id = TERM_SYSCALL_ID;
	rpccall.args.int_field1 = rpccall.args.int_field2 = 0;
	rpccall.args.data_len = 0;
	CHECK(rpmsg_rpc_send(&rpc, &rpccall, sizeof(rpccall), NULL, 0) ==
	      (int)sizeof(rpccall));
	rpmsg_rpc_release(&rpc);
	CHECK(!shut_down);      /* we ended it: no shutdown callback */
	return 0;
}

int main(int argc, char *argv[])
{
	void *platform;
	struct rpmsg_device *rpdev;
	int ret;

	if (platform_init(argc, argv, &platform) != 0)
		return 1;
	rpdev = platform_create_rpmsg_vdev(platform, 0, VIRTIO_DEV_DEVICE, NULL, NULL);
	if (rpdev == NULL) {
		fprintf(stderr, "oa-rpc-demo fw: no rpmsg device\n");
		platform_cleanup(platform);
		return 1;
	}
	ret = rpmsg_rpc_app(rpdev, platform);
	platform_release_rpmsg_vdev(rpdev, platform);
	platform_cleanup(platform);
	if (ret != 0 || failures != 0) {
		printf("oa-rpc-demo fw: %d failed checks\n", failures);
		return 1;
	}
	printf("oa-rpc-demo fw: ok\n");
	return 0;
}

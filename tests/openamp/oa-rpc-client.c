/* The client of the RPC client/server pair, written only against
 * OpenAMP's headers and names, as OpenAMP's linux_rpc_demo: requests
 * with rpmsg_rpc_client_send, answers in a table of callbacks, each
 * waited for with platform_poll. Runs as partition "fw" against
 * oa-rpc-server (tests/openamp/test-rpc.sh).
 *
 * Checks: 20 + 22 = 42; "xenamp rpc" comes back "XENAMP RPC"; 84 / 2 =
 * 42 and a division by zero answered with status -1; an id the server
 * lacks answered with status RPMSG_RPC_INVALID_ID; an oversized request
 * refused with -EINVAL before anything is sent. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openamp/open_amp.h>
#include <openamp/rpmsg_rpc_client_server.h>
#include "platform_info.h"
#include "oa-rpc-cs.h"

static void *platform;
static atomic_flag wait_resp;
static int last_status, last_value, failures, shut_down;
static char last_str[RPC_STR_MAX + 1];

#define CHECK(cond) \
	do { \
		if (!(cond)) { \
			fprintf(stderr, "oa-rpc-client: check failed at line %d: %s\n", \
				__LINE__, #cond); \
			failures++; \
		} \
	} while (0)

static void rpmsg_rpc_shutdown(struct rpmsg_rpc_clt *rpc)
{
	(void)rpc;
	shut_down = 1;
}

static void int_cb(struct rpmsg_rpc_clt *rpc, int status, void *data, size_t len)
{
	struct rpc_resp_int r;

	(void)rpc;
	(void)len;
	memcpy(&r, data, sizeof(r));
	last_status = status;
	last_value = status == RPMSG_RPC_OK ? r.value : 0;
	atomic_flag_clear(&wait_resp);
}

static void str_cb(struct rpmsg_rpc_clt *rpc, int status, void *data, size_t len)
{
	struct rpc_req_str s;

	(void)rpc;
	(void)len;
	memcpy(&s, data, sizeof(s));
	last_status = status;
	memset(last_str, 0, sizeof(last_str));
	memcpy(last_str, s.s, s.len < RPC_STR_MAX ? s.len : RPC_STR_MAX);
	atomic_flag_clear(&wait_resp);
}

static void status_cb(struct rpmsg_rpc_clt *rpc, int status, void *data, size_t len)
{
	(void)rpc;
	(void)data;
	(void)len;
	last_status = status;
	atomic_flag_clear(&wait_resp);
}

static const struct rpmsg_rpc_client_services services[] = {
	{ RPC_ADD_ID, int_cb },
	{ RPC_UPPER_ID, str_cb },
	{ RPC_DIV_ID, int_cb },
	{ RPC_UNKNOWN_ID, status_cb },
};

/* Send until the server's endpoint is bound, then wait for the answer
 * (as linux_rpc_demo does, with a bound on both waits). */
static int call(struct rpmsg_rpc_clt *rpc, uint32_t id, void *p, size_t n)
{
	int tries;

	last_status = 12345;
	(void)atomic_flag_test_and_set(&wait_resp);
	for (tries = 0; rpmsg_rpc_client_send(rpc, id, p, n) < 0; tries++)
		if (tries > 20 || platform_poll(platform) < 0)
			return -1;
	for (tries = 0; atomic_flag_test_and_set(&wait_resp); tries++)
		if (tries > 20 || platform_poll(platform) < 0)
			return -1;
	return 0;
}

int main(int argc, char *argv[])
{
	struct rpmsg_rpc_clt rpc;
	struct rpmsg_device *rpdev;
	struct rpc_req_pair pair;
	struct rpc_req_str s;
	static unsigned char big[MAX_BUF_LEN];

	if (platform_init(argc, argv, &platform) != 0)
		return 1;
	rpdev = platform_create_rpmsg_vdev(platform, 0, VIRTIO_DEV_DEVICE, NULL, NULL);
	if (rpdev == NULL)
		return 1;
	CHECK(rpmsg_rpc_client_init(&rpc, rpdev, rpmsg_rpc_shutdown, services,
				    (int)(sizeof(services) / sizeof(services[0]))) == 0);

	pair.a = 20, pair.b = 22;
	CHECK(call(&rpc, RPC_ADD_ID, &pair, sizeof(pair)) == 0);
	CHECK(last_status == RPMSG_RPC_OK && last_value == 42);

	memset(&s, 0, sizeof(s));
	s.len = (uint32_t)strlen("xenamp rpc");
	memcpy(s.s, "xenamp rpc", s.len);
	CHECK(call(&rpc, RPC_UPPER_ID, &s, sizeof(s)) == 0);
	CHECK(last_status == RPMSG_RPC_OK && strcmp(last_str, "XENAMP RPC") == 0);

	pair.a = 84, pair.b = 2;
	CHECK(call(&rpc, RPC_DIV_ID, &pair, sizeof(pair)) == 0);
	CHECK(last_status == RPMSG_RPC_OK && last_value == 42);
	pair.b = 0;
	CHECK(call(&rpc, RPC_DIV_ID, &pair, sizeof(pair)) == 0);
	CHECK(last_status == -1);

	CHECK(call(&rpc, RPC_UNKNOWN_ID, NULL, 0) == 0);
	CHECK(last_status == RPMSG_RPC_INVALID_ID);

	CHECK(rpmsg_rpc_client_send(&rpc, RPC_ADD_ID, big, sizeof(big)) == -EINVAL);

	rpmsg_rpc_client_release(&rpc);
	CHECK(!shut_down);
	platform_release_rpmsg_vdev(rpdev, platform);
	platform_cleanup(platform);
	printf("oa-rpc-client: %s\n", failures ? "failed" : "ok");
	return failures ? 1 : 0;
}

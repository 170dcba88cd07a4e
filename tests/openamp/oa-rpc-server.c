/* The server of the RPC client/server pair, written only against
 * OpenAMP's headers and names (<openamp/rpmsg_rpc_client_server.h>, the
 * demo platform layer), as OpenAMP's linux_rpc_demod: a table of
 * services, each answering with rpmsg_rpc_server_send. Runs as partition
 * "host" (tests/openamp/test-rpc.sh) until the client's endpoint goes.
 *
 * Checks: each service ran once; the unknown id the client sends was
 * reported through the libmetal log exactly once (the library answers
 * it with RPMSG_RPC_INVALID_ID; the client checks that). */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <openamp/open_amp.h>
#include <openamp/rpmsg_rpc_client_server.h>
#include <metal/log.h>
#include "platform_info.h"
#include "oa-rpc-cs.h"

static struct rpmsg_rpc_svr rpc_svr;
static volatile int ept_deleted;
static int calls[4], unknown_logged, failures;

#define CHECK(cond) \
	do { \
		if (!(cond)) { \
			fprintf(stderr, "oa-rpc-server: check failed at line %d: %s\n", \
				__LINE__, #cond); \
			failures++; \
		} \
	} while (0)

static void log_handler(enum metal_log_level level, const char *format, ...)
{
	char line[256];
	va_list ap;

	va_start(ap, format);
	vsnprintf(line, sizeof(line), format, ap);
	va_end(ap);
	if (level == METAL_LOG_ERROR && strstr(line, "153") != NULL)
		unknown_logged++;
	fprintf(stderr, "oa-rpc-server log: %s", line);
}

static void rpmsg_service_server_unbind(struct rpmsg_endpoint *ept)
{
	(void)ept;
	rpmsg_destroy_ept(&rpc_svr.ept);
	ept_deleted = 1;
}

static int handle_add(void *data, struct rpmsg_rpc_svr *rpcs)
{
	struct rpmsg_rpc_request *req = data;
	struct rpc_req_pair p;
	struct rpc_resp_int r;

	memcpy(&p, req->params, sizeof(p));
	r.value = p.a + p.b;
	calls[1]++;
	return rpmsg_rpc_server_send(rpcs, RPC_ADD_ID, RPMSG_RPC_OK, &r, sizeof(r)) > 0 ? 0 : -1;
}

static int handle_upper(void *data, struct rpmsg_rpc_svr *rpcs)
{
	struct rpmsg_rpc_request *req = data;
	struct rpc_req_str s;

	memcpy(&s, req->params, sizeof(s));
	if (s.len > RPC_STR_MAX)
		s.len = RPC_STR_MAX;
	for (uint32_t i = 0; i < s.len; i++)
		s.s[i] = (char)toupper((unsigned char)s.s[i]);
	calls[2]++;
	return rpmsg_rpc_server_send(rpcs, RPC_UPPER_ID, RPMSG_RPC_OK, &s, sizeof(s)) > 0 ? 0 : -1;
}

static int handle_div(void *data, struct rpmsg_rpc_svr *rpcs)
{
	struct rpmsg_rpc_request *req = data;
	struct rpc_req_pair p;
	struct rpc_resp_int r = { 0 };

	memcpy(&p, req->params, sizeof(p));
	calls[3]++;
	if (p.b == 0)
		return rpmsg_rpc_server_send(rpcs, RPC_DIV_ID, -1, NULL, 0) > 0 ? 0 : -1;
	r.value = p.a / p.b;
	return rpmsg_rpc_server_send(rpcs, RPC_DIV_ID, RPMSG_RPC_OK, &r, sizeof(r)) > 0 ? 0 : -1;
}

static const struct rpmsg_rpc_services service_table[] = {
	{ RPC_ADD_ID, &handle_add },
	{ RPC_UPPER_ID, &handle_upper },
	{ RPC_DIV_ID, &handle_div },
};

int main(int argc, char *argv[])
{
	void *platform;
	struct rpmsg_device *rpdev;
	int ret;

	metal_set_log_handler(log_handler);
	if (platform_init(argc, argv, &platform) != 0)
		return 1;
	rpdev = platform_create_rpmsg_vdev(platform, 0, VIRTIO_DEV_DRIVER, NULL, NULL);
	if (rpdev == NULL)
		return 1;
	ret = rpmsg_rpc_server_init(&rpc_svr, rpdev, service_table,
				    (int)(sizeof(service_table) / sizeof(service_table[0])),
				    rpmsg_service_server_unbind);
	CHECK(ret == 0);
	printf("oa-rpc-server: ready\n");
	fflush(stdout);
	while (ret == 0 && !ept_deleted)
		if (platform_poll(platform) < 0)
			break;
	CHECK(ept_deleted);
	CHECK(calls[1] == 1 && calls[2] == 1 && calls[3] == 2);
	CHECK(unknown_logged == 1);
	platform_release_rpmsg_vdev(rpdev, platform);
	platform_cleanup(platform);
	printf("oa-rpc-server: %s\n", failures ? "failed" : "ok");
	return failures ? 1 : 0;
}

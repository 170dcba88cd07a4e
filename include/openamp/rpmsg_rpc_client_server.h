/* OpenAMP compatibility: <openamp/rpmsg_rpc_client_server.h>, remote
 * procedure calls between a client and a server endpoint, both named
 * RPMSG_RPC_SERVICE_NAME ("rpmsg-rpc"), each a table of (id, callback).
 *
 * Wire format (OpenAMP's, host byte order):
 *   request: uint32_t id, then the parameters (at most
 *            MAX_BUF_LEN - MAX_FUNC_ID_LEN bytes): struct rpmsg_rpc_request
 *   answer:  uint32_t id, int32_t status, then the answer parameters (at
 *            most MAX_BUF_LEN - sizeof(status) bytes): struct rpmsg_rpc_answer
 * An id the server's table lacks is answered with that id and status
 * RPMSG_RPC_INVALID_ID, no parameters (and logged with metal_err).
 *
 * Semantics under xenamp (differences from OpenAMP's lib/service noted):
 * - rpmsg_rpc_client_send() returns -EINVAL when req_param_size exceeds
 *   MAX_BUF_LEN - MAX_FUNC_ID_LEN (OpenAMP: overflows its buffer),
 *   otherwise rpmsg_send()'s result (negative until the server's endpoint
 *   is bound: the demos retry while polling).
 * - The server's callback gets a copy of the request laid out as struct
 *   rpmsg_rpc_request, the bytes after the message zeroed, so a callback
 *   that reads its full parameter struct never reads stale memory. The id
 *   is the whole uint32_t (OpenAMP compares only its first byte). A
 *   request shorter than the id, or longer than MAX_BUF_LEN, is dropped
 *   with a metal_err line. A callback's non-zero return is logged.
 * - rpmsg_rpc_server_send() sends the id, the status and all param_size
 *   bytes (OpenAMP's drops the last four); -EINVAL when param_size
 *   exceeds MAX_BUF_LEN - sizeof(int32_t) or the link's buffer.
 * - The client's callback for the answer's id gets status, a pointer to
 *   the answer's parameters (readable for MAX_BUF_LEN bytes: the bytes
 *   after the message are zeroed) and, as in OpenAMP, the length of the
 *   whole answer message. An answer shorter than id and status, or for an
 *   id the client's table lacks, is dropped.
 * - When the peer withdraws its endpoint, the client's endpoint is
 *   destroyed and shutdown_cb runs; the server calls the unbind callback
 *   given to rpmsg_rpc_server_init(). Callbacks run in the dispatching
 *   thread (platform_poll). */
#ifndef XENAMP_COMPAT_OPENAMP_RPMSG_RPC_CLIENT_SERVER_H
#define XENAMP_COMPAT_OPENAMP_RPMSG_RPC_CLIENT_SERVER_H

#include <openamp/open_amp.h>
#include <metal/compiler.h>
#include <stdatomic.h>
#include <stdint.h>

#if defined __cplusplus
extern "C" {
#endif

#define RPMSG_RPC_OK		0
#define RPMSG_RPC_INVALID_ID	(-1L)
#define RPMSG_RPC_SERVICE_NAME "rpmsg-rpc"

/* 512-byte buffers: 496 bytes of payload, rounded down to 8 as OpenAMP. */
#define MAX_BUF_LEN	488UL
#define MAX_FUNC_ID_LEN sizeof(uint32_t)

struct rpmsg_rpc_clt;
struct rpmsg_rpc_svr;

typedef void (*rpmsg_rpc_shutdown_cb)(struct rpmsg_rpc_clt *rpc);
typedef void (*app_cb)(struct rpmsg_rpc_clt *rpc, int status, void *data,
		       size_t len);
typedef int (*rpmsg_rpc_syscall_cb)(void *data, struct rpmsg_rpc_svr *rpcs);

/* A request: service id and its parameters. */
struct rpmsg_rpc_request {
	uint32_t id;
	unsigned char params[MAX_BUF_LEN];
};

/* An answer: service id, status, parameters. */
METAL_PACKED_BEGIN
struct rpmsg_rpc_answer {
	uint32_t id;
	int32_t status;
	unsigned char params[MAX_BUF_LEN];
} METAL_PACKED_END;

/* Server table entry: id and the callback that answers it (with
 * rpmsg_rpc_server_send). data is the request (struct rpmsg_rpc_request). */
struct rpmsg_rpc_services {
	uint32_t id;
	rpmsg_rpc_syscall_cb cb_function;
};

/* Client table entry: id and the callback for its answers. */
struct rpmsg_rpc_client_services {
	uint32_t id;
	app_cb cb;
};

/* Server: the endpoint and the table (application storage). */
struct rpmsg_rpc_svr {
	struct rpmsg_endpoint ept;
	const struct rpmsg_rpc_services *services;
	unsigned int n_services;
};

/* Client: the endpoint, shutdown callback and table (application storage). */
struct rpmsg_rpc_clt {
	struct rpmsg_endpoint ept;
	rpmsg_rpc_shutdown_cb shutdown_cb;
	const struct rpmsg_rpc_client_services *services;
	unsigned int n_services;
};

/* Destroy the client's endpoint. */
void rpmsg_rpc_client_release(struct rpmsg_rpc_clt *rpc);

/* Create the client's endpoint "rpmsg-rpc" (announced) with the answer
 * table services[len]. 0, -EINVAL (NULL rpc or rdev, len < 0 or services
 * NULL with len > 0) or rpmsg_create_ept()'s error. */
int rpmsg_rpc_client_init(struct rpmsg_rpc_clt *rpc,
			  struct rpmsg_device *rdev,
			  rpmsg_rpc_shutdown_cb shutdown_cb,
			  const struct rpmsg_rpc_client_services *services,
			  int len);

/* Create the server's endpoint "rpmsg-rpc" (announced) with the table
 * services[len]. 0, -EINVAL or rpmsg_create_ept()'s error. */
int rpmsg_rpc_server_init(struct rpmsg_rpc_svr *rpcs, struct rpmsg_device *rdev,
			  const struct rpmsg_rpc_services *services, int len,
			  rpmsg_ns_unbind_cb rpmsg_service_server_unbind);

/* Send request rpc_id with req_param_size bytes of parameters. */
int rpmsg_rpc_client_send(struct rpmsg_rpc_clt *rpc,
			  uint32_t rpc_id, void *request_param,
			  size_t req_param_size);

/* Answer rpc_id with status and param_size bytes of parameters (to the
 * endpoint the server is bound to). Bytes sent, or negative. */
int rpmsg_rpc_server_send(struct rpmsg_rpc_svr *rpcs, uint32_t rpc_id,
			  int status, void *request_param,
			  size_t param_size);

#if defined __cplusplus
}
#endif

#endif

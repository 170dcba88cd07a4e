/* libxenamp-openamp: OpenAMP's RPC client and server services
 * (<openamp/rpmsg_rpc_client_server.h>: contract and wire format there).
 * Both sides copy each received message into a zeroed struct before the
 * application's callback sees it: the message is the peer's, of any
 * length, and the callbacks read fixed-size parameter structs. */
#include <config.h>

#include <errno.h>
#include <string.h>

#include <metal/log.h>
#include <metal/utilities.h>
#include <openamp/rpmsg_rpc_client_server.h>

/* ------------------------------------------------------------------ */
/* Client                                                              */

static const struct rpmsg_rpc_client_services *
client_find(const struct rpmsg_rpc_clt *rpc, uint32_t id)
{
	for (unsigned int i = 0; i < rpc->n_services; i++)
		if (rpc->services[i].id == id)
			return &rpc->services[i];
	return NULL;
}

static int client_cb(struct rpmsg_endpoint *ept, void *data, size_t len,
		     uint32_t src, void *priv)
{
	struct rpmsg_rpc_clt *rpc =
		metal_container_of(ept, struct rpmsg_rpc_clt, ept);
	const struct rpmsg_rpc_client_services *svc;
	struct rpmsg_rpc_answer ans;
	const size_t head = sizeof(ans.id) + sizeof(ans.status);

	(void)src;
	(void)priv;
	if (len < head) {
		metal_err("rpmsg-rpc client: answer of %zu bytes dropped (less than id and status)\n",
			  len);
		return RPMSG_SUCCESS;
	}
	memset(&ans, 0, sizeof(ans));
	memcpy(&ans, data, metal_min(len, sizeof(ans)));
	svc = client_find(rpc, ans.id);
	if (svc == NULL || svc->cb == NULL) {
		metal_err("rpmsg-rpc client: answer for unknown id %u dropped\n",
			  (unsigned)ans.id);
		return RPMSG_SUCCESS;
	}
	svc->cb(rpc, ans.status, ans.params, len);
	return RPMSG_SUCCESS;
}

static void client_unbind(struct rpmsg_endpoint *ept)
{
	struct rpmsg_rpc_clt *rpc =
		metal_container_of(ept, struct rpmsg_rpc_clt, ept);

	rpmsg_destroy_ept(&rpc->ept);
	if (rpc->shutdown_cb)
		rpc->shutdown_cb(rpc);
}

int rpmsg_rpc_client_init(struct rpmsg_rpc_clt *rpc, struct rpmsg_device *rdev,
			  rpmsg_rpc_shutdown_cb shutdown_cb,
			  const struct rpmsg_rpc_client_services *services,
			  int len)
{
	if (rpc == NULL || rdev == NULL || len < 0 || (services == NULL && len > 0))
		return -EINVAL;
	memset(&rpc->ept, 0, sizeof(rpc->ept));
	rpc->services = services;
	rpc->n_services = (unsigned int)len;
	rpc->shutdown_cb = shutdown_cb;
	return rpmsg_create_ept(&rpc->ept, rdev, RPMSG_RPC_SERVICE_NAME,
				RPMSG_ADDR_ANY, RPMSG_ADDR_ANY, client_cb,
				client_unbind);
}

int rpmsg_rpc_client_send(struct rpmsg_rpc_clt *rpc, uint32_t rpc_id,
			  void *request_param, size_t req_param_size)
{
	struct rpmsg_rpc_request req;

	if (rpc == NULL || req_param_size > MAX_BUF_LEN - MAX_FUNC_ID_LEN ||
	    (request_param == NULL && req_param_size != 0))
		return -EINVAL;
	req.id = rpc_id;
	if (req_param_size != 0)
		memcpy(req.params, request_param, req_param_size);
	return rpmsg_send(&rpc->ept, &req, (int)(MAX_FUNC_ID_LEN + req_param_size));
}

void rpmsg_rpc_client_release(struct rpmsg_rpc_clt *rpc)
{
	if (rpc != NULL)
		rpmsg_destroy_ept(&rpc->ept);
}

/* ------------------------------------------------------------------ */
/* Server                                                              */

static const struct rpmsg_rpc_services *
server_find(const struct rpmsg_rpc_svr *rpcs, uint32_t id)
{
	for (unsigned int i = 0; i < rpcs->n_services; i++)
		if (rpcs->services[i].id == id)
			return &rpcs->services[i];
	return NULL;
}

static int server_cb(struct rpmsg_endpoint *ept, void *data, size_t len,
		     uint32_t src, void *priv)
{
	struct rpmsg_rpc_svr *rpcs =
		metal_container_of(ept, struct rpmsg_rpc_svr, ept);
	const struct rpmsg_rpc_services *svc;
	struct rpmsg_rpc_request req;

	(void)src;
	(void)priv;
	if (len < MAX_FUNC_ID_LEN || len > MAX_BUF_LEN) {
		metal_err("rpmsg-rpc server: request of %zu bytes dropped (%zu to %lu accepted)\n",
			  len, MAX_FUNC_ID_LEN, MAX_BUF_LEN);
		return RPMSG_SUCCESS;
	}
	memset(&req, 0, sizeof(req));
	memcpy(&req, data, len);
	svc = server_find(rpcs, req.id);
	if (svc == NULL || svc->cb_function == NULL) {
		metal_err("rpmsg-rpc server: unknown rpc id %u, answered RPMSG_RPC_INVALID_ID\n",
			  (unsigned)req.id);
		(void)rpmsg_rpc_server_send(rpcs, req.id, RPMSG_RPC_INVALID_ID,
					    NULL, 0);
		return RPMSG_SUCCESS;
	}
	if (svc->cb_function(&req, rpcs) != 0)
		metal_err("rpmsg-rpc server: service for rpc id %u failed\n",
			  (unsigned)req.id);
	return RPMSG_SUCCESS;
}

int rpmsg_rpc_server_init(struct rpmsg_rpc_svr *rpcs, struct rpmsg_device *rdev,
			  const struct rpmsg_rpc_services *services, int len,
			  rpmsg_ns_unbind_cb rpmsg_service_server_unbind)
{
	if (rpcs == NULL || rdev == NULL || len < 0 || (services == NULL && len > 0))
		return -EINVAL;
	memset(&rpcs->ept, 0, sizeof(rpcs->ept));
	rpcs->services = services;
	rpcs->n_services = (unsigned int)len;
	return rpmsg_create_ept(&rpcs->ept, rdev, RPMSG_RPC_SERVICE_NAME,
				RPMSG_ADDR_ANY, RPMSG_ADDR_ANY, server_cb,
				rpmsg_service_server_unbind);
}

int rpmsg_rpc_server_send(struct rpmsg_rpc_svr *rpcs, uint32_t rpc_id,
			  int status, void *request_param, size_t param_size)
{
	struct rpmsg_rpc_answer ans;
	const size_t head = sizeof(ans.id) + sizeof(ans.status);
	int room;

	if (rpcs == NULL || param_size > MAX_BUF_LEN - sizeof(ans.status) ||
	    (request_param == NULL && param_size != 0))
		return -EINVAL;
	room = rpmsg_get_tx_buffer_size(&rpcs->ept);
	if (room < 0 || head + param_size > (size_t)room)
		return -EINVAL;
	ans.id = rpc_id;
	ans.status = status;
	if (param_size != 0)
		memcpy(ans.params, request_param, param_size);
	return rpmsg_send(&rpcs->ept, &ans, (int)(head + param_size));
}

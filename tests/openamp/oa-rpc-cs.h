/* The services of the RPC client/server pair (oa-rpc-server.c,
 * oa-rpc-client.c): ids and parameter structs, as an application of
 * OpenAMP's rpmsg_rpc_client_server.h defines its own. */
#ifndef OA_RPC_CS_H
#define OA_RPC_CS_H

#include <stdint.h>

#define RPC_ADD_ID     0x1UL   /* a + b */
#define RPC_UPPER_ID   0x2UL   /* the string in capitals */
#define RPC_DIV_ID     0x3UL   /* a / b; status -1 when b is 0 */
#define RPC_UNKNOWN_ID 0x99UL  /* not in the server's table */

struct rpc_req_pair {
	int32_t a, b;
};

struct rpc_resp_int {
	int32_t value;
};

#define RPC_STR_MAX 64
struct rpc_req_str {
	uint32_t len;
	char s[RPC_STR_MAX];
};

#endif

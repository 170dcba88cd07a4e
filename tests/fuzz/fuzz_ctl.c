/* libFuzzer target: the backend's control-request handler,
 * xa_relay_ctl() (src/backend/ctl.c): the JSON text a xenampctl client
 * sends in a CTL_REQ datagram (local_be.c hands it over as req/req_len,
 * not NUL-terminated), parsed with json-c and answered from the relay's
 * state; link-add goes on into registry.c. The handler is already a function
 * of (relay, bytes), so it is fuzzed as is. Each input gets a fresh relay
 * (xa_relay_init() on a fixed configuration: two links, room for two
 * dynamic ones) served by a fake transport, with one end made Connected
 * and given a few services whose names JSON must escape.
 *
 * Input: the request bytes, in a buffer of exactly that size (no NUL).
 *
 * Checked with __builtin_trap() (besides ASan/UBSan): the answer exists,
 * outlen is its length, and it is one JSON object with "error", "links"
 * or "result". */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/conf.h"
#include "backend/log.h"
#include "backend/ctl.h"
#include "backend/relay.h"
#include "backend/transport/be_transport.h"
#include "common/state.h"

#define CHECK(c) do { if (!(c)) __builtin_trap(); } while (0)

static const char conf_text[] =
	"[backend]\n"
	"socket = /tmp/xenamp-fuzz.sock\n"
	"max-services = 8\n"
	"dynamic-links = 2\n"
	"[link host-fw]\n"
	"end-a = host\n"
	"end-b = fw:3\n"
	"[link a.b_c-d]\n"
	"end-a = host:1\n"
	"end-b = dsp\n"
	"buf-size = 64\n"
	"buf-count = 4\n";

static struct xa_config g_cfg;

/* The fake transport: every operation succeeds and does nothing. */
static int f_declare(struct xa_be_transport *t, const char *p, unsigned d)
{
	(void)t; (void)p; (void)d;
	return 0;
}

static int f_event_fd(struct xa_be_transport *t)
{
	(void)t;
	return -1;
}

static int f_next_event(struct xa_be_transport *t, struct xa_be_event *ev)
{
	(void)t; (void)ev;
	return 0;
}

static void f_close_end(struct xa_be_transport *t, struct xa_be_end *end,
			int code, const char *why)
{
	(void)t; (void)end; (void)code; (void)why;
}

static const struct xa_be_ops g_ops = {
	.name = "local",
	.declare_end = f_declare,
	.event_fd = f_event_fd,
	.next_event = f_next_event,
	.close_end = f_close_end,
};
static struct xa_be_transport g_tr = { .ops = &g_ops, .priv = NULL };

static const char *const svc_names[3] = {
	"rpmsg-client-sample", "quote\"back\\slash", "ctl\x01/\x7f",
};

int LLVMFuzzerInitialize(int *argc, char ***argv);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char err[512];

	(void)argc;
	(void)argv;
	xa_log_set_level(XA_LOG_ERROR);   /* link-add logs at info */
	if (xa_config_load_string(conf_text, "fuzz.conf", &g_cfg, err,
				  sizeof(err)) != 0) {
		fprintf(stderr, "fuzz_ctl: %s\n", err);
		exit(1);
	}
	return 0;
}

static void relay_setup(struct xa_relay *r)
{
	char err[256];

	if (xa_relay_init(r, &g_cfg, err, sizeof(err)) != 0 ||
	    xa_relay_add_transport(r, &g_tr, err, sizeof(err)) != 0) {
		fprintf(stderr, "fuzz_ctl: %s\n", err);
		abort();
	}
	r->config_path = "fuzz.conf";
	r->socket_path = g_cfg.socket_path;
	r->pid = 4242;

	struct xa_end *e = &r->reg.links[0].end[1];

	e->t = &g_tr;
	e->state = XA_STATE_CONNECTED;
	snprintf(e->peer_desc, sizeof(e->peer_desc), "pid 1 uid 0");
	e->dev.region_size = (size_t)1 << 20;
	for (unsigned i = 0; i < 3 && i < g_cfg.max_services; i++) {
		snprintf(e->svc[i].name, sizeof(e->svc[i].name), "%s", svc_names[i]);
		e->svc[i].addr = 1024 + i;
		e->nsvc = i + 1;
	}
	e->blocked = true;
	e->st.msgs_in = 7;
	e->st.bytes_out = UINT64_MAX;
	snprintf(e->last_fault, sizeof(e->last_fault),
		 "TX ring (vring 1): \"bad\" \\ \t descriptor");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct xa_relay r;
	char *req = malloc(size ? size : 1);
	size_t outlen = 0;
	char *out;
	json_object *o, *v;

	if (req == NULL)
		return 0;
	memcpy(req, data, size);
	relay_setup(&r);
	/* privileged: link-add and link-remove get past the check into
	 * registry.c (pid 0: no registrant to watch) */
	const struct xa_ctl_peer peer = { .pid = 0, .uid = 0, .privileged = true };

	out = xa_relay_ctl(&r, req, size, &peer, &outlen);
	free(req);
	CHECK(out != NULL);
	CHECK(outlen == strlen(out));

	o = json_tokener_parse(out);
	CHECK(o != NULL && json_object_is_type(o, json_type_object));
	CHECK(json_object_object_get_ex(o, "error", &v) ||
	      json_object_object_get_ex(o, "links", &v) ||
	      json_object_object_get_ex(o, "result", &v));
	json_object_put(o);
	free(out);

	xa_relay_shutdown(&r);
	xa_relay_free(&r);
	return 0;
}

/* Control requests: {"cmd": "status" | "stats" | "endpoints"} in, one JSON
 * object out. Field names are part of the interface (xenampctl and
 * scripts read them):
 *
 *   status:    {"backend": {version, pid, config, socket, max_pages,
 *                           max_services, transports: [..],
 *                           counters: {TRANSPORT: {watch_events,
 *                             coalesced, state_reads, region_maps,
 *                             maps_deferred}} (transports that count:
 *                             xen; be_transport.h)},
 *               "peers_shown": bool,
 *               "links": [{name, buf_size, buf_count, dynamic, registrant,
 *                          ends: [{role "a"|"b", partition, devno, state,
 *                                  transport, peer, region_size, services,
 *                                  blocked, pending_ns, last_fault}]}]}
 *              peer ("local pid P uid U", "domid 5") and registrant (the
 *              pid a dynamic link lives with, 0: none) only when
 *              peers_shown: for a privileged client (ctl.h).
 *   stats:     {"links": [{name, messages, bytes, backpressure, faults,
 *                          ends: [{role, partition, devno, state, msgs_in,
 *                                  bytes_in, msgs_out, bytes_out,
 *                                  backpressure, faults, connects,
 *                                  ns_built, kicks, notifies, dropped}]}]}
 *   endpoints: {"links": [{name, ends: [{role, partition, devno, state,
 *                          services: [{name, addr}]}]}]}
 *   link-add:  in  {"cmd": "link-add", "name", "end-a", "end-b"
 *                   (PARTITION[:DEVNO]), "buf-size" (default 512),
 *                   "buf-count" (default 256)}
 *              out {"result": "added" | "exists" | "updated",
 *                   "link": {name, end_a, end_b, buf_size, buf_count}}
 *              (registry.h: xa_reg_link_add says when it is refused);
 *              "persistent": true keeps the link after the registering
 *              process exits (xa_reg_link_own)
 *   link-remove: in {"cmd": "link-remove", "name", "force" (default
 *                false)}  out {"result": "removed", "name"}
 *              (registry.h: xa_reg_link_remove)
 *   otherwise: {"error": "..."}
 *
 * link-add and link-remove change the configuration: only a privileged
 * client (root, the backend's uid, a member of admin-group) may send them;
 * anyone else gets {"error": ...} saying so. Otherwise any user could fill
 * the dynamic-links table, or re-point a link whose partitions are absent
 * at ends of their own.
 *
 * state is "Absent" (no partition holds the end), "InitWait" (parameters
 * sent, waiting for the region) or "Connected". "messages"/"bytes" of a
 * link count messages relayed in both directions; bytes include the
 * 16-byte RPMsg header. msgs_out also counts the name-service messages the
 * backend builds itself (ns_built). kicks counts the notifications the
 * end sent that the backend took (the transport coalesces kicks that
 * arrive together into one), notifies the notifications (calls) the
 * backend sent it: both are what xenamp-bench reports per message. */
#include <json-c/json.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <config.h>

#include "backend/ctl.h"
#include "common/state.h"

static void add_str(json_object *o, const char *k, const char *v)
{
	json_object_object_add(o, k, json_object_new_string(v ? v : ""));
}

static void add_int(json_object *o, const char *k, int64_t v)
{
	json_object_object_add(o, k, json_object_new_int64(v));
}

static void add_u64(json_object *o, const char *k, uint64_t v)
{
	/* json-c's uint64 type prints without loss; older readers parse it
	 * as a number all the same. */
	json_object_object_add(o, k, json_object_new_uint64(v));
}

static json_object *end_base(const struct xa_end *e)
{
	json_object *o = json_object_new_object();

	add_str(o, "role", e->side == 0 ? "a" : "b");
	add_str(o, "partition", e->cfg->partition);
	add_int(o, "devno", e->cfg->devno);
	add_str(o, "state", e->t ? xa_state_name(e->state) : "Absent");
	return o;
}

/* "counters": {TRANSPORT: {watch_events, ...}} of the transports that
 * count (be_transport.h, struct xa_be_counters). */
static void add_counters(json_object *be, const struct xa_relay *r)
{
	json_object *all = json_object_new_object();

	for (unsigned i = 0; i < r->reg.ntr; i++) {
		struct xa_be_transport *t = r->reg.tr[i];
		struct xa_be_counters c;
		json_object *o;

		if (t->ops->counters == NULL)
			continue;
		t->ops->counters(t, &c);
		o = json_object_new_object();
		add_int(o, "watch_events", (int64_t)c.watch_events);
		add_int(o, "coalesced", (int64_t)c.coalesced);
		add_int(o, "state_reads", (int64_t)c.state_reads);
		add_int(o, "region_maps", (int64_t)c.region_maps);
		add_int(o, "maps_deferred", (int64_t)c.maps_deferred);
		json_object_object_add(all, t->ops->name, o);
	}
	json_object_object_add(be, "counters", all);
}

static json_object *do_status(const struct xa_relay *r, bool priv)
{
	json_object *root = json_object_new_object();
	json_object *be = json_object_new_object();
	json_object *tr = json_object_new_array();
	json_object *links = json_object_new_array();

	add_str(be, "version", PACKAGE_VERSION);
	add_int(be, "pid", r->pid);
	add_str(be, "config", r->config_path);
	add_str(be, "socket", r->socket_path);
	add_int(be, "max_pages", r->reg.cfg->max_pages);
	add_int(be, "max_services", r->reg.cfg->max_services);
	for (unsigned i = 0; i < r->reg.ntr; i++)
		json_object_array_add(tr, json_object_new_string(r->reg.tr[i]->ops->name));
	json_object_object_add(be, "transports", tr);
	add_counters(be, r);
	json_object_object_add(root, "backend", be);
	json_object_object_add(root, "peers_shown", json_object_new_boolean(priv));

	for (size_t i = 0; i < r->reg.nlinks; i++) {
		const struct xa_link *L = &r->reg.links[i];
		json_object *lo, *ends;

		if (L->removed)
			continue;
		lo = json_object_new_object();
		ends = json_object_new_array();
		add_str(lo, "name", L->cfg->name);
		add_int(lo, "buf_size", L->cfg->buf_size);
		add_int(lo, "buf_count", L->cfg->buf_count);
		json_object_object_add(lo, "dynamic",
				       json_object_new_boolean(xa_reg_link_dynamic(&r->reg, L)));
		if (priv)
			add_int(lo, "registrant", L->owner_pid);
		for (int j = 0; j < 2; j++) {
			const struct xa_end *e = &L->end[j];
			json_object *eo = end_base(e);

			add_str(eo, "transport", e->t ? e->t->ops->name : "");
			if (priv)
				add_str(eo, "peer", e->t ? e->peer_desc : "");
			add_u64(eo, "region_size", e->dev.region_size);
			add_int(eo, "services", e->nsvc);
			json_object_object_add(eo, "blocked",
					       json_object_new_boolean(e->blocked));
			add_int(eo, "pending_ns", e->inj_len);
			add_str(eo, "last_fault", e->last_fault);
			json_object_array_add(ends, eo);
		}
		json_object_object_add(lo, "ends", ends);
		json_object_array_add(links, lo);
	}
	json_object_object_add(root, "links", links);
	return root;
}

static json_object *do_stats(const struct xa_relay *r)
{
	json_object *root = json_object_new_object();
	json_object *links = json_object_new_array();

	for (size_t i = 0; i < r->reg.nlinks; i++) {
		const struct xa_link *L = &r->reg.links[i];
		json_object *lo, *ends;
		uint64_t msgs = 0, bytes = 0, bp = 0, faults = 0;

		if (L->removed)
			continue;
		lo = json_object_new_object();
		ends = json_object_new_array();

		for (int j = 0; j < 2; j++) {
			const struct xa_end *e = &L->end[j];
			const struct xa_end_stats *s = &e->st;
			json_object *eo = end_base(e);

			add_u64(eo, "msgs_in", s->msgs_in);
			add_u64(eo, "bytes_in", s->bytes_in);
			add_u64(eo, "msgs_out", s->msgs_out);
			add_u64(eo, "bytes_out", s->bytes_out);
			add_u64(eo, "backpressure", s->backpressure);
			add_u64(eo, "faults", s->faults);
			add_u64(eo, "connects", s->connects);
			add_u64(eo, "ns_built", s->ns_built);
			add_u64(eo, "dropped", s->dropped);
			add_u64(eo, "kicks", s->kicks);
			add_u64(eo, "notifies", s->notifies);
			json_object_array_add(ends, eo);
			msgs += s->msgs_in;
			bytes += s->bytes_in;
			bp += s->backpressure;
			faults += s->faults;
		}
		add_str(lo, "name", L->cfg->name);
		add_u64(lo, "messages", msgs);
		add_u64(lo, "bytes", bytes);
		add_u64(lo, "backpressure", bp);
		add_u64(lo, "faults", faults);
		json_object_object_add(lo, "ends", ends);
		json_object_array_add(links, lo);
	}
	json_object_object_add(root, "links", links);
	return root;
}

static json_object *do_endpoints(const struct xa_relay *r)
{
	json_object *root = json_object_new_object();
	json_object *links = json_object_new_array();

	for (size_t i = 0; i < r->reg.nlinks; i++) {
		const struct xa_link *L = &r->reg.links[i];
		json_object *lo, *ends;

		if (L->removed)
			continue;
		lo = json_object_new_object();
		ends = json_object_new_array();
		add_str(lo, "name", L->cfg->name);
		for (int j = 0; j < 2; j++) {
			const struct xa_end *e = &L->end[j];
			json_object *eo = end_base(e);
			json_object *svcs = json_object_new_array();

			for (unsigned k = 0; k < e->nsvc; k++) {
				json_object *so = json_object_new_object();

				add_str(so, "name", e->svc[k].name);
				add_int(so, "addr", e->svc[k].addr);
				json_object_array_add(svcs, so);
			}
			json_object_object_add(eo, "services", svcs);
			json_object_array_add(ends, eo);
		}
		json_object_object_add(lo, "ends", ends);
		json_object_array_add(links, lo);
	}
	json_object_object_add(root, "links", links);
	return root;
}

static json_object *error_obj(const char *msg)
{
	json_object *o = json_object_new_object();

	add_str(o, "error", msg);
	return o;
}

/* A request that changes the links from a client that may not. */
static json_object *not_privileged(const char *cmd, const struct xa_ctl_peer *peer)
{
	char err[320];

	snprintf(err, sizeof(err),
		 "%s changes the backend's links: only root, the backend's user (uid %ld) and members of its admin-group may; this client is uid %ld",
		 cmd, (long)geteuid(), peer->uid);
	return error_obj(err);
}

/* An optional boolean member k of in: 0 (and *out), or -1 when it is
 * there but not a boolean. */
static int get_bool(json_object *in, const char *k, bool *out)
{
	json_object *v;

	*out = false;
	if (!json_object_object_get_ex(in, k, &v))
		return 0;
	if (!json_object_is_type(v, json_type_boolean))
		return -1;
	*out = json_object_get_boolean(v);
	return 0;
}

/* link-add's link c from in: NULL, or the error reply. */
static json_object *parse_link(json_object *in, struct xa_cfg_link *c)
{
	static const char *const keys[] = { "name", "end-a", "end-b" };
	json_object *v;
	char err[400];

	memset(c, 0, sizeof(*c));
	c->buf_size = XA_CFG_DEFAULT_BUF_SIZE;
	c->buf_count = XA_CFG_DEFAULT_BUF_COUNT;
	for (int i = 0; i < 3; i++) {
		const char *s;

		if (!json_object_object_get_ex(in, keys[i], &v) ||
		    !json_object_is_type(v, json_type_string)) {
			snprintf(err, sizeof(err), "link-add: \"%s\" (a string) is missing", keys[i]);
			return error_obj(err);
		}
		s = json_object_get_string(v);
		if (i == 0) {
			if (strlen(s) >= sizeof(c->name))
				return error_obj("link-add: name too long");
			memcpy(c->name, s, strlen(s) + 1);
		} else if (xa_reg_parse_end(s, &c->end[i - 1]) < 0) {
			snprintf(err, sizeof(err), "link-add: %s = '%.64s': want PARTITION[:DEVNO]",
				 keys[i], s);
			return error_obj(err);
		}
	}
	for (int i = 0; i < 2; i++) {
		const char *k = i == 0 ? "buf-size" : "buf-count";

		if (!json_object_object_get_ex(in, k, &v))
			continue;
		if (!json_object_is_type(v, json_type_int) ||
		    json_object_get_int64(v) < 0 || json_object_get_int64(v) > UINT32_MAX) {
			snprintf(err, sizeof(err), "link-add: \"%s\" must be a number", k);
			return error_obj(err);
		}
		*(i == 0 ? &c->buf_size : &c->buf_count) = (uint32_t)json_object_get_int64(v);
	}
	return NULL;
}

/* {"cmd": "link-add", ...}: a firmware's link (xenamp-load). It lives as
 * long as the requesting process unless "persistent". */
static json_object *do_link_add(struct xa_relay *r, json_object *in,
				const struct xa_ctl_peer *peer)
{
	struct xa_cfg_link c;
	const struct xa_link *L = NULL;
	json_object *o, *lo;
	bool added, updated, persistent;
	char err[400], ea[96], eb[96];

	if (!peer->privileged)
		return not_privileged("link-add", peer);
	o = parse_link(in, &c);
	if (o != NULL)
		return o;
	if (get_bool(in, "persistent", &persistent) < 0)
		return error_obj("link-add: \"persistent\" must be true or false");
	if (xa_reg_link_add(&r->reg, &c, &added, &updated, &L, err, sizeof(err)) < 0 ||
	    xa_reg_link_own(&r->reg, L, peer->pid, persistent, err, sizeof(err)) < 0)
		return error_obj(err);
	o = json_object_new_object();
	add_str(o, "result", added ? "added" : updated ? "updated" : "exists");
	lo = json_object_new_object();
	add_str(lo, "name", L->cfg->name);
	add_str(lo, "end_a", xa_end_label(&L->end[0], ea, sizeof(ea)));
	add_str(lo, "end_b", xa_end_label(&L->end[1], eb, sizeof(eb)));
	add_int(lo, "buf_size", L->cfg->buf_size);
	add_int(lo, "buf_count", L->cfg->buf_count);
	json_object_object_add(o, "link", lo);
	return o;
}

/* {"cmd": "link-remove", "name", "force"}: only dynamic links. */
static json_object *do_link_remove(struct xa_relay *r, json_object *in,
				   const struct xa_ctl_peer *peer)
{
	json_object *v, *o;
	bool force;
	char err[400];

	if (!peer->privileged)
		return not_privileged("link-remove", peer);
	if (!json_object_object_get_ex(in, "name", &v) ||
	    !json_object_is_type(v, json_type_string))
		return error_obj("link-remove: \"name\" (a string) is missing");
	if (get_bool(in, "force", &force) < 0)
		return error_obj("link-remove: \"force\" must be true or false");
	if (xa_reg_link_remove(&r->reg, json_object_get_string(v), force, err,
			       sizeof(err)) < 0)
		return error_obj(err);
	o = json_object_new_object();
	add_str(o, "result", "removed");
	add_str(o, "name", json_object_get_string(v));
	return o;
}

char *xa_relay_ctl(struct xa_relay *r, const char *req, size_t len,
		   const struct xa_ctl_peer *peer, size_t *outlen)
{
	json_tokener *tok = json_tokener_new();
	json_object *in = NULL, *out, *cmd;
	const char *c = NULL;
	char *text;

	if (tok == NULL)
		return NULL;
	if (len <= (size_t)INT32_MAX)
		in = json_tokener_parse_ex(tok, req, (int)len);
	if (in != NULL && json_tokener_get_error(tok) == json_tokener_success &&
	    json_object_is_type(in, json_type_object) &&
	    json_object_object_get_ex(in, "cmd", &cmd) &&
	    json_object_is_type(cmd, json_type_string))
		c = json_object_get_string(cmd);
	json_tokener_free(tok);

	if (c == NULL)
		out = error_obj("the request must be a JSON object {\"cmd\": \"status\" | \"stats\" | \"endpoints\"}");
	else if (strcmp(c, "status") == 0)
		out = do_status(r, peer->privileged);
	else if (strcmp(c, "stats") == 0)
		out = do_stats(r);
	else if (strcmp(c, "endpoints") == 0)
		out = do_endpoints(r);
	else if (strcmp(c, "link-add") == 0)
		out = do_link_add(r, in, peer);
	else if (strcmp(c, "link-remove") == 0)
		out = do_link_remove(r, in, peer);
	else
		out = error_obj("unknown command; expected status, stats, endpoints, link-add or link-remove");
	if (in)
		json_object_put(in);

	const char *s = json_object_to_json_string_ext(out, JSON_C_TO_STRING_PLAIN |
						       JSON_C_TO_STRING_NOSLASHESCAPE);

	text = s ? strdup(s) : NULL;
	if (text)
		*outlen = strlen(text);
	json_object_put(out);
	return text;
}

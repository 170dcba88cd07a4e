/* Registering a firmware's link with xenamp-backend: the control request
 * link-add (src/backend/ctl.c, registry.c) over the backend's socket.
 *
 *   {"cmd":"link-add","name":LINK,"end-a":PEER,"end-b":"NAME:DEVNO",
 *    "buf-size":S,"buf-count":C}
 *
 * C is the vdev's vring num (the backend checks the region against it),
 * S the --buf-size (default 512). The backend answers "added" (a dynamic
 * link), "exists" (xenamp.conf or an earlier registration already has
 * exactly this link) or "updated" (a dynamic link whose partitions are
 * all absent took the new values), or an error line, printed as is.
 *
 * A link added this way lives as long as the registering process unless
 * the request says "persistent": true. --local execs the firmware in the
 * same process, so its link lives as long as the firmware; --xl and
 * --libvirt exit once the domain is started, so they register it
 * persistent (xenampctl link-remove takes it away). */
#include <config.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "boot.h"
#include "common/ctl_client.h"

#define REGISTER_TIMEOUT_MS 5000

const char *fw_link_name(const struct fw_boot_opts *o)
{
	return o->link != NULL ? o->link : o->name;
}

static int do_register(const struct fw_image *img, const struct fw_boot_opts *o,
		       bool required, bool persistent)
{
	const char *peer = o->peer != NULL ? o->peer : "host";
	const char *link = fw_link_name(o);
	char endb[96], err[256];
	json_object *req, *rep = NULL, *v;
	char *reply = NULL;
	size_t rlen = 0;
	int rc;

	snprintf(endb, sizeof(endb), "%s:%u", o->name, (unsigned)o->devno);
	if (o->no_register) {
		fprintf(stderr, "xenamp-load: %s: --no-register: the backend must already have link %s (end-a %s, end-b %s, buf-size %u, buf-count %u)\n",
			o->name, link, peer, endb, (unsigned)img->link.buf_size,
			(unsigned)img->link.buf_count);
		return XLD_EXIT_OK;
	}
	if (o->dry_run) {
		fprintf(stderr, "xenamp-load: %s: dry run: would register link %s (end-a %s, end-b %s, buf-size %u, buf-count %u) with the backend at %s\n",
			o->name, link, peer, endb, (unsigned)img->link.buf_size,
			(unsigned)img->link.buf_count, xa_ctl_socket_path(o->socket));
		return XLD_EXIT_OK;
	}
	req = json_object_new_object();
	json_object_object_add(req, "cmd", json_object_new_string("link-add"));
	json_object_object_add(req, "name", json_object_new_string(link));
	json_object_object_add(req, "end-a", json_object_new_string(peer));
	json_object_object_add(req, "end-b", json_object_new_string(endb));
	json_object_object_add(req, "buf-size", json_object_new_int64(img->link.buf_size));
	json_object_object_add(req, "buf-count", json_object_new_int64(img->link.buf_count));
	if (persistent)
		json_object_object_add(req, "persistent", json_object_new_boolean(true));
	rc = xa_ctl_request(o->socket, json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN),
			    REGISTER_TIMEOUT_MS, &reply, &rlen, err, sizeof(err));
	json_object_put(req);
	if (rc == -ENOENT || rc == -ECONNREFUSED) {
		if (required) {
			fprintf(stderr, "xenamp-load: %s: no xenamp-backend at %s (%s); start it first, or give --socket\n",
				o->name, xa_ctl_socket_path(o->socket), err);
			return XLD_EXIT_BOOT;
		}
		fprintf(stderr, "xenamp-load: %s: warning: link %s not registered: no xenamp-backend at %s; it must get end-a %s, end-b %s, buf-size %u, buf-count %u from xenamp.conf or the libvirt metadata\n",
			o->name, link, xa_ctl_socket_path(o->socket), peer, endb,
			(unsigned)img->link.buf_size, (unsigned)img->link.buf_count);
		return XLD_EXIT_OK;
	}
	if (rc < 0) {
		fprintf(stderr, "xenamp-load: %s: cannot register link %s: %s\n",
			o->name, link, err);
		return XLD_EXIT_BOOT;
	}
	rep = json_tokener_parse(reply);
	if (rep != NULL && json_object_object_get_ex(rep, "error", &v)) {
		fprintf(stderr, "xenamp-load: %s: the backend refused link %s: %s\n",
			o->name, link, json_object_get_string(v));
		rc = XLD_EXIT_BOOT;
	} else if (rep != NULL && json_object_object_get_ex(rep, "result", &v)) {
		fprintf(stderr, "xenamp-load: %s: link %s (end-a %s, end-b %s, buf-size %u, buf-count %u) registered with xenamp-backend: %s\n",
			o->name, link, peer, endb, (unsigned)img->link.buf_size,
			(unsigned)img->link.buf_count, json_object_get_string(v));
		rc = XLD_EXIT_OK;
	} else {
		fprintf(stderr, "xenamp-load: %s: unexpected reply from the backend: %.200s\n",
			o->name, reply);
		rc = XLD_EXIT_BOOT;
	}
	if (rep)
		json_object_put(rep);
	free(reply);
	return rc;
}

int fw_register_link(const struct fw_image *img, const struct fw_boot_opts *o)
{
	return do_register(img, o, false, true);
}

int fw_register_link_required(const struct fw_image *img,
			      const struct fw_boot_opts *o)
{
	return do_register(img, o, true, false);
}

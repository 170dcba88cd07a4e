/* xenamp-backend: links from libvirt domain metadata, domain lifecycle
 * (see libvirt.h). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1   /* pipe2 */
#endif
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libvirt/virterror.h>

#include "backend/libvirt.h"
#include "backend/log.h"

struct lv_rec {
	char name[XA_CFG_NAME_MAX];
	int event;
};

struct xa_lv {
	struct xa_registry *reg;
	virConnectPtr conn;
	int cb_id;
	int reboot_cb_id;
	int pipe[2];
	pthread_t thread;
	bool thread_started;
	atomic_bool quit;
	atomic_bool resync;            /* the pipe was full: re-read everything */
};

static const char *lv_err(void)
{
	const virError *e = virGetLastError();

	return e != NULL && e->message != NULL ? e->message : "unknown libvirt error";
}

/* libvirt's own error printer is replaced by our log (debug level: every
 * failure we care about is reported once, by us, with context). */
static void lv_error_func(void *ud, virErrorPtr e)
{
	(void)ud;
	if (e != NULL && e->message != NULL)
		xa_log(XA_LOG_DEBUG, "libvirt: %s", e->message);
}

/* ------------------------------------------------------------------ */
/* Metadata                                                            */

/* The value of attribute key in the tag text [p, end): true and *found
 * when present, true and !*found when absent, false when malformed or
 * longer than outlen - 1. */
static bool attr(const char *p, const char *end, const char *key,
		 char *out, size_t outlen, bool *found)
{
	size_t kl = strlen(key);

	*found = false;
	while (p < end) {
		const char *k = p, *v;
		char q;

		while (k < end && (*k == ' ' || *k == '\t' || *k == '\n' || *k == '\r'))
			k++;
		p = k;
		while (p < end && *p != '=' && *p != ' ' && *p != '/' && *p != '>')
			p++;
		if (p >= end || *p != '=')
			return true;
		v = p + 1;
		if (v >= end || (*v != '"' && *v != '\''))
			return false;
		q = *v++;
		p = memchr(v, q, (size_t)(end - v));
		if (p == NULL)
			return false;
		/* k .. v - 2 (the '=') is the attribute name */
		if ((size_t)(v - 2 - k) == kl && memcmp(k, key, kl) == 0) {
			size_t vl = (size_t)(p - v);

			if (vl >= outlen)
				return false;
			memcpy(out, v, vl);
			out[vl] = '\0';
			*found = true;
			return true;
		}
		p++;
	}
	return true;
}

static bool parse_num(const char *s, unsigned long max, uint32_t *out)
{
	char *e;
	unsigned long v;

	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	v = strtoul(s, &e, 10);
	if (errno || *e || v > max)
		return false;
	*out = (uint32_t)v;
	return true;
}

int xa_lv_parse_metadata(const char *domname, const char *xml,
			 struct xa_cfg_link *out, size_t max,
			 char *err, size_t errlen)
{
	const char *p = xml;
	size_t n = 0;

	while ((p = strchr(p, '<')) != NULL) {
		const char *name = p + 1, *ne, *colon, *end;
		struct xa_cfg_link *l;
		char buf[XA_CFG_NAME_MAX + 8], peer[XA_CFG_NAME_MAX + 8];
		bool found;
		uint32_t v;

		p++;
		if (*name == '/' || *name == '?' || *name == '!')
			continue;
		for (ne = name; *ne && *ne != ' ' && *ne != '>' && *ne != '/' &&
		     *ne != '\t' && *ne != '\n'; ne++)
			;
		colon = memchr(name, ':', (size_t)(ne - name));
		if (colon != NULL)
			name = colon + 1;
		if (ne - name != 4 || memcmp(name, "link", 4) != 0)
			continue;
		end = strchr(ne, '>');
		if (end == NULL) {
			snprintf(err, errlen, "domain %s: xenamp metadata: unterminated <link>", domname);
			return -1;
		}
		if (n == max) {
			snprintf(err, errlen, "domain %s: xenamp metadata: more than %zu links", domname, max);
			return -1;
		}
		l = &out[n];
		memset(l, 0, sizeof(*l));
		l->buf_size = XA_CFG_DEFAULT_BUF_SIZE;
		l->buf_count = XA_CFG_DEFAULT_BUF_COUNT;
		if (!attr(ne, end, "name", l->name, sizeof(l->name), &found) || !found) {
			snprintf(err, errlen, "domain %s: xenamp metadata: <link> without a valid name=\"...\"", domname);
			return -1;
		}
		if (!attr(ne, end, "peer", peer, sizeof(peer), &found) || !found ||
		    xa_reg_parse_end(peer, &l->end[0]) < 0) {
			snprintf(err, errlen, "domain %s: xenamp metadata: link %s: want peer=\"PARTITION[:DEVNO]\"",
				 domname, l->name);
			return -1;
		}
		if (strlen(domname) >= sizeof(l->end[1].partition)) {
			snprintf(err, errlen, "domain name %s is too long for an end", domname);
			return -1;
		}
		memcpy(l->end[1].partition, domname, strlen(domname) + 1);
		struct { const char *k; unsigned long max; uint32_t *dst; } nums[] = {
			{ "devno", XA_CFG_MAX_DEVNO, &v },
			{ "buf-size", XA_CFG_MAX_BUF_SIZE, &l->buf_size },
			{ "buf-count", XA_CFG_MAX_BUF_COUNT, &l->buf_count },
		};
		v = 0;
		for (size_t i = 0; i < sizeof(nums) / sizeof(nums[0]); i++) {
			if (!attr(ne, end, nums[i].k, buf, sizeof(buf), &found) ||
			    (found && !parse_num(buf, nums[i].max, nums[i].dst))) {
				snprintf(err, errlen, "domain %s: xenamp metadata: link %s: %s: want a number up to %lu",
					 domname, l->name, nums[i].k, nums[i].max);
				return -1;
			}
		}
		l->end[1].devno = v;
		n++;
		p = end;
	}
	return (int)n;
}

int xa_lv_domain_apply(struct xa_registry *reg, virDomainPtr dom)
{
	const char *dn = virDomainGetName(dom);
	struct xa_cfg_link links[XA_LIBVIRT_MAX_LINKS];
	char err[400];
	char *xml;
	int n, taken = 0, bad = 0;

	if (dn == NULL)
		return -1;
	xml = virDomainGetMetadata(dom, VIR_DOMAIN_METADATA_ELEMENT, XA_LIBVIRT_NS,
				   VIR_DOMAIN_AFFECT_LIVE);
	if (xml == NULL) {
		xa_log(XA_LOG_DEBUG, "libvirt: domain %s has no xenamp metadata", dn);
		return 0;
	}
	n = xa_lv_parse_metadata(dn, xml, links, XA_LIBVIRT_MAX_LINKS, err, sizeof(err));
	free(xml);
	if (n < 0) {
		xa_log(XA_LOG_WARNING, "libvirt: %s", err);
		return -1;
	}
	for (int i = 0; i < n; i++) {
		bool added, updated;

		if (xa_reg_link_add(reg, &links[i], &added, &updated, NULL, err,
				      sizeof(err)) < 0) {
			xa_log(XA_LOG_WARNING, "libvirt: domain %s: link %s refused: %s",
			       dn, links[i].name, err);
			bad++;
			continue;
		}
		xa_log(XA_LOG_INFO, "libvirt: domain %s: link %s %s", dn, links[i].name,
		       added ? "added" : updated ? "updated" : "known");
		taken++;
	}
	return bad ? -1 : taken;
}

/* A (re)started domain: its links from its metadata. */
static void apply_started(struct xa_registry *reg, virConnectPtr conn,
			  const char *domname)
{
	virDomainPtr dom = virDomainLookupByName(conn, domname);

	if (dom == NULL) {
		xa_log(XA_LOG_DEBUG, "libvirt: started domain %s is gone: %s",
		       domname, lv_err());
		return;
	}
	(void)xa_lv_domain_apply(reg, dom);
	virDomainFree(dom);
}

static const char *event_word(int event)
{
	return event == VIR_DOMAIN_EVENT_CRASHED ? "crashed" :
	       event == XA_LV_EVENT_REBOOTED ? "rebooted" : "stopped";
}

/* The ends of domname are released, the partition told why. */
static void release_ends(struct xa_registry *reg, const char *domname, int event)
{
	for (size_t i = 0; i < reg->nlinks; i++)
		for (int j = 0; j < 2 && !reg->links[i].removed; j++) {
			struct xa_end *e = &reg->links[i].end[j];
			char label[96], why[160];

			if (strcmp(e->cfg->partition, domname) != 0)
				continue;
			xa_log(XA_LOG_INFO, "libvirt: domain %s %s: link %s: end %s %s",
			       domname, event_word(event), reg->links[i].cfg->name,
			       xa_end_label(e, label, sizeof(label)),
			       event == XA_LV_EVENT_REBOOTED ? "released" : "absent");
			if (e->t != NULL) {
				snprintf(why, sizeof(why), "domain %s %s", domname,
					 event_word(event));
				xa_reg_end_close(reg, e, 0, why);
			}
		}
}

void xa_lv_handle_event(struct xa_registry *reg, virConnectPtr conn,
			const char *domname, int event)
{
	switch (event) {
	case VIR_DOMAIN_EVENT_STARTED:
		apply_started(reg, conn, domname);
		break;
	case VIR_DOMAIN_EVENT_STOPPED:
	case VIR_DOMAIN_EVENT_CRASHED:
		release_ends(reg, domname, event);
		break;
	case XA_LV_EVENT_REBOOTED:
		release_ends(reg, domname, event);
		apply_started(reg, conn, domname);
		break;
	default:
		break;
	}
}

int xa_lv_sync(struct xa_registry *reg, virConnectPtr conn)
{
	virDomainPtr *doms = NULL;
	int n, taken = 0;

	n = virConnectListAllDomains(conn, &doms, VIR_CONNECT_LIST_DOMAINS_ACTIVE);
	if (n < 0) {
		xa_log(XA_LOG_WARNING, "libvirt: cannot list the domains: %s", lv_err());
		return 0;
	}
	for (int i = 0; i < n; i++) {
		int k = xa_lv_domain_apply(reg, doms[i]);

		if (k > 0)
			taken += k;
		virDomainFree(doms[i]);
	}
	free(doms);
	return taken;
}

/* ------------------------------------------------------------------ */
/* Event thread                                                        */

static int on_lifecycle(virConnectPtr conn, virDomainPtr dom, int event,
			int detail, void *opaque)
{
	struct xa_lv *lv = opaque;
	struct lv_rec rec;
	const char *n = virDomainGetName(dom);

	(void)conn;
	(void)detail;
	if (n == NULL || strlen(n) >= sizeof(rec.name))
		return 0;
	memset(&rec, 0, sizeof(rec));
	memcpy(rec.name, n, strlen(n) + 1);
	rec.event = event;
	/* sizeof(rec) < PIPE_BUF: written whole or not at all */
	if (write(lv->pipe[1], &rec, sizeof(rec)) != (ssize_t)sizeof(rec))
		atomic_store(&lv->resync, true);   /* seen at the next dispatch */
	return 0;
}

/* libvirt's REBOOT event: queued like a lifecycle event. */
static void on_reboot(virConnectPtr conn, virDomainPtr dom, void *opaque)
{
	(void)on_lifecycle(conn, dom, XA_LV_EVENT_REBOOTED, 0, opaque);
}

static void wake_cb(int timer, void *opaque)
{
	(void)opaque;
	virEventRemoveTimeout(timer);
}

static void *event_thread(void *arg)
{
	struct xa_lv *lv = arg;

	while (!atomic_load(&lv->quit))
		if (virEventRunDefaultImpl() < 0)
			xa_log(XA_LOG_WARNING, "libvirt event loop: %s", lv_err());
	return NULL;
}

static pthread_once_t event_once = PTHREAD_ONCE_INIT;
static int event_impl_rc;

static void event_init(void)
{
	virSetErrorFunc(NULL, lv_error_func);
	event_impl_rc = virEventRegisterDefaultImpl();
}

int xa_lv_open(struct xa_lv **out, struct xa_registry *reg, const char *uri,
	       char *err, size_t errlen)
{
	struct xa_lv *lv;
	int taken;

	*out = NULL;
	pthread_once(&event_once, event_init);
	if (event_impl_rc < 0) {
		snprintf(err, errlen, "libvirt: cannot set up the event loop: %s", lv_err());
		return -1;
	}
	lv = calloc(1, sizeof(*lv));
	if (lv == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	lv->reg = reg;
	lv->cb_id = lv->reboot_cb_id = -1;
	lv->pipe[0] = lv->pipe[1] = -1;
	if (pipe2(lv->pipe, O_CLOEXEC | O_NONBLOCK) < 0) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		goto fail;
	}
	lv->conn = virConnectOpen(uri);
	if (lv->conn == NULL) {
		snprintf(err, errlen, "libvirt-uri %s: cannot connect: %s", uri, lv_err());
		goto fail;
	}
	lv->cb_id = virConnectDomainEventRegisterAny(lv->conn, NULL,
						     VIR_DOMAIN_EVENT_ID_LIFECYCLE,
						     VIR_DOMAIN_EVENT_CALLBACK(on_lifecycle),
						     lv, NULL);
	if (lv->cb_id >= 0)
		lv->reboot_cb_id = virConnectDomainEventRegisterAny(
			lv->conn, NULL, VIR_DOMAIN_EVENT_ID_REBOOT,
			VIR_DOMAIN_EVENT_CALLBACK(on_reboot), lv, NULL);
	if (lv->cb_id < 0 || lv->reboot_cb_id < 0) {
		snprintf(err, errlen, "libvirt-uri %s: cannot follow domain events: %s",
			 uri, lv_err());
		goto fail;
	}
	if (pthread_create(&lv->thread, NULL, event_thread, lv) != 0) {
		snprintf(err, errlen, "cannot start the libvirt event thread");
		goto fail;
	}
	lv->thread_started = true;
	taken = xa_lv_sync(reg, lv->conn);
	xa_log(XA_LOG_INFO, "libvirt: following domains on %s; %d link%s from their metadata",
	       uri, taken, taken == 1 ? "" : "s");
	*out = lv;
	return 0;
fail:
	xa_lv_close(lv);
	return -1;
}

int xa_lv_fd(const struct xa_lv *lv)
{
	return lv->pipe[0];
}

void xa_lv_dispatch(struct xa_lv *lv)
{
	struct lv_rec rec;
	ssize_t n;

	while ((n = read(lv->pipe[0], &rec, sizeof(rec))) == (ssize_t)sizeof(rec)) {
		rec.name[sizeof(rec.name) - 1] = '\0';
		xa_log(XA_LOG_DEBUG, "libvirt: domain %s: lifecycle event %d", rec.name,
		       rec.event);
		xa_lv_handle_event(lv->reg, lv->conn, rec.name, rec.event);
	}
	if (atomic_exchange(&lv->resync, false)) {
		xa_log(XA_LOG_WARNING, "libvirt: events were lost; reading every domain again");
		(void)xa_lv_sync(lv->reg, lv->conn);
	}
}

void xa_lv_close(struct xa_lv *lv)
{
	if (lv == NULL)
		return;
	if (lv->cb_id >= 0)
		virConnectDomainEventDeregisterAny(lv->conn, lv->cb_id);
	if (lv->reboot_cb_id >= 0)
		virConnectDomainEventDeregisterAny(lv->conn, lv->reboot_cb_id);
	if (lv->thread_started) {
		atomic_store(&lv->quit, true);
		/* a timer firing at once wakes virEventRunDefaultImpl */
		if (virEventAddTimeout(0, wake_cb, NULL, NULL) < 0)
			xa_log(XA_LOG_WARNING, "libvirt: cannot wake the event thread");
		pthread_join(lv->thread, NULL);
	}
	if (lv->conn)
		virConnectClose(lv->conn);
	if (lv->pipe[0] >= 0)
		close(lv->pipe[0]);
	if (lv->pipe[1] >= 0)
		close(lv->pipe[1]);
	free(lv);
}

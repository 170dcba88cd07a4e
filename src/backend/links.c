/* Dynamic links: links the backend learns at run time, from the control
 * request link-add (xenamp-load registering a firmware) or from libvirt
 * domain metadata (libvirt.c). See xa_relay_link_add() in relay.h.
 *
 * relay.c allocates links[] once with room for [backend] dynamic-links
 * more links (default 16): an end is the transport's cookie, so links[]
 * never moves. A dynamic link is never removed; its ends simply become
 * Absent when their partitions go. */
#include <config.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/log.h"
#include "backend/relay.h"

static bool name_ok(const char *s, size_t max)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++) {
		char c = s[i];

		if (i + 1 >= max ||
		    !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
			return false;
	}
	return i > 0;
}

int xa_relay_parse_end(const char *s, struct xa_cfg_end *e)
{
	const char *colon = strchr(s, ':');
	size_t n = colon ? (size_t)(colon - s) : strlen(s);

	memset(e, 0, sizeof(*e));
	if (n == 0 || n >= sizeof(e->partition))
		return -EINVAL;
	memcpy(e->partition, s, n);
	if (!name_ok(e->partition, sizeof(e->partition)))
		return -EINVAL;
	if (colon) {
		char *end;
		unsigned long v;

		if (colon[1] < '0' || colon[1] > '9')
			return -EINVAL;
		errno = 0;
		v = strtoul(colon + 1, &end, 10);
		if (errno || *end != '\0' || v > XA_CFG_MAX_DEVNO)
			return -EINVAL;
		e->devno = (unsigned)v;
	}
	return 0;
}

static bool end_eq(const struct xa_cfg_end *a, const struct xa_cfg_end *b)
{
	return a->devno == b->devno && strcmp(a->partition, b->partition) == 0;
}

static bool same_link(const struct xa_cfg_link *a, const struct xa_cfg_link *b)
{
	return strcmp(a->name, b->name) == 0 && end_eq(&a->end[0], &b->end[0]) &&
	       end_eq(&a->end[1], &b->end[1]) && a->buf_size == b->buf_size &&
	       a->buf_count == b->buf_count;
}

static void describe(const struct xa_cfg_link *l, char *buf, size_t len)
{
	snprintf(buf, len, "%s (end-a %s:%u, end-b %s:%u, buf-size %u, buf-count %u)",
		 l->name, l->end[0].partition, l->end[0].devno,
		 l->end[1].partition, l->end[1].devno, l->buf_size, l->buf_count);
}

static int check_params(const struct xa_relay *r, const struct xa_cfg_link *c,
			char *err, size_t errlen)
{
	uint64_t pages;

	if (!name_ok(c->name, sizeof(c->name))) {
		snprintf(err, errlen, "link name '%s': use 1 to %u letters, digits, '.', '_' or '-'",
			 c->name, XA_CFG_NAME_MAX - 1);
		return -EINVAL;
	}
	for (int j = 0; j < 2; j++)
		if (!name_ok(c->end[j].partition, sizeof(c->end[j].partition)) ||
		    c->end[j].devno > XA_CFG_MAX_DEVNO) {
			snprintf(err, errlen, "link %s: end-%c: want PARTITION[:DEVNO]",
				 c->name, j == 0 ? 'a' : 'b');
			return -EINVAL;
		}
	if (end_eq(&c->end[0], &c->end[1])) {
		snprintf(err, errlen, "link %s: end-a and end-b are both %s:%u",
			 c->name, c->end[0].partition, c->end[0].devno);
		return -EINVAL;
	}
	if (c->buf_size < XA_CFG_MIN_BUF_SIZE || c->buf_size > XA_CFG_MAX_BUF_SIZE) {
		snprintf(err, errlen, "link %s: buf-size %u: want %u..%u", c->name,
			 c->buf_size, XA_CFG_MIN_BUF_SIZE, XA_CFG_MAX_BUF_SIZE);
		return -EINVAL;
	}
	if (c->buf_count == 0 || c->buf_count > XA_CFG_MAX_BUF_COUNT ||
	    (c->buf_count & (c->buf_count - 1)) != 0) {
		snprintf(err, errlen, "link %s: buf-count %u: want a power of two up to %u",
			 c->name, c->buf_count, XA_CFG_MAX_BUF_COUNT);
		return -EINVAL;
	}
	pages = xa_config_region_pages(c->buf_size, c->buf_count);
	if (pages == 0 || pages > r->cfg->max_pages) {
		snprintf(err, errlen,
			 "link %s needs up to %llu pages per end, more than max-pages %u",
			 c->name, (unsigned long long)pages, r->cfg->max_pages);
		return -E2BIG;
	}
	return 0;
}

static void declare(struct xa_relay *r, const struct xa_link *L)
{
	for (unsigned i = 0; i < r->ntr; i++)
		for (int j = 0; j < 2; j++) {
			const struct xa_cfg_end *c = &L->cfg->end[j];
			int rc = r->tr[i]->ops->declare_end(r->tr[i], c->partition,
							    c->devno);

			if (rc < 0)
				xa_log(XA_LOG_WARNING, "link %s: %s transport cannot serve %s:%u: %s",
				       L->cfg->name, r->tr[i]->ops->name, c->partition,
				       c->devno, strerror(-rc));
		}
}

int xa_relay_link_add(struct xa_relay *r, const struct xa_cfg_link *c,
		      bool *added, bool *updated, const struct xa_link **out,
		      char *err, size_t errlen)
{
	struct xa_link *L = NULL;
	struct xa_end *ea, *eb;
	char have[256];
	int rc;

	if (added)
		*added = false;
	if (updated)
		*updated = false;
	rc = check_params(r, c, err, errlen);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < r->nlinks && L == NULL; i++)
		if (strcmp(r->links[i].cfg->name, c->name) == 0)
			L = &r->links[i];
	ea = xa_relay_find_end(r, c->end[0].partition, c->end[0].devno);
	eb = xa_relay_find_end(r, c->end[1].partition, c->end[1].devno);
	if (L == NULL && eb != NULL)
		L = eb->link;

	if (L != NULL) {
		struct xa_cfg_link want = *c;
		bool dynamic = (size_t)(L - r->links) >= r->cfg->nlinks;

		/* Registered under another name: the end decides. */
		snprintf(want.name, sizeof(want.name), "%s", L->cfg->name);
		if (same_link(L->cfg, &want)) {
			if (out)
				*out = L;
			return 0;
		}
		describe(L->cfg, have, sizeof(have));
		if (!dynamic) {
			snprintf(err, errlen,
				 "the backend's configuration already has link %s; the request differs; make xenamp.conf agree or choose other ends",
				 have);
			return -EEXIST;
		}
		if (L->end[0].t != NULL || L->end[1].t != NULL) {
			snprintf(err, errlen,
				 "link %s has a connected end; stop its partitions before changing it",
				 have);
			return -EBUSY;
		}
		if ((ea != NULL && ea->link != L) || (eb != NULL && eb->link != L)) {
			struct xa_end *o = (ea != NULL && ea->link != L) ? ea : eb;

			snprintf(err, errlen, "end %s:%u already belongs to link %s",
				 o->cfg->partition, o->cfg->devno, o->link->cfg->name);
			return -EEXIST;
		}
		if (c->buf_size != L->cfg->buf_size) {
			uint8_t *b = realloc(L->bounce, c->buf_size);

			if (b == NULL) {
				snprintf(err, errlen, "out of memory");
				return -ENOMEM;
			}
			L->bounce = b;
		}
		/* L->cfg points into dyn_cfg, and each end's cfg into it. */
		*(struct xa_cfg_link *)L->cfg = want;
		declare(r, L);
		xa_log(XA_LOG_INFO, "link %s updated: was %s", want.name, have);
		if (updated)
			*updated = true;
		if (out)
			*out = L;
		return 0;
	}

	if (ea != NULL || eb != NULL) {
		struct xa_end *o = ea != NULL ? ea : eb;

		snprintf(err, errlen, "end %s:%u already belongs to link %s",
			 o->cfg->partition, o->cfg->devno, o->link->cfg->name);
		return -EEXIST;
	}
	if (r->nlinks >= r->links_cap) {
		snprintf(err, errlen,
			 "no room for link %s: the backend already holds %u dynamic link%s; raise dynamic-links in [backend]",
			 c->name, r->cfg->dynamic_links,
			 r->cfg->dynamic_links == 1 ? "" : "s");
		return -ENOSPC;
	}

	struct xa_cfg_link *dc = &r->dyn_cfg[r->nlinks - r->cfg->nlinks];

	L = &r->links[r->nlinks];
	memset(L, 0, sizeof(*L));
	*dc = *c;
	dc->line = 0;
	dc->end[0].line = dc->end[1].line = 0;
	L->cfg = dc;
	L->bounce = malloc(dc->buf_size);
	for (int j = 0; j < 2; j++) {
		struct xa_end *e = &L->end[j];

		e->link = L;
		e->side = j;
		e->cfg = &dc->end[j];
		e->state = XA_STATE_CLOSED;
		e->svc = calloc(r->cfg->max_services, sizeof(*e->svc));
		e->inj_cap = 2 * r->cfg->max_services;
		e->inj = calloc(e->inj_cap, sizeof(*e->inj));
	}
	if (L->bounce == NULL || L->end[0].svc == NULL || L->end[0].inj == NULL ||
	    L->end[1].svc == NULL || L->end[1].inj == NULL) {
		free(L->bounce);
		for (int j = 0; j < 2; j++) {
			free(L->end[j].svc);
			free(L->end[j].inj);
		}
		memset(L, 0, sizeof(*L));
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	r->nlinks++;
	declare(r, L);
	describe(dc, have, sizeof(have));
	xa_log(XA_LOG_INFO, "link %s added at run time", have);
	if (added)
		*added = true;
	if (out)
		*out = L;
	return 0;
}

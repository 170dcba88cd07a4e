/* The registry of links and ends (registry.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "backend/log.h"
#include "backend/registry.h"
#include "common/partition_name.h"
#include "common/refusal.h"

const char *xa_end_label(const struct xa_end *e, char *buf, size_t len)
{
	snprintf(buf, len, "%s:%u", e->cfg->partition, e->cfg->devno);
	return buf;
}

/* ------------------------------------------------------------------ */
/* Link-init: one for config links, link-add and libvirt               */

static void link_release(struct xa_link *L)
{
	if (L->owner_fd >= 0)
		close(L->owner_fd);   /* leaves the epoll set with it */
	free(L->bounce);
	for (int j = 0; j < 2; j++) {
		free(L->end[j].svc);
		free(L->end[j].inj);
	}
	memset(L, 0, sizeof(*L));
	L->owner_fd = -1;
}

/* L (zeroed or released) becomes the link c, both ends Absent. 0, or
 * -ENOMEM with L released. c must outlive L. */
static int link_init(struct xa_registry *reg, struct xa_link *L,
		     const struct xa_cfg_link *c)
{
	unsigned maxsvc = reg->cfg->max_services;

	memset(L, 0, sizeof(*L));
	L->cfg = c;
	L->owner_fd = -1;
	L->bounce = malloc(c->buf_size);
	for (int j = 0; j < 2; j++) {
		struct xa_end *e = &L->end[j];

		e->link = L;
		e->side = j;
		e->cfg = &c->end[j];
		e->state = XA_STATE_CLOSED;
		e->svc = calloc(maxsvc, sizeof(*e->svc));
		e->inj_cap = 2 * maxsvc;
		e->inj = calloc(e->inj_cap, sizeof(*e->inj));
	}
	if (L->bounce == NULL || L->end[0].svc == NULL || L->end[0].inj == NULL ||
	    L->end[1].svc == NULL || L->end[1].inj == NULL) {
		link_release(L);
		return -ENOMEM;
	}
	return 0;
}

int xa_reg_init(struct xa_registry *reg, const struct xa_config *cfg,
		char *err, size_t errlen)
{
	memset(reg, 0, sizeof(*reg));
	reg->cfg = cfg;
	reg->owners_fd = -1;
	if (cfg->dynamic_links)
		reg->owners_fd = epoll_create1(EPOLL_CLOEXEC);   /* -1: none watched */
	reg->links_cap = cfg->nlinks + cfg->dynamic_links;
	reg->links = calloc(reg->links_cap + 1, sizeof(*reg->links));
	reg->live = calloc(2 * reg->links_cap + 1, sizeof(*reg->live));
	if (cfg->dynamic_links)
		reg->dyn_cfg = calloc(cfg->dynamic_links, sizeof(*reg->dyn_cfg));
	if (reg->links == NULL || reg->live == NULL ||
	    (reg->dyn_cfg == NULL && cfg->dynamic_links))
		goto oom;
	for (size_t i = 0; i < cfg->nlinks; i++) {
		if (link_init(reg, &reg->links[i], &cfg->links[i]) < 0)
			goto oom;
		reg->nlinks = i + 1;
	}
	return 0;
oom:
	xa_reg_free(reg);
	snprintf(err, errlen, "out of memory");
	return -ENOMEM;
}

void xa_reg_free(struct xa_registry *reg)
{
	if (reg->links != NULL)
		for (size_t i = 0; i < reg->nlinks; i++)
			link_release(&reg->links[i]);
	free(reg->links);
	free(reg->dyn_cfg);
	free(reg->live);
	if (reg->owners_fd >= 0)
		close(reg->owners_fd);
	reg->owners_fd = -1;
	reg->links = NULL;
	reg->dyn_cfg = NULL;
	reg->live = NULL;
	reg->nlive = 0;
	reg->nlinks = 0;
	reg->links_cap = 0;
}

/* ------------------------------------------------------------------ */
/* Transports and lookup                                               */

static int declare_link(struct xa_be_transport *t, const struct xa_link *L,
			char *err, size_t errlen)
{
	for (int j = 0; j < 2; j++) {
		const struct xa_cfg_end *c = L->end[j].cfg;
		int rc = t->ops->declare_end(t, c->partition, c->devno);

		if (rc < 0) {
			snprintf(err, errlen, "%s transport: cannot serve %s:%u: %s",
				 t->ops->name, c->partition, c->devno, strerror(-rc));
			return rc;
		}
	}
	return 0;
}

int xa_reg_add_transport(struct xa_registry *reg, struct xa_be_transport *t,
			 char *err, size_t errlen)
{
	if (reg->ntr == XA_REG_MAX_TRANSPORTS) {
		snprintf(err, errlen, "too many transports");
		return -ENOSPC;
	}
	for (size_t i = 0; i < reg->nlinks; i++) {
		int rc = reg->links[i].removed ? 0
			: declare_link(t, &reg->links[i], err, errlen);

		if (rc < 0)
			return rc;
	}
	reg->tr[reg->ntr++] = t;
	return 0;
}

struct xa_end *xa_reg_find_end(struct xa_registry *reg, const char *partition,
			       unsigned devno)
{
	for (size_t i = 0; i < reg->nlinks; i++)
		for (int j = 0; j < 2 && !reg->links[i].removed; j++) {
			struct xa_end *e = &reg->links[i].end[j];

			if (e->cfg->devno == devno &&
			    strcmp(e->cfg->partition, partition) == 0)
				return e;
		}
	return NULL;
}

/* ------------------------------------------------------------------ */
/* Connections                                                         */

void xa_reg_live_add(struct xa_registry *reg, struct xa_end *e)
{
	if (e->live_pos != 0 || reg->live == NULL)
		return;
	reg->live[reg->nlive++] = e;
	e->live_pos = reg->nlive;
}

static void live_del(struct xa_registry *reg, struct xa_end *e)
{
	unsigned i = e->live_pos;

	if (i == 0)
		return;
	reg->live[i - 1] = reg->live[--reg->nlive];
	reg->live[i - 1]->live_pos = i;
	e->live_pos = 0;
}

void xa_reg_end_close(struct xa_registry *reg, struct xa_end *e, int refusal,
		      const char *why)
{
	if (e->t != NULL && e->h != NULL)
		e->t->ops->close_end(e->t, e->h, refusal, why);
	if (e->state == XA_STATE_CONNECTED &&
	    xa_end_peer(e)->state == XA_STATE_CONNECTED)
		xa_end_peer(e)->orphaned = true;
	e->orphaned = false;
	e->t = NULL;
	e->h = NULL;
	e->state = XA_STATE_CLOSED;
	live_del(reg, e);
	xa_dev_reset(&e->dev);
	e->need_notify = false;
	e->blocked = false;
	e->inj_head = e->inj_len = 0;
	if (reg->on_close != NULL)
		reg->on_close(reg->hook_ctx, e);
	e->nsvc = 0;
}

void xa_reg_close_all(struct xa_registry *reg)
{
	for (size_t i = 0; i < reg->nlinks; i++)
		for (int j = 0; j < 2; j++) {
			struct xa_end *e = &reg->links[i].end[j];

			if (e->t != NULL && e->h != NULL)
				e->t->ops->close_end(e->t, e->h, 0, NULL);
			e->t = NULL;
			e->h = NULL;
			e->state = XA_STATE_CLOSED;
			e->live_pos = 0;
			e->queued = false;
			e->qnext = NULL;
		}
	reg->nlive = 0;
}

/* ------------------------------------------------------------------ */
/* Dynamic links                                                       */

int xa_reg_parse_end(const char *s, struct xa_cfg_end *e)
{
	const char *colon = strchr(s, ':');
	size_t n = colon ? (size_t)(colon - s) : strlen(s);

	memset(e, 0, sizeof(*e));
	if (xa_partition_name_check(s, n, NULL, 0) < 0)
		return -EINVAL;
	memcpy(e->partition, s, n);   /* n < XA_PARTITION_NAME_MAX */
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

/* The checks xenamp.conf's loader makes, for a link that did not come
 * through it. */
static int check_params(const struct xa_registry *reg,
			const struct xa_cfg_link *c, char *err, size_t errlen)
{
	uint64_t pages;
	char why[160];

	if (memchr(c->name, '\0', sizeof(c->name)) == NULL ||
	    !xa_config_link_name_ok(c->name)) {
		snprintf(err, errlen, "link name '%.*s': use 1 to %u letters, digits, '.', '_' or '-'",
			 (int)sizeof(c->name) - 1, c->name, XA_CFG_NAME_MAX - 1);
		return -EINVAL;
	}
	for (int j = 0; j < 2; j++)
		if (xa_partition_name_check_field(c->end[j].partition,
						  sizeof(c->end[j].partition),
						  why, sizeof(why)) < 0 ||
		    c->end[j].devno > XA_CFG_MAX_DEVNO) {
			snprintf(err, errlen, "link %s: end-%c: want PARTITION[:DEVNO]%s%s",
				 c->name, j == 0 ? 'a' : 'b',
				 c->end[j].devno > XA_CFG_MAX_DEVNO ? "" : ": ",
				 c->end[j].devno > XA_CFG_MAX_DEVNO ? "" : why);
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
	if (pages == 0 || pages > reg->cfg->max_pages) {
		snprintf(err, errlen,
			 "link %s needs up to %llu pages per end, more than max-pages %u",
			 c->name, (unsigned long long)pages, reg->cfg->max_pages);
		return -E2BIG;
	}
	return 0;
}

/* Tell every transport about L's ends; a failure is logged, not fatal:
 * the other transports still serve them. */
static void declare_everywhere(struct xa_registry *reg, const struct xa_link *L)
{
	char err[256];

	for (unsigned i = 0; i < reg->ntr; i++)
		if (declare_link(reg->tr[i], L, err, sizeof(err)) < 0)
			xa_log(XA_LOG_WARNING, "link %s: %s", L->cfg->name, err);
}

/* L's ends are no longer ends of any link: the transports stop offering
 * them (be_transport.h, withdraw_end). */
static void withdraw_everywhere(struct xa_registry *reg, const struct xa_link *L)
{
	for (unsigned i = 0; i < reg->ntr; i++) {
		struct xa_be_transport *t = reg->tr[i];

		for (int j = 0; j < 2 && t->ops->withdraw_end != NULL; j++)
			t->ops->withdraw_end(t, L->end[j].cfg->partition,
					     L->end[j].cfg->devno);
	}
}

/* c asks for L, which the backend already has under L's name or end-b. */
static int link_update(struct xa_registry *reg, struct xa_link *L,
		       const struct xa_cfg_link *c, struct xa_end *ea,
		       struct xa_end *eb, bool *updated, char *err, size_t errlen)
{
	struct xa_cfg_link want = *c;
	bool dynamic = (size_t)(L - reg->links) >= reg->cfg->nlinks;
	char have[256];

	/* Registered under another name: the end decides. */
	snprintf(want.name, sizeof(want.name), "%s", L->cfg->name);
	if (same_link(L->cfg, &want))
		return 0;
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
	/* The old ends are offered no longer (both are Absent), the new
	 * ones are declared below. */
	withdraw_everywhere(reg, L);
	/* L->cfg points into dyn_cfg, and each end's cfg into it. */
	*(struct xa_cfg_link *)L->cfg = want;
	declare_everywhere(reg, L);
	xa_log(XA_LOG_INFO, "link %s updated: was %s", want.name, have);
	*updated = true;
	return 0;
}

/* A slot for a new dynamic link: a removed one whose ends the relay's
 * ready queue no longer holds (link_init would cut the queue), else the
 * next unused one; NULL when there is none. */
static struct xa_link *free_slot(struct xa_registry *reg)
{
	for (size_t i = reg->cfg->nlinks; i < reg->nlinks; i++) {
		struct xa_link *L = &reg->links[i];

		if (L->removed && !L->end[0].queued && !L->end[1].queued) {
			link_release(L);
			return L;
		}
	}
	return reg->nlinks < reg->links_cap ? &reg->links[reg->nlinks] : NULL;
}

/* A new dynamic link c in a free slot. */
static int link_new(struct xa_registry *reg, const struct xa_cfg_link *c,
		    struct xa_link **out, char *err, size_t errlen)
{
	struct xa_cfg_link *dc;
	struct xa_link *L = free_slot(reg);
	char have[256];

	if (L == NULL) {
		snprintf(err, errlen,
			 "no room for link %s: the backend already holds %u dynamic link%s; raise dynamic-links in [backend]",
			 c->name, reg->cfg->dynamic_links,
			 reg->cfg->dynamic_links == 1 ? "" : "s");
		return -ENOSPC;
	}
	dc = &reg->dyn_cfg[(size_t)(L - reg->links) - reg->cfg->nlinks];
	*dc = *c;
	dc->line = 0;
	dc->end[0].line = dc->end[1].line = 0;
	if (link_init(reg, L, dc) < 0) {
		L->removed = true;   /* released: a free slot again */
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	if (L == &reg->links[reg->nlinks])
		reg->nlinks++;
	declare_everywhere(reg, L);
	describe(dc, have, sizeof(have));
	xa_log(XA_LOG_INFO, "link %s added at run time", have);
	*out = L;
	return 0;
}

int xa_reg_link_add(struct xa_registry *reg, const struct xa_cfg_link *c,
		    bool *added, bool *updated, const struct xa_link **out,
		    char *err, size_t errlen)
{
	struct xa_link *L = NULL;
	struct xa_end *ea, *eb;
	bool upd = false;
	int rc;

	if (added)
		*added = false;
	if (updated)
		*updated = false;
	rc = check_params(reg, c, err, errlen);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < reg->nlinks && L == NULL; i++)
		if (!reg->links[i].removed &&
		    strcmp(reg->links[i].cfg->name, c->name) == 0)
			L = &reg->links[i];
	ea = xa_reg_find_end(reg, c->end[0].partition, c->end[0].devno);
	eb = xa_reg_find_end(reg, c->end[1].partition, c->end[1].devno);
	if (L == NULL && eb != NULL)
		L = eb->link;

	if (L != NULL) {
		rc = link_update(reg, L, c, ea, eb, &upd, err, errlen);
		if (updated)
			*updated = upd;
	} else if (ea != NULL) {
		snprintf(err, errlen, "end %s:%u already belongs to link %s",
			 ea->cfg->partition, ea->cfg->devno, ea->link->cfg->name);
		rc = -EEXIST;
	} else {
		rc = link_new(reg, c, &L, err, errlen);
		if (rc == 0 && added)
			*added = true;
	}
	if (rc == 0 && out)
		*out = L;
	return rc;
}

/* ------------------------------------------------------------------ */
/* Removing dynamic links, and their registrants                       */

bool xa_reg_link_dynamic(const struct xa_registry *reg, const struct xa_link *L)
{
	return (size_t)(L - reg->links) >= reg->cfg->nlinks;
}

static void owner_forget(struct xa_registry *reg, struct xa_link *L)
{
	if (L->owner_fd >= 0) {
		(void)epoll_ctl(reg->owners_fd, EPOLL_CTL_DEL, L->owner_fd, NULL);
		close(L->owner_fd);
	}
	L->owner_fd = -1;
	L->owner_pid = 0;
}

/* L goes: its ends are withdrawn from every transport (a Xen domain is
 * no longer offered the device), then, if held, told why (the link no
 * longer exists: final); its registrant is no longer watched, its slot
 * is free. */
static void link_drop(struct xa_registry *reg, struct xa_link *L,
		      const char *why)
{
	withdraw_everywhere(reg, L);
	for (int j = 0; j < 2; j++)
		if (L->end[j].t != NULL)
			xa_reg_end_close(reg, &L->end[j], XA_REFUSE_NO_LINK, why);
	owner_forget(reg, L);
	L->persistent = false;
	L->removed = true;
}

static struct xa_link *link_by_name(struct xa_registry *reg, const char *name)
{
	for (size_t i = 0; i < reg->nlinks; i++)
		if (!reg->links[i].removed &&
		    strcmp(reg->links[i].cfg->name, name) == 0)
			return &reg->links[i];
	return NULL;
}

static int pidfd_open_(long pid)
{
#ifdef SYS_pidfd_open
	return (int)syscall(SYS_pidfd_open, (pid_t)pid, 0);
#else
	(void)pid;
	errno = ENOSYS;
	return -1;
#endif
}

/* A pidfd for pid in owners_fd, or -1 with errno. */
static int owner_watch(struct xa_registry *reg, struct xa_link *L, long pid)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = L };
	int fd;

	if (reg->owners_fd < 0) {
		errno = ENOSYS;
		return -1;
	}
	fd = pidfd_open_(pid);
	if (fd < 0)
		return -1;
	if (epoll_ctl(reg->owners_fd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

int xa_reg_link_own(struct xa_registry *reg, const struct xa_link *cL,
		    long pid, bool persistent, char *err, size_t errlen)
{
	struct xa_link *L = &reg->links[cL - reg->links];
	int fd;

	if (!xa_reg_link_dynamic(reg, L) || L->removed || L->persistent)
		return 0;
	if (persistent || pid <= 0) {
		owner_forget(reg, L);
		L->persistent = true;
		return 0;
	}
	if (pid == L->owner_pid && L->owner_fd >= 0)
		return 0;
	fd = owner_watch(reg, L, pid);
	if (fd < 0 && errno == ESRCH) {
		snprintf(err, errlen,
			 "the registering process (pid %ld) has already exited, so link %s was removed again; send \"persistent\": true for a link that outlives its registrant",
			 pid, L->cfg->name);
		xa_log(XA_LOG_INFO, "link %s removed: its registrant (pid %ld) had already exited",
		       L->cfg->name, pid);
		link_drop(reg, L, "the link's registrant exited");
		return -ESRCH;
	}
	owner_forget(reg, L);
	if (fd < 0) {
		xa_log(XA_LOG_WARNING,
		       "link %s: cannot watch its registrant, pid %ld (%s; pidfd_open needs Linux 5.3): kept until link-remove",
		       L->cfg->name, pid, strerror(errno));
		L->persistent = true;
		return 0;
	}
	L->owner_fd = fd;
	L->owner_pid = pid;
	return 0;
}

int xa_reg_link_remove(struct xa_registry *reg, const char *name, bool force,
		       char *err, size_t errlen)
{
	struct xa_link *L = link_by_name(reg, name);
	char why[160], label[96];

	if (L == NULL) {
		snprintf(err, errlen, "no link %.64s (xenampctl status lists them)", name);
		return -ENOENT;
	}
	if (!xa_reg_link_dynamic(reg, L)) {
		snprintf(err, errlen,
			 "link %s comes from the backend's configuration; remove its [link] section and restart the backend",
			 L->cfg->name);
		return -EPERM;
	}
	for (int j = 0; j < 2 && !force; j++)
		if (L->end[j].t != NULL) {
			snprintf(err, errlen,
				 "link %s has a connected end (%s); stop its partition first, or force the removal (xenampctl link-remove --force)",
				 L->cfg->name, xa_end_label(&L->end[j], label, sizeof(label)));
			return -EBUSY;
		}
	snprintf(why, sizeof(why), "link %s was removed (link-remove)", L->cfg->name);
	xa_log(XA_LOG_INFO, "%s%s", why, force ? " with --force" : "");
	link_drop(reg, L, why);
	return 0;
}

int xa_reg_owner_fd(const struct xa_registry *reg)
{
	return reg->owners_fd;
}

void xa_reg_reap_owners(struct xa_registry *reg)
{
	struct epoll_event ev[16];
	int n;

	if (reg->owners_fd < 0)
		return;
	n = epoll_wait(reg->owners_fd, ev, 16, 0);
	for (int i = 0; i < n; i++) {
		struct xa_link *L = ev[i].data.ptr;
		char why[160];

		if (L->removed || L->owner_fd < 0)
			continue;
		snprintf(why, sizeof(why),
			 "link %s was removed: the process that registered it (pid %ld) exited",
			 L->cfg->name, L->owner_pid);
		xa_log(XA_LOG_INFO, "%s", why);
		link_drop(reg, L, why);
	}
}

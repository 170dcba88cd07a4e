/* xenamp-backend configuration loader (see config.h).
 *
 * inih does the INI syntax; this file knows the keys. inih's handler is
 * not told the line it is on (unless the library was built with
 * INI_HANDLER_LINENO, which distributions do not do), so the file is fed
 * to inih through our own reader, which counts lines and also notes the
 * section headers: the line of an error is then exact, and a section
 * without any key is still seen (an empty [link x] is an error too). */
#include <errno.h>
#include <grp.h>
#include <ini.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/conf.h"
#include "backend/log.h"
#include "common/partition_name.h"
#include "core/vring.h"

enum sect { S_NONE, S_BACKEND, S_LINK, S_PARTITION };

enum { K_SOCKET, K_MAX_PAGES, K_MAX_SERVICES, K_LOG_LEVEL,
       K_DYNAMIC_LINKS, K_LIBVIRT_URI, K_ADMIN_GROUP, K_NBACKEND };
enum { K_END_A, K_END_B, K_BUF_SIZE, K_BUF_COUNT, K_NLINK };

struct ctx {
	struct xa_config *cfg;
	const char *fname;
	/* source: a FILE or a string */
	FILE *f;
	const char *str;
	size_t spos;
	/* position */
	unsigned line;           /* line of the text last handed to inih */
	bool at_bol;
	bool stop;
	/* sections */
	enum sect sect;
	struct xa_cfg_link *link;           /* current link */
	struct xa_cfg_partition *part;      /* current [partition] */
	unsigned part_keys[2];              /* its uid, gid: line set on */
	unsigned backend_keys[K_NBACKEND];  /* line each key was set on */
	unsigned (*link_keys)[K_NLINK];     /* per link, same */
	size_t link_cap;
	/* the first error */
	unsigned err_line;
	char err[400];
	bool has_err;
};

static const char *const backend_key_names[K_NBACKEND] = {
	"socket", "max-pages", "max-services", "log-level",
	"dynamic-links", "libvirt-uri", "admin-group",
};
static const char *const link_key_names[K_NLINK] = {
	"end-a", "end-b", "buf-size", "buf-count",
};

static void fail(struct ctx *c, unsigned line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void fail(struct ctx *c, unsigned line, const char *fmt, ...)
{
	va_list ap;

	if (c->has_err)
		return;
	c->has_err = true;
	c->stop = true;
	c->err_line = line;
	va_start(ap, fmt);
	vsnprintf(c->err, sizeof(c->err), fmt, ap);
	va_end(ap);
}

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' ||
			 e[-1] == '\n'))
		*--e = '\0';
	return s;
}

bool xa_config_link_name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= XA_CFG_NAME_MAX)
		return false;
	for (; *s; s++) {
		char ch = *s;

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' ||
		      ch == '-'))
			return false;
	}
	return true;
}

/* Room for one more link in cfg->links and c->link_keys (both grow
 * together, so an index into one is valid in the other). */
static bool grow_links(struct ctx *c)
{
	size_t cap = c->link_cap ? c->link_cap * 2 : 4;
	struct xa_cfg_link *nl;
	unsigned (*nk)[K_NLINK];

	if (c->cfg->nlinks < c->link_cap)
		return true;
	nl = realloc(c->cfg->links, cap * sizeof(*nl));
	if (nl == NULL) {
		fail(c, c->line, "out of memory");
		return false;
	}
	c->cfg->links = nl;
	nk = realloc(c->link_keys, cap * sizeof(*nk));
	if (nk == NULL) {
		fail(c, c->line, "out of memory");
		return false;
	}
	c->link_keys = nk;
	c->link_cap = cap;
	return true;
}

/* [link NAME]: a valid, new name; the link starts with the defaults. */
static void open_link(struct ctx *c, const char *ln)
{
	struct xa_cfg_link *l;

	if (*ln == '\0') {
		fail(c, c->line,
		     "section [link] needs a name: write [link NAME]");
		return;
	}
	if (!xa_config_link_name_ok(ln)) {
		fail(c, c->line,
		     "link name '%s' is not valid: use 1 to %u letters, digits, '.', '_' or '-'",
		     ln, XA_CFG_NAME_MAX - 1);
		return;
	}
	for (size_t i = 0; i < c->cfg->nlinks; i++) {
		if (strcmp(c->cfg->links[i].name, ln) == 0) {
			fail(c, c->line,
			     "link '%s' is defined twice (first on line %u); give each [link NAME] its own name",
			     ln, c->cfg->links[i].line);
			return;
		}
	}
	if (!grow_links(c))
		return;
	l = &c->cfg->links[c->cfg->nlinks];
	memset(l, 0, sizeof(*l));
	memset(c->link_keys[c->cfg->nlinks], 0, sizeof(c->link_keys[0]));
	snprintf(l->name, sizeof(l->name), "%s", ln);
	l->line = c->line;
	l->buf_size = XA_CFG_DEFAULT_BUF_SIZE;
	l->buf_count = XA_CFG_DEFAULT_BUF_COUNT;
	c->cfg->nlinks++;
	c->link = l;
	c->sect = S_LINK;
}

/* [partition NAME]: a valid partition name, one section per name. */
static void open_partition(struct ctx *c, const char *pn)
{
	struct xa_config *cfg = c->cfg;
	struct xa_cfg_partition *np;
	char why[160];

	if (xa_partition_name_check(pn, strlen(pn), why, sizeof(why)) < 0) {
		fail(c, c->line, "[partition %s]: %s; write [partition NAME]", pn, why);
		return;
	}
	for (size_t i = 0; i < cfg->npartitions; i++)
		if (strcmp(cfg->partitions[i].name, pn) == 0) {
			fail(c, c->line,
			     "[partition %s] appears twice (first on line %u); keep one",
			     pn, cfg->partitions[i].line);
			return;
		}
	np = realloc(cfg->partitions, (cfg->npartitions + 1) * sizeof(*np));
	if (np == NULL) {
		fail(c, c->line, "out of memory");
		return;
	}
	cfg->partitions = np;
	c->part = &np[cfg->npartitions++];
	memset(c->part, 0, sizeof(*c->part));
	snprintf(c->part->name, sizeof(c->part->name), "%s", pn);
	c->part->line = c->line;
	c->part_keys[0] = c->part_keys[1] = 0;
	c->link = NULL;
	c->sect = S_PARTITION;
}

/* A section header line: open the section. */
static void open_section(struct ctx *c, char *hdr)
{
	char *name = trim(hdr);

	if (strcmp(name, "backend") == 0) {
		c->sect = S_BACKEND;
		c->link = NULL;
		return;
	}
	if (strncmp(name, "link", 4) == 0 &&
	    (name[4] == '\0' || name[4] == ' ' || name[4] == '\t')) {
		open_link(c, trim(name + 4));
		return;
	}
	if (strncmp(name, "partition", 9) == 0 &&
	    (name[9] == '\0' || name[9] == ' ' || name[9] == '\t')) {
		open_partition(c, trim(name + 9));
		return;
	}
	fail(c, c->line, "unknown section [%s]; expected [backend], [link NAME] or [partition NAME]",
	     name);
}

/* One line from the source into str (fgets semantics: at most num - 1
 * bytes, up to and including a '\n'); NULL at the end. */
static char *next_line(struct ctx *c, char *str, int num)
{
	size_t i = 0;

	if (c->f)
		return fgets(str, num, c->f);
	if (c->str[c->spos] == '\0')
		return NULL;
	while (i + 1 < (size_t)num && c->str[c->spos] != '\0') {
		char ch = c->str[c->spos++];

		str[i++] = ch;
		if (ch == '\n')
			break;
	}
	str[i] = '\0';
	return str;
}

/* Is the source at its end? */
static bool at_eof(struct ctx *c)
{
	int ch;

	if (!c->f)
		return c->str[c->spos] == '\0';
	/* fgets() stops when the buffer is full without looking further: a
	 * last line that fills it exactly has not set EOF yet, so look at
	 * the next byte. */
	ch = getc(c->f);
	if (ch == EOF)
		return true;
	ungetc(ch, c->f);
	return false;
}

/* Count the line str starts (a line split over several reads is counted
 * once). A read without its '\n' that is not the file's last line is a
 * line too long for inih's buffer: refuse it rather than let inih see
 * its rest as another line. */
static bool count_line(struct ctx *c, const char *str, int num)
{
	size_t len = strlen(str);

	if (c->at_bol)
		c->line++;
	c->at_bol = len > 0 && str[len - 1] == '\n';
	if (!c->at_bol && !at_eof(c)) {
		fail(c, c->line, "line is longer than %d characters; shorten it",
		     num - 3);
		return false;
	}
	return true;
}

/* Section headers: note them ourselves (see the top of the file). Works
 * on a copy, so inih still gets the line as read. */
static bool note_section(struct ctx *c, const char *str)
{
	char tmp[512];
	char *s = tmp, *end, *rest;

	snprintf(tmp, sizeof(tmp), "%s", str);
	if (c->line == 1 && strncmp(s, "\xEF\xBB\xBF", 3) == 0)
		s += 3;   /* a UTF-8 byte order mark, which inih skips too */
	s = trim(s);
	if (*s != '[')
		return true;
	end = strchr(s, ']');
	if (end == NULL) {
		fail(c, c->line, "section header without ']'; write [backend], [link NAME] or [partition NAME]");
		return false;
	}
	*end = '\0';
	rest = trim(end + 1);
	if (*rest != '\0' && *rest != ';' && *rest != '#') {
		fail(c, c->line, "text after the section header: '%s'", rest);
		return false;
	}
	open_section(c, s + 1);
	return !c->stop;
}

/* inih's reader: one line per call (fgets semantics). */
static char *reader(char *str, int num, void *stream)
{
	struct ctx *c = stream;

	if (c->stop)
		return NULL;
	if (next_line(c, str, num) == NULL)
		return NULL;
	if (!count_line(c, str, num) || !note_section(c, str))
		return NULL;
	return str;
}

/* A whole decimal number in [lo, hi]. */
static bool parse_u32(const char *v, unsigned long lo, unsigned long hi,
		      uint32_t *out)
{
	char *end;
	unsigned long x;

	if (*v < '0' || *v > '9')
		return false;
	errno = 0;
	x = strtoul(v, &end, 10);
	if (errno || *end != '\0' || x < lo || x > hi)
		return false;
	*out = (uint32_t)x;
	return true;
}

static bool parse_end(struct ctx *c, const char *key, const char *v,
		      struct xa_cfg_end *e)
{
	const char *colon = strchr(v, ':');
	size_t plen = colon ? (size_t)(colon - v) : strlen(v);

	char why[160];

	if (xa_partition_name_check(v, plen, why, sizeof(why)) < 0) {
		fail(c, c->line,
		     "%s = '%s': expected PARTITION[:DEVNO], e.g. fw or fw:1: %s",
		     key, v, why);
		return false;
	}
	uint32_t devno = 0;

	if (colon && !parse_u32(colon + 1, 0, XA_CFG_MAX_DEVNO, &devno)) {
		fail(c, c->line,
		     "%s = '%s': DEVNO after ':' must be a number from 0 to %u, e.g. fw:1",
		     key, v, XA_CFG_MAX_DEVNO);
		return false;
	}
	memcpy(e->partition, v, plen);
	e->partition[plen] = '\0';
	e->devno = devno;
	e->line = c->line;
	return true;
}

static int key_index(const char *const *names, int n, const char *key)
{
	for (int i = 0; i < n; i++)
		if (strcmp(names[i], key) == 0)
			return i;
	return -1;
}

static bool limits_key(struct ctx *c, const char *key, const char *v);

/* A user (is_user) or group: a number, or a name the system's user or
 * group database knows, resolved now. (uid_t)-1 is no one's id. */
static bool parse_id(struct ctx *c, const char *key, const char *v,
		     bool is_user, uint32_t *out)
{
	const char *what = is_user ? "user" : "group";

	if (*v >= '0' && *v <= '9') {
		if (parse_u32(v, 0, UINT32_MAX - 1, out))
			return true;
		fail(c, c->line, "%s = '%s': expected a %s name or a number below %lu",
		     key, v, what, (unsigned long)UINT32_MAX);
		return false;
	}
	if (is_user) {
		struct passwd *pw = getpwnam(v);

		if (pw != NULL) {
			*out = (uint32_t)pw->pw_uid;
			return true;
		}
	} else {
		struct group *gr = getgrnam(v);

		if (gr != NULL) {
			*out = (uint32_t)gr->gr_gid;
			return true;
		}
	}
	fail(c, c->line, "%s = '%s': no such %s on this system; give an existing %s name or a number",
	     key, v, what, what);
	return false;
}

/* [partition NAME] uid = / gid = : a list of ids separated by commas or
 * blanks, each key once. */
static void partition_key(struct ctx *c, const char *key, const char *v)
{
	struct xa_cfg_partition *p = c->part;
	bool is_user = strcmp(key, "uid") == 0;
	uint32_t *ids = is_user ? p->uid : p->gid;
	unsigned *n = is_user ? &p->nuid : &p->ngid;
	char buf[512], *save = NULL;

	if (!is_user && strcmp(key, "gid") != 0) {
		fail(c, c->line, "unknown key '%s' in [partition %s]; expected uid or gid",
		     key, p->name);
		return;
	}
	if (c->part_keys[!is_user]) {
		fail(c, c->line, "%s is set twice in [partition %s] (first on line %u); list every id on one line",
		     key, p->name, c->part_keys[!is_user]);
		return;
	}
	c->part_keys[!is_user] = c->line;
	snprintf(buf, sizeof(buf), "%s", v);
	for (char *t = strtok_r(buf, ", \t", &save); t != NULL;
	     t = strtok_r(NULL, ", \t", &save)) {
		if (*n == XA_CFG_IDS_MAX) {
			fail(c, c->line, "%s: more than %u ids in [partition %s]; use a group",
			     key, XA_CFG_IDS_MAX, p->name);
			return;
		}
		if (!parse_id(c, key, t, is_user, &ids[*n]))
			return;
		(*n)++;
	}
	if (*n == 0)
		fail(c, c->line, "%s is empty in [partition %s]; give a %s name or number",
		     key, p->name, is_user ? "user" : "group");
}

/* Parse and store the value of [backend] key k (seen once so far). */
static void set_backend_key(struct ctx *c, int k, const char *v)
{
	struct xa_config *cfg = c->cfg;

	switch (k) {
	case K_SOCKET:
		if (*v == '\0' || strlen(v) >= XA_CFG_SOCKET_MAX) {
			fail(c, c->line,
			     "socket = '%s': give a path of 1 to %u characters",
			     v, XA_CFG_SOCKET_MAX - 1);
			return;
		}
		snprintf(cfg->socket_path, sizeof(cfg->socket_path), "%s", v);
		return;
	case K_MAX_PAGES:
		if (!parse_u32(v, 2, XA_CFG_MAX_MAX_PAGES, &cfg->max_pages))
			fail(c, c->line,
			     "max-pages = '%s': expected a number of 4 KiB pages from 2 to %u",
			     v, XA_CFG_MAX_MAX_PAGES);
		return;
	case K_MAX_SERVICES:
		if (!parse_u32(v, 1, XA_CFG_MAX_MAX_SERVICES, &cfg->max_services))
			fail(c, c->line,
			     "max-services = '%s': expected a number from 1 to %u",
			     v, XA_CFG_MAX_MAX_SERVICES);
		return;
	case K_LOG_LEVEL:
		cfg->log_level = xa_log_level_parse(v);
		if (cfg->log_level < 0)
			fail(c, c->line,
			     "log-level = '%s': expected error, warning, info, debug or trace",
			     v);
		return;
	case K_DYNAMIC_LINKS:
		if (!parse_u32(v, 0, XA_CFG_MAX_DYNAMIC_LINKS, &cfg->dynamic_links))
			fail(c, c->line,
			     "dynamic-links = '%s': expected a number from 0 to %u",
			     v, XA_CFG_MAX_DYNAMIC_LINKS);
		return;
	case K_LIBVIRT_URI:
		if (*v == '\0' || strlen(v) >= XA_CFG_URI_MAX) {
			fail(c, c->line,
			     "libvirt-uri = '%s': give a libvirt URI of 1 to %u characters, e.g. xen:///system",
			     v, XA_CFG_URI_MAX - 1);
			return;
		}
		snprintf(cfg->libvirt_uri, sizeof(cfg->libvirt_uri), "%s", v);
		return;
	case K_ADMIN_GROUP:
		if (parse_id(c, "admin-group", v, false, &cfg->admin_gid))
			cfg->has_admin_gid = true;
		return;
	}
}

/* A [backend] key: known, and set at most once. */
static void backend_key(struct ctx *c, const char *key, const char *v)
{
	int k = key_index(backend_key_names, K_NBACKEND, key);

	if (k < 0 && limits_key(c, key, v))
		return;
	if (k < 0) {
		fail(c, c->line,
		     "unknown key '%s' in [backend]; expected socket, max-pages, max-services, log-level, dynamic-links, libvirt-uri, admin-group or a limit of docs/security.md",
		     key);
		return;
	}
	if (c->backend_keys[k]) {
		fail(c, c->line, "%s is set twice in [backend] (first on line %u); keep one",
		     key, c->backend_keys[k]);
		return;
	}
	c->backend_keys[k] = c->line;
	set_backend_key(c, k, v);
}

static void link_key(struct ctx *c, const char *key, const char *v)
{
	int k = key_index(link_key_names, K_NLINK, key);
	struct xa_cfg_link *l = c->link;
	unsigned *seen = c->link_keys[l - c->cfg->links];

	if (k < 0) {
		fail(c, c->line,
		     "unknown key '%s' in [link %s]; expected end-a, end-b, buf-size or buf-count",
		     key, l->name);
		return;
	}
	if (seen[k]) {
		fail(c, c->line, "%s is set twice in [link %s] (first on line %u); keep one",
		     key, l->name, seen[k]);
		return;
	}
	seen[k] = c->line;

	switch (k) {
	case K_END_A:
	case K_END_B:
		(void)parse_end(c, key, v, &l->end[k == K_END_A ? 0 : 1]);
		return;
	case K_BUF_SIZE:
		if (!parse_u32(v, XA_CFG_MIN_BUF_SIZE, XA_CFG_MAX_BUF_SIZE,
			       &l->buf_size))
			fail(c, c->line,
			     "buf-size = '%s': expected a number of bytes from %u to %u (a buffer holds the 16-byte RPMsg header and at least a 40-byte name-service message)",
			     v, XA_CFG_MIN_BUF_SIZE, XA_CFG_MAX_BUF_SIZE);
		return;
	case K_BUF_COUNT:
		if (!parse_u32(v, 1, XA_CFG_MAX_BUF_COUNT, &l->buf_count) ||
		    (l->buf_count & (l->buf_count - 1)) != 0)
			fail(c, c->line,
			     "buf-count = '%s': expected a power of two from 1 to %u (it is the vring size)",
			     v, XA_CFG_MAX_BUF_COUNT);
		return;
	}
}

/* The [backend] limits against local clients and Xen domains
 * (docs/security.md). Returns
 * false when key is not one of them. Ranges: no limit can be set so low
 * that the backend could not serve a small system, nor so high that it
 * stops being a limit. */
static bool limits_key(struct ctx *c, const char *key, const char *v)
{
	static const struct {
		const char *name;
		unsigned long lo, hi;
		const char *what;
	} lim[XA_LIM_N] = {
		[XA_LIM_MAX_CLIENTS] = { "max-clients", 8, 65536, "connections" },
		[XA_LIM_PER_UID] = { "max-clients-per-uid", 1, 65536, "connections" },
		[XA_LIM_RESERVED] = { "reserved-clients", 1, 65535, "connections" },
		[XA_LIM_HELLO_MS] = { "hello-timeout-ms", 100, 600000, "milliseconds" },
		[XA_LIM_CTL_KIB] = { "ctl-queue-kib", 64, 65536, "KiB" },
		[XA_LIM_CTL_TOTAL_KIB] = { "ctl-queue-total-kib", 64, 1048576, "KiB" },
		[XA_LIM_REGION_MS] = { "region-timeout-ms", 100, 600000, "milliseconds" },
		[XA_LIM_XEN_MAPS] = { "xen-region-maps", 1, 1000, "region maps" },
		[XA_LIM_XEN_WINDOW_MS] = { "xen-map-window-ms", 100, 3600000, "milliseconds" },
	};
	struct xa_cfg_limits *l = &c->cfg->limits;

	for (int k = 0; k < XA_LIM_N; k++) {
		if (strcmp(key, lim[k].name) != 0)
			continue;
		if (l->line[k]) {
			fail(c, c->line, "%s is set twice in [backend] (first on line %u); keep one",
			     key, l->line[k]);
			return true;
		}
		l->line[k] = c->line;
		if (!parse_u32(v, lim[k].lo, lim[k].hi, &l->v[k]))
			fail(c, c->line, "%s = '%s': expected a number of %s from %lu to %lu",
			     key, v, lim[k].what, lim[k].lo, lim[k].hi);
		return true;
	}
	return false;
}

static int handler(void *user, const char *section, const char *name,
		   const char *value)
{
	struct ctx *c = user;

	(void)section;   /* ours is exact; inih's is truncated to 50 chars */
	if (c->has_err)
		return 0;
	switch (c->sect) {
	case S_NONE:
		fail(c, c->line,
		     "'%s' is outside any section; put it under [backend], [link NAME] or [partition NAME]",
		     name);
		break;
	case S_PARTITION:
		partition_key(c, name, value);
		break;
	case S_BACKEND:
		backend_key(c, name, value);
		break;
	case S_LINK:
		link_key(c, name, value);
		break;
	}
	return c->has_err ? 0 : 1;
}

uint64_t xa_config_region_pages(uint32_t buf_size, uint32_t buf_count)
{
	size_t ring = xa_vring_size(buf_count, 4096);

	if (ring == 0)
		return 0;
	/* libxenamp's layout (src/frontend/region.c): buffers on a 16-byte
	 * stride, each part page-aligned. */
	uint64_t ring_pages = ((uint64_t)ring + 4095) / 4096;
	uint64_t stride = ((uint64_t)buf_size + 15) & ~(uint64_t)15;
	uint64_t buf_pages = (stride * buf_count + 4095) / 4096;

	return 1 + 2 * ring_pages + 2 * buf_pages;
}

static const char *end_key(int i)
{
	return i == 0 ? "end-a" : "end-b";
}

/* Each (partition, devno) is one device: it belongs to one link. The
 * fault is reported on the later of the two lines. */
static void check_devices(struct ctx *c)
{
	struct xa_config *cfg = c->cfg;

	for (size_t i = 0; i < cfg->nlinks; i++) {
		for (int a = 0; a < 2; a++) {
			const struct xa_cfg_end *x = &cfg->links[i].end[a];

			for (size_t j = i; j < cfg->nlinks; j++) {
				for (int b = (j == i ? a + 1 : 0); b < 2; b++) {
					const struct xa_cfg_end *y = &cfg->links[j].end[b];

					if (strcmp(x->partition, y->partition) != 0 ||
					    x->devno != y->devno)
						continue;
					bool y_late = y->line > x->line;
					const struct xa_cfg_end *late = y_late ? y : x;
					const struct xa_cfg_end *early = y_late ? x : y;
					size_t ei = y_late ? i : j;
					int ek = y_late ? a : b;

					fail(c, late->line,
					     "%s:%u is already %s of link %s (line %u); a device belongs to one link: give this end another DEVNO",
					     late->partition, late->devno, end_key(ek),
					     cfg->links[ei].name, early->line);
					return;
				}
			}
		}
	}
}

/* Checks that need the whole file. */
static void check_all(struct ctx *c)
{
	struct xa_config *cfg = c->cfg;

	for (size_t i = 0; i < cfg->npartitions; i++)
		if (cfg->partitions[i].nuid + cfg->partitions[i].ngid == 0) {
			fail(c, cfg->partitions[i].line,
			     "[partition %s] names no uid and no gid; add uid = USER or gid = GROUP (without a section only root and the backend's user may claim it)",
			     cfg->partitions[i].name);
			return;
		}

	if (cfg->nlinks == 0 && cfg->libvirt_uri[0] == '\0') {
		fail(c, 0,
		     "no [link NAME] section: the backend would have nothing to serve; add one with end-a and end-b");
		return;
	}
	for (size_t i = 0; i < cfg->nlinks && !c->has_err; i++) {
		struct xa_cfg_link *l = &cfg->links[i];

		for (int j = 0; j < 2; j++) {
			if (l->end[j].line == 0) {
				fail(c, l->line, "[link %s] has no %s; add %s = PARTITION[:DEVNO]",
				     l->name, end_key(j), end_key(j));
				return;
			}
		}
		uint64_t need = xa_config_region_pages(l->buf_size, l->buf_count);

		if (need == 0 || need > cfg->max_pages) {
			unsigned *seen = c->link_keys[i];
			unsigned line = seen[K_BUF_COUNT] > seen[K_BUF_SIZE]
				? seen[K_BUF_COUNT] : seen[K_BUF_SIZE];

			fail(c, line ? line : l->line,
			     "[link %s] needs up to %llu pages per end (buf-size %u x buf-count %u in each direction, plus rings and table), more than max-pages %u; raise max-pages in [backend] or lower buf-size/buf-count",
			     l->name, (unsigned long long)need, l->buf_size,
			     l->buf_count, cfg->max_pages);
			return;
		}
	}
	check_devices(c);
}

static int load(struct ctx *c, char *err, size_t errlen)
{
	struct xa_config *cfg = c->cfg;
	int rc;

	memset(cfg, 0, sizeof(*cfg));
	cfg->max_pages = XA_CFG_DEFAULT_MAX_PAGES;
	cfg->max_services = XA_CFG_DEFAULT_MAX_SERVICES;
	cfg->dynamic_links = XA_CFG_DEFAULT_DYNAMIC_LINKS;
	cfg->log_level = -1;
	c->at_bol = true;

	rc = ini_parse_stream(reader, c, handler, c);
	/* inih's own syntax errors (a line that is neither a section, a
	 * key = value nor a comment) come back as a line number without
	 * our message; ours may come later in the file or not at all. */
	if (rc > 0 && (!c->has_err || (unsigned)rc < c->err_line)) {
		c->has_err = false;
		fail(c, (unsigned)rc,
		     "syntax error: expected [section], key = value, or a comment starting with ; or #");
	} else if (rc < 0 && !c->has_err) {
		fail(c, 0, "out of memory while parsing");
	}
	if (!c->has_err)
		check_all(c);
	free(c->link_keys);
	c->link_keys = NULL;
	if (c->has_err) {
		if (c->err_line)
			snprintf(err, errlen, "%s:%u: %s", c->fname, c->err_line, c->err);
		else
			snprintf(err, errlen, "%s: %s", c->fname, c->err);
		xa_config_free(cfg);
		return -1;
	}
	return 0;
}

int xa_config_load(const char *path, struct xa_config *cfg, char *err,
		   size_t errlen)
{
	struct ctx c;
	int rc;

	memset(&c, 0, sizeof(c));
	c.cfg = cfg;
	c.fname = path;
	c.f = fopen(path, "r");
	if (c.f == NULL) {
		memset(cfg, 0, sizeof(*cfg));
		snprintf(err, errlen,
			 "cannot read the configuration %s: %s; pass --config FILE",
			 path, strerror(errno));
		return -1;
	}
	rc = load(&c, err, errlen);
	fclose(c.f);
	return rc;
}

int xa_config_load_string(const char *text, const char *name,
			  struct xa_config *cfg, char *err, size_t errlen)
{
	struct ctx c;

	memset(&c, 0, sizeof(c));
	c.cfg = cfg;
	c.fname = name;
	c.str = text;
	return load(&c, err, errlen);
}

void xa_config_free(struct xa_config *cfg)
{
	free(cfg->links);
	cfg->links = NULL;
	cfg->nlinks = 0;
	free(cfg->partitions);
	cfg->partitions = NULL;
	cfg->npartitions = 0;
}

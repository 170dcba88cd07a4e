/* The peer's services (rpmsgd.h): the name-service callbacks feed the TTY
 * bridge and the services file <run-dir>/rpmsg_ctrlN.services, one line
 * "NAME ADDRESS" per service the peer announced and has not withdrawn,
 * rewritten (atomically, by rename) on every change. It is what a program
 * reads to learn the address to put into RPMSG_CREATE_EPT_IOCTL's dst, as
 * it would read /sys/bus/rpmsg/devices/ on a kernel with rpmsg.
 *
 * libxenamp calls ns_bind_cb only for a service no local endpoint waits
 * for (an endpoint of the same name without a destination binds to it
 * instead), so a service an endpoint device of the same name took is not
 * listed. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tools/rpmsgd/rpmsgd.h"

/* The callbacks get only the rpmsg_device: the daemon serves one. */
static struct rd_daemon *the_rd;

static void services_write(struct rd_daemon *rd)
{
	char path[PATH_MAX], tmp[PATH_MAX + 8], n[RD_NAME_SIZE];
	FILE *f;

	snprintf(path, sizeof(path), "%s/rpmsg_ctrl%u.services", rd->run_dir,
		 rd->ctrl_index);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (f == NULL) {
		rd_dbg(rd, "cannot write %s: %s", tmp, strerror(errno));
		return;
	}
	for (struct rd_service *s = rd->services; s != NULL; s = s->next) {
		rd_safe_name(s->name, sizeof(s->name), n, sizeof(n));
		fprintf(f, "%s %u\n", n, s->addr);
	}
	if (fclose(f) != 0 || rename(tmp, path) != 0)
		rd_dbg(rd, "cannot write %s: %s", path, strerror(errno));
}

static void service_add(struct rd_daemon *rd, const char *name, uint32_t addr)
{
	struct rd_service *s, **ps = &rd->services;

	for (s = rd->services; s != NULL; s = s->next)
		if (s->addr == addr && strncmp(s->name, name, RD_NAME_SIZE) == 0)
			return;
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return;
	memcpy(s->name, name, strnlen(name, RD_NAME_SIZE - 1));
	s->addr = addr;
	while (*ps != NULL)   /* in the order announced */
		ps = &(*ps)->next;
	*ps = s;
	services_write(rd);
}

static void service_remove(struct rd_daemon *rd, const char *name, uint32_t addr)
{
	for (struct rd_service **ps = &rd->services; *ps != NULL; ps = &(*ps)->next) {
		struct rd_service *s = *ps;

		if (s->addr == addr && strncmp(s->name, name, RD_NAME_SIZE) == 0) {
			*ps = s->next;
			free(s);
			services_write(rd);
			return;
		}
	}
}

static void ns_bind(struct rpmsg_device *rdev, const char *name, uint32_t dest)
{
	struct rd_daemon *rd = the_rd;
	char n[RD_NAME_SIZE];

	(void)rdev;
	rd_safe_name(name, RD_NAME_SIZE, n, sizeof(n));
	rd_dbg(rd, "peer announced '%s' at %u", n, dest);
	service_add(rd, name, dest);
	if (rd->tty_enabled && strncmp(name, "rpmsg-tty", RD_NAME_SIZE) == 0)
		rd_tty_add(rd, dest);
}

static void ns_unbind(struct rpmsg_device *rdev, const char *name, uint32_t dest)
{
	struct rd_daemon *rd = the_rd;
	char n[RD_NAME_SIZE];

	(void)rdev;
	rd_safe_name(name, RD_NAME_SIZE, n, sizeof(n));
	rd_dbg(rd, "peer withdrew '%s' at %u", n, dest);
	service_remove(rd, name, dest);
	if (strncmp(name, "rpmsg-tty", RD_NAME_SIZE) == 0)
		rd_tty_remove(rd, dest);
}

void rd_ns_init(struct rd_daemon *rd, struct xenamp_opts *opts)
{
	the_rd = rd;
	opts->ns_bind_cb = ns_bind;
	(void)mkdir(rd->run_dir, 0755);
	services_write(rd);   /* empty until the peer announces */
}

void rd_ns_attach(struct rd_daemon *rd)
{
	rd->rdev->ns_unbind_cb = ns_unbind;
}

void rd_ns_shutdown(struct rd_daemon *rd)
{
	struct rd_service *s;
	char path[PATH_MAX];

	while ((s = rd->services) != NULL) {
		rd->services = s->next;
		free(s);
	}
	snprintf(path, sizeof(path), "%s/rpmsg_ctrl%u.services", rd->run_dir,
		 rd->ctrl_index);
	(void)unlink(path);
}

/* xenamp-rpc-proxy: per-client fd tables and the root-confined open.
 *
 * Confinement: every open goes through openat2() on the root directory
 * with RESOLVE_BENEATH (no absolute path, no "..", no symlink may leave
 * the root) and RESOLVE_NO_MAGICLINKS (/proc fd links). Paths are also
 * checked by name first, only so that the refusal line can say why. Only
 * regular files are served: the open is non-blocking (a FIFO cannot
 * stall the proxy), then checked with fstat. */
#define _GNU_SOURCE
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "tools/rpc-proxy/rpc_proxy.h"

/* Linux's O_* values as the partition sends them (generic ABI, x86 and
 * Arm alike; OpenAMP's demos define them as REDEF_O_*). */
#define W_ACCMODE 00000003
#define W_CREAT   00000100
#define W_EXCL    00000200
#define W_TRUNC   00001000
#define W_APPEND  00002000
#define W_ALLOWED (W_ACCMODE | W_CREAT | W_EXCL | W_TRUNC | W_APPEND)

/* openat2() is the confinement: without it (Linux before 5.6, or a
 * seccomp filter that refuses it) nothing is served. */
static int probe_openat2(struct rp_state *st)
{
	struct open_how how;
	long fd;

	memset(&how, 0, sizeof(how));
	how.flags = O_PATH | O_CLOEXEC;
	how.resolve = RESOLVE_BENEATH;
	fd = syscall(SYS_openat2, st->rootfd, ".", &how, sizeof(how));
	if (fd < 0) {
		int e = errno;

		fprintf(stderr, "xenamp-rpc-proxy: openat2() on '%s' fails (%s): it confines paths to the root and needs Linux 5.6 or later\n",
			st->root, strerror(e));
		close(st->rootfd);
		st->rootfd = -1;
		return -e;
	}
	close((int)fd);
	return 0;
}

int rp_init(struct rp_state *st, const char *root)
{
	memset(st, 0, sizeof(*st));
	st->root = root;
	st->log = stderr;
	for (int i = 0; i < 3; i++)
		st->std_fd[i] = i;
	st->rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (st->rootfd < 0) {
		int e = errno;

		fprintf(stderr, "xenamp-rpc-proxy: root directory '%s': %s (give an existing directory with --root)\n",
			root, strerror(e));
		return -e;
	}
	return probe_openat2(st);
}

void rp_fini(struct rp_state *st)
{
	for (int i = 0; i < RP_MAX_CLIENTS; i++)
		if (st->cl[i].used)
			(void)rp_client_end(st, &st->cl[i]);
	if (st->rootfd >= 0)
		close(st->rootfd);
	st->rootfd = -1;
}

struct rp_client *rp_client_get(struct rp_state *st, uint32_t src)
{
	struct rp_client *free_slot = NULL;

	for (int i = 0; i < RP_MAX_CLIENTS; i++) {
		if (st->cl[i].used && st->cl[i].addr == src)
			return &st->cl[i];
		if (!st->cl[i].used && free_slot == NULL)
			free_slot = &st->cl[i];
	}
	if (free_slot == NULL)
		return NULL;
	free_slot->used = true;
	free_slot->addr = src;
	for (int i = 0; i < RP_MAX_FILES; i++)
		free_slot->fd[i] = -1;
	st->sessions++;
	return free_slot;
}

unsigned rp_client_end(struct rp_state *st, struct rp_client *c)
{
	unsigned n = 0;

	(void)st;
	for (int i = 0; i < RP_MAX_FILES; i++) {
		if (c->fd[i] >= 0) {
			close(c->fd[i]);
			c->fd[i] = -1;
			n++;
		}
	}
	c->used = false;
	return n;
}

/* Why a path is refused by name, or NULL: empty, absolute, or with a
 * ".." component. */
static const char *path_refusal(const char *p)
{
	if (p[0] == '\0')
		return "the path is empty";
	if (p[0] == '/')
		return "absolute paths are refused (paths are relative to the root)";
	for (const char *c = p; *c != '\0';) {
		size_t n = strcspn(c, "/");

		if (n == 2 && c[0] == '.' && c[1] == '.')
			return "'..' components are refused";
		c += n;
		if (*c == '/')
			c++;
	}
	return NULL;
}

static int host_flags(int32_t w)
{
	int f = O_CLOEXEC | O_NOCTTY | O_NONBLOCK;

	switch (w & W_ACCMODE) {
	case 0: f |= O_RDONLY; break;
	case 1: f |= O_WRONLY; break;
	default: f |= O_RDWR; break;
	}
	if (w & W_CREAT)
		f |= O_CREAT;
	if (w & W_EXCL)
		f |= O_EXCL;
	if (w & W_TRUNC)
		f |= O_TRUNC;
	if (w & W_APPEND)
		f |= O_APPEND;
	return f;
}

/* openat2 beneath the root, then only a regular file, blocking again. */
static int open_beneath(struct rp_state *st, const char *path, int flags,
			mode_t mode, const char **why)
{
	struct open_how how;
	struct stat sb;
	long fd;

	memset(&how, 0, sizeof(how));
	how.flags = (uint64_t)flags;
	how.mode = (flags & O_CREAT) ? mode : 0;
	how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
	fd = syscall(SYS_openat2, st->rootfd, path, &how, sizeof(how));
	if (fd < 0) {
		int e = errno;

		*why = e == EXDEV ? "it leads out of the root (a symbolic link?)" : strerror(e);
		return e == EXDEV ? -EACCES : -e;
	}
	if (fstat((int)fd, &sb) != 0 || !S_ISREG(sb.st_mode) ||
	    fcntl((int)fd, F_SETFL, flags & O_APPEND) != 0) {
		*why = "not a regular file";
		close((int)fd);
		return -EACCES;
	}
	return (int)fd;
}

static int free_slot(const struct rp_client *c)
{
	for (int i = 0; i < RP_MAX_FILES; i++)
		if (c->fd[i] < 0)
			return i;
	return -1;
}

int rp_open(struct rp_state *st, struct rp_client *c, const char *path,
	    int32_t wflags, int32_t mode)
{
	char shown[96];
	const char *why = path_refusal(path);
	int slot = free_slot(c), r;

	if (why != NULL) {
		r = path[0] == '\0' ? -ENOENT : -EACCES;
	} else if ((wflags & ~W_ALLOWED) != 0) {
		why = "open flags other than O_ACCMODE, O_CREAT, O_EXCL, O_TRUNC, O_APPEND";
		r = -EINVAL;
	} else if (slot < 0) {
		why = "the client holds the most files allowed (32)";
		r = -EMFILE;
	} else {
		r = open_beneath(st, path, host_flags(wflags), (mode_t)mode & 0666, &why);
	}
	if (r < 0) {
		fprintf(st->log, "xenamp-rpc-proxy: address %u: open '%s' under '%s' refused: %s (answered %d)\n",
			(unsigned)c->addr, rp_printable(path, strlen(path), shown, sizeof(shown)),
			st->root, why, r);
		return r;
	}
	c->fd[slot] = r;
	return RP_FIRST_FD + slot;
}

int rp_host_fd(const struct rp_state *st, const struct rp_client *c, int32_t pfd)
{
	if (pfd >= 0 && pfd < RP_FIRST_FD)
		return st->std_fd[pfd];
	if (pfd < RP_FIRST_FD || pfd >= RP_FIRST_FD + RP_MAX_FILES)
		return -1;
	return c->fd[pfd - RP_FIRST_FD];
}

int rp_close(struct rp_state *st, struct rp_client *c, int32_t pfd)
{
	(void)st;
	if (pfd >= 0 && pfd < RP_FIRST_FD)
		return 0;               /* the proxy's console stays open */
	if (pfd < RP_FIRST_FD || pfd >= RP_FIRST_FD + RP_MAX_FILES ||
	    c->fd[pfd - RP_FIRST_FD] < 0)
		return -EBADF;
	close(c->fd[pfd - RP_FIRST_FD]);
	c->fd[pfd - RP_FIRST_FD] = -1;
	return 0;
}

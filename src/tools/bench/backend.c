/* xenamp-bench: the xenamp-backend under test. Find it, write its
 * configuration (every link any measurement may use) into the private
 * directory, start it on the private socket with its log there, and stop
 * it at the end: a clean exit on SIGTERM is part of a successful run. */
#include <config.h>

#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"

static bool exe_ok(const char *p)
{
	struct stat st;

	return stat(p, &st) == 0 && S_ISREG(st.st_mode) && access(p, X_OK) == 0;
}

/* Next to ourselves: installed (bin/ and sbin/), or in the build tree
 * (src/tools/[.libs/] and src/backend/). */
static bool backend_next_to_self(void)
{
	static const char *const rel[] = {
		"xenamp-backend",
		"../sbin/xenamp-backend",
		"../backend/xenamp-backend",
		"../../backend/xenamp-backend",
	};
	char self[PATH_MAX], dir[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	char *slash;

	if (n <= 0)
		return false;
	self[n] = '\0';
	snprintf(dir, sizeof(dir), "%s", self);
	slash = strrchr(dir, '/');
	if (slash != NULL)
		*slash = '\0';
	for (size_t i = 0; i < sizeof(rel) / sizeof(rel[0]); i++) {
		char cand[PATH_MAX + 64];

		snprintf(cand, sizeof(cand), "%s/%s", dir, rel[i]);
		if (exe_ok(cand) && realpath(cand, B.backend) != NULL)
			return true;
	}
	return false;
}

/* --backend, else $XENAMP_BACKEND, else next to ourselves, else the
 * configured sbindir. Says why on stderr when it finds none. */
bool find_backend(void)
{
	const char *env = getenv("XENAMP_BACKEND");

	if (B.backend_opt != NULL || (env != NULL && env[0] != '\0')) {
		const char *p = B.backend_opt ? B.backend_opt : env;

		if (!exe_ok(p)) {
			fprintf(stderr, "xenamp-bench: %s is not an executable xenamp-backend (%s)\n",
				p, B.backend_opt ? "--backend" : "$XENAMP_BACKEND");
			return false;
		}
		snprintf(B.backend, sizeof(B.backend), "%s", p);
		return true;
	}
	if (backend_next_to_self())
		return true;
#ifdef XA_SBINDIR
	if (exe_ok(XA_SBINDIR "/xenamp-backend")) {
		snprintf(B.backend, sizeof(B.backend), "%s", XA_SBINDIR "/xenamp-backend");
		return true;
	}
#endif
	fprintf(stderr,
		"xenamp-bench: cannot find xenamp-backend next to this program; give it with --backend PATH or $XENAMP_BACKEND\n");
	return false;
}

/* --scale: links c0.. between scs:i and scr:i (one process on each side
 * opens devices 0..N-1), and room for them: every device is one
 * connection (max-clients, default 1024) holding two of the backend's
 * file descriptors. */
static int write_scale_links(FILE *f)
{
	unsigned n = B.idle_links;

	for (unsigned i = 0; i < B.nlinks; i++)
		if (B.links[i] > n)
			n = B.links[i];
	fprintf(f, "max-clients = %u\n", 2 * n + 64);
	for (unsigned i = 0; i < n; i++)
		fprintf(f, "\n[link c%u]\nend-a = scs:%u\nend-b = scr:%u\nbuf-size = %u\nbuf-count = %u\n",
			i, i, i, SCALE_BUF, SCALE_COUNT);
	if (fclose(f) != 0) {
		fprintf(stderr, "xenamp-bench: cannot write %s: %s\n", B.conf, strerror(errno));
		return -1;
	}
	return 0;
}

/* Links m0.. (496-byte payloads) and g0.. (65520 bytes), one of each per
 * link of the largest --links count, and the idle link. */
static int write_config(void)
{
	FILE *f = fopen(B.conf, "w");

	if (f == NULL) {
		fprintf(stderr, "xenamp-bench: cannot write %s: %s\n", B.conf, strerror(errno));
		return -1;
	}
	fprintf(f, "# written by xenamp-bench\n[backend]\nmax-services = 8\nlog-level = warning\n");
	if (B.scale)
		return write_scale_links(f);
	for (unsigned i = 0; i < B.max_links; i++)
		fprintf(f, "\n[link m%u]\nend-a = ms%u\nend-b = mr%u\nbuf-size = %u\nbuf-count = %u\n",
			i, i, i, SMALL_BUF, SMALL_COUNT);
	for (unsigned i = 0; i < B.max_links; i++)
		fprintf(f, "\n[link g%u]\nend-a = gs%u\nend-b = gr%u\nbuf-size = %u\nbuf-count = %u\n",
			i, i, i, BIG_BUF, BIG_COUNT);
	fprintf(f, "\n[link idle]\nend-a = idle-a\nend-b = idle-b\nbuf-size = %u\nbuf-count = %u\n",
		SMALL_BUF, SMALL_COUNT);
	if (fclose(f) != 0) {
		fprintf(stderr, "xenamp-bench: cannot write %s: %s\n", B.conf, strerror(errno));
		return -1;
	}
	return 0;
}

/* In the forked child: stderr to the log, stdin and stdout to /dev/null,
 * SIGTERM when we die; never returns. */
static void exec_backend(pid_t parent) __attribute__((noreturn));

static void exec_backend(pid_t parent)
{
	int fd = open(B.log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);

	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() != parent)
		_exit(127);
	if (fd >= 0)
		dup2(fd, 2);
	fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (fd >= 0) {
		dup2(fd, 0);
		dup2(fd, 1);
	}
	execl(B.backend, "xenamp-backend", "--foreground", "--config", B.conf,
	      "--socket", B.sock, (char *)NULL);
	fprintf(stderr, "xenamp-bench: cannot run %s: %s\n", B.backend, strerror(errno));
	_exit(127);
}

/* Start it and wait (10 s at most) for its socket; 0 or -1 (said why). */
int start_backend(void)
{
	pid_t parent = getpid();
	pid_t pid;

	if (write_config() < 0)
		return -1;
	pid = fork();
	if (pid < 0) {
		fprintf(stderr, "xenamp-bench: fork: %s\n", strerror(errno));
		return -1;
	}
	if (pid == 0)
		exec_backend(parent);
	B.backend_pid = pid;
	for (int i = 0; i < 200; i++) {
		struct stat st;

		if (stat(B.sock, &st) == 0 && S_ISSOCK(st.st_mode))
			return 0;
		if (!backend_alive()) {
			B.backend_pid = 0;
			fprintf(stderr, "xenamp-bench: xenamp-backend (%s) exited at start-up; its log is %s\n",
				B.backend, B.log);
			return -1;
		}
		usleep(50000);
	}
	fprintf(stderr, "xenamp-bench: xenamp-backend did not create %s within 10 s\n", B.sock);
	return -1;
}

bool backend_alive(void)
{
	int st;

	return B.backend_pid > 0 && waitpid(B.backend_pid, &st, WNOHANG) == 0;
}

/* SIGTERM, wait; true when it stopped as it should (status 0). */
bool stop_backend(void)
{
	int st = 0;

	if (B.backend_pid <= 0)
		return false;
	kill(B.backend_pid, SIGTERM);
	while (waitpid(B.backend_pid, &st, 0) < 0 && errno == EINTR)
		;
	B.backend_pid = 0;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

void remove_dir(void)
{
	if (B.dir[0] == '\0' || B.keep)
		return;
	unlink(B.conf);
	unlink(B.log);
	unlink(B.sock);
	rmdir(B.dir);
}

/* The guest type a Xen boot target (--xl, --libvirt) boots the image as.
 *
 * The image says what it can be (its Xen ELF notes, xen_notes.c); the
 * host says what it runs (`xl info` virt_caps, or the libvirt
 * capabilities, read by the target). An image that Xen would refuse, or
 * that boots only as a type the host does not run, is refused here with
 * one line and XLD_EXIT_NOT_XEN, before any config is written or link
 * registered: a domain that dies at start helps nobody. */
#include <config.h>

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "boot.h"

#define XL_INFO_MAX (64u * 1024u)

extern char **environ;

/* Read the child's stdout (at most XL_INFO_MAX bytes, the rest drained)
 * into buf, NUL-terminated. */
static void read_all(int fd, char *buf, size_t cap)
{
	size_t n = 0;
	char sink[512];

	for (;;) {
		ssize_t r = n + 1 < cap ? read(fd, buf + n, cap - 1 - n)
					: read(fd, sink, sizeof(sink));

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		if (n + 1 < cap)
			n += (size_t)r;
	}
	buf[n] = '\0';
}

int fw_host_caps_xl(void)
{
	const char *xl = getenv("XENAMP_XL");
	char *argv[] = { NULL, (char *)"info", NULL };
	posix_spawn_file_actions_t fa;
	char *buf;
	int pfd[2], st, caps = -1;
	pid_t pid;

	if (xl == NULL || *xl == '\0')
		xl = "xl";
	argv[0] = (char *)xl;
	buf = malloc(XL_INFO_MAX);
	if (buf == NULL || pipe(pfd) != 0) {
		free(buf);
		return -1;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, pfd[1], STDOUT_FILENO);
	posix_spawn_file_actions_addclose(&fa, pfd[0]);
	posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
	fflush(NULL);
	if (posix_spawnp(&pid, xl, &fa, NULL, argv, environ) == 0) {
		close(pfd[1]);
		read_all(pfd[0], buf, XL_INFO_MAX);
		while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
			;
		caps = xld_host_caps_xl(buf);
	} else {
		close(pfd[1]);
	}
	close(pfd[0]);
	posix_spawn_file_actions_destroy(&fa);
	free(buf);
	return caps;
}

/* Xen on Arm boots an Arm image of either class without Xen notes, as
 * its one guest type (xl's "pvh"). */
static bool arm_host_arm_image(const struct fw_image *img)
{
#if defined(__aarch64__) || defined(__arm__)
	return img->machine == EM_AARCH64 || img->machine == EM_ARM;
#else
	(void)img;
	return false;
#endif
}

unsigned fw_guest_type(const struct fw_image *img, int host, const char *source)
{
	char why[400];
	unsigned g;

	if (arm_host_arm_image(img))
		return XLD_GUEST_PVH;
	g = xld_guest_choose(&img->xboot, host, why, sizeof(why));
	if (g == 0 && img->xboot.bootable == 0)
		fprintf(stderr, "xenamp-load: %s: %s\n", img->path, why);
	else if (g == 0)
		fprintf(stderr, "xenamp-load: %s: %s (%s%s)\n", img->path, why, source,
			img->xboot.bootable == XLD_GUEST_PVH
			? "; PVH needs HVM with HAP or shadow paging" : "");
	return g;
}

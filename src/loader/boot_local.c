/* Boot target "local": run a firmware built for Linux (an ELF program of
 * this machine carrying a .resource_table, like src/tools/xenamp-echo-fw)
 * as a local partition of xenamp-backend.
 *
 *  1. register the link derived from the vdev with the backend (link-add;
 *     required: without a backend the partition could not connect);
 *  2. exec the firmware in place of xenamp-load (same pid: a supervisor
 *     that started xenamp-load supervises the partition) with
 *       XENAMP_PARTITION=NAME  XENAMP_SOCKET=<the backend socket, absolute>
 *       XENAMP_TRANSPORT=local
 *     and argv = FILE followed by --extra split at blanks (no quoting:
 *     e.g. --extra "-d 1 -q" for the echo firmware on device 1).
 * --dry-run registers nothing and prints the command instead. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include <config.h>

#include <errno.h>
#include <gelf.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "boot.h"
#include "common/ctl_client.h"

#define MAX_ARGS 64

static int host_machine(void)
{
#if defined(__x86_64__)
	return EM_X86_64;
#elif defined(__aarch64__)
	return EM_AARCH64;
#elif defined(__arm__)
	return EM_ARM;
#elif defined(__i386__)
	return EM_386;
#else
	return 0;
#endif
}

int fw_boot_local(const struct fw_image *img, const struct fw_boot_opts *o)
{
	char path[PATH_MAX], sock[PATH_MAX], mb[16];
	char *args = NULL, *argv[MAX_ARGS + 2], *save = NULL, *w;
	const char *s = xa_ctl_socket_path(o->socket);
	int argc = 0, rc;

	if (host_machine() != 0 && img->machine != host_machine())
		return fprintf(stderr, "xenamp-load: %s: the firmware is for machine %s; --local runs programs of this machine only\n",
			       o->name, fw_elf_machine_name(img->machine, mb, sizeof(mb))),
		       XLD_EXIT_BOOT;
	if (img->type != ET_EXEC && img->type != ET_DYN)
		return fprintf(stderr, "xenamp-load: %s: the firmware is not an executable (ELF type %s)\n",
			       o->name, fw_elf_type_name(img->type, mb, sizeof(mb))),
		       XLD_EXIT_BOOT;
	if (realpath(img->path, path) == NULL)
		return fprintf(stderr, "xenamp-load: %s: cannot resolve the path: %s\n",
			       img->path, strerror(errno)), XLD_EXIT_BOOT;
	if (s[0] == '/') {
		snprintf(sock, sizeof(sock), "%s", s);
	} else {
		char cwd[PATH_MAX];

		if (getcwd(cwd, sizeof(cwd)) == NULL ||
		    (size_t)snprintf(sock, sizeof(sock), "%s/%s", cwd, s) >= sizeof(sock))
			return fprintf(stderr, "xenamp-load: %s: cannot make the socket path %s absolute\n",
				       o->name, s), XLD_EXIT_BOOT;
	}

	argv[argc++] = path;
	args = strdup(o->extra);
	if (args == NULL)
		return fprintf(stderr, "xenamp-load: out of memory\n"), XLD_EXIT_IO;
	for (w = strtok_r(args, " \t", &save); w != NULL; w = strtok_r(NULL, " \t", &save)) {
		if (argc > MAX_ARGS) {
			free(args);
			return fprintf(stderr, "xenamp-load: %s: --extra: more than %d arguments\n",
				       o->name, MAX_ARGS), XLD_EXIT_BOOT;
		}
		argv[argc++] = w;
	}
	argv[argc] = NULL;

	rc = fw_register_link_required(img, o);
	if (rc != XLD_EXIT_OK)
		goto out;
	if (o->dry_run) {
		printf("XENAMP_PARTITION=%s XENAMP_SOCKET=%s XENAMP_TRANSPORT=local", o->name, sock);
		for (int i = 0; i < argc; i++)
			printf(" %s", argv[i]);
		putchar('\n');
		fprintf(stderr, "xenamp-load: %s: dry run: not starting the partition\n", o->name);
		rc = fflush(stdout) == 0 ? XLD_EXIT_OK : XLD_EXIT_IO;
		goto out;
	}
	if (setenv("XENAMP_PARTITION", o->name, 1) != 0 ||
	    setenv("XENAMP_SOCKET", sock, 1) != 0 ||
	    setenv("XENAMP_TRANSPORT", "local", 1) != 0) {
		rc = XLD_EXIT_IO;
		fprintf(stderr, "xenamp-load: %s: setenv: %s\n", o->name, strerror(errno));
		goto out;
	}
	fprintf(stderr, "xenamp-load: %s: starting %s as local partition %s (backend %s)\n",
		o->name, path, o->name, sock);
	fflush(NULL);
	execv(path, argv);
	fprintf(stderr, "xenamp-load: %s: cannot run %s: %s\n", o->name, path, strerror(errno));
	rc = XLD_EXIT_BOOT;
out:
	free(args);
	return rc;
}

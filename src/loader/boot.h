/* xenamp-load boot targets.
 *
 * One file per target, each exporting one function with the same
 * signature, chosen by main.c from the command line:
 *   --xl NAME        boot_xl.c       xl config from a template + `xl create`
 *   --libvirt NAME   boot_libvirt.c  (later) domain XML through libvirt
 *   --local NAME     boot_local.c    (later) a local-mode partition process
 * A target receives an image that fw_image_load() fully validated and the
 * link parameters derived from its RPMsg vdev. Before it starts anything it
 * calls fw_register_link() so the backend knows the link before the
 * partition comes up. It prints its own one-line errors and returns an
 * enum xld_exit (XLD_EXIT_OK or XLD_EXIT_BOOT). */
#ifndef XENAMP_LOADER_BOOT_H
#define XENAMP_LOADER_BOOT_H

#include <stdbool.h>
#include <stdint.h>

#include "loader.h"

struct fw_boot_opts {
	const char *name;          /* domain / partition name, validated */
	const char *out;           /* config path; NULL: target default; "-": stdout */
	const char *template_path; /* NULL: the installed template */
	const char *extra;         /* kernel command line, "" when none */
	uint32_t memory_mib;       /* 0: derived from the carveouts */
	bool dry_run;              /* write the config, start nothing */
	bool force;                /* overwrite an existing config */
};

typedef int (*fw_boot_fn)(const struct fw_image *img,
			  const struct fw_boot_opts *o);

int fw_boot_xl(const struct fw_image *img, const struct fw_boot_opts *o);

/* Seam (link_register.c): hand the link parameters of img (img->link:
 * buf_count, buf_size, max_pages) for the end called name to
 * xenamp-backend. Not implemented in this round: the backend has no
 * registration request yet, so this only tells the user what to put in
 * xenamp.conf and returns XLD_EXIT_OK. When the backend's control socket
 * grows the request, only link_register.c changes. dry_run: say what would
 * be registered, register nothing. */
int fw_register_link(const struct fw_image *img, const char *name, bool dry_run);

#endif

/* xenamp-load boot targets.
 *
 * One file per target, each exporting one function with the same
 * signature, chosen by main.c from the command line:
 *   --xl NAME        boot_xl.c       xl config from a template + `xl create`
 *   --libvirt URI    boot_libvirt.c  domain XML through libvirt (--name NAME)
 *   --local NAME     boot_local.c    a local-mode partition process
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
	/* link registration (link_register.c) */
	const char *uri;           /* --libvirt URI */
	const char *link;          /* link name; NULL: the same as name */
	const char *peer;          /* the other end, PARTITION[:DEVNO]; "host" */
	uint32_t devno;            /* this end's RPMsg device number */
	const char *socket;        /* backend socket; NULL: $XENAMP_SOCKET, default */
	bool no_register;          /* --no-register */
};

typedef int (*fw_boot_fn)(const struct fw_image *img,
			  const struct fw_boot_opts *o);

int fw_boot_xl(const struct fw_image *img, const struct fw_boot_opts *o);
int fw_boot_local(const struct fw_image *img, const struct fw_boot_opts *o);
#ifdef HAVE_LIBVIRT
int fw_boot_libvirt(const struct fw_image *img, const struct fw_boot_opts *o);
#endif

/* guest_type.c. fw_host_caps_xl(): the guest types the host runs,
 * from `$XENAMP_XL info` (default xl), as xld_host_caps_xl(); -1 when xl
 * cannot say (not installed, no Xen). fw_guest_type(): the type to boot
 * img as on a host running host (mask, -1: unknown), source naming where
 * host came from ("xl info: virt_caps"); 0 after one line on stderr
 * (the caller exits XLD_EXIT_NOT_XEN). */
int fw_host_caps_xl(void);
unsigned fw_guest_type(const struct fw_image *img, int host, const char *source);

/* Shared by the targets (boot_xl.c): templates with @PLACEHOLDER@s. */
struct subst {
	const char *key;
	const char *val;
};
char *fw_read_template(const char *path, const char *who, int *rc);
char *fw_expand(const char *tpl, const char *tpl_path,
		const struct subst *sv, size_t nsv, const char *who);
/* One line on stderr: the guest type chosen, what the image and the host
 * allow, and where the host's answer came from. */
void fw_say_guest(const char *who, unsigned guest, const struct fw_image *img,
		  int host, const char *source);

/* link_register.c: hand the link of img (buf-count = vring num, buf-size)
 * between o->peer (end-a) and o->name:o->devno (end-b) to xenamp-backend
 * with the control request link-add. o->dry_run: say what would be
 * registered. No backend listening: fatal for --local (required), a
 * warning for --xl/--libvirt (the backend may start later and take the
 * link from xenamp.conf or the libvirt metadata). A refusal by the backend
 * (an end of another link, different values, a client that may not
 * change links) is always fatal. fw_register_link (--xl, --libvirt)
 * registers the link persistent; fw_register_link_required (--local, which
 * then execs the firmware in its own process) ties it to this process. */
int fw_register_link(const struct fw_image *img, const struct fw_boot_opts *o);
int fw_register_link_required(const struct fw_image *img,
			      const struct fw_boot_opts *o);

/* The link name used for o: o->link, else o->name. */
const char *fw_link_name(const struct fw_boot_opts *o);

#endif

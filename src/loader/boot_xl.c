/* Boot target "xl": write an xl domain configuration for the firmware from
 * a template, then run `xl create` on it.
 *
 * Template (xen-configs/firmware.cfg.in, installed in $(pkgdatadir)):
 * placeholders are replaced, any other @UPPER_CASE@ word is an error so a
 * typo in a template cannot reach xl:
 *   @NAME@       domain name (--xl NAME)
 *   @MEMORY@     MiB: the carveouts rounded up, at least 32 (or --memory)
 *   @KERNEL@     absolute path of the firmware ELF
 *   @EXTRA@      kernel command line (--extra), "" by default
 *   @BUF_COUNT@  link parameters derived from the vdev, for the comments
 *   @BUF_SIZE@   that record them in the config
 *   @TYPE@       xl's guest type, "pv" or "pvh": what the image's Xen ELF
 *                notes allow and the host runs (guest_type.c)
 * Strings are placed inside double quotes in xl syntax, so a value holding
 * a quote, a backslash or a control character is refused.
 *
 * Output path: --out PATH; "-" writes to stdout (with --dry-run only).
 * Without --out: /etc/xen/NAME.cfg when running as root (where `xl create
 * NAME` looks), ./NAME.cfg otherwise (an unprivileged dry run must not
 * need /etc). An existing file is kept unless --force. The file is written
 * to a temporary name in the same directory and renamed into place.
 *
 * The xl binary is "xl" from PATH, or $XENAMP_XL (tests use a stub). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1   /* asprintf */
#endif
#include <config.h>

#include <errno.h>
#include <gelf.h>
#include <limits.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "boot.h"

#ifndef XENAMP_PKGDATADIR
#define XENAMP_PKGDATADIR "/usr/local/share/xenamp"
#endif

#define TEMPLATE_MAX (64u * 1024u)

extern char **environ;

static int boot_fail(const char *who, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int boot_fail(const char *who, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "xenamp-load: %s: ", who);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return XLD_EXIT_BOOT;
}

/* Can s go between double quotes in an xl config? */
static int xl_string_ok(const char *s)
{
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c < 0x20 || c == 0x7f || c == '"' || c == '\\')
			return 0;
	}
	return 1;
}

char *fw_read_template(const char *path, const char *who, int *rc)
{
	FILE *fp = fopen(path, "r");
	char *buf;
	size_t n;

	*rc = XLD_EXIT_BOOT;
	if (fp == NULL) {
		boot_fail(who, "cannot open template %s: %s", path, strerror(errno));
		return NULL;
	}
	buf = malloc(TEMPLATE_MAX + 1);
	if (buf == NULL) {
		fclose(fp);
		boot_fail(who, "out of memory");
		return NULL;
	}
	n = fread(buf, 1, TEMPLATE_MAX + 1, fp);
	if (ferror(fp) || n > TEMPLATE_MAX || memchr(buf, '\0', n) != NULL) {
		boot_fail(who, "template %s: %s", path,
			  ferror(fp) ? "read error"
			  : n > TEMPLATE_MAX ? "larger than 64 KiB" : "contains a NUL byte");
		fclose(fp);
		free(buf);
		return NULL;
	}
	fclose(fp);
	buf[n] = '\0';
	*rc = XLD_EXIT_OK;
	return buf;
}

/* Expand the template into a malloc'ed string; NULL on error (reported). */
char *fw_expand(const char *tpl, const char *tpl_path,
		    const struct subst *sv, size_t nsv, const char *who)
{
	char *out = NULL;
	size_t outlen = 0;
	FILE *m = open_memstream(&out, &outlen);
	unsigned line = 1;
	const char *p = tpl;

	if (m == NULL) {
		boot_fail(who, "out of memory");
		return NULL;
	}
	while (*p != '\0') {
		size_t k, w;

		if (*p != '@') {
			if (*p == '\n')
				line++;
			fputc(*p++, m);
			continue;
		}
		/* @WORD@ with WORD in [A-Z_]+ is a placeholder */
		for (w = 1; (p[w] >= 'A' && p[w] <= 'Z') || p[w] == '_'; w++)
			;
		if (w == 1 || p[w] != '@') {
			fputc(*p++, m);
			continue;
		}
		for (k = 0; k < nsv; k++)
			if (strlen(sv[k].key) == w - 1 &&
			    memcmp(sv[k].key, p + 1, w - 1) == 0)
				break;
		if (k == nsv) {
			fclose(m);
			free(out);
			boot_fail(who, "template %s: line %u: unknown placeholder %.*s",
				  tpl_path, line, (int)(w + 1), p);
			return NULL;
		}
		fputs(sv[k].val, m);
		p += w + 1;
	}
	if (fclose(m) != 0) {
		free(out);
		boot_fail(who, "out of memory");
		return NULL;
	}
	return out;
}

static int write_all(int fd, const char *s, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, s, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		s += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Write text to path atomically (temporary file + rename). */
static int write_config(const char *path, const char *text, bool force,
			const char *who)
{
	struct stat st;
	char *tmp;
	int fd, e;

	if (!force && lstat(path, &st) == 0)
		return boot_fail(who, "%s exists; use --force to overwrite it", path);
	if (asprintf(&tmp, "%s.XXXXXX", path) < 0)
		return boot_fail(who, "out of memory");
	fd = mkstemp(tmp);
	if (fd < 0) {
		e = errno;
		free(tmp);
		return boot_fail(who, "cannot create %s: %s", path, strerror(e));
	}
	if (fchmod(fd, 0644) != 0 || write_all(fd, text, strlen(text)) != 0 ||
	    fsync(fd) != 0) {
		e = errno;
		close(fd);
		unlink(tmp);
		free(tmp);
		return boot_fail(who, "cannot write %s: %s", path, strerror(e));
	}
	if (close(fd) != 0 || rename(tmp, path) != 0) {
		e = errno;
		unlink(tmp);
		free(tmp);
		return boot_fail(who, "cannot write %s: %s", path, strerror(e));
	}
	free(tmp);
	return XLD_EXIT_OK;
}

static int run_xl(const char *cfg, const char *who)
{
	const char *xl = getenv("XENAMP_XL");
	char *argv[4];
	pid_t pid;
	int st, e;

	if (xl == NULL || *xl == '\0')
		xl = "xl";
	argv[0] = (char *)xl;
	argv[1] = (char *)"create";
	argv[2] = (char *)cfg;
	argv[3] = NULL;
	fflush(NULL);
	e = posix_spawnp(&pid, xl, NULL, NULL, argv, environ);
	if (e != 0)
		return boot_fail(who, "cannot run '%s create %s': %s", xl, cfg,
				 strerror(e));
	while (waitpid(pid, &st, 0) < 0) {
		if (errno != EINTR)
			return boot_fail(who, "waitpid: %s", strerror(errno));
	}
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return XLD_EXIT_OK;
	if (WIFEXITED(st))
		return boot_fail(who, "'%s create %s' failed with exit status %d",
				 xl, cfg, WEXITSTATUS(st));
	return boot_fail(who, "'%s create %s' killed by signal %d", xl, cfg,
			 WIFSIGNALED(st) ? WTERMSIG(st) : -1);
}

/* "pv or pvh", "pv", ...: a mask of guest types, for the message below. */
static const char *mask_name(int m)
{
	return m < 0 ? "not known" : m == (XLD_GUEST_PV | XLD_GUEST_PVH) ? "pv and pvh"
	     : m == XLD_GUEST_PV ? "pv" : m == XLD_GUEST_PVH ? "pvh" : "neither pv nor pvh";
}

void fw_say_guest(const char *who, unsigned guest, const struct fw_image *img, int host,
		  const char *source)
{
	fprintf(stderr, "xenamp-load: %s: guest type %s (image: %s; host: %s, from %s)\n",
		who, xld_guest_name(guest), mask_name((int)img->xboot.bootable),
		mask_name(host), source);
}

int fw_boot_xl(const struct fw_image *img, const struct fw_boot_opts *o)
{
	char kernel[PATH_MAX], mem[16], bcount[16], bsize[16];
	const char *tpl_path = o->template_path != NULL
		? o->template_path : XENAMP_PKGDATADIR "/firmware.cfg.in";
	const char *who = o->name;
	char *tpl, *text, *defpath = NULL;
	const char *out;
	struct subst sv[7];
	int rc, host = fw_host_caps_xl();
	unsigned guest = fw_guest_type(img, host, "xl info: virt_caps");

	if (guest == 0)
		return XLD_EXIT_NOT_XEN;

	if (realpath(img->path, kernel) == NULL)
		return boot_fail(img->path, "cannot resolve the path: %s", strerror(errno));
	if (!xl_string_ok(kernel))
		return boot_fail(who, "the firmware path %s contains a character xl cannot quote", kernel);
	if (!xl_string_ok(o->extra))
		return boot_fail(who, "--extra contains a quote, backslash or control character");
	fw_say_guest(who, guest, img, host, "xl info: virt_caps");

	snprintf(mem, sizeof(mem), "%u",
		 (unsigned)(o->memory_mib != 0 ? o->memory_mib : img->memory_mib));
	snprintf(bcount, sizeof(bcount), "%u", (unsigned)img->link.buf_count);
	snprintf(bsize, sizeof(bsize), "%u", (unsigned)img->link.buf_size);
	sv[0] = (struct subst){ "NAME", o->name };
	sv[1] = (struct subst){ "MEMORY", mem };
	sv[2] = (struct subst){ "KERNEL", kernel };
	sv[3] = (struct subst){ "EXTRA", o->extra };
	sv[4] = (struct subst){ "BUF_COUNT", bcount };
	sv[5] = (struct subst){ "BUF_SIZE", bsize };
	sv[6] = (struct subst){ "TYPE", xld_guest_name(guest) };

	tpl = fw_read_template(tpl_path, who, &rc);
	if (tpl == NULL)
		return rc;
	text = fw_expand(tpl, tpl_path, sv, sizeof(sv) / sizeof(sv[0]), who);
	free(tpl);
	if (text == NULL)
		return XLD_EXIT_BOOT;

	out = o->out;
	if (out == NULL) {
		if (asprintf(&defpath, geteuid() == 0 ? "/etc/xen/%s.cfg" : "./%s.cfg",
			     o->name) < 0) {
			free(text);
			return boot_fail(who, "out of memory");
		}
		out = defpath;
	}
	if (strcmp(out, "-") == 0) {
		fputs(text, stdout);
		rc = fflush(stdout) == 0 ? XLD_EXIT_OK
			: boot_fail(who, "cannot write the config to stdout");
	} else {
		rc = write_config(out, text, o->force, who);
	}
	free(text);
	if (rc != XLD_EXIT_OK)
		goto done;
	if (strcmp(out, "-") != 0)
		fprintf(stderr, "xenamp-load: %s: wrote %s (memory %s MiB)\n", who, out, mem);

	/* Seam: the backend must know the link before the domain appears. */
	rc = fw_register_link(img, o);
	if (rc != XLD_EXIT_OK)
		goto done;

	if (o->dry_run)
		fprintf(stderr, "xenamp-load: %s: dry run: not running 'xl create %s'\n",
			who, out);
	else
		rc = run_xl(out, who);
done:
	free(defpath);
	return rc;
}

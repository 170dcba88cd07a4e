/* Boot target "libvirt": domain XML for the firmware from a template
 * (xen-configs/firmware.xml.in, installed in $(pkgdatadir)), then
 * virDomainDefineXML + virDomainCreate on --libvirt URI.
 *
 * The XML carries the link in the domain's <metadata>, as the element
 *   <xenamp:link xmlns:xenamp="https://xenamp.example/ns/1" name=LINK
 *                peer=PEER devno=DEVNO buf-size=S buf-count=C/>
 * so that a backend with [backend] libvirt-uri learns the link when the
 * domain starts, even if this loader could not reach it. The link is also
 * registered through the control socket (link_register.c) before the
 * domain is started, like --xl.
 *
 * --dry-run: print the XML on stdout (or --out PATH), connect nothing.
 * Otherwise: --out PATH also keeps a copy; on success the defined
 * domain's XML as libvirt returns it is printed on stdout, and one line
 * "defined and started" on stderr. Built only with libvirt. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include <config.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "boot.h"

#ifndef XENAMP_PKGDATADIR
#define XENAMP_PKGDATADIR "/usr/local/share/xenamp"
#endif

/* XML-escaped copy for attribute and text content; NULL: a control
 * character (refused) or out of memory. */
static char *xml_escape(const char *s)
{
	size_t n = 0;
	char *out, *p;

	for (const char *q = s; *q; q++) {
		unsigned char c = (unsigned char)*q;

		if (c < 0x20 || c == 0x7f)
			return NULL;
		n += c == '&' ? 5 : c == '<' || c == '>' ? 4 : c == '"' || c == '\'' ? 6 : 1;
	}
	out = p = malloc(n + 1);
	if (out == NULL)
		return NULL;
	for (; *s; s++) {
		switch (*s) {
		case '&': p = stpcpy(p, "&amp;"); break;
		case '<': p = stpcpy(p, "&lt;"); break;
		case '>': p = stpcpy(p, "&gt;"); break;
		case '"': p = stpcpy(p, "&quot;"); break;
		case '\'': p = stpcpy(p, "&apos;"); break;
		default: *p++ = *s;
		}
	}
	*p = '\0';
	return out;
}

static const char *lv_err(void)
{
	const virError *e = virGetLastError();

	return e != NULL && e->message != NULL ? e->message : "unknown libvirt error";
}

static int fail(const char *who, const char *what)
{
	fprintf(stderr, "xenamp-load: %s: %s\n", who, what);
	return XLD_EXIT_BOOT;
}

/* Quiet libvirt's default error printer: we print one line ourselves. */
static void lv_quiet(void *ud, virErrorPtr e)
{
	(void)ud;
	(void)e;
}

int fw_boot_libvirt(const struct fw_image *img, const struct fw_boot_opts *o)
{
	const char *tpl_path = o->template_path != NULL
		? o->template_path : XENAMP_PKGDATADIR "/firmware.xml.in";
	const char *who = o->name;
	char kernel[PATH_MAX], mem[16], bcount[16], bsize[16], devno[16];
	char *ekernel = NULL, *eextra = NULL, *epeer = NULL, *tpl = NULL, *text = NULL;
	virConnectPtr conn = NULL;
	virDomainPtr dom = NULL;
	struct subst sv[9];
	int rc = XLD_EXIT_BOOT;

	if (realpath(img->path, kernel) == NULL) {
		fprintf(stderr, "xenamp-load: %s: cannot resolve the path: %s\n",
			img->path, strerror(errno));
		return XLD_EXIT_BOOT;
	}
	ekernel = xml_escape(kernel);
	eextra = xml_escape(o->extra);
	epeer = xml_escape(o->peer != NULL ? o->peer : "host");
	if (ekernel == NULL || eextra == NULL || epeer == NULL) {
		fail(who, "the firmware path, --extra or --peer holds a control character");
		goto done;
	}
	fw_warn_machine(img, who);
	snprintf(mem, sizeof(mem), "%u",
		 (unsigned)(o->memory_mib != 0 ? o->memory_mib : img->memory_mib));
	snprintf(bcount, sizeof(bcount), "%u", (unsigned)img->link.buf_count);
	snprintf(bsize, sizeof(bsize), "%u", (unsigned)img->link.buf_size);
	snprintf(devno, sizeof(devno), "%u", (unsigned)o->devno);
	/* NAME and LINK passed name_ok() in main.c: nothing to escape */
	sv[0] = (struct subst){ "NAME", o->name };
	sv[1] = (struct subst){ "MEMORY", mem };
	sv[2] = (struct subst){ "KERNEL", ekernel };
	sv[3] = (struct subst){ "EXTRA", eextra };
	sv[4] = (struct subst){ "LINK", fw_link_name(o) };
	sv[5] = (struct subst){ "PEER", epeer };
	sv[6] = (struct subst){ "DEVNO", devno };
	sv[7] = (struct subst){ "BUF_SIZE", bsize };
	sv[8] = (struct subst){ "BUF_COUNT", bcount };

	tpl = fw_read_template(tpl_path, who, &rc);
	if (tpl == NULL)
		goto done;
	text = fw_expand(tpl, tpl_path, sv, sizeof(sv) / sizeof(sv[0]), who);
	rc = XLD_EXIT_BOOT;
	if (text == NULL)
		goto done;

	if (o->out != NULL && strcmp(o->out, "-") != 0) {
		FILE *f;

		if (!o->force && access(o->out, F_OK) == 0) {
			fprintf(stderr, "xenamp-load: %s: %s exists; use --force to overwrite it\n",
				who, o->out);
			goto done;
		}
		f = fopen(o->out, "w");
		if (f == NULL || fputs(text, f) < 0 || fclose(f) != 0) {
			fprintf(stderr, "xenamp-load: %s: cannot write %s: %s\n", who,
				o->out, strerror(errno));
			goto done;
		}
		fprintf(stderr, "xenamp-load: %s: wrote %s (memory %s MiB)\n", who, o->out, mem);
	}

	rc = fw_register_link(img, o);
	if (rc != XLD_EXIT_OK)
		goto done;
	if (o->dry_run) {
		if (o->out == NULL || strcmp(o->out, "-") == 0)
			fputs(text, stdout);
		fprintf(stderr, "xenamp-load: %s: dry run: not defining the domain on %s\n",
			who, o->uri);
		rc = fflush(stdout) == 0 ? XLD_EXIT_OK : XLD_EXIT_IO;
		goto done;
	}

	rc = XLD_EXIT_BOOT;
	virSetErrorFunc(NULL, lv_quiet);
	conn = virConnectOpen(o->uri);
	if (conn == NULL) {
		fprintf(stderr, "xenamp-load: %s: cannot connect to %s: %s\n", who,
			o->uri, lv_err());
		goto done;
	}
	dom = virDomainDefineXML(conn, text);
	if (dom == NULL) {
		fprintf(stderr, "xenamp-load: %s: %s refused the domain XML: %s\n", who,
			o->uri, lv_err());
		goto done;
	}
	if (virDomainCreate(dom) < 0) {
		fprintf(stderr, "xenamp-load: %s: defined on %s but cannot start it: %s\n",
			who, o->uri, lv_err());
		goto done;
	}

	char uuid[VIR_UUID_STRING_BUFLEN] = "";
	char *xml = virDomainGetXMLDesc(dom, 0);

	(void)virDomainGetUUIDString(dom, uuid);
	if (xml != NULL) {
		fputs(xml, stdout);
		free(xml);
	}
	fprintf(stderr, "xenamp-load: %s: defined and started on %s (id %d, uuid %s)\n",
		who, o->uri, (int)virDomainGetID(dom), uuid);
	rc = fflush(stdout) == 0 ? XLD_EXIT_OK : XLD_EXIT_IO;
done:
	if (dom)
		virDomainFree(dom);
	if (conn)
		virConnectClose(conn);
	free(text);
	free(tpl);
	free(ekernel);
	free(eextra);
	free(epeer);
	return rc;
}

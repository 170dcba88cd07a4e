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

/* The values the template's placeholders take. The strings that come
 * from the user or the file system are XML-escaped copies (freed by
 * free_values()); NAME and LINK passed name_ok() in main.c: nothing to
 * escape. */
struct values {
	char kernel[PATH_MAX], mem[16], bcount[16], bsize[16], devno[16];
	char *ekernel, *eextra, *epeer;
	unsigned guest;  /* XLD_GUEST_PV or XLD_GUEST_PVH */
};

static void free_values(struct values *v)
{
	free(v->ekernel);
	free(v->eextra);
	free(v->epeer);
}

/* Fill *v; XLD_EXIT_OK, or XLD_EXIT_BOOT after one line on stderr. */
static int make_values(const struct fw_image *img, const struct fw_boot_opts *o,
		       struct values *v)
{
	if (realpath(img->path, v->kernel) == NULL) {
		fprintf(stderr, "xenamp-load: %s: cannot resolve the path: %s\n",
			img->path, strerror(errno));
		return XLD_EXIT_BOOT;
	}
	v->ekernel = xml_escape(v->kernel);
	v->eextra = xml_escape(o->extra);
	v->epeer = xml_escape(o->peer != NULL ? o->peer : "host");
	if (v->ekernel == NULL || v->eextra == NULL || v->epeer == NULL)
		return fail(o->name, "the firmware path, --extra or --peer holds a control character");
	snprintf(v->mem, sizeof(v->mem), "%u",
		 (unsigned)(o->memory_mib != 0 ? o->memory_mib : img->memory_mib));
	snprintf(v->bcount, sizeof(v->bcount), "%u", (unsigned)img->link.buf_count);
	snprintf(v->bsize, sizeof(v->bsize), "%u", (unsigned)img->link.buf_size);
	snprintf(v->devno, sizeof(v->devno), "%u", (unsigned)o->devno);
	return XLD_EXIT_OK;
}

/* libvirt's arch of the guest: x86_64 for PV and PVH on x86 (a PVH
 * guest starts in 32-bit mode but is an x86_64 domain to libvirt); on an
 * Arm host, Arm's. */
static const char *os_arch(unsigned guest)
{
	(void)guest;
#if defined(__aarch64__)
	return "aarch64";
#elif defined(__arm__)
	return "armv7l";
#else
	return "x86_64";
#endif
}

/* The domain XML from the template, or NULL with *rc set (the template's
 * own error code, or XLD_EXIT_BOOT). */
static char *domain_xml(const struct fw_boot_opts *o, const struct values *v,
			int *rc)
{
	const char *tpl_path = o->template_path != NULL
		? o->template_path : XENAMP_PKGDATADIR "/firmware.xml.in";
	const struct subst sv[] = {
		{ "NAME", o->name },
		{ "MEMORY", v->mem },
		{ "KERNEL", v->ekernel },
		{ "EXTRA", v->eextra },
		{ "LINK", fw_link_name(o) },
		{ "PEER", v->epeer },
		{ "DEVNO", v->devno },
		{ "BUF_SIZE", v->bsize },
		{ "BUF_COUNT", v->bcount },
		/* <os><type arch=OS_ARCH machine=OS_MACHINE>OS_TYPE</type> */
		{ "OS_ARCH", os_arch(v->guest) },
		{ "OS_MACHINE", v->guest == XLD_GUEST_PVH ? "xenpvh" : "xenpv" },
		{ "OS_TYPE", v->guest == XLD_GUEST_PVH ? "xenpvh" : "linux" },
	};
	char *tpl, *text;

	*rc = XLD_EXIT_BOOT;
	tpl = fw_read_template(tpl_path, o->name, rc);
	if (tpl == NULL)
		return NULL;
	text = fw_expand(tpl, tpl_path, sv, sizeof(sv) / sizeof(sv[0]), o->name);
	*rc = XLD_EXIT_BOOT;
	free(tpl);
	return text;
}

/* --out PATH (not "-"): keep a copy of the XML, refusing to overwrite a
 * file unless --force. */
static int keep_copy(const struct fw_boot_opts *o, const char *text,
		     const char *mem)
{
	FILE *f;

	if (o->out == NULL || strcmp(o->out, "-") == 0)
		return XLD_EXIT_OK;
	if (!o->force && access(o->out, F_OK) == 0) {
		fprintf(stderr, "xenamp-load: %s: %s exists; use --force to overwrite it\n",
			o->name, o->out);
		return XLD_EXIT_BOOT;
	}
	f = fopen(o->out, "w");
	if (f == NULL || fputs(text, f) < 0 || fclose(f) != 0) {
		fprintf(stderr, "xenamp-load: %s: cannot write %s: %s\n", o->name,
			o->out, strerror(errno));
		return XLD_EXIT_BOOT;
	}
	fprintf(stderr, "xenamp-load: %s: wrote %s (memory %s MiB)\n", o->name, o->out, mem);
	return XLD_EXIT_OK;
}

/* --dry-run: the XML goes to stdout unless --out kept it; nothing is
 * connected. */
static int dry_run(const struct fw_boot_opts *o, const char *text)
{
	if (o->out == NULL || strcmp(o->out, "-") == 0)
		fputs(text, stdout);
	fprintf(stderr, "xenamp-load: %s: dry run: not defining the domain on %s\n",
		o->name, o->uri);
	return fflush(stdout) == 0 ? XLD_EXIT_OK : XLD_EXIT_IO;
}

/* The defined domain as libvirt returns it on stdout, one line on stderr. */
static int report_started(const struct fw_boot_opts *o, virDomainPtr dom)
{
	char uuid[VIR_UUID_STRING_BUFLEN] = "";
	char *xml = virDomainGetXMLDesc(dom, 0);

	(void)virDomainGetUUIDString(dom, uuid);
	if (xml != NULL) {
		fputs(xml, stdout);
		free(xml);
	}
	fprintf(stderr, "xenamp-load: %s: defined and started on %s (id %d, uuid %s)\n",
		o->name, o->uri, (int)virDomainGetID(dom), uuid);
	return fflush(stdout) == 0 ? XLD_EXIT_OK : XLD_EXIT_IO;
}

/* Connect to o->uri (libvirt's own error printer quieted); NULL after
 * one line on stderr. */
static virConnectPtr lv_connect(const struct fw_boot_opts *o)
{
	virConnectPtr conn;

	virSetErrorFunc(NULL, lv_quiet);
	conn = virConnectOpen(o->uri);
	if (conn == NULL)
		fprintf(stderr, "xenamp-load: %s: cannot connect to %s: %s\n", o->name,
			o->uri, lv_err());
	return conn;
}

/* The guest types conn runs (xld_host_caps_libvirt), -1: cannot say. */
static int lv_host_caps(virConnectPtr conn)
{
	char *caps = conn != NULL ? virConnectGetCapabilities(conn) : NULL;
	int m = caps != NULL ? xld_host_caps_libvirt(caps) : -1;

	free(caps);
	return m;
}

/* virDomainDefineXML + virDomainCreate on conn; each failure is one line
 * naming the step. */
static int define_and_start(const struct fw_boot_opts *o, virConnectPtr conn,
			    const char *text)
{
	virDomainPtr dom = NULL;
	int rc = XLD_EXIT_BOOT;

	dom = virDomainDefineXML(conn, text);
	if (dom == NULL)
		fprintf(stderr, "xenamp-load: %s: %s refused the domain XML: %s\n", o->name,
			o->uri, lv_err());
	else if (virDomainCreate(dom) < 0)
		fprintf(stderr, "xenamp-load: %s: defined on %s but cannot start it: %s\n",
			o->name, o->uri, lv_err());
	else
		rc = report_started(o, dom);
	if (dom)
		virDomainFree(dom);
	return rc;
}

/* Keep a copy, register the link (before the domain can start, boot.h),
 * then stop at the dry run or define and start the domain. */
static int boot_xml(const struct fw_image *img, const struct fw_boot_opts *o,
		    virConnectPtr conn, const char *text, const char *mem)
{
	int rc = keep_copy(o, text, mem);

	if (rc == XLD_EXIT_OK)
		rc = fw_register_link(img, o);
	if (rc != XLD_EXIT_OK)
		return rc;
	return o->dry_run ? dry_run(o, text) : define_and_start(o, conn, text);
}

/* A dry run connects nothing: the host is unknown and the image's own
 * preference applies (xen_notes.h). */
int fw_boot_libvirt(const struct fw_image *img, const struct fw_boot_opts *o)
{
	struct values v = { .ekernel = NULL };
	virConnectPtr conn = NULL;
	char *text = NULL, source[300];
	int rc, host = -1;

	if (!o->dry_run) {
		conn = lv_connect(o);
		if (conn == NULL)
			return XLD_EXIT_BOOT;
		host = lv_host_caps(conn);
	}
	snprintf(source, sizeof(source), o->dry_run ? "%s: dry run, not asked"
		 : "%s: capabilities", o->uri);
	v.guest = fw_guest_type(img, host, source);
	rc = v.guest == 0 ? XLD_EXIT_NOT_XEN : make_values(img, o, &v);
	if (rc == XLD_EXIT_OK) {
		fw_say_guest(o->name, v.guest, img, host, source);
		text = domain_xml(o, &v, &rc);
	}
	if (text != NULL)
		rc = boot_xml(img, o, conn, text, v.mem);
	free(text);
	free_values(&v);
	if (conn != NULL)
		virConnectClose(conn);
	return rc;
}

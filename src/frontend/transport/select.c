/* Choosing the partition-side transport by name, and setting its options
 * through its ops table (fe_transport.h). */
#include <config.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frontend/transport/fe_transport.h"

#define XA_TRANSPORT_ENV "XENAMP_TRANSPORT"

int xa_fe_transport_new(const char *name, struct xa_fe_transport **out,
			char *err, size_t errlen)
{
	const char *from = "argument";

	*out = NULL;
	if (name == NULL || name[0] == '\0') {
		name = getenv(XA_TRANSPORT_ENV);
		from = "$" XA_TRANSPORT_ENV;
	}
#ifdef HAVE_XEN
	/* A Xen domU (xenbus present, not the control domain): xen. */
	if ((name == NULL || name[0] == '\0') && xa_xen_fe_detect()) {
		name = "xen";
		from = "automatic detection of a Xen domU";
	}
#endif
	if (name == NULL || name[0] == '\0') {
		name = "local";
		from = "default";
	}
	if (strcmp(name, "local") == 0)
		return xa_local_fe_new(out, err, errlen);
	if (strcmp(name, "xen") == 0) {
#ifdef HAVE_XEN
		return xa_xen_fe_new(out, err, errlen);
#endif
		snprintf(err, errlen,
			 "transport 'xen' (from %s) is not available: this libxenamp was built without Xen's libraries (configure --with-xen); use the local transport (%s=local)",
			 from, XA_TRANSPORT_ENV);
		return -ENOTSUP;
	}
	snprintf(err, errlen, "unknown transport '%s' (from %s); expected 'local' or 'xen'",
		 name, from);
	return -EINVAL;
}

int xa_fe_transport_set_option(struct xa_fe_transport *t, const char *key,
			       const char *value, char *err, size_t errlen)
{
	if (t == NULL || key == NULL) {
		snprintf(err, errlen, "invalid transport option");
		return -EINVAL;
	}
	if (t->ops->set_option != NULL)
		return t->ops->set_option(t, key, value, err, errlen);
	snprintf(err, errlen, "transport '%s' has no option '%s'", t->ops->name, key);
	return -ENOENT;
}

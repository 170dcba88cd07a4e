/* xenamp-backend and libvirt (built with HAVE_LIBVIRT; [backend]
 * libvirt-uri in xenamp.conf turns it on).
 *
 * Links from domain metadata. A domain whose XML carries, in <metadata>,
 *   <xenamp:link xmlns:xenamp="https://xenamp.example/ns/1"
 *                name="echo" peer="host" devno="0"
 *                buf-size="512" buf-count="256"/>
 * is end-b (DOMAIN:devno) of link "echo", whose end-a is peer
 * (PARTITION[:DEVNO]). devno, buf-size and buf-count default to 0, 512
 * and 256. libvirt keeps one metadata element per namespace; to give a
 * domain several links, wrap them: <xenamp:links xmlns:xenamp="...">
 * <xenamp:link .../>...</xenamp:links>. The links become dynamic links
 * of the registry (xa_reg_link_add, [backend] dynamic-links).
 *
 * Lifecycle. At start the backend reads every active domain; then
 * VIR_DOMAIN_EVENT_ID_LIFECYCLE events keep it current: STARTED -> the
 * domain's links are added or updated; STOPPED or CRASHED -> every end
 * of that domain is released (Absent; xa_reg_end_close), and the relay,
 * through the registry's on_close hook, tells its peer its services left.
 *
 * Threads. libvirt delivers events from its event loop
 * (virEventRegisterDefaultImpl + virEventRunDefaultImpl), run by one
 * thread of this module. The callback only writes (name, event) into a
 * pipe; the backend's poll loop reads it (xa_lv_fd, xa_lv_dispatch) and
 * does the rest, so the relay stays single-threaded. If the pipe ever
 * fills, the module re-reads all domains instead. */
#ifndef XENAMP_BACKEND_LIBVIRT_H
#define XENAMP_BACKEND_LIBVIRT_H

#include <stddef.h>

#include <libvirt/libvirt.h>

#include "backend/conf.h"
#include "backend/registry.h"

#define XA_LIBVIRT_NS "https://xenamp.example/ns/1"
#define XA_LIBVIRT_MAX_LINKS 16u     /* per domain */

struct xa_lv;

/* Connect to uri, start the event thread, register for lifecycle events
 * and read the active domains into reg. 0, or -1 with one line in err. */
int xa_lv_open(struct xa_lv **out, struct xa_registry *reg, const char *uri,
	       char *err, size_t errlen);
int xa_lv_fd(const struct xa_lv *lv);       /* readable: call dispatch */
void xa_lv_dispatch(struct xa_lv *lv);      /* never blocks on the pipe */
void xa_lv_close(struct xa_lv *lv);         /* NULL is fine */

/* The parts, for tests. */

/* The links of domain domname described by the metadata element xml (as
 * virDomainGetMetadata returns it). Returns how many (0..max), or -1 with
 * one line in err. */
int xa_lv_parse_metadata(const char *domname, const char *xml,
			 struct xa_cfg_link *out, size_t max,
			 char *err, size_t errlen);

/* Read dom's metadata and add/update its links in reg. Returns the number
 * of links taken, 0 when the domain has no xenamp metadata, -1 when one
 * was refused (logged). */
int xa_lv_domain_apply(struct xa_registry *reg, virDomainPtr dom);

/* Not a virDomainEventType: libvirt's REBOOT event (VIR_DOMAIN_EVENT_ID_
 * REBOOT), which has no lifecycle value of its own. */
#define XA_LV_EVENT_REBOOTED (-1)

/* The lifecycle handler, as dispatch runs it (event: virDomainEventType,
 * or XA_LV_EVENT_REBOOTED). STOPPED and CRASHED: the domain's ends are
 * released (the partition is gone with its memory). REBOOTED: the same
 * domain goes on (same name; a toolstack may give it a new domain id):
 * its ends are released, because the rebooted system knows nothing of
 * its old regions, and its metadata is read again as on STARTED. */
void xa_lv_handle_event(struct xa_registry *reg, virConnectPtr conn,
			const char *domname, int event);

/* Apply every active domain of conn. Returns the links taken. */
int xa_lv_sync(struct xa_registry *reg, virConnectPtr conn);

#endif

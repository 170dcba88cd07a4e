/* xenamp-backend configuration: an INI file (xen-configs/xenamp.conf is
 * the documented example).
 *
 *   [backend]
 *   socket = /run/xenamp/backend.sock   ; local transport / control socket
 *   max-pages = 4096                    ; largest region per end, 4 KiB pages
 *   max-services = 64                   ; live name-service entries per end
 *   log-level = info                    ; error, warning, info, debug, trace
 *   dynamic-links = 16                  ; links added at run time (link-add, libvirt)
 *   libvirt-uri = xen:///system         ; read links from domain metadata (HAVE_LIBVIRT)
 *   ; limits against local clients (docs/security.md; 0 or unset: default)
 *   max-clients = 1024                  ; local connections at once
 *   max-clients-per-uid = 64            ; of them from one uid (root exempt)
 *   reserved-clients = 16               ; of max-clients kept for root / the backend's uid
 *   hello-timeout-ms = 5000             ; a client must say HELLO or CTL_REQ within
 *   ctl-queue-kib = 1024                ; unread replies queued to one control client
 *   ctl-queue-total-kib = 16384         ; ... to all clients together
 *   region-timeout-ms = 10000           ; from PARAMS to REGION
 *   ; limits against Xen domains (docs/security.md; unset: default)
 *   xen-region-maps = 10                ; region maps per (domain, device) at once,
 *   xen-map-window-ms = 10000           ; ... and as many per this many ms
 *   admin-group = xenamp                ; may change links (link-add, link-remove)
 *
 *   [partition NAME]                    ; who may be local partition NAME
 *   uid = 1000, fwuser                  ; any of these users (numbers or names)
 *   gid = xenamp-fw                     ; or a member of any of these groups
 *                                       ; (no section: root and the backend's
 *                                       ; own user only; docs/security.md)
 *
 *   [link NAME]                         ; NAME: letters, digits, . _ -
 *   end-a = PARTITION[:DEVNO]           ; DEVNO defaults to 0; PARTITION:
 *                                       ; common/partition_name.h
 *   end-b = PARTITION[:DEVNO]
 *   buf-size = 512                      ; bytes per buffer, header included, 56..65536
 *   buf-count = 256                     ; buffers per direction, power of two <= 32768
 *
 * The loader reports the first error only, as one line
 * "FILE:LINE: what is wrong; what to do". */
#ifndef XENAMP_BACKEND_CONF_H
#define XENAMP_BACKEND_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/partition_name.h"

/* Link and partition names, NUL included: one limit for both. */
#define XA_CFG_NAME_MAX XA_PARTITION_NAME_MAX
#define XA_CFG_SOCKET_MAX 108u       /* sun_path */

#define XA_CFG_DEFAULT_MAX_PAGES 4096u
#define XA_CFG_MAX_MAX_PAGES (1u << 20)   /* 4 GiB */
#define XA_CFG_DEFAULT_MAX_SERVICES 64u
#define XA_CFG_MAX_MAX_SERVICES 4096u
#define XA_CFG_DEFAULT_BUF_SIZE 512u
#define XA_CFG_MIN_BUF_SIZE 56u          /* 16-byte header + 40-byte NS message */
#define XA_CFG_MAX_BUF_SIZE 65536u
#define XA_CFG_DEFAULT_BUF_COUNT 256u
#define XA_CFG_MAX_BUF_COUNT 32768u
#define XA_CFG_MAX_DEVNO 65535u
#define XA_CFG_DEFAULT_DYNAMIC_LINKS 16u
#define XA_CFG_MAX_DYNAMIC_LINKS 1024u
#define XA_CFG_URI_MAX 256u              /* libvirt-uri, NUL included */
#define XA_CFG_IDS_MAX 16u               /* uids or gids of one [partition] */

struct xa_cfg_end {
	char partition[XA_CFG_NAME_MAX];
	unsigned devno;
	unsigned line;               /* where it was set; 0 when missing */
};

struct xa_cfg_link {
	char name[XA_CFG_NAME_MAX];
	unsigned line;               /* of the [link NAME] header */
	struct xa_cfg_end end[2];    /* end-a, end-b */
	uint32_t buf_size;
	uint32_t buf_count;
};

/* [partition NAME]: the credentials that may claim the local partition
 * NAME in HELLO. A peer may when its uid is one of uid[], or when its gid
 * or one of its supplementary groups is one of gid[]. Root and the
 * backend's own uid always may; a name without a section is theirs only
 * (local_be.c, claim_allowed()). */
struct xa_cfg_partition {
	char name[XA_CFG_NAME_MAX];
	unsigned line;               /* of the [partition NAME] header */
	uint32_t uid[XA_CFG_IDS_MAX];
	unsigned nuid;
	uint32_t gid[XA_CFG_IDS_MAX];
	unsigned ngid;
};

/* Limits against local clients and Xen domains ([backend] keys; see limits_key() in
 * conf.c). 0: not set, the transport's default applies. */
enum { XA_LIM_MAX_CLIENTS, XA_LIM_PER_UID, XA_LIM_RESERVED, XA_LIM_HELLO_MS,
       XA_LIM_CTL_KIB, XA_LIM_CTL_TOTAL_KIB, XA_LIM_REGION_MS,
       XA_LIM_XEN_MAPS, XA_LIM_XEN_WINDOW_MS, XA_LIM_N };

struct xa_cfg_limits {
	uint32_t v[XA_LIM_N];
	unsigned line[XA_LIM_N];     /* where each was set; 0 when not */
};

struct xa_config {
	char socket_path[XA_CFG_SOCKET_MAX];   /* "" when not set */
	uint32_t max_pages;
	uint32_t max_services;
	int log_level;               /* enum xa_log_level; -1 when not set */
	uint32_t dynamic_links;      /* room for links added at run time */
	char libvirt_uri[XA_CFG_URI_MAX];   /* "" when not set */
	struct xa_cfg_limits limits;
	bool has_admin_gid;          /* admin-group set */
	uint32_t admin_gid;
	struct xa_cfg_link *links;
	size_t nlinks;
	struct xa_cfg_partition *partitions;
	size_t npartitions;
};

/* Load a file. Returns 0, or -1 with one line in err ("FILE:LINE: ..."
 * or "FILE: ..."). cfg is left empty on failure. */
int xa_config_load(const char *path, struct xa_config *cfg,
		   char *err, size_t errlen);

/* Same, from a string; name stands for the file in messages. */
int xa_config_load_string(const char *text, const char *name,
			  struct xa_config *cfg, char *err, size_t errlen);

void xa_config_free(struct xa_config *cfg);

/* The link-name rule ([link NAME], link-add, libvirt metadata): 1 to
 * XA_CFG_NAME_MAX - 1 letters, digits, '.', '_' or '-'. */
bool xa_config_link_name_ok(const char *s);

/* Pages a partition needs for a link with these parameters, laid out as
 * libxenamp does at most: one page of resource table, two page-aligned
 * vrings (align 4096), 2 * buf_count buffers. 0 on overflow. */
uint64_t xa_config_region_pages(uint32_t buf_size, uint32_t buf_count);

#endif

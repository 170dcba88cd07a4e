/* xenamp firmware runtime: what a bare-metal x86-64 PV Xen domain needs to
 * run an AMP firmware, and nothing else (docs/firmware.md).
 *
 * Model. One vCPU, no interrupts: event upcalls stay masked for the whole
 * life of the domain and every wait is a SCHEDOP_poll on the ports it
 * waits for, with an absolute timeout. No allocator: storage is static.
 * The application defines
 *     int fw_main(void);
 * The runtime boots (start_info, shared_info, console, xenstore, grant
 * table), calls fw_main, and powers the domain off when it returns 0 or
 * crashes it otherwise, so the domain's on_poweroff / on_crash apply.
 * fw_fatal() prints one line and crashes the domain.
 *
 * Errors are negative Xen errno values (XEN_E*) or FW_E* below. */
#ifndef XENAMP_FW_H
#define XENAMP_FW_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>   /* freestanding: runtime/include/string.h (string.c) */

/* Errors: Xen's errno numbers (public/errno.h), negated. */
#define FW_EPERM     1
#define FW_ENOENT    2
#define FW_EIO       5
#define FW_E2BIG     7
#define FW_EAGAIN   11
#define FW_ENOMEM   12
#define FW_EACCES   13
#define FW_EEXIST   17
#define FW_EINVAL   22
#define FW_ENOSPC   28
#define FW_ERANGE   34
#define FW_ENOSYS   38
#define FW_EPROTO   71
#define FW_ETIMEDOUT 110

/* --- the application ------------------------------------------------- */
int fw_main(void);

/* --- boot facts ------------------------------------------------------ */
struct fw_info {
	uint64_t nr_pages;        /* memory of the domain, in pages */
	uint32_t store_port, console_port;
	char cmdline[1024];       /* xl's extra= (NUL-terminated) */
	char magic[33];           /* "xen-3.0-x86_64" */
};
const struct fw_info *fw_info(void);

/* --- console (PV console ring; xenconsoled logs it) ------------------- */
void fw_puts(const char *s);                  /* as is, no newline added */
void fw_write(const char *buf, size_t len);
int fw_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Print one line ("fatal: ...") and crash the domain. */
__attribute__((noreturn, format(printf, 1, 2)))
void fw_fatal(const char *fmt, ...);

/* --- formatting (fmt.c; pure) ------------------------------------------ */
/* %s %c %d %i %u %x %X %p %%, with l/ll/z size, 0 and width, and %.*s.
 * Always NUL-terminates when size > 0; returns the length it would have
 * written. */
int fw_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int fw_snprintf(char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* --- time ------------------------------------------------------------ */
uint64_t fw_now_ns(void);                 /* Xen system time: ns since host boot */
uint64_t fw_now_ms(void);
void fw_sleep_ms(uint32_t ms);

/* --- shutdown -------------------------------------------------------- */
__attribute__((noreturn)) void fw_poweroff(void);
__attribute__((noreturn)) void fw_crash(void);

/* --- event channels -------------------------------------------------- */
/* A port that domain `remote` can bind (EVTCHNOP_alloc_unbound). */
int fw_evtchn_alloc_unbound(uint16_t remote, uint32_t *port);
int fw_evtchn_notify(uint32_t port);
int fw_evtchn_close(uint32_t port);
/* Test and clear a port's pending bit. */
bool fw_evtchn_take(uint32_t port);
/* Sleep until one of ports is pending or deadline_ns (fw_now_ns scale; 0:
 * no deadline) passes. Does not clear anything: returns 1 if one of them
 * is pending, 0 on timeout. */
int fw_evtchn_wait(const uint32_t *ports, unsigned n, uint64_t deadline_ns);

/* --- xenstore (xs.c) --------------------------------------------------- */
/* Paths are absolute or relative to /local/domain/<own domid>. Values are
 * NUL-terminated strings; *len (if given) gets the value's length.
 * tx is a transaction id, 0 for none. Each call waits at most
 * FW_XS_TIMEOUT_MS for xenstored; a timeout prints one console line and
 * returns -FW_ETIMEDOUT. */
#define FW_XS_TIMEOUT_MS 10000
int fw_xs_read(uint32_t tx, const char *path, char *buf, size_t size, size_t *len);
int fw_xs_read_uint(uint32_t tx, const char *path, unsigned long *v);
int fw_xs_write(uint32_t tx, const char *path, const char *value);
int fw_xs_printf(uint32_t tx, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int fw_xs_rm(uint32_t tx, const char *path);
/* Directory listing: NUL-separated names in buf, *len bytes in all. */
int fw_xs_directory(uint32_t tx, const char *path, char *buf, size_t size, size_t *len);
int fw_xs_watch(const char *path, const char *token);
int fw_xs_unwatch(const char *path, const char *token);
/* Watch events seen so far (fired watches bump this; cleared by the call). */
unsigned fw_xs_take_events(void);
/* Sleep until a watch event arrives or deadline_ns passes, or (when
 * extra_port is not 0) extra_port is pending, whose pending bit it then
 * clears; 1: something to look at, 0: timeout. */
int fw_xs_wait(uint64_t deadline_ns, uint32_t extra_port);
int fw_xs_transaction_start(uint32_t *tx);
/* commit false aborts. -FW_EAGAIN: conflict, run the transaction again. */
int fw_xs_transaction_end(uint32_t tx, bool commit);

/* --- grant table (gnttab.c) ---------------------------------------------- */
/* Grant the page at va (page-aligned, inside the image) to domain domid;
 * *ref gets the grant reference. */
int fw_gnt_grant(const void *va, uint16_t domid, bool readonly, uint32_t *ref);
/* End a grant; -FW_EAGAIN while the other side still maps it. */
int fw_gnt_end(uint32_t ref);

/* --- memory ---------------------------------------------------------- */
/* Machine frame of the page at va (inside the image). */
uint64_t fw_virt_to_mfn(const void *va);

/* Decimal parse of a whole string (no sign, no spaces, no overflow);
 * 0 or -FW_EINVAL. Pure. */
int fw_parse_ulong(const char *s, unsigned long *v);

#endif

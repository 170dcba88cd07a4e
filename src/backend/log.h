/* xenamp-backend logging: one line per event, to stderr in the foreground
 * or to syslog (facility daemon) once daemonised. Lines read
 *   xenamp-backend: link echo: end fw:0 disconnected: ...
 * on stderr; syslog adds its own "xenamp-backend[pid]:" prefix. */
#ifndef XENAMP_BACKEND_LOG_H
#define XENAMP_BACKEND_LOG_H

#include <stddef.h>

/* Verbosity, lowest first; a message is shown when its level is at most
 * the configured one. */
enum xa_log_level {
	XA_LOG_ERROR = 0,
	XA_LOG_WARNING = 1,
	XA_LOG_INFO = 2,     /* default: connects, disconnects, faults */
	XA_LOG_DEBUG = 3,    /* -v: back-pressure, name service, control requests */
	XA_LOG_TRACE = 4,    /* -vv: every relayed message */
};

void xa_log_set_level(int level);
int xa_log_get_level(void);
/* Switch from stderr to syslog (after daemonising). */
void xa_log_use_syslog(void);

void xa_log(int level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Copy src to dst (dstlen bytes, NUL included), every byte outside
 * printable ASCII (0x20..0x7e) written as \xHH, cut at a whole
 * character. xa_log() passes every line through it. Returns the length. */
size_t xa_log_sanitize(char *dst, size_t dstlen, const char *src);

#define xa_log_enabled(lvl) ((lvl) <= xa_log_get_level())

/* "error", "warning", "info", "debug", "trace": the level, or -1. */
int xa_log_level_parse(const char *s);
const char *xa_log_level_name(int level);

/* Adapter for struct xa_be_opts.log (syslog-numbered levels). */
void xa_log_transport(void *ctx, int level, const char *line);

#endif

/* libmetal compatibility: <metal/log.h>. Messages go to stderr; the level
 * threshold is METAL_LOG_INFO unless the application changes it with
 * metal_set_log_level(). */
#ifndef XENAMP_COMPAT_METAL_LOG_H
#define XENAMP_COMPAT_METAL_LOG_H

#include <stdarg.h>
#include <stdio.h>

enum metal_log_level {
	METAL_LOG_EMERGENCY,
	METAL_LOG_ALERT,
	METAL_LOG_CRITICAL,
	METAL_LOG_ERROR,
	METAL_LOG_WARNING,
	METAL_LOG_NOTICE,
	METAL_LOG_INFO,
	METAL_LOG_DEBUG,
};

static enum metal_log_level xa_metal_log_level_ = METAL_LOG_INFO;

static inline void metal_set_log_level(enum metal_log_level level)
{
	xa_metal_log_level_ = level;
}

static inline enum metal_log_level metal_get_log_level(void)
{
	return xa_metal_log_level_;
}

static inline void metal_log(enum metal_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static inline void metal_log(enum metal_log_level level, const char *fmt, ...)
{
	va_list ap;

	if (level > xa_metal_log_level_)
		return;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
}

#define metal_err(fmt, ...)  metal_log(METAL_LOG_ERROR, fmt, ##__VA_ARGS__)
#define metal_warn(fmt, ...) metal_log(METAL_LOG_WARNING, fmt, ##__VA_ARGS__)
#define metal_info(fmt, ...) metal_log(METAL_LOG_INFO, fmt, ##__VA_ARGS__)
#define metal_dbg(fmt, ...)  metal_log(METAL_LOG_DEBUG, fmt, ##__VA_ARGS__)

#endif

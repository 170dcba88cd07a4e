/* libmetal compatibility: <metal/log.h>. One log level and one handler
 * for the whole process (libxenamp-openamp keeps them), as libmetal's:
 * metal_set_log_level() in one file changes what metal_log() prints in
 * every other. Until the application sets them (metal_set_log_*, or
 * metal_init() with its parameters) the handler is
 * metal_default_log_handler (the message on stderr, as written) and the
 * level METAL_LOG_INFO. */
#ifndef XENAMP_COMPAT_METAL_LOG_H
#define XENAMP_COMPAT_METAL_LOG_H

#ifdef __cplusplus
extern "C" {
#endif

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

typedef void (*metal_log_handler)(enum metal_log_level level,
				  const char *format, ...);

/* NULL: nothing is printed. */
void metal_set_log_handler(metal_log_handler handler);
metal_log_handler metal_get_log_handler(void);
/* Messages above this level are dropped. */
void metal_set_log_level(enum metal_log_level level);
enum metal_log_level metal_get_log_level(void);
/* Writes the formatted message to stderr. */
void metal_default_log_handler(enum metal_log_level level,
			       const char *format, ...)
	__attribute__((format(printf, 2, 3)));

/* Build with -DML_FUNC_LINE to prefix messages with function and line. */
#if defined(ML_FUNC_LINE)
#define metal_fmt(fmt) "%s:%u " fmt, __func__, __LINE__
#else
#define metal_fmt(fmt) fmt
#endif

#define metal_log(level, fmt, ...) \
	do { \
		metal_log_handler xa_h_ = metal_get_log_handler(); \
		if (xa_h_ != 0 && (level) <= metal_get_log_level()) \
			xa_h_((level), metal_fmt(fmt), ##__VA_ARGS__); \
	} while (0)

#define metal_err(fmt, ...)  metal_log(METAL_LOG_ERROR, fmt, ##__VA_ARGS__)
#define metal_warn(fmt, ...) metal_log(METAL_LOG_WARNING, fmt, ##__VA_ARGS__)
#define metal_info(fmt, ...) metal_log(METAL_LOG_INFO, fmt, ##__VA_ARGS__)
#define metal_dbg(fmt, ...)  metal_log(METAL_LOG_DEBUG, fmt, ##__VA_ARGS__)

#ifdef __cplusplus
}
#endif

#endif

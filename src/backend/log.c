/* xenamp-backend logging (see log.h). */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include "backend/log.h"
#include "backend/transport/be_transport.h"

static int g_level = XA_LOG_INFO;
static bool g_syslog;

void xa_log_set_level(int level)
{
	if (level < XA_LOG_ERROR)
		level = XA_LOG_ERROR;
	if (level > XA_LOG_TRACE)
		level = XA_LOG_TRACE;
	g_level = level;
}

int xa_log_get_level(void)
{
	return g_level;
}

void xa_log_use_syslog(void)
{
	openlog("xenamp-backend", LOG_PID | LOG_NDELAY, LOG_DAEMON);
	g_syslog = true;
}

static int to_syslog_prio(int level)
{
	switch (level) {
	case XA_LOG_ERROR: return LOG_ERR;
	case XA_LOG_WARNING: return LOG_WARNING;
	case XA_LOG_INFO: return LOG_INFO;
	default: return LOG_DEBUG;
	}
}

size_t xa_log_sanitize(char *dst, size_t dstlen, const char *src)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;

	if (dstlen == 0)
		return 0;
	for (; *src; src++) {
		unsigned char ch = (unsigned char)*src;

		if (ch >= 0x20 && ch < 0x7f) {
			if (o + 1 >= dstlen)
				break;
			dst[o++] = (char)ch;
		} else {
			if (o + 4 >= dstlen)
				break;
			dst[o++] = '\\';
			dst[o++] = 'x';
			dst[o++] = hex[ch >> 4];
			dst[o++] = hex[ch & 0xf];
		}
	}
	dst[o] = '\0';
	return o;
}

void xa_log(int level, const char *fmt, ...)
{
	/* The arguments carry names and details a partition supplied
	 * (partition and service names, faults): escape every byte that is
	 * not printable ASCII so a guest cannot forge log lines or send
	 * terminal escapes. Up to 4 output bytes per input byte. */
	char raw[1024], line[4 * sizeof(raw)];
	va_list ap;

	if (level > g_level)
		return;
	va_start(ap, fmt);
	vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	xa_log_sanitize(line, sizeof(line), raw);
	if (g_syslog) {
		syslog(to_syslog_prio(level), "%s", line);
	} else {
		fprintf(stderr, "xenamp-backend: %s\n", line);
		fflush(stderr);
	}
}

static const char *const names[] = { "error", "warning", "info", "debug", "trace" };

int xa_log_level_parse(const char *s)
{
	for (int i = 0; i < (int)(sizeof(names) / sizeof(names[0])); i++)
		if (strcmp(s, names[i]) == 0)
			return i;
	if (strcmp(s, "err") == 0)
		return XA_LOG_ERROR;
	if (strcmp(s, "warn") == 0)
		return XA_LOG_WARNING;
	return -1;
}

const char *xa_log_level_name(int level)
{
	if (level < 0 || level > XA_LOG_TRACE)
		return "?";
	return names[level];
}

void xa_log_transport(void *ctx, int level, const char *line)
{
	int l;

	(void)ctx;
	switch (level) {
	case XA_BE_LOG_ERR: l = XA_LOG_ERROR; break;
	case XA_BE_LOG_WARNING: l = XA_LOG_WARNING; break;
	case XA_BE_LOG_INFO: l = XA_LOG_INFO; break;
	default: l = XA_LOG_DEBUG; break;
	}
	xa_log(l, "%s", line);
}

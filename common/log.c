/*
 * Logging to stderr in the "LEVEL message" form.  A line is formatted
 * into a stack buffer first and written with one fputs, which keeps lines
 * from two threads from interleaving.
 */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static enum log_level min_level = LOG_INFO;

static const char *const level_names[] = {
	"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"
};

void
log_set_level(enum log_level level)
{
	min_level = level;
}

enum log_level
log_get_level(void)
{
	return min_level;
}

static void
log_vmsg(enum log_level level, const char *fmt, va_list ap)
{
	char line[2048];
	int n;

	if (level < min_level)
		return;

	n = snprintf(line, sizeof(line), "%s ", level_names[level]);
	vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);

	/* A message never spans lines: fold any newline into a space. */
	for (char *p = line + n; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';

	strcat(line, "\n");
	fputs(line, stderr);
}

void
log_msg(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(level, fmt, ap);
	va_end(ap);
}

int
log_fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(LOG_ERROR, fmt, ap);
	va_end(ap);
	return -1;
}

void
log_metric(const char *json)
{
	log_msg(LOG_INFO, "METRIC: %s", json);
}

/*
 * One logger for both programs: lines of the form "LEVEL message" on
 * stderr, the shape singer-python uses, so existing log readers keep
 * working.  Safe to call from several threads: each line is written with
 * a single stdio call.
 */
#ifndef COMMON_LOG_H
#define COMMON_LOG_H

enum log_level {
	LOG_DEBUG,
	LOG_INFO,
	LOG_WARNING,
	LOG_ERROR,
	LOG_CRITICAL
};

/* Lines below `level` are dropped before any formatting happens. */
void log_set_level(enum log_level level);
enum log_level log_get_level(void);

/* Write one line at `level`; the newline is added here. */
void log_msg(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define log_debug(...)	  log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_info(...)	  log_msg(LOG_INFO, __VA_ARGS__)
#define log_warn(...)	  log_msg(LOG_WARNING, __VA_ARGS__)
#define log_error(...)	  log_msg(LOG_ERROR, __VA_ARGS__)
#define log_critical(...) log_msg(LOG_CRITICAL, __VA_ARGS__)

/*
 * Log at ERROR and return -1, so that library code can report a failure
 * and hand it upward in one statement.
 */
int log_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Write a singer METRIC line: `INFO METRIC: {...}` where the JSON is
 * built by the caller and already uses singer-python's ", " and ": "
 * separators.
 */
void log_metric(const char *json);

#endif

/*
 * ISO-8601 / RFC 3339 times: parsing into a UTC instant with microsecond
 * precision, and formatting back.  No locale, no time zone database and
 * no libc time functions that depend on TZ.
 */
#ifndef COMMON_ISOTIME_H
#define COMMON_ISOTIME_H

#include <stddef.h>
#include <stdint.h>

struct isotime {
	int64_t sec;		/* seconds since 1970-01-01T00:00:00Z */
	int32_t usec;		/* 0..999999; extra digits are cut off */
	int has_offset;		/* 0 when the text named no zone */
};

/* 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z: the range accepted. */
#define ISOTIME_MIN_SEC (-62135596800LL)
#define ISOTIME_MAX_SEC 253402300799LL

/* Large enough for every string isotime_format*() writes. */
#define ISOTIME_BUFSZ 40

/*
 * Parse `YYYY-MM-DD` optionally followed by `T` (or `t` or a space) and
 * `HH:MM[:SS[.fraction]]`, optionally followed by `Z` or an offset
 * (`+HH:MM`, `+HHMM`, `+HH`).  A text without an offset is read as UTC
 * and reported with has_offset 0.  Returns 0, or -1 when the text is not
 * such a time, names an impossible date, or falls outside the years 0001
 * to 9999 once in UTC.
 */
int isotime_parse(struct isotime *out, const char *s, size_t len);

/* `YYYY-MM-DDTHH:MM:SS.ffffffZ`, the form singer-python writes. */
void isotime_format_micro(char out[ISOTIME_BUFSZ], const struct isotime *t);

/* `YYYY-MM-DDTHH:MM:SS+00:00`, or with `.ffffff` when usec is not 0. */
void isotime_format_offset(char out[ISOTIME_BUFSZ], const struct isotime *t);

/* Days since 1970-01-01 of a proleptic Gregorian date, and back. */
int64_t isotime_days_from_civil(int64_t y, unsigned m, unsigned d);
void isotime_civil_from_days(int64_t days, int64_t *y, unsigned *m,
    unsigned *d);

#endif

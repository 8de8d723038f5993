/*
 * ISO-8601 parsing and formatting.  The calendar arithmetic is the usual
 * era-based conversion between a proleptic Gregorian date and a day count,
 * valid for every year this program can meet.
 */
#include "isotime.h"

#include <stdio.h>

int64_t
isotime_days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

void
isotime_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	int64_t era;
	unsigned doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = (unsigned)(z - era * 146097);
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static int
digits(const char *s, size_t len, size_t *pos, size_t n, int *out)
{
	int v = 0;
	size_t i;

	if (len - *pos < n)
		return -1;
	for (i = 0; i < n; i++) {
		char c = s[*pos + i];

		if (c < '0' || c > '9')
			return -1;
		v = v * 10 + (c - '0');
	}
	*pos += n;
	*out = v;
	return 0;
}

static int
days_in_month(int y, int m)
{
	static const int dm[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31,
	    30, 31 };
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return m == 2 && leap ? 29 : dm[m - 1];
}

static int
parse_offset(const char *s, size_t len, size_t *pos, int *minutes)
{
	int sign, hh, mm = 0;

	if (*pos < len && (s[*pos] == 'Z' || s[*pos] == 'z')) {
		(*pos)++;
		*minutes = 0;
		return 0;
	}
	sign = s[*pos] == '-' ? -1 : 1;
	(*pos)++;
	if (digits(s, len, pos, 2, &hh) < 0 || hh > 23)
		return -1;
	if (*pos < len && s[*pos] == ':') {
		(*pos)++;
		if (digits(s, len, pos, 2, &mm) < 0)
			return -1;
	} else if (*pos < len && digits(s, len, pos, 2, &mm) < 0) {
		return -1;
	}
	if (mm > 59)
		return -1;
	*minutes = sign * (hh * 60 + mm);
	return 0;
}

int
isotime_parse(struct isotime *out, const char *s, size_t len)
{
	int y, mo, d, h = 0, mi = 0, se = 0, usec = 0, off = 0, scale;
	int has_offset = 0;
	size_t p = 0;

	if (digits(s, len, &p, 4, &y) < 0 || p >= len || s[p++] != '-' ||
	    digits(s, len, &p, 2, &mo) < 0 || p >= len || s[p++] != '-' ||
	    digits(s, len, &p, 2, &d) < 0)
		return -1;
	if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo))
		return -1;

	if (p < len && (s[p] == 'T' || s[p] == 't' || s[p] == ' ')) {
		p++;
		if (digits(s, len, &p, 2, &h) < 0 || p >= len ||
		    s[p++] != ':' || digits(s, len, &p, 2, &mi) < 0)
			return -1;
		if (p < len && s[p] == ':') {
			p++;
			if (digits(s, len, &p, 2, &se) < 0)
				return -1;
			if (p < len && (s[p] == '.' || s[p] == ',')) {
				p++;
				if (p >= len || s[p] < '0' || s[p] > '9')
					return -1;
				for (scale = 100000; p < len && s[p] >= '0' &&
				    s[p] <= '9'; p++, scale /= 10)
					usec += (s[p] - '0') * scale;
			}
		}
		if (h > 23 || mi > 59 || se > 59)
			return -1;
		if (p < len && (s[p] == 'Z' || s[p] == 'z' || s[p] == '+' ||
		    s[p] == '-')) {
			if (parse_offset(s, len, &p, &off) < 0)
				return -1;
			has_offset = 1;
		}
	}
	if (p != len)
		return -1;

	out->sec = isotime_days_from_civil(y, (unsigned)mo, (unsigned)d) *
	    86400 + h * 3600 + mi * 60 + se - (int64_t)off * 60;
	/* Years 0001 to 9999 in UTC, so that the time can be written back. */
	if (out->sec < ISOTIME_MIN_SEC || out->sec > ISOTIME_MAX_SEC)
		return -1;
	out->usec = usec;
	out->has_offset = has_offset;
	return 0;
}

static void
split(const struct isotime *t, int64_t *y, unsigned *mo, unsigned *d,
    int *h, int *mi, int *s)
{
	int64_t days = t->sec / 86400, rem = t->sec % 86400;

	if (rem < 0) {
		rem += 86400;
		days--;
	}
	isotime_civil_from_days(days, y, mo, d);
	*h = (int)(rem / 3600);
	*mi = (int)(rem / 60 % 60);
	*s = (int)(rem % 60);
}

void
isotime_format_micro(char out[ISOTIME_BUFSZ], const struct isotime *t)
{
	int64_t y;
	unsigned mo, d;
	int h, mi, s;

	split(t, &y, &mo, &d, &h, &mi, &s);
	snprintf(out, ISOTIME_BUFSZ, "%04lld-%02u-%02uT%02d:%02d:%02d.%06dZ",
	    (long long)y, mo, d, h, mi, s, (int)t->usec);
}

void
isotime_format_offset(char out[ISOTIME_BUFSZ], const struct isotime *t)
{
	int64_t y;
	unsigned mo, d;
	int h, mi, s;

	split(t, &y, &mo, &d, &h, &mi, &s);
	if (t->usec)
		snprintf(out, ISOTIME_BUFSZ,
		    "%04lld-%02u-%02uT%02d:%02d:%02d.%06d+00:00",
		    (long long)y, mo, d, h, mi, s, (int)t->usec);
	else
		snprintf(out, ISOTIME_BUFSZ,
		    "%04lld-%02u-%02uT%02d:%02d:%02d+00:00",
		    (long long)y, mo, d, h, mi, s);
}

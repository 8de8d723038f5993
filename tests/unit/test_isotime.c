/*
 * ISO-8601 times in common/isotime.c: parsing with and without zones,
 * fractions cut to microseconds, impossible dates refused, the two output
 * forms, and the day-count calendar conversion both ways.
 */
#include <stdint.h>
#include <string.h>

#include "../../common/isotime.h"
#include "check.h"

/* 2023-05-30T14:00:00Z */
#define MAY30_14H 1685455200LL

static struct isotime t;

static int
parse(const char *s)
{
	memset(&t, 0x5a, sizeof(t));
	return isotime_parse(&t, s, strlen(s));
}

/* Does `s` parse to this instant and zone flag? */
static int
parses_to(const char *s, int64_t sec, int32_t usec, int has_offset)
{
	if (parse(s) < 0) {
		printf("  '%s' refused\n", s);
		return 0;
	}
	if (t.sec != sec || t.usec != usec || t.has_offset != has_offset) {
		printf("  '%s': sec %lld usec %d offset %d\n", s,
		    (long long)t.sec, (int)t.usec, t.has_offset);
		return 0;
	}
	return 1;
}

static int
refused(const char *s)
{
	if (parse(s) == 0) {
		printf("  '%s' accepted as sec %lld usec %d\n", s,
		    (long long)t.sec, (int)t.usec);
		return 0;
	}
	return 1;
}

static void
test_parse_utc_with_z(void)
{
	CHECK(parses_to("2023-05-30T14:00:00Z", MAY30_14H, 0, 1));
	CHECK(parses_to("1970-01-01T00:00:00Z", 0, 0, 1));
	CHECK(parses_to("1969-12-31T23:59:59Z", -1, 0, 1));
}

static void
test_parse_offset_with_colon(void)
{
	CHECK(parses_to("2023-05-30T16:00:00+02:00", MAY30_14H, 0, 1));
	CHECK(parses_to("2023-05-30T14:00:00+00:00", MAY30_14H, 0, 1));
	CHECK(parses_to("2023-05-30T14:00:00-00:00", MAY30_14H, 0, 1));
	CHECK(parses_to("2023-05-30T09:15:00-04:45", MAY30_14H, 0, 1));
}

static void
test_parse_offset_without_colon(void)
{
	CHECK(parses_to("2023-05-30T08:30:00-0530", MAY30_14H, 0, 1));
	CHECK(parses_to("2023-05-30T19:30:00+0530", MAY30_14H, 0, 1));
}

static void
test_parse_offset_hours_only(void)
{
	CHECK(parses_to("2023-05-30T16:00:00+02", MAY30_14H, 0, 1));
	CHECK(parses_to("2023-05-30T11:00:00-03", MAY30_14H, 0, 1));
}

static void
test_parse_offset_crosses_midnight(void)
{
	/* 2022-12-31T20:00:00Z */
	CHECK(parses_to("2023-01-01T01:00:00+05:00", 1672516800LL, 0, 1));
	CHECK(parses_to("2022-12-31T15:00:00-05:00", 1672516800LL, 0, 1));
}

static void
test_parse_naive_time_is_utc_without_offset(void)
{
	CHECK(parses_to("2023-05-30T14:00:00", MAY30_14H, 0, 0));
	CHECK(parses_to("2023-05-30T14:00", MAY30_14H, 0, 0));
	CHECK(parses_to("2023-05-30T14:00:00.25", MAY30_14H, 250000, 0));
}

static void
test_parse_date_only(void)
{
	CHECK(parses_to("2023-05-30", MAY30_14H - 14 * 3600, 0, 0));
	CHECK(parses_to("1970-01-01", 0, 0, 0));
	CHECK(parses_to("0001-01-01", -62135596800LL, 0, 0));
}

static void
test_parse_minutes_without_seconds(void)
{
	CHECK(parses_to("2023-05-30T14:00Z", MAY30_14H, 0, 1));
	CHECK(parses_to("2023-05-30T16:00+02:00", MAY30_14H, 0, 1));
}

static void
test_parse_fraction_truncated_to_microseconds(void)
{
	CHECK(parses_to("2023-05-30T14:00:00.5Z", MAY30_14H, 500000, 1));
	CHECK(parses_to("2023-05-30T14:00:00.000001Z", MAY30_14H, 1, 1));
	CHECK(parses_to("2023-05-30T14:00:00.123456Z", MAY30_14H, 123456, 1));
	CHECK(parses_to("2023-05-30T14:00:00.1234567Z", MAY30_14H, 123456,
	    1));
	CHECK(parses_to("2023-05-30T14:00:00.123456789012Z", MAY30_14H,
	    123456, 1));
	CHECK(parses_to("2023-05-30T14:00:00.0000009Z", MAY30_14H, 0, 1));
}

static void
test_parse_fraction_not_rounded(void)
{
	/* Rounding would carry into the next second. */
	CHECK(parses_to("2023-05-30T14:00:00.9999999Z", MAY30_14H, 999999,
	    1));
	CHECK(parses_to("2023-05-30T14:00:00.9999995+00:00", MAY30_14H,
	    999999, 1));
	CHECK(parses_to("2023-05-30T13:59:59.99999999-00:00",
	    MAY30_14H - 1, 999999, 1));
}

static void
test_parse_fraction_with_offset(void)
{
	CHECK(parses_to("2023-05-30T16:00:00.75+02:00", MAY30_14H, 750000,
	    1));
}

static void
test_parse_lower_case_t_and_z(void)
{
	CHECK(parses_to("2023-05-30t14:00:00z", MAY30_14H, 0, 1));
	CHECK(parses_to("2023-05-30t14:00:00.1z", MAY30_14H, 100000, 1));
}

static void
test_parse_space_separator(void)
{
	CHECK(parses_to("2023-05-30 14:00:00", MAY30_14H, 0, 0));
	CHECK(parses_to("2023-05-30 16:00:00+02:00", MAY30_14H, 0, 1));
}

static void
test_parse_leap_days(void)
{
	CHECK(parses_to("2024-02-29T12:00:00Z", 1709208000LL, 0, 1));
	CHECK(parse("2000-02-29") == 0);
	CHECK(parse("1600-02-29") == 0);
	CHECK(refused("2023-02-29"));
	CHECK(refused("2100-02-29"));
	CHECK(refused("1900-02-29T00:00:00Z"));
	CHECK(refused("2024-02-30"));
}

static void
test_parse_refuses_impossible_dates(void)
{
	CHECK(refused("2023-13-01"));
	CHECK(refused("2023-00-10"));
	CHECK(refused("2023-04-31"));
	CHECK(refused("2023-06-00"));
	CHECK(refused("2023-01-32"));
	CHECK(refused("2023-12-32T00:00:00Z"));
	CHECK(parse("2023-12-31") == 0);
}

static void
test_parse_refuses_impossible_times(void)
{
	CHECK(refused("2023-05-30T24:00:00Z"));
	CHECK(refused("2023-05-30T14:60:00Z"));
	CHECK(refused("2023-05-30T14:00:60Z"));
	CHECK(refused("2023-05-30T99:00:00"));
	CHECK(parses_to("2023-05-30T23:59:59Z", MAY30_14H + 9 * 3600 + 3599,
	    0, 1));
}

static void
test_parse_refuses_bad_offsets(void)
{
	CHECK(refused("2023-05-30T14:00:00+24:00"));
	CHECK(refused("2023-05-30T14:00:00+02:60"));
	CHECK(refused("2023-05-30T14:00:00+2"));
	CHECK(refused("2023-05-30T14:00:00+02:0"));
	CHECK(refused("2023-05-30T14:00:00+023"));
	CHECK(refused("2023-05-30T14:00:00+0:00"));
	CHECK(refused("2023-05-30T14:00:00+"));
	CHECK(refused("2023-05-30T14:00:00-"));
	CHECK(refused("2023-05-30T14:00:00+0x:00"));
	CHECK(refused("2023-05-30T14:00:00+02:00:00"));
}

static void
test_parse_refuses_offset_with_dangling_colon(void)
{
	/* Only +HH:MM, +HHMM and +HH are offsets; "+02:" is none. */
	CHECK(refused("2023-05-30T14:00:00+02:"));
}

static void
test_parse_refuses_trailing_garbage(void)
{
	CHECK(refused("2023-05-30T14:00:00Zx"));
	CHECK(refused("2023-05-30T14:00:00ZZ"));
	CHECK(refused("2023-05-30T14:00:00 "));
	CHECK(refused("2023-05-30x"));
	CHECK(refused("2023-05-30T14:00:00.123abc"));
	CHECK(refused("2023-05-30T14:00:00Z\n"));
}

static void
test_parse_refuses_malformed_text(void)
{
	CHECK(refused(""));
	CHECK(refused("2023"));
	CHECK(refused("2023-05"));
	CHECK(refused("2023-5-30"));
	CHECK(refused("20230530"));
	CHECK(refused("2023/05/30"));
	CHECK(refused("2023-05-30T"));
	CHECK(refused("2023-05-30T14"));
	CHECK(refused("2023-05-30T14:0"));
	CHECK(refused("2023-05-30T1:00:00"));
	CHECK(refused("2023-05-30T14:00:00."));
	CHECK(refused("2023-05-30T14:00:00.Z"));
	CHECK(refused("2023-05-30T14:00:0"));
	CHECK(refused("2023-05-30X14:00:00"));
	CHECK(refused("2023-05-30Z"));
	CHECK(refused("-023-05-30"));
	CHECK(refused("now"));
}

static void
test_parse_reads_only_len_bytes(void)
{
	static const char s[] = "2023-05-30T14:00:00Zjunk";

	CHECK(isotime_parse(&t, s, 20) == 0);
	CHECK(t.sec == MAY30_14H && t.has_offset == 1);
	CHECK(isotime_parse(&t, s, 10) == 0);
	CHECK(t.sec == MAY30_14H - 14 * 3600 && t.has_offset == 0);
	CHECK(isotime_parse(&t, s, 9) < 0);
	CHECK(isotime_parse(&t, s, 0) < 0);
}

static void
test_format_micro(void)
{
	char out[ISOTIME_BUFSZ];
	struct isotime v = { MAY30_14H, 5, 1 };

	isotime_format_micro(out, &v);
	CHECK_STR(out, "2023-05-30T14:00:00.000005Z");
	v.usec = 0;
	isotime_format_micro(out, &v);
	CHECK_STR(out, "2023-05-30T14:00:00.000000Z");
	v.sec = 0;
	v.usec = 999999;
	isotime_format_micro(out, &v);
	CHECK_STR(out, "1970-01-01T00:00:00.999999Z");
	v.sec = -1;
	v.usec = 0;
	isotime_format_micro(out, &v);
	CHECK_STR(out, "1969-12-31T23:59:59.000000Z");
	v.sec = 253402300799LL;
	v.usec = 123456;
	isotime_format_micro(out, &v);
	CHECK_STR(out, "9999-12-31T23:59:59.123456Z");
	v.sec = -62135596800LL;
	v.usec = 0;
	isotime_format_micro(out, &v);
	CHECK_STR(out, "0001-01-01T00:00:00.000000Z");
}

static void
test_format_offset(void)
{
	char out[ISOTIME_BUFSZ];
	struct isotime v = { MAY30_14H, 0, 1 };

	isotime_format_offset(out, &v);
	CHECK_STR(out, "2023-05-30T14:00:00+00:00");
	v.usec = 120000;
	isotime_format_offset(out, &v);
	CHECK_STR(out, "2023-05-30T14:00:00.120000+00:00");
	v.usec = 1;
	isotime_format_offset(out, &v);
	CHECK_STR(out, "2023-05-30T14:00:00.000001+00:00");
	v.sec = -86400;
	v.usec = 0;
	isotime_format_offset(out, &v);
	CHECK_STR(out, "1969-12-31T00:00:00+00:00");
}

static void
test_parse_then_format_normalises_to_utc(void)
{
	char out[ISOTIME_BUFSZ];

	CHECK(parse("2023-05-30T08:30:00.1234567-0530") == 0);
	isotime_format_micro(out, &t);
	CHECK_STR(out, "2023-05-30T14:00:00.123456Z");
	isotime_format_offset(out, &t);
	CHECK_STR(out, "2023-05-30T14:00:00.123456+00:00");
	CHECK(parse("2024-03-01T00:30:00+01:00") == 0);
	isotime_format_offset(out, &t);
	CHECK_STR(out, "2024-02-29T23:30:00+00:00");
}

static void
test_days_from_civil_known_values(void)
{
	CHECK(isotime_days_from_civil(1970, 1, 1) == 0);
	CHECK(isotime_days_from_civil(1970, 1, 2) == 1);
	CHECK(isotime_days_from_civil(1969, 12, 31) == -1);
	CHECK(isotime_days_from_civil(2000, 2, 29) == 11016);
	CHECK(isotime_days_from_civil(2000, 3, 1) == 11017);
	CHECK(isotime_days_from_civil(2023, 5, 30) == 19507);
	CHECK(isotime_days_from_civil(1600, 3, 1) == -135080);
	CHECK(isotime_days_from_civil(1, 1, 1) == -719162);
	CHECK(isotime_days_from_civil(9999, 12, 31) == 2932896);
}

static void
test_civil_from_days_known_values(void)
{
	int64_t y;
	unsigned m, d;

	isotime_civil_from_days(0, &y, &m, &d);
	CHECK(y == 1970 && m == 1 && d == 1);
	isotime_civil_from_days(-1, &y, &m, &d);
	CHECK(y == 1969 && m == 12 && d == 31);
	isotime_civil_from_days(11016, &y, &m, &d);
	CHECK(y == 2000 && m == 2 && d == 29);
	isotime_civil_from_days(11017, &y, &m, &d);
	CHECK(y == 2000 && m == 3 && d == 1);
	isotime_civil_from_days(-719162, &y, &m, &d);
	CHECK(y == 1 && m == 1 && d == 1);
	isotime_civil_from_days(2932896, &y, &m, &d);
	CHECK(y == 9999 && m == 12 && d == 31);
}

static int
is_leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static unsigned
month_days(int64_t y, unsigned m)
{
	static const unsigned dm[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30,
	    31, 30, 31 };

	return m == 2 && is_leap(y) ? 29 : dm[m - 1];
}

static void
test_civil_days_round_trip_years_1_to_9999(void)
{
	int64_t first = isotime_days_from_civil(1, 1, 1);
	int64_t last = isotime_days_from_civil(9999, 12, 31);
	int64_t day, y, py = 1;
	unsigned m, d, pm = 1, pd = 1;

	CHECK(first == -719162 && last == 2932896);
	for (day = first; day <= last; day++) {
		isotime_civil_from_days(day, &y, &m, &d);
		if (isotime_days_from_civil(y, m, d) != day) {
			printf("  day %lld -> %lld-%u-%u\n", (long long)day,
			    (long long)y, m, d);
			CHECK(0);
		}
		if (day == first) {
			CHECK(y == 1 && m == 1 && d == 1);
		} else if (!(y == py && m == pm && d == pd + 1) &&
		    !(y == py && m == pm + 1 && d == 1 &&
		    pd == month_days(py, pm)) &&
		    !(y == py + 1 && m == 1 && d == 1 && pm == 12 &&
		    pd == 31)) {
			printf("  %lld-%u-%u follows %lld-%u-%u\n",
			    (long long)y, m, d, (long long)py, pm, pd);
			CHECK(0);
		}
		py = y;
		pm = m;
		pd = d;
	}
	CHECK(py == 9999 && pm == 12 && pd == 31);
}

static void
test_civil_days_round_trip_outside_common_era(void)
{
	static const int64_t days[] = {
		-800000, -719163, -1000000, -146097 * 3 - 1, 3000000,
		10000000,
	};
	int64_t y;
	unsigned m, d;
	size_t i;

	for (i = 0; i < sizeof(days) / sizeof(days[0]); i++) {
		isotime_civil_from_days(days[i], &y, &m, &d);
		CHECK(m >= 1 && m <= 12 && d >= 1 && d <= month_days(y, m));
		CHECK(isotime_days_from_civil(y, m, d) == days[i]);
	}
	isotime_civil_from_days(-719163, &y, &m, &d);
	CHECK(y == 0 && m == 12 && d == 31);
}

static void
test_parse_keeps_to_years_1_through_9999_in_utc(void)
{
	CHECK(parses_to("0001-01-01T00:00:00Z", ISOTIME_MIN_SEC, 0, 1));
	CHECK(parses_to("9999-12-31T23:59:59Z", ISOTIME_MAX_SEC, 0, 1));
	/* Year 0, or an offset that crosses either end, cannot be written
	 * back in four digits. */
	CHECK(parse("0000-12-31T00:00:00Z") < 0);
	CHECK(parse("0001-01-01T00:00:00+01") < 0);
	CHECK(parse("9999-12-31T23:00:00-01:30") < 0);
	CHECK(parses_to("0001-01-01T00:30:00+00:30", ISOTIME_MIN_SEC, 0, 1));
}

int
main(void)
{
	TEST_RUN(test_parse_utc_with_z);
	TEST_RUN(test_parse_offset_with_colon);
	TEST_RUN(test_parse_offset_without_colon);
	TEST_RUN(test_parse_offset_hours_only);
	TEST_RUN(test_parse_offset_crosses_midnight);
	TEST_RUN(test_parse_naive_time_is_utc_without_offset);
	TEST_RUN(test_parse_date_only);
	TEST_RUN(test_parse_minutes_without_seconds);
	TEST_RUN(test_parse_fraction_truncated_to_microseconds);
	TEST_RUN(test_parse_fraction_not_rounded);
	TEST_RUN(test_parse_fraction_with_offset);
	TEST_RUN(test_parse_lower_case_t_and_z);
	TEST_RUN(test_parse_space_separator);
	TEST_RUN(test_parse_leap_days);
	TEST_RUN(test_parse_refuses_impossible_dates);
	TEST_RUN(test_parse_refuses_impossible_times);
	TEST_RUN(test_parse_refuses_bad_offsets);
	TEST_RUN(test_parse_refuses_offset_with_dangling_colon);
	TEST_RUN(test_parse_refuses_trailing_garbage);
	TEST_RUN(test_parse_keeps_to_years_1_through_9999_in_utc);
	TEST_RUN(test_parse_refuses_malformed_text);
	TEST_RUN(test_parse_reads_only_len_bytes);
	TEST_RUN(test_format_micro);
	TEST_RUN(test_format_offset);
	TEST_RUN(test_parse_then_format_normalises_to_utc);
	TEST_RUN(test_days_from_civil_known_values);
	TEST_RUN(test_civil_from_days_known_values);
	TEST_RUN(test_civil_days_round_trip_years_1_to_9999);
	TEST_RUN(test_civil_days_round_trip_outside_common_era);
	return TEST_SUMMARY();
}

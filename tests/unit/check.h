/*
 * A few assertion macros for the unit tests.  Each test is a function
 * named after the behaviour it checks; TEST_RUN runs one and counts it.
 * A failed CHECK prints where and why and ends that test.
 */
#ifndef TESTS_UNIT_CHECK_H
#define TESTS_UNIT_CHECK_H

#include <stdio.h>
#include <string.h>

static int check_failed_now;
static int checks_passed, checks_failed;

#define CHECK(cond) do { \
	if (!(cond)) { \
		printf("  %s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, \
		    #cond); \
		check_failed_now = 1; \
		return; \
	} \
} while (0)

#define CHECK_STR(got, want) do { \
	const char *g_ = (got), *w_ = (want); \
	if (!g_ || strcmp(g_, w_) != 0) { \
		printf("  %s:%d: got '%s', want '%s'\n", __FILE__, __LINE__, \
		    g_ ? g_ : "(null)", w_); \
		check_failed_now = 1; \
		return; \
	} \
} while (0)

#define TEST_RUN(fn) do { \
	check_failed_now = 0; \
	fn(); \
	if (check_failed_now) { \
		checks_failed++; \
		printf("FAIL %s\n", #fn); \
	} else { \
		checks_passed++; \
		printf("ok   %s\n", #fn); \
	} \
} while (0)

#define TEST_SUMMARY() \
	(printf("%d passed, %d failed\n", checks_passed, checks_failed), \
	    checks_failed ? 1 : 0)

#endif

/*
 * Batch sequence numbers from target_next_sequence() in target/target.c:
 * always 19 decimal digits and strictly increasing, even when many are
 * asked for within one tick of the clock.
 */
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "../../target/target.h"
#include "check.h"

#define CALLS 200000

static struct target t;

static int
digits(uint64_t v)
{
	int n = 1;

	while (v >= 10) {
		v /= 10;
		n++;
	}
	return n;
}

static void
test_sequence_has_19_digits_and_increases(void)
{
	uint64_t prev = 0, v;
	long i;

	for (i = 0; i < CALLS; i++) {
		v = target_next_sequence(&t);
		if (digits(v) != 19 || v <= prev) {
			printf("  call %ld: %llu after %llu\n", i,
			    (unsigned long long)v, (unsigned long long)prev);
			CHECK(0);
		}
		prev = v;
	}
}

static void
test_sequence_follows_the_wall_clock(void)
{
	/* The leading digits are the time in 100 ns ticks. */
	uint64_t v = target_next_sequence(&t);
	uint64_t secs = v / 1000000000ull;
	uint64_t now = (uint64_t)time(NULL);

	CHECK(secs + 2 >= now && secs <= now + 2);
}

static void
test_sequence_never_repeats_a_value_already_given(void)
{
	uint64_t v;

	t.last_seq = 9000000000000000000ull;
	v = target_next_sequence(&t);
	CHECK(v == 9000000000000000001ull);
	CHECK(target_next_sequence(&t) == v + 1);
}

int
main(void)
{
	struct target_opts o;

	memset(&o, 0, sizeof(o));
	target_init(&t, &o, NULL);

	TEST_RUN(test_sequence_has_19_digits_and_increases);
	TEST_RUN(test_sequence_follows_the_wall_clock);
	TEST_RUN(test_sequence_never_repeats_a_value_already_given);

	target_release(&t);
	return TEST_SUMMARY();
}

/*
 * Growable buffers in common/buf.c: appending bytes, strings and
 * formatted text, the ceiling that a buffer never passes, and the reset,
 * detach and release life cycle.
 */
#include <stdlib.h>
#include <string.h>

#include "../../common/buf.h"
#include "check.h"

static struct buf b;

static void
test_init_is_empty(void)
{
	buf_init(&b, 10);
	CHECK(b.data == NULL && b.len == 0 && b.cap == 0 && b.max == 10);
}

static void
test_append_bytes_and_strings(void)
{
	buf_release(&b);
	buf_init(&b, 0);
	CHECK(buf_append(&b, "abc", 3) == 0);
	CHECK(buf_puts(&b, "def") == 0);
	CHECK(buf_putc(&b, 'g') == 0);
	CHECK(buf_append(&b, "h\0i", 3) == 0);
	CHECK(b.len == 10);
	CHECK(memcmp(b.data, "abcdefgh\0i", 10) == 0);
	CHECK(b.data[b.len] == '\0');
	CHECK(b.cap > b.len);
}

static void
test_append_nothing_still_terminates(void)
{
	buf_release(&b);
	CHECK(buf_append(&b, "", 0) == 0);
	CHECK(b.data != NULL && b.len == 0 && b.data[0] == '\0');
	CHECK(buf_puts(&b, "") == 0);
	CHECK_STR(b.data, "");
}

static void
test_append_grows_past_initial_capacity(void)
{
	char chunk[1000];
	size_t i;

	buf_release(&b);
	memset(chunk, 'x', sizeof(chunk));
	for (i = 0; i < 1000; i++)
		CHECK(buf_append(&b, chunk, sizeof(chunk)) == 0);
	CHECK(b.len == 1000000);
	CHECK(b.data[999999] == 'x' && b.data[1000000] == '\0');
	CHECK(strspn(b.data, "x") == 1000000);
}

static void
test_printf_formats_and_appends(void)
{
	buf_release(&b);
	CHECK(buf_puts(&b, "n=") == 0);
	CHECK(buf_printf(&b, "%d %s %05.1f %zu", -42, "str", 3.14159,
	    (size_t)7) == 0);
	CHECK_STR(b.data, "n=-42 str 003.1 7");
	CHECK(b.len == strlen("n=-42 str 003.1 7"));
	CHECK(buf_printf(&b, "%s", "") == 0);
	CHECK(b.len == strlen("n=-42 str 003.1 7"));
}

static void
test_printf_long_output(void)
{
	char big[5000];

	buf_release(&b);
	memset(big, 'y', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	CHECK(buf_printf(&b, "<%s>", big) == 0);
	CHECK(b.len == sizeof(big) + 1);
	CHECK(b.data[0] == '<' && b.data[b.len - 1] == '>');
	CHECK(b.data[b.len] == '\0');
}

static void
test_ceiling_allows_exactly_max(void)
{
	buf_release(&b);
	buf_init(&b, 8);
	CHECK(buf_append(&b, "12345678", 8) == 0);
	CHECK(b.len == 8);
	CHECK_STR(b.data, "12345678");
	CHECK(buf_append(&b, "", 0) == 0);
}

static void
test_append_past_ceiling_fails_unchanged(void)
{
	char *data;
	size_t cap;

	buf_release(&b);
	buf_init(&b, 8);
	CHECK(buf_puts(&b, "12345") == 0);
	data = b.data;
	cap = b.cap;
	CHECK(buf_append(&b, "6789", 4) < 0);
	CHECK(b.len == 5 && b.data == data && b.cap == cap);
	CHECK_STR(b.data, "12345");
	CHECK(buf_putc(&b, '6') == 0);
	CHECK(buf_puts(&b, "789") < 0);
	CHECK_STR(b.data, "123456");
	CHECK(buf_puts(&b, "78") == 0);
	CHECK(buf_putc(&b, '9') < 0);
	CHECK(b.len == 8);
	CHECK_STR(b.data, "12345678");
}

static void
test_printf_past_ceiling_fails_unchanged(void)
{
	buf_release(&b);
	buf_init(&b, 10);
	CHECK(buf_puts(&b, "abc") == 0);
	CHECK(buf_printf(&b, "%d", 12345678) < 0);
	CHECK(b.len == 3);
	CHECK_STR(b.data, "abc");
	CHECK(buf_printf(&b, "%d", 1234567) == 0);
	CHECK_STR(b.data, "abc1234567");
}

static void
test_grow_respects_ceiling(void)
{
	buf_release(&b);
	buf_init(&b, 100);
	CHECK(buf_grow(&b, 101) < 0);
	CHECK(b.data == NULL && b.cap == 0);
	CHECK(buf_grow(&b, 100) == 0);
	CHECK(b.cap >= 101);
	CHECK(buf_grow(&b, (size_t)-1) < 0);
	CHECK(b.len == 0);
}

static void
test_grow_huge_request_fails_without_limit(void)
{
	buf_release(&b);
	buf_init(&b, 0);
	CHECK(buf_puts(&b, "ab") == 0);
	CHECK(buf_grow(&b, (size_t)-1) < 0);
	CHECK(buf_grow(&b, (size_t)-1 - 2) < 0);
	CHECK(b.len == 2);
	CHECK_STR(b.data, "ab");
}

static void
test_reset_keeps_allocation(void)
{
	char *data;
	size_t cap;

	buf_release(&b);
	buf_init(&b, 0);
	CHECK(buf_puts(&b, "some text that is here") == 0);
	data = b.data;
	cap = b.cap;
	buf_reset(&b);
	CHECK(b.len == 0 && b.data == data && b.cap == cap);
	CHECK_STR(b.data, "");
	CHECK(buf_puts(&b, "new") == 0);
	CHECK(b.data == data);
	CHECK_STR(b.data, "new");
}

static void
test_reset_of_unused_buffer(void)
{
	buf_release(&b);
	buf_reset(&b);
	CHECK(b.data == NULL && b.len == 0);
}

static void
test_reset_frees_room_under_ceiling(void)
{
	buf_release(&b);
	buf_init(&b, 4);
	CHECK(buf_puts(&b, "abcd") == 0);
	CHECK(buf_putc(&b, 'e') < 0);
	buf_reset(&b);
	CHECK(buf_puts(&b, "wxyz") == 0);
	CHECK_STR(b.data, "wxyz");
}

static void
test_detach_hands_over_contents(void)
{
	char *p;
	size_t len = 0;

	buf_release(&b);
	buf_init(&b, 50);
	CHECK(buf_puts(&b, "hand over") == 0);
	p = buf_detach(&b, &len);
	if (!p || len != 9 || strcmp(p, "hand over") != 0) {
		free(p);
		CHECK(0);
	}
	free(p);
	CHECK(b.data == NULL && b.len == 0 && b.cap == 0);
	CHECK(b.max == 50);
	CHECK(buf_puts(&b, "again") == 0);
	CHECK_STR(b.data, "again");
}

static void
test_detach_of_empty_buffer_gives_empty_string(void)
{
	char *p;
	size_t len = 99;

	buf_release(&b);
	p = buf_detach(&b, &len);
	CHECK(p != NULL);
	CHECK(len == 0 && p[0] == '\0');
	free(p);
	p = buf_detach(&b, NULL);
	CHECK(p != NULL && p[0] == '\0');
	free(p);
}

static void
test_detach_after_reset_gives_empty_string(void)
{
	char *p;
	size_t len = 99;

	buf_release(&b);
	CHECK(buf_puts(&b, "gone") == 0);
	buf_reset(&b);
	p = buf_detach(&b, &len);
	CHECK(p != NULL);
	CHECK(len == 0 && p[0] == '\0');
	free(p);
	CHECK(b.data == NULL);
}

static void
test_release_of_empty_buffer(void)
{
	struct buf e;

	buf_init(&e, 7);
	buf_release(&e);
	CHECK(e.data == NULL && e.len == 0 && e.cap == 0 && e.max == 7);
	buf_release(&e);
	CHECK(e.data == NULL);
}

static void
test_release_keeps_ceiling_and_allows_reuse(void)
{
	buf_release(&b);
	buf_init(&b, 3);
	CHECK(buf_puts(&b, "abc") == 0);
	buf_release(&b);
	CHECK(b.data == NULL && b.len == 0 && b.cap == 0 && b.max == 3);
	CHECK(buf_puts(&b, "abcd") < 0);
	CHECK(buf_puts(&b, "xyz") == 0);
	CHECK_STR(b.data, "xyz");
}

int
main(void)
{
	TEST_RUN(test_init_is_empty);
	TEST_RUN(test_append_bytes_and_strings);
	TEST_RUN(test_append_nothing_still_terminates);
	TEST_RUN(test_append_grows_past_initial_capacity);
	TEST_RUN(test_printf_formats_and_appends);
	TEST_RUN(test_printf_long_output);
	TEST_RUN(test_ceiling_allows_exactly_max);
	TEST_RUN(test_append_past_ceiling_fails_unchanged);
	TEST_RUN(test_printf_past_ceiling_fails_unchanged);
	TEST_RUN(test_grow_respects_ceiling);
	TEST_RUN(test_grow_huge_request_fails_without_limit);
	TEST_RUN(test_reset_keeps_allocation);
	TEST_RUN(test_reset_of_unused_buffer);
	TEST_RUN(test_reset_frees_room_under_ceiling);
	TEST_RUN(test_detach_hands_over_contents);
	TEST_RUN(test_detach_of_empty_buffer_gives_empty_string);
	TEST_RUN(test_detach_after_reset_gives_empty_string);
	TEST_RUN(test_release_of_empty_buffer);
	TEST_RUN(test_release_keeps_ceiling_and_allows_reuse);
	buf_release(&b);
	return TEST_SUMMARY();
}

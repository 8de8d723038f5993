/*
 * The text-level JSON helpers in common/json.c: compacting and checking
 * (syntax, numbers, UTF-8, depth, top-level key offsets), string decoding
 * and encoding, literal comparison, value spans and falsehood.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../common/json.h"
#include "check.h"

/* A literal and its length, for inputs that may hold NUL bytes. */
#define LIT(s) (s), (sizeof(s) - 1)

static struct buf out;
static struct json_error err;

/* Compact `len` bytes of `in` as a whole text into `out`; 0 or -1. */
static int
compact_n(const char *in, size_t len)
{
	buf_reset(&out);
	err.offset = (size_t)-1;
	err.what = NULL;
	return json_compact(in, len, &out, &err);
}

static int
compact(const char *in)
{
	return compact_n(in, strlen(in));
}

/*
 * Does json_compact() refuse `in` with the error at `offset` and, when
 * `what` is not NULL, that message?  Says what happened when it does not.
 */
static int
rejects_n(const char *in, size_t len, size_t offset, const char *what)
{
	if (compact_n(in, len) == 0) {
		printf("  accepted '%.*s' as '%s'\n", (int)len, in, out.data);
		return 0;
	}
	if (err.offset != offset || (what && (!err.what ||
	    strcmp(err.what, what) != 0))) {
		printf("  '%.*s': error at %zu '%s', want %zu '%s'\n",
		    (int)len, in, err.offset, err.what ? err.what : "(null)",
		    offset, what ? what : "(any)");
		return 0;
	}
	return 1;
}

static int
rejects(const char *in, size_t offset, const char *what)
{
	return rejects_n(in, strlen(in), offset, what);
}

/* Does `in` compact to exactly `want`? */
static int
compacts_to(const char *in, const char *want)
{
	if (compact(in) < 0) {
		printf("  '%s' rejected at %zu: %s\n", in, err.offset,
		    err.what ? err.what : "(null)");
		return 0;
	}
	if (strcmp(out.data, want) != 0 || out.len != strlen(want)) {
		printf("  '%s' gave '%s', want '%s'\n", in, out.data, want);
		return 0;
	}
	return 1;
}

/* A string value is kept byte for byte. */
static int
kept_n(const char *in, size_t len)
{
	if (compact_n(in, len) < 0) {
		printf("  '%.*s' rejected at %zu: %s\n", (int)len, in,
		    err.offset, err.what ? err.what : "(null)");
		return 0;
	}
	return out.len == len && memcmp(out.data, in, len) == 0;
}

static void
test_compact_removes_whitespace(void)
{
	CHECK(compacts_to(" { \"a\" : [ 1 , 2 ] ,\n\t\"b\" : { } ,\r\n"
	    "\"c\":[ ] , \"d\" : \" x y \" }\n ",
	    "{\"a\":[1,2],\"b\":{},\"c\":[],\"d\":\" x y \"}"));
	CHECK(compacts_to("\t[\n]\r", "[]"));
	CHECK(compacts_to("  true  ", "true"));
}

static void
test_compact_keeps_key_order(void)
{
	CHECK(compacts_to("{\"z\": 1, \"a\": 2, \"m\": {\"y\": 3, \"b\": 4}}",
	    "{\"z\":1,\"a\":2,\"m\":{\"y\":3,\"b\":4}}"));
	CHECK(compacts_to("{\"b\":1, \"a\":2, \"b\":3}",
	    "{\"b\":1,\"a\":2,\"b\":3}"));
}

static void
test_compact_copies_numbers_digit_for_digit(void)
{
	static const char *const nums[] = {
		"123456789012345678901234567890123456789",
		"-98765432109876543210987654321",
		"18446744073709551616",
		"-0",
		"0",
		"1e5",
		"12.5E-1",
		"0.1234567890123456789012345678901234567890",
		"-1.0000000000000000000000000000000000000001",
		"1E+400",
		"-0.0e-0",
		"5e-324",
	};
	size_t i;

	for (i = 0; i < sizeof(nums) / sizeof(nums[0]); i++) {
		CHECK(compacts_to(nums[i], nums[i]));
	}
	CHECK(compacts_to("[ 1e5 , -0 , 12.5E-1 ]", "[1e5,-0,12.5E-1]"));
	CHECK(compacts_to("{\"n\": 100000000000000000000000001}",
	    "{\"n\":100000000000000000000000001}"));
}

static void
test_compact_keeps_string_escapes_as_written(void)
{
	static const char s[] = "\"\\\"\\\\\\/\\b\\f\\n\\r\\t"
	    "\\u0041\\u007f\\ud800x\\uDC00\\u0000\"";

	CHECK(kept_n(LIT(s)));
	CHECK(compacts_to("[ \"a\\\"b\" , \"\\\\\" ]",
	    "[\"a\\\"b\",\"\\\\\"]"));
	CHECK(compacts_to("{\"k\\u0065y\" : \"v\\/\"}",
	    "{\"k\\u0065y\":\"v\\/\"}"));
}

static void
test_compact_writes_escaped_non_ascii_as_utf8(void)
{
	CHECK(compacts_to("\"\\u00e9\\u00E9\"", "\"\xc3\xa9\xc3\xa9\""));
	CHECK(compacts_to("\"\\u03b1\\u20AC\"", "\"\xce\xb1\xe2\x82\xac\""));
	CHECK(compacts_to("\"\\uD83D\\uDE00\"", "\"\xf0\x9f\x98\x80\""));
	/* Escapes of ASCII and lone surrogates are left as written. */
	CHECK(compacts_to("[\"\\u0041\\u00e9\\n\", \"\\ud800\\u00e9\"]",
	    "[\"\\u0041\xc3\xa9\\n\",\"\\ud800\xc3\xa9\"]"));
	CHECK(compacts_to("{\"k\\u00e9\": 1}", "{\"k\xc3\xa9\":1}"));
}

static void
test_compact_rejects_invalid_escapes(void)
{
	CHECK(rejects("\"a\\x\"", 2, "invalid escape in string"));
	CHECK(rejects("\"\\u12\"", 1, "invalid \\u escape in string"));
	CHECK(rejects("\"\\u12G4\"", 1, "invalid \\u escape in string"));
	CHECK(rejects("\"\\U0041\"", 1, "invalid escape in string"));
	CHECK(rejects("\"\\", 1, "unterminated string"));
}

static void
test_compact_keeps_non_ascii_utf8(void)
{
	/* é, €, U+1D11E, then the edges of each sequence length. */
	CHECK(kept_n(LIT("\"h\xc3\xa9llo \xe2\x82\xac \xf0\x9d\x84\x9e\"")));
	CHECK(kept_n(LIT("\"\xc2\x80\xdf\xbf\"")));
	CHECK(kept_n(LIT("\"\xe0\xa0\x80\xed\x9f\xbf\xee\x80\x80"
	    "\xef\xbf\xbf\"")));
	CHECK(kept_n(LIT("\"\xf0\x90\x80\x80\xf4\x8f\xbf\xbf\"")));
	CHECK(kept_n(LIT("\"\x7f\"")));
	CHECK(compacts_to("{ \"\xc3\xa9\" : \"\xe2\x82\xac\" }",
	    "{\"\xc3\xa9\":\"\xe2\x82\xac\"}"));
}

static void
test_compact_rejects_overlong_utf8(void)
{
	const char *what = "invalid UTF-8 in string";

	CHECK(rejects_n(LIT("\"ab\xc0\x80\""), 3, what));
	CHECK(rejects_n(LIT("\"\xc1\xbf\""), 1, what));
	CHECK(rejects_n(LIT("\"\xe0\x80\x80\""), 1, what));
	CHECK(rejects_n(LIT("\"\xe0\x9f\xbf\""), 1, what));
	CHECK(rejects_n(LIT("\"x\xf0\x80\x80\x80\""), 2, what));
	CHECK(rejects_n(LIT("\"\xf0\x8f\xbf\xbf\""), 1, what));
}

static void
test_compact_rejects_utf8_surrogates(void)
{
	const char *what = "invalid UTF-8 in string";

	CHECK(rejects_n(LIT("\"\xed\xa0\x80\""), 1, what));
	CHECK(rejects_n(LIT("\"abc\xed\xbf\xbf\""), 4, what));
	CHECK(rejects_n(LIT("[\"ok\",\"\xed\xb0\x80\"]"), 7, what));
}

static void
test_compact_rejects_bytes_past_u10ffff(void)
{
	const char *what = "invalid UTF-8 in string";

	CHECK(rejects_n(LIT("\"\xf4\x90\x80\x80\""), 1, what));
	CHECK(rejects_n(LIT("\"a\xf5\x80\x80\x80\""), 2, what));
	CHECK(rejects_n(LIT("\"\xf7\xbf\xbf\xbf\""), 1, what));
	CHECK(rejects_n(LIT("\"\xf8\x88\x80\x80\x80\""), 1, what));
	CHECK(rejects_n(LIT("\"\xfe\""), 1, what));
	CHECK(rejects_n(LIT("\"\xff\""), 1, what));
}

static void
test_compact_rejects_truncated_utf8(void)
{
	const char *what = "invalid UTF-8 in string";

	/* Cut short by the closing quote, by other bytes, by the end. */
	CHECK(rejects_n(LIT("\"\xe2\x82\""), 1, what));
	CHECK(rejects_n(LIT("\"ab\xf0\x9f\x98\""), 3, what));
	CHECK(rejects_n(LIT("\"\xc3" "a\""), 1, what));
	CHECK(rejects_n(LIT("\"\xe2\x82"), 1, what));
	CHECK(rejects_n(LIT("\"\xc3"), 1, what));
	/* A continuation byte with no lead byte. */
	CHECK(rejects_n(LIT("\"a\x80\""), 2, what));
	CHECK(rejects_n(LIT("\"\xbf\""), 1, what));
}

static void
test_compact_rejects_invalid_utf8_in_keys(void)
{
	CHECK(rejects_n(LIT("{\"k\xc0\xaf\":1}"), 3,
	    "invalid UTF-8 in string"));
}

static void
test_compact_rejects_bytes_outside_strings(void)
{
	CHECK(rejects_n(LIT("[\xff]"), 1, "invalid UTF-8"));
	CHECK(rejects_n(LIT("[\xc3\xa9]"), 1, "unexpected character"));
	CHECK(rejects("[1, x]", 4, "unexpected character"));
}

static void
test_compact_rejects_raw_control_characters(void)
{
	const char *what = "raw control character in string";

	CHECK(rejects("\"a\tb\"", 2, what));
	CHECK(rejects("\"line\nbreak\"", 5, what));
	CHECK(rejects("\"\r\"", 1, what));
	CHECK(rejects("\"\x01\"", 1, what));
	CHECK(rejects("{\"k\":\"abc\x1f\"}", 9, what));
	CHECK(rejects_n(LIT("\"ab\0\""), 3, what));
	CHECK(rejects("{\"a\x1b\":1}", 3, what));
}

static void
test_compact_rejects_invalid_numbers(void)
{
	const char *num = "invalid number";
	const char *after = "unexpected text after the JSON value";

	CHECK(rejects("01", 1, after));
	CHECK(rejects("-01", 2, after));
	CHECK(rejects("[01]", 2, "expected ',' or ']' in array"));
	CHECK(rejects("1.", 2, num));
	CHECK(rejects("1.e5", 2, num));
	CHECK(rejects("-", 1, num));
	CHECK(rejects("-a", 1, num));
	CHECK(rejects("--1", 1, num));
	CHECK(rejects("1e", 2, num));
	CHECK(rejects("1E+", 3, num));
	CHECK(rejects("1e-x", 3, num));
	CHECK(rejects("[1.]", 3, num));
	CHECK(rejects(".5", 0, "unexpected character"));
	CHECK(rejects("+1", 0, "unexpected character"));
	CHECK(rejects("0x10", 1, after));
	CHECK(rejects("1.5.2", 3, after));
}

static void
test_compact_rejects_bad_literals(void)
{
	const char *what = "unexpected character";

	CHECK(compacts_to("[true,false,null]", "[true,false,null]"));
	CHECK(rejects("tru", 0, what));
	CHECK(rejects("nul", 0, what));
	CHECK(rejects("fals", 0, what));
	CHECK(rejects("True", 0, what));
	CHECK(rejects("NULL", 0, what));
	CHECK(rejects("[1, tru]", 4, what));
	CHECK(rejects("{\"a\": nul}", 6, what));
	CHECK(rejects("nulll", 4, "unexpected text after the JSON value"));
	CHECK(rejects("[truee]", 5, "expected ',' or ']' in array"));
}

static void
test_compact_rejects_trailing_text(void)
{
	const char *what = "unexpected text after the JSON value";

	CHECK(rejects("{} x", 3, what));
	CHECK(rejects("1 2", 2, what));
	CHECK(rejects("\"a\"\"b\"", 3, what));
	CHECK(rejects("[]]", 2, what));
	CHECK(rejects("{\"a\":1}}", 7, what));
	CHECK(rejects("null,", 4, what));
	CHECK(rejects_n(LIT("1\0"), 1, what));
	CHECK(compacts_to("{}\r\n\t ", "{}"));
}

static void
test_compact_rejects_empty_input(void)
{
	CHECK(rejects("", 0, "unexpected end of input"));
	CHECK(rejects(" \n\t\r", 4, "unexpected end of input"));
}

static void
test_compact_value_stops_after_the_value(void)
{
	static const char in[] = "  {\"a\": [1, 2]} trailing";
	struct json_error e = { 0, NULL };
	size_t pos = 0;
	struct buf b;

	buf_init(&b, 0);
	CHECK(buf_puts(&b, "prefix:") == 0);
	if (json_compact_value(in, strlen(in), &pos, &b, NULL, &e) < 0) {
		buf_release(&b);
		CHECK(0);
	}
	/* The old contents stay; the value is appended after them. */
	if (pos != 15 || strcmp(b.data, "prefix:{\"a\":[1,2]}") != 0 ||
	    b.len != strlen("prefix:{\"a\":[1,2]}")) {
		printf("  pos %zu, text '%s'\n", pos, b.data);
		buf_release(&b);
		CHECK(0);
	}
	/* A second value further along the same text. */
	pos = 16;
	e.what = NULL;
	buf_reset(&b);
	if (json_compact_value(in, strlen(in), &pos, &b, NULL, &e) == 0) {
		buf_release(&b);
		CHECK(0);
	}
	buf_release(&b);
	CHECK(e.offset == 16);
}

static void
test_compact_value_leaves_pos_on_failure(void)
{
	static const char in[] = " [1, 2";
	size_t pos = 0;

	buf_reset(&out);
	CHECK(json_compact_value(in, strlen(in), &pos, &out, NULL, &err) < 0);
	CHECK(pos == 0);
	CHECK(err.offset == strlen(in));
	CHECK_STR(err.what, "unexpected end of input");
}

static void
test_skip_ws_stops_at_first_non_space(void)
{
	static const char in[] = " \t\r\n x \n";

	CHECK(json_skip_ws(in, strlen(in), 0) == 5);
	CHECK(json_skip_ws(in, strlen(in), 5) == 5);
	CHECK(json_skip_ws(in, strlen(in), 6) == strlen(in));
	CHECK(json_skip_ws("\f1", 2, 0) == 0);
}

/* `levels` arrays or objects inside one another around a 1. */
static char *
nested(size_t levels, int objects)
{
	size_t open = objects ? 5 : 1, i;
	char *s = malloc(levels * (open + 1) + 2), *p = s;

	if (!s)
		return NULL;
	for (i = 0; i < levels; i++) {
		memcpy(p, objects ? "{\"a\":" : "[", open);
		p += open;
	}
	*p++ = '1';
	for (i = 0; i < levels; i++)
		*p++ = objects ? '}' : ']';
	*p = '\0';
	return s;
}

static void
test_compact_accepts_5000_levels(void)
{
	char *arr = nested(5000, 0), *obj = nested(5000, 1);
	int ok;

	ok = arr && obj && compact(arr) == 0 && strcmp(out.data, arr) == 0 &&
	    compact(obj) == 0 && strcmp(out.data, obj) == 0;
	free(arr);
	free(obj);
	CHECK(ok);
}

static void
test_compact_accepts_max_depth(void)
{
	char *arr = nested(JSON_MAX_DEPTH, 0);
	int ok;

	ok = arr && compact(arr) == 0 && strcmp(out.data, arr) == 0;
	free(arr);
	CHECK(ok);
}

static void
test_compact_rejects_too_deep_nesting(void)
{
	char *arr = nested(JSON_MAX_DEPTH + 1, 0);
	char *obj = nested(JSON_MAX_DEPTH + 1, 1);
	int ok;

	ok = arr && obj &&
	    rejects(arr, JSON_MAX_DEPTH, "nesting too deep") &&
	    rejects(obj, (size_t)JSON_MAX_DEPTH * 5, "nesting too deep");
	free(arr);
	free(obj);
	CHECK(ok);
}

static void
test_compact_rejects_unterminated_containers(void)
{
	const char *eof = "unexpected end of input";

	CHECK(rejects("[", 1, eof));
	CHECK(rejects("{", 1, eof));
	CHECK(rejects("[1, 2", 5, eof));
	CHECK(rejects("[1, 2,", 6, eof));
	CHECK(rejects("{\"a\": 1", 7, eof));
	CHECK(rejects("{\"a\"", 4, eof));
	CHECK(rejects("{\"a\":", 5, eof));
	CHECK(rejects("{\"a\":1,", 7, eof));
	CHECK(rejects("[[[]]", 5, eof));
	CHECK(rejects("\"abc", 4, "unterminated string"));
	CHECK(rejects("{\"ab", 4, "unterminated string"));
}

static void
test_compact_rejects_misplaced_punctuation(void)
{
	CHECK(rejects("[1,]", 3, "unexpected character"));
	CHECK(rejects("[,1]", 1, "unexpected character"));
	CHECK(rejects("{\"a\":1,}", 7, "expected a string as object key"));
	CHECK(rejects("{,}", 1, "expected a string as object key"));
	CHECK(rejects("{1:2}", 1, "expected a string as object key"));
	CHECK(rejects("{\"a\" 1}", 5, "expected ':' after object key"));
	CHECK(rejects("{\"a\":1 \"b\":2}", 7, "expected ',' or '}' in object"));
	CHECK(rejects("[1 2]", 3, "expected ',' or ']' in array"));
	CHECK(rejects("[1}", 2, "expected ',' or ']' in array"));
	CHECK(rejects("{\"a\":1]", 6, "expected ',' or '}' in object"));
	CHECK(rejects("]", 0, "unexpected character"));
}

static void
test_compact_records_top_level_keys(void)
{
	static const char in[] = "{ \"a\" : 1 , \"b\" : { \"c\" : 2 } , "
	    "\"d\\\"e\" : [ { \"f\" : 1 } ] , \"\" : null }";
	static const char want[] = "{\"a\":1,\"b\":{\"c\":2},"
	    "\"d\\\"e\":[{\"f\":1}],\"\":null}";
	struct json_keys keys = { NULL, 0, 0 };
	size_t pos = 0;
	int rc;

	buf_reset(&out);
	rc = json_compact_value(in, strlen(in), &pos, &out, &keys, &err);
	if (rc < 0 || strcmp(out.data, want) != 0 || keys.n != 4 ||
	    keys.off[0] != 1 || keys.off[1] != 7 || keys.off[2] != 19 ||
	    keys.off[3] != 36) {
		printf("  rc %d, '%s', %zu keys\n", rc, out.data, keys.n);
		json_keys_release(&keys);
		CHECK(0);
	}
	json_keys_release(&keys);
	CHECK(keys.off == NULL && keys.n == 0);
}

static void
test_compact_key_offsets_count_earlier_output(void)
{
	static const char in[] = "{\"x\": 1, \"yy\": 2}";
	struct json_keys keys = { NULL, 0, 0 };
	size_t pos = 0;
	int ok;

	buf_reset(&out);
	buf_puts(&out, "0123");
	ok = json_compact_value(in, strlen(in), &pos, &out, &keys,
	    &err) == 0 && keys.n == 2 && keys.off[0] == 5 &&
	    keys.off[1] == 11 && memcmp(out.data + 11, "\"yy\"", 4) == 0;
	json_keys_release(&keys);
	CHECK(ok);
}

static void
test_compact_keys_reset_for_each_value(void)
{
	struct json_keys keys = { NULL, 0, 0 };
	size_t pos = 0;
	int ok;

	buf_reset(&out);
	ok = json_compact_value(LIT("{\"a\":1,\"b\":2,\"c\":3}"), &pos, &out,
	    &keys, &err) == 0 && keys.n == 3;
	pos = 0;
	ok = ok && json_compact_value(LIT("[{\"a\":1}]"), &pos, &out, &keys,
	    &err) == 0 && keys.n == 0;
	pos = 0;
	ok = ok && json_compact_value(LIT("{}"), &pos, &out, &keys,
	    &err) == 0 && keys.n == 0;
	json_keys_release(&keys);
	CHECK(ok);
}

static void
test_compact_records_many_keys(void)
{
	struct json_keys keys = { NULL, 0, 0 };
	struct buf in;
	size_t pos = 0, i;
	int ok = 1;

	buf_init(&in, 0);
	buf_putc(&in, '{');
	for (i = 0; i < 1000; i++)
		buf_printf(&in, "%s\"k%04zu\": %zu", i ? ", " : "", i, i);
	buf_putc(&in, '}');
	buf_reset(&out);
	if (json_compact_value(in.data, in.len, &pos, &out, &keys, &err) < 0 ||
	    keys.n != 1000)
		ok = 0;
	for (i = 0; ok && i < keys.n; i++) {
		char want[32];

		snprintf(want, sizeof(want), "\"k%04zu\":", i);
		if (memcmp(out.data + keys.off[i], want, strlen(want)) != 0)
			ok = 0;
	}
	json_keys_release(&keys);
	buf_release(&in);
	CHECK(ok);
}

/* Decode a literal; the result is in `out`. */
static int
decode_n(const char *lit, size_t len)
{
	buf_reset(&out);
	return json_string_decode(&out, lit, len);
}

static int
decodes_to(const char *lit, const char *want, size_t want_len)
{
	if (decode_n(lit, strlen(lit)) < 0)
		return 0;
	return out.len == want_len && memcmp(out.data, want, want_len) == 0 &&
	    out.data[out.len] == '\0';
}

static void
test_decode_simple_escapes(void)
{
	CHECK(decodes_to("\"a\\\"b\\\\c\\/d\\be\\ff\\ng\\rh\\ti\"",
	    LIT("a\"b\\c/d\be\ff\ng\rh\ti")));
	CHECK(decodes_to("\"\"", LIT("")));
	CHECK(decodes_to("\"plain text\"", LIT("plain text")));
}

static void
test_decode_unicode_escapes(void)
{
	CHECK(decodes_to("\"\\u0041\\u00e9\\u00C9\\u20ac\\uFFFF\"",
	    LIT("A\xc3\xa9\xc3\x89\xe2\x82\xac\xef\xbf\xbf")));
	CHECK(decodes_to("\"\\u007f\\u0080\\u07ff\\u0800\"",
	    LIT("\x7f\xc2\x80\xdf\xbf\xe0\xa0\x80")));
	CHECK(decodes_to("\"a\\u0000b\"", LIT("a\0b")));
}

static void
test_decode_surrogate_pairs(void)
{
	CHECK(decodes_to("\"\\ud83d\\ude00\"", LIT("\xf0\x9f\x98\x80")));
	CHECK(decodes_to("\"x\\uD834\\uDD1Ey\"", LIT("x\xf0\x9d\x84\x9ey")));
	CHECK(decodes_to("\"\\uD800\\uDC00\\uDBFF\\uDFFF\"",
	    LIT("\xf0\x90\x80\x80\xf4\x8f\xbf\xbf")));
}

static void
test_decode_lone_surrogates(void)
{
	CHECK(decodes_to("\"\\ud800\"", LIT("\xef\xbf\xbd")));
	CHECK(decodes_to("\"\\udc00x\"", LIT("\xef\xbf\xbdx")));
	CHECK(decodes_to("\"a\\ud83d\"", LIT("a\xef\xbf\xbd")));
	CHECK(decodes_to("\"\\ud800\\u0041\"", LIT("\xef\xbf\xbd" "A")));
	CHECK(decodes_to("\"\\ud800\\ud800\"",
	    LIT("\xef\xbf\xbd\xef\xbf\xbd")));
	CHECK(decodes_to("\"\\ude00\\ud83d\"",
	    LIT("\xef\xbf\xbd\xef\xbf\xbd")));
	CHECK(decodes_to("\"\\ud83d\\n\"", LIT("\xef\xbf\xbd\n")));
}

static void
test_decode_keeps_utf8(void)
{
	CHECK(decodes_to("\"h\xc3\xa9 \xf0\x9f\x98\x80\"",
	    LIT("h\xc3\xa9 \xf0\x9f\x98\x80")));
}

static void
test_decode_appends(void)
{
	buf_reset(&out);
	CHECK(buf_puts(&out, "ab") == 0);
	CHECK(json_string_decode(&out, LIT("\"c\\nd\"")) == 0);
	CHECK(out.len == 5);
	CHECK_STR(out.data, "abc\nd");
}

/* Encode `len` bytes of `s`; the literal is in `out`. */
static int
encodes_to(const char *s, size_t len, const char *want)
{
	buf_reset(&out);
	if (json_string_encode(&out, s, len) < 0)
		return 0;
	if (strcmp(out.data, want) != 0) {
		printf("  got '%s', want '%s'\n", out.data, want);
		return 0;
	}
	return 1;
}

static void
test_encode_quotes_and_backslash(void)
{
	CHECK(encodes_to(LIT("a\"b\\c"), "\"a\\\"b\\\\c\""));
	CHECK(encodes_to(LIT(""), "\"\""));
	CHECK(encodes_to(LIT("a/b"), "\"a/b\""));
	CHECK(encodes_to(LIT("\"\""), "\"\\\"\\\"\""));
}

static void
test_encode_control_characters(void)
{
	CHECK(encodes_to(LIT("\x01"), "\"\\u0001\""));
	CHECK(encodes_to(LIT("a\x1f" "b"), "\"a\\u001fb\""));
	CHECK(encodes_to(LIT("\0"), "\"\\u0000\""));
	CHECK(encodes_to(LIT("\x1b[0m"), "\"\\u001b[0m\""));
	CHECK(encodes_to(LIT("\x0b\x0e\x10"), "\"\\u000b\\u000e\\u0010\""));
	CHECK(encodes_to(LIT("\b\f\n\r\t"), "\"\\b\\f\\n\\r\\t\""));
}

static void
test_encode_keeps_utf8(void)
{
	CHECK(encodes_to(LIT("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\x7f"),
	    "\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\x7f\""));
}

static void
test_encode_appends(void)
{
	buf_reset(&out);
	CHECK(buf_puts(&out, "[") == 0);
	CHECK(json_string_encode(&out, LIT("x")) == 0);
	CHECK_STR(out.data, "[\"x\"");
}

static void
test_encode_then_decode_round_trips(void)
{
	char all[256];
	struct buf lit, back;
	int i, ok;

	for (i = 0; i < 128; i++)
		all[i] = (char)i;
	memcpy(all + 128, "\xc3\xa9\xf0\x9f\x98\x80", 6);
	buf_init(&lit, 0);
	buf_init(&back, 0);
	ok = json_string_encode(&lit, all, 134) == 0 &&
	    compact_n(lit.data, lit.len) == 0 &&
	    json_string_decode(&back, lit.data, lit.len) == 0 &&
	    back.len == 134 && memcmp(back.data, all, 134) == 0;
	buf_release(&lit);
	buf_release(&back);
	CHECK(ok);
}

static void
test_string_equals_plain(void)
{
	CHECK(json_string_equals(LIT("\"type\""), LIT("type")));
	CHECK(json_string_equals(LIT("\"\""), LIT("")));
	CHECK(!json_string_equals(LIT("\"type\""), LIT("typ")));
	CHECK(!json_string_equals(LIT("\"typ\""), LIT("type")));
	CHECK(!json_string_equals(LIT("\"Type\""), LIT("type")));
	CHECK(!json_string_equals(LIT("\"\""), LIT("a")));
	CHECK(json_string_equals(LIT("\"\xc3\xa9\""), LIT("\xc3\xa9")));
}

static void
test_string_equals_with_escapes(void)
{
	CHECK(json_string_equals(LIT("\"typ\\u0065\""), LIT("type")));
	CHECK(json_string_equals(LIT("\"\\u0074\\u0079\\u0070\\u0065\""),
	    LIT("type")));
	CHECK(json_string_equals(LIT("\"a\\\"b\""), LIT("a\"b")));
	CHECK(json_string_equals(LIT("\"a\\\\b\""), LIT("a\\b")));
	CHECK(json_string_equals(LIT("\"\\u00e9\""), LIT("\xc3\xa9")));
	CHECK(json_string_equals(LIT("\"\\ud83d\\ude00\""),
	    LIT("\xf0\x9f\x98\x80")));
	CHECK(!json_string_equals(LIT("\"typ\\u0065\""), LIT("typ")));
	CHECK(!json_string_equals(LIT("\"typ\\u0065\""), LIT("typee")));
	CHECK(!json_string_equals(LIT("\"a\\nb\""), LIT("a\\nb")));
}

/* Span of the value at the start of `s`. */
static size_t
span(const char *s)
{
	return json_value_span(s, strlen(s));
}

static void
test_value_span_objects_and_arrays(void)
{
	CHECK(span("{\"a\":1,\"b\":[2,3]},\"c\":4}") == 17);
	CHECK(span("{}") == 2);
	CHECK(span("[],1") == 2);
	CHECK(span("[[1,[2]],{\"x\":{}}],5") == 18);
	CHECK(span("{\"a\":{\"b\":{\"c\":null}}}]") == 22);
	CHECK(span("[1,2,3]") == 7);
}

static void
test_value_span_strings(void)
{
	CHECK(span("\"abc\",1") == 5);
	CHECK(span("\"a\\\"b\",2") == 6);
	CHECK(span("\"a\\\\\",\"b\"") == 5);
	CHECK(span("\"\\\\\\\"\"]") == 6);
	CHECK(span("\"}]{[,:\",1") == 8);
	CHECK(span("{\"k}\":\"v]\\\"\"},1") == 13);
	CHECK(span("[\"]\",\"\\\"]\"]]") == 11);
}

static void
test_value_span_scalars(void)
{
	CHECK(span("123,4") == 3);
	CHECK(span("-1.5e+10}") == 8);
	CHECK(span("true]") == 4);
	CHECK(span("null") == 4);
	CHECK(span("false,true") == 5);
	CHECK(span("12345678901234567890123") == 23);
}

static int
falsy(const char *s)
{
	return json_is_falsy(s, strlen(s));
}

static void
test_is_falsy_false_values(void)
{
	static const char *const vals[] = {
		"null", "false", "0", "-0", "0.0", "-0.0", "0e5", "0E-3",
		"0.000e+10", "\"\"", "[]", "{}",
	};
	size_t i;

	for (i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
		if (!falsy(vals[i]))
			printf("  '%s' is not falsy\n", vals[i]);
		CHECK(falsy(vals[i]));
	}
}

static void
test_is_falsy_true_values(void)
{
	static const char *const vals[] = {
		"true", "1", "-1", "0.1", "0.0001", "1e-400", "10", "1e5",
		"\"a\"", "\"0\"", "\" \"", "[0]", "[[]]", "{\"a\":1}",
		"[null]", "\"false\"",
	};
	size_t i;

	for (i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
		if (falsy(vals[i]))
			printf("  '%s' is falsy\n", vals[i]);
		CHECK(!falsy(vals[i]));
	}
}

int
main(void)
{
	buf_init(&out, 0);

	TEST_RUN(test_compact_removes_whitespace);
	TEST_RUN(test_compact_keeps_key_order);
	TEST_RUN(test_compact_copies_numbers_digit_for_digit);
	TEST_RUN(test_compact_keeps_string_escapes_as_written);
	TEST_RUN(test_compact_writes_escaped_non_ascii_as_utf8);
	TEST_RUN(test_compact_rejects_invalid_escapes);
	TEST_RUN(test_compact_keeps_non_ascii_utf8);
	TEST_RUN(test_compact_rejects_overlong_utf8);
	TEST_RUN(test_compact_rejects_utf8_surrogates);
	TEST_RUN(test_compact_rejects_bytes_past_u10ffff);
	TEST_RUN(test_compact_rejects_truncated_utf8);
	TEST_RUN(test_compact_rejects_invalid_utf8_in_keys);
	TEST_RUN(test_compact_rejects_bytes_outside_strings);
	TEST_RUN(test_compact_rejects_raw_control_characters);
	TEST_RUN(test_compact_rejects_invalid_numbers);
	TEST_RUN(test_compact_rejects_bad_literals);
	TEST_RUN(test_compact_rejects_trailing_text);
	TEST_RUN(test_compact_rejects_empty_input);
	TEST_RUN(test_compact_value_stops_after_the_value);
	TEST_RUN(test_compact_value_leaves_pos_on_failure);
	TEST_RUN(test_skip_ws_stops_at_first_non_space);
	TEST_RUN(test_compact_accepts_5000_levels);
	TEST_RUN(test_compact_accepts_max_depth);
	TEST_RUN(test_compact_rejects_too_deep_nesting);
	TEST_RUN(test_compact_rejects_unterminated_containers);
	TEST_RUN(test_compact_rejects_misplaced_punctuation);
	TEST_RUN(test_compact_records_top_level_keys);
	TEST_RUN(test_compact_key_offsets_count_earlier_output);
	TEST_RUN(test_compact_keys_reset_for_each_value);
	TEST_RUN(test_compact_records_many_keys);
	TEST_RUN(test_decode_simple_escapes);
	TEST_RUN(test_decode_unicode_escapes);
	TEST_RUN(test_decode_surrogate_pairs);
	TEST_RUN(test_decode_lone_surrogates);
	TEST_RUN(test_decode_keeps_utf8);
	TEST_RUN(test_decode_appends);
	TEST_RUN(test_encode_quotes_and_backslash);
	TEST_RUN(test_encode_control_characters);
	TEST_RUN(test_encode_keeps_utf8);
	TEST_RUN(test_encode_appends);
	TEST_RUN(test_encode_then_decode_round_trips);
	TEST_RUN(test_string_equals_plain);
	TEST_RUN(test_string_equals_with_escapes);
	TEST_RUN(test_value_span_objects_and_arrays);
	TEST_RUN(test_value_span_strings);
	TEST_RUN(test_value_span_scalars);
	TEST_RUN(test_is_falsy_false_values);
	TEST_RUN(test_is_falsy_true_values);

	buf_release(&out);
	return TEST_SUMMARY();
}

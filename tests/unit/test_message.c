/*
 * Singer message parsing in target/message.c: each message type, members
 * located by spans over their compact text whatever their order or
 * spelling, unknown members checked but ignored, and bad lines refused.
 */
#include <stdio.h>
#include <string.h>

#include "../../target/message.h"
#include "check.h"

static struct message m;
static struct json_error err;

static int
parse(const char *line)
{
	err.offset = (size_t)-1;
	err.what = NULL;
	return message_parse(&m, line, strlen(line), &err);
}

/* The text a span covers, or NULL when the member is absent. */
static const char *
at(struct span s)
{
	static char text[4096];

	if (s.len == 0 || s.len >= sizeof(text))
		return NULL;
	memcpy(text, message_at(&m, s), s.len);
	text[s.len] = '\0';
	return text;
}

/* Does top-level record key `i` start with the literal `lit`? */
static int
record_key_is(size_t i, const char *lit)
{
	size_t n = strlen(lit);

	return i < m.record_keys.n && m.record_keys.off[i] + n <= m.text.len &&
	    memcmp(m.text.data + m.record_keys.off[i], lit, n) == 0 &&
	    m.text.data[m.record_keys.off[i] + n] == ':';
}

/* Is every span other than those named in `present` absent? */
static int
only_present(const char *present)
{
	static const struct {
		const char *name;
		size_t off;
	} all[] = {
		{ "type", offsetof(struct message, type_name) },
		{ "stream", offsetof(struct message, stream) },
		{ "record", offsetof(struct message, record) },
		{ "schema", offsetof(struct message, schema) },
		{ "key_properties", offsetof(struct message, key_properties) },
		{ "bookmark_properties",
		    offsetof(struct message, bookmark_properties) },
		{ "value", offsetof(struct message, value) },
		{ "version", offsetof(struct message, version) },
		{ "time_extracted", offsetof(struct message, time_extracted) },
	};
	size_t i;

	for (i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		const struct span *s = (const struct span *)
		    ((const char *)&m + all[i].off);
		char word[32];

		snprintf(word, sizeof(word), " %s ", all[i].name);
		if ((s->len != 0) != (strstr(present, word) != NULL)) {
			printf("  member %s %s\n", all[i].name,
			    s->len ? "present" : "absent");
			return 0;
		}
	}
	return 1;
}

static void
test_parse_record(void)
{
	CHECK(parse("{\"type\": \"RECORD\", \"stream\": \"users\", "
	    "\"record\": {\"id\": 1, \"name\": \"a b\", \"n\": 1.50}, "
	    "\"time_extracted\": \"2023-05-30T14:00:00Z\"}") == 0);
	CHECK(m.type == MESSAGE_RECORD);
	CHECK_STR(at(m.type_name), "\"RECORD\"");
	CHECK_STR(at(m.stream), "\"users\"");
	CHECK_STR(at(m.record), "{\"id\":1,\"name\":\"a b\",\"n\":1.50}");
	CHECK_STR(at(m.time_extracted), "\"2023-05-30T14:00:00Z\"");
	CHECK(only_present(" type stream record time_extracted "));
}

static void
test_parse_record_with_version(void)
{
	CHECK(parse("{\"type\":\"RECORD\",\"stream\":\"s\",\"record\":[1, 2],"
	    "\"version\": 1685455200000}") == 0);
	CHECK(m.type == MESSAGE_RECORD);
	CHECK_STR(at(m.record), "[1,2]");
	CHECK_STR(at(m.version), "1685455200000");
	CHECK(only_present(" type stream record version "));
}

static void
test_parse_schema(void)
{
	CHECK(parse("{\"type\": \"SCHEMA\", \"stream\": \"orders\", "
	    "\"schema\": {\"type\": \"object\", \"properties\": "
	    "{\"id\": {\"type\": [\"integer\"]}, \"at\": {\"type\": "
	    "\"string\", \"format\": \"date-time\"}}}, "
	    "\"key_properties\": [\"id\"], "
	    "\"bookmark_properties\": [\"at\"]}") == 0);
	CHECK(m.type == MESSAGE_SCHEMA);
	CHECK_STR(at(m.stream), "\"orders\"");
	CHECK_STR(at(m.schema), "{\"type\":\"object\",\"properties\":"
	    "{\"id\":{\"type\":[\"integer\"]},\"at\":{\"type\":\"string\","
	    "\"format\":\"date-time\"}}}");
	CHECK_STR(at(m.key_properties), "[\"id\"]");
	CHECK_STR(at(m.bookmark_properties), "[\"at\"]");
	CHECK(only_present(" type stream schema key_properties "
	    "bookmark_properties "));
}

static void
test_parse_state(void)
{
	CHECK(parse("{\"type\": \"STATE\", \"value\": {\"bookmarks\": "
	    "{\"users\": {\"updated_at\": \"2023-01-01\"}}}}") == 0);
	CHECK(m.type == MESSAGE_STATE);
	CHECK_STR(at(m.value), "{\"bookmarks\":{\"users\":"
	    "{\"updated_at\":\"2023-01-01\"}}}");
	CHECK(only_present(" type value "));
}

static void
test_parse_state_with_scalar_value(void)
{
	CHECK(parse("{\"type\":\"STATE\",\"value\":null}") == 0);
	CHECK(m.type == MESSAGE_STATE);
	CHECK_STR(at(m.value), "null");
}

static void
test_parse_activate_version(void)
{
	CHECK(parse("{\"type\": \"ACTIVATE_VERSION\", \"stream\": \"s\", "
	    "\"version\": 1685455200000}") == 0);
	CHECK(m.type == MESSAGE_ACTIVATE_VERSION);
	CHECK_STR(at(m.stream), "\"s\"");
	CHECK_STR(at(m.version), "1685455200000");
	CHECK(only_present(" type stream version "));
}

static void
test_parse_keeps_numbers_and_escapes(void)
{
	CHECK(parse("{\"type\":\"RECORD\",\"stream\":\"s\\u00e9\",\"record\":"
	    "{\"big\": 123456789012345678901234567890, \"t\": \"a\\\"\\n\","
	    " \"f\": 1.000e-10}}") == 0);
	CHECK_STR(at(m.stream), "\"s\xc3\xa9\"");
	CHECK_STR(at(m.record), "{\"big\":123456789012345678901234567890,"
	    "\"t\":\"a\\\"\\n\",\"f\":1.000e-10}");
}

static void
test_keys_with_escapes(void)
{
	CHECK(parse("{\"typ\\u0065\": \"RECORD\", \"str\\u0065am\": \"s\", "
	    "\"\\u0072ecord\": {\"a\": 1}, \"vers\\u0069on\": 2, "
	    "\"time\\u005fextracted\": \"2023-05-30\"}") == 0);
	CHECK(m.type == MESSAGE_RECORD);
	CHECK_STR(at(m.stream), "\"s\"");
	CHECK_STR(at(m.record), "{\"a\":1}");
	CHECK_STR(at(m.version), "2");
	CHECK_STR(at(m.time_extracted), "\"2023-05-30\"");
	CHECK(m.record_keys.n == 1 && record_key_is(0, "\"a\""));
}

static void
test_type_value_with_escapes(void)
{
	CHECK(parse("{\"type\": \"RECOR\\u0044\", \"record\": {}}") == 0);
	CHECK(m.type == MESSAGE_RECORD);
	CHECK(parse("{\"type\": \"\\u0053TATE\", \"value\": 1}") == 0);
	CHECK(m.type == MESSAGE_STATE);
	CHECK(parse("{\"type\": \"ACTIVATE\\u005fVERSION\"}") == 0);
	CHECK(m.type == MESSAGE_ACTIVATE_VERSION);
}

static void
test_member_order_does_not_matter(void)
{
	CHECK(parse("{\"record\": {\"x\": [1]}, \"stream\": \"s\", "
	    "\"type\": \"RECORD\"}") == 0);
	CHECK(m.type == MESSAGE_RECORD);
	CHECK_STR(at(m.record), "{\"x\":[1]}");
	CHECK_STR(at(m.stream), "\"s\"");
	CHECK_STR(at(m.type_name), "\"RECORD\"");
	CHECK(parse("{\"key_properties\": [], \"schema\": {}, "
	    "\"stream\": \"t\", \"type\": \"SCHEMA\"}") == 0);
	CHECK(m.type == MESSAGE_SCHEMA);
	CHECK_STR(at(m.schema), "{}");
	CHECK_STR(at(m.key_properties), "[]");
	CHECK_STR(at(m.stream), "\"t\"");
}

static void
test_unknown_members_ignored(void)
{
	CHECK(parse("{\"extra\": {\"deep\": [1, {\"record\": 2}]}, "
	    "\"type\": \"RECORD\", \"Stream\": \"no\", \"stream\": \"s\", "
	    "\"sequence\": 5, \"record\": {\"a\": 1}, \"zzz\": null}") == 0);
	CHECK(m.type == MESSAGE_RECORD);
	CHECK_STR(at(m.stream), "\"s\"");
	CHECK_STR(at(m.record), "{\"a\":1}");
	CHECK(only_present(" type stream record "));
}

static void
test_nested_type_member_not_taken(void)
{
	CHECK(parse("{\"record\": {\"type\": \"SCHEMA\", \"stream\": \"x\"}, "
	    "\"type\": \"RECORD\", \"stream\": \"s\"}") == 0);
	CHECK(m.type == MESSAGE_RECORD);
	CHECK_STR(at(m.stream), "\"s\"");
	CHECK_STR(at(m.record), "{\"type\":\"SCHEMA\",\"stream\":\"x\"}");
}

static void
test_unknown_members_still_checked(void)
{
	static const char bad_utf8[] =
	    "{\"type\": \"RECORD\", \"x\": \"\xc0\x80\"}";

	CHECK(parse("{\"type\": \"RECORD\", \"x\": [01], \"record\": {}}") < 0);
	CHECK(err.offset == 26);
	CHECK(parse(bad_utf8) < 0);
	CHECK(err.offset == (size_t)(strchr(bad_utf8, '\xc0') - bad_utf8));
	CHECK_STR(err.what, "invalid UTF-8 in string");
}

static void
test_whitespace_around_members(void)
{
	CHECK(parse("  \t{ \"type\" : \"STATE\" ,\t\"value\" : { } }  ") == 0);
	CHECK(m.type == MESSAGE_STATE);
	CHECK_STR(at(m.value), "{}");
}

static void
test_empty_object(void)
{
	CHECK(parse("{}") == 0);
	CHECK(m.type == MESSAGE_OTHER);
	CHECK(only_present(" "));
	CHECK(parse(" { } ") == 0);
	CHECK(m.type == MESSAGE_OTHER);
}

/* Is `line` refused with the error at `offset`? */
static int
refused_at(const char *line, size_t offset)
{
	if (parse(line) == 0) {
		printf("  accepted '%s'\n", line);
		return 0;
	}
	if (err.offset != offset || !err.what) {
		printf("  '%s': error at %zu (%s), want %zu\n", line,
		    err.offset, err.what ? err.what : "(null)", offset);
		return 0;
	}
	return 1;
}

static void
test_non_object_line_rejected(void)
{
	CHECK(refused_at("[{\"type\": \"RECORD\"}]", 0));
	CHECK_STR(err.what, "a message must be a JSON object");
	CHECK(refused_at("\"RECORD\"", 0));
	CHECK(refused_at("null", 0));
	CHECK(refused_at("42", 0));
	CHECK(refused_at("", 0));
	CHECK(refused_at("   ", 3));
	CHECK(refused_at("  [1]", 2));
	CHECK_STR(err.what, "a message must be a JSON object");
}

static void
test_broken_object_rejected(void)
{
	CHECK(refused_at("{\"type\": \"RECORD\"", 17));
	CHECK(refused_at("{\"type\": \"RECORD\",", 18));
	CHECK(refused_at("{\"type\" \"RECORD\"}", 8));
	CHECK(refused_at("{type: \"RECORD\"}", 1));
	CHECK(refused_at("{\"type\": \"RECORD\"} x", 19));
	CHECK(refused_at("{\"type\": \"RECORD\"}}", 18));
	CHECK(refused_at("{\"type\": \"RECORD\" \"stream\": \"s\"}", 18));
	CHECK(refused_at("{\"type\": }", 9));
	CHECK(refused_at("{\"record\": {\"a\": 1}", 19));
	CHECK(refused_at("{\"type\": \"REC\nORD\"}", 13));
	CHECK(refused_at("{,}", 1));
}

static void
test_record_keys_offsets(void)
{
	CHECK(parse("{\"type\": \"RECORD\", \"stream\": \"s\", \"record\": "
	    "{ \"b\" : 1, \"a\": {\"nested\": 2}, \"c\\\"d\": [1], \"\": 0 }}")
	    == 0);
	CHECK(m.record_keys.n == 4);
	CHECK(record_key_is(0, "\"b\""));
	CHECK(record_key_is(1, "\"a\""));
	CHECK(record_key_is(2, "\"c\\\"d\""));
	CHECK(record_key_is(3, "\"\""));
	CHECK(m.record_keys.off[0] == m.record.off + 1);
}

static void
test_record_keys_with_record_first(void)
{
	CHECK(parse("{\"record\": {\"z\": 1, \"y\": 2}, \"type\": \"RECORD\", "
	    "\"stream\": \"s\"}") == 0);
	CHECK(m.record_keys.n == 2);
	CHECK(record_key_is(0, "\"z\""));
	CHECK(record_key_is(1, "\"y\""));
}

static void
test_record_keys_of_non_object_record(void)
{
	CHECK(parse("{\"type\": \"RECORD\", \"record\": [{\"a\": 1}]}") == 0);
	CHECK(m.record_keys.n == 0);
}

static void
test_reparse_clears_previous_message(void)
{
	CHECK(parse("{\"type\": \"RECORD\", \"stream\": \"s\", \"record\": "
	    "{\"a\": 1, \"b\": 2, \"c\": 3}, \"version\": 1}") == 0);
	CHECK(m.record_keys.n == 3);
	CHECK(parse("{\"type\": \"STATE\", \"value\": {\"k\": 1}}") == 0);
	CHECK(m.type == MESSAGE_STATE);
	CHECK(m.record_keys.n == 0);
	CHECK(only_present(" type value "));
	CHECK_STR(at(m.value), "{\"k\":1}");
	CHECK(parse("[]") < 0);
	CHECK(parse("{\"type\": \"RECORD\", \"record\": {\"q\": 0}}") == 0);
	CHECK(m.record_keys.n == 1 && record_key_is(0, "\"q\""));
}

static void
test_lower_case_type_is_other(void)
{
	CHECK(parse("{\"type\": \"record\", \"stream\": \"s\", "
	    "\"record\": {}}") == 0);
	CHECK(m.type == MESSAGE_OTHER);
	CHECK_STR(at(m.type_name), "\"record\"");
	CHECK(parse("{\"type\": \"State\", \"value\": {}}") == 0);
	CHECK(m.type == MESSAGE_OTHER);
}

static void
test_unknown_type_is_other(void)
{
	CHECK(parse("{\"type\": \"BATCH\", \"stream\": \"s\"}") == 0);
	CHECK(m.type == MESSAGE_OTHER);
	CHECK(parse("{\"type\": \"RECORD \"}") == 0);
	CHECK(m.type == MESSAGE_OTHER);
	CHECK(parse("{\"type\": \"RECORDS\"}") == 0);
	CHECK(m.type == MESSAGE_OTHER);
	CHECK(parse("{\"type\": \"\"}") == 0);
	CHECK(m.type == MESSAGE_OTHER);
}

static void
test_non_string_or_missing_type_is_other(void)
{
	CHECK(parse("{\"type\": 1, \"record\": {}}") == 0);
	CHECK(m.type == MESSAGE_OTHER);
	CHECK(parse("{\"type\": [\"RECORD\"]}") == 0);
	CHECK(m.type == MESSAGE_OTHER);
	CHECK(parse("{\"type\": null}") == 0);
	CHECK(m.type == MESSAGE_OTHER);
	CHECK(parse("{\"stream\": \"s\", \"record\": {}}") == 0);
	CHECK(m.type == MESSAGE_OTHER);
}

int
main(void)
{
	message_init(&m);

	TEST_RUN(test_parse_record);
	TEST_RUN(test_parse_record_with_version);
	TEST_RUN(test_parse_schema);
	TEST_RUN(test_parse_state);
	TEST_RUN(test_parse_state_with_scalar_value);
	TEST_RUN(test_parse_activate_version);
	TEST_RUN(test_parse_keeps_numbers_and_escapes);
	TEST_RUN(test_keys_with_escapes);
	TEST_RUN(test_type_value_with_escapes);
	TEST_RUN(test_member_order_does_not_matter);
	TEST_RUN(test_unknown_members_ignored);
	TEST_RUN(test_nested_type_member_not_taken);
	TEST_RUN(test_unknown_members_still_checked);
	TEST_RUN(test_whitespace_around_members);
	TEST_RUN(test_empty_object);
	TEST_RUN(test_non_object_line_rejected);
	TEST_RUN(test_broken_object_rejected);
	TEST_RUN(test_record_keys_offsets);
	TEST_RUN(test_record_keys_with_record_first);
	TEST_RUN(test_record_keys_of_non_object_record);
	TEST_RUN(test_reparse_clears_previous_message);
	TEST_RUN(test_lower_case_type_is_other);
	TEST_RUN(test_unknown_type_is_other);
	TEST_RUN(test_non_string_or_missing_type_is_other);

	message_release(&m);
	return TEST_SUMMARY();
}

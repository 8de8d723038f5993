/*
 * JSON Schema validation in common/jsonschema.c: exact decimal numbers,
 * integers, string lengths in code points, error paths and messages,
 * references and their cycles, schemas refused at compile time, formats,
 * patterns, JSON equality and the value tree.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../common/buf.h"
#include "../../common/jsonschema.h"
#include "check.h"

/* What the last run() saw; copied, since the schema owns the originals. */
static char got_err[512];
static char got_path[512];
static char got_keyword[64];
static char got_message[512];

static void
copy(char *dst, size_t n, const char *src)
{
	snprintf(dst, n, "%s", src ? src : "(null)");
}

/*
 * Compile `schema` and validate `value` against it: 0 valid, 1 invalid,
 * -1 out of memory, -2 when the schema is refused (reason in got_err).
 */
static int
run(const char *schema, const char *value)
{
	struct jsonschema_error e = { NULL, NULL, NULL };
	struct jsonschema *s;
	int r;

	got_path[0] = got_keyword[0] = got_message[0] = '\0';
	s = jsonschema_new(schema, strlen(schema), got_err, sizeof(got_err));
	if (!s)
		return -2;
	r = jsonschema_validate(s, value, strlen(value), &e);
	copy(got_path, sizeof(got_path), e.path);
	copy(got_keyword, sizeof(got_keyword), e.keyword);
	copy(got_message, sizeof(got_message), e.message);
	jsonschema_free(s);
	return r;
}

#define VALID(schema, value) CHECK(run(schema, value) == 0)
#define INVALID(schema, value) CHECK(run(schema, value) == 1)

/* Is the schema refused with a reason that contains `part`? */
static int
refused(const char *schema, const char *part)
{
	struct jsonschema *s;

	got_err[0] = '\0';
	s = jsonschema_new(schema, strlen(schema), got_err, sizeof(got_err));
	if (s) {
		jsonschema_free(s);
		printf("  accepted %s\n", schema);
		return 0;
	}
	if (!strstr(got_err, part) || strchr(got_err, '\n')) {
		printf("  %s: reason '%s', want '%s'\n", schema, got_err, part);
		return 0;
	}
	return 1;
}

static void
test_multiple_of_hundredths_is_exact(void)
{
	const char *s = "{\"multipleOf\":0.01}";

	VALID(s, "19.99");
	VALID(s, "0.07");
	VALID(s, "1.10");
	VALID(s, "-4.35");
	VALID(s, "1e-2");
	VALID(s, "12345678901234567890.12");
	INVALID(s, "19.999");
	INVALID(s, "0.001");
	INVALID(s, "12345678901234567890.123");
	CHECK_STR(got_keyword, "multipleOf");
	CHECK_STR(got_message,
	    "12345678901234567890.123 is not a multiple of 0.01");
}

static void
test_multiple_of_handles_big_divisors_and_exponents(void)
{
	const char *big = "{\"multipleOf\":12345678901234567890123}";

	VALID(big, "37037036703703703670369");
	INVALID(big, "37037036703703703670370");
	VALID(big, "12345678901234567890123e300");
	VALID("{\"multipleOf\":7}", "7e400");
	INVALID("{\"multipleOf\":7}", "1e400");
	VALID("{\"multipleOf\":0.5}", "1e400");
	VALID("{\"multipleOf\":1.5}", "0");
	VALID("{\"multipleOf\":1e-8}", "12391239123");
	INVALID("{\"multipleOf\":0.123456789}", "1e308");
	INVALID("{\"multipleOf\":2}", "1e-400");
}

static void
test_thirty_digit_integers_compare_with_bounds(void)
{
	const char *max = "{\"maximum\":123456789012345678901234567890}";
	const char *min = "{\"minimum\":123456789012345678901234567890}";

	VALID(max, "123456789012345678901234567890");
	VALID(max, "123456789012345678901234567889");
	VALID(max, "1234567890123456789012345678.9e2");
	INVALID(max, "123456789012345678901234567891");
	CHECK_STR(got_message, "maximum 123456789012345678901234567890 "
	    "exceeded by 123456789012345678901234567891");
	INVALID(max, "123456789012345678901234567890.000001");
	VALID(min, "123456789012345678901234567890.0");
	INVALID(min, "123456789012345678901234567889");
	CHECK_STR(got_keyword, "minimum");
	CHECK_STR(got_message, "minimum 123456789012345678901234567890 "
	    "not reached by 123456789012345678901234567889");
	VALID("{\"maximum\":-5}", "-123456789012345678901234567890");
}

static void
test_exclusive_bounds_exclude_equal_values(void)
{
	const char *max = "{\"maximum\":10,\"exclusiveMaximum\":true}";
	const char *min = "{\"minimum\":0,\"exclusiveMinimum\":true}";

	INVALID(max, "10");
	CHECK_STR(got_message, "exclusive maximum 10 reached by 10");
	INVALID(max, "10.000");
	INVALID(max, "1e1");
	VALID(max, "9.99999999999999999999999999");
	INVALID(min, "0");
	INVALID(min, "-0");
	CHECK_STR(got_message, "exclusive minimum 0 reached by -0");
	VALID(min, "0.0000000000000000000000000001");
	VALID(min, "1e-400");
	VALID("{\"maximum\":10,\"exclusiveMaximum\":false}", "10");
}

static void
test_huge_exponents_compare_exactly(void)
{
	const char *max = "{\"maximum\":1e400}";

	VALID(max, "1e399");
	VALID(max, "10e399");
	VALID(max, "0.1e401");
	INVALID(max, "1.0000000000000000001e400");
	INVALID(max, "1e401");
	VALID("{\"minimum\":-1e400}", "-1e400");
	INVALID("{\"minimum\":-1e400}", "-1.5e400");
	INVALID("{\"maximum\":0}", "1e-400");
	VALID("{\"maximum\":1e99999999999999999999}", "1e400");
}

static void
test_negative_zero_equals_zero(void)
{
	VALID("{\"enum\":[0]}", "-0");
	VALID("{\"enum\":[0]}", "-0.0e5");
	VALID("{\"enum\":[-0]}", "0");
	VALID("{\"minimum\":0}", "-0");
	VALID("{\"maximum\":0}", "-0");
	VALID("{\"type\":\"integer\"}", "-0");
	INVALID("{\"uniqueItems\":true}", "[0,-0]");
	CHECK_STR(got_message, "items 0 and 1 are equal");
}

static void
test_integers_are_numbers_without_fraction(void)
{
	const char *s = "{\"type\":\"integer\"}";

	VALID(s, "1");
	VALID(s, "1.0");
	VALID(s, "1e2");
	VALID(s, "1.5e1");
	VALID(s, "100e-2");
	VALID(s, "1e400");
	VALID(s, "-123456789012345678901234567890");
	VALID(s, "0.0");
	INVALID(s, "1.5");
	INVALID(s, "1e-1");
	INVALID(s, "12.5e-1");
	INVALID(s, "1.0000000000000000000000001");
	CHECK_STR(got_message, "type 'integer' expected, got 'number'");
	INVALID(s, "\"1\"");
	CHECK_STR(got_message, "type 'integer' expected, got 'string'");
}

static void
test_lengths_count_code_points(void)
{
	const char *two = "{\"minLength\":2}";
	const char *one = "{\"maxLength\":1}";

	INVALID(two, "\"\xc3\xa9\"");
	CHECK_STR(got_message, "minLength 2 not reached by length 1");
	VALID(one, "\"\xc3\xa9\"");
	VALID(two, "\"\xc3\xa9\xc3\xa9\"");
	VALID(one, "\"\\u00e9\"");
	VALID(one, "\"\\ud83d\\ude00\"");
	VALID(one, "\"\xf0\x9f\x98\x80\"");
	INVALID(two, "\"\\ud83d\\ude00\"");
	VALID(two, "\"\\ud83d\\ude00\\ud83d\\ude00\"");
	VALID(two, "\"\\n\\t\"");
	INVALID(one, "\"\\n\\t\"");
	CHECK_STR(got_message, "maxLength 1 exceeded by length 2");
	VALID(two, "\"\\ud83d\\ud83d\"");
	VALID("{\"maxLength\":0}", "\"\"");
}

static void
test_errors_give_the_path_of_the_value(void)
{
	const char *s = "{\"properties\":{\"a\":{\"properties\":{\"b\":"
	    "{\"items\":{\"type\":\"string\"}}}}}}";

	INVALID(s, "{\"a\":{\"b\":[1]}}");
	CHECK_STR(got_path, "/a/b/0");
	CHECK_STR(got_keyword, "type");
	CHECK_STR(got_message, "type 'string' expected, got 'integer'");
	INVALID(s, "{\"a\":{\"b\":[\"x\",\"y\",null]}}");
	CHECK_STR(got_path, "/a/b/2");
	VALID(s, "{\"a\":{\"b\":[\"x\"]},\"c\":1}");
	INVALID("{\"type\":\"object\"}", "[]");
	CHECK_STR(got_path, "");
}

static void
test_error_paths_escape_keys(void)
{
	const char *s = "{\"properties\":{\"x/y~z\":{\"type\":\"null\"},"
	    "\"q\\\"\":{\"type\":\"null\"}}}";

	INVALID(s, "{\"x/y~z\":1}");
	CHECK_STR(got_path, "/x~1y~0z");
	INVALID(s, "{\"q\\\"\":1}");
	CHECK_STR(got_path, "/q\"");
	INVALID("{\"patternProperties\":{\"^a\":{\"type\":\"null\"}}}",
	    "{\"a/1\":{}}");
	CHECK_STR(got_path, "/a~11");
}

static void
test_error_messages_name_the_problem(void)
{
	INVALID("{\"required\":[\"id\"]}", "{\"ID\":1}");
	CHECK_STR(got_keyword, "required");
	CHECK_STR(got_message, "required property 'id' missing");
	INVALID("{\"maximum\":10}", "12");
	CHECK_STR(got_message, "maximum 10 exceeded by 12");
	INVALID("{\"format\":\"uuid\"}", "\"nope\"");
	CHECK_STR(got_keyword, "format");
	CHECK_STR(got_message, "format 'uuid' expected");
	INVALID("{\"type\":[\"null\",\"string\"]}", "3");
	CHECK_STR(got_message, "type 'null' or 'string' expected, got "
	    "'integer'");
	INVALID("{\"type\":[\"null\",\"string\",\"array\"]}", "true");
	CHECK_STR(got_message, "type 'null', 'string' or 'array' expected, "
	    "got 'boolean'");
	INVALID("{\"additionalProperties\":false}", "{\"x\":1}");
	CHECK_STR(got_path, "");
	CHECK_STR(got_message, "additional property 'x' not allowed");
	INVALID("{\"items\":[{}],\"additionalItems\":false}", "[1,2]");
	CHECK_STR(got_message, "additional item 1 not allowed");
	INVALID("{\"dependencies\":{\"a\":[\"b\"]}}", "{\"a\":1}");
	CHECK_STR(got_message, "property 'a' requires property 'b'");
	INVALID("{\"oneOf\":[{},{\"type\":\"integer\"}]}", "1");
	CHECK_STR(got_message, "schemas 0 and 1 in oneOf both matched");
	INVALID("{\"anyOf\":[{\"type\":\"null\"}]}", "1");
	CHECK_STR(got_message, "no schema in anyOf matched");
	INVALID("{\"not\":{}}", "1");
	CHECK_STR(got_keyword, "not");
	INVALID("{\"enum\":[1,2]}", "3");
	CHECK_STR(got_message, "value not in enum");
	INVALID("{\"pattern\":\"^a\"}", "\"b\"");
	CHECK_STR(got_message, "pattern '^a' not matched");
	INVALID("{\"minItems\":2}", "[1]");
	CHECK_STR(got_message, "minItems 2 not reached by 1 items");
	INVALID("{\"maxProperties\":0}", "{\"a\":1}");
	CHECK_STR(got_message, "maxProperties 0 exceeded by 1 properties");
}

static void
test_first_error_wins_inside_all_of(void)
{
	INVALID("{\"allOf\":[{\"properties\":{\"a\":{\"type\":\"null\"}}},"
	    "{\"required\":[\"b\"]}]}", "{\"a\":1}");
	CHECK_STR(got_path, "/a");
	CHECK_STR(got_keyword, "type");
}

static void
test_recursive_refs_follow_the_value(void)
{
	const char *s = "{\"type\":\"object\",\"properties\":{\"child\":"
	    "{\"$ref\":\"#\"},\"n\":{\"type\":\"integer\"}}}";

	VALID(s, "{\"child\":{\"child\":{\"child\":{\"n\":1}}}}");
	INVALID(s, "{\"child\":{\"child\":{\"n\":\"x\"}}}");
	CHECK_STR(got_path, "/child/child/n");
	VALID("{\"definitions\":{\"list\":{\"type\":[\"null\",\"object\"],"
	    "\"properties\":{\"next\":{\"$ref\":\"#/definitions/list\"}}}},"
	    "\"$ref\":\"#/definitions/list\"}",
	    "{\"next\":{\"next\":{\"next\":null}}}");
}

static void
test_ref_cycles_without_progress_are_refused(void)
{
	CHECK(refused("{\"definitions\":{\"a\":{\"$ref\":\"#/definitions/b\"},"
	    "\"b\":{\"$ref\":\"#/definitions/a\"}},"
	    "\"$ref\":\"#/definitions/a\"}", "without end"));
	CHECK(refused("{\"allOf\":[{\"$ref\":\"#\"}]}", "without end"));
	CHECK(refused("{\"$ref\":\"#\"}", "without end"));
	CHECK(refused("{\"anyOf\":[{\"type\":\"null\"},{\"not\":{\"$ref\":"
	    "\"#\"}}]}", "without end"));
}

static void
test_deep_values_stop_at_the_depth_limit(void)
{
	struct buf v;
	size_t i;
	int r;

	buf_init(&v, 0);
	for (i = 0; i < 5000; i++)
		buf_putc(&v, '[');
	for (i = 0; i < 5000; i++)
		buf_putc(&v, ']');
	r = run("{\"items\":{\"$ref\":\"#\"}}", v.data);
	buf_release(&v);
	CHECK(r == 1);
	CHECK_STR(got_keyword, "depth");
	VALID("{\"items\":{\"$ref\":\"#\"}}", "[[[[[[[[[[]]]]]]]]]]");
}

static void
test_refs_use_pointers_and_ids(void)
{
	VALID("{\"definitions\":{\"a~b\":{\"type\":\"integer\"},"
	    "\"c/d\":{\"type\":\"integer\"},\"e%f\":{\"type\":\"integer\"}},"
	    "\"items\":[{\"$ref\":\"#/definitions/a~0b\"},"
	    "{\"$ref\":\"#/definitions/c~1d\"},"
	    "{\"$ref\":\"#/definitions/e%25f\"}]}", "[1,2,3]");
	INVALID("{\"definitions\":{\"a\":{\"type\":\"integer\"}},"
	    "\"properties\":{\"x\":{\"$ref\":\"#/definitions/a\","
	    "\"type\":\"string\"}}}", "{\"x\":\"s\"}");
	VALID("{\"items\":[{\"type\":\"integer\"},{\"$ref\":\"#/items/0\"}]}",
	    "[1,2]");
	VALID("{\"id\":\"http://x.test/root.json\",\"definitions\":{\"b\":"
	    "{\"id\":\"b.json\",\"type\":\"string\"}},\"properties\":{\"p\":"
	    "{\"$ref\":\"b.json\"}}}", "{\"p\":\"s\"}");
	INVALID("{\"allOf\":[{\"$ref\":\"#foo\"}],\"definitions\":{\"A\":"
	    "{\"id\":\"#foo\",\"type\":\"integer\"}}}", "\"a\"");
	VALID("{\"$ref\":\"http://json-schema.org/draft-04/schema#\"}",
	    "{\"type\":\"string\",\"minLength\":1}");
	INVALID("{\"$ref\":\"http://json-schema.org/draft-04/schema#\"}",
	    "{\"type\":\"strin\"}");
}

static void
test_invalid_schemas_are_refused_with_a_reason(void)
{
	CHECK(refused("{\"type\":\"strin\"}", "unknown type \"strin\""));
	CHECK(refused("{\"type\":[]}", "'type' must be"));
	CHECK(refused("{\"minLength\":-1}",
	    "'minLength' must be a non-negative integer"));
	CHECK(refused("{\"maxItems\":1.5}", "non-negative integer"));
	CHECK(refused("{\"minLength\":\"3\"}", "non-negative integer"));
	CHECK(refused("{\"required\":\"a\"}", "'required' must be"));
	CHECK(refused("{\"properties\":{\"a\":1}}",
	    "at '#/properties/a': 'properties' must be a schema"));
	CHECK(refused("{\"items\":3}", "'items' must be"));
	CHECK(refused("{\"enum\":[]}", "'enum' must be a non-empty array"));
	CHECK(refused("{\"multipleOf\":0}", "'multipleOf' must be a number "
	    "above 0"));
	CHECK(refused("{\"maximum\":\"1\"}", "'maximum' must be a number"));
	CHECK(refused("{\"exclusiveMaximum\":true}", "needs 'maximum'"));
	CHECK(refused("{\"uniqueItems\":1}",
	    "'uniqueItems' must be a boolean"));
	CHECK(refused("{\"additionalProperties\":1}", "a boolean or a schema"));
	CHECK(refused("{\"allOf\":[]}", "non-empty array of schemas"));
	CHECK(refused("{\"not\":[]}", "'not' must be a schema"));
	CHECK(refused("{\"dependencies\":{\"a\":1}}", "a dependency must be"));
	CHECK(refused("{\"$ref\":\"#/definitions/nope\"}",
	    "cannot resolve $ref '#/definitions/nope'"));
	CHECK(refused("{\"$ref\":\"http://example.com/other.json\"}",
	    "cannot resolve $ref"));
	CHECK(refused("{\"$ref\":1}", "'$ref' must be a string"));
	CHECK(refused("{\"pattern\":\"(\"}", "pattern '(' is invalid"));
	CHECK(refused("{\"pattern\":\"a(?=b)\"}",
	    "cannot be used: lookaround"));
	CHECK(refused("{\"pattern\":\"(a)\\\\1\"}", "backreferences"));
	CHECK(refused("{\"patternProperties\":{\"[b-a]\":{}}}",
	    "out of order"));
	CHECK(refused("{\"format\":1}", "'format' must be a string"));
	CHECK(refused("[]", "a schema must be an object"));
	CHECK(refused("{\"type\":", "invalid schema: unexpected end"));
	VALID("{\"definitions\":{\"unused\":{\"type\":\"null\"}},"
	    "\"x-unknown\":{\"type\":5},\"format\":\"no-such-format\"}", "1");
}

static void
test_format_date_time(void)
{
	const char *s = "{\"format\":\"date-time\"}";

	VALID(s, "\"2024-02-29T23:59:60Z\"");
	VALID(s, "\"1963-06-19T08:30:06.283185+01:00\"");
	VALID(s, "\"2000-02-29t00:00:00z\"");
	INVALID(s, "\"2023-02-29T00:00:00Z\"");
	INVALID(s, "\"1900-02-29T00:00:00Z\"");
	INVALID(s, "\"2024-04-31T00:00:00Z\"");
	INVALID(s, "\"2024-01-01T00:00:00\"");
	INVALID(s, "\"2024-01-01 00:00:00Z\"");
	INVALID(s, "\"2024-01-01T24:00:00Z\"");
	INVALID(s, "\"2024-01-01T00:00:61Z\"");
	INVALID(s, "\"2024-01-01T00:00:00.Z\"");
	INVALID(s, "\"2024-01-01T00:00:00+0100\"");
	INVALID(s, "\"2013-350T01:01:01\"");
	VALID(s, "12");
}

static void
test_format_date_and_time(void)
{
	VALID("{\"format\":\"date\"}", "\"2000-02-29\"");
	INVALID("{\"format\":\"date\"}", "\"2100-02-29\"");
	INVALID("{\"format\":\"date\"}", "\"2000-13-01\"");
	INVALID("{\"format\":\"date\"}", "\"2000-1-01\"");
	VALID("{\"format\":\"time\"}", "\"08:30:06Z\"");
	VALID("{\"format\":\"time\"}", "\"08:30:06.5-05:30\"");
	INVALID("{\"format\":\"time\"}", "\"08:30:06\"");
	INVALID("{\"format\":\"time\"}", "\"08:60:06Z\"");
}

static void
test_format_email(void)
{
	VALID("{\"format\":\"email\"}", "\"joe.bloggs@example.com\"");
	INVALID("{\"format\":\"email\"}", "\"2962\"");
	INVALID("{\"format\":\"email\"}", "\"@example.com\"");
	INVALID("{\"format\":\"email\"}", "\"joe@\"");
	INVALID("{\"format\":\"email\"}", "\"a@b@c\"");
}

static void
test_format_ipv4(void)
{
	const char *s = "{\"format\":\"ipv4\"}";

	VALID(s, "\"192.168.0.1\"");
	VALID(s, "\"0.0.0.0\"");
	INVALID(s, "\"127.0.0.0.1\"");
	INVALID(s, "\"256.256.256.256\"");
	INVALID(s, "\"127.0\"");
	INVALID(s, "\"0x7f000001\"");
	INVALID(s, "\"087.10.0.1\"");
	INVALID(s, "\"1.2.3.4 \"");
}

static void
test_format_ipv6(void)
{
	const char *s = "{\"format\":\"ipv6\"}";

	VALID(s, "\"::1\"");
	VALID(s, "\"::\"");
	VALID(s, "\"fe80::\"");
	VALID(s, "\"2001:db8:0:0:0:0:2:1\"");
	VALID(s, "\"::ffff:192.168.0.1\"");
	VALID(s, "\"1:2:3:4:5:6:1.2.3.4\"");
	INVALID(s, "\"12345::\"");
	INVALID(s, "\"1::2::3\"");
	INVALID(s, "\"1:2:3:4:5:6:7:8:9\"");
	INVALID(s, "\"1:2:3:4:5:6:7\"");
	INVALID(s, "\":1\"");
	INVALID(s, "\"1:\"");
	INVALID(s, "\"::ffff:256.0.0.1\"");
	INVALID(s, "\"::laptop\"");
}

static void
test_format_hostname(void)
{
	const char *s = "{\"format\":\"hostname\"}";

	VALID(s, "\"www.example.com\"");
	VALID(s, "\"xn--4gbwdl.xn--wgbh1c\"");
	VALID(s, "\"a1\"");
	INVALID(s, "\"-a-host-name-that-starts-with--\"");
	INVALID(s, "\"not_a_valid_host_name\"");
	INVALID(s, "\"a..b\"");
	INVALID(s, "\"a-.b\"");
	INVALID(s, "\"a-vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv"
	    "vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv"
	    "vvvvery-long-host-name-component\"");
}

static void
test_format_uri(void)
{
	const char *s = "{\"format\":\"uri\"}";

	VALID(s, "\"http://foo.bar/?baz=qux#quux\"");
	VALID(s, "\"urn:isbn:0451450523\"");
	VALID(s, "\"mailto:a@b.example\"");
	VALID(s, "\"http://example.com/%20a\"");
	INVALID(s, "\"//foo.bar/?baz=qux#quux\"");
	INVALID(s, "\"\\\\\\\\WINDOWS\\\\fileshare\"");
	INVALID(s, "\"abc\"");
	INVALID(s, "\"http://exa mple.com\"");
	INVALID(s, "\"http://example.com/%2\"");
	INVALID(s, "\"1http://x\"");
}

static void
test_format_uuid(void)
{
	const char *s = "{\"format\":\"uuid\"}";

	VALID(s, "\"2eb8aa08-aa98-11ea-b4aa-73b441d16380\"");
	VALID(s, "\"2EB8AA08-AA98-11EA-B4AA-73B441D16380\"");
	INVALID(s, "\"2eb8aa08-aa98-11ea-b4aa-73b441d1638\"");
	INVALID(s, "\"2eb8aa08aa9811eab4aa73b441d16380\"");
	INVALID(s, "\"2eb8aa08-aa98-11ea-b4aa-73b441d1638g\"");
	INVALID(s, "\"2eb8aa0-8aa98-11ea-b4aa-73b441d16380\"");
}

static void
test_formats_decode_escapes_first(void)
{
	VALID("{\"format\":\"ipv4\"}", "\"1\\u002e2.3.4\"");
	INVALID("{\"format\":\"ipv4\"}", "\"1\\u00002.3.4\"");
}

static void
test_patterns_translate_ecma_escapes(void)
{
	VALID("{\"pattern\":\"^\\\\d{3}-\\\\w+$\"}", "\"123-ab_9\"");
	INVALID("{\"pattern\":\"^\\\\d{3}-\\\\w+$\"}", "\"12a-ab\"");
	VALID("{\"pattern\":\"^\\\\S+\\\\s\\\\S+$\"}", "\"a\\tb\"");
	INVALID("{\"pattern\":\"^\\\\D+$\"}", "\"a1\"");
	VALID("{\"pattern\":\"^[\\\\d.-]+$\"}", "\"1.2-3\"");
	INVALID("{\"pattern\":\"^[^\\\\d]+$\"}", "\"ab1\"");
	VALID("{\"pattern\":\"^a\\\\/b\\\\.c$\"}", "\"a/b.c\"");
	INVALID("{\"pattern\":\"^a\\\\/b\\\\.c$\"}", "\"a/bxc\"");
	VALID("{\"pattern\":\"^\\\\u0041\\\\x42\\\\t$\"}", "\"AB\\t\"");
	VALID("{\"pattern\":\"^(?:ab)+?c*?$\"}", "\"abab\"");
	VALID("{\"pattern\":\"^a{,2}$\"}", "\"a{,2}\"");
	VALID("{\"pattern\":\"^[\\\\]a-]+$\"}", "\"]-a\"");
	CHECK(refused("{\"pattern\":\"[]a]\"}", "empty bracket"));
	VALID("{\"pattern\":\"^[\\\\]\\\\[^]+$\"}", "\"[]^\"");
	VALID("{\"pattern\":\"^[\\\\^]$\"}", "\"^\"");
	VALID("{\"pattern\":\"\\\\bis\\\\b\"}", "\"this is it\"");
	VALID("{\"pattern\":\"^\xc3\xa9+$\"}", "\"\xc3\xa9\xc3\xa9\"");
	VALID("{\"pattern\":\"^[^]$\"}", "\"\\n\"");
	INVALID("{\"pattern\":\"^.$\"}", "\"\\n\"");
}

/* The programs run in the C locale, where regcomp() sees bytes. */
static void
test_patterns_match_characters_beyond_ascii(void)
{
	const char *cyrillic = "{\"pattern\":\"^[\\\\u0400-\\\\u04FF]+$\"}";
	const char *span = "{\"pattern\":\"^[\\\\u00e9-\\\\u4e00]$\"}";

	VALID("{\"pattern\":\"^.$\"}", "\"\xc3\xa9\"");
	VALID("{\"pattern\":\"^.$\"}", "\"\xf0\x9f\x98\x80\"");
	INVALID("{\"pattern\":\"^.$\"}", "\"ab\"");
	VALID("{\"pattern\":\"^.{2}$\"}", "\"\xc3\xa9" "a\"");
	VALID("{\"pattern\":\"^[^a]$\"}", "\"\xc3\xa9\"");
	VALID("{\"pattern\":\"^\\\\D\\\\W\\\\S$\"}",
	    "\"\xc3\xa9\xc3\xa9\xc3\xa9\"");
	VALID("{\"pattern\":\"^[\\\\s\\\\S]$\"}", "\"\xe4\xb8\xad\"");
	VALID("{\"pattern\":\"^[a\\\\u00e9]{2}$\"}", "\"a\xc3\xa9\"");
	VALID("{\"pattern\":\"^[^]{3}$\"}", "\"a\\n\xc3\xa9\"");
	VALID(cyrillic, "\"\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82\"");
	INVALID(cyrillic, "\"Hello\"");
	VALID(span, "\"\xc3\xa9\"");
	VALID(span, "\"\xc4\x81\"");
	VALID(span, "\"\xe4\xb8\x80\"");
	INVALID(span, "\"\xe4\xb8\xad\"");
	INVALID(span, "\"\xc3\xa8\"");
	INVALID(span, "\"a\"");
}

static void
test_patterns_search_unanchored(void)
{
	VALID("{\"pattern\":\"a+\"}", "\"xxaxx\"");
	INVALID("{\"pattern\":\"a+\"}", "\"xx\"");
	VALID("{\"pattern\":\"a+\"}", "1");
	VALID("{\"patternProperties\":{\"^x-\":{\"type\":\"string\"}},"
	    "\"additionalProperties\":false}", "{\"x-a\":\"s\"}");
	INVALID("{\"patternProperties\":{\"^x-\":{\"type\":\"string\"}},"
	    "\"additionalProperties\":false}", "{\"y\":\"s\"}");
}

static void
test_enum_uses_json_equality(void)
{
	const char *s = "{\"enum\":[{\"a\":1,\"b\":[1,\"x\"]},\"A\\n\",2.50]}";

	VALID(s, "{\"b\":[1.0,\"x\"],\"a\":1e0}");
	INVALID(s, "{\"b\":[1.0,\"x\"],\"a\":1e0,\"c\":null}");
	VALID(s, "\"\\u0041\\u000a\"");
	VALID(s, "25e-1");
	INVALID(s, "2.51");
	INVALID(s, "{\"a\":1,\"b\":[\"x\",1]}");
	INVALID("{\"enum\":[false]}", "0");
	VALID("{\"enum\":[\"hello\\u0000there\"]}", "\"hello\\u0000there\"");
	INVALID("{\"enum\":[\"hello\\u0000there\"]}", "\"hello\"");
}

static void
test_unique_items_on_long_arrays(void)
{
	struct buf v;
	int i;

	VALID("{\"uniqueItems\":true}",
	    "[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,\"1\"]");
	INVALID("{\"uniqueItems\":true}",
	    "[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,1.0]");
	CHECK_STR(got_message, "items 0 and 20 are equal");
	INVALID("{\"uniqueItems\":true}",
	    "[0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,"
	    "{\"a\":1,\"b\":{\"c\":[true]}},{\"b\":{\"c\":[true]},\"a\":1}]");
	CHECK_STR(got_message, "items 19 and 20 are equal");
	VALID("{\"uniqueItems\":true}",
	    "[0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,"
	    "{\"a\":1,\"b\":{\"c\":[true]}},{\"b\":{\"c\":[1]},\"a\":1}]");

	buf_init(&v, 0);
	buf_putc(&v, '[');
	for (i = 0; i < 3000; i++)
		buf_printf(&v, "%s\"item %d\"", i ? "," : "", i);
	buf_puts(&v, ",\"item 1234\"]");
	i = run("{\"uniqueItems\":true}", v.data);
	buf_release(&v);
	CHECK(i == 1);
	CHECK_STR(got_message, "items 1234 and 3000 are equal");
}

static void
test_many_properties_use_the_name_table(void)
{
	struct buf schema, value;
	int i, r;

	buf_init(&schema, 0);
	buf_init(&value, 0);
	buf_puts(&schema, "{\"additionalProperties\":false,\"properties\":{");
	buf_putc(&value, '{');
	for (i = 0; i < 200; i++) {
		buf_printf(&schema, "%s\"p%d\":{\"type\":\"integer\"}",
		    i ? "," : "", i);
		buf_printf(&value, "%s\"p%d\":%d", i ? "," : "", i, i);
	}
	buf_puts(&schema, "},\"required\":[\"p199\",\"p0\"]}");
	buf_puts(&value, ",\"p\\u0031\":1}");
	r = run(schema.data, value.data);
	CHECK(r == 0);
	value.data[value.len - strlen("p\\u0031\":1}")] = 'q';
	r = run(schema.data, value.data);
	buf_release(&schema);
	buf_release(&value);
	CHECK(r == 1);
	CHECK_STR(got_path, "");
	CHECK_STR(got_message, "additional property 'q1' not allowed");
}

static void
test_many_pattern_properties_all_apply(void)
{
	struct buf schema;
	int i, r[3];

	buf_init(&schema, 0);
	buf_puts(&schema, "{\"additionalProperties\":false,"
	    "\"patternProperties\":{");
	for (i = 0; i < 70; i++)
		buf_printf(&schema, "%s\"^p%d$\":{\"type\":\"integer\"}",
		    i ? "," : "", i);
	buf_puts(&schema, "}}");
	r[0] = run(schema.data, "{\"p3\":1,\"p69\":2}");
	r[1] = run(schema.data, "{\"p3\":1,\"p69\":\"x\"}");
	CHECK_STR(got_path, "/p69");
	r[2] = run(schema.data, "{\"p70\":1}");
	CHECK_STR(got_keyword, "additionalProperties");
	buf_release(&schema);
	CHECK(r[0] == 0 && r[1] == 1 && r[2] == 1);
}

static void
test_schema_dependencies_check_the_whole_object(void)
{
	const char *s = "{\"dependencies\":{\"card\":{\"required\":"
	    "[\"billing\"],\"properties\":{\"billing\":"
	    "{\"type\":\"string\"}}}}}";

	VALID(s, "{\"name\":1}");
	VALID(s, "{\"card\":1,\"billing\":\"x\"}");
	INVALID(s, "{\"card\":1}");
	CHECK_STR(got_message, "required property 'billing' missing");
	INVALID(s, "{\"card\":1,\"billing\":2}");
	CHECK_STR(got_path, "/billing");
}

static void
test_malformed_value_text_is_invalid(void)
{
	INVALID("{}", "{\"a\":");
	CHECK_STR(got_keyword, "json");
	INVALID("{}", "[1,]x");
	VALID("{}", " { \"a\" : [ 1 , 2 ] } ");
}

static void
test_validate_reuses_the_schema(void)
{
	const char *schema = "{\"properties\":{\"n\":{\"maximum\":3}}}";
	struct jsonschema *s = jsonschema_new(schema, strlen(schema), NULL, 0);
	struct jsonschema_error e;
	int i;

	CHECK(s != NULL);
	for (i = 0; i < 1000; i++) {
		CHECK(jsonschema_validate(s, "{\"n\":4}", 7, &e) == 1);
		CHECK_STR(e.path, "/n");
		CHECK(jsonschema_validate(s, "{\"n\":3}", 7, NULL) == 0);
	}
	CHECK(jsonschema_validate(s, "{\"n\":3}", 7, &e) == 0);
	CHECK_STR(e.message, "");
	jsonschema_free(s);
	jsonschema_free(NULL);
}

static void
test_tree_walks_compact_text(void)
{
	const char *text = "{\"a\":[1,{\"b\":null}],\"c\\u0064\":\"x\"}";
	struct jsonschema_tree t;
	long a, cd;

	jsonschema_tree_init(&t);
	CHECK(jsonschema_tree_parse(&t, text, strlen(text)) == 0);
	a = jsonschema_tree_member(&t, 0, "a");
	cd = jsonschema_tree_member(&t, 0, "cd");
	CHECK(t.n == 6 && t.node[0].count == 2 && t.node[0].end == 6);
	CHECK(a == 1 && t.node[a].type == JSONSCHEMA_ARRAY);
	CHECK(t.node[a].count == 2 && t.node[a].end == 5);
	CHECK(t.node[a].len == 14);
	CHECK(cd == 5 && t.node[cd].type == JSONSCHEMA_STRING);
	CHECK(jsonschema_tree_member(&t, 0, "b") == -1);
	CHECK(jsonschema_tree_member(&t, 3, "b") == 4);
	CHECK(jsonschema_tree_parse(&t, "[1", 2) == 1);
	jsonschema_tree_release(&t);
	jsonschema_tree_release(NULL);
}

static void
test_stacked_quantifiers_are_refused(void)
{
	/* Nothing to repeat in ECMA 262; ruinous for regcomp(). */
	CHECK(refused("{\"pattern\": \"a**\"}", "quantifier"));
	CHECK(refused("{\"pattern\": \"[A-Z]*+{2}\"}", "quantifier"));
	CHECK(refused("{\"pattern\": \"a*?*\"}", "quantifier"));
	CHECK(refused("{\"pattern\": \"a{2}{3}\"}", "quantifier"));
	VALID("{\"pattern\": \"^a*?b+?c??d{2}?$\"}", "\"aabcdd\"");
	VALID("{\"pattern\": \"x{2,}\"}", "\"axxb\"");
}

static void
test_huge_repetition_counts_are_refused(void)
{
	char value[260];

	CHECK(refused("{\"pattern\": \"a{256}\"}", "repetition count"));
	CHECK(refused("{\"pattern\": \"a{1,99999}\"}", "repetition count"));
	value[0] = '"';
	memset(value + 1, 'a', 255);
	value[256] = '"';
	value[257] = '\0';
	VALID("{\"pattern\": \"^a{255}$\"}", value);
}

int
main(void)
{
	TEST_RUN(test_multiple_of_hundredths_is_exact);
	TEST_RUN(test_multiple_of_handles_big_divisors_and_exponents);
	TEST_RUN(test_thirty_digit_integers_compare_with_bounds);
	TEST_RUN(test_exclusive_bounds_exclude_equal_values);
	TEST_RUN(test_huge_exponents_compare_exactly);
	TEST_RUN(test_negative_zero_equals_zero);
	TEST_RUN(test_integers_are_numbers_without_fraction);
	TEST_RUN(test_lengths_count_code_points);
	TEST_RUN(test_errors_give_the_path_of_the_value);
	TEST_RUN(test_error_paths_escape_keys);
	TEST_RUN(test_error_messages_name_the_problem);
	TEST_RUN(test_first_error_wins_inside_all_of);
	TEST_RUN(test_recursive_refs_follow_the_value);
	TEST_RUN(test_ref_cycles_without_progress_are_refused);
	TEST_RUN(test_deep_values_stop_at_the_depth_limit);
	TEST_RUN(test_refs_use_pointers_and_ids);
	TEST_RUN(test_invalid_schemas_are_refused_with_a_reason);
	TEST_RUN(test_format_date_time);
	TEST_RUN(test_format_date_and_time);
	TEST_RUN(test_format_email);
	TEST_RUN(test_format_ipv4);
	TEST_RUN(test_format_ipv6);
	TEST_RUN(test_format_hostname);
	TEST_RUN(test_format_uri);
	TEST_RUN(test_format_uuid);
	TEST_RUN(test_formats_decode_escapes_first);
	TEST_RUN(test_patterns_translate_ecma_escapes);
	TEST_RUN(test_patterns_match_characters_beyond_ascii);
	TEST_RUN(test_patterns_search_unanchored);
	TEST_RUN(test_enum_uses_json_equality);
	TEST_RUN(test_unique_items_on_long_arrays);
	TEST_RUN(test_many_properties_use_the_name_table);
	TEST_RUN(test_many_pattern_properties_all_apply);
	TEST_RUN(test_schema_dependencies_check_the_whole_object);
	TEST_RUN(test_malformed_value_text_is_invalid);
	TEST_RUN(test_validate_reuses_the_schema);
	TEST_RUN(test_tree_walks_compact_text);
	TEST_RUN(test_stacked_quantifiers_are_refused);
	TEST_RUN(test_huge_repetition_counts_are_refused);
	return TEST_SUMMARY();
}

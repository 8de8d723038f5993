/*
 * A checking, compacting JSON scanner.  It never builds a tree: it walks
 * the text once with an explicit stack of open containers, so depth costs
 * one byte per level and no recursion.  Output is written straight into a
 * buffer that was grown once up front, since compact text is never longer
 * than its source.
 */
#include "json.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Classes of bytes inside a string literal. */
enum {
	SC_PLAIN,
	SC_QUOTE,
	SC_ESCAPE,
	SC_CONTROL,
	SC_HIGH
};

static unsigned char string_class[256];
static int string_class_ready;

static void
string_class_init(void)
{
	int c;

	for (c = 0; c < 256; c++) {
		if (c < 0x20)
			string_class[c] = SC_CONTROL;
		else if (c >= 0x80)
			string_class[c] = SC_HIGH;
		else
			string_class[c] = SC_PLAIN;
	}
	string_class['"'] = SC_QUOTE;
	string_class['\\'] = SC_ESCAPE;
	/* Written last so that a concurrent reader never sees it early. */
	__atomic_store_n(&string_class_ready, 1, __ATOMIC_RELEASE);
}

static int
is_ws(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static int
is_hex(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
	    (c >= 'A' && c <= 'F');
}

static int
is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

size_t
json_skip_ws(const char *in, size_t len, size_t pos)
{
	while (pos < len && is_ws((unsigned char)in[pos]))
		pos++;
	return pos;
}

void
json_keys_release(struct json_keys *keys)
{
	free(keys->off);
	keys->off = NULL;
	keys->n = keys->cap = 0;
}

static int
keys_add(struct json_keys *keys, size_t off)
{
	if (keys->n == keys->cap) {
		size_t cap = keys->cap ? keys->cap * 2 : 16;
		size_t *p = realloc(keys->off, cap * sizeof(*p));

		if (!p)
			return -1;
		keys->off = p;
		keys->cap = cap;
	}
	keys->off[keys->n++] = off;
	return 0;
}

/*
 * Length of the valid UTF-8 sequence at s (at most `avail` bytes) whose
 * lead byte is >= 0x80, or 0 if it is not valid: overlong forms,
 * surrogates and code points past U+10FFFF are refused.
 */
static size_t
utf8_seq(const unsigned char *s, size_t avail)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xBF;
	size_t n, i;

	if (c >= 0xC2 && c <= 0xDF)
		n = 2;
	else if (c >= 0xE0 && c <= 0xEF)
		n = 3;
	else if (c >= 0xF0 && c <= 0xF4)
		n = 4;
	else
		return 0;
	if (avail < n)
		return 0;

	if (c == 0xE0)
		lo = 0xA0;
	else if (c == 0xED)
		hi = 0x9F;
	else if (c == 0xF0)
		lo = 0x90;
	else if (c == 0xF4)
		hi = 0x8F;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (i = 2; i < n; i++)
		if ((s[i] & 0xC0) != 0x80)
			return 0;
	return n;
}

/*
 * Check the string literal at in[p] (the opening quote) and move *pos past
 * it.  *wide is set when a \u escape names a character beyond ASCII.
 */
static int
scan_string(const unsigned char *in, size_t len, size_t *pos, int *wide,
    struct json_error *err)
{
	size_t p = *pos + 1, n;

	for (;;) {
		while (p < len && string_class[in[p]] == SC_PLAIN)
			p++;
		if (p >= len) {
			err->what = "unterminated string";
			goto fail;
		}
		switch (string_class[in[p]]) {
		case SC_QUOTE:
			*pos = p + 1;
			return 0;
		case SC_ESCAPE:
			if (p + 1 >= len) {
				err->what = "unterminated string";
				goto fail;
			}
			switch (in[p + 1]) {
			case '"': case '\\': case '/': case 'b':
			case 'f': case 'n': case 'r': case 't':
				p += 2;
				break;
			case 'u':
				if (p + 5 >= len || !is_hex(in[p + 2]) ||
				    !is_hex(in[p + 3]) || !is_hex(in[p + 4]) ||
				    !is_hex(in[p + 5])) {
					err->what = "invalid \\u escape in string";
					goto fail;
				}
				if (in[p + 2] != '0' || in[p + 3] != '0' ||
				    in[p + 4] >= '8')
					*wide = 1;
				p += 6;
				break;
			default:
				err->what = "invalid escape in string";
				goto fail;
			}
			break;
		case SC_CONTROL:
			err->what = "raw control character in string";
			goto fail;
		default:
			n = utf8_seq(in + p, len - p);
			if (!n) {
				err->what = "invalid UTF-8 in string";
				goto fail;
			}
			p += n;
		}
	}

fail:
	err->offset = p;
	return -1;
}

static int
scan_number(const unsigned char *in, size_t len, size_t *pos,
    struct json_error *err)
{
	size_t p = *pos;

	if (p < len && in[p] == '-')
		p++;
	if (p < len && in[p] == '0') {
		p++;
	} else if (p < len && is_digit(in[p])) {
		while (p < len && is_digit(in[p]))
			p++;
	} else {
		goto fail;
	}
	if (p < len && in[p] == '.') {
		p++;
		if (p >= len || !is_digit(in[p]))
			goto fail;
		while (p < len && is_digit(in[p]))
			p++;
	}
	if (p < len && (in[p] == 'e' || in[p] == 'E')) {
		p++;
		if (p < len && (in[p] == '+' || in[p] == '-'))
			p++;
		if (p >= len || !is_digit(in[p]))
			goto fail;
		while (p < len && is_digit(in[p]))
			p++;
	}
	*pos = p;
	return 0;

fail:
	err->offset = p;
	err->what = "invalid number";
	return -1;
}

static int
scan_literal(const unsigned char *in, size_t len, size_t *pos,
    struct json_error *err)
{
	static const char *const words[] = { "true", "false", "null" };
	size_t p = *pos, i, n;

	for (i = 0; i < 3; i++) {
		n = strlen(words[i]);
		if (len - p >= n && memcmp(in + p, words[i], n) == 0) {
			*pos = p + n;
			return 0;
		}
	}
	err->offset = p;
	err->what = in[p] >= 0x80 && !utf8_seq(in + p, len - p) ?
	    "invalid UTF-8" : "unexpected character";
	return -1;
}

/* The stack of open containers: '{' or '['. */
struct nest {
	char small[64];
	char *s;
	size_t depth;
	size_t cap;
};

static int
nest_push(struct nest *st, char c)
{
	if (st->depth == st->cap) {
		size_t cap = st->cap * 4;
		char *p;

		if (cap > JSON_MAX_DEPTH)
			cap = JSON_MAX_DEPTH;
		if (st->depth >= cap)
			return -1;
		p = st->s == st->small ? malloc(cap) : realloc(st->s, cap);
		if (!p)
			return -1;
		if (st->s == st->small)
			memcpy(p, st->small, st->depth);
		st->s = p;
		st->cap = cap;
	}
	st->s[st->depth++] = c;
	return 0;
}

static int hex4(const char *s);
static size_t utf8_put(char *out, uint32_t cp);

/*
 * Copy a checked string literal, writing each \u escape of a character
 * beyond ASCII as the UTF-8 it stands for, as every other character of
 * the output is written.  Escapes of ASCII characters and lone surrogates
 * stay as they are.  Returns the bytes written, never more than `len`.
 */
static size_t
copy_string_utf8(char *o, const char *s, size_t len)
{
	size_t i = 0, w = 0;
	uint32_t cp, lo;

	while (i < len) {
		if (s[i] != '\\') {
			o[w++] = s[i++];
			continue;
		}
		if (s[i + 1] != 'u') {
			o[w++] = s[i++];
			o[w++] = s[i++];
			continue;
		}
		cp = (uint32_t)hex4(s + i + 2);
		if (cp >= 0xD800 && cp <= 0xDBFF && i + 11 < len &&
		    s[i + 6] == '\\' && s[i + 7] == 'u') {
			lo = (uint32_t)hex4(s + i + 8);
			if (lo >= 0xDC00 && lo <= 0xDFFF) {
				cp = 0x10000 + ((cp - 0xD800) << 10) +
				    (lo - 0xDC00);
				w += utf8_put(o + w, cp);
				i += 12;
				continue;
			}
		}
		if (cp < 0x80 || (cp >= 0xD800 && cp <= 0xDFFF)) {
			memcpy(o + w, s + i, 6);
			w += 6;
		} else {
			w += utf8_put(o + w, cp);
		}
		i += 6;
	}
	return w;
}

int
json_compact_value(const char *text, size_t len, size_t *pos,
    struct buf *out, struct json_keys *keys, struct json_error *err)
{
	const unsigned char *in = (const unsigned char *)text;
	struct nest st = { .s = st.small, .depth = 0, .cap = sizeof(st.small) };
	size_t p = *pos, start;
	char *o;
	int rc = -1, wide;

	if (!__atomic_load_n(&string_class_ready, __ATOMIC_ACQUIRE))
		string_class_init();
	if (keys)
		keys->n = 0;
	if (buf_grow(out, len - p) < 0) {
		err->offset = p;
		err->what = "out of memory";
		return -1;
	}
	o = out->data + out->len;

value:
	while (p < len && is_ws(in[p]))
		p++;
	if (p >= len)
		goto eof;
	start = p;
	switch (in[p]) {
	case '{':
		if (nest_push(&st, '{') < 0)
			goto deep;
		*o++ = '{';
		p++;
		while (p < len && is_ws(in[p]))
			p++;
		if (p < len && in[p] == '}') {
			p++;
			st.depth--;
			*o++ = '}';
			goto after;
		}
		goto key;
	case '[':
		if (nest_push(&st, '[') < 0)
			goto deep;
		*o++ = '[';
		p++;
		while (p < len && is_ws(in[p]))
			p++;
		if (p < len && in[p] == ']') {
			p++;
			st.depth--;
			*o++ = ']';
			goto after;
		}
		goto value;
	case '"':
		wide = 0;
		if (scan_string(in, len, &p, &wide, err) < 0)
			goto out;
		if (wide) {
			o += copy_string_utf8(o, text + start, p - start);
			goto after;
		}
		break;
	case '-': case '0': case '1': case '2': case '3': case '4':
	case '5': case '6': case '7': case '8': case '9':
		if (scan_number(in, len, &p, err) < 0)
			goto out;
		break;
	default:
		if (scan_literal(in, len, &p, err) < 0)
			goto out;
	}
	memcpy(o, in + start, p - start);
	o += p - start;
	goto after;

key:
	while (p < len && is_ws(in[p]))
		p++;
	if (p >= len)
		goto eof;
	if (in[p] != '"') {
		err->what = "expected a string as object key";
		goto bad;
	}
	if (keys && st.depth == 1 &&
	    keys_add(keys, (size_t)(o - out->data)) < 0) {
		err->what = "out of memory";
		goto bad;
	}
	start = p;
	wide = 0;
	if (scan_string(in, len, &p, &wide, err) < 0)
		goto out;
	if (wide) {
		o += copy_string_utf8(o, text + start, p - start);
	} else {
		memcpy(o, in + start, p - start);
		o += p - start;
	}
	while (p < len && is_ws(in[p]))
		p++;
	if (p >= len)
		goto eof;
	if (in[p] != ':') {
		err->what = "expected ':' after object key";
		goto bad;
	}
	*o++ = ':';
	p++;
	goto value;

after:
	if (st.depth == 0) {
		rc = 0;
		goto out;
	}
	while (p < len && is_ws(in[p]))
		p++;
	if (p >= len)
		goto eof;
	if (in[p] == ',') {
		*o++ = ',';
		p++;
		if (st.s[st.depth - 1] == '{')
			goto key;
		goto value;
	}
	if ((in[p] == '}' && st.s[st.depth - 1] == '{') ||
	    (in[p] == ']' && st.s[st.depth - 1] == '[')) {
		*o++ = (char)in[p];
		p++;
		st.depth--;
		goto after;
	}
	err->what = st.s[st.depth - 1] == '{' ?
	    "expected ',' or '}' in object" : "expected ',' or ']' in array";
	goto bad;

deep:
	err->what = "nesting too deep";
	goto bad;
eof:
	err->what = "unexpected end of input";
bad:
	err->offset = p;
out:
	out->len = (size_t)(o - out->data);
	out->data[out->len] = '\0';
	if (st.s != st.small)
		free(st.s);
	if (rc == 0)
		*pos = p;
	return rc;
}

int
json_compact(const char *in, size_t len, struct buf *out,
    struct json_error *err)
{
	size_t pos = 0;

	if (json_compact_value(in, len, &pos, out, NULL, err) < 0)
		return -1;
	pos = json_skip_ws(in, len, pos);
	if (pos != len) {
		err->offset = pos;
		err->what = "unexpected text after the JSON value";
		return -1;
	}
	return 0;
}

static int
hex4(const char *s)
{
	int v = 0, i;

	for (i = 0; i < 4; i++) {
		char c = s[i];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= c - '0';
		else if (c >= 'a' && c <= 'f')
			v |= c - 'a' + 10;
		else
			v |= c - 'A' + 10;
	}
	return v;
}

static size_t
utf8_put(char *b, uint32_t cp)
{
	size_t n;

	if (cp < 0x80) {
		b[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		b[0] = (char)(0xC0 | (cp >> 6));
		b[1] = (char)(0x80 | (cp & 0x3F));
		n = 2;
	} else if (cp < 0x10000) {
		b[0] = (char)(0xE0 | (cp >> 12));
		b[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		b[2] = (char)(0x80 | (cp & 0x3F));
		n = 3;
	} else {
		b[0] = (char)(0xF0 | (cp >> 18));
		b[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
		b[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
		b[3] = (char)(0x80 | (cp & 0x3F));
		n = 4;
	}
	return n;
}

static int
put_utf8(struct buf *out, uint32_t cp)
{
	char b[4];

	return buf_append(out, b, utf8_put(b, cp));
}

int
json_string_decode(struct buf *out, const char *lit, size_t len)
{
	size_t i = 1, end = len - 1, run;
	uint32_t cp, lo;

	while (i < end) {
		run = i;
		while (run < end && lit[run] != '\\')
			run++;
		if (buf_append(out, lit + i, run - i) < 0)
			return -1;
		i = run;
		if (i >= end)
			break;
		switch (lit[i + 1]) {
		case 'b': cp = '\b'; break;
		case 'f': cp = '\f'; break;
		case 'n': cp = '\n'; break;
		case 'r': cp = '\r'; break;
		case 't': cp = '\t'; break;
		case 'u':
			cp = (uint32_t)hex4(lit + i + 2);
			i += 4;
			if (cp >= 0xD800 && cp <= 0xDBFF && i + 7 < end &&
			    lit[i + 2] == '\\' && lit[i + 3] == 'u') {
				lo = (uint32_t)hex4(lit + i + 4);
				if (lo >= 0xDC00 && lo <= 0xDFFF) {
					cp = 0x10000 + ((cp - 0xD800) << 10) +
					    (lo - 0xDC00);
					i += 6;
				}
			}
			if (cp >= 0xD800 && cp <= 0xDFFF)
				cp = 0xFFFD;
			break;
		default:
			cp = (unsigned char)lit[i + 1];
		}
		i += 2;
		if (put_utf8(out, cp) < 0)
			return -1;
	}
	return 0;
}

int
json_string_encode(struct buf *out, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t i, run = 0;

	if (buf_putc(out, '"') < 0)
		return -1;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		char esc[7];
		size_t n = 2;

		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		if (buf_append(out, s + run, i - run) < 0)
			return -1;
		run = i + 1;
		esc[0] = '\\';
		switch (c) {
		case '"': esc[1] = '"'; break;
		case '\\': esc[1] = '\\'; break;
		case '\b': esc[1] = 'b'; break;
		case '\f': esc[1] = 'f'; break;
		case '\n': esc[1] = 'n'; break;
		case '\r': esc[1] = 'r'; break;
		case '\t': esc[1] = 't'; break;
		default:
			memcpy(esc + 1, "u00", 3);
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
			n = 6;
		}
		if (buf_append(out, esc, n) < 0)
			return -1;
	}
	if (buf_append(out, s + run, len - run) < 0)
		return -1;
	return buf_putc(out, '"');
}

int
json_string_equals(const char *lit, size_t len, const char *name,
    size_t name_len)
{
	struct buf tmp;
	int eq;

	if (len < 2)
		return 0;
	if (!memchr(lit + 1, '\\', len - 2))
		return len - 2 == name_len &&
		    memcmp(lit + 1, name, name_len) == 0;

	buf_init(&tmp, 0);
	eq = json_string_decode(&tmp, lit, len) == 0 &&
	    tmp.len == name_len && memcmp(tmp.data, name, name_len) == 0;
	buf_release(&tmp);
	return eq;
}

size_t
json_value_span(const char *s, size_t len)
{
	size_t p = 0, depth = 0;

	while (p < len) {
		switch (s[p]) {
		case '"':
			for (p++; p < len && s[p] != '"'; p++)
				if (s[p] == '\\')
					p++;
			p++;
			break;
		case '{': case '[':
			depth++;
			p++;
			continue;
		case '}': case ']':
			depth--;
			p++;
			break;
		case ',': case ':':
			p++;
			continue;
		default:
			while (p < len && s[p] != ',' && s[p] != '}' &&
			    s[p] != ']')
				p++;
		}
		if (depth == 0)
			break;
	}
	return p < len ? p : len;
}

int
json_is_falsy(const char *s, size_t len)
{
	size_t i;

	if (len == 0)
		return 1;
	switch (s[0]) {
	case 'n': case 'f':
		return 1;
	case 't':
		return 0;
	case '"':
		return len == 2;
	case '[': case '{':
		return len == 2;
	}
	/* A number is false when every digit before the exponent is zero. */
	for (i = 0; i < len && s[i] != 'e' && s[i] != 'E'; i++)
		if (s[i] >= '1' && s[i] <= '9')
			return 0;
	return 1;
}

/*
 * Fuzz the compacting JSON scanner.  Whatever it accepts must come out as
 * the same tokens without the white space: numbers, literals and
 * punctuation byte for byte, strings decoding to the same text.  The
 * output must compact to itself, and the spans of its members must agree.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../common/buf.h"
#include "../../common/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum tok {
	TOK_END,
	TOK_STRING,	/* a string literal, quotes included */
	TOK_SCALAR,	/* a number, true, false or null */
	TOK_PUNCT	/* one of {}[]:, */
};

static int
is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static int
is_punct(char c)
{
	return c == '{' || c == '}' || c == '[' || c == ']' || c == ':' ||
	    c == ',';
}

/*
 * The next token of checked JSON text at or after *pos; *ws is set when
 * white space was skipped to reach it.
 */
static enum tok
next_tok(const char *s, size_t len, size_t *pos, size_t *start, size_t *n,
    int *ws)
{
	size_t p = *pos;

	*ws = 0;
	while (p < len && is_ws(s[p])) {
		p++;
		*ws = 1;
	}
	*start = p;
	if (p >= len) {
		*n = 0;
		return TOK_END;
	}
	if (s[p] == '"') {
		for (p++; p < len && s[p] != '"'; p++)
			if (s[p] == '\\')
				p++;
		if (p >= len)
			abort();	/* the scanner passed a broken string */
		*pos = p + 1;
		*n = *pos - *start;
		return TOK_STRING;
	}
	if (is_punct(s[p])) {
		*pos = p + 1;
		*n = 1;
		return TOK_PUNCT;
	}
	while (p < len && !is_ws(s[p]) && !is_punct(s[p]) && s[p] != '"')
		p++;
	*pos = p;
	*n = p - *start;
	return TOK_SCALAR;
}

static void
decode(struct buf *b, const char *lit, size_t len)
{
	buf_reset(b);
	if (json_string_decode(b, lit, len) < 0)
		abort();
}

/* Compare the tokens of `in` and its compact form `out`. */
static void
check_tokens(const char *in, size_t in_len, const char *out, size_t out_len)
{
	struct buf a, b;
	size_t ip = 0, op = 0, is, ilen, os, olen;
	enum tok it, ot;
	int ws;

	buf_init(&a, 0);
	buf_init(&b, 0);
	do {
		it = next_tok(in, in_len, &ip, &is, &ilen, &ws);
		ot = next_tok(out, out_len, &op, &os, &olen, &ws);
		if (ws || it != ot)
			abort();
		if (it == TOK_STRING) {
			decode(&a, in + is, ilen);
			decode(&b, out + os, olen);
			if (a.len != b.len ||
			    (a.len && memcmp(a.data, b.data, a.len)))
				abort();
		} else if (ilen != olen || memcmp(in + is, out + os, ilen)) {
			abort();
		}
	} while (it != TOK_END);
	buf_release(&a);
	buf_release(&b);
}

/* The top-level keys that were recorded must line up with the text. */
static void
check_keys(const char *in, size_t len, const struct buf *out)
{
	struct json_keys keys = { NULL, 0, 0 };
	struct json_error err;
	struct buf again;
	size_t pos = 0, i, k, span;

	buf_init(&again, 0);
	if (json_compact_value(in, len, &pos, &again, &keys, &err) < 0 ||
	    again.len != out->len || memcmp(again.data, out->data, out->len))
		abort();
	if (json_value_span(out->data, out->len) != out->len)
		abort();
	if (out->data[0] != '{' && keys.n)
		abort();
	for (i = 0; i < keys.n; i++) {
		k = keys.off[i];
		if (k >= out->len || out->data[k] != '"' ||
		    (out->data[k - 1] != '{' && out->data[k - 1] != ','))
			abort();
		span = json_value_span(out->data + k, out->len - k);
		k += span;
		if (k >= out->len || out->data[k] != ':')
			abort();
		k++;
		span = json_value_span(out->data + k, out->len - k);
		k += span;
		if (k >= out->len || (out->data[k] != ',' &&
		    out->data[k] != '}'))
			abort();
		if (i + 1 < keys.n ? keys.off[i + 1] != k + 1 :
		    k + 1 != out->len)
			abort();
	}
	json_keys_release(&keys);
	buf_release(&again);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data;
	struct json_error err;
	struct buf out, again;

	buf_init(&out, 0);
	buf_init(&again, 0);
	if (json_compact(in, size, &out, &err) == 0) {
		if (out.len > size || strlen(out.data) != out.len)
			abort();
		if (json_compact(out.data, out.len, &again, &err) != 0 ||
		    again.len != out.len ||
		    memcmp(again.data, out.data, out.len) != 0)
			abort();
		check_tokens(in, size, out.data, out.len);
		check_keys(in, size, &out);
	} else if (err.offset > size || !err.what) {
		abort();
	}
	buf_release(&out);
	buf_release(&again);
	return 0;
}

/*
 * JSON helpers that work on text rather than on a tree.  The scanner here
 * checks one JSON value (syntax and UTF-8) and copies it out in compact
 * form, byte for byte apart from the white space it drops: numbers keep
 * their exact digits, strings keep their escapes, objects keep their key
 * order.  Nesting depth is limited only by JSON_MAX_DEPTH.  json-c is
 * used elsewhere for small documents such as config files; it would clamp
 * large integers and reorder nothing, but the hot path never builds a tree.
 */
#ifndef COMMON_JSON_H
#define COMMON_JSON_H

#include <stddef.h>

#include "buf.h"

#define JSON_MAX_DEPTH 100000

struct json_error {
	size_t offset;		/* byte offset of the problem in the input */
	const char *what;	/* static text, e.g. "invalid UTF-8 in string" */
};

/*
 * Offsets, in the output buffer, of the keys of the outermost object that
 * json_compact_value() copied; lets a caller look at top-level members
 * without scanning the text again.  Owned by the caller; json_keys_release
 * frees the array.
 */
struct json_keys {
	size_t *off;
	size_t n;
	size_t cap;
};

void json_keys_release(struct json_keys *keys);

/*
 * Check the JSON value that starts at or after in[*pos] (white space is
 * skipped) and append its compact form to `out`.  On success *pos is just
 * past the value and 0 is returned.  On failure -1 is returned, `err` says
 * what and where, and `out` may hold a partial copy past its old length.
 * When `keys` is not NULL and the value is an object, the offsets of its
 * top-level keys are recorded there (after resetting keys->n).
 */
int json_compact_value(const char *in, size_t len, size_t *pos,
    struct buf *out, struct json_keys *keys, struct json_error *err);

/* Like json_compact_value() for a whole text: one value, nothing after. */
int json_compact(const char *in, size_t len, struct buf *out,
    struct json_error *err);

/* Index of the first byte at or after `pos` that is not JSON white space. */
size_t json_skip_ws(const char *in, size_t len, size_t pos);

/*
 * Decode a string literal, quotes included, as found in compact text that
 * has already been checked.  Appends the UTF-8 text (no NUL is counted in
 * the length, but one follows it).  A lone surrogate escape becomes U+FFFD.
 */
int json_string_decode(struct buf *out, const char *lit, size_t len);

/*
 * Append `s` (UTF-8) as a JSON string literal: quotes, backslashes and
 * control characters are escaped, everything else is written as is.
 */
int json_string_encode(struct buf *out, const char *s, size_t len);

/*
 * Does the string literal `lit` (quotes included) decode to `name`?
 * Literals without escapes are compared directly.
 */
int json_string_equals(const char *lit, size_t len, const char *name,
    size_t name_len);

/*
 * Length of the compact value at the start of `s` (already checked text),
 * e.g. to step over one member's value.
 */
size_t json_value_span(const char *s, size_t len);

/*
 * Python's idea of falsehood for a compact value: null, false, 0 (in any
 * spelling), "", [] and {} are false; everything else is true.
 */
int json_is_falsy(const char *s, size_t len);

#endif

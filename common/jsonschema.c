/*
 * JSON Schema draft 4 validation.  jsonschema_new() reads the schema into
 * a tree, resolves ids and $refs, and compiles every subschema into a
 * struct sch of ready-made checks (names in a hash table, patterns as
 * POSIX regexes, bounds as decimal spans).  jsonschema_validate() reads
 * the value into a reused tree and walks both; no check uses floating
 * point, since numbers are compared as decimal digit strings.
 */
#include "jsonschema.h"

#include <limits.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "json.h"

/* Bytes in each block of an arena; bigger requests get their own block. */
#define ARENA_BLOCK 16384

/* Past this many names a schema looks them up in a hash table. */
#define NAMES_LINEAR 8

/* Arrays up to this size are checked for duplicates pairwise. */
#define UNIQUE_PAIRWISE 16

/* The draft 4 meta-schema, the only document outside a schema we know. */
#define META_URI "http://json-schema.org/draft-04/schema"

/*
 * Blocks of memory handed out in order and freed all at once: the
 * compiled schema lives in one, the scratch space of a validation in
 * another that is emptied at the start of each call.
 */
struct arena_block {
	struct arena_block *next;
	size_t size;
	max_align_t data[];
};

struct arena {
	struct arena_block *head;
	size_t used;		/* bytes handed out from head */
};

static void *
arena_alloc(struct arena *a, size_t n)
{
	struct arena_block *b = a->head;
	size_t size;

	n = (n + sizeof(max_align_t) - 1) & ~(sizeof(max_align_t) - 1);
	if (b && b->size - a->used >= n) {
		a->used += n;
		return (char *)b->data + a->used - n;
	}
	size = n > ARENA_BLOCK ? n : ARENA_BLOCK;
	b = malloc(sizeof(*b) + size);
	if (!b)
		return NULL;
	b->size = size;
	b->next = a->head;
	a->head = b;
	a->used = n;
	return b->data;
}

static void *
arena_zalloc(struct arena *a, size_t n)
{
	void *p = arena_alloc(a, n);

	if (p)
		memset(p, 0, n);
	return p;
}

/* A NUL-terminated copy of `n` bytes of `s`. */
static char *
arena_strndup(struct arena *a, const char *s, size_t n)
{
	char *p = arena_alloc(a, n + 1);

	if (p) {
		memcpy(p, s, n);
		p[n] = '\0';
	}
	return p;
}

/* Keep only the newest block, empty, for the next round. */
static void
arena_reset(struct arena *a)
{
	struct arena_block *b, *next;

	if (!a->head)
		return;
	for (b = a->head->next; b; b = next) {
		next = b->next;
		free(b);
	}
	a->head->next = NULL;
	a->used = 0;
}

static void
arena_release(struct arena *a)
{
	arena_reset(a);
	free(a->head);
	a->head = NULL;
	a->used = 0;
}

/* The value tree. */

void
jsonschema_tree_init(struct jsonschema_tree *t)
{
	memset(t, 0, sizeof(*t));
}

void
jsonschema_tree_release(struct jsonschema_tree *t)
{
	if (!t)
		return;
	free(t->node);
	free(t->stack);
	jsonschema_tree_init(t);
}

static const unsigned char ws_byte[256] = {
	[' '] = 1, ['\t'] = 1, ['\n'] = 1, ['\r'] = 1
};

static size_t
skip_ws(const char *s, size_t len, size_t p)
{
	while (p < len && ws_byte[(unsigned char)s[p]])
		p++;
	return p;
}

/*
 * Index just past the string literal that starts at s[p], or 0 when it
 * is not closed; *escaped is set when it holds a backslash.  Eight bytes
 * at a time look for a quote or a backslash: a byte b of word w is one
 * when (x - 0x01..) & ~x & 0x80.. has its top bit, x = w ^ (b * 0x01..),
 * and the lowest such bit is exact.
 */
static size_t
string_end(const char *s, size_t len, size_t p, int *escaped)
{
	const uint64_t ones = 0x0101010101010101ULL, high = ones << 7;
	uint64_t w, q, b;

	for (p++; p < len; p++) {
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
		while (len - p >= 8) {
			memcpy(&w, s + p, 8);
			q = w ^ (ones * '"');
			b = w ^ (ones * '\\');
			q = ((q - ones) & ~q & high) | ((b - ones) & ~b & high);
			if (q) {
				p += (size_t)__builtin_ctzll(q) >> 3;
				break;
			}
			p += 8;
		}
		if (p >= len)
			return 0;
#endif
		if (s[p] == '"')
			return p + 1;
		if (s[p] == '\\') {
			*escaped = 1;
			p++;
		}
	}
	return 0;
}

/* Bytes that may appear in a JSON number. */
static const unsigned char number_byte[256] = {
	['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1,
	['6'] = 1, ['7'] = 1, ['8'] = 1, ['9'] = 1, ['-'] = 1, ['+'] = 1,
	['.'] = 1, ['e'] = 1, ['E'] = 1
};

static size_t
number_end(const char *s, size_t len, size_t p)
{
	while (p < len && number_byte[(unsigned char)s[p]])
		p++;
	return p;
}

static size_t
literal_end(const char *s, size_t len, size_t p, const char *word)
{
	size_t n = strlen(word);

	return len - p >= n && memcmp(s + p, word, n) == 0 ? p + n : 0;
}

/* Append a node for the value at `off`; its index, or -1. */
static long
tree_add(struct jsonschema_tree *t, size_t off, uint32_t key_off,
    uint32_t key_len, uint32_t escapes)
{
	struct jsonschema_node *nd;

	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 256;

		if (cap >= UINT32_MAX)
			return -1;
		nd = realloc(t->node, cap * sizeof(*nd));
		if (!nd)
			return -1;
		t->node = nd;
		t->cap = cap;
	}
	nd = &t->node[t->n];
	nd->type = JSONSCHEMA_NULL;
	nd->count = 0;
	nd->end = (uint32_t)t->n + 1;
	nd->off = (uint32_t)off;
	nd->len = 0;
	nd->key_off = key_off;
	nd->key_len = key_len;
	nd->escapes = escapes;
	return (long)t->n++;
}

static int
tree_open(struct jsonschema_tree *t, size_t depth, uint32_t i)
{
	if (depth == t->stack_cap) {
		size_t cap = t->stack_cap ? t->stack_cap * 2 : 32;
		uint32_t *p;

		if (cap > JSON_MAX_DEPTH)
			return -1;
		p = realloc(t->stack, cap * sizeof(*p));
		if (!p)
			return -1;
		t->stack = p;
		t->stack_cap = cap;
	}
	t->stack[depth] = i;
	return 0;
}

/*
 * Scalars get their span at once; a container gets its length and `end`
 * when it closes.  Only the structure is checked: the text is meant to
 * come out of json_compact() or another checking reader.  Like the
 * scanner in json.c this is one function whose labels are the states of
 * the scan (a value, a key, what follows a value), so it runs past 80
 * lines rather than pass its whole state between pieces.
 */
int
jsonschema_tree_parse(struct jsonschema_tree *t, const char *s, size_t len)
{
	struct jsonschema_node *nd, *top;
	size_t p = 0, q, depth = 0;
	uint32_t key_off = 0, key_len = 0;
	int escaped = 0, key_escaped = 0;
	long i;

	t->text = s;
	t->n = 0;
	if (len >= UINT32_MAX)
		return -1;

value:
	p = skip_ws(s, len, p);
	if (p >= len)
		return 1;
	i = tree_add(t, p, key_off, key_len,
	    key_escaped ? JSONSCHEMA_ESCAPED_KEY : 0);
	if (i < 0)
		return -1;
	key_off = key_len = 0;
	key_escaped = 0;
	if (depth)
		t->node[t->stack[depth - 1]].count++;
	nd = &t->node[i];
	switch (s[p]) {
	case '{':
	case '[':
		nd->type = s[p] == '{' ? JSONSCHEMA_OBJECT : JSONSCHEMA_ARRAY;
		if (tree_open(t, depth, (uint32_t)i) < 0)
			return -1;
		depth++;
		p = skip_ws(s, len, p + 1);
		if (p < len && s[p] == (s[nd->off] == '{' ? '}' : ']'))
			goto close;
		if (nd->type == JSONSCHEMA_OBJECT)
			goto key;
		goto value;
	case '"':
		nd->type = JSONSCHEMA_STRING;
		escaped = 0;
		q = string_end(s, len, p, &escaped);
		nd->escapes |= escaped ? JSONSCHEMA_ESCAPED_VALUE : 0;
		break;
	case 't':
		nd->type = JSONSCHEMA_TRUE;
		q = literal_end(s, len, p, "true");
		break;
	case 'f':
		nd->type = JSONSCHEMA_FALSE;
		q = literal_end(s, len, p, "false");
		break;
	case 'n':
		nd->type = JSONSCHEMA_NULL;
		q = literal_end(s, len, p, "null");
		break;
	default:
		nd->type = JSONSCHEMA_NUMBER;
		q = number_end(s, len, p);
		if (q == p)
			q = 0;
	}
	if (!q)
		return 1;
	nd->len = (uint32_t)(q - p);
	p = q;

after:
	p = skip_ws(s, len, p);
	if (depth == 0)
		return p == len ? 0 : 1;
	if (p >= len)
		return 1;
	top = &t->node[t->stack[depth - 1]];
	if (s[p] == ',') {
		p++;
		if (top->type == JSONSCHEMA_OBJECT)
			goto key;
		goto value;
	}
	if (s[p] != (top->type == JSONSCHEMA_OBJECT ? '}' : ']'))
		return 1;
close:
	top = &t->node[t->stack[--depth]];
	top->len = (uint32_t)(p + 1 - top->off);
	top->end = (uint32_t)t->n;
	p++;
	goto after;

key:
	p = skip_ws(s, len, p);
	if (p >= len || s[p] != '"')
		return 1;
	q = string_end(s, len, p, &key_escaped);
	if (!q)
		return 1;
	key_off = (uint32_t)p;
	key_len = (uint32_t)(q - p);
	p = skip_ws(s, len, q);
	if (p >= len || s[p] != ':')
		return 1;
	p++;
	goto value;
}

long
jsonschema_tree_member(const struct jsonschema_tree *t, size_t obj,
    const char *name)
{
	const struct jsonschema_node *o = &t->node[obj];
	size_t c = obj + 1, k, n = strlen(name);

	if (o->type != JSONSCHEMA_OBJECT)
		return -1;
	for (k = 0; k < o->count; k++, c = t->node[c].end)
		if (json_string_equals(t->text + t->node[c].key_off,
		    t->node[c].key_len, name, n))
			return (long)c;
	return -1;
}

/*
 * Exact decimal numbers.  A number is read as its significant digits (no
 * leading or trailing zeros) and the power of ten of the last of them, so
 * 1.50, 15e-1 and 0.15e1 all become digits "15" with exponent -1.  The
 * digits stay in the text: they may straddle the decimal point, which
 * dec_next() steps over.
 */
struct dec {
	const char *first;	/* first significant digit; NULL for zero */
	size_t n;		/* significant digits; 0 for zero */
	int64_t exp;		/* power of ten of its last digit */
	int neg;
};

/* Exponents are clamped here; the text cannot hold 2^60 digits anyway. */
#define DEC_EXP_MAX ((int64_t)1 << 60)

static int
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Read the exponent that follows an 'e'; clamped to +/-DEC_EXP_MAX. */
static int64_t
dec_exponent(const char *s, const char *end)
{
	int64_t e = 0;
	int neg = 0;

	if (s < end && (*s == '+' || *s == '-'))
		neg = *s++ == '-';
	for (; s < end && is_digit(*s); s++)
		e = e > DEC_EXP_MAX / 10 ? DEC_EXP_MAX : e * 10 + (*s - '0');
	if (e > DEC_EXP_MAX)
		e = DEC_EXP_MAX;
	return neg ? -e : e;
}

static void
dec_parse(struct dec *d, const char *s, size_t len)
{
	const char *end = s + len, *p = s, *ib, *ie, *fb, *fe, *first, *last;
	int64_t e = 0, place;

	d->neg = p < end && *p == '-';
	p += d->neg;
	for (ib = p; p < end && is_digit(*p); p++)
		;
	ie = fb = fe = p;
	if (p < end && *p == '.') {
		for (fb = ++p; p < end && is_digit(*p); p++)
			;
		fe = p;
	}
	if (p < end && (*p == 'e' || *p == 'E'))
		e = dec_exponent(p + 1, end);

	for (first = ib; first < ie && *first == '0'; first++)
		;
	if (first == ie)
		for (first = fb; first < fe && *first == '0'; first++)
			;
	for (last = fe; last > fb && last[-1] == '0'; last--)
		;
	if (last == fb)
		for (last = ie; last > ib && last[-1] == '0'; last--)
			;
	if (first == ie || first == fe || last == ib) {
		d->first = NULL;
		d->n = 0;
		d->exp = 0;
		return;
	}
	last--;
	d->first = first;
	if (last >= fb) {
		place = -(int64_t)(last - fb + 1);
		d->n = (size_t)(last - first + 1) - (first < ie);
	} else {
		place = (int64_t)(ie - last - 1);
		d->n = (size_t)(last - first + 1);
	}
	d->exp = e + place;
}

/* The digit after the one at p, stepping over a decimal point. */
static const char *
dec_next(const char *p)
{
	p++;
	return *p == '.' ? p + 1 : p;
}

static int
dec_cmp_abs(const struct dec *a, const struct dec *b)
{
	int64_t ta = a->exp + (int64_t)a->n, tb = b->exp + (int64_t)b->n;
	const char *pa = a->first, *pb = b->first;
	size_t k, n = a->n < b->n ? a->n : b->n;

	if (ta != tb)
		return ta < tb ? -1 : 1;
	for (k = 0; k < n; k++) {
		if (*pa != *pb)
			return *pa < *pb ? -1 : 1;
		if (k + 1 < n) {
			pa = dec_next(pa);
			pb = dec_next(pb);
		}
	}
	return (a->n > b->n) - (a->n < b->n);
}

static int
dec_sign(const struct dec *d)
{
	return d->n == 0 ? 0 : d->neg ? -1 : 1;
}

static int
dec_cmp(const struct dec *a, const struct dec *b)
{
	int sa = dec_sign(a), sb = dec_sign(b), c;

	if (sa != sb)
		return sa < sb ? -1 : 1;
	if (sa == 0)
		return 0;
	c = dec_cmp_abs(a, b);
	return sa < 0 ? -c : c;
}

static int
dec_is_int(const struct dec *d)
{
	return d->n == 0 || d->exp >= 0;
}

/* Is the number text an integer?  Plain digits need no parsing. */
static int
number_is_int(const char *s, size_t len)
{
	struct dec d;
	size_t i;

	for (i = 0; i < len && s[i] != '.' && (s[i] | 0x20) != 'e'; i++)
		;
	if (i == len)
		return 1;
	dec_parse(&d, s, len);
	return dec_is_int(&d);
}

/* (digits of v, then `zeros` zeros) mod (digits of m), m of <= 18 digits */
static uint64_t
dec_mod_small(const struct dec *v, const struct dec *m, int64_t zeros)
{
	const char *p = m->first;
	uint64_t dm = 0, r = 0;
	size_t k;

	for (k = 0; k < m->n; k++, p = k < m->n ? dec_next(p) : p)
		dm = dm * 10 + (uint64_t)(*p - '0');
	p = v->first;
	for (k = 0; k < v->n; k++, p = k < v->n ? dec_next(p) : p)
		r = (r * 10 + (uint64_t)(*p - '0')) % dm;
	for (; zeros > 0; zeros--)
		r = r * 10 % dm;
	return r;
}

/* r = r * 10 + d, then reduced below dm; both have `n` digits. */
static void
big_step(unsigned char *r, const unsigned char *dm, size_t n, int d)
{
	size_t i;
	int borrow;

	memmove(r, r + 1, n - 1);
	r[n - 1] = (unsigned char)d;
	for (;;) {
		if (memcmp(r, dm, n) < 0)
			return;
		borrow = 0;
		for (i = n; i-- > 0;) {
			int x = r[i] - dm[i] - borrow;

			borrow = x < 0;
			r[i] = (unsigned char)(x + (borrow ? 10 : 0));
		}
	}
}

/* As dec_mod_small() for any divisor: 1 when the remainder is 0, -1 OOM. */
static int
dec_mod_big_zero(const struct dec *v, const struct dec *m, int64_t zeros)
{
	size_t n = m->n + 1, k;
	unsigned char *r = calloc(2, n), *dm = r + n;
	const char *p = m->first;
	int zero = 1;

	if (!r)
		return -1;
	for (k = 0; k < m->n; k++, p = k < m->n ? dec_next(p) : p)
		dm[k + 1] = (unsigned char)(*p - '0');
	p = v->first;
	for (k = 0; k < v->n; k++, p = k < v->n ? dec_next(p) : p)
		big_step(r, dm, n, *p - '0');
	for (; zeros > 0; zeros--)
		big_step(r, dm, n, 0);
	for (k = 0; k < n; k++)
		zero &= r[k] == 0;
	free(r);
	return zero;
}

/*
 * Is v a whole multiple of m (m > 0)?  With v = V * 10^a and m = M * 10^b
 * (V and M without trailing zeros) it is when a >= b and V * 10^(a-b) is
 * divisible by M.  Once a - b reaches the powers of 2 and 5 in M, more
 * zeros change nothing, so a - b is cut to 4 * digits(M) + 4 first.
 * Returns 1, 0, or -1 when memory runs out.
 */
static int
dec_is_multiple(const struct dec *v, const struct dec *m)
{
	int64_t zeros, cap = 4 * (int64_t)m->n + 4;

	if (v->n == 0)
		return 1;
	if (v->exp < m->exp)
		return 0;
	zeros = v->exp - m->exp;
	if (zeros > cap)
		zeros = cap;
	if (m->n <= 18)
		return dec_mod_small(v, m, zeros) == 0;
	return dec_mod_big_zero(v, m, zeros);
}

/* Strings. */

/* Hex digits, each stored as its value plus one. */
static const unsigned char hex_digit[256] = {
	['0'] = 1, ['1'] = 2, ['2'] = 3, ['3'] = 4, ['4'] = 5, ['5'] = 6,
	['6'] = 7, ['7'] = 8, ['8'] = 9, ['9'] = 10,
	['a'] = 11, ['b'] = 12, ['c'] = 13, ['d'] = 14, ['e'] = 15, ['f'] = 16,
	['A'] = 11, ['B'] = 12, ['C'] = 13, ['D'] = 14, ['E'] = 15, ['F'] = 16
};

static int
hex_value(char c)
{
	return hex_digit[(unsigned char)c] - 1;
}

static unsigned
hex4(const char *s)
{
	return (unsigned)(hex_value(s[0]) << 12 | hex_value(s[1]) << 8 |
	    hex_value(s[2]) << 4 | hex_value(s[3]));
}

/* Code points in a string literal (quotes included); a pair counts once. */
static size_t
string_length(const char *lit, size_t len)
{
	size_t i = 1, end = len - 1, n = 0;
	unsigned cp;

	while (i < end) {
		if (lit[i] != '\\') {
			n += ((unsigned char)lit[i] & 0xC0) != 0x80;
			i++;
			continue;
		}
		n++;
		if (lit[i + 1] != 'u') {
			i += 2;
			continue;
		}
		cp = hex4(lit + i + 2);
		i += 6;
		if (cp >= 0xD800 && cp <= 0xDBFF && i + 6 <= end &&
		    lit[i] == '\\' && lit[i + 1] == 'u' &&
		    hex4(lit + i + 2) >= 0xDC00 && hex4(lit + i + 2) <= 0xDFFF)
			i += 6;
	}
	return n;
}

static int
has_escape(const char *lit, size_t len)
{
	return memchr(lit, '\\', len) != NULL;
}

/*
 * The decoded bytes of a string literal: a span of the literal itself
 * when it holds no escape (`escaped` says whether it does), else a
 * decoding in `scratch`.  0 or -1.
 */
static int
string_view(struct buf *scratch, const char *lit, size_t len, int escaped,
    const char **out, size_t *out_len)
{
	if (!escaped) {
		*out = lit + 1;
		*out_len = len - 2;
		return 0;
	}
	buf_reset(scratch);
	if (json_string_decode(scratch, lit, len) < 0 || buf_grow(scratch, 1))
		return -1;
	*out = scratch->data;
	*out_len = scratch->len;
	return 0;
}

/* Like string_view() but always NUL-terminated, in `scratch`. */
static const char *
string_cstr(struct buf *scratch, const char *lit, size_t len, int escaped)
{
	buf_reset(scratch);
	if (!escaped) {
		if (buf_append(scratch, lit + 1, len - 2) < 0)
			return NULL;
	} else if (json_string_decode(scratch, lit, len) < 0) {
		return NULL;
	}
	return scratch->data ? scratch->data : "";
}

/* FNV-1a, for names and for hashing values. */
static uint64_t
hash_bytes(uint64_t h, const void *p, size_t n)
{
	const unsigned char *s = p;

	while (n--)
		h = (h ^ *s++) * 0x100000001b3ULL;
	return h;
}

#define HASH_SEED 0xcbf29ce484222325ULL

static uint64_t
hash_mix(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb93fe51a87d3ULL;
	return h ^ (h >> 33);
}

/* The compiled schema. */

enum {
	T_NULL = 1 << 0,
	T_BOOLEAN = 1 << 1,
	T_INTEGER = 1 << 2,
	T_NUMBER = 1 << 3,
	T_STRING = 1 << 4,
	T_ARRAY = 1 << 5,
	T_OBJECT = 1 << 6
};

static const char *const type_names[] = {
	"null", "boolean", "integer", "number", "string", "array", "object"
};

enum format {
	FMT_NONE,
	FMT_DATE_TIME,
	FMT_DATE,
	FMT_TIME,
	FMT_EMAIL,
	FMT_IPV4,
	FMT_IPV6,
	FMT_HOSTNAME,
	FMT_URI,
	FMT_UUID
};

static const char *const format_names[] = {
	"", "date-time", "date", "time", "email", "ipv4", "ipv6", "hostname",
	"uri", "uuid"
};

/* Which groups of checks a schema has, so the rest are skipped quickly. */
enum {
	HAS_OBJECT = 1 << 0,
	HAS_ARRAY = 1 << 1,
	HAS_NUMBER = 1 << 2,
	HAS_STRING = 1 << 3,
	HAS_ENUM = 1 << 4,
	HAS_LOGIC = 1 << 5,
	HAS_MIN = 1 << 6,
	HAS_MAX = 1 << 7,
	EXCL_MIN = 1 << 8,
	EXCL_MAX = 1 << 9,
	HAS_MULTIPLE = 1 << 10,
	UNIQUE = 1 << 11,
	NO_MORE_PROPS = 1 << 12,	/* additionalProperties: false */
	NO_MORE_ITEMS = 1 << 13,	/* additionalItems: false */
	ITEM_LIST = 1 << 14,		/* items is an array */
	EXCL_MIN_KW = 1 << 15,		/* exclusiveMinimum is present */
	EXCL_MAX_KW = 1 << 16
};

struct sch;

/*
 * A property name the schema mentions (in properties, required or
 * dependencies), decoded and NUL-terminated.
 */
struct name {
	const char *s;
	size_t len;
	uint64_t hash;
	struct sch *prop;	/* from properties, or NULL */
	struct dep *dep;	/* from dependencies, or NULL */
};

struct dep {
	struct sch *schema;	/* schema form, or NULL */
	uint32_t *names;	/* array form: indexes into the names */
	uint32_t n;
};

struct pattern {
	regex_t re;
	const char *src;	/* as written in the schema */
	struct sch *schema;	/* for patternProperties */
};

struct sch {
	unsigned flags;
	unsigned types;		/* T_ bits; 0 when `type` is absent */
	struct sch *ref;	/* $ref: nothing else applies */
	const char *ref_uri;	/* absolute, until resolved */
	int doc;		/* where it was written */
	uint32_t node;
	int mark;		/* for the cycle search */

	struct name *names;
	uint32_t nnames;
	uint32_t *table;	/* hash table of name index + 1, or NULL */
	uint32_t table_mask;
	uint32_t *required;
	uint32_t nrequired;
	uint32_t *deps;		/* names with dependencies */
	uint32_t ndeps;
	struct pattern **pprops;
	uint32_t npprops;
	struct sch *more_props;	/* additionalProperties as a schema */
	size_t min_props, max_props;

	struct sch *items;	/* a schema, or with ITEM_LIST a list */
	struct sch **item_list;
	uint32_t nitem_list;
	struct sch *more_items;	/* additionalItems as a schema */
	size_t min_items, max_items;

	struct dec minimum, maximum, multiple;
	const char *min_text, *max_text, *multiple_text;
	int min_len_text, max_len_text, multiple_len_text;

	size_t min_length, max_length;
	struct pattern *pattern;
	enum format format;

	uint32_t enum_node;	/* in the tree of `doc` */
	struct sch **all_of, **any_of, **one_of, *not;
	uint32_t nall_of, nany_of, none_of;
};

/* One JSON document the schema is made of: its own text, or the meta. */
struct doc {
	char *text;
	struct jsonschema_tree tree;
	struct sch **memo;	/* compiled schema of each node, or NULL */
};

/* A subschema that an id names. */
struct id_entry {
	const char *uri;	/* absolute, without an empty fragment */
	int doc;
	uint32_t node;
	const char *base;	/* base URI the node sits in, before its id */
};

/* One step of the path to the value being checked. */
struct path_step {
	uint32_t node;
	uint32_t index;		/* in an array, else UINT32_MAX */
};

struct jsonschema {
	struct arena arena;
	struct doc docs[2];
	int ndocs;
	struct sch *root;

	struct id_entry *ids;
	size_t nids, ids_cap;
	struct sch **all;	/* every compiled schema */
	size_t nall, all_cap;
	size_t resolved;	/* schemas in `all` whose $ref is done */
	struct pattern **patterns;
	size_t npatterns, patterns_cap;
	char *err;
	size_t errsz;

	/* Scratch space of jsonschema_validate(). */
	struct jsonschema_tree value;
	struct arena scratch;
	struct path_step *path;
	size_t npath, path_cap;
	struct buf key, sa, sb, msg, where;
	const char *keyword;
};

/* What one validation carries around. */
struct vctx {
	struct jsonschema *s;
	const struct jsonschema_tree *t;
	unsigned depth;
	int quiet;		/* > 0 inside anyOf, oneOf and not */
	int too_deep;		/* once set, everything fails */
	int oom;		/* set when hashing ran out of memory */
};

/* JSON equality and hashing over trees. */

static const char *
node_text(const struct jsonschema_tree *t, uint32_t i)
{
	return t->text + t->node[i].off;
}

/* Do two string literals decode to the same text?  1, 0 or -1. */
static int
string_equal(struct vctx *c, const char *a, size_t alen, int aesc,
    const char *b, size_t blen, int besc)
{
	const char *da, *db;
	size_t na, nb;

	if (!aesc && !besc)
		return alen == blen && memcmp(a, b, alen) == 0;
	if (string_view(&c->s->sa, a, alen, aesc, &da, &na) < 0 ||
	    string_view(&c->s->sb, b, blen, besc, &db, &nb) < 0)
		return -1;
	return na == nb && memcmp(da, db, na) == 0;
}

static int json_equal(struct vctx *c, const struct jsonschema_tree *ta,
    uint32_t a, const struct jsonschema_tree *tb, uint32_t b,
    unsigned depth);

static int
object_equal(struct vctx *c, const struct jsonschema_tree *ta, uint32_t a,
    const struct jsonschema_tree *tb, uint32_t b, unsigned depth)
{
	uint32_t i, j, ki, kj, n = ta->node[a].count;
	int r = 1;

	for (i = a + 1, ki = 0; r == 1 && ki < n; ki++, i = ta->node[i].end) {
		r = 0;
		for (j = b + 1, kj = 0; kj < n; kj++, j = tb->node[j].end) {
			r = string_equal(c, ta->text + ta->node[i].key_off,
			    ta->node[i].key_len,
			    ta->node[i].escapes & JSONSCHEMA_ESCAPED_KEY,
			    tb->text + tb->node[j].key_off,
			    tb->node[j].key_len,
			    tb->node[j].escapes & JSONSCHEMA_ESCAPED_KEY);
			if (r != 0)
				break;
		}
		if (r == 1)
			r = json_equal(c, ta, i, tb, j, depth + 1);
	}
	return r;
}

/* 1 equal, 0 not, -1 out of memory.  Too deep counts as not equal. */
static int
json_equal(struct vctx *c, const struct jsonschema_tree *ta, uint32_t a,
    const struct jsonschema_tree *tb, uint32_t b, unsigned depth)
{
	const struct jsonschema_node *na = &ta->node[a], *nb = &tb->node[b];
	struct dec da, db;
	uint32_t i, j, k;
	int r;

	if (na->type != nb->type)
		return 0;
	if (depth > JSONSCHEMA_MAX_DEPTH) {
		c->too_deep = 1;
		return 0;
	}
	switch (na->type) {
	case JSONSCHEMA_NUMBER:
		dec_parse(&da, node_text(ta, a), na->len);
		dec_parse(&db, node_text(tb, b), nb->len);
		return dec_cmp(&da, &db) == 0;
	case JSONSCHEMA_STRING:
		return string_equal(c, node_text(ta, a), na->len,
		    na->escapes & JSONSCHEMA_ESCAPED_VALUE,
		    node_text(tb, b), nb->len,
		    nb->escapes & JSONSCHEMA_ESCAPED_VALUE);
	case JSONSCHEMA_ARRAY:
		if (na->count != nb->count)
			return 0;
		for (i = a + 1, j = b + 1, k = 0; k < na->count; k++) {
			r = json_equal(c, ta, i, tb, j, depth + 1);
			if (r != 1)
				return r;
			i = ta->node[i].end;
			j = tb->node[j].end;
		}
		return 1;
	case JSONSCHEMA_OBJECT:
		if (na->count != nb->count)
			return 0;
		return object_equal(c, ta, a, tb, b, depth);
	default:
		return 1;
	}
}

/*
 * A hash that equal values share: numbers by their normalised digits,
 * strings by their decoded bytes, objects whatever their key order.
 */
static uint64_t
json_hash(struct vctx *c, const struct jsonschema_tree *t, uint32_t v,
    unsigned depth)
{
	const struct jsonschema_node *n = &t->node[v];
	uint64_t h = HASH_SEED + n->type, sum = 0;
	const char *s;
	struct dec d;
	uint32_t i, k;
	size_t len;

	if (depth > JSONSCHEMA_MAX_DEPTH) {
		c->too_deep = 1;
		return h;
	}
	switch (n->type) {
	case JSONSCHEMA_NUMBER:
		dec_parse(&d, node_text(t, v), n->len);
		h = hash_bytes(h, &d.exp, sizeof(d.exp)) +
		    (uint64_t)dec_sign(&d);
		for (k = 0, s = d.first; k < d.n; k++) {
			h = hash_bytes(h, s, 1);
			if (k + 1 < d.n)
				s = dec_next(s);
		}
		return h;
	case JSONSCHEMA_STRING:
		if (string_view(&c->s->sa, node_text(t, v), n->len,
		    n->escapes & JSONSCHEMA_ESCAPED_VALUE, &s, &len) < 0) {
			c->oom = 1;
			return h;
		}
		return hash_bytes(h, s, len);
	case JSONSCHEMA_ARRAY:
		for (i = v + 1, k = 0; k < n->count; k++, i = t->node[i].end)
			h = hash_mix(h ^ json_hash(c, t, i, depth + 1));
		return h;
	case JSONSCHEMA_OBJECT:
		for (i = v + 1, k = 0; k < n->count; k++, i = t->node[i].end) {
			if (string_view(&c->s->sa, t->text + t->node[i].key_off,
			    t->node[i].key_len, t->node[i].escapes &
			    JSONSCHEMA_ESCAPED_KEY, &s, &len) < 0) {
				c->oom = 1;
				return h;
			}
			sum += hash_mix(hash_bytes(HASH_SEED, s, len) ^
			    json_hash(c, t, i, depth + 1));
		}
		return hash_mix(h ^ sum);
	default:
		return h;
	}
}

/*
 * Patterns.  Schemas hold ECMA 262 regular expressions; they are turned
 * into POSIX extended ones for regcomp().  With REG_NOSUB only whether a
 * match exists counts, so lazy quantifiers can drop their '?' and (?:...)
 * can become a plain group.  \d, \w, \s and their negations become
 * bracket expressions (ASCII classes, as in ECMA 262 for \d and \w), and
 * character escapes become the characters themselves.  What POSIX cannot
 * say (lookaround, backreferences) makes the schema invalid.
 *
 * In a single-byte locale (the C locale, which the programs run in)
 * regcomp() sees bytes, not characters, so a character beyond ASCII is
 * spelled out as its UTF-8 bytes: '.' becomes "one ASCII byte, or a lead
 * byte and its continuation bytes", and ranges beyond ASCII become
 * alternatives of byte ranges.  A multibyte locale gets the characters
 * themselves.
 */
struct rx {
	struct buf out;
	const char *p, *end;
	const char *why;	/* why the pattern cannot be translated */
	int oom;
	int bytes;		/* spell characters beyond ASCII as bytes */
};

/* Any one character beyond ASCII, as UTF-8 bytes. */
#define RX_WIDE "[\xc2-\xf4][\x80-\xbf]+"

/* Members of a bracket expression being translated. */
struct rx_class {
	unsigned char ascii[128];
	struct buf wide;	/* beyond ASCII: pairs of unsigned, lo and hi */
};

static void
rx_put(struct rx *r, const char *s, size_t n)
{
	if (buf_append(&r->out, s, n) < 0)
		r->oom = 1;
}

static void
rx_puts(struct rx *r, const char *s)
{
	rx_put(r, s, strlen(s));
}

static size_t
utf8_encode(char *b, unsigned cp)
{
	if (cp < 0x80) {
		b[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		b[0] = (char)(0xC0 | (cp >> 6));
		b[1] = (char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		b[0] = (char)(0xE0 | (cp >> 12));
		b[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		b[2] = (char)(0x80 | (cp & 0x3F));
		return 3;
	}
	b[0] = (char)(0xF0 | (cp >> 18));
	b[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
	b[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
	b[3] = (char)(0x80 | (cp & 0x3F));
	return 4;
}

/* The code point at p (checked UTF-8); moves p past it. */
static unsigned
utf8_decode(const char **pp, const char *end)
{
	const unsigned char *p = (const unsigned char *)*pp;
	unsigned cp = *p, n = 0, i;

	if (cp >= 0xF0)
		n = 3, cp &= 0x07;
	else if (cp >= 0xE0)
		n = 2, cp &= 0x0F;
	else if (cp >= 0xC0)
		n = 1, cp &= 0x1F;
	if ((const char *)p + n >= end)
		n = 0;
	for (i = 1; i <= n; i++)
		cp = cp << 6 | (p[i] & 0x3F);
	*pp += n + 1;
	return cp;
}

/* Four hex digits at p, or -1. */
static long
hex4_checked(const char *p, const char *end)
{
	int i;

	if (end - p < 4)
		return -1;
	for (i = 0; i < 4; i++)
		if (hex_value(p[i]) < 0)
			return -1;
	return (long)hex4(p);
}

static unsigned
rx_unicode_escape(struct rx *r)
{
	long cp = hex4_checked(r->p, r->end), lo;

	if (cp < 0)
		return 'u';
	r->p += 4;
	if (cp >= 0xD800 && cp <= 0xDBFF && r->end - r->p >= 6 &&
	    r->p[0] == '\\' && r->p[1] == 'u') {
		lo = hex4_checked(r->p + 2, r->end);
		if (lo >= 0xDC00 && lo <= 0xDFFF) {
			r->p += 6;
			return 0x10000 + (((unsigned)cp - 0xD800) << 10) +
			    ((unsigned)lo - 0xDC00);
		}
	}
	return (unsigned)cp;
}

/*
 * The character an escape stands for; r->p is just past the backslash
 * and moves past the escape.  Sets r->why for escapes with no character.
 */
static unsigned
rx_char_escape(struct rx *r, int in_class)
{
	char e = *r->p++;

	switch (e) {
	case 't': return '\t';
	case 'n': return '\n';
	case 'v': return '\v';
	case 'f': return '\f';
	case 'r': return '\r';
	case 'u': return rx_unicode_escape(r);
	case 'x':
		if (r->end - r->p >= 2 && hex_value(r->p[0]) >= 0 &&
		    hex_value(r->p[1]) >= 0) {
			r->p += 2;
			return (unsigned)(hex_value(r->p[-2]) << 4 |
			    hex_value(r->p[-1]));
		}
		return 'x';
	case 'c':
		if (r->p < r->end && ((*r->p | 0x20) >= 'a' &&
		    (*r->p | 0x20) <= 'z'))
			return (unsigned)(*r->p++ & 0x1F);
		r->why = "'\\c' without a letter is not supported";
		return 0;
	case 'b':
		if (in_class)
			return '\b';
		break;
	case 'k': case 'p': case 'P':
		r->why = "named backreferences and Unicode properties are "
		    "not supported";
		return 0;
	}
	if (e >= '0' && e <= '9') {
		r->why = e == '0' ? "NUL characters are not supported" :
		    "backreferences are not supported";
		return 0;
	}
	r->p--;
	return utf8_decode(&r->p, r->end);
}

/* A character outside brackets, escaped when it is special in POSIX. */
static void
rx_literal(struct rx *r, unsigned cp)
{
	char b[4];

	if (cp == 0) {
		r->why = "NUL characters are not supported";
		return;
	}
	if (cp < 0x80) {
		if (strchr(".[\\()*+?{|^$", (int)cp))
			rx_put(r, "\\", 1);
		b[0] = (char)cp;
		rx_put(r, b, 1);
		return;
	}
	/* Grouped, so that a quantifier after it takes all of its bytes. */
	rx_put(r, "(", 1);
	rx_put(r, b, utf8_encode(b, cp));
	rx_put(r, ")", 1);
}

static void
rx_escape(struct rx *r)
{
	static const char *const classes[][3] = {
		{ "d", "[0-9]", "[0-9]" },
		{ "D", "[^0-9]", "([^0-9\x80-\xff]|" RX_WIDE ")" },
		{ "w", "[0-9A-Z_a-z]", "[0-9A-Z_a-z]" },
		{ "W", "[^0-9A-Z_a-z]",
		    "([^0-9A-Z_a-z\x80-\xff]|" RX_WIDE ")" },
		{ "s", "[ \t\n\v\f\r]", "[ \t\n\v\f\r]" },
		{ "S", "[^ \t\n\v\f\r]",
		    "([^ \t\n\v\f\r\x80-\xff]|" RX_WIDE ")" },
	};
	size_t i;
	unsigned cp;

	if (++r->p >= r->end) {
		r->why = "the pattern ends with a backslash";
		return;
	}
	for (i = 0; i < sizeof(classes) / sizeof(classes[0]); i++) {
		if (*r->p == classes[i][0][0]) {
			rx_puts(r, classes[i][r->bytes ? 2 : 1]);
			r->p++;
			return;
		}
	}
	if (*r->p == 'b' || *r->p == 'B') {
#ifdef __GLIBC__
		rx_put(r, r->p - 1, 2);
		r->p++;
#else
		r->why = "word boundaries are not supported";
#endif
		return;
	}
	cp = rx_char_escape(r, 0);
	if (!r->why)
		rx_literal(r, cp);
}

static void
class_add_range(struct rx_class *k, unsigned lo, unsigned hi, int *oom)
{
	unsigned pair[2];

	for (; lo <= hi && lo < 0x80; lo++)
		if (lo)
			k->ascii[lo] = 1;
	if (lo > hi)
		return;
	pair[0] = lo;
	pair[1] = hi;
	if (buf_append(&k->wide, pair, sizeof(pair)) < 0)
		*oom = 1;
}

/* \d, \w, \s or a negation of one inside brackets. */
static void
class_add_escape(struct rx_class *k, char e, int *oom)
{
	int c, in, neg = e >= 'A' && e <= 'Z';

	for (c = 1; c < 0x80; c++) {
		switch (e | 0x20) {
		case 'd':
			in = is_digit((char)c);
			break;
		case 'w':
			in = is_digit((char)c) || c == '_' ||
			    ((c | 0x20) >= 'a' && (c | 0x20) <= 'z');
			break;
		default:
			in = c == ' ' || (c >= '\t' && c <= '\r');
		}
		if (in != neg)
			k->ascii[c] = 1;
	}
	if (neg)
		class_add_range(k, 0x80, 0x10FFFF, oom);
}

/*
 * One member of a bracket expression: a character (*cp) or a class
 * escape (*cls is its letter).
 */
static void
class_atom(struct rx *r, unsigned *cp, char *cls)
{
	*cls = 0;
	if (*r->p != '\\') {
		*cp = utf8_decode(&r->p, r->end);
		return;
	}
	if (++r->p >= r->end) {
		r->why = "the pattern ends with a backslash";
		return;
	}
	if (*r->p && strchr("dDwWsS", *r->p)) {
		*cls = *r->p++;
		return;
	}
	*cp = rx_char_escape(r, 1);
}

/* Read an ECMA bracket expression; r->p is just past the '['. */
static int
class_read(struct rx *r, struct rx_class *k)
{
	unsigned lo = 0, hi = 0;
	char lo_cls, hi_cls;

	while (r->p < r->end && *r->p != ']' && !r->why && !r->oom) {
		class_atom(r, &lo, &lo_cls);
		if (r->why || r->p + 1 >= r->end || *r->p != '-' ||
		    r->p[1] == ']') {
			if (lo_cls)
				class_add_escape(k, lo_cls, &r->oom);
			else
				class_add_range(k, lo, lo, &r->oom);
			continue;
		}
		r->p++;
		class_atom(r, &hi, &hi_cls);
		if (lo_cls || hi_cls) {
			/* ECMA takes the '-' literally next to a class. */
			class_add_range(k, '-', '-', &r->oom);
			if (lo_cls)
				class_add_escape(k, lo_cls, &r->oom);
			else
				class_add_range(k, lo, lo, &r->oom);
			if (hi_cls)
				class_add_escape(k, hi_cls, &r->oom);
			else
				class_add_range(k, hi, hi, &r->oom);
		} else if (hi < lo) {
			r->why = "a range in brackets is out of order";
		} else {
			class_add_range(k, lo, hi, &r->oom);
		}
	}
	if (r->p >= r->end && !r->why)
		r->why = "a bracket expression is not closed";
	if (r->why || r->oom)
		return -1;
	r->p++;
	return 0;
}

static int
class_special(int c)
{
	return c == ']' || c == '^' || c == '-';
}

/*
 * Write the ASCII members in an order POSIX reads literally: ']' first,
 * '^' anywhere but first, '-' last; runs of three or more become ranges.
 * `more` goes in before '^' and '-'.
 */
static void
class_write_ascii(struct rx *r, const struct rx_class *k, const char *more)
{
	int c, d, e;
	char b[1];

	if (k->ascii[']'])
		rx_puts(r, "]");
	for (c = 1; c < 0x80; c++) {
		if (!k->ascii[c] || class_special(c))
			continue;
		for (d = c; d + 1 < 0x80 && k->ascii[d + 1] &&
		    !class_special(d + 1); d++)
			;
		for (e = c; e <= d; e++) {
			b[0] = (char)e;
			rx_put(r, b, 1);
			if (d - c >= 2 && e == c) {
				rx_puts(r, "-");
				e = d - 1;
			}
		}
		c = d;
	}
	rx_puts(r, more);
	if (k->ascii['^'])
		rx_puts(r, "^");
	if (k->ascii['-'])
		rx_puts(r, "-");
}

/* Write a code point range beyond ASCII as a bracket range of UTF-8. */
static void
class_write_wide(struct rx *r, const struct rx_class *k)
{
	unsigned pair[2];
	char b[4];
	size_t i;

	for (i = 0; i + sizeof(pair) <= k->wide.len; i += sizeof(pair)) {
		memcpy(pair, k->wide.data + i, sizeof(pair));
		rx_put(r, b, utf8_encode(b, pair[0]));
		if (pair[1] > pair[0]) {
			rx_puts(r, "-");
			rx_put(r, b, utf8_encode(b, pair[1]));
		}
	}
}

/*
 * The UTF-8 sequences of the code points lo..hi (all beyond ASCII) as
 * alternatives of byte ranges.  The range is split until, within each
 * piece, every byte position runs over one range independently: first at
 * the points where the sequence gets longer, then wherever the low bits
 * of lo and hi do not span whole blocks of continuation bytes.
 */
static void
rx_utf8_range(struct rx *r, unsigned lo, unsigned hi, int *first)
{
	static const unsigned longer[] = { 0x7FF, 0xFFFF };
	char a[4], b[4], br[5] = "[x-x]";
	unsigned m;
	size_t i, n;

	for (i = 0; i < 2; i++) {
		if (lo <= longer[i] && hi > longer[i]) {
			rx_utf8_range(r, lo, longer[i], first);
			rx_utf8_range(r, longer[i] + 1, hi, first);
			return;
		}
	}
	for (i = 1; i < 4; i++) {
		m = (1u << (6 * i)) - 1;
		if ((lo & ~m) == (hi & ~m))
			continue;
		if ((lo & m) != 0) {
			rx_utf8_range(r, lo, lo | m, first);
			rx_utf8_range(r, (lo | m) + 1, hi, first);
			return;
		}
		if ((hi & m) != m) {
			rx_utf8_range(r, lo, (hi & ~m) - 1, first);
			rx_utf8_range(r, hi & ~m, hi, first);
			return;
		}
	}
	n = utf8_encode(a, lo);
	utf8_encode(b, hi);
	if (!*first)
		rx_puts(r, "|");
	*first = 0;
	for (i = 0; i < n; i++) {
		if (a[i] == b[i]) {
			rx_put(r, a + i, 1);
			continue;
		}
		br[1] = a[i];
		br[3] = b[i];
		rx_put(r, br, sizeof(br));
	}
}

/*
 * A bracket expression in byte mode: the ASCII members as brackets, the
 * rest as alternatives of UTF-8 sequences.  A negated one matches every
 * character beyond ASCII: excluding some of them is not supported.
 */
static void
class_write_bytes(struct rx *r, const struct rx_class *k, int negate,
    int ascii)
{
	unsigned pair[2];
	size_t i;
	int first = 1;

	if (negate) {
		rx_puts(r, "([^");
		class_write_ascii(r, k, "\x80-\xff");
		rx_puts(r, "]|" RX_WIDE ")");
		return;
	}
	rx_puts(r, "(");
	if (ascii) {
		rx_puts(r, "[");
		class_write_ascii(r, k, "");
		rx_puts(r, "]");
		first = 0;
	}
	for (i = 0; i + sizeof(pair) <= k->wide.len; i += sizeof(pair)) {
		memcpy(pair, k->wide.data + i, sizeof(pair));
		rx_utf8_range(r, pair[0], pair[1], &first);
	}
	rx_puts(r, ")");
}

static void
class_write(struct rx *r, const struct rx_class *k, int negate)
{
	int c, ascii = 0;

	for (c = 1; c < 0x80; c++)
		ascii |= k->ascii[c] && c != '^' && c != '-';
	if (!negate && !ascii && !k->wide.len) {
		if (k->ascii['^'])
			rx_puts(r, k->ascii['-'] ? "[-^]" : "\\^");
		else if (k->ascii['-'])
			rx_puts(r, "-");
		else
			r->why = "an empty bracket expression is not supported";
		return;
	}
	ascii |= k->ascii['^'] || k->ascii['-'];
	if (r->bytes && (k->wide.len || negate)) {
		class_write_bytes(r, k, negate, ascii);
		return;
	}
	rx_puts(r, negate ? "[^" : "[");
	class_write_ascii(r, k, "");
	class_write_wide(r, k);
	rx_puts(r, "]");
}

static void
rx_class(struct rx *r)
{
	struct rx_class k;
	int negate;

	memset(k.ascii, 0, sizeof(k.ascii));
	buf_init(&k.wide, 0);
	negate = ++r->p < r->end && *r->p == '^';
	r->p += negate;
	if (negate && r->p < r->end && *r->p == ']') {
		/* [^] matches any character at all. */
		rx_puts(r, r->bytes ? "([^\x80-\xff]|" RX_WIDE ")" : "(.|\n)");
		r->p++;
	} else if (class_read(r, &k) == 0) {
		class_write(r, &k, negate);
	}
	buf_release(&k.wide);
}

/*
 * The largest count a {n,m} quantifier may name: regcomp() unrolls
 * counted repetition, so large counts cost time and memory at compile.
 */
#define RX_MAX_COUNT 255

/* Length of an ECMA quantifier {n}, {n,} or {n,m} at p, or 0. */
static size_t
rx_interval(const char *p, const char *end)
{
	const char *q = p + 1;

	if (q >= end || !is_digit(*q))
		return 0;
	while (q < end && is_digit(*q))
		q++;
	if (q < end && *q == ',')
		for (q++; q < end && is_digit(*q); q++)
			;
	return q < end && *q == '}' ? (size_t)(q + 1 - p) : 0;
}

/* Does the quantifier {n,m} at p name a count above RX_MAX_COUNT? */
static int
rx_interval_too_big(const char *p, size_t n)
{
	unsigned long v = 0;
	size_t i;

	for (i = 1; i < n; i++) {
		if (!is_digit(p[i])) {
			v = 0;
			continue;
		}
		v = v * 10 + (unsigned long)(p[i] - '0');
		if (v > RX_MAX_COUNT)
			return 1;
	}
	return 0;
}

static void
rx_group(struct rx *r)
{
	if (r->end - r->p >= 3 && r->p[1] == '?' && r->p[2] == ':') {
		r->p += 3;
	} else if (r->end - r->p >= 2 && r->p[1] == '?') {
		r->why = "lookaround and named groups are not supported";
		return;
	} else {
		r->p++;
	}
	rx_puts(r, "(");
}

/* Translate the decoded pattern into r->out; 0, or -1 with why or oom. */
static int
rx_translate(struct rx *r, const char *pat, size_t len)
{
	int quantified = 0;
	size_t n;

	r->p = pat;
	r->end = pat + len;
	while (r->p < r->end && !r->why && !r->oom) {
		if (quantified == 1 && *r->p == '?') {
			/* Lazy or not, the match is the same. */
			r->p++;
			quantified = 2;
			continue;
		}
		/*
		 * ECMA 262 has nothing to repeat here, and glibc's regcomp
		 * can take exponential time over stacked quantifiers.
		 */
		if (quantified && (*r->p == '*' || *r->p == '+' ||
		    *r->p == '?' || (*r->p == '{' &&
		    rx_interval(r->p, r->end)))) {
			r->why = "a quantifier follows a quantifier";
			break;
		}
		quantified = 0;
		switch (*r->p) {
		case '\\':
			rx_escape(r);
			break;
		case '[':
			rx_class(r);
			break;
		case '(':
			rx_group(r);
			break;
		case '.':
			rx_puts(r, r->bytes ? "([^\n\r\x80-\xff]|" RX_WIDE ")" :
			    "[^\n\r]");
			r->p++;
			break;
		case '*': case '+': case '?':
			rx_put(r, r->p++, 1);
			quantified = 1;
			break;
		case '{':
			n = rx_interval(r->p, r->end);
			if (n && rx_interval_too_big(r->p, n)) {
				r->why = "a repetition count above 255 is not "
				    "supported";
				break;
			}
			if (n) {
				rx_put(r, r->p, n);
				r->p += n;
				quantified = 1;
			} else {
				rx_puts(r, "\\{");
				r->p++;
			}
			break;
		case ')': case '|': case '^': case '$': case ']': case '}':
			rx_put(r, r->p++, 1);
			break;
		default:
			rx_literal(r, utf8_decode(&r->p, r->end));
		}
	}
	return r->why || r->oom ? -1 : 0;
}

/* Formats, checked on the decoded string. */

static int
digits_at(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!is_digit(s[i]))
			return 0;
	return 1;
}

static int
two_digits(const char *s)
{
	return (s[0] - '0') * 10 + (s[1] - '0');
}

static int
days_in_month(int year, int month)
{
	static const int days[] = {
		31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
	};
	int leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;

	return month == 2 && leap ? 29 : days[month - 1];
}

/* RFC 3339 full-date: YYYY-MM-DD. */
static int
is_date(const char *s, size_t n)
{
	int year, month, day;

	if (n != 10 || s[4] != '-' || s[7] != '-' || !digits_at(s, 4) ||
	    !digits_at(s + 5, 2) || !digits_at(s + 8, 2))
		return 0;
	year = two_digits(s) * 100 + two_digits(s + 2);
	month = two_digits(s + 5);
	day = two_digits(s + 8);
	return month >= 1 && month <= 12 && day >= 1 &&
	    day <= days_in_month(year, month);
}

/* hh:mm with hh <= max_hour and mm <= 59. */
static int
is_hour_minute(const char *s, int max_hour)
{
	return digits_at(s, 2) && s[2] == ':' && digits_at(s + 3, 2) &&
	    two_digits(s) <= max_hour && two_digits(s + 3) <= 59;
}

/* RFC 3339 full-time: hh:mm:ss[.frac] then Z or +hh:mm / -hh:mm. */
static int
is_time(const char *s, size_t n)
{
	size_t i = 8;

	if (n < 9 || !is_hour_minute(s, 23) || s[5] != ':' ||
	    !digits_at(s + 6, 2) || two_digits(s + 6) > 60)
		return 0;
	if (s[i] == '.') {
		for (i++; i < n && is_digit(s[i]); i++)
			;
		if (i == 9)
			return 0;
	}
	if (i == n - 1)
		return s[i] == 'Z' || s[i] == 'z';
	return i + 6 == n && (s[i] == '+' || s[i] == '-') &&
	    is_hour_minute(s + i + 1, 23);
}

static int
is_date_time(const char *s, size_t n)
{
	return n > 11 && is_date(s, 10) && (s[10] == 'T' || s[10] == 't') &&
	    is_time(s + 11, n - 11);
}

static int
is_email(const char *s, size_t n)
{
	const char *at = memchr(s, '@', n);

	return at && at > s && at < s + n - 1 &&
	    !memchr(at + 1, '@', (size_t)(s + n - at - 1));
}

/* Dotted quad, each part 0-255 without leading zeros. */
static int
is_ipv4(const char *s, size_t n)
{
	size_t i = 0, start;
	int part, v;

	for (part = 0; part < 4; part++) {
		if (part && (i >= n || s[i++] != '.'))
			return 0;
		start = i;
		for (v = 0; i < n && is_digit(s[i]) && i - start < 3; i++)
			v = v * 10 + (s[i] - '0');
		if (i == start || v > 255 || (s[start] == '0' && i - start > 1))
			return 0;
	}
	return i == n;
}

/* RFC 4291 text form: eight groups, one "::" at most, IPv4 at the end. */
static int
is_ipv6(const char *s, size_t n)
{
	size_t i = 0, j, groups = 0;
	int gap = 0;

	if (n >= 2 && s[0] == ':' && s[1] == ':') {
		gap = 1;
		i = 2;
	}
	while (i < n) {
		for (j = i; j < n && hex_value(s[j]) >= 0 && j - i < 5; j++)
			;
		if (j < n && s[j] == '.') {
			if (!is_ipv4(s + i, n - i))
				return 0;
			groups += 2;
			break;
		}
		if (j == i || j - i > 4)
			return 0;
		groups++;
		i = j;
		if (i == n)
			break;
		if (s[i++] != ':' || i == n)
			return 0;
		if (s[i] == ':') {
			if (gap)
				return 0;
			gap = 1;
			i++;
		}
	}
	return gap ? groups <= 7 : groups == 8;
}

/* RFC 1034 as relaxed by RFC 1123: labels of letters, digits and '-'. */
static int
is_hostname(const char *s, size_t n)
{
	size_t i, start = 0;

	if (n == 0 || n > 253)
		return 0;
	for (i = 0; i <= n; i++) {
		if (i < n && s[i] != '.') {
			if (!is_digit(s[i]) && s[i] != '-' &&
			    ((s[i] | 0x20) < 'a' || (s[i] | 0x20) > 'z'))
				return 0;
			continue;
		}
		if (i == start || i - start > 63 || s[start] == '-' ||
		    s[i - 1] == '-')
			return 0;
		start = i + 1;
	}
	return 1;
}

static int
is_alpha(char c)
{
	return (c | 0x20) >= 'a' && (c | 0x20) <= 'z';
}

/* An absolute URI: a scheme, ':', then only characters RFC 3986 allows. */
static int
is_uri(const char *s, size_t n)
{
	size_t i = 1;

	if (n == 0 || !is_alpha(s[0]))
		return 0;
	while (i < n && (is_alpha(s[i]) || is_digit(s[i]) || s[i] == '+' ||
	    s[i] == '-' || s[i] == '.'))
		i++;
	if (i >= n || s[i] != ':')
		return 0;
	for (i++; i < n; i++) {
		if (s[i] == '%') {
			if (n - i < 3 || hex_value(s[i + 1]) < 0 ||
			    hex_value(s[i + 2]) < 0)
				return 0;
			i += 2;
		} else if (!is_alpha(s[i]) && !is_digit(s[i]) && (!s[i] ||
		    !strchr("-._~:/?#[]@!$&'()*+,;=", s[i]))) {
			return 0;
		}
	}
	return 1;
}

/* 8-4-4-4-12 hex digits; no early exit, as records are full of them. */
static int
is_uuid(const char *s, size_t n)
{
	unsigned ok = 1;
	size_t i;

	if (n != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' ||
	    s[23] != '-')
		return 0;
	for (i = 0; i < 8; i++)
		ok &= hex_digit[(unsigned char)s[i]] != 0;
	for (i = 9; i < 13; i++)
		ok &= hex_digit[(unsigned char)s[i]] != 0;
	for (i = 14; i < 18; i++)
		ok &= hex_digit[(unsigned char)s[i]] != 0;
	for (i = 19; i < 23; i++)
		ok &= hex_digit[(unsigned char)s[i]] != 0;
	for (i = 24; i < 36; i++)
		ok &= hex_digit[(unsigned char)s[i]] != 0;
	return (int)ok;
}

static int
format_check(enum format f, const char *s, size_t n)
{
	switch (f) {
	case FMT_DATE_TIME: return is_date_time(s, n);
	case FMT_DATE: return is_date(s, n);
	case FMT_TIME: return is_time(s, n);
	case FMT_EMAIL: return is_email(s, n);
	case FMT_IPV4: return is_ipv4(s, n);
	case FMT_IPV6: return is_ipv6(s, n);
	case FMT_HOSTNAME: return is_hostname(s, n);
	case FMT_URI: return is_uri(s, n);
	case FMT_UUID: return is_uuid(s, n);
	default: return 1;
	}
}

/*
 * URI references (RFC 3986), for ids and $refs.  Only resolution is
 * needed: nothing is ever fetched.
 */
struct span {
	const char *s;
	size_t n;
	int has;
};

struct uri {
	struct span scheme, auth, path, query, frag;
};

static size_t
span_until(const char *s, size_t n, size_t i, const char *stops)
{
	while (i < n && s[i] && !strchr(stops, s[i]))
		i++;
	return i;
}

static void
uri_split(struct uri *u, const char *s)
{
	size_t n = strlen(s), i = 0, j;

	memset(u, 0, sizeof(*u));
	j = span_until(s, n, 0, ":/?#");
	if (j > 0 && j < n && s[j] == ':') {
		u->scheme = (struct span){ s, j, 1 };
		i = j + 1;
	}
	if (n - i >= 2 && s[i] == '/' && s[i + 1] == '/') {
		j = span_until(s, n, i + 2, "/?#");
		u->auth = (struct span){ s + i + 2, j - i - 2, 1 };
		i = j;
	}
	j = span_until(s, n, i, "?#");
	u->path = (struct span){ s + i, j - i, 1 };
	i = j;
	if (i < n && s[i] == '?') {
		j = span_until(s, n, i + 1, "#");
		u->query = (struct span){ s + i + 1, j - i - 1, 1 };
		i = j;
	}
	if (i < n && s[i] == '#')
		u->frag = (struct span){ s + i + 1, n - i - 1, 1 };
}

/* Drop the last segment of the output path and the '/' before it. */
static void
path_pop_segment(struct buf *out)
{
	while (out->len > 0 && out->data[out->len - 1] != '/')
		out->len--;
	if (out->len > 0)
		out->len--;
	if (out->data)
		out->data[out->len] = '\0';
}

/* RFC 3986 section 5.2.4, on a copy of the path that may be edited. */
static int
path_remove_dots(struct buf *out, char *p, size_t n)
{
	size_t seg;

	while (n > 0) {
		if (n >= 3 && memcmp(p, "../", 3) == 0) {
			p += 3, n -= 3;
		} else if (n >= 2 && memcmp(p, "./", 2) == 0) {
			p += 2, n -= 2;
		} else if (n >= 3 && memcmp(p, "/./", 3) == 0) {
			p += 2, n -= 2;
		} else if (n == 2 && memcmp(p, "/.", 2) == 0) {
			p[1] = '/';
			p += 1, n -= 1;
		} else if (n >= 4 && memcmp(p, "/../", 4) == 0) {
			p += 3, n -= 3;
			path_pop_segment(out);
		} else if (n == 3 && memcmp(p, "/..", 3) == 0) {
			p[2] = '/';
			p += 2, n -= 2;
			path_pop_segment(out);
		} else if ((n == 1 && p[0] == '.') ||
		    (n == 2 && memcmp(p, "..", 2) == 0)) {
			n = 0;
		} else {
			for (seg = 1; seg < n && p[seg] != '/'; seg++)
				;
			if (buf_append(out, p, seg) < 0)
				return -1;
			p += seg, n -= seg;
		}
	}
	return 0;
}

/*
 * The path of `r` merged onto that of `b` (section 5.2.3), dot segments
 * removed; with no `b`, the path of `r` alone.
 */
static int
path_merge(struct buf *out, const struct uri *b, const struct uri *r)
{
	struct buf tmp;
	size_t keep = b ? b->path.n : 0;
	int rc;

	buf_init(&tmp, 0);
	if (!b || (r->path.n > 0 && r->path.s[0] == '/')) {
		keep = 0;
	} else if (b->auth.has && b->path.n == 0) {
		if (buf_putc(&tmp, '/') < 0)
			return -1;
	} else {
		while (keep > 0 && b->path.s[keep - 1] != '/')
			keep--;
	}
	rc = buf_append(&tmp, b ? b->path.s : "", keep) < 0 ||
	    buf_append(&tmp, r->path.s, r->path.n) < 0 ||
	    path_remove_dots(out, tmp.data, tmp.len) < 0 ? -1 : 0;
	buf_release(&tmp);
	return rc;
}

static int
uri_put(struct buf *out, const char *before, const struct span *sp,
    const char *after)
{
	if (!sp->has)
		return 0;
	if (buf_puts(out, before) < 0 || buf_append(out, sp->s, sp->n) < 0)
		return -1;
	return buf_puts(out, after);
}

/*
 * Resolve `ref` against `base` into `out` (section 5.2.2).  An empty
 * fragment is left out, so "a#" and "a" name the same thing.
 */
static int
uri_resolve(struct buf *out, const char *base, const char *ref)
{
	struct uri b, r;
	const struct uri *auth_from = &r, *query_from = &r;
	struct buf path;
	int rc;

	uri_split(&b, base);
	uri_split(&r, ref);
	buf_init(&path, 0);
	buf_reset(out);
	if (r.scheme.has || r.auth.has) {
		rc = path_merge(&path, NULL, &r);
	} else if (r.path.n == 0) {
		auth_from = &b;
		query_from = r.query.has ? &r : &b;
		rc = buf_append(&path, b.path.s, b.path.n);
	} else {
		auth_from = &b;
		rc = path_merge(&path, &b, &r);
	}
	if (rc == 0 && (uri_put(out, "", r.scheme.has ? &r.scheme : &b.scheme,
	    ":") < 0 || uri_put(out, "//", &auth_from->auth, "") < 0 ||
	    buf_append(out, path.data, path.len) < 0 ||
	    uri_put(out, "?", &query_from->query, "") < 0 ||
	    (r.frag.n > 0 && uri_put(out, "#", &r.frag, "") < 0) ||
	    buf_append(out, "", 0) < 0))
		rc = -1;
	buf_release(&path);
	return rc;
}

/* Append a decoded key to a JSON pointer: '~' as "~0", '/' as "~1". */
static int
pointer_put_key(struct buf *out, struct buf *tmp, const char *lit,
    size_t len)
{
	size_t i;
	int rc = 0;

	buf_reset(tmp);
	if (json_string_decode(tmp, lit, len) < 0)
		return -1;
	for (i = 0; i < tmp->len && rc == 0; i++) {
		if (tmp->data[i] == '~')
			rc = buf_puts(out, "~0");
		else if (tmp->data[i] == '/')
			rc = buf_puts(out, "~1");
		else
			rc = buf_putc(out, tmp->data[i]);
	}
	return rc;
}

/* The JSON pointer of node `target` in tree `t`, e.g. "/a/0". */
static int
node_pointer(struct buf *out, struct buf *tmp,
    const struct jsonschema_tree *t, uint32_t target)
{
	uint32_t cur = 0, c, k;

	buf_reset(out);
	if (buf_append(out, "", 0) < 0)
		return -1;
	while (cur != target) {
		const struct jsonschema_node *n = &t->node[cur];

		for (c = cur + 1, k = 0; k < n->count; k++, c = t->node[c].end)
			if (target < t->node[c].end)
				break;
		if (buf_putc(out, '/') < 0)
			return -1;
		if (n->type == JSONSCHEMA_OBJECT) {
			if (pointer_put_key(out, tmp,
			    t->text + t->node[c].key_off,
			    t->node[c].key_len) < 0)
				return -1;
		} else if (buf_printf(out, "%u", k) < 0) {
			return -1;
		}
		cur = c;
	}
	return 0;
}

/* Compiling. */

enum keyword {
	KW_OTHER,
	KW_REF,
	KW_ID,
	KW_TYPE,
	KW_ENUM,
	KW_PROPERTIES,
	KW_PATTERN_PROPERTIES,
	KW_ADDITIONAL_PROPERTIES,
	KW_REQUIRED,
	KW_DEPENDENCIES,
	KW_MIN_PROPERTIES,
	KW_MAX_PROPERTIES,
	KW_ITEMS,
	KW_ADDITIONAL_ITEMS,
	KW_MIN_ITEMS,
	KW_MAX_ITEMS,
	KW_UNIQUE_ITEMS,
	KW_MINIMUM,
	KW_MAXIMUM,
	KW_EXCLUSIVE_MINIMUM,
	KW_EXCLUSIVE_MAXIMUM,
	KW_MULTIPLE_OF,
	KW_MIN_LENGTH,
	KW_MAX_LENGTH,
	KW_PATTERN,
	KW_FORMAT,
	KW_ALL_OF,
	KW_ANY_OF,
	KW_ONE_OF,
	KW_NOT,
	KW_DEFINITIONS,
	KW_COUNT
};

static const char *const keyword_names[KW_COUNT] = {
	"", "$ref", "id", "type", "enum", "properties", "patternProperties",
	"additionalProperties", "required", "dependencies", "minProperties",
	"maxProperties", "items", "additionalItems", "minItems", "maxItems",
	"uniqueItems", "minimum", "maximum", "exclusiveMinimum",
	"exclusiveMaximum", "multipleOf", "minLength", "maxLength", "pattern",
	"format", "allOf", "anyOf", "oneOf", "not", "definitions"
};

static const struct jsonschema_node *
doc_node(const struct jsonschema *s, int doc, uint32_t i)
{
	return &s->docs[doc].tree.node[i];
}

static const char *
doc_text(const struct jsonschema *s, int doc, uint32_t i)
{
	return s->docs[doc].tree.text + s->docs[doc].tree.node[i].off;
}

static enum keyword
keyword_of(const struct jsonschema *s, int doc, uint32_t member)
{
	const struct jsonschema_node *n = doc_node(s, doc, member);
	const char *key = s->docs[doc].tree.text + n->key_off;
	int k;

	for (k = 1; k < KW_COUNT; k++)
		if (json_string_equals(key, n->key_len, keyword_names[k],
		    strlen(keyword_names[k])))
			return (enum keyword)k;
	return KW_OTHER;
}

static void
set_error(struct jsonschema *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Keep the first reason only: later ones tend to be its consequences. */
static void
set_error(struct jsonschema *s, const char *fmt, ...)
{
	va_list ap;

	if (!s->errsz || s->err[0])
		return;
	va_start(ap, fmt);
	vsnprintf(s->err, s->errsz, fmt, ap);
	va_end(ap);
}

static int
compile_error(struct jsonschema *s, int doc, uint32_t node,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int
compile_error(struct jsonschema *s, int doc, uint32_t node,
    const char *fmt, ...)
{
	char what[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (node_pointer(&s->where, &s->sa, &s->docs[doc].tree, node) < 0)
		set_error(s, "out of memory");
	set_error(s, "invalid schema at '%s#%s': %s", doc ? META_URI : "",
	    s->where.data, what);
	return -1;
}

static int
oom_error(struct jsonschema *s)
{
	set_error(s, "out of memory");
	return -1;
}

static int
kw_error(struct jsonschema *s, const struct sch *sc, uint32_t m,
    enum keyword kw, const char *what)
{
	return compile_error(s, sc->doc, m, "'%s' must be %s",
	    keyword_names[kw], what);
}

/*
 * Make room for element `n` of an array of `size`-byte elements: returns
 * the array to use from then on, or NULL (the old one is left as it was).
 */
static void *
array_grow(void *v, size_t n, size_t *cap, size_t size)
{
	size_t c;

	if (n < *cap)
		return v;
	c = *cap ? *cap * 2 : 16;
	v = realloc(v, c * size);
	if (v)
		*cap = c;
	return v;
}

/* An arena copy of `ref` resolved against `base`, or NULL. */
static const char *
resolve_copy(struct jsonschema *s, const char *base, const char *ref)
{
	if (uri_resolve(&s->sb, base, ref) < 0)
		return NULL;
	return arena_strndup(&s->arena, s->sb.data, s->sb.len);
}

/* The decoded text of a string node, NUL-terminated in the arena. */
static const char *
string_copy(struct jsonschema *s, int doc, uint32_t i)
{
	const char *v;
	size_t n;

	if (string_view(&s->sa, doc_text(s, doc, i), doc_node(s, doc, i)->len,
	    doc_node(s, doc, i)->escapes & JSONSCHEMA_ESCAPED_VALUE, &v,
	    &n) < 0)
		return NULL;
	return arena_strndup(&s->arena, v, n);
}

/*
 * The base URI inside object node `i`, given the one around it: its id
 * resolved against that, unless it has a $ref, which hides its id.
 */
static const char *
base_inside(struct jsonschema *s, int doc, uint32_t i, const char *base)
{
	const struct jsonschema_tree *t = &s->docs[doc].tree;
	const char *id;
	long m;

	if (t->node[i].type != JSONSCHEMA_OBJECT ||
	    jsonschema_tree_member(t, i, "$ref") >= 0)
		return base;
	m = jsonschema_tree_member(t, i, "id");
	if (m < 0 || t->node[m].type != JSONSCHEMA_STRING)
		return base;
	id = string_copy(s, doc, (uint32_t)m);
	return id ? resolve_copy(s, base, id) : NULL;
}

static struct id_entry *
id_find(struct jsonschema *s, const char *uri, size_t n)
{
	size_t i;

	for (i = 0; i < s->nids; i++)
		if (strlen(s->ids[i].uri) == n &&
		    memcmp(s->ids[i].uri, uri, n) == 0)
			return &s->ids[i];
	return NULL;
}

static int
id_add(struct jsonschema *s, const char *uri, int doc, uint32_t node,
    const char *base)
{
	struct id_entry *e;

	if (id_find(s, uri, strlen(uri)))
		return 0;
	e = array_grow(s->ids, s->nids, &s->ids_cap, sizeof(*e));
	if (!e)
		return -1;
	s->ids = e;
	e = &s->ids[s->nids++];
	e->uri = uri;
	e->doc = doc;
	e->node = node;
	e->base = base;
	return 0;
}

/*
 * Where keyword `kw` keeps subschemas, given its value's type: 0 none,
 * 1 the value itself, 2 each member or element of the value.
 */
static int
subschema_shape(enum keyword kw, uint32_t type)
{
	int container = type == JSONSCHEMA_OBJECT || type == JSONSCHEMA_ARRAY;

	switch (kw) {
	case KW_ITEMS:
		return type == JSONSCHEMA_OBJECT ? 1 : container ? 2 : 0;
	case KW_PROPERTIES: case KW_PATTERN_PROPERTIES: case KW_DEFINITIONS:
	case KW_DEPENDENCIES: case KW_ALL_OF: case KW_ANY_OF: case KW_ONE_OF:
		return container ? 2 : 0;
	case KW_ADDITIONAL_PROPERTIES: case KW_ADDITIONAL_ITEMS: case KW_NOT:
		return 1;
	default:
		return 0;
	}
}

/* Call fn on each subschema of object node i, by the keyword it is in. */
static int
each_subschema(struct jsonschema *s, int doc, uint32_t i,
    int (*fn)(struct jsonschema *, int, uint32_t, const char *, unsigned),
    const char *base, unsigned depth)
{
	const struct jsonschema_tree *t = &s->docs[doc].tree;
	uint32_t m, c, k, j;

	for (m = i + 1, k = 0; k < t->node[i].count; k++, m = t->node[m].end) {
		const struct jsonschema_node *n = &t->node[m];

		switch (subschema_shape(keyword_of(s, doc, m), n->type)) {
		case 1:
			if (fn(s, doc, m, base, depth + 1) < 0)
				return -1;
			break;
		case 2:
			for (c = m + 1, j = 0; j < n->count;
			    j++, c = t->node[c].end)
				if (fn(s, doc, c, base, depth + 1) < 0)
					return -1;
			break;
		}
	}
	return 0;
}

/* Record the id of every subschema, before any $ref is resolved. */
static int
collect_ids(struct jsonschema *s, int doc, uint32_t i, const char *base,
    unsigned depth)
{
	const struct jsonschema_tree *t = &s->docs[doc].tree;
	const char *inner;

	if (t->node[i].type != JSONSCHEMA_OBJECT ||
	    depth > JSONSCHEMA_MAX_DEPTH ||
	    jsonschema_tree_member(t, i, "$ref") >= 0)
		return 0;
	inner = base_inside(s, doc, i, base);
	if (!inner)
		return oom_error(s);
	if (inner != base && id_add(s, inner, doc, i, base) < 0)
		return oom_error(s);
	return each_subschema(s, doc, i, collect_ids, inner, depth);
}

/*
 * Read one JSON document into s->docs and record its ids; `base` is the
 * URI it is known by ("" for the schema itself).
 */
static int
doc_load(struct jsonschema *s, const char *json, size_t len,
    const char *base)
{
	struct doc *d = &s->docs[s->ndocs];
	struct json_error jerr;
	struct buf text;

	buf_init(&text, 0);
	if (json_compact(json, len, &text, &jerr) < 0) {
		buf_release(&text);
		set_error(s, "invalid schema: %s at offset %zu", jerr.what,
		    jerr.offset);
		return -1;
	}
	d->text = buf_detach(&text, &len);
	jsonschema_tree_init(&d->tree);
	if (jsonschema_tree_parse(&d->tree, d->text, len) != 0)
		return oom_error(s);
	d->memo = calloc(d->tree.n, sizeof(*d->memo));
	if (!d->memo || id_add(s, base, s->ndocs, 0, base) < 0)
		return oom_error(s);
	s->ndocs++;
	return collect_ids(s, s->ndocs - 1, 0, base, 0);
}

static struct sch *compile(struct jsonschema *s, int doc, uint32_t node,
    const char *base, unsigned depth);

/* A subschema under keyword `kw`; it must be an object. */
static struct sch *
compile_sub(struct jsonschema *s, struct sch *sc, uint32_t m,
    enum keyword kw, const char *base, unsigned depth)
{
	if (doc_node(s, sc->doc, m)->type != JSONSCHEMA_OBJECT) {
		kw_error(s, sc, m, kw, "a schema");
		return NULL;
	}
	return compile(s, sc->doc, m, base, depth + 1);
}

/* An array of subschemas; empty is allowed only when `empty_ok`. */
static int
compile_list(struct jsonschema *s, struct sch *sc, uint32_t m,
    enum keyword kw, const char *base, unsigned depth, int empty_ok,
    struct sch ***out, uint32_t *n)
{
	const struct jsonschema_node *nd = doc_node(s, sc->doc, m);
	uint32_t c, k;

	if (nd->type != JSONSCHEMA_ARRAY || (!empty_ok && nd->count == 0))
		return kw_error(s, sc, m, kw, empty_ok ? "an array of schemas" :
		    "a non-empty array of schemas");
	*out = arena_alloc(&s->arena, (nd->count + 1) * sizeof(**out));
	if (!*out)
		return oom_error(s);
	for (c = m + 1, k = 0; k < nd->count; k++, c = doc_node(s, sc->doc,
	    c)->end) {
		(*out)[k] = compile_sub(s, sc, c, kw, base, depth);
		if (!(*out)[k])
			return -1;
	}
	*n = nd->count;
	return 0;
}

/* A non-negative integer, clamped to SIZE_MAX. */
static int
compile_count(struct jsonschema *s, struct sch *sc, uint32_t m,
    enum keyword kw, size_t *out)
{
	const struct jsonschema_node *nd = doc_node(s, sc->doc, m);
	const char *p;
	struct dec d;
	size_t v = 0, k;
	int64_t e;

	if (nd->type != JSONSCHEMA_NUMBER)
		return kw_error(s, sc, m, kw, "a non-negative integer");
	dec_parse(&d, doc_text(s, sc->doc, m), nd->len);
	if (!dec_is_int(&d) || dec_sign(&d) < 0)
		return kw_error(s, sc, m, kw, "a non-negative integer");
	if (d.n > 0 && (int64_t)d.n + d.exp > 19) {
		*out = SIZE_MAX;
		return 0;
	}
	for (k = 0, p = d.first; k < d.n; k++, p = k < d.n ? dec_next(p) : p)
		v = v * 10 + (size_t)(*p - '0');
	for (e = d.exp; d.n > 0 && e > 0; e--)
		v = v > SIZE_MAX / 10 ? SIZE_MAX : v * 10;
	*out = v;
	return 0;
}

static int
compile_number(struct jsonschema *s, struct sch *sc, uint32_t m,
    enum keyword kw, struct dec *d, const char **text, int *len)
{
	const struct jsonschema_node *nd = doc_node(s, sc->doc, m);

	if (nd->type != JSONSCHEMA_NUMBER)
		return kw_error(s, sc, m, kw, "a number");
	*text = doc_text(s, sc->doc, m);
	*len = (int)nd->len;
	dec_parse(d, *text, nd->len);
	return 0;
}

static int
compile_bool(struct jsonschema *s, struct sch *sc, uint32_t m,
    enum keyword kw, unsigned flag)
{
	uint32_t type = doc_node(s, sc->doc, m)->type;

	if (type != JSONSCHEMA_TRUE && type != JSONSCHEMA_FALSE)
		return kw_error(s, sc, m, kw, "a boolean");
	if (type == JSONSCHEMA_TRUE)
		sc->flags |= flag;
	return 0;
}

/* additionalProperties or additionalItems: a boolean or a schema. */
static int
compile_more(struct jsonschema *s, struct sch *sc, uint32_t m,
    enum keyword kw, const char *base, unsigned depth, unsigned flag,
    struct sch **out)
{
	uint32_t type = doc_node(s, sc->doc, m)->type;

	if (type == JSONSCHEMA_FALSE) {
		sc->flags |= flag;
		return 0;
	}
	if (type == JSONSCHEMA_TRUE)
		return 0;
	if (type != JSONSCHEMA_OBJECT)
		return kw_error(s, sc, m, kw, "a boolean or a schema");
	*out = compile(s, sc->doc, m, base, depth + 1);
	return *out ? 0 : -1;
}

static unsigned
type_bit(const char *lit, size_t len)
{
	unsigned k;

	for (k = 0; k < sizeof(type_names) / sizeof(type_names[0]); k++)
		if (json_string_equals(lit, len, type_names[k],
		    strlen(type_names[k])))
			return 1u << k;
	return 0;
}

static int
compile_type(struct jsonschema *s, struct sch *sc, uint32_t m)
{
	const struct jsonschema_node *nd = doc_node(s, sc->doc, m), *e;
	uint32_t c, k, n = nd->type == JSONSCHEMA_ARRAY ? nd->count : 1;
	unsigned bit;

	if ((nd->type != JSONSCHEMA_STRING && nd->type != JSONSCHEMA_ARRAY) ||
	    n == 0)
		return kw_error(s, sc, m, KW_TYPE,
		    "a type name or a non-empty array of them");
	c = nd->type == JSONSCHEMA_ARRAY ? m + 1 : m;
	for (k = 0; k < n; k++, c = e->end) {
		e = doc_node(s, sc->doc, c);
		if (e->type != JSONSCHEMA_STRING)
			return kw_error(s, sc, m, KW_TYPE,
			    "a type name or a non-empty array of them");
		bit = type_bit(doc_text(s, sc->doc, c), e->len);
		if (!bit)
			return compile_error(s, sc->doc, c,
			    "unknown type %.*s", (int)e->len,
			    doc_text(s, sc->doc, c));
		sc->types |= bit;
	}
	return 0;
}

/* Compile a pattern once: ECMA 262 syntax turned into POSIX. */
static struct pattern *
compile_pattern(struct jsonschema *s, int doc, uint32_t at, const char *lit,
    size_t len)
{
	struct pattern *p = arena_zalloc(&s->arena, sizeof(*p)), **all;
	struct rx r = { .why = NULL };
	char why[256];
	int rc;

	buf_init(&r.out, 0);
	r.bytes = MB_CUR_MAX == 1;
	buf_reset(&s->sb);
	if (!p || json_string_decode(&s->sb, lit, len) < 0 ||
	    !(p->src = arena_strndup(&s->arena, s->sb.data, s->sb.len)))
		goto oom;
	if (rx_translate(&r, p->src, s->sb.len) < 0 || buf_append(&r.out, "",
	    0) < 0) {
		if (r.why)
			compile_error(s, doc, at, "pattern '%s' cannot be "
			    "used: %s", p->src, r.why);
		else
			oom_error(s);
		goto fail;
	}
	rc = regcomp(&p->re, r.out.data, REG_EXTENDED | REG_NOSUB);
	if (rc != 0) {
		regerror(rc, &p->re, why, sizeof(why));
		compile_error(s, doc, at, "pattern '%s' is invalid: %s",
		    p->src, why);
		goto fail;
	}
	all = array_grow(s->patterns, s->npatterns, &s->patterns_cap,
	    sizeof(*s->patterns));
	if (!all) {
		regfree(&p->re);
		goto oom;
	}
	s->patterns = all;
	s->patterns[s->npatterns++] = p;
	buf_release(&r.out);
	return p;

oom:
	oom_error(s);
fail:
	buf_release(&r.out);
	return NULL;
}

/*
 * Room for every name the schema can mention, counted before the
 * keywords are read so that the arrays never move.
 */
static int
names_reserve(struct jsonschema *s, struct sch *sc)
{
	const struct jsonschema_tree *t = &s->docs[sc->doc].tree;
	uint32_t m, k, c, j, names = 0, required = 0, deps = 0;

	for (m = sc->node + 1, k = 0; k < t->node[sc->node].count;
	    k++, m = t->node[m].end) {
		const struct jsonschema_node *n = &t->node[m];

		if (n->type != JSONSCHEMA_OBJECT &&
		    n->type != JSONSCHEMA_ARRAY)
			continue;
		switch (keyword_of(s, sc->doc, m)) {
		case KW_PROPERTIES:
			names += n->count;
			break;
		case KW_REQUIRED:
			names += n->count;
			required += n->count;
			break;
		case KW_DEPENDENCIES:
			names += n->count;
			deps += n->count;
			for (c = m + 1, j = 0; j < n->count;
			    j++, c = t->node[c].end)
				if (t->node[c].type == JSONSCHEMA_ARRAY)
					names += t->node[c].count;
			break;
		default:
			break;
		}
	}
	sc->names = arena_alloc(&s->arena, (names + 1) * sizeof(*sc->names));
	sc->required = arena_alloc(&s->arena,
	    (required + 1) * sizeof(uint32_t));
	sc->deps = arena_alloc(&s->arena, (deps + 1) * sizeof(uint32_t));
	return sc->names && sc->required && sc->deps ? 0 : oom_error(s);
}

/* The index of the name a key or string literal decodes to; -1 on OOM. */
static long
names_add(struct jsonschema *s, struct sch *sc, const char *lit, size_t len)
{
	struct name *nm;
	const char *v;
	size_t n;
	uint32_t i;

	if (string_view(&s->sa, lit, len, has_escape(lit, len), &v, &n) < 0)
		return oom_error(s);
	for (i = 0; i < sc->nnames; i++)
		if (sc->names[i].len == n && memcmp(sc->names[i].s, v, n) == 0)
			return i;
	nm = &sc->names[sc->nnames];
	memset(nm, 0, sizeof(*nm));
	nm->s = arena_strndup(&s->arena, v, n);
	if (!nm->s)
		return oom_error(s);
	nm->len = n;
	nm->hash = hash_bytes(HASH_SEED, v, n);
	return sc->nnames++;
}

/* Past NAMES_LINEAR names, an open-addressing table of index + 1. */
static int
names_index(struct jsonschema *s, struct sch *sc)
{
	uint32_t size = 16, i, j;

	if (sc->nnames <= NAMES_LINEAR)
		return 0;
	while (size < 2 * sc->nnames)
		size *= 2;
	sc->table = arena_zalloc(&s->arena, size * sizeof(uint32_t));
	if (!sc->table)
		return oom_error(s);
	sc->table_mask = size - 1;
	for (i = 0; i < sc->nnames; i++) {
		for (j = (uint32_t)sc->names[i].hash & sc->table_mask;
		    sc->table[j]; j = (j + 1) & sc->table_mask)
			;
		sc->table[j] = i + 1;
	}
	return 0;
}

static const struct name *
names_find(const struct sch *sc, const char *k, size_t n)
{
	const struct name *nm;
	uint64_t h;
	uint32_t i, j;

	if (!sc->table) {
		for (i = 0; i < sc->nnames; i++)
			if (sc->names[i].len == n &&
			    memcmp(sc->names[i].s, k, n) == 0)
				return &sc->names[i];
		return NULL;
	}
	h = hash_bytes(HASH_SEED, k, n);
	for (j = (uint32_t)h & sc->table_mask; sc->table[j];
	    j = (j + 1) & sc->table_mask) {
		nm = &sc->names[sc->table[j] - 1];
		if (nm->hash == h && nm->len == n && memcmp(nm->s, k, n) == 0)
			return nm;
	}
	return NULL;
}

static int
compile_properties(struct jsonschema *s, struct sch *sc, uint32_t m,
    const char *base, unsigned depth)
{
	const struct jsonschema_tree *t = &s->docs[sc->doc].tree;
	uint32_t c, k;
	long i;

	if (t->node[m].type != JSONSCHEMA_OBJECT)
		return kw_error(s, sc, m, KW_PROPERTIES, "an object");
	for (c = m + 1, k = 0; k < t->node[m].count; k++, c = t->node[c].end) {
		i = names_add(s, sc, t->text + t->node[c].key_off,
		    t->node[c].key_len);
		if (i < 0)
			return -1;
		sc->names[i].prop = compile_sub(s, sc, c, KW_PROPERTIES, base,
		    depth);
		if (!sc->names[i].prop)
			return -1;
	}
	return 0;
}

static int
compile_pattern_properties(struct jsonschema *s, struct sch *sc, uint32_t m,
    const char *base, unsigned depth)
{
	const struct jsonschema_tree *t = &s->docs[sc->doc].tree;
	const struct jsonschema_node *n = &t->node[m];
	uint32_t c, k;

	if (n->type != JSONSCHEMA_OBJECT)
		return kw_error(s, sc, m, KW_PATTERN_PROPERTIES, "an object");
	sc->pprops = arena_alloc(&s->arena, (n->count + 1) *
	    sizeof(*sc->pprops));
	if (!sc->pprops)
		return oom_error(s);
	for (c = m + 1, k = 0; k < n->count; k++, c = t->node[c].end) {
		sc->pprops[k] = compile_pattern(s, sc->doc, c,
		    t->text + t->node[c].key_off, t->node[c].key_len);
		if (!sc->pprops[k])
			return -1;
		sc->pprops[k]->schema = compile_sub(s, sc, c,
		    KW_PATTERN_PROPERTIES, base, depth);
		if (!sc->pprops[k]->schema)
			return -1;
	}
	sc->npprops = n->count;
	return 0;
}

static int
compile_required(struct jsonschema *s, struct sch *sc, uint32_t m)
{
	const struct jsonschema_tree *t = &s->docs[sc->doc].tree;
	uint32_t c, k;
	long i;

	if (t->node[m].type != JSONSCHEMA_ARRAY)
		return kw_error(s, sc, m, KW_REQUIRED, "an array of strings");
	for (c = m + 1, k = 0; k < t->node[m].count; k++, c = t->node[c].end) {
		if (t->node[c].type != JSONSCHEMA_STRING)
			return kw_error(s, sc, m, KW_REQUIRED,
			    "an array of strings");
		i = names_add(s, sc, t->text + t->node[c].off, t->node[c].len);
		if (i < 0)
			return -1;
		sc->required[sc->nrequired++] = (uint32_t)i;
	}
	return 0;
}

/* One member of dependencies: a schema or an array of names. */
static int
compile_dependency(struct jsonschema *s, struct sch *sc, uint32_t c,
    const char *base, unsigned depth)
{
	const struct jsonschema_tree *t = &s->docs[sc->doc].tree;
	const struct jsonschema_node *n = &t->node[c];
	struct dep *dep = arena_zalloc(&s->arena, sizeof(*dep));
	uint32_t e, k;
	long i = names_add(s, sc, t->text + n->key_off, n->key_len), j;

	if (!dep || i < 0)
		return oom_error(s);
	sc->names[i].dep = dep;
	sc->deps[sc->ndeps++] = (uint32_t)i;
	if (n->type == JSONSCHEMA_OBJECT) {
		dep->schema = compile(s, sc->doc, c, base, depth + 1);
		return dep->schema ? 0 : -1;
	}
	if (n->type != JSONSCHEMA_ARRAY)
		goto bad;
	dep->names = arena_alloc(&s->arena, (n->count + 1) * sizeof(uint32_t));
	if (!dep->names)
		return oom_error(s);
	for (e = c + 1, k = 0; k < n->count; k++, e = t->node[e].end) {
		if (t->node[e].type != JSONSCHEMA_STRING)
			goto bad;
		j = names_add(s, sc, t->text + t->node[e].off, t->node[e].len);
		if (j < 0)
			return -1;
		dep->names[dep->n++] = (uint32_t)j;
	}
	return 0;

bad:
	return compile_error(s, sc->doc, c, "a dependency must be a schema "
	    "or an array of strings");
}

static int
compile_dependencies(struct jsonschema *s, struct sch *sc, uint32_t m,
    const char *base, unsigned depth)
{
	const struct jsonschema_tree *t = &s->docs[sc->doc].tree;
	uint32_t c, k;

	if (t->node[m].type != JSONSCHEMA_OBJECT)
		return kw_error(s, sc, m, KW_DEPENDENCIES, "an object");
	for (c = m + 1, k = 0; k < t->node[m].count; k++, c = t->node[c].end)
		if (compile_dependency(s, sc, c, base, depth) < 0)
			return -1;
	return 0;
}

static int
compile_items(struct jsonschema *s, struct sch *sc, uint32_t m,
    const char *base, unsigned depth)
{
	if (doc_node(s, sc->doc, m)->type == JSONSCHEMA_OBJECT) {
		sc->items = compile(s, sc->doc, m, base, depth + 1);
		return sc->items ? 0 : -1;
	}
	if (doc_node(s, sc->doc, m)->type != JSONSCHEMA_ARRAY)
		return kw_error(s, sc, m, KW_ITEMS,
		    "a schema or an array of schemas");
	sc->flags |= ITEM_LIST;
	return compile_list(s, sc, m, KW_ITEMS, base, depth, 1,
	    &sc->item_list, &sc->nitem_list);
}

static int
compile_string_kw(struct jsonschema *s, struct sch *sc, uint32_t m,
    enum keyword kw)
{
	const struct jsonschema_node *n = doc_node(s, sc->doc, m);
	unsigned f;

	if (n->type != JSONSCHEMA_STRING)
		return kw_error(s, sc, m, kw, "a string");
	if (kw == KW_PATTERN) {
		sc->pattern = compile_pattern(s, sc->doc, m,
		    doc_text(s, sc->doc, m), n->len);
		return sc->pattern ? 0 : -1;
	}
	for (f = 1; f < sizeof(format_names) / sizeof(format_names[0]); f++)
		if (json_string_equals(doc_text(s, sc->doc, m), n->len,
		    format_names[f], strlen(format_names[f])))
			sc->format = (enum format)f;
	return 0;
}

static int
compile_enum(struct jsonschema *s, struct sch *sc, uint32_t m)
{
	const struct jsonschema_node *n = doc_node(s, sc->doc, m);

	if (n->type != JSONSCHEMA_ARRAY || n->count == 0)
		return kw_error(s, sc, m, KW_ENUM, "a non-empty array");
	sc->enum_node = m;
	return 0;
}

static int
compile_definitions(struct jsonschema *s, struct sch *sc, uint32_t m,
    const char *base, unsigned depth)
{
	const struct jsonschema_tree *t = &s->docs[sc->doc].tree;
	uint32_t c, k;

	if (t->node[m].type != JSONSCHEMA_OBJECT)
		return kw_error(s, sc, m, KW_DEFINITIONS, "an object");
	for (c = m + 1, k = 0; k < t->node[m].count; k++, c = t->node[c].end)
		if (!compile_sub(s, sc, c, KW_DEFINITIONS, base, depth))
			return -1;
	return 0;
}

/* Keywords that take a number, a count or a boolean. */
static int
compile_scalar_kw(struct jsonschema *s, struct sch *sc, uint32_t m,
    enum keyword kw)
{
	switch (kw) {
	case KW_MIN_PROPERTIES:
		return compile_count(s, sc, m, kw, &sc->min_props);
	case KW_MAX_PROPERTIES:
		return compile_count(s, sc, m, kw, &sc->max_props);
	case KW_MIN_ITEMS:
		return compile_count(s, sc, m, kw, &sc->min_items);
	case KW_MAX_ITEMS:
		return compile_count(s, sc, m, kw, &sc->max_items);
	case KW_MIN_LENGTH:
		return compile_count(s, sc, m, kw, &sc->min_length);
	case KW_MAX_LENGTH:
		return compile_count(s, sc, m, kw, &sc->max_length);
	case KW_UNIQUE_ITEMS:
		return compile_bool(s, sc, m, kw, UNIQUE);
	case KW_EXCLUSIVE_MINIMUM:
		sc->flags |= EXCL_MIN_KW;
		return compile_bool(s, sc, m, kw, EXCL_MIN);
	case KW_EXCLUSIVE_MAXIMUM:
		sc->flags |= EXCL_MAX_KW;
		return compile_bool(s, sc, m, kw, EXCL_MAX);
	case KW_MINIMUM:
		sc->flags |= HAS_MIN;
		return compile_number(s, sc, m, kw, &sc->minimum,
		    &sc->min_text, &sc->min_len_text);
	case KW_MAXIMUM:
		sc->flags |= HAS_MAX;
		return compile_number(s, sc, m, kw, &sc->maximum,
		    &sc->max_text, &sc->max_len_text);
	default:
		sc->flags |= HAS_MULTIPLE;
		if (compile_number(s, sc, m, kw, &sc->multiple,
		    &sc->multiple_text, &sc->multiple_len_text) < 0)
			return -1;
		if (dec_sign(&sc->multiple) <= 0)
			return kw_error(s, sc, m, kw, "a number above 0");
		return 0;
	}
}

/* Which group of checks each keyword belongs to. */
static unsigned
keyword_group(enum keyword kw)
{
	switch (kw) {
	case KW_PROPERTIES: case KW_PATTERN_PROPERTIES:
	case KW_ADDITIONAL_PROPERTIES: case KW_REQUIRED: case KW_DEPENDENCIES:
	case KW_MIN_PROPERTIES: case KW_MAX_PROPERTIES:
		return HAS_OBJECT;
	case KW_ITEMS: case KW_ADDITIONAL_ITEMS: case KW_MIN_ITEMS:
	case KW_MAX_ITEMS: case KW_UNIQUE_ITEMS:
		return HAS_ARRAY;
	case KW_MINIMUM: case KW_MAXIMUM: case KW_MULTIPLE_OF:
		return HAS_NUMBER;
	case KW_MIN_LENGTH: case KW_MAX_LENGTH: case KW_PATTERN:
	case KW_FORMAT:
		return HAS_STRING;
	case KW_ENUM:
		return HAS_ENUM;
	case KW_ALL_OF: case KW_ANY_OF: case KW_ONE_OF: case KW_NOT:
		return HAS_LOGIC;
	default:
		return 0;
	}
}

static int
compile_keyword(struct jsonschema *s, struct sch *sc, uint32_t m,
    const char *base, unsigned depth)
{
	enum keyword kw = keyword_of(s, sc->doc, m);

	sc->flags |= keyword_group(kw);
	switch (kw) {
	case KW_TYPE: return compile_type(s, sc, m);
	case KW_ENUM: return compile_enum(s, sc, m);
	case KW_PROPERTIES: return compile_properties(s, sc, m, base, depth);
	case KW_PATTERN_PROPERTIES:
		return compile_pattern_properties(s, sc, m, base, depth);
	case KW_ADDITIONAL_PROPERTIES:
		return compile_more(s, sc, m, kw, base, depth, NO_MORE_PROPS,
		    &sc->more_props);
	case KW_REQUIRED: return compile_required(s, sc, m);
	case KW_DEPENDENCIES:
		return compile_dependencies(s, sc, m, base, depth);
	case KW_ITEMS: return compile_items(s, sc, m, base, depth);
	case KW_ADDITIONAL_ITEMS:
		return compile_more(s, sc, m, kw, base, depth, NO_MORE_ITEMS,
		    &sc->more_items);
	case KW_PATTERN: case KW_FORMAT:
		return compile_string_kw(s, sc, m, kw);
	case KW_ALL_OF:
		return compile_list(s, sc, m, kw, base, depth, 0, &sc->all_of,
		    &sc->nall_of);
	case KW_ANY_OF:
		return compile_list(s, sc, m, kw, base, depth, 0, &sc->any_of,
		    &sc->nany_of);
	case KW_ONE_OF:
		return compile_list(s, sc, m, kw, base, depth, 0, &sc->one_of,
		    &sc->none_of);
	case KW_NOT:
		sc->not = compile_sub(s, sc, m, kw, base, depth);
		return sc->not ? 0 : -1;
	case KW_DEFINITIONS: return compile_definitions(s, sc, m, base, depth);
	case KW_OTHER: case KW_REF: case KW_ID: case KW_COUNT: return 0;
	default: return compile_scalar_kw(s, sc, m, kw);
	}
}

static int
compile_keywords(struct jsonschema *s, struct sch *sc, const char *base,
    unsigned depth)
{
	const struct jsonschema_tree *t = &s->docs[sc->doc].tree;
	uint32_t m, k;

	if (names_reserve(s, sc) < 0)
		return -1;
	for (m = sc->node + 1, k = 0; k < t->node[sc->node].count;
	    k++, m = t->node[m].end)
		if (compile_keyword(s, sc, m, base, depth) < 0)
			return -1;
	if ((sc->flags & EXCL_MIN_KW) && !(sc->flags & HAS_MIN))
		return compile_error(s, sc->doc, sc->node,
		    "'exclusiveMinimum' needs 'minimum'");
	if ((sc->flags & EXCL_MAX_KW) && !(sc->flags & HAS_MAX))
		return compile_error(s, sc->doc, sc->node,
		    "'exclusiveMaximum' needs 'maximum'");
	return names_index(s, sc);
}

/*
 * Compile the schema at object node `node` of document `doc`, once: the
 * result is kept per node, so a $ref and the place a schema is written
 * share it.  `base` is the base URI around the node.  A $ref is only
 * recorded here (resolved against the base) and followed later, when
 * every id is known.
 */
static struct sch *
compile(struct jsonschema *s, int doc, uint32_t node, const char *base,
    unsigned depth)
{
	struct doc *d = &s->docs[doc];
	struct sch *sc, **all;
	const char *ref;
	long m;

	if (d->memo[node])
		return d->memo[node];
	if (d->tree.node[node].type != JSONSCHEMA_OBJECT) {
		compile_error(s, doc, node, "a schema must be an object");
		return NULL;
	}
	if (depth > JSONSCHEMA_MAX_DEPTH) {
		compile_error(s, doc, node, "schemas are nested too deeply");
		return NULL;
	}
	sc = arena_zalloc(&s->arena, sizeof(*sc));
	all = array_grow(s->all, s->nall, &s->all_cap, sizeof(*s->all));
	if (!sc || !all) {
		oom_error(s);
		return NULL;
	}
	s->all = all;
	s->all[s->nall++] = sc;
	sc->doc = doc;
	sc->node = node;
	sc->max_props = sc->max_items = sc->max_length = SIZE_MAX;
	d->memo[node] = sc;

	m = jsonschema_tree_member(&d->tree, node, "$ref");
	if (m >= 0) {
		if (d->tree.node[m].type != JSONSCHEMA_STRING) {
			compile_error(s, doc, (uint32_t)m,
			    "'$ref' must be a string");
			return NULL;
		}
		ref = string_copy(s, doc, (uint32_t)m);
		sc->ref_uri = ref ? resolve_copy(s, base, ref) : NULL;
		if (!sc->ref_uri)
			oom_error(s);
		return sc->ref_uri ? sc : NULL;
	}
	m = jsonschema_tree_member(&d->tree, node, "id");
	if (m >= 0 && d->tree.node[m].type != JSONSCHEMA_STRING) {
		compile_error(s, doc, (uint32_t)m, "'id' must be a string");
		return NULL;
	}
	base = base_inside(s, doc, node, base);
	if (!base) {
		oom_error(s);
		return NULL;
	}
	return compile_keywords(s, sc, base, depth) < 0 ? NULL : sc;
}

/*
 * The draft 4 meta-schema, so that {"$ref": META_URI "#"} can check a
 * schema.  It states the rules of the draft: which keywords take which
 * types, and that counts are non-negative integers.
 */
static const char meta_schema[] =
	"{\"id\":\"" META_URI "#\",\"$schema\":\"" META_URI "#\","
	"\"description\":\"Core schema meta-schema\","
	"\"definitions\":{"
	"\"schemaArray\":{\"type\":\"array\",\"minItems\":1,"
	"\"items\":{\"$ref\":\"#\"}},"
	"\"positiveInteger\":{\"type\":\"integer\",\"minimum\":0},"
	"\"positiveIntegerDefault0\":{\"allOf\":["
	"{\"$ref\":\"#/definitions/positiveInteger\"},{\"default\":0}]},"
	"\"simpleTypes\":{\"enum\":[\"array\",\"boolean\",\"integer\","
	"\"null\",\"number\",\"object\",\"string\"]},"
	"\"stringArray\":{\"type\":\"array\",\"items\":{\"type\":\"string\"},"
	"\"minItems\":1,\"uniqueItems\":true}},"
	"\"type\":\"object\","
	"\"properties\":{"
	"\"id\":{\"type\":\"string\"},"
	"\"$schema\":{\"type\":\"string\"},"
	"\"title\":{\"type\":\"string\"},"
	"\"description\":{\"type\":\"string\"},"
	"\"default\":{},"
	"\"multipleOf\":{\"type\":\"number\",\"minimum\":0,"
	"\"exclusiveMinimum\":true},"
	"\"maximum\":{\"type\":\"number\"},"
	"\"exclusiveMaximum\":{\"type\":\"boolean\",\"default\":false},"
	"\"minimum\":{\"type\":\"number\"},"
	"\"exclusiveMinimum\":{\"type\":\"boolean\",\"default\":false},"
	"\"maxLength\":{\"$ref\":\"#/definitions/positiveInteger\"},"
	"\"minLength\":{\"$ref\":\"#/definitions/positiveIntegerDefault0\"},"
	"\"pattern\":{\"type\":\"string\",\"format\":\"regex\"},"
	"\"additionalItems\":{\"anyOf\":[{\"type\":\"boolean\"},"
	"{\"$ref\":\"#\"}],\"default\":{}},"
	"\"items\":{\"anyOf\":[{\"$ref\":\"#\"},"
	"{\"$ref\":\"#/definitions/schemaArray\"}],\"default\":{}},"
	"\"maxItems\":{\"$ref\":\"#/definitions/positiveInteger\"},"
	"\"minItems\":{\"$ref\":\"#/definitions/positiveIntegerDefault0\"},"
	"\"uniqueItems\":{\"type\":\"boolean\",\"default\":false},"
	"\"maxProperties\":{\"$ref\":\"#/definitions/positiveInteger\"},"
	"\"minProperties\":"
	"{\"$ref\":\"#/definitions/positiveIntegerDefault0\"},"
	"\"required\":{\"$ref\":\"#/definitions/stringArray\"},"
	"\"additionalProperties\":{\"anyOf\":[{\"type\":\"boolean\"},"
	"{\"$ref\":\"#\"}],\"default\":{}},"
	"\"definitions\":{\"type\":\"object\","
	"\"additionalProperties\":{\"$ref\":\"#\"},\"default\":{}},"
	"\"properties\":{\"type\":\"object\","
	"\"additionalProperties\":{\"$ref\":\"#\"},\"default\":{}},"
	"\"patternProperties\":{\"type\":\"object\","
	"\"additionalProperties\":{\"$ref\":\"#\"},\"default\":{}},"
	"\"dependencies\":{\"type\":\"object\","
	"\"additionalProperties\":{\"anyOf\":[{\"$ref\":\"#\"},"
	"{\"$ref\":\"#/definitions/stringArray\"}]}},"
	"\"enum\":{\"type\":\"array\",\"minItems\":1,\"uniqueItems\":true},"
	"\"type\":{\"anyOf\":[{\"$ref\":\"#/definitions/simpleTypes\"},"
	"{\"type\":\"array\","
	"\"items\":{\"$ref\":\"#/definitions/simpleTypes\"},"
	"\"minItems\":1,\"uniqueItems\":true}]},"
	"\"format\":{\"type\":\"string\"},"
	"\"allOf\":{\"$ref\":\"#/definitions/schemaArray\"},"
	"\"anyOf\":{\"$ref\":\"#/definitions/schemaArray\"},"
	"\"oneOf\":{\"$ref\":\"#/definitions/schemaArray\"},"
	"\"not\":{\"$ref\":\"#\"}},"
	"\"dependencies\":{\"exclusiveMaximum\":[\"maximum\"],"
	"\"exclusiveMinimum\":[\"minimum\"]},"
	"\"default\":{}}";

/* Percent-decode a URI fragment into `out`. */
static int
fragment_decode(struct buf *out, const char *f)
{
	int hi, lo;

	buf_reset(out);
	if (buf_append(out, "", 0) < 0)
		return -1;
	for (; *f; f++) {
		if (f[0] == '%' && (hi = hex_value(f[1])) >= 0 &&
		    (lo = hex_value(f[2])) >= 0) {
			if (buf_putc(out, (char)(hi << 4 | lo)) < 0)
				return -1;
			f += 2;
		} else if (buf_putc(out, *f) < 0) {
			return -1;
		}
	}
	return 0;
}

/* The child of node `cur` that one JSON pointer token names, or -1. */
static long
pointer_step(const struct jsonschema_tree *t, uint32_t cur, const char *tok,
    size_t n)
{
	const struct jsonschema_node *nd = &t->node[cur];
	uint32_t c, k, index = 0;
	size_t i;

	if (nd->type == JSONSCHEMA_OBJECT) {
		for (c = cur + 1, k = 0; k < nd->count; k++, c = t->node[c].end)
			if (json_string_equals(t->text + t->node[c].key_off,
			    t->node[c].key_len, tok, n))
				return c;
		return -1;
	}
	if (nd->type != JSONSCHEMA_ARRAY || n == 0 || n > 9 ||
	    (tok[0] == '0' && n > 1))
		return -1;
	for (i = 0; i < n; i++) {
		if (!is_digit(tok[i]))
			return -1;
		index = index * 10 + (uint32_t)(tok[i] - '0');
	}
	if (index >= nd->count)
		return -1;
	for (c = cur + 1, k = 0; k < index; k++)
		c = t->node[c].end;
	return c;
}

/*
 * Follow the JSON pointer `ptr` (already percent-decoded) from *node,
 * keeping *base the base URI around the node reached.  0, 1 when the
 * pointer leads nowhere, -1 when memory runs out.
 */
static int
pointer_walk(struct jsonschema *s, int doc, const char *ptr, uint32_t *node,
    const char **base)
{
	const struct jsonschema_tree *t = &s->docs[doc].tree;
	const char *p = ptr, *end;
	long next;

	if (*p && *p != '/')
		return 1;
	while (*p) {
		/* Before the token is built: this uses s->sb as well. */
		*base = base_inside(s, doc, *node, *base);
		if (!*base)
			return -1;
		end = strchr(p + 1, '/');
		if (!end)
			end = p + strlen(p);
		buf_reset(&s->sb);
		for (p++; p < end; p++) {
			char ch = *p;

			if (ch == '~' && p + 1 < end &&
			    (p[1] == '0' || p[1] == '1'))
				ch = *++p == '0' ? '~' : '/';
			if (buf_putc(&s->sb, ch) < 0)
				return -1;
		}
		next = pointer_step(t, *node, s->sb.data ? s->sb.data : "",
		    s->sb.len);
		if (next < 0)
			return 1;
		*node = (uint32_t)next;
	}
	return 0;
}

/*
 * The id entry of the document part of `uri` (NULL when unknown), loading
 * the meta-schema when it is the one named.  0, or -1 when that fails.
 */
static int
find_document(struct jsonschema *s, const char *uri, size_t n,
    struct id_entry **out)
{
	*out = id_find(s, uri, n);
	if (*out || s->ndocs > 1 || n != strlen(META_URI) ||
	    memcmp(uri, META_URI, n) != 0)
		return 0;
	if (doc_load(s, meta_schema, strlen(meta_schema), META_URI) < 0)
		return -1;
	*out = id_find(s, uri, n);
	return 0;
}

static int
resolve_ref(struct jsonschema *s, struct sch *sc)
{
	const char *uri = sc->ref_uri, *hash = strchr(uri, '#');
	const char *frag = hash ? hash + 1 : "", *base;
	struct id_entry *e;
	uint32_t node;
	int rc;

	if (*frag && *frag != '/') {
		e = id_find(s, uri, strlen(uri));
		rc = e ? 0 : 1;
	} else {
		if (find_document(s, uri, hash ? (size_t)(hash - uri) :
		    strlen(uri), &e) < 0)
			return -1;
		rc = 1;
		if (e && fragment_decode(&s->key, frag) < 0)
			return oom_error(s);
		if (e) {
			node = e->node;
			base = e->base;
			rc = pointer_walk(s, e->doc, s->key.data, &node, &base);
		}
	}
	if (rc < 0)
		return oom_error(s);
	if (rc > 0)
		return compile_error(s, sc->doc, sc->node,
		    "cannot resolve $ref '%s'", uri);
	sc->ref = *frag && *frag != '/' ?
	    compile(s, e->doc, e->node, e->base, 0) :
	    compile(s, e->doc, node, base, 0);
	return sc->ref ? 0 : -1;
}

/* Schemas compiled while resolving join the queue, so all get resolved. */
static int
resolve_refs(struct jsonschema *s)
{
	while (s->resolved < s->nall) {
		struct sch *sc = s->all[s->resolved++];

		if (sc->ref_uri && resolve_ref(s, sc) < 0)
			return -1;
	}
	return 0;
}

/* The i-th schema applied to the same value as `sc`, or NULL. */
static struct sch *
same_value_edge(const struct sch *sc, uint32_t i)
{
	uint32_t k;

	if (sc->ref)
		return i == 0 ? sc->ref : NULL;
	if (i < sc->nall_of)
		return sc->all_of[i];
	i -= sc->nall_of;
	if (i < sc->nany_of)
		return sc->any_of[i];
	i -= sc->nany_of;
	if (i < sc->none_of)
		return sc->one_of[i];
	i -= sc->none_of;
	if (sc->not && i-- == 0)
		return sc->not;
	for (k = 0; k < sc->ndeps; k++) {
		struct sch *d = sc->names[sc->deps[k]].dep->schema;

		if (d && i-- == 0)
			return d;
	}
	return NULL;
}

/*
 * A schema that reaches itself through $ref, allOf, anyOf, oneOf, not or
 * dependencies, without stepping into the value, would never finish.
 * Depth-first search with an explicit stack: mark 1 is on the path.
 */
static int
check_cycles(struct jsonschema *s)
{
	struct frame {
		struct sch *sc;
		uint32_t next;
	} *stack = malloc((s->nall + 1) * sizeof(*stack));
	size_t i, top;
	struct sch *e;

	if (!stack)
		return oom_error(s);
	for (i = 0; i < s->nall; i++) {
		if (s->all[i]->mark)
			continue;
		s->all[i]->mark = 1;
		stack[0] = (struct frame){ s->all[i], 0 };
		for (top = 1; top > 0;) {
			e = same_value_edge(stack[top - 1].sc,
			    stack[top - 1].next++);
			if (!e) {
				stack[--top].sc->mark = 2;
			} else if (e->mark == 1) {
				free(stack);
				return compile_error(s, e->doc, e->node,
				    "the schema applies itself to the same "
				    "value without end");
			} else if (e->mark == 0) {
				e->mark = 1;
				stack[top++] = (struct frame){ e, 0 };
			}
		}
	}
	free(stack);
	return 0;
}

/* Point every $ref straight at the schema that ends its chain. */
static void
collapse_refs(struct jsonschema *s)
{
	size_t i;
	struct sch *t;

	for (i = 0; i < s->nall; i++) {
		for (t = s->all[i]->ref; t && t->ref; t = t->ref)
			;
		if (t)
			s->all[i]->ref = t;
	}
}

static void
scratch_init(struct jsonschema *s)
{
	buf_init(&s->key, 0);
	buf_init(&s->sa, 0);
	buf_init(&s->sb, 0);
	buf_init(&s->msg, 0);
	buf_init(&s->where, 0);
	jsonschema_tree_init(&s->value);
}

struct jsonschema *
jsonschema_new(const char *schema_json, size_t len, char *err, size_t errsz)
{
	struct jsonschema *s = calloc(1, sizeof(*s));

	if (errsz)
		err[0] = '\0';
	if (!s) {
		if (errsz)
			snprintf(err, errsz, "out of memory");
		return NULL;
	}
	s->err = err;
	s->errsz = errsz;
	scratch_init(s);
	if (doc_load(s, schema_json, len, "") < 0)
		goto fail;
	s->root = compile(s, 0, 0, "", 0);
	if (!s->root || resolve_refs(s) < 0 || check_cycles(s) < 0)
		goto fail;
	collapse_refs(s);
	s->err = NULL;
	s->errsz = 0;
	return s;

fail:
	if (errsz && !err[0])
		snprintf(err, errsz, "invalid schema");
	s->err = NULL;
	s->errsz = 0;
	jsonschema_free(s);
	return NULL;
}

void
jsonschema_free(struct jsonschema *s)
{
	size_t i;
	int d;

	if (!s)
		return;
	for (i = 0; i < s->npatterns; i++)
		regfree(&s->patterns[i]->re);
	free(s->patterns);
	for (d = 0; d < s->ndocs || (d < 2 && s->docs[d].text); d++) {
		free(s->docs[d].text);
		free(s->docs[d].memo);
		jsonschema_tree_release(&s->docs[d].tree);
	}
	free(s->ids);
	free(s->all);
	free(s->path);
	arena_release(&s->arena);
	arena_release(&s->scratch);
	jsonschema_tree_release(&s->value);
	buf_release(&s->key);
	buf_release(&s->sa);
	buf_release(&s->sb);
	buf_release(&s->msg);
	buf_release(&s->where);
	free(s);
}

/* Validation. */

static int
path_push(struct vctx *c, uint32_t node, uint32_t index)
{
	struct jsonschema *s = c->s;
	struct path_step *p;

	p = array_grow(s->path, s->npath, &s->path_cap, sizeof(*p));
	if (!p)
		return -1;
	s->path = p;
	s->path[s->npath].node = node;
	s->path[s->npath].index = index;
	s->npath++;
	return 0;
}

/* The JSON pointer of the value being checked, into s->where. */
static int
path_write(struct vctx *c)
{
	struct jsonschema *s = c->s;
	const struct jsonschema_node *n;
	size_t i;

	buf_reset(&s->where);
	if (buf_append(&s->where, "", 0) < 0)
		return -1;
	for (i = 0; i < s->npath; i++) {
		n = &c->t->node[s->path[i].node];
		if (buf_putc(&s->where, '/') < 0)
			return -1;
		if (s->path[i].index != UINT32_MAX) {
			if (buf_printf(&s->where, "%u", s->path[i].index) < 0)
				return -1;
		} else if (pointer_put_key(&s->where, &s->sa,
		    c->t->text + n->key_off, n->key_len) < 0) {
			return -1;
		}
	}
	return 0;
}

static int
vfail(struct vctx *c, const char *keyword, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * Report a failure: 1, or -1 when memory runs out.  Inside anyOf, oneOf
 * and not, failures are expected and nothing is written.
 */
static int
vfail(struct vctx *c, const char *keyword, const char *fmt, ...)
{
	struct buf *msg = &c->s->msg;
	va_list ap;
	int n;

	if (c->quiet)
		return 1;
	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	buf_reset(msg);
	if (n < 0 || buf_grow(msg, (size_t)n) < 0)
		return -1;
	va_start(ap, fmt);
	vsnprintf(msg->data, (size_t)n + 1, fmt, ap);
	va_end(ap);
	msg->len = (size_t)n;
	c->s->keyword = keyword;
	return path_write(c) < 0 ? -1 : 1;
}

/* Too deep is reported even in quiet parts, and sticks. */
static int
fail_too_deep(struct vctx *c)
{
	int quiet = c->quiet, r;

	c->quiet = 0;
	r = vfail(c, "depth", "nesting deeper than %d levels",
	    JSONSCHEMA_MAX_DEPTH);
	c->quiet = quiet;
	c->too_deep = 1;
	return r;
}

static int check(struct vctx *c, const struct sch *sc, uint32_t v);

/* Check child `v` (member or element `index`) against `sc`. */
static int
check_child(struct vctx *c, const struct sch *sc, uint32_t v,
    uint32_t index)
{
	int r;

	if (path_push(c, v, index) < 0)
		return -1;
	r = check(c, sc, v);
	c->s->npath--;
	return r;
}

static unsigned
value_type(const struct vctx *c, uint32_t v)
{
	const struct jsonschema_node *n = &c->t->node[v];

	switch (n->type) {
	case JSONSCHEMA_NULL: return T_NULL;
	case JSONSCHEMA_TRUE: case JSONSCHEMA_FALSE: return T_BOOLEAN;
	case JSONSCHEMA_NUMBER:
		return number_is_int(node_text(c->t, v), n->len) ?
		    T_INTEGER : T_NUMBER;
	case JSONSCHEMA_STRING: return T_STRING;
	case JSONSCHEMA_ARRAY: return T_ARRAY;
	default: return T_OBJECT;
	}
}

static int
check_type(struct vctx *c, const struct sch *sc, uint32_t v)
{
	char want[128];
	unsigned got, k, left;
	size_t len = 0;

	if (c->t->node[v].type == JSONSCHEMA_NUMBER) {
		if (sc->types & T_NUMBER)
			return 0;
		got = value_type(c, v);
	} else {
		got = value_type(c, v);
	}
	if (sc->types & got)
		return 0;
	left = (unsigned)__builtin_popcount(sc->types);
	for (k = 0; k < 7; k++) {
		if (!(sc->types & (1u << k)))
			continue;
		left--;
		len += (size_t)snprintf(want + len, sizeof(want) - len,
		    "%s'%s'", len == 0 ? "" : left == 0 ? " or " : ", ",
		    type_names[k]);
	}
	return vfail(c, "type", "type %s expected, got '%s'", want,
	    type_names[__builtin_ctz(got)]);
}

static int
seen_get(uint64_t small, const unsigned char *big, uint32_t i)
{
	return big ? big[i] : (int)(small >> i & 1);
}

/* What one member of an object is, as far as the schema goes. */
struct member {
	const struct name *name;	/* the name it has, or NULL */
	uint64_t patterns;		/* which of the first 64 match */
};

static void
seen_set(uint64_t *small, unsigned char *big, uint32_t i)
{
	if (big)
		big[i] = 1;
	else
		*small |= (uint64_t)1 << i;
}

/* Look member `m` up among the names and patterns of the schema. */
static int
member_lookup(struct vctx *c, const struct sch *sc, uint32_t m,
    struct member *out)
{
	struct jsonschema *s = c->s;
	const struct jsonschema_node *n = &c->t->node[m];
	const char *lit = c->t->text + n->key_off, *k;
	int escaped = n->escapes & JSONSCHEMA_ESCAPED_KEY;
	size_t klen;
	uint32_t i;

	out->patterns = 0;
	if (sc->npprops) {
		k = string_cstr(&s->key, lit, n->key_len, escaped);
		klen = s->key.len;
		if (!k)
			return -1;
		for (i = 0; i < sc->npprops && i < 64; i++)
			if (regexec(&sc->pprops[i]->re, k, 0, NULL, 0) == 0)
				out->patterns |= (uint64_t)1 << i;
	} else if (string_view(&s->key, lit, n->key_len, escaped, &k,
	    &klen) < 0) {
		return -1;
	}
	out->name = names_find(sc, k, klen);
	return 0;
}

/* Past 64 patternProperties, the rest are matched here one by one. */
static int
check_more_patterns(struct vctx *c, const struct sch *sc, uint32_t m,
    int *matched)
{
	const struct jsonschema_node *n = &c->t->node[m];
	const char *k;
	uint32_t i;
	int r = 0;

	for (i = 64; r == 0 && i < sc->npprops; i++) {
		k = string_cstr(&c->s->key, c->t->text + n->key_off,
		    n->key_len, n->escapes & JSONSCHEMA_ESCAPED_KEY);
		if (!k)
			return -1;
		if (regexec(&sc->pprops[i]->re, k, 0, NULL, 0) != 0)
			continue;
		*matched = 1;
		r = check_child(c, sc->pprops[i]->schema, m, UINT32_MAX);
	}
	return r;
}

/*
 * Check one member: against its property schema and the patterns it
 * matches, or else against additionalProperties.
 */
static int
member_check(struct vctx *c, const struct sch *sc, uint32_t m,
    const struct member *mb)
{
	const struct jsonschema_node *n = &c->t->node[m];
	int matched = mb->patterns || (mb->name && mb->name->prop), r = 0;
	const char *k;
	size_t klen;
	uint32_t i;

	if (mb->name && mb->name->prop)
		r = check_child(c, mb->name->prop, m, UINT32_MAX);
	for (i = 0; r == 0 && i < sc->npprops && i < 64; i++)
		if (mb->patterns >> i & 1)
			r = check_child(c, sc->pprops[i]->schema, m,
			    UINT32_MAX);
	if (r == 0 && sc->npprops > 64)
		r = check_more_patterns(c, sc, m, &matched);
	if (r || matched)
		return r;
	if (sc->more_props)
		return check_child(c, sc->more_props, m, UINT32_MAX);
	if (!(sc->flags & NO_MORE_PROPS))
		return 0;
	if (string_view(&c->s->key, c->t->text + n->key_off, n->key_len,
	    n->escapes & JSONSCHEMA_ESCAPED_KEY, &k, &klen) < 0)
		return -1;
	return vfail(c, "additionalProperties",
	    "additional property '%.*s' not allowed", (int)klen, k);
}

static int
check_required(struct vctx *c, const struct sch *sc, uint64_t seen,
    const unsigned char *seen_big)
{
	uint32_t k, i;

	for (k = 0; k < sc->nrequired; k++) {
		i = sc->required[k];
		if (!seen_get(seen, seen_big, i))
			return vfail(c, "required",
			    "required property '%s' missing", sc->names[i].s);
	}
	return 0;
}

static int
check_dependencies(struct vctx *c, const struct sch *sc, uint32_t v,
    uint64_t seen, const unsigned char *seen_big)
{
	const struct name *nm;
	uint32_t k, j;
	int r;

	for (k = 0; k < sc->ndeps; k++) {
		nm = &sc->names[sc->deps[k]];
		if (!seen_get(seen, seen_big, sc->deps[k]))
			continue;
		for (j = 0; j < nm->dep->n; j++)
			if (!seen_get(seen, seen_big, nm->dep->names[j]))
				return vfail(c, "dependencies",
				    "property '%s' requires property '%s'",
				    nm->s, sc->names[nm->dep->names[j]].s);
		if (nm->dep->schema) {
			r = check(c, nm->dep->schema, v);
			if (r)
				return r;
		}
	}
	return 0;
}

/*
 * With required names, all members are looked up first, so that a
 * missing one fails before any member is checked in depth: inside anyOf
 * and oneOf that is what tells the branches apart, cheaply.
 */
static int
check_members(struct vctx *c, const struct sch *sc, uint32_t v,
    uint64_t *seen, unsigned char *seen_big)
{
	const struct jsonschema_node *n = &c->t->node[v];
	struct member one, *all = NULL;
	uint32_t m, k;
	int r;

	if (sc->nrequired && n->count) {
		all = arena_alloc(&c->s->scratch, n->count * sizeof(*all));
		if (!all)
			return -1;
		for (m = v + 1, k = 0; k < n->count; k++,
		    m = c->t->node[m].end) {
			if (member_lookup(c, sc, m, &all[k]) < 0)
				return -1;
			if (all[k].name)
				seen_set(seen, seen_big,
				    (uint32_t)(all[k].name - sc->names));
		}
		r = check_required(c, sc, *seen, seen_big);
		if (r)
			return r;
	}
	for (m = v + 1, k = 0; k < n->count; k++, m = c->t->node[m].end) {
		if (!all) {
			if (member_lookup(c, sc, m, &one) < 0)
				return -1;
			if (one.name)
				seen_set(seen, seen_big,
				    (uint32_t)(one.name - sc->names));
		}
		r = member_check(c, sc, m, all ? &all[k] : &one);
		if (r)
			return r;
	}
	return 0;
}

static int
check_object(struct vctx *c, const struct sch *sc, uint32_t v)
{
	const struct jsonschema_node *n = &c->t->node[v];
	unsigned char *seen_big = NULL;
	uint64_t seen = 0;
	int r;

	if (n->count < sc->min_props)
		return vfail(c, "minProperties", "minProperties %zu not "
		    "reached by %u properties", sc->min_props, n->count);
	if (n->count > sc->max_props)
		return vfail(c, "maxProperties", "maxProperties %zu exceeded "
		    "by %u properties", sc->max_props, n->count);
	if (sc->nnames > 64) {
		seen_big = arena_zalloc(&c->s->scratch, sc->nnames);
		if (!seen_big)
			return -1;
	}
	if (sc->nnames || sc->npprops || sc->more_props ||
	    (sc->flags & NO_MORE_PROPS)) {
		r = check_members(c, sc, v, &seen, seen_big);
		if (r)
			return r;
	}
	/* check_members() has done this already unless there were none. */
	r = n->count ? 0 : check_required(c, sc, seen, seen_big);
	return r ? r : check_dependencies(c, sc, v, seen, seen_big);
}

struct hashed {
	uint64_t hash;
	uint32_t index;
	uint32_t node;
};

static int
hashed_cmp(const void *a, const void *b)
{
	const struct hashed *x = a, *y = b;

	if (x->hash != y->hash)
		return x->hash < y->hash ? -1 : 1;
	return (x->index > y->index) - (x->index < y->index);
}

static int
unique_fail(struct vctx *c, uint32_t a, uint32_t b)
{
	if (c->too_deep)
		return 1;
	return vfail(c, "uniqueItems", "items %u and %u are equal", a, b);
}

/* Pairwise for short arrays; else sorted by hash, equal hashes compared. */
static int
check_unique(struct vctx *c, uint32_t v)
{
	const struct jsonschema_tree *t = c->t;
	uint32_t n = t->node[v].count, i, j, a, b;
	struct hashed *h;
	int eq;

	if (n <= UNIQUE_PAIRWISE) {
		for (a = v + 1, i = 0; i < n; i++, a = t->node[a].end)
			for (b = t->node[a].end, j = i + 1; j < n;
			    j++, b = t->node[b].end) {
				eq = json_equal(c, t, a, t, b, 0);
				if (eq)
					return eq < 0 ? -1 :
					    unique_fail(c, i, j);
			}
		return c->too_deep;
	}
	h = arena_alloc(&c->s->scratch, n * sizeof(*h));
	if (!h)
		return -1;
	for (a = v + 1, i = 0; i < n; i++, a = t->node[a].end)
		h[i] = (struct hashed){ json_hash(c, t, a, 0), i, a };
	if (c->oom)
		return -1;
	qsort(h, n, sizeof(*h), hashed_cmp);
	for (i = 0; i < n; i++)
		for (j = i + 1; j < n && h[j].hash == h[i].hash; j++) {
			eq = json_equal(c, t, h[i].node, t, h[j].node, 0);
			if (eq)
				return eq < 0 ? -1 :
				    unique_fail(c, h[i].index, h[j].index);
		}
	return c->too_deep;
}

static int
check_array(struct vctx *c, const struct sch *sc, uint32_t v)
{
	const struct jsonschema_node *n = &c->t->node[v];
	const struct sch *es;
	uint32_t e, k;
	int r;

	if (n->count < sc->min_items)
		return vfail(c, "minItems", "minItems %zu not reached by %u "
		    "items", sc->min_items, n->count);
	if (n->count > sc->max_items)
		return vfail(c, "maxItems", "maxItems %zu exceeded by %u items",
		    sc->max_items, n->count);
	for (e = v + 1, k = 0; k < n->count; k++, e = c->t->node[e].end) {
		es = sc->items;
		if (sc->flags & ITEM_LIST) {
			es = k < sc->nitem_list ? sc->item_list[k] :
			    sc->more_items;
			if (k >= sc->nitem_list && (sc->flags & NO_MORE_ITEMS))
				return vfail(c, "additionalItems",
				    "additional item %u not allowed", k);
		}
		if (!es)
			continue;
		r = check_child(c, es, e, k);
		if (r)
			return r;
	}
	return sc->flags & UNIQUE ? check_unique(c, v) : 0;
}

static int
check_number(struct vctx *c, const struct sch *sc, uint32_t v)
{
	const char *text = node_text(c->t, v);
	int len = (int)c->t->node[v].len, cmp;
	struct dec d;

	dec_parse(&d, text, (size_t)len);
	if (sc->flags & HAS_MAX) {
		cmp = dec_cmp(&d, &sc->maximum);
		if (cmp > 0 || (cmp == 0 && (sc->flags & EXCL_MAX)))
			return vfail(c, "maximum", "%smaximum %.*s %s by %.*s",
			    cmp == 0 ? "exclusive " : "", sc->max_len_text,
			    sc->max_text, cmp == 0 ? "reached" : "exceeded",
			    len, text);
	}
	if (sc->flags & HAS_MIN) {
		cmp = dec_cmp(&d, &sc->minimum);
		if (cmp < 0 || (cmp == 0 && (sc->flags & EXCL_MIN)))
			return vfail(c, "minimum", "%sminimum %.*s %s by %.*s",
			    cmp == 0 ? "exclusive " : "", sc->min_len_text,
			    sc->min_text, cmp == 0 ? "reached" :
			    "not reached", len, text);
	}
	if (sc->flags & HAS_MULTIPLE) {
		cmp = dec_is_multiple(&d, &sc->multiple);
		if (cmp <= 0)
			return cmp < 0 ? -1 : vfail(c, "multipleOf",
			    "%.*s is not a multiple of %.*s", len, text,
			    sc->multiple_len_text, sc->multiple_text);
	}
	return 0;
}

static int
check_string(struct vctx *c, const struct sch *sc, uint32_t v)
{
	const char *lit = node_text(c->t, v), *str;
	size_t len = c->t->node[v].len, n;
	int escaped = c->t->node[v].escapes & JSONSCHEMA_ESCAPED_VALUE, rc;

	if (sc->min_length > 0 || sc->max_length != SIZE_MAX) {
		n = string_length(lit, len);
		if (n < sc->min_length)
			return vfail(c, "minLength", "minLength %zu not "
			    "reached by length %zu", sc->min_length, n);
		if (n > sc->max_length)
			return vfail(c, "maxLength", "maxLength %zu "
			    "exceeded by length %zu", sc->max_length, n);
	}
	if (sc->pattern) {
		str = string_cstr(&c->s->sa, lit, len, escaped);
		if (!str)
			return -1;
		rc = regexec(&sc->pattern->re, str, 0, NULL, 0);
		if (rc != 0)
			return rc != REG_NOMATCH ? -1 : vfail(c, "pattern",
			    "pattern '%s' not matched", sc->pattern->src);
	}
	if (sc->format) {
		if (string_view(&c->s->sa, lit, len, escaped, &str, &n) < 0)
			return -1;
		if (!format_check(sc->format, str, n))
			return vfail(c, "format", "format '%s' expected",
			    format_names[sc->format]);
	}
	return 0;
}

static int
check_enum(struct vctx *c, const struct sch *sc, uint32_t v)
{
	const struct jsonschema_tree *st = &c->s->docs[sc->doc].tree;
	uint32_t e, k;
	int r;

	for (e = sc->enum_node + 1, k = 0; k < st->node[sc->enum_node].count;
	    k++, e = st->node[e].end) {
		r = json_equal(c, st, e, c->t, v, 0);
		if (r)
			return r < 0 ? -1 : 0;
	}
	return c->too_deep ? 1 : vfail(c, "enum", "value not in enum");
}

/* How many of `n` schemas the value passes, stopping at `enough`. */
static int
count_passes(struct vctx *c, struct sch *const *list, uint32_t n,
    uint32_t v, int enough, uint32_t *which)
{
	uint32_t k;
	int passes = 0, r;

	c->quiet++;
	for (k = 0; k < n && passes < enough; k++) {
		r = check(c, list[k], v);
		if (r < 0 || c->too_deep) {
			passes = r < 0 ? -1 : -2;
			break;
		}
		if (r == 0)
			which[passes++] = k;
	}
	c->quiet--;
	return passes;
}

static int
check_logic(struct vctx *c, const struct sch *sc, uint32_t v)
{
	uint32_t k, which[2];
	int r;

	for (k = 0; k < sc->nall_of; k++) {
		r = check(c, sc->all_of[k], v);
		if (r)
			return r;
	}
	if (sc->nany_of) {
		r = count_passes(c, sc->any_of, sc->nany_of, v, 1, which);
		if (r <= 0)
			return r == -1 ? -1 : r == -2 ? 1 : vfail(c, "anyOf",
			    "no schema in anyOf matched");
	}
	if (sc->none_of) {
		r = count_passes(c, sc->one_of, sc->none_of, v, 2, which);
		if (r != 1)
			return r == -1 ? -1 : r == -2 ? 1 : r == 0 ?
			    vfail(c, "oneOf", "no schema in oneOf matched") :
			    vfail(c, "oneOf", "schemas %u and %u in oneOf both "
			    "matched", which[0], which[1]);
	}
	if (sc->not) {
		r = count_passes(c, &sc->not, 1, v, 1, which);
		if (r != 0)
			return r == -1 ? -1 : r == -2 ? 1 : vfail(c, "not",
			    "value matches the schema in 'not'");
	}
	return 0;
}

static int
check(struct vctx *c, const struct sch *sc, uint32_t v)
{
	int r = 0;

	if (sc->ref)
		sc = sc->ref;
	if (c->too_deep)
		return 1;
	if (c->depth >= JSONSCHEMA_MAX_DEPTH)
		return fail_too_deep(c);
	c->depth++;
	if (sc->types)
		r = check_type(c, sc, v);
	if (r == 0) {
		switch (c->t->node[v].type) {
		case JSONSCHEMA_OBJECT:
			if (sc->flags & HAS_OBJECT)
				r = check_object(c, sc, v);
			break;
		case JSONSCHEMA_ARRAY:
			if (sc->flags & HAS_ARRAY)
				r = check_array(c, sc, v);
			break;
		case JSONSCHEMA_NUMBER:
			if (sc->flags & HAS_NUMBER)
				r = check_number(c, sc, v);
			break;
		case JSONSCHEMA_STRING:
			if (sc->flags & HAS_STRING)
				r = check_string(c, sc, v);
			break;
		}
	}
	if (r == 0 && (sc->flags & HAS_ENUM))
		r = check_enum(c, sc, v);
	if (r == 0 && (sc->flags & HAS_LOGIC))
		r = check_logic(c, sc, v);
	c->depth--;
	return r;
}

int
jsonschema_validate(struct jsonschema *s, const char *value_json,
    size_t len, struct jsonschema_error *out)
{
	struct vctx c = { .s = s, .t = &s->value };
	int r;

	s->npath = 0;
	s->keyword = "";
	arena_reset(&s->scratch);
	r = jsonschema_tree_parse(&s->value, value_json, len);
	if (r > 0)
		r = vfail(&c, "json", "malformed JSON text");
	else if (r == 0)
		r = check(&c, s->root, 0);
	if (c.oom)
		r = -1;
	if (out) {
		out->path = r == 1 ? s->where.data : "";
		out->keyword = r == 1 ? s->keyword : "";
		out->message = r == 1 ? s->msg.data : "";
	}
	return r;
}

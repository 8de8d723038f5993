/*
 * Reading a page.  The top-level object is walked member by member: the
 * decisions are compacted one by one, so their bounds come for free;
 * pagination is kept for json-c; anything else is checked and dropped.
 */
#include "page.h"

#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "../common/json.h"
#include "../common/log.h"

void
page_init(struct page *pg)
{
	memset(pg, 0, sizeof(*pg));
	buf_init(&pg->text, 0);
	buf_init(&pg->cursor, 0);
	buf_init(&pg->pagination, 0);
	buf_init(&pg->scratch, 0);
}

void
page_release(struct page *pg)
{
	buf_release(&pg->text);
	buf_release(&pg->cursor);
	buf_release(&pg->pagination);
	buf_release(&pg->scratch);
	free(pg->items);
	pg->items = NULL;
	pg->n = pg->cap = 0;
}

/* Parse `len` bytes of checked JSON text with json-c; NULL on failure. */
static struct json_object *
parse_span(const char *text, size_t len)
{
	struct json_tokener *tok = json_tokener_new();
	struct json_object *obj;

	if (!tok)
		return NULL;
	obj = json_tokener_parse_ex(tok, text, (int)len);
	json_tokener_free(tok);
	return obj;
}

static int
item_add(struct page *pg, size_t off, size_t len)
{
	if (pg->n == pg->cap) {
		size_t cap = pg->cap ? pg->cap * 2 : 1024;
		struct page_item *p = realloc(pg->items, cap * sizeof(*p));

		if (!p)
			return -1;
		pg->items = p;
		pg->cap = cap;
	}
	pg->items[pg->n].off = off;
	pg->items[pg->n].len = len;
	pg->n++;
	return 0;
}

/*
 * Compact the elements of the array at body[*pos] one by one into
 * pg->text, noting where each lies.  0, or -1 with `err` set.
 */
static int
scan_decisions(struct page *pg, const char *body, size_t len, size_t *pos,
    struct json_error *err)
{
	size_t p = json_skip_ws(body, len, *pos), start;

	if (p >= len || body[p] != '[') {
		err->offset = p;
		err->what = "'decisions' is not a list";
		return -1;
	}
	p = json_skip_ws(body, len, p + 1);
	if (p < len && body[p] == ']') {
		*pos = p + 1;
		return 0;
	}
	for (;;) {
		start = pg->text.len;
		if (json_compact_value(body, len, &p, &pg->text, NULL,
		    err) < 0)
			return -1;
		if (item_add(pg, start, pg->text.len - start) < 0) {
			err->offset = p;
			err->what = "out of memory";
			return -1;
		}
		p = json_skip_ws(body, len, p);
		if (p < len && body[p] == ',') {
			p++;
			continue;
		}
		if (p < len && body[p] == ']') {
			*pos = p + 1;
			return 0;
		}
		err->offset = p;
		err->what = "expected ',' or ']' in 'decisions'";
		return -1;
	}
}

/*
 * Walk the page's top-level object: the decisions are compacted one by
 * one, so their bounds come for free; pagination is kept for json-c;
 * anything else is checked and dropped.  0, or -1 with `err` set.  Bits
 * of *found say which of 'decisions' (1) and 'pagination' (2) were seen.
 */
static int
scan_page(struct page *pg, const char *body, size_t len, int *found,
    struct json_error *err)
{
	size_t p = json_skip_ws(body, len, 0), klen;
	const char *key;

	*found = 0;
	if (p >= len || body[p] != '{') {
		err->offset = p;
		err->what = "not a JSON object";
		return -1;
	}
	p = json_skip_ws(body, len, p + 1);
	if (p < len && body[p] == '}')
		goto end;
	for (;;) {
		buf_reset(&pg->scratch);
		if (p >= len || body[p] != '"' || json_compact_value(body,
		    len, &p, &pg->scratch, NULL, err) < 0) {
			err->offset = p;
			err->what = "expected a string as object key";
			return -1;
		}
		key = pg->scratch.data;
		klen = pg->scratch.len;
		p = json_skip_ws(body, len, p);
		if (p >= len || body[p] != ':') {
			err->offset = p;
			err->what = "expected ':' after object key";
			return -1;
		}
		p++;
		if (json_string_equals(key, klen, "decisions", 9)) {
			if (scan_decisions(pg, body, len, &p, err) < 0)
				return -1;
			*found |= 1;
		} else if (json_string_equals(key, klen, "pagination", 10)) {
			buf_reset(&pg->pagination);
			if (json_compact_value(body, len, &p, &pg->pagination,
			    NULL, err) < 0)
				return -1;
			*found |= 2;
		} else {
			buf_reset(&pg->scratch);
			if (json_compact_value(body, len, &p, &pg->scratch,
			    NULL, err) < 0)
				return -1;
		}
		p = json_skip_ws(body, len, p);
		if (p < len && body[p] == ',') {
			p = json_skip_ws(body, len, p + 1);
			continue;
		}
		if (p < len && body[p] == '}')
			break;
		err->offset = p;
		err->what = "expected ',' or '}' in object";
		return -1;
	}
end:
	if (json_skip_ws(body, len, p + 1) != len) {
		err->offset = p + 1;
		err->what = "unexpected text after the JSON value";
		return -1;
	}
	return 0;
}

/*
 * Check a page's JSON and find its parts.  Returns 0; 1 when the body is
 * not JSON at all (worth another attempt); -1 after a CRITICAL line when
 * it is JSON of the wrong shape.
 */
int
page_parse(struct page *pg, const char *body, size_t len, int number)
{
	struct json_object *pag = NULL, *v;
	struct json_error err;
	int found, rc = -1;

	buf_reset(&pg->text);
	buf_reset(&pg->cursor);
	pg->n = 0;
	if (scan_page(pg, body, len, &found, &err) < 0) {
		/* Text that scans as JSON of another shape is not retried. */
		if (json_compact(body, len, &pg->scratch, &err) == 0 ||
		    strcmp(err.what, "out of memory") == 0) {
			log_critical("cannot read page %d of 'decisions': the "
			    "answer is not a JSON object with a 'decisions' "
			    "list", number);
			return -1;
		}
		log_warn("page %d of 'decisions' is not JSON: %s at byte %zu",
		    number, err.what, err.offset);
		return 1;
	}
	if (found != 3) {
		log_critical("cannot read page %d of 'decisions': the answer "
		    "lacks a 'decisions' list or a 'pagination' object",
		    number);
		return -1;
	}

	pag = parse_span(pg->pagination.data, pg->pagination.len);
	/* has_next and next_cursor are borrowed from pag. */
	if (!pag || !json_object_is_type(pag, json_type_object) ||
	    !json_object_object_get_ex(pag, "has_next", &v) ||
	    !json_object_is_type(v, json_type_boolean)) {
		log_critical("cannot read page %d of 'decisions': "
		    "'pagination' has no boolean 'has_next'", number);
		goto out;
	}
	pg->has_next = json_object_get_boolean(v);
	if (pg->has_next) {
		/* A cursor with a NUL in it could not be sent back. */
		if (!json_object_object_get_ex(pag, "next_cursor", &v) ||
		    !json_object_is_type(v, json_type_string) ||
		    json_object_get_string_len(v) == 0 ||
		    strlen(json_object_get_string(v)) !=
		    (size_t)json_object_get_string_len(v)) {
			log_critical("cannot read page %d of 'decisions': "
			    "'has_next' is true but 'next_cursor' is missing, "
			    "empty or not text", number);
			goto out;
		}
		buf_puts(&pg->cursor, json_object_get_string(v));
	}
	rc = 0;
out:
	json_object_put(pag);
	return rc;
}

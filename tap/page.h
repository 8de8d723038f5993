/*
 * One page of the decision-history API: its JSON is checked, each
 * decision is compacted and located, and the pagination is read.
 */
#ifndef TAP_PAGE_H
#define TAP_PAGE_H

#include <stddef.h>

#include "../common/buf.h"

/* Where one decision lies in the page's compact text. */
struct page_item {
	size_t off;
	size_t len;
};

struct page {
	struct buf text;		/* the decisions, compact, end to end */
	struct page_item *items;		/* one per decision */
	size_t n;
	size_t cap;
	struct buf pagination;		/* the compact pagination object */
	struct buf scratch;		/* keys and members we skip */
	int has_next;
	struct buf cursor;		/* decoded next_cursor */
};

void page_init(struct page *pg);
void page_release(struct page *pg);

/*
 * Read page `number` from `len` bytes of `body`.  Returns 0 with the
 * decisions located in pg->text and pg->items and the pagination read;
 * 1 when the body is not JSON at all (worth fetching again, a WARNING is
 * logged); -1 after a CRITICAL line when it is JSON of the wrong shape
 * (no 'decisions' list or 'pagination' object, or 'has_next' without a
 * cursor).
 */
int page_parse(struct page *pg, const char *body, size_t len, int number);

#endif

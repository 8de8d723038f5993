/*
 * Fuzz the reading of a decision-history page.  When a page is accepted,
 * its decisions must lie end to end in the page's text, each one compact
 * JSON that compacts to itself, and a next page must have a cursor.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../common/buf.h"
#include "../../common/json.h"
#include "../../common/log.h"
#include "../../tap/page.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_set_level((enum log_level)(LOG_CRITICAL + 1));
	return 0;
}

static void
check_items(const struct page *pg)
{
	struct json_error err;
	struct buf again;
	size_t i, end = 0;

	buf_init(&again, 0);
	for (i = 0; i < pg->n; i++) {
		const struct page_item *it = &pg->items[i];

		if (it->off != end || it->len == 0 ||
		    it->len > pg->text.len - it->off)
			abort();
		end = it->off + it->len;
		buf_reset(&again);
		if (json_compact(pg->text.data + it->off, it->len, &again,
		    &err) != 0 || again.len != it->len ||
		    memcmp(again.data, pg->text.data + it->off, it->len) != 0)
			abort();
	}
	if (end != pg->text.len)
		abort();
	buf_release(&again);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct page pg;
	int rc;

	page_init(&pg);
	rc = page_parse(&pg, (const char *)data, size, 1);
	if (rc < -1 || rc > 1)
		abort();
	if (rc == 0) {
		check_items(&pg);
		if (pg.has_next && pg.cursor.len == 0)
			abort();
		if (!pg.has_next && pg.cursor.len != 0)
			abort();
	}
	page_release(&pg);
	return 0;
}

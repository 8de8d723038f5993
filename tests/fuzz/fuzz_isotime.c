/*
 * Fuzz the ISO 8601 parser.  Every time it accepts must survive a round
 * trip through both output forms: each is read back as an aware time
 * naming the same instant.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../common/isotime.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_back(const struct isotime *t, const char *text)
{
	struct isotime back;
	size_t len = strlen(text);

	if (len >= ISOTIME_BUFSZ - 1 || isotime_parse(&back, text, len) != 0)
		abort();
	if (back.sec != t->sec || back.usec != t->usec || !back.has_offset)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char out[ISOTIME_BUFSZ];
	struct isotime t;

	if (isotime_parse(&t, (const char *)data, size) != 0)
		return 0;
	if (t.usec < 0 || t.usec > 999999 || (t.has_offset != 0 &&
	    t.has_offset != 1))
		abort();
	isotime_format_micro(out, &t);
	check_back(&t, out);
	isotime_format_offset(out, &t);
	check_back(&t, out);
	return 0;
}

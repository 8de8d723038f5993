/*
 * Runs the JSON Schema Test Suite for draft 4 against common/jsonschema.c:
 * every test of every file in the conformance directory (CONFORMANCE_DIR,
 * or ../shared/conformance/json-schema-draft4 from the repository root).
 * Prints a line per group and counts individual tests.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../common/buf.h"
#include "../../common/json.h"
#include "../../common/jsonschema.h"

#define DEFAULT_DIR "../shared/conformance/json-schema-draft4"

static int tests_passed, tests_failed;

/* Read a whole file into `out`; 0 or -1. */
static int
read_file(const char *path, struct buf *out)
{
	char chunk[65536];
	FILE *f = fopen(path, "rb");
	size_t n;
	int rc = 0;

	if (!f)
		return -1;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		if (buf_append(out, chunk, n) < 0)
			rc = -1;
	if (ferror(f))
		rc = -1;
	fclose(f);
	return rc;
}

/* The decoded text of a string node, in `tmp`. */
static const char *
node_string(struct buf *tmp, const struct jsonschema_tree *t, long i)
{
	buf_reset(tmp);
	if (i < 0 || t->node[i].type != JSONSCHEMA_STRING ||
	    json_string_decode(tmp, t->text + t->node[i].off,
	    t->node[i].len) < 0)
		return "?";
	return tmp->data ? tmp->data : "";
}

/*
 * Run the tests of one group; failures are described in `report`.
 * Returns the number of tests that disagree with the suite.
 */
static int
run_group(const struct jsonschema_tree *t, size_t group, struct buf *report)
{
	long schema = jsonschema_tree_member(t, group, "schema");
	long tests = jsonschema_tree_member(t, group, "tests");
	struct jsonschema_error e = { "", "", "" };
	struct jsonschema *s = NULL;
	struct buf tmp;
	char err[256] = "";
	uint32_t c, k;
	int bad = 0, r;

	buf_init(&tmp, 0);
	if (schema >= 0)
		s = jsonschema_new(t->text + t->node[schema].off,
		    t->node[schema].len, err, sizeof(err));
	for (c = (uint32_t)tests + 1, k = 0; tests >= 0 &&
	    k < t->node[tests].count; k++, c = t->node[c].end) {
		long data = jsonschema_tree_member(t, c, "data");
		long valid = jsonschema_tree_member(t, c, "valid");
		int want = valid >= 0 && t->node[valid].type == JSONSCHEMA_TRUE;

		r = s && data >= 0 ? jsonschema_validate(s,
		    t->text + t->node[data].off, t->node[data].len, &e) : -2;
		if (r >= 0 && (r == 0) == want) {
			tests_passed++;
			continue;
		}
		tests_failed++;
		bad++;
		buf_printf(report, "  - %s: want %s, got %s",
		    node_string(&tmp, t, jsonschema_tree_member(t, c,
		    "description")), want ? "valid" : "invalid",
		    r == 0 ? "valid" : r == 1 ? "invalid" : r == -1 ?
		    "out of memory" : "no schema");
		if (r == 1)
			buf_printf(report, " at '%s': %s", e.path, e.message);
		else if (r == -2)
			buf_printf(report, ": %s", err);
		buf_putc(report, '\n');
	}
	jsonschema_free(s);
	buf_release(&tmp);
	return bad;
}

static void
run_file(const char *dir, const char *name)
{
	struct jsonschema_tree t;
	struct json_error jerr;
	struct buf raw, text, report, tmp;
	char path[4096];
	uint32_t g, k;

	buf_init(&raw, 0);
	buf_init(&text, 0);
	buf_init(&report, 0);
	buf_init(&tmp, 0);
	jsonschema_tree_init(&t);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (read_file(path, &raw) < 0 || json_compact(raw.data ? raw.data : "",
	    raw.len, &text, &jerr) < 0 ||
	    jsonschema_tree_parse(&t, text.data, text.len) != 0 ||
	    t.node[0].type != JSONSCHEMA_ARRAY) {
		printf("FAIL %s: cannot read the file\n", name);
		tests_failed++;
		goto out;
	}
	for (g = 1, k = 0; k < t.node[0].count; k++, g = t.node[g].end) {
		buf_reset(&report);
		printf("%s %s: %s\n", run_group(&t, g, &report) ? "FAIL" :
		    "ok  ", name, node_string(&tmp, &t,
		    jsonschema_tree_member(&t, g, "description")));
		if (report.len)
			fputs(report.data, stdout);
	}
out:
	jsonschema_tree_release(&t);
	buf_release(&raw);
	buf_release(&text);
	buf_release(&report);
	buf_release(&tmp);
}

static int
is_json_file(const struct dirent *d)
{
	size_t n = strlen(d->d_name);

	return n > 5 && strcmp(d->d_name + n - 5, ".json") == 0;
}

int
main(void)
{
	const char *dir = getenv("CONFORMANCE_DIR");
	struct dirent **names;
	int n, i;

	if (!dir || !*dir)
		dir = DEFAULT_DIR;
	n = scandir(dir, &names, is_json_file, alphasort);
	if (n <= 0) {
		printf("FAIL cannot list the test files in '%s'\n", dir);
		printf("0 passed, 1 failed\n");
		return 1;
	}
	for (i = 0; i < n; i++) {
		run_file(dir, names[i]->d_name);
		free(names[i]);
	}
	free(names);
	printf("%d passed, %d failed\n", tests_passed, tests_failed);
	return tests_failed ? 1 : 0;
}

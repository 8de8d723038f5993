/*
 * jsonc-parse: the benchmark's baseline.  Reads standard input a line at
 * a time, parses each line with json-c through one reused tokener, drops
 * the result and prints how many lines it parsed; nothing else.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/types.h>

#include <json-c/json.h>

/* Parse one line; 0 when it held a whole JSON value, -1 otherwise. */
static int
parse_line(struct json_tokener *tok, const char *line, size_t len)
{
	struct json_object *obj;

	if (len > (size_t)INT_MAX)
		return -1;
	json_tokener_reset(tok);
	obj = json_tokener_parse_ex(tok, line, (int)len);
	if (!obj && json_tokener_get_error(tok) != json_tokener_success)
		return -1;

	json_object_put(obj);
	return 0;
}

/* json-c calls a value cut short by the end of the line "continue". */
static const char *
error_text(struct json_tokener *tok)
{
	enum json_tokener_error err = json_tokener_get_error(tok);

	if (err == json_tokener_continue)
		return "the line ends inside a value";
	return json_tokener_error_desc(err);
}

int
main(void)
{
	struct json_tokener *tok;
	unsigned long long count = 0;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int rc = 0;

	tok = json_tokener_new();
	if (!tok) {
		fputs("jsonc-parse: cannot create a json-c tokener\n", stderr);
		return 1;
	}

	for (;;) {
		size_t len;

		n = getline(&line, &cap, stdin);
		if (n < 0)
			break;
		len = (size_t)n;
		if (len > 0 && line[len - 1] == '\n')
			len--;
		if (parse_line(tok, line, len) < 0) {
			fprintf(stderr, "jsonc-parse: cannot parse line %llu: "
			    "%s\n", count + 1, error_text(tok));
			rc = 1;
			break;
		}
		count++;
	}
	if (rc == 0 && ferror(stdin)) {
		perror("jsonc-parse: cannot read standard input");
		rc = 1;
	}

	free(line);
	json_tokener_free(tok);
	printf("%llu\n", count);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		perror("jsonc-parse: cannot write standard output");
		return 1;
	}
	return rc;
}

/*
 * Fuzz the target's handling of Singer lines.  The input is cut into lines
 * the way the program's reader cuts stdin, and the lines go through a dry
 * run that validates records and still builds every request body.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../common/log.h"
#include "../../target/sender.h"
#include "../../target/target.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static FILE *devnull;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	/* One past CRITICAL: every line is dropped before it is formatted. */
	log_set_level((enum log_level)(LOG_CRITICAL + 1));
	devnull = fopen("/dev/null", "w");
	if (!devnull) {
		perror("fuzz_target_lines: /dev/null");
		abort();
	}
	return 0;
}

/*
 * Length of the line at data[0..size) and of its ending: "\n", "\r\n" or
 * a lone "\r", or nothing for a last line without one.
 */
static size_t
next_line(const char *data, size_t size, size_t *raw_len)
{
	size_t i;

	for (i = 0; i < size; i++)
		if (data[i] == '\n' || data[i] == '\r')
			break;
	*raw_len = i;
	if (i < size)
		*raw_len += data[i] == '\r' && i + 1 < size &&
		    data[i + 1] == '\n' ? 2 : 1;
	return i;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data;
	struct sender_opts so;
	struct target_opts to;
	struct sender s;
	struct target t;
	size_t len, raw_len, line_no = 0;
	int rc = 0;

	memset(&so, 0, sizeof(so));
	so.dry_run = 1;
	so.limit = 1;
	so.state_out = devnull;
	if (sender_start(&s, &so) < 0)
		abort();

	memset(&to, 0, sizeof(to));
	to.max_records = 3;
	to.max_bytes = 4000;
	to.delay = 1e9;		/* no flush may depend on the clock */
	to.output = devnull;
	to.dry_run = 1;
	to.validate = 1;
	target_init(&t, &to, &s);

	while (size > 0) {
		len = next_line(p, size, &raw_len);
		line_no++;
		if (target_handle_line(&t, p, len, raw_len, line_no) < 0 ||
		    sender_failed(&s)) {
			rc = -1;
			break;
		}
		p += raw_len;
		size -= raw_len;
	}
	/* As in the program: the input is flushed only if it was all read. */
	if (rc == 0)
		target_finish(&t);
	/* The sender borrows stream names, so it goes first. */
	sender_finish(&s, 1);
	target_release(&t);
	return 0;
}

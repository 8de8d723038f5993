/*
 * Reading input one line at a time from a file descriptor.  A line ends
 * at "\n", "\r\n" or a lone "\r", as Python's universal newlines would
 * have it.  A line longer than the reader's ceiling is an error rather
 * than a reason to use unbounded memory.
 */
#ifndef TARGET_LINES_H
#define TARGET_LINES_H

#include <signal.h>
#include <stddef.h>

struct lines {
	int fd;
	char *buf;
	size_t cap;
	size_t start;	/* first byte not yet handed out */
	size_t end;	/* end of the bytes read */
	size_t max;	/* longest line allowed */
	int eof;
	int idle_ms;	/* -1: wait for input as long as it takes */
	char error[128];	/* why lines_next() returned -1 */
	volatile sig_atomic_t *stop;	/* set by a signal handler, or NULL */
};

void lines_init(struct lines *r, int fd, size_t max);
void lines_release(struct lines *r);

/*
 * Hand out the next line: *line points into the reader's buffer and stays
 * valid until the next call; *len excludes the line ending, *raw_len
 * includes it.  Returns 1 for a line, 0 at end of input, 2 when no input
 * came for `idle_ms` (nothing is handed out then; call again), 3 when a
 * signal interrupted the wait and *stop is set, -1 when a
 * read fails or a line passes the ceiling; r->error then says which
 * (nothing is logged here: the caller knows the line number).
 */
int lines_next(struct lines *r, const char **line, size_t *len,
    size_t *raw_len);

#endif

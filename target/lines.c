/*
 * A line reader over read(2).  Bytes stay in one buffer that slides: when
 * a line is incomplete, the unread tail is moved to the front and more is
 * read behind it, so a line is never copied twice.
 */
#include "lines.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <stdio.h>

#define LINES_CHUNK (256u << 10)

void
lines_init(struct lines *r, int fd, size_t max)
{
	memset(r, 0, sizeof(*r));
	r->fd = fd;
	r->max = max;
	r->idle_ms = -1;
}

void
lines_release(struct lines *r)
{
	free(r->buf);
	r->buf = NULL;
	r->cap = r->start = r->end = 0;
}

static int
lines_error(struct lines *r, const char *what)
{
	snprintf(r->error, sizeof(r->error), "%s", what);
	return -1;
}

static int
too_long(struct lines *r)
{
	snprintf(r->error, sizeof(r->error), "the line is longer than %zu "
	    "bytes", r->max);
	return -1;
}

/*
 * Read more bytes behind the unread ones; 0, 1 when nothing came within
 * the reader's idle timeout, 3 when a signal asked to stop, or -1 on
 * error.
 */
static int
fill(struct lines *r)
{
	struct pollfd pfd = { .fd = r->fd, .events = POLLIN };
	ssize_t n;
	int ready;

	if (r->start > 0) {
		memmove(r->buf, r->buf + r->start, r->end - r->start);
		r->end -= r->start;
		r->start = 0;
	}
	if (r->cap - r->end < LINES_CHUNK / 2) {
		size_t cap = r->cap ? r->cap * 2 : LINES_CHUNK;
		char *p;

		if (cap > r->max + LINES_CHUNK)
			cap = r->max + LINES_CHUNK;
		if (cap <= r->end)
			return too_long(r);
		p = realloc(r->buf, cap);
		if (!p)
			return lines_error(r, "out of memory");
		r->buf = p;
		r->cap = cap;
	}
	if (r->idle_ms >= 0) {
		do {
			ready = poll(&pfd, 1, r->idle_ms);
			if (ready < 0 && errno == EINTR && r->stop && *r->stop)
				return 3;
		} while (ready < 0 && errno == EINTR);
		if (ready == 0)
			return 1;
	}
	do {
		n = read(r->fd, r->buf + r->end, r->cap - r->end);
		if (n < 0 && errno == EINTR && r->stop && *r->stop)
			return 3;
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return lines_error(r, strerror(errno));
	if (n == 0)
		r->eof = 1;
	r->end += (size_t)n;
	return 0;
}

int
lines_next(struct lines *r, const char **line, size_t *len,
    size_t *raw_len)
{
	size_t scanned = 0, i;
	int rc;

	for (;;) {
		char *p = r->buf + r->start;
		size_t avail = r->end - r->start;

		for (i = scanned; i < avail; i++)
			if (p[i] == '\n' || p[i] == '\r')
				break;
		if (i < avail && i > r->max)
			return too_long(r);
		if (i < avail && (p[i] == '\n' || i + 1 < avail || r->eof)) {
			size_t ending = 1;

			if (p[i] == '\r' && i + 1 < avail && p[i + 1] == '\n')
				ending = 2;
			*line = p;
			*len = i;
			*raw_len = i + ending;
			r->start += i + ending;
			return 1;
		}
		if (r->eof) {
			if (avail == 0)
				return 0;
			*line = p;
			*len = avail;
			*raw_len = avail;
			r->start = r->end;
			return 1;
		}
		if (i > r->max)
			return too_long(r);
		scanned = i;
		rc = fill(r);
		if (rc != 0)
			return rc < 0 ? -1 : rc == 1 ? 2 : 3;
	}
}

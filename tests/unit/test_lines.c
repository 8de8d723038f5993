/*
 * The line reader in target/lines.c over pipes and temporary files: the
 * three line endings, empty and unterminated lines, endings split across
 * reads, the length ceiling and the raw length that counts the ending.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../common/buf.h"
#include "../../common/log.h"
#include "../../target/lines.h"
#include "check.h"

/* How much the reader asks read(2) for at a time. */
#define CHUNK (256u << 10)

#define LIT(s) (s), (sizeof(s) - 1)

static struct lines rd;
static int rd_fd = -1;

/* A thread that feeds a pipe in pieces, pausing between them. */
struct writer {
	pthread_t thread;
	int running;
	int fd;
	const char *data;
	size_t len;
	size_t step;
	useconds_t pause;
};

static struct writer wr;

static void *
writer_main(void *arg)
{
	struct writer *w = arg;
	size_t off = 0;

	while (off < w->len) {
		size_t n = w->len - off < w->step ? w->len - off : w->step;
		ssize_t k = write(w->fd, w->data + off, n);

		if (k <= 0)
			break;
		off += (size_t)k;
		if (w->pause)
			usleep(w->pause);
	}
	close(w->fd);
	return NULL;
}

/* Undo whatever the previous test set up. */
static void
finish(void)
{
	lines_release(&rd);
	if (rd_fd >= 0)
		close(rd_fd);
	rd_fd = -1;
	if (wr.running)
		pthread_join(wr.thread, NULL);
	wr.running = 0;
}

/* A reader over a pipe already holding `len` bytes (small inputs). */
static int
open_pipe(const char *data, size_t len, size_t max)
{
	int fds[2];

	finish();
	if (pipe(fds) < 0)
		return -1;
	if (write(fds[1], data, len) != (ssize_t)len) {
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	close(fds[1]);
	rd_fd = fds[0];
	lines_init(&rd, rd_fd, max);
	return 0;
}

/* A reader over a pipe that a thread fills `step` bytes at a time. */
static int
open_fed_pipe(const char *data, size_t len, size_t step, useconds_t pause,
    size_t max)
{
	int fds[2];

	finish();
	if (pipe(fds) < 0)
		return -1;
	wr.fd = fds[1];
	wr.data = data;
	wr.len = len;
	wr.step = step;
	wr.pause = pause;
	if (pthread_create(&wr.thread, NULL, writer_main, &wr) != 0) {
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	wr.running = 1;
	rd_fd = fds[0];
	lines_init(&rd, rd_fd, max);
	return 0;
}

/* A reader over a temporary file, so that every read is a full one. */
static int
open_file(const char *data, size_t len, size_t max)
{
	FILE *f;
	size_t off = 0;
	int fd;

	finish();
	f = tmpfile();
	if (!f)
		return -1;
	fd = dup(fileno(f));
	fclose(f);
	if (fd < 0)
		return -1;
	while (off < len) {
		ssize_t k = write(fd, data + off, len - off);

		if (k <= 0) {
			close(fd);
			return -1;
		}
		off += (size_t)k;
	}
	if (lseek(fd, 0, SEEK_SET) != 0) {
		close(fd);
		return -1;
	}
	rd_fd = fd;
	lines_init(&rd, rd_fd, max);
	return 0;
}

/* Is the next line `want` with a raw length of `raw`? */
static int
next_is(const char *want, size_t raw)
{
	const char *line = NULL;
	size_t len = 0, raw_len = 0;
	int rc = lines_next(&rd, &line, &len, &raw_len);

	if (rc != 1) {
		printf("  lines_next gave %d, want line '%s'\n", rc, want);
		return 0;
	}
	if (len != strlen(want) || memcmp(line, want, len) != 0 ||
	    raw_len != raw) {
		printf("  got '%.*s' (%zu, raw %zu), want '%s' (raw %zu)\n",
		    (int)(len > 60 ? 60 : len), line, len, raw_len, want, raw);
		return 0;
	}
	return 1;
}

static int
at_end(void)
{
	const char *line;
	size_t len, raw_len;

	return lines_next(&rd, &line, &len, &raw_len) == 0;
}

static int
fails(void)
{
	const char *line;
	size_t len, raw_len;

	return lines_next(&rd, &line, &len, &raw_len) == -1;
}

static void
test_lines_ended_by_newline(void)
{
	CHECK(open_pipe(LIT("a\nbb\nccc\n"), 1000) == 0);
	CHECK(next_is("a", 2));
	CHECK(next_is("bb", 3));
	CHECK(next_is("ccc", 4));
	CHECK(at_end());
}

static void
test_lines_ended_by_crlf(void)
{
	CHECK(open_pipe(LIT("a\r\nbb\r\n{\"x\":1}\r\n"), 1000) == 0);
	CHECK(next_is("a", 3));
	CHECK(next_is("bb", 4));
	CHECK(next_is("{\"x\":1}", 9));
	CHECK(at_end());
}

static void
test_lines_ended_by_lone_cr(void)
{
	CHECK(open_pipe(LIT("a\rbb\rccc\r"), 1000) == 0);
	CHECK(next_is("a", 2));
	CHECK(next_is("bb", 3));
	CHECK(next_is("ccc", 4));
	CHECK(at_end());
}

static void
test_lines_with_mixed_endings(void)
{
	CHECK(open_pipe(LIT("a\r\n\rb\n\r\nc\n\rd"), 1000) == 0);
	CHECK(next_is("a", 3));
	CHECK(next_is("", 1));
	CHECK(next_is("b", 2));
	CHECK(next_is("", 2));
	CHECK(next_is("c", 2));
	CHECK(next_is("", 1));
	CHECK(next_is("d", 1));
	CHECK(at_end());
}

static void
test_final_line_without_ending(void)
{
	CHECK(open_pipe(LIT("first\nlast"), 1000) == 0);
	CHECK(next_is("first", 6));
	CHECK(next_is("last", 4));
	CHECK(at_end());
	CHECK(at_end());
}

static void
test_only_line_without_ending(void)
{
	CHECK(open_pipe(LIT("{\"type\":\"STATE\"}"), 1000) == 0);
	CHECK(next_is("{\"type\":\"STATE\"}", 16));
	CHECK(at_end());
}

static void
test_empty_lines(void)
{
	CHECK(open_pipe(LIT("\n\n\r\n\rx\n\n"), 1000) == 0);
	CHECK(next_is("", 1));
	CHECK(next_is("", 1));
	CHECK(next_is("", 2));
	CHECK(next_is("", 1));
	CHECK(next_is("x", 2));
	CHECK(next_is("", 1));
	CHECK(at_end());
}

static void
test_empty_input(void)
{
	CHECK(open_pipe("", 0, 1000) == 0);
	CHECK(at_end());
	CHECK(at_end());
}

static void
test_cr_as_last_byte_of_input(void)
{
	CHECK(open_pipe(LIT("a\r"), 1000) == 0);
	CHECK(next_is("a", 2));
	CHECK(at_end());
}

static void
test_line_keeps_other_bytes(void)
{
	CHECK(open_pipe(LIT("a\tb\0c\x0b\x0c\xc3\xa9\n"), 1000) == 0);
	{
		const char *line;
		size_t len, raw_len;

		CHECK(lines_next(&rd, &line, &len, &raw_len) == 1);
		CHECK(len == 9 && raw_len == 10);
		CHECK(memcmp(line, "a\tb\0c\x0b\x0c\xc3\xa9", 9) == 0);
	}
	CHECK(at_end());
}

static void
test_crlf_split_across_pipe_writes(void)
{
	static const char data[] = "abc\r\ndef\rghi\r\n";

	/* Each byte arrives alone, so the reader sees "\r" before "\n". */
	CHECK(open_fed_pipe(LIT(data), 1, 2000, 1000) == 0);
	CHECK(next_is("abc", 5));
	CHECK(next_is("def", 4));
	CHECK(next_is("ghi", 5));
	CHECK(at_end());
}

/*
 * 255 lines of 1023 x's, then 1023 y's and a "\r" that is the byte at
 * offset CHUNK - 1, then `second` (starting at the boundary), then lines
 * of 1023 z's until the input is well past CHUNK.
 */
static char *
boundary_data(size_t *len_out, const char *second)
{
	size_t total = 3 * CHUNK, off = 0, i;
	char *d = malloc(total);

	if (!d)
		return NULL;
	for (i = 0; i < 255; i++) {
		memset(d + off, 'x', 1023);
		d[off + 1023] = '\n';
		off += 1024;
	}
	memset(d + off, 'y', 1023);
	off += 1023;
	d[off++] = '\r';
	memcpy(d + off, second, strlen(second));
	off += strlen(second);
	while (off + 1024 <= total) {
		memset(d + off, 'z', 1023);
		d[off + 1023] = '\n';
		off += 1024;
	}
	*len_out = off;
	return d;
}

/*
 * Read a boundary_data() input: the x lines, the y line with raw length
 * `raw_y`, the lines in `after` (text, then raw length as a string of
 * digits, ending with NULL), then the z lines up to `total` bytes.
 */
static int
read_boundary(size_t raw_y, const char *const *after, size_t total)
{
	char x[1024], y[1024], z[1024];
	size_t i, seen;

	memset(x, 'x', 1023);
	memset(y, 'y', 1023);
	memset(z, 'z', 1023);
	x[1023] = y[1023] = z[1023] = '\0';
	for (i = 0; i < 255; i++)
		if (!next_is(x, 1024))
			return 0;
	if (!next_is(y, raw_y))
		return 0;
	seen = 255 * 1024 + raw_y;
	for (i = 0; after[i]; i += 2) {
		size_t raw = (size_t)strtoul(after[i + 1], NULL, 10);

		if (!next_is(after[i], raw))
			return 0;
		seen += raw;
	}
	while (seen < total) {
		if (!next_is(z, 1024))
			return 0;
		seen += 1024;
	}
	return seen == total && at_end();
}

static void
test_crlf_straddling_read_chunk(void)
{
	static const char *const after[] = { "after", "6", NULL };
	size_t len;
	char *d = boundary_data(&len, "\nafter\n");
	int ok;

	CHECK(d != NULL);
	CHECK(d[CHUNK - 1] == '\r' && d[CHUNK] == '\n');
	ok = open_file(d, len, 1 << 20) == 0 &&
	    read_boundary(1025, after, len);
	finish();
	free(d);
	CHECK(ok);
}

static void
test_lone_cr_at_read_chunk_end(void)
{
	static const char *const after[] = { "after", "6", NULL };
	size_t len;
	char *d = boundary_data(&len, "after\n");
	int ok;

	CHECK(d != NULL);
	CHECK(d[CHUNK - 1] == '\r' && d[CHUNK] == 'a');
	ok = open_file(d, len, 1 << 20) == 0 &&
	    read_boundary(1024, after, len);
	finish();
	free(d);
	CHECK(ok);
}

static void
test_cr_then_crlf_at_read_chunk_end(void)
{
	static const char *const after[] = { "", "2", "after", "6", NULL };
	size_t len;
	char *d = boundary_data(&len, "\r\nafter\n");
	int ok;

	CHECK(d != NULL);
	ok = open_file(d, len, 1 << 20) == 0 &&
	    read_boundary(1024, after, len);
	finish();
	free(d);
	CHECK(ok);
}

static void
test_crlf_straddling_read_chunk_in_one_long_line(void)
{
	size_t len = CHUNK + 8;
	char *d = malloc(len), *want = malloc(CHUNK);
	int ok;

	CHECK(d != NULL && want != NULL);
	memset(d, 'q', CHUNK - 1);
	memcpy(d + CHUNK - 1, "\r\nlast\r\n\n", 9);
	memset(want, 'q', CHUNK - 1);
	want[CHUNK - 1] = '\0';
	ok = open_file(d, len, 1 << 20) == 0 && next_is(want, CHUNK + 1) &&
	    next_is("last", 6) && next_is("", 1) && at_end();
	finish();
	free(d);
	free(want);
	CHECK(ok);
}

static void
test_long_lines_across_many_reads(void)
{
	size_t n = 700000, len = 2 * (n + 1);
	char *d = malloc(len), *want = malloc(n + 1);
	int ok;

	CHECK(d != NULL && want != NULL);
	memset(d, 'a', n);
	d[n] = '\n';
	memset(d + n + 1, 'a', n);
	d[len - 1] = '\r';
	memset(want, 'a', n);
	want[n] = '\0';
	ok = open_file(d, len, n) == 0 && next_is(want, n + 1) &&
	    next_is(want, n + 1) && at_end();
	ok = ok && open_fed_pipe(d, len, 4093, 0, n) == 0 &&
	    next_is(want, n + 1) && next_is(want, n + 1) && at_end();
	finish();
	free(d);
	free(want);
	CHECK(ok);
}

static void
test_line_at_ceiling_accepted(void)
{
	CHECK(open_pipe(LIT("0123456789abcdef\r\nok\n"), 16) == 0);
	CHECK(next_is("0123456789abcdef", 18));
	CHECK(next_is("ok", 3));
	CHECK(at_end());
	CHECK(open_pipe(LIT("0123456789abcdef"), 16) == 0);
	CHECK(next_is("0123456789abcdef", 16));
	CHECK(at_end());
}

static void
test_line_longer_than_ceiling_fails(void)
{
	size_t len = 3 * CHUNK;
	char *d = malloc(len);
	int ok;

	CHECK(d != NULL);
	memset(d, 'L', len);
	d[len - 1] = '\n';
	log_set_level(LOG_CRITICAL);
	ok = open_file(d, len, 1000) == 0 && fails();
	ok = ok && open_fed_pipe(d, len, 65536, 0, 1000) == 0 && fails();
	log_set_level(LOG_INFO);
	finish();
	free(d);
	CHECK(ok);
}

static void
test_short_line_past_ceiling_fails(void)
{
	log_set_level(LOG_CRITICAL);
	CHECK(open_pipe(LIT("0123456789abcdefX\nok\n"), 16) == 0);
	CHECK(fails());
	log_set_level(LOG_INFO);
}

static void
test_whole_line_past_ceiling_in_one_read_fails(void)
{
	char d[5002];
	int ok;

	memset(d, 'w', 5000);
	memcpy(d + 5000, "\r\n", 2);
	log_set_level(LOG_CRITICAL);
	ok = open_file(d, sizeof(d), 1000) == 0 && fails();
	ok = ok && open_pipe(LIT("0123456789abcdefX\r"), 16) == 0 && fails();
	log_set_level(LOG_INFO);
	CHECK(ok);
}

static void
test_final_line_past_ceiling_fails(void)
{
	log_set_level(LOG_CRITICAL);
	CHECK(open_pipe(LIT("ok\n0123456789abcdefX"), 16) == 0);
	CHECK(next_is("ok", 3));
	CHECK(fails());
	log_set_level(LOG_INFO);
}

static void
test_read_error_fails(void)
{
	int fds[2];

	finish();
	CHECK(pipe(fds) == 0);
	close(fds[0]);
	close(fds[1]);
	log_set_level(LOG_CRITICAL);
	lines_init(&rd, fds[0], 1000);
	CHECK(fails());
	log_set_level(LOG_INFO);
}

/* A small generator, so that the mixed input is the same every run. */
static unsigned long long rng = 88172645463325252ull;

static unsigned
rnd(unsigned n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned)(rng % n);
}

struct expect {
	size_t off;	/* of the line in the input */
	size_t len;
	size_t raw;
};

/*
 * About 2 MiB of lines of random length and random ending.  A line ended
 * by a lone "\r" is never followed by an empty line ended by "\n", which
 * would read as one "\r\n".
 */
static char *
mixed_input(size_t *len_out, struct expect **ex_out, size_t *n_out)
{
	size_t cap = 2u << 20, off = 0, n = 0;
	char *d = malloc(cap + 4000);
	struct expect *ex = malloc(sizeof(*ex) * 20000);
	int prev_cr = 0;

	if (!d || !ex) {
		free(d);
		free(ex);
		return NULL;
	}
	while (off < cap && n < 20000) {
		size_t len = rnd(4) == 0 ? 0 : rnd(3000), i;
		unsigned e = rnd(3);

		if (prev_cr && len == 0 && e == 0)
			e = 1;
		for (i = 0; i < len; i++)
			d[off + i] = (char)('!' + rnd(90));
		ex[n].off = off;
		ex[n].len = len;
		off += len;
		if (e == 0) {
			d[off++] = '\n';
		} else if (e == 1) {
			d[off++] = '\r';
			d[off++] = '\n';
		} else {
			d[off++] = '\r';
		}
		ex[n].raw = len + (e == 1 ? 2 : 1);
		prev_cr = e == 2;
		n++;
	}
	*len_out = off;
	*ex_out = ex;
	*n_out = n;
	return d;
}

/* Read every line and compare it, and its raw length, with `ex`. */
static int
read_mixed(const char *d, size_t total, const struct expect *ex, size_t n)
{
	const char *line;
	size_t len, raw_len, i, sum = 0;

	for (i = 0; i < n; i++) {
		if (lines_next(&rd, &line, &len, &raw_len) != 1 ||
		    len != ex[i].len || raw_len != ex[i].raw ||
		    memcmp(line, d + ex[i].off, len) != 0) {
			printf("  line %zu differs\n", i);
			return 0;
		}
		sum += raw_len;
	}
	return sum == total && at_end();
}

static void
test_raw_len_counts_endings_over_mixed_input(void)
{
	struct expect *ex = NULL;
	size_t len, n;
	char *d = mixed_input(&len, &ex, &n);
	int ok;

	CHECK(d != NULL);
	ok = open_file(d, len, 1 << 16) == 0 && read_mixed(d, len, ex, n);
	ok = ok && open_fed_pipe(d, len, 7919, 0, 1 << 16) == 0 &&
	    read_mixed(d, len, ex, n);
	finish();
	free(d);
	free(ex);
	CHECK(ok);
}

int
main(void)
{
	signal(SIGPIPE, SIG_IGN);

	TEST_RUN(test_lines_ended_by_newline);
	TEST_RUN(test_lines_ended_by_crlf);
	TEST_RUN(test_lines_ended_by_lone_cr);
	TEST_RUN(test_lines_with_mixed_endings);
	TEST_RUN(test_final_line_without_ending);
	TEST_RUN(test_only_line_without_ending);
	TEST_RUN(test_empty_lines);
	TEST_RUN(test_empty_input);
	TEST_RUN(test_cr_as_last_byte_of_input);
	TEST_RUN(test_line_keeps_other_bytes);
	TEST_RUN(test_crlf_split_across_pipe_writes);
	TEST_RUN(test_crlf_straddling_read_chunk);
	TEST_RUN(test_lone_cr_at_read_chunk_end);
	TEST_RUN(test_cr_then_crlf_at_read_chunk_end);
	TEST_RUN(test_crlf_straddling_read_chunk_in_one_long_line);
	TEST_RUN(test_long_lines_across_many_reads);
	TEST_RUN(test_line_at_ceiling_accepted);
	TEST_RUN(test_line_longer_than_ceiling_fails);
	TEST_RUN(test_short_line_past_ceiling_fails);
	TEST_RUN(test_whole_line_past_ceiling_in_one_read_fails);
	TEST_RUN(test_final_line_past_ceiling_fails);
	TEST_RUN(test_read_error_fails);
	TEST_RUN(test_raw_len_counts_endings_over_mixed_input);

	finish();
	return TEST_SUMMARY();
}

/*
 * Growable byte buffers with a ceiling.  A buffer refuses to grow past the
 * maximum it was given, so a batch or a line can never take more memory
 * than its owner allowed.  The data is always NUL-terminated.
 */
#ifndef COMMON_BUF_H
#define COMMON_BUF_H

#include <stddef.h>

struct buf {
	char *data;	/* NULL until the first append */
	size_t len;
	size_t cap;
	size_t max;	/* largest len allowed; 0 means no limit */
};

/* Prepare an empty buffer that may hold at most `max` bytes (0: any). */
void buf_init(struct buf *b, size_t max);

/* Free what the buffer holds and leave it empty and initialised. */
void buf_release(struct buf *b);

/* Forget the contents but keep the allocation for reuse. */
void buf_reset(struct buf *b);

/*
 * Make room for `extra` more bytes.  Returns 0, or -1 when the ceiling
 * would be passed or memory runs out; the buffer is unchanged then.
 */
int buf_grow(struct buf *b, size_t extra);

/* Append bytes, a C string, one byte or formatted text; 0 or -1. */
int buf_append(struct buf *b, const void *p, size_t n);
int buf_puts(struct buf *b, const char *s);
int buf_putc(struct buf *b, char c);
int buf_printf(struct buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * Hand the contents to the caller, who must free() them; the buffer is
 * left empty.  Never returns NULL: an empty buffer yields "".
 */
char *buf_detach(struct buf *b, size_t *len_out);

#endif

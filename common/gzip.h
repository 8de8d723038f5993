/*
 * gzip for request bodies.  A large input is cut into chunks that are
 * deflated on several threads at once, each chunk primed with the 32 KiB
 * before it, and joined into one ordinary gzip member (the same stream a
 * single deflate would give, bar the choice of block boundaries), so any
 * gzip reader can take it.
 */
#ifndef COMMON_GZIP_H
#define COMMON_GZIP_H

#include <stddef.h>

#include "buf.h"

/*
 * Replace the contents of `out` with `in` gzip-compressed at `level`
 * (1-9), using up to `threads` threads.  Returns 0, or -1 after logging.
 */
int gzip_compress(struct buf *out, const char *in, size_t len, int level,
    int threads);

/* Replace the contents of `out` with the gunzipped `in`; 0 or -1. */
int gzip_decompress(struct buf *out, const char *in, size_t len);

/* How many threads compression should use on this machine (1 to 4). */
int gzip_default_threads(void);

#endif

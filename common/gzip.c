/*
 * Parallel gzip.  Each chunk is raw deflate: every chunk but the last ends
 * with a sync flush, which leaves the stream byte-aligned and not final,
 * so the chunks can simply be laid end to end.  The CRC-32 of the whole
 * input is put together from the chunks' CRCs with crc32_combine().
 */
#include "gzip.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "log.h"

#define GZIP_MIN_CHUNK (512u << 10)
#define GZIP_MAX_THREADS 4
#define GZIP_WINDOW 32768u

struct chunk {
	const unsigned char *in;
	size_t len;
	size_t dict_len;	/* bytes before `in` to prime the window */
	int last;
	int level;
	struct buf out;
	uLong crc;
	int rc;
};

static void *
chunk_deflate(void *arg)
{
	struct chunk *c = arg;
	z_stream z;
	int flush = c->last ? Z_FINISH : Z_SYNC_FLUSH, zrc;

	c->rc = -1;
	c->crc = crc32(0, c->in, (uInt)c->len);
	memset(&z, 0, sizeof(z));
	if (deflateInit2(&z, c->level, Z_DEFLATED, -15, 8,
	    Z_DEFAULT_STRATEGY) != Z_OK)
		return NULL;
	if (c->dict_len && deflateSetDictionary(&z, c->in - c->dict_len,
	    (uInt)c->dict_len) != Z_OK)
		goto out;
	/* Room for the worst case plus the flush marker. */
	if (buf_grow(&c->out, deflateBound(&z, (uLong)c->len) + 16) < 0)
		goto out;
	z.next_in = (Bytef *)(uintptr_t)c->in;
	z.avail_in = (uInt)c->len;
	z.next_out = (Bytef *)c->out.data;
	z.avail_out = (uInt)(c->out.cap - 1);
	zrc = deflate(&z, flush);
	c->out.len = z.total_out;
	if ((c->last && zrc == Z_STREAM_END) ||
	    (!c->last && zrc == Z_OK && z.avail_in == 0))
		c->rc = 0;
out:
	deflateEnd(&z);
	return NULL;
}

int
gzip_default_threads(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	if (n < 1)
		return 1;
	return n > GZIP_MAX_THREADS ? GZIP_MAX_THREADS : (int)n;
}

static void
put_le32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
	p[2] = (unsigned char)(v >> 16);
	p[3] = (unsigned char)(v >> 24);
}

int
gzip_compress(struct buf *out, const char *in, size_t len, int level,
    int threads)
{
	static const unsigned char header[10] = { 0x1f, 0x8b, 8, 0, 0, 0, 0,
	    0, 0, 3 };
	struct chunk c[GZIP_MAX_THREADS];
	pthread_t tid[GZIP_MAX_THREADS];
	int started[GZIP_MAX_THREADS] = { 0 };
	size_t n, i, per, off = 0;
	unsigned char trailer[8];
	uLong crc = 0;
	int rc = -1;

	if (threads < 1)
		threads = 1;
	if (threads > GZIP_MAX_THREADS)
		threads = GZIP_MAX_THREADS;
	n = len / GZIP_MIN_CHUNK;
	if (n > (size_t)threads)
		n = (size_t)threads;
	if (n < 1)
		n = 1;
	per = len / n;

	memset(c, 0, sizeof(c));
	for (i = 0; i < n; i++) {
		c[i].in = (const unsigned char *)in + off;
		c[i].len = i + 1 == n ? len - off : per;
		c[i].dict_len = off < GZIP_WINDOW ? off : GZIP_WINDOW;
		c[i].last = i + 1 == n;
		c[i].level = level;
		buf_init(&c[i].out, 0);
		off += c[i].len;
	}
	/* The calling thread takes the first chunk itself. */
	for (i = 1; i < n; i++)
		started[i] = pthread_create(&tid[i], NULL, chunk_deflate,
		    &c[i]) == 0;
	chunk_deflate(&c[0]);
	for (i = 1; i < n; i++) {
		if (started[i])
			pthread_join(tid[i], NULL);
		else
			chunk_deflate(&c[i]);
	}

	buf_reset(out);
	if (buf_append(out, header, sizeof(header)) < 0)
		goto out;
	for (i = 0; i < n; i++) {
		if (c[i].rc < 0) {
			log_error("cannot compress a body of %zu bytes: zlib "
			    "failed", len);
			goto out;
		}
		if (buf_append(out, c[i].out.data, c[i].out.len) < 0)
			goto oom;
		crc = i ? crc32_combine(crc, c[i].crc, (z_off_t)c[i].len) :
		    c[i].crc;
	}
	put_le32(trailer, (uint32_t)crc);
	put_le32(trailer + 4, (uint32_t)len);
	if (buf_append(out, trailer, sizeof(trailer)) < 0)
		goto oom;
	rc = 0;
	goto out;
oom:
	log_error("cannot compress a body of %zu bytes: out of memory", len);
out:
	for (i = 0; i < n; i++)
		buf_release(&c[i].out);
	return rc;
}

int
gzip_decompress(struct buf *out, const char *in, size_t len)
{
	unsigned char chunk[65536];
	z_stream z;
	int zrc;

	memset(&z, 0, sizeof(z));
	if (inflateInit2(&z, 15 + 16) != Z_OK)
		return log_fail("cannot start gunzip");
	buf_reset(out);
	z.next_in = (Bytef *)(uintptr_t)in;
	z.avail_in = (uInt)len;
	do {
		z.next_out = chunk;
		z.avail_out = sizeof(chunk);
		zrc = inflate(&z, Z_NO_FLUSH);
		if (zrc != Z_OK && zrc != Z_STREAM_END) {
			inflateEnd(&z);
			return log_fail("cannot gunzip a body: %s",
			    z.msg ? z.msg : "zlib error");
		}
		if (buf_append(out, chunk, sizeof(chunk) - z.avail_out) < 0) {
			inflateEnd(&z);
			return log_fail("cannot gunzip a body: out of memory");
		}
	} while (zrc != Z_STREAM_END);
	inflateEnd(&z);
	return 0;
}

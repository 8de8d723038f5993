/*
 * Paging through /history/api/v1/decisions.  One easy handle serves every
 * page, so the connection is reused.  A page is checked and compacted in
 * one pass by the JSON scanner; each decision is then written out as the
 * record of a RECORD message exactly as the API sent it, minus white
 * space: key order, number text and string escapes are untouched.
 */
#include "tap.h"

#include <errno.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "../common/buf.h"
#include "../common/json.h"
#include "../common/log.h"
#include "schema.h"

/* The largest page we accept, and the page size we ask for. */
#define PAGE_MAX_BYTES (256u << 20)
#define PAGE_LIMIT 1000

static const char RECORD_HEAD[] =
    "{\"type\":\"RECORD\",\"stream\":\"decisions\",\"record\":";

struct page {
	struct buf text;		/* the compact page */
	struct json_keys keys;		/* its top-level keys */
	size_t decisions_off, decisions_len;
	int has_next;
	struct buf cursor;		/* decoded next_cursor */
};

static void
sleep_seconds(double s)
{
	struct timespec ts;

	ts.tv_sec = (time_t)s;
	ts.tv_nsec = (long)((s - (double)ts.tv_sec) * 1e9);
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static int
build_url(struct buf *url, const struct tap_opts *o, const char *cursor)
{
	char start[ISOTIME_BUFSZ], end[ISOTIME_BUFSZ];

	isotime_format_offset(start, &o->start);
	isotime_format_offset(end, &o->end);
	buf_reset(url);
	if (buf_printf(url, "%s/history/api/v1/decisions?limit=%d"
	    "&include_external_resources=%s&include_node_results=%s"
	    "&order=asc&start_time=", o->base_url, PAGE_LIMIT,
	    o->include_external_resources ? "True" : "False",
	    o->include_node_results ? "True" : "False") < 0 ||
	    http_form_encode(url, start) < 0 ||
	    buf_puts(url, "&end_time=") < 0 ||
	    http_form_encode(url, end) < 0)
		return -1;
	if (cursor && (buf_puts(url, "&after=") < 0 ||
	    http_form_encode(url, cursor) < 0))
		return -1;
	return 0;
}

static void
metric(const char *type, const char *name, const char *value,
    const char *tags)
{
	char line[512];

	snprintf(line, sizeof(line), "{\"type\": \"%s\", \"metric\": \"%s\", "
	    "\"value\": %s, \"tags\": {\"endpoint\": \"decisions\"%s}}",
	    type, name, value, tags);
	log_metric(line);
}

/* The compact value of top-level member `name` of the page, or NULL. */
static const char *
member(const struct page *pg, const char *name, size_t *len)
{
	size_t i, klen, off;
	const char *t = pg->text.data;

	for (i = 0; i < pg->keys.n; i++) {
		off = pg->keys.off[i];
		klen = json_value_span(t + off, pg->text.len - off);
		if (json_string_equals(t + off, klen, name, strlen(name))) {
			off += klen + 1;	/* the key and its ':' */
			*len = json_value_span(t + off, pg->text.len - off);
			return t + off;
		}
	}
	return NULL;
}

/* Parse `len` bytes of checked JSON text with json-c; NULL on failure. */
static struct json_object *
parse_span(const char *text, size_t len)
{
	struct json_tokener *tok = json_tokener_new();
	struct json_object *obj;

	if (!tok)
		return NULL;
	obj = json_tokener_parse_ex(tok, text, (int)len);
	json_tokener_free(tok);
	return obj;
}

/*
 * Check a page's JSON and find its parts.  Returns 0; 1 when the body is
 * not JSON at all (worth another attempt); -1 after a CRITICAL line when
 * it is JSON of the wrong shape.
 */
static int
page_parse(struct page *pg, const struct http_response *r, int number)
{
	struct json_object *pag = NULL, *v;
	struct json_error err;
	const char *d, *p;
	size_t dlen = 0, plen = 0, pos = 0;
	int rc = -1;

	buf_reset(&pg->text);
	buf_reset(&pg->cursor);
	if (json_compact_value(r->body.data ? r->body.data : "", r->body.len,
	    &pos, &pg->text, &pg->keys, &err) < 0 ||
	    json_skip_ws(r->body.data, r->body.len, pos) != r->body.len) {
		log_warn("page %d of 'decisions' is not JSON: %s at byte %zu",
		    number, err.what, err.offset);
		return 1;
	}
	if (pg->text.data[0] != '{') {
		log_critical("cannot read page %d of 'decisions': the answer "
		    "is not a JSON object", number);
		return -1;
	}
	d = member(pg, "decisions", &dlen);
	p = member(pg, "pagination", &plen);
	if (!d || d[0] != '[' || !p || p[0] != '{') {
		log_critical("cannot read page %d of 'decisions': the answer "
		    "lacks a 'decisions' list or a 'pagination' object",
		    number);
		return -1;
	}
	pg->decisions_off = (size_t)(d - pg->text.data);
	pg->decisions_len = dlen;

	pag = parse_span(p, plen);
	/* has_next and next_cursor are borrowed from pag. */
	if (!pag || !json_object_object_get_ex(pag, "has_next", &v) ||
	    !json_object_is_type(v, json_type_boolean)) {
		log_critical("cannot read page %d of 'decisions': "
		    "'pagination' has no boolean 'has_next'", number);
		goto out;
	}
	pg->has_next = json_object_get_boolean(v);
	if (pg->has_next) {
		if (!json_object_object_get_ex(pag, "next_cursor", &v) ||
		    !json_object_is_type(v, json_type_string) ||
		    json_object_get_string_len(v) == 0) {
			log_critical("cannot read page %d of 'decisions': "
			    "'has_next' is true but 'next_cursor' is missing "
			    "or empty", number);
			goto out;
		}
		buf_puts(&pg->cursor, json_object_get_string(v));
	}
	rc = 0;
out:
	json_object_put(pag);
	return rc;
}

/* Write the page's decisions as RECORDs; returns how many, or -1. */
static long
page_emit(const struct tap_opts *o, const struct page *pg)
{
	const char *t = pg->text.data + pg->decisions_off;
	size_t len = pg->decisions_len, pos = 1, n;
	long count = 0;

	while (pos < len - 1) {
		n = json_value_span(t + pos, len - 1 - pos);
		if (o->selected) {
			fwrite(RECORD_HEAD, 1, sizeof(RECORD_HEAD) - 1, o->out);
			fwrite(t + pos, 1, n, o->out);
			fputs("}\n", o->out);
		}
		count++;
		pos += n;
		if (pos < len - 1 && t[pos] == ',')
			pos++;
	}
	if (fflush(o->out) != 0 || ferror(o->out)) {
		log_critical("cannot write records to stdout: %s",
		    strerror(errno));
		return -1;
	}
	return count;
}

/*
 * Fetch one page, retrying what is worth retrying.  Returns 0 with the
 * page parsed, or -1 after a CRITICAL line.
 */
static int
page_fetch(const struct tap_opts *o, CURL *h, struct http_response *r,
    const char *url, struct page *pg, int number)
{
	char why[768], status[32], tags[128], safe[2048];
	enum http_verdict v;
	double t0, wait;
	int attempt, rc;

	http_redact_url(safe, sizeof(safe), url);
	for (attempt = 1;; attempt++) {
		log_info("Requesting %s", safe);
		http_response_reset(r);
		if (curl_easy_setopt(h, CURLOPT_URL, url) != CURLE_OK) {
			log_critical("cannot request '%s': bad URL", safe);
			return -1;
		}
		t0 = http_now();
		r->result = curl_easy_perform(h);
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->status);
		v = http_classify(r);
		snprintf(status, sizeof(status), "%.6f", http_now() - t0);
		snprintf(tags, sizeof(tags), ", \"http_status_code\": %ld, "
		    "\"status\": \"%s\"", r->status,
		    v == HTTP_DONE ? "succeeded" : "failed");
		metric("timer", "http_request_duration", status, tags);

		if (v == HTTP_DONE && r->truncated) {
			log_critical("cannot read page %d of 'decisions': "
			    "larger than %u bytes", number, PAGE_MAX_BYTES);
			return -1;
		}
		if (v == HTTP_DONE) {
			rc = page_parse(pg, r, number);
			if (rc <= 0)
				return rc;
			snprintf(why, sizeof(why), "HTTP %ld with a body that "
			    "is not JSON", r->status);
			v = HTTP_RETRY;
		} else {
			http_describe(r, why, sizeof(why));
		}
		if (v == HTTP_FATAL) {
			log_critical("cannot fetch page %d of 'decisions' from "
			    "%s: %s", number, safe, why);
			return -1;
		}
		if (attempt >= o->policy.max_attempts) {
			log_critical("cannot fetch page %d of 'decisions' from "
			    "%s: %s; giving up after %d attempts", number,
			    safe, why, attempt);
			return -1;
		}
		wait = http_backoff(&o->policy, attempt, r->retry_after);
		log_warn("cannot fetch page %d of 'decisions': %s (attempt %d "
		    "of %d), retrying in %.1f s", number, why, attempt,
		    o->policy.max_attempts, wait);
		sleep_seconds(wait);
	}
}

static CURL *
handle_new(const struct tap_opts *o, struct http_response *r,
    struct curl_slist **headers)
{
	struct buf hdr;
	CURL *h = curl_easy_init();

	buf_init(&hdr, 0);
	*headers = NULL;
	if (!h || http_easy_setup(h, &o->policy, r, o->user_agent) < 0 ||
	    buf_printf(&hdr, "X-Api-Key: %s", o->api_key) < 0)
		goto fail;
	*headers = curl_slist_append(NULL, hdr.data);
	*headers = curl_slist_append(*headers, "Accept: application/json");
	if (!*headers || curl_easy_setopt(h, CURLOPT_HTTPHEADER,
	    *headers) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "") != CURLE_OK)
		goto fail;
	memset(hdr.data, 0, hdr.len);
	buf_release(&hdr);
	return h;
fail:
	if (hdr.data)
		memset(hdr.data, 0, hdr.len);
	buf_release(&hdr);
	curl_easy_cleanup(h);
	return NULL;
}

static void
headers_free(struct curl_slist *list)
{
	struct curl_slist *l;

	for (l = list; l; l = l->next)
		memset(l->data, 0, strlen(l->data));
	curl_slist_free_all(list);
}

static int
write_state(const struct tap_opts *o)
{
	char end[ISOTIME_BUFSZ];

	isotime_format_offset(end, &o->end);
	fprintf(o->out, "{\"type\":\"STATE\",\"value\":{\"bookmarks\":"
	    "{\"decisions\":{\"end_time\":\"%s\"}}}}\n", end);
	if (fflush(o->out) != 0 || ferror(o->out)) {
		log_critical("cannot write the state to stdout: %s",
		    strerror(errno));
		return -1;
	}
	return 0;
}

int
tap_sync(const struct tap_opts *o)
{
	struct http_response r;
	struct curl_slist *headers = NULL;
	struct page pg;
	struct buf url;
	char start[ISOTIME_BUFSZ], end[ISOTIME_BUFSZ], value[32];
	CURL *h = NULL;
	long n;
	unsigned long long total = 0;
	double t0;
	int number = 0, rc = -1;

	memset(&pg, 0, sizeof(pg));
	buf_init(&pg.text, 0);
	buf_init(&pg.cursor, 0);
	buf_init(&url, 0);
	http_response_init(&r, PAGE_MAX_BYTES);

	isotime_format_offset(start, &o->start);
	isotime_format_offset(end, &o->end);
	log_info("Syncing stream: decisions");
	log_info("Fetching data from %s to %s", start, end);
	if (!o->selected)
		log_info("stream 'decisions' is not selected in the catalog; "
		    "writing only the state");
	if (o->selected) {
		fprintf(o->out, "{\"type\":\"SCHEMA\",\"stream\":"
		    "\"decisions\",\"schema\":%s,\"key_properties\":[\"id\"],"
		    "\"bookmark_properties\":[\"end_time\"]}\n", tap_schema);
		if (fflush(o->out) != 0 || ferror(o->out)) {
			log_critical("cannot write the schema to stdout: %s",
			    strerror(errno));
			goto out;
		}
	}

	h = handle_new(o, &r, &headers);
	if (!h) {
		log_critical("cannot set up libcurl");
		goto out;
	}
	do {
		number++;
		t0 = http_now();
		if (build_url(&url, o, number > 1 ? pg.cursor.data : NULL) < 0) {
			log_critical("cannot build a request URL: out of "
			    "memory");
			goto out;
		}
		if (page_fetch(o, h, &r, url.data, &pg, number) < 0)
			goto out;
		n = page_emit(o, &pg);
		if (n < 0)
			goto out;
		total += (unsigned long long)n;
		log_info("page %d of 'decisions': %ld records in %.2f s",
		    number, n, http_now() - t0);
		snprintf(value, sizeof(value), "%ld", n);
		metric("counter", "record_count", value, "");
	} while (pg.has_next);

	if (write_state(o) < 0)
		goto out;
	log_info("Loaded %llu records from the tap in %d pages", total,
	    number);
	rc = 0;
out:
	headers_free(headers);
	curl_easy_cleanup(h);
	http_response_release(&r);
	buf_release(&pg.text);
	buf_release(&pg.cursor);
	json_keys_release(&pg.keys);
	buf_release(&url);
	return rc;
}

/*
 * Paging through /history/api/v1/decisions.  One easy handle serves every
 * page, so the connection is reused.  A page is checked and compacted in
 * one pass by the JSON scanner, decision by decision; each decision is
 * then written out as the record of a RECORD message as the API sent it,
 * minus white space: key order and number text are untouched, and only
 * escapes of characters beyond ASCII become the UTF-8 they stand for.
 */
#include "tap.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "../common/buf.h"
#include "../common/json.h"
#include "../common/log.h"
#include "page.h"
#include "schema.h"

/* The largest page we accept, and the page size we ask for. */
#define PAGE_MAX_BYTES (256u << 20)
#define PAGE_LIMIT 1000

static const char RECORD_HEAD[] =
    "{\"type\":\"RECORD\",\"stream\":\"decisions\",\"record\":";


static int
stopping(const struct tap_opts *o)
{
	return o->stop && *o->stop;
}

/* Sleep, unless a stop signal comes first. */
static void
sleep_seconds(const struct tap_opts *o, double s)
{
	struct timespec ts;

	ts.tv_sec = (time_t)s;
	ts.tv_nsec = (long)((s - (double)ts.tv_sec) * 1e9);
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR && !stopping(o))
		;
}

/* libcurl's progress callback: abandon the transfer on a stop signal. */
static int
on_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow,
    curl_off_t ultotal, curl_off_t ulnow)
{
	(void)dltotal;
	(void)dlnow;
	(void)ultotal;
	(void)ulnow;
	return stopping(arg) ? 1 : 0;
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

/* Write the page's decisions as RECORDs; returns how many, or -1. */
static long
page_emit(const struct tap_opts *o, const struct page *pg)
{
	size_t i;

	for (i = 0; o->selected && i < pg->n; i++) {
		fwrite(RECORD_HEAD, 1, sizeof(RECORD_HEAD) - 1, o->out);
		fwrite(pg->text.data + pg->items[i].off, 1, pg->items[i].len,
		    o->out);
		fputs("}\n", o->out);
	}
	if (fflush(o->out) != 0 || ferror(o->out)) {
		log_critical("cannot write records to stdout: %s",
		    strerror(errno));
		return -1;
	}
	return (long)pg->n;
}

/*
 * Fetch one page, retrying what is worth retrying.  Returns 0 with the
 * page parsed, -1 after a CRITICAL line, or -2 on a stop signal.
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
		if (stopping(o))
			return -2;
		t0 = http_now();
		r->result = curl_easy_perform(h);
		if (r->result == CURLE_ABORTED_BY_CALLBACK)
			return -2;
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
			rc = page_parse(pg, r->body.data ? r->body.data : "",
			    r->body.len, number);
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
		sleep_seconds(o, wait);
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
	    curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "") != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress) !=
	    CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_XFERINFODATA, o) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L) != CURLE_OK)
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
	struct buf url, after;
	char start[ISOTIME_BUFSZ], end[ISOTIME_BUFSZ], value[32];
	CURL *h = NULL;
	long n;
	unsigned long long total = 0;
	double t0;
	int number = 0, rc = -1;

	page_init(&pg);
	buf_init(&url, 0);
	buf_init(&after, 0);
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
		buf_reset(&after);
		if ((number > 1 && buf_puts(&after, pg.cursor.data) < 0) ||
		    build_url(&url, o, number > 1 ? after.data : NULL) < 0) {
			log_critical("cannot build a request URL: out of "
			    "memory");
			goto out;
		}
		rc = page_fetch(o, h, &r, url.data, &pg, number);
		if (rc < 0)
			goto out;
		rc = -1;
		/* The same cursor again would page for ever. */
		if (pg.has_next && number > 1 &&
		    strcmp(pg.cursor.data, after.data) == 0) {
			log_critical("cannot page past page %d of 'decisions': "
			    "the API returned the cursor it was given", number);
			goto out;
		}
		n = page_emit(o, &pg);
		if (n < 0)
			goto out;
		total += (unsigned long long)n;
		log_info("page %d of 'decisions': %ld records in %.2f s",
		    number, n, http_now() - t0);
		snprintf(value, sizeof(value), "%ld", n);
		metric("counter", "record_count", value, "");
		if (stopping(o)) {
			rc = -2;
			goto out;
		}
	} while (pg.has_next);

	if (write_state(o) < 0)
		goto out;
	log_info("Loaded %llu records from the tap in %d pages", total,
	    number);
	rc = 0;
out:
	if (rc == -2)
		log_warn("stopping on %s after %llu records of %d pages; no "
		    "state written", strsignal(*o->stop), total, number);
	http_headers_free(headers);
	curl_easy_cleanup(h);
	http_response_release(&r);
	page_release(&pg);
	buf_release(&url);
	buf_release(&after);
	return rc;
}

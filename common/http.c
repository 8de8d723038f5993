/*
 * Shared HTTP plumbing on top of libcurl: request options, response
 * collection and the retry policy.  Nothing here blocks or sleeps; the
 * callers decide how to wait (a plain sleep in the tap, the multi loop's
 * timers in the target).
 */
#include "http.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

void
http_policy_init(struct http_policy *p)
{
	p->max_attempts = 5;
	p->base_seconds = 1.0;
	p->max_wait = 300.0;
	p->connect_timeout = 30;
	p->timeout = 300;
	p->verify_tls = 1;
	p->ca_file = NULL;
}

void
http_response_init(struct http_response *r, size_t max_body)
{
	buf_init(&r->body, max_body);
	http_response_reset(r);
}

void
http_response_reset(struct http_response *r)
{
	r->status = 0;
	r->result = CURLE_OK;
	r->retry_after = -1;
	r->truncated = 0;
	r->errbuf[0] = '\0';
	buf_reset(&r->body);
}

void
http_response_release(struct http_response *r)
{
	buf_release(&r->body);
}

static size_t
on_body(char *p, size_t size, size_t n, void *arg)
{
	struct http_response *r = arg;
	size_t len = size * n, room;

	/* Keep what fits; the rest of an oversized answer is dropped. */
	room = r->body.max > r->body.len ? r->body.max - r->body.len : 0;
	if (len > room)
		r->truncated = 1;
	if (buf_append(&r->body, p, len < room ? len : room) < 0)
		r->truncated = 1;
	return len;
}

static size_t
on_header(char *p, size_t size, size_t n, void *arg)
{
	struct http_response *r = arg;
	size_t len = size * n;
	static const char name[] = "retry-after:";

	/* A new status line starts a new answer (e.g. after a 100). */
	if (len >= 5 && strncmp(p, "HTTP/", 5) == 0)
		r->retry_after = -1;
	if (len > sizeof(name) - 1 &&
	    strncasecmp(p, name, sizeof(name) - 1) == 0)
		r->retry_after = http_parse_retry_after(p + sizeof(name) - 1,
		    len - (sizeof(name) - 1));
	return len;
}

int
http_easy_setup(CURL *h, const struct http_policy *p,
    struct http_response *r, const char *user_agent)
{
	CURLcode rc = CURLE_OK;

#define SET(opt, val) if (rc == CURLE_OK) rc = curl_easy_setopt(h, opt, val)
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_USERAGENT, user_agent);
	SET(CURLOPT_CONNECTTIMEOUT, p->connect_timeout);
	SET(CURLOPT_TIMEOUT, p->timeout);
	SET(CURLOPT_FOLLOWLOCATION, 0L);
	SET(CURLOPT_SSL_VERIFYPEER, p->verify_tls ? 1L : 0L);
	SET(CURLOPT_SSL_VERIFYHOST, p->verify_tls ? 2L : 0L);
	if (p->ca_file)
		SET(CURLOPT_CAINFO, p->ca_file);
	SET(CURLOPT_TCP_KEEPALIVE, 1L);
	SET(CURLOPT_PROTOCOLS_STR, "http,https");
	SET(CURLOPT_ERRORBUFFER, r->errbuf);
	SET(CURLOPT_WRITEFUNCTION, on_body);
	SET(CURLOPT_WRITEDATA, r);
	SET(CURLOPT_HEADERFUNCTION, on_header);
	SET(CURLOPT_HEADERDATA, r);
#undef SET
	return rc == CURLE_OK ? 0 : -1;
}

enum http_verdict
http_classify(const struct http_response *r)
{
	if (r->result != CURLE_OK) {
		switch (r->result) {
		case CURLE_UNSUPPORTED_PROTOCOL:
		case CURLE_URL_MALFORMAT:
		case CURLE_OUT_OF_MEMORY:
		case CURLE_SSL_CERTPROBLEM:
		case CURLE_PEER_FAILED_VERIFICATION:
		case CURLE_SSL_CACERT_BADFILE:
		case CURLE_BAD_FUNCTION_ARGUMENT:
			return HTTP_FATAL;
		default:
			/* Timeouts, refused or dropped connections, DNS. */
			return HTTP_RETRY;
		}
	}
	if (r->status >= 200 && r->status < 300)
		return HTTP_DONE;
	if (r->status >= 500 || r->status == 429 || r->status == 408)
		return HTTP_RETRY;
	return HTTP_FATAL;
}

static unsigned long long
jitter_next(void)
{
	static unsigned long long state;

	if (!state)
		state = ((unsigned long long)time(NULL) << 20) ^
		    (unsigned long long)getpid() ^ 0x9E3779B97F4A7C15ull;
	state ^= state << 13;
	state ^= state >> 7;
	state ^= state << 17;
	return state;
}

double
http_backoff(const struct http_policy *p, int attempts, double retry_after)
{
	double ceiling, wait;
	int k;

	if (retry_after >= 0) {
		wait = retry_after;
	} else {
		ceiling = p->base_seconds;
		for (k = 1; k < attempts && ceiling < p->max_wait; k++)
			ceiling *= 2;
		wait = ceiling * (double)(jitter_next() >> 11) /
		    (double)(1ull << 53);
	}
	return wait < p->max_wait ? wait : p->max_wait;
}

double
http_parse_retry_after(const char *v, size_t len)
{
	char text[64];
	char *end;
	double secs;
	time_t when;

	while (len && (*v == ' ' || *v == '\t')) {
		v++;
		len--;
	}
	while (len && strchr(" \t\r\n", v[len - 1]))
		len--;
	if (len == 0 || len >= sizeof(text))
		return -1;
	memcpy(text, v, len);
	text[len] = '\0';

	/* Delta seconds are plain decimal digits. */
	if (strspn(text, "0123456789") == len)
		return strtod(text, &end);

	when = curl_getdate(text, NULL);
	if (when == -1)
		return -1;
	secs = difftime(when, time(NULL));
	return secs > 0 ? secs : 0;
}

/* The API's own words from a JSON error body, if it has any. */
static int
body_json_message(const char *body, char *out, size_t outsz)
{
	static const char *const keys[] = { "message", "error", "detail" };
	struct json_object *root, *v, *inner;
	struct json_tokener *tok;
	size_t i;
	int found = 0;

	/* Only a whole JSON object counts: "404 page not found" is text. */
	tok = json_tokener_new();
	if (!tok)
		return 0;
	root = json_tokener_parse_ex(tok, body, (int)strlen(body));
	if (root && (json_tokener_get_error(tok) != json_tokener_success ||
	    body[json_tokener_get_parse_end(tok) +
	    strspn(body + json_tokener_get_parse_end(tok), " \t\r\n")] ||
	    !json_object_is_type(root, json_type_object))) {
		json_object_put(root);
		root = NULL;
	}
	json_tokener_free(tok);
	if (!root)
		return 0;
	for (i = 0; i < 3 && !found; i++) {
		/* Borrowed from root. */
		if (!json_object_object_get_ex(root, keys[i], &v))
			continue;
		if (json_object_is_type(v, json_type_string)) {
			snprintf(out, outsz, "%s", json_object_get_string(v));
			found = 1;
		} else if (json_object_is_type(v, json_type_object) &&
		    json_object_object_get_ex(v, "error", &inner)) {
			snprintf(out, outsz, "%s",
			    json_object_get_string(inner));
			found = 1;
		}
	}
	/* Stitch's paused-connection answer nests its reason. */
	if (found && strcmp(out, "Forbidden") == 0 &&
	    json_object_object_get_ex(root, "errors", &v) &&
	    json_object_object_get_ex(v, "error", &inner))
		snprintf(out, outsz, "%s", json_object_get_string(inner));
	if (!found) {
		snprintf(out, outsz, "%s", json_object_to_json_string_ext(root,
		    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
		found = 1;
	}
	json_object_put(root);
	return found;
}

void
http_describe(const struct http_response *r, char *out, size_t outsz)
{
	char msg[512];
	size_t i;

	if (r->result != CURLE_OK) {
		snprintf(out, outsz, "%s",
		    r->errbuf[0] ? r->errbuf : curl_easy_strerror(r->result));
		return;
	}
	msg[0] = '\0';
	if (r->body.len && !body_json_message(r->body.data, msg,
	    sizeof(msg))) {
		size_t line = strcspn(r->body.data, "\r\n");

		snprintf(msg, sizeof(msg), "%.*s", (int)(line < 200 ? line :
		    200), r->body.data);
		if (line > 200)
			strcat(msg, "...");
	}
	for (i = 0; msg[i]; i++)
		if ((unsigned char)msg[i] < 0x20)
			msg[i] = ' ';
	if (msg[0])
		snprintf(out, outsz, "HTTP %ld: %s", r->status, msg);
	else
		snprintf(out, outsz, "HTTP %ld", r->status);
}

int
http_form_encode(struct buf *out, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	char esc[3];

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '.' ||
		    c == '_' || c == '~') {
			if (buf_putc(out, (char)c) < 0)
				return -1;
			continue;
		}
		if (c == ' ') {
			if (buf_putc(out, '+') < 0)
				return -1;
			continue;
		}
		esc[0] = '%';
		esc[1] = hex[c >> 4];
		esc[2] = hex[c & 15];
		if (buf_append(out, esc, 3) < 0)
			return -1;
	}
	return 0;
}

void
http_headers_free(struct curl_slist *list)
{
	struct curl_slist *l;

	for (l = list; l; l = l->next)
		memset(l->data, 0, strlen(l->data));
	curl_slist_free_all(list);
}

void
http_redact_url(char *out, size_t outsz, const char *url)
{
	const char *scheme = strstr(url, "://");
	const char *host, *at, *slash;

	snprintf(out, outsz, "%s", url);
	if (!scheme)
		return;
	host = scheme + 3;
	slash = host + strcspn(host, "/?#");
	/* The host starts after the last '@' of the authority. */
	at = NULL;
	for (const char *p = host; p < slash; p++)
		if (*p == '@')
			at = p;
	if (!at)
		return;
	snprintf(out, outsz, "%.*s%s", (int)(host - url), url, at + 1);
}

double
http_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

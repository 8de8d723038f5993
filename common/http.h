/*
 * What both programs need from HTTP beyond libcurl itself: one place that
 * sets the options every request must have (timeouts, TLS, user agent, no
 * credentials on redirects), a response collector with a size ceiling and
 * the Retry-After header, and the retry policy: which outcomes are worth
 * another attempt and how long to wait before it.
 */
#ifndef COMMON_HTTP_H
#define COMMON_HTTP_H

#include <curl/curl.h>
#include <stddef.h>

#include "buf.h"

struct http_policy {
	int max_attempts;	/* attempts in all, first one included */
	double base_seconds;	/* backoff before attempt k+1: 0..base*2^(k-1) */
	double max_wait;	/* ceiling of any single wait, Retry-After too */
	long connect_timeout;	/* seconds */
	long timeout;		/* seconds for a whole request */
	int verify_tls;
	const char *ca_file;	/* PEM bundle to trust instead of the system's */
};

/* 5 attempts, 1 s base, 300 s ceiling, 30 s connect, 300 s overall, TLS. */
void http_policy_init(struct http_policy *p);

/* The answer to one attempt, filled in by the callbacks below. */
struct http_response {
	long status;			/* 0 when no HTTP answer came */
	CURLcode result;
	struct buf body;		/* cut at its ceiling, not failed */
	int truncated;			/* the answer did not fit in `body` */
	double retry_after;		/* seconds, or -1 when absent */
	char errbuf[CURL_ERROR_SIZE];
};

void http_response_init(struct http_response *r, size_t max_body);
void http_response_reset(struct http_response *r);
void http_response_release(struct http_response *r);

/*
 * Apply the policy's options to an easy handle and point its body,
 * header and error outputs at `r`.  Redirects are not followed, so custom
 * headers carrying credentials never reach another host.  Returns 0 or -1.
 */
int http_easy_setup(CURL *h, const struct http_policy *p,
    struct http_response *r, const char *user_agent);

enum http_verdict {
	HTTP_DONE,	/* a 2xx answer */
	HTTP_RETRY,	/* 5xx, 429, a timeout or a network failure */
	HTTP_FATAL	/* anything else: retrying cannot help */
};

enum http_verdict http_classify(const struct http_response *r);

/*
 * Seconds to wait before the next attempt after `attempts` have failed:
 * the server's Retry-After when it gave one, else exponential backoff
 * with full jitter.  Never more than p->max_wait.
 */
double http_backoff(const struct http_policy *p, int attempts,
    double retry_after);

/* A Retry-After value (delta seconds or an HTTP date) in seconds, or -1. */
double http_parse_retry_after(const char *value, size_t len);

/*
 * A one-line description of a failed attempt for log messages:
 * "HTTP 503: <message from the body>" or libcurl's explanation.  The body
 * message is the API's `message`, `error` or `detail` member when the body
 * is JSON, else its first line, shortened.
 */
void http_describe(const struct http_response *r, char *out, size_t outsz);

/*
 * Append `s` form-encoded as a query value: letters, digits and "-._~"
 * stay, a space becomes "+", every other byte becomes %XX.
 */
int http_form_encode(struct buf *out, const char *s);

/*
 * Free a header list that may hold a secret (an API key, a token),
 * wiping every header first.  NULL is allowed.
 */
void http_headers_free(struct curl_slist *list);

/* Copy `url` without any user:password@ part, for logs. */
void http_redact_url(char *out, size_t outsz, const char *url);

/* Seconds from a monotonic clock. */
double http_now(void);

#endif

/*
 * The HTTP retry policy and log helpers in common/http.c: which outcomes
 * are final, retried or fatal, the backoff and Retry-After handling, the
 * one-line description of a failure, and credentials kept out of URLs.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "../../common/http.h"
#include "check.h"

static struct http_response r;

/* The verdict for an HTTP answer with this status. */
static enum http_verdict
status_verdict(long status)
{
	http_response_reset(&r);
	r.status = status;
	return http_classify(&r);
}

/* The verdict for a transfer that failed with this libcurl code. */
static enum http_verdict
curl_verdict(CURLcode code)
{
	http_response_reset(&r);
	r.result = code;
	return http_classify(&r);
}

static void
test_policy_defaults(void)
{
	struct http_policy p;

	memset(&p, 0, sizeof(p));
	http_policy_init(&p);
	CHECK(p.max_attempts == 5);
	CHECK(p.base_seconds == 1.0);
	CHECK(p.max_wait == 300.0);
	CHECK(p.connect_timeout == 30 && p.timeout == 300);
	CHECK(p.verify_tls == 1);
}

static void
test_response_starts_empty(void)
{
	struct http_response x;

	memset(&x, 0x5a, sizeof(x));
	http_response_init(&x, 100);
	CHECK(x.status == 0 && x.result == CURLE_OK);
	CHECK(x.retry_after == -1);
	CHECK(x.errbuf[0] == '\0');
	CHECK(x.body.len == 0 && x.body.max == 100);
	http_response_release(&x);
}

static void
test_classify_2xx_done(void)
{
	CHECK(status_verdict(200) == HTTP_DONE);
	CHECK(status_verdict(201) == HTTP_DONE);
	CHECK(status_verdict(202) == HTTP_DONE);
	CHECK(status_verdict(204) == HTTP_DONE);
}

static void
test_classify_client_errors_fatal(void)
{
	static const long codes[] = { 400, 401, 403, 404, 413, 415, 422 };
	size_t i;

	for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		if (status_verdict(codes[i]) != HTTP_FATAL)
			printf("  status %ld not fatal\n", codes[i]);
		CHECK(status_verdict(codes[i]) == HTTP_FATAL);
	}
}

static void
test_classify_redirects_fatal(void)
{
	CHECK(status_verdict(301) == HTTP_FATAL);
	CHECK(status_verdict(302) == HTTP_FATAL);
}

static void
test_classify_retryable_statuses(void)
{
	static const long codes[] = { 408, 429, 500, 502, 503, 504 };
	size_t i;

	for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		if (status_verdict(codes[i]) != HTTP_RETRY)
			printf("  status %ld not retried\n", codes[i]);
		CHECK(status_verdict(codes[i]) == HTTP_RETRY);
	}
}

static void
test_classify_network_failures_retry(void)
{
	CHECK(curl_verdict(CURLE_COULDNT_CONNECT) == HTTP_RETRY);
	CHECK(curl_verdict(CURLE_OPERATION_TIMEDOUT) == HTTP_RETRY);
	CHECK(curl_verdict(CURLE_GOT_NOTHING) == HTTP_RETRY);
	CHECK(curl_verdict(CURLE_COULDNT_RESOLVE_HOST) == HTTP_RETRY);
	CHECK(curl_verdict(CURLE_RECV_ERROR) == HTTP_RETRY);
	CHECK(curl_verdict(CURLE_SEND_ERROR) == HTTP_RETRY);
}

static void
test_classify_bad_request_setup_fatal(void)
{
	CHECK(curl_verdict(CURLE_URL_MALFORMAT) == HTTP_FATAL);
	CHECK(curl_verdict(CURLE_UNSUPPORTED_PROTOCOL) == HTTP_FATAL);
}

static void
test_classify_curl_failure_outranks_status(void)
{
	http_response_reset(&r);
	r.status = 200;
	r.result = CURLE_OPERATION_TIMEDOUT;
	CHECK(http_classify(&r) == HTTP_RETRY);
	r.result = CURLE_URL_MALFORMAT;
	CHECK(http_classify(&r) == HTTP_FATAL);
}

static void
test_backoff_uses_retry_after(void)
{
	struct http_policy p;

	http_policy_init(&p);
	CHECK(http_backoff(&p, 1, 7.0) == 7.0);
	CHECK(http_backoff(&p, 4, 2.5) == 2.5);
	CHECK(http_backoff(&p, 1, 0.0) == 0.0);
	CHECK(http_backoff(&p, 1, 300.0) == 300.0);
}

static void
test_backoff_caps_retry_after(void)
{
	struct http_policy p;

	http_policy_init(&p);
	CHECK(http_backoff(&p, 1, 1000.0) == 300.0);
	p.max_wait = 5.0;
	CHECK(http_backoff(&p, 2, 86400.0) == 5.0);
}

static void
test_backoff_jitter_within_exponential_ceiling(void)
{
	struct http_policy p;
	int attempts, i;

	http_policy_init(&p);
	p.base_seconds = 0.5;
	for (attempts = 1; attempts <= 6; attempts++) {
		double ceiling = 0.5 * (double)(1 << (attempts - 1));
		double lo = ceiling, hi = 0;

		for (i = 0; i < 5000; i++) {
			double w = http_backoff(&p, attempts, -1);

			if (!(w >= 0 && w <= ceiling)) {
				printf("  attempt %d: wait %g outside "
				    "[0, %g]\n", attempts, w, ceiling);
				CHECK(0);
			}
			if (w < lo)
				lo = w;
			if (w > hi)
				hi = w;
		}
		/* Full jitter spreads over the whole range. */
		CHECK(lo < ceiling * 0.05);
		CHECK(hi > ceiling * 0.95);
	}
}

static void
test_backoff_capped_at_max_wait(void)
{
	struct http_policy p;
	double hi = 0;
	int i;

	http_policy_init(&p);
	p.max_wait = 10.0;
	for (i = 0; i < 5000; i++) {
		double w = http_backoff(&p, 12, -1);

		CHECK(w >= 0 && w <= 10.0);
		if (w > hi)
			hi = w;
	}
	CHECK(hi > 9.0);
	for (i = 0; i < 1000; i++) {
		double w = http_backoff(&p, 10000, -1);

		CHECK(w >= 0 && w <= 10.0);
	}
}

static double
retry_after(const char *v)
{
	return http_parse_retry_after(v, strlen(v));
}

static void
test_parse_retry_after_seconds(void)
{
	CHECK(retry_after("1") == 1.0);
	CHECK(retry_after(" 2 \r\n") == 2.0);
	CHECK(retry_after("\t120\t") == 120.0);
	CHECK(retry_after("0") == 0.0);
}

static void
test_parse_retry_after_reads_only_len_bytes(void)
{
	CHECK(http_parse_retry_after("30junk", 2) == 30.0);
}

/* An HTTP date `delta` seconds from now. */
static void
http_date(char *out, size_t outsz, long delta)
{
	time_t when = time(NULL) + delta;
	struct tm tm;

	gmtime_r(&when, &tm);
	strftime(out, outsz, "%a, %d %b %Y %H:%M:%S GMT", &tm);
}

static void
test_parse_retry_after_future_date(void)
{
	char date[64];
	double s;

	http_date(date, sizeof(date), 3600);
	s = retry_after(date);
	if (!(s >= 3590 && s <= 3601))
		printf("  '%s' gave %g\n", date, s);
	CHECK(s >= 3590 && s <= 3601);
}

static void
test_parse_retry_after_past_date_is_zero(void)
{
	char date[64];

	http_date(date, sizeof(date), -3600);
	CHECK(retry_after(date) == 0.0);
	CHECK(retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0);
}

static void
test_parse_retry_after_garbage(void)
{
	CHECK(retry_after("soon") == -1);
	CHECK(retry_after("") == -1);
	CHECK(retry_after(" \r\n") == -1);
	CHECK(retry_after("-5") == -1);
	CHECK(retry_after("12abc") == -1);
	CHECK(retry_after("1 2") == -1);
	CHECK(retry_after("nan") == -1);
	CHECK(retry_after("tomorrow at noon") == -1);
}

static void
test_parse_retry_after_refuses_non_decimal_numbers(void)
{
	/* Delta seconds are decimal digits only. */
	CHECK(retry_after("0x10") == -1);
	CHECK(retry_after("inf") == -1);
	CHECK(retry_after("1e3") == -1);
}

/* Describe a response with this status and body. */
static const char *
describe(long status, const char *body)
{
	static char out[600];

	http_response_reset(&r);
	r.status = status;
	buf_puts(&r.body, body);
	http_describe(&r, out, sizeof(out));
	return out;
}

static void
test_describe_json_error_member(void)
{
	CHECK_STR(describe(400, "{\"error\": \"bad value\"}"),
	    "HTTP 400: bad value");
}

static void
test_describe_json_message_member(void)
{
	CHECK_STR(describe(401, "{\"message\": \"Not Authorized\"}"),
	    "HTTP 401: Not Authorized");
	CHECK_STR(describe(422, "{\"detail\": \"missing key\"}"),
	    "HTTP 422: missing key");
}

static void
test_describe_paused_connection(void)
{
	CHECK_STR(describe(403, "{\"error\": \"Forbidden\", \"errors\": "
	    "{\"error\": \"Connection is not active.\"}}"),
	    "HTTP 403: Connection is not active.");
}

static void
test_describe_plain_text_body(void)
{
	CHECK_STR(describe(503, "Service Unavailable"),
	    "HTTP 503: Service Unavailable");
	CHECK_STR(describe(502, "<html>Bad Gateway</html>"),
	    "HTTP 502: <html>Bad Gateway</html>");
}

static void
test_describe_plain_text_uses_first_line(void)
{
	CHECK_STR(describe(503, "Service Unavailable\r\nTry again later\n"),
	    "HTTP 503: Service Unavailable");
}

static void
test_describe_plain_text_starting_with_a_number(void)
{
	CHECK_STR(describe(404, "404 page not found"),
	    "HTTP 404: 404 page not found");
}

static void
test_describe_json_followed_by_text_is_text(void)
{
	CHECK_STR(describe(500, "{\"error\": \"x\"} and more"),
	    "HTTP 500: {\"error\": \"x\"} and more");
	CHECK_STR(describe(400, "{\"error\": \"x\"}\r\n"), "HTTP 400: x");
}

static void
test_describe_long_first_line_shortened(void)
{
	char body[400];
	const char *d;

	memset(body, 'w', 300);
	memcpy(body + 300, "\nsecond line", 13);
	d = describe(500, body);
	CHECK(strncmp(d, "HTTP 500: www", 13) == 0);
	CHECK(strlen(d) < 300);
	CHECK(strstr(d, "second") == NULL);
}

static void
test_describe_long_body_shortened(void)
{
	char body[1001];
	const char *d;

	memset(body, 'z', 1000);
	body[1000] = '\0';
	d = describe(500, body);
	CHECK(strncmp(d, "HTTP 500: zzz", 13) == 0);
	CHECK(strlen(d) < 300);
}

static void
test_describe_empty_body(void)
{
	CHECK_STR(describe(502, ""), "HTTP 502");
}

static void
test_describe_curl_error(void)
{
	char out[300];

	http_response_reset(&r);
	r.result = CURLE_COULDNT_CONNECT;
	snprintf(r.errbuf, sizeof(r.errbuf),
	    "Failed to connect to api.example port 443");
	http_describe(&r, out, sizeof(out));
	CHECK_STR(out, "Failed to connect to api.example port 443");

	http_response_reset(&r);
	r.result = CURLE_OPERATION_TIMEDOUT;
	http_describe(&r, out, sizeof(out));
	CHECK_STR(out, curl_easy_strerror(CURLE_OPERATION_TIMEDOUT));
}

static void
test_describe_fits_small_output(void)
{
	char out[12];

	http_response_reset(&r);
	r.status = 400;
	buf_puts(&r.body, "{\"error\": \"a rather long message\"}");
	memset(out, 'Q', sizeof(out));
	http_describe(&r, out, sizeof(out));
	CHECK(out[sizeof(out) - 1] == '\0');
	CHECK_STR(out, "HTTP 400: a");
}

static const char *
redact(const char *url)
{
	static char out[256];

	http_redact_url(out, sizeof(out), url);
	return out;
}

static void
test_redact_url_removes_credentials(void)
{
	CHECK_STR(redact("https://user:pass@api.example.com/v2/import"),
	    "https://api.example.com/v2/import");
	CHECK_STR(redact("http://token@host:8080/x?y=1"),
	    "http://host:8080/x?y=1");
	CHECK_STR(redact("https://u:p@host"), "https://host");
	CHECK_STR(redact("https://u:p@host?q=1"), "https://host?q=1");
}

static void
test_redact_url_leaves_other_urls_unchanged(void)
{
	CHECK_STR(redact("https://api.example.com/v2/import/batch"),
	    "https://api.example.com/v2/import/batch");
	CHECK_STR(redact("https://host/path@not-credentials"),
	    "https://host/path@not-credentials");
	CHECK_STR(redact("https://host?email=a@b.c"),
	    "https://host?email=a@b.c");
	CHECK_STR(redact("https://host#frag@x"), "https://host#frag@x");
	CHECK_STR(redact("not a url user@host"), "not a url user@host");
	CHECK_STR(redact(""), "");
}

static void
test_redact_url_password_containing_at(void)
{
	/* The host starts after the last '@' of the authority. */
	CHECK_STR(redact("https://user:p@ss@host/path"),
	    "https://host/path");
}

static void
test_redact_url_fits_small_output(void)
{
	char out[10];

	memset(out, 'Q', sizeof(out));
	http_redact_url(out, sizeof(out), "https://u:p@example.com/");
	CHECK(out[sizeof(out) - 1] == '\0');
	CHECK_STR(out, "https://e");
}

int
main(void)
{
	http_response_init(&r, 4096);

	TEST_RUN(test_policy_defaults);
	TEST_RUN(test_response_starts_empty);
	TEST_RUN(test_classify_2xx_done);
	TEST_RUN(test_classify_client_errors_fatal);
	TEST_RUN(test_classify_redirects_fatal);
	TEST_RUN(test_classify_retryable_statuses);
	TEST_RUN(test_classify_network_failures_retry);
	TEST_RUN(test_classify_bad_request_setup_fatal);
	TEST_RUN(test_classify_curl_failure_outranks_status);
	TEST_RUN(test_backoff_uses_retry_after);
	TEST_RUN(test_backoff_caps_retry_after);
	TEST_RUN(test_backoff_jitter_within_exponential_ceiling);
	TEST_RUN(test_backoff_capped_at_max_wait);
	TEST_RUN(test_parse_retry_after_seconds);
	TEST_RUN(test_parse_retry_after_reads_only_len_bytes);
	TEST_RUN(test_parse_retry_after_future_date);
	TEST_RUN(test_parse_retry_after_past_date_is_zero);
	TEST_RUN(test_parse_retry_after_garbage);
	TEST_RUN(test_parse_retry_after_refuses_non_decimal_numbers);
	TEST_RUN(test_describe_json_error_member);
	TEST_RUN(test_describe_json_message_member);
	TEST_RUN(test_describe_paused_connection);
	TEST_RUN(test_describe_plain_text_body);
	TEST_RUN(test_describe_plain_text_uses_first_line);
	TEST_RUN(test_describe_plain_text_starting_with_a_number);
	TEST_RUN(test_describe_json_followed_by_text_is_text);
	TEST_RUN(test_describe_long_first_line_shortened);
	TEST_RUN(test_describe_long_body_shortened);
	TEST_RUN(test_describe_empty_body);
	TEST_RUN(test_describe_curl_error);
	TEST_RUN(test_describe_fits_small_output);
	TEST_RUN(test_redact_url_removes_credentials);
	TEST_RUN(test_redact_url_leaves_other_urls_unchanged);
	TEST_RUN(test_redact_url_password_containing_at);
	TEST_RUN(test_redact_url_fits_small_output);

	http_response_release(&r);
	return TEST_SUMMARY();
}

/*
 * The sending thread.  Jobs form a FIFO in input order.  The reader
 * appends under the mutex; only this thread changes a job once it is
 * queued, frees it, or prints its state, so a job's own fields need no
 * lock.  The loop is: print the states of the finished jobs at the front,
 * start whatever may start, let libcurl work, collect what finished, and
 * sleep in curl_multi_poll() until a socket, a retry timer or the reader
 * wakes it.
 */
#include "sender.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../common/gzip.h"
#include "../common/json.h"
#include "../common/log.h"

#define RESPONSE_MAX (64u << 10)

enum job_phase {
	JOB_QUEUED,
	JOB_RUNNING,
	JOB_BACKOFF,
	JOB_DONE
};

struct job {
	struct job *next;
	const char *stream;
	const char *url;
	char *body;		/* freed once compressed */
	size_t body_len;
	struct buf gz;
	int state_only;
	int prepared;		/* compressed, if compression is on */
	size_t records;
	char *state;
	size_t state_len;
	enum job_phase phase;
	int attempts;
	int gzipped;		/* the current attempt sends gz */
	double retry_at;
	double started;
	CURL *h;
	struct http_response resp;
};

static void
job_free(struct sender *s, struct job *j)
{
	if (!j)
		return;
	if (j->h) {
		curl_multi_remove_handle(s->multi, j->h);
		curl_easy_cleanup(j->h);
	}
	http_response_release(&j->resp);
	buf_release(&j->gz);
	free(j->body);
	free(j->state);
	free(j);
}

/* Print the states of finished jobs at the front.  Caller holds mu. */
static void
print_done(struct sender *s)
{
	struct job *j;

	while (s->head && s->head->phase == JOB_DONE) {
		j = s->head;
		if (j->state && !s->failed) {
			fwrite(j->state, 1, j->state_len, s->o.state_out);
			fputc('\n', s->o.state_out);
			if (fflush(s->o.state_out) != 0 ||
			    ferror(s->o.state_out)) {
				log_critical("cannot write state to stdout: %s",
				    strerror(errno));
				s->failed = 1;
			} else {
				s->states_printed++;
			}
		}
		s->head = j->next;
		if (!s->head)
			s->tail = NULL;
		s->count--;
		job_free(s, j);
		pthread_cond_broadcast(&s->cv);
	}
}

static void
fail(struct sender *s)
{
	pthread_mutex_lock(&s->mu);
	s->failed = 1;
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
}

static int
job_post(struct sender *s, struct job *j)
{
	const char *data = j->gzipped ? j->gz.data : j->body;
	size_t len = j->gzipped ? j->gz.len : j->body_len;
	CURLcode rc = CURLE_OK;

#define SET(opt, val) if (rc == CURLE_OK) rc = curl_easy_setopt(j->h, opt, val)
	SET(CURLOPT_POSTFIELDS, data);
	SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	SET(CURLOPT_HTTPHEADER, j->gzipped ? s->headers_gz : s->headers);
#undef SET
	if (rc != CURLE_OK)
		return log_fail("cannot set up request: %s",
		    curl_easy_strerror(rc));

	http_response_reset(&j->resp);
	j->attempts++;
	j->started = http_now();
	j->phase = JOB_RUNNING;
	if (curl_multi_add_handle(s->multi, j->h) != CURLM_OK)
		return log_fail("cannot start request to '%s'", j->url);
	return 0;
}

/*
 * Compress the body.  The plain copy is dropped then: only a 415 needs it
 * again, and it can be had back from the gzip.
 */
static void
job_prepare(struct sender *s, struct job *j)
{
	if (j->prepared)
		return;
	j->prepared = 1;
	j->gzipped = 0;
	if (!s->o.gzip || gzip_compress(&j->gz, j->body, j->body_len,
	    s->o.gzip_level, s->o.gzip_threads) < 0)
		return;
	j->gzipped = 1;
	free(j->body);
	j->body = NULL;
}

static int
job_start(struct sender *s, struct job *j)
{
	char url[1024];

	if (j->h)
		return job_post(s, j);

	job_prepare(s, j);
	http_response_init(&j->resp, RESPONSE_MAX);
	j->h = curl_easy_init();
	if (!j->h || http_easy_setup(j->h, &s->o.policy, &j->resp,
	    s->o.user_agent) < 0 ||
	    curl_easy_setopt(j->h, CURLOPT_URL, j->url) != CURLE_OK ||
	    curl_easy_setopt(j->h, CURLOPT_PRIVATE, j) != CURLE_OK)
		return log_fail("cannot set up a request to '%s'", j->url);

	http_redact_url(url, sizeof(url), j->url);
	if (j->gzipped)
		log_info("Sending batch of %zu bytes (%zu gzip) to %s",
		    j->body_len, j->gz.len, url);
	else
		log_info("Sending batch of %zu bytes to %s", j->body_len, url);
	return job_post(s, j);
}

/* Back to a plain body after the server refused gzip. */
static int
job_ungzip(struct job *j)
{
	struct buf plain;

	buf_init(&plain, 0);
	if (gzip_decompress(&plain, j->gz.data, j->gz.len) < 0) {
		buf_release(&plain);
		return -1;
	}
	j->body = buf_detach(&plain, NULL);
	buf_release(&j->gz);
	j->gzipped = 0;
	return 0;
}

static void
metric_duration(const struct job *j, double secs, int ok)
{
	struct buf m;

	buf_init(&m, 0);
	buf_printf(&m, "{\"type\": \"timer\", \"metric\": "
	    "\"http_request_duration\", \"value\": %.6f, \"tags\": "
	    "{\"endpoint\": ", secs);
	json_string_encode(&m, j->stream, strlen(j->stream));
	buf_printf(&m, ", \"http_status_code\": %ld, \"status\": \"%s\"}}",
	    j->resp.status, ok ? "succeeded" : "failed");
	if (m.data)
		log_metric(m.data);
	buf_release(&m);
}

/* One attempt of `j` ended with `result`: done, retry, or give up. */
static void
job_finished(struct sender *s, struct job *j, CURLcode result)
{
	enum http_verdict v;
	char url[1024], why[768];
	double wait;

	j->resp.result = result;
	curl_easy_getinfo(j->h, CURLINFO_RESPONSE_CODE, &j->resp.status);
	curl_multi_remove_handle(s->multi, j->h);
	v = http_classify(&j->resp);
	metric_duration(j, http_now() - j->started, v == HTTP_DONE);

	if (v == HTTP_DONE) {
		s->requests++;
		s->bytes_sent += j->gzipped ? j->gz.len : j->body_len;
		s->bytes_raw += j->body_len;
		curl_easy_cleanup(j->h);
		j->h = NULL;
		free(j->body);
		j->body = NULL;
		buf_release(&j->gz);
		j->phase = JOB_DONE;
		return;
	}

	http_redact_url(url, sizeof(url), j->url);
	http_describe(&j->resp, why, sizeof(why));
	if (j->resp.status == 415 && j->gzipped) {
		log_warn("Stitch refused a gzip body of '%s' at %s (%s); "
		    "sending it and every later body uncompressed",
		    j->stream, url, why);
		s->o.gzip = 0;
		j->attempts--;
		if (job_ungzip(j) < 0 || job_post(s, j) < 0)
			fail(s);
		return;
	}
	if (v == HTTP_RETRY && j->attempts < s->o.policy.max_attempts) {
		wait = http_backoff(&s->o.policy, j->attempts,
		    j->resp.retry_after);
		log_warn("cannot send batch of '%s' to %s: %s (attempt %d "
		    "of %d), retrying in %.1f s", j->stream, url, why,
		    j->attempts, s->o.policy.max_attempts, wait);
		j->phase = JOB_BACKOFF;
		j->retry_at = http_now() + wait;
		return;
	}
	if (v == HTTP_RETRY)
		log_critical("cannot send batch of '%s' (%zu records) to %s: "
		    "%s; giving up after %d attempts", j->stream, j->records,
		    url, why, j->attempts);
	else
		log_critical("cannot send batch of '%s' (%zu records) to %s: "
		    "%s", j->stream, j->records, url, why);
	fail(s);
}

/*
 * Under mu: mark state-only jobs done, and pick the jobs whose turn has
 * come: queued ones while fewer than `limit` requests are out, and those
 * whose backoff has ended.  Sets *wait_ms to how long the loop may sleep
 * before a backoff ends.
 */
static size_t
pick_jobs(struct sender *s, struct job **out, size_t max, long *wait_ms)
{
	double now = http_now();
	struct job *j;
	size_t n = 0, out_now = 0;

	*wait_ms = 1000;
	for (j = s->head; j; j = j->next)
		if (j->phase == JOB_RUNNING || j->phase == JOB_BACKOFF)
			out_now++;
	for (j = s->head; j && n < max; j = j->next) {
		if (j->phase == JOB_QUEUED && j->state_only) {
			j->phase = JOB_DONE;
		} else if (j->phase == JOB_QUEUED && out_now < s->o.limit) {
			out[n++] = j;
			out_now++;
		} else if (j->phase == JOB_BACKOFF) {
			if (j->retry_at <= now)
				out[n++] = j;
			else if ((j->retry_at - now) * 1000 < *wait_ms)
				*wait_ms = (long)((j->retry_at - now) * 1000) + 1;
		}
	}
	return n;
}

static void *
sender_run(void *arg)
{
	struct sender *s = arg;
	struct job *start[64];
	struct CURLMsg *msg;
	size_t i, n;
	long wait_ms;
	int running, finished, left;

	pthread_mutex_lock(&s->mu);
	for (;;) {
		print_done(s);
		if (s->failed || (s->stop && !s->head))
			break;
		n = pick_jobs(s, start, sizeof(start) / sizeof(start[0]),
		    &wait_ms);
		pthread_mutex_unlock(&s->mu);

		for (i = 0; i < n; i++)
			if (job_start(s, start[i]) < 0)
				fail(s);

		finished = 0;
		curl_multi_perform(s->multi, &running);
		while ((msg = curl_multi_info_read(s->multi, &left))) {
			struct job *j;

			if (msg->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE,
			    (char **)&j);
			job_finished(s, j, msg->data.result);
			finished = 1;
		}
		if (!finished)
			curl_multi_poll(s->multi, NULL, 0, (int)wait_ms, NULL);
		pthread_mutex_lock(&s->mu);
	}
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

int
sender_start(struct sender *s, const struct sender_opts *o)
{
	struct buf auth;

	memset(s, 0, sizeof(*s));
	s->o = *o;
	if (s->o.limit < 1)
		s->o.limit = 1;
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cv, NULL);
	if (o->dry_run)
		return 0;

	buf_init(&auth, 0);
	if (buf_printf(&auth, "Authorization: Bearer %s", o->token) < 0)
		return log_fail("cannot set up headers: out of memory");
	s->headers = curl_slist_append(NULL, auth.data);
	s->headers = curl_slist_append(s->headers,
	    "Content-Type: application/json");
	s->headers = curl_slist_append(s->headers, "Expect:");
	s->headers_gz = curl_slist_append(NULL, auth.data);
	s->headers_gz = curl_slist_append(s->headers_gz,
	    "Content-Type: application/json");
	s->headers_gz = curl_slist_append(s->headers_gz, "Expect:");
	s->headers_gz = curl_slist_append(s->headers_gz,
	    "Content-Encoding: gzip");
	memset(auth.data, 0, auth.len);
	buf_release(&auth);

	s->multi = curl_multi_init();
	if (!s->headers || !s->headers_gz || !s->multi)
		return log_fail("cannot set up libcurl");
	curl_multi_setopt(s->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS,
	    (long)s->o.limit);
	if (pthread_create(&s->thread, NULL, sender_run, s) != 0)
		return log_fail("cannot start the sending thread");
	s->started = 1;
	return 0;
}

/* Dry run: the job is accepted as soon as it is handed over. */
static int
submit_dry(struct sender *s, struct job *j)
{
	if (j->state && !s->failed) {
		fwrite(j->state, 1, j->state_len, s->o.state_out);
		fputc('\n', s->o.state_out);
		if (fflush(s->o.state_out) != 0 || ferror(s->o.state_out)) {
			log_critical("cannot write state to stdout: %s",
			    strerror(errno));
			s->failed = 1;
		} else {
			s->states_printed++;
		}
	}
	if (!j->state_only) {
		s->bytes_raw += j->body_len;
		s->requests++;
	}
	free(j->body);
	free(j->state);
	free(j);
	return s->failed ? -1 : 0;
}

static int
interrupted(const struct sender *s)
{
	return s->o.interrupted && *s->o.interrupted;
}

/*
 * Wait on cv under mu, but never for long: a signal does not wake a
 * condition variable, so the waiting loops look at *interrupted often.
 */
static void
wait_a_while(struct sender *s)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_nsec += 100 * 1000 * 1000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	pthread_cond_timedwait(&s->cv, &s->mu, &ts);
}

int
sender_submit(struct sender *s, const char *stream, const char *url,
    char *body, size_t body_len, size_t records, char *state,
    size_t state_len)
{
	struct job *j = calloc(1, sizeof(*j));

	if (!j) {
		free(body);
		free(state);
		return log_fail("cannot queue a batch: out of memory");
	}
	j->stream = stream;
	j->url = url;
	j->body = body;
	j->body_len = body_len;
	j->records = records;
	j->state = state;
	j->state_len = state_len;
	j->state_only = body == NULL;
	buf_init(&j->gz, 0);
	if (s->o.dry_run)
		return submit_dry(s, j);

	pthread_mutex_lock(&s->mu);
	while (s->count >= s->o.limit && !s->failed && !interrupted(s))
		wait_a_while(s);
	if (s->failed || interrupted(s)) {
		pthread_mutex_unlock(&s->mu);
		job_free(s, j);
		return -1;
	}
	if (s->tail)
		s->tail->next = j;
	else
		s->head = j;
	s->tail = j;
	s->count++;
	pthread_mutex_unlock(&s->mu);
	curl_multi_wakeup(s->multi);
	return 0;
}

int
sender_wait_idle(struct sender *s)
{
	int rc;

	if (s->o.dry_run)
		return s->failed ? -1 : 0;
	pthread_mutex_lock(&s->mu);
	if (s->head && !s->failed)
		log_info("Sending batch with ActivateVersion. Flushing "
		    "PENDING_REQUESTS first");
	while (s->head && !s->failed && !interrupted(s))
		wait_a_while(s);
	rc = s->failed || interrupted(s) ? -1 : 0;
	pthread_mutex_unlock(&s->mu);
	return rc;
}

int
sender_failed(struct sender *s)
{
	int f;

	pthread_mutex_lock(&s->mu);
	f = s->failed;
	pthread_mutex_unlock(&s->mu);
	return f;
}

int
sender_finish(struct sender *s, double drain)
{
	struct job *j, *next;
	double until = http_now() + drain;
	int rc;

	if (s->started) {
		pthread_mutex_lock(&s->mu);
		while (drain != 0 && s->head && !s->failed &&
		    (drain < 0 || http_now() < until))
			wait_a_while(s);
		if (s->head)
			s->failed = 1;
		s->stop = 1;
		pthread_mutex_unlock(&s->mu);
		curl_multi_wakeup(s->multi);
		pthread_join(s->thread, NULL);
		s->started = 0;
	}
	rc = s->failed || s->head ? -1 : 0;
	for (j = s->head; j; j = next) {
		next = j->next;
		job_free(s, j);
	}
	s->head = s->tail = NULL;
	if (s->multi)
		curl_multi_cleanup(s->multi);
	s->multi = NULL;
	http_headers_free(s->headers);
	http_headers_free(s->headers_gz);
	s->headers = s->headers_gz = NULL;
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->cv);
	return rc;
}

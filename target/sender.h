/*
 * The sender owns everything between a finished request body and a state
 * line on stdout.  Bodies are queued in input order as jobs; a thread
 * compresses each one and posts it through libcurl's multi interface with
 * at most `limit` jobs queued or in flight, retrying as the HTTP policy
 * allows.  A job's state is printed only when that job and every job
 * before it have been accepted; after the first failure nothing more is
 * printed.  In dry-run mode there is no thread: a submitted job counts as
 * accepted at once.
 */
#ifndef TARGET_SENDER_H
#define TARGET_SENDER_H

#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>

#include <curl/curl.h>

#include "../common/buf.h"
#include "../common/http.h"

struct job;

struct sender_opts {
	int dry_run;
	const char *token;	/* borrowed; copied into a header */
	int gzip;
	int gzip_level;
	int gzip_threads;
	size_t limit;		/* jobs queued or in flight at once */
	struct http_policy policy;
	const char *user_agent;
	FILE *state_out;	/* where state lines go */
	/* Set (by a signal handler) when the reader must stop waiting. */
	volatile sig_atomic_t *interrupted;
};

struct sender {
	struct sender_opts o;
	pthread_t thread;
	int started;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	CURLM *multi;
	struct curl_slist *headers;	/* plain JSON bodies */
	struct curl_slist *headers_gz;	/* gzip bodies */
	struct job *head, *tail;
	size_t count;
	int stop;		/* no more jobs will come */
	int failed;		/* a job failed for good, or stdout did */
	size_t states_printed;
	unsigned long long bytes_sent;	/* on the wire, bodies only */
	unsigned long long bytes_raw;	/* the same bodies uncompressed */
	unsigned long long requests;
};

/* Start the sender; 0 or -1 (logged). */
int sender_start(struct sender *s, const struct sender_opts *o);

/*
 * Queue one body for `stream` (borrowed: it must outlive the sender) to
 * `url` (borrowed likewise).  Takes ownership of `body` (malloc'ed) and of
 * `state` (malloc'ed compact JSON or NULL) whatever happens.  A NULL body
 * makes a state-only job.  Blocks while `limit` jobs are pending.
 * Returns -1 once the sender has failed, or when *interrupted is set
 * while it waits.
 */
int sender_submit(struct sender *s, const char *stream, const char *url,
    char *body, size_t body_len, size_t records, char *state,
    size_t state_len);

/*
 * Wait until every queued job is done; -1 if the sender has failed or
 * *interrupted is set while it waits.
 */
int sender_wait_idle(struct sender *s);

/* Has a job failed for good? */
int sender_failed(struct sender *s);

/*
 * Stop.  With `drain` < 0, first wait until every queued job is done;
 * with `drain` > 0, wait at most that many seconds; then drop what has
 * not been accepted.  Frees everything.  Returns 0 when every job was
 * accepted and every state printed, -1 otherwise.
 */
int sender_finish(struct sender *s, double drain);

#endif

/*
 * A sync of the `decisions` stream: page through the decision-history API
 * for one time window and write Singer messages as each page arrives.
 */
#ifndef TAP_TAP_H
#define TAP_TAP_H

#include <signal.h>
#include <stdio.h>

#include "../common/http.h"
#include "../common/isotime.h"

struct tap_opts {
	const char *base_url;		/* without a trailing slash */
	const char *api_key;		/* borrowed; sent only as a header */
	struct isotime start;
	struct isotime end;
	int include_node_results;
	int include_external_resources;
	int selected;			/* 0: emit nothing but the state */
	struct http_policy policy;
	const char *user_agent;
	FILE *out;
	/* Set by a signal handler when the sync must stop, or NULL. */
	volatile sig_atomic_t *stop;
};

/*
 * Run the sync.  Writes the SCHEMA, every decision of the window as a
 * RECORD (page by page, flushed after each page), then the STATE with
 * the window's end as bookmark.  Returns 0, or -1 after a CRITICAL line,
 * or -2 when *o->stop was set: the page in progress is abandoned (or, if
 * it had arrived, written) and nothing more is fetched.  No STATE is
 * written then.
 */
int tap_sync(const struct tap_opts *o);

#endif

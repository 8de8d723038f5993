/*
 * The target proper: per-stream buffers of Singer messages, the rules for
 * when to flush them, and the turning of a flushed buffer into Stitch
 * batch request bodies (split in halves while too large, routed to the
 * small or big batch URL) that go to the sender with the pending state
 * riding on the last one.
 */
#ifndef TARGET_TARGET_H
#define TARGET_TARGET_H

#include <stdint.h>
#include <stdio.h>

#include <json-c/json.h>

#include "../common/buf.h"
#include "message.h"
#include "sender.h"

/* The Import API refuses a body from this size on (uncompressed). */
#define TARGET_RECORD_LIMIT	20000000u
/* Bodies larger than this go to the big batch URL. */
#define TARGET_BIG_BODY		4000000u

struct target_opts {
	size_t max_records;
	size_t max_bytes;
	double delay;			/* seconds; < 0 flushes every message */
	const char *small_url;		/* borrowed; NULL in dry-run mode */
	const char *big_url;
	struct json_object *prefs;	/* borrowed batch_size_preferences */
	FILE *output;			/* -o file, or NULL */
	int dry_run;
	int validate;			/* check records against their schema */
};

struct stream;

struct target {
	struct target_opts o;
	struct sender *sender;
	struct stream *streams;		/* in order of first SCHEMA */
	struct stream *last_stream;
	struct stream *cached;		/* the stream of the last record */
	size_t buffered_msgs;
	size_t buffered_bytes;
	double last_flush;
	struct buf state;		/* pending state, compact */
	int has_state;
	uint64_t last_seq;
	size_t line_no;
	struct message msg;
	struct buf name;		/* scratch: a decoded stream name */
	unsigned long long records_in;
	unsigned long long batches;
};

void target_init(struct target *t, const struct target_opts *o,
    struct sender *sender);
void target_release(struct target *t);

/*
 * Handle input line number `line_no` (`len` bytes without its ending;
 * `raw_len` counts the ending too).  Returns 0, or -1 after logging a
 * CRITICAL line when the input is bad or the sender has failed.
 */
int target_handle_line(struct target *t, const char *line, size_t len,
    size_t raw_len, size_t line_no);

/*
 * No input for a while: flush if the batch delay has passed with messages
 * waiting.  0 or -1.
 */
int target_tick(struct target *t);

/* End of input: flush everything.  0 or -1. */
int target_finish(struct target *t);

/* The next sequence number: 19 digits, strictly increasing. */
uint64_t target_next_sequence(struct target *t);

#endif

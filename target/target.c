/*
 * Buffering and batching.  A stream's buffer holds its messages already
 * turned into the items of a request body, minus the sequence number,
 * which is only known when the body is built.  Since every sequence has
 * 19 digits, the length of any body can be computed before it is built,
 * so splitting a batch costs arithmetic and each body is written once.
 */
#include "target.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../common/http.h"
#include "../common/isotime.h"
#include "../common/json.h"
#include "../common/jsonschema.h"
#include "../common/log.h"

#define SEQ_DIGITS 19

static const char BODY_NAME[] = "{\"table_name\":";
static const char BODY_SCHEMA[] = ",\"schema\":";
static const char BODY_KEYS[] = ",\"key_names\":";
static const char BODY_MESSAGES[] = ",\"messages\":[";
static const char BODY_VERSION[] = "],\"table_version\":";
static const char BODY_BOOKMARKS[] = ",\"bookmark_names\":";
static const char ITEM_UPSERT[] = "{\"action\":\"upsert\",\"data\":";
static const char ITEM_ACTIVATE[] = "{\"action\":\"activate_version\"";
static const char ITEM_SEQUENCE[] = ",\"sequence\":";
static const char ITEM_TIME[] = ",\"time_extracted\":\"";

#define LIT(s) (sizeof(s) - 1)

struct item {
	size_t off;		/* in the stream's items buffer */
	size_t head;		/* bytes before the sequence */
	size_t tail;		/* bytes after it */
	int is_record;
};

struct stream {
	struct stream *next;
	char *name;
	size_t name_len;
	struct buf name_json;
	struct buf schema;
	struct buf key_names;
	struct buf bookmarks;		/* empty: none */
	char **keys;
	size_t nkeys;
	struct jsonschema *validator;	/* NULL unless records are checked */
	const char *url;
	struct buf items;
	struct item *it;
	size_t n;
	size_t cap;
	struct buf version;		/* of the first buffered message */
	size_t bytes;
	size_t records;
	int has_activate;
	int warned_time;
};

static double
now_seconds(void)
{
	return http_now();
}

/* Log a CRITICAL line about the current input line; returns -1. */
static int
input_fail(struct target *t, const struct stream *s, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int
input_fail(struct target *t, const struct stream *s, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (s)
		log_critical("line %zu (stream '%s'): %s", t->line_no,
		    s->name, msg);
	else
		log_critical("line %zu: %s", t->line_no, msg);
	return -1;
}

static void
keys_free(struct stream *s)
{
	size_t i;

	for (i = 0; i < s->nkeys; i++)
		free(s->keys[i]);
	free(s->keys);
	s->keys = NULL;
	s->nkeys = 0;
}

static void
stream_free(struct stream *s)
{
	if (!s)
		return;
	free(s->name);
	buf_release(&s->name_json);
	buf_release(&s->schema);
	buf_release(&s->key_names);
	buf_release(&s->bookmarks);
	keys_free(s);
	jsonschema_free(s->validator);
	buf_release(&s->items);
	buf_release(&s->version);
	free(s->it);
	free(s);
}

void
target_init(struct target *t, const struct target_opts *o,
    struct sender *sender)
{
	memset(t, 0, sizeof(*t));
	t->o = *o;
	t->sender = sender;
	t->last_flush = now_seconds();
	buf_init(&t->state, 0);
	buf_init(&t->name, 0);
	message_init(&t->msg);
}

void
target_release(struct target *t)
{
	struct stream *s, *next;

	for (s = t->streams; s; s = next) {
		next = s->next;
		stream_free(s);
	}
	t->streams = t->last_stream = t->cached = NULL;
	buf_release(&t->state);
	buf_release(&t->name);
	message_release(&t->msg);
}

uint64_t
target_next_sequence(struct target *t)
{
	struct timespec ts;
	uint64_t v;

	/* 100-ns ticks of the wall clock, then two digits of room. */
	clock_gettime(CLOCK_REALTIME, &ts);
	v = ((uint64_t)ts.tv_sec * 10000000u + (uint64_t)ts.tv_nsec / 100) *
	    100;
	if (v <= t->last_seq)
		v = t->last_seq + 1;
	t->last_seq = v;
	return v;
}

static void
put_sequence(char *out, uint64_t v)
{
	int i;

	for (i = SEQ_DIGITS - 1; i >= 0; i--) {
		out[i] = (char)('0' + v % 10);
		v /= 10;
	}
}

/* --- body sizes -------------------------------------------------------- */

static size_t
body_head_len(const struct stream *s)
{
	return LIT(BODY_NAME) + s->name_json.len + LIT(BODY_SCHEMA) +
	    s->schema.len + LIT(BODY_KEYS) + s->key_names.len +
	    LIT(BODY_MESSAGES);
}

static int
version_present(const struct stream *s)
{
	return s->version.len && strcmp(s->version.data, "null") != 0;
}

static size_t
body_tail_len(const struct stream *s)
{
	size_t n = 1 + 1;	/* "]" and "}" */

	if (version_present(s))
		n += LIT(BODY_VERSION) - 1 + s->version.len;
	if (s->bookmarks.len)
		n += LIT(BODY_BOOKMARKS) + s->bookmarks.len;
	return n;
}

static size_t
item_len(const struct item *it)
{
	return it->head + SEQ_DIGITS + it->tail;
}

static size_t
body_len(const struct stream *s, size_t lo, size_t hi)
{
	size_t n = body_head_len(s) + body_tail_len(s) + (hi - lo - 1), i;

	for (i = lo; i < hi; i++)
		n += item_len(&s->it[i]);
	return n;
}

/* --- building and sending bodies ---------------------------------------- */

static char *
body_build(struct target *t, struct stream *s, size_t lo, size_t hi,
    size_t len)
{
	char *body = malloc(len + 1), *p;
	size_t i;

	if (!body)
		return NULL;
	p = body;
#define PUT(src, n) do { memcpy(p, (src), (n)); p += (n); } while (0)
	PUT(BODY_NAME, LIT(BODY_NAME));
	PUT(s->name_json.data, s->name_json.len);
	PUT(BODY_SCHEMA, LIT(BODY_SCHEMA));
	PUT(s->schema.data, s->schema.len);
	PUT(BODY_KEYS, LIT(BODY_KEYS));
	PUT(s->key_names.data, s->key_names.len);
	PUT(BODY_MESSAGES, LIT(BODY_MESSAGES));
	for (i = lo; i < hi; i++) {
		const struct item *it = &s->it[i];
		const char *src = s->items.data + it->off;

		if (i > lo)
			*p++ = ',';
		PUT(src, it->head);
		put_sequence(p, target_next_sequence(t));
		p += SEQ_DIGITS;
		PUT(src + it->head, it->tail);
	}
	*p++ = ']';
	if (version_present(s)) {
		PUT(BODY_VERSION + 1, LIT(BODY_VERSION) - 1);
		PUT(s->version.data, s->version.len);
	}
	if (s->bookmarks.len) {
		PUT(BODY_BOOKMARKS, LIT(BODY_BOOKMARKS));
		PUT(s->bookmarks.data, s->bookmarks.len);
	}
	*p++ = '}';
#undef PUT
	*p = '\0';
	return body;
}

struct range {
	size_t lo, hi, len;
};

/*
 * Split [lo, hi) in halves until each body is under max_bytes or holds a
 * single message.  Ranges are appended in order to `out`.
 */
static int
split(const struct target *t, const struct stream *s, size_t lo, size_t hi,
    struct range **out, size_t *n, size_t *cap)
{
	size_t len = body_len(s, lo, hi), mid;

	if (len < t->o.max_bytes || hi - lo == 1) {
		if (*n == *cap) {
			size_t c = *cap ? *cap * 2 : 8;
			struct range *r = realloc(*out, c * sizeof(*r));

			if (!r)
				return log_fail("cannot split a batch: out of "
				    "memory");
			*out = r;
			*cap = c;
		}
		(*out)[(*n)++] = (struct range){ lo, hi, len };
		return 0;
	}
	mid = lo + (hi - lo) / 2;
	if (split(t, s, lo, mid, out, n, cap) < 0)
		return -1;
	return split(t, s, mid, hi, out, n, cap);
}

static void
metric_records(const struct stream *s, size_t records, size_t bytes)
{
	struct buf m;

	buf_init(&m, 0);
	buf_printf(&m, "{\"type\": \"counter\", \"metric\": \"record_count\", "
	    "\"value\": %zu, \"tags\": {\"endpoint\": ", records);
	buf_append(&m, s->name_json.data, s->name_json.len);
	buf_printf(&m, ", \"num_bytes\": %zu}}", bytes);
	if (m.data)
		log_metric(m.data);
	buf_release(&m);
}

static size_t
count_records(const struct stream *s, size_t lo, size_t hi)
{
	size_t n = 0, i;

	for (i = lo; i < hi; i++)
		n += (size_t)s->it[i].is_record;
	return n;
}

/*
 * Send the stream's buffer as one batch; `state` (owned, may be NULL)
 * rides on its last body.  The buffer is emptied either way.
 */
static int
flush_stream(struct target *t, struct stream *s, char *state,
    size_t state_len)
{
	struct range *r = NULL;
	size_t nr = 0, cap = 0, i, total = 0;
	const char *url = s->url;
	int rc = -1;

	/* A dry run without -o has no use for the bodies. */
	if (t->o.dry_run && !t->o.output) {
		rc = sender_submit(t->sender, s->name, NULL, NULL, 0, 0, state,
		    state_len);
		state = NULL;
		if (rc < 0)
			goto out;
		log_info("%s (%zu): Batch is valid", s->name, s->n);
		rc = 0;
		goto out;
	}
	log_info("Serializing batch with %zu messages for table %s", s->n,
	    s->name);
	if (split(t, s, 0, s->n, &r, &nr, &cap) < 0)
		goto out;
	if (nr > 1)
		log_debug("Split batch into %zu requests", nr);

	for (i = 0; i < nr; i++) {
		int last = i + 1 == nr;
		char *body;

		if (r[i].len >= TARGET_RECORD_LIMIT) {
			log_critical("A single record is larger than the "
			    "Stitch API limit of 20 Mb (stream '%s', %zu "
			    "bytes)", s->name, r[i].len);
			goto out;
		}
		body = body_build(t, s, r[i].lo, r[i].hi, r[i].len);
		if (!body) {
			log_critical("cannot build a batch of %zu bytes for "
			    "'%s': out of memory", r[i].len, s->name);
			goto out;
		}
		if (t->o.output) {
			fwrite(body, 1, r[i].len, t->o.output);
			fputc('\n', t->o.output);
			fflush(t->o.output);
		}
		if (r[i].len > TARGET_BIG_BODY && t->o.big_url)
			url = t->o.big_url;
		if (s->has_activate && sender_wait_idle(t->sender) < 0) {
			free(body);
			goto out;
		}
		total += r[i].len;
		t->batches++;
		if (sender_submit(t->sender, s->name, url, body, r[i].len,
		    count_records(s, r[i].lo, r[i].hi), last ? state : NULL,
		    last ? state_len : 0) < 0) {
			if (!last)
				free(state);
			state = NULL;
			goto fail_sender;
		}
		if (last)
			state = NULL;
	}
	if (!t->o.dry_run)
		metric_records(s, count_records(s, 0, s->n), total);
	else
		log_info("%s (%zu): Batch is valid", s->name, s->n);
	rc = 0;
	goto out;

fail_sender:
	log_debug("sender failed while queueing '%s'", s->name);
out:
	free(state);
	free(r);
	t->buffered_msgs -= s->n;
	t->buffered_bytes -= s->bytes;
	buf_reset(&s->items);
	buf_reset(&s->version);
	s->n = 0;
	s->bytes = 0;
	s->records = 0;
	s->has_activate = 0;
	/* Give back the memory of an unusually large batch. */
	if (s->items.cap > 2 * t->o.max_bytes + 1024) {
		buf_release(&s->items);
		free(s->it);
		s->it = NULL;
		s->cap = 0;
	}
	return rc;
}

/* Flush every stream; the pending state goes with the last of them. */
static int
flush_all(struct target *t)
{
	struct stream *s, *last = NULL;
	char *state = NULL;
	size_t state_len = 0;
	int rc = 0;

	if (t->has_state && !json_is_falsy(t->state.data, t->state.len))
		state = buf_detach(&t->state, &state_len);
	buf_reset(&t->state);
	t->has_state = 0;

	for (s = t->streams; s; s = s->next)
		if (s->n)
			last = s;
	if (last)
		log_debug("Flushing %zu bytes, %zu messages, after %.1f seconds",
		    t->buffered_bytes, t->buffered_msgs,
		    now_seconds() - t->last_flush);

	for (s = t->streams; s && rc == 0; s = s->next) {
		if (!s->n)
			continue;
		rc = flush_stream(t, s, s == last ? state : NULL,
		    s == last ? state_len : 0);
		if (s == last)
			state = NULL;
		t->last_flush = now_seconds();
	}
	if (rc == 0 && !last && state) {
		rc = sender_submit(t->sender, "", NULL, NULL, 0, 0, state,
		    state_len);
		state = NULL;
	}
	free(state);
	if (rc < 0) {
		/* A sender failure was logged by the sender itself. */
		return -1;
	}
	return 0;
}

static int
check_limits(struct target *t)
{
	if (t->buffered_bytes >= t->o.max_bytes ||
	    t->buffered_msgs >= t->o.max_records ||
	    now_seconds() - t->last_flush >= t->o.delay)
		return flush_all(t);
	return 0;
}

/* --- streams ------------------------------------------------------------ */

static struct stream *
stream_find(struct target *t, const char *lit, size_t len)
{
	struct stream *s;

	if (t->cached && json_string_equals(lit, len, t->cached->name,
	    t->cached->name_len))
		return t->cached;
	for (s = t->streams; s; s = s->next)
		if (json_string_equals(lit, len, s->name, s->name_len))
			return t->cached = s;
	return NULL;
}

/* Does the JSON array `list` (json-c, may be NULL) hold the string? */
static int
list_has(struct json_object *list, const char *name)
{
	size_t i, n;

	if (!list || !json_object_is_type(list, json_type_array))
		return 0;
	n = json_object_array_length(list);
	for (i = 0; i < n; i++) {
		/* Borrowed from the list. */
		struct json_object *v = json_object_array_get_idx(list, i);

		if (json_object_is_type(v, json_type_string) &&
		    strcmp(json_object_get_string(v), name) == 0)
			return 1;
	}
	return 0;
}

static const char *
preference_url(const struct target *t, const char *key)
{
	struct json_object *v;
	const char *p;

	/* Borrowed from the config. */
	if (!t->o.prefs || !json_object_object_get_ex(t->o.prefs, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	p = json_object_get_string(v);
	if (strcmp(p, "bigbatch") == 0)
		return t->o.big_url;
	if (strcmp(p, "smallbatch") == 0)
		return t->o.small_url;
	return NULL;
}

static const char *
stream_url(const struct target *t, const char *name)
{
	struct json_object *full = NULL;
	const char *url;

	if (t->o.prefs)
		json_object_object_get_ex(t->o.prefs, "full_table_streams",
		    &full);
	if (list_has(full, name))
		return t->o.big_url;
	url = preference_url(t, "batch_size_preference");
	if (!url)
		url = preference_url(t, "user_batch_size_preference");
	return url ? url : t->o.small_url;
}

static struct stream *
stream_new(struct target *t, const char *lit, size_t len)
{
	struct stream *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	buf_init(&s->name_json, 0);
	buf_init(&s->schema, 0);
	buf_init(&s->key_names, 0);
	buf_init(&s->bookmarks, 0);
	buf_init(&s->items, 0);
	buf_init(&s->version, 0);
	if (buf_append(&s->name_json, lit, len) < 0 ||
	    json_string_decode(&s->name_json, lit, len) < 0) {
		stream_free(s);
		return NULL;
	}
	/* name_json holds the literal, then the decoded name after it. */
	s->name_len = s->name_json.len - len;
	s->name = malloc(s->name_len + 1);
	if (!s->name) {
		stream_free(s);
		return NULL;
	}
	memcpy(s->name, s->name_json.data + len, s->name_len);
	s->name[s->name_len] = '\0';
	s->name_json.len = len;
	s->name_json.data[len] = '\0';
	s->url = stream_url(t, s->name);

	if (t->last_stream)
		t->last_stream->next = s;
	else
		t->streams = s;
	t->last_stream = s;
	return s;
}

/*
 * Parse a compact JSON array of strings (key or bookmark properties) into
 * a list of C strings.  Returns 0, or -1 when it is not such an array.
 */
static int
string_list(const char *text, size_t len, char ***out, size_t *n)
{
	struct json_tokener *tok = json_tokener_new();
	struct json_object *arr = NULL;
	size_t i, count;
	int rc = -1;

	/* `text` is not NUL-terminated: parse exactly `len` bytes. */
	if (tok) {
		arr = json_tokener_parse_ex(tok, text, (int)len);
		json_tokener_free(tok);
	}
	*out = NULL;
	*n = 0;
	if (!arr || !json_object_is_type(arr, json_type_array))
		goto out;
	count = json_object_array_length(arr);
	*out = calloc(count ? count : 1, sizeof(char *));
	if (!*out)
		goto out;
	for (i = 0; i < count; i++) {
		/* Borrowed from arr. */
		struct json_object *v = json_object_array_get_idx(arr, i);

		if (!json_object_is_type(v, json_type_string))
			goto out;
		(*out)[i] = strdup(json_object_get_string(v));
		if (!(*out)[i])
			goto out;
		(*n)++;
	}
	rc = 0;
out:
	json_object_put(arr);
	if (rc < 0) {
		for (i = 0; *out && i < *n; i++)
			free((*out)[i]);
		free(*out);
		*out = NULL;
		*n = 0;
	}
	return rc;
}

/* --- messages ----------------------------------------------------------- */

/* The current message's stream name, decoded, for messages to the user. */
static const char *
msg_stream_name(struct target *t)
{
	const struct message *m = &t->msg;

	buf_reset(&t->name);
	if (json_string_decode(&t->name, message_at(m, m->stream),
	    m->stream.len) < 0 || !t->name.data)
		return "?";
	return t->name.data;
}

static int
require(struct target *t, struct span sp, const char *key)
{
	if (sp.len)
		return 0;
	return input_fail(t, NULL, "message is missing required key '%s'",
	    key);
}

static int
require_stream(struct target *t)
{
	if (require(t, t->msg.stream, "stream") < 0)
		return -1;
	if (message_at(&t->msg, t->msg.stream)[0] != '"')
		return input_fail(t, NULL, "key 'stream' must be a string");
	return 0;
}

static int
handle_schema(struct target *t)
{
	struct message *m = &t->msg;
	struct stream *s;
	const char *lit;
	struct jsonschema *validator = NULL;
	char **keys = NULL;
	size_t nkeys = 0, blen;
	const char *b;
	int rc;

	if (require_stream(t) < 0 || require(t, m->schema, "schema") < 0)
		return -1;
	lit = message_at(m, m->stream);
	if (message_at(m, m->schema)[0] != '{')
		return input_fail(t, NULL, "SCHEMA of stream '%s': 'schema' "
		    "must be a JSON object", msg_stream_name(t));

	/* Member values lie end to end in m->text: compare by length. */
	if (m->key_properties.len && !(m->key_properties.len == 4 &&
	    memcmp(message_at(m, m->key_properties), "null", 4) == 0)) {
		if (string_list(message_at(m, m->key_properties),
		    m->key_properties.len, &keys, &nkeys) < 0)
			return input_fail(t, NULL, "SCHEMA of stream '%s': "
			    "'key_properties' must be a list of strings",
			    msg_stream_name(t));
	} else {
		log_warn("line %zu: SCHEMA of stream '%s' has no "
		    "key_properties; taking []", t->line_no,
		    msg_stream_name(t));
	}

	b = message_at(m, m->bookmark_properties);
	blen = m->bookmark_properties.len;
	if (blen && !json_is_falsy(b, blen) && b[0] != '"' && b[0] != '[') {
		rc = input_fail(t, NULL, "SCHEMA of stream '%s': "
		    "bookmark_properties must be a string or list of strings",
		    msg_stream_name(t));
		goto fail;
	}

	if (t->o.validate) {
		char why[256];

		validator = jsonschema_new(message_at(m, m->schema),
		    m->schema.len, why, sizeof(why));
		if (!validator) {
			rc = input_fail(t, NULL, "SCHEMA of stream '%s' is not "
			    "a valid draft 4 JSON Schema: %s",
			    msg_stream_name(t), why);
			goto fail;
		}
	}

	/* A SCHEMA flushes every stream, so records keep their schema. */
	if (flush_all(t) < 0) {
		rc = -1;
		goto fail;
	}
	s = stream_find(t, lit, m->stream.len);
	if (!s)
		s = stream_new(t, lit, m->stream.len);
	if (!s) {
		rc = input_fail(t, NULL, "out of memory");
		goto fail;
	}

	buf_reset(&s->schema);
	buf_reset(&s->key_names);
	buf_reset(&s->bookmarks);
	keys_free(s);
	s->keys = keys;
	s->nkeys = nkeys;
	jsonschema_free(s->validator);
	s->validator = validator;
	buf_append(&s->schema, message_at(m, m->schema), m->schema.len);
	if (keys)
		buf_append(&s->key_names, message_at(m, m->key_properties),
		    m->key_properties.len);
	else
		buf_puts(&s->key_names, "[]");
	if (blen && !json_is_falsy(b, blen)) {
		if (b[0] == '"')
			buf_putc(&s->bookmarks, '[');
		buf_append(&s->bookmarks, b, blen);
		if (b[0] == '"')
			buf_putc(&s->bookmarks, ']');
	}
	return 0;

fail:
	while (nkeys)
		free(keys[--nkeys]);
	free(keys);
	jsonschema_free(validator);
	return rc;
}

static int
item_reserve(struct stream *s)
{
	struct item *p;
	size_t cap;

	if (s->n < s->cap)
		return 0;
	cap = s->cap ? s->cap * 2 : 256;
	p = realloc(s->it, cap * sizeof(*p));
	if (!p)
		return -1;
	s->it = p;
	s->cap = cap;
	return 0;
}

/*
 * Messages of one batch share one version: a different version (a
 * missing one counts as null) flushes everything first.
 */
static int
version_switch(struct target *t, struct stream *s)
{
	const struct message *m = &t->msg;
	const char *v = m->version.len ? message_at(m, m->version) : "null";
	size_t vlen = m->version.len ? m->version.len : 4;

	if (s->n && (s->version.len != vlen ||
	    memcmp(s->version.data, v, vlen) != 0) && flush_all(t) < 0)
		return -1;
	if (!s->n) {
		buf_reset(&s->version);
		if (buf_append(&s->version, v, vlen) < 0)
			return input_fail(t, s, "out of memory");
	}
	return 0;
}

/* The time_extracted of the record as `...Z` text, or 0 if none. */
static int
record_time(struct target *t, struct stream *s, char out[ISOTIME_BUFSZ])
{
	const struct message *m = &t->msg;
	const char *v = message_at(m, m->time_extracted);
	struct isotime when;
	int ok;

	if (!m->time_extracted.len || json_is_falsy(v, m->time_extracted.len))
		return 0;
	ok = v[0] == '"';
	if (ok) {
		buf_reset(&t->name);
		ok = json_string_decode(&t->name, v, m->time_extracted.len) ==
		    0 && isotime_parse(&when, t->name.data, t->name.len) == 0;
	}
	if (!ok) {
		if (!s->warned_time++)
			log_warn("line %zu (stream '%s'): dropping "
			    "time_extracted %.64s: not an ISO 8601 time (later "
			    "ones of this stream are dropped silently)",
			    t->line_no, s->name, v);
		return 0;
	}
	if (!when.has_offset)
		return input_fail(t, s, "'time_extracted' must be either None "
		    "or an aware datetime (with a time zone): %.64s", v);
	isotime_format_micro(out, &when);
	return 1;
}

static int
has_key(const struct message *m, const char *key)
{
	size_t i, klen = strlen(key);

	for (i = 0; i < m->record_keys.n; i++) {
		const char *lit = m->text.data + m->record_keys.off[i];
		size_t len = json_value_span(lit, m->text.len -
		    m->record_keys.off[i]);

		if (json_string_equals(lit, len, key, klen))
			return 1;
	}
	return 0;
}

/* Validate the record against its stream's schema; 0 or -1 (logged). */
static int
check_record(struct target *t, struct stream *s)
{
	const struct message *m = &t->msg;
	struct jsonschema_error e;
	int rc;

	rc = jsonschema_validate(s->validator, message_at(m, m->record),
	    m->record.len, &e);
	if (rc == 0)
		return 0;
	if (rc < 0)
		return input_fail(t, s, "cannot validate the record: out of "
		    "memory");
	log_critical("record on line %zu of stream '%s' fails schema at %s: "
	    "%s (keyword '%s')", t->line_no, s->name, e.path[0] ? e.path :
	    "the top level", e.message, e.keyword);
	return -1;
}

static int
handle_record(struct target *t, size_t raw_len)
{
	struct message *m = &t->msg;
	struct stream *s;
	struct item *it;
	char when[ISOTIME_BUFSZ];
	size_t i, start, single;
	int timed;

	if (require_stream(t) < 0 || require(t, m->record, "record") < 0)
		return -1;
	s = stream_find(t, message_at(m, m->stream), m->stream.len);
	if (!s)
		return input_fail(t, NULL, "RECORD for stream '%s' before its "
		    "SCHEMA", msg_stream_name(t));
	if (message_at(m, m->record)[0] != '{')
		return input_fail(t, s, "'record' must be a JSON object");
	for (i = 0; i < s->nkeys; i++)
		if (!has_key(m, s->keys[i]))
			return input_fail(t, s, "record is missing key "
			    "property '%s'", s->keys[i]);
	if (s->validator && check_record(t, s) < 0)
		return -1;
	timed = record_time(t, s, when);
	if (timed < 0)
		return -1;

	if (version_switch(t, s) < 0 || item_reserve(s) < 0)
		return -1;
	it = &s->it[s->n];
	it->is_record = 1;
	it->head = LIT(ITEM_UPSERT) + m->record.len + LIT(ITEM_SEQUENCE);
	it->tail = 1 + (timed ? LIT(ITEM_TIME) + strlen(when) + 1 : 0);
	single = body_head_len(s) + body_tail_len(s) + item_len(it);
	if (single >= TARGET_RECORD_LIMIT)
		return input_fail(t, s, "A single record is larger than the "
		    "Stitch API limit of 20 Mb (%zu bytes as a request body)",
		    single);

	start = s->items.len;
	if (buf_grow(&s->items, item_len(it)) < 0)
		return input_fail(t, s, "out of memory");
	buf_append(&s->items, ITEM_UPSERT, LIT(ITEM_UPSERT));
	buf_append(&s->items, message_at(m, m->record), m->record.len);
	buf_append(&s->items, ITEM_SEQUENCE, LIT(ITEM_SEQUENCE));
	if (timed) {
		buf_append(&s->items, ITEM_TIME, LIT(ITEM_TIME));
		buf_puts(&s->items, when);
		buf_putc(&s->items, '"');
	}
	buf_putc(&s->items, '}');
	it->off = start;
	s->n++;
	s->records++;
	s->bytes += raw_len;
	t->buffered_msgs++;
	t->buffered_bytes += raw_len;
	t->records_in++;
	return check_limits(t);
}

static int
handle_activate(struct target *t, size_t raw_len)
{
	struct message *m = &t->msg;
	struct stream *s;
	struct item *it;

	if (require_stream(t) < 0 || require(t, m->version, "version") < 0)
		return -1;
	s = stream_find(t, message_at(m, m->stream), m->stream.len);
	if (!s) {
		log_warn("line %zu: skipping ACTIVATE_VERSION for stream '%s', "
		    "which has had no SCHEMA", t->line_no,
		    msg_stream_name(t));
		return 0;
	}
	if (version_switch(t, s) < 0 || item_reserve(s) < 0)
		return -1;
	it = &s->it[s->n];
	it->is_record = 0;
	it->off = s->items.len;
	it->head = LIT(ITEM_ACTIVATE) + LIT(ITEM_SEQUENCE);
	it->tail = 1;
	if (buf_append(&s->items, ITEM_ACTIVATE, LIT(ITEM_ACTIVATE)) < 0 ||
	    buf_append(&s->items, ITEM_SEQUENCE, LIT(ITEM_SEQUENCE)) < 0 ||
	    buf_putc(&s->items, '}') < 0)
		return input_fail(t, s, "out of memory");
	s->n++;
	s->has_activate = 1;
	s->bytes += raw_len;
	t->buffered_msgs++;
	t->buffered_bytes += raw_len;
	return check_limits(t);
}

static int
handle_state(struct target *t)
{
	struct message *m = &t->msg;

	if (require(t, m->value, "value") < 0)
		return -1;
	buf_reset(&t->state);
	if (buf_append(&t->state, message_at(m, m->value), m->value.len) < 0)
		return input_fail(t, NULL, "out of memory");
	t->has_state = 1;
	if (now_seconds() - t->last_flush >= t->o.delay) {
		if (flush_all(t) < 0)
			return -1;
		t->last_flush = now_seconds();
	}
	return 0;
}

int
target_handle_line(struct target *t, const char *line, size_t len,
    size_t raw_len, size_t line_no)
{
	struct json_error err;
	size_t i;

	t->line_no = line_no;
	for (i = 0; i < len && strchr(" \t\r\n", line[i]); i++)
		;
	if (i == len)
		return 0;	/* blank lines carry nothing */

	if (message_parse(&t->msg, line, len, &err) < 0)
		return input_fail(t, NULL, "not a valid JSON message: %s at "
		    "column %zu", err.what, err.offset + 1);

	switch (t->msg.type) {
	case MESSAGE_SCHEMA:
		return handle_schema(t);
	case MESSAGE_RECORD:
		return handle_record(t, raw_len);
	case MESSAGE_STATE:
		return handle_state(t);
	case MESSAGE_ACTIVATE_VERSION:
		return handle_activate(t, raw_len);
	default:
		if (require(t, t->msg.type_name, "type") < 0)
			return -1;
		log_debug("line %zu: skipping message of type %.40s", line_no,
		    message_at(&t->msg, t->msg.type_name));
		return 0;
	}
}

int
target_tick(struct target *t)
{
	if (!t->buffered_msgs || now_seconds() - t->last_flush < t->o.delay)
		return 0;
	return flush_all(t);
}

int
target_finish(struct target *t)
{
	return flush_all(t);
}

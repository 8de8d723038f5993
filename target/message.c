/*
 * Singer message parsing.  The outer object is walked here member by
 * member; every value goes through the compacting scanner, so the whole
 * line is checked (syntax and UTF-8) in one pass and the record's text is
 * ready to be copied into a request body as it is.
 */
#include "message.h"

#include <string.h>

void
message_init(struct message *m)
{
	memset(m, 0, sizeof(*m));
	buf_init(&m->text, 0);
}

void
message_release(struct message *m)
{
	buf_release(&m->text);
	json_keys_release(&m->record_keys);
}

/* The span that member `key` (a literal with quotes) fills, if any. */
static struct span *
member_slot(struct message *m, const char *key, size_t len)
{
	static const struct {
		const char *name;
		size_t off;
	} slots[] = {
		{ "\"type\"", offsetof(struct message, type_name) },
		{ "\"stream\"", offsetof(struct message, stream) },
		{ "\"record\"", offsetof(struct message, record) },
		{ "\"schema\"", offsetof(struct message, schema) },
		{ "\"key_properties\"",
		    offsetof(struct message, key_properties) },
		{ "\"bookmark_properties\"",
		    offsetof(struct message, bookmark_properties) },
		{ "\"value\"", offsetof(struct message, value) },
		{ "\"version\"", offsetof(struct message, version) },
		{ "\"time_extracted\"",
		    offsetof(struct message, time_extracted) },
	};
	size_t i;

	for (i = 0; i < sizeof(slots) / sizeof(slots[0]); i++) {
		const char *name = slots[i].name;
		size_t n = strlen(name);

		if ((len == n && memcmp(key, name, n) == 0) ||
		    (memchr(key, '\\', len) &&
		    json_string_equals(key, len, name + 1, n - 2)))
			return (struct span *)((char *)m + slots[i].off);
	}
	return NULL;
}

static enum message_type
classify(const struct message *m)
{
	static const struct {
		const char *lit;
		enum message_type type;
	} types[] = {
		{ "\"RECORD\"", MESSAGE_RECORD },
		{ "\"STATE\"", MESSAGE_STATE },
		{ "\"SCHEMA\"", MESSAGE_SCHEMA },
		{ "\"ACTIVATE_VERSION\"", MESSAGE_ACTIVATE_VERSION },
	};
	const char *t = message_at(m, m->type_name);
	size_t i, n;

	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		n = strlen(types[i].lit);
		if (json_string_equals(t, m->type_name.len, types[i].lit + 1,
		    n - 2))
			return types[i].type;
	}
	return MESSAGE_OTHER;
}

int
message_parse(struct message *m, const char *line, size_t len,
    struct json_error *err)
{
	struct span *slot, key;
	size_t pos, start;

	buf_reset(&m->text);
	m->record_keys.n = 0;
	m->type_name = m->stream = m->record = m->schema = (struct span){0};
	m->key_properties = m->bookmark_properties = (struct span){0};
	m->value = m->version = m->time_extracted = (struct span){0};
	m->type = MESSAGE_OTHER;

	pos = json_skip_ws(line, len, 0);
	if (pos >= len || line[pos] != '{') {
		err->offset = pos;
		err->what = "a message must be a JSON object";
		return -1;
	}
	pos = json_skip_ws(line, len, pos + 1);
	if (pos < len && line[pos] == '}') {
		pos++;
		goto end;
	}

	for (;;) {
		if (pos >= len || line[pos] != '"') {
			err->offset = pos;
			err->what = "expected a string as object key";
			return -1;
		}
		key.off = m->text.len;
		if (json_compact_value(line, len, &pos, &m->text, NULL,
		    err) < 0)
			return -1;
		key.len = m->text.len - key.off;
		slot = member_slot(m, m->text.data + key.off, key.len);
		m->text.len = key.off;

		pos = json_skip_ws(line, len, pos);
		if (pos >= len || line[pos] != ':') {
			err->offset = pos;
			err->what = "expected ':' after object key";
			return -1;
		}
		pos++;
		start = m->text.len;
		if (json_compact_value(line, len, &pos, &m->text,
		    slot == &m->record ? &m->record_keys : NULL, err) < 0)
			return -1;
		if (slot) {
			slot->off = start;
			slot->len = m->text.len - start;
		} else {
			m->text.len = start;	/* checked, not kept */
		}

		pos = json_skip_ws(line, len, pos);
		if (pos < len && line[pos] == ',') {
			pos = json_skip_ws(line, len, pos + 1);
			continue;
		}
		if (pos < len && line[pos] == '}') {
			pos++;
			break;
		}
		err->offset = pos;
		err->what = pos < len ? "expected ',' or '}' in object" :
		    "unexpected end of input";
		return -1;
	}

end:
	pos = json_skip_ws(line, len, pos);
	if (pos != len) {
		err->offset = pos;
		err->what = "unexpected text after the JSON value";
		return -1;
	}
	if (m->type_name.len && message_at(m, m->type_name)[0] == '"')
		m->type = classify(m);
	return 0;
}

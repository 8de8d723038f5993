/*
 * One Singer message, parsed from one input line without building a tree:
 * each top-level member's value is checked and copied in compact form into
 * the message's own text buffer, and the members the target knows are
 * located there by spans.
 */
#ifndef TARGET_MESSAGE_H
#define TARGET_MESSAGE_H

#include <stddef.h>

#include "../common/buf.h"
#include "../common/json.h"

enum message_type {
	MESSAGE_OTHER,		/* a type we do not handle: skipped */
	MESSAGE_SCHEMA,
	MESSAGE_RECORD,
	MESSAGE_STATE,
	MESSAGE_ACTIVATE_VERSION
};

struct span {
	size_t off;
	size_t len;	/* 0: the member is absent */
};

struct message {
	enum message_type type;
	struct buf text;		/* compact member values */
	struct json_keys record_keys;	/* top-level keys of `record` */
	struct span type_name;
	struct span stream;
	struct span record;
	struct span schema;
	struct span key_properties;
	struct span bookmark_properties;
	struct span value;
	struct span version;
	struct span time_extracted;
};

void message_init(struct message *m);
void message_release(struct message *m);

/*
 * Parse `line` (without its line ending).  Returns 0 with the members
 * located, or -1 with `err` saying what is wrong and where when the line
 * is not a JSON object (syntax, UTF-8).  Required members are checked by
 * the caller.
 */
int message_parse(struct message *m, const char *line, size_t len,
    struct json_error *err);

/* The text of a member located by a span, and whether it is present. */
static inline const char *
message_at(const struct message *m, struct span s)
{
	return m->text.data + s.off;
}

#endif

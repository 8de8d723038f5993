/*
 * JSON Schema draft 4 validation.  A schema is compiled once into a graph
 * of checks; each value is read into a small tree of spans over its text
 * and checked against that graph.  Numbers are compared exactly on their
 * decimal text, so big integers and long fractions never lose precision.
 */
#ifndef COMMON_JSONSCHEMA_H
#define COMMON_JSONSCHEMA_H

#include <stddef.h>
#include <stdint.h>

/*
 * Deepest nesting of checks the validator follows (value levels plus the
 * schemas applied to one value through $ref, allOf and the like).  A value
 * that needs more is reported invalid, keyword "depth".
 */
#define JSONSCHEMA_MAX_DEPTH 1000

struct jsonschema;

/*
 * Why a value failed.  The strings belong to the schema and stay valid
 * until the next jsonschema_validate() or jsonschema_free() on it.
 */
struct jsonschema_error {
	const char *path;	/* JSON pointer of the value; "" is the root */
	const char *keyword;	/* the keyword that failed, e.g. "format" */
	const char *message;	/* e.g. "format 'uuid' expected" */
};

/*
 * Compile the schema in `schema_json` (`len` bytes of JSON text; white
 * space is allowed).  The text is copied, so the caller may free it.  On
 * failure NULL is returned and, when `errsz` is not 0, `err` holds a
 * one-line reason: invalid JSON, a keyword of the wrong type, a $ref that
 * cannot be resolved, a pattern that cannot be compiled, or schemas that
 * apply each other to the same value without end.  Only references inside
 * the schema (JSON pointers, and ids of its subschemas) and to the draft 4
 * meta-schema, which is built in, can be resolved.  Patterns are compiled
 * for the locale in effect now; in a single-byte one such as "C" they
 * still match UTF-8 text character by character.
 */
struct jsonschema *jsonschema_new(const char *schema_json, size_t len,
    char *err, size_t errsz);

/*
 * Check the JSON value in `value_json` (`len` bytes, such as the output of
 * json_compact(); its syntax and UTF-8 are assumed to be checked already)
 * against the schema.  Returns 0 when it is valid and 1 when it is not;
 * then, when `out` is not NULL, it says where and why (the first failure
 * found; text that is not well formed fails with keyword "json").
 * Returns -1 when memory runs out.  Unless 1 is returned, the strings in
 * `out` are empty.  The schema keeps scratch space for this call, so one
 * schema must be used by one thread at a time; separate schemas are
 * independent.
 */
int jsonschema_validate(struct jsonschema *s, const char *value_json,
    size_t len, struct jsonschema_error *out);

/* Release the schema and everything it holds.  NULL is allowed. */
void jsonschema_free(struct jsonschema *s);

/*
 * The value tree, for callers that want to walk JSON text themselves.
 * Nodes are stored in document order: a container's first child follows
 * it directly and each node's `end` is the index just past its subtree,
 * so the children of node i are i + 1, then node[i + 1].end, and so on,
 * `count` of them.  Spans are byte offsets into the text that was read.
 */
enum jsonschema_type {
	JSONSCHEMA_NULL,
	JSONSCHEMA_FALSE,
	JSONSCHEMA_TRUE,
	JSONSCHEMA_NUMBER,
	JSONSCHEMA_STRING,
	JSONSCHEMA_ARRAY,
	JSONSCHEMA_OBJECT
};

struct jsonschema_node {
	uint32_t type;		/* enum jsonschema_type */
	uint32_t count;		/* elements or members of a container */
	uint32_t end;		/* index just past this node's subtree */
	uint32_t off;		/* the value's text, quotes and all */
	uint32_t len;
	uint32_t key_off;	/* in an object: the member's key literal */
	uint32_t key_len;	/* 0 when the node is not an object member */
	uint32_t escapes;	/* JSONSCHEMA_ESCAPED_ bits */
};

/* Which literals of a node hold a backslash escape. */
#define JSONSCHEMA_ESCAPED_VALUE 1
#define JSONSCHEMA_ESCAPED_KEY 2

struct jsonschema_tree {
	const char *text;	/* lent by the caller of _parse */
	struct jsonschema_node *node;
	size_t n;
	size_t cap;
	uint32_t *stack;	/* open containers while parsing */
	size_t stack_cap;
};

/* Prepare an empty tree. */
void jsonschema_tree_init(struct jsonschema_tree *t);

/*
 * Read one JSON value (`len` bytes, checked as for jsonschema_validate;
 * white space is allowed) into `t`, replacing what it held.  The tree
 * refers to `text`, which must outlive its use.  Returns 0; 1 when the
 * text is not well formed (only its structure is checked); -1 when memory
 * runs out or the text is 4 GiB or longer.
 */
int jsonschema_tree_parse(struct jsonschema_tree *t, const char *text,
    size_t len);

/*
 * The member of object node `obj` whose key decodes to the NUL-terminated
 * `name`, or -1 when there is none (or `obj` is not an object).
 */
long jsonschema_tree_member(const struct jsonschema_tree *t, size_t obj,
    const char *name);

/* Free what the tree holds and leave it empty.  NULL is allowed. */
void jsonschema_tree_release(struct jsonschema_tree *t);

#endif

/*
 * Config files: a JSON object read with json-c, and typed getters that
 * report a missing or mistyped key in one line naming the key and the
 * file.  Secrets read from a config are wiped from memory on release.
 */
#ifndef COMMON_CONFIG_H
#define COMMON_CONFIG_H

#include <json-c/json.h>

struct config {
	char *path;
	struct json_object *root;	/* owned; always an object */
};

/*
 * Read and parse `path`.  Returns 0, or -1 after logging why (the file
 * cannot be read, is not JSON, with line and column, or is not an object).
 * Warns when the file can be read by other users.
 */
int config_load(struct config *cfg, const char *path);

/*
 * Parse `len` bytes of `text` as the config called `name` (used in
 * messages).  Returns 0 or -1 after logging, as config_load() does.
 * cfg->path must be NULL or set by the caller; release with
 * config_release() either way.
 */
int config_parse(struct config *cfg, const char *name, const char *text,
    size_t len);

/* Wipe the values of the keys named in `secrets`, then free everything. */
void config_release(struct config *cfg, const char *const *secrets);

/*
 * Getters.  Each returns 0 when the key holds a value of the right type
 * (stored in *out), 1 when the key is absent or null (*out untouched; an
 * error instead if `required`), and -1 after logging a mistyped value or a
 * missing required key.  Strings and objects are borrowed from `cfg`.
 */
int config_string(const struct config *cfg, const char *key, int required,
    const char **out);
int config_bool(const struct config *cfg, const char *key, int *out);
int config_int(const struct config *cfg, const char *key, long long min,
    long long max, long long *out);
int config_number(const struct config *cfg, const char *key, double min,
    double max, double *out);
int config_object(const struct config *cfg, const char *key, int required,
    struct json_object **out);

/* Log a WARNING for each top-level key not listed in `known`. */
void config_warn_unknown(const struct config *cfg, const char *const *known);

/* Log an error about `key` in the config's file and return -1. */
int config_fail(const struct config *cfg, const char *key, const char *why);

#endif

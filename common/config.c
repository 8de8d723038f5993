/*
 * Loading config files.  The whole file is read into memory, parsed once
 * with json-c, and then wiped: it may hold an API key or a token.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "buf.h"
#include "log.h"

#define CONFIG_MAX_BYTES (16u << 20)

static int
read_file(const char *path, struct buf *out)
{
	FILE *f = fopen(path, "rb");
	struct stat st;
	char chunk[8192];
	size_t n;

	if (!f)
		return log_fail("cannot open config '%s': %s", path,
		    strerror(errno));
	if (fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode) &&
	    (st.st_mode & (S_IRGRP | S_IROTH)))
		log_warn("config '%s' can be read by other users; "
		    "chmod 600 it", path);

	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		if (buf_append(out, chunk, n) < 0) {
			fclose(f);
			return log_fail("cannot read config '%s': larger "
			    "than %u bytes", path, CONFIG_MAX_BYTES);
		}
	}
	memset(chunk, 0, sizeof(chunk));
	if (ferror(f)) {
		fclose(f);
		return log_fail("cannot read config '%s': %s", path,
		    strerror(errno));
	}
	fclose(f);
	return 0;
}

static void
offset_to_line(const char *s, size_t off, int *line, int *col)
{
	size_t i;

	*line = 1;
	*col = 1;
	for (i = 0; i < off; i++) {
		if (s[i] == '\n') {
			(*line)++;
			*col = 1;
		} else {
			(*col)++;
		}
	}
}

int
config_parse(struct config *cfg, const char *name, const char *text,
    size_t len)
{
	struct json_tokener *tok;
	enum json_tokener_error e;
	const char *why;
	size_t off;
	int line, col;

	cfg->root = NULL;
	if (!cfg->path)
		cfg->path = strdup(name);
	if (!cfg->path || len > CONFIG_MAX_BYTES)
		return log_fail("cannot parse config '%s': %s", name,
		    cfg->path ? "too large" : "out of memory");
	tok = json_tokener_new_ex(JSON_TOKENER_DEFAULT_DEPTH);
	if (!tok)
		return log_fail("cannot parse config '%s': out of memory", name);
	cfg->root = json_tokener_parse_ex(tok, text, (int)len);
	e = json_tokener_get_error(tok);
	off = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);

	why = e == json_tokener_continue ? "unexpected end of file" :
	    json_tokener_error_desc(e);
	if (cfg->root && e == json_tokener_success) {
		while (off < len && strchr(" \t\r\n", text[off]) && text[off])
			off++;
		if (off == len)
			goto parsed;
		why = "unexpected text after the JSON value";
	}
	offset_to_line(text, off < len ? off : len, &line, &col);
	log_error("cannot parse config '%s': line %d column %d: %s", name,
	    line, col, why);
	goto fail;
parsed:
	if (!json_object_is_type(cfg->root, json_type_object)) {
		log_error("cannot use config '%s': it is not a JSON object",
		    name);
		goto fail;
	}
	return 0;
fail:
	json_object_put(cfg->root);
	cfg->root = NULL;
	return -1;
}

int
config_load(struct config *cfg, const char *path)
{
	struct buf text;
	int rc = -1;

	cfg->path = strdup(path);
	cfg->root = NULL;
	buf_init(&text, CONFIG_MAX_BYTES);
	if (cfg->path && read_file(path, &text) == 0)
		rc = config_parse(cfg, path, text.data ? text.data : "",
		    text.len);
	if (text.data)
		memset(text.data, 0, text.len);
	buf_release(&text);
	return rc;
}

void
config_release(struct config *cfg, const char *const *secrets)
{
	struct json_object *v;

	for (; cfg->root && secrets && *secrets; secrets++) {
		/* Borrowed from the root; wiped in place, freed below. */
		if (json_object_object_get_ex(cfg->root, *secrets, &v) &&
		    json_object_is_type(v, json_type_string)) {
			char *s = (char *)json_object_get_string(v);

			memset(s, 0, (size_t)json_object_get_string_len(v));
		}
	}
	json_object_put(cfg->root);
	free(cfg->path);
	cfg->root = NULL;
	cfg->path = NULL;
}

int
config_fail(const struct config *cfg, const char *key, const char *why)
{
	return log_fail("config '%s': key '%s' %s", cfg->path, key, why);
}

/* Borrowed value of `key`, or NULL when absent or null. */
static struct json_object *
lookup(const struct config *cfg, const char *key)
{
	struct json_object *v = NULL;

	json_object_object_get_ex(cfg->root, key, &v);
	return v;
}

int
config_string(const struct config *cfg, const char *key, int required,
    const char **out)
{
	struct json_object *v = lookup(cfg, key);

	if (!v)
		return required ? config_fail(cfg, key, "is missing") : 1;
	if (!json_object_is_type(v, json_type_string))
		return config_fail(cfg, key, "must be a string");
	if (required && json_object_get_string_len(v) == 0)
		return config_fail(cfg, key, "must not be empty");
	if (strlen(json_object_get_string(v)) !=
	    (size_t)json_object_get_string_len(v))
		return config_fail(cfg, key, "must not hold a NUL character");
	*out = json_object_get_string(v);
	return 0;
}

int
config_bool(const struct config *cfg, const char *key, int *out)
{
	struct json_object *v = lookup(cfg, key);

	if (!v)
		return 1;
	if (!json_object_is_type(v, json_type_boolean))
		return config_fail(cfg, key, "must be true or false");
	*out = json_object_get_boolean(v);
	return 0;
}

int
config_int(const struct config *cfg, const char *key, long long min,
    long long max, long long *out)
{
	struct json_object *v = lookup(cfg, key);
	long long n;

	if (!v)
		return 1;
	if (!json_object_is_type(v, json_type_int))
		return config_fail(cfg, key, "must be a whole number");
	errno = 0;
	n = (long long)json_object_get_int64(v);
	if (errno || n < min || n > max) {
		char why[96];

		snprintf(why, sizeof(why), "must be between %lld and %lld",
		    min, max);
		return config_fail(cfg, key, why);
	}
	*out = n;
	return 0;
}

int
config_number(const struct config *cfg, const char *key, double min,
    double max, double *out)
{
	struct json_object *v = lookup(cfg, key);
	double d;

	if (!v)
		return 1;
	if (!json_object_is_type(v, json_type_int) &&
	    !json_object_is_type(v, json_type_double))
		return config_fail(cfg, key, "must be a number");
	d = json_object_get_double(v);
	if (isnan(d) || d < min || d > max) {
		char why[96];

		snprintf(why, sizeof(why), "must be between %g and %g", min,
		    max);
		return config_fail(cfg, key, why);
	}
	*out = d;
	return 0;
}

int
config_object(const struct config *cfg, const char *key, int required,
    struct json_object **out)
{
	struct json_object *v = lookup(cfg, key);

	if (!v)
		return required ? config_fail(cfg, key, "is missing") : 1;
	if (!json_object_is_type(v, json_type_object))
		return config_fail(cfg, key, "must be a JSON object");
	*out = v;
	return 0;
}

void
config_warn_unknown(const struct config *cfg, const char *const *known)
{
	json_object_object_foreach(cfg->root, key, val) {
		const char *const *k;

		(void)val;
		for (k = known; *k && strcmp(*k, key) != 0; k++)
			;
		if (!*k)
			log_warn("config '%s': ignoring unknown key '%s'",
			    cfg->path, key);
	}
}

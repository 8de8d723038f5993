/*
 * Fuzz config parsing and the typed getters, with the keys both programs
 * read.  A getter must leave its output alone unless it returns 0, and a
 * value it returns must be of the type and in the range asked for.
 */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../common/config.h"
#include "../../common/log.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const keys[] = { "token", "api_key", "client_id",
    "batch_size_preferences", "validate_records", "turbo_boost_factor",
    "gzip_level", "retry_base_seconds", "start_date", "", NULL };
static const char *const secrets[] = { "token", "api_key", NULL };

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_set_level((enum log_level)(LOG_CRITICAL + 1));
	return 0;
}

static void
check_string(const struct config *cfg, const char *key, int required)
{
	static const char unset[] = "unset";
	const char *s = unset;
	int rc = config_string(cfg, key, required, &s);

	if (rc < -1 || rc > 1 || (rc != 0) != (s == unset))
		abort();
}

static void
check_numbers(const struct config *cfg, const char *key)
{
	long long n = -7777;
	double d = -7777.0;
	int rc;

	rc = config_int(cfg, key, 1, 64, &n);
	if (rc < -1 || rc > 1 || (rc == 0 ? n < 1 || n > 64 : n != -7777))
		abort();
	rc = config_int(cfg, key, -9223372036854775807LL - 1,
	    9223372036854775807LL, &n);
	if (rc < -1 || rc > 1)
		abort();
	rc = config_number(cfg, key, 0, 3600, &d);
	if (rc < -1 || rc > 1 ||
	    (rc == 0 ? isnan(d) || d < 0 || d > 3600 : d != -7777.0))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config cfg = { NULL, NULL };
	struct json_object *obj;
	const char *const *k;
	int b, rc;

	if (config_parse(&cfg, "fuzz", (const char *)data, size) == 0) {
		if (!cfg.root || !json_object_is_type(cfg.root,
		    json_type_object))
			abort();
		for (k = keys; *k; k++) {
			check_string(&cfg, *k, 0);
			check_string(&cfg, *k, 1);
			b = 7;
			rc = config_bool(&cfg, *k, &b);
			if (rc < -1 || rc > 1 ||
			    (rc == 0 ? b != 0 && b != 1 : b != 7))
				abort();
			check_numbers(&cfg, *k);
			obj = NULL;
			rc = config_object(&cfg, *k, 0, &obj);
			if (rc < -1 || rc > 1 || (rc == 0) != (obj != NULL) ||
			    (obj && !json_object_is_type(obj,
			    json_type_object)))
				abort();
		}
		config_warn_unknown(&cfg, keys);
	} else if (cfg.root) {
		abort();
	}
	config_release(&cfg, secrets);
	return 0;
}

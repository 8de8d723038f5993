/*
 * tap-taktile: a Singer tap for Taktile's decision history.  It exports
 * every decision of one time window as RECORD messages on stdout and ends
 * with a STATE whose bookmark is the window's end.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <json-c/json.h>

#include "../common/config.h"
#include "../common/isotime.h"
#include "../common/log.h"
#include "../common/version.h"
#include "schema.h"
#include "tap.h"

enum exit_status {
	EXIT_OK = 0,
	EXIT_FAILED = 1,
	EXIT_USAGE = 2
};

struct args {
	const char *config;
	const char *state;
	const char *catalog;
	int discover;
	int verbose;
	int quiet;
};

static const char *const secret_keys[] = { "api_key", NULL };

static volatile sig_atomic_t stop_signal;

static void
on_stop_signal(int sig)
{
	stop_signal = sig;
}

static void
usage(FILE *f)
{
	fputs("usage: tap-taktile -c FILE [-s FILE] [--catalog FILE | "
	    "-p FILE] [-v | -q]\n"
	    "       tap-taktile --discover [-c FILE]\n", f);
}

static void
help(void)
{
	usage(stdout);
	fputs("\n"
"Export the decisions of one time window from Taktile's decision-history\n"
"API as Singer messages on standard output: a SCHEMA for the stream\n"
"'decisions', one RECORD per decision, then a STATE whose bookmark is the\n"
"end of the window.\n"
"\n"
"options:\n"
"  -c, --config FILE       tap config (JSON)\n"
"  -s, --state FILE        state from an earlier run; its bookmark is the\n"
"                          start of the window when the config has no\n"
"                          start_time\n"
"      --catalog FILE      catalog; the stream is synced only if selected\n"
"  -p, --properties FILE   older name for --catalog\n"
"  -d, --discover          print the catalog and exit\n"
"  -v, --verbose           log DEBUG lines too\n"
"  -q, --quiet             log only warnings and errors\n"
"  -h, --help              show this help\n"
"  -V, --version           show the version\n"
"\n"
"config keys: base_url, api_key, end_time (required); start_time\n"
"  (required without a state bookmark); include_node_results and\n"
"  include_external_resources (false); max_attempts (5),\n"
"  retry_base_seconds (1), connect_timeout (30), request_timeout (300),\n"
"  ca_file (a PEM bundle of CAs to trust instead of the system's).\n"
"  Times are ISO 8601; a time without an offset is read as UTC.\n"
"\n"
"SIGTERM or SIGINT stops the sync after the page in hand (a request in\n"
"progress is abandoned); no STATE is written, and the exit status is 128\n"
"plus the signal number.\n"
"\n"
"exit status: 0 success, 1 the export failed (no STATE was written),\n"
"  2 usage or config error.\n", stdout);
}

static int
parse_args(int argc, char **argv, struct args *a)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "state", required_argument, NULL, 's' },
		{ "catalog", required_argument, NULL, 'C' },
		{ "properties", required_argument, NULL, 'p' },
		{ "discover", no_argument, NULL, 'd' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	int c;

	memset(a, 0, sizeof(*a));
	while ((c = getopt_long(argc, argv, "c:s:p:dvqhV", opts, NULL)) != -1) {
		switch (c) {
		case 'c': a->config = optarg; break;
		case 's': a->state = optarg; break;
		case 'C': case 'p': a->catalog = optarg; break;
		case 'd': a->discover = 1; break;
		case 'v': a->verbose = 1; break;
		case 'q': a->quiet = 1; break;
		case 'h':
			help();
			return 1;
		case 'V':
			printf("tap-taktile %s (%s)\n", PROJECT_VERSION,
			    curl_version());
			return 1;
		default:
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "tap-taktile: unexpected argument '%s'\n",
		    argv[optind]);
		return -1;
	}
	if (!a->config && !a->discover) {
		fprintf(stderr, "tap-taktile: a config file (-c) is required\n");
		return -1;
	}
	return 0;
}

/* Read a time from config key `key` into *out; 0, 1 if absent, -1. */
static int
config_time(const struct config *cfg, const char *key, int required,
    struct isotime *out)
{
	const char *s;
	int rc = config_string(cfg, key, required, &s);

	if (rc != 0)
		return rc;
	if (isotime_parse(out, s, strlen(s)) < 0)
		return config_fail(cfg, key, "is not an ISO 8601 time");
	return 0;
}

/*
 * The bookmark of a state file: {"bookmarks": {"decisions": {"end_time":
 * ...}}}, or the same inside a STATE message.  Returns 0 with *out set, 1
 * when the file holds no bookmark, -1 when it cannot be read.
 */
static int
read_bookmark(const char *path, struct isotime *out)
{
	struct config st;
	struct json_object *v, *root;
	const char *s;
	int rc = 1;

	if (config_load(&st, path) < 0)
		return -1;
	root = st.root;
	/* Every object below is borrowed from st.root. */
	if (json_object_object_get_ex(root, "value", &v) &&
	    json_object_is_type(v, json_type_object))
		root = v;
	if (json_object_object_get_ex(root, "bookmarks", &v) &&
	    json_object_object_get_ex(v, "decisions", &v) &&
	    json_object_object_get_ex(v, "end_time", &v)) {
		s = json_object_get_string(v);
		if (!json_object_is_type(v, json_type_string) ||
		    isotime_parse(out, s, strlen(s)) < 0) {
			log_error("cannot use state '%s': its end_time "
			    "bookmark is not an ISO 8601 time", path);
			rc = -1;
		} else {
			rc = 0;
		}
	}
	config_release(&st, NULL);
	return rc;
}

static int
is_true(struct json_object *v)
{
	if (json_object_is_type(v, json_type_boolean))
		return json_object_get_boolean(v);
	return json_object_is_type(v, json_type_string) &&
	    strcmp(json_object_get_string(v), "true") == 0;
}

/* Is `decisions` selected in the catalog?  1, 0, or -1 on error. */
static int
read_selection(const char *path)
{
	struct config cat;
	struct json_object *streams, *s, *v, *md, *m, *crumb;
	size_t i, j, n;
	int selected = 0;

	if (config_load(&cat, path) < 0)
		return -1;
	/* Every object below is borrowed from cat.root. */
	if (!json_object_object_get_ex(cat.root, "streams", &streams) ||
	    !json_object_is_type(streams, json_type_array)) {
		log_error("cannot use catalog '%s': no 'streams' list", path);
		config_release(&cat, NULL);
		return -1;
	}
	n = json_object_array_length(streams);
	for (i = 0; i < n; i++) {
		s = json_object_array_get_idx(streams, i);
		if (!json_object_object_get_ex(s, "tap_stream_id", &v) ||
		    strcmp(json_object_get_string(v), "decisions") != 0)
			continue;
		if (json_object_object_get_ex(s, "schema", &v) &&
		    json_object_object_get_ex(v, "selected", &v))
			selected = is_true(v);
		if (!json_object_object_get_ex(s, "metadata", &md) ||
		    !json_object_is_type(md, json_type_array))
			continue;
		for (j = 0; j < json_object_array_length(md); j++) {
			m = json_object_array_get_idx(md, j);
			if (json_object_object_get_ex(m, "breadcrumb",
			    &crumb) && json_object_is_type(crumb,
			    json_type_array) &&
			    json_object_array_length(crumb) == 0 &&
			    json_object_object_get_ex(m, "metadata", &v) &&
			    json_object_object_get_ex(v, "selected", &v))
				selected = is_true(v);
		}
	}
	config_release(&cat, NULL);
	return selected;
}

static int
load_settings(const struct config *cfg, const struct args *a,
    struct tap_opts *o, char **base)
{
	static const char *const known[] = { "base_url", "api_key",
	    "start_time", "end_time", "include_node_results",
	    "include_external_resources", "max_attempts",
	    "retry_base_seconds", "connect_timeout", "request_timeout",
	    "ca_file", NULL };
	long long attempts = 5, connect = 30, timeout = 300;
	const char *url;
	size_t len;
	int rc;

	if (config_string(cfg, "base_url", 1, &url) < 0 ||
	    config_string(cfg, "api_key", 1, &o->api_key) < 0)
		return -1;
	if (strncmp(url, "https://", 8) != 0 && strncmp(url, "http://", 7))
		return config_fail(cfg, "base_url", "must be an http:// or "
		    "https:// URL");
	if (config_time(cfg, "end_time", 1, &o->end) < 0)
		return -1;
	rc = config_time(cfg, "start_time", 0, &o->start);
	if (rc < 0)
		return -1;
	if (rc == 1) {
		rc = a->state ? read_bookmark(a->state, &o->start) : 1;
		if (rc < 0)
			return -1;
		if (rc == 1)
			return config_fail(cfg, "start_time", a->state ?
			    "is missing and the state has no bookmark" :
			    "is missing");
		log_info("starting from the state's bookmark");
	}
	if (o->start.sec > o->end.sec || (o->start.sec == o->end.sec &&
	    o->start.usec > o->end.usec))
		return config_fail(cfg, "start_time", "is after end_time");
	if (config_bool(cfg, "include_node_results",
	    &o->include_node_results) < 0 ||
	    config_bool(cfg, "include_external_resources",
	    &o->include_external_resources) < 0 ||
	    config_int(cfg, "max_attempts", 1, 100, &attempts) < 0 ||
	    config_number(cfg, "retry_base_seconds", 0, 3600,
	    &o->policy.base_seconds) < 0 ||
	    config_int(cfg, "connect_timeout", 1, 3600, &connect) < 0 ||
	    config_int(cfg, "request_timeout", 1, 86400, &timeout) < 0 ||
	    config_string(cfg, "ca_file", 0, &o->policy.ca_file) < 0)
		return -1;
	o->policy.max_attempts = (int)attempts;
	o->policy.connect_timeout = (long)connect;
	o->policy.timeout = (long)timeout;
	config_warn_unknown(cfg, known);

	/* base_url works with or without a trailing slash. */
	len = strlen(url);
	while (len > 0 && url[len - 1] == '/')
		len--;
	*base = strndup(url, len);
	return *base ? 0 : log_fail("out of memory");
}

int
main(int argc, char **argv)
{
	struct args a;
	struct config cfg = { NULL, NULL };
	struct tap_opts o;
	struct sigaction sa;
	char ua[128], *base = NULL;
	int rc, status = EXIT_USAGE;

	rc = parse_args(argc, argv, &a);
	if (rc != 0) {
		if (rc < 0)
			usage(stderr);
		return rc < 0 ? EXIT_USAGE : EXIT_OK;
	}
	log_set_level(a.verbose ? LOG_DEBUG : a.quiet ? LOG_WARNING : LOG_INFO);
	/*
	 * A closed stdout shows up as a write error, reported and turned
	 * into exit status 1, rather than as a silent death.  SIGTERM and
	 * SIGINT end the sync after the page in hand, without a STATE.
	 */
	signal(SIGPIPE, SIG_IGN);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);

	if (a.discover) {
		if (tap_write_catalog(stdout) < 0) {
			log_critical("cannot write the catalog to stdout: %s",
			    strerror(errno));
			return EXIT_FAILED;
		}
		return fclose(stdout) == 0 ? EXIT_OK : EXIT_FAILED;
	}

	memset(&o, 0, sizeof(o));
	http_policy_init(&o.policy);
	o.selected = 1;
	if (config_load(&cfg, a.config) < 0 ||
	    load_settings(&cfg, &a, &o, &base) < 0)
		goto out;
	if (a.catalog) {
		rc = read_selection(a.catalog);
		if (rc < 0)
			goto out;
		o.selected = rc;
	}

	curl_global_init(CURL_GLOBAL_DEFAULT);
	snprintf(ua, sizeof(ua), "tap-taktile/%s (C; libcurl/%s)",
	    PROJECT_VERSION, curl_version_info(CURLVERSION_NOW)->version);
	o.base_url = base;
	o.user_agent = ua;
	o.out = stdout;
	o.stop = &stop_signal;
	status = tap_sync(&o) == 0 ? EXIT_OK : EXIT_FAILED;
	curl_global_cleanup();
	if (fclose(stdout) != 0) {
		log_critical("cannot write to stdout: %s", strerror(errno));
		status = EXIT_FAILED;
	}
out:
	free(base);
	config_release(&cfg, secret_keys);
	if (stop_signal)
		status = 128 + stop_signal;
	return status;
}

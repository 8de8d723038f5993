/*
 * target-stitch: read Singer messages on stdin, send their records to the
 * Stitch Import API in gzip-compressed batches, and print each state on
 * stdout once Stitch has accepted everything that came before it.
 */
#include <errno.h>
#include <getopt.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>

#include "../common/config.h"
#include "../common/gzip.h"
#include "../common/log.h"
#include "../common/version.h"
#include "lines.h"
#include "sender.h"
#include "target.h"

enum exit_status {
	EXIT_OK = 0,
	EXIT_FAILED = 1,
	EXIT_USAGE = 2
};

/* A line may be this long before the reader gives up on it. */
#define LINE_MAX_BYTES (64u << 20)

struct args {
	const char *config;
	const char *output;
	int dry_run;
	int verbose;
	int quiet;
	long long max_records;
	long long max_bytes;
	double delay;
};

struct settings {
	const char *token;
	const char *small_url;
	const char *big_url;
	struct json_object *prefs;
	long long turbo;
	int gzip;
	long long gzip_level;
	int validate;
	struct http_policy policy;
};

static const char *const secret_keys[] = { "token", NULL };

/* Requests in flight get this long to finish after SIGTERM or SIGINT. */
#define STOP_GRACE_SECONDS 10.0

static volatile sig_atomic_t stop_signal;

static void
on_stop_signal(int sig)
{
	stop_signal = sig;
}

/*
 * SIGTERM and SIGINT stop the reading.  Only the main thread takes them:
 * they are blocked while the other threads are created, so that a
 * blocking read or wait in the main thread is what they interrupt.
 */
static void
signals_init(sigset_t *blocked)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigemptyset(blocked);
	sigaddset(blocked, SIGTERM);
	sigaddset(blocked, SIGINT);
}

static void
usage(FILE *f)
{
	fputs("usage: target-stitch [-c FILE | -n] [-o FILE] [-v | -q] "
	    "[--max-batch-records N]\n"
	    "                     [--max-batch-bytes N] "
	    "[--batch-delay-seconds S]\n", f);
}

static void
help(void)
{
	usage(stdout);
	fputs("\n"
"Read Singer messages on standard input and load their records into\n"
"Stitch through the Import API.  Each state is printed on standard\n"
"output, once, after Stitch has accepted every record before it.\n"
"\n"
"options:\n"
"  -c, --config FILE           target config (JSON); required unless -n\n"
"  -n, --dry-run               check the messages and validate every\n"
"                              record against its schema; send nothing\n"
"  -o, --output-file FILE      also write every request body to FILE\n"
"  -v, --verbose               log DEBUG lines too\n"
"  -q, --quiet                 log only warnings and errors\n"
"      --max-batch-records N   flush after N buffered messages (20000)\n"
"      --max-batch-bytes N     flush after N bytes of input; also the\n"
"                              size at which a body is split (4000000)\n"
"      --batch-delay-seconds S flush when S seconds have passed (300)\n"
"  -h, --help                  show this help\n"
"  -V, --version               show the version\n"
"\n"
"SIGTERM or SIGINT stops the reading; requests already in flight get up\n"
"to 10 seconds to finish, the states they confirm are printed, and the\n"
"exit status is 128 plus the signal number.\n"
"\n"
"config keys: token, client_id, small_batch_url, big_batch_url,\n"
"  batch_size_preferences (required); turbo_boost_factor (requests in\n"
"  flight, 1), compression (\"gzip\" or \"none\"), gzip_level (1-9, 6),\n"
"  max_attempts (5), retry_base_seconds (1), connect_timeout (30),\n"
"  request_timeout (300), validate_records (false: check each record\n"
"  against its stream's JSON Schema before sending), ca_file (a PEM\n"
"  bundle of CAs to trust instead of the system's), disable_collection\n"
"  (ignored).\n"
"\n"
"environment: TARGET_STITCH_SSL_VERIFY=false turns off TLS checks;\n"
"  http_proxy, https_proxy and no_proxy are honoured.\n"
"\n"
"exit status: 0 success, 1 data not delivered (Stitch, network or bad\n"
"  input), 2 usage or config error.\n", stdout);
}

static int
parse_count(const char *opt, const char *s, long long *out)
{
	char *end;

	errno = 0;
	*out = strtoll(s, &end, 10);
	if (errno || end == s || *end || *out < 1) {
		fprintf(stderr, "target-stitch: %s needs a positive whole "
		    "number, not '%s'\n", opt, s);
		return -1;
	}
	return 0;
}

/* Parse the command line; returns -1 (usage error), 0, or 1 (done). */
static int
parse_args(int argc, char **argv, struct args *a)
{
	enum { OPT_RECORDS = 256, OPT_BYTES, OPT_DELAY };
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "output-file", required_argument, NULL, 'o' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "max-batch-records", required_argument, NULL, OPT_RECORDS },
		{ "max-batch-bytes", required_argument, NULL, OPT_BYTES },
		{ "batch-delay-seconds", required_argument, NULL, OPT_DELAY },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	char *end;
	int c;

	memset(a, 0, sizeof(*a));
	a->max_records = 20000;
	a->max_bytes = 4000000;
	a->delay = 300.0;
	while ((c = getopt_long(argc, argv, "c:no:vqhV", opts, NULL)) != -1) {
		switch (c) {
		case 'c': a->config = optarg; break;
		case 'n': a->dry_run = 1; break;
		case 'o': a->output = optarg; break;
		case 'v': a->verbose = 1; break;
		case 'q': a->quiet = 1; break;
		case OPT_RECORDS:
			if (parse_count("--max-batch-records", optarg,
			    &a->max_records) < 0)
				return -1;
			break;
		case OPT_BYTES:
			if (parse_count("--max-batch-bytes", optarg,
			    &a->max_bytes) < 0)
				return -1;
			break;
		case OPT_DELAY:
			errno = 0;
			a->delay = strtod(optarg, &end);
			if (errno || end == optarg || *end) {
				fprintf(stderr, "target-stitch: "
				    "--batch-delay-seconds needs a number, "
				    "not '%s'\n", optarg);
				return -1;
			}
			break;
		case 'h':
			help();
			return 1;
		case 'V':
			printf("target-stitch %s (%s)\n", PROJECT_VERSION,
			    curl_version());
			return 1;
		default:
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "target-stitch: unexpected argument '%s'\n",
		    argv[optind]);
		return -1;
	}
	if (!a->config && !a->dry_run) {
		fprintf(stderr, "target-stitch: a config file (-c) is required "
		    "unless --dry-run is given\n");
		return -1;
	}
	return 0;
}

static int
check_url(const struct config *cfg, const char *key, const char *url)
{
	if (strncmp(url, "https://", 8) != 0 && strncmp(url, "http://", 7))
		return config_fail(cfg, key, "must be an http:// or https:// "
		    "URL");
	return 0;
}

static int
check_prefs(const struct config *cfg, struct json_object *prefs)
{
	static const char *const pref_keys[] = { "batch_size_preference",
	    "user_batch_size_preference" };
	struct json_object *v;
	size_t i;

	/* Borrowed from the config. */
	if (json_object_object_get_ex(prefs, "full_table_streams", &v) && v &&
	    !json_object_is_type(v, json_type_array))
		return config_fail(cfg, "batch_size_preferences",
		    "has 'full_table_streams' that is not a list");
	for (i = 0; i < 2; i++)
		if (json_object_object_get_ex(prefs, pref_keys[i], &v) && v &&
		    !json_object_is_type(v, json_type_string))
			return config_fail(cfg, "batch_size_preferences",
			    "has a preference that is not a string");
	return 0;
}

static int
load_settings(const struct config *cfg, struct settings *st)
{
	static const char *const known[] = { "token", "client_id",
	    "small_batch_url", "big_batch_url", "batch_size_preferences",
	    "turbo_boost_factor", "disable_collection", "compression",
	    "gzip_level", "max_attempts", "retry_base_seconds",
	    "connect_timeout", "request_timeout", "validate_records", "ca_file",
	    NULL };
	const char *compression = "gzip";
	struct json_object *id = NULL;	/* borrowed from the config */
	long long n, connect, timeout;

	memset(st, 0, sizeof(*st));
	http_policy_init(&st->policy);
	st->turbo = 1;
	st->gzip_level = 6;

	if (config_string(cfg, "token", 1, &st->token) < 0)
		return -1;
	/* Stitch client ids are numbers, but some configs quote them. */
	if (!json_object_object_get_ex(cfg->root, "client_id", &id) ||
	    !(json_object_is_type(id, json_type_int) ||
	    (json_object_is_type(id, json_type_string) &&
	    json_object_get_string_len(id) > 0)))
		return config_fail(cfg, "client_id", id ? "must be a number or "
		    "a string" : "is missing");
	if (config_object(cfg, "batch_size_preferences", 1, &st->prefs) < 0 ||
	    check_prefs(cfg, st->prefs) < 0)
		return -1;
	if (config_string(cfg, "small_batch_url", 1, &st->small_url) < 0 ||
	    check_url(cfg, "small_batch_url", st->small_url) < 0 ||
	    config_string(cfg, "big_batch_url", 1, &st->big_url) < 0 ||
	    check_url(cfg, "big_batch_url", st->big_url) < 0)
		return -1;
	/* disable_collection is accepted in any form and changes nothing. */
	if (config_int(cfg, "turbo_boost_factor", 0, 64, &st->turbo) < 0 ||
	    config_string(cfg, "compression", 0, &compression) < 0 ||
	    config_bool(cfg, "validate_records", &st->validate) < 0 ||
	    config_string(cfg, "ca_file", 0, &st->policy.ca_file) < 0 ||
	    config_int(cfg, "gzip_level", 1, 9, &st->gzip_level) < 0)
		return -1;
	if (st->turbo == 0)
		st->turbo = 1;
	if (strcmp(compression, "gzip") == 0)
		st->gzip = 1;
	else if (strcmp(compression, "none") != 0)
		return config_fail(cfg, "compression",
		    "must be \"gzip\" or \"none\"");

	n = st->policy.max_attempts;
	connect = st->policy.connect_timeout;
	timeout = st->policy.timeout;
	if (config_int(cfg, "max_attempts", 1, 100, &n) < 0 ||
	    config_number(cfg, "retry_base_seconds", 0, 3600,
	    &st->policy.base_seconds) < 0 ||
	    config_int(cfg, "connect_timeout", 1, 3600, &connect) < 0 ||
	    config_int(cfg, "request_timeout", 1, 86400, &timeout) < 0)
		return -1;
	st->policy.max_attempts = (int)n;
	st->policy.connect_timeout = (long)connect;
	st->policy.timeout = (long)timeout;
	config_warn_unknown(cfg, known);

	log_info("Using turbo_boost_factor of %lld", st->turbo);
	return 0;
}

/* Read stdin to the end, or to the first failure; 0 or -1. */
static int
read_input(struct target *t, struct sender *s)
{
	struct lines in;
	const char *line;
	size_t len, raw_len, line_no = 0;
	int rc;

	lines_init(&in, STDIN_FILENO, LINE_MAX_BYTES);
	/* Wake up now and then, so a quiet tap still sees its batches go. */
	in.idle_ms = 1000;
	in.stop = &stop_signal;
	while ((rc = lines_next(&in, &line, &len, &raw_len)) > 0) {
		if (rc == 3 || stop_signal)
			break;
		if (rc == 2) {
			if (target_tick(t) < 0 || sender_failed(s)) {
				rc = -1;
				break;
			}
			continue;
		}
		line_no++;
		if (target_handle_line(t, line, len, raw_len, line_no) < 0 ||
		    sender_failed(s)) {
			rc = -1;
			break;
		}
	}
	if (stop_signal) {
		lines_release(&in);
		return -1;
	}
	if (rc < 0 && in.error[0])
		log_critical("line %zu: cannot read input: %s", line_no + 1,
		    in.error);
	if (rc == 0)
		rc = target_finish(t);
	lines_release(&in);
	return rc;
}

static int
close_stdout(void)
{
	if (fflush(stdout) != 0 || ferror(stdout) || fclose(stdout) != 0) {
		log_critical("cannot write to stdout: %s", strerror(errno));
		return -1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	struct args a;
	struct config cfg = { NULL, NULL };
	struct settings st;
	struct sender sender;
	struct sender_opts so;
	struct target_opts to;
	struct target t;
	FILE *output = NULL;
	sigset_t blocked;
	const char *verify;
	char ua[128];
	int rc, status = EXIT_FAILED;

	rc = parse_args(argc, argv, &a);
	if (rc != 0) {
		if (rc < 0)
			usage(stderr);
		return rc < 0 ? EXIT_USAGE : EXIT_OK;
	}
	log_set_level(a.verbose ? LOG_DEBUG : a.quiet ? LOG_WARNING : LOG_INFO);
	/*
	 * A closed stdout shows up as a write error, reported and turned
	 * into exit status 1, rather than as a silent death.
	 */
	signal(SIGPIPE, SIG_IGN);
	signals_init(&blocked);
	/* Batches come and go in large blocks: give them back when freed. */
	mallopt(M_MMAP_THRESHOLD, 256 * 1024);
	mallopt(M_ARENA_MAX, 2);

	memset(&st, 0, sizeof(st));
	http_policy_init(&st.policy);
	if (!a.dry_run && (config_load(&cfg, a.config) < 0 ||
	    load_settings(&cfg, &st) < 0)) {
		config_release(&cfg, secret_keys);
		return EXIT_USAGE;
	}
	if (a.output) {
		output = fopen(a.output, "w");
		if (!output) {
			log_error("cannot open output file '%s': %s", a.output,
			    strerror(errno));
			config_release(&cfg, secret_keys);
			return EXIT_USAGE;
		}
	}
	verify = getenv("TARGET_STITCH_SSL_VERIFY");
	if (!a.dry_run && verify && strcmp(verify, "false") == 0) {
		log_warn("TLS certificate checks are off "
		    "(TARGET_STITCH_SSL_VERIFY=false)");
		st.policy.verify_tls = 0;
	}

	curl_global_init(CURL_GLOBAL_DEFAULT);
	snprintf(ua, sizeof(ua), "target-stitch/%s (C; libcurl/%s)",
	    PROJECT_VERSION, curl_version_info(CURLVERSION_NOW)->version);
	memset(&so, 0, sizeof(so));
	so.dry_run = a.dry_run;
	so.token = st.token;
	so.gzip = st.gzip;
	so.gzip_level = (int)st.gzip_level;
	so.gzip_threads = gzip_default_threads();
	so.limit = (size_t)st.turbo;
	so.policy = st.policy;
	so.user_agent = ua;
	so.state_out = stdout;
	so.interrupted = &stop_signal;

	memset(&to, 0, sizeof(to));
	to.max_records = (size_t)a.max_records;
	to.max_bytes = (size_t)a.max_bytes;
	to.delay = a.delay;
	to.small_url = st.small_url;
	to.big_url = st.big_url;
	to.prefs = st.prefs;
	to.output = output;
	to.dry_run = a.dry_run;
	to.validate = a.dry_run || st.validate;

	pthread_sigmask(SIG_BLOCK, &blocked, NULL);
	rc = sender_start(&sender, &so);
	pthread_sigmask(SIG_UNBLOCK, &blocked, NULL);
	if (rc < 0) {
		sender_finish(&sender, 0);
		goto out;
	}
	target_init(&t, &to, &sender);
	rc = read_input(&t, &sender);
	if (stop_signal) {
		log_warn("stopping on %s: no more input is read; requests in "
		    "flight get up to %.0f s", strsignal(stop_signal),
		    STOP_GRACE_SECONDS);
		sender_finish(&sender, STOP_GRACE_SECONDS);
		rc = -1;
	} else if (sender_finish(&sender, -1) < 0) {
		rc = -1;
	}
	if (rc == 0)
		log_info("Requests complete: %llu records in %llu requests, "
		    "%llu bytes sent (%llu uncompressed)", t.records_in,
		    sender.requests, sender.bytes_sent, sender.bytes_raw);
	target_release(&t);
	if (output && fclose(output) != 0) {
		log_critical("cannot write output file '%s': %s", a.output,
		    strerror(errno));
		rc = -1;
	}
	output = NULL;
	if (rc == 0)
		status = EXIT_OK;

out:
	if (output)
		fclose(output);
	if (close_stdout() < 0)
		status = EXIT_FAILED;
	config_release(&cfg, secret_keys);
	curl_global_cleanup();
	if (stop_signal)
		status = 128 + stop_signal;
	return status;
}

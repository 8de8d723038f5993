#!/usr/bin/env bash
# The hourly export: tap-taktile | target-stitch for one time window.
#
# By default the window is the previous full UTC hour, or, when an earlier
# run recorded how far it got, everything from there to the start of the
# current hour, in windows of at most 24 hours.  TAP_START_TIME and
# TAP_END_TIME override the window (a value without an offset is UTC;
# TAP_END_TIME=now is the current instant).  Run with --help for more.
set -uo pipefail
# Every file this script creates is private: the window config copy
# holds the API key.
umask 077

PROG=run.sh
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TAP_CONFIG=${TAP_CONFIG:-$ROOT/configs/tap-config.json}
TARGET_CONFIG=${TARGET_CONFIG:-$ROOT/configs/target-config.json}
STATE_DIR=${STATE_DIR:-$ROOT/state}
# Times are kept as microseconds since the epoch.
HOUR=3600000000
MAX_WINDOW=$((24 * HOUR))

# Exit statuses.
EXIT_OK=0
EXIT_FAILED=1	# the export of a window failed; nothing after it was recorded
EXIT_USAGE=2	# bad arguments, times or config files
EXIT_LOCKED=75	# another run holds the lock; nothing was touched

tmp=""
children=()

usage() {
	cat <<EOF
usage: $PROG [--demo | --help]

Export Taktile decisions to Stitch: runs bin/tap-taktile piped into
bin/target-stitch, building them first when needed.

Without overrides the window starts where the last successful run ended
(the previous full UTC hour on a first run) and ends at the start of the
current UTC hour; a long gap is exported in windows of at most 24 hours,
each recorded as soon as Stitch has accepted all of it.

environment:
  TAP_START_TIME, TAP_END_TIME  export this window instead (ISO 8601; no
                                offset means UTC; TAP_END_TIME=now); such a
                                run records no progress
  TAP_CONFIG                    tap config ($ROOT/configs/tap-config.json)
  TARGET_CONFIG                 target config ($ROOT/configs/target-config.json)
  STATE_DIR                     where progress and the lock live ($ROOT/state)
  RUN_SH_NOW                    the current time, for tests (ISO 8601)

  --demo   run the real pipeline against local stand-ins of both APIs
           (no credentials needed) and show what reached Stitch

exit status: 0 done, 1 an export failed, 2 usage or config error,
  75 another run is in progress
EOF
}

log() {
	printf '%s: %s\n' "$PROG" "$*" >&2
}

die() {
	local status=$1
	shift
	log "$*"
	exit "$status"
}

cleanup() {
	local pid
	for pid in "${children[@]}"; do
		kill "$pid" 2>/dev/null
	done
	[ -n "$tmp" ] && rm -rf "$tmp"
	tmp=""
}

on_signal() {
	log "stopped by SIG$1; the window in progress was not recorded"
	cleanup
	trap - EXIT
	case $1 in
	HUP) exit 129 ;;
	INT) exit 130 ;;
	*) exit 143 ;;
	esac
}

trap cleanup EXIT
trap 'on_signal TERM' TERM
trap 'on_signal INT' INT
trap 'on_signal HUP' HUP

ISO_RE='^[0-9]{4}-[0-9]{2}-[0-9]{2}([Tt ][0-9]{2}:[0-9]{2}(:[0-9]{2}([.,][0-9]+)?)?([Zz]|[+-][0-9]{2}(:?[0-9]{2})?)?)?$'

# Microseconds since the epoch of an ISO 8601 time; naive times are UTC.
# Only ISO 8601 is taken, although date(1) would read much more.
to_epoch() {
	local s
	[[ "$1" =~ $ISO_RE ]] || return 1
	s=$(date -u -d "${1/,/.}" +%s%6N 2>/dev/null) || return 1
	[ -n "$s" ] || return 1
	printf '%s\n' "$((10#$s))"
}

# ISO 8601 in UTC, with microseconds only when there are some.
iso() {
	local sec=$(($1 / 1000000)) us=$(($1 % 1000000))
	if [ "$us" = 0 ]; then
		date -u -d "@$sec" +%Y-%m-%dT%H:%M:%SZ
	else
		printf '%s.%06dZ\n' "$(date -u -d "@$sec" +%Y-%m-%dT%H:%M:%S)" "$us"
	fi
}

now_epoch() {
	local s
	if [ -n "${RUN_SH_NOW:-}" ]; then
		to_epoch "$RUN_SH_NOW" ||
			die $EXIT_USAGE "RUN_SH_NOW '$RUN_SH_NOW' is not an ISO 8601 time"
	else
		s=$(date -u +%s%6N)
		printf '%s\n' "$((10#$s))"
	fi
}

# Build bin/ when a program is missing or older than its sources.
build() {
	local prog dir newer=""
	for prog in tap-taktile:tap target-stitch:target; do
		dir=${prog#*:}
		prog=${prog%:*}
		if [ ! -x "$ROOT/bin/$prog" ]; then
			newer=missing
			break
		fi
		newer=$(find "$ROOT/common" "$ROOT/$dir" -name '*.[ch]' \
			-newer "$ROOT/bin/$prog" -print -quit)
		[ -n "$newer" ] && break
	done
	[ -n "$newer" ] || return 0
	log "building bin/"
	make -s -C "$ROOT" deps || die $EXIT_USAGE "cannot install the build dependencies"
	make -s -C "$ROOT" all >&2 || die $EXIT_USAGE "cannot build bin/"
}

check_config() {
	local path=$1 what=$2 mode
	[ -r "$path" ] || die $EXIT_USAGE "cannot read $what config '$path'" \
		"(copy configs/${what}-config.example.json and fill it in)"
	mode=$(stat -c %a "$path" 2>/dev/null) || mode=600
	case $mode in
	*00) ;;
	*) log "WARNING $what config '$path' can be read by other users (mode $mode); chmod 600 it" ;;
	esac
}

# Write the private tap config for one window: the user's config with
# start_time and end_time appended, so that they win (the tap keeps the
# last occurrence of a key).  The user's file is never changed.
write_window_config() {
	local out=$1 start=$2 end=$3 body
	body=$(<"$TAP_CONFIG")
	body=${body%"${body##*[![:space:]]}"}
	[ "${body: -1}" = "}" ] || die $EXIT_USAGE "tap config '$TAP_CONFIG' is not a JSON object"
	body=${body%\}}
	local sep=","
	[[ "$body" =~ ^[[:space:]]*\{[[:space:]]*$ ]] && sep=""
	(umask 077 && printf '%s%s "start_time": "%s", "end_time": "%s"}\n' \
		"$body" "$sep" "$start" "$end" >"$out")
}

# Record that everything up to $1 has been delivered, atomically.
record_progress() {
	local end=$1
	printf '%s\n' "$end" >"$STATE_DIR/last-window-end.tmp" &&
		mv -f "$STATE_DIR/last-window-end.tmp" "$STATE_DIR/last-window-end"
}

# Export one window.  Sets $records.  Returns 0 when Stitch accepted all.
export_window() {
	local start=$1 end=$2 tap_status target_status tap_pid target_pid last
	records=0
	write_window_config "$tmp/tap-config.json" "$start" "$end" || return $EXIT_USAGE

	log "exporting $start to $end"
	# Both programs run in the background, joined by a FIFO, so that a
	# signal reaches this script at once and can stop them.
	rm -f "$tmp/pipe" "$tmp/tap.err" "$tmp/target.err"
	mkfifo -m 600 "$tmp/pipe" "$tmp/tap.err" "$tmp/target.err" || return $EXIT_FAILED
	tee "$tmp/tap.log" <"$tmp/tap.err" >&2 &
	children+=($!)
	tee "$tmp/target.log" <"$tmp/target.err" >&2 &
	children+=($!)
	"$ROOT/bin/tap-taktile" --config "$tmp/tap-config.json" \
		>"$tmp/pipe" 2>"$tmp/tap.err" &
	tap_pid=$!
	"$ROOT/bin/target-stitch" --config "$TARGET_CONFIG" \
		<"$tmp/pipe" >"$tmp/states" 2>"$tmp/target.err" &
	target_pid=$!
	children+=("$tap_pid" "$target_pid")
	wait "$tap_pid"
	tap_status=$?
	wait "$target_pid"
	target_status=$?
	wait
	children=()

	records=$(sed -n 's/^INFO Loaded \([0-9]*\) records.*/\1/p' "$tmp/tap.log" | tail -n 1)
	records=${records:-0}
	if [ "$tap_status" != 0 ] || [ "$target_status" != 0 ]; then
		log "export of $start to $end failed (tap exit $tap_status, target exit $target_status)"
		[ "$target_status" = 2 ] || [ "$tap_status" = 2 ] && return $EXIT_USAGE
		return $EXIT_FAILED
	fi
	# The target prints the tap's final state only once Stitch has
	# accepted every record before it; without it nothing is recorded.
	last=$(tail -n 1 "$tmp/states")
	case $last in
	*'"end_time":"'*) ;;
	*)
		log "target-stitch exited 0 but printed no final state; not recording progress"
		return $EXIT_FAILED
		;;
	esac
	return 0
}

# Wait until a stand-in has written its port file; prints the port.
wait_port() {
	local file=$1 i
	for i in $(seq 1 100); do
		if [ -s "$file" ]; then
			head -n 1 "$file"
			return 0
		fi
		sleep 0.1
	done
	return 1
}

# The whole pipeline against local stand-ins of both APIs on 127.0.0.1:
# no credentials, no network.  The stand-ins are the test suite's.
run_demo() {
	local demo now hour tk st status
	command -v python3 >/dev/null ||
		die $EXIT_USAGE "the demo's stand-in servers need python3"
	demo=$(mktemp -d "${TMPDIR:-/tmp}/run-sh-demo.XXXXXX") ||
		die $EXIT_FAILED "cannot create a temporary directory"
	chmod 700 "$demo"
	tmp=$demo
	build

	now=$(now_epoch)
	hour=$((now - now % HOUR - HOUR))
	log "demo: serving 2,500 made-up decisions for $(iso "$hour") to $(iso $((hour + HOUR)))"
	python3 "$ROOT/tests/taktile_server.py" --api-key demo-api-key \
		--decisions 2500 --start "$(iso "$hour")" --span 3600 \
		--port-file "$demo/taktile.port" 2>"$demo/taktile.log" &
	children+=($!)
	python3 "$ROOT/tests/stitch_server.py" --token demo-token \
		--port-file "$demo/stitch.port" --log "$demo/batches.jsonl" \
		2>"$demo/stitch.log" &
	children+=($!)
	tk=$(wait_port "$demo/taktile.port") || die $EXIT_FAILED "the Taktile stand-in did not start"
	st=$(wait_port "$demo/stitch.port") || die $EXIT_FAILED "the Stitch stand-in did not start"

	(umask 077
	cat >"$demo/tap-config.json" <<JSON
{"base_url": "http://127.0.0.1:$tk", "api_key": "demo-api-key",
 "start_time": "", "end_time": "", "include_node_results": true,
 "include_external_resources": true}
JSON
	cat >"$demo/target-config.json" <<JSON
{"token": "demo-token", "client_id": 1,
 "small_batch_url": "http://127.0.0.1:$st/v2/import/batch",
 "big_batch_url": "http://127.0.0.1:$st/v2/import/batch",
 "batch_size_preferences": {}}
JSON
	)
	TAP_CONFIG=$demo/tap-config.json TARGET_CONFIG=$demo/target-config.json \
		STATE_DIR=$demo/state RUN_SH_NOW=$(iso "$now") "$ROOT/run.sh" 2>&1 |
		grep -v -e '^INFO METRIC' -e '^INFO Requesting' >&2
	status=${PIPESTATUS[0]}

	echo
	echo "What reached the Stitch stand-in:"
	python3 - "$demo/batches.jsonl" <<'PY'
import json, sys
tables = {}
try:
    with open(sys.argv[1]) as f:
        for line in f:
            b = json.loads(line)
            t = tables.setdefault(b["table_name"], [0, 0, 0, 0])
            t[0] += b["upserts"]
            t[1] += 1
            t[2] += b["wire_bytes"]
            t[3] += b["decompressed_bytes"]
except FileNotFoundError:
    pass
print("  %-12s %8s %8s %14s %14s" % ("table", "records", "batches",
                                     "wire bytes", "JSON bytes"))
for name, (recs, batches, wire, raw) in sorted(tables.items()):
    print("  %-12s %8d %8d %14d %14d" % (name, recs, batches, wire, raw))
if not tables:
    print("  nothing")
PY
	echo
	echo "The demo used made-up data on 127.0.0.1 only. To export for real, copy"
	echo "configs/*.example.json to configs/tap-config.json and"
	echo "configs/target-config.json, fill them in, and run ./run.sh"
	exit "$status"
}

main() {
	case "${1:-}" in
	--help | -h) usage; exit $EXIT_OK ;;
	--demo) run_demo ;;
	"") ;;
	*) usage >&2; exit $EXIT_USAGE ;;
	esac

	local now hour start end override=0 t0 status=0 total=0 windows=0
	now=$(now_epoch) || exit $EXIT_USAGE
	hour=$((now - now % HOUR))

	if [ -n "${TAP_START_TIME:-}" ] || [ -n "${TAP_END_TIME:-}" ]; then
		override=1
		case "${TAP_END_TIME:-}" in
		"") end=$hour ;;
		now) end=$now ;;
		*) end=$(to_epoch "$TAP_END_TIME") ||
			die $EXIT_USAGE "TAP_END_TIME '$TAP_END_TIME' is not an ISO 8601 time" ;;
		esac
		if [ -n "${TAP_START_TIME:-}" ]; then
			start=$(to_epoch "$TAP_START_TIME") ||
				die $EXIT_USAGE "TAP_START_TIME '$TAP_START_TIME' is not an ISO 8601 time"
		else
			start=$((end - HOUR))
		fi
		[ "$start" -le "$end" ] ||
			die $EXIT_USAGE "TAP_START_TIME $(iso "$start") is after TAP_END_TIME $(iso "$end")"
	fi

	check_config "$TAP_CONFIG" tap
	check_config "$TARGET_CONFIG" target
	mkdir -p "$STATE_DIR" || die $EXIT_USAGE "cannot create state directory '$STATE_DIR'"

	exec 9>>"$STATE_DIR/run.lock" || die $EXIT_USAGE "cannot open '$STATE_DIR/run.lock'"
	flock -n 9 || die $EXIT_LOCKED "another run holds '$STATE_DIR/run.lock'; exiting"

	build
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/run-sh.XXXXXX") || die $EXIT_FAILED "cannot create a temporary directory"
	chmod 700 "$tmp"

	if [ "$override" = 0 ]; then
		end=$hour
		start=$((hour - HOUR))
		if [ -s "$STATE_DIR/last-window-end" ]; then
			local recorded
			recorded=$(head -n 1 "$STATE_DIR/last-window-end")
			start=$(to_epoch "$recorded") ||
				die $EXIT_USAGE "'$STATE_DIR/last-window-end' holds '$recorded', not a time"
		fi
		if [ "$start" -ge "$end" ]; then
			log "nothing to export: everything up to $(iso "$start") is delivered"
			exit $EXIT_OK
		fi
	fi

	t0=$(date +%s)
	local from=$start to
	while [ "$from" -lt "$end" ] || { [ "$windows" = 0 ] && [ "$from" = "$end" ]; }; do
		to=$end
		if [ "$override" = 0 ] && [ $((to - from)) -gt $MAX_WINDOW ]; then
			to=$((from + MAX_WINDOW))
		fi
		export_window "$(iso "$from")" "$(iso "$to")"
		status=$?
		total=$((total + records))
		windows=$((windows + 1))
		[ "$status" = 0 ] || break
		if [ "$override" = 0 ]; then
			record_progress "$(iso "$to")" ||
				{ log "cannot record progress in '$STATE_DIR'"; status=$EXIT_FAILED; break; }
		fi
		from=$to
		[ "$from" -lt "$end" ] || break
	done

	local result=ok
	[ "$status" = 0 ] || result="failed (exit $status)"
	log "window $(iso "$start") to $(iso "$end"): $total records in $windows window(s), $(($(date +%s) - t0)) s, $result"
	exit "$status"
}

main "$@"

#!/bin/sh
# Drive the libFuzzer harnesses named on the command line.  `run` fuzzes
# each for $FUZZ_SECONDS seconds on a fresh copy of its seed corpus;
# `regress` runs each once over the inputs kept in
# tests/fuzz/regressions/<harness>/.  Everything written goes under
# <build dir>/work/<harness>/.  One line per harness; exit status 1 if
# any of them failed.
#
# usage: run.sh run|regress BUILD_DIR/fuzz_NAME...

mode=$1
shift
src=tests/fuzz
limits="-rss_limit_mb=2048 -timeout=10"
status=0

# The sanitizer's or libFuzzer's one-line account of a failure, else the
# log's last line.
why() {
	w=$(sed -n 's/^SUMMARY: //p' "$1" | head -n 1)
	echo "${w:-$(tail -n 1 "$1")}"
}

for bin in "$@"; do
	name=${bin##*/}
	work=${bin%/*}/work/$name
	log=$work/log
	rm -rf "$work"
	mkdir -p "$work/corpus" "$work/artifacts" || exit 1

	if [ "$mode" = regress ]; then
		dir=$src/regressions/$name
		n=$(find "$dir" -type f 2>/dev/null | wc -l)
		if [ "$n" -eq 0 ]; then
			echo "$name: no regression inputs"
			continue
		fi
		if find "$dir" -type f -print0 | sort -z | xargs -0 "$bin" \
		    $limits -artifact_prefix="$work/artifacts/" >"$log" 2>&1
		then
			echo "$name: $n regression inputs pass"
		else
			echo "$name: FAILED ($(why "$log")); log $log"
			status=1
		fi
		continue
	fi

	seeds=0
	if [ -d "$src/corpus/$name" ]; then
		cp "$src/corpus/$name"/* "$work/corpus/" || exit 1
		seeds=$(find "$work/corpus" -type f | wc -l)
	fi
	dict=
	if [ -f "$src/$name.dict" ]; then
		dict=-dict=$src/$name.dict
	fi
	"$bin" $limits -max_total_time="${FUZZ_SECONDS:-60}" \
	    -print_final_stats=1 -artifact_prefix="$work/artifacts/" $dict \
	    "$work/corpus" >"$log" 2>&1
	rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	secs=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' \
	    "$log")
	cov=$(grep ' cov: [0-9]* ft: ' "$log" | tail -n 1 | sed -n 's/.*'\
' cov: \([0-9]*\) ft: \([0-9]*\) corp: \([0-9]*\).*/cov \1, ft \2, corpus \3/p')
	if [ "$rc" -eq 0 ]; then
		echo "$name: ok, ${runs:-?} runs in ${secs:-?} s," \
		    "${cov:-no coverage}, from $seeds seeds"
	else
		unit=$(sed -n 's/.*Test unit written to //p' "$log" | head -n 1)
		echo "$name: FAILED ($(why "$log")) after ${runs:-?} runs," \
		    "${cov:-no coverage}; input ${unit:-none}, log $log"
		status=1
	fi
done
exit $status

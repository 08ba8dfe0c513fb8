#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Run each libFuzzer target for a while: make fuzz FUZZ_TIME=60.
#   selftests/fuzz/run.sh BUILD_FUZZ_DIR SECONDS
# Each target grows a working corpus in BUILD_FUZZ_DIR/corpus/NAME, seeded
# from the committed one, which is only read. Prints per target the
# executions, their rate and coverage, and any crash with its input; exits
# non-zero if a target crashed.
set -u
cd "$(dirname "$0")/../.." || exit 1
O=${1:-build-fuzz}
T=${2:-60}
. selftests/fuzz/targets.sh

crashed=0
for bin in "$O"/fuzz_*; do
	[ -x "$bin" ] || continue
	name=${bin##*/fuzz_}
	work=$O/corpus/$name
	art=$O/artifacts/$name
	log=$O/logs/$name.log
	mkdir -p "$work" "$O/logs"
	rm -rf "$art"
	mkdir -p "$art"
	# Copy the seeds in (not over inputs the fuzzer found).
	if [ -d "selftests/fuzz/corpus/$name" ]; then
		cp -n "selftests/fuzz/corpus/$name"/* "$work"/ 2>/dev/null
	fi
	# shellcheck disable=SC2046,SC2086
	"$bin" -max_total_time="$T" $FUZZ_OPTS $(fuzz_dict "$name") \
		-artifact_prefix="$art/" "$work" >"$log" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
	last=$(grep -E '^#[0-9]+' "$log" | tail -n 1)
	cov=$(echo "$last" | sed -n 's/.*cov: \([0-9]*\).*/\1/p')
	ft=$(echo "$last" | sed -n 's/.*ft: \([0-9]*\).*/\1/p')
	corp=$(echo "$last" | sed -n 's/.*corp: \([0-9]*\).*/\1/p')
	printf '%-10s %10s execs %7s/s  cov %s ft %s corpus %s\n' "$name" \
		"${execs:-?}" "${rate:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}"
	if [ "$rc" -ne 0 ]; then
		crashed=$((crashed + 1))
		echo "$name: CRASH (exit $rc), log $log"
		grep -E 'ERROR:|invariant failed|SUMMARY:' "$log" | head -n 5
		for f in "$art"/*; do
			[ -e "$f" ] && echo "$name: input $f"
		done
	fi
done
[ "$crashed" -eq 0 ]

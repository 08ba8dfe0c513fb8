#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The fuzz suite of make check: each libFuzzer target replays its
# committed seeds, then runs a short, fixed-seed fuzzing pass from them.
#   selftests/fuzz/smoke.sh BUILD_FUZZ_DIR
# Nothing is written into the committed corpus: new inputs go to a
# temporary directory. Known crashers (corpus/crashes/) are not replayed.
# Ends with "fuzz: N passed, N failed, N skipped".
set -u
cd "$(dirname "$0")/../.." || exit 1
O=${1:-build-fuzz}
RUNS=${FUZZ_SMOKE_RUNS:-20000}
. selftests/fuzz/targets.sh

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0
fail=0
skip=0

ok() { echo "ok   $*"; pass=$((pass + 1)); }
bad() { echo "FAIL $*"; fail=$((fail + 1)); }
skipped() { echo "skip $*"; skip=$((skip + 1)); }

# check NAME WHAT LOG RC: a run passes if it exits 0 and libFuzzer says DONE.
check() {
	if [ "$4" -eq 0 ] && grep -q 'DONE' "$3"; then
		ok "$1 $2: $(sed -n 's/^stat::number_of_executed_units: *//p' "$3") execs," \
			"$(grep -E '^#[0-9]+.*DONE' "$3" | sed 's/.*\(cov: [0-9]*\).*/\1/')"
	else
		bad "$1 $2 (exit $4):"
		grep -E 'ERROR:|invariant failed|SUMMARY:|Test unit written' "$3" |
			head -n 6
		show_artifacts "$1"
	fi
}

# The inputs a failed run wrote, in the log: its directory goes with the
# run (and with CI's machine), and libFuzzer's passes are not repeatable
# run to run even with -seed. Each is shown once, then removed. Replay
# one with
#   base64 -d > crash; build-fuzz/fuzz_NAME crash
show_artifacts() {
	for f in "$tmp/$1-art"/*; do
		[ -f "$f" ] || continue
		echo "input ${f##*/} ($(wc -c <"$f") bytes), base64:"
		head -c 8192 "$f" | base64 -w 76
		rm -f "$f"
	done
}

for name in http docker jsonl listing discovery nlevent api etcd etcdv2 tlsrec; do
	bin=$O/fuzz_$name
	seeds=selftests/fuzz/corpus/$name
	if [ ! -x "$bin" ]; then
		skipped "$name: $bin not built (make fuzz-build needs clang)"
		continue
	fi
	if [ ! -d "$seeds" ]; then
		skipped "$name: no seed corpus in $seeds"
		continue
	fi
	mkdir -p "$tmp/$name-replay" "$tmp/$name-run" "$tmp/$name-art"

	# shellcheck disable=SC2086
	"$bin" -runs=0 $FUZZ_OPTS -artifact_prefix="$tmp/$name-art/" \
		"$tmp/$name-replay" "$seeds" >"$tmp/$name-replay.log" 2>&1
	check "$name" "replay" "$tmp/$name-replay.log" $?

	# shellcheck disable=SC2046,SC2086
	"$bin" -runs="$RUNS" -seed=1 -max_total_time=30 $FUZZ_OPTS \
		$(fuzz_dict "$name") -artifact_prefix="$tmp/$name-art/" \
		"$tmp/$name-run" "$seeds" >"$tmp/$name-run.log" 2>&1
	check "$name" "$RUNS runs" "$tmp/$name-run.log" $?
done

echo "fuzz: $pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]

# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# Counting for test suites, sourced by each suite's runner. A suite records
# tests (or runs kselftest binaries, whose "# Totals:" line it adds up) and
# ends with one line "NAME: N passed, N failed, N skipped".

suite_pass=0
suite_fail=0
suite_skip=0
suite_failed=()

# suite_record NAME pass|fail|skip
suite_record() {
	case $2 in
	pass) suite_pass=$((suite_pass + 1)) ;;
	skip) suite_skip=$((suite_skip + 1)) ;;
	*) suite_fail=$((suite_fail + 1)); suite_failed+=("$1") ;;
	esac
}

# suite_run NAME CMD [ARGS...]: run a test program, show its output, and
# count it: by its kselftest "# Totals:" line when it prints one, else by
# its exit status (0 pass, 4 skip, anything else fail).
suite_run() {
	local name=$1 log rc totals p f x y s e
	shift
	echo "# ---- $name"
	log=$(mktemp)
	"$@" 2>&1 | tee "$log"
	rc=${PIPESTATUS[0]}
	totals=$(grep -E '^# Totals: pass:[0-9]+ fail:[0-9]+' "$log" | tail -n 1)
	rm -f "$log"
	if [ -z "$totals" ]; then
		case $rc in
		0) suite_record "$name" pass ;;
		4) suite_record "$name" skip ;;
		*) suite_record "$name (exit $rc)" fail ;;
		esac
		return
	fi
	# "# Totals: pass:P fail:F xfail:X xpass:Y skip:S error:E"
	read -r p f x y s e <<<"$(echo "$totals" | sed -E \
		's/.*pass:([0-9]+) fail:([0-9]+) xfail:([0-9]+) xpass:([0-9]+) skip:([0-9]+) error:([0-9]+).*/\1 \2 \3 \4 \5 \6/')"
	suite_pass=$((suite_pass + p + x))
	suite_fail=$((suite_fail + f + y + e))
	suite_skip=$((suite_skip + s))
	if [ $((f + y + e)) -gt 0 ]; then
		suite_failed+=("$name")
	elif [ "$rc" -ne 0 ] && [ "$rc" -ne 4 ]; then
		suite_record "$name (exit $rc)" fail
	fi
}

# suite_end NAME: print the closing line; return non-zero on any failure.
suite_end() {
	[ ${#suite_failed[@]} -gt 0 ] && printf '# failed: %s\n' "${suite_failed[@]}"
	echo "$1: $suite_pass passed, $suite_fail failed, $suite_skip skipped"
	[ "$suite_fail" -eq 0 ]
}

#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The module suite, run inside the QEMU guest by `make vm-check`:
#   scripts/vm-run -- selftests/kmod/run.sh BUILD_DIR
# Loads peerwatch.ko, runs every kselftest binary in BUILD_DIR/selftests/kmod
# and every selftests/kmod/*.sh, unloads the module, and ends with one line
# "N passed, N failed, N skipped". Loading and unloading count as tests.
set -u

O=${1:-build}
kver=$(uname -r)
if [ "${PEERWATCH_GUEST:-}" != 1 ]; then
	echo "run.sh: runs inside the test guest only (use make vm-check)" >&2
	exit 2
fi

pass=0
fail=0
skip=0
failed=()

record() {	# name verdict
	case $2 in
	pass) pass=$((pass + 1)) ;;
	skip) skip=$((skip + 1)) ;;
	*) fail=$((fail + 1)); failed+=("$1") ;;
	esac
}

echo "# kernel $kver"
if insmod ./peerwatch.ko; then
	record "module load" pass
else
	record "module load" fail
	echo "$pass passed, $fail failed, $skip skipped"
	exit 1
fi

for t in "$O"/selftests/kmod/* selftests/kmod/*.sh; do
	[ -f "$t" ] && [ -x "$t" ] || continue
	case $t in *.o | *.d) continue ;; */run.sh) continue ;; esac
	name=${t##*/}
	echo "# ---- $name"
	log=$(mktemp)
	"$t" 2>&1 | tee "$log"
	rc=${PIPESTATUS[0]}
	totals=$(grep -E '^# Totals: pass:[0-9]+ fail:[0-9]+' "$log" | tail -n 1)
	rm -f "$log"
	if [ -n "$totals" ]; then
		# "# Totals: pass:P fail:F xfail:X xpass:Y skip:S error:E"
		read -r p f x y s e < <(echo "$totals" |
			sed -E 's/.*pass:([0-9]+) fail:([0-9]+) xfail:([0-9]+) xpass:([0-9]+) skip:([0-9]+) error:([0-9]+).*/\1 \2 \3 \4 \5 \6/')
		pass=$((pass + p + x))
		fail=$((fail + f + y + e))
		skip=$((skip + s))
		[ $((f + y + e)) -gt 0 ] && failed+=("$name")
		if [ "$rc" -ne 0 ] && [ $((f + y + e)) -eq 0 ] && [ "$rc" -ne 4 ]; then
			record "$name (exit $rc)" fail
		fi
	elif [ "$rc" -eq 0 ]; then
		record "$name" pass
	elif [ "$rc" -eq 4 ]; then
		record "$name" skip
	else
		record "$name (exit $rc)" fail
	fi
done

if rmmod peerwatch; then
	record "module unload" pass
else
	record "module unload" fail
fi

[ ${#failed[@]} -gt 0 ] && printf '# failed: %s\n' "${failed[@]}"
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]

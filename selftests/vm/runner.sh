#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The QEMU runner's own tests: a verdict is only worth something if a
# broken guest is caught. Runs on the host; boots a few short guests.
#   selftests/vm/runner.sh BUILD_DIR KVER
set -u
cd "$(dirname "$0")/../.." || exit 1
O=${1:-build}
KVER=${2:-$(scripts/kver)}
. scripts/suite.sh

out=$(mktemp)
trap 'rm -f "$out"' EXIT

# expect NAME WANT_RC PATTERN VM-RUN-ARGS...: vm-run must exit WANT_RC
# ("nonzero" for any failure) and say PATTERN.
expect() {
	local name=$1 want=$2 pattern=$3 rc
	shift 3
	scripts/vm-run --kver "$KVER" "$@" >"$out" 2>&1
	rc=$?
	if { [ "$want" = nonzero ] && [ "$rc" -ne 0 ]; } || [ "$rc" = "$want" ]; then
		if grep -qzE "$pattern" "$out"; then
			echo "ok: $name (exit $rc)"
			suite_record "$name" pass
			return
		fi
		echo "not ok: $name: output lacks /$pattern/:"
	else
		echo "not ok: $name: exit $rc, wanted $want:"
	fi
	sed 's/^/  | /' "$out" | tail -n 20
	suite_record "$name" fail
}

wm=$O/warnmod
mkdir -p "$wm"
cp selftests/vm/warnmod/warnmod.c selftests/vm/warnmod/Kbuild "$wm/"
if ! make -s -C "/lib/modules/$KVER/build" M="$PWD/$wm" modules 2>&1 |
		grep -v 'Skipping BTF'; then
	:
fi

expect "exit status passes through" 3 'hello from the guest' -- \
	sh -c 'echo hello from the guest; exit 3'
expect "a WARN in the guest kernel fails the run" nonzero \
	'guest kernel reported a problem.*WARNING: .*warnmod_init' -- \
	insmod "$wm/warnmod.ko"
expect "an oops kills the guest and fails the run" nonzero \
	'guest died before the command finished.*(Oops|NULL pointer)' -- \
	insmod "$wm/warnmod.ko" oops=1
# Not a chroot, where the kernel refuses user namespaces.
expect "the command may make a user namespace" 0 'userns ok' -- \
	unshare --user --map-root-user --net sh -c 'echo userns ok'
expect "a hung command times out with a clear message" 124 \
	'guest timed out after 15s' --timeout 15 -- sleep 600

suite_end vmrunner

#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The module suite, run inside the QEMU guest by `make vm-check`:
#   scripts/vm-run -- selftests/kmod/run.sh BUILD_DIR [MODULE.ko]
# Loads the module (default ./peerwatch.ko), runs every kselftest binary in
# BUILD_DIR/selftests/kmod and every selftests/kmod/*.sh, unloads it, and
# ends with one line "kmod-KERNEL: N passed, N failed, N skipped" naming the
# guest kernel. Loading and unloading count as tests.
set -u

O=${1:-build}
KO=${2:-./peerwatch.ko}
# Tests that unload and load the module again find it here.
export PEERWATCH_KO=$KO
suite=kmod-$(uname -r)
if [ "${PEERWATCH_GUEST:-}" != 1 ]; then
	echo "run.sh: runs inside the test guest only (use make vm-check)" >&2
	exit 2
fi
. scripts/suite.sh

echo "# kernel $(uname -r), module $KO"
# On a kernel with kmemleak (scripts/kernel-debug), what the kernel itself
# leaked before the module came is set aside: only ours is looked at.
KMEMLEAK=/sys/kernel/debug/kmemleak
if [ -w "$KMEMLEAK" ]; then
	echo scan >"$KMEMLEAK"
	echo clear >"$KMEMLEAK"
fi
if ! insmod "$KO"; then
	suite_record "module load" fail
	suite_end "$suite"
	exit 1
fi
suite_record "module load" pass

for t in "$O"/selftests/kmod/* selftests/kmod/*.sh; do
	if [ ! -f "$t" ] || [ ! -x "$t" ]; then continue; fi
	case $t in *.o | *.d | */run.sh) continue ;; esac
	name=${t##*/}
	if [ -n "${PW_TESTS:-}" ] && [[ " $PW_TESTS " != *" ${name%.sh} "* ]]; then
		continue
	fi
	suite_run "$name" "$t"
done

if rmmod peerwatch; then
	suite_record "module unload" pass
else
	suite_record "module unload" fail
fi

# What the module allocated and never freed, after its unload: an object
# nothing points to whose allocation backtrace passes through the module,
# named ([peerwatch]) or, its code gone, a bare address. kmemleak reports
# only objects older than 5 s.
if [ -w "$KMEMLEAK" ]; then
	sleep 6
	echo scan >"$KMEMLEAK"
	leaks=$(awk '/^unreferenced object/ { obj = $0 }
		obj && (/ \[peerwatch\]$/ || /\] 0x[0-9a-f]+$/) { print obj; print; obj = "" }' \
		"$KMEMLEAK")
	if [ -z "$leaks" ]; then
		suite_record kmemleak pass
	else
		echo "# kmemleak: the module leaked:"
		printf '%s\n' "$leaks" | sed 's/^/#   /'
		suite_record kmemleak fail
	fi
fi
suite_end "$suite"

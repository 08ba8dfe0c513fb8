#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The module suite, run inside the QEMU guest by `make vm-check`:
#   scripts/vm-run -- selftests/kmod/run.sh BUILD_DIR
# Loads peerwatch.ko, runs every kselftest binary in BUILD_DIR/selftests/kmod
# and every selftests/kmod/*.sh, unloads the module, and ends with one line
# "kmod: N passed, N failed, N skipped". Loading and unloading count as tests.
set -u

O=${1:-build}
if [ "${PEERWATCH_GUEST:-}" != 1 ]; then
	echo "run.sh: runs inside the test guest only (use make vm-check)" >&2
	exit 2
fi
. scripts/suite.sh

echo "# kernel $(uname -r)"
if ! insmod ./peerwatch.ko; then
	suite_record "module load" fail
	suite_end kmod
	exit 1
fi
suite_record "module load" pass

for t in "$O"/selftests/kmod/* selftests/kmod/*.sh; do
	if [ ! -f "$t" ] || [ ! -x "$t" ]; then continue; fi
	case $t in *.o | *.d | */run.sh) continue ;; esac
	suite_run "${t##*/}" "$t"
done

if rmmod peerwatch; then
	suite_record "module unload" pass
else
	suite_record "module unload" fail
fi
suite_end kmod

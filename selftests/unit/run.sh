#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The unit suite: every kselftest binary in BUILD_DIR/selftests/unit.
#   selftests/unit/run.sh [BUILD_DIR]
set -u
cd "$(dirname "$0")/../.." || exit 1
O=${1:-build}
. scripts/suite.sh

for t in "$O"/selftests/unit/*; do
	if [ ! -f "$t" ] || [ ! -x "$t" ]; then continue; fi
	case $t in *.o | *.d) continue ;; esac
	suite_run "${t##*/}" "$t"
done
suite_end unit

#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# What peerwatch.ko costs a busy host, in the test guest (make vm-bench):
#   scripts/vm-run -- bench/kmod.sh BUILD_DIR MODULE.ko OUT
#
#   netns pwbench-kmod: lo up, tcp_tw_reuse
#   bench/crr crr 3     connect, 1-byte request and answer, close: conn/s
#   bench/crr bulk 128  one connection of 128 MiB: MiB/s
#
# Cases, each run ROUNDS times (default 5) in turn (unloaded, loaded,
# policies, subscriber, unloaded, ...) so that a drift of the machine
# spreads over all of them; the median of each is compared with the
# unloaded median:
#   unloaded    the module not loaded
#   loaded      loaded, nothing configured
#   policies    loaded, 100 rules in the netns (one host and port each,
#               as for 100 engines), none matching
#   subscriber  loaded, `peerwatch monitor` subscribed to the events
# Writes OUT (markdown) and prints it.
set -u

O=${1:?usage: kmod.sh BUILD_DIR MODULE.ko OUT}
KO=${2:?}
OUT=${3:?}
ROUNDS=${ROUNDS:-5}
CASES="unloaded loaded policies subscriber"
NS=pwbench-kmod
MON=

if [ "${PEERWATCH_GUEST:-}" != 1 ]; then
	echo "kmod.sh: runs inside the test guest only (make vm-bench)" >&2
	exit 2
fi

cleanup() {
	[ -n "$MON" ] && kill "$MON" 2>/dev/null && wait "$MON" 2>/dev/null
	ip netns del "$NS" 2>/dev/null
}
trap cleanup EXIT

ip netns add "$NS" || exit 1
ip -n "$NS" link set lo up
ip netns exec "$NS" sysctl -qw net.ipv4.tcp_tw_reuse=1
ip netns exec "$NS" sysctl -qw net.ipv4.ip_local_port_range="1024 65000"
inns() { ip netns exec "$NS" "$@"; }

unload() { if [ -d /sys/module/peerwatch ]; then rmmod peerwatch || exit 1; fi; }
load() { [ -d /sys/module/peerwatch ] || insmod "$KO" || exit 1; }

setup() {
	local i
	case $1 in
	unloaded) unload ;;
	loaded) unload; load ;;
	policies)
		unload
		load
		for i in $(seq 100); do
			inns "$O/peerwatch" policy add dst "10.$((i / 256)).$((i % 256)).1/32" \
				dport 2375 timeout 5s >/dev/null || exit 1
		done
		;;
	subscriber)
		unload
		load
		inns "$O/peerwatch" monitor >/dev/null &
		MON=$!
		sleep 0.5
		kill -0 "$MON" || { echo "kmod.sh: monitor did not start" >&2; exit 1; }
		;;
	esac
}

teardown() {
	if [ -n "$MON" ]; then
		kill "$MON"
		wait "$MON" 2>/dev/null
		MON=
	fi
}

declare -A crr bulk
echo "# kernel $(uname -r), $ROUNDS rounds of: $CASES"
# The guest's first seconds (page cache, slab growth) favour no case.
inns "$O/bench/crr" crr 2 >/dev/null || exit 1
inns "$O/bench/crr" bulk 64 >/dev/null || exit 1
for r in $(seq "$ROUNDS"); do
	for c in $CASES; do
		setup "$c"
		a=$(inns "$O/bench/crr" crr 3) || exit 1
		b=$(inns "$O/bench/crr" bulk 128) || exit 1
		teardown
		a=${a##*: }
		b=${b##*: }
		crr[$c]+="${a%% *} "
		bulk[$c]+="${b%% *} "
		echo "# round $r $c: ${a%% *} conn/s, ${b%% *} MiB/s"
	done
done
unload

median() { tr ' ' '\n' | sed '/^$/d' | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

{
	echo "| $(uname -r) | connect/request/close per s | vs unloaded | bulk MiB/s | vs unloaded |"
	echo "|---|---:|---:|---:|---:|"
	c0=$(median <<<"${crr[unloaded]}")
	b0=$(median <<<"${bulk[unloaded]}")
	for c in $CASES; do
		cm=$(median <<<"${crr[$c]}")
		bm=$(median <<<"${bulk[$c]}")
		printf '| %s | %s | %s | %s | %s |\n' "$c" "$cm" \
			"$(awk -v a="$cm" -v b="$c0" 'BEGIN { printf "%.1f%%", 100 * a / b }')" \
			"$bm" "$(awk -v a="$bm" -v b="$b0" 'BEGIN { printf "%.1f%%", 100 * a / b }')"
	done
} >"$OUT"
cat "$OUT"

#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# What peerwatch.ko costs a busy host, in the test guest (make vm-bench):
#   scripts/vm-run --icount 0 -- env CLOCK=icount \
#       bench/kmod.sh BUILD_DIR MODULE.ko OUT
#
# Under `--icount 0` the guest's clock is its instruction count (1 ns an
# instruction, the host's load out of it): the figures are work per
# instruction, the same from one run to the next to a few tenths of a
# percent; they leave out what instructions do not show (caches, memory).
# Without it, the guest's clock is the host's, and the figures move with
# whatever else the host runs.
#
#   netns pwbench-kmod: lo up, tcp_tw_reuse
#   bench/crr crr 3     connect, 1-byte request and answer, close: conn/s
#   bench/crr bulk 128  one connection of 128 MiB: MiB/s
#
# Cases, each run once a round, ROUNDS rounds (default 3), each round in
# another order (rotated) so that neither a drift of the machine nor a
# case's place in the round favours one. Each case's figure in a round is
# divided by the unloaded figure of the same round: the table gives the
# median of these paired ratios and their spread (lowest to highest), so
# that a host busy with other work for a few rounds moves the spread, not
# the median:
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
ROUNDS=${ROUNDS:-3}
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
# Not the listeners' ports (bench/crr.c): a client's TIME_WAIT on one of
# them would refuse the next listener's bind for a minute.
ip netns exec "$NS" sysctl -qw net.ipv4.ip_local_reserved_ports="7101-7102"
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
echo "# kernel $(uname -r), $ROUNDS rounds of: $CASES (rotated), guest clock: ${CLOCK:-host}"
# The guest's first seconds (page cache, slab growth) favour no case.
inns "$O/bench/crr" crr 2 >/dev/null || exit 1
inns "$O/bench/crr" bulk 64 >/dev/null || exit 1
read -r -a order <<<"$CASES"
for r in $(seq "$ROUNDS"); do
	for i in "${!order[@]}"; do
		c=${order[$(((i + r - 1) % ${#order[@]}))]}
		setup "$c"
		a=$(inns "$O/bench/crr" crr 3) || exit 1
		b=$(inns "$O/bench/crr" bulk 128) || exit 1
		teardown
		a=${a##*: }
		b=${b##*: }
		crr[$c,$r]=${a%% *}
		bulk[$c,$r]=${b%% *}
		echo "# round $r $c: ${a%% *} conn/s, ${b%% *} MiB/s"
	done
done
unload

median() { tr ' ' '\n' | sed '/^$/d' | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# stats ARRAY CASE: "median-of-figures median-ratio lowest highest"
stats() {
	local -n fig=$1
	local r vals="" ratios=""

	for r in $(seq "$ROUNDS"); do
		vals+="${fig[$2,$r]} "
		ratios+="$(awk -v a="${fig[$2,$r]}" -v b="${fig[unloaded,$r]}" 'BEGIN { printf "%.4f", 100 * a / b }') "
	done
	echo "$(median <<<"$vals") $(median <<<"$ratios") $(tr ' ' '\n' <<<"$ratios" | sed '/^$/d' | sort -g | sed -n '1p;$p' | tr '\n' ' ')"
}

{
	echo "| $(uname -r) | connect/request/close per s | vs unloaded, median (spread) | bulk MiB/s | vs unloaded, median (spread) |"
	echo "|---|---:|---:|---:|---:|"
	for c in $CASES; do
		read -r cm cr clo chi <<<"$(stats crr "$c")"
		read -r bm br blo bhi <<<"$(stats bulk "$c")"
		if [ "$c" = unloaded ]; then
			printf '| %s | %s | 100%% | %s | 100%% |\n' "$c" "$cm" "$bm"
			continue
		fi
		printf '| %s | %s | %.1f%% (%.1f to %.1f) | %s | %.1f%% (%.1f to %.1f) |\n' \
			"$c" "$cm" "$cr" "$clo" "$chi" "$bm" "$br" "$blo" "$bhi"
	done
} >"$OUT"
cat "$OUT"

#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# peerwatchd and peerwatch.ko end to end, in the test guest, run by
# selftests/kmod/run.sh with the module loaded (left loaded, as found):
#
#   netns pwt-<pid>-<phase>                                      lo only
#   +----------------------------------------------------------------+
#   |  enginesim: 200 engines, 127.1.0.1 .. 127.1.0.200, port 2375     |
#   |      (50 on the debug kernel)                                    |
#   |  peerwatchd --kernel-policy: a polling and an /events            |
#   |      connection to each engine, the module's events joined       |
#   |  nft: every 10th engine blackholed, both directions, at once     |
#   +----------------------------------------------------------------+
#
# module:    each blackholed engine is suspect within 2.5 s (3 s on the
#            debug kernel; the kernel's
#            SUSPECT; when only its answer was lost, the /_ping the agent
#            pipelines behind a late answer is what the kernel
#            retransmits), then down with the reason of the kernel's DEAD
#            event as its cause; the other 180 stay healthy; the policy
#            rule for port 2375 lives exactly as long as the agent.
# no module: (rmmod) each is down within user timeout + 2 s, from the
#            socket's own ETIMEDOUT; the agent said once why it has no
#            kernel events, and subscribes when the module is back, and
#            again when it is reloaded.
# idle:      (module) the same with a refresh every 60 s and no liveness
#            ping (--ping-interval 0, which would make them suspect): both
#            connections of each engine idle at the blackhole, nothing of ours to
#            retransmit, so no SUSPECT (keepalive probes are not
#            retransmissions): each is down at the kernel's DEAD
#            (keepalive) within user timeout + 2 s, never suspect first.
# lost events: (module) a 4 KiB event queue (--kernel-rcvbuf) and the
#            agent stopped (SIGSTOP) while a quarter of the engines (50) reset both their
#            connections: 100 DEAD events, most dropped by the kernel.
#            Running again, the agent counts the loss in /metrics, checks
#            every connection (SO_ERROR, TCP_INFO), and every reset engine
#            is down, those whose DEAD was dropped found by that check.
# Prints the detection-time distributions (min, median, max), in ms from
# the instant the drop took effect (nft takes seconds under TCG: a canary
# connection, refused every 10 ms until then, tells). Shortened: --user-timeout 4s; a refresh every 500 ms, so
# that a request is soon in flight (SUSPECT is the first retransmission
# timeout of data; an idle connection only has keepalive probes).
# The tests are functions run from the loop at the end.
# shellcheck disable=SC2317
set -u
cd "$(dirname "$0")/../.." || exit 1
O=${1:-build}
KO=${PEERWATCH_KO:-./peerwatch.ko}
UT_MS=4000
NENGINES=200
# SUSPECT comes within the refresh (500 ms) + the first RTO (about
# 200 ms): 0.48 to 1.02 s measured; 1.5 s more for a starved guest, and
# still before keepalive's DEAD (3 s and more after the blackhole).
SUSPECT_MS=2500
# The debug kernel (scripts/kernel-debug: KASAN, lockdep, kmemleak) runs
# 10 to 70 times slower: 200 engines polled twice a second kept its vCPU
# saturated, requests left late and some engines had no data in flight
# before keepalive's DEAD. A quarter of the fleet; SUSPECT within the
# refresh (500 ms) and its larger RTO (800 ms measured there) + margin.
if [ "${PW_DEBUG_KERNEL:-}" = 1 ]; then
	NENGINES=50
	SUSPECT_MS=3000
fi

if [ "${PEERWATCH_GUEST:-}" != 1 ] || [ "$(id -u)" -ne 0 ] ||
	! command -v nft >/dev/null || ! command -v jq >/dev/null ||
	! command -v curl >/dev/null; then
	echo "# SKIP: runs as root in the test guest, with nft, jq and curl"
	exit 4
fi
# shellcheck source=selftests/agent/lib.sh
. selftests/agent/lib.sh

loaded() { [ -d /sys/module/peerwatch ]; }
restore() {
	loaded || insmod "$KO" || echo "# FAIL: could not load $KO again"
	cleanup
}
trap restore EXIT

HOLES=()
for i in $(seq 10 10 $NENGINES); do HOLES+=("127.1.0.$i"); done
holes_json=$(printf '"%s:2375",' "${HOLES[@]}")
holes_json="[${holes_json%,}]"
holes_nodes() { echo "[.nodes[] | select(.addr as \$a | $holes_json | index(\$a))]"; }

# UTC ms since midnight now (as of an agent log line's timestamp and of
# the canary's $EPOCHREALTIME values below).
clock_ms() { date -u +'%H %M %S %N' | awk '{ print (($1 * 60 + $2) * 60 + $3) * 1000 + int($4 / 1000000) }'; }

# canary ADDR: every 10 ms, write $EPOCHREALTIME when a connection to ADDR
# port 9 is refused (bash's own connect, and a read timeout on a FIFO for
# the pause: no fork). Once ADDR is blackholed the connect hangs: the last
# line is the instant the drop took effect, within 10 ms, while nft itself
# takes seconds under TCG.
canary() {
	rm -f "$TMP/canary.fifo"
	mkfifo "$TMP/canary.fifo" || return 1
	# shellcheck disable=SC2016 # expanded by that bash
	spawn "$TMP/canary.txt" bash -c 'exec 9<>"$1"
		while :; do
			: 2>/dev/null 3<>"/dev/tcp/$0/9" || echo "$EPOCHREALTIME"
			read -rt 0.01 -u 9
		done' "$1" "$TMP/canary.fifo"
	CANARY=$LAST_PID
	for _ in $(seq 100); do
		[ -s "$TMP/canary.txt" ] && return 0
		sleep 0.05
	done
	return 1
}

# detections T0 FROM: "ADDR SUSPECT_MS DOWN_MS CAUSE" per blackholed engine,
# in ms after T0, from the agent's log of its transitions since FROM (-1:
# never).
detections() {
	awk -v t0="$1" -v lo=$(($2 - $1)) -v holes="${HOLES[*]}" '
	function ms(ts, f) {
		split(substr(ts, 12, 12), f, /[:.]/)
		return ((f[1] * 60 + f[2]) * 60 + f[3]) * 1000 + f[4]
	}
	BEGIN {
		n = split(holes, h, " ")
		for (i = 1; i <= n; i++) {
			a = h[i] ":2375"; want[a] = 1; sus[a] = -1; down[a] = -1
		}
	}
	# "TIME LEVEL: engine ADDR[ (NAME)]: FROM -> TO (CAUSE...)"
	$3 == "engine" {
		for (k = 5; k < NF && $k != "->"; k++)
			;
		if ($k != "->")
			next
		a = $4; sub(/:$/, "", a)
		if (!(a in want) || (t = ms($1) - t0) < lo)
			next
		if ($(k + 1) == "suspect" && sus[a] < 0)
			sus[a] = t
		if ($(k + 1) == "down" && down[a] < 0) {
			down[a] = t; c = $(k + 2); sub(/^\(/, "", c); sub(/[:)]$/, "", c)
			cause[a] = c
		}
	}
	END { for (a in want) print a, sus[a], down[a], cause[a] }' "$ALOG"
}

show_detections() {
	local l

	log "  engine suspect_ms down_ms cause"
	while read -r l; do log "  $l"; done <<<"$DET"
}

# dist: "min A median B max C" of the numbers on stdin.
dist() {
	sort -n | awk '{ v[NR] = $1 } END { printf "min %d median %d max %d", v[1], v[int((NR + 1) / 2)], v[NR] }'
}

# phase NAME [AGENT_OPTION...]: the fleet settled, every 10th engine blackholed
# at T0, all down.
phase() {
	local t name=$1

	shift
	new_netns "$name" || return 1
	# One container each: five, listed 400 times a second, would keep the
	# guest's one TCG vCPU saturated and every answer late.
	start_sim "$NENGINES" --events-interval 0 --containers 1 || return 1
	start_agent --kernel-policy --user-timeout "${UT_MS}ms" \
		--keepalive-idle 1s --keepalive-interval 1s \
		--engine-refresh-min-interval 500ms \
		--engine-refresh-max-interval 500ms --backoff-max 30s "$@" \
		"nodes://127.1.0.[1:$NENGINES]:2375" || return 1
	wait_until 90000 "$(all_settled "$NENGINES")" ||
		fail "$NENGINES engines not settled after ${ELAPSED} ms: $(q .states)" || return 1
	log "$name: $NENGINES engines healthy, 2 connections each, after ${ELAPSED} ms"
	# The first nft of a boot reads itself over 9p for seconds: not then.
	in_ns nft list ruleset >/dev/null || fail "nft" || return 1
	# nft takes seconds under TCG: times count from the instant the drop
	# took effect, as the canary saw it.
	canary "${HOLES[0]}" || fail "canary: no refused connection" || return 1
	t=$(clock_ms)
	blackhole "${HOLES[@]}" || fail "nft" || return 1
	T1=$(clock_ms)
	# SIGKILL: a connect the drop left hanging ends only at its SYN
	# timeout, two minutes on, and bash then writes that instant too (a
	# 6.12 guest once did): the drop is the last refusal up to nft's end.
	kill -KILL "$CANARY"
	wait "$CANARY" 2>/dev/null
	T0=$(awk -v t1="$T1" '/^[0-9]+\.[0-9]+$/ {
		ms = sprintf("%d", ($1 % 86400) * 1000) + 0
		if (ms <= t1 && ms > t0) t0 = ms
	} END { printf "%d", t0 }' "$TMP/canary.txt")
	[ "$T0" -ge "$t" ] && [ "$T0" -le "$T1" ] ||
		fail "canary: the drop took effect at $T0, outside nft's run [$t, $T1]" || return 1
	log "$name: ${#HOLES[@]} engines blackholed by one nft transaction ($((T1 - t)) ms), in effect $((T0 - t)) ms after its start (T0, which the times below count from; the canary's last refused connection)"
	wait_until $((UT_MS + 10000)) \
		"[$(holes_nodes)[] | select(.state == \"down\")] | length == ${#HOLES[@]}" ||
		fail "blackholed engines not all down after ${ELAPSED} ms: $(q "$(holes_nodes) | map(.state)")" ||
		return 1
	[ "$(q '.states.healthy')" = $((NENGINES - ${#HOLES[@]})) ] ||
		fail "the others: $(q .states)" || return 1
	DET=$(detections "$T0" "$T0")
}

# metric NAME: its value in the agent's /metrics.
metric() {
	curl -sS --max-time 10 --unix-socket "$API" http://pw/metrics |
		awk -v m="$1" '$1 == m { print $2 }'
}

# The policy rules of this netns, as the module lists them.
policies() { in_ns "$O/peerwatch" policy list -j 2>/dev/null | jq -s 'length'; }

test_module() {
	local bad

	loaded || insmod "$KO" || fail "insmod $KO" || return 1
	phase module || return 1
	grep -q "kernel events: on" "$ALOG" || fail "no 'kernel events: on' line" || return 1
	show_detections
	bad=$(echo "$DET" | awk -v b="$SUSPECT_MS" '$2 == -1 || $2 > b { print $1 " " $2 }' | xargs)
	[ -z "$bad" ] || fail "not suspect within $SUSPECT_MS ms: $bad" || return 1
	log "module: all ${#HOLES[@]} suspect within $SUSPECT_MS ms; $(metric peerwatch_engine_late_pings_total) ping(s) pipelined behind late answers"
	bad=$(echo "$DET" | awk '$4 !~ /^kernel:(user-timeout|keepalive|retries)$/')
	[ -z "$bad" ] || fail "down without the kernel's reason: $bad" || return 1
	bad=$(q "$(holes_nodes) | map(select(.cause | startswith(\"kernel:\") | not)) | map(.addr + \" \" + .cause) | join(\", \")")
	[ -z "$bad" ] || fail "state file causes: $bad" || return 1
	log "module: suspect after the blackhole: $(echo "$DET" | awk '{ print $2 }' | dist) ms"
	log "module: down (kernel DEAD) after the blackhole: $(echo "$DET" | awk '{ print $3 }' | dist) ms; causes: $(echo "$DET" | awk '{ print $4 }' | sort | uniq -c | xargs)"
	[ "$(policies)" = 1 ] || fail "policy rules while the agent runs: $(policies), want 1" || return 1
	stop_agent || return 1
	[ "$(policies)" = 0 ] || fail "policy rules left after the agent: $(policies)" || return 1
	log "module: one policy rule while the agent ran, none after"
}

# The module's counters in this netns: DEAD (reset) events delivered, and
# events not delivered to a full queue.
kstat() { in_ns "$O/peerwatch" stats -j | jq -r ".$1 // 0"; }
dead_resets() { in_ns "$O/peerwatch" stats -j | jq -r '.dead_reset + .undelivered_overflow'; }

cont_agent() { [ -z "${AGENT_PID:-}" ] || kill -CONT "$AGENT_PID" 2>/dev/null; }

test_lost_events() {
	local n=$((NENGINES / 4)) dead0 want swept lost found over0

	loaded || insmod "$KO" || fail "insmod $KO" || return 1
	new_netns lost || return 1
	start_sim "$NENGINES" --events-interval 0 --containers 1 || return 1
	start_agent --kernel-rcvbuf 4KiB --user-timeout "${UT_MS}ms" \
		--backoff-max 30s "nodes://127.1.0.[1:$NENGINES]:2375" || return 1
	wait_until 90000 "$(all_settled "$NENGINES")" ||
		fail "$NENGINES engines not settled after ${ELAPSED} ms: $(q .states)" || return 1
	dead0=$(dead_resets)
	over0=$(kstat undelivered_overflow)
	want=$((dead0 + 2 * n))
	TEST_CLEANUP=cont_agent
	kill -STOP "$AGENT_PID" || fail "SIGSTOP" || return 1
	sim fault "127.1.0.1-127.1.0.$n" reset || { cont_agent; return 1; }
	# Every DEAD sent (whether the queue took it or not) before it runs.
	for _ in $(seq 200); do
		[ "$(dead_resets)" -ge "$want" ] && break
		sleep 0.05
	done
	found=$(dead_resets)
	lost=$(($(kstat undelivered_overflow) - over0))
	cont_agent
	[ "$found" -ge "$want" ] ||
		fail "the module sent $((found - dead0)) DEAD (reset) events, want $((2 * n))" || return 1
	[ "$lost" -ge 1 ] || fail "the queue took all $((2 * n)) events: nothing lost" || return 1
	log "lost: agent stopped, $n engines reset: the module sent $((found - dead0)) DEAD events, $lost not delivered (queue full)"
	wait_until 10000 "[.nodes[] | select(.state == \"down\")] | length == $n" ||
		fail "reset engines not all down ${ELAPSED} ms after SIGCONT: $(q .states)" || return 1
	[ "$(q '.states.healthy')" = $((NENGINES - n)) ] ||
		fail "the others: $(q .states)" || return 1
	lost=$(metric peerwatch_kernel_events_lost_total)
	found=$(metric peerwatch_kernel_resync_found_total)
	swept=$(grep -c -- '-> down (.*found after lost kernel events' "$ALOG")
	[ "${lost:-0}" -ge 1 ] && [ "${found:-0}" -ge 1 ] && [ "$swept" -ge 1 ] ||
		fail "lost events: /metrics lost $lost, resync found $found; $swept engines down by the check" ||
		return 1
	log "lost: all $n down ${ELAPSED} ms after SIGCONT; /metrics: events lost $lost times, $found connections acted on by the check of every connection; $swept engines down by that check, $((n - swept)) by a DEAD event that fit"
}

test_idle() {
	local bad

	loaded || insmod "$KO" || fail "insmod $KO" || return 1
	phase idle --engine-refresh-min-interval 60s \
		--engine-refresh-max-interval 60s --ping-interval 0 || return 1
	show_detections
	bad=$(echo "$DET" | awk -v b=$((UT_MS + 2000)) '$2 != -1 || $3 == -1 || $3 > b || $4 != "kernel:keepalive"')
	[ -z "$bad" ] || fail "idle: suspect, or not down by user timeout + 2 s with cause kernel:keepalive: $bad" || return 1
	log "idle: none suspect (nothing to retransmit); down (kernel DEAD, keepalive) after the blackhole: $(echo "$DET" | awk '{ print $3 }' | dist) ms (bound $((UT_MS + 2000)))"
}

test_no_module() {
	local bad

	if loaded; then
		rmmod peerwatch || fail "rmmod" || return 1
	fi
	phase nomodule || return 1
	[ "$(grep -c "kernel events: off: peerwatch.ko is not loaded" "$ALOG")" = 1 ] ||
		fail "no single line saying the module is not loaded" || return 1
	show_detections
	bad=$(echo "$DET" | awk -v b=$((UT_MS + 2000)) '$3 == -1 || $3 > b || $4 != "user-timeout"')
	[ -z "$bad" ] || fail "not down by user timeout + 2 s with cause user-timeout: $bad" || return 1
	log "no module: down after the blackhole: $(echo "$DET" | awk '{ print $3 }' | dist) ms (bound $((UT_MS + 2000)))"
	insmod "$KO" || fail "insmod $KO" || return 1
	for _ in $(seq 100); do
		grep -q "kernel events: on (peerwatch.ko loaded)" "$ALOG" && break
		sleep 0.05
	done
	grep -q "kernel events: on (peerwatch.ko loaded)" "$ALOG" ||
		fail "the running agent did not subscribe when the module came" || return 1
	log "no module: the running agent subscribed when the module was loaded"
	rmmod peerwatch && insmod "$KO" || fail "reload of the module" || return 1
	for _ in $(seq 100); do
		[ "$(grep -c "kernel events: on (peerwatch.ko loaded)" "$ALOG")" = 2 ] && break
		sleep 0.05
	done
	grep -q "kernel events: off: peerwatch.ko unloaded" "$ALOG" &&
		[ "$(grep -c "kernel events: on (peerwatch.ko loaded)" "$ALOG")" = 2 ] ||
		fail "the running agent did not follow a reload of the module" || return 1
	log "no module: and it subscribed again when the module was reloaded"
}

rc=0
for t in test_module test_idle test_lost_events test_no_module; do
	echo "# ---- $t"
	AGENT_PID=
	if "$t" && stop_agent; then
		log "ok $t"
	else
		rc=1
		[ -n "${ALOG:-}" ] && [ -f "$ALOG" ] && tail -n 20 "$ALOG" | sed 's/^/#   /'
	fi
	stop_all
done
exit $rc

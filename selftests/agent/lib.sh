# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
# Variables such as ELAPSED and STATE are for the sourcing test to read.
# shellcheck disable=SC2034
#
# Helpers of the agent tests, sourced by selftests/agent/run.sh and by the
# guest's end-to-end test selftests/kmod/agent_e2e.sh, with $O the build
# directory: a namespace per test, enginesim and peerwatchd started in it,
# the agent's state read through its SIGUSR1 dump, nft blackholes.
# Sourcing it sets an EXIT trap that stops what the test started.

PW=$O/peerwatchd
SIM=$O/enginesim
TMP=$(mktemp -d "${TMPDIR:-/tmp}/pwtest.XXXXXX")
PIDS=()
NETNS=()
NS=
ELAPSED=0

# Kill only what this suite started, by PID; remove only its namespaces.
# A test may set TEST_CLEANUP to a function that runs first.
stop_all() {
	local p

	if [ -n "${TEST_CLEANUP:-}" ]; then
		"$TEST_CLEANUP"
		TEST_CLEANUP=
	fi
	for p in "${PIDS[@]}"; do
		kill "$p" 2>/dev/null
	done
	for p in "${PIDS[@]}"; do
		for _ in $(seq 50); do
			kill -0 "$p" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	PIDS=()
	for p in "${NETNS[@]}"; do
		ip netns del "$p" 2>/dev/null
	done
	NETNS=()
}

cleanup() {
	stop_all
	rm -rf "$TMP"
}
trap cleanup EXIT

log() { echo "# $*"; }
fail() {
	echo "# FAIL: $*"
	return 1
}
now_ms() { echo $(($(date +%s%N) / 1000000)); }

# agent_diag: what a failed wait needs to be told apart, on one line each:
# the agent's run state and CPU time, the system call it waits in (for
# epoll_wait, its fourth number is the timeout the loop asked for: the
# next timer), the namespace's TCP sockets by state, the first engine not
# healthy in the last dump (a wait that timed out says only the counts),
# the counters of its /metrics that are not 0 (requests, errors, the
# loop's lag: whether timers fire), and what valgrind reported so far
# (it reports an error when it happens, not at exit).
agent_diag() {
	local st

	st=$(sed 's/.*) //' "/proc/$AGENT_PID/stat" 2>/dev/null) &&
		echo "#   agent: state ${st%% *}, CPU $(awk '{ print ($12 + $13) / 100 }' <<<"$st") s, in system call $(cut -d' ' -f1-5 "/proc/$AGENT_PID/syscall" 2>/dev/null)"
	[ -n "${NS:-}" ] &&
		echo "#   sockets: $(in_ns ss -tanH 2>/dev/null | awk '{ n[$1]++ } END { for (s in n) printf "%s %d ", s, n[s] }')"
	echo "#   first not healthy: $(jq -c '[.nodes[] | select(.state != "healthy")][0]' "$STATE" 2>/dev/null)"
	[ -S "${API:-}" ] &&
		echo "#   metrics: $(curl -sS --max-time 30 --unix-socket "$API" http://pw/metrics 2>&1 |
			grep -E '^peerwatch_(connections|engine_(requests|errors|transitions)_total|event_loop_lag_seconds_(count|sum))' |
			awk '$NF != 0' | tr '\n' ' ')"
	[ -s "${ALOG:-}.vg" ] && sed -n '1,40s/^/#   valgrind: /p' "$ALOG.vg"
	return 0
}

new_netns() {
	NS=pwt-$$-$1
	ip netns add "$NS" || return 1
	NETNS+=("$NS")
	ip -n "$NS" link set lo up
}

in_ns() { nsenter --net="/run/netns/$NS" -- "$@"; }

# spawn LOG CMD...: start CMD in the test's netns, in the background.
spawn() {
	local out=$1

	shift
	nsenter --net="/run/netns/$NS" -- "$@" >"$out" 2>&1 &
	LAST_PID=$!
	PIDS+=("$LAST_PID")
}

# start_sim N [ARGS...]: N engines from 127.1.0.1, control socket $CTL.
start_sim() {
	local n=$1

	shift
	CTL=$TMP/$NS.ctl
	spawn "$TMP/$NS.sim.log" "$SIM" --count "$n" --port 2375 --ctl "$CTL" \
		--quiet "$@"
	for _ in $(seq 100); do
		"$SIM" ctl "$CTL" stats >/dev/null 2>&1 && return 0
		sleep 0.05
	done
	fail "enginesim did not start: $(tail -n 3 "$TMP/$NS.sim.log")"
}

sim() { "$SIM" ctl "$CTL" "$@" >/dev/null || fail "enginesim ctl $*"; }

# wait_ready LOG: the agent logs its first line once its signals are set up.
wait_ready() {
	for _ in $(seq 300); do
		grep -q "peerwatchd: .* engines from" "$1" 2>/dev/null && return 0
		kill -0 "$AGENT_PID" 2>/dev/null || break
		sleep 0.05
	done
	fail "peerwatchd did not start: $(tail -n 3 "$1")"
}

# PW_VALGRIND=1: every agent a test starts runs under valgrind's memcheck;
# an error, or a definite or indirect leak at exit, fails the test (exit
# status 99, the report quoted from $ALOG.vg). Tests that measure speed or
# scale skip (valgrind_skip): the agent runs many times slower there.
VALGRIND=()
if [ -n "${PW_VALGRIND:-}" ]; then
	VALGRIND=(valgrind --quiet --error-exitcode=99 --leak-check=full
		"--show-leak-kinds=definite,indirect"
		"--errors-for-leak-kinds=definite,indirect")
fi

# pw ARGS...: peerwatchd in the foreground (bad flags, --help), under
# valgrind with PW_VALGRIND: its report on stderr, exit status 99.
pw() { ${VALGRIND[@]+"${VALGRIND[@]}"} "$PW" "$@"; }

# valgrind_skip WHAT: under PW_VALGRIND, say why the test skips; true then.
valgrind_skip() {
	[ -n "${PW_VALGRIND:-}" ] || return 1
	log "SKIP: under valgrind: $1"
}

# bound MS: a time bound of a test, with room for an instrumented agent.
# Timers fire on time under valgrind and ASan, but everything between two
# of them (reading, parsing, the state dump) runs 2 to 50 times slower, and
# more on two loaded cores: the bound grows by SLACK_MS there, so that what
# is asserted is the behaviour the bound stands for, not the instrument.
SLACK_MS=0
if [ -n "${PW_VALGRIND:-}" ]; then
	SLACK_MS=6000
elif ldd "$PW" 2>/dev/null | grep -q libasan; then
	SLACK_MS=2000
fi
bound() { echo $(($1 + SLACK_MS)); }

# cpu_bound MS: a bound on work the agent does (answers queued behind a
# thousand clients), not on a wait: it grows with the instrument's cost per
# instruction, about 3x under ASan (measured: api-abuse's probe 1.2 s to
# 3.6 s behind 1,000 clients), plus the slack above.
CPU_FACTOR=1
if [ -n "${PW_VALGRIND:-}" ]; then
	CPU_FACTOR=20
elif [ "$SLACK_MS" != 0 ]; then
	CPU_FACTOR=3
fi
cpu_bound() { echo $(($1 * CPU_FACTOR + SLACK_MS)); }

# valgrind_usable: for a test that starts valgrind itself: false, saying
# why, when it cannot (under PW_VALGRIND already, not installed, or an
# ASan build, which valgrind cannot run).
valgrind_usable() {
	valgrind_skip "every test of this run is under valgrind already" &&
		return 1
	if ! command -v valgrind >/dev/null; then
		log "SKIP: valgrind not installed"
		return 1
	fi
	if ldd "$PW" | grep -q libasan; then
		log "SKIP: $PW is an ASan build; valgrind runs on the plain build"
		return 1
	fi
}

# AGENT_WRAP: a command that start_agent runs the agent under (with_resolv).
AGENT_WRAP=()

# with_resolv FILE: the next agents see FILE as /etc/resolv.conf (a mount
# namespace of their own); with_resolv alone: the host's again.
with_resolv() {
	AGENT_WRAP=()
	[ $# -eq 0 ] && return
	# shellcheck disable=SC2016 # expanded by that shell, not this one
	AGENT_WRAP=(unshare -m sh -c 'mount --bind "$0" /etc/resolv.conf && exec "$@"' "$1")
}

# start_agent ARGS...: peerwatchd in the netns, state in $STATE, log $ALOG,
# control API on $API (a path of its own: the default one is the host's).
start_agent() {
	STATE=$TMP/$NS.state.json
	ALOG=$TMP/$NS.agent.log
	API=$TMP/$NS.api.sock
	# A second agent in the netns: wait_ready must not see the first's log.
	: >"$ALOG"
	rm -f "$ALOG.vg"
	spawn "$ALOG" ${AGENT_WRAP[@]+"${AGENT_WRAP[@]}"} \
		${VALGRIND[@]+"${VALGRIND[@]}" "--log-file=$ALOG.vg"} \
		"$PW" --state-file "$STATE" --api-socket "$API" \
		--summary-interval 0 "$@"
	AGENT_PID=$LAST_PID
	wait_ready "$ALOG"
}

# stop_agent: SIGTERM must stop it cleanly, without sanitizer or valgrind
# reports.
stop_agent() {
	local rc

	[ -n "${AGENT_PID:-}" ] || return 0
	kill -TERM "$AGENT_PID" 2>/dev/null
	wait "$AGENT_PID"
	rc=$?
	AGENT_PID=
	if [ "$rc" -eq 99 ] && [ -s "$ALOG.vg" ]; then
		fail "valgrind: $(grep -v '^==[0-9]*== *$' "$ALOG.vg" | head -n 12)"
		return 1
	fi
	[ "$rc" -eq 0 ] || fail "peerwatchd exited $rc on SIGTERM" || return 1
	if grep -q "Sanitizer\|runtime error" "$ALOG"; then
		fail "sanitizer: $(grep -m3 "Sanitizer\|runtime error" "$ALOG")"
	fi
}

# dump: a fresh state file, or failure if the agent does not write one.
dump() {
	rm -f "$STATE"
	kill -USR1 "$AGENT_PID" 2>/dev/null || return 1
	for _ in $(seq 500); do
		[ -s "$STATE" ] && return 0
		sleep 0.01
	done
	return 1
}

# poll_for MS PAUSE CMD...: run CMD every PAUSE seconds until it succeeds
# (0) or MS have passed (1); ELAPSED is how long it took, in ms.
poll_for() {
	local limit=$1 pause=$2 t0 t

	shift 2
	t0=$(now_ms)
	while :; do
		if "$@"; then
			ELAPSED=$(($(now_ms) - t0))
			return 0
		fi
		t=$(now_ms)
		if [ $((t - t0)) -ge "$limit" ]; then
			ELAPSED=$((t - t0))
			return 1
		fi
		sleep "$pause"
	done
}

# wait_until MS JQ_FILTER: poll the state until FILTER holds; ELAPSED (ms).
state_holds() { dump && jq -e "$1" "$STATE" >/dev/null 2>&1; }
wait_until() { poll_for "$1" 0.05 state_holds "$2"; }

# jq helpers on the last dump
q() { jq -r "$1" "$STATE"; }
node() { echo ".nodes[] | select(.addr == \"$1\")"; }
all_healthy() { echo "(.nodes | length) == $1 and ([.nodes[] | select(.state == \"healthy\")] | length) == $1"; }
# ... and each with its polling connection and its /events stream open.
all_settled() { echo "$(all_healthy "$1") and all(.nodes[]; .cookie > 0 and .events_cookie > 0)"; }
threads() { awk '/^Threads:/ { print $2 }' "/proc/$1/status"; }
# gone PID: PID runs no more: no such process, or a zombie. An orphan's
# zombie waits for PID 1, which may reap it seconds later (1.8 s measured
# in a container): kill -0 alone counts that wait as the process's.
gone() {
	local st

	st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null) || return 0
	[ "${st:0:1}" = Z ]
}
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }

# blackhole ADDR...: every packet to or from each, dropped from one instant
# (one nft transaction).
blackhole() {
	local a batch="add table inet pwt
add chain inet pwt input { type filter hook input priority 0; }"

	for a in "$@"; do
		batch+="
add rule inet pwt input ip daddr $a drop
add rule inet pwt input ip saddr $a drop"
	done
	in_ns nft -f - <<<"$batch"
}
unblackhole() { in_ns nft delete table inet pwt; }

# canary_age: ms since the canary engine's last listing, by the agent.
canary_age() {
	local r

	r=$(api /v1/nodes/127.1.0.1:2375 | jq -r '.refreshed |
		capture("(?<s>.*)\\.(?<ms>[0-9]+)Z") |
		(.s + "Z" | fromdate) * 1000 + (.ms | tonumber)' 2>/dev/null)
	[ -n "$r" ] && echo $(($(now_ms) - r))
}

# api_flood NAME PATH [N]: N x 250 clients of the control API at once
# (default 4: 1,000), each asking PATH (curl runs at most 300 transfers in
# one process); their HTTP codes in $TMP/NAME.codes.1 to .N, their PIDs
# added to PIDS and ABUSE.
api_flood() {
	local i

	seq 250 | sed "s|.*|url = \"http://pw$2\"\noutput = /dev/null|" >"$TMP/$1.cfg"
	for i in $(seq "${3:-4}"); do
		curl -s -Z --parallel-immediate --parallel-max 250 --max-time 30 \
			--unix-socket "$API" -K "$TMP/$1.cfg" -w '%{http_code}\n' \
			>"$TMP/$1.codes.$i" 2>/dev/null &
		PIDS+=($!)
		ABUSE+=($!)
	done
}

# summary_ms MAX_S: ms the control API took to answer /v1/summary, empty
# when it did not within MAX_S seconds.
summary_ms() {
	curl -s -o /dev/null -w '%{time_total}' --max-time "$1" \
		--unix-socket "$API" http://pw/v1/summary | awk '{ printf "%d", $1 * 1000 }'
}

# probe_api MS: for MS ms, what an operator sees meanwhile: the longest
# /v1/summary answer and the oldest canary listing, into the caller's
# max_lat and max_age (ms).
probe_api() {
	local t0 lat age

	t0=$(now_ms)
	while [ $(($(now_ms) - t0)) -lt "$1" ]; do
		lat=$(summary_ms 30)
		[ "${lat:-30000}" -gt "$max_lat" ] && max_lat=$lat
		age=$(canary_age)
		[ "${age:-99999}" -gt "$max_age" ] && max_age=$age
		sleep 0.2
	done
}

#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Host tests of peerwatchd:  selftests/agent/run.sh [BUILD_DIR]
#
# Each test creates its own network namespace with only lo up, and runs
# everything in it through nsenter --net (which, unlike ip netns exec,
# keeps the host's /sys and so its cgroups, which dockerd needs):
#
#   netns pwt-<pid>-<test>                                       lo only
#   +----------------------------------------------------------------+
#   |  enginesim, listening on 0.0.0.0:2375; engine i is 127.1.0.1+i  |
#   |      ^   one polling and one /events connection per engine     |
#   |      |                                                         |
#   |  peerwatchd --state-file S      (JSON state written on SIGUSR1) |
#   |                                                                |
#   |  blackhole E:  nft table inet pwt, chain input (hook input):    |
#   |                ip daddr E drop; ip saddr E drop                 |
#   |  Both directions, as a dead host: on lo every packet passes     |
#   |  the input hook, the agent's towards E and E's towards it.      |
#   +----------------------------------------------------------------+
#
# Deadlines are measured, not slept: each wait polls the state dump and
# records how long it took. Timeouts are shortened to keep the suite
# quick (e.g. --user-timeout 3s instead of 20s); each test says which.
set -u
cd "$(dirname "$0")/../.." || exit 1
O=${1:-build}
# shellcheck source=scripts/suite.sh
. scripts/suite.sh

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

# start_agent ARGS...: peerwatchd in the netns, state in $STATE, log $ALOG,
# control API on $API (a path of its own: the default one is the host's).
start_agent() {
	STATE=$TMP/$NS.state.json
	ALOG=$TMP/$NS.agent.log
	API=$TMP/$NS.api.sock
	spawn "$ALOG" "$PW" --state-file "$STATE" --api-socket "$API" \
		--summary-interval 0 "$@"
	AGENT_PID=$LAST_PID
	wait_ready "$ALOG"
}

# stop_agent: SIGTERM must stop it cleanly, without sanitizer reports.
stop_agent() {
	local rc

	[ -n "${AGENT_PID:-}" ] || return 0
	kill -TERM "$AGENT_PID" 2>/dev/null
	wait "$AGENT_PID"
	rc=$?
	AGENT_PID=
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

# wait_until MS JQ_FILTER: poll the state until FILTER holds; ELAPSED (ms).
wait_until() {
	local limit=$1 filter=$2 t0 t

	t0=$(now_ms)
	while :; do
		if dump && jq -e "$filter" "$STATE" >/dev/null 2>&1; then
			ELAPSED=$(($(now_ms) - t0))
			return 0
		fi
		t=$(now_ms)
		if [ $((t - t0)) -ge "$limit" ]; then
			ELAPSED=$((t - t0))
			return 1
		fi
		sleep 0.05
	done
}

# jq helpers on the last dump
q() { jq -r "$1" "$STATE"; }
node() { echo ".nodes[] | select(.addr == \"$1\")"; }
all_healthy() { echo "(.nodes | length) == $1 and ([.nodes[] | select(.state == \"healthy\")] | length) == $1"; }
# ... and each with its polling connection and its /events stream open.
all_settled() { echo "$(all_healthy "$1") and all(.nodes[]; .cookie > 0 and .events_cookie > 0)"; }
threads() { awk '/^Threads:/ { print $2 }' "/proc/$1/status"; }
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }

blackhole() {
	in_ns nft add table inet pwt &&
		in_ns nft add chain inet pwt input '{ type filter hook input priority 0; }' &&
		in_ns nft add rule inet pwt input ip daddr "$1" drop &&
		in_ns nft add rule inet pwt input ip saddr "$1" drop
}
unblackhole() { in_ns nft delete table inet pwt; }

# Bad flags fail at once, with a message and exit status 2.
test_flags() {
	local args rc out

	for args in "--request-timeout 5x --engine 127.0.0.1:1" \
		"--engine-failure-retry 0 --engine 127.0.0.1:1" \
		"--user-timeout 2h --engine 127.0.0.1:1" \
		"--max-body 12 --engine 127.0.0.1:1" \
		"--engine-refresh-min-interval 10s --engine-refresh-max-interval 5s --engine 127.0.0.1:1" \
		"--engine nohostport" "--engine [::1]" "ftp://x:1" "--bogus" ""; do
		# shellcheck disable=SC2086
		out=$("$PW" $args 2>&1)
		rc=$?
		[ "$rc" -eq 2 ] || fail "'$args': exit $rc, want 2" || return 1
		case $out in
		peerwatchd:*) ;;
		*) fail "'$args': no message: $out" || return 1 ;;
		esac
	done
	"$PW" --help | grep -q -- --user-timeout || fail "--help" || return 1
	log "10 bad command lines: exit 2 with a message each"
}

# 2,000 engines reach healthy; the thread count does not grow with them.
test_scale() {
	local t10 t2000 file=$TMP/scale.engines

	new_netns scale || return 1
	start_sim 2000 || return 1
	start_agent --no-events "nodes://127.1.0.[1:10]:2375" || return 1
	wait_until 10000 "$(all_healthy 10)" ||
		fail "10 engines not healthy: $(q '.states')" || return 1
	[ "$(q .connections)" = 10 ] ||
		fail "--no-events: $(q .connections) connections, want 10" || return 1
	t10=$(threads "$AGENT_PID")
	stop_agent || return 1
	# 127.1.0.1 + 1999 = 127.1.7.208
	printf '%s\n' "# 2,000 engines" "127.1.0.[1:255]:2375" \
		"127.1.[1:6].[0:255]:2375" "127.1.7.[0:208]:2375" >"$file"
	start_agent "file://$file" || return 1
	wait_until 60000 "$(all_healthy 2000)" ||
		fail "2000 engines: $(q '.states')" || return 1
	t2000=$(threads "$AGENT_PID")
	log "2000 engines healthy after ${ELAPSED} ms, $(q .connections) connections, RSS $(rss_kb "$AGENT_PID") KiB"
	log "threads: $t10 with 10 engines (--no-events: 10 connections), $t2000 with 2000"
	[ "$t10" = "$t2000" ] || fail "thread count grew: $t10 -> $t2000"
}

# A blackholed engine is down within the user timeout + 2 s.
# Shortened: --user-timeout 3s, keepalive 1s/1s, refresh 1-2s, backoff <= 2s.
test_blackhole() {
	local e=127.1.0.5:2375

	new_netns blackhole || return 1
	start_sim 20 || return 1
	start_agent --user-timeout 3s --keepalive-idle 1s --keepalive-interval 1s \
		--engine-refresh-min-interval 1s --engine-refresh-max-interval 2s \
		--backoff-max 2s "nodes://127.1.0.[1:20]:2375" || return 1
	wait_until 10000 "$(all_healthy 20)" || fail "not healthy" || return 1
	blackhole 127.1.0.5 || fail "nft" || return 1
	wait_until 8000 "$(node $e).state == \"down\"" ||
		fail "blackholed engine not down after ${ELAPSED} ms" || return 1
	log "blackholed engine down after ${ELAPSED} ms (bound 5000: user timeout 3s + 2s), cause $(q "$(node $e).cause")"
	[ "$ELAPSED" -le 5000 ] || fail "too slow" || return 1
	[ "$(q "$(node $e).cause")" = user-timeout ] ||
		fail "cause $(q "$(node $e).cause"), want user-timeout" || return 1
	[ "$(q '.states.healthy')" = 19 ] || fail "others: $(q .states)" || return 1
	unblackhole
	wait_until 10000 "$(node $e).state == \"healthy\"" ||
		fail "not back after ${ELAPSED} ms" || return 1
	log "healthy again ${ELAPSED} ms after the blackhole was lifted"
}

# A frozen engine (accepts, never answers) is unhealthy within
# request timeout x failure retry + slack; slack (3 s) = the refresh
# interval (1 s) before the first request, backoff between tries
# (<= 0.25 + 0.5 s), polling the state and scheduling on a busy host.
# Shortened: --request-timeout 1s, --engine-failure-retry 3.
test_freeze() {
	local e=127.1.0.7:2375

	new_netns freeze || return 1
	start_sim 20 || return 1
	start_agent --request-timeout 1s --engine-failure-retry 3 \
		--engine-refresh-min-interval 1s --engine-refresh-max-interval 1s \
		--backoff-max 2s "nodes://127.1.0.[1:20]:2375" || return 1
	wait_until 10000 "$(all_healthy 20)" || fail "not healthy" || return 1
	sim fault 127.1.0.7 freeze || return 1
	wait_until 10000 "$(node $e).state == \"unhealthy\"" ||
		fail "frozen engine not unhealthy after ${ELAPSED} ms" || return 1
	log "frozen engine unhealthy after ${ELAPSED} ms (bound 6000: 1s x 3 + 3s slack), cause $(q "$(node $e).cause"), failures $(q "$(node $e).failures")"
	[ "$ELAPSED" -le 6000 ] || fail "too slow" || return 1
	[ "$(q "$(node $e).cause")" = deadline ] || fail "cause" || return 1
	[ "$(q '.states.healthy')" = 19 ] || fail "others: $(q .states)" || return 1
	sim clear 127.1.0.7 || return 1
	wait_until 10000 "$(node $e).state == \"healthy\"" ||
		fail "not back after ${ELAPSED} ms" || return 1
	log "healthy again ${ELAPSED} ms after the freeze was lifted"
}

# A reset engine is down at once; it comes back when the fault is lifted.
test_reset() {
	local e=127.1.0.9:2375

	new_netns reset || return 1
	start_sim 20 || return 1
	start_agent --engine-refresh-min-interval 1s --engine-refresh-max-interval 2s \
		--backoff-max 2s --summary-interval 300ms "nodes://127.1.0.[1:20]:2375" || return 1
	wait_until 10000 "$(all_healthy 20)" || fail "not healthy" || return 1
	sim fault 127.1.0.9 reset || return 1
	wait_until 5000 "$(node $e).state == \"down\"" ||
		fail "reset engine not down after ${ELAPSED} ms" || return 1
	log "reset engine down after ${ELAPSED} ms (bound 1000), cause $(q "$(node $e).cause")"
	[ "$ELAPSED" -le 1000 ] || fail "not at once" || return 1
	[ "$(q "$(node $e).cause")" = reset ] || fail "cause" || return 1
	[ "$(q '.errors_by_cause.reset')" -ge 1 ] || fail "errors by cause: $(q '.errors_by_cause')" || return 1
	[ "$(q '.states.healthy')" = 19 ] || fail "others: $(q .states)" || return 1
	sleep 0.7
	grep -q "engines 20: pending 0 healthy 19 suspect 0 unhealthy 0 down 1 | connections 3[89] | [0-9.]* req/s | errors" "$ALOG" ||
		fail "no summary line with the down engine" || return 1
	log "summary: $(grep -m1 "healthy 19 .* down 1" "$ALOG" | sed 's/.*info: //')"
	sim clear 127.1.0.9 || return 1
	wait_until 10000 "$(node $e).state == \"healthy\"" ||
		fail "not back after ${ELAPSED} ms" || return 1
	log "healthy again ${ELAPSED} ms after the reset was lifted (backoff <= 2s)"
}

# A malformed or oversized response closes that engine's connection only:
# every other engine keeps its connections (same cookies) and keeps polling.
test_bad_responses() {
	local m=127.1.0.3:2375 o=127.1.0.4:2375 before after mark others

	new_netns badresp || return 1
	start_sim 20 || return 1
	start_agent --engine-refresh-min-interval 1s --engine-refresh-max-interval 1s \
		--max-body 64KiB --backoff-max 2s "nodes://127.1.0.[1:20]:2375" || return 1
	wait_until 10000 "$(all_settled 20)" || fail "not healthy" || return 1
	others="[.nodes[] | select(.addr != \"$m\" and .addr != \"$o\")]"
	before=$(q "$others | map(\"\(.addr) \(.cookie) \(.events_cookie)\") | join(\",\")")
	sim fault 127.1.0.3 malformed || return 1
	sim fault 127.1.0.4 oversized 1M || return 1
	wait_until 10000 "($(node $m).state == \"unhealthy\") and ($(node $o).state == \"unhealthy\")" ||
		fail "states: $(q "$(node $m).state") $(q "$(node $o).state")" || return 1
	log "malformed: $(q "$(node $m).cause"): $(q "$(node $m).error")"
	log "oversized: $(q "$(node $o).cause"): $(q "$(node $o).error")"
	[ "$(q "$(node $m).cause")" = protocol ] || fail "malformed cause" || return 1
	[ "$(q "$(node $o).cause")" = protocol ] || fail "oversized cause" || return 1
	grep -q "engine $m: protocol" "$ALOG" || fail "no error logged for $m" || return 1
	mark=$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ)
	wait_until 5000 "$others | all(.state == \"healthy\" and .refreshed > \"$mark\")" ||
		fail "the others stopped polling" || return 1
	after=$(q "$others | map(\"\(.addr) \(.cookie) \(.events_cookie)\") | join(\",\")")
	[ "$before" = "$after" ] ||
		fail "other engines' connections changed: $(diff <(echo "$before" | tr ',' '\n') <(echo "$after" | tr ',' '\n') | grep '^[<>]' | tr '\n' ' ')" ||
		return 1
	log "18 other engines: same connections, all refreshed again within ${ELAPSED} ms"
	sim clear all || return 1
	wait_until 10000 "$(all_healthy 20)" || fail "not back" || return 1
	log "both healthy again ${ELAPSED} ms after the faults were lifted"
}

# A daemon that closes its connections after every answer, or after two,
# without saying so (no Connection: close), is no failing engine: each
# request that met a closed connection goes again on a new one.
test_close_after() {
	local a=127.1.0.2:2375 b=127.1.0.3:2375 mark

	new_netns closeafter || return 1
	start_sim 5 || return 1
	start_agent --engine-refresh-min-interval 500ms \
		--engine-refresh-max-interval 500ms "nodes://127.1.0.[1:5]:2375" || return 1
	wait_until 10000 "$(all_healthy 5)" || fail "not healthy" || return 1
	sim fault 127.1.0.2 close-after 1 || return 1
	sim fault 127.1.0.3 close-after 2 || return 1
	mark=$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ)
	sleep 3
	wait_until 3000 "[($(node $a)), ($(node $b))] | all(.state == \"healthy\" and .failures == 0 and .refreshed > \"$mark\")" ||
		fail "$(q "[($(node $a)), ($(node $b))] | map({addr, state, failures, error})")" || return 1
	! grep -q "warn: engine \($a\|$b\)" "$ALOG" ||
		fail "errors logged: $(grep -m2 "warn: engine \($a\|$b\)" "$ALOG")" || return 1
	log "close-after 1 and 2: healthy, no failure, still refreshed every 0.5 s ($(q "$(node $a).requests") and $(q "$(node $b).requests") requests)"
}

# An engine whose ID changes (a reinstalled daemon at the same address)
# goes back to pending, then healthy with its new identity.
# Shortened: --engine-info-interval 1s instead of 5m.
test_id_change() {
	local e=127.1.0.2:2375 old new

	new_netns idchange || return 1
	start_sim 5 || return 1
	start_agent --engine-info-interval 1s --engine-refresh-min-interval 1s \
		--engine-refresh-max-interval 1s "nodes://127.1.0.[1:5]:2375" || return 1
	wait_until 10000 "$(all_healthy 5)" || fail "not healthy" || return 1
	old=$(q "$(node $e).id")
	sim fault 127.1.0.2 id-change || return 1
	wait_until 5000 "$(node $e) | .state == \"healthy\" and .id != \"$old\"" ||
		fail "ID change not seen" || return 1
	new=$(q "$(node $e).id")
	grep -q "engine $e: healthy -> pending (id-change: ID" "$ALOG" ||
		fail "no pending transition logged" || return 1
	grep -q "engine $e: pending -> healthy" "$ALOG" || fail "not healthy" || return 1
	log "ID $old -> $new: pending, then healthy after ${ELAPSED} ms"
	[ "$(q '.states.healthy')" = 5 ] || fail "others: $(q .states)"
}

# A discovery reload (SIGHUP, then the periodic one) adds and removes
# engines without touching the others; bad lines are reported and skipped.
test_reload() {
	local f=$TMP/reload.engines kept before after

	new_netns reload || return 1
	start_sim 20 || return 1
	printf '%s\n' "# engines" "127.1.0.[1:10]:2375" "127.1.0.300:2375" \
		"not an address" "127.1.0.[9:2]:2375  # backwards" >"$f"
	start_agent --discovery-interval 3s "file://$f" || return 1
	wait_until 10000 "$(all_settled 10)" || fail "not healthy" || return 1
	grep -q "$f:3: bad IPv4 address" "$ALOG" || fail "line 3 not reported" || return 1
	grep -q "$f:4: " "$ALOG" || fail "line 4 not reported" || return 1
	grep -q "$f:5: range goes backwards" "$ALOG" || fail "line 5 not reported" || return 1
	sleep 3.5
	[ "$(grep -c "discovery: $f:" "$ALOG")" = 3 ] ||
		fail "bad lines of an unchanged file reported again" || return 1
	log "3 bad lines reported once, with file:line, the other 10 engines loaded"
	kept="[.nodes[] | select(.addr | test(\"^127\\\\.1\\\\.0\\\\.([3-9]|10):\"))]"
	before=$(q "$kept | map(\"\(.addr) \(.cookie) \(.events_cookie)\") | join(\",\")")
	printf '%s\n' "127.1.0.[3:13]:2375" >"$f"
	kill -HUP "$AGENT_PID"
	wait_until 5000 "$(all_settled 11)" || fail "SIGHUP: $(q .states)" || return 1
	log "SIGHUP: 2 removed, 3 added and healthy after ${ELAPSED} ms"
	after=$(q "$kept | map(\"\(.addr) \(.cookie) \(.events_cookie)\") | join(\",\")")
	[ "$before" = "$after" ] || fail "kept engines were touched" || return 1
	[ "$(echo "$before" | tr ',' '\n' | grep -c ' [1-9][0-9]* [1-9]')" = 8 ] ||
		fail "cookies missing: $before" || return 1
	grep -q "engine 127.1.0.1:2375: healthy -> removed" "$ALOG" ||
		fail "removal not logged" || return 1
	printf '%s\n' "127.1.0.[3:14]:2375" >"$f"
	wait_until 5000 "$(all_healthy 12)" || fail "periodic: $(q .states)" || return 1
	log "periodic reload (3s): 1 added after ${ELAPSED} ms"
	after=$(q "$kept | map(\"\(.addr) \(.cookie) \(.events_cookie)\") | join(\",\")")
	[ "$before" = "$after" ] || fail "kept engines were touched" || return 1
	log "8 kept engines: same connection cookies throughout"
}

# Real dockerd, reached three ways (IPv4, IPv6, a host name resolved by
# c-ares): healthy, containers listed, and a container started with
# docker run shows up through /events within 1 s.
DOCKER_DIR=
dk() { docker -H "unix://$DOCKER_DIR/sock" "$@"; }
dockerd_cleanup() {
	local m

	dk rm -f pw-before pw-after >/dev/null 2>&1
	[ -f "$DOCKER_DIR/pid" ] && kill "$(cat "$DOCKER_DIR/pid")" 2>/dev/null
	for _ in $(seq 150); do
		[ -f "$DOCKER_DIR/pid" ] || break
		kill -0 "$(cat "$DOCKER_DIR/pid")" 2>/dev/null || break
		sleep 0.1
	done
	# dockerd mounts in the host's mount namespace: leave none behind.
	grep -o " $DOCKER_DIR/[^ ]*" /proc/mounts | sort -r | while read -r m; do
		umount -l "$m"
	done
}

test_dockerd() {
	local d=$TMP/docker t0 id seen started e4=127.0.0.1:2377 e6='[::1]:2377' en=localhost:2377
	local all

	if ! command -v dockerd >/dev/null || ! command -v docker >/dev/null; then
		log "SKIP: dockerd or docker not installed"
		return 4
	fi
	new_netns dockerd || return 1
	DOCKER_DIR=$d
	mkdir -p "$d/data" "$d/exec" "$d/img/bin"
	TEST_CLEANUP=dockerd_cleanup
	spawn "$d/dockerd.log" dockerd -H "tcp://$e4" -H "tcp://$e6" \
		-H "unix://$d/sock" --iptables=false --ip6tables=false \
		--bridge=none --storage-driver=vfs --data-root "$d/data" \
		--exec-root "$d/exec" -p "$d/pid"
	for _ in $(seq 100); do
		dk version >/dev/null 2>&1 && break
		kill -0 "$LAST_PID" 2>/dev/null || break
		sleep 0.2
	done
	if ! dk version >/dev/null 2>&1; then
		log "SKIP: dockerd cannot start here: $(grep -m1 -i 'failed\|error' "$d/dockerd.log")"
		return 4
	fi
	cp "$(command -v busybox)" "$d/img/bin/busybox" || return 1
	tar -C "$d/img" -c . | dk import - pwtest:latest >/dev/null ||
		fail "docker import" || return 1
	dk run -d --name pw-before --network none pwtest:latest /bin/busybox sleep 60 >/dev/null ||
		fail "docker run" || return 1
	start_agent --engine "$e4" --engine "$e6" --engine "$en" || return 1
	all='[.nodes[] | select(.state == "healthy" and (.containers | map(.name) | index("pw-before") != null))] | length == 3'
	wait_until 10000 "$all" ||
		fail "dockerd engines: $(q '[.nodes[] | {addr, state, error}]' 2>/dev/null)" || return 1
	log "dockerd $(q "$(node $e4).server_version") healthy via $e4, $e6 and $en; $(q "$(node $e4).containers | length") container(s) listed"
	t0=$(now_ms)
	id=$(dk run -d --name pw-after --network none pwtest:latest /bin/busybox sleep 60) ||
		fail "docker run" || return 1
	wait_until 3000 "[.nodes[].containers[] | select(.id == \"$id\" and .state == \"running\")] | length == 3" ||
		fail "container not seen" || return 1
	seen=$(now_ms)
	# From the start as dockerd recorded it, on this same clock.
	started=$(date -d "$(dk inspect -f '{{.State.StartedAt}}' "$id")" +%s%3N) ||
		fail "docker inspect" || return 1
	log "container started by docker run seen on all three $((seen - started)) ms after it started ($((seen - t0)) ms after docker run was called)"
	[ $((seen - started)) -le 1000 ] || fail "slower than 1s"
}

# A short run under valgrind, through connects, faults and reconnects.
test_valgrind() {
	local vlog=$TMP/valgrind.log rc

	if ! command -v valgrind >/dev/null; then
		log "SKIP: valgrind not installed"
		return 4
	fi
	if ldd "$PW" | grep -q libasan; then
		log "SKIP: $PW is an ASan build; valgrind runs on the plain build"
		return 4
	fi
	new_netns valgrind || return 1
	start_sim 20 --events-interval 300ms || return 1
	STATE=$TMP/$NS.state.json
	spawn "$TMP/valgrind.agent.log" valgrind --leak-check=full \
		--error-exitcode=1 --log-file="$vlog" "$PW" --state-file "$STATE" \
		--api-socket "$TMP/$NS.api.sock" \
		--summary-interval 1s --request-timeout 1s \
		--engine-refresh-min-interval 200ms --engine-refresh-max-interval 500ms \
		--backoff-max 1s "nodes://127.1.0.[1:20]:2375"
	AGENT_PID=$LAST_PID
	wait_ready "$TMP/valgrind.agent.log" || return 1
	wait_until 30000 "[.nodes[] | select(.state == \"healthy\")] | length == 20" ||
		fail "not healthy under valgrind" || return 1
	sim fault 127.1.0.2 reset && sim fault 127.1.0.3 malformed &&
		sim fault 127.1.0.4 freeze && sim fault 127.1.0.5 oversized 100M &&
		sim fault 127.1.0.6 close-after 2 && sim fault 127.1.0.7 id-change ||
		return 1
	sleep 3
	sim clear all || return 1
	sleep 2
	kill -TERM "$AGENT_PID"
	wait "$AGENT_PID"
	rc=$?
	AGENT_PID=
	log "$(grep -m1 'ERROR SUMMARY' "$vlog" | sed 's/^==[0-9]*== //')"
	log "$(grep -m1 'definitely lost\|no leaks are possible' "$vlog" | sed 's/^==[0-9]*== //')"
	[ "$rc" -eq 0 ] || fail "valgrind exit $rc (see $vlog)" || return 1
}

run_test() {
	local name=$1 rc t0

	shift
	# PW_TESTS="a b" runs only those (for development).
	case " ${PW_TESTS:-$name} " in
	*" $name "*) ;;
	*) return 0 ;;
	esac
	echo "# ---- $name"
	t0=$SECONDS
	AGENT_PID=
	"$@" && stop_agent
	rc=$?
	stop_all
	case $rc in
	0) suite_record "$name" pass; log "ok $name ($((SECONDS - t0))s)" ;;
	4) suite_record "$name" skip ;;
	*)
		suite_record "$name" fail
		[ -n "${ALOG:-}" ] && [ -f "$ALOG" ] && tail -n 20 "$ALOG" | sed 's/^/#   /'
		;;
	esac
	ALOG=
}

if [ "$(id -u)" -ne 0 ] || ! command -v nft >/dev/null || ! command -v jq >/dev/null; then
	log "SKIP: the host tests need root, nft and jq"
	suite_record all skip
	suite_end host
	exit
fi
if [ ! -x "$PW" ] || [ ! -x "$SIM" ]; then
	log "FAIL: build $PW and $SIM first"
	suite_record build fail
	suite_end host
	exit
fi

# shellcheck source=selftests/agent/api.sh
. selftests/agent/api.sh

run_test flags test_flags
run_test scale test_scale
run_test blackhole test_blackhole
run_test freeze test_freeze
run_test reset test_reset
run_test bad-responses test_bad_responses
run_test close-after test_close_after
run_test id-change test_id_change
run_test reload test_reload
run_test dockerd test_dockerd
run_test valgrind test_valgrind
run_test api-endpoints test_api_endpoints
run_test api-abuse test_api_abuse
run_test api-slow-reader test_api_slow_reader
suite_end host

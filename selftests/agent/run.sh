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
#
# PW_VALGRIND=1 runs every agent under valgrind's memcheck (lib.sh); a
# memory error or leak fails its test, and the tests that measure speed
# or scale skip, saying so. make check runs the suite both ways.
set -u
cd "$(dirname "$0")/../.." || exit 1
O=${1:-build}
# shellcheck source=scripts/suite.sh
. scripts/suite.sh

# shellcheck source=selftests/agent/lib.sh
. selftests/agent/lib.sh

# Bad flags fail at once, with a message and exit status 2.
test_flags() {
	local args rc out

	for args in "--request-timeout 5x --engine 127.0.0.1:1" \
		"--engine-failure-retry 0 --engine 127.0.0.1:1" \
		"--user-timeout 2h --engine 127.0.0.1:1" \
		"--max-body 12 --engine 127.0.0.1:1" \
		"--ping-interval 50ms --engine 127.0.0.1:1" \
		"--ping-timeout 0 --engine 127.0.0.1:1" \
		"--engine-refresh-min-interval 10s --engine-refresh-max-interval 5s --engine 127.0.0.1:1" \
		"--engine nohostport" "--engine [::1]" "ftp://x:1" "--bogus" ""; do
		# shellcheck disable=SC2086
		out=$(pw $args 2>&1)
		rc=$?
		[ "$rc" -eq 2 ] || fail "'$args': exit $rc, want 2" || return 1
		case $out in
		peerwatchd:*) ;;
		*) fail "'$args': no message: $out" || return 1 ;;
		esac
	done
	pw --help | grep -q -- --user-timeout || fail "--help" || return 1
	log "12 bad command lines: exit 2 with a message each"
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
# The refresh fails first (deadline), then the pings of the new
# connections: the cause is the last one's, ping-timeout.
# Shortened: --request-timeout 1s, --engine-failure-retry 3; no idle
# ping (--ping-interval 0): this is the refresh's own detection.
test_freeze() {
	local e=127.1.0.7:2375

	new_netns freeze || return 1
	start_sim 20 || return 1
	start_agent --request-timeout 1s --engine-failure-retry 3 \
		--engine-refresh-min-interval 1s --engine-refresh-max-interval 1s \
		--ping-interval 0 \
		--backoff-max 2s "nodes://127.1.0.[1:20]:2375" || return 1
	wait_until 10000 "$(all_healthy 20)" || fail "not healthy" || return 1
	sim fault 127.1.0.7 freeze || return 1
	wait_until 10000 "$(node $e).state == \"unhealthy\"" ||
		fail "frozen engine not unhealthy after ${ELAPSED} ms" || return 1
	log "frozen engine unhealthy after ${ELAPSED} ms (bound 6000: 1s x 3 + 3s slack), cause $(q "$(node $e).cause"), failures $(q "$(node $e).failures")"
	[ "$ELAPSED" -le 6000 ] || fail "too slow" || return 1
	[ "$(q "$(node $e).cause")" = ping-timeout ] || fail "cause" || return 1
	[ "$(q '.states.healthy')" = 19 ] || fail "others: $(q .states)" || return 1
	sim clear 127.1.0.7 || return 1
	wait_until 10000 "$(node $e).state == \"healthy\"" ||
		fail "not back after ${ELAPSED} ms" || return 1
	log "healthy again ${ELAPSED} ms after the freeze was lifted"
}

# ms_of JQ_PATH: a time of the last dump ("2026-01-02T03:04:05.678Z"), in ms.
ms_of() { q "$1 | (.[0:19] + \"Z\" | fromdate) * 1000 + (.[20:23] | tonumber)"; }

# Frozen between refreshes: with the default refresh (30-60 s) nothing is
# asked of 5 frozen engines of 50 for half a minute, but their idle
# polling connections are pinged every second. Each is unhealthy
# (ping-timeout) within the stated bound, --ping-interval +
# --ping-timeout x --engine-failure-retry + backoff (0.25 + 0.5 s) =
# 4.75 s, + 3 s of margin for a loaded host (bound 7.75 s), measured from
# the freeze to its transition; the other 45 stay healthy. Every ping has
# its own deadline: --request-timeout stays at its 10 s (with it, 33 s).
# Cleared, each is healthy again within --backoff-max (2 s) + a refresh +
# margin (10 s).
# Shortened: --ping-interval 1s --ping-timeout 1s, --backoff-max 2s.
test_freeze_ping() {
	local t0 i a since lat lats="" bound=7750 pings errs

	new_netns fzping || return 1
	start_sim 50 || return 1
	start_agent --ping-interval 1s --ping-timeout 1s \
		--engine-failure-retry 3 --backoff-max 2s \
		"nodes://127.1.0.[1:50]:2375" || return 1
	wait_until 20000 "$(all_settled 50)" || fail "not healthy: $(q .states)" || return 1
	# Idle for more than a ping interval: every connection pinged once.
	sleep 2
	t0=$(now_ms)
	sim fault 127.1.0.11-127.1.0.15 freeze || return 1
	wait_until 20000 "[.nodes[] | select(.state == \"unhealthy\")] | length == 5" ||
		fail "frozen engines not unhealthy after ${ELAPSED} ms: $(q .states)" || return 1
	[ "$(q '.states.healthy')" = 45 ] || fail "others: $(q .states)" || return 1
	for i in 11 12 13 14 15; do
		a=127.1.0.$i:2375
		[ "$(q "$(node $a).state")" = unhealthy ] || fail "$a: $(q "$(node $a) | {state, cause}")" || return 1
		[ "$(q "$(node $a).cause")" = ping-timeout ] ||
			fail "$a: cause $(q "$(node $a) | {cause, error}"), want ping-timeout" || return 1
		since=$(ms_of "$(node $a).since") || return 1
		lat=$((since - t0))
		lats="$lats$lat
"
		[ "$lat" -le "$bound" ] || fail "$a unhealthy after $lat ms, bound $bound" || return 1
	done
	log "5 frozen engines of 50 unhealthy (ping-timeout) after$(printf '%s' "$lats" | sort -n | awk 'NF { v[n++] = $1 } END { printf " min %d / median %d / max %d", v[0], v[int(n / 2)], v[n - 1] }') ms from the freeze (bound $bound: 1s + 1s x 3 + 0.75s + 3s margin; --request-timeout 10s); 45 healthy"
	api /metrics >"$TMP/metrics.txt" || fail "metrics" || return 1
	pings=$(awk '$1 == "peerwatch_engine_pings_total" { print $2 }' "$TMP/metrics.txt")
	errs=$(awk '$1 == "peerwatch_engine_errors_total{cause=\"ping-timeout\"}" { print $2 }' "$TMP/metrics.txt")
	# Each of the 50 pinged at least once while idle; 5 x 3 pings failed.
	[ "${pings:-0}" -ge 50 ] && [ "${errs:-0}" -ge 15 ] ||
		fail "/metrics: $pings pings, $errs ping-timeout errors" || return 1
	sim clear 127.1.0.11-127.1.0.15 || return 1
	wait_until 10000 "$(all_healthy 50)" ||
		fail "not back after ${ELAPSED} ms: $(q .states)" || return 1
	log "healthy again ${ELAPSED} ms after the freeze was lifted (bound 10000); /metrics: $pings pings, $errs ping-timeout errors"
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

	dk rm -f pw-before pw-after pw-events >/dev/null 2>&1
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

# start_dockerd DIR HOST...: a real dockerd in the test's netns, listening
# on each HOST and on unix://DIR/sock, all its state under DIR, with the
# image pwtest:latest (a static busybox, imported: there is no registry).
# Returns 4 (skip) when dockerd is missing or cannot run here.
start_dockerd() {
	local d=$1 h hosts=()

	shift
	if ! command -v dockerd >/dev/null || ! command -v docker >/dev/null; then
		log "SKIP: dockerd or docker not installed"
		return 4
	fi
	DOCKER_DIR=$d
	mkdir -p "$d/data" "$d/exec" "$d/img/bin"
	TEST_CLEANUP=dockerd_cleanup
	for h in "$@"; do
		hosts+=(-H "$h")
	done
	spawn "$d/dockerd.log" dockerd "${hosts[@]}" \
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
}

test_dockerd() {
	local d=$TMP/docker t0 id seen started e4=127.0.0.1:2377 e6='[::1]:2377' en=localhost:2377
	local all

	new_netns dockerd || return 1
	start_dockerd "$d" "tcp://$e4" "tcp://$e6" || return $?
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
	[ $((seen - started)) -le 1000 ] || fail "slower than 1s" || return 1
	dockerd_late_ping "$d" "$e4"
}

# dockerd_late_ping DIR ENGINE: dockerd stopped (SIGSTOP) for 1 s, so its
# answer is late: the agent pipelines a /_ping behind the request, and Go's
# server answers both, in order, on the same connection, once it runs again.
dockerd_late_ping() {
	local pid cookie pings errors r0 r1

	stop_agent || return 1
	start_agent --engine "$2" --late-ping 50ms --engine-refresh-min-interval 200ms \
		--engine-refresh-max-interval 200ms || return 1
	wait_until 10000 "$(all_settled 1)" ||
		fail "dockerd: $(q '.nodes[0] | {state, error}')" || return 1
	cookie=$(q '.nodes[0].cookie')
	pid=$(cat "$1/pid") || return 1
	kill -STOP "$pid"
	sleep 1
	kill -CONT "$pid"
	sleep 1
	dump || fail "dump" || return 1
	api /metrics >"$TMP/metrics.txt" || fail "metrics" || return 1
	pings=$(awk '$1 == "peerwatch_engine_late_pings_total" { print $2 }' "$TMP/metrics.txt")
	errors=$(awk '$1 ~ /^peerwatch_engine_errors_total/ { n += $2 } END { print n + 0 }' "$TMP/metrics.txt")
	# Polling goes on: the ping's answer was read, not still awaited.
	r0=$(api /metrics | awk '$1 == "peerwatch_engine_requests_total" { print $2 }')
	sleep 1
	r1=$(api /metrics | awk '$1 == "peerwatch_engine_requests_total" { print $2 }')
	[ $((r1 - r0)) -ge 2 ] || fail "no polling after the late answers: $r0 -> $r1 requests" || return 1
	[ "${pings:-0}" -ge 1 ] && [ "$errors" = 0 ] &&
		[ "$(q '.nodes[0].state')" = healthy ] &&
		[ "$(q '.nodes[0].cookie')" = "$cookie" ] ||
		fail "late ping against dockerd: $pings pings, $errors errors, $(q '.nodes[0] | {state, cookie, error}') (cookie was $cookie)" ||
		return 1
	log "dockerd stopped for 1 s: $pings ping(s) pipelined behind late answers, both answered in order on the same connection, no error; $((r1 - r0)) requests in the next second"
}

# A short run under valgrind, through connects, faults and reconnects,
# idle pings (every 100 ms) between the refreshes.
test_valgrind() {
	local vlog=$TMP/valgrind.log rc

	valgrind_skip "every test of this run is under valgrind already" && return 4

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
		--ping-interval 100ms \
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

# ---- TLS, as dockerd --tlsverify. Certificates are made here, with the
# openssl CLI, once per run, in $TMP/tls:
#   ca         the engines' CA; client.pem (clientAuth) signed by it
#   fleet.pem  IP SANs 127.1.0.1 .. +TLS_FLEET-1, 127.2.0.4, 127.2.0.5,
#              127.0.0.1 and ::1
#   small.pem  one IP SAN, for the memory figure (a realistic certificate)
#   name.pem   by ca, but for 127.9.9.9 only
#   expired.pem by ca, valid 2025-01-01 .. 2025-01-02 (openssl ca -enddate)
#   rogue      another CA, and rogue.pem for the fleet's first address
TLS_FLEET=1000
TLSD=
tls_certs() {
	local d=$TMP/tls i sans=IP:127.0.0.1,IP:::1,IP:127.2.0.4,IP:127.2.0.5 k

	TLSD=$d
	[ -f "$d/ready" ] && return 0
	mkdir -p "$d" || return 1
	for i in $(seq 0 $((TLS_FLEET - 1))); do
		sans+=,IP:127.1.$(((1 + i) / 256)).$(((1 + i) % 256))
	done
	(
		set -e
		cd "$d"
		for k in ca rogue srv client; do
			openssl ecparam -name prime256v1 -genkey -noout -out "$k.key"
		done
		openssl req -x509 -new -key ca.key -subj /CN=pwtest-ca -days 2 -out ca.pem
		openssl req -x509 -new -key rogue.key -subj /CN=pwtest-rogue -days 2 -out rogue-ca.pem
		openssl req -new -key srv.key -subj /CN=engine -out srv.csr
		openssl req -new -key client.key -subj /CN=peerwatchd -out client.csr
		sign() { # CA OUT EXT
			openssl x509 -req -in srv.csr -CA "$1.pem" -CAkey "$1.key" \
				-CAcreateserial -days 2 -extfile "$3" -out "$2" 2>/dev/null
		}
		echo "subjectAltName=$sans" >fleet.ext
		echo "subjectAltName=IP:127.1.0.1" >small.ext
		echo "subjectAltName=IP:127.9.9.9" >name.ext
		echo "subjectAltName=IP:127.2.0.1" >rogue.ext
		echo "subjectAltName=IP:127.2.0.3" >expired.ext
		echo "extendedKeyUsage=clientAuth" >client.ext
		sign ca fleet.pem fleet.ext
		sign ca small.pem small.ext
		sign ca name.pem name.ext
		openssl x509 -req -in srv.csr -CA rogue-ca.pem -CAkey rogue.key \
			-CAcreateserial -days 2 -extfile rogue.ext -out rogue.pem 2>/dev/null
		openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key \
			-CAcreateserial -days 2 -extfile client.ext -out client.pem 2>/dev/null
		printf '%s\n' "[ca]" "default_ca = d" "[d]" "database = index.txt" \
			"new_certs_dir = ." "serial = serial" "default_md = sha256" \
			"policy = p" "[p]" "commonName = supplied" >ca.cnf
		: >index.txt
		echo 01 >serial
		openssl ca -batch -config ca.cnf -cert ca.pem -keyfile ca.key \
			-in srv.csr -out expired.pem -notext -extfile expired.ext \
			-startdate 20250101000000Z -enddate 20250102000000Z 2>/dev/null
		: >ready
	) >"$TMP/tls.log" 2>&1 || fail "openssl: $(tail -n 3 "$TMP/tls.log")"
}

# start_sim_at NAME PORT BASE COUNT [ARGS...]: one more enginesim, with its
# own port and addresses; its control socket is $TMP/$NS.NAME.ctl.
start_sim_at() {
	local name=$1 port=$2 base=$3 n=$4 ctl=$TMP/$NS.$1.ctl

	shift 4
	spawn "$TMP/$NS.$name.log" "$SIM" --count "$n" --base "$base" \
		--port "$port" --ctl "$ctl" --quiet "$@"
	for _ in $(seq 100); do
		"$SIM" ctl "$ctl" stats >/dev/null 2>&1 && return 0
		sleep 0.05
	done
	fail "enginesim $name did not start: $(tail -n 3 "$TMP/$NS.$name.log")"
}

tls_sim() { # CERT [CLIENT_CA]: enginesim's TLS flags
	echo "--tls-cert $TLSD/$1 --tls-key $TLSD/srv.key${2:+ --tls-ca $TLSD/$2}"
}
tls_agent() { # peerwatchd's TLS flags, client certificate included
	echo "--tlsverify --tlscacert $TLSD/ca.pem --tlscert $TLSD/client.pem --tlskey $TLSD/client.key"
}

# 1,000 engines healthy over TLS (client certificates required, as
# dockerd --tlsverify), their idle memory against the same fleet in plain
# HTTP, and reconnects that resume their sessions.
test_tls_scale() {
	local rss_plain rss_tls rss_small n=$TLS_FLEET f=$TMP/tls.engines resumed
	local m_full m_res

	valgrind_skip "1,000 TLS handshakes and idle RSS are measures of scale" && return 4

	tls_certs || return 1
	new_netns tlsscale || return 1
	start_sim "$n" || return 1
	# shellcheck disable=SC2046
	start_sim_at tls 2376 127.1.0.1 "$n" $(tls_sim fleet.pem ca.pem) || return 1
	# shellcheck disable=SC2046
	start_sim_at small 2377 127.1.0.1 "$n" $(tls_sim small.pem) || return 1
	printf '%s\n' "127.1.0.[1:255]:PORT" "127.1.[1:2].[0:255]:PORT" \
		"127.1.3.[0:232]:PORT" >"$f.in"
	sed s/PORT/2375/ "$f.in" >"$f.plain"
	sed s/PORT/2376/ "$f.in" >"$f.tls"
	sed s/PORT/2377/ "$f.in" >"$f.small"

	start_agent "file://$f.plain" || return 1
	wait_until 60000 "$(all_settled $n)" || fail "plain: $(q .states)" || return 1
	sleep 2
	rss_plain=$(rss_kb "$AGENT_PID")
	stop_agent || return 1

	# shellcheck disable=SC2046
	start_agent $(tls_agent) "file://$f.tls" || return 1
	wait_until 60000 "$(all_settled $n)" || fail "TLS: $(q .states)" || return 1
	log "$n engines healthy over TLS after ${ELAPSED} ms, $(q .connections) connections"
	sleep 2
	rss_tls=$(rss_kb "$AGENT_PID")
	stop_agent || return 1

	# The fleet certificate lists 1,000 addresses, and each connection
	# keeps a parsed copy: the figure of a one-address certificate too.
	# shellcheck disable=SC2046
	start_agent --tls --tlsverify=false "file://$f.small" || return 1
	wait_until 60000 "$(all_settled $n)" || fail "small: $(q .states)" || return 1
	sleep 2
	rss_small=$(rss_kb "$AGENT_PID")
	stop_agent || return 1
	log "idle RSS, $n engines x 2 connections: plain $rss_plain KiB, TLS $rss_tls KiB ($(((rss_tls - rss_plain) / n)) KiB more per engine; certificate of $((n + 2)) SANs, $(stat -c %s "$TLSD/fleet.pem") bytes PEM), TLS with a one-SAN certificate $rss_small KiB ($(((rss_small - rss_plain) / n)) KiB more per engine)"

	# Reconnects: every connection of 50 engines closed after one answer.
	# shellcheck disable=SC2046
	start_agent $(tls_agent) --engine-refresh-min-interval 200ms \
		--engine-refresh-max-interval 300ms "nodes://127.1.0.[1:50]:2376" || return 1
	wait_until 20000 "$(all_settled 50)" || fail "50: $(q .states)" || return 1
	"$SIM" ctl "$TMP/$NS.tls.ctl" fault 127.1.0.1-127.1.0.50 close-after 1 >/dev/null ||
		fail "fault" || return 1
	sleep 2
	wait_until 5000 "$(all_healthy 50)" || fail "close-after 1: $(q .states)" || return 1
	# The same counters in /metrics, read before the exit's log line.
	api /metrics >"$TMP/tls.metrics" || fail "metrics" || return 1
	m_full=$(awk '$1 == "peerwatch_tls_handshakes_total{resumed=\"false\"}" { print $2 }' "$TMP/tls.metrics")
	m_res=$(awk '$1 == "peerwatch_tls_handshakes_total{resumed=\"true\"}" { print $2 }' "$TMP/tls.metrics")
	stop_agent || return 1
	resumed=$(sed -n 's/.*tls: \([0-9]*\) handshakes, \([0-9]*\) resumed.*/\1 \2/p' "$ALOG")
	log "close-after 1 on 50 engines for 2 s: ${resumed% *} handshakes, ${resumed#* } resumed; /metrics before the exit: ${m_full:-?} full, ${m_res:-?} resumed"
	[ "${resumed#* }" -gt 0 ] || fail "no session resumed" || return 1
	if [ "${m_res:-0}" -eq 0 ] || [ "${m_full:-0}" -lt 50 ] ||
		[ "$((m_full + m_res))" -gt "${resumed% *}" ] ||
		[ "$m_res" -gt "${resumed#* }" ]; then
		fail "/metrics: $m_full full and $m_res resumed handshakes; at exit $resumed"
	fi
}

# Each TLS failure has its own cause and message, and makes that engine
# unhealthy only: 10 good engines beside one of each kind, each behind an
# enginesim of its own. Then plain HTTP to a TLS port, from a plain agent.
test_tls_errors() {
	local good="[.nodes[] | select(.addr | startswith(\"127.1.\"))]" a c want msgs

	tls_certs || return 1
	new_netns tlserrors || return 1
	# shellcheck disable=SC2046
	start_sim_at good 2376 127.1.0.1 10 $(tls_sim fleet.pem ca.pem) &&
		start_sim_at rogue 2377 127.2.0.1 1 $(tls_sim rogue.pem ca.pem) &&
		start_sim_at name 2378 127.2.0.2 1 $(tls_sim name.pem ca.pem) &&
		start_sim_at expired 2379 127.2.0.3 1 $(tls_sim expired.pem ca.pem) &&
		start_sim_at refused 2380 127.2.0.4 1 $(tls_sim fleet.pem rogue-ca.pem) &&
		start_sim_at plain 2381 127.2.0.5 1 || return 1
	# shellcheck disable=SC2046
	start_agent $(tls_agent) --engine-failure-retry 2 --backoff-max 1s \
		"nodes://127.1.0.[1:10]:2376,127.2.0.1:2377,127.2.0.2:2378,127.2.0.3:2379,127.2.0.4:2380,127.2.0.5:2381" ||
		return 1
	wait_until 15000 "($good | map(select(.state == \"healthy\" and .cookie > 0 and .events_cookie > 0)) | length) == 10 and ([.nodes[] | select(.state == \"unhealthy\")] | length) == 5" ||
		fail "$(q '[.nodes[] | select(.state != "healthy") | {addr, state, cause}]')" || return 1
	msgs=
	for a in "127.2.0.1:2377 tls-unknown-ca" "127.2.0.2:2378 tls-name-mismatch" \
		"127.2.0.3:2379 tls-expired" "127.2.0.4:2380 tls-cert-refused" \
		"127.2.0.5:2381 not-tls"; do
		want=${a#* }
		a=${a% *}
		c=$(q "$(node "$a").cause")
		log "$a: unhealthy, $c: $(q "$(node "$a").error")"
		[ "$c" = "$want" ] || fail "$a: cause $c, want $want" || return 1
		msgs+="$(q "$(node "$a").error")"$'\n'
	done
	[ "$(printf %s "$msgs" | sort -u | wc -l)" = 5 ] || fail "messages not distinct" || return 1
	[ "$(q "$good | map(select(.state == \"healthy\" and .failures == 0)) | length")" = 10 ] ||
		fail "good engines: $(q "$good | map({addr, state, failures})")" || return 1
	! grep -q "warn: engine 127\.1\." "$ALOG" ||
		fail "a good engine failed: $(grep -m1 "warn: engine 127\.1\." "$ALOG")" || return 1
	log "10 good engines: healthy, no failure, no warning"
	stop_agent || return 1

	# The same engine refused without a client certificate.
	start_agent --tlsverify --tlscacert "$TLSD/ca.pem" --engine 127.1.0.1:2376 ||
		return 1
	wait_until 10000 "$(node 127.1.0.1:2376).state == \"unhealthy\"" ||
		fail "no client certificate: $(q "$(node 127.1.0.1:2376) | {state, cause, error}")" ||
		return 1
	log "without a client certificate: $(q "$(node 127.1.0.1:2376).cause"): $(q "$(node 127.1.0.1:2376).error")"
	[ "$(q "$(node 127.1.0.1:2376).cause")" = tls-cert-refused ] || fail "cause" || return 1
	stop_agent || return 1

	# Plain HTTP to a TLS port, from a plain agent; the plain engine is fine.
	start_agent --engine 127.1.0.1:2376 --engine 127.2.0.5:2381 || return 1
	wait_until 10000 "($(node 127.1.0.1:2376).state == \"unhealthy\") and ($(node 127.2.0.5:2381).state == \"healthy\")" ||
		fail "plain agent: $(q '[.nodes[] | {addr, state, cause, error}]')" || return 1
	log "plain HTTP to a TLS port: $(q "$(node 127.1.0.1:2376).cause"): $(q "$(node 127.1.0.1:2376).error")"
	[ "$(q "$(node 127.1.0.1:2376).cause")" = tls-required ] || fail "cause"
}

# Flags: DOCKER_CERT_PATH supplies the files; DOCKER_TLS_VERIFY turns TLS
# on; a missing CA fails at start.
test_tls_flags() {
	local d=$TMP/certpath out rc

	tls_certs || return 1
	mkdir -p "$d"
	out=$(DOCKER_CERT_PATH=$d pw --tls --engine 127.0.0.1:1 2>&1)
	rc=$?
	[ "$rc" -ne 0 ] && [[ $out == *"$d/ca.pem"* ]] ||
		fail "missing ca.pem: exit $rc: $out" || return 1
	log "no ca.pem: exit $rc: $out"
	out=$(pw --tlsverify=maybe --engine 127.0.0.1:1 2>&1)
	[ $? -eq 2 ] || fail "--tlsverify=maybe: $out" || return 1
	cp "$TLSD/ca.pem" "$d/ca.pem" && cp "$TLSD/client.pem" "$d/cert.pem" &&
		cp "$TLSD/client.key" "$d/key.pem" || return 1
	new_netns tlsflags || return 1
	# shellcheck disable=SC2046
	start_sim_at good 2376 127.1.0.1 2 $(tls_sim fleet.pem ca.pem) || return 1
	# The variables reach the agent through start_agent's environment.
	DOCKER_CERT_PATH=$d DOCKER_TLS_VERIFY=1 \
		start_agent "nodes://127.1.0.[1:2]:2376" || return 1
	wait_until 10000 "$(all_healthy 2)" || fail "DOCKER_CERT_PATH: $(q '.nodes')" || return 1
	log "DOCKER_TLS_VERIFY=1 and DOCKER_CERT_PATH alone: 2 engines healthy over TLS"
}

# Real dockerd --tlsverify: healthy over TLS; refused without a client
# certificate (Go's alert comes at the first read, TLS 1.3); plain HTTP
# gets Go's own answer.
test_tls_dockerd() {
	local d=$TMP/dockertls e=127.0.0.1:2378

	if ! command -v dockerd >/dev/null || ! command -v docker >/dev/null; then
		log "SKIP: dockerd or docker not installed"
		return 4
	fi
	tls_certs || return 1
	new_netns dockertls || return 1
	DOCKER_DIR=$d
	mkdir -p "$d/data" "$d/exec"
	TEST_CLEANUP=dockerd_cleanup
	spawn "$d/dockerd.log" dockerd -H "tcp://$e" -H "unix://$d/sock" \
		--tlsverify --tlscacert "$TLSD/ca.pem" --tlscert "$TLSD/fleet.pem" \
		--tlskey "$TLSD/srv.key" --iptables=false --ip6tables=false \
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
	# shellcheck disable=SC2046
	start_agent $(tls_agent) --engine "$e" || return 1
	wait_until 10000 "$(all_settled 1)" ||
		fail "dockerd over TLS: $(q '.nodes[0] | {state, cause, error}')" || return 1
	log "dockerd $(q '.nodes[0].server_version') --tlsverify: healthy over TLS after ${ELAPSED} ms"
	# docker inspect through the Docker façade: forwarded over TLS, with
	# the agent's client certificate, on a connection of its own.
	mkdir -p "$d/img/bin"
	cp "$(command -v busybox)" "$d/img/bin/busybox" || return 1
	tar -C "$d/img" -c . | dk import - pwtest:latest >/dev/null || fail "docker import" || return 1
	dk create --name pw-before --network none pwtest:latest /bin/busybox true >/dev/null ||
		fail "docker create" || return 1
	wait_until 10000 '.nodes[0].containers | map(.name) | index("pw-before") != null' ||
		fail "pw-before not listed" || return 1
	[ "$(docker -H "unix://$API" inspect pw-before | jq -S .)" = "$(dk inspect pw-before | jq -S .)" ] ||
		fail "docker inspect through peerwatchd over TLS differs" || return 1
	[ "$(q '.nodes[0].state')" = healthy ] || fail "the forward disturbed the engine" || return 1
	log "docker inspect through peerwatchd: forwarded over TLS, dockerd's answer"
	stop_agent || return 1
	start_agent --tlsverify --tlscacert "$TLSD/ca.pem" --engine "$e" || return 1
	wait_until 10000 '.nodes[0].state == "unhealthy"' ||
		fail "no client certificate: $(q '.nodes[0] | {state, cause, error}')" || return 1
	log "dockerd, no client certificate: $(q '.nodes[0].cause'): $(q '.nodes[0].error')"
	[ "$(q '.nodes[0].cause')" = tls-cert-refused ] || fail "cause" || return 1
	stop_agent || return 1
	start_agent --engine "$e" || return 1
	wait_until 10000 '.nodes[0].state == "unhealthy"' ||
		fail "plain: $(q '.nodes[0] | {state, cause, error}')" || return 1
	log "dockerd, plain HTTP: $(q '.nodes[0].cause'): $(q '.nodes[0].error')"
	[ "$(q '.nodes[0].cause')" = tls-required ] || fail "cause"
}

# A short TLS run under valgrind: handshakes, resumptions, faults.
test_tls_valgrind() {
	local vlog=$TMP/valgrind-tls.log rc

	valgrind_skip "every test of this run is under valgrind already" && return 4

	if ! command -v valgrind >/dev/null; then
		log "SKIP: valgrind not installed"
		return 4
	fi
	if ldd "$PW" | grep -q libasan; then
		log "SKIP: $PW is an ASan build; valgrind runs on the plain build"
		return 4
	fi
	tls_certs || return 1
	new_netns tlsvalgrind || return 1
	# shellcheck disable=SC2046
	start_sim_at good 2376 127.1.0.1 10 $(tls_sim fleet.pem ca.pem) &&
		start_sim_at rogue 2377 127.2.0.1 1 $(tls_sim rogue.pem ca.pem) &&
		start_sim_at plain 2381 127.2.0.5 1 || return 1
	STATE=$TMP/$NS.state.json
	ALOG=$TMP/valgrind-tls.agent.log
	# shellcheck disable=SC2046
	spawn "$ALOG" valgrind --leak-check=full --error-exitcode=1 \
		--log-file="$vlog" "$PW" --state-file "$STATE" --summary-interval 0 \
		--api-socket "$TMP/$NS.api.sock" $(tls_agent) --request-timeout 2s --engine-refresh-min-interval 200ms \
		--engine-refresh-max-interval 500ms --backoff-max 1s \
		"nodes://127.1.0.[1:10]:2376,127.2.0.1:2377,127.2.0.5:2381"
	AGENT_PID=$LAST_PID
	wait_ready "$ALOG" || return 1
	wait_until 30000 "[.nodes[] | select(.state == \"healthy\")] | length == 10" ||
		fail "not healthy under valgrind" || return 1
	"$SIM" ctl "$TMP/$NS.good.ctl" fault 127.1.0.2 reset >/dev/null &&
		"$SIM" ctl "$TMP/$NS.good.ctl" fault 127.1.0.3 close-after 1 >/dev/null &&
		"$SIM" ctl "$TMP/$NS.good.ctl" fault 127.1.0.4 malformed >/dev/null || return 1
	sleep 3
	"$SIM" ctl "$TMP/$NS.good.ctl" clear all >/dev/null || return 1
	sleep 2
	kill -TERM "$AGENT_PID"
	wait "$AGENT_PID"
	rc=$?
	AGENT_PID=
	log "$(grep -m1 'tls: .* resumed' "$ALOG" | sed 's/.*info: //')"
	log "$(grep -m1 'ERROR SUMMARY' "$vlog" | sed 's/^==[0-9]*== //')"
	log "$(grep -m1 'definitely lost\|no leaks are possible' "$vlog" | sed 's/^==[0-9]*== //')"
	[ "$rc" -eq 0 ] || fail "valgrind exit $rc (see $vlog)"
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
if [ -n "${PW_VALGRIND:-}" ] && { ! command -v valgrind >/dev/null ||
	ldd "$PW" | grep -q libasan; }; then
	log "SKIP: PW_VALGRIND needs valgrind and a build without ASan ($PW)"
	suite_record all skip
	suite_end host-valgrind
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
# shellcheck source=selftests/agent/docker.sh
. selftests/agent/docker.sh
# shellcheck source=selftests/agent/events.sh
. selftests/agent/events.sh

run_test flags test_flags
run_test scale test_scale
run_test blackhole test_blackhole
run_test freeze test_freeze
run_test freeze-ping test_freeze_ping
run_test reset test_reset
run_test bad-responses test_bad_responses
run_test close-after test_close_after
run_test id-change test_id_change
run_test reload test_reload
run_test dockerd test_dockerd
run_test dockerd-events test_dockerd_events
run_test event-flood test_event_flood
run_test valgrind test_valgrind
run_test api-endpoints test_api_endpoints
run_test api-abuse test_api_abuse
run_test api-slow-reader test_api_slow_reader
run_test api-top test_api_top
run_test docker-cli test_docker_cli
run_test docker-slow-reader test_docker_slow_reader
run_test docker-off test_docker_off
run_test tls-flags test_tls_flags
run_test tls-scale test_tls_scale
run_test tls-errors test_tls_errors
run_test tls-dockerd test_tls_dockerd
run_test tls-valgrind test_tls_valgrind
suite_end "host${PW_VALGRIND:+-valgrind}"

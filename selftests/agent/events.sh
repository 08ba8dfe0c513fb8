#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# What engines' container events cost (agent/watch/events.c, pace.c);
# sourced by run.sh.

# containers_until LIMIT_MS [!]REGEX: polls /v1/containers until its
# answer matches REGEX (with !, until it does not); ELAPSED is how long it
# took. Bash matches, no jq: on a loaded machine each process started
# between two polls adds to what is measured.
containers_match() {
	local out

	out=$(api /v1/containers 2>/dev/null) && [ -n "$out" ] || return 1
	if [ "$2" = 1 ]; then
		! [[ $out =~ $1 ]]
	else
		[[ $out =~ $1 ]]
	fi
}
containers_until() {
	local neg=0

	[ "${2:0:1}" = '!' ] && neg=1
	poll_for "$1" 0.01 containers_match "${2#!}" "$neg"
}

# metric NAME: its value in $TMP/metrics.txt.
metric_of() { awk -v n="$1" '$1 == n { v = $2 } END { print v + 0 }' "$TMP/metrics.txt"; }

# Real dockerd, 10 containers healthchecked every second (about 30 exec
# events a second): over 10 s, peerwatchd asks it at most once a second,
# while docker stop, docker rm and docker rename, made in that window,
# each show in /v1/containers within 3 s of the command's return (not
# asserted under valgrind: it checks memory there, not speed). Each event
# changes the inventory as it comes, no listing between (0 event
# refreshes counted): 0.06-0.6 s measured, up to a load average of 20.
# The bound is the margin two loaded cores need (1 s left 0.36 s over
# the worst seen).
#
# Requests are counted in dockerd's own debug log, one "Calling GET ..."
# line per API request it serves. The agent is the only client that GETs
# in the window: the docker CLI's stop, rm and rename are a HEAD /_ping
# and a POST or DELETE, and healthchecks run inside dockerd without the
# API. Unlike a proxy, this changes nothing between the agent and the
# engine (connections, keep-alive, timing); unlike counters on packets,
# it counts requests, whatever their segmentation or pipelining.
test_dockerd_events() {
	local d=$TMP/dkevents e=127.0.0.1:2377 i c0 c1 n t0 t slowest lat=""

	new_netns dkevents || return 1
	start_dockerd "$d" "tcp://$e" --debug || return $?
	# The healthcheck's /bin/sh -c true: links to the image's busybox.
	# The containers end on SIGTERM, so that dockerd stops quickly.
	mkdir -p "$d/hc/bin" && cp "$d/img/bin/busybox" "$d/hc/bin/" || return 1
	for i in sh true sleep; do
		ln -s busybox "$d/hc/bin/$i" || return 1
	done
	tar -C "$d/hc" -c . | dk import - pwhc:latest >/dev/null ||
		fail "docker import" || return 1
	for i in $(seq 0 9); do
		dk run -d --name "pw-hc$i" --network none --health-cmd true \
			--health-interval 1s pwhc:latest \
			sh -c 'trap "exit 0" TERM; sleep 3600 & wait' >/dev/null ||
			fail "docker run" || return 1
	done
	start_agent --engine "$e" || return 1
	wait_until 10000 "$(all_settled 1) and ([.nodes[0].containers[] | select(.state == \"running\")] | length) == 10" ||
		fail "dockerd: $(q '.nodes[0] | {state, error, n: (.containers | length)}')" || return 1
	for _ in $(seq 50); do
		[ "$(dk ps -q --filter health=healthy | wc -l)" = 10 ] && break
		sleep 0.2
	done
	[ "$(dk ps -q --filter health=healthy | wc -l)" = 10 ] ||
		fail "healthchecks: $(dk ps --format '{{.Names}} {{.Status}}')" || return 1
	# The health_status events of the start are answered before counting.
	sleep 1
	api /metrics >"$TMP/metrics.txt" || fail "metrics" || return 1
	local ign0 ref0
	ign0=$(metric_of 'peerwatch_engine_events_total{class="ignored"}')
	ref0=$(metric_of peerwatch_engine_event_refreshes_total)
	c0=$(grep -c 'msg="Calling GET ' "$d/dockerd.log")
	t0=$(now_ms)

	sleep 1
	dk stop -t 0 pw-hc1 >/dev/null || fail "docker stop" || return 1
	containers_until "$(bound 3000)" '"name":"pw-hc1","image":"[^"]*","state":"exited"' ||
		fail "docker stop not seen after ${ELAPSED} ms: $(api /v1/containers | jq -c '[.[] | {name, state}]')" || return 1
	lat="stop $ELAPSED"
	slowest=$ELAPSED
	sleep 1
	dk rm pw-hc1 >/dev/null || fail "docker rm" || return 1
	containers_until "$(bound 3000)" '!"name":"pw-hc1"' ||
		fail "docker rm not seen after ${ELAPSED} ms" || return 1
	lat="$lat, rm $ELAPSED"
	[ "$ELAPSED" -gt "$slowest" ] && slowest=$ELAPSED
	sleep 1
	dk rename pw-hc2 pw-hc2-renamed >/dev/null || fail "docker rename" || return 1
	containers_until "$(bound 3000)" '"name":"pw-hc2-renamed"' ||
		fail "docker rename not seen after ${ELAPSED} ms" || return 1
	lat="$lat, rename $ELAPSED"
	[ "$ELAPSED" -gt "$slowest" ] && slowest=$ELAPSED
	t=$((t0 + 10000 - $(now_ms)))
	[ "$t" -gt 0 ] && sleep "$((t / 1000)).$(printf %03d $((t % 1000)))"
	c1=$(grep -c 'msg="Calling GET ' "$d/dockerd.log")
	t=$(($(now_ms) - t0))
	n=$((c1 - c0))
	api /metrics >"$TMP/metrics.txt" || fail "metrics" || return 1
	log "10 containers healthchecked every 1s: $n requests from peerwatchd to dockerd in $t ms (bound $((t / 1000)), one a second); $(($(metric_of 'peerwatch_engine_events_total{class="ignored"}') - ign0)) events ignored, $(($(metric_of peerwatch_engine_event_refreshes_total) - ref0)) event refreshes"
	log "seen in /v1/containers after the command returned: $lat ms (bound $(bound 3000))"
	log "dockerd's requests: $(grep 'msg="Calling GET ' "$d/dockerd.log" | tail -n "$n" | sed 's/.*Calling GET \([^?"]*\).*/\1/' | sort | uniq -c | awk '{ printf "%s%s x%s", s, $2, $1; s = ", " }')"
	[ "$n" -le $((t / 1000)) ] || fail "$n requests in $t ms" || return 1
	valgrind_skip "the 3 s bound of stop, rm and rename (memory errors, not speed)" && return 0
	[ "$slowest" -le "$(bound 3000)" ] || fail "slower than $(bound 3000) ms" || return 1
}

# The agent's CPU time so far, in clock ticks (utime + stime).
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

# canary_sample ADDR MS: for MS ms, every 100 ms, the engine's refresh
# age (from its last listing) and how long /v1/nodes took to answer;
# their maxima in MAXAGE and MAXAPI.
canary_sample() {
	local f t0 t now age

	f=".[] | select(.addr == \"$1\") | .refreshed | (.[0:19] + \"Z\" | fromdate) * 1000 + (.[20:23] | tonumber)"
	MAXAGE=0
	MAXAPI=0
	t0=$(now_ms)
	while :; do
		t=$(now_ms)
		[ $((t - t0)) -ge "$2" ] && return 0
		age=$(api /v1/nodes | jq "$f") || fail "/v1/nodes" || return 1
		now=$(now_ms)
		[ $((now - t)) -gt "$MAXAPI" ] && MAXAPI=$((now - t))
		[ $((now - age)) -gt "$MAXAGE" ] && MAXAGE=$((now - age))
		sleep 0.1
	done
}

# An event flood: 20 engines each sending a container event every
# millisecond (enginesim --events-interval 1ms: each starts or stops a
# container, so every one wants a refresh), beside a quiet canary
# engine, all refreshed every second. The canary alone first, for 5 s;
# then the 20 are added (discovery file, SIGHUP), and over 10 s: each
# flooding engine is listed in full about once a second (its flood
# logged once and counted), the agent stays under a share of a core,
# and the canary's refresh age and the API's answers stay within what
# they were without the flood + margin. The machine is shared and
# loaded: both phases see its load, only the second sees the flood.
# Bounds: CPU 50% of a core (measured 7-12%); the canary's age and the
# API's answer 3 s over the quiet phase's (the age at least 1 s + 3 s),
# each read by a curl started on a machine loaded to 20 or 30.
test_event_flood() {
	local canary=127.2.0.1:2377 f=$TMP/flood.engines t ticks0 ticks1 hz cpu
	local r0 r1 ev0 ev1 reqs floods sim_pid sim0 sim1 age0 api0 agebound apibound

	valgrind_skip "it measures CPU time and latency" && return 4
	if ldd "$PW" | grep -q libasan; then
		log "SKIP: $PW is an ASan build: it measures CPU time and latency, which sanitizers multiply"
		return 4
	fi
	new_netns evflood || return 1
	start_sim 20 --events-interval 1ms || return 1
	sim_pid=$LAST_PID
	start_sim_at canary 2377 127.2.0.1 1 --events-interval 0 || return 1
	echo "$canary" >"$f"
	start_agent --engine-refresh-min-interval 1s --engine-refresh-max-interval 1s \
		"file://$f" || return 1
	wait_until 10000 "$(all_settled 1)" || fail "canary: $(q .states)" || return 1
	canary_sample "$canary" 5000 || return 1
	age0=$MAXAGE
	api0=$MAXAPI
	printf '%s\n' "$canary" "127.1.0.[1:20]:2375" >"$f"
	kill -HUP "$AGENT_PID"
	wait_until 10000 "$(all_settled 21)" ||
		fail "not healthy: $(q .states)" || return 1
	# Every flooding engine past its first second of events.
	sleep 2
	hz=$(getconf CLK_TCK)
	ticks0=$(cpu_ticks "$AGENT_PID")
	sim0=$(cpu_ticks "$sim_pid")
	r0=$("$SIM" ctl "$CTL" stats | jq '.requests | add - .events')
	ev0=$("$SIM" ctl "$CTL" stats | jq .events_sent)
	t=$(now_ms)
	canary_sample "$canary" 10000 || return 1
	ticks1=$(cpu_ticks "$AGENT_PID")
	sim1=$(cpu_ticks "$sim_pid")
	t=$(($(now_ms) - t))
	r1=$("$SIM" ctl "$CTL" stats | jq '.requests | add - .events')
	ev1=$("$SIM" ctl "$CTL" stats | jq .events_sent)
	cpu=$(((ticks1 - ticks0) * 100000 / hz / t))
	reqs=$((r1 - r0))
	agebound=$((age0 > 1000 ? age0 + 3000 : 4000))
	apibound=$((api0 + 3000))
	api /metrics >"$TMP/metrics.txt" || fail "metrics" || return 1
	floods=$(metric_of peerwatch_engine_event_floods_total)
	log "20 engines x $(((ev1 - ev0) * 1000 / 20 / t)) events/s for $t ms: agent CPU $cpu% of a core (bound 50%), enginesim $(((sim1 - sim0) * 100000 / hz / t))%; $reqs requests to the flooding engines ($((reqs * 100000 / t / 20)) per 100 s each; refresh interval 1 s)"
	log "canary: refresh age at most $MAXAGE ms (quiet: $age0, bound $agebound); /v1/nodes answered within $MAXAPI ms (quiet: $api0, bound $apibound)"
	log "/metrics: $floods floods; events $(grep '^peerwatch_engine_events_total' "$TMP/metrics.txt" | sed 's/.*class="\([a-z]*\)"} /\1 /' | tr '\n' ' ')refreshes $(metric_of peerwatch_engine_event_refreshes_total), saved $(metric_of peerwatch_engine_event_refreshes_saved_total)"
	log "log: $(grep -c 'event flood (' "$ALOG") flood line(s), e.g. $(grep -m1 'event flood (' "$ALOG" | sed 's/.*warn: //')"
	[ "$floods" = 20 ] && [ "$(grep -c 'event flood (' "$ALOG")" = 20 ] ||
		fail "want 20 floods, each logged once" || return 1
	[ "$cpu" -le 50 ] || fail "CPU $cpu%" || return 1
	[ "$MAXAGE" -le "$agebound" ] || fail "canary refresh age $MAXAGE ms" || return 1
	[ "$MAXAPI" -le "$apibound" ] || fail "API answer in $MAXAPI ms" || return 1
	# Each: one full listing a second, the periodic one, an idle ping.
	[ "$reqs" -le $((20 * t * 3 / 1000)) ] || fail "$reqs requests" || return 1
}

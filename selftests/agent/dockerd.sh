# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
# Variables such as TEST_CLEANUP and DOCKER_DIR are read by lib.sh and run.sh.
# shellcheck disable=SC2034
#
# The real dockerd (Debian's docker.io), sourced by run.sh: started in the
# test's netns on loopback with all its state in a private folder, and
# reached by the agent as an engine (docker.sh uses it as well).

# Real dockerd, reached three ways (IPv4, IPv6, a host name resolved by
# c-ares): healthy, containers listed, and a container started with
# docker run shows up through /events within 3 s.
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

# start_dockerd DIR ARG...: a real dockerd in the test's netns, listening
# on each ARG that is an address (tcp://...) and on unix://DIR/sock, the
# other ARGs passed on (--tlsverify ...), all its state under DIR, with the
# image pwtest:latest (a static busybox, imported: there is no registry).
# Returns 4 (skip) when dockerd is missing or cannot run here.
start_dockerd() {
	local d=$1 a args=()

	shift
	if ! command -v dockerd >/dev/null || ! command -v docker >/dev/null; then
		log "SKIP: dockerd or docker not installed"
		return 4
	fi
	DOCKER_DIR=$d
	mkdir -p "$d/data" "$d/exec" "$d/img/bin"
	TEST_CLEANUP=dockerd_cleanup
	for a in "$@"; do
		case $a in
		tcp://*) args+=(-H "$a") ;;
		*) args+=("$a") ;;
		esac
	done
	spawn "$d/dockerd.log" dockerd "${args[@]}" \
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
	wait_until "$(bound 3000)" "[.nodes[].containers[] | select(.id == \"$id\" and .state == \"running\")] | length == 3" ||
		fail "container not seen" || return 1
	seen=$(now_ms)
	# From the start as dockerd recorded it, on this same clock.
	started=$(date -d "$(dk inspect -f '{{.State.StartedAt}}' "$id")" +%s%3N) ||
		fail "docker inspect" || return 1
	log "container started by docker run seen on all three $((seen - started)) ms after it started ($((seen - t0)) ms after docker run was called)"
	# dockerd's start event, the agent's targeted listing of three engines,
	# the test's poll of /v1/nodes: about 0.3 s quiet, 1.5 s seen on two
	# cores busy with seven builds and test suites besides.
	[ $((seen - started)) -le "$(bound 3000)" ] ||
		fail "slower than $(bound 3000) ms" || return 1
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

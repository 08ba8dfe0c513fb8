# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# The Docker Engine API façade, driven by the real docker CLI. Sourced by
# run.sh (new_netns, start_sim, start_agent, start_dockerd, dk, api...).
#
#   netns pwt-<pid>-docker-cli                                    lo only
#   +------------------------------------------------------------------+
#   |  enginesim 127.1.0.1 .. 127.1.3.232 (1,000 engines x 5)          |
#   |  dockerd tcp://127.0.0.1:2377 (its own data, exec roots, pidfile)  |
#   |        ^ polling + /events, one connection each                  |
#   |  peerwatchd --api-socket $API --api-listen 127.0.0.1:2380        |
#   +------------------------------------------------------------------+
#        docker -H unix://$API ps|info|inspect|events|version|run (host
#        side: the socket is a file); dk: the same CLI on dockerd itself.

# pwd_docker ARGS...: the docker CLI pointed at peerwatchd.
pwd_docker() { docker -H "unix://$API" "$@"; }

test_docker_cli() {
	local d=$TMP/docker e=127.0.0.1:2377 t0 ms n want got id ref out rc
	local ev_pid started seen node addr name

	new_netns docker-cli || return 1
	start_dockerd "$d" "tcp://$e" || return $?
	dk run -d --name pw-before --network none pwtest:latest /bin/busybox sleep 300 >/dev/null ||
		fail "docker run on dockerd" || return 1
	dk create --name pw-after --network none pwtest:latest /bin/busybox true >/dev/null ||
		fail "docker create on dockerd" || return 1
	start_sim 1000 --containers 5 --events-interval 0 || return 1
	# 127.1.0.1 + 999 = 127.1.3.232
	printf '%s\n' "127.1.0.[1:255]:2375" "127.1.[1:2].[0:255]:2375" \
		"127.1.3.[0:232]:2375" "$e" >"$TMP/docker.engines"
	start_agent --api-listen 127.0.0.1:2380 --request-timeout 2s \
		"file://$TMP/docker.engines" || return 1
	wait_api 60000 '.states.healthy == 1001 and .containers == 5002' ||
		fail "not healthy: $(api /v1/summary | jq -c '{states, containers}')" || return 1
	log "1000 enginesim engines and dockerd healthy after ${ELAPSED} ms"
	node=$(api "/v1/nodes/$e" | jq -r .name)

	# What the engines serve, asked of each directly.
	api /v1/nodes | jq -r '.[] | select(.addr != "'$e'") |
		"url = \"http://\(.addr)/v1.41/containers/json?all=1\"\n" +
		"url = \"http://\(.addr)/v1.41/info\""' >"$TMP/urls"
	# Names: each engine's own, with its containers; dockerd's from dk.
	: >"$TMP/want.names"
	while read -r addr name; do
		in_ns curl -s "http://$addr/v1.41/containers/json?all=1" |
			jq -r --arg n "$name" '.[] | "\(.Id[:12]) /\($n)\(.Names[0])"'
	done < <(api /v1/nodes | jq -r '.[] | "\(.addr) \(.name)"' | head -n 40) >"$TMP/want.names"

	# docker ps -a: every container, prefixed with its engine's name.
	t0=$(now_ms)
	pwd_docker ps -a --no-trunc --format '{{.ID}} {{.Names}} {{.State}}' >"$TMP/ps.out" ||
		fail "docker ps -a: $(head -3 "$TMP/ps.out")" || return 1
	ms=$(($(now_ms) - t0))
	n=$(wc -l <"$TMP/ps.out")
	[ "$n" = 5002 ] || fail "docker ps -a: $n rows, want 5000 + 2" || return 1
	grep -q " $node/pw-before running\$" "$TMP/ps.out" ||
		fail "docker ps -a: no $node/pw-before" || return 1
	grep -q " $node/pw-after created\$" "$TMP/ps.out" ||
		fail "docker ps -a: no $node/pw-after" || return 1
	# Each container of the first 40 engines, by ID and prefixed name.
	got=$(awk '{ print substr($1, 1, 12), "/" $2 }' "$TMP/ps.out" | sort)
	want=$(sort "$TMP/want.names")
	[ "$(comm -13 <(echo "$got") <(echo "$want") | wc -l)" = 0 ] ||
		fail "docker ps -a lacks: $(comm -13 <(echo "$got") <(echo "$want") | head -3)" || return 1
	log "docker ps -a over 1001 engines: $n containers in $ms ms, names prefixed ($node/pw-before, engine-0/...)"
	[ "$(in_ns docker -H tcp://127.0.0.1:2380 ps -a -q | wc -l)" = 5002 ] ||
		fail "docker ps -a over --api-listen" || return 1
	pwd_docker ps | head -1 | grep -q '^CONTAINER ID *IMAGE *COMMAND *CREATED *STATUS *PORTS *NAMES$' ||
		fail "docker ps: header" || return 1

	# Filters, limit and all, as dockerd takes them.
	want=$(in_ns curl -s -K "$TMP/urls" 2>/dev/null | jq -s '[.[] | arrays | .[] | select(.State == "running")] | length')
	got=$(pwd_docker ps -q | wc -l)
	[ "$got" = $((want + 1)) ] || fail "docker ps: $got running, want $want + pw-before" || return 1
	want=$(in_ns curl -s -K "$TMP/urls" 2>/dev/null | jq -s '[.[] | arrays | .[] | select(.Labels["com.example.tier"] == "db")] | length')
	got=$(pwd_docker ps -a -q --filter label=com.example.tier=db | wc -l)
	[ "$got" = "$want" ] || fail "--filter label: $got, want $want" || return 1
	[ "$(pwd_docker ps -a -q --filter "name=$node/" | wc -l)" = 2 ] ||
		fail "--filter name" || return 1
	# name is a regular expression, tried on /ENGINE/NAME and /NAME too.
	[ "$(pwd_docker ps -a -q --filter "name=^/$node/pw-(before|after)\$" | wc -l)" = 2 ] ||
		fail "--filter name=^/$node/pw-(before|after)\$" || return 1
	[ "$(pwd_docker ps -a -q --filter 'name=^/pw-after$' | wc -l)" = 1 ] ||
		fail "--filter name=^/pw-after\$" || return 1
	[ "$(pwd_docker ps -a -q --filter 'name=^/pw-after' --filter 'name=^/engine-5/' | wc -l)" = 6 ] ||
		fail "--filter name, two values" || return 1
	[ "$(pwd_docker ps -q --filter status=created | wc -l)" = 1 ] ||
		fail "--filter status=created" || return 1
	[ "$(pwd_docker ps -q -n 7 | wc -l)" = 7 ] || fail "-n 7" || return 1
	[ "$(pwd_docker ps -a -q --filter node=engine-5 | wc -l)" = 5 ] ||
		fail "--filter node" || return 1
	out=$(pwd_docker ps --filter bogus=1 2>&1)
	echo "$out" | grep -q "invalid filter 'bogus'" || fail "bad filter: $out" || return 1
	log "docker ps: running, --filter label/name (regular expressions)/status/node, -n; '$out'"

	# docker info: the fleet's totals and every engine in SystemStatus.
	pwd_docker info >"$TMP/info.out" 2>&1 || fail "docker info: $(head -3 "$TMP/info.out")" || return 1
	grep -q '^ Nodes: 1001$' "$TMP/info.out" || fail "docker info: Nodes" || return 1
	grep -q "^ Containers: 5002$" "$TMP/info.out" || fail "docker info: Containers" || return 1
	[ "$(grep -c '└ Status: healthy' "$TMP/info.out")" = 1001 ] ||
		fail "docker info: engine states" || return 1
	grep -q "^  $node: $e\$" "$TMP/info.out" || fail "docker info: dockerd's line" || return 1
	grep -q '^  engine-999: 127.1.3.232:2375$' "$TMP/info.out" || fail "docker info: engine-999" || return 1
	want=$(in_ns curl -s "http://$e/info" | jq .NCPU)
	want=$((want + $(in_ns curl -s -K "$TMP/urls" | jq -s '[.[] | objects | .NCPU] | add')))
	got=$(pwd_docker info -f '{{.NCPU}}')
	[ "$got" = "$want" ] || fail "docker info: NCPU $got, want $want" || return 1
	log "docker info: 1001 engines listed with state, address and error; CPUs $got (summed)"

	# docker inspect: forwarded to dockerd, its answer as it gave it.
	want=$(dk inspect pw-before | jq -S .)
	for ref in pw-before "$node/pw-before" "$(dk inspect -f '{{.Id}}' pw-before | cut -c1-12)"; do
		got=$(pwd_docker inspect "$ref" | jq -S .)
		[ -n "$got" ] && [ "$got" = "$want" ] ||
			fail "docker inspect $ref differs from dockerd's" || return 1
	done
	id=$(api '/v1/containers?node=engine-3' | jq -r '.[0].id')
	got=$(pwd_docker inspect -f '{{.Id}}' "${id:0:10}")
	[ "$got" = "$id" ] || fail "inspect of an enginesim container: $got" || return 1
	out=$(pwd_docker inspect nosuchthing 2>&1)
	echo "$out" | grep -q 'No such object: nosuchthing' || fail "unknown: $out" || return 1
	out=$(pwd_docker inspect a 2>&1)
	echo "$out" | grep -q 'Multiple IDs found with provided prefix: a' ||
		fail "ambiguous prefix: $out" || return 1
	log "docker inspect (name, NODE/NAME, short ID) = dockerd's own; ambiguous: '$(echo "$out" | tail -1)'"
	# An engine that does not answer: the inspect fails at the engine's
	# --request-timeout (2 s here), saying so, within 2 s + 3 s of margin
	# for the docker CLI on loaded cores; the rest is served.
	id=$(api '/v1/containers?node=engine-9' | jq -r '.[0].id')
	sim fault 127.1.0.10 freeze || return 1
	t0=$(now_ms)
	out=$(pwd_docker inspect "$id" 2>&1)
	ms=$(($(now_ms) - t0))
	echo "$out" | grep -q 'Error response from daemon: peerwatchd: engine 127.1.0.10:2375: no answer in time' ||
		fail "inspect on a frozen engine: $out" || return 1
	[ "$ms" -ge 1900 ] && [ "$ms" -le "$(bound 5000)" ] ||
		fail "inspect gave up after $ms ms, want ~2000 (bound $(bound 5000))" || return 1
	[ "$(pwd_docker ps -a -q --filter node=engine-9 | wc -l)" = 5 ] ||
		fail "engine-9's containers not listed from memory" || return 1
	sim clear 127.1.0.10 || return 1
	log "inspect on a frozen engine: '$(echo "$out" | tail -1)' after $ms ms"

	# docker events: one merged stream; a start on dockerd seen within
	# 3 s. It is passed on as it comes (0.15-0.2 s measured, under
	# valgrind too): the rest is margin for dockerd, the agent and the
	# docker CLI on two loaded cores (test_dockerd's path took 1.5 s there).
	pwd_docker events --filter type=container --filter event=start \
		--format '{{json .}}' >"$TMP/events.out" 2>&1 &
	ev_pid=$!
	PIDS+=("$ev_pid")
	wait_api 5000 '.api_clients >= 1' || return 1
	sleep 0.5
	dk start pw-after >/dev/null || fail "docker start on dockerd" || return 1
	wait_file "$(bound 5000)" "$TMP/events.out" '"pw-after"' ||
		fail "no start event: $(head -c 300 "$TMP/events.out")" || return 1
	seen=$(now_ms)
	started=$(date -d "$(dk inspect -f '{{.State.StartedAt}}' pw-after)" +%s%3N) ||
		fail "docker inspect" || return 1
	grep '"pw-after"' "$TMP/events.out" | head -1 |
		jq -e --arg a "$e" --arg n "$node" '.Actor.Attributes["node.addr"] == $a and
			.Actor.Attributes["node.name"] == $n' >/dev/null ||
		fail "event not tagged: $(grep -m1 pw-after "$TMP/events.out")" || return 1
	log "docker events: dockerd's start seen $((seen - started)) ms after it started, tagged $node@$e (bound $(bound 3000))"
	[ $((seen - started)) -le "$(bound 3000)" ] || fail "slower than $(bound 3000) ms" || return 1
	# since/until: what happened, replayed, and the stream ends. The CLI
	# sends whole seconds: let the second of the start pass first.
	sleep 1.1
	out=$(timeout 10 docker -H "unix://$API" events --since 60s --until 0s \
		--filter container=pw-after --format '{{.Action}}' | tr '\n' ' ')
	case $out in
	*start*) ;;
	*) fail "events --since --until: '$out'" || return 1 ;;
	esac
	log "docker events --since 60s --until 0s --filter container=pw-after: $out"

	# Anything that changes an engine is refused, in dockerd's format.
	out=$(pwd_docker run --rm --network none pwtest:latest /bin/busybox true 2>&1)
	rc=$?
	[ "$rc" -ne 0 ] && echo "$out" | grep -q 'Error response from daemon: peerwatchd is a read-only view of the fleet: POST /containers/create' ||
		fail "docker run: rc $rc: $out" || return 1
	log "docker run: exit $rc, '$(echo "$out" | head -1)'"
	out=$(pwd_docker rm -f pw-before 2>&1)
	rc=$?
	[ "$rc" -ne 0 ] && echo "$out" | grep -q 'read-only' || fail "docker rm: rc $rc: $out" || return 1
	dk inspect pw-before >/dev/null || fail "pw-before is gone" || return 1

	# version: peerwatchd's own, negotiated down to 1.41.
	out=$(pwd_docker version 2>&1)
	echo "$out" | grep -q 'Server: peerwatchd' && echo "$out" | grep -q 'API version: *1.41' ||
		fail "docker version: $out" || return 1
	[ "$(curl -s --unix-socket "$API" http://d/v1.42/info | jq -r .message)" = \
		"client version 1.42 is too new. Maximum supported API version is 1.41" ] ||
		fail "v1.42" || return 1
	[ "$(curl -s -o /dev/null -w '%{http_code}' -I --unix-socket "$API" http://d/_ping)" = 200 ] ||
		fail "HEAD /_ping" || return 1
	log "docker version: $(echo "$out" | grep 'Server:')"
}

# Docker /events under the API's limits: a reader that keeps up gets every
# engine's events, merged; one that does not read is dropped, not buffered.
test_docker_slow_reader() {
	local good_pid t0 n engines every=50ms drop_ms=20000

	# 2,000 events a second are more than an agent under valgrind reads;
	# under ASan on two loaded cores, half that (as api-slow-reader).
	if [ -n "${PW_VALGRIND:-}" ]; then
		every=250ms
	elif [ "$SLACK_MS" != 0 ]; then
		every=100ms
		drop_ms=$(cpu_bound 20000)
	fi
	new_netns docker-slow || return 1
	start_sim 100 --events-interval "$every" || return 1
	start_agent "nodes://127.1.0.[1:100]:2375" || return 1
	wait_api 20000 '.states.healthy == 100' || fail "not healthy" || return 1
	pwd_docker events --format '{{json .}}' >"$TMP/dgood.out" 2>&1 &
	good_pid=$!
	PIDS+=("$good_pid")
	# Reads a byte a second: its socket fills, then the agent's buffer.
	curl -sN --limit-rate 1 --unix-socket "$API" http://d/v1.41/events >/dev/null &
	PIDS+=($!)
	t0=$(now_ms)
	until api /metrics | grep -q '^peerwatch_api_events_dropped_total [1-9]'; do
		[ $(($(now_ms) - t0)) -lt "$drop_ms" ] || fail "slow Docker reader not dropped" || return 1
		sleep 0.2
	done
	log "slow Docker /events reader dropped after $(($(now_ms) - t0)) ms: $(grep -m1 'dropping a Docker' "$ALOG" | sed 's/.*api: //')"
	kill -0 "$good_pid" || fail "the reading client was dropped too" || return 1
	# More than 100 events from more than 50 engines, within 10 s.
	t0=$(now_ms)
	while :; do
		n=$(wc -l <"$TMP/dgood.out")
		engines=$(jq -r '.Actor.Attributes["node.addr"]' "$TMP/dgood.out" 2>/dev/null | sort -u | wc -l)
		[ "$n" -gt 100 ] && [ "$engines" -gt 50 ] && break
		[ $(($(now_ms) - t0)) -lt 10000 ] ||
			fail "good reader: $n events from $engines engines after 10 s: $(head -c 300 "$TMP/dgood.out")" || return 1
		sleep 0.2
	done
	kill -0 "$good_pid" || fail "the reading client was dropped" || return 1
	log "a docker events reader that keeps up stays: $n events from $engines engines, merged, $(($(now_ms) - t0)) ms after the slow one was dropped"
}

# --no-docker-api: the façade is gone from the socket (the docker CLI gets
# a clear error), the control API is not.
test_docker_off() {
	local out rc

	new_netns docker-off || return 1
	start_sim 10 || return 1
	start_agent --no-docker-api "nodes://127.1.0.[1:10]:2375" || return 1
	wait_api 20000 '.states.healthy == 10' || fail "not healthy" || return 1
	out=$(pwd_docker ps -a 2>&1)
	rc=$?
	[ "$rc" -ne 0 ] && echo "$out" | grep -q 'Docker Engine API is off here (--no-docker-api)' ||
		fail "docker ps with --no-docker-api: rc $rc: $out" || return 1
	[ "$(curl -s -o /dev/null -w '%{http_code}' --unix-socket "$API" http://d/v1.41/containers/json)" = 404 ] ||
		fail "containers/json not 404" || return 1
	[ "$(api /v1/nodes | jq length)" = 10 ] || fail "/v1/nodes" || return 1
	api /metrics | grep -q '^peerwatch_api_requests_total{route="docker",code="4xx"} [1-9]' ||
		fail "façade requests not counted under route=docker" || return 1
	log "--no-docker-api: docker ps exits $rc: '$(echo "$out" | head -1)'; /v1/nodes lists 10"
}

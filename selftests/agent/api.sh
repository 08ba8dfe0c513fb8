# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# Tests of the control API and the CLI views, sourced by run.sh (which
# provides new_netns, start_sim, start_agent, in_ns, fail, log...).
#
#   netns pwt-<pid>-<test>                                        lo only
#   +-----------------------------------------------------------------+
#   |  enginesim 127.1.0.1..  <--  peerwatchd --api-socket $API        |
#   |                              [--api-listen 127.0.0.1:2380]       |
#   +-----------------------------------------------------------------+
#        curl --unix-socket $API, peerwatch --api-socket $API (host side:
#        a UNIX socket is a file, not in the netns); TCP clients in it.

CLI=$O/peerwatch

# api PATH: the body of GET PATH; api_code PATH: its status alone. The
# bound is a hang detector, not a speed test: an agent under valgrind runs
# twenty to fifty times slower on a loaded machine, so it waits longer.
API_MAX_TIME=10
[ -n "${PW_VALGRIND:-}" ] && API_MAX_TIME=60
[ -z "${PW_VALGRIND:-}" ] && [ "$SLACK_MS" != 0 ] && API_MAX_TIME=30
api() { curl -sS --max-time "$API_MAX_TIME" --unix-socket "$API" "http://pw$1"; }
api_code() {
	curl -s -o /dev/null --max-time "$API_MAX_TIME" -w '%{http_code}' \
		--unix-socket "$API" "http://pw$1"
}

# wait_api MS JQ_FILTER: poll /v1/summary until FILTER holds; ELAPSED (ms).
summary_holds() { api /v1/summary 2>/dev/null | jq -e "$1" >/dev/null 2>&1; }
wait_api() { poll_for "$1" 0.1 summary_holds "$2"; }

# api_streams_at_least N: N event streams of the API are open.
api_streams_at_least() {
	[ "$(api /metrics 2>/dev/null | awk '$1 == "peerwatch_api_streams" { print $2 }')" -ge "$1" ] 2>/dev/null
}

# wait_file MS FILE PATTERN: until FILE has a line matching PATTERN.
wait_file() {
	local limit=$1 t0

	t0=$(now_ms)
	until grep -q -- "$3" "$2" 2>/dev/null; do
		[ $(($(now_ms) - t0)) -lt "$limit" ] || return 1
		sleep 0.05
	done
	ELAPSED=$(($(now_ms) - t0))
}

# 2,000 engines: every endpoint, its filters, and what enginesim serves.
test_api_endpoints() {
	local n i addr want got ev_pid w_pid id out bad code name key u args

	# No authentication: a non-loopback TCP address only when asked for.
	for args in "--api-listen 10.1.2.3:2380" "--api-listen 0.0.0.0:2380" \
		"--api-listen [::]:2380" "--api-listen nohost" "--api-max-clients 0"; do
		# shellcheck disable=SC2086
		out=$(pw $args --engine 127.0.0.1:1 2>&1)
		[ $? -eq 2 ] && [ -n "$out" ] || fail "'$args': $out" || return 1
	done
	pw --api-listen 0.0.0.0:2380 --engine 127.0.0.1:1 2>&1 | grep -q -- --api-listen-any ||
		fail "no hint of --api-listen-any" || return 1
	# The CLI refuses a bad command line before it connects: status 2, why.
	for args in "nodes --js" "nodes extra" "node" "node a b" "containers --label" \
		"top -i 50ms" "top -n x" "watch --bogus"; do
		# shellcheck disable=SC2086
		out=$("$CLI" $args 2>&1)
		[ $? -eq 2 ] && [[ $out == "peerwatch ${args%% *}: "* ]] ||
			fail "peerwatch $args: $out" || return 1
	done
	out=$("$CLI" nodes --js 2>&1)
	[[ $out == *"never abbreviated; did you mean --json?"* ]] ||
		fail "peerwatch nodes --js: $out" || return 1

	new_netns api || return 1
	start_sim 2000 --containers 5 --events-interval 0 || return 1
	printf '%s\n' "127.1.0.[1:255]:2375" "127.1.[1:6].[0:255]:2375" \
		"127.1.7.[0:208]:2375" >"$TMP/api.engines"
	start_agent "file://$TMP/api.engines" || return 1
	[ "$(stat -c %a "$API")" = 660 ] || fail "socket mode $(stat -c %a "$API")" || return 1
	wait_api 60000 '.states.healthy == 2000' ||
		fail "not healthy: $(api /v1/summary | jq -c .states)" || return 1
	log "2000 engines healthy after ${ELAPSED} ms"

	n=$("$SIM" ctl "$CTL" stats | jq .engines)
	got=$(api /v1/nodes | jq length)
	[ "$got" = "$n" ] || fail "/v1/nodes: $got nodes, enginesim serves $n" || return 1
	[ "$(api '/v1/nodes?state=healthy' | jq length)" = 2000 ] || fail "state=healthy" || return 1
	[ "$(api '/v1/nodes?state=down' | jq length)" = 0 ] || fail "state=down" || return 1
	[ "$(api '/v1/nodes?label=zone=z1' | jq length)" = 500 ] || fail "label zone=z1" || return 1
	[ "$(api '/v1/nodes?label=zone' | jq length)" = 2000 ] || fail "label zone" || return 1
	[ "$(api '/v1/nodes?label=zone%3Dz2&label=enginesim.index=6' | jq -r '.[].name')" = engine-6 ] ||
		fail "two labels" || return 1
	got=$(api /v1/containers | jq length)
	[ "$got" = 10000 ] || fail "/v1/containers: $got, want 2000 x 5" || return 1
	log "/v1/nodes: $n nodes; /v1/containers: $got containers (enginesim: $n engines x 5)"

	# Engine by engine, what the agent says is what the engine serves.
	for i in 1 2 255 1000 1999; do
		addr=$(api /v1/nodes | jq -r ".[$i].addr")
		want=$(in_ns curl -s "http://$addr/v1.41/containers/json?all=1" |
			jq -c '[.[] | {id: .Id, state: .State}] | sort_by(.id)')
		got=$(api "/v1/containers?node=$addr" | jq -c '[.[] | {id, state}] | sort_by(.id)')
		[ "$want" = "$got" ] || fail "$addr: agent $got, engine $want" || return 1
		want=$(echo "$want" | jq '[.[] | select(.state == "running")] | length')
		got=$(api "/v1/containers?node=$addr&state=running" | jq length)
		[ "$want" = "$got" ] || fail "$addr running: $got, want $want" || return 1
	done
	log "5 engines' containers and states match enginesim's own answers"

	# Container labels: what every engine serves, fetched from enginesim
	# itself (one curl, 2,000 URLs), counted by jq, against the agent.
	api /v1/nodes | jq -r '.[].addr | "url = \"http://\(.)/v1.41/containers/json?all=1\""' >"$TMP/urls"
	in_ns curl -s -K "$TMP/urls" | jq -s 'add' >"$TMP/served.json"
	[ "$(jq length "$TMP/served.json")" = 10000 ] ||
		fail "enginesim served $(jq length "$TMP/served.json") containers" || return 1
	for u in 'com.example.tier=web|select(.Labels["com.example.tier"] == "web")' \
		'com.example.tier=cache|select(.Labels["com.example.tier"] == "cache")' \
		'com.docker.compose.project|select(.Labels["com.docker.compose.project"] != null)' \
		'com.docker.compose.project=shop&label=com.example.tier=db|select(.Labels["com.docker.compose.project"] == "shop" and .Labels["com.example.tier"] == "db")' \
		'com.example.tier=nope|select(.Labels["com.example.tier"] == "nope")' \
		'com.example|select(.Labels["com.example"] != null)'; do
		want=$(jq -c "[.[] | ${u#*|} | .Id] | sort" "$TMP/served.json")
		got=$(api "/v1/containers?label=${u%%|*}" | jq -c '[.[].id] | sort')
		[ "$want" = "$got" ] ||
			fail "label=${u%%|*}: agent $(echo "$got" | jq length), enginesim $(echo "$want" | jq length)" || return 1
		log "label=${u%%|*}: $(echo "$got" | jq length) containers, as enginesim serves"
	done
	want=$(jq -c '[.[] | select(.Labels["com.example.tier"] == "web")] | length' "$TMP/served.json")
	[ "$want" -gt 0 ] && [ "$want" -lt 10000 ] || fail "tier=web: $want, no selection" || return 1
	id=$(jq -r '.[17].Id' "$TMP/served.json")
	[ "$(jq -c ".[] | select(.Id == \"$id\") | .Labels" "$TMP/served.json")" = \
		"$(api /v1/containers | jq -c ".[] | select(.id == \"$id\") | .labels")" ] ||
		fail "labels of $id differ" || return 1
	[ "$("$CLI" containers -j --label com.example.tier=cache --api-socket "$API" | jq length)" = \
		"$(jq '[.[] | select(.Labels["com.example.tier"] == "cache")] | length' "$TMP/served.json")" ] ||
		fail "peerwatch containers --label" || return 1
	[ "$("$CLI" containers --label com.docker.compose.project=blog --label com.example.tier=web \
		--api-socket "$API" | wc -l)" = \
		"$(jq '[.[] | select(.Labels["com.docker.compose.project"] == "blog" and .Labels["com.example.tier"] == "web")] | length + 1' "$TMP/served.json")" ] ||
		fail "peerwatch containers --label --label" || return 1

	id=$(api /v1/nodes/engine-7 | jq -r .id)
	for key in engine-7 127.1.0.8:2375 "$id"; do
		[ "$(api "/v1/nodes/$key" | jq -r '.addr, (.containers | length)' | tr '\n' ' ')" = "127.1.0.8:2375 5 " ] ||
			fail "/v1/nodes/$key" || return 1
	done
	name=$(api '/v1/containers?node=engine-7' | jq -r '.[0].name')
	[ "$(api "/v1/containers?node=engine-7&name=$name" | jq -r '.[0].name')" = "$name" ] ||
		fail "name filter" || return 1

	bad=0
	for u in '/v1/nodes?state=bogus' '/v1/nodes?foo=1' '/v1/nodes?state=healthy,bogus' \
		'/v1/nodes?state=' '/v1/nodes?state' '/v1/nodes?label==x' '/v1/nodes?name=x' \
		'/v1/containers?state=healthy' '/v1/containers?name=%zz' '/v1/containers?name=%00' \
		'/v1/nodes/engine-7?x=1' '/v1/events?x=1' '/v1/events?type=node' \
		'/v1/containers?node_state=exited'; do
		code=$(api_code "$u")
		[ "$code" = 400 ] || fail "$u: HTTP $code, want 400" || return 1
		api "$u" | jq -e '.error | length > 0' >/dev/null || fail "$u: no error" || return 1
		bad=$((bad + 1))
	done
	[ "$(api_code /v1/nodes/nope)" = 404 ] || fail "unknown node" || return 1
	[ "$(api_code /nope)" = 404 ] || fail "unknown path" || return 1
	# Under /v1/ the path is ours, known or not: our 404, not the façade's.
	for u in /v1/node /v1/nodes/engine-7/x/y /v1; do
		[ "$(api_code "$u")" = 404 ] || fail "$u: HTTP $(api_code "$u")" || return 1
		out=$(api "$u")
		echo "$out" | jq -e '(.error | length > 0) and .message == null' >/dev/null ||
			fail "$u: not /v1's 404: $out" || return 1
	done
	code=$(curl -s -o /dev/null -w '%{http_code}' -X POST --unix-socket "$API" http://pw/v1/nodes)
	[ "$code" = 405 ] || fail "POST: $code" || return 1
	log "$bad malformed filters: 400 with a reason; unknown node/path 404; POST 405"

	api /metrics >"$TMP/metrics.txt"
	out=$(promtool check metrics <"$TMP/metrics.txt" 2>&1) ||
		fail "promtool: $out" || return 1
	grep -q '^peerwatch_engines{state="healthy"} 2000$' "$TMP/metrics.txt" ||
		fail "metrics: healthy gauge" || return 1
	grep -q '^peerwatch_kernel_events_total{type="dead"} 0$' "$TMP/metrics.txt" ||
		fail "metrics: kernel events" || return 1
	log "/metrics: $(grep -vc '^#' "$TMP/metrics.txt") samples, promtool check metrics clean"

	# A transition with its cause, and a container event, as they happen.
	curl -sN --unix-socket "$API" http://pw/v1/events >"$TMP/events.out" &
	ev_pid=$!
	PIDS+=("$ev_pid")
	"$CLI" watch --api-socket "$API" >"$TMP/watch.out" 2>&1 &
	w_pid=$!
	PIDS+=("$w_pid")
	wait_api "$(bound 3000)" '.api_clients >= 3' || fail "event readers not connected" || return 1
	sim fault 127.1.0.9 reset || return 1
	wait_file 5000 "$TMP/events.out" '"addr":"127.1.0.9:2375".*"state":"down"' ||
		fail "no down transition: $(head -c 300 "$TMP/events.out")" || return 1
	log "/v1/events: $(grep -m1 '127.1.0.9:2375' "$TMP/events.out" | jq -c '{from, state, cause}') after ${ELAPSED} ms"
	sim clear 127.1.0.9 || return 1
	sim event 127.1.0.10 stop || return 1
	wait_file 3000 "$TMP/events.out" '"type":"container".*"action":"stop"' ||
		fail "no container event" || return 1
	log "/v1/events: container stop after ${ELAPSED} ms"
	wait_file 3000 "$TMP/watch.out" '127.1.0.9:2375.*healthy -> down' ||
		fail "peerwatch watch: $(cat "$TMP/watch.out")" || return 1
	wait_file 10000 "$TMP/watch.out" '127.1.0.9:2375.*-> healthy' ||
		fail "peerwatch watch: no recovery: $(cat "$TMP/watch.out")" || return 1
	log "peerwatch watch: $(grep -m1 'healthy -> down' "$TMP/watch.out")"
	api /metrics | grep -q '^peerwatch_detection_latency_seconds_count{state="down"} [1-9]' ||
		fail "no detection latency observed" || return 1

	# The CLI views, as a user runs them.
	[ "$("$CLI" nodes --api-socket "$API" | wc -l)" = 2001 ] || fail "peerwatch nodes" || return 1
	"$CLI" nodes --api-socket "$API" | head -1 | grep -q '^ADDR  *NAME  *STATE  *CAUSE  *SINCE' ||
		fail "peerwatch nodes: header" || return 1
	[ "$("$CLI" nodes -j --state healthy --label zone=z3 --api-socket "$API" | jq length)" = 500 ] ||
		fail "peerwatch nodes -j --label" || return 1
	"$CLI" node engine-7 --api-socket "$API" | grep -q '^state  *healthy$' ||
		fail "peerwatch node" || return 1
	[ "$("$CLI" containers -j --node engine-7 --api-socket "$API" | jq length)" = 5 ] ||
		fail "peerwatch containers --node" || return 1
	[ "$("$CLI" containers --api-socket "$API" | wc -l)" = 10001 ] ||
		fail "peerwatch containers" || return 1
	out=$("$CLI" top -n 2 -i 200ms --api-socket "$API")
	echo "$out" | grep -q '2000 engines' && echo "$out" | grep -q 'RATES' ||
		fail "peerwatch top: $out" || return 1
	out=$("$CLI" nodes --state nope --api-socket "$API" 2>&1)
	[ $? -eq 2 ] && echo "$out" | grep -q 'state: want' || fail "bad filter: $out" || return 1
	out=$("$CLI" nodes --api-socket "$TMP/none.sock" 2>&1)
	[ $? -eq 2 ] && echo "$out" | grep -q 'peerwatchd is not running' ||
		fail "no agent: $out" || return 1
	log "CLI: nodes, node, containers, watch, top; '$out'"
}

# slowloris N: N TCP clients each trickling header lines; each records how
# long the agent let it live, in $TMP/slow.N.
slowloris() {
	local i

	for i in $(seq "$1"); do
		# shellcheck disable=SC2016 # expanded by the inner shell
		in_ns bash -c '
			trap "" PIPE
			t0=$(date +%s%N)
			exec 3<>/dev/tcp/127.0.0.1/2380 || exit 1
			printf "GET /v1/nodes HTTP/1.1\r\n" >&3
			for k in $(seq 40); do
				printf "X-%d: y\r\n" "$k" >&3 2>/dev/null || break
				if read -r -t 0.5 -u 3 line; then
					echo "$line" >"$0.line"
					break
				fi
			done
			echo $((($(date +%s%N) - t0) / 1000000)) >"$0"
		' "$TMP/slow.$i" &
		PIDS+=($!)
		ABUSE+=($!)
	done
}

# Abuse: a huge request, slowloris clients, 1,000 concurrent clients and
# malformed filters, all at once; engine polling stays on schedule.
# Refresh every 500ms-1s, so a canary's listing is never older than ~1 s
# (0.7-0.9 s measured, ASan too); bound 1 s + 3 s of margin.
test_api_abuse() {
	local i max_age=0 age max_lat=0 t0 codes ok busy huge rc lag_le5 lag_all
	local flood=4

	valgrind_skip "1,000 concurrent clients with polling on schedule is a measure of speed" && return 4
	# Under ASan each answer costs three times the CPU, and 1,000 clients
	# on two cores busy besides measured the machine (a run at load 12:
	# 560 clients unanswered in 30 s, the probe 20.9 s behind them): 500,
	# still twice the 256 clients served at once, so every path (503s,
	# the limit, the timeouts) still runs instrumented.
	[ "$SLACK_MS" != 0 ] && flood=2

	ABUSE=()

	new_netns abuse || return 1
	start_sim 300 --containers 5 || return 1
	start_agent --api-listen 127.0.0.1:2380 --engine-refresh-min-interval 500ms \
		--engine-refresh-max-interval 1s "nodes://127.1.0.[1:255]:2375,127.1.1.[0:44]:2375" ||
		return 1
	wait_api 20000 '.states.healthy == 300' || fail "not healthy" || return 1
	sleep 2
	for i in $(seq 10); do
		age=$(canary_age)
		[ "${age:-99999}" -gt "$max_age" ] && max_age=$age
		sleep 0.2
	done
	log "before: canary listing age at most ${max_age} ms (refresh 500ms-1s)"
	max_age=0

	slowloris 50
	for i in $(seq 5); do
		{ printf 'GET /v1/nodes HTTP/1.1\r\nX-Big: '
			head -c 1048576 /dev/zero | tr '\0' a
			printf '\r\n\r\n'; } |
			socat -t 20 - "UNIX-CONNECT:$API" >"$TMP/huge.$i" 2>/dev/null &
		PIDS+=($!)
		ABUSE+=($!)
	done
	# A filter that selects nothing: each answer is [], and what the probe
	# waits for is the agent's turns, not 1,000 answers of 0.2 MB each to
	# be read by curl on a loaded host (the probe waited 16 s plain and
	# 19 s under ASan for those, at a load of 10 to 14; fd-limit's flood
	# is small for the same reason).
	api_flood many "/v1/nodes?state=down" "$flood"
	for i in $(seq 100); do
		curl -s -o /dev/null -w '%{http_code}\n' --unix-socket "$API" \
			"http://pw/v1/containers?state=x$i&label==" >>"$TMP/bad.codes" &
		PIDS+=($!)
		ABUSE+=($!)
	done
	probe_api 8000
	wait "${ABUSE[@]}"
	cat "$TMP"/many.codes.* >"$TMP/many.codes"
	codes=$(sort "$TMP/many.codes" | uniq -c | tr -s ' ' | tr '\n' ',')
	ok=$(grep -c '^200$' "$TMP/many.codes")
	busy=$(grep -c '^503$' "$TMP/many.codes")
	log "100 malformed filters: HTTP codes:$(sort "$TMP/bad.codes" | uniq -c | tr -s ' ' | tr '\n' ',')"
	huge=$(grep -l '^HTTP/1.1 431' "$TMP"/huge.* | wc -l)
	log "$((flood * 250)) concurrent clients: HTTP codes:$codes"
	log "5 requests of 1 MiB: $huge answered 431"
	log "50 slowloris clients lived $(for i in $(seq 50); do cat "$TMP/slow.$i"; done | sort -n | sed -n '1p;$p' | tr '\n' ' ')ms (min max): a 5,000 ms header deadline, each client's own clock (a bash loop polling every 0.5 s among 1,000 other clients), bound $(bound 10000) ms"
	log "during: canary listing age at most ${max_age} ms, /v1/summary at most ${max_lat} ms"
	rc=0
	[ $((ok + busy)) = $((flood * 250)) ] && [ "$ok" -gt 0 ] ||
		fail "$((flood * 250)) clients: $codes" || rc=1
	[ "$(grep -vc '^400$\|^503$' "$TMP/bad.codes")" = 0 ] || fail "malformed filters" || rc=1
	[ "$huge" = 5 ] || fail "huge requests: $huge of 5 answered 431" || rc=1
	for i in $(seq 50); do
		[ "$(cat "$TMP/slow.$i")" -le "$(bound 10000)" ] || fail "slowloris $i: $(cat "$TMP/slow.$i") ms" || rc=1
	done
	grep -q ' 408 ' "$TMP/slow.1.line" || fail "slowloris: no 408: $(cat "$TMP/slow.1.line")" || rc=1
	[ "$max_age" -le "$(bound 4000)" ] || fail "engine polling fell behind: ${max_age} ms (bound $(bound 4000))" || rc=1
	# A probe waits its turn behind up to 1,000 clients: work queued ahead
	# of it, so that part scales with the build (cpu_bound 3 s; measured
	# 3 to 400 ms). It may also wait for a slot: with all 256 taken by
	# clients that send nothing (slowloris, and curl processes starved on
	# a loaded host), the first frees at a header deadline (5 s) and the
	# linger after its 408 (5 s): 10 s (10.3 s seen at a load of 25).
	# The loop itself must never stall: no tick of it ran late by more
	# than 5 s (its own histogram; one batch of a thousand answers takes
	# over a second under ASan, a tenth of it plain).
	[ "$max_lat" -le $((10000 + $(cpu_bound 3000))) ] ||
		fail "agent slow to answer: ${max_lat} ms (bound $((10000 + $(cpu_bound 3000))))" || rc=1
	api /metrics >"$TMP/metrics.txt"
	lag_le5=$(sed -n 's/^peerwatch_event_loop_lag_seconds_bucket{le="5"} //p' "$TMP/metrics.txt")
	lag_all=$(sed -n 's/^peerwatch_event_loop_lag_seconds_count //p' "$TMP/metrics.txt")
	[ -n "$lag_all" ] && [ "$lag_le5" = "$lag_all" ] ||
		fail "event loop stalled: $lag_le5 of $lag_all ticks within 5 s" || rc=1
	log "metrics: $(grep -E '^peerwatch_api_(limit_reached|timeouts)_total|^peerwatch_event_loop_lag_seconds_(bucket\{le="(0.05|1)"\}|count)' "$TMP/metrics.txt" | tr '\n' ' ')"
	wait_api 3000 '.api_clients == 1' || fail "clients left: $(api /v1/summary | jq .api_clients)" || rc=1
	return $rc
}

# connected PORT N: at least N clients connected to the agent's PORT in
# the test's netns (accepted, or waiting in the listen backlog).
connected() {
	[ "$(in_ns ss -Htn state established "( sport = :$1 )" | wc -l)" -ge "$2" ]
}

# An operator can always look: with every place taken by clients that
# connected and said nothing (twelve on TCP for the limit's eight, each
# connecting again as soon as it is sent away), a request on the UNIX
# socket is answered within about a second (the silent ones' grace), not
# after their 5 s header deadline and the linger behind it (10 s before
# this was mended). The silent ones are told 503; one that has begun its
# request keeps its place until its deadline (408).
test_api_silent() {
	local i lat max_lat=0 told hogs=() rc=0

	ABUSE=()
	rm -f "$TMP"/slow.1* "$TMP"/hog.* "$TMP/op.codes"
	new_netns silent || return 1
	start_sim 5 || return 1
	start_agent --api-listen 127.0.0.1:2380 --api-max-clients 8 \
		"nodes://127.1.0.[1:5]:2375" || return 1
	wait_until "$(bound 10000)" "$(all_settled 5)" || fail "not healthy" || return 1
	slowloris 1
	for i in $(seq 12); do
		# shellcheck disable=SC2016 # expanded by the inner shell
		in_ns bash -c '
			trap "" PIPE
			while [ ! -e "$0.stop" ]; do
				exec 3<>/dev/tcp/127.0.0.1/2380 || exit 1
				read -r -t 30 -u 3 line && echo "$line" >>"$0"
				exec 3<&-
			done
		' "$TMP/hog.$i" &
		hogs+=($!)
		PIDS+=($!)
	done
	# Connected (the 13 accepted or waiting in the backlog): the limit is hit.
	poll_for 10000 0.05 connected 2380 13 ||
		fail "clients not connected" || return 1
	for i in $(seq 5); do
		lat=$(curl -s -o /dev/null -w '%{http_code} %{time_total}' --max-time 30 \
			--unix-socket "$API" http://pw/v1/summary | tee -a "$TMP/op.codes" | awk '$1 == 200 { printf "%d", $2 * 1000 }')
		log "operator's /v1/summary among silent clients: ${lat:-none} ms"
		[ "${lat:-30000}" -gt "$max_lat" ] && max_lat=$lat
	done
	touch "$TMP"/hog.{1..12}.stop
	wait "${hogs[@]}"
	wait "${ABUSE[@]}"
	log "operator: $(tr "\n" , <"$TMP/op.codes")"
	log "silent clients' answers: $(cat "$TMP"/hog.[0-9]* | cut -d' ' -f2 | sort | uniq -c | tr -s ' ' | tr '\n' ','); the one that began its request: '$(cat "$TMP/slow.1.line")' after $(cat "$TMP/slow.1") ms"
	# A second of grace and a few passes of the loop; the bound has 2 s
	# of margin (plus the instrumented builds').
	[ "$max_lat" -le "$(bound 3000)" ] || fail "operator waited ${max_lat} ms (bound $(bound 3000))" || rc=1
	# Those in place when the operator stopped coming meet their header
	# deadline (408); the others were told 503, one at least per request.
	told=$(cat "$TMP"/hog.[0-9]* | grep -c ' 503 ')
	[ "$(cat "$TMP"/hog.[0-9]* | grep -vc ' 503 \| 408 ')" = 0 ] && [ "$told" -ge 5 ] ||
		fail "silent clients: $(cat "$TMP"/hog.[0-9]* | sort | uniq -c)" || rc=1
	grep -q ' 408 ' "$TMP/slow.1.line" || fail "the client that began: $(cat "$TMP/slow.1.line")" || rc=1
	api /metrics >"$TMP/metrics.txt"
	grep -q '^peerwatch_api_silent_refused_total [1-9]' "$TMP/metrics.txt" ||
		fail "not counted: $(grep silent "$TMP/metrics.txt")" || rc=1
	wait_api 10000 '.api_clients == 1' || fail "clients left: $(api /v1/summary | jq .api_clients)" || rc=1
	return $rc
}

# A /v1/events reader that does not read is dropped; one that reads stays.
test_api_slow_reader() {
	local good_pid t0 every=50ms drop_ms=20000

	# 2,000 events a second are more than an agent under valgrind reads
	# while it also answers /metrics: a tenth of that, and more time for
	# the slow reader's buffer to fill.
	if [ -n "${PW_VALGRIND:-}" ]; then
		every=500ms
		drop_ms=90000
	elif [ "$SLACK_MS" != 0 ]; then
		# ASan: an agent three times slower on two loaded cores spent
		# over 10 s on each /metrics at 2,000 events a second; half
		# that rate, and the time the buffer then takes to fill.
		every=100ms
		drop_ms=$(cpu_bound 20000)
	fi
	new_netns slowreader || return 1
	start_sim 100 --events-interval "$every" || return 1
	start_agent "nodes://127.1.0.[1:100]:2375" || return 1
	wait_api 20000 '.states.healthy == 100' || fail "not healthy" || return 1
	curl -sN --unix-socket "$API" http://pw/v1/events >"$TMP/good.out" &
	good_pid=$!
	PIDS+=("$good_pid")
	# Reads a byte a second: its socket fills, then the agent's buffer.
	curl -sN --limit-rate 1 --unix-socket "$API" http://pw/v1/events >/dev/null &
	PIDS+=($!)
	t0=$(now_ms)
	until api /metrics | grep -q '^peerwatch_api_events_dropped_total [1-9]'; do
		[ $(($(now_ms) - t0)) -lt "$drop_ms" ] || fail "slow reader not dropped" || return 1
		sleep 0.2
	done
	log "slow reader dropped after $(($(now_ms) - t0)) ms: $(grep -m1 'dropping' "$ALOG" | sed 's/.*api: //')"
	kill -0 "$good_pid" || fail "the reading client was dropped too" || return 1
	t0=$(now_ms)
	until [ "$(wc -l <"$TMP/good.out")" -gt 100 ]; do
		[ $(($(now_ms) - t0)) -lt 10000 ] ||
			fail "good reader: $(wc -l <"$TMP/good.out") lines" || return 1
		sleep 0.2
	done
	log "a reader that keeps up stays: $(wc -l <"$TMP/good.out") events"
}

# peerwatch top on a terminal (tmux), as a user sees it; q quits it.
test_api_top() {
	local sess=pwt-$$-top screen t0

	command -v tmux >/dev/null || { log "SKIP: no tmux"; return 4; }
	new_netns top || return 1
	start_sim 50 || return 1
	start_agent "nodes://127.1.0.[1:50]:2375" || return 1
	wait_api 10000 '.states.healthy == 50' || fail "not healthy" || return 1
	tmux new-session -d -s "$sess" -x 100 -y 30 \
		"$CLI top -i 200ms --api-socket $API; echo top-exit=\$?; sleep 30" ||
		fail "tmux" || return 1
	# shellcheck disable=SC2034 # read by stop_all
	TEST_CLEANUP=top_cleanup
	sim fault 127.1.0.7 reset || return 1
	t0=$(now_ms)
	until tmux capture-pane -p -t "$sess" | grep -q '127.1.0.7:2375.*healthy -> down (reset'; do
		[ $(($(now_ms) - t0)) -lt 5000 ] ||
			fail "top: $(tmux capture-pane -p -t "$sess")" || return 1
		sleep 0.1
	done
	screen=$(tmux capture-pane -p -t "$sess")
	echo "$screen" | grep -q '^ENGINES  *healthy 49  *suspect 0  *unhealthy 0  *down 1' ||
		fail "top: $screen" || return 1
	log "top shows the transition $(($(now_ms) - t0)) ms after the fault:"
	echo "$screen" | sed -n '1,4p;/RECENT/,+1p' | sed 's/^/#   /'
	tmux send-keys -t "$sess" q
	t0=$(now_ms)
	until tmux capture-pane -p -t "$sess" | grep -q '^top-exit=0'; do
		[ $(($(now_ms) - t0)) -lt 3000 ] || fail "q did not quit top" || return 1
		sleep 0.1
	done
}

top_cleanup() { tmux kill-session -t "pwt-$$-top" 2>/dev/null; }

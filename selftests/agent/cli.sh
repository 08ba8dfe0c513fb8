# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# The CLI as scripts and shells use it (issue 21), sourced by run.sh after
# api.sh (api, api_code, CLI).
#
#   netns pwt-<pid>-cli                                            lo only
#   +-------------------------------------------------------------------+
#   |  enginesim 127.1.0.1..12   <--  peerwatchd --api-socket $API      |
#   |  (127.1.0.99:2399: nobody)         --api-listen 127.0.0.1:2380       |
#   +-------------------------------------------------------------------+
#        peerwatch --api-socket $API (host side), peerwatch -H tcp://
#        127.0.0.1:2380 and PEERWATCH_HOST (in the netns)

CLI_TCP=tcp://127.0.0.1:2380
VERSION=$(cat VERSION)

# cli_is WANT ARGS...: peerwatch ARGS prints exactly WANT (stdout).
cli_is() {
	local want=$1 got

	shift
	got=$("$CLI" "$@" 2>&1)
	[ "$got" = "$want" ] || fail "peerwatch $*: '$got', want '$want'"
}

# cli_rc RC ARGS...: peerwatch ARGS exits RC; its output in OUT.
cli_rc() {
	local want=$1 rc

	shift
	OUT=$("$CLI" "$@" 2>&1)
	rc=$?
	[ "$rc" -eq "$want" ] || fail "peerwatch $*: exit $rc, want $want: $OUT"
}

down_list="127.1.0.9:2375
127.1.0.10:2375
127.1.0.99:2399"

# Exit statuses, -q, --format, combined filters, numeric order, stale
# containers, -H tcp://, node by host and ID prefix, watch --type and
# its reconnection, version.
test_cli_scripting() {
	local out id prefix w_pid q_pid w_out w_err i

	new_netns cli || return 1
	start_sim 12 --containers 2 || return 1
	start_agent --api-listen 127.0.0.1:2380 --request-timeout 1s \
		--engine-failure-retry 2 --engine-refresh-min-interval 1s \
		--engine-refresh-max-interval 1s --backoff-max 2s \
		"nodes://127.1.0.[1:12]:2375,127.1.0.99:2399" || return 1
	wait_api 15000 '.states.healthy == 12' || fail "not healthy" || return 1
	sim fault 127.1.0.9 reset || return 1
	sim fault 127.1.0.10 freeze || return 1
	wait_api 15000 '.states.healthy == 10 and .states.down == 2 and .states.unhealthy == 1' ||
		fail "not 2 down, 1 unhealthy: $(api /v1/nodes | jq -c 'map([.addr, .state])')" || return 1
	set -- --api-socket "$API"

	# grep's exit statuses: a row, none, an error.
	cli_rc 0 nodes "$@" --state down || return 1
	cli_rc 1 nodes "$@" --state suspect -q || return 1
	[ -z "$OUT" ] || fail "no row, yet: $OUT" || return 1
	cli_rc 2 nodes "$@" --state bogus || return 1
	[ "$OUT" = "peerwatch: /v1/nodes?state=bogus: state: want pending, healthy, suspect, unhealthy or down, or several: down,unhealthy" ] ||
		fail "bad state: $OUT" || return 1
	cli_rc 2 nodes -H unix:///nonexistent/sock || return 1
	cli_rc 1 node "$@" 127.1.0.77 || return 1
	[ "$OUT" = "peerwatch: /v1/nodes/127.1.0.77: no such node" ] || fail "$OUT" || return 1
	cli_rc 0 containers "$@" --node 127.1.0.3 || return 1
	cli_rc 1 containers "$@" --name no-such-container || return 1

	# States combine, both ways, on the CLI and the API; numeric order.
	cli_is "$down_list" nodes "$@" -q --state down,unhealthy || return 1
	cli_is "$down_list" nodes "$@" -q --state down --state unhealthy || return 1
	[ "$(api '/v1/nodes?state=down&state=unhealthy' | jq length)" = 3 ] ||
		fail "state=down&state=unhealthy" || return 1
	[ "$(api '/v1/nodes?state=down,unhealthy' | jq length)" = 3 ] ||
		fail "state=down,unhealthy" || return 1
	out=$(for i in $(seq 12); do echo "127.1.0.$i:2375"; done; echo 127.1.0.99:2399)
	cli_is "$out" nodes "$@" -q || return 1
	[ "$("$CLI" nodes "$@" -j | jq -r '.[].addr')" = "$out" ] ||
		fail "-j not in address order" || return 1

	# An engine never reached: "-" in NAME, as any empty column.
	out=$("$CLI" nodes "$@" --state down | awk '$1 == "127.1.0.99:2399" { print $2 }')
	[ "$out" = - ] || fail "NAME of an engine never reached: '$out'" || return 1

	# --format: fields, table, json; refused before connecting.
	cli_is "127.1.0.10:2375 unhealthy" nodes "$@" --state unhealthy \
		--format '{{.Addr}} {{.State}}' || return 1
	out=$("$CLI" nodes "$@" --state down,unhealthy --format 'table {{.Addr}}\t{{.State}}\t{{.Name}}')
	[ "$(echo "$out" | head -n 1)" = "ADDR             STATE      NAME" ] &&
		[ "$(echo "$out" | tail -n 1)" = "127.1.0.99:2399  down       -" ] ||
		fail "table format: $out" || return 1
	out=$("$CLI" nodes "$@" --format '{{json .}}' | jq -r .addr | tail -n 1)
	[ "$out" = 127.1.0.99:2399 ] || fail "{{json .}}: $out" || return 1
	[ "$("$CLI" nodes "$@" --format json | jq -s length)" = 13 ] ||
		fail "--format json" || return 1
	cli_rc 2 nodes -H unix:///nonexistent/sock --format '{{.Adr}}' || return 1
	[[ $OUT == "peerwatch nodes: --format: unknown field .Adr: fields are .Addr .ID .Name "* ]] ||
		fail "unknown field: $OUT" || return 1
	cli_rc 2 nodes "$@" -q --format '{{.Addr}}' || return 1
	[ "$OUT" = "peerwatch nodes: --format and -q: one or the other" ] || fail "$OUT" || return 1

	# Containers: by their engine's state, stale when it is not healthy.
	[ "$("$CLI" containers "$@" -q --node-state down,unhealthy | wc -l)" = 4 ] ||
		fail "containers of down and unhealthy engines" || return 1
	[ "$("$CLI" containers "$@" -q --node-state healthy | wc -l)" = 20 ] ||
		fail "containers of healthy engines" || return 1
	[ "$("$CLI" containers "$@" -q | head -n 1 | tr -d '\n' | wc -c)" = 12 ] ||
		fail "-q: short IDs" || return 1
	out=$("$CLI" containers "$@" --node-state down --format '{{.Node}} {{.Stale}} {{.NodeState}}' | sort -u)
	[ "$out" = "127.1.0.9:2375 true down" ] || fail "stale: $out" || return 1
	out=$("$CLI" containers "$@" --node 127.1.0.3 --format '{{.Stale}}' | sort -u)
	[ "$out" = false ] || fail "stale on a healthy engine: $out" || return 1
	[ "$(api '/v1/containers?node=127.1.0.9' | jq '[.[] | select(.stale and .listed != null)] | length')" = 2 ] ||
		fail "/v1/containers: stale and listed" || return 1
	out=$("$CLI" containers "$@" --node 127.1.0.9:2375 | awk 'NR == 2 { print $5 }')
	[[ $out =~ ^[0-9]+[smhd]$ ]] || fail "STALE column: '$out'" || return 1
	cli_rc 2 containers "$@" --node-state running || return 1
	[[ $OUT == *"node_state: want pending, healthy, suspect, unhealthy or down"* ]] ||
		fail "$OUT" || return 1

	# The Docker façade: Status says the listing is stale, State is kept;
	# inspect on an engine known down answers at once, with its cause.
	out=$(curl -sS -G --unix-socket "$API" http://pw/containers/json \
		--data-urlencode all=1 --data-urlencode 'filters={"node":["127.1.0.9:2375"]}')
	[ "$(echo "$out" | jq '[.[] | select(.Status | test(" \\(engine down [0-9]+s\\)$"))] | length')" = 2 ] &&
		[ "$(echo "$out" | jq -r '[.[].State] | unique | join(",")')" = "$(api '/v1/containers?node=127.1.0.9' | jq -r '[.[].state] | unique | join(",")')" ] ||
		fail "façade Status of a down engine: $(echo "$out" | jq -c 'map([.State, .Status])')" || return 1
	out=$(curl -sS -G --unix-socket "$API" http://pw/containers/json \
		--data-urlencode all=1 --data-urlencode 'filters={"node":["127.1.0.3:2375"]}')
	[ "$(echo "$out" | jq '[.[] | select(.Status | test("engine"))] | length')" = 0 ] ||
		fail "façade Status of a healthy engine: $(echo "$out" | jq -c 'map(.Status)')" || return 1
	id=$(api '/v1/containers?node=127.1.0.10' | jq -r '.[0].id')
	out=$(curl -sS -w ' %{http_code} %{time_total}' --max-time 8 --unix-socket "$API" \
		"http://pw/containers/$id/json")
	[[ $out == '{"message":"peerwatchd: container '"${id:0:12}"' is on engine '*' (127.1.0.10:2375), unhealthy for '*'s (ping-timeout: '*'): its details cannot be asked now"}'?' 503 '* ]] ||
		fail "inspect on an unhealthy engine: $out" || return 1
	log "inspect on an unhealthy engine: HTTP 503 in ${out##* } s"

	# node: by address without its port, by a unique ID prefix.
	[ "$("$CLI" node "$@" 127.1.0.3 -j | jq -r .addr)" = 127.1.0.3:2375 ] ||
		fail "node by host" || return 1
	id=$(api /v1/nodes/127.1.0.4:2375 | jq -r .id)
	prefix=${id:0:10}
	[ "$("$CLI" node "$@" "$prefix" -j | jq -r .addr)" = 127.1.0.4:2375 ] ||
		fail "node by ID prefix $prefix" || return 1
	# An ambiguous prefix: the candidates are named.
	prefix=$(api /v1/nodes | jq -r '[.[].id | select(. != "")] | map(.[0:1]) | group_by(.) | map(select(length > 1)) | .[0][0] // empty')
	[ -n "$prefix" ] || fail "no two engine IDs share a first character" || return 1
	cli_rc 2 node "$@" "$prefix" || return 1
	[[ $OUT == "peerwatch: /v1/nodes/$prefix: '$prefix' is ambiguous: "*" engines match: 127.1.0."* ]] ||
		fail "ambiguous: $OUT" || return 1
	log "$OUT"

	# -H tcp:// and PEERWATCH_HOST, as docker's, to --api-listen.
	out=$(in_ns "$CLI" nodes -H "$CLI_TCP" -q --state down,unhealthy) &&
		[ "$out" = "$down_list" ] || fail "-H $CLI_TCP: $out" || return 1
	out=$(PEERWATCH_HOST=$CLI_TCP in_ns "$CLI" nodes -q --state unhealthy) &&
		[ "$out" = 127.1.0.10:2375 ] || fail "PEERWATCH_HOST: $out" || return 1
	out=$(PEERWATCH_HOST=unix://$API "$CLI" nodes -q --state unhealthy) &&
		[ "$out" = 127.1.0.10:2375 ] || fail "PEERWATCH_HOST unix://: $out" || return 1
	out=$(in_ns "$CLI" nodes -H tcp://127.0.0.1:2381 2>&1)
	[ "$out" = "peerwatch: peerwatchd is not reachable at tcp://127.0.0.1:2381: Connection refused" ] ||
		fail "tcp refused: $out" || return 1
	cli_rc 2 nodes -H http://127.0.0.1:2380 || return 1
	[[ $OUT == "peerwatch nodes: --host 'http://127.0.0.1:2380': want unix://PATH or tcp://HOST:PORT"* ]] ||
		fail "-H http://: $OUT" || return 1
	out=$(PEERWATCH_HOST=127.0.0.1:2380 "$CLI" nodes 2>&1)
	[ "$out" = "peerwatch: PEERWATCH_HOST '127.0.0.1:2380': want unix://PATH or tcp://HOST:PORT" ] ||
		fail "PEERWATCH_HOST bad: $out" || return 1

	# version: the CLI's and the agent's; top -j.
	out=$("$CLI" version "$@")
	[ "$out" = "peerwatch $VERSION
agent:    $VERSION ($API)" ] || fail "version: $out" || return 1
	[ "$("$CLI" --version)" = "peerwatch $VERSION" ] || fail "--version" || return 1
	[ "$("$CLI" top "$@" -j -n 1 | jq -r .version)" = "$VERSION" ] ||
		fail "top -j" || return 1

	# watch --type engine: transitions only, while containers come and go.
	w_out=$TMP/cli.watch.out
	w_err=$TMP/cli.watch.err
	"$CLI" watch "$@" --type engine --reconnect 30s \
		--format '{{.Type}} {{.Addr}} {{.State}}' >"$w_out" 2>"$w_err" &
	w_pid=$!
	PIDS+=("$w_pid")
	"$CLI" watch "$@" -q --type engine --reconnect 0 >"$w_out.q" 2>&1 &
	q_pid=$!
	PIDS+=("$q_pid")
	[ "$(api_code '/v1/events?type=bogus')" = 400 ] || fail "?type=bogus" || return 1
	# Both watchers subscribed before anything changes.
	poll_for 10000 0.1 api_streams_at_least 2 ||
		fail "watchers not subscribed: $(cat "$w_err")" || return 1
	sim fault 127.1.0.5 reset || return 1
	sim event 127.1.0.6 start >/dev/null 2>&1
	wait_file 10000 "$w_out" "engine 127.1.0.5:2375 down" ||
		fail "watch --type engine: $(cat "$w_out" "$w_err")" || return 1
	! grep -qv '^engine ' "$w_out" || fail "not only engines: $(cat "$w_out")" || return 1
	wait_file 3000 "$w_out.q" '^127\.1\.0\.5:2375$' &&
		! grep -qv '^127\.1\.0\.[0-9]*:2375$' "$w_out.q" ||
		fail "watch -q: $(cat "$w_out.q")" || return 1
	kill "$q_pid"
	wait "$q_pid" 2>/dev/null

	# The agent restarts: watch says so, reconnects, and goes on.
	stop_agent || return 1
	wait_file 5000 "$w_err" "reconnecting for up to 30s" ||
		fail "watch on a lost agent: $(cat "$w_err")" || return 1
	start_agent --api-listen 127.0.0.1:2380 "nodes://127.1.0.[1:12]:2375" || return 1
	# The agent's start (slower under valgrind), then a backoff of 5 s at most.
	wait_file "$(bound 15000)" "$w_err" "reconnected after" ||
		fail "watch did not reconnect: $(cat "$w_err")" || return 1
	log "watch reconnected after the agent's restart: $(tr '\n' '|' <"$w_err")"
	sim fault 127.1.0.11 reset || return 1
	wait_file "$(bound 10000)" "$w_out" "engine 127.1.0.11:2375 down" ||
		fail "no event after reconnecting: $(cat "$w_out")" || return 1
	! grep -q "unexpected time" "$w_err" || fail "http_parser's words: $(cat "$w_err")" || return 1
	kill "$w_pid"
	wait "$w_pid" 2>/dev/null

	# Once given up, or never reached, watch says so in its own words.
	cli_rc 1 watch -H unix:///nonexistent/sock || return 1
	[ "$OUT" = "peerwatch: peerwatchd is not running (no control API at /nonexistent/sock: No such file or directory)" ] ||
		fail "watch with no agent: $OUT" || return 1
	cli_rc 2 watch "$@" --type node || return 1
	[[ $OUT == "peerwatch watch: --type 'node': want engine or container"* ]] ||
		fail "--type node: $OUT" || return 1
}

# bash completion: it parses; compgen completes subcommands, flags that
# each subcommand's --help names, states, and engines from the agent.
test_cli_completion() {
	local comp=dist/peerwatch.bash-completion out sub flag

	bash -n "$comp" || fail "bash -n $comp" || return 1
	# shellcheck disable=SC2016
	complete_words() {
		PATH=$O:$PATH PEERWATCH_HOST=${API:+unix://$API} bash -c '
			. "$1"; shift
			COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
			_peerwatch
			printf "%s\n" "${COMPREPLY[@]}"' _ "$comp" peerwatch "$@"
	}
	[ "$(bash -c ". $comp; complete -p peerwatch")" = "complete -F _peerwatch peerwatch" ] ||
		fail "complete -p" || return 1
	[ "$(complete_words no | tr '\n' ' ')" = "nodes node " ] ||
		fail "subcommands: $(complete_words no)" || return 1
	[ "$(complete_words nodes --st)" = --state ] || fail "nodes --st" || return 1
	[ "$(complete_words nodes --state d)" = down ] || fail "--state d" || return 1
	[ "$(complete_words containers --state ex)" = exited ] || fail "containers --state" || return 1
	[ "$(complete_words watch --type e)" = engine ] || fail "--type" || return 1
	[ "$(complete_words sockets dev l)" = lo ] || fail "sockets dev" || return 1
	# Every flag completed is one the subcommand's --help names.
	for sub in nodes node containers watch top version sockets; do
		for flag in $(complete_words "$sub" - | grep -vx -- '-h\|--help'); do
			"$CLI" "$sub" --help | grep -q -- "$flag\b" ||
				fail "$sub: $flag completed, not in its --help" || return 1
		done
	done
	new_netns clicomp || return 1
	start_sim 3 || return 1
	start_agent "nodes://127.1.0.[1:3]:2375" || return 1
	wait_api 10000 '.states.healthy == 3' || fail "not healthy" || return 1
	out=$(complete_words node 127.1.0. | tr '\n' ' ')
	[ "$out" = "127.1.0.1:2375 127.1.0.2:2375 127.1.0.3:2375 " ] ||
		fail "engines: '$out'" || return 1
	out=$(complete_words containers --node 127.1.0.2 | tr '\n' ' ')
	[ "$out" = "127.1.0.2:2375 " ] || fail "--node: '$out'" || return 1
}

# The agent's errors name the problem (issue 21, item 10): the bad token
# quoted with its position, the scheme's real problem, tcp:// taken, the
# files of DOCKER_CERT_PATH named, fractions of seconds and a ping
# deadline above the request's refused.
test_cli_errors() {
	local out rc ep peer dir=$TMP/certs

	out=$(pw --keepalive-idle 1500ms --engine 127.0.0.1:1 2>&1)
	rc=$?
	[ $rc -eq 2 ] && [ "$out" = "peerwatchd: --keepalive-idle: 1500ms is not a whole number of seconds (the kernel counts in seconds: 1s, 2s...)" ] ||
		fail "keepalive-idle 1500ms: $rc $out" || return 1
	out=$(pw --ping-timeout 20s --engine 127.0.0.1:1 2>&1)
	rc=$?
	[ $rc -eq 2 ] && [ "$out" = "peerwatchd: --ping-timeout 20s is above --request-timeout 10s: a ping's deadline is at most a request's" ] ||
		fail "ping-timeout 20s: $rc $out" || return 1
	out=$(pw --engine http://127.1.0.3:2375 2>&1)
	rc=$?
	[ $rc -eq 2 ] && [ "$out" = "peerwatchd: --engine 'http://127.1.0.3:2375': http:// is not how Docker names an engine: write tcp://HOST:PORT or HOST:PORT" ] ||
		fail "--engine http://: $rc $out" || return 1
	mkdir -p "$dir" && : >"$dir/key.pem" && : >"$dir/ca.pem"
	out=$(DOCKER_CERT_PATH=$dir DOCKER_TLS_VERIFY=1 pw --engine 127.0.0.1:1 2>&1)
	rc=$?
	[ $rc -eq 2 ] && [ "$out" = "peerwatchd: $dir holds key.pem but not cert.pem: a client key and its certificate go together" ] ||
		fail "DOCKER_CERT_PATH with key.pem alone: $rc $out" || return 1
	# A device in an endpoint (ADDR%DEV:PORT, [ADDR6%DEV]:PORT): parsed,
	# then the module is asked (not loaded on this host: exit 1); an
	# unknown, empty or overlong device is a usage error (exit 2).
	for ep in '127.0.0.1%lo:80' '[::1%lo]:80' '127.0.0.1%1:80'; do
		peer=127.0.0.1:81
		[[ $ep == \[* ]] && peer='[::1]:81'
		"$CLI" set-timeout "$ep" "$peer" 1s >/dev/null 2>&1
		rc=$?
		[ $rc -eq 1 ] || fail "set-timeout $ep: exit $rc, not parsed" || return 1
	done
	for ep in '127.0.0.1%nosuch0:80' '127.0.0.1%:80' '[::1%lo:80' \
		  "127.0.0.1%$(printf 'x%.0s' $(seq 20)):80" '127.0.0.1:80%lo'; do
		out=$("$CLI" set-timeout "$ep" 127.0.0.1:81 1s 2>&1)
		rc=$?
		[ $rc -eq 2 ] || fail "set-timeout $ep: exit $rc: $out" || return 1
	done
	out=$("$CLI" sockets dev nosuch0 2>&1)
	[ $? -eq 2 ] && [[ $out == *"no device 'nosuch0'"* ]] ||
		fail "sockets dev nosuch0: $out" || return 1

	new_netns clierr || return 1
	start_sim 2 || return 1
	start_agent "nodes://tcp://127.1.0.1:2375,garbage,http://127.1.0.3:2375,127.1.0.2:2375" || return 1
	wait_api 10000 '.states.healthy == 2 and .engines == 2' ||
		fail "tcp:// entry not watched: $(api /v1/nodes | jq -c 'map(.addr)')" || return 1
	grep -qF "discovery: nodes:// entry 2: 'garbage': missing :port" "$ALOG" &&
		grep -qF "discovery: nodes:// entry 3: 'http://127.1.0.3:2375': http:// is not how Docker names an engine: write tcp://HOST:PORT or HOST:PORT" "$ALOG" ||
		fail "discovery warnings: $(grep discovery "$ALOG")" || return 1
	! grep -q "need brackets" "$ALOG" || fail "brackets: $(grep brackets "$ALOG")" || return 1
}

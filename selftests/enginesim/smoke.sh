#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# enginesim smoke test: a 2,000-engine fleet in a private network
# namespace, every route and every fault checked from outside with curl,
# bash's /dev/tcp and "enginesim ctl".
#
#   netns es-smoke-PID, lo up
#   +--------------------------------------------------------------+
#   |  enginesim --count 2000 --ctl $tmp/ctl    *:2375             |
#   |    engine i at 127.1.0.1 + i (127.1.0.1 .. 127.1.7.208)      |
#   |  enginesim --count 2000 --reuseport ...   *:2376 (x2, twins) |
#   |  curl, bash /dev/tcp  ---> 127.1.x.y:2375 / :2376            |
#   +--------------------------------------------------------------+
#
# usage: smoke.sh [BUILD_DIR]    (default build; needs root, ip, curl)
# Ends with "enginesim: N passed, N failed, N skipped"; non-zero on failure.
set -u
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=../../scripts/suite.sh
. scripts/suite.sh

O=${1:-build}
case $O in
/*) SIM=$O/enginesim ;;
*) SIM=$PWD/$O/enginesim ;;
esac
ns=es-smoke-$$
tmp=$(mktemp -d)
pids=()
COUNT=2000
LAST=127.1.7.208
PORT=2375

cleanup() {
	local p

	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null
	done
	for p in "${pids[@]}"; do
		wait "$p" 2>/dev/null
	done
	ip netns del "$ns" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

in_ns() { ip netns exec "$ns" "$@"; }
ctl() { "$SIM" ctl "$tmp/ctl" "$@"; }
url() { echo "http://$1:${3:-$PORT}$2"; }
get() { in_ns curl -s -m 5 "$(url "$1" "$2")"; }

# check NAME CMD...: one test, passed when CMD succeeds, skipped when it
# returns 4.
check() {
	local name=$1 rc

	shift
	"$@"
	rc=$?
	if [ $rc = 0 ]; then
		echo "ok $name"
		suite_record "$name" pass
	elif [ $rc = 4 ]; then
		echo "ok $name # SKIP"
		suite_record "$name" skip
	else
		echo "not ok $name"
		suite_record "$name" fail
	fi
}

# wait_until SECONDS CMD...: poll CMD every 50 ms; fails at the deadline.
wait_until() {
	local end=$((SECONDS + $1))

	shift
	until "$@"; do
		[ "$SECONDS" -ge "$end" ] && return 1
		sleep 0.05
	done
}

# bg OUT CMD...: run CMD in the namespace in the background, output to OUT.
# "ip netns exec" execs CMD, so $! is CMD's own PID.
bg() {
	local out=$1

	shift
	ip netns exec "$ns" "$@" >"$out" 2>&1 &
	pids+=($!)
	last_pid=$!
}

start_sim() {
	bg "$tmp/sim.log" "$SIM" --count "$COUNT" --ctl "$tmp/ctl" \
		--events-interval 500ms --seed 7
	sim_pid=$last_pid
	wait_until 5 ctl stats >/dev/null 2>&1
}

if [ ! -x "$SIM" ]; then
	echo "# FAIL: build $SIM first"
	suite_record build fail
	suite_end enginesim
	exit
fi
if [ "$(id -u)" -ne 0 ] || ! command -v curl >/dev/null ||
   ! command -v ip >/dev/null; then
	echo "# skip: needs root, ip and curl"
	suite_record "enginesim smoke" skip
	suite_end enginesim
	exit
fi
ip netns add "$ns" && ip -n "$ns" link set lo up || exit 1

check "fleet starts and answers on its control socket" start_sim

# -- routes ---------------------------------------------------------------

t_ping() {
	local h

	h=$(in_ns curl -s -i -m 5 "$(url "$1" /_ping)" | tr -d '\r')
	grep -qx 'Api-Version: 1.41' <<<"$h" &&
	grep -qx 'Server: Docker/20.10.24+dfsg1 (linux)' <<<"$h" &&
	[ "$(tail -n 1 <<<"$h")" = OK ]
}
check "ping first engine" t_ping 127.1.0.1
check "ping last engine $LAST" t_ping $LAST
check "address outside the fleet is closed" \
	bash -c "! ip netns exec $ns curl -s -m 2 $(url 127.1.7.209 /_ping)"

t_head() {
	local h

	h=$(in_ns curl -s -I -m 5 "$(url 127.1.0.2 /_ping)" | tr -d '\r')
	grep -qx 'HTTP/1.1 200 OK' <<<"$h" && grep -qx 'Content-Length: 0' <<<"$h"
}
check "HEAD /_ping" t_head

t_version() {
	local h

	h=$(in_ns curl -s -i -m 5 "$(url 127.1.0.3 /v1.41/version)" | tr -d '\r')
	grep -q '^Content-Length: ' <<<"$h" &&
	grep -q '"ApiVersion":"1.41"' <<<"$h"
}
check "/version (versioned path, Content-Length)" t_version

t_info() {
	local h

	h=$(in_ns curl -s -i --raw -m 5 "$(url 127.1.0.1 /info)" | tr -d '\r')
	grep -qx 'Transfer-Encoding: chunked' <<<"$h" &&
	grep -q '"Name":"engine-0"' <<<"$h" &&
	grep -qE '"ID":"[A-Z2-7]{4}(:[A-Z2-7]{4}){11}"' <<<"$h" &&
	grep -q '"ServerVersion":"20.10.24+dfsg1"' <<<"$h" &&
	[ "$(tail -n 1 <<<"$h")" = 0 ]
}
check "/info (chunked, dockerd ID format, name)" t_info

engine_id() { get "$1" /info | grep -oE '"ID":"[^"]*"'; }
t_distinct() { [ "$(engine_id 127.1.0.1)" != "$(engine_id 127.1.0.2)" ]; }
check "engines have distinct IDs" t_distinct

t_list() {
	[ "$(get 127.1.0.4 '/containers/json?all=1' | grep -o '"Id":' | wc -l)" = 5 ]
}
check "/containers/json?all=1 lists 5 containers" t_list

t_inspect() {
	local id

	id=$(get 127.1.0.4 '/containers/json?all=1' | grep -oE '"Id":"[0-9a-f]{64}"' |
	     head -n 1 | cut -d'"' -f4)
	get 127.1.0.4 "/containers/${id:0:10}/json" | grep -q "^{\"Id\":\"$id\""
}
check "inspect by ID prefix" t_inspect

t_404() {
	local h

	h=$(in_ns curl -s -i -m 5 "$(url 127.1.0.4 /containers/nosuch/json)" | tr -d '\r')
	grep -q '^HTTP/1.1 404' <<<"$h" &&
	grep -qx '{"message":"No such container: nosuch"}' <<<"$h" &&
	[ "$(get 127.1.0.4 /nope)" = '{"message":"page not found"}' ]
}
check "404s have dockerd's bodies" t_404

# raw ADDR REQUESTS: send raw bytes, print the answer until EOF or 5 s.
raw() {
	# shellcheck disable=SC2016 # expanded by the inner shell
	in_ns bash -c 'exec 3<>/dev/tcp/$0/'"$PORT"'; printf "$1" >&3; timeout 5 cat <&3' \
		"$1" "$2"
}

t_pipeline() {
	local r

	r=$(raw 127.1.0.5 'GET /_ping HTTP/1.1\r\nHost: x\r\n\r\nGET /version HTTP/1.1\r\nHost: x\r\n\r\nHEAD /_ping HTTP/1.1\r\nHost: x\r\n\r\nGET /_ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')
	[ "$(grep -o 'HTTP/1.1 200 OK' <<<"$r" | wc -l)" = 4 ] &&
	grep -q '^Connection: close' <<<"$r"
}
check "pipelined keep-alive requests, Connection: close" t_pipeline

# Closed: raw returns at the EOF (milliseconds), not at its 5 s timeout;
# 4 s leaves the margin a loaded machine needs on either side.
t_close() {
	local t0

	t0=$(date +%s%N)
	raw 127.1.0.5 'GET /_ping HTTP/1.1\r\nConnection: close\r\n\r\n' >/dev/null
	[ $((($(date +%s%N) - t0) / 1000000)) -lt 4000 ]
}
check "server closes after Connection: close" t_close

t_bad() {
	raw 127.1.0.5 'NOT HTTP\r\n\r\n' | grep -q '^HTTP/1.1 400 Bad Request'
}
check "malformed request gets 400" t_bad

# As dockerd (Go): a 15 s keepalive on every accepted connection, which
# also ends those whose client vanished.
t_keepalive() {
	local r

	r=$(in_ns bash -c 'exec 3<>/dev/tcp/127.1.0.6/'"$PORT"'; sleep 0.3
		ss -Htno state established "( sport = :'"$PORT"' and src 127.1.0.6 )"')
	grep -qE 'timer:\(keepalive,1[0-5](\.[0-9]+)?sec,0\)' <<<"$r" ||
		{ echo "# ss: $r"; return 1; }
}
check "accepted connections have a 15 s keepalive" t_keepalive

t_all() {
	local i a urls=()

	for ((i = 0; i < COUNT; i++)); do
		a=$((0x7f010001 + i))
		urls+=("http://$((a >> 24)).$((a >> 16 & 255)).$((a >> 8 & 255)).$((a & 255)):$PORT/_ping" -o /dev/stdout)
	done
	[ "$(in_ns curl -s -m 60 --parallel --parallel-max 200 "${urls[@]}" 2>/dev/null |
	     grep -o OK | wc -l)" = "$COUNT" ]
}
check "all $COUNT engines answer" t_all

# -- events ---------------------------------------------------------------

# stream ADDR OUT: follow ADDR's /events into OUT; returns once the
# answer's headers are in, when enginesim has subscribed the stream (it
# does both in one step), so no event sent after it can be missed.
stream() {
	bg "$2" curl -s -N --raw -D "$2.hdr" "$(url "$1" /events)"
	wait_until 10 test -s "$2.hdr"
}

t_events_ctl() {
	stream 127.1.0.6 "$tmp/ev6" &&
	ctl event 127.1.0.6 create smoke1 >/dev/null &&
	ctl event 127.1.0.6 start smoke1 >/dev/null &&
	wait_until 10 grep -q '"Action":"start".*"name":"smoke1"' "$tmp/ev6" &&
	grep -q '"Action":"create".*"name":"smoke1"' "$tmp/ev6" &&
	get 127.1.0.6 /containers/json | grep -q '"Names":\["/smoke1"\].*"State":"running"'
}
check "ctl event reaches /events and /containers/json" t_events_ctl

t_events_sched() {
	stream 127.1.0.7 "$tmp/ev7" &&
	wait_until 10 grep -q '"Type":"container"' "$tmp/ev7"
}
check "synthetic events every --events-interval" t_events_sched

# -- faults ---------------------------------------------------------------

t_freeze() {
	local rc

	ctl fault 127.1.0.10-127.1.0.12 freeze >/dev/null || return 1
	in_ns curl -s -m 1 "$(url 127.1.0.11 /_ping)" >/dev/null
	rc=$?
	[ $rc = 28 ] || return 1
	# A request held by the frozen engine is answered once it thaws.
	bg "$tmp/thaw" curl -s -m 5 "$(url 127.1.0.12 /_ping)"
	sleep 0.3
	ctl clear 127.1.0.10-127.1.0.12 >/dev/null &&
	wait_until 3 grep -qx OK "$tmp/thaw"
}
check "freeze: no answer; clear answers what was held" t_freeze

t_reset() {
	local rc

	stream 127.1.0.13 "$tmp/ev13" || return 1
	local sp=$last_pid
	ctl fault 127.1.0.13 reset >/dev/null || return 1
	wait_until 10 bash -c "! kill -0 $sp 2>/dev/null" || return 1
	in_ns curl -s -m 2 "$(url 127.1.0.13 /_ping)"
	rc=$?
	ctl clear 127.1.0.13 >/dev/null
	[ $rc = 56 ] || [ $rc = 7 ] || return 1
	[ "$(get 127.1.0.13 /_ping)" = OK ]
}
check "reset: RST open and new connections; clear recovers" t_reset

t_refuse() {
	local rc

	ctl fault 127.1.0.14 refuse >/dev/null || return 1
	in_ns curl -s -m 2 "$(url 127.1.0.14 /_ping)"
	rc=$?
	ctl clear 127.1.0.14 >/dev/null
	[ $rc = 52 ]
}
check "refuse: closed without an answer" t_refuse

t_slow() {
	local t

	ctl fault 127.1.0.15 slow 200 >/dev/null || return 1
	t=$(in_ns curl -s -o /dev/null -m 10 -w '%{time_total}' "$(url 127.1.0.15 /_ping)")
	ctl clear 127.1.0.15 >/dev/null
	# About 290 bytes at 200 B/s: 1.45 s, + 3 s of margin.
	[ "${t%%.*}" -ge 1 ] && [ "${t%%.*}" -lt 5 ]
}
check "slow: 200 B/s trickle" t_slow

t_malformed() {
	local rc

	ctl fault 127.1.0.16 malformed >/dev/null || return 1
	in_ns curl -s -m 2 "$(url 127.1.0.16 /_ping)" >/dev/null
	rc=$?
	ctl clear 127.1.0.16 >/dev/null
	[ $rc = 8 ] || [ $rc = 1 ]
}
check "malformed: client rejects the response" t_malformed

t_oversized() {
	ctl fault 127.1.0.17 oversized 1M >/dev/null || return 1
	[ "$(get 127.1.0.17 /_ping | wc -c)" = 1048576 ] &&
	[ "$(get 127.1.0.17 /info | wc -c)" = 1048576 ] &&
	in_ns curl -s -i -m 5 "$(url 127.1.0.17 /info)" | grep -q '^Transfer-Encoding: chunked' &&
	ctl clear 127.1.0.17 >/dev/null
}
check "oversized: 1 MiB bodies, Content-Length and chunked" t_oversized

t_close_after() {
	local n

	ctl fault 127.1.0.18 close-after 2 >/dev/null || return 1
	n=$(in_ns curl -s -m 5 -o /dev/null -o /dev/null -o /dev/null \
	    -w '%{num_connects} ' "$(url 127.1.0.18 /_ping)" \
	    "$(url 127.1.0.18 /_ping)" "$(url 127.1.0.18 /_ping)")
	ctl clear 127.1.0.18 >/dev/null
	[ "$n" = "1 0 1 " ]
}
check "close-after 2: third request needs a new connection" t_close_after

t_id_change() {
	local a b c

	a=$(engine_id 127.1.0.19)
	ctl fault 127.1.0.19 id-change >/dev/null || return 1
	b=$(engine_id 127.1.0.19)
	ctl clear 127.1.0.19 >/dev/null
	c=$(engine_id 127.1.0.19)
	[ -n "$a" ] && [ "$a" != "$b" ] && [ "$a" = "$c" ]
}
check "id-change: new ID until cleared" t_id_change

t_ctl_errors() {
	! ctl bogus >/dev/null && ! ctl fault 127.1.7.209 freeze >/dev/null &&
	! ctl fault 127.1.0.1 slow >/dev/null &&
	ctl fault 127.1.0.1 melt | grep -q '^error: '
}
check "control socket rejects bad commands" t_ctl_errors

t_stats() {
	ctl stats | grep -q "^{\"engines\":$COUNT,.*\"faults_active\":0}$"
}
check "stats: one JSON line, all faults cleared" t_stats

# -- several processes, one fleet -------------------------------------------

t_twins() {
	local p a b i

	for i in 1 2; do
		bg "$tmp/twin$i.log" "$SIM" --count "$COUNT" --port 2376 --seed 7 \
			--reuseport --ctl "$tmp/twin$i" --quiet
	done
	wait_until 5 "$SIM" ctl "$tmp/twin2" stats >/dev/null 2>&1 || return 1
	a=$(engine_id 127.1.3.3)
	# New connections spread over both twins; all must agree with the first.
	for i in 1 2 3 4 5 6; do
		b=$(in_ns curl -s -m 5 "$(url 127.1.3.3 /info 2376)" | grep -oE '"ID":"[^"]*"')
		[ "$a" = "$b" ] || return 1
		p=$(in_ns curl -s -m 5 "$(url 127.1.3.3 '/containers/json?all=1' 2376)" |
		    grep -oE '"Id":"[0-9a-f]+"' | tr -d '\n')
		[ "$p" = "$(get 127.1.3.3 '/containers/json?all=1' | grep -oE '"Id":"[0-9a-f]+"' | tr -d '\n')" ] || return 1
	done
}
check "--reuseport twins serve identical engines" t_twins

# -- TLS ------------------------------------------------------------------

# make_certs DIR: a CA, a server certificate for 127.1.0.1-127.1.0.3 and a
# client certificate, all P-256.
make_certs() {
	local d=$1 ec=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)

	mkdir -p "$d" &&
	openssl req -x509 "${ec[@]}" -keyout "$d/ca-key.pem" -out "$d/ca.pem" \
		-days 2 -subj /CN=enginesim-test-ca 2>/dev/null &&
	openssl req "${ec[@]}" -keyout "$d/key.pem" -out "$d/srv.csr" \
		-subj /CN=localhost 2>/dev/null &&
	openssl x509 -req -in "$d/srv.csr" -CA "$d/ca.pem" -CAkey "$d/ca-key.pem" \
		-CAcreateserial -out "$d/cert.pem" -days 2 -extfile <(
		echo "subjectAltName=IP:127.1.0.1,IP:127.1.0.2,IP:127.1.0.3") \
		2>/dev/null &&
	openssl req "${ec[@]}" -keyout "$d/client-key.pem" -out "$d/client.csr" \
		-subj /CN=client 2>/dev/null &&
	openssl x509 -req -in "$d/client.csr" -CA "$d/ca.pem" \
		-CAkey "$d/ca-key.pem" -CAcreateserial -out "$d/client.pem" -days 2 \
		-extfile <(echo "extendedKeyUsage=clientAuth") 2>/dev/null
}

t_tls() {
	local d=$tmp/certs tc=() h

	command -v openssl >/dev/null || return 4
	make_certs "$d" || return 1
	bg "$tmp/tls.log" "$SIM" --count 3 --port 2377 --ctl "$tmp/tls" \
		--tls-cert "$d/cert.pem" --tls-key "$d/key.pem" --tls-ca "$d/ca.pem"
	wait_until 5 "$SIM" ctl "$tmp/tls" stats >/dev/null 2>&1 || return 1
	tc=(--cacert "$d/ca.pem" --cert "$d/client.pem" --key "$d/client-key.pem")
	h=$(in_ns curl -s -i -m 5 "${tc[@]}" "https://127.1.0.2:2377/info" | tr -d '\r')
	grep -q '"Name":"engine-1"' <<<"$h" || return 1
	# --tlsverify: no client certificate, no answer.
	! in_ns curl -s -m 5 --cacert "$d/ca.pem" "https://127.1.0.1:2377/_ping" \
		>/dev/null || return 1
	[ "$(in_ns curl -s -m 5 "http://127.1.0.1:2377/_ping")" = \
	  "Client sent an HTTP request to an HTTPS server." ] || return 1
	bg "$tmp/tls-ev" curl -s -N -D "$tmp/tls-ev.hdr" "${tc[@]}" \
		"https://127.1.0.3:2377/events"
	wait_until 10 test -s "$tmp/tls-ev.hdr" &&
	"$SIM" ctl "$tmp/tls" event 127.1.0.3 create tls1 >/dev/null &&
	wait_until 10 grep -q '"name":"tls1"' "$tmp/tls-ev" || return 1
	"$SIM" ctl "$tmp/tls" fault 127.1.0.1 oversized 1M >/dev/null &&
	[ "$(in_ns curl -s -m 5 "${tc[@]}" https://127.1.0.1:2377/info | wc -c)" = 1048576 ]
}
check "TLS: client certificates, plain HTTP refused, events, faults" t_tls

t_term() {
	local rc

	stream 127.1.0.20 "$tmp/ev20"
	kill -TERM "$sim_pid"
	# The control socket goes last in the teardown.
	wait_until 3 test ! -e "$tmp/ctl" || return 1
	wait "$sim_pid"
	rc=$?
	[ $rc = 0 ]
}
check "SIGTERM exits 0 with connections open" t_term

t_valgrind() {
	local p

	command -v valgrind >/dev/null || return 4
	# A sanitizer build checks itself: its exit status on SIGTERM above.
	ldd "$SIM" | grep -q libasan && return 4
	bg "$tmp/vg.log" valgrind --leak-check=full --errors-for-leak-kinds=all \
		--error-exitcode=9 "$SIM" --count 50 --ctl "$tmp/vg" \
		--events-interval 100ms
	p=$last_pid
	wait_until 20 ctl_vg stats >/dev/null 2>&1 || return 1
	stream 127.1.0.1 "$tmp/vg-ev"
	get 127.1.0.2 /info >/dev/null
	"$SIM" ctl "$tmp/vg" fault 127.1.0.3 freeze >/dev/null
	bg /dev/null curl -s -m 5 "$(url 127.1.0.3 /_ping)"
	"$SIM" ctl "$tmp/vg" fault 127.1.0.4 slow 10 >/dev/null
	bg /dev/null curl -s -m 5 "$(url 127.1.0.4 /_ping)"
	"$SIM" ctl "$tmp/vg" event 127.1.0.1 create vg1 >/dev/null
	sleep 0.5
	kill -TERM "$p"
	wait "$p" && return 0
	cat "$tmp/vg.log"
	return 1
}
ctl_vg() { "$SIM" ctl "$tmp/vg" "$@"; }
check "valgrind: no errors, no leaks on SIGTERM with clients" t_valgrind

suite_end enginesim

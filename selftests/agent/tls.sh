# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
# Variables such as TEST_CLEANUP and DOCKER_DIR are read by lib.sh and run.sh.
# shellcheck disable=SC2034
#
# TLS to engines, as dockerd --tlsverify; sourced by run.sh. Certificates
# are made here, with the openssl CLI, once per run, in $TMP/tls:
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
	local rss_plain rss_tls rss_small rss_closed n=$TLS_FLEET f=$TMP/tls.engines resumed
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
	wait_until "$(cpu_bound 60000)" "$(all_settled $n)" || fail "plain: $(q .states)" || return 1
	sleep 2
	rss_plain=$(rss_kb "$AGENT_PID")
	stop_agent || return 1

	# shellcheck disable=SC2046
	start_agent $(tls_agent) "file://$f.tls" || return 1
	wait_until "$(cpu_bound 60000)" "$(all_settled $n)" || fail "TLS: $(q .states)" || return 1
	log "$n engines healthy over TLS after ${ELAPSED} ms, $(q .connections) connections"
	sleep 2
	rss_tls=$(rss_kb "$AGENT_PID")
	stop_agent || return 1

	# The fleet certificate lists 1,000 addresses: each engine keeps a
	# parsed copy (its two connections share it, the second resumed)
	# with those addresses, which OpenSSL caches while verifying it
	# (over 100 KiB): the figure of a one-address certificate too.
	# shellcheck disable=SC2046
	start_agent --tls --tlsverify=false "file://$f.small" || return 1
	wait_until "$(cpu_bound 60000)" "$(all_settled $n)" || fail "small: $(q .states)" || return 1
	sleep 2
	rss_small=$(rss_kb "$AGENT_PID")
	stop_agent || return 1
	# The same, each engine's polling connection closed between polls.
	start_agent --tls --tlsverify=false --tls-close-idle 2s "file://$f.small" || return 1
	wait_until "$(cpu_bound 60000)" "$(all_healthy $n) and all(.nodes[]; .events_cookie > 0) and .connections <= $((n + n / 20))" ||
		fail "closed idle: $(q '{connections, states}')" || return 1
	sleep 2
	rss_closed=$(rss_kb "$AGENT_PID")
	stop_agent || return 1
	log "idle RSS, $n engines x 2 connections: plain $rss_plain KiB, TLS $rss_tls KiB ($(((rss_tls - rss_plain) / n)) KiB more per engine; certificate of $((n + 2)) SANs, $(stat -c %s "$TLSD/fleet.pem") bytes PEM), TLS with a one-SAN certificate $rss_small KiB ($(((rss_small - rss_plain) / n)) KiB more per engine), the same with --tls-close-idle (one connection per idle engine) $rss_closed KiB ($(((rss_closed - rss_plain) / n)) KiB more per engine)"

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

# Real dockerd --tlsverify: healthy over TLS, on own records; refused without a client
# certificate (Go's alert comes at the first read, TLS 1.3); plain HTTP
# gets Go's own answer.
test_tls_dockerd() {
	local d=$TMP/dockertls e=127.0.0.1:2378

	tls_certs || return 1
	new_netns dockertls || return 1
	start_dockerd "$d" "tcp://$e" --tlsverify --tlscacert "$TLSD/ca.pem" \
		--tlscert "$TLSD/fleet.pem" --tlskey "$TLSD/srv.key" || return $?
	# shellcheck disable=SC2046
	start_agent $(tls_agent) --engine "$e" || return 1
	wait_until 10000 "$(all_settled 1)" ||
		fail "dockerd over TLS: $(q '.nodes[0] | {state, cause, error}')" || return 1
	log "dockerd $(q '.nodes[0].server_version') --tlsverify: healthy over TLS after ${ELAPSED} ms"
	# Go's TLS 1.3 too: both connections leave OpenSSL.
	poll_for "$(cpu_bound 5000)" 0.1 tls_own_at_least 2 ||
		fail "own records with dockerd: $(tls_metric peerwatch_tls_own_records_total)" || return 1
	# docker inspect through the Docker façade: forwarded over TLS, with
	# the agent's client certificate, on a connection of its own.
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

	valgrind_usable || return 4
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
		--api-socket "$TMP/$NS.api.sock" $(tls_agent) --engine-refresh-min-interval 200ms \
		--engine-refresh-max-interval 500ms --backoff-max 1s \
		"nodes://127.1.0.[1:10]:2376,127.2.0.1:2377,127.2.0.5:2381"
	AGENT_PID=$LAST_PID
	wait_ready "$ALOG" || return 1
	# A handshake under valgrind on two loaded cores can take seconds: the
	# default request timeout (10 s, the connect deadline too) and a wide
	# bound; this test is about memory errors, not speed.
	wait_until 90000 "[.nodes[] | select(.state == \"healthy\")] | length == 10" ||
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

# tls_handshakes RESUMED METRICS: the counter in a /metrics answer
tls_handshakes() {
	awk -v k="peerwatch_tls_handshakes_total{resumed=\"$1\"}" \
		'$1 == k { print $2 }' "$2"
}

# engine_errors METRICS: every engine failure counted in a /metrics answer
engine_errors() {
	awk '/^peerwatch_engine_errors_total/ { n += $2 } END { print n + 0 }' "$1"
}

# idle_reconnected N ACC RES: since the counts ACC (connections enginesim
# accepted) and RES (resumed handshakes, $TMP/idle.m1), at least N of each:
# the agent's /metrics in $TMP/idle.m2, enginesim's count in ACC2.
idle_reconnected() {
	api /metrics >"$TMP/idle.m2" || return 1
	ACC2=$("$SIM" ctl "$TMP/$NS.tls.ctl" stats | jq .accepted) || return 1
	[ "$((ACC2 - $2))" -ge "$1" ] &&
		[ "$(($(tls_handshakes true "$TMP/idle.m2") - $3))" -ge "$1" ]
}

# --tls-close-idle: an idle engine holds its /events stream only, one full
# handshake each and resumptions after; polls are still answered; a
# restarted engine is asked who it is; a reconnect still verifies.
test_tls_close_idle() {
	local n=20 a=127.1.0.1 full res full2 res2 acc id sim_pid errs rc

	tls_certs || return 1
	new_netns tlsidle || return 1
	# shellcheck disable=SC2046
	start_sim_at tls 2376 127.1.0.1 "$n" $(tls_sim fleet.pem ca.pem) || return 1
	sim_pid=$LAST_PID
	# shellcheck disable=SC2046
	start_agent $(tls_agent) --tls-close-idle 2s \
		--engine-refresh-min-interval 4s --engine-refresh-max-interval 5s \
		"nodes://127.1.0.[1:$n]:2376" || return 1
	# Healthy, each with its stream and no polling connection.
	wait_until "$(cpu_bound 30000)" "$(all_healthy $n) and all(.nodes[]; .events_cookie > 0) and .connections <= $n + 2" ||
		fail "$(q '{connections, states: [.nodes[] | {state, cookie, events_cookie}]}')" ||
		return 1
	log "$n engines healthy after ${ELAPSED} ms, $(q .connections) connections"

	# Polls go on, each on a new connection that resumes the session: as
	# many as the engines within their longest refresh interval (5 s)
	# + 3 s (6 s once saw 21 polls, 20 wanted); waited for, not slept.
	api /metrics >"$TMP/idle.m1" || fail "metrics" || return 1
	acc=$("$SIM" ctl "$TMP/$NS.tls.ctl" stats | jq .accepted)
	full=$(tls_handshakes false "$TMP/idle.m1")
	res=$(tls_handshakes true "$TMP/idle.m1")
	cp "$TMP/idle.m1" "$TMP/idle.m2" && ACC2=$acc
	poll_for "$(cpu_bound 8000)" 0.2 idle_reconnected "$n" "$acc" "$res"
	rc=$?
	dump || return 1
	full2=$(tls_handshakes false "$TMP/idle.m2")
	res2=$(tls_handshakes true "$TMP/idle.m2")
	# A handshake that fails (under valgrind: too slow) drops the session.
	errs=$(($(engine_errors "$TMP/idle.m2") - $(engine_errors "$TMP/idle.m1")))
	log "in the next ${ELAPSED} ms: $((ACC2 - acc)) connections accepted, handshakes $((full2 - full)) full and $((res2 - res)) resumed, $errs failures; $(q .connections) connections open"
	[ "$rc" = 0 ] || fail "polls did not reconnect within $(cpu_bound 8000) ms" || return 1
	[ "$full" -le "$n" ] || fail "$full full handshakes for $n engines" || return 1
	# Every reconnect resumes, instrumented or not. (When an engine's
	# connections shared one parsed session, OpenSSL marked it not
	# resumable now and then, and the next connect started afresh: under
	# ASan in 5 runs of 6; each connection decodes its own copy now.)
	[ "$((full2 - full))" -le "$errs" ] ||
		fail "full handshakes while idle: $full -> $full2, $errs failures" || return 1
	[ "$(q "[.nodes[] | select(.state == \"healthy\" and .failures == 0)] | length")" = "$n" ] ||
		fail "$(q '[.nodes[] | {addr, state, cause, error}]')" || return 1

	# A new daemon (a new ID; its connections closed with a FIN, which
	# leaves the engine healthy): the next poll asks who it is, though it
	# replaces a polling connection closed while idle.
	id=$(q "$(node $a:2376).id")
	"$SIM" ctl "$TMP/$NS.tls.ctl" fault "$a" id-change >/dev/null &&
		"$SIM" ctl "$TMP/$NS.tls.ctl" fault "$a" refuse >/dev/null || return 1
	sleep 0.5
	# A fault that does nothing here lifts the refusal and keeps the ID.
	"$SIM" ctl "$TMP/$NS.tls.ctl" fault "$a" close-after 1G >/dev/null || return 1
	wait_until "$(cpu_bound 20000)" "$(node $a:2376) | .state == \"healthy\" and .id != \"$id\"" ||
		fail "restarted: $(q "$(node $a:2376) | {state, cause, id, error}")" || return 1
	log "$a restarted with a new ID: healthy again after ${ELAPSED} ms, ID asked again"

	# Every engine restarts with a certificate of another CA: reconnects
	# do not resume (new ticket keys), and are refused.
	kill "$sim_pid" && wait "$sim_pid" 2>/dev/null
	# shellcheck disable=SC2046
	start_sim_at rogue 2376 127.1.0.1 "$n" $(tls_sim rogue.pem ca.pem) || return 1
	wait_until "$(cpu_bound 30000)" "[.nodes[] | select(.state == \"unhealthy\" and .cause == \"tls-unknown-ca\")] | length == $n" ||
		fail "rogue: $(q '[.nodes[] | {state, cause}] | group_by(.cause) | map({cause: .[0].cause, n: length})')" ||
		return 1
	log "restarted with a rogue certificate: all $n unhealthy, tls-unknown-ca, after ${ELAPSED} ms"
}

# --tls-handshakes-max: the storm of 30 engines' 60 TLS connections runs
# two handshakes at a time; the others wait in turn, their deadline
# stopped: every engine healthy with both connections, none failed, the
# peak at the bound, nothing left waiting.
test_tls_handshakes_max() {
	local n=30 m=$TMP/hs.metrics peak waits errs full

	tls_certs || return 1
	new_netns tlshs || return 1
	# shellcheck disable=SC2046
	start_sim_at tls 2376 127.1.0.1 "$n" $(tls_sim fleet.pem ca.pem) || return 1
	# shellcheck disable=SC2046
	start_agent $(tls_agent) --tls-handshakes-max 2 \
		"nodes://127.1.0.[1:$n]:2376" || return 1
	wait_until "$(cpu_bound 30000)" "$(all_settled $n)" ||
		fail "$(q '[.nodes[] | {addr, state, cause, error}]')" || return 1
	log "$n engines healthy with both connections after ${ELAPSED} ms"
	api /metrics >"$m" || fail "metrics" || return 1
	peak=$(awk '$1 == "peerwatch_tls_handshakes_running_peak" { print $2 }' "$m")
	waits=$(awk '$1 == "peerwatch_tls_handshake_waits_total" { print $2 }' "$m")
	errs=$(engine_errors "$m")
	full=$(tls_handshakes false "$m")
	log "handshakes: at most $peak at once, $waits connections waited, $full full and $(tls_handshakes true "$m") resumed, $errs failures"
	[ "$peak" = 2 ] || fail "peak of handshakes at once: $peak, bound 2" || return 1
	[ "$waits" -gt 0 ] || fail "no connection waited" || return 1
	[ "$errs" = 0 ] || fail "$(grep '^peerwatch_engine_errors_total' "$m")" || return 1
	grep -qx 'peerwatch_tls_handshakes_running 0' "$m" &&
		grep -qx 'peerwatch_tls_handshakes_waiting 0' "$m" ||
		fail "$(grep '^peerwatch_tls_handshakes_' "$m")" || return 1
}

# tls_metric NAME: a counter of a /metrics answer, fetched now
tls_metric() {
	api /metrics >"$TMP/own.metrics" &&
		awk -v k="$1" '$1 == k { print $2 }' "$TMP/own.metrics"
}
tls_own_at_least() { [ "$(tls_metric peerwatch_tls_own_records_total)" -ge "$1" ]; }

# TLS 1.3 on own records (the default): every connection leaves OpenSSL
# after its handshake (the counter: two per engine); polls and /events go
# on over them; engines restarted (new ticket keys: full handshakes) are
# verified and moved again; a rogue certificate is still refused. With
# --tls-own-records=false every connection stays on OpenSSL.
test_tls_own_records() {
	local n=10 own r0 r1 sim_pid names

	tls_certs || return 1
	new_netns tlsown || return 1
	# shellcheck disable=SC2046
	start_sim_at tls 2376 127.1.0.1 "$n" $(tls_sim fleet.pem ca.pem) || return 1
	sim_pid=$LAST_PID
	# shellcheck disable=SC2046
	start_agent $(tls_agent) --engine-refresh-min-interval 200ms \
		--engine-refresh-max-interval 300ms "nodes://127.1.0.[1:$n]:2376" || return 1
	wait_until "$(cpu_bound 30000)" "$(all_settled $n)" ||
		fail "$(q '[.nodes[] | {state, cause, error}]')" || return 1
	poll_for "$(cpu_bound 10000)" 0.1 tls_own_at_least $((2 * n)) ||
		fail "own records: $(tls_metric peerwatch_tls_own_records_total) connections, $((2 * n)) wanted" ||
		return 1
	own=$(tls_metric peerwatch_tls_own_records_total)
	log "$n engines healthy over TLS 1.3, $own connections on own records after ${ELAPSED} ms"

	# Polls and events over own records: a container created on every
	# engine is listed, and polls go on at their interval.
	r0=$("$SIM" ctl "$TMP/$NS.tls.ctl" stats | jq '.requests | add - .events')
	"$SIM" ctl "$TMP/$NS.tls.ctl" event "127.1.0.1-127.1.0.$n" create pw-own >/dev/null ||
		fail "event" || return 1
	names='all(.nodes[]; any(.containers[]; .name | test("pw-own")))'
	wait_until "$(cpu_bound 10000)" "$names" ||
		fail "event not seen: $(q '[.nodes[] | .containers | map(.name)]')" || return 1
	log "container created on $n engines: listed by all after ${ELAPSED} ms"
	sleep 3
	r1=$("$SIM" ctl "$TMP/$NS.tls.ctl" stats | jq '.requests | add - .events')
	log "3 s later: $((r1 - r0)) requests answered, $(q '[.nodes[] | select(.state == "healthy" and .failures == 0)] | length') engines healthy with no failure, $(tls_metric peerwatch_tls_own_records_total) on own records"
	[ "$((r1 - r0))" -ge "$((3 * n))" ] || fail "polls stopped: $((r1 - r0)) requests" || return 1
	[ "$(q "[.nodes[] | select(.state == \"healthy\" and .failures == 0)] | length")" = "$n" ] ||
		fail "$(q '[.nodes[] | {addr, state, cause, error}]')" || return 1

	# Restarted: the engines' EOF read on own records, reconnects verified.
	kill "$sim_pid" && wait "$sim_pid" 2>/dev/null
	# shellcheck disable=SC2046
	start_sim_at tls2 2376 127.1.0.1 "$n" $(tls_sim fleet.pem ca.pem) || return 1
	sim_pid=$LAST_PID
	wait_until "$(cpu_bound 30000)" "$(all_settled $n)" ||
		fail "after restart: $(q '[.nodes[] | {state, cause, error}]')" || return 1
	poll_for "$(cpu_bound 10000)" 0.1 tls_own_at_least $((own + 2 * n)) ||
		fail "after restart: $(tls_metric peerwatch_tls_own_records_total) on own records" ||
		return 1
	log "engines restarted: healthy again after ${ELAPSED} ms, $(tls_metric peerwatch_tls_own_records_total) connections moved in all"
	kill "$sim_pid" && wait "$sim_pid" 2>/dev/null
	# shellcheck disable=SC2046
	start_sim_at rogue 2376 127.1.0.1 "$n" $(tls_sim rogue.pem ca.pem) || return 1
	sim_pid=$LAST_PID
	wait_until "$(cpu_bound 30000)" "[.nodes[] | select(.state == \"unhealthy\" and .cause == \"tls-unknown-ca\")] | length == $n" ||
		fail "rogue: $(q '[.nodes[] | {state, cause}]')" || return 1
	log "restarted with a rogue certificate: all $n unhealthy, tls-unknown-ca"
	stop_agent || return 1
	grep -q "on own records" "$ALOG" || fail "no count at exit" || return 1

	kill "$sim_pid" && wait "$sim_pid" 2>/dev/null
	# shellcheck disable=SC2046
	start_sim_at tls3 2376 127.1.0.1 "$n" $(tls_sim fleet.pem ca.pem) || return 1
	# shellcheck disable=SC2046
	start_agent $(tls_agent) --tls-own-records=false "nodes://127.1.0.[1:$n]:2376" || return 1
	wait_until "$(cpu_bound 30000)" "$(all_settled $n)" ||
		fail "--tls-own-records=false: $(q '[.nodes[] | {state, cause, error}]')" || return 1
	sleep 1
	own=$(tls_metric peerwatch_tls_own_records_total)
	log "--tls-own-records=false: $n engines healthy, $own connections on own records"
	[ "$own" = 0 ] || fail "$own connections moved with --tls-own-records=false"
}

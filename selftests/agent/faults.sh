# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# Engine faults, sourced by run.sh (which provides new_netns, start_sim,
# start_agent, wait_until, blackhole, fail, log...): blackholed, frozen,
# reset, malformed and closing engines, and an engine whose ID changes.
# Each test says which timeouts it shortens.

# A blackholed engine is down within the user timeout (3 s), counted from
# the last answer on its idle /events stream (keepalive probes every 1 s),
# or from its next refresh, up to 2 s after the blackhole: 5 s at worst
# (3.0-3.1 s measured, valgrind too), + 3 s of margin (bound 8 s; it was
# 5 s, the worst case itself); its cause says which timer it was.
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
	wait_until "$(bound 10000)" "$(node $e).state == \"down\"" ||
		fail "blackholed engine not down after ${ELAPSED} ms" || return 1
	log "blackholed engine down after ${ELAPSED} ms (bound 8000: user timeout 3s + 2s + 3s margin), cause $(q "$(node $e).cause")"
	[ "$ELAPSED" -le "$(bound 8000)" ] || fail "too slow" || return 1
	[ "$(q "$(node $e).cause")" = user-timeout ] ||
		fail "cause $(q "$(node $e).cause"), want user-timeout" || return 1
	[ "$(q '.states.healthy')" = 19 ] || fail "others: $(q .states)" || return 1
	unblackhole
	wait_until 10000 "$(node $e).state == \"healthy\"" ||
		fail "not back after ${ELAPSED} ms" || return 1
	log "healthy again ${ELAPSED} ms after the blackhole was lifted"
}

# A frozen engine (accepts, never answers) is unhealthy within the
# refresh interval (1 s) before the first request + request timeout x
# failure retry (3 s) + backoff between tries (<= 0.25 + 0.5 s) = 4.75 s,
# + 3 s of margin for polling the state and scheduling on a busy host
# (bound 7.75 s; with 1.25 s of margin a run at load 5 missed it).
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
	wait_until "$(bound 10000)" "$(node $e).state == \"unhealthy\"" ||
		fail "frozen engine not unhealthy after ${ELAPSED} ms" || return 1
	log "frozen engine unhealthy after ${ELAPSED} ms (bound 7750: 1s + 1s x 3 + 0.75s + 3s margin), cause $(q "$(node $e).cause"), failures $(q "$(node $e).failures")"
	[ "$ELAPSED" -le "$(bound 7750)" ] || fail "too slow" || return 1
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
# Between refreshes means no container events either (enginesim's
# synthetic ones off): each makes a listing, and one in flight at the
# freeze holds the ping behind it until its --request-timeout (a run
# found one so: 12.4 s).
# Shortened: --ping-interval 1s --ping-timeout 1s, --backoff-max 2s.
test_freeze_ping() {
	local t0 i a since lat lats="" bound=7750 pings errs

	new_netns fzping || return 1
	start_sim 50 --events-interval 0 || return 1
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
		[ "$lat" -le "$(bound "$bound")" ] || fail "$a unhealthy after $lat ms, bound $bound" || return 1
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
# enginesim resets its open connections, and the agent sees that with
# nothing asked: no refresh (30-60 s) nor idle ping (off) comes first.
# At once: 23-184 ms measured (valgrind too); bound 3 s of margin.
test_reset() {
	local e=127.1.0.9:2375

	new_netns reset || return 1
	start_sim 20 || return 1
	start_agent --ping-interval 0 --backoff-max 2s --summary-interval 300ms \
		"nodes://127.1.0.[1:20]:2375" || return 1
	wait_until 10000 "$(all_healthy 20)" || fail "not healthy" || return 1
	sim fault 127.1.0.9 reset || return 1
	wait_until "$(bound 5000)" "$(node $e).state == \"down\"" ||
		fail "reset engine not down after ${ELAPSED} ms" || return 1
	log "reset engine down after ${ELAPSED} ms (bound $(bound 3000)), cause $(q "$(node $e).cause")"
	[ "$ELAPSED" -le "$(bound 3000)" ] || fail "not at once" || return 1
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
	grep -qE "engine $m( \([^)]*\))?: protocol" "$ALOG" || fail "no error logged for $m" || return 1
	mark=$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ)
	wait_until "$(bound 5000)" "$others | all(.state == \"healthy\" and .refreshed > \"$mark\")" ||
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
	wait_until "$(bound 3000)" "[($(node $a)), ($(node $b))] | all(.state == \"healthy\" and .failures == 0 and .refreshed > \"$mark\")" ||
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
	wait_until "$(bound 5000)" "$(node $e) | .state == \"healthy\" and .id != \"$old\"" ||
		fail "ID change not seen" || return 1
	new=$(q "$(node $e).id")
	grep -qE "engine $e( \([^)]*\))?: healthy -> pending \(id-change: ID" "$ALOG" ||
		fail "no pending transition logged" || return 1
	grep -q "engine $e ([^)]*): pending -> healthy" "$ALOG" || fail "not healthy" || return 1
	log "ID $old -> $new: pending, then healthy after ${ELAPSED} ms"
	[ "$(q '.states.healthy')" = 5 ] || fail "others: $(q .states)"
}

# A nameserver that takes every query and answers none: an engine given by
# name is down (dns) within the request timeout, its error says the
# resolver did not answer, and the lookup is retried with backoff; an
# engine given by address is not disturbed. c-ares alone would retry for
# tens of seconds with the engine pending and no word.
# Shortened: --request-timeout 2s (the lookup's bound), --backoff-max 2s.
test_dns_silent() {
	local conf=$TMP/resolv.silent named=engine-a.pwtest:2375 q0 q1 t0

	new_netns dnssilent || return 1
	start_sim 1 || return 1
	printf 'nameserver 127.0.0.53\n' >"$conf"
	in_ns ip addr add 127.0.0.53/8 dev lo 2>/dev/null
	spawn "$TMP/$NS.dns.log" socat -u UDP-RECV:53,bind=127.0.0.53 /dev/null
	# Bound before the agent asks: a closed port answers at once (ICMP).
	for _ in $(seq 100); do
		in_ns ss -Huln 'sport = :53' | grep -q 127.0.0.53 && break
		sleep 0.05
	done
	in_ns nft -f - <<-EOF || fail "nft" || return 1
		table inet pwdns {
			chain input {
				type filter hook input priority 0;
				udp dport 53 counter
			}
		}
	EOF
	with_resolv "$conf"
	start_agent --request-timeout 2s --backoff-max 2s \
		--engine 127.1.0.1:2375 --engine "$named"
	with_resolv
	[ -n "$AGENT_PID" ] || return 1
	t0=$(now_ms)
	# 2 s of lookup from the agent's first line, + 5 s for a loaded host
	# and valgrind.
	wait_until "$(bound 7000)" "($(node "$named")).state == \"down\" and ($(node 127.1.0.1:2375)).state == \"healthy\"" ||
		fail "after $(($(now_ms) - t0)) ms: $(q '.nodes | map({addr, state, cause, error})')" || return 1
	log "silent nameserver: $named down ${ELAPSED} ms after the agent's start: $(q "($(node "$named")) | \"\(.cause): \(.error)\"")"
	[ "$(q "($(node "$named")).cause")" = dns ] || fail "cause" || return 1
	q "($(node "$named")).error" | grep -q "the resolver did not answer in time" ||
		fail "error: $(q "($(node "$named")).error")" || return 1
	q0=$(in_ns nft list table inet pwdns | grep -oE 'packets [0-9]+' | cut -d' ' -f2)
	t0=$(now_ms)
	while :; do
		q1=$(in_ns nft list table inet pwdns | grep -oE 'packets [0-9]+' | cut -d' ' -f2)
		[ "$q1" -ge $((q0 + 2)) ] && break
		[ $(($(now_ms) - t0)) -lt 15000 ] ||
			fail "no lookup retried in 15 s ($q0 -> $q1 queries)" || return 1
		sleep 0.2
	done
	log "retried: $((q1 - q0)) more queries within $(($(now_ms) - t0)) ms"
	dump && [ "$(q "($(node "$named")).state")" = down ] || fail "not down any more" || return 1
}

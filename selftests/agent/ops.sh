# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
# AGENT_WRAP is read by lib.sh's start_agent.
# shellcheck disable=SC2034
#
# What operators wire the agent into (issue 21): per-engine series in
# /metrics and the example alerts, journald priorities, systemd's
# notifications, the transition hook, certificates reloaded on SIGHUP;
# sourced by run.sh.

# /metrics names each engine (promtool accepts the live output), and the
# example alerts fire for a down engine and stay quiet for healthy ones
# (promtool test rules, selftests/prometheus/rules.test.yml).
test_ops_metrics() {
	local e=127.1.0.9:2375 out m=$TMP/ops-metrics.txt

	out=$(promtool check rules dist/peerwatch.rules.yml 2>&1) ||
		fail "promtool check rules: $out" || return 1
	out=$(promtool test rules selftests/prometheus/rules.test.yml 2>&1) ||
		fail "promtool test rules: $out" || return 1
	log "promtool: the example rules check, and their tests pass"

	new_netns opsmetrics || return 1
	start_sim 20 || return 1
	start_agent --backoff-max 2s "nodes://127.1.0.[1:20]:2375" || return 1
	wait_until 10000 "$(all_healthy 20)" || fail "not healthy" || return 1
	sim fault 127.1.0.9 reset || return 1
	wait_until "$(bound 5000)" "$(node $e).state == \"down\"" ||
		fail "not down: $(q .states)" || return 1
	curl -sf --unix-socket "$API" http://pw/metrics >"$m" || fail "curl /metrics" || return 1
	out=$(promtool check metrics <"$m" 2>&1) || fail "promtool check metrics: $out" || return 1
	grep -q "^peerwatch_engine_up{engine=\"engine-[0-9]*\",addr=\"$e\"} 0$" "$m" ||
		fail "no up 0 for $e: $(grep "$e" "$m")" || return 1
	grep -q "^peerwatch_engine_info{engine=\"engine-[0-9]*\",addr=\"$e\",state=\"down\",cause=\"reset\"} 1$" "$m" ||
		fail "no info for $e: $(grep "$e" "$m")" || return 1
	[ "$(grep -c '^peerwatch_engine_up{.*} 1$' "$m")" = 19 ] ||
		fail "healthy ones: $(grep -c '^peerwatch_engine_up{.*} 1$' "$m")" || return 1
	[ "$(grep -c '^peerwatch_engine_state_since_seconds{' "$m")" = 20 ] ||
		fail "since series" || return 1
	log "/metrics: $(grep -cE '^peerwatch_engine_(up|info|state_since_seconds)\{' "$m") per-engine samples for 20 engines; $e up 0, state down, cause reset; promtool check metrics clean"
}

# With stderr the journal (JOURNAL_STREAM names it), lines carry syslog
# priorities: an engine lost (and the failure that lost it) is a
# warning, its recovery a notice, each naming the engine by address and
# name.
test_ops_journal() {
	local e=127.1.0.9:2375 js

	new_netns opsjournal || return 1
	start_sim 20 || return 1
	: >"$TMP/$NS.agent.log"
	js=$(stat -c '%d:%i' "$TMP/$NS.agent.log")
	AGENT_WRAP=(env "JOURNAL_STREAM=$js")
	start_agent --backoff-max 2s "nodes://127.1.0.[1:20]:2375"
	AGENT_WRAP=()
	[ -n "${AGENT_PID:-}" ] || return 1
	wait_until 10000 "$(all_healthy 20)" || fail "not healthy" || return 1
	sim fault 127.1.0.9 reset || return 1
	wait_until "$(bound 5000)" "$(node $e).state == \"down\"" || fail "not down" || return 1
	sim clear 127.1.0.9 || return 1
	wait_until 10000 "$(node $e).state == \"healthy\"" || fail "not back" || return 1
	grep -q "^<6>info: peerwatchd: 20 engines from" "$ALOG" ||
		fail "start not at info: $(head -n 2 "$ALOG")" || return 1
	grep -q "^<4>warn: engine $e (engine-[0-9]*): healthy -> down (reset" "$ALOG" ||
		fail "down not a warning: $(grep "$e" "$ALOG")" || return 1
	grep -q "^<4>warn: engine $e (engine-[0-9]*): reset: " "$ALOG" ||
		fail "failure not a warning naming the engine: $(grep "$e" "$ALOG")" || return 1
	grep -q "^<5>notice: engine $e (engine-[0-9]*): down -> healthy$" "$ALOG" ||
		fail "recovery not a notice: $(grep "$e" "$ALOG")" || return 1
	grep -q "^<6>info: engine 127.1.0.1:2375 (engine-[0-9]*): pending -> healthy$" "$ALOG" ||
		fail "first contact not info" || return 1
	grep -qv '^<[0-7]>' "$ALOG" && fail "a line without priority: $(grep -m1 -v '^<[0-7]>' "$ALOG")" && return 1
	log "journal: $(grep -m1 "^<4>.*$e.*-> down" "$ALOG"); $(grep -m1 "^<5>.*$e" "$ALOG")"
}

# systemd's notifications, read from the datagram socket NOTIFY_SOCKET
# names (abstract, '@'): READY=1 once every engine was tried, STATUS=
# with the counts, RELOADING=1 with MONOTONIC_USEC on SIGHUP then READY=1,
# WATCHDOG=1 at half of WATCHDOG_USEC, STOPPING=1 at SIGTERM.
test_ops_notify() {
	local sock=pwt-notify-$$ out=$TMP/notify.out n t0

	new_netns opsnotify || return 1
	start_sim 20 || return 1
	# One line per datagram, its newlines as '|'.
	spawn "$TMP/notify.log" python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("\0" + sys.argv[1])
with open(sys.argv[2], "w") as f:
    print("bound", flush=True)
    while True:
        f.write(s.recv(4096).decode().replace("\n", "|") + "\n")
        f.flush()
' "$sock" "$out"
	poll_for 30000 0.05 grep -q bound "$TMP/notify.log" || fail "listener" || return 1
	# Engine 20 blackholed: pending until the request timeout (2 s).
	blackhole 127.1.0.20 || return 1
	t0=$(now_ms)
	AGENT_WRAP=(env "NOTIFY_SOCKET=@$sock" WATCHDOG_USEC=1000000)
	start_agent --request-timeout 2s "nodes://127.1.0.[1:20]:2375"
	AGENT_WRAP=()
	[ -n "${AGENT_PID:-}" ] || return 1
	poll_for "$(bound 5000)" 0.05 grep -q '^READY=1' "$out" ||
		fail "no READY=1: $(cat "$out")" || return 1
	n=$(($(now_ms) - t0))
	[ "$n" -ge 1500 ] || fail "READY=1 after $n ms, before the blackholed engine's request timeout" || return 1
	grep -q '^READY=1|STATUS=20 engines: 19 healthy, 0 suspect, 0 unhealthy, [01] down, [01] pending$' "$out" ||
		fail "READY line: $(grep '^READY' "$out")" || return 1
	log "READY=1 after $n ms (one engine blackholed, --request-timeout 2s): $(grep -m1 '^READY' "$out")"
	poll_for "$(bound 3000)" 0.1 sh -c "[ \$(grep -c '^WATCHDOG=1\$' '$out') -ge 4 ]" ||
		fail "watchdog: $(grep -c '^WATCHDOG=1$' "$out") in 3 s" || return 1
	log "WATCHDOG=1: $(grep -c '^WATCHDOG=1$' "$out") so far (WATCHDOG_USEC=1s: every 0.5 s)"
	kill -HUP "$AGENT_PID"
	poll_for "$(bound 3000)" 0.05 grep -q '^RELOADING=1|MONOTONIC_USEC=[0-9]*$' "$out" ||
		fail "no RELOADING=1: $(grep -v WATCHDOG "$out")" || return 1
	poll_for "$(bound 3000)" 0.05 sh -c "grep -v WATCHDOG '$out' | grep -A1 '^RELOADING=1' | grep -q '^READY=1|STATUS='" ||
		fail "no READY=1 after RELOADING=1: $(grep -v WATCHDOG "$out")" || return 1
	stop_agent || return 1
	poll_for "$(bound 3000)" 0.05 grep -q '^STOPPING=1$' "$out" || fail "no STOPPING=1" || return 1
	log "SIGHUP: $(grep -v WATCHDOG "$out" | grep -A1 '^RELOADING' | tr '\n' ' '); SIGTERM: STOPPING=1"
}

# both_gone PID PID: neither runs (lib.sh: gone).
both_gone() { gone "$1" && gone "$2"; }

# --on-transition: a hook that records its environment, one that fails,
# one that hangs (killed at --on-transition-timeout with its child), and
# a flood (196 engines added, then all of them reset) against 4 slots
# and a queue of 50: runs dropped and folded, never more than 4 at once,
# and a canary engine refreshed every second all along.
# Shortened: --on-transition-timeout 3s, refresh every 1 s.
test_ops_hook() {
	local f=$TMP/hook.engines hook=$TMP/hook.sh rec=$TMP/hook.rec runs=$TMP/hook.runs
	local canary=127.1.0.1:2375 m=$TMP/metrics.txt maxrun

	new_netns opshook || return 1
	start_sim 200 || return 1
	mkdir -p "$runs"
	# Each run records its environment; a run holds a directory named
	# by its pid in $runs while it works, and records how many of those
	# pids live (a run killed at the deadline leaves its directory).
	cat >"$hook" <<-HOOK
	#!/bin/sh
	echo "S|\$PEERWATCH_ADDR|\$PEERWATCH_ENGINE|\$PEERWATCH_OLD_STATE|\$PEERWATCH_NEW_STATE|\$PEERWATCH_CAUSE|\$PEERWATCH_TRANSITIONS|\$PEERWATCH_SINCE" >>$rec
	case \$PEERWATCH_ADDR in
	127.1.0.3:*) exit 3 ;;
	127.1.0.4:*) echo \$\$ >$TMP/hang.pid; sleep 60 & echo \$! >$TMP/hang-child.pid; wait; exit 0 ;;
	esac
	mkdir $runs/\$\$
	n=0; for p in \$(ls $runs); do kill -0 \$p 2>/dev/null && n=\$((n + 1)); done
	echo "R|\$n" >>$rec
	sleep 0.2
	rmdir $runs/\$\$
	HOOK
	chmod +x "$hook"
	printf '%s\n' "127.1.0.[1:4]:2375" >"$f"
	start_agent --on-transition "$hook" --on-transition-max 4 \
		--on-transition-timeout 3s --on-transition-queue 50 \
		--engine-refresh-min-interval 1s --engine-refresh-max-interval 1s \
		--backoff-max 2s "file://$f" || return 1
	wait_until 10000 "$(all_healthy 4)" || fail "not healthy: $(q .states)" || return 1
	poll_for "$(bound 5000)" 0.1 test -s "$TMP/hang-child.pid" || fail "hang hook did not run" || return 1
	grep -q "^S|127.1.0.2:2375|engine-1|pending|healthy||1|[0-9]\{10\}$" "$rec" ||
		fail "record: $(grep 127.1.0.2 "$rec")" || return 1
	# Killed at --on-transition-timeout (3 s) from its start, which came
	# before its child's pid file: within 3 s, + 3 s of margin.
	poll_for "$(bound 6000)" 0.1 both_gone "$(cat "$TMP/hang.pid")" "$(cat "$TMP/hang-child.pid")" ||
		fail "hung hook or its child still alive" || return 1
	log "hook environment: $(grep -m1 '^S|127.1.0.2' "$rec"); the hung one and its child killed after ${ELAPSED} ms more"
	api /metrics >"$m" || fail "metrics" || return 1
	[ "$(metric_of 'peerwatch_hook_runs_total{result="failed"}')" = 2 ] &&
		[ "$(metric_of peerwatch_hook_timeouts_total)" = 1 ] &&
		[ "$(metric_of 'peerwatch_hook_runs_total{result="ok"}')" = 2 ] ||
		fail "counts: $(grep '^peerwatch_hook' "$m" | tr '\n' ' ')" || return 1
	grep -Eq "warn: on-transition: engine 127.1.0.[34]:2375 \(engine-[23]\): pending -> healthy: (exit status 3|still running after 3000 ms: killed)" "$ALOG" ||
		fail "failure not logged: $(grep on-transition "$ALOG")" || return 1
	log "runs: 2 ok, 2 failed (1 timeout); logged: $(grep -m1 'on-transition' "$ALOG" | sed 's/.*warn: //')"

	# The flood: 196 engines added, then reset once healthy.
	printf '%s\n' "127.1.0.[1:200]:2375" >"$f"
	kill -HUP "$AGENT_PID"
	canary_sample "$canary" 1000 || return 1
	wait_until 20000 "$(all_healthy 200)" || fail "not healthy: $(q .states)" || return 1
	sim fault 127.1.0.5-127.1.0.200 reset || return 1
	canary_sample "$canary" 6000 || return 1
	# Its refresh every 1 s, read through /v1/nodes: 1 s + 3 s of margin
	# (measured 1.0-1.2 s, under valgrind too).
	log "canary: refresh age at most $MAXAGE ms during the flood (bound $(bound 4000)), /v1/nodes within $MAXAPI ms"
	[ "$MAXAGE" -le "$(bound 4000)" ] || fail "canary refresh age $MAXAGE ms" || return 1
	poll_for 30000 0.2 sh -c "curl -sf --unix-socket '$API' http://pw/metrics | grep -qx 'peerwatch_hook_queued 0'" ||
		fail "queue not drained" || return 1
	poll_for "$(bound 3000)" 0.2 sh -c "curl -sf --unix-socket '$API' http://pw/metrics | grep -qx 'peerwatch_hook_running 0'" ||
		fail "runs not over" || return 1
	api /metrics >"$m" || fail "metrics" || return 1
	maxrun=$(grep '^R|' "$rec" | cut -d'|' -f2 | sort -n | tail -n 1)
	log "flood: $(grep -c '^S|' "$rec") runs for $(metric_of peerwatch_engine_transitions_total) transitions; dropped $(metric_of peerwatch_hook_dropped_total), folded $(metric_of peerwatch_hook_coalesced_total); at most $maxrun running at once (max 4)"
	[ "$maxrun" -le 4 ] || fail "$maxrun hooks at once" || return 1
	[ "$(metric_of peerwatch_hook_dropped_total)" -gt 0 ] || fail "nothing dropped" || return 1
	[ "$(metric_of peerwatch_hook_coalesced_total)" -gt 0 ] || fail "nothing folded" || return 1
	grep -q '^S|127.1.0.[0-9]*:2375|engine-[0-9]*|pending|down|reset|2|' "$rec" ||
		fail "no folded run (pending -> down, 2 transitions)" || return 1
	stop_agent
}

# TLS material reloaded on SIGHUP: the CA rotated to another (the rogue
# CA of tls.sh), the engine it signs becomes healthy while the engines of
# the old CA keep their live connections (same cookies); a key that does
# not match its certificate, and a CA file that is not PEM, are refused
# with a message and the material in use stays (a new connection still
# succeeds with it). Shortened: --backoff-max 1s, --engine-failure-retry 2.
test_ops_tls_reload() {
	local d=$TMP/tls-rotate old="127.1.0.1:2376" new="127.2.0.1:2377" before after
	local live='[.nodes[] | select(.addr | startswith("127.1.")) | "\(.addr) \(.cookie) \(.events_cookie)"] | join(",")'

	tls_certs || return 1
	new_netns opstls || return 1
	mkdir -p "$d" && cp "$TLSD/ca.pem" "$d/ca.pem" && cp "$TLSD/client.pem" "$d/cert.pem" &&
		cp "$TLSD/client.key" "$d/key.pem" || return 1
	# shellcheck disable=SC2046
	start_sim_at old 2376 127.1.0.1 2 $(tls_sim fleet.pem ca.pem) &&
		start_sim_at new 2377 127.2.0.1 1 $(tls_sim rogue.pem ca.pem) || return 1
	start_agent --tlsverify --tlscacert "$d/ca.pem" --tlscert "$d/cert.pem" \
		--tlskey "$d/key.pem" --engine-failure-retry 2 --backoff-max 1s \
		"nodes://127.1.0.[1:2]:2376,$new" || return 1
	# Both old engines with both connections up before the snapshot: a
	# stream still connecting would change it without any reload.
	wait_until "$(bound 10000)" "([.nodes[] | select(.addr | startswith(\"127.1.\")) | .state == \"healthy\" and .cookie > 0 and .events_cookie > 0] | length == 2 and all) and ([$(node $new) | .cause == \"tls-unknown-ca\"] | any)" ||
		fail "before: $(q '[.nodes[] | {addr, state, cause}]')" || return 1
	before=$(q "$live")

	cp "$TLSD/rogue-ca.pem" "$d/ca.pem" || return 1
	kill -HUP "$AGENT_PID"
	wait_until "$(bound 5000)" "$(node $new).state == \"healthy\"" ||
		fail "new CA not used: $(q "$(node $new) | {state, cause, error}")" || return 1
	log "CA rotated, SIGHUP: $new healthy after ${ELAPSED} ms; $(grep -m1 'TLS: certificates reloaded' "$ALOG" | sed 's/.*notice: //')"
	after=$(q "$live")
	[ "$before" = "$after" ] || fail "live connections of the old CA were replaced: $before / $after" || return 1
	[ "$(q "[.nodes[] | select(.state == \"healthy\")] | length")" = 3 ] ||
		fail "states: $(q .states)" || return 1
	log "the old CA's engines kept their connections (cookies $after)"

	# A mismatched key, then a CA file that is not PEM: refused, said why.
	cp "$TLSD/srv.key" "$d/key.pem" || return 1
	kill -HUP "$AGENT_PID"
	poll_for "$(bound 3000)" 0.1 grep -q "error: TLS: --tlskey $d/key.pem does not match --tlscert $d/cert.pem (key values mismatch); keeping the certificates in use" "$ALOG" ||
		fail "mismatch not said: $(grep 'TLS:' "$ALOG")" || return 1
	log "mismatched key: $(grep -m1 'does not match --tlscert' "$ALOG" | sed 's/.*error: //')"
	cp "$TLSD/client.key" "$d/key.pem" && echo garbage >"$d/ca.pem" || return 1
	kill -HUP "$AGENT_PID"
	poll_for "$(bound 3000)" 0.1 grep -q "error: TLS: --tlscacert $d/ca.pem: .*; keeping the certificates in use" "$ALOG" ||
		fail "bad CA not said: $(grep 'TLS:' "$ALOG")" || return 1
	log "bad CA file: $(grep -m1 'tlscacert' "$ALOG" | sed 's/.*error: //')"
	# The material in use (the rogue CA) still makes new connections.
	"$SIM" ctl "$TMP/$NS.new.ctl" fault "${new%:*}" reset >/dev/null || fail "fault" || return 1
	wait_until "$(bound 5000)" "$(node $new).state == \"down\"" || fail "not down" || return 1
	"$SIM" ctl "$TMP/$NS.new.ctl" clear "${new%:*}" >/dev/null || fail "clear" || return 1
	wait_until "$(bound 5000)" "$(node $new).state == \"healthy\"" ||
		fail "reconnect with the kept material: $(q "$(node $new) | {state, cause, error}")" || return 1
	log "after the refused reloads, $new reconnected with the material in use in ${ELAPSED} ms"
	stop_agent
}

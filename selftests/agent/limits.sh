# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
# AGENT_WRAP and TEST_CLEANUP are lib.sh's, read by its helpers.
# shellcheck disable=SC2034
#
# The agent at its limits, sourced by run.sh after api.sh (api,
# canary_age): descriptors (a fleet larger than RLIMIT_NOFILE allows, and
# the limit hit at run time), memory (a fleet larger than a transient
# cgroup's limit), the log lines each noisy path may write, and signals
# sent faster than their work.
#
#   netns pwt-<pid>-<test>                                        lo only
#   +-----------------------------------------------------------------+
#   |  enginesim 127.1.0.1..  <--  prlimit --nofile=L:L peerwatchd     |
#   +-----------------------------------------------------------------+
#        curl --unix-socket $API from the host side.

# lines_since N: lines the agent logged after its Nth.
lines_since() { echo $(($(wc -l <"$ALOG") - $1)); }

# cpu_ticks PID: user + system time of PID so far, in clock ticks.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

# 1,200 engines under a limit of 2,000 descriptors (2,400 wanted): the
# engines that fit are healthy with both connections, the others unhealthy
# with cause fd-limit, the shortfall said at start and on each reload and
# counted in /metrics; 1,000 API clients at once get answers, the API and
# the canary engine's listing stay within bounds, SIGUSR1 writes the state
# file, and the log stays quiet.
test_fd_limit() {
	local f=$TMP/fd.engines fit held ok lines0 t0 max_lat=0 max_age=0 i rc=0

	valgrind_skip "1,200 engines and 1,000 API clients are a measure of scale" && return 4
	new_netns fdlimit || return 1
	start_sim 1200 || return 1
	# 127.1.0.1 + 1199 = 127.1.4.176
	printf '%s\n' "127.1.0.[1:255]:2375" "127.1.[1:3].[0:255]:2375" \
		"127.1.4.[0:176]:2375" >"$f"
	AGENT_WRAP=(prlimit --nofile=2000:2000)
	start_agent --engine-refresh-min-interval 500ms \
		--engine-refresh-max-interval 1s "file://$f" || rc=1
	AGENT_WRAP=()
	[ "$rc" = 0 ] || return 1
	fit=$(sed -n 's/.*descriptors: room for \([0-9]*\) engines (RLIMIT_NOFILE 2000,.*/\1/p' "$ALOG")
	[ -n "$fit" ] && [ "$fit" -gt 600 ] && [ "$fit" -lt 1000 ] ||
		fail "room for '$fit' engines under 2,000 descriptors" || return 1
	held=$((1200 - fit))
	poll_for 10000 0.1 grep -q "descriptors: $fit engines fit, 1200 asked (RLIMIT_NOFILE 2000, .*): $held left unhealthy with cause fd-limit" "$ALOG" ||
		fail "shortfall not logged: $(grep -m1 'engines fit' "$ALOG")" || return 1
	wait_until 60000 "(.nodes | length) == 1200 and
		([.nodes[] | select(.state == \"healthy\" and .cookie > 0 and .events_cookie > 0)] | length) == $fit and
		([.nodes[] | select(.state == \"unhealthy\" and .cause == \"fd-limit\" and .cookie == 0)] | length) == $held" ||
		fail "want $fit healthy, $held fd-limit: $(q .states)" || return 1
	log "$fit engines healthy with both connections after ${ELAPSED} ms, $held unhealthy (fd-limit): '$(q "[.nodes[] | select(.cause == \"fd-limit\")][0].error")'"
	[ "$(q '.nodes[0].state')" = healthy ] && [ "$(q '.nodes[1199].cause')" = fd-limit ] ||
		fail "the first engines by address are not the ones connected" || return 1
	api /metrics >"$TMP/fd.metrics" || fail "/metrics" || return 1
	grep -qx "peerwatch_engines_fd_limited $held" "$TMP/fd.metrics" &&
		grep -qx "peerwatch_engines_capacity $fit" "$TMP/fd.metrics" ||
		fail "/metrics: $(grep fd_limited\|capacity "$TMP/fd.metrics")" || return 1

	lines0=$(wc -l <"$ALOG")
	# Small answers: the probe waits for the agent's turns, not for
	# 1,000 answers of 0.3 MB each to be written on a loaded host.
	ABUSE=()
	api_flood fd /v1/nodes/127.1.0.1:2375
	t0=$(now_ms)
	probe_api 6000
	wait "${ABUSE[@]}"
	ok=$(cat "$TMP"/fd.codes.* | grep -c '^200$')
	log "1000 API clients at once: $ok answered 200; /v1/summary at most ${max_lat} ms, canary listing age at most ${max_age} ms (refresh 0.5-1 s)"
	[ "$ok" = 1000 ] || fail "$((1000 - ok)) clients without an answer: $(cat "$TMP"/fd.codes.* | sort | uniq -c | tr -s ' \n' ' ')" || rc=1
	[ "$max_lat" -le "$(cpu_bound 3000)" ] || fail "/v1/summary took ${max_lat} ms" || rc=1
	# The canary is refreshed every 0.5-1 s: 1 s + 3 s of margin.
	[ "$max_age" -le "$(cpu_bound 4000)" ] || fail "canary listing ${max_age} ms old" || rc=1
	kill -HUP "$AGENT_PID"
	# Said again: at once, or, within 10 s of the first, in its sum when
	# that window ends (log.c; the summing runs every 10 s).
	poll_for "$(bound 10000)" 0.1 grep -q "discovery: reload (SIGHUP)" "$ALOG" &&
		poll_for "$(bound 25000)" 0.2 fd_shortfall_said "$fit" ||
		fail "the shortfall is not said again on reload" || rc=1
	i=$(lines_since "$lines0")
	log "$i log lines in the $(( ($(now_ms) - t0) / 1000 )) s of the flood and the reload"
	[ "$i" -le 20 ] || fail "log: $i lines: $(tail -n 5 "$ALOG")" || rc=1
	dump || fail "SIGUSR1 wrote no state file at the limit" || rc=1
	return $rc
}

fd_shortfall_said() {
	[ "$(grep -c "descriptors: $1 engines fit, 1200 asked" "$ALOG")" -ge 2 ]
}

# second_free_fd PID: the second lowest descriptor number PID leaves
# free, among those open in each of five looks 50 ms apart: one open for
# a moment (a connect to the reset engine, the state file being written)
# would move it up, and the limit would then leave room for both
# connections (seen once under ASan).
second_free_fd() {
	local i

	for i in 1 2 3 4 5; do
		find "/proc/$1/fd" -mindepth 1 -printf '%f\n'
		sleep 0.05
	done | sort -n | uniq -c | awk '$1 == 5 { print $2 }' |
		awk '{ while (f < $1) { if (++k == 2) { print f; done = 1; exit } f++ }
			f = $1 + 1 }
			END { if (!done) print f + 1 - k }'
}

# The limit met at run time (lowered under a running agent with prlimit):
# an engine that gets its polling connection back but not its /events
# stream is unhealthy (fd-limit), not healthy; the control API, unable to
# accept, pauses instead of spinning; all recover once descriptors are back.
test_fd_runtime() {
	local e=127.1.0.3:2375 n lines0 c0 c1 rc=0 i

	valgrind_skip "the CPU time of a paused accept is a measure of speed" && return 4
	new_netns fdrun || return 1
	start_sim 20 || return 1
	start_agent --backoff-max 1s --engine-refresh-min-interval 500ms \
		--engine-refresh-max-interval 1s "nodes://127.1.0.[1:20]:2375" || return 1
	wait_until 10000 "$(all_settled 20)" || fail "not healthy" || return 1
	sim fault 127.1.0.3 reset || return 1
	wait_until 10000 "$(node $e).state == \"down\"" || fail "reset: not down" || return 1
	# The polling connection fits, its /events stream does not: the limit
	# is on descriptor numbers, so it is set to the second free one.
	FD_SOFT=$(awk '/^Max open files/ { print $4 }' "/proc/$AGENT_PID/limits")
	n=$(second_free_fd "$AGENT_PID")
	lines0=$(wc -l <"$ALOG")
	prlimit --pid "$AGENT_PID" --nofile="$n:" || fail "prlimit" || return 1
	TEST_CLEANUP=fd_runtime_cleanup
	sim clear 127.1.0.3 || return 1
	# The engine is named by address, then by name once /info told it.
	poll_for 10000 0.1 grep -qE "engine $e( \([^)]*\))?: down -> unhealthy \(fd-limit: events: Too many open files\)" "$ALOG" ||
		fail "no fd-limit: $(grep "engine $e" "$ALOG" | tail -n 3)" || return 1
	log "no descriptor for its /events: $(grep -m1 -E "engine $e( \([^)]*\))?: down -> unhealthy" "$ALOG" | sed 's/^[^ ]* [a-z]*: //')"
	for i in $(seq 40); do
		curl -s -o /dev/null --max-time 4 --unix-socket "$API" http://pw/v1/summary &
		PIDS+=($!)
	done
	sleep 0.5
	c0=$(cpu_ticks "$AGENT_PID")
	sleep 3
	c1=$(cpu_ticks "$AGENT_PID")
	grep -qE "engine $e( \([^)]*\))?: unhealthy -> healthy" "$ALOG" &&
		{ fail "healthy without its /events stream" || rc=1; }
	grep -q "api: accept: Too many open files: not accepting for" "$ALOG" ||
		fail "accept failures not paused: $(grep -m3 'api:' "$ALOG")" || rc=1
	log "40 API clients and no descriptor: agent CPU $((c1 - c0)) ticks in 3 s, $(lines_since "$lines0") log lines"
	[ $((c1 - c0)) -le 100 ] || fail "the loop spins: $((c1 - c0)) ticks" || rc=1
	[ "$(lines_since "$lines0")" -le 20 ] || fail "log: $(tail -n 5 "$ALOG")" || rc=1
	fd_runtime_cleanup
	wait_until 10000 "$(all_settled 20)" ||
		fail "not back with the limit lifted: $(q "$(node $e)")" || return 1
	log "descriptors back: all 20 healthy with both connections after ${ELAPSED} ms"
	api /metrics >"$TMP/fdrun.metrics" || fail "/metrics" || return 1
	grep -q '^peerwatch_api_accept_paused_total [1-9]' "$TMP/fdrun.metrics" &&
		grep -q '^peerwatch_engine_errors_total{cause="fd-limit"} [1-9]' "$TMP/fdrun.metrics" ||
		fail "/metrics: $(grep 'paused\|fd-limit' "$TMP/fdrun.metrics")" || rc=1
	return $rc
}

fd_runtime_cleanup() {
	[ -n "${AGENT_PID:-}" ] && prlimit --pid "$AGENT_PID" --nofile="$FD_SOFT:"
	TEST_CLEANUP=
}

# Every noisy path at once for 30 s: ten engines resetting every
# connection, a discovery file rewritten broken before each of about a
# hundred SIGHUPs (bad lines, or not a file at all), and API clients
# turned away at the client limit: the log writes a bounded number of
# lines (the first of each kind, then sums), not one per event.
test_log_noise() {
	local f=$TMP/noise.engines lines0 t0 n i=0 CLIENTS=()

	new_netns noise || return 1
	start_sim 30 || return 1
	printf '%s\n' "127.1.0.[1:30]:2375" >"$f"
	start_agent --backoff-max 1s --api-max-clients 2 "file://$f" || return 1
	wait_until 10000 "$(all_settled 30)" || fail "not healthy" || return 1
	lines0=$(wc -l <"$ALOG")
	sim fault 127.1.0.1-127.1.0.10 reset || return 1
	t0=$(now_ms)
	while [ $(($(now_ms) - t0)) -lt 30000 ]; do
		i=$((i + 1))
		rm -rf "$f"
		if [ $((i % 3)) = 0 ]; then
			mkdir "$f"
		else
			{ echo "127.1.0.[1:30]:2375"; seq 50 | sed "s/.*/bad-$i-&/"; } >"$f"
		fi
		kill -HUP "$AGENT_PID"
		for _ in 1 2 3 4; do
			curl -s -o /dev/null --max-time 2 --unix-socket "$API" http://pw/v1/summary &
			CLIENTS+=($!)
		done
		sleep 0.25
	done
	wait "${CLIENTS[@]}"
	[ "$i" -ge 10 ] || fail "only $i reloads in 30 s: the host is too loaded" || return 1
	n=$(lines_since "$lines0")
	tail -n "$n" "$ALOG" | cut -c 26- | sed 's/[0-9][0-9.]*/N/g' | sort | uniq -c |
		sort -rn | head -n 8 | sed 's/^/#   /'
	log "$i reloads of a broken discovery, 10 engines resetting every connection, $((i * 4)) API clients at a limit of 2, in $(( ($(now_ms) - t0) / 1000 )) s: $n log lines"
	grep -q "more bad entries, not shown" "$ALOG" ||
		fail "bad entries beyond the first not summed up" || return 1
	grep -q "noise.engines: Is a directory" "$ALOG" &&
		grep -q "Is a directory; keeping the 30 engines we have" "$ALOG" ||
		fail "unreadable discovery not said" || return 1
	# Once: 20 lines for the resets (a warning and a transition each), 11
	# for the bad entries (10 named, 1 sum), 3 for the first reload and
	# unreadable file; then each 10 s window at most those 3 again and
	# their sums: 34 + 4 x 6 for the 30 to 40 s of the loop, 58; the
	# bound leaves room for one more window.
	[ "$n" -le 70 ] || fail "$n lines in 30 s: $(cut -c 26- "$ALOG" | sort | uniq -c | sort -rn | head -n 5)" || return 1
	rm -rf "$f"
	echo "127.1.0.[1:30]:2375" >"$f"
	sim clear all || return 1
	wait_until 10000 "$(all_settled 30)" || fail "not back: $(q .states)" || return 1
}

# flood_signals PID: SIGUSR1 and SIGHUP to PID without a pause, until it is
# gone or the flooder is killed; the pairs it sent, in $TMP/flood.sent.
flood_signals() {
	local n=0

	trap 'echo "$n" >"$TMP/flood.sent"; exit 0' TERM
	while kill -USR1 "$1" 2>/dev/null && kill -HUP "$1" 2>/dev/null; do
		n=$((n + 1))
	done
	echo "$n" >"$TMP/flood.sent"
}

# Signals faster than their work: SIGUSR1 and SIGHUP without a pause (a
# dump and a reload of 1,000 engines each) from before the engines start.
# Each is answered, but after work that took D ms the next waits D ms: the
# engines all become healthy, the state file is still written, the API
# answers, SIGTERM stops the agent. (When every signal read was answered
# at once, a SIGUSR1 that came during a dump was answered by the next one,
# and the loop did nothing else: under valgrind 2,000 engines stayed
# pending for the 20 minutes of the scale test's wait.)
test_signal_flood() {
	local n=1000 f=$TMP/flood.engines flooder lat t0 sent

	new_netns sigflood || return 1
	start_sim $n || return 1
	# 127.1.0.1 + 999 = 127.1.3.232
	printf '%s\n' "127.1.0.[1:255]:2375" "127.1.[1:2].[0:255]:2375" \
		"127.1.3.[0:232]:2375" >"$f"
	start_agent "file://$f" || return 1
	flood_signals "$AGENT_PID" &
	flooder=$!
	PIDS+=("$flooder")
	wait_until "$(cpu_bound 20000)" "$(all_settled $n)" ||
		fail "under the flood: $(jq -c .states "$STATE")" || { agent_diag; return 1; }
	log "$n engines healthy with their streams after ${ELAPSED} ms, SIGUSR1 and SIGHUP sent without a pause"
	lat=$(summary_ms 60)
	t0=$(now_ms)
	dump || fail "no state file under the flood" || return 1
	log "meanwhile: /v1/summary in ${lat} ms, a state file $(($(now_ms) - t0)) ms after a SIGUSR1"
	kill -TERM "$flooder"
	wait "$flooder"
	sent=$(cat "$TMP/flood.sent")
	t0=$(now_ms)
	stop_agent || return 1
	log "$sent pairs sent; SIGTERM: stopped after $(($(now_ms) - t0)) ms"
	# An answer waits for one dump or reload at most, + 3 s of margin.
	[ "${lat:-60000}" -le "$(cpu_bound 3000)" ] || fail "/v1/summary took $lat ms" || return 1
}

# A discovery of 1,000,000 lines: the first 100,000 entries are taken
# and the truncation is said with the line it happened at; the agent stays
# usable. The lines name the same 20 engines over and over (the bound is
# on entries, before duplicates go): 100,000 distinct engines would cost
# 0.6 GiB here, the README's figures, not a test's.
test_discovery_huge() {
	local f=$TMP/huge.engines lat

	new_netns dhuge || return 1
	start_sim 20 || return 1
	awk 'BEGIN { for (i = 0; i < 1000000; i++) printf "127.1.0.%d:2375\n", 1 + i % 20 }' >"$f"
	start_agent "file://$f" || return 1
	grep -F "$f:100001: '127.1.0.1:2375': " "$ALOG" |
		grep -qF "more than 100000 engines: this one and those after it are ignored" ||
		fail "truncation not said: $(grep -m3 discovery "$ALOG")" || return 1
	wait_until "$(bound 10000)" "$(all_settled 20)" ||
		fail "the 20 engines: $(q .states)" || return 1
	lat=$(summary_ms 30)
	log "1,000,000 lines: cut at line 100,001 and said so; 20 engines healthy after ${ELAPSED} ms; /v1/summary in ${lat} ms; RSS $(rss_kb "$AGENT_PID") KiB"
	# An answer from memory (milliseconds), + 3 s of margin.
	[ "${lat:-30000}" -le "$(bound 3000)" ] || fail "/v1/summary took $lat ms" || return 1
}

# An engine listing more containers than --max-containers is unhealthy,
# saying how many it listed; the others are not touched.
test_containers_bound() {
	local e=127.1.0.2:2375

	new_netns cbound || return 1
	start_sim 10 --containers 5 --events-interval 0 || return 1
	start_agent --max-containers 8 --engine-failure-retry 1 \
		--engine-refresh-min-interval 500ms --engine-refresh-max-interval 500ms \
		"nodes://127.1.0.[1:10]:2375" || return 1
	wait_until 10000 "$(all_settled 10)" || fail "not healthy" || return 1
	for i in 1 2 3 4; do
		sim event 127.1.0.2 create "extra$i" || return 1
	done
	wait_until 10000 "$(node $e).state == \"unhealthy\"" ||
		fail "9 containers, not unhealthy: $(q "$(node $e)")" || return 1
	log "9 containers over --max-containers 8: $(q "$(node $e) | \"\(.state) (\(.cause): \(.error))\"")"
	[ "$(q "$(node $e).cause")" = protocol ] &&
		[[ "$(q "$(node $e).error")" == *"9 containers, more than --max-containers 8" ]] ||
		fail "$(q "$(node $e) | {cause, error}")" || return 1
	[ "$(q .states.healthy)" = 9 ] || fail "others: $(q .states)" || return 1
}

# mem_cgroup: a transient memory cgroup under the test's own, into MEMCG,
# its limit $1 bytes, and AGENT_WRAP set to start the agent inside it.
# cgroup v1's memory controller where mounted (memory.limit_in_bytes),
# else v2's (memory.max); neither: false, saying so. The machine's own
# cgroups are only read.
mem_cgroup() {
	local own

	own=$(awk -F: '$2 ~ /(^|,)memory(,|$)/ { print $3 }' /proc/self/cgroup)
	if [ -n "$own" ] && [ -w "/sys/fs/cgroup/memory$own" ]; then
		MEMCG=/sys/fs/cgroup/memory${own%/}/pwt-$$-mem
		MEMCG_LIMIT=memory.limit_in_bytes
		MEMCG_KIND="cgroup v1"
	else
		own=$(awk -F: '$1 == "0" { print $3 }' /proc/self/cgroup)
		if [ -z "$own" ] || ! grep -qw memory "/sys/fs/cgroup${own%/}/cgroup.subtree_control" 2>/dev/null; then
			log "SKIP: no memory controller to make a cgroup with (v1 memory not mounted, v2 memory not delegated to $own)"
			return 1
		fi
		MEMCG=/sys/fs/cgroup${own%/}/pwt-$$-mem
		MEMCG_LIMIT=memory.max
		MEMCG_KIND="cgroup v2"
	fi
	mkdir "$MEMCG" || fail "mkdir $MEMCG" || return 1
	TEST_CLEANUP=mem_cgroup_cleanup
	echo "$1" >"$MEMCG/$MEMCG_LIMIT" || fail "$MEMCG_LIMIT" || return 1
	# shellcheck disable=SC2016 # expanded by that shell, not this one
	AGENT_WRAP=(sh -c 'echo $$ >"$0/cgroup.procs" && exec "$@"' "$MEMCG")
}

# The agent first (a cgroup with a process cannot go), then the cgroup.
mem_cgroup_cleanup() {
	if [ -n "${AGENT_PID:-}" ]; then
		kill "$AGENT_PID" 2>/dev/null
		wait "$AGENT_PID" 2>/dev/null
		AGENT_PID=
	fi
	rmdir "$MEMCG" 2>/dev/null
	TEST_CLEANUP=
}

# oom_kills: how many times the OOM killer acted in MEMCG.
oom_kills() {
	if [ "$MEMCG_KIND" = "cgroup v1" ]; then
		awk '$1 == "oom_kill" { print $2 }' "$MEMCG/memory.oom_control"
	else
		awk '$1 == "oom_kill" { print $2 }' "$MEMCG/memory.events"
	fi
}

# 1,000 engines of 200 containers (about 22 MiB held, by the model, where
# 16 MiB are usable: the rest is the reserve) for an agent in a cgroup
# limited to 24 MiB: it is not OOM-killed, the first
# listings are paced and the engines that do not fit are refused,
# unhealthy with cause mem-limit, said in one line at start and again on
# reload, counted in /metrics; meanwhile the API answers and the canary
# engine's listing stays fresh, and the state file is written.
MEM_N=1000
test_mem_limit() {
	local f=$TMP/mem.engines fit held max_lat=0 max_age=0 rc=0 lim=$((24 << 20)) n

	valgrind_skip "valgrind's own memory is charged to the cgroup" && return 4
	if [ "$SLACK_MS" != 0 ]; then
		log "SKIP: ASan's shadow memory is charged to the cgroup: the limit would be the sanitizer's"
		return 4
	fi
	mem_cgroup "$lim" || return 4
	new_netns memlim || return 1
	start_sim $MEM_N --containers 200 --events-interval 0 || return 1
	printf '%s\n' "127.1.0.[1:255]:2375" "127.1.1.[0:255]:2375" "127.1.2.[0:255]:2375" \
		"127.1.3.[0:232]:2375" >"$f"
	start_agent --engine-refresh-min-interval 500ms \
		--engine-refresh-max-interval 1s "file://$f" || rc=1
	AGENT_WRAP=()
	[ "$rc" = 0 ] || return 1
	grep -q "memory: room for about [0-9]* engines of [0-9]* containers ($MEMCG_KIND $MEMCG_LIMIT 24MiB)" "$ALOG" ||
		fail "the limit not read: $(grep -m2 'memory:' "$ALOG")" || return 1
	poll_for 20000 0.1 grep -q "memory: [0-9]* engines fit, $MEM_N asked ($MEMCG_KIND $MEMCG_LIMIT 24MiB): [0-9]* left unhealthy with cause mem-limit" "$ALOG" ||
		fail "shortfall not logged: $(grep 'memory:' "$ALOG")" || return 1
	# The line says where the start settled: once the stragglers are in.
	wait_until 30000 "(.nodes | length) == $MEM_N and
		([.nodes[] | select(.state == \"healthy\" or (.state == \"unhealthy\" and .cause == \"mem-limit\"))] | length) == $MEM_N" ||
		fail "want healthy or mem-limit: $(q .states)" || return 1
	fit=$(q '[.nodes[] | select(.state == "healthy")] | length')
	held=$((MEM_N - fit))
	log "$MEMCG_KIND, $MEMCG_LIMIT 24 MiB: $fit engines healthy after ${ELAPSED} ms, $held unhealthy (mem-limit): '$(q '[.nodes[] | select(.cause == "mem-limit")][0].error')'"
	[ "$fit" -ge 50 ] && [ "$held" -ge 1 ] ||
		fail "$fit of $MEM_N fit in 24 MiB" || return 1
	[ "$(q '.nodes[0].state')" = healthy ] || fail "canary: $(q '.nodes[0]')" || return 1
	poll_for 5000 0.1 mem_shortfall_said 1 "$fit" "$held" ||
		fail "the last line does not say $fit fit: $(grep 'engines fit' "$ALOG")" || return 1
	api /metrics >"$TMP/mem.metrics" || fail "/metrics" || return 1
	grep -qx "peerwatch_engines_mem_limited $held" "$TMP/mem.metrics" &&
		grep -qx "peerwatch_memory_limit_bytes $lim" "$TMP/mem.metrics" ||
		fail "/metrics: $(grep 'mem_limited\|limit_bytes' "$TMP/mem.metrics")" || return 1
	probe_api 5000
	log "at the limit: /v1/summary at most ${max_lat} ms, canary listing age at most ${max_age} ms (refresh 0.5-1 s)"
	# An answer from memory (milliseconds), and a refresh every 0.5-1 s:
	# each + 3 s of margin.
	[ "$max_lat" -le "$(cpu_bound 3000)" ] || fail "/v1/summary took ${max_lat} ms" || rc=1
	[ "$max_age" -le "$(cpu_bound 4000)" ] || fail "canary listing ${max_age} ms old" || rc=1
	# Said again on reload: as a line of its own, or, the same line
	# within the log's 10 s window, in the "(repeated N times)" line
	# that ends the window.
	kill -HUP "$AGENT_PID"
	poll_for "$(bound 20000)" 0.1 mem_shortfall_said 2 "" "" ||
		fail "the shortfall is not said again on reload: $(grep 'memory:' "$ALOG")" || rc=1
	dump || fail "SIGUSR1 wrote no state file at the limit" || rc=1
	kill -0 "$AGENT_PID" 2>/dev/null || fail "the agent is gone" || return 1
	log "$MEMCG_KIND: OOM kills $(oom_kills), usage at most $(($(cat "$MEMCG/memory.max_usage_in_bytes" 2>/dev/null || cat "$MEMCG/memory.peak") >> 10)) KiB of $((lim >> 10)) KiB, state file $(($(stat -c %s "$STATE") >> 10)) KiB"
	[ "$(oom_kills)" = 0 ] || fail "the OOM killer acted $(oom_kills) times" || rc=1
	# One line for all refused engines, not one each (those that fit
	# have their first contact logged, one line each).
	n=$(grep -vc 'pending -> healthy' "$ALOG")
	[ "$n" -le 20 ] || fail "log: $n lines: $(grep -v 'pending -> healthy' "$ALOG" | cut -c 26- | sed 's/[0-9][0-9.]*/N/g' | sort | uniq -c | sort -rn | head -n 5)" || rc=1
	return $rc
}

# mem_shortfall_said N [FIT HELD]: the shortfall logged N times, the last
# with FIT engines fit and HELD held when given.
mem_shortfall_said() {
	local last

	[ "$(grep -c "memory: [0-9]* engines fit, $MEM_N asked" "$ALOG")" -ge "$1" ] || return 1
	[ -z "$2" ] && return 0
	last=$(grep "memory: [0-9]* engines fit, $MEM_N asked" "$ALOG" | tail -n 1)
	[[ "$last" == *"memory: $2 engines fit, $MEM_N asked"*": $3 left unhealthy"* ]]
}

# lag_ticks: the loop's lag histogram, "LE TICKS" a bucket ("+Inf" last).
lag_ticks() {
	api /metrics | awk -F'[{}" ]+' '/^peerwatch_event_loop_lag_seconds_bucket/ { print $3, $NF }'
}

# worst_lag BEFORE AFTER: the smallest bucket bound (s) that every tick
# between the two lag_ticks outputs was within; "inf" if none.
worst_lag() {
	awk 'NR == FNR { b[$1] = $2; next } { d[++n] = $1; v[n] = $2 - b[$1] }
		END { for (i = 1; i < n; i++) if (v[i] == v[n]) { print d[i]; exit }
			print "inf" }' "$1" "$2"
}

sim_up() { "$SIM" ctl "$1" stats >/dev/null 2>&1; }

# big_get NAME PATH: GET PATH into $TMP/big.NAME; "SECONDS BYTES HTTP" on
# stdout.
big_get() {
	curl -s --max-time 120 --unix-socket "$API" -o "$TMP/big.$1" \
		-w '%{time_total} %{size_download} %{http_code}\n' "http://pw$2"
}

# big_check NAME: the answer in $TMP/big.NAME complete, as many rows as
# /v1/summary counts ($big_n engines, $big_c containers).
big_check() {
	case $1 in
	nodes) [ "$(jq length "$TMP/big.nodes")" = "$big_n" ] ;;
	containers) [ "$(jq length "$TMP/big.containers")" = "$big_c" ] ;;
	info) [ "$(jq '.SystemStatus | length' "$TMP/big.info")" = $((2 + 6 * big_here)) ] ;;
	# docker ps: the running ones, as /info counts them.
	dcontainers) [ "$(jq length "$TMP/big.dcontainers")" = "$(jq .ContainersRunning "$TMP/big.info")" ] ;;
	metrics) promtool check metrics <"$TMP/big.metrics" >/dev/null 2>&1 &&
		[ "$(grep -c '^peerwatch_engine_up{' "$TMP/big.metrics")" = "$big_here" ] ;;
	esac
}

# 20,000 engines asked (--no-events: one connection each) of an agent
# under a limit of 20,000 descriptors, as bench/run's biggest phase: the
# big answers (/v1/nodes, /v1/containers, /metrics, the façade's /info
# and /containers/json) are whole and parse, one at a time and all at
# once, while the loop keeps its pace, /v1/summary and the canary's
# listing stay fresh and the agent's peak RSS stays bounded. The engines
# are three enginesim twins on one port (--reuseport), each under 8,000
# connections. Plain suite only: 20,000 engines under ASan or valgrind
# are a test of the instrument.
test_api_big() {
	local f=$TMP/big.engines k pids=() sims=() name out max_lat=0 max_age=0 rc=0
	local names="nodes containers metrics info dcontainers" big_n big_c big_here hwm0 hwm lag
	declare -A path=([nodes]=/v1/nodes [containers]=/v1/containers
		[metrics]=/metrics [info]=/v1.41/info
		[dcontainers]=/v1.41/containers/json)

	new_netns apibig || return 1
	for k in 1 2 3; do
		spawn "$TMP/$NS.sim.$k.log" "$SIM" --count 20000 --port 2375 \
			--ctl "$TMP/$NS.ctl.$k" --reuseport --events-interval 0 \
			--quiet
		sims+=("$LAST_PID")
	done
	for k in 1 2 3; do
		poll_for 20000 0.1 sim_up "$TMP/$NS.ctl.$k" ||
			fail "enginesim $k did not start" || return 1
	done
	awk 'BEGIN { b = 127 * 16777216 + 65536 + 1
		for (i = 0; i < 20000; i++) { a = b + i
			printf "%d.%d.%d.%d:2375\n", int(a / 16777216) % 256,
			       int(a / 65536) % 256, int(a / 256) % 256, a % 256 } }' >"$f"
	AGENT_WRAP=(prlimit --nofile=20000:20000)
	# Refreshes every 5-10 s: 2,000-4,000 listings a second already,
	# which a loaded 2-core host must also find time for.
	start_agent --no-events --engine-refresh-min-interval 5s \
		--engine-refresh-max-interval 10s "file://$f" || rc=1
	AGENT_WRAP=()
	[ "$rc" = 0 ] || return 1
	wait_api 180000 '.engines == 20000 and .states.pending == 0' ||
		fail "not settled: $(api /v1/summary | jq -c .states)" || return 1
	out=$(api /v1/summary)
	big_n=$(jq .engines <<<"$out")
	big_c=$(jq .containers <<<"$out")
	big_here=$(api /metrics | grep -c '^peerwatch_engine_up{')
	log "20000 engines settled after ${ELAPSED} ms: $(jq -c .states <<<"$out"), $big_c containers; $(grep -m1 'engines fit' "$ALOG" | sed 's/.*descriptors: //')"
	hwm0=$(awk '/^VmHWM:/ { print $2 }' "/proc/$AGENT_PID/status")
	for name in $names; do
		out=$(big_get "$name" "${path[$name]}")
		log "$name alone: $(awk '{ printf "%.1f s, %.1f MiB, HTTP %s", $1, $2 / 1048576, $3 }' <<<"$out")"
		big_check "$name" || fail "$name: incomplete or malformed" || rc=1
	done
	lag_ticks >"$TMP/big.lag0"
	for name in $names; do
		big_get "$name" "${path[$name]}" >"$TMP/big.$name.w" &
		pids+=($!)
		PIDS+=($!)
	done
	# What an operator sees while they stream, for as long as they do.
	probe_api 1000
	while kill -0 "${pids[@]}" 2>/dev/null; do
		probe_api 1000
	done
	wait "${pids[@]}"
	lag_ticks >"$TMP/big.lag1"
	for k in 0 1 2; do
		kill -0 "${sims[$k]}" 2>/dev/null ||
			fail "enginesim $((k + 1)) exited: $(tail -n 3 "$TMP/$NS.sim.$((k + 1)).log")" || rc=1
	done
	lag=$(worst_lag "$TMP/big.lag0" "$TMP/big.lag1")
	for name in $names; do
		log "$name at once: $(awk '{ printf "%.1f s, %.1f MiB, HTTP %s", $1, $2 / 1048576, $3 }' "$TMP/big.$name.w")"
		big_check "$name" || fail "$name at once: incomplete or malformed" || rc=1
	done
	hwm=$(awk '/^VmHWM:/ { print $2 }' "/proc/$AGENT_PID/status")
	log "meanwhile the loop late by at most $lag s, /v1/summary at most ${max_lat} ms, canary listing age at most ${max_age} ms (refresh 5-10 s); peak RSS $((hwm0 / 1024)) MiB before the answers, $((hwm / 1024)) MiB after, $(($(rss_kb "$AGENT_PID") / 1024)) MiB now"
	[ "$lag" != inf ] && awk -v l="$lag" 'BEGIN { exit !(l <= 2.5) }' ||
		fail "the loop ran more than ${lag} s late" || rc=1
	[ "$max_lat" -le 5000 ] || fail "/v1/summary took ${max_lat} ms" || rc=1
	[ "$max_age" -le 20000 ] || fail "canary listing ${max_age} ms old" || rc=1
	# Made whole, these answers took the peak from about 110 MiB to 877
	# MiB; a batch at a time, each costs at most SERVER_LOWAT + a batch.
	[ "$hwm" -le $((hwm0 + 64 * 1024)) ] ||
		fail "the answers took the peak RSS from $((hwm0 / 1024)) to $((hwm / 1024)) MiB" || rc=1
	return $rc
}

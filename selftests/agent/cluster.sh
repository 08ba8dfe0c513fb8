# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# Several agents sharing one fleet through a real etcd (Debian's
# etcd-server), sourced by run.sh (new_netns, start_sim, spawn, fail...).
#
#   netns pwt-<pid>-<test>                                         lo only
#   +------------------------------------------------------------------+
#   |  etcd m0 127.0.0.1:2379  m1 :22379  m2 :32379   (peers :2380,   |
#   |        :22380, :32380; one cluster, private --data-dir each)    |
#   |     ^ lease, agents/, state/ (JSON gateway, HTTP/1.1)           |
#   |  peerwatchd a0, a1, a2 --cluster etcd://m0,m1,m2/peerwatch      |
#   |     | each only its share of the engines (rendezvous hashing)   |
#   |     v                                                           |
#   |  enginesim 127.1.0.1 .. : one polling and one /events connection |
#   |  per engine, whichever agent holds it                           |
#   +------------------------------------------------------------------+
#
# Each agent's /v1/nodes lists the whole fleet: its own engines (with
# their connection cookies) and the others' (the state they wrote to
# etcd), each with its watcher. "Watched exactly once" = every engine is
# local to exactly one agent, and enginesim counts two connections per
# engine. The lease TTL is shortened to 5 s (default 10 s): a takeover
# takes the TTL plus etcd revoking the lease through raft (three fsyncs)
# plus the reconnects, which on a loaded 2-core machine is seconds.

ETCD_PORTS=(2379 22379 32379)
ETCD_URL=etcd://127.0.0.1:2379,127.0.0.1:22379,127.0.0.1:32379
CL_TTL_MS=5000
declare -A CL_PID CL_SOCK

etcd_present() {
	command -v etcd >/dev/null && return 0
	log "SKIP: no etcd (Debian's etcd-server)"
	return 4
}

# start_etcd [ARGS...]: the three members of one cluster, each with its
# own data, ARGS given to each (again after a stop: the same cluster).
start_etcd() {
	local i init="" p

	for i in 0 1 2; do
		p=${ETCD_PORTS[$i]}
		init+="${init:+,}m$i=http://127.0.0.1:$((p + 1))"
	done
	for i in 0 1 2; do
		p=${ETCD_PORTS[$i]}
		spawn "$TMP/$NS.etcd$i.log" etcd --name "m$i" \
			--data-dir "$TMP/$NS.etcd$i" \
			--listen-client-urls "http://127.0.0.1:$p" \
			--advertise-client-urls "http://127.0.0.1:$p" \
			--listen-peer-urls "http://127.0.0.1:$((p + 1))" \
			--initial-advertise-peer-urls "http://127.0.0.1:$((p + 1))" \
			--initial-cluster "$init" --initial-cluster-state new \
			--initial-cluster-token "$NS" "$@"
		ETCD_PID[i]=$LAST_PID
	done
	for _ in $(seq 200); do
		etcd_rev >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	fail "etcd did not start: $(tail -n 3 "$TMP/$NS.etcd0.log")"
}

# etcd_rev: the store's revision (it grows with every write).
etcd_rev() {
	in_ns curl -sf --max-time 2 -X POST \
		"http://127.0.0.1:2379/v3/kv/range" -d '{"key":"AA=="}' |
		jq -er '.header.revision'
}

# start_cagent NAME ARGS...: an agent of the cluster, its API on a socket.
start_cagent() {
	local name=$1

	shift
	CL_SOCK[$name]=$TMP/$NS.$name.sock
	spawn "$TMP/$NS.$name.log" "$PW" --cluster "$ETCD_URL" \
		--cluster-name "$name" --cluster-ttl "${CL_TTL_MS}ms" \
		--api-socket "${CL_SOCK[$name]}" --state-file "$TMP/$NS.$name.json" \
		--summary-interval 0 "$@"
	CL_PID[$name]=$LAST_PID
	# run.sh shows the last lines of the first agent's log on a failure.
	# shellcheck disable=SC2034
	[ "$name" != a0 ] || ALOG=$TMP/$NS.$name.log
}

capi() {
	curl -sS --max-time 10 --unix-socket "${CL_SOCK[$1]}" "http://pw$2"
}

# The /v1/nodes answers of NAMES, as capi_all saved them.
nodes_files() { local a; for a in "$@"; do echo "$TMP/$NS.$a.nodes"; done; }

# wait_shares MS N NAMES...: until every engine is watched once and every
# agent lists all N healthy; SHARES holds the counts, ELAPSED the wait.
wait_shares() {
	local limit=$1 n=$2 t0 files

	shift 2
	t0=$(now_ms)
	while :; do
		SHARES=bad
		if capi_all "$@"; then
			mapfile -t files < <(nodes_files "$@")
			SHARES=$(jq -rs --argjson n "$n" '
				(map([.[] | select(.cookie != null) | .addr])) as $local |
				($local | add | group_by(.) | map(length)) as $owners |
				(map([.[] | select(.state == "healthy" and .watcher != null)] |
				 length)) as $seen |
				if ($owners | length) == $n and all($owners[]; . == 1) and
				   all($seen[]; . == $n)
				then ($local | map(length) | map(tostring) | join(" "))
				else "bad: local \($local | map(length)), watched \($owners | length) of \($n), twice \([$owners[] | select(. > 1)] | length), listed healthy with a watcher \($seen)" end' "${files[@]}" 2>/dev/null)
		fi
		if [ -n "$SHARES" ] && [ "${SHARES#bad}" = "$SHARES" ]; then
			ELAPSED=$(($(now_ms) - t0))
			return 0
		fi
		if [ $(($(now_ms) - t0)) -ge "$limit" ]; then
			ELAPSED=$(($(now_ms) - t0))
			cl_log
			return 1
		fi
		sleep 0.2
	done
}
# What each agent said of the cluster, for a failure's message.
cl_log() {
	local f

	for f in "$TMP/$NS".a?.log; do
		echo "#   ${f##*.a}: $(grep -c . "$f") lines"
		grep "cluster:\|Sanitizer\|ERROR" "$f" | tail -n 8 | sed 's/^/#   /'
	done
}

capi_all() {
	local name

	for name in "$@"; do
		capi "$name" /v1/nodes >"$TMP/$NS.$name.nodes" 2>/dev/null || return 1
	done
}

# here NAMES...: how many engines those agents watch between them.
here() {
	local a sum=0 k

	for a in "$@"; do
		k=$(capi "$a" /v1/summary | jq -r .cluster.engines_here) || return 1
		sum=$((sum + k))
	done
	echo "$sum"
}

# Exactly two connections per engine at enginesim.
sim_conns() { "$SIM" ctl "$CTL" stats | jq -r .connections; }

# balanced N SHARES...: each share within 15% of N / agents.
balanced() {
	local n=$1 k=$# s

	shift
	k=$((k - 1))
	for s in "$@"; do
		[ $((s * k * 100)) -ge $((n * 85)) ] &&
			[ $((s * k * 100)) -le $((n * 115)) ] || return 1
	done
}

# watch_views NAMES...: in the background, every 200 ms, any engine those
# agents show unhealthy or down goes to $TMP/$NS.bad; stop_views ends it.
watch_views() {
	: >"$TMP/$NS.bad"
	(
		while :; do
			for name in "$@"; do
				curl -s --max-time 5 --unix-socket "${CL_SOCK[$name]}" \
					http://pw/v1/nodes 2>/dev/null |
					jq -r --arg a "$name" '.[] |
						select(.state == "unhealthy" or .state == "down") |
						"\($a) \(.addr) \(.state) \(.watcher)"' \
						>>"$TMP/$NS.bad" 2>/dev/null
			done
			sleep 0.2
		done
	) &
	VIEWS_PID=$!
	PIDS+=("$VIEWS_PID")
}
stop_views() { kill "$VIEWS_PID" 2>/dev/null; wait "$VIEWS_PID" 2>/dev/null; }

# stop_cagents NAMES...: SIGTERM, exit 0, no sanitizer report.
stop_cagents() {
	local name rc

	for name in "$@"; do
		kill -TERM "${CL_PID[$name]}" 2>/dev/null
		wait "${CL_PID[$name]}"
		rc=$?
		[ "$rc" -eq 0 ] || fail "agent $name exited $rc on SIGTERM" || return 1
		if grep -q "Sanitizer\|runtime error" "$TMP/$NS.$name.log"; then
			fail "$name: $(grep -m3 "Sanitizer\|runtime error" "$TMP/$NS.$name.log")"
			return 1
		fi
	done
}

cluster_setup() {
	local n=$1 name

	shift
	etcd_present || return
	new_netns "$1" || return 1
	shift
	start_etcd || return 1
	start_sim "$n" --events-interval 0 || return 1
	for name in a0 a1 a2; do
		start_cagent "$name" "$(fleet_file "$n")" "$@" || return 1
	done
}

# The fleet 127.1.0.1 .. +N-1 as a discovery file (nodes:// ranges are by
# the last byte only).
fleet_file() {
	local n=$1 f=$TMP/fleet.$1 i

	[ -s "$f" ] || for ((i = 0; i < n; i++)); do
		echo "127.1.$(((1 + i) / 256)).$(((1 + i) % 256)):2375"
	done >"$f"
	echo "file://$f"
}

# 3 agents, 3,000 engines: each watched exactly once, a third each
# (within 15%), all listed healthy by every agent with their watcher.
# Then steady state: no write to etcd at all, keepalives only.
test_cluster_share() {
	local n=3000 r0 r1 ka0 ka1 name

	etcd_present || return
	new_netns cshare || return 1
	start_etcd || return 1
	start_sim "$n" --events-interval 0 || return 1
	for name in a0 a1 a2; do
		start_cagent "$name" "$(fleet_file $n)" || return 1
	done
	wait_shares 60000 "$n" a0 a1 a2 ||
		fail "not shared after ${ELAPSED} ms: $SHARES" || return 1
	log "$n engines shared by 3 agents after ${ELAPSED} ms: $SHARES"
	# shellcheck disable=SC2086 # one argument per agent
	balanced "$n" $SHARES || fail "shares $SHARES: not within 15% of a third" || return 1
	[ "$(sim_conns)" = $((2 * n)) ] ||
		fail "enginesim: $(sim_conns) connections, want $((2 * n))" || return 1
	r0=$(etcd_rev)
	ka0=$(capi a0 /v1/summary | jq .cluster.etcd_keepalives)
	sleep 5
	r1=$(etcd_rev)
	ka1=$(capi a0 /v1/summary | jq .cluster.etcd_keepalives)
	log "steady state over 5 s: $((r1 - r0)) writes to etcd (revision $r0 -> $r1), $(((ka1 - ka0) * 3)) keepalives from 3 agents: $(awk "BEGIN { printf \"%.1f\", ($ka1 - $ka0) * 3 / 5 }") per second"
	[ "$r1" = "$r0" ] || fail "etcd written in steady state: revision $r0 -> $r1" || return 1
	stop_cagents a0 a1 a2
}

# SIGKILL an agent: within 2 x TTL its engines are watched exactly once
# again, by the others, and no survivor ever shows one unhealthy or down.
# Restarted: its engines move back, exactly once, never unhealthy or down.
test_cluster_failover() {
	local n=600 t0 r0 r1

	cluster_setup "$n" cfail || return 1
	wait_shares 60000 "$n" a0 a1 a2 || fail "not shared: $SHARES" || return 1
	log "shared: $SHARES"
	watch_views a0 a1
	r0=$(etcd_rev)
	t0=$(now_ms)
	{ kill -KILL "${CL_PID[a2]}"; wait "${CL_PID[a2]}"; } 2>/dev/null
	# Watched again: the survivors hold N engines between them, each
	# with both its connections open at enginesim (a taken engine shows
	# its last verdict until its first, so /v1/nodes cannot tell yet).
	while [ "$(here a0 a1)" != "$n" ] || [ "$(sim_conns)" != $((2 * n)) ]; do
		[ $(($(now_ms) - t0)) -lt 20000 ] ||
			fail "not taken over: $(here a0 a1) engines, $(sim_conns) connections" ||
			return 1
		sleep 0.1
	done
	ELAPSED=$(($(now_ms) - t0))
	SHARES=$(for a in a0 a1; do capi "$a" /v1/summary | jq -r .cluster.engines_here; done | xargs)
	log "a2 killed: its engines watched again by a0, a1 after ${ELAPSED} ms (bound 2 x TTL = $((2 * CL_TTL_MS)) ms): $SHARES"
	[ "$ELAPSED" -le $((2 * CL_TTL_MS)) ] || fail "takeover too slow" || return 1
	wait_shares 20000 "$n" a0 a1 || fail "not all healthy: $SHARES" || return 1
	r1=$(etcd_rev)
	log "... and listed healthy by both after $(($(now_ms) - t0)) ms; $((r1 - r0)) keys written to etcd meanwhile"
	[ "$(sim_conns)" = $((2 * n)) ] ||
		fail "enginesim: $(sim_conns) connections, want $((2 * n))" || return 1
	start_cagent a2 "$(fleet_file $n)" || return 1
	t0=$(now_ms)
	# Back = a2 holds its share again, each engine watched once.
	# shellcheck disable=SC2086 # one argument per agent
	until wait_shares 20000 "$n" a0 a1 a2 && balanced "$n" $SHARES; do
		[ $(($(now_ms) - t0)) -lt 20000 ] || fail "not back: $SHARES" ||
			return 1
		sleep 0.2
	done
	log "a2 restarted: engines back after $(($(now_ms) - t0)) ms: $SHARES"
	# No engine watched twice afterwards, once every handover is over.
	sleep $((CL_TTL_MS / 1000 + 1))
	[ "$(sim_conns)" = $((2 * n)) ] ||
		fail "enginesim: $(sim_conns) connections, want $((2 * n))" || return 1
	wait_shares 1000 "$n" a0 a1 a2 || fail "after: $SHARES" || return 1
	stop_views
	[ ! -s "$TMP/$NS.bad" ] ||
		fail "survivors showed: $(sort -u "$TMP/$NS.bad" | head -n 5)" || return 1
	stop_cagents a0 a1 a2
}

# down_at NAME ADDR: in the background, the time NAME first lists ADDR
# down goes to $TMP/$NS.NAME.down.
down_at() {
	(
		while ! curl -s --max-time 5 --unix-socket "${CL_SOCK[$1]}" \
			http://pw/v1/nodes 2>/dev/null |
			jq -e ".[] | select(.addr == \"$2\" and .state == \"down\")" \
				>/dev/null 2>&1; do
			sleep 0.02
		done
		now_ms >"$TMP/$NS.$1.down"
	) &
	PIDS+=("$!")
}

# A blackholed engine: down on every agent's view within 1 s of its
# watcher's verdict (each agent polled on its own, every 20 ms).
# Shortened: --user-timeout 2s, keepalive 1s/1s.
test_cluster_blackhole() {
	local n=60 e=127.1.0.7:2375 w t_w t_last t name

	cluster_setup "$n" cblack --user-timeout 2s --keepalive-idle 1s \
		--keepalive-interval 1s --engine-refresh-min-interval 1s \
		--engine-refresh-max-interval 2s || return 1
	wait_shares 60000 "$n" a0 a1 a2 || fail "not shared: $SHARES" || return 1
	w=$(capi a0 /v1/nodes | jq -r ".[] | select(.addr == \"$e\") | .watcher")
	for name in a0 a1 a2; do
		down_at "$name" "$e"
	done
	blackhole 127.1.0.7 || fail "nft" || return 1
	for _ in $(seq 300); do
		[ -s "$TMP/$NS.a0.down" ] && [ -s "$TMP/$NS.a1.down" ] &&
			[ -s "$TMP/$NS.a2.down" ] && break
		sleep 0.1
	done
	t_w=$(cat "$TMP/$NS.$w.down" 2>/dev/null)
	[ -n "$t_w" ] || fail "not down at its watcher $w" || return 1
	t_last=$t_w
	for name in a0 a1 a2; do
		t=$(cat "$TMP/$NS.$name.down" 2>/dev/null)
		[ -n "$t" ] || fail "not down at $name" || return 1
		[ "$t" -le "$t_last" ] || t_last=$t
	done
	log "blackholed $e: down at its watcher $w, and on every agent $((t_last - t_w)) ms later (bound 1000)"
	# Under ASan every agent, and the polling here, is several times slower.
	if ldd "$PW" | grep -q libasan; then
		log "sanitizer build: the 1 s bound is not checked"
	else
		[ $((t_last - t_w)) -le 1000 ] || fail "too slow" || return 1
	fi
	unblackhole
	stop_cagents a0 a1 a2
}

# One etcd member killed: nothing changes (no engine moves, all listed).
# A second agent with a live agent's name says so and exits.
test_cluster_etcd_member() {
	local n=300 before after rc name

	cluster_setup "$n" cmember || return 1
	wait_shares 60000 "$n" a0 a1 a2 || fail "not shared: $SHARES" || return 1
	before=$SHARES
	watch_views a0 a1 a2
	{ kill -KILL "${ETCD_PID[0]}"; wait "${ETCD_PID[0]}"; } 2>/dev/null
	sleep $((2 * CL_TTL_MS / 1000 + 1))
	wait_shares 2000 "$n" a0 a1 a2 || fail "after: $SHARES" || return 1
	after=$SHARES
	stop_views
	log "etcd m0 killed: shares $before -> $after"
	[ "$before" = "$after" ] || fail "engines moved" || return 1
	[ ! -s "$TMP/$NS.bad" ] ||
		fail "agents showed: $(sort -u "$TMP/$NS.bad" | head -n 5)" || return 1
	for name in a0 a1 a2; do
		capi "$name" /v1/summary | jq -e '.cluster.up and .cluster.agents == 3' >/dev/null ||
			fail "$name: $(capi "$name" /v1/summary | jq -c .cluster)" || return 1
	done
	spawn "$TMP/$NS.dup.log" "$PW" --cluster "$ETCD_URL" --cluster-name a1 \
		--cluster-ttl "${CL_TTL_MS}ms" --api-socket "$TMP/$NS.dup.sock" \
		--state-file "$TMP/$NS.dup.json" "$(fleet_file "$n")"
	wait "$LAST_PID"
	rc=$?
	grep -q "another live agent is named a1" "$TMP/$NS.dup.log" && [ "$rc" -ne 0 ] ||
		fail "duplicate name: exit $rc, $(tail -n 2 "$TMP/$NS.dup.log")" || return 1
	log "a second a1: exit $rc, \"$(grep -o 'another live agent.*' "$TMP/$NS.dup.log")\""
	stop_cagents a0 a2
}

# locals NAMES...: "min max" of how many agents watch each engine.
locals() {
	local files

	capi_all "$@" || return 1
	mapfile -t files < <(nodes_files "$@")
	jq -rs '[map(.[] | select(.cookie != null) | .addr)[]] | group_by(.) |
		map(length) | "\(min) \(max) \(length)"' "${files[@]}"
}

# --cluster-replicas 2: every engine watched by two agents (four
# connections at enginesim); one agent killed leaves every engine watched,
# and within 2 x TTL by two again.
test_cluster_replicas() {
	local n=300 got t0

	cluster_setup "$n" crepl --cluster-replicas 2 || return 1
	t0=$(now_ms)
	while [ "$(locals a0 a1 a2)" != "2 2 $n" ] || [ "$(sim_conns)" != $((4 * n)) ]; do
		[ $(($(now_ms) - t0)) -lt 60000 ] ||
			fail "replicas: $(locals a0 a1 a2), $(sim_conns) connections" || return 1
		sleep 0.2
	done
	log "replicas 2: every engine of $n watched by 2 agents, $(sim_conns) connections"
	{ kill -KILL "${CL_PID[a2]}"; wait "${CL_PID[a2]}"; } 2>/dev/null
	got=$(locals a0 a1)
	log "a2 killed: engines watched by min/max $got (min, max, engines)"
	[ "${got%% *}" -ge 1 ] && [ "${got##* }" = "$n" ] ||
		fail "an engine unwatched: $got" || return 1
	t0=$(now_ms)
	while [ "$(locals a0 a1)" != "2 2 $n" ]; do
		[ $(($(now_ms) - t0)) -lt $((2 * CL_TTL_MS)) ] ||
			fail "not two again: $(locals a0 a1)" || return 1
		sleep 0.2
	done
	log "two watchers each again after $(($(now_ms) - t0)) ms (bound $((2 * CL_TTL_MS)))"
	stop_cagents a0 a1
}

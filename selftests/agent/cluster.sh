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
ETCD_ARGS=()
ETCD_CURL_ARGS=()
CL_TTL_MS=5000
declare -A CL_PID CL_SOCK

etcd_present() {
	command -v etcd >/dev/null && return 0
	log "SKIP: no etcd (Debian's etcd-server)"
	return 4
}

# etcd_member I: member I of the cluster, on its own data (kept across a
# restart). Clients may come to 127.0.0.1 or 127.0.0.2 (the address an
# agent cut off by nft uses); ETCD_ARGS: more flags (TLS, quotas).
etcd_member() {
	local i=$1 init="" j p=${ETCD_PORTS[$1]} s=${ETCD_SCHEME:-http}

	for j in 0 1 2; do
		init+="${init:+,}m$j=http://127.0.0.1:$((ETCD_PORTS[j] + 1))"
	done
	spawn "$TMP/$NS.etcd$i.log" etcd --name "m$i" \
		--data-dir "$TMP/$NS.etcd$i" \
		--listen-client-urls "$s://127.0.0.1:$p,$s://127.0.0.2:$p" \
		--advertise-client-urls "$s://127.0.0.1:$p" \
		--listen-peer-urls "http://127.0.0.1:$((p + 1))" \
		--initial-advertise-peer-urls "http://127.0.0.1:$((p + 1))" \
		--initial-cluster "$init" --initial-cluster-state new \
		--initial-cluster-token "$NS" "${ETCD_ARGS[@]}"
	ETCD_PID[i]=$LAST_PID
}

# start_etcd: the three members of one cluster, each with its own data
# and ETCD_ARGS (a test may make it local: swarm.sh's --enable-v2); again
# after a stop: the same cluster.
start_etcd() {
	local i

	for i in 0 1 2; do
		etcd_member "$i"
	done
	for _ in $(seq 200); do
		etcd_rev >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	fail "etcd did not start: $(tail -n 3 "$TMP/$NS.etcd0.log")"
}

# etcd_post PATH JSON: a call to member m0's gateway, its answer out.
etcd_post() {
	in_ns curl -sf --max-time 10 "${ETCD_CURL_ARGS[@]}" -X POST \
		"${ETCD_SCHEME:-http}://127.0.0.1:2379$1" -d "$2"
}

# etcd_rev: the store's revision (it grows with every write).
etcd_rev() {
	etcd_post /v3/kv/range '{"key":"AA=="}' | jq -er '.header.revision'
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

# writes NAMES...: the keys those agents wrote to etcd, between them.
writes() {
	local a sum=0 k

	for a in "$@"; do
		k=$(capi "$a" /v1/summary | jq -r .cluster.etcd_writes) || return 1
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
	local n=600 t0 r0 r1 w0 w1

	cluster_setup "$n" cfail || return 1
	wait_shares 60000 "$n" a0 a1 a2 || fail "not shared: $SHARES" || return 1
	log "shared: $SHARES"
	watch_views a0 a1
	r0=$(etcd_rev)
	w0=$(writes a0 a1)
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
	w1=$(writes a0 a1)
	ELAPSED=$(($(now_ms) - t0))
	log "... and listed healthy by both after $ELAPSED ms; meanwhile $((w1 - w0)) keys written in $((r1 - r0)) revisions (txns, and a2's key deleted), $(awk "BEGIN { printf \"%.0f\", ($w1 - $w0) * 1000 / $ELAPSED }") keys/s averaged from the kill"
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

# A blackholed engine: down on every agent's view within 3 s of its
# watcher's verdict (each agent polled on its own, every 20 ms). The
# verdict goes to etcd in one transaction and comes back on each agent's
# watch: 27-322 ms measured, under ASan and valgrind too; the bound is the
# margin for three agents and etcd's fsync on two loaded cores.
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
	log "blackholed $e: down at its watcher $w, and on every agent $((t_last - t_w)) ms later (bound $(bound 3000))"
	[ $((t_last - t_w)) -le "$(bound 3000)" ] || fail "too slow" || return 1
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

# watch_conns N: in the background, every 100 ms, a count of fewer than
# two connections per engine at enginesim (an engine unwatched, or between
# two watchers) goes to $TMP/$NS.short; stop_conns ends it.
watch_conns() {
	: >"$TMP/$NS.short"
	(
		while :; do
			k=$("$SIM" ctl "$CTL" stats 2>/dev/null | jq -r .connections)
			[ -z "$k" ] || [ "$k" -ge $((2 * $1)) ] ||
				echo "$(now_ms) $k" >>"$TMP/$NS.short"
			sleep 0.1
		done
	) &
	CONNS_PID=$!
	PIDS+=("$CONNS_PID")
}
stop_conns() { kill "$CONNS_PID" 2>/dev/null; wait "$CONNS_PID" 2>/dev/null; }

# cl_up NAME: "true" or "false", as NAME's /v1/summary says of etcd.
cl_up() { capi "$1" /v1/summary | jq -r .cluster.up; }

# The keys under /peerwatch/state/ and who wrote them, from etcd itself.
state_watchers() {
	etcd_post /v3/kv/range "{\"key\":\"$(printf /peerwatch/state/ | base64)\",\"range_end\":\"$(printf /peerwatch/state0 | base64)\"}" |
		jq -r '.kvs[].value | @base64d | fromjson | .watcher' | sort | uniq -c | xargs
}

state_count() {
	etcd_post /v3/kv/range "{\"key\":\"$(printf /peerwatch/state/ | base64)\",\"range_end\":\"$(printf /peerwatch/state0 | base64)\",\"count_only\":true}" |
		jq -r '.count // 0'
}

# Conditions to poll for: no state key written by NAME; N state keys;
# NAME lists K containers per engine it holds; NAME's summary: N healthy.
no_keys_of() { ! state_watchers | grep -q "$1"; }
state_keys() { [ "$(state_count)" = "$1" ]; }
listed_containers() {
	[ "$(capi "$1" /v1/summary | jq .containers)" = $(($2 * $(here "$1"))) ]
}
healthy_in() { [ "$(capi "$1" /v1/summary | jq .states.healthy)" = "$2" ]; }

# partition_on: agent a2 (which reaches etcd at 127.0.0.2 only) cut off
# from every member, both ways, in one nft transaction; partition_off.
partition_on() {
	in_ns nft -f - <<-'NFT'
	add table inet pwpart
	add chain inet pwpart input { type filter hook input priority 0; }
	add rule inet pwpart input ip daddr 127.0.0.2 tcp dport { 2379, 22379, 32379 } drop
	add rule inet pwpart input ip saddr 127.0.0.2 tcp sport { 2379, 22379, 32379 } drop
	NFT
}
partition_off() { in_ns nft delete table inet pwpart; }

# One agent cut off from etcd by nft: the others take its engines within
# 2 x TTL, in as many txns as they need; it keeps watching its own and
# says it is cut off (log, /metrics, /v1/summary). Healed: it rejoins with
# a new lease, each engine is watched exactly once again, and no engine
# was ever unwatched, nor shown unhealthy or down by any agent.
test_cluster_partition() {
	local n=600 t0 r0 r1 w0 w1 mine2 k name lim d0

	etcd_present || return
	new_netns cpart || return 1
	start_etcd || return 1
	start_sim "$n" --events-interval 0 || return 1
	start_cagent a0 "$(fleet_file $n)" || return 1
	start_cagent a1 "$(fleet_file $n)" || return 1
	ETCD_URL=etcd://127.0.0.2:2379,127.0.0.2:22379,127.0.0.2:32379 \
		start_cagent a2 "$(fleet_file $n)" || return 1
	wait_shares 60000 "$n" a0 a1 a2 || fail "not shared: $SHARES" || return 1
	log "shared: $SHARES"
	mine2=$(here a2)
	watch_views a0 a1 a2
	watch_conns "$n"
	r0=$(etcd_rev)
	w0=$(writes a0 a1)
	d0=$(grep -c "cluster: down: " "$TMP/$NS.a2.log")
	partition_on || fail "nft" || return 1
	t0=$(now_ms)
	# Taken: a0 and a1 hold every engine, and a2 still holds its own.
	lim=$(bound $((2 * CL_TTL_MS)))
	while [ "$(here a0 a1)" != "$n" ] ||
	      [ "$(sim_conns)" != $((2 * (n + mine2))) ]; do
		[ $(($(now_ms) - t0)) -lt "$lim" ] ||
			fail "not taken over: a0+a1 $(here a0 a1), $(sim_conns) connections" ||
			return 1
		sleep 0.1
	done
	ELAPSED=$(($(now_ms) - t0))
	log "a2 cut off: its $mine2 engines watched by a0, a1 too after ${ELAPSED} ms (bound 2 x TTL = $lim ms); a2 still holds $(here a2)"
	[ "$(here a2)" = "$mine2" ] || fail "a2 let engines go" || return 1
	# Every key in etcd rewritten by a survivor, in as many txns as needed.
	poll_for "$(bound 10000)" 0.2 no_keys_of a2 ||
		fail "keys still a2's: $(state_watchers)" || return 1
	r1=$(etcd_rev)
	w1=$(writes a0 a1)
	log "takeover: $((w1 - w0)) keys written by a0, a1 in $((r1 - r0)) revisions (txns, lease and agent keys); state keys by watcher: $(state_watchers)"
	[ $((w1 - w0)) -ge "$mine2" ] || fail "only $((w1 - w0)) keys written" || return 1
	[ "$(cl_up a2)" = false ] || fail "a2 says it is up" || return 1
	capi a2 /metrics | grep -qx "peerwatch_cluster_up 0" ||
		fail "a2's /metrics: $(capi a2 /metrics | grep cluster_up)" || return 1
	[ "$(grep -c "cluster: down: .*keeping every engine we watch" "$TMP/$NS.a2.log")" -gt "$d0" ] ||
		fail "a2 did not log it: $(grep cluster: "$TMP/$NS.a2.log" | tail -n 3)" || return 1
	log "a2 says: $(grep -o 'cluster: down: .*' "$TMP/$NS.a2.log" | tail -n 1)"
	partition_off || fail "nft" || return 1
	t0=$(now_ms)
	# Healed: a new lease, then every engine once again, a2 its share.
	lim=$(bound $((4 * CL_TTL_MS)))
	# shellcheck disable=SC2086 # one argument per agent
	until wait_shares 2000 "$n" a0 a1 a2 >/dev/null && balanced "$n" $SHARES &&
	      [ "$(sim_conns)" = $((2 * n)) ]; do
		[ $(($(now_ms) - t0)) -lt "$lim" ] ||
			fail "not converged: $SHARES, $(sim_conns) connections" || return 1
		sleep 0.2
	done
	log "healed: exactly once again after $(($(now_ms) - t0)) ms (bound $lim): $SHARES, $(sim_conns) connections"
	k=$(grep -c "cluster: lease .* of " "$TMP/$NS.a2.log")
	[ "$k" -ge 2 ] || fail "a2 has not taken a new lease" || return 1
	grep -q "handover: to a2" "$TMP/$NS.a0.log" ||
		fail "a0 did not log its handovers to a2" || return 1
	log "a0 logged: $(grep -m1 -o 'engine .*handover: to a2.*' "$TMP/$NS.a0.log")"
	sleep $((CL_TTL_MS / 1000 + 1))
	[ "$(sim_conns)" = $((2 * n)) ] ||
		fail "enginesim: $(sim_conns) connections, want $((2 * n))" || return 1
	for name in a0 a1 a2; do
		[ "$(cl_up "$name")" = true ] || fail "$name not up" || return 1
	done
	stop_views
	stop_conns
	[ ! -s "$TMP/$NS.bad" ] ||
		fail "agents showed: $(sort -u "$TMP/$NS.bad" | head -n 5)" || return 1
	[ ! -s "$TMP/$NS.short" ] ||
		fail "engines unwatched (ms, connections): $(head -n 3 "$TMP/$NS.short")" ||
		return 1
	stop_cagents a0 a1 a2
}

# Quorum: two of three etcd members killed. The agents keep watching
# every engine and report the cluster down; the members back, they
# converge to each engine watched exactly once, nothing lost on the way.
test_cluster_quorum() {
	local n=300 t0 lim name i

	cluster_setup "$n" cquorum || return 1
	wait_shares 60000 "$n" a0 a1 a2 || fail "not shared: $SHARES" || return 1
	log "shared: $SHARES"
	watch_views a0 a1 a2
	watch_conns "$n"
	for i in 1 2; do
		{ kill -KILL "${ETCD_PID[i]}"; wait "${ETCD_PID[i]}"; } 2>/dev/null
	done
	t0=$(now_ms)
	lim=$(bound $((3 * CL_TTL_MS)))
	until [ "$(cl_up a0)$(cl_up a1)$(cl_up a2)" = falsefalsefalse ]; do
		[ $(($(now_ms) - t0)) -lt "$lim" ] ||
			fail "still up: $(cl_up a0) $(cl_up a1) $(cl_up a2)" || return 1
		sleep 0.2
	done
	log "m1, m2 killed: every agent reports the cluster down after $(($(now_ms) - t0)) ms"
	sleep $((CL_TTL_MS / 1000))
	[ "$(here a0 a1 a2)" -ge "$n" ] && [ "$(sim_conns)" -ge $((2 * n)) ] ||
		fail "engines dropped: $(here a0 a1 a2) held, $(sim_conns) connections" ||
		return 1
	for name in a0 a1 a2; do
		capi "$name" /metrics | grep -qx "peerwatch_cluster_up 0" ||
			fail "$name: $(capi "$name" /metrics | grep cluster_up)" || return 1
	done
	log "quorum lost for $(($(now_ms) - t0)) ms: $(here a0 a1 a2) engines held, $(sim_conns) connections"
	etcd_member 1
	etcd_member 2
	t0=$(now_ms)
	lim=$(bound $((6 * CL_TTL_MS)))
	until wait_shares 2000 "$n" a0 a1 a2 >/dev/null && [ "$(sim_conns)" = $((2 * n)) ] &&
	      [ "$(cl_up a0)$(cl_up a1)$(cl_up a2)" = truetruetrue ]; do
		[ $(($(now_ms) - t0)) -lt "$lim" ] ||
			fail "not converged: $SHARES, $(sim_conns) connections" || return 1
		sleep 0.2
	done
	log "quorum back: converged after $(($(now_ms) - t0)) ms (bound $lim): $SHARES"
	# Nothing lost: a key for every engine, each written by its watcher.
	poll_for "$(bound 10000)" 0.2 state_keys "$n" ||
		fail "$(state_count) state keys in etcd, want $n" || return 1
	log "etcd holds $(state_count) state keys, by watcher: $(state_watchers)"
	stop_views
	stop_conns
	[ ! -s "$TMP/$NS.bad" ] ||
		fail "agents showed: $(sort -u "$TMP/$NS.bad" | head -n 5)" || return 1
	[ ! -s "$TMP/$NS.short" ] ||
		fail "engines unwatched (ms, connections): $(head -n 3 "$TMP/$NS.short")" ||
		return 1
	stop_cagents a0 a1 a2
}

# etcd over TLS, client certificates required (--client-cert-auth), the
# certificates of tls.sh (fleet.pem holds 127.0.0.1 and 127.0.0.2): a0
# and a1 given --etcd-cacert/--etcd-cert/--etcd-key, a2 the ETCDCTL_*
# variables, as etcdctl reads them. An agent trusting another CA says so.
test_cluster_tls() {
	local n=90 d

	etcd_present || return
	tls_certs || return 1
	d=$TLSD
	ETCD_SCHEME=https
	ETCD_ARGS=(--cert-file "$d/fleet.pem" --key-file "$d/srv.key"
		--trusted-ca-file "$d/ca.pem" --client-cert-auth)
	ETCD_CURL_ARGS=(--cacert "$d/ca.pem" --cert "$d/client.pem" --key "$d/client.key")
	# shellcheck disable=SC2034 # lib.sh's stop_all runs it
	TEST_CLEANUP=cluster_plain
	new_netns ctls || return 1
	start_etcd || return 1
	start_sim "$n" --events-interval 0 || return 1
	for a in a0 a1; do
		start_cagent "$a" --etcd-cacert "$d/ca.pem" --etcd-cert "$d/client.pem" \
			--etcd-key "$d/client.key" "$(fleet_file $n)" || return 1
	done
	ETCDCTL_CACERT=$d/ca.pem ETCDCTL_CERT=$d/client.pem ETCDCTL_KEY=$d/client.key \
		start_cagent a2 "$(fleet_file $n)" || return 1
	wait_shares 60000 "$n" a0 a1 a2 || fail "not shared: $SHARES" || return 1
	log "over TLS: $n engines shared by 3 agents after ${ELAPSED} ms: $SHARES; etcd holds $(state_count) state keys"
	[ "$(sim_conns)" = $((2 * n)) ] ||
		fail "enginesim: $(sim_conns) connections, want $((2 * n))" || return 1
	start_cagent a3 --etcd-cacert "$d/rogue-ca.pem" --etcd-cert "$d/client.pem" \
		--etcd-key "$d/client.key" "$(fleet_file $n)" || return 1
	poll_for 10000 0.2 grep -q "cluster: not up: " "$TMP/$NS.a3.log" ||
		fail "a3 said nothing: $(tail -n 3 "$TMP/$NS.a3.log")" || return 1
	log "a3, another CA: $(grep -m1 -o 'cluster: not up: .*' "$TMP/$NS.a3.log")"
	grep -m1 "cluster: not up: " "$TMP/$NS.a3.log" | grep -qi "certificate\|CA" ||
		fail "not a clear error" || return 1
	[ "$(capi a0 /v1/summary | jq .cluster.agents)" = 3 ] ||
		fail "a3 counted as an agent" || return 1
	stop_cagents a0 a1 a2 a3
}
cluster_plain() { ETCD_SCHEME=http; ETCD_ARGS=(); ETCD_CURL_ARGS=(); }

etcd_put() {
	etcd_post /v3/kv/put "{\"key\":\"$(printf %s "$1" | base64 -w0)\",\"value\":\"$(printf %s "$2" | base64 -w0)\"}" >/dev/null
}

# Keys under the prefix written by someone else (garbage, wrong JSON, an
# agent's key held by no lease), and a first endpoint that is no etcd: an
# engine (Docker's API: a JSON 404) for a0, an HTTP server of HTML for
# a1. Each is said once, clearly; the next endpoint is used; nothing is
# lost: every engine watched once and listed healthy by every agent.
test_cluster_bad_input() {
	local n=90 e=127.1.0.5:2375 name

	etcd_present || return
	new_netns cbad || return 1
	start_etcd || return 1
	etcd_put /peerwatch/state/garbage "not json" || fail "put" || return 1
	etcd_put /peerwatch/state/127.1.0.3:2375 '{"state":"bogus"}'
	etcd_put /peerwatch/agents/ghost '{"api":null}'
	etcd_put "/peerwatch/agents/bad name" junk
	start_sim "$n" --events-interval 0 || return 1
	spawn "$TMP/$NS.http.log" python3 -m http.server --bind 127.0.0.3 2379
	poll_for 30000 0.1 in_ns curl -sf -o /dev/null http://127.0.0.3:2379/ ||
		fail "python3 http.server did not start" || return 1
	ETCD_URL=etcd://127.1.0.1:2375,127.0.0.1:2379 start_cagent a0 "$(fleet_file $n)" || return 1
	ETCD_URL=etcd://127.0.0.3:2379,127.0.0.1:22379 start_cagent a1 "$(fleet_file $n)" || return 1
	start_cagent a2 "$(fleet_file $n)" || return 1
	wait_shares 60000 "$n" a0 a1 a2 || fail "not shared: $SHARES" || return 1
	log "shared despite it all: $SHARES"
	for name in a0 a1 a2; do
		[ "$(capi "$name" /v1/summary | jq .cluster.agents)" = 3 ] ||
			fail "$name: $(capi "$name" /v1/summary | jq -c .cluster)" || return 1
		grep -q "ignoring /peerwatch/agents/ghost: held by no lease" "$TMP/$NS.$name.log" &&
			grep -q "ignoring /peerwatch/state/garbage: not an engine address" "$TMP/$NS.$name.log" &&
			grep -q "ignoring /peerwatch/agents/bad name: not an agent name" "$TMP/$NS.$name.log" ||
			fail "$name: $(grep ignoring "$TMP/$NS.$name.log")" || return 1
	done
	log "a0: $(grep -m1 -o 'ignoring /peerwatch/agents/ghost.*' "$TMP/$NS.a0.log")"
	grep -q "cluster: not up: .*not etcd" "$TMP/$NS.a0.log" ||
		fail "a0, an engine first: $(grep -m2 'cluster:' "$TMP/$NS.a0.log")" || return 1
	log "a0, an engine first: $(grep -m1 -o 'cluster: not up: .*' "$TMP/$NS.a0.log")"
	grep -q "cluster: not up: .*not etcd" "$TMP/$NS.a1.log" ||
		fail "a1, an HTTP server first: $(grep -m2 'cluster:' "$TMP/$NS.a1.log")" || return 1
	log "a1, an HTTP server first: $(grep -m1 -o 'cluster: not up: .*' "$TMP/$NS.a1.log")"
	# Written over while everyone watches: said, and the engine stays.
	etcd_put "/peerwatch/state/$e" '{"state":"healthy","watcher":7}'
	poll_for "$(bound 10000)" 0.1 grep -q "ignoring /peerwatch/state/$e: not a peerwatch" "$TMP/$NS.a1.log" ||
		fail "a1 did not say it" || return 1
	wait_shares 2000 "$n" a0 a1 a2 || fail "after the bad write: $SHARES" || return 1
	stop_cagents a0 a1 a2
}

# What covers the whole fleet and what covers this agent's engines, on
# agent a0 of three: the state file (SIGUSR1), peerwatch nodes (a WATCHER
# column) and -j, /v1/summary and docker info list every engine; the
# containers (/v1/containers, the Docker facade) are a0's engines' only,
# and the Peerwatch-Scope header says so; an inspect of another agent's
# container says where to look.
test_cluster_views() {
	local n=90 k c scope out id sock

	cluster_setup "$n" cviews || return 1
	wait_shares 60000 "$n" a0 a1 a2 || fail "not shared: $SHARES" || return 1
	sock=${CL_SOCK[a0]}
	poll_for 10000 0.2 listed_containers a0 5 ||
		fail "a0's containers: $(capi a0 /v1/summary | jq .containers)" || return 1
	k=$(here a0)
	c=$((5 * k))
	scope="Peerwatch-Scope: agent=a0; engines=$k; fleet=$n"
	# The state file.
	rm -f "$TMP/$NS.a0.json"
	kill -USR1 "${CL_PID[a0]}"
	poll_for "$(bound 10000)" 0.05 test -s "$TMP/$NS.a0.json" || fail "no state file" || return 1
	jq -e --argjson n "$n" '.engines == $n and .states.healthy == $n and
		(.nodes | length) == $n and all(.nodes[]; .watcher != null) and
		.cluster.name == "a0"' "$TMP/$NS.a0.json" >/dev/null ||
		fail "state file: $(jq -c '{engines, states, n: (.nodes | length)}' "$TMP/$NS.a0.json")" ||
		return 1
	# peerwatch nodes, its table and -j.
	out=$("$CLI" nodes --api-socket "$sock")
	echo "$out" | head -n 1 | grep -q "WATCHER$" || fail "nodes: $(echo "$out" | head -n 1)" || return 1
	[ "$(echo "$out" | grep -c " a[012]$")" = "$n" ] ||
		fail "nodes: $(echo "$out" | grep -c " a[012]$") rows with a watcher" || return 1
	"$CLI" nodes -j --api-socket "$sock" | jq -e --argjson n "$n" \
		'length == $n and all(.[]; .watcher != null)' >/dev/null ||
		fail "nodes -j" || return 1
	# /v1/summary: the fleet's engines; a0's containers.
	capi a0 /v1/summary | jq -e --argjson n "$n" --argjson k "$k" --argjson c "$c" \
		'.engines == $n and .states.healthy == $n and
		 .cluster.engines_here == $k and .containers == $c' >/dev/null ||
		fail "summary: $(capi a0 /v1/summary | jq -c '{engines, states, containers, cluster}')" ||
		return 1
	# docker info: every engine of the fleet, with its watcher.
	out=$(docker -H "unix://$sock" info 2>&1)
	echo "$out" | grep -q "^ Nodes: $n$" &&
		[ "$(echo "$out" | grep -c "└ Watcher: a[012]$")" = "$n" ] &&
		echo "$out" | grep -q "^ Scope: agent a0: containers of its $k engines of $n$" &&
		echo "$out" | grep -q "^ Containers: $c$" ||
		fail "docker info: $(echo "$out" | grep "Nodes\|Scope\|Containers:" | head -n 3)" ||
		return 1
	# The containers: a0's, and said so.
	curl -sS -D "$TMP/$NS.h" --unix-socket "$sock" http://pw/v1/containers >"$TMP/$NS.c"
	grep -q "^$scope" "$TMP/$NS.h" && [ "$(jq length "$TMP/$NS.c")" = "$c" ] ||
		fail "/v1/containers: $(jq length "$TMP/$NS.c"), $(grep -i scope "$TMP/$NS.h")" || return 1
	curl -sS -D "$TMP/$NS.h" --unix-socket "$sock" "http://pw/containers/json?all=1" >"$TMP/$NS.c"
	grep -q "^$scope" "$TMP/$NS.h" && [ "$(jq length "$TMP/$NS.c")" = "$c" ] ||
		fail "/containers/json: $(jq length "$TMP/$NS.c"), $(grep -i scope "$TMP/$NS.h")" || return 1
	[ "$(docker -H "unix://$sock" ps -aq | wc -l)" = "$c" ] || fail "docker ps" || return 1
	log "a0 watches $k of $n engines: state file, nodes, -j, summary, docker info list $n; containers $c, with \"$scope\""
	id=$(capi a1 /v1/containers | jq -r '.[0].id')
	out=$(curl -sS --unix-socket "$sock" "http://pw/containers/$id/json" | jq -r .message)
	echo "$out" | grep -q "among the $k engines agent a0 watches" ||
		fail "inspect of a1's container on a0: $out" || return 1
	log "a1's container inspected on a0: ${out/$id/ID}"
	stop_cagents a0 a1 a2
}

# etcd refusing every write (its backend quota at one byte: "database
# space exceeded", HTTP 429): the agent logs etcd's own reason, once, and
# watches the whole fleet meanwhile, as with no etcd at all.
test_cluster_etcd_error() {
	local n=30

	etcd_present || return
	ETCD_ARGS=(--quota-backend-bytes 1)
	# shellcheck disable=SC2034 # lib.sh's stop_all runs it
	TEST_CLEANUP=cluster_plain
	new_netns cerror || return 1
	start_etcd || return 1
	start_sim "$n" --events-interval 0 || return 1
	start_cagent a0 "$(fleet_file $n)" || return 1
	poll_for 10000 0.2 grep -q "cluster: not up: .*HTTP 429 from etcd: etcdserver: mvcc: database space exceeded" \
		"$TMP/$NS.a0.log" ||
		fail "a0 said: $(grep -m3 'cluster:' "$TMP/$NS.a0.log")" || return 1
	log "a0: $(grep -m1 -o 'cluster: not up: .*' "$TMP/$NS.a0.log")"
	poll_for "$(bound $((2 * CL_TTL_MS)))" 0.2 healthy_in a0 "$n" ||
		fail "not watching: $(capi a0 /v1/summary | jq -c .states)" || return 1
	log "... and watches all $n engines meanwhile, after ${ELAPSED} ms"
	[ "$(grep -c "database space exceeded" "$TMP/$NS.a0.log")" = 1 ] ||
		fail "said $(grep -c "database space exceeded" "$TMP/$NS.a0.log") times" || return 1
	stop_cagents a0
}

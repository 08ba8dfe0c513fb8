# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# Discovery from etcd as Swarm did it, sourced by run.sh after cluster.sh
# (start_etcd, start_cagent, wait_shares...). Engines are registered the
# way `swarm join` did through libkv's etcd store: in etcd's v2 keyspace
# (etcd 3.4 serves it only with --enable-v2), PATH/docker/swarm/nodes/ADDR
# set to ADDR with a TTL.
#
#   netns pwt-<pid>-<test>                                         lo only
#   +------------------------------------------------------------------+
#   |  etcd m0 127.0.0.1:2379  m1 :22379  m2 :32379  --enable-v2      |
#   |     ^ curl -XPUT /v2/keys/swarm/docker/swarm/nodes/ADDR         |
#   |     |      -d value=ADDR -d ttl=N          (as swarm join did)  |
#   |  peerwatchd etcd://m0,m1,m2/swarm  [--cluster etcd://m0,m1,m2]  |
#   |     | GET ?recursive=true, then one watch stream from its index |
#   |     v                                                           |
#   |  enginesim 127.1.0.1 ..                                         |
#   +------------------------------------------------------------------+

SWARM_URL=etcd://127.0.0.1:2379,127.0.0.1:22379,127.0.0.1:32379/swarm
SWARM_NODES=/v2/keys/swarm/docker/swarm/nodes

# swarm_join_at PORT ADDR [TTL]: what one heartbeat of `swarm join` wrote,
# to the member of client PORT, quietly; swarm_join: to m0, or fail.
swarm_join_at() {
	in_ns curl -sf --max-time 3 -XPUT \
		"http://127.0.0.1:$1$SWARM_NODES/$2" -d "value=$2" \
		${3:+-d "ttl=$3"} >/dev/null
}
swarm_join() { swarm_join_at 2379 "$@" || fail "PUT $1 to etcd"; }

swarm_leave_at() {
	in_ns curl -sf --max-time 5 -XDELETE \
		"http://127.0.0.1:$1$SWARM_NODES/$2" >/dev/null ||
		fail "DELETE $2 from etcd :$1"
}
swarm_leave() { swarm_leave_at 2379 "$@"; }

listed() { echo "([.nodes[] | select(.addr == \"$1\")] | length == 1)"; }
unlisted() { echo "([.nodes[] | select(.addr == \"$1\")] | length == 0)"; }

# Registered and removed engines are picked up and dropped within 3 s
# (etcd's watch stream brings each change: 0.1-0.5 s measured; the
# bound is the margin a loaded 2-core machine needs); a registration
# whose TTL is not refreshed drops its engine; a bad value is
# reported and skipped. The member followed killed: the next is used.
# etcd stopped: the engines stay, the error is said once; etcd back:
# followed again.
test_swarm_discovery() {
	local i n t0 pids
	# etcd's v2 keyspace, as libkv used it (seen by start_etcd).
	# shellcheck disable=SC2034
	local ETCD_ARGS=(--enable-v2)

	etcd_present || return
	new_netns swarm || return 1
	start_etcd || return 1
	start_sim 12 --events-interval 0 || return 1
	for i in 1 2 3 4 5; do
		swarm_join "127.1.0.$i:2375" 60 || return 1
	done
	swarm_join "bad" 60 || return 1
	start_agent --request-timeout 2s "$SWARM_URL" || return 1
	wait_until "$(bound 10000)" "$(all_healthy 5)" ||
		fail "not the 5 registered: $(q .states)" || return 1
	log "5 registered engines read and healthy after ${ELAPSED} ms"
	grep -q "discovery: etcd .*/swarm/docker/swarm/nodes/bad: " "$ALOG" ||
		fail "a bad value not reported" || return 1

	swarm_join 127.1.0.6:2375 60 || return 1
	wait_until "$(bound 3000)" "$(listed 127.1.0.6:2375)" ||
		fail "registered, not picked up in ${ELAPSED} ms" || return 1
	log "registered: picked up after ${ELAPSED} ms (bound $(bound 3000) ms)"
	swarm_leave 127.1.0.2:2375 || return 1
	wait_until "$(bound 3000)" "$(unlisted 127.1.0.2:2375)" ||
		fail "removed, not dropped in ${ELAPSED} ms" || return 1
	log "removed: dropped after ${ELAPSED} ms (bound $(bound 3000) ms)"
	# A burst, all at once: none lost between two polls.
	pids=()
	for i in 9 10 11 12; do
		swarm_join "127.1.0.$i:2375" 60 &
		pids+=($!)
	done
	wait "${pids[@]}"
	wait_until "$(bound 3000)" "$(all_healthy 9)" ||
		fail "a burst of 4: $(q '[.nodes[].addr]')" || return 1
	log "a burst of 4 registrations: all picked up after ${ELAPSED} ms"
	for i in 9 10 11 12; do
		swarm_leave "127.1.0.$i:2375" || return 1
	done

	# Not refreshed: etcd expires it (its TTL sweep runs every 500 ms):
	# 2 to 2.5 s after the registration (2.5-3.2 s measured), + 3 s of
	# margin.
	t0=$(now_ms)
	swarm_join 127.1.0.7:2375 2 || return 1
	wait_until "$(bound 3000)" "$(listed 127.1.0.7:2375)" ||
		fail "a TTL'd registration not picked up" || return 1
	wait_until "$(bound 6000)" "$(unlisted 127.1.0.7:2375)" ||
		fail "TTL 2 s not refreshed: still listed" || return 1
	t0=$(($(now_ms) - t0))
	log "TTL 2 s, not refreshed: dropped $t0 ms after the registration (bound 2000 + 500 + 3000 ms)"
	[ "$t0" -ge 2000 ] && [ "$t0" -le "$(bound 5500)" ] ||
		fail "dropped $t0 ms after a registration of TTL 2 s" || return 1
	wait_until 1000 "$(all_healthy 5)" || fail "after: $(q .states)" || return 1

	# The member it follows killed: the next one is used.
	{ kill -KILL "${ETCD_PID[0]}"; wait "${ETCD_PID[0]}"; } 2>/dev/null
	# If m0 led, the others elect a leader first: writes wait for it.
	poll_for 20000 0.5 swarm_join_at 22379 127.1.0.9:2375 ||
		fail "m0 killed: m1 took no write in 20 s" || return 1
	# Followed on m1 after at most a round's retry (1 s: m1 refused while
	# it elected a leader), + 3 s (2.4 s seen at a load of 20).
	wait_until "$(bound 4000)" "$(listed 127.1.0.9:2375) and $(all_healthy 6)" ||
		fail "m0 killed: not followed on the next member: $(q .states)" || return 1
	log "etcd m0 killed: registered on m1, picked up after ${ELAPSED} ms"
	swarm_leave_at 22379 127.1.0.9:2375 || return 1
	wait_until "$(bound 3000)" "$(all_healthy 5)" ||
		fail "m0 killed: a removal not seen: $(q .states)" || return 1

	n=$(grep -c "discovery: etcd .*keeping the" "$ALOG")
	for i in 1 2; do
		kill -TERM "${ETCD_PID[$i]}" 2>/dev/null
	done
	for i in 1 2; do
		wait "${ETCD_PID[$i]}" 2>/dev/null
	done
	poll_for "$(bound 5000)" 0.1 test "$(grep -c "discovery: etcd .*keeping the 5 engines read" "$ALOG")" -gt "$n" ||
		fail "etcd stopped, not said: $(tail -n 3 "$ALOG")" || return 1
	log "etcd stopped: \"$(grep -o 'discovery: etcd .*keeping the 5 engines read.*' "$ALOG" | tail -n 1)\""
	sleep 2
	wait_until 1000 "$(all_healthy 5)" ||
		fail "etcd stopped: engines lost: $(q .states)" || return 1
	i=$(grep -c "discovery: etcd .*keeping the" "$ALOG")
	[ "$i" = $((n + 1)) ] || fail "the failure said $((i - n)) times, not once" || return 1

	start_etcd || return 1
	swarm_join 127.1.0.8:2375 60 || return 1
	wait_until "$(bound 10000)" "$(listed 127.1.0.8:2375)" ||
		fail "etcd back: not followed again" || return 1
	log "etcd restarted: registered 127.1.0.8 picked up after ${ELAPSED} ms"
	grep -q "discovery: etcd .*following" "$ALOG" ||
		fail "the recovery not said" || return 1
	swarm_leave 127.1.0.3:2375 || return 1
	wait_until "$(bound 3000)" "$(unlisted 127.1.0.3:2375) and $(all_healthy 5)" ||
		fail "removed after the restart: $(q .states)" || return 1
	log "... and removed 127.1.0.3 dropped after ${ELAPSED} ms"
}

# With --cluster too: two agents read the same registrations and share
# them, each engine watched once; a removal reaches both views.
test_swarm_cluster() {
	local n=40 i
	# shellcheck disable=SC2034
	local ETCD_ARGS=(--enable-v2)

	etcd_present || return
	new_netns swarmcl || return 1
	start_etcd || return 1
	start_sim "$n" --events-interval 0 || return 1
	for ((i = 1; i <= n; i++)); do
		swarm_join "127.1.0.$i:2375" 60 || return 1
	done
	start_cagent a0 "$SWARM_URL" || return 1
	start_cagent a1 "$SWARM_URL" || return 1
	wait_shares "$(bound 30000)" "$n" a0 a1 ||
		fail "not shared: $SHARES" || return 1
	log "$n registered engines shared by 2 agents ($SHARES) after ${ELAPSED} ms"
	swarm_leave 127.1.0.1:2375 || return 1
	swarm_leave 127.1.0.2:2375 || return 1
	wait_shares "$(bound 5000)" $((n - 2)) a0 a1 ||
		fail "after removals: $SHARES" || return 1
	log "2 removed: $((n - 2)) shared ($SHARES) after ${ELAPSED} ms"
	stop_cagents a0 a1
}

# An etcd without --enable-v2 (its v2 keyspace is what Swarm wrote): the
# agent says why, once, and watches what else it was given.
test_swarm_no_v2() {
	local n

	etcd_present || return
	new_netns swarmnov2 || return 1
	start_etcd || return 1
	start_sim 2 --events-interval 0 || return 1
	start_agent --engine 127.1.0.2:2375 "$SWARM_URL" || return 1
	poll_for "$(bound 5000)" 0.1 grep -q "not etcd's v2 API (etcd 3.4 needs --enable-v2)" "$ALOG" ||
		fail "not said: $(tail -n 3 "$ALOG")" || return 1
	log "\"$(grep -o 'discovery: etcd .*' "$ALOG" | head -n 1)\""
	wait_until "$(bound 5000)" "$(all_healthy 1) and $(listed 127.1.0.2:2375)" ||
		fail "the --engine not watched: $(q .states)" || return 1
	sleep 3
	n=$(grep -c "discovery: etcd .*keeping the" "$ALOG")
	[ "$n" = 1 ] || fail "said $n times over 3 s of retries, not once" || return 1
}

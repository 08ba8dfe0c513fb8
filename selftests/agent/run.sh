#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Host tests of peerwatchd:  selftests/agent/run.sh [BUILD_DIR]
#
# Each test creates its own network namespace with only lo up, and runs
# everything in it through nsenter --net (which, unlike ip netns exec,
# keeps the host's /sys and so its cgroups, which dockerd needs):
#
#   netns pwt-<pid>-<test>                                       lo only
#   +----------------------------------------------------------------+
#   |  enginesim, listening on 0.0.0.0:2375; engine i is 127.1.0.1+i  |
#   |      ^   one polling and one /events connection per engine     |
#   |      |                                                         |
#   |  peerwatchd --state-file S      (JSON state written on SIGUSR1) |
#   |                                                                |
#   |  blackhole E:  nft table inet pwt, chain input (hook input):    |
#   |                ip daddr E drop; ip saddr E drop                 |
#   |  Both directions, as a dead host: on lo every packet passes     |
#   |  the input hook, the agent's towards E and E's towards it.      |
#   +----------------------------------------------------------------+
#
# Deadlines are measured, not slept: each wait polls the state dump and
# records how long it took. Timeouts are shortened to keep the suite
# quick (e.g. --user-timeout 3s instead of 20s); each test says which.
#
# PW_VALGRIND=1 runs every agent under valgrind's memcheck (lib.sh); a
# memory error or leak fails its test, and the tests that measure speed
# or scale skip, saying so. make check runs the suite both ways.
set -u
cd "$(dirname "$0")/../.." || exit 1
O=${1:-build}
# shellcheck source=scripts/suite.sh
. scripts/suite.sh

# shellcheck source=selftests/agent/lib.sh
. selftests/agent/lib.sh

# Bad flags fail at once, with a message and exit status 2. A prefix of a
# flag is refused, naming the flag. --help lists every flag the man page
# documents.
test_flags() {
	local args rc out flag

	for args in "--request-timeout 5x --engine 127.0.0.1:1" \
		"--engine-failure-retry 0 --engine 127.0.0.1:1" \
		"--user-timeout 2h --engine 127.0.0.1:1" \
		"--max-body 12 --engine 127.0.0.1:1" \
		"--ping-interval 50ms --engine 127.0.0.1:1" \
		"--ping-timeout 0 --engine 127.0.0.1:1" \
		"--engine-refresh-min-interval 10s --engine-refresh-max-interval 5s --engine 127.0.0.1:1" \
		"--engine-refresh-min 5s --engine 127.0.0.1:1" \
		"--engine nohostport" "--engine [::1]" "ftp://x:1" "--bogus" ""; do
		# shellcheck disable=SC2086
		out=$(pw $args 2>&1)
		rc=$?
		[ "$rc" -eq 2 ] || fail "'$args': exit $rc, want 2" || return 1
		case $out in
		peerwatchd:*) ;;
		*) fail "'$args': no message: $out" || return 1 ;;
		esac
	done
	out=$(pw --engine-refresh-min 5s --engine 127.0.0.1:1 2>&1)
	[[ $out == *"never abbreviated"*"--engine-refresh-min-interval"* ]] ||
		fail "abbreviation: $out" || return 1
	log "13 bad command lines: exit 2 with a message each; '$out'"
	out=$(pw --help) || fail "--help: exit $?" || return 1
	while read -r flag; do
		grep -qE -- "^  (-., )?$flag([] ,[]|$)" <<<"$out" ||
			fail "--help lacks $flag" || return 1
	done < <(sed -n '/^\.SH OPTIONS/,/^\.SH /p' man/peerwatchd.8 |
		sed 's/\\-/-/g' | grep -o -- '--[a-z][a-z-]*' | sort -u)
	log "--help lists the $(grep -c '^  -' <<<"$out") flags, each of the man page's"
}

# 2,000 engines reach healthy; the thread count does not grow with them.
test_scale() {
	local t10 t2000 file=$TMP/scale.engines

	new_netns scale || return 1
	start_sim 2000 || return 1
	start_agent --no-events "nodes://127.1.0.[1:10]:2375" || return 1
	wait_until 10000 "$(all_healthy 10)" ||
		fail "10 engines not healthy: $(q '.states')" || return 1
	[ "$(q .connections)" = 10 ] ||
		fail "--no-events: $(q .connections) connections, want 10" || return 1
	t10=$(threads "$AGENT_PID")
	stop_agent || return 1
	# 127.1.0.1 + 1999 = 127.1.7.208
	printf '%s\n' "# 2,000 engines" "127.1.0.[1:255]:2375" \
		"127.1.[1:6].[0:255]:2375" "127.1.7.[0:208]:2375" >"$file"
	start_agent "file://$file" || return 1
	wait_until "$(cpu_bound 60000)" "$(all_healthy 2000)" ||
		fail "2000 engines: $(jq -c .states "$STATE")" || { agent_diag; return 1; }
	t2000=$(threads "$AGENT_PID")
	log "2000 engines healthy after ${ELAPSED} ms, $(q .connections) connections, RSS $(rss_kb "$AGENT_PID") KiB"
	log "threads: $t10 with 10 engines (--no-events: 10 connections), $t2000 with 2000"
	[ "$t10" = "$t2000" ] || fail "thread count grew: $t10 -> $t2000"
}


# A discovery reload (SIGHUP, then the periodic one) adds and removes
# engines without touching the others; bad lines are reported and skipped.
test_reload() {
	local f=$TMP/reload.engines kept before after

	new_netns reload || return 1
	start_sim 20 || return 1
	printf '%s\n' "# engines" "127.1.0.[1:10]:2375" "127.1.0.300:2375" \
		"not an address" "127.1.0.[9:2]:2375  # backwards" >"$f"
	start_agent --discovery-interval 3s "file://$f" || return 1
	wait_until 10000 "$(all_settled 10)" || fail "not healthy" || return 1
	grep -qF "$f:3: '127.1.0.300:2375': bad IPv4 address" "$ALOG" || fail "line 3 not reported" || return 1
	grep -q "$f:4: " "$ALOG" || fail "line 4 not reported" || return 1
	grep -qF "$f:5: '127.1.0.[9:2]:2375': range goes backwards" "$ALOG" || fail "line 5 not reported" || return 1
	sleep 3.5
	[ "$(grep -c "discovery: $f:" "$ALOG")" = 3 ] ||
		fail "bad lines of an unchanged file reported again" || return 1
	log "3 bad lines reported once, with file:line, the other 10 engines loaded"
	kept="[.nodes[] | select(.addr | test(\"^127\\\\.1\\\\.0\\\\.([3-9]|10):\"))]"
	before=$(q "$kept | map(\"\(.addr) \(.cookie) \(.events_cookie)\") | join(\",\")")
	printf '%s\n' "127.1.0.[3:13]:2375" >"$f"
	kill -HUP "$AGENT_PID"
	wait_until 5000 "$(all_settled 11)" || fail "SIGHUP: $(q .states)" || return 1
	log "SIGHUP: 2 removed, 3 added and healthy after ${ELAPSED} ms"
	after=$(q "$kept | map(\"\(.addr) \(.cookie) \(.events_cookie)\") | join(\",\")")
	[ "$before" = "$after" ] || fail "kept engines were touched" || return 1
	[ "$(echo "$before" | tr ',' '\n' | grep -c ' [1-9][0-9]* [1-9]')" = 8 ] ||
		fail "cookies missing: $before" || return 1
	grep -q "engine 127.1.0.1:2375 ([^)]*): healthy -> removed" "$ALOG" ||
		fail "removal not logged" || return 1
	printf '%s\n' "127.1.0.[3:14]:2375" >"$f"
	# The next periodic reload, within 3 s, + 3 s of margin.
	wait_until "$(bound 6000)" "$(all_healthy 12)" || fail "periodic: $(q .states)" || return 1
	log "periodic reload (3s): 1 added after ${ELAPSED} ms (bound $(bound 6000))"
	after=$(q "$kept | map(\"\(.addr) \(.cookie) \(.events_cookie)\") | join(\",\")")
	[ "$before" = "$after" ] || fail "kept engines were touched" || return 1
	log "8 kept engines: same connection cookies throughout"
}


# A short run under valgrind, through connects, faults and reconnects,
# idle pings (every 100 ms) between the refreshes.
test_valgrind() {
	local vlog=$TMP/valgrind.log rc

	valgrind_usable || return 4
	new_netns valgrind || return 1
	start_sim 20 --events-interval 300ms || return 1
	STATE=$TMP/$NS.state.json
	spawn "$TMP/valgrind.agent.log" valgrind --leak-check=full \
		--error-exitcode=1 --log-file="$vlog" "$PW" --state-file "$STATE" \
		--api-socket "$TMP/$NS.api.sock" \
		--summary-interval 1s --request-timeout 3s \
		--engine-refresh-min-interval 200ms --engine-refresh-max-interval 500ms \
		--ping-interval 100ms \
		--backoff-max 1s "nodes://127.1.0.[1:20]:2375"
	AGENT_PID=$LAST_PID
	wait_ready "$TMP/valgrind.agent.log" || return 1
	# Memory errors, not speed: bounds with room for valgrind on two
	# loaded cores.
	wait_until 90000 "[.nodes[] | select(.state == \"healthy\")] | length == 20" ||
		fail "not healthy under valgrind" || return 1
	sim fault 127.1.0.2 reset && sim fault 127.1.0.3 malformed &&
		sim fault 127.1.0.4 freeze && sim fault 127.1.0.5 oversized 100M &&
		sim fault 127.1.0.6 close-after 2 && sim fault 127.1.0.7 id-change ||
		return 1
	sleep 3
	sim clear all || return 1
	sleep 2
	kill -TERM "$AGENT_PID"
	wait "$AGENT_PID"
	rc=$?
	AGENT_PID=
	log "$(grep -m1 'ERROR SUMMARY' "$vlog" | sed 's/^==[0-9]*== //')"
	log "$(grep -m1 'definitely lost\|no leaks are possible' "$vlog" | sed 's/^==[0-9]*== //')"
	[ "$rc" -eq 0 ] || fail "valgrind exit $rc (see $vlog)" || return 1
}


# The instrumented suites (ASan, valgrind) keep make check within its time:
# these run in the plain suite only, each for the reason given, and these
# loads not under valgrind.
CLUSTER_WHY="several agents and etcd members over a minute, whose code the instruments check in cluster-views, cluster-bad-input, cluster-tls and swarm-no-v2"
declare -A PLAIN_ONLY=(
	[cluster-partition]=$CLUSTER_WHY
	[cluster-quorum]=$CLUSTER_WHY
	[swarm-cluster]=$CLUSTER_WHY
	[api-big]="20,000 engines under an instrument measure the instrument; the same answers are checked under both with smaller fleets (api-endpoints, api-slow-reader, docker-cli)"
)
NOT_VALGRIND="swarm-discovery log-noise"

run_test() {
	local name=$1 rc t0

	shift
	# PW_TESTS="a b" runs only those (for development).
	case " ${PW_TESTS:-$name} " in
	*" $name "*) ;;
	*) return 0 ;;
	esac
	echo "# ---- $name"
	if [ "$SLACK_MS" -gt 0 ] && [ -n "${PLAIN_ONLY[$name]:-}" ]; then
		log "SKIP: under $([ -n "${PW_VALGRIND:-}" ] && echo valgrind || echo ASan): $name runs in the plain suite only: ${PLAIN_ONLY[$name]}"
		suite_record "$name" skip
		return 0
	fi
	if [ -n "${PW_VALGRIND:-}" ] && [[ " $NOT_VALGRIND " == *" $name "* ]]; then
		log "SKIP: under valgrind: $name runs 30 s of load (timing and floods), checked under ASan and plain"
		suite_record "$name" skip
		return 0
	fi
	t0=$SECONDS
	AGENT_PID=
	"$@" && stop_agent
	rc=$?
	stop_all
	case $rc in
	0) suite_record "$name" pass; log "ok $name ($((SECONDS - t0))s)" ;;
	4) suite_record "$name" skip ;;
	*)
		suite_record "$name" fail
		[ -n "${ALOG:-}" ] && [ -f "$ALOG" ] && tail -n 20 "$ALOG" | sed 's/^/#   /'
		;;
	esac
	ALOG=
}

if [ "$(id -u)" -ne 0 ] || ! command -v nft >/dev/null || ! command -v jq >/dev/null; then
	log "SKIP: the host tests need root, nft and jq"
	suite_record all skip
	suite_end host
	exit
fi
if [ -n "${PW_VALGRIND:-}" ] && { ! command -v valgrind >/dev/null ||
	ldd "$PW" | grep -q libasan; }; then
	log "SKIP: PW_VALGRIND needs valgrind and a build without ASan ($PW)"
	suite_record all skip
	suite_end host-valgrind
	exit
fi
if [ ! -x "$PW" ] || [ ! -x "$SIM" ]; then
	log "FAIL: build $PW and $SIM first"
	suite_record build fail
	suite_end host
	exit
fi

# shellcheck source=selftests/agent/faults.sh
. selftests/agent/faults.sh
# shellcheck source=selftests/agent/dockerd.sh
. selftests/agent/dockerd.sh
# shellcheck source=selftests/agent/tls.sh
. selftests/agent/tls.sh
# shellcheck source=selftests/agent/api.sh
. selftests/agent/api.sh
# shellcheck source=selftests/agent/cli.sh
. selftests/agent/cli.sh
# shellcheck source=selftests/agent/docker.sh
. selftests/agent/docker.sh
# shellcheck source=selftests/agent/events.sh
. selftests/agent/events.sh
# shellcheck source=selftests/agent/cluster.sh
. selftests/agent/cluster.sh
# shellcheck source=selftests/agent/swarm.sh
. selftests/agent/swarm.sh
# shellcheck source=selftests/agent/ops.sh
. selftests/agent/ops.sh
# shellcheck source=selftests/agent/limits.sh
. selftests/agent/limits.sh

[ "$SLACK_MS" -gt 0 ] &&
	log "time bounds grow by $SLACK_MS ms for the instrumented agent (lib.sh: bound)"
run_test flags test_flags
run_test scale test_scale
run_test blackhole test_blackhole
run_test freeze test_freeze
run_test freeze-ping test_freeze_ping
run_test reset test_reset
run_test bad-responses test_bad_responses
run_test close-after test_close_after
run_test id-change test_id_change
run_test dns-silent test_dns_silent
run_test reload test_reload
run_test dockerd test_dockerd
run_test dockerd-events test_dockerd_events
run_test event-flood test_event_flood
run_test valgrind test_valgrind
run_test api-endpoints test_api_endpoints
run_test api-abuse test_api_abuse
run_test api-silent test_api_silent
run_test api-slow-reader test_api_slow_reader
run_test api-top test_api_top
run_test cli-scripting test_cli_scripting
run_test cli-completion test_cli_completion
run_test cli-errors test_cli_errors
run_test docker-cli test_docker_cli
run_test docker-slow-reader test_docker_slow_reader
run_test docker-off test_docker_off
run_test tls-flags test_tls_flags
run_test tls-scale test_tls_scale
run_test tls-errors test_tls_errors
run_test tls-dockerd test_tls_dockerd
run_test tls-close-idle test_tls_close_idle
run_test tls-handshakes-max test_tls_handshakes_max
run_test tls-own-records test_tls_own_records
run_test tls-valgrind test_tls_valgrind
run_test cluster-share test_cluster_share
run_test cluster-failover test_cluster_failover
run_test cluster-blackhole test_cluster_blackhole
run_test cluster-etcd-member test_cluster_etcd_member
run_test cluster-replicas test_cluster_replicas
run_test cluster-partition test_cluster_partition
run_test cluster-quorum test_cluster_quorum
run_test cluster-tls test_cluster_tls
run_test cluster-bad-input test_cluster_bad_input
run_test cluster-etcd-error test_cluster_etcd_error
run_test cluster-views test_cluster_views
run_test swarm-discovery test_swarm_discovery
run_test swarm-cluster test_swarm_cluster
run_test swarm-no-v2 test_swarm_no_v2
run_test ops-metrics test_ops_metrics
run_test ops-journal test_ops_journal
run_test ops-notify test_ops_notify
run_test ops-hook test_ops_hook
run_test ops-tls-reload test_ops_tls_reload
run_test fd-limit test_fd_limit
run_test fd-runtime test_fd_runtime
run_test log-noise test_log_noise
run_test signal-flood test_signal_flood
run_test discovery-huge test_discovery_huge
run_test containers-bound test_containers_bound
run_test mem-limit test_mem_limit
run_test api-big test_api_big
suite_end "host${PW_VALGRIND:+-valgrind}"

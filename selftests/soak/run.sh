#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Soak: peerwatchd against a simulated fleet under random faults.
#
#   selftests/soak/run.sh [BUILD_DIR]        (root; ip, nft, curl, jq)
#   environment: DURATION (default 2m; s, m or h), ENGINES (default 5000,
#   10 to 9000), SEED (default random; printed; SEED= reproduces the draws)
#   make soak [DURATION=10m] [ENGINES=N] [SEED=N] [SAN=1]
#
#   netns soak-<pid>, lo up
#   +------------------------------------------------------------------+
#   |  enginesim --count ENGINES --ctl CTL   *:2375, 127.1.0.1 + i     |
#   |      ^  ENGINES x 2 connections (polling and /events)            |
#   |      |                                                           |
#   |  peerwatchd file://ENGINES_FILE, control API on a UNIX socket    |
#   |                                                                  |
#   |  blackhole: nft table inet soak, set bh, input hook:             |
#   |             ip daddr @bh drop; ip saddr @bh drop                 |
#   +------------------------------------------------------------------+
#   The driver (this script, outside the netns) reads GET /v1/nodes and
#   /metrics through the API socket and follows /v1/events.
#
# 5,000 engines need ~10,000 descriptors in the agent and as many in
# enginesim: each stays under the 20,000-descriptor limit per process,
# which is why ENGINES stops at 9,000.
#
# Every tick (1 s nominal) the driver reads the agent's view, moves each
# fault through its phases, checks every other engine, and draws new
# faults from a seeded xorshift32 generator: a fixed number of draws per
# tick, so SEED= replays the same kinds, targets (the next free engine from
# the drawn one) and hold times; what they meet depends on timing. At most
# ENGINES/100 faults run at once (at least 4).
#
# A fault's life: applied -> its expected state within the detection
# bound, allowed states only meanwhile -> held 2 to 9 s, staying there ->
# lifted -> healthy with its original ID within the recovery bound.
#
#   fault       how                     expected                detect  recover
#   blackhole   nft set element         down, user-timeout or    20 s    20 s
#                                       connect-timeout
#   freeze      enginesim fault freeze  unhealthy, deadline  30 s    20 s
#                                       or ping-timeout
#   reset       enginesim fault reset   down, reset               5 s    20 s
#   malformed   enginesim fault         unhealthy, protocol      15 s    20 s
#               malformed
#   id-change   enginesim fault         healthy with a new ID,   35 s    35 s
#               id-change               "healthy -> pending
#                                       (id-change" logged
#   discovery   engines left out of     gone from /v1/nodes      SIGHUP 5 s,
#   churn       the file, then back;    (absent while out), then periodic
#               SIGHUP or the periodic  pending -> healthy with  reload 15 s;
#               reload                  the same ID              back +10 s
#
# Bounds, from the agent's flags below: a frozen engine fails its next
# refresh (<= 6 s) and each of 3 tries (3 s each, backoff <= 1.75 s in
# all); a blackholed one its next request or keepalive (idle 2 s) within
# the 5 s user timeout, or its reconnect at the 3 s connect deadline; a
# reset one at once; a malformed one on its next refresh and two quick
# retries; a changed ID at the next /info (every 20 s) after a refresh
# (<= 6 s). Recovery: a reconnect within the 4 s backoff cap and a
# refresh. Each bound adds ~8 s for a loaded 2-core machine and the 1 s
# tick. Every engine that no fault touches must stay healthy throughout.
#
# At the end every fault is lifted and discovery restored; within 60 s
# every engine must be healthy with its original ID and both connections;
# then the agent's descriptors, heap in use (its /metrics), idle RSS and
# connections (its /metrics and ss in the netns) must be within 5% of the
# baseline taken after the initial convergence and WARMUP_S (30) seconds
# of polling without faults (descriptors and connections exactly so, as
# all engines are settled), both processes alive, SIGTERM must stop them
# with status 0, and their logs hold no sanitizer report (BUILD_DIR
# build-san: SAN=1). Idle RSS (see measure()) adds to the heap in use the
# free pages that fragmentation keeps. Neither is compared with an ASan
# build.
# enginesim's connections are compared too (its 15 s keepalive ends those
# a blackhole orphaned).
# Ends with "soak: N passed, N failed, N skipped".
set -u
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=scripts/suite.sh
. scripts/suite.sh

O=${1:-build}
PW=$O/peerwatchd
SIM=$O/enginesim
NS=soak-$$
TMP=$(mktemp -d "${TMPDIR:-/tmp}/soak.XXXXXX")
CTL=$TMP/sim.ctl
API=$TMP/agent.sock
EFILE=$TMP/engines
ALOG=$TMP/agent.log
SLOG=$TMP/sim.log
ELOG=$TMP/events.jsonl
BASE=$(((127 << 24) + (1 << 16) + 1))	# 127.1.0.1
PORT=2375
TICK_MS=1000
FIG_EVERY_MS=30000
END_BOUND_MS=60000
TOLERANCE=5	# percent
PIDS=()
AGENT_PID=
SIM_PID=
EVENTS_PID=

# The agent's flags: the bounds above derive from them.
AGENT_FLAGS=(--user-timeout 5s --keepalive-idle 2s --keepalive-interval 1s
	--keepalive-count 3 --request-timeout 3s --engine-failure-retry 3
	--engine-refresh-min-interval 3s --engine-refresh-max-interval 6s
	--engine-info-interval 20s --backoff-max 4s --discovery-interval 5s
	--summary-interval 30s)

# kind: detection bound, recovery bound (ms)
declare -A DETECT_MS=([blackhole]=20000 [freeze]=30000 [reset]=5000
	[malformed]=15000 [id-change]=35000)
declare -A RECOVER_MS=([blackhole]=20000 [freeze]=20000 [reset]=20000
	[malformed]=20000 [id-change]=35000)
KINDS=(blackhole freeze reset malformed id-change)
REMOVE_MS_SIGHUP=5000
REMOVE_MS_PERIODIC=15000
READD_EXTRA_MS=10000

cleanup() {
	local p

	for p in "${PIDS[@]}"; do
		kill "$p" 2>/dev/null
	done
	for p in "${PIDS[@]}"; do
		for _ in $(seq 50); do
			kill -0 "$p" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	ip netns del "$NS" 2>/dev/null
	# A failed run keeps its logs (agent, enginesim, /v1/events).
	if [ "$suite_fail" -gt 0 ]; then
		rm -f "$API" "$CTL" "$TMP/state.json"
		echo "soak: logs kept in $TMP"
	else
		rm -rf "$TMP"
	fi
}
trap cleanup EXIT

log() { echo "# $*"; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }
in_ns() { nsenter --net="/run/netns/$NS" -- "$@"; }
api() { curl -sf -m 20 --unix-socket "$API" "http://agent$1"; }
sim() { "$SIM" ctl "$CTL" "$@" >/dev/null; }

# check NAME OK [DETAIL]: record one check; a failure prints its detail.
checks_pass=0
checks_fail=0
check() {
	if [ "$2" = 0 ]; then
		suite_record "$1" pass
		checks_pass=$((checks_pass + 1))
	else
		echo "# FAIL: $1${3:+: $3}"
		suite_record "$1" fail
		checks_fail=$((checks_fail + 1))
	fi
}

# parse_duration DUR: seconds, from N, Ns, Nm or Nh.
parse_duration() {
	case $1 in
	*[!0-9smh]* | "" | [smh]*) return 1 ;;
	*s) echo "${1%s}" ;;
	*m) echo $((${1%m} * 60)) ;;
	*h) echo $((${1%h} * 3600)) ;;
	*[0-9]) echo "$1" ;;
	*) return 1 ;;
	esac
}

# xorshift32; rnd N sets R to a draw in [0, N).
RNG=1
rnd() {
	local x=$RNG

	x=$(((x ^ (x << 13)) & 0xffffffff))
	x=$((x ^ (x >> 17)))
	x=$(((x ^ (x << 5)) & 0xffffffff))
	RNG=$x
	R=$((x % $1))
}

addr_of() {
	local a=$((BASE + $1))

	echo "$((a >> 24 & 255)).$((a >> 16 & 255)).$((a >> 8 & 255)).$((a & 255))"
}

# -- arguments ----------------------------------------------------------

DURATION=${DURATION:-2m}
ENGINES=${ENGINES:-5000}
if [ -z "${SEED:-}" ]; then
	SEED=$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')
fi
if ! DUR_S=$(parse_duration "$DURATION") || [ "$DUR_S" -lt 10 ] ||
   [ "$DUR_S" -gt 86400 ]; then
	echo "soak: DURATION=$DURATION: want 10s to 24h (N, Ns, Nm or Nh)" >&2
	exit 2
fi
case $ENGINES in
'' | *[!0-9]*) ENGINES=0 ;;
esac
if [ "${#ENGINES}" -gt 5 ] || [ "$ENGINES" -lt 10 ] || [ "$ENGINES" -gt 9000 ]; then
	echo "soak: ENGINES=$ENGINES: want 10 to 9000 (two descriptors each, 20,000 per process)" >&2
	exit 2
fi
case $SEED in
'' | *[!0-9]*) SEED=x ;;
esac
if [ "$SEED" = x ] || [ "${#SEED}" -gt 10 ] || [ "$SEED" -gt 4294967295 ]; then
	echo "soak: SEED: want 0 to 4294967295" >&2
	exit 2
fi
RNG=$(((SEED * 2654435761 + 0x9e3779b9) & 0xffffffff))
[ "$RNG" = 0 ] && RNG=1
MAX_ACTIVE=$((ENGINES / 100 < 4 ? 4 : ENGINES / 100))
STARTS_PER_TICK=$((ENGINES / 2500 < 1 ? 1 : ENGINES / 2500))
CHURN_MAX=$((ENGINES / 250 < 2 ? 2 : ENGINES / 250))

for t in "$PW" "$SIM"; do
	if [ ! -x "$t" ]; then
		echo "# FAIL: build $t first"
		suite_record build fail
		suite_end soak
		exit 1
	fi
done
if [ "$(id -u)" -ne 0 ]; then
	echo "# skip: needs root (network namespace, nft)"
	suite_record soak skip
	suite_end soak
	exit 0
fi
for t in ip nft curl jq nsenter ss; do
	if ! command -v "$t" >/dev/null; then
		echo "# skip: needs $t (scripts/deps.sh)"
		suite_record soak skip
		suite_end soak
		exit 0
	fi
done

# The RSS comparison needs glibc's allocator: ASan's quarantine holds
# freed memory by design.
RSS_CHECK=1
RSS_WHY=
if grep -q __asan_init "$PW"; then
	RSS_CHECK='' RSS_WHY="ASan build: its quarantine keeps freed memory"
fi

echo "soak: SEED=$SEED DURATION=$DURATION ($DUR_S s) ENGINES=$ENGINES, up to $MAX_ACTIVE faults at once, $STARTS_PER_TICK new per tick, discovery churn of 1 to $CHURN_MAX engines; build $O"

# -- the fleet ------------------------------------------------------------

ADDR=()
for ((i = 0; i < ENGINES; i++)); do
	ADDR[i]=$(addr_of "$i")
done

# write_discovery: every engine not left out, atomically (rename).
declare -A OUT=()
write_discovery() {
	local i

	for ((i = 0; i < ENGINES; i++)); do
		[ -n "${OUT[$i]:-}" ] || echo "${ADDR[i]}:$PORT"
	done >"$EFILE.new" && mv "$EFILE.new" "$EFILE"
}

ip netns add "$NS" || exit 1
ip -n "$NS" link set lo up
in_ns nft -f - <<EOF || exit 1
add table inet soak
add set inet soak bh { type ipv4_addr; }
add chain inet soak input { type filter hook input priority 0; }
add rule inet soak input ip daddr @bh drop
add rule inet soak input ip saddr @bh drop
EOF

# nsenter execs the program: $! is its own PID.
nsenter --net="/run/netns/$NS" -- "$SIM" --count "$ENGINES" --port "$PORT" --ctl "$CTL" --seed "$SEED" \
	--events-interval 60s --quiet >"$SLOG" 2>&1 &
SIM_PID=$!
PIDS+=("$SIM_PID")
for _ in $(seq 200); do
	sim stats 2>/dev/null && break
	sleep 0.05
done
sim stats || { check "enginesim starts" 1 "$(tail -n 3 "$SLOG")"; suite_end soak; exit 1; }

write_discovery
T_START=$(now_ms)
nsenter --net="/run/netns/$NS" -- "$PW" --state-file "$TMP/state.json" --api-socket "$API" \
	"${AGENT_FLAGS[@]}" "file://$EFILE" >"$ALOG" 2>&1 &
AGENT_PID=$!
PIDS+=("$AGENT_PID")
for _ in $(seq 200); do
	[ -S "$API" ] && break
	sleep 0.05
done

# -- the agent's view -----------------------------------------------------

# Indexed by engine: last seen state, cause, ID, cookies; the poll that
# saw it (absent engines keep an older generation).
ST=() CA=() ID=() CK=() ECK=() SEEN=()
GEN=0
NSEEN=0
# shellcheck disable=SC2016
JQ_NODES='.[] | (.addr | split(":")[0] | split(".") | map(tonumber) |
	.[0] * 16777216 + .[1] * 65536 + .[2] * 256 + .[3] - $base) as $i |
	"\($i) \(.state) \(.cause // "-") \(if .id == "" then "-" else .id end) \(.cookie) \(.events_cookie)"'

# poll: read /v1/nodes into the arrays; fails if the agent does not answer.
poll() {
	local i st ca id ck eck out

	out=$(api /v1/nodes | jq -r --argjson base "$BASE" "$JQ_NODES") ||
		return 1
	GEN=$((GEN + 1))
	NSEEN=0
	while read -r i st ca id ck eck; do
		[ -n "$i" ] || continue
		ST[i]=$st
		CA[i]=$ca
		ID[i]=$id
		CK[i]=$ck
		ECK[i]=$eck
		SEEN[i]=$GEN
		NSEEN=$((NSEEN + 1))
	done <<<"$out"
}

present() { [ "${SEEN[$1]:-0}" = "$GEN" ]; }
settled() {
	present "$1" && [ "${ST[$1]}" = healthy ] && [ "${ID[$1]}" = "${ORIG[$1]}" ] &&
		[ "${CK[$1]}" != 0 ] && [ "${ECK[$1]}" != 0 ]
}

# all_settled: every engine healthy, original ID, both connections.
all_settled() {
	local i

	poll || return 1
	[ "$NSEEN" = "$ENGINES" ] || return 1
	for ((i = 0; i < ENGINES; i++)); do
		settled "$i" || return 1
	done
}

metric() {
	api /metrics | awk -v m="$1" '$1 == m { print $2 }'
}
fds() { find "/proc/$1/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l; }
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null; }
# ss_conns sport|dport: established TCP sockets of the engines' port, the
# agent's side (dport) or enginesim's (sport).
ss_conns() {
	in_ns ss -Htn state established "( $1 = :$PORT )" | wc -l
}

# measure: the agent's resources as a tick sees them. VmRSS moves by a few
# MiB with what glibc keeps of freed memory (the multi-MiB answers of
# GET /v1/nodes, the pool's spare buffers): M_RAW is the median of
# MEASURE_S samples a second apart, each after a GET /v1/nodes as every
# tick makes, and M_RSS is VmRSS with the API quiet for IDLE_S seconds:
# the agent hands free pages back a second after a big answer (api.c,
# trim_fn) and every 10 s when much of its heap is free (agent.c,
# memory_fn), so what is left is live
# memory and fragmentation, where a leak would show. Descriptors and
# connections are those of the last sample, all engines settled.
MEASURE_S=10
WARMUP_S=${WARMUP_S:-30}
IDLE_S=12
measure() {
	local r=()

	for ((n = 0; n < MEASURE_S; n++)); do
		poll
		sleep 1
		r+=("$(rss_kb "$AGENT_PID")")
	done
	M_RAW=$(printf '%s\n' "${r[@]}" | sort -n | sed -n "$(((MEASURE_S + 1) / 2))p")
	M_RAW_RANGE="$(printf '%s\n' "${r[@]}" | sort -n | sed -n '1p;$p' | paste -sd-) KiB"
	M_RSS=
	if [ -n "$RSS_CHECK" ]; then
		sleep "$IDLE_S"
		M_RSS=$(rss_kb "$AGENT_PID")
	fi
	M_HEAP=$(($(metric 'peerwatch_heap_bytes{state="in_use"}') / 1024))
	M_FREE=$(($(metric 'peerwatch_heap_bytes{state="free"}') / 1024))
	M_FDS=$(fds "$AGENT_PID")
	M_CONNS=$(metric peerwatch_connections)
	M_SS=$(ss_conns dport)
	M_SIM_FDS=$(fds "$SIM_PID")
	M_SIM_CONNS=$("$SIM" ctl "$CTL" stats | jq .connections)
}

# -- start: initial convergence and the baseline ----------------------------

# Until the first poll, ORIG is what the first full view says.
declare -a ORIG=()
ok=1
while [ $(($(now_ms) - T_START)) -lt 120000 ]; do
	if poll && [ "$NSEEN" = "$ENGINES" ]; then
		n=0
		for ((i = 0; i < ENGINES; i++)); do
			[ "${ST[i]}" = healthy ] && [ "${CK[i]}" != 0 ] &&
				[ "${ECK[i]}" != 0 ] && [ "${ID[i]}" != - ] &&
				n=$((n + 1))
		done
		if [ "$n" = "$ENGINES" ]; then
			ok=0
			break
		fi
	fi
	sleep 0.5
done
T_CONV=$(($(now_ms) - T_START))
check "$ENGINES engines healthy with both connections (bound 120 s)" "$ok" \
	"after $T_CONV ms: $(api /v1/summary | jq -c .states)"
if [ "$ok" != 0 ]; then
	suite_end soak
	exit 1
fi
for ((i = 0; i < ENGINES; i++)); do
	ORIG[i]=${ID[i]}
done
# Distinct IDs: an ID change is then seen for what it is.
n=$(printf '%s\n' "${ORIG[@]}" | sort -u | wc -l)
check "every engine has its own ID" $((n != ENGINES)) "$n distinct of $ENGINES"
# The agent's event stream, followed throughout: in the baseline too.
curl -sN --unix-socket "$API" http://agent/v1/events >"$ELOG" 2>/dev/null &
EVENTS_PID=$!
PIDS+=("$EVENTS_PID")
# The baseline is the agent's steady state: WARMUP_S of ordinary polling
# first (every engine refreshed several times, /info asked again), as a
# young heap is smaller than the one any agent settles into.
echo "soak: warming up for $WARMUP_S s of ordinary polling before the baseline"
t0=$SECONDS
while [ $((SECONDS - t0)) -lt "$WARMUP_S" ]; do
	poll
	sleep 1
done
measure
B_HEAP=$M_HEAP B_FREE=$M_FREE B_FDS=$M_FDS B_RSS=$M_RSS B_RAW=$M_RAW B_CONNS=$M_CONNS B_SS=$M_SS
B_SIM_FDS=$M_SIM_FDS B_SIM_CONNS=$M_SIM_CONNS
echo "soak: $ENGINES engines healthy after $T_CONV ms; baseline: agent fds $B_FDS, idle RSS ${B_RSS:--} KiB, heap in use $B_HEAP KiB, free $B_FREE KiB (while polled: median $B_RAW, range $M_RAW_RANGE), connections $B_CONNS (ss: $B_SS); enginesim fds $B_SIM_FDS, connections $B_SIM_CONNS"

# -- faults -----------------------------------------------------------------

# Indexed by engine: its fault kind (empty when free), phase
# (detect|hold|recover|late), the phase's start and deadline, hold time,
# and whether a disallowed state was already reported.
KIND=() PHASE=() T0=() DL=() HOLD=() BAD=() IDLOG=()
declare -A ACTIVE=()
declare -A APPLIED=() DETECTED=() RECOVERED=() DLAT=() RLAT=()
for k in "${KINDS[@]}" discovery; do
	APPLIED[$k]=0 DETECTED[$k]=0 RECOVERED[$k]=0 DLAT[$k]='' RLAT[$k]=
done

apply_fault() {
	local i=$1 k=$2

	case $k in
	blackhole) in_ns nft add element inet soak bh "{ ${ADDR[i]} }" ;;
	*) sim fault "${ADDR[i]}" "$k" ;;
	esac
}

lift_fault() {
	local i=$1 k=$2

	case $k in
	blackhole) in_ns nft delete element inet soak bh "{ ${ADDR[i]} }" ;;
	*) sim clear "${ADDR[i]}" ;;
	esac
}

# The state a fault must bring, and those allowed on the way there.
reached() {
	local i=$1

	present "$i" || return 1
	case ${KIND[i]} in
	blackhole) [ "${ST[i]}" = down ] &&
		[[ ${CA[i]} == user-timeout || ${CA[i]} == connect-timeout ]] ;;
	freeze) [ "${ST[i]}" = unhealthy ] && { [ "${CA[i]}" = deadline ] || [ "${CA[i]}" = ping-timeout ]; } ;;
	reset) [ "${ST[i]}" = down ] && [ "${CA[i]}" = reset ] ;;
	malformed) [ "${ST[i]}" = unhealthy ] && [ "${CA[i]}" = protocol ] ;;
	id-change) [ "${ST[i]}" = healthy ] && [ "${ID[i]}" != "${ORIG[i]}" ] &&
		[ "${ID[i]}" != - ] ;;
	esac
}

allowed() {
	local i=$1

	present "$i" || return 1
	case ${KIND[i]}:${ST[i]} in
	blackhole:healthy | blackhole:down | freeze:healthy | \
	freeze:unhealthy | reset:healthy | reset:down | malformed:healthy | \
	malformed:unhealthy | id-change:healthy | id-change:pending) return 0 ;;
	esac
	# Recovering: back through pending after a changed ID, too.
	[ "${PHASE[i]}" = recover ] && [ "${ST[i]}" = pending ]
}

describe() {
	if present "$1"; then
		echo "${ADDR[$1]} ${ST[$1]} (${CA[$1]}) id ${ID[$1]}"
	else
		echo "${ADDR[$1]} absent"
	fi
}

start_fault() {
	local i=$1 k=$2 hold=$3 now=$4

	KIND[i]=$k
	PHASE[i]=detect
	T0[i]=$now
	DL[i]=$((now + DETECT_MS[$k]))
	HOLD[i]=$hold
	BAD[i]=
	ACTIVE[$i]=1
	APPLIED[$k]=$((APPLIED[$k] + 1))
	# This change must log a line of its own: count those logged so far.
	[ "$k" = id-change ] && IDLOG[i]=$(id_logged "$i")
	if ! apply_fault "$i" "$k"; then
		check "$k ${ADDR[i]}: applied" 1
		free_engine "$i"
	fi
}

id_logged() {
	grep -cE "engine ${ADDR[$1]}:$PORT( \([^)]*\))?: healthy -> pending \(id-change" "$ALOG"
}

free_engine() {
	unset "ACTIVE[$1]"
	KIND[$1]=
	PHASE[$1]=
}

# step_fault I NOW: one engine's fault, against the latest view.
step_fault() {
	local i=$1 now=$2 k=${KIND[$1]} lat

	if [ -z "${BAD[i]}" ] && [ "${PHASE[i]}" != late ] && ! allowed "$i"; then
		BAD[i]=1
		check "$k ${ADDR[i]}: no state outside the allowed ones (${PHASE[i]})" 1 \
			"$(describe "$i")"
	fi
	case ${PHASE[i]} in
	detect)
		if reached "$i"; then
			lat=$((now - T0[i]))
			if [ "$k" = id-change ] &&
			   [ "$(id_logged "$i")" -le "${IDLOG[i]}" ]; then
				check "$k ${ADDR[i]}: the change logged" 1
			fi
			check "$k ${ADDR[i]}: detected within ${DETECT_MS[$k]} ms" 0
			DETECTED[$k]=$((DETECTED[$k] + 1))
			DLAT[$k]+="$lat "
			PHASE[i]=hold
			T0[i]=$now
		elif [ "$now" -ge "${DL[i]}" ]; then
			check "$k ${ADDR[i]}: detected within ${DETECT_MS[$k]} ms" 1 \
				"$(describe "$i")"
			lift_fault "$i" "$k"
			PHASE[i]=recover
			T0[i]=$now
			DL[i]=$((now + RECOVER_MS[$k]))
		fi
		;;
	hold)
		if ! reached "$i" && [ -z "${BAD[i]}" ]; then
			BAD[i]=1
			check "$k ${ADDR[i]}: stays detected while the fault lasts" 1 \
				"$(describe "$i")"
		fi
		if [ $((now - T0[i])) -ge "${HOLD[i]}" ]; then
			lift_fault "$i" "$k" || check "$k ${ADDR[i]}: lifted" 1
			PHASE[i]=recover
			T0[i]=$now
			DL[i]=$((now + RECOVER_MS[$k]))
		fi
		;;
	recover | late)
		if present "$i" && [ "${ST[i]}" = healthy ] &&
		   [ "${ID[i]}" = "${ORIG[i]}" ]; then
			if [ "${PHASE[i]}" = recover ]; then
				check "$k ${ADDR[i]}: healthy with its ID within ${RECOVER_MS[$k]} ms of the lift" 0
				RECOVERED[$k]=$((RECOVERED[$k] + 1))
				RLAT[$k]+="$((now - T0[i])) "
			fi
			free_engine "$i"
		elif [ "${PHASE[i]}" = recover ] && [ "$now" -ge "${DL[i]}" ]; then
			check "$k ${ADDR[i]}: healthy with its ID within ${RECOVER_MS[$k]} ms of the lift" 1 \
				"$(describe "$i")"
			# Left out of the bystander checks until it is back.
			PHASE[i]=late
		fi
		;;
	esac
}

# next_free I: the first free engine from I on, in R; fails if none.
next_free() {
	local j n

	for ((n = 0; n < ENGINES; n++)); do
		j=$((($1 + n) % ENGINES))
		if [ -z "${KIND[j]:-}" ]; then
			R=$j
			return 0
		fi
	done
	return 1
}

# -- discovery churn ----------------------------------------------------------

CHURN=()
CHURN_PHASE=
CHURN_HOW=
CHURN_T0=0
CHURN_DL=0
CHURN_HOLD=0
CHURN_BATCHES=0
CHURN_FAULTED=0
CHURN_PRE=0
CFAULT=()

# The periodic reload (every 5 s) finds the new file by itself; SIGHUP
# comes one to three times in a row (the repeats find nothing new).
churn_reload() {
	local n

	rnd 3
	[ "$CHURN_HOW" = SIGHUP ] || return 0
	for ((n = 0; n <= R; n++)); do
		kill -HUP "$AGENT_PID"
	done
}

churn_start() {
	local now=$1 n i f

	rnd "$CHURN_MAX"
	n=$((R + 1))
	rnd 2
	if [ "$R" = 0 ]; then CHURN_HOW=SIGHUP; else CHURN_HOW=periodic; fi
	rnd 7000
	CHURN_HOLD=$((R + 2000))
	rnd 6000
	CHURN_PRE=$R
	CHURN=()
	for ((; n > 0; n--)); do
		rnd "$ENGINES"
		next_free "$R" || break
		i=$R
		rnd 2
		f=$R
		rnd ${#KINDS[@]}
		CHURN+=("$i")
		KIND[i]=discovery
		PHASE[i]=detect
		CFAULT[i]=
		# Half of them leave in the middle of a fault.
		if [ "$f" = 0 ]; then
			CFAULT[i]=${KINDS[R]}
			CHURN_FAULTED=$((CHURN_FAULTED + 1))
			apply_fault "$i" "${CFAULT[i]}" ||
				check "discovery: ${CFAULT[i]} ${ADDR[i]} applied" 1
		fi
	done
	[ ${#CHURN[@]} -gt 0 ] || return
	APPLIED[discovery]=$((APPLIED[discovery] + ${#CHURN[@]}))
	CHURN_BATCHES=$((CHURN_BATCHES + 1))
	CHURN_PHASE=prefault
	CHURN_T0=$now
}

churn_step() {
	local now=$1 i gone=0 back=0 what

	for i in "${CHURN[@]}"; do
		present "$i" || gone=$((gone + 1))
		settled "$i" && back=$((back + 1))
	done
	what="${#CHURN[@]} engines ($CHURN_HOW)"
	case $CHURN_PHASE in
	prefault)
		[ $((now - CHURN_T0)) -ge "$CHURN_PRE" ] || return
		for i in "${CHURN[@]}"; do
			OUT[$i]=1
		done
		write_discovery
		churn_reload
		CHURN_PHASE=remove
		CHURN_T0=$now
		if [ "$CHURN_HOW" = SIGHUP ]; then
			CHURN_DL=$((now + REMOVE_MS_SIGHUP))
		else
			CHURN_DL=$((now + REMOVE_MS_PERIODIC))
		fi
		;;
	remove)
		if [ "$gone" = ${#CHURN[@]} ]; then
			check "discovery: $what gone within $((CHURN_DL - CHURN_T0)) ms" 0
			DETECTED[discovery]=$((DETECTED[discovery] + gone))
			DLAT[discovery]+="$((now - CHURN_T0)) "
			CHURN_PHASE=out
			CHURN_T0=$now
		elif [ "$now" -ge "$CHURN_DL" ]; then
			check "discovery: $what gone within $((CHURN_DL - CHURN_T0)) ms" 1 \
				"$gone gone; $(for i in "${CHURN[@]}"; do present "$i" && describe "$i"; done | head -n 3 | tr '\n' ' ')"
			CHURN_PHASE=out
			CHURN_T0=$now
		fi
		;;
	out)
		if [ "$gone" != ${#CHURN[@]} ]; then
			check "discovery: $what stay out" 1 "$gone of ${#CHURN[@]} absent"
		fi
		if [ $((now - CHURN_T0)) -ge "$CHURN_HOLD" ]; then
			for i in "${CHURN[@]}"; do
				if [ -n "${CFAULT[i]}" ]; then
					lift_fault "$i" "${CFAULT[i]}" ||
						check "discovery: ${CFAULT[i]} ${ADDR[i]} lifted" 1
					CFAULT[i]=
				fi
				unset "OUT[$i]"
				PHASE[i]=recover
			done
			write_discovery
			churn_reload
			CHURN_PHASE=back
			CHURN_T0=$now
			if [ "$CHURN_HOW" = SIGHUP ]; then
				CHURN_DL=$((now + REMOVE_MS_SIGHUP + READD_EXTRA_MS))
			else
				CHURN_DL=$((now + REMOVE_MS_PERIODIC + READD_EXTRA_MS))
			fi
		fi
		;;
	back)
		for i in "${CHURN[@]}"; do
			if present "$i" && [ "${ST[i]}" != pending ] &&
			   [ "${ST[i]}" != healthy ]; then
				check "discovery: ${ADDR[i]} back without failing" 1 "$(describe "$i")"
			fi
		done
		if [ "$back" = ${#CHURN[@]} ]; then
			check "discovery: $what back, healthy, same IDs, within $((CHURN_DL - CHURN_T0)) ms" 0
			RECOVERED[discovery]=$((RECOVERED[discovery] + back))
			RLAT[discovery]+="$((now - CHURN_T0)) "
		elif [ "$now" -ge "$CHURN_DL" ]; then
			check "discovery: $what back, healthy, same IDs, within $((CHURN_DL - CHURN_T0)) ms" 1 \
				"$back back; $(for i in "${CHURN[@]}"; do settled "$i" || describe "$i"; done | head -n 3 | tr '\n' ' ')"
		else
			return
		fi
		for i in "${CHURN[@]}"; do
			KIND[i]=
			PHASE[i]=
		done
		CHURN=()
		CHURN_PHASE=
		;;
	esac
}

# -- bystanders ---------------------------------------------------------------

# Every engine no fault touches is there and healthy.
check_bystanders() {
	local i bad=() n=0

	for ((i = 0; i < ENGINES; i++)); do
		[ -z "${KIND[i]:-}" ] || continue
		n=$((n + 1))
		if ! present "$i" || [ "${ST[i]}" != healthy ]; then
			bad+=("$(describe "$i")")
		fi
	done
	check "tick $TICKS: $n untouched engines healthy" ${#bad[@]} \
		"$(printf '%s; ' "${bad[@]:0:5}")${#bad[@]} in all"
}

# -- figures ------------------------------------------------------------------

transitions() { grep -c '"type":"engine"' "$ELOG" 2>/dev/null; }

figures() {
	local k s=""

	for k in "${KINDS[@]}" discovery; do
		s+=" $k ${APPLIED[$k]}"
	done
	echo "soak: $((($(now_ms) - T_RUN) / 1000))s: faults applied:$s; active ${#ACTIVE[@]}; transitions $(transitions) (agent counter $(metric peerwatch_engine_transitions_total)); checks $checks_pass passed, $checks_fail failed; agent fds $(fds "$AGENT_PID") RSS $(rss_kb "$AGENT_PID") KiB connections $(metric peerwatch_connections); enginesim connections $("$SIM" ctl "$CTL" stats | jq .connections); load $(cut -d' ' -f1-3 /proc/loadavg)"
}

# stats "L1 L2 ...": min/median/max of latencies in ms.
lat_stats() {
	[ -n "$1" ] || { echo "-"; return; }
	# shellcheck disable=SC2086
	printf '%s\n' $1 | sort -n | awk '{ v[NR] = $1 } END {
		printf "%d/%d/%d ms", v[1], v[int((NR + 1) / 2)], v[NR] }'
}

# -- the run ------------------------------------------------------------------

T_RUN=$(now_ms)
T_END=$((T_RUN + DUR_S * 1000))
T_FIG=$((T_RUN + FIG_EVERY_MS))
TICKS=0
while :; do
	t_tick=$(now_ms)
	[ "$t_tick" -lt "$T_END" ] || break
	TICKS=$((TICKS + 1))
	if ! kill -0 "$AGENT_PID" 2>/dev/null || ! kill -0 "$SIM_PID" 2>/dev/null; then
		check "agent and enginesim alive at tick $TICKS" 1
		break
	fi
	if ! poll; then
		check "tick $TICKS: the agent answers GET /v1/nodes" 1
		sleep 1
		continue
	fi
	now=$(now_ms)
	for i in "${!ACTIVE[@]}"; do
		step_fault "$i" "$now"
	done
	[ -n "$CHURN_PHASE" ] && churn_step "$now"
	check_bystanders
	# A fixed number of draws per tick, used or not: SEED replays them.
	for ((s = 0; s < STARTS_PER_TICK; s++)); do
		rnd ${#KINDS[@]}
		k=${KINDS[R]}
		rnd 7000
		hold=$((R + 2000))
		rnd "$ENGINES"
		if [ ${#ACTIVE[@]} -lt "$MAX_ACTIVE" ] && next_free "$R"; then
			start_fault "$R" "$k" "$hold" "$now"
		fi
	done
	rnd 20
	if [ "$R" = 0 ] && [ -z "$CHURN_PHASE" ]; then
		churn_start "$now"
	fi
	if [ "$now" -ge "$T_FIG" ]; then
		figures
		T_FIG=$((T_FIG + FIG_EVERY_MS))
	fi
	t=$(($(now_ms) - t_tick))
	[ "$t" -lt "$TICK_MS" ] && sleep "$(printf '0.%03d' $((TICK_MS - t)))"
done
T_RAN=$(($(now_ms) - T_RUN))
# The last figures, unless a tick just printed them.
[ $(($(now_ms) - T_FIG + FIG_EVERY_MS)) -gt 2000 ] && figures

# -- the end: lift everything, converge, compare with the baseline ------------

OUT=()
write_discovery
kill -HUP "$AGENT_PID" 2>/dev/null
in_ns nft flush set inet soak bh
sim clear all
t0=$(now_ms)
ok=1
while [ $(($(now_ms) - t0)) -lt "$END_BOUND_MS" ]; do
	if all_settled; then
		ok=0
		break
	fi
	sleep 0.5
done
T_FINAL=$(($(now_ms) - t0))
bad=()
for ((i = 0; i < ENGINES; i++)); do
	settled "$i" || bad+=("$(describe "$i")")
done
check "every engine healthy with its ID and both connections within $END_BOUND_MS ms of the end" "$ok" \
	"${#bad[@]} not: $(printf '%s; ' "${bad[@]:0:5}")"
measure
E_HEAP=$M_HEAP E_FREE=$M_FREE E_FDS=$M_FDS E_RSS=$M_RSS E_RAW=$M_RAW E_CONNS=$M_CONNS E_SS=$M_SS
E_SIM_FDS=$M_SIM_FDS E_SIM_CONNS=$M_SIM_CONNS
E_RAW_RANGE=$M_RAW_RANGE

# within NAME BASE END: END within TOLERANCE percent of BASE.
within() {
	local d=$(($3 - $2))

	[ "$d" -lt 0 ] && d=$((-d))
	check "$1 back to baseline within $TOLERANCE%: $2 -> $3" \
		$((d * 100 > $2 * TOLERANCE))
}
# exact NAME BASE CMD...: with every engine settled, the agent holds what
# it held at the baseline, not one more: a leak of a descriptor per fault
# hides within 5%. CMD is read again for up to 10 s, in case a connection
# was being replaced at that instant.
exact() {
	local name=$1 base=$2 v

	shift 2
	for _ in $(seq 10); do
		v=$("$@")
		[ "$v" = "$base" ] && break
		sleep 1
	done
	check "$name exactly back to baseline: $base -> $v" $((v != base))
}
within "agent descriptors" "$B_FDS" "${E_FDS:-0}"
exact "agent descriptors" "$B_FDS" fds "$AGENT_PID"
if [ -z "$RSS_CHECK" ]; then
	echo "# skip: agent heap: $RSS_WHY"
	suite_record "agent heap in use" skip
elif [ -z "$B_HEAP" ] || [ "$B_HEAP" = 0 ] || [ -z "$E_HEAP" ]; then
	check "agent heap measured" 1 "no peerwatch_heap_bytes in /metrics"
else
	# What the agent holds: a leak shows in the heap in use. Idle RSS
	# adds what fragmentation keeps resident: long-lived memory laid out
	# apart from the transient (an engine's inventory is one block made
	# after its listing's JSON is freed), so it must come back too.
	within "agent heap in use (KiB)" "$B_HEAP" "$E_HEAP"
	within "agent idle RSS (KiB)" "$B_RSS" "$E_RSS"
	echo "# agent idle RSS $B_RSS -> $E_RSS KiB ($(((E_RSS - B_RSS) * 100 / B_RSS))%), of which free heap $B_FREE -> $E_FREE KiB"
fi
within "agent connections (/metrics)" "$B_CONNS" "${E_CONNS:-0}"
within "agent connections (ss)" "$B_SS" "${E_SS:-0}"
exact "agent connections (/metrics)" "$B_CONNS" metric peerwatch_connections
exact "agent connections (ss)" "$B_SS" ss_conns dport
within "enginesim connections" "$B_SIM_CONNS" "${E_SIM_CONNS:-0}"

kill -0 "$EVENTS_PID" 2>/dev/null
check "the /v1/events reader was served throughout" $?
alive=0
kill -0 "$AGENT_PID" 2>/dev/null || alive=1
check "peerwatchd alive" $alive
alive=0
kill -0 "$SIM_PID" 2>/dev/null || alive=1
check "enginesim alive" $alive
kill "$EVENTS_PID" 2>/dev/null
wait "$EVENTS_PID" 2>/dev/null
kill -TERM "$AGENT_PID" 2>/dev/null
wait "$AGENT_PID"
rc=$?
check "peerwatchd stops on SIGTERM with status 0" "$rc" "status $rc"
kill -TERM "$SIM_PID" 2>/dev/null
wait "$SIM_PID"
rc=$?
check "enginesim stops on SIGTERM with status 0" "$rc" "status $rc"
n=$(grep -c 'Sanitizer\|runtime error' "$ALOG" "$SLOG" | awk -F: '{ s += $2 } END { print s }')
check "no sanitizer report" $((n != 0)) "$(grep -h -m 3 'Sanitizer\|runtime error' "$ALOG" "$SLOG")"

echo "soak: ran $((T_RAN / 1000)) s ($TICKS ticks), SEED=$SEED ENGINES=$ENGINES; back to all healthy $T_FINAL ms after the end"
for k in "${KINDS[@]}" discovery; do
	printf 'soak: %-10s applied %5d, detected %5d (%s), recovered %5d (%s)\n' \
		"$k" "${APPLIED[$k]}" "${DETECTED[$k]}" "$(lat_stats "${DLAT[$k]}")" \
		"${RECOVERED[$k]}" "$(lat_stats "${RLAT[$k]}")"
done
echo "soak: discovery churn: $CHURN_BATCHES batches (latencies per batch), $CHURN_FAULTED engines removed in the middle of a fault"
echo "soak: transitions seen on /v1/events: $(transitions)"
jq -r 'select(.type == "engine") | "\(.from) -> \(.state) (\(.cause // "-"))"' "$ELOG" 2>/dev/null |
	sort | uniq -c | sort -rn | sed 's/^/soak:   /'
echo "soak: baseline -> end: agent fds $B_FDS -> $E_FDS, idle RSS ${B_RSS:--} -> ${E_RSS:--} KiB, heap in use $B_HEAP -> $E_HEAP KiB, free $B_FREE -> $E_FREE KiB (while polled: median $B_RAW -> $E_RAW KiB, end samples $E_RAW_RANGE), connections $B_CONNS -> $E_CONNS (ss $B_SS -> $E_SS); enginesim fds $B_SIM_FDS -> $E_SIM_FDS, connections $B_SIM_CONNS -> $E_SIM_CONNS"
echo "soak: checks $checks_pass passed, $checks_fail failed"
suite_end soak

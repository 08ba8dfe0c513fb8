#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# uapi/peerwatch.yaml against the module, through the kernel's own YNL
# client (tools/net/ynl from Debian's linux-source-6.12, cached by
# scripts/ynl-fetch), in the test guest with the module loaded: so that the
# spec and the module cannot drift apart. Run by selftests/kmod/run.sh.
#
#   netns pwt-ynl-<pid>: lo up, a listener on 127.0.0.1:7001 and :7002
#
# spec:      loads with the schema checked (genetlink-legacy.yaml)
# sock-get:  the dump, then the do by tuple and cookie, find a client
#            socket with TCP_USER_TIMEOUT 1234 and its SO_COOKIE
# sock-set:  sets 4321 on it; getsockopt reads 4321
# policy:    policy-add for 127.0.0.1/32 port 7002 (1000 ms) answers its
#            id; policy-dump lists it; a new connection to 7002 has 1000
# events:    subscribed to "events", that connection blackholed (nft) while
#            it writes: a "dead" notification for its cookie, reason
#            user-timeout, within the timeout + 5 s
set -u

cache=${PEERWATCH_CACHE:-/var/cache/peerwatch}
ynl=$cache/ynl-6.12
spec=$(pwd)/uapi/peerwatch.yaml
ns=pwt-ynl-$$

if [ ! -e "$ynl/.complete" ]; then
	echo "# skip: the YNL tools are not in $ynl (scripts/ynl-fetch; make vm-check runs it)"
	exit 4
fi
if ! /usr/bin/python3 -c 'import yaml, jsonschema' 2>/dev/null; then
	echo "# skip: python3-yaml and python3-jsonschema are missing (scripts/deps.sh)"
	exit 4
fi

cleanup() { ip netns del "$ns" 2>/dev/null; }
trap cleanup EXIT
ip netns add "$ns" || exit 1
ip -n "$ns" link set lo up || exit 1

ip netns exec "$ns" /usr/bin/python3 - "$ynl" "$spec" "$ns" <<'EOF'
import ipaddress, os, socket, struct, subprocess, sys, time

ynl_dir, spec, ns = sys.argv[1:4]
sys.path.insert(0, os.path.join(ynl_dir, "tools/net/ynl"))
from lib import YnlFamily, NlError

TCP_USER_TIMEOUT = 18
SO_COOKIE = 57
LO = int(ipaddress.IPv4Address("127.0.0.1"))
failed = 0


def check(ok, what):
    global failed
    print(("# ok: " if ok else "# FAIL: ") + what, flush=True)
    if not ok:
        failed += 1
    return ok


def cookie(s):
    return struct.unpack("Q", s.getsockopt(socket.SOL_SOCKET, SO_COOKIE, 8))[0]


def user_timeout(s):
    return s.getsockopt(socket.IPPROTO_TCP, TCP_USER_TIMEOUT)


def pair(port, ut=None):
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", port))
    srv.listen(4)
    cli = socket.socket()
    if ut is not None:
        cli.setsockopt(socket.IPPROTO_TCP, TCP_USER_TIMEOUT, ut)
    cli.connect(("127.0.0.1", port))
    peer, _ = srv.accept()
    return srv, cli, peer


schema = os.path.join(ynl_dir, "Documentation/netlink/genetlink-legacy.yaml")
try:
    fam = YnlFamily(spec, schema)
except Exception as e:
    check(False, f"spec: {e}")
    sys.exit(1)
check(True, "spec loads with the schema checked; ops: " + " ".join(fam.ops))
# A subscriber binds before its first request: a socket of its own.
mon = YnlFamily(spec, schema)
mon.ntf_subscribe("events")

# sock-get, dump and do
srv1, cli1, peer1 = pair(7001, 1234)
c1 = cookie(cli1)
rows = fam.dump("sock-get", {"family": socket.AF_INET, "dport": 7001})
mine = [r for r in rows if r.get("cookie") == c1]
check(len(mine) == 1 and mine[0].get("user-timeout") == 1234 and
      mine[0].get("daddr4") == "127.0.0.1",
      f"sock-get dump: {len(rows)} sockets to port 7001, ours {mine}")
sport = cli1.getsockname()[1]
tup = {"family": socket.AF_INET, "saddr4": LO, "sport": sport,
       "daddr4": LO, "dport": 7001}
try:
    one = fam.do("sock-get", dict(tup, cookie=c1))
    one = one[0] if isinstance(one, list) else one
    check(one.get("cookie") == c1 and one.get("user-timeout") == 1234,
          f"sock-get do by tuple and cookie: {one}")
except NlError as e:
    check(False, f"sock-get do: {e}")

# sock-set
try:
    fam.do("sock-set", dict(tup, cookie=c1, **{"user-timeout": 4321}))
    check(user_timeout(cli1) == 4321,
          f"sock-set 4321: getsockopt says {user_timeout(cli1)}")
except NlError as e:
    check(False, f"sock-set: {e}")

# policy-add, policy-dump, a connection given the policy's timeout
try:
    fam.do("policy-flush", {})
    rule = fam.do("policy-add", {"family": socket.AF_INET, "daddr4": LO,
                                 "prefix-len": 32, "dport-min": 7002,
                                 "dport-max": 7002, "user-timeout": 1000})
    rule = rule[0] if isinstance(rule, list) else rule
    pid = rule.get("policy-id")
    check(pid is not None and rule.get("user-timeout") == 1000,
          f"policy-add: {rule}")
    rules = fam.dump("policy-dump", {})
    check(any(r.get("policy-id") == pid and r.get("dport-min") == 7002
              for r in rules), f"policy-dump: {rules}")
except NlError as e:
    check(False, f"policy: {e}")
    sys.exit(1)
srv2, cli2, peer2 = pair(7002)
check(user_timeout(cli2) == 1000,
      f"a connection to 7002 has the policy's timeout: {user_timeout(cli2)}")

# a DEAD through the events group
c2 = cookie(cli2)
subprocess.run(["nft", "-f", "-"], check=True, input=b"""
table inet pwynl {
	chain in { type filter hook input priority 0; tcp dport 7002 drop; tcp sport 7002 drop; }
}
""")
t0 = time.monotonic()
dead = None
while dead is None and time.monotonic() - t0 < 6.0:
    try:
        cli2.send(b"x" * 100, socket.MSG_DONTWAIT)
    except OSError:
        pass
    time.sleep(0.1)
    mon.check_ntf()
    for m in mon.async_msg_queue:
        msg = m.get("msg", {})
        if msg.get("cookie") == c2 and msg.get("event") == "dead":
            dead = msg
ms = int((time.monotonic() - t0) * 1000)
check(dead is not None and dead.get("reason") == "user-timeout",
      f"events: dead for our cookie after {ms} ms (timeout 1000 ms, bound 6000): {dead}")
subprocess.run(["nft", "delete", "table", "inet", "pwynl"])
fam.do("policy-flush", {})
print(f"# ynl: {failed} failed", flush=True)
sys.exit(1 if failed else 0)
EOF

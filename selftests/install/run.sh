#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make install, the systemd unit, DKMS and modinfo (issue 10).
#   selftests/install/run.sh BUILD_DIR [KVER]
# Installs into a temporary DESTDIR and checks the tree, verifies the unit,
# builds the module with DKMS into a private tree under BUILD_DIR (never
# the host's /var/lib/dkms), loads that module in the QEMU guest, and
# checks modinfo. Ends with "install: N passed, N failed, N skipped".
set -u
cd "$(dirname "$0")/../.." || exit 1
O=${1:-build}
KVER=${2:-$(scripts/kver)}
. scripts/suite.sh

VERSION=$(cat VERSION)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
dest=$tmp/dest
prefix=/usr/local
root=$dest$prefix

ok() { echo "ok: $1"; suite_record "$1" pass; }
bad() { echo "not ok: $1${2:+: $2}"; suite_record "$1" fail; }
skip() { echo "skip: $1: $2"; suite_record "$1" skip; }
# check NAME CMD...: pass when CMD succeeds
check() {
	local name=$1
	shift
	if "$@"; then ok "$name"; else bad "$name"; fi
}

# 1. make install into a DESTDIR
if make -s --no-print-directory O="$O" DESTDIR="$dest" install \
		>"$tmp/install.log" 2>&1; then
	ok "make install DESTDIR"
else
	bad "make install DESTDIR" "$(tail -n 5 "$tmp/install.log")"
fi

# FILE MODE
files="
sbin/peerwatchd 755
bin/peerwatch 755
share/man/man8/peerwatchd.8 644
share/man/man8/peerwatch.8 644
share/man/man7/peerwatch.7 644
include/linux/peerwatch.h 644
share/doc/peerwatch/examples/engines 644
share/doc/peerwatch/examples/peerwatchd.default 644
share/bash-completion/completions/peerwatch 644
share/doc/peerwatch/examples/peerwatch.rules.yml 644
lib/systemd/system/peerwatchd.service 644
lib/sysusers.d/peerwatch.conf 644
src/peerwatch-$VERSION/dkms.conf 644
src/peerwatch-$VERSION/Kbuild 644
src/peerwatch-$VERSION/VERSION 644
src/peerwatch-$VERSION/uapi/linux/peerwatch.h 644
"
for f in kmod/*.[ch]; do
	files="$files src/peerwatch-$VERSION/$f 644"
done
missing=
while read -r f mode; do
	[ -n "$f" ] || continue
	if [ ! -f "$root/$f" ]; then
		missing="$missing $f(absent)"
	elif [ "$(stat -c %a "$root/$f")" != "$mode" ]; then
		missing="$missing $f(mode $(stat -c %a "$root/$f"), want $mode)"
	fi
done <<<"$(echo "$files" | xargs -n 2)"
if [ -z "$missing" ]; then ok "installed tree: every file, with its mode"
else bad "installed tree" "$missing"; fi

# The completion parses, and registers itself for peerwatch.
completes() {
	bash -n "$1" && bash -c '. "$1" && complete -p peerwatch' _ "$1" |
		grep -qx 'complete -F _peerwatch peerwatch'
}
check "installed bash completion registers for peerwatch" completes \
	"$root/share/bash-completion/completions/peerwatch"

runs_help() { "$1" --help >/dev/null 2>&1; }
check "installed peerwatchd --help" runs_help "$root/sbin/peerwatchd"
check "installed peerwatch --help" runs_help "$root/bin/peerwatch"

for m in man8/peerwatchd.8 man8/peerwatch.8 man7/peerwatch.7; do
	f=$root/share/man/$m
	if [ -f "$f" ] && head -n 1 "$f" | grep -q SPDX-License-Identifier &&
			! grep -q '@VERSION@' "$f" &&
			out=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$f" 2>&1 \
				>/dev/null; groff -man -ww -z "$f" 2>&1) &&
			[ -z "$out" ]; then
		ok "man page $m renders without warnings"
	else
		bad "man page $m" "${out:-absent, no SPDX line or unsubstituted}"
	fi
done

rules=$root/share/doc/peerwatch/examples/peerwatch.rules.yml
if ! command -v promtool >/dev/null; then
	skip "promtool check rules on the installed alerts" "no promtool (Debian's prometheus)"
elif out=$(promtool check rules "$rules" 2>&1); then
	ok "promtool check rules accepts the installed alerts"
else
	bad "promtool check rules" "$out"
fi

conf=$root/src/peerwatch-$VERSION/dkms.conf
check "dkms.conf: PACKAGE_VERSION is VERSION, in the tree and installed" \
	grep -qx "PACKAGE_VERSION=\"$VERSION\"" dkms.conf "$conf"

# PREFIX=/usr puts the unit where systemd looks for it.
if make -s --no-print-directory O="$O" DESTDIR="$tmp/usr" PREFIX=/usr \
		install >/dev/null 2>&1 &&
		[ -f "$tmp/usr/lib/systemd/system/peerwatchd.service" ] &&
		[ -f "$tmp/usr/usr/lib/sysusers.d/peerwatch.conf" ] &&
		grep -qx 'ExecStart=/usr/sbin/peerwatchd .*' \
			"$tmp/usr/lib/systemd/system/peerwatchd.service"; then
	ok "PREFIX=/usr: unit in /lib/systemd/system, ExecStart /usr/sbin"
else
	bad "PREFIX=/usr: unit in /lib/systemd/system, ExecStart /usr/sbin"
fi

# 2. the unit: hardening, and systemd-analyze verify (on a copy whose
# ExecStart names the DESTDIR binary, with MANPATH for Documentation=).
unit=$root/lib/systemd/system/peerwatchd.service
want="User=peerwatch
Type=notify
WatchdogSec=30s
NoNewPrivileges=yes
ProtectSystem=strict
ProtectHome=yes
PrivateTmp=yes
RuntimeDirectory=peerwatch
LimitNOFILE=1048576
CapabilityBoundingSet=CAP_NET_ADMIN
AmbientCapabilities=CAP_NET_ADMIN
ExecReload=/bin/kill -HUP \$MAINPID
EnvironmentFile=-/etc/default/peerwatchd
RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK
SystemCallFilter=@system-service"
lacks=
while read -r l; do
	grep -qxF "$l" "$unit" 2>/dev/null || lacks="$lacks [$l]"
done <<<"$want"
if [ -z "$lacks" ]; then ok "unit: hardening directives"
else bad "unit: hardening directives" "lacks$lacks"; fi

if ! command -v systemd-analyze >/dev/null; then
	skip "systemd-analyze verify" "no systemd-analyze (Debian's systemd)"
else
	mkdir -p "$tmp/unit"
	sed "s|^ExecStart=$prefix|ExecStart=$root|" "$unit" \
		>"$tmp/unit/peerwatchd.service"
	if out=$(MANPATH=$root/share/man: systemd-analyze verify \
			"$tmp/unit/peerwatchd.service" 2>&1) && [ -z "$out" ]; then
		ok "systemd-analyze verify accepts the unit"
	else
		bad "systemd-analyze verify" "$out"
	fi
fi

# 3. DKMS: add and build from the installed source, in a private tree
# (signing key included) under BUILD_DIR so that the guest sees it.
dk=$PWD/$O/dkms
ko=$dk/tree/peerwatch/$VERSION/$KVER/$(uname -m)/module/peerwatch.ko
if ! command -v dkms >/dev/null; then
	skip "dkms build" "no dkms"
	skip "DKMS-built module loads in the guest" "no dkms"
elif [ ! -d "/lib/modules/$KVER/build" ]; then
	skip "dkms build" "no headers for $KVER"
	skip "DKMS-built module loads in the guest" "no headers for $KVER"
else
	rm -rf "$dk"
	mkdir -p "$dk/tree" "$dk/inst"
	dkopts=(-m peerwatch -v "$VERSION" --dkmstree "$dk/tree"
		--sourcetree "$root/src" --installtree "$dk/inst")
	if mok_signing_key=$dk/mok.key mok_certificate=$dk/mok.pub \
			dkms add "${dkopts[@]}" >"$dk/log" 2>&1 &&
			mok_signing_key=$dk/mok.key mok_certificate=$dk/mok.pub \
			dkms build "${dkopts[@]}" -k "$KVER" >>"$dk/log" 2>&1 &&
			[ -f "$ko" ]; then
		ok "dkms build against the $KVER headers (private tree)"
	else
		bad "dkms build" "$(tail -n 10 "$dk/log")"
	fi
	# The source symlink points into the temporary DESTDIR: replace it.
	rm -f "$dk/tree/peerwatch/$VERSION/source"

	if [ ! -f "$ko" ]; then
		skip "DKMS-built module loads in the guest" "dkms build failed"
	elif ! command -v qemu-system-x86_64 >/dev/null; then
		skip "DKMS-built module loads in the guest" "no qemu-system-x86"
	elif scripts/vm-run --kver "$KVER" --timeout 180 -- sh -c \
			"insmod $ko && genl ctrl get name peerwatch &&
			 grep -qx $VERSION /sys/module/peerwatch/version &&
			 rmmod peerwatch" >"$tmp/vm.log" 2>&1; then
		ok "DKMS-built module loads in the guest (family, version)"
	else
		bad "DKMS-built module loads in the guest" \
			"$(tail -n 15 "$tmp/vm.log")"
	fi
fi

# 4. modinfo: description, version, license, every parameter with help.
params=$(grep -hoE '^module_param(_named)?\([a-z_0-9]+' kmod/*.c |
	sed -E 's/.*\(//' | sort -u)
for m in peerwatch.ko "$ko"; do
	[ -f "$m" ] || { skip "modinfo ${m##"$PWD"/}" "not built"; continue; }
	why=
	[ "$(modinfo -F version "$m")" = "$VERSION" ] || why="$why version"
	[ -n "$(modinfo -F description "$m")" ] || why="$why description"
	[ -n "$(modinfo -F license "$m")" ] || why="$why license"
	[ -n "$params" ] || why="$why no-params-found"
	for p in $params; do
		modinfo -F parm "$m" | grep -qE "^$p:[^(]*[a-z].* \(" ||
			why="$why parm:$p"
	done
	name=${m#"$PWD"/}
	if [ -z "$why" ]; then
		ok "modinfo $name: description, version, license, $(echo "$params" | wc -w) parameters with help"
	else
		bad "modinfo $name" "missing:$why"
	fi
done

suite_end install

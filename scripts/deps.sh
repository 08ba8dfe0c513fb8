#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Install, from Debian's archive, exactly what peerwatch needs to build and
# test. Idempotent: apt-get runs only when a package is missing.
#   scripts/deps.sh [bench]
# bench: also what only make bench needs (Go, for its Go baseline).
set -eu

PKGS="
build-essential pkg-config clang libclang-rt-14-dev
libmnl-dev libnl-3-dev libnl-genl-3-dev libssl-dev libjson-c-dev
libhttp-parser-dev libc-ares-dev libyajl-dev libxxhash-dev
linux-headers-amd64 linux-image-amd64 linux-source-6.1
qemu-system-x86 busybox-static cpio kmod
iproute2 nftables procps psmisc util-linux openssl curl socat jq
sparse shellcheck valgrind debootstrap xz-utils prometheus gnuplot-nox
flex bison bc libelf-dev
systemd dkms man-db groff-base python3-yaml python3-jsonschema
docker.io etcd-server etcd-client
"

[ "${1:-}" = bench ] && PKGS="$PKGS golang-go"

missing=
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null |
			grep -q '^install ok installed$'; then
		missing="$missing $p"
	fi
done

[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing packages:$missing (run as root to install)" >&2
	exit 1
fi

echo "deps: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null

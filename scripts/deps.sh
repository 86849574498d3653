#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Installs every build, test and lab dependency of steer from Debian packages.
# Idempotent: does nothing when everything is present. Needs root (or sudo).
#
#   deps.sh          build, test and lab dependencies
#   deps.sh bench    those, and what the benchmarks compare steer against
#                    (serf: HashiCorp's SWIM agent, for bench/gossip/)
set -euo pipefail

# What each is for: the build (cmake, pkg-config, clang for the BPF
# objects and the fuzz targets with their runtime libclang-rt, llvm for
# the sanitizers' llvm-symbolizer, clang-format for the style check), the
# libraries CMakeLists.txt finds with pkg-config (libbpf-dev brings
# libelf-dev and zlib1g-dev, which its pkg-config file needs), the tests
# (cmocka, tshark for the oracles, man-db and groff for the pages), the
# lab (iproute2, nftables, ethtool, ping).
pkgs=(
	build-essential cmake pkg-config clang llvm libclang-rt-14-dev
	clang-format libcmocka-dev libpcap-dev tshark python3
	libbpf-dev bpftool linux-libc-dev
	liblmdb-dev libsodium-dev liblz4-dev libsystemd-dev libcap-ng-dev
	systemd groff-base man-db
	iproute2 nftables ethtool iputils-ping
	libjansson-dev libmicrohttpd-dev libmnl-dev
	# the HTTP server's test: promtool checks /metrics, Chromium loads the
	# status page (and lays it out: with --no-install-recommends it would
	# have no font at all)
	prometheus chromium fonts-dejavu-core curl
	# the demo's report: its plots
	gnuplot-nox
)
# Only the benchmarks need these (side-by-side comparisons).
bench_pkgs=(serf)

case "${1:-}" in
"") ;;
bench) pkgs+=("${bench_pkgs[@]}") ;;
*)
	echo "usage: deps.sh [bench]" >&2
	exit 2
	;;
esac

missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "deps: installing ${missing[*]}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
# tshark asks whether non-root users may capture; answer once, non-interactively.
echo "wireshark-common wireshark-common/install-setuid boolean false" |
	$SUDO debconf-set-selections
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
# Debian's serf package enables serf.service, an agent on *:7946 (serf's
# gossip port, and where bench/gossip/ binds its own agents): keep the
# packaged one off when this script installed it.
if [[ " ${missing[*]} " == *" serf "* ]] && [ -d /run/systemd/system ]; then
	$SUDO systemctl disable --now serf.service >/dev/null 2>&1 || true
fi
# Likewise Debian's prometheus package starts a server on *:9090; steer
# needs only its promtool.
if [[ " ${missing[*]} " == *" prometheus "* ]] && [ -d /run/systemd/system ]; then
	$SUDO systemctl disable --now prometheus.service >/dev/null 2>&1 || true
fi

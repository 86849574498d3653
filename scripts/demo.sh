#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The demo: replay a real capture (62,781 packets, one hour of a LAN)
# through the fast path of node n1 of the 4-node cluster in
# lab/demo-cluster.conf, then show what left the node, dissected by tshark.
set -euo pipefail
build=${1:-build}
top=$(cd "$(dirname "$0")/.." && pwd)
shared=${STEER_SHARED:-$top/../shared}
pcap=$shared/data/pcaps/pathspider_real.pcap
out=$top/$build/demo
mkdir -p "$out"

if [ ! -r "$pcap" ]; then
	echo "demo: $pcap not found (set STEER_SHARED to the shared folder)" >&2
	exit 1
fi
"$top/$build/bin/steer-replay" --cluster "$top/lab/demo-cluster.conf" \
	--in "$pcap" --out "$out/steered.pcap" --local "$out/local.pcap" \
	--stats "$out/flows.csv"
echo
echo "files: $out/steered.pcap (encapsulated), $out/local.pcap (kept), $out/flows.csv"
if command -v tshark >/dev/null; then
	echo
	echo "first packets that left n1, as tshark dissects them:"
	tshark -r "$out/steered.pcap" -X lua_script:"$top/tests/lua/gue.lua" \
		-c 6 -T fields -E separator=' ' \
		-e frame.protocols -e ip.dst -e udp.dstport -e tcp.dstport 2>/dev/null |
		sed 's/^/  /'
fi

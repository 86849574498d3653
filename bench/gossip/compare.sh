#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Benchmark (c): steer's gossip side by side with HashiCorp serf's agents
# (SWIM + Lifeguard by memberlist, LAN profile), on loopback, in one run:
# the time until every node knows a joined node, a session announce (for
# serf a user event) and a crashed node, and the bytes per node and second,
# idle and with updates, for N = 16 and 48, then steer/serf ratios. Prints
# `name value unit` lines; never passes or fails on time.
#
#   sudo bash bench/gossip/compare.sh [--quick] [--n 16,48] [--keep]
#
#   steer-gossip-bench                       this script (root)
#     steer: N nodes, this process           nft table inet steer_gbench:
#     steer_procs: N forked nodes              out: counters on what
#       127.0.3.K:<ephemeral>  --UDP-->          127.0.3.0/24 sends (UDP)
#     serf: N `serf agent`s                      and 127.0.2.0/24:7946
#       127.0.2.K:7946 UDP+TCP, RPC :7373        gets/answers (UDP, TCP)
#       log pipes -> stamped lines
#       handlers -> $TMPDIR/.../events
#
# Installs serf when missing (scripts/deps.sh bench), builds
# steer-gossip-bench when needed, makes its own nftables table
# steer_gbench and removes it afterwards, also on failure or Ctrl-C. The
# bench kills every process it started by PID (and they die with it).
# Bounded: every wait in the bench is 30 s at most, the whole run 30 min.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${BUILD:-$root/build}
table=steer_gbench
bench=$build/bin/steer-gossip-bench
keep=0
for a in "$@"; do
	[ "$a" = --keep ] && keep=1
done

if [ "$(id -u)" -ne 0 ]; then
	echo "compare.sh: needs root (nftables counters); try sudo" >&2
	exit 1
fi

if ! command -v serf >/dev/null || ! command -v nft >/dev/null; then
	bash "$root/scripts/deps.sh" bench >&2
fi

if [ ! -f "$build/CMakeCache.txt" ]; then
	cmake -S "$root" -B "$build" >&2
fi
cmake --build "$build" --target steer-gossip-bench >&2

# Another serf (Debian's serf.service, say) on the agents' ports would
# make every bind fail: say so rather than measure nothing.
busy=$(ss -Hlntu 2>/dev/null | awk '{print $5}' |
	grep -E '^(0\.0\.0\.0|\*|\[::\]|127\.0\.2\.[0-9]+):(7946|7373)$' || true)
if [ -n "$busy" ]; then
	echo "compare.sh: already in use, serf agents cannot bind: $busy" >&2
	exit 1
fi

work=$(mktemp -d /tmp/steer-gbench.XXXXXX)
bench_pid=
cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	if [ -n "$bench_pid" ] && kill -0 "$bench_pid" 2>/dev/null; then
		kill "$bench_pid" 2>/dev/null || true
		wait "$bench_pid" 2>/dev/null || true
	fi
	nft delete table inet "$table" 2>/dev/null || true
	if [ $keep -eq 1 ]; then
		echo "compare.sh: kept $work" >&2
	else
		rm -rf "$work"
	fi
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Counters only: the chain accepts everything, other tables still decide.
# memberlist's TCP comes from ephemeral ports of 127.0.0.1: count both
# directions by the agents' side.
nft_arg=(--nft-table "$table")
nft delete table inet "$table" 2>/dev/null || true
if ! nft -f - <<EOF; then
table inet $table {
	counter steer_udp {}
	counter serf_udp {}
	counter serf_tcp {}
	chain out {
		type filter hook output priority 0; policy accept;
		ip saddr 127.0.3.0/24 meta l4proto udp counter name "steer_udp"
		ip daddr 127.0.2.0/24 udp dport 7946 counter name "serf_udp"
		ip daddr 127.0.2.0/24 tcp dport 7946 counter name "serf_tcp"
		ip saddr 127.0.2.0/24 tcp sport 7946 counter name "serf_tcp"
	}
}
EOF
	echo "compare.sh: no nftables table: serf's bytes not measured" >&2
	nft_arg=()
fi

echo "# compare.sh: serf $(dpkg-query -W -f='${Version}' serf 2>/dev/null ||
	echo '?') (the binary says: $(serf version 2>/dev/null | head -1))," \
	"steer $(git -C "$root" describe --always --dirty 2>/dev/null || echo '?')"
TMPDIR=$work timeout -k 10 1800 "$bench" --no-micro \
	--systems steer,steer_procs,serf "${nft_arg[@]}" "$@" &
bench_pid=$!
wait "$bench_pid"

#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Benchmark (b): packets per second through one host (the DUT), steer's
# STEER path against a bare XDP redirect and the kernel's IP forwarding,
# with an XDP_DROP floor, on one topology in one run. Builds the topology,
# runs steer-pktgen (bench/lab/steer_pktgen.c: generator, sink, the
# variants, the figures and what they mean), tears everything down, also
# on failure or interruption.
#
#    sb-gen                     sb-dut                         sb-sink
#  +-------------------+   +-------------------------------+   +-------------------+
#  | sb-g0             |---| sb-di                   sb-do |---| sb-s0             |
#  | 198.18.10.1/24    |   | 198.18.10.254/24              |   | 198.18.11.1/24    |
#  | 02:5b:00:00:0a:01 |   | 02:5b:00:00:0a:fe             |   | 02:5b:00:00:0b:01 |
#  |                   |   |        198.18.11.254/24       |   |                   |
#  |                   |   |        02:5b:00:00:0b:fe      |   |                   |
#  +-------------------+   +-------------------------------+   +-------------------+
#   generator (XDP_TX)      variant on sb-di, ip_forward=1      counter, XDP_DROP
#
#   Frames: UDP 198.18.10.1:1024..(1024 + flows - 1) -> 198.18.11.1:9, 60
#   bytes. The DUT forwards (ip_forward=1) with a permanent neighbour for
#   the sink; no namespace has a default route or a link to this machine's
#   own namespace, IPv6 is off in all three: no frame leaves the lab, and
#   none but the generator's is sent.
#   sb-di runs threaded NAPI (set here; the kernel keeps the setting when
#   XDP programs come and go): steer-pktgen pins that thread, the DUT, on
#   one CPU and the generator on the other. sb-s0 does not: its receive
#   runs as softirq where its ring is filled, on the DUT's CPU, with no
#   cross-CPU wake-up per batch (see bench/lab/steer_pktgen.c).
#
# Usage: sudo bash bench/lab/pps.sh [steer-pktgen options]
#        (e.g. --seconds 2 --runs 1; see bench/lab/steer_pktgen.c)
# Settings: STEER_BIN, where steer-pktgen is (default: build/bin); the BPF
# objects are taken from its ../bpf. A benchmark: never run by make check.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
bin=${STEER_BIN:-$top/build/bin}
pass_obj=$bin/../bpf/steer_pass.bpf.o

NS_GEN=sb-gen
NS_DUT=sb-dut
NS_SINK=sb-sink
NAMESPACES="$NS_GEN $NS_DUT $NS_SINK"
tool_pid=

log()
{
	echo "pps.sh: $*" >&2
}

die()
{
	log "error: $*"
	exit 1
}

# Remove all this script creates (the links go with the namespaces).
# Succeeds on a half-built or absent topology.
pps_down()
{
	local ns

	for ns in $NAMESPACES; do
		[ -e "/run/netns/$ns" ] || continue
		ip netns del "$ns" || log "cannot delete namespace $ns"
	done
}

# On exit, interrupted or not: end steer-pktgen if it still runs (it
# detaches its programs), then tear down.
# shellcheck disable=SC2317 # called by the EXIT trap
pps_exit()
{
	local rc=$?

	if [ -n "$tool_pid" ] && kill -0 "$tool_pid" 2>/dev/null; then
		kill -TERM "$tool_pid" 2>/dev/null
		wait "$tool_pid" 2>/dev/null
	fi
	pps_down
	exit "$rc"
}

nsx()
{
	local ns=$1

	shift
	ip netns exec "$ns" "$@"
}

pps_ns_add()
{
	ip netns add "$1" || return
	nsx "$1" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
		net.ipv6.conf.default.disable_ipv6=1 >/dev/null || return
	ip -n "$1" link set lo up
}

# veth: name1 in ns1 with mac1 and addr1, name2 in ns2 with mac2 and addr2.
pps_veth()
{
	local ns1=$1 if1=$2 mac1=$3 a1=$4 ns2=$5 if2=$6 mac2=$7 a2=$8

	ip -n "$ns1" link add "$if1" address "$mac1" type veth \
		peer name "$if2" address "$mac2" netns "$ns2" || return
	ip -n "$ns1" addr add "$a1" dev "$if1" || return
	ip -n "$ns2" addr add "$a2" dev "$if2" || return
	ip -n "$ns1" link set "$if1" up || return
	ip -n "$ns2" link set "$if2" up
}

# Threaded NAPI on a veth: the knob exists only while the veth has NAPI,
# i.e. an XDP program, and outlives the program.
pps_threaded()
{
	local ns=$1 dev=$2

	ip -n "$ns" link set dev "$dev" xdp obj "$pass_obj" sec xdp || return
	nsx "$ns" sh -c "echo 1 >/sys/class/net/$dev/threaded" || return
	ip -n "$ns" link set dev "$dev" xdp off || return
	[ "$(nsx "$ns" cat "/sys/class/net/$dev/threaded")" = 1 ]
}

pps_up()
{
	local ns

	for ns in $NAMESPACES; do
		pps_ns_add "$ns" || return
	done
	pps_veth $NS_GEN sb-g0 02:5b:00:00:0a:01 198.18.10.1/24 \
		$NS_DUT sb-di 02:5b:00:00:0a:fe 198.18.10.254/24 || return
	pps_veth $NS_DUT sb-do 02:5b:00:00:0b:fe 198.18.11.254/24 \
		$NS_SINK sb-s0 02:5b:00:00:0b:01 198.18.11.1/24 || return
	nsx $NS_DUT sysctl -qw net.ipv4.ip_forward=1 \
		net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 \
		net.ipv4.conf.all.send_redirects=0 >/dev/null || return
	ip -n $NS_DUT neigh replace 198.18.11.1 lladdr 02:5b:00:00:0b:01 \
		dev sb-do nud permanent || return
	pps_threaded $NS_DUT sb-di
}

[ "$(id -u)" = 0 ] || die "needs root"
[ -x "$bin/steer-pktgen" ] || die "$bin/steer-pktgen not found: make build"
[ -r "$pass_obj" ] || die "$pass_obj not found: make build"
[ "$(nproc)" -ge 2 ] || die "needs two CPUs (generator, DUT)"

trap pps_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
# A previous run that could not clean up leaves our names behind.
pps_down
pps_up || die "cannot build the topology"

echo "# kernel $(uname -r), $(nproc) CPUs, load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
# In the background so a signal to this script reaches the trap at once.
"$bin/steer-pktgen" "$@" &
tool_pid=$!
wait "$tool_pid"
rc=$?
tool_pid=
echo "# load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
exit "$rc"

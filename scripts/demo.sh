#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The demo. As root, two stories in the lab. Host mode (lab/story.sh):
# 200 live TCP connections and 10 UDP flows per family through an ECMP
# router while a host joins, a host leaves and a steerd crashes, first
# with steer and then without it, and a summary of both. Cell mode
# (lab/story_cell.sh): 300 TCP + 20 UDP sessions per family through fast
# paths, cells and backends while a backend is added, a cell is killed
# and an ingress node leaves, with replication 2, the killed cell coming
# back 2 s later. The header cache's story (bench/lab/migration_story.sh:
# a node drained by its load forecast, a node joining, a steerd killed;
# with hints, without, and flooding). Then a live cell's /metrics checked
# by promtool and its status page saved as a PNG (tests/lab/test_metrics.sh),
# and a report with plots of every story (build/demo/report.md). Without root
# (no namespaces or XDP), the offline replay
# of a real capture through one node instead.
set -euo pipefail
build=${1:-build}
top=$(cd "$(dirname "$0")/.." && pwd)
export STEER_BIN=$top/$build/bin

replay()
{
	local out=$top/$build/demo pcap

	pcap=$top/tests/data/pcaps/pathspider_real.pcap
	mkdir -p "$out"
	if [ ! -r "$pcap" ]; then
		echo "demo: $pcap not found" >&2
		exit 1
	fi
	"$STEER_BIN/steer-replay" --cluster "$top/lab/demo-cluster.conf" \
		--in "$pcap" --out "$out/steered.pcap" --local "$out/local.pcap" \
		--stats "$out/flows.csv"
	echo
	echo "files: $out/steered.pcap (encapsulated), $out/local.pcap (kept), $out/flows.csv"
}

if [ "$(id -u)" != 0 ]; then
	echo "demo: not root, so no lab (namespaces, XDP): replaying a capture instead"
	replay
	exit 0
fi
# shellcheck source=lab/lib.sh
. "$top/lab/lib.sh"
lab_init
lab_claim || exit 1
trap 'lab_down >/dev/null 2>&1 || true' EXIT
echo "demo: building the lab (client, ECMP router, 4 hosts on a bridge, 1 routed)"
lab_up >/dev/null
results=$(mktemp)
demo=$top/$build/demo
mkdir -p "$demo/host-on" "$demo/host-off" "$demo/cell"
echo
echo "=== with steer ==="
"$top/lab/story.sh" --keep --show --csv "$demo/host-on" | tee -a "$results"
echo
echo "=== the same without steer's XDP program ==="
"$top/lab/story.sh" --keep --xdp off --csv "$demo/host-off" | tee -a "$results"
echo
echo "=== summary ==="
printf '%-8s %-6s %-22s %-22s %s\n' steer family "TCP survived" "UDP kept their host" "longest gap"
grep '^RESULT' "$results" | while read -r line; do
	f()
	{
		echo "$line" | tr ' ' '\n' | sed -n "s/^$1=//p"
	}
	printf '%-8s v%-5s %-22s %-22s %s ms\n' "$(f xdp)" "$(f family)" \
		"$(f survived)/$(f tcp)" "$(($(f udp) - $(f udp_moved)))/$(f udp)" \
		"$(f longest_gap_ms)"
done
lab_down >/dev/null

echo
echo "=== cell mode: replication 2, a backend added, a cell killed and back, an ingress node out ==="
"$top/lab/story_cell.sh" --rf 2 --restart 2 --csv "$demo/cell" | tee "$results"
echo
echo "=== summary (cell mode) ==="
printf '%-6s %-22s %-22s %-12s %s\n' family "TCP survived" "UDP kept their backend" "longest gap" "every cell knew of the kill"
grep '^RESULT' "$results" | while read -r line; do
	f()
	{
		echo "$line" | tr ' ' '\n' | sed -n "s/^$1=//p"
	}
	printf 'v%-5s %-22s %-22s %-12s %s\n' "$(f family)" \
		"$(f survived)/$(f tcp)" "$(($(f udp_survived) - $(f udp_moved)))/$(f udp)" \
		"$(f longest_gap_ms) ms" "after $(f death_known_ms) ms"
done
rm -f "$results"

echo
echo "=== the header cache's story: h1 drained by its forecast, h5 joins, a steerd killed (with hints, without, flooding) ==="
mkdir -p "$demo/migration"
bash "$top/bench/lab/migration_story.sh" --conns 100 --seconds 50 \
	--out "$demo/migration" | tee "$demo/migration/figures.txt" |
	grep -E '^(migration_sessions_survived_pct|migration_first_packet_(direct|cached)_pct|ownership_bytes_per_node_s)_' || true

echo
echo "=== a live cell's metrics and status page ==="
STEER_LAB_SHOT=$demo/status.png bash "$top/tests/lab/test_metrics.sh"
echo
echo "=== the report ==="
python3 "$top/scripts/report.py" "$demo" \
	"$demo/host-on=host mode, steer on" "$demo/host-off=host mode, steer off" \
	"$demo/cell=cell mode, replication 2" --shot "$demo/status.png" \
	--migration "$demo/migration=The header cache's story"

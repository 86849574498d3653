#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Benchmark: the failover gap of live connections in cell mode. Runs the
# cell story of the lab (lab/story_cell.sh: K TCP + U UDP sessions per
# family, then at once a backend added, one cell's steerd killed with -9
# and a fast-path node out of ECMP) RUNS times per replication factor and
# prints, one figure a line as `name value unit`, the longest gap of each
# TCP connection through the change as p50 / p99 / max, and the share of
# sessions that survived. Root (namespaces, XDP); the story builds and
# tears down its own lab.
#
#   sudo bash bench/lab/failover.sh [--rf "2 1"] [--runs 3] [--conns 300]
#                                   [--restart S] [--load]
# --restart: the killed cell starts again S s after the events (the
# story's --restart); the figures then cover its return too. --load: both
# cores kept busy by CPU burners through every story (the story's
# --load); the figures' names then end in _loaded. Also printed: how long
# after the kill every live cell knew of it (p50 and max over the runs).
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
rfs="2 1"
runs=3
conns=300
restart=0
load=
sfx=
while [ $# -gt 0 ]; do
	case $1 in
	--rf) rfs=$2; shift 2 ;;
	--runs) runs=$2; shift 2 ;;
	--conns) conns=$2; shift 2 ;;
	--restart) restart=$2; shift 2 ;;
	--load) load=--load; sfx=_loaded; shift ;;
	*) echo "usage: $0 [--rf \"2 1\"] [--runs N] [--conns K] [--restart S] [--load]" >&2; exit 2 ;;
	esac
done
[ "$(id -u)" = 0 ] || { echo "failover: needs root (the lab)" >&2; exit 77; }
tmp=$(mktemp -d /tmp/st-failover.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
for rf in $rfs; do
	for ((r = 1; r <= runs; r++)); do
		mkdir -p "$tmp/rf$rf/$r"
		"$top/lab/story_cell.sh" --rf "$rf" --conns "$conns" \
			--restart "$restart" --csv "$tmp/rf$rf/$r" $load \
			>"$tmp/rf$rf/$r.log" 2>&1 ||
			{ echo "failover: story (rf $rf, run $r) failed:" >&2
			  tail -5 "$tmp/rf$rf/$r.log" >&2; exit 1; }
	done
	python3 - "$tmp/rf$rf" "$rf$sfx" <<'PY'
import csv, glob, re, sys
d, rf = sys.argv[1], sys.argv[2]
gaps, tcp, tcp_ok, udp, udp_ok = [], 0, 0, 0, 0
for f in glob.glob(d + "/*/v*.csv"):
    for row in csv.DictReader(open(f)):
        ok = row["state"] == "survived"
        if row["proto"] == "udp":
            udp += 1
            udp_ok += ok and row["host_changes"] == "0"
            continue
        tcp += 1
        tcp_ok += ok
        if ok:
            gaps.append(float(row["longest_gap_ms"]))
gaps.sort()
def pct(p):
    return gaps[min(len(gaps) - 1, int(p * len(gaps)))] if gaps else 0.0
print("failover_rf%s_tcp_connections %d conns" % (rf, tcp))
print("failover_rf%s_tcp_survived %.2f %%" % (rf, 100.0 * tcp_ok / max(tcp, 1)))
print("failover_rf%s_udp_kept_backend %.2f %%" % (rf, 100.0 * udp_ok / max(udp, 1)))
print("failover_rf%s_gap_p50 %.1f ms" % (rf, pct(0.50)))
print("failover_rf%s_gap_p99 %.1f ms" % (rf, pct(0.99)))
print("failover_rf%s_gap_max %.1f ms" % (rf, gaps[-1] if gaps else 0.0))
known = sorted(int(m) for f in glob.glob(d + "/*.log")
               for m in re.findall(r"death_known_ms=(-?\d+)", open(f).read())[:1])
if known:
    print("failover_rf%s_death_known_p50 %d ms" % (rf, known[len(known) // 2]))
    print("failover_rf%s_death_known_max %d ms" % (rf, known[-1]))
PY
done

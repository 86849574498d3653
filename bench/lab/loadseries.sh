#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Forecasting on load steer itself records: the host-mode lab under a
# replayed real workload, each node's load series as its steerd samples
# them (one a second: CPU, memory, bandwidth received, sessions, new
# sessions per second), then steer-forecast's evaluation of every model on
# them, with plots of forecast against actual. The lab's nodes are
# namespaces of one kernel: memory is the machine's, the same for all
# five; CPU is each node's server cgroup's share of the machine
# ('cpu-load cgroup'); bandwidth and sessions are each node's own.
#
# The workload (steer-workload): new TCP connections to the service at a
# Poisson rate shaped by a real link-load series (default Cortez A1H, one
# hour of it per second of lab time, so a day lasts 24 s: the season),
# each carrying a flow size drawn from a published distribution (default
# the web-search CDF), scaled down for a lab of namespaces on 2 CPUs.
# The router spreads the connections over the five nodes (ECMP).
#
# Output in --out DIR (default build/loadseries): hK_SERIES.txt (the
# series), mase.txt (steer-forecast's lines), paths/ and plots/ (PNG,
# gnuplot: the series with the h = 1 and h = 12 forecasts of the models
# at each evaluation origin), workload.csv (connections started per
# step). Summary lines `loadseries_* value unit` on stdout.
#
#   sudo bash bench/lab/loadseries.sh [--seconds S] [--rate R]
#        [--shape FILE] [--sizes FILE] [--out DIR] [--models LIST]
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
secs=660
rate=40
data=${STEER_DATA_DIR:-$top/tests/data}
shape=$data/workloads/link_load/tsdl_cortez_A1H.txt
sizes=$data/workloads/flow_size_cdfs/hpcc_WebSearch_distribution.txt
out=$top/build/loadseries
models=naive,snaive,holt,hw,arima,auto
while [ $# -gt 0 ]; do
	case $1 in
	--seconds) secs=$2; shift 2 ;;
	--rate) rate=$2; shift 2 ;;
	--shape) shape=$2; shift 2 ;;
	--sizes) sizes=$2; shift 2 ;;
	--out) out=$2; shift 2 ;;
	--models) models=$2; shift 2 ;;
	*) echo "usage: $0 [--seconds S] [--rate R] [--shape FILE] [--sizes FILE] [--out DIR] [--models LIST]" >&2
	   exit 2 ;;
	esac
done
[ "$(id -u)" = 0 ] || { echo "loadseries: needs root (the lab)" >&2; exit 77; }
[ "$secs" -ge 200 ] || { echo "loadseries: --seconds below 200 leaves nothing to evaluate" >&2; exit 2; }
# shellcheck source=lab/lib.sh
. "$top/lab/lib.sh"
export STEER_LAB_KIND=host
lab_init || exit 1
lab_claim || exit 1
trap 'lab_down >/dev/null 2>&1' EXIT
trap 'exit 1' INT TERM
mkdir -p "$out/paths" "$out/plots" || exit 1
rm -f "$out"/dump-* "$out"/h*_*.txt "$out"/paths/* "$out"/plots/*
lab_up >/dev/null || { echo "loadseries: the lab does not build" >&2; exit 1; }
lab_config_write_all || exit 1
# Each node's CPU is its own server's (its cgroup's share of the
# machine), not the machine's: the nodes share one kernel.
for ((k = 1; k <= LAB_HOSTS; k++)); do
	echo "cpu-load cgroup" >>"$(lab_steerd_conf_path $k)"
done
lab_ecmp_reset multipath 0 >/dev/null || exit 1
for ((k = LAB_N + 1; k <= LAB_HOSTS; k++)); do # every node takes traffic
	lab_ecmp_add $k >/dev/null || exit 1
done
lab_echo_start_all && lab_steerd_start_all || exit 1
bin=$(lab_bin)

# Every node's series as kept now (the last 600 samples); taken every
# 5 minutes, so a longer run is joined from the dumps by sample number.
dump()
{
	local k

	for ((k = 1; k <= LAB_HOSTS; k++)); do
		lab_steerctl $k -j forecast series >"$out/dump-h$k-$1.json" 2>/dev/null
	done
}

lab_exec $LAB_CLIENT "$bin/steer-workload" --target "$LAB_VIP4" \
	--port "$LAB_PORT" --shape "$shape" --sizes "$sizes" --rate "$rate" \
	--scale 200 --max-bytes 65536 --max-conns 512 --duration "$secs" \
	--csv "$out/workload.csv" >"$out/workload.txt" 2>&1 &
wl=$!
for ((t = 0; t < secs; t += 300)); do
	sleep $((secs - t < 300 ? secs - t : 300))
	dump "$t"
done
wait "$wl"
dump end
cat "$out/workload.txt"

# Join the dumps: hK_SERIES.txt, one value a line, from sample 0 on.
python3 - "$out" "$LAB_HOSTS" <<'PY' || exit 1
import glob, json, os, sys
out, hosts = sys.argv[1], int(sys.argv[2])
for k in range(1, hosts + 1):
    got = {}
    for f in sorted(glob.glob(os.path.join(out, "dump-h%d-*.json" % k))):
        try:
            d = json.load(open(f))
        except ValueError:
            continue
        d = d.get("result", d)
        for s in d.get("series", []):
            vals = got.setdefault(s["series"], {})
            for i, v in enumerate(s["values"]):
                vals[s["first"] + i] = v
    for name, vals in got.items():
        if not vals:
            continue
        lo, hi = min(vals), max(vals)
        with open(os.path.join(out, "h%d_%s.txt" % (k, name)), "w") as f:
            # A sample a dump missed (none when dumps overlap): the last.
            last = vals[lo]
            for i in range(lo, hi + 1):
                last = vals.get(i, last)
                f.write("%.6g\n" % last)
PY

# The evaluation: every model, season 24 (a day of the shape).
files=$(ls "$out"/h*_cpu_permille.txt "$out"/h*_rx_bps.txt \
	"$out"/h*_new_sessions_per_s.txt 2>/dev/null)
[ -n "$files" ] || { echo "loadseries: no series recorded" >&2; exit 1; }
# shellcheck disable=SC2086
"$bin/steer-forecast" --models "$models" --season 24 --horizons 1,6,12,24 \
	--paths "$out/paths" $files >"$out/mase.txt" ||
	echo "loadseries: a series could not be evaluated (above); the others were" >&2

# Geometric mean over the series and horizons of each model's MASE over
# the better of naive and seasonal naive, as docs/forecasting.md reports.
python3 - "$out/mase.txt" <<'PY'
import collections, math, sys
m = collections.defaultdict(dict)
for l in open(sys.argv[1]):
    f = l.split()
    if f[0] == "mase":
        m[(f[1], int(f[2]))][f[3]] = float(f[4])
ratios = collections.defaultdict(list)
for row, v in m.items():
    base = min(v.get("naive", math.inf), v.get("snaive", math.inf))
    if not (0 < base < math.inf):
        continue
    for model, x in v.items():
        if x > 0:
            ratios[model].append(x / base)
for model in sorted(ratios):
    r = ratios[model]
    print("loadseries_%s_geomean %.3f ratio_to_naive (%d rows)" %
          (model, math.exp(sum(map(math.log, r)) / len(r)), len(r)))
PY

# Plots: per series, the actual values and the h = 1 and h = 12 forecasts
# of auto's usual picks and naive at the evaluation origins.
if command -v gnuplot >/dev/null; then
	for dat in "$out"/paths/*_naive.dat; do
		s=$(basename "$dat" _naive.dat)
		src="$out/$s.txt"
		n=$(wc -l <"$src")
		gnuplot <<EOF 2>/dev/null
set terminal pngcairo size 1000,420 noenhanced
set output "$out/plots/$s.png"
set xrange [$((n > 240 ? n - 240 : 0)):$n]
set title "$s: recorded (1 sample/s), the last 240 s, and forecasts made at each evaluation origin"
set xlabel "sample"
set key outside right
plot "$src" using 0:1 with lines lc rgb "#888888" title "recorded", \
     "$out/paths/${s}_hw.dat" using (\$1==1?\$2:1/0):4 with points pt 7 ps 0.5 lc rgb "#1f77b4" title "hw h=1", \
     "$out/paths/${s}_arima.dat" using (\$1==12?\$2:1/0):4 with points pt 5 ps 0.5 lc rgb "#d62728" title "arima h=12", \
     "$dat" using (\$1==12?\$2:1/0):4 with points pt 2 ps 0.5 lc rgb "#2ca02c" title "naive h=12"
EOF
	done
	echo "loadseries_plots $(ls "$out"/plots/*.png 2>/dev/null | wc -l) png"
else
	echo "loadseries: gnuplot not installed (scripts/deps.sh installs it): no plots" >&2
fi
echo "loadseries_series $(echo "$files" | wc -w) files"

#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The migration score (src/predict/migrate.c) calibrated on a recorded lab
# run. Host mode, every node with 'cpu-load cgroup' (its echo server's CPU
# share of the machine), 'auto-drain on' and a high-water mark of HW
# permille. K TCP connections run through the VIP for S seconds; from
# second 20 a CPU burner runs inside h1's server cgroup, a second from
# second 35. Every second each node's `steerctl migrations` (its sessions'
# scores) and `drain status` are recorded. A session migrates when its
# node drains while it lives (its packets then arrive elsewhere); it is
# predicted when its score reached 0.5 at least 1 s before that. Prints,
# as `name value unit`:
#   migration_drains            nodes the forecast drained
#   migration_precision         predicted sessions that migrated
#   migration_recall            migrated sessions predicted >= 1 s ahead
#   migration_lead_ms           median time from prediction to migration
#   migration_sessions_survived_pct
#
#   sudo bash bench/lab/migrations.sh [--seconds S] [--conns K] [--hw HW]
#                                     [--out DIR]
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
secs=100
conns=100
hw=300
out=$top/build/migrations
while [ $# -gt 0 ]; do
	case $1 in
	--seconds) secs=$2; shift 2 ;;
	--conns) conns=$2; shift 2 ;;
	--hw) hw=$2; shift 2 ;;
	--out) out=$2; shift 2 ;;
	*) echo "usage: $0 [--seconds S] [--conns K] [--hw HW] [--out DIR]" >&2
	   exit 2 ;;
	esac
done
[ "$(id -u)" = 0 ] || { echo "migrations: needs root (the lab)" >&2; exit 77; }
[ "$secs" -ge 60 ] || { echo "migrations: --seconds below 60 leaves no time to drain" >&2; exit 2; }
# shellcheck source=lab/lib.sh
. "$top/lab/lib.sh"
export STEER_LAB_KIND=host
lab_init || exit 1
lab_claim || exit 1
burners=()
cleanup()
{
	local p

	for p in "${burners[@]}"; do
		kill "$p" 2>/dev/null
	done
	[ -z "${traffic:-}" ] || kill -KILL "$traffic" 2>/dev/null
	lab_down >/dev/null 2>&1
}
trap cleanup EXIT
trap 'exit 1' INT TERM
mkdir -p "$out" || exit 1
rm -rf "${out:?}"/rec && mkdir -p "$out/rec" || exit 1
lab_up >/dev/null || { echo "migrations: the lab does not build" >&2; exit 1; }
lab_config_write_all || exit 1
for ((k = 1; k <= LAB_HOSTS; k++)); do
	printf 'cpu-load cgroup\nauto-drain on\nhigh-water %d\nlow-water %d\n' \
		"$hw" $((hw / 3)) >>"$(lab_steerd_conf_path $k)"
done
lab_ecmp_reset multipath 0 >/dev/null || exit 1
lab_echo_start_all && lab_steerd_start_all || exit 1
sleep 1

# A CPU burner inside host k's server cgroup, for s seconds.
burn_in()
{
	timeout "$2" bash -c 'while :; do :; done' &
	burners+=($!)
	echo $! >"$LAB_CG/echo-h$1/cgroup.procs"
}

bin=$(lab_bin)
lab_exec $LAB_CLIENT "$bin/steer-traffic" --target "$LAB_VIP4" \
	--port "$LAB_PORT" --conns "$conns" --udp 0 --interval 100 \
	--duration "$secs" --connect-timeout 10 --stall 2000 \
	--ready "$out/ready" --csv "$out/traffic.csv" >"$out/traffic.txt" 2>&1 &
traffic=$!
for ((i = 0; i < 200; i++)); do
	[ -e "$out/ready" ] && break
	sleep 0.05
done
[ -e "$out/ready" ] || { echo "migrations: the connections do not open" >&2; exit 1; }
t0=$(date +%s%N)
for ((t = 0; t < secs - 5; t++)); do
	[ $t = 20 ] && burn_in 1 $((secs - 20))
	[ $t = 35 ] && burn_in 1 $((secs - 35))
	for ((k = 1; k <= LAB_HOSTS; k++)); do
		lab_steerctl $k -j migrations all >"$out/rec/mig-$k-$t.json" 2>/dev/null
		lab_steerctl $k -j drain status >"$out/rec/drain-$k-$t.json" 2>/dev/null
	done
	# One round a second, whatever the round took.
	next=$((t0 + (t + 1) * 1000000000))
	now=$(date +%s%N)
	[ "$now" -ge "$next" ] || sleep "$(printf '0.%09d' $((next - now)))"
done
wait "$traffic"
traffic=
cat "$out/traffic.txt"

python3 "$top/bench/lab/migscore.py" "$out" "$LAB_HOSTS" "$secs" --plot 1
python3 - "$out" <<'PY'
import csv, os, sys
rows = list(csv.DictReader(open(os.path.join(sys.argv[1], "traffic.csv"))))
alive = sum(r["state"] == "survived" for r in rows if r["proto"] == "tcp")
total = sum(r["proto"] == "tcp" for r in rows)
print("migration_sessions_survived_pct %.1f pct" % (100.0 * alive / total if total else 0))
PY
if command -v gnuplot >/dev/null; then
	gnuplot <<GP
set terminal pngcairo size 900,420
set output "$out/migrations_h1.png"
set title "h1: CPU forecast 60 s ahead, its sessions' top migration score, drained"
set xlabel "seconds (CPU burners in h1's cgroup from 20 s and 35 s)"
set ylabel "permille"
set yrange [0:1100]
set key bottom right
plot "$out/h1.dat" using 1:2 with steps lw 2 title "forecast CPU", \
     "$out/h1.dat" using 1:3 with steps lw 2 title "top score x 1000", \
     "$out/h1.dat" using 1:4 with steps lw 2 title "drained", \
     $hw with lines dt 2 title "high-water"
GP
else
	echo "migrations: gnuplot not installed (scripts/deps.sh installs it): no plot" >&2
fi

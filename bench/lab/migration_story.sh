#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The migration story of the header cache, whole, in the host-mode lab.
# Per family (IPv4 and IPv6) K long-lived TCP connections and U UDP
# flows run through the VIP for S seconds, beside a replayed real
# workload (steer-workload: short TCP connections arriving at a rate
# shaped by the Cortez A1H link-load series, sizes from the web-search
# CDF). Every node takes its CPU load from its server's cgroup, with
# auto-drain on. Then, in one run:
#   1. two CPU burners run in h1's server cgroup (both cores busy) until
#      its forecast crosses the high-water mark and the rebalancer drains
#      it (its drain-hook takes it out of the router's route): h1's
#      sessions arrive at the other nodes (predicted migrations);
#   2. 6 s later the operator undrains h5 (drained since the start): with
#      hints on it first says it joins and the owners hint it all their
#      sessions (join-warmup, 3 s), then its drain-hook adds it to the
#      route and the router moves some buckets to it (which sessions is
#      the router's hash: nobody can predict them one by one);
#   3. 8 s after that h3's steerd is killed (-9) and started again 1 s
#      later.
# The same story in three modes:
#   directory_hints  ownership by directory, hints and the header cache
#   directory        ownership by directory, no hints (prediction off)
#   flood            every node holds every record, no hints
# Every node's link is captured on its far side (dumpcap, headers only);
# steer-pathlat follows each service packet from the node the router gave
# it to the node that took it.
#
# Prints, as `name value unit`, per mode (suffix _MODE):
#   migration_sessions_survived_pct   long-lived TCP and UDP, both families
#   migration_workload_answered_pct   the replayed workload's connections
#   migration_first_packet_direct_pct of the first packets at a new
#       ingress, those the ingress sent straight to the owner (a cached
#       template, a taught or flooded rule) rather than through a home;
#       _drain and _join: of the migrations each event caused
#   migration_first_packet_cached_pct of those first packets, the ones
#       sent from a cached template (their GUE carried the hint flag);
#       _drain and _join as above
#   migration_first_{direct,rerouted}_{p50,p99}_us  extra latency of a
#       migrated session's first packet on each path (from the ingress to
#       the owner, on one clock)
#   migration_first_lost             first packets that never reached
#       the owner
#   ownership_bytes_per_node_s        gossip bytes a node sent per second
#       beyond the same cluster idle (records, refreshes, teaching, hints)
#   ownership_records_per_node, ownership_memory_per_node_bytes
#   migration_precision, migration_recall, migration_lead_ms  (the drain)
#
#   sudo bash bench/lab/migration_story.sh [--conns K] [--udp U]
#        [--seconds S] [--rate R] [--hw HW] [--modes LIST] [--out DIR]
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
conns=200
udp=10
secs=60
rate=20
hw=300
modes=directory_hints,directory,flood
out=$top/build/migration_story
while [ $# -gt 0 ]; do
	case $1 in
	--conns) conns=$2; shift 2 ;;
	--udp) udp=$2; shift 2 ;;
	--seconds) secs=$2; shift 2 ;;
	--rate) rate=$2; shift 2 ;;
	--hw) hw=$2; shift 2 ;;
	--modes) modes=$2; shift 2 ;;
	--out) out=$2; shift 2 ;;
	*) echo "usage: $0 [--conns K] [--udp U] [--seconds S] [--rate R] [--hw HW] [--modes LIST] [--out DIR]" >&2
	   exit 2 ;;
	esac
done
[ "$(id -u)" = 0 ] || { echo "migration_story: needs root (the lab)" >&2; exit 77; }
[ "$secs" -ge 50 ] || { echo "migration_story: --seconds below 50 leaves no room for the story" >&2; exit 2; }
command -v dumpcap >/dev/null || { echo "migration_story: dumpcap missing (scripts/deps.sh installs tshark)" >&2; exit 1; }
# shellcheck source=lab/lib.sh
. "$top/lab/lib.sh"
export STEER_LAB_KIND=host
STEER_LAB_ECMP=resilient lab_init || exit 1
lab_claim || { echo "migration_story: cannot start from a clean lab" >&2; exit 1; }
pids=()
cleanup()
{
	local p

	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null
	done
	lab_down >/dev/null 2>&1
}
trap cleanup EXIT
trap 'exit 1' INT TERM
mkdir -p "$out" || exit 1
lab_up >/dev/null || { echo "migration_story: the lab does not build" >&2; exit 1; }
bin=$(lab_bin)
data=${STEER_DATA_DIR:-$top/tests/data}
joiner=$LAB_HOSTS # the node behind the router joins
restarted=3

# Every node's counters, gossip bytes out summed: FILE PREFIX.
snapshot()
{
	local k

	for ((k = 1; k <= LAB_HOSTS; k++)); do
		lab_steerctl $k -j counters >"$1-$k.json" 2>/dev/null
		lab_steerctl $k -j cache >"$1-cache-$k.json" 2>/dev/null
	done
}

# dumpcap on the far side of node k's link, frames to it only.
capture()
{
	local k=$1 ns dev

	if lab_is_remote $k; then
		ns=$LAB_ROUTER
		dev=$(lab_gw_dev $k)
	else
		ns=$LAB_LAN
		dev=${LAB_P}l$k
	fi
	ip netns exec "$ns" dumpcap -q -i "$dev" -s 192 -B 64 \
		-f "ether dst $(lab_host_mac $k)" -a "duration:$((secs + 15))" \
		-w "$run/cap-h$k.pcapng" >"$run/dumpcap-h$k.log" 2>&1 &
	caps+=($!)
	pids+=($!)
}

burn_h1()
{
	local i

	for ((i = 0; i < $(nproc); i++)); do
		timeout "$1" bash -c 'while :; do :; done' &
		pids+=($!)
		echo $! >"$LAB_CG/echo-h1/cgroup.procs"
	done
}

traffic()
{
	local fam=$1 vip=$2

	lab_exec $LAB_CLIENT "$bin/steer-traffic" --target "$vip" \
		--port "$LAB_PORT" --conns "$conns" --udp "$udp" \
		--interval 100 --duration "$secs" --connect-timeout 10 \
		--stall 2000 --ready "$run/ready$fam" --csv "$run/$fam.csv" \
		>"$run/$fam.txt" 2>"$run/$fam.err" &
	flows+=($!)
	pids+=($!)
}

# The story's timeline, one round a second; writes $run/events.
story()
{
	local t t0 next now k drained=-1 joined=-1 killed=-1

	t0=$(date +%s%N)
	echo "$t0" >"$run/t_story0"
	burn_h1 $((secs - 5))
	for ((t = 0; t < secs - 5; t++)); do
		for ((k = 1; k <= LAB_HOSTS; k++)); do
			lab_steerctl $k -j migrations all >"$run/rec/mig-$k-$t.json" 2>/dev/null
			lab_steerctl $k -j drain status >"$run/rec/drain-$k-$t.json" 2>/dev/null
		done
		if [ $drained -lt 0 ] && grep -q '"drained": *true' "$run/rec/drain-1-$t.json"; then
			drained=$t
			# The route changed when the drain-hook ran.
			awk '$1 == "drain" && $2 == 1 { print "drain", $3; exit }' \
				"$LAB_STATE/drain_hook.log" >>"$run/events"
		fi
		if [ $drained -lt 0 ] && [ $t = $((secs - 25)) ]; then
			# The forecast did not drain it in time: the operator does.
			lab_steerctl 1 drain >/dev/null 2>&1
			touch "$run/forced"
		fi
		if [ $drained -ge 0 ] && [ $joined -lt 0 ] && [ $t = $((drained + 6)) ]; then
			# The operator undrains h5; with hints on it warms up
			# first (join-warmup), then its drain-hook adds it.
			lab_steerctl $joiner undrain >/dev/null 2>&1 ||
				echo "migration_story: h$joiner did not undrain" >&2
			joined=$t
		fi
		if [ $joined -ge 0 ] && [ ! -e "$run/joined" ] &&
			awk -v k=$joiner '$1 == "undrain" && $2 == k { print "join", $3; f = 1; exit } END { exit !f }' \
				"$LAB_STATE/drain_hook.log" >>"$run/events"; then
			touch "$run/joined"
		fi
		if [ $joined -ge 0 ] && [ $killed -lt 0 ] && [ $t = $((joined + 8)) ]; then
			echo "restart $(date +%s.%N)" >>"$run/events"
			lab_crash steerd-h$restarted
			sleep 1
			lab_steerd_start $restarted || echo "migration_story: h$restarted's steerd did not start again" >&2
			killed=$t
		fi
		next=$((t0 + (t + 1) * 1000000000))
		now=$(date +%s%N)
		[ "$now" -ge "$next" ] || sleep "$(printf '0.%09d' $((next - now)))"
	done
}

run()
{
	local mode=$1 own=$2 hints=$3 k i

	run=$out/$mode
	rm -rf "$run" && mkdir -p "$run/rec" || return 1
	export STEER_LAB_OWNERSHIP=$own STEER_LAB_HINTS=$hints
	lab_steerd_stop_all
	lab_echo_stop_all
	rm -rf "$LAB_STATE"/h*/cache # each run's cache starts empty
	lab_config_write_all || return 1
	for ((k = 1; k <= LAB_HOSTS; k++)); do
		printf 'cpu-load cgroup\nauto-drain on\nhigh-water %d\nlow-water %d\n' \
			"$hw" $((hw / 3)) >>"$(lab_steerd_conf_path $k)"
	done
	lab_ecmp_reset resilient 0 >/dev/null || return 1
	rm -f "$LAB_STATE/drain_hook.log"
	lab_echo_start_all && lab_steerd_start_all || return 1
	# h5 is out of the route until it joins: drained, as an operator
	# keeps a node out of the ingress set.
	lab_steerctl $joiner drain >/dev/null || return 1
	sleep 2 # gossip's joins
	date +%s.%N >"$run/t_idle0"
	snapshot "$run/idle0"
	sleep 4
	date +%s.%N >"$run/t_idle1"
	snapshot "$run/idle1"
	caps=()
	for ((k = 1; k <= LAB_HOSTS; k++)); do
		capture $k
	done
	sleep 1
	date +%s.%N >"$run/t_begin"
	snapshot "$run/begin"
	flows=()
	traffic v4 "$LAB_VIP4"
	traffic v6 "$LAB_VIP6"
	lab_exec $LAB_CLIENT "$bin/steer-workload" --target "$LAB_VIP4" \
		--port "$LAB_PORT" \
		--shape "$data/workloads/link_load/tsdl_cortez_A1H.txt" \
		--sizes "$data/workloads/flow_size_cdfs/hpcc_WebSearch_distribution.txt" \
		--rate "$rate" --scale 200 --max-bytes 65536 --max-conns 256 \
		--duration "$secs" >"$run/workload.txt" 2>&1 &
	flows+=($!)
	pids+=($!)
	for ((i = 0; i < 300; i++)); do
		[ -e "$run/readyv4" ] && [ -e "$run/readyv6" ] && break
		sleep 0.05
	done
	story
	# h1's CPU series, for the plot of its forecast against its load.
	lab_steerctl 1 -j forecast series >"$run/fc-series-1.json" 2>/dev/null
	date +%s.%N >"$run/t_fcseries"
	wait "${flows[@]}" 2>/dev/null
	date +%s.%N >"$run/t_end"
	snapshot "$run/end"
	kill "${caps[@]}" 2>/dev/null
	wait "${pids[@]}" 2>/dev/null
	pids=()
	figures "$mode"
	lab_steerctl 1 undrain >/dev/null 2>&1
}

figures()
{
	local mode=$1 k pts=()

	for ((k = 1; k <= LAB_HOSTS; k++)); do
		pts+=("h$k=$(lab_host_mac $k)@$run/cap-h$k.pcapng")
	done
	"$bin/steer-pathlat" --port "$LAB_PORT" --csv "$run/paths.csv" \
		"${pts[@]}" >"$run/pathlat.txt" || echo "migration_story: steer-pathlat failed" >&2
	python3 "$top/bench/lab/migscore.py" "$run" "$LAB_HOSTS" $((secs - 5)) \
		--suffix "_$mode" --plot 1
	python3 "$top/bench/lab/story_figures.py" "$run" "$mode" "$LAB_HOSTS"
}

IFS=, read -r -a list <<<"$modes"
for m in "${list[@]}"; do
	case $m in
	directory_hints) run "$m" directory on ;;
	directory) run "$m" directory off ;;
	flood) run "$m" flood off ;;
	*) echo "migration_story: unknown mode '$m'" >&2; exit 2 ;;
	esac
done

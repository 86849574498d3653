#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Migration hints and the header cache in the lab (host mode). K TCP
# connections and U UDP flows run through the VIP (IPv4) for 20 s; at
# second 5 the operator drains h1 (its drain-hook takes it out of the
# router's route), so every session h1 holds starts arriving at the
# other hosts. Three modes, the same story:
#   directory_hints   ownership by directory, hints on: h1 hints its
#                     sessions to the others as it drains
#   directory         ownership by directory, hints off: a migrated
#                     session's first packets go through its home,
#                     which teaches the new ingress
#   flood             every node knows every session (hints are moot)
# Prints, as `name value unit`, per mode:
#   migration_sessions_survived_pct_MODE   TCP and UDP, all hosts
#   migration_first_packet_cached_pct_MODE of h1's sessions that arrived
#       elsewhere, the share whose packets there met a cached template
#       rather than the path through the home: the owner's reports of
#       packets from a header cache (each teaches the ingress the record,
#       once a second per flow) against the homes' teach reports
#   migration_cached_packets_MODE          packets sent from cached
#                                          templates, all hosts
#   migration_rerouted_packets_MODE        packets sent to a home
#   migration_hints_sent_MODE              hint sends by h1
#   migration_gap_p50_ms_MODE, migration_gap_p99_ms_MODE  over h1's
#       flows (those that migrated), each flow's longest wait for an echo
#       (steer-traffic: a request every 100 ms, the wait of the one that
#       crossed the migration included); _unmoved: the other hosts' flows
#   ownership_records_per_node_MODE        session records a node holds
#   gossip_datagrams_per_node_s_MODE       gossip datagrams a node sent
#                                          per second, all kinds
#
# With --ecmp resilient (the default) the router's next-hop group moves
# only h1's flows; with multipath (hash-threshold) removing a next hop
# moves about half of every host's flows too, migrations nobody predicts
# (their owners are not drained), which count in the denominator.
#
#   sudo bash bench/lab/hints.sh [--conns K] [--udp U]
#                                [--ecmp resilient|multipath]
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
conns=100
udp=10
ecmp=resilient
while [ $# -gt 0 ]; do
	case $1 in
	--conns) conns=$2; shift 2 ;;
	--udp) udp=$2; shift 2 ;;
	--ecmp) ecmp=$2; shift 2 ;;
	*) echo "usage: $0 [--conns K] [--udp U] [--ecmp resilient|multipath]" >&2
	   exit 2 ;;
	esac
done
[ "$(id -u)" = 0 ] || { echo "hints: needs root (the lab)" >&2; exit 77; }
# shellcheck source=lab/lib.sh
. "$top/lab/lib.sh"
lab_mode_check "$ecmp" || exit 2
STEER_LAB_ECMP=$ecmp lab_init || exit 1
lab_claim || { echo "hints: cannot start from a clean lab" >&2; exit 1; }
out=$(mktemp -d /tmp/st-hints.XXXXXX) || exit 1
traffic=
cleanup()
{
	[ -z "$traffic" ] || kill -KILL "$traffic" 2>/dev/null
	lab_down
	rm -rf "$out"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
lab_up >/dev/null || { echo "hints: the lab does not build" >&2; exit 1; }

# The figures of one run, from the traffic's account and every host's
# counters and cache.
figures()
{
	local mode=$1 k

	for ((k = 1; k <= LAB_HOSTS; k++)); do
		lab_steerctl $k -j counters >"$out/counters$k.json" 2>/dev/null
		lab_steerctl $k -j cache >"$out/cache$k.json" 2>/dev/null
	done
	python3 - "$mode" "$out" "$LAB_HOSTS" "$secs" <<'EOF2'
import csv, json, sys
mode, out, hosts, secs = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
def load(name):
    try:
        return json.load(open(f"{out}/{name}"))
    except (OSError, ValueError):
        return {}
hits = taught = cached = rerouted = records = dgrams = 0
for k in range(1, hosts + 1):
    c, ca = load(f"counters{k}.json"), load(f"cache{k}.json")
    records += c.get("gossip", {}).get("records", 0)
    dgrams += c.get("gossip", {}).get("datagrams_out", 0)
    taught += c.get("host", {}).get("teach_reports", 0)
    hits += c.get("host", {}).get("hint_teach_reports", 0)
    rerouted += c.get("xdp", {}).get("dir_rerouted", 0)
    cached += c.get("xdp_action", {}).get("cached", 0)
sent = load("cache1.json").get("hints", {}).get("sent", 0)
conns = est = surv = flows = fsurv = 0
for line in open(f"{out}/v4.txt"):
    w = line.split()
    if w[:1] == ["connections"]:
        conns, surv = int(w[1]), int(w[5])
    if w[:1] == ["udp_flows"]:
        flows, fsurv = int(w[1]), int(w[3])
def pct_of(v, q):
    v = sorted(v)
    return v[min(len(v) - 1, int(q * len(v)))] if v else 0.0
moved, unmoved = [], []
for row in csv.DictReader(open(f"{out}/v4.csv")):
    (moved if row["first_host"] == "h1" else unmoved).append(
        float(row["longest_gap_ms"]))
total = conns + flows
pct = 100.0 * (surv + fsurv) / total if total else 0
cpct = 100.0 * hits / (hits + taught) if hits + taught else 0
for name, v, unit in (
        ("migration_sessions_survived_pct", pct, "%"),
        ("migration_first_packet_cached_pct", cpct, "%"),
        ("migration_cached_packets", cached, "packets"),
        ("migration_rerouted_packets", rerouted, "packets"),
        ("migration_hints_sent", sent, "hints"),
        ("migration_gap_p50_ms", pct_of(moved, 0.5), "ms"),
        ("migration_gap_p99_ms", pct_of(moved, 0.99), "ms"),
        ("migration_gap_p50_ms_unmoved", pct_of(unmoved, 0.5), "ms"),
        ("ownership_records_per_node", records / hosts, "records"),
        ("gossip_datagrams_per_node_s", dgrams / hosts / secs, "datagrams/s")):
    print(f"{name}_{mode:<18} {v:12.1f} {unit}")
EOF2
}

run()
{
	local mode=$1 own=$2 hints=$3 i t0

	export STEER_LAB_OWNERSHIP=$own STEER_LAB_HINTS=$hints
	lab_steerd_stop_all
	lab_echo_stop_all
	rm -rf "$LAB_STATE"/h*/cache # each run's cache starts empty
	lab_config_write_all || return 1
	lab_ecmp_reset "$ecmp" 0 >/dev/null || return 1
	lab_echo_start_all || return 1
	lab_steerd_start_all || return 1
	sleep 1 # gossip's joins
	rm -f "$out/ready"
	t0=$(date +%s)
	lab_exec $LAB_CLIENT "$(lab_bin)/steer-traffic" --target "$LAB_VIP4" \
		--port "$LAB_PORT" --conns "$conns" --udp "$udp" \
		--interval 100 --duration 20 --connect-timeout 10 \
		--stall 1500 --ready "$out/ready" --csv "$out/v4.csv" \
		>"$out/v4.txt" 2>"$out/v4.err" &
	traffic=$!
	for ((i = 0; i < 200; i++)); do
		[ -e "$out/ready" ] && break
		sleep 0.05
	done
	sleep 5
	lab_steerctl 1 drain >/dev/null 2>&1 || echo "hints: drain of h1 failed" >&2
	wait "$traffic"
	traffic=
	secs=$(($(date +%s) - t0))
	figures "$mode"
	lab_steerctl 1 undrain >/dev/null 2>&1
}

run directory_hints directory on
run directory directory off
run flood flood on

#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The flood story (cell mode, lab/topo.sh with STEER_LAB_KIND=cell): live
# TCP connections and UDP flows through the service while a SYN flood
# from random spoofed sources hits it and new legitimate connections keep
# arriving.
#
#   client --(K TCP + U UDP, IPv4: live; W/s new short connections;
#             a SYN flood from 198.19.128.0/17)--> ECMP router --> h1..h4
#   t0          every session established
#   t0+S        the flood (P SYNs a second for F s, bounded) and the new
#               connections (steer-workload, W a second for F s) start
#   t0+S+F+A    the traffic stops; every session reports survived or not
#
# The cluster runs 'flood-guard POLICY rate G burst G/10' (per core of
# each node): above G new flows a second a node's fast path makes no
# state for a flow (stateless: it sends it to the backend the cells'
# Maglev table names; drop: a SYN is dropped). --table N sets flow-table-size (XDP's and the cells'
# tables) small enough for the flood to fill the cells' tables, where a
# new flow is forwarded without state. The router sends the answers to
# the spoofed sources nowhere (a blackhole route, removed at the end).
#
# Usage: lab/story_flood.sh [--conns K] [--udp U] [--rate P] [--flood F]
#                           [--new W] [--policy stateless|drop|off]
#                           [--guard G] [--table N] [--settle S]
#                           [--after A] [--forge N] [--load] [--keep]
# Defaults: K 200, U 20, P 20000 (0: no flood, the baseline), F 6, W 40,
# stateless, G 2000, table auto, S 2, A 2. --load: one busy loop per CPU from before the sessions
# open to the end of the traffic. Prints an account, then
#   RESULT tcp=K established=E survived=V broken=B stalled=T udp=U
#          udp_survived=X udp_moved=M longest_gap_ms=G load=0|1
#   FLOOD policy=P sent=N rate=R guard_over=O guard_source_over=Q
#         guard_stateless=L guard_direct=I dropped=D cells_guarded=C
#         cells_full=X cells_table_full=Y cells_created=Z
#   NEW started=S done=D failed=F timed_out=T done_per_s=R
# (FLOOD's counters summed over the nodes). Builds the lab when it is
# down and tears down what it built (--keep leaves it up). Exit 0 when
# the story ran, 1 when it could not, 77 when not root.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lab/lib.sh
. "$here/lib.sh"

conns=200
udp=20
rate=20000
flood=6
new=40
policy=stateless
guard=2000
table=auto
settle=2
after=2
load=0
keep=0
forge=0
spoof=198.19.128.0/17
usage="usage: $0 [--conns K] [--udp U] [--rate P] [--flood F] [--new W] [--policy stateless|drop|off] [--guard G] [--table N] [--settle S] [--after A] [--forge N] [--load] [--keep]"
while [ $# -gt 0 ]; do
	case $1 in
	--conns) conns=$2; shift 2 ;;
	--udp) udp=$2; shift 2 ;;
	--rate) rate=$2; shift 2 ;;
	--flood) flood=$2; shift 2 ;;
	--new) new=$2; shift 2 ;;
	--policy) policy=$2; shift 2 ;;
	--guard) guard=$2; shift 2 ;;
	--table) table=$2; shift 2 ;;
	--settle) settle=$2; shift 2 ;;
	--after) after=$2; shift 2 ;;
	--forge) forge=$2; shift 2 ;;
	--load) load=1; shift ;;
	--keep) keep=1; shift ;;
	*) echo "$usage" >&2; exit 1 ;;
	esac
done
if [ "$(id -u)" != 0 ]; then
	echo "story: needs root (network namespaces, XDP, cgroups): skipped" >&2
	exit 77
fi
case $conns$udp$rate$flood$new$guard$settle$after$forge in
*[!0-9]*) echo "story: --conns, --udp, --rate, --flood, --new, --guard, --settle, --after, --forge expect numbers" >&2; exit 1 ;;
esac
case $policy in stateless | drop | off) ;; *) echo "$usage" >&2; exit 1 ;; esac
case $table in auto | [1-9]*) ;; *) echo "story: --table expects auto or a number" >&2; exit 1 ;; esac
[ "$flood" -ge 1 ] && [ "$flood" -le 60 ] || { echo "story: --flood expects 1..60 s" >&2; exit 1; }
[ "$guard" -ge 10 ] || { echo "story: --guard expects at least 10" >&2; exit 1; }

built_here=0
out=$(mktemp -d /tmp/st-story-flood.XXXXXX)
cleanup()
{
	local p

	for p in $(cat "$out/pids" 2>/dev/null); do
		kill -KILL "$p" 2>/dev/null
	done
	nsenter --net=/run/netns/$LAB_ROUTER -- ip route del blackhole $spoof 2>/dev/null
	if [ $built_here = 1 ] && [ $keep = 0 ]; then
		lab_down
	else
		lab_steerd_stop_all
		lab_echo_stop_all
	fi
	rm -rf "$out"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

lab_init || exit 1
if ! lab_built; then
	export STEER_LAB_KIND=cell STEER_LAB_BACKENDS=${STEER_LAB_BACKENDS:-3}
	lab_init || exit 1
	built_here=1
	lab_up >/dev/null || exit 1
fi
lab_init || exit 1
if [ "$LAB_KIND" != cell ]; then
	echo "story: the lab is up in $LAB_KIND mode; take it down first (lab/topo.sh down)" >&2
	exit 1
fi
export STEER_LAB_RF=2 STEER_LAB_FLOW_TABLE=$table
export STEER_LAB_FLOOD_GUARD="$policy rate $guard burst $((guard / 10))"
export STEER_LAB_BACKENDS_LISTED=$LAB_B
lab_config_write_all || exit 1
lab_ecmp_reset multipath 0 >/dev/null || exit 1
lab_steerd_stop_all
lab_echo_stop_all
lab_echo_start_all || exit 1
lab_steerd_start_all || exit 1
if ! lab_cells_wait "$LAB_HOSTS"; then
	echo "story: the cells do not see each other within 5 s" >&2
	exit 1
fi
nsenter --net=/run/netns/$LAB_ROUTER -- ip route replace blackhole $spoof || exit 1

echo "story: $conns TCP + $udp UDP sessions through $LAB_VIP4; a flood of $rate SYNs/s"
echo "       for $flood s from $spoof; $new new connections/s meanwhile;"
echo "       flood-guard $STEER_LAB_FLOOD_GUARD; flow-table-size $table"
bin=$(lab_bin)
if [ $load = 1 ]; then
	lab_burn $((settle + flood + after + 15)) "$out/burners"
	cat "$out/burners" >>"$out/pids"
	echo "       load: $(nproc) CPU burners running"
fi
lab_exec $LAB_CLIENT "$bin/steer-traffic" --target "$LAB_VIP4" \
	--port "$LAB_PORT" --conns "$conns" --udp "$udp" --interval 100 \
	--duration $((settle + flood + after)) --connect-timeout 10 \
	--stall 1000 --ready "$out/ready" >"$out/traffic.txt" \
	2>"$out/traffic.err" &
traffic=$!
echo $traffic >>"$out/pids"
for ((i = 0; i < 300; i++)); do
	[ -e "$out/ready" ] && break
	sleep 0.05
done
[ -e "$out/ready" ] || { echo "story: the sessions do not open: $(cat "$out/traffic.err")" >&2; exit 1; }
t0=$(lab_now_ms) # lab_say's zero
lab_say "sessions up: $(cat "$out/ready")"
sleep "$settle"
if [ "$rate" -gt 0 ]; then
	lab_exec $LAB_CLIENT "$bin/steer-synflood" --sources $spoof \
		--target "$LAB_VIP4" --port "$LAB_PORT" --rate "$rate" \
		--seconds "$flood" --count $((rate * flood)) \
		>"$out/flood.txt" 2>&1 &
else # the baseline: no flood, the rest the same
	echo "sent 0 seconds $flood rate 0" >"$out/flood.txt" &
fi
echo $! >>"$out/pids"
fpid=$!
echo 1 >"$out/shape.txt"
lab_exec $LAB_CLIENT "$bin/steer-workload" --target "$LAB_VIP4" \
	--port "$LAB_PORT" --shape "$out/shape.txt" \
	--sizes "$here/../tests/data/workloads/flow_size_cdfs/hpcc_WebSearch_distribution.txt" \
	--rate "$new" --scale 200 --max-bytes 4096 --max-conns 512 \
	--duration "$flood" >"$out/new.txt" 2>&1 &
echo $! >>"$out/pids"
npid=$!
lab_say "flood and new connections started"
if [ "$forge" -gt 0 ]; then
	# Exception datagrams as a fast-path node sends them (GUE0, steer's
	# private data with the exception flag, origin 2, a SYN inside), to
	# h1's GUE port from the client, which is no node.
	lab_exec $LAB_CLIENT python3 - "$(lab_host_addr4 1)" "$LAB_GUE_PORT" \
		"$LAB_VIP4" "$LAB_PORT" "$forge" <<'EOF2'
import socket, struct, sys
to, port, vip, vport, n = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(n):
    tcp = struct.pack("!HHIIBBHHH", 20000 + i, vport, 1, 0, 5 << 4, 0x02, 64240, 0, 0)
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 40, i, 0, 64, 6, 0,
                     socket.inet_aton("198.19.200.1"), socket.inet_aton(vip))
    gue = struct.pack("!BBH", 3, 4, 0)
    priv = struct.pack("!BBBBHHI", 0x53, 1, 0x02, 0, 2, 0, 0)
    s.sendto(gue + priv + ip + tcp, (to, port))
EOF2
fi
wait $fpid
lab_say "flood over: $(cat "$out/flood.txt")"
wait $npid
wait $traffic
for p in $(cat "$out/burners" 2>/dev/null); do
	kill "$p" 2>/dev/null
	wait "$p" 2>/dev/null
done
: >"$out/pids"
lab_say "traffic over"
for ((k = 1; k <= LAB_HOSTS; k++)); do
	lab_steerctl $k -j counters >"$out/counters-h$k.json" 2>/dev/null
done

echo
if ! grep -q '^connections ' "$out/traffic.txt"; then
	echo "story: steer-traffic failed: $(cat "$out/traffic.err")" >&2
	exit 1
fi
sed 's/^/  /' "$out/traffic.txt"
read -r _ k _ e _ s _ b _ t _ _ _ g _ <"$out/traffic.txt"
read -r _ u _ us _ _ _ um _ ug _ < <(grep '^udp_flows' "$out/traffic.txt")
[ "${ug:-0}" -gt "$g" ] && g=$ug
echo "RESULT tcp=$k established=$e survived=$s broken=$b stalled=$t" \
	"udp=${u:-0} udp_survived=${us:-0} udp_moved=${um:-0}" \
	"longest_gap_ms=$g load=$load"
python3 - "$out" "$LAB_HOSTS" "$policy" <<'EOF'
import json, sys
out, hosts, policy = sys.argv[1], int(sys.argv[2]), sys.argv[3]
t = dict.fromkeys(["guard_over", "guard_source_over", "guard_stateless",
                   "guard_direct", "dropped", "cells_guarded", "cells_full",
                   "cells_table_full", "cells_created"], 0)
for k in range(1, hosts + 1):
    try:
        c = json.load(open("%s/counters-h%d.json" % (out, k)))
    except (OSError, ValueError):
        continue
    x, cell = c.get("xdp", {}), c.get("cell", {})
    t["guard_over"] += x.get("guard_over", 0)
    t["guard_source_over"] += x.get("guard_source_over", 0)
    t["guard_stateless"] += x.get("guard_stateless", 0)
    t["guard_direct"] += x.get("guard_direct", 0)
    t["dropped"] += c.get("xdp_drop", {}).get("flood", 0)
    t["cells_guarded"] += cell.get("guarded_stateless", 0)
    t["cells_full"] += cell.get("full_stateless", 0)
    t["cells_table_full"] += cell.get("table_full", 0)
    t["cells_created"] += cell.get("flows_created", 0)
try:
    f = open(out + "/flood.txt").read().split()
    sent, rate = f[f.index("sent") + 1], f[f.index("rate") + 1]
except (OSError, ValueError, IndexError):
    sent, rate = "0", "0"
print("FLOOD policy=%s sent=%s rate=%s %s" % (
    policy, sent, rate, " ".join("%s=%d" % kv for kv in t.items())))
EOF
if [ "$forge" -gt 0 ]; then
	refused=0
	for ((k = 1; k <= LAB_HOSTS; k++)); do
		r=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1])).get('cell', {}).get('exceptions_foreign', 0))" \
			"$out/counters-h$k.json" 2>/dev/null) || r=0
		refused=$((refused + ${r:-0}))
	done
	echo "FORGED sent=$forge refused=$refused"
fi
read -r _ _ st _ dn _ fl _ to _ < <(grep '^steer-workload:' "$out/new.txt")
echo "NEW started=${st:-0} done=${dn:-0} failed=${fl:-0} timed_out=${to:-0}" \
	"done_per_s=$(( ${dn:-0} / flood ))"
exit 0

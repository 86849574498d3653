#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The cell-mode story (issue "Cell mode end to end"), on the lab of
# lab/topo.sh built with STEER_LAB_KIND=cell: live TCP and UDP sessions
# through the service address while, at once, a backend is added, a cell
# dies and the ingress moves.
#
#   client --(K TCP + U UDP, v4 and v6)--> ECMP router --> h1..h4 (fast path)
#        ^                                                   |  h1..h5: cells
#        |                                                   v
#        +------------ direct server return ------------ b1..b(B-1): echo
#                                                        bB: built, unused
#   t0      every session established; the services list b1..b(B-1)
#   t0+2s   within ~100 ms of each other:
#           (a) bB added: every cluster description lists it, SIGHUP to
#               every steerd (Maglev picks differently for some flows)
#           (b) steerd of h3 killed (-9), not started again: its XDP
#               program stays and keeps working as a fast-path node,
#               its cell is gone (its shards move to their mirrors)
#           (c) h2 leaves the ECMP set (its flows reach other nodes,
#               which have no rule for them: misses to the shard's cell)
#   t0+2s+R with --restart R: h3's steerd starts again, empty; its
#           mirrors hand its shards' state back before it decides flows
#   t0+8s   the traffic stops; every session reports survived or not
#           (--settle and --after change the 2 s and the 6 s)
#
# Usage: lab/story_cell.sh [--rf N] [--conns K] [--udp U] [--backends B]
#                          [--ecmp multipath|resilient] [--settle S]
#                          [--after S] [--restart S] [--linger S] [--keep]
#                          [--show] [--csv DIR] [--load] [--warmup S]
# --rf: 'replication N' in the cluster descriptions (1..3, default 2).
# --backends: backends to build when the story builds the lab (default 4;
# the services use all but the last until (a)). --settle: s from the
# sessions up to the events (default 2); --after: s of traffic after them
# (default 6). --show: what steerctl says on h1 after the traffic
# (shards, counters, flows). --csv: steer-traffic's per-flow rows into
# DIR/v4.csv, v6.csv. --restart: s after the events when the killed
# cell's steerd starts again (less than --after; default 0: never); the
# account then has a line
#   RESTART handback_received=N handback_applied=A waited=W timed_out=T
#           held=H released=R dropped=D flows=F
# of what it got back from its mirrors and held meanwhile. --linger: s to
# wait after the traffic before the story looks at the cells (for rules
# to expire: the fast paths drop rules idle past the flows' timeouts).
# --load: both cores kept busy by one busy loop per CPU (bounded, ended
# with the story) from before the sessions open to the end of traffic.
# --warmup S: S seconds of short TCP connections (steer-workload, 400 a
# second, web-search sizes scaled down, 16 kB at most) before the sessions open, for
# the cells' state prediction engine to learn from (replication-policy
# predicted: STEER_LAB_REPL_POLICY). The account then has a line
#   REPLPOLICY policy=P flows_one_copy=N flows_replicated=M
#              raised_lived_on=L raised_not_the_pick=R flows_learnt=F
#              records_sent=S flows_created=C
# summed over the live cells.
# Prints a readable account, then one line per family:
#   RESULT rf=N family=F tcp=K established=E survived=S broken=B stalled=T
#          udp=U udp_survived=V udp_moved=W longest_gap_ms=G
#          death_known_ms=D load=0|1
# (D: ms from the kill until the last live cell knew it, by their logs;
# -1 when one never did)
# and, for every family that lost a session, why (see explain below):
#   EXPLAIN rf=N family=F lost=L redecided=R dead_ingress=D no_state=S
#           other=X
# Builds the lab when it is down and tears down what it built on exit
# (--keep leaves it up). Exit 0 when the story ran, whatever the sessions
# did; 1 when it could not run; 77 when not root.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lab/lib.sh
. "$here/lib.sh"

rf=2
conns=300
udp=20
backends=4
ecmp=multipath
keep=0
show=0
csvdir=
kill_h=3  # the cell that dies
leave_h=2 # the fast-path node that leaves the ECMP set
settle=2  # s between the sessions up and the events
after=6   # s of traffic after the events
restart=0 # s after the events when the killed cell comes back; 0: never
linger=0  # s the story waits after the traffic before it looks
load=0    # 1: CPU burners on every core while the story runs
warmup=0  # s of short connections (steer-workload) before the sessions
while [ $# -gt 0 ]; do
	case $1 in
	--rf) rf=$2; shift 2 ;;
	--conns) conns=$2; shift 2 ;;
	--udp) udp=$2; shift 2 ;;
	--backends) backends=$2; shift 2 ;;
	--ecmp) ecmp=$2; shift 2 ;;
	--settle) settle=$2; shift 2 ;;
	--after) after=$2; shift 2 ;;
	--restart) restart=$2; shift 2 ;;
	--linger) linger=$2; shift 2 ;;
	--keep) keep=1; shift ;;
	--show) show=1; shift ;;
	--csv) csvdir=$2; shift 2 ;;
	--load) load=1; shift ;;
	--warmup) warmup=$2; shift 2 ;;
	*) echo "usage: $0 [--rf N] [--conns K] [--udp U] [--backends B] [--ecmp multipath|resilient] [--settle S] [--after S] [--restart S] [--linger S] [--keep] [--show] [--csv DIR] [--load] [--warmup S]" >&2
	   exit 1 ;;
	esac
done
if [ "$(id -u)" != 0 ]; then
	echo "story: needs root (network namespaces, XDP, cgroups): skipped" >&2
	exit 77
fi
case $rf in 1 | 2 | 3) ;; *) echo "story: --rf expects 1..3" >&2; exit 1 ;; esac
case $conns$udp$backends$settle$after$restart$linger$warmup in *[!0-9]*) echo "story: --conns, --udp, --backends, --settle, --after, --restart, --linger, --warmup expect numbers" >&2; exit 1 ;; esac
[ "$restart" -lt "$after" ] || { echo "story: --restart expects less than --after" >&2; exit 1; }
[ "$after" -ge 1 ] || { echo "story: --after expects at least 1 s" >&2; exit 1; }
[ "$conns" -ge 1 ] || { echo "story: --conns expects at least 1" >&2; exit 1; }
lab_mode_check "$ecmp" || exit 1
command -v python3 >/dev/null || { echo "story: needs python3 (scripts/deps.sh)" >&2; exit 1; }

built_here=0
out=$(mktemp -d /tmp/st-story-cell.XXXXXX)
cleanup()
{
	local p

	for p in $(cat "$out/pids" 2>/dev/null); do
		kill -KILL "$p" 2>/dev/null
	done
	: >"$out/pids"
	ingress_unwatch
	if [ $built_here = 1 ] && [ $keep = 0 ]; then
		lab_down
	else
		lab_steerd_stop_all
		lab_echo_stop_all
		# The lab as it was: every node behind the VIP.
		lab_ecmp_reset >/dev/null 2>&1
	fi
	# STEER_STORY_KEEP_OUT=1: the flows, counters and traffic rows stay
	# for a look (the path is printed).
	if [ -n "${STEER_STORY_KEEP_OUT:-}" ]; then
		echo "story: its files are in $out" >&2
	else
		rm -rf "$out"
	fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM

lab_init || exit 1
if ! lab_built; then
	# Exported: lab_up reads the settings again once it has cleaned up.
	export STEER_LAB_KIND=cell STEER_LAB_BACKENDS=$backends \
		STEER_LAB_ECMP=$ecmp
	lab_init || exit 1
	built_here=1
	lab_up >/dev/null || exit 1
fi
lab_init || exit 1
if [ "$LAB_KIND" != cell ]; then
	echo "story: the lab is up in $LAB_KIND mode; take it down first (lab/topo.sh down)" >&2
	exit 1
fi
if [ "$LAB_B" -lt 2 ]; then
	echo "story: the lab has $LAB_B backend(s), needs 2 or more (STEER_LAB_BACKENDS)" >&2
	exit 1
fi
for h in $kill_h $leave_h; do
	[ "$h" -le "$LAB_N" ] || { echo "story: the lab has only $LAB_N hosts behind the VIP" >&2; exit 1; }
done
export STEER_LAB_RF=$rf
export STEER_LAB_BACKENDS_LISTED=$((LAB_B - 1))
lab_config_write_all || exit 1
lab_ecmp_reset "$ecmp" 0 >/dev/null || exit 1
lab_steerd_stop_all
lab_echo_stop_all
lab_echo_start_all || exit 1
lab_steerd_start_all || exit 1


if ! lab_cells_wait "$LAB_HOSTS"; then
	echo "story: the cells do not see each other within 5 s" >&2
	exit 1
fi


# Where the router sends each session: a set per family in the router's
# egress hook, of (protocol, client port, next hop's MAC) seen in the last
# 3 s. The router's own answer (`ip route get ... sport`) would not do:
# it hashes the 5-tuple, while a locally sent packet's hash, which
# multipath routing uses, comes from its socket (random, and drawn again
# when TCP retransmits on a timeout).
ingress_watch()
{
	nsenter --net=/run/netns/$LAB_ROUTER -- nft -f - <<EOF2
table netdev st-story {
	set seen4 {
		type inet_proto . inet_service . ether_addr
		flags dynamic, timeout
		timeout 3s
		size 65536
	}
	set seen6 {
		type inet_proto . inet_service . ether_addr
		flags dynamic, timeout
		timeout 3s
		size 65536
	}
	chain out {
		type filter hook egress device "${LAB_P}rl" priority 0;
		ip daddr $LAB_VIP4 meta l4proto { tcp, udp } update @seen4 { meta l4proto . th sport . ether daddr }
		ip6 daddr $LAB_VIP6 meta l4proto { tcp, udp } update @seen6 { meta l4proto . th sport . ether daddr }
	}
}
EOF2
}

# What the sets hold now, as JSON in file $1.
ingress_seen()
{
	nsenter --net=/run/netns/$LAB_ROUTER -- nft -j list table netdev st-story >"$1"
}

ingress_unwatch()
{
	nsenter --net=/run/netns/$LAB_ROUTER -- nft delete table netdev st-story 2>/dev/null
}

echo "story: $conns TCP + $udp UDP sessions per family through $LAB_VIP4 and"
echo "       $LAB_VIP6; cells h1..h$LAB_HOSTS, replication $rf, backends b1..b$((LAB_B - 1)) (+b$LAB_B later), ECMP $ecmp"
bin=$(lab_bin)
ingress_unwatch
ingress_watch || exit 1
if [ $load = 1 ]; then
	lab_burn $((settle + after + 15)) "$out/burners"
	cat "$out/burners" >>"$out/pids"
	echo "       load: $(nproc) CPU burners running"
fi
if [ "$warmup" -gt 0 ]; then
	# Short connections the cells learn from (web-search sizes, scaled
	# down), all ended before the sessions open.
	echo 1 >"$out/shape.txt"
	lab_exec $LAB_CLIENT "$bin/steer-workload" --target "$LAB_VIP4" \
		--port "$LAB_PORT" --shape "$out/shape.txt" \
		--sizes "$here/../tests/data/workloads/flow_size_cdfs/hpcc_WebSearch_distribution.txt" \
		--rate 400 --scale 200 --max-bytes 16384 --max-conns 256 \
		--duration "$warmup" >"$out/warmup.txt" 2>&1
	echo "       warm-up: $(cat "$out/warmup.txt")"
	sleep 1
fi
# The events, timed from here, beside the CSV rows (--csv).
LAB_EVENTS=${csvdir:+$csvdir/events.csv}
LAB_EVENTS_T=$(lab_now_ms)
[ -z "$LAB_EVENTS" ] || : >"$LAB_EVENTS"
for fam in 4 6; do
	target=$LAB_VIP4
	[ $fam = 6 ] && target=$LAB_VIP6
	lab_exec $LAB_CLIENT "$bin/steer-traffic" --target "$target" \
		--port "$LAB_PORT" --conns "$conns" --udp "$udp" --interval 100 \
		--duration $((settle + after)) --connect-timeout 10 --stall 1000 \
		--ready "$out/ready$fam" --csv "$out/v$fam.csv" \
		>"$out/v$fam.txt" 2>"$out/v$fam.err" &
	echo $! >>"$out/pids"
done
for ((i = 0; i < 300; i++)); do
	[ -e "$out/ready4" ] && [ -e "$out/ready6" ] && break
	sleep 0.05
done
t0=$(lab_now_ms)
lab_say "sessions up: v4 $(cat "$out/ready4" 2>/dev/null), v6 $(cat "$out/ready6" 2>/dev/null)"
# Everything prepared, so the three events land together. (a): the
# descriptions list bB (nothing reads them before SIGHUP); (c): the
# router's new routes.
STEER_LAB_BACKENDS_LISTED=$LAB_B lab_config_write_all || exit 1
members=$(lab_members | grep -vx "$leave_h" | tr '\n' ' ')
# shellcheck disable=SC2086
lab_ecmp_batch $members >"$out/ecmp" || exit 1
hup=()
for ((k = 1; k <= LAB_HOSTS; k++)); do
	[ $k = $kill_h ] || hup+=("$(cat "$LAB_STATE/pid/steerd-h$k")")
done
ingress_seen "$out/ingress.before"
rem=$((t0 + settle * 1000 - $(lab_now_ms)))
[ $rem -le 0 ] || sleep "$(printf '%d.%03d' $((rem / 1000)) $((rem % 1000)))"
ta=$(lab_now_ms)
kill -HUP "${hup[@]}"
tb=$(lab_now_ms)
lab_crash steerd-h$kill_h
tc=$(lab_now_ms)
# shellcheck disable=SC2086
lab_ecmp_batch_run "$out/ecmp" $members || exit 1
td=$(lab_now_ms)
lab_event "b$LAB_B added (SIGHUP at +0 ms), steerd of h$kill_h killed (+$((tb - ta)) ms)," \
	"h$leave_h out of ECMP (+$((tc - ta)) ms): all within $((td - ta)) ms"

# The reloads, and the cells' view of h3's death, as they happen.
reloaded=0
dead_seen=0
for ((i = 0; i < 60; i++)); do
	if [ $reloaded = 0 ]; then
		n=0
		for ((k = 1; k <= LAB_HOSTS; k++)); do
			[ $k = $kill_h ] && continue
			grep -q "reloaded" "$LAB_STATE/log/steerd-h$k.log" && n=$((n + 1))
		done
		if [ $n = $((LAB_HOSTS - 1)) ]; then
			reloaded=1
			lab_say "every live steerd reloaded (b$LAB_B in the services)"
		fi
	fi
	if [ $dead_seen = 0 ] && [ "$(lab_cells_live 1)" = $((LAB_HOSTS - 1)) ]; then
		dead_seen=1
		lab_say "h1 sees $((LAB_HOSTS - 1)) cells live: h$kill_h's shards moved to their mirrors"
	fi
	[ $reloaded = 1 ] && [ $dead_seen = 1 ] && break
	sleep 0.05
done
[ $reloaded = 1 ] || lab_say "not every live steerd reloaded within 3 s (see $LAB_STATE/log)"
[ $dead_seen = 1 ] || lab_say "h1 still sees h$kill_h's cell live after 3 s"
if lab_exec "$(lab_host_ns $kill_h)" ip -d link show ${LAB_P}e0 | grep -q 'prog/xdp'; then
	lab_say "h$kill_h's XDP program is still attached"
else
	lab_say "h$kill_h's XDP program is gone"
fi
if [ "$restart" -gt 0 ]; then
	rem=$((ta + restart * 1000 - $(lab_now_ms)))
	[ $rem -le 0 ] || sleep "$(printf '%d.%03d' $((rem / 1000)) $((rem % 1000)))"
	if lab_steerd_start $kill_h; then
		lab_event "steerd of h$kill_h started again (+$(($(lab_now_ms) - ta)) ms)"
	else
		lab_say "steerd of h$kill_h does not start again"
		restart=0
	fi
fi
for p in $(cat "$out/pids"); do
	grep -qx "$p" "$out/burners" 2>/dev/null || wait "$p"
done
for p in $(cat "$out/burners" 2>/dev/null); do
	kill "$p" 2>/dev/null
	wait "$p" 2>/dev/null
done
: >"$out/pids"
ingress_seen "$out/ingress.after"
known=$(lab_death_known_ms $kill_h "$tb")
lab_say "every live cell knew h$kill_h's cell dead $known ms after the kill"
lab_say "traffic over"
sleep 0.5 # the closes of the last segments reach the cells
[ "$linger" = 0 ] || sleep "$linger"
for ((k = 1; k <= LAB_HOSTS; k++)); do
	[ $k = $kill_h ] && [ "$restart" = 0 ] && continue
	# Records younger than this were made after the events.
	echo $(($(lab_now_ms) - ta)) >"$out/since-h$k"
	lab_steerctl $k -j flows limit 100000 >"$out/flows-h$k.json" 2>/dev/null
	lab_steerctl $k -j counters >"$out/counters-h$k.json" 2>/dev/null
done
echo
if [ $show = 1 ]; then
	echo "steerctl shards (on h1):"
	lab_steerctl 1 shards 2>&1 | sed 's/^/  /'
	echo
	echo "steerctl counters (on h1; non-zero):"
	lab_steerctl 1 counters 2>&1 | grep -A20 -E '^(xdp|xdp_action|xdp_drop|cell|flowtab|cell_ctl_rx)$' |
		sed 's/^/  /'
	echo
	echo "steerctl flows limit 10 (on h1):"
	lab_steerctl 1 flows limit 10 2>&1 | sed 's/^/  /'
	echo
fi
[ -z "$csvdir" ] || cp "$out/v4.csv" "$out/v6.csv" "$csvdir/" 2>/dev/null

# Why sessions were lost. Per lost session (TCP not survived; UDP stalled
# or moved): the ingress node before and after the events (the router's
# choice, as last seen; "?" for a session that sent nothing in its last
# 3 s, a broken one), and the records the live cells hold of it. Causes:
#   redecided     a live cell holds a record of it made after the events:
#                 no copy of its state was left (a dead cell's without a
#                 replica, or one expired), so the shard's primary decided
#                 again, with the new backend among the candidates
#   dead_ingress  else, it moved onto h3, whose steerd is dead: h3's fast
#                 path has no rule for it and sends its misses where its
#                 shard map, frozen at the kill, says
#   no_state      no live cell holds its state
#   other         none of these: a live cell holds its state from before
# What the restarted cell got back from its mirrors and held meanwhile.
restarted()
{
	python3 - "$out/counters-h$kill_h.json" "$out/flows-h$kill_h.json" <<'EOF'
import json, sys
try:
    c = json.load(open(sys.argv[1]))
    f = json.load(open(sys.argv[2]))
except (OSError, ValueError):
    print("RESTART unknown")
    sys.exit(0)
r, h = c.get("replication", {}), c.get("hold", {})
print("RESTART handback_received=%d handback_applied=%d waited=%d "
      "timed_out=%d held=%d released=%d dropped=%d flows=%d" % (
    r.get("handback_records_received", 0),
    r.get("handback_records_applied", 0), h.get("shards_waited", 0),
    h.get("shards_timed_out", 0), h.get("packets_held", 0),
    h.get("packets_released", 0), h.get("packets_dropped", 0),
    len([x for x in f.get("flows", []) if x.get("state") != "closed"])))
EOF
}

# What the cells saw of the sessions' ends, what they mirrored, and their
# records after the story, from their counters and flows (one pass):
#   CLOSES   FIN or RST the fast paths sent to cells, records closing or
#            closed, MIRROR datagrams sent and received, rules expired
#   RECORDS  flows held by any live cell, those whose records (closed ones
#            aside) name different backends on different cells (must be
#            none: a flow is decided once), and what the cells asked each
#            other before deciding a flow they had no record of
closes()
{
	python3 - "$out" <<'EOF'
import json, os, sys
out = sys.argv[1]
tot = {"close_to_cell": 0, "mirror_sent": 0, "mirror_received": 0,
       "mirror_applied": 0, "rules_expired": 0, "flows_touched": 0,
       "closing": 0, "closed": 0, "tcp_ended": 0}
q = {"flows_asked": 0, "found_elsewhere": 0, "new_everywhere": 0,
     "timed_out": 0, "packets_dropped": 0}
pol = {"flows_one_copy": 0, "flows_replicated": 0, "raised_lived_on": 0,
       "raised_not_the_pick": 0, "flows_learnt": 0, "records_sent": 0,
       "flows_created": 0}
policy = "fixed"
backends, bad = {}, []
for f in sorted(os.listdir(out)):
    try:
        doc = json.load(open(out + "/" + f))
    except (OSError, ValueError):
        continue
    if f.startswith("counters-h"):
        x, c = doc.get("xdp", {}), doc.get("cell", {})
        tot["close_to_cell"] += x.get("close_to_cell", 0)
        tot["mirror_sent"] += c.get("mirror_packets_sent", 0)
        tot["mirror_received"] += c.get("mirror_packets_received", 0)
        tot["mirror_applied"] += c.get("mirror_records_applied", 0)
        tot["rules_expired"] += c.get("rules_expired", 0)
        tot["flows_touched"] += c.get("flows_touched", 0)
        for k in q:
            q[k] += doc.get("query", {}).get(k, 0)
        rp = doc.get("replication_policy", {})
        policy = rp.get("policy", policy)
        for k in pol:
            pol[k] += rp.get(k, 0)
        pol["records_sent"] += doc.get("replication", {}).get(
            "records_sent", 0)
        pol["flows_created"] += c.get("flows_created", 0)
    elif f.startswith("flows-h"):
        node = f[len("flows-"):-len(".json")]
        for r in doc.get("flows", []):
            if r.get("primary") == node and r.get("state") in tot:
                tot[r["state"]] += 1
                # A TCP close the cell saw: closing, or closed once its
                # closing timeout passed.
                tot["tcp_ended"] += r.get("proto") == "tcp"
            if r.get("state") != "closed":
                k = (r["proto"], r["src"], r["sport"], r["dst"], r["dport"])
                backends.setdefault(k, {})[node] = r["backend"]
for k, held in sorted(backends.items()):
    if len(set(held.values())) > 1:
        bad.append("%s/%s:%s %s" % (k[0], k[1], k[2], ", ".join(
            "%s: %s" % kv for kv in sorted(held.items()))))
print("CLOSES " + " ".join("%s=%d" % kv for kv in tot.items()))
for b in bad[:3]:
    print("  disagree     " + b)
print("RECORDS flows=%d disagree=%d %s" % (len(backends), len(bad),
      " ".join("%s=%d" % kv for kv in q.items())))
print("REPLPOLICY policy=%s %s" % (policy,
      " ".join("%s=%d" % kv for kv in pol.items())))
EOF
}

explain()
{
	python3 - "$out" "$1" "$kill_h" "$rf" <<'EOF'
import csv, json, os, sys
out, fam, dead, rf = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
def ingress(path):
    """(proto, family, port) -> host number the router sent it to last."""
    m, best = {}, {}
    try:
        doc = json.load(open(path))
    except (OSError, ValueError):
        return m
    for o in doc.get("nftables", []):
        st = o.get("set")
        if not st or not st.get("name", "").startswith("seen"):
            continue
        fa = st["name"][-1]
        for e in st.get("elem", []):
            el = e.get("elem", e) if isinstance(e, dict) else e
            val = el.get("val", el) if isinstance(el, dict) else el
            exp = el.get("expires", 0) if isinstance(el, dict) else 0
            proto, port, mac = val["concat"]
            proto = {"6": "tcp", "17": "udp"}.get(str(proto), str(proto))
            k = (proto, fa, str(port))
            if exp >= best.get(k, -1):
                best[k] = exp
                m[k] = str(int(mac.split(":")[-1], 16))
    return m
before, after = ingress(out + "/ingress.before"), ingress(out + "/ingress.after")
recs = {}
for f in sorted(os.listdir(out)):
    if not (f.startswith("flows-h") and f.endswith(".json")):
        continue
    node = f[len("flows-"):-len(".json")]
    try:
        doc = json.load(open(out + "/" + f))
        # ms from the events to the read: younger records are newer
        since = int(open(out + "/since-" + node).read())
    except (OSError, ValueError):
        continue
    for r in doc.get("flows", []):
        if r.get("state") == "closed":
            continue
        fa = "6" if ":" in r["dst"] else "4"
        recs.setdefault((r["proto"], fa, str(r["sport"])), []).append(
            (node, r["primary"], r["backend"], r["age_ms"] < since))
causes = {"redecided": [], "dead_ingress": [], "no_state": [], "other": []}
lost = n = moved = onto_dead = 0
for row in csv.DictReader(open(out + "/v" + fam + ".csv")):
    k = (row["proto"], fam, row["local_port"])
    b, a = before.get(k, "?"), after.get(k, "?")
    n += 1
    moved += b != a
    onto_dead += b != a and a == dead
    udp = row["proto"] == "udp"
    if udp:
        bad = row["state"] != "survived" or row["host_changes"] != "0"
    else:
        bad = row["state"] != "survived"
    if not bad:
        continue
    lost += 1
    held = recs.get(k, [])
    why = "%s %s/%s %s, backend %s->%s, ingress h%s->h%s, held by %s" % (
        row["state"], row["proto"], row["local_port"], row["error"],
        row["first_host"], row["last_host"], b, a,
        ", ".join("%s (primary %s, backend %s, %s)" % (h[0], h[1], h[2],
                  "new" if h[3] else "old") for h in held)
        or "no live cell")
    if any(h[3] for h in held):
        causes["redecided"].append(why)
    elif a == dead and b != dead:
        causes["dead_ingress"].append(why)
    elif not held:
        causes["no_state"].append(why)
    else:
        causes["other"].append(why)
print("  ingress moved for %d of %d sessions, %d of them onto h%s" % (
    moved, n, onto_dead, dead))
if lost:
    for c, l in causes.items():
        for w in l[:3]:
            print("  %-13s %s" % (c, w))
        if len(l) > 3:
            print("  %-13s ... %d more" % (c, len(l) - 3))
    print("EXPLAIN rf=%s family=%s lost=%d %s" % (rf, fam, lost,
          " ".join("%s=%d" % (c, len(l)) for c, l in causes.items())))
EOF
}

rc=0
closes
[ "$restart" = 0 ] || restarted
for fam in 4 6; do
	f=$out/v$fam.txt
	if ! grep -q '^connections ' "$f"; then
		echo "story: steer-traffic (v$fam) failed: $(cat "$out/v$fam.err")" >&2
		rc=1
		continue
	fi
	echo "IPv$fam:"
	sed 's/^/  /' "$f"
	read -r _ k _ e _ s _ b _ t _ m _ g _ <"$f"
	read -r _ u _ us _ _ _ um _ ug _ < <(grep '^udp_flows' "$f")
	[ "${ug:-0}" -gt "$g" ] && g=$ug
	explain $fam
	echo "RESULT rf=$rf family=$fam tcp=$k established=$e" \
		"survived=$s broken=$b stalled=$t udp=${u:-0}" \
		"udp_survived=${us:-0} udp_moved=${um:-0} longest_gap_ms=$g" \
		"death_known_ms=$known load=$load"
done
exit $rc

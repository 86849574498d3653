#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Chaos in the cell-mode lab (issue 14, item 2): faults on real daemons
# while live TCP and UDP sessions run through the VIP, replication 2.
#
#   client --(K TCP + U UDP, v4 and v6)--> ECMP router --> h1..h4 (fast path)
#                                                          h1..h5: cells
#
# Scenarios, each on freshly started steerds (h3 is the faulty cell; every
# cell is primary of some shards and mirror of others):
#   stop1   steerd of h3 SIGSTOPped for 1 s, then SIGCONT
#   stop5   the same for 5 s: the others find its streams silent (300 ms)
#           and take its shards; resumed, it must not go on as their
#           primary
#   lossy   h3's link, for 5 s: 10% of frames dropped each way (nftables,
#           numgen) and every frame held 20 ms each way. This kernel has no
#           netem and no qdisc that holds a packet until a time (fq, etf),
#           so the delay is lab/chaos_wire.py, a userspace wire that takes
#           the place of h3's bridge port (lab_link_impair in lab/lib.sh)
#   partition_failover
#           h3 cut off from the other nodes for 3 s (as
#           tests/lab/test_cell_partition.sh); 1 s into the cut, steerd of
#           h2 killed -9 (not started again)
#   kill2   steerd of h3 killed -9, 3 s later steerd of h4: by then h3's
#           shards have new mirrors (a cell that becomes a shard's primary
#           snapshots it to the shard's mirrors of the new map at once), so
#           one copy of every flow's state stays reachable
# The fast paths of killed or stopped daemons keep running (their XDP
# programs stay), as in lab/story_cell.sh; no node leaves ECMP.
#
# Usage: lab/story_chaos.sh [--scenarios "NAME..."] [--load] [--conns K]
#                           [--udp U] [--keep]
# --scenarios: which, in order (default: all five). --load: both cores
# kept busy by one bounded busy loop per CPU (lab_burn) from before each
# scenario's sessions open to their end. --conns, --udp: sessions per
# family (default 100 and 10). Builds the cell-mode lab when it is down
# and tears down what it built on exit (--keep leaves it up).
#
# Per scenario, a readable account and one line
#   RESULT scenario=NAME tcp=K survived=S udp=U udp_survived=V
#          longest_gap_ms=G recovery_ms=R double_owners=D load=0|1
#          established=E known_ms=N cells_live=C new=W new_established=X
#          new_survived=Y
# summed over both families: S TCP connections of K survived, V UDP flows
# of U got every answer from one backend to the end; G the longest wait
# of any session for an answer; R ms from the fault's end (SIGCONT, the
# link or the partition healed, the last kill) until every session that
# waited 100 ms or more for an answer around the fault had its answer
# (steer-traffic --gaps: waits that began before the end plus 1 s; -1
# when one never came; 0 when no session waited that long); D flows
# whose records on the live cells name more than one owner, 3 s after
# the traffic (must be 0); N ms from the fault's start until the last
# other live cell's log said h3 was down or silent (-1: one never did);
# C the cells h1's map counts live at the end; W new TCP connections
# (IPv4) opened 0.5 s into the fault, X of them established, Y of those
# lasting to the end (their flows are decided during the fault).
# Exit 0 when every scenario ran, whatever the sessions did; 1 when one
# could not run; 77 when not root.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lab/lib.sh
. "$here/lib.sh"

scenarios="stop1 stop5 lossy partition_failover kill2"
load=0
conns=100
udp=10
fresh=20   # new TCP connections (v4) opened during the fault
keep=0
fault_h=3  # the cell every scenario hits
settle=2   # s of traffic before the fault
after=5    # s of traffic after the fault's end
grace=1000 # ms after the fault's end a wait may begin and still count
while [ $# -gt 0 ]; do
	case $1 in
	--scenarios) scenarios=$2; shift 2 ;;
	--load) load=1; shift ;;
	--conns) conns=$2; shift 2 ;;
	--udp) udp=$2; shift 2 ;;
	--keep) keep=1; shift ;;
	*) echo "usage: $0 [--scenarios \"NAME...\"] [--load] [--conns K] [--udp U] [--keep]" >&2
	   exit 1 ;;
	esac
done
if [ "$(id -u)" != 0 ]; then
	echo "story: needs root (network namespaces, XDP, cgroups): skipped" >&2
	exit 77
fi
case $conns$udp in *[!0-9]*) echo "story: --conns, --udp expect numbers" >&2; exit 1 ;; esac
[ "$conns" -ge 1 ] || { echo "story: --conns expects at least 1" >&2; exit 1; }
for s in $scenarios; do
	case $s in stop1 | stop5 | lossy | partition_failover | kill2) ;;
	*) echo "story: no scenario '$s'" >&2; exit 1 ;;
	esac
done
command -v python3 >/dev/null || { echo "story: needs python3" >&2; exit 1; }

built_here=0
out=$(mktemp -d /tmp/st-story-chaos.XXXXXX)
cleanup()
{
	local p

	for p in $(cat "$out/pids" 2>/dev/null); do
		kill -KILL "$p" 2>/dev/null
	done
	lab_built && lab_link_heal $fault_h >/dev/null 2>&1
	lab_built && lab_heal $fault_h 2>/dev/null
	if [ $built_here = 1 ] && [ $keep = 0 ]; then
		lab_down
	else
		lab_steerd_stop_all
		lab_echo_stop_all
	fi
	# STEER_STORY_KEEP_OUT=1: the traffic rows, waits and records of
	# every scenario stay for a look (the path is printed).
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
	export STEER_LAB_KIND=cell STEER_LAB_BACKENDS=3
	lab_init || exit 1
	built_here=1
	lab_up >/dev/null || exit 1
fi
lab_init || exit 1
if [ "$LAB_KIND" != cell ]; then
	echo "story: the lab is up in $LAB_KIND mode; take it down first (lab/topo.sh down)" >&2
	exit 1
fi
[ "$LAB_HOSTS" -ge 5 ] || { echo "story: needs 5 cells" >&2; exit 1; }
export STEER_LAB_RF=2
lab_config_write_all || exit 1
lab_steerd_stop_all
lab_echo_stop_all
lab_echo_start_all || exit 1
bin=$(lab_bin)

# ms since the epoch as a sleep's argument: sleep until instant t.
sleep_until()
{
	local rem=$(($1 - $(lab_now_ms)))

	[ $rem -le 0 ] || sleep "$(printf '%d.%03d' $((rem / 1000)) $((rem % 1000)))"
}

# The scenario's fault, from instant $ta on; sets fa (start) and fb (end),
# ms since the epoch, and dead (the hosts whose steerd it killed).
fault()
{
	local pid

	dead=
	case $1 in
	stop1 | stop5)
		pid=$(cat "$LAB_STATE/pid/steerd-h$fault_h")
		fa=$(lab_now_ms)
		kill -STOP "$pid"
		lab_say "steerd of h$fault_h stopped (SIGSTOP)"
		sleep_until $((fa + ${1#stop} * 1000))
		kill -CONT "$pid"
		fb=$(lab_now_ms)
		lab_say "steerd of h$fault_h continued (SIGCONT) after $((fb - fa)) ms"
		;;
	lossy)
		fa=$(lab_now_ms)
		lab_link_impair $fault_h 20 10 || return
		lab_say "h$fault_h's link: 10% loss and 20 ms each way ($(($(lab_now_ms) - fa)) ms to set up)"
		sleep_until $((fa + 5000))
		drops=$(lab_link_drops $fault_h)
		lab_link_heal $fault_h || return
		fb=$(lab_now_ms)
		lab_say "h$fault_h's link healed after $((fb - fa)) ms;" \
			"frames dropped to/from h$fault_h: ${drops:-?}"
		;;
	partition_failover)
		fa=$(lab_now_ms)
		lab_cut $fault_h || return
		lab_say "h$fault_h cut off from the other nodes"
		sleep_until $((fa + 1000))
		lab_crash steerd-h2
		dead=2
		lab_say "steerd of h2 killed (-9) during the partition"
		sleep_until $((fa + 3000))
		lab_heal $fault_h || return
		fb=$(lab_now_ms)
		lab_say "partition healed after $((fb - fa)) ms"
		;;
	kill2)
		fa=$(lab_now_ms)
		lab_crash steerd-h$fault_h
		lab_say "steerd of h$fault_h killed (-9)"
		sleep_until $((fa + 3000))
		lab_crash steerd-h4
		fb=$(lab_now_ms)
		dead="$fault_h 4"
		lab_say "steerd of h4 killed (-9), $((fb - fa)) ms later"
		;;
	esac
}

# Wait (at most secs s) until each of the hosts given counts want cells
# live. 0, or 1 on timeout.
cells_wait()
{
	local want=$1 secs=$2 i k ok

	shift 2
	for ((i = 0; i < secs * 10; i++)); do
		ok=1
		for k in "$@"; do
			[ "$(lab_cells_live "$k")" = "$want" ] || { ok=0; break; }
		done
		[ $ok = 1 ] && return 0
		sleep 0.1
	done
	return 1
}

# Recovery (see the head) from the waits steer-traffic logged.
recovery()
{
	python3 - "$1" "$grace" "$sc"/gaps*.csv <<'EOF'
import csv, sys
fb, grace = float(sys.argv[1]), float(sys.argv[2])
last, never = fb, False
for path in sys.argv[3:]:
    try:
        rows = list(csv.DictReader(open(path)))
    except OSError:
        continue
    for r in rows:
        start, end = float(r["start_ms"]), float(r["end_ms"])
        if start > fb + grace:
            continue
        if end < 0:
            never = True
        elif end > last:
            last = end
# Waits that ended before the fault's start end before fb too: they
# count as 0.
print(-1 if never else int(round(last - fb)))
EOF
}

# Sessions and survivors over both families from the traffic rows.
sessions()
{
	python3 - "$sc"/v4.csv "$sc"/v6.csv "$sc"/new.csv <<'EOF'
import csv, sys
t = {"tcp": 0, "survived": 0, "established": 0, "udp": 0, "udp_survived": 0,
     "new": 0, "new_established": 0, "new_survived": 0}
for path in sys.argv[1:]:
    if path.endswith("/new.csv"):
        try:
            for r in csv.DictReader(open(path)):
                t["new"] += 1
                t["new_established"] += r["state"] != "failed"
                t["new_survived"] += r["state"] == "survived"
        except OSError:
            pass
        continue
    try:
        rows = list(csv.DictReader(open(path)))
    except OSError:
        continue
    for r in rows:
        ok = r["state"] == "survived"
        if r["proto"] == "tcp":
            t["tcp"] += 1
            t["established"] += r["state"] != "failed"
            t["survived"] += ok
        else:
            t["udp"] += 1
            t["udp_survived"] += ok and r["host_changes"] == "0"
print(" ".join("%s=%d" % kv for kv in t.items()))
EOF
}

run()
{
	local name=$1 secs k live fam g lg=0 pids=() rc=0

	sc=$out/$name-load$load
	mkdir -p "$sc" || return
	lab_steerd_stop_all
	lab_steerd_start_all || return
	lab_cells_wait "$LAB_HOSTS" 10 || { echo "story: the cells do not see each other" >&2; return 1; }
	case $name in
	stop1) secs=1 ;;
	stop5 | lossy) secs=5 ;;
	partition_failover | kill2) secs=3 ;;
	esac
	secs=$((settle + secs + after))
	echo
	echo "scenario $name: $conns TCP + $udp UDP sessions per family, replication 2$([ $load = 1 ] && echo ', both cores loaded')"
	if [ $load = 1 ]; then
		lab_burn $((secs + 20)) "$sc/burners"
		cat "$sc/burners" >>"$out/pids"
	fi
	for fam in 4 6; do
		target=$LAB_VIP4
		[ $fam = 6 ] && target=$LAB_VIP6
		lab_exec $LAB_CLIENT "$bin/steer-traffic" --target "$target" \
			--port "$LAB_PORT" --conns "$conns" --udp "$udp" \
			--interval 100 --duration $secs --connect-timeout 10 \
			--stall 1000 --ready "$sc/ready$fam" --csv "$sc/v$fam.csv" \
			--gaps "$sc/gaps$fam.csv" --gap-min 100 \
			>"$sc/v$fam.txt" 2>"$sc/v$fam.err" &
		pids+=($!)
		echo $! >>"$out/pids"
	done
	for ((k = 0; k < 300; k++)); do
		[ -e "$sc/ready4" ] && [ -e "$sc/ready6" ] && break
		sleep 0.05
	done
	t0=$(lab_now_ms)
	lab_say "sessions up: v4 $(cat "$sc/ready4" 2>/dev/null), v6 $(cat "$sc/ready6" 2>/dev/null)"
	sleep_until $((t0 + settle * 1000))
	# New connections while the fault lasts, from 0.5 s into it: their
	# flows are decided then, by whichever cells own their shards.
	(
		sleep 0.5
		exec nsenter --net=/run/netns/$LAB_CLIENT "$bin/steer-traffic" \
			--target "$LAB_VIP4" --port "$LAB_PORT" --conns "$fresh" \
			--udp 0 --interval 100 --duration $((secs - settle - 1)) \
			--connect-timeout 10 --stall 1000 --csv "$sc/new.csv" \
			>"$sc/new.txt" 2>"$sc/new.err"
	) &
	pids+=($!)
	echo $! >>"$out/pids"
	fault "$name" || { echo "story: the fault of $name failed" >&2; rc=1; }
	for k in "${pids[@]}"; do
		wait "$k"
	done
	for k in $(cat "$sc/burners" 2>/dev/null); do
		kill "$k" 2>/dev/null
		wait "$k" 2>/dev/null
	done
	: >"$out/pids"
	lab_say "traffic over"
	# Everyone alive sees everyone alive again (the stopped, cut-off cell
	# too), then the owners.
	live=
	for ((k = 1; k <= LAB_HOSTS; k++)); do
		case " $dead " in *" $k "*) ;; *) live="$live $k" ;; esac
	done
	# shellcheck disable=SC2086
	set -- $live
	cells_wait $# 10 $live || lab_say "not every live cell counts $# cells live within 10 s"
	sleep 3
	# shellcheck disable=SC2086
	lab_owners_check "$sc" $live >"$sc/owners"
	for k in $live; do
		lab_steerctl "$k" -j counters >"$sc/counters-h$k.json" 2>/dev/null
		lab_steerctl "$k" shards >"$sc/shards-h$k.txt" 2>/dev/null
	done
	[ -z "${STEER_STORY_KEEP_OUT:-}" ] || cp "$LAB_STATE"/log/steerd-h*.log "$sc/" 2>/dev/null
	grep -v '^OWNERS' "$sc/owners"
	for fam in 4 6; do
		if ! grep -q '^connections ' "$sc/v$fam.txt"; then
			echo "story: steer-traffic (v$fam) failed: $(cat "$sc/v$fam.err")" >&2
			return 1
		fi
		echo "  IPv$fam:"
		grep -E '^(connections|udp_flows) ' "$sc/v$fam.txt" | sed 's/^/    /'
		[ $fam = 6 ] || sed -n 's/^connections /    new during the fault: /p' "$sc/new.txt"
		for g in $(grep -E '^(connections|udp_flows) ' "$sc/v$fam.txt" |
			sed 's/.*longest_gap_ms \([0-9]*\).*/\1/'); do
			[ "$g" -gt $lg ] && lg=$g
		done
	done
	s=$(sessions)
	known=$(lab_death_known_ms $fault_h "$fa")
	# Stopped for 1 s, or partitioned, a cell may be seen silent by only
	# some: the line says what the logs say.
	echo "RESULT scenario=$name tcp=$(field tcp "$s") survived=$(field survived "$s")" \
		"udp=$(field udp "$s") udp_survived=$(field udp_survived "$s")" \
		"longest_gap_ms=$lg recovery_ms=$(recovery "$fb")" \
		"double_owners=$(sed -n 's/^OWNERS .*double=//p' "$sc/owners")" \
		"load=$load established=$(field established "$s") known_ms=$known" \
		"cells_live=$(lab_cells_live 1) new=$(field new "$s")" \
		"new_established=$(field new_established "$s")" \
		"new_survived=$(field new_survived "$s")"
	return $rc
}

field()
{
	echo "$2" | tr ' ' '\n' | sed -n "s/^$1=//p"
}

echo "story: chaos in the cell-mode lab: cells h1..h$LAB_HOSTS, replication 2," \
	"faults on h$fault_h; scenarios: $scenarios"
rc=0
for s in $scenarios; do
	run "$s" || rc=1
done
exit $rc

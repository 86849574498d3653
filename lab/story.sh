#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The host-mode story, on the lab of lab/topo.sh: live TCP and UDP
# sessions through the service address while the host set changes under
# them, with steer and without it.
#
#   client --(K TCP + U UDP, v4 and v6)--> ECMP router --> h1..h4 (bridge)
#                                                      \-> h5 (routed)
#   t0      every session established (h1..h4 behind the VIP)
#   t0+2s   h5 joins the ECMP set           (flows move to h5)
#   t0+4s   h2 leaves the ECMP set          (h2's flows move elsewhere)
#   t0+6s   steerd of h3 is killed (-9)     (its XDP program keeps working)
#   t0+7s   ... and started again           (it finds its pinned maps)
#   t0+10s  the traffic stops; every session reports survived or not
#
# Usage: lab/story.sh [--ecmp multipath|resilient] [--xdp on|off]
#                     [--ownership flood|directory] [--load]
#                     [--conns K] [--udp U] [--keep] [--show] [--csv DIR]
# --ownership: how the nodes find a session's owner (the cluster
# descriptions' 'ownership'; default flood). --load: a CPU burner on
# every core for the whole story.
# --show: after the traffic, what steerctl says on h1 (nodes, templates,
# counters). --csv: steer-traffic's per-flow rows into DIR/v4.csv, v6.csv.
# Prints a readable account, then one line per family:
#   RESULT ecmp=M xdp=X ownership=O load=L family=F tcp=K established=E survived=S broken=B
#          stalled=T udp=U udp_survived=V udp_moved=W longest_gap_ms=G
# Builds the lab when it is down and tears down what it built on exit
# (--keep leaves it up). Exit 0 when the story ran, whatever the sessions
# did; 1 when it could not run; 77 when not root.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lab/lib.sh
. "$here/lib.sh"

ecmp=multipath
xdp=on
ownership=flood
load=0
conns=200
udp=10
keep=0
show=0
csvdir=
while [ $# -gt 0 ]; do
	case $1 in
	--ecmp) ecmp=$2; shift 2 ;;
	--xdp) xdp=$2; shift 2 ;;
	--ownership) ownership=$2; shift 2 ;;
	--load) load=1; shift ;;
	--conns) conns=$2; shift 2 ;;
	--udp) udp=$2; shift 2 ;;
	--keep) keep=1; shift ;;
	--show) show=1; shift ;;
	--csv) csvdir=$2; shift 2 ;;
	*) echo "usage: $0 [--ecmp multipath|resilient] [--xdp on|off] [--ownership flood|directory] [--load] [--conns K] [--udp U] [--keep]" >&2
	   exit 1 ;;
	esac
done
if [ "$(id -u)" != 0 ]; then
	echo "story: needs root (network namespaces, XDP, cgroups): skipped" >&2
	exit 77
fi
case $xdp in on | off) ;; *) echo "story: --xdp expects on or off" >&2; exit 1 ;; esac
case $ownership in flood | directory) ;; *) echo "story: --ownership expects flood or directory" >&2; exit 1 ;; esac
lab_mode_check "$ecmp" || exit 1

built_here=0
out=$(mktemp -d /tmp/st-story.XXXXXX)
cleanup()
{
	local p

	for p in $(cat "$out/pids" "$out/burn" 2>/dev/null); do
		kill -KILL "$p" 2>/dev/null
	done
	: >"$out/pids"
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
	STEER_LAB_ECMP=$ecmp lab_init || exit 1
	built_here=1
	lab_up >/dev/null || exit 1
fi
lab_init || exit 1
export STEER_LAB_XDP=$xdp
export STEER_LAB_OWNERSHIP=$ownership
lab_config_write_all || exit 1
lab_ecmp_reset "$ecmp" 0 >/dev/null || exit 1
lab_steerd_stop_all
lab_echo_stop_all
lab_echo_start_all || exit 1
lab_steerd_start_all || exit 1
# Gossip converges in well under a second; give the joins that long.
sleep 1



echo "story: $conns TCP + $udp UDP sessions per family through $LAB_VIP4 and"
echo "       $LAB_VIP6, ECMP $ecmp, steer XDP $xdp, ownership $ownership$([ $load = 1 ] && echo ", CPUs busy")"
[ $load = 0 ] || lab_burn 30 "$out/burn"
bin=$(lab_bin)
# The events, timed from here, beside the CSV rows (--csv).
LAB_EVENTS=${csvdir:+$csvdir/events.csv}
LAB_EVENTS_T=$(lab_now_ms)
[ -z "$LAB_EVENTS" ] || : >"$LAB_EVENTS"
for fam in 4 6; do
	target=$LAB_VIP4
	[ $fam = 6 ] && target=$LAB_VIP6
	lab_exec $LAB_CLIENT "$bin/steer-traffic" --target "$target" \
		--port "$LAB_PORT" --conns "$conns" --udp "$udp" --interval 100 \
		--duration 10 --connect-timeout 10 --stall 1000 \
		--ready "$out/ready$fam" --csv "${csvdir:-$out}/v$fam.csv" \
		>"$out/v$fam.txt" 2>"$out/v$fam.err" &
	echo $! >>"$out/pids"
done
for ((i = 0; i < 200; i++)); do
	[ -e "$out/ready4" ] && [ -e "$out/ready6" ] && break
	sleep 0.05
done
t0=$(lab_now_ms)
lab_say "sessions up: v4 $(cat "$out/ready4" 2>/dev/null), v6 $(cat "$out/ready6" 2>/dev/null)"
sleep 2
lab_ecmp_add 5 >/dev/null && lab_event "h5 joins the ECMP set"
sleep 2
lab_ecmp_del 2 >/dev/null && lab_event "h2 leaves the ECMP set"
sleep 2
lab_crash steerd-h3 && lab_event "steerd of h3 killed (-9)"
sleep 1
lab_steerd_start 3 && lab_event "steerd of h3 started again"
for p in $(cat "$out/pids"); do
	wait "$p"
done
for p in $(cat "$out/burn" 2>/dev/null); do
	kill "$p" 2>/dev/null
done
lab_say "traffic over"
echo
if [ $show = 1 ]; then
	for c in nodes templates; do
		echo "steerctl $c (on h1):"
		lab_steerctl 1 $c 2>&1 | sed 's/^/  /'
		echo
	done
	echo "steerctl counters (on h1; non-zero):"
	lab_steerctl 1 counters 2>&1 | grep -A12 -E '^(xdp|xdp_action|host|gossip)$' |
		sed 's/^/  /'
	echo
fi

rc=0
lost=0
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
	[ "$s" = "$k" ] && [ "${us:-0}" = "${u:-0}" ] && [ "${um:-0}" = 0 ] ||
		lost=1
	echo "RESULT ecmp=$ecmp xdp=$xdp ownership=$ownership load=$load family=$fam tcp=$k established=$e" \
		"survived=$s broken=$b stalled=$t udp=${u:-0}" \
		"udp_survived=${us:-0} udp_moved=${um:-0} longest_gap_ms=$g"
done
# A session lost with steer: which ones, and what every node says, for
# whoever reads the output of a failed run.
if [ $xdp = on ] && [ $lost = 1 ]; then
	echo
	echo "sessions lost with steer; the flows not kept (steer-traffic's rows):"
	for fam in 4 6; do
		grep -v ',survived,' "${csvdir:-$out}/v$fam.csv" | sed 's/^/  /'
	done
	for ((k = 1; k <= LAB_HOSTS; k++)); do
		echo "h$k: steerctl nodes, counters"
		lab_steerctl $k nodes 2>&1 | sed 's/^/  /'
		lab_steerctl $k counters 2>&1 | sed 's/^/  /'
	done
fi
exit $rc

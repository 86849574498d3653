#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Migration hints and the predictive header cache in the lab (host mode,
# ownership by directory, a resilient next-hop group). K TCP connections
# and U UDP flows run through the VIP over IPv4 while the operator drains
# h1: h1 hints its sessions to the other hosts before its drain-hook
# takes it out of the route, so their packets arriving there meet cached
# templates (HINT rules) and go straight to h1.
#   - with hints: every session survives; the other hosts' caches hold
#     h1's sessions, packets met them (hit entries, cached packets); h2's
#     steerd killed (-9) while the sessions live and started again warms
#     its cache from disk (LMDB); `steerctl cache invalidate all` empties
#     both levels;
#   - the same with a CPU burner on each core: every session survives,
#     packets still meet cached templates;
#   - without hints (the same story): every session survives through the
#     homes (packets re-routed), nothing is cached;
#   - with 'drain-udp move': the host holding the most UDP sessions is
#     drained instead of h1; they move to another host (answered from
#     there on), every flow survives.
#
# Exit 0 pass, 1 fail, 77 skipped (not root).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
K=${STEER_LAB_CONNS:-40}
U=10

# shellcheck source=tests/lab/begin.sh
. "$here/begin.sh"
export STEER_LAB_ECMP=resilient
lab_init || exit 1
lab_test_up hints

# sum KEY FILE...: the sum of KEY under its object in each JSON file.
sum()
{
	python3 - "$@" <<'EOF2'
import json, sys
obj, key, total = sys.argv[1], sys.argv[2], 0
for f in sys.argv[3:]:
    try:
        total += json.load(open(f)).get(obj, {}).get(key, 0)
    except (OSError, ValueError):
        pass
print(total)
EOF2
}

# The host that holds the most UDP sessions (first seen there).
most_udp()
{
	local k n best=1 max=-1

	for ((k = 1; k <= LAB_HOSTS; k++)); do
		lab_steerctl $k -j counters >"$out/udp$k.json" 2>/dev/null
		n=$(sum xdp udp_new "$out/udp$k.json")
		[ "$n" -gt "$max" ] && { max=$n; best=$k; }
	done
	echo $best
}

# One run; $1: on or off (hints), $2: quiet or loaded, $3: drain-udp
# (keep by default).
run()
{
	local hints=$1 load=$2 i k files=() cfiles=() line

	export STEER_LAB_OWNERSHIP=directory STEER_LAB_HINTS=$hints
	export STEER_LAB_DRAIN_UDP=${3:-keep}
	lab_steerd_stop_all
	lab_echo_stop_all
	rm -rf "$LAB_STATE"/h*/cache # each run's cache starts empty
	lab_config_write_all || return 1
	lab_ecmp_reset resilient 0 >/dev/null || return 1
	lab_echo_start_all || return 1
	lab_steerd_start_all || return 1
	sleep 1 # gossip's joins
	rm -f "$out/ready"
	[ "$load" = quiet ] || lab_burn 30 "$out/pids"
	lab_exec $LAB_CLIENT "$(lab_bin)/steer-traffic" --target "$LAB_VIP4" \
		--port "$LAB_PORT" --conns "$K" --udp "$U" --interval 100 \
		--duration 10 --connect-timeout 10 --stall 1500 \
		--ready "$out/ready" >"$out/v4.txt" 2>"$out/v4.err" &
	traffic=$!
	for ((i = 0; i < 200; i++)); do
		[ -e "$out/ready" ] && break
		sleep 0.05
	done
	[ -e "$out/ready" ] || { check "hints $hints, $load: the connections do not open"; return 1; }
	sleep 3
	D=1
	[ "$STEER_LAB_DRAIN_UDP" = move ] && D=$(most_udp)
	lab_steerctl $D drain >/dev/null 2>&1 || check "hints $hints, $load: steerctl drain on h$D failed"
	if [ "$hints" = on ] && [ "$load" = quiet ] &&
		[ "$STEER_LAB_DRAIN_UDP" = keep ]; then
		# h2's steerd killed and started again: its cache comes back
		# from disk, the sessions keep going.
		sleep 2
		lab_crash steerd-h2 || check "could not kill steerd of h2"
		lab_steerd_start 2 || check "steerd of h2 did not start again"
		for ((i = 0; i < 50; i++)); do
			lab_steerctl 2 -j cache >"$out/warm.json" 2>&1 && break
			sleep 0.1
		done
	fi
	wait "$traffic"
	traffic=
	line=$(grep '^connections' "$out/v4.txt")
	[ "$(echo "$line" | awk '{print $6}')" = "$K" ] ||
		check "hints $hints, $load: TCP: $line"
	line=$(grep '^udp_flows' "$out/v4.txt")
	[ "$(echo "$line" | awk '{print $4}')" = "$U" ] ||
		check "hints $hints, $load: UDP: $line"
	lab_steerctl $D -j counters >"$out/countersD.json" 2>/dev/null
	for ((k = 1; k <= LAB_HOSTS; k++)); do
		[ $k = "$D" ] && continue
		lab_steerctl $k -j cache >"$out/cache$k.json" 2>&1 ||
			check "hints $hints, $load: steerctl cache on h$k: $(head -c 200 "$out/cache$k.json")"
		lab_steerctl $k -j counters >"$out/counters$k.json" 2>/dev/null
		files+=("$out/cache$k.json")
		cfiles+=("$out/counters$k.json")
	done
	hits=$(sum cache l1_hit_entries "${files[@]}")
	cached=$(sum cache cached_packets "${files[@]}")
	held=$(sum cache l2 "${files[@]}")
	taught=$(sum host teach_reports "${cfiles[@]}")
	taken=$(sum host udp_taken "${cfiles[@]}")
	rerouted=$(sum xdp dir_rerouted "${cfiles[@]}")
	udp_moved=$(sum host udp_moved "$out/countersD.json")
	flows_moved=$(grep '^udp_flows' "$out/v4.txt" | awk '{print $8}')
	for i in $(cat "$out/pids" 2>/dev/null); do
		kill "$i" 2>/dev/null
	done
	: >"$out/pids"
	echo "[figure] hints $hints, $load: $hits cache entries met by packets, $cached packets cached, $taught teach reports, $held entries on disk"
}

run on quiet
[ "$hits" -gt 0 ] || check "hints on: no packet met a cached template"
[ "$cached" -gt 0 ] || check "hints on: no packet sent from a cached template"
[ "$held" -gt 0 ] || check "hints on: no hinted session on disk"
[ "$(sum cache warmed "$out/warm.json")" -gt 0 ] ||
	check "h2 restarted: nothing warmed from its cache ($(head -c 300 "$out/warm.json"))"
lab_steerctl 2 cache invalidate all >/dev/null 2>&1 || check "steerctl cache invalidate all failed"
lab_steerctl 2 -j cache >"$out/after.json" 2>&1
[ "$(sum cache l1 "$out/after.json")" = 0 ] && [ "$(sum cache l2 "$out/after.json")" = 0 ] ||
	check "after invalidate all: $(head -c 300 "$out/after.json")"
lab_steerctl 1 undrain >/dev/null 2>&1

run on loaded
[ "$hits" -gt 0 ] || check "hints on, loaded: no packet met a cached template"
lab_steerctl 1 undrain >/dev/null 2>&1

run off quiet
[ "$cached" = 0 ] || check "hints off: $cached packets cached"
[ "$rerouted" -gt 0 ] || check "hints off: no packet went through a home"
[ "$udp_moved" = 0 ] || check "drain-udp keep: h1 moved $udp_moved UDP sessions"
lab_steerctl 1 undrain >/dev/null 2>&1

run on quiet move
[ "$udp_moved" -gt 0 ] || check "drain-udp move: h$D moved no UDP session"
[ "$taken" = "$udp_moved" ] || check "drain-udp move: h$D moved $udp_moved UDP sessions, the others took $taken"
[ "${flows_moved:-0}" -gt 0 ] || check "drain-udp move: no UDP flow answered from another host"
echo "[figure] drain-udp move: $udp_moved UDP sessions moved from h$D, $flows_moved flows answered from their new host"
[ $fail = 0 ] && echo "PASS"
exit $fail

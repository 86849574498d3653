#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Chaos in the cell-mode lab (lab/story_chaos.sh), replication 2, 100 TCP
# connections and 10 UDP flows per family live through the VIP in each
# scenario: quiet, a cell's steerd stopped for 1 s and for 5 s, 10% loss
# and 20 ms delay on a cell's link for 5 s, a cell cut off while another
# is killed -9, two cells killed -9 3 s apart; then with both cores loaded
# stop5, lossy, partition_failover and kill2.
#
# In every scenario one copy of every flow's state stays reachable, so
# every TCP connection and UDP flow must survive (a UDP flow on the
# backend it began with), and 3 s after the traffic no flow may have two
# owners on the live cells; 20 new connections opened during each fault
# must be established and last. Gaps and recovery times are printed,
# never judged.
# Each run prints a line
#   [run] NAME load L survived S/K udp V/U longest_gap_ms G recovery_ms R
#
# Exit 0 pass, 1 fail, 77 skipped (not root).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
story=$top/lab/story_chaos.sh
K=${STEER_LAB_CONNS:-100}
U=${STEER_LAB_UDP:-10}

# shellcheck source=tests/lab/begin.sh
. "$here/begin.sh"
export STEER_LAB_KIND=cell STEER_LAB_BACKENDS=3
lab_init || exit 1
trap 'lab_down' EXIT
trap 'exit 1' INT TERM
lab_up >/dev/null || { echo "FAIL: the lab does not build"; exit 1; }

quiet=${STEER_LAB_CHAOS_QUIET-stop1 stop5 lossy partition_failover kill2}
loaded=${STEER_LAB_CHAOS_LOADED-stop5 lossy partition_failover kill2}
results=0
for pass in quiet loaded; do
	list=$quiet
	load=
	if [ $pass = loaded ]; then
		list=$loaded
		load=--load
	fi
	[ -n "$list" ] || continue
	# Checks read $out with <<<, not `echo | grep -q` (see test_cell_mode).
	# shellcheck disable=SC2086
	out=$("$story" --keep --scenarios "$list" --conns "$K" --udp "$U" $load 2>&1)
	rc=$?
	echo "$out" | sed 's/^/  /'
	[ $rc = 0 ] || check "story ($pass) exited $rc"
	for s in $list; do
		r=$(grep "^RESULT scenario=$s " <<<"$out")
		if [ -z "$r" ]; then
			check "$s ($pass): no result"
			continue
		fi
		results=$((results + 1))
		tcp=$(field tcp "$r")
		sur=$(field survived "$r")
		u=$(field udp "$r")
		us=$(field udp_survived "$r")
		dbl=$(field double_owners "$r")
		echo "[run] $s load $(field load "$r") survived $sur/$tcp udp $us/$u" \
			"longest_gap_ms $(field longest_gap_ms "$r")" \
			"recovery_ms $(field recovery_ms "$r")"
		[ "$tcp" = $((2 * K)) ] || check "$s ($pass): $tcp connections, not $((2 * K))"
		[ "$(field established "$r")" = "$tcp" ] ||
			check "$s ($pass): $(field established "$r") of $tcp connections established"
		[ "$sur" = "$tcp" ] || check "$s ($pass): $sur of $tcp connections survived"
		[ "$u" = $((2 * U)) ] && [ "$us" = "$u" ] ||
			check "$s ($pass): $us of $u UDP flows survived on their backend"
		nw=$(field new "$r")
		[ "$(field new_established "$r")" = "$nw" ] && [ "$(field new_survived "$r")" = "$nw" ] ||
			check "$s ($pass): of $nw new connections opened during the fault $(field new_established "$r") established, $(field new_survived "$r") lasted"
		[ "$dbl" = 0 ] || check "$s ($pass): ${dbl:-?} flows with two owners after the heal"
	done
done
[ $results -gt 0 ] || check "no scenario ran"
[ $fail = 0 ] && echo "PASS"
exit $fail

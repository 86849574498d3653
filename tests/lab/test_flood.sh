#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# A SYN flood in the lab (lab/story_flood.sh, cell mode, replication 2):
# 200 live TCP connections and 20 UDP flows through the service while
# 20,000 SYNs a second from random spoofed sources hit it for 6 s and new
# short connections keep arriving, with the fast paths' flood guard at
# 2,000 new flows a second per core.
#
# Runs: the baseline (no flood: the usual longest gap), then floods with
# policy stateless (quiet, then both cores loaded by other work) and with
# policy drop on flow tables of 4,096 entries (loaded), which the flood
# fills. In every flood run: every connection and UDP flow survives (and
# keeps its backend), the flood went above the guard's budget (counted),
# new connections still complete, and what the guard did shows where the
# policy says (fast paths sending guarded flows straight to the backend
# the cells' Maglev table names; SYNs dropped; full cell tables
# forwarding without state). In the quiet stateless run the client also
# sends a cell 20 exception datagrams from outside the fabric: all are
# refused. Each run prints
#   [run] NAME survived S/K udp V/U longest_gap_ms G new_done D
#         guard_over O
# and the story's FLOOD and NEW lines. Timing is printed, never judged.
#
# Exit 0 pass, 1 fail, 77 skipped (not root).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
story=$top/lab/story_flood.sh

# shellcheck source=tests/lab/begin.sh
. "$here/begin.sh"
export STEER_LAB_KIND=cell STEER_LAB_BACKENDS=3
lab_init || exit 1
trap 'lab_down' EXIT
trap 'exit 1' INT TERM
lab_up >/dev/null || { echo "FAIL: the lab does not build"; exit 1; }

for run in base stateless stateless-load drop-table-load; do
	args=
	case $run in
	base) args="--rate 0" ;;
	stateless) args="--policy stateless --forge 20" ;;
	stateless-load) args="--policy stateless --load" ;;
	drop-table-load) args="--policy drop --table 4096 --load" ;;
	esac
	# shellcheck disable=SC2086
	out=$("$story" --keep $args 2>&1)
	rc=$?
	res=$(grep '^RESULT ' <<<"$out")
	fl=$(grep '^FLOOD ' <<<"$out")
	nw=$(grep '^NEW ' <<<"$out")
	if [ $rc != 0 ] || [ -z "$res" ] || [ -z "$fl" ] || [ -z "$nw" ]; then
		echo "$out"
		check "$run: the story did not run (exit $rc)"
		continue
	fi
	k=$(field tcp "$res")
	s=$(field survived "$res")
	e=$(field established "$res")
	u=$(field udp "$res")
	us=$(field udp_survived "$res")
	um=$(field udp_moved "$res")
	nd=$(field 'done' "$nw")
	over=$(field guard_over "$fl")
	echo "[run] $run survived $s/$k udp $us/$u longest_gap_ms" \
		"$(field longest_gap_ms "$res") new_done $nd guard_over $over"
	echo "  $fl"
	echo "  $nw"
	[ "$e" = "$k" ] && [ "$s" = "$k" ] ||
		check "$run: $s of $k connections survived ($e established)"
	[ "$us" = "$u" ] && [ "$um" = 0 ] ||
		check "$run: $us of $u UDP flows survived, $um moved"
	[ "${nd:-0}" -gt 0 ] || check "$run: no new connection completed"
	[ $run = base ] && continue
	[ "${over:-0}" -gt 0 ] ||
		check "$run: the flood never went above the guard's budget"
	case $run in
	stateless*)
		[ "$(field guard_direct "$fl")" -gt 0 ] ||
			check "$run: no guarded flow went straight to its backend"
		;;
	esac
	case $run in
	stateless)
		# Exception datagrams from outside the fabric: every one refused.
		fg=$(grep '^FORGED ' <<<"$out")
		echo "  $fg"
		[ "$(field refused "$fg")" = 20 ] ||
			check "$run: of 20 forged exception datagrams, $(field refused "$fg") refused"
		;;
	drop*)
		[ "$(field dropped "$fl")" -gt 0 ] ||
			check "$run: no SYN above the budget was dropped"
		[ "$(field cells_full "$fl")" -gt 0 ] ||
			check "$run: no cell forwarded a flow without state when full"
		;;
	esac
done
[ $fail = 0 ] && echo "PASS"
exit $fail

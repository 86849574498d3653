#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Cell mode in the lab (lab/story_cell.sh): K live TCP connections and U
# UDP flows per family (v4 and v6) through fast-path nodes h1..h4 to the
# backends, while at once a backend is added, the cell of h3 dies (its
# steerd killed, not restarted) and h2 leaves the ECMP set.
#
# With replication 2: every connection survives and every UDP flow keeps
# its backend (the dead cell's flows have their state on its mirrors).
# With replication 1: the state of the dead cell's flows is gone, so the
# cells that take its shards decide again, with the new backend among the
# candidates; the share of sessions lost is printed as a figure.
# After the rf 2 story, what steerctl shows of h1's cell (--show) must
# reflect it: h3's cell out of the shard map, the flow table's records
# with their mirrors, the cell's counters. When the sessions end, their
# closes reach the cells (the fast path sends FIN and RST there), and the
# packets that changed state reached the mirror cells (rf 2 only).
# A third story (rf 2) starts the killed cell again 2 s after the events:
# its mirrors hand its flows back (it holds new flows of its shards until
# then), and every connection survives that too. A fourth (rf 2) runs
# with both cores kept busy by CPU burners the story starts (--load): a
# loaded machine must keep every connection too.
# A fifth (rf 2, loaded too) runs with replication-policy predicted
# after 6 s of short connections the cells learn from: every connection
# survives as well, the cells learnt flows and gave some one copy; the
# run prints what the policy did.
# In every rf 2 story: every live cell knows of the killed one (the run
# reports how soon), and no flow's records name different backends on
# different cells (a flow is decided once). Each run prints a line
#   [run] NAME survived v4 S/K v6 S/K longest_gap_ms G death_known_ms D
#
# Exit 0 pass, 1 fail, 77 skipped (not root).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
story=$top/lab/story_cell.sh
K=${STEER_LAB_CONNS:-300}
S=${STEER_LAB_SETTLE:-2} # s the sessions live before the events
U=${STEER_LAB_UDP:-20}

# shellcheck source=tests/lab/begin.sh
. "$here/begin.sh"
export STEER_LAB_KIND=cell STEER_LAB_BACKENDS=4
lab_init || exit 1
trap 'lab_down' EXIT
trap 'exit 1' INT TERM
lab_up >/dev/null || { echo "FAIL: the lab does not build"; exit 1; }

# A run is the replication factor, then r for the restart, l for load.
# STEER_LAB_RUNS picks others (e.g. "2l 1l 2rl": all of them loaded).
for run in ${STEER_LAB_RUNS:-2 1 2r 2l 2pl}; do
	rf=${run%%[rlp]*}
	policy=
	warm=
	show=
	extra=
	load=
	[ $run = 2 ] && show=--show
	case $run in *l*) load=--load ;; esac
	case $run in *p*) policy=predicted warm="--warmup 6" ;; esac
	# The killed cell starts again 2 s after the events, empty: its
	# mirrors hand its flows back and no connection may break.
	# UDP rules idle 2 s expire on the fast paths, and the UDP flows'
	# records on the cells (after the traffic).
	case $run in *r*) extra="--restart 2 --linger 9" ;; esac
	# shellcheck disable=SC2086
	udpt=
	case $run in *r*) udpt=2 ;; esac
	# Checks read $out with <<<, not `echo | grep -q`: grep -q stops at
	# its first match and, with pipefail, echo's SIGPIPE on a long
	# account failed the check.
	out=$(STEER_LAB_UDP_TIMEOUT=$udpt STEER_LAB_REPL_POLICY=$policy "$story" --keep --rf $rf --conns "$K" --udp "$U" --settle "$S" $show $extra $load $warm 2>&1)
	rc=$?
	echo "$out" | sed 's/^/  /'
	[ $rc = 0 ] || { check "story (rf $rf) exited $rc"; continue; }
	n=$(echo "$out" | grep -c '^RESULT')
	[ "$n" = 2 ] || { check "story (rf $rf): $n results, not 2"; continue; }
	r4=$(echo "$out" | grep '^RESULT .*family=4 ')
	r6=$(echo "$out" | grep '^RESULT .*family=6 ')
	g4=$(field longest_gap_ms "$r4")
	g6=$(field longest_gap_ms "$r6")
	dk=$(field death_known_ms "$r4")
	echo "[run] $run survived v4 $(field survived "$r4")/$K v6" \
		"$(field survived "$r6")/$K longest_gap_ms" \
		"$((g4 > g6 ? g4 : g6)) death_known_ms $dk"
	if [ "$rf" = 2 ]; then
		[ "${dk:--1}" -ge 0 ] 2>/dev/null ||
			check "run $run: not every live cell knew h3's cell dead"
		rec=$(echo "$out" | grep '^RECORDS ')
		[ "$(field disagree "$rec")" = 0 ] ||
			check "run $run: records of $(field disagree "$rec") flows name different backends ($rec)"
	fi
	if [ -n "$extra" ]; then
		cl=$(echo "$out" | grep '^CLOSES ')
		rx=$(field rules_expired "$cl")
		[ "${rx:-0}" -ge "$U" ] ||
			check "run $run: ${rx:-no} idle rules expired, not the $U UDP flows' at least"
		# The cells heard of the rules in use while the traffic ran,
		# and idled the UDP flows out once it stopped.
		[ "$(field flows_touched "$cl")" -gt 0 ] 2>/dev/null ||
			check "run $run: no fast path reported a rule in use to a cell"
		[ "$(field closed "$cl")" -ge "$U" ] 2>/dev/null ||
			check "run $run: $(field closed "$cl") records idled out on the cells, not the $U UDP flows' at least"
		rs=$(echo "$out" | grep '^RESTART ')
		[ "$(field handback_received "$rs")" -gt 0 ] 2>/dev/null ||
			check "run $run: nothing handed back to the restarted cell ($rs)"
	fi
	rp=$(echo "$out" | grep '^REPLPOLICY ')
	if [ -n "$policy" ]; then
		[ "$(field policy "$rp")" = predicted ] ||
			check "run $run: the cells run policy '$(field policy "$rp")'"
		[ "$(field flows_learnt "$rp")" -gt 0 ] 2>/dev/null ||
			check "run $run: the cells learnt no flow ($rp)"
		[ "$(field flows_one_copy "$rp")" -gt 0 ] 2>/dev/null ||
			check "run $run: no flow got one copy ($rp)"
		echo "[figure] replication-policy predicted: of $(field flows_created "$rp") flows" \
			"$(field flows_one_copy "$rp") began with one copy," \
			"$(field raised_lived_on "$rp") raised as they lived on," \
			"$(field raised_not_the_pick "$rp") when the new backend changed their pick;" \
			"$(field records_sent "$rp") records replicated"
	fi
	if [ $run = 2 ]; then
		grep -Eq '^ +cells_live +4$' <<<"$out" ||
			check "steerctl shards: not 4 cells live after h3's died"
		grep -Eq '^ +3 +h3 +[a-z]+ +false +0 +0$' <<<"$out" ||
			check "steerctl shards: h3 still holds shards"
		grep -q 'STATE  *BACKEND  *PRIMARY  *SHARD  *SHARD_PRIMARY  *MIRRORS  *RF  *VERSION  *EPOCH  *AGE_MS  *IDLE_MS' <<<"$out" ||
			check "steerctl flows: no table of the cell's records"
		grep -Eq '^ +shown +10$' <<<"$out" ||
			check "steerctl flows limit 10: not 10 records shown"
		for c in exceptions_in flows_created rules_sent forwarded applied; do
			grep -Eq "^ +$c +[1-9]" <<<"$out" ||
				check "steerctl counters: no $c"
		done
	fi
	# Closes reach the cells (FIN/RST through the cell), and state
	# changes reach the mirrors as packets too, but only with mirrors.
	cl=$(echo "$out" | grep '^CLOSES ')
	ended=$(field tcp_ended "$cl")
	[ "${ended:-0}" -ge "$K" ] ||
		check "run $run: ${ended:-no} TCP records closing or closed after $((2 * K)) sessions ended"
	[ "$(field close_to_cell "$cl")" -gt 0 ] 2>/dev/null ||
		check "rf $rf: no FIN or RST sent to a cell by a fast path"
	msent=$(field mirror_sent "$cl")
	if [ $rf = 2 ]; then
		[ "$(field mirror_applied "$cl")" -gt 0 ] 2>/dev/null ||
			check "rf 2: no mirrored packet applied by a mirror"
	else
		[ "$msent" = 0 ] ||
			check "rf 1: $msent packets mirrored without mirrors"
	fi
	while read -r line; do
		fam=$(field family "$line")
		est=$(field established "$line")
		sur=$(field survived "$line")
		usur=$(field udp_survived "$line")
		umov=$(field udp_moved "$line")
		[ "$est" = "$K" ] ||
			check "rf $rf v$fam: $est of $K established"
		if [ $rf = 2 ]; then
			[ "$sur" = "$K" ] ||
				check "run $run v$fam: $sur of $K connections survived"
			[ "$usur" = "$U" ] ||
				check "run $run v$fam: $usur of $U UDP flows survived"
			[ "$umov" = 0 ] ||
				check "run $run v$fam: $umov UDP flows changed backend"
			# The story's EXPLAIN line says why (see story_cell.sh).
			why=$(echo "$out" | grep "^EXPLAIN rf=2 family=$fam ")
			[ -z "$why" ] || echo "  why (v$fam): $why"
		else
			why=$(echo "$out" | grep "^EXPLAIN rf=1 family=$fam ")
			lost=$(field lost "$why")
			lost=${lost:-0}
			echo "[figure] replication 1, v$fam: $((K - sur)) of $K connections lost, $umov of $U UDP flows moved, $((U - usur)) stalled: $lost of $((K + U)) sessions ($((100 * lost / (K + U)))%)"
		fi
	done < <(echo "$out" | grep '^RESULT')
done
[ $fail = 0 ] && echo "PASS"
exit $fail

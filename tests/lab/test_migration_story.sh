#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The header cache's whole story (bench/lab/migration_story.sh) in its
# predicting mode, ownership by directory with hints, both cores busy
# throughout: 100 TCP connections and 10 UDP flows per family beside a
# replayed workload; h1 drained by its forecast, h5 joining, h3's steerd
# killed and started again. Checked, none of it on timing:
#   - every long-lived session survived and every workload connection
#     was answered;
#   - the forecast drained h1 (not the operator's fallback);
#   - the drain and the join each moved sessions to a new ingress, and
#     no first packet at a new ingress was lost;
#   - the joiner's warm-up worked: some first packets at it came from
#     cached templates (the join hints);
#   - steer-pathlat followed every service packet it saw to a node;
#   - the score named some of h1's sessions before the drain.
#
# Exit 0 pass, 1 fail, 77 skipped (not root).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
if [ "$(id -u)" != 0 ]; then
	echo "SKIP: the lab needs root (namespaces, XDP, cgroups)"
	exit 77
fi
out=$(mktemp -d /tmp/st-story.XXXXXX) || exit 1
trap 'rm -rf "$out"' EXIT
fail=0
check()
{
	echo "FAIL: $*"
	fail=1
}

bash "$top/bench/lab/migration_story.sh" --modes directory_hints \
	--conns 100 --seconds 50 --out "$out/run" >"$out/figures.txt" 2>"$out/err.txt"
rc=$?
sed 's/^/  /' "$out/figures.txt"
[ $rc = 0 ] || check "the story did not run (exit $rc): $(tail -5 "$out/err.txt")"

# val NAME: the figure's value, or "" when it was not printed.
val()
{
	awk -v n="$1_directory_hints" '$1 == n { print $2 }' "$out/figures.txt"
}

# expect NAME OP VALUE WHAT: the figure compares so (OP: == or >=).
expect()
{
	local v

	v=$(val "$1")
	[ -n "$v" ] || { check "no figure $1"; return; }
	awk -v v="$v" -v m="$3" -v op="$2" \
		'BEGIN { exit !(op == "==" ? v + 0 == m + 0 : v + 0 >= m + 0) }' ||
		check "$4: $1 is $v, not $2 $3"
}

expect migration_sessions_survived_pct == 100 "long-lived sessions lost"
expect migration_sessions '>=' 220 "sessions missing"
expect migration_workload_answered_pct == 100 "workload connections unanswered"
expect migration_workload_connections '>=' 100 "the workload did not run"
expect migration_drain_forced == 0 "the forecast never drained h1"
expect migration_drains '>=' 1 "no drain"
expect migration_first_packets_drain '>=' 1 "the drain moved no session"
expect migration_first_packets_join '>=' 1 "the join moved no session"
expect migration_first_packet_cached_pct_join '>=' 1 "the join warm-up: no first packet at the joiner came from a cached template"
expect migration_first_lost == 0 "first packets at a new ingress lost"
expect migration_recall '>=' 0.01 "no session of h1 was predicted"
grep -q '^pathlat_chains [1-9]' "$out/run/directory_hints/pathlat.txt" 2>/dev/null ||
	check "steer-pathlat followed no packet"
echo "[figure] migration story, directory with hints, both cores busy: $(val migration_sessions_survived_pct)% of $(val migration_sessions) sessions survived; first packets straight to the owner after the drain $(val migration_first_packet_direct_pct_drain)%, after the join $(val migration_first_packet_direct_pct_join)%"
[ $fail = 0 ] && echo "PASS"
exit $fail

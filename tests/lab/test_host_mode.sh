#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Host mode in the lab (lab/story.sh): K live TCP connections and U UDP
# flows per family (v4 and v6) through a host joining the ECMP set, a
# host leaving it, and one host's steerd killed and started again.
#
# With steer: every connection survives (all owners stay alive), every
# UDP flow keeps its host, with sessions flooded to every node and with
# the directory (each session's record on its homes; a node that does
# not know a session sends its packets to the home). With the XDP
# program off (same lab, same story): some connections must break, or
# the story moved nothing and proves nothing; the share that breaks is
# printed as a figure. Both with a classic multipath route and with
# resilient next-hop groups; the directory once more with both cores
# busy with other work.
#
# Exit 0 pass, 1 fail, 77 skipped (not root).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
story=$top/lab/story.sh
K=${STEER_LAB_CONNS:-200}
U=${STEER_LAB_UDP:-10}

# shellcheck source=tests/lab/begin.sh
. "$here/begin.sh"
trap 'lab_down' EXIT
trap 'exit 1' INT TERM
lab_up >/dev/null || { echo "FAIL: the lab does not build"; exit 1; }

# Each run: ECMP XDP OWNERSHIP LOAD (0 or 1).
runs="multipath on flood 0
multipath on directory 0
multipath off flood 0
resilient on flood 0
resilient on directory 0
resilient off flood 0
multipath on directory 1"
while read -r ecmp xdp own load; do
	opt=()
	[ "$load" = 1 ] && opt=(--load)
	out=$("$story" --keep --ecmp "$ecmp" --xdp "$xdp" --ownership "$own" \
		"${opt[@]}" --conns "$K" --udp "$U" 2>&1)
	rc=$?
	echo "$out" | sed 's/^/  /'
	run="$ecmp, xdp $xdp, $own$([ "$load" = 1 ] && echo ", loaded")"
	{
		[ $rc = 0 ] || { check "story ($run) exited $rc"; continue; }
		n=$(echo "$out" | grep -c '^RESULT')
		[ "$n" = 2 ] || { check "story ($run): $n results, not 2"; continue; }
		while read -r line; do
			fam=$(field family "$line")
			est=$(field established "$line")
			sur=$(field survived "$line")
			brk=$(field broken "$line")
			[ "$est" = "$K" ] ||
				check "$run v$fam: $est of $K established"
			if [ "$xdp" = on ]; then
				[ "$sur" = "$K" ] ||
					check "$run v$fam: $sur of $K connections survived with steer"
				[ "$(field udp_survived "$line")" = "$U" ] ||
					check "$run v$fam: UDP flows lost with steer"
				[ "$(field udp_moved "$line")" = 0 ] ||
					check "$run v$fam: UDP flows changed host with steer"
			else
				[ "$brk" -gt 0 ] ||
					check "$run v$fam: nothing broke without steer: the story moved no flow"
				echo "[figure] without steer, $ecmp, v$fam: $brk of $K connections broke ($((100 * brk / K))%)"
			fi
		done < <(echo "$out" | grep '^RESULT')
	}
done <<<"$runs"
[ $fail = 0 ] && echo "PASS"
exit $fail

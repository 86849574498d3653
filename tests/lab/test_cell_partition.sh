#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# A partition of one cell, and its end, on real daemons in the cell-mode
# lab (replication 2): 100 live TCP connections; h3 is cut off from the
# other nodes (nftables in its namespace drops everything between its
# addresses and theirs) for 3 s, during which 40 new connections open
# through the VIP: h3, alone, is primary of every shard and decides those
# that reach it, the others decide theirs. Then the partition heals.
# Every connection must survive, and 3 s later no flow may have two
# owners: for every flow, the records all live cells hold name one
# primary, and it is the primary of the flow's shard in the cells' maps.
#
# Exit 0 pass, 1 fail, 77 skipped (not root).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
K=100
N=40
CUT=3

# shellcheck source=tests/lab/begin.sh
. "$here/begin.sh"
export STEER_LAB_KIND=cell STEER_LAB_BACKENDS=3 STEER_LAB_RF=2
lab_init || exit 1
tmp=$(mktemp -d /tmp/st-part.XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null; wait; lab_down; rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM
lab_up >/dev/null || { echo "FAIL: the lab does not build"; exit 1; }
lab_echo_start_all && lab_steerd_start_all || { echo "FAIL: steerd"; exit 1; }

lab_cells_wait "$LAB_HOSTS" 10 || check "the cells do not see each other"
traffic()
{
	lab_exec $LAB_CLIENT "$(lab_bin)/steer-traffic" --target "$LAB_VIP4" \
		--port "$LAB_PORT" --conns "$1" --interval 100 --duration "$2" \
		--connect-timeout 5 --stall 1000 >"$tmp/$3.out" 2>"$tmp/$3.err"
}
traffic $K 12 old &
sleep 2
# The cut: nothing between h3's addresses and the other nodes'.
lab_cut 3 || check "nftables: cannot cut h3 off"
# Each side decides without the other: new flows on both.
sleep 1.5
traffic $N 6 new &
sleep $((CUT - 1))
lab_heal 3 || check "nftables: cannot heal"
echo "  h3 cut off for ${CUT}.5 s, $N connections opened meanwhile"
lab_cells_wait "$LAB_HOSTS" 10 || check "the cells do not see each other after the heal"
wait
for f in old new; do
	sed "s/^/  $f: /" "$tmp/$f.out"
	read -r _ want _ est _ sur _ <"$tmp/$f.out"
	[ "$sur" = "$want" ] && [ "$est" = "$want" ] ||
		check "$f connections: $est of $want established, $sur survived"
done
sleep 3
# shellcheck disable=SC2046 # host numbers, one word each
lab_owners_check "$tmp" $(seq 1 "$LAB_HOSTS") | sed 's/^/  /'
[ "${PIPESTATUS[0]}" = 0 ] || check "a flow has two owners"
[ $fail = 0 ] && echo "PASS"
exit $fail

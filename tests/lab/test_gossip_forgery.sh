#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Forged and replayed gossip change nothing, on real daemons in the lab:
# a few datagrams h2 sends h1 are captured, then sent to h1 again from
# h2's namespace, N times as they were (replays) and N times with one
# byte of the body flipped (forgeries). h1 must count exactly N forgeries
# as bad_auth and at least N replays as replay, and its view must not
# move: every member alive with the same incarnation, the same sessions.
# Then h1's steerd is killed and started again: the same replays must
# still count as replays (the replay windows kept across the restart).
#
# Exit 0 pass, 1 fail, 77 skipped (not root).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
N=20

# shellcheck source=tests/lab/begin.sh
. "$here/begin.sh"
tmp=$(mktemp -d /tmp/st-forge.XXXXXX)
trap 'kill %1 2>/dev/null; lab_down; rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM
lab_up >/dev/null || { echo "FAIL: the lab does not build"; exit 1; }
lab_echo_start_all && lab_steerd_start_all || { echo "FAIL: steerd"; exit 1; }
sleep 2
# Ten live sessions, so that "nothing changed" covers the session table.
lab_exec $LAB_CLIENT "$(lab_bin)/steer-traffic" --target "$LAB_VIP4" \
	--port "$LAB_PORT" --conns 10 --duration 12 --ready "$tmp/ready" \
	>/dev/null 2>&1 &
for ((i = 0; i < 100; i++)); do
	[ -e "$tmp/ready" ] && break
	sleep 0.05
done
sleep 0.5

# One value of steerctl -j counters on h1: OBJECT KEY.
counter()
{
	lab_steerctl 1 -j counters | python3 -c "import json,sys; print(json.load(sys.stdin)['$1']['$2'])"
}
view()
{
	lab_steerctl 1 -j nodes | python3 -c "
import json,sys
print(' '.join('%s:%s:%s' % (n['name'], n['state'], n['incarnation']) for n in json.load(sys.stdin)['nodes']))"
	counter gossip sessions
}

lab_exec st-h1 timeout 10 tshark -q -i st-e0 -F pcap -c 4 -w "$tmp/g.pcap" \
	-f "udp dst port $LAB_GOSSIP_PORT and src host $(lab_host_addr4 2)" >/dev/null 2>&1
[ -s "$tmp/g.pcap" ] || { echo "FAIL: no gossip from h2 to h1 captured"; exit 1; }
# The captured datagrams were accepted: from now on they are replays.
sleep 0.5
before=$(view)
auth0=$(counter gossip_rx bad_auth)
replay0=$(counter gossip_rx replay)
lab_exec st-h2 python3 "$here/gossip_inject.py" "$tmp/g.pcap" \
	"$(lab_host_addr4 1)" "$LAB_GOSSIP_PORT" $N || { echo "FAIL: inject"; exit 1; }
sleep 1
after=$(view)
auth1=$(counter gossip_rx bad_auth)
replay1=$(counter gossip_rx replay)
echo "h1 before: $before"
echo "h1 after:  $after"
echo "bad_auth $auth0 -> $auth1, replay $replay0 -> $replay1"
fail=0
[ $((auth1 - auth0)) = $N ] || { echo "FAIL: $((auth1 - auth0)) forgeries counted, not $N"; fail=1; }
[ $((replay1 - replay0)) -ge $N ] || { echo "FAIL: $((replay1 - replay0)) replays counted, fewer than $N"; fail=1; }
[ "$before" = "$after" ] || { echo "FAIL: h1's view of the cluster changed"; fail=1; }
grep -qE ':(suspect|dead|left):' <<<"$after" &&
	{ echo "FAIL: a member is not alive"; fail=1; }
[ "$(echo "$after" | tail -n 1)" = 10 ] ||
	{ echo "FAIL: h1 does not hold the 10 sessions open"; fail=1; }

# A restarted h1 keeps its replay windows (saved every second in its
# state directory): the same datagrams are still replays, none of them
# is taken once more (without the saved windows, the first copy of each
# would be).
sleep 1.5 # a save after the datagrams were first taken
lab_crash steerd-h1
lab_steerd_start 1 || { echo "FAIL: h1's steerd does not start again"; exit 1; }
sleep 1
replay2=$(counter gossip_rx replay)
lab_exec st-h2 python3 "$here/gossip_inject.py" "$tmp/g.pcap" \
	"$(lab_host_addr4 1)" "$LAB_GOSSIP_PORT" $N >/dev/null || { echo "FAIL: inject"; exit 1; }
sleep 1
replay3=$(counter gossip_rx replay)
echo "after h1's restart: replay $replay2 -> $replay3"
[ $((replay3 - replay2)) -ge $N ] ||
	{ echo "FAIL: a restarted h1 counted $((replay3 - replay2)) of $N replays"; fail=1; }
[ $fail = 0 ] && echo PASS
exit $fail

#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Health checks of backends, on real daemons in the cell-mode lab: b1's
# server stops; within a few seconds every cell counts one backend down,
# and new connections through the VIP all establish, none of them on b1;
# b1's server starts again and every cell counts it up again.
#
# Exit 0 pass, 1 fail, 77 skipped (not root).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
K=60

# shellcheck source=tests/lab/begin.sh
. "$here/begin.sh"
export STEER_LAB_KIND=cell STEER_LAB_BACKENDS=3
lab_init || exit 1
tmp=$(mktemp -d /tmp/st-health.XXXXXX)
trap 'lab_down; rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM
lab_up >/dev/null || { echo "FAIL: the lab does not build"; exit 1; }
lab_echo_start_all && lab_steerd_start_all || { echo "FAIL: steerd"; exit 1; }

# Backends every cell counts down, one number per host.
downs()
{
	local k

	for ((k = 1; k <= LAB_HOSTS; k++)); do
		lab_steerctl $k -j counters 2>/dev/null |
			grep -o '"backends_down":[0-9]*' | head -1 | cut -d: -f2
	done | tr '\n' ' '
}

# Wait (at most 10 s) until every cell counts want backends down.
wait_downs()
{
	local want=$1 i d all

	all=$(for ((i = 1; i <= LAB_HOSTS; i++)); do printf '%s ' "$want"; done)
	for ((i = 0; i < 100; i++)); do
		d=$(downs)
		[ "$d" = "$all" ] && return 0
		sleep 0.1
	done
	echo "  backends down per cell: $d (want $want each)"
	return 1
}

wait_downs 0 || check "not every backend up at the start"
lab_stop echo-b1
t0=$(date +%s%N)
wait_downs 1 || check "b1's server stopped, not every cell counts it down"
echo "  every cell counts b1 down after $((($(date +%s%N) - t0) / 1000000)) ms"
lab_exec $LAB_CLIENT "$(lab_bin)/steer-traffic" --target "$LAB_VIP4" \
	--port "$LAB_PORT" --conns $K --interval 100 --duration 2 \
	--connect-timeout 5 --stall 1000 >"$tmp/out" 2>"$tmp/err" ||
	check "steer-traffic: $(cat "$tmp/err")"
sed 's/^/  /' "$tmp/out"
read -r _ _ _ est _ <"$tmp/out"
[ "$est" = $K ] || check "$est of $K new connections established with b1 down"
! grep -q '^host b1 ' "$tmp/out" || check "new connections reached b1, which is down"
lab_backend_echo_start 1
wait_downs 0 || check "b1's server back, not every cell counts it up"
[ $fail = 0 ] && echo "PASS"
exit $fail

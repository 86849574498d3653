#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Benchmark: new flows per second the cells of the lab take. Builds the
# cell-mode lab (lab/lib.sh, STEER_LAB_KIND=cell; replication 2), then
# the client sends N TCP SYNs of new flows to the VIP with steer-synflood
# (raw socket, paced at each --rate in turn, at most --seconds each): each
# misses on its fast-path node and goes to its shard's primary cell, which
# creates the state, replicates it to its mirror, sends the rule and
# forwards the SYN. Per rate, from the cells' own counters before and
# after, one figure a line as `name value unit`:
#   cellrate_R_offered        SYNs per second the client sent
#   cellrate_R_new_flows      flows the cells created per second, all cells
#   cellrate_R_taken          share of the SYNs that became flows
#   cellrate_R_busiest_cell   flows per second of the busiest cell
# Everything here shares this machine's 2 CPUs: the client, the router,
# five fast-path nodes and cells, four backends. The figures are the
# lab's, not a cell core's (steer-cell-bench measures that).
#
#   sudo bash bench/lab/cellrate.sh [--rate "10000 30000 0"] [--count N]
#                                   [--seconds S]      (rate 0: unpaced)
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
rates="10000 30000 0"
count=60000
secs=5
while [ $# -gt 0 ]; do
	case $1 in
	--rate) rates=$2; shift 2 ;;
	--count) count=$2; shift 2 ;;
	--seconds) secs=$2; shift 2 ;;
	*) echo "usage: $0 [--rate \"R1 R2\"] [--count N] [--seconds S]" >&2; exit 2 ;;
	esac
done
[ "$(id -u)" = 0 ] || { echo "cellrate: needs root (the lab)" >&2; exit 77; }
# shellcheck source=lab/lib.sh
. "$top/lab/lib.sh"
export STEER_LAB_KIND=cell STEER_LAB_BACKENDS=3 STEER_LAB_RF=2
lab_init || exit 1
lab_claim || exit 1
trap 'lab_down >/dev/null 2>&1' EXIT
trap 'exit 1' INT TERM
lab_up >/dev/null || { echo "cellrate: the lab does not build" >&2; exit 1; }
lab_echo_start_all && lab_steerd_start_all || exit 1
sleep 2
bin=$(lab_bin)

# Flows created by every cell: "k count" lines.
created()
{
	local k

	for ((k = 1; k <= LAB_HOSTS; k++)); do
		echo "$k $(lab_steerctl $k -j counters 2>/dev/null |
			grep -o '"flows_created":[0-9]*' | head -1 | cut -d: -f2)"
	done
}

for rate in $rates; do
	before=$(created)
	out=$(lab_exec $LAB_CLIENT "$bin/steer-synflood" --src 198.18.1.1 \
		--target "$LAB_VIP4" --port "$LAB_PORT" --count "$count" \
		--rate "$rate" --seconds "$secs") || exit 1
	sleep 1 # the last exceptions reach their cells
	after=$(created)
	python3 - "$rate" "$out" "$before" "$after" <<'PY'
import sys
rate, out, before, after = sys.argv[1:5]
f = out.split()
sent, secs = int(f[1]), float(f[3])
def parse(t):
    return {l.split()[0]: int(l.split()[1]) for l in t.splitlines()
            if len(l.split()) == 2}
b, a = parse(before), parse(after)
per = {k: a[k] - b.get(k, 0) for k in a}
made = sum(per.values())
name = "unpaced" if rate == "0" else rate
print("cellrate_%s_offered %.0f syns/s" % (name, sent / secs))
print("cellrate_%s_new_flows %.0f flows/s" % (name, made / secs))
print("cellrate_%s_taken %.1f %%" % (name, 100.0 * made / max(sent, 1)))
print("cellrate_%s_busiest_cell %.0f flows/s" % (name, max(per.values()) / secs))
PY
	# The next rate's flows are new again: the cells forget these.
	lab_steerd_stop_all
	lab_steerd_start_all || exit 1
	sleep 2
done

#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# /metrics and the status page of live lab nodes, in cell mode (rf 2) and
# in host mode: every steerd of the lab serves them on its namespace's
# loopback (http-listen 127.0.0.1:9646, lab/lib.sh). After a few seconds
# of TCP traffic through the VIP, on every host:
# - promtool check metrics passes, and no family is untyped (every group
#   of counters the node shows is described in daemon/metrics_desc.c);
# - the figures are those of real traffic: XDP packets counted and, in
#   cell mode, the exception-path and replication-ack histograms filled
#   on some cell (summed over the cells: which cell decides is the hash's
#   choice), gossip members alive in host mode.
# In cell mode the status page of h1 is loaded in headless Chromium: it
# names the node, lists the live cells, and updates; a screenshot is kept
# at $STEER_LAB_SHOT when set (the demo's report uses it).
#
# Exit 0 pass, 1 fail, 77 skipped (not root, or no promtool/Chromium).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)

for t in promtool chromium curl; do
	command -v $t >/dev/null || {
		echo "SKIP: $t is not installed (scripts/deps.sh)"
		exit 77
	}
done
# shellcheck source=tests/lab/begin.sh
. "$here/begin.sh"
tmp=$(mktemp -d /tmp/st-metrics.XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null; wait; lab_down; rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM

# The value of a sample line NAME (labels included) in file $1; 0: none.
sample()
{
	awk -v n="$2" '$1 == n { v = $2 } END { print v + 0 }' "$1"
}

scrape()
{
	lab_exec "$(lab_host_ns "$1")" curl -sf --max-time 5 \
		"http://127.0.0.1:$LAB_HTTP_PORT/metrics" >"$2"
}

# Scrape every host; check each one's exposition; sum NAMEs into $sum_NAME.
check_hosts()
{
	local mode=$1 k f
	shift
	for ((k = 1; k <= LAB_HOSTS; k++)); do
		f=$tmp/$mode-h$k.prom
		scrape $k "$f" || { check "$mode: h$k does not answer /metrics"; continue; }
		promtool check metrics <"$f" >"$tmp/promtool" 2>&1 ||
			check "$mode: h$k: promtool: $(head -5 "$tmp/promtool")"
		! grep -q ' untyped$' "$f" ||
			check "$mode: h$k: undescribed: $(grep ' untyped$' "$f" | head -3)"
		grep -q "^steer_build_info{.*node=\"h$k\",mode=\"$mode\"} 1$" "$f" ||
			check "$mode: h$k: no steer_build_info of h$k in $mode mode"
	done
}

sum_all()
{
	local mode=$1 name=$2 k s=0
	for ((k = 1; k <= LAB_HOSTS; k++)); do
		[ -r "$tmp/$mode-h$k.prom" ] || continue
		s=$((s + $(sample "$tmp/$mode-h$k.prom" "$name" | cut -d. -f1)))
	done
	echo $s
}

traffic()
{
	lab_exec $LAB_CLIENT "$(lab_bin)/steer-traffic" --target "$LAB_VIP4" \
		--port "$LAB_PORT" --conns 50 --interval 100 --duration 4 \
		--connect-timeout 5 --stall 2000 >"$tmp/$1.out" 2>&1 ||
		check "$1: steer-traffic: $(tail -2 "$tmp/$1.out")"
}

# --- cell mode ---------------------------------------------------------
export STEER_LAB_KIND=cell STEER_LAB_BACKENDS=3 STEER_LAB_RF=2
lab_init || exit 1
lab_up >/dev/null || { echo "FAIL: the lab does not build"; exit 1; }
lab_echo_start_all && lab_steerd_start_all || { echo "FAIL: steerd"; exit 1; }
lab_cells_wait "$LAB_HOSTS" 10 || check "cell: the cells do not see each other"
traffic cell
check_hosts cell
exc=$(sum_all cell steer_exception_path_seconds_count)
ack=$(sum_all cell steer_replication_ack_seconds_count)
pk=$(sum_all cell 'steer_xdp_packets_total{action="exception"}')
echo "  cell: exception datagrams timed $exc, replication acks timed $ack, XDP exceptions $pk"
[ "$exc" -gt 0 ] || check "cell: no exception-path latency recorded"
[ "$ack" -gt 0 ] || check "cell: no replication ack recorded"
[ "$pk" -gt 0 ] || check "cell: the XDP programs counted no exception"

shot=${STEER_LAB_SHOT:-$tmp/status.png}
ns1=$(lab_host_ns 1)
lab_exec "$ns1" chromium --headless --no-sandbox --disable-gpu \
	--user-data-dir="$tmp/chr" --virtual-time-budget=4000 --dump-dom \
	"http://127.0.0.1:$LAB_HTTP_PORT/" >"$tmp/dom.html" 2>/dev/null ||
	check "chromium could not load h1's status page"
grep -q "steer: st-lab / h1 (cell mode" "$tmp/dom.html" ||
	check "the status page does not name h1"
grep -q "<td>h3</td>" "$tmp/dom.html" || check "the status page lists no cell h3"
u=$(grep -o 'data-updates="[0-9]*"' "$tmp/dom.html" | tr -dc 0-9)
[ "${u:-0}" -ge 2 ] || check "the status page did not update live (${u:-none})"
lab_exec "$ns1" chromium --headless --no-sandbox --disable-gpu \
	--user-data-dir="$tmp/chr" --virtual-time-budget=3000 \
	--window-size=1200,1400 --screenshot="$shot" \
	"http://127.0.0.1:$LAB_HTTP_PORT/" >/dev/null 2>&1 ||
	check "no screenshot of the status page"
lab_down

# --- host mode ---------------------------------------------------------
export STEER_LAB_KIND=host
lab_init || exit 1
lab_up >/dev/null || { echo "FAIL: the host-mode lab does not build"; exit 1; }
lab_echo_start_all && lab_steerd_start_all || { echo "FAIL: steerd (host)"; exit 1; }
sleep 2
traffic host
check_hosts host
alive=$(sample "$tmp/host-h1.prom" steer_gossip_alive | cut -d. -f1)
est=$(sum_all host steer_sockops_established_total)
echo "  host: h1 sees $alive members alive, sock_ops saw $est sessions open"
[ "$alive" -ge 2 ] || check "host: h1's gossip has $alive members alive"
[ "$est" -ge 50 ] || check "host: sock_ops saw $est sessions open, not 50"

[ $fail = 0 ] && echo "PASS"
exit $fail

#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The steer lab topology (default: 4 hosts on the bridge, 1 routed).
#
#                                         st-lan
#   st-client           st-router        +--------st-br---------+
#  +-----------+      +-------------+    |  |      |      |     |
#  | st-c0     |------| st-rc       |    | st-l1  st-l2  st-l3  st-l4
#  |198.18.1.1 |      |198.18.1.254 |    |  |      |      |     |
#  |2001:db8:1::1     |2001:db8:1::fe    +--|------|------|-----|-+
#  +-----------+      |             |       |      |      |     |
#                     |       st-rl |--st-lr|      |      |     |
#                     |198.18.0.254 |    st-e0  st-e0  st-e0  st-e0
#                     |2001:db8::fe |    st-h1  st-h2  st-h3  st-h4
#                     |             |   198.18.0.k, 2001:db8::k (k = 1..4)
#                     |      st-rh5 |------ st-e0  st-h5
#                     |198.18.2.254 |       198.18.2.5, 2001:db8:2::5
#                     |2001:db8:2::fe
#                     +-------------+
#
#   Every host has the service address (VIP) 198.18.100.1 and
#   2001:db8:100::1 on lo, and routes 198.18.0.0/15 and 2001:db8::/32 via
#   the router (its gateway back to the client: answers go straight from
#   the host through the router, never through another host). The router
#   routes the VIP by a multipath route over the hosts behind it (h1..h4 at
#   first), hashing on L4 (fib_multipath_hash_policy=1, v4 and v6), or with
#   STEER_LAB_ECMP=resilient by resilient next-hop groups 1000 (v4) and
#   1001 (v6) over next-hop objects k and 100 + k.
#   No namespace has a default route, and none is linked to this machine's
#   own namespace: lab packets cannot leave the lab.
#   MACs: host k 02:53:00:00:00:0k; router 02:53:00:00:00:fe on the
#   bridge, 02:53:00:00:0j:fe on link j (client j = 1, routed hosts j >= 2).
#
# Usage: lab/topo.sh up | down | status
#        lab/topo.sh ecmp-add HOST | ecmp-del HOST    (HOST: h5, st-h5, 5)
#        lab/topo.sh ecmp-reset [multipath | resilient [IDLE_S]]
#                    (back to h1..hN; IDLE_S: resilient idle timer, 120)
#        lab/topo.sh servers-start | servers-stop  (steer-echo on every host)
#        lab/topo.sh exec NS CMD...  (runs CMD in namespace NS, /sys intact)
#        lab/topo.sh config HOST     (prints HOST's cluster description)
# Settings: see the head of lab/lib.sh (STEER_LAB_HOSTS, STEER_LAB_REMOTE,
# STEER_LAB_ECMP, ...).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lab/lib.sh
. "$here/lib.sh"

usage()
{
	sed -n '/^# Usage:/,/^# Settings/p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 2
}

[ $# -ge 1 ] || usage
if [ "$(id -u)" != 0 ]; then
	echo "topo.sh: needs root" >&2
	exit 1
fi
lab_init || exit 1
cmd=$1
shift
case $cmd in
up)
	# A failed build leaves nothing behind.
	trap 'lab_down' EXIT
	lab_up || exit 1
	trap - EXIT
	lab_status
	;;
down)
	lab_down
	;;
status)
	lab_status
	;;
ecmp-add | ecmp-del)
	[ $# -eq 1 ] || usage
	lab_built || { echo "topo.sh: the lab is down" >&2; exit 1; }
	"lab_${cmd/-/_}" "$1"
	;;
ecmp-reset)
	lab_built || { echo "topo.sh: the lab is down" >&2; exit 1; }
	lab_ecmp_reset "$@"
	;;
servers-start)
	lab_built || { echo "topo.sh: the lab is down" >&2; exit 1; }
	lab_echo_start_all
	;;
servers-stop)
	lab_echo_stop_all
	;;
exec)
	[ $# -ge 2 ] || usage
	lab_exec "$@"
	;;
config)
	[ $# -eq 1 ] || usage
	k=$(lab_host_parse "$1") || exit 1
	cat "$(lab_config_path "$k")"
	;;
*)
	usage
	;;
esac

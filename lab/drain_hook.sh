#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# steerd's drain-hook in the lab (src/daemon/drain.h): node ID leaves
# (drain) or rejoins (undrain) the router's multipath route to the VIP,
# as an operator's hook would withdraw or announce its BGP route.
#
#   drain_hook.sh drain|undrain ID NAME WHY
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lab/lib.sh
. "$here/lib.sh"
lab_init || exit 1
[ $# -eq 4 ] || { echo "usage: drain_hook.sh drain|undrain ID NAME WHY" >&2; exit 2; }
# One change of the route at a time: two nodes may drain at once.
exec 9>"$LAB_STATE/ecmp.lock" || exit 1
flock -w 10 9 || { echo "drain_hook: the lab's route is locked" >&2; exit 1; }
# When each change was made, for the benches that time migrations.
echo "$1 $2 $(date +%s.%N)" >>"$LAB_STATE/drain_hook.log"
case $1 in
drain)
	# A node out of the route already (kept out since its start) stays so.
	lab_members | grep -qx "$2" || exit 0
	lab_ecmp_del "$2"
	;;
undrain) lab_ecmp_add "$2" ;;
*) echo "drain_hook: '$1' is neither drain nor undrain" >&2; exit 2 ;;
esac

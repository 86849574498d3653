#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# steerd.service (packaging/steerd.service.in, configured by CMake with the
# build tree's programs): systemd-analyze verify takes it without a word;
# it is Type=notify with a watchdog, a reload, a PID file and a restart on
# failure; its CapabilityBoundingSet holds every capability steerd keeps
# (src/daemon/privs.c), or steerd would lose one it needs.
#
#   test_unit.sh UNIT   (77: no systemd-analyze)
set -u
unit=${1:?usage: test_unit.sh UNIT}
src=${STEER_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
fails=0

bad()
{
	echo "FAIL: $*"
	fails=$((fails + 1))
}

command -v systemd-analyze >/dev/null ||
	{ echo "skip: no systemd-analyze (Debian package systemd)"; exit 77; }
[ -r "$unit" ] || { echo "FAIL: no unit $unit"; exit 1; }

# --man=no: the pages are checked by test_man.sh and test_install.sh, and
# are not installed where man looks yet.
out=$(systemd-analyze verify --man=no "$unit" 2>&1)
rc=$?
[ $rc -eq 0 ] || bad "systemd-analyze verify exited $rc"
[ -z "$out" ] || bad "systemd-analyze verify said: $out"

for want in '^Type=notify$' '^WatchdogSec=[1-9]' '^ExecReload=.*steerctl .*reload$' \
	'^PIDFile=/run/steer/steerd.pid$' '^ExecStart=.* --pid-file /run/steer/steerd.pid' \
	'^ExecStart=.* --foreground' '^Restart=on-failure$'; do
	grep -Eq "$want" "$unit" || bad "no line matching $want"
done

bounding=$(sed -n 's/^CapabilityBoundingSet=//p' "$unit")
kept=$(sed -n '/privs_kept\[\] = {/,/^};/p' "$src/src/daemon/privs.c" |
	grep -Eo '\bCAP_[A-Z_]+' | sort -u)
[ -n "$kept" ] || bad "no capability found in privs.c's privs_kept"
for cap in $kept; do
	grep -qw -- "$cap" <<<"$bounding" ||
		bad "CapabilityBoundingSet lacks $cap, which steerd keeps"
done

[ $fails -eq 0 ] || exit 1
echo "ok: $unit verifies and bounds steerd by what it keeps"

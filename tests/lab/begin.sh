# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0-only
#
# What every lab test starts with, sourced after it set $top: root or a
# skip (exit 77), the lab's library, the lab initialised and claimed
# clean; check() records a failure in $fail and goes on.
if [ "$(id -u)" != 0 ]; then
	echo "SKIP: the lab needs root (namespaces, XDP, cgroups)"
	exit 77
fi
# shellcheck source=lab/lib.sh
. "$top/lab/lib.sh"
lab_init || exit 1
lab_claim || { echo "FAIL: cannot start from a clean lab"; exit 1; }

# shellcheck disable=SC2034 # the sourcing test reads it
fail=0
check()
{
	echo "FAIL: $*"
	# shellcheck disable=SC2034
	fail=1
}

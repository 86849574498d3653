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

# lab_test_up TAG: a scratch directory in $out and the lab built; on exit,
# whatever happened, the traffic generator whose pid the test keeps in
# $traffic and the pids listed in $out/pids are killed, the lab is torn
# down and $out removed.
lab_test_up()
{
	out=$(mktemp -d "/tmp/st-$1.XXXXXX") || exit 1
	trap lab_test_down EXIT
	trap 'exit 1' INT TERM
	lab_up >/dev/null || { echo "FAIL: the lab does not build"; exit 1; }
}

lab_test_down()
{
	local p

	[ -z "${traffic:-}" ] || kill -KILL "$traffic" 2>/dev/null
	for p in $(cat "$out/pids" 2>/dev/null); do
		kill "$p" 2>/dev/null
	done
	lab_down
	rm -rf "$out"
}

# field NAME LINE: the value of NAME=... in a line of NAME=VALUE words
# (a story's RESULT, EXPLAIN, FLOOD... lines).
field()
{
	echo "$2" | tr ' ' '\n' | sed -n "s/^$1=//p"
}

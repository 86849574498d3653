#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The man pages (docs/man) render without a warning, and document what
# the code has: every option of steerd --help in steerd(8); every command
# of steerctl --help and of steerd's admin table (src/daemon/admin.c) in
# steerctl(8)'s COMMANDS; every directive of steerd's table
# (src/daemon/steerd_conf.c) and of the cluster description's
# (src/core/cluster.c) in steer.conf(5)'s sections. A command or
# directive added without its documentation fails here.
#
#   test_man.sh        (STEER_SRC, STEER_BIN from ctest; 77: no groff)
set -u
src=${STEER_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
bin=${STEER_BIN:-$src/build/bin}
man_dir=$src/docs/man
fails=0

command -v groff >/dev/null || { echo "skip: no groff (groff-base)"; exit 77; }

bad()
{
	echo "FAIL: $*"
	fails=$((fails + 1))
}

# A page as plain text, 80 columns, no bold or underline.
render()
{
	groff -man -Tascii -rLL=80n -P -cbou "$1" 2>/dev/null
}

# The lines of section $2 of rendered text $1.
section()
{
	awk -v s="$2" '/^[A-Z]/ { on = ($0 == s) } on' <<<"$1"
}

# Does a tag (a .TP line, 7 columns in) of text $1 start with word $2?
tagged()
{
	grep -Eq "^ {7}$2( |\$)" <<<"$1"
}

# Names in a C table: the first string of each '{"name", ...' entry
# between 'NAME[] = {' and its '};'.
table_names()
{
	sed -n "/$2\[\] = {/,/^};/p" "$1" | sed -n 's/^\t{"\([a-z0-9-]*\)".*/\1/p'
}

for page in "$man_dir"/*.[1-8]; do
	out=$(groff -man -ww -z "$page" 2>&1)
	[ -z "$out" ] || bad "$(basename "$page"): groff: $out"
	if command -v man >/dev/null; then
		out=$(MANWIDTH=80 man --warnings -l "$page" 2>&1 >/dev/null)
		[ -z "$out" ] || bad "$(basename "$page"): man: $out"
	fi
done

steerd_txt=$(render "$man_dir/steerd.8")
steerctl_txt=$(section "$(render "$man_dir/steerctl.8")" COMMANDS)
conf_txt=$(render "$man_dir/steer.conf.5")

n=0
while read -r opt; do
	n=$((n + 1))
	grep -q -- "$opt" <<<"$(section "$steerd_txt" OPTIONS)" ||
		bad "steerd(8) does not document $opt"
done < <("$bin/steerd" --help | grep -Eo -- '--[a-z-]+' | sort -u)
[ $n -ge 6 ] || bad "steerd --help listed $n options"

n=0
while read -r cmd; do
	n=$((n + 1))
	tagged "$steerctl_txt" "$cmd" || bad "steerctl(8) does not document '$cmd' (steerctl --help)"
done < <("$bin/steerctl" --help | sed -n '/^commands:/,/^Other/p' |
	sed -n 's/^  \([a-z][a-z0-9-]*\).*/\1/p')
[ $n -ge 5 ] || bad "steerctl --help listed $n commands"

n=0
while read -r cmd; do
	n=$((n + 1))
	tagged "$steerctl_txt" "$cmd" || bad "steerctl(8) does not document '$cmd' (steerd's admin table)"
done < <(table_names "$src/src/daemon/admin.c" admin_cmds)
[ $n -ge 10 ] || bad "admin.c's table held $n commands"

n=0
while read -r key; do
	n=$((n + 1))
	tagged "$(section "$conf_txt" "STEERD CONFIGURATION")" "$key" ||
		bad "steer.conf(5) does not document steerd's '$key'"
done < <(table_names "$src/src/daemon/steerd_conf.c" steerd_directives)
[ $n -ge 10 ] || bad "steerd_conf.c's table held $n directives"

n=0
while read -r key; do
	n=$((n + 1))
	tagged "$(section "$conf_txt" "CLUSTER DESCRIPTION")" "$key" ||
		bad "steer.conf(5) does not document the cluster's '$key'"
done < <(table_names "$src/src/core/cluster.c" cluster_directives)
[ $n -ge 10 ] || bad "cluster.c's table held $n directives"

[ $fails -eq 0 ] || exit 1
echo "ok: the pages render cleanly and document every option, command and directive"

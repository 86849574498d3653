#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# make install, into a DESTDIR: steerd lands in sbin, steerctl in bin, the
# pages in share/man/man5 and man8, the unit in lib/systemd/system naming
# the installed programs; man finds and renders every page there; and the
# installed unit, its programs and pages looked up in the DESTDIR, passes
# a full systemd-analyze verify (its Documentation= pages included).
#
#   test_install.sh BUILD   (77: no man or no systemd-analyze)
set -u
build=${1:?usage: test_install.sh BUILD}
prefix=/usr/local
fails=0

bad()
{
	echo "FAIL: $*"
	fails=$((fails + 1))
}

command -v man >/dev/null || { echo "skip: no man (man-db)"; exit 77; }
command -v systemd-analyze >/dev/null ||
	{ echo "skip: no systemd-analyze (Debian package systemd)"; exit 77; }

dest=$(mktemp -d /tmp/steer-install.XXXXXX) || exit 1
trap 'rm -rf "$dest"' EXIT
DESTDIR=$dest cmake --install "$build" --prefix "$prefix" >"$dest.log" 2>&1 ||
	{ cat "$dest.log"; rm -f "$dest.log"; echo "FAIL: cmake --install"; exit 1; }
rm -f "$dest.log"

root=$dest$prefix
for f in sbin/steerd bin/steerctl; do
	[ -x "$root/$f" ] || bad "no program $prefix/$f"
done
unit=$root/lib/systemd/system/steerd.service
[ -r "$unit" ] || bad "no unit $prefix/lib/systemd/system/steerd.service"

for page in steerd.8 steerctl.8 steer.conf.5; do
	name=${page%.*}
	sec=${page##*.}
	path=$(man -M "$root/share/man" -w "$sec" "$name" 2>/dev/null)
	[ "$path" = "$root/share/man/man$sec/$page" ] ||
		bad "man -w $sec $name found '$path'"
	out=$(MANWIDTH=80 man -M "$root/share/man" "$sec" "$name" 2>&1 >/dev/null)
	[ -z "$out" ] || bad "man $sec $name: $out"
done
MANWIDTH=80 man -M "$root/share/man" steerctl 2>/dev/null | grep -Eq '^ {7}reload( |$)' ||
	bad "man steerctl does not show the reload command"

if [ -r "$unit" ]; then
	grep -q "^ExecStart=$prefix/sbin/steerd " "$unit" || bad "ExecStart is not $prefix/sbin/steerd"
	grep -q "^ExecReload=$prefix/bin/steerctl " "$unit" || bad "ExecReload is not $prefix/bin/steerctl"
	sed "s#^\(Exec[A-Za-z]*=\)$prefix#\1$root#" "$unit" >"$dest/steerd.service"
	out=$(MANPATH=$root/share/man systemd-analyze verify "$dest/steerd.service" 2>&1)
	rc=$?
	[ $rc -eq 0 ] && [ -z "$out" ] || bad "systemd-analyze verify ($rc): $out"
fi

[ $fails -eq 0 ] || exit 1
echo "ok: make install puts the programs, pages and unit in place"

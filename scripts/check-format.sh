#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Fails when a tracked C file is not in the project's clang-format style.
set -u
bad=0
for f in $(git ls-files '*.c' '*.h'); do
	if ! clang-format --dry-run --Werror "$f" 2>/dev/null; then
		echo "not formatted: $f (run: make format)"
		bad=1
	fi
done
[ $bad -eq 0 ] && echo "clang-format: all files formatted"
exit $bad

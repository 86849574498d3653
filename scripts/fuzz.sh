#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Every fuzz target (or those named), one after the other, for a time or a
# number of executions each, on its corpora (tests/fuzz/run.sh); prints one
# line per target and a total:
#   TARGET executions N seconds S crashes C
# A crash leaves its input in BUILD/fuzz-corpus/TARGET/crash-* and makes
# the exit status 1. --merge then folds what the runs found into the
# repository's kept corpus (tests/fuzz/corpus/TARGET), minimised by
# libFuzzer's -merge=1, so the next run starts from it.
#
#   scripts/fuzz.sh [--build DIR] [--seconds N | --runs N] [--merge] [TARGET...]
# Defaults: build/, 60 s each. The targets need a clang build (make
# CC=clang, the default).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=$top/build secs=60 runs=0 merge=0

usage()
{
	echo "usage: fuzz.sh [--build DIR] [--seconds N | --runs N] [--merge] [TARGET...]" >&2
	exit 2
}

while [ $# -gt 0 ]; do
	case $1 in
	--build) [ $# -ge 2 ] || usage; build=$(cd "$2" && pwd); shift 2 ;;
	--seconds) [[ ${2:-} =~ ^[0-9]+$ ]] || usage; secs=$2 runs=0; shift 2 ;;
	--runs) [[ ${2:-} =~ ^[1-9][0-9]*$ ]] || usage; runs=$2 secs=0; shift 2 ;;
	--merge) merge=1; shift ;;
	-h | --help) usage ;;
	-*) usage ;;
	*) break ;;
	esac
done
targets=("$@")
if [ ${#targets[@]} = 0 ]; then
	for f in "$build"/tests/fuzz_*; do
		[ -x "$f" ] && targets+=("$(basename "$f")")
	done
fi
[ ${#targets[@]} -gt 0 ] || {
	echo "fuzz.sh: no fuzz targets in $build/tests (they need CC=clang)" >&2
	exit 1
}
export STEER_PCAPS=${STEER_PCAPS:-$top/tests/data/pcaps}
log=$(mktemp)
trap 'rm -f "$log"' EXIT
crashed=0 total=0
for t in "${targets[@]}"; do
	bin=$build/tests/$t
	[ -x "$bin" ] || { echo "fuzz.sh: no target $t in $build/tests" >&2; exit 2; }
	corpus=$build/fuzz-corpus/$t
	flags=()
	[ "$runs" = 0 ] || flags=(-runs="$runs")
	start=$(date +%s)
	rc=0
	"$top/tests/fuzz/run.sh" "$bin" "$corpus" "$secs" "${flags[@]}" >"$log" 2>&1 || rc=$?
	took=$(($(date +%s) - start))
	n=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	c=0
	if [ $rc != 0 ]; then
		c=1
		crashed=1
		tail -20 "$log" | sed "s/^/  $t: /"
	fi
	total=$((total + ${n:-0}))
	printf '%-20s executions %s seconds %s crashes %s\n' "$t" "${n:-0}" "$took" "$c"
	if [ $merge = 1 ] && [ $rc = 0 ]; then
		mkdir -p "$top/tests/fuzz/corpus/$t"
		"$bin" -merge=1 -timeout=10 -rss_limit_mb=2048 \
			"$top/tests/fuzz/corpus/$t" "$corpus" >"$log" 2>&1 ||
			echo "fuzz.sh: $t: the merge failed" >&2
	fi
done
printf '%-20s executions %s\n' total "$total"
exit $crashed

#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Run one libFuzzer target for a bounded time (SECONDS; 0: no time bound,
# then bound it with -runs=N among the extra flags) on three corpora: the
# build's own (CORPUS_DIR, where new inputs go), the repository's kept
# corpus (tests/fuzz/corpus/TARGET: real messages of the target's protocol
# and what earlier long runs found, scripts/fuzz.sh --merge), and seeds
# made here from data the repository holds elsewhere (captures, fixtures,
# workloads, the cell messages' unit test).
#   run.sh TARGET CORPUS_DIR SECONDS [LIBFUZZER_FLAG...]
set -euo pipefail
bin=$1 corpus=$2 secs=$3
shift 3
here=$(cd "$(dirname "$0")" && pwd)
kept=$here/corpus/$(basename "$bin")
mkdir -p "$corpus"
seeds=$corpus.seeds
if [ ! -d "$seeds" ]; then
	mkdir -p "$seeds"
	case "$(basename "$bin")" in
	fuzz_cluster)
		cp "$here"/../fixtures/cluster/*.conf "$here"/../../lab/*.conf \
			"$seeds"/ 2>/dev/null || true ;;
	fuzz_steerd_conf)
		cp "$here"/../fixtures/steerd/*.conf "$seeds"/ 2>/dev/null || true ;;
	fuzz_series)
		# Real series: the head of each link-load file, a season byte
		# first.
		for f in "$here"/../data/workloads/link_load/*.txt; do
			{ printf '\026'; head -c 4000 "$f"; } >"$seeds/$(basename "$f")"
		done ;;
	fuzz_cellmsg)
		# Valid frames under the target's key, written by the unit test.
		if ! "$(dirname "$bin")/cellmsg_test" --seeds "$seeds"; then
			rm -rf "$seeds"
			exit 1
		fi ;;
	fuzz_size_cdf)
		cp "$here"/../data/workloads/flow_size_cdfs/* "$seeds"/ ;;
	fuzz_admin | fuzz_ctl_json | fuzz_metrics | fuzz_replay_store | fuzz_gossip)
		;; # the kept corpus holds their protocol's messages
	*)
		python3 "$here/pcap_split.py" "${STEER_PCAPS:?}" "$seeds" 400 ;;
	esac
fi
# -timeout: one input taking over 10 s is a hang worth failing on.
dirs=("$corpus" "$seeds")
[ -d "$kept" ] && dirs+=("$kept")
exec "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
	-artifact_prefix="$corpus/" -print_final_stats=1 "$@" "${dirs[@]}"

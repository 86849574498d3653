#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Run one libFuzzer target for a bounded time on a corpus seeded from the
# shared captures (one file per frame) and the config fixtures.
#   run.sh TARGET CORPUS_DIR SECONDS
set -euo pipefail
bin=$1 corpus=$2 secs=$3
here=$(cd "$(dirname "$0")" && pwd)
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
	fuzz_admin)
		i=0
		for req in version help nodes "flows limit 3" templates \
			counters "sessions limit 2" \
			"flow-set tcp 198.18.1.1 1000 198.18.100.1 80 n2 7" \
			"flow-del udp 2001:db8::1 53 2001:db8::2 53"; do
			printf '%s' "$req" >"$seeds/req$i"
			i=$((i + 1))
		done ;;
	fuzz_ctl_json)
		printf '%s' '{"ok":true,"result":{"nodes":[{"id":1,"name":"n1","self":true,"load":0.5},{"id":2,"name":"n\u00e9","via":null}]}}' >"$seeds/a"
		printf '%s' '[1,-2.5e3,"x\ud83d\ude00",[],{},true,false,null]' >"$seeds/b" ;;
	fuzz_metrics)
		# Answers as steerd writes them: groups, labels, a histogram.
		printf '%s' '{"ok":true,"result":{"fsc":{"capacity":1024,"count":3},"xdp_drop":{"parse":1},"replication_policy":{"policy":"fixed","at_risk":false},"cache":{"l1_hit_ratio":0.5,"l2":null},"odd group":{"a\"b":1}}}' >"$seeds/a"
		printf '%s' '{"ok":true,"result":{"histograms":[{"name":"x_seconds","help":"h","count":3,"sum_us":70,"bounds_us":[25,50],"counts":[1,1]}]}}' >"$seeds/b" ;;
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
	fuzz_replay_store)
		# Replay files as steerd writes them, and one with bad lines.
		printf 'steer-replay 1\n3 1000\n65534 18446744073709551615\n' >"$seeds/a"
		printf 'steer-replay 1\n1 1\nx 5\n65535 1\n4 -1\n8 9' >"$seeds/b" ;;
	*)
		python3 "$here/pcap_split.py" "${STEER_PCAPS:?}" "$seeds" 400 ;;
	esac
fi
# -timeout: one input taking over 10 s is a hang worth failing on.
exec "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
	-artifact_prefix="$corpus/" \
	-print_final_stats=1 "$corpus" "$seeds"

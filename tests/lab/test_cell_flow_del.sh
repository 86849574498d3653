#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# steerctl flow-del in cell mode acts on the live state: 40 TCP
# connections run through the VIP (replication 2). For D of them,
# `steerctl flow-del` on the flow's primary cell forgets it everywhere: its
# record becomes a tombstone on its cells (replicated), every fast path
# drops its rule. The connection's next packet is then a miss that no cell can
# answer for, so it is decided again, and, the backends unchanged, Maglev
# picks the same one: every connection survives, and each deleted flow
# has a new record (a newer version) naming its old backend.
#
# Exit 0 pass, 1 fail, 77 skipped (not root).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
K=40
D=3

# shellcheck source=tests/lab/begin.sh
. "$here/begin.sh"
export STEER_LAB_KIND=cell STEER_LAB_BACKENDS=3 STEER_LAB_RF=2
lab_init || exit 1
tmp=$(mktemp -d /tmp/st-cfd.XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null; wait; lab_down; rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM
lab_up >/dev/null || { echo "FAIL: the lab does not build"; exit 1; }
lab_echo_start_all && lab_steerd_start_all || { echo "FAIL: steerd"; exit 1; }

lab_cells_wait "$LAB_HOSTS" 10 || check "the cells do not see each other"
lab_exec $LAB_CLIENT "$(lab_bin)/steer-traffic" --target "$LAB_VIP4" \
	--port "$LAB_PORT" --conns $K --interval 100 --duration 8 \
	--connect-timeout 5 --stall 1000 --csv "$tmp/v4.csv" \
	>"$tmp/v4.out" 2>"$tmp/v4.err" &
sleep 2
# D live flows as their primary cells hold them: key, version, backend,
# primary (flow-del goes to the primary: the record it forgets is the
# one the others copy).
for ((k = 1; k <= LAB_HOSTS; k++)); do
	lab_steerctl $k -j flows limit 100000 >"$tmp/before-h$k.json"
done
python3 - "$tmp" "$LAB_HOSTS" $D >"$tmp/victims" <<'EOF'
import json, sys
tmp, hosts, want = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
got = []
for k in range(1, hosts + 1):
    doc = json.load(open("%s/before-h%d.json" % (tmp, k)))
    doc = doc.get("result", doc)
    got += [r for r in doc.get("flows", [])
            if r["proto"] == "tcp" and r["primary"] == "h%d" % k
            and r["state"] in ("new", "established")]
for r in sorted(got, key=lambda r: r["sport"])[:want]:
    print(r["src"], r["sport"], r["dst"], r["dport"], r["version"],
          r["backend"], r["primary"][1:])
EOF
[ "$(wc -l <"$tmp/victims")" = $D ] ||
	{ echo "FAIL: the cells hold fewer than $D live flows"; exit 1; }
while read -r src sport dst dport _ _ k; do
	lab_steerctl "$k" flow-del tcp "$src" "$sport" "$dst" "$dport" >/dev/null ||
		check "flow-del of $src:$sport on h$k failed"
done <"$tmp/victims"
wait
for ((k = 1; k <= LAB_HOSTS; k++)); do
	lab_steerctl $k -j flows limit 100000 >"$tmp/after-h$k.json"
done
python3 - "$tmp" "$LAB_HOSTS" <<'EOF' || fail=1
import csv, json, sys
tmp, hosts = sys.argv[1], int(sys.argv[2])
victims = [l.split() for l in open(tmp + "/victims") if l.strip()]
bad = 0
for row in csv.DictReader(open(tmp + "/v4.csv")):
    if row["proto"] == "tcp" and row["state"] != "survived":
        print("FAIL: connection port %s %s (%s)" % (
            row["local_port"], row["state"], row["error"]))
        bad = 1
recs = {}
for k in range(1, hosts + 1):
    doc = json.load(open("%s/after-h%d.json" % (tmp, k)))
    doc = doc.get("result", doc)
    for r in doc.get("flows", []):
        recs.setdefault((r["src"], str(r["sport"])), []).append(r)
again = 0
for src, sport, dst, dport, version, backend, _ in victims:
    live = [r for r in recs.get((src, sport), []) if r["state"] != "closed"]
    newer = [r for r in live if r["version"] > int(version)]
    if not newer:
        print("FAIL: %s:%s has no newer record after flow-del (%s)" % (
            src, sport, live))
        bad = 1
        continue
    again += 1
    if any(r["backend"] != backend for r in live):
        print("FAIL: %s:%s decided again with another backend: %s" % (
            src, sport, [r["backend"] for r in live]))
        bad = 1
print("[figure] cell flow-del: %d of %d deleted flows decided again, same "
      "backend, connections alive" % (again, len(victims)))
sys.exit(bad)
EOF
[ $fail = 0 ] && echo "PASS"
exit $fail

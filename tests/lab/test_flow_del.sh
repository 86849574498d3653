#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# steerctl acts on the live data plane (host mode). K TCP connections
# run through the VIP; h1 leaves the ECMP set, so its connections reach
# the other hosts, whose XDP rules steer them back to h1 (every one
# survives that). Then `steerctl flow-del` on every host forgets D of
# h1's connections: no host's `steerctl rules` lists them any more, and
# exactly those D break (the host their packets now reach passes them to
# its own stack, which resets them), while every other connection lives.
# So what steerctl shows and deletes is what the packets meet. Last, the
# live node forecasts its own load and reports its sessions' telemetry
# (steerctl forecast), and the other nodes hear its forecast by gossip
# (steerctl nodes).
#
#   client --> router (ECMP: h2..h5 after the change) --> hX --GUE--> h1
#
# Exit 0 pass, 1 fail, 77 skipped (not root).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
K=${STEER_LAB_CONNS:-60}
D=5

# shellcheck source=tests/lab/begin.sh
. "$here/begin.sh"
lab_test_up flowdel

lab_config_write_all || exit 1
lab_ecmp_reset multipath 0 >/dev/null || exit 1
lab_echo_start_all || exit 1
lab_steerd_start_all || exit 1
sleep 1 # gossip's joins

bin=$(lab_bin)
lab_exec $LAB_CLIENT "$bin/steer-traffic" --target "$LAB_VIP4" \
	--port "$LAB_PORT" --conns "$K" --udp 0 --interval 100 --duration 12 \
	--connect-timeout 10 --stall 1000 --ready "$out/ready" \
	--csv "$out/v4.csv" >"$out/v4.txt" 2>"$out/v4.err" &
traffic=$!
for ((i = 0; i < 200; i++)); do
	[ -e "$out/ready" ] && break
	sleep 0.05
done
[ -e "$out/ready" ] || { echo "FAIL: the connections do not open"; exit 1; }
sleep 1 # the sessions reach every host by gossip

# D connections h1 owns, as h2's data plane steers them: src and port.
lab_steerctl 2 -j rules limit 100000 >"$out/rules-before.json"
python3 - "$out/rules-before.json" "$LAB_VIP4" "$LAB_PORT" "$D" \
	>"$out/victims" <<'EOF'
import json, sys
doc = json.load(open(sys.argv[1]))
vip, port, want = sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
doc = doc.get("result", doc)
got = [f for f in doc.get("flows", [])
       if f["proto"] == "tcp" and f["dst"] == vip and f["dport"] == port
       and f["action"] == "steer" and f["owner"] == 1]
for f in sorted(got, key=lambda f: f["sport"])[:want]:
    print(f["src"], f["sport"])
EOF
n=$(wc -l <"$out/victims")
[ "$n" = "$D" ] || { echo "FAIL: h2 steers $n of h1's connections, not $D or more"; exit 1; }

lab_ecmp_del 1 >/dev/null || { echo "FAIL: h1 does not leave ECMP"; exit 1; }
sleep 1 # h1's connections now reach the others and are steered back
while read -r src sport; do
	for ((k = 1; k <= LAB_HOSTS; k++)); do
		lab_steerctl $k flow-del tcp "$src" "$sport" "$LAB_VIP4" \
			"$LAB_PORT" >/dev/null 2>&1
	done
done <"$out/victims"
for ((k = 1; k <= LAB_HOSTS; k++)); do
	lab_steerctl $k -j rules limit 100000 >"$out/rules-h$k.json" ||
		check "steerctl rules on h$k failed"
	left=$(python3 - "$out/rules-h$k.json" "$out/victims" <<'EOF'
import json, sys
doc = json.load(open(sys.argv[1]))
doc = doc.get("result", doc)
victims = {tuple(l.split()) for l in open(sys.argv[2]) if l.strip()}
print(doc.get("source"), sum((f["src"], str(f["sport"])) in victims
                            for f in doc.get("flows", [])))
EOF
)
	[ "$left" = "xdp 0" ] ||
		check "h$k's rules (source, deleted flows still there): $left"
done

# h2's TCP sessions' telemetry, from the kernel (sock_ops' RTT
# samples, src/node/flow_tele.c): live connections to the service port,
# each with a smoothed RTT, some with a rate over an interval (while
# the traffic runs).
tele_ok()
{
	python3 - "$1" "$LAB_PORT" <<'EOF2'
import json, sys
d = json.load(open(sys.argv[1]))
d = d.get("result", d)
flows = d.get("flows", [])
ok = (d.get("sessions_tracked", 0) >= 1 and flows
      and all(f["dport"] == int(sys.argv[2]) and f["srtt_us"] > 0 for f in flows)
      and any(f["samples"] >= 2 and f["in_Bps"] > 0 for f in flows))
sys.exit(0 if ok else 1)
EOF2
}
for ((i = 0; i < 25; i++)); do
	lab_steerctl 2 -j forecast >"$out/forecast.json" 2>/dev/null
	tele_ok "$out/forecast.json" && break
	sleep 0.2
done
[ $i -lt 25 ] || check "steerctl forecast on h2: no session telemetry ($(grep -o '"sessions_[a-z]*":[0-9]*' "$out/forecast.json" | tr '\n' ' ') $(grep -o '"flows":.\{0,300\}' "$out/forecast.json"))"
# The flows the other hosts' XDP programs steer back to h1 are measured
# there (src/node/xdp_tele.c): sampled, given a slot, their packets
# counted in the fast path (sizes, gaps between packets).
steered_ok()
{
	python3 - "$1" "$LAB_VIP4" "$LAB_PORT" <<'EOF2'
import json, sys
d = json.load(open(sys.argv[1]))
d = d.get("result", d)
flows = d.get("steered", [])
ok = (d.get("steered_tracked", 0) >= 1 and flows
      and all(f["dst"] == sys.argv[2] and f["dport"] == int(sys.argv[3])
              for f in flows)
      and any(f["pkt_bytes"] >= 54 and f["le128"] + f["le512"] + f["le1024"]
              + f["gt1024"] > 0.99 for f in flows))
sys.exit(0 if ok else 1)
EOF2
}
steered_on=
for ((i = 0; i < 40; i++)); do
	[ -z "$steered_on" ] || break
	for ((k = 2; k <= LAB_HOSTS; k++)); do
		lab_steerctl $k -j forecast >"$out/steered.json" 2>/dev/null
		steered_ok "$out/steered.json" && { steered_on=h$k; break; }
	done
	sleep 0.2
done
[ -n "$steered_on" ] || check "no host's steerctl forecast shows a steered flow's telemetry ($(grep -o '"steered.\{0,300\}' "$out/steered.json" | head -c 600))"
# ... and scores them (steerctl migrations, src/predict/migrate.c): every
# session a probability and a reason.
lab_steerctl 2 -j migrations >"$out/migrations.json" 2>&1
python3 - "$out/migrations.json" "$LAB_PORT" <<'EOF2' || check "steerctl migrations on h2: $(head -c 400 "$out/migrations.json")"
import json, sys
d = json.load(open(sys.argv[1]))
d = d.get("result", d)
s = d["sessions"]
reasons = {"none", "forecast-overload", "drained", "rtt-rising", "heavy-session"}
ok = (d["sessions_scored"] >= 1 and s and d["node"]["high_water_permille"] == 800
      and all(0 < x["score"] < 1 and x["reason"] in reasons
              and x["dport"] == int(sys.argv[2]) for x in s)
      and all(s[i]["score"] >= s[i + 1]["score"] for i in range(len(s) - 1)))
sys.exit(0 if ok else 1)
EOF2

wait "$traffic"
traffic=
python3 - "$out/v4.csv" "$out/victims" <<'EOF' || fail=1
import csv, sys
victims = {l.split()[1] for l in open(sys.argv[2]) if l.strip()}
bad = 0
broke = kept = 0
for row in csv.DictReader(open(sys.argv[1])):
    if row["proto"] != "tcp":
        continue
    alive = row["state"] == "survived"
    if row["local_port"] in victims:
        broke += not alive
        if alive:
            print("FAIL: deleted flow port %s survived" % row["local_port"])
            bad = 1
    else:
        kept += alive
        if not alive:
            print("FAIL: flow port %s, not deleted, %s (%s)" % (
                row["local_port"], row["state"], row["error"]))
            bad = 1
print("[figure] flow-del: %d of %d deleted connections broke, %d others "
      "survived" % (broke, len(victims), kept))
sys.exit(bad)
EOF
# The live node's load series: after ~11 s its CPU series has a model
# and forecasts (steerctl forecast, src/daemon/node_fc.c).
for ((i = 0; i < 100; i++)); do
	lab_steerctl 2 -j forecast >"$out/forecast.json" 2>/dev/null
	grep -q '"series":"cpu_permille","samples":[0-9]*,"last":[0-9.e+-]*,"model":"[a-z]*","recent_error":[^,]*,"in_10s"' "$out/forecast.json" && break
	sleep 0.1
done
[ $i -lt 100 ] || check "steerctl forecast on h2: no CPU forecast ($(head -c 300 "$out/forecast.json"))"
# ... and tells the others by gossip, a forecast update every refit
# (steerctl nodes on h3: h2's load forecast 60 s ahead).
for ((i = 0; i < 150; i++)); do
	lab_steerctl 3 -j nodes >"$out/nodes3.json" 2>/dev/null
	python3 - "$out/nodes3.json" <<'EOF2' && break
import json, sys
d = json.load(open(sys.argv[1]))
d = d.get("result", d)
n = [x for x in d.get("nodes", []) if x["id"] == 2]
sys.exit(0 if n and n[0].get("fc_horizon_s") == 60
         and n[0]["fc_load"] <= n[0]["fc_load_hi"] <= 1000 else 1)
EOF2
	sleep 0.1
done
[ $i -lt 150 ] || check "h3 never heard h2's forecast ($(head -c 400 "$out/nodes3.json"))"
# With the others' forecasts, a migration target is never the node itself.
lab_steerctl 3 -j migrations >"$out/migrations3.json" 2>&1
python3 - "$out/migrations3.json" <<'EOF2' || check "steerctl migrations on h3: $(head -c 400 "$out/migrations3.json")"
import json, sys
d = json.load(open(sys.argv[1]))
d = d.get("result", d)
t = d.get("target")
ok = (t is None or (t in (1, 2, 4, 5) and 0 < d["target_headroom_permille"] <= 800))
sys.exit(0 if ok and d["node"]["fc_cpu"] <= 1000 else 1)
EOF2
[ $fail = 0 ] && echo "PASS"
exit $fail

#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Draining in host mode (src/daemon/drain.c): K TCP connections and U UDP
# flows run through the VIP, over IPv4, while
#   1. the operator drains h1 (`steerctl drain`): its drain-hook
#      (lab/drain_hook.sh) takes h1 out of the router's multipath route,
#      gossip tells the others (steerctl nodes: drained), h1's sessions
#      score as leaving with another node as target (steerctl migrations)
#      and their packets, now arriving at the other hosts, are steered
#      back to h1;
#   2. the operator undrains h1: it joins first (the others hint it their
#      sessions), then the route has it again; then, on h4, the
#      operator drains h3 by name (`steerctl drain h3`: the order goes
#      to h3 by gossip) and undrains it by id;
#   3. h2 drains itself from its load forecast ('auto-drain on' with a
#      high-water mark of 1 permille, any load passes it) and is undrained
#      by the operator once auto-drain is off again.
# Every connection and every UDP flow must survive all of it.
#
# Exit 0 pass, 1 fail, 77 skipped (not root).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
K=${STEER_LAB_CONNS:-60}
U=20

# shellcheck source=tests/lab/begin.sh
. "$here/begin.sh"
lab_test_up drain

# in_route K: is host k a next hop of the router's route to the VIP?
in_route()
{
	ip -n "$LAB_ROUTER" route show "$LAB_VIP4/32" |
		grep -q "via $(lab_host_addr4 "$1") "
}

# wait_route K yes|no SECONDS
wait_route()
{
	local i

	for ((i = 0; i < $3 * 10; i++)); do
		if in_route "$1"; then
			[ "$2" = yes ] && return 0
		else
			[ "$2" = no ] && return 0
		fi
		sleep 0.1
	done
	return 1
}

# seen_drained FROM K true|false [FIELD]: host FROM's steerctl nodes says
# so of host k (FIELD: drained, or joining), within 5 s.
seen_drained()
{
	local i

	for ((i = 0; i < 50; i++)); do
		lab_steerctl "$1" -j nodes >"$out/nodes.json" 2>/dev/null
		python3 - "$out/nodes.json" "$2" "$3" "${4:-drained}" <<'EOF2' && return 0
import json, sys
d = json.load(open(sys.argv[1]))
d = d.get("result", d)
n = [x for x in d.get("nodes", []) if x["id"] == int(sys.argv[2])]
sys.exit(0 if n and str(n[0].get(sys.argv[4])).lower() == sys.argv[3] else 1)
EOF2
		sleep 0.1
	done
	return 1
}

# jsum KEY FIELD FILE...: the sum of result.KEY.FIELD over the files.
jsum()
{
	python3 - "$@" <<'EOF2'
import json, sys
t = 0
for p in sys.argv[3:]:
    try:
        d = json.load(open(p))
        t += int(d.get("result", d).get(sys.argv[1], {}).get(sys.argv[2], 0))
    except (OSError, ValueError, AttributeError):
        pass
print(t)
EOF2
}

# One run of the whole story; $1: quiet, or loaded (a CPU burner on every
# core from before the connections open to the end of the traffic).
run()
{
	local load=$1 i k line udp conf2 joined sent

	lab_config_write_all || return 1
	lab_ecmp_reset multipath 0 >/dev/null || return 1
	lab_echo_start_all || return 1
	lab_steerd_start_all || return 1
	sleep 1 # gossip's joins
	rm -f "$out/ready" "$out/pids"
	[ "$load" = quiet ] || lab_burn 90 "$out/pids"
	bin=$(lab_bin)
	lab_exec $LAB_CLIENT "$bin/steer-traffic" --target "$LAB_VIP4" \
		--port "$LAB_PORT" --conns "$K" --udp "$U" --interval 100 \
		--duration 60 --connect-timeout 10 --stall 1500 --ready "$out/ready" \
		>"$out/v4.txt" 2>"$out/v4.err" &
	traffic=$!
	for ((i = 0; i < 200; i++)); do
		[ -e "$out/ready" ] && break
		sleep 0.05
	done
	[ -e "$out/ready" ] || { check "$load: the connections do not open"; return 1; }
	sleep 2 # the sessions reach every host by gossip

	# 1. The operator drains h1.
	lab_steerctl 1 drain >"$out/drain1.txt" 2>&1 || check "$load: steerctl drain on h1: $(cat "$out/drain1.txt")"
	wait_route 1 no 5 || check "$load: h1 still in the router's route after its drain ($(ip -n "$LAB_ROUTER" route show "$LAB_VIP4/32" | tr '\n' ' '))"
	seen_drained 3 1 true || check "$load: h3 never heard h1 is drained ($(head -c 300 "$out/nodes.json"))"
	lab_steerctl 1 -j migrations >"$out/mig1.json" 2>&1
	python3 - "$out/mig1.json" <<-'EOF2' || check "$load: steerctl migrations on drained h1: $(head -c 400 "$out/mig1.json")"
	import json, sys
	d = json.load(open(sys.argv[1]))
	d = d.get("result", d)
	s = d.get("sessions", [])
	ok = (d["node"]["drained"] is True and s
	      and all(x["reason"] == "drained" and x["score"] > 0.9
	              and x.get("target") != 1 for x in s))
	sys.exit(0 if ok else 1)
	EOF2
	sleep 3 # h1's sessions arrive elsewhere and are steered back

	# 2. ... and undrains it: h1 joins first (join-warmup, 3 s), the
	# others hint it their sessions, then its drain-hook adds it.
	lab_steerctl 1 undrain >"$out/undrain1.txt" 2>&1 || check "$load: steerctl undrain on h1: $(cat "$out/undrain1.txt")"
	lab_steerctl 1 -j drain status >"$out/join1.json" 2>&1
	grep -q '"joining":true' "$out/join1.json" || check "$load: h1 not joining after its undrain: $(head -c 300 "$out/join1.json")"
	seen_drained 3 1 true joining || check "$load: h3 never heard h1 joins"
	wait_route 1 yes 10 || check "$load: h1 not back in the router's route after its undrain"
	seen_drained 3 1 false || check "$load: h3 still takes h1 for drained"
	for k in 1 2 3 4; do
		lab_steerctl $k -j cache >"$out/jcache$k.json" 2>/dev/null
	done
	joined=$(jsum cache join_hints "$out/jcache1.json")
	sent=$(jsum hints join_sent "$out"/jcache[234].json)
	[ "$joined" -gt 0 ] && [ "$sent" -ge "$joined" ] ||
		check "$load: h1 joined with $joined session hints, the others sent $sent"
	echo "[figure] join, $load: the others hinted $sent sessions to h1 while it joined, h1 took $joined"
	sleep 2

	# 2b. On h4 the operator drains h3 by name: the order reaches h3 by
	# gossip, which drains as if asked itself; undrained again by id.
	lab_steerctl 4 drain h3 >"$out/drain3.txt" 2>&1 || check "$load: steerctl drain h3 on h4: $(cat "$out/drain3.txt")"
	wait_route 3 no 5 || check "$load: h3 still in the router's route after h4 ordered its drain"
	lab_steerctl 3 -j drain status >"$out/drain3.json" 2>&1
	grep -q '"drained":true,"why":"operator"' "$out/drain3.json" || check "$load: h3's drain state after the order: $(head -c 300 "$out/drain3.json")"
	seen_drained 1 3 true || check "$load: h1 never heard h3 is drained"
	sleep 1
	lab_steerctl 4 undrain 3 >"$out/undrain3.txt" 2>&1 || check "$load: steerctl undrain 3 on h4: $(cat "$out/undrain3.txt")"
	wait_route 3 yes 10 || check "$load: h3 not back in the router's route after h4 ordered its undrain"
	lab_steerctl 4 drain h9 >"$out/drain9.txt" 2>&1 && check "$load: drain of an unknown node h9 accepted"
	grep -q "no node 'h9' in the cluster" "$out/drain9.txt" || check "$load: drain h9 said: $(cat "$out/drain9.txt")"
	sleep 1

	# 3. h2 drains itself from its forecast; the operator brings it back.
	conf2=$(lab_steerd_conf_path 2)
	cp "$conf2" "$out/steerd2.conf"
	printf 'high-water 1\nlow-water 0\nauto-drain on\n' >>"$conf2"
	lab_steerd_hup 2
	wait_route 2 no 30 || check "$load: h2 did not drain itself past its high-water mark ($(lab_steerctl 2 drain status 2>&1 | tr '\n' ' '))"
	lab_steerctl 2 -j drain status >"$out/drain2.json" 2>&1
	grep -q '"why":"forecast"' "$out/drain2.json" || check "$load: h2's drain is not the forecast's: $(head -c 300 "$out/drain2.json")"
	seen_drained 4 2 true || check "$load: h4 never heard h2 is drained"
	sleep 2
	cp "$out/steerd2.conf" "$conf2"
	lab_steerd_hup 2
	sleep 0.5
	lab_steerctl 2 undrain >/dev/null 2>&1 || check "$load: steerctl undrain on h2 failed"
	wait_route 2 yes 10 || check "$load: h2 not back in the router's route after its undrain"

	wait "$traffic"
	traffic=
	sed 's/^/  /' "$out/v4.txt"
	line=$(grep '^connections' "$out/v4.txt")
	udp=$(grep '^udp_flows' "$out/v4.txt")
	# shellcheck disable=SC2086 # its words, split
	set -- $line
	[ "$4" = "$K" ] || check "$load: $4 of $K connections established"
	[ "$6" = "$K" ] || check "$load: $6 of $K connections survived the drains"
	# shellcheck disable=SC2086
	set -- $udp
	[ "$4" = "$U" ] || check "$load: $4 of $U UDP flows survived the drains"
	echo "[figure] drain, $load: $(echo "$line" | awk '{print $6}')/$K connections and $(echo "$udp" | awk '{print $4}')/$U UDP flows survived an operator drain and undrain of h1 and a forecast drain of h2"

	for i in $(cat "$out/pids" 2>/dev/null); do
		kill "$i" 2>/dev/null
	done
	lab_steerd_stop_all
	lab_echo_stop_all
}

for load in quiet loaded; do
	run $load
done
[ $fail = 0 ] && echo "PASS"
exit $fail

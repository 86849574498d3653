# SPDX-License-Identifier: GPL-2.0-only
#
# The lab's backends (cell mode): st-b1..st-bB on the shared bridge, each
# with the service address (VIP) on lo, the echo server, and steer-decap
# on its link (it strips the GUE or IP-in-IP the fast path sends, so the
# stack answers the client straight from the VIP: direct server return).
# Sourced by lab/lib.sh; functions prefixed lab_backend.
#
#   backend j: 198.18.0.(200 + j), 2001:db8::2:j, 02:53:00:00:02:0j,
#              bridge port st-mj
#
# A backend is declared in every node's cluster description as
#   backend bj id j addr ... addr6 ... mac ... encap gue

lab_backend_ns()
{
	echo "${LAB_P}b$1"
}

lab_backend_addr4()
{
	echo "198.18.0.$((200 + $1))"
}

lab_backend_addr6()
{
	echo "2001:db8::2:$1"
}

lab_backend_mac()
{
	printf '02:53:00:00:02:%02x\n' "$1"
}

lab_build_backend()
{
	local j=$1 ns peer

	ns=$(lab_backend_ns "$j")
	peer=${LAB_P}m$j
	lab_ns_add "$ns" || return
	lab_sysctl "$ns" net.ipv4.conf.all.arp_ignore=1 \
		net.ipv4.conf.all.arp_announce=2 \
		net.ipv4.conf.all.rp_filter=0 \
		net.ipv4.conf.default.rp_filter=0 || return
	ip -n "$ns" link add ${LAB_P}e0 address "$(lab_backend_mac "$j")" \
		type veth peer name "$peer" netns $LAB_LAN || return
	ip -n $LAB_LAN link set "$peer" master ${LAB_P}br up || return
	lab_napi $LAB_LAN "$peer" || return
	ip -n "$ns" addr add "$(lab_backend_addr4 "$j")/24" dev ${LAB_P}e0 || return
	ip -n "$ns" addr add "$(lab_backend_addr6 "$j")/64" dev ${LAB_P}e0 nodad || return
	ip -n "$ns" link set ${LAB_P}e0 up || return
	ip -n "$ns" addr add "$LAB_VIP4/32" dev lo || return
	ip -n "$ns" addr add "$LAB_VIP6/128" dev lo || return
	ip -n "$ns" route add 198.18.0.0/15 via 198.18.0.254 || return
	ip -n "$ns" -6 route add 2001:db8::/32 via 2001:db8::fe
}

# The cluster description's lines for the backends and the services:
# the first STEER_LAB_BACKENDS_LISTED backends (default all LAB_B), so a
# story can build one more than the services use at first and add it
# later (rewrite the descriptions, SIGHUP every steerd).
lab_backend_config()
{
	local j list="" n=${STEER_LAB_BACKENDS_LISTED:-$LAB_B}

	[ "$n" -le "$LAB_B" ] || n=$LAB_B
	for ((j = 1; j <= n; j++)); do
		echo "backend b$j id $j addr $(lab_backend_addr4 $j)" \
			"addr6 $(lab_backend_addr6 $j) mac $(lab_backend_mac $j)" \
			"encap gue"
		list=$list${list:+,}b$j
	done
	echo "service echo-tcp4 proto tcp vip $LAB_VIP4 port $LAB_PORT backends $list"
	echo "service echo-udp4 proto udp vip $LAB_VIP4 port $LAB_PORT backends $list"
	echo "service echo-tcp6 proto tcp vip $LAB_VIP6 port $LAB_PORT backends $list"
	echo "service echo-udp6 proto udp vip $LAB_VIP6 port $LAB_PORT backends $list"
}

# Backend j: steer-decap on its link, then the echo server on the VIPs.
lab_backend_start()
{
	local j=$1 ns bin

	ns=$(lab_backend_ns "$j")
	bin=$(lab_bin)
	lab_spawn "$ns" "decap-b$j" "$bin/steer-decap" --interface ${LAB_P}e0 \
		--addr "$(lab_backend_addr4 "$j")" --addr "$(lab_backend_addr6 "$j")" \
		--gue-port "$LAB_GUE_PORT" --pin-dir "$LAB_PIN/b$j" --counters
	lab_backend_echo_start "$j"
}

# Backend j's echo server, on the VIPs and, for the cells' health checks,
# on its own addresses.
lab_backend_echo_start()
{
	local j=$1

	lab_spawn "$(lab_backend_ns "$j")" "echo-b$j" "$(lab_bin)/steer-echo" \
		--name "b$j" --listen "$LAB_VIP4" --listen "$LAB_VIP6" \
		--listen "$(lab_backend_addr4 "$j")" \
		--listen "$(lab_backend_addr6 "$j")" --port "$LAB_PORT"
}

# Every backend, and wait (at most 5 s each) until its echo server listens.
lab_backend_start_all()
{
	local j i ns

	for ((j = 1; j <= LAB_B; j++)); do
		lab_backend_start $j || return
	done
	for ((j = 1; j <= LAB_B; j++)); do
		ns=$(lab_backend_ns $j)
		for ((i = 0; i < 50; i++)); do
			[ "$(lab_exec "$ns" ss -Hltn "sport = :$LAB_PORT" | wc -l)" -ge 4 ] && break
			sleep 0.1
		done
		[ $i -lt 50 ] || lab_die "steer-echo of b$j does not listen" || return
	done
}

lab_backend_stop_all()
{
	local j

	for ((j = 1; j <= LAB_B; j++)); do
		lab_stop "echo-b$j"
		lab_stop "decap-b$j"
	done
}

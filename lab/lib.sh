# SPDX-License-Identifier: GPL-2.0-only
#
# The steer lab: a client, an ECMP router and N+R hosts in network
# namespaces of this machine. Sourced by lab/topo.sh, lab/baseline.sh and
# the lab tests; every function is prefixed lab_. Drawing and address plan
# in lab/topo.sh.
#
# Contract:
# - Everything the lab creates carries the st- prefix: namespaces, links,
#   the cgroup st-lab under the cgroup2 mount, the pins /sys/fs/bpf/st-lab,
#   the state directory /run/st-lab. No link is ever created in the caller's namespace and no
#   namespace gets a link to it, so no lab packet can leave the machine.
# - lab_up builds from scratch (tearing down a half-built or different lab
#   first) and tears down what it built when a step fails; lab_down removes
#   all of it and succeeds also on a half-built or absent lab.
# - Processes started in the lab are recorded as pid files; lab_down ends
#   them, and any other process left inside a lab namespace, by pid.
#
# Settings (environment, read by lab_init; lab_up records them in the state
# so later calls see the lab as built):
#   STEER_LAB_HOSTS   hosts on the shared bridge, 4..200 (default 4)
#   STEER_LAB_REMOTE  hosts behind the router, each on its own link, 1..8
#                     (default 1)
#   STEER_LAB_ECMP    multipath | resilient: how the router spreads the VIP
#                     (default multipath)
#   STEER_LAB_RES_BUCKETS, STEER_LAB_RES_IDLE  resilient group buckets
#                     (default 128) and idle timer in s (default 120)
#   STEER_LAB_KIND    host | cell: hosts terminate the service themselves,
#                     or cell mode: the nodes steer to backends st-b1..
#                     (lab/backends.sh) that hold it (default host)
#   STEER_LAB_BACKENDS backends in cell mode, 1..50 (default 3)
#   STEER_LAB_BACKENDS_LISTED how many of them (the first ones) the cluster
#                     descriptions list, read whenever they are written
#                     (default all)
#   STEER_LAB_UDP_TIMEOUT  cell mode: the cluster's UDP idle timeout (s);
#                     default the cluster's own (30)
#   STEER_LAB_RF      cell mode: 'replication' of the cluster descriptions,
#                     read whenever they are written (default 2)
#   STEER_LAB_REPL_POLICY  cell mode: 'replication-policy' of the cluster
#                     descriptions (fixed | predicted ...), read whenever
#                     they are written (default: the cluster's own, fixed)
#   STEER_LAB_FLOOD_GUARD  'flood-guard' of the cluster descriptions (off |
#                     stateless | drop [rate N] ...), read whenever they are
#                     written (default: the cluster's own)
#   STEER_LAB_FLOW_TABLE  steerd's 'flow-table-size' (the XDP flow tables'
#                     and a cell's), read whenever the configs are written
#                     (default: auto)
#   STEER_LAB_OWNERSHIP  host mode: 'ownership' of the cluster descriptions,
#                     flood | directory, read whenever they are written
#                     (default: the cluster's own, flood)
#   STEER_LAB_HINTS   host mode: steerd's 'hints' (on | off), read whenever
#                     the configs are written (default on)
#   STEER_LAB_DRAIN_UDP  host mode: steerd's 'drain-udp' (keep | move), read
#                     whenever the configs are written (default keep)
#   STEER_LAB_STATE   state directory (default /run/st-lab)
#   STEER_BIN         where steer-echo, steerd... are (default: build/bin)

LAB_P=st-
LAB_STATE=${STEER_LAB_STATE:-/run/st-lab}
# The cgroup v2 hierarchy, wherever this machine mounts it.
LAB_CG_ROOT=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts 2>/dev/null)
LAB_CG_ROOT=${LAB_CG_ROOT:-/sys/fs/cgroup/unified}
LAB_CG=$LAB_CG_ROOT/${LAB_P}lab
LAB_PIN=/sys/fs/bpf/${LAB_P}lab

LAB_VIP4=198.18.100.1
LAB_VIP6=2001:db8:100::1
LAB_PORT=7000
# Every steerd's metrics and status page, on its namespace's loopback.
LAB_HTTP_PORT=9646
# The gossip: steerd's default port, written out for the tests that
# watch it.
LAB_GOSSIP_PORT=6091
LAB_GUE_PORT=6080

LAB_CLIENT=${LAB_P}client
LAB_ROUTER=${LAB_P}router
LAB_LAN=${LAB_P}lan

# Resilient next-hop group ids; single next hops use id k (v4), 100 + k (v6).
LAB_NHG4=1000
LAB_NHG6=1001

# shellcheck source=lab/backends.sh
. "$(dirname "${BASH_SOURCE[0]}")/backends.sh"

lab_log()
{
	echo "lab: $*" >&2
}

lab_die()
{
	lab_log "error: $*"
	return 1
}

# Read settings from the recorded state when the lab is up, else from the
# environment. Fails on values out of range.
lab_init()
{
	if [ -r "$LAB_STATE/config" ]; then
		# shellcheck disable=SC1091
		. "$LAB_STATE/config"
	else
		LAB_N=${STEER_LAB_HOSTS:-4}
		LAB_R=${STEER_LAB_REMOTE:-1}
		LAB_MODE=${STEER_LAB_ECMP:-multipath}
		LAB_RES_BUCKETS=${STEER_LAB_RES_BUCKETS:-128}
		LAB_RES_IDLE=${STEER_LAB_RES_IDLE:-120}
		LAB_KIND=${STEER_LAB_KIND:-host}
		LAB_B=${STEER_LAB_BACKENDS:-3}
	fi
	case $LAB_KIND in host | cell) ;; *) lab_die "STEER_LAB_KIND expects host or cell, got '$LAB_KIND'" || return ;; esac
	case $LAB_B in '' | *[!0-9]*) lab_die "STEER_LAB_BACKENDS '$LAB_B' is not a number" || return ;; esac
	[ "$LAB_KIND" = cell ] || LAB_B=0
	[ "$LAB_B" -le 50 ] ||
		lab_die "STEER_LAB_BACKENDS expects 1..50, got $LAB_B" || return
	case $LAB_N in '' | *[!0-9]*) lab_die "STEER_LAB_HOSTS '$LAB_N' is not a number" || return ;; esac
	case $LAB_R in '' | *[!0-9]*) lab_die "STEER_LAB_REMOTE '$LAB_R' is not a number" || return ;; esac
	[ "$LAB_N" -ge 4 ] && [ "$LAB_N" -le 200 ] ||
		lab_die "STEER_LAB_HOSTS expects 4..200, got $LAB_N" || return
	[ "$LAB_R" -ge 1 ] && [ "$LAB_R" -le 8 ] ||
		lab_die "STEER_LAB_REMOTE expects 1..8, got $LAB_R" || return
	lab_mode_check "$LAB_MODE" || return
	LAB_HOSTS=$((LAB_N + LAB_R))
}

lab_mode_check()
{
	case $1 in
	multipath | resilient) return 0 ;;
	esac
	lab_die "ECMP mode expects multipath or resilient, got '$1'"
}

lab_config_save()
{
	cat >"$LAB_STATE/config" <<EOF
LAB_N=$LAB_N
LAB_R=$LAB_R
LAB_MODE=$LAB_MODE
LAB_RES_BUCKETS=$LAB_RES_BUCKETS
LAB_RES_IDLE=$LAB_RES_IDLE
LAB_KIND=$LAB_KIND
LAB_B=$LAB_B
EOF
}

# --- address plan: host k is 1..N on the bridge, N+1..N+R behind the router

lab_host_ns()
{
	echo "${LAB_P}h$1"
}

lab_is_remote()
{
	[ "$1" -gt "$LAB_N" ]
}

# Remote host k sits on link j = k - N, subnet 198.18.(1 + j).0/24.
lab_remote_net()
{
	echo $((1 + $1 - LAB_N))
}

lab_host_addr4()
{
	if lab_is_remote "$1"; then
		echo "198.18.$(lab_remote_net "$1").$1"
	else
		echo "198.18.0.$1"
	fi
}

lab_host_addr6()
{
	if lab_is_remote "$1"; then
		echo "2001:db8:$(lab_remote_net "$1")::$1"
	else
		echo "2001:db8::$1"
	fi
}

lab_host_mac()
{
	printf '02:53:00:00:00:%02x\n' "$1"
}

# The router's address, MAC and device on host k's link.
lab_gw_addr4()
{
	if lab_is_remote "$1"; then
		echo "198.18.$(lab_remote_net "$1").254"
	else
		echo "198.18.0.254"
	fi
}

lab_gw_addr6()
{
	if lab_is_remote "$1"; then
		echo "2001:db8:$(lab_remote_net "$1")::fe"
	else
		echo "2001:db8::fe"
	fi
}

lab_gw_mac()
{
	if lab_is_remote "$1"; then
		printf '02:53:00:00:%02x:fe\n' "$(lab_remote_net "$1")"
	else
		echo "02:53:00:00:00:fe"
	fi
}

lab_gw_dev()
{
	if lab_is_remote "$1"; then
		echo "${LAB_P}rh$1"
	else
		echo "${LAB_P}rl"
	fi
}

# "h3", "st-h3" or "3" -> 3; fails for anything else.
lab_host_parse()
{
	local k=${1#"$LAB_P"}

	k=${k#h}
	case $k in '' | *[!0-9]*) lab_die "'$1' is not a host (h1..h$LAB_HOSTS)" || return ;; esac
	[ "$k" -ge 1 ] && [ "$k" -le "$LAB_HOSTS" ] ||
		lab_die "'$1' is not a host (h1..h$LAB_HOSTS)" || return
	echo $((10#$k))
}

lab_namespaces()
{
	local k

	echo "$LAB_CLIENT $LAB_ROUTER $LAB_LAN"
	for ((k = 1; k <= LAB_HOSTS; k++)); do
		lab_host_ns $k
	done
	for ((k = 1; k <= ${LAB_B:-0}; k++)); do
		lab_backend_ns $k
	done
}

# --- running things inside the lab

# Run a command in namespace ns without remounting /sys (unlike
# `ip netns exec`), so bpffs and the cgroup tree stay visible.
lab_exec()
{
	local ns=$1

	shift
	nsenter --net="/run/netns/$ns" -- "$@"
}

# Start a long-running command in namespace ns, in cgroup st-lab/NAME
# (entered before exec, so a server is in it before it listens), output to
# $LAB_STATE/log/NAME.log, pid in $LAB_STATE/pid/NAME. Returns at once.
lab_spawn()
{
	local ns=$1 name=$2 cg=""

	shift 2
	mkdir -p "$LAB_STATE/log" "$LAB_STATE/pid"
	if [ -d "$LAB_CG" ]; then
		cg=$LAB_CG/$name
		mkdir -p "$cg"
	fi
	(
		[ -z "$cg" ] || echo $BASHPID >"$cg/cgroup.procs"
		exec nsenter --net="/run/netns/$ns" -- "$@"
	) >"$LAB_STATE/log/$name.log" 2>&1 </dev/null &
	echo $! >"$LAB_STATE/pid/$name"
	# Not a job of the caller's: a crash we cause is not reported.
	disown $!
}

# Whether pid runs (a zombie does not: our processes outlive the shell
# that started them and are reaped by whoever inherits them).
lab_alive()
{
	local st

	st=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 1
	[ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}

# End the process recorded as NAME: SIGTERM, then SIGKILL after 2 s.
lab_stop()
{
	local f="$LAB_STATE/pid/$1" pid i

	[ -r "$f" ] || return 0
	pid=$(cat "$f")
	rm -f "$f"
	kill -TERM "$pid" 2>/dev/null || return 0
	for ((i = 0; i < 20; i++)); do
		lab_alive "$pid" || return 0
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
}

# kill -9 the process recorded as NAME and forget it (a crash, for tests).
lab_crash()
{
	local f="$LAB_STATE/pid/$1"

	[ -r "$f" ] || lab_die "no process named $1" || return
	kill -KILL "$(cat "$f")" 2>/dev/null || true
	rm -f "$f"
}

# End every process still inside namespace ns; only lab processes live
# there. SIGTERM, then SIGKILL to the survivors after 2 s.
lab_ns_kill()
{
	local ns=$1 pids i

	[ -e "/run/netns/$ns" ] || return 0
	pids=$(ip netns pids "$ns" 2>/dev/null) || return 0
	[ -n "$pids" ] || return 0
	# shellcheck disable=SC2086
	kill -TERM $pids 2>/dev/null || true
	for ((i = 0; i < 20; i++)); do
		pids=$(ip netns pids "$ns" 2>/dev/null)
		[ -n "$pids" ] || return 0
		sleep 0.1
	done
	# shellcheck disable=SC2086
	kill -KILL $pids 2>/dev/null || true
}

lab_bin()
{
	local top

	if [ -n "${STEER_BIN:-}" ]; then
		echo "$STEER_BIN"
	else
		top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
		echo "$top/build/bin"
	fi
}

# Start steer-echo in host k: TCP and UDP on both VIPs, port LAB_PORT.
lab_echo_start()
{
	local k=$1 bin

	bin=$(lab_bin)/steer-echo
	[ -x "$bin" ] || lab_die "$bin not found (build it, or set STEER_BIN)" || return
	lab_spawn "$(lab_host_ns "$k")" "echo-h$k" "$bin" --name "h$k" \
		--listen "$LAB_VIP4" --listen "$LAB_VIP6" --port "$LAB_PORT"
}

# Start steer-echo on every host and wait until each listens on both VIPs
# (at most 5 s).
lab_echo_start_all()
{
	local k i ns

	# Cell mode: the servers are the backends'.
	if [ "$LAB_KIND" = cell ]; then
		lab_backend_start_all
		return
	fi
	for ((k = 1; k <= LAB_HOSTS; k++)); do
		lab_echo_start $k || return
	done
	for ((k = 1; k <= LAB_HOSTS; k++)); do
		ns=$(lab_host_ns $k)
		for ((i = 0; i < 50; i++)); do
			[ "$(lab_exec "$ns" ss -Hltn "sport = :$LAB_PORT" | wc -l)" -ge 2 ] && break
			sleep 0.1
		done
		[ $i -lt 50 ] || lab_die "steer-echo of h$k does not listen" || return
	done
}

lab_echo_stop_all()
{
	local k

	lab_backend_stop_all
	for ((k = 1; k <= LAB_HOSTS; k++)); do
		lab_stop "echo-h$k"
	done
}

# Start steerd in host k with its generated config and wait (at most 5 s)
# until its admin socket is there (steerd creates it once it runs).
lab_steerd_start()
{
	local k=$1 bin i

	bin=$(lab_bin)/steerd
	[ -x "$bin" ] || lab_die "$bin not found" || return
	[ ! -d "$LAB_CG_ROOT" ] || mkdir -p "$LAB_CG/echo-h$k" || return
	lab_spawn "$(lab_host_ns "$k")" "steerd-h$k" "$bin" --foreground \
		--config "$(lab_steerd_conf_path "$k")"
	for ((i = 0; i < 50; i++)); do
		[ -S "$(lab_admin_path "$k")" ] && return 0
		lab_alive "$(cat "$LAB_STATE/pid/steerd-h$k")" ||
			lab_die "steerd of h$k exited: $(tail -3 "$LAB_STATE/log/steerd-h$k.log")" ||
			return
		sleep 0.1
	done
	lab_die "steerd of h$k does not answer"
}

lab_steerd_start_all()
{
	local k

	for ((k = 1; k <= LAB_HOSTS; k++)); do
		lab_steerd_start $k || return
	done
}

lab_steerd_stop()
{
	lab_stop "steerd-h$1"
}

# SIGHUP to host k's steerd: it reads its config and cluster description
# again (its log says 'reloaded', or 'reload failed').
lab_steerd_hup()
{
	local f="$LAB_STATE/pid/steerd-h$1"

	[ -r "$f" ] || lab_die "no steerd runs in h$1" || return
	kill -HUP "$(cat "$f")"
}

lab_steerd_stop_all()
{
	local k

	for ((k = 1; k <= LAB_HOSTS; k++)); do
		lab_steerd_stop $k
	done
}

# steerctl against host k's daemon.
lab_steerctl()
{
	local k=$1

	shift
	"$(lab_bin)/steerctl" -s "$(lab_admin_path "$k")" "$@"
}

# Cell mode: the cells host k's map counts live, or nothing.
lab_cells_live()
{
	lab_steerctl "$1" -j shards 2>/dev/null |
		grep -o '"cells_live":[0-9]*' | head -1 | cut -d: -f2
}

# Cell mode: wait (at most secs s, default 5) until every host's map
# counts want cells live. 0, or 1 on timeout.
lab_cells_wait()
{
	local want=$1 secs=${2:-5} i k ok

	for ((i = 0; i < secs * 10; i++)); do
		ok=1
		for ((k = 1; k <= LAB_HOSTS; k++)); do
			[ "$(lab_cells_live $k)" = "$want" ] || { ok=0; break; }
		done
		[ $ok = 1 ] && return 0
		sleep 0.1
	done
	return 1
}

lab_now_ms()
{
	echo $(($(date +%s%N) / 1000000))
}

# Both cores busy with other work, as on a loaded machine: one busy loop
# per CPU, at the lab's own priority, each ending by itself after secs s
# (timeout); their pids are appended to pidfile for the caller to end
# them sooner.
lab_burn()
{
	local secs=$1 pidfile=$2 i

	for ((i = 0; i < $(nproc); i++)); do
		timeout "$secs" bash -c 'while :; do :; done' &
		echo $! >>"$pidfile"
	done
}

# When each live steerd knew that host k's cell died: ms from epoch
# instant t (ms) to its first log line saying so, the largest of them
# ("-1" when one never did). Reads the lines' UTC time of day.
lab_death_known_ms()
{
	local k=$1 t=$2 h logs=()

	for ((h = 1; h <= LAB_HOSTS; h++)); do
		[ "$h" = "$k" ] || logs+=("$LAB_STATE/log/steerd-h$h.log")
	done
	python3 - "$k" "$t" "${logs[@]}" <<'EOF2'
import re, sys
k, t = sys.argv[1], int(sys.argv[2])
day = 86400000
# steerd stamps lines "2026-12-07T22:10:09.123Z " (older ones "22:10:09.123 ").
pat = re.compile(r"^(?:\d{4}-\d\d-\d\dT)?(\d\d):(\d\d):(\d\d)\.(\d{3})Z? .*repl: cell %s (is down|silent)" % k)
worst = 0
for path in sys.argv[3:]:
    seen = None
    try:
        lines = open(path, errors="replace").read().splitlines()
    except OSError:
        lines = []
    for ln in lines:
        m = pat.match(ln)
        if not m:
            continue
        h, mi, s, ms = map(int, m.groups()[:4])
        d = (h * 3600000 + mi * 60000 + s * 1000 + ms - t) % day
        if d < day // 2:  # after t (the log holds earlier lives too)
            seen = d
            break
    if seen is None:
        print(-1)
        sys.exit(0)
    worst = max(worst, seen)
print(worst)
EOF2
}

# A line of a story's account, stamped with the seconds since $t0 (ms).
lab_say()
{
	local d=$(($(lab_now_ms) - t0))

	printf '  %3d.%01ds  %s\n' $((d / 1000)) $((d % 1000 / 100)) "$*"
}

# A story's event: said as lab_say does and, when the story keeps a CSV
# folder, a row "ms,what" of LAB_EVENTS, the ms counted from
# LAB_EVENTS_T (when the traffic started: the plots of scripts/report.py).
lab_event()
{
	lab_say "$@"
	[ -z "${LAB_EVENTS:-}" ] ||
		echo "$(($(lab_now_ms) - LAB_EVENTS_T)),$*" >>"$LAB_EVENTS"
}

# --- cluster descriptions for steerd (format of src/core/cluster.h)

lab_config_path()
{
	echo "$LAB_STATE/h$1/cluster.conf"
}

# Write host k's view of the lab: every host is a node; nodes on k's link
# are reached by their MAC, the others through the router, whose MAC is the
# one of its interface on k's link.
lab_config_write()
{
	local k=$1 j f

	f=$(lab_config_path "$k")
	mkdir -p "$(dirname "$f")"
	{
		echo "# SPDX-License-Identifier: GPL-2.0-only"
		echo "# The steer lab as st-h$k sees it; written by lab/lib.sh."
		echo "# Service (host mode, every node terminates it): vip $LAB_VIP4 and"
		echo "# $LAB_VIP6, port $LAB_PORT, tcp and udp."
		echo "cluster st-lab"
		echo "self h$k"
		echo "gue-port $LAB_GUE_PORT"
		echo "mtu 1500"
		echo "gateway rtr mac $(lab_gw_mac "$k")"
		[ -z "${STEER_LAB_FLOOD_GUARD:-}" ] ||
			echo "flood-guard $STEER_LAB_FLOOD_GUARD"
		for ((j = 1; j <= LAB_HOSTS; j++)); do
			printf 'node h%d id %d addr %s addr6 %s ' "$j" "$j" \
				"$(lab_host_addr4 $j)" "$(lab_host_addr6 $j)"
			if [ "$(lab_gw_dev "$j")" = "$(lab_gw_dev "$k")" ]; then
				echo "mac $(lab_host_mac $j)"
			else
				echo "via rtr"
			fi
		done
		if [ "$LAB_KIND" = cell ]; then
			echo "replication ${STEER_LAB_RF:-2}"
			[ -z "${STEER_LAB_REPL_POLICY:-}" ] ||
				echo "replication-policy $STEER_LAB_REPL_POLICY"
			[ -z "${STEER_LAB_UDP_TIMEOUT:-}" ] ||
				echo "fsc udp-timeout $STEER_LAB_UDP_TIMEOUT"
			lab_backend_config
		else
			[ -z "${STEER_LAB_OWNERSHIP:-}" ] ||
				echo "ownership $STEER_LAB_OWNERSHIP"
			echo "service echo-tcp4 proto tcp vip $LAB_VIP4 port $LAB_PORT"
			echo "service echo-udp4 proto udp vip $LAB_VIP4 port $LAB_PORT"
			echo "service echo-tcp6 proto tcp vip $LAB_VIP6 port $LAB_PORT"
			echo "service echo-udp6 proto udp vip $LAB_VIP6 port $LAB_PORT"
		fi
	} >"$f"
	lab_steerd_conf_write "$k"
}

# The cluster key every steerd of the lab shares (64 hex digits).
lab_key_path()
{
	echo "$LAB_STATE/cluster.key"
}

lab_key_write()
{
	local f

	f=$(lab_key_path)
	[ -s "$f" ] && return 0
	od -An -tx1 -N32 /dev/urandom | tr -d ' \n' >"$f" || return
	chmod 600 "$f"
}

lab_steerd_conf_path()
{
	echo "$LAB_STATE/h$1/steerd.conf"
}

lab_admin_path()
{
	echo "$LAB_STATE/h$1/steerd.sock"
}

# Host k's steerd config: host mode on st-e0, its own pins, and the
# sessions of the cgroup its echo server runs in. STEER_LAB_XDP=off makes
# every steerd run without its XDP program (the no-steering baseline).
lab_steerd_conf_write()
{
	local k=$1

	cat >"$(lab_steerd_conf_path "$k")" <<EOF2
# SPDX-License-Identifier: GPL-2.0-only
# steerd of st-h$k; written by lab/lib.sh.
cluster-file cluster.conf
admin-socket $(lab_admin_path "$k")
interface ${LAB_P}e0
mode $LAB_KIND
gossip-port $LAB_GOSSIP_PORT
cluster-key-file $(lab_key_path)
bpf-pin-dir $LAB_PIN/h$k
cgroup $LAB_CG/echo-h$k
xdp ${STEER_LAB_XDP:-on}
log-level ${STEER_LAB_LOG:-info}
cache-dir $LAB_STATE/h$k/cache
hints ${STEER_LAB_HINTS:-on}
drain-udp ${STEER_LAB_DRAIN_UDP:-keep}
flow-table-size ${STEER_LAB_FLOW_TABLE:-auto}
http-listen 127.0.0.1:$LAB_HTTP_PORT
EOF2
	# Host mode: draining takes the node out of the router's route.
	[ "$LAB_KIND" != host ] ||
		echo "drain-hook $(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/drain_hook.sh" \
			>>"$(lab_steerd_conf_path "$k")"
}

lab_config_write_all()
{
	local k

	lab_key_write || return
	for ((k = 1; k <= LAB_HOSTS; k++)); do
		lab_config_write $k || return
	done
}

# --- building

lab_ns_add()
{
	ip netns add "$1" || return
	echo "$1" >>"$LAB_STATE/namespaces"
	ip -n "$1" link set lo up
}

# sysctl inside namespace ns.
lab_sysctl()
{
	local ns=$1

	shift
	lab_exec "$ns" sysctl -qw "$@" >/dev/null
}

lab_build_client()
{
	local ns=$LAB_CLIENT

	lab_ns_add $ns || return
	ip -n $ns link add ${LAB_P}c0 address 02:53:00:00:01:01 type veth \
		peer name ${LAB_P}rc address 02:53:00:00:01:fe \
		netns $LAB_ROUTER || return
	ip -n $ns addr add 198.18.1.1/24 dev ${LAB_P}c0 || return
	ip -n $ns addr add 2001:db8:1::1/64 dev ${LAB_P}c0 nodad || return
	ip -n $ns link set ${LAB_P}c0 up || return
	# A veth hands the peer a packet whose checksum the sender left to
	# "hardware" (CHECKSUM_PARTIAL). The stack copes; a frame an XDP
	# program sends on (steered) arrives elsewhere with the checksum
	# unfinished and is dropped. A real wire carries finished checksums:
	# make the client finish them.
	lab_exec $ns ethtool -K ${LAB_P}c0 tx off >/dev/null || return
	ip -n $ns route add 198.18.0.0/15 via 198.18.1.254 || return
	ip -n $ns -6 route add 2001:db8::/32 via 2001:db8:1::fe || return
	ip -n $LAB_ROUTER addr add 198.18.1.254/24 dev ${LAB_P}rc || return
	ip -n $LAB_ROUTER addr add 2001:db8:1::fe/64 dev ${LAB_P}rc nodad || return
	ip -n $LAB_ROUTER link set ${LAB_P}rc up
}

lab_build_router()
{
	local ns=$LAB_ROUTER

	lab_ns_add $ns || return
	lab_sysctl $ns net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 \
		net.ipv4.fib_multipath_hash_policy=1 \
		net.ipv6.fib_multipath_hash_policy=1 \
		net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0
}

lab_build_lan()
{
	local ns=$LAB_LAN

	lab_ns_add $ns || return
	lab_sysctl $ns net.ipv6.conf.all.disable_ipv6=1 \
		net.ipv6.conf.default.disable_ipv6=1 || return
	ip -n $ns link add ${LAB_P}br type bridge stp_state 0 \
		mcast_snooping 0 || return
	ip -n $ns link set ${LAB_P}br up || return
	ip -n $LAB_ROUTER link add ${LAB_P}rl address "$(lab_gw_mac 1)" \
		type veth peer name ${LAB_P}lr netns $ns || return
	ip -n $ns link set ${LAB_P}lr master ${LAB_P}br up || return
	ip -n $LAB_ROUTER addr add 198.18.0.254/24 dev ${LAB_P}rl || return
	ip -n $LAB_ROUTER addr add 2001:db8::fe/64 dev ${LAB_P}rl nodad || return
	ip -n $LAB_ROUTER link set ${LAB_P}rl up
}

# Frames a host's XDP program transmits (XDP_TX) arrive on the peer of its
# veth, which keeps them in its ring and never delivers them unless it
# runs NAPI. Turning GRO on was not enough on this kernel (the ring fills:
# 256 frames, then xdp_tx_errors); an XDP program on the peer is, so the
# lab attaches steer's XDP_PASS program there.
lab_napi()
{
	local obj

	obj=$(lab_bin)/../bpf/steer_pass.bpf.o
	[ -r "$obj" ] || lab_die "$obj not found (build first)" || return
	lab_exec "$1" ip link set dev "$2" xdp obj "$obj" sec xdp
}

# Host k: its link (a bridge port, or its own link to the router), its
# address, the VIPs on lo, routes to the lab prefixes via the router.
lab_build_host()
{
	local k=$1 ns peer_ns peer a4 a6 g4 g6

	ns=$(lab_host_ns "$k")
	a4=$(lab_host_addr4 "$k")
	a6=$(lab_host_addr6 "$k")
	g4=$(lab_gw_addr4 "$k")
	g6=$(lab_gw_addr6 "$k")
	lab_ns_add "$ns" || return
	# The VIP answers only on lo: no ARP/ND for it on the shared segment.
	lab_sysctl "$ns" net.ipv4.conf.all.arp_ignore=1 \
		net.ipv4.conf.all.arp_announce=2 \
		net.ipv4.conf.all.rp_filter=0 \
		net.ipv4.conf.default.rp_filter=0 || return
	if lab_is_remote "$k"; then
		peer_ns=$LAB_ROUTER
		peer=$(lab_gw_dev "$k")
		ip -n "$ns" link add ${LAB_P}e0 address "$(lab_host_mac "$k")" \
			type veth peer name "$peer" address "$(lab_gw_mac "$k")" \
			netns $peer_ns || return
		ip -n $peer_ns addr add "$g4/24" dev "$peer" || return
		ip -n $peer_ns addr add "$g6/64" dev "$peer" nodad || return
		ip -n $peer_ns link set "$peer" up || return
		lab_napi "$peer_ns" "$peer" || return
	else
		peer_ns=$LAB_LAN
		peer=${LAB_P}l$k
		ip -n "$ns" link add ${LAB_P}e0 address "$(lab_host_mac "$k")" \
			type veth peer name "$peer" netns $peer_ns || return
		ip -n $peer_ns link set "$peer" master ${LAB_P}br up || return
		lab_napi "$peer_ns" "$peer" || return
	fi
	ip -n "$ns" addr add "$a4/24" dev ${LAB_P}e0 || return
	ip -n "$ns" addr add "$a6/64" dev ${LAB_P}e0 nodad || return
	ip -n "$ns" link set ${LAB_P}e0 up || return
	# Cell mode: the backends hold the VIP, the nodes only steer.
	if [ "$LAB_KIND" = host ]; then
		ip -n "$ns" addr add "$LAB_VIP4/32" dev lo || return
		ip -n "$ns" addr add "$LAB_VIP6/128" dev lo || return
	fi
	ip -n "$ns" route add 198.18.0.0/15 via "$g4" || return
	ip -n "$ns" -6 route add 2001:db8::/32 via "$g6"
}

# Next-hop objects for the resilient groups: id k (v4) and 100 + k (v6).
lab_build_nexthops()
{
	local k

	for ((k = 1; k <= LAB_HOSTS; k++)); do
		ip -n $LAB_ROUTER nexthop add id $k via "$(lab_host_addr4 $k)" \
			dev "$(lab_gw_dev $k)" || return
		ip -n $LAB_ROUTER nexthop add id $((100 + k)) \
			via "$(lab_host_addr6 $k)" dev "$(lab_gw_dev $k)" || return
	done
}

# --- ECMP membership: $LAB_STATE/members lists the host numbers behind the
# VIP; lab_ecmp_apply makes the router's VIP routes match it.

lab_members()
{
	cat "$LAB_STATE/members" 2>/dev/null
}

lab_members_set()
{
	echo "$*" | tr ' ' '\n' | sed '/^$/d' | sort -n >"$LAB_STATE/members.new" &&
		mv "$LAB_STATE/members.new" "$LAB_STATE/members"
}

lab_route_del_vips()
{
	while ip -n $LAB_ROUTER route del "$LAB_VIP4/32" 2>/dev/null; do :; done
	while ip -n $LAB_ROUTER -6 route del "$LAB_VIP6/128" 2>/dev/null; do :; done
}

lab_ecmp_apply()
{
	local members k nh4=() nh6=() grp4="" grp6=""

	members=$(lab_members)
	for k in $members; do
		nh4+=(nexthop via "$(lab_host_addr4 $k)" dev "$(lab_gw_dev $k)")
		nh6+=(nexthop via "$(lab_host_addr6 $k)" dev "$(lab_gw_dev $k)")
		grp4=${grp4:+$grp4/}$k
		grp6=${grp6:+$grp6/}$((100 + k))
	done
	if [ -z "$members" ]; then
		lab_route_del_vips
		ip -n $LAB_ROUTER nexthop del id $LAB_NHG4 2>/dev/null
		ip -n $LAB_ROUTER nexthop del id $LAB_NHG6 2>/dev/null
		return 0
	fi
	if [ "$LAB_MODE" = multipath ]; then
		if ip -n $LAB_ROUTER route show "$LAB_VIP4/32" | grep -q nhid; then
			lab_route_del_vips
		fi
		ip -n $LAB_ROUTER nexthop del id $LAB_NHG4 2>/dev/null
		ip -n $LAB_ROUTER nexthop del id $LAB_NHG6 2>/dev/null
		ip -n $LAB_ROUTER route replace "$LAB_VIP4/32" "${nh4[@]}" || return
		ip -n $LAB_ROUTER -6 route replace "$LAB_VIP6/128" "${nh6[@]}"
		return
	fi
	# A resilient group keeps its buckets on replace: only the buckets of
	# removed next hops, and idle ones when one is added, change owner.
	if ip -n $LAB_ROUTER nexthop show id $LAB_NHG4 >/dev/null 2>&1; then
		ip -n $LAB_ROUTER nexthop replace id $LAB_NHG4 group "$grp4" \
			type resilient || return
		ip -n $LAB_ROUTER nexthop replace id $LAB_NHG6 group "$grp6" \
			type resilient || return
		return
	fi
	lab_route_del_vips
	ip -n $LAB_ROUTER nexthop add id $LAB_NHG4 group "$grp4" type resilient \
		buckets "$LAB_RES_BUCKETS" idle_timer "$LAB_RES_IDLE" || return
	ip -n $LAB_ROUTER nexthop add id $LAB_NHG6 group "$grp6" type resilient \
		buckets "$LAB_RES_BUCKETS" idle_timer "$LAB_RES_IDLE" || return
	ip -n $LAB_ROUTER route add "$LAB_VIP4/32" nhid $LAB_NHG4 || return
	ip -n $LAB_ROUTER -6 route add "$LAB_VIP6/128" nhid $LAB_NHG6
}

# The router commands (lines for `ip -batch`) that make the VIP routes
# of the current mode match the hosts given, once the routes already have
# that mode's shape (lab_ecmp_apply made them). A change that must land
# at a given moment is prepared with this, made with lab_ecmp_batch_run.
lab_ecmp_batch()
{
	local k hops4="" hops6="" grp4="" grp6=""

	[ $# -gt 0 ] || lab_die "the VIP needs at least one host" || return
	for k in "$@"; do
		hops4="$hops4 nexthop via $(lab_host_addr4 "$k") dev $(lab_gw_dev "$k")"
		hops6="$hops6 nexthop via $(lab_host_addr6 "$k") dev $(lab_gw_dev "$k")"
		grp4=${grp4:+$grp4/}$k
		grp6=${grp6:+$grp6/}$((100 + k))
	done
	if [ "$LAB_MODE" = multipath ]; then
		echo "route replace $LAB_VIP4/32$hops4"
		echo "route replace $LAB_VIP6/128$hops6"
	else
		echo "nexthop replace id $LAB_NHG4 group $grp4 type resilient"
		echo "nexthop replace id $LAB_NHG6 group $grp6 type resilient"
	fi
}

# Run the commands of lab_ecmp_batch (file f) on the router and record
# the hosts given as the members.
lab_ecmp_batch_run()
{
	local f=$1

	shift
	ip -n $LAB_ROUTER -batch "$f" || return
	lab_members_set "$@"
}

lab_ecmp_add()
{
	local k

	k=$(lab_host_parse "$1") || return
	if lab_members | grep -qx "$k"; then
		lab_log "h$k is already behind the VIP"
		return 0
	fi
	lab_members_set $(lab_members) "$k" && lab_ecmp_apply
}

lab_ecmp_del()
{
	local k

	k=$(lab_host_parse "$1") || return
	lab_members | grep -qx "$k" ||
		lab_die "h$k is not behind the VIP" || return
	lab_members_set $(lab_members | grep -vx "$k") && lab_ecmp_apply
}

# Back to the hosts of the bridge, h1..hN, in mode m (default: the current
# one); idle, for resilient, sets the groups' idle timer in s (0: a bucket
# may change owner at once, busy or not). Resilient groups are built anew
# (fresh buckets).
lab_ecmp_reset()
{
	local m=${1:-$LAB_MODE} idle=${2:-${STEER_LAB_RES_IDLE:-120}} k list=""

	lab_mode_check "$m" || return
	case $idle in '' | *[!0-9]*) lab_die "idle timer expects seconds, got '$idle'" || return ;; esac
	LAB_RES_IDLE=$idle
	if [ "$m" != "$LAB_MODE" ] || [ "$m" = resilient ]; then
		lab_members_set ""
		lab_ecmp_apply || return
	fi
	LAB_MODE=$m
	lab_config_save
	for ((k = 1; k <= LAB_N; k++)); do
		list="$list $k"
	done
	# shellcheck disable=SC2086
	lab_members_set $list && lab_ecmp_apply
}

# --- up, down, status

lab_built()
{
	[ -r "$LAB_STATE/up" ]
}

lab_up()
{
	local k

	if lab_built && lab_check >/dev/null 2>&1; then
		lab_log "already up ($LAB_HOSTS hosts, $LAB_MODE)"
		return 0
	fi
	[ -d "$LAB_STATE" ] && { lab_down || return; }
	# lab_down forgot the recorded settings: take them from the environment.
	lab_init || return
	mkdir -p "$LAB_STATE" || return
	lab_config_save
	lab_build_router &&
		lab_build_client &&
		lab_build_lan || return
	for ((k = 1; k <= LAB_HOSTS; k++)); do
		lab_build_host $k || return
	done
	for ((k = 1; k <= LAB_B; k++)); do
		lab_build_backend $k || return
	done
	lab_build_nexthops || return
	lab_ecmp_reset "$LAB_MODE" || return
	lab_config_write_all || return
	[ ! -d "$LAB_CG_ROOT" ] || mkdir -p "$LAB_CG" || return
	lab_wait_reach || return
	touch "$LAB_STATE/up"
}

# Wait (at most 5 s) until the client reaches every host and the VIP
# answers on both families: neighbours resolved, routes in place.
lab_wait_reach()
{
	local k i ok

	for ((i = 0; i < 50; i++)); do
		ok=1
		for ((k = 1; k <= LAB_HOSTS; k++)); do
			lab_exec $LAB_CLIENT ping -c1 -W1 -q "$(lab_host_addr4 $k)" \
				>/dev/null 2>&1 || { ok=0; break; }
			lab_exec $LAB_CLIENT ping -6 -c1 -W1 -q "$(lab_host_addr6 $k)" \
				>/dev/null 2>&1 || { ok=0; break; }
		done
		[ $ok = 1 ] && return 0
		sleep 0.1
	done
	lab_die "client cannot reach every host"
}

lab_down()
{
	local ns list k f

	list=$(cat "$LAB_STATE/namespaces" 2>/dev/null)
	# Also the names a lab of the recorded (or default) size would have,
	# in case the record was lost half-way.
	list="$list $(lab_namespaces 2>/dev/null)"
	for f in "$LAB_STATE"/pid/*; do
		[ -e "$f" ] && lab_stop "$(basename "$f")"
	done
	for ns in $(echo "$list" | tr ' ' '\n' | sort -u); do
		case $ns in "$LAB_P"*) ;; *) continue ;; esac
		[ -e "/run/netns/$ns" ] || continue
		lab_ns_kill "$ns"
		ip netns del "$ns" || lab_log "cannot delete namespace $ns"
	done
	if [ -d "$LAB_CG" ]; then
		for f in "$LAB_CG"/*/; do
			[ -d "$f" ] && rmdir "$f" 2>/dev/null
		done
		rmdir "$LAB_CG" 2>/dev/null || lab_log "cannot remove $LAB_CG"
	fi
	rm -rf "$LAB_STATE" "$LAB_PIN"
	# Whatever is left with the lab's names is a failure to report.
	for ns in $(echo "$list" | tr ' ' '\n' | sort -u); do
		[ ! -e "/run/netns/$ns" ] || lab_die "namespace $ns is left" || return
	done
	k=$(ip -o link show | awk -F': ' '{print $2}' | grep -c "^$LAB_P" || true)
	[ "$k" -eq 0 ] || lab_die "$k st- links are left in this namespace"
}

# Whether a built lab is left over by a run that ended without taking it
# down: no process lives in any of its namespaces. A lab someone still
# uses (a steerd, a server, a shell) is not stale.
lab_stale()
{
	local ns

	lab_built || return 1
	for ns in $(cat "$LAB_STATE/namespaces" 2>/dev/null); do
		[ -e "/run/netns/$ns" ] || continue
		[ -z "$(ip netns pids "$ns" 2>/dev/null)" ] || return 1
	done
	return 0
}

# For tests: take down a stale lab; fail when a lab is up and in use.
lab_claim()
{
	lab_built || return 0
	if lab_stale; then
		lab_log "taking down a stale lab left by an earlier run"
		# The settings were the stale lab's: take them from the environment.
		lab_down && lab_init
		return
	fi
	lab_die "a lab is up and in use; take it down first (lab/topo.sh down)"
}

# Health check of a built lab: namespaces present, no default route
# anywhere, VIP routes match the members, steer processes alive. Prints
# problems; returns 1 when there is one.
lab_check()
{
	local ns bad=0 f pid

	lab_built || { echo "not up"; return 1; }
	for ns in $(lab_namespaces); do
		if [ ! -e "/run/netns/$ns" ]; then
			echo "missing namespace $ns"
			bad=1
			continue
		fi
		if [ -n "$(ip -n "$ns" route show default)$(ip -n "$ns" -6 route show default)" ]; then
			echo "namespace $ns has a default route"
			bad=1
		fi
	done
	for f in "$LAB_STATE"/pid/*; do
		[ -e "$f" ] || continue
		pid=$(cat "$f")
		lab_alive "$pid" || { echo "$(basename "$f") (pid $pid) is dead"; bad=1; }
	done
	return $bad
}

lab_status()
{
	local k ns f members

	if ! lab_built; then
		echo "lab: down"
		return 1
	fi
	members=$(lab_members | tr '\n' ' ')
	echo "lab: up, $LAB_N hosts on the bridge + $LAB_R routed, ECMP $LAB_MODE"
	echo "vip: $LAB_VIP4 $LAB_VIP6 port $LAB_PORT (tcp, udp)"
	echo "behind the vip: $(for k in $members; do printf 'h%s ' "$k"; done)"
	echo
	for ((k = 1; k <= LAB_HOSTS; k++)); do
		ns=$(lab_host_ns $k)
		printf '  %-9s %-14s %-16s %s %s\n' "$ns" "$(lab_host_addr4 $k)" \
			"$(lab_host_addr6 $k)" "$(lab_host_mac $k)" \
			"$(lab_is_remote $k && echo routed || echo bridge)"
	done
	echo
	echo "router, $LAB_VIP4:"
	ip -n $LAB_ROUTER route show "$LAB_VIP4/32" | sed 's/^/  /'
	echo "router, $LAB_VIP6:"
	ip -n $LAB_ROUTER -6 route show "$LAB_VIP6/128" | sed 's/^/  /'
	if [ "$LAB_MODE" = resilient ]; then
		ip -n $LAB_ROUTER nexthop show id $LAB_NHG4 | sed 's/^/  /'
		ip -n $LAB_ROUTER nexthop show id $LAB_NHG6 | sed 's/^/  /'
	fi
	echo
	echo "processes:"
	for f in "$LAB_STATE"/pid/*; do
		[ -e "$f" ] || continue
		printf '  %-12s pid %s\n' "$(basename "$f")" "$(cat "$f")"
	done
	echo "cluster descriptions: $LAB_STATE/h*/cluster.conf"
	lab_check
}

# --- faults (cell mode): a cut-off cell, an impaired link, two owners

# Cut host k off from every other node: nftables in its namespace drops
# everything between its addresses and theirs (the client, the router
# and the backends still reach it). lab_heal k ends it.
lab_cut()
{
	local k=$1 j o4="" o6=""

	for ((j = 1; j <= LAB_HOSTS; j++)); do
		[ "$j" = "$k" ] && continue
		o4="$o4${o4:+, }$(lab_host_addr4 $j)"
		o6="$o6${o6:+, }$(lab_host_addr6 $j)"
	done
	lab_exec "$(lab_host_ns "$k")" nft -f - <<EOF2
table inet ${LAB_P}cut {
	chain in {
		type filter hook input priority -10; policy accept;
		ip saddr { $o4 } drop
		ip6 saddr { $o6 } drop
	}
	chain out {
		type filter hook output priority -10; policy accept;
		ip daddr { $o4 } drop
		ip6 daddr { $o6 } drop
	}
}
EOF2
}

lab_heal()
{
	lab_exec "$(lab_host_ns "$1")" nft delete table inet ${LAB_P}cut
}

# Impair the link of host k on the bridge for at most secs s: each way,
# one frame in 10 dropped (nftables, numgen) and, with ms > 0, every
# frame held ms milliseconds. This kernel has no netem nor any qdisc that
# holds a packet until a time (fq, etf), so the delay is a wire in
# userspace (lab/chaos_wire.py): the host's bridge port leaves the bridge
# and a new veth pair (st-wK, st-xK) takes its place, the wire carrying
# frames between the port and st-wK with their offload headers. It drops
# nothing itself, so the loss is nftables' alone. lab_link_heal k puts
# the port back. Bridged hosts only; the wire's pid is recorded as
# wire-hK.
lab_link_impair()
{
	local k=$1 ms=$2 secs=$3 ns=$LAB_LAN port=${LAB_P}l$1 i

	lab_is_remote "$k" && { lab_die "h$k is not on the bridge" || return; }
	ip -n $ns link add ${LAB_P}w$k type veth peer name ${LAB_P}x$k || return
	ip -n $ns link set ${LAB_P}x$k master ${LAB_P}br up || return
	ip -n $ns link set ${LAB_P}w$k up || return
	lab_exec $ns nft -f - <<EOF2 || return
table netdev ${LAB_P}loss$k {
	chain to_host {
		type filter hook egress device "$port" priority 0; policy accept;
		numgen random mod 10 == 0 counter drop
	}
	chain from_host {
		type filter hook egress device "${LAB_P}w$k" priority 0; policy accept;
		numgen random mod 10 == 0 counter drop
	}
}
EOF2
	[ "$ms" -gt 0 ] || return 0
	rm -f "$LAB_STATE/wire-h$k.ready"
	lab_spawn $ns "wire-h$k" python3 \
		"$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/chaos_wire.py" \
		--a "$port" --b ${LAB_P}w$k --delay-ms "$ms" --seconds "$secs" \
		--ready "$LAB_STATE/wire-h$k.ready"
	for ((i = 0; i < 50; i++)); do
		[ -e "$LAB_STATE/wire-h$k.ready" ] && break
		sleep 0.05
	done
	[ $i -lt 50 ] || lab_die "the wire of h$k does not start" || return
	ip -n $ns link set "$port" nomaster
}

# What lab_link_impair dropped: "to_host from_host" frames.
lab_link_drops()
{
	lab_exec $LAB_LAN nft list table netdev ${LAB_P}loss$1 2>/dev/null |
		sed -n 's/.*counter packets \([0-9]*\).*/\1/p' | tr '\n' ' '
}

lab_link_heal()
{
	local k=$1 ns=$LAB_LAN

	lab_stop "wire-h$k"
	ip -n $ns link del ${LAB_P}w$k 2>/dev/null
	lab_exec $ns nft delete table netdev ${LAB_P}loss$k 2>/dev/null
	ip -n $ns link set ${LAB_P}l$k master ${LAB_P}br
}

# Cell mode: every flow has one owner. The records (steerctl flows) of
# the live cells given go to DIR/flows-hK.json; for every flow not
# closed, the primary each record names and the shard primary each
# cell's map gives must be one cell. Prints up to 5 flows with more, then
#   OWNERS flows=N double=D
# Returns 1 when a flow has two owners or no cell holds any flow.
lab_owners_check()
{
	local dir=$1 k

	shift
	for k in "$@"; do
		lab_steerctl "$k" -j flows limit 100000 >"$dir/flows-h$k.json" ||
			lab_log "steerctl flows on h$k failed"
	done
	python3 - "$dir" "$@" <<'EOF2'
import json, sys
d, hosts = sys.argv[1], sys.argv[2:]
owners, held, bad = {}, {}, 0
for k in hosts:
    try:
        flows = json.load(open("%s/flows-h%s.json" % (d, k)))["flows"]
    except (OSError, ValueError, KeyError):
        flows = []
    for r in flows:
        if r["state"] == "closed":
            continue
        key = (r["proto"], r["src"], r["sport"], r["dst"], r["dport"])
        owners.setdefault(key, set()).add(r["primary"])
        owners[key].add(r["shard_primary"])
        held.setdefault(key, []).append("h%s: primary %s, shard %d of %s, "
            "v%d" % (k, r["primary"], r["shard"], r["shard_primary"],
                     r["version"]))
for key, o in owners.items():
    if len(o) != 1:
        bad += 1
        if bad <= 5:
            print("  two owners: %s/%d: %s" % (key[0], key[2],
                  "; ".join(held[key])))
print("OWNERS flows=%d double=%d" % (len(owners), bad))
sys.exit(1 if bad or not owners else 0)
EOF2
}

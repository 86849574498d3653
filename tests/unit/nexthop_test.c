// SPDX-License-Identifier: GPL-2.0-only
/*
 * Next hops as the kernel sees them (daemon/nexthop.h) and host mode's
 * templates built from them (daemon/node_tmpl.h), in a network namespace
 * of their own: each test forks a child that unshare(CLONE_NEWNET)s, so
 * nothing outlives it, builds the topology below with iproute2, runs its
 * checks and reports the first one that fails through a pipe; the parent
 * turns that into a cmocka failure. Root only: otherwise every test is
 * skipped with the reason printed.
 *
 *          anonymous namespace of the child
 *   +--------------------------------------------------------------+
 *   | ut0 02:00:00:00:10:01          ut1 (peer, no address)        |
 *   |   198.18.10.1/24  ============  (veth)                       |
 *   |   2001:db8:10::1/64                                          |
 *   |   neighbours (permanent):                                    |
 *   |     198.18.10.2, 2001:db8:10::2    02:00:00:00:10:02 (host)  |
 *   |     198.18.10.254, 2001:db8:10::fe 02:00:00:00:10:fe (gw)    |
 *   |   routes:                                                    |
 *   |     198.18.20.0/24, 2001:db8:20::/64  via the gw             |
 *   |     198.18.40.0/24                    via 198.18.10.253      |
 *   |                                       (no neighbour)         |
 *   |     198.18.30.0/24, 2001:db8:30::/64  blackhole              |
 *   |     198.18.31.0/24 unreachable, 198.18.32.0/24 prohibit      |
 *   |     nothing else: no default route                           |
 *   |                                                              |
 *   | ut2 02:00:00:00:60:01 198.18.60.1/24 == ut3   (veth)         |
 *   |     neighbour 198.18.60.8 02:00:00:00:60:08                  |
 *   +--------------------------------------------------------------+
 *
 * node_tmpl's tests load the XDP program (xdp_prog_open(), not attached)
 * and read steer_tmpls back with bpf_map_lookup_elem(); expected
 * templates are checked byte by byte at the header offsets, not only
 * against tmpl_build().
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <net/if.h>
#include <sys/wait.h>

#include <cmocka.h>

#include <bpf/bpf.h>

#include "core/tmpl_build.h"
#include "node/node_tmpl.h"
#include "node/nexthop.h"
#include "core/cluster.h"
#include "util/log.h"
#include "xdp/xdp_maps.h"
#include "xdp/xdp_prog.h"

#define CHILD_SKIP 77
#define IF_MAC "02:00:00:00:10:01"
#define HOST_MAC "02:00:00:00:10:02"
#define GW_MAC "02:00:00:00:10:fe"

static const char topo[] =
	"set -e\n"
	/* No link-local addresses, no DAD, no router solicitations: no
	 * route or neighbour change the test did not make itself. */
	"sysctl -qw net.ipv6.conf.default.addr_gen_mode=1\n"
	"sysctl -qw net.ipv6.conf.default.accept_dad=0\n"
	"sysctl -qw net.ipv6.conf.default.router_solicitations=0\n"
	"ip link set lo up\n"
	"ip link add ut0 type veth peer name ut1\n"
	"ip link set ut0 address " IF_MAC "\n"
	"ip link set ut0 up\n"
	"ip link set ut1 up\n"
	"ip addr add 198.18.10.1/24 dev ut0\n"
	"ip -6 addr add 2001:db8:10::1/64 dev ut0 nodad\n"
	"ip neigh add 198.18.10.2 lladdr " HOST_MAC " dev ut0 nud permanent\n"
	"ip neigh add 198.18.10.254 lladdr " GW_MAC " dev ut0 nud permanent\n"
	"ip -6 neigh add 2001:db8:10::2 lladdr " HOST_MAC
	" dev ut0 nud permanent\n"
	"ip -6 neigh add 2001:db8:10::fe lladdr " GW_MAC
	" dev ut0 nud permanent\n"
	"ip route add 198.18.20.0/24 via 198.18.10.254\n"
	"ip -6 route add 2001:db8:20::/64 via 2001:db8:10::fe\n"
	"ip route add 198.18.40.0/24 via 198.18.10.253\n"
	"ip route add blackhole 198.18.30.0/24\n"
	"ip -6 route add blackhole 2001:db8:30::/64\n"
	"ip route add unreachable 198.18.31.0/24\n"
	"ip route add prohibit 198.18.32.0/24\n"
	"ip link add ut2 type veth peer name ut3\n"
	"ip link set ut2 address 02:00:00:00:60:01\n"
	"ip link set ut2 up\n"
	"ip link set ut3 up\n"
	"ip addr add 198.18.60.1/24 dev ut2\n"
	"ip neigh add 198.18.60.8 lladdr 02:00:00:00:60:08 dev ut2 nud "
	"permanent\n";

/* ---- the child's side: checks reported through a pipe ---- */

static int report_fd = -1;

static void __attribute__((noreturn, format(printf, 2, 3)))
ck_fail(int line, const char *fmt, ...)
{
	char msg[1024];
	int n = snprintf(msg, sizeof(msg), "line %d: ", line);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg + n, sizeof(msg) - (size_t)n, fmt, ap);
	va_end(ap);
	if (write(report_fd, msg, strlen(msg)) < 0)
		_exit(2);
	_exit(1);
}

#define CK(cond)                                                               \
	do {                                                                   \
		if (!(cond))                                                   \
			ck_fail(__LINE__, "%s", #cond);                        \
	} while (0)

#define CK_INT(a, b)                                                           \
	do {                                                                   \
		long long a_ = (long long)(a), b_ = (long long)(b);            \
		if (a_ != b_)                                                  \
			ck_fail(__LINE__, "%s == %s: %lld != %lld (%s)", #a,   \
				#b, a_, b_, a_ < 0 ? strerror((int)-a_) : ""); \
	} while (0)

static void mac_str(const uint8_t *m, char *buf)
{
	sprintf(buf, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3],
		m[4], m[5]);
}

#define CK_MAC(m, want)                                                        \
	do {                                                                   \
		char s_[18];                                                   \
		mac_str(m, s_);                                                \
		if (strcmp(s_, want))                                          \
			ck_fail(__LINE__, "%s is %s, want %s", #m, s_, want);  \
	} while (0)

static void addr_str(const struct flow_addr *a, char *buf, size_t len)
{
	if (flow_addr_is_v4(a))
		inet_ntop(AF_INET, &a->w[3], buf, (socklen_t)len);
	else
		inet_ntop(AF_INET6, a->b, buf, (socklen_t)len);
}

#define CK_ADDR(a, want)                                                       \
	do {                                                                   \
		char s_[INET6_ADDRSTRLEN];                                     \
		addr_str(a, s_, sizeof(s_));                                   \
		if (strcmp(s_, want))                                          \
			ck_fail(__LINE__, "%s is %s, want %s", #a, s_, want);  \
	} while (0)

static struct flow_addr addr(const char *s)
{
	struct flow_addr a;
	struct in_addr v4;

	memset(&a, 0, sizeof(a));
	if (inet_pton(AF_INET, s, &v4) == 1)
		flow_addr_set_v4(&a, v4.s_addr);
	else if (inet_pton(AF_INET6, s, a.b) != 1)
		ck_fail(__LINE__, "bad address %s in the test", s);
	return a;
}

static void sh(const char *cmd)
{
	int rc = system(cmd);

	if (rc != 0)
		ck_fail(__LINE__, "'%s' exited with %d", cmd, rc);
}

/* Readable within ms? */
static int readable(int fd, int ms)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};

	return poll(&p, 1, ms) == 1 && (p.revents & POLLIN);
}

/* ---- the parent's side ---- */

static const char *skip_reason;

static int group_setup(void **state)
{
	if (geteuid() != 0)
		skip_reason = "needs root (network namespaces, rtnetlink "
			      "changes, BPF)";
	log_set_level(LOG_ERR);
	return 0;
}

/*
 * Run fn in a child inside a fresh network namespace holding the topology.
 * A failed check fails the test with the child's message.
 */
static void in_netns(void (*fn)(void))
{
	char msg[1024] = "";
	int p[2], status;
	ssize_t n, got = 0;
	pid_t pid;

	if (skip_reason) {
		print_message("SKIP: %s\n", skip_reason);
		skip();
	}
	assert_int_equal(pipe(p), 0);
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(p[0]);
		report_fd = p[1];
		if (unshare(CLONE_NEWNET)) {
			dprintf(report_fd, "unshare(CLONE_NEWNET): %s",
				strerror(errno));
			_exit(CHILD_SKIP);
		}
		sh(topo);
		fn();
		_exit(0);
	}
	close(p[1]);
	while (got < (ssize_t)sizeof(msg) - 1 &&
	       (n = read(p[0], msg + got, sizeof(msg) - 1 - (size_t)got)) > 0)
		got += n;
	close(p[0]);
	msg[got] = '\0';
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (WIFEXITED(status) && WEXITSTATUS(status) == CHILD_SKIP) {
		print_message("SKIP: %s\n", msg);
		skip();
	}
	if (WIFSIGNALED(status))
		fail_msg("child killed by signal %d", WTERMSIG(status));
	if (WEXITSTATUS(status) != 0)
		fail_msg("%s", msg[0] ? msg : "child failed without a message");
}

/* ---- nh_resolve() ---- */

static int nl_fd(void)
{
	int fd = nh_open();

	if (fd < 0)
		ck_fail(__LINE__, "nh_open: %s", strerror(-fd));
	return fd;
}

static void c_onlink_v4(void)
{
	int fd = nl_fd();
	struct flow_addr a = addr("198.18.10.2");
	struct nh_result r;

	CK_INT(nh_resolve(fd, &a, &r), 0);
	CK_INT(r.ifindex, if_nametoindex("ut0"));
	CK(!r.via_gateway);
	CK_ADDR(&r.gw, "::");
	CK_ADDR(&r.src, "198.18.10.1");
	CK_MAC(r.mac, HOST_MAC);
	close(fd);
}

static void test_resolve_onlink_v4(void **state)
{
	in_netns(c_onlink_v4);
}

static void c_gateway_v4(void)
{
	int fd = nl_fd();
	struct flow_addr a = addr("198.18.20.5");
	struct nh_result r;

	CK_INT(nh_resolve(fd, &a, &r), 0);
	CK_INT(r.ifindex, if_nametoindex("ut0"));
	CK(r.via_gateway);
	CK_ADDR(&r.gw, "198.18.10.254");
	CK_ADDR(&r.src, "198.18.10.1");
	CK_MAC(r.mac, GW_MAC);
	close(fd);
}

static void test_resolve_gateway_v4(void **state)
{
	in_netns(c_gateway_v4);
}

static void c_unknown_neigh_v4(void)
{
	int fd = nl_fd();
	struct flow_addr a = addr("198.18.10.3");
	struct nh_result r;

	/* On the link, never heard of. */
	CK_INT(nh_resolve(fd, &a, &r), -EAGAIN);
	/* Behind a gateway that is not in the neighbour table. */
	a = addr("198.18.40.1");
	CK_INT(nh_resolve(fd, &a, &r), -EAGAIN);
	/* Entries that hold no usable address. */
	sh("ip neigh add 198.18.10.6 dev ut0 nud failed");
	a = addr("198.18.10.6");
	CK_INT(nh_resolve(fd, &a, &r), -EAGAIN);
	sh("ip neigh add 198.18.10.7 dev ut0 nud incomplete");
	a = addr("198.18.10.7");
	CK_INT(nh_resolve(fd, &a, &r), -EAGAIN);
	/* Stale is still usable: the kernel sends to it. */
	sh("ip neigh add 198.18.10.8 lladdr 02:00:00:00:10:08 dev ut0 nud "
	   "stale");
	a = addr("198.18.10.8");
	CK_INT(nh_resolve(fd, &a, &r), 0);
	CK_MAC(r.mac, "02:00:00:00:10:08");
	close(fd);
}

static void test_resolve_unknown_neigh_v4(void **state)
{
	in_netns(c_unknown_neigh_v4);
}

static void c_no_route_v4(void)
{
	int fd = nl_fd();
	struct flow_addr a = addr("198.19.99.1");
	struct nh_result r;

	CK_INT(nh_resolve(fd, &a, &r), -ENETUNREACH);
	a = addr("198.18.31.1"); /* unreachable */
	CK_INT(nh_resolve(fd, &a, &r), -ENETUNREACH);
	a = addr("198.18.10.1"); /* our own: a local route */
	CK_INT(nh_resolve(fd, &a, &r), -ENETUNREACH);
	close(fd);
}

static void test_resolve_no_route_v4(void **state)
{
	in_netns(c_no_route_v4);
}

/* "a route that is not unicast": -ENETUNREACH (nexthop.h). */
static void c_blackhole_v4(void)
{
	int fd = nl_fd();
	struct flow_addr a = addr("198.18.30.1");
	struct nh_result r;

	CK_INT(nh_resolve(fd, &a, &r), -ENETUNREACH);
	close(fd);
}

static void test_resolve_blackhole_v4(void **state)
{
	in_netns(c_blackhole_v4);
}

static void c_prohibit_v4(void)
{
	int fd = nl_fd();
	struct flow_addr a = addr("198.18.32.1");
	struct nh_result r;

	CK_INT(nh_resolve(fd, &a, &r), -ENETUNREACH);
	close(fd);
}

static void test_resolve_prohibit_v4(void **state)
{
	in_netns(c_prohibit_v4);
}

static void c_v6(void)
{
	int fd = nl_fd();
	struct flow_addr a = addr("2001:db8:10::2");
	struct nh_result r;

	CK_INT(nh_resolve(fd, &a, &r), 0);
	CK_INT(r.ifindex, if_nametoindex("ut0"));
	CK(!r.via_gateway);
	CK_ADDR(&r.src, "2001:db8:10::1");
	CK_MAC(r.mac, HOST_MAC);

	a = addr("2001:db8:20::5");
	CK_INT(nh_resolve(fd, &a, &r), 0);
	CK_INT(r.ifindex, if_nametoindex("ut0"));
	CK(r.via_gateway);
	CK_ADDR(&r.gw, "2001:db8:10::fe");
	CK_MAC(r.mac, GW_MAC);

	a = addr("2001:db8:10::3");
	CK_INT(nh_resolve(fd, &a, &r), -EAGAIN);
	a = addr("2001:db8:99::1");
	CK_INT(nh_resolve(fd, &a, &r), -ENETUNREACH);
	close(fd);
}

static void test_resolve_v6(void **state)
{
	in_netns(c_v6);
}

static void c_blackhole_v6(void)
{
	int fd = nl_fd();
	struct flow_addr a = addr("2001:db8:30::1");
	struct nh_result r;

	CK_INT(nh_resolve(fd, &a, &r), -ENETUNREACH);
	close(fd);
}

static void test_resolve_blackhole_v6(void **state)
{
	in_netns(c_blackhole_v6);
}

static void c_if_mac(void)
{
	uint8_t mac[6] = {1, 2, 3, 4, 5, 6};

	CK_INT(nh_if_mac((int)if_nametoindex("ut0"), mac), 0);
	CK_MAC(mac, IF_MAC);
	CK_INT(nh_if_mac((int)if_nametoindex("ut2"), mac), 0);
	CK_MAC(mac, "02:00:00:00:60:01");
	CK_INT(nh_if_mac((int)if_nametoindex("lo"), mac), 0);
	CK_MAC(mac, "00:00:00:00:00:00");
	memset(mac, 0xaa, sizeof(mac));
	CK_INT(nh_if_mac(999999, mac), -ENODEV);
	CK_MAC(mac, "aa:aa:aa:aa:aa:aa"); /* untouched */
}

static void test_if_mac(void **state)
{
	in_netns(c_if_mac);
}

static void c_monitor(void)
{
	int fd = nl_fd(), mon = nh_monitor_open();
	struct flow_addr a = addr("198.18.10.2");
	struct nh_result r;

	CK(mon >= 0);
	CK(!readable(mon, 0));
	sh("ip neigh replace 198.18.10.2 lladdr 02:00:00:00:10:22 dev ut0 nud "
	   "permanent");
	CK(readable(mon, 2000));
	nh_monitor_drain(mon);
	CK(!readable(mon, 0));
	CK_INT(nh_resolve(fd, &a, &r), 0);
	CK_MAC(r.mac, "02:00:00:00:10:22");

	/* Routes too, both families. */
	sh("ip route add 198.18.21.0/24 via 198.18.10.254");
	CK(readable(mon, 2000));
	nh_monitor_drain(mon);
	CK(!readable(mon, 0));
	sh("ip -6 route add 2001:db8:21::/64 via 2001:db8:10::fe");
	CK(readable(mon, 2000));
	nh_monitor_drain(mon);
	sh("ip neigh del 198.18.10.2 dev ut0");
	CK(readable(mon, 2000));
	nh_monitor_drain(mon);
	CK(!readable(mon, 0));
	CK_INT(nh_resolve(fd, &a, &r), -EAGAIN);
	close(mon);
	close(fd);
}

static void test_monitor(void **state)
{
	in_netns(c_monitor);
}

/* ---- node_tmpl: templates in steer_tmpls ---- */

static const char cluster_text[] =
	"cluster ut\n"
	"self n1\n"
	"gateway gw1 mac 02:00:00:00:0c:fe\n"
	"node n1 id 1 addr 198.18.10.1 addr6 2001:db8:10::1 mac "
	"02:00:00:00:0c:01\n"
	/* On the link: the kernel's MAC differs from the description's. */
	"node n2 id 2 addr 198.18.10.2 mac 02:00:00:00:0c:02\n"
	/* Behind the gateway: the kernel's gateway MAC wins. */
	"node n3 id 3 addr 198.18.20.3 via gw1\n"
	/* No neighbour entry: the description's MAC. */
	"node n4 id 4 addr 198.18.10.4 mac 02:00:00:00:0c:04\n"
	/* IPv6 only. */
	"node n5 id 5 addr6 2001:db8:10::2 mac 02:00:00:00:0c:05\n"
	/* No route at all: the description's MAC. */
	"node n7 id 7 addr 198.18.50.7 mac 02:00:00:00:0c:07\n"
	/* Reached through another interface: no template. */
	"node n8 id 8 addr 198.18.60.8 mac 02:00:00:00:0c:08\n";

struct ht {
	struct cluster c;
	struct xdp_prog *x;
	struct node_tmpls t;
	int map;
};

static void ht_open(struct ht *h, const char *text)
{
	char err[256];
	int ret;

	memset(h, 0, sizeof(*h));
	ret = cluster_load_buf(&h->c, "ut-cluster", text, strlen(text), err,
			       sizeof(err));
	if (ret)
		ck_fail(__LINE__, "cluster: %s", err);
	h->x = xdp_prog_open(NULL);
	if (!h->x) {
		dprintf(report_fd, "xdp_prog_open: %s (BPF not available)",
			strerror(errno));
		_exit(CHILD_SKIP);
	}
	h->map = xdp_prog_map_fd(h->x, "steer_tmpls");
	CK(h->map >= 0);
	CK_INT(node_tmpls_init(&h->t, (int)if_nametoindex("ut0")), 0);
	CK(h->t.nl_fd >= 0);
	CK(h->t.mon_fd >= 0);
	CK_MAC(h->t.if_mac, IF_MAC);
	CK_INT(node_tmpls_nodes(&h->t, &h->c, h->x), 0);
}

static void ht_close(struct ht *h)
{
	node_tmpls_free(&h->t);
	xdp_prog_close(h->x);
	cluster_free(&h->c);
}

static struct node_tmpl_node *ht_node(struct ht *h, uint16_t id)
{
	uint32_t i;

	for (i = 0; i < h->t.n; i++)
		if (h->t.nodes[i].id == id)
			return &h->t.nodes[i];
	ck_fail(__LINE__, "node %u not in node_tmpls", id);
}

static void ht_read(struct ht *h, uint16_t id, struct steer_tmpl *t)
{
	uint32_t key = id;

	memset(t, 0xee, sizeof(*t));
	if (bpf_map_lookup_elem(h->map, &key, t))
		ck_fail(__LINE__, "steer_tmpls[%u]: %s", id, strerror(errno));
}

/*
 * steer_tmpls[id] must be the GUE0 template from ut0 to daddr through
 * dst_mac: compared with tmpl_build() and, field by field, at the header
 * offsets (Ethernet, IPv4 or IPv6 addresses, UDP port 6080).
 */
static void ck_tmpl(struct ht *h, int line, uint16_t id, const char *daddr,
		    const char *dst_mac)
{
	struct tmpl_spec s = {
		.kind = STEER_TMPL_GUE0, .dport = htons(6080), .origin = 1};
	struct steer_tmpl got, want;
	size_t ip = 14, l4;
	char m[18], a[INET6_ADDRSTRLEN];
	struct flow_addr d = addr(daddr), x;
	int v4 = flow_addr_is_v4(&d);

	ht_read(h, id, &got);
	if (got.len == 0)
		ck_fail(line, "node %u: no template", id);
	memcpy(s.src_mac, h->t.if_mac, 6);
	if (sscanf(dst_mac, "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &s.dst_mac[0],
		   &s.dst_mac[1], &s.dst_mac[2], &s.dst_mac[3], &s.dst_mac[4],
		   &s.dst_mac[5]) != 6)
		ck_fail(line, "bad MAC %s in the test", dst_mac);
	s.saddr = addr(v4 ? "198.18.10.1" : "2001:db8:10::1");
	s.daddr = d;
	if (tmpl_build(&want, &s))
		ck_fail(line, "tmpl_build failed");
	if (got.kind != STEER_TMPL_GUE0 || got.family != (v4 ? 4 : 6) ||
	    got.len != (v4 ? 14 + 20 + 8 + 16 : 14 + 40 + 8 + 16))
		ck_fail(line, "node %u: kind %u family %u len %u", id, got.kind,
			got.family, got.len);
	mac_str(got.hdr, m);
	if (strcmp(m, dst_mac))
		ck_fail(line, "node %u: destination MAC %s, want %s", id, m,
			dst_mac);
	mac_str(got.hdr + 6, m);
	if (strcmp(m, IF_MAC))
		ck_fail(line, "node %u: source MAC %s, want %s", id, m, IF_MAC);
	memset(&x, 0, sizeof(x));
	if (v4) {
		flow_addr_set_v4(&x, 0);
		memcpy(&x.w[3], got.hdr + ip + 16, 4);
		l4 = ip + 20;
	} else {
		memcpy(x.b, got.hdr + ip + 24, 16);
		l4 = ip + 40;
	}
	addr_str(&x, a, sizeof(a));
	if (strcmp(a, daddr))
		ck_fail(line, "node %u: destination %s, want %s", id, a, daddr);
	if (v4)
		memcpy(&x.w[3], got.hdr + ip + 12, 4);
	else
		memcpy(x.b, got.hdr + ip + 8, 16);
	addr_str(&x, a, sizeof(a));
	if (strcmp(a, v4 ? "198.18.10.1" : "2001:db8:10::1"))
		ck_fail(line, "node %u: source %s", id, a);
	if (got.hdr[l4 + 2] != 6080 >> 8 || got.hdr[l4 + 3] != (6080 & 0xff))
		ck_fail(line, "node %u: UDP port %u", id,
			got.hdr[l4 + 2] << 8 | got.hdr[l4 + 3]);
	if (memcmp(&got, &want, sizeof(got)))
		ck_fail(line, "node %u: template differs from tmpl_build()'s",
			id);
}

#define CK_TMPL(h, id, daddr, mac) ck_tmpl(h, __LINE__, id, daddr, mac)

#define CK_SRC(h, id, src_, err_, gw_)                                         \
	do {                                                                   \
		struct node_tmpl_node *n_ = ht_node(h, id);                    \
		CK_INT(n_->src, src_);                                         \
		CK_INT(n_->last_err, err_);                                    \
		CK_INT(n_->via_gateway, gw_);                                  \
	} while (0)

static void c_tmpl_first(void)
{
	struct steer_tmpl t;
	struct ht h;

	ht_open(&h, cluster_text);
	CK_INT(h.t.n, 6); /* every node but this one */
	CK_INT(node_tmpls_refresh(&h.t, &h.c, h.x), 5);
	CK_INT(h.t.builds, 5);
	CK_TMPL(&h, 2, "198.18.10.2", HOST_MAC);
	CK_SRC(&h, 2, NODE_TMPL_KERNEL, 0, 0);
	CK_TMPL(&h, 3, "198.18.20.3", GW_MAC);
	CK_SRC(&h, 3, NODE_TMPL_KERNEL, 0, 1);
	CK_TMPL(&h, 4, "198.18.10.4", "02:00:00:00:0c:04");
	CK_SRC(&h, 4, NODE_TMPL_CONFIG, -EAGAIN, 0);
	CK_TMPL(&h, 5, "2001:db8:10::2", HOST_MAC);
	CK_SRC(&h, 5, NODE_TMPL_KERNEL, 0, 0);
	CK_TMPL(&h, 7, "198.18.50.7", "02:00:00:00:0c:07");
	CK_SRC(&h, 7, NODE_TMPL_CONFIG, -ENETUNREACH, 0);
	/* Routed through another interface: XDP cannot reach it. */
	CK_SRC(&h, 8, NODE_TMPL_NONE, -EXDEV, 0);
	ht_read(&h, 8, &t);
	CK_INT(t.len, 0);
	/* Nothing for this node or for ids nobody has. */
	ht_read(&h, 1, &t);
	CK_INT(t.len, 0);
	ht_read(&h, 6, &t);
	CK_INT(t.len, 0);
	/* Nothing changed: nothing written. */
	CK_INT(node_tmpls_refresh(&h.t, &h.c, h.x), 0);
	CK_INT(h.t.builds, 5);
	ht_close(&h);
}

static void test_tmpl_first_refresh(void **state)
{
	in_netns(c_tmpl_first);
}

static void c_tmpl_follows_kernel(void)
{
	struct ht h;

	ht_open(&h, cluster_text);
	CK_INT(node_tmpls_refresh(&h.t, &h.c, h.x), 5);

	/* n4 gets a neighbour entry: from the description to the kernel. */
	sh("ip neigh add 198.18.10.4 lladdr 02:00:00:00:10:04 dev ut0 nud "
	   "permanent");
	CK(readable(h.t.mon_fd, 2000));
	CK_INT(node_tmpls_refresh(&h.t, &h.c, h.x), 1);
	CK(!readable(h.t.mon_fd, 0)); /* drained by the refresh */
	CK_TMPL(&h, 4, "198.18.10.4", "02:00:00:00:10:04");
	CK_SRC(&h, 4, NODE_TMPL_KERNEL, 0, 0);

	/* n2's MAC changes (v4 only: n5 has its own IPv6 entry). */
	sh("ip neigh replace 198.18.10.2 lladdr 02:00:00:00:10:22 dev ut0 nud "
	   "permanent");
	CK_INT(node_tmpls_refresh(&h.t, &h.c, h.x), 1);
	CK_TMPL(&h, 2, "198.18.10.2", "02:00:00:00:10:22");
	CK_TMPL(&h, 5, "2001:db8:10::2", HOST_MAC);

	/* The gateway's MAC changes: n3 behind it follows. */
	sh("ip neigh replace 198.18.10.254 lladdr 02:00:00:00:10:ef dev ut0 "
	   "nud permanent");
	CK_INT(node_tmpls_refresh(&h.t, &h.c, h.x), 1);
	CK_TMPL(&h, 3, "198.18.20.3", "02:00:00:00:10:ef");
	CK_SRC(&h, 3, NODE_TMPL_KERNEL, 0, 1);

	/* n2's entry gone: back to the description's MAC. */
	sh("ip neigh del 198.18.10.2 dev ut0");
	CK_INT(node_tmpls_refresh(&h.t, &h.c, h.x), 1);
	CK_TMPL(&h, 2, "198.18.10.2", "02:00:00:00:0c:02");
	CK_SRC(&h, 2, NODE_TMPL_CONFIG, -EAGAIN, 0);

	/* n7 gets a route through the gateway: the kernel's MAC. */
	sh("ip route add 198.18.50.0/24 via 198.18.10.254");
	CK_INT(node_tmpls_refresh(&h.t, &h.c, h.x), 1);
	CK_TMPL(&h, 7, "198.18.50.7", "02:00:00:00:10:ef");
	CK_SRC(&h, 7, NODE_TMPL_KERNEL, 0, 1);
	CK_INT(node_tmpls_refresh(&h.t, &h.c, h.x), 0);
	CK_INT(h.t.builds, 10);
	ht_close(&h);
}

static void test_tmpl_follows_kernel(void **state)
{
	in_netns(c_tmpl_follows_kernel);
}

/* A reload: what is known of kept nodes stays, new nodes are resolved. */
static void c_tmpl_nodes_change(void)
{
	static const char next[] =
		"cluster ut\n"
		"self n1\n"
		"node n1 id 1 addr 198.18.10.1 addr6 2001:db8:10::1 mac "
		"02:00:00:00:0c:01\n"
		"node n2 id 2 addr 198.18.10.2 mac 02:00:00:00:0c:02\n"
		"node n9 id 9 addr 198.18.20.9 mac 02:00:00:00:0c:09\n";
	struct steer_tmpl t;
	struct cluster c2;
	char err[256];
	struct ht h;

	ht_open(&h, cluster_text);
	CK_INT(node_tmpls_refresh(&h.t, &h.c, h.x), 5);
	CK_INT(cluster_load_buf(&c2, "ut-next", next, strlen(next), err,
				sizeof(err)),
	       0);
	CK_INT(node_tmpls_nodes(&h.t, &c2, h.x), 0);
	/* n3 left the cluster: its template left the map with it. */
	ht_read(&h, 3, &t);
	CK_INT(t.len, 0);
	CK_INT(h.t.n, 2);
	CK_SRC(&h, 2, NODE_TMPL_KERNEL, 0, 0); /* kept as it was */
	CK_SRC(&h, 9, NODE_TMPL_NONE, 0, 0);
	/* n2 unchanged: only n9 is written, through the gateway. */
	CK_INT(node_tmpls_refresh(&h.t, &c2, h.x), 1);
	CK_TMPL(&h, 9, "198.18.20.9", GW_MAC);
	CK_SRC(&h, 9, NODE_TMPL_KERNEL, 0, 1);
	cluster_free(&c2);
	ht_close(&h);
}

static void test_tmpl_nodes_change(void **state)
{
	in_netns(c_tmpl_nodes_change);
}

/* No address family in common: no template, nothing written. */
static void c_tmpl_no_family(void)
{
	static const char text[] =
		"cluster ut\n"
		"self n1\n"
		"node n1 id 1 addr 198.18.10.1 mac 02:00:00:00:0c:01\n"
		"node n5 id 5 addr6 2001:db8:10::2 mac 02:00:00:00:0c:05\n";
	struct steer_tmpl t;
	struct ht h;

	ht_open(&h, text);
	CK_INT(node_tmpls_refresh(&h.t, &h.c, h.x), 0);
	CK_SRC(&h, 5, NODE_TMPL_NONE, -EAFNOSUPPORT, 0);
	ht_read(&h, 5, &t);
	CK_INT(t.len, 0);
	CK_INT(h.t.builds, 0);
	ht_close(&h);
}

static void test_tmpl_no_family(void **state)
{
	in_netns(c_tmpl_no_family);
}

static void test_tmpl_src_names(void **state)
{
	assert_string_equal(node_tmpl_src_name(NODE_TMPL_NONE), "none");
	assert_string_equal(node_tmpl_src_name(NODE_TMPL_KERNEL), "kernel");
	assert_string_equal(node_tmpl_src_name(NODE_TMPL_CONFIG), "config");
	assert_string_equal(node_tmpl_src_name((enum node_tmpl_src)9), "none");
}

/* node_tmpls_init() on an interface that is not there. */
static void test_tmpl_init_no_device(void **state)
{
	struct node_tmpls t;

	assert_int_equal(node_tmpls_init(&t, 999999), -ENODEV);
	node_tmpls_free(&t);
	assert_int_equal(t.nl_fd, -1);
	assert_int_equal(t.mon_fd, -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_resolve_onlink_v4),
		cmocka_unit_test(test_resolve_gateway_v4),
		cmocka_unit_test(test_resolve_unknown_neigh_v4),
		cmocka_unit_test(test_resolve_no_route_v4),
		cmocka_unit_test(test_resolve_blackhole_v4),
		cmocka_unit_test(test_resolve_prohibit_v4),
		cmocka_unit_test(test_resolve_v6),
		cmocka_unit_test(test_resolve_blackhole_v6),
		cmocka_unit_test(test_if_mac),
		cmocka_unit_test(test_monitor),
		cmocka_unit_test(test_tmpl_first_refresh),
		cmocka_unit_test(test_tmpl_follows_kernel),
		cmocka_unit_test(test_tmpl_nodes_change),
		cmocka_unit_test(test_tmpl_no_family),
		cmocka_unit_test(test_tmpl_src_names),
		cmocka_unit_test(test_tmpl_init_no_device),
	};

	return cmocka_run_group_tests(tests, group_setup, NULL);
}

// SPDX-License-Identifier: GPL-2.0-only
/*
 * The cluster description: a good file with every field checked, the
 * defaults, the lookups and next-hop MACs, one bad fixture per error
 * class with its exact message, and the lab's demo cluster matched
 * against the real capture it was written for (counts from tshark).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <cmocka.h>

#include <steer/parse.h>

#include "core/cluster.h"
#include "fastpath/pcapio.h"

struct fx {
	struct cluster c;
	char err[512];
	char path[512];
};

static char src_dir[512];

/* STEER_SRC (set by ctest), else the tree this file was compiled from. */
static const char *src(void)
{
	const char *env = getenv("STEER_SRC");
	char here[512];

	if (env)
		return env;
	if (!src_dir[0]) {
		snprintf(here, sizeof(here), "%s", __FILE__);
		snprintf(src_dir, sizeof(src_dir), "%s/../..", dirname(here));
	}
	return src_dir;
}

static const char *fixture(struct fx *f, const char *name)
{
	snprintf(f->path, sizeof(f->path), "%s/tests/fixtures/cluster/%s",
		 src(), name);
	return f->path;
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	*state = f;
	return f ? 0 : -1;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	cluster_free(&f->c);
	free(f);
	return 0;
}

static void assert_v4(const struct flow_addr *a, const char *text)
{
	struct flow_addr want;

	flow_addr_set_v4(&want, inet_addr(text));
	assert_memory_equal(a, &want, sizeof(want));
}

static void assert_v6(const struct flow_addr *a, const char *text)
{
	struct flow_addr want;

	assert_int_equal(inet_pton(AF_INET6, text, want.b), 1);
	assert_memory_equal(a, &want, sizeof(want));
}

static void assert_mac(const uint8_t *m, uint8_t last5, uint8_t last)
{
	const uint8_t want[6] = {2, 0, 0, 0, last5, last};

	assert_memory_equal(m, want, 6);
}

static void check_nodes(const struct cluster *c)
{
	const struct cluster_node *n;

	assert_int_equal(c->n_nodes, 4);
	n = &c->nodes[0];
	assert_string_equal(n->ep.name, "n1");
	assert_int_equal(n->ep.id, 1);
	assert_true(n->ep.has_v4 && n->ep.has_v6);
	assert_v4(&n->ep.addr4, "198.18.0.1");
	assert_v6(&n->ep.addr6, "2001:db8::1");
	assert_mac(n->ep.mac, 0, 1);
	assert_int_equal(n->ep.gateway, -1);
	assert_int_equal(n->ep.line, 9);
	n = &c->nodes[2];
	assert_string_equal(n->ep.name, "n5");
	assert_true(n->ep.has_v4 && !n->ep.has_v6);
	assert_v4(&n->ep.addr4, "198.19.1.5");
	assert_string_equal(n->ep.via, "gw1");
	assert_int_equal(n->ep.gateway, 0);
	n = &c->nodes[3];
	assert_int_equal(n->ep.id, 0);
	assert_true(!n->ep.has_v4 && n->ep.has_v6);
	assert_int_equal(n->ep.gateway, 1);
	assert_ptr_equal(cluster_self(c), &c->nodes[1]);
	assert_int_equal(c->self, 1);
}

static void check_backends(const struct cluster *c)
{
	const struct cluster_backend *b;

	assert_int_equal(c->n_backends, 4);
	b = &c->backends[0];
	assert_string_equal(b->ep.name, "b1");
	assert_int_equal(b->encap, STEER_TMPL_IPIP);
	assert_int_equal(b->port, 0);
	assert_int_equal(b->weight, 1);
	assert_v4(&b->ep.addr4, "198.18.1.1");
	assert_mac(b->ep.mac, 1, 1);
	b = &c->backends[1];
	assert_int_equal(b->encap, STEER_TMPL_GUE1);
	assert_int_equal(b->port, htons(6080));
	assert_int_equal(b->weight, 2);
	assert_true(!b->ep.has_v4 && b->ep.has_v6);
	assert_v6(&b->ep.addr6, "2001:db8:1::2");
	assert_int_equal(b->ep.gateway, 0);
	b = &c->backends[2];
	assert_int_equal(b->ep.id, 65534);
	assert_int_equal(b->encap, STEER_TMPL_GUE1);
	assert_int_equal(b->port, htons(6081)); /* the cluster's gue-port */
	assert_string_equal(c->backends[3].ep.name, "b4");
}

static void check_services(const struct cluster *c)
{
	const struct cluster_service *s;

	assert_int_equal(c->n_services, 3);
	/* The any-port service comes first: the exact one must still win. */
	s = &c->services[0];
	assert_string_equal(s->name, "web-any");
	assert_int_equal(s->port, 0);
	assert_int_equal(s->n_backends, 1);
	assert_int_equal(s->backends[0], 2);
	/* Cell mode's defaults: the cluster's replication, state changes. */
	assert_int_equal(s->replication, 0);
	assert_int_equal(cluster_service_rf(c, s), 1);
	assert_int_equal(s->mirror_pkts, CLUSTER_MIRROR_STATE);
	s = &c->services[1];
	assert_int_equal(cluster_service_rf(c, s), 3);
	assert_int_equal(s->mirror_pkts, CLUSTER_MIRROR_ALL);
	assert_int_equal(cluster_rf_max(c), 3);
	assert_string_equal(s->name, "web");
	assert_int_equal(s->proto, STEER_IPPROTO_TCP);
	assert_int_equal(s->family, 4);
	assert_v4(&s->vip, "10.0.0.1");
	assert_int_equal(s->port, htons(10050));
	assert_int_equal(s->n_backends, 2);
	assert_int_equal(s->backends[0], 0);
	assert_int_equal(s->backends[1], 1);
	s = &c->services[2];
	assert_int_equal(s->proto, STEER_IPPROTO_UDP);
	assert_int_equal(s->family, 6);
	assert_v6(&s->vip, "2001:db8:5::53");
	assert_int_equal(s->port, htons(53));
	assert_int_equal(s->mirror_pkts, CLUSTER_MIRROR_NONE);
	/* b4 is declared after the service that names it. */
	assert_int_equal(s->n_backends, 3);
	assert_int_equal(s->backends[0], 1);
	assert_int_equal(s->backends[1], 3);
	assert_int_equal(s->backends[2], 0);
}

static void test_good(void **state)
{
	struct fx *f = *state;
	struct cluster *c = &f->c;

	assert_int_equal(cluster_load(c, fixture(f, "good.conf"), f->err,
				      sizeof(f->err)),
			 0);
	assert_string_equal(c->name, "demo");
	assert_int_equal(c->gue_port, htons(6081));
	assert_int_equal(c->mtu, 9000);
	assert_int_equal(c->fsc.capacity, 4096);
	assert_int_equal(c->fsc.tcp_timeout_ms, 600000);
	assert_int_equal(c->fsc.tcp_closing_timeout_ms, 5000);
	assert_int_equal(c->fsc.udp_timeout_ms, 20000);
	assert_int_equal(c->fsc.other_timeout_ms, 7000);
	assert_int_equal(c->n_gateways, 2);
	assert_string_equal(c->gateways[1].name, "gw2");
	assert_mac(c->gateways[1].mac, 0, 0xfd);
	check_nodes(c);
	check_backends(c);
	check_services(c);
}

static void test_defaults(void **state)
{
	struct fx *f = *state;
	struct cluster *c = &f->c;

	assert_int_equal(cluster_load(c, fixture(f, "defaults.conf"), f->err,
				      sizeof(f->err)),
			 0);
	assert_string_equal(c->name, "steer");
	assert_int_equal(c->gue_port, htons(6080));
	assert_int_equal(c->cell_ctl_port, htons(6092));
	assert_int_equal(c->repl_port, htons(6093));
	assert_int_equal(c->mtu, 1500);
	assert_int_equal(c->replication, 1);
	assert_int_equal(c->fsc.capacity, 65536);
	assert_int_equal(c->fsc.tcp_timeout_ms, 300000);
	assert_int_equal(c->fsc.tcp_closing_timeout_ms, 10000);
	assert_int_equal(c->fsc.udp_timeout_ms, 30000);
	assert_int_equal(c->fsc.other_timeout_ms, 30000);
	assert_int_equal(c->n_nodes, 1);
	assert_int_equal(c->nodes[0].ep.id, 7);
	assert_int_equal(c->n_backends + c->n_services + c->n_gateways, 0);
	assert_null(cluster_service_match(c, &(struct flow_key){0}));
}

static struct flow_key key4(const char *dst, uint8_t proto, uint16_t dport)
{
	struct flow_key k = {.proto = proto, .dport = htons(dport)};

	flow_addr_set_v4(&k.src, inet_addr("192.0.2.99"));
	flow_addr_set_v4(&k.dst, inet_addr(dst));
	k.sport = htons(40000);
	return k;
}

static void test_lookups(void **state)
{
	struct fx *f = *state;
	struct cluster *c = &f->c;
	struct flow_key k;

	assert_int_equal(cluster_load(c, fixture(f, "good.conf"), f->err,
				      sizeof(f->err)),
			 0);
	assert_ptr_equal(cluster_node_by_id(c, 5), &c->nodes[2]);
	assert_ptr_equal(cluster_node_by_id(c, 0), &c->nodes[3]);
	assert_null(cluster_node_by_id(c, 3));
	assert_ptr_equal(cluster_node_by_name(c, "n6"), &c->nodes[3]);
	assert_null(cluster_node_by_name(c, "b1"));
	assert_ptr_equal(cluster_backend_by_id(c, 65534), &c->backends[2]);
	assert_ptr_equal(cluster_backend_by_name(c, "b4"), &c->backends[3]);
	assert_ptr_equal(cluster_gateway_by_name(c, "gw2"), &c->gateways[1]);
	assert_ptr_equal(cluster_service_by_name(c, "dns"), &c->services[2]);

	/* The exact port wins over the any-port service on the same VIP. */
	k = key4("10.0.0.1", STEER_IPPROTO_TCP, 10050);
	assert_ptr_equal(cluster_service_match(c, &k), &c->services[1]);
	k = key4("10.0.0.1", STEER_IPPROTO_TCP, 443);
	assert_ptr_equal(cluster_service_match(c, &k), &c->services[0]);
	k = key4("10.0.0.1", STEER_IPPROTO_UDP, 10050);
	assert_null(cluster_service_match(c, &k));
	k = key4("10.0.0.2", STEER_IPPROTO_TCP, 10050);
	assert_null(cluster_service_match(c, &k));
	k.proto = STEER_IPPROTO_UDP;
	k.dport = htons(53);
	inet_pton(AF_INET6, "2001:db8:5::53", k.dst.b);
	assert_ptr_equal(cluster_service_match(c, &k), &c->services[2]);
	k.dport = htons(54);
	assert_null(cluster_service_match(c, &k));
}

static void test_next_hop(void **state)
{
	struct fx *f = *state;
	struct cluster *c = &f->c;
	const struct flow_addr *a;
	int fam = 0;

	assert_int_equal(cluster_load(c, fixture(f, "good.conf"), f->err,
				      sizeof(f->err)),
			 0);
	assert_ptr_equal(cluster_next_hop_mac(c, &c->nodes[0].ep),
			 c->nodes[0].ep.mac);
	assert_ptr_equal(cluster_next_hop_mac(c, &c->nodes[2].ep),
			 c->gateways[0].mac);
	assert_mac(cluster_next_hop_mac(c, &c->nodes[3].ep), 0, 0xfd);
	assert_mac(cluster_next_hop_mac(c, &c->backends[1].ep), 0, 0xfe);
	assert_mac(cluster_next_hop_mac(c, &c->backends[0].ep), 1, 1);

	a = cluster_endpoint_addr(&c->nodes[0].ep, 6, &fam);
	assert_ptr_equal(a, &c->nodes[0].ep.addr6);
	assert_int_equal(fam, 6);
	a = cluster_endpoint_addr(&c->nodes[0].ep, 4, &fam);
	assert_ptr_equal(a, &c->nodes[0].ep.addr4);
	assert_int_equal(fam, 4);
	/* No IPv6 on n5: IPv6 packets go in IPv4. */
	a = cluster_endpoint_addr(&c->nodes[2].ep, 6, &fam);
	assert_ptr_equal(a, &c->nodes[2].ep.addr4);
	assert_int_equal(fam, 4);
	a = cluster_endpoint_addr(&c->backends[1].ep, 4, &fam);
	assert_ptr_equal(a, &c->backends[1].ep.addr6);
	assert_int_equal(fam, 6);
}

struct bad_case {
	const char *file;
	int line; /* 0: a whole-file error */
	const char *msg;
};

static const struct bad_case bad_cases[] = {
	{"bad-dup-name.conf", 4,
	 "name 'n1' is already used by the node on line 3"},
	{"bad-dup-id.conf", 4,
	 "node 'n2' has id 1, already used by node 'n1' on line 3"},
	{"bad-dup-addr.conf", 4,
	 "node 'n2' has address 198.18.0.1, already used by node 'n1' on "
	 "line 3"},
	{"bad-id-range.conf", 3,
	 "'id' expects an integer in 0..65534, got '65535'"},
	{"bad-no-id.conf", 3, "node 'n1' needs 'id'"},
	{"bad-mac-and-via.conf", 5, "node 'n2' has both 'mac' and 'via'"},
	{"bad-no-mac-no-via.conf", 4, "node 'n2' needs 'mac' or 'via'"},
	{"bad-no-addr.conf", 4, "backend 'b1' needs 'addr' or 'addr6'"},
	{"bad-addr-family.conf", 3,
	 "'addr' expects an IPv4 address like 198.18.0.1, got "
	 "'2001:db8::1'"},
	{"bad-mac.conf", 5,
	 "'mac' expects a MAC address like 02:00:00:00:00:01, got '02:zz'"},
	{"bad-via-unknown.conf", 5,
	 "'via' expects a declared gateway, got 'gw9'"},
	{"bad-self-unknown.conf", 2,
	 "'self' expects a declared node, got 'n9'"},
	{"bad-no-self.conf", 0, "no 'self' directive"},
	{"bad-no-nodes.conf", 0, "no 'node' declared"},
	{"bad-service-backend.conf", 5,
	 "'backends' expects a declared backend, got 'b9'"},
	{"bad-backend-twice.conf", 5, "'backends' lists 'b1' twice"},
	{"bad-backends-list.conf", 5,
	 "'backends' expects backend names joined by commas like b1,b2, got "
	 "'b1,,b2'"},
	{"bad-service-no-port.conf", 5,
	 "service 'web' needs 'port' (0 for any port)"},
	{"bad-dup-service.conf", 6,
	 "service 'web2' has the vip, proto and port of service 'web' on "
	 "line 5"},
	{"bad-proto.conf", 5, "'proto' expects tcp or udp, got 'icmp'"},
	{"bad-replication.conf", 3,
	 "'replication' expects an integer in 1..3, got '4'"},
	{"bad-service-rf.conf", 5,
	 "'replication' expects an integer in 1..3, got '0'"},
	{"bad-mirror-packets.conf", 5,
	 "'mirror-packets' expects one of none, state-changes, all, got "
	 "'some'"},
	{"bad-service-opts-no-backends.conf", 4,
	 "service 'web': 'mirror-packets' needs 'backends'"},
	{"bad-mtu.conf", 3,
	 "'mtu' expects an integer in 576..9216, got "
	 "'9217'"},
	{"bad-capacity.conf", 3,
	 "'capacity' expects an integer in 64..16777216, got '63'"},
	{"bad-timeout.conf", 3,
	 "'udp-timeout' expects an integer in 1..86400, got '0'"},
	{"bad-dup-directive.conf", 4, "'mtu' already set on line 2"},
	{"bad-encap.conf", 4, "'encap' expects one of ipip, gue, got 'gre'"},
	{"bad-no-encap.conf", 4, "backend 'b1' needs 'encap' (ipip or gue)"},
	{"bad-ipip-port.conf", 4, "'port' applies only to 'encap gue'"},
	{"bad-unknown-key.conf", 3,
	 "'node' expects a key (id, addr, addr6, mac, via), got 'colour'"},
	{"bad-missing-value.conf", 3, "'mac' expects a value, got nothing"},
	{"bad-unknown-directive.conf", 4,
	 "unknown directive 'nodes' (known: cluster, self, gue-port, cell-ports, mtu, replication, ownership, replication-policy, "
	 "replication-chain, flood-guard, fsc, gateway, node, backend, service)"},
	{"bad-nargs.conf", 2, "'self' expects 1 value, got 2"},
	{"bad-name.conf", 4,
	 "'node' expects a name (a letter, then letters, digits, '-', '_' "
	 "or '.'; at most 31), got '2nd'"},
	{"bad-too-many-nodes.conf", 259, "more than 256 nodes"},
};

static void test_bad(void **state)
{
	struct fx *f = *state;
	char want[1024];
	size_t i;

	for (i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		const struct bad_case *b = &bad_cases[i];
		const char *path = fixture(f, b->file);

		if (b->line)
			snprintf(want, sizeof(want), "%s:%d: %s", path, b->line,
				 b->msg);
		else
			snprintf(want, sizeof(want), "%s: %s", path, b->msg);
		f->c.n_nodes = 99; /* must be reset by the load */
		assert_int_equal(
			cluster_load(&f->c, path, f->err, sizeof(f->err)),
			-EINVAL);
		assert_string_equal(f->err, want);
		/* A failed load leaves nothing behind. */
		assert_int_equal(f->c.n_nodes, 0);
		assert_null(f->c.nodes);
	}
}

static void test_missing_file(void **state)
{
	struct fx *f = *state;
	const char *path = fixture(f, "no-such-file.conf");
	char want[600];

	assert_int_equal(cluster_load(&f->c, path, f->err, sizeof(f->err)),
			 -ENOENT);
	snprintf(want, sizeof(want), "%s: No such file or directory", path);
	assert_string_equal(f->err, want);
}

static void test_load_buf(void **state)
{
	struct fx *f = *state;
	static const char text[] = "self a\nnode a id 1 addr 192.0.2.1 "
				   "mac 02:00:00:00:00:0a\nmtu 100\n";

	assert_int_equal(cluster_load_buf(&f->c, "inline", text,
					  sizeof(text) - 1, f->err,
					  sizeof(f->err)),
			 -EINVAL);
	assert_string_equal(f->err, "inline:3: 'mtu' expects an integer in "
				    "576..9216, got '100'");
	/* The same text without its last line is fine. */
	assert_int_equal(cluster_load_buf(&f->c, "inline", text,
					  (size_t)(strstr(text, "mtu") - text),
					  f->err, sizeof(f->err)),
			 0);
	assert_int_equal(f->c.n_nodes, 1);
}

/* The one-node description with line appended: loads with rc, and says
 * err when given. True when it loaded. */
static bool load_line(struct fx *f, const char *line, int rc, const char *err)
{
	static const char base[] = "self a\nnode a id 1 addr 192.0.2.1 "
				   "mac 02:00:00:00:00:0a\n";
	char text[512];

	snprintf(text, sizeof(text), "%s%s", base, line);
	cluster_free(&f->c);
	assert_int_equal(cluster_load_buf(&f->c, "inline", text, strlen(text),
					  f->err, sizeof(f->err)),
			 rc);
	if (err)
		assert_string_equal(f->err, err);
	return rc == 0;
}

/* 'ownership': flood by default, directory with 2 homes, or 1..3. */
static void test_ownership(void **state)
{
	struct fx *f = *state;
	static const struct {
		const char *line;
		int rc;
		uint8_t mode, homes;
		const char *err;
	} cases[] = {
		{"", 0, CLUSTER_OWN_FLOOD, 2, NULL},
		{"ownership directory\n", 0, CLUSTER_OWN_DIRECTORY, 2, NULL},
		{"ownership directory homes 3\n", 0, CLUSTER_OWN_DIRECTORY, 3,
		 NULL},
		{"ownership flood\n", 0, CLUSTER_OWN_FLOOD, 2, NULL},
		{"ownership directory homes 4\n", -EINVAL, 0, 0,
		 "inline:3: 'homes' expects an integer in 1..3, got '4'"},
		{"ownership everyone\n", -EINVAL, 0, 0, NULL},
		{"ownership\n", -EINVAL, 0, 0, NULL},
		{"ownership directory\nownership flood\n", -EINVAL, 0, 0,
		 "inline:4: 'ownership' already set on line 3"},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (!load_line(f, cases[i].line, cases[i].rc, cases[i].err))
			continue;
		assert_int_equal(f->c.ownership, cases[i].mode);
		assert_int_equal(f->c.dir_homes, cases[i].homes);
	}
}

/* 'replication-policy': fixed by default, predicted with its bounds. */
static void test_repl_policy(void **state)
{
	struct fx *f = *state;
	static const struct {
		const char *line;
		int rc;
		uint8_t policy;
		uint16_t thr;
		uint32_t hz;
		const char *err;
	} cases[] = {
		{"", 0, CLUSTER_REPL_FIXED, 50, 10, NULL},
		{"replication-policy predicted\n", 0, CLUSTER_REPL_PREDICTED,
		 50, 10, NULL},
		{"replication-policy predicted threshold 200 horizon 30\n", 0,
		 CLUSTER_REPL_PREDICTED, 200, 30, NULL},
		{"replication-policy fixed\n", 0, CLUSTER_REPL_FIXED, 50, 10,
		 NULL},
		{"replication-policy predicted threshold 0\n", -EINVAL, 0, 0, 0,
		 "inline:3: 'threshold' expects an integer in 1..1000, got "
		 "'0'"},
		{"replication-policy predicted horizon 3601\n", -EINVAL, 0, 0,
		 0, NULL},
		{"replication-policy guess\n", -EINVAL, 0, 0, 0, NULL},
		{"replication-policy\n", -EINVAL, 0, 0, 0, NULL},
		{"replication-policy fixed\nreplication-policy predicted\n",
		 -EINVAL, 0, 0, 0,
		 "inline:4: 'replication-policy' already set on line 3"},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (!load_line(f, cases[i].line, cases[i].rc, cases[i].err))
			continue;
		assert_int_equal(f->c.repl_policy, cases[i].policy);
		assert_int_equal(f->c.repl_threshold, cases[i].thr);
		assert_int_equal(f->c.repl_horizon_s, cases[i].hz);
	}
}

/* 'replication-chain on|off': the default, once. */
static void test_repl_chain(void **state)
{
	struct fx *f = *state;
	static const struct {
		const char *line;
		int rc;
		bool on;
		const char *err;
	} cases[] = {
		{"", 0, CLUSTER_REPL_CHAIN_DEFAULT, NULL},
		{"replication-chain on\n", 0, true, NULL},
		{"replication-chain off\n", 0, false, NULL},
		{"replication-chain yes\n", -EINVAL, false, NULL},
		{"replication-chain\n", -EINVAL, false,
		 "inline:3: 'replication-chain' expects 1 value, got none"},
		{"replication-chain on off\n", -EINVAL, false, NULL},
		{"replication-chain on\nreplication-chain off\n", -EINVAL,
		 false, "inline:4: 'replication-chain' already set on line 3"},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (!load_line(f, cases[i].line, cases[i].rc, cases[i].err))
			continue;
		assert_int_equal(f->c.repl_chain, cases[i].on);
	}
}

/* 'cell-ports CONTROL REPLICATION': 6092 6093 by default, 1..65535 each,
 * once; the control port never the GUE port (both UDP on a cell). */
static void test_cell_ports(void **state)
{
	struct fx *f = *state;
	static const struct {
		const char *line;
		int rc;
		uint16_t ctl, repl;
		const char *err;
	} cases[] = {
		{"", 0, 6092, 6093, NULL},
		{"cell-ports 7100 7101\n", 0, 7100, 7101, NULL},
		{"cell-ports 1 65535\n", 0, 1, 65535, NULL},
		/* UDP and TCP: one number may serve both. */
		{"cell-ports 7100 7100\n", 0, 7100, 7100, NULL},
		/* The GUE port is UDP too, but replication is TCP. */
		{"cell-ports 7100 6080\n", 0, 7100, 6080, NULL},
		{"gue-port 7000\ncell-ports 6080 6093\n", 0, 6080, 6093, NULL},
		{"cell-ports 0 6093\n", -EINVAL, 0, 0,
		 "inline:3: 'cell-ports' expects a port in 1..65535, got '0'"},
		{"cell-ports 6092 65536\n", -EINVAL, 0, 0,
		 "inline:3: 'cell-ports' expects a port in 1..65535, got "
		 "'65536'"},
		{"cell-ports 6092 x\n", -EINVAL, 0, 0,
		 "inline:3: 'cell-ports' expects a port in 1..65535, got 'x'"},
		{"cell-ports 6092\n", -EINVAL, 0, 0,
		 "inline:3: 'cell-ports' expects 2 values, got 1"},
		{"cell-ports 6092 6093 6094\n", -EINVAL, 0, 0,
		 "inline:3: 'cell-ports' expects 2 values, got 3"},
		{"cell-ports 7100 7101\ncell-ports 7100 7101\n", -EINVAL, 0, 0,
		 "inline:4: 'cell-ports' already set on line 3"},
		{"cell-ports 6080 6093\n", -EINVAL, 0, 0,
		 "inline:3: gue-port and the cell control port (cell-ports) are "
		 "both 6080: a cell binds both in UDP"},
		/* Whichever line came last: the cell-ports line is named. */
		{"cell-ports 7000 6093\ngue-port 7000\n", -EINVAL, 0, 0,
		 "inline:3: gue-port and the cell control port (cell-ports) are "
		 "both 7000: a cell binds both in UDP"},
		/* The default control port taken by gue-port: its line. */
		{"mtu 1500\ngue-port 6092\n", -EINVAL, 0, 0,
		 "inline:4: gue-port and the cell control port (cell-ports) are "
		 "both 6092: a cell binds both in UDP"},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (!load_line(f, cases[i].line, cases[i].rc, cases[i].err))
			continue;
		assert_int_equal(ntohs(f->c.cell_ctl_port), cases[i].ctl);
		assert_int_equal(ntohs(f->c.repl_port), cases[i].repl);
	}
}

/* 'flood-guard': stateless at 100,000/s by default; its keys bounded. */
static void test_flood_guard(void **state)
{
	struct fx *f = *state;
	static const struct {
		const char *line;
		int rc;
		struct cluster_guard g;
		const char *err;
	} cases[] = {
		{"", 0, {CLUSTER_GUARD_STATELESS, 100000, 10000, 0, 0}, NULL},
		{"flood-guard off\n",
		 0,
		 {CLUSTER_GUARD_OFF, 100000, 10000, 0, 0},
		 NULL},
		{"flood-guard drop rate 5000 burst 50\n",
		 0,
		 {CLUSTER_GUARD_DROP, 5000, 50, 0, 0},
		 NULL},
		{"flood-guard stateless source-rate 200\n",
		 0,
		 {CLUSTER_GUARD_STATELESS, 100000, 10000, 200, 20},
		 NULL},
		{"flood-guard stateless source-rate 5 source-burst 7\n",
		 0,
		 {CLUSTER_GUARD_STATELESS, 100000, 10000, 5, 7},
		 NULL},
		{"flood-guard stateless rate 0\n",
		 -EINVAL,
		 {0},
		 "inline:3: 'rate' expects an integer in 1..100000000, got "
		 "'0'"},
		{"flood-guard block\n", -EINVAL, {0}, NULL},
		{"flood-guard\n", -EINVAL, {0}, NULL},
		{"flood-guard drop colour red\n", -EINVAL, {0}, NULL},
		{"flood-guard off\nflood-guard drop\n",
		 -EINVAL,
		 {0},
		 "inline:4: 'flood-guard' already set on line 3"},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (!load_line(f, cases[i].line, cases[i].rc, cases[i].err))
			continue;
		assert_int_equal(f->c.guard.policy, cases[i].g.policy);
		assert_int_equal(f->c.guard.rate, cases[i].g.rate);
		assert_int_equal(f->c.guard.burst, cases[i].g.burst);
		assert_int_equal(f->c.guard.src_rate, cases[i].g.src_rate);
		assert_int_equal(f->c.guard.src_burst, cases[i].g.src_burst);
	}
}

/*
 * The demo cluster against pathspider_real.pcap. The expected counts come
 * from tshark -Y 'ip.dst==10.151.119.2 && tcp.dstport==10050' (18011
 * packets) and -Y 'ip.dst==10.64.88.7 && tcp' (10216 packets).
 */
static void test_demo_matches_capture(void **state)
{
	struct fx *f = *state;
	struct parse_cfg cfg = {.max_encap = STEER_MAX_ENCAP};
	const char *dir = getenv("STEER_PCAPS");
	static uint8_t buf[65536 + 64];
	uint64_t hits[2] = {0, 0}, other = 0, ts;
	const struct cluster_service *s;
	uint32_t cap, wire;
	const uint8_t *data;
	struct pcap_in *in;
	struct pkt_meta m;
	char path[512];
	int rc;

	snprintf(path, sizeof(path), "%s/lab/demo-cluster.conf", src());
	assert_int_equal(cluster_load(&f->c, path, f->err, sizeof(f->err)), 0);
	assert_int_equal(f->c.n_nodes, 4);
	assert_int_equal(f->c.n_services, 2);
	assert_int_equal(f->c.n_backends, 3);
	assert_string_equal(cluster_self(&f->c)->ep.name, "n1");
	cfg.gue_port = f->c.gue_port;

	snprintf(path, sizeof(path), "%s/pathspider_real.pcap",
		 dir ? dir : "tests/data/pcaps");
	in = pcapio_open_read(path);
	assert_non_null(in);
	while ((rc = pcapio_next(in, &data, &cap, &wire, &ts)) == 1) {
		if (cap > 65536)
			continue;
		memcpy(buf + STEER_FRAME_ALIGN_OFF, data, cap);
		if (parse_packet(buf + STEER_FRAME_ALIGN_OFF,
				 buf + STEER_FRAME_ALIGN_OFF + cap, &cfg,
				 &m) != 0)
			continue;
		s = cluster_service_match(&f->c, &m.key);
		if (s)
			hits[s - f->c.services]++;
		else
			other++;
	}
	assert_int_equal(rc, 0);
	pcapio_close_read(in);
	assert_int_equal(hits[0], 18011);
	assert_int_equal(hits[1], 10216);
	assert_true(other > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_good, setup, teardown),
		cmocka_unit_test_setup_teardown(test_defaults, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lookups, setup, teardown),
		cmocka_unit_test_setup_teardown(test_next_hop, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_file, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_load_buf, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cell_ports, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_flood_guard, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_repl_chain, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_repl_policy, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_ownership, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_demo_matches_capture,
						setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

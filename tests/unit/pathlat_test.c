// SPDX-License-Identifier: GPL-2.0-only
/*
 * steer-pathlat on captures made here: one flow whose packets reach its
 * owner (node a) straight from the router, then through other ingresses:
 * sent on in GUE straight to a (direct), through a home (rerouted, two
 * hops) and to a node that never passes it on (lost); one direct packet
 * carries the hint flag (sent from a cached template: cached). The tool must find
 * the three migrations, their paths and their latencies to the
 * microsecond, and ignore a packet of another port and a frame to
 * another MAC.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include <steer/parse.h>
#include <steer/tmpl.h>

#include "core/tmpl_build.h"
#include "fastpath/pcapio.h"

#define HEADROOM 128
#define NODES 5 /* a b c d e */
#define T0 1700000000000000000ull

static const char *const names[NODES] = {"a", "b", "c", "d", "e"};

struct cap {
	char dir[64];
	struct pcap_out *out[NODES];
};

static void mac_of(int node, uint8_t *m)
{
	static const uint8_t base[6] = {2, 0, 0, 0, 0, 0x10};

	memcpy(m, base, 6);
	m[5] = (uint8_t)(0x10 + node);
}

/* An Ethernet + IPv4 + TCP frame to port dport, sequence seq. */
static uint32_t frame(uint8_t *p, int to, uint16_t dport, uint32_t seq)
{
	struct steer_iphdr ip = {
		.ver_ihl = 0x45,
		.tot_len = steer_htons(20 + 20 + 4),
		.id = steer_htons((uint16_t)seq),
		.ttl = 61,
		.protocol = STEER_IPPROTO_TCP,
		.saddr = steer_htonl(0xc6120a01),
		.daddr = steer_htonl(0xc6120b02),
	};
	struct steer_tcphdr th = {
		.source = steer_htons(40000),
		.dest = steer_htons(dport),
		.seq = steer_htonl(seq),
		.doff_res = 5 << 4,
		.flags = STEER_TCP_ACK | STEER_TCP_PSH,
	};

	mac_of(to, p);
	memset(p + 6, 0x22, 6);
	p[12] = 0x08, p[13] = 0x00;
	memcpy(p + 14, &ip, sizeof(ip));
	memcpy(p + 34, &th, sizeof(th));
	memcpy(p + 54, "ping", 4);
	return 58;
}

/* The same packet in GUE from node `from` to node `to`, GUE flags gf. */
static uint32_t gue(uint8_t *buf, uint8_t **out, const uint8_t *f, uint32_t len,
		    int from, int to, uint8_t gf)
{
	struct steer_tmpl_args a = {.sport = steer_htons(0xc123),
				    .flags = gf,
				    .hops = 1,
				    .epoch = steer_htonl(1)};
	struct tmpl_spec s = {.kind = STEER_TMPL_GUE0,
			      .dport = steer_htons(STEER_GUE_PORT),
			      .origin = (uint16_t)(from + 1)};
	struct steer_tmpl t;

	mac_of(from, s.src_mac);
	mac_of(to, s.dst_mac);
	flow_addr_set_v4(&s.saddr, steer_htonl(0xc6120001 + (uint32_t)from));
	flow_addr_set_v4(&s.daddr, steer_htonl(0xc6120001 + (uint32_t)to));
	assert_int_equal(tmpl_build(&t, &s), 0);
	memcpy(buf + HEADROOM, f + 14, len - 14);
	*out = buf + HEADROOM - t.len;
	assert_int_equal(steer_tmpl_apply(*out, &t, len - 14, 4, &a), 0);
	return t.len + len - 14;
}

/* Packet seq reaches ingress at t_us, then each of path[] (GUE, the
 * first hop with flags gf) at its time; every delivery is written to the
 * capture of the node reached. */
static void deliver_gf(struct cap *c, uint32_t seq, int ingress, uint64_t t_us,
		       const int *path, const uint64_t *at_us, int hops,
		       uint8_t gf)
{
	uint8_t f[128], buf[HEADROOM + 256], *g;
	uint32_t len = frame(f, ingress, 8080, seq), glen;
	int i, prev = ingress;

	assert_int_equal(
		pcapio_write(c->out[ingress], f, len, T0 + t_us * 1000), 0);
	for (i = 0; i < hops; i++) {
		glen = gue(buf, &g, f, len, prev, path[i],
			   i ? STEER_GUE_F_STEERED : gf);
		assert_int_equal(pcapio_write(c->out[path[i]], g, glen,
					      T0 + at_us[i] * 1000),
				 0);
		prev = path[i];
	}
}

static void deliver(struct cap *c, uint32_t seq, int ingress, uint64_t t_us,
		    const int *path, const uint64_t *at_us, int hops)
{
	deliver_gf(c, seq, ingress, t_us, path, at_us, hops,
		   STEER_GUE_F_STEERED);
}

static void captures(struct cap *c)
{
	static const int to_a[] = {0}, via_d[] = {3, 0}, to_e[] = {4};
	static const uint64_t t3[] = {3100}, t4[] = {4150, 4300}, t5[] = {5050};
	uint8_t f[128];
	uint32_t len;
	int i;

	strcpy(c->dir, "/tmp/pathlat_test.XXXXXX");
	assert_non_null(mkdtemp(c->dir));
	for (i = 0; i < NODES; i++) {
		char p[128];

		snprintf(p, sizeof(p), "%s/%s.pcap", c->dir, names[i]);
		c->out[i] = pcapio_open_write(p);
		assert_non_null(c->out[i]);
	}
	deliver(c, 1, 0, 1000, NULL, NULL, 0); /* a keeps it: local */
	deliver(c, 2, 0, 2000, NULL, NULL, 0); /* a again: no migration */
	deliver(c, 3, 1, 3000, to_a, t3, 1);   /* b -> a: direct, 100 us */
	deliver(c, 4, 2, 4000, via_d, t4, 2);  /* c -> d -> a: 300 us */
	deliver(c, 5, 3, 5000, to_e, t5, 1);   /* d -> e: lost */
	deliver(c, 6, 3, 6000, to_a, (const uint64_t[]){6040}, 1);
	/* e -> a from e's header cache: direct and cached. */
	deliver_gf(c, 9, 4, 9000, to_a, (const uint64_t[]){9020}, 1,
		   STEER_GUE_F_STEERED | STEER_GUE_F_HINT);
	/* Neither counts: another port, another node's MAC. */
	len = frame(f, 2, 9999, 7);
	assert_int_equal(pcapio_write(c->out[2], f, len, T0 + 7000000), 0);
	len = frame(f, 4, 8080, 8);
	assert_int_equal(pcapio_write(c->out[1], f, len, T0 + 8000000), 0);
	for (i = 0; i < NODES; i++)
		assert_int_equal(pcapio_close_write(c->out[i]), 0);
}

/* Run the tool; its `name value unit` lines into out. */
static int run_tool(struct cap *c, char *out, size_t size, const char *csv)
{
	char cmd[2048];
	uint8_t mac[6];
	size_t off, n;
	FILE *p;
	int i;

	off = (size_t)snprintf(
		cmd, sizeof(cmd), "%s/steer-pathlat --port 8080 --csv %s",
		getenv("STEER_BIN") ? getenv("STEER_BIN") : ".", csv);
	for (i = 0; i < NODES; i++) {
		mac_of(i, mac);
		off += (size_t)snprintf(cmd + off, sizeof(cmd) - off,
					" %s=02:00:00:00:00:%02x@%s/%s.pcap",
					names[i], mac[5], c->dir, names[i]);
	}
	p = popen(cmd, "r");
	assert_non_null(p);
	n = fread(out, 1, size - 1, p);
	out[n] = '\0';
	return pclose(p);
}

static double value(const char *out, const char *name)
{
	char key[96];
	const char *s;

	snprintf(key, sizeof(key), "\n%s ", name);
	s = strstr(out, key);
	if (!s) {
		fail_msg("no line %s in:\n%s", name, out);
		return -1;
	}
	return atof(s + strlen(key));
}

/* The CSV holds a row ending so. */
static void csv_has(const char *path, const char *tail)
{
	char buf[4096];
	size_t n;
	FILE *f = fopen(path, "r");

	assert_non_null(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	if (!strstr(buf, tail))
		fail_msg("no row ending '%s' in:\n%s", tail, buf);
}

static void test_paths(void **state)
{
	struct cap c;
	char out[4096] = "\n", csv[128], cmd[256];
	int i;

	(void)state;
	captures(&c);
	snprintf(csv, sizeof(csv), "%s/paths.csv", c.dir);
	assert_int_equal(run_tool(&c, out + 1, sizeof(out) - 1, csv), 0);
	assert_int_equal(value(out, "pathlat_packets"), 13);
	assert_int_equal(value(out, "pathlat_chains"), 7);
	assert_int_equal(value(out, "pathlat_flows"), 1);
	/* b, c, d, then d again, then e: four changes of ingress. */
	assert_int_equal(value(out, "pathlat_migrations"), 4);
	assert_int_equal(value(out, "pathlat_first_direct"), 2);
	assert_int_equal(value(out, "pathlat_first_cached"), 1);
	assert_int_equal(value(out, "pathlat_first_rerouted"), 1);
	assert_int_equal(value(out, "pathlat_first_lost"), 1);
	assert_int_equal(value(out, "pathlat_first_local"), 0);
	/* First packets direct: 100 us (b) and 20 us (e). */
	assert_true(value(out, "pathlat_first_direct_p50_us") == 100.0);
	assert_true(value(out, "pathlat_first_rerouted_p50_us") == 300.0);
	/* Every direct chain: 100 us (b), 40 us (d, its second), 20 (e). */
	assert_true(value(out, "pathlat_all_direct_p50_us") == 40.0);
	csv_has(csv, ",e,1,20.0,direct,1\n");
	csv_has(csv, ",b,1,100.0,direct,0\n");
	for (i = 0; i < NODES; i++) {
		snprintf(cmd, sizeof(cmd), "%s/%s.pcap", c.dir, names[i]);
		unlink(cmd);
	}
	unlink(csv);
	rmdir(c.dir);
}

static void test_bad_usage(void **state)
{
	char cmd[512];
	const char *bin = getenv("STEER_BIN") ? getenv("STEER_BIN") : ".";
	static const char *const bad[] = {
		"",
		"--port 0 a=02:00:00:00:00:01@/dev/null",
		"--port 80",
		"--port 80 a=02:00:00:00:00@/x",
		"--port 80 a02:00:00:00:00:01@/x",
		"--port 80 =02:00:00:00:00:01@/x",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(cmd, sizeof(cmd), "%s/steer-pathlat %s 2>/dev/null",
			 bin, bad[i]);
		assert_int_equal(WEXITSTATUS(system(cmd)), 2);
	}
	/* A capture that cannot be read: 1. */
	snprintf(cmd, sizeof(cmd),
		 "%s/steer-pathlat --port 80 a=02:00:00:00:00:01@/nonexistent "
		 ">/dev/null 2>&1",
		 bin);
	assert_int_equal(WEXITSTATUS(system(cmd)), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_paths),
		cmocka_unit_test(test_bad_usage),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

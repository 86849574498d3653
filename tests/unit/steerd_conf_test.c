// SPDX-License-Identifier: GPL-2.0-only
/*
 * steerd's config file (daemon/steerd_conf.h): the defaults, every key
 * read and every key refused with the exact "FILE:LINE: ..." message,
 * relative paths taken from the file's directory, a key given twice, an
 * unknown key, and the fixtures of tests/fixtures/steerd/ (the bad ones
 * each fail naming their problem; bad-cluster.conf is a good steerd file
 * pointing at a bad cluster description, so it fails in
 * steerd_world_load()).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <arpa/inet.h>

#include "daemon/steerd.h"
#include "daemon/steerd_conf.h"

#define CONF_PATH "/etc/steer/steerd.conf" /* names the texts below */
#define KNOWN                                                                  \
	"cluster-file, admin-socket, interface, mode, gossip-port, "           \
	"cluster-key-file, log-level, bpf-pin-dir, cgroup, xdp, high-water, "  \
	"low-water, auto-drain, drain-hook, cpu-load, forecast-refit, hints, " \
	"hint-threshold, hint-ttl, join-warmup, cache-dir, cache-l1, "         \
	"cache-l1-min, drain-udp, flow-table-size, http-listen"

struct fx {
	struct steerd_conf c;
	char err[8192];
	char path[PATH_MAX];
	char want[8192];
};

static char src_dir[PATH_MAX];

/* STEER_SRC (set by ctest), else the tree this file was compiled from. */
static const char *src(void)
{
	const char *env = getenv("STEER_SRC");
	char here[PATH_MAX];

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
	snprintf(f->path, sizeof(f->path), "%s/tests/fixtures/steerd/%s", src(),
		 name);
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
	free(*state);
	return 0;
}

static int load(struct fx *f, const char *path, const char *text)
{
	f->err[0] = '\0';
	return steerd_conf_load_buf(&f->c, path, text, strlen(text), f->err,
				    sizeof(f->err));
}

/* --- defaults and every key read ------------------------------------ */

static void test_defaults(void **state)
{
	struct fx *f = *state;

	assert_int_equal(load(f, CONF_PATH, "cluster-file cluster.conf\n"), 0);
	assert_string_equal(f->err, "");
	assert_string_equal(f->c.path, CONF_PATH);
	assert_string_equal(f->c.cluster_file, "/etc/steer/cluster.conf");
	assert_string_equal(f->c.admin_socket, "/run/steer/steerd.sock");
	assert_string_equal(f->c.interface, "");
	assert_int_equal(f->c.mode, FP_MODE_CELL);
	assert_int_equal(f->c.gossip_port, 6091);
	assert_string_equal(f->c.key_file, "");
	assert_int_equal(f->c.log_level, LOG_INFO);
	assert_int_equal(f->c.has_log_level, 0);
	assert_string_equal(f->c.pin_dir, "");
	assert_string_equal(f->c.cgroup, "");
	assert_false(f->c.xdp_off);
	assert_int_equal(f->c.high_water, 800);
	assert_int_equal(f->c.low_water, 600);
	assert_false(f->c.auto_drain);
	assert_string_equal(f->c.drain_hook, "");
	assert_false(f->c.cpu_of_cgroup);
	assert_int_equal(f->c.forecast_refit, 10);
	assert_int_equal(f->c.join_warmup_s, 3);
	assert_int_equal(f->c.flow_table_size, 0); /* auto */
	assert_true(steerd_flow_table_size(&f->c) >= STEERD_FLOW_TABLE_FLOOR);
	assert_true(steerd_flow_table_size(&f->c) <= STEERD_FLOW_TABLE_CEIL);
}

/* auto: 1/64 of the memory at 256 bytes a flow, 1 Mi to 16 Mi. */
static void test_flow_table_auto(void **state)
{
	(void)state;
	assert_int_equal(steerd_flow_table_auto(24ull << 30), 1572864);
	assert_int_equal(steerd_flow_table_auto(8ull << 30), 1u << 20);
	assert_int_equal(steerd_flow_table_auto(1ull << 30), 1u << 20);
	assert_int_equal(steerd_flow_table_auto(64ull << 30), 4194304);
	assert_int_equal(steerd_flow_table_auto(4096ull << 30), 1u << 24);
}

static void test_every_key(void **state)
{
	struct fx *f = *state;
	static const char text[] =
		"# a comment line\n"
		"\n"
		"cluster-file   /srv/steer/cluster.conf   # trailing comment\n"
		"admin-socket\tsteerd.sock\n"
		"interface fab0\r\n"
		"mode host\n"
		"gossip-port 65535\n"
		"cluster-key-file keys/cluster.key\n"
		"log-level debug\n"
		"bpf-pin-dir /sys/fs/bpf/steer/fab0\n"
		"cgroup /sys/fs/cgroup/steer.slice\n"
		"xdp off\n"
		"high-water 650\n"
		"low-water 500\n"
		"auto-drain on\n"
		"drain-hook /bin/true\n"
		"cpu-load cgroup\n"
		"forecast-refit 5\n"
		"hints off\n"
		"hint-threshold 250\n"
		"hint-ttl 45\n"
		"join-warmup 7\n"
		"cache-dir cache/fab0\n"
		"cache-l1 4096\n"
		"cache-l1-min 700\n"
		"drain-udp move\n"
		"flow-table-size 2000000\n";

	assert_int_equal(load(f, CONF_PATH, text), 0);
	assert_string_equal(f->c.cluster_file, "/srv/steer/cluster.conf");
	assert_string_equal(f->c.admin_socket, "/etc/steer/steerd.sock");
	assert_string_equal(f->c.interface, "fab0");
	assert_int_equal(f->c.mode, FP_MODE_HOST);
	assert_int_equal(f->c.gossip_port, 65535);
	assert_string_equal(f->c.key_file, "/etc/steer/keys/cluster.key");
	assert_int_equal(f->c.log_level, LOG_DEBUG);
	assert_int_equal(f->c.has_log_level, 1);
	assert_string_equal(f->c.pin_dir, "/sys/fs/bpf/steer/fab0");
	assert_string_equal(f->c.cgroup, "/sys/fs/cgroup/steer.slice");
	assert_true(f->c.xdp_off);
	assert_int_equal(f->c.high_water, 650);
	assert_int_equal(f->c.low_water, 500);
	assert_true(f->c.auto_drain);
	assert_string_equal(f->c.drain_hook, "/bin/true");
	assert_true(f->c.cpu_of_cgroup);
	assert_int_equal(f->c.forecast_refit, 5);
	assert_false(f->c.hints);
	assert_int_equal(f->c.hint_threshold, 250);
	assert_int_equal(f->c.hint_ttl_s, 45);
	assert_int_equal(f->c.join_warmup_s, 7);
	assert_string_equal(f->c.cache_dir, "/etc/steer/cache/fab0");
	assert_int_equal(f->c.cache_l1, 4096);
	assert_int_equal(f->c.cache_l1_min, 700);
	assert_true(f->c.drain_udp_move);
	assert_int_equal(f->c.flow_table_size, 2000000);
	assert_int_equal(steerd_flow_table_size(&f->c), 2000000);
}

static void test_values_each(void **state)
{
	static const struct {
		const char *line;
		enum log_level level;
	} levels[] = {
		{"log-level error\n", LOG_ERR},
		{"log-level warn\n", LOG_WARN},
		{"log-level info\n", LOG_INFO},
		{"log-level debug\n", LOG_DEBUG},
	};
	struct fx *f = *state;
	char text[256];
	size_t i;

	for (i = 0; i < sizeof(levels) / sizeof(levels[0]); i++) {
		snprintf(text, sizeof(text), "cluster-file c\n%s",
			 levels[i].line);
		assert_int_equal(load(f, CONF_PATH, text), 0);
		assert_int_equal(f->c.log_level, levels[i].level);
		assert_int_equal(f->c.has_log_level, 1);
	}
	assert_int_equal(load(f, CONF_PATH, "cluster-file c\nmode cell\n"), 0);
	assert_int_equal(f->c.mode, FP_MODE_CELL);
	assert_int_equal(load(f, CONF_PATH, "cluster-file c\nxdp on\n"), 0);
	assert_false(f->c.xdp_off);
	assert_int_equal(load(f, CONF_PATH, "cluster-file c\ngossip-port 1\n"),
			 0);
	assert_int_equal(f->c.gossip_port, 1);
	/* 15 bytes: the longest interface name there is. */
	assert_int_equal(load(f, CONF_PATH,
			      "cluster-file c\ninterface abcdefghijklmno\n"),
			 0);
	assert_string_equal(f->c.interface, "abcdefghijklmno");
	assert_int_equal(load(f, CONF_PATH, "cluster-file c\ninterface a.b\n"),
			 0);
	assert_string_equal(f->c.interface, "a.b");
}

static void test_level_and_mode_names(void **state)
{
	enum log_level l = LOG_ERR;

	assert_int_equal(steerd_log_level_parse("warn", &l), 0);
	assert_int_equal(l, LOG_WARN);
	assert_int_equal(steerd_log_level_parse("debug", &l), 0);
	assert_int_equal(l, LOG_DEBUG);
	assert_int_equal(steerd_log_level_parse("WARN", &l), -EINVAL);
	assert_int_equal(steerd_log_level_parse("", &l), -EINVAL);
	assert_int_equal(l, LOG_DEBUG);
	assert_string_equal(steerd_log_level_name(LOG_ERR), "error");
	assert_string_equal(steerd_log_level_name(LOG_INFO), "info");
	assert_string_equal(steerd_log_level_name((enum log_level)99), "?");
	assert_string_equal(steerd_mode_name(FP_MODE_CELL), "cell");
	assert_string_equal(steerd_mode_name(FP_MODE_HOST), "host");
}

/* --- relative paths -------------------------------------------------- */

static void test_relative_paths(void **state)
{
	struct fx *f = *state;
	static const char text[] = "cluster-file ../c/cluster.conf\n"
				   "admin-socket run/s.sock\n"
				   "cluster-key-file k\n";

	assert_int_equal(load(f, "/a/b/steerd.conf", text), 0);
	assert_string_equal(f->c.cluster_file, "/a/b/../c/cluster.conf");
	assert_string_equal(f->c.admin_socket, "/a/b/run/s.sock");
	assert_string_equal(f->c.key_file, "/a/b/k");

	/* A file named without a directory: paths stay as they are. */
	assert_int_equal(load(f, "steerd.conf", text), 0);
	assert_string_equal(f->c.cluster_file, "../c/cluster.conf");
	assert_string_equal(f->c.admin_socket, "run/s.sock");
	assert_string_equal(f->c.key_file, "k");

	/* A relative directory is kept relative. */
	assert_int_equal(load(f, "etc/steerd.conf", text), 0);
	assert_string_equal(f->c.cluster_file, "etc/../c/cluster.conf");
	assert_string_equal(f->c.admin_socket, "etc/run/s.sock");
}

static void test_fixture_good(void **state)
{
	struct fx *f = *state;
	char want[PATH_MAX];

	assert_int_equal(steerd_conf_load(&f->c, fixture(f, "steerd.conf"),
					  f->err, sizeof(f->err)),
			 0);
	assert_string_equal(f->err, "");
	assert_string_equal(f->c.path, f->path);
	snprintf(want, sizeof(want), "%s/tests/fixtures/steerd/cluster.conf",
		 src());
	assert_string_equal(f->c.cluster_file, want);
	assert_string_equal(f->c.admin_socket, "/tmp/steerd-fixture.sock");
	assert_string_equal(f->c.interface, "eth0");
	assert_int_equal(f->c.mode, FP_MODE_CELL);
	assert_int_equal(f->c.gossip_port, 7946);
	assert_int_equal(f->c.log_level, LOG_INFO);
	assert_int_equal(f->c.has_log_level, 1);
	assert_string_equal(f->c.key_file, "");
	assert_false(f->c.xdp_off);
}

/* The fixture's cluster description loads too: a whole world. */
static void test_fixture_good_world(void **state)
{
	struct fx *f = *state;
	struct steerd_world w;

	assert_int_equal(steerd_world_load(&w, fixture(f, "steerd.conf"),
					   f->err, sizeof(f->err)),
			 0);
	assert_string_equal(w.cluster.name, "lab");
	assert_int_equal(w.cluster.n_nodes, 3);
	assert_int_equal(w.cluster.n_backends, 2);
	assert_int_equal(w.cluster.n_services, 1);
	assert_string_equal(cluster_self(&w.cluster)->ep.name, "n1");
	assert_false(w.keyed);
	assert_non_null(w.fp);
	steerd_world_free(&w);
	assert_null(w.fp);
}

/* --- each key refused, with its message ------------------------------ */

struct bad_row {
	const char *text;
	const char *msg; /* after "/etc/steer/steerd.conf:" */
};

static const struct bad_row bad_rows[] = {
	/* Arity, for every key. */
	{"cluster-file\n", "1: 'cluster-file' expects 1 value, got none"},
	{"cluster-file a b\n", "1: 'cluster-file' expects 1 value, got 2"},
	{"cluster-file c\nadmin-socket\n",
	 "2: 'admin-socket' expects 1 value, got none"},
	{"cluster-file c\ninterface a b c\n",
	 "2: 'interface' expects 1 value, got 3"},
	{"cluster-file c\nmode\n", "2: 'mode' expects 1 value, got none"},
	{"cluster-file c\ngossip-port 1 2\n",
	 "2: 'gossip-port' expects 1 value, got 2"},
	{"cluster-file c\ncluster-key-file\n",
	 "2: 'cluster-key-file' expects 1 value, got none"},
	{"cluster-file c\nlog-level info # x\nlog-level\n",
	 "3: 'log-level' given twice (first at line 2)"},
	{"cluster-file c\nlog-level\n",
	 "2: 'log-level' expects 1 value, got none"},
	{"cluster-file c\nbpf-pin-dir\n",
	 "2: 'bpf-pin-dir' expects 1 value, got none"},
	{"cluster-file c\ncgroup /a /b\n",
	 "2: 'cgroup' expects 1 value, got 2"},
	{"cluster-file c\nxdp\n", "2: 'xdp' expects 1 value, got none"},
	/* Values. */
	{"cluster-file c\ninterface abcdefghijklmnop\n",
	 "2: 'interface' expects an interface name of at most 15 bytes, got "
	 "'abcdefghijklmnop'"},
	{"cluster-file c\ninterface eth0/1\n",
	 "2: 'interface' expects an interface name of at most 15 bytes, got "
	 "'eth0/1'"},
	{"cluster-file c\ninterface eth0:1\n",
	 "2: 'interface' expects an interface name of at most 15 bytes, got "
	 "'eth0:1'"},
	{"cluster-file c\ninterface .\n",
	 "2: 'interface' expects an interface name of at most 15 bytes, got "
	 "'.'"},
	{"cluster-file c\ninterface ..\n",
	 "2: 'interface' expects an interface name of at most 15 bytes, got "
	 "'..'"},
	{"cluster-file c\nmode bridge\n",
	 "2: 'mode' expects one of cell, host, got 'bridge'"},
	{"cluster-file c\nmode CELL\n",
	 "2: 'mode' expects one of cell, host, got 'CELL'"},
	{"cluster-file c\nhigh-water 0\n",
	 "2: 'high-water' expects an integer in 1..1000, got '0'"},
	{"cluster-file c\nhigh-water 1001\n",
	 "2: 'high-water' expects an integer in 1..1000, got '1001'"},
	{"cluster-file c\nlow-water 1000\n",
	 "2: 'low-water' expects an integer in 0..999, got '1000'"},
	{"cluster-file c\nhigh-water 500\nlow-water 500\n",
	 "3: low-water 500 is not below high-water 500"},
	{"cluster-file c\nhint-threshold 0\n",
	 "2: 'hint-threshold' expects an integer in 1..1000, got '0'"},
	{"cluster-file c\nhint-ttl 3601\n",
	 "2: 'hint-ttl' expects an integer in 2..3600, got '3601'"},
	{"cluster-file c\njoin-warmup 61\n",
	 "2: 'join-warmup' expects an integer in 0..60, got '61'"},
	{"cluster-file c\nflow-table-size 1023\n",
	 "2: 'flow-table-size' expects an integer in 1024..67108864, got "
	 "'1023'"},
	{"cluster-file c\nflow-table-size big\n",
	 "2: 'flow-table-size' expects an integer in 1024..67108864, got "
	 "'big'"},
	{"cluster-file c\nflow-table-size auto\nflow-table-size 4096\n",
	 "3: 'flow-table-size' given twice (first at line 2)"},
	{"cluster-file c\ncache-l1 0\n",
	 "2: 'cache-l1' expects an integer in 1..1048576, got '0'"},
	{"cluster-file c\nhints maybe\n",
	 "2: 'hints' expects one of off, on, got 'maybe'"},
	{"cluster-file c\nforecast-refit 0\n",
	 "2: 'forecast-refit' expects an integer in 1..60, got '0'"},
	{"cluster-file c\nforecast-refit 61\n",
	 "2: 'forecast-refit' expects an integer in 1..60, got '61'"},
	{"cluster-file c\ncpu-load cgroup\n",
	 "2: cpu-load cgroup needs a 'cgroup' directive"},
	{"cluster-file c\ncpu-load host\n",
	 "2: 'cpu-load' expects one of machine, cgroup, got 'host'"},
	{"cluster-file c\nauto-drain yes\n",
	 "2: 'auto-drain' expects one of off, on, got 'yes'"},
	{"cluster-file c\ndrain-hook drain.sh\n",
	 "2: 'drain-hook' expects an absolute path, got 'drain.sh'"},
	{"cluster-file c\ndrain-hook /nonexistent/steer-drain\n",
	 "2: drain-hook '/nonexistent/steer-drain': No such file or "
	 "directory"},
	{"cluster-file c\ndrain-hook /etc/passwd\n",
	 "2: drain-hook '/etc/passwd': Permission denied"},
	{"cluster-file c\ngossip-port 0\n",
	 "2: 'gossip-port' expects an integer in 1..65535, got '0'"},
	{"cluster-file c\ngossip-port 65536\n",
	 "2: 'gossip-port' expects an integer in 1..65535, got '65536'"},
	{"cluster-file c\ngossip-port -1\n",
	 "2: 'gossip-port' expects an integer in 1..65535, got '-1'"},
	{"cluster-file c\ngossip-port 0x10\n",
	 "2: 'gossip-port' expects an integer in 1..65535, got '0x10'"},
	{"cluster-file c\ngossip-port 99999999999999999999999\n",
	 "2: 'gossip-port' expects an integer in 1..65535, got "
	 "'99999999999999999999999'"},
	{"cluster-file c\nlog-level verbose\n",
	 "2: 'log-level' expects one of error, warn, info, debug, got "
	 "'verbose'"},
	{"cluster-file c\nbpf-pin-dir /tmp/pins\n",
	 "2: 'bpf-pin-dir' expects a directory under /sys/fs/bpf/, got "
	 "'/tmp/pins'"},
	{"cluster-file c\nbpf-pin-dir steer/eth0\n",
	 "2: 'bpf-pin-dir' expects a directory under /sys/fs/bpf/, got "
	 "'steer/eth0'"},
	{"cluster-file c\nbpf-pin-dir /sys/fs/bpf\n",
	 "2: 'bpf-pin-dir' expects a directory under /sys/fs/bpf/, got "
	 "'/sys/fs/bpf'"},
	{"cluster-file c\nbpf-pin-dir /sys/fs/bpfx/steer\n",
	 "2: 'bpf-pin-dir' expects a directory under /sys/fs/bpf/, got "
	 "'/sys/fs/bpfx/steer'"},
	{"cluster-file c\nbpf-pin-dir /sys/fs/bpf/../../tmp\n",
	 "2: 'bpf-pin-dir' expects a directory under /sys/fs/bpf/, got "
	 "'/sys/fs/bpf/../../tmp'"},
	{"cluster-file c\ncgroup sys/fs/cgroup\n",
	 "2: 'cgroup' expects an absolute path, got 'sys/fs/cgroup'"},
	{"cluster-file c\nxdp yes\n",
	 "2: 'xdp' expects one of on, off, got 'yes'"},
	/* An unprintable byte is escaped in the message. */
	{"cluster-file c\nmode \x01x\n",
	 "2: 'mode' expects one of cell, host, got '\\x01x'"},
	/* Each key once. */
	{"cluster-file a\ncluster-file b\n",
	 "2: 'cluster-file' given twice (first at line 1)"},
	{"cluster-file c\nadmin-socket /a\n\nadmin-socket /a\n",
	 "4: 'admin-socket' given twice (first at line 2)"},
	{"cluster-file c\ninterface e\ninterface e\n",
	 "3: 'interface' given twice (first at line 2)"},
	{"mode cell\ncluster-file c\nmode host\n",
	 "3: 'mode' given twice (first at line 1)"},
	{"gossip-port 1\ngossip-port 1\ncluster-file c\n",
	 "2: 'gossip-port' given twice (first at line 1)"},
	{"cluster-file c\ncluster-key-file k\ncluster-key-file k\n",
	 "3: 'cluster-key-file' given twice (first at line 2)"},
	{"cluster-file c\nbpf-pin-dir /sys/fs/bpf/a\nbpf-pin-dir "
	 "/sys/fs/bpf/b\n",
	 "3: 'bpf-pin-dir' given twice (first at line 2)"},
	{"cluster-file c\ncgroup /a\ncgroup /b\n",
	 "3: 'cgroup' given twice (first at line 2)"},
	{"cluster-file c\nxdp on\nxdp off\n",
	 "3: 'xdp' given twice (first at line 2)"},
	/* Unknown keys: the known ones are listed. */
	{"cluster-file c\nadmin-sock /tmp/x.sock\n",
	 "2: unknown directive 'admin-sock' (known: " KNOWN ")"},
	{"Cluster-file c\n",
	 "1: unknown directive 'Cluster-file' (known: " KNOWN ")"},
	{"cluster c\n", "1: unknown directive 'cluster' (known: " KNOWN ")"},
};

static void test_bad_rows(void **state)
{
	struct fx *f = *state;
	size_t i;

	for (i = 0; i < sizeof(bad_rows) / sizeof(bad_rows[0]); i++) {
		snprintf(f->want, sizeof(f->want), "%s:%s", CONF_PATH,
			 bad_rows[i].msg);
		if (load(f, CONF_PATH, bad_rows[i].text) != -EINVAL ||
		    strcmp(f->err, f->want))
			fail_msg("row %zu: %s\n  got  '%s'\n  want '%s'", i,
				 bad_rows[i].text, f->err, f->want);
	}
}

/* http-listen: off by default, ADDR:PORT, [ADDR6]:PORT, port 0. */
static void test_http_listen(void **state)
{
	static const char *const bad[] = {
		"127.0.0.1",	"127.0.0.1:",	"127.0.0.1:65536",
		":80",		"localhost:80", "::1:80",
		"[::1]80",	"[::1:80",	"127.0.0.1:+80",
		"127.0.0.1:-1", "127.0.0.1:8x", "[127.0.0.1]:80",
		"1.2.3.4.5:80",
	};
	struct fx *f = *state;
	const struct sockaddr_in6 *s6 = (const void *)&f->c.http;
	const struct sockaddr_in *s4 = (const void *)&f->c.http;
	char text[128];
	size_t i;

	assert_int_equal(load(f, CONF_PATH, "cluster-file c\n"), 0);
	assert_int_equal(f->c.http.ss_family, AF_UNSPEC);
	assert_int_equal(load(f, CONF_PATH,
			      "cluster-file c\nhttp-listen 127.0.0.1:9646\n"),
			 0);
	assert_int_equal(s4->sin_family, AF_INET);
	assert_int_equal(ntohs(s4->sin_port), 9646);
	assert_int_equal(ntohl(s4->sin_addr.s_addr), 0x7f000001);
	assert_int_equal(load(f, CONF_PATH,
			      "cluster-file c\nhttp-listen [2001:db8::1]:0\n"),
			 0);
	assert_int_equal(s6->sin6_family, AF_INET6);
	assert_int_equal(s6->sin6_port, 0);
	assert_int_equal(s6->sin6_addr.s6_addr[15], 1);
	assert_int_equal(
		load(f, CONF_PATH, "cluster-file c\nhttp-listen off\n"), 0);
	assert_int_equal(f->c.http.ss_family, AF_UNSPEC);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), "cluster-file c\nhttp-listen %s\n",
			 bad[i]);
		if (load(f, CONF_PATH, text) != -EINVAL ||
		    !strstr(f->err, "http-listen"))
			fail_msg("'%s' taken: '%s'", bad[i], f->err);
	}
}

static void test_no_cluster_file(void **state)
{
	struct fx *f = *state;

	assert_int_equal(load(f, CONF_PATH, ""), -EINVAL);
	assert_string_equal(f->err, CONF_PATH ": no 'cluster-file' directive");
	assert_int_equal(load(f, CONF_PATH, "# nothing\n\nmode host\n"),
			 -EINVAL);
	assert_string_equal(f->err, CONF_PATH ": no 'cluster-file' directive");
	/* NULL text is an empty file. */
	assert_int_equal(steerd_conf_load_buf(&f->c, CONF_PATH, NULL, 0, f->err,
					      sizeof(f->err)),
			 -EINVAL);
	assert_string_equal(f->err, CONF_PATH ": no 'cluster-file' directive");
}

/* sun_path holds 107 bytes and the NUL: absolute or resolved. */
static void test_admin_socket_length(void **state)
{
	struct fx *f = *state;
	char name[128], text[256];

	/* "/" and 106 bytes: 107, the most there is. */
	memset(name, 'a', sizeof(name));
	name[0] = '/';
	name[107] = '\0';
	snprintf(text, sizeof(text), "cluster-file c\nadmin-socket %s\n", name);
	assert_int_equal(load(f, CONF_PATH, text), 0);
	assert_string_equal(f->c.admin_socket, name);

	name[107] = 'a';
	name[108] = '\0';
	snprintf(text, sizeof(text), "cluster-file c\nadmin-socket %s\n", name);
	assert_int_equal(load(f, CONF_PATH, text), -EINVAL);
	assert_string_equal(f->err, CONF_PATH
			    ":2: 'admin-socket' expects a path of at "
			    "most 107 bytes, got "
			    "'/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
			    "...'");

	/* Short, but too long once taken from /etc/steer/ (11 bytes). */
	memset(name, 'b', 97);
	name[97] = '\0';
	snprintf(text, sizeof(text), "cluster-file c\nadmin-socket %s\n", name);
	assert_int_equal(load(f, CONF_PATH, text), -EINVAL);
	assert_string_equal(f->err, CONF_PATH
			    ":2: 'admin-socket' expects a path of at "
			    "most 107 bytes, got "
			    "'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
			    "...'");
	name[96] = '\0'; /* 11 + 96 = 107 */
	snprintf(text, sizeof(text), "cluster-file c\nadmin-socket %s\n", name);
	assert_int_equal(load(f, CONF_PATH, text), 0);
	assert_int_equal(strlen(f->c.admin_socket), 107);
}

/* A relative path that outgrows PATH_MAX once anchored. */
static void test_path_too_long(void **state)
{
	struct fx *f = *state;
	static char dir[3100], text[1300], want[4400];

	memset(dir, 'd', sizeof(dir));
	dir[0] = '/';
	memcpy(dir + sizeof(dir) - 8, "/s.conf", 8); /* 3099 bytes */
	memset(text, 'c', sizeof(text));
	memcpy(text, "cluster-file ", 13);
	text[sizeof(text) - 2] = '\n';
	text[sizeof(text) - 1] = '\0';
	assert_int_equal(load(f, dir, text), -EINVAL);
	snprintf(want, sizeof(want),
		 "%s:1: 'cluster-file' expects a shorter path, got "
		 "'cccccccccccccccccccccccccccccccccccccccc...'",
		 dir);
	assert_string_equal(f->err, want);

	/* The same with the key file, after a good cluster-file. */
	memcpy(text, "cluster-file c\ncluster-key-file ", 32);
	assert_int_equal(load(f, dir, text), -EINVAL);
	snprintf(want, sizeof(want),
		 "%s:2: 'cluster-key-file' expects a shorter path, got "
		 "'cccccccccccccccccccccccccccccccccccccccc...'",
		 dir);
	assert_string_equal(f->err, want);
}

static void test_missing_file(void **state)
{
	struct fx *f = *state;

	assert_int_equal(steerd_conf_load(&f->c, "/nonexistent/steerd.conf",
					  f->err, sizeof(f->err)),
			 -ENOENT);
	assert_string_equal(f->err, "/nonexistent/steerd.conf: No such file or "
				    "directory");
	/* c is written anyway: the defaults. */
	assert_string_equal(f->c.admin_socket, "/run/steer/steerd.sock");
	assert_int_equal(f->c.gossip_port, 6091);
}

/* --- the bad fixtures ------------------------------------------------ */

static void test_fixture_bad_key(void **state)
{
	struct fx *f = *state;

	assert_int_equal(steerd_conf_load(&f->c, fixture(f, "bad-key.conf"),
					  f->err, sizeof(f->err)),
			 -EINVAL);
	snprintf(f->want, sizeof(f->want),
		 "%s:3: 'gossip-port' expects an integer in 1..65535, got "
		 "'70000'",
		 f->path);
	assert_string_equal(f->err, f->want);
}

static void test_fixture_bad_no_cluster(void **state)
{
	struct fx *f = *state;

	assert_int_equal(steerd_conf_load(&f->c,
					  fixture(f, "bad-no-cluster.conf"),
					  f->err, sizeof(f->err)),
			 -EINVAL);
	snprintf(f->want, sizeof(f->want), "%s: no 'cluster-file' directive",
		 f->path);
	assert_string_equal(f->err, f->want);
}

static void test_fixture_bad_unknown(void **state)
{
	struct fx *f = *state;

	assert_int_equal(steerd_conf_load(&f->c, fixture(f, "bad-unknown.conf"),
					  f->err, sizeof(f->err)),
			 -EINVAL);
	snprintf(f->want, sizeof(f->want),
		 "%s:3: unknown directive 'admin-sock' (known: " KNOWN ")",
		 f->path);
	assert_string_equal(f->err, f->want);
}

/* A good steerd file, a bad description: the description's line. */
static void test_fixture_bad_cluster(void **state)
{
	struct fx *f = *state;
	struct steerd_world w;
	char desc[PATH_MAX];

	assert_int_equal(steerd_conf_load(&f->c, fixture(f, "bad-cluster.conf"),
					  f->err, sizeof(f->err)),
			 0);
	snprintf(desc, sizeof(desc),
		 "%s/tests/fixtures/steerd/bad-cluster-desc.conf", src());
	assert_string_equal(f->c.cluster_file, desc);

	assert_int_equal(steerd_world_load(&w, f->path, f->err, sizeof(f->err)),
			 -EINVAL);
	snprintf(f->want, sizeof(f->want),
		 "%s:3: 'node' expects a key (id, addr, addr6, mac, via), got "
		 "'colour'",
		 desc);
	assert_string_equal(f->err, f->want);
	assert_null(w.fp);
	assert_null(w.cluster.nodes);
	steerd_world_free(&w); /* safe after a failure */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_defaults, setup, teardown),
		cmocka_unit_test_setup_teardown(test_every_key, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_values_each, setup,
						teardown),
		cmocka_unit_test(test_level_and_mode_names),
		cmocka_unit_test(test_flow_table_auto),
		cmocka_unit_test_setup_teardown(test_relative_paths, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_fixture_good, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_fixture_good_world, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_bad_rows, setup, teardown),
		cmocka_unit_test_setup_teardown(test_http_listen, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_no_cluster_file, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_admin_socket_length, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_path_too_long, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_missing_file, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_fixture_bad_key, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_fixture_bad_no_cluster,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_fixture_bad_unknown, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_fixture_bad_cluster, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

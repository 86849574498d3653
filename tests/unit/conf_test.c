// SPDX-License-Identifier: GPL-2.0-only
/*
 * The config reader: tokenizing (comments, blanks, tabs, CRLF), dispatch
 * to the directive table, and the exact text of every error message the
 * typed parsers write.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <cmocka.h>

#include "util/conf.h"

/* What the test directives saw. */
struct seen {
	int calls;
	int argc;
	char words[8][64];
	uint64_t u;
	struct flow_addr addr;
	int family;
	uint8_t mac[6];
	__be16 port;
	uint8_t proto;
	char name[CONF_NAME_MAX];
	int choice;
	const char *kv_a, *kv_b;
};

static int h_words(struct conf_line *l, void *ctx)
{
	struct seen *s = ctx;
	int i;

	s->calls++;
	s->argc = l->argc;
	for (i = 0; i < l->argc && i < 8; i++)
		snprintf(s->words[i], sizeof(s->words[i]), "%s", l->argv[i]);
	return 0;
}

static int h_count(struct conf_line *l, void *ctx)
{
	struct seen *s = ctx;

	if (conf_expect_nargs(l, 1))
		return -EINVAL;
	return conf_parse_uint(l, "count", l->argv[1], 1, 10, &s->u);
}

static int h_addr(struct conf_line *l, void *ctx)
{
	struct seen *s = ctx;
	int fam = l->argc > 2 ? atoi(l->argv[2]) : 0;

	return conf_parse_addr(l, l->argv[0], l->argc > 1 ? l->argv[1] : NULL,
			       fam, &s->addr, &s->family);
}

static int h_mac(struct conf_line *l, void *ctx)
{
	struct seen *s = ctx;

	return conf_parse_mac(l, "mac", l->argv[1], s->mac);
}

static int h_port(struct conf_line *l, void *ctx)
{
	struct seen *s = ctx;

	return conf_parse_port(l, "port", l->argv[1], l->argc > 2, &s->port);
}

static int h_proto(struct conf_line *l, void *ctx)
{
	struct seen *s = ctx;

	return conf_parse_proto(l, "proto", l->argv[1], &s->proto);
}

static int h_name(struct conf_line *l, void *ctx)
{
	struct seen *s = ctx;

	return conf_parse_ident(l, "name", l->argv[1], s->name);
}

static int h_color(struct conf_line *l, void *ctx)
{
	static const char *const colors[] = {"red", "green", "blue", NULL};
	struct seen *s = ctx;

	return conf_parse_enum(l, "color", l->argv[1], colors, &s->choice);
}

static int h_kv(struct conf_line *l, void *ctx)
{
	struct seen *s = ctx;
	struct conf_kv kv[] = {{.key = "alpha"}, {.key = "beta"}};
	int rc = conf_parse_kv(l, 1, kv, 2);

	s->kv_a = kv[0].value;
	s->kv_b = kv[1].value;
	return rc;
}

static int h_oom(struct conf_line *l, void *ctx)
{
	return -ENOMEM;
}

static const struct conf_directive dirs[] = {
	{"words", h_words, "any words"},
	{"count", h_count, "N in 1..10"},
	{"addr", h_addr, "IP [FAMILY]"},
	{"mac", h_mac, "MAC"},
	{"port", h_port, "PORT [any]"},
	{"proto", h_proto, "tcp|udp"},
	{"name", h_name, "NAME"},
	{"color", h_color, "red|green|blue"},
	{"kv", h_kv, "alpha A beta B"},
	{"oom", h_oom, "fails"},
	{NULL, NULL, NULL},
};

struct fx {
	struct seen s;
	char err[512];
};

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

/* Parses text as file "t.conf"; returns the code, message in f->err. */
static int run(struct fx *f, const char *text)
{
	memset(&f->s, 0, sizeof(f->s));
	return conf_parse_buf("t.conf", text, strlen(text), dirs, &f->s, f->err,
			      sizeof(f->err));
}

/* Expects text to fail with -EINVAL and exactly the message msg. */
static void expect_err(struct fx *f, const char *text, const char *msg)
{
	assert_int_equal(run(f, text), -EINVAL);
	assert_string_equal(f->err, msg);
}

static void test_tokenize(void **state)
{
	struct fx *f = *state;

	assert_int_equal(run(f, "# comment\n\n   \t\n"
				"\twords  a\tb#c d\r\n"
				"words x   # trailing comment\n"
				"words last"),
			 0);
	assert_string_equal(f->err, "");
	/* Three lines with words; the last has no newline and counts. */
	assert_int_equal(f->s.calls, 3);
	assert_int_equal(f->s.argc, 2);
	assert_string_equal(f->s.words[0], "words");
	assert_string_equal(f->s.words[1], "last");

	assert_int_equal(run(f, "words a\tb#c d\r\n"), 0);
	assert_int_equal(f->s.calls, 1);
	assert_int_equal(f->s.argc, 3);
	assert_string_equal(f->s.words[1], "a");
	assert_string_equal(f->s.words[2], "b");
}

static void test_empty(void **state)
{
	struct fx *f = *state;

	assert_int_equal(run(f, ""), 0);
	assert_int_equal(f->s.calls, 0);
	assert_int_equal(run(f, "\n\n# only a comment"), 0);
	assert_int_equal(f->s.calls, 0);
}

static void test_unknown_directive(void **state)
{
	expect_err(*state, "words\n\nbogus 1 2\n",
		   "t.conf:3: unknown directive 'bogus' (known: words, count, "
		   "addr, mac, port, proto, name, color, kv, oom)");
}

static void test_line_limits(void **state)
{
	struct fx *f = *state;
	char *text = malloc(CONF_MAX_LINE + 64);
	int i, o;

	assert_non_null(text);
	memset(text, 'w', CONF_MAX_LINE + 1);
	text[CONF_MAX_LINE + 1] = '\0';
	expect_err(f, text, "t.conf:1: line longer than 4096 bytes");
	/* Exactly CONF_MAX_LINE bytes is fine (and an unknown directive). */
	text[CONF_MAX_LINE] = '\0';
	assert_int_equal(run(f, text), -EINVAL);
	assert_non_null(strstr(f->err, "unknown directive 'wwwwwwwwww"));
	/* The quoted word is cut at 40 characters. */
	assert_non_null(strstr(f->err,
			       "'"
			       "wwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwww"
			       "...'"));

	o = sprintf(text, "words");
	for (i = 0; i < CONF_MAX_WORDS; i++)
		o += sprintf(text + o, " w");
	expect_err(f, text, "t.conf:1: more than 64 words on a line");
	free(text);

	assert_int_equal(conf_parse_buf("t.conf", "words a\0b\n", 10, dirs,
					&f->s, f->err, sizeof(f->err)),
			 -EINVAL);
	assert_string_equal(f->err, "t.conf:1: NUL byte: not a text file");
}

static void test_uint(void **state)
{
	struct fx *f = *state;

	assert_int_equal(run(f, "count 10"), 0);
	assert_int_equal(f->s.u, 10);
	assert_int_equal(run(f, "count 007"), 0);
	assert_int_equal(f->s.u, 7);
	expect_err(f, "count 11",
		   "t.conf:1: 'count' expects an integer in 1..10, got '11'");
	expect_err(f, "\ncount 0",
		   "t.conf:2: 'count' expects an integer in 1..10, got '0'");
	expect_err(f, "count -1",
		   "t.conf:1: 'count' expects an integer in 1..10, got '-1'");
	expect_err(f, "count 5x",
		   "t.conf:1: 'count' expects an integer in 1..10, got '5x'");
	expect_err(f, "count 99999999999999999999999",
		   "t.conf:1: 'count' expects an integer in 1..10, got "
		   "'99999999999999999999999'");
	expect_err(f, "count", "t.conf:1: 'count' expects 1 value, got none");
	expect_err(f, "count 1 2", "t.conf:1: 'count' expects 1 value, got 2");
}

static void test_addr(void **state)
{
	struct fx *f = *state;
	uint8_t mapped[16] = {[10] = 0xff, [11] = 0xff, 198, 18, 0, 1};
	uint8_t v6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};

	assert_int_equal(run(f, "addr 198.18.0.1 4"), 0);
	assert_memory_equal(f->s.addr.b, mapped, 16);
	assert_int_equal(f->s.family, 4);
	assert_int_equal(run(f, "addr 2001:db8::1 6"), 0);
	assert_memory_equal(f->s.addr.b, v6, 16);
	assert_int_equal(f->s.family, 6);
	assert_int_equal(run(f, "addr 198.18.0.1"), 0);
	assert_int_equal(f->s.family, 4);
	assert_int_equal(run(f, "addr ::ffff:198.18.0.1"), 0);
	assert_memory_equal(f->s.addr.b, mapped, 16);
	assert_int_equal(f->s.family, 4);

	expect_err(f, "addr 2001:db8::1 4",
		   "t.conf:1: 'addr' expects an IPv4 address like 198.18.0.1, "
		   "got '2001:db8::1'");
	expect_err(f, "addr 198.18.0.256 4",
		   "t.conf:1: 'addr' expects an IPv4 address like 198.18.0.1, "
		   "got '198.18.0.256'");
	expect_err(f, "addr 198.18.0.1 6",
		   "t.conf:1: 'addr' expects an IPv6 address like 2001:db8::1, "
		   "got '198.18.0.1'");
	expect_err(f, "addr ::ffff:198.18.0.1 6",
		   "t.conf:1: 'addr' expects an IPv6 address like 2001:db8::1, "
		   "got '::ffff:198.18.0.1'");
	expect_err(f, "addr host.example",
		   "t.conf:1: 'addr' expects an IPv4 or IPv6 address, got "
		   "'host.example'");
	expect_err(f, "addr",
		   "t.conf:1: 'addr' expects an IPv4 or IPv6 address, got "
		   "nothing");
}

static void test_mac(void **state)
{
	struct fx *f = *state;
	uint8_t want[6] = {0x02, 0xab, 0xCD, 0, 0x10, 0xfe};

	assert_int_equal(run(f, "mac 02:ab:CD:00:10:fe"), 0);
	assert_memory_equal(f->s.mac, want, 6);
	/* The house example, on line 7 of cluster.conf. */
	memset(&f->s, 0, sizeof(f->s));
	assert_int_equal(conf_parse_buf("cluster.conf",
					"\n\n\n\n\n\nmac 02:zz\n", 16, dirs,
					&f->s, f->err, sizeof(f->err)),
			 -EINVAL);
	assert_string_equal(f->err,
			    "cluster.conf:7: 'mac' expects a MAC address like "
			    "02:00:00:00:00:01, got '02:zz'");
	expect_err(f, "mac 02-00-00-00-00-01",
		   "t.conf:1: 'mac' expects a MAC address like "
		   "02:00:00:00:00:01, got '02-00-00-00-00-01'");
	expect_err(f, "mac 02:00:00:00:00:001",
		   "t.conf:1: 'mac' expects a MAC address like "
		   "02:00:00:00:00:01, got '02:00:00:00:00:001'");
	expect_err(f, "mac ff:ff:ff:ff:ff:ff",
		   "t.conf:1: 'mac' expects a unicast, non-zero MAC address, "
		   "got 'ff:ff:ff:ff:ff:ff'");
	expect_err(f, "mac 00:00:00:00:00:00",
		   "t.conf:1: 'mac' expects a unicast, non-zero MAC address, "
		   "got '00:00:00:00:00:00'");
	expect_err(f, "mac",
		   "t.conf:1: 'mac' expects a MAC address like "
		   "02:00:00:00:00:01, got nothing");
}

static void test_port_proto(void **state)
{
	struct fx *f = *state;

	assert_int_equal(run(f, "port 6080"), 0);
	assert_int_equal(f->s.port, htons(6080));
	assert_int_equal(run(f, "port 0 any"), 0);
	assert_int_equal(f->s.port, 0);
	assert_int_equal(run(f, "port 65535"), 0);
	assert_int_equal(f->s.port, htons(65535));
	expect_err(f, "port 0",
		   "t.conf:1: 'port' expects a port in 1..65535, got '0'");
	expect_err(f, "port 65536 any",
		   "t.conf:1: 'port' expects a port in 0..65535 (0 = any "
		   "port), got '65536'");
	expect_err(f, "port http",
		   "t.conf:1: 'port' expects a port in 1..65535, got 'http'");

	assert_int_equal(run(f, "proto tcp"), 0);
	assert_int_equal(f->s.proto, 6);
	assert_int_equal(run(f, "proto udp"), 0);
	assert_int_equal(f->s.proto, 17);
	expect_err(f, "proto TCP",
		   "t.conf:1: 'proto' expects tcp or udp, got 'TCP'");
	expect_err(f, "proto",
		   "t.conf:1: 'proto' expects tcp or udp, got "
		   "nothing");
}

static void test_ident_enum(void **state)
{
	struct fx *f = *state;

	assert_int_equal(run(f, "name web-1_a.b"), 0);
	assert_string_equal(f->s.name, "web-1_a.b");
	assert_int_equal(run(f, "name a234567890123456789012345678901"), 0);
	assert_int_equal(strlen(f->s.name), 31);
	expect_err(f, "name a2345678901234567890123456789012",
		   "t.conf:1: 'name' expects a name (a letter, then letters, "
		   "digits, '-', '_' or '.'; at most 31), got "
		   "'a2345678901234567890123456789012'");
	expect_err(f, "name 9x",
		   "t.conf:1: 'name' expects a name (a letter, then letters, "
		   "digits, '-', '_' or '.'; at most 31), got '9x'");
	expect_err(f, "name b1,b2",
		   "t.conf:1: 'name' expects a name (a letter, then letters, "
		   "digits, '-', '_' or '.'; at most 31), got 'b1,b2'");
	/* Control bytes are shown escaped, never raw. */
	expect_err(f, "name a\x01z",
		   "t.conf:1: 'name' expects a name (a letter, then letters, "
		   "digits, '-', '_' or '.'; at most 31), got 'a\\x01z'");

	assert_int_equal(run(f, "color blue"), 0);
	assert_int_equal(f->s.choice, 2);
	expect_err(f, "color pink",
		   "t.conf:1: 'color' expects one of red, green, blue, got "
		   "'pink'");
}

static void test_kv(void **state)
{
	struct fx *f = *state;

	assert_int_equal(run(f, "kv beta 2 alpha 1"), 0);
	assert_string_equal(f->s.kv_a, "1");
	assert_string_equal(f->s.kv_b, "2");
	assert_int_equal(run(f, "kv beta 2"), 0);
	assert_null(f->s.kv_a);
	assert_int_equal(run(f, "kv"), 0);
	assert_null(f->s.kv_b);
	expect_err(f, "kv alpha 1 gamma 3",
		   "t.conf:1: 'kv' expects a key (alpha, beta), got 'gamma'");
	expect_err(f, "kv alpha 1 beta",
		   "t.conf:1: 'beta' expects a value, got nothing");
	expect_err(f, "kv alpha 1 alpha 2", "t.conf:1: 'alpha' given twice");
}

static void test_handler_errno(void **state)
{
	struct fx *f = *state;

	assert_int_equal(run(f, "words\noom"), -ENOMEM);
	assert_string_equal(f->err, "t.conf:2: 'oom': Cannot allocate memory");
}

static void test_file(void **state)
{
	struct fx *f = *state;
	char path[] = "/tmp/steer-conf-XXXXXX";
	int fd = mkstemp(path);
	static const char text[] = "words from a file\ncount 3\n";

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, sizeof(text) - 1), sizeof(text) - 1);
	close(fd);
	memset(&f->s, 0, sizeof(f->s));
	assert_int_equal(
		conf_parse_file(path, dirs, &f->s, f->err, sizeof(f->err)), 0);
	assert_int_equal(f->s.calls, 1);
	assert_int_equal(f->s.u, 3);
	unlink(path);

	assert_int_equal(
		conf_parse_file(path, dirs, &f->s, f->err, sizeof(f->err)),
		-ENOENT);
	assert_true(strncmp(f->err, path, strlen(path)) == 0);
	assert_string_equal(f->err + strlen(path),
			    ": No such file or directory");
}

static void test_small_err_buffer(void **state)
{
	struct fx *f = *state;
	char small[12];

	memset(small, 'x', sizeof(small));
	assert_int_equal(conf_parse_buf("t.conf", "count 99", 8, dirs, &f->s,
					small, sizeof(small)),
			 -EINVAL);
	assert_string_equal(small, "t.conf:1: '");
	/* No buffer at all is allowed too. */
	assert_int_equal(
		conf_parse_buf("t.conf", "count 99", 8, dirs, &f->s, NULL, 0),
		-EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_tokenize, setup, teardown),
		cmocka_unit_test_setup_teardown(test_empty, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_directive, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_line_limits, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_uint, setup, teardown),
		cmocka_unit_test_setup_teardown(test_addr, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mac, setup, teardown),
		cmocka_unit_test_setup_teardown(test_port_proto, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_ident_enum, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_kv, setup, teardown),
		cmocka_unit_test_setup_teardown(test_handler_errno, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_small_err_buffer, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

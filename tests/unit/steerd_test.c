// SPDX-License-Identifier: GPL-2.0-only
/*
 * The daemon without root: cell mode, no cluster key (so no gossip),
 * started from the fixture config copied into a temporary directory with
 * its own admin socket there.
 *
 *   steerd_init()    the fixtures, bad ones with their messages; the
 *                    admin socket (in use, not a socket, stale, too long,
 *                    its mode, removed by steerd_fini())
 *   steerd_reload()  the same config; a changed cluster (flows with an
 *                    owner carried, flows of a node gone dropped); every
 *                    restart-only key refused by name with the old world
 *                    kept; bad files of every kind
 *   admin_handle()   every command with good and bad arguments, answers
 *                    compared whole; answers are strict JSON (checked by
 *                    a validator written here), also for requests and
 *                    paths that are not UTF-8
 *   the socket       requests over a real connection, the loop driven by
 *                    evloop_run_once()
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <errno.h>
#include <ftw.h>
#include <libgen.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <cmocka.h>

#include "daemon/admin.h"
#include "daemon/jsonw.h"
#include "daemon/steerd.h"
#include "fastpath/fsc.h"

#define SOCK_NAME "admin.sock"
#define RESTART " changed: restart steerd for it"

/* tests/fixtures/steerd/steerd.conf without its comment. */
static const char *const base_lines[] = {
	"cluster-file cluster.conf",
	"admin-socket /tmp/steerd-fixture.sock",
	"interface eth0",
	"mode cell",
	"gossip-port 7946",
	"log-level info",
	NULL,
};

static const char key_hex[] =
	"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n";

struct fx {
	char dir[PATH_MAX];
	char conf[PATH_MAX];	/* dir/steerd.conf */
	char cluster[PATH_MAX]; /* dir/cluster.conf */
	char sock[PATH_MAX];	/* dir/admin.sock */
	char err[1024];
	char want[4096];
	struct steerd d;
	bool up;
	struct jsonw w;
	char line[ADMIN_REQ_MAX + 64];
	char out[16384]; /* the last answer, idle_ms and uptime_ms as N */
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

/* --- a strict JSON validator (RFC 8259, UTF-8 only) ------------------ */

static const char *jv_value(const char *p, int depth);

static const char *jv_ws(const char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
	return p;
}

static int jv_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
	       (c >= 'A' && c <= 'F');
}

/* Bytes of the well-formed UTF-8 sequence at p, 0 if it is not one. */
static size_t jv_utf8(const unsigned char *p)
{
	uint32_t c;
	size_t n, i;

	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 2, c = p[0] & 0x1f;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		n = 3, c = p[0] & 0x0f;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		n = 4, c = p[0] & 0x07;
	else
		return 0;
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (p[i] & 0x3f);
	}
	if ((n == 3 && c < 0x800) || (n == 4 && c < 0x10000) ||
	    (c >= 0xd800 && c <= 0xdfff) || c > 0x10ffff)
		return 0;
	return n;
}

static const char *jv_string(const char *p)
{
	const unsigned char *u = (const unsigned char *)p + 1;
	size_t n;

	for (;;) {
		if (*u == '"')
			return (const char *)u + 1;
		if (*u < 0x20) /* a raw control byte, or the end */
			return NULL;
		if (*u == '\\') {
			u++;
			if (*u == 'u') {
				if (!jv_hex((char)u[1]) ||
				    !jv_hex((char)u[2]) ||
				    !jv_hex((char)u[3]) || !jv_hex((char)u[4]))
					return NULL;
				u += 5;
			} else if (*u && strchr("\"\\/bfnrt", *u)) {
				u++;
			} else {
				return NULL;
			}
		} else if (*u < 0x80) {
			u++;
		} else if ((n = jv_utf8(u))) {
			u += n;
		} else {
			return NULL;
		}
	}
}

static const char *jv_number(const char *p)
{
	if (*p == '-')
		p++;
	if (*p == '0')
		p++;
	else if (*p >= '1' && *p <= '9')
		while (*p >= '0' && *p <= '9')
			p++;
	else
		return NULL;
	if (*p == '.') {
		if (!(*++p >= '0' && *p <= '9'))
			return NULL;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	if (*p == 'e' || *p == 'E') {
		p++;
		if (*p == '+' || *p == '-')
			p++;
		if (!(*p >= '0' && *p <= '9'))
			return NULL;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	return p;
}

/* Members of an object (obj) or elements of an array, after the bracket. */
static const char *jv_members(const char *p, int depth, bool obj)
{
	char end = obj ? '}' : ']';

	p = jv_ws(p);
	if (*p == end)
		return p + 1;
	for (;;) {
		if (obj) {
			if (*p != '"' || !(p = jv_string(p)))
				return NULL;
			p = jv_ws(p);
			if (*p++ != ':')
				return NULL;
		}
		if (!(p = jv_value(p, depth + 1)))
			return NULL;
		p = jv_ws(p);
		if (*p == end)
			return p + 1;
		if (*p++ != ',')
			return NULL;
		p = jv_ws(p);
	}
}

static const char *jv_value(const char *p, int depth)
{
	if (depth > 64)
		return NULL;
	p = jv_ws(p);
	switch (*p) {
	case '{':
		return jv_members(p + 1, depth, true);
	case '[':
		return jv_members(p + 1, depth, false);
	case '"':
		return jv_string(p);
	case 't':
		return strncmp(p, "true", 4) ? NULL : p + 4;
	case 'f':
		return strncmp(p, "false", 5) ? NULL : p + 5;
	case 'n':
		return strncmp(p, "null", 4) ? NULL : p + 4;
	}
	return jv_number(p);
}

static bool json_valid(const char *s, size_t len)
{
	const char *p;

	if (strlen(s) != len)
		return false;
	p = jv_value(s, 0);
	return p && !*jv_ws(p);
}

/* The validator itself must be able to say no. */
static void test_json_validator(void **state)
{
	static const char *const good[] = {
		"{}",
		"[]",
		"{\"a\":[1,-2.5e3,true,false,null,\"\\u00e9\"]}",
		"\"\xc3\xa9\"",
		"0",
		" [ {} ] ",
	};
	static const char *const bad[] = {
		"",
		"{",
		"{\"a\"}",
		"[1,]",
		"{\"a\":1,}",
		"\"\xff\"",
		"\"\xc3\x28\"",
		"\"\x01\"",
		"\"\\x41\"",
		"01",
		"[1] [2]",
		"\"\xed\xa0\x80\"",
		"\"\xc0\xaf\"",
		"tru",
		"{'a':1}",
		"\"abc",
	};
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (!json_valid(good[i], strlen(good[i])))
			fail_msg("valid JSON refused: %s", good[i]);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (json_valid(bad[i], strlen(bad[i])))
			fail_msg("invalid JSON accepted: %s", bad[i]);
}

/* --- fixture ----------------------------------------------------------- */

static int write_file(const char *path, const char *text, size_t len)
{
	FILE *f = fopen(path, "wb");
	int ok;

	if (!f)
		return -1;
	ok = fwrite(text, 1, len, f) == len;
	return fclose(f) == 0 && ok ? 0 : -1;
}

static int copy_fixture(const char *name, const char *to)
{
	char path[PATH_MAX], buf[8192];
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), "%s/tests/fixtures/steerd/%s", src(),
		 name);
	f = fopen(path, "rb");
	if (!f)
		return -1;
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	return n ? write_file(to, buf, n) : -1;
}

static int rm_one(const char *path, const struct stat *st, int flag,
		  struct FTW *ftw)
{
	return remove(path);
}

static int fx_files(struct fx *f, const char *tmpl)
{
	snprintf(f->dir, sizeof(f->dir), "%s", tmpl);
	if (!mkdtemp(f->dir)) {
		f->dir[0] = '\0';
		return -1;
	}
	snprintf(f->conf, sizeof(f->conf), "%s/steerd.conf", f->dir);
	snprintf(f->cluster, sizeof(f->cluster), "%s/cluster.conf", f->dir);
	snprintf(f->sock, sizeof(f->sock), "%s/" SOCK_NAME, f->dir);
	jsonw_init(&f->w);
	if (copy_fixture("steerd.conf", f->conf) ||
	    copy_fixture("cluster.conf", f->cluster))
		return -1;
	return 0;
}

static int fx_start(struct fx *f, const char *admin_path)
{
	struct steerd_opts o = {
		.config = f->conf,
		.log_level = LOG_ERR,
		.signals = false,
		.admin_path = admin_path,
	};
	int ret;

	ret = steerd_init(&f->d, &o, f->err, sizeof(f->err));
	f->up = ret == 0;
	return ret;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	if (!f)
		return 0;
	if (f->up)
		steerd_fini(&f->d);
	jsonw_free(&f->w);
	if (f->dir[0])
		nftw(f->dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
	free(f);
	*state = NULL;
	return 0;
}

/*
 * The copied files in a directory made from tmpl, and with up the daemon
 * running. cmocka skips the teardown of a failed setup: done here.
 */
static int setup_any(void **state, const char *tmpl, bool up)
{
	struct fx *f = calloc(1, sizeof(*f));

	*state = f;
	if (!f)
		return -1;
	if (fx_files(f, tmpl))
		goto fail;
	if (up && fx_start(f, f->sock)) {
		fprintf(stderr, "steerd_init: %s\n", f->err);
		goto fail;
	}
	return 0;
fail:
	teardown(state);
	return -1;
}

static int setup_files(void **state)
{
	return setup_any(state, "/tmp/ut-steerd-XXXXXX", false);
}

static int setup_up(void **state)
{
	return setup_any(state, "/tmp/ut-steerd-XXXXXX", true);
}

/* A directory whose name is not UTF-8. */
static int setup_up_latin1(void **state)
{
	return setup_any(state, "/tmp/ut-steerd-\xff\xe9-XXXXXX", true);
}

/* steerd.conf as the fixture, with key's line replaced by line (or added). */
static void conf_with(struct fx *f, const char *key, const char *line)
{
	char text[2048];
	size_t o = 0, klen = key ? strlen(key) : 0;
	bool done = false;
	int i;

	for (i = 0; base_lines[i]; i++) {
		const char *l = base_lines[i];

		if (key && !strncmp(l, key, klen) && l[klen] == ' ') {
			l = line;
			done = true;
		}
		o += (size_t)snprintf(text + o, sizeof(text) - o, "%s\n", l);
	}
	if (key && !done)
		o += (size_t)snprintf(text + o, sizeof(text) - o, "%s\n", line);
	assert_true(o < sizeof(text));
	assert_int_equal(write_file(f->conf, text, o), 0);
}

static void cluster_from(struct fx *f, const char *fixture_name)
{
	assert_int_equal(copy_fixture(fixture_name, f->cluster), 0);
}

/* Replace the first from in the file at path by to (as long). */
static void file_replace(const char *path, const char *from, const char *to)
{
	char text[8192], *p;
	FILE *fp = fopen(path, "rb");
	size_t len;

	assert_non_null(fp);
	len = fread(text, 1, sizeof(text) - 1, fp);
	fclose(fp);
	text[len] = '\0';
	p = strstr(text, from);
	assert_non_null(p);
	assert_int_equal(strlen(from), strlen(to));
	memcpy(p, to, strlen(to));
	assert_int_equal(write_file(path, text, len), 0);
}

static void file_append(const char *path, const char *text)
{
	FILE *fp = fopen(path, "a");

	assert_non_null(fp);
	fputs(text, fp);
	assert_int_equal(fclose(fp), 0);
}

/* A copy of text with the digits after each "key": replaced by N. */
static void normalize(char *out, size_t len, const char *text)
{
	static const char *const keys[] = {"\"idle_ms\":", "\"uptime_ms\":"};
	size_t o = 0, i;

	while (*text && o + 1 < len) {
		for (i = 0; i < 2; i++) {
			size_t k = strlen(keys[i]);

			if (!strncmp(text, keys[i], k) && text[k] >= '0' &&
			    text[k] <= '9' && o + k + 2 < len) {
				memcpy(out + o, text, k);
				o += k;
				out[o++] = 'N';
				text += k;
				while (*text >= '0' && *text <= '9')
					text++;
				break;
			}
		}
		if (i == 2)
			out[o++] = *text++;
	}
	out[o] = '\0';
}

/* One request through admin_handle(); the answer, checked as JSON. */
static int ask(struct fx *f, const char *req)
{
	int ret;

	snprintf(f->line, sizeof(f->line), "%s", req);
	ret = admin_handle(&f->d, f->line, &f->w);
	if (ret == -ENOMEM)
		fail_msg("'%s': out of memory", req);
	if (!f->w.buf || !json_valid(f->w.buf, f->w.len))
		fail_msg("'%s': answer is not JSON: %s", req,
			 f->w.buf ? f->w.buf : "(null)");
	normalize(f->out, sizeof(f->out), f->w.buf);
	return ret;
}

static void ask_ok(struct fx *f, const char *req, const char *want)
{
	int ret = ask(f, req);

	if (ret || strcmp(f->out, want))
		fail_msg("'%s' -> %d\n  got  %s\n  want %s", req, ret, f->out,
			 want);
}

/* An error answer: a usage error carries "usage":true, others nothing. */
static void ask_error(struct fx *f, const char *req, const char *msg,
		      bool usage)
{
	char want[1024];
	int ret = ask(f, req);

	snprintf(want, sizeof(want), "{\"ok\":false,\"error\":\"%s\"%s}", msg,
		 usage ? ",\"usage\":true" : "");
	if (ret != -EINVAL || strcmp(f->out, want))
		fail_msg("'%s' -> %d\n  got  %s\n  want %s", req, ret, f->out,
			 want);
}

/* A request that is well formed but cannot be done here. */
static void ask_err(struct fx *f, const char *req, const char *msg)
{
	ask_error(f, req, msg, false);
}

/* A request that does not fit the usage: on any node, a usage error. */
static void ask_usage(struct fx *f, const char *req, const char *msg)
{
	ask_error(f, req, msg, true);
}

static void assert_prefix(const char *text, const char *prefix)
{
	if (strncmp(text, prefix, strlen(prefix)))
		fail_msg("'%s' does not start with '%s'", text, prefix);
}

static void assert_has(const char *text, const char *part)
{
	if (!strstr(text, part))
		fail_msg("'%s' not in %s", part, text);
}

static void assert_has_not(const char *text, const char *part)
{
	if (strstr(text, part))
		fail_msg("'%s' unexpectedly in %s", part, text);
}

static int client_connect(const char *path);

/* --- steerd_init ------------------------------------------------------- */

static void test_init_fixture(void **state)
{
	struct fx *f = *state;
	const struct steerd_world *w = f->d.world;
	struct stat st;

	assert_non_null(w);
	assert_non_null(f->d.el);
	assert_non_null(f->d.admin);
	assert_null(f->d.gossip);
	assert_null(f->d.host);
	assert_int_equal(f->d.st.generation, 1);
	assert_string_equal(f->d.config, f->conf);
	assert_string_equal(f->d.admin_path, f->sock);
	assert_string_equal(f->d.last_error, "");
	assert_string_equal(w->conf.cluster_file, f->cluster);
	/* The file's own socket is overridden, not created. */
	assert_string_equal(w->conf.admin_socket, "/tmp/steerd-fixture.sock");
	assert_string_equal(w->cluster.name, "lab");
	assert_false(w->keyed);
	assert_ptr_equal(steerd_fastpath(&f->d), w->fp);
	assert_int_equal(lstat(f->sock, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0660);
	assert_int_equal(log_get_level(), LOG_ERR); /* the command line's */
}

static void test_init_missing_config(void **state)
{
	struct fx *f = *state;
	struct stat st;

	snprintf(f->conf, sizeof(f->conf), "%s/none.conf", f->dir);
	assert_int_equal(fx_start(f, f->sock), -ENOENT);
	snprintf(f->want, sizeof(f->want), "%s: No such file or directory",
		 f->conf);
	assert_string_equal(f->err, f->want);
	assert_null(f->d.world);
	assert_null(f->d.admin);
	assert_int_equal(lstat(f->sock, &st), -1);
	steerd_fini(&f->d); /* safe after a failure */
}

static void test_init_bad_fixtures(void **state)
{
	static const struct {
		const char *file;
		const char *msg; /* after the path of the file named */
	} rows[] = {
		{"bad-key.conf",
		 ":3: 'gossip-port' expects an integer in 1..65535, got "
		 "'70000'"},
		{"bad-no-cluster.conf", ": no 'cluster-file' directive"},
		{"bad-unknown.conf",
		 ":3: unknown directive 'admin-sock' (known: cluster-file, "
		 "admin-socket, interface, mode, gossip-port, cluster-key-file, "
		 "log-level, bpf-pin-dir, cgroup, xdp, high-water, low-water, "
		 "auto-drain, drain-hook, cpu-load, forecast-refit, hints, "
		 "hint-threshold, hint-ttl, join-warmup, cache-dir, cache-l1, "
		 "cache-l1-min, drain-udp, flow-table-size, http-listen)"},
		{"bad-cluster.conf",
		 ":3: 'node' expects a key (id, addr, addr6, mac, via), got "
		 "'colour'"},
	};
	struct fx *f = *state;
	struct stat st;
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		snprintf(f->conf, sizeof(f->conf),
			 "%s/tests/fixtures/steerd/%s", src(), rows[i].file);
		f->err[0] = '\0';
		if (fx_start(f, f->sock) != -EINVAL)
			fail_msg("%s: steerd_init did not fail with -EINVAL",
				 rows[i].file);
		/* bad-cluster.conf's problem is in the file it points at. */
		snprintf(f->want, sizeof(f->want),
			 "%s/tests/fixtures/steerd/%s%s", src(),
			 strcmp(rows[i].file, "bad-cluster.conf")
				 ? rows[i].file
				 : "bad-cluster-desc.conf",
			 rows[i].msg);
		if (strcmp(f->err, f->want))
			fail_msg("%s:\n  got  '%s'\n  want '%s'", rows[i].file,
				 f->err, f->want);
		assert_null(f->d.world);
		assert_int_equal(lstat(f->sock, &st), -1);
		steerd_fini(&f->d);
	}
}

static void test_init_socket_in_use(void **state)
{
	struct fx *f = *state;
	struct steerd_opts o = {
		.config = f->conf, .log_level = LOG_ERR, .admin_path = f->sock};
	struct steerd d2;
	struct stat st;

	assert_int_equal(steerd_init(&d2, &o, f->err, sizeof(f->err)),
			 -EADDRINUSE);
	snprintf(f->want, sizeof(f->want),
		 "%s: another steerd is listening there", f->sock);
	assert_string_equal(f->err, f->want);
	steerd_fini(&d2);
	/* The first one's socket is still there and still its own. */
	assert_int_equal(lstat(f->sock, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	steerd_fini(&f->d);
	f->up = false;
	assert_int_equal(lstat(f->sock, &st), -1);
	assert_int_equal(errno, ENOENT);
}

static void test_init_socket_not_a_socket(void **state)
{
	struct fx *f = *state;
	struct stat st;

	assert_int_equal(write_file(f->sock, "x", 1), 0);
	assert_int_equal(fx_start(f, f->sock), -EEXIST);
	snprintf(f->want, sizeof(f->want), "%s: exists and is not a socket",
		 f->sock);
	assert_string_equal(f->err, f->want);
	assert_int_equal(lstat(f->sock, &st), 0);
	assert_true(S_ISREG(st.st_mode)); /* left alone */
}

/* A socket file nobody accepts on: a crashed daemon's, replaced. */
static void test_init_socket_stale(void **state)
{
	struct fx *f = *state;
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	struct stat st;

	assert_true(fd >= 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", f->sock);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(fd);
	assert_int_equal(client_connect(f->sock), -1);
	assert_int_equal(errno, ECONNREFUSED);
	assert_int_equal(fx_start(f, f->sock), 0);
	assert_int_equal(lstat(f->sock, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	/* Live now: somebody listens there. */
	fd = client_connect(f->sock);
	assert_true(fd >= 0);
	close(fd);
}

/* The socket's directory is made when missing, removed file by fini. */
static void test_init_socket_paths(void **state)
{
	struct fx *f = *state;
	char path[PATH_MAX], dir[PATH_MAX];
	struct stat st;

	snprintf(dir, sizeof(dir), "%s/run", f->dir);
	snprintf(path, sizeof(path), "%s/s.sock", dir);
	assert_int_equal(fx_start(f, path), 0);
	assert_int_equal(lstat(dir, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(lstat(path, &st), 0);
	steerd_fini(&f->d);
	f->up = false;
	assert_int_equal(lstat(path, &st), -1);
}

/*
 * An override 108 bytes long: one more than sun_path holds with its NUL.
 * Refused, not cut short to another path.
 */
static void test_init_admin_path_too_long(void **state)
{
	struct fx *f = *state;
	char path[PATH_MAX];
	struct stat st;
	size_t n;

	n = (size_t)snprintf(path, sizeof(path), "%s/", f->dir);
	memset(path + n, 's', 108 - n);
	path[108] = '\0';
	assert_int_equal(fx_start(f, path), -ENAMETOOLONG);
	snprintf(f->want, sizeof(f->want), "%s: path too long for a socket",
		 path);
	assert_string_equal(f->err, f->want);
	assert_int_equal(lstat(path, &st), -1);
	path[107] = '\0'; /* nor made at the path cut short */
	assert_int_equal(lstat(path, &st), -1);
}

/* --- admin_handle ------------------------------------------------------ */

static void test_admin_version(void **state)
{
	struct fx *f = *state;

	snprintf(f->want, sizeof(f->want),
		 "{\"ok\":true,\"result\":{\"steerd\":\"0.1.0\",\"protocol\":1,"
		 "\"cluster\":\"lab\",\"self\":\"n1\",\"self_id\":1,"
		 "\"mode\":\"cell\",\"interface\":\"eth0\","
		 "\"gossip_port\":7946,\"keyed\":false,\"config\":\"%s\","
		 "\"cluster_file\":\"%s\",\"generation\":1,"
		 "\"last_reload_error\":null,\"uptime_ms\":N}}",
		 f->conf, f->cluster);
	ask_ok(f, "version", f->want);
	ask_ok(f, "  version\t", f->want);
	ask_usage(f, "version now", "usage: version");
}

static const char nodes_fixture[] =
	"{\"ok\":true,\"result\":{\"nodes\":["
	"{\"id\":1,\"name\":\"n1\",\"address\":\"198.18.0.1\","
	"\"address6\":\"2001:db8::1\",\"mac\":\"02:00:00:00:00:01\","
	"\"via\":null,\"self\":true,\"state\":\"%s\",\"incarnation\":%s,"
	"\"load\":%s,\"drained\":false,\"joining\":false},"
	"{\"id\":2,\"name\":\"n2\",\"address\":\"198.18.0.2\","
	"\"address6\":null,\"mac\":\"02:00:00:00:00:02\",\"via\":null,"
	"\"self\":false,\"state\":\"%s\",\"incarnation\":%s,\"load\":%s,\"drained\":false,\"joining\":false},"
	"{\"id\":3,\"name\":\"n3\",\"address\":null,"
	"\"address6\":\"2001:db8::3\",\"mac\":\"02:00:00:00:00:03\","
	"\"via\":null,\"self\":false,\"state\":\"%s\",\"incarnation\":%s,"
	"\"load\":%s,\"drained\":false,\"joining\":false}]}}";

static void test_admin_nodes(void **state)
{
	struct fx *f = *state;

	snprintf(f->want, sizeof(f->want), nodes_fixture, "static", "0", "0",
		 "static", "0", "0", "static", "0", "0");
	ask_ok(f, "nodes", f->want);
	ask_usage(f, "nodes all", "usage: nodes");
}

/* A provider that knows two nodes; the third reads "unknown". */
static int fake_node_info(void *ctx, uint16_t id, struct steerd_node_info *out)
{
	int *calls = ctx;

	(*calls)++;
	if (id == 3)
		return -ENOENT;
	out->state = id == 1 ? "alive" : "sus\"pect";
	out->incarnation = 40 + id;
	out->load = 250u * id;
	return 0;
}

static void test_admin_nodes_provider(void **state)
{
	struct fx *f = *state;
	int calls = 0;
	struct steerd_node_provider p = {.node_info = fake_node_info,
					 .ctx = &calls};

	steerd_node_provider_set(&f->d, &p);
	snprintf(f->want, sizeof(f->want), nodes_fixture, "alive", "41", "250",
		 "sus\\\"pect", "42", "500", "unknown", "0", "0");
	ask_ok(f, "nodes", f->want);
	assert_int_equal(calls, 3);
	steerd_node_provider_set(&f->d, NULL);
	snprintf(f->want, sizeof(f->want), nodes_fixture, "static", "0", "0",
		 "static", "0", "0", "static", "0", "0");
	ask_ok(f, "nodes", f->want);
	assert_int_equal(calls, 3);
}

static void test_admin_templates(void **state)
{
	struct fx *f = *state;
	static const char want[] =
		"{\"ok\":true,\"result\":{\"templates\":["
		"{\"target\":\"node\",\"name\":\"n2\",\"id\":2,\"kind\":\"gue0\","
		"\"family\":4,\"src\":\"198.18.0.1\",\"dst\":\"198.18.0.2\","
		"\"src_mac\":\"02:00:00:00:00:01\","
		"\"dst_mac\":\"02:00:00:00:00:02\",\"dport\":6080,\"len\":58},"
		"{\"target\":\"node\",\"name\":\"n3\",\"id\":3,\"kind\":\"gue0\","
		"\"family\":6,\"src\":\"2001:db8::1\",\"dst\":\"2001:db8::3\","
		"\"src_mac\":\"02:00:00:00:00:01\","
		"\"dst_mac\":\"02:00:00:00:00:03\",\"dport\":6080,\"len\":78},"
		"{\"target\":\"backend\",\"name\":\"b1\",\"id\":1,"
		"\"kind\":\"ipip\",\"family\":4,\"src\":\"198.18.0.1\","
		"\"dst\":\"198.18.1.1\",\"src_mac\":\"02:00:00:00:00:01\","
		"\"dst_mac\":\"02:00:00:00:00:fe\",\"len\":34},"
		"{\"target\":\"backend\",\"name\":\"b2\",\"id\":2,"
		"\"kind\":\"gue1\",\"family\":4,\"src\":\"198.18.0.1\","
		"\"dst\":\"198.18.1.2\",\"src_mac\":\"02:00:00:00:00:01\","
		"\"dst_mac\":\"02:00:00:00:01:02\",\"dport\":7000,\"len\":42}"
		"]}}";

	ask_ok(f, "templates", want);
	ask_usage(f, "templates x", "usage: templates");
}

/* Without a cell (no cluster key here) shards says why; the lab test
 * (tests/lab/test_cell_mode.sh) asks a running cell. */
static void test_admin_shards(void **state)
{
	struct fx *f = *state;

	ask_err(f, "shards",
		"shards: no cell runs here (mode cell with a cluster key)");
	ask_err(f, "shards 7",
		"shards: no cell runs here (mode cell with a cluster key)");
	/* A malformed shard is a usage error before the missing cell. */
	ask_usage(f, "shards x",
		  "shards: the shard expects an integer in 0..4095");
	ask_usage(f, "shards 1 2", "usage: shards [N]");
}

/* forecast [series]: the load series, or their samples; nothing else. */
static void test_admin_forecast(void **state)
{
	struct fx *f = *state;

	assert_int_equal(ask(f, "forecast"), 0);
	assert_has(f->out, "\"series\":\"cpu_permille\"");
	assert_has(f->out, "\"sessions_tracked\":0");
	assert_int_equal(ask(f, "forecast series"), 0);
	assert_has(f->out, "\"series\":[{\"series\":\"cpu_permille\","
			   "\"first\":0,\"values\":[");
	ask_usage(f, "forecast x",
		  "forecast: expected nothing or 'series', not 'x'");
	ask_usage(f, "forecast series x", "usage: forecast [series]");
	/* No gossip here (no cluster key): nothing to score against. */
	ask_err(f, "migrations", "migrations: no gossip runs here");
	/* No XDP program here (cell mode without a key): no tables. */
	ask_err(f, "tables", "tables: no XDP program here");
	ask_usage(f, "tables x", "usage: tables");
	ask_err(f, "migrations all", "migrations: no gossip runs here");
	ask_usage(f, "migrations x",
		  "migrations: expected nothing or 'all', not 'x'");
	ask_usage(f, "migrations all x", "usage: migrations [all]");
	/* Draining is host mode's; this daemon runs in cell mode. */
	ask_err(f, "drain",
		"drain: host mode only (a cell-mode node's ingress is its "
		"fast path's)");
	ask_err(f, "undrain",
		"undrain: host mode only (a cell-mode node's ingress is its "
		"fast path's)");
	/* Another node, by name or id: not here either; nobody unknown. */
	ask_err(f, "drain now", "drain: no node 'now' in the cluster");
	ask_err(f, "undrain 77", "undrain: no node '77' in the cluster");
	ask_err(f, "drain n2",
		"drain: host mode only (a cell-mode node's ingress is its "
		"fast path's)");
	ask_err(f, "undrain 1", /* this node, by its id */
		"undrain: host mode only (a cell-mode node's ingress is its "
		"fast path's)");
	ask_usage(f, "undrain n1 x", "usage: undrain [NODE]");
	assert_int_equal(ask(f, "drain status"), 0);
	assert_has(f->out, "\"drained\":false,\"why\":\"none\"");
}

/*
 * help lists at least the commands this test knows, each with a usage and
 * a help text, and every command it lists is one the dispatcher knows.
 */
static void test_admin_help(void **state)
{
	static const char *const names[] = {
		"version",   "help",	 "nodes",    "flows",	 "rules",
		"templates", "counters", "flow-set", "flow-del",
	};
	struct fx *f = *state;
	char part[64], listed[32][32], help[sizeof(f->out)];
	const char *p, *q;
	size_t i, n = 0;

	assert_int_equal(ask(f, "help"), 0);
	memcpy(help, f->out, sizeof(help));
	assert_prefix(help, "{\"ok\":true,\"result\":{\"commands\":[{\"name\":"
			    "\"version\",\"usage\":\"version\",\"help\":\"");
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(part, sizeof(part), "{\"name\":\"%s\",\"usage\":\"%s",
			 names[i], names[i]);
		assert_has(help, part);
	}
	assert_has(help, "\"usage\":\"flow-set PROTO SRC SPORT DST DPORT "
			 "OWNER EPOCH\",\"help\":\"");
	for (p = help; (p = strstr(p, "{\"name\":\"")); p = q) {
		p += 9;
		q = strchr(p, '"');
		assert_non_null(q);
		assert_true(n < 32 && (size_t)(q - p) < sizeof(listed[0]));
		memcpy(listed[n], p, (size_t)(q - p));
		listed[n++][q - p] = '\0';
	}
	assert_true(n >= sizeof(names) / sizeof(names[0]));
	for (i = 0; i < n; i++) {
		ask(f, listed[i]);
		assert_has_not(f->out, "unknown command");
	}
}

static void test_admin_counters(void **state)
{
	struct fx *f = *state;

	assert_int_equal(ask(f, "counters"), 0);
	assert_has(f->out, "{\"ok\":true,\"result\":{\"fastpath\":{"
			   "\"rx_packets\":0,\"rx_bytes\":0,\"notip\":0,"
			   "\"decap\":0,\"new_flows\":0},\"action\":{"
			   "\"local\":0,\"steer\":0,\"backend\":0,");
	assert_has(f->out, "\"parse_err\":{\"truncated-ethernet\":0,");
	assert_has(f->out, "\"drop\":{\"parse\":0,\"hop-limit\":0,");
	assert_has(f->out, "\"fsc\":{\"capacity\":1024,\"count\":0,");
	assert_has(f->out, "\"hits\":0,\"misses\":0,\"inserts\":0,");
	assert_has(f->out, "\"daemon\":{\"generation\":1,"
			   "\"reloads_failed\":0,\"flows_carried\":0,"
			   "\"swept\":0}");
	assert_has(f->out, "\"admin\":{\"requests\":0,\"errors\":0,"
			   "\"accepted\":0,\"rejected\":0,\"too_long\":0,"
			   "\"clients\":0}");
	assert_has_not(f->out, "\"xdp\"");

	ask_ok(f, "flow-set tcp 198.18.5.1 1000 198.19.0.80 80 n2 7",
	       "{\"ok\":true,\"result\":{\"flow\":{\"proto\":\"tcp\","
	       "\"src\":\"198.18.5.1\",\"sport\":1000,\"dst\":\"198.19.0.80\","
	       "\"dport\":80},\"owner\":2,\"epoch\":7}}");
	assert_int_equal(ask(f, "counters"), 0);
	assert_has(f->out, "\"fsc\":{\"capacity\":1024,\"count\":1,");
	assert_has(f->out, "\"inserts\":1,");
	ask_usage(f, "counters -j", "usage: counters");
}

#define FLOW_A                                                                 \
	"{\"proto\":\"tcp\",\"src\":\"198.18.5.1\",\"sport\":1000,"            \
	"\"dst\":\"198.19.0.80\",\"dport\":80,\"action\":\"local\","           \
	"\"owner\":1,\"mirrors\":[],\"epoch\":3,\"state\":\"new\","            \
	"\"idle_ms\":N,\"packets\":0,\"bytes\":0}"
#define FLOW_B                                                                 \
	"{\"proto\":\"tcp\",\"src\":\"198.18.5.2\",\"sport\":1001,"            \
	"\"dst\":\"198.19.0.80\",\"dport\":80,\"action\":\"steer\","           \
	"\"owner\":2,\"mirrors\":[],\"epoch\":4294967295,\"state\":\"new\","   \
	"\"idle_ms\":N,\"packets\":0,\"bytes\":0}"
#define FLOW_C                                                                 \
	"{\"proto\":\"udp\",\"src\":\"2001:db8:5::10\",\"sport\":53,"          \
	"\"dst\":\"2001:db8::3\",\"dport\":0,\"action\":\"steer\","            \
	"\"owner\":3,\"mirrors\":[],\"epoch\":0,\"state\":\"new\","            \
	"\"idle_ms\":N,\"packets\":0,\"bytes\":0}"

/* Three flows: n1 (this node: local), n2 and n3 (steered). */
static void set_three_flows(struct fx *f)
{
	ask_ok(f, "flow-set tcp 198.18.5.1 1000 198.19.0.80 80 n1 3",
	       "{\"ok\":true,\"result\":{\"flow\":{\"proto\":\"tcp\","
	       "\"src\":\"198.18.5.1\",\"sport\":1000,\"dst\":\"198.19.0.80\","
	       "\"dport\":80},\"owner\":1,\"epoch\":3}}");
	ask_ok(f, "flow-set 6 198.18.5.2 1001 198.19.0.80 0080 2 4294967295",
	       "{\"ok\":true,\"result\":{\"flow\":{\"proto\":\"tcp\","
	       "\"src\":\"198.18.5.2\",\"sport\":1001,\"dst\":\"198.19.0.80\","
	       "\"dport\":80},\"owner\":2,\"epoch\":4294967295}}");
	ask_ok(f, "flow-set\tudp\t2001:db8:5::10\t53\t2001:db8::3\t0\tn3\t0",
	       "{\"ok\":true,\"result\":{\"flow\":{\"proto\":\"udp\","
	       "\"src\":\"2001:db8:5::10\",\"sport\":53,\"dst\":\"2001:db8::3\","
	       "\"dport\":0},\"owner\":3,\"epoch\":0}}");
}

static void test_admin_flows(void **state)
{
	struct fx *f = *state;

	ask_ok(f, "flows",
	       "{\"ok\":true,\"result\":{\"count\":0,\"capacity\":1024,"
	       "\"limit\":100,\"flows\":[],\"shown\":0,"
	       "\"source\":\"userspace\"}}");
	set_three_flows(f);
	assert_int_equal(ask(f, "flows"), 0);
	assert_has(f->out, "{\"ok\":true,\"result\":{\"count\":3,"
			   "\"capacity\":1024,\"limit\":100,\"flows\":[");
	assert_has(f->out, FLOW_A);
	assert_has(f->out, FLOW_B);
	assert_has(f->out, FLOW_C);
	assert_has(f->out, "],\"shown\":3,\"source\":\"userspace\"}}");

	assert_int_equal(ask(f, "flows limit 1"), 0);
	assert_has(f->out, "{\"ok\":true,\"result\":{\"count\":3,"
			   "\"capacity\":1024,\"limit\":1,\"flows\":[{");
	assert_has(f->out, "}],\"shown\":1,");
	assert_int_equal(ask(f, "flows limit 100000"), 0);
	assert_has(f->out, "\"limit\":100000,");
	assert_has(f->out, "\"shown\":3,");

	/* Without an XDP program, the rules are the userspace fast path's:
	 * the same flows. */
	assert_int_equal(ask(f, "rules limit 2"), 0);
	assert_has(f->out, "{\"ok\":true,\"result\":{\"count\":3,"
			   "\"capacity\":1024,\"limit\":2,\"flows\":[{");
	assert_has(f->out, "\"shown\":2,\"source\":\"userspace\"}}");
	ask_usage(f, "rules limit x",
		  "rules: 'limit' expects an integer in 1..100000");
	ask_usage(f, "flows limit", "usage: flows [limit N]");
	ask_usage(f, "flows max 5", "usage: flows [limit N]");
	ask_usage(f, "flows limit 5 6", "usage: flows [limit N]");
	ask_usage(f, "flows limit 0",
		  "flows: 'limit' expects an integer in 1..100000");
	ask_usage(f, "flows limit 100001",
		  "flows: 'limit' expects an integer in 1..100000");
	ask_usage(f, "flows limit -1",
		  "flows: 'limit' expects an integer in 1..100000");
	ask_usage(f, "flows limit 99999999999",
		  "flows: 'limit' expects an integer in 1..100000");
	ask_usage(f, "flows limit 1e3",
		  "flows: 'limit' expects an integer in 1..100000");
}

static void test_admin_flow_set_errors(void **state)
{
	static const struct {
		const char *req, *msg;
	} rows[] = {
		{"flow-set", "usage: flow-set PROTO SRC SPORT DST DPORT OWNER "
			     "EPOCH"},
		{"flow-set tcp 198.18.5.1 1 198.18.5.2 2 n2",
		 "usage: flow-set PROTO SRC SPORT DST DPORT OWNER EPOCH"},
		{"flow-set tcp 198.18.5.1 1 198.18.5.2 2 n2 1 x",
		 "usage: flow-set PROTO SRC SPORT DST DPORT OWNER EPOCH"},
		{"flow-set sctp 198.18.5.1 1 198.18.5.2 2 n2 1",
		 "flow-set: protocol expects tcp, udp or a number in 1..255"},
		{"flow-set TCP 198.18.5.1 1 198.18.5.2 2 n2 1",
		 "flow-set: protocol expects tcp, udp or a number in 1..255"},
		{"flow-set 0 198.18.5.1 1 198.18.5.2 2 n2 1",
		 "flow-set: protocol expects tcp, udp or a number in 1..255"},
		{"flow-set 256 198.18.5.1 1 198.18.5.2 2 n2 1",
		 "flow-set: protocol expects tcp, udp or a number in 1..255"},
		{"flow-set tcp 198.18.5 1 198.18.5.2 2 n2 1",
		 "flow-set: source expects an IPv4 or IPv6 address"},
		{"flow-set tcp ::ffff:198.18.5.1 1 198.18.5.2 2 n2 1",
		 "flow-set: source expects an IPv4 or IPv6 address"},
		{"flow-set tcp 198.18.5.1 1 198.18.5.256 2 n2 1",
		 "flow-set: destination expects an IPv4 or IPv6 address"},
		{"flow-set tcp 198.18.5.1 1 2001:db8::2 2 n2 1",
		 "flow-set: source and destination are of two address "
		 "families"},
		{"flow-set tcp 198.18.5.1 65536 198.18.5.2 2 n2 1",
		 "flow-set: source port expects an integer in 0..65535"},
		{"flow-set tcp 198.18.5.1 -1 198.18.5.2 2 n2 1",
		 "flow-set: source port expects an integer in 0..65535"},
		{"flow-set tcp 198.18.5.1 1 198.18.5.2 http n2 1",
		 "flow-set: destination port expects an integer in 0..65535"},
		{"flow-set tcp 198.18.5.1 1 198.18.5.2 2 n9 1",
		 "flow-set: owner expects a node id or name of the cluster"},
		{"flow-set tcp 198.18.5.1 1 198.18.5.2 2 9 1",
		 "flow-set: owner expects a node id or name of the cluster"},
		{"flow-set tcp 198.18.5.1 1 198.18.5.2 2 65535 1",
		 "flow-set: owner expects a node id or name of the cluster"},
		{"flow-set tcp 198.18.5.1 1 198.18.5.2 2 b1 1",
		 "flow-set: owner expects a node id or name of the cluster"},
		{"flow-set tcp 198.18.5.1 1 198.18.5.2 2 n2 4294967296",
		 "flow-set: epoch expects an integer in 0..4294967295"},
		{"flow-set tcp 198.18.5.1 1 198.18.5.2 2 n2 -1",
		 "flow-set: epoch expects an integer in 0..4294967295"},
	};
	struct fx *f = *state;
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		ask_error(f, rows[i].req, rows[i].msg,
			  !strstr(rows[i].msg, "of the cluster"));
	/* Nothing of it reached the cache. */
	assert_int_equal(fsc_count(fastpath_fsc(steerd_fastpath(&f->d))), 0);
}

static void test_admin_flow_del(void **state)
{
	struct fx *f = *state;
	static const char ok_b[] =
		"{\"ok\":true,\"result\":{\"flow\":{\"proto\":\"tcp\","
		"\"src\":\"198.18.5.2\",\"sport\":1001,\"dst\":\"198.19.0.80\","
		"\"dport\":80}}}";

	set_three_flows(f);
	ask_ok(f, "flow-del tcp 198.18.5.2 1001 198.19.0.80 80", ok_b);
	ask_err(f, "flow-del tcp 198.18.5.2 1001 198.19.0.80 80",
		"flow-del: no such flow");
	/* The reverse direction is another flow. */
	ask_err(f, "flow-del tcp 198.19.0.80 80 198.18.5.2 1001",
		"flow-del: no such flow");
	ask_err(f, "flow-del udp 198.18.5.1 1000 198.19.0.80 80",
		"flow-del: no such flow");
	ask_ok(f, "flow-del 17 2001:db8:5::10 53 2001:db8::3 0",
	       "{\"ok\":true,\"result\":{\"flow\":{\"proto\":\"udp\","
	       "\"src\":\"2001:db8:5::10\",\"sport\":53,"
	       "\"dst\":\"2001:db8::3\",\"dport\":0}}}");
	assert_int_equal(ask(f, "flows"), 0);
	assert_has(f->out, "\"count\":1,");
	assert_has(f->out, FLOW_A);

	ask_usage(f, "flow-del tcp 198.18.5.1 1000 198.19.0.80",
		  "usage: flow-del PROTO SRC SPORT DST DPORT");
	ask_usage(f, "flow-del tcp 198.18.5.1 1000 198.19.0.80 80 n1",
		  "usage: flow-del PROTO SRC SPORT DST DPORT");
	ask_usage(f, "flow-del icmp 198.18.5.1 1000 198.19.0.80 80",
		  "flow-del: protocol expects tcp, udp or a number in 1..255");
	ask_usage(f, "flow-del tcp x 1000 198.19.0.80 80",
		  "flow-del: source expects an IPv4 or IPv6 address");
	ask_usage(f, "flow-del tcp 198.18.5.1 1000 y 80",
		  "flow-del: destination expects an IPv4 or IPv6 address");
	ask_usage(f, "flow-del tcp 2001:db8::1 1000 198.19.0.80 80",
		  "flow-del: source and destination are of two address "
		  "families");
	ask_usage(f, "flow-del tcp 198.18.5.1 99999 198.19.0.80 80",
		  "flow-del: source port expects an integer in 0..65535");
	ask_usage(f, "flow-del tcp 198.18.5.1 1000 198.19.0.80 +80",
		  "flow-del: destination port expects an integer in 0..65535");
	assert_int_equal(fsc_count(fastpath_fsc(steerd_fastpath(&f->d))), 1);
}

static void test_admin_bad_requests(void **state)
{
	struct fx *f = *state;
	char req[256];

	ask_usage(f, "", "empty request");
	ask_usage(f, " \t ", "empty request");
	ask_usage(f, "bogus", "unknown command 'bogus' (try 'help')");
	ask_usage(f, "Version", "unknown command 'Version' (try 'help')");
	/* What goes into the message is escaped: quote and backslash. */
	ask_usage(f, "bo\"gus\\",
		  "unknown command 'bo\\\"gus\\\\' (try 'help')");
	/* A long name is cut at 40 bytes. */
	memset(req, 'x', 60);
	req[60] = '\0';
	ask_usage(f, req,
		  "unknown command 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx' "
		  "(try 'help')");
	ask_usage(f, "a b c d e f g h i j k l m n o p q", "more than 16 words");
	ask_usage(
		f,
		"flow-set tcp 198.18.5.1 1 198.18.5.2 2 n2 1 1 1 1 1 1 1 1 1 1",
		"more than 16 words");
}

/* Not UTF-8, not ASCII, control bytes: a refusal, in valid JSON. */
static void test_admin_not_utf8(void **state)
{
	static const char *const reqs[] = {
		"version \xff",
		"\xc3\x28",
		"nodes\xed\xa0\x80",
		"\xe9t\xe9",
		"flows limit \x01",
		"version\x7f",
		"unknown \xf0\x9f\x98\x80", /* UTF-8, but not ASCII */
	};
	struct fx *f = *state;
	size_t i;

	for (i = 0; i < sizeof(reqs) / sizeof(reqs[0]); i++)
		ask_usage(f, reqs[i],
			  "request holds a byte that is not printable ASCII");
}

/* A config path that is not UTF-8 comes out as U+FFFD, still JSON. */
static void test_admin_path_not_utf8(void **state)
{
	struct fx *f = *state;

	/* Each Latin-1 byte is U+FFFD, written as the character (jansson
	 * escapes only '"', '\\' and control characters). */
	assert_int_equal(ask(f, "version"), 0);
	assert_has(f->out,
		   "\"config\":\"/tmp/ut-steerd-\xef\xbf\xbd\xef\xbf\xbd-");
	assert_has(f->out, "/steerd.conf\",\"cluster_file\":\"/tmp/ut-steerd-"
			   "\xef\xbf\xbd\xef\xbf\xbd-");
	assert_has_not(f->w.buf, "\xff");
}

/* --- steerd_reload ----------------------------------------------------- */

static void test_reload_same(void **state)
{
	struct fx *f = *state;
	struct steerd_world *old = f->d.world;

	set_three_flows(f);
	assert_int_equal(steerd_reload(&f->d), 0);
	assert_ptr_not_equal(f->d.world, old);
	assert_int_equal(f->d.st.generation, 2);
	assert_int_equal(f->d.st.reloads_failed, 0);
	assert_int_equal(f->d.st.flows_carried, 3);
	assert_string_equal(f->d.last_error, "");
	assert_int_equal(ask(f, "flows"), 0);
	assert_has(f->out, "\"count\":3,");
	assert_has(f->out, FLOW_A);
	assert_has(f->out, FLOW_B);
	assert_has(f->out, FLOW_C);
	assert_int_equal(ask(f, "version"), 0);
	assert_has(f->out, "\"generation\":2,\"last_reload_error\":null,");
}

static void test_reload_changed_cluster(void **state)
{
	struct fx *f = *state;

	set_three_flows(f);
	cluster_from(f, "cluster-reload.conf");
	assert_int_equal(steerd_reload(&f->d), 0);
	assert_string_equal(f->d.last_error, "");
	assert_int_equal(f->d.st.generation, 2);
	/* n3 is gone: its flow is decided again, the other two carried. */
	assert_int_equal(f->d.st.flows_carried, 2);
	assert_int_equal(f->d.world->cluster.n_nodes, 3);
	assert_non_null(cluster_node_by_name(&f->d.world->cluster, "n4"));
	assert_null(cluster_node_by_name(&f->d.world->cluster, "n3"));

	assert_int_equal(ask(f, "flows"), 0);
	assert_has(f->out, "{\"ok\":true,\"result\":{\"count\":2,");
	assert_has(f->out, FLOW_A);
	assert_has(f->out, FLOW_B);
	assert_has_not(f->out, "\"owner\":3");
	assert_has(f->out, "\"shown\":2,");

	assert_int_equal(ask(f, "nodes"), 0);
	assert_has(f->out,
		   "{\"id\":4,\"name\":\"n4\",\"address\":"
		   "\"198.18.0.4\",\"address6\":null,\"mac\":"
		   "\"02:00:00:00:00:04\",\"via\":null,\"self\":false,");
	assert_has_not(f->out, "\"n3\"");
	assert_int_equal(ask(f, "templates"), 0);
	assert_has(f->out, "{\"target\":\"node\",\"name\":\"n4\",\"id\":4,"
			   "\"kind\":\"gue0\",\"family\":4,\"src\":"
			   "\"198.18.0.1\",\"dst\":\"198.18.0.4\",");
	assert_int_equal(ask(f, "counters"), 0);
	assert_has(f->out, "\"daemon\":{\"generation\":2,"
			   "\"reloads_failed\":0,\"flows_carried\":2,");
	/* New flows may go to n4 now, and no more to n3. */
	ask_ok(f, "flow-set tcp 198.18.5.9 9 198.19.0.80 80 n4 1",
	       "{\"ok\":true,\"result\":{\"flow\":{\"proto\":\"tcp\","
	       "\"src\":\"198.18.5.9\",\"sport\":9,\"dst\":\"198.19.0.80\","
	       "\"dport\":80},\"owner\":4,\"epoch\":1}}");
	ask_err(f, "flow-set tcp 198.18.5.9 9 198.19.0.80 80 n3 1",
		"flow-set: owner expects a node id or name of the cluster");
}

/* What a failed reload must leave as it was. */
static void assert_old_world(struct fx *f, const struct steerd_world *old,
			     uint64_t failed)
{
	assert_ptr_equal(f->d.world, old);
	assert_int_equal(f->d.st.generation, 1);
	assert_int_equal(f->d.st.reloads_failed, failed);
	assert_string_equal(f->d.world->conf.interface, "eth0");
	assert_int_equal(f->d.world->conf.mode, FP_MODE_CELL);
	assert_int_equal(f->d.world->conf.gossip_port, 7946);
	assert_string_equal(f->d.world->conf.key_file, "");
	assert_int_equal(f->d.world->cluster.n_nodes, 3);
	assert_non_null(cluster_node_by_name(&f->d.world->cluster, "n3"));
	assert_int_equal(fsc_count(fastpath_fsc(steerd_fastpath(&f->d))), 3);
}

static void test_reload_restart_keys(void **state)
{
	static const struct {
		const char *key, *line;
	} rows[] = {
		{"admin-socket", "admin-socket /tmp/ut-steerd-other.sock"},
		{"interface", "interface eth1"},
		{"gossip-port", "gossip-port 7947"},
		{"mode", "mode host"},
		{"cluster-key-file", "cluster-key-file cluster.key"},
		{"bpf-pin-dir", "bpf-pin-dir /sys/fs/bpf/ut-steer"},
		{"cgroup", "cgroup /sys/fs/cgroup/ut-steer"},
		{"xdp", "xdp off"},
	};
	struct fx *f = *state;
	struct steerd_world *old = f->d.world;
	char path[PATH_MAX + 16];
	size_t i;

	snprintf(path, sizeof(path), "%s/cluster.key", f->dir);
	assert_int_equal(write_file(path, key_hex, strlen(key_hex)), 0);
	assert_int_equal(chmod(path, 0600), 0); /* keys are the owner's */
	set_three_flows(f);
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		conf_with(f, rows[i].key, rows[i].line);
		if (steerd_reload(&f->d) != -EINVAL)
			fail_msg("%s: reload did not fail", rows[i].key);
		snprintf(f->want, sizeof(f->want), "%s: '%s'" RESTART, f->conf,
			 rows[i].key);
		if (strcmp(f->d.last_error, f->want))
			fail_msg("%s:\n  got  '%s'\n  want '%s'", rows[i].key,
				 f->d.last_error, f->want);
		assert_old_world(f, old, i + 1);
	}
	/* The last error shows in version and counters. */
	assert_int_equal(ask(f, "version"), 0);
	snprintf(f->want, sizeof(f->want),
		 "\"generation\":1,\"last_reload_error\":\"%s: 'xdp'" RESTART
		 "\"",
		 f->conf);
	assert_has(f->out, f->want);
	assert_int_equal(ask(f, "counters"), 0);
	assert_has(f->out, "\"daemon\":{\"generation\":1,"
			   "\"reloads_failed\":8,");

	/* log-level is not one of them; and the error is cleared. */
	conf_with(f, "log-level", "log-level debug");
	assert_int_equal(steerd_reload(&f->d), 0);
	assert_string_equal(f->d.last_error, "");
	assert_int_equal(f->d.st.generation, 2);
	assert_int_equal(f->d.world->conf.log_level, LOG_DEBUG);
	assert_int_equal(log_get_level(), LOG_ERR); /* the command line wins */
	assert_int_equal(f->d.st.flows_carried, 3);
}

/* Two keys changed: the first of the check's order is named. */
static void test_reload_two_keys(void **state)
{
	struct fx *f = *state;

	conf_with(f, "interface", "xdp off\ninterface eth9");
	assert_int_equal(steerd_reload(&f->d), -EINVAL);
	snprintf(f->want, sizeof(f->want), "%s: 'interface'" RESTART, f->conf);
	assert_string_equal(f->d.last_error, f->want);
}

static void test_reload_bad_files(void **state)
{
	struct fx *f = *state;
	struct steerd_world *old = f->d.world;
	char key[PATH_MAX + 16];
	uint64_t n = 0;

	set_three_flows(f);

	/* A bad steerd file. */
	conf_with(f, "gossip-port", "gossip-port 0");
	assert_int_equal(steerd_reload(&f->d), -EINVAL);
	snprintf(f->want, sizeof(f->want),
		 "%s:5: 'gossip-port' expects an integer in 1..65535, got '0'",
		 f->conf);
	assert_string_equal(f->d.last_error, f->want);
	assert_old_world(f, old, ++n);

	/* A bad cluster description. */
	conf_with(f, NULL, NULL);
	assert_int_equal(write_file(f->cluster, "cluster lab\nself n7\n", 20),
			 0);
	assert_int_equal(steerd_reload(&f->d), -EINVAL);
	snprintf(f->want, sizeof(f->want), "%s: no 'node' declared",
		 f->cluster);
	assert_string_equal(f->d.last_error, f->want);
	assert_old_world(f, old, ++n);

	/* This node's id changed. */
	cluster_from(f, "cluster.conf");
	file_replace(f->cluster, "node n1 id 1 ", "node n1 id 9 ");
	assert_int_equal(steerd_reload(&f->d), -EINVAL);
	snprintf(f->want, sizeof(f->want),
		 "%s: this node changed from id 1 to id 9: restart steerd for "
		 "it",
		 f->cluster);
	assert_string_equal(f->d.last_error, f->want);
	assert_old_world(f, old, ++n);

	/* The cells' ports: every node's, so a restart of every node. */
	cluster_from(f, "cluster.conf");
	file_append(f->cluster, "cell-ports 7100 7101\n");
	assert_int_equal(steerd_reload(&f->d), -EINVAL);
	snprintf(f->want, sizeof(f->want),
		 "%s: 'cell-ports' changed: restart steerd for it (and every "
		 "node: they must agree)",
		 f->cluster);
	assert_string_equal(f->d.last_error, f->want);
	assert_old_world(f, old, ++n);

	/* Gossip on the cells' control port (the default): both UDP. */
	cluster_from(f, "cluster.conf");
	conf_with(f, "gossip-port", "gossip-port 6092");
	assert_int_equal(steerd_reload(&f->d), -EINVAL);
	snprintf(f->want, sizeof(f->want),
		 "%s: 'gossip-port' 6092 is the cluster's cell control port "
		 "('cell-ports'): a cell takes both in UDP",
		 f->conf);
	assert_string_equal(f->d.last_error, f->want);
	assert_old_world(f, old, ++n);
	conf_with(f, "gossip-port", "gossip-port 6080");
	assert_int_equal(steerd_reload(&f->d), -EINVAL);
	snprintf(f->want, sizeof(f->want),
		 "%s: 'gossip-port' 6080 is the cluster's GUE port "
		 "('gue-port'): a cell takes both in UDP",
		 f->conf);
	assert_string_equal(f->d.last_error, f->want);
	assert_old_world(f, old, ++n);

	/* A cluster key file that is not one (read before the check). */
	cluster_from(f, "cluster.conf");
	snprintf(key, sizeof(key), "%s/bad.key", f->dir);
	assert_int_equal(write_file(key, "0123\n", 5), 0);
	assert_int_equal(chmod(key, 0600), 0);
	conf_with(f, "cluster-key-file", "cluster-key-file bad.key");
	assert_int_equal(steerd_reload(&f->d), -EINVAL);
	snprintf(f->want, sizeof(f->want),
		 "%s: a cluster key is 32 raw bytes or 64 hex digits", key);
	assert_string_equal(f->d.last_error, f->want);
	assert_old_world(f, old, ++n);

	/* A good key others may read: refused all the same. */
	assert_int_equal(write_file(key, key_hex, strlen(key_hex)), 0);
	assert_int_equal(chmod(key, 0644), 0);
	assert_int_equal(steerd_reload(&f->d), -EPERM);
	snprintf(f->want, sizeof(f->want),
		 "%s: its group or others may read or write it: a cluster key "
		 "must be the owner's alone (chmod 600)",
		 key);
	assert_string_equal(f->d.last_error, f->want);
	assert_old_world(f, old, ++n);

	/* The steerd file gone. */
	assert_int_equal(unlink(f->conf), 0);
	assert_int_equal(steerd_reload(&f->d), -ENOENT);
	snprintf(f->want, sizeof(f->want), "%s: No such file or directory",
		 f->conf);
	assert_string_equal(f->d.last_error, f->want);
	assert_old_world(f, old, ++n);

	/* Put right: the reload goes through, the flows with it. */
	conf_with(f, NULL, NULL);
	assert_int_equal(steerd_reload(&f->d), 0);
	assert_string_equal(f->d.last_error, "");
	assert_int_equal(f->d.st.generation, 2);
	assert_int_equal(f->d.st.reloads_failed, n);
	assert_int_equal(f->d.st.flows_carried, 3);
}

/* --- the socket, through the loop -------------------------------------- */

static int client_connect(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Run the loop and read until the server closes; bytes read or -1. */
static ssize_t pump_until_eof(struct fx *f, int fd, char *buf, size_t len)
{
	size_t got = 0;
	int round;

	for (round = 0; round < 500; round++) {
		ssize_t n;

		if (evloop_run_once(f->d.el, 10) < 0)
			return -1;
		for (;;) {
			n = recv(fd, buf + got, len - 1 - got, MSG_DONTWAIT);
			if (n <= 0)
				break;
			got += (size_t)n;
		}
		if (n == 0) {
			buf[got] = '\0';
			return (ssize_t)got;
		}
	}
	return -1;
}

static void test_socket_requests(void **state)
{
	static const char reqs[] = "version\n"
				   "flows limit 0\r\n"
				   "version \xff\xfe\n"
				   "nodes"; /* the last without its newline */
	struct fx *f = *state;
	const struct admin_stats *as = admin_stats(f->d.admin);
	char buf[16384], *line, *save = NULL;
	int fd = client_connect(f->sock), n = 0;
	ssize_t got;

	assert_true(fd >= 0);
	assert_int_equal(send(fd, reqs, sizeof(reqs) - 1, 0),
			 (ssize_t)sizeof(reqs) - 1);
	assert_int_equal(shutdown(fd, SHUT_WR), 0);
	got = pump_until_eof(f, fd, buf, sizeof(buf));
	close(fd);
	assert_true(got > 0);
	assert_int_equal(buf[got - 1], '\n');
	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save), n++) {
		if (!json_valid(line, strlen(line)))
			fail_msg("answer %d is not JSON: %s", n, line);
		switch (n) {
		case 0:
			assert_prefix(line, "{\"ok\":true,\"result\":{"
					    "\"steerd\":\"0.1.0\",");
			break;
		case 1:
			assert_string_equal(line,
					    "{\"ok\":false,\"error\":\"flows: "
					    "'limit' expects an integer in "
					    "1..100000\",\"usage\":true}");
			break;
		case 2:
			assert_string_equal(
				line, "{\"ok\":false,\"error\":\"request "
				      "holds a byte that is not "
				      "printable ASCII\",\"usage\":true}");
			break;
		case 3:
			assert_prefix(line, "{\"ok\":true,\"result\":{"
					    "\"nodes\":[{\"id\":1,");
			break;
		}
	}
	assert_int_equal(n, 4);
	assert_int_equal(as->requests, 4);
	assert_int_equal(as->errors, 2);
	assert_int_equal(as->accepted, 1);
	assert_int_equal(as->clients, 0);
	assert_int_equal(as->too_long, 0);
}

static void test_socket_too_long(void **state)
{
	struct fx *f = *state;
	const struct admin_stats *as = admin_stats(f->d.admin);
	char req[ADMIN_REQ_MAX + 100], buf[1024];
	int fd = client_connect(f->sock);
	ssize_t got;

	assert_true(fd >= 0);
	memset(req, 'a', sizeof(req));
	req[sizeof(req) - 1] = '\n';
	assert_int_equal(send(fd, req, sizeof(req), 0), (ssize_t)sizeof(req));
	got = pump_until_eof(f, fd, buf, sizeof(buf));
	close(fd);
	assert_true(got > 0);
	assert_string_equal(buf, "{\"ok\":false,\"error\":\"request too long\","
				 "\"usage\":true}\n");
	assert_int_equal(as->too_long, 1);
	assert_int_equal(as->requests, 1);
	assert_int_equal(as->errors, 1);
	assert_int_equal(as->clients, 0);
}

/* ADMIN_REQ_MAX bytes with the newline: the longest request answered. */
static void test_socket_longest_request(void **state)
{
	struct fx *f = *state;
	const struct admin_stats *as = admin_stats(f->d.admin);
	char req[ADMIN_REQ_MAX], buf[4096];
	int fd = client_connect(f->sock);
	ssize_t got;

	assert_true(fd >= 0);
	memset(req, ' ', sizeof(req));
	memcpy(req, "flows", 5);
	req[sizeof(req) - 1] = '\n';
	assert_int_equal(send(fd, req, sizeof(req), 0), (ssize_t)sizeof(req));
	assert_int_equal(shutdown(fd, SHUT_WR), 0);
	got = pump_until_eof(f, fd, buf, sizeof(buf));
	close(fd);
	assert_true(got > 0);
	assert_string_equal(buf, "{\"ok\":true,\"result\":{\"count\":0,"
				 "\"capacity\":1024,\"limit\":100,"
				 "\"flows\":[],\"shown\":0,"
				 "\"source\":\"userspace\"}}\n");
	assert_int_equal(as->too_long, 0);
	assert_int_equal(as->requests, 1);
	assert_int_equal(as->errors, 0);
}

/* A test with a running daemon, or with the files only. */
#define UP(fn) cmocka_unit_test_setup_teardown(fn, setup_up, teardown)
#define FILES(fn) cmocka_unit_test_setup_teardown(fn, setup_files, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_validator),
		UP(test_init_fixture),
		FILES(test_init_missing_config),
		FILES(test_init_bad_fixtures),
		UP(test_init_socket_in_use),
		FILES(test_init_socket_not_a_socket),
		FILES(test_init_socket_stale),
		FILES(test_init_socket_paths),
		FILES(test_init_admin_path_too_long),
		UP(test_admin_version),
		UP(test_admin_nodes),
		UP(test_admin_nodes_provider),
		UP(test_admin_templates),
		UP(test_admin_shards),
		UP(test_admin_forecast),
		UP(test_admin_help),
		UP(test_admin_counters),
		UP(test_admin_flows),
		UP(test_admin_flow_set_errors),
		UP(test_admin_flow_del),
		UP(test_admin_bad_requests),
		UP(test_admin_not_utf8),
		cmocka_unit_test_setup_teardown(test_admin_path_not_utf8,
						setup_up_latin1, teardown),
		UP(test_reload_same),
		UP(test_reload_changed_cluster),
		UP(test_reload_restart_keys),
		UP(test_reload_two_keys),
		UP(test_reload_bad_files),
		UP(test_socket_requests),
		UP(test_socket_too_long),
		UP(test_socket_longest_request),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

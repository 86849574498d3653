// SPDX-License-Identifier: GPL-2.0-only
/*
 * steerctl: what it asks of jansson when it reads an answer, its JSON
 * output (-j, -p), its text renderer on fixed inputs, and the program end
 * to end against a real steerd.
 *
 * The end-to-end group runs build/bin/steerd (STEER_BIN, else ../bin
 * beside this test) non-root on a copy of tests/fixtures/steerd/ in a
 * temporary directory whose admin-socket points into that directory. The
 * daemon dies with this test (PR_SET_PDEATHSIG) and is stopped by its PID
 * in the group teardown; every child is waited for with a deadline, and
 * an alarm ends the whole test if something still hangs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <cmocka.h>

/* steerctl is not part of the steer library: compile its modules here. */
#include "ctl/render.c"
#include "util/version.h"

#define TEST_WATCHDOG_S 120
#define CHILD_DEADLINE_MS 10000

static bool starts_with(const char *s, const char *prefix)
{
	return !strncmp(s, prefix, strlen(prefix));
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && !strcmp(s + n - m, suffix);
}

/* --- JSON through jansson ---------------------------------------------- */

/* in, any JSON value, as steerctl's renderer and printer get it. */
static json_t *load_ok(const char *in)
{
	json_error_t jerr;
	json_t *v = json_loads(in, JSON_DECODE_ANY, &jerr);

	if (!v)
		fail_msg("'%s': %s", in, jerr.text);
	return v;
}

/*
 * What steerctl asks of jansson when it reads an answer (flags 0): a
 * \u0000, an integer past INT64_MAX and a second top value are refused;
 * a key given twice keeps the last value.
 */
static void test_json_read(void **state)
{
	static const char *const bad[] = {
		"{\"a\":\"x\\u0000\"}",
		"{\"a\":9223372036854775808}",
		"{\"a\":1} {}",
		"{\"a\":1,}",
		"{\"a\":01}",
		"{\"a\":\"\xff\"}",
		"\"top\"",
	};
	json_error_t jerr;
	json_t *v;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		v = json_loads(bad[i], 0, &jerr);
		if (v)
			fail_msg("'%s' was read", bad[i]);
	}
	v = json_loads("{\"a\":1,\"b\":2,\"a\":3}", 0, &jerr);
	assert_non_null(v);
	assert_int_equal(json_integer_value(json_object_get(v, "a")), 3);
	json_decref(v);
	v = json_loads("{\"a\":9223372036854775807}", 0, &jerr);
	assert_non_null(v);
	assert_true(json_integer_value(json_object_get(v, "a")) == INT64_MAX);
	json_decref(v);
}

/* --- JSON: writing (-j, -p) --------------------------------------------- */

static char *json_to_str(const char *in, bool indent)
{
	json_t *v = load_ok(in);
	size_t len;
	char *buf;
	FILE *f;

	f = open_memstream(&buf, &len);
	assert_non_null(f);
	assert_int_equal(render_json(f, v, indent), 0);
	fclose(f);
	json_decref(v);
	return buf;
}

static void test_json_write(void **state)
{
	static const char in[] = "{ \"a\" : [1.50, -0, {}, 0.333333, 1.5e-7, "
				 "1.23457e6, 12345678901234], \"b\":\"x\\u0001"
				 "\\n\\\"\\u00e9\\u007f/\", \"c\":[] ,\"d\":"
				 "{\"e\":null,\"f\":true}}";
	char *s;

	/* Reals to 15 digits (jansson adds ".0" to an integral one and
	 * drops an exponent's '+' and leading zeros); control characters
	 * escaped, in upper-case hex but for the short forms. */
	s = json_to_str(in, false);
	assert_string_equal(s, "{\"a\":[1.5,0,{},0.333333,1.5e-7,1234570.0,"
			       "12345678901234],\"b\":\"x\\u0001\\n\\\""
			       "\xc3\xa9\x7f/\",\"c\":[],\"d\":{\"e\":null,"
			       "\"f\":true}}");
	free(s);
	s = json_to_str(in, true);
	assert_string_equal(s, "{\n"
			       "    \"a\": [\n"
			       "        1.5,\n"
			       "        0,\n"
			       "        {},\n"
			       "        0.333333,\n"
			       "        1.5e-7,\n"
			       "        1234570.0,\n"
			       "        12345678901234\n"
			       "    ],\n"
			       "    \"b\": \"x\\u0001\\n\\\"\xc3\xa9\x7f/\",\n"
			       "    \"c\": [],\n"
			       "    \"d\": {\n"
			       "        \"e\": null,\n"
			       "        \"f\": true\n"
			       "    }\n"
			       "}");
	free(s);
}

/* --- The renderer ----------------------------------------------------- */

static char *render_str(const char *in, unsigned flags)
{
	json_t *v = load_ok(in);
	size_t len;
	char *buf;
	FILE *f;

	f = open_memstream(&buf, &len);
	assert_non_null(f);
	assert_int_equal(render_value(f, v, flags), 0);
	fclose(f);
	json_decref(v);
	return buf;
}

#define assert_render(in, flags, want)                                         \
	do {                                                                   \
		char *got_ = render_str(in, flags);                            \
		if (strcmp(got_, want))                                        \
			fail_msg("render of %s:\n--- got\n%s--- want\n%s---",  \
				 in, got_, want);                              \
		free(got_);                                                    \
	} while (0)

static void test_render_scalars(void **state)
{
	assert_render("\"text as it is\"", 0, "text as it is\n");
	assert_render("\"\"", 0, "-\n");
	/* Numbers as jansson read them: an integer exactly, a real to 15
	 * digits. */
	assert_render("12.50", 0, "12.5\n");
	assert_render("-7", 0, "-7\n");
	assert_render("0.333333", 0, "0.333333\n");
	assert_render("1.23457e6", 0, "1234570\n");
	assert_render("true", 0, "true\n");
	assert_render("null", 0, "-\n"); /* the daemon's "no value" */
	assert_render("[1,\"a\",false]", 0, "1,a,false\n");
	assert_render("[]", 0, "-\n");
	assert_render("{}", 0, "-\n");
	/* Control bytes never reach the terminal raw. */
	assert_render("\"a\\u001b[31mb\\u007f\\nc\"", 0,
		      "a\\x1b[31mb\\x7f\\x0ac\n");
}

static void test_render_object(void **state)
{
	assert_render("{\"steerd\":\"0.1.0\",\"protocol\":1,\"self\":\"n1\","
		      "\"keyed\":false,\"last_error\":\"\",\"mirrors\":[2,3],"
		      "\"none\":[],\"sub\":{\"a\":1,\"longer\":{\"x\":null}},"
		      "\"z\":0}",
		      0,
		      "steerd      0.1.0\n"
		      "protocol    1\n"
		      "self        n1\n"
		      "keyed       false\n"
		      "last_error  -\n"
		      "mirrors     2,3\n"
		      "none        -\n"
		      "sub\n"
		      "  a  1\n"
		      "  longer\n"
		      "    x  -\n"
		      "z           0\n");
	/* UTF-8 takes one column per character, escapes four. */
	assert_render("{\"\xc3\xa9t\xc3\xa9\":1,\"ab\":2,\"\\u0001\":3}", 0,
		      "\xc3\xa9t\xc3\xa9   1\n"
		      "ab    2\n"
		      "\\x01  3\n");
}

static void test_render_table(void **state)
{
	assert_render("{\"count\":2,\"flows\":[{\"proto\":\"tcp\",\"sport\":80,"
		      "\"mirrors\":[2,3],\"extra\":{\"k\":\"v\\n\"}},"
		      "{\"proto\":\"udp\",\"sport\":5353,\"mirrors\":[],"
		      "\"state\":\"new\",\"src\":\"\"}],\"shown\":2}",
		      0,
		      "count  2\n"
		      "flows\n"
		      "  PROTO  SPORT  MIRRORS  EXTRA        STATE  SRC\n"
		      "  tcp       80  2,3      {\"k\":\"v\\n\"}  -      -\n"
		      "  udp     5353  -        -            new    -\n"
		      "shown  2\n");
	/* A number-only column is right-aligned, its header too; a column
	 * with one string in it is not. */
	assert_render("[{\"id\":1,\"mixed\":1,\"name\":\"a\"},"
		      "{\"id\":100,\"mixed\":\"x\",\"name\":\"\xc3\xa9\xc3\xa9"
		      "\"}]",
		      0,
		      " ID  MIXED  NAME\n"
		      "  1  1      a\n"
		      "100  x      \xc3\xa9\xc3\xa9\n");
	/* The top's only member, when it is compound, loses its key. */
	assert_render("{\"nodes\":[{\"id\":1,\"name\":\"n1\"},"
		      "{\"id\":2,\"name\":\"n2\"}]}",
		      0,
		      "ID  NAME\n"
		      " 1  n1\n"
		      " 2  n2\n");
	assert_render("{\"only\":{\"a\":1}}", 0, "a  1\n");
	assert_render("{\"only\":1}", 0, "only  1\n");
	/* A key given twice in a row: jansson keeps the last value. */
	assert_render("[{\"a\":1,\"a\":2}]", 0, "A\n2\n");
}

static void test_render_wide_and_mixed(void **state)
{
	char in[2048], *got;
	size_t len = 0;
	int i;

	/* One column too many for a table: objects one after the other. */
	len += (size_t)sprintf(in + len, "[{\"k\":1},{");
	for (i = 0; i < RENDER_TABLE_MAX_COLS; i++)
		len += (size_t)sprintf(in + len, "%s\"c%d\":%d", i ? "," : "",
				       i, i);
	sprintf(in + len, "}]");
	got = render_str(in, 0);
	assert_true(starts_with(got, "k  1\n\nc0   0\nc1   1\n"));
	assert_non_null(strstr(got, "\nc63  63\n"));
	free(got);
	/* Neither all scalars nor all objects: item by item. */
	assert_render("[1,{\"a\":2},[3,4],[{\"b\":5}]]", 0,
		      "1\n"
		      "a  2\n"
		      "3,4\n"
		      "B\n"
		      "5\n");
}

static void test_render_hide_zero(void **state)
{
	static const char in[] =
		"{\"fastpath\":{\"rx_packets\":0,\"rx_bytes\":0},"
		"\"fsc\":{\"capacity\":1024,\"count\":0,\"memory\":65536},"
		"\"admin\":{\"requests\":3,\"errors\":0.0,\"name\":\"\"},"
		"\"deep\":{\"a\":{\"b\":0}},\"list\":[0],\"top\":0}";
	json_t *v;

	assert_render(in, RENDER_HIDE_ZERO,
		      "fsc\n"
		      "  capacity  1024\n"
		      "  memory    65536\n"
		      "admin\n"
		      "  requests  3\n"
		      "  name      -\n"
		      "list  0\n");
	v = load_ok("{\"a\":{\"b\":0},\"c\":0}");
	assert_false(render_visible(v, RENDER_HIDE_ZERO));
	assert_true(render_visible(v, 0));
	json_decref(v);
}

/* --- End to end -------------------------------------------------------- */

struct e2e {
	char dir[64];
	char sock[PATH_MAX];
	char steerd[PATH_MAX], steerctl[PATH_MAX];
	pid_t pid; /* steerd's */
};

struct run {
	int status; /* exit status; -1 when killed */
	char *out, *err;
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {.tv_sec = ms / 1000,
			      .tv_nsec = (ms % 1000) * 1000000};

	nanosleep(&ts, NULL);
}

/* Wait for pid up to ms; kill it by its PID past that. Its status. */
static int child_wait(pid_t pid, uint64_t ms)
{
	uint64_t end = now_ms() + ms;
	int st;

	for (;;) {
		pid_t r = waitpid(pid, &st, WNOHANG);

		if (r == pid)
			return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
		if (r < 0)
			return -1;
		if (now_ms() >= end) {
			kill(pid, SIGKILL);
			waitpid(pid, &st, 0);
			return -1;
		}
		sleep_ms(5);
	}
}

/* A child that dies with this test, whatever ends it. */
static pid_t child_fork(void)
{
	pid_t parent = getpid(), pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(127);
	}
	return pid;
}

static char *file_read(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t cap = 0, len = 0, n;

	if (!f)
		return strdup("");
	do {
		if (cap - len < 4096) {
			cap = cap ? cap * 2 : 8192;
			buf = realloc(buf, cap);
			assert_non_null(buf);
		}
		n = fread(buf + len, 1, cap - len - 1, f);
		len += n;
	} while (n);
	fclose(f);
	buf[len] = '\0';
	return buf;
}

static void path_in(const struct e2e *e, char *buf, size_t len,
		    const char *name)
{
	snprintf(buf, len, "%s/%s", e->dir, name);
}

/* Start bin with argv (NULL-ended, argv[0] ignored); see run_end. */
static pid_t run_start_bin(const struct e2e *e, const char *bin,
			   char *const *argv, const char *env_sock)
{
	char out[PATH_MAX], err[PATH_MAX];
	pid_t pid;
	int fd;

	path_in(e, out, sizeof(out), "ctl.out");
	path_in(e, err, sizeof(err), "ctl.err");
	pid = child_fork();
	if (pid)
		return pid;
	fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || dup2(fd, 1) < 0)
		_exit(126);
	fd = open(err, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || dup2(fd, 2) < 0)
		_exit(126);
	if (env_sock)
		setenv("STEER_SOCKET", env_sock, 1);
	else
		unsetenv("STEER_SOCKET");
	execv(bin, argv);
	_exit(127);
}

/* Start steerctl with argv (NULL-ended, argv[0] ignored); see run_end. */
static pid_t run_start(const struct e2e *e, char *const *argv,
		       const char *env_sock)
{
	return run_start_bin(e, e->steerctl, argv, env_sock);
}

static void run_end(const struct e2e *e, pid_t pid, struct run *r)
{
	char path[PATH_MAX];

	r->status = child_wait(pid, CHILD_DEADLINE_MS);
	path_in(e, path, sizeof(path), "ctl.out");
	r->out = file_read(path);
	path_in(e, path, sizeof(path), "ctl.err");
	r->err = file_read(path);
}

static void run_free(struct run *r)
{
	free(r->out);
	free(r->err);
}

#define CTL(e, r, ...)                                                         \
	do {                                                                   \
		char *argv_[] = {"steerctl", __VA_ARGS__, NULL};               \
		run_end(e, run_start(e, argv_, NULL), r);                      \
	} while (0)

static int sock_listen(const char *path, int backlog)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || strlen(path) >= sizeof(sa.sun_path))
		return -1;
	strcpy(sa.sun_path, path);
	unlink(path);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    listen(fd, backlog)) {
		close(fd);
		return -1;
	}
	return fd;
}

static int sock_connect(const char *path)
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

/* Read fd up to a newline or EOF, for at most ms; malloc'd. */
static char *sock_read_line(int fd, int ms)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	size_t cap = 1 << 16, len = 0;
	char *buf = malloc(cap);
	ssize_t n;

	assert_non_null(buf);
	while (len + 1 < cap && poll(&p, 1, ms) == 1) {
		n = read(fd, buf + len, cap - len - 1);
		if (n <= 0)
			break;
		len += (size_t)n;
		if (memchr(buf, '\n', len))
			break;
	}
	buf[len] = '\0';
	return buf;
}

/* The daemon's raw answer to req, newline included. */
static char *raw_ask(const struct e2e *e, const char *req)
{
	int fd = sock_connect(e->sock);
	char *ans;

	assert_true(fd >= 0);
	assert_int_equal(write(fd, req, strlen(req)), (ssize_t)strlen(req));
	ans = sock_read_line(fd, 5000);
	close(fd);
	return ans;
}

static void fixture_copy(const char *src, const char *dst,
			 const char *sock_line)
{
	FILE *in = fopen(src, "r"), *out = fopen(dst, "w");
	char line[1024];
	bool done = false;

	assert_non_null(in);
	assert_non_null(out);
	while (fgets(line, sizeof(line), in)) {
		if (sock_line && !strncmp(line, "admin-socket", 12)) {
			fputs(sock_line, out);
			done = true;
			continue;
		}
		fputs(line, out);
	}
	if (sock_line && !done)
		fputs(sock_line, out);
	fclose(in);
	assert_int_equal(fclose(out), 0);
}

static void dir_remove(const char *dir)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *d = opendir(dir);

	if (!d)
		return;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		unlink(path);
	}
	closedir(d);
	rmdir(dir);
}

/* The binaries: STEER_BIN, else ../bin beside this test's executable. */
static void bin_dir(char *buf, size_t len)
{
	const char *env = getenv("STEER_BIN");
	char exe[PATH_MAX], *slash;
	ssize_t n;

	if (env && env[0]) {
		snprintf(buf, len, "%s", env);
		return;
	}
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	assert_true(n > 0);
	exe[n] = '\0';
	slash = strrchr(exe, '/');
	assert_non_null(slash);
	*slash = '\0';
	assert_true(snprintf(buf, len, "%s/../bin", exe) < (int)len);
}

/* The fixtures: STEER_SRC, else where this file says it lives. */
static void fixture_dir(char *buf, size_t len)
{
	const char *env = getenv("STEER_SRC");
	char src[PATH_MAX], *p;

	if (env && env[0]) {
		snprintf(buf, len, "%s/tests/fixtures/steerd", env);
		return;
	}
	snprintf(src, sizeof(src), "%s", __FILE__);
	p = strstr(src, "/unit/steerctl_test.c");
	assert_non_null(p);
	*p = '\0';
	assert_true(snprintf(buf, len, "%s/fixtures/steerd", src) < (int)len);
}

static int e2e_setup(void **state)
{
	struct e2e *e = calloc(1, sizeof(*e));
	char fix[PATH_MAX / 2], bin[PATH_MAX / 2], src[PATH_MAX];
	char dst[PATH_MAX], conf[PATH_MAX], log[PATH_MAX], line[PATH_MAX + 32];
	uint64_t end;
	int fd;

	if (!e)
		return -1;
	e->pid = -1;
	*state = e;
	snprintf(e->dir, sizeof(e->dir), "/tmp/steerctl_test.XXXXXX");
	if (!mkdtemp(e->dir))
		return -1;
	bin_dir(bin, sizeof(bin));
	snprintf(e->steerd, sizeof(e->steerd), "%s/steerd", bin);
	snprintf(e->steerctl, sizeof(e->steerctl), "%s/steerctl", bin);
	if (access(e->steerd, X_OK) || access(e->steerctl, X_OK)) {
		fprintf(stderr, "no steerd or steerctl in %s (STEER_BIN)\n",
			bin);
		return -1;
	}
	path_in(e, e->sock, sizeof(e->sock), "steerd.sock");
	fixture_dir(fix, sizeof(fix));
	snprintf(src, sizeof(src), "%s/cluster.conf", fix);
	path_in(e, dst, sizeof(dst), "cluster.conf");
	fixture_copy(src, dst, NULL);
	snprintf(src, sizeof(src), "%s/steerd.conf", fix);
	path_in(e, conf, sizeof(conf), "steerd.conf");
	snprintf(line, sizeof(line), "admin-socket %s\n", e->sock);
	fixture_copy(src, conf, line);

	path_in(e, log, sizeof(log), "steerd.log");
	e->pid = child_fork();
	if (e->pid == 0) {
		fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (fd < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
			_exit(126);
		execl(e->steerd, "steerd", "--config", conf, "--foreground",
		      (char *)NULL);
		_exit(127);
	}
	/* Up when its socket answers; gone if it exited. */
	for (end = now_ms() + CHILD_DEADLINE_MS; now_ms() < end; sleep_ms(10)) {
		fd = sock_connect(e->sock);
		if (fd >= 0) {
			close(fd);
			return 0;
		}
		if (waitpid(e->pid, NULL, WNOHANG) == e->pid) {
			e->pid = -1;
			break;
		}
	}
	fprintf(stderr, "steerd did not come up; its log:\n%s", file_read(log));
	return -1;
}

static int e2e_teardown(void **state)
{
	struct e2e *e = *state;
	int st;

	if (!e)
		return 0;
	if (e->pid > 0) {
		kill(e->pid, SIGTERM);
		st = child_wait(e->pid, 3000);
		if (st)
			fprintf(stderr, "steerd stopped with status %d\n", st);
	}
	dir_remove(e->dir);
	free(e);
	return 0;
}

/* Does text hold the line "KEY<two or more blanks>VALUE"? */
static bool has_kv(const char *text, const char *key, const char *value)
{
	size_t kl = strlen(key), vl = strlen(value);
	const char *l, *p;

	for (l = text; *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : "") {
		if (strncmp(l, key, kl) || l[kl] != ' ' || l[kl + 1] != ' ')
			continue;
		for (p = l + kl; *p == ' '; p++)
			;
		if (!strncmp(p, value, vl) && p[vl] == '\n')
			return true;
	}
	return false;
}

static void test_e2e_version(void **state)
{
	struct e2e *e = *state;
	struct run r;

	CTL(e, &r, "-s", e->sock, "version");
	assert_int_equal(r.status, 0);
	assert_string_equal(r.err, "");
	assert_true(has_kv(r.out, "protocol", "1"));
	assert_true(has_kv(r.out, "cluster", "lab"));
	assert_true(has_kv(r.out, "self", "n1"));
	assert_true(has_kv(r.out, "mode", "cell"));
	assert_true(has_kv(r.out, "keyed", "false"));
	assert_true(has_kv(r.out, "last_reload_error", "-"));
	run_free(&r);
	/* No reload error is null, not "". */
	CTL(e, &r, "-s", e->sock, "-j", "version");
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "\"last_reload_error\":null,"));
	run_free(&r);
}

/* -V: steerctl's version, and the daemon's when it answers; 0 always. */
static void test_e2e_dash_version(void **state)
{
	struct e2e *e = *state;
	char path[PATH_MAX];
	struct run r;

	CTL(e, &r, "-s", e->sock, "--version");
	assert_int_equal(r.status, 0);
	assert_string_equal(r.out, "steerctl " STEER_VERSION "\n"
				   "steerd " STEER_VERSION "\n");
	assert_string_equal(r.err, "");
	run_free(&r);
	CTL(e, &r, "-s", e->sock, "-V", "-j");
	assert_int_equal(r.status, 0);
	assert_string_equal(r.out, "{\"steerctl\":\"" STEER_VERSION
				   "\",\"steerd\":\"" STEER_VERSION "\"}\n");
	run_free(&r);
	/* No daemon: steerctl's own, the reason on stderr, still 0. */
	path_in(e, path, sizeof(path), "nobody.sock");
	CTL(e, &r, "-s", path, "-V");
	assert_int_equal(r.status, 0);
	assert_string_equal(r.out, "steerctl " STEER_VERSION "\n");
	assert_true(starts_with(r.err, "steerctl: cannot reach steerd at "));
	run_free(&r);
	CTL(e, &r, "-s", path, "-j", "--version");
	assert_int_equal(r.status, 0);
	assert_string_equal(r.out, "{\"steerctl\":\"" STEER_VERSION
				   "\",\"steerd\":null}\n");
	run_free(&r);
	/* -V with a command is a usage error. */
	CTL(e, &r, "-s", e->sock, "-V", "nodes");
	assert_int_equal(r.status, 2);
	assert_string_equal(r.out, "");
	assert_string_equal(r.err, "steerctl: --version takes no command\n");
	run_free(&r);
}

static void test_e2e_nodes_json(void **state)
{
	static const char ok[] = "{\"ok\":true,\"result\":";
	struct e2e *e = *state;
	char *raw, *want;
	size_t n;
	struct run r;

	CTL(e, &r, "-s", e->sock, "-j", "nodes");
	assert_int_equal(r.status, 0);
	assert_string_equal(r.err, "");
	/* The result as the daemon wrote it, on one line. */
	raw = raw_ask(e, "nodes\n");
	n = strlen(raw);
	assert_true(n > sizeof(ok) + 2);
	assert_memory_equal(raw, ok, sizeof(ok) - 1);
	assert_memory_equal(raw + n - 2, "}\n", 2);
	want = strndup(raw + sizeof(ok) - 1, n - (sizeof(ok) - 1) - 2);
	assert_non_null(want);
	assert_true(!strncmp(r.out, want, strlen(want)));
	assert_string_equal(r.out + strlen(want), "\n");
	assert_true(starts_with(r.out, "{\"nodes\":[{\"id\":1,\"name\":\"n1\","
				       "\"address\":\"198.18.0.1\","));
	free(want);
	free(raw);
	run_free(&r);

	/* -p: the same, indented. */
	CTL(e, &r, "-s", e->sock, "-p", "nodes");
	assert_int_equal(r.status, 0);
	assert_true(starts_with(r.out, "{\n    \"nodes\": [\n        {\n"
				       "            \"id\": 1,\n"
				       "            \"name\": \"n1\",\n"));
	assert_true(ends_with(r.out, "\n    ]\n}\n"));
	run_free(&r);
}

static void test_e2e_nodes(void **state)
{
	struct e2e *e = *state;
	struct run r;

	CTL(e, &r, "-s", e->sock, "nodes");
	assert_int_equal(r.status, 0);
	assert_string_equal(r.err, "");
	assert_string_equal(
		r.out,
		"ID  NAME  ADDRESS     ADDRESS6     MAC                "
		"VIA  SELF   STATE   INCARNATION  LOAD  DRAINED  JOINING\n"
		" 1  n1    198.18.0.1  2001:db8::1  02:00:00:00:00:01  "
		"-    true   static            0     0  false    false\n"
		" 2  n2    198.18.0.2  -            02:00:00:00:00:02  "
		"-    false  static            0     0  false    false\n"
		" 3  n3    -           2001:db8::3  02:00:00:00:00:03  "
		"-    false  static            0     0  false    false\n");
	run_free(&r);

	/* STEER_SOCKET when there is no -s. */
	{
		char *argv[] = {"steerctl", "nodes", NULL};

		run_end(e, run_start(e, argv, e->sock), &r);
	}
	assert_int_equal(r.status, 0);
	assert_true(starts_with(r.out, "ID  NAME"));
	run_free(&r);
}

static void test_e2e_counters(void **state)
{
	struct e2e *e = *state;
	struct run r;

	CTL(e, &r, "-s", e->sock, "counters");
	assert_int_equal(r.status, 0);
	assert_string_equal(r.err, "");
	/* No flows yet: of the fast path and the cache, only sizes. */
	assert_true(starts_with(r.out, "fsc\n"
				       "  capacity  1024\n"
				       "  memory    65536\n"
				       "daemon\n"
				       "  generation  1\n"
				       "admin\n"
				       "  requests  "));
	assert_null(strstr(r.out, " 0\n"));
	assert_null(strstr(r.out, "fastpath"));
	run_free(&r);

	CTL(e, &r, "-s", e->sock, "counters", "-a");
	assert_int_equal(r.status, 0);
	assert_true(starts_with(r.out, "fastpath\n  rx_packets  0\n"));
	assert_non_null(strstr(r.out, "\nfsc\n  capacity   1024\n"));
	run_free(&r);
	CTL(e, &r, "-s", e->sock, "--all", "counters");
	assert_int_equal(r.status, 0);
	assert_true(starts_with(r.out, "fastpath\n  rx_packets  0\n"));
	run_free(&r);
}

static void test_e2e_flows(void **state)
{
	struct e2e *e = *state;
	struct run r;

	CTL(e, &r, "-s", e->sock, "flow-set", "tcp", "10.0.0.1", "1000",
	    "10.0.0.2", "80", "n2", "7");
	assert_int_equal(r.status, 0);
	assert_true(has_kv(r.out, "owner", "2"));
	run_free(&r);
	CTL(e, &r, "-s", e->sock, "flows", "limit", "10");
	assert_int_equal(r.status, 0);
	assert_true(has_kv(r.out, "count", "1"));
	assert_non_null(strstr(r.out,
			       "\n  tcp    10.0.0.1   1000  10.0.0.2"
			       "     80  steer       2  -            7"));
	run_free(&r);
	CTL(e, &r, "-s", e->sock, "flow-del", "tcp", "10.0.0.1", "1000",
	    "10.0.0.2", "80");
	assert_int_equal(r.status, 0);
	run_free(&r);
	CTL(e, &r, "-s", e->sock, "flow-del", "tcp", "10.0.0.1", "1000",
	    "10.0.0.2", "80");
	assert_int_equal(r.status, 1);
	assert_string_equal(r.out, "");
	assert_string_equal(r.err, "steerctl: flow-del: no such flow\n");
	run_free(&r);
}

static void test_e2e_bad_command(void **state)
{
	struct e2e *e = *state;
	struct run r;

	/* Unknown to steerctl: passed through, the daemon says no: a usage
	 * error it caught, so 2 as steerctl's own. */
	CTL(e, &r, "-s", e->sock, "bogus", "x");
	assert_int_equal(r.status, 2);
	assert_string_equal(r.out, "");
	assert_string_equal(r.err,
			    "steerctl: unknown command 'bogus' (try 'help')\n");
	run_free(&r);
	/* Known, wrong in a way only the daemon checks. */
	CTL(e, &r, "-s", e->sock, "flows", "limit", "0");
	assert_int_equal(r.status, 2);
	assert_string_equal(r.err, "steerctl: flows: 'limit' expects an "
				   "integer in 1..100000\n");
	run_free(&r);
	CTL(e, &r, "-s", e->sock, "flow-del", "tcp", "10.0.0.1", "1000",
	    "10.0.0.300", "80");
	assert_int_equal(r.status, 2);
	run_free(&r);
	CTL(e, &r, "-s", e->sock, "rules", "limit", "5", "6");
	assert_int_equal(r.status, 2);
	assert_string_equal(r.err, "steerctl: usage: rules [limit N]\n");
	run_free(&r);
	/* Well formed, but not for this node: 1. */
	CTL(e, &r, "-s", e->sock, "flow-set", "tcp", "10.0.0.1", "1000",
	    "10.0.0.2", "80", "n9", "7");
	assert_int_equal(r.status, 1);
	assert_string_equal(r.err, "steerctl: flow-set: owner expects a node "
				   "id or name of the cluster\n");
	run_free(&r);
}

static void test_e2e_usage(void **state)
{
	struct e2e *e = *state;
	struct run r;

	CTL(e, &r, "-s", e->sock);
	assert_int_equal(r.status, 2);
	assert_string_equal(r.out, "");
	assert_true(starts_with(
		r.err, "steerctl: no command\nusage: steerctl [OPTIONS] "
		       "COMMAND [ARGS...]\n"));
	run_free(&r);
	CTL(e, &r, "-s", e->sock, "nodes", "extra");
	assert_int_equal(r.status, 2);
	assert_string_equal(r.err, "usage: steerctl nodes\n");
	run_free(&r);
	CTL(e, &r, "-s", e->sock, "counters", "-x");
	assert_int_equal(r.status, 2);
	assert_string_equal(r.err, "usage: steerctl counters [-a|--all]\n");
	run_free(&r);
	CTL(e, &r, "-s", e->sock, "-t", "0", "nodes");
	assert_int_equal(r.status, 2);
	assert_string_equal(r.err, "steerctl: --timeout expects seconds in "
				   "(0, 86400], got '0'\n");
	run_free(&r);
	CTL(e, &r, "--frobnicate", "nodes");
	assert_int_equal(r.status, 2);
	run_free(&r);
}

static void test_e2e_bad_words(void **state)
{
	static const struct {
		const char *word;
		const char *shown;
	} cases[] = {
		{"1\nnodes", "1\\x0anodes"},	{"a b", "a b"},
		{"tab\there", "tab\\x09here"},	{"", ""},
		{"caf\xc3\xa9", "caf\xc3\xa9"}, {"\x1b[2J", "\\x1b[2J"},
	};
	struct e2e *e = *state;
	char want[128];
	struct run r;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		CTL(e, &r, "-s", e->sock, "flows", "limit",
		    (char *)cases[i].word);
		snprintf(want, sizeof(want),
			 "steerctl: '%s': a request word must be printable "
			 "ASCII without blanks, and not empty\n",
			 cases[i].shown);
		assert_int_equal(r.status, 2);
		assert_string_equal(r.out, "");
		assert_string_equal(r.err, want);
		run_free(&r);
	}
}

static void test_e2e_dead_socket(void **state)
{
	struct e2e *e = *state;
	char path[PATH_MAX], want[PATH_MAX + 128];
	struct run r;
	int fd;

	path_in(e, path, sizeof(path), "nobody.sock");
	CTL(e, &r, "-s", path, "version");
	snprintf(want, sizeof(want),
		 "steerctl: cannot reach steerd at %s: No such file or "
		 "directory (is steerd running?)\n",
		 path);
	assert_int_equal(r.status, 1);
	assert_string_equal(r.out, "");
	assert_string_equal(r.err, want);
	run_free(&r);

	/* A socket file whose daemon is gone. */
	path_in(e, path, sizeof(path), "stale.sock");
	fd = sock_listen(path, 1);
	assert_true(fd >= 0);
	close(fd);
	CTL(e, &r, "-s", path, "nodes");
	snprintf(want, sizeof(want),
		 "steerctl: cannot reach steerd at %s: Connection refused "
		 "(is steerd running?)\n",
		 path);
	assert_int_equal(r.status, 1);
	assert_string_equal(r.err, want);
	run_free(&r);
}

/* A listener that never answers: the deadline, not a hang. */
static void test_e2e_timeout(void **state)
{
	struct e2e *e = *state;
	char path[PATH_MAX], want[PATH_MAX + 128];
	struct run r;
	uint64_t t0;
	int fd;

	path_in(e, path, sizeof(path), "mute.sock");
	fd = sock_listen(path, 4);
	assert_true(fd >= 0);
	t0 = now_ms();
	CTL(e, &r, "-s", path, "-t", "0.3", "version");
	close(fd);
	snprintf(want, sizeof(want),
		 "steerctl: steerd at %s did not answer within 0.3 s\n", path);
	assert_int_equal(r.status, 1);
	assert_string_equal(r.out, "");
	assert_string_equal(r.err, want);
	assert_true(now_ms() - t0 < 5000);
	run_free(&r);
}

/* Play the daemon: accept one steerctl, check its request, answer. */
static void fake_daemon(struct e2e *e, const char *want_req, const char *answer,
			char *const *argv, struct run *r)
{
	struct pollfd p;
	char path[PATH_MAX], *req;
	pid_t pid;
	int lfd, fd;

	path_in(e, path, sizeof(path), "fake.sock");
	lfd = sock_listen(path, 4);
	assert_true(lfd >= 0);
	pid = run_start(e, argv, path);
	p = (struct pollfd){.fd = lfd, .events = POLLIN};
	fd = poll(&p, 1, 5000) == 1 ? accept(lfd, NULL, NULL) : -1;
	req = fd >= 0 ? sock_read_line(fd, 5000) : strdup("(no connection)");
	if (fd >= 0) {
		assert_int_equal(write(fd, answer, strlen(answer)),
				 (ssize_t)strlen(answer));
		close(fd);
	}
	close(lfd);
	run_end(e, pid, r);
	assert_string_equal(req, want_req);
	free(req);
}

static void test_e2e_malformed(void **state)
{
	static const struct {
		const char *answer;
		const char *err;
	} cases[] = {
		/* jansson's message; its position is where it stopped
		 * reading, past the token. */
		{"{\"ok\":tru}\n", "steerctl: malformed answer from steerd: at "
				   "byte 9: invalid token near 'tru'\n"},
		{"{\"ok\":false,\"error\":\"\\u0000\"}\n",
		 "steerctl: malformed answer from steerd: at byte 28: \\u0000 "
		 "is not allowed without JSON_ALLOW_NUL near '\"\\u0000\"'\n"},
		{"{\"ok\":true}\n", "steerctl: malformed answer from steerd: "
				    "not {\"ok\":true,\"result\":...} nor "
				    "{\"ok\":false,\"error\":\"...\"}\n"},
		{"{\"ok\":false,\"error\":3}\n",
		 "steerctl: malformed answer from steerd: not "
		 "{\"ok\":true,\"result\":...} nor "
		 "{\"ok\":false,\"error\":\"...\"}\n"},
		{"[]\n", "steerctl: malformed answer from steerd: not "
			 "{\"ok\":true,\"result\":...} nor "
			 "{\"ok\":false,\"error\":\"...\"}\n"},
		{"{\"ok\":true,\"result\":1}", "steerctl: steerd at "
					       "@ closed the connection "
					       "without answering\n"},
		{"", "steerctl: steerd at @ closed the connection without "
		     "answering\n"},
		{"{\"ok\":false,\"error\":\"no\\u001b[1m\"}\n",
		 "steerctl: no\\x1b[1m\n"},
	};
	char *argv[] = {"steerctl", "sessions", "dump", NULL};
	struct e2e *e = *state;
	char want[PATH_MAX + 256], path[PATH_MAX], *at;
	struct run r;
	size_t i;

	path_in(e, path, sizeof(path), "fake.sock");
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		fake_daemon(e, "sessions dump\n", cases[i].answer, argv, &r);
		at = strchr(cases[i].err, '@');
		if (at)
			snprintf(want, sizeof(want), "%.*s%s%s",
				 (int)(at - cases[i].err), cases[i].err, path,
				 at + 1);
		else
			snprintf(want, sizeof(want), "%s", cases[i].err);
		if (r.status != 1 || strcmp(r.err, want))
			fail_msg("answer '%s': status %d, stderr '%s', want "
				 "'%s'",
				 cases[i].answer, r.status, r.err, want);
		assert_string_equal(r.out, "");
		run_free(&r);
	}
	/* A usage error the daemon marks: 2; a marker that is not true: 1. */
	fake_daemon(e, "sessions dump\n",
		    "{\"ok\":false,\"error\":\"no\",\"usage\":true}\n", argv,
		    &r);
	assert_int_equal(r.status, 2);
	assert_string_equal(r.err, "steerctl: no\n");
	run_free(&r);
	fake_daemon(e, "sessions dump\n",
		    "{\"ok\":false,\"error\":\"no\",\"usage\":\"yes\"}\n", argv,
		    &r);
	assert_int_equal(r.status, 1);
	run_free(&r);
	/* A future command, passed through and drawn generically. */
	fake_daemon(e, "sessions dump\n",
		    "{\"ok\":true,\"result\":{\"sessions\":[{\"id\":7,"
		    "\"peer\":\"n2\"}]}}\n",
		    argv, &r);
	assert_int_equal(r.status, 0);
	assert_string_equal(r.out, "ID  PEER\n 7  n2\n");
	run_free(&r);
}

static void test_e2e_help(void **state)
{
	struct e2e *e = *state;
	struct run r;

	CTL(e, &r, "-s", e->sock, "help");
	assert_int_equal(r.status, 0);
	assert_true(starts_with(r.out, "usage: steerctl"));
	assert_non_null(strstr(r.out, "\n  flows [limit N]  "));
	/* The name column fits the longest name, "migrations". */
	assert_non_null(strstr(r.out, "\nNAME        USAGE  "));
	assert_non_null(strstr(r.out, "\nflow-del    flow-del PROTO SRC SPORT "
				      "DST DPORT  "));
	run_free(&r);
}

/* help COMMAND: steerctl's usage and words, then the daemon's. */
static void test_e2e_help_command(void **state)
{
	struct e2e *e = *state;
	struct run r;

	CTL(e, &r, "-s", e->sock, "help", "flows");
	assert_int_equal(r.status, 0);
	assert_string_equal(r.err, "");
	assert_true(starts_with(r.out, "usage: steerctl flows [limit N]\n"
				       "  flows in the flow-state cache, or "));
	assert_non_null(strstr(r.out, "\n  steerd: host mode: the flows "));
	run_free(&r);
	/* The daemon's alone. */
	CTL(e, &r, "-s", e->sock, "help", "rules");
	assert_int_equal(r.status, 0);
	assert_true(starts_with(r.out, "usage: steerctl rules [limit N]\n"
				       "  the rules of this node's data "));
	run_free(&r);
	CTL(e, &r, "-s", e->sock, "-j", "help", "rules");
	assert_int_equal(r.status, 0);
	assert_true(starts_with(r.out, "{\"name\":\"rules\",\"usage\":"
				       "\"rules [limit N]\",\"help\":\""));
	run_free(&r);
	/* steerctl's alone, no daemon: still 0 (the reason on stderr). */
	CTL(e, &r, "-s", "/nonexistent/steerd.sock", "help", "counters");
	assert_int_equal(r.status, 0);
	assert_string_equal(r.out, "usage: steerctl counters [-a|--all]\n"
				   "  counters that are not zero (all of them "
				   "with -a)\n");
	run_free(&r);
	/* Nobody's: a usage error. */
	CTL(e, &r, "-s", e->sock, "help", "bogus");
	assert_int_equal(r.status, 2);
	assert_string_equal(r.out, "");
	assert_string_equal(r.err, "steerctl: no command 'bogus' (try "
				   "'steerctl help')\n");
	run_free(&r);
	CTL(e, &r, "-s", e->sock, "help", "flows", "x");
	assert_int_equal(r.status, 2);
	assert_string_equal(r.err, "usage: steerctl help [COMMAND]\n");
	run_free(&r);
	/* Unknown to steerctl and no daemon to ask: cannot tell, 1. */
	CTL(e, &r, "-s", "/nonexistent/steerd.sock", "help", "rules");
	assert_int_equal(r.status, 1);
	run_free(&r);
}

/* steerd's own command line: a usage error is 2, as steerctl's. */
static void test_e2e_steerd_usage(void **state)
{
	static char *const bad[][5] = {
		{"steerd", "--bogus", NULL},
		{"steerd", NULL},
		{"steerd", "--config", "x.conf", "extra"},
		{"steerd", "--config", "x.conf", "--log-level=loud"},
		{"steerd", "--pid-file=", "--config", "x.conf"},
	};
	char *const version[] = {"steerd", "-V", NULL};
	struct e2e *e = *state;
	struct run r;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		run_end(e, run_start_bin(e, e->steerd, bad[i], NULL), &r);
		if (r.status != 2)
			fail_msg("steerd %s: status %d, want 2", bad[i][1],
				 r.status);
		assert_string_equal(r.out, "");
		assert_true(starts_with(r.err, "steerd: ") ||
			    starts_with(r.err, "usage: steerd"));
		run_free(&r);
	}
	run_end(e, run_start_bin(e, e->steerd, version, NULL), &r);
	assert_int_equal(r.status, 0);
	assert_string_equal(r.out, "steerd " STEER_VERSION "\n");
	run_free(&r);
}

/* Nothing above took the daemon down. */
static void test_e2e_steerd_alive(void **state)
{
	struct e2e *e = *state;

	assert_true(e->pid > 0);
	assert_int_equal(waitpid(e->pid, NULL, WNOHANG), 0);
}

int main(void)
{
	const struct CMUnitTest unit[] = {
		cmocka_unit_test(test_json_read),
		cmocka_unit_test(test_json_write),
		cmocka_unit_test(test_render_scalars),
		cmocka_unit_test(test_render_object),
		cmocka_unit_test(test_render_table),
		cmocka_unit_test(test_render_wide_and_mixed),
		cmocka_unit_test(test_render_hide_zero),
	};
	/* In this order: counters before any flow exists. */
	const struct CMUnitTest e2e[] = {
		cmocka_unit_test(test_e2e_version),
		cmocka_unit_test(test_e2e_dash_version),
		cmocka_unit_test(test_e2e_nodes_json),
		cmocka_unit_test(test_e2e_nodes),
		cmocka_unit_test(test_e2e_counters),
		cmocka_unit_test(test_e2e_flows),
		cmocka_unit_test(test_e2e_bad_command),
		cmocka_unit_test(test_e2e_usage),
		cmocka_unit_test(test_e2e_bad_words),
		cmocka_unit_test(test_e2e_dead_socket),
		cmocka_unit_test(test_e2e_timeout),
		cmocka_unit_test(test_e2e_malformed),
		cmocka_unit_test(test_e2e_help),
		cmocka_unit_test(test_e2e_help_command),
		cmocka_unit_test(test_e2e_steerd_usage),
		cmocka_unit_test(test_e2e_steerd_alive),
	};
	int fails;

	/* The last word if a child or the daemon hangs: the daemon dies
	 * with this process (PR_SET_PDEATHSIG). */
	alarm(TEST_WATCHDOG_S);
	signal(SIGPIPE, SIG_IGN);
	fails = cmocka_run_group_tests_name("steerctl_unit", unit, NULL, NULL);
	fails += cmocka_run_group_tests_name("steerctl_e2e", e2e, e2e_setup,
					     e2e_teardown);
	return fails ? 1 : 0;
}

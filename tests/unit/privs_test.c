// SPDX-License-Identifier: GPL-2.0-only
/*
 * daemon/privs through the real daemon: build/bin/steerd (STEER_BIN) runs
 * the fixture config (cell mode without a key: no BPF) with --pid-file in
 * a temporary directory. As root, once it serves, its bounding and
 * effective sets have lost what it never uses (CAP_SYS_PTRACE,
 * CAP_DAC_OVERRIDE, CAP_SYS_MODULE, CAP_SETUID) and kept CAP_NET_ADMIN
 * and CAP_BPF; as another user that test is skipped. Its PID file names
 * it, a second steerd with the same file refuses to start, and a clean
 * stop removes the file.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include <cmocka.h>

#define DEADLINE_MS 10000

struct fx {
	char dir[64];
	char steerd[PATH_MAX];
	char conf[PATH_MAX], pid_file[PATH_MAX], log[PATH_MAX];
	pid_t pid;
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

/* Exit status of pid within ms, else kill it: -1. */
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

/* steerd --foreground on the fixture, stdout and stderr to log. */
static pid_t steerd_start(const struct fx *f, const char *log)
{
	pid_t parent = getpid(), pid = fork();
	int fd;

	assert_true(pid >= 0);
	if (pid)
		return pid;
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(127);
	fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
		_exit(126);
	unsetenv("NOTIFY_SOCKET");
	execl(f->steerd, "steerd", "--config", f->conf, "--foreground",
	      "--pid-file", f->pid_file, (char *)NULL);
	_exit(127);
}

static char *file_read(const char *path)
{
	static char buf[16384];
	FILE *in = fopen(path, "r");
	size_t n = 0;

	buf[0] = '\0';
	if (in) {
		n = fread(buf, 1, sizeof(buf) - 1, in);
		fclose(in);
	}
	buf[n] = '\0';
	return buf;
}

static void copy_conf(const char *src, const char *dst, const char *sock)
{
	FILE *in = fopen(src, "r"), *out = fopen(dst, "w");
	char line[1024];

	assert_non_null(in);
	assert_non_null(out);
	while (fgets(line, sizeof(line), in))
		if (strncmp(line, "admin-socket", 12))
			fputs(line, out);
	if (sock)
		fprintf(out, "admin-socket %s\n", sock);
	fclose(in);
	assert_int_equal(fclose(out), 0);
}

/* STEER_BIN and STEER_SRC (ctest sets them), else beside this test and
 * where this file says it lives. */
static void paths_find(char *bin, char *fix, size_t len)
{
	const char *b = getenv("STEER_BIN"), *s = getenv("STEER_SRC");
	char exe[PATH_MAX], *p;
	ssize_t n;

	if (b && b[0]) {
		snprintf(bin, len, "%s", b);
	} else {
		n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
		assert_true(n > 0);
		exe[n] = '\0';
		p = strrchr(exe, '/');
		assert_non_null(p);
		*p = '\0';
		snprintf(bin, len, "%.1900s/../bin", exe);
	}
	if (s && s[0]) {
		snprintf(fix, len, "%s/tests/fixtures/steerd", s);
		return;
	}
	snprintf(exe, sizeof(exe), "%s", __FILE__);
	p = strstr(exe, "/unit/privs_test.c");
	assert_non_null(p);
	*p = '\0';
	snprintf(fix, len, "%.1900s/fixtures/steerd", exe);
}

static bool file_exists(const char *path)
{
	return access(path, F_OK) == 0;
}

/* Up once its log says it runs (after the drop and the PID file). */
static int fx_setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	char bin[PATH_MAX / 2], fix[PATH_MAX / 2], src[PATH_MAX], dst[PATH_MAX],
		sock[PATH_MAX];
	uint64_t end;

	if (!f)
		return -1;
	f->pid = -1;
	*state = f;
	snprintf(f->dir, sizeof(f->dir), "/tmp/privs_test.XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	paths_find(bin, fix, sizeof(bin));
	snprintf(f->steerd, sizeof(f->steerd), "%s/steerd", bin);
	if (access(f->steerd, X_OK)) {
		fprintf(stderr, "no steerd in %s (STEER_BIN)\n", bin);
		return -1;
	}
	snprintf(src, sizeof(src), "%s/cluster.conf", fix);
	snprintf(dst, sizeof(dst), "%s/cluster.conf", f->dir);
	copy_conf(src, dst, NULL);
	snprintf(src, sizeof(src), "%s/steerd.conf", fix);
	snprintf(f->conf, sizeof(f->conf), "%s/steerd.conf", f->dir);
	snprintf(sock, sizeof(sock), "%s/steerd.sock", f->dir);
	copy_conf(src, f->conf, sock);
	snprintf(f->pid_file, sizeof(f->pid_file), "%s/steerd.pid", f->dir);
	snprintf(f->log, sizeof(f->log), "%s/steerd.log", f->dir);
	f->pid = steerd_start(f, f->log);
	for (end = now_ms() + DEADLINE_MS; now_ms() < end; sleep_ms(10)) {
		if (strstr(file_read(f->log), " running, admin socket "))
			return 0;
		if (waitpid(f->pid, NULL, WNOHANG) == f->pid) {
			f->pid = -1;
			break;
		}
	}
	fprintf(stderr, "steerd did not come up; its log:\n%s",
		file_read(f->log));
	return -1;
}

static void dir_clean(const char *dir)
{
	static const char *const names[] = {
		"cluster.conf", "steerd.conf", "steerd.sock",
		"steerd.pid",	"steerd.log",  "second.log",
	};
	char path[PATH_MAX];
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		unlink(path);
	}
	rmdir(dir);
}

static int fx_teardown(void **state)
{
	struct fx *f = *state;

	if (!f)
		return 0;
	if (f->pid > 0) {
		kill(f->pid, SIGTERM);
		child_wait(f->pid, 5000);
	}
	dir_clean(f->dir);
	free(f);
	return 0;
}

/* The hexadecimal set "Cap<which>:" of /proc/PID/status. */
static uint64_t proc_caps(pid_t pid, const char *which)
{
	char path[64], key[16], line[256];
	uint64_t v = 0;
	bool found = false;
	FILE *in;

	snprintf(path, sizeof(path), "/proc/%ld/status", (long)pid);
	snprintf(key, sizeof(key), "Cap%s:", which);
	in = fopen(path, "r");
	assert_non_null(in);
	while (fgets(line, sizeof(line), in))
		if (!strncmp(line, key, strlen(key)) &&
		    sscanf(line + strlen(key), "%" SCNx64, &v) == 1)
			found = true;
	fclose(in);
	assert_true(found);
	return v;
}

#define CAP(c) (1ull << (c))

static void test_caps_dropped(void **state)
{
	struct fx *f = *state;
	uint64_t bnd, eff, prm, inh;

	if (geteuid() != 0) {
		print_message("not root: steerd has no capability to drop\n");
		skip();
	}
	if ((proc_caps(getpid(), "Eff") &
	     (CAP(CAP_SYS_PTRACE) | CAP(CAP_DAC_OVERRIDE) | CAP(CAP_NET_ADMIN) |
	      CAP(CAP_BPF))) != (CAP(CAP_SYS_PTRACE) | CAP(CAP_DAC_OVERRIDE) |
				 CAP(CAP_NET_ADMIN) | CAP(CAP_BPF))) {
		print_message("root without CAP_SYS_PTRACE, CAP_DAC_OVERRIDE, "
			      "CAP_NET_ADMIN and CAP_BPF (a container?)\n");
		skip();
	}
	bnd = proc_caps(f->pid, "Bnd");
	eff = proc_caps(f->pid, "Eff");
	prm = proc_caps(f->pid, "Prm");
	inh = proc_caps(f->pid, "Inh");
	assert_false(bnd & CAP(CAP_SYS_PTRACE));
	assert_false(bnd & CAP(CAP_DAC_OVERRIDE));
	assert_false(bnd & CAP(CAP_SYS_MODULE));
	assert_false(bnd & CAP(CAP_SETUID));
	assert_false(eff & CAP(CAP_DAC_OVERRIDE));
	assert_false(prm & CAP(CAP_SYS_PTRACE));
	assert_int_equal(inh, 0);
	assert_true(bnd & CAP(CAP_NET_ADMIN));
	assert_true(eff & CAP(CAP_NET_ADMIN));
	assert_true(prm & CAP(CAP_NET_ADMIN));
	assert_true(eff & CAP(CAP_BPF));
	assert_non_null(strstr(file_read(f->log), "capabilities kept: "
						  "net_admin,net_raw,"));
}

static void test_pid_file(void **state)
{
	struct fx *f = *state;
	char log[PATH_MAX], want[64];
	pid_t second;

	snprintf(want, sizeof(want), "%ld\n", (long)f->pid);
	assert_string_equal(file_read(f->pid_file), want);
	/* A second steerd on the same file: refused before it builds
	 * anything, the first one's file untouched. */
	snprintf(log, sizeof(log), "%s/second.log", f->dir);
	second = steerd_start(f, log);
	assert_int_equal(child_wait(second, DEADLINE_MS), 1);
	snprintf(want, sizeof(want), "steerd already runs (PID %ld)\n",
		 (long)f->pid);
	assert_non_null(strstr(file_read(log), want));
	snprintf(want, sizeof(want), "%ld\n", (long)f->pid);
	assert_string_equal(file_read(f->pid_file), want);
	/* A clean stop removes it. */
	assert_int_equal(kill(f->pid, SIGTERM), 0);
	assert_int_equal(child_wait(f->pid, DEADLINE_MS), 0);
	f->pid = -1;
	assert_false(file_exists(f->pid_file));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_caps_dropped, fx_setup,
						fx_teardown),
		cmocka_unit_test_setup_teardown(test_pid_file, fx_setup,
						fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

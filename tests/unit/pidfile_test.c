// SPDX-License-Identifier: GPL-2.0-only
/*
 * daemon/pidfile: taken with this PID written, refused while held (with
 * the holder's PID in the message), taken over when left unlocked by a
 * crash, removed by pidfile_remove().
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "daemon/pidfile.h"

struct fx {
	char dir[64];
	char path[PATH_MAX];
};

static int fx_setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/pidfile_test.XXXXXX");
	if (!mkdtemp(f->dir)) {
		free(f);
		return -1;
	}
	snprintf(f->path, sizeof(f->path), "%s/steerd.pid", f->dir);
	*state = f;
	return 0;
}

static int fx_teardown(void **state)
{
	struct fx *f = *state;

	unlink(f->path);
	rmdir(f->dir);
	free(f);
	return 0;
}

static long file_pid(const char *path)
{
	char buf[32] = "";
	FILE *in = fopen(path, "r");

	if (!in)
		return -1;
	if (!fgets(buf, sizeof(buf), in))
		buf[0] = '\0';
	fclose(in);
	return strtol(buf, NULL, 10);
}

static void test_take_and_remove(void **state)
{
	struct fx *f = *state;
	struct pidfile pf;
	char err[256] = "";

	assert_int_equal(pidfile_take(&pf, f->path, err, sizeof(err)), 0);
	assert_true(pf.fd >= 0);
	assert_int_equal(file_pid(f->path), (long)getpid());
	pidfile_remove(&pf);
	assert_int_equal(pf.fd, -1);
	assert_int_equal(access(f->path, F_OK), -1);
	pidfile_remove(&pf); /* twice: a no-op */
}

static void test_refused_while_held(void **state)
{
	struct fx *f = *state;
	struct pidfile a, b;
	char err[PATH_MAX + 64] = "", want[PATH_MAX + 64];

	assert_int_equal(pidfile_take(&a, f->path, err, sizeof(err)), 0);
	/* A second open file description conflicts as a second process
	 * would. */
	assert_int_equal(pidfile_take(&b, f->path, err, sizeof(err)), -EEXIST);
	assert_int_equal(b.fd, -1);
	snprintf(want, sizeof(want), "%s: steerd already runs (PID %ld)",
		 f->path, (long)getpid());
	assert_string_equal(err, want);
	/* The refused one leaves the holder's file alone. */
	pidfile_remove(&b);
	assert_int_equal(file_pid(f->path), (long)getpid());
	pidfile_remove(&a);
	assert_int_equal(pidfile_take(&b, f->path, err, sizeof(err)), 0);
	pidfile_remove(&b);
}

/* A file a crashed steerd left (nobody holds its lock) is taken over. */
static void test_stale_taken_over(void **state)
{
	struct fx *f = *state;
	struct pidfile pf;
	char err[256] = "";
	FILE *out = fopen(f->path, "w");

	assert_non_null(out);
	fputs("99999999999 and more\n", out);
	assert_int_equal(fclose(out), 0);
	assert_int_equal(pidfile_take(&pf, f->path, err, sizeof(err)), 0);
	assert_int_equal(file_pid(f->path), (long)getpid());
	pidfile_remove(&pf);
}

static void test_bad_paths(void **state)
{
	struct fx *f = *state;
	struct pidfile pf;
	char err[256] = "", path[PATH_MAX + 64], link[PATH_MAX];

	snprintf(path, sizeof(path), "%s/none/steerd.pid", f->dir);
	assert_int_equal(pidfile_take(&pf, path, err, sizeof(err)), -ENOENT);
	assert_int_equal(pf.fd, -1);
	memset(path, 'a', sizeof(path) - 1);
	path[sizeof(path) - 1] = '\0';
	assert_int_equal(pidfile_take(&pf, path, err, sizeof(err)),
			 -ENAMETOOLONG);
	/* Not through a symbolic link someone planted. */
	snprintf(link, sizeof(link), "%s/link.pid", f->dir);
	assert_int_equal(symlink(f->path, link), 0);
	assert_int_equal(pidfile_take(&pf, link, err, sizeof(err)), -ELOOP);
	unlink(link);
	assert_int_equal(access(f->path, F_OK), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_take_and_remove, fx_setup,
						fx_teardown),
		cmocka_unit_test_setup_teardown(test_refused_while_held,
						fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_stale_taken_over, fx_setup,
						fx_teardown),
		cmocka_unit_test_setup_teardown(test_bad_paths, fx_setup,
						fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

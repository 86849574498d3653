// SPDX-License-Identifier: GPL-2.0-only
/*
 * util/log: a line's shape with and without its RFC 3339 time stamp and
 * its syslog priority prefix; levels filtered; stderr recognised as
 * journald's stream only when $JOURNAL_STREAM names its device and inode.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/stat.h>

#include <cmocka.h>

#include "util/log.h"

struct fx {
	char path[64];
	int saved; /* the test's own stderr */
};

/* stderr into a temporary file for the test. */
static int fx_setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	int fd;

	if (!f)
		return -1;
	snprintf(f->path, sizeof(f->path), "/tmp/log_test.XXXXXX");
	fd = mkstemp(f->path);
	if (fd < 0)
		return -1;
	fflush(stderr);
	f->saved = dup(STDERR_FILENO);
	if (f->saved < 0 || dup2(fd, STDERR_FILENO) < 0)
		return -1;
	close(fd);
	*state = f;
	return 0;
}

static int fx_teardown(void **state)
{
	struct fx *f = *state;

	fflush(stderr);
	dup2(f->saved, STDERR_FILENO);
	close(f->saved);
	unlink(f->path);
	free(f);
	log_set_timestamps(false);
	log_set_level_prefixes(false);
	log_set_level(LOG_INFO);
	unsetenv("JOURNAL_STREAM");
	return 0;
}

/* What was written to stderr so far. */
static const char *written(const struct fx *f)
{
	static char buf[4096];
	FILE *in;
	size_t n;

	fflush(stderr);
	in = fopen(f->path, "r");
	assert_non_null(in);
	n = fread(buf, 1, sizeof(buf) - 1, in);
	fclose(in);
	buf[n] = '\0';
	return buf;
}

static void assert_matches(const char *text, const char *re)
{
	regex_t r;

	assert_int_equal(regcomp(&r, re, REG_EXTENDED | REG_NOSUB), 0);
	if (regexec(&r, text, 0, NULL, 0))
		fail_msg("'%s' does not match %s", text, re);
	regfree(&r);
}

static void test_plain(void **state)
{
	struct fx *f = *state;

	log_info("mod", "a %d", 1);
	log_debug("mod", "not shown");
	assert_string_equal(written(f), "info: mod: a 1\n");
}

static void test_stamped(void **state)
{
	struct fx *f = *state;

	log_set_timestamps(true);
	log_warn("mod", "b");
	assert_matches(written(f),
		       "^20[0-9]{2}-[01][0-9]-[0-3][0-9]T[0-2][0-9]:"
		       "[0-5][0-9]:[0-6][0-9]\\.[0-9]{3}Z warn: "
		       "mod: b\n$");
}

static void test_priorities(void **state)
{
	struct fx *f = *state;

	log_set_level_prefixes(true);
	log_set_level(LOG_DEBUG);
	log_err("m", "e");
	log_warn("m", "w");
	log_info("m", "i");
	log_debug("m", "d");
	assert_string_equal(written(f), "<3>error: m: e\n<4>warn: m: w\n"
					"<6>info: m: i\n<7>debug: m: d\n");
}

static void test_journal_stream(void **state)
{
	struct stat st;
	char env[64];

	(void)state;
	assert_int_equal(fstat(STDERR_FILENO, &st), 0);
	unsetenv("JOURNAL_STREAM");
	assert_false(log_stderr_is_journal());
	snprintf(env, sizeof(env), "%llu:%llu", (unsigned long long)st.st_dev,
		 (unsigned long long)st.st_ino);
	setenv("JOURNAL_STREAM", env, 1);
	assert_true(log_stderr_is_journal());
	/* Inherited by a process whose stderr went elsewhere. */
	snprintf(env, sizeof(env), "%llu:%llu", (unsigned long long)st.st_dev,
		 (unsigned long long)st.st_ino + 1);
	setenv("JOURNAL_STREAM", env, 1);
	assert_false(log_stderr_is_journal());
	snprintf(env, sizeof(env), "%llu:%llux", (unsigned long long)st.st_dev,
		 (unsigned long long)st.st_ino);
	setenv("JOURNAL_STREAM", env, 1);
	assert_false(log_stderr_is_journal());
	setenv("JOURNAL_STREAM", "", 1);
	assert_false(log_stderr_is_journal());
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_plain, fx_setup,
						fx_teardown),
		cmocka_unit_test_setup_teardown(test_stamped, fx_setup,
						fx_teardown),
		cmocka_unit_test_setup_teardown(test_priorities, fx_setup,
						fx_teardown),
		cmocka_unit_test_setup_teardown(test_journal_stream, fx_setup,
						fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

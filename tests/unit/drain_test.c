// SPDX-License-Identifier: GPL-2.0-only
/*
 * Draining (daemon/drain.h): the operator's drain and undrain run the
 * drain-hook with the node and the reason, one at a time and in order;
 * the forecast drains past the high-water mark and undrains at the
 * low-water mark only after DRAIN_MIN_MS; the operator's word outlasts
 * the forecast's; a hook that hangs is killed; an undrain with a warm-up
 * joins first. The hooks are real
 * programs (shell scripts in a temporary directory).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "daemon/drain.h"

struct fx {
	char dir[64];
	char out[96];
	struct steerd_conf c;
	struct drain dr;
};

static const struct drain_self me = {.id = 7, .name = "h7"};

/* A hook in the fixture's directory: body after the #! line. */
static void hook_write(struct fx *f, const char *name, const char *body)
{
	FILE *fp;

	snprintf(f->c.drain_hook, sizeof(f->c.drain_hook), "%s/%s", f->dir,
		 name);
	fp = fopen(f->c.drain_hook, "w");
	assert_non_null(fp);
	fprintf(fp, "#!/bin/sh\n%s\n", body);
	fclose(fp);
	assert_int_equal(chmod(f->c.drain_hook, 0700), 0);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	strcpy(f->dir, "/tmp/steer-drain-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->out, sizeof(f->out), "%s/calls", f->dir);
	setenv("STEER_DRAIN_TEST_OUT", f->out, 1);
	f->c.high_water = 800;
	f->c.low_water = 600;
	drain_init(&f->dr);
	hook_write(f, "hook", "echo \"$*\" >>\"$STEER_DRAIN_TEST_OUT\"");
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char cmd[128];

	drain_fini(&f->dr);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd))
		return -1;
	free(f);
	return 0;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {.tv_sec = ms / 1000,
			      .tv_nsec = (ms % 1000) * 1000000};

	nanosleep(&ts, NULL);
}

/* Poll (at a fixed clock) until no hook runs or waits; at most 5 s. */
static void settle(struct fx *f, uint64_t now_ms)
{
	int i;

	for (i = 0; i < 500; i++) {
		drain_poll(&f->dr, &f->c, &me, now_ms);
		if (!f->dr.hook_pid && !f->dr.hook_pending)
			return;
		sleep_ms(10);
	}
	fail_msg("the hook did not finish");
}

static void calls_equal(struct fx *f, const char *want)
{
	char got[512] = "";
	size_t n;
	FILE *fp = fopen(f->out, "r");

	if (fp) {
		n = fread(got, 1, sizeof(got) - 1, fp);
		got[n] = '\0';
		fclose(fp);
	}
	assert_string_equal(got, want);
}

static void test_operator(void **state)
{
	struct fx *f = *state;

	assert_false(drain_is(&f->dr));
	assert_int_equal(drain_set(&f->dr, &f->c, &me, DRAIN_OPERATOR, 1000),
			 0);
	assert_true(drain_is(&f->dr));
	assert_int_equal(drain_set(&f->dr, &f->c, &me, DRAIN_OPERATOR, 1001),
			 -EALREADY);
	settle(f, 1002);
	calls_equal(f, "drain 7 h7 operator\n");
	assert_int_equal(f->dr.hook_status, 0);
	assert_int_equal(drain_set(&f->dr, &f->c, &me, DRAIN_NONE, 2000), 0);
	settle(f, 2001);
	calls_equal(f, "drain 7 h7 operator\nundrain 7 h7 none\n");
	assert_int_equal(f->dr.st.hooks_ok, 2);
	assert_int_equal(f->dr.st.drains, 1);
	assert_int_equal(f->dr.st.undrains, 1);
}

/* A change while the hook runs waits for it: the hooks run in order. */
static void test_one_at_a_time(void **state)
{
	struct fx *f = *state;

	hook_write(f, "slow",
		   "sleep 0.3; echo \"$*\" >>\"$STEER_DRAIN_TEST_OUT\"");
	assert_int_equal(drain_set(&f->dr, &f->c, &me, DRAIN_OPERATOR, 1), 0);
	assert_int_equal(drain_set(&f->dr, &f->c, &me, DRAIN_NONE, 2), 0);
	assert_true(f->dr.hook_pending);
	settle(f, 3);
	calls_equal(f, "drain 7 h7 operator\nundrain 7 h7 none\n");
	assert_int_equal(f->dr.st.hooks_run, 2);
}

static void test_forecast(void **state)
{
	struct fx *f = *state;

	/* Off: the forecast says nothing. */
	drain_forecast(&f->dr, &f->c, &me, 950, 100, 1000);
	assert_false(drain_is(&f->dr));
	f->c.auto_drain = true;
	drain_forecast(&f->dr, &f->c, &me, 800, 100, 1000); /* at the mark */
	assert_false(drain_is(&f->dr));
	drain_forecast(&f->dr, &f->c, &me, 100, 801, 2000); /* memory past */
	assert_true(drain_is(&f->dr));
	assert_int_equal(f->dr.why, DRAIN_FORECAST);
	assert_int_equal(f->dr.st.auto_drains, 1);
	/* Low again, but too soon; then above the low-water mark. */
	drain_forecast(&f->dr, &f->c, &me, 500, 500, 2000 + DRAIN_MIN_MS - 1);
	assert_true(drain_is(&f->dr));
	drain_forecast(&f->dr, &f->c, &me, 601, 0, 2000 + DRAIN_MIN_MS);
	assert_true(drain_is(&f->dr));
	drain_forecast(&f->dr, &f->c, &me, 600, 0, 2000 + DRAIN_MIN_MS);
	assert_false(drain_is(&f->dr));
	assert_int_equal(f->dr.st.auto_undrains, 1);
	settle(f, 2000 + DRAIN_MIN_MS);
	calls_equal(f, "drain 7 h7 forecast\nundrain 7 h7 none\n");

	/* The operator's drain outlasts a forecast drain's end. */
	drain_forecast(&f->dr, &f->c, &me, 900, 0, 100000);
	assert_int_equal(drain_set(&f->dr, &f->c, &me, DRAIN_OPERATOR, 100001),
			 0);
	assert_int_equal(f->dr.why, DRAIN_OPERATOR);
	settle(f, 100002); /* the clock of the hook's start: not killed */
	drain_forecast(&f->dr, &f->c, &me, 0, 0, 100000 + 2 * DRAIN_MIN_MS);
	assert_true(drain_is(&f->dr));
	/* A reason changed, the state did not: no hook for it. */
	calls_equal(f, "drain 7 h7 forecast\nundrain 7 h7 none\n"
		       "drain 7 h7 forecast\n");
}

static void test_hook_hangs(void **state)
{
	struct fx *f = *state;

	hook_write(f, "hang", "exec sleep 60");
	assert_int_equal(drain_set(&f->dr, &f->c, &me, DRAIN_OPERATOR, 1000),
			 0);
	drain_poll(&f->dr, &f->c, &me, 1000 + DRAIN_HOOK_MAX_MS);
	assert_int_not_equal(f->dr.hook_pid, 0); /* not yet */
	drain_poll(&f->dr, &f->c, &me, 1001 + DRAIN_HOOK_MAX_MS);
	assert_int_equal(f->dr.hook_pid, 0);
	assert_int_equal(f->dr.st.hooks_killed, 1);
	assert_int_equal(f->dr.hook_status, -9);
}

/* A hook that fails is counted; no hook at all is fine. */
static void test_failures(void **state)
{
	struct fx *f = *state;

	hook_write(f, "fail", "exit 3");
	assert_int_equal(drain_set(&f->dr, &f->c, &me, DRAIN_OPERATOR, 1), 0);
	settle(f, 2);
	assert_int_equal(f->dr.hook_status, 3);
	assert_int_equal(f->dr.st.hooks_failed, 1);
	f->c.drain_hook[0] = '\0';
	assert_int_equal(drain_set(&f->dr, &f->c, &me, DRAIN_NONE, 3), 0);
	assert_false(drain_is(&f->dr));
	assert_int_equal(f->dr.st.hooks_run, 1);
}

/* With hints and a warm-up, an undrain first joins: drained still, the
 * hook waits until the warm-up has run; a drain meanwhile cancels it. */
static void test_join_warmup(void **state)
{
	struct fx *f = *state;

	f->c.hints = true;
	f->c.join_warmup_s = 2;
	assert_int_equal(drain_set(&f->dr, &f->c, &me, DRAIN_OPERATOR, 1000),
			 0);
	settle(f, 1001);
	assert_int_equal(drain_set(&f->dr, &f->c, &me, DRAIN_NONE, 2000), 0);
	assert_true(drain_is(&f->dr));
	assert_true(drain_joining(&f->dr));
	assert_int_equal(drain_set(&f->dr, &f->c, &me, DRAIN_NONE, 2001),
			 -EALREADY);
	settle(f, 3999);
	assert_true(drain_joining(&f->dr));
	calls_equal(f, "drain 7 h7 operator\n");
	settle(f, 4000); /* the warm-up's end: undrained, the hook runs */
	settle(f, 4001);
	assert_false(drain_is(&f->dr));
	assert_false(drain_joining(&f->dr));
	calls_equal(f, "drain 7 h7 operator\nundrain 7 h7 none\n");
	assert_int_equal(f->dr.st.joins, 1);
	assert_int_equal(f->dr.st.undrains, 1);

	/* Drained again; a join cut short by the operator's drain. */
	assert_int_equal(drain_set(&f->dr, &f->c, &me, DRAIN_OPERATOR, 5000),
			 0);
	settle(f, 5001);
	assert_int_equal(drain_set(&f->dr, &f->c, &me, DRAIN_NONE, 6000), 0);
	assert_int_equal(drain_set(&f->dr, &f->c, &me, DRAIN_OPERATOR, 6500),
			 0);
	assert_false(drain_joining(&f->dr));
	settle(f, 9000);
	assert_true(drain_is(&f->dr));
	assert_int_equal(f->dr.st.joins_cancelled, 1);

	/* The forecast's overload ends a join the forecast's undrain began. */
	f->c.auto_drain = true;
	assert_int_equal(drain_set(&f->dr, &f->c, &me, DRAIN_FORECAST, 10000),
			 0);
	drain_forecast(&f->dr, &f->c, &me, 0, 0, 10000 + DRAIN_MIN_MS);
	assert_true(drain_joining(&f->dr));
	drain_forecast(&f->dr, &f->c, &me, 900, 0, 10001 + DRAIN_MIN_MS);
	assert_false(drain_joining(&f->dr));
	assert_int_equal(f->dr.why, DRAIN_FORECAST);
	settle(f, 20000 + DRAIN_MIN_MS);
	assert_true(drain_is(&f->dr));
	assert_int_equal(f->dr.st.joins, 3);
	assert_int_equal(f->dr.st.joins_cancelled, 2);
	/* Only the first undrain ran a hook. */
	calls_equal(f, "drain 7 h7 operator\nundrain 7 h7 none\n"
		       "drain 7 h7 operator\n");
}

/* Without hints there is nothing to warm: an undrain is at once. */
static void test_join_no_hints(void **state)
{
	struct fx *f = *state;

	f->c.join_warmup_s = 2;
	assert_int_equal(drain_set(&f->dr, &f->c, &me, DRAIN_OPERATOR, 1), 0);
	assert_int_equal(drain_set(&f->dr, &f->c, &me, DRAIN_NONE, 2), 0);
	assert_false(drain_is(&f->dr));
	assert_false(drain_joining(&f->dr));
	assert_int_equal(f->dr.st.joins, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_operator, setup, teardown),
		cmocka_unit_test_setup_teardown(test_one_at_a_time, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_forecast, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hook_hangs, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_failures, setup, teardown),
		cmocka_unit_test_setup_teardown(test_join_warmup, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_join_no_hints, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

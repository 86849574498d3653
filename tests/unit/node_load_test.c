// SPDX-License-Identifier: GPL-2.0-only
/*
 * A node's CPU load from a cgroup (node/node_load.h, steerd's 'cpu-load
 * cgroup'): the cgroup's cpu.stat usage over the machine's CPUs. A
 * directory stands in for the cgroup, its cpu.stat written by the test:
 * no growth reads 0, growth reads a share above 0 and at most 1000, a
 * counter that went back (a new cgroup) reads 0, a missing file 0.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "node/node_load.h"

static void usage_write(const char *dir, unsigned long long us)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/cpu.stat", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "usage_usec %llu\nuser_usec %llu\nsystem_usec 0\n", us, us);
	fclose(f);
}

static void measure_after(struct node_load *l, long ms)
{
	struct timespec ts = {.tv_sec = 0, .tv_nsec = ms * 1000000};

	nanosleep(&ts, NULL);
	node_load_measure(l, NULL, NULL);
}

static void test_cgroup_cpu(void **state)
{
	char dir[] = "/tmp/steer-cg-XXXXXX", cmd[64];
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	struct node_load l;

	(void)state;
	assert_non_null(mkdtemp(dir));
	memset(&l, 0, sizeof(l));
	l.cpu_cgroup = dir;
	usage_write(dir, 1000000);
	node_load_measure(&l, NULL, NULL); /* the baseline */
	assert_int_equal(l.cpu_permille, 0);
	measure_after(&l, 20); /* nothing used */
	assert_int_equal(l.cpu_permille, 0);
	/* Every CPU busy for 20 ms, at least 20 ms later: above 0, and the
	 * share cannot pass 1000. */
	usage_write(dir, 1000000 + 20000ull * (unsigned long long)ncpu);
	measure_after(&l, 20);
	assert_true(l.cpu_permille > 0 && l.cpu_permille <= 1000);
	usage_write(dir, 5); /* went back */
	measure_after(&l, 5);
	assert_int_equal(l.cpu_permille, 0);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
	measure_after(&l, 5); /* gone */
	assert_int_equal(l.cpu_permille, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cgroup_cpu),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

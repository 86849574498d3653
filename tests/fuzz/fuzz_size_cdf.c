// SPDX-License-Identifier: GPL-2.0-only
/*
 * Fuzz target: flow-size CDF files (src/util/size_cdf.c). Any bytes: the
 * parser accepts a CDF or names a bad line (or none, for a CDF too short
 * or not reaching 100), never reads past the input; on one it accepts,
 * points rise and draws stay within its sizes.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "util/size_cdf.h"

static void check(int cond)
{
	if (!cond)
		__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct size_cdf c;
	size_t line, i;
	uint64_t rng = size;
	double d;
	int err;

	err = size_cdf_parse((const char *)data, size, &c, &line);
	if (err) {
		check(err == -EINVAL && !c.n && !c.x && !c.p);
		return 0;
	}
	check(c.n >= 2 && c.p[c.n - 1] == 100);
	for (i = 1; i < c.n; i++)
		check(c.x[i] >= c.x[i - 1] && c.p[i] >= c.p[i - 1]);
	for (i = 0; i < 16; i++) {
		d = size_cdf_draw(&c, rng_uniform(&rng));
		check(d >= c.x[0] && d <= c.x[c.n - 1]);
	}
	size_cdf_free(&c);
	return 0;
}

/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A flow-size distribution read from a CDF file of
 * data/workloads/flow_size_cdfs in the hpcc format: "bytes cdf_percent"
 * per line, percents rising to 100; sizes are drawn linear between the
 * points. And the project's small deterministic generator of uniform
 * numbers (splitmix64) that tools drawing from it share.
 */
#ifndef STEER_UTIL_SIZE_CDF_H
#define STEER_UTIL_SIZE_CDF_H

#include <stddef.h>
#include <stdint.h>

struct size_cdf {
	double *x, *p; /* bytes, percent */
	size_t n;
};

/* 0, -errno (the file; -EFBIG above 16 MiB), or -EINVAL (not such a
 * CDF: *line the first bad line, 0 when the file as a whole is wrong). */
int size_cdf_read(const char *path, struct size_cdf *c, size_t *line);
/* The same, of len bytes in buf (no NUL needed; a NUL in a line is bad). */
int size_cdf_parse(const char *buf, size_t len, struct size_cdf *c,
		   size_t *line);
void size_cdf_free(struct size_cdf *c);

/* The size at uniform u in (0, 1). */
double size_cdf_draw(const struct size_cdf *c, double u);

/* Uniform in (0, 1) from state *s (splitmix64). */
double rng_uniform(uint64_t *s);

#endif /* STEER_UTIL_SIZE_CDF_H */

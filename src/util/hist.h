/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A latency histogram of fixed buckets, in microseconds: cheap to add to
 * (a short scan of HIST_BUCKETS bounds), no allocation, and read as
 * Prometheus reads a histogram (cumulative "le" buckets, a count and a
 * sum). The bounds run from 25 us to 5 s, two or three to a decade; a
 * value above the last lands only in count (the +Inf bucket).
 */
#ifndef STEER_HIST_H
#define STEER_HIST_H

#include <stdint.h>

#define HIST_BUCKETS 14

struct hist {
	uint64_t count;
	uint64_t sum_us;
	uint64_t bucket[HIST_BUCKETS]; /* values <= hist_bound_us(i), not
					  counted in a lower bucket */
};

/* The upper bound of bucket i in microseconds; 0 past the last. */
uint32_t hist_bound_us(unsigned int i);

void hist_add(struct hist *h, uint64_t us);

/* Values at or below bucket i's bound: what Prometheus calls le=. */
uint64_t hist_cumulative(const struct hist *h, unsigned int i);

/*
 * The q-quantile (0 < q <= 1) as the upper bound of the bucket it falls
 * in, in microseconds; 0 when empty; UINT64_MAX when past the last bound.
 */
uint64_t hist_quantile_us(const struct hist *h, double q);

#endif /* STEER_HIST_H */

// SPDX-License-Identifier: GPL-2.0-only
#include "util/hist.h"

static const uint32_t hist_bounds[HIST_BUCKETS] = {
	25,   50,    100,   250,    500,    1000,    2500,
	5000, 10000, 25000, 100000, 250000, 1000000, 5000000,
};

uint32_t hist_bound_us(unsigned int i)
{
	return i < HIST_BUCKETS ? hist_bounds[i] : 0;
}

void hist_add(struct hist *h, uint64_t us)
{
	unsigned int i;

	h->count++;
	h->sum_us += us;
	for (i = 0; i < HIST_BUCKETS; i++)
		if (us <= hist_bounds[i]) {
			h->bucket[i]++;
			return;
		}
}

uint64_t hist_cumulative(const struct hist *h, unsigned int i)
{
	uint64_t n = 0;
	unsigned int j;

	for (j = 0; j <= i && j < HIST_BUCKETS; j++)
		n += h->bucket[j];
	return n;
}

uint64_t hist_quantile_us(const struct hist *h, double q)
{
	uint64_t want, seen = 0;
	unsigned int i;

	if (!h->count)
		return 0;
	want = (uint64_t)(q * (double)h->count + 0.999999);
	if (want < 1)
		want = 1;
	for (i = 0; i < HIST_BUCKETS; i++) {
		seen += h->bucket[i];
		if (seen >= want)
			return hist_bounds[i];
	}
	return UINT64_MAX;
}

// SPDX-License-Identifier: GPL-2.0-only
#include "cell/hold.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct hold_dg {
	uint32_t shard;
	uint32_t len;
	uint8_t *data;
};

struct hold {
	uint64_t deadline[STEER_SHARDS]; /* 0: not waiting */
	uint32_t n_waiting;
	struct hold_dg q[HOLD_MAX];
	uint32_t n;
	struct hold_stats st;
};

struct hold *hold_new(void)
{
	return calloc(1, sizeof(struct hold));
}

void hold_free(struct hold *h)
{
	uint32_t i;

	if (!h)
		return;
	for (i = 0; i < h->n; i++)
		free(h->q[i].data);
	free(h);
}

void hold_wait(struct hold *h, uint32_t shard, uint64_t deadline_ms)
{
	if (shard >= STEER_SHARDS || !deadline_ms)
		return;
	if (!h->deadline[shard]) {
		h->n_waiting++;
		h->st.waits++;
	}
	h->deadline[shard] = deadline_ms;
}

bool hold_waiting(const struct hold *h, uint32_t shard)
{
	return shard < STEER_SHARDS && h->deadline[shard];
}

void hold_done(struct hold *h, uint32_t shard)
{
	if (!hold_waiting(h, shard))
		return;
	h->deadline[shard] = 0;
	h->n_waiting--;
}

int hold_put(struct hold *h, uint32_t shard, const uint8_t *dg, size_t len)
{
	struct hold_dg *d;

	if (h->n == HOLD_MAX || len > HOLD_DGRAM_MAX || !len) {
		h->st.dropped++;
		return -ENOSPC;
	}
	d = &h->q[h->n];
	d->data = malloc(len);
	if (!d->data) {
		h->st.dropped++;
		return -ENOSPC;
	}
	memcpy(d->data, dg, len);
	d->len = (uint32_t)len;
	d->shard = shard;
	h->n++;
	h->st.held++;
	return 0;
}

void hold_release(struct hold *h, uint64_t now_ms,
		  void (*fn)(void *arg, uint8_t *dg, size_t len), void *arg)
{
	struct hold_dg out[HOLD_MAX];
	uint32_t i, k = 0, n_out = 0;

	if (h->n_waiting)
		for (i = 0; i < STEER_SHARDS; i++)
			if (h->deadline[i] && h->deadline[i] <= now_ms) {
				hold_done(h, i);
				h->st.timeouts++;
			}
	/* Split the queue: what stays, what goes; then hand out. */
	for (i = 0; i < h->n; i++) {
		if (hold_waiting(h, h->q[i].shard))
			h->q[k++] = h->q[i];
		else
			out[n_out++] = h->q[i];
	}
	h->n = k;
	for (i = 0; i < n_out; i++) {
		h->st.released++;
		fn(arg, out[i].data, out[i].len);
		free(out[i].data);
	}
}

uint32_t hold_waiting_count(const struct hold *h)
{
	return h->n_waiting;
}

const struct hold_stats *hold_stats(const struct hold *h)
{
	return &h->st;
}

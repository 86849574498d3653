// SPDX-License-Identifier: GPL-2.0-only
#include "cell/query.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <steer/hash.h>

/* Index slots: twice the flows, so probes stay short. */
#define QUERY_SLOTS (2 * QUERY_FLOWS)
#define QUERY_EMPTY 0xffffu

struct query_dgram {
	uint8_t *p;
	size_t len;
};

struct query_flow {
	struct flow_key key;
	uint16_t ask[QUERY_ASK_MAX];
	uint32_t n_ask;
	uint32_t answered; /* bit i: ask[i] answered */
	bool found;	   /* a record came */
	bool done;	   /* the wait is over */
	uint64_t deadline_ms, resend_ms;
	struct query_dgram dg[QUERY_PER_FLOW];
	uint32_t n_dg;
};

struct query {
	struct query_flow flows[QUERY_FLOWS]; /* dense: [0, n) */
	uint32_t n;
	uint32_t held;
	uint16_t slot[QUERY_SLOTS]; /* index into flows, or QUERY_EMPTY */
	struct steer_hash_secret secret;
	struct query_stats st;
};

static bool query_key_eq(const struct flow_key *a, const struct flow_key *b)
{
	return !memcmp(a->src.b, b->src.b, 16) &&
	       !memcmp(a->dst.b, b->dst.b, 16) && a->sport == b->sport &&
	       a->dport == b->dport && a->proto == b->proto;
}

static uint32_t query_home(const struct query *q, const struct flow_key *k)
{
	return (uint32_t)flow_hash(k, &q->secret) & (QUERY_SLOTS - 1);
}

/* The slot holding k, or the empty slot where it would go. */
static uint32_t query_slot(const struct query *q, const struct flow_key *k)
{
	uint32_t s = query_home(q, k);

	while (q->slot[s] != QUERY_EMPTY &&
	       !query_key_eq(&q->flows[q->slot[s]].key, k))
		s = (s + 1) & (QUERY_SLOTS - 1);
	return s;
}

static struct query_flow *query_find(const struct query *q,
				     const struct flow_key *k)
{
	uint32_t s = query_slot(q, k);

	return q->slot[s] == QUERY_EMPTY
		       ? NULL
		       : (struct query_flow *)&q->flows[q->slot[s]];
}

/* Remove slot s, shifting back the entries whose probe passed it. */
static void query_slot_clear(struct query *q, uint32_t s)
{
	uint32_t i = s, j = s, h;

	q->slot[i] = QUERY_EMPTY;
	for (;;) {
		j = (j + 1) & (QUERY_SLOTS - 1);
		if (q->slot[j] == QUERY_EMPTY)
			return;
		h = query_home(q, &q->flows[q->slot[j]].key);
		/* Stays when its home lies cyclically in (i, j]. */
		if (i <= j ? (i < h && h <= j) : (i < h || h <= j))
			continue;
		q->slot[i] = q->slot[j];
		q->slot[j] = QUERY_EMPTY;
		i = j;
	}
}

/* Forget flow f (its datagrams are the caller's now): the last flow of
 * the dense array takes its place. */
static void query_forget(struct query *q, struct query_flow *f)
{
	uint32_t idx = (uint32_t)(f - q->flows), last = q->n - 1;

	query_slot_clear(q, query_slot(q, &f->key));
	if (idx != last) {
		q->flows[idx] = q->flows[last];
		q->slot[query_slot(q, &q->flows[idx].key)] = (uint16_t)idx;
	}
	q->n--;
}

struct query *query_new(void)
{
	struct query *q = calloc(1, sizeof(*q));

	if (!q)
		return NULL;
	memset(q->slot, 0xff, sizeof(q->slot));
	/* A keyed index: nobody aims collisions at it from outside. */
	if (getrandom(&q->secret, sizeof(q->secret), 0) !=
	    (ssize_t)sizeof(q->secret)) {
		q->secret.k0 = (uint64_t)(uintptr_t)q;
		q->secret.k1 = 0x9e3779b97f4a7c15ull;
	}
	return q;
}

void query_free(struct query *q)
{
	uint32_t i, j;

	if (!q)
		return;
	for (i = 0; i < q->n; i++)
		for (j = 0; j < q->flows[i].n_dg; j++)
			free(q->flows[i].dg[j].p);
	free(q);
}

static int query_put(struct query *q, struct query_flow *f, const uint8_t *dg,
		     size_t len)
{
	uint8_t *p;

	if (f->n_dg == QUERY_PER_FLOW || q->held == QUERY_HELD ||
	    len > QUERY_DGRAM_MAX || !(p = malloc(len ? len : 1))) {
		q->st.dropped++;
		return -ENOSPC;
	}
	memcpy(p, dg, len);
	f->dg[f->n_dg].p = p;
	f->dg[f->n_dg++].len = len;
	q->held++;
	q->st.held++;
	return 0;
}

int query_hold(struct query *q, const struct flow_key *k, const uint16_t *ask,
	       uint32_t n, const uint8_t *dg, size_t len, uint64_t now_ms)
{
	uint32_t s = query_slot(q, k);
	struct query_flow *f;

	if (n < 1 || n > QUERY_ASK_MAX)
		return -EINVAL;
	if (q->slot[s] != QUERY_EMPTY)
		return query_put(q, &q->flows[q->slot[s]], dg, len);
	if (q->n == QUERY_FLOWS || q->held == QUERY_HELD ||
	    len > QUERY_DGRAM_MAX) {
		q->st.dropped++;
		return -ENOSPC;
	}
	f = &q->flows[q->n];
	memset(f, 0, sizeof(*f));
	f->key = *k;
	memcpy(f->ask, ask, n * sizeof(*ask));
	f->n_ask = n;
	f->deadline_ms = now_ms + QUERY_WAIT_MS;
	f->resend_ms = now_ms + QUERY_RESEND_MS;
	if (query_put(q, f, dg, len))
		return -ENOSPC;
	q->slot[s] = (uint16_t)q->n++;
	q->st.flows++;
	return 1;
}

bool query_waiting(const struct query *q, const struct flow_key *k)
{
	return query_find(q, k) != NULL;
}

int query_answer(struct query *q, const struct flow_key *k, uint16_t from,
		 bool found)
{
	struct query_flow *f = query_find(q, k);
	uint32_t i;

	for (i = 0; f && i < f->n_ask; i++)
		if (f->ask[i] == from)
			break;
	if (!f || i == f->n_ask || (f->answered >> i & 1)) {
		q->st.unsolicited++;
		return -ENOENT;
	}
	f->answered |= 1u << i;
	if (f->done)
		return 0;
	if (found) {
		f->found = f->done = true;
		q->st.found++;
	} else if (f->answered == (1u << f->n_ask) - 1) {
		f->done = true;
		q->st.none++;
	}
	return f->done;
}

/* Ask again the cells of f that have not answered. */
static void query_resend(struct query *q, struct query_flow *f, uint64_t now,
			 void (*resend)(void *, const struct flow_key *,
					uint16_t),
			 void *arg)
{
	uint32_t i;

	f->resend_ms = now + QUERY_RESEND_MS;
	for (i = 0; i < f->n_ask; i++)
		if (!(f->answered >> i & 1)) {
			q->st.resent++;
			resend(arg, &f->key, f->ask[i]);
		}
}

void query_run(struct query *q, uint64_t now_ms,
	       void (*resend)(void *arg, const struct flow_key *k,
			      uint16_t cell),
	       void (*release)(void *arg, uint8_t *dg, size_t len, bool found),
	       void *arg)
{
	struct query_dgram out[QUERY_PER_FLOW];
	uint32_t i = 0, j, n;
	bool found;

	while (i < q->n) {
		struct query_flow *f = &q->flows[i];

		if (!f->done && now_ms >= f->deadline_ms) {
			f->done = true;
			q->st.timeouts++;
		}
		if (!f->done) {
			if (now_ms >= f->resend_ms)
				query_resend(q, f, now_ms, resend, arg);
			i++;
			continue;
		}
		/* Off the table before release runs: it may ask again. */
		n = f->n_dg;
		found = f->found;
		memcpy(out, f->dg, n * sizeof(*out));
		q->held -= n;
		query_forget(q, f); /* flows[i] is another flow now */
		for (j = 0; j < n; j++) {
			q->st.released++;
			release(arg, out[j].p, out[j].len, found);
			free(out[j].p);
		}
	}
}

uint32_t query_count(const struct query *q)
{
	return q->n;
}

uint32_t query_held_count(const struct query *q)
{
	return q->held;
}

const struct query_stats *query_stats(const struct query *q)
{
	return &q->st;
}

// SPDX-License-Identifier: GPL-2.0-only
#include "node/flow_tele.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* A session offered in this round: a candidate for tracking. */
struct flow_tele_cand {
	struct flow_key key;
	struct steer_sock_tele t;
	struct flow_tele_dist dist;
	double score;
};

struct flow_tele {
	uint32_t k;
	uint64_t now_ns;
	struct flow_tele_cand *heap; /* min-heap by score, k at most */
	uint32_t n_heap;
	struct flow_tele_flow *cur; /* tracked, highest score first */
	uint32_t n_cur;
	struct flow_tele_flow *next; /* the next round's, built by end() */
	uint64_t offered, offered_last;
};

struct flow_tele *flow_tele_new(uint32_t k)
{
	struct flow_tele *ft = calloc(1, sizeof(*ft));

	if (!ft)
		return NULL;
	ft->k = k ? k : FLOW_TELE_K_DEFAULT;
	ft->heap = calloc(ft->k, sizeof(*ft->heap));
	ft->cur = calloc(ft->k, sizeof(*ft->cur));
	ft->next = calloc(ft->k, sizeof(*ft->next));
	if (!ft->heap || !ft->cur || !ft->next) {
		flow_tele_free(ft);
		errno = ENOMEM;
		return NULL;
	}
	return ft;
}

void flow_tele_free(struct flow_tele *ft)
{
	if (!ft)
		return;
	free(ft->heap);
	free(ft->cur);
	free(ft->next);
	free(ft);
}

void flow_tele_begin(struct flow_tele *ft, uint64_t now_ns)
{
	ft->now_ns = now_ns;
	ft->n_heap = 0;
	ft->offered = 0;
}

static void flow_tele_swap(struct flow_tele_cand *a, struct flow_tele_cand *b)
{
	struct flow_tele_cand t = *a;

	*a = *b;
	*b = t;
}

/* Restore the heap below slot i. */
static void flow_tele_sift_down(struct flow_tele *ft, uint32_t i)
{
	for (;;) {
		uint32_t l = 2 * i + 1, r = l + 1, m = i;

		if (l < ft->n_heap && ft->heap[l].score < ft->heap[m].score)
			m = l;
		if (r < ft->n_heap && ft->heap[r].score < ft->heap[m].score)
			m = r;
		if (m == i)
			return;
		flow_tele_swap(&ft->heap[i], &ft->heap[m]);
		i = m;
	}
}

static void flow_tele_sift_up(struct flow_tele *ft, uint32_t i)
{
	while (i && ft->heap[(i - 1) / 2].score > ft->heap[i].score) {
		flow_tele_swap(&ft->heap[i], &ft->heap[(i - 1) / 2]);
		i = (i - 1) / 2;
	}
}

static void flow_tele_offer_dist(struct flow_tele *ft, const struct flow_key *k,
				 const struct steer_sock_tele *t,
				 const struct flow_tele_dist *d)
{
	uint64_t age = ft->now_ns > t->est_ns ? ft->now_ns - t->est_ns : 0;
	struct flow_tele_cand c;

	ft->offered++;
	if (!t->samples)
		return; /* no refresh yet: nothing to rank it by */
	if (age < 1000000)
		age = 1000000; /* 1 ms: a fresh session is not infinitely fast */
	c.key = *k;
	c.t = *t;
	c.dist = *d;
	c.score = (double)(t->bytes_in + t->bytes_out) * 1e9 / (double)age;
	if (ft->n_heap < ft->k) {
		ft->heap[ft->n_heap] = c;
		flow_tele_sift_up(ft, ft->n_heap++);
	} else if (c.score > ft->heap[0].score) {
		ft->heap[0] = c;
		flow_tele_sift_down(ft, 0);
	}
}

void flow_tele_offer(struct flow_tele *ft, const struct flow_key *k,
		     const struct steer_sock_tele *t)
{
	static const struct flow_tele_dist none;

	flow_tele_offer_dist(ft, k, t, &none);
}

void flow_tele_offer_udp(struct flow_tele *ft, const struct flow_key *k,
			 const struct steer_udp_seen *u)
{
	struct steer_sock_tele t = {
		.est_ns = u->first_ns,
		.seen_ns = u->last_ns,
		.bytes_in = u->bytes,
		.segs_in = (uint32_t)u->pkts,
		.samples = u->pkts ? 1 : 0,
	};
	struct flow_tele_dist d = {
		.gaps = u->pkts ? u->pkts - 1 : 0,
		.gap_sum_us = u->gap_sum_us,
		.gap_sq = u->gap_sq,
	};

	memcpy(d.size, u->size, sizeof(d.size));
	flow_tele_offer_dist(ft, k, &t, &d);
}

static int flow_tele_key_cmp(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct flow_key));
}

static int flow_tele_score_cmp(const void *a, const void *b)
{
	const struct flow_tele_flow *x = a, *y = b;

	return x->score < y->score ? 1 : x->score > y->score ? -1 : 0;
}

static void flow_tele_push(struct flow_tele_flow *f,
			   const struct steer_sock_tele *t)
{
	struct flow_tele_sample *s;

	if (f->n &&
	    f->ring[(f->head + FLOW_TELE_RING - 1) % FLOW_TELE_RING].t_ns ==
		    t->seen_ns)
		return; /* the kernel has not refreshed it since */
	s = &f->ring[f->head];
	s->t_ns = t->seen_ns;
	s->bytes_in = t->bytes_in;
	s->bytes_out = t->bytes_out;
	s->srtt_us = t->srtt_us;
	s->retrans = t->retrans;
	s->segs_in = t->segs_in;
	s->segs_out = t->segs_out;
	f->head = (f->head + 1) % FLOW_TELE_RING;
	if (f->n < FLOW_TELE_RING)
		f->n++;
}

/*
 * The candidates become the tracked flows: both lists sorted by key and
 * merged, so a flow tracked before keeps its ring; then by score.
 */
void flow_tele_end(struct flow_tele *ft)
{
	struct flow_tele_flow *tmp;
	uint32_t i, j = 0;

	qsort(ft->heap, ft->n_heap, sizeof(*ft->heap), flow_tele_key_cmp);
	qsort(ft->cur, ft->n_cur, sizeof(*ft->cur), flow_tele_key_cmp);
	for (i = 0; i < ft->n_heap; i++) {
		const struct flow_tele_cand *c = &ft->heap[i];
		struct flow_tele_flow *f = &ft->next[i];
		int cmp = 1;

		while (j < ft->n_cur &&
		       (cmp = flow_tele_key_cmp(&ft->cur[j].key, &c->key)) < 0)
			j++;
		if (j < ft->n_cur && cmp == 0)
			*f = ft->cur[j];
		else
			memset(f, 0, sizeof(*f));
		f->key = c->key;
		f->dist = c->dist;
		f->est_ns = c->t.est_ns;
		f->score = c->score;
		flow_tele_push(f, &c->t);
	}
	tmp = ft->cur;
	ft->cur = ft->next;
	ft->next = tmp;
	ft->n_cur = ft->n_heap;
	qsort(ft->cur, ft->n_cur, sizeof(*ft->cur), flow_tele_score_cmp);
	ft->offered_last = ft->offered;
}

uint32_t flow_tele_count(const struct flow_tele *ft)
{
	return ft->n_cur;
}

static const struct flow_tele_sample *
flow_tele_at(const struct flow_tele_flow *f, uint32_t back)
{
	return &f->ring[(f->head + 2 * FLOW_TELE_RING - 1 - back) %
			FLOW_TELE_RING];
}

/* Least-squares slope of the RTT over the ring, microseconds per second. */
static double flow_tele_trend(const struct flow_tele_flow *f)
{
	double st = 0, sy = 0, stt = 0, sty = 0, n = f->n, t0, d;
	uint32_t i;

	if (f->n < 3)
		return 0;
	t0 = (double)flow_tele_at(f, f->n - 1)->t_ns;
	for (i = 0; i < f->n; i++) {
		const struct flow_tele_sample *s = flow_tele_at(f, i);
		double t = ((double)s->t_ns - t0) / 1e9, y = s->srtt_us;

		st += t;
		sy += y;
		stt += t * t;
		sty += t * y;
	}
	d = n * stt - st * st;
	return d > 1e-12 ? (n * sty - st * sy) / d : 0;
}

/* Shares of the size classes, mean and deviation of the gaps. */
static void flow_tele_dist_view(const struct flow_tele_dist *d,
				struct flow_tele_view *v)
{
	double n = 0, mean, var;
	int i;

	for (i = 0; i < STEER_TELE_SIZES; i++)
		n += d->size[i];
	if (n <= 0)
		return;
	v->has_dist = true;
	for (i = 0; i < STEER_TELE_SIZES; i++)
		v->size_share[i] = d->size[i] / n;
	if (!d->gaps)
		return;
	mean = (double)d->gap_sum_us / (double)d->gaps;
	var = (double)d->gap_sq / (double)d->gaps - mean * mean;
	v->gap_mean_us = mean;
	v->gap_sd_us = var > 0 ? sqrt(var) : 0;
}

int flow_tele_get(const struct flow_tele *ft, uint32_t i,
		  struct flow_tele_view *v)
{
	const struct flow_tele_flow *f;
	const struct flow_tele_sample *last, *prev;
	double dt, segs;

	if (i >= ft->n_cur)
		return -ENOENT;
	f = &ft->cur[i];
	last = flow_tele_at(f, 0);
	memset(v, 0, sizeof(*v));
	v->key = f->key;
	v->age_s = ft->now_ns > f->est_ns
			   ? (double)(ft->now_ns - f->est_ns) / 1e9
			   : 0;
	v->avg_rate = f->score;
	v->srtt_us = last->srtt_us;
	v->samples = f->n;
	segs = (double)last->segs_in + last->segs_out;
	if (segs > 0)
		v->mean_seg_bytes =
			(double)(last->bytes_in + last->bytes_out) / segs;
	v->rtt_trend_us_per_s = flow_tele_trend(f);
	flow_tele_dist_view(&f->dist, v);
	if (f->n < 2)
		return 0;
	prev = flow_tele_at(f, 1);
	dt = (double)(last->t_ns - prev->t_ns) / 1e9;
	if (dt <= 0)
		return 0;
	v->in_rate = (double)(last->bytes_in - prev->bytes_in) / dt;
	v->out_rate = (double)(last->bytes_out - prev->bytes_out) / dt;
	v->retrans_per_s = (double)(last->retrans - prev->retrans) / dt;
	return 0;
}

uint64_t flow_tele_offered(const struct flow_tele *ft)
{
	return ft->offered_last;
}

size_t flow_tele_memory(const struct flow_tele *ft)
{
	return sizeof(*ft) + ft->k * (sizeof(*ft->heap) + 2 * sizeof(*ft->cur));
}

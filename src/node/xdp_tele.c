// SPDX-License-Identifier: GPL-2.0-only
#include "node/xdp_tele.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "xdp/xdp_maps.h"
#include "xdp/xdp_tele_maps.h"

/* A candidate of this round: a flow and how often the sampling named it. */
struct xdp_tele_cand {
	struct flow_key key;
	uint32_t samples;
};

struct xdp_tele {
	uint32_t k;
	uint32_t gen;
	uint64_t last_ns; /* the last round; 0: none yet */
	struct xdp_tele_slot *slot;
	struct steer_flow_tele *read; /* this round's reading, k slots */
	struct flow_key *ckeys;	      /* candidates as taken */
	uint32_t *csamples;
	struct xdp_tele_cand *cand; /* ranked */
	uint32_t *order;	    /* used slots, by bytes/s, highest first */
	uint32_t *weak;		    /* used slots, by packets/s, lowest first */
	uint32_t n_order;
	struct xdp_tele_stats st;
};

struct xdp_tele *xdp_tele_new(uint32_t k)
{
	struct xdp_tele *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->k = k && k < STEER_XDP_TELE_SLOTS ? k : STEER_XDP_TELE_SLOTS;
	t->slot = calloc(t->k, sizeof(*t->slot));
	t->read = calloc(STEER_XDP_TELE_SLOTS, sizeof(*t->read));
	t->ckeys = calloc(STEER_XDP_TELE_CANDS, sizeof(*t->ckeys));
	t->csamples = calloc(STEER_XDP_TELE_CANDS, sizeof(*t->csamples));
	t->cand = calloc(STEER_XDP_TELE_CANDS, sizeof(*t->cand));
	t->order = calloc(t->k, sizeof(*t->order));
	t->weak = calloc(t->k, sizeof(*t->weak));
	if (!t->slot || !t->read || !t->ckeys || !t->csamples || !t->cand ||
	    !t->order || !t->weak) {
		xdp_tele_free(t);
		errno = ENOMEM;
		return NULL;
	}
	return t;
}

void xdp_tele_free(struct xdp_tele *t)
{
	if (!t)
		return;
	free(t->slot);
	free(t->read);
	free(t->ckeys);
	free(t->csamples);
	free(t->cand);
	free(t->order);
	free(t->weak);
	free(t);
}

static void xdp_tele_err(struct xdp_tele *t, int err, int *first)
{
	t->st.errors++;
	if (!*first)
		*first = err;
}

/* Slot i's flow stops being tracked; its rule loses the stamp. */
static void xdp_tele_release(struct xdp_tele *t, struct xdp_prog *x, uint32_t i,
			     int *first)
{
	int err = xdp_maps_rule_tele(x, &t->slot[i].key, 0);

	if (err && err != -ENOENT)
		xdp_tele_err(t, err, first);
	t->slot[i].used = 0;
}

/* Rates of slot i from this round's reading over dt seconds. */
static void xdp_tele_rates(struct xdp_tele_slot *s,
			   const struct steer_flow_tele *now, double dt)
{
	uint64_t dp = now->pkts - s->last.pkts, db = now->bytes - s->last.bytes;

	if (now->pkts < s->last.pkts || now->bytes < s->last.bytes)
		dp = db = 0; /* the slot was reset behind us */
	s->pps = dt > 0 ? (double)dp / dt : 0;
	s->bps = dt > 0 ? (double)db / dt : 0;
	s->ring[s->head] = (float)s->bps;
	s->head = (s->head + 1) % XDP_TELE_RING;
	if (s->n < XDP_TELE_RING)
		s->n++;
	s->idle = dp ? 0 : (uint8_t)(s->idle < 255 ? s->idle + 1 : 255);
	s->last = *now;
}

/* A slot whose flow sent nothing this round: is its rule still there and
 * still stamped? */
static void xdp_tele_check_idle(struct xdp_tele *t, struct xdp_prog *x,
				uint32_t i, int *first)
{
	struct xdp_tele_slot *s = &t->slot[i];
	struct steer_rule r;
	int err = xdp_maps_rule_get(x, &s->key, &r);

	if (err == -ENOENT) {
		s->used = 0;
		t->st.freed_gone++;
		return;
	}
	if (err) {
		xdp_tele_err(t, err, first);
		return;
	}
	if (s->idle >= XDP_TELE_IDLE_ROUNDS) {
		xdp_tele_release(t, x, i, first);
		t->st.freed_idle++;
		return;
	}
	if (r.tele != i + 1) {
		err = xdp_maps_rule_tele(x, &s->key, i + 1);
		if (err && err != -ENOENT)
			xdp_tele_err(t, err, first);
		else if (!err)
			t->st.restamped++;
	}
}

/* Step 1 and 2: every tracked flow's rates; idle slots checked. */
static void xdp_tele_update(struct xdp_tele *t, struct xdp_prog *x, double dt,
			    int *first)
{
	uint32_t i;

	for (i = 0; i < t->k; i++) {
		struct xdp_tele_slot *s = &t->slot[i];

		if (!s->used)
			continue;
		if (t->read[i].gen != s->gen) { /* not ours: reloaded */
			xdp_tele_release(t, x, i, first);
			t->st.freed_gone++;
			continue;
		}
		xdp_tele_rates(s, &t->read[i], dt);
		if (s->idle)
			xdp_tele_check_idle(t, x, i, first);
	}
}

static int xdp_tele_cand_cmp(const void *a, const void *b)
{
	const struct xdp_tele_cand *x = a, *y = b;

	return x->samples < y->samples ? 1 : x->samples > y->samples ? -1 : 0;
}

static int xdp_tele_weak_cmp(const void *a, const void *b, void *arg)
{
	const struct xdp_tele_slot *s = arg;
	double x = s[*(const uint32_t *)a].pps, y = s[*(const uint32_t *)b].pps;

	return x < y ? -1 : x > y;
}

/* The slots to hand out, in order: free ones, then used ones by packet
 * rate, lowest first (t->weak[]); how many. */
static uint32_t xdp_tele_weak_list(struct xdp_tele *t)
{
	uint32_t i, n = 0, nfree = 0;

	for (i = 0; i < t->k; i++)
		if (!t->slot[i].used)
			t->weak[nfree++] = i;
	n = nfree;
	for (i = 0; i < t->k; i++)
		if (t->slot[i].used)
			t->weak[n++] = i;
	qsort_r(t->weak + nfree, n - nfree, sizeof(*t->weak), xdp_tele_weak_cmp,
		t->slot);
	return n;
}

/* Give slot i to flow k: zeroed, then the rule stamped. */
static int xdp_tele_give(struct xdp_tele *t, struct xdp_prog *x, uint32_t i,
			 const struct flow_key *k, uint64_t now_ns)
{
	struct xdp_tele_slot *s = &t->slot[i];
	int err;

	t->gen++;
	err = xdp_tele_slot_reset(x, i, t->gen);
	if (!err)
		err = xdp_maps_rule_tele(x, k, i + 1);
	if (err)
		return err;
	memset(s, 0, sizeof(*s));
	s->key = *k;
	s->gen = t->gen;
	s->last.gen = t->gen;
	s->since_ns = now_ns;
	s->used = 1;
	t->st.given++;
	return 0;
}

/* Is candidate c worth slot i? A free slot always; a used one when its
 * flow's packet rate is below half of c's estimate. */
static int xdp_tele_worth(const struct xdp_tele *t, uint32_t i,
			  const struct xdp_tele_cand *c, double dt)
{
	double est = dt > 0 ? (double)c->samples * STEER_TELE_SAMPLE / dt : 0;

	return !t->slot[i].used || t->slot[i].pps < est / 2;
}

/* Step 3: the candidates take free slots, then slower flows' slots. */
static void xdp_tele_promote(struct xdp_tele *t, struct xdp_prog *x, double dt,
			     uint64_t now_ns, int *first)
{
	int n = xdp_tele_cands_take(x, t->ckeys, t->csamples,
				    STEER_XDP_TELE_CANDS);
	uint32_t nweak, w = 0, c;
	struct steer_rule r;
	int err;

	if (n < 0) {
		xdp_tele_err(t, n, first);
		return;
	}
	t->st.candidates += (uint64_t)n;
	for (c = 0; c < (uint32_t)n; c++) {
		t->cand[c].key = t->ckeys[c];
		t->cand[c].samples = t->csamples[c];
	}
	qsort(t->cand, (size_t)n, sizeof(*t->cand), xdp_tele_cand_cmp);
	nweak = xdp_tele_weak_list(t);
	for (c = 0; c < (uint32_t)n && w < nweak; c++) {
		uint32_t i = t->weak[w];

		if (!xdp_tele_worth(t, i, &t->cand[c], dt))
			break; /* ranked: no later candidate is worth more */
		if (xdp_maps_rule_get(x, &t->cand[c].key, &r) || r.tele)
			continue; /* ended, or tracked already */
		if (t->slot[i].used) {
			xdp_tele_release(t, x, i, first);
			t->st.evicted++;
		}
		err = xdp_tele_give(t, x, i, &t->cand[c].key, now_ns);
		if (err)
			xdp_tele_err(t, err, first);
		w++;
	}
}

static int xdp_tele_order_cmp(const void *a, const void *b, void *arg)
{
	const struct xdp_tele_slot *s = arg;
	double x = s[*(const uint32_t *)a].bps, y = s[*(const uint32_t *)b].bps;

	return x < y ? 1 : x > y ? -1 : 0;
}

static void xdp_tele_sort(struct xdp_tele *t)
{
	uint32_t i;

	t->n_order = 0;
	for (i = 0; i < t->k; i++)
		if (t->slot[i].used)
			t->order[t->n_order++] = i;
	qsort_r(t->order, t->n_order, sizeof(*t->order), xdp_tele_order_cmp,
		t->slot);
}

int xdp_tele_round(struct xdp_tele *t, struct xdp_prog *x, uint64_t now_ns)
{
	double dt = t->last_ns && now_ns > t->last_ns
			    ? (double)(now_ns - t->last_ns) / 1e9
			    : 0;
	int first = 0, err;

	t->st.rounds++;
	err = xdp_tele_slots_read(x, t->read, t->k);
	if (err)
		xdp_tele_err(t, err, &first);
	else
		xdp_tele_update(t, x, dt, &first);
	xdp_tele_promote(t, x, dt, now_ns, &first);
	xdp_tele_sort(t);
	t->last_ns = now_ns;
	return first;
}

uint32_t xdp_tele_count(const struct xdp_tele *t)
{
	return t->n_order;
}

/* Least-squares slope of bytes/s over the ring, per round (per second
 * at one round a second). */
static double xdp_tele_trend(const struct xdp_tele_slot *s)
{
	double sx = 0, sy = 0, sxx = 0, sxy = 0, n = s->n;
	uint32_t j;

	if (s->n < 3)
		return 0;
	for (j = 0; j < s->n; j++) {
		uint32_t at =
			(s->head + XDP_TELE_RING - s->n + j) % XDP_TELE_RING;
		double y = s->ring[at];

		sx += j;
		sy += y;
		sxx += (double)j * j;
		sxy += j * y;
	}
	return (n * sxy - sx * sy) / (n * sxx - sx * sx);
}

/* Gaps between packets, microseconds: mean and standard deviation. */
static void xdp_tele_gaps(const struct steer_flow_tele *f, double *mean,
			  double *sd)
{
	double unit = (double)(1u << STEER_TELE_GAP_SHIFT) / 1000.0;
	double n = f->gap_n, m, var;

	*mean = *sd = 0;
	if (n <= 0)
		return;
	m = (double)f->gap_sum / n;
	var = (double)f->gap_sq / n - m * m;
	*mean = m * unit;
	*sd = var > 0 ? sqrt(var) * unit : 0;
}

int xdp_tele_get(const struct xdp_tele *t, uint32_t i, struct xdp_tele_view *v)
{
	const struct xdp_tele_slot *s;
	const struct steer_flow_tele *f;
	int j;

	if (i >= t->n_order)
		return -ENOENT;
	s = &t->slot[t->order[i]];
	f = &s->last;
	memset(v, 0, sizeof(*v));
	v->key = s->key;
	v->age_s = t->last_ns > s->since_ns
			   ? (double)(t->last_ns - s->since_ns) / 1e9
			   : 0;
	v->pps = s->pps;
	v->bps = s->bps;
	v->trend_bps_s = xdp_tele_trend(s);
	v->pkts = f->pkts;
	v->mean_bytes = f->pkts ? (double)f->bytes / (double)f->pkts : 0;
	for (j = 0; j < STEER_TELE_SIZES; j++)
		v->size_share[j] =
			f->pkts ? (double)f->size[j] / (double)f->pkts : 0;
	xdp_tele_gaps(f, &v->gap_mean_us, &v->gap_sd_us);
	v->gaps = f->gap_n;
	return 0;
}

const struct xdp_tele_stats *xdp_tele_stats(const struct xdp_tele *t)
{
	return &t->st;
}

size_t xdp_tele_memory(const struct xdp_tele *t)
{
	return sizeof(*t) + t->k * (sizeof(*t->slot) + 2 * sizeof(uint32_t)) +
	       STEER_XDP_TELE_SLOTS * sizeof(*t->read) +
	       STEER_XDP_TELE_CANDS * (sizeof(*t->ckeys) + sizeof(uint32_t) +
				       sizeof(*t->cand));
}

// SPDX-License-Identifier: GPL-2.0-only
#include "fastpath/fsc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

_Static_assert(sizeof(struct fsc_entry) == 64, "an FSC entry is one line");

void fsc_cfg_default(struct fsc_cfg *cfg, uint32_t capacity)
{
	cfg->capacity = capacity;
	cfg->tcp_timeout_ms = 300 * 1000;
	cfg->tcp_closing_timeout_ms = 10 * 1000;
	cfg->udp_timeout_ms = 30 * 1000;
	cfg->other_timeout_ms = 30 * 1000;
}

#define FSC_HUGE (2u << 20)

/*
 * The slots: 2 MiB-aligned anonymous memory with transparent huge pages
 * asked for when the table spans one or more huge pages (a lookup then
 * misses the TLB far less often), touched once so no page fault waits on
 * the packet path. Small tables come from the heap. NULL on ENOMEM.
 */
static struct fsc_entry *fsc_slots_alloc(size_t bytes, void **map,
					 size_t *map_len)
{
	uint8_t *p, *aligned;
	void *heap;

	*map = NULL;
	*map_len = 0;
	if (bytes < FSC_HUGE) {
		heap = aligned_alloc(64, bytes);
		if (heap)
			memset(heap, 0, bytes);
		return heap;
	}
	p = mmap(NULL, bytes + FSC_HUGE, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	aligned = (uint8_t *)(((uintptr_t)p + FSC_HUGE - 1) &
			      ~(uintptr_t)(FSC_HUGE - 1));
	/* Without THP the table still works, on small pages. */
	(void)madvise(aligned, bytes, MADV_HUGEPAGE);
	memset(aligned, 0, bytes);
	*map = p;
	*map_len = bytes + FSC_HUGE;
	return (struct fsc_entry *)aligned;
}

struct fsc *fsc_new(const struct fsc_cfg *cfg)
{
	uint32_t cap = 64;
	struct fsc *f;

	if (!cfg->capacity || cfg->capacity > (1u << 28)) {
		errno = EINVAL;
		return NULL;
	}
	while (cap < cfg->capacity)
		cap <<= 1;
	f = calloc(1, sizeof(*f));
	if (!f)
		return NULL;
	f->slots = fsc_slots_alloc((size_t)cap * sizeof(struct fsc_entry),
				   &f->map, &f->map_len);
	if (!f->slots) {
		free(f);
		errno = ENOMEM;
		return NULL;
	}
	f->nsets = cap / FSC_WAYS;
	f->cfg = *cfg;
	f->cfg.capacity = cap;
	f->min_timeout_ms = cfg->tcp_timeout_ms;
	if (cfg->tcp_closing_timeout_ms < f->min_timeout_ms)
		f->min_timeout_ms = cfg->tcp_closing_timeout_ms;
	if (cfg->udp_timeout_ms < f->min_timeout_ms)
		f->min_timeout_ms = cfg->udp_timeout_ms;
	if (cfg->other_timeout_ms < f->min_timeout_ms)
		f->min_timeout_ms = cfg->other_timeout_ms;
	return f;
}

void fsc_free(struct fsc *f)
{
	if (!f)
		return;
	if (f->map)
		munmap(f->map, f->map_len);
	else
		free(f->slots);
	free(f);
}

/* Set B: from bits 35 and up; A's neighbour when both fall together. */
static inline uint32_t fsc_set_b(const struct fsc *f, uint64_t hash)
{
	uint32_t b = (uint32_t)(hash >> 35) & (f->nsets - 1);

	return b != fsc_set_a(f, hash) ? b : b ^ 1;
}

static uint32_t fsc_timeout(const struct fsc *f, const struct fsc_entry *e)
{
	switch (e->proto) {
	case 6:
		return (e->state & FSC_ST_MASK) == FSC_ST_EST
			       ? f->cfg.tcp_timeout_ms
			       : f->cfg.tcp_closing_timeout_ms;
	case 17:
		return f->cfg.udp_timeout_ms;
	}
	return f->cfg.other_timeout_ms;
}

/* Entries seen within the shortest timeout skip the per-state check. */
static inline int fsc_is_idle(const struct fsc *f, const struct fsc_entry *e,
			      uint32_t now_ms)
{
	int32_t idle = (int32_t)(now_ms - e->last_ms);

	return idle > (int32_t)f->min_timeout_ms &&
	       idle > (int32_t)fsc_timeout(f, e);
}

static void fsc_slot_clear(struct fsc *f, struct fsc_entry *e)
{
	memset(e, 0, sizeof(*e));
	f->count--;
}

/* k in one set, or NULL; an idle match is freed and counted. */
static struct fsc_entry *fsc_find(struct fsc *f, struct fsc_entry *set,
				  uint32_t w0, const struct flow_key *k,
				  uint32_t now_ms, int *expired)
{
	uint32_t i;

	for (i = 0; i < FSC_WAYS; i++) {
		struct fsc_entry *e = &set[(w0 + i) & (FSC_WAYS - 1)];

		if (e->action == STEER_ACT_NONE || !fsc_key_match(e, k))
			continue;
		if (fsc_is_idle(f, e, now_ms)) {
			fsc_slot_clear(f, e);
			f->st.expired++;
			*expired = 1;
			return NULL;
		}
		return e;
	}
	return NULL;
}

struct fsc_entry *fsc_lookup_slow(struct fsc *f, const struct flow_key *k,
				  uint64_t hash, uint32_t now_ms)
{
	int expired = 0;
	struct fsc_entry *e = fsc_find(f, fsc_set(f, fsc_set_a(f, hash)),
				       fsc_way0(hash, 0), k, now_ms, &expired);

	if (!e && !expired)
		e = fsc_find(f, fsc_set(f, fsc_set_b(f, hash)),
			     fsc_way0(hash, 1), k, now_ms, &expired);
	if (!e) {
		f->st.misses++;
		return NULL;
	}
	e->state |= FSC_ST_REF;
	f->st.hits++;
	return e;
}

static void fsc_entry_fill(struct fsc_entry *e, const struct flow_key *k,
			   const struct steer_rule *r)
{
	memcpy(&e->src, &k->src, 32);
	e->sport = k->sport;
	e->dport = k->dport;
	e->proto = k->proto;
	e->owner = r->owner;
	e->tmpl = r->tmpl;
	memcpy(e->mirror, r->mirror, sizeof(e->mirror));
	e->action = r->action;
	e->rf = r->rf;
	e->epoch = r->epoch;
}

/* A free way of the set, or NULL; *live counts the occupied ones. */
static struct fsc_entry *fsc_free_way(struct fsc_entry *set, uint32_t w0,
				      uint32_t *live)
{
	struct fsc_entry *free_way = NULL;
	uint32_t i;

	*live = 0;
	for (i = 0; i < FSC_WAYS; i++) {
		struct fsc_entry *e = &set[(w0 + i) & (FSC_WAYS - 1)];

		if (e->action != STEER_ACT_NONE)
			(*live)++;
		else if (!free_way)
			free_way = e;
	}
	return free_way;
}

/* An idle entry of the set, freed, or NULL. */
static struct fsc_entry *fsc_idle_way(struct fsc *f, struct fsc_entry *set,
				      uint32_t now_ms)
{
	uint32_t i;

	for (i = 0; i < FSC_WAYS; i++) {
		if (fsc_is_idle(f, &set[i], now_ms)) {
			fsc_slot_clear(f, &set[i]);
			f->st.expired++;
			return &set[i];
		}
	}
	return NULL;
}

/* CLOCK over one set: two turns at most, the first clears every bit. */
static struct fsc_entry *fsc_clock_way(struct fsc *f, struct fsc_entry *set)
{
	uint32_t i, hand = f->hand++;

	for (i = 0; i < 2 * FSC_WAYS; i++) {
		struct fsc_entry *e = &set[(hand + i) & (FSC_WAYS - 1)];

		if (!(e->state & FSC_ST_REF)) {
			fsc_slot_clear(f, e);
			f->st.evictions++;
			return e;
		}
		e->state &= ~FSC_ST_REF;
	}
	return NULL; /* not reached: the second turn finds a clear bit */
}

/*
 * A slot for a new entry of hash: a free way of the first candidate set
 * (so most hits read one set), of the second when the first is full, else an idle entry of either, else the CLOCK victim of each set
 * in turn (so both share the evictions).
 */
static struct fsc_entry *fsc_victim(struct fsc *f, uint64_t hash,
				    uint32_t now_ms)
{
	struct fsc_entry *a = fsc_set(f, fsc_set_a(f, hash));
	struct fsc_entry *b = fsc_set(f, fsc_set_b(f, hash));
	struct fsc_entry *fa, *fb, *e;
	uint32_t la, lb;

	fa = fsc_free_way(a, fsc_way0(hash, 0), &la);
	fb = fa ? NULL : fsc_free_way(b, fsc_way0(hash, 1), &lb);
	if (fa)
		return fa;
	if (fb)
		return fb;
	e = fsc_idle_way(f, a, now_ms);
	if (!e)
		e = fsc_idle_way(f, b, now_ms);
	if (!e)
		e = fsc_clock_way(f, (f->evict_b ^= 1) ? b : a);
	return e;
}

static struct fsc_entry *fsc_find_any(struct fsc *f, const struct flow_key *k,
				      uint64_t hash)
{
	int set, i;

	for (set = 0; set < 2; set++) {
		struct fsc_entry *s = fsc_set(f, set ? fsc_set_b(f, hash)
						     : fsc_set_a(f, hash));

		for (i = 0; i < FSC_WAYS; i++)
			if (s[i].action != STEER_ACT_NONE &&
			    fsc_key_match(&s[i], k))
				return &s[i];
	}
	return NULL;
}

struct fsc_entry *fsc_insert(struct fsc *f, const struct flow_key *k,
			     uint64_t hash, const struct steer_rule *r,
			     uint32_t now_ms)
{
	struct fsc_entry *e;

	if (r->action == STEER_ACT_NONE || r->action >= STEER_ACT__MAX) {
		errno = EINVAL;
		return NULL;
	}
	e = fsc_find_any(f, k, hash);
	if (e) {
		fsc_entry_fill(e, k, r);
		f->st.updates++;
		return e;
	}
	e = fsc_victim(f, hash, now_ms);
	fsc_entry_fill(e, k, r);
	e->state = FSC_ST_NEW | FSC_ST_REF;
	e->last_ms = now_ms;
	e->packets = 0;
	e->bytes = 0;
	f->count++;
	f->st.inserts++;
	return e;
}

int fsc_delete(struct fsc *f, const struct flow_key *k, uint64_t hash)
{
	struct fsc_entry *e = fsc_find_any(f, k, hash);

	if (!e)
		return -ENOENT;
	fsc_slot_clear(f, e);
	f->st.deletes++;
	return 0;
}

void fsc_entry_rule(const struct fsc_entry *e, struct steer_rule *r)
{
	memset(r, 0, sizeof(*r));
	r->epoch = e->epoch;
	r->owner = e->owner;
	r->tmpl = e->tmpl;
	memcpy(r->mirror, e->mirror, sizeof(r->mirror));
	r->action = e->action;
	r->rf = e->rf;
}

void fsc_entry_key(const struct fsc_entry *e, struct flow_key *k)
{
	memset(k, 0, sizeof(*k));
	memcpy(&k->src, &e->src, 32);
	k->sport = e->sport;
	k->dport = e->dport;
	k->proto = e->proto;
}

void fsc_prefetch(const struct fsc *f, uint64_t hash)
{
	const struct fsc_entry *set = fsc_set(f, fsc_set_a(f, hash));

	__builtin_prefetch(&set[fsc_way0(hash, 0)], 1, 3);
}

uint32_t fsc_expire(struct fsc *f, uint32_t now_ms, uint32_t budget)
{
	uint32_t cap = f->cfg.capacity, freed = 0;

	while (budget--) {
		struct fsc_entry *e = &f->slots[f->sweep_next];

		f->sweep_next = (f->sweep_next + 1) & (cap - 1);
		if (e->action != STEER_ACT_NONE && fsc_is_idle(f, e, now_ms)) {
			fsc_slot_clear(f, e);
			f->st.expired++;
			freed++;
		}
	}
	return freed;
}

int fsc_foreach(const struct fsc *f,
		int (*fn)(const struct fsc_entry *e, void *arg), void *arg)
{
	uint32_t i;
	int ret;

	for (i = 0; i < f->cfg.capacity; i++) {
		if (f->slots[i].action == STEER_ACT_NONE)
			continue;
		ret = fn(&f->slots[i], arg);
		if (ret)
			return ret;
	}
	return 0;
}

uint32_t fsc_capacity(const struct fsc *f)
{
	return f->cfg.capacity;
}

uint32_t fsc_count(const struct fsc *f)
{
	return f->count;
}

size_t fsc_memory(const struct fsc *f)
{
	return (size_t)f->cfg.capacity * sizeof(struct fsc_entry);
}

void fsc_get_stats(const struct fsc *f, struct fsc_stats *st)
{
	*st = f->st;
}

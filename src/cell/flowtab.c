// SPDX-License-Identifier: GPL-2.0-only
/*
 * Flow table of a cell: a chained hash table over a fixed pool of entries.
 *
 * Layout, allocated once: entries[capacity] (record + links), then
 * buckets[capacity] (index of a chain's first entry). Links are 32-bit
 * entry indexes, FT_NIL for none. A free entry has state 0 and sits on a
 * free list threaded through its chain link. Every used entry is on its
 * bucket's chain (singly linked) and on its shard's list (doubly linked,
 * heads and counts in struct flowtab), so delete and shard walk are cheap.
 *
 * The entry keeps the low 32 bits of the flow hash: the shard is its low
 * 12 bits, and the bucket is the hash rotated right by 12, masked, so
 * buckets are independent of shards up to 2^20 buckets and still uniform
 * beyond; a chain compares the stored hash before the key.
 */
#include "cell/flowtab.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#define FT_NIL UINT32_MAX
#define FT_HUGE (2u << 20)
/* Entries a full table looks at for an expired tombstone before -ENOSPC. */
#define FT_RECLAIM_SCAN 256
#define FT_VERSION_LIMIT (1ull << 63)
/* Versions issued between two readings of the clock, at most. */
#define FT_CLOCK_EVERY 4096

_Static_assert((FLOWTAB_SHARDS & (FLOWTAB_SHARDS - 1)) == 0,
	       "shards are a power of two");
_Static_assert(FLOWTAB_SHARDS == 4096, "the bucket rotation assumes 12 bits");

struct flowtab_entry {
	uint32_t hash;	/* low 32 bits of flow_hash() */
	uint32_t next;	/* bucket chain; free list when free */
	uint32_t snext; /* shard list */
	uint32_t sprev;
	struct flowtab_rec rec; /* rec.state 0: free */
};

_Static_assert(sizeof(struct flowtab_entry) == 104, "an entry is 104 bytes");
/* Per flow: the entry and its bucket; the shard heads are per table. */
_Static_assert(sizeof(struct flowtab_entry) + sizeof(uint32_t) <= 128,
	       "at most 128 bytes per flow");

struct flowtab {
	struct flowtab_entry *ents;
	uint32_t *buckets;
	void *map; /* the mapping the arrays lie in; NULL: on the heap */
	size_t map_len;
	uint32_t mask; /* capacity - 1 */
	uint32_t free_head;
	uint32_t count;
	uint32_t ntomb;
	uint32_t sweep;	     /* next entry flowtab_expire() visits */
	uint32_t visit;	     /* next entry flowtab_visit() visits */
	uint32_t reclaim;    /* next entry a full table looks at */
	uint64_t vclock;     /* highest version issued or applied */
	uint32_t clock_now;  /* now at the last clock reading */
	uint32_t clock_left; /* versions before the clock must be read */
	bool pressure;	     /* half-open flows idle out sooner */
	struct flowtab_cfg cfg;
	struct flowtab_stats st;
	uint32_t shard_head[FLOWTAB_SHARDS];
	uint32_t shard_cnt[FLOWTAB_SHARDS];
};

void flowtab_cfg_default(struct flowtab_cfg *cfg, uint32_t capacity)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->capacity = capacity;
	cfg->self_id = STEER_NODE_NONE;
	cfg->tcp_timeout_ms = 300 * 1000;
	cfg->tcp_closing_timeout_ms = 10 * 1000;
	cfg->udp_timeout_ms = 30 * 1000;
	cfg->other_timeout_ms = 30 * 1000;
	cfg->closed_timeout_ms = 10 * 1000;
}

/*
 * The arrays: 2 MiB-aligned anonymous memory with transparent huge pages
 * asked for when they span a huge page or more (fewer TLB misses per
 * lookup), small tables on the heap. Not zeroed: flowtab_new() writes
 * every byte, which also faults every page in before the first packet.
 */
static void *ft_region_alloc(size_t bytes, void **map, size_t *map_len)
{
	uint8_t *p, *aligned;

	*map = NULL;
	*map_len = 0;
	if (bytes < FT_HUGE)
		return aligned_alloc(64, (bytes + 63) & ~(size_t)63);
	p = mmap(NULL, bytes + FT_HUGE, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	aligned = (uint8_t *)(((uintptr_t)p + FT_HUGE - 1) &
			      ~(uintptr_t)(FT_HUGE - 1));
	/* Without THP the table still works, on small pages. */
	(void)madvise(aligned, bytes, MADV_HUGEPAGE);
	*map = p;
	*map_len = bytes + FT_HUGE;
	return aligned;
}

static int ft_cfg_valid(const struct flowtab_cfg *cfg)
{
	return cfg->capacity && cfg->capacity <= FLOWTAB_MAX_CAPACITY &&
	       cfg->tcp_timeout_ms <= INT32_MAX &&
	       cfg->tcp_closing_timeout_ms <= INT32_MAX &&
	       cfg->tcp_opening_timeout_ms <= INT32_MAX &&
	       cfg->tcp_halfopen_timeout_ms <= INT32_MAX &&
	       cfg->udp_timeout_ms <= INT32_MAX &&
	       cfg->other_timeout_ms <= INT32_MAX &&
	       cfg->closed_timeout_ms <= INT32_MAX;
}

struct flowtab *flowtab_new(const struct flowtab_cfg *cfg)
{
	uint32_t cap = 64, i;
	struct flowtab *t;
	size_t ebytes;

	if (!ft_cfg_valid(cfg)) {
		errno = EINVAL;
		return NULL;
	}
	while (cap < cfg->capacity)
		cap <<= 1;
	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	ebytes = (size_t)cap * sizeof(struct flowtab_entry);
	t->ents = ft_region_alloc(ebytes + (size_t)cap * sizeof(uint32_t),
				  &t->map, &t->map_len);
	if (!t->ents) {
		free(t);
		errno = ENOMEM;
		return NULL;
	}
	t->buckets = (uint32_t *)((uint8_t *)t->ents + ebytes);
	memset(t->ents, 0, ebytes);
	for (i = 0; i < cap; i++)
		t->ents[i].next = i + 1 < cap ? i + 1 : FT_NIL;
	memset(t->buckets, 0xff, (size_t)cap * sizeof(uint32_t));
	memset(t->shard_head, 0xff, sizeof(t->shard_head));
	t->cfg = *cfg;
	t->cfg.capacity = cap;
	t->mask = cap - 1;
	t->free_head = 0;
	return t;
}

void flowtab_free(struct flowtab *t)
{
	if (!t)
		return;
	if (t->map)
		munmap(t->map, t->map_len);
	else
		free(t->ents);
	free(t);
}

static inline uint32_t ft_hash(const struct flowtab *t,
			       const struct flow_key *k)
{
	return (uint32_t)flow_hash(k, &t->cfg.secret);
}

static inline uint32_t ft_bucket(const struct flowtab *t, uint32_t h)
{
	return ((h >> 12) | (h << 20)) & t->mask;
}

static inline uint32_t ft_shard(uint32_t h)
{
	return h & (FLOWTAB_SHARDS - 1);
}

/* The entry of k, tombstone or live, or NULL. */
static struct flowtab_entry *ft_find(const struct flowtab *t,
				     const struct flow_key *k, uint32_t h)
{
	uint32_t i = t->buckets[ft_bucket(t, h)];

	while (i != FT_NIL) {
		struct flowtab_entry *e = &t->ents[i];

		if (e->hash == h && flow_key_equal(&e->rec.key, k))
			return e;
		i = e->next;
	}
	return NULL;
}

static int ft_key_valid(const struct flow_key *k)
{
	return !(k->pad[0] | k->pad[1] | k->pad[2]);
}

static uint64_t ft_realtime_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/*
 * A version above floor and above every version the table has issued or
 * applied: the clock's ms in the upper 47 bits when it is ahead, else the
 * last version + 1. The clock is read again only when now has moved or
 * after FT_CLOCK_EVERY versions (a read can cost more than the rest of a
 * create), so between reads at most FT_CLOCK_EVERY < 2^16 versions are
 * issued past the last reading: a primary restarted even 1 ms later still
 * reads a clock whose versions are above all of them.
 */
static uint64_t ft_version_next(struct flowtab *t, uint64_t floor, uint32_t now)
{
	uint64_t v = t->vclock + 1;

	if (!t->clock_left || now != t->clock_now) {
		uint64_t ms = t->cfg.clock_ms
				      ? t->cfg.clock_ms(t->cfg.clock_arg)
				      : ft_realtime_ms();

		ms = (ms & ((1ull << 47) - 1)) << 16;
		if (ms > v)
			v = ms;
		t->clock_now = now;
		t->clock_left = FT_CLOCK_EVERY;
	}
	t->clock_left--;
	if (v <= floor)
		v = floor + 1;
	t->vclock = v;
	return v;
}

uint64_t flowtab_version_next(struct flowtab *t, uint64_t floor, uint32_t now)
{
	return ft_version_next(t, floor, now);
}

static void ft_notify(const struct flowtab *t, const struct flowtab_rec *r)
{
	if (t->cfg.on_change)
		t->cfg.on_change(r, t->cfg.on_change_arg);
}

/* Put a free entry (hash set) on its chain and its shard's list. */
static void ft_link(struct flowtab *t, struct flowtab_entry *e)
{
	uint32_t idx = (uint32_t)(e - t->ents), b = ft_bucket(t, e->hash),
		 s = ft_shard(e->hash);

	e->next = t->buckets[b];
	t->buckets[b] = idx;
	e->sprev = FT_NIL;
	e->snext = t->shard_head[s];
	if (e->snext != FT_NIL)
		t->ents[e->snext].sprev = idx;
	t->shard_head[s] = idx;
	t->shard_cnt[s]++;
	t->count++;
}

/* Take e off its chain and shard list and give it back to the free list. */
static void ft_remove(struct flowtab *t, struct flowtab_entry *e)
{
	uint32_t idx = (uint32_t)(e - t->ents), s = ft_shard(e->hash);
	uint32_t *p = &t->buckets[ft_bucket(t, e->hash)];

	while (*p != idx)
		p = &t->ents[*p].next;
	*p = e->next;
	if (e->sprev != FT_NIL)
		t->ents[e->sprev].snext = e->snext;
	else
		t->shard_head[s] = e->snext;
	if (e->snext != FT_NIL)
		t->ents[e->snext].sprev = e->sprev;
	t->shard_cnt[s]--;
	t->count--;
	if (e->rec.state == FLOWTAB_ST_CLOSED)
		t->ntomb--;
	memset(&e->rec, 0, sizeof(e->rec));
	e->next = t->free_head;
	t->free_head = idx;
}

/* A TCP flow still new that nothing refreshed since its first packet. */
static inline bool ft_halfopen(const struct flowtab *t,
			       const struct flowtab_rec *r)
{
	return t->pressure && t->cfg.tcp_halfopen_timeout_ms &&
	       r->key.proto == STEER_IPPROTO_TCP &&
	       r->state == FLOWTAB_ST_NEW && r->last_ms == r->created_ms;
}

static uint32_t ft_timeout(const struct flowtab *t, const struct flowtab_rec *r)
{
	if (r->state == FLOWTAB_ST_CLOSED)
		return t->cfg.closed_timeout_ms;
	switch (r->key.proto) {
	case STEER_IPPROTO_TCP:
		if (r->state == FLOWTAB_ST_ESTABLISHED)
			return t->cfg.tcp_timeout_ms;
		if (ft_halfopen(t, r))
			return t->cfg.tcp_halfopen_timeout_ms;
		if (r->state == FLOWTAB_ST_NEW && t->cfg.tcp_opening_timeout_ms)
			return t->cfg.tcp_opening_timeout_ms;
		return t->cfg.tcp_closing_timeout_ms;
	case STEER_IPPROTO_UDP:
		return t->cfg.udp_timeout_ms;
	}
	return t->cfg.other_timeout_ms;
}

static inline int ft_idle(const struct flowtab *t, const struct flowtab_rec *r,
			  uint32_t now)
{
	return (int32_t)(now - r->last_ms) > (int32_t)ft_timeout(t, r);
}

/* Free up to FT_RECLAIM_SCAN entries' worth of expired tombstones. */
static void ft_reclaim(struct flowtab *t, uint32_t now)
{
	uint32_t n;

	for (n = 0; n < FT_RECLAIM_SCAN && t->ntomb; n++) {
		struct flowtab_entry *e = &t->ents[t->reclaim];

		t->reclaim = (t->reclaim + 1) & t->mask;
		if (e->rec.state == FLOWTAB_ST_CLOSED &&
		    ft_idle(t, &e->rec, now)) {
			ft_remove(t, e);
			t->st.reclaimed++;
		}
	}
}

/* A free entry with hash h, linked; NULL when none (counted as full). */
static struct flowtab_entry *ft_alloc(struct flowtab *t, uint32_t h,
				      uint32_t now)
{
	struct flowtab_entry *e;

	if (t->free_head == FT_NIL)
		ft_reclaim(t, now);
	if (t->free_head == FT_NIL) {
		t->st.full++;
		return NULL;
	}
	e = &t->ents[t->free_head];
	t->free_head = e->next;
	e->hash = h;
	ft_link(t, e);
	return e;
}

/* Store r in e (from the wire: reserved bytes forced to zero). */
static void ft_store(struct flowtab *t, struct flowtab_entry *e,
		     const struct flowtab_rec *r)
{
	int was_closed = e->rec.state == FLOWTAB_ST_CLOSED;

	e->rec = *r;
	memset(e->rec.reserved, 0, sizeof(e->rec.reserved));
	t->ntomb += (r->state == FLOWTAB_ST_CLOSED) - was_closed;
}

const struct flowtab_rec *flowtab_lookup(struct flowtab *t,
					 const struct flow_key *key)
{
	struct flowtab_entry *e = ft_find(t, key, ft_hash(t, key));

	t->st.lookups++;
	if (!e || e->rec.state == FLOWTAB_ST_CLOSED)
		return NULL;
	t->st.hits++;
	return &e->rec;
}

const struct flowtab_rec *flowtab_lookup_any(const struct flowtab *t,
					     const struct flow_key *key)
{
	struct flowtab_entry *e = ft_find(t, key, ft_hash(t, key));

	return e ? &e->rec : NULL;
}

/*
 * steer_rule's invariant for a profile: the primary is a node, rf counts
 * it (1..FLOWTAB_MAX_RF), the first rf - 1 mirrors are nodes and the
 * others STEER_NODE_NONE.
 */
static int ft_profile_valid(uint16_t primary, const uint16_t *mirror,
			    uint8_t rf)
{
	uint32_t i;

	if (primary == STEER_NODE_NONE || rf < 1 || rf > FLOWTAB_MAX_RF)
		return 0;
	for (i = 0; i < STEER_MAX_MIRRORS; i++)
		if ((i + 1 < rf) != (mirror[i] != STEER_NODE_NONE))
			return 0;
	return 1;
}

static int ft_rec_valid(const struct flowtab_rec *r)
{
	return r->version && r->version < FT_VERSION_LIMIT &&
	       r->state >= FLOWTAB_ST_NEW && r->state <= FLOWTAB_ST_CLOSED &&
	       ft_profile_valid(r->primary, r->mirror, r->rf) &&
	       ft_key_valid(&r->key);
}

int flowtab_apply(struct flowtab *t, const struct flowtab_rec *r, uint32_t now)
{
	struct flowtab_entry *e;
	uint32_t h;

	if (!ft_rec_valid(r)) {
		t->st.invalid++;
		return -EINVAL;
	}
	if (r->version > t->vclock)
		t->vclock = r->version;
	h = ft_hash(t, &r->key);
	e = ft_find(t, &r->key, h);
	if (e && r->version <= e->rec.version) {
		t->st.ignored_older++;
		return 0;
	}
	if (!e) {
		e = ft_alloc(t, h, now);
		if (!e)
			return -ENOSPC;
	}
	ft_store(t, e, r);
	t->st.applied++;
	return 1;
}

const struct flowtab_rec *flowtab_create(struct flowtab *t,
					 const struct flow_key *key,
					 const struct flowtab_params *p,
					 uint32_t now)
{
	struct flowtab_entry *e;
	uint64_t floor = 0;
	uint32_t h;

	if (!ft_key_valid(key) ||
	    !ft_profile_valid(p->primary, p->mirror, p->rf)) {
		errno = EINVAL;
		return NULL;
	}
	h = ft_hash(t, key);
	e = ft_find(t, key, h);
	if (e && e->rec.state != FLOWTAB_ST_CLOSED) {
		errno = EEXIST;
		return NULL;
	}
	if (e) {
		floor = e->rec.version;
		t->ntomb--;
	} else {
		e = ft_alloc(t, h, now);
		if (!e) {
			errno = ENOSPC;
			return NULL;
		}
	}
	memset(&e->rec, 0, sizeof(e->rec));
	e->rec.key = *key;
	e->rec.version = ft_version_next(t, floor, now);
	e->rec.epoch = p->epoch;
	e->rec.created_ms = now;
	e->rec.last_ms = now;
	e->rec.backend = p->backend;
	e->rec.service = p->service;
	e->rec.primary = p->primary;
	memcpy(e->rec.mirror, p->mirror, sizeof(e->rec.mirror));
	e->rec.rf = p->rf;
	e->rec.state = FLOWTAB_ST_NEW;
	t->st.created++;
	ft_notify(t, &e->rec);
	return &e->rec;
}

/* TCP's next state on a segment with flags f (DSR: client side only). */
static uint8_t ft_tcp_next(uint8_t st, uint8_t f)
{
	const uint8_t fin = 0x01, syn = 0x02, rst = 0x04, ack = 0x10;

	if (f & (fin | rst))
		return FLOWTAB_ST_CLOSING;
	if (st == FLOWTAB_ST_CLOSING && (f & (syn | ack)) == syn)
		return FLOWTAB_ST_NEW;
	if (st == FLOWTAB_ST_NEW && !(f & syn))
		return FLOWTAB_ST_ESTABLISHED;
	return st;
}

/* A live flow of this cell ends (closing, closed or idled out). */
static void ft_ended(const struct flowtab *t, const struct flowtab_rec *r)
{
	if (t->cfg.on_end &&
	    (t->cfg.self_id == STEER_NODE_NONE || r->primary == t->cfg.self_id))
		t->cfg.on_end(r, t->cfg.on_change_arg);
}

int flowtab_seen(struct flowtab *t, const struct flow_key *key, uint32_t now)
{
	struct flowtab_entry *e = ft_find(t, key, ft_hash(t, key));

	if (!e || e->rec.state == FLOWTAB_ST_CLOSED)
		return -ENOENT;
	/* Never back in time (modulo 2^32): a late report changes nothing. */
	if ((int32_t)(now - e->rec.last_ms) > 0)
		e->rec.last_ms = now;
	return 0;
}

int flowtab_touch(struct flowtab *t, const struct flow_key *key, uint32_t len,
		  uint8_t tcp_flags, uint32_t now)
{
	struct flowtab_entry *e = ft_find(t, key, ft_hash(t, key));
	struct flowtab_rec *r;
	uint8_t st;

	if (!e || e->rec.state == FLOWTAB_ST_CLOSED)
		return -ENOENT;
	r = &e->rec;
	st = r->key.proto == STEER_IPPROTO_TCP
		     ? ft_tcp_next(r->state, tcp_flags)
		     : r->state;
	if (st == FLOWTAB_ST_NEW && r->state == FLOWTAB_ST_CLOSING) {
		/* The 5-tuple reused by a new connection. */
		r->created_ms = now;
		r->packets = 0;
		r->bytes = 0;
		r->tcp_flags = 0;
	}
	r->packets++;
	r->bytes += len;
	r->last_ms = now;
	r->tcp_flags |= tcp_flags;
	if (st == r->state)
		return 0;
	/* A FIN or RST: the flow ends here, for on_end (not again when the
	 * closing record becomes a tombstone). */
	if (st == FLOWTAB_ST_CLOSING)
		ft_ended(t, r);
	r->state = st;
	r->version = ft_version_next(t, r->version, now);
	t->st.state_changes++;
	ft_notify(t, r);
	return 1;
}

/* Live e becomes a tombstone with a fresh version; replication is told. */
static void ft_close_entry(struct flowtab *t, struct flowtab_entry *e,
			   uint32_t now)
{
	if (e->rec.state != FLOWTAB_ST_CLOSING)
		ft_ended(t, &e->rec);
	e->rec.state = FLOWTAB_ST_CLOSED;
	e->rec.version = ft_version_next(t, e->rec.version, now);
	e->rec.last_ms = now;
	t->ntomb++;
	ft_notify(t, &e->rec);
}

int flowtab_close(struct flowtab *t, const struct flow_key *key, uint32_t now)
{
	struct flowtab_entry *e = ft_find(t, key, ft_hash(t, key));

	if (!e || e->rec.state == FLOWTAB_ST_CLOSED)
		return -ENOENT;
	/* The close is the flow's last packet (on_end sees it so). */
	if ((int32_t)(now - e->rec.last_ms) > 0)
		e->rec.last_ms = now;
	ft_close_entry(t, e, now);
	t->st.closed++;
	return 0;
}

int flowtab_delete(struct flowtab *t, const struct flow_key *key)
{
	struct flowtab_entry *e = ft_find(t, key, ft_hash(t, key));

	if (!e)
		return -ENOENT;
	ft_remove(t, e);
	t->st.deleted++;
	return 0;
}

uint32_t flowtab_expire(struct flowtab *t, uint32_t now, uint32_t budget)
{
	uint16_t self = t->cfg.self_id;
	uint32_t expired = 0;

	while (budget--) {
		struct flowtab_entry *e = &t->ents[t->sweep];

		t->sweep = (t->sweep + 1) & t->mask;
		if (!e->rec.state || !ft_idle(t, &e->rec, now))
			continue;
		if (e->rec.state == FLOWTAB_ST_CLOSED) {
			ft_remove(t, e);
			t->st.reclaimed++;
		} else if (self == STEER_NODE_NONE || e->rec.primary == self) {
			t->st.halfopen_expired += ft_halfopen(t, &e->rec);
			ft_close_entry(t, e, now);
			t->st.expired++;
			expired++;
		}
	}
	return expired;
}

uint32_t flowtab_visit(struct flowtab *t, uint32_t budget,
		       void (*fn)(const struct flowtab_rec *r, void *arg),
		       void *arg)
{
	uint32_t n = 0;

	while (budget--) {
		const struct flowtab_rec *r = &t->ents[t->visit].rec;

		t->visit = (t->visit + 1) & t->mask;
		if (!r->state || r->state == FLOWTAB_ST_CLOSED)
			continue;
		fn(r, arg);
		n++;
	}
	return n;
}

uint32_t flowtab_shard_of(const struct flowtab *t, const struct flow_key *key)
{
	return ft_shard(ft_hash(t, key));
}

int flowtab_shard_walk(struct flowtab *t, uint32_t shard, flowtab_walk_fn fn,
		       void *arg)
{
	uint32_t i, next;
	int ret;

	if (shard >= FLOWTAB_SHARDS)
		return -EINVAL;
	for (i = t->shard_head[shard]; i != FT_NIL; i = next) {
		/* Read first: fn may delete the record it is given. */
		next = t->ents[i].snext;
		ret = fn(&t->ents[i].rec, arg);
		if (ret)
			return ret;
	}
	return 0;
}

uint32_t flowtab_shard_count(const struct flowtab *t, uint32_t shard)
{
	return shard < FLOWTAB_SHARDS ? t->shard_cnt[shard] : 0;
}

uint32_t flowtab_count(const struct flowtab *t)
{
	return t->count;
}

void flowtab_pressure_set(struct flowtab *t, bool on)
{
	t->pressure = on;
}

bool flowtab_pressure(const struct flowtab *t)
{
	return t->pressure;
}

uint32_t flowtab_tombstones(const struct flowtab *t)
{
	return t->ntomb;
}

uint32_t flowtab_capacity(const struct flowtab *t)
{
	return t->cfg.capacity;
}

size_t flowtab_memory(const struct flowtab *t)
{
	return sizeof(*t) +
	       (size_t)t->cfg.capacity *
		       (sizeof(struct flowtab_entry) + sizeof(uint32_t));
}

void flowtab_get_stats(const struct flowtab *t, struct flowtab_stats *st)
{
	*st = t->st;
}

/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Flow-state cache (FSC): the userspace twin of the XDP flow table.
 *
 * Fixed memory, allocated once: capacity slots of 64 bytes (one cache line
 * each), grouped in sets of FSC_WAYS. A flow has two candidate sets chosen
 * by its hash: it lives in the first unless that was full when it arrived,
 * then in the second, so sets rarely lose entries until the cache is nearly
 * full. A lookup tries the first set, usually reading one line, then the
 * second. When both are full, an insert takes an expired entry,
 * else evicts by CLOCK (a referenced bit per entry, cleared as the hand
 * passes) in one set, then the other, in turn.
 *
 * Idle timeouts follow the TCP state seen by the entry: a flow that has
 * only opened (SYN) or is closing (FIN/RST) uses the short closing timeout,
 * an established one the long TCP timeout; UDP and other protocols their
 * own. Time is a 32-bit millisecond clock supplied by the caller (packet
 * timestamps in replay, CLOCK_MONOTONIC in the daemon); comparisons are
 * modulo 2^32, so fsc_expire() must visit every slot at least once every
 * 24 days, which any sweep budget above a few slots a second achieves.
 *
 * Counters are 32-bit and wrap (SNMP Counter32 semantics): a sampler that
 * reads them more often than a wrap accumulates 64-bit totals.
 */
#ifndef STEER_FSC_H
#define STEER_FSC_H

#include <stddef.h>
#include <stdint.h>

#include <steer/flow.h>
#include <steer/rule.h>

#define FSC_WAYS 8

/* entry->state: TCP progress in the low bits, the CLOCK bit on top. */
enum {
	FSC_ST_NEW = 0,	    /* created; TCP has not seen its handshake end */
	FSC_ST_EST = 1,	    /* TCP: a segment without SYN seen */
	FSC_ST_CLOSING = 2, /* TCP: FIN or RST seen */
	FSC_ST_MASK = 0x03,
	FSC_ST_REF = 0x80, /* CLOCK referenced bit */
};

struct fsc_entry {
	struct flow_addr src;
	struct flow_addr dst;
	__be16 sport;
	__be16 dport;
	uint8_t proto;
	uint8_t state; /* FSC_ST_* */
	/* The rule, unpacked so that the entry stays 64 bytes. */
	uint16_t owner;
	uint16_t tmpl;
	uint16_t mirror[STEER_MAX_MIRRORS];
	uint8_t action; /* enum steer_action; STEER_ACT_NONE: free slot */
	uint8_t rf;
	uint32_t epoch;
	uint32_t last_ms; /* last packet */
	uint32_t packets; /* wrapping counters */
	uint32_t bytes;
} __attribute__((aligned(64)));

struct fsc_cfg {
	uint32_t capacity; /* slots; rounded up to a power of two >= 64 */
	uint32_t tcp_timeout_ms;
	uint32_t tcp_closing_timeout_ms;
	uint32_t udp_timeout_ms;
	uint32_t other_timeout_ms;
};

struct fsc_stats {
	uint64_t hits;
	uint64_t misses;
	uint64_t inserts;
	uint64_t updates;   /* insert of a key already present */
	uint64_t evictions; /* live entries pushed out by CLOCK */
	uint64_t expired;   /* idle entries reclaimed */
	uint64_t deletes;
};

/*
 * The cache. Callers use it only through the functions below; the fields
 * are here so that the first probe of fsc_lookup() inlines into the
 * packet path.
 */
struct fsc {
	struct fsc_entry *slots;
	void *map; /* the mapping slots lie in; NULL: slots is on the heap */
	size_t map_len;
	uint32_t nsets; /* power of two */
	uint32_t count;
	uint32_t hand;	     /* CLOCK start, rotated per eviction */
	uint32_t evict_b;    /* alternates evictions between the two sets */
	uint32_t sweep_next; /* next slot fsc_expire() visits */
	uint32_t min_timeout_ms;
	struct fsc_cfg cfg;
	struct fsc_stats st;
};

/*
 * Two candidate sets per flow: an insert overflows into the second only
 * when the first is full, so sets rarely lose entries before the cache is
 * nearly full, and most hits still read one set. Set A and the way a flow
 * tries first in it come from the low bits of the hash; set B's from bits
 * 27 and up (the outer source port uses bits 32-45: sharing them costs
 * nothing).
 */
static inline uint32_t fsc_set_a(const struct fsc *f, uint64_t hash)
{
	return (uint32_t)hash & (f->nsets - 1);
}

static inline struct fsc_entry *fsc_set(const struct fsc *f, uint32_t idx)
{
	return &f->slots[(size_t)idx * FSC_WAYS];
}

static inline uint32_t fsc_way0(uint64_t hash, int second)
{
	return (uint32_t)(hash >> (second ? 27 : 24)) & (FSC_WAYS - 1);
}

/*
 * Compares the 37 key bytes the entry stores: addresses, ports, proto.
 * The low half of the source address and the ports differ between most
 * flows (IPv4-mapped keys share their high halves), so they go first.
 */
static inline int fsc_key_match(const struct fsc_entry *e,
				const struct flow_key *k)
{
	const uint64_t *a = (const uint64_t *)e, *b = (const uint64_t *)k;
	uint32_t pa, pb;

	__builtin_memcpy(&pa, &e->sport, 4);
	__builtin_memcpy(&pb, &k->sport, 4);
	if ((a[1] ^ b[1]) | (pa ^ pb))
		return 0;
	return ((a[0] ^ b[0]) | (a[2] ^ b[2]) | (a[3] ^ b[3]) |
		(uint64_t)(e->proto ^ k->proto)) == 0;
}

/* Defaults: 300 s TCP, 10 s opening/closing TCP, 30 s UDP and other. */
void fsc_cfg_default(struct fsc_cfg *cfg, uint32_t capacity);

/* NULL with errno EINVAL (capacity 0 or > 2^28) or ENOMEM. */
struct fsc *fsc_new(const struct fsc_cfg *cfg);
void fsc_free(struct fsc *f);

/*
 * The live entry of k, or NULL. hash must be flow_hash(k). An entry found
 * idle past its timeout is freed and counts as expired and as a miss. A hit
 * marks the entry referenced; fsc_entry_account() records the packet.
 */
struct fsc_entry *fsc_lookup_slow(struct fsc *f, const struct flow_key *k,
				  uint64_t hash, uint32_t now_ms);

static inline struct fsc_entry *fsc_lookup(struct fsc *f,
					   const struct flow_key *k,
					   uint64_t hash, uint32_t now_ms)
{
	struct fsc_entry *e =
		&fsc_set(f, fsc_set_a(f, hash))[fsc_way0(hash, 0)];

	/* The common hit: first way of the first set, recently seen. */
	if (e->action != STEER_ACT_NONE && fsc_key_match(e, k) &&
	    (int32_t)(now_ms - e->last_ms) <= (int32_t)f->min_timeout_ms) {
		e->state |= FSC_ST_REF;
		f->st.hits++;
		return e;
	}
	return fsc_lookup_slow(f, k, hash, now_ms);
}

/*
 * Store rule r for k (r->action must not be STEER_ACT_NONE) and return the
 * entry, counters zeroed and state NEW. An entry for k already present is
 * overwritten in place, keeping its counters. Never fails: a full set gives
 * up its CLOCK victim. Returns NULL with errno EINVAL for STEER_ACT_NONE.
 */
struct fsc_entry *fsc_insert(struct fsc *f, const struct flow_key *k,
			     uint64_t hash, const struct steer_rule *r,
			     uint32_t now_ms);

/* Remove k; 0, or -ENOENT when it is not cached. */
int fsc_delete(struct fsc *f, const struct flow_key *k, uint64_t hash);

/* Record a packet of len bytes with TCP flags tcp_flags (0 for non-TCP). */
static inline void fsc_entry_account(struct fsc_entry *e, uint32_t len,
				     uint8_t tcp_flags, uint32_t now_ms)
{
	uint8_t st = e->state & FSC_ST_MASK;

	if (tcp_flags & 0x05) /* FIN or RST */
		st = FSC_ST_CLOSING;
	else if (st == FSC_ST_NEW && e->proto == 6 && !(tcp_flags & 0x02))
		st = FSC_ST_EST;
	e->state = st | FSC_ST_REF;
	e->last_ms = now_ms;
	e->packets++;
	e->bytes += len;
}

void fsc_entry_rule(const struct fsc_entry *e, struct steer_rule *r);
void fsc_entry_key(const struct fsc_entry *e, struct flow_key *k);

/* Hint the set of hash into the cache ahead of a lookup (burst processing). */
void fsc_prefetch(const struct fsc *f, uint64_t hash);

/*
 * Visit up to budget slots from where the last call stopped, freeing idle
 * entries. Returns the number freed.
 */
uint32_t fsc_expire(struct fsc *f, uint32_t now_ms, uint32_t budget);

/* Call fn for every live entry; stops early when fn returns non-zero. */
int fsc_foreach(const struct fsc *f,
		int (*fn)(const struct fsc_entry *e, void *arg), void *arg);

uint32_t fsc_capacity(const struct fsc *f);
uint32_t fsc_count(const struct fsc *f);
size_t fsc_memory(const struct fsc *f);
void fsc_get_stats(const struct fsc *f, struct fsc_stats *st);

#endif /* STEER_FSC_H */

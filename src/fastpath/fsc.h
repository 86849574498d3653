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

struct fsc;

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
struct fsc_entry *fsc_lookup(struct fsc *f, const struct flow_key *k,
			     uint64_t hash, uint32_t now_ms);

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

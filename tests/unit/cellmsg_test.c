// SPDX-License-Identifier: GPL-2.0-only
/*
 * Cell messages: every type round-trips plain and encrypted, batches
 * compressed and not; the header and record offsets are the documented
 * ones; every bad magic, version, type, mode, flag, length, tag,
 * truncation, body and decompression is refused and counted under its
 * own reason; a flipped bit anywhere in a frame is refused; absurd
 * declared lengths are refused before any large allocation; the stream
 * splitter finds frame boundaries in any chunking; the replay tracker and
 * the stream sequence check refuse old sequences. A chained BATCH
 * (version 2) round-trips, its fields are where the header says, version
 * 2 on anything else is refused, and a link changes with every byte it
 * covers (prev, shard, seqs, count, each record) and nothing else.
 *
 * Figures: the LZ4 ratio of a batch of similar records, and the
 * replication bytes per flow of 1,000 realistic records.
 *
 * With --seeds DIR the program writes the fuzz target's seed corpus
 * instead (valid frames under fuzz_cellmsg.c's key and input format).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <cmocka.h>
#include <lz4.h>

#include "cell/cellmsg.h"

/*
 * Largest malloc() request since the last reset: the test program takes
 * over malloc (glibc's underneath) to prove what the decoder allocates.
 * Sanitizer builds own malloc themselves and skip that check.
 */
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HAVE_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define HAVE_ASAN 1
#endif

static size_t malloc_max;

#ifndef HAVE_ASAN
extern void *__libc_malloc(size_t n);

void *malloc(size_t n)
{
	if (n > malloc_max)
		malloc_max = n;
	return __libc_malloc(n);
}
#endif

/* The fuzz target's key byte (fuzz_cellmsg.c). */
#define FUZZ_KEY_BYTE 0x5a
#define SELF 3

struct fx {
	struct gossip_auth plain, enc, other, other_enc;
	struct cellmsg in, out;
	struct cell_flow_rec recs[CELLMSG_BATCH_MAX];
	struct cell_flow_rec got[CELLMSG_BATCH_MAX];
	uint8_t buf[CELLMSG_FRAME_MAX + 64];
	uint8_t buf2[CELLMSG_FRAME_MAX + 64];
};

static int auth_pair(struct gossip_auth *p, struct gossip_auth *e, uint8_t b,
		     uint8_t last)
{
	struct gossip_key k;

	memset(k.b, b, sizeof(k.b));
	k.b[31] ^= last;
	return gossip_auth_init(p, &k, false) || gossip_auth_init(e, &k, true);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	if (auth_pair(&f->plain, &f->enc, 0x11, 0) ||
	    auth_pair(&f->other, &f->other_enc, 0x11, 1)) {
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	free(*state);
	return 0;
}

/* xorshift64*: deterministic, so the figures repeat run to run. */
static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 0x2545f4914f6cdd1dull;
}

static void fill_rnd(void *p, size_t n)
{
	uint8_t *b = p;

	while (n--)
		*b++ = (uint8_t)rnd();
}

static void set_profile(uint16_t *primary, uint16_t *mirror, uint8_t *rf,
			uint8_t want_rf, uint16_t p, uint16_t m0, uint16_t m1)
{
	*rf = want_rf;
	*primary = p;
	mirror[0] = want_rf > 1 ? m0 : STEER_NODE_NONE;
	mirror[1] = want_rf > 2 ? m1 : STEER_NODE_NONE;
}

/*
 * A flow a load balancer cell holds: clients from a /10 (one in ten
 * IPv6), four services (three TCP, one UDP), 16 backends each, the same
 * profile and epoch for the shard, ages up to 10 minutes.
 */
static void rec_realistic(struct cell_flow_rec *r, uint32_t now)
{
	static const uint16_t port[4] = {443, 80, 8443, 53};
	uint32_t svc = (uint32_t)(rnd() % 4);
	uint64_t low;

	memset(r, 0, sizeof(*r));
	if (rnd() % 10 == 0) {
		r->key.src.b[0] = 0x20;
		r->key.src.b[1] = 0x01;
		r->key.src.b[2] = 0x0d;
		r->key.src.b[3] = 0xb8;
		r->key.src.b[4] = 0xc0;
		low = rnd();
		memcpy(r->key.src.b + 8, &low, 8);
		r->key.dst.b[0] = 0x20;
		r->key.dst.b[1] = 0x01;
		r->key.dst.b[2] = 0x0d;
		r->key.dst.b[3] = 0xb8;
		r->key.dst.b[5] = 0x64;
		r->key.dst.b[15] = (uint8_t)(1 + svc);
	} else {
		flow_addr_set_v4(
			&r->key.src,
			htonl(0x64400000u + (uint32_t)(rnd() % (1u << 22))));
		flow_addr_set_v4(&r->key.dst, htonl(0xc6126401u + svc));
	}
	r->key.proto = svc == 3 ? STEER_IPPROTO_UDP : STEER_IPPROTO_TCP;
	r->key.sport = htons((uint16_t)(32768 + rnd() % 28232));
	r->key.dport = htons(port[svc]);
	r->version = 1 + rnd() % 4;
	r->epoch = 7;
	r->backend = (uint16_t)(svc * 16 + rnd() % 16);
	r->service = (uint16_t)svc;
	set_profile(&r->primary, r->mirror, &r->rf, 3, SELF, 5, 9);
	r->state = svc == 3 ? 1 : (uint8_t)(rnd() % 8 ? 2 : 3);
	r->tcp_flags =
		svc == 3 ? 0 : (uint8_t)(0x12 | (rnd() % 4 ? 0x08 : 0x01));
	r->created_ms = now - (uint32_t)(rnd() % 600000);
	r->last_ms = now - (uint32_t)(rnd() % 2000);
	r->packets = 1 + (uint32_t)(rnd() % (rnd() % 2 ? 20 : 5000));
	r->bytes = r->packets * (uint32_t)(64 + rnd() % 1400);
}

/* A record of random bytes (valid profile): LZ4 finds nothing in it. */
static void rec_random(struct cell_flow_rec *r)
{
	memset(r, 0, sizeof(*r));
	fill_rnd(r->key.src.b, 16);
	fill_rnd(r->key.dst.b, 16);
	fill_rnd(&r->key.sport, 2);
	fill_rnd(&r->key.dport, 2);
	r->key.proto = (uint8_t)rnd();
	r->version = rnd();
	r->epoch = (uint32_t)rnd();
	r->backend = (uint16_t)rnd();
	r->service = (uint16_t)rnd();
	set_profile(&r->primary, r->mirror, &r->rf, (uint8_t)(1 + rnd() % 3),
		    (uint16_t)(rnd() % 65535), (uint16_t)(rnd() % 65535),
		    (uint16_t)(rnd() % 65535));
	r->state = (uint8_t)rnd();
	r->tcp_flags = (uint8_t)rnd();
	r->created_ms = (uint32_t)rnd();
	r->last_ms = (uint32_t)rnd();
	r->packets = (uint32_t)rnd();
	r->bytes = (uint32_t)rnd();
}

/* A valid message of each type; a BATCH takes n records of recs. */
static void msg_make(struct cellmsg *m, uint8_t type,
		     struct cell_flow_rec *recs, uint32_t n)
{
	uint32_t i;

	memset(m, 0, sizeof(*m));
	m->type = type;
	m->sender = SELF;
	m->incarnation = 0x01020304u;
	m->seq = 0x1122334455667788ull + type;
	switch (type) {
	case CELLMSG_RULE:
		flow_addr_set_v4(&m->rule.key.src, htonl(0x64400102u));
		flow_addr_set_v4(&m->rule.key.dst, htonl(0xc6126401u));
		m->rule.key.sport = htons(40000);
		m->rule.key.dport = htons(443);
		m->rule.key.proto = STEER_IPPROTO_TCP;
		m->rule.version = 0xa1a2a3a4a5a6a7a8ull;
		m->rule.epoch = 0xb1b2b3b4u;
		m->rule.backend = 0xc1c2;
		m->rule.action = STEER_ACT_BACKEND;
		set_profile(&m->rule.primary, m->rule.mirror, &m->rule.rf, 3,
			    0xd1d2, 0xe1e2, 0xf1f2);
		break;
	case CELLMSG_RULE_DEL:
		memset(m->del.key.src.b, 0x20, 16);
		memset(m->del.key.dst.b, 0x30, 16);
		m->del.key.sport = htons(53);
		m->del.key.dport = htons(5353);
		m->del.key.proto = STEER_IPPROTO_UDP;
		m->del.version = 42;
		break;
	case CELLMSG_HEARTBEAT:
		m->hb.now_ms = 123456789012ull;
		m->hb.tx_seq = 1000;
		m->hb.rx_seq = 999;
		m->hb.shards_hash = 0x0123456789abcdefull;
		m->hb.shards_count = 1365;
		break;
	case CELLMSG_BATCH:
		m->batch.shard = 4095;
		m->batch.first_seq = 77;
		m->batch.count = n;
		m->batch.recs = recs;
		break;
	case CELLMSG_TOUCH:
		m->touch.count = 3;
		for (i = 0; i < 3; i++) {
			flow_addr_set_v4(&m->touch.keys[i].src,
					 htonl(0x64400100u + i));
			flow_addr_set_v4(&m->touch.keys[i].dst,
					 htonl(0xc6126401u));
			m->touch.keys[i].sport = htons((uint16_t)(40000 + i));
			m->touch.keys[i].dport = htons(443);
			m->touch.keys[i].proto = STEER_IPPROTO_TCP;
		}
		break;
	case CELLMSG_QUERY:
		m->query = m->rule.key; /* zero: a valid key */
		m->query.sport = htons(40001);
		m->query.proto = STEER_IPPROTO_TCP;
		break;
	case CELLMSG_ANSWER:
		m->ans.key.proto = STEER_IPPROTO_UDP;
		m->ans.key.dport = htons(53);
		m->ans.found = n > 0;
		if (n) {
			m->ans.rec = recs[0];
			m->ans.key = recs[0].key;
		}
		break;
	case CELLMSG_MIRROR:
		m->mir.rec = recs[0];
		if (!n) {
			memset(&m->mir.rec, 0, sizeof(m->mir.rec));
			m->mir.rec.key = m->rule.key; /* zero: a valid key */
			m->mir.rec.version = 7;
			set_profile(&m->mir.rec.primary, m->mir.rec.mirror,
				    &m->mir.rec.rf, 2, 3, 4, 5);
		}
		m->mir.orig_len = 1500;
		m->mir.cap_len = 60;
		memset(m->mir.pkt, 0x45, m->mir.cap_len);
		break;
	case CELLMSG_RESYNC:
		m->sh.reason = CELLMSG_RESYNC_MEMBERSHIP;
		/* fall through */
	case CELLMSG_ACK:
	case CELLMSG_SNAP_BEGIN:
	case CELLMSG_SNAP_END:
		m->sh.shard = 17;
		m->sh.seq = 0xfedcba9876543210ull;
		m->sh.count = type == CELLMSG_SNAP_END ? 31337 : 0;
		break;
	}
}

static size_t body_len_of(uint8_t type, uint32_t n)
{
	static const size_t len[] = {
		[CELLMSG_RULE] = CELLMSG_RULE_LEN,
		[CELLMSG_RULE_DEL] = CELLMSG_RULE_DEL_LEN,
		[CELLMSG_HEARTBEAT] = CELLMSG_HEARTBEAT_LEN,
		[CELLMSG_BATCH] = CELLMSG_BATCH_FIXED_LEN,
		[CELLMSG_ACK] = CELLMSG_ACK_LEN,
		[CELLMSG_RESYNC] = CELLMSG_RESYNC_LEN,
		[CELLMSG_SNAP_BEGIN] = CELLMSG_SNAP_BEGIN_LEN,
		[CELLMSG_SNAP_END] = CELLMSG_SNAP_END_LEN,
		[CELLMSG_MIRROR] = CELLMSG_MIRROR_FIXED_LEN,
		[CELLMSG_TOUCH] = CELLMSG_TOUCH_FIXED_LEN,
		[CELLMSG_QUERY] = CELLMSG_QUERY_LEN,
		[CELLMSG_ANSWER] = CELLMSG_ANSWER_FIXED_LEN,
	};

	if (type == CELLMSG_ANSWER)
		return len[type] + (n ? CELLMSG_REC_LEN : 0);
	if (type == CELLMSG_TOUCH)
		return len[type] + 3 * CELLMSG_KEY_LEN; /* msg_make's */
	if (type == CELLMSG_MIRROR)
		return len[type] + 60; /* msg_make's cap_len */
	return len[type] + (type == CELLMSG_BATCH ? n * CELLMSG_REC_LEN : 0);
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static uint64_t rd64(const uint8_t *p)
{
	return (uint64_t)rd32(p) << 32 | rd32(p + 4);
}

static void wr32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/*
 * Seal a frame written by hand (not by the encoder): header fields as
 * given, body copied, tag by gossip_auth with a's key.
 */
static size_t craft(const struct gossip_auth *a, uint8_t *buf, uint8_t type,
		    uint8_t flags, const uint8_t *body, size_t body_len)
{
	memset(buf, 0, CELLMSG_HDR_LEN);
	buf[0] = CELLMSG_MAGIC >> 8;
	buf[1] = CELLMSG_MAGIC & 0xff;
	buf[2] = CELLMSG_VERSION;
	buf[3] = type;
	buf[4] = (uint8_t)(flags | (a->encrypt ? CELLMSG_FLAG_ENCRYPTED : 0));
	buf[7] = SELF;
	buf[19] = 1;
	wr32(buf + 20, (uint32_t)body_len);
	memcpy(buf + CELLMSG_HDR_LEN, body, body_len);
	return gossip_auth_seal(a, buf, CELLMSG_HDR_LEN, body_len);
}

static const uint8_t all_types[] = {
	CELLMSG_RULE,	CELLMSG_RULE_DEL, CELLMSG_HEARTBEAT,  CELLMSG_BATCH,
	CELLMSG_ACK,	CELLMSG_RESYNC,	  CELLMSG_SNAP_BEGIN, CELLMSG_SNAP_END,
	CELLMSG_MIRROR, CELLMSG_TOUCH,	  CELLMSG_QUERY,      CELLMSG_ANSWER,
};

static void roundtrip_one(struct fx *f, const struct gossip_auth *a,
			  uint8_t type, uint32_t n, int want_compressed)
{
	size_t overhead = gossip_auth_overhead(a), want;
	int len;

	msg_make(&f->in, type, f->recs, n);
	len = cellmsg_encode(a, &f->in, f->buf, sizeof(f->buf));
	assert_true(len > 0);
	assert_int_equal(cellmsg_decode(a, f->buf, (size_t)len, &f->out, f->got,
					CELLMSG_BATCH_MAX),
			 CELLMSG_RX_OK);
	assert_true(cellmsg_equal(&f->in, &f->out));
	assert_int_equal(!!(f->out.flags & CELLMSG_FLAG_ENCRYPTED), a->encrypt);
	assert_int_equal(!!(f->out.flags & CELLMSG_FLAG_COMPRESSED),
			 want_compressed);
	want = CELLMSG_HDR_LEN + body_len_of(type, n) + overhead;
	if (want_compressed)
		assert_true((size_t)len < want);
	else
		assert_int_equal((size_t)len, want);
	if (type == CELLMSG_BATCH)
		assert_ptr_equal(f->out.batch.recs, f->got);
}

static void test_roundtrip(void **state)
{
	struct fx *f = *state;
	const struct gossip_auth *modes[2] = {&f->plain, &f->enc};
	unsigned mi, ti;
	uint32_t i;

	for (mi = 0; mi < 2; mi++) {
		for (ti = 0; ti < sizeof(all_types); ti++)
			if (all_types[ti] != CELLMSG_BATCH)
				roundtrip_one(f, modes[mi], all_types[ti], 0,
					      0);
		/* Random records: sent raw. */
		for (i = 0; i < 50; i++)
			rec_random(&f->recs[i]);
		roundtrip_one(f, modes[mi], CELLMSG_BATCH, 50, 0);
		roundtrip_one(f, modes[mi], CELLMSG_BATCH, 1, 0);
		roundtrip_one(f, modes[mi], CELLMSG_BATCH, 0, 0);
		/* Similar records: sent compressed, a full batch too. */
		for (i = 0; i < CELLMSG_BATCH_MAX; i++)
			rec_realistic(&f->recs[i], 5000000);
		roundtrip_one(f, modes[mi], CELLMSG_BATCH, 50, 1);
		roundtrip_one(f, modes[mi], CELLMSG_BATCH, CELLMSG_BATCH_MAX,
			      1);
	}
}

/* A MIRROR's packet lengths: cap_len must match the body, be 1..256 and
 * not exceed orig_len; the encoder refuses what the decoder would. */
static void test_mirror_bounds(void **state)
{
	struct fx *f = *state;
	uint8_t body[CELLMSG_MIRROR_FIXED_LEN + CELLMSG_MIRROR_CAP + 1];
	struct cellmsg m;
	size_t len;

	msg_make(&m, CELLMSG_MIRROR, f->recs, 0);
	len = (size_t)cellmsg_encode(&f->plain, &m, f->buf, sizeof(f->buf));
	memcpy(body, f->buf + CELLMSG_HDR_LEN, CELLMSG_MIRROR_FIXED_LEN + 60);
	/* As encoded: accepted. */
	len = craft(&f->plain, f->buf, CELLMSG_MIRROR, 0, body,
		    CELLMSG_MIRROR_FIXED_LEN + 60);
	assert_int_equal(
		cellmsg_decode(&f->plain, f->buf, len, &f->out, NULL, 0),
		CELLMSG_RX_OK);
	assert_int_equal(f->out.mir.cap_len, 60);
	/* cap_len says 61, the body carries 60. */
	body[83] = 61;
	len = craft(&f->plain, f->buf, CELLMSG_MIRROR, 0, body,
		    CELLMSG_MIRROR_FIXED_LEN + 60);
	assert_int_equal(
		cellmsg_decode(&f->plain, f->buf, len, &f->out, NULL, 0),
		CELLMSG_RX_MALFORMED);
	/* More bytes carried than the packet had. */
	body[83] = 60;
	body[80] = 0;
	body[81] = 59;
	len = craft(&f->plain, f->buf, CELLMSG_MIRROR, 0, body,
		    CELLMSG_MIRROR_FIXED_LEN + 60);
	assert_int_equal(
		cellmsg_decode(&f->plain, f->buf, len, &f->out, NULL, 0),
		CELLMSG_RX_MALFORMED);
	/* No packet at all, or more than the cap: refused by length. */
	len = craft(&f->plain, f->buf, CELLMSG_MIRROR, 0, body,
		    CELLMSG_MIRROR_FIXED_LEN);
	assert_int_equal(
		cellmsg_decode(&f->plain, f->buf, len, &f->out, NULL, 0),
		CELLMSG_RX_LENGTH);
	memset(body + CELLMSG_MIRROR_FIXED_LEN, 0, CELLMSG_MIRROR_CAP + 1);
	len = craft(&f->plain, f->buf, CELLMSG_MIRROR, 0, body, sizeof(body));
	assert_int_equal(
		cellmsg_decode(&f->plain, f->buf, len, &f->out, NULL, 0),
		CELLMSG_RX_LENGTH);
	/* The encoder's side. */
	m.mir.cap_len = 0;
	assert_int_equal(cellmsg_encode(&f->plain, &m, f->buf, sizeof(f->buf)),
			 -EINVAL);
	m.mir.cap_len = 61;
	m.mir.orig_len = 60;
	assert_int_equal(cellmsg_encode(&f->plain, &m, f->buf, sizeof(f->buf)),
			 -EINVAL);
	m.mir.cap_len = CELLMSG_MIRROR_CAP + 1;
	m.mir.orig_len = 1500;
	assert_int_equal(cellmsg_encode(&f->plain, &m, f->buf, sizeof(f->buf)),
			 -EINVAL);
}

/* A TOUCH's count must match its keys, 1..30 of them; encode agrees. */
static void test_touch_bounds(void **state)
{
	struct fx *f = *state;
	uint8_t body[CELLMSG_TOUCH_FIXED_LEN +
		     (CELLMSG_TOUCH_MAX + 1) * CELLMSG_KEY_LEN];
	struct cellmsg m;
	size_t len, blen = CELLMSG_TOUCH_FIXED_LEN + 3 * CELLMSG_KEY_LEN;

	msg_make(&m, CELLMSG_TOUCH, f->recs, 0);
	len = (size_t)cellmsg_encode(&f->plain, &m, f->buf, sizeof(f->buf));
	assert_int_equal(len, CELLMSG_HDR_LEN + blen +
				      gossip_auth_overhead(&f->plain));
	memcpy(body, f->buf + CELLMSG_HDR_LEN, blen);
	len = craft(&f->plain, f->buf, CELLMSG_TOUCH, 0, body, blen);
	assert_int_equal(
		cellmsg_decode(&f->plain, f->buf, len, &f->out, NULL, 0),
		CELLMSG_RX_OK);
	assert_int_equal(f->out.touch.count, 3);
	assert_int_equal(f->out.touch.keys[2].sport, m.touch.keys[2].sport);
	assert_memory_equal(f->out.touch.keys[1].src.b, m.touch.keys[1].src.b,
			    16);
	/* count 2 with three keys; count 0. */
	body[1] = 2;
	len = craft(&f->plain, f->buf, CELLMSG_TOUCH, 0, body, blen);
	assert_int_equal(
		cellmsg_decode(&f->plain, f->buf, len, &f->out, NULL, 0),
		CELLMSG_RX_MALFORMED);
	body[1] = 0;
	len = craft(&f->plain, f->buf, CELLMSG_TOUCH, 0, body, blen);
	assert_int_equal(
		cellmsg_decode(&f->plain, f->buf, len, &f->out, NULL, 0),
		CELLMSG_RX_MALFORMED);
	/* A key cut short, no key at all, one key too many. */
	body[1] = 3;
	len = craft(&f->plain, f->buf, CELLMSG_TOUCH, 0, body, blen - 1);
	assert_int_equal(
		cellmsg_decode(&f->plain, f->buf, len, &f->out, NULL, 0),
		CELLMSG_RX_LENGTH);
	len = craft(&f->plain, f->buf, CELLMSG_TOUCH, 0, body,
		    CELLMSG_TOUCH_FIXED_LEN);
	assert_int_equal(
		cellmsg_decode(&f->plain, f->buf, len, &f->out, NULL, 0),
		CELLMSG_RX_LENGTH);
	memset(body, 0, sizeof(body));
	body[1] = CELLMSG_TOUCH_MAX + 1;
	len = craft(&f->plain, f->buf, CELLMSG_TOUCH, 0, body, sizeof(body));
	assert_int_equal(
		cellmsg_decode(&f->plain, f->buf, len, &f->out, NULL, 0),
		CELLMSG_RX_LENGTH);
	m.touch.count = 0;
	assert_int_equal(cellmsg_encode(&f->plain, &m, f->buf, sizeof(f->buf)),
			 -EINVAL);
	m.touch.count = CELLMSG_TOUCH_MAX + 1;
	assert_int_equal(cellmsg_encode(&f->plain, &m, f->buf, sizeof(f->buf)),
			 -EINVAL);
}

/* An ANSWER carries a record exactly when found says so, with the key
 * it answers for; encode agrees. */
static void test_answer_bounds(void **state)
{
	struct fx *f = *state;
	uint8_t body[CELLMSG_ANSWER_FIXED_LEN + CELLMSG_REC_LEN];
	size_t len, full = sizeof(body);
	struct cellmsg m;

	rec_random(&f->recs[0]);
	set_profile(&f->recs[0].primary, f->recs[0].mirror, &f->recs[0].rf, 2,
		    3, 4, 5);
	memset(f->recs[0].key.pad, 0, sizeof(f->recs[0].key.pad));
	msg_make(&m, CELLMSG_ANSWER, f->recs, 1);
	len = (size_t)cellmsg_encode(&f->plain, &m, f->buf, sizeof(f->buf));
	assert_int_equal(len, CELLMSG_HDR_LEN + full +
				      gossip_auth_overhead(&f->plain));
	memcpy(body, f->buf + CELLMSG_HDR_LEN, full);
	assert_int_equal(body[40], 1);
	len = craft(&f->plain, f->buf, CELLMSG_ANSWER, 0, body, full);
	assert_int_equal(
		cellmsg_decode(&f->plain, f->buf, len, &f->out, NULL, 0),
		CELLMSG_RX_OK);
	assert_int_equal(f->out.ans.found, 1);
	assert_int_equal(f->out.ans.key.sport, f->recs[0].key.sport);
	assert_int_equal(f->out.ans.rec.backend, f->recs[0].backend);
	assert_true(f->out.ans.rec.version == f->recs[0].version);
	/* found 1 without its record; found 0 with one; found 2. */
	len = craft(&f->plain, f->buf, CELLMSG_ANSWER, 0, body,
		    CELLMSG_ANSWER_FIXED_LEN);
	assert_int_equal(
		cellmsg_decode(&f->plain, f->buf, len, &f->out, NULL, 0),
		CELLMSG_RX_MALFORMED);
	body[40] = 0;
	len = craft(&f->plain, f->buf, CELLMSG_ANSWER, 0, body, full);
	assert_int_equal(
		cellmsg_decode(&f->plain, f->buf, len, &f->out, NULL, 0),
		CELLMSG_RX_MALFORMED);
	body[40] = 2;
	len = craft(&f->plain, f->buf, CELLMSG_ANSWER, 0, body, full);
	assert_int_equal(
		cellmsg_decode(&f->plain, f->buf, len, &f->out, NULL, 0),
		CELLMSG_RX_MALFORMED);
	/* A record of another flow than the key asked about. */
	body[40] = 1;
	body[33] ^= 1; /* the key block's sport */
	len = craft(&f->plain, f->buf, CELLMSG_ANSWER, 0, body, full);
	assert_int_equal(
		cellmsg_decode(&f->plain, f->buf, len, &f->out, NULL, 0),
		CELLMSG_RX_MALFORMED);
	/* Any other length. */
	len = craft(&f->plain, f->buf, CELLMSG_ANSWER, 0, body, full - 1);
	assert_int_equal(
		cellmsg_decode(&f->plain, f->buf, len, &f->out, NULL, 0),
		CELLMSG_RX_LENGTH);
	m.ans.found = 2;
	assert_int_equal(cellmsg_encode(&f->plain, &m, f->buf, sizeof(f->buf)),
			 -EINVAL);
	m.ans.found = 1;
	m.ans.key.sport ^= 1;
	assert_int_equal(cellmsg_encode(&f->plain, &m, f->buf, sizeof(f->buf)),
			 -EINVAL);
}

/* A change in any field makes messages unequal (cellmsg_equal is the
 * oracle of the round trips, so it must be able to say no). */
static void test_equal_discriminates(void **state)
{
	struct fx *f = *state;
	struct cellmsg a, b;
	unsigned ti;

	for (ti = 0; ti < sizeof(all_types); ti++) {
		rec_realistic(&f->recs[0], 1000);
		f->got[0] = f->recs[0];
		msg_make(&a, all_types[ti], f->recs, 1);
		msg_make(&b, all_types[ti], f->got, 1);
		assert_true(cellmsg_equal(&a, &b));
		b.seq++;
		assert_false(cellmsg_equal(&a, &b));
		b.seq--;
		switch (all_types[ti]) {
		case CELLMSG_RULE:
			b.rule.key.sport ^= 1;
			break;
		case CELLMSG_RULE_DEL:
			b.del.version++;
			break;
		case CELLMSG_HEARTBEAT:
			b.hb.shards_hash++;
			break;
		case CELLMSG_BATCH:
			f->got[0].bytes++;
			assert_false(cellmsg_equal(&a, &b));
			f->got[0].bytes--;
			/* The chain's fields count too. */
			a.batch.chain_seq = b.batch.chain_seq = 5;
			assert_true(cellmsg_equal(&a, &b));
			b.batch.link[15] ^= 1;
			assert_false(cellmsg_equal(&a, &b));
			b.batch.link[15] ^= 1;
			b.batch.chain_seq++;
			break;
		case CELLMSG_RESYNC:
			b.sh.reason = CELLMSG_RESYNC_GAP;
			break;
		case CELLMSG_SNAP_END:
			b.sh.count++;
			break;
		case CELLMSG_MIRROR:
			b.mir.pkt[59] ^= 1;
			break;
		case CELLMSG_TOUCH:
			b.touch.keys[2].sport ^= 1;
			break;
		case CELLMSG_QUERY:
			b.query.dport ^= 1;
			break;
		case CELLMSG_ANSWER:
			b.ans.found ^= 1;
			break;
		default:
			b.sh.shard++;
			break;
		}
		assert_false(cellmsg_equal(&a, &b));
	}
}

/* The offsets cellmsg.h documents, read back from encoded frames. */
static void test_layout(void **state)
{
	struct fx *f = *state;
	const uint8_t *h = f->buf, *b = f->buf + CELLMSG_HDR_LEN;
	struct cell_flow_rec *r = &f->recs[0];
	int len;

	msg_make(&f->in, CELLMSG_RULE, NULL, 0);
	len = cellmsg_encode(&f->plain, &f->in, f->buf, sizeof(f->buf));
	assert_int_equal(len, CELLMSG_HDR_LEN + CELLMSG_RULE_LEN + 32);
	assert_int_equal(h[0], 'S');
	assert_int_equal(h[1], 'C');
	assert_int_equal(h[2], 1);
	assert_int_equal(h[3], CELLMSG_RULE);
	assert_int_equal(h[4], 0);
	assert_int_equal(h[5], 0);
	assert_int_equal(h[6] << 8 | h[7], SELF);
	assert_int_equal(rd32(h + 8), 0x01020304u);
	assert_true(rd64(h + 12) == f->in.seq);
	assert_int_equal(rd32(h + 20), CELLMSG_RULE_LEN);
	assert_memory_equal(b, f->in.rule.key.src.b, 16);
	assert_memory_equal(b + 16, f->in.rule.key.dst.b, 16);
	assert_memory_equal(b + 32, &f->in.rule.key.sport, 2);
	assert_memory_equal(b + 34, &f->in.rule.key.dport, 2);
	assert_int_equal(b[36], STEER_IPPROTO_TCP);
	assert_true(rd64(b + 40) == 0xa1a2a3a4a5a6a7a8ull);
	assert_int_equal(rd32(b + 48), 0xb1b2b3b4u);
	assert_int_equal(rd32(b + 52), 0xc1c2d1d2u);
	assert_int_equal(rd32(b + 56), 0xe1e2f1f2u);
	assert_int_equal(b[60], STEER_ACT_BACKEND);
	assert_int_equal(b[61], 3);

	/* One record of distinct values: sent raw, so readable in place. */
	rec_random(r);
	r->epoch = 0x0a0b0c0du;
	r->service = 0x1112;
	set_profile(&r->primary, r->mirror, &r->rf, 3, 0x2122, 0x2324, 0x2526);
	r->key.proto = 0x31;
	r->backend = 0x4142;
	r->state = 0x51;
	r->tcp_flags = 0x52;
	r->version = 0x6162636465666768ull;
	r->created_ms = 0x71727374u;
	r->last_ms = 0x75767778u;
	r->packets = 0x81828384u;
	r->bytes = 0x85868788u;
	msg_make(&f->in, CELLMSG_BATCH, r, 1);
	f->in.batch.first_seq = 0x0102030405060708ull;
	len = cellmsg_encode(&f->enc, &f->in, f->buf, sizeof(f->buf));
	assert_int_equal(len, CELLMSG_HDR_LEN + CELLMSG_BATCH_FIXED_LEN +
				      CELLMSG_REC_LEN + 40);
	assert_int_equal(h[4], CELLMSG_FLAG_ENCRYPTED);
	len = cellmsg_encode(&f->plain, &f->in, f->buf, sizeof(f->buf));
	assert_int_equal(h[4], 0);
	assert_int_equal(h[24] << 8 | h[25], 4095);
	assert_true(rd64(b + 4) == 0x0102030405060708ull);
	assert_int_equal(rd32(b + 12), 1);
	assert_int_equal(rd32(b + 16), CELLMSG_REC_LEN);
	b += CELLMSG_BATCH_FIXED_LEN;
	assert_int_equal(rd32(b), 0x0a0b0c0du);
	assert_int_equal(rd32(b + 4), 0x11122122u);
	assert_int_equal(rd32(b + 8), 0x23242526u);
	assert_int_equal(b[12], 0x31);
	assert_int_equal(b[13], 3);
	assert_int_equal(b[14] | b[15], 0);
	assert_memory_equal(b + 16, r->key.dst.b, 16);
	assert_memory_equal(b + 32, &r->key.dport, 2);
	assert_int_equal(b[34] << 8 | b[35], 0x4142);
	assert_memory_equal(b + 36, r->key.src.b, 16);
	assert_memory_equal(b + 52, &r->key.sport, 2);
	assert_int_equal(b[54], 0x51);
	assert_int_equal(b[55], 0x52);
	assert_true(rd64(b + 56) == 0x6162636465666768ull);
	assert_int_equal(rd32(b + 64), 0x71727374u);
	assert_int_equal(rd32(b + 68), 0x75767778u);
	assert_int_equal(rd32(b + 72), 0x81828384u);
	assert_int_equal(rd32(b + 76), 0x85868788u);
}

/* A chained batch: genesis, then links; version 2 on the wire, at the
 * documented offsets; the receiver's link of what it decoded is the
 * sender's, compressed or not, plain or sealed. */
static void test_chain_roundtrip(void **state)
{
	struct fx *f = *state;
	const struct gossip_auth *modes[2] = {&f->plain, &f->enc};
	uint8_t gen[CELLMSG_LINK_LEN], link[CELLMSG_LINK_LEN];
	const uint8_t *h = f->buf, *b = f->buf + CELLMSG_HDR_LEN;
	static const uint32_t counts[] = {0, 1, 50, CELLMSG_BATCH_MAX};
	unsigned mi, ci;
	uint32_t i;
	int len;

	for (i = 0; i < CELLMSG_BATCH_MAX; i++)
		rec_realistic(&f->recs[i], 7000000);
	for (mi = 0; mi < 2; mi++)
		for (ci = 0; ci < 4; ci++) {
			msg_make(&f->in, CELLMSG_BATCH, f->recs, counts[ci]);
			f->in.batch.chain_seq = 1;
			cellmsg_chain_genesis(SELF, 9, f->in.incarnation,
					      f->in.batch.shard, f->in.seq,
					      gen);
			cellmsg_chain_link(gen, &f->in.batch, f->in.batch.link);
			len = cellmsg_encode(modes[mi], &f->in, f->buf,
					     sizeof(f->buf));
			assert_true(len > 0);
			assert_int_equal(h[2], CELLMSG_VERSION_CHAIN);
			assert_int_equal(cellmsg_decode(modes[mi], f->buf,
							(size_t)len, &f->out,
							f->got,
							CELLMSG_BATCH_MAX),
					 CELLMSG_RX_OK);
			assert_true(cellmsg_equal(&f->in, &f->out));
			cellmsg_chain_link(gen, &f->out.batch, link);
			assert_memory_equal(link, f->out.batch.link,
					    CELLMSG_LINK_LEN);
			if (counts[ci] > 1)
				assert_true(h[4] & CELLMSG_FLAG_COMPRESSED);
		}
	/* Offsets: one record, raw, plain. */
	msg_make(&f->in, CELLMSG_BATCH, f->recs, 0);
	f->in.batch.chain_seq = 0x0102030405060708ull;
	for (i = 0; i < CELLMSG_LINK_LEN; i++)
		f->in.batch.link[i] = (uint8_t)(0xa0 + i);
	len = cellmsg_encode(&f->plain, &f->in, f->buf, sizeof(f->buf));
	assert_int_equal(len, CELLMSG_HDR_LEN + CELLMSG_BATCH_CHAIN_LEN + 32);
	assert_int_equal(rd32(h + 20), CELLMSG_BATCH_CHAIN_LEN);
	assert_true(rd64(b + 20) == 0x0102030405060708ull);
	assert_memory_equal(b + 28, f->in.batch.link, CELLMSG_LINK_LEN);
	/* Unchained: version 1, 20 bytes, as before the chain. */
	f->in.batch.chain_seq = 0;
	len = cellmsg_encode(&f->plain, &f->in, f->buf, sizeof(f->buf));
	assert_int_equal(len, CELLMSG_HDR_LEN + CELLMSG_BATCH_FIXED_LEN + 32);
	assert_int_equal(h[2], CELLMSG_VERSION);
}

/* Version 2 is a chained BATCH's only: on another type, or a BATCH
 * whose chain_seq is 0 or whose body cannot hold the chain, refused. */
static void test_chain_refused(void **state)
{
	struct fx *f = *state;
	uint8_t body[CELLMSG_BATCH_CHAIN_LEN + CELLMSG_REC_LEN], *p = f->buf;
	size_t len, fl;
	int n;

	/* A RULE calling itself version 2. */
	n = cellmsg_encode(&f->plain,
			   (msg_make(&f->in, CELLMSG_RULE, NULL, 0), &f->in), p,
			   sizeof(f->buf));
	assert_true(n > 0);
	p[2] = CELLMSG_VERSION_CHAIN;
	assert_int_equal(
		cellmsg_decode(&f->plain, p, (size_t)n, &f->out, f->got, 1),
		CELLMSG_RX_VERSION);
	assert_int_equal(cellmsg_frame_len(&f->plain, p, (size_t)n, &fl),
			 CELLMSG_RX_VERSION);
	p[2] = 3;
	assert_int_equal(
		cellmsg_decode(&f->plain, p, (size_t)n, &f->out, f->got, 1),
		CELLMSG_RX_VERSION);
	/* Authentic version 2 batches, by hand. */
	memset(body, 0, sizeof(body));
	body[27] = 1; /* chain_seq 1, no record */
	len = craft(&f->plain, p, CELLMSG_BATCH, 0, body,
		    CELLMSG_BATCH_CHAIN_LEN);
	p[2] = CELLMSG_VERSION_CHAIN;
	len = gossip_auth_seal(&f->plain, p, CELLMSG_HDR_LEN,
			       CELLMSG_BATCH_CHAIN_LEN);
	assert_int_equal(cellmsg_decode(&f->plain, p, len, &f->out, f->got, 1),
			 CELLMSG_RX_OK);
	assert_true(f->out.batch.chain_seq == 1);
	body[27] = 0; /* chain_seq 0 */
	craft(&f->plain, p, CELLMSG_BATCH, 0, body, CELLMSG_BATCH_CHAIN_LEN);
	p[2] = CELLMSG_VERSION_CHAIN;
	len = gossip_auth_seal(&f->plain, p, CELLMSG_HDR_LEN,
			       CELLMSG_BATCH_CHAIN_LEN);
	assert_int_equal(cellmsg_decode(&f->plain, p, len, &f->out, f->got, 1),
			 CELLMSG_RX_MALFORMED);
	/* A body of version 1's length under version 2. */
	body[27] = 1;
	craft(&f->plain, p, CELLMSG_BATCH, 0, body, CELLMSG_BATCH_FIXED_LEN);
	p[2] = CELLMSG_VERSION_CHAIN;
	len = gossip_auth_seal(&f->plain, p, CELLMSG_HDR_LEN,
			       CELLMSG_BATCH_FIXED_LEN);
	assert_int_equal(cellmsg_decode(&f->plain, p, len, &f->out, f->got, 1),
			 CELLMSG_RX_LENGTH);
	/* Version 1 with a chain's 24 bytes: not a record's worth. */
	craft(&f->plain, p, CELLMSG_BATCH, 0, body, CELLMSG_BATCH_CHAIN_LEN);
	len = gossip_auth_seal(&f->plain, p, CELLMSG_HDR_LEN,
			       CELLMSG_BATCH_CHAIN_LEN);
	assert_int_equal(cellmsg_decode(&f->plain, p, len, &f->out, f->got, 1),
			 CELLMSG_RX_MALFORMED);
}

/* A link changes with each thing it covers and with nothing else. */
static void test_chain_link(void **state)
{
	struct fx *f = *state;
	uint8_t prev[CELLMSG_LINK_LEN], l0[CELLMSG_LINK_LEN],
		l1[CELLMSG_LINK_LEN], g[6][CELLMSG_LINK_LEN];
	struct cellmsg_batch bt;
	unsigned i, j;

#define LINK_DIFFERS(stmt, undo)                                               \
	do {                                                                   \
		stmt;                                                          \
		cellmsg_chain_link(prev, &bt, l1);                             \
		assert_memory_not_equal(l0, l1, CELLMSG_LINK_LEN);             \
		undo;                                                          \
		cellmsg_chain_link(prev, &bt, l1);                             \
		assert_memory_equal(l0, l1, CELLMSG_LINK_LEN);                 \
	} while (0)
	for (i = 0; i < 40; i++)
		rec_realistic(&f->recs[i], 12345);
	memset(prev, 0x33, sizeof(prev));
	memset(&bt, 0, sizeof(bt));
	bt.shard = 17;
	bt.first_seq = 1000;
	bt.chain_seq = 3;
	bt.count = 40; /* more than one chunk of the hash's buffer */
	bt.recs = f->recs;
	cellmsg_chain_link(prev, &bt, l0);
	LINK_DIFFERS(prev[0] ^= 1, prev[0] ^= 1);
	LINK_DIFFERS(prev[15] ^= 0x80, prev[15] ^= 0x80);
	LINK_DIFFERS(bt.shard++, bt.shard--);
	LINK_DIFFERS(bt.first_seq++, bt.first_seq--);
	LINK_DIFFERS(bt.chain_seq++, bt.chain_seq--);
	LINK_DIFFERS(bt.count--, bt.count++);
	LINK_DIFFERS(f->recs[0].backend ^= 1, f->recs[0].backend ^= 1);
	LINK_DIFFERS(f->recs[17].version++, f->recs[17].version--);
	LINK_DIFFERS(f->recs[39].bytes ^= 1u << 31,
		     f->recs[39].bytes ^= 1u << 31);
	LINK_DIFFERS(f->recs[20].key.src.b[15] ^= 1,
		     f->recs[20].key.src.b[15] ^= 1);
	/* What the wire does not carry: the link field itself. */
	memset(bt.link, 0xee, sizeof(bt.link));
	cellmsg_chain_link(prev, &bt, l1);
	assert_memory_equal(l0, l1, CELLMSG_LINK_LEN);
#undef LINK_DIFFERS
	/* Geneses of different streams, shards, epochs differ. */
	cellmsg_chain_genesis(1, 2, 3, 4, 5, g[0]);
	cellmsg_chain_genesis(2, 1, 3, 4, 5, g[1]);
	cellmsg_chain_genesis(1, 2, 4, 4, 5, g[2]);
	cellmsg_chain_genesis(1, 2, 3, 5, 5, g[3]);
	cellmsg_chain_genesis(1, 2, 3, 4, 6, g[4]);
	cellmsg_chain_genesis(1, 2, 3, 4, 5, g[5]);
	for (i = 0; i < 5; i++)
		for (j = i + 1; j < 5; j++)
			assert_memory_not_equal(g[i], g[j], CELLMSG_LINK_LEN);
	assert_memory_equal(g[0], g[5], CELLMSG_LINK_LEN);
}

struct expect {
	struct cellmsg_counters ctr;
	uint64_t want[CELLMSG_RX_REASONS];
};

/* Decode, check the reason, count it (as a receiver would). */
#define refuse(...) refuse_at(__LINE__, __VA_ARGS__)
static void refuse_at(int line, struct fx *f, struct expect *e,
		      const struct gossip_auth *a, const uint8_t *buf,
		      size_t len, uint32_t cap, enum cellmsg_rx_reason want)
{
	enum cellmsg_rx_reason r;

	r = cellmsg_decode(a, buf, len, &f->out, f->got, cap);
	if (r != want)
		fail_msg("line %d: got %s, want %s", line,
			 cellmsg_rx_reason_name(r),
			 cellmsg_rx_reason_name(want));
	cellmsg_counters_add(&e->ctr, r);
	e->want[want]++;
}

static int encode_type(struct fx *f, const struct gossip_auth *a, uint8_t type,
		       uint32_t n, uint8_t *buf)
{
	int len;

	msg_make(&f->in, type, f->recs, n);
	len = cellmsg_encode(a, &f->in, buf, CELLMSG_FRAME_MAX);
	assert_true(len > 0);
	return len;
}

static void test_reasons(void **state)
{
	struct fx *f = *state;
	struct expect *e = calloc(1, sizeof(*e));
	uint8_t body[CELLMSG_BATCH_FIXED_LEN + CELLMSG_REC_LEN + 64],
		*p = f->buf;
	size_t len, cut;
	unsigned i;
	int n;

	assert_non_null(e);
	n = encode_type(f, &f->plain, CELLMSG_RULE, 0, f->buf2);
	len = (size_t)n;
#define BAD(stmt, want)                                                        \
	do {                                                                   \
		memcpy(p, f->buf2, len);                                       \
		stmt;                                                          \
		refuse(f, e, &f->plain, p, len, CELLMSG_BATCH_MAX, want);      \
	} while (0)
	BAD(p[0] ^= 0x80, CELLMSG_RX_MAGIC);
	BAD(p[1] = 'G', CELLMSG_RX_MAGIC);
	BAD(p[2] = 2, CELLMSG_RX_VERSION);
	BAD(p[2] = 0, CELLMSG_RX_VERSION);
	BAD(p[3] = 0, CELLMSG_RX_TYPE);
	BAD(p[3] = CELLMSG_TYPE_MAX + 1, CELLMSG_RX_TYPE);
	BAD(p[4] = 0x80, CELLMSG_RX_FLAGS);
	BAD(p[4] = CELLMSG_FLAG_COMPRESSED, CELLMSG_RX_FLAGS);
	BAD(p[4] = CELLMSG_FLAG_ENCRYPTED, CELLMSG_RX_MODE);
	BAD(p[5] = 1, CELLMSG_RX_MALFORMED);
	BAD(p[6] = p[7] = 0xff, CELLMSG_RX_MALFORMED);
	BAD(p[23]++, CELLMSG_RX_LENGTH);
	BAD(p[23]--, CELLMSG_RX_LENGTH);
	BAD(p[20] = 0xff, CELLMSG_RX_LENGTH);
	BAD(p[9] ^= 1, CELLMSG_RX_AUTH);
	BAD(p[CELLMSG_HDR_LEN + 3] ^= 4, CELLMSG_RX_AUTH);
	BAD(p[len - 1] ^= 1, CELLMSG_RX_AUTH);
	/* Every truncation, and one byte too many. */
	for (cut = 0; cut < len; cut++) {
		memcpy(p, f->buf2, len);
		refuse(f, e, &f->plain, p, cut, 0, CELLMSG_RX_SHORT);
	}
	memcpy(p, f->buf2, len);
	p[len] = 0;
	refuse(f, e, &f->plain, p, len + 1, 0, CELLMSG_RX_LENGTH);
	refuse(f, e, &f->plain, p, CELLMSG_FRAME_MAX + 1, 0,
	       CELLMSG_RX_OVERSIZE);
	/* Wrong key, wrong mode. */
	refuse(f, e, &f->other, f->buf2, len, 0, CELLMSG_RX_AUTH);
	refuse(f, e, &f->enc, f->buf2, len, 0, CELLMSG_RX_MODE);
	n = encode_type(f, &f->enc, CELLMSG_HEARTBEAT, 0, p);
	refuse(f, e, &f->other_enc, p, (size_t)n, 0, CELLMSG_RX_AUTH);
	refuse(f, e, &f->plain, p, (size_t)n, 0, CELLMSG_RX_MODE);
	p[30] ^= 1; /* inside the nonce */
	refuse(f, e, &f->enc, p, (size_t)n, 0, CELLMSG_RX_AUTH);

	/* Authentic frames whose bodies are wrong. */
	memset(body, 0, sizeof(body));
	body[2] = CELLMSG_RESYNC_GAP;
	len = craft(&f->plain, p, CELLMSG_RESYNC, 0, body, CELLMSG_RESYNC_LEN);
	refuse(f, e, &f->plain, p, len, 0, CELLMSG_RX_OK);
	body[2] = 0; /* reason unknown */
	len = craft(&f->plain, p, CELLMSG_RESYNC, 0, body, CELLMSG_RESYNC_LEN);
	refuse(f, e, &f->plain, p, len, 0, CELLMSG_RX_MALFORMED);
	body[2] = CELLMSG_RESYNC_MISMATCH; /* the last known */
	len = craft(&f->plain, p, CELLMSG_RESYNC, 0, body, CELLMSG_RESYNC_LEN);
	refuse(f, e, &f->plain, p, len, 0, CELLMSG_RX_OK);
	body[2] = CELLMSG_RESYNC_MISMATCH + 1;
	len = craft(&f->plain, p, CELLMSG_RESYNC, 0, body, CELLMSG_RESYNC_LEN);
	refuse(f, e, &f->plain, p, len, 0, CELLMSG_RX_MALFORMED);
	body[2] = 1;
	body[3] = 1; /* reserved */
	len = craft(&f->plain, p, CELLMSG_RESYNC, 0, body, CELLMSG_RESYNC_LEN);
	refuse(f, e, &f->plain, p, len, 0, CELLMSG_RX_MALFORMED);
	memset(body, 0, sizeof(body));
	body[0] = 0x10; /* shard 4096 */
	len = craft(&f->plain, p, CELLMSG_ACK, 0, body, CELLMSG_ACK_LEN);
	refuse(f, e, &f->plain, p, len, 0, CELLMSG_RX_MALFORMED);
	body[0] = 0x0f;
	body[1] = 0xff; /* shard 4095 */
	len = craft(&f->plain, p, CELLMSG_ACK, 0, body, CELLMSG_ACK_LEN);
	refuse(f, e, &f->plain, p, len, 0, CELLMSG_RX_OK);
	memset(body, 0, sizeof(body));
	body[39] = 1; /* key padding */
	len = craft(&f->plain, p, CELLMSG_RULE_DEL, 0, body,
		    CELLMSG_RULE_DEL_LEN);
	refuse(f, e, &f->plain, p, len, 0, CELLMSG_RX_MALFORMED);
	/* RULE profiles against steer_rule's invariant, and actions. */
	n = encode_type(f, &f->plain, CELLMSG_RULE, 0, f->buf2);
	memcpy(body, f->buf2 + CELLMSG_HDR_LEN, CELLMSG_RULE_LEN);
	{
		static const struct {
			unsigned off;
			uint8_t v;
			enum cellmsg_rx_reason want;
		} cases[] = {
			{61, 3, CELLMSG_RX_OK},
			{61, 0, CELLMSG_RX_MALFORMED},
			{61, 4, CELLMSG_RX_MALFORMED},
			{61, 2, CELLMSG_RX_MALFORMED},
			{60, 0, CELLMSG_RX_MALFORMED},
			{60, STEER_ACT__MAX, CELLMSG_RX_MALFORMED},
			{60, STEER_ACT_DROP, CELLMSG_RX_OK},
			{62, 1, CELLMSG_RX_MALFORMED},
			{37, 1, CELLMSG_RX_MALFORMED},
		};
		uint8_t b2[CELLMSG_RULE_LEN];

		for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			memcpy(b2, body, sizeof(b2));
			b2[cases[i].off] = cases[i].v;
			len = craft(&f->plain, p, CELLMSG_RULE, 0, b2,
				    sizeof(b2));
			refuse(f, e, &f->plain, p, len, 0, cases[i].want);
		}
		/* primary none; rf 2 with its mirror missing */
		memcpy(b2, body, sizeof(b2));
		b2[54] = b2[55] = 0xff;
		len = craft(&f->plain, p, CELLMSG_RULE, 0, b2, sizeof(b2));
		refuse(f, e, &f->plain, p, len, 0, CELLMSG_RX_MALFORMED);
		memcpy(b2, body, sizeof(b2));
		b2[61] = 2;
		b2[58] = b2[59] = 0xff;
		len = craft(&f->plain, p, CELLMSG_RULE, 0, b2, sizeof(b2));
		refuse(f, e, &f->plain, p, len, 0, CELLMSG_RX_OK);
		b2[56] = b2[57] = 0xff;
		len = craft(&f->plain, p, CELLMSG_RULE, 0, b2, sizeof(b2));
		refuse(f, e, &f->plain, p, len, 0, CELLMSG_RX_MALFORMED);
	}

	/* Batches: counts, lengths, compression. */
	for (i = 0; i < 4; i++)
		rec_random(&f->recs[i]);
	n = encode_type(f, &f->plain, CELLMSG_BATCH, 4, f->buf2);
	assert_int_equal(f->buf2[4], 0);
	refuse(f, e, &f->plain, f->buf2, (size_t)n, 3, CELLMSG_RX_NOSPACE);
	refuse(f, e, &f->plain, f->buf2, (size_t)n, 4, CELLMSG_RX_OK);
	memset(body, 0, sizeof(body));
	wr32(body + 12, 1); /* count 1, raw_len 0 */
	len = craft(&f->plain, p, CELLMSG_BATCH, 0, body,
		    CELLMSG_BATCH_FIXED_LEN);
	refuse(f, e, &f->plain, p, len, 4, CELLMSG_RX_MALFORMED);
	wr32(body + 12, 0);
	wr32(body + 16, 0); /* count 0: an empty batch is fine */
	len = craft(&f->plain, p, CELLMSG_BATCH, 0, body,
		    CELLMSG_BATCH_FIXED_LEN);
	refuse(f, e, &f->plain, p, len, 0, CELLMSG_RX_OK);
	/* ... but not one "compressed" into a byte or more */
	len = craft(&f->plain, p, CELLMSG_BATCH, CELLMSG_FLAG_COMPRESSED, body,
		    CELLMSG_BATCH_FIXED_LEN + 1);
	refuse(f, e, &f->plain, p, len, 0, CELLMSG_RX_MALFORMED);
	/* compressed with no block at all: caught by the header */
	len = craft(&f->plain, p, CELLMSG_BATCH, CELLMSG_FLAG_COMPRESSED, body,
		    CELLMSG_BATCH_FIXED_LEN);
	refuse(f, e, &f->plain, p, len, 0, CELLMSG_RX_LENGTH);
	/* a block of garbage that claims one record */
	wr32(body + 12, 1);
	wr32(body + 16, CELLMSG_REC_LEN);
	memset(body + CELLMSG_BATCH_FIXED_LEN, 0xf0, 40);
	len = craft(&f->plain, p, CELLMSG_BATCH, CELLMSG_FLAG_COMPRESSED, body,
		    CELLMSG_BATCH_FIXED_LEN + 40);
	refuse(f, e, &f->plain, p, len, 4, CELLMSG_RX_DECOMPRESS);
	/* a good LZ4 block of one record of zeros: decompresses, but rf 0;
	 * then one that gives a byte too few */
	{
		char zeros[CELLMSG_REC_LEN] = {0};
		int z;

		z = LZ4_compress_default(zeros,
					 (char *)body + CELLMSG_BATCH_FIXED_LEN,
					 CELLMSG_REC_LEN, 40);
		assert_true(z > 0 && z < 40);
		len = craft(&f->plain, p, CELLMSG_BATCH,
			    CELLMSG_FLAG_COMPRESSED, body,
			    CELLMSG_BATCH_FIXED_LEN + (size_t)z);
		refuse(f, e, &f->plain, p, len, 4, CELLMSG_RX_MALFORMED);
		z = LZ4_compress_default(zeros,
					 (char *)body + CELLMSG_BATCH_FIXED_LEN,
					 CELLMSG_REC_LEN - 1, 40);
		assert_true(z > 0 && z < 40);
		len = craft(&f->plain, p, CELLMSG_BATCH,
			    CELLMSG_FLAG_COMPRESSED, body,
			    CELLMSG_BATCH_FIXED_LEN + (size_t)z);
		refuse(f, e, &f->plain, p, len, 4, CELLMSG_RX_DECOMPRESS);
	}
	/* a record breaking the profile invariant, sent raw */
	n = encode_type(f, &f->plain, CELLMSG_BATCH, 1, f->buf2);
	assert_int_equal(f->buf2[4], 0);
	memcpy(body, f->buf2 + CELLMSG_HDR_LEN,
	       CELLMSG_BATCH_FIXED_LEN + CELLMSG_REC_LEN);
	body[CELLMSG_BATCH_FIXED_LEN + 13] = 9; /* rf */
	len = craft(&f->plain, p, CELLMSG_BATCH, 0, body,
		    CELLMSG_BATCH_FIXED_LEN + CELLMSG_REC_LEN);
	refuse(f, e, &f->plain, p, len, 4, CELLMSG_RX_MALFORMED);

	for (i = 0; i < CELLMSG_RX_REASONS; i++)
		if (i != CELLMSG_RX_NEED_MORE && e->ctr.rx[i] != e->want[i])
			fail_msg("reason %s counted %llu, want %llu",
				 cellmsg_rx_reason_name(i),
				 (unsigned long long)e->ctr.rx[i],
				 (unsigned long long)e->want[i]);
	/* Every reason a frame can be refused for has been seen. */
	for (i = CELLMSG_RX_SHORT; i <= CELLMSG_RX_NOSPACE; i++)
		assert_true(e->ctr.rx[i] > 0);
	cellmsg_counters_add(&e->ctr, CELLMSG_RX_NEED_MORE);
	assert_int_equal(e->ctr.rx[CELLMSG_RX_NEED_MORE], 0);
#undef BAD
	free(e);
}

/* One bit flipped anywhere in a frame: refused, whatever the reason. */
static void flip_all(struct fx *f, const struct gossip_auth *a, size_t len,
		     unsigned *by_reason)
{
	enum cellmsg_rx_reason r;
	size_t bit;

	for (bit = 0; bit < len * 8; bit++) {
		memcpy(f->buf, f->buf2, len);
		f->buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		r = cellmsg_decode(a, f->buf, len, &f->out, f->got,
				   CELLMSG_BATCH_MAX);
		if (r == CELLMSG_RX_OK)
			fail_msg("bit %zu flipped: accepted", bit);
		by_reason[r]++;
	}
}

static void test_bitflip(void **state)
{
	struct fx *f = *state;
	const struct gossip_auth *modes[2] = {&f->plain, &f->enc};
	unsigned by_reason[CELLMSG_RX_REASONS] = {0}, mi, ti, i;
	int n;

	for (i = 0; i < 16; i++)
		rec_realistic(&f->recs[i], 1000000);
	for (mi = 0; mi < 2; mi++) {
		for (ti = 0; ti < sizeof(all_types); ti++) {
			n = encode_type(f, modes[mi], all_types[ti], 16,
					f->buf2);
			if (all_types[ti] == CELLMSG_BATCH)
				assert_true(f->buf2[4] &
					    CELLMSG_FLAG_COMPRESSED);
			flip_all(f, modes[mi], (size_t)n, by_reason);
		}
		rec_random(&f->recs[0]);
		n = encode_type(f, modes[mi], CELLMSG_BATCH, 1, f->buf2);
		assert_false(f->buf2[4] & CELLMSG_FLAG_COMPRESSED);
		flip_all(f, modes[mi], (size_t)n, by_reason);
	}
	assert_true(by_reason[CELLMSG_RX_AUTH] > 0);
	assert_true(by_reason[CELLMSG_RX_MAGIC] > 0);
}

static void test_encode_errors(void **state)
{
	struct fx *f = *state;
	size_t need;
	unsigned ti;

	for (ti = 0; ti < sizeof(all_types); ti++) {
		rec_realistic(&f->recs[0], 1);
		msg_make(&f->in, all_types[ti], f->recs, 1);
		need = (size_t)cellmsg_encode(&f->enc, &f->in, f->buf,
					      sizeof(f->buf));
		assert_int_equal(
			cellmsg_encode(&f->enc, &f->in, f->buf, need - 1),
			-EMSGSIZE);
		assert_int_equal(cellmsg_encode(&f->enc, &f->in, f->buf, need),
				 (int)need);
		assert_int_equal(cellmsg_encode(&f->enc, &f->in, f->buf, 0),
				 -EMSGSIZE);
		f->in.sender = STEER_NODE_NONE;
		assert_int_equal(
			cellmsg_encode(&f->enc, &f->in, f->buf, sizeof(f->buf)),
			-EINVAL);
	}
	msg_make(&f->in, 0, NULL, 0);
	assert_int_equal(
		cellmsg_encode(&f->plain, &f->in, f->buf, sizeof(f->buf)),
		-EINVAL);
	msg_make(&f->in, CELLMSG_TYPE_MAX + 1, NULL, 0);
	assert_int_equal(
		cellmsg_encode(&f->plain, &f->in, f->buf, sizeof(f->buf)),
		-EINVAL);
	msg_make(&f->in, CELLMSG_RULE, NULL, 0);
	f->in.rule.rf = 2; /* two mirrors set */
	assert_int_equal(
		cellmsg_encode(&f->plain, &f->in, f->buf, sizeof(f->buf)),
		-EINVAL);
	msg_make(&f->in, CELLMSG_RULE, NULL, 0);
	f->in.rule.action = STEER_ACT_NONE;
	assert_int_equal(
		cellmsg_encode(&f->plain, &f->in, f->buf, sizeof(f->buf)),
		-EINVAL);
	msg_make(&f->in, CELLMSG_RULE_DEL, NULL, 0);
	f->in.del.key.pad[1] = 1;
	assert_int_equal(
		cellmsg_encode(&f->plain, &f->in, f->buf, sizeof(f->buf)),
		-EINVAL);
	msg_make(&f->in, CELLMSG_RESYNC, NULL, 0);
	f->in.sh.reason = 0;
	assert_int_equal(
		cellmsg_encode(&f->plain, &f->in, f->buf, sizeof(f->buf)),
		-EINVAL);
	msg_make(&f->in, CELLMSG_ACK, NULL, 0);
	f->in.sh.shard = CELLMSG_SHARDS;
	assert_int_equal(
		cellmsg_encode(&f->plain, &f->in, f->buf, sizeof(f->buf)),
		-EINVAL);
	msg_make(&f->in, CELLMSG_BATCH, f->recs, CELLMSG_BATCH_MAX + 1);
	assert_int_equal(
		cellmsg_encode(&f->plain, &f->in, f->buf, sizeof(f->buf)),
		-EINVAL);
	msg_make(&f->in, CELLMSG_BATCH, NULL, 1);
	assert_int_equal(
		cellmsg_encode(&f->plain, &f->in, f->buf, sizeof(f->buf)),
		-EINVAL);
	rec_realistic(&f->recs[0], 1);
	f->recs[0].rf = 1; /* mirrors still set */
	msg_make(&f->in, CELLMSG_BATCH, f->recs, 1);
	assert_int_equal(
		cellmsg_encode(&f->plain, &f->in, f->buf, sizeof(f->buf)),
		-EINVAL);
}

/* Absurd declared lengths are refused before anything of their size is
 * allocated: the decoder never asks for more than a frame's worth. */
static void test_absurd_lengths(void **state)
{
	struct fx *f = *state;
	uint8_t body[CELLMSG_BATCH_FIXED_LEN + 8] = {0}, *p = f->buf;
	size_t len, fl;
	int n;

	malloc_max = 0;
	n = encode_type(f, &f->plain, CELLMSG_ACK, 0, p);
	p[3] = CELLMSG_BATCH;
	wr32(p + 20, 0xffffffffu);
	assert_int_equal(cellmsg_frame_len(&f->plain, p, (size_t)n, &fl),
			 CELLMSG_RX_OVERSIZE);
	assert_int_equal(cellmsg_decode(&f->plain, p, (size_t)n, &f->out,
					f->got, CELLMSG_BATCH_MAX),
			 CELLMSG_RX_OVERSIZE);
	wr32(p + 20, CELLMSG_BODY_MAX + 1);
	assert_int_equal(cellmsg_frame_len(&f->plain, p, (size_t)n, &fl),
			 CELLMSG_RX_OVERSIZE);
	wr32(p + 20, CELLMSG_BODY_MAX);
	assert_int_equal(cellmsg_frame_len(&f->plain, p, (size_t)n, &fl),
			 CELLMSG_RX_NEED_MORE);
	assert_int_equal(fl, CELLMSG_HDR_LEN + CELLMSG_BODY_MAX + 32);
	assert_int_equal(malloc_max, 0);

	/* Authentic bodies that declare 4 G records, or one past the bound,
	 * or a raw length of 4 GB for one record. */
	wr32(body + 12, 0xffffffffu);
	wr32(body + 16, 0xffffffffu);
	len = craft(&f->plain, p, CELLMSG_BATCH, 0, body, sizeof(body));
	assert_int_equal(
		cellmsg_decode(&f->plain, p, len, &f->out, f->got, 0xffffffffu),
		CELLMSG_RX_OVERSIZE);
	wr32(body + 12, CELLMSG_BATCH_MAX + 1);
	wr32(body + 16, (CELLMSG_BATCH_MAX + 1) * CELLMSG_REC_LEN);
	len = craft(&f->enc, p, CELLMSG_BATCH, CELLMSG_FLAG_COMPRESSED, body,
		    sizeof(body));
	assert_int_equal(
		cellmsg_decode(&f->enc, p, len, &f->out, f->got, 0xffffffffu),
		CELLMSG_RX_OVERSIZE);
	wr32(body + 12, 1);
	wr32(body + 16, 0xffffffffu);
	len = craft(&f->plain, p, CELLMSG_BATCH, CELLMSG_FLAG_COMPRESSED, body,
		    sizeof(body));
	assert_int_equal(
		cellmsg_decode(&f->plain, p, len, &f->out, f->got, 0xffffffffu),
		CELLMSG_RX_MALFORMED);
	/* The largest legal batch: what a decode may allocate at most. */
	for (n = 0; n < CELLMSG_BATCH_MAX; n++)
		rec_realistic(&f->recs[n], 1);
	n = encode_type(f, &f->plain, CELLMSG_BATCH, CELLMSG_BATCH_MAX, p);
	assert_true(p[4] & CELLMSG_FLAG_COMPRESSED);
	malloc_max = 0;
	assert_int_equal(cellmsg_decode(&f->plain, p, (size_t)n, &f->out,
					f->got, CELLMSG_BATCH_MAX),
			 CELLMSG_RX_OK);
#ifndef HAVE_ASAN
	assert_true(malloc_max > 0);
	assert_true(malloc_max <= CELLMSG_BODY_MAX);
#endif
}

/* Frames concatenated on a stream, delivered in chunks of any size. */
static void test_stream(void **state)
{
	struct fx *f = *state;
	const struct gossip_auth *a = &f->enc;
	static uint8_t wire[4 * CELLMSG_FRAME_MAX], acc[4 * CELLMSG_FRAME_MAX];
	static struct cellmsg sent[32];
	size_t wlen = 0, have = 0, fl, off, chunk;
	struct cellmsg_stream_seq seq = {0};
	enum cellmsg_rx_reason r;
	unsigned nsent = 0, ngot = 0, i, needs = 0;
	int n;

	for (i = 0; i < 300; i++)
		rec_realistic(&f->recs[i], 77);
	for (i = 0; i < 12; i++) {
		uint8_t type = all_types[i % sizeof(all_types)];

		msg_make(&sent[nsent], type, f->recs + 10 * i,
			 type == CELLMSG_BATCH ? 10 * i : 0);
		sent[nsent].seq = 100 + i;
		n = cellmsg_encode(a, &sent[nsent], wire + wlen,
				   sizeof(wire) - wlen);
		assert_true(n > 0);
		wlen += (size_t)n;
		nsent++;
	}
	for (off = 0; off < wlen; off += chunk) {
		chunk = 1 + rnd() % 200;
		if (chunk > wlen - off)
			chunk = wlen - off;
		memcpy(acc + have, wire + off, chunk);
		have += chunk;
		for (;;) {
			r = cellmsg_frame_len(a, acc, have, &fl);
			if (r == CELLMSG_RX_NEED_MORE) {
				assert_true(fl > have);
				needs++;
				break;
			}
			assert_int_equal(r, CELLMSG_RX_OK);
			assert_true(fl <= have);
			assert_int_equal(cellmsg_decode(a, acc, fl, &f->out,
							f->got,
							CELLMSG_BATCH_MAX),
					 CELLMSG_RX_OK);
			assert_true(cellmsg_equal(&sent[ngot], &f->out));
			assert_int_equal(cellmsg_stream_accept(&seq, &f->out),
					 CELLMSG_RX_OK);
			ngot++;
			memmove(acc, acc + fl, have - fl);
			have -= fl;
		}
	}
	assert_int_equal(ngot, nsent);
	assert_int_equal(have, 0);
	assert_true(needs > 0);

	/* Garbage shows at its first byte; a good prefix waits. */
	assert_int_equal(cellmsg_frame_len(a, NULL, 0, &fl),
			 CELLMSG_RX_NEED_MORE);
	assert_int_equal(fl, CELLMSG_HDR_LEN);
	assert_int_equal(cellmsg_frame_len(a, wire, 1, &fl),
			 CELLMSG_RX_NEED_MORE);
	assert_int_equal(cellmsg_frame_len(a, wire, CELLMSG_HDR_LEN - 1, &fl),
			 CELLMSG_RX_NEED_MORE);
	assert_int_equal(cellmsg_frame_len(a, (const uint8_t *)"G", 1, &fl),
			 CELLMSG_RX_MAGIC);
	assert_int_equal(cellmsg_frame_len(a, (const uint8_t *)"SG", 2, &fl),
			 CELLMSG_RX_MAGIC);
	memcpy(acc, wire, CELLMSG_HDR_LEN);
	acc[2] = 9;
	assert_int_equal(cellmsg_frame_len(a, acc, CELLMSG_HDR_LEN, &fl),
			 CELLMSG_RX_VERSION);
	assert_int_equal(cellmsg_frame_len(&f->plain, wire, wlen, &fl),
			 CELLMSG_RX_MODE);
}

static void test_replay(void **state)
{
	struct cellmsg_replay rp;
	struct cellmsg_stream_seq s = {0};
	struct cellmsg m;
	uint16_t i;

	(void)state;
	memset(&m, 0, sizeof(m));
	cellmsg_replay_init(&rp);
	m.sender = 7;
	m.seq = 1000;
	assert_int_equal(cellmsg_replay_accept(&rp, &m), CELLMSG_RX_OK);
	assert_int_equal(cellmsg_replay_accept(&rp, &m), CELLMSG_RX_REPLAY);
	m.seq = 990; /* late but within the window: once */
	assert_int_equal(cellmsg_replay_accept(&rp, &m), CELLMSG_RX_OK);
	assert_int_equal(cellmsg_replay_accept(&rp, &m), CELLMSG_RX_REPLAY);
	m.seq = 1000 - GOSSIP_REPLAY_WINDOW; /* too old */
	assert_int_equal(cellmsg_replay_accept(&rp, &m), CELLMSG_RX_REPLAY);
	m.seq = 5000;
	assert_int_equal(cellmsg_replay_accept(&rp, &m), CELLMSG_RX_OK);
	m.seq = 1001;
	assert_int_equal(cellmsg_replay_accept(&rp, &m), CELLMSG_RX_REPLAY);
	/* Senders are independent; many of them make the table grow. */
	for (i = 0; i < 300; i++) {
		m.sender = (uint16_t)(100 + i);
		m.seq = 1;
		assert_int_equal(cellmsg_replay_accept(&rp, &m), CELLMSG_RX_OK);
	}
	m.sender = 7;
	m.seq = 5000;
	assert_int_equal(cellmsg_replay_accept(&rp, &m), CELLMSG_RX_REPLAY);
	m.seq = 5001;
	assert_int_equal(cellmsg_replay_accept(&rp, &m), CELLMSG_RX_OK);
	cellmsg_replay_free(&rp);

	m.sender = 9;
	m.seq = 10;
	assert_int_equal(cellmsg_stream_accept(&s, &m), CELLMSG_RX_OK);
	m.seq = 12;
	assert_int_equal(cellmsg_stream_accept(&s, &m), CELLMSG_RX_OK);
	assert_int_equal(cellmsg_stream_accept(&s, &m), CELLMSG_RX_REPLAY);
	m.seq = 11; /* TCP does not reorder: a lower one is a splice */
	assert_int_equal(cellmsg_stream_accept(&s, &m), CELLMSG_RX_REPLAY);
	m.sender = 10;
	m.seq = 13;
	assert_int_equal(cellmsg_stream_accept(&s, &m), CELLMSG_RX_SENDER);
	m.sender = 9;
	assert_int_equal(cellmsg_stream_accept(&s, &m), CELLMSG_RX_OK);
	assert_true(s.last == 13);
}

static uint64_t fnv_ids(const uint16_t *ids, unsigned n)
{
	uint64_t h = 0xcbf29ce484222325ull;
	unsigned i;

	for (i = 0; i < n; i++) {
		h = (h ^ (ids[i] >> 8)) * 0x100000001b3ull;
		h = (h ^ (ids[i] & 0xff)) * 0x100000001b3ull;
	}
	return h;
}

static void test_shards_digest(void **state)
{
	static const uint16_t ids[] = {0, 5, 64, 1000, 4095};
	uint64_t bm[CELLMSG_SHARDS / 64] = {0}, h, h2;
	uint32_t count;
	unsigned i;

	(void)state;
	assert_int_equal(cellmsg_shards_digest(bm, CELLMSG_SHARDS, &count, &h),
			 0);
	assert_int_equal(count, 0);
	assert_true(h == fnv_ids(ids, 0));
	for (i = 0; i < 5; i++)
		bm[ids[i] / 64] |= 1ull << (ids[i] % 64);
	assert_int_equal(cellmsg_shards_digest(bm, CELLMSG_SHARDS, &count, &h),
			 0);
	assert_int_equal(count, 5);
	assert_true(h == fnv_ids(ids, 5));
	/* nshards bounds what is read: shard 4095 is beyond 4000 */
	assert_int_equal(cellmsg_shards_digest(bm, 4000, &count, &h2), 0);
	assert_int_equal(count, 4);
	assert_true(h2 == fnv_ids(ids, 4));
	/* a neighbour instead of one of them: another hash */
	bm[0] ^= 1ull << 5 | 1ull << 6;
	assert_int_equal(cellmsg_shards_digest(bm, CELLMSG_SHARDS, &count, &h2),
			 0);
	assert_int_equal(count, 5);
	assert_true(h2 != h);
	assert_int_equal(cellmsg_shards_digest(bm, 65537, &count, &h), -EINVAL);
}

static void test_names(void **state)
{
	unsigned i, j;

	(void)state;
	for (i = 0; i < CELLMSG_RX_REASONS; i++) {
		assert_string_not_equal(cellmsg_rx_reason_name(i), "unknown");
		for (j = 0; j < i; j++)
			assert_string_not_equal(cellmsg_rx_reason_name(i),
						cellmsg_rx_reason_name(j));
	}
	assert_string_equal(cellmsg_rx_reason_name(CELLMSG_RX_REASONS),
			    "unknown");
	for (i = 0; i < sizeof(all_types); i++)
		assert_string_not_equal(cellmsg_type_name(all_types[i]),
					"unknown");
	assert_string_equal(cellmsg_type_name(0), "unknown");
	assert_string_equal(cellmsg_type_name(CELLMSG_TYPE_MAX + 1), "unknown");
}

/*
 * Figures: LZ4 on a shard's similar records, and what replicating a flow
 * costs on the wire (the whole frame, header and tag included, over the
 * records it carries). Fails only if compression does not shrink.
 */
static void test_figures(void **state)
{
	struct fx *f = *state;
	const struct gossip_auth *modes[2] = {&f->plain, &f->enc};
	const char *names[2] = {"hmac", "aead"};
	size_t raw_frame, fixed;
	unsigned mi, i;
	int n;

	rng = 0x0ddba11cafef00dull;
	for (i = 0; i < 1000; i++)
		rec_realistic(&f->recs[i], 3600000);
	for (mi = 0; mi < 2; mi++) {
		n = encode_type(f, modes[mi], CELLMSG_BATCH, 1000, f->buf);
		assert_true(f->buf[4] & CELLMSG_FLAG_COMPRESSED);
		fixed = CELLMSG_HDR_LEN + CELLMSG_BATCH_FIXED_LEN +
			gossip_auth_overhead(modes[mi]);
		raw_frame = fixed + 1000 * CELLMSG_REC_LEN;
		assert_true((size_t)n < raw_frame);
		/* Decodes back to the same records. */
		assert_int_equal(cellmsg_decode(modes[mi], f->buf, (size_t)n,
						&f->out, f->got,
						CELLMSG_BATCH_MAX),
				 CELLMSG_RX_OK);
		assert_true(cellmsg_equal(&f->in, &f->out));
		if (mi == 0)
			printf("[figure] cellmsg LZ4 on 1000 realistic records: "
			       "%u -> %zu bytes, ratio %.2f\n",
			       1000 * CELLMSG_REC_LEN, (size_t)n - fixed,
			       (double)(1000 * CELLMSG_REC_LEN) /
				       (double)((size_t)n - fixed));
		printf("[figure] replication bytes per flow (%s, batch of "
		       "1000): %.1f uncompressed, %.1f LZ4\n",
		       names[mi], (double)raw_frame / 1000.0,
		       (double)n / 1000.0);
	}
	/* Smaller batches pay the frame more often. */
	for (i = 10; i <= 100; i *= 10) {
		n = encode_type(f, &f->plain, CELLMSG_BATCH, i, f->buf);
		printf("[figure] replication bytes per flow (hmac, batch of "
		       "%u): %.1f LZ4%s\n",
		       i, (double)n / i,
		       f->buf[4] & CELLMSG_FLAG_COMPRESSED ? ""
							   : " (sent raw)");
	}
}

/*
 * The fuzz target's seeds: byte 0 is its op (bit 0 encrypted, bits 1-2:
 * 0 datagram, 1 stream, 2 and 3 header + body the harness seals), the
 * rest a frame, frames, or a header + plaintext body.
 */
static int seed_put(const char *dir, unsigned *k, uint8_t op, const uint8_t *p,
		    size_t len)
{
	char path[4096];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/seed%02u", dir, (*k)++);
	fp = fopen(path, "wb");
	if (!fp)
		return 1;
	fputc(op, fp);
	fwrite(p, 1, len, fp);
	return fclose(fp) ? 1 : 0;
}

static int seeds_write(const char *dir)
{
	struct gossip_auth a[2];
	static struct cell_flow_rec recs[64];
	static uint8_t buf[CELLMSG_FRAME_MAX], stream[2][8192];
	size_t slen[2] = {0, 0};
	unsigned mode, ti, k = 0, i;
	struct cellmsg m;
	int n, rc = 0;

	if (auth_pair(&a[0], &a[1], FUZZ_KEY_BYTE, 0))
		return 1;
	for (i = 0; i < 64; i++)
		rec_realistic(&recs[i], 99999);
	for (ti = 0; ti < sizeof(all_types); ti++) {
		msg_make(&m, all_types[ti], recs, 3 + ti * 8);
		for (mode = 0; mode < 2; mode++) {
			n = cellmsg_encode(&a[mode], &m, buf, sizeof(buf));
			if (n <= 0)
				return 1;
			rc |= seed_put(dir, &k, (uint8_t)mode, buf, (size_t)n);
			if (slen[mode] + (size_t)n <= sizeof(stream[mode])) {
				memcpy(stream[mode] + slen[mode], buf,
				       (size_t)n);
				slen[mode] += (size_t)n;
			}
		}
		/* Header + plaintext body: a plain frame without its tag. */
		n = cellmsg_encode(&a[0], &m, buf, sizeof(buf));
		if (n <= 0)
			return 1;
		for (mode = 0; mode < 2; mode++)
			rc |= seed_put(dir, &k, (uint8_t)(mode | 2 << 1), buf,
				       (size_t)n - GOSSIP_MAC_LEN);
		rc |= seed_put(dir, &k, 3 << 1, buf,
			       (size_t)n - GOSSIP_MAC_LEN);
	}
	/* Chained batches (version 2), links 1 and 2 of one chain. */
	{
		uint8_t prev[CELLMSG_LINK_LEN];

		msg_make(&m, CELLMSG_BATCH, recs, 5);
		m.seq = 0x1122334455667788ull + 0x100; /* after the others */
		cellmsg_chain_genesis(SELF, 1, m.incarnation, m.batch.shard,
				      m.seq, prev);
		for (i = 1; i <= 2; i++, m.seq++) {
			m.batch.chain_seq = i;
			m.batch.count = i == 1 ? 5 : 1;
			cellmsg_chain_link(prev, &m.batch, m.batch.link);
			memcpy(prev, m.batch.link, CELLMSG_LINK_LEN);
			for (mode = 0; mode < 2; mode++) {
				n = cellmsg_encode(&a[mode], &m, buf,
						   sizeof(buf));
				if (n <= 0)
					return 1;
				rc |= seed_put(dir, &k, (uint8_t)mode, buf,
					       (size_t)n);
				if (slen[mode] + (size_t)n <=
				    sizeof(stream[mode])) {
					memcpy(stream[mode] + slen[mode], buf,
					       (size_t)n);
					slen[mode] += (size_t)n;
				}
			}
			n = cellmsg_encode(&a[0], &m, buf, sizeof(buf));
			if (n <= 0)
				return 1;
			rc |= seed_put(dir, &k, 2 << 1, buf,
				       (size_t)n - GOSSIP_MAC_LEN);
			rc |= seed_put(dir, &k, 3 << 1, buf,
				       (size_t)n - GOSSIP_MAC_LEN);
		}
	}
	for (mode = 0; mode < 2; mode++)
		rc |= seed_put(dir, &k, (uint8_t)(mode | 1 << 1), stream[mode],
			       slen[mode]);
	if (!rc)
		printf("cellmsg: %u seeds in %s\n", k, dir);
	return rc;
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_roundtrip, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_equal_discriminates, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_layout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_chain_roundtrip, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_chain_refused, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_chain_link, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_mirror_bounds, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_answer_bounds, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_touch_bounds, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_reasons, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bitflip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_encode_errors, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_absurd_lengths, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_stream, setup, teardown),
		cmocka_unit_test(test_replay),
		cmocka_unit_test(test_shards_digest),
		cmocka_unit_test(test_names),
		cmocka_unit_test_setup_teardown(test_figures, setup, teardown),
	};

	if (argc == 3 && !strcmp(argv[1], "--seeds"))
		return seeds_write(argv[2]);
	return cmocka_run_group_tests(tests, NULL, NULL);
}

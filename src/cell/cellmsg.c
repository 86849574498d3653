// SPDX-License-Identifier: GPL-2.0-only
/*
 * Cell mode's wire format (see cellmsg.h). Sealing and the replay window
 * are gossip_auth's; this module adds the frame, the bodies, LZ4 for
 * batches and the stream's frame boundaries.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <lz4.h>
#include <sodium.h>

#include "cell/cellmsg.h"
#include "steer_kern_user.h"
#include "util/wire.h"

_Static_assert(CELLMSG_SHARDS == STEER_SHARDS, "one shard count");
_Static_assert(CELLMSG_FRAME_MAX < (1u << 31), "frame length fits an int");
_Static_assert(CELLMSG_BATCH_MAX *CELLMSG_REC_LEN <= LZ4_MAX_INPUT_SIZE,
	       "a batch is one LZ4 block");
_Static_assert(sizeof(struct flow_key) == CELLMSG_KEY_LEN, "key block");

/* A bounded cursor over a buffer; a read or write past the end sets err. */
static const char *const rx_names[CELLMSG_RX_REASONS] = {
	[CELLMSG_RX_OK] = "ok",
	[CELLMSG_RX_NEED_MORE] = "need_more",
	[CELLMSG_RX_SHORT] = "short",
	[CELLMSG_RX_OVERSIZE] = "oversize",
	[CELLMSG_RX_MAGIC] = "bad_magic",
	[CELLMSG_RX_VERSION] = "bad_version",
	[CELLMSG_RX_TYPE] = "bad_type",
	[CELLMSG_RX_MODE] = "bad_mode",
	[CELLMSG_RX_FLAGS] = "bad_flags",
	[CELLMSG_RX_LENGTH] = "bad_length",
	[CELLMSG_RX_AUTH] = "bad_auth",
	[CELLMSG_RX_MALFORMED] = "malformed",
	[CELLMSG_RX_DECOMPRESS] = "bad_compression",
	[CELLMSG_RX_NOSPACE] = "no_space",
	[CELLMSG_RX_NOMEM] = "nomem",
	[CELLMSG_RX_REPLAY] = "replay",
	[CELLMSG_RX_SENDER] = "wrong_sender",
};

const char *cellmsg_rx_reason_name(enum cellmsg_rx_reason r)
{
	if ((unsigned)r >= CELLMSG_RX_REASONS)
		return "unknown";
	return rx_names[r];
}

static const char *const type_names[CELLMSG_TYPE_MAX + 1] = {
	[CELLMSG_RULE] = "rule",
	[CELLMSG_RULE_DEL] = "rule_del",
	[CELLMSG_HEARTBEAT] = "heartbeat",
	[CELLMSG_BATCH] = "batch",
	[CELLMSG_ACK] = "ack",
	[CELLMSG_RESYNC] = "resync",
	[CELLMSG_SNAP_BEGIN] = "snapshot_begin",
	[CELLMSG_SNAP_END] = "snapshot_end",
	[CELLMSG_MIRROR] = "mirror",
	[CELLMSG_TOUCH] = "touch",
	[CELLMSG_QUERY] = "query",
	[CELLMSG_ANSWER] = "answer",
};

const char *cellmsg_type_name(uint8_t type)
{
	if (type > CELLMSG_TYPE_MAX || !type_names[type])
		return "unknown";
	return type_names[type];
}

void cellmsg_counters_add(struct cellmsg_counters *c, enum cellmsg_rx_reason r)
{
	if (r == CELLMSG_RX_NEED_MORE || (unsigned)r >= CELLMSG_RX_REASONS)
		return;
	c->rx[r]++;
}

/* Body length of a type (BATCH: its fixed part, by the version: with
 * its chain or without), or -1 for an unknown one. */
static int body_fixed_len(uint8_t type, uint8_t version)
{
	switch (type) {
	case CELLMSG_RULE:
		return CELLMSG_RULE_LEN;
	case CELLMSG_RULE_DEL:
		return CELLMSG_RULE_DEL_LEN;
	case CELLMSG_HEARTBEAT:
		return CELLMSG_HEARTBEAT_LEN;
	case CELLMSG_BATCH:
		return version == CELLMSG_VERSION_CHAIN
			       ? CELLMSG_BATCH_CHAIN_LEN
			       : CELLMSG_BATCH_FIXED_LEN;
	case CELLMSG_ACK:
		return CELLMSG_ACK_LEN;
	case CELLMSG_RESYNC:
		return CELLMSG_RESYNC_LEN;
	case CELLMSG_SNAP_BEGIN:
		return CELLMSG_SNAP_BEGIN_LEN;
	case CELLMSG_SNAP_END:
		return CELLMSG_SNAP_END_LEN;
	case CELLMSG_MIRROR:
		return CELLMSG_MIRROR_FIXED_LEN;
	case CELLMSG_TOUCH:
		return CELLMSG_TOUCH_FIXED_LEN;
	case CELLMSG_QUERY:
		return CELLMSG_QUERY_LEN;
	case CELLMSG_ANSWER:
		return CELLMSG_ANSWER_FIXED_LEN;
	default:
		return -1;
	}
}

/* steer_rule's invariant: rf counts the primary; rf - 1 mirrors are set. */
static bool profile_valid(uint16_t primary, const uint16_t *mirror, uint8_t rf)
{
	unsigned i;

	if (primary == STEER_NODE_NONE || rf < 1 || rf > 1 + STEER_MAX_MIRRORS)
		return false;
	for (i = 0; i < STEER_MAX_MIRRORS; i++)
		if ((mirror[i] == STEER_NODE_NONE) != (i + 1 >= rf))
			return false;
	return true;
}

static bool key_valid(const struct flow_key *k)
{
	return !k->pad[0] && !k->pad[1] && !k->pad[2];
}

static bool key_equal(const struct flow_key *x, const struct flow_key *y)
{
	return !memcmp(x->src.b, y->src.b, 16) &&
	       !memcmp(x->dst.b, y->dst.b, 16) && x->sport == y->sport &&
	       x->dport == y->dport && x->proto == y->proto;
}

static bool rec_valid(const struct cell_flow_rec *r)
{
	return key_valid(&r->key) &&
	       profile_valid(r->primary, r->mirror, r->rf);
}

static bool resync_reason_valid(uint8_t r)
{
	return r >= CELLMSG_RESYNC_GAP && r <= CELLMSG_RESYNC_MISMATCH;
}

static bool msg_valid(const struct cellmsg *m)
{
	const struct cellmsg_rule *r = &m->rule;
	uint32_t i;

	if (m->sender == STEER_NODE_NONE)
		return false;
	switch (m->type) {
	case CELLMSG_RULE:
		return key_valid(&r->key) && r->action != STEER_ACT_NONE &&
		       r->action < STEER_ACT__MAX &&
		       profile_valid(r->primary, r->mirror, r->rf);
	case CELLMSG_RULE_DEL:
		return key_valid(&m->del.key);
	case CELLMSG_BATCH:
		if (m->batch.count > CELLMSG_BATCH_MAX ||
		    (m->batch.count && !m->batch.recs))
			return false;
		for (i = 0; i < m->batch.count; i++)
			if (!rec_valid(&m->batch.recs[i]))
				return false;
		return m->batch.shard < CELLMSG_SHARDS;
	case CELLMSG_RESYNC:
		return m->sh.shard < CELLMSG_SHARDS &&
		       resync_reason_valid(m->sh.reason);
	case CELLMSG_ACK:
	case CELLMSG_SNAP_BEGIN:
	case CELLMSG_SNAP_END:
		return m->sh.shard < CELLMSG_SHARDS;
	case CELLMSG_HEARTBEAT:
		return true;
	case CELLMSG_TOUCH:
		if (m->touch.count < 1 || m->touch.count > CELLMSG_TOUCH_MAX)
			return false;
		for (i = 0; i < m->touch.count; i++)
			if (!key_valid(&m->touch.keys[i]))
				return false;
		return true;
	case CELLMSG_QUERY:
		return key_valid(&m->query);
	case CELLMSG_ANSWER:
		if (m->ans.found > 1 || !key_valid(&m->ans.key))
			return false;
		return !m->ans.found ||
		       (rec_valid(&m->ans.rec) &&
			key_equal(&m->ans.rec.key, &m->ans.key));
	case CELLMSG_MIRROR:
		return rec_valid(&m->mir.rec) && m->mir.cap_len >= 1 &&
		       m->mir.cap_len <= CELLMSG_MIRROR_CAP &&
		       m->mir.cap_len <= m->mir.orig_len;
	default:
		return false;
	}
}

static void put_key(struct wire *c, const struct flow_key *k)
{
	wire_putn(c, k->src.b, 16);
	wire_putn(c, k->dst.b, 16);
	wire_putn(c, &k->sport, 2);
	wire_putn(c, &k->dport, 2);
	wire_put8(c, k->proto);
	wire_put8(c, 0);
	wire_put16(c, 0);
}

static void get_key(struct wire *c, struct flow_key *k)
{
	wire_getn(c, k->src.b, 16);
	wire_getn(c, k->dst.b, 16);
	wire_getn(c, &k->sport, 2);
	wire_getn(c, &k->dport, 2);
	k->proto = wire_get8(c);
	wire_get_zero(c, 3);
}

static void put_rec(struct wire *c, const struct cell_flow_rec *r)
{
	wire_put32(c, r->epoch);
	wire_put16(c, r->service);
	wire_put16(c, r->primary);
	wire_put16(c, r->mirror[0]);
	wire_put16(c, r->mirror[1]);
	wire_put8(c, r->key.proto);
	wire_put8(c, r->rf);
	wire_put16(c, 0);
	wire_putn(c, r->key.dst.b, 16);
	wire_putn(c, &r->key.dport, 2);
	wire_put16(c, r->backend);
	wire_putn(c, r->key.src.b, 16);
	wire_putn(c, &r->key.sport, 2);
	wire_put8(c, r->state);
	wire_put8(c, r->tcp_flags);
	wire_put64(c, r->version);
	wire_put32(c, r->created_ms);
	wire_put32(c, r->last_ms);
	wire_put32(c, r->packets);
	wire_put32(c, r->bytes);
}

static void get_rec(struct wire *c, struct cell_flow_rec *r)
{
	memset(r, 0, sizeof(*r));
	r->epoch = wire_get32(c);
	r->service = wire_get16(c);
	r->primary = wire_get16(c);
	r->mirror[0] = wire_get16(c);
	r->mirror[1] = wire_get16(c);
	r->key.proto = wire_get8(c);
	r->rf = wire_get8(c);
	wire_get_zero(c, 2);
	wire_getn(c, r->key.dst.b, 16);
	wire_getn(c, &r->key.dport, 2);
	r->backend = wire_get16(c);
	wire_getn(c, r->key.src.b, 16);
	wire_getn(c, &r->key.sport, 2);
	r->state = wire_get8(c);
	r->tcp_flags = wire_get8(c);
	r->version = wire_get64(c);
	r->created_ms = wire_get32(c);
	r->last_ms = wire_get32(c);
	r->packets = wire_get32(c);
	r->bytes = wire_get32(c);
	if (!rec_valid(r))
		c->err = true;
}

static void put_body(struct wire *c, const struct cellmsg *m)
{
	const struct cellmsg_rule *r = &m->rule;
	const struct cellmsg_heartbeat *h = &m->hb;
	uint32_t i;

	switch (m->type) {
	case CELLMSG_RULE:
		put_key(c, &r->key);
		wire_put64(c, r->version);
		wire_put32(c, r->epoch);
		wire_put16(c, r->backend);
		wire_put16(c, r->primary);
		wire_put16(c, r->mirror[0]);
		wire_put16(c, r->mirror[1]);
		wire_put8(c, r->action);
		wire_put8(c, r->rf);
		wire_put16(c, 0);
		break;
	case CELLMSG_RULE_DEL:
		put_key(c, &m->del.key);
		wire_put64(c, m->del.version);
		break;
	case CELLMSG_HEARTBEAT:
		wire_put64(c, h->now_ms);
		wire_put64(c, h->tx_seq);
		wire_put64(c, h->rx_seq);
		wire_put64(c, h->shards_hash);
		wire_put32(c, h->shards_count);
		wire_put32(c, 0);
		break;
	case CELLMSG_BATCH:
		wire_put16(c, m->batch.shard);
		wire_put16(c, 0);
		wire_put64(c, m->batch.first_seq);
		wire_put32(c, m->batch.count);
		wire_put32(c, m->batch.count * CELLMSG_REC_LEN);
		if (m->batch.chain_seq) {
			wire_put64(c, m->batch.chain_seq);
			wire_putn(c, m->batch.link, CELLMSG_LINK_LEN);
		}
		break;
	case CELLMSG_ACK:
	case CELLMSG_SNAP_BEGIN:
	case CELLMSG_SNAP_END:
		wire_put16(c, m->sh.shard);
		wire_put16(c, 0);
		wire_put64(c, m->sh.seq);
		if (m->type == CELLMSG_SNAP_END)
			wire_put32(c, m->sh.count);
		break;
	case CELLMSG_RESYNC:
		wire_put16(c, m->sh.shard);
		wire_put8(c, m->sh.reason);
		wire_put8(c, 0);
		wire_put64(c, m->sh.seq);
		break;
	case CELLMSG_TOUCH:
		wire_put16(c, m->touch.count);
		wire_put16(c, 0);
		for (i = 0; i < m->touch.count; i++)
			put_key(c, &m->touch.keys[i]);
		break;
	case CELLMSG_QUERY:
		put_key(c, &m->query);
		break;
	case CELLMSG_ANSWER:
		put_key(c, &m->ans.key);
		wire_put8(c, m->ans.found);
		wire_put8(c, 0);
		wire_put16(c, 0);
		if (m->ans.found)
			put_rec(c, &m->ans.rec);
		break;
	case CELLMSG_MIRROR:
		put_rec(c, &m->mir.rec);
		wire_put16(c, m->mir.orig_len);
		wire_put16(c, m->mir.cap_len);
		wire_putn(c, m->mir.pkt, m->mir.cap_len);
		break;
	}
}

/* Everything but a BATCH's records; sets c->err when malformed. */
static void get_body(struct wire *c, struct cellmsg *m, uint32_t *raw_len,
		     uint8_t version)
{
	struct cellmsg_rule *r = &m->rule;
	struct cellmsg_heartbeat *h = &m->hb;
	uint32_t i;

	switch (m->type) {
	case CELLMSG_RULE:
		get_key(c, &r->key);
		r->version = wire_get64(c);
		r->epoch = wire_get32(c);
		r->backend = wire_get16(c);
		r->primary = wire_get16(c);
		r->mirror[0] = wire_get16(c);
		r->mirror[1] = wire_get16(c);
		r->action = wire_get8(c);
		r->rf = wire_get8(c);
		wire_get_zero(c, 2);
		break;
	case CELLMSG_RULE_DEL:
		get_key(c, &m->del.key);
		m->del.version = wire_get64(c);
		break;
	case CELLMSG_HEARTBEAT:
		h->now_ms = wire_get64(c);
		h->tx_seq = wire_get64(c);
		h->rx_seq = wire_get64(c);
		h->shards_hash = wire_get64(c);
		h->shards_count = wire_get32(c);
		wire_get_zero(c, 4);
		break;
	case CELLMSG_BATCH:
		m->batch.shard = wire_get16(c);
		wire_get_zero(c, 2);
		m->batch.first_seq = wire_get64(c);
		m->batch.count = wire_get32(c);
		*raw_len = wire_get32(c);
		if (version != CELLMSG_VERSION_CHAIN)
			break;
		/* A chain counts from 1: 0 is version 1's "none". */
		m->batch.chain_seq = wire_get64(c);
		wire_getn(c, m->batch.link, CELLMSG_LINK_LEN);
		if (!m->batch.chain_seq)
			c->err = true;
		break;
	case CELLMSG_ACK:
	case CELLMSG_SNAP_BEGIN:
	case CELLMSG_SNAP_END:
		m->sh.shard = wire_get16(c);
		wire_get_zero(c, 2);
		m->sh.seq = wire_get64(c);
		if (m->type == CELLMSG_SNAP_END)
			m->sh.count = wire_get32(c);
		break;
	case CELLMSG_RESYNC:
		m->sh.shard = wire_get16(c);
		m->sh.reason = wire_get8(c);
		wire_get_zero(c, 1);
		m->sh.seq = wire_get64(c);
		break;
	case CELLMSG_TOUCH:
		m->touch.count = wire_get16(c);
		wire_get_zero(c, 2);
		/* The header bounded the body: count fits the array. */
		if (m->touch.count < 1 || m->touch.count > CELLMSG_TOUCH_MAX ||
		    (size_t)m->touch.count * CELLMSG_KEY_LEN !=
			    c->len - CELLMSG_TOUCH_FIXED_LEN) {
			c->err = true;
			break;
		}
		for (i = 0; i < m->touch.count; i++)
			get_key(c, &m->touch.keys[i]);
		break;
	case CELLMSG_QUERY:
		get_key(c, &m->query);
		break;
	case CELLMSG_ANSWER:
		get_key(c, &m->ans.key);
		m->ans.found = wire_get8(c);
		wire_get_zero(c, 3);
		/* The header bounded the body to one of the two lengths. */
		if (m->ans.found != (c->len > CELLMSG_ANSWER_FIXED_LEN)) {
			c->err = true;
			break;
		}
		if (m->ans.found)
			get_rec(c, &m->ans.rec);
		break;
	case CELLMSG_MIRROR:
		get_rec(c, &m->mir.rec);
		m->mir.orig_len = wire_get16(c);
		m->mir.cap_len = wire_get16(c);
		/* The header bounded the body: cap_len fits the array. */
		if (m->mir.cap_len != c->len - CELLMSG_MIRROR_FIXED_LEN)
			c->err = true;
		else
			wire_getn(c, m->mir.pkt, m->mir.cap_len);
		break;
	}
}

/*
 * A batch's records after its fixed part, at buf + off with room bytes
 * free: LZ4 when the block comes out shorter, raw otherwise. Returns the
 * bytes written, -EMSGSIZE or -ENOMEM; *compressed says which.
 */
static int put_records(const struct cellmsg_batch *b, uint8_t *dst, size_t room,
		       bool *compressed)
{
	size_t raw_len = (size_t)b->count * CELLMSG_REC_LEN;
	struct wire c;
	uint8_t *raw;
	int n = 0;
	uint32_t i;

	*compressed = false;
	if (!raw_len)
		return 0;
	raw = malloc(raw_len);
	if (!raw)
		return -ENOMEM;
	c = (struct wire){.p = raw, .len = raw_len};
	for (i = 0; i < b->count; i++)
		put_rec(&c, &b->recs[i]);
	/* Worth it only when strictly shorter: a block that does not fit in
	 * raw_len - 1 bytes is refused by LZ4 (returns 0). */
	if (raw_len > 1)
		n = LZ4_compress_default(
			(const char *)raw, (char *)dst, (int)raw_len,
			(int)(room < raw_len - 1 ? room : raw_len - 1));
	if (n > 0) {
		*compressed = true;
	} else if (raw_len <= room) {
		memcpy(dst, raw, raw_len);
		n = (int)raw_len;
	} else {
		n = -EMSGSIZE;
	}
	free(raw);
	return n;
}

int cellmsg_encode(const struct gossip_auth *a, const struct cellmsg *m,
		   uint8_t *buf, size_t cap)
{
	bool chained = m->type == CELLMSG_BATCH && m->batch.chain_seq;
	uint8_t version = chained ? CELLMSG_VERSION_CHAIN : CELLMSG_VERSION;
	size_t overhead = gossip_auth_overhead(a), body_len;
	int fixed = body_fixed_len(m->type, version), n;
	bool compressed = false;
	struct wire c;

	if (fixed < 0 || !msg_valid(m))
		return -EINVAL;
	if (cap < CELLMSG_HDR_LEN + (size_t)fixed + overhead)
		return -EMSGSIZE;
	/* The body never runs into the room sealing needs. */
	c = (struct wire){.p = buf, .len = cap - overhead};
	c.off = CELLMSG_HDR_LEN;
	put_body(&c, m);
	if (c.err)
		return -EMSGSIZE;
	body_len = (size_t)fixed;
	if (m->type == CELLMSG_MIRROR)
		body_len += m->mir.cap_len;
	if (m->type == CELLMSG_TOUCH)
		body_len += (size_t)m->touch.count * CELLMSG_KEY_LEN;
	if (m->type == CELLMSG_ANSWER && m->ans.found)
		body_len += CELLMSG_REC_LEN;
	if (m->type == CELLMSG_BATCH) {
		n = put_records(&m->batch, buf + c.off, c.len - c.off,
				&compressed);
		if (n < 0)
			return n;
		body_len += (size_t)n;
	}
	c = (struct wire){.p = buf, .len = CELLMSG_HDR_LEN};
	wire_put16(&c, CELLMSG_MAGIC);
	wire_put8(&c, version);
	wire_put8(&c, m->type);
	wire_put8(&c, (uint8_t)((a->encrypt ? CELLMSG_FLAG_ENCRYPTED : 0) |
				(compressed ? CELLMSG_FLAG_COMPRESSED : 0)));
	wire_put8(&c, 0);
	wire_put16(&c, m->sender);
	wire_put32(&c, m->incarnation);
	wire_put64(&c, m->seq);
	wire_put32(&c, (uint32_t)body_len);
	if (c.err)
		return -EMSGSIZE;
	return (int)gossip_auth_seal(a, buf, CELLMSG_HDR_LEN, body_len);
}

/*
 * Header checks that need no key, in the order a reason is counted;
 * hdr holds CELLMSG_HDR_LEN bytes. Sets *frame_len on success.
 */
static enum cellmsg_rx_reason check_header(const struct gossip_auth *a,
					   const uint8_t *hdr,
					   struct cellmsg *m, size_t *body_len,
					   size_t *frame_len, uint8_t *version)
{
	struct wire c = {.p = (uint8_t *)hdr, .len = CELLMSG_HDR_LEN};
	uint8_t flags;
	int fixed;

	if (wire_get16(&c) != CELLMSG_MAGIC)
		return CELLMSG_RX_MAGIC;
	*version = wire_get8(&c);
	if (*version != CELLMSG_VERSION && *version != CELLMSG_VERSION_CHAIN)
		return CELLMSG_RX_VERSION;
	m->type = wire_get8(&c);
	fixed = body_fixed_len(m->type, *version);
	if (fixed < 0)
		return CELLMSG_RX_TYPE;
	/* Version 2 is a chained BATCH's alone. */
	if (*version == CELLMSG_VERSION_CHAIN && m->type != CELLMSG_BATCH)
		return CELLMSG_RX_VERSION;
	m->flags = flags = wire_get8(&c);
	if (flags & ~(CELLMSG_FLAG_ENCRYPTED | CELLMSG_FLAG_COMPRESSED))
		return CELLMSG_RX_FLAGS;
	if (!(flags & CELLMSG_FLAG_ENCRYPTED) != !a->encrypt)
		return CELLMSG_RX_MODE;
	if ((flags & CELLMSG_FLAG_COMPRESSED) && m->type != CELLMSG_BATCH)
		return CELLMSG_RX_FLAGS;
	if (wire_get8(&c))
		return CELLMSG_RX_MALFORMED;
	m->sender = wire_get16(&c);
	m->incarnation = wire_get32(&c);
	m->seq = wire_get64(&c);
	*body_len = wire_get32(&c);
	if (m->sender == STEER_NODE_NONE)
		return CELLMSG_RX_MALFORMED;
	if (m->type == CELLMSG_BATCH) {
		if (*body_len > CELLMSG_BODY_MAX)
			return CELLMSG_RX_OVERSIZE;
		/* A compressed block is at least one byte. */
		if (*body_len <
		    (size_t)fixed + !!(flags & CELLMSG_FLAG_COMPRESSED))
			return CELLMSG_RX_LENGTH;
	} else if (m->type == CELLMSG_TOUCH) {
		if (*body_len < (size_t)fixed + CELLMSG_KEY_LEN ||
		    *body_len > (size_t)fixed +
					CELLMSG_TOUCH_MAX * CELLMSG_KEY_LEN ||
		    (*body_len - (size_t)fixed) % CELLMSG_KEY_LEN)
			return CELLMSG_RX_LENGTH;
	} else if (m->type == CELLMSG_ANSWER) {
		if (*body_len != (size_t)fixed &&
		    *body_len != (size_t)fixed + CELLMSG_REC_LEN)
			return CELLMSG_RX_LENGTH;
	} else if (m->type == CELLMSG_MIRROR) {
		if (*body_len <= (size_t)fixed ||
		    *body_len > (size_t)fixed + CELLMSG_MIRROR_CAP)
			return CELLMSG_RX_LENGTH;
	} else if (*body_len != (size_t)fixed) {
		return CELLMSG_RX_LENGTH;
	}
	*frame_len = CELLMSG_HDR_LEN + *body_len + gossip_auth_overhead(a);
	return CELLMSG_RX_OK;
}

enum cellmsg_rx_reason cellmsg_frame_len(const struct gossip_auth *a,
					 const uint8_t *buf, size_t len,
					 size_t *frame_len)
{
	static const uint8_t magic[2] = {CELLMSG_MAGIC >> 8,
					 CELLMSG_MAGIC & 0xff};
	enum cellmsg_rx_reason r;
	struct cellmsg m;
	size_t body_len;
	uint8_t version;

	*frame_len = CELLMSG_HDR_LEN;
	if (len < CELLMSG_HDR_LEN) {
		/* Refuse garbage as soon as it shows. */
		if (len && memcmp(buf, magic, len < 2 ? len : 2))
			return CELLMSG_RX_MAGIC;
		return CELLMSG_RX_NEED_MORE;
	}
	r = check_header(a, buf, &m, &body_len, frame_len, &version);
	if (r != CELLMSG_RX_OK)
		return r;
	return len < *frame_len ? CELLMSG_RX_NEED_MORE : CELLMSG_RX_OK;
}

/*
 * A batch's records from its authentic body (fixed part already read by
 * c): checks count and raw_len against the bounds and the caller's room
 * before the one allocation they size.
 */
static enum cellmsg_rx_reason get_records(struct wire *c, struct cellmsg *m,
					  uint32_t raw_len,
					  struct cell_flow_rec *recs,
					  uint32_t rec_cap)
{
	struct cellmsg_batch *b = &m->batch;
	size_t payload = c->len - c->off;
	enum cellmsg_rx_reason r = CELLMSG_RX_OK;
	uint8_t *raw = NULL;
	struct wire rc;
	uint32_t i;

	b->recs = recs;
	if (b->count > CELLMSG_BATCH_MAX)
		return CELLMSG_RX_OVERSIZE;
	if (raw_len != b->count * CELLMSG_REC_LEN || b->shard >= CELLMSG_SHARDS)
		return CELLMSG_RX_MALFORMED;
	if (b->count > rec_cap)
		return CELLMSG_RX_NOSPACE;
	if (!(m->flags & CELLMSG_FLAG_COMPRESSED)) {
		if (payload != raw_len)
			return CELLMSG_RX_MALFORMED;
		rc = (struct wire){.p = c->p + c->off, .len = payload};
	} else {
		/* Sent compressed only when shorter. */
		if (payload >= raw_len)
			return CELLMSG_RX_MALFORMED;
		raw = malloc(raw_len);
		if (!raw)
			return CELLMSG_RX_NOMEM;
		if (LZ4_decompress_safe((const char *)c->p + c->off,
					(char *)raw, (int)payload,
					(int)raw_len) != (int)raw_len) {
			r = CELLMSG_RX_DECOMPRESS;
			goto out;
		}
		rc = (struct wire){.p = raw, .len = raw_len};
	}
	for (i = 0; i < b->count && !rc.err; i++)
		get_rec(&rc, &recs[i]);
	if (rc.err || rc.off != rc.len)
		r = CELLMSG_RX_MALFORMED;
out:
	free(raw);
	return r;
}

enum cellmsg_rx_reason
cellmsg_decode(const struct gossip_auth *a, const uint8_t *buf, size_t len,
	       struct cellmsg *m, struct cell_flow_rec *recs, uint32_t rec_cap)
{
	uint8_t small[CELLMSG_RULE_LEN], *body = small;
	size_t body_len = 0, frame_len = 0;
	enum cellmsg_rx_reason r;
	uint32_t raw_len = 0;
	uint8_t version = 0;
	struct wire c;

	memset(m, 0, sizeof(*m));
	if (len > CELLMSG_FRAME_MAX)
		return CELLMSG_RX_OVERSIZE;
	if (len < CELLMSG_HDR_LEN)
		return CELLMSG_RX_SHORT;
	r = check_header(a, buf, m, &body_len, &frame_len, &version);
	if (r != CELLMSG_RX_OK)
		return r;
	if (len < frame_len)
		return CELLMSG_RX_SHORT;
	if (len > frame_len)
		return CELLMSG_RX_LENGTH;
	if (body_len > sizeof(small)) {
		body = malloc(body_len);
		if (!body)
			return CELLMSG_RX_NOMEM;
	}
	if (gossip_auth_open(a, buf, len, CELLMSG_HDR_LEN, body_len, body)) {
		r = CELLMSG_RX_AUTH;
		goto out;
	}
	/* From here on the sender holds the cluster key: a malformed body is
	 * a bug or a version skew, still refused whole. */
	c = (struct wire){.p = body, .len = body_len};
	get_body(&c, m, &raw_len, version);
	if (c.err) {
		r = CELLMSG_RX_MALFORMED;
		goto out;
	}
	if (m->type == CELLMSG_BATCH) {
		r = get_records(&c, m, raw_len, recs, rec_cap);
	} else if (c.off != c.len || !msg_valid(m)) {
		r = CELLMSG_RX_MALFORMED;
	}
out:
	if (body != small)
		free(body);
	return r;
}

static bool rec_equal(const struct cell_flow_rec *x,
		      const struct cell_flow_rec *y)
{
	return key_equal(&x->key, &y->key) && x->version == y->version &&
	       x->epoch == y->epoch && x->backend == y->backend &&
	       x->service == y->service && x->primary == y->primary &&
	       x->mirror[0] == y->mirror[0] && x->mirror[1] == y->mirror[1] &&
	       x->rf == y->rf && x->state == y->state &&
	       x->tcp_flags == y->tcp_flags && x->created_ms == y->created_ms &&
	       x->last_ms == y->last_ms && x->packets == y->packets &&
	       x->bytes == y->bytes;
}

bool cellmsg_equal(const struct cellmsg *x, const struct cellmsg *y)
{
	const struct cellmsg_rule *rx = &x->rule, *ry = &y->rule;
	uint32_t i;

	if (x->type != y->type || x->sender != y->sender ||
	    x->incarnation != y->incarnation || x->seq != y->seq)
		return false;
	switch (x->type) {
	case CELLMSG_RULE:
		return key_equal(&rx->key, &ry->key) &&
		       rx->version == ry->version && rx->epoch == ry->epoch &&
		       rx->backend == ry->backend &&
		       rx->primary == ry->primary &&
		       rx->mirror[0] == ry->mirror[0] &&
		       rx->mirror[1] == ry->mirror[1] &&
		       rx->action == ry->action && rx->rf == ry->rf;
	case CELLMSG_RULE_DEL:
		return key_equal(&x->del.key, &y->del.key) &&
		       x->del.version == y->del.version;
	case CELLMSG_HEARTBEAT:
		return x->hb.now_ms == y->hb.now_ms &&
		       x->hb.tx_seq == y->hb.tx_seq &&
		       x->hb.rx_seq == y->hb.rx_seq &&
		       x->hb.shards_hash == y->hb.shards_hash &&
		       x->hb.shards_count == y->hb.shards_count;
	case CELLMSG_BATCH:
		if (x->batch.shard != y->batch.shard ||
		    x->batch.first_seq != y->batch.first_seq ||
		    x->batch.count != y->batch.count ||
		    x->batch.chain_seq != y->batch.chain_seq ||
		    (x->batch.chain_seq &&
		     memcmp(x->batch.link, y->batch.link, CELLMSG_LINK_LEN)))
			return false;
		for (i = 0; i < x->batch.count; i++)
			if (!rec_equal(&x->batch.recs[i], &y->batch.recs[i]))
				return false;
		return true;
	case CELLMSG_ACK:
	case CELLMSG_SNAP_BEGIN:
		return x->sh.shard == y->sh.shard && x->sh.seq == y->sh.seq;
	case CELLMSG_RESYNC:
		return x->sh.shard == y->sh.shard && x->sh.seq == y->sh.seq &&
		       x->sh.reason == y->sh.reason;
	case CELLMSG_SNAP_END:
		return x->sh.shard == y->sh.shard && x->sh.seq == y->sh.seq &&
		       x->sh.count == y->sh.count;
	case CELLMSG_TOUCH:
		if (x->touch.count != y->touch.count)
			return false;
		for (i = 0; i < x->touch.count; i++)
			if (!key_equal(&x->touch.keys[i], &y->touch.keys[i]))
				return false;
		return true;
	case CELLMSG_QUERY:
		return key_equal(&x->query, &y->query);
	case CELLMSG_ANSWER:
		return key_equal(&x->ans.key, &y->ans.key) &&
		       x->ans.found == y->ans.found &&
		       (!x->ans.found || rec_equal(&x->ans.rec, &y->ans.rec));
	case CELLMSG_MIRROR:
		return rec_equal(&x->mir.rec, &y->mir.rec) &&
		       x->mir.orig_len == y->mir.orig_len &&
		       x->mir.cap_len == y->mir.cap_len &&
		       !memcmp(x->mir.pkt, y->mir.pkt, x->mir.cap_len);
	default:
		return true;
	}
}

/* Records hashed per update: 1,280 bytes of stack. */
#define CHAIN_CHUNK 16
#define CHAIN_HEAD_LEN 22 /* shard, first_seq, chain_seq, count */

void cellmsg_chain_link(const uint8_t prev[CELLMSG_LINK_LEN],
			const struct cellmsg_batch *b,
			uint8_t out[CELLMSG_LINK_LEN])
{
	static const uint8_t
		personal[crypto_generichash_blake2b_PERSONALBYTES] =
			"steer-cellchain1";
	uint8_t buf[CHAIN_HEAD_LEN + CHAIN_CHUNK * CELLMSG_REC_LEN];
	crypto_generichash_blake2b_state st;
	struct wire c = {.p = buf, .len = sizeof(buf)};
	uint32_t i = 0, k;

	_Static_assert(CELLMSG_LINK_LEN >= crypto_generichash_blake2b_BYTES_MIN,
		       "a link BLAKE2b can make");
	_Static_assert(CELLMSG_LINK_LEN == crypto_generichash_blake2b_SALTBYTES,
		       "a link is the next one's salt");
	crypto_generichash_blake2b_init_salt_personal(
		&st, NULL, 0, CELLMSG_LINK_LEN, prev, personal);
	wire_put16(&c, b->shard);
	wire_put64(&c, b->first_seq);
	wire_put64(&c, b->chain_seq);
	wire_put32(&c, b->count);
	/* Records as they travel: put_rec's bytes, whatever LZ4 made. */
	do {
		for (k = 0; k < CHAIN_CHUNK && i < b->count; k++, i++)
			put_rec(&c, &b->recs[i]);
		crypto_generichash_blake2b_update(&st, buf, c.off);
		c.off = 0;
	} while (i < b->count);
	crypto_generichash_blake2b_final(&st, out, CELLMSG_LINK_LEN);
}

void cellmsg_chain_genesis(uint16_t sender, uint16_t receiver,
			   uint32_t incarnation, uint16_t shard, uint64_t epoch,
			   uint8_t out[CELLMSG_LINK_LEN])
{
	static const uint8_t
		personal[crypto_generichash_blake2b_PERSONALBYTES] =
			"steer-chaingen-1";
	static const uint8_t salt[crypto_generichash_blake2b_SALTBYTES];
	uint8_t buf[18];
	struct wire c = {.p = buf, .len = sizeof(buf)};

	wire_put16(&c, sender);
	wire_put16(&c, receiver);
	wire_put32(&c, incarnation);
	wire_put16(&c, shard);
	wire_put64(&c, epoch);
	crypto_generichash_blake2b_salt_personal(out, CELLMSG_LINK_LEN, buf,
						 sizeof(buf), NULL, 0, salt,
						 personal);
}

#define FNV64_BASIS 0xcbf29ce484222325ull
#define FNV64_PRIME 0x100000001b3ull

int cellmsg_shards_digest(const uint64_t *bitmap, uint32_t nshards,
			  uint32_t *count, uint64_t *hash)
{
	uint64_t h = FNV64_BASIS;
	uint32_t i, n = 0;

	if (nshards > 65536)
		return -EINVAL;
	for (i = 0; i < nshards; i++) {
		if (!(bitmap[i / 64] >> (i % 64) & 1))
			continue;
		h = (h ^ (i >> 8)) * FNV64_PRIME;
		h = (h ^ (i & 0xff)) * FNV64_PRIME;
		n++;
	}
	*count = n;
	*hash = h;
	return 0;
}

void cellmsg_replay_init(struct cellmsg_replay *r)
{
	gossip_replay_init(&r->win);
}

void cellmsg_replay_free(struct cellmsg_replay *r)
{
	gossip_replay_free(&r->win);
}

enum cellmsg_rx_reason cellmsg_replay_accept(struct cellmsg_replay *r,
					     const struct cellmsg *m)
{
	switch (gossip_replay_accept(&r->win, m->sender, m->seq)) {
	case 0:
		return CELLMSG_RX_OK;
	case -EALREADY:
		return CELLMSG_RX_REPLAY;
	default:
		return CELLMSG_RX_NOMEM;
	}
}

enum cellmsg_rx_reason cellmsg_stream_accept(struct cellmsg_stream_seq *s,
					     const struct cellmsg *m)
{
	if (s->started && m->sender != s->sender)
		return CELLMSG_RX_SENDER;
	if (s->started && m->seq <= s->last)
		return CELLMSG_RX_REPLAY;
	s->started = true;
	s->sender = m->sender;
	s->last = m->seq;
	return CELLMSG_RX_OK;
}

// SPDX-License-Identifier: GPL-2.0-only
/*
 * Fuzz target: the whole gossip receive path, authentication, codec and
 * the protocol's merge rules, on a live node.
 *
 * The first input byte picks the mode (plain or encrypted); the rest is a
 * script of records, each one operation on a fresh node that already
 * knows eight members (so probes, acks, suspicions and refutations have
 * someone to be about):
 *
 *   op & 3 == 0  raw datagram: len u16, bytes, delivered as received
 *                (almost always refused by the tag check, which must
 *                then hold);
 *   op & 3 == 1  sealed datagram: len u16, header + body; the harness
 *                fixes magic, version, mode, reserved bytes and body
 *                length and seals it with the cluster key, so the body
 *                reaches the parser and its updates the merge rules;
 *                with op bit 2 the sequence is a fresh one, with op
 *                bit 3 the body is shaped into valid updates about the
 *                node's world (its members, itself, one stranger);
 *   op & 3 == 2  time: the clock moves on by a byte * 8 ms, then ticks;
 *   op & 3 == 3  an API call (announce, close, load report, leave, join)
 *                with arguments from the next bytes.
 *
 * Checks: every datagram that decodes encodes back to one that decodes
 * to the same message; every delivered datagram is counted once, under
 * one reason; after a tick the next deadline is later than now; what
 * the node sends is a datagram it would accept itself (sender aside).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <steer/rule.h>

#include "gossip/gossip.h"
#include "util/log.h"

#define SELF 100
#define KNOWN 8

static void check(int cond)
{
	if (!cond)
		__builtin_trap();
}

static struct gossip_auth auth[2];
static struct gossip_msg dec, sent;
static int ready;
static uint64_t clock_ms;
static uint64_t next_seq;
static int mode;

static void setup(void)
{
	struct gossip_key k;

	/* Refused datagrams are the normal case here: no log lines. */
	log_set_level(LOG_ERR);
	memset(k.b, 0x5a, sizeof(k.b));
	check(gossip_auth_init(&auth[0], &k, false) == 0);
	check(gossip_auth_init(&auth[1], &k, true) == 0);
	ready = 1;
}

static void roundtrip(const struct gossip_auth *a, const struct gossip_msg *m)
{
	static struct gossip_msg m2;
	uint8_t out[GOSSIP_DGRAM_MAX];
	uint32_t unknown;
	int len;

	len = gossip_codec_encode(a, m, out, sizeof(out));
	check(len > 0);
	check(gossip_codec_decode(a, out, (size_t)len, &m2, &unknown) ==
	      GOSSIP_RX_OK);
	check(unknown == 0);
	check(m2.type == m->type && m2.sender == m->sender &&
	      m2.seq == m->seq && m2.n_updates == m->n_updates);
	check(memcmp(m2.updates, m->updates,
		     m->n_updates * sizeof(m->updates[0])) == 0);
}

static uint64_t io_now(void *ctx)
{
	(void)ctx;
	return clock_ms;
}

/* What the node sends must decode (its own sender id is all that a
 * receiver would refuse). */
static int io_send(void *ctx, const struct gossip_addr *to, const void *buf,
		   size_t len)
{
	uint32_t unknown;

	(void)ctx;
	(void)to;
	check(len <= GOSSIP_DGRAM_MAX);
	check(gossip_codec_decode(&auth[mode], buf, len, &sent, &unknown) ==
	      GOSSIP_RX_OK);
	check(sent.sender == SELF && unknown == 0);
	return 0;
}

static void on_member(void *ctx, const struct gossip_member_info *m,
		      enum gossip_state old)
{
	(void)ctx;
	check(m->state <= GOSSIP_LEFT && m->id != STEER_NODE_NONE);
	check(old <= GOSSIP_LEFT || old == GOSSIP_STATE_NONE);
}

static void on_session(void *ctx, const struct gossip_session_info *s)
{
	(void)ctx;
	check(s->owner != STEER_NODE_NONE);
	check(s->state == GOSSIP_SESSION_ESTABLISHED ||
	      s->state == GOSSIP_SESSION_CLOSED);
}

static void on_load(void *ctx, const struct gossip_load_update *l)
{
	(void)ctx;
	check(l->cpu_permille <= 1000 && l->mem_permille <= 1000);
}

static void addr_of(uint32_t i, struct gossip_addr *a)
{
	memset(a, 0, sizeof(*a));
	flow_addr_set_v4(&a->ip, __builtin_bswap32(0x0a000000u + i));
	a->port = GOSSIP_PORT;
}

static uint64_t rx_total(const struct gossip *g)
{
	const struct gossip_counters *c = gossip_counters(g);
	uint64_t n = 0;
	int r;

	for (r = 0; r < GOSSIP_RX_REASONS; r++)
		n += c->rx[r];
	return n;
}

static void deliver(struct gossip *g, const uint8_t *buf, size_t len,
		    uint32_t from_i)
{
	const struct gossip_auth *a = &auth[mode];
	struct gossip_addr from;
	enum gossip_rx_reason r;
	uint32_t unknown;
	uint64_t before = rx_total(g);

	r = gossip_codec_decode(a, buf, len, &dec, &unknown);
	check(r < GOSSIP_RX_REASONS);
	if (r == GOSSIP_RX_OK) {
		check(dec.n_updates <= GOSSIP_MAX_UPDATES);
		roundtrip(a, &dec);
	}
	addr_of(from_i, &from);
	gossip_recv(g, buf, len, &from);
	check(rx_total(g) == before + 1);
}

/* The node knows members 1..KNOWN, alive. */
static struct gossip *node_new(void)
{
	struct gossip_config cfg;
	struct gossip_io io = {.now_ms = io_now, .send = io_send};
	struct gossip_events ev = {
		.member = on_member, .session = on_session, .load = on_load};
	static struct gossip_msg init;
	struct gossip_msg *m = &init;
	uint8_t buf[GOSSIP_DGRAM_MAX];
	struct gossip *g;
	uint32_t i;
	int len;

	gossip_config_default(&cfg);
	cfg.self_id = SELF;
	addr_of(SELF, &cfg.self);
	memset(cfg.key.b, 0x5a, sizeof(cfg.key.b));
	cfg.encrypt = mode;
	cfg.seed = 1;
	cfg.seq_start = 1;
	clock_ms = 1000000;
	g = gossip_new(&cfg, &io, &ev);
	check(g != NULL);
	memset(m, 0, sizeof(*m));
	m->type = GOSSIP_MSG_GOSSIP;
	m->sender = 1;
	m->seq = 1;
	for (i = 1; i <= KNOWN; i++) {
		struct gossip_update *u = &m->updates[m->n_updates++];

		u->kind = GOSSIP_UPD_MEMBER;
		u->member.node = (uint16_t)i;
		u->member.state = GOSSIP_ALIVE;
		u->member.from = 1;
		addr_of(i, &u->member.addr);
	}
	len = gossip_codec_encode(&auth[mode], m, buf, sizeof(buf));
	check(len > 0);
	check(gossip_recv(g, buf, (size_t)len, &cfg.self) == 0);
	check(gossip_member_count(g, GOSSIP_ALIVE) == KNOWN + 1);
	next_seq = 2;
	return g;
}

/* A node id folded into the node's world: itself (a quarter of the
 * time), one of its members, or one of two strangers. */
static void fold_id(uint8_t *p)
{
	uint16_t v = (uint16_t)(p[0] << 8 | p[1]), id;

	switch (v & 3) {
	case 0:
		id = SELF;
		break;
	case 3:
		id = (uint16_t)(KNOWN + 1 + (v >> 2) % 2);
		break;
	default:
		id = (uint16_t)(1 + (v >> 2) % KNOWN);
		break;
	}
	p[0] = (uint8_t)(id >> 8);
	p[1] = (uint8_t)id;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/*
 * Shape a body for the merge rules: the sender, the target and every
 * node id are folded into the node's world, and each update record gets
 * a known kind (or, with its kind's top bit, an unknown one), its
 * length, valid enumerations and zero reserved fields, so that nearly
 * every input reaches gossip_apply_update() rather than the parser's
 * refusals (the raw records fuzz those).
 */
static void shape(uint8_t *buf, size_t len)
{
	static const uint8_t fixed[] = {0, 8, 4, 28, 4, 4, 0};
	size_t off = GOSSIP_HDR_LEN, n;
	uint8_t type, *u;

	buf[3] = type = (uint8_t)(1 + buf[3] % 6);
	fold_id(buf + 6);
	if (off + fixed[type] > len)
		return;
	u = buf + off;
	/* Fixed parts: valid, with probe sequences the node has used. */
	switch (type) {
	case GOSSIP_MSG_PING_REQ:
		u[26] = u[27] = 0;
		/* fall through */
	case GOSSIP_MSG_PING:
		fold_id(u);
		u[2] = u[3] = u[4] = u[5] = u[6] = 0;
		u[7] %= 8;
		break;
	case GOSSIP_MSG_ACK:
	case GOSSIP_MSG_NACK:
		u[0] = u[1] = u[2] = 0;
		u[3] %= 8;
		break;
	case GOSSIP_MSG_SYNC:
		u[0] &= GOSSIP_SYNC_PULL;
		u[1] = u[2] = u[3] = 0;
		break;
	}
	off += fixed[type];
	if (off >= len)
		return;
	n = buf[off++] % (GOSSIP_MAX_UPDATES + 1);
	buf[off - 1] = (uint8_t)n;
	while (n-- && off + 2 <= len) {
		if (!(buf[off] & 0x80)) {
			buf[off] = (uint8_t)(1 + buf[off] % 3);
			buf[off + 1] =
				(uint8_t)(gossip_codec_update_size(buf[off]) -
					  2);
		}
		u = buf + off + 2;
		off += 2 + (size_t)buf[off + 1];
		if (off > len)
			return;
		switch (u[-2]) {
		case GOSSIP_UPD_MEMBER:
			fold_id(u);
			u[2] %= 4;
			u[3] = 0;
			fold_id(u + 8);
			break;
		case GOSSIP_UPD_SESSION:
			fold_id(u);
			u[2] = (uint8_t)(1 + u[2] % 2);
			break;
		case GOSSIP_UPD_LOAD:
			fold_id(u);
			put16(u + 2, rd16(u + 2) % 1001);
			put16(u + 4, rd16(u + 4) % 1001);
			u[6] = u[7] = u[28] = u[29] = u[30] = u[31] = 0;
			break;
		}
	}
}

static uint16_t get16(const uint8_t **p, size_t *n)
{
	uint16_t v = 0;

	if (*n >= 2) {
		v = (uint16_t)((*p)[0] << 8 | (*p)[1]);
		*p += 2;
		*n -= 2;
	} else if (*n) {
		v = (*p)[0];
		*p += 1;
		*n = 0;
	}
	return v;
}

static uint8_t get8(const uint8_t **p, size_t *n)
{
	uint8_t v = 0;

	if (*n) {
		v = **p;
		*p += 1;
		*n -= 1;
	}
	return v;
}

static void api_call(struct gossip *g, const uint8_t **p, size_t *n)
{
	uint8_t which = get8(p, n);
	struct gossip_addr seeds[2];
	struct flow_key k;

	memset(&k, 0, sizeof(k));
	k.proto = get8(p, n);
	k.sport = get16(p, n);
	k.dport = get16(p, n);
	flow_addr_set_v4(&k.src, get16(p, n));
	switch (which % 6) {
	case 0:
		gossip_session_announce(g, &k, get16(p, n), get16(p, n));
		break;
	case 1:
		gossip_session_close(g, &k, get16(p, n), get16(p, n));
		break;
	case 2:
		gossip_load_report(g, get16(p, n), get16(p, n), get16(p, n),
				   get16(p, n));
		break;
	case 3:
		gossip_leave(g);
		break;
	case 4:
		addr_of(get8(p, n), &seeds[0]);
		addr_of(get8(p, n), &seeds[1]);
		gossip_join(g, seeds, 1 + (which >> 7));
		break;
	default:
		gossip_member_count(g, (enum gossip_state)(which >> 4 & 3));
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t buf[GOSSIP_DGRAM_MAX + 64];
	const struct gossip_auth *a;
	struct gossip *g;
	size_t len, body;
	uint8_t op;

	if (!ready)
		setup();
	if (size < 1)
		return 0;
	mode = data[0] & 1;
	a = &auth[mode];
	data++;
	size--;
	g = node_new();
	while (size) {
		op = get8(&data, &size);
		switch (op & 3) {
		case 0:
		case 1:
			len = get16(&data, &size) % (sizeof(buf) + 1);
			if (len > size)
				len = size;
			memcpy(buf, data, len);
			data += len;
			size -= len;
			if ((op & 3) == 1) {
				if (len < GOSSIP_HDR_LEN ||
				    len + gossip_auth_overhead(a) > sizeof(buf))
					break;
				body = len - GOSSIP_HDR_LEN;
				buf[0] = GOSSIP_MAGIC >> 8;
				buf[1] = GOSSIP_MAGIC & 0xff;
				buf[2] = GOSSIP_VERSION;
				buf[4] = mode ? GOSSIP_FLAG_ENCRYPTED : 0;
				buf[5] = 0;
				buf[20] = (uint8_t)(body >> 8);
				buf[21] = (uint8_t)body;
				buf[22] = buf[23] = 0;
				if (op & 8)
					shape(buf, len);
				/* op bit 2: a fresh sequence, not the input's. */
				if (op & 4) {
					buf[12] = buf[13] = buf[14] = 0;
					buf[15] = buf[16] = buf[17] = 0;
					buf[18] = (uint8_t)(next_seq >> 8);
					buf[19] = (uint8_t)next_seq++;
				}
				len = gossip_auth_seal(a, buf, GOSSIP_HDR_LEN,
						       body);
			}
			deliver(g, buf, len, op >> 4);
			break;
		case 2:
			clock_ms += (uint64_t)get8(&data, &size) * 8;
			gossip_tick(g);
			check(gossip_next_deadline(g) > clock_ms);
			break;
		case 3:
			api_call(g, &data, &size);
			break;
		}
	}
	gossip_free(g);
	return 0;
}

// SPDX-License-Identifier: GPL-2.0-only
/*
 * Gossip codec and authentication: every message type and update kind
 * round-trips in both modes; every truncation, every bit flip, a wrong
 * key, the wrong mode and an oversized datagram are refused with their
 * reason; unknown update kinds are skipped; the replay window accepts
 * each sequence once; cluster keys load from files and passphrases.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include <steer/rule.h>

#include "gossip/gossip_codec.h"

struct fx {
	struct gossip_auth plain, enc, other;
	struct gossip_msg in, out;
	uint8_t buf[GOSSIP_DGRAM_MAX];
};

static int setup(void **state)
{
	struct gossip_key k, k2;
	struct fx *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	memset(k.b, 0x11, sizeof(k.b));
	memset(k2.b, 0x11, sizeof(k2.b));
	k2.b[31] ^= 1;
	if (gossip_auth_init(&f->plain, &k, false) ||
	    gossip_auth_init(&f->enc, &k, true) ||
	    gossip_auth_init(&f->other, &k2, false)) {
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

static void fill_updates(struct gossip_msg *m, uint16_t n)
{
	struct gossip_update *u;
	uint16_t i;

	m->n_updates = n;
	for (i = 0; i < n; i++) {
		u = &m->updates[i];
		memset(u, 0, sizeof(*u));
		u->kind = (uint8_t)(1 + i % 7);
		switch (u->kind) {
		case GOSSIP_UPD_MEMBER:
			u->member.node = (uint16_t)(100 + i);
			u->member.state = (uint8_t)(i % 4);
			u->member.incarnation = 0x01020304u + i;
			u->member.from = (uint16_t)(7 + i);
			flow_addr_set_v4(&u->member.addr.ip,
					 (uint32_t)(0x0a000000u + i));
			u->member.addr.port = (uint16_t)(7946 + i);
			break;
		case GOSSIP_UPD_SESSION:
			u->session.owner = (uint16_t)(3 + i);
			u->session.op = (uint8_t)(1 + i % 2);
			u->session.epoch = 0xa0b0c0d0u + i;
			memset(u->session.key.src.b, (int)i, 16);
			memset(u->session.key.dst.b, 0xfe, 16);
			u->session.key.sport = (uint16_t)(0x1234 + i);
			u->session.key.dport = 0x5000;
			u->session.key.proto = 6;
			break;
		case GOSSIP_UPD_LOAD:
			u->load.node = (uint16_t)(9 + i);
			u->load.cpu_permille = (uint16_t)(i * 7 % 1001);
			u->load.mem_permille = 999;
			u->load.flags = i % 2 ? GOSSIP_LOAD_F_DRAINED : 0;
			u->load.seq = 0x0102030405060708ull + i;
			u->load.bandwidth_bps = 10000000000ull + i;
			u->load.sessions = 123456u + i;
			break;
		case GOSSIP_UPD_FORECAST:
			u->forecast.node = (uint16_t)(11 + i);
			u->forecast.horizon_s = 60;
			u->forecast.cpu_permille = (uint16_t)(i % 900);
			u->forecast.cpu_hi = (uint16_t)(i % 900 + 100);
			u->forecast.mem_permille = 400;
			u->forecast.mem_hi = 1000;
			u->forecast.seq = 0x1112131415161718ull + i;
			u->forecast.bandwidth_bps = 9000000000ull + i;
			u->forecast.bandwidth_hi_bps = 12000000000ull + i;
			break;
		case GOSSIP_UPD_HINT:
			u->hint.owner = (uint16_t)(5 + i);
			u->hint.p_permille = (uint16_t)(i % 1001);
			u->hint.ttl_s = (uint16_t)(30 + i);
			u->hint.epoch = 0x0badcafeu + i;
			memset(u->hint.key.src.b, (int)(i + 1), 16);
			memset(u->hint.key.dst.b, 0xef, 16);
			u->hint.key.sport = (uint16_t)(0x4321 + i);
			u->hint.key.dport = 0x1f90;
			u->hint.key.proto = 17;
			u->hint.flags =
				(uint8_t)(i % 2 ? GOSSIP_HINT_F_JOIN : 0);
			break;
		case GOSSIP_UPD_ORDER:
			u->order.node = (uint16_t)(2 + i);
			u->order.from = (uint16_t)(9 + i);
			u->order.op = (uint8_t)(1 + i % 2);
			u->order.id = 0x2122232425262728ull + i;
			break;
		case GOSSIP_UPD_ASK:
			u->ask.asker = (uint16_t)(4 + i);
			memset(u->ask.key.src.b, (int)(i + 3), 16);
			memset(u->ask.key.dst.b, 0xcd, 16);
			u->ask.key.sport = (uint16_t)(0x1234 + i);
			u->ask.key.dport = 0x01bb;
			u->ask.key.proto = i % 2 ? 17 : 6;
			break;
		}
	}
}

static void make_msg(struct gossip_msg *m, uint8_t type, uint16_t n)
{
	memset(m, 0, sizeof(*m));
	m->type = type;
	m->sender = 42;
	m->incarnation = 0xdeadbeef;
	m->seq = 0x1122334455667788ull;
	m->probe_seq = 0x99aabbcc;
	if (type == GOSSIP_MSG_PING || type == GOSSIP_MSG_PING_REQ)
		m->target = 77;
	if (type == GOSSIP_MSG_PING_REQ) {
		flow_addr_set_v4(&m->target_addr.ip, 0x7f000001u);
		m->target_addr.port = 7946;
	}
	if (type == GOSSIP_MSG_ACK || type == GOSSIP_MSG_NACK ||
	    type == GOSSIP_MSG_PING || type == GOSSIP_MSG_PING_REQ)
		; /* probe_seq carried */
	else
		m->probe_seq = 0;
	if (type == GOSSIP_MSG_SYNC)
		m->sync_flags = GOSSIP_SYNC_PULL;
	fill_updates(m, n);
}

static void assert_msg_equal(const struct gossip_msg *a,
			     const struct gossip_msg *b)
{
	assert_int_equal(a->type, b->type);
	assert_int_equal(a->sender, b->sender);
	assert_int_equal(a->incarnation, b->incarnation);
	assert_true(a->seq == b->seq);
	assert_int_equal(a->probe_seq, b->probe_seq);
	assert_int_equal(a->target, b->target);
	assert_memory_equal(&a->target_addr.ip, &b->target_addr.ip, 16);
	assert_int_equal(a->target_addr.port, b->target_addr.port);
	assert_int_equal(a->sync_flags, b->sync_flags);
	assert_int_equal(a->n_updates, b->n_updates);
	assert_memory_equal(a->updates, b->updates,
			    a->n_updates * sizeof(a->updates[0]));
}

static const uint8_t types[] = {GOSSIP_MSG_PING,     GOSSIP_MSG_ACK,
				GOSSIP_MSG_PING_REQ, GOSSIP_MSG_NACK,
				GOSSIP_MSG_SYNC,     GOSSIP_MSG_GOSSIP};

static void test_roundtrip_all_types(void **state)
{
	struct fx *f = *state;
	const struct gossip_auth *modes[2] = {&f->plain, &f->enc};
	uint32_t unknown;
	size_t t, mo;
	uint16_t n;
	int len;

	for (mo = 0; mo < 2; mo++)
		for (t = 0; t < sizeof(types); t++)
			for (n = 0; n <= 6; n += 3) {
				make_msg(&f->in, types[t], n);
				len = gossip_codec_encode(modes[mo], &f->in,
							  f->buf,
							  sizeof(f->buf));
				assert_true(len > 0);
				assert_int_equal(
					gossip_codec_decode(modes[mo], f->buf,
							    (size_t)len,
							    &f->out, &unknown),
					GOSSIP_RX_OK);
				assert_int_equal(unknown, 0);
				assert_msg_equal(&f->in, &f->out);
			}
}

/* The largest update list that fits is accepted; one more is refused. */
static void test_size_limit(void **state)
{
	struct fx *f = *state;
	size_t room;
	uint16_t n = 0;
	int len;

	make_msg(&f->in, GOSSIP_MSG_GOSSIP, 0);
	room = GOSSIP_DGRAM_MAX -
	       gossip_codec_overhead(&f->plain, GOSSIP_MSG_GOSSIP);
	while (room >= gossip_codec_update_size(GOSSIP_UPD_SESSION) &&
	       n < GOSSIP_MAX_UPDATES) {
		room -= gossip_codec_update_size(GOSSIP_UPD_SESSION);
		n++;
	}
	fill_updates(&f->in, n);
	for (uint16_t i = 0; i < n; i++) {
		f->in.updates[i].kind = GOSSIP_UPD_SESSION;
		f->in.updates[i].session.owner = 1;
		f->in.updates[i].session.op = 1;
	}
	len = gossip_codec_encode(&f->plain, &f->in, f->buf, sizeof(f->buf));
	assert_true(len > 0 && len <= GOSSIP_DGRAM_MAX);
	f->in.n_updates++;
	f->in.updates[n] = f->in.updates[0];
	assert_int_equal(
		gossip_codec_encode(&f->plain, &f->in, f->buf, sizeof(f->buf)),
		-EMSGSIZE);
	/* Too small a buffer, invalid fields. */
	f->in.n_updates = 2;
	assert_int_equal(gossip_codec_encode(&f->plain, &f->in, f->buf, 40),
			 -EMSGSIZE);
	f->in.updates[0].kind = 9;
	assert_int_equal(
		gossip_codec_encode(&f->plain, &f->in, f->buf, sizeof(f->buf)),
		-EINVAL);
	f->in.updates[0].kind = GOSSIP_UPD_SESSION;
	f->in.sender = 0xffff;
	assert_int_equal(
		gossip_codec_encode(&f->plain, &f->in, f->buf, sizeof(f->buf)),
		-EINVAL);
}

static void test_truncations(void **state)
{
	struct fx *f = *state;
	const struct gossip_auth *modes[2] = {&f->plain, &f->enc};
	enum gossip_rx_reason r;
	uint32_t unknown;
	size_t t, mo, cut;
	int len;

	for (mo = 0; mo < 2; mo++)
		for (t = 0; t < sizeof(types); t++) {
			make_msg(&f->in, types[t], 5);
			len = gossip_codec_encode(modes[mo], &f->in, f->buf,
						  sizeof(f->buf));
			assert_true(len > 0);
			for (cut = 0; cut < (size_t)len; cut++) {
				r = gossip_codec_decode(modes[mo], f->buf, cut,
							&f->out, &unknown);
				assert_int_equal(r, GOSSIP_RX_SHORT);
			}
		}
}

/* Any single bit flipped anywhere is refused (header checks or tag). */
static void test_bit_flips(void **state)
{
	struct fx *f = *state;
	const struct gossip_auth *modes[2] = {&f->plain, &f->enc};
	uint32_t unknown;
	size_t mo, i;
	int len, bit;

	for (mo = 0; mo < 2; mo++) {
		make_msg(&f->in, GOSSIP_MSG_PING, 3);
		len = gossip_codec_encode(modes[mo], &f->in, f->buf,
					  sizeof(f->buf));
		assert_true(len > 0);
		for (i = 0; i < (size_t)len; i++)
			for (bit = 0; bit < 8; bit++) {
				f->buf[i] ^= (uint8_t)(1 << bit);
				assert_int_not_equal(
					gossip_codec_decode(modes[mo], f->buf,
							    (size_t)len,
							    &f->out, &unknown),
					GOSSIP_RX_OK);
				f->buf[i] ^= (uint8_t)(1 << bit);
			}
		assert_int_equal(gossip_codec_decode(modes[mo], f->buf,
						     (size_t)len, &f->out,
						     &unknown),
				 GOSSIP_RX_OK);
	}
}

static void test_wrong_key_mode_size(void **state)
{
	struct fx *f = *state;
	uint8_t big[GOSSIP_DGRAM_MAX + 1];
	uint32_t unknown;
	int len;

	make_msg(&f->in, GOSSIP_MSG_ACK, 2);
	len = gossip_codec_encode(&f->plain, &f->in, f->buf, sizeof(f->buf));
	assert_true(len > 0);
	assert_int_equal(gossip_codec_decode(&f->other, f->buf, (size_t)len,
					     &f->out, &unknown),
			 GOSSIP_RX_AUTH);
	assert_int_equal(gossip_codec_decode(&f->enc, f->buf, (size_t)len,
					     &f->out, &unknown),
			 GOSSIP_RX_MODE);
	/* A valid datagram with trailing bytes. */
	memcpy(big, f->buf, (size_t)len);
	big[len] = 0;
	assert_int_equal(gossip_codec_decode(&f->plain, big, (size_t)len + 1,
					     &f->out, &unknown),
			 GOSSIP_RX_LENGTH);
	memset(big, 0, sizeof(big));
	assert_int_equal(gossip_codec_decode(&f->plain, big, sizeof(big),
					     &f->out, &unknown),
			 GOSSIP_RX_OVERSIZE);
	big[0] = 0x53;
	big[1] = 0x47;
	big[2] = 2;
	assert_int_equal(
		gossip_codec_decode(&f->plain, big, 100, &f->out, &unknown),
		GOSSIP_RX_VERSION);
	big[2] = 1;
	big[3] = 99;
	assert_int_equal(
		gossip_codec_decode(&f->plain, big, 100, &f->out, &unknown),
		GOSSIP_RX_TYPE);
	big[0] = 0;
	assert_int_equal(
		gossip_codec_decode(&f->plain, big, 100, &f->out, &unknown),
		GOSSIP_RX_MAGIC);
}

/* Hand-built body, sealed with the right key: the parser alone judges. */
static enum gossip_rx_reason decode_body(struct fx *f, const uint8_t *body,
					 size_t blen, uint32_t *unknown)
{
	static const uint8_t hdr[GOSSIP_HDR_LEN] = {
		0x53, 0x47, 1, GOSSIP_MSG_GOSSIP,
		0,    0,    0, 5,
		0,    0,    0, 1,
		0,    0,    0, 0,
		0,    0,    0, 9};
	size_t len;

	memcpy(f->buf, hdr, sizeof(hdr));
	f->buf[20] = (uint8_t)(blen >> 8);
	f->buf[21] = (uint8_t)blen;
	memcpy(f->buf + GOSSIP_HDR_LEN, body, blen);
	len = gossip_auth_seal(&f->plain, f->buf, GOSSIP_HDR_LEN, blen);
	return gossip_codec_decode(&f->plain, f->buf, len, &f->out, unknown);
}

static void test_body_parser(void **state)
{
	struct fx *f = *state;
	uint8_t body[64];
	uint32_t unknown;

	/* Two updates: unknown kind 77 with 3 bytes, then a load report. */
	memset(body, 0, sizeof(body));
	body[0] = 2;
	body[1] = 77;
	body[2] = 3;
	body[6] = GOSSIP_UPD_LOAD;
	body[7] = GOSSIP_UPD_LOAD_LEN;
	body[9] = 4;		    /* node 4 */
	body[14] = body[15] = 0xff; /* flags: drained, joining, unknown */
	assert_int_equal(
		decode_body(f, body, 8 + GOSSIP_UPD_LOAD_LEN, &unknown),
		GOSSIP_RX_OK);
	assert_int_equal(unknown, 1);
	assert_int_equal(f->out.n_updates, 1);
	assert_int_equal(f->out.updates[0].load.node, 4);
	/* Bits this version does not know are dropped, its own are kept. */
	assert_int_equal(f->out.updates[0].load.flags,
			 GOSSIP_LOAD_F_DRAINED | GOSSIP_LOAD_F_JOINING);
	/* Trailing byte after the updates. */
	assert_int_equal(
		decode_body(f, body, 9 + GOSSIP_UPD_LOAD_LEN, &unknown),
		GOSSIP_RX_MALFORMED);
	/* Known kind with a wrong length. */
	body[7] = GOSSIP_UPD_LOAD_LEN - 1;
	assert_int_equal(
		decode_body(f, body, 7 + GOSSIP_UPD_LOAD_LEN, &unknown),
		GOSSIP_RX_MALFORMED);
	body[7] = GOSSIP_UPD_LOAD_LEN;
	/* cpu above 1000 permille. */
	body[10] = 0x03;
	body[11] = 0xe9;
	assert_int_equal(
		decode_body(f, body, 8 + GOSSIP_UPD_LOAD_LEN, &unknown),
		GOSSIP_RX_MALFORMED);
	body[10] = body[11] = 0;
	/* Reserved bytes set (the last 4 of the report). */
	body[8 + GOSSIP_UPD_LOAD_LEN - 1] = 1;
	assert_int_equal(
		decode_body(f, body, 8 + GOSSIP_UPD_LOAD_LEN, &unknown),
		GOSSIP_RX_MALFORMED);
	body[8 + GOSSIP_UPD_LOAD_LEN - 1] = 0;
	/* Count above the updates present, and an unknown kind that claims
	 * more bytes than are left. */
	body[0] = 3;
	assert_int_equal(
		decode_body(f, body, 8 + GOSSIP_UPD_LOAD_LEN, &unknown),
		GOSSIP_RX_MALFORMED);
	body[0] = 1;
	body[2] = 200;
	assert_int_equal(decode_body(f, body, 8, &unknown),
			 GOSSIP_RX_MALFORMED);
	/* Count above the limit. */
	body[0] = GOSSIP_MAX_UPDATES + 1;
	assert_int_equal(decode_body(f, body, 1, &unknown),
			 GOSSIP_RX_MALFORMED);
	/* Empty body: no count byte. */
	assert_int_equal(decode_body(f, body, 0, &unknown),
			 GOSSIP_RX_MALFORMED);
}

/* A forecast out of its bounds is refused, each bound on its own. */
static void test_forecast_bounds(void **state)
{
	struct gossip_update u = {.kind = GOSSIP_UPD_FORECAST}, b;
	struct gossip_forecast_update *f = &b.forecast;

	u.forecast = (struct gossip_forecast_update){
		.node = 3,
		.horizon_s = 60,
		.cpu_permille = 500,
		.cpu_hi = 700,
		.mem_permille = 300,
		.mem_hi = 350,
		.seq = 9,
		.bandwidth_bps = 1000,
		.bandwidth_hi_bps = 2000,
	};
	assert_true(gossip_codec_update_valid(&u));
	b = u, f->node = STEER_NODE_NONE;
	assert_false(gossip_codec_update_valid(&b));
	b = u, f->horizon_s = 0;
	assert_false(gossip_codec_update_valid(&b));
	b = u, f->horizon_s = GOSSIP_FC_HORIZON_MAX + 1;
	assert_false(gossip_codec_update_valid(&b));
	b = u, f->cpu_permille = 701; /* above its own upper end */
	assert_false(gossip_codec_update_valid(&b));
	b = u, f->cpu_hi = 1001;
	assert_false(gossip_codec_update_valid(&b));
	b = u, f->mem_permille = 351;
	assert_false(gossip_codec_update_valid(&b));
	b = u, f->mem_hi = 1001;
	assert_false(gossip_codec_update_valid(&b));
	b = u, f->bandwidth_bps = 2001;
	assert_false(gossip_codec_update_valid(&b));
	assert_int_equal(gossip_codec_update_size(GOSSIP_UPD_FORECAST),
			 2 + GOSSIP_UPD_FORECAST_LEN);
}

/* A hint out of its bounds is refused, each bound on its own. */
static void test_hint_bounds(void **state)
{
	struct gossip_update u = {.kind = GOSSIP_UPD_HINT}, b;
	struct gossip_hint_update *h = &b.hint;

	(void)state;
	u.hint = (struct gossip_hint_update){
		.owner = 3, .p_permille = 900, .ttl_s = 30, .epoch = 7};
	u.hint.key.proto = 6;
	assert_true(gossip_codec_update_valid(&u));
	b = u, h->p_permille = 0; /* a withdrawal */
	assert_true(gossip_codec_update_valid(&b));
	b = u, h->owner = STEER_NODE_NONE;
	assert_false(gossip_codec_update_valid(&b));
	b = u, h->p_permille = 1001;
	assert_false(gossip_codec_update_valid(&b));
	b = u, h->ttl_s = GOSSIP_HINT_TTL_MAX + 1;
	assert_false(gossip_codec_update_valid(&b));
	b = u, h->flags = GOSSIP_HINT_F_JOIN;
	assert_true(gossip_codec_update_valid(&b));
	b = u, h->flags = 0x02; /* a flag nobody knows */
	assert_false(gossip_codec_update_valid(&b));
	assert_int_equal(gossip_codec_update_size(GOSSIP_UPD_HINT),
			 2 + GOSSIP_UPD_HINT_LEN);
}

/* An order out of its bounds is refused, each bound on its own. */
static void test_order_bounds(void **state)
{
	struct gossip_update u = {.kind = GOSSIP_UPD_ORDER}, b;
	struct gossip_order_update *o = &b.order;

	(void)state;
	u.order = (struct gossip_order_update){
		.node = 3, .from = 1, .op = GOSSIP_ORDER_DRAIN, .id = 9};
	assert_true(gossip_codec_update_valid(&u));
	b = u, o->op = GOSSIP_ORDER_UNDRAIN;
	assert_true(gossip_codec_update_valid(&b));
	b = u, o->op = 0;
	assert_false(gossip_codec_update_valid(&b));
	b = u, o->op = 3;
	assert_false(gossip_codec_update_valid(&b));
	b = u, o->node = STEER_NODE_NONE;
	assert_false(gossip_codec_update_valid(&b));
	b = u, o->from = STEER_NODE_NONE;
	assert_false(gossip_codec_update_valid(&b));
	assert_int_equal(gossip_codec_update_size(GOSSIP_UPD_ORDER),
			 2 + GOSSIP_UPD_ORDER_LEN);
}

/* An ask must name its asker and a TCP or UDP session. */
static void test_ask_bounds(void **state)
{
	struct gossip_update u = {.kind = GOSSIP_UPD_ASK}, b;

	(void)state;
	u.ask.asker = 3;
	u.ask.key.proto = 6;
	assert_true(gossip_codec_update_valid(&u));
	b = u, b.ask.key.proto = 17;
	assert_true(gossip_codec_update_valid(&b));
	b = u, b.ask.key.proto = 1;
	assert_false(gossip_codec_update_valid(&b));
	b = u, b.ask.asker = STEER_NODE_NONE;
	assert_false(gossip_codec_update_valid(&b));
	assert_int_equal(gossip_codec_update_size(GOSSIP_UPD_ASK),
			 2 + GOSSIP_UPD_ASK_LEN);
}

static int replay_top_of(uint16_t sender, uint64_t top, void *arg)
{
	uint64_t *tops = arg;

	tops[sender] = top;
	return 0;
}

/* Floors from before a restart: nothing at or below them is taken, even
 * inside the window; a floor below what is held changes nothing. */
static void test_replay_floor(void **state)
{
	struct gossip_replay r, back;
	uint64_t tops[8] = {0};

	(void)state;
	gossip_replay_init(&r);
	assert_int_equal(gossip_replay_accept(&r, 1, 1000), 0);
	assert_int_equal(gossip_replay_accept(&r, 1, 998), 0);
	assert_int_equal(gossip_replay_accept(&r, 5, 77), 0);
	assert_int_equal(gossip_replay_foreach(&r, replay_top_of, tops), 0);
	assert_int_equal(tops[1], 1000);
	assert_int_equal(tops[5], 77);
	/* A restart: a new window, the floors read back. */
	gossip_replay_init(&back);
	assert_int_equal(gossip_replay_floor(&back, 1, tops[1]), 0);
	assert_int_equal(gossip_replay_floor(&back, 5, tops[5]), 0);
	assert_int_equal(gossip_replay_accept(&back, 1, 1000), -EALREADY);
	assert_int_equal(gossip_replay_accept(&back, 1, 999), -EALREADY);
	assert_int_equal(gossip_replay_accept(&back, 1, 900), -EALREADY);
	assert_int_equal(gossip_replay_accept(&back, 5, 77), -EALREADY);
	assert_int_equal(gossip_replay_accept(&back, 1, 1001), 0);
	assert_int_equal(gossip_replay_accept(&back, 5, 78), 0);
	/* Below what it holds: nothing changes (1001 stays the top). */
	assert_int_equal(gossip_replay_floor(&back, 1, 500), 0);
	assert_int_equal(gossip_replay_accept(&back, 1, 1002), 0);
	assert_int_equal(gossip_replay_accept(&back, 1, 1001), -EALREADY);
	/* A sender never heard from has no floor. */
	assert_int_equal(gossip_replay_accept(&back, 2, 1), 0);
	gossip_replay_free(&r);
	gossip_replay_free(&back);
}

static void test_replay_window(void **state)
{
	struct gossip_replay r;
	uint64_t s;

	(void)state;
	gossip_replay_init(&r);
	assert_int_equal(gossip_replay_accept(&r, 1, 1000), 0);
	assert_int_equal(gossip_replay_accept(&r, 1, 1000), -EALREADY);
	assert_int_equal(gossip_replay_accept(&r, 1, 1002), 0);
	assert_int_equal(gossip_replay_accept(&r, 1, 1001), 0); /* reordered */
	assert_int_equal(gossip_replay_accept(&r, 1, 1001), -EALREADY);
	assert_int_equal(gossip_replay_accept(&r, 2, 5), 0); /* own window */
	assert_int_equal(gossip_replay_accept(&r, 1, 1002 + 63), 0);
	assert_int_equal(gossip_replay_accept(&r, 1, 1002), -EALREADY);
	assert_int_equal(gossip_replay_accept(&r, 1, 1003), 0);
	assert_int_equal(gossip_replay_accept(&r, 1, 1001), -EALREADY);
	assert_int_equal(gossip_replay_accept(&r, 1, 5000), 0);
	assert_int_equal(gossip_replay_accept(&r, 1, 1003 + 63), -EALREADY);
	/* Many senders: the table grows and keeps every window. */
	for (s = 0; s < 3000; s++)
		assert_int_equal(
			gossip_replay_accept(&r, (uint16_t)(10 + s), s + 1), 0);
	for (s = 0; s < 3000; s++)
		assert_int_equal(
			gossip_replay_accept(&r, (uint16_t)(10 + s), s + 1),
			-EALREADY);
	assert_int_equal(gossip_replay_accept(&r, 1, 5000), -EALREADY);
	gossip_replay_free(&r);
}

static void test_key_file(void **state)
{
	char path[] = "/tmp/gossip_key_XXXXXX";
	struct gossip_key k;
	uint8_t raw[GOSSIP_KEY_LEN];
	FILE *fp;
	int fd, i;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	for (i = 0; i < GOSSIP_KEY_LEN; i++)
		raw[i] = (uint8_t)(i * 9 + 1);
	fp = fopen(path, "wb");
	assert_non_null(fp);
	fwrite(raw, 1, sizeof(raw), fp);
	fclose(fp);
	assert_int_equal(gossip_key_from_file(&k, path), 0);
	assert_memory_equal(k.b, raw, sizeof(raw));

	fp = fopen(path, "w");
	assert_non_null(fp);
	for (i = 0; i < GOSSIP_KEY_LEN; i++)
		fprintf(fp, "%02x", (unsigned)(raw[i] ^ 0xff));
	fputc('\n', fp);
	fclose(fp);
	assert_int_equal(gossip_key_from_file(&k, path), 0);
	for (i = 0; i < GOSSIP_KEY_LEN; i++)
		assert_int_equal(k.b[i], raw[i] ^ 0xff);

	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs("not a key\n", fp);
	fclose(fp);
	assert_int_equal(gossip_key_from_file(&k, path), -EINVAL);
	/* A key others may read or write is refused, read or not. */
	fp = fopen(path, "wb");
	assert_non_null(fp);
	fwrite(raw, 1, sizeof(raw), fp);
	fclose(fp);
	assert_int_equal(chmod(path, 0640), 0);
	assert_int_equal(gossip_key_from_file(&k, path), -EPERM);
	assert_int_equal(chmod(path, 0602), 0);
	assert_int_equal(gossip_key_from_file(&k, path), -EPERM);
	assert_int_equal(chmod(path, 0400), 0);
	assert_int_equal(gossip_key_from_file(&k, path), 0);
	assert_string_equal(
		gossip_key_strerror(-EPERM),
		"its group or others may read or write it: a "
		"cluster key must be the owner's alone (chmod 600)");
	unlink(path);
	assert_int_equal(gossip_key_from_file(&k, path), -ENOENT);
}

static void test_key_passphrase(void **state)
{
	struct gossip_key a, b, c;

	(void)state;
	assert_int_equal(gossip_key_from_passphrase(&a, "correct horse", "c1"),
			 0);
	assert_int_equal(gossip_key_from_passphrase(&b, "correct horse", "c1"),
			 0);
	assert_int_equal(gossip_key_from_passphrase(&c, "correct horse", "c2"),
			 0);
	assert_memory_equal(a.b, b.b, sizeof(a.b));
	assert_memory_not_equal(a.b, c.b, sizeof(a.b));
	assert_int_equal(gossip_key_from_passphrase(&c, "", "c1"), -EINVAL);
	assert_int_equal(gossip_key_from_passphrase(&c, "x", ""), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_roundtrip_all_types, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_size_limit, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_truncations, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_bit_flips, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_wrong_key_mode_size, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_body_parser, setup,
						teardown),
		cmocka_unit_test(test_forecast_bounds),
		cmocka_unit_test(test_hint_bounds),
		cmocka_unit_test(test_order_bounds),
		cmocka_unit_test(test_ask_bounds),
		cmocka_unit_test(test_replay_floor),
		cmocka_unit_test(test_replay_window),
		cmocka_unit_test(test_key_file),
		cmocka_unit_test(test_key_passphrase),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

// SPDX-License-Identifier: GPL-2.0-only
/*
 * Gossip wire format (see gossip_codec.h). The decoder trusts nothing:
 * every length is checked before it is used, every reserved field must
 * be zero, every enumeration must be known, and the body must be used
 * up exactly.
 */
#include <errno.h>
#include <string.h>

#include <steer/rule.h>

#include "gossip/gossip_codec.h"
#include "util/wire.h"

static const char *const rx_names[GOSSIP_RX_REASONS] = {
	[GOSSIP_RX_OK] = "ok",
	[GOSSIP_RX_SHORT] = "short",
	[GOSSIP_RX_OVERSIZE] = "oversize",
	[GOSSIP_RX_MAGIC] = "bad_magic",
	[GOSSIP_RX_VERSION] = "bad_version",
	[GOSSIP_RX_TYPE] = "bad_type",
	[GOSSIP_RX_MODE] = "bad_mode",
	[GOSSIP_RX_LENGTH] = "bad_length",
	[GOSSIP_RX_AUTH] = "bad_auth",
	[GOSSIP_RX_MALFORMED] = "malformed",
	[GOSSIP_RX_REPLAY] = "replay",
	[GOSSIP_RX_SELF] = "self",
	[GOSSIP_RX_NOMEM] = "nomem",
};

const char *gossip_rx_reason_name(enum gossip_rx_reason r)
{
	if ((unsigned)r >= GOSSIP_RX_REASONS)
		return "unknown";
	return rx_names[r];
}

size_t gossip_codec_update_size(uint8_t kind)
{
	switch (kind) {
	case GOSSIP_UPD_MEMBER:
		return 2 + GOSSIP_UPD_MEMBER_LEN;
	case GOSSIP_UPD_SESSION:
		return 2 + GOSSIP_UPD_SESSION_LEN;
	case GOSSIP_UPD_LOAD:
		return 2 + GOSSIP_UPD_LOAD_LEN;
	case GOSSIP_UPD_FORECAST:
		return 2 + GOSSIP_UPD_FORECAST_LEN;
	case GOSSIP_UPD_HINT:
		return 2 + GOSSIP_UPD_HINT_LEN;
	case GOSSIP_UPD_ORDER:
		return 2 + GOSSIP_UPD_ORDER_LEN;
	case GOSSIP_UPD_ASK:
		return 2 + GOSSIP_UPD_ASK_LEN;
	default:
		return 0;
	}
}

/* Length of the fixed part of a type, or -1 for an unknown type. */
static int fixed_len(uint8_t type)
{
	switch (type) {
	case GOSSIP_MSG_PING:
		return 8;
	case GOSSIP_MSG_ACK:
	case GOSSIP_MSG_NACK:
	case GOSSIP_MSG_SYNC:
		return 4;
	case GOSSIP_MSG_PING_REQ:
		return 28;
	case GOSSIP_MSG_GOSSIP:
		return 0;
	default:
		return -1;
	}
}

size_t gossip_codec_overhead(const struct gossip_auth *a, uint8_t type)
{
	int f = fixed_len(type);

	return GOSSIP_HDR_LEN + (size_t)(f < 0 ? 0 : f) + 1 +
	       gossip_auth_overhead(a);
}

static bool state_valid(uint8_t s)
{
	return s <= GOSSIP_LEFT;
}

static bool forecast_valid(const struct gossip_forecast_update *f)
{
	return f->node != STEER_NODE_NONE && f->horizon_s >= 1 &&
	       f->horizon_s <= GOSSIP_FC_HORIZON_MAX &&
	       f->cpu_permille <= f->cpu_hi && f->cpu_hi <= 1000 &&
	       f->mem_permille <= f->mem_hi && f->mem_hi <= 1000 &&
	       f->bandwidth_bps <= f->bandwidth_hi_bps;
}

bool gossip_codec_update_valid(const struct gossip_update *u)
{
	switch (u->kind) {
	case GOSSIP_UPD_MEMBER:
		return u->member.node != STEER_NODE_NONE &&
		       state_valid(u->member.state);
	case GOSSIP_UPD_SESSION:
		return u->session.owner != STEER_NODE_NONE &&
		       (u->session.op == GOSSIP_SESSION_ESTABLISHED ||
			u->session.op == GOSSIP_SESSION_CLOSED);
	case GOSSIP_UPD_LOAD:
		return u->load.node != STEER_NODE_NONE &&
		       u->load.cpu_permille <= 1000 &&
		       u->load.mem_permille <= 1000;
	case GOSSIP_UPD_FORECAST:
		return forecast_valid(&u->forecast);
	case GOSSIP_UPD_HINT:
		return u->hint.owner != STEER_NODE_NONE &&
		       u->hint.p_permille <= 1000 &&
		       !(u->hint.flags & ~GOSSIP_HINT_F_KNOWN) &&
		       u->hint.ttl_s <= GOSSIP_HINT_TTL_MAX;
	case GOSSIP_UPD_ORDER:
		return u->order.node != STEER_NODE_NONE &&
		       u->order.from != STEER_NODE_NONE &&
		       (u->order.op == GOSSIP_ORDER_DRAIN ||
			u->order.op == GOSSIP_ORDER_UNDRAIN);
	case GOSSIP_UPD_ASK:
		return u->ask.asker != STEER_NODE_NONE &&
		       (u->ask.key.proto == STEER_IPPROTO_TCP ||
			u->ask.key.proto == STEER_IPPROTO_UDP);
	default:
		return false;
	}
}

static void put_addr(struct wire *c, const struct gossip_addr *a)
{
	wire_put16(c, a->port);
	wire_putn(c, a->ip.b, 16);
}

static void get_addr(struct wire *c, struct gossip_addr *a)
{
	a->port = wire_get16(c);
	wire_getn(c, a->ip.b, 16);
}

static void put_update(struct wire *c, const struct gossip_update *u)
{
	const struct gossip_member_update *m = &u->member;
	const struct gossip_session_update *s = &u->session;
	const struct gossip_load_update *l = &u->load;
	const struct gossip_forecast_update *f = &u->forecast;
	const struct gossip_hint_update *h = &u->hint;
	const struct gossip_order_update *o = &u->order;
	const struct gossip_ask_update *a = &u->ask;

	wire_put8(c, u->kind);
	wire_put8(c, (uint8_t)(gossip_codec_update_size(u->kind) - 2));
	switch (u->kind) {
	case GOSSIP_UPD_MEMBER:
		wire_put16(c, m->node);
		wire_put8(c, m->state);
		wire_put8(c, 0);
		wire_put32(c, m->incarnation);
		wire_put16(c, m->from);
		put_addr(c, &m->addr);
		break;
	case GOSSIP_UPD_SESSION:
		wire_put16(c, s->owner);
		wire_put8(c, s->op);
		wire_put8(c, s->key.proto);
		wire_put32(c, s->epoch);
		wire_putn(c, s->key.src.b, 16);
		wire_putn(c, s->key.dst.b, 16);
		wire_putn(c, &s->key.sport, 2);
		wire_putn(c, &s->key.dport, 2);
		break;
	case GOSSIP_UPD_LOAD:
		wire_put16(c, l->node);
		wire_put16(c, l->cpu_permille);
		wire_put16(c, l->mem_permille);
		wire_put16(c, l->flags & GOSSIP_LOAD_F_KNOWN);
		wire_put64(c, l->seq);
		wire_put64(c, l->bandwidth_bps);
		wire_put32(c, l->sessions);
		wire_put32(c, 0);
		break;
	case GOSSIP_UPD_FORECAST:
		wire_put16(c, f->node);
		wire_put16(c, f->horizon_s);
		wire_put16(c, f->cpu_permille);
		wire_put16(c, f->cpu_hi);
		wire_put16(c, f->mem_permille);
		wire_put16(c, f->mem_hi);
		wire_put32(c, 0);
		wire_put64(c, f->seq);
		wire_put64(c, f->bandwidth_bps);
		wire_put64(c, f->bandwidth_hi_bps);
		break;
	case GOSSIP_UPD_HINT:
		wire_put16(c, h->owner);
		wire_put16(c, h->p_permille);
		wire_put16(c, h->ttl_s);
		wire_put8(c, h->key.proto);
		wire_put8(c, h->flags);
		wire_put32(c, h->epoch);
		wire_putn(c, h->key.src.b, 16);
		wire_putn(c, h->key.dst.b, 16);
		wire_putn(c, &h->key.sport, 2);
		wire_putn(c, &h->key.dport, 2);
		break;
	case GOSSIP_UPD_ORDER:
		wire_put16(c, o->node);
		wire_put16(c, o->from);
		wire_put8(c, o->op);
		wire_put8(c, 0);
		wire_put16(c, 0);
		wire_put64(c, o->id);
		break;
	case GOSSIP_UPD_ASK:
		wire_put16(c, a->asker);
		wire_put8(c, a->key.proto);
		wire_put8(c, 0);
		wire_putn(c, a->key.src.b, 16);
		wire_putn(c, a->key.dst.b, 16);
		wire_putn(c, &a->key.sport, 2);
		wire_putn(c, &a->key.dport, 2);
		break;
	}
}

/*
 * Decode one update. Returns 1 when an update was decoded into u, 0 when
 * one of unknown kind was skipped, -1 when malformed.
 */
static int get_update(struct wire *c, struct gossip_update *u)
{
	struct gossip_member_update *m = &u->member;
	struct gossip_session_update *s = &u->session;
	struct gossip_load_update *l = &u->load;
	struct gossip_forecast_update *f = &u->forecast;
	struct gossip_hint_update *h = &u->hint;
	struct gossip_order_update *o = &u->order;
	struct gossip_ask_update *a = &u->ask;
	size_t start, want;
	uint8_t len;

	memset(u, 0, sizeof(*u));
	u->kind = wire_get8(c);
	len = wire_get8(c);
	if (c->err || c->off + len > c->len)
		return -1;
	want = gossip_codec_update_size(u->kind);
	if (!want) {
		c->off += len;
		return 0;
	}
	if (len != want - 2)
		return -1;
	start = c->off;
	switch (u->kind) {
	case GOSSIP_UPD_MEMBER:
		m->node = wire_get16(c);
		m->state = wire_get8(c);
		wire_get_zero(c, 1);
		m->incarnation = wire_get32(c);
		m->from = wire_get16(c);
		get_addr(c, &m->addr);
		break;
	case GOSSIP_UPD_SESSION:
		s->owner = wire_get16(c);
		s->op = wire_get8(c);
		s->key.proto = wire_get8(c);
		s->epoch = wire_get32(c);
		wire_getn(c, s->key.src.b, 16);
		wire_getn(c, s->key.dst.b, 16);
		wire_getn(c, &s->key.sport, 2);
		wire_getn(c, &s->key.dport, 2);
		break;
	case GOSSIP_UPD_LOAD:
		l->node = wire_get16(c);
		l->cpu_permille = wire_get16(c);
		l->mem_permille = wire_get16(c);
		l->flags = wire_get16(c) & GOSSIP_LOAD_F_KNOWN;
		l->seq = wire_get64(c);
		l->bandwidth_bps = wire_get64(c);
		l->sessions = wire_get32(c);
		wire_get_zero(c, 4);
		break;
	case GOSSIP_UPD_FORECAST:
		f->node = wire_get16(c);
		f->horizon_s = wire_get16(c);
		f->cpu_permille = wire_get16(c);
		f->cpu_hi = wire_get16(c);
		f->mem_permille = wire_get16(c);
		f->mem_hi = wire_get16(c);
		wire_get_zero(c, 4);
		f->seq = wire_get64(c);
		f->bandwidth_bps = wire_get64(c);
		f->bandwidth_hi_bps = wire_get64(c);
		break;
	case GOSSIP_UPD_HINT:
		h->owner = wire_get16(c);
		h->p_permille = wire_get16(c);
		h->ttl_s = wire_get16(c);
		h->key.proto = wire_get8(c);
		h->flags = wire_get8(c);
		h->epoch = wire_get32(c);
		wire_getn(c, h->key.src.b, 16);
		wire_getn(c, h->key.dst.b, 16);
		wire_getn(c, &h->key.sport, 2);
		wire_getn(c, &h->key.dport, 2);
		break;
	case GOSSIP_UPD_ORDER:
		o->node = wire_get16(c);
		o->from = wire_get16(c);
		o->op = wire_get8(c);
		wire_get_zero(c, 3);
		o->id = wire_get64(c);
		break;
	case GOSSIP_UPD_ASK:
		a->asker = wire_get16(c);
		a->key.proto = wire_get8(c);
		wire_get_zero(c, 1);
		wire_getn(c, a->key.src.b, 16);
		wire_getn(c, a->key.dst.b, 16);
		wire_getn(c, &a->key.sport, 2);
		wire_getn(c, &a->key.dport, 2);
		break;
	}
	if (c->err || c->off - start != len || !gossip_codec_update_valid(u))
		return -1;
	return 1;
}

static void put_fixed(struct wire *c, const struct gossip_msg *m)
{
	switch (m->type) {
	case GOSSIP_MSG_PING:
		wire_put16(c, m->target);
		wire_put16(c, 0);
		wire_put32(c, m->probe_seq);
		break;
	case GOSSIP_MSG_ACK:
	case GOSSIP_MSG_NACK:
		wire_put32(c, m->probe_seq);
		break;
	case GOSSIP_MSG_PING_REQ:
		wire_put16(c, m->target);
		wire_put16(c, 0);
		wire_put32(c, m->probe_seq);
		wire_putn(c, m->target_addr.ip.b, 16);
		wire_put16(c, m->target_addr.port);
		wire_put16(c, 0);
		break;
	case GOSSIP_MSG_SYNC:
		wire_put8(c, m->sync_flags);
		wire_put8(c, 0);
		wire_put16(c, 0);
		break;
	}
}

static void get_fixed(struct wire *c, struct gossip_msg *m)
{
	switch (m->type) {
	case GOSSIP_MSG_PING:
		m->target = wire_get16(c);
		wire_get_zero(c, 2);
		m->probe_seq = wire_get32(c);
		break;
	case GOSSIP_MSG_ACK:
	case GOSSIP_MSG_NACK:
		m->probe_seq = wire_get32(c);
		break;
	case GOSSIP_MSG_PING_REQ:
		m->target = wire_get16(c);
		wire_get_zero(c, 2);
		m->probe_seq = wire_get32(c);
		wire_getn(c, m->target_addr.ip.b, 16);
		m->target_addr.port = wire_get16(c);
		wire_get_zero(c, 2);
		if (m->target == STEER_NODE_NONE)
			c->err = true;
		break;
	case GOSSIP_MSG_SYNC:
		m->sync_flags = wire_get8(c);
		wire_get_zero(c, 3);
		if (m->sync_flags & ~GOSSIP_SYNC_PULL)
			c->err = true;
		break;
	}
}

int gossip_codec_encode(const struct gossip_auth *a, const struct gossip_msg *m,
			uint8_t *buf, size_t cap)
{
	struct wire c = {.p = buf, .len = cap};
	size_t body_len, total;
	uint16_t i;

	if (fixed_len(m->type) < 0 || m->n_updates > GOSSIP_MAX_UPDATES ||
	    m->sender == STEER_NODE_NONE)
		return -EINVAL;
	body_len = (size_t)fixed_len(m->type) + 1;
	for (i = 0; i < m->n_updates; i++) {
		if (!gossip_codec_update_valid(&m->updates[i]))
			return -EINVAL;
		body_len += gossip_codec_update_size(m->updates[i].kind);
	}
	total = GOSSIP_HDR_LEN + body_len + gossip_auth_overhead(a);
	if (total > cap || total > GOSSIP_DGRAM_MAX)
		return -EMSGSIZE;
	wire_put16(&c, GOSSIP_MAGIC);
	wire_put8(&c, GOSSIP_VERSION);
	wire_put8(&c, m->type);
	wire_put8(&c, a->encrypt ? GOSSIP_FLAG_ENCRYPTED : 0);
	wire_put8(&c, 0);
	wire_put16(&c, m->sender);
	wire_put32(&c, m->incarnation);
	wire_put64(&c, m->seq);
	wire_put16(&c, (uint16_t)body_len);
	wire_put16(&c, 0);
	put_fixed(&c, m);
	wire_put8(&c, (uint8_t)m->n_updates);
	for (i = 0; i < m->n_updates; i++)
		put_update(&c, &m->updates[i]);
	if (c.err || c.off != GOSSIP_HDR_LEN + body_len)
		return -EMSGSIZE;
	return (int)gossip_auth_seal(a, buf, GOSSIP_HDR_LEN, body_len);
}

/* Header checks that need no key, in the order a reason is counted. */
static enum gossip_rx_reason check_header(const struct gossip_auth *a,
					  struct wire *c, struct gossip_msg *m,
					  size_t len, size_t *body_len)
{
	uint8_t flags;

	if (len > GOSSIP_DGRAM_MAX)
		return GOSSIP_RX_OVERSIZE;
	if (len < GOSSIP_HDR_LEN)
		return GOSSIP_RX_SHORT;
	if (wire_get16(c) != GOSSIP_MAGIC)
		return GOSSIP_RX_MAGIC;
	if (wire_get8(c) != GOSSIP_VERSION)
		return GOSSIP_RX_VERSION;
	m->type = wire_get8(c);
	if (fixed_len(m->type) < 0)
		return GOSSIP_RX_TYPE;
	flags = wire_get8(c);
	if (flags != (a->encrypt ? GOSSIP_FLAG_ENCRYPTED : 0))
		return GOSSIP_RX_MODE;
	if (wire_get8(c))
		return GOSSIP_RX_MALFORMED;
	m->sender = wire_get16(c);
	m->incarnation = wire_get32(c);
	m->seq = wire_get64(c);
	*body_len = wire_get16(c);
	if (wire_get16(c))
		return GOSSIP_RX_MALFORMED;
	if (len < GOSSIP_HDR_LEN + *body_len + gossip_auth_overhead(a))
		return GOSSIP_RX_SHORT;
	if (len != GOSSIP_HDR_LEN + *body_len + gossip_auth_overhead(a))
		return GOSSIP_RX_LENGTH;
	if (m->sender == STEER_NODE_NONE)
		return GOSSIP_RX_MALFORMED;
	return GOSSIP_RX_OK;
}

enum gossip_rx_reason gossip_codec_decode(const struct gossip_auth *a,
					  const uint8_t *buf, size_t len,
					  struct gossip_msg *m,
					  uint32_t *unknown)
{
	uint8_t body[GOSSIP_DGRAM_MAX];
	struct wire c = {.p = (uint8_t *)buf, .len = len};
	enum gossip_rx_reason r;
	size_t body_len = 0;
	uint8_t i, n;
	int got;

	*unknown = 0;
	memset(m, 0, offsetof(struct gossip_msg, updates));
	r = check_header(a, &c, m, len, &body_len);
	if (r != GOSSIP_RX_OK)
		return r;
	if (gossip_auth_open(a, buf, len, GOSSIP_HDR_LEN, body_len, body))
		return GOSSIP_RX_AUTH;
	/* From here on the sender holds the cluster key: a malformed body is
	 * a bug or a version skew, still refused whole. */
	c = (struct wire){.p = body, .len = body_len};
	get_fixed(&c, m);
	n = wire_get8(&c);
	if (c.err || n > GOSSIP_MAX_UPDATES)
		return GOSSIP_RX_MALFORMED;
	for (i = 0; i < n; i++) {
		got = get_update(&c, &m->updates[m->n_updates]);
		if (got < 0)
			return GOSSIP_RX_MALFORMED;
		if (got == 0)
			(*unknown)++;
		else
			m->n_updates++;
	}
	if (c.err || c.off != c.len)
		return GOSSIP_RX_MALFORMED;
	return GOSSIP_RX_OK;
}

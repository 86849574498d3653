// SPDX-License-Identifier: GPL-2.0-only
/*
 * gossip_seeds DIR: the fuzz_gossip target's seed corpus, made of real
 * gossip: a node (id 1) of the target's cluster (its key, members 2..8,
 * the target's own node 100) runs the protocol on a simulated clock,
 * probes, gossips, syncs, announces and closes sessions, reports its load
 * and forecast, hints, orders and asks, and every datagram it sends is
 * kept. Each seed is a script in the target's format (fuzz_gossip.c):
 * the mode byte, then "deliver raw datagram from node 1" records, with
 * clock steps between them; one seed per activity and mode (plain,
 * encrypted).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gossip/gossip.h"
#include "gossip/gossip_codec.h"

#define SEED_SELF 100 /* the target's node */
#define SEED_NODE 1   /* the sender, a member the target knows */
#define SEED_MAX 16384

struct seeder {
	struct gossip_auth auth; /* the target's key, this seed's mode */
	uint64_t now;
	uint8_t out[SEED_MAX];
	size_t len;
	unsigned int dgrams, refused;
};

static void addr_of(uint32_t i, struct gossip_addr *a)
{
	memset(a, 0, sizeof(*a));
	flow_addr_set_v4(&a->ip, __builtin_bswap32(0x0a000000u + i));
	a->port = GOSSIP_PORT;
}

static uint64_t sd_now(void *ctx)
{
	return ((struct seeder *)ctx)->now;
}

/* Each datagram: op 0x10 (raw, from node 1), its length, its bytes. */
static int sd_send(void *ctx, const struct gossip_addr *to, const void *buf,
		   size_t len)
{
	static struct gossip_msg m;
	struct seeder *s = ctx;
	uint32_t unknown;

	/* What the target's node will be given must pass its checks. */
	if (gossip_codec_decode(&s->auth, buf, len, &m, &unknown) !=
	    GOSSIP_RX_OK)
		s->refused++;
	if (s->len + 3 + len > sizeof(s->out))
		return 0;
	s->out[s->len++] = 0x10;
	s->out[s->len++] = (uint8_t)(len >> 8);
	s->out[s->len++] = (uint8_t)len;
	memcpy(s->out + s->len, buf, len);
	s->len += len;
	s->dgrams++;
	return 0;
}

/* The clock moves on ms (as a target's time record too) and ticks. */
static void sd_wait(struct seeder *s, struct gossip *g, uint32_t ms)
{
	uint32_t step;

	for (; ms; ms -= step) {
		step = ms > 2000 ? 2000 : ms;
		s->now += step;
		if (s->len + 2 <= sizeof(s->out)) {
			s->out[s->len++] = 0x02;
			s->out[s->len++] = (uint8_t)(step / 8);
		}
		gossip_tick(g);
	}
}

static struct gossip *sd_node(struct seeder *s, int mode)
{
	static const struct gossip_events ev;
	struct gossip_io io = {.ctx = s, .now_ms = sd_now, .send = sd_send};
	struct gossip_addr seeds[1];
	struct gossip_config cfg;
	struct gossip *g;

	gossip_config_default(&cfg);
	cfg.self_id = SEED_NODE;
	addr_of(SEED_NODE, &cfg.self);
	memset(cfg.key.b, 0x5a, sizeof(cfg.key.b));
	if (gossip_auth_init(&s->auth, &cfg.key, mode))
		return NULL;
	cfg.encrypt = mode;
	cfg.seed = 7;
	cfg.seq_start = 1000; /* above the target's own first message */
	s->now = 1000000;
	g = gossip_new(&cfg, &io, &ev);
	if (!g)
		return NULL;
	addr_of(SEED_SELF, &seeds[0]);
	gossip_join(g, seeds, 1);
	return g;
}

static void sd_key(struct flow_key *k, uint32_t i)
{
	memset(k, 0, sizeof(*k));
	k->proto = 6;
	flow_addr_set_v4(&k->src, __builtin_bswap32(0xc6120000u + i));
	flow_addr_set_v4(&k->dst, __builtin_bswap32(0xc6126401u));
	k->sport = (uint16_t)(1024 + i);
	k->dport = 80;
}

/* What node 1 does in seed `what`. */
static void sd_act(struct seeder *s, struct gossip *g, int what)
{
	struct gossip_hint_update h;
	struct flow_key k;
	uint16_t to = SEED_SELF;
	uint32_t i;

	switch (what) {
	case 0: /* joining, then probes and gossip rounds */
		sd_wait(s, g, 5000);
		break;
	case 1: /* sessions announced, then closed */
		for (i = 0; i < 12; i++) {
			sd_key(&k, i);
			gossip_session_announce(g, &k, SEED_NODE, 1 + i);
		}
		sd_wait(s, g, 300);
		for (i = 0; i < 4; i++) {
			sd_key(&k, i);
			gossip_session_close(g, &k, SEED_NODE, 20 + i);
		}
		sd_wait(s, g, 300);
		break;
	case 2: /* load reports */
		gossip_load_report(g, 420, 300, 1000000000ull, 12);
		gossip_drained_set(g, true);
		sd_wait(s, g, 1200);
		gossip_load_report(g, 910, 500, 2000000000ull, 40);
		sd_wait(s, g, 1200);
		break;
	case 3: /* a hint, an order, an ask */
		memset(&h, 0, sizeof(h));
		sd_key(&h.key, 77);
		h.owner = SEED_NODE;
		h.p_permille = 700;
		h.epoch = 1;
		h.ttl_s = 30;
		gossip_hint_send(g, &to, 1, &h, 1);
		gossip_order_send(g, SEED_SELF, 1);
		sd_key(&k, 78);
		gossip_dir_ask(g, &k);
		sd_wait(s, g, 300);
		break;
	case 4: /* anti-entropy: a long wait */
		for (i = 0; i < 6; i++) {
			sd_key(&k, 100 + i);
			gossip_session_announce(g, &k, SEED_NODE, 1);
		}
		sd_wait(s, g, 40000);
		break;
	}
}

static int sd_write(const char *dir, int mode, int what, struct seeder *s)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/gossip-%s-%d", dir,
		 mode ? "encrypted" : "plain", what);
	f = fopen(path, "wb");
	if (!f || fwrite(s->out, 1, s->len, f) != s->len) {
		perror(path);
		if (f)
			fclose(f);
		return -1;
	}
	return fclose(f) ? -1 : 0;
}

int main(int argc, char **argv)
{
	static struct seeder s;
	struct gossip *g;
	int mode, what;

	if (argc != 2) {
		fprintf(stderr, "usage: gossip_seeds DIR\n");
		return 2;
	}
	for (mode = 0; mode < 2; mode++)
		for (what = 0; what < 5; what++) {
			memset(&s, 0, sizeof(s));
			s.out[s.len++] = (uint8_t)mode;
			g = sd_node(&s, mode);
			if (!g)
				return 1;
			sd_act(&s, g, what);
			gossip_free(g);
			gossip_auth_wipe(&s.auth);
			if (!s.dgrams || s.refused) {
				fprintf(stderr,
					"seed %d: %u datagrams, %u not "
					"accepted\n",
					what, s.dgrams, s.refused);
				return 1;
			}
			if (sd_write(argv[1], mode, what, &s))
				return 1;
			printf("gossip-%s-%d: %u datagrams, %zu bytes\n",
			       mode ? "encrypted" : "plain", what, s.dgrams,
			       s.len);
		}
	return 0;
}

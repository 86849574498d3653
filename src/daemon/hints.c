// SPDX-License-Identifier: GPL-2.0-only
/*
 * Migration hints, the owner's half (hints.h).
 */
#include "daemon/hints.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/drain.h"
#include "daemon/host.h"
#include "daemon/migrations.h"
#include "daemon/node_fc.h"
#include "daemon/steerd.h"
#include "daemon/steerd_gossip.h"
#include "node/flow_tele.h"
#include "predict/migrate.h"

#define HINTS_NB 1024 /* buckets (a power of two); chains grow beyond */
#define HINTS_RECEIVERS_MAX 1024
#define HINTS_TRACKED_MAX 256
#define HINTS_JOINERS_MAX 16

struct hint_rec {
	struct hint_rec *next;
	struct flow_key key;
	uint64_t sent_ms;
	uint16_t p_permille;
	bool seen; /* scored in this round */
};

/* A session hinted to a joining node (one record per joiner). */
struct join_rec {
	struct join_rec *next;
	struct flow_key key;
	uint16_t to;
};

struct hints {
	struct hint_rec *b[HINTS_NB];
	struct join_rec *jb[HINTS_NB];
	uint16_t joiners[HINTS_JOINERS_MAX];
	uint32_t n_joiners;
	uint16_t join_p; /* permille: a joiner's share of the ingress */
	struct hints_stats st;
	uint16_t to[HINTS_RECEIVERS_MAX];
	uint32_t n_to;
	/* This round's inputs. */
	struct steerd *d;
	uint64_t now;
	uint16_t p_node;
	struct flow_key tracked[HINTS_TRACKED_MAX];
	uint16_t tracked_p[HINTS_TRACKED_MAX];
	uint32_t n_tracked;
	struct steer_hash_secret secret;
};

struct hints *hints_new(void)
{
	struct hints *hs = calloc(1, sizeof(*hs));

	if (hs) {
		hs->secret.k0 = 0x68696e74732d6b30ull;
		hs->secret.k1 = 0x68696e74732d6b31ull;
	}
	return hs;
}

/* Every join record out: no node joins any more. */
static void hints_join_forget(struct hints *hs)
{
	struct join_rec *j, *next;
	uint32_t i;

	for (i = 0; i < HINTS_NB; i++) {
		for (j = hs->jb[i]; j; j = next) {
			next = j->next;
			free(j);
		}
		hs->jb[i] = NULL;
	}
	hs->st.join_held = 0;
}

void hints_free(struct hints *hs)
{
	struct hint_rec *r, *next;
	uint32_t i;

	if (!hs)
		return;
	for (i = 0; i < HINTS_NB; i++)
		for (r = hs->b[i]; r; r = next) {
			next = r->next;
			free(r);
		}
	hints_join_forget(hs);
	free(hs);
}

static struct hint_rec **hints_slot(struct hints *hs, const struct flow_key *k)
{
	struct hint_rec **pp =
		&hs->b[flow_hash(k, &hs->secret) & (HINTS_NB - 1)];

	while (*pp && !flow_key_equal(&(*pp)->key, k))
		pp = &(*pp)->next;
	return pp;
}

static struct join_rec **hints_join_slot(struct hints *hs,
					 const struct flow_key *k, uint16_t to)
{
	uint64_t h = flow_hash(k, &hs->secret) + to * 0x9e3779b97f4a7c15ull;
	struct join_rec **pp = &hs->jb[(h >> 32) & (HINTS_NB - 1)];

	while (*pp && ((*pp)->to != to || !flow_key_equal(&(*pp)->key, k)))
		pp = &(*pp)->next;
	return pp;
}

/*
 * The nodes a hint goes to: live, undrained, not this one; and the
 * joiners: live, drained and joining. A joiner's share of the ingress
 * when it is in: one of the undrained nodes (this one too, unless
 * drained) and the joiners.
 */
static void hints_receivers(struct hints *hs, struct gossip *g, uint16_t self,
			    bool self_drained)
{
	static struct gossip_member_info mi[HINTS_RECEIVERS_MAX];
	uint32_t n = gossip_members(g, mi, HINTS_RECEIVERS_MAX), i, ingress;
	uint16_t flags;

	hs->n_to = 0;
	hs->n_joiners = 0;
	for (i = 0; i < n && i < HINTS_RECEIVERS_MAX; i++) {
		if (mi[i].id == self || mi[i].state != GOSSIP_ALIVE)
			continue;
		flags = mi[i].has_load ? mi[i].load.flags : 0;
		if (!(flags & GOSSIP_LOAD_F_DRAINED))
			hs->to[hs->n_to++] = mi[i].id;
		else if ((flags & GOSSIP_LOAD_F_JOINING) &&
			 hs->n_joiners < HINTS_JOINERS_MAX)
			hs->joiners[hs->n_joiners++] = mi[i].id;
	}
	ingress = hs->n_to + hs->n_joiners + !self_drained;
	hs->join_p = (uint16_t)(ingress ? 1000 / ingress : 1000);
	if (!hs->join_p)
		hs->join_p = 1;
	hs->st.receivers = hs->n_to;
	hs->st.joiners = hs->n_joiners;
}

/* One hint (p 0: withdrawn) to the n nodes of to; 0 or -errno. */
static int hints_send_to(struct hints *hs, const uint16_t *to, uint32_t n,
			 const struct flow_key *k, uint16_t p_permille,
			 uint8_t flags)
{
	struct gossip *g = steerd_gossip_node(hs->d->gossip);
	const struct steerd_conf *c = &hs->d->world->conf;
	struct gossip_hint_update h = {.p_permille = p_permille,
				       .ttl_s = c->hint_ttl_s,
				       .flags = flags,
				       .key = *k};
	struct gossip_session_info si;
	uint32_t copies = 1 + (uint32_t)(2 * p_permille / 1000);

	if (!gossip_session_lookup(g, k, &si))
		h.epoch = si.epoch;
	if (copies > 3)
		copies = 3;
	if (!n)
		return 0;
	return gossip_hint_send(g, to, n, &h, p_permille ? copies : 1);
}

/* One hint (p 0: withdrawn) to every receiver. */
static void hints_send(struct hints *hs, const struct flow_key *k,
		       uint16_t p_permille)
{
	if (hs->n_to && !hints_send_to(hs, hs->to, hs->n_to, k, p_permille, 0))
		hs->st.sent += hs->n_to;
}

/* A session to each joiner that has not had it yet. */
static void hints_join_one(const struct flow_key *k, void *arg)
{
	struct hints *hs = arg;
	struct join_rec **pp, *j;
	uint32_t i;

	for (i = 0; i < hs->n_joiners; i++) {
		pp = hints_join_slot(hs, k, hs->joiners[i]);
		if (*pp)
			continue;
		j = calloc(1, sizeof(*j));
		if (!j)
			return;
		j->key = *k;
		j->to = hs->joiners[i];
		*pp = j;
		hs->st.join_held++;
		if (!hints_send_to(hs, &j->to, 1, k, hs->join_p,
				   GOSSIP_HINT_F_JOIN))
			hs->st.join_sent++;
	}
}

static uint16_t hints_p_of(const struct hints *hs, const struct flow_key *k)
{
	uint32_t i;

	for (i = 0; i < hs->n_tracked; i++)
		if (flow_key_equal(&hs->tracked[i], k))
			return hs->tracked_p[i];
	return hs->p_node;
}

static void hints_one(const struct flow_key *k, void *arg)
{
	struct hints *hs = arg;
	const struct steerd_conf *c = &hs->d->world->conf;
	uint16_t p = hints_p_of(hs, k);
	struct hint_rec **pp = hints_slot(hs, k), *r = *pp;

	hs->st.scored++;
	if (p < c->hint_threshold) {
		if (r) { /* the score fell: its hint runs out at its ttl */
			*pp = r->next;
			free(r);
			hs->st.held--;
		}
		return;
	}
	if (!r) {
		r = calloc(1, sizeof(*r));
		if (!r)
			return;
		r->key = *k;
		*pp = r;
		hs->st.hinted++;
		hs->st.held++;
	} else if (hs->now < r->sent_ms + c->hint_ttl_s * 500ull &&
		   p < r->p_permille + 100) {
		r->seen = true;
		return;
	}
	r->seen = true;
	r->sent_ms = hs->now;
	r->p_permille = p;
	hints_send(hs, k, p);
}

/* This round's scores: the node's for any session, the tracked ones'. */
static void hints_scores(struct hints *hs, struct steerd *d)
{
	const struct flow_tele *ft = node_fc_sessions(d->nfc);
	struct migrate_session s = {0};
	struct flow_tele_view v;
	struct migrate_weights wt;
	struct migrate_node node;
	struct migrate_score sc;
	double sum = 0;
	uint32_t i, n = ft ? flow_tele_count(ft) : 0;

	migrations_self(d, &node);
	migrate_weights_default(&wt);
	migrate_score(&wt, &node, &s, STEER_NODE_NONE, 0, &sc);
	hs->p_node = (uint16_t)lround(sc.p * 1000);
	for (i = 0; i < n; i++)
		if (!flow_tele_get(ft, i, &v))
			sum += v.avg_rate;
	hs->n_tracked = 0;
	for (i = 0; i < n && hs->n_tracked < HINTS_TRACKED_MAX; i++) {
		if (flow_tele_get(ft, i, &v))
			continue;
		s.rtt_trend_us_s = v.rtt_trend_us_per_s;
		s.share = sum > 0 ? v.avg_rate / sum : 0;
		migrate_score(&wt, &node, &s, STEER_NODE_NONE, 0, &sc);
		hs->tracked[hs->n_tracked] = v.key;
		hs->tracked_p[hs->n_tracked++] = (uint16_t)lround(sc.p * 1000);
	}
}

void hints_tick(struct hints *hs, struct steerd *d)
{
	struct hint_rec **pp, *r;
	uint32_t i;

	if (!hs || !d->host || !d->gossip || !d->world->conf.hints)
		return;
	hs->d = d;
	hs->now = evloop_now_ms();
	hs->st.rounds++;
	hints_scores(hs, d);
	hints_receivers(hs, steerd_gossip_node(d->gossip),
			cluster_self(&d->world->cluster)->ep.id,
			drain_is(&d->drain));
	for (i = 0; i < HINTS_NB; i++)
		for (r = hs->b[i]; r; r = r->next)
			r->seen = false;
	host_sessions_foreach(d->host, hints_one, hs);
	/* Hinted sessions gone without a close heard: forgotten. */
	for (i = 0; i < HINTS_NB; i++) {
		pp = &hs->b[i];
		while ((r = *pp)) {
			if (r->seen) {
				pp = &r->next;
				continue;
			}
			*pp = r->next;
			free(r);
			hs->st.held--;
		}
	}
	/* Nodes joining the ingress set: every session, once each. */
	if (hs->n_joiners)
		host_sessions_foreach(d->host, hints_join_one, hs);
	else if (hs->st.join_held)
		hints_join_forget(hs);
	steerd_gossip_kick(d->gossip);
}

/* A closed session's join hints withdrawn. */
static void hints_join_closed(struct hints *hs, const struct flow_key *k)
{
	struct join_rec **pp, *j;
	uint32_t i;

	for (i = 0; i < hs->n_joiners; i++) {
		pp = hints_join_slot(hs, k, hs->joiners[i]);
		if (!(j = *pp))
			continue;
		hints_send_to(hs, &j->to, 1, k, 0, GOSSIP_HINT_F_JOIN);
		hs->st.withdrawn++;
		*pp = j->next;
		free(j);
		hs->st.join_held--;
	}
}

void hints_closed(struct hints *hs, struct steerd *d, const struct flow_key *k)
{
	struct hint_rec **pp, *r;

	if (!hs || !d->gossip)
		return;
	pp = hints_slot(hs, k);
	r = *pp;
	if (!r && !hs->st.join_held)
		return;
	hs->d = d;
	hints_receivers(hs, steerd_gossip_node(d->gossip),
			cluster_self(&d->world->cluster)->ep.id,
			drain_is(&d->drain));
	if (hs->st.join_held)
		hints_join_closed(hs, k);
	if (!r)
		return;
	hints_send(hs, k, 0);
	hs->st.withdrawn++;
	*pp = r->next;
	free(r);
	hs->st.held--;
}

const struct hints_stats *hints_stats(const struct hints *hs)
{
	return &hs->st;
}

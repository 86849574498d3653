// SPDX-License-Identifier: GPL-2.0-only
/*
 * Gossiped session table (see gossip_session.h): chained hash on the
 * keyed flow hash, doubled when the load passes one entry per bucket.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "gossip/gossip_session.h"

int gossip_sessions_init(struct gossip_sessions *s, uint64_t seed)
{
	memset(s, 0, sizeof(*s));
	s->nb = 256;
	s->b = calloc(s->nb, sizeof(*s->b));
	if (!s->b)
		return -ENOMEM;
	s->secret.k0 = seed ^ 0x9e3779b97f4a7c15ull;
	s->secret.k1 = (seed << 1) ^ 0xc2b2ae3d27d4eb4full;
	return 0;
}

void gossip_sessions_free(struct gossip_sessions *s)
{
	struct gossip_session *e, *next;
	uint32_t i;

	for (i = 0; i < s->nb; i++)
		for (e = s->b[i]; e; e = next) {
			next = e->next;
			free(e);
		}
	free(s->b);
	memset(s, 0, sizeof(*s));
}

static uint32_t bucket(const struct gossip_sessions *s,
		       const struct flow_key *k, uint32_t nb)
{
	return (uint32_t)flow_hash(k, &s->secret) & (nb - 1);
}

static struct gossip_session **slot(const struct gossip_sessions *s,
				    const struct flow_key *k)
{
	struct gossip_session **pp = &s->b[bucket(s, k, s->nb)];

	while (*pp && !flow_key_equal(&(*pp)->info.key, k))
		pp = &(*pp)->next;
	return pp;
}

const struct gossip_session *
gossip_sessions_find(const struct gossip_sessions *s, const struct flow_key *k)
{
	return *slot(s, k);
}

/* Best effort: a failed doubling leaves longer chains, nothing else. */
static void grow(struct gossip_sessions *s)
{
	uint32_t nb = s->nb * 2, i, h;
	struct gossip_session **b, *e, *next;

	b = calloc(nb, sizeof(*b));
	if (!b)
		return;
	for (i = 0; i < s->nb; i++)
		for (e = s->b[i]; e; e = next) {
			next = e->next;
			h = bucket(s, &e->info.key, nb);
			e->next = b[h];
			b[h] = e;
		}
	free(s->b);
	s->b = b;
	s->nb = nb;
}

/* Does u beat the entry held? The same total order on every node. */
static bool wins(const struct gossip_session_update *u,
		 const struct gossip_session_info *cur)
{
	if (u->epoch != cur->epoch)
		return u->epoch > cur->epoch;
	if (u->op != cur->state)
		return u->op == GOSSIP_SESSION_CLOSED;
	return u->owner > cur->owner;
}

int gossip_sessions_apply(struct gossip_sessions *s,
			  const struct gossip_session_update *u, uint64_t now,
			  struct gossip_session_info *out)
{
	struct gossip_session **pp = slot(s, &u->key), *e = *pp;

	if (e && !wins(u, &e->info)) {
		if (u->epoch == e->info.epoch && u->op == e->info.state &&
		    u->owner == e->info.owner)
			e->seen_ms = now;
		return 0;
	}
	if (!e) {
		e = calloc(1, sizeof(*e));
		if (!e)
			return -ENOMEM;
		e->info.key = u->key;
		memset(e->taught, 0xff, sizeof(e->taught));
		*pp = e;
		s->n++;
	} else if (e->info.state == GOSSIP_SESSION_ESTABLISHED) {
		s->n_established--;
	}
	e->info.owner = u->owner;
	e->info.state = u->op;
	e->info.epoch = u->epoch;
	e->changed_ms = now;
	e->seen_ms = now;
	if (u->op == GOSSIP_SESSION_ESTABLISHED)
		s->n_established++;
	*out = e->info;
	if (s->n > s->nb)
		grow(s);
	return 1;
}

int gossip_sessions_remove(struct gossip_sessions *s, const struct flow_key *k)
{
	struct gossip_session **pp = slot(s, k), *e = *pp;

	if (!e)
		return -ENOENT;
	*pp = e->next;
	if (e->info.state == GOSSIP_SESSION_ESTABLISHED)
		s->n_established--;
	s->n--;
	free(e);
	return 0;
}

void gossip_sessions_expire(struct gossip_sessions *s, uint64_t now,
			    uint64_t ttl_ms)
{
	struct gossip_session **pp, *e;
	uint32_t i;

	for (i = 0; i < s->nb; i++) {
		pp = &s->b[i];
		while ((e = *pp)) {
			if (e->info.state == GOSSIP_SESSION_CLOSED &&
			    now >= e->changed_ms + ttl_ms) {
				*pp = e->next;
				free(e);
				s->n--;
			} else {
				pp = &e->next;
			}
		}
	}
}

const struct gossip_session *
gossip_sessions_next(const struct gossip_sessions *s, uint32_t *bucket_i,
		     const struct gossip_session *prev)
{
	if (prev && prev->next)
		return prev->next;
	if (prev)
		(*bucket_i)++;
	for (; *bucket_i < s->nb; (*bucket_i)++)
		if (s->b[*bucket_i])
			return s->b[*bucket_i];
	*bucket_i = 0;
	return NULL;
}

void gossip_session_to_update(const struct gossip_session *e,
			      struct gossip_session_update *u)
{
	memset(u, 0, sizeof(*u));
	u->owner = e->info.owner;
	u->op = (uint8_t)e->info.state;
	u->epoch = e->info.epoch;
	u->key = e->info.key;
}

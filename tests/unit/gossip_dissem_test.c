// SPDX-License-Identifier: GPL-2.0-only
/*
 * Gossip dissemination queue: random pushes, fills and push takes
 * checked against a plain reference model (subject -> update,
 * transmissions, push mark): the same items are queued with the same
 * counts, a fill takes the best items (members before sessions before
 * loads, least sent first) and never one twice, a push take is members
 * first then first marked first, items leave at the limit (also when it
 * falls), counters match; plus overflow, which drops the worst item.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gossip/gossip_dissem.h"

#define SUBJECTS 80 /* 20 members, 50 sessions, 10 loads */

struct ref {
	bool used;
	struct gossip_update u;
	uint32_t transmits;
	bool push;
	uint64_t push_seq;
};

struct fx {
	struct gossip_dissem d;
	struct ref r[SUBJECTS];
	uint64_t rng;
	uint64_t push_seq;
	struct gossip_update out[GOSSIP_MAX_UPDATES + 64];
};

static uint32_t rnd(struct fx *f, uint32_t n)
{
	uint64_t z = (f->rng += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return (uint32_t)((z ^ (z >> 31)) % n);
}

/* Subject s as an update; v varies the payload (a newer update). */
static void make(struct gossip_update *u, uint32_t s, uint32_t v)
{
	memset(u, 0, sizeof(*u));
	if (s < 20) {
		u->kind = GOSSIP_UPD_MEMBER;
		u->member.node = (uint16_t)(s + 1);
		u->member.incarnation = v;
	} else if (s < 70) {
		u->kind = GOSSIP_UPD_SESSION;
		flow_addr_set_v4(&u->session.key.src, s);
		u->session.key.proto = 6;
		u->session.owner = 1;
		u->session.op = GOSSIP_SESSION_ESTABLISHED;
		u->session.epoch = v;
	} else {
		u->kind = GOSSIP_UPD_LOAD;
		u->load.node = (uint16_t)(s - 69);
		u->load.seq = v;
	}
}

/* The reference subject of an update. */
static uint32_t subject(const struct gossip_update *u)
{
	switch (u->kind) {
	case GOSSIP_UPD_MEMBER:
		return u->member.node - 1u;
	case GOSSIP_UPD_SESSION:
		return u->session.key.src.w[3];
	default:
		return u->load.node + 69u;
	}
}

static uint32_t cls(uint32_t s)
{
	return s < 20 ? 0 : s < 70 ? 1 : 2;
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	gossip_dissem_init(&f->d, 1000);
	f->rng = 7;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	gossip_dissem_free(&f->d);
	free(f);
	return 0;
}

static void check_counts(struct fx *f)
{
	uint32_t s, n = 0, n_push = 0;
	size_t bytes = 0;

	for (s = 0; s < SUBJECTS; s++) {
		if (!f->r[s].used)
			continue;
		n++;
		n_push += f->r[s].push;
		bytes += gossip_codec_update_size(f->r[s].u.kind);
	}
	assert_int_equal(f->d.n, n);
	assert_int_equal(f->d.n_push, n_push);
	assert_int_equal(f->d.bytes, bytes);
}

static void ref_retire(struct fx *f, uint32_t limit)
{
	uint32_t s;

	if (limit > GOSSIP_DISSEM_TX_MAX)
		limit = GOSSIP_DISSEM_TX_MAX;
	for (s = 0; s < SUBJECTS; s++)
		if (f->r[s].used && f->r[s].transmits >= limit)
			f->r[s].used = false;
}

static void op_push(struct fx *f)
{
	uint32_t s = rnd(f, SUBJECTS);
	bool push = rnd(f, 3) == 0;
	struct ref *r = &f->r[s];

	make(&r->u, s, rnd(f, 1000));
	assert_int_equal(gossip_dissem_push(&f->d, &r->u, push), 0);
	/* A replaced item's push carries over, marked anew. */
	push |= r->used && r->push;
	r->used = true;
	r->transmits = 0;
	r->push = push;
	if (push)
		r->push_seq = ++f->push_seq;
}

/* Key of an item: class, then transmissions. */
static uint32_t key(const struct ref *r, uint32_t s)
{
	return cls(s) << 16 | r->transmits;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static void op_fill(struct fx *f, bool roomy)
{
	uint32_t limit = 2 + rnd(f, 6), keys[SUBJECTS], want[SUBJECTS];
	uint16_t max = (uint16_t)(1 + rnd(f, 20)), got, i;
	size_t room = roomy ? 100000 : 30 + rnd(f, 400), used = 0;
	bool seen[SUBJECTS] = {false};
	uint32_t s, n = 0, prev = 0;

	ref_retire(f, limit);
	for (s = 0; s < SUBJECTS; s++)
		if (f->r[s].used)
			want[n++] = key(&f->r[s], s);
	qsort(want, n, sizeof(*want), cmp_u32);
	got = gossip_dissem_fill(&f->d, f->out, max, room, limit);
	assert_true(got <= max);
	for (i = 0; i < got; i++) {
		s = subject(&f->out[i]);
		assert_true(s < SUBJECTS);
		assert_true(f->r[s].used);
		assert_false(seen[s]);
		seen[s] = true;
		assert_memory_equal(&f->out[i], &f->r[s].u, sizeof(f->out[i]));
		keys[i] = key(&f->r[s], s);
		/* Best first. */
		assert_true(keys[i] >= prev);
		prev = keys[i];
		used += gossip_codec_update_size(f->out[i].kind);
	}
	assert_true(used <= room);
	if (roomy) {
		/* With room for all: exactly the best min(n, max). */
		assert_int_equal(got, n < max ? n : max);
		for (i = 0; i < got; i++)
			assert_int_equal(keys[i], want[i]);
	}
	for (i = 0; i < got; i++)
		f->r[subject(&f->out[i])].transmits++;
	ref_retire(f, limit);
}

static void op_take(struct fx *f)
{
	uint32_t max = 1 + rnd(f, 8), sends = rnd(f, 4), limit = 2 + rnd(f, 8);
	uint32_t got, i, s, best;

	got = gossip_dissem_take_push(&f->d, f->out, max, sends, limit);
	for (i = 0; i < got; i++) {
		/* The expected one: members first, then first marked. */
		best = SUBJECTS;
		for (s = 0; s < SUBJECTS; s++)
			if (f->r[s].used && f->r[s].push &&
			    (best == SUBJECTS || cls(s) < cls(best) ||
			     (cls(s) == cls(best) &&
			      f->r[s].push_seq < f->r[best].push_seq)))
				best = s;
		assert_int_not_equal(best, SUBJECTS);
		assert_int_equal(subject(&f->out[i]), best);
		f->r[best].push = false;
		f->r[best].transmits += sends;
		if (f->r[best].transmits >= (limit < GOSSIP_DISSEM_TX_MAX
						     ? limit
						     : GOSSIP_DISSEM_TX_MAX))
			f->r[best].used = false;
	}
	if (got < max)
		for (s = 0; s < SUBJECTS; s++)
			assert_false(f->r[s].used && f->r[s].push);
}

static void test_random_ops(void **state)
{
	struct fx *f = *state;
	uint32_t i, op;

	for (i = 0; i < 200000; i++) {
		op = rnd(f, 10);
		if (op < 5)
			op_push(f);
		else if (op < 8)
			op_fill(f, op == 5);
		else
			op_take(f);
		check_counts(f);
	}
	/* Everything leaves at last (each fill takes one at least). */
	for (i = 0; f->d.n && i < 100 * SUBJECTS; i++)
		op_fill(f, true);
	assert_int_equal(f->d.n, 0);
	check_counts(f);
}

static void test_overflow(void **state)
{
	struct gossip_dissem d;
	struct gossip_update u, out[4];
	uint32_t i;

	(void)state;
	gossip_dissem_init(&d, 3);
	make(&u, 0, 1); /* member */
	assert_int_equal(gossip_dissem_push(&d, &u, false), 0);
	make(&u, 20, 1); /* session, sent once below */
	assert_int_equal(gossip_dissem_push(&d, &u, false), 0);
	make(&u, 21, 1);
	assert_int_equal(gossip_dissem_push(&d, &u, false), 0);
	/* One datagram with room for the member and one session. */
	assert_int_equal(gossip_dissem_fill(&d, out, 2, 80, 10), 2);
	assert_int_equal(out[0].kind, GOSSIP_UPD_MEMBER);
	assert_int_equal(out[1].kind, GOSSIP_UPD_SESSION);
	i = subject(&out[1]);
	/* Full: a new load report drops the worst, the session sent once. */
	make(&u, 75, 1);
	assert_int_equal(gossip_dissem_push(&d, &u, false), 0);
	assert_int_equal(d.n, 3);
	assert_int_equal(d.dropped, 1);
	assert_int_equal(gossip_dissem_fill(&d, out, 4, 1000, 10), 3);
	for (uint32_t j = 0; j < 3; j++)
		assert_int_not_equal(subject(&out[j]), i);
	gossip_dissem_free(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_random_ops, setup,
						teardown),
		cmocka_unit_test(test_overflow),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

// SPDX-License-Identifier: GPL-2.0-only
/*
 * Replication between two cells over real TCP on loopback, one event
 * loop: cell 1 is primary of its shards and cell 2 their mirror. Flows
 * created, changed and closed on 1 reach 2 with their versions; a mirror
 * that restarts empty gets everything again by snapshot; a shard map that
 * makes 2 the mirror of more shards sends those shards. Each cell runs its
 * own event loop, so one can stall while the other runs: the cells know
 * each other alive whether they share shards or not, a killed cell is
 * known down by its reset streams, a hung one by its silence and alive
 * again when it speaks, and a cell whose own loop stalled does not take
 * its peers for dead.
 *
 * The chain (repl.h, "Chain"): a man in the middle of cell 1's stream to
 * cell 2, holding the cluster key, drops a batch (a gap), swaps two (a
 * reorder seen as a gap: the later one comes first), puts an earlier
 * batch in a later one's place (a replay) or changes a record (a forged
 * record in a valid frame). Each is found and counted by its reason,
 * nothing of the broken chain reaches cell 2's table, and the shard's
 * resync brings everything back, with both ends' chain heads equal. The
 * chain turned off and on in the middle of a stream breaks nothing.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cmocka.h>

#include "cell/repl.h"
#include "gossip/gossip_auth.h"

#define NFLOWS 3000

static const char cluster_text[] =
	"cluster rt\n"
	"self n1\n"
	"node n1 id 1 addr 127.0.0.1 mac 02:00:00:00:00:01\n"
	"node n2 id 2 addr 127.0.0.2 mac 02:00:00:00:00:02\n";

/* The same with a cell that never answers: nobody listens for it. */
static const char cluster3_text[] =
	"cluster rt\n"
	"self n1\n"
	"node n1 id 1 addr 127.0.0.1 mac 02:00:00:00:00:01\n"
	"node n2 id 2 addr 127.0.0.2 mac 02:00:00:00:00:02\n"
	"node n3 id 3 addr 127.0.0.3 mac 02:00:00:00:00:03\n";

/* The same with the chain named (on by default; the chain's tests name
 * it so they keep testing it whatever the default). */
static const char cluster_chain_text[] =
	"cluster rt\n"
	"self n1\n"
	"replication-chain on\n"
	"node n1 id 1 addr 127.0.0.1 mac 02:00:00:00:00:01\n"
	"node n2 id 2 addr 127.0.0.2 mac 02:00:00:00:00:02\n";

static const char *rt_cluster_text = cluster_text;
static bool rt_want_mitm;
static struct mitm *mitm_new(const struct gossip_auth *auth);
static void mitm_free(struct mitm *m);

struct mitm;

struct cellx {
	struct evloop *el;
	struct flowtab *ft;
	struct repl *repl;
	/* What on_peer said of the other cell: calls, and the last word. */
	uint32_t ups, downs;
	bool peer_up;
	/* on_handback: by shard, the words that one was handed back or
	 * given, and from whom last. */
	uint16_t handbacks[STEER_SHARDS];
	uint16_t handback_from;
};

struct rt {
	struct gossip_auth auth;
	struct cluster c1, c2; /* as n1 and as n2 see it */
	struct steer_hash_secret secret;
	struct cellx a, b;
	struct shard_map map;
	struct mitm *mitm; /* between cell 1 and its stream to cell 2 */
	bool mitm_for_a;   /* rt_port answers for cell 1's world */
};

static void mitm_pump(struct rt *t);
static uint16_t mitm_port(const struct mitm *m);

static struct rt *rt_cur; /* for the port callback */

static uint32_t rt_now(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return (uint32_t)((uint64_t)tv.tv_sec * 1000u + tv.tv_usec / 1000u);
}

static uint16_t rt_port(uint16_t id)
{
	if (id == 3)
		return 1; /* refused */
	/* Only cell 1 asks for cell 2's port with a man in the middle:
	 * cell 2's own world is set with the man's port unused. */
	if (id == 2 && rt_cur->mitm && rt_cur->mitm_for_a)
		return mitm_port(rt_cur->mitm);
	return repl_port(id == 1 ? rt_cur->a.repl : rt_cur->b.repl);
}

static void rt_on_change(const struct flowtab_rec *r, void *arg)
{
	struct cellx *x = arg;

	if (x->repl)
		repl_record(x->repl, r);
}

static void rt_on_peer(void *arg, uint16_t id, bool up)
{
	struct cellx *x = arg;

	if (id == 3)
		return; /* the tests watch the other cell */
	x->ups += up;
	x->downs += !up;
	x->peer_up = up;
}

static void rt_on_handback_count(void *arg, uint16_t shard, uint16_t from)
{
	struct cellx *x = arg;

	x->handbacks[shard]++;
	x->handback_from = from;
}

static void rt_cell_new(struct rt *t, struct cellx *x, uint16_t id)
{
	struct flowtab_cfg fc;
	struct repl_cfg rc = {
		.el = x->el,
		.auth = &t->auth,
		.self_id = id,
		.incarnation = id,
		.port = 0,
		.now_ms = rt_now,
		.on_peer = rt_on_peer,
		.on_peer_arg = x,
		.on_handback = rt_on_handback_count,
	};

	flowtab_cfg_default(&fc, 1u << 14);
	fc.secret = t->secret;
	fc.self_id = id;
	fc.on_change = rt_on_change;
	fc.on_change_arg = x;
	x->ft = flowtab_new(&fc);
	assert_non_null(x->ft);
	rc.ft = x->ft;
	flow_addr_set_v4(&rc.listen, htonl(id == 1 ? 0x7f000001 : 0x7f000002));
	x->repl = repl_new(&rc);
	assert_non_null(x->repl);
	x->peer_up = true; /* as the cell presumes until told */
}

static void rt_cell_free(struct cellx *x)
{
	repl_free(x->repl);
	flowtab_free(x->ft);
	x->repl = NULL;
	x->ft = NULL;
}

/* Point both cells at each other and give them the shard map. */
static void rt_wire(struct rt *t)
{
	rt_cur = t;
	t->mitm_for_a = true;
	assert_int_equal(repl_world_set(t->a.repl, &t->c1, rt_port), 0);
	t->mitm_for_a = false;
	assert_int_equal(repl_world_set(t->b.repl, &t->c2, rt_port), 0);
	repl_shards_set(t->a.repl, &t->map);
	repl_shards_set(t->b.repl, &t->map);
}

static int rt_setup(void **state)
{
	static const uint16_t ids[] = {1, 2};
	struct gossip_key key;
	struct rt *t = calloc(1, sizeof(*t));
	char err[256];

	if (!t)
		return -1;
	memset(&key, 7, sizeof(key));
	t->secret.k0 = 1;
	t->secret.k1 = 2;
	t->a.el = evloop_new();
	t->b.el = evloop_new();
	if (!t->a.el || !t->b.el || gossip_auth_init(&t->auth, &key, false) ||
	    cluster_load_buf(&t->c1, "rt", rt_cluster_text,
			     strlen(rt_cluster_text), err, sizeof(err)) ||
	    cluster_load_buf(&t->c2, "rt", rt_cluster_text,
			     strlen(rt_cluster_text), err, sizeof(err)))
		return -1;
	t->c2.self = 1; /* the same cluster as n2 sees it */
	if (shard_map_build(&t->map, ids, 2, 2, &t->secret))
		return -1;
	rt_cell_new(t, &t->a, 1);
	rt_cell_new(t, &t->b, 2);
	if (rt_want_mitm) {
		t->mitm = mitm_new(&t->auth);
		if (!t->mitm)
			return -1;
	}
	rt_wire(t);
	*state = t;
	return 0;
}

/* rt_setup with cell 3 in the cluster, which never answers. */
static int rt_setup3(void **state)
{
	int rc;

	rt_cluster_text = cluster3_text;
	rc = rt_setup(state);
	rt_cluster_text = cluster_text;
	return rc;
}

static int rt_teardown(void **state)
{
	struct rt *t = *state;

	rt_cell_free(&t->a);
	rt_cell_free(&t->b);
	mitm_free(t->mitm);
	cluster_free(&t->c1);
	cluster_free(&t->c2);
	evloop_free(t->a.el);
	evloop_free(t->b.el);
	free(t);
	return 0;
}

/* Flow i: a TCP flow whose shard cell 1 is primary of (mirror: 2). */
static void rt_key(const struct rt *t, uint32_t i, struct flow_key *k)
{
	uint32_t n = 0, j;

	for (j = 0;; j++) {
		memset(k, 0, sizeof(*k));
		flow_addr_set_v4(&k->src, htonl(0xc6120000u + j));
		flow_addr_set_v4(&k->dst, htonl(0xc6136401u));
		k->sport = htons((uint16_t)(1024 + j % 50000));
		k->dport = htons(80);
		k->proto = 6;
		if (t->map.cell[flowtab_shard_of(t->a.ft, k)][0] != 1)
			continue;
		if (n++ == i)
			return;
	}
}

/* One turn of both cells' loops (and of the man in the middle). */
static void rt_run(struct rt *t)
{
	evloop_run_once(t->a.el, 2);
	if (t->mitm)
		mitm_pump(t);
	evloop_run_once(t->b.el, 2);
	if (t->mitm)
		mitm_pump(t);
}

/* Run the loops until fn holds, at most 60 s: a deadline for liveness,
 * not a timing check. Generous, since under ASan on a loaded machine a
 * restarted primary's hand-back of 3,000 flows took over 5 s beside the
 * lab, and over 20 s with four builds running as well. */
static int rt_until(struct rt *t, int (*fn)(struct rt *t, void *), void *arg)
{
	uint64_t end = evloop_now_ms() + 60000;

	while (evloop_now_ms() < end) {
		if (fn(t, arg))
			return 1;
		rt_run(t);
	}
	return fn(t, arg);
}

static int rt_mirror_has(struct rt *t, void *arg)
{
	uint32_t want = *(uint32_t *)arg, i, have = 0;
	struct flow_key k;

	for (i = 0; i < want; i++) {
		const struct flowtab_rec *ra, *rb;

		rt_key(t, i, &k);
		ra = flowtab_lookup_any(t->a.ft, &k);
		rb = flowtab_lookup_any(t->b.ft, &k);
		have += ra && rb && ra->version == rb->version &&
			ra->state == rb->state && ra->backend == rb->backend;
	}
	return have == want;
}

/* Flows from .. n - 1 (rt_key's) on cell 1. */
static void rt_create_from(struct rt *t, uint32_t from, uint32_t n)
{
	struct flowtab_params p = {.epoch = 9,
				   .primary = 1,
				   .mirror = {2, STEER_NODE_NONE},
				   .rf = 2};
	struct flow_key k;
	uint32_t i;

	for (i = from; i < n; i++) {
		rt_key(t, i, &k);
		p.backend = (uint16_t)(i % 7);
		assert_non_null(flowtab_create(t->a.ft, &k, &p, rt_now()));
	}
}

static void rt_create(struct rt *t, uint32_t n)
{
	rt_create_from(t, 0, n);
}

static void test_stream(void **state)
{
	struct rt *t = *state;
	uint32_t n = NFLOWS;
	struct flow_key k;

	rt_create(t, n);
	assert_true(rt_until(t, rt_mirror_has, &n));
	/* A state change and a close travel too. */
	rt_key(t, 5, &k);
	assert_int_equal(flowtab_touch(t->a.ft, &k, 60, 0x10, rt_now()), 1);
	rt_key(t, 6, &k);
	assert_int_equal(flowtab_close(t->a.ft, &k, rt_now()), 0);
	assert_true(rt_until(t, rt_mirror_has, &n));
	assert_null(flowtab_lookup(t->b.ft, &k));
	assert_true(repl_stats(t->a.repl)->recs_tx >= n + 2);
	assert_int_equal(repl_stats(t->b.repl)->apply_err, 0);
	print_message("[figure] replication: %llu bytes for %u flows: %.1f "
		      "bytes per flow\n",
		      (unsigned long long)repl_stats(t->a.repl)->bytes_tx,
		      n + 2, (double)repl_stats(t->a.repl)->bytes_tx / (n + 2));
}

/* The mirror restarts with nothing: the snapshot brings it all back. */
static void test_restart_resync(void **state)
{
	struct rt *t = *state;
	uint32_t n = NFLOWS;

	rt_create(t, n);
	assert_true(rt_until(t, rt_mirror_has, &n));
	rt_cell_free(&t->b);
	rt_cell_new(t, &t->b, 2);
	rt_wire(t);
	assert_int_equal(flowtab_count(t->b.ft), 0);
	assert_true(rt_until(t, rt_mirror_has, &n));
	assert_true(repl_stats(t->a.repl)->snapshots > 0);
	assert_true(repl_stats(t->a.repl)->drops +
			    repl_stats(t->a.repl)->connects >=
		    2);
}

static uint32_t hb_calls;

static void rt_on_handback(void *arg, uint16_t shard, uint16_t from)
{
	(void)arg;
	(void)shard;
	assert_int_equal(from, 2);
	hb_calls++;
}

/* The primary restarts with nothing: its mirror hands the flows back,
 * and then holds its copies again. */
static void test_primary_restart_handback(void **state)
{
	struct rt *t = *state;
	struct repl_cfg rc = {.el = t->a.el,
			      .auth = &t->auth,
			      .self_id = 1,
			      .incarnation = 2,
			      .now_ms = rt_now,
			      .on_handback = rt_on_handback};
	struct flowtab_cfg fc;
	uint32_t n = NFLOWS;

	rt_create(t, n);
	assert_true(rt_until(t, rt_mirror_has, &n));
	rt_cell_free(&t->a);
	flowtab_cfg_default(&fc, 1u << 14);
	fc.secret = t->secret;
	fc.self_id = 1;
	fc.on_change = rt_on_change;
	fc.on_change_arg = &t->a;
	t->a.ft = flowtab_new(&fc);
	assert_non_null(t->a.ft);
	rc.ft = t->a.ft;
	flow_addr_set_v4(&rc.listen, htonl(0x7f000001));
	t->a.repl = repl_new(&rc);
	assert_non_null(t->a.repl);
	hb_calls = 0;
	rt_wire(t);
	assert_int_equal(flowtab_count(t->a.ft), 0);
	/* Both hold every flow, at the versions from before the restart. */
	assert_true(rt_until(t, rt_mirror_has, &n));
	assert_int_equal(flowtab_count(t->a.ft), n);
	assert_true(repl_stats(t->b.repl)->handback_tx >= n);
	assert_int_equal(repl_stats(t->a.repl)->handback_applied, n);
	assert_true(hb_calls > 0);
	assert_true(repl_stats(t->a.repl)->handbacks_done >= hb_calls);
}

/* A flow the mirror took over (a newer version) wins over the primary's
 * stale record of it when they meet again; an older one does not. */
static void test_handback_newer_wins(void **state)
{
	struct rt *t = *state;
	uint32_t n = 2;
	struct flowtab_rec rec;
	struct flow_key k0, k1;

	rt_create(t, n);
	assert_true(rt_until(t, rt_mirror_has, &n));
	rt_key(t, 0, &k0);
	rt_key(t, 1, &k1);
	/* The mirror takes flow 0 over while the primary is cut off. */
	rec = *flowtab_lookup(t->b.ft, &k0);
	rec.primary = 2;
	rec.mirror[0] = 1;
	rec.backend = 42;
	rec.version++;
	assert_int_equal(flowtab_apply(t->b.ft, &rec, rt_now()), 1);
	/* The primary's flow 1 moved on; the mirror's copy is older. */
	assert_int_equal(flowtab_touch(t->a.ft, &k1, 60, 0x10, rt_now()), 1);
	rec = *flowtab_lookup(t->a.ft, &k1);
	/* The streams break and connect again: snapshot and hand-back. */
	repl_shards_set(t->a.repl, &(struct shard_map){.rf = 1});
	rt_run(t);
	repl_shards_set(t->a.repl, &t->map);
	assert_true(rt_until(t, rt_mirror_has, &n));
	assert_int_equal(flowtab_lookup(t->a.ft, &k0)->primary, 2);
	assert_int_equal(flowtab_lookup(t->a.ft, &k0)->backend, 42);
	assert_int_equal(flowtab_lookup(t->a.ft, &k1)->version, rec.version);
	assert_int_equal(flowtab_lookup(t->b.ft, &k1)->version, rec.version);
}

static int rt_gave(struct rt *t, void *arg)
{
	uint32_t want = *(uint32_t *)arg;

	return flowtab_count(t->b.ft) == want && flowtab_count(t->a.ft) == 0;
}

/* A cell that stops being a shard's primary gives its records to the new
 * one even when that one streams nothing to it, and, mirroring nothing
 * of the shard, keeps none. The new primary is told of each shard given
 * (it adopts the records at once: no flow keeps the old primary's name). */
static void test_lost_shards_given(void **state)
{
	struct rt *t = *state;
	struct shard_map *m = calloc(1, sizeof(*m));
	uint64_t seen[STEER_SHARDS / 64] = {0};
	uint32_t n = 50, s, shards = 0;
	struct flow_key k;

	assert_non_null(m);
	m->rf = 1;
	for (s = 0; s < STEER_SHARDS; s++) {
		m->cell[s][0] = 1;
		m->cell[s][1] = m->cell[s][2] = STEER_NODE_NONE;
	}
	repl_shards_set(t->a.repl, m);
	repl_shards_set(t->b.repl, m);
	rt_create(t, n);
	assert_int_equal(flowtab_count(t->a.ft), n);
	for (s = 0; s < n; s++) {
		rt_key(t, s, &k);
		shards += !(seen[flowtab_shard_of(t->a.ft, &k) / 64] &
			    1ull << flowtab_shard_of(t->a.ft, &k) % 64);
		seen[flowtab_shard_of(t->a.ft, &k) / 64] |=
			1ull << flowtab_shard_of(t->a.ft, &k) % 64;
	}
	memset(t->b.handbacks, 0, sizeof(t->b.handbacks));
	for (s = 0; s < STEER_SHARDS; s++)
		m->cell[s][0] = 2;
	repl_shards_set(t->a.repl, m);
	repl_shards_set(t->b.repl, m);
	if (!rt_until(t, rt_gave, &n))
		fail_msg(
			"a holds %u, b %u, a gave %llu", flowtab_count(t->a.ft),
			flowtab_count(t->b.ft),
			(unsigned long long)repl_stats(t->a.repl)->handback_tx);
	assert_int_equal(repl_stats(t->a.repl)->handback_tx, n);
	/* One word per shard that had records. (b hears of the others too,
	 * when a hands back what it holds of b's first shards.) */
	for (s = 0; s < STEER_SHARDS; s++)
		if (seen[s / 64] & 1ull << s % 64) {
			assert_int_equal(t->b.handbacks[s], 1);
			shards--;
		}
	assert_int_equal(shards, 0);
	assert_int_equal(t->b.handback_from, 1);
	free(m);
}

/* A give the shard's new primary never took (it died first: cell 3
 * refuses every connection) follows the shard to its next primary, and
 * the giver forgets its records once that one has them; they do not
 * wait on the dead cell's stream for ever, naming the giver. */
static void test_give_follows_primary(void **state)
{
	struct rt *t = *state;
	struct shard_map *m = calloc(1, sizeof(*m));
	uint32_t n = 50, s;
	uint64_t end;

	assert_non_null(m);
	m->rf = 1;
	for (s = 0; s < STEER_SHARDS; s++) {
		m->cell[s][0] = 1;
		m->cell[s][1] = m->cell[s][2] = STEER_NODE_NONE;
	}
	repl_shards_set(t->a.repl, m);
	repl_shards_set(t->b.repl, m);
	rt_create(t, n);
	for (s = 0; s < STEER_SHARDS; s++)
		m->cell[s][0] = 3;
	repl_shards_set(t->a.repl, m);
	repl_shards_set(t->b.repl, m);
	for (end = evloop_now_ms() + 200; evloop_now_ms() < end;)
		rt_run(t);
	/* Given to no one that took them: a keeps them (b holds copies, as
	 * the records' mirror). */
	assert_int_equal(flowtab_count(t->a.ft), n);
	for (s = 0; s < STEER_SHARDS; s++)
		m->cell[s][0] = 2;
	repl_shards_set(t->a.repl, m);
	repl_shards_set(t->b.repl, m);
	if (!rt_until(t, rt_gave, &n))
		fail_msg("a holds %u, b %u", flowtab_count(t->a.ft),
			 flowtab_count(t->b.ft));
	free(m);
}

/* A mirror never takes an older version over a newer one. */
static void test_no_older_over_newer(void **state)
{
	struct rt *t = *state;
	uint32_t n = 1;
	struct flowtab_rec old;
	struct flow_key k;

	rt_create(t, 1);
	assert_true(rt_until(t, rt_mirror_has, &n));
	rt_key(t, 0, &k);
	old = *flowtab_lookup(t->b.ft, &k);
	assert_int_equal(flowtab_touch(t->a.ft, &k, 60, 0x10, rt_now()), 1);
	assert_true(rt_until(t, rt_mirror_has, &n));
	assert_int_equal(flowtab_apply(t->b.ft, &old, rt_now()), 0);
	assert_true(flowtab_lookup(t->b.ft, &k)->version > old.version);
}

/* Each cell hears the other's stream, and takes it for alive. */
static int rt_both_up(struct rt *t, void *arg)
{
	(void)arg;
	return t->a.peer_up && t->b.peer_up &&
	       repl_stats(t->a.repl)->bytes_rx > 0 &&
	       repl_stats(t->b.repl)->bytes_rx > 0;
}

static int rt_a_sees_b_down(struct rt *t, void *arg)
{
	(void)arg;
	return t->a.downs > 0 && !t->a.peer_up;
}

/* Run cell x's loop alone for ms: the other cell stalls. */
static void rt_run_alone(struct cellx *x, uint64_t ms)
{
	uint64_t end = evloop_now_ms() + ms;

	while (evloop_now_ms() < end)
		evloop_run_once(x->el, 2);
}

/* A map where each cell is primary of its own shards and mirrors none. */
static void rt_map_unshared(struct rt *t)
{
	static const uint16_t ids[] = {1, 2};

	assert_int_equal(shard_map_build(&t->map, ids, 2, 1, &t->secret), 0);
	repl_shards_set(t->a.repl, &t->map);
	repl_shards_set(t->b.repl, &t->map);
}

/* Cells that share no shard stream to each other all the same, and a
 * killed one is known down by its reset streams, not by silence. */
static void test_peers_unshared_and_killed(void **state)
{
	struct rt *t = *state;

	rt_map_unshared(t);
	assert_true(rt_until(t, rt_both_up, NULL));
	assert_int_equal(t->a.downs, 0);
	rt_cell_free(&t->b);
	assert_true(rt_until(t, rt_a_sees_b_down, NULL));
	assert_int_equal(repl_stats(t->a.repl)->silent, 0);
	/* Timed once: from b's last frame to a's finding, well inside the
	 * silence limit (a reset stream says it at once). */
	assert_int_equal(repl_stats(t->a.repl)->down_detect.count, 1);
	assert_true(repl_stats(t->a.repl)->down_detect.sum_us <
		    REPL_DEAD_MS * 1000ull);
	/* Back: its stream speaks again. */
	rt_cell_new(t, &t->b, 2);
	rt_wire(t);
	rt_map_unshared(t);
	assert_true(rt_until(t, rt_both_up, NULL));
}

/* A cell whose own loop stalled finds its peer's heartbeats waiting:
 * the peer lived all along. */
static void test_own_stall_not_death(void **state)
{
	struct rt *t = *state;

	assert_true(rt_until(t, rt_both_up, NULL));
	rt_run_alone(&t->b, 3 * REPL_DEAD_MS);
	rt_run(t);
	rt_run_alone(&t->a, 20);
	assert_int_equal(t->a.downs, 0);
	assert_int_equal(repl_stats(t->a.repl)->silent, 0);
	assert_true(t->a.peer_up);
}

/* A hung cell (its loop stalls, its sockets stay) is down once silent,
 * and up again when it speaks, on the same connections: no resync. */
static void test_hung_peer_back(void **state)
{
	struct rt *t = *state;
	uint64_t connects, accepts;

	assert_true(rt_until(t, rt_both_up, NULL));
	connects = repl_stats(t->a.repl)->connects;
	accepts = repl_stats(t->a.repl)->accepts;
	rt_run_alone(&t->a, 2 * REPL_DEAD_MS);
	assert_true(rt_a_sees_b_down(t, NULL));
	assert_int_equal(repl_stats(t->a.repl)->silent, 1);
	/* Found down by its silence: past the limit. */
	assert_int_equal(repl_stats(t->a.repl)->down_detect.count, 1);
	assert_true(repl_stats(t->a.repl)->down_detect.sum_us >=
		    REPL_DEAD_MS * 1000ull);
	assert_true(rt_until(t, rt_both_up, NULL));
	assert_int_equal(repl_stats(t->a.repl)->connects, connects);
	assert_int_equal(repl_stats(t->a.repl)->accepts, accepts);
}

/* --- the chain ----------------------------------------------------- */

/*
 * A man in the middle of cell 1's stream to cell 2 (it has the cluster
 * key, as a cell or a bug would): it passes every frame on, until armed,
 * when it does its one deed to the first chained BATCH of the target
 * shard that fits it. Cell 2's answers (ACKs, RESYNC, hand-backs) pass
 * untouched.
 */
enum mitm_deed {
	MITM_NONE,
	MITM_DROP,   /* a batch lost: a gap */
	MITM_SWAP,   /* two batches, one right after the other, swapped */
	MITM_REPLAY, /* an earlier batch again, in a later one's place */
	MITM_TAMPER, /* a record's backend changed, the link kept */
};

#define MITM_RING 64
#define MITM_RING_RECS 16
#define MITM_BUF (2 * CELLMSG_FRAME_MAX)
/* What waits for cell 2: it reads from cell 1 while this is below
 * MITM_OUT_LOW (cell 1's own queue waits meanwhile). */
#define MITM_OUT_MAX (8u << 20)
#define MITM_OUT_LOW (1u << 20)

struct mitm_held {
	struct cellmsg m;
	struct cell_flow_rec recs[MITM_RING_RECS];
};

struct mitm {
	const struct gossip_auth *auth;
	int lfd, afd, bfd;
	uint16_t port;
	uint8_t *ab, *out; /* from cell 1, not yet whole; to cell 2 */
	size_t ab_len, out_len, out_off;
	uint8_t ba[65536]; /* from cell 2 to cell 1 */
	size_t ba_len, ba_off;
	struct cell_flow_rec *recs;
	uint8_t *frame;
	/* The deed. */
	enum mitm_deed deed;
	int32_t shard; /* the target (-1: any) */
	bool done;
	struct flow_key keys[2]; /* flows of the batches it hit */
	uint32_t n_keys;
	struct mitm_held held; /* SWAP: the first of the two */
	uint8_t held_raw[2048];
	size_t held_len;
	bool holding;
	/* The last chained batches passed on (REPLAY takes from them). */
	struct mitm_held ring[MITM_RING];
	uint32_t ring_next;
};

static uint16_t mitm_port(const struct mitm *m)
{
	return m->port;
}

static void mitm_close(struct mitm *m)
{
	if (m->afd >= 0)
		close(m->afd);
	if (m->bfd >= 0)
		close(m->bfd);
	m->afd = m->bfd = -1;
	m->ab_len = m->out_len = m->out_off = m->ba_len = m->ba_off = 0;
	m->holding = false;
}

static void mitm_free(struct mitm *m)
{
	if (!m)
		return;
	mitm_close(m);
	if (m->lfd >= 0)
		close(m->lfd);
	free(m->ab);
	free(m->out);
	free(m->recs);
	free(m->frame);
	free(m);
}

static struct mitm *mitm_new(const struct gossip_auth *auth)
{
	struct mitm *m = calloc(1, sizeof(*m));
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t sl = sizeof(sa);

	if (!m)
		return NULL;
	m->auth = auth;
	m->afd = m->bfd = -1;
	m->shard = -1;
	m->ab = malloc(MITM_BUF);
	m->out = malloc(MITM_OUT_MAX);
	m->recs = calloc(CELLMSG_BATCH_MAX, sizeof(*m->recs));
	m->frame = malloc(CELLMSG_FRAME_MAX);
	m->lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	/* Where cell 1 looks for cell 2: its address, another port. */
	sa.sin_addr.s_addr = htonl(0x7f000002);
	if (!m->ab || !m->out || !m->recs || !m->frame || m->lfd < 0 ||
	    bind(m->lfd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    listen(m->lfd, 4) ||
	    getsockname(m->lfd, (struct sockaddr *)&sa, &sl)) {
		mitm_free(m);
		return NULL;
	}
	m->port = ntohs(sa.sin_port);
	return m;
}

static void mitm_arm(struct mitm *m, enum mitm_deed deed, int32_t shard)
{
	m->deed = deed;
	m->shard = shard;
	m->done = false;
	m->n_keys = 0;
	m->holding = false;
}

static void mitm_put(struct mitm *m, const uint8_t *p, size_t n)
{
	assert_true(m->out_len + n <= MITM_OUT_MAX);
	memcpy(m->out + m->out_len, p, n);
	m->out_len += n;
}

/* Encode h's message under header seq and pass it on. */
static void mitm_put_msg(struct mitm *m, struct mitm_held *h, uint64_t seq)
{
	int n;

	h->m.seq = seq;
	h->m.batch.recs = h->recs;
	n = cellmsg_encode(m->auth, &h->m, m->frame, CELLMSG_FRAME_MAX);
	assert_true(n > 0);
	mitm_put(m, m->frame, (size_t)n);
}

static void mitm_keep(struct mitm_held *h, const struct cellmsg *msg)
{
	h->m = *msg;
	memcpy(h->recs, msg->batch.recs,
	       msg->batch.count * sizeof(*msg->batch.recs));
	h->m.batch.recs = h->recs;
}

static void mitm_hit(struct mitm *m, const struct cellmsg *msg)
{
	if (msg->batch.count && m->n_keys < 2)
		m->keys[m->n_keys++] = msg->batch.recs[0].key;
}

/* An earlier link of msg's chain, passed on before, or NULL. */
static struct mitm_held *mitm_earlier(struct mitm *m, const struct cellmsg *msg)
{
	uint32_t i;

	for (i = 0; i < MITM_RING; i++) {
		struct mitm_held *h = &m->ring[i];

		if (h->m.type == CELLMSG_BATCH &&
		    h->m.batch.shard == msg->batch.shard &&
		    h->m.batch.chain_seq + 1 == msg->batch.chain_seq)
			return h;
	}
	return NULL;
}

/* The deed on msg (raw: p, len), if it fits. true: done with the frame. */
static bool mitm_deed(struct mitm *m, const struct cellmsg *msg,
		      const uint8_t *p, size_t len)
{
	struct mitm_held cur, *h;

	if (m->done || m->deed == MITM_NONE || msg->type != CELLMSG_BATCH ||
	    !msg->batch.chain_seq || !msg->batch.count ||
	    msg->batch.count > MITM_RING_RECS ||
	    (m->shard >= 0 && msg->batch.shard != m->shard))
		return false;
	switch (m->deed) {
	case MITM_DROP:
		if (msg->batch.chain_seq < 2)
			return false;
		mitm_hit(m, msg);
		break;
	case MITM_TAMPER:
		if (msg->batch.chain_seq < 2)
			return false;
		mitm_hit(m, msg);
		mitm_keep(&cur, msg);
		cur.recs[0].backend ^= 1;
		mitm_put_msg(m, &cur, msg->seq);
		break;
	case MITM_REPLAY:
		h = mitm_earlier(m, msg);
		if (!h)
			return false;
		mitm_hit(m, msg);
		cur = *h;
		mitm_put_msg(m, &cur, msg->seq);
		break;
	case MITM_SWAP:
		if (!m->holding) {
			if (len > sizeof(m->held_raw))
				return false;
			mitm_keep(&m->held, msg);
			memcpy(m->held_raw, p, len);
			m->held_len = len;
			m->holding = true;
			return true; /* the next frame says */
		}
		/* The second right after the first: swapped, each under
		 * the other's header seq (seqs must still grow). */
		if (msg->batch.shard != m->held.m.batch.shard ||
		    msg->seq != m->held.m.seq + 1)
			return false;
		mitm_hit(m, msg);
		mitm_hit(m, &m->held.m);
		mitm_keep(&cur, msg);
		mitm_put_msg(m, &cur, m->held.m.seq);
		mitm_put_msg(m, &m->held, msg->seq);
		m->holding = false;
		break;
	default:
		return false;
	}
	m->done = true;
	return true;
}

/* One whole frame from cell 1. */
static void mitm_frame(struct mitm *m, const uint8_t *p, size_t len)
{
	struct cellmsg msg;

	assert_int_equal(cellmsg_decode(m->auth, p, len, &msg, m->recs,
					CELLMSG_BATCH_MAX),
			 CELLMSG_RX_OK);
	if (mitm_deed(m, &msg, p, len))
		return;
	if (m->holding) {
		/* SWAP's first, and no second right after it: it goes on,
		 * and the man waits for another. */
		mitm_put(m, m->held_raw, m->held_len);
		m->holding = false;
		if (mitm_deed(m, &msg, p, len))
			return;
	}
	if (msg.type == CELLMSG_BATCH && msg.batch.chain_seq &&
	    msg.batch.count <= MITM_RING_RECS)
		mitm_keep(&m->ring[m->ring_next++ % MITM_RING], &msg);
	mitm_put(m, p, len);
}

/* Write what waits for fd; false when the connection broke. */
static bool mitm_write(int fd, const uint8_t *p, size_t *off, size_t *len)
{
	ssize_t n;

	while (*off < *len) {
		n = send(fd, p + *off, *len - *off,
			 MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return true;
		if (n <= 0)
			return false;
		*off += (size_t)n;
	}
	*off = *len = 0;
	return true;
}

static void mitm_pump(struct rt *t)
{
	struct mitm *m = t->mitm;
	struct sockaddr_in sa = {.sin_family = AF_INET};
	enum cellmsg_rx_reason why;
	size_t fl;
	ssize_t n;
	int fd;

	fd = accept4(m->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd >= 0) {
		mitm_close(m); /* cell 1 connected again */
		m->afd = fd;
		m->bfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		sa.sin_addr.s_addr = htonl(0x7f000002);
		sa.sin_port = htons(repl_port(t->b.repl));
		assert_true(m->bfd >= 0);
		assert_int_equal(
			connect(m->bfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	}
	if (m->afd < 0)
		return;
	while (m->out_len < MITM_OUT_LOW) {
		n = recv(m->afd, m->ab + m->ab_len, MITM_BUF - m->ab_len,
			 MSG_DONTWAIT);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
			mitm_close(m);
			return;
		}
		if (n < 0)
			break;
		m->ab_len += (size_t)n;
		for (;;) {
			why = cellmsg_frame_len(m->auth, m->ab, m->ab_len, &fl);
			if (why == CELLMSG_RX_NEED_MORE)
				break;
			assert_int_equal(why, CELLMSG_RX_OK);
			mitm_frame(m, m->ab, fl);
			memmove(m->ab, m->ab + fl, m->ab_len - fl);
			m->ab_len -= fl;
		}
	}
	if (!mitm_write(m->bfd, m->out, &m->out_off, &m->out_len)) {
		mitm_close(m);
		return;
	}
	if (!m->ba_len) {
		n = recv(m->bfd, m->ba, sizeof(m->ba), MSG_DONTWAIT);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
			mitm_close(m);
			return;
		}
		if (n > 0) {
			m->ba_len = (size_t)n;
			m->ba_off = 0;
		}
	}
	if (!mitm_write(m->afd, m->ba, &m->ba_off, &m->ba_len))
		mitm_close(m);
}

static int rt_setup_chain(void **state)
{
	int rc;

	rt_cluster_text = cluster_chain_text;
	rt_want_mitm = true;
	rc = rt_setup(state);
	rt_want_mitm = false;
	rt_cluster_text = cluster_text;
	return rc;
}

#define RT_SHARD_FLOWS 80

/* Flows of one shard (src 10/8: apart from rt_key's). */
struct rt_shard_ok {
	uint16_t shard;
	uint32_t n, next; /* keys made; where the search goes on */
	struct flow_key keys[RT_SHARD_FLOWS];
};

static void rt_create_key(struct rt *t, const struct flow_key *k);

/* A new flow of w's shard, on cell 1. */
static void rt_shard_flow(struct rt *t, struct rt_shard_ok *w)
{
	struct flow_key *k = &w->keys[w->n];

	assert_true(w->n < RT_SHARD_FLOWS);
	for (;; w->next++) {
		memset(k, 0, sizeof(*k));
		flow_addr_set_v4(&k->src, htonl(0x0a000000u + w->next));
		flow_addr_set_v4(&k->dst, htonl(0xc6136401u));
		k->sport = htons((uint16_t)(2000 + w->next % 50000));
		k->dport = htons(443);
		k->proto = 6;
		if (flowtab_shard_of(t->a.ft, k) == w->shard)
			break;
	}
	w->next++;
	rt_create_key(t, &w->keys[w->n++]);
}

static void rt_create_key(struct rt *t, const struct flow_key *k)
{
	struct flowtab_params p = {.epoch = 9,
				   .primary = 1,
				   .mirror = {2, STEER_NODE_NONE},
				   .rf = 2,
				   .backend = 3};

	assert_non_null(flowtab_create(t->a.ft, k, &p, rt_now()));
}

/* The chain of shard on cell 1's stream to 2 and on cell 2's from 1. */
static bool rt_chain(const struct repl *r, uint16_t shard, bool tx,
		     struct repl_chain_info *out)
{
	struct repl_chain_info ci[8];
	uint32_t n = repl_chains_of(r, shard, ci, 8), i;

	for (i = 0; i < n && i < 8; i++)
		if (ci[i].tx == tx && ci[i].peer == (tx ? 2 : 1)) {
			*out = ci[i];
			return true;
		}
	return false;
}

/* Cell 2 holds the shard's flows as cell 1 does, its chain of the shard
 * holds, and both ends' heads are one. */
static int rt_shard_ok(struct rt *t, void *arg)
{
	const struct rt_shard_ok *w = arg;
	struct repl_chain_info ta, rb;
	uint32_t i;

	for (i = 0; i < w->n; i++) {
		const struct flowtab_rec *ra, *rbr;

		ra = flowtab_lookup_any(t->a.ft, &w->keys[i]);
		rbr = flowtab_lookup_any(t->b.ft, &w->keys[i]);
		if (!ra || !rbr || ra->version != rbr->version ||
		    ra->backend != rbr->backend)
			return 0;
	}
	if (!rt_chain(t->a.repl, w->shard, true, &ta) ||
	    !rt_chain(t->b.repl, w->shard, false, &rb))
		return 0;
	return !rb.broken && ta.seq == rb.seq &&
	       !memcmp(ta.head, rb.head, CELLMSG_LINK_LEN);
}

static uint64_t rt_breaks(const struct rt *t, enum repl_chain_break why)
{
	return repl_stats(t->b.repl)->chain_breaks[why];
}

static uint64_t rt_breaks_all(const struct rt *t)
{
	uint32_t i;
	uint64_t n = 0;

	for (i = REPL_CHAIN_GAP; i < REPL_CHAIN_REASONS; i++)
		n += rt_breaks(t, (enum repl_chain_break)i);
	return n;
}

/*
 * The man does deed to a batch of one shard of cell 1; cell 2 must find
 * it as reason want: count it once, hold back what the broken chain
 * carries (none of the flows the man hit reaches its table), ask for the
 * shard again, and hold it all, chain healed, once the snapshot came.
 */
static void rt_chain_deed(struct rt *t, enum mitm_deed deed,
			  enum repl_chain_break want)
{
	static struct rt_shard_ok w;
	struct repl_chain_info ci;
	uint32_t n = 200, i, j;
	struct flow_key k;
	uint64_t links;

	rt_create(t, n);
	assert_true(rt_until(t, rt_mirror_has, &n));
	rt_key(t, 0, &k);
	memset(&w, 0, sizeof(w));
	w.shard = (uint16_t)flowtab_shard_of(t->a.ft, &k);
	/* A few links of the shard first, then the deed. */
	for (i = 0; i < 3; i++) {
		rt_shard_flow(t, &w);
		assert_true(rt_until(t, rt_shard_ok, &w));
	}
	assert_int_equal(rt_breaks_all(t), 0);
	links = repl_stats(t->b.repl)->chain_links_rx;
	assert_true(links >= 3);
	mitm_arm(t->mitm, deed, w.shard);
	/* One new flow of the shard at a time, each in a flush of its own,
	 * until the break is seen (a drop shows at the batch after it). */
	for (i = 0; i < 60 && !rt_breaks_all(t); i++) {
		rt_shard_flow(t, &w);
		for (j = 0; j < 4 && !rt_breaks_all(t); j++)
			rt_run(t);
	}
	assert_true(t->mitm->done);
	assert_int_equal(rt_breaks(t, want), 1);
	assert_int_equal(rt_breaks_all(t), 1);
	/* Found at once: before its snapshot, cell 2 holds none of what the
	 * man hit, and its chain of the shard says broken. */
	assert_true(rt_chain(t->b.repl, w.shard, false, &ci));
	assert_int_equal(ci.broken, want);
	for (i = 0; i < t->mitm->n_keys; i++)
		assert_null(flowtab_lookup_any(t->b.ft, &t->mitm->keys[i]));
	assert_true(repl_stats(t->b.repl)->chain_held >= 1);
	assert_int_equal(repl_stats(t->b.repl)->chain_resyncs_tx, 1);
	/* The snapshot heals it: every flow there, heads equal. */
	assert_true(rt_until(t, rt_shard_ok, &w));
	assert_int_equal(repl_stats(t->a.repl)->chain_resyncs_rx, 1);
	for (i = 0; i < t->mitm->n_keys; i++)
		assert_int_equal(
			flowtab_lookup_any(t->b.ft, &t->mitm->keys[i])->backend,
			flowtab_lookup_any(t->a.ft, &t->mitm->keys[i])
				->backend);
	/* ... and the chain goes on. */
	rt_shard_flow(t, &w);
	assert_true(rt_until(t, rt_shard_ok, &w));
	assert_true(rt_until(t, rt_mirror_has, &n));
	assert_int_equal(rt_breaks_all(t), 1);
	assert_int_equal(repl_stats(t->b.repl)->apply_err, 0);
}

static void test_chain_gap(void **state)
{
	rt_chain_deed(*state, MITM_DROP, REPL_CHAIN_GAP);
}

static void test_chain_swap(void **state)
{
	/* The later batch comes first: a link skipped. */
	rt_chain_deed(*state, MITM_SWAP, REPL_CHAIN_GAP);
}

static void test_chain_replay(void **state)
{
	rt_chain_deed(*state, MITM_REPLAY, REPL_CHAIN_REORDER);
}

static void test_chain_tamper(void **state)
{
	rt_chain_deed(*state, MITM_TAMPER, REPL_CHAIN_MISMATCH);
}

/* Both ends of cell 1's stream to 2 sum their chains up alike. */
static int rt_streams_agree(struct rt *t, void *arg)
{
	struct repl_chain_stream a[4], b[4];
	uint32_t na = repl_chain_streams(t->a.repl, a, 4),
		 nb = repl_chain_streams(t->b.repl, b, 4), i, j;

	(void)arg;
	for (i = 0; i < na && i < 4; i++) {
		if (!a[i].tx || a[i].peer != 2)
			continue;
		for (j = 0; j < nb && j < 4; j++)
			if (!b[j].tx && b[j].peer == 1 && !b[j].broken &&
			    b[j].chains == a[i].chains &&
			    b[j].links == a[i].links &&
			    b[j].fingerprint == a[i].fingerprint)
				return 1;
	}
	return 0;
}

/* The chain turned off and on again in the middle of a stream: no break,
 * nothing lost; off, the batches travel without links (no part of any
 * chain); on again, every shared shard's chain starts from a snapshot,
 * and batches framed before their snapshot go on from the chain as it
 * was. */
static void test_chain_toggle(void **state)
{
	struct rt *t = *state;
	uint32_t n = 500, more = 1000;
	const struct repl_stats *sb = repl_stats(t->b.repl);
	uint64_t links, snaps;

	rt_create(t, n);
	assert_true(rt_until(t, rt_mirror_has, &n));
	assert_true(rt_until(t, rt_streams_agree, NULL));
	assert_true(repl_chain_on(t->a.repl));
	links = sb->chain_links_rx;
	assert_true(links > 0);
	repl_chain_set(t->a.repl, false);
	assert_false(repl_chain_on(t->a.repl));
	rt_create_from(t, n, more);
	assert_true(rt_until(t, rt_mirror_has, &more));
	assert_true(sb->chain_unchained > 0);
	snaps = repl_stats(t->a.repl)->snapshots;
	repl_chain_set(t->a.repl, true);
	rt_create_from(t, more, 3000);
	more = 3000;
	assert_true(rt_until(t, rt_mirror_has, &more));
	assert_true(rt_until(t, rt_streams_agree, NULL));
	assert_true(repl_stats(t->a.repl)->snapshots > snaps);
	assert_true(sb->chain_links_rx > links);
	/* Off and on at once: the next flush frames changes before the
	 * snapshots restart the chains. */
	repl_chain_set(t->a.repl, false);
	repl_chain_set(t->a.repl, true);
	rt_create_from(t, more, 3500);
	more = 3500;
	assert_true(rt_until(t, rt_mirror_has, &more));
	assert_true(rt_until(t, rt_streams_agree, NULL));
	assert_int_equal(rt_breaks_all(t), 0);
	assert_int_equal(sb->chain_resyncs_tx, 0);
}

/* Off from the start: nothing chained, nothing checked, all there. */
static void test_chain_off(void **state)
{
	struct rt *t = *state;
	uint32_t n = NFLOWS;
	struct repl_chain_stream cs[4];

	repl_chain_set(t->a.repl, false);
	repl_chain_set(t->b.repl, false);
	rt_create(t, n);
	assert_true(rt_until(t, rt_mirror_has, &n));
	assert_int_equal(repl_stats(t->a.repl)->chain_links_tx, 0);
	assert_int_equal(repl_stats(t->b.repl)->chain_links_rx, 0);
	assert_int_equal(repl_chain_streams(t->b.repl, cs, 4), 0);
	print_message("[figure] replication, chain off: %.1f bytes per "
		      "flow\n",
		      (double)repl_stats(t->a.repl)->bytes_tx / n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_stream, rt_setup,
						rt_teardown),
		cmocka_unit_test_setup_teardown(test_restart_resync, rt_setup,
						rt_teardown),
		cmocka_unit_test_setup_teardown(test_primary_restart_handback,
						rt_setup, rt_teardown),
		cmocka_unit_test_setup_teardown(test_handback_newer_wins,
						rt_setup, rt_teardown),
		cmocka_unit_test_setup_teardown(test_give_follows_primary,
						rt_setup3, rt_teardown),
		cmocka_unit_test_setup_teardown(test_lost_shards_given,
						rt_setup, rt_teardown),
		cmocka_unit_test_setup_teardown(test_no_older_over_newer,
						rt_setup, rt_teardown),
		cmocka_unit_test_setup_teardown(test_peers_unshared_and_killed,
						rt_setup, rt_teardown),
		cmocka_unit_test_setup_teardown(test_own_stall_not_death,
						rt_setup, rt_teardown),
		cmocka_unit_test_setup_teardown(test_hung_peer_back, rt_setup,
						rt_teardown),
		cmocka_unit_test_setup_teardown(test_chain_gap, rt_setup_chain,
						rt_teardown),
		cmocka_unit_test_setup_teardown(test_chain_swap, rt_setup_chain,
						rt_teardown),
		cmocka_unit_test_setup_teardown(test_chain_replay,
						rt_setup_chain, rt_teardown),
		cmocka_unit_test_setup_teardown(test_chain_tamper,
						rt_setup_chain, rt_teardown),
		cmocka_unit_test_setup_teardown(test_chain_toggle,
						rt_setup_chain, rt_teardown),
		cmocka_unit_test_setup_teardown(test_chain_off, rt_setup_chain,
						rt_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

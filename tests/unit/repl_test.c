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
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <arpa/inet.h>

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

static const char *rt_cluster_text = cluster_text;

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
};

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
	assert_int_equal(repl_world_set(t->a.repl, &t->c1, rt_port), 0);
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

/* One turn of both cells' loops. */
static void rt_run(struct rt *t)
{
	evloop_run_once(t->a.el, 2);
	evloop_run_once(t->b.el, 2);
}

/* Run the loops until fn holds, at most 5 s. */
/* A deadline for liveness, not a timing check: generous, since under ASan
 * on a loaded machine (ctest -j2 beside the lab) a hand-back's rounds
 * took over 5 s. */
static int rt_until(struct rt *t, int (*fn)(struct rt *t, void *), void *arg)
{
	uint64_t end = evloop_now_ms() + 20000;

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

static void rt_create(struct rt *t, uint32_t n)
{
	struct flowtab_params p = {.epoch = 9,
				   .primary = 1,
				   .mirror = {2, STEER_NODE_NONE},
				   .rf = 2};
	struct flow_key k;
	uint32_t i;

	for (i = 0; i < n; i++) {
		rt_key(t, i, &k);
		p.backend = (uint16_t)(i % 7);
		assert_non_null(flowtab_create(t->a.ft, &k, &p, rt_now()));
	}
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
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

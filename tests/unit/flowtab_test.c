// SPDX-License-Identifier: GPL-2.0-only
/*
 * Flow table of a cell: create/lookup/touch, the version merge rule
 * (older and equal ignored, closes obey it too, re-create after a close),
 * versions from the clock across restarts, a full table, expiry by state
 * and by owner, shard walks against a brute-force count, and a long run
 * of random operations against a reference model (sorted array).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cell/flowtab.h"

static const struct steer_hash_secret secret = {0x0123456789abcdefull,
						0x0f1e2d3c4b5a6978ull};

/* The version clock the tests drive (ms since the epoch). */
static uint64_t test_ms;

static uint64_t test_clock(void *arg)
{
	(void)arg;
	return test_ms;
}

struct changes {
	uint32_t n;
	struct flowtab_rec last;
};

static void on_change(const struct flowtab_rec *r, void *arg)
{
	struct changes *c = arg;

	c->n++;
	c->last = *r;
}

static struct changes chg;

static struct flow_key key_n(uint32_t n, uint8_t proto)
{
	struct flow_key k;

	memset(&k, 0, sizeof(k));
	flow_addr_set_v4(&k.src, steer_htonl(0x0a000000u | (n & 0xffffff)));
	flow_addr_set_v4(&k.dst, steer_htonl(0xc6130001));
	k.sport = steer_htons((uint16_t)(1024 + (n >> 24)));
	k.dport = steer_htons(443);
	k.proto = proto;
	return k;
}

static struct flowtab_params params(uint16_t backend)
{
	struct flowtab_params p = {
		.epoch = 3,
		.backend = backend,
		.service = 2,
		.primary = 1,
		.mirror = {4, STEER_NODE_NONE},
		.rf = 2,
	};

	return p;
}

static struct flowtab_rec rec_make(const struct flow_key *k, uint64_t version,
				   uint8_t state, uint16_t backend)
{
	struct flowtab_rec r;

	memset(&r, 0, sizeof(r));
	r.key = *k;
	r.version = version;
	r.epoch = 3;
	r.backend = backend;
	r.primary = 2;
	r.mirror[0] = 1;
	r.mirror[1] = STEER_NODE_NONE;
	r.rf = 2;
	r.state = state;
	return r;
}

static struct flowtab *table_make(uint32_t capacity)
{
	struct flowtab_cfg cfg;

	flowtab_cfg_default(&cfg, capacity);
	cfg.secret = secret;
	cfg.self_id = 1;
	cfg.clock_ms = test_clock;
	cfg.on_change = on_change;
	cfg.on_change_arg = &chg;
	return flowtab_new(&cfg);
}

/*
 * Everything a test allocates hangs off its fixture, so a failed
 * assertion leaks nothing and the sanitizer build stays quiet.
 */
struct fx {
	struct flowtab *t;     /* 64 entries, self 1, the test clock */
	struct flowtab *extra; /* a second table some tests make */
	void *mem[3];
};

static int fx_setup(void **state, uint32_t capacity)
{
	struct fx *fx = calloc(1, sizeof(*fx));

	test_ms = 1000000;
	memset(&chg, 0, sizeof(chg));
	if (!fx)
		return -1;
	*state = fx;
	fx->t = table_make(capacity);
	return fx->t ? 0 : -1;
}

static int setup(void **state)
{
	return fx_setup(state, 64);
}

static int teardown(void **state)
{
	struct fx *fx = *state;
	int i;

	if (!fx)
		return 0;
	flowtab_free(fx->t);
	flowtab_free(fx->extra);
	for (i = 0; i < 3; i++)
		free(fx->mem[i]);
	free(fx);
	return 0;
}

static void test_create_lookup_update(void **state)
{
	struct flowtab *t = ((struct fx *)*state)->t;
	struct flow_key k = key_n(1, STEER_IPPROTO_TCP);
	struct flow_key u = key_n(1, STEER_IPPROTO_UDP);
	struct flowtab_params p = params(7);
	const struct flowtab_rec *r;
	struct flowtab_stats st;

	assert_null(flowtab_lookup(t, &k));
	r = flowtab_create(t, &k, &p, 500);
	assert_non_null(r);
	assert_true(flow_key_equal(&r->key, &k));
	assert_int_equal(r->version, 1000000ull << 16);
	assert_int_equal(r->state, FLOWTAB_ST_NEW);
	assert_int_equal(r->backend, 7);
	assert_int_equal(r->service, 2);
	assert_int_equal(r->primary, 1);
	assert_int_equal(r->mirror[0], 4);
	assert_int_equal(r->mirror[1], STEER_NODE_NONE);
	assert_int_equal(r->rf, 2);
	assert_int_equal(r->epoch, 3);
	assert_int_equal(r->created_ms, 500);
	assert_int_equal(r->last_ms, 500);
	assert_int_equal(chg.n, 1);
	assert_memory_equal(&chg.last, r, sizeof(*r));
	assert_ptr_equal(flowtab_lookup(t, &k), r);
	/* TCP and UDP of one 4-tuple are two flows. */
	assert_null(flowtab_lookup(t, &u));
	assert_null(flowtab_create(t, &k, &p, 501));
	assert_int_equal(errno, EEXIST);
	assert_non_null(flowtab_create(t, &u, &p, 501));
	assert_int_equal(flowtab_count(t), 2);

	/* An update from the primary replaces the record. */
	struct flowtab_rec up = *flowtab_lookup(t, &k);

	up.version++;
	up.backend = 9;
	assert_int_equal(flowtab_apply(t, &up, 600), 1);
	assert_int_equal(flowtab_lookup(t, &k)->backend, 9);
	assert_int_equal(flowtab_count(t), 2);
	flowtab_get_stats(t, &st);
	assert_int_equal(st.lookups, 5);
	assert_int_equal(st.hits, 3);
	assert_int_equal(st.created, 2);
	assert_int_equal(st.applied, 1);
}

static void test_version_order(void **state)
{
	struct flowtab *t = ((struct fx *)*state)->t;
	struct flow_key k = key_n(2, STEER_IPPROTO_TCP);
	struct flowtab_rec r = rec_make(&k, 10, FLOWTAB_ST_NEW, 1);
	const struct flowtab_rec *got;
	struct flowtab_stats st;

	assert_int_equal(flowtab_apply(t, &r, 0), 1);
	/* Older and equal versions are ignored, whatever they say. */
	r = rec_make(&k, 9, FLOWTAB_ST_ESTABLISHED, 2);
	assert_int_equal(flowtab_apply(t, &r, 0), 0);
	r = rec_make(&k, 10, FLOWTAB_ST_ESTABLISHED, 3);
	assert_int_equal(flowtab_apply(t, &r, 0), 0);
	got = flowtab_lookup(t, &k);
	assert_int_equal(got->version, 10);
	assert_int_equal(got->backend, 1);
	assert_int_equal(got->state, FLOWTAB_ST_NEW);
	/* Newer is applied. */
	r = rec_make(&k, 11, FLOWTAB_ST_ESTABLISHED, 4);
	assert_int_equal(flowtab_apply(t, &r, 0), 1);
	assert_int_equal(flowtab_lookup(t, &k)->backend, 4);
	/* A close older than the live record is ignored. */
	r = rec_make(&k, 8, FLOWTAB_ST_CLOSED, 4);
	assert_int_equal(flowtab_apply(t, &r, 0), 0);
	assert_non_null(flowtab_lookup(t, &k));
	assert_int_equal(flowtab_tombstones(t), 0);
	/* A newer close makes a tombstone. */
	r = rec_make(&k, 12, FLOWTAB_ST_CLOSED, 4);
	assert_int_equal(flowtab_apply(t, &r, 0), 1);
	assert_null(flowtab_lookup(t, &k));
	got = flowtab_lookup_any(t, &k);
	assert_non_null(got);
	assert_int_equal(got->state, FLOWTAB_ST_CLOSED);
	assert_int_equal(got->version, 12);
	assert_int_equal(flowtab_tombstones(t), 1);
	/* The tombstone stops a late older record from reviving the flow. */
	r = rec_make(&k, 11, FLOWTAB_ST_ESTABLISHED, 4);
	assert_int_equal(flowtab_apply(t, &r, 0), 0);
	assert_null(flowtab_lookup(t, &k));
	/* A re-create after the close, newer, is applied. */
	r = rec_make(&k, 13, FLOWTAB_ST_NEW, 5);
	assert_int_equal(flowtab_apply(t, &r, 0), 1);
	assert_int_equal(flowtab_lookup(t, &k)->backend, 5);
	assert_int_equal(flowtab_tombstones(t), 0);
	assert_int_equal(flowtab_count(t), 1);
	/* A close of a flow never seen is kept: an older create may follow. */
	struct flow_key k2 = key_n(3, STEER_IPPROTO_UDP);

	r = rec_make(&k2, 20, FLOWTAB_ST_CLOSED, 1);
	assert_int_equal(flowtab_apply(t, &r, 0), 1);
	r = rec_make(&k2, 19, FLOWTAB_ST_NEW, 1);
	assert_int_equal(flowtab_apply(t, &r, 0), 0);
	assert_null(flowtab_lookup(t, &k2));
	flowtab_get_stats(t, &st);
	assert_int_equal(st.applied, 5);
	assert_int_equal(st.ignored_older, 5);
	/* Applying is not a local change: replication is not told. */
	assert_int_equal(chg.n, 0);
}

static void test_versions_from_clock(void **state)
{
	struct fx *fx = *state;
	struct flowtab *t = fx->t, *t2;
	struct flow_key a = key_n(10, 6), b = key_n(11, 6), c = key_n(12, 6);
	struct flowtab_params p = params(1);
	struct flowtab_rec r;
	uint64_t va, vb, vc;

	va = flowtab_create(t, &a, &p, 0)->version;
	/* Same millisecond: the counter orders them. */
	vb = flowtab_create(t, &b, &p, 0)->version;
	assert_int_equal(vb, va + 1);
	/* The clock stepping back does not bring versions down. */
	test_ms -= 5000;
	vc = flowtab_create(t, &c, &p, 1)->version;
	assert_int_equal(vc, vb + 1);
	/* The clock is read again when now moves, not on every version. */
	assert_int_equal(flowtab_delete(t, &c), 0);
	test_ms += 10000;
	assert_int_equal(flowtab_create(t, &c, &p, 1)->version, vc + 1);
	assert_int_equal(flowtab_delete(t, &c), 0);
	vc = flowtab_create(t, &c, &p, 2)->version;
	assert_int_equal(vc, test_ms << 16);
	/* A close re-issues above the tombstone even with the clock behind. */
	assert_int_equal(flowtab_close(t, &a, 1), 0);
	assert_true(flowtab_lookup_any(t, &a)->version > vc);
	r = *flowtab_lookup_any(t, &a);
	r.version = (2000000ull << 16) + 7; /* from a cell ahead of us */
	assert_int_equal(flowtab_apply(t, &r, 1), 1);
	va = flowtab_create(t, &a, &p, 2)->version;
	assert_int_equal(va, (2000000ull << 16) + 8);
	/* Lamport: a state change after applying a newer record goes above. */
	r = *flowtab_lookup(t, &b);
	r.version = (3000000ull << 16);
	assert_int_equal(flowtab_apply(t, &r, 2), 1);
	assert_int_equal(flowtab_touch(t, &c, 60, 0x10, 3), 1);
	assert_int_equal(flowtab_lookup(t, &c)->version,
			 (3000000ull << 16) + 1);

	/* A restarted primary (a new table, the clock moved on) goes above. */
	vc = flowtab_lookup(t, &c)->version;
	t2 = fx->extra = table_make(64);
	assert_non_null(t2);
	test_ms = 3000001;
	assert_true(flowtab_create(t2, &c, &p, 0)->version > vc);
}

/*
 * Two cells take the same record over, each primary of its shard by its
 * own map for a moment (a partition's two sides, a map of the moment
 * during a heal): their versions differ, the later one above, so the
 * records meet and one owner remains. A version of floor + 1 on both
 * tied, and a tie never merges.
 */
static void test_version_next_takeover(void **state)
{
	struct fx *fx = *state;
	struct flowtab *t = fx->t, *t2;
	struct flow_key a = key_n(20, 6);
	struct flowtab_rec r = rec_make(&a, 5000ull << 16, FLOWTAB_ST_NEW, 3);
	uint64_t v1, v2;

	t2 = fx->extra = table_make(64);
	assert_non_null(t2);
	assert_int_equal(flowtab_apply(t, &r, 0), 1);
	assert_int_equal(flowtab_apply(t2, &r, 0), 1);
	v1 = flowtab_version_next(t, r.version, 1);
	test_ms++;
	v2 = flowtab_version_next(t2, r.version, 1);
	assert_true(v1 > r.version);
	assert_true(v2 > v1);
	r.version = v1;
	r.primary = 1;
	assert_int_equal(flowtab_apply(t, &r, 1), 1);
	r.version = v2;
	r.primary = 4;
	assert_int_equal(flowtab_apply(t2, &r, 1), 1);
	/* Each side's record meets the other's: the later one stays. */
	assert_int_equal(flowtab_apply(t, flowtab_lookup(t2, &a), 2), 1);
	assert_int_equal(flowtab_apply(t2, flowtab_lookup(t, &a), 2), 0);
	assert_int_equal(flowtab_lookup(t, &a)->primary, 4);
	/* Above every version the table issued or applied, and the floor. */
	assert_true(flowtab_version_next(t, 1, 3) > v2);
	assert_true(flowtab_version_next(t, UINT64_C(1) << 62, 3) >
		    UINT64_C(1) << 62);
}

static void test_touch_tcp_states(void **state)
{
	struct flowtab *t = ((struct fx *)*state)->t;
	struct flow_key k = key_n(20, STEER_IPPROTO_TCP);
	struct flow_key u = key_n(21, STEER_IPPROTO_UDP);
	struct flowtab_params p = params(1);
	const struct flowtab_rec *r;
	uint64_t v;

	r = flowtab_create(t, &k, &p, 100);
	v = r->version;
	assert_int_equal(flowtab_touch(t, &k, 60, 0x02, 101), 0); /* SYN */
	assert_int_equal(r->state, FLOWTAB_ST_NEW);
	assert_int_equal(r->version, v);
	assert_int_equal(flowtab_touch(t, &k, 52, 0x10, 102), 1); /* ACK */
	assert_int_equal(r->state, FLOWTAB_ST_ESTABLISHED);
	assert_true(r->version > v);
	v = r->version;
	assert_int_equal(flowtab_touch(t, &k, 1000, 0x18, 103), 0);
	assert_int_equal(r->version, v);
	assert_int_equal(r->packets, 3);
	assert_int_equal(r->bytes, 1112);
	assert_int_equal(r->tcp_flags, 0x1a);
	assert_int_equal(r->last_ms, 103);
	assert_int_equal(r->created_ms, 100);
	assert_int_equal(flowtab_touch(t, &k, 52, 0x11, 104), 1); /* FIN */
	assert_int_equal(r->state, FLOWTAB_ST_CLOSING);
	assert_true(r->version > v);
	assert_int_equal(flowtab_touch(t, &k, 52, 0x10, 105), 0);
	assert_int_equal(r->state, FLOWTAB_ST_CLOSING);
	/* A new connection on the same 5-tuple. */
	assert_int_equal(flowtab_touch(t, &k, 60, 0x02, 106), 1);
	assert_int_equal(r->state, FLOWTAB_ST_NEW);
	assert_int_equal(r->packets, 1);
	assert_int_equal(r->bytes, 60);
	assert_int_equal(r->tcp_flags, 0x02);
	assert_int_equal(r->created_ms, 106);
	/* create + 3 state changes went to replication, the rest did not. */
	assert_int_equal(chg.n, 4);
	assert_memory_equal(&chg.last, r, sizeof(*r));

	/* UDP has no states to move through. */
	r = flowtab_create(t, &u, &p, 100);
	v = r->version;
	assert_int_equal(flowtab_touch(t, &u, 100, 0, 101), 0);
	assert_int_equal(flowtab_touch(t, &u, 100, 0, 102), 0);
	assert_int_equal(r->state, FLOWTAB_ST_NEW);
	assert_int_equal(r->version, v);
	assert_int_equal(r->packets, 2);

	/* Unknown and closed flows are not touched. */
	struct flow_key none = key_n(22, STEER_IPPROTO_TCP);

	assert_int_equal(flowtab_touch(t, &none, 1, 0, 107), -ENOENT);
	assert_int_equal(flowtab_close(t, &u, 108), 0);
	assert_int_equal(flowtab_touch(t, &u, 1, 0, 109), -ENOENT);
	assert_int_equal(flowtab_close(t, &u, 110), -ENOENT);
	assert_int_equal(chg.last.state, FLOWTAB_ST_CLOSED);
	assert_true(flow_key_equal(&chg.last.key, &u));
}

/* Fills the 64 entries, then checks nothing moved when one more fails. */
static void test_full(void **state)
{
	struct flowtab *t = ((struct fx *)*state)->t;
	struct flowtab_params p;
	struct flowtab_stats st;
	struct flow_key k, extra = key_n(1000, 6);
	struct flowtab_rec r;
	uint32_t i, s, sum = 0;

	for (i = 0; i < 64; i++) {
		k = key_n(i, 6);
		p = params((uint16_t)i);
		assert_non_null(flowtab_create(t, &k, &p, 0));
	}
	assert_int_equal(flowtab_count(t), flowtab_capacity(t));
	p = params(999);
	assert_null(flowtab_create(t, &extra, &p, 0));
	assert_int_equal(errno, ENOSPC);
	r = rec_make(&extra, 5, FLOWTAB_ST_NEW, 999);
	assert_int_equal(flowtab_apply(t, &r, 0), -ENOSPC);
	r = rec_make(&extra, 5, FLOWTAB_ST_CLOSED, 999);
	assert_int_equal(flowtab_apply(t, &r, 0), -ENOSPC);
	flowtab_get_stats(t, &st);
	assert_int_equal(st.full, 3);
	assert_null(flowtab_lookup_any(t, &extra));
	for (i = 0; i < 64; i++) {
		k = key_n(i, 6);
		assert_non_null(flowtab_lookup(t, &k));
		assert_int_equal(flowtab_lookup(t, &k)->backend, i);
	}
	for (s = 0; s < FLOWTAB_SHARDS; s++)
		sum += flowtab_shard_count(t, s);
	assert_int_equal(sum, 64);
	/* Updating a flow held still works when full. */
	k = key_n(5, 6);
	r = *flowtab_lookup(t, &k);
	r.version++;
	r.backend = 555;
	assert_int_equal(flowtab_apply(t, &r, 0), 1);
	assert_int_equal(flowtab_lookup(t, &k)->backend, 555);
	/* A fresh tombstone holds its entry... */
	assert_int_equal(flowtab_close(t, &k, 1000), 0);
	assert_null(flowtab_create(t, &extra, &p, 1000));
	assert_int_equal(errno, ENOSPC);
	/* ...until it is past closed_timeout: then a full table reclaims it. */
	assert_non_null(flowtab_create(t, &extra, &p, 1000 + 10001));
	assert_null(flowtab_lookup_any(t, &k));
	flowtab_get_stats(t, &st);
	assert_int_equal(st.reclaimed, 1);
	assert_int_equal(flowtab_count(t), 64);
	/* A delete frees an entry too. */
	k = key_n(6, 6);
	assert_int_equal(flowtab_delete(t, &k), 0);
	assert_int_equal(flowtab_delete(t, &k), -ENOENT);
	k = key_n(5, 6);
	assert_non_null(flowtab_create(t, &k, &p, 1000));
	assert_int_equal(flowtab_count(t), 64);
	assert_int_equal(flowtab_tombstones(t), 0);
}

static void test_expire_by_state(void **state)
{
	struct flowtab *t = ((struct fx *)*state)->t;
	struct flow_key a = key_n(30, STEER_IPPROTO_TCP); /* SYN only */
	struct flow_key b = key_n(31, STEER_IPPROTO_TCP); /* established */
	struct flow_key c = key_n(32, STEER_IPPROTO_TCP); /* closing */
	struct flow_key d = key_n(33, STEER_IPPROTO_UDP);
	struct flow_key e = key_n(34, STEER_IPPROTO_ICMP);
	struct flow_key f = key_n(35, STEER_IPPROTO_TCP); /* a replica */
	struct flowtab_params p = params(1);
	struct flowtab_rec r;
	struct flowtab_stats st;
	uint64_t va;

	flowtab_create(t, &a, &p, 0);
	flowtab_touch(t, &a, 60, 0x02, 0);
	flowtab_create(t, &b, &p, 0);
	flowtab_touch(t, &b, 60, 0x10, 0);
	flowtab_create(t, &c, &p, 0);
	flowtab_touch(t, &c, 60, 0x10, 0);
	flowtab_touch(t, &c, 60, 0x11, 0);
	flowtab_create(t, &d, &p, 0);
	flowtab_create(t, &e, &p, 0);
	r = rec_make(&f, 5, FLOWTAB_ST_ESTABLISHED, 1); /* primary 2 */
	assert_int_equal(flowtab_apply(t, &r, 0), 1);
	va = flowtab_lookup(t, &a)->version;
	chg.n = 0;

	assert_int_equal(flowtab_expire(t, 10000, 64), 0);
	assert_int_equal(flowtab_expire(t, 10001, 64), 2);
	assert_null(flowtab_lookup(t, &a));
	assert_null(flowtab_lookup(t, &c));
	assert_non_null(flowtab_lookup(t, &b));
	/* Expired flows are closed with a new version, for the mirrors. */
	assert_int_equal(flowtab_lookup_any(t, &a)->state, FLOWTAB_ST_CLOSED);
	assert_true(flowtab_lookup_any(t, &a)->version > va);
	assert_int_equal(flowtab_lookup_any(t, &a)->last_ms, 10001);
	assert_int_equal(chg.n, 2);
	assert_int_equal(chg.last.state, FLOWTAB_ST_CLOSED);
	assert_int_equal(flowtab_tombstones(t), 2);

	assert_int_equal(flowtab_expire(t, 20001, 64), 0);
	assert_int_equal(flowtab_tombstones(t), 2);
	assert_int_equal(flowtab_expire(t, 20002, 64), 0); /* tombstones go */
	assert_int_equal(flowtab_tombstones(t), 0);
	assert_null(flowtab_lookup_any(t, &a));
	assert_int_equal(flowtab_count(t), 4);

	assert_int_equal(flowtab_expire(t, 30000, 64), 0);
	assert_int_equal(flowtab_expire(t, 30001, 64), 2);
	assert_null(flowtab_lookup(t, &d));
	assert_null(flowtab_lookup(t, &e));
	assert_int_equal(flowtab_expire(t, 300000, 64), 0);
	assert_non_null(flowtab_lookup(t, &b));
	assert_int_equal(flowtab_expire(t, 300001, 64), 1);
	assert_null(flowtab_lookup(t, &b));
	/* A replica leaves on its primary's word, never by our clock. */
	assert_int_equal(flowtab_expire(t, 2000000000u, 64), 0);
	assert_non_null(flowtab_lookup(t, &f));
	assert_int_equal(flowtab_count(t), 1);
	flowtab_get_stats(t, &st);
	assert_int_equal(st.expired, 5);
	assert_int_equal(st.reclaimed, 5);
}

/* The sweep goes on where it stopped: budgets add up to one full pass. */
/* A cell that sees only first packets: opening flows live long, closing
 * ones go after the closing timeout. */
static void test_expire_opening(void **state)
{
	struct fx *fx = *state;
	struct flowtab_params p = params(1);
	struct flow_key a = key_n(40, STEER_IPPROTO_TCP); /* SYN only */
	struct flow_key c = key_n(41, STEER_IPPROTO_TCP); /* closing */
	struct flowtab_cfg cfg;

	flowtab_cfg_default(&cfg, 64);
	cfg.self_id = 1;
	cfg.clock_ms = test_clock;
	cfg.tcp_opening_timeout_ms = 50000;
	cfg.tcp_closing_timeout_ms = 2000;
	fx->extra = flowtab_new(&cfg);
	assert_non_null(fx->extra);
	flowtab_create(fx->extra, &a, &p, 0);
	flowtab_touch(fx->extra, &a, 60, 0x02, 0);
	flowtab_create(fx->extra, &c, &p, 0);
	flowtab_touch(fx->extra, &c, 60, 0x02, 0);
	flowtab_touch(fx->extra, &c, 60, 0x11, 0);
	assert_int_equal(flowtab_lookup(fx->extra, &c)->state,
			 FLOWTAB_ST_CLOSING);
	assert_int_equal(flowtab_expire(fx->extra, 2000, 64), 0);
	assert_int_equal(flowtab_expire(fx->extra, 2001, 64), 1);
	assert_null(flowtab_lookup(fx->extra, &c));
	assert_non_null(flowtab_lookup(fx->extra, &a));
	assert_int_equal(flowtab_expire(fx->extra, 50000, 64), 0);
	assert_int_equal(flowtab_expire(fx->extra, 50001, 64), 1);
	assert_null(flowtab_lookup(fx->extra, &a));
	cfg.tcp_opening_timeout_ms = 1u << 31;
	assert_null(flowtab_new(&cfg));
	assert_int_equal(errno, EINVAL);
}

/*
 * Under pressure a half-open TCP flow (new, nothing since its first
 * packet) idles out after the half-open timeout; one a report or a packet
 * refreshed does not, nor does anything without pressure.
 */
static void test_expire_halfopen(void **state)
{
	struct fx *fx = *state;
	struct flowtab_params p = params(1);
	struct flow_key h = key_n(50, STEER_IPPROTO_TCP); /* half-open */
	struct flow_key s = key_n(51, STEER_IPPROTO_TCP); /* seen later */
	struct flow_key u = key_n(52, STEER_IPPROTO_UDP);
	struct flowtab_stats st;
	struct flowtab_cfg cfg;
	struct flowtab *t;

	flowtab_cfg_default(&cfg, 64);
	cfg.self_id = 1;
	cfg.clock_ms = test_clock;
	cfg.tcp_opening_timeout_ms = 300000;
	cfg.tcp_halfopen_timeout_ms = 31000;
	cfg.udp_timeout_ms = 300000;
	fx->extra = t = flowtab_new(&cfg);
	assert_non_null(t);
	flowtab_create(t, &h, &p, 0);
	flowtab_touch(t, &h, 60, 0x02, 0);
	flowtab_create(t, &s, &p, 0);
	flowtab_touch(t, &s, 60, 0x02, 0);
	flowtab_create(t, &u, &p, 0);
	assert_int_equal(flowtab_seen(t, &s, 15000), 0);
	/* No pressure: the opening timeout holds for both. */
	assert_false(flowtab_pressure(t));
	assert_int_equal(flowtab_expire(t, 40000, 64), 0);
	flowtab_pressure_set(t, true);
	assert_true(flowtab_pressure(t));
	assert_int_equal(flowtab_expire(t, 31000, 64), 0);
	assert_int_equal(flowtab_expire(t, 40000, 64), 1);
	assert_null(flowtab_lookup(t, &h));
	assert_non_null(flowtab_lookup(t, &s));
	assert_non_null(flowtab_lookup(t, &u));
	flowtab_get_stats(t, &st);
	assert_int_equal(st.halfopen_expired, 1);
	assert_int_equal(st.expired, 1);
	/* Pressure off again: the seen one keeps its usual timeout. */
	flowtab_pressure_set(t, false);
	assert_int_equal(flowtab_expire(t, 300000, 64), 0);
	cfg.tcp_halfopen_timeout_ms = 1u << 31;
	assert_null(flowtab_new(&cfg));
	assert_int_equal(errno, EINVAL);
}

/* A fast path's report of use keeps a flow from idling out, and nothing
 * else: no version, no callback; an older report changes nothing. */
static struct changes ends;

static void on_end(const struct flowtab_rec *r, void *arg)
{
	(void)arg;
	ends.n++;
	ends.last = *r;
}

static void count_visit(const struct flowtab_rec *r, void *arg)
{
	assert_int_not_equal(r->state, FLOWTAB_ST_CLOSED);
	(*(uint32_t *)arg)++;
}

/* on_end hears a flow of this cell end once: at a FIN, at a close, or
 * idled out (at its last use); not another cell's
 * flow. flowtab_visit walks live flows only, from its own cursor. */
static void test_on_end_and_visit(void **state)
{
	struct fx *fx = *state;
	struct flowtab_cfg cfg;
	struct flowtab_params p = params(1);
	struct flow_key a = key_n(60, STEER_IPPROTO_TCP);
	struct flow_key b = key_n(61, STEER_IPPROTO_UDP);
	struct flow_key o = key_n(62, STEER_IPPROTO_UDP);
	struct flow_key c = key_n(63, STEER_IPPROTO_TCP);
	struct flowtab_rec other = rec_make(&o, 5, FLOWTAB_ST_ESTABLISHED, 1);
	uint32_t seen = 0;

	flowtab_cfg_default(&cfg, 64);
	cfg.secret = secret;
	cfg.self_id = 1;
	cfg.clock_ms = test_clock;
	cfg.on_end = on_end;
	fx->extra = flowtab_new(&cfg);
	assert_non_null(fx->extra);
	memset(&ends, 0, sizeof(ends));
	p.primary = 1;
	assert_non_null(flowtab_create(fx->extra, &a, &p, 1000));
	assert_non_null(flowtab_create(fx->extra, &b, &p, 1000));
	assert_int_equal(flowtab_apply(fx->extra, &other, 1000), 1);
	assert_int_equal(flowtab_visit(fx->extra, 64, count_visit, &seen), 3);
	assert_int_equal(seen, 3);
	assert_int_equal(flowtab_seen(fx->extra, &a, 5000), 0);
	assert_int_equal(flowtab_close(fx->extra, &a, 7000), 0);
	assert_int_equal(ends.n, 1);
	assert_memory_equal(&ends.last.key, &a, sizeof(a));
	assert_int_equal(ends.last.created_ms, 1000);
	assert_int_equal(ends.last.last_ms, 7000);
	assert_int_not_equal(ends.last.state, FLOWTAB_ST_CLOSED);
	assert_int_equal(flowtab_seen(fx->extra, &b, 2000), 0);
	assert_int_equal(flowtab_expire(fx->extra, 2000 + 30001, 64), 1);
	assert_int_equal(ends.n, 2);
	assert_int_equal(ends.last.last_ms, 2000);
	/* Node 2's flow held here: closed, not ended here. */
	assert_int_equal(flowtab_close(fx->extra, &o, 40000), 0);
	assert_int_equal(ends.n, 2);
	/* A FIN ends a flow at once; its closing record idling out later
	 * does not end it again. */
	assert_non_null(flowtab_create(fx->extra, &c, &p, 41000));
	assert_int_equal(flowtab_touch(fx->extra, &c, 60, STEER_TCP_ACK, 41500),
			 1);
	assert_int_equal(ends.n, 2);
	assert_int_equal(flowtab_touch(fx->extra, &c, 60,
				       STEER_TCP_FIN | STEER_TCP_ACK, 43000),
			 1);
	assert_int_equal(ends.n, 3);
	assert_int_equal(ends.last.last_ms, 43000);
	assert_int_equal(ends.last.created_ms, 41000);
	assert_int_equal(flowtab_expire(fx->extra, 43000 + 11000, 64), 1);
	assert_int_equal(ends.n, 3);
	seen = 0;
	assert_int_equal(flowtab_visit(fx->extra, 64, count_visit, &seen), 0);
}

static void test_seen(void **state)
{
	struct flowtab *t = ((struct fx *)*state)->t;
	struct flowtab_params p = params(1);
	struct flow_key k = key_n(50, STEER_IPPROTO_UDP);
	struct flow_key none = key_n(51, STEER_IPPROTO_UDP);
	uint64_t v;

	assert_non_null(flowtab_create(t, &k, &p, 0));
	v = flowtab_lookup(t, &k)->version;
	chg.n = 0;
	assert_int_equal(flowtab_seen(t, &k, 25000), 0);
	assert_int_equal(flowtab_seen(t, &k, 20000), 0);
	assert_int_equal(flowtab_lookup(t, &k)->last_ms, 25000);
	assert_int_equal(flowtab_lookup(t, &k)->version, v);
	assert_int_equal(chg.n, 0);
	assert_int_equal(flowtab_expire(t, 30001, 64), 0); /* 30 s UDP */
	assert_int_equal(flowtab_expire(t, 55001, 64), 1);
	assert_int_equal(flowtab_seen(t, &k, 60000), -ENOENT); /* closed */
	assert_int_equal(flowtab_seen(t, &none, 60000), -ENOENT);
}

static void test_expire_budget(void **state)
{
	struct flowtab *t = ((struct fx *)*state)->t;
	struct flowtab_params p = params(1);
	uint32_t i, n = 0;

	for (i = 0; i < 40; i++) {
		struct flow_key k = key_n(100 + i, STEER_IPPROTO_UDP);

		assert_non_null(flowtab_create(t, &k, &p, 0));
	}
	for (i = 0; i < 8; i++)
		n += flowtab_expire(t, 30001, 8);
	assert_int_equal(n, 40);
	assert_int_equal(flowtab_expire(t, 30001, 64), 0);
}

struct walk_ctx {
	const struct flowtab *t;
	uint32_t shard;
	uint32_t visits;
	uint32_t wrong_shard;
	uint32_t dup;
	uint8_t *seen;	     /* by key index */
	struct flowtab *del; /* non-NULL: delete every visited record */
};

static uint32_t key_index(const struct flow_key *k)
{
	return steer_ntohl(k->src.w[3]) & 0xffffff;
}

static int walk_fn(const struct flowtab_rec *r, void *arg)
{
	struct walk_ctx *w = arg;
	uint32_t i = key_index(&r->key);

	w->visits++;
	/* Shard recomputed here, independently of the table. */
	if ((flow_hash(&r->key, &secret) & (FLOWTAB_SHARDS - 1)) != w->shard)
		w->wrong_shard++;
	if (w->seen[i])
		w->dup++;
	w->seen[i] = 1;
	if (w->del)
		flowtab_delete(w->del, &r->key);
	return 0;
}

static int walk_stop(const struct flowtab_rec *r, void *arg)
{
	(void)r;
	++*(uint32_t *)arg;
	return 42;
}

#define NWALK 20000

static void check_shards(struct flowtab *t, const struct flow_key *keys,
			 const uint8_t *present, uint8_t *seen)
{
	static uint32_t brute[FLOWTAB_SHARDS];
	uint32_t s, i, total = 0;

	/* Brute force: every key's shard from the hash, counted here. */
	memset(brute, 0, sizeof(brute));
	for (i = 0; i < NWALK; i++)
		if (present[i])
			brute[flow_hash(&keys[i], &secret) &
			      (FLOWTAB_SHARDS - 1)]++;
	memset(seen, 0, NWALK);
	for (s = 0; s < FLOWTAB_SHARDS; s++) {
		struct walk_ctx w = {.t = t, .shard = s, .seen = seen};

		assert_int_equal(flowtab_shard_walk(t, s, walk_fn, &w), 0);
		assert_int_equal(w.visits, brute[s]);
		assert_int_equal(flowtab_shard_count(t, s), brute[s]);
		assert_int_equal(w.wrong_shard, 0);
		assert_int_equal(w.dup, 0);
		total += brute[s];
	}
	for (i = 0; i < NWALK; i++)
		assert_int_equal(seen[i], present[i]);
	assert_int_equal(total, flowtab_count(t));
}

static uint64_t rng_next(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *s = x;
}

static int setup_walk(void **state)
{
	return fx_setup(state, 32768);
}

static void test_shard_walk(void **state)
{
	struct fx *fx = *state;
	struct flowtab *t = fx->t;
	struct flow_key *keys = fx->mem[0] = calloc(NWALK, sizeof(*keys));
	uint8_t *present = fx->mem[1] = calloc(NWALK, 1);
	uint8_t *seen = fx->mem[2] = calloc(NWALK, 1);
	uint64_t seed = 0x5eedf00dull;
	uint32_t i, n, s, stopped = 0;

	assert_non_null(keys);
	assert_non_null(present);
	assert_non_null(seen);
	for (i = 0; i < NWALK; i++) {
		uint64_t x = rng_next(&seed);
		struct flowtab_rec r;

		keys[i] = key_n(i, (x & 1) ? STEER_IPPROTO_TCP
					   : STEER_IPPROTO_UDP);
		keys[i].sport = (uint16_t)(x >> 8);
		r = rec_make(&keys[i], 1 + (x >> 40),
			     (x >> 4) % 5 ? FLOWTAB_ST_ESTABLISHED
					  : FLOWTAB_ST_CLOSED,
			     1);
		assert_int_equal(flowtab_apply(t, &r, 0), 1);
		present[i] = 1;
	}
	check_shards(t, keys, present, seen);

	/* Deletes unlink from the middle, the head and the tail of lists. */
	for (i = 0; i < NWALK; i += 3) {
		assert_int_equal(flowtab_delete(t, &keys[i]), 0);
		present[i] = 0;
	}
	check_shards(t, keys, present, seen);

	/* A walk may delete the record it is given: empty one shard. */
	s = flowtab_shard_of(t, &keys[1]);
	n = flowtab_shard_count(t, s);
	assert_true(n > 1);
	{
		struct walk_ctx w = {
			.t = t, .shard = s, .seen = seen, .del = t};

		memset(seen, 0, NWALK);
		assert_int_equal(flowtab_shard_walk(t, s, walk_fn, &w), 0);
		assert_int_equal(w.visits, n);
	}
	assert_int_equal(flowtab_shard_count(t, s), 0);
	for (i = 0; i < NWALK; i++)
		if (present[i] && flowtab_shard_of(t, &keys[i]) == s)
			present[i] = 0;
	check_shards(t, keys, present, seen);

	/* fn's non-zero stops the walk; bad shards are refused. */
	s = flowtab_shard_of(t, &keys[2]);
	assert_int_equal(flowtab_shard_walk(t, s, walk_stop, &stopped), 42);
	assert_int_equal(stopped, 1);
	assert_int_equal(
		flowtab_shard_walk(t, FLOWTAB_SHARDS, walk_stop, &stopped),
		-EINVAL);
	assert_int_equal(flowtab_shard_count(t, FLOWTAB_SHARDS), 0);
}

/*
 * The reference model: the records by key, in a sorted array, and the
 * highest version seen (the table's Lamport clock, since the test clock
 * reads 0 and so never leads).
 */
#define MPOOL 200
#define MCAP 128

struct model {
	struct flowtab_rec recs[MPOOL];
	uint32_t n;
	uint64_t vmax;
};

static int key_cmp(const struct flow_key *a, const struct flow_key *b)
{
	return memcmp(a, b, sizeof(*a));
}

/* Index of k, or -(insertion point) - 1. */
static int model_find(const struct model *m, const struct flow_key *k)
{
	int lo = 0, hi = (int)m->n - 1;

	while (lo <= hi) {
		int mid = (lo + hi) / 2, c = key_cmp(&m->recs[mid].key, k);

		if (!c)
			return mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return -lo - 1;
}

static void model_put(struct model *m, const struct flowtab_rec *r)
{
	int i = model_find(m, &r->key);

	if (i >= 0) {
		m->recs[i] = *r;
		return;
	}
	i = -i - 1;
	memmove(&m->recs[i + 1], &m->recs[i],
		(m->n - (uint32_t)i) * sizeof(m->recs[0]));
	m->recs[i] = *r;
	m->n++;
}

static void model_del(struct model *m, int i)
{
	memmove(&m->recs[i], &m->recs[i + 1],
		(m->n - (uint32_t)i - 1) * sizeof(m->recs[0]));
	m->n--;
}

static void model_check_all(struct flowtab *t, const struct model *m,
			    const struct flow_key *pool)
{
	uint32_t i, tomb = 0, s, sum = 0;

	for (i = 0; i < MPOOL; i++) {
		int j = model_find(m, &pool[i]);
		const struct flowtab_rec *r = flowtab_lookup_any(t, &pool[i]);

		if (j < 0) {
			assert_null(r);
			continue;
		}
		assert_non_null(r);
		assert_memory_equal(r, &m->recs[j], sizeof(*r));
		tomb += r->state == FLOWTAB_ST_CLOSED;
	}
	assert_int_equal(flowtab_count(t), m->n);
	assert_int_equal(flowtab_tombstones(t), tomb);
	for (s = 0; s < FLOWTAB_SHARDS; s++)
		sum += flowtab_shard_count(t, s);
	assert_int_equal(sum, m->n);
}

static int setup_model(void **state)
{
	return fx_setup(state, MCAP);
}

static void test_random_model(void **state)
{
	struct fx *fx = *state;
	struct flowtab *t = fx->t;
	struct model *m = fx->mem[0] = calloc(1, sizeof(*m));
	struct flow_key pool[MPOOL];
	uint64_t seed = 0xc0ffee1234ull;
	uint32_t op, i, applied = 0, ignored = 0, full = 0;
	struct flowtab_stats st;

	assert_non_null(m);
	test_ms = 0;
	for (i = 0; i < MPOOL; i++)
		pool[i] = key_n(i * 7919, i & 1 ? 6 : 17);
	for (op = 0; op < 200000; op++) {
		uint64_t x = rng_next(&seed);
		const struct flow_key *k = &pool[x % MPOOL];
		uint32_t what = (uint32_t)(x >> 16) % 100;
		int j = model_find(m, k), ret;
		struct flowtab_rec r;
		const struct flowtab_rec *got;

		if (what < 50) {
			uint64_t lo = m->vmax > 40 ? m->vmax - 40 : 1;

			r = rec_make(k, lo + (x >> 24) % (m->vmax + 9 - lo),
				     (uint8_t)(1 + (x >> 40) % 4),
				     (uint16_t)(x >> 48));
			r.packets = (uint32_t)op;
			ret = flowtab_apply(t, &r, 0);
			if (r.version > m->vmax)
				m->vmax = r.version;
			if (j >= 0 && r.version <= m->recs[j].version) {
				assert_int_equal(ret, 0);
				ignored++;
			} else if (j < 0 && m->n == MCAP) {
				assert_int_equal(ret, -ENOSPC);
				full++;
			} else {
				assert_int_equal(ret, 1);
				model_put(m, &r);
				applied++;
			}
		} else if (what < 62) {
			ret = flowtab_delete(t, k);
			assert_int_equal(ret, j >= 0 ? 0 : -ENOENT);
			if (j >= 0)
				model_del(m, j);
		} else if (what < 77) {
			struct flowtab_params p = params((uint16_t)op);

			got = flowtab_create(t, k, &p, 0);
			if (j >= 0 && m->recs[j].state != FLOWTAB_ST_CLOSED) {
				assert_null(got);
				assert_int_equal(errno, EEXIST);
			} else if (j < 0 && m->n == MCAP) {
				assert_null(got);
				assert_int_equal(errno, ENOSPC);
				full++;
			} else {
				assert_non_null(got);
				assert_int_equal(got->version, m->vmax + 1);
				assert_int_equal(got->backend, (uint16_t)op);
				m->vmax = got->version;
				model_put(m, got);
			}
		} else if (what < 85) {
			ret = flowtab_close(t, k, 0);
			if (j >= 0 && m->recs[j].state != FLOWTAB_ST_CLOSED) {
				assert_int_equal(ret, 0);
				m->recs[j].state = FLOWTAB_ST_CLOSED;
				m->recs[j].version = ++m->vmax;
			} else {
				assert_int_equal(ret, -ENOENT);
			}
		} else if (what < 97) {
			got = flowtab_lookup(t, k);
			if (j >= 0 && m->recs[j].state != FLOWTAB_ST_CLOSED) {
				assert_non_null(got);
				assert_memory_equal(got, &m->recs[j],
						    sizeof(*got));
			} else {
				assert_null(got);
			}
		} else {
			/* Bad input changes nothing. */
			r = rec_make(k, m->vmax + 100, 1, 1);
			r.state = (uint8_t)(x >> 40) % 2 ? 0 : 9;
			assert_int_equal(flowtab_apply(t, &r, 0), -EINVAL);
		}
		if (op % 997 == 0)
			model_check_all(t, m, pool);
	}
	model_check_all(t, m, pool);
	flowtab_get_stats(t, &st);
	assert_int_equal(st.applied, applied);
	assert_int_equal(st.ignored_older, ignored);
	assert_int_equal(st.full, full);
	/* The run must have exercised every outcome. */
	assert_true(applied > 1000);
	assert_true(ignored > 1000);
	assert_true(full > 100);
}

struct hkey {
	uint32_t h;
	uint32_t n;
};

static int hkey_cmp(const void *a, const void *b)
{
	const struct hkey *x = a, *y = b;

	if (x->h != y->h)
		return x->h < y->h ? -1 : 1;
	return x->n < y->n ? -1 : x->n > y->n;
}

/*
 * Two keys whose hashes agree in the 32 bits an entry keeps (found by
 * birthday search: 2^18 keys make a pair all but certain) share a chain
 * and must still be told apart by the key.
 */
static void test_hash_collision(void **state)
{
	struct fx *fx = *state;
	struct flowtab *t = fx->t;
	const uint32_t n = 1u << 18;
	struct hkey *hk = fx->mem[0] = calloc(n, sizeof(*hk));
	struct flowtab_params p = params(1);
	struct flow_key a, b;
	uint32_t i;

	assert_non_null(hk);
	for (i = 0; i < n; i++) {
		struct flow_key k = key_n(i, STEER_IPPROTO_TCP);

		hk[i].h = (uint32_t)flow_hash(&k, &secret);
		hk[i].n = i;
	}
	qsort(hk, n, sizeof(*hk), hkey_cmp);
	for (i = 1; i < n && hk[i].h != hk[i - 1].h; i++)
		;
	assert_true(i < n);
	a = key_n(hk[i - 1].n, STEER_IPPROTO_TCP);
	b = key_n(hk[i].n, STEER_IPPROTO_TCP);
	assert_int_equal(flowtab_shard_of(t, &a), flowtab_shard_of(t, &b));
	p.backend = 11;
	assert_non_null(flowtab_create(t, &a, &p, 0));
	assert_null(flowtab_lookup(t, &b));
	p.backend = 22;
	assert_non_null(flowtab_create(t, &b, &p, 0));
	assert_int_equal(flowtab_lookup(t, &a)->backend, 11);
	assert_int_equal(flowtab_lookup(t, &b)->backend, 22);
	assert_int_equal(flowtab_delete(t, &a), 0);
	assert_null(flowtab_lookup(t, &a));
	assert_int_equal(flowtab_lookup(t, &b)->backend, 22);
	assert_int_equal(flowtab_shard_count(t, flowtab_shard_of(t, &b)), 1);
}

static void test_memory_per_flow(void **state)
{
	struct fx *fx = *state;
	uint32_t caps[] = {1u << 16, 1u << 18};
	uint32_t i;

	for (i = 0; i < 2; i++) {
		double per;

		flowtab_free(fx->extra);
		fx->extra = table_make(caps[i]);
		assert_non_null(fx->extra);
		assert_int_equal(flowtab_capacity(fx->extra), caps[i]);
		per = (double)flowtab_memory(fx->extra) /
		      flowtab_capacity(fx->extra);
		assert_true(per >= 108.0); /* entry + bucket, at least */
		assert_true(per <= 128.0);
	}
	assert_int_equal(sizeof(struct flowtab_rec), 88);
}

static void test_bad_input(void **state)
{
	struct fx *fx = *state;
	struct flowtab *t = fx->t, *g;
	struct flow_key k = key_n(50, 6);
	struct flowtab_params p = params(1);
	struct flowtab_cfg cfg;
	struct flowtab_rec r, bad[10];
	struct flowtab_stats st;
	uint32_t i;

	for (i = 0; i < 10; i++)
		bad[i] = rec_make(&k, 5, FLOWTAB_ST_NEW, 1);
	bad[0].version = 0;
	bad[1].version = 1ull << 63;
	bad[2].state = 0;
	bad[3].state = FLOWTAB_ST_CLOSED + 1;
	bad[4].rf = 0;
	bad[5].rf = FLOWTAB_MAX_RF + 1;
	bad[6].key.pad[1] = 1;
	bad[7].primary = STEER_NODE_NONE;
	bad[8].mirror[0] = STEER_NODE_NONE; /* rf 2 wants one mirror */
	bad[9].mirror[1] = 9;		    /* and no second */
	for (i = 0; i < 10; i++)
		assert_int_equal(flowtab_apply(t, &bad[i], 0), -EINVAL);
	flowtab_get_stats(t, &st);
	assert_int_equal(st.invalid, 10);
	assert_int_equal(flowtab_count(t), 0);
	/* Reserved bytes from the wire are not kept. */
	r = rec_make(&k, 5, FLOWTAB_ST_NEW, 1);
	memset(r.reserved, 0xab, sizeof(r.reserved));
	assert_int_equal(flowtab_apply(t, &r, 0), 1);
	assert_int_equal(flowtab_lookup(t, &k)->reserved[3], 0);

	p.rf = 0;
	k = key_n(51, 6);
	assert_null(flowtab_create(t, &k, &p, 0));
	assert_int_equal(errno, EINVAL);
	p = params(1);
	p.rf = 1; /* a mirror named, none asked for */
	assert_null(flowtab_create(t, &k, &p, 0));
	assert_int_equal(errno, EINVAL);
	p = params(1);
	k.pad[0] = 1;
	assert_null(flowtab_create(t, &k, &p, 0));
	assert_int_equal(errno, EINVAL);

	flowtab_cfg_default(&cfg, 0);
	assert_null(flowtab_new(&cfg));
	assert_int_equal(errno, EINVAL);
	flowtab_cfg_default(&cfg, FLOWTAB_MAX_CAPACITY + 1);
	assert_null(flowtab_new(&cfg));
	flowtab_cfg_default(&cfg, 64);
	cfg.tcp_timeout_ms = 1u << 31;
	assert_null(flowtab_new(&cfg));
	assert_int_equal(errno, EINVAL);
	flowtab_cfg_default(&cfg, 1000);
	g = fx->extra = flowtab_new(&cfg);
	assert_non_null(g);
	assert_int_equal(flowtab_capacity(g), 1024);
	/* The realtime clock: versions carry today's ms. */
	k = key_n(52, 6);
	assert_true(flowtab_create(g, &k, &p, 0)->version >
		    (1600000000000ull << 16));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_create_lookup_update,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_version_order, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_versions_from_clock, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_version_next_takeover,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_touch_tcp_states, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_full, setup, teardown),
		cmocka_unit_test_setup_teardown(test_expire_by_state, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_expire_opening, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_expire_halfopen, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_seen, setup, teardown),
		cmocka_unit_test_setup_teardown(test_on_end_and_visit, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_expire_budget, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_shard_walk, setup_walk,
						teardown),
		cmocka_unit_test_setup_teardown(test_random_model, setup_model,
						teardown),
		cmocka_unit_test_setup_teardown(test_hash_collision, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_memory_per_flow, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_bad_input, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

// SPDX-License-Identifier: GPL-2.0-only
/*
 * Gossip over real UDP sockets on loopback (gossip_net): 8 nodes on
 * 127.0.0.1 and ephemeral ports join through one seed, a session
 * announce reaches all, datagrams forged with a wrong key and replayed
 * datagrams are counted and change nothing, and a node that stops is
 * declared dead by all the others. A smaller cluster does the same join
 * and announce over ::1 when the host has IPv6. Every wait is bounded in
 * wall-clock time; the times are printed as figures, never asserted
 * beyond generous bounds.
 */
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "gossip/gossip.h"
#include "gossip/gossip_net.h"

#define N 8
#define MAX_REC 16

struct unode {
	struct cl *c;
	uint16_t idx;
	bool up;
	struct gossip_net *net;
	struct gossip *g;
	struct gossip_addr addr;
};

struct cl {
	uint32_t n;
	struct unode nodes[N];
	struct gossip_key key;
	uint32_t false_dead;
	uint32_t member_events;
	/* Datagrams node rec_src sent to node rec_dst, while recording. */
	bool rec;
	uint16_t rec_src, rec_dst;
	uint32_t n_rec;
	uint16_t rec_len[MAX_REC];
	uint8_t rec_buf[MAX_REC][GOSSIP_DGRAM_MAX];
};

static uint64_t io_now(void *ctx)
{
	(void)ctx;
	return gossip_net_now_ms();
}

static int io_send(void *ctx, const struct gossip_addr *to, const void *buf,
		   size_t len)
{
	struct unode *u = ctx;
	struct cl *c = u->c;

	if (c->rec && u->idx == c->rec_src && c->n_rec < MAX_REC &&
	    !memcmp(to, &c->nodes[c->rec_dst].addr, sizeof(*to))) {
		memcpy(c->rec_buf[c->n_rec], buf, len);
		c->rec_len[c->n_rec++] = (uint16_t)len;
	}
	return gossip_net_send(u->net, to, buf, len);
}

static void on_member(void *ctx, const struct gossip_member_info *m,
		      enum gossip_state old)
{
	struct unode *u = ctx;
	struct cl *c = u->c;

	(void)old;
	c->member_events++;
	if (m->state == GOSSIP_DEAD && m->id >= 1 && m->id <= c->n &&
	    c->nodes[m->id - 1].up)
		c->false_dead++;
}

static uint64_t wall_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* Returns NULL (the test is skipped) when the address family is missing. */
static struct cl *cl_new(uint32_t n, const char *ip)
{
	struct cl *c = calloc(1, sizeof(*c));
	struct gossip_config cfg;
	struct gossip_io io = {.now_ms = io_now, .send = io_send};
	struct gossip_events ev = {.member = on_member};
	struct gossip_addr bind_addr;
	uint32_t i;

	assert_non_null(c);
	c->n = n;
	memset(c->key.b, 0x37, sizeof(c->key.b));
	assert_int_equal(gossip_addr_parse(ip, 0, &bind_addr), 0);
	for (i = 0; i < n; i++) {
		struct unode *u = &c->nodes[i];

		u->c = c;
		u->idx = (uint16_t)i;
		u->net = gossip_net_open(&bind_addr);
		if (!u->net &&
		    (errno == EAFNOSUPPORT || errno == EADDRNOTAVAIL)) {
			assert_int_equal(i, 0);
			free(c);
			return NULL;
		}
		assert_non_null(u->net);
		assert_int_equal(gossip_net_local(u->net, &u->addr), 0);
		assert_true(u->addr.port != 0);
		gossip_config_default(&cfg);
		cfg.self_id = (uint16_t)(i + 1);
		cfg.self = u->addr;
		cfg.key = c->key;
		cfg.seq_start = wall_us();
		io.ctx = u;
		ev.ctx = u;
		u->g = gossip_new(&cfg, &io, &ev);
		assert_non_null(u->g);
		u->up = true;
	}
	return c;
}

static void cl_free(struct cl *c)
{
	uint32_t i;

	if (!c)
		return;
	for (i = 0; i < c->n; i++) {
		gossip_free(c->nodes[i].g);
		gossip_net_close(c->nodes[i].net);
	}
	free(c);
}

static int teardown(void **state)
{
	cl_free(*state);
	*state = NULL;
	return 0;
}

typedef bool (*cl_pred)(struct cl *c, uint32_t i, const void *arg);

static bool all_up(struct cl *c, cl_pred pred, const void *arg)
{
	uint32_t i;

	for (i = 0; i < c->n; i++)
		if (c->nodes[i].up && !pred(c, i, arg))
			return false;
	return true;
}

/*
 * The event loop of the cluster: poll every socket, feed datagrams, tick
 * nodes by their deadlines, until pred holds on every up node or
 * bound_ms of wall time pass. Returns the time it took, or -1.
 */
static int64_t cl_run(struct cl *c, cl_pred pred, const void *arg,
		      uint64_t bound_ms)
{
	struct pollfd pfd[N];
	uint64_t start = gossip_net_now_ms(), now, next;
	uint32_t i, k, map[N];
	int timeout;

	for (;;) {
		now = gossip_net_now_ms();
		if (pred && all_up(c, pred, arg))
			return (int64_t)(now - start);
		if (now >= start + bound_ms)
			return pred ? -1 : (int64_t)(now - start);
		next = start + bound_ms;
		for (i = 0, k = 0; i < c->n; i++) {
			if (!c->nodes[i].up)
				continue;
			if (gossip_next_deadline(c->nodes[i].g) < next)
				next = gossip_next_deadline(c->nodes[i].g);
			pfd[k].fd = gossip_net_fd(c->nodes[i].net);
			pfd[k].events = POLLIN;
			map[k++] = i;
		}
		timeout = next > now ? (int)(next - now) : 0;
		if (timeout > 10)
			timeout = 10;
		assert_true(poll(pfd, k, timeout) >= 0 || errno == EINTR);
		for (i = 0; i < k; i++)
			if (pfd[i].revents & POLLIN)
				gossip_net_recv(c->nodes[map[i]].net,
						c->nodes[map[i]].g, 64);
		now = gossip_net_now_ms();
		for (i = 0; i < c->n; i++)
			if (c->nodes[i].up &&
			    gossip_next_deadline(c->nodes[i].g) <= now)
				gossip_tick(c->nodes[i].g);
	}
}

static bool sees_all_alive(struct cl *c, uint32_t i, const void *arg)
{
	struct gossip_member_info m;
	uint32_t j;

	(void)arg;
	for (j = 0; j < c->n; j++)
		if (c->nodes[j].up &&
		    (gossip_member_get(c->nodes[i].g, (uint16_t)(j + 1), &m) ||
		     m.state != GOSSIP_ALIVE))
			return false;
	return true;
}

struct sess_arg {
	const struct flow_key *key;
	enum gossip_session_op op;
};

static bool has_session(struct cl *c, uint32_t i, const void *arg)
{
	const struct sess_arg *a = arg;
	struct gossip_session_info si;

	return gossip_session_lookup(c->nodes[i].g, a->key, &si) == 0 &&
	       si.state == a->op;
}

static bool sees_dead(struct cl *c, uint32_t i, const void *arg)
{
	const uint16_t *id = arg;
	struct gossip_member_info m;

	return gossip_member_get(c->nodes[i].g, *id, &m) == 0 &&
	       m.state == GOSSIP_DEAD;
}

struct rx_arg {
	uint32_t node;
	enum gossip_rx_reason r;
	uint64_t want;
};

static bool rx_reached(struct cl *c, uint32_t i, const void *arg)
{
	const struct rx_arg *a = arg;

	(void)i;
	return gossip_counters(c->nodes[a->node].g)->rx[a->r] >= a->want;
}

static void make_key(struct flow_key *k, uint32_t i)
{
	memset(k, 0, sizeof(*k));
	flow_addr_set_v4(&k->src, __builtin_bswap32(0xc6120000u + i));
	flow_addr_set_v4(&k->dst, __builtin_bswap32(0xc6130001u));
	k->sport = __builtin_bswap16((uint16_t)(20000 + i));
	k->dport = __builtin_bswap16(443);
	k->proto = 6;
}

static void cl_join(struct cl *c, const char *what)
{
	int64_t t;
	uint32_t i;

	for (i = 1; i < c->n; i++)
		assert_int_equal(
			gossip_join(c->nodes[i].g, &c->nodes[0].addr, 1), 0);
	t = cl_run(c, sees_all_alive, NULL, 10000);
	assert_true(t >= 0);
	printf("[figure] %s: %lld ms\n", what, (long long)t);
}

static void cl_announce(struct cl *c, uint32_t on, const struct flow_key *k,
			const char *what)
{
	struct sess_arg a = {.key = k, .op = GOSSIP_SESSION_ESTABLISHED};
	int64_t t;

	assert_int_equal(gossip_session_announce(c->nodes[on].g, k,
						 (uint16_t)(on + 1), 1),
			 0);
	t = cl_run(c, has_session, &a, 5000);
	assert_true(t >= 0);
	printf("[figure] %s: %lld ms\n", what, (long long)t);
}

/* Send raw bytes to node i from a socket of our own. */
static void send_raw(struct cl *c, uint32_t i, const void *buf, size_t len)
{
	struct gossip_net *raw;
	struct gossip_addr any;

	assert_int_equal(gossip_addr_parse("127.0.0.1", 0, &any), 0);
	raw = gossip_net_open(&any);
	assert_non_null(raw);
	assert_int_equal(gossip_net_send(raw, &c->nodes[i].addr, buf, len), 0);
	assert_int_equal(gossip_net_counters(raw)->tx_bytes, len);
	gossip_net_close(raw);
}

/* Node i's view: member states and incarnations, sessions. */
struct view {
	struct gossip_member_info m[N];
	uint32_t n_members;
	uint32_t sessions, established;
};

static void view_take(struct cl *c, uint32_t i, struct view *v)
{
	memset(v, 0, sizeof(*v));
	v->n_members = gossip_members(c->nodes[i].g, v->m, N);
	v->sessions = gossip_session_count(c->nodes[i].g, false);
	v->established = gossip_session_count(c->nodes[i].g, true);
}

static void view_same(const struct view *a, const struct view *b)
{
	uint32_t i;

	assert_int_equal(a->n_members, b->n_members);
	assert_int_equal(a->sessions, b->sessions);
	assert_int_equal(a->established, b->established);
	for (i = 0; i < a->n_members && i < N; i++) {
		assert_int_equal(a->m[i].id, b->m[i].id);
		assert_int_equal(a->m[i].state, b->m[i].state);
		assert_int_equal(a->m[i].incarnation, b->m[i].incarnation);
	}
}

/* Forged (wrong key) datagrams: refused as bad_auth, nothing changes. */
static void check_forged(struct cl *c, const struct flow_key *k)
{
	struct gossip_key wrong = c->key;
	struct gossip_auth auth;
	struct gossip_msg *m = calloc(1, sizeof(*m));
	struct rx_arg a = {.node = 1, .r = GOSSIP_RX_AUTH};
	uint8_t buf[GOSSIP_DGRAM_MAX];
	struct view before, after;
	uint64_t rx0;
	int len, i;

	assert_non_null(m);
	wrong.b[0] ^= 0x80;
	assert_int_equal(gossip_auth_init(&auth, &wrong, false), 0);
	view_take(c, 1, &before);
	rx0 = gossip_net_counters(c->nodes[1].net)->rx_bytes;
	a.want = gossip_counters(c->nodes[1].g)->rx[GOSSIP_RX_AUTH] + 3;
	/* As node 3: node 5 is dead, the session is closed. */
	m->type = GOSSIP_MSG_GOSSIP;
	m->sender = 3;
	m->incarnation = 7;
	m->n_updates = 2;
	m->updates[0].kind = GOSSIP_UPD_MEMBER;
	m->updates[0].member.node = 5;
	m->updates[0].member.state = GOSSIP_DEAD;
	m->updates[0].member.incarnation = 9;
	m->updates[0].member.from = 3;
	m->updates[0].member.addr = c->nodes[4].addr;
	m->updates[1].kind = GOSSIP_UPD_SESSION;
	m->updates[1].session.owner = 4;
	m->updates[1].session.op = GOSSIP_SESSION_CLOSED;
	m->updates[1].session.epoch = 99;
	m->updates[1].session.key = *k;
	for (i = 0; i < 3; i++) {
		m->seq = wall_us() + 1000000 + (uint64_t)i;
		len = gossip_codec_encode(&auth, m, buf, sizeof(buf));
		assert_true(len > 0);
		send_raw(c, 1, buf, (size_t)len);
	}
	assert_true(cl_run(c, rx_reached, &a, 3000) >= 0);
	/* Refused or not, a datagram received counts its bytes. */
	assert_true(gossip_net_counters(c->nodes[1].net)->rx_bytes >=
		    rx0 + 3 * (uint64_t)len);
	view_take(c, 1, &after);
	view_same(&before, &after);
	printf("[figure] udp: forged datagrams refused as bad_auth: %llu\n",
	       (unsigned long long)gossip_counters(c->nodes[1].g)
		       ->rx[GOSSIP_RX_AUTH]);
	gossip_auth_wipe(&auth);
	free(m);
}

static bool recorded(struct cl *c, uint32_t i, const void *arg)
{
	(void)i;
	(void)arg;
	return c->n_rec > 0;
}

/* Datagrams node 3 sent to node 4 (from the join on), sent again:
 * refused as replays. */
static void check_replayed(struct cl *c)
{
	struct rx_arg a = {.node = 4, .r = GOSSIP_RX_REPLAY};
	struct view before, after;
	uint32_t i;

	/* Node 3 probes node 4 within a round of probes at the latest. */
	assert_true(cl_run(c, recorded, NULL, 5000) >= 0);
	c->rec = false;
	/* Let what is in flight land first. */
	cl_run(c, NULL, NULL, 200);
	view_take(c, 4, &before);
	a.want =
		gossip_counters(c->nodes[4].g)->rx[GOSSIP_RX_REPLAY] + c->n_rec;
	for (i = 0; i < c->n_rec; i++)
		send_raw(c, 4, c->rec_buf[i], c->rec_len[i]);
	assert_true(cl_run(c, rx_reached, &a, 3000) >= 0);
	view_take(c, 4, &after);
	view_same(&before, &after);
	printf("[figure] udp: replayed datagrams refused as replay: %u\n",
	       c->n_rec);
}

static void test_udp_v4(void **state)
{
	struct cl *c = cl_new(N, "127.0.0.1");
	struct sess_arg closed;
	struct flow_key k;
	uint16_t dead_id = 7;
	int64_t t;

	*state = c;
	assert_non_null(c);
	c->rec = true;
	c->rec_src = 3;
	c->rec_dst = 4;
	cl_join(c, "udp join, 8 nodes on 127.0.0.1, until all see all");
	make_key(&k, 1);
	cl_announce(c, 3, &k, "udp session announce, 8 nodes");
	/* Close it: a replay of the announce must not bring it back. */
	assert_int_equal(gossip_session_close(c->nodes[3].g, &k, 4, 1), 0);
	closed.key = &k;
	closed.op = GOSSIP_SESSION_CLOSED;
	assert_true(cl_run(c, has_session, &closed, 5000) >= 0);
	check_forged(c, &k);
	check_replayed(c);
	/* Node 7 stops: its socket closes, as when its process dies. */
	c->nodes[6].up = false;
	gossip_net_close(c->nodes[6].net);
	c->nodes[6].net = NULL;
	t = cl_run(c, sees_dead, &dead_id, 10000);
	assert_true(t >= 0);
	printf("[figure] udp crash detection, 8 nodes: %lld ms\n",
	       (long long)t);
	assert_int_equal(c->false_dead, 0);
}

static void test_udp_v6(void **state)
{
	struct cl *c = cl_new(4, "::1");
	struct flow_key k;

	*state = c;
	if (!c)
		skip();
	cl_join(c, "udp join, 4 nodes on ::1, until all see all");
	make_key(&k, 2);
	cl_announce(c, 2, &k, "udp session announce, 4 nodes on ::1");
	assert_int_equal(c->false_dead, 0);
}

static void test_addr_parse(void **state)
{
	struct gossip_addr a;
	char buf[64];

	(void)state;
	assert_int_equal(gossip_addr_parse("192.0.2.1", 7946, &a), 0);
	assert_true(flow_addr_is_v4(&a.ip));
	assert_int_equal(a.port, 7946);
	assert_string_equal(gossip_addr_format(&a, buf, sizeof(buf)),
			    "192.0.2.1:7946");
	assert_int_equal(gossip_addr_parse("192.0.2.1:17", 7946, &a), 0);
	assert_int_equal(a.port, 17);
	assert_int_equal(gossip_addr_parse("2001:db8::1", 7946, &a), 0);
	assert_false(flow_addr_is_v4(&a.ip));
	assert_string_equal(gossip_addr_format(&a, buf, sizeof(buf)),
			    "[2001:db8::1]:7946");
	assert_int_equal(gossip_addr_parse("[2001:db8::1]:99", 7946, &a), 0);
	assert_int_equal(a.port, 99);
	assert_int_equal(gossip_addr_parse("[::1]", 5, &a), 0);
	assert_int_equal(a.port, 5);
	assert_int_equal(gossip_addr_parse("", 1, &a), -EINVAL);
	assert_int_equal(gossip_addr_parse("192.0.2.1:", 1, &a), -EINVAL);
	assert_int_equal(gossip_addr_parse("192.0.2.1:65536", 1, &a), -EINVAL);
	assert_int_equal(gossip_addr_parse("192.0.2.1:x", 1, &a), -EINVAL);
	assert_int_equal(gossip_addr_parse("[::1", 1, &a), -EINVAL);
	assert_int_equal(gossip_addr_parse("[::1]x", 1, &a), -EINVAL);
	assert_int_equal(gossip_addr_parse("example.org", 1, &a), -EINVAL);
	assert_int_equal(gossip_addr_parse("1.2.3.4.5", 1, &a), -EINVAL);
	/* An IPv6 peer cannot be reached from an IPv4 socket. */
	assert_int_equal(gossip_addr_parse("127.0.0.1", 0, &a), 0);
	{
		struct gossip_net *n = gossip_net_open(&a);
		struct gossip_addr v6;

		assert_non_null(n);
		assert_int_equal(gossip_addr_parse("[::1]:9", 0, &v6), 0);
		assert_int_equal(gossip_net_send(n, &v6, "x", 1),
				 -EAFNOSUPPORT);
		assert_int_equal(gossip_net_counters(n)->tx_err, 1);
		gossip_net_close(n);
	}
	errno = 0;
	assert_null(gossip_net_open(NULL));
	assert_int_equal(errno, EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_addr_parse),
		cmocka_unit_test_teardown(test_udp_v4, teardown),
		cmocka_unit_test_teardown(test_udp_v6, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

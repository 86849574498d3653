// SPDX-License-Identifier: GPL-2.0-only
/*
 * Gossip's replay windows kept across a restart (daemon/replay_store.c):
 * the file's parser (header, good and bad lines), and a real gossip node
 * that took a datagram, saved its windows, and was started anew from the
 * file: the same datagram is refused as a replay, a newer one taken.
 * Without the file the new node takes the old datagram: the hole the
 * store closes.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "daemon/replay_store.h"
#include "gossip/gossip.h"
#include "gossip/gossip_auth.h"
#include "gossip/gossip_codec.h"
#include "gossip/gossip_net.h"

struct seen {
	uint32_t n;
	uint16_t sender[8];
	uint64_t seq[8];
};

static int take(uint16_t sender, uint64_t seq, void *arg)
{
	struct seen *s = arg;

	if (s->n < 8) {
		s->sender[s->n] = sender;
		s->seq[s->n] = seq;
	}
	s->n++;
	return 0;
}

static void test_parse(void **state)
{
	static const char good[] = "steer-replay 1\n3 1000\n\n65534 "
				   "18446744073709551615\n";
	static const char mixed[] = "steer-replay 1\n3 1000\nx 5\n65535 1\n"
				    "4 -1\n5\n6 7 8\n7 99999999999999999999\n"
				    "8 9";
	struct seen s = {0};
	uint32_t bad;

	(void)state;
	assert_int_equal(replay_store_parse(good, strlen(good), take, &s, &bad),
			 2);
	assert_int_equal(bad, 0);
	assert_int_equal(s.sender[0], 3);
	assert_int_equal(s.seq[0], 1000);
	assert_int_equal(s.sender[1], 65534);
	assert_true(s.seq[1] == UINT64_MAX);
	memset(&s, 0, sizeof(s));
	/* Good lines count, the rest are bad: a word, sender 65535 (no
	 * node), a sign, one number, three, an overflow; the last line
	 * needs no newline. */
	assert_int_equal(
		replay_store_parse(mixed, strlen(mixed), take, &s, &bad), 2);
	assert_int_equal(bad, 6);
	assert_int_equal(s.sender[1], 8);
	assert_int_equal(s.seq[1], 9);
	assert_int_equal(
		replay_store_parse("steer-replay 2\n1 1\n", 19, take, &s, &bad),
		-EINVAL);
	assert_int_equal(replay_store_parse("", 0, take, &s, &bad), -EINVAL);
	assert_int_equal(
		replay_store_parse("steer-replay 1", 14, take, &s, &bad),
		-EINVAL);
}

static uint64_t now_ms(void *ctx)
{
	(void)ctx;
	return 1000;
}

static int no_send(void *ctx, const struct gossip_addr *to, const void *buf,
		   size_t len)
{
	(void)ctx, (void)to, (void)buf, (void)len;
	return 0;
}

static struct gossip *node_new(void)
{
	struct gossip_io io = {.now_ms = now_ms, .send = no_send};
	struct gossip_config c;
	struct gossip *g;

	gossip_config_default(&c);
	c.self_id = 1;
	memset(c.key.b, 0x5a, sizeof(c.key.b));
	g = gossip_new(&c, &io, NULL);
	assert_non_null(g);
	return g;
}

/* A GOSSIP datagram of node 3's, sequence seq, no updates. */
static int dgram(uint8_t *buf, size_t size, uint64_t seq)
{
	struct gossip_msg *m = calloc(1, sizeof(*m));
	struct gossip_auth a;
	struct gossip_key k;
	int len;

	assert_non_null(m);
	memset(k.b, 0x5a, sizeof(k.b));
	assert_int_equal(gossip_auth_init(&a, &k, false), 0);
	m->type = GOSSIP_MSG_GOSSIP;
	m->sender = 3;
	m->incarnation = 1;
	m->seq = seq;
	len = gossip_codec_encode(&a, m, buf, size);
	assert_true(len > 0);
	gossip_auth_wipe(&a);
	free(m);
	return len;
}

static uint64_t replays(struct gossip *g)
{
	return gossip_counters(g)->rx[GOSSIP_RX_REPLAY];
}

static void test_restart(void **state)
{
	char dir[] = "/tmp/replay_store_test.XXXXXX", path[128];
	uint8_t old[GOSSIP_DGRAM_MAX], newer[GOSSIP_DGRAM_MAX];
	int lo = dgram(old, sizeof(old), 5000),
	    ln = dgram(newer, sizeof(newer), 5001);
	struct gossip_addr from;
	struct gossip *g;
	uint32_t bad;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/%s", dir, REPLAY_STORE_FILE);
	assert_int_equal(gossip_addr_parse("127.0.0.1:7946", 0, &from), 0);
	g = node_new();
	gossip_recv(g, old, (size_t)lo, &from);
	assert_int_equal(replays(g), 0);
	gossip_recv(g, old, (size_t)lo, &from);
	assert_int_equal(replays(g), 1);
	assert_int_equal(replay_store_save(g, path), 0);
	gossip_free(g);

	/* Started anew without the file: the old datagram is taken. */
	g = node_new();
	gossip_recv(g, old, (size_t)lo, &from);
	assert_int_equal(replays(g), 0);
	gossip_free(g);

	/* ... and with it: refused; the next one taken. */
	g = node_new();
	assert_int_equal(replay_store_load(g, path, &bad), 1);
	assert_int_equal(bad, 0);
	gossip_recv(g, old, (size_t)lo, &from);
	assert_int_equal(replays(g), 1);
	gossip_recv(g, newer, (size_t)ln, &from);
	assert_int_equal(replays(g), 1);
	gossip_free(g);

	/* No file: nothing to restore; not a replay file: refused. */
	assert_int_equal(unlink(path), 0);
	g = node_new();
	assert_int_equal(replay_store_load(g, path, &bad), 0);
	{
		FILE *f = fopen(path, "w");

		assert_non_null(f);
		fputs("something else\n", f);
		fclose(f);
	}
	assert_int_equal(replay_store_load(g, path, &bad), -EINVAL);
	gossip_free(g);
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_restart),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

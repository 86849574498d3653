// SPDX-License-Identifier: GPL-2.0-only
/*
 * Fuzz target: cell messages (src/cell/cellmsg.c), as datagrams and as a
 * stream, with the cluster key or with bodies the harness seals so they
 * reach the body parser and LZ4.
 *
 * Byte 0 of the input: bit 0 picks the mode (plain or encrypted), bits
 * 1-2 the operation on the rest:
 *   0  one datagram, decoded as received (almost always refused by the
 *      tag check, which must then hold; seeds are valid frames);
 *   1  a TCP stream's bytes: frames cut by cellmsg_frame_len() and
 *      decoded one after the other, until one is bad or more bytes are
 *      needed;
 *   2  header + body: the harness fixes magic, version, mode, reserved
 *      byte and body length, folds the type into the known ones and seals
 *      it with the key; a BATCH is version 2 (chained) when the input's
 *      version byte is odd;
 *   3  as 2, and the body is shaped: cut or padded to its type's length
 *      and, for a BATCH, a consistent fixed part (raw_len = count * 80,
 *      version 2: a chain_seq of at least 1 unless the input's is 0 and
 *      its version byte is 3 mod 4)
 *      and, uncompressed, records whose profiles hold; for a MIRROR, a
 *      record that holds and consistent packet lengths; for a TOUCH,
 *      whole keys and their count; for a QUERY, a key; for an ANSWER,
 *      a key and, found or not as the input says, its record.
 *
 * Checks: every outcome is a known reason; a frame that decodes re-encodes
 * to one that cellmsg_frame_len() delimits exactly and that decodes to the
 * same message, and a chained batch's link (cellmsg_chain_link, over
 * whatever records decoded) is the same computed twice and after the
 * round trip; cellmsg_frame_len() and cellmsg_decode() agree on every
 * header; a frame cut out of a stream is refused only for what lies
 * beyond its header, and the stream's sequence check only ever moves
 * forward. The harness adds -malloc_limit_mb=1 ahead of the
 * command line's flags: the decoder allocates at most a frame's worth
 * (82 KB), so any allocation sized by an unchecked length ends the run.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cell/cellmsg.h"

/* Same key byte as cellmsg_test --seeds. */
#define KEY_BYTE 0x5a

static void check(int cond)
{
	if (!cond)
		__builtin_trap();
}

static struct gossip_auth auth[2];
static int ready;
static struct cell_flow_rec recs[CELLMSG_BATCH_MAX], recs2[CELLMSG_BATCH_MAX];
static uint8_t buf[CELLMSG_FRAME_MAX + 64], out[CELLMSG_FRAME_MAX];
static struct cellmsg msg, msg2;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static char limit[] = "-malloc_limit_mb=1";
	char **args = calloc((size_t)*argc + 2, sizeof(*args));
	int i;

	if (!args)
		return 0;
	args[0] = (*argv)[0];
	args[1] = limit;
	for (i = 1; i < *argc; i++)
		args[i + 1] = (*argv)[i];
	*argc += 1;
	*argv = args;
	return 0;
}

static void setup(void)
{
	struct gossip_key k;

	memset(k.b, KEY_BYTE, sizeof(k.b));
	check(gossip_auth_init(&auth[0], &k, false) == 0);
	check(gossip_auth_init(&auth[1], &k, true) == 0);
	ready = 1;
}

static bool header_reason(enum cellmsg_rx_reason r)
{
	return r == CELLMSG_RX_MAGIC || r == CELLMSG_RX_VERSION ||
	       r == CELLMSG_RX_TYPE || r == CELLMSG_RX_FLAGS ||
	       r == CELLMSG_RX_MODE || r == CELLMSG_RX_LENGTH;
}

static void check_msg(const struct cellmsg *m)
{
	check(m->type >= CELLMSG_RULE && m->type <= CELLMSG_TYPE_MAX);
	check(m->sender != STEER_NODE_NONE);
	if (m->type == CELLMSG_BATCH) {
		check(m->batch.count <= CELLMSG_BATCH_MAX);
		check(m->batch.recs == recs);
		check(m->batch.shard < CELLMSG_SHARDS);
	}
}

static void roundtrip(const struct gossip_auth *a, const struct cellmsg *m)
{
	static const uint8_t prev[CELLMSG_LINK_LEN] = {1, 2, 3};
	uint8_t l1[CELLMSG_LINK_LEN], l2[CELLMSG_LINK_LEN];
	size_t fl;
	int len;

	len = cellmsg_encode(a, m, out, sizeof(out));
	check(len > CELLMSG_HDR_LEN);
	check(cellmsg_frame_len(a, out, (size_t)len, &fl) == CELLMSG_RX_OK);
	check(fl == (size_t)len);
	check(cellmsg_frame_len(a, out, (size_t)len - 1, &fl) ==
	      CELLMSG_RX_NEED_MORE);
	check(fl == (size_t)len);
	check(cellmsg_decode(a, out, (size_t)len, &msg2, recs2,
			     CELLMSG_BATCH_MAX) == CELLMSG_RX_OK);
	check(cellmsg_equal(m, &msg2));
	check(!(msg2.flags & CELLMSG_FLAG_ENCRYPTED) == !a->encrypt);
	check(out[2] == (m->type == CELLMSG_BATCH && m->batch.chain_seq
				 ? CELLMSG_VERSION_CHAIN
				 : CELLMSG_VERSION));
	if (m->type == CELLMSG_BATCH && m->batch.chain_seq) {
		cellmsg_chain_link(prev, &m->batch, l1);
		cellmsg_chain_link(prev, &msg2.batch, l2);
		check(!memcmp(l1, l2, sizeof(l1)));
		cellmsg_chain_link(prev, &m->batch, l2);
		check(!memcmp(l1, l2, sizeof(l1)));
	}
}

/* Decode one datagram; returns its reason. */
static enum cellmsg_rx_reason datagram(const struct gossip_auth *a,
				       const uint8_t *p, size_t len)
{
	enum cellmsg_rx_reason r, rf;
	size_t fl;

	r = cellmsg_decode(a, p, len, &msg, recs, CELLMSG_BATCH_MAX);
	check(r < CELLMSG_RX_REASONS && r != CELLMSG_RX_NEED_MORE);
	if (len < CELLMSG_HDR_LEN || len > CELLMSG_FRAME_MAX)
		return r;
	rf = cellmsg_frame_len(a, p, len, &fl);
	if (r == CELLMSG_RX_OK) {
		check(rf == CELLMSG_RX_OK && fl == len);
		check_msg(&msg);
		roundtrip(a, &msg);
	} else if (header_reason(rf) || rf == CELLMSG_RX_OVERSIZE ||
		   rf == CELLMSG_RX_MALFORMED) {
		check(r == rf);
	} else if (rf == CELLMSG_RX_NEED_MORE) {
		check(r == CELLMSG_RX_SHORT && fl > len);
	}
	return r;
}

static void stream(const struct gossip_auth *a, const uint8_t *p, size_t n)
{
	struct cellmsg_stream_seq seq = {0}, before;
	enum cellmsg_rx_reason r;
	size_t off = 0, fl;

	while (off < n) {
		r = cellmsg_frame_len(a, p + off, n - off, &fl);
		check(r < CELLMSG_RX_REASONS);
		if (r == CELLMSG_RX_NEED_MORE) {
			check(fl > n - off && fl <= CELLMSG_FRAME_MAX);
			return;
		}
		if (r != CELLMSG_RX_OK)
			return;
		check(fl >= CELLMSG_HDR_LEN && fl <= n - off);
		r = datagram(a, p + off, fl);
		check(!header_reason(r) && r != CELLMSG_RX_SHORT);
		if (r == CELLMSG_RX_OK) {
			/* Accepted: the stream's last seq is this one and
			 * grew; refused: nothing changed. */
			before = seq;
			r = cellmsg_stream_accept(&seq, &msg);
			if (r == CELLMSG_RX_OK)
				check(seq.last == msg.seq &&
				      (!before.started ||
				       msg.seq > before.last));
			else
				check((r == CELLMSG_RX_REPLAY ||
				       r == CELLMSG_RX_SENDER) &&
				      seq.last == before.last &&
				      seq.sender == before.sender);
		}
		off += fl;
	}
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static void wr32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* Records whose profiles hold (rf 1..3, primary and the first rf - 1
 * mirrors nodes, the others none, reserved zero). */
static void shape_recs(uint8_t *r, uint32_t count)
{
	uint8_t rf;
	uint32_t i;
	int j;

	for (i = 0; i < count; i++, r += CELLMSG_REC_LEN) {
		rf = (uint8_t)(1 + r[13] % 3);
		r[13] = rf;
		r[14] = r[15] = 0;
		if (r[6] == 0xff && r[7] == 0xff)
			r[7] = 0;
		for (j = 0; j < 2; j++) {
			if (j + 1 >= rf)
				r[8 + 2 * j] = r[9 + 2 * j] = 0xff;
			else if (r[8 + 2 * j] == 0xff && r[9 + 2 * j] == 0xff)
				r[9 + 2 * j] = 0;
		}
	}
}

/* A MIRROR: a record whose profile holds, 1..256 packet bytes (what
 * the input gave), orig_len at least cap_len. */
static void shape_mirror(uint8_t *body, size_t *body_len, size_t room)
{
	size_t have = *body_len, cap;

	if (have <= CELLMSG_MIRROR_FIXED_LEN) {
		memset(body + have, 0, CELLMSG_MIRROR_FIXED_LEN + 1 - have);
		have = CELLMSG_MIRROR_FIXED_LEN + 1;
	}
	cap = have - CELLMSG_MIRROR_FIXED_LEN;
	if (cap > CELLMSG_MIRROR_CAP)
		cap = CELLMSG_MIRROR_CAP;
	check(CELLMSG_MIRROR_FIXED_LEN + cap <= room);
	shape_recs(body, 1);
	body[82] = (uint8_t)(cap >> 8);
	body[83] = (uint8_t)cap;
	if ((size_t)(body[80] << 8 | body[81]) < cap) {
		body[80] = body[82];
		body[81] = body[83];
	}
	*body_len = CELLMSG_MIRROR_FIXED_LEN + cap;
}

/* A TOUCH: as many whole keys as the input gave (1..30), the count
 * saying so, key padding zero. */
static void shape_touch(uint8_t *body, size_t *body_len, size_t room)
{
	size_t have = *body_len, n, i;

	if (have < CELLMSG_TOUCH_FIXED_LEN + CELLMSG_KEY_LEN) {
		memset(body + have, 0,
		       CELLMSG_TOUCH_FIXED_LEN + CELLMSG_KEY_LEN - have);
		have = CELLMSG_TOUCH_FIXED_LEN + CELLMSG_KEY_LEN;
	}
	n = (have - CELLMSG_TOUCH_FIXED_LEN) / CELLMSG_KEY_LEN;
	if (n > CELLMSG_TOUCH_MAX)
		n = CELLMSG_TOUCH_MAX;
	check(CELLMSG_TOUCH_FIXED_LEN + n * CELLMSG_KEY_LEN <= room);
	body[0] = 0;
	body[1] = (uint8_t)n;
	body[2] = body[3] = 0;
	for (i = 0; i < n; i++)
		memset(body + CELLMSG_TOUCH_FIXED_LEN + i * CELLMSG_KEY_LEN +
			       37,
		       0, 3);
	*body_len = CELLMSG_TOUCH_FIXED_LEN + n * CELLMSG_KEY_LEN;
}

/* An ANSWER: found (0 or 1, the input's low bit) and, with found, a
 * record that holds, whose key is the key block's. */
static void shape_answer(uint8_t *body, size_t *body_len, size_t room)
{
	size_t have = *body_len;
	uint8_t *r = body + CELLMSG_ANSWER_FIXED_LEN;

	body[40] &= 1;
	body[41] = body[42] = body[43] = 0;
	*body_len = CELLMSG_ANSWER_FIXED_LEN;
	if (!body[40])
		return;
	check(CELLMSG_ANSWER_FIXED_LEN + CELLMSG_REC_LEN <= room);
	if (have < *body_len + CELLMSG_REC_LEN)
		memset(body + (have > *body_len ? have : *body_len), 0,
		       *body_len + CELLMSG_REC_LEN -
			       (have > *body_len ? have : *body_len));
	shape_recs(r, 1);
	memcpy(r + 36, body, 16);      /* src */
	memcpy(r + 16, body + 16, 16); /* dst */
	memcpy(r + 52, body + 32, 2);  /* sport */
	memcpy(r + 32, body + 34, 2);  /* dport */
	r[12] = body[36];	       /* proto */
	*body_len += CELLMSG_REC_LEN;
}

/*
 * Shape a body for its type: its length (*body_len, at most room) and,
 * for a BATCH, the fixed part and records. Bytes added are zero.
 */
static void shape(uint8_t type, uint8_t version, uint8_t flags, uint8_t *body,
		  size_t *body_len, size_t room)
{
	static const size_t fixed[] = {
		[CELLMSG_RULE] = CELLMSG_RULE_LEN,
		[CELLMSG_RULE_DEL] = CELLMSG_RULE_DEL_LEN,
		[CELLMSG_HEARTBEAT] = CELLMSG_HEARTBEAT_LEN,
		[CELLMSG_BATCH] = CELLMSG_BATCH_FIXED_LEN,
		[CELLMSG_ACK] = CELLMSG_ACK_LEN,
		[CELLMSG_RESYNC] = CELLMSG_RESYNC_LEN,
		[CELLMSG_SNAP_BEGIN] = CELLMSG_SNAP_BEGIN_LEN,
		[CELLMSG_SNAP_END] = CELLMSG_SNAP_END_LEN,
		[CELLMSG_MIRROR] = CELLMSG_MIRROR_FIXED_LEN,
		[CELLMSG_TOUCH] = CELLMSG_TOUCH_FIXED_LEN,
		[CELLMSG_QUERY] = CELLMSG_QUERY_LEN,
		[CELLMSG_ANSWER] = CELLMSG_ANSWER_FIXED_LEN,
	};
	size_t want = fixed[type], have = *body_len;
	uint32_t count;

	if (type == CELLMSG_BATCH && version == CELLMSG_VERSION_CHAIN)
		want = CELLMSG_BATCH_CHAIN_LEN;
	if (have < want)
		memset(body + have, 0, want - have);
	if (type == CELLMSG_MIRROR) {
		shape_mirror(body, body_len, room);
		return;
	}
	if (type == CELLMSG_TOUCH) {
		shape_touch(body, body_len, room);
		return;
	}
	if (type == CELLMSG_QUERY || type == CELLMSG_ANSWER)
		memset(body + 37, 0, 3); /* the key block's padding */
	if (type == CELLMSG_ANSWER) {
		shape_answer(body, body_len, room);
		return;
	}
	if (type != CELLMSG_BATCH) {
		*body_len = want;
		return;
	}
	body[0] &= 0x0f; /* shard < 4096 */
	body[2] = body[3] = 0;
	/* A chain counts from 1. */
	if (version == CELLMSG_VERSION_CHAIN && !rd32(body + 20) &&
	    !rd32(body + 24))
		body[27] = 1;
	count = rd32(body + 12) % (CELLMSG_BATCH_MAX + 1);
	if (!(flags & CELLMSG_FLAG_COMPRESSED)) {
		/* As many whole records as the input gave. */
		if (have < want)
			have = want;
		if (count > (have - want) / CELLMSG_REC_LEN)
			count = (uint32_t)((have - want) / CELLMSG_REC_LEN);
		want += (size_t)count * CELLMSG_REC_LEN;
		check(want <= room);
		shape_recs(body + want - (size_t)count * CELLMSG_REC_LEN,
			   count);
		*body_len = want;
	} else if (have <= want) {
		body[want] = 0;
		*body_len = want + 1;
	}
	wr32(body + 12, count);
	wr32(body + 16, count * CELLMSG_REC_LEN);
}

static void sealed(const struct gossip_auth *a, const uint8_t *p, size_t n,
		   int shaped)
{
	size_t room = sizeof(buf) - CELLMSG_HDR_LEN - gossip_auth_overhead(a);
	size_t body_len, len;
	uint8_t type, flags, version;

	if (n < CELLMSG_HDR_LEN)
		return;
	body_len = n - CELLMSG_HDR_LEN;
	if (body_len > room)
		body_len = room;
	memcpy(buf, p, CELLMSG_HDR_LEN + body_len);
	/* Known types stay what they are; the others fold onto them. */
	type = (uint8_t)(1 + (uint8_t)(buf[3] - 1) % CELLMSG_TYPE_MAX);
	flags = a->encrypt ? CELLMSG_FLAG_ENCRYPTED : 0;
	if (type == CELLMSG_BATCH)
		flags |= buf[4] & CELLMSG_FLAG_COMPRESSED;
	/* Version 2 is a chained batch's; the input's low bit asks for it. */
	version = type == CELLMSG_BATCH && (buf[2] & 1) ? CELLMSG_VERSION_CHAIN
							: CELLMSG_VERSION;
	if (shaped) {
		shape(type, version, flags, buf + CELLMSG_HDR_LEN, &body_len,
		      room);
		/* ... and now and then a chain_seq of 0, to be refused. */
		if (version == CELLMSG_VERSION_CHAIN && (buf[2] & 3) == 3 &&
		    body_len >= CELLMSG_BATCH_CHAIN_LEN)
			buf[CELLMSG_HDR_LEN + 27] &= 0xfe;
	}
	buf[0] = CELLMSG_MAGIC >> 8;
	buf[1] = CELLMSG_MAGIC & 0xff;
	buf[2] = version;
	buf[3] = type;
	buf[4] = flags;
	buf[5] = 0;
	if (buf[6] == 0xff && buf[7] == 0xff)
		buf[7] = 0;
	wr32(buf + 20, (uint32_t)body_len);
	len = gossip_auth_seal(a, buf, CELLMSG_HDR_LEN, body_len);
	/* Sealed by the key: nothing in the header may refuse it but a
	 * length, and the stream splitter must agree. */
	if (datagram(a, buf, len) == CELLMSG_RX_OK)
		return;
	stream(a, buf, len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct gossip_auth *a;

	if (!ready)
		setup();
	if (size < 1)
		return 0;
	a = &auth[data[0] & 1];
	switch (data[0] >> 1 & 3) {
	case 0:
		datagram(a, data + 1, size - 1);
		break;
	case 1:
		stream(a, data + 1, size - 1);
		break;
	default:
		sealed(a, data + 1, size - 1, (data[0] >> 1 & 3) == 3);
		break;
	}
	return 0;
}

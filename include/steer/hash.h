/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * Keyed flow hash: SipHash-1-3 (the variant Linux uses as hsiphash on
 * 64-bit) over the five words of a flow key. The 128-bit secret is drawn
 * at start-up, so nobody outside can aim collisions at a table or at one
 * owner. Also used, with other secrets, by Maglev and rendezvous hashing.
 */
#ifndef STEER_HASH_H
#define STEER_HASH_H

#include "flow.h"

struct steer_hash_secret {
	__u64 k0;
	__u64 k1;
};

#define STEER_ROTL64(x, b) (__u64)(((x) << (b)) | ((x) >> (64 - (b))))

#define STEER_SIPROUND(v0, v1, v2, v3)                                         \
	do {                                                                   \
		v0 += v1;                                                      \
		v1 = STEER_ROTL64(v1, 13);                                     \
		v1 ^= v0;                                                      \
		v0 = STEER_ROTL64(v0, 32);                                     \
		v2 += v3;                                                      \
		v3 = STEER_ROTL64(v3, 16);                                     \
		v3 ^= v2;                                                      \
		v0 += v3;                                                      \
		v3 = STEER_ROTL64(v3, 21);                                     \
		v3 ^= v0;                                                      \
		v2 += v1;                                                      \
		v1 = STEER_ROTL64(v1, 17);                                     \
		v1 ^= v2;                                                      \
		v2 = STEER_ROTL64(v2, 32);                                     \
	} while (0)

/*
 * SipHash-1-3 of n 64-bit words (n is a small compile-time constant in
 * every caller, so BPF sees a bounded loop).
 */
static __always_inline __u64 steer_siphash13(const __u64 *w, __u32 n,
					     const struct steer_hash_secret *s)
{
	__u64 v0 = 0x736f6d6570736575ULL ^ s->k0;
	__u64 v1 = 0x646f72616e646f6dULL ^ s->k1;
	__u64 v2 = 0x6c7967656e657261ULL ^ s->k0;
	__u64 v3 = 0x7465646279746573ULL ^ s->k1;
	__u64 b = ((__u64)(n * 8)) << 56;
	__u32 i;

	STEER_UNROLL
	for (i = 0; i < n; i++) {
		v3 ^= w[i];
		STEER_SIPROUND(v0, v1, v2, v3);
		v0 ^= w[i];
	}
	v3 ^= b;
	STEER_SIPROUND(v0, v1, v2, v3);
	v0 ^= b;
	v2 ^= 0xff;
	STEER_SIPROUND(v0, v1, v2, v3);
	STEER_SIPROUND(v0, v1, v2, v3);
	STEER_SIPROUND(v0, v1, v2, v3);
	return (v0 ^ v1) ^ (v2 ^ v3);
}

/*
 * Hash of a flow key (padding must be zero). An IPv4 flow hashes as two
 * words (both addresses, then ports and protocol): the v4-mapped prefix is
 * constant, and six SipHash rounds cost two thirds of nine.
 */
static __always_inline __u64 flow_hash(const struct flow_key *k,
				       const struct steer_hash_secret *s)
{
	const __u64 *q = (const __u64 *)k;

	if (flow_addr_is_v4(&k->src) && flow_addr_is_v4(&k->dst)) {
		__u64 w[2];

		w[0] = (__u64)k->src.w[3] << 32 | k->dst.w[3];
		w[1] = q[4];
		return steer_siphash13(w, 2, s);
	}
	return steer_siphash13(q, 5, s);
}

/* Hash of one 64-bit value: node ids, backend ids, Maglev seeds. */
static __always_inline __u64 steer_hash_u64(__u64 v,
					    const struct steer_hash_secret *s)
{
	return steer_siphash13(&v, 1, s);
}

/*
 * Outer UDP source port for an encapsulated flow: in the ephemeral range
 * 49152-65535 (RFC 8086 section 3.2) so ECMP and RSS spread tunnels by
 * inner flow.
 */
static __always_inline __be16 flow_hash_sport(__u64 h)
{
	return steer_htons((__u16)(0xc000 | ((h >> 32) & 0x3fff)));
}

/*
 * Index of a flow hash in a table of size entries (a Maglev table): a
 * multiply-shift of the hash's high 32 bits, no division, the same in
 * userspace and XDP. Always < size.
 */
static __always_inline __u32 flow_hash_slot(__u64 h, __u32 size)
{
	return (__u32)(((h >> 32) * (__u64)size) >> 32);
}

#endif /* STEER_HASH_H */

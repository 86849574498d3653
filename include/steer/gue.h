/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * GUE (draft-ietf-intarea-gue) headers and steer's private data.
 *
 * Variant 0: a 4-byte header (ver 2 bits, C 1 bit, hlen 5 bits, proto or
 * ctype, 16 bits of flags) followed by hlen 32-bit words of optional
 * fields. steer sets no flags, so all hlen words are private data (section
 * 3.3.3 of the draft): struct steer_gue_priv, which starts with a magic
 * byte so a peer's private data of another kind is recognised as foreign.
 * Variant 1: the inner IPv4/IPv6 header follows the UDP header directly;
 * the first two bits of an IP header (0100 or 0110) read as version 01.
 */
#ifndef STEER_GUE_H
#define STEER_GUE_H

#include "compiler.h"

#define STEER_GUE_PORT 6080
#define STEER_GUE_PRIV_MAGIC 0x53 /* 'S' */
#define STEER_GUE_PRIV_VERSION 1

struct steer_guehdr {
	__u8 vch;   /* version (2 bits) | C (1 bit) | hlen (5 bits) */
	__u8 proto; /* inner IP protocol, or control type when C = 1 */
	__be16 flags;
};

#define STEER_GUE_VER(vch) ((vch) >> 6)
#define STEER_GUE_C(vch) (((vch) >> 5) & 1)
#define STEER_GUE_HLEN(vch) ((vch)&0x1f)

/* Flags in steer's private data. */
enum {
	STEER_GUE_F_STEERED = 0x01,   /* forwarded to the flow's owner */
	STEER_GUE_F_EXCEPTION = 0x02, /* miss sent to the primary cell */
	STEER_GUE_F_MIRROR = 0x04,    /* copy for a mirror cell */
	STEER_GUE_F_HINT = 0x08,      /* sent along a predicted migration */
	/* An exception sent above the flood guard's budget: the cell keeps
	 * no state for a flow it does not hold already (decide.h). */
	STEER_GUE_F_GUARDED = 0x10,
};

struct steer_gue_priv {
	__u8 magic;    /* STEER_GUE_PRIV_MAGIC */
	__u8 version;  /* STEER_GUE_PRIV_VERSION */
	__u8 flags;    /* STEER_GUE_F_* */
	__u8 hops;     /* steer hops so far; stops forwarding loops */
	__be16 origin; /* node id of the sender */
	__be16 reserved;
	__be32 epoch; /* owner epoch the sender acted on */
};

#define STEER_GUE_PRIV_WORDS (sizeof(struct steer_gue_priv) / 4)
#define STEER_GUE0_LEN                                                         \
	(sizeof(struct steer_guehdr) + sizeof(struct steer_gue_priv))

/* A packet that has already been steered this many times is dropped. */
#define STEER_MAX_HOPS 3

#endif /* STEER_GUE_H */

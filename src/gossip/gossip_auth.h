/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Gossip authentication: the cluster key, sealing and opening datagrams
 * (HMAC-SHA-512/256, or XChaCha20-Poly1305 when encryption is on), and
 * the per-sender replay window. The only module that calls libsodium.
 *
 * Two sub-keys are derived from the 32-byte cluster key (one per use), so
 * switching a cluster between plain and encrypted never reuses a key for
 * two algorithms.
 */
#ifndef STEER_GOSSIP_AUTH_H
#define STEER_GOSSIP_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GOSSIP_KEY_LEN 32
#define GOSSIP_MAC_LEN 32   /* HMAC-SHA-512/256 tag */
#define GOSSIP_NONCE_LEN 24 /* XChaCha20-Poly1305 */
#define GOSSIP_AEAD_TAG_LEN 16
#define GOSSIP_REPLAY_WINDOW 64

struct gossip_key {
	uint8_t b[GOSSIP_KEY_LEN];
};

struct gossip_auth {
	uint8_t mac_key[GOSSIP_KEY_LEN];
	uint8_t aead_key[GOSSIP_KEY_LEN];
	bool encrypt;
};

/*
 * Derive the cluster key from a passphrase with Argon2id (libsodium's
 * interactive limits, about 64 MiB and a fraction of a second), salted
 * with the cluster name so two clusters with one passphrase differ.
 * Returns 0, -EINVAL for an empty passphrase or name, -ENOMEM when the
 * derivation cannot get its memory.
 */
int gossip_key_from_passphrase(struct gossip_key *k, const char *passphrase,
			       const char *cluster);

/*
 * Read the cluster key from a file: exactly 32 raw bytes, or 64 hex
 * digits and an optional newline. Returns 0, -errno when the file cannot
 * be read, -EPERM when its group or others may read or write it (the key
 * authenticates the whole fabric: mode 600 or 400), -EINVAL when it is
 * neither form.
 */
int gossip_key_from_file(struct gossip_key *k, const char *path);

/* What a gossip_key_from_file() error means, for messages. */
const char *gossip_key_strerror(int err);

/* Returns 0, or -EIO when libsodium cannot initialise. */
int gossip_auth_init(struct gossip_auth *a, const struct gossip_key *k,
		     bool encrypt);
void gossip_auth_wipe(struct gossip_auth *a);

/* Bytes sealing adds to header + body. */
size_t gossip_auth_overhead(const struct gossip_auth *a);

/*
 * Seal a datagram in place. buf holds the header (hdr_len bytes) and,
 * right after it, the plaintext body (body_len bytes); buf has room for
 * gossip_auth_overhead() more. Returns the sealed length.
 */
size_t gossip_auth_seal(const struct gossip_auth *a, uint8_t *buf,
			size_t hdr_len, size_t body_len);

/*
 * Verify a sealed datagram of len bytes whose body is body_len bytes and
 * write the plaintext body to out (body_len bytes). The caller has
 * checked len == hdr_len + body_len + overhead. Returns 0 or -EBADMSG.
 */
int gossip_auth_open(const struct gossip_auth *a, const uint8_t *buf,
		     size_t len, size_t hdr_len, size_t body_len, uint8_t *out);

/*
 * Replay window per sender: the highest sequence seen and a bitmap of
 * the GOSSIP_REPLAY_WINDOW below it. A sequence is accepted once, if it
 * is above the highest or inside the window and not yet seen, so
 * datagrams may arrive reordered but never twice.
 */
struct gossip_replay_slot {
	uint16_t sender;
	bool used;
	uint64_t top;
	uint64_t seen; /* bit i: top - i seen */
};

struct gossip_replay {
	struct gossip_replay_slot *slots;
	uint32_t cap; /* power of two */
	uint32_t n;
};

void gossip_replay_init(struct gossip_replay *r);
void gossip_replay_free(struct gossip_replay *r);
/*
 * Accept seq from sender and record it. Returns 0, -EALREADY for a replay
 * (or a sequence below the window), -ENOMEM when a new sender cannot be
 * tracked; on failure nothing is recorded.
 */
int gossip_replay_accept(struct gossip_replay *r, uint16_t sender,
			 uint64_t seq);

/*
 * Persisting the windows across a restart: the highest sequence seen of
 * each sender (fn(sender, top, arg) for each; fn returns 0 to go on), and,
 * at a start, a floor per sender: nothing at or below it is accepted.
 * A floor below what is held already changes nothing. 0 or -ENOMEM.
 */
int gossip_replay_foreach(const struct gossip_replay *r,
			  int (*fn)(uint16_t sender, uint64_t top, void *arg),
			  void *arg);
int gossip_replay_floor(struct gossip_replay *r, uint16_t sender,
			uint64_t floor);

#endif /* STEER_GOSSIP_AUTH_H */

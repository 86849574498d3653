// SPDX-License-Identifier: GPL-2.0-only
/*
 * Cluster key, datagram sealing and the replay window (see gossip_auth.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "gossip/gossip_auth.h"

#define KDF_CTX "steergsp"
#define KDF_ID_MAC 1
#define KDF_ID_AEAD 2
#define SALT_LEN crypto_pwhash_SALTBYTES

_Static_assert(GOSSIP_KEY_LEN == crypto_auth_hmacsha512256_KEYBYTES,
	       "key length");
_Static_assert(GOSSIP_KEY_LEN == crypto_aead_xchacha20poly1305_ietf_KEYBYTES,
	       "aead key length");
_Static_assert(GOSSIP_KEY_LEN == crypto_kdf_KEYBYTES, "kdf key length");
_Static_assert(GOSSIP_MAC_LEN == crypto_auth_hmacsha512256_BYTES, "tag");
_Static_assert(GOSSIP_NONCE_LEN == crypto_aead_xchacha20poly1305_ietf_NPUBBYTES,
	       "nonce");
_Static_assert(GOSSIP_AEAD_TAG_LEN == crypto_aead_xchacha20poly1305_ietf_ABYTES,
	       "aead tag");

static int sodium_ready(void)
{
	return sodium_init() < 0 ? -EIO : 0;
}

int gossip_key_from_passphrase(struct gossip_key *k, const char *passphrase,
			       const char *cluster)
{
	uint8_t salt[SALT_LEN];
	int rc;

	if (!passphrase || !*passphrase || !cluster || !*cluster)
		return -EINVAL;
	rc = sodium_ready();
	if (rc)
		return rc;
	/* The salt only separates clusters; it need not be secret. */
	crypto_generichash(salt, sizeof(salt), (const uint8_t *)cluster,
			   strlen(cluster), (const uint8_t *)"steer-gossip",
			   12);
	if (crypto_pwhash(k->b, sizeof(k->b), passphrase, strlen(passphrase),
			  salt, crypto_pwhash_OPSLIMIT_INTERACTIVE,
			  crypto_pwhash_MEMLIMIT_INTERACTIVE,
			  crypto_pwhash_ALG_ARGON2ID13))
		return -ENOMEM;
	return 0;
}

int gossip_key_from_file(struct gossip_key *k, const char *path)
{
	uint8_t buf[GOSSIP_KEY_LEN * 2 + 3];
	struct stat st;
	size_t len = 0, hexlen;
	ssize_t got;
	int fd, rc = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st)) {
		rc = -errno;
		goto out;
	}
	if (st.st_mode & (S_IRWXG | S_IRWXO)) {
		rc = -EPERM;
		goto out;
	}
	while (len < sizeof(buf)) {
		got = read(fd, buf + len, sizeof(buf) - len);
		if (got < 0) {
			if (errno == EINTR)
				continue;
			rc = -errno;
			goto out;
		}
		if (got == 0)
			break;
		len += (size_t)got;
	}
	if (len == GOSSIP_KEY_LEN) {
		memcpy(k->b, buf, GOSSIP_KEY_LEN);
		goto out;
	}
	hexlen = len;
	if (hexlen > 0 && buf[hexlen - 1] == '\n')
		hexlen--;
	if (hexlen != GOSSIP_KEY_LEN * 2 ||
	    sodium_hex2bin(k->b, GOSSIP_KEY_LEN, (const char *)buf, hexlen,
			   NULL, NULL, NULL) != 0)
		rc = -EINVAL;
out:
	sodium_memzero(buf, sizeof(buf));
	close(fd);
	return rc;
}

const char *gossip_key_strerror(int err)
{
	if (err == -EINVAL)
		return "a cluster key is 32 raw bytes or 64 hex digits";
	if (err == -EPERM)
		return "its group or others may read or write it: a cluster "
		       "key must be the owner's alone (chmod 600)";
	return strerror(-err);
}

int gossip_auth_init(struct gossip_auth *a, const struct gossip_key *k,
		     bool encrypt)
{
	int rc = sodium_ready();

	if (rc)
		return rc;
	crypto_kdf_derive_from_key(a->mac_key, sizeof(a->mac_key), KDF_ID_MAC,
				   KDF_CTX, k->b);
	crypto_kdf_derive_from_key(a->aead_key, sizeof(a->aead_key),
				   KDF_ID_AEAD, KDF_CTX, k->b);
	a->encrypt = encrypt;
	return 0;
}

void gossip_auth_wipe(struct gossip_auth *a)
{
	sodium_memzero(a, sizeof(*a));
}

size_t gossip_auth_overhead(const struct gossip_auth *a)
{
	return a->encrypt ? GOSSIP_NONCE_LEN + GOSSIP_AEAD_TAG_LEN
			  : GOSSIP_MAC_LEN;
}

size_t gossip_auth_seal(const struct gossip_auth *a, uint8_t *buf,
			size_t hdr_len, size_t body_len)
{
	unsigned long long clen;
	uint8_t *nonce = buf + hdr_len;

	if (!a->encrypt) {
		crypto_auth_hmacsha512256(buf + hdr_len + body_len, buf,
					  hdr_len + body_len, a->mac_key);
		return hdr_len + body_len + GOSSIP_MAC_LEN;
	}
	/* A random 192-bit nonce never repeats in practice, across restarts
	 * and across the nodes that share the key. */
	memmove(buf + hdr_len + GOSSIP_NONCE_LEN, buf + hdr_len, body_len);
	randombytes_buf(nonce, GOSSIP_NONCE_LEN);
	crypto_aead_xchacha20poly1305_ietf_encrypt(
		nonce + GOSSIP_NONCE_LEN, &clen, nonce + GOSSIP_NONCE_LEN,
		body_len, buf, hdr_len, NULL, nonce, a->aead_key);
	return hdr_len + GOSSIP_NONCE_LEN + (size_t)clen;
}

int gossip_auth_open(const struct gossip_auth *a, const uint8_t *buf,
		     size_t len, size_t hdr_len, size_t body_len, uint8_t *out)
{
	const uint8_t *nonce = buf + hdr_len;
	unsigned long long mlen;

	if (!a->encrypt) {
		if (crypto_auth_hmacsha512256_verify(buf + hdr_len + body_len,
						     buf, hdr_len + body_len,
						     a->mac_key))
			return -EBADMSG;
		memcpy(out, buf + hdr_len, body_len);
		return 0;
	}
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(
		    out, &mlen, NULL, nonce + GOSSIP_NONCE_LEN,
		    len - hdr_len - GOSSIP_NONCE_LEN, buf, hdr_len, nonce,
		    a->aead_key) ||
	    mlen != body_len)
		return -EBADMSG;
	return 0;
}

void gossip_replay_init(struct gossip_replay *r)
{
	memset(r, 0, sizeof(*r));
}

void gossip_replay_free(struct gossip_replay *r)
{
	free(r->slots);
	memset(r, 0, sizeof(*r));
}

static uint32_t replay_hash(uint16_t sender, uint32_t cap)
{
	return ((uint32_t)sender * 40503u) & (cap - 1);
}

static struct gossip_replay_slot *replay_find(struct gossip_replay *r,
					      uint16_t sender)
{
	uint32_t i;

	if (!r->cap)
		return NULL;
	for (i = replay_hash(sender, r->cap);; i = (i + 1) & (r->cap - 1)) {
		if (!r->slots[i].used || r->slots[i].sender == sender)
			return &r->slots[i];
	}
}

/* Keeps the table at most half full; senders are never removed (at most
 * 65536 of them, 24 bytes each). */
static int replay_grow(struct gossip_replay *r)
{
	struct gossip_replay old = *r;
	uint32_t cap = old.cap ? old.cap * 2 : 64, i;
	struct gossip_replay_slot *s;

	r->slots = calloc(cap, sizeof(*r->slots));
	if (!r->slots) {
		*r = old;
		return -ENOMEM;
	}
	r->cap = cap;
	for (i = 0; i < old.cap; i++) {
		if (!old.slots[i].used)
			continue;
		s = replay_find(r, old.slots[i].sender);
		*s = old.slots[i];
	}
	free(old.slots);
	return 0;
}

int gossip_replay_accept(struct gossip_replay *r, uint16_t sender, uint64_t seq)
{
	struct gossip_replay_slot *s = replay_find(r, sender);
	uint64_t d;

	if (!s || !s->used) {
		if ((r->n + 1) * 2 > r->cap) {
			if (replay_grow(r))
				return -ENOMEM;
			s = replay_find(r, sender);
		}
		s->used = true;
		s->sender = sender;
		s->top = seq;
		s->seen = 1;
		r->n++;
		return 0;
	}
	if (seq > s->top) {
		d = seq - s->top;
		s->seen = d >= GOSSIP_REPLAY_WINDOW ? 0 : s->seen << d;
		s->seen |= 1;
		s->top = seq;
		return 0;
	}
	d = s->top - seq;
	if (d >= GOSSIP_REPLAY_WINDOW || (s->seen >> d) & 1)
		return -EALREADY;
	s->seen |= 1ull << d;
	return 0;
}

int gossip_replay_foreach(const struct gossip_replay *r,
			  int (*fn)(uint16_t sender, uint64_t top, void *arg),
			  void *arg)
{
	uint32_t i;
	int ret;

	for (i = 0; i < r->cap; i++) {
		if (!r->slots[i].used)
			continue;
		ret = fn(r->slots[i].sender, r->slots[i].top, arg);
		if (ret)
			return ret;
	}
	return 0;
}

int gossip_replay_floor(struct gossip_replay *r, uint16_t sender,
			uint64_t floor)
{
	struct gossip_replay_slot *s = replay_find(r, sender);

	if (s && s->used) {
		if (floor <= s->top)
			return 0;
	} else if ((r->n + 1) * 2 > r->cap) {
		if (replay_grow(r))
			return -ENOMEM;
		s = replay_find(r, sender);
	}
	if (!s->used)
		r->n++;
	s->used = true;
	s->sender = sender;
	s->top = floor;
	s->seen = ~0ull; /* the floor and the window below it: all seen */
	return 0;
}

// SPDX-License-Identifier: GPL-2.0-only
#include "replay/flowstats.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <steer/hash.h>
#include <steer/rule.h>

#include "fastpath/fastpath.h"

int flowstats_init(struct flowstats *fs)
{
	fs->cap = 1024;
	fs->count = 0;
	fs->slots = calloc(fs->cap, sizeof(*fs->slots));
	return fs->slots ? 0 : -ENOMEM;
}

void flowstats_free(struct flowstats *fs)
{
	free(fs->slots);
	memset(fs, 0, sizeof(*fs));
}

static struct flowstat *fs_slot(struct flowstat *slots, uint32_t cap,
				const struct flow_key *k, uint64_t hash)
{
	uint32_t i = (uint32_t)hash & (cap - 1);

	while (slots[i].used && !flow_key_equal(&slots[i].key, k))
		i = (i + 1) & (cap - 1);
	return &slots[i];
}

/* The table is private to one run: any fixed secret spreads flows. */
static uint64_t fs_hash(const struct flow_key *k)
{
	static const struct steer_hash_secret sec = {0x666c6f7773746174ull,
						     0x7374656572726570ull};

	return flow_hash(k, &sec);
}

static int fs_grow(struct flowstats *fs)
{
	struct flowstat *ns = calloc((size_t)fs->cap * 2, sizeof(*ns));
	uint32_t i;

	if (!ns)
		return -ENOMEM;
	for (i = 0; i < fs->cap; i++) {
		struct flowstat *o = &fs->slots[i];
		if (o->used)
			*fs_slot(ns, fs->cap * 2, &o->key, fs_hash(&o->key)) =
				*o;
	}
	free(fs->slots);
	fs->slots = ns;
	fs->cap *= 2;
	return 0;
}

struct flowstat *flowstats_get(struct flowstats *fs, const struct flow_key *k)
{
	struct flowstat *s;

	if (2 * (fs->count + 1) > fs->cap && fs_grow(fs)) {
		errno = ENOMEM;
		return NULL;
	}
	s = fs_slot(fs->slots, fs->cap, k, fs_hash(k));
	if (!s->used) {
		memset(s, 0, sizeof(*s));
		s->key = *k;
		s->used = 1;
		s->owner = STEER_NODE_NONE;
		s->target = STEER_NODE_NONE;
		fs->count++;
	}
	return s;
}

static void fs_addr(const struct flow_addr *a, char *buf, size_t len)
{
	if (flow_addr_is_v4(a))
		inet_ntop(AF_INET, &a->w[3], buf, (socklen_t)len);
	else
		inet_ntop(AF_INET6, a->b, buf, (socklen_t)len);
}

int flowstats_write_csv(const struct flowstats *fs, FILE *out)
{
	char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN];
	uint32_t i;

	fprintf(out, "proto,src,sport,dst,dport,packets,bytes,dropped,"
		     "first_s,last_s,action,owner,target,mirrors\n");
	for (i = 0; i < fs->cap; i++) {
		const struct flowstat *s = &fs->slots[i];

		if (!s->used)
			continue;
		fs_addr(&s->key.src, src, sizeof(src));
		fs_addr(&s->key.dst, dst, sizeof(dst));
		fprintf(out, "%u,%s,%u,%s,%u,%llu,%llu,%llu,%.6f,%.6f,%s,",
			s->key.proto, src, ntohs(s->key.sport), dst,
			ntohs(s->key.dport), (unsigned long long)s->packets,
			(unsigned long long)s->bytes,
			(unsigned long long)s->dropped, s->first_ns / 1e9,
			s->last_ns / 1e9, fastpath_action_name(s->action));
		if (s->owner == STEER_NODE_NONE)
			fputs(",", out);
		else
			fprintf(out, "%u,", s->owner);
		if (s->target != STEER_NODE_NONE)
			fprintf(out, "%u", s->target);
		fputc(',', out);
		for (int m = 0; m + 1 < s->rf && m < STEER_MAX_MIRRORS; m++)
			fprintf(out, "%s%u", m ? ";" : "", s->mirror[m]);
		fputc('\n', out);
	}
	return ferror(out) ? -EIO : 0;
}

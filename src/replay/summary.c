// SPDX-License-Identifier: GPL-2.0-only
#include "replay/summary.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define IDS 65536

int summary_init(struct replay_summary *s)
{
	memset(s, 0, sizeof(*s));
	s->by_node = calloc(IDS, sizeof(uint64_t));
	s->by_backend = calloc(IDS, sizeof(uint64_t));
	if (!s->by_node || !s->by_backend) {
		summary_free(s);
		return -ENOMEM;
	}
	return 0;
}

void summary_free(struct replay_summary *s)
{
	free(s->by_node);
	free(s->by_backend);
	s->by_node = s->by_backend = NULL;
}

void summary_count(struct replay_summary *s, const struct fp_result *r)
{
	s->packets++;
	switch (r->verdict) {
	case FP_PASS:
		if (r->has_key)
			s->pass_local++;
		else
			s->pass_notip++;
		break;
	case FP_TX:
		if (r->action == STEER_ACT_STEER) {
			s->steered++;
			s->by_node[r->target]++;
		} else {
			s->to_backend++;
			s->by_backend[r->target]++;
		}
		break;
	case FP_DROP:
		s->dropped++;
		break;
	}
}

static double pct(uint64_t part, uint64_t whole)
{
	return whole ? 100.0 * (double)part / (double)whole : 0.0;
}

/* Share of flows each node owns, and of mirror copies it holds. */
static void print_flow_shares(const struct cluster *c,
			      const struct flowstats *fs, FILE *out)
{
	uint64_t *owned = calloc(IDS, sizeof(uint64_t));
	uint64_t *mirrored = calloc(IDS, sizeof(uint64_t));
	uint64_t total = 0, copies = 0;
	uint32_t i, m;

	if (!owned || !mirrored)
		goto out;
	for (i = 0; i < fs->cap; i++) {
		const struct flowstat *f = &fs->slots[i];

		if (!f->used || f->owner == STEER_NODE_NONE)
			continue;
		owned[f->owner]++;
		total++;
		for (m = 0; m + 1 < f->rf && m < STEER_MAX_MIRRORS; m++) {
			mirrored[f->mirror[m]]++;
			copies++;
		}
	}
	fprintf(out, "  flows owned per node   ");
	for (i = 0; i < c->n_nodes; i++)
		fprintf(out, " %s %.1f%%", c->nodes[i].ep.name,
			pct(owned[c->nodes[i].ep.id], total));
	fprintf(out, "\n  mirror copies per node ");
	for (i = 0; i < c->n_nodes; i++)
		fprintf(out, " %s %.1f%%", c->nodes[i].ep.name,
			pct(mirrored[c->nodes[i].ep.id], copies));
	fprintf(out, "  (replication %u)\n", c->replication);
out:
	free(owned);
	free(mirrored);
}

static void print_drops(struct fastpath *fp, FILE *out)
{
	const struct fp_counters *k = fastpath_counters(fp);
	int i, any = 0;

	fprintf(out, "  drops by reason        ");
	for (i = 1; i < PERR__MAX; i++)
		if (k->parse_err[i]) {
			fprintf(out, " %s %llu", fastpath_parse_err_name(i),
				(unsigned long long)k->parse_err[i]);
			any = 1;
		}
	for (i = STEER_DROP_PARSE + 1; i < STEER_DROP__MAX; i++)
		if (k->drop[i]) {
			fprintf(out, " %s %llu", fastpath_drop_name(i),
				(unsigned long long)k->drop[i]);
			any = 1;
		}
	fprintf(out, "%s\n", any ? "" : " none");
}

void summary_print(const struct replay_summary *s, const struct cluster *c,
		   struct fastpath *fp, const struct flowstats *fs,
		   const char *in_name, FILE *out)
{
	const struct fp_counters *k = fastpath_counters(fp);
	struct fsc_stats st;
	uint32_t i;

	fsc_get_stats(fastpath_fsc(fp), &st);
	fprintf(out, "steer-replay: %s through cluster '%s' as node %s\n",
		in_name, c->name, cluster_self(c)->ep.name);
	fprintf(out, "  packets                 %llu over %.1f s\n",
		(unsigned long long)s->packets, s->duration_ns / 1e9);
	fprintf(out,
		"  flows                   %u (FSC: %llu inserts, "
		"%llu expired, %llu evicted)\n",
		fs->count, (unsigned long long)st.inserts,
		(unsigned long long)st.expired,
		(unsigned long long)st.evictions);
	fprintf(out, "  local (own flows)       %llu (%.1f%%)\n",
		(unsigned long long)s->pass_local,
		pct(s->pass_local, s->packets));
	fprintf(out, "  steered to other nodes  %llu (%.1f%%)  ",
		(unsigned long long)s->steered, pct(s->steered, s->packets));
	for (i = 0; i < c->n_nodes; i++)
		if (i != c->self)
			fprintf(out, " %s %llu", c->nodes[i].ep.name,
				(unsigned long long)
					s->by_node[c->nodes[i].ep.id]);
	fprintf(out, "\n  to backends             %llu (%.1f%%)  ",
		(unsigned long long)s->to_backend,
		pct(s->to_backend, s->packets));
	for (i = 0; i < c->n_backends; i++)
		fprintf(out, " %s %llu", c->backends[i].ep.name,
			(unsigned long long)
				s->by_backend[c->backends[i].ep.id]);
	fprintf(out, "\n  passed, not IP          %llu\n",
		(unsigned long long)s->pass_notip);
	fprintf(out, "  decapsulated on arrival %llu\n",
		(unsigned long long)k->decap);
	fprintf(out, "  dropped                 %llu (%.2f%%)\n",
		(unsigned long long)s->dropped, pct(s->dropped, s->packets));
	print_drops(fp, out);
	print_flow_shares(c, fs, out);
}

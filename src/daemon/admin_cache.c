// SPDX-License-Identifier: GPL-2.0-only
#include "daemon/admin_cache.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/admin.h"
#include "daemon/hints.h"
#include "daemon/host.h"
#include "daemon/steerd.h"
#include "node/phc.h"
#include "xdp/xdp_maps.h"

static void admin_cache_stats(struct steerd *d, struct jsonw *w)
{
	const struct phc_stats *s = phc_stats(host_phc(d->host));
	struct xdp_prog *x = host_xdp(d->host);
	struct steer_xdp_stats xs;

	jsonw_obj_open(w, "cache");
	jsonw_u64(w, "l1", s->l1);
	jsonw_u64(w, "l1_rules", s->l1_rules);
	jsonw_u64(w, "l1_max", d->world->conf.cache_l1);
	jsonw_u64(w, "l2", s->l2);
	jsonw_u64(w, "hints", s->hints);
	jsonw_u64(w, "withdrawn", s->withdrawn);
	jsonw_u64(w, "join_hints", s->join_hints);
	jsonw_u64(w, "placed_l1", s->l1_inserts);
	jsonw_u64(w, "placed_l2_only", s->l2_only);
	jsonw_u64(w, "evicted", s->evicted);
	jsonw_u64(w, "demoted", s->demoted);
	jsonw_u64(w, "expired", s->expired);
	jsonw_u64(w, "invalidated", s->invalidated);
	jsonw_u64(w, "record_rule_there", s->conflicts);
	jsonw_u64(w, "l1_hit_entries", s->used);
	jsonw_double(w, "l1_hit_ratio",
		     s->l1_inserts + s->warmed
			     ? (double)s->used /
				       (double)(s->l1_inserts + s->warmed)
			     : 0);
	if (x && !xdp_maps_stats_read(x, &xs))
		jsonw_u64(w, "cached_packets", xs.action[STEER_ACT_HINT]);
	jsonw_u64(w, "warmed", s->warmed);
	jsonw_u64(w, "l2_errors", s->l2_errors);
	jsonw_u64(w, "l2_bad", s->l2_bad);
	jsonw_obj_close(w);
}

static void admin_hints_stats(struct steerd *d, struct jsonw *w)
{
	const struct hints_stats *s;

	if (!d->hints)
		return;
	s = hints_stats(d->hints);
	jsonw_obj_open(w, "hints");
	jsonw_bool(w, "on", d->world->conf.hints);
	jsonw_u64(w, "threshold_permille", d->world->conf.hint_threshold);
	jsonw_u64(w, "rounds", s->rounds);
	jsonw_u64(w, "scored", s->scored);
	jsonw_u64(w, "sessions_hinted", s->hinted);
	jsonw_u64(w, "held", s->held);
	jsonw_u64(w, "sent", s->sent);
	jsonw_u64(w, "withdrawn", s->withdrawn);
	jsonw_u64(w, "receivers", s->receivers);
	jsonw_u64(w, "joiners", s->joiners);
	jsonw_u64(w, "join_sent", s->join_sent);
	jsonw_u64(w, "join_held", s->join_held);
	jsonw_obj_close(w);
}

/* A request that is well formed but finds no cache (not host mode). */
static int admin_cache_none(char *err, size_t errlen)
{
	snprintf(err, errlen, "cache: host mode only");
	return -EOPNOTSUPP;
}

/* The words are checked before the cache is looked for (admin.c). */
static int admin_cache_invalidate(struct steerd *d, int argc, char **argv,
				  struct jsonw *w, char *err, size_t errlen)
{
	struct phc *p = d->host ? host_phc(d->host) : NULL;
	struct flow_key k = {0};
	char *end;
	unsigned long id = 0;
	uint32_t n;

	if (argc == 3 && !strcmp(argv[1], "node")) {
		id = strtoul(argv[2], &end, 10);
		if (!argv[2][0] || *end || id >= 0xffff) {
			snprintf(err, errlen,
				 "cache: node expects an id in 0..65534");
			return -EINVAL;
		}
	} else if (argc == 6) {
		if (admin_parse_key("cache", argv + 1, &k, err, errlen))
			return -EINVAL;
	} else if (argc != 2 || strcmp(argv[1], "all")) {
		snprintf(err, errlen,
			 "cache: invalidate expects all, node ID or PROTO SRC "
			 "SPORT DST DPORT");
		return -EINVAL;
	}
	if (!p)
		return admin_cache_none(err, errlen);
	if (argc == 2)
		n = phc_invalidate_all(p);
	else if (argc == 3)
		n = phc_invalidate_owner(p, (uint16_t)id);
	else
		n = phc_invalidate_flow(p, &k);
	jsonw_u64(w, "invalidated", n);
	return 0;
}

int admin_cache(struct steerd *d, int argc, char **argv, struct jsonw *w,
		char *err, size_t errlen)
{
	if (argc && strcmp(argv[0], "invalidate")) {
		snprintf(err, errlen,
			 "cache: expected nothing or 'invalidate', not '%.32s'",
			 argv[0]);
		return -EINVAL;
	}
	if (argc)
		return admin_cache_invalidate(d, argc, argv, w, err, errlen);
	if (!d->host || !host_phc(d->host))
		return admin_cache_none(err, errlen);
	admin_cache_stats(d, w);
	admin_hints_stats(d, w);
	return 0;
}

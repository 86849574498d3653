// SPDX-License-Identifier: GPL-2.0-only
#include "fastpath/fastpath.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <steer/decap.h>

#include "core/hrw.h"
#include "core/maglev.h"
#include "steer_kern_user.h"

#define FP_MAX_SERVICES 256
#define FP_MAX_TMPLS 65535
#define FP_GUARD_SRCS 1024 /* a power of two */

/* A source's flood guard budget (fp_config's guard). */
struct fp_guard_src {
	struct flow_addr src;
	struct steer_bucket b;
	bool used;
};

struct fp_svc {
	struct fp_service spec;
	struct maglev *backends;
	uint16_t *tmpl_of; /* backend id -> template index */
};

struct fastpath {
	struct fp_config cfg;
	struct parse_cfg pcfg;
	struct fsc *fsc;
	struct maglev *owners;
	struct hrw_node *mirror_set; /* nodes that may hold mirrors */
	size_t n_mirror_set;
	uint32_t epoch; /* bumped by every change of the node set */
	struct steer_tmpl *tmpls;
	uint16_t *tmpl_id; /* node or backend id of each template */
	uint32_t n_tmpls;
	uint16_t *node_tmpl;	/* node id -> template index */
	uint16_t *backend_tmpl; /* backend id -> template index (cell node) */
	struct steer_shard *shards; /* cell node: STEER_SHARDS of them */
	int daemon_gone;	    /* cell node */
	uint8_t xdp_mode;	    /* the XDP program's mode this one models */
	struct fp_svc svcs[FP_MAX_SERVICES];
	uint32_t n_svcs;
	struct steer_bucket guard;	/* the flood guard's budget */
	struct fp_guard_src *guard_src; /* FP_GUARD_SRCS of them */
	struct fp_counters ctr;
};

static const char *const drop_names[STEER_DROP__MAX] = {
	[STEER_DROP_NONE] = "none",
	[STEER_DROP_PARSE] = "parse",
	[STEER_DROP_HOPS] = "hop-limit",
	[STEER_DROP_MTU] = "mtu",
	[STEER_DROP_HEADROOM] = "headroom",
	[STEER_DROP_NO_TMPL] = "no-template",
	[STEER_DROP_NO_BACKEND] = "no-backend",
	[STEER_DROP_RULE] = "rule",
	[STEER_DROP_DIR_UNKNOWN] = "dir-unknown",
	[STEER_DROP_FLOOD] = "flood",
};

static const char *const perr_names[PERR__MAX] = {
	[PERR_NONE] = "none",
	[PERR_TRUNC_ETH] = "truncated-ethernet",
	[PERR_VLAN_DEPTH] = "too-many-vlans",
	[PERR_TRUNC_IP] = "truncated-ip",
	[PERR_BAD_IP] = "bad-ip-header",
	[PERR_IP6_EXT_DEPTH] = "too-many-ipv6-ext",
	[PERR_TRUNC_L4] = "truncated-l4",
	[PERR_BAD_L4] = "bad-l4-header",
	[PERR_ICMP_QUOTE] = "short-icmp-quote",
	[PERR_ENCAP_DEPTH] = "too-deeply-nested",
	[PERR_BAD_GUE] = "bad-gue",
	[PERR_DEEP_HDR] = "headers-too-deep",
};

static const char *const act_names[STEER_ACT__MAX] = {
	[STEER_ACT_NONE] = "none",	     [STEER_ACT_LOCAL] = "local",
	[STEER_ACT_STEER] = "steer",	     [STEER_ACT_BACKEND] = "backend",
	[STEER_ACT_EXCEPTION] = "exception", [STEER_ACT_DROP] = "drop",
	[STEER_ACT_HINT] = "cached",
};

const char *fastpath_drop_name(enum steer_drop d)
{
	return (unsigned)d < STEER_DROP__MAX ? drop_names[d] : "?";
}

const char *fastpath_parse_err_name(int perr)
{
	return perr >= 0 && perr < PERR__MAX ? perr_names[perr] : "?";
}

const char *fastpath_action_name(uint8_t action)
{
	return action < STEER_ACT__MAX ? act_names[action] : "?";
}

struct fastpath *fastpath_new(const struct fp_config *cfg)
{
	uint32_t msize =
		cfg->maglev_size ? cfg->maglev_size : MAGLEV_SIZE_DEFAULT;
	struct fastpath *fp;

	if (cfg->mtu < 68 || cfg->max_encap > STEER_MAX_ENCAP ||
	    cfg->replication > 1 + STEER_MAX_MIRRORS ||
	    cfg->self_id == STEER_NODE_NONE || cfg->mode > FP_MODE_CELL_NODE) {
		errno = EINVAL;
		return NULL;
	}
	fp = calloc(1, sizeof(*fp));
	if (!fp)
		return NULL;
	fp->cfg = *cfg;
	fp->xdp_mode = cfg->mode == FP_MODE_CELL_NODE ? STEER_XDP_MODE_CELL
						      : STEER_XDP_MODE_HOST;
	fp->pcfg.gue_port = cfg->gue_port;
	fp->pcfg.max_encap = cfg->max_encap;
	fp->fsc = fsc_new(&cfg->fsc);
	fp->owners = maglev_new(msize, &cfg->secret);
	fp->node_tmpl = malloc(65536 * sizeof(uint16_t));
	fp->backend_tmpl = malloc(65536 * sizeof(uint16_t));
	fp->shards = calloc(STEER_SHARDS, sizeof(*fp->shards));
	fp->guard_src = calloc(FP_GUARD_SRCS, sizeof(*fp->guard_src));
	if (!fp->fsc || !fp->owners || !fp->node_tmpl || !fp->backend_tmpl ||
	    !fp->shards || !fp->guard_src) {
		fastpath_free(fp);
		errno = ENOMEM;
		return NULL;
	}
	memset(fp->node_tmpl, 0xff, 65536 * sizeof(uint16_t));
	memset(fp->backend_tmpl, 0xff, 65536 * sizeof(uint16_t));
	return fp;
}

void fastpath_free(struct fastpath *fp)
{
	uint32_t i;

	if (!fp)
		return;
	for (i = 0; i < fp->n_svcs; i++) {
		maglev_free(fp->svcs[i].backends);
		free(fp->svcs[i].tmpl_of);
	}
	fsc_free(fp->fsc);
	maglev_free(fp->owners);
	free(fp->mirror_set);
	free(fp->node_tmpl);
	free(fp->backend_tmpl);
	free(fp->shards);
	free(fp->guard_src);
	free(fp->tmpls);
	free(fp->tmpl_id);
	free(fp);
}

/* Append templates; returns the index of the first, or -errno. */
static int fp_tmpls_add(struct fastpath *fp, const struct fp_target *t,
			size_t n)
{
	size_t i, total = fp->n_tmpls + n;
	struct steer_tmpl *nt;
	uint16_t *ni;

	if (total > FP_MAX_TMPLS)
		return -EINVAL;
	if (!n)
		return (int)fp->n_tmpls;
	nt = realloc(fp->tmpls, total * sizeof(*nt));
	if (!nt)
		return -ENOMEM;
	fp->tmpls = nt;
	ni = realloc(fp->tmpl_id, total * sizeof(*ni));
	if (!ni)
		return -ENOMEM;
	fp->tmpl_id = ni;
	for (i = 0; i < n; i++) {
		fp->tmpls[fp->n_tmpls + i] = t[i].tmpl;
		fp->tmpl_id[fp->n_tmpls + i] = t[i].id;
	}
	fp->n_tmpls += (uint32_t)n;
	return (int)(fp->n_tmpls - n);
}

static int fp_ids_unique(const struct fp_target *t, size_t n)
{
	size_t i, j;

	for (i = 0; i < n; i++) {
		if (t[i].id == STEER_NODE_NONE)
			return 0;
		for (j = 0; j < i; j++)
			if (t[i].id == t[j].id)
				return 0;
	}
	return 1;
}

static int fp_maglev_fill(struct maglev *m, const struct fp_target *t, size_t n)
{
	struct maglev_node *mn = calloc(n ? n : 1, sizeof(*mn));
	size_t i;
	int err;

	if (!mn)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		mn[i].id = t[i].id;
		mn[i].weight = t[i].weight;
	}
	err = maglev_build(m, mn, n);
	free(mn);
	return err;
}

/* The candidates for mirror cells: every node with a weight. */
static int fp_mirror_set(struct fastpath *fp, const struct fp_target *nodes,
			 size_t n)
{
	struct hrw_node *hn = calloc(n ? n : 1, sizeof(*hn));
	size_t i;

	if (!hn)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		hn[i].id = nodes[i].id;
		hn[i].weight = nodes[i].weight;
	}
	free(fp->mirror_set);
	fp->mirror_set = hn;
	fp->n_mirror_set = n;
	return 0;
}

int fastpath_set_nodes(struct fastpath *fp, const struct fp_target *nodes,
		       size_t n)
{
	int base, err;
	size_t i;

	if (!fp_ids_unique(nodes, n))
		return -EINVAL;
	err = fp_maglev_fill(fp->owners, nodes, n);
	if (err)
		return err;
	err = fp_mirror_set(fp, nodes, n);
	if (err)
		return err;
	/* Node templates are appended; old indices stay valid for the FSC. */
	base = fp_tmpls_add(fp, nodes, n);
	if (base < 0)
		return base;
	for (i = 0; i < n; i++)
		fp->node_tmpl[nodes[i].id] = (uint16_t)(base + i);
	fp->epoch++;
	return 0;
}

int fastpath_add_service(struct fastpath *fp, const struct fp_service *svc,
			 const struct fp_target *backends, size_t n)
{
	struct fp_svc *s;
	int base, err;
	size_t i;

	if (fp->n_svcs >= FP_MAX_SERVICES)
		return -ENOSPC;
	if (!fp_ids_unique(backends, n))
		return -EINVAL;
	s = &fp->svcs[fp->n_svcs];
	memset(s, 0, sizeof(*s));
	s->spec = *svc;
	s->backends = maglev_new(fp->cfg.maglev_size ? fp->cfg.maglev_size
						     : MAGLEV_SIZE_DEFAULT,
				 &fp->cfg.secret);
	s->tmpl_of = malloc(65536 * sizeof(uint16_t));
	if (!s->backends || !s->tmpl_of) {
		err = -ENOMEM;
		goto err_free;
	}
	memset(s->tmpl_of, 0xff, 65536 * sizeof(uint16_t));
	err = fp_maglev_fill(s->backends, backends, n);
	if (err)
		goto err_free;
	base = fp_tmpls_add(fp, backends, n);
	if (base < 0) {
		err = base;
		goto err_free;
	}
	for (i = 0; i < n; i++) {
		s->tmpl_of[backends[i].id] = (uint16_t)(base + i);
		fp->backend_tmpl[backends[i].id] = (uint16_t)(base + i);
	}
	return (int)fp->n_svcs++;

err_free:
	free(s->tmpl_of);
	maglev_free(s->backends);
	memset(s, 0, sizeof(*s));
	return err;
}

/* The service of k's destination; an exact port wins over port 0. */
static const struct fp_svc *fp_service_match(const struct fastpath *fp,
					     const struct flow_key *k)
{
	const struct fp_svc *any = NULL;
	uint32_t i;

	for (i = 0; i < fp->n_svcs; i++) {
		const struct fp_service *s = &fp->svcs[i].spec;

		if (s->proto != k->proto ||
		    memcmp(&s->vip, &k->dst, sizeof(s->vip)) != 0)
			continue;
		if (s->port == k->dport)
			return &fp->svcs[i];
		if (s->port == 0 && !any)
			any = &fp->svcs[i];
	}
	return any;
}

int fastpath_service_backends_set(struct fastpath *fp, uint16_t svc,
				  const struct fp_target *t, size_t n)
{
	size_t i;

	if (svc >= fp->n_svcs || !fp_ids_unique(t, n))
		return -EINVAL;
	for (i = 0; i < n; i++)
		if (fp->svcs[svc].tmpl_of[t[i].id] == 0xffff)
			return -EINVAL; /* not one of its backends */
	return fp_maglev_fill(fp->svcs[svc].backends, t, n);
}

int fastpath_backend_pick(const struct fastpath *fp, const struct flow_key *k,
			  uint64_t hash, uint16_t *svc, uint16_t *backend)
{
	const struct fp_svc *s = fp_service_match(fp, k);
	uint16_t b;

	if (!s)
		return -ENOENT;
	b = maglev_lookup(s->backends, hash);
	if (b == STEER_NODE_NONE)
		return -EHOSTUNREACH;
	*svc = (uint16_t)(s - fp->svcs);
	*backend = b;
	return 0;
}

/* The rule for a flow the FSC does not know; 0 or an fp_drop reason. */
static int fp_decide(struct fastpath *fp, const struct flow_key *k,
		     uint64_t hash, struct steer_rule *r)
{
	uint16_t owner = maglev_lookup(fp->owners, hash);
	const struct fp_svc *svc;

	memset(r, 0, sizeof(*r));
	r->epoch = fp->epoch;
	r->mirror[0] = r->mirror[1] = STEER_NODE_NONE;
	if (owner == STEER_NODE_NONE || fp->cfg.mode == FP_MODE_HOST)
		owner = fp->cfg.self_id;
	r->owner = owner;
	r->rf = 1;
	if (fp->cfg.replication > 1) {
		int got = hrw_topk(fp->mirror_set, fp->n_mirror_set, hash,
				   owner, &fp->cfg.secret, r->mirror,
				   fp->cfg.replication - 1u);

		if (got > 0)
			r->rf = (uint8_t)(1 + got);
	}
	if (owner != fp->cfg.self_id) {
		r->action = STEER_ACT_STEER;
		r->tmpl = fp->node_tmpl[owner];
		return 0;
	}
	svc = fp_service_match(fp, k);
	if (!svc) {
		r->action = STEER_ACT_LOCAL;
		return 0;
	}
	owner = maglev_lookup(svc->backends, hash);
	if (owner == STEER_NODE_NONE)
		return STEER_DROP_NO_BACKEND;
	r->action = STEER_ACT_BACKEND;
	r->tmpl = svc->tmpl_of[owner];
	return 0;
}

static void fp_drop(struct fastpath *fp, struct fp_result *r, int why)
{
	r->verdict = FP_DROP;
	r->drop = (enum steer_drop)why;
	fp->ctr.drop[why]++;
}

/*
 * Parse, and strip a tunnel addressed to this node (steer_tunnel_verdict()
 * of decide.h). Returns 0 with m describing the packet to act on, or -1
 * when the verdict is final.
 */
static __always_inline int fp_classify(struct fastpath *fp, struct fp_pkt *p,
				       struct pkt_meta *m, struct fp_result *r)
{
	enum steer_tunnel tun = STEER_TUN_KEEP;
	int rc, strip;

	fp->ctr.rx_packets++;
	fp->ctr.rx_bytes += p->len;
	rc = parse_packet(p->data, p->data + p->len, &fp->pcfg, m);
	if (rc == 0 && m->depth)
		tun = steer_tunnel_verdict(
			m, steer_outer_is_self(p->data, p->data + p->len, m,
					       &fp->cfg.self_addr,
					       &fp->cfg.self_addr6));
	if (tun == STEER_TUN_EXCEPTION) {
		fp->ctr.exc_in++;
		r->verdict = FP_PASS;
		return -1;
	}
	if (tun == STEER_TUN_STRIP) {
		strip = steer_decap_prepare(p->data, p->data + p->len, m);
		if (strip > 0) {
			uint32_t end = m->outer_l3_end;
			struct steer_gue_priv priv = m->priv;
			uint8_t had_priv = m->flags & PKT_F_STEER_PRIV;

			p->data += strip;
			p->len = end - (uint32_t)strip;
			p->headroom += (uint32_t)strip;
			fp->ctr.decap++;
			if (steer_decap_meta(m, (uint32_t)strip)) {
				rc = parse_packet(p->data, p->data + p->len,
						  &fp->pcfg, m);
				/* Keep what the sender told us. */
				m->priv = priv;
				m->flags |= had_priv;
			}
		}
	}
	if (rc < 0) {
		r->parse_err = (int8_t)-rc;
		fp->ctr.parse_err[-rc]++;
		fp_drop(fp, r, STEER_DROP_PARSE);
		return -1;
	}
	if (rc == 1) {
		fp->ctr.notip++;
		r->verdict = FP_PASS;
		return -1;
	}
	r->key = m->key;
	r->has_key = 1;
	r->l3_len = m->l3_end - m->l3_off;
	return 0;
}

/*
 * Encapsulate by rule (steer_encap_plan() of decide.h) and count it.
 * The packet goes out (FP_TX), or up this node's stack when it is an
 * exception for this node's own cell.
 */
static void fp_encap(struct fastpath *fp, struct fp_pkt *p,
		     const struct pkt_meta *m, const struct steer_rule *rule,
		     uint64_t hash, struct fp_result *r, uint8_t gflags)
{
	const struct steer_tmpl *t =
		rule->tmpl < fp->n_tmpls ? &fp->tmpls[rule->tmpl] : NULL;
	struct steer_tmpl_args a = {0};
	uint32_t ilen = m->outer_l3_end - m->l2_len;
	uint8_t *out;
	int why;

	why = steer_encap_plan(m, t, fp->cfg.mtu, rule->action, rule->epoch,
			       &a);
	if (why)
		return fp_drop(fp, r, why);
	a.flags |= gflags;
	if (t->len > m->l2_len + p->headroom)
		return fp_drop(fp, r, STEER_DROP_HEADROOM);
	a.sport = rule->sport ? rule->sport : flow_hash_sport(hash);
	out = p->data + m->l2_len - t->len;
	if (steer_tmpl_apply(out, t, ilen, m->outer_family, &a))
		return fp_drop(fp, r, STEER_DROP_NO_TMPL);
	p->headroom -= (uint32_t)(p->data - out);
	p->data = out;
	p->len = t->len + ilen;
	fp->ctr.action[rule->action]++;
	r->target = fp->tmpl_id[rule->tmpl];
	r->verdict =
		steer_encap_is_local(rule->action, rule->owner, fp->cfg.self_id)
			? FP_PASS
			: FP_TX;
	if (r->verdict == FP_TX)
		fp->ctr.tx_bytes += p->len;
}

/* Cell node: the flow to its shard's cell, GUE with the exception flag
 * (and gflags). */
static void fp_to_cell(struct fastpath *fp, struct fp_pkt *p,
		       const struct pkt_meta *m, uint64_t hash,
		       struct fp_result *r, uint8_t gflags)
{
	const struct steer_shard *sh = &fp->shards[steer_shard_of(hash)];
	struct steer_rule rule = {0};
	uint16_t cell;

	cell = steer_cell_pick(sh, fp->cfg.self_id, fp->daemon_gone);
	if (cell == STEER_NODE_NONE)
		return fp_drop(fp, r, STEER_DROP_NO_BACKEND);
	steer_exception_rule(&rule, cell, hash);
	rule.tmpl = fp->node_tmpl[cell];
	r->action = STEER_ACT_EXCEPTION;
	r->owner = cell;
	r->rf = 1;
	fp_encap(fp, p, m, &rule, hash, r, gflags);
}

/* The source budget of m's source: its slot, taken over by a newcomer. */
static struct steer_bucket *fp_guard_src_of(struct fastpath *fp,
					    const struct pkt_meta *m)
{
	struct fp_guard_src *g;
	struct flow_addr src;
	uint64_t h;

	steer_guard_src_of(&src, &m->key);
	h = ((uint64_t)src.w[0] * 31 + src.w[1]) * 31 + src.w[2];
	h = (h * 31 + src.w[3]) * 0x9e3779b97f4a7c15ull;
	g = &fp->guard_src[(h >> 32) & (FP_GUARD_SRCS - 1)];
	if (!g->used || memcmp(&g->src, &src, sizeof(src))) {
		memset(g, 0, sizeof(*g));
		g->src = src;
		g->used = true;
	}
	return &g->b;
}

/* The flood guard on a miss that may make state (xdp_guard()'s twin):
 * enum steer_guard_verdict. */
static int fp_guard(struct fastpath *fp, const struct pkt_meta *m,
		    uint32_t now_ms)
{
	const struct fp_guard *g = &fp->cfg.guard;
	uint64_t now = (uint64_t)now_ms * 1000000u;
	int v;

	if (g->policy == STEER_GUARD_OFF)
		return STEER_GV_PASS;
	if (!steer_bucket_take(&fp->guard, now, g->cost_ns, g->cap_ns)) {
		fp->ctr.guard_over++;
	} else if (!g->src_cost_ns ||
		   steer_bucket_take(fp_guard_src_of(fp, m), now,
				     g->src_cost_ns, g->src_cap_ns)) {
		return STEER_GV_PASS;
	} else {
		fp->ctr.guard_src_over++;
	}
	v = steer_guard_verdict(g->policy, m);
	if (v == STEER_GV_STATELESS)
		fp->ctr.guard_stateless++;
	return v;
}

/*
 * Cell node, a guarded new flow (stateless policy): to the backend its
 * service's Maglev table picks, as xdp_guard_direct() does with the
 * table in steer_ring; 1 when the service has no ring there (one of the
 * first STEER_XDP_RING_SVCS) or no backend (the cell picks).
 */
static int fp_guard_direct(struct fastpath *fp, struct fp_pkt *p,
			   const struct pkt_meta *m, uint64_t hash,
			   struct fp_result *r)
{
	const struct fp_svc *s = fp_service_match(fp, &m->key);
	struct steer_rule rule = {0};
	uint16_t b;

	if (!s || s - fp->svcs >= STEER_XDP_RING_SVCS)
		return 1;
	b = maglev_lookup(s->backends, hash);
	if (b == STEER_NODE_NONE || b >= STEER_TMPL_BACKEND)
		return 1;
	fp->ctr.guard_direct++;
	rule.owner = STEER_NODE_NONE;
	rule.action = STEER_ACT_BACKEND;
	rule.tmpl = s->tmpl_of[b];
	rule.sport = flow_hash_sport(hash);
	r->action = STEER_ACT_BACKEND;
	r->owner = STEER_NODE_NONE;
	r->rf = 1;
	fp_encap(fp, p, m, &rule, hash, r, 0);
	return 0;
}

/* Host mode with a directory: a service's flow nobody announced. */
static void fp_dir_miss(struct fastpath *fp, struct fp_pkt *p,
			const struct pkt_meta *m, uint64_t hash,
			struct fp_result *r, uint32_t now_ms)
{
	const struct steer_shard *sh = &fp->shards[steer_shard_of(hash)];
	uint16_t self = fp->cfg.self_id, to;
	struct steer_rule rule = {0};
	int syn = steer_dir_new_session(m);

	if (syn && fp_guard(fp, m, now_ms) == STEER_GV_DROP)
		return fp_drop(fp, r, STEER_DROP_FLOOD);
	to = syn ? self : steer_dir_target(m, sh, self);
	if (to == STEER_NODE_NONE) {
		if (fp_guard(fp, m, now_ms) == STEER_GV_PASS)
			fp->ctr.dir_asked++;
		return fp_drop(fp, r, STEER_DROP_DIR_UNKNOWN);
	}
	r->owner = to;
	r->rf = 1;
	if (to == self) {
		r->action = STEER_ACT_LOCAL;
		r->verdict = FP_PASS;
		fp->ctr.action[STEER_ACT_LOCAL]++;
		return;
	}
	fp->ctr.dir_rerouted++;
	rule.owner = to;
	rule.action = STEER_ACT_STEER;
	rule.tmpl = fp->node_tmpl[to];
	rule.sport = flow_hash_sport(hash);
	r->action = STEER_ACT_STEER;
	fp_encap(fp, p, m, &rule, hash, r, 0);
}

/* A flow the FSC does not know. Returns the entry to act on, or NULL
 * when the packet's verdict is given. */
static struct fsc_entry *fp_miss(struct fastpath *fp, struct fp_pkt *p,
				 const struct pkt_meta *m, uint64_t hash,
				 struct fp_result *r, uint32_t now_ms)
{
	struct steer_rule rule;
	int why;

	fp->ctr.miss++;
	if (fp->cfg.mode == FP_MODE_CELL_NODE) {
		if (steer_miss_to_cell(fp->xdp_mode) &&
		    fp_service_match(fp, &m->key)) {
			why = fp_guard(fp, m, now_ms);
			if (why == STEER_GV_DROP)
				fp_drop(fp, r, STEER_DROP_FLOOD);
			else if (why != STEER_GV_STATELESS ||
				 fp_guard_direct(fp, p, m, hash, r))
				fp_to_cell(fp, p, m, hash, r,
					   why ? STEER_GUE_F_GUARDED : 0);
			return NULL;
		}
		rule.action = STEER_ACT_LOCAL;
		rule.owner = fp->cfg.self_id;
	} else if (fp->cfg.mode == FP_MODE_HOST && fp->cfg.dir &&
		   fp_service_match(fp, &m->key)) {
		fp_dir_miss(fp, p, m, hash, r, now_ms);
		return NULL;
	} else if (fp->cfg.mode == FP_MODE_HOST && fp->cfg.guard.policy &&
		   steer_is_syn(m) && fp_service_match(fp, &m->key) &&
		   fp_guard(fp, m, now_ms) == STEER_GV_DROP) {
		fp_drop(fp, r, STEER_DROP_FLOOD);
		return NULL;
	} else {
		why = fp_decide(fp, &m->key, hash, &rule);
		if (why) {
			fp_drop(fp, r, why);
			return NULL;
		}
	}
	if (fp->cfg.mode != FP_MODE_CELL && rule.action == STEER_ACT_LOCAL) {
		/* Unannounced: the local stack's; not cached, so an
		 * announcement (or a cell's rule) later is the only entry
		 * for it. */
		r->action = STEER_ACT_LOCAL;
		r->owner = rule.owner;
		r->rf = 1;
		r->verdict = FP_PASS;
		fp->ctr.action[STEER_ACT_LOCAL]++;
		return NULL;
	}
	fp->ctr.new_flows++;
	r->new_flow = 1;
	return fsc_insert(fp->fsc, &m->key, hash, &rule, now_ms);
}

/* Cell node: a FIN or RST of a CLOSE_VIA_CELL service's BACKEND flow? */
static int fp_close_via_cell(const struct fastpath *fp,
			     const struct pkt_meta *m,
			     const struct fsc_entry *e)
{
	const struct fp_svc *svc;

	if (e->action != STEER_ACT_BACKEND ||
	    !steer_close_candidate(fp->xdp_mode, m))
		return 0;
	svc = fp_service_match(fp, &m->key);
	return svc && (svc->spec.flags & STEER_SVC_F_CLOSE_VIA_CELL);
}

static __always_inline void fp_act(struct fastpath *fp, struct fp_pkt *p,
				   const struct pkt_meta *m, uint64_t hash,
				   struct fp_result *r, uint32_t now_ms)
{
	struct fsc_entry *e = fsc_lookup(fp->fsc, &m->key, hash, now_ms);
	struct steer_rule rule;

	if (!e) {
		e = fp_miss(fp, p, m, hash, r, now_ms);
		if (!e)
			return;
	}
	if (fp_close_via_cell(fp, m, e)) {
		fsc_delete(fp->fsc, &m->key, hash);
		fp->ctr.close_to_cell++;
		return fp_to_cell(fp, p, m, hash, r, 0);
	}
	fsc_entry_account(e, r->l3_len, m->tcp_flags, now_ms);
	r->action = e->action;
	r->owner = e->owner;
	r->rf = e->rf;
	memcpy(r->mirror, e->mirror, sizeof(r->mirror));
	switch (steer_rule_verdict(e->action)) {
	case STEER_RV_PASS:
		r->verdict = FP_PASS;
		fp->ctr.action[e->action]++;
		break;
	case STEER_RV_ENCAP:
		rule.tmpl = e->tmpl;
		rule.action = e->action;
		rule.epoch = e->epoch;
		rule.owner = e->owner;
		rule.sport = 0;
		fp_encap(fp, p, m, &rule, hash, r, 0);
		/* The twin tracks no flow in detail: it only samples, as the
		 * XDP program does for untracked rules. */
		if (r->verdict != FP_DROP &&
		    steer_tele_sampled(++fp->ctr.tele_tick))
			fp->ctr.tele_cand++;
		break;
	default:
		fp_drop(fp, r, STEER_DROP_RULE);
	}
}

void fastpath_process(struct fastpath *fp, struct fp_pkt *p, uint32_t now_ms,
		      struct fp_result *r)
{
	struct pkt_meta m;

	memset(r, 0, sizeof(*r));
	if (fp_classify(fp, p, &m, r))
		return;
	fp_act(fp, p, &m, flow_hash(&m.key, &fp->cfg.secret), r, now_ms);
}

void fastpath_process_burst(struct fastpath *fp, struct fp_pkt *pkts, size_t n,
			    uint32_t now_ms, struct fp_result *r)
{
	struct pkt_meta m[FP_BURST];
	uint64_t hash[FP_BURST];
	uint8_t ok[FP_BURST];
	size_t i;

	if (n > FP_BURST)
		n = FP_BURST;
	for (i = 0; i < n; i++) {
		memset(&r[i], 0, sizeof(r[i]));
		ok[i] = fp_classify(fp, &pkts[i], &m[i], &r[i]) == 0;
		if (!ok[i])
			continue;
		hash[i] = flow_hash(&m[i].key, &fp->cfg.secret);
		fsc_prefetch(fp->fsc, hash[i]);
	}
	for (i = 0; i < n; i++)
		if (ok[i])
			fp_act(fp, &pkts[i], &m[i], hash[i], &r[i], now_ms);
}

int fastpath_flow_set(struct fastpath *fp, const struct flow_key *k,
		      uint16_t owner, uint32_t epoch, uint32_t now_ms)
{
	struct steer_rule r;

	if (owner == STEER_NODE_NONE)
		return -EINVAL;
	memset(&r, 0, sizeof(r));
	r.owner = owner;
	r.epoch = epoch;
	r.rf = 1;
	r.mirror[0] = r.mirror[1] = STEER_NODE_NONE;
	if (owner == fp->cfg.self_id) {
		r.action = STEER_ACT_LOCAL;
	} else {
		if (fp->node_tmpl[owner] == 0xffff)
			return -ENOENT;
		r.action = STEER_ACT_STEER;
		r.tmpl = fp->node_tmpl[owner];
	}
	fsc_insert(fp->fsc, k, flow_hash(k, &fp->cfg.secret), &r, now_ms);
	return 0;
}

int fastpath_rule_set(struct fastpath *fp, const struct flow_key *k,
		      uint8_t action, uint16_t id, uint32_t epoch,
		      uint32_t now_ms)
{
	struct steer_rule r;

	memset(&r, 0, sizeof(r));
	r.action = action;
	r.owner = id;
	r.epoch = epoch;
	r.rf = 1;
	r.mirror[0] = r.mirror[1] = STEER_NODE_NONE;
	if (action == STEER_ACT_STEER || action == STEER_ACT_HINT)
		r.tmpl = fp->node_tmpl[id];
	else if (action == STEER_ACT_BACKEND)
		r.tmpl = fp->backend_tmpl[id];
	else if (action != STEER_ACT_LOCAL)
		return -EINVAL;
	if (action != STEER_ACT_LOCAL && r.tmpl == 0xffff)
		return -ENOENT;
	fsc_insert(fp->fsc, k, flow_hash(k, &fp->cfg.secret), &r, now_ms);
	return 0;
}

void fastpath_shards_set(struct fastpath *fp, const struct steer_shard *sh)
{
	memcpy(fp->shards, sh, STEER_SHARDS * sizeof(*sh));
}

const uint16_t *fastpath_service_table(const struct fastpath *fp, uint16_t svc,
				       uint32_t *size)
{
	if (svc >= fp->n_svcs || !fp->svcs[svc].backends)
		return NULL;
	return maglev_table(fp->svcs[svc].backends, size);
}

void fastpath_guard_set(struct fastpath *fp, const struct fp_guard *g)
{
	fp->cfg.guard = *g;
}

void fastpath_daemon_gone_set(struct fastpath *fp, int gone)
{
	fp->daemon_gone = !!gone;
}

int fastpath_flow_del(struct fastpath *fp, const struct flow_key *k)
{
	return fsc_delete(fp->fsc, k, flow_hash(k, &fp->cfg.secret));
}

const struct fp_counters *fastpath_counters(const struct fastpath *fp)
{
	return &fp->ctr;
}

struct fsc *fastpath_fsc(struct fastpath *fp)
{
	return fp->fsc;
}

// SPDX-License-Identifier: GPL-2.0-only
/*
 * steer-gossip-bench: figures of the gossip, one per line as
 * `name value unit`. Never passes or fails on time; steer and serf are
 * compared as ratios of figures measured in the same run.
 *
 *   - codec: sealing + encoding and opening + decoding a full datagram
 *     (29 session updates), HMAC and encrypted, ns per datagram;
 *   - receive path: gossip_recv() of such a datagram on a node (auth,
 *     codec, merge of 29 new sessions, queueing), ns per datagram;
 *   - clusters of 16 and 48 nodes on loopback, for each system asked
 *     (gbench.h; steer in this process, steer one process per node, serf
 *     agents): the time until every node knows a joined node, a session
 *     announce and a crashed node, and the bytes each node sends per
 *     second, idle and while announces flow. One scenario
 *     (gb_scenario) drives every system, so all are timed alike.
 *
 *   steer-gossip-bench [--quick] [--no-micro] [--n 16,48]
 *                      [--systems steer,steer_procs,serf] [--serf PATH]
 *                      [--nft-table NAME] [--keep]
 *
 * --nft-table names an `inet` table with the counters steer_udp,
 * serf_udp and serf_tcp (bench/gossip/compare.sh makes it, and is the
 * way to run the comparison); without it serf's bytes are not measured.
 * Needs no root otherwise. Never run by ctest. Built on its own as
 * steer-gossip-bench (GOSSIP_BENCH_MAIN gives it its main()).
 */
#include <errno.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "gossip/gossip.h"
#include "gossip/gossip_net.h"

#include "gbench.h"

int gossip_bench_main(int argc, char **argv);

int64_t gb_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000ll + ts.tv_nsec;
}

static double gb_now_s(void)
{
	return (double)gb_now_ns() / 1e9;
}

static void gb_fig(const char *name, double v, const char *unit)
{
	printf("%-56s %12.1f %s\n", name, v, unit);
}

/* Session keys: 198.18.x.y -> 198.19.0.1:443, x.y the number i. */
void gb_key(struct flow_key *k, uint32_t i)
{
	memset(k, 0, sizeof(*k));
	flow_addr_set_v4(&k->src, __builtin_bswap32(0xc6120000u + i));
	flow_addr_set_v4(&k->dst, __builtin_bswap32(0xc6130001u));
	k->sport = __builtin_bswap16((uint16_t)(1024 + i % 60000));
	k->dport = __builtin_bswap16(443);
	k->proto = 6;
}

uint32_t gb_key_seq(const struct flow_key *k)
{
	return __builtin_bswap32(k->src.w[3]) - 0xc6120000u;
}

static void gb_set(int64_t *slot, int64_t t)
{
	if (!*slot)
		*slot = t ? t : 1;
}

void gb_record(struct gb_run *r, enum gb_ev ev, uint32_t obs, uint32_t subj,
	       int64_t t)
{
	if (obs >= GB_MAXN)
		return;
	switch (ev) {
	case GB_EV_JOIN0:
		gb_set(&r->t_join0[obs], t);
		break;
	case GB_EV_JOIN:
		if (subj < GB_MAXN)
			gb_set(&r->t_join[obs][subj], t);
		break;
	case GB_EV_ANN:
		if (subj >= 1 && subj <= GB_ANN_MAX)
			gb_set(&r->t_ann[obs][subj], t);
		break;
	case GB_EV_DEAD:
		if (subj < GB_MAXN)
			gb_set(&r->t_dead[obs][subj], t);
		break;
	}
}

void gb_record_handler(struct gb_run *r, enum gb_ev ev, uint32_t obs,
		       uint32_t subj, int64_t t)
{
	if (obs >= GB_MAXN)
		return;
	switch (ev) {
	case GB_EV_JOIN:
		if (subj < GB_MAXN)
			gb_set(&r->h_join[obs][subj], t);
		break;
	case GB_EV_ANN:
		if (subj >= 1 && subj <= GB_ANN_MAX)
			gb_set(&r->h_ann[obs][subj], t);
		break;
	case GB_EV_DEAD:
		if (subj < GB_MAXN)
			gb_set(&r->h_dead[obs][subj], t);
		break;
	default:
		break;
	}
}

static bool gb_name_ok(const char *s)
{
	for (; *s; s++)
		if (!(*s == '_' || (*s >= 'a' && *s <= 'z') ||
		      (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9')))
			return false;
	return true;
}

int gb_nft_counter(const char *table, const char *counter, struct gb_bytes *out)
{
	unsigned long long pkts, bytes;
	char cmd[256], line[256], *p;
	int found = 0;
	FILE *f;

	if (!gb_name_ok(table) || !gb_name_ok(counter))
		return -EINVAL;
	snprintf(cmd, sizeof(cmd), "nft list counter inet %s %s 2>/dev/null",
		 table, counter);
	f = popen(cmd, "r");
	if (!f)
		return -ENOENT;
	while (fgets(line, sizeof(line), f))
		if ((p = strstr(line, "packets ")) &&
		    sscanf(p, "packets %llu bytes %llu", &pkts, &bytes) == 2)
			found = 1;
	pclose(f);
	if (!found)
		return -ENOENT;
	out->pkts = pkts;
	out->bytes = bytes;
	return 0;
}

/* ---- micro-benchmarks of the codec and the receive path ---- */

/* A GOSSIP message of 29 sessions (a full datagram), sessions base.. */
static void gb_msg(struct gossip_msg *m, uint64_t seq, uint32_t base)
{
	uint16_t i;

	memset(m, 0, offsetof(struct gossip_msg, updates));
	m->type = GOSSIP_MSG_GOSSIP;
	m->sender = 2;
	m->seq = seq;
	m->n_updates = 29;
	for (i = 0; i < m->n_updates; i++) {
		memset(&m->updates[i], 0, sizeof(m->updates[i]));
		m->updates[i].kind = GOSSIP_UPD_SESSION;
		m->updates[i].session.owner = 2;
		m->updates[i].session.op = GOSSIP_SESSION_ESTABLISHED;
		m->updates[i].session.epoch = 1;
		gb_key(&m->updates[i].session.key, base + i);
	}
}

static void gb_codec(uint32_t rounds)
{
	static struct gossip_msg m, out;
	struct gossip_key key;
	struct gossip_auth a;
	uint8_t buf[GOSSIP_DGRAM_MAX];
	uint32_t i, unknown;
	double t0, t1, t2;
	int enc, len = 0;

	memset(key.b, 0x21, sizeof(key.b));
	for (enc = 0; enc < 2; enc++) {
		if (gossip_auth_init(&a, &key, enc))
			return;
		gb_msg(&m, 1, 0);
		t0 = gb_now_s();
		for (i = 0; i < rounds; i++)
			len = gossip_codec_encode(&a, &m, buf, sizeof(buf));
		t1 = gb_now_s();
		for (i = 0; i < rounds; i++)
			gossip_codec_decode(&a, buf, (size_t)len, &out,
					    &unknown);
		t2 = gb_now_s();
		gb_fig(enc ? "codec_seal_encrypted" : "codec_seal_hmac",
		       (t1 - t0) * 1e9 / rounds, "ns/dgram");
		gb_fig(enc ? "codec_open_encrypted" : "codec_open_hmac",
		       (t2 - t1) * 1e9 / rounds, "ns/dgram");
		gossip_auth_wipe(&a);
	}
	gb_fig("datagram_bytes_29_sessions", len, "bytes");
}

static uint64_t gb_clock;

static uint64_t gb_io_now(void *ctx)
{
	(void)ctx;
	return gb_clock;
}

static int gb_io_send(void *ctx, const struct gossip_addr *to, const void *buf,
		      size_t len)
{
	(void)ctx;
	(void)to;
	(void)buf;
	(void)len;
	return 0;
}

/* gossip_recv() of datagrams of 29 sessions each, new to the node. */
static void gb_recv(uint32_t rounds)
{
	static struct gossip_msg m;
	struct gossip_io io = {.now_ms = gb_io_now, .send = gb_io_send};
	struct gossip_config cfg;
	struct gossip_auth a;
	struct gossip_addr from;
	uint8_t(*dg)[GOSSIP_DGRAM_MAX];
	int *len;
	struct gossip *g;
	uint32_t i;
	double t0;

	gossip_config_default(&cfg);
	cfg.self_id = 1;
	memset(cfg.key.b, 0x21, sizeof(cfg.key.b));
	cfg.seed = 1;
	cfg.seq_start = 1;
	gb_clock = 1000000;
	dg = malloc(rounds * sizeof(*dg));
	len = malloc(rounds * sizeof(*len));
	g = gossip_new(&cfg, &io, NULL);
	if (!dg || !len || !g || gossip_auth_init(&a, &cfg.key, false))
		goto out;
	for (i = 0; i < rounds; i++) {
		gb_msg(&m, i + 1, i * 29);
		len[i] = gossip_codec_encode(&a, &m, dg[i], sizeof(dg[i]));
	}
	memset(&from, 0, sizeof(from));
	t0 = gb_now_s();
	for (i = 0; i < rounds; i++)
		gossip_recv(g, dg[i], (size_t)len[i], &from);
	gb_fig("recv_29_new_sessions", (gb_now_s() - t0) * 1e9 / rounds,
	       "ns/dgram");
	gossip_auth_wipe(&a);
out:
	gossip_free(g);
	free(len);
	free(dg);
}

/* ---- the cluster scenario, the same for every system ---- */

struct gb_plan {
	uint32_t join_trials; /* nodes that join a settled cluster */
	uint32_t ann_trials;
	double settle_s;   /* after the formation, the joins, the updates */
	double gap_s;	   /* after each join and announce trial */
	double idle_s;	   /* idle bytes window */
	double upd_s;	   /* bytes window while announces flow */
	uint32_t upd_rate; /* announces per second in it */
	double bound_s;	   /* longest wait for a trial */
};

static struct gb_plan gb_plan = {
	.join_trials = 3,
	.ann_trials = 7,
	.settle_s = 3,
	.gap_s = 1.5,
	.idle_s = 10,
	.upd_s = 5,
	.upd_rate = 10,
	.bound_s = 30,
};

static const char *gb_nft_table;

#define GB_VICTIM 2

/* Per trial, until every observer knew; per observer and trial, when. */
struct gb_trials {
	uint32_t n;
	uint32_t missing; /* observer-trials that never knew */
	double all[GB_ANN_MAX];
	double node[GB_ANN_MAX * GB_MAXN];
	uint32_t n_node;
};

/* One trial: observers' stamps (0: never) from t0, in ms. */
static void gb_trial(struct gb_trials *t, const int64_t *when, const bool *obs,
		     uint32_t n, int64_t t0)
{
	double v, all = 0;
	uint32_t o;

	if (t->n >= GB_ANN_MAX)
		return;
	for (o = 0; o < n; o++) {
		if (!obs[o])
			continue;
		if (!when[o] || !t0) {
			v = INFINITY;
			t->missing++;
		} else
			v = when[o] > t0 ? (double)(when[o] - t0) / 1e6 : 0;
		t->node[t->n_node++] = v;
		if (v > all)
			all = v;
	}
	t->all[t->n++] = all;
}

static int gb_dcmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Median (the upper one of an even count); INFINITY sorts last. */
static double gb_median(const double *v, uint32_t n)
{
	double s[GB_ANN_MAX * GB_MAXN];

	if (!n)
		return NAN;
	memcpy(s, v, n * sizeof(*s));
	qsort(s, n, sizeof(*s), gb_dcmp);
	return s[n / 2];
}

static double gb_max(const double *v, uint32_t n)
{
	double m = n ? v[0] : NAN;
	uint32_t i;

	for (i = 1; i < n; i++)
		if (v[i] > m)
			m = v[i];
	return m;
}

struct gb_res {
	bool ran;
	double form_all;
	double join_node, join_all, join_all_max;
	double ann_node, ann_all, ann_all_max;
	double crash_node, crash_all;
	double idle_bps, idle_pps, upd_bps, upd_pps;
	double nft_over_counted;
	double h_join_all, h_ann_all, h_crash_node, h_crash_all;
	char missing[512];    /* what never got known, in words */
	char notes_pre[256];  /* the system's counters before the crash */
	char notes_post[256]; /* and at the end */
};

static void gb_stats(const struct gb_trials *t, double *node, double *all,
		     double *all_max)
{
	*node = gb_median(t->node, t->n_node);
	*all = gb_median(t->all, t->n);
	if (all_max)
		*all_max = gb_max(t->all, t->n);
}

static void gb_pump_for(struct gb_run *r, double secs)
{
	double end = gb_now_s() + secs;
	double left;

	while ((left = end - gb_now_s()) > 0)
		r->sys->pump(r, left > 0.01 ? 10 : (int)(left * 1e3) + 1);
}

typedef bool (*gb_pred)(const struct gb_run *r, uint32_t subj);

/* Pump until pred(subj) holds or bound_s passes; true when it held. */
static bool gb_wait(struct gb_run *r, gb_pred pred, uint32_t subj,
		    double bound_s)
{
	double end = gb_now_s() + bound_s;

	while (!pred(r, subj)) {
		if (gb_now_s() >= end)
			return false;
		r->sys->pump(r, 10);
	}
	return true;
}

static bool gb_self_known(const struct gb_run *r, uint32_t i)
{
	return r->t_join[i][i] != 0;
}

static bool gb_formed(const struct gb_run *r, uint32_t unused)
{
	uint32_t o, j;

	(void)unused;
	for (o = 0; o < r->n; o++)
		for (j = 0; j < r->n && r->up[o]; j++)
			if (j != o && r->up[j] && !r->t_join[o][j])
				return false;
	return true;
}

static bool gb_join_known(const struct gb_run *r, uint32_t subj)
{
	uint32_t o;

	for (o = 0; o < subj; o++)
		if (r->up[o] && !r->t_join[o][subj])
			return false;
	return true;
}

static bool gb_ann_known(const struct gb_run *r, uint32_t seq)
{
	uint32_t o;

	for (o = 0; o < r->n; o++)
		if (r->up[o] && !r->t_ann[o][seq])
			return false;
	return true;
}

static bool gb_dead_known(const struct gb_run *r, uint32_t subj)
{
	uint32_t o;

	for (o = 0; o < r->n; o++)
		if (r->up[o] && o != subj && !r->t_dead[o][subj])
			return false;
	return true;
}

static int gb_start(struct gb_run *r, uint32_t i)
{
	int rc;

	r->started[i] = r->up[i] = true;
	r->t_start[i] = gb_now_ns();
	rc = r->sys->start(r, i);
	if (rc) {
		r->up[i] = false;
		fprintf(stderr, "gossip-bench: %s: node %u: %s\n", r->sys->name,
			i, strerror(-rc));
	}
	return rc;
}

/* Bytes and packets sent per node and second while `secs` pass, with
 * rate announces per second (0: idle). Counted and, for steer, by the
 * nft counter steer_udp too (added to *counted and *nft). */
static void gb_window(struct gb_run *r, double secs, uint32_t rate,
		      uint32_t *seq, double *bps, double *pps, double *counted,
		      double *nft)
{
	struct gb_bytes b0, b1, n0, n1;
	bool steer = r->sys != &gb_sys_serf, with_nft;
	uint32_t o, up = 0, k = 0;
	double t0, t1, next;
	int rc0, rc1;

	for (o = 0; o < r->n; o++)
		up += r->up[o];
	with_nft = steer && gb_nft_table &&
		   !gb_nft_counter(gb_nft_table, "steer_udp", &n0);
	rc0 = r->sys->bytes(r, &b0);
	t0 = gb_now_s();
	if (!rate) {
		gb_pump_for(r, secs);
	} else {
		next = t0;
		while (gb_now_s() < t0 + secs) {
			if (gb_now_s() >= next) {
				r->sys->announce(r, 1 + k % (r->n - 1),
						 GB_SEQ_UPDATES + (*seq)++);
				k++;
				next = t0 + (double)k / rate;
			}
			r->sys->pump(r, 5);
		}
	}
	rc1 = r->sys->bytes(r, &b1);
	t1 = gb_now_s();
	if (with_nft && !gb_nft_counter(gb_nft_table, "steer_udp", &n1)) {
		*nft += (double)(n1.bytes - n0.bytes);
		*counted += (double)(b1.bytes - b0.bytes);
	}
	if (rc0 || rc1 || !up) {
		*bps = *pps = NAN;
		return;
	}
	*bps = (double)(b1.bytes - b0.bytes) / (t1 - t0) / up;
	*pps = (double)(b1.pkts - b0.pkts) / (t1 - t0) / up;
}

/* Note what timed out: "<what>: k of n never knew". */
static void gb_note_missing(struct gb_res *res, const char *what,
			    uint32_t missing, uint32_t total)
{
	size_t off = strlen(res->missing);

	if (!missing || off >= sizeof(res->missing))
		return;
	snprintf(res->missing + off, sizeof(res->missing) - off,
		 "%s%s: %u of %u never knew", off ? "; " : "", what, missing,
		 total);
}

/* Pairs of formation nodes where one never heard of the other. */
static void gb_note_formation(struct gb_res *res, const struct gb_run *r,
			      uint32_t n0)
{
	uint32_t o, j, missing = 0, ex_o = 0, ex_j = 0;
	char what[64];

	for (o = 0; o < n0; o++)
		for (j = 0; j < n0; j++)
			if (o != j && r->up[o] && r->up[j] &&
			    !r->t_join[o][j]) {
				if (!missing++) {
					ex_o = o;
					ex_j = j;
				}
			}
	snprintf(what, sizeof(what), "formation pairs (e.g. node %u of %u)",
		 ex_o, ex_j);
	gb_note_missing(res, what, missing, n0 * (n0 - 1));
}

/*
 * The scenario: N - join_trials nodes form a cluster; join_trials more
 * join it one by one; idle bytes; ann_trials announces; bytes while
 * announces flow; node GB_VICTIM crashes.
 */
static void gb_scenario(const struct gb_sys *sys, uint32_t n,
			struct gb_res *res)
{
	const struct gb_plan *p = &gb_plan;
	struct gb_trials tj = {0}, ta = {0}, tc = {0}, hj = {0}, ha = {0},
			 hc = {0};
	uint32_t i, a, o, n0 = n - p->join_trials, seq = 0;
	uint32_t origin[GB_ANN_MAX + 1];
	int64_t t_call[GB_ANN_MAX + 1], t_orig;
	double counted = 0, nft = 0;
	int64_t t_first, t0, when[GB_MAXN] = {0};
	bool obs[GB_MAXN] = {0};
	struct gb_run *r = calloc(1, sizeof(*r));

	memset(res, 0, sizeof(*res));
	if (!r)
		return;
	r->sys = sys;
	r->n = n;
	res->ran = true;

	/* The cluster, less the nodes that join later; the seed first: a
	 * serf agent that finds nobody to join exits. */
	if (gb_start(r, 0))
		goto err;
	if (!gb_wait(r, gb_self_known, 0, p->bound_s)) {
		fprintf(stderr, "gossip-bench: %s: the seed never came up\n",
			sys->name);
		goto err;
	}
	t_first = gb_now_ns();
	for (i = 1; i < n0; i++)
		if (gb_start(r, i))
			goto err;
	res->form_all = INFINITY;
	if (gb_wait(r, gb_formed, 0, p->bound_s)) {
		t0 = 0;
		for (o = 0; o < n0; o++)
			for (i = 0; i < n0; i++)
				if (r->t_join[o][i] > t0)
					t0 = r->t_join[o][i];
		res->form_all = (double)(t0 - t_first) / 1e6;
	} else {
		gb_note_formation(res, r, n0);
	}
	gb_pump_for(r, p->settle_s);

	/* Joins, seen by the nodes already there. */
	for (i = n0; i < n; i++) {
		if (gb_start(r, i))
			goto err;
		gb_wait(r, gb_join_known, i, p->bound_s);
		gb_pump_for(r, p->gap_s);
	}
	gb_pump_for(r, p->settle_s);

	gb_window(r, p->idle_s, 0, &seq, &res->idle_bps, &res->idle_pps,
		  &counted, &nft);

	/* Announces from rotating origins. */
	for (a = 1; a <= p->ann_trials; a++) {
		origin[a] = 1 + (a - 1) % (n - 1);
		t_call[a] = gb_now_ns();
		r->sys->announce(r, origin[a], a);
		gb_wait(r, gb_ann_known, a, p->bound_s);
		gb_pump_for(r, p->gap_s);
	}

	gb_window(r, p->upd_s, p->upd_rate, &seq, &res->upd_bps, &res->upd_pps,
		  &counted, &nft);
	res->nft_over_counted = counted > 0 ? nft / counted : NAN;
	gb_pump_for(r, p->settle_s);

	if (r->sys->notes)
		r->sys->notes(r, res->notes_pre, sizeof(res->notes_pre));
	t0 = gb_now_ns();
	if (!r->sys->crash(r, GB_VICTIM)) {
		r->up[GB_VICTIM] = false;
		gb_wait(r, gb_dead_known, GB_VICTIM, p->bound_s);
		for (o = 0; o < n; o++) {
			obs[o] = r->up[o];
			when[o] = r->t_dead[o][GB_VICTIM];
		}
		gb_trial(&tc, when, obs, n, t0);
		/* Handlers hear of member events 1-3 s late (coalesced). */
		if (r->has_handlers)
			gb_pump_for(r, 4);
		for (o = 0; o < n; o++)
			when[o] = r->h_dead[o][GB_VICTIM];
		gb_trial(&hc, when, obs, n, t0);
	}

	/* Joins: from the joiner's own start of join. */
	for (i = n0; i < n; i++) {
		t0 = r->t_join0[i] ? r->t_join0[i] : r->t_start[i];
		for (o = 0; o < n; o++) {
			obs[o] = o < i && r->started[o];
			when[o] = r->t_join[o][i];
		}
		gb_trial(&tj, when, obs, n, t0);
		for (o = 0; o < n; o++)
			when[o] = r->h_join[o][i];
		gb_trial(&hj, when, obs, n, t0);
	}
	/* Announces: from the origin's own event. */
	for (a = 1; a <= p->ann_trials; a++) {
		for (o = 0; o < n; o++) {
			obs[o] = r->started[o] && o != origin[a];
			when[o] = r->t_ann[o][a];
		}
		/* The call's time if the origin never said (serf's CLI
		 * failed, say): the others' times then show it. */
		t_orig = r->t_ann[origin[a]][a] ? r->t_ann[origin[a]][a]
						: t_call[a];
		gb_trial(&ta, when, obs, n, t_orig);
		for (o = 0; o < n; o++)
			when[o] = r->h_ann[o][a];
		gb_trial(&ha, when, obs, n,
			 r->h_ann[origin[a]][a] ? r->h_ann[origin[a]][a]
						: t_orig);
	}
	gb_note_missing(res, "join", tj.missing, tj.n_node);
	gb_note_missing(res, "announce", ta.missing, ta.n_node);
	gb_note_missing(res, "crash", tc.missing, tc.n_node);
	if (r->has_handlers) {
		gb_note_missing(res, "handler join", hj.missing, hj.n_node);
		gb_note_missing(res, "handler announce", ha.missing, ha.n_node);
		gb_note_missing(res, "handler crash", hc.missing, hc.n_node);
	}
	gb_stats(&tj, &res->join_node, &res->join_all, &res->join_all_max);
	gb_stats(&ta, &res->ann_node, &res->ann_all, &res->ann_all_max);
	gb_stats(&tc, &res->crash_node, &res->crash_all, NULL);
	gb_stats(&hj, &(double){0}, &res->h_join_all, NULL);
	gb_stats(&ha, &(double){0}, &res->h_ann_all, NULL);
	gb_stats(&hc, &res->h_crash_node, &res->h_crash_all, NULL);
	if (r->sys->notes)
		r->sys->notes(r, res->notes_post, sizeof(res->notes_post));
	r->sys->stop(r);
	free(r);
	return;
err:
	res->ran = false;
	r->sys->stop(r);
	free(r);
}

/* ---- output ---- */

/* A time: "timeout" when some node never knew, nothing when unmeasured. */
static void gb_put_ms(const char *sys, const char *what, uint32_t n, double v)
{
	char name[96];

	snprintf(name, sizeof(name), "%s_%s_n%u", sys, what, n);
	if (isnan(v))
		return;
	if (isinf(v))
		printf("%-56s %12s ms\n", name, "timeout");
	else
		gb_fig(name, v, "ms");
}

static void gb_put(const char *sys, const char *what, uint32_t n, double v,
		   const char *unit)
{
	char name[96];

	snprintf(name, sizeof(name), "%s_%s_n%u", sys, what, n);
	if (!isnan(v))
		gb_fig(name, v, unit);
}

static void gb_print(const struct gb_sys *sys, uint32_t n,
		     const struct gb_res *r)
{
	const char *s = sys->name;
	char name[96];

	if (!r->ran) {
		printf("# %s n%u: could not start its nodes (see stderr)\n", s,
		       n);
		return;
	}
	gb_put_ms(s, "formation_all", n, r->form_all);
	gb_put_ms(s, "join_node_median", n, r->join_node);
	gb_put_ms(s, "join_all_median", n, r->join_all);
	gb_put_ms(s, "join_all_max", n, r->join_all_max);
	gb_put_ms(s, "announce_node_median", n, r->ann_node);
	gb_put_ms(s, "announce_all_median", n, r->ann_all);
	gb_put_ms(s, "announce_all_max", n, r->ann_all_max);
	gb_put_ms(s, "crash_node_median", n, r->crash_node);
	gb_put_ms(s, "crash_all", n, r->crash_all);
	gb_put(s, "bytes_per_s_per_node_idle", n, r->idle_bps, "B/s");
	gb_put(s, "bytes_per_s_per_node_updates", n, r->upd_bps, "B/s");
	gb_put(s, "pkts_per_s_per_node_idle", n, r->idle_pps, "pkts/s");
	gb_put(s, "pkts_per_s_per_node_updates", n, r->upd_pps, "pkts/s");
	if (r->missing[0])
		printf("# %s n%u timeouts (%.0f s): %s\n", s, n,
		       gb_plan.bound_s, r->missing);
	if (r->notes_pre[0])
		printf("# %s n%u counters before the crash, %s\n", s, n,
		       r->notes_pre);
	if (r->notes_post[0])
		printf("# %s n%u counters at the end, %s\n", s, n,
		       r->notes_post);
	if (sys != &gb_sys_serf) {
		/* The send-path count checked against the kernel's. */
		snprintf(name, sizeof(name), "%s_bytes_nft_over_counted_n%u", s,
			 n);
		if (!isnan(r->nft_over_counted))
			printf("%-56s %12.3f x\n", name, r->nft_over_counted);
		return;
	}
	gb_put_ms(s, "handler_join_all_median", n, r->h_join_all);
	gb_put_ms(s, "handler_announce_all_median", n, r->h_ann_all);
	gb_put_ms(s, "handler_crash_node_median", n, r->h_crash_node);
	gb_put_ms(s, "handler_crash_all", n, r->h_crash_all);
}

static void gb_ratio(const char *sys, const char *what, uint32_t n, double a,
		     double b)
{
	char name[96];

	snprintf(name, sizeof(name), "ratio_%s_over_serf_%s_n%u", sys, what, n);
	if (isnan(a) || isnan(b))
		return;
	if (isinf(a) || isinf(b) || b <= 0)
		printf("%-56s %12s x\n", name, "n/a");
	else
		printf("%-56s %12.3f x\n", name, a / b);
}

static void gb_ratios(const struct gb_sys *sys, uint32_t n,
		      const struct gb_res *a, const struct gb_res *serf)
{
	if (!a->ran || !serf->ran)
		return;
	gb_ratio(sys->name, "join_all_median", n, a->join_all, serf->join_all);
	gb_ratio(sys->name, "announce_all_median", n, a->ann_all,
		 serf->ann_all);
	gb_ratio(sys->name, "crash_all", n, a->crash_all, serf->crash_all);
	gb_ratio(sys->name, "bytes_idle", n, a->idle_bps, serf->idle_bps);
	gb_ratio(sys->name, "bytes_updates", n, a->upd_bps, serf->upd_bps);
}

static void gb_loadavg(char *buf, size_t len)
{
	FILE *f = fopen("/proc/loadavg", "r");

	snprintf(buf, len, "?");
	if (f) {
		if (fgets(buf, (int)len, f))
			buf[strcspn(buf, "\n")] = 0;
		fclose(f);
	}
}

static void gb_header(const uint32_t *ns, uint32_t n_ns, bool serf)
{
	const struct gb_plan *p = &gb_plan;
	struct gossip_config c;
	char load[64];
	uint32_t i;

	gossip_config_default(&c);
	gb_loadavg(load, sizeof(load));
	printf("# steer-gossip-bench: gossip on loopback, N =");
	for (i = 0; i < n_ns; i++)
		printf(" %u", ns[i]);
	printf("; every figure from this one run, systems one after the "
	       "other for each N\n");
	printf("# times in ms; *_node_median: over nodes and trials; "
	       "*_all_median, *_all_max: over trials, of the time until "
	       "every node knew; 'timeout': some node never knew within "
	       "%.0f s\n",
	       p->bound_s);
	printf("#   join: %u nodes join a settled cluster one by one (seen by "
	       "the N-%u..N-1 nodes there), from the joiner's own start of "
	       "join\n",
	       p->join_trials, p->join_trials);
	printf("#   announce: %u trials from rotating origins, from the "
	       "origin's own event (steer: a session announce; serf: a user "
	       "event, -coalesce=false, 44-byte payload)\n",
	       p->ann_trials);
	printf("#   crash: kill -9 of node %u, from the kill until each other "
	       "node holds it dead (failed)\n",
	       GB_VICTIM);
	printf("# bytes: per node and second, IP-layer bytes sent (UDP; serf: "
	       "UDP and TCP), %.0f s idle, and %.0f s with %u announces/s "
	       "from rotating origins\n",
	       p->idle_s, p->upd_s, p->upd_rate);
	printf("# steer: daemon defaults (probe %u ms, timeout %u ms, "
	       "suspicion %u*log10(N)*probe, push fanout %u, gossip %u ms to "
	       "%u, sync %u s), HMAC; nodes on " GB_STEER_NET "K; bytes "
	       "counted in the io send path + %u header bytes\n",
	       c.probe_interval_ms, c.probe_timeout_ms, c.suspicion_mult,
	       c.push_fanout, c.gossip_interval_ms, c.gossip_fanout,
	       c.sync_interval_ms / 1000, GB_IP_UDP_HDR);
	printf("# steer: all N nodes in this one process on one thread "
	       "(one poll loop; a node waits while another works, but no "
	       "process wake-ups between them); the crash closes the node's "
	       "socket\n");
	printf("# steer_procs: one forked process per node with its own "
	       "event loop, the shape of serf's agents; the crash is kill "
	       "-9\n");
	if (serf)
		printf("# serf: one `serf agent` process per node on " GB_SERF_NET
		       "K:7946 (LAN profile), times from its log lines stamped "
		       "on arrival; serf_handler_*: from its event handlers "
		       "(member events coalesced by the agent, 1-3 s); bytes "
		       "from nftables counters%s\n",
		       gb_nft_table ? "" : " (none: no --nft-table)");
	printf("# machine: %ld CPUs online, shared; load average at start: "
	       "%s\n",
	       sysconf(_SC_NPROCESSORS_ONLN), load);
	fflush(stdout);
}

static int gb_parse_ns(const char *s, uint32_t *ns, uint32_t *n_ns)
{
	char *end;
	long v;

	*n_ns = 0;
	while (*s && *n_ns < 8) {
		v = strtol(s, &end, 10);
		if (end == s || v < (long)gb_plan.join_trials + 4 ||
		    v > GB_MAXN)
			return -EINVAL;
		ns[(*n_ns)++] = (uint32_t)v;
		s = *end == ',' ? end + 1 : end;
		if (end == s && *s)
			return -EINVAL;
	}
	return *n_ns ? 0 : -EINVAL;
}

static void gb_usage(void)
{
	fprintf(stderr,
		"usage: steer-gossip-bench [--quick] [--no-micro] [--n 16,48]\n"
		"         [--systems steer,steer_procs,serf] [--serf PATH]\n"
		"         [--nft-table NAME] [--keep]\n");
}

int gossip_bench_main(int argc, char **argv)
{
	const struct gb_sys *all[] = {&gb_sys_steer, &gb_sys_steer_procs,
				      &gb_sys_serf};
	static struct gb_res res[3];
	bool use[3] = {true, true, false}, micro = true, quick = false;
	uint32_t ns[8] = {16, 48}, n_ns = 2, i, k;
	const char *systems = NULL;
	char load[64];
	int a;

	for (a = 1; a < argc; a++) {
		if (!strcmp(argv[a], "--quick")) {
			quick = true;
		} else if (!strcmp(argv[a], "--no-micro")) {
			micro = false;
		} else if (!strcmp(argv[a], "--keep")) {
			gb_serf_opts.keep = true;
		} else if (a + 1 < argc && !strcmp(argv[a], "--n")) {
			if (gb_parse_ns(argv[++a], ns, &n_ns)) {
				gb_usage();
				return 2;
			}
		} else if (a + 1 < argc && !strcmp(argv[a], "--systems")) {
			systems = argv[++a];
		} else if (a + 1 < argc && !strcmp(argv[a], "--serf")) {
			gb_serf_opts.serf = argv[++a];
		} else if (a + 1 < argc && !strcmp(argv[a], "--nft-table")) {
			gb_nft_table = argv[++a];
			gb_serf_opts.nft_table = gb_nft_table;
		} else {
			gb_usage();
			return 2;
		}
	}
	if (systems) {
		for (k = 0; k < 3; k++) {
			const char *p = strstr(systems, all[k]->name);
			size_t l = strlen(all[k]->name);

			/* "steer" must not match inside "steer_procs". */
			while (p && ((p != systems && p[-1] != ',') ||
				     (p[l] && p[l] != ',')))
				p = strstr(p + 1, all[k]->name);
			use[k] = p != NULL;
		}
	}
	if (quick) {
		gb_plan.join_trials = 2;
		gb_plan.ann_trials = 3;
		gb_plan.settle_s = 2;
		gb_plan.gap_s = 1;
		gb_plan.idle_s = 3;
		gb_plan.upd_s = 3;
	}
	gb_serf_opts.ann_trials = gb_plan.ann_trials;
	if (micro) {
		gb_codec(quick ? 2000 : 50000);
		gb_recv(quick ? 500 : 5000);
	}
	if (!use[0] && !use[1] && !use[2])
		return 0;
	gb_header(ns, n_ns, use[2]);
	for (i = 0; i < n_ns; i++) {
		for (k = 0; k < 3; k++) {
			if (!use[k])
				continue;
			gb_scenario(all[k], ns[i], &res[k]);
			gb_print(all[k], ns[i], &res[k]);
			fflush(stdout);
		}
		if (use[2])
			for (k = 0; k < 2; k++)
				if (use[k])
					gb_ratios(all[k], ns[i], &res[k],
						  &res[2]);
		fflush(stdout);
	}
	gb_loadavg(load, sizeof(load));
	printf("# load average at the end: %s\n", load);
	return 0;
}

#ifdef GOSSIP_BENCH_MAIN
int main(int argc, char **argv)
{
	return gossip_bench_main(argc, argv);
}
#endif

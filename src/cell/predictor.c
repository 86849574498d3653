// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <string.h>

#include "cell/predictor.h"
#include "predict/spe.h"

static bool cp_predicted(const struct cell_predictor *p)
{
	return p->cl && p->cl->repl_policy == CLUSTER_REPL_PREDICTED;
}

/* The engine's answer for a flow of service at age_ms, against the
 * threshold. */
static bool cp_long(const struct cell_predictor *p, uint16_t service,
		    uint32_t age_ms)
{
	struct spe_flow f = {.service = service, .age_ms = age_ms};
	struct spe_pred r;

	spe_predict(p->spe, &f, &r);
	return r.p_long * 1000 >= p->cl->repl_threshold;
}

static uint8_t cp_choose(void *ctx, const struct director_flow *f)
{
	struct cell_predictor *p = ctx;

	if (!cp_predicted(p) || f->rf_config <= 1)
		return f->rf_config;
	if (cell_predictor_at_risk(p)) {
		p->mirrored++;
		return f->rf_config;
	}
	if (cp_long(p, f->service, 0)) {
		p->mirrored++;
		return f->rf_config;
	}
	p->single++;
	return 1;
}

int cell_predictor_init(struct cell_predictor *p, const struct cluster *cl)
{
	struct spe_cfg c;

	memset(p, 0, sizeof(*p));
	spe_cfg_default(&c);
	c.horizon_ms = cl->repl_horizon_s * 1000;
	/* A cell sees its shards' share of the flows: it answers from 50
	 * (calibration corrects a rough histogram's level). */
	c.min_flows = CELL_PREDICTOR_MIN_FLOWS;
	c.self_calibrate = 1;
	p->spe = spe_new(&c);
	if (!p->spe)
		return -ENOMEM;
	p->cl = cl;
	p->dp.name = "spe";
	p->dp.choose = cp_choose;
	p->dp.ctx = p;
	return 0;
}

void cell_predictor_free(struct cell_predictor *p)
{
	spe_free(p->spe);
	memset(p, 0, sizeof(*p));
}

void cell_predictor_world(struct cell_predictor *p, const struct cluster *cl)
{
	p->cl = cl;
}

void cell_predictor_end(struct cell_predictor *p, const struct flowtab_rec *r)
{
	uint32_t life = r->last_ms - r->created_ms;

	if ((int32_t)life < 0)
		life = 0;
	if (!spe_learn(p->spe, r->service, life, r->bytes))
		p->learnt++;
}

enum cp_raise cell_predictor_raise(struct cell_predictor *p,
				   const struct flowtab_rec *r,
				   uint8_t rf_config, bool pick_ok,
				   uint32_t now_ms)
{
	uint32_t age = now_ms - r->created_ms, s = age / 1000;

	if (!cp_predicted(p) || r->rf != 1 || rf_config <= 1 ||
	    (int32_t)age < 0)
		return CP_KEEP;
	if (!pick_ok)
		return CP_REDERIVE;
	if (cell_predictor_at_risk(p))
		return CP_AT_RISK;
	if (!s || (s & (s - 1)) || !cp_long(p, r->service, age))
		return CP_KEEP;
	return CP_LIVED_ON;
}

bool cell_predictor_health(struct cell_predictor *p, uint64_t refutes,
			   uint64_t now_ms)
{
	bool was = cell_predictor_at_risk(p);

	p->now_ms = now_ms;
	if (refutes > p->refutes_seen) {
		p->risk_until = now_ms + CELL_PREDICTOR_RISK_MS;
		p->refutes_seen = refutes;
	}
	if (!was && cell_predictor_at_risk(p)) {
		p->risks++;
		return true;
	}
	return false;
}

bool cell_predictor_at_risk(const struct cell_predictor *p)
{
	return p->risk_until && p->now_ms < p->risk_until;
}

// SPDX-License-Identifier: GPL-2.0-only
#include "predict/migrate.h"

#include <math.h>

static const char *const migrate_reasons[] = {
	[MIGRATE_NONE] = "none",
	[MIGRATE_OVERLOAD] = "forecast-overload",
	[MIGRATE_DRAIN] = "drained",
	[MIGRATE_RTT] = "rtt-rising",
	[MIGRATE_SHARE] = "heavy-session",
};

const char *migrate_reason_name(enum migrate_reason r)
{
	return (unsigned)r <= MIGRATE_SHARE ? migrate_reasons[r] : "?";
}

void migrate_weights_default(struct migrate_weights *w)
{
	/* Quiet node, flat RTT, light session: p = 0.018. An overload
	 * forecast at full scale or a drain alone: above 0.9. */
	w->bias = -4.0;
	w->overload = 7.0;
	w->drain = 8.0;
	w->rtt = 1.5;
	w->share = 1.0;
	w->rtt_scale_us_s = 500;
}

static double migrate_clamp01(double x)
{
	return x < 0 ? 0 : x > 1 ? 1 : x;
}

/* P(X > mark) for X normal with this mean and 95% upper end. */
static double migrate_p_over(double mean, double hi, double mark)
{
	double sd = (hi - mean) / 1.96;

	if (sd <= 0)
		return mean > mark ? 1 : 0;
	return migrate_clamp01(0.5 * erfc((mark - mean) / (sd * M_SQRT2)));
}

double migrate_overload(const struct migrate_node *n)
{
	double c, m;

	if (!n->has_forecast || n->hwm_permille >= 1000)
		return 0;
	c = migrate_p_over(n->cpu, n->cpu_hi, n->hwm_permille);
	m = migrate_p_over(n->mem, n->mem_hi, n->hwm_permille);
	return c > m ? c : m;
}

uint16_t migrate_target(const struct migrate_peer *peers, uint32_t n,
			uint16_t self, uint16_t hwm_permille, double *headroom)
{
	uint16_t best = STEER_NODE_NONE;
	double best_room = 0, room;
	uint32_t i;

	for (i = 0; i < n; i++) {
		const struct migrate_peer *p = &peers[i];
		uint16_t hi;

		if (p->id == self || !p->live || p->drained || !p->has_forecast)
			continue;
		hi = p->cpu > p->mem ? p->cpu : p->mem;
		room = (double)hwm_permille - hi;
		/* Ties: the lower id, so every node picks the same. */
		if (room > 0 && room > best_room) {
			best = p->id;
			best_room = room;
		}
	}
	*headroom = best_room;
	return best;
}

void migrate_score(const struct migrate_weights *w,
		   const struct migrate_node *node,
		   const struct migrate_session *s, uint16_t target,
		   double target_headroom, struct migrate_score *out)
{
	double x[4], c[4], z = w->bias, best = 0;
	static const enum migrate_reason why[4] = {
		MIGRATE_OVERLOAD, MIGRATE_DRAIN, MIGRATE_RTT, MIGRATE_SHARE};
	int i;

	x[0] = migrate_overload(node);
	x[1] = node->drained ? 1 : 0;
	x[2] = w->rtt_scale_us_s > 0
		       ? migrate_clamp01(s->rtt_trend_us_s / w->rtt_scale_us_s)
		       : 0;
	x[3] = migrate_clamp01(s->share);
	c[0] = w->overload * x[0];
	c[1] = w->drain * x[1];
	c[2] = w->rtt * x[2];
	c[3] = w->share * x[3];
	out->reason = MIGRATE_NONE;
	for (i = 0; i < 4; i++) {
		z += c[i];
		if (c[i] > best) {
			best = c[i];
			out->reason = why[i];
		}
	}
	out->p = 1.0 / (1.0 + exp(-z));
	out->target = target;
	out->target_headroom = target_headroom;
}

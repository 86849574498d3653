// SPDX-License-Identifier: GPL-2.0-only
#include "cell/director.h"

static uint8_t director_config_choose(void *ctx, const struct director_flow *f)
{
	(void)ctx;
	return f->rf_config;
}

const struct director_predictor director_config = {
	.name = "config",
	.choose = director_config_choose,
};

void director_profile(const struct director_predictor *p,
		      const struct director_flow *f, uint16_t *primary,
		      uint16_t mirror[STEER_MAX_MIRRORS], uint8_t *rf)
{
	uint32_t want, i;

	if (!p)
		p = &director_config;
	want = p->choose(p->ctx, f);
	if (want < 1)
		want = 1;
	if (want > 1 + STEER_MAX_MIRRORS)
		want = 1 + STEER_MAX_MIRRORS;
	*primary = f->n_ranked ? f->ranked[0] : STEER_NODE_NONE;
	*rf = 1;
	mirror[0] = mirror[1] = STEER_NODE_NONE;
	for (i = 1;
	     i < want && i < f->n_ranked && f->ranked[i] != STEER_NODE_NONE;
	     i++)
		mirror[(*rf)++ - 1] = f->ranked[i];
}

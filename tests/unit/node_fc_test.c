// SPDX-License-Identifier: GPL-2.0-only
/*
 * This node's load series and forecasts (src/daemon/node_fc): before a
 * refit a series says it has no model yet; after some samples (this
 * machine's real /proc) every series offers a model, forecasts 10 s and
 * 60 s ahead inside their intervals, and the JSON steerctl gets holds
 * them.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "daemon/jsonw.h"
#include "daemon/node_fc.h"

static void test_node_fc(void **state)
{
	struct node_fc *f = node_fc_new();
	struct jsonw w;
	const char *s;
	int i;

	(void)state;
	assert_non_null(f);
	/* The refit cadence (steerd's forecast-refit), in its bounds. */
	assert_int_equal(node_fc_refit(f), 10);
	assert_int_equal(node_fc_refit_set(f, 0), -EINVAL);
	assert_int_equal(node_fc_refit_set(f, NODE_FC_REFIT_MAX + 1), -EINVAL);
	assert_int_equal(node_fc_refit(f), 10);
	assert_int_equal(node_fc_refit_set(f, 7), 0);
	assert_int_equal(node_fc_refit(f), 7);
	assert_int_equal(node_fc_refit_set(f, 10), 0);
	jsonw_init(&w);
	jsonw_obj_open(&w, NULL);
	node_fc_write(f, &w, 32);
	jsonw_obj_close(&w);
	assert_int_equal(jsonw_finish(&w), 0);
	s = w.buf;
	assert_non_null(strstr(s, "\"series\":\"cpu_permille\",\"model\":"
				  "\"none yet\""));
	/* 1 baseline, then 3 s apart per series, 10 samples to a refit. */
	for (i = 0; i < 30; i++)
		node_fc_sample(f, NULL, NULL, NULL);
	jsonw_reset(&w);
	jsonw_obj_open(&w, NULL);
	node_fc_write(f, &w, 32);
	jsonw_obj_close(&w);
	assert_int_equal(jsonw_finish(&w), 0);
	s = w.buf;
	assert_null(strstr(s, "none yet"));
	assert_non_null(strstr(s, "\"series\":\"mem_permille\""));
	assert_non_null(strstr(s, "\"series\":\"rx_bps\""));
	assert_non_null(strstr(s, "\"series\":\"tx_bps\""));
	assert_non_null(strstr(s, "\"in_10s\":{\"mean\":"));
	assert_non_null(strstr(s, "\"in_60s\":{\"mean\":"));
	assert_non_null(strstr(s, "\"errors\":{"));
	/* The samples themselves: CPU's from the second sample on (the
	 * first is a baseline), each series from its own start. */
	jsonw_reset(&w);
	jsonw_obj_open(&w, NULL);
	node_fc_write_series(f, &w);
	jsonw_obj_close(&w);
	assert_int_equal(jsonw_finish(&w), 0);
	s = w.buf;
	assert_non_null(strstr(s, "\"series\":\"cpu_permille\",\"first\":0,"
				  "\"values\":["));
	assert_non_null(strstr(s, "\"series\":\"exception_pps\",\"first\":0,"
				  "\"values\":[0,0,0,0,0,0,0,0,0,0,0,0,0,0]"));
	jsonw_free(&w);
	node_fc_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_node_fc),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

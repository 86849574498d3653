// SPDX-License-Identifier: GPL-2.0-only
/*
 * The Prometheus rendering of admin answers (daemon/metrics.h) on fixed
 * answers: counters and gauges by the table, members as labels, strings
 * as info gauges, escapes, a group the table does not know (untyped and
 * counted), histograms made cumulative, and answers that are refused.
 * And the histogram itself (util/hist.h): buckets, quantiles, overflow.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "daemon/metrics.h"
#include "util/hist.h"

static char *render(const char *json, const char *head, unsigned int *undesc)
{
	struct metrics_doc d = {json};
	struct metrics_out out;
	char err[160];
	int ret = metrics_render(&d, 1, head, &out, err, sizeof(err));

	if (ret)
		fail_msg("metrics_render: %d %s", ret, err);
	if (undesc)
		*undesc = out.undescribed;
	assert_int_equal(strlen(out.text), out.len);
	return out.text;
}

static void has_line(const char *text, const char *line)
{
	const char *p = text;
	size_t n = strlen(line);

	while ((p = strstr(p, line)))
		if ((p == text || p[-1] == '\n') && (p[n] == '\n' || !p[n]))
			return;
		else
			p++;
	fail_msg("no line '%s' in:\n%s", line, text);
}

static void test_counters_and_gauges(void **state)
{
	unsigned int undesc = 9;
	char *t = render("{\"ok\":true,\"result\":{\"fsc\":{\"capacity\":1024,"
			 "\"count\":7,\"hits\":42}}}",
			 "# a head\n", &undesc);

	assert_int_equal(undesc, 0);
	assert_true(!strncmp(t, "# a head\n", 9));
	has_line(t, "# TYPE steer_fsc_capacity gauge");
	has_line(t, "steer_fsc_capacity 1024");
	/* "count" is kept for histograms: a table's count is its entries */
	has_line(t, "# TYPE steer_fsc_entries gauge");
	has_line(t, "steer_fsc_entries 7");
	has_line(t, "# TYPE steer_fsc_hits_total counter");
	has_line(t, "steer_fsc_hits_total 42");
	assert_non_null(strstr(t, "# HELP steer_fsc_hits_total The userspace"));
	free(t);
}

static void test_labels_strings_bools(void **state)
{
	char *t = render(
		"{\"ok\":true,\"result\":{\"xdp_drop\":{\"parse\":3,"
		"\"no-backend\":0},\"replication_policy\":{\"policy\":"
		"\"pre\\\"di\\\\cted\",\"at_risk\":true,\"times_at_risk\":"
		"2},\"cache\":{\"l1_hit_ratio\":0.25,\"l2\":null}}}",
		NULL, NULL);

	has_line(t, "# TYPE steer_xdp_drops_total counter");
	has_line(t, "steer_xdp_drops_total{reason=\"parse\"} 3");
	has_line(t, "steer_xdp_drops_total{reason=\"no-backend\"} 0");
	has_line(t, "steer_replication_policy_policy_info{policy=\"pre\\\"di"
		    "\\\\cted\"} 1");
	has_line(t, "# TYPE steer_replication_policy_at_risk gauge");
	has_line(t, "steer_replication_policy_at_risk 1");
	has_line(t, "steer_replication_policy_times_at_risk_total 2");
	has_line(t, "steer_cache_l1_hit_ratio 0.25");
	has_line(t, "steer_cache_l2 NaN");
	free(t);
}

/* The replication chain's groups: described, breaks by reason. */
static void test_chain_groups(void **state)
{
	unsigned int undesc = 0;
	char *t =
		render("{\"ok\":true,\"result\":{\"replication_chain\":{"
		       "\"links_sent\":10,\"records_held_back\":2},"
		       "\"replication_chain_breaks\":{\"gap\":1,\"reorder\":0,"
		       "\"mismatch\":3}}}",
		       NULL, &undesc);

	assert_int_equal(undesc, 0);
	has_line(t, "# TYPE steer_replication_chain_links_sent_total counter");
	has_line(t, "steer_replication_chain_links_sent_total 10");
	has_line(t, "steer_replication_chain_records_held_back_total 2");
	has_line(t, "steer_replication_chain_breaks_total{reason=\"gap\"} 1");
	has_line(t, "steer_replication_chain_breaks_total{reason=\"mismatch\"} "
		    "3");
	free(t);
}

static void test_undescribed(void **state)
{
	unsigned int undesc = 0;
	char *t = render("{\"ok\":true,\"result\":{\"brand-new\":{\"x.y\":1},"
			 "\"admin\":{\"requests\":5}}}",
			 NULL, &undesc);

	assert_int_equal(undesc, 1);
	has_line(t, "# TYPE steer_brand_new_x_y untyped");
	has_line(t, "steer_brand_new_x_y 1");
	has_line(t, "steer_admin_requests_total 5");
	free(t);
}

static void test_histogram(void **state)
{
	char *t = render("{\"ok\":true,\"result\":{\"histograms\":[{\"name\":"
			 "\"x_seconds\",\"help\":\"h\",\"count\":6,\"sum_us\":"
			 "2500000,\"bounds_us\":[100,1000000],\"counts\":[2,3]}"
			 "]}}",
			 NULL, NULL);

	has_line(t, "# TYPE steer_x_seconds histogram");
	has_line(t, "steer_x_seconds_bucket{le=\"0.0001\"} 2");
	has_line(t, "steer_x_seconds_bucket{le=\"1\"} 5");
	has_line(t, "steer_x_seconds_bucket{le=\"+Inf\"} 6");
	has_line(t, "steer_x_seconds_sum 2.500000");
	has_line(t, "steer_x_seconds_count 6");
	free(t);
}

static void test_forecasts(void **state)
{
	char *t = render("{\"ok\":true,\"result\":{\"period_ms\":1000,"
			 "\"forecasts\":[{\"series\":\"cpu_permille\",\"last\":"
			 "343,\"model\":\"arima\",\"recent_error\":0.5,"
			 "\"in_10s\":{\"mean\":400,\"lo\":300,\"hi\":500},"
			 "\"in_60s\":{\"mean\":410,\"lo\":200,\"hi\":620}},"
			 "{\"series\":\"rx_bps\",\"model\":\"none yet\"}]}}",
			 NULL, NULL);

	has_line(t, "# TYPE steer_forecast gauge");
	has_line(t, "steer_forecast_last{series=\"cpu_permille\"} 343");
	has_line(t, "steer_forecast{series=\"cpu_permille\",horizon=\"10s\","
		    "bound=\"mean\"} 400");
	has_line(t, "steer_forecast{series=\"cpu_permille\",horizon=\"60s\","
		    "bound=\"hi\"} 620");
	has_line(t, "steer_forecast_recent_error{series=\"cpu_permille\","
		    "model=\"arima\"} 0.5");
	/* a series without a model yet has no samples */
	assert_null(strstr(t, "rx_bps"));
	free(t);
}

static void test_refused(void **state)
{
	static const char *const bad[] = {
		"not json",
		"{\"ok\":false,\"error\":\"x\"}",
		"{\"ok\":true}",
		"{\"ok\":true,\"result\":[]}",
		"{\"ok\":true,\"result\":{\"a\":1,\"a\":2}}",
		"{\"ok\":true,\"result\":{\"histograms\":[{\"name\":\"x\"}]}}",
	};
	struct metrics_out out;
	char err[160];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct metrics_doc d = {bad[i]};

		err[0] = '\0';
		assert_int_equal(
			metrics_render(&d, 1, NULL, &out, err, sizeof(err)),
			-EINVAL);
		assert_true(err[0] != '\0');
		assert_null(out.text);
	}
}

static void test_hist(void **state)
{
	struct hist h = {0};
	int i;

	assert_int_equal(hist_quantile_us(&h, 0.5), 0);
	for (i = 0; i < 98; i++)
		hist_add(&h, 30); /* the 50 us bucket */
	hist_add(&h, 1000);	  /* exactly a bound: that bucket */
	hist_add(&h, 60000000);	  /* past the last: +Inf only */
	assert_int_equal(h.count, 100);
	assert_int_equal(h.sum_us, 98 * 30 + 1000 + 60000000);
	assert_int_equal(hist_quantile_us(&h, 0.5), 50);
	assert_int_equal(hist_quantile_us(&h, 0.99), 1000);
	assert_true(hist_quantile_us(&h, 1.0) == UINT64_MAX);
	assert_int_equal(hist_cumulative(&h, HIST_BUCKETS - 1), 99);
	assert_int_equal(hist_bound_us(0), 25);
	assert_int_equal(hist_bound_us(HIST_BUCKETS), 0);
	for (i = 1; i < HIST_BUCKETS; i++)
		assert_true(hist_bound_us(i) > hist_bound_us(i - 1));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_counters_and_gauges),
		cmocka_unit_test(test_labels_strings_bools),
		cmocka_unit_test(test_chain_groups),
		cmocka_unit_test(test_undescribed),
		cmocka_unit_test(test_histogram),
		cmocka_unit_test(test_forecasts),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_hist),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

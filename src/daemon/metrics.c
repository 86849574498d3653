// SPDX-License-Identifier: GPL-2.0-only
#include "daemon/metrics.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

struct mbuf {
	char *p;
	size_t len, cap;
	int err;
};

static void mb_printf(struct mbuf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void mb_printf(struct mbuf *b, const char *fmt, ...)
{
	va_list ap;
	size_t cap;
	char *np;
	int n;

	if (b->err)
		return;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->p ? b->p + b->len : NULL,
			      b->p ? b->cap - b->len : 0, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->err = -EINVAL;
			return;
		}
		if (b->p && b->len + (size_t)n < b->cap) {
			b->len += (size_t)n;
			return;
		}
		cap = b->cap ? b->cap * 2 : 4096;
		while (cap < b->len + (size_t)n + 1)
			cap *= 2;
		np = realloc(b->p, cap);
		if (!np) {
			b->err = -ENOMEM;
			return;
		}
		b->p = np;
		b->cap = cap;
	}
}

/* One byte; a name's, a label value's or help text's. */
static void mb_putc(struct mbuf *b, char c)
{
	char *np;

	if (b->err)
		return;
	if (b->len + 2 > b->cap) {
		np = realloc(b->p, b->cap ? b->cap * 2 : 4096);
		if (!np) {
			b->err = -ENOMEM;
			return;
		}
		b->p = np;
		b->cap = b->cap ? b->cap * 2 : 4096;
	}
	b->p[b->len++] = c;
	b->p[b->len] = '\0';
}

/* A metric name's characters: [a-zA-Z0-9_]; anything else becomes '_'. */
static void mb_name(struct mbuf *b, const char *s)
{
	for (; *s; s++)
		mb_putc(b, (*s >= 'a' && *s <= 'z') ||
					   (*s >= 'A' && *s <= 'Z') ||
					   (*s >= '0' && *s <= '9')
				   ? *s
				   : '_');
}

/* Help text (quotes kept) or a label value (quotes escaped): backslash
 * and newline escaped in both. */
static void mb_escaped(struct mbuf *b, const char *s, bool quotes)
{
	for (; *s; s++) {
		if (*s == '\\' || *s == '\n' || (quotes && *s == '"'))
			mb_putc(b, '\\');
		mb_putc(b, *s == '\n' ? 'n' : *s);
	}
}

static void mb_label_value(struct mbuf *b, const char *s)
{
	mb_escaped(b, s, true);
}

static void mb_help(struct mbuf *b, const char *s)
{
	mb_escaped(b, s, false);
}

/* "# HELP steer_NAME[_SUFFIX] help\n# TYPE ... type\n" */
static void mb_family(struct mbuf *b, const char *family, const char *member,
		      const char *suffix, const char *help, const char *type)
{
	int i;

	for (i = 0; i < 2; i++) {
		mb_printf(b, "# %s " METRICS_PREFIX, i ? "TYPE" : "HELP");
		mb_name(b, family);
		if (member) {
			mb_printf(b, "_");
			mb_name(b, member);
		}
		mb_printf(b, "%s ", suffix);
		if (i)
			mb_printf(b, "%s\n", type);
		else {
			mb_help(b, help);
			if (member) {
				mb_printf(b, ": ");
				mb_help(b, member);
			}
			mb_printf(b, "\n");
		}
	}
}

static void mb_value(struct mbuf *b, const json_t *v)
{
	if (json_is_integer(v))
		mb_printf(b, " %lld\n", (long long)json_integer_value(v));
	else if (json_is_real(v))
		mb_printf(b, " %.17g\n", json_real_value(v));
	else if (json_is_boolean(v))
		mb_printf(b, " %d\n", json_is_true(v) ? 1 : 0);
	else
		mb_printf(b, " NaN\n"); /* null: a figure not known now */
}

static bool metrics_is_gauge(const struct metrics_group *g, const char *m)
{
	const char *const *p;

	for (p = g->gauges; p && *p; p++)
		if (!strcmp(*p, m))
			return true;
	return false;
}

/* One family whose samples are the group's members as label values. */
static void metrics_labelled(struct mbuf *b, const struct metrics_group *g,
			     json_t *obj)
{
	const char *m;
	json_t *v;

	mb_family(b, g->family, NULL, "_total", g->help, "counter");
	json_object_foreach(obj, m, v) {
		if (!json_is_number(v))
			continue;
		mb_printf(b, METRICS_PREFIX);
		mb_name(b, g->family);
		mb_printf(b, "_total{%s=\"", g->label);
		mb_label_value(b, m);
		mb_printf(b, "\"}");
		mb_value(b, v);
	}
}

/* One member of a group whose members are metrics of their own. */
/* A member's name in a metric's: Prometheus keeps _count for histograms
 * and summaries, so a table's "count" is its "entries". */
static const char *metrics_member_name(const char *m)
{
	return strcmp(m, "count") ? m : "entries";
}

static void metrics_member(struct mbuf *b, const struct metrics_group *g,
			   bool known, const char *m, json_t *v)
{
	const char *type, *suffix = "", *name = metrics_member_name(m);

	if (json_is_string(v)) {
		mb_family(b, g->family, m, "_info", g->help, "gauge");
		mb_printf(b, METRICS_PREFIX);
		mb_name(b, g->family);
		mb_printf(b, "_");
		mb_name(b, m);
		mb_printf(b, "_info{");
		mb_name(b, m);
		mb_printf(b, "=\"");
		mb_label_value(b, json_string_value(v));
		mb_printf(b, "\"} 1\n");
		return;
	}
	if (!known)
		type = "untyped";
	else if (json_is_integer(v) && !metrics_is_gauge(g, m))
		type = "counter", suffix = "_total";
	else
		type = "gauge";
	mb_family(b, g->family, name, suffix, g->help, type);
	mb_printf(b, METRICS_PREFIX);
	mb_name(b, g->family);
	mb_printf(b, "_");
	mb_name(b, name);
	mb_printf(b, "%s", suffix);
	mb_value(b, v);
}

static void metrics_group(struct mbuf *b, const char *key, json_t *obj,
			  struct metrics_out *out)
{
	const struct metrics_group *g = metrics_group_find(key);
	struct metrics_group unknown = {
		key, key, NULL, "(not described: metrics_desc.c)", NULL};
	const char *m;
	json_t *v;

	if (!g)
		out->undescribed++;
	if (g && g->label) {
		metrics_labelled(b, g, obj);
		out->families++;
		return;
	}
	json_object_foreach(obj, m, v) {
		if (json_is_object(v) || json_is_array(v))
			continue;
		metrics_member(b, g ? g : &unknown, g != NULL, m, v);
		out->families++;
	}
}

/* A histogram of admin 'latency': name, help, bounds_us, counts
 * (per bucket, not cumulative), count, sum_us. */
static int metrics_histogram(struct mbuf *b, json_t *h)
{
	json_t *bounds = json_object_get(h, "bounds_us");
	json_t *counts = json_object_get(h, "counts");
	const char *name = json_string_value(json_object_get(h, "name"));
	const char *help = json_string_value(json_object_get(h, "help"));
	json_int_t count = json_integer_value(json_object_get(h, "count"));
	json_int_t sum = json_integer_value(json_object_get(h, "sum_us"));
	json_int_t cum = 0;
	size_t i;

	if (!name || !help || !json_is_array(bounds) ||
	    !json_is_array(counts) ||
	    json_array_size(bounds) != json_array_size(counts))
		return -EINVAL;
	mb_family(b, name, NULL, "", help, "histogram");
	for (i = 0; i < json_array_size(bounds); i++) {
		cum += json_integer_value(json_array_get(counts, i));
		mb_printf(b, METRICS_PREFIX);
		mb_name(b, name);
		mb_printf(
			b, "_bucket{le=\"%g\"} %lld\n",
			(double)json_integer_value(json_array_get(bounds, i)) /
				1e6,
			(long long)cum);
	}
	mb_printf(b, METRICS_PREFIX);
	mb_name(b, name);
	mb_printf(b, "_bucket{le=\"+Inf\"} %lld\n", (long long)count);
	mb_printf(b, METRICS_PREFIX);
	mb_name(b, name);
	mb_printf(b, "_sum %.6f\n", (double)sum / 1e6);
	mb_printf(b, METRICS_PREFIX);
	mb_name(b, name);
	mb_printf(b, "_count %lld\n", (long long)count);
	return 0;
}

/* A sample of family name with one label pair, or two more. */
static void mb_sample(struct mbuf *b, const char *name, const char *series,
		      const char *k2, const char *v2, const char *k3,
		      const char *v3, json_t *v)
{
	mb_printf(b, METRICS_PREFIX "%s{series=\"", name);
	mb_label_value(b, series);
	if (k2) {
		mb_printf(b, "\",%s=\"", k2);
		mb_label_value(b, v2);
	}
	if (k3) {
		mb_printf(b, "\",%s=\"", k3);
		mb_label_value(b, v3);
	}
	mb_printf(b, "\"}");
	mb_value(b, v);
}

/* admin 'forecast': per load series its last sample, the forecast's mean
 * and 95% interval per horizon, and the chosen model's recent error.
 * Series without a model yet have none of these. */
static void metrics_forecasts(struct mbuf *b, json_t *arr,
			      struct metrics_out *out)
{
	static const char *const hz[] = {"in_10s", "in_60s"};
	static const char *const bound[] = {"mean", "lo", "hi"};
	const char *series;
	size_t i, h, k;
	json_t *f, *v;

	mb_family(b, "forecast_last", NULL, "",
		  "The last sample of each load series of this node", "gauge");
	json_array_foreach(arr, i, f)
		if ((series =
			     json_string_value(json_object_get(f, "series"))) &&
		    json_is_number(v = json_object_get(f, "last")))
			mb_sample(b, "forecast_last", series, NULL, NULL, NULL,
				  NULL, v);
	mb_family(b, "forecast", NULL, "",
		  "This node's load forecast per series and horizon: its mean "
		  "and the 95% interval (lo, hi)",
		  "gauge");
	json_array_foreach(arr, i, f) {
		series = json_string_value(json_object_get(f, "series"));
		for (h = 0; series && h < 2; h++)
			for (k = 0; k < 3; k++)
				if (json_is_number(
					    v = json_object_get(
						    json_object_get(f, hz[h]),
						    bound[k])))
					mb_sample(b, "forecast", series,
						  "horizon", hz[h] + 3, "bound",
						  bound[k], v);
	}
	mb_family(b, "forecast_recent_error", NULL, "",
		  "The recent scaled error of the model each series uses "
		  "(-1: not known yet)",
		  "gauge");
	json_array_foreach(arr, i, f) {
		const char *model =
			json_string_value(json_object_get(f, "model"));

		series = json_string_value(json_object_get(f, "series"));
		if (series && model &&
		    json_is_number(v = json_object_get(f, "recent_error")))
			mb_sample(b, "forecast_recent_error", series, "model",
				  model, NULL, NULL, v);
	}
	out->families += 3;
}

static int metrics_doc(struct mbuf *b, const char *text,
		       struct metrics_out *out, char *err, size_t errlen)
{
	json_error_t je;
	json_t *root = json_loads(text, JSON_REJECT_DUPLICATES, &je);
	json_t *res, *v;
	const char *key;
	size_t i;
	int ret = 0;

	if (!root) {
		snprintf(err, errlen, "an answer is not JSON: %s", je.text);
		return -EINVAL;
	}
	res = json_object_get(root, "result");
	if (!json_is_true(json_object_get(root, "ok")) ||
	    !json_is_object(res)) {
		snprintf(err, errlen, "an answer is not ok: %.120s", text);
		json_decref(root);
		return -EINVAL;
	}
	json_object_foreach(res, key, v) {
		if (json_is_object(v)) {
			metrics_group(b, key, v, out);
		} else if (!strcmp(key, "forecasts") && json_is_array(v)) {
			metrics_forecasts(b, v, out);
		} else if (!strcmp(key, "histograms") && json_is_array(v)) {
			for (i = 0; !ret && i < json_array_size(v); i++) {
				ret = metrics_histogram(b,
							json_array_get(v, i));
				out->families++;
			}
			if (ret)
				snprintf(err, errlen,
					 "a histogram is malformed");
		}
	}
	json_decref(root);
	return ret;
}

int metrics_render(const struct metrics_doc *docs, unsigned int n,
		   const char *head, struct metrics_out *out, char *err,
		   size_t errlen)
{
	struct mbuf b = {0};
	unsigned int i;
	int ret = 0;

	memset(out, 0, sizeof(*out));
	mb_printf(&b, "%s", head ? head : "");
	for (i = 0; !ret && i < n; i++)
		ret = metrics_doc(&b, docs[i].json, out, err, errlen);
	if (!ret && b.err) {
		ret = b.err;
		snprintf(err, errlen, "%s", strerror(-ret));
	}
	if (ret) {
		free(b.p);
		return ret;
	}
	out->text = b.p;
	out->len = b.len;
	return 0;
}

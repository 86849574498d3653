/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * steerd's figures in the Prometheus text exposition format (0.0.4), made
 * from the admin socket's own answers, so /metrics shows what steerctl
 * shows and a counter added to steerctl appears here too.
 *
 * Every object of an answer's result is a group of figures; the table in
 * metrics_desc.c gives each group its metric names, type (counter unless
 * listed as a gauge), help text, and whether its members are one
 * family's label values (the drop reasons, the actions) or metrics of
 * their own. Numbers are counters or gauges, true/false gauges of 1/0, a
 * string an info gauge ("steer_G_K_info{K="value"} 1"). An array named
 * "histograms" holds histograms (admin 'latency'), one named "forecasts"
 * the load forecasts (admin 'forecast'). A group the table does
 * not know is still shown, untyped, and counted in *undescribed: tests
 * make that 0, so a new counter needs its description.
 */
#ifndef STEER_METRICS_H
#define STEER_METRICS_H

#include <stddef.h>

#define METRICS_PREFIX "steer_"

struct metrics_doc {
	const char *json; /* an admin answer: {"ok":true,"result":{...}} */
};

struct metrics_out {
	char *text; /* malloc'd, NUL-terminated; the caller frees it */
	size_t len;
	unsigned int families;	  /* metric families written */
	unsigned int undescribed; /* groups the table does not know */
};

/*
 * Render the figures of docs[0..n-1], after the lines of head (already
 * exposition text, or NULL). 0, or -EINVAL with the reason in err (an
 * answer that is not JSON, not ok, or without a result object), or
 * -ENOMEM.
 */
int metrics_render(const struct metrics_doc *docs, unsigned int n,
		   const char *head, struct metrics_out *out, char *err,
		   size_t errlen);

/* What the table knows of a group (metrics_desc.c). */
struct metrics_group {
	const char *key;    /* the group's name in the answer */
	const char *family; /* metric names: steer_FAMILY[_MEMBER] */
	const char *label;  /* non-NULL: members are this label's values */
	const char *help;
	const char *const *gauges; /* members that are gauges; NULL-ended */
};

const struct metrics_group *metrics_group_find(const char *key);

#endif /* STEER_METRICS_H */

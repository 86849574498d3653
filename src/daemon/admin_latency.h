/* SPDX-License-Identifier: GPL-2.0-only */
/* admin 'latency': the latency histograms (admin_latency.c). */
#ifndef STEER_ADMIN_LATENCY_H
#define STEER_ADMIN_LATENCY_H

#include <stddef.h>

#include "daemon/jsonw.h"

struct steerd;

int admin_latency(struct steerd *d, int argc, char **argv, struct jsonw *w,
		  char *err, size_t errlen);

#endif /* STEER_ADMIN_LATENCY_H */

// SPDX-License-Identifier: GPL-2.0-only
/*
 * Fuzz target: the replay windows' file (src/daemon/replay_store.c), as
 * a restarted steerd reads it from its state directory. Any bytes: the
 * parser refuses a file without the header, counts every other line as
 * good or bad, never reads past the input, and hands on senders below
 * STEER_NODE_NONE only.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <steer/rule.h>

#include "daemon/replay_store.h"

static void check(int cond)
{
	if (!cond)
		__builtin_trap();
}

static int take(uint16_t sender, uint64_t seq, void *arg)
{
	uint32_t *n = arg;

	(void)seq;
	check(sender != STEER_NODE_NONE);
	(*n)++;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size ? size : 1);
	uint32_t n = 0, bad = 0;
	int ret;

	if (!buf)
		return 0;
	memcpy(buf, data, size); /* a copy of exactly size bytes: ASan sees
				    any read past it */
	ret = replay_store_parse(buf, size, take, &n, &bad);
	check(ret == -EINVAL || (ret >= 0 && (uint32_t)ret == n));
	free(buf);
	return 0;
}

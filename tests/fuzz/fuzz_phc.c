// SPDX-License-Identifier: GPL-2.0-only
/*
 * Fuzz target: the header cache's stored value (node/phc_store.h). Any
 * bytes either decode into an entry within its bounds that encodes back
 * to the same bytes, or are refused; never a crash.
 */
#include <stdint.h>
#include <string.h>

#include <steer/rule.h>

#include "node/phc_store.h"

static void check(int cond)
{
	if (!cond)
		__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct phc_entry e;
	uint8_t again[PHC_VALUE_LEN];

	memset(&e, 0, sizeof(e));
	if (phc_value_decode(data, size, &e))
		return 0;
	check(size == PHC_VALUE_LEN);
	check(e.owner != STEER_NODE_NONE && e.p_permille >= 1 &&
	      e.p_permille <= 1000);
	phc_value_encode(&e, again);
	check(!memcmp(again, data, PHC_VALUE_LEN));
	return 0;
}

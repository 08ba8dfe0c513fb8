// SPDX-License-Identifier: GPL-2.0
#include "backoff.h"

uint64_t backoff_ceiling(unsigned int attempt, uint64_t base_ms,
			 uint64_t cap_ms)
{
	uint64_t c = base_ms;

	while (attempt-- && c < cap_ms)
		c = c > UINT64_MAX / 2 ? UINT64_MAX : c * 2;
	return c < cap_ms ? c : cap_ms;
}

uint64_t backoff_delay(unsigned int attempt, uint64_t base_ms, uint64_t cap_ms,
		       uint64_t rnd)
{
	uint64_t c = backoff_ceiling(attempt, base_ms, cap_ms);

	return c == UINT64_MAX ? rnd : rnd % (c + 1);
}

/* SPDX-License-Identifier: GPL-2.0 */
#ifndef PEERWATCH_BACKOFF_H
#define PEERWATCH_BACKOFF_H

#include <stdint.h>

/* The first retry waits at most this long. */
#define BACKOFF_BASE_MS 250

/* min(cap, base * 2^attempt), without overflow. */
uint64_t backoff_ceiling(unsigned int attempt, uint64_t base_ms,
			 uint64_t cap_ms);
/*
 * Exponential backoff with full jitter: uniform in [0, ceiling], drawn from
 * @rnd, so that engines lost together do not come back together.
 */
uint64_t backoff_delay(unsigned int attempt, uint64_t base_ms, uint64_t cap_ms,
		       uint64_t rnd);

#endif

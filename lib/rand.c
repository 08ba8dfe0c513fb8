// SPDX-License-Identifier: GPL-2.0
/*
 * splitmix64: jitter only needs to be uncorrelated across engines and
 * processes, not unpredictable, and must never block or fail.
 */
#include <stdbool.h>
#include <sys/random.h>
#include <time.h>

#include "rand.h"

static uint64_t state;
static bool seeded;

static void seed(void)
{
	struct timespec ts;

	if (getrandom(&state, sizeof(state), GRND_NONBLOCK) !=
	    (ssize_t)sizeof(state)) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		state = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 32);
	}
	seeded = true;
}

uint64_t rand_u64(void)
{
	uint64_t z;

	if (!seeded)
		seed();
	z = (state += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

uint64_t rand_range(uint64_t lo, uint64_t hi)
{
	if (hi <= lo)
		return lo;
	if (hi - lo == UINT64_MAX)
		return rand_u64();
	return lo + rand_u64() % (hi - lo + 1);
}

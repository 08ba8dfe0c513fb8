/* SPDX-License-Identifier: GPL-2.0 */
#ifndef PEERWATCH_SERVE_CLOCK_H
#define PEERWATCH_SERVE_CLOCK_H

#include <stdint.h>
#include <time.h>

/*
 * Milliseconds on @clock, read now: CLOCK_MONOTONIC for what a pass of
 * the loop takes (loop_now() is the time the pass began), CLOCK_REALTIME
 * for the timestamps of answers and events.
 */
static inline uint64_t serve_clock_ms(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

#endif

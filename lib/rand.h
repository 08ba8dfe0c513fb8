/* SPDX-License-Identifier: GPL-2.0 */
#ifndef PEERWATCH_RAND_H
#define PEERWATCH_RAND_H

#include <stdint.h>

/* Non-cryptographic randomness for jitter; seeded from getrandom(). */
uint64_t rand_u64(void);
/* Uniform in [lo, hi]; lo when hi <= lo. */
uint64_t rand_range(uint64_t lo, uint64_t hi);

#endif

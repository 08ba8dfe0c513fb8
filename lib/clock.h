/* SPDX-License-Identifier: GPL-2.0 */
#ifndef PEERWATCH_CLOCK_H
#define PEERWATCH_CLOCK_H

#include <stdint.h>

/* Milliseconds since an arbitrary start, never set back: for intervals. */
uint64_t clock_mono_ms(void);
/* Milliseconds since the Unix epoch: for timestamps others read. */
uint64_t clock_wall_ms(void);

#endif

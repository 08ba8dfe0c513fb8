/* SPDX-License-Identifier: GPL-2.0 */
#ifndef PEERWATCH_DURATION_H
#define PEERWATCH_DURATION_H

#include <stddef.h>
#include <stdint.h>

/* Go-style durations ("500ms", "10s", "2m", "1h30m", "1.5s"), in ms. */
int duration_parse(const char *s, uint64_t *ms);
/* Shortest exact Go-style spelling of @ms ("1m30s", "250ms", "0s"). */
int duration_format(uint64_t ms, char *buf, size_t len);

#endif

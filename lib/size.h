/* SPDX-License-Identifier: GPL-2.0 */
#ifndef PEERWATCH_SIZE_H
#define PEERWATCH_SIZE_H

#include <stdint.h>

/* A byte count with an optional binary suffix: "4096", "64KiB", "64MiB", "1G". */
int size_parse(const char *s, uint64_t *bytes);

#endif

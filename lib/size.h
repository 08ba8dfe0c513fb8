/* SPDX-License-Identifier: GPL-2.0 */
#ifndef PEERWATCH_SIZE_H
#define PEERWATCH_SIZE_H

#include <stddef.h>
#include <stdint.h>

/* A byte count with an optional binary suffix: "4096", "64KiB", "64MiB", "1G". */
int size_parse(const char *s, uint64_t *bytes);
/* Shortest exact spelling of @bytes that size_parse() reads ("4KiB", "1000"). */
int size_format(uint64_t bytes, char *buf, size_t len);

#endif

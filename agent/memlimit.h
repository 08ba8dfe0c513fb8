/* SPDX-License-Identifier: GPL-2.0 */
#ifndef PEERWATCH_MEMLIMIT_H
#define PEERWATCH_MEMLIMIT_H

#include <stddef.h>
#include <stdint.h>

/*
 * The memory the agent may use: the lowest of @flag (--memory-max; 0:
 * none) and its cgroup's limit (v2 memory.max, v1 memory.limit_in_bytes,
 * its own cgroup's and every parent's). 0: no limit. @what gets it in
 * words for the log and the engines ("cgroup v1 memory.limit_in_bytes
 * 20MiB").
 */
uint64_t memlimit_read(uint64_t flag, char *what, size_t len);

#endif

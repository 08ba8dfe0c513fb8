/* SPDX-License-Identifier: GPL-2.0 */
#ifndef PEERWATCH_HRW_H
#define PEERWATCH_HRW_H

#include <stddef.h>
#include <stdint.h>

/*
 * Rendezvous (highest random weight) hashing: each (agent, engine) pair
 * gets a score, and an engine belongs to the agents of the highest
 * scores. An agent that leaves moves only its own engines, spread evenly
 * over the others; one that joins takes an even share from each. No
 * ring, no state: every agent computes the same answer from the names.
 */
uint64_t hrw_name_hash(const char *name);
/*
 * The indexes of the @r best of @n agents (by @hashes) for @addr, best
 * first, into @out; returns how many (min(r, n)).
 */
size_t hrw_owners(const uint64_t *hashes, size_t n, const char *addr,
		  size_t r, size_t *out);

#endif

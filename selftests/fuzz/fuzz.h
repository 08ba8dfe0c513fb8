/* SPDX-License-Identifier: GPL-2.0 */
#ifndef PEERWATCH_FUZZ_H
#define PEERWATCH_FUZZ_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * Helpers shared by the libFuzzer targets. A target aborts on any broken
 * invariant, so libFuzzer records the input that caused it.
 */
#define fuzz_assert(cond)						\
	do {								\
		if (!(cond)) {						\
			fprintf(stderr, "%s:%d: invariant failed: %s\n", \
				__FILE__, __LINE__, #cond);		\
			abort();					\
		}							\
	} while (0)

/*
 * The sizes of the pieces a peer's bytes arrive in, drawn from a seed the
 * fuzzer chose: seed 0 is one byte at a time (every boundary once), others
 * mix short pieces with the odd long one, as TCP reads do.
 */
struct fuzz_split {
	uint32_t state;
};

static inline void fuzz_split_init(struct fuzz_split *s, uint8_t seed)
{
	s->state = seed ? seed * 0x9e3779b9u : 0;
}

static inline size_t fuzz_split_next(struct fuzz_split *s, size_t left)
{
	size_t n;

	if (!s->state)
		return left ? 1 : 0;
	/* xorshift32: cheap, and the same pieces for the same seed. */
	s->state ^= s->state << 13;
	s->state ^= s->state >> 17;
	s->state ^= s->state << 5;
	n = s->state & 0x100 ? 1 + (s->state >> 24) : 1 + (s->state & 15);
	return n < left ? n : left;
}

/*
 * A piece in its own allocation of exactly its size, so that reading past
 * the bytes the parser was given is an ASan report, not a silent hit on
 * the next piece.
 */
static inline char *fuzz_piece(const uint8_t *data, size_t len)
{
	char *p = malloc(len ? len : 1);

	fuzz_assert(p);
	memcpy(p, data, len);
	return p;
}

/* FNV-1a, to compare what two runs delivered without keeping it. */
static inline uint64_t fuzz_hash(uint64_t h, const void *data, size_t len)
{
	const unsigned char *p = data;

	while (len--)
		h = (h ^ *p++) * 0x100000001b3ull;
	return h;
}

#define FUZZ_HASH_INIT	0xcbf29ce484222325ull

#endif

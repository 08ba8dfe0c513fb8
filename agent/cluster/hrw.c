// SPDX-License-Identifier: GPL-2.0
/*
 * FNV-1a spreads poorly in its high bits on short, similar strings
 * ("127.1.0.1:2375", "127.1.0.2:2375"); a 64-bit finaliser (splitmix64's)
 * over the combination makes every bit count, so shares stay within a
 * few percent of even.
 */
#include <string.h>

#include "hrw.h"

static uint64_t fnv1a(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	while (*s) {
		h ^= (unsigned char)*s++;
		h *= 0x100000001b3ULL;
	}
	return h;
}

static uint64_t mix(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return x;
}

uint64_t hrw_name_hash(const char *name)
{
	return mix(fnv1a(name));
}

size_t hrw_owners(const uint64_t *hashes, size_t n, const char *addr,
		  size_t r, size_t *out)
{
	uint64_t a = mix(fnv1a(addr)), best[8];
	size_t i, j, k = 0;

	if (r > sizeof(best) / sizeof(best[0]))
		r = sizeof(best) / sizeof(best[0]);
	for (i = 0; i < n; i++) {
		uint64_t s = mix(hashes[i] ^ a);

		/* Insertion into the r best so far, best first. */
		for (j = k; j > 0 && best[j - 1] < s; j--) {
			if (j < r) {
				best[j] = best[j - 1];
				out[j] = out[j - 1];
			}
		}
		if (j < r) {
			best[j] = s;
			out[j] = i;
			if (k < r)
				k++;
		}
	}
	return k;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * A chained hash table of counted strings. A reference is the string's
 * own address: intern_put() finds its entry in front of it, so only
 * intern_get() hashes. The table doubles with its strings and is freed
 * with the last one, so that a clean exit leaves nothing behind.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "intern.h"

#define INTERN_MIN_BUCKETS	256

struct istr {
	struct istr *next;		/* in its bucket */
	uint64_t hash;
	uint32_t len;
	uint32_t refs;
	char s[];
};

static struct istr **buckets;
static size_t nbuckets, count, bytes;

static struct istr *istr_of(const char *s)
{
	return (struct istr *)(s - offsetof(struct istr, s));
}

/* The last string gone, the table goes too. */
static void release_if_empty(void)
{
	if (count)
		return;
	free(buckets);
	buckets = NULL;
	nbuckets = 0;
}

static int grow(void)
{
	size_t n = nbuckets ? nbuckets * 2 : INTERN_MIN_BUCKETS, i;
	struct istr **v = calloc(n, sizeof(*v)), *e, *next;

	if (!v)
		return -ENOMEM;
	for (i = 0; i < nbuckets; i++) {
		for (e = buckets[i]; e; e = next) {
			next = e->next;
			e->next = v[e->hash & (n - 1)];
			v[e->hash & (n - 1)] = e;
		}
	}
	free(buckets);
	buckets = v;
	nbuckets = n;
	return 0;
}

const char *intern_get(const char *s, size_t len)
{
	uint64_t h = XXH3_64bits(s, len);
	struct istr *e;

	if (len > UINT32_MAX)
		return NULL;
	if (nbuckets) {
		for (e = buckets[h & (nbuckets - 1)]; e; e = e->next) {
			if (e->hash == h && e->len == len &&
			    !memcmp(e->s, s, len) && e->refs < UINT32_MAX) {
				e->refs++;
				return e->s;
			}
		}
	}
	if (count >= nbuckets && grow() && !nbuckets)
		return NULL;
	e = malloc(sizeof(*e) + len + 1);
	if (!e) {
		release_if_empty();
		return NULL;
	}
	e->hash = h;
	e->len = (uint32_t)len;
	e->refs = 1;
	memcpy(e->s, s, len);
	e->s[len] = '\0';
	e->next = buckets[h & (nbuckets - 1)];
	buckets[h & (nbuckets - 1)] = e;
	count++;
	bytes += sizeof(*e) + len + 1;
	return e->s;
}

void intern_put(const char *s)
{
	struct istr *e, **pp;

	if (!s)
		return;
	e = istr_of(s);
	if (--e->refs)
		return;
	for (pp = &buckets[e->hash & (nbuckets - 1)]; *pp != e;
	     pp = &(*pp)->next)
		;
	*pp = e->next;
	bytes -= sizeof(*e) + e->len + 1;
	count--;
	free(e);
	release_if_empty();
}

size_t intern_count(void)
{
	return count;
}

size_t intern_footprint(void)
{
	return bytes + nbuckets * sizeof(*buckets);
}

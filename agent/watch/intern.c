// SPDX-License-Identifier: GPL-2.0
/*
 * A chained hash table of counted strings, each in a numbered slot: a
 * reference is the slot's number, so intern_put() and intern_str() index,
 * only intern_get() hashes. Chains link slot numbers too, 32 bits where a
 * pointer takes 64. Freed slots are reused, last freed first. The table
 * grows with its strings and is freed with the last one, so that a clean
 * exit leaves nothing behind.
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
	uint32_t next;			/* in its bucket; 0 ends it */
	uint32_t hash;
	uint32_t len;
	uint32_t refs;
	char s[];
};

/* A slot holds a string, or, free, the next free slot's number. */
union slot {
	struct istr *e;
	uint32_t next_free;
};

static union slot *slots;		/* slot 0 is never used */
static uint32_t *buckets;
static size_t nslots, nbuckets, count, bytes;
static uint32_t used = 1;		/* slots ever handed out, with 0 */
static uint32_t free_head;		/* 0: none */

/* The last string gone, the table goes too. */
static void release_if_empty(void)
{
	if (count)
		return;
	free(buckets);
	free(slots);
	buckets = NULL;
	slots = NULL;
	nbuckets = nslots = 0;
	used = 1;
	free_head = 0;
}

static int grow_buckets(void)
{
	size_t n = nbuckets ? nbuckets * 2 : INTERN_MIN_BUCKETS, i;
	uint32_t *v, r, next;
	struct istr *e;

	if (n > UINT32_MAX)
		return -ENOMEM;
	v = calloc(n, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (i = 0; i < nbuckets; i++) {
		for (r = buckets[i]; r; r = next) {
			e = slots[r].e;
			next = e->next;
			e->next = v[e->hash & (n - 1)];
			v[e->hash & (n - 1)] = r;
		}
	}
	free(buckets);
	buckets = v;
	nbuckets = n;
	return 0;
}

/* A free slot's number, or 0 on -ENOMEM. */
static uint32_t slot_take(void)
{
	size_t n;
	union slot *v;
	uint32_t r;

	if (free_head) {
		r = free_head;
		free_head = slots[r].next_free;
		return r;
	}
	if (used >= nslots) {
		n = nslots ? nslots * 2 : INTERN_MIN_BUCKETS;
		if (n > UINT32_MAX)
			return 0;
		v = realloc(slots, n * sizeof(*v));
		if (!v)
			return 0;
		slots = v;
		nslots = n;
	}
	return used++;
}

static void slot_give(uint32_t r)
{
	slots[r].next_free = free_head;
	free_head = r;
}

uint32_t intern_get(const char *s, size_t len)
{
	uint32_t h = (uint32_t)XXH3_64bits(s, len), r;
	struct istr *e;

	if (len > UINT32_MAX)
		return 0;
	if (nbuckets) {
		for (r = buckets[h & (nbuckets - 1)]; r; r = e->next) {
			e = slots[r].e;
			if (e->hash == h && e->len == len &&
			    !memcmp(e->s, s, len) && e->refs < UINT32_MAX) {
				e->refs++;
				return r;
			}
		}
	}
	if (count >= nbuckets && grow_buckets() && !nbuckets)
		return 0;
	r = slot_take();
	e = r ? malloc(sizeof(*e) + len + 1) : NULL;
	if (!e) {
		if (r)
			slot_give(r);
		release_if_empty();
		return 0;
	}
	e->hash = h;
	e->len = (uint32_t)len;
	e->refs = 1;
	memcpy(e->s, s, len);
	e->s[len] = '\0';
	e->next = buckets[h & (nbuckets - 1)];
	buckets[h & (nbuckets - 1)] = r;
	slots[r].e = e;
	count++;
	bytes += sizeof(*e) + len + 1;
	return r;
}

void intern_put(uint32_t ref)
{
	struct istr *e;
	uint32_t *pp;

	if (!ref)
		return;
	e = slots[ref].e;
	if (--e->refs)
		return;
	for (pp = &buckets[e->hash & (nbuckets - 1)]; *pp != ref;
	     pp = &slots[*pp].e->next)
		;
	*pp = e->next;
	bytes -= sizeof(*e) + e->len + 1;
	count--;
	free(e);
	slot_give(ref);
	release_if_empty();
}

const char *intern_str(uint32_t ref)
{
	return ref ? slots[ref].e->s : NULL;
}

const char *intern_get_str(const char *s, size_t len)
{
	return intern_str(intern_get(s, len));
}

/* Its slot, from its bucket: the string's header does not keep it. */
void intern_put_str(const char *s)
{
	const struct istr *e = (const struct istr *)(s - offsetof(struct istr, s));
	uint32_t r;

	for (r = buckets[e->hash & (nbuckets - 1)]; slots[r].e != e;
	     r = slots[r].e->next)
		;
	intern_put(r);
}

size_t intern_count(void)
{
	return count;
}

size_t intern_footprint(void)
{
	return bytes + nbuckets * sizeof(*buckets) + nslots * sizeof(*slots);
}

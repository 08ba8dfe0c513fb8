// SPDX-License-Identifier: GPL-2.0
/*
 * A chained hash of intrusive nodes. Cookies are a per-netns counter, so
 * consecutive: a multiplicative (Fibonacci) hash spreads them evenly.
 */
#include <errno.h>
#include <stdlib.h>

#include "cookie_map.h"

#define COOKIE_MAP_MIN_BITS	6
#define COOKIE_MAP_MAX_BITS	24

static size_t slot(uint64_t cookie, unsigned int bits)
{
	return (size_t)((cookie * 0x9e3779b97f4a7c15ULL) >> (64 - bits));
}

/* Move every node into a table of 1 << @bits buckets. */
static int rehash(struct cookie_map *m, unsigned int bits)
{
	struct cookie_node **b, *node, *next;
	size_t i, old = m->bits ? (size_t)1 << m->bits : 0;

	b = calloc((size_t)1 << bits, sizeof(*b));
	if (!b)
		return -ENOMEM;
	for (i = 0; i < old; i++) {
		for (node = m->b[i]; node; node = next) {
			size_t s = slot(node->cookie, bits);

			next = node->next;
			node->next = b[s];
			b[s] = node;
		}
	}
	free(m->b);
	m->b = b;
	m->bits = bits;
	return 0;
}

int cookie_map_add(struct cookie_map *m, struct cookie_node *node,
		   uint64_t cookie)
{
	size_t s;

	if (!m->bits && rehash(m, COOKIE_MAP_MIN_BITS))
		return -ENOMEM;
	/* At one node per bucket, double; if that fails, chains grow. */
	if (m->n >= (size_t)1 << m->bits && m->bits < COOKIE_MAP_MAX_BITS)
		rehash(m, m->bits + 1);
	node->cookie = cookie;
	s = slot(cookie, m->bits);
	node->next = m->b[s];
	m->b[s] = node;
	m->n++;
	return 0;
}

void cookie_map_del(struct cookie_map *m, struct cookie_node *node)
{
	struct cookie_node **p;

	if (!node->cookie || !m->bits)
		return;
	for (p = &m->b[slot(node->cookie, m->bits)]; *p; p = &(*p)->next) {
		if (*p != node)
			continue;
		*p = node->next;
		node->next = NULL;
		node->cookie = 0;
		if (!--m->n) {
			free(m->b);
			m->b = NULL;
			m->bits = 0;
		}
		return;
	}
}

struct cookie_node *cookie_map_find(const struct cookie_map *m,
				    uint64_t cookie)
{
	struct cookie_node *node;

	if (!cookie || !m->bits)
		return NULL;
	for (node = m->b[slot(cookie, m->bits)]; node; node = node->next)
		if (node->cookie == cookie)
			return node;
	return NULL;
}

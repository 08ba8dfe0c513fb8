/* SPDX-License-Identifier: GPL-2.0 */
#ifndef PEERWATCH_COOKIE_MAP_H
#define PEERWATCH_COOKIE_MAP_H

#include <stddef.h>
#include <stdint.h>

/*
 * Nodes by socket cookie (SO_COOKIE), embedded in their owners: add,
 * delete and lookup in O(1), so that a kernel event finds its connection
 * among tens of thousands at once. The table doubles as it fills and is
 * freed when it empties: a zeroed map is an empty one, and an empty one
 * holds no memory.
 */
struct cookie_node {
	struct cookie_node *next;
	uint64_t cookie;		/* 0: not in a map */
};

struct cookie_map {
	struct cookie_node **b;
	unsigned int bits;		/* 1 << bits buckets; 0 while empty */
	size_t n;
};

/*
 * Add @node under @cookie (not 0, not already in the map). Returns 0, or
 * -ENOMEM when the first table cannot be had (a full table that cannot
 * grow only makes chains longer).
 */
int cookie_map_add(struct cookie_map *m, struct cookie_node *node,
		   uint64_t cookie);
/* Remove @node if it is in @m; its cookie becomes 0. */
void cookie_map_del(struct cookie_map *m, struct cookie_node *node);
struct cookie_node *cookie_map_find(const struct cookie_map *m,
				    uint64_t cookie);

#endif

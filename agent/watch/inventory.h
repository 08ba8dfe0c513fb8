/* SPDX-License-Identifier: GPL-2.0 */
#ifndef PEERWATCH_INVENTORY_H
#define PEERWATCH_INVENTORY_H

#include <stddef.h>
#include <stdint.h>
#include <json-c/json.h>

#include "docker.h"

/*
 * Container IDs waiting for a targeted refresh, at most: as many as one
 * filtered listing's URL holds (inventory_filter). More wanted at once,
 * and a full listing is cheaper than several filtered ones.
 */
#define INVENTORY_MAX_PENDING 8

/*
 * One engine's containers: replaced by a full listing, updated by
 * filtered listings and by what events say, with the IDs still to
 * refresh. Embedded in its engine; @v is one block, strings included
 * (docker_builder).
 */
struct inventory {
	struct docker_container *v;
	size_t n;
	char (*pending)[DOCKER_ID_MAX];	/* allocated only while any wait */
	unsigned int npending;
	unsigned int nsent;		/* pending[0..nsent): asked for */
	uint64_t hash;			/* of the listing @v is; 0: changed since */
	size_t hashed_len;		/* that listing's length */
};

void inventory_clear(struct inventory *inv);
/*
 * The answer to /containers/json?all=1 replaces everything, and answers
 * the IDs that were pending when it was asked for (inventory_sent_all).
 * Both calls take @list: it is freed before the new inventory is laid
 * out.
 */
int inventory_replace(struct inventory *inv, struct json_object *list);
/*
 * The answer to the listing filtered by inventory_filter(): what it holds
 * is upserted, and each ID it was asked about, if absent, removed. Those
 * IDs are then done; the ones wanted since stay pending.
 */
int inventory_update(struct inventory *inv, struct json_object *list);
/*
 * The same two from a builder filled elsewhere (listing.c), emptied.
 * @hash and @len are the full listing's (listing.h); the hash equal to
 * the one the inventory was laid out from, it stays as it is, with no
 * allocation. 0: no hash, lay it out.
 */
int inventory_replace_built(struct inventory *inv, struct docker_builder *b,
			    uint64_t hash, size_t len);
int inventory_update_built(struct inventory *inv, struct docker_builder *b);
/* Queue a refresh of @id: 0, or -ENOSPC when a full listing is due instead. */
int inventory_want(struct inventory *inv, const char *id);
static inline unsigned int inventory_pending(const struct inventory *inv)
{
	return inv->npending;
}
/*
 * The URL-encoded value of a listing's "filters" for every pending ID:
 * {"id":[...]} with 12-digit prefixes (the engines match IDs as
 * patterns, as docker ps --filter id= does). Marks them asked for.
 * Returns its length, 0 when none is pending, -ENOSPC if @size is short.
 */
int inventory_filter(struct inventory *inv, char *buf, size_t size);
/* A full listing is asked for: it answers every ID pending now. */
static inline void inventory_sent_all(struct inventory *inv)
{
	inv->nsent = inv->npending;
}

/* What an event says, applied at once (events.c). */
const struct docker_container *inventory_find(const struct inventory *inv,
					      const char *id);
/*
 * Container @id gets @state, @status and @name, each unless NULL:
 * 0, -ENOENT if there is no such container, -ENOMEM.
 */
int inventory_patch(struct inventory *inv, const char *id, const char *state,
		    const char *status, const char *name);
int inventory_remove(struct inventory *inv, const char *id);

#endif

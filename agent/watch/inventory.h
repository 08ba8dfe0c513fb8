/* SPDX-License-Identifier: GPL-2.0 */
#ifndef PEERWATCH_INVENTORY_H
#define PEERWATCH_INVENTORY_H

#include <stddef.h>
#include <json-c/json.h>

#include "docker.h"

/* Container IDs waiting for a targeted refresh, at most. */
#define INVENTORY_MAX_PENDING 32

/*
 * One engine's containers: replaced by a full listing, updated one by one
 * after /events, with the IDs still to refresh. Embedded in its engine;
 * @v is one block, strings included (docker_builder).
 */
struct inventory {
	struct docker_container *v;
	size_t n;
	char (*pending)[DOCKER_ID_MAX];	/* allocated only while any wait */
	unsigned int npending;
};

void inventory_clear(struct inventory *inv);
/*
 * The answer to /containers/json?all=1 replaces everything. Both calls
 * take @list: it is freed before the new inventory is laid out.
 */
int inventory_replace(struct inventory *inv, struct json_object *list);
/*
 * The answer to a listing filtered on the first pending ID: what it holds
 * is upserted, and that ID, if absent, removed. The ID is then done.
 */
int inventory_update(struct inventory *inv, struct json_object *list);
/* Queue a refresh of @id: 0, or -ENOSPC when a full listing is due instead. */
int inventory_want(struct inventory *inv, const char *id);
/* The ID to refresh next, NULL when none. */
static inline const char *inventory_next(const struct inventory *inv)
{
	return inv->npending ? inv->pending[0] : NULL;
}

#endif

// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "inventory.h"

/*
 * Listings are parsed here, then laid out in the engine's block once the
 * JSON tree is freed (docker.h). One builder serves every engine: the
 * agent has one thread, and a listing is handled in one go.
 */
static struct docker_builder scratch;

/* What a huge listing made the builder keep is handed back. */
#define SCRATCH_KEEP (1U << 20)

static int commit(struct inventory *inv)
{
	int err = docker_builder_finish(&scratch, &inv->v, &inv->n);

	if (docker_builder_footprint(&scratch) > SCRATCH_KEEP)
		docker_builder_release(&scratch);
	return err;
}

void inventory_clear(struct inventory *inv)
{
	docker_containers_free(inv->v);
	free(inv->pending);
	memset(inv, 0, sizeof(*inv));
}

int inventory_replace(struct inventory *inv, struct json_object *list)
{
	int err;

	docker_builder_reset(&scratch);
	err = docker_builder_parse(&scratch, list);
	json_object_put(list);
	if (err)
		return err;
	return commit(inv);
}

static void pop_pending(struct inventory *inv)
{
	inv->npending--;
	memmove(inv->pending[0], inv->pending[1],
		inv->npending * sizeof(inv->pending[0]));
	if (!inv->npending) {
		free(inv->pending);
		inv->pending = NULL;
	}
}

static int cmp_id(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int inventory_update(struct inventory *inv, struct json_object *list)
{
	const char **ids = NULL, *id;
	size_t i, k;
	int err;

	if (!inv->npending) {
		json_object_put(list);
		return -EINVAL;
	}
	docker_builder_reset(&scratch);
	err = docker_builder_parse(&scratch, list);
	json_object_put(list);
	if (err)
		return err;
	/*
	 * What the answer holds comes first, as new as it gets; then every
	 * container we had that it does not replace, except the pending ID,
	 * gone if absent. IDs sorted: an engine may answer with many.
	 */
	k = docker_builder_count(&scratch);
	if (k) {
		ids = malloc(k * sizeof(*ids));
		if (!ids)
			return -ENOMEM;
		for (i = 0; i < k; i++)
			ids[i] = docker_builder_id(&scratch, i);
		qsort(ids, k, sizeof(*ids), cmp_id);
	}
	for (i = 0; i < inv->n && !err; i++) {
		id = inv->v[i].id;
		if (!strcmp(id, inv->pending[0]) ||
		    (k && bsearch(&id, ids, k, sizeof(*ids), cmp_id)))
			continue;
		err = docker_builder_add(&scratch, &inv->v[i]);
	}
	free(ids);
	if (!err)
		err = commit(inv);
	pop_pending(inv);
	return err;
}

int inventory_want(struct inventory *inv, const char *id)
{
	unsigned int i;

	if (!docker_id_valid(id))
		return -EINVAL;
	for (i = 0; i < inv->npending; i++)
		if (!strcmp(inv->pending[i], id))
			return 0;
	if (!inv->pending)
		inv->pending = malloc(INVENTORY_MAX_PENDING *
				      sizeof(inv->pending[0]));
	if (!inv->pending || inv->npending == INVENTORY_MAX_PENDING)
		return -ENOSPC;
	strcpy(inv->pending[inv->npending++], id);
	return 0;
}

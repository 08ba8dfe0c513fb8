// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
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

static int commit(struct inventory *inv, struct docker_builder *b)
{
	int err = docker_builder_finish(b, &inv->v, &inv->n);

	if (docker_builder_footprint(b) > SCRATCH_KEEP)
		docker_builder_release(b);
	inv->hash = 0;
	return err;
}

void inventory_clear(struct inventory *inv)
{
	docker_containers_free(inv->v, inv->n);
	free(inv->pending);
	memset(inv, 0, sizeof(*inv));
}

/* The IDs asked for are answered: those wanted since stay. */
static void pop_sent(struct inventory *inv)
{
	inv->npending -= inv->nsent;
	memmove(inv->pending[0], inv->pending[inv->nsent],
		inv->npending * sizeof(inv->pending[0]));
	inv->nsent = 0;
	if (!inv->npending) {
		free(inv->pending);
		inv->pending = NULL;
	}
}

int inventory_replace_built(struct inventory *inv, struct docker_builder *b,
			    uint64_t hash, size_t len)
{
	int err = 0;

	/* The same answer as the last one applied: nothing to lay out. */
	if (!hash || hash != inv->hash)
		err = commit(inv, b);
	else
		docker_builder_reset(b);
	if (!err) {
		inv->hash = hash;
		inv->hashed_len = len;
	}
	if (!err && inv->nsent)
		pop_sent(inv);
	return err;
}

int inventory_replace(struct inventory *inv, struct json_object *list)
{
	int err;

	docker_builder_reset(&scratch);
	err = docker_builder_parse(&scratch, list);
	json_object_put(list);
	return err ? err : inventory_replace_built(inv, &scratch, 0, 0);
}

static int cmp_id(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static bool was_sent(const struct inventory *inv, const char *id)
{
	unsigned int i;

	for (i = 0; i < inv->nsent; i++)
		if (!strcmp(id, inv->pending[i]))
			return true;
	return false;
}

int inventory_update_built(struct inventory *inv, struct docker_builder *b)
{
	const char **ids = NULL, *id;
	struct docker_fields f;
	size_t i, k;
	int err = 0;

	if (!inv->nsent)
		return -EINVAL;
	/*
	 * What the answer holds comes first, as new as it gets; then every
	 * container we had that it does not replace, except the IDs asked
	 * about, gone if absent. IDs sorted: an engine may answer with many.
	 */
	k = docker_builder_count(b);
	if (k) {
		ids = malloc(k * sizeof(*ids));
		if (!ids)
			return -ENOMEM;
		for (i = 0; i < k; i++)
			ids[i] = docker_builder_id(b, i);
		qsort(ids, k, sizeof(*ids), cmp_id);
	}
	for (i = 0; i < inv->n && !err; i++) {
		docker_container_fields(&inv->v[i], &f);
		id = f.id;
		if (was_sent(inv, id) ||
		    (k && bsearch(&id, ids, k, sizeof(*ids), cmp_id)))
			continue;
		err = docker_builder_add(b, &f);
	}
	free(ids);
	if (!err)
		err = commit(inv, b);
	pop_sent(inv);
	return err;
}

int inventory_update(struct inventory *inv, struct json_object *list)
{
	int err;

	if (!inv->nsent) {
		json_object_put(list);
		return -EINVAL;
	}
	docker_builder_reset(&scratch);
	err = docker_builder_parse(&scratch, list);
	json_object_put(list);
	return err ? err : inventory_update_built(inv, &scratch);
}

int inventory_want(struct inventory *inv, const char *id)
{
	unsigned int i;

	if (!docker_id_valid(id))
		return -EINVAL;
	/* Asked for already, it is asked again: the answer may predate. */
	for (i = inv->nsent; i < inv->npending; i++)
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

/* Docker's short IDs: unique enough, and the engine answers all matches. */
#define FILTER_ID_DIGITS 12

int inventory_filter(struct inventory *inv, char *buf, size_t size)
{
	unsigned int i;
	size_t len;

	if (!inv->npending)
		return 0;
	len = (size_t)snprintf(buf, size, "%%7B%%22id%%22%%3A%%5B");
	for (i = 0; i < inv->npending && len < size; i++)
		len += (size_t)snprintf(buf + len, size - len, "%s%%22%.*s%%22",
					i ? "%2C" : "", FILTER_ID_DIGITS,
					inv->pending[i]);
	if (len < size)
		len += (size_t)snprintf(buf + len, size - len, "%%5D%%7D");
	if (len >= size)
		return -ENOSPC;
	inv->nsent = inv->npending;
	return (int)len;
}

const struct docker_container *inventory_find(const struct inventory *inv,
					      const char *id)
{
	size_t i;

	for (i = 0; i < inv->n; i++)
		if (docker_container_id_is(&inv->v[i], id))
			return &inv->v[i];
	return NULL;
}

/* The inventory laid out again without @id, or with it changed. */
static int rebuild(struct inventory *inv, const char *id, bool drop,
		   const char *state, const char *status, const char *name)
{
	struct docker_fields c;
	bool found = false;
	size_t i;
	int err = 0;

	docker_builder_reset(&scratch);
	for (i = 0; i < inv->n && !err; i++) {
		docker_container_fields(&inv->v[i], &c);
		if (!strcmp(c.id, id)) {
			found = true;
			if (drop)
				continue;
			if (state)
				snprintf(c.state, sizeof(c.state), "%s", state);
			c.status = status ? status : c.status;
			c.name = name ? name : c.name;
		}
		err = docker_builder_add(&scratch, &c);
	}
	if (!err && !found)
		err = -ENOENT;
	return err ? err : commit(inv, &scratch);
}

int inventory_patch(struct inventory *inv, const char *id, const char *state,
		    const char *status, const char *name)
{
	return rebuild(inv, id, false, state, status, name);
}

int inventory_remove(struct inventory *inv, const char *id)
{
	return rebuild(inv, id, true, NULL, NULL, NULL);
}

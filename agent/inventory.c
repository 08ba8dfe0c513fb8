// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "inventory.h"

void inventory_clear(struct inventory *inv)
{
	docker_containers_free(inv->v, inv->n);
	free(inv->pending);
	memset(inv, 0, sizeof(*inv));
}

int inventory_replace(struct inventory *inv, struct json_object *list)
{
	struct docker_container *v;
	size_t n;
	int err;

	err = docker_containers_parse(list, &v, &n);
	if (err)
		return err;
	docker_containers_free(inv->v, inv->n);
	inv->v = v;
	inv->n = n;
	return 0;
}

static void remove_id(struct inventory *inv, const char *id)
{
	size_t i;

	for (i = 0; i < inv->n; i++) {
		if (!strcmp(inv->v[i].id, id)) {
			docker_container_clear(&inv->v[i]);
			inv->v[i] = inv->v[--inv->n];
			return;
		}
	}
}

/* Takes what @c owns, on success and on failure alike. */
static int upsert(struct inventory *inv, struct docker_container *c)
{
	struct docker_container *v;
	size_t i;

	for (i = 0; i < inv->n; i++) {
		if (!strcmp(inv->v[i].id, c->id)) {
			docker_container_clear(&inv->v[i]);
			inv->v[i] = *c;
			return 0;
		}
	}
	if (inv->n >= DOCKER_MAX_CONTAINERS) {
		docker_container_clear(c);
		return -EMSGSIZE;
	}
	v = realloc(inv->v, (inv->n + 1) * sizeof(*v));
	if (!v) {
		docker_container_clear(c);
		return -ENOMEM;
	}
	inv->v = v;
	inv->v[inv->n++] = *c;
	return 0;
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

int inventory_update(struct inventory *inv, struct json_object *list)
{
	struct docker_container *v;
	size_t i, n;
	int err;

	if (!inv->npending)
		return -EINVAL;
	err = docker_containers_parse(list, &v, &n);
	if (err)
		return err;
	remove_id(inv, inv->pending[0]);
	for (i = 0; i < n; i++) {
		if (!err)
			err = upsert(inv, &v[i]);
		else
			docker_container_clear(&v[i]);
	}
	free(v);
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

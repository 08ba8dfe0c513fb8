// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: what the agent takes from the Docker Engine API's JSON
 * (agent/docker.c). The input is a response body; once json-c has parsed
 * it, every extractor runs on it, as any of them may meet any body when a
 * daemon answers the wrong thing. What they fill must be bounded strings
 * and IDs that are safe to put in a URL.
 */
#include <stdbool.h>

#include "docker.h"
#include "inventory.h"
#include "fuzz.h"

/* As deep as the agent's pooled tokeners go. */
#define FUZZ_JSON_DEPTH	64

static json_tokener *tok;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	tok = json_tokener_new_ex(FUZZ_JSON_DEPTH);
	fuzz_assert(tok);
	return 0;
}

#define bounded(s) fuzz_assert(memchr((s), '\0', sizeof(s)))

static void version(struct json_object *o)
{
	struct docker_version v;

	if (docker_version_parse(o, &v))
		return;
	bounded(v.version);
	bounded(v.api_version);
	bounded(v.os);
	bounded(v.arch);
	docker_api_version_valid(v.api_version);
}

static void info(struct json_object *o)
{
	struct docker_info in;
	const char *l;
	uint32_t pos = 0;
	unsigned int n = 0;

	if (docker_info_parse(json_object_get(o), &in)) {
		fuzz_assert(!in.labels);
		return;
	}
	/* Interned copies, within the bounds of what they were taken from. */
	fuzz_assert(strlen(in.id) < DOCKER_ENGINE_ID_MAX);
	fuzz_assert(in.id[0]);
	fuzz_assert(strlen(docker_info_name(&in)) < DOCKER_NAME_MAX);
	fuzz_assert(strlen(in.server_version) < DOCKER_VERSION_MAX);
	fuzz_assert(in.labels_len <= DOCKER_LABELS_BYTES);
	fuzz_assert(!in.labels == !in.labels_len);
	while (docker_info_label_next(&in, &pos, &l)) {
		fuzz_assert(*l);
		n++;
	}
	fuzz_assert(n == in.nlabels && pos == in.labels_len);
	docker_info_clear(&in);
	fuzz_assert(!in.labels);
}

/* Labels lie in the block, as many as counted, within the bounds. */
static void labels(const struct docker_container *c)
{
	const char *k, *val;
	uint32_t pos = 0;
	unsigned int n = 0;

	fuzz_assert(c->labels_len <= DOCKER_LABELS_BYTES);
	fuzz_assert(!c->nlabels == !c->labels_len);
	while (docker_label_next(c, &pos, &k, &val)) {
		fuzz_assert(*k && strlen(k) < DOCKER_LABEL_KEY_MAX);
		fuzz_assert(strlen(val) < DOCKER_LABEL_VALUE_MAX);
		n++;
	}
	fuzz_assert(pos == c->labels_len && n == c->nlabels);
	fuzz_assert(n <= DOCKER_MAX_LABELS);
}

/*
 * The same answer as a full listing, then as the answer to a targeted
 * refresh of its first container: the engine's inventory ends up with
 * exactly what the answer holds.
 */
static void inventory(struct json_object *o, size_t n)
{
	struct inventory inv = { 0 };
	char id[DOCKER_ID_MAX], filter[256];
	size_t i;

	fuzz_assert(!inventory_replace(&inv, json_object_get(o)));
	fuzz_assert(inv.n == n);
	if (n) {
		docker_container_id(&inv.v[0], id);
		fuzz_assert(!inventory_want(&inv, id));
		/* Asked in a filtered listing, as the engine does. */
		fuzz_assert(inventory_filter(&inv, filter, sizeof(filter)) > 0);
		fuzz_assert(!inventory_update(&inv, json_object_get(o)));
		/* Every container we had is in the answer: all replaced. */
		fuzz_assert(inv.n == n);
		for (i = 0; i < inv.n; i++)
			labels(&inv.v[i]);
	}
	inventory_clear(&inv);
}

static void containers(struct json_object *o)
{
	struct docker_container *v = NULL;
	char id[DOCKER_ID_MAX];
	size_t i, n = 0;

	if (docker_containers_parse(o, &v, &n))
		return;
	fuzz_assert(v);
	fuzz_assert(n <= DOCKER_MAX_CONTAINERS);
	for (i = 0; i < n; i++) {
		fuzz_assert(docker_id_valid(docker_container_id(&v[i], id)));
		fuzz_assert(docker_container_id_is(&v[i], id));
		fuzz_assert(strlen(docker_container_name(&v[i])) <
			    DOCKER_NAME_MAX);
		fuzz_assert(strlen(docker_container_image(&v[i])) <
			    DOCKER_NAME_MAX);
		fuzz_assert(strlen(docker_container_image_id(&v[i])) <
			    DOCKER_IMAGE_ID_MAX);
		fuzz_assert(strlen(docker_container_command(&v[i])) <
			    DOCKER_COMMAND_MAX);
		fuzz_assert(strlen(docker_container_status(&v[i])) <
			    DOCKER_STATUS_MAX);
		fuzz_assert(strlen(docker_container_state(&v[i])) <
			    DOCKER_STATE_MAX);
		labels(&v[i]);
	}
	docker_containers_free(v, n);
	inventory(o, n);
}

static void event(struct json_object *o)
{
	struct docker_event ev;

	if (docker_event_parse(o, &ev))
		return;
	bounded(ev.type);
	bounded(ev.action);
	bounded(ev.id);
	/* Events without a Type are the old shape: containers. */
	fuzz_assert(ev.type[0]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct json_object *o;
	size_t i;

	if (size > INT32_MAX)
		return 0;
	json_tokener_reset(tok);
	o = json_tokener_parse_ex(tok, (const char *)data, (int)size);
	if (!o)
		return 0;

	version(o);
	info(o);
	containers(o);
	event(o);
	/* The elements of a list, too: an events body is many objects. */
	if (json_object_is_type(o, json_type_array))
		for (i = 0; i < json_object_array_length(o) && i < 64; i++)
			event(json_object_array_get_idx(o, i));
	json_object_put(o);
	return 0;
}

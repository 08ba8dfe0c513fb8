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
	size_t i;

	if (docker_info_parse(o, &in)) {
		fuzz_assert(!in.labels);
		return;
	}
	bounded(in.id);
	fuzz_assert(in.id[0]);
	bounded(in.name);
	bounded(in.server_version);
	if (in.labels) {
		fuzz_assert(json_object_is_type(in.labels, json_type_array));
		for (i = 0; i < json_object_array_length(in.labels); i++)
			json_object_get_string(json_object_array_get_idx(in.labels, i));
	}
	docker_info_clear(&in);
	fuzz_assert(!in.labels);
}

static void containers(struct json_object *o)
{
	struct docker_container *v = NULL;
	size_t i, n = 0;

	if (docker_containers_parse(o, &v, &n))
		return;
	fuzz_assert(v);
	fuzz_assert(n <= DOCKER_MAX_CONTAINERS);
	for (i = 0; i < n; i++) {
		bounded(v[i].id);
		fuzz_assert(docker_id_valid(v[i].id));
		bounded(v[i].name);
		bounded(v[i].image);
		bounded(v[i].state);
	}
	docker_containers_free(v, n);
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

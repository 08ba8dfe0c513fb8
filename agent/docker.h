/* SPDX-License-Identifier: GPL-2.0 */
#ifndef PEERWATCH_DOCKER_H
#define PEERWATCH_DOCKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <json-c/json.h>

/*
 * The parts of the Docker Engine API's JSON that peerwatch keeps, taken
 * from untrusted bytes: every string bounded, every type checked.
 */
#define DOCKER_ID_MAX		65	/* 64 hex digits */
#define DOCKER_ENGINE_ID_MAX	128
#define DOCKER_NAME_MAX		256
#define DOCKER_VERSION_MAX	64
#define DOCKER_STATE_MAX	16
#define DOCKER_MAX_CONTAINERS	100000

struct docker_version {
	char version[DOCKER_VERSION_MAX];
	char api_version[DOCKER_VERSION_MAX];
	char os[DOCKER_VERSION_MAX];
	char arch[DOCKER_VERSION_MAX];
};

struct docker_info {
	char id[DOCKER_ENGINE_ID_MAX];
	char name[DOCKER_NAME_MAX];
	char server_version[DOCKER_VERSION_MAX];
	int64_t ncpu;
	int64_t mem_total;
	struct json_object *labels;	/* array of "k=v" strings, owned */
};

struct docker_container {
	char id[DOCKER_ID_MAX];
	char name[DOCKER_NAME_MAX];
	char image[DOCKER_NAME_MAX];
	char state[DOCKER_STATE_MAX];
};

struct docker_event {
	char type[DOCKER_STATE_MAX];
	char action[DOCKER_NAME_MAX];
	char id[DOCKER_ID_MAX];
};

/* A container ID we can put in a URL: 1..64 lowercase hex digits. */
bool docker_id_valid(const char *id);
/* An Api-Version header value: digits '.' digits. */
bool docker_api_version_valid(const char *v);

int docker_version_parse(struct json_object *o, struct docker_version *v);
/* On success @info->labels holds a reference; docker_info_clear() drops it. */
int docker_info_parse(struct json_object *o, struct docker_info *info);
void docker_info_clear(struct docker_info *info);
/* Fills a new array (free() it) of *n entries from /containers/json. */
int docker_containers_parse(struct json_object *o,
			    struct docker_container **out, size_t *n);
/* Old (status/id) and new (Type/Action/Actor) event shapes. */
int docker_event_parse(struct json_object *o, struct docker_event *ev);

#endif

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
#define DOCKER_IMAGE_ID_MAX	80	/* "sha256:" and 64 hex digits */
#define DOCKER_COMMAND_MAX	256	/* longer ones are cut, as docker ps does */
#define DOCKER_STATUS_MAX	64

/*
 * A container's labels, bounded: more than DOCKER_MAX_LABELS, a key or a
 * value too long, or more than DOCKER_LABELS_BYTES in all, and the labels
 * beyond are dropped and counted (labels_dropped), not the listing.
 */
#define DOCKER_MAX_LABELS	64
#define DOCKER_LABEL_KEY_MAX	256
#define DOCKER_LABEL_VALUE_MAX	1024
#define DOCKER_LABELS_BYTES	16384

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
	char image_id[DOCKER_IMAGE_ID_MAX];
	char command[DOCKER_COMMAND_MAX];
	char status[DOCKER_STATUS_MAX];	/* as of the listing: "Up 2 hours" */
	int64_t created;		/* Unix seconds */
	char *labels;		/* "key\0value\0" pairs, owned; NULL: none */
	uint32_t labels_len;
	uint16_t nlabels;
	uint16_t labels_dropped;	/* over the bounds above */
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
/*
 * Fills a new array of *n entries from /containers/json; free it with
 * docker_containers_free().
 */
int docker_containers_parse(struct json_object *o,
			    struct docker_container **out, size_t *n);
void docker_containers_free(struct docker_container *v, size_t n);
/* Drops what @c owns (its labels). */
void docker_container_clear(struct docker_container *c);
/*
 * The labels of @c one by one: start with *pos = 0; returns false after
 * the last. @key and @value point into @c.
 */
bool docker_label_next(const struct docker_container *c, uint32_t *pos,
		       const char **key, const char **value);
/* Whether @c has label @want: "key" (any value) or "key=value". */
bool docker_container_has_label(const struct docker_container *c,
				const char *want);
/* Old (status/id) and new (Type/Action/Actor) event shapes. */
int docker_event_parse(struct json_object *o, struct docker_event *ev);

#endif

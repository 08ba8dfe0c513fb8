/* SPDX-License-Identifier: GPL-2.0 */
#ifndef PEERWATCH_DOCKER_H
#define PEERWATCH_DOCKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <json-c/json.h>

#include "strbuf.h"

/*
 * The parts of the Docker Engine API's JSON that peerwatch keeps, taken
 * from untrusted bytes: every string bounded, every type checked.
 */
#define DOCKER_PING_PATH	"/_ping"	/* unversioned, as docker does */
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

/*
 * The part of /info kept. Its strings are bounded as DOCKER_ENGINE_ID_MAX,
 * DOCKER_NAME_MAX and DOCKER_VERSION_MAX say. The ID and the name, an
 * engine's own, share one allocation; the version and the labels are
 * interned (intern.h): engines of one fleet repeat them. They are never
 * NULL ("" when absent), but labels, NULL when there are none.
 */
struct docker_info {
	const char *id;			/* and the name after it */
	const char *server_version;
	const char *labels;		/* "k=v\0" each */
	int64_t ncpu;
	int64_t mem_total;
	uint32_t labels_len;
	uint16_t nlabels;
	uint16_t labels_dropped;	/* over the labels' bounds above */
};

/*
 * A container as an engine lists it, or as it is changed: what
 * docker_builder_add() takes and docker_container_fields() gives back. The
 * strings are never NULL ("" when absent), except labels, NULL when there
 * are none.
 */
struct docker_fields {
	char id[DOCKER_ID_MAX];
	char state[DOCKER_STATE_MAX];
	int64_t created;		/* Unix seconds */
	const char *name;		/* without Docker's leading '/' */
	const char *image;
	const char *image_id;
	const char *command;		/* cut to DOCKER_COMMAND_MAX - 1 */
	const char *status;		/* as of the listing: "Up 2 hours" */
	const char *labels;		/* "key\0value\0" pairs */
	uint32_t labels_len;
	uint16_t nlabels;
	uint16_t labels_dropped;	/* over the bounds above */
};

/*
 * Docker's states (and podman's, which uses the same words). A listing is
 * kept with any state: one not among these is kept as text (in the
 * block, after the name) and shown as given.
 */
enum docker_state {
	DOCKER_STATE_NONE,		/* absent: "" */
	DOCKER_STATE_CREATED,
	DOCKER_STATE_RESTARTING,
	DOCKER_STATE_RUNNING,
	DOCKER_STATE_REMOVING,
	DOCKER_STATE_PAUSED,
	DOCKER_STATE_EXITED,
	DOCKER_STATE_DEAD,
	DOCKER_STATE_OTHER,
};

#define DOCKER_ID_BYTES		32	/* two hex digits a byte */

/*
 * A container in an engine's inventory, packed: thousands of engines
 * hold tens of them each. The ID's hex digits are kept two a byte with
 * their count (every ID docker_id_valid() takes, 64 digits or fewer);
 * the name (and a state not in enum docker_state) lives in the block
 * after the array, @name bytes from the record; the other strings are
 * interned. Read it with the functions below, never copy it out of its
 * block.
 */
struct docker_container {
	int64_t created;		/* Unix seconds */
	uint8_t id[DOCKER_ID_BYTES];
	/*
	 * Interned (intern.h): its image, image ID and command, each with
	 * its NUL, then its labels ("key\0value\0" pairs, labels_len bytes),
	 * which a service's containers share; its status, which moves on.
	 */
	uint32_t shape;
	uint32_t status;
	uint32_t name;			/* offset from the record */
	uint16_t labels_len;
	uint16_t labels_dropped;
	uint8_t id_len;			/* hex digits */
	uint8_t state;			/* enum docker_state */
	uint8_t nlabels;
};

/* Its ID as text, in @buf (DOCKER_ID_MAX bytes), which is returned. */
const char *docker_container_id(const struct docker_container *c, char *buf);
/* Whether its ID is @id, or begins with @prefix (text). */
bool docker_container_id_is(const struct docker_container *c, const char *id);
bool docker_container_id_has_prefix(const struct docker_container *c,
				    const char *prefix);
/* The order of the IDs as text (strcmp()'s). */
int docker_container_id_cmp(const struct docker_container *a,
			    const struct docker_container *b);
const char *docker_container_state(const struct docker_container *c);
const char *docker_container_name(const struct docker_container *c);
const char *docker_container_image(const struct docker_container *c);
const char *docker_container_image_id(const struct docker_container *c);
const char *docker_container_command(const struct docker_container *c);
const char *docker_container_status(const struct docker_container *c);
/*
 * What docker_builder_add() takes to lay @c out again: the strings point
 * into @c's block (and the intern table), valid while @c is.
 */
void docker_container_fields(const struct docker_container *c,
			     struct docker_fields *f);

/*
 * Lists of containers are built here and then laid out in one block: the
 * array, then every name (and state not in enum docker_state) it refers
 * to; the other strings, which engines repeat, are interned. An engine's
 * whole inventory is thus one allocation, made once the listing's JSON
 * tree is gone, so that long-lived memory is not scattered among the
 * tree's many small pieces (which would keep their pages resident after
 * the tree is freed).
 * A builder's buffers are reused from one list to the next.
 */
struct docker_entry;
struct docker_builder {
	struct docker_entry *v;
	size_t n, cap;
	struct strbuf text;		/* the strings; offset 0 is "" */
};

/* Empties the builder, keeping its buffers. */
void docker_builder_reset(struct docker_builder *b);
/* Frees what the builder keeps between lists. */
void docker_builder_release(struct docker_builder *b);
/* Bytes the builder keeps allocated between lists. */
size_t docker_builder_footprint(const struct docker_builder *b);
/*
 * Adds every container of a /containers/json answer (@o, not consumed).
 * On error nothing is added: -EPROTO (malformed), -EMSGSIZE (too many),
 * -ENOMEM.
 */
int docker_builder_parse(struct docker_builder *b, struct json_object *o);
/*
 * Adds a copy of @c: -EPROTO if its ID is not valid or a string or its
 * labels are over the bounds a listing keeps to.
 */
int docker_builder_add(struct docker_builder *b,
		       const struct docker_fields *c);
size_t docker_builder_count(const struct docker_builder *b);
const char *docker_builder_id(const struct docker_builder *b, size_t i);
/*
 * Lays what was added out in one block: *@v, the old list of *@n (reused
 * if it fits, else freed: it must not be used after; free the new one
 * with docker_containers_free()) and *@n. The strings containers share
 * across engines are interned, not copied (intern.h).
 * On error *@v and *@n are untouched. Else the builder is then empty.
 */
int docker_builder_finish(struct docker_builder *b,
			  struct docker_container **v, size_t *n);

/*
 * A container event. dockerd appends to some actions what they ran or
 * found ("exec_start: /bin/sh -c ...", "health_status: healthy"): the
 * action is cut to fit rather than refused. Attributes that are absent,
 * not strings or over bounds are left empty: they never break a stream.
 */
struct docker_event {
	char type[DOCKER_STATE_MAX];
	char action[DOCKER_NAME_MAX];
	char id[DOCKER_ID_MAX];
	char name[DOCKER_NAME_MAX];	/* Attributes.name, without '/' */
	char health[DOCKER_STATE_MAX];	/* podman's Attributes.health_status */
	int exit_code;			/* Attributes.exitCode; -1: none */
};

/* A container ID we can put in a URL: 1..64 lowercase hex digits. */
bool docker_id_valid(const char *id);
/* An Api-Version header value: digits '.' digits. */
bool docker_api_version_valid(const char *v);

int docker_version_parse(struct json_object *o, struct docker_version *v);
/*
 * Takes @o: the tree is freed before the labels are copied out (see
 * docker_builder). Labels are bounded as a container's are (a "k=v"
 * string counts as key and value); docker_info_clear() frees them.
 */
int docker_info_parse(struct json_object *o, struct docker_info *info);
/* The name: right after the ID ("" after an empty one too). */
static inline const char *docker_info_name(const struct docker_info *info)
{
	return info->id + strlen(info->id) + 1;
}

/* The ID and the name of @info, replaced by copies: 0, or -ENOMEM. */
int docker_info_set_names(struct docker_info *info, const char *id,
			  const char *name);
/* Empty: every string "". docker_info_clear() empties it too. */
void docker_info_init(struct docker_info *info);
void docker_info_clear(struct docker_info *info);
/* The engine's labels one by one ("k=v"): start with *pos = 0. */
bool docker_info_label_next(const struct docker_info *info, uint32_t *pos,
			    const char **label);
/*
 * Parses /containers/json into a new block of *n entries (one allocation,
 * see docker_builder); free it with docker_containers_free().
 */
int docker_containers_parse(struct json_object *o,
			    struct docker_container **out, size_t *n);
/* Frees a block of @n (its references to interned strings, then itself). */
void docker_containers_free(struct docker_container *v, size_t n);
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

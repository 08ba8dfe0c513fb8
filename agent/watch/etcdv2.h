/* SPDX-License-Identifier: GPL-2.0 */
#ifndef PEERWATCH_ETCDV2_H
#define PEERWATCH_ETCDV2_H

#include <stdbool.h>
#include <stdint.h>
#include <json-c/json.h>

/*
 * etcd's v2 keyspace as Swarm's discovery left it: `swarm join
 * --advertise=ADDR etcd://H:P/PATH` (libkv's etcd store) sets
 * PATH/docker/swarm/nodes/ADDR to "ADDR" with a TTL and sets it again
 * every heartbeat; Swarm's manager takes the values, not the key names.
 *
 * The engines found are kept in @nodes, a JSON object: each direct child
 * key of the directory mapped to its address (a string). Everything
 * else under the directory (deeper keys, child directories) is ignored.
 */

#define ETCDV2_MAX_KEY		1024
#define ETCDV2_MAX_DIR		160	/* fits a request path with its query */

void etcdv2_clear(struct json_object *nodes);

/* A bad entry, skipped: @key may be NULL. */
typedef void (*etcdv2_warn_fn)(void *arg, const char *key, const char *why);

/*
 * The answer of a recursive GET of @dir: @nodes (emptied first) holds its
 * engines, bad entries reported and skipped. 0, or -EPROTO with @why when
 * it is not etcd v2's listing of a directory.
 */
int etcdv2_parse_list(struct json_object *ans, const char *dir,
		      struct json_object *nodes, etcdv2_warn_fn warn,
		      void *arg, const char **why);

/*
 * One event of a recursive watch of @dir, applied to @nodes. *@index is
 * the event's modifiedIndex; *@relist is set when the directory itself
 * or one above it changed, after which @nodes can only be read again
 * whole. 0, or -EPROTO with @why when it is not an etcd v2 event.
 */
int etcdv2_apply_event(struct json_object *ev, const char *dir,
		       struct json_object *nodes, uint64_t *index,
		       bool *relist, etcdv2_warn_fn warn, void *arg,
		       const char **why);

#endif

/* SPDX-License-Identifier: GPL-2.0 */
#ifndef PEERWATCH_FACADE_H
#define PEERWATCH_FACADE_H

/*
 * The Docker Engine API façade's routes (1.41, with or without the /vX.Y
 * prefix): the fleet as one read-only daemon, for the docker CLI.
 * /_ping, /version, /info, /containers/json, /containers/{id}/json
 * (forwarded to the engine that owns it, forward.c) and /events (every
 * engine's, merged, with a ring for since=). The answers are built by
 * dockerapi*.c; the rows are in routes.c; @router is the struct facade.
 */
#include <json-c/json.h>

#include "apireq.h"
#include "server.h"

struct engine;
struct facade;
struct fleet;

/* dockerd's headers and {"message": ...} errors. */
extern const struct server_dialect facade_dialect;

int facade_new(struct facade **fp, struct fleet *f);
void facade_free(struct facade *fc);

int facade_ping(void *router, struct server_client *c,
		const struct api_req *r);
int facade_version(void *router, struct server_client *c,
		   const struct api_req *r);
int facade_info(void *router, struct server_client *c,
		const struct api_req *r);
int facade_containers(void *router, struct server_client *c,
		      const struct api_req *r);
int facade_inspect(void *router, struct server_client *c,
		   const struct api_req *r);
int facade_events(void *router, struct server_client *c,
		  const struct api_req *r);

/* An engine's event, @raw as it came: to the /events readers, and kept. */
void facade_event(struct facade *fc, const struct engine *e,
		  struct json_object *raw);

#endif

/* SPDX-License-Identifier: GPL-2.0 */
#ifndef PEERWATCH_V1_H
#define PEERWATCH_V1_H

/*
 * peerwatch's own API, HTTP/1.1 + JSON, GET only:
 *
 *   GET /v1/nodes           ?state=S &label=K[=V]...
 *   GET /v1/nodes/{addr|id|name}
 *   GET /v1/containers      ?node=N &state=S &label=K[=V]... &name=PART
 *                           (label: the container's labels, as its engine
 *                           last listed them)
 *   GET /v1/events          chunked JSON lines, as transitions happen
 *   GET /v1/summary         counts and the latest transitions (peerwatch top)
 *   GET /metrics            Prometheus text
 *
 * The routes are rows of routes.c; @router is the struct v1.
 */
#include "apireq.h"
#include "engine.h"

struct fleet;
struct metrics;
struct server_client;
struct v1;

int v1_new(struct v1 **vp, const struct fleet *f, struct metrics *m);
void v1_free(struct v1 *v);

int v1_nodes(void *router, struct server_client *c, const struct api_req *r);
int v1_node(void *router, struct server_client *c, const struct api_req *r);
int v1_containers(void *router, struct server_client *c,
		  const struct api_req *r);
int v1_events(void *router, struct server_client *c, const struct api_req *r);
int v1_summary(void *router, struct server_client *c,
	       const struct api_req *r);
int v1_metrics(void *router, struct server_client *c,
	       const struct api_req *r);

/* An engine's transition, to the /v1/events readers and /v1/summary. */
void v1_transition(struct v1 *v, const struct engine *e,
		   enum engine_state from);
/* An engine's container event, to the /v1/events readers. */
void v1_container(struct v1 *v, const struct engine *e,
		  const struct docker_event *ev);

#endif

/* SPDX-License-Identifier: GPL-2.0 */
#ifndef PEERWATCH_ROUTES_H
#define PEERWATCH_ROUTES_H

/*
 * Every route of the control API in one table (routes.c): peerwatch's own
 * (/v1/..., /metrics; v1.c) and the Docker Engine API façade's (facade.c).
 * A row gives the path, the label it is counted under in /metrics, and
 * its handler; the table gives the façade's 404 its list of what it
 * serves. A new endpoint is a row and its handler.
 */
#include <stdbool.h>

#include "apireq.h"

struct facade;
struct metrics;
struct routes;
struct server_client;
struct v1;

enum route_api {
	ROUTE_V1,		/* peerwatch's own: GET, {"error": ...} */
	ROUTE_DOCKER,		/* the façade: dockerd's ways and errors */
};

struct route {
	enum route_api api;
	const char *path;	/* see api_req_match() */
	const char *label;	/* peerwatch_api_requests_total{route=} */
	bool head;		/* HEAD allowed too (the façade's) */
	/* @router: the struct v1 or struct facade the route's api has. */
	int (*fn)(void *router, struct server_client *c,
		  const struct api_req *r);
};

/*
 * Whose path @r has, and which route it is: @r->docker set (and the
 * façade's /vX.Y prefix taken off), @rp the row or NULL when none of its
 * api's has the path. 0, or 400 with @why for a part that does not decode.
 */
unsigned int route_find(struct api_req *r, const struct route **rp,
			const char **why);

/* The routes of @v1 and @fc (NULL: no façade), counted into @m. */
int routes_new(struct routes **rtp, struct v1 *v1, struct facade *fc,
	       struct metrics *m);
void routes_free(struct routes *rt);
/* A server_ops.answer: @arg is the struct routes. */
int routes_answer(void *arg, struct server_client *c);

#endif

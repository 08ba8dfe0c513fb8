// SPDX-License-Identifier: GPL-2.0
/*
 * The control API's routes (see routes.h), and the two routers: /v1/...
 * (and /metrics) is peerwatch's own API; every other path is the Docker
 * Engine API façade's, with or without its /vX.Y prefix, and gets
 * dockerd's headers and error format even when it is refused.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <http_parser.h>

#include "dockerapi.h"
#include "facade.h"
#include "metrics.h"
#include "routes.h"
#include "server.h"
#include "v1.h"

static const struct route routes[] = {
	{ ROUTE_V1, "/v1/nodes", "nodes", false, v1_nodes },
	{ ROUTE_V1, "/v1/nodes/{node}", "node", false, v1_node },
	{ ROUTE_V1, "/v1/containers", "containers", false, v1_containers },
	{ ROUTE_V1, "/v1/events", "events", false, v1_events },
	{ ROUTE_V1, "/v1/summary", "summary", false, v1_summary },
	{ ROUTE_V1, "/metrics", "metrics", false, v1_metrics },
	{ ROUTE_DOCKER, "/_ping", "docker", true, facade_ping },
	{ ROUTE_DOCKER, "/version", "docker", false, facade_version },
	{ ROUTE_DOCKER, "/info", "docker", false, facade_info },
	{ ROUTE_DOCKER, "/containers/json", "docker", false,
	  facade_containers },
	{ ROUTE_DOCKER, "/containers/{id}/json", "docker", false,
	  facade_inspect },
	{ ROUTE_DOCKER, "/events", "docker", false, facade_events },
};

#define NROUTES		(sizeof(routes) / sizeof(routes[0]))

/* What each api says of what none of its routes has. */
static const struct {
	const char *label;
	const char *bad_part;
} apis[] = {
	[ROUTE_V1] = { "other", "bad node name in the path" },
	[ROUTE_DOCKER] = { "docker", "bad container name in the path" },
};

struct routes {
	struct v1 *v1;
	struct facade *fc;		/* NULL: --no-docker-api */
	char served[256];		/* the façade's paths, for its 404 */
};

/* peerwatch's own: under /v1/, and its rows elsewhere (/metrics). */
static bool is_v1(struct api_req *r)
{
	size_t i;

	if (!strncmp(r->path, "/v1/", 4) || !strcmp(r->path, "/v1"))
		return true;
	for (i = 0; i < NROUTES; i++)
		if (routes[i].api == ROUTE_V1 &&
		    api_req_match(r, routes[i].path) != -ENOENT)
			return true;
	return false;
}

unsigned int route_find(struct api_req *r, const struct route **rp,
			const char **why)
{
	enum route_api api = ROUTE_V1;
	size_t i;
	int err;

	*rp = NULL;
	r->docker = !is_v1(r);
	r->ref = NULL;
	if (r->docker) {
		api = ROUTE_DOCKER;
		api_req_unversion(r);
	}
	for (i = 0; i < NROUTES; i++) {
		if (routes[i].api != api)
			continue;
		err = api_req_match(r, routes[i].path);
		if (err == -ENOENT)
			continue;
		if (err) {
			*why = apis[api].bad_part;
			return 400;
		}
		*rp = &routes[i];
		return 0;
	}
	return 0;
}

/* peerwatch's own routes. */
static int answer_v1(struct routes *rt, struct server_client *c,
		     const struct api_req *r, const struct route *row)
{
	if (c->rq.method != HTTP_GET)
		return server_respond_error(c, 405, "only GET");
	if (c->rq.has_body)
		return server_respond_error(c, 413,
					    "a request has no body here");
	if (!row)
		return server_respond_error(c, 404, "no such endpoint");
	c->label = row->label;
	return row->fn(rt->v1, c, r);
}

/* The Docker Engine API façade. */
static int answer_docker(struct routes *rt, struct server_client *c,
			 const struct api_req *r, const struct route *row)
{
	char why[512];
	unsigned int st;

	if (!rt->fc)
		return server_respond_error(c, 404, "peerwatchd: the Docker Engine API is off here (--no-docker-api); the control API is under /v1/");
	st = dockerapi_check_version(r, why, sizeof(why));
	if (st)
		return server_respond_error(c, st, why);
	if (r->method == METHOD_OTHER) {
		snprintf(why, sizeof(why), "peerwatchd is a read-only view of the fleet: %s %s would change an engine; send it to that engine's own daemon",
			 r->method_name, r->path);
		return server_respond_error(c, 403, why);
	}
	if (c->head && (!row || !row->head))
		return server_respond_error(c, 405,
					    "peerwatchd: HEAD is for /_ping only");
	if (!row) {
		snprintf(why, sizeof(why), "peerwatchd: GET %.200s is not served: the read-only fleet has %s",
			 r->path, rt->served);
		return server_respond_error(c, 404, why);
	}
	c->label = row->label;
	return row->fn(rt->fc, c, r);
}

int routes_answer(void *arg, struct server_client *c)
{
	struct routes *rt = arg;
	const struct route *row = NULL;
	struct api_req *r;
	const char *why = NULL;
	unsigned int st;
	int err;

	r = malloc(sizeof(*r));
	if (!r)
		return -ENOMEM;
	st = api_req_parse(r, c->rq.url, c->rq.url_len, c->rq.method, &why);
	/* A path known, even with a bad query: whose error it is. */
	if (r->path[0]) {
		unsigned int found = route_find(r, &row, &why);

		st = st ? st : found;
		if (r->docker) {
			c->dialect = &facade_dialect;
			c->label = apis[ROUTE_DOCKER].label;
		}
	}
	if (st)
		err = server_respond_error(c, st, why);
	else if (r->docker)
		err = answer_docker(rt, c, r, row);
	else
		err = answer_v1(rt, c, r, row);
	free(r);
	return err;
}

/* "/_ping, /version, ... and /events", from the table. */
static void served_list(struct routes *rt)
{
	size_t i, n = 0, left = 0, len = 0;

	for (i = 0; i < NROUTES; i++)
		n += routes[i].api == ROUTE_DOCKER;
	for (i = 0; i < NROUTES; i++) {
		if (routes[i].api != ROUTE_DOCKER)
			continue;
		left++;
		len += (size_t)snprintf(rt->served + len,
					sizeof(rt->served) - len, "%s%s",
					left == 1 ? "" : left == n ? " and " : ", ",
					routes[i].path);
		if (len >= sizeof(rt->served))
			break;
	}
}

int routes_new(struct routes **rtp, struct v1 *v1, struct facade *fc,
	       struct metrics *m)
{
	struct routes *rt;
	size_t i;
	int err = 0;

	rt = calloc(1, sizeof(*rt));
	if (!rt)
		return -ENOMEM;
	rt->v1 = v1;
	rt->fc = fc;
	served_list(rt);
	/* Counted in the table's order, then what no route took. */
	for (i = 0; i < NROUTES && !err; i++)
		err = metrics_route_add(m, routes[i].label);
	if (!err)
		err = metrics_route_add(m, apis[ROUTE_V1].label);
	if (err) {
		free(rt);
		return err;
	}
	*rtp = rt;
	return 0;
}

void routes_free(struct routes *rt)
{
	free(rt);
}

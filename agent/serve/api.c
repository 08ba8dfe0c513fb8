// SPDX-License-Identifier: GPL-2.0
/*
 * The control API, wired: HTTP/1.1 + JSON on a UNIX socket (and
 * optionally TCP), one request per connection, served by the agent's own
 * loop. server.c is the HTTP server; routes.c the table of routes, for
 * peerwatch's own API (v1.c) and the Docker Engine API façade (facade.c);
 * metrics.c what /metrics counts. The fleet's transitions and engine
 * events reach the event streams, and the --on-transition hook (hook.c),
 * from here.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "facade.h"
#include "fleet.h"
#include "hook.h"
#include "hostport.h"
#include "metrics.h"
#include "routes.h"
#include "server.h"
#include "v1.h"

struct api {
	struct fleet *fleet;
	struct metrics *metrics;
	struct v1 *v1;
	struct facade *facade;		/* NULL: --no-docker-api */
	struct hook *hook;		/* NULL: no --on-transition */
	struct routes *routes;
	struct server *server;
	struct server_cfg server_cfg;
	struct server_ops ops;
	struct sockaddr_storage listen;
	struct engine_observer observer;
};

int api_listen_addr(const char *s, bool any, struct sockaddr_storage *ss,
		    socklen_t *len, const char **why)
{
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
	char host[256];
	uint16_t port;
	bool loopback;

	memset(ss, 0, sizeof(*ss));
	if (hostport_parse(s, host, sizeof(host), &port, why))
		return -EINVAL;
	if (!strcmp(host, "localhost"))
		strcpy(host, "127.0.0.1");
	if (inet_pton(AF_INET, host, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		*len = sizeof(*s4);
		loopback = (ntohl(s4->sin_addr.s_addr) >> 24) == 127;
	} else if (inet_pton(AF_INET6, host, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		*len = sizeof(*s6);
		loopback = IN6_IS_ADDR_LOOPBACK(&s6->sin6_addr);
	} else {
		*why = "an IP address (or localhost) is needed";
		return -EINVAL;
	}
	if (!loopback && !any) {
		*why = "not a loopback address: the API has no authentication; add --api-listen-any to mean it";
		return -EINVAL;
	}
	return 0;
}

static void on_transition(void *arg, const struct engine *e,
			  enum engine_state from)
{
	struct api *a = arg;

	metrics_transition(a->metrics, e, from);
	v1_transition(a->v1, e, from);
	if (a->hook)
		hook_transition(a->hook, e, from);
}

static void on_container(void *arg, const struct engine *e,
			 const struct docker_event *ev, struct json_object *raw)
{
	struct api *a = arg;

	if (a->facade)
		facade_event(a->facade, e, raw);
	v1_container(a->v1, e, ev);
}

int api_new(struct api **ap, struct loop *loop, struct fleet *fleet,
	    const struct kevents *kev, const struct api_cfg *cfg,
	    const char **why)
{
	struct api *a;
	int err;

	a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	a->fleet = fleet;
	a->server_cfg.socket = cfg->socket;
	a->server_cfg.max_clients = cfg->max_clients;
	if (cfg->listen) {
		*why = "--api-listen";
		err = api_listen_addr(cfg->listen, cfg->listen_any, &a->listen,
				      &a->server_cfg.listen_len, why);
		if (err)
			goto err;
		a->server_cfg.listen = &a->listen;
	}
	*why = "metrics";
	err = metrics_new(&a->metrics, loop, fleet, kev);
	if (!err && cfg->hook.cmd) {
		*why = "--on-transition";
		err = hook_new(&a->hook, loop, &cfg->hook);
		if (!err)
			a->metrics->hook = hook_stats(a->hook);
		*why = "metrics";
	}
	if (!err)
		err = v1_new(&a->v1, fleet, a->metrics);
	if (!err && !cfg->no_docker)
		err = facade_new(&a->facade, fleet);
	if (!err)
		err = routes_new(&a->routes, a->v1, a->facade, a->metrics);
	if (err)
		goto err;
	a->ops.answer = routes_answer;
	a->ops.arg = a->routes;
	err = server_new(&a->server, loop, a->metrics, &a->server_cfg, &a->ops,
			 why);
	if (err)
		goto err;
	a->observer.transition = on_transition;
	a->observer.container = on_container;
	a->observer.arg = a;
	fleet->env.observer = &a->observer;
	*ap = a;
	return 0;

err:
	api_free(a);
	return err;
}

void api_free(struct api *a)
{
	if (!a)
		return;
	if (a->fleet->env.observer == &a->observer)
		a->fleet->env.observer = NULL;
	/* The clients first: they hold the streams and forwards. */
	server_free(a->server);
	routes_free(a->routes);
	facade_free(a->facade);
	v1_free(a->v1);
	hook_free(a->hook);
	metrics_free(a->metrics);
	free(a);
}

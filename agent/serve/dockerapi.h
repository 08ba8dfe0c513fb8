/* SPDX-License-Identifier: GPL-2.0 */
#ifndef PEERWATCH_DOCKERAPI_H
#define PEERWATCH_DOCKERAPI_H

/*
 * The Docker Engine API façade: the fleet as one read-only daemon, as
 * classic Swarm's manager showed it to the docker CLI. Everything here is
 * built from what the agent holds in memory; facade.c answers with it,
 * forward.c does the one thing that asks an engine (inspect).
 */
#include <stdbool.h>
#include <stdint.h>
#include <json-c/json.h>

#include "apireq.h"
#include "strbuf.h"

struct engine;
struct fleet;
struct docker_container;

#ifndef PEERWATCH_VERSION
#define PEERWATCH_VERSION "unknown"
#endif
#define DOCKERAPI_SERVER	"peerwatchd"

/* The headers of every façade answer, as dockerd's: "Name: value\r\n"... */
#define DOCKERAPI_HEADERS \
	"Api-Version: " DOCKERAPI_VERSION "\r\n" \
	"Docker-Experimental: false\r\n" \
	"Ostype: linux\r\n" \
	"Server: " DOCKERAPI_SERVER "/" PEERWATCH_VERSION " (linux)\r\n"

/*
 * The API version of the request (its /vX.Y prefix) against what the
 * façade speaks: 0, or 400 with dockerd's message in @why.
 */
unsigned int dockerapi_check_version(const struct api_req *r, char *why,
				     size_t len);

/* The name the façade gives an engine: its own, or its address. */
const char *dockerapi_node_name(const struct engine *e);
/* How long ago wall-clock @since_ms was: "30s", "5m", "3h". */
void dockerapi_age(uint64_t since_ms, char *buf, size_t len);

static inline void dockerapi_add_str(struct json_object *o, const char *k,
				     const char *v)
{
	json_object_object_add(o, k, json_object_new_string(v));
}

static inline void dockerapi_add_int(struct json_object *o, const char *k,
				     int64_t v)
{
	json_object_object_add(o, k, json_object_new_int64(v));
}

struct json_object *dockerapi_version(const struct fleet *f);
/*
 * GET /info a batch at a time (server_respond_more()): each
 * dockerapi_info_more() appends about DOCKERAPI_BATCH bytes, the last
 * sets *@done; with @newline, the body ends in one, as dockerd's.
 */
#define DOCKERAPI_BATCH	(16 * 1024)
struct dockerapi_info;
int dockerapi_info_new(struct dockerapi_info **ip, const struct fleet *f,
		       bool newline);
int dockerapi_info_more(void *info, struct strbuf *out, bool *done);
void dockerapi_info_free(void *info);

/*
 * GET /containers/json with all, limit and filters: 0, or -EINVAL with
 * the reason in @why (a 400), or -ENOMEM. The containers are selected
 * and sorted at once (24 bytes each: where they are, the start of their
 * ID), then written a batch at a time by dockerapi_list_more() as
 * dockerapi_info_more() does /info.
 */
struct dockerapi_list;
int dockerapi_list_new(struct dockerapi_list **lp, const struct fleet *f,
		       const struct api_req *r, bool newline, char *why,
		       size_t len);
int dockerapi_list_more(void *list, struct strbuf *out, bool *done);
void dockerapi_list_free(void *list);

/*
 * The container @ref names: a full ID, "NODE/NAME" (with or without the
 * leading slash), a name alone if only one engine has it, or a unique ID
 * prefix. 0 with the engine and container found; otherwise the status
 * (404, or 500 for an ambiguous prefix, as dockerd) and the message.
 */
unsigned int dockerapi_find(const struct fleet *f, const char *ref,
			    struct engine **e,
			    const struct docker_container **c, char *why,
			    size_t len);

/* What a /events reader asked for. */
struct dockerapi_evq {
	long long since_ns, until_ns;	/* 0: not given */
	struct docker_filters flt;
};

/* 0, or -EINVAL with the reason in @why (a 400). */
int dockerapi_events_query(const struct api_req *r, struct dockerapi_evq *q,
			   uint64_t now_ms, char *why, size_t len);
/*
 * An engine's event, tagged with that engine as Swarm did ("node" and
 * Actor.Attributes node.name, node.addr): a new object, NULL without memory.
 */
struct json_object *dockerapi_event_tag(const struct engine *e,
					struct json_object *raw,
					uint64_t now_ms);
/* The event's timeNano (or time). */
long long dockerapi_event_ns(struct json_object *ev);
/* Whether a tagged event passes @q's filters (not since/until). */
bool dockerapi_event_match(const struct dockerapi_evq *q,
			   struct json_object *ev);

#endif

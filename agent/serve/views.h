/* SPDX-License-Identifier: GPL-2.0 */
#ifndef PEERWATCH_VIEWS_H
#define PEERWATCH_VIEWS_H

#include <stdbool.h>
#include <stdint.h>
#include <json-c/json.h>

#include "engine.h"
#include "strbuf.h"

struct fleet;

#define VIEW_MAX_LABELS	8
#define VIEW_MAX_STATES	8

/*
 * The filters of a request, already decoded; NULL or 0: not given. Each
 * state filter is a list of values given as state=a,b or state=a&state=b;
 * a row matches if its state is any of them.
 */
struct view_filter {
	const char *states[VIEW_MAX_STATES];	/* a node's or a container's */
	unsigned int nstates;
	const char *node_states[VIEW_MAX_STATES];	/* a container's node's */
	unsigned int nnode_states;
	/* "k" or "k=v", all must hold: a node's labels for /v1/nodes, a
	 * container's for /v1/containers */
	const char *labels[VIEW_MAX_LABELS];
	unsigned int nlabels;
	const char *node;		/* address, ID or name */
	const char *name;		/* part of a container name */
	char why[512];			/* of a refusal that names engines */
};

/* Wall-clock ms as RFC 3339 UTC with milliseconds. */
struct json_object *view_time(uint64_t ms);
/*
 * A node as the control API shows it. With @list, "containers" holds its
 * containers; otherwise their number.
 */
struct json_object *view_node(const struct engine *e, bool list);
/*
 * The fleet's traffic into @o: "connections" open now, "requests" and
 * "errors" since the start, as /v1/summary and the state file show them.
 */
void view_traffic(struct json_object *o, const struct fleet *f);
/* The labels of @c as a JSON object. */
struct json_object *view_container_labels(const struct docker_container *c);
/* Whether @e is the node @key names: its address, ID or name. */
bool view_node_is(const struct engine *e, const char *key);
/*
 * The engine @key names: exactly by address, ID or name, else by address
 * without its port or by a prefix of its ID, if only one engine has it.
 * 0; -ENOENT; or -EINVAL, the candidates listed in @why (@len bytes).
 */
int view_node_find(const struct fleet *f, const char *key,
		   const struct engine **out, char *why, size_t len);
/* Whether what the API shows of @e's containers is its last listing. */
bool view_stale(const struct engine *e);

/* The sharing of the fleet with other agents, or NULL when alone. */
struct json_object *view_cluster(const struct fleet *f);
/*
 * What a shared fleet's views show of @addr: our engine, or NULL and
 * another agent's word in *@pv (if *@known).
 */
const struct engine *view_shown(const struct fleet *f, const char *addr,
			       struct fleet_peer_view *pv, bool *known);
/*
 * Engines in each state over the whole fleet (the others' engines as
 * their watchers wrote them); returns how many engines.
 */
size_t view_fleet_count(const struct fleet *f, size_t counts[ENGINE_NSTATES]);
/*
 * The @i-th of the view_fleet_count() engines as the state file lists it
 * (containers), one at a time: the file is written without ever holding
 * the whole fleet as JSON. NULL: out of memory.
 */
struct json_object *view_fleet_node(const struct fleet *f, size_t i);
/*
 * Answers that cover this agent's engines only, while other agents watch
 * the rest (containers, the Docker facade), say so in a header:
 * "Peerwatch-Scope: agent=NAME; engines=HERE; fleet=ALL\r\n" into @buf,
 * or "" when this agent is alone (it watches the whole fleet).
 */
#define VIEW_SCOPE_HEADER	"Peerwatch-Scope"
#define VIEW_SCOPE_MAX		192
void view_scope_header(const struct fleet *f, char *buf, size_t len);

/*
 * The answers of GET /v1/nodes and /v1/containers (a JSON array), built a
 * batch at a time so that a fleet of any size costs one batch of memory
 * and never holds the loop for long. view_cursor_new() checks the filters
 * (copied: @flt may go): 0, or -EINVAL with the reason in @why. Each
 * view_cursor_more() appends the next rows, about VIEW_BATCH bytes, to
 * @out, and the closing bracket with *@done.
 */
#define VIEW_BATCH		(16 * 1024)
#define VIEW_FILTER_MAX		8192	/* bytes of a filter's strings */
struct view_cursor;
int view_cursor_new(struct view_cursor **cp, const struct fleet *f,
		    struct view_filter *flt, bool containers, const char **why);
int view_cursor_more(void *cur, struct strbuf *out, bool *done);
void view_cursor_free(void *cur);

#endif

// SPDX-License-Identifier: GPL-2.0
/*
 * The façade's /events (see dockerapi.h): what a reader asks for, each
 * engine's events tagged with their node as Swarm did, and dockerd's
 * event filters.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "dockerapi.h"
#include "engine.h"

int dockerapi_events_query(const struct api_req *r, struct dockerapi_evq *q,
			   uint64_t now_ms, char *why, size_t len)
{
	static const char *const supported[] = {
		"type", "event", "container", "image", "label", "node", NULL,
	};
	const char *s, *bad = NULL, *msg = NULL;

	(void)now_ms;
	memset(q, 0, offsetof(struct dockerapi_evq, flt.buf));
	s = api_req_param(r, "filters");
	if (docker_filters_parse(s ? s : "", &q->flt, &msg)) {
		snprintf(why, len, "%s", msg);
		return -EINVAL;
	}
	if (!docker_filters_known(&q->flt, supported, &bad)) {
		snprintf(why, len, "invalid filter '%s' (peerwatchd serves type, event, container, image, label and node)",
			 bad);
		return -EINVAL;
	}
	s = api_req_param(r, "since");
	if (s && *s && docker_timestamp_parse(s, &q->since_ns)) {
		snprintf(why, len, "invalid since: %s (want SECONDS[.NANOSECONDS])", s);
		return -EINVAL;
	}
	s = api_req_param(r, "until");
	if (s && *s && docker_timestamp_parse(s, &q->until_ns)) {
		snprintf(why, len, "invalid until: %s (want SECONDS[.NANOSECONDS])", s);
		return -EINVAL;
	}
	if (q->since_ns && q->until_ns && q->until_ns < q->since_ns) {
		snprintf(why, len, "`since` time (%s) cannot be after `until` time",
			 api_req_param(r, "since"));
		return -EINVAL;
	}
	return 0;
}

static const char *get_str(struct json_object *o, const char *k)
{
	struct json_object *v;

	if (!o || !json_object_object_get_ex(o, k, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

struct json_object *dockerapi_event_tag(const struct engine *e,
					struct json_object *raw,
					uint64_t now_ms)
{
	struct json_object *o = NULL, *actor, *attrs, *node;

	if (json_object_deep_copy(raw, &o, NULL) || !o)
		return NULL;
	if (!json_object_object_get_ex(o, "timeNano", NULL) &&
	    !json_object_object_get_ex(o, "time", NULL))
		dockerapi_add_int(o, "timeNano", (int64_t)now_ms * 1000000);
	node = json_object_new_object();
	dockerapi_add_str(node, "ID", e->info.id);
	dockerapi_add_str(node, "Name", dockerapi_node_name(e));
	dockerapi_add_str(node, "Addr", e->addr);
	json_object_object_add(o, "node", node);
	if (json_object_object_get_ex(o, "Actor", &actor) &&
	    json_object_is_type(actor, json_type_object)) {
		if (!json_object_object_get_ex(actor, "Attributes", &attrs) ||
		    !json_object_is_type(attrs, json_type_object)) {
			attrs = json_object_new_object();
			json_object_object_add(actor, "Attributes", attrs);
		}
		dockerapi_add_str(attrs, "node.name", dockerapi_node_name(e));
		dockerapi_add_str(attrs, "node.addr", e->addr);
	}
	return o;
}

long long dockerapi_event_ns(struct json_object *ev)
{
	struct json_object *v;

	if (json_object_object_get_ex(ev, "timeNano", &v) &&
	    json_object_is_type(v, json_type_int))
		return json_object_get_int64(v);
	if (json_object_object_get_ex(ev, "time", &v) &&
	    json_object_is_type(v, json_type_int))
		return json_object_get_int64(v) * 1000000000LL;
	return 0;
}

struct ev_arg {
	struct json_object *ev, *attrs;
	const char *type, *action, *id;
};

static bool match_type(const char *v, const void *arg)
{
	const struct ev_arg *a = arg;

	return a->type && !strcmp(a->type, v);
}

static bool match_event(const char *v, const void *arg)
{
	const struct ev_arg *a = arg;
	size_t n = strlen(v);

	/* "exec_start: sh" is an exec_start. */
	return a->action && !strncmp(a->action, v, n) &&
	       (!a->action[n] || a->action[n] == ':');
}

static bool match_ev_container(const char *v, const void *arg)
{
	const struct ev_arg *a = arg;
	const char *name = get_str(a->attrs, "name");

	if (a->type && strcmp(a->type, "container"))
		return false;
	return (a->id && !strncmp(a->id, v, strlen(v))) ||
	       (name && !strcmp(name, v));
}

static bool match_ev_image(const char *v, const void *arg)
{
	const struct ev_arg *a = arg;
	const char *img = get_str(a->attrs, "image");

	if (!img)
		img = get_str(a->ev, "from");
	return img && !strcmp(img, v);
}

static bool match_ev_node(const char *v, const void *arg)
{
	const struct ev_arg *a = arg;
	struct json_object *node = NULL;
	const char *name, *addr;

	json_object_object_get_ex(a->ev, "node", &node);
	name = get_str(node, "Name");
	addr = get_str(node, "Addr");
	return (name && !strcmp(name, v)) || (addr && !strcmp(addr, v));
}

static bool match_ev_label(const char *want, const void *arg)
{
	const struct ev_arg *a = arg;
	const char *eq = strchr(want, '='), *v;
	char key[DOCKER_FILTERS_BYTES];

	snprintf(key, sizeof(key), "%.*s", eq ? (int)(eq - want) : (int)strlen(want),
		 want);
	v = get_str(a->attrs, key);
	return v && (!eq || !strcmp(v, eq + 1));
}

bool dockerapi_event_match(const struct dockerapi_evq *q,
			   struct json_object *ev)
{
	static const struct docker_filter_key keys[] = {
		{ "type", match_type, false },
		{ "event", match_event, false },
		{ "container", match_ev_container, false },
		{ "image", match_ev_image, false },
		{ "node", match_ev_node, false },
		{ "label", match_ev_label, true },
		{ NULL, NULL, false },
	};
	struct json_object *actor = NULL;
	struct ev_arg a = { .ev = ev };

	a.type = get_str(ev, "Type");
	a.action = get_str(ev, "Action");
	if (json_object_object_get_ex(ev, "Actor", &actor)) {
		a.id = get_str(actor, "ID");
		json_object_object_get_ex(actor, "Attributes", &a.attrs);
	}
	if (!a.type)
		a.type = "container";
	if (!a.action)
		a.action = get_str(ev, "status");
	if (!a.id)
		a.id = get_str(ev, "id");
	return docker_filters_pass(&q->flt, keys, &a);
}

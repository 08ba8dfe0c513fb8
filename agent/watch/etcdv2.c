// SPDX-License-Identifier: GPL-2.0
/*
 * etcd v2's answers (a recursive GET, a watch's events) read into the
 * engines registered under one directory. Everything here comes from the
 * network: types are checked, keys and values bounded, the number of
 * engines capped at DISCOVERY_MAX_ENGINES; a bad entry is reported and
 * skipped, an answer of the wrong shape refused with a reason.
 */
#include <errno.h>
#include <string.h>

#include "discovery.h"
#include "etcdv2.h"
#include "hostport.h"

enum change { CHANGE_SET, CHANGE_DELETE };

static struct json_object *member(struct json_object *o, const char *name,
				  enum json_type type)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, name, &v) ||
	    !json_object_is_type(v, type))
		return NULL;
	return v;
}

/* The name of a direct child of @dir, or NULL. */
static const char *child_name(const char *key, const char *dir)
{
	size_t n = strlen(dir);
	const char *name;

	if (strncmp(key, dir, n) || key[n] != '/')
		return NULL;
	name = key + n + 1;
	return *name && !strchr(name, '/') ? name : NULL;
}

/* @key is @dir or one of the directories above it. */
static bool covers(const char *key, const char *dir)
{
	size_t n = strlen(key);

	if (!strcmp(key, "/"))
		return true;
	return !strncmp(dir, key, n) && (!dir[n] || dir[n] == '/');
}

static const char *key_of(struct json_object *node, const char **why)
{
	struct json_object *k = member(node, "key", json_type_string);
	const char *key;

	if (!k) {
		*why = "a node without a key";
		return NULL;
	}
	key = json_object_get_string(k);
	if (key[0] != '/' || (size_t)json_object_get_string_len(k) > ETCDV2_MAX_KEY ||
	    strlen(key) != (size_t)json_object_get_string_len(k)) {
		*why = "a key that is no etcd key";
		return NULL;
	}
	return key;
}

static bool is_dir(struct json_object *node)
{
	struct json_object *d = member(node, "dir", json_type_boolean);

	return d && json_object_get_boolean(d);
}

/* One engine: its value an address, the fleet not full. */
static void set_engine(struct json_object *nodes, const char *key,
		       struct json_object *node, etcdv2_warn_fn warn,
		       void *arg)
{
	struct json_object *v = member(node, "value", json_type_string);
	const char *why = NULL;
	char host[256];
	uint16_t port;

	json_object_object_del(nodes, key);
	if (!v) {
		warn(arg, key, "no value");
		return;
	}
	if (json_object_get_string_len(v) >= DISCOVERY_MAX_LINE ||
	    strlen(json_object_get_string(v)) !=
	    (size_t)json_object_get_string_len(v)) {
		warn(arg, key, "value too long or not text");
		return;
	}
	if (hostport_parse(json_object_get_string(v), host, sizeof(host), &port,
			   &why)) {
		warn(arg, key, why);
		return;
	}
	if (json_object_object_length(nodes) >= DISCOVERY_MAX_ENGINES) {
		warn(arg, key, "too many engines; this one is ignored");
		return;
	}
	if (json_object_object_add(nodes, key, json_object_get(v)))
		warn(arg, key, "out of memory");
}

void etcdv2_clear(struct json_object *nodes)
{
	struct lh_entry *e, *next;

	for (e = json_object_get_object(nodes)->head; e; e = next) {
		next = e->next;
		json_object_object_del(nodes, (const char *)lh_entry_k(e));
	}
}

int etcdv2_parse_list(struct json_object *ans, const char *dir,
		      struct json_object *nodes, etcdv2_warn_fn warn,
		      void *arg, const char **why)
{
	struct json_object *node = member(ans, "node", json_type_object);
	struct json_object *list;
	const char *key;
	size_t i, n;

	etcdv2_clear(nodes);
	if (!node) {
		*why = "no node in the answer";
		return -EPROTO;
	}
	key = key_of(node, why);
	if (!key)
		return -EPROTO;
	if (strcmp(key, dir) || !is_dir(node)) {
		*why = is_dir(node) ? "the answer is about another key" :
		       "the discovery path is a key, not a directory";
		return -EPROTO;
	}
	/* An empty directory has no "nodes". */
	if (!json_object_object_get_ex(node, "nodes", &list))
		return 0;
	if (!json_object_is_type(list, json_type_array)) {
		*why = "nodes is not a list";
		return -EPROTO;
	}
	n = json_object_array_length(list);
	for (i = 0; i < n; i++) {
		struct json_object *child = json_object_array_get_idx(list, i);
		const char *bad = NULL;

		if (!json_object_is_type(child, json_type_object)) {
			warn(arg, NULL, "an entry that is not a node");
			continue;
		}
		key = key_of(child, &bad);
		if (!key) {
			warn(arg, NULL, bad);
			continue;
		}
		if (is_dir(child) || !child_name(key, dir))
			continue;
		set_engine(nodes, key, child, warn, arg);
	}
	return 0;
}

static int action_of(struct json_object *ev, enum change *c, const char **why)
{
	static const char *const sets[] = {
		"set", "create", "update", "compareAndSwap",
	};
	static const char *const deletes[] = {
		"delete", "expire", "compareAndDelete",
	};
	struct json_object *a = member(ev, "action", json_type_string);
	const char *s;
	size_t i;

	if (!a) {
		*why = "an event without an action";
		return -EPROTO;
	}
	s = json_object_get_string(a);
	for (i = 0; i < sizeof(sets) / sizeof(sets[0]); i++)
		if (!strcmp(s, sets[i])) {
			*c = CHANGE_SET;
			return 0;
		}
	for (i = 0; i < sizeof(deletes) / sizeof(deletes[0]); i++)
		if (!strcmp(s, deletes[i])) {
			*c = CHANGE_DELETE;
			return 0;
		}
	*why = "an event of an unknown action";
	return -EPROTO;
}

int etcdv2_apply_event(struct json_object *ev, const char *dir,
		       struct json_object *nodes, uint64_t *index,
		       bool *relist, etcdv2_warn_fn warn, void *arg,
		       const char **why)
{
	struct json_object *node = member(ev, "node", json_type_object);
	struct json_object *mi;
	enum change c = CHANGE_SET;
	const char *key;
	int64_t idx;

	*relist = false;
	if (action_of(ev, &c, why))
		return -EPROTO;
	if (!node) {
		*why = "an event without a node";
		return -EPROTO;
	}
	key = key_of(node, why);
	if (!key)
		return -EPROTO;
	mi = member(node, "modifiedIndex", json_type_int);
	idx = mi ? json_object_get_int64(mi) : -1;
	if (idx <= 0) {
		*why = "an event without its index";
		return -EPROTO;
	}
	*index = (uint64_t)idx;
	if (covers(key, dir)) {
		*relist = true;
		return 0;
	}
	if (!child_name(key, dir) || is_dir(node))
		return 0;
	if (c == CHANGE_DELETE)
		json_object_object_del(nodes, key);
	else
		set_engine(nodes, key, node, warn, arg);
	return 0;
}

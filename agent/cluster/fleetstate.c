// SPDX-License-Identifier: GPL-2.0
/*
 * The fleet's state in etcd: PREFIX/state/ADDR, what we know of each
 * engine from its watcher (a tsearch tree by address), and our own
 * verdicts written on transitions only, batched into transactions.
 */
#include <errno.h>
#include <search.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster_int.h"
#include "container_of.h"
#include "etcd_msg.h"
#include "fleet.h"
#include "hostport.h"
#include "log.h"

static int rec_cmp(const void *a, const void *b)
{
	return strcmp(((const struct record *)a)->addr,
		      ((const struct record *)b)->addr);
}

struct record *cluster_rec_find(const struct cluster *c, const char *addr)
{
	struct record key = { .addr = (char *)addr };
	struct record **r = tfind(&key, &c->records, rec_cmp);

	return r ? *r : NULL;
}

static struct record *rec_get(struct cluster *c, const char *addr)
{
	struct record *r = cluster_rec_find(c, addr), **slot;

	if (r)
		return r;
	r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->addr = strdup(addr);
	r->v.watcher = r->watcher;
	if (!r->addr) {
		free(r);
		return NULL;
	}
	slot = tsearch(r, &c->records, rec_cmp);
	if (!slot) {
		free(r->addr);
		free(r);
		return NULL;
	}
	c->nrecords++;
	return r;
}

void cluster_rec_free(void *p)
{
	struct record *r = p;

	free(r->addr);
	free(r);
}

static void rec_del(struct cluster *c, struct record *r)
{
	tdelete(r, &c->records, rec_cmp);
	c->nrecords--;
	cluster_rec_free(r);
}

static int state_of(const char *s, enum engine_state *out)
{
	int i;

	for (i = 0; i < ENGINE_REMOVED; i++)
		if (!strcmp(s, engine_state_name(i))) {
			*out = i;
			return 0;
		}
	return -EPROTO;
}

static int cause_of(const char *s, enum cause *out)
{
	int i;

	for (i = 0; i <= CAUSE_ERROR; i++)
		if (!strcmp(s, cause_name(i))) {
			*out = i;
			return 0;
		}
	return -EPROTO;
}

static const char *str_field(struct json_object *o, const char *k)
{
	struct json_object *f;

	if (!json_object_object_get_ex(o, k, &f) ||
	    !json_object_is_type(f, json_type_string))
		return NULL;
	return json_object_get_string(f);
}

/* {"state", "cause" (or null), "since", "watcher"}: each one checked. */
static int parse_state(const char *value, struct fleet_peer_view *v,
		       char *watcher)
{
	struct json_object *o = json_tokener_parse(value), *f;
	const char *s;
	int err = -EPROTO;

	if (!o || !json_object_is_type(o, json_type_object))
		goto out;
	s = str_field(o, "state");
	if (!s || state_of(s, &v->state))
		goto out;
	v->cause = CAUSE_NONE;
	s = str_field(o, "cause");
	if (s && cause_of(s, &v->cause))
		goto out;
	if (!json_object_object_get_ex(o, "since", &f) ||
	    !json_object_is_type(f, json_type_int) ||
	    json_object_get_int64(f) < 0)
		goto out;
	v->since_ms = (uint64_t)json_object_get_int64(f);
	s = str_field(o, "watcher");
	if (!s || !cluster_name_ok(s, strlen(s)))
		goto out;
	strcpy(watcher, s);
	err = 0;
out:
	json_object_put(o);
	return err;
}

const char *cluster_key_tail(const struct cluster *c, const struct etcd_kv *kv,
			     const char *dir)
{
	size_t plen = strlen(c->prefix), dlen = strlen(dir);

	if (kv->keylen <= plen + dlen || memcmp(kv->key, c->prefix, plen) ||
	    memcmp(kv->key + plen, dir, dlen))
		return NULL;
	return kv->key + plen + dlen;
}

int cluster_apply_state(void *arg, const struct etcd_kv *kv)
{
	struct cluster *c = arg;
	const char *addr = cluster_key_tail(c, kv, "/state/"), *why;
	struct fleet_peer_view v;
	char host[256], watcher[CLUSTER_NAME_MAX + 1];
	struct record *r;
	uint16_t port;

	if (!addr || hostport_parse(addr, host, sizeof(host), &port, &why)) {
		cluster_bad_key(c, kv->key, "not an engine address");
		return 0;
	}
	r = cluster_rec_find(c, addr);
	if (kv->deleted) {
		if (r && !r->sent)
			rec_del(c, r);
		else if (r)
			r->known = false;
		return 0;
	}
	if (parse_state(kv->value, &v, watcher)) {
		cluster_bad_key(c, kv->key, "not a peerwatch engine state");
		return 0;
	}
	r = rec_get(c, addr);
	if (!r)
		return -ENOMEM;
	r->known = true;
	r->seen = true;
	r->v.state = v.state;
	r->v.cause = v.cause;
	r->v.since_ms = v.since_ms;
	strcpy(r->watcher, watcher);
	if (!strcmp(watcher, c->name) && r->sent &&
	    r->sent_state == v.state && r->sent_cause == v.cause)
		r->sent = false;
	/*
	 * Someone else's verdict on an engine we hold may end a handover,
	 * or be a late write of its last owner over ours: then ours again.
	 */
	if (strcmp(watcher, c->name) && fleet_find(c->fleet, addr)) {
		cluster_reassign_soon(c, CLUSTER_PUBLISH_MS);
		if (!cluster_rank(c, addr))
			c->republish = true;
	}
	return 0;
}

struct batch {
	struct cluster *c;
	struct json_object *ops;
	size_t bytes, n;
};

static void txn_done(void *arg, int err, struct json_object *body,
		     int64_t rev, const char *why)
{
	struct cluster *c = arg;

	(void)body;
	(void)rev;
	c->txn_busy--;
	if (err)
		log_warn("cluster: writing engine states: %s", why);
}

static void batch_flush(struct batch *b)
{
	struct cluster *c = b->c;
	int err;

	if (!b->n)
		return;
	err = etcd_call(c->etcd, "/v3/kv/txn", etcd_req_txn(b->ops), false,
			txn_done, c);
	if (err)
		log_warn("cluster: writing engine states: %s", strerror(-err));
	else
		c->txn_busy++;
	c->writes += b->n;
	b->ops = NULL;
	b->n = 0;
	b->bytes = 0;
}

static void batch_add(struct batch *b, struct json_object *op)
{
	const char *s = json_object_to_json_string_ext(op,
						       JSON_C_TO_STRING_PLAIN);
	size_t len = s ? strlen(s) : 0;

	if (b->n && (b->bytes + len > CLUSTER_TXN_BYTES ||
		     b->n == ETCD_MAX_TXN_OPS))
		batch_flush(b);
	if (!b->ops)
		b->ops = json_object_new_array();
	if (!b->ops || json_object_array_add(b->ops, op)) {
		json_object_put(op);
		return;
	}
	b->bytes += len + 1;
	b->n++;
}

static void state_key(const struct cluster *c, const char *addr, char *key,
		      size_t len)
{
	snprintf(key, len, "%s/state/%s", c->prefix, addr);
}

/* Our verdict on @e differs from what etcd holds: write it. */
static void publish_one(struct cluster *c, struct batch *b,
			const struct engine *e, uint64_t now)
{
	struct record *r = cluster_rec_find(c, e->addr);
	struct json_object *v;
	char key[ETCD_MAX_KEY];

	if (r && r->sent && r->sent_state == e->state &&
	    r->sent_cause == e->cause && now - r->sent_ms < CLUSTER_RESEND_MS)
		return;
	if (r && !r->sent && r->known && r->v.state == e->state &&
	    r->v.cause == e->cause && !strcmp(r->watcher, c->name))
		return;
	r = rec_get(c, e->addr);
	v = json_object_new_object();
	if (!r || !v) {
		json_object_put(v);
		return;
	}
	json_object_object_add(v, "state",
			       json_object_new_string(engine_state_name(e->state)));
	json_object_object_add(v, "cause", e->cause == CAUSE_NONE ? NULL :
			       json_object_new_string(cause_name(e->cause)));
	json_object_object_add(v, "since",
			       json_object_new_int64((int64_t)e->since_ms));
	json_object_object_add(v, "watcher", json_object_new_string(c->name));
	state_key(c, e->addr, key, sizeof(key));
	batch_add(b, etcd_op_put(key, json_object_to_json_string_ext(v,
						JSON_C_TO_STRING_PLAIN)));
	json_object_put(v);
	r->sent = true;
	r->sent_state = e->state;
	r->sent_cause = e->cause;
	r->sent_ms = now;
}

static int addr_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Engines gone from the discovery: their first owner removes their key. */
static void walk_gone(const void *node, VISIT which, void *arg)
{
	struct record *r = *(struct record *const *)node;
	struct batch *b = arg;
	struct cluster *c = b->c;
	const struct addr_list *all = &c->fleet->all;
	char key[ETCD_MAX_KEY], *a = r->addr;

	if (which != postorder && which != leaf)
		return;
	if (!r->known || r->sent || cluster_rank(c, r->addr) ||
	    bsearch(&a, all->v, all->n, sizeof(all->v[0]), addr_cmp))
		return;
	state_key(c, r->addr, key, sizeof(key));
	batch_add(b, etcd_op_delete(key));
	r->sent = true;
	r->sent_state = ENGINE_REMOVED;
	r->sent_ms = loop_now(c->loop);
}

static void publish(struct cluster *c)
{
	struct batch b = { .c = c };
	uint64_t now = loop_now(c->loop);
	size_t i;

	for (i = 0; i < c->fleet->n; i++) {
		const struct engine *e = c->fleet->v[i];

		/* Pending says nothing; the first owner speaks for the rest. */
		if (e->state == ENGINE_PENDING || e->state == ENGINE_REMOVED ||
		    cluster_rank(c, e->addr))
			continue;
		publish_one(c, &b, e, now);
	}
	twalk_r(c->records, walk_gone, &b);
	batch_flush(&b);
}

void cluster_publish_fn(struct loop_timer *t)
{
	struct cluster *c = container_of(t, struct cluster, publish_timer);
	uint64_t tr = c->fleet->env.stats.transitions;

	if (c->phase == PH_UP && !c->txn_busy &&
	    (tr != c->transitions || c->republish)) {
		c->transitions = tr;
		c->republish = false;
		publish(c);
	}
	loop_timer_start(c->loop, t, CLUSTER_PUBLISH_MS);
}

bool cluster_mine(void *arg, const char *addr, bool have)
{
	struct cluster *c = arg;
	const struct record *r;

	/* Before etcd has spoken: nothing, or all once we gave up waiting. */
	if (!c->ever_up)
		return c->alone;
	/* Cut off, nothing is given up: the others may think us dead. */
	if (c->phase != PH_UP)
		return have || cluster_rank(c, addr) < c->replicas;
	if (cluster_rank(c, addr) < c->replicas)
		return true;
	if (!have)
		return false;
	/* A handover: until the new owner's verdict is in, or a TTL passed. */
	r = cluster_rec_find(c, addr);
	if (r && r->known && r->v.state != ENGINE_PENDING &&
	    strcmp(r->watcher, c->name) && cluster_agent_live(c, r->watcher))
		return false;
	return loop_now(c->loop) - c->changed_ms < c->ttl_ms;
}

bool cluster_peer(void *arg, const char *addr, struct fleet_peer_view *out)
{
	struct cluster *c = arg;
	const struct record *r = cluster_rec_find(c, addr);

	if (!r || !r->known)
		return false;
	*out = r->v;
	return true;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * Several agents, one fleet, through etcd (etcd.c):
 *
 * - Membership: a lease kept alive every TTL/3, PREFIX/agents/NAME under
 *   it (put only if absent, so a second live agent of one name is found
 *   out: it waits one TTL for a dead namesake's lease to go, then stops),
 *   and a watch on PREFIX/agents/.
 * - Assignment: rendezvous hashing (hrw.c) of each engine over the live
 *   agents' names; the fleet asks mine() for each address. A new owner
 *   starts at once; the old one keeps the engine until the new owner's
 *   verdict is in etcd, or one TTL after the change, so no engine goes
 *   unwatched and none shows pending or down for the move.
 * - Fleet state: PREFIX/state/ADDR = {state, cause, since, watcher},
 *   written by the engine's first owner on a transition only, up to a
 *   request's worth of keys in one txn; every agent watches PREFIX/state/
 *   and shows it (fleet_share's peer()).
 * - etcd gone, or we are cut off: nothing is taken away; every engine we
 *   watch stays watched (twice is better than never) until etcd answers,
 *   a lease is granted again, and the assignment converges.
 *
 * One state machine step is in flight at a time (a grant, the create,
 * the two syncs); keepalives and state writes go alongside. A failure
 * anywhere closes the watches and starts again from the lease we hold.
 */
#include <errno.h>
#include <search.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cluster.h"
#include "container_of.h"
#include "etcd.h"
#include "etcd_msg.h"
#include "fleet.h"
#include "hostport.h"
#include "hrw.h"
#include "log.h"
#include "loop.h"
#include "tls.h"

#define CLUSTER_MAX_AGENTS	1024
#define CLUSTER_RETRY_MS	1000
/* How often our engines' states are compared with what etcd holds. */
#define CLUSTER_PUBLISH_MS	100
/* A write not seen back from the watch by then is written again. */
#define CLUSTER_RESEND_MS	5000
/* Room for headers in etcd.c's one request buffer. */
#define CLUSTER_TXN_BYTES	3000

enum phase {
	PH_WAIT,		/* for the retry timer */
	PH_GRANT,
	PH_CREATE,
	PH_SYNC_AGENTS,
	PH_SYNC_STATE,
	PH_UP,
};

/* What etcd holds of one engine, and what we last wrote there. */
struct record {
	char *addr;
	bool known;			/* from etcd */
	struct fleet_peer_view v;
	char watcher[CLUSTER_NAME_MAX + 1];
	bool sent;			/* a write of ours awaits its echo */
	enum engine_state sent_state;
	enum cause sent_cause;
	uint64_t sent_ms;		/* loop time */
	bool seen;			/* in the latest sync */
};

struct cluster {
	struct loop *loop;
	struct fleet *fleet;
	struct etcd *etcd;
	struct tls_ctx *tls;
	struct cluster_ops ops;
	struct fleet_share share;
	char name[CLUSTER_NAME_MAX + 1];
	uint64_t self_hash;
	char prefix[256];
	char prefix_agents[272], prefix_state[272];
	char *api;
	uint64_t ttl_ms;
	unsigned int replicas;
	uint64_t started_ms;		/* wall clock */

	enum phase phase;
	bool step_busy;
	unsigned int epoch;		/* bumped on every reset */
	unsigned int step_epoch;
	int64_t lease;
	uint64_t lease_ok_ms;		/* loop time of the last keepalive */
	bool ka_busy;
	uint64_t conflict_ms;		/* loop time a namesake was first seen */
	int64_t rev_agents, rev_state;
	struct etcd_stream *w_agents, *w_state;
	bool ever_up;
	bool alone;			/* etcd unseen for a TTL after start */

	/* Live agents, by name, sorted; with their hashes. */
	char (*names)[CLUSTER_NAME_MAX + 1];
	uint64_t *hashes;
	size_t nagents;
	uint64_t changed_ms;		/* loop time of the last change */

	void *records;			/* tsearch tree of struct record */
	size_t nrecords;
	uint64_t transitions;		/* fleet's count at the last scan */
	bool republish;
	unsigned int txn_busy;

	uint64_t writes, keepalives;
	uint64_t bad_keys;		/* keys under PREFIX we cannot read */

	struct loop_timer retry_timer, ka_timer, publish_timer;
	struct loop_timer reassign_timer, alone_timer;
};

static void reset(struct cluster *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void step(struct cluster *c);

static int rec_cmp(const void *a, const void *b)
{
	return strcmp(((const struct record *)a)->addr,
		      ((const struct record *)b)->addr);
}

static struct record *rec_find(const struct cluster *c, const char *addr)
{
	struct record key = { .addr = (char *)addr };
	struct record **r = tfind(&key, &c->records, rec_cmp);

	return r ? *r : NULL;
}

static struct record *rec_get(struct cluster *c, const char *addr)
{
	struct record *r = rec_find(c, addr), **slot;

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

static void rec_free(void *p)
{
	struct record *r = p;

	free(r->addr);
	free(r);
}

static void rec_del(struct cluster *c, struct record *r)
{
	tdelete(r, &c->records, rec_cmp);
	c->nrecords--;
	rec_free(r);
}

static uint64_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static bool name_ok(const char *s, size_t len)
{
	size_t i;

	if (!len || len > CLUSTER_NAME_MAX)
		return false;
	for (i = 0; i < len; i++) {
		char ch = s[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' ||
		      ch == '.'))
			return false;
	}
	return true;
}

/* A key under PREFIX that we cannot read: counted, told once in a while. */
static void bad_key(struct cluster *c, const char *key, const char *why)
{
	c->bad_keys++;
	if (!(c->bad_keys & (c->bad_keys - 1)))
		log_warn("cluster: ignoring %s: %s (%llu such keys so far)",
			 key, why, (unsigned long long)c->bad_keys);
}

/* ---- assignment ---- */

static size_t agent_index(const struct cluster *c, const char *name)
{
	size_t lo = 0, hi = c->nagents;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int d = strcmp(c->names[mid], name);

		if (!d)
			return mid;
		if (d < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static bool agent_live(const struct cluster *c, const char *name)
{
	size_t i = agent_index(c, name);

	return i < c->nagents && !strcmp(c->names[i], name);
}

static int agent_add(struct cluster *c, const char *name)
{
	size_t i = agent_index(c, name);

	if (i < c->nagents && !strcmp(c->names[i], name))
		return 0;
	if (c->nagents == CLUSTER_MAX_AGENTS)
		return -ENOSPC;
	memmove(c->names + i + 1, c->names + i,
		(c->nagents - i) * sizeof(c->names[0]));
	memmove(c->hashes + i + 1, c->hashes + i,
		(c->nagents - i) * sizeof(c->hashes[0]));
	snprintf(c->names[i], sizeof(c->names[i]), "%s", name);
	c->hashes[i] = hrw_name_hash(name);
	c->nagents++;
	return 1;
}

static int agent_del(struct cluster *c, const char *name)
{
	size_t i = agent_index(c, name);

	if (i == c->nagents || strcmp(c->names[i], name))
		return 0;
	memmove(c->names + i, c->names + i + 1,
		(c->nagents - i - 1) * sizeof(c->names[0]));
	memmove(c->hashes + i, c->hashes + i + 1,
		(c->nagents - i - 1) * sizeof(c->hashes[0]));
	c->nagents--;
	return 1;
}

/* Our rank among the owners of @addr: 0 first, replicas: not one. */
static unsigned int rank(const struct cluster *c, const char *addr)
{
	size_t own[8], n, i;

	n = hrw_owners(c->hashes, c->nagents, addr, c->replicas, own);
	for (i = 0; i < n; i++)
		if (c->hashes[own[i]] == c->self_hash &&
		    !strcmp(c->names[own[i]], c->name))
			return (unsigned int)i;
	return c->replicas;
}

static bool mine(void *arg, const char *addr, bool have)
{
	struct cluster *c = arg;
	const struct record *r;

	/* Before etcd has spoken: nothing, or all once we gave up waiting. */
	if (!c->ever_up)
		return c->alone;
	/* Cut off, nothing is given up: the others may think us dead. */
	if (c->phase != PH_UP)
		return have || rank(c, addr) < c->replicas;
	if (rank(c, addr) < c->replicas)
		return true;
	if (!have)
		return false;
	/* A handover: until the new owner's verdict is in, or a TTL passed. */
	r = rec_find(c, addr);
	if (r && r->known && r->v.state != ENGINE_PENDING &&
	    strcmp(r->watcher, c->name) && agent_live(c, r->watcher))
		return false;
	return loop_now(c->loop) - c->changed_ms < c->ttl_ms;
}

static bool peer(void *arg, const char *addr, struct fleet_peer_view *out)
{
	struct cluster *c = arg;
	const struct record *r = rec_find(c, addr);

	if (!r || !r->known)
		return false;
	*out = r->v;
	return true;
}

/* Ask the fleet again soon: several reasons in a row cost one pass. */
static void reassign_soon(struct cluster *c, uint64_t after_ms)
{
	if (loop_timer_active(&c->reassign_timer) &&
	    c->reassign_timer.due <= loop_now(c->loop) + after_ms)
		return;
	loop_timer_start(c->loop, &c->reassign_timer, after_ms);
}

static void reassign_fn(struct loop_timer *t)
{
	struct cluster *c = container_of(t, struct cluster, reassign_timer);
	uint64_t left;
	int err;

	err = fleet_reassign(c->fleet);
	if (err)
		log_err("cluster: reassign: %s", strerror(-err));
	/* Handovers still waiting end at the TTL after the change. */
	left = loop_now(c->loop) - c->changed_ms;
	if (c->phase == PH_UP && left < c->ttl_ms)
		reassign_soon(c, c->ttl_ms - left + 1);
}

static void membership_changed(struct cluster *c)
{
	c->changed_ms = loop_now(c->loop);
	reassign_soon(c, 0);
}

static void alone_fn(struct loop_timer *t)
{
	struct cluster *c = container_of(t, struct cluster, alone_timer);

	/* A lease granted: etcd answers, and we are only not in yet. */
	if (c->ever_up || c->lease)
		return;
	log_warn("cluster: etcd unreachable for %llu ms: watching every engine meanwhile",
		 (unsigned long long)c->ttl_ms);
	c->alone = true;
	reassign_soon(c, 0);
}

/* ---- fleet state ---- */

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
	if (!s || !name_ok(s, strlen(s)))
		goto out;
	strcpy(watcher, s);
	err = 0;
out:
	json_object_put(o);
	return err;
}

static const char *key_tail(const struct cluster *c, const struct etcd_kv *kv,
			    const char *dir)
{
	size_t plen = strlen(c->prefix), dlen = strlen(dir);

	if (kv->keylen <= plen + dlen || memcmp(kv->key, c->prefix, plen) ||
	    memcmp(kv->key + plen, dir, dlen))
		return NULL;
	return kv->key + plen + dlen;
}

static int apply_state(void *arg, const struct etcd_kv *kv)
{
	struct cluster *c = arg;
	const char *addr = key_tail(c, kv, "/state/"), *why;
	struct fleet_peer_view v;
	char host[256], watcher[CLUSTER_NAME_MAX + 1];
	struct record *r;
	uint16_t port;

	if (!addr || hostport_parse(addr, host, sizeof(host), &port, &why)) {
		bad_key(c, kv->key, "not an engine address");
		return 0;
	}
	r = rec_find(c, addr);
	if (kv->deleted) {
		if (r && !r->sent)
			rec_del(c, r);
		else if (r)
			r->known = false;
		return 0;
	}
	if (parse_state(kv->value, &v, watcher)) {
		bad_key(c, kv->key, "not a peerwatch engine state");
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
		reassign_soon(c, CLUSTER_PUBLISH_MS);
		if (!rank(c, addr))
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
	struct record *r = rec_find(c, e->addr);
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
	json_object_object_add(v, "since", json_object_new_int64((int64_t)e->since_ms));
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
	if (!r->known || r->sent || rank(c, r->addr) ||
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
		    rank(c, e->addr))
			continue;
		publish_one(c, &b, e, now);
	}
	twalk_r(c->records, walk_gone, &b);
	batch_flush(&b);
}

static void publish_fn(struct loop_timer *t)
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

/* ---- watches ---- */

static int apply_agent(void *arg, const struct etcd_kv *kv)
{
	struct cluster *c = arg;
	const char *name = key_tail(c, kv, "/agents/");
	int changed;

	if (!name || !name_ok(name, strlen(name))) {
		bad_key(c, kv->key, "not an agent name");
		return 0;
	}
	changed = kv->deleted ? agent_del(c, name) : agent_add(c, name);
	if (changed < 0)
		return changed;
	if (changed && c->phase == PH_UP) {
		log_info("cluster: agent %s %s: %zu agents", name,
			 kv->deleted ? "gone" : "joined", c->nagents);
		membership_changed(c);
	}
	return 0;
}

static int watch_msg(struct cluster *c, struct json_object *body,
		     etcd_kv_fn fn)
{
	bool created, canceled;
	const char *why = NULL;
	int err;

	err = etcd_msg_watch(body, &created, &canceled, fn, c, &why);
	if (err) {
		log_warn("cluster: watch: %s", why ? why : strerror(-err));
		return err;
	}
	return canceled ? -ECANCELED : 0;
}

static int agents_msg(void *arg, struct json_object *body, int64_t rev)
{
	(void)rev;
	return watch_msg(arg, body, apply_agent);
}

static int state_msg(void *arg, struct json_object *body, int64_t rev)
{
	(void)rev;
	return watch_msg(arg, body, apply_state);
}

static void watch_end(void *arg, int err, const char *why)
{
	struct cluster *c = arg;

	(void)err;
	reset(c, "watch: %s", why);
}

/* ---- the steps ---- */

static void close_watches(struct cluster *c)
{
	etcd_stream_close(c->w_agents);
	etcd_stream_close(c->w_state);
	c->w_agents = c->w_state = NULL;
}

static void reset(struct cluster *c, const char *fmt, ...)
{
	char why[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	if (c->phase == PH_UP)
		log_warn("cluster: down: %s; keeping every engine we watch",
			 why);
	else
		log_debug("cluster: %s", why);
	close_watches(c);
	c->epoch++;
	c->phase = PH_WAIT;
	if (!loop_timer_active(&c->retry_timer))
		loop_timer_start(c->loop, &c->retry_timer, CLUSTER_RETRY_MS);
}

static void retry_fn(struct loop_timer *t)
{
	struct cluster *c = container_of(t, struct cluster, retry_timer);

	if (c->step_busy) {
		loop_timer_start(c->loop, t, CLUSTER_RETRY_MS);
		return;
	}
	c->phase = c->lease ? PH_CREATE : PH_GRANT;
	step(c);
}

static bool step_stale(struct cluster *c)
{
	c->step_busy = false;
	return c->step_epoch != c->epoch;
}

static void granted(void *arg, int err, struct json_object *body, int64_t rev,
		    const char *why)
{
	struct cluster *c = arg;
	int64_t id, ttl;

	(void)rev;
	if (step_stale(c))
		return;
	if (!err)
		err = etcd_msg_grant(body, &id, &ttl, &why);
	if (err) {
		reset(c, "lease grant: %s", why);
		return;
	}
	c->lease = id;
	c->lease_ok_ms = loop_now(c->loop);
	log_info("cluster: lease %llx of %llds", (unsigned long long)id,
		 (long long)ttl);
	loop_timer_start(c->loop, &c->ka_timer, c->ttl_ms / 3);
	c->phase = PH_CREATE;
	step(c);
}

struct existing {
	struct cluster *c;
	int64_t lease;
};

static int existing_kv(void *arg, const struct etcd_kv *kv)
{
	struct existing *x = arg;

	x->lease = kv->lease;
	return 0;
}

static void created_fn(void *arg, int err, struct json_object *body,
		       int64_t rev, const char *why)
{
	struct cluster *c = arg;
	struct existing x = { .c = c };
	bool created = false;
	char msg[160];

	(void)rev;
	if (step_stale(c))
		return;
	if (!err)
		err = etcd_msg_create(body, &created, existing_kv, &x, &why);
	if (err) {
		reset(c, "joining: %s", why);
		return;
	}
	if (!created && x.lease != c->lease) {
		uint64_t now = loop_now(c->loop);

		if (!c->conflict_ms) {
			c->conflict_ms = now;
			log_warn("cluster: %s/agents/%s is held by another lease: waiting up to %llu ms for it to expire",
				 c->prefix, c->name,
				 (unsigned long long)c->ttl_ms);
		}
		if (now - c->conflict_ms > c->ttl_ms + 2 * CLUSTER_RETRY_MS) {
			snprintf(msg, sizeof(msg),
				 "another live agent is named %s (--cluster-name)",
				 c->name);
			c->ops.fatal(c->ops.arg, msg);
			return;
		}
		reset(c, "name %s taken", c->name);
		return;
	}
	c->conflict_ms = 0;
	c->writes++;
	c->phase = PH_SYNC_AGENTS;
	step(c);
}

static int sync_agent(void *arg, const struct etcd_kv *kv)
{
	return apply_agent(arg, kv);
}

static void agents_read(void *arg, int err, struct json_object *body,
			int64_t rev, const char *why)
{
	struct cluster *c = arg;

	if (step_stale(c))
		return;
	c->nagents = 0;
	if (!err)
		err = etcd_msg_range(body, sync_agent, c, &why);
	if (err) {
		reset(c, "reading the agents: %s", why ? why : strerror(-err));
		return;
	}
	c->rev_agents = rev;
	c->phase = PH_SYNC_STATE;
	step(c);
}

static void unsee(const void *node, VISIT which, void *arg)
{
	(void)arg;
	if (which == postorder || which == leaf)
		(*(struct record *const *)node)->seen = false;
}

/* A key gone while we were away is no longer known. */
static void forget_unseen(const void *node, VISIT which, void *arg)
{
	struct record *r = *(struct record *const *)node;

	(void)arg;
	if ((which == postorder || which == leaf) && !r->seen)
		r->known = false;
}

static void state_read(void *arg, int err, struct json_object *body,
		       int64_t rev, const char *why)
{
	struct cluster *c = arg;

	if (step_stale(c))
		return;
	twalk_r(c->records, unsee, NULL);
	if (!err)
		err = etcd_msg_range(body, apply_state, c, &why);
	if (err) {
		reset(c, "reading the fleet state: %s",
		      why ? why : strerror(-err));
		return;
	}
	twalk_r(c->records, forget_unseen, NULL);
	c->rev_state = rev;
	err = etcd_stream_open(c->etcd, &c->w_agents, "/v3/watch",
			       etcd_req_watch(c->prefix_agents,
					      c->rev_agents + 1),
			       agents_msg, watch_end, c);
	if (!err)
		err = etcd_stream_open(c->etcd, &c->w_state, "/v3/watch",
				       etcd_req_watch(c->prefix_state, rev + 1),
				       state_msg, watch_end, c);
	if (err) {
		reset(c, "watch: %s", strerror(-err));
		return;
	}
	agent_add(c, c->name);
	c->phase = PH_UP;
	if (!c->ever_up)
		log_info("cluster: up: %zu agents at %s:%u", c->nagents,
			 etcd_endpoint(c->etcd)->host,
			 etcd_endpoint(c->etcd)->port);
	else
		log_warn("cluster: up again: %zu agents", c->nagents);
	c->ever_up = true;
	c->republish = true;
	membership_changed(c);
}

static void step(struct cluster *c)
{
	char key[ETCD_MAX_KEY], *value;
	struct json_object *req = NULL, *v;
	etcd_done_fn fn = NULL;
	const char *path = "/v3/kv/range";
	int err;

	switch (c->phase) {
	case PH_GRANT:
		req = etcd_req_grant((int64_t)(c->ttl_ms + 999) / 1000);
		path = "/v3/lease/grant";
		fn = granted;
		break;
	case PH_CREATE:
		v = json_object_new_object();
		json_object_object_add(v, "api", c->api ?
				       json_object_new_string(c->api) : NULL);
		json_object_object_add(v, "version",
				       json_object_new_string(PEERWATCH_VERSION));
		json_object_object_add(v, "started",
				       json_object_new_int64((int64_t)c->started_ms));
		value = strdup(json_object_to_json_string_ext(v,
						JSON_C_TO_STRING_PLAIN));
		json_object_put(v);
		if (!value) {
			reset(c, "out of memory");
			return;
		}
		snprintf(key, sizeof(key), "%s/agents/%s", c->prefix, c->name);
		req = etcd_req_create(key, value, c->lease);
		free(value);
		path = "/v3/kv/txn";
		fn = created_fn;
		break;
	case PH_SYNC_AGENTS:
		req = etcd_req_range(c->prefix_agents, true);
		fn = agents_read;
		break;
	case PH_SYNC_STATE:
		req = etcd_req_range(c->prefix_state, true);
		fn = state_read;
		break;
	case PH_WAIT:
	case PH_UP:
		return;
	}
	c->step_busy = true;
	c->step_epoch = c->epoch;
	err = etcd_call(c->etcd, path, req, false, fn, c);
	if (err) {
		c->step_busy = false;
		reset(c, "%s: %s", path, strerror(-err));
	}
}

static void kept(void *arg, int err, struct json_object *body, int64_t rev,
		 const char *why)
{
	struct cluster *c = arg;
	int64_t ttl = 0;

	(void)rev;
	c->ka_busy = false;
	if (!err)
		err = etcd_msg_keepalive(body, c->lease, &ttl, &why);
	if (!err && !ttl) {
		log_warn("cluster: lease %llx expired: joining again with a new one",
			 (unsigned long long)c->lease);
		c->lease = 0;
		reset(c, "lease expired");
		return;
	}
	if (!err) {
		c->lease_ok_ms = loop_now(c->loop);
		return;
	}
	if (loop_now(c->loop) - c->lease_ok_ms >= c->ttl_ms)
		c->lease = 0;
	reset(c, "keepalive: %s", why);
}

static void ka_fn(struct loop_timer *t)
{
	struct cluster *c = container_of(t, struct cluster, ka_timer);
	int err;

	if (!c->lease)
		return;
	loop_timer_start(c->loop, t, c->ttl_ms / 3);
	if (c->ka_busy)
		return;
	err = etcd_call(c->etcd, "/v3/lease/keepalive",
			etcd_req_lease(c->lease), true, kept, c);
	if (!err) {
		c->ka_busy = true;
		c->keepalives++;
	}
}

/* ---- setup ---- */

static int parse_url(const char *url, struct etcd_cfg *ec, char *prefix,
		     size_t plen, const char **why)
{
	const char *p = url + strlen("etcd://"), *slash;
	char list[1024], *tok, *save;

	if (strncmp(url, "etcd://", 7)) {
		*why = "--cluster: want etcd://HOST:PORT[,HOST:PORT...][/PREFIX]";
		return -EINVAL;
	}
	slash = strchr(p, '/');
	if ((slash ? (size_t)(slash - p) : strlen(p)) >= sizeof(list)) {
		*why = "--cluster: too many endpoints";
		return -EINVAL;
	}
	snprintf(list, sizeof(list), "%.*s",
		 (int)(slash ? (size_t)(slash - p) : strlen(p)), p);
	snprintf(prefix, plen, "%s", slash && slash[1] ? slash :
		 CLUSTER_DEFAULT_PREFIX);
	while (strlen(prefix) > 1 && prefix[strlen(prefix) - 1] == '/')
		prefix[strlen(prefix) - 1] = '\0';
	if (strlen(prefix) > 200) {
		*why = "--cluster: the prefix is longer than 200 bytes";
		return -EINVAL;
	}
	ec->nep = 0;
	for (tok = strtok_r(list, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		struct etcd_endpoint *ep = &ec->ep[ec->nep];
		const char *hwhy;

		if (ec->nep == ETCD_MAX_ENDPOINTS) {
			*why = "--cluster: at most 16 endpoints";
			return -EINVAL;
		}
		if (hostport_parse(tok, ep->host, sizeof(ep->host), &ep->port,
				   &hwhy)) {
			*why = "--cluster: an endpoint is not HOST:PORT";
			return -EINVAL;
		}
		ec->nep++;
	}
	if (!ec->nep) {
		*why = "--cluster: no etcd endpoint";
		return -EINVAL;
	}
	return 0;
}

static int resolve_name(const struct cluster_cfg *cfg, char *name,
			const char **why)
{
	char host[256];

	if (cfg->name) {
		snprintf(name, CLUSTER_NAME_MAX + 1, "%s", cfg->name);
		if (!name_ok(cfg->name, strlen(cfg->name)))
			goto bad;
		return 0;
	}
	if (gethostname(host, sizeof(host)))
		return -errno;
	host[sizeof(host) - 1] = '\0';
	if (name_ok(host, strlen(host))) {
		memcpy(name, host, strlen(host) + 1);
		return 0;
	}
bad:
	*why = "--cluster-name: 1 to 63 of a-z A-Z 0-9 . _ -";
	return -EINVAL;
}

static void stats(void *arg, struct fleet_share_stats *st)
{
	const struct cluster *c = arg;
	struct etcd_stats es;

	etcd_stats(c->etcd, &es);
	st->up = c->phase == PH_UP;
	st->agents = c->nagents;
	st->requests = es.requests;
	st->errors = es.errors;
	st->writes = c->writes;
	st->keepalives = c->keepalives;
}

int cluster_check(const struct cluster_cfg *cfg, const char **why)
{
	char prefix[256], name[CLUSTER_NAME_MAX + 1];
	struct etcd_cfg ec;
	int err;

	err = parse_url(cfg->url, &ec, prefix, sizeof(prefix), why);
	if (!err)
		err = resolve_name(cfg, name, why);
	return err;
}

int cluster_new(struct cluster **cp, struct loop *loop, struct pool *pool,
		struct resolver *resolver, struct fleet *fleet,
		const struct cluster_cfg *cfg, const struct cluster_ops *ops,
		const char **why)
{
	struct etcd_cfg ec = { 0 };
	struct cluster *c;
	int err;

	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->loop = loop;
	c->fleet = fleet;
	c->ops = *ops;
	c->ttl_ms = cfg->ttl_ms;
	c->replicas = cfg->replicas;
	c->started_ms = wall_ms();
	loop_timer_init(&c->retry_timer, retry_fn);
	loop_timer_init(&c->ka_timer, ka_fn);
	loop_timer_init(&c->publish_timer, publish_fn);
	loop_timer_init(&c->reassign_timer, reassign_fn);
	loop_timer_init(&c->alone_timer, alone_fn);
	c->names = calloc(CLUSTER_MAX_AGENTS, sizeof(c->names[0]));
	c->hashes = calloc(CLUSTER_MAX_AGENTS, sizeof(c->hashes[0]));
	c->api = cfg->api ? strdup(cfg->api) : NULL;
	err = -ENOMEM;
	*why = "cluster";
	if (!c->names || !c->hashes || (cfg->api && !c->api))
		goto err;
	err = parse_url(cfg->url, &ec, c->prefix, sizeof(c->prefix), why);
	if (!err)
		err = resolve_name(cfg, c->name, why);
	if (err)
		goto err;
	snprintf(c->prefix_agents, sizeof(c->prefix_agents), "%s/agents/",
		 c->prefix);
	snprintf(c->prefix_state, sizeof(c->prefix_state), "%s/state/",
		 c->prefix);
	c->self_hash = hrw_name_hash(c->name);
	if (cfg->cacert || cfg->cert || cfg->key) {
		struct tls_cfg tc = { .enable = true, .verify = true,
				      .ca = cfg->cacert, .cert = cfg->cert,
				      .key = cfg->key };
		static char msg[256];

		err = tls_ctx_new(&c->tls, &tc, msg, sizeof(msg));
		if (err) {
			*why = msg;
			goto err;
		}
	}
	ec.tls = c->tls;
	/*
	 * A call must fail within a TTL, so that a member can fail over
	 * before our lease goes; but a loaded etcd may take a second to
	 * answer, and that is no reason to leave it.
	 */
	ec.timeout_ms = c->ttl_ms / 2 < 5000 ? c->ttl_ms / 2 : 5000;
	*why = "etcd client";
	err = etcd_new(&c->etcd, loop, pool, resolver, &ec);
	if (err)
		goto err;
	c->share.mine = mine;
	c->share.peer = peer;
	c->share.stats = stats;
	c->share.name = c->name;
	c->share.arg = c;
	fleet->share = &c->share;
	c->phase = PH_GRANT;
	step(c);
	loop_timer_start(loop, &c->publish_timer, CLUSTER_PUBLISH_MS);
	loop_timer_start(loop, &c->alone_timer, c->ttl_ms);
	log_info("cluster: %s joining %s (%u endpoints), lease TTL %llu ms, %u replicas",
		 c->name, c->prefix, ec.nep, (unsigned long long)c->ttl_ms,
		 c->replicas);
	*cp = c;
	return 0;

err:
	cluster_free(c);
	return err;
}

void cluster_free(struct cluster *c)
{
	if (!c)
		return;
	if (c->fleet && c->fleet->share == &c->share)
		c->fleet->share = NULL;
	loop_timer_stop(c->loop, &c->retry_timer);
	loop_timer_stop(c->loop, &c->ka_timer);
	loop_timer_stop(c->loop, &c->publish_timer);
	loop_timer_stop(c->loop, &c->reassign_timer);
	loop_timer_stop(c->loop, &c->alone_timer);
	close_watches(c);
	etcd_free(c->etcd);
	if (c->tls)
		tls_ctx_free(c->tls);
	tdestroy(c->records, rec_free);
	free(c->names);
	free(c->hashes);
	free(c->api);
	free(c);
}


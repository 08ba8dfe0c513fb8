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
#include <unistd.h>

#include "clock.h"
#include "cluster_int.h"
#include "container_of.h"
#include "etcd.h"
#include "etcd_msg.h"
#include "fleet.h"
#include "hrw.h"
#include "log.h"
#include "loop.h"
#include "tls.h"


static void reset(struct cluster *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void step(struct cluster *c);

/* ---- watches ---- */

static int apply_agent(void *arg, const struct etcd_kv *kv)
{
	struct cluster *c = arg;
	const char *name = cluster_key_tail(c, kv, "/agents/");
	int changed;

	if (!name || !cluster_name_ok(name, strlen(name))) {
		cluster_bad_key(c, kv->key, "not an agent name");
		return 0;
	}
	/*
	 * An agent's key lives and dies with its lease: one put without a
	 * lease, by hand or by a stranger, would hold engines forever.
	 */
	if (!kv->deleted && !kv->lease) {
		cluster_bad_key(c, kv->key, "held by no lease: not an agent");
		return 0;
	}
	changed = kv->deleted ? cluster_agent_del(c, name) :
				cluster_agent_add(c, name);
	if (changed < 0)
		return changed;
	if (changed && c->phase == PH_UP) {
		log_info("cluster: agent %s %s: %zu agents", name,
			 kv->deleted ? "gone" : "joined", c->nagents);
		cluster_membership_changed(c);
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
	return watch_msg(arg, body, cluster_apply_state);
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
	/* Each new reason once: a retry every second says nothing new. */
	if (c->phase == PH_UP)
		log_warn("cluster: down: %s; keeping every engine we watch",
			 why);
	else if (strcmp(why, c->last_why))
		log_warn("cluster: not up: %s; retrying every %u ms", why,
			 CLUSTER_RETRY_MS);
	else
		log_debug("cluster: %s", why);
	memcpy(c->last_why, why, sizeof(why));
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

void cluster_unsee(const void *node, VISIT which, void *arg)
{
	(void)arg;
	if (which == postorder || which == leaf)
		(*(struct record *const *)node)->seen = false;
}

/* A key gone while we were away is no longer known. */
void cluster_forget_unseen(const void *node, VISIT which, void *arg)
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
	twalk_r(c->records, cluster_unsee, NULL);
	if (!err)
		err = etcd_msg_range(body, cluster_apply_state, c, &why);
	if (err) {
		reset(c, "reading the fleet state: %s",
		      why ? why : strerror(-err));
		return;
	}
	twalk_r(c->records, cluster_forget_unseen, NULL);
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
	cluster_agent_add(c, c->name);
	c->phase = PH_UP;
	if (!c->ever_up)
		log_info("cluster: up: %zu agents at %s:%u", c->nagents,
			 etcd_endpoint(c->etcd)->host,
			 etcd_endpoint(c->etcd)->port);
	else
		log_warn("cluster: up again: %zu agents", c->nagents);
	c->ever_up = true;
	c->last_why[0] = '\0';
	c->republish = true;
	cluster_membership_changed(c);
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

static void cluster_share_stats(void *arg, struct fleet_share_stats *st)
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
	c->started_ms = clock_wall_ms();
	loop_timer_init(&c->retry_timer, retry_fn);
	loop_timer_init(&c->ka_timer, ka_fn);
	loop_timer_init(&c->publish_timer, cluster_publish_fn);
	loop_timer_init(&c->reassign_timer, cluster_reassign_fn);
	loop_timer_init(&c->alone_timer, cluster_alone_fn);
	c->names = calloc(CLUSTER_MAX_AGENTS, sizeof(c->names[0]));
	c->hashes = calloc(CLUSTER_MAX_AGENTS, sizeof(c->hashes[0]));
	c->api = cfg->api ? strdup(cfg->api) : NULL;
	err = -ENOMEM;
	*why = "cluster";
	if (!c->names || !c->hashes || (cfg->api && !c->api))
		goto err;
	err = cluster_parse_url(cfg->url, &ec, c->prefix, sizeof(c->prefix), why);
	if (!err)
		err = cluster_resolve_name(cfg, c->name, why);
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
	c->share.mine = cluster_mine;
	c->share.peer = cluster_peer;
	c->share.stats = cluster_share_stats;
	c->share.owner = cluster_owner;
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
	tdestroy(c->records, cluster_rec_free);
	free(c->names);
	free(c->hashes);
	free(c->api);
	free(c);
}


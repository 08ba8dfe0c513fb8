/* SPDX-License-Identifier: GPL-2.0 */
#ifndef PEERWATCH_CLUSTER_INT_H
#define PEERWATCH_CLUSTER_INT_H

/*
 * Inside the cluster (cluster.c): its state, shared by the files that
 * make it up: assign.c (who watches what), fleetstate.c (the engines'
 * states in etcd), clustercfg.c (--cluster's URL and name).
 */
#include <search.h>
#include <stdbool.h>
#include <stdint.h>

#include "cluster.h"
#include "etcd.h"
#include "etcd_msg.h"
#include "fleet.h"
#include "loop.h"

#define CLUSTER_MAX_AGENTS	1024
#define CLUSTER_RETRY_MS	1000
/* How often our engines' states are compared with what etcd holds. */
#define CLUSTER_PUBLISH_MS	100
/* A write not seen back from the watch by then is written again. */
#define CLUSTER_RESEND_MS	5000
/* Keys under PREFIX we cannot read: each logged, up to so many. */
#define CLUSTER_BAD_KEYS_LOGGED	16
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
	char last_why[256];		/* of the last failure logged */
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

/* fleetstate.c */
struct record *cluster_rec_find(const struct cluster *c, const char *addr);
/* assign.c */
unsigned int cluster_rank(const struct cluster *c, const char *addr);
const char *cluster_owner(void *arg, const char *addr);
void cluster_reassign_soon(struct cluster *c, uint64_t after_ms);
void cluster_membership_changed(struct cluster *c);
int cluster_agent_add(struct cluster *c, const char *name);
int cluster_agent_del(struct cluster *c, const char *name);
bool cluster_agent_live(const struct cluster *c, const char *name);
void cluster_reassign_fn(struct loop_timer *t);
void cluster_alone_fn(struct loop_timer *t);
/* fleetstate.c */
int cluster_apply_state(void *arg, const struct etcd_kv *kv);
void cluster_publish_fn(struct loop_timer *t);
bool cluster_mine(void *arg, const char *addr, bool have);
bool cluster_peer(void *arg, const char *addr, struct fleet_peer_view *out);
void cluster_rec_free(void *p);
void cluster_unsee(const void *node, VISIT which, void *arg);
void cluster_forget_unseen(const void *node, VISIT which, void *arg);
/* clustercfg.c */
void cluster_bad_key(struct cluster *c, const char *key, const char *why);
/* fleetstate.c */
const char *cluster_key_tail(const struct cluster *c, const struct etcd_kv *kv,
			     const char *dir);
/* clustercfg.c */
bool cluster_name_ok(const char *s, size_t len);
int cluster_parse_url(const char *url, struct etcd_cfg *ec, char *prefix,
		      size_t plen, const char **why);
int cluster_resolve_name(const struct cluster_cfg *cfg, char *name,
			 const char **why);

#endif

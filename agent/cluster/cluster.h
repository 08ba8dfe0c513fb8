/* SPDX-License-Identifier: GPL-2.0 */
#ifndef PEERWATCH_CLUSTER_H
#define PEERWATCH_CLUSTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct fleet;
struct loop;
struct pool;
struct resolver;

#define CLUSTER_NAME_MAX	63
#define CLUSTER_DEFAULT_PREFIX	"/peerwatch"

/* --cluster and its companions; url NULL: this agent is alone. */
struct cluster_cfg {
	const char *url;		/* etcd://H1:2379,H2:2379/PREFIX */
	const char *name;		/* NULL: the host name */
	uint64_t ttl_ms;
	unsigned int replicas;
	char *cacert, *cert, *key;	/* etcd over TLS; NULL: plain */
	const char *api;		/* our API address, for the others */
};

/* What the cluster needs of the agent. */
struct cluster_ops {
	/* Another live agent has our name: the agent must stop. */
	void (*fatal)(void *arg, const char *why);
	/*
	 * The engines watched here changed (a takeover, a handover): what
	 * depends on them, such as the kernel's per-port policy, follows.
	 */
	void (*reassigned)(void *arg);
	void *arg;
};

struct cluster;

/* 0, or -EINVAL with the reason in @why (a bad URL, name, TLS file). */
int cluster_check(const struct cluster_cfg *cfg, const char **why);
/*
 * Join the cluster (from the loop, later) and share @fleet with it: from
 * now on the fleet asks the cluster which engines are ours.
 */
int cluster_new(struct cluster **cp, struct loop *loop, struct pool *pool,
		struct resolver *resolver, struct fleet *fleet,
		const struct cluster_cfg *cfg, const struct cluster_ops *ops,
		const char **why);
/* Leaves silently: the others take our engines when the lease expires. */
void cluster_free(struct cluster *c);

#endif

// SPDX-License-Identifier: GPL-2.0
/*
 * Who watches what: the live agents' names, rendezvous hashing (hrw.c)
 * over them, and the handovers that follow a change.
 */
#include <errno.h>
#include <search.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster_int.h"
#include "container_of.h"
#include "fleet.h"
#include "hrw.h"
#include "log.h"

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

bool cluster_agent_live(const struct cluster *c, const char *name)
{
	size_t i = agent_index(c, name);

	return i < c->nagents && !strcmp(c->names[i], name);
}

int cluster_agent_add(struct cluster *c, const char *name)
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

int cluster_agent_del(struct cluster *c, const char *name)
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
unsigned int cluster_rank(const struct cluster *c, const char *addr)
{
	size_t own[8], n, i;

	n = hrw_owners(c->hashes, c->nagents, addr, c->replicas, own);
	for (i = 0; i < n; i++)
		if (c->hashes[own[i]] == c->self_hash &&
		    !strcmp(c->names[own[i]], c->name))
			return (unsigned int)i;
	return c->replicas;
}

/* The first owner of @addr, unless it is us; for the log of a handover. */
const char *cluster_owner(void *arg, const char *addr)
{
	const struct cluster *c = arg;
	size_t own;

	if (!hrw_owners(c->hashes, c->nagents, addr, 1, &own) ||
	    !strcmp(c->names[own], c->name))
		return NULL;
	return c->names[own];
}

/* Ask the fleet again soon: several reasons in a row cost one pass. */
void cluster_reassign_soon(struct cluster *c, uint64_t after_ms)
{
	if (loop_timer_active(&c->reassign_timer) &&
	    c->reassign_timer.due <= loop_now(c->loop) + after_ms)
		return;
	loop_timer_start(c->loop, &c->reassign_timer, after_ms);
}

void cluster_reassign_fn(struct loop_timer *t)
{
	struct cluster *c = container_of(t, struct cluster, reassign_timer);
	uint64_t left;
	int err;

	err = fleet_reassign(c->fleet);
	if (err)
		log_err("cluster: reassign: %s", strerror(-err));
	c->ops.reassigned(c->ops.arg);
	/* Handovers still waiting end at the TTL after the change. */
	left = loop_now(c->loop) - c->changed_ms;
	if (c->phase == PH_UP && left < c->ttl_ms)
		cluster_reassign_soon(c, c->ttl_ms - left + 1);
}

void cluster_membership_changed(struct cluster *c)
{
	c->changed_ms = loop_now(c->loop);
	cluster_reassign_soon(c, 0);
}

void cluster_alone_fn(struct loop_timer *t)
{
	struct cluster *c = container_of(t, struct cluster, alone_timer);

	/* A lease granted: etcd answers, and we are only not in yet. */
	if (c->ever_up || c->lease)
		return;
	log_warn("cluster: etcd unreachable for %llu ms: watching every engine meanwhile",
		 (unsigned long long)c->ttl_ms);
	c->alone = true;
	cluster_reassign_soon(c, 0);
}


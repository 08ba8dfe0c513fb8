/* SPDX-License-Identifier: GPL-2.0 */
#ifndef PEERWATCH_ETCDSRC_H
#define PEERWATCH_ETCDSRC_H

#include <stdint.h>
#include <json-c/json.h>

#include "etcdv2.h"

struct loop;
struct pool;
struct resolver;

#define ETCDSRC_MAX_ENDPOINTS	16
/* 100,000 registrations with their TTLs are ~20 MiB of JSON. */
#define ETCDSRC_MAX_ANSWER	(64u << 20)

/* What an asynchronous discovery source needs of the agent. */
struct discovery_env {
	struct loop *loop;
	struct pool *pool;
	struct resolver *resolver;
	uint64_t timeout_ms;		/* connect, and a listing's answer */
	/* The engines found changed: read them again (discovery_load). */
	void (*changed)(void *arg);
	void *arg;
};

struct etcdsrc_endpoint {
	char host[256];
	uint16_t port;
};

/* etcd://H:P[,H:P...][/PATH], parsed; @dir is PATH/docker/swarm/nodes. */
struct etcdsrc_url {
	struct etcdsrc_endpoint ep[ETCDSRC_MAX_ENDPOINTS];
	unsigned int nep;
	char dir[ETCDV2_MAX_DIR];
};

int etcdsrc_parse_url(const char *url, struct etcdsrc_url *u,
		      const char **why);

struct etcdsrc;

/* Starts reading at once; env->changed() is called from the loop. */
int etcdsrc_new(struct etcdsrc **sp, const char *url,
		const struct discovery_env *env, const char **why);
void etcdsrc_free(struct etcdsrc *s);
/*
 * The engines last read, key -> address (borrowed): kept as they were
 * while etcd cannot be reached.
 */
struct json_object *etcdsrc_nodes(const struct etcdsrc *s);

#endif

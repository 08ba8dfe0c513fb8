/* SPDX-License-Identifier: GPL-2.0 */
#ifndef PEERWATCH_ETCD_H
#define PEERWATCH_ETCD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <json-c/json.h>

struct loop;
struct pool;
struct resolver;
struct tls_ctx;

#define ETCD_MAX_ENDPOINTS	16
/* A whole range answer: 100,000 state keys are ~25 MiB of JSON. */
#define ETCD_MAX_ANSWER		(64u << 20)

struct etcd_endpoint {
	char host[256];
	uint16_t port;
};

struct etcd_cfg {
	struct etcd_endpoint ep[ETCD_MAX_ENDPOINTS];
	unsigned int nep;
	struct tls_ctx *tls;		/* NULL: plain HTTP */
	uint64_t timeout_ms;		/* connect + answer of each call */
};

struct etcd_stats {
	uint64_t requests;		/* calls and streams opened */
	uint64_t errors;		/* of them, failed */
	uint64_t failovers;		/* moves to the next endpoint */
};

struct etcd;
struct etcd_stream;

/*
 * The answer of a call: @err 0 and @body the unwrapped answer (borrowed),
 * or -errno with @why (-EIO: etcd said no, -EPROTO: not an etcd answer,
 * -ETIMEDOUT, a connection error).
 */
typedef void (*etcd_done_fn)(void *arg, int err, struct json_object *body,
			     int64_t rev, const char *why);
/* Each message of a stream, unwrapped; non-zero ends the stream. */
typedef int (*etcd_msg_fn)(void *arg, struct json_object *body, int64_t rev);
/* The stream ended (@err, @why): the owner must etcd_stream_close() it. */
typedef void (*etcd_end_fn)(void *arg, int err, const char *why);

int etcd_new(struct etcd **ep, struct loop *loop, struct pool *pool,
	     struct resolver *resolver, const struct etcd_cfg *cfg);
/* Pending calls are dropped without their callbacks. */
void etcd_free(struct etcd *e);

/*
 * POST @req (consumed) to @path ("/v3/kv/range"); @fn runs later, from
 * the loop, exactly once unless the client is freed first. Calls go one
 * at a time on one keep-alive connection, in order; an @urgent one (a
 * keepalive, which must not wait behind a train of writes) goes next.
 */
int etcd_call(struct etcd *e, const char *path, struct json_object *req,
	      bool urgent, etcd_done_fn fn, void *arg);
/* A long-lived answer (/v3/watch) on a connection of its own. */
int etcd_stream_open(struct etcd *e, struct etcd_stream **sp,
		     const char *path, struct json_object *req,
		     etcd_msg_fn msg, etcd_end_fn end, void *arg);
void etcd_stream_close(struct etcd_stream *s);

/* Give up on the current endpoint: the next call uses the next one. */
void etcd_failover(struct etcd *e);
const struct etcd_endpoint *etcd_endpoint(const struct etcd *e);
void etcd_stats(const struct etcd *e, struct etcd_stats *st);

#endif

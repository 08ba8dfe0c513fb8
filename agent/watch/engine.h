/* SPDX-License-Identifier: GPL-2.0 */
#ifndef PEERWATCH_ENGINE_H
#define PEERWATCH_ENGINE_H

#include <stdbool.h>
#include <stdint.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "cause.h"
#include "channel.h"
#include "conn.h"
#include "docker.h"
#include "http.h"
#include "inventory.h"
#include "loop.h"
#include "memgate.h"
#include "pace.h"
#include "tls.h"

struct pool;
struct resolver;
struct resolver_query;

enum engine_state {
	ENGINE_PENDING,
	ENGINE_HEALTHY,
	ENGINE_SUSPECT,		/* the kernel saw a connection retransmit */
	ENGINE_UNHEALTHY,
	ENGINE_DOWN,
	ENGINE_REMOVED,
	ENGINE_NSTATES,
};

struct engine_cfg {
	uint64_t refresh_min_ms, refresh_max_ms;
	uint64_t info_interval_ms;	/* /info and /version again */
	uint64_t request_timeout_ms;
	uint64_t late_ping_ms;		/* ping behind a late answer; 0: never */
	uint64_t ping_interval_ms;	/* idle polling connection; 0: never */
	uint64_t ping_timeout_ms;	/* every /_ping, if < request_timeout */
	uint64_t backoff_max_ms;
	unsigned int failure_retry;
	uint64_t max_body;
	unsigned int max_containers;	/* in one engine's listing */
	bool events;
	uint64_t tls_close_idle_ms;	/* --tls-close-idle; 0: never */
	unsigned int tls_handshakes_max;	/* --tls-handshakes-max */
	struct conn_opts conn;
	struct tls_cfg tls;
};

struct engine_stats {
	uint64_t requests;
	uint64_t late_pings;		/* /_ping sent behind a late answer */
	uint64_t pings;			/* /_ping on an idle connection */
	uint64_t errors;
	uint64_t errors_by_cause[CAUSE_ERROR + 1];
	uint64_t transitions;
};

struct engine;

/* Told of every transition and container event, as they happen. */
struct engine_observer {
	void (*transition)(void *arg, const struct engine *e,
			   enum engine_state from);
	/* Every event of the engine's /events, @raw as it came. */
	void (*container)(void *arg, const struct engine *e,
			  const struct docker_event *ev,
			  struct json_object *raw);
	void *arg;
};

/* What every engine shares; owned by the fleet. */
struct engine_env {
	struct loop *loop;
	struct pool *pool;
	struct resolver *resolver;
	const struct engine_cfg *cfg;
	struct tls_ctx *tls;		/* NULL: plain HTTP */
	struct engine_stats stats;
	struct event_stats events;
	const struct engine_observer *observer;	/* NULL: nobody */
	struct channel_env chan;	/* of every engine's channels */
	struct memgate mem;		/* first listings, under a limit */
};

/* A byte: in every engine. */
enum __attribute__((packed)) engine_req {
	REQ_NONE,
	REQ_PING,
	REQ_VERSION,
	REQ_INFO,
	REQ_CONTAINERS,
	REQ_CONTAINER,		/* targeted refresh after an event */
};

/* An engine's address: TCP over IPv4 or IPv6, no more room than they take. */
union engine_sa {
	struct sockaddr sa;
	struct sockaddr_in in;
	struct sockaddr_in6 in6;
};

/* The last error's words are cut to this, with the NUL. */
#define ENGINE_ERROR_MAX	160

/* One HTTP channel of an engine: polling, or the /events stream. */
/* A host name (RFC 1035: 253) or an address, with its NUL. */
#define ENGINE_HOST_MAX	256

struct engine_chan {
	struct engine *e;
	struct channel ch;
	enum engine_req req;		/* what the polling request asked */
	bool resend;			/* the last one closed under a request */
	unsigned int attempts;		/* for the backoff of this channel */
	struct listing *lst;		/* a listing's body read so far, lent */
};

/* One Docker engine. Only engine.c changes it; others read it. */
struct engine {
	struct engine_env *env;
	/* "host:port" as discovered, then its host: after the engine. */
	char *addr;
	uint16_t port;
	bool literal;			/* host is an IP address */
	bool held;			/* not started: no descriptors, or no
					 * memory for its first listing */
	socklen_t salen;
	union engine_sa sa;
	unsigned int failures;		/* consecutive */
	struct resolver_query *query;
	struct tls_peer *tls;

	enum engine_state state;
	enum cause cause;
	const char *error;		/* the last error, in words: "" none */
	uint64_t since_ms;		/* wall clock of the last transition */
	uint64_t requests;
	uint64_t refreshed_ms;		/* wall clock of the last listing */
	uint64_t alive_ms;		/* loop time of the last byte, updated
					 * at each transition */

	/* /version's, the only part of it shown (views.c) */
	const char *api_version;	/* interned; "" before */
	char api_prefix[HTTP_API_VERSION_MAX + 2];	/* "/v1.41" or "" */
	bool retrying;			/* @timer waits to retry, not refresh */
	unsigned int work;		/* requests still to make */
	uint64_t info_due;		/* loop time */
	/*
	 * The cookie of the events stream when the idle polling connection
	 * was closed (--tls-close-idle); 0: it was not.
	 */
	uint64_t closed_idle;
	struct docker_info info;
	struct inventory inv;

	struct engine_chan poll;
	/* NULL without --events; with its pace of refreshes (engine.c) */
	struct engine_chan *events;
	/*
	 * The polling connection's next try after a failure, or the next
	 * refresh: one timer, as a retry lists the containers too.
	 */
	struct loop_timer timer;
	struct memgate_ticket mem;	/* its place for a first listing */
};

int engine_new(struct engine **ep, struct engine_env *env, const char *addr);
/* Closes everything and frees, silently (at exit). */
void engine_free(struct engine *e);
/* Logs the transition to removed, then engine_free(). */
void engine_remove(struct engine *e);
/* The same, for an engine that agent @to watches from now on. */
void engine_hand_over(struct engine *e, const char *to);
void engine_start(struct engine *e);
/* Its turn at the memory gate came (the gate's memgate_go_fn). */
void engine_mem_go(struct memgate_ticket *t);
/*
 * An engine is held from engine_new() to engine_start(). Held for want of
 * a resource (descriptors: fd-limit, given by the fleet; memory:
 * mem-limit, when the memory gate refuses it): its connections and timers
 * stopped, unhealthy with @cause and @why as its error, until the next
 * engine_start().
 */
void engine_hold(struct engine *e, enum cause cause, const char *why);

const char *engine_state_name(enum engine_state s);
/* The host of its address, without brackets (right after the address). */
const char *engine_host(const struct engine *e);
/* The cookie of the polling connection, 0 when there is none. */
uint64_t engine_cookie(const struct engine *e);
uint64_t engine_events_cookie(const struct engine *e);
/* The engine with a connection of @cookie, or NULL: O(1). */
struct engine *engine_by_cookie(struct engine_env *env, uint64_t cookie);

/*
 * What the kernel says of the connection of @e with @cookie:
 * it retransmits (@on: no new request on it, a healthy engine becomes
 * suspect) or no longer does; or it failed (closed at once, the engine
 * failed with @cause). Return 0, or -ENOENT if @cookie is not of @e.
 */
int engine_kernel_suspect(struct engine *e, uint64_t cookie, bool on);
int engine_conn_failed(struct engine *e, uint64_t cookie, enum cause cause,
		       const char *why);

#endif

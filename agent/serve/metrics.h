/* SPDX-License-Identifier: GPL-2.0 */
#ifndef PEERWATCH_METRICS_H
#define PEERWATCH_METRICS_H

#include <stdint.h>

#include "engine.h"
#include "strbuf.h"

struct fleet;
struct hook_stats;
struct kevents;
struct loop;

#define METRICS_BUCKETS	12
#define METRICS_ROUTES	16	/* labels of API requests */

/* Cumulative counts of observations at or below each bound, in seconds. */
struct histogram {
	const double *bounds;		/* METRICS_BUCKETS, ascending */
	uint64_t counts[METRICS_BUCKETS];
	uint64_t count;
	double sum;
};

/* What the agent counts for /metrics; the fleet's own stats are read live. */
struct metrics {
	struct loop *loop;
	const struct fleet *fleet;
	const struct kevents *kev;	/* NULL: no netlink at all */
	const struct hook_stats *hook;	/* NULL: no --on-transition */
	struct loop_timer tick;
	uint64_t tick_due;		/* monotonic ms the tick was meant for */
	struct histogram loop_lag;	/* timer lateness: the loop's latency */
	struct histogram detection[ENGINE_NSTATES];	/* by state entered */
	const char *route_label[METRICS_ROUTES];	/* in the order added */
	unsigned int nroutes;
	uint64_t api_requests[METRICS_ROUTES][6];	/* by route, status / 100 */
	uint64_t api_full;		/* times the client limit was reached */
	uint64_t api_accept_paused;	/* accept failed: EMFILE, ENOMEM... */
	uint64_t api_silent;		/* silent clients told 503 at the limit */
	uint64_t api_timeouts;		/* header or write deadline */
	uint64_t api_dropped;		/* /v1/events readers too slow */
	uint64_t api_clients;		/* open now */
	uint64_t api_streams;		/* /v1/events open now */
};

int metrics_new(struct metrics **mp, struct loop *loop,
		const struct fleet *fleet, const struct kevents *kev);
void metrics_free(struct metrics *m);
/* An engine left @from: how long since it last showed life. */
void metrics_transition(struct metrics *m, const struct engine *e,
			enum engine_state from);
/*
 * API requests are counted under @label (a route's, or "other") from now
 * on, shown in the order added; one added twice is counted once. 0, or
 * -ENOSPC past METRICS_ROUTES labels.
 */
int metrics_route_add(struct metrics *m, const char *label);
/* A request answered with @status, under an added @label. */
void metrics_request(struct metrics *m, const char *label,
		     unsigned int status);
/* Prometheus text exposition format 0.0.4. */
int metrics_render(const struct metrics *m, struct strbuf *out);
/*
 * The same a batch at a time (server_respond_more()): each call appends
 * about METRICS_BATCH bytes, the last sets *@done.
 */
#define METRICS_BATCH	(16 * 1024)
struct metrics_cursor;
int metrics_cursor_new(struct metrics_cursor **cp, const struct metrics *m);
int metrics_more(void *cur, struct strbuf *out, bool *done);
void metrics_cursor_free(void *cur);

#endif

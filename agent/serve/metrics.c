// SPDX-License-Identifier: GPL-2.0
/*
 * Counters for /metrics. Most are read live from the fleet when scraped;
 * only what no one else keeps (latencies, API traffic) is counted here.
 */
#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cause.h"
#include "container_of.h"
#include "fleet.h"
#include "hook.h"
#include "kevents.h"
#include "memgate.h"
#include "metrics.h"
#include "nlevent.h"
#include "clock.h"

/* A timer this often measures how late the loop runs it. */
#define METRICS_TICK_MS	100

static const double lag_bounds[METRICS_BUCKETS] = {
	0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5,
};

static const double detection_bounds[METRICS_BUCKETS] = {
	0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300,
};

static void observe(struct histogram *h, double v)
{
	int i;

	for (i = 0; i < METRICS_BUCKETS; i++)
		if (v <= h->bounds[i])
			h->counts[i]++;
	h->count++;
	h->sum += v;
}

static void tick_start(struct metrics *m)
{
	m->tick_due = loop_now(m->loop) + METRICS_TICK_MS;
	loop_timer_start(m->loop, &m->tick, METRICS_TICK_MS);
}

static void tick_fn(struct loop_timer *t)
{
	struct metrics *m = container_of(t, struct metrics, tick);
	uint64_t now = clock_mono_ms();

	observe(&m->loop_lag, now > m->tick_due ?
		(double)(now - m->tick_due) / 1000 : 0);
	tick_start(m);
}

int metrics_new(struct metrics **mp, struct loop *loop,
		const struct fleet *fleet, const struct kevents *kev)
{
	struct metrics *m;
	int s;

	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->loop = loop;
	m->fleet = fleet;
	m->kev = kev;
	m->loop_lag.bounds = lag_bounds;
	for (s = 0; s < ENGINE_NSTATES; s++)
		m->detection[s].bounds = detection_bounds;
	loop_timer_init(&m->tick, tick_fn);
	tick_start(m);
	*mp = m;
	return 0;
}

void metrics_free(struct metrics *m)
{
	if (!m)
		return;
	loop_timer_stop(m->loop, &m->tick);
	free(m);
}

void metrics_transition(struct metrics *m, const struct engine *e,
			enum engine_state from)
{
	uint64_t now = loop_now(m->loop);

	/* Only losses of a working engine are detections. */
	if (from != ENGINE_HEALTHY && from != ENGINE_SUSPECT)
		return;
	if (e->state != ENGINE_SUSPECT && e->state != ENGINE_UNHEALTHY &&
	    e->state != ENGINE_DOWN)
		return;
	if (!e->alive_ms)
		return;
	observe(&m->detection[e->state], now > e->alive_ms ?
		(double)(now - e->alive_ms) / 1000 : 0);
}

int metrics_route_add(struct metrics *m, const char *label)
{
	unsigned int i;

	for (i = 0; i < m->nroutes; i++)
		if (!strcmp(m->route_label[i], label))
			return 0;
	if (m->nroutes == METRICS_ROUTES)
		return -ENOSPC;
	m->route_label[m->nroutes++] = label;
	return 0;
}

void metrics_request(struct metrics *m, const char *label,
		     unsigned int status)
{
	unsigned int i;

	for (i = 0; i < m->nroutes; i++)
		if (!strcmp(m->route_label[i], label))
			m->api_requests[i][status / 100 < 6 ? status / 100 : 5]++;
}

static int header(struct strbuf *b, const char *name, const char *type,
		  const char *help)
{
	return strbuf_addf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name,
			   type);
}

static int histogram(struct strbuf *b, const char *name, const char *label,
		     const struct histogram *h)
{
	const char *sep = label[0] ? "," : "";
	int i, err = 0;

	for (i = 0; i < METRICS_BUCKETS && !err; i++)
		err = strbuf_addf(b, "%s_bucket{%s%sle=\"%g\"} %llu\n", name,
				  label, sep, h->bounds[i],
				  (unsigned long long)h->counts[i]);
	if (!err)
		err = strbuf_addf(b, "%s_bucket{%s%sle=\"+Inf\"} %llu\n", name,
				  label, sep, (unsigned long long)h->count);
	if (!err)
		err = strbuf_addf(b, "%s_sum%s%s%s %.6f\n%s_count%s%s%s %llu\n",
				  name, label[0] ? "{" : "", label,
				  label[0] ? "}" : "", h->sum, name,
				  label[0] ? "{" : "", label,
				  label[0] ? "}" : "",
				  (unsigned long long)h->count);
	return err;
}

/* What engines' container events cost (agent/watch/events.c, pace.c). */
static int render_events(const struct event_stats *st, struct strbuf *b)
{
	int c, err;

	err = header(b, "peerwatch_engine_events_total", "counter",
		     "Container events received from engines, by class of action.");
	for (c = 0; c < EVENT_NCLASSES && !err; c++)
		err = strbuf_addf(b, "peerwatch_engine_events_total{class=\"%s\"} %llu\n",
				  event_class_name(c),
				  (unsigned long long)st->by_class[c]);
	err = err ?: header(b, "peerwatch_engine_event_refreshes_total", "counter",
			    "Listings sent to engines for their events.");
	err = err ?: strbuf_addf(b, "peerwatch_engine_event_refreshes_total %llu\n",
				 (unsigned long long)st->refreshes);
	err = err ?: header(b, "peerwatch_engine_event_refreshes_saved_total", "counter",
			    "Events answered by a listing sent for another (coalescing).");
	err = err ?: strbuf_addf(b, "peerwatch_engine_event_refreshes_saved_total %llu\n",
				 (unsigned long long)st->saved);
	err = err ?: header(b, "peerwatch_engine_event_floods_total", "counter",
			    "Times an engine's events degraded into periodic full listings.");
	err = err ?: strbuf_addf(b, "peerwatch_engine_event_floods_total %llu\n",
				 (unsigned long long)st->floods);
	return err;
}

static int render_fleet(const struct metrics *m, struct strbuf *b)
{
	const struct fleet *f = m->fleet;
	const struct engine_stats *st = &f->env.stats;
	struct tls_stats ts = { 0 };
	struct conn_handshake_stats hs;
	size_t counts[ENGINE_NSTATES], containers = 0, fd_limited = 0, i;
	size_t mem_limited = 0;
	int s, c, err;

	fleet_count(f, counts);
	for (i = 0; i < f->n; i++) {
		containers += f->v[i]->inv.n;
		if (f->v[i]->state != ENGINE_HEALTHY &&
		    f->v[i]->cause == CAUSE_FD_LIMIT)
			fd_limited++;
		if (f->v[i]->state != ENGINE_HEALTHY &&
		    f->v[i]->cause == CAUSE_MEM_LIMIT)
			mem_limited++;
	}
	err = header(b, "peerwatch_engines", "gauge", "Engines by state.");
	for (s = 0; s < ENGINE_REMOVED && !err; s++)
		err = strbuf_addf(b, "peerwatch_engines{state=\"%s\"} %zu\n",
				  engine_state_name(s), counts[s]);
	err = err ?: header(b, "peerwatch_engines_capacity", "gauge",
			    "Engines that can have their connections: all of them, or fewer under the descriptor limit.");
	err = err ?: strbuf_addf(b, "peerwatch_engines_capacity %zu\n",
				 f->capacity < f->n ? f->capacity : f->n);
	err = err ?: header(b, "peerwatch_engines_fd_limited", "gauge",
			    "Engines without their connections for want of descriptors (cause fd-limit).");
	err = err ?: strbuf_addf(b, "peerwatch_engines_fd_limited %zu\n",
				 fd_limited);
	err = err ?: header(b, "peerwatch_engines_mem_limited", "gauge",
			    "Engines refused for want of memory (cause mem-limit).");
	err = err ?: strbuf_addf(b, "peerwatch_engines_mem_limited %zu\n",
				 mem_limited);
	err = err ?: header(b, "peerwatch_memory_limit_bytes", "gauge",
			    "The memory limit the engines are budgeted under (cgroup or --memory-max); 0: none.");
	err = err ?: strbuf_addf(b, "peerwatch_memory_limit_bytes %llu\n",
				 (unsigned long long)f->env.mem.limit);
	err = err ?: header(b, "peerwatch_memory_expected_bytes", "gauge",
			    "What the memory model expects the agent to hold for these engines and containers.");
	err = err ?: strbuf_addf(b, "peerwatch_memory_expected_bytes %llu\n",
				 (unsigned long long)memgate_model(f->n, containers));
	err = err ?: header(b, "peerwatch_containers", "gauge",
			    "Containers in the inventory of every engine.");
	err = err ?: strbuf_addf(b, "peerwatch_containers %zu\n", containers);
	err = err ?: header(b, "peerwatch_connections", "gauge",
			    "Open connections to engines (polling and /events).");
	err = err ?: strbuf_addf(b, "peerwatch_connections %zu\n",
				 conn_open_count());
	err = err ?: header(b, "peerwatch_engine_requests_total", "counter",
			    "Requests sent to engines.");
	err = err ?: strbuf_addf(b, "peerwatch_engine_requests_total %llu\n",
				 (unsigned long long)st->requests);
	err = err ?: header(b, "peerwatch_engine_pings_total", "counter",
			    "Pings of idle polling connections (--ping-interval).");
	err = err ?: strbuf_addf(b, "peerwatch_engine_pings_total %llu\n",
				 (unsigned long long)st->pings);
	err = err ?: header(b, "peerwatch_engine_late_pings_total", "counter",
			    "Pings pipelined behind a late answer (--late-ping).");
	err = err ?: strbuf_addf(b, "peerwatch_engine_late_pings_total %llu\n",
				 (unsigned long long)st->late_pings);
	err = err ?: header(b, "peerwatch_engine_errors_total", "counter",
			    "Failed requests and connections to engines, by cause.");
	for (c = CAUSE_NONE + 1; c <= CAUSE_ERROR && !err; c++)
		err = strbuf_addf(b, "peerwatch_engine_errors_total{cause=\"%s\"} %llu\n",
				  cause_name(c),
				  (unsigned long long)st->errors_by_cause[c]);
	err = err ?: render_events(&f->env.events, b);
	err = err ?: header(b, "peerwatch_engine_transitions_total", "counter",
			    "Engine state transitions.");
	err = err ?: strbuf_addf(b, "peerwatch_engine_transitions_total %llu\n",
				 (unsigned long long)st->transitions);
	/* Zero without --tls: the series exist either way. */
	if (f->env.tls)
		tls_ctx_stats(f->env.tls, &ts);
	err = err ?: header(b, "peerwatch_tls_handshakes_total", "counter",
			    "Completed TLS handshakes with engines, by whether they resumed a session.");
	err = err ?: strbuf_addf(b, "peerwatch_tls_handshakes_total{resumed=\"false\"} %llu\n"
				 "peerwatch_tls_handshakes_total{resumed=\"true\"} %llu\n",
				 (unsigned long long)(ts.handshakes - ts.resumed),
				 (unsigned long long)ts.resumed);
	err = err ?: header(b, "peerwatch_tls_own_records_total", "counter",
			    "TLS 1.3 connections that left OpenSSL after the handshake for the agent's own record layer (--tls-own-records).");
	err = err ?: strbuf_addf(b, "peerwatch_tls_own_records_total %llu\n",
				 (unsigned long long)ts.own_records);
	err = err ?: header(b, "peerwatch_tls_post_handshake_total", "counter",
			    "Handshake messages from engines on own records, by type: session tickets dropped, key updates followed.");
	err = err ?: strbuf_addf(b, "peerwatch_tls_post_handshake_total{message=\"new_session_ticket\"} %llu\n"
				 "peerwatch_tls_post_handshake_total{message=\"key_update\"} %llu\n",
				 (unsigned long long)ts.tickets_dropped,
				 (unsigned long long)ts.key_updates);
	err = err ?: header(b, "peerwatch_tls_rekeys_total", "counter",
			    "KeyUpdates the agent sent on own records after 2^24 records under one AES-GCM key (RFC 8446 5.5).");
	err = err ?: strbuf_addf(b, "peerwatch_tls_rekeys_total %llu\n",
				 (unsigned long long)ts.rekeys);
	conn_handshake_stats(&hs);
	err = err ?: header(b, "peerwatch_tls_handshakes_running", "gauge",
			    "TLS handshakes running now (at most --tls-handshakes-max).");
	err = err ?: strbuf_addf(b, "peerwatch_tls_handshakes_running %u\n", hs.running);
	err = err ?: header(b, "peerwatch_tls_handshakes_running_peak", "gauge",
			    "Most TLS handshakes running at once since the start.");
	err = err ?: strbuf_addf(b, "peerwatch_tls_handshakes_running_peak %u\n", hs.peak);
	err = err ?: header(b, "peerwatch_tls_handshakes_waiting", "gauge",
			    "Connected sockets waiting for a TLS handshake place now.");
	err = err ?: strbuf_addf(b, "peerwatch_tls_handshakes_waiting %u\n", hs.waiting);
	err = err ?: header(b, "peerwatch_tls_handshake_waits_total", "counter",
			    "Connections that waited for a TLS handshake place (--tls-handshakes-max).");
	err = err ?: strbuf_addf(b, "peerwatch_tls_handshake_waits_total %llu\n",
				 (unsigned long long)hs.waited);
	return err;
}

/*
 * A label value as the exposition format wants it: backslash, double
 * quote and newline escaped. Engine names come from the engines' /info.
 */
static int add_label(struct strbuf *b, const char *name, const char *v,
		     const char *sep)
{
	int err = strbuf_addf(b, "%s%s=\"", sep, name);
	const char *p;
	size_t n;

	for (p = v; *p && !err; p += n) {
		n = strcspn(p, "\\\"\n");
		if (n) {
			err = strbuf_add(b, p, n);
			continue;
		}
		err = strbuf_add(b, *p == '\n' ? "\\n" :
				 *p == '"' ? "\\\"" : "\\\\", 2);
		n = 1;
	}
	return err ?: strbuf_add(b, "\"", 1);
}

static int engine_labels(struct strbuf *b, const char *metric,
			 const struct engine *e)
{
	int err = strbuf_addf(b, "%s{", metric);

	err = err ?: add_label(b, "engine", docker_info_name(&e->info), "");
	err = err ?: add_label(b, "addr", e->addr, ",");
	return err;
}

/*
 * One set of series per engine, for alerts that name it: up (answering:
 * healthy or suspect), since when its state holds, and an info series
 * carrying the state and cause as labels. Three series per engine; the
 * info series changes labels (a new series) at each transition.
 */
#define METRICS_ENGINE_SERIES	3

static int engine_header(struct strbuf *b, unsigned int k)
{
	switch (k) {
	case 0:
		return header(b, "peerwatch_engine_up", "gauge",
			      "1 while the engine answers (healthy or suspect), else 0.");
	case 1:
		return header(b, "peerwatch_engine_state_since_seconds", "gauge",
			      "Unix time of the engine's last transition (0: none yet).");
	default:
		return header(b, "peerwatch_engine_info", "gauge",
			      "The engine's state and the cause of its last transition, as labels; always 1.");
	}
}

/* The @k-th series of @e. */
static int engine_series(struct strbuf *b, unsigned int k,
			 const struct engine *e)
{
	int err;

	switch (k) {
	case 0:
		err = engine_labels(b, "peerwatch_engine_up", e);
		return err ?: strbuf_addf(b, "} %d\n",
					  e->state == ENGINE_HEALTHY ||
					  e->state == ENGINE_SUSPECT);
	case 1:
		err = engine_labels(b, "peerwatch_engine_state_since_seconds", e);
		return err ?: strbuf_addf(b, "} %.3f\n",
					  (double)e->since_ms / 1000);
	default:
		err = engine_labels(b, "peerwatch_engine_info", e);
		err = err ?: add_label(b, "state", engine_state_name(e->state), ",");
		err = err ?: add_label(b, "cause", e->cause == CAUSE_NONE ? "" :
				       cause_name(e->cause), ",");
		return err ?: strbuf_add(b, "} 1\n", 4);
	}
}

static int render_latency(const struct metrics *m, struct strbuf *b)
{
	static const enum engine_state lost[] = {
		ENGINE_SUSPECT, ENGINE_UNHEALTHY, ENGINE_DOWN,
	};
	char label[32];
	size_t i;
	int err;

	err = header(b, "peerwatch_detection_latency_seconds", "histogram",
		     "From an engine's last byte or answer to its leaving healthy, by state entered.");
	for (i = 0; i < sizeof(lost) / sizeof(lost[0]) && !err; i++) {
		snprintf(label, sizeof(label), "state=\"%s\"",
			 engine_state_name(lost[i]));
		err = histogram(b, "peerwatch_detection_latency_seconds", label,
				&m->detection[lost[i]]);
	}
	err = err ?: header(b, "peerwatch_event_loop_lag_seconds", "histogram",
			    "How late the event loop runs a timer.");
	err = err ?: histogram(b, "peerwatch_event_loop_lag_seconds", "",
			       &m->loop_lag);
	return err;
}

/* Zero without the module: the series exist whether or not it is loaded. */
static int render_kernel(const struct metrics *m, struct strbuf *b)
{
	static const struct kevents_stats none;
	const struct kevents_stats *st = m->kev ? kevents_stats(m->kev) : &none;
	int k, err;

	err = header(b, "peerwatch_kernel_events_total", "counter",
		     "Dead-peer events from peerwatch.ko, by type.");
	for (k = PEERWATCH_EVENT_DEAD; k <= PEERWATCH_EVENT_MAX && !err; k++)
		err = strbuf_addf(b, "peerwatch_kernel_events_total{type=\"%s\"} %llu\n",
				  pw_event_name(k),
				  (unsigned long long)st->events[k]);
	err = err ?: header(b, "peerwatch_kernel_dead_total", "counter",
			    "DEAD events from peerwatch.ko, by reason.");
	for (k = PEERWATCH_REASON_USER_TIMEOUT; k <= PEERWATCH_REASON_MAX && !err; k++)
		err = strbuf_addf(b, "peerwatch_kernel_dead_total{reason=\"%s\"} %llu\n",
				  pw_reason_name(k),
				  (unsigned long long)st->dead[k]);
	err = err ?: header(b, "peerwatch_kernel_events_lost_total", "counter",
			    "Times the kernel dropped events for this subscriber (ENOBUFS).");
	err = err ?: strbuf_addf(b, "peerwatch_kernel_events_lost_total %llu\n",
				 (unsigned long long)st->lost);
	err = err ?: header(b, "peerwatch_kernel_resyncs_total", "counter",
			    "Times every connection was checked (SO_ERROR, TCP_INFO): events lost, or the module loaded.");
	err = err ?: strbuf_addf(b, "peerwatch_kernel_resyncs_total %llu\n",
				 (unsigned long long)st->resyncs);
	err = err ?: header(b, "peerwatch_kernel_resync_found_total", "counter",
			    "Connections those checks found failed, retransmitting or recovered.");
	err = err ?: strbuf_addf(b, "peerwatch_kernel_resync_found_total %llu\n",
				 (unsigned long long)st->resync_found);
	return err;
}

static int render_api(const struct metrics *m, struct strbuf *b)
{
	unsigned int r;
	int k, err = 0;

	err = err ?: header(b, "peerwatch_api_requests_total", "counter",
			    "Control API requests answered, by route and status class.");
	for (r = 0; r < m->nroutes && !err; r++)
		for (k = 2; k < 6 && !err; k++)
			err = strbuf_addf(b, "peerwatch_api_requests_total{route=\"%s\",code=\"%dxx\"} %llu\n",
					  m->route_label[r], k,
					  (unsigned long long)m->api_requests[r][k]);
	err = err ?: header(b, "peerwatch_api_clients", "gauge",
			    "Control API clients connected.");
	err = err ?: strbuf_addf(b, "peerwatch_api_clients %llu\n",
				 (unsigned long long)m->api_clients);
	err = err ?: header(b, "peerwatch_api_streams", "gauge",
			    "Control API /v1/events readers.");
	err = err ?: strbuf_addf(b, "peerwatch_api_streams %llu\n",
				 (unsigned long long)m->api_streams);
	err = err ?: header(b, "peerwatch_api_limit_reached_total", "counter",
			    "Times the client limit left new API clients waiting in the listen backlog.");
	err = err ?: strbuf_addf(b, "peerwatch_api_limit_reached_total %llu\n",
				 (unsigned long long)m->api_full);
	err = err ?: header(b, "peerwatch_api_silent_refused_total", "counter",
			    "Clients that had sent nothing for a second, answered 503 at the client limit to make room.");
	err = err ?: strbuf_addf(b, "peerwatch_api_silent_refused_total %llu\n",
				 (unsigned long long)m->api_silent);
	err = err ?: header(b, "peerwatch_api_accept_paused_total", "counter",
			    "Times accepting API clients failed (out of descriptors or memory) and paused.");
	err = err ?: strbuf_addf(b, "peerwatch_api_accept_paused_total %llu\n",
				 (unsigned long long)m->api_accept_paused);
	err = err ?: header(b, "peerwatch_api_timeouts_total", "counter",
			    "Control API clients closed at a header or write deadline.");
	err = err ?: strbuf_addf(b, "peerwatch_api_timeouts_total %llu\n",
				 (unsigned long long)m->api_timeouts);
	err = err ?: header(b, "peerwatch_api_events_dropped_total", "counter",
			    "/v1/events readers dropped for falling behind.");
	err = err ?: strbuf_addf(b, "peerwatch_api_events_dropped_total %llu\n",
				 (unsigned long long)m->api_dropped);
	return err;
}

/*
 * The allocator's view: what the agent holds, and what it has freed but
 * the heap keeps (fragmentation; handed back after big API answers).
 */
static int render_memory(struct strbuf *b)
{
	struct mallinfo2 mi = mallinfo2();
	int err;

	err = header(b, "peerwatch_heap_bytes", "gauge",
		     "Heap memory, in use (including mmapped blocks) and free within the heap.");
	err = err ?: strbuf_addf(b, "peerwatch_heap_bytes{state=\"in_use\"} %zu\n",
				 mi.uordblks + mi.hblkhd);
	err = err ?: strbuf_addf(b, "peerwatch_heap_bytes{state=\"free\"} %zu\n",
				 mi.fordblks);
	return err;
}

/* Only with --on-transition. */
static int render_hook(const struct metrics *m, struct strbuf *b)
{
	const struct hook_stats *st = m->hook;
	int err;

	if (!st)
		return 0;
	err = header(b, "peerwatch_hook_runs_total", "counter",
		     "Runs of the --on-transition command, by result (a timeout is a failure too).");
	err = err ?: strbuf_addf(b, "peerwatch_hook_runs_total{result=\"ok\"} %llu\n"
				 "peerwatch_hook_runs_total{result=\"failed\"} %llu\n",
				 (unsigned long long)st->ok,
				 (unsigned long long)st->failed);
	err = err ?: header(b, "peerwatch_hook_timeouts_total", "counter",
			    "Runs killed at --on-transition-timeout.");
	err = err ?: strbuf_addf(b, "peerwatch_hook_timeouts_total %llu\n",
				 (unsigned long long)st->timeouts);
	err = err ?: header(b, "peerwatch_hook_coalesced_total", "counter",
			    "Transitions folded into the run already waiting for their engine.");
	err = err ?: strbuf_addf(b, "peerwatch_hook_coalesced_total %llu\n",
				 (unsigned long long)st->coalesced);
	err = err ?: header(b, "peerwatch_hook_dropped_total", "counter",
			    "Transitions not run: the queue (--on-transition-queue) was full.");
	err = err ?: strbuf_addf(b, "peerwatch_hook_dropped_total %llu\n",
				 (unsigned long long)st->dropped);
	err = err ?: header(b, "peerwatch_hook_running", "gauge",
			    "Runs of the --on-transition command now.");
	err = err ?: strbuf_addf(b, "peerwatch_hook_running %u\n", st->running);
	err = err ?: header(b, "peerwatch_hook_queued", "gauge",
			    "Engines whose run waits for a free slot.");
	err = err ?: strbuf_addf(b, "peerwatch_hook_queued %u\n", st->queued);
	return err;
}

/* Only with --cluster: an agent alone has no such series. */
static int render_cluster(const struct metrics *m, struct strbuf *b)
{
	const struct fleet *f = m->fleet;
	struct fleet_share_stats st = { 0 };
	int err;

	if (!f->share)
		return 0;
	f->share->stats(f->share->arg, &st);
	err = header(b, "peerwatch_cluster_up", "gauge",
		     "1 while this agent holds a lease in etcd and follows the others.");
	err = err ?: strbuf_addf(b, "peerwatch_cluster_up %d\n", st.up);
	err = err ?: header(b, "peerwatch_cluster_agents", "gauge",
			    "Live agents sharing the fleet, this one included.");
	err = err ?: strbuf_addf(b, "peerwatch_cluster_agents %zu\n", st.agents);
	err = err ?: header(b, "peerwatch_cluster_engines", "gauge",
			    "Engines watched here, and in the whole fleet.");
	err = err ?: strbuf_addf(b, "peerwatch_cluster_engines{where=\"here\"} %zu\n"
				 "peerwatch_cluster_engines{where=\"fleet\"} %zu\n",
				 f->n, f->all.n);
	err = err ?: header(b, "peerwatch_etcd_requests_total", "counter",
			    "Requests to etcd (calls and watches).");
	err = err ?: strbuf_addf(b, "peerwatch_etcd_requests_total %llu\n",
				 (unsigned long long)st.requests);
	err = err ?: header(b, "peerwatch_etcd_errors_total", "counter",
			    "Failed requests to etcd.");
	err = err ?: strbuf_addf(b, "peerwatch_etcd_errors_total %llu\n",
				 (unsigned long long)st.errors);
	err = err ?: header(b, "peerwatch_etcd_writes_total", "counter",
			    "Keys written to etcd (engine states, membership).");
	err = err ?: strbuf_addf(b, "peerwatch_etcd_writes_total %llu\n",
				 (unsigned long long)st.writes);
	err = err ?: header(b, "peerwatch_etcd_keepalives_total", "counter",
			    "Lease keepalives sent to etcd.");
	err = err ?: strbuf_addf(b, "peerwatch_etcd_keepalives_total %llu\n",
				 (unsigned long long)st.keepalives);
	return err;
}

/* The series after the engines'. */
static int render_rest(const struct metrics *m, struct strbuf *out)
{
	int err;

	err = render_latency(m, out);
	err = err ?: render_kernel(m, out);
	err = err ?: render_api(m, out);
	err = err ?: render_hook(m, out);
	err = err ?: render_cluster(m, out);
	err = err ?: render_memory(out);
	return err;
}

/*
 * Where an answer is: the fleet's series (part 0), each engine series
 * (parts 1 to METRICS_ENGINE_SERIES, engine @i next), the rest. Engines
 * are taken by index, each batch anew: one removed meanwhile is at worst
 * missed, never read after it was freed.
 */
struct metrics_cursor {
	const struct metrics *m;
	unsigned int part;
	size_t i;
};

int metrics_cursor_new(struct metrics_cursor **cp, const struct metrics *m)
{
	struct metrics_cursor *mc = calloc(1, sizeof(*mc));

	if (!mc)
		return -ENOMEM;
	mc->m = m;
	*cp = mc;
	return 0;
}

void metrics_cursor_free(void *cur)
{
	free(cur);
}

int metrics_more(void *cur, struct strbuf *out, bool *done)
{
	struct metrics_cursor *mc = cur;
	const struct fleet *f = mc->m->fleet;
	size_t start = out->len;
	int err = 0;

	*done = false;
	if (mc->part == 0) {
		err = render_fleet(mc->m, out);
		mc->part++;
	}
	while (!err && mc->part <= METRICS_ENGINE_SERIES &&
	       out->len - start < METRICS_BATCH) {
		if (!mc->i)
			err = engine_header(out, mc->part - 1);
		for (; !err && mc->i < f->n &&
		       out->len - start < METRICS_BATCH; mc->i++)
			err = engine_series(out, mc->part - 1, f->v[mc->i]);
		if (mc->i >= f->n) {
			mc->part++;
			mc->i = 0;
		}
	}
	if (!err && mc->part > METRICS_ENGINE_SERIES) {
		err = render_rest(mc->m, out);
		*done = !err;
	}
	return err;
}

int metrics_render(const struct metrics *m, struct strbuf *out)
{
	struct metrics_cursor mc = { .m = m };
	bool done = false;
	int err = 0;

	while (!err && !done)
		err = metrics_more(&mc, out, &done);
	return err;
}

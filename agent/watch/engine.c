// SPDX-License-Identifier: GPL-2.0
/*
 * One Docker engine: the Docker API requests in Swarm's order on its
 * polling channel, its /events stream on another (channel.c carries both),
 * and the node state with its cause.
 *
 * What is still to ask is a set of work bits; poll_next() asks the first
 * of them whenever the polling channel is idle, and an answer clears its
 * bit only when it was good.
 *
 * Health: a failure that says the engine cannot be reached (user timeout,
 * reset, refused...) makes it down at once; any other failure (a request
 * deadline, bad HTTP, an error status) counts, and --engine-failure-retry
 * of them in a row make it unhealthy. Both retry with exponential backoff
 * and full jitter; a complete refresh (ping, version, info, containers)
 * with its /events stream flowing makes it healthy again and resets the
 * counters. No descriptor for either connection (EMFILE, ENFILE) makes
 * it unhealthy at once, cause fd-limit; an engine the fleet has no room
 * for is held there without connections (engine_hold()). Its first
 * listing is asked through the memory gate (memgate.c): it may wait its
 * turn, or be refused and held, cause mem-limit, its connections closed.
 *
 * Between refreshes, a polling channel idle for --ping-interval sends a
 * /_ping: a frozen engine then fails it like a refresh (ping-timeout), and
 * a blackholed one has data of ours to retransmit. With --tls-close-idle
 * there may be no polling connection between refreshes: the next one
 * fails instead.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backoff.h"
#include "clock.h"
#include "container_of.h"
#include "engine.h"
#include "hostport.h"
#include "intern.h"
#include "listing.h"
#include "log.h"
#include "pace.h"
#include "rand.h"
#include "resolver.h"

enum {
	W_PING = 1 << 0,
	W_VERSION = 1 << 1,
	W_INFO = 1 << 2,
	W_CONTAINERS = 1 << 3,
	W_TARGETED = 1 << 4,
	/* A full refresh: what a new or recovering engine must answer. */
	W_CYCLE = W_PING | W_VERSION | W_INFO | W_CONTAINERS,
};

static void poll_next(struct engine *e);

static struct loop *loop_of(const struct engine *e)
{
	return e->env->loop;
}

static const struct engine_cfg *cfg_of(const struct engine *e)
{
	return e->env->cfg;
}


/*
 * Every transition is logged here, once, with its cause, at the priority
 * an operator filters on (journalctl -p warning): losing an engine is a
 * warning, its recovery a notice, the rest (first contact, removal,
 * suspect) information; those of engines held for want of descriptors
 * only at debug level: the fleet says it in one line for all of them.
 * The engine is named by address and, once its /info told it, by name.
 */
static enum log_level transition_level(const struct engine *e,
				       enum engine_state from,
				       enum engine_state to)
{
	if (e->held)
		return LOG_DEBUG;
	if (to == ENGINE_DOWN || to == ENGINE_UNHEALTHY)
		return LOG_WARN;
	if (to == ENGINE_HEALTHY && from != ENGINE_PENDING)
		return LOG_NOTICE;
	return LOG_INFO;
}

/*
 * The /events stream and the pace of the refreshes its events ask for:
 * allocated only with --events, e->events pointing at @ch.
 */
struct engine_events {
	struct engine_chan ch;
	struct loop_timer retry;
	struct pace pace;
};

static struct engine_events *events_of(struct engine *e)
{
	return e->events ? container_of(e->events, struct engine_events, ch) :
	       NULL;
}

static struct pace *pace_of(struct engine *e)
{
	return &events_of(e)->pace;
}

/* A listing answered: what events asked for may be asked next. */
static void pace_done_of(struct engine *e)
{
	if (e->events)
		pace_done(pace_of(e), &e->inv);
}

/* Held when interning fails: the error's words are lost, not its cause. */
static const char error_nomem[] = "(no memory for the error's text)";

static void clear_error(struct engine *e)
{
	if (e->error[0] && e->error != error_nomem)
		intern_put_str(e->error);
	e->error = "";
}

/*
 * The last error, in words: interned, as engines failing alike (a
 * network down, a fleet restarted) repeat it, and held only while set.
 */
static void __attribute__((format(printf, 2, 3)))
set_error(struct engine *e, const char *fmt, ...)
{
	char buf[ENGINE_ERROR_MAX];
	const char *s;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	else if ((size_t)n >= sizeof(buf))
		n = sizeof(buf) - 1;
	s = n ? intern_get_str(buf, (size_t)n) : "";
	clear_error(e);
	e->error = s ? s : error_nomem;
}

static void set_state(struct engine *e, enum engine_state state,
		      enum cause cause)
{
	const struct engine_observer *obs = e->env->observer;
	enum engine_state from = e->state;
	const char *name = docker_info_name(&e->info);

	if (e->state == state)
		return;
	log_msg(transition_level(e, from, state), "engine %s%s%s%s: %s -> %s%s%s%s%s%s",
		e->addr, name[0] ? " (" : "", name, name[0] ? ")" : "",
		engine_state_name(from), engine_state_name(state),
		cause != CAUSE_NONE ? " (" : "",
		cause != CAUSE_NONE ? cause_name(cause) : "",
		cause != CAUSE_NONE && e->error[0] ? ": " : "",
		cause != CAUSE_NONE ? e->error : "",
		cause != CAUSE_NONE ? ")" : "");
	e->state = state;
	e->cause = cause;
	e->since_ms = clock_wall_ms();
	e->alive_ms = e->poll.ch.alive_ms;
	if (e->events && e->events->ch.alive_ms > e->alive_ms)
		e->alive_ms = e->events->ch.alive_ms;
	e->env->stats.transitions++;
	if (obs)
		obs->transition(obs->arg, e, from);
}

static void retry_in(struct engine_chan *ch, unsigned int attempt)
{
	struct engine *e = ch->e;
	uint64_t delay = backoff_delay(attempt, BACKOFF_BASE_MS,
				       cfg_of(e)->backoff_max_ms, rand_u64());

	if (ch != &e->poll) {
		loop_timer_start(loop_of(e), &events_of(e)->retry, delay);
		return;
	}
	e->retrying = true;
	loop_timer_start(loop_of(e), &e->timer, delay);
}

/* The polling connection waits for its retry. */
static bool poll_retry_pending(const struct engine *e)
{
	return e->retrying && loop_timer_active(&e->timer);
}

/* Its events stream closed, its retry stopped; no stream, nothing. */
static void events_stop(struct engine *e)
{
	if (!e->events)
		return;
	channel_close(&e->events->ch);
	loop_timer_stop(loop_of(e), &events_of(e)->retry);
}

static void engine_down(struct engine *e, enum cause cause)
{
	channel_close(&e->poll.ch);
	events_stop(e);
	set_state(e, ENGINE_DOWN, cause);
	retry_in(&e->poll, e->poll.attempts++);
}

/*
 * No descriptor for one of its connections: whatever the other one says,
 * the engine is not watched as it should be, so it is unhealthy at once
 * (with the events stream missing, its containers' changes go unseen),
 * and that channel is retried with backoff.
 */
static void fd_starved(struct engine *e, struct engine_chan *ch)
{
	e->failures++;
	set_state(e, ENGINE_UNHEALTHY, CAUSE_FD_LIMIT);
	retry_in(ch, ch->attempts++);
}

/* The channel of @arg failed and is closed: what it means for the engine. */
static void chan_failed(void *arg, enum cause cause, const char *why)
{
	struct engine_chan *ch = arg;
	struct engine *e = ch->e;
	const char *name = docker_info_name(&e->info);
	bool is_events = ch == e->events;

	listing_put(ch->lst);
	ch->lst = NULL;
	if (!is_events)
		memgate_end(&e->env->mem, &e->mem, false, 0);
	/* The channel does not know our flags: say which one is wanted. */
	if (cause == CAUSE_TLS_REQUIRED)
		why = "the engine wants TLS on this port: plain HTTP refused (use --tls)";
	set_error(e, "%s%s", is_events ? "events: " : "", why);
	e->env->stats.errors++;
	e->env->stats.errors_by_cause[cause]++;
	/* Retries of an engine already marked bad would only repeat it. */
	log_msg(e->state == ENGINE_DOWN || e->state == ENGINE_UNHEALTHY ?
		LOG_DEBUG : LOG_WARN, "engine %s%s%s%s: %s: %s", e->addr,
		name[0] ? " (" : "", name, name[0] ? ")" : "",
		cause_name(cause), e->error);
	ch->resend = false;
	if (cause == CAUSE_FD_LIMIT) {
		fd_starved(e, ch);
		return;
	}
	if (cause_is_down(cause)) {
		e->failures++;
		engine_down(e, cause);
		return;
	}
	/*
	 * A broken stream is retried; it is no verdict on a healthy engine.
	 * One that does not open keeps the engine from becoming healthy: it
	 * is unhealthy, and says why, until the stream flows.
	 */
	if (is_events) {
		if (e->state != ENGINE_HEALTHY && e->state != ENGINE_SUSPECT)
			set_state(e, ENGINE_UNHEALTHY, cause);
		retry_in(ch, ch->attempts++);
		return;
	}
	e->failures++;
	if (e->failures >= cfg_of(e)->failure_retry)
		set_state(e, ENGINE_UNHEALTHY, cause);
	retry_in(ch, e->failures - 1);
}

/* The engine finds fault with what the channel brought: close it, failed. */
static __attribute__((format(printf, 3, 4)))
void engine_fail(struct engine_chan *ch, enum cause cause, const char *fmt,
		 ...)
{
	char why[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	channel_close(&ch->ch);
	chan_failed(ch, cause, why);
}

static void chan_sent(void *arg, enum channel_sent what)
{
	struct engine_chan *ch = arg;
	struct engine_env *env = ch->e->env;

	switch (what) {
	case CHANNEL_SENT_REQUEST:
		env->stats.requests++;
		ch->e->requests++;
		break;
	case CHANNEL_SENT_LATE_PING:
		env->stats.late_pings++;
		break;
	case CHANNEL_SENT_IDLE_PING:
		env->stats.pings++;
		break;
	}
}

static __attribute__((format(printf, 3, 4)))
void poll_send(struct engine *e, enum engine_req req, const char *fmt, ...)
{
	struct channel_req r = {
		.method = "GET",
		.mode = req == REQ_PING ? CHANNEL_PING : CHANNEL_ANSWER,
	};
	char path[2 * CHANNEL_PATH_MAX];
	va_list ap;

	/* Listings are parsed as they arrive (listing.c), not as trees. */
	if (req == REQ_CONTAINERS || req == REQ_CONTAINER)
		r.mode = CHANNEL_RAW;
	listing_put(e->poll.lst);
	e->poll.lst = NULL;

	va_start(ap, fmt);
	vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	r.path = path;
	e->poll.req = req;
	channel_send(&e->poll.ch, &r);
}

static void schedule_refresh(struct engine *e)
{
	const struct engine_cfg *cfg = cfg_of(e);

	e->retrying = false;
	loop_timer_start(loop_of(e), &e->timer,
			 rand_range(cfg->refresh_min_ms, cfg->refresh_max_ms));
}

/* Interned: a fleet runs few versions. 0, or -ENOMEM (then ""). */
static int set_api_version(struct engine *e, const char *v)
{
	const char *s = v[0] ? intern_get_str(v, strlen(v)) : "";

	if (e->api_version[0])
		intern_put_str(e->api_version);
	e->api_version = s ? s : "";
	return s ? 0 : -ENOMEM;
}

static void forget_engine(struct engine *e)
{
	inventory_clear(&e->inv);
	docker_info_clear(&e->info);
	set_api_version(e, "");
}

static int handle_ping(struct engine *e, const struct channel_answer *ans)
{
	const char *v = ans->api_version;

	/* Without the header, unversioned paths get the daemon's default. */
	if (!v[0]) {
		e->api_prefix[0] = '\0';
		return 0;
	}
	if (!docker_api_version_valid(v))
		return -EPROTO;
	snprintf(e->api_prefix, sizeof(e->api_prefix), "/v%s", v);
	return 0;
}

/* Takes @obj. */
static int handle_info(struct engine *e, struct json_object *obj)
{
	struct docker_info info;
	int err;

	err = docker_info_parse(obj, &info);
	if (err)
		return err;
	if (e->info.id[0] && strcmp(e->info.id, info.id)) {
		set_error(e, "ID %.60s -> %.60s", e->info.id, info.id);
		forget_engine(e);
		set_state(e, ENGINE_PENDING, CAUSE_ID_CHANGE);
		e->work |= W_CONTAINERS;
	}
	docker_info_clear(&e->info);
	e->info = info;
	return 0;
}

/* The containers of a listing's whole body, in *@b. */
static int listing_end(struct engine *e, struct listing *lst,
		       struct docker_builder **b)
{
	int err;

	/* No byte of body: not a listing. */
	if (!lst)
		return -EPROTO;
	err = listing_finish(lst, e->inv.hash);
	*b = listing_builder(lst);
	return err;
}

/*
 * A request's work is done only when its answer was good. Takes the body,
 * or the listing @lst it was read into.
 */
static int handle_result(struct engine *e, struct channel_answer *ans,
			 struct listing *lst, size_t *listed)
{
	struct docker_builder *b;
	struct json_object *body = ans->body;
	struct docker_version version;
	unsigned int done;
	int err;

	switch (ans->ping ? REQ_PING : e->poll.req) {
	case REQ_PING:
		err = handle_ping(e, ans);
		done = W_PING;
		break;
	case REQ_VERSION:
		err = docker_version_parse(body, &version);
		if (!err)
			err = set_api_version(e, version.api_version);
		done = W_VERSION;
		break;
	case REQ_INFO:
		err = handle_info(e, body);
		body = NULL;
		if (!err)
			e->info_due = loop_now(loop_of(e)) +
				      cfg_of(e)->info_interval_ms;
		done = W_INFO;
		break;
	case REQ_CONTAINERS:
		err = listing_end(e, lst, &b);
		/* Over --max-containers: -E2BIG, and the inventory stays. */
		if (!err && !listing_unchanged(lst) &&
		    b->n > cfg_of(e)->max_containers) {
			*listed = b->n;
			err = -E2BIG;
		}
		if (!err)
			err = inventory_replace_built(&e->inv, b,
						      listing_hash(lst),
						      listing_length(lst));
		if (!err) {
			e->refreshed_ms = clock_wall_ms();
			schedule_refresh(e);
			pace_done_of(e);
		}
		done = W_CONTAINERS;
		break;
	case REQ_CONTAINER:
		err = listing_end(e, lst, &b);
		if (!err)
			err = inventory_update_built(&e->inv, b);
		if (!err)
			pace_done_of(e);
		done = W_TARGETED;
		break;
	default:
		err = -EPROTO;
		done = 0;
		break;
	}
	json_object_put(body);
	if (!err)
		e->work &= ~done;
	return err;
}

static void events_open(struct engine *e)
{
	channel_connect(&e->events->ch, (struct sockaddr *)&e->sa, e->salen,
			e->tls);
}

/*
 * Healthy once a whole refresh is in, no connection retransmits, and its
 * events stream flows (with --events): an engine is never healthy while
 * it lacks one of its connections.
 */
static void become_healthy(struct engine *e)
{
	if (e->state == ENGINE_HEALTHY || (e->work & W_CYCLE) ||
	    e->poll.ch.suspect ||
	    (e->events && (e->events->ch.suspect ||
			   e->events->ch.state != CHANNEL_STREAMING)))
		return;
	e->poll.attempts = 0;
	set_state(e, ENGINE_HEALTHY, CAUSE_NONE);
	clear_error(e);
}

static void poll_answer(void *arg, struct channel_answer *ans)
{
	struct engine_chan *ch = arg;
	struct engine *e = ch->e;
	struct listing *lst = ch->lst;
	size_t listed = 0;
	int err;

	ch->lst = NULL;
	if (ans->status != 200) {
		listing_put(lst);
		json_object_put(ans->body);
		engine_fail(ch, CAUSE_STATUS, "%s %s: HTTP %u", ans->method,
			    ans->path, ans->status);
		return;
	}
	if (!ans->ping && !ans->body && !lst) {
		engine_fail(ch, CAUSE_PROTOCOL, "%s %s: empty body",
			    ans->method, ans->path);
		return;
	}
	err = handle_result(e, ans, lst, &listed);
	listing_put(lst);
	if (err == -E2BIG) {
		/* The inventory we had stays; the engine says why it is bad. */
		engine_fail(ch, CAUSE_PROTOCOL,
			    "%s %s: %zu containers, more than --max-containers %u",
			    ans->method, ans->path, listed,
			    cfg_of(e)->max_containers);
		return;
	}
	if (err) {
		engine_fail(ch, CAUSE_PROTOCOL,
			    "%s %s: unexpected answer (%s)", ans->method,
			    ans->path, strerror(-err));
		return;
	}
	if (ch->req == REQ_CONTAINERS)
		memgate_end(&e->env->mem, &e->mem, true, e->inv.n);
	e->failures = 0;
	become_healthy(e);
	/* The stream opens once the engine has answered a whole refresh. */
	if (!(e->work & W_CYCLE) && e->events &&
	    e->events->ch.state == CHANNEL_CLOSED &&
	    !loop_timer_active(&events_of(e)->retry))
		events_open(e);
	poll_next(e);
}

static void poll_connected(void *arg)
{
	struct engine_chan *ch = arg;
	struct engine *e = ch->e;

	/*
	 * A new connection may reach a new daemon: ask who it is; unless it
	 * replaces one closed while idle and the events stream is still the
	 * one of then, which a new daemon would have ended.
	 */
	if (!ch->resend && !(e->closed_idle &&
			     e->closed_idle == engine_events_cookie(e)))
		e->work |= W_PING | W_INFO;
	ch->resend = false;
	e->closed_idle = 0;
	if (e->state != ENGINE_HEALTHY)
		e->work |= W_CYCLE;
	poll_next(e);
}

static void poll_closed(void *arg, enum channel_end how)
{
	struct engine_chan *ch = arg;

	listing_put(ch->lst);
	ch->lst = NULL;
	/* Closed while idle: the next request reconnects. */
	if (how == CHANNEL_END_IDLE)
		return;
	memgate_end(&ch->e->env->mem, &ch->e->mem, false, 0);
	/*
	 * Closed under a request, it goes again on a new connection, which
	 * asks nothing more first, so that even a daemon closing after every
	 * answer makes progress.
	 */
	ch->resend = how == CHANNEL_END_UNANSWERED;
	poll_next(ch->e);
}

/* A listing's body, parsed as it arrives. */
static int poll_body(void *arg, const char *data, size_t len)
{
	struct engine_chan *ch = arg;
	struct inventory *inv = &ch->e->inv;
	int err;

	/* A full listing may be the last one again. */
	if (!ch->lst) {
		err = listing_get(&ch->lst, ch->req == REQ_CONTAINERS &&
				  inv->hash ? inv->hashed_len : 0);
		if (err)
			return err;
	}
	return listing_feed(ch->lst, data, len);
}

static const struct channel_ops poll_ops = {
	.connected = poll_connected,
	.answer = poll_answer,
	.body = poll_body,
	.closed = poll_closed,
	.failed = chan_failed,
	.sent = chan_sent,
};

static int events_event(void *arg, struct json_object *obj)
{
	struct engine_chan *ch = arg;
	struct engine *e = ch->e;
	struct docker_event ev;
	int err;

	err = docker_event_parse(obj, &ev);
	if (err)
		return err;
	if (e->env->observer)
		e->env->observer->container(e->env->observer->arg, e, &ev, obj);
	if (strcmp(ev.type, "container"))
		return 0;
	log_debug("engine %s: container %.12s %s", e->addr, ev.id, ev.action);
	pace_event(pace_of(e), &e->inv, &ev);
	return 0;
}

/* Events want containers refreshed now (pace.c). */
static void pace_fire(struct pace *p, bool full)
{
	struct engine *e = container_of(p, struct engine_events, pace)->ch.e;

	e->work |= full ? W_CONTAINERS : W_TARGETED;
	poll_next(e);
}

/* Events flood: the stream is read again when the pace allows. */
static void pace_hold(struct pace *p, bool on)
{
	struct engine *e = container_of(p, struct engine_events, pace)->ch.e;

	if (channel_read_pause(&e->events->ch, on))
		engine_fail(e->events, CAUSE_ERROR, "events: cannot %s reading",
			    on ? "pause" : "resume");
}

static const struct pace_ops pace_ops = {
	.fire = pace_fire,
	.hold = pace_hold,
};

static void events_answer(void *arg, struct channel_answer *ans)
{
	struct engine_chan *ch = arg;

	if (ans->status != 200) {
		engine_fail(ch, CAUSE_STATUS, "%s %s: HTTP %u", ans->method,
			    ans->path, ans->status);
		return;
	}
	ch->attempts = 0;
	become_healthy(ch->e);
	/* The stream flows: an idle polling connection may close now. */
	poll_next(ch->e);
}

static void events_connected(void *arg)
{
	struct engine_chan *ch = arg;
	char path[CHANNEL_PATH_MAX];
	struct channel_req r = {
		.method = "GET",
		.path = path,
		.mode = CHANNEL_STREAM,
	};

	snprintf(path, sizeof(path),
		 "%s/events?filters=%%7B%%22type%%22%%3A%%5B%%22container%%22%%5D%%7D",
		 ch->e->api_prefix);
	channel_send(&ch->ch, &r);
}

/* The daemon ended the stream: come back later. */
static void events_closed(void *arg, enum channel_end how)
{
	struct engine_chan *ch = arg;

	(void)how;
	retry_in(ch, ch->attempts++);
}

static const struct channel_ops events_ops = {
	.connected = events_connected,
	.answer = events_answer,
	.event = events_event,
	.closed = events_closed,
	.failed = chan_failed,
	.sent = chan_sent,
};

static void resolved(void *arg, int err, const struct sockaddr *sa,
		     socklen_t salen)
{
	struct engine *e = arg;

	e->query = NULL;
	if (err) {
		engine_fail(&e->poll, CAUSE_DNS, "%s: %s", engine_host(e),
			    resolver_strerror(err));
		return;
	}
	if (salen > sizeof(e->sa)) {
		engine_fail(&e->poll, CAUSE_DNS, "%s: not an IPv4 or IPv6 address",
			    engine_host(e));
		return;
	}
	memcpy(&e->sa, sa, salen);
	e->salen = salen;
	channel_connect(&e->poll.ch, sa, salen, e->tls);
}

static void poll_open(struct engine *e)
{
	int err;

	if (e->literal) {
		channel_connect(&e->poll.ch, (struct sockaddr *)&e->sa,
				e->salen, e->tls);
		return;
	}
	/* Names are looked up again on every new connection. */
	err = resolver_lookup(e->env->resolver, engine_host(e), e->port,
			      resolved, e, &e->query);
	if (err)
		retry_in(&e->poll, e->poll.attempts++);
}

/* The containers events want refreshed, in one filtered listing. */
static void poll_targeted(struct engine *e)
{
	char filter[200];
	int n = inventory_filter(&e->inv, filter, sizeof(filter));

	if (n > 0) {
		poll_send(e, REQ_CONTAINER, "%s/containers/json?all=1&filters=%s",
			  e->api_prefix, filter);
		return;
	}
	/* Answered by a full listing meanwhile; or, too long, one is due. */
	e->work &= ~W_TARGETED;
	if (n < 0)
		e->work |= W_CONTAINERS;
	else
		pace_done_of(e);
	poll_next(e);
}

/*
 * No memory for what its first listing will bring: the engine is held,
 * without connections, until a reload tries it again (fleet.c).
 */
static void mem_refused(struct engine *e)
{
	struct memgate *g = &e->env->mem;
	char why[ENGINE_ERROR_MAX];

	snprintf(why, sizeof(why),
		 "no memory for its inventory: %zu of %zu engines fit under %s",
		 g->admitted, g->engines, g->what);
	engine_hold(e, CAUSE_MEM_LIMIT, why);
}

/* Whether the first listing may be asked now; else it waits or is held. */
static bool first_listing(struct engine *e)
{
	int err = memgate_ask(&e->env->mem, &e->mem);

	if (err == -ENOMEM)
		mem_refused(e);
	return !err;
}

/*
 * Over TLS an idle polling connection holds an SSL object (tls.c) until
 * the next poll. With --tls-close-idle, a healthy engine whose events
 * stream flows (it carries its news, and ends if the daemon does) has
 * its polling connection closed when its next refresh is far; the
 * refresh reconnects and resumes the TLS session. Between them no ping
 * watches the engine: a frozen one is seen at its next refresh.
 */
static bool close_idle(struct engine *e)
{
	uint64_t min = cfg_of(e)->tls_close_idle_ms;

	if (!min || !e->tls || !e->events || e->state != ENGINE_HEALTHY ||
	    e->events->ch.state != CHANNEL_STREAMING ||
	    !loop_timer_active(&e->timer) || e->retrying ||
	    e->timer.due < loop_now(loop_of(e)) + min)
		return false;
	e->closed_idle = engine_events_cookie(e);
	channel_close(&e->poll.ch);
	return true;
}

static void poll_next(struct engine *e)
{
	struct channel *ch = &e->poll.ch;
	const char *p = e->api_prefix;

	if (ch->state == CHANNEL_CLOSED) {
		if (e->work && !e->query && !poll_retry_pending(e))
			poll_open(e);
		return;
	}
	if (!channel_idle(ch) || ch->suspect)
		return;
	if (!e->work && close_idle(e))
		return;
	if (!e->work)
		channel_wait_ping(ch);
	else if (e->work & W_PING)
		poll_send(e, REQ_PING, DOCKER_PING_PATH);
	else if (e->work & W_VERSION)
		poll_send(e, REQ_VERSION, "%s/version", p);
	else if (e->work & W_INFO)
		poll_send(e, REQ_INFO, "%s/info", p);
	else if (e->work & W_CONTAINERS) {
		if (!first_listing(e))
			return;
		inventory_sent_all(&e->inv);
		poll_send(e, REQ_CONTAINERS, "%s/containers/json?all=1", p);
	} else if (e->work & W_TARGETED)
		poll_targeted(e);
}

/*
 * The polling connection's retry, or the next refresh. A retry may have
 * taken the place of a refresh: it lists the containers too.
 */
static void timer_fn(struct loop_timer *t)
{
	struct engine *e = container_of(t, struct engine, timer);

	if (e->retrying)
		e->work |= W_PING;
	e->retrying = false;
	e->work |= W_CONTAINERS;
	if (loop_now(loop_of(e)) >= e->info_due)
		e->work |= W_VERSION | W_INFO;
	poll_next(e);
}

static void events_retry_fn(struct loop_timer *t)
{
	struct engine *e = container_of(t, struct engine_events, retry)->ch.e;

	if (e->state != ENGINE_DOWN && !(e->work & W_CYCLE) &&
	    e->events->ch.state == CHANNEL_CLOSED)
		events_open(e);
}

void engine_mem_go(struct memgate_ticket *t)
{
	poll_next(container_of(t, struct engine, mem));
}

static void chan_init(struct engine *e, struct engine_chan *ch,
		      const struct channel_ops *ops)
{
	ch->e = e;
	channel_init(&ch->ch, &e->env->chan, e->addr, ops, ch);
}

int engine_new(struct engine **ep, struct engine_env *env, const char *addr)
{
	char host[ENGINE_HOST_MAX];
	struct sockaddr_storage ss;
	size_t alen, hlen;
	struct engine *e;
	const char *why;
	uint16_t port;
	int err;

	err = hostport_parse(addr, host, sizeof(host), &port, &why);
	if (err)
		return err;
	/* One allocation for the engine and "addr\0host\0" after it. */
	alen = strlen(addr) + 1;
	hlen = strlen(host) + 1;
	e = calloc(1, sizeof(*e) + alen + hlen);
	if (!e)
		return -ENOMEM;
	e->env = env;
	e->error = "";
	e->api_version = "";
	docker_info_init(&e->info);
	e->port = port;
	e->addr = memcpy(e + 1, addr, alen);
	memcpy(e->addr + alen, host, hlen);
	/* A name is looked up on every new connection; a literal is set. */
	e->literal = !host_sockaddr(host, e->port, &ss, &e->salen) &&
		     e->salen <= sizeof(e->sa);
	if (e->literal)
		memcpy(&e->sa, &ss, e->salen);
	else
		e->salen = 0;
	if (env->tls) {
		err = tls_peer_new(&e->tls, env->tls, host);
		if (err)
			goto err;
	}
	e->state = ENGINE_PENDING;
	e->held = true;
	e->since_ms = clock_wall_ms();
	chan_init(e, &e->poll, &poll_ops);
	/* Without --events, no stream ever: no room kept for one. */
	if (cfg_of(e)->events) {
		struct engine_events *ev = calloc(1, sizeof(*ev));

		if (!ev) {
			err = -ENOMEM;
			goto err;
		}
		e->events = &ev->ch;
		chan_init(e, e->events, &events_ops);
		loop_timer_init(&ev->retry, events_retry_fn);
		pace_init(&ev->pace, env->loop, &env->events, e->addr,
			  &pace_ops);
	}
	loop_timer_init(&e->timer, timer_fn);
	*ep = e;
	return 0;

err:
	tls_peer_free(e->tls);
	free(events_of(e));
	free(e);
	return err;
}

static struct engine_chan *chan_of(struct engine *e, uint64_t cookie)
{
	if (cookie && engine_cookie(e) == cookie)
		return &e->poll;
	if (cookie && engine_events_cookie(e) == cookie)
		return e->events;
	return NULL;
}

int engine_kernel_suspect(struct engine *e, uint64_t cookie, bool on)
{
	struct engine_chan *ch = chan_of(e, cookie);

	if (!ch)
		return -ENOENT;
	channel_set_suspect(&ch->ch, on);
	if (on && e->state == ENGINE_HEALTHY) {
		set_error(e, "%s connection retransmits",
			  ch == &e->poll ? "polling" : "events");
		set_state(e, ENGINE_SUSPECT, CAUSE_KERNEL_SUSPECT);
	} else if (!on && e->state == ENGINE_SUSPECT && !e->poll.ch.suspect &&
		   !(e->events && e->events->ch.suspect)) {
		clear_error(e);
		set_state(e, ENGINE_HEALTHY, CAUSE_NONE);
	}
	/* What waited for the retransmits to end: work, or the next ping. */
	if (!on && ch == &e->poll)
		poll_next(e);
	return 0;
}

int engine_conn_failed(struct engine *e, uint64_t cookie, enum cause cause,
		       const char *why)
{
	struct engine_chan *ch = chan_of(e, cookie);

	if (!ch)
		return -ENOENT;
	engine_fail(ch, cause, "%s", why);
	return 0;
}

void engine_start(struct engine *e)
{
	e->held = false;
	e->work = W_CYCLE;
	poll_next(e);
}

/* Its connections closed, its timers stopped: nothing of it runs. */
static void engine_quiet(struct engine *e)
{
	channel_close(&e->poll.ch);
	events_stop(e);
	loop_timer_stop(loop_of(e), &e->timer);
	e->retrying = false;
	if (e->events)
		pace_stop(pace_of(e));
}

void engine_hold(struct engine *e, enum cause cause, const char *why)
{
	engine_quiet(e);
	e->work = 0;
	e->held = true;
	set_error(e, "%s", why);
	set_state(e, ENGINE_UNHEALTHY, cause);
}

void engine_remove(struct engine *e)
{
	clear_error(e);
	set_state(e, ENGINE_REMOVED, CAUSE_DISCOVERY);
	engine_free(e);
}

void engine_hand_over(struct engine *e, const char *to)
{
	set_error(e, "to %s", to);
	set_state(e, ENGINE_REMOVED, CAUSE_HANDOVER);
	engine_free(e);
}

void engine_free(struct engine *e)
{
	if (!e)
		return;
	engine_quiet(e);
	resolver_cancel(e->query);
	listing_put(e->poll.lst);
	memgate_drop(&e->env->mem, &e->mem);
	forget_engine(e);
	clear_error(e);
	tls_peer_free(e->tls);
	free(events_of(e));
	free(e);
}

// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "discovery.h"
#include "fleet.h"
#include "kevents.h"
#include "log.h"

/* The engines' channels, with the Docker engines' ping. */
static void channel_env_init(struct channel_env *env, struct loop *loop,
			     struct pool *pool, const struct engine_cfg *cfg)
{
	env->loop = loop;
	env->pool = pool;
	env->cfg = (struct channel_cfg){
		.request_timeout_ms = cfg->request_timeout_ms,
		.late_ping_ms = cfg->late_ping_ms,
		.ping_interval_ms = cfg->ping_interval_ms,
		.ping_timeout_ms = cfg->ping_timeout_ms,
		.max_body = cfg->max_body,
		.ping_path = DOCKER_PING_PATH,
		.conn = cfg->conn,
	};
}

int fleet_new(struct fleet **fp, struct loop *loop, struct pool *pool,
	      struct resolver *resolver, const struct engine_cfg *cfg)
{
	struct fleet *f;

	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	f->env.loop = loop;
	f->env.pool = pool;
	f->env.resolver = resolver;
	f->env.cfg = cfg;
	f->capacity = SIZE_MAX;
	memgate_init(&f->env.mem, loop, engine_mem_go);
	channel_env_init(&f->env.chan, loop, pool, cfg);
	if (cfg->tls.enable) {
		char why[256];
		int err = tls_ctx_new(&f->env.tls, &cfg->tls, why, sizeof(why));

		if (err) {
			log_err("%s", why);
			free(f);
			return err;
		}
		conn_set_handshake_max(cfg->tls_handshakes_max);
	}
	*fp = f;
	return 0;
}

void fleet_free(struct fleet *f)
{
	if (!f)
		return;
	memgate_close(&f->env.mem);
	while (f->n)
		engine_free(f->v[--f->n]);
	if (f->env.tls) {
		struct tls_stats st;

		tls_ctx_stats(f->env.tls, &st);
		log_info("tls: %llu handshakes, %llu resumed, %llu on own records",
			 (unsigned long long)st.handshakes,
			 (unsigned long long)st.resumed,
			 (unsigned long long)st.own_records);
		tls_ctx_free(f->env.tls);
	}
	free(f->v);
	addr_list_clear(&f->all);
	free(f);
}

static int copy_list(struct addr_list *dst, const struct addr_list *src)
{
	struct addr_list l = { 0 };

	l.v = calloc(src->n + 1, sizeof(*l.v));
	if (!l.v)
		return -ENOMEM;
	l.cap = src->n + 1;
	for (l.n = 0; l.n < src->n; l.n++) {
		l.v[l.n] = strdup(src->v[l.n]);
		if (!l.v[l.n]) {
			addr_list_clear(&l);
			return -ENOMEM;
		}
	}
	addr_list_clear(dst);
	*dst = l;
	return 0;
}

struct engine *fleet_find(const struct fleet *f, const char *addr)
{
	size_t lo = 0, hi = f->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(f->v[mid]->addr, addr);

		if (!c)
			return f->v[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static int addr_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Whether the discovery still lists @addr (sorted, unique). */
static bool addr_listed(const struct fleet *f, const char *addr)
{
	return bsearch(&addr, f->all.v, f->all.n, sizeof(f->all.v[0]),
		       addr_cmp);
}

/* The addresses of @all to watch here, in order. */
static const char **ours(const struct fleet *f, size_t *n)
{
	const struct fleet_share *sh = f->share;
	const char **v;
	size_t i;

	v = calloc(f->all.n + 1, sizeof(*v));
	if (!v)
		return NULL;
	*n = 0;
	for (i = 0; i < f->all.n; i++)
		if (!sh || sh->mine(sh->arg, f->all.v[i],
				    fleet_find(f, f->all.v[i])))
			v[(*n)++] = f->all.v[i];
	return v;
}

int fleet_sync(struct fleet *f, const struct addr_list *want)
{
	int err;

	if (want != &f->all) {
		err = copy_list(&f->all, want);
		if (err)
			return err;
	}
	return fleet_reassign(f);
}

void fleet_set_capacity(struct fleet *f, size_t capacity, const char *limit)
{
	f->capacity = capacity;
	snprintf(f->limit, sizeof(f->limit), "%s", limit);
}

void fleet_set_memory(struct fleet *f, uint64_t limit, const char *what)
{
	memgate_set_limit(&f->env.mem, limit, what);
}

/*
 * Engines are started while they fit; the others wait, unhealthy with
 * cause fd-limit, for engines to leave. One that runs keeps running: a
 * reload never takes the connections of an engine to give them to another.
 * The first that fit, in address order, get them: the same ones each time.
 * Engines the memory gate refused are held too and start again here: on
 * a reload they get another try (the limit may have been raised).
 */
static void start_or_hold(struct fleet *f)
{
	size_t running = 0, held = 0, i;
	char why[160];

	f->env.mem.engines = f->n;
	for (i = 0; i < f->n; i++)
		if (!f->v[i]->held)
			running++;
	snprintf(why, sizeof(why),
		 "no descriptors for its connections: %zu of %zu engines fit under %s",
		 f->capacity < f->n ? f->capacity : f->n, f->n, f->limit);
	for (i = 0; i < f->n; i++) {
		struct engine *e = f->v[i];

		if (!e->held)
			continue;
		if (running < f->capacity) {
			engine_start(e);
			running++;
		} else {
			engine_hold(e, CAUSE_FD_LIMIT, why);
			held++;
		}
	}
	f->held = held;
	if (held)
		log_warn("descriptors: %zu engines fit, %zu asked (%s): %zu left unhealthy with cause fd-limit",
			 f->capacity, f->n, f->limit, held);
}

/* A merge of two sorted lists: O(n), and the survivors keep their place. */
int fleet_reassign(struct fleet *f)
{
	struct engine **v = NULL;
	size_t i = 0, j = 0, n = 0, added = 0, removed = 0;
	size_t handed = 0;
	size_t nwant = 0;
	const char **want;
	int err = 0;

	want = ours(f, &nwant);
	if (want)
		v = calloc(f->n + nwant + 1, sizeof(*v));
	if (!v) {
		free(want);
		return -ENOMEM;
	}
	while (i < f->n || j < nwant) {
		int c = i == f->n ? 1 : j == nwant ? -1 :
			strcmp(f->v[i]->addr, want[j]);

		if (c < 0) {
			const char *to = f->share && addr_listed(f, f->v[i]->addr) ?
					 f->share->owner(f->share->arg,
							 f->v[i]->addr) : NULL;

			if (to) {
				engine_hand_over(f->v[i++], to);
				handed++;
			} else {
				engine_remove(f->v[i++]);
				removed++;
			}
		} else if (c == 0) {
			v[n++] = f->v[i++];
			j++;
		} else {
			struct engine *e;

			err = engine_new(&e, &f->env, want[j++]);
			if (err) {
				log_err("engine %s: %s", want[j - 1],
					strerror(-err));
				continue;
			}
			v[n++] = e;
			added++;
		}
	}
	free(f->v);
	f->v = v;
	f->n = n;
	/* Started only now, so none sees a half-built fleet. */
	start_or_hold(f);
	free(want);
	if (added || removed)
		log_info("discovery: %zu engines (%zu added, %zu removed)", n,
			 added, removed);
	if (handed)
		log_info("cluster: %zu engines handed over; %zu watched here",
			 handed, n);
	return 0;
}

void fleet_count(const struct fleet *f, size_t counts[ENGINE_NSTATES])
{
	size_t i;

	memset(counts, 0, ENGINE_NSTATES * sizeof(counts[0]));
	for (i = 0; i < f->n; i++)
		counts[f->v[i]->state]++;
}

static const struct sockaddr *kev_peer(void *arg, uint64_t cookie)
{
	struct fleet *f = arg;
	struct engine *e = engine_by_cookie(&f->env, cookie);

	return e ? &e->sa.sa : NULL;
}

static void kev_suspect(void *arg, uint64_t cookie, bool on)
{
	struct fleet *f = arg;
	struct engine *e = engine_by_cookie(&f->env, cookie);

	if (e)
		engine_kernel_suspect(e, cookie, on);
}

static void kev_failed(void *arg, uint64_t cookie, enum cause cause,
		       const char *why)
{
	struct fleet *f = arg;
	struct engine *e = engine_by_cookie(&f->env, cookie);

	if (e)
		engine_conn_failed(e, cookie, cause, why);
}

/* Two per engine: its polling channel, then its events channel. */
static bool kev_conn(void *arg, size_t i, struct kevents_conn *c)
{
	struct fleet *f = arg;
	const struct channel *ch;

	if (i / 2 >= f->n)
		return false;
	if (i % 2 && !f->v[i / 2]->events) {
		c->cookie = 0;
		c->fd = -1;
		c->suspect = false;
		return true;
	}
	ch = i % 2 ? &f->v[i / 2]->events->ch : &f->v[i / 2]->poll.ch;
	c->cookie = channel_cookie(ch);
	c->fd = channel_fd(ch);
	c->suspect = ch->suspect;
	return true;
}

static bool kev_port(void *arg, size_t i, uint16_t *family, uint16_t *port)
{
	struct fleet *f = arg;

	if (i >= f->n)
		return false;
	/* An engine not yet resolved: its rule is made for IPv4. */
	*family = f->v[i]->sa.sa.sa_family ?: AF_INET;
	*port = f->v[i]->port;
	return true;
}

const struct kevents_ops fleet_kevents_ops = {
	.peer = kev_peer,
	.suspect = kev_suspect,
	.failed = kev_failed,
	.conn = kev_conn,
	.port = kev_port,
};

static void catch_up(void *arg)
{
	kevents_drain(arg);
}

void fleet_hear_kevents(struct fleet *f, struct kevents *k)
{
	f->env.chan.catch_up = catch_up;
	f->env.chan.catch_up_arg = k;
}

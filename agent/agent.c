// SPDX-License-Identifier: GPL-2.0
/*
 * The daemon: the loop, the fleet of engines, discovery and TLS material
 * reloads, signals (through a signalfd, so they are loop events like any
 * other), systemd's notifications, the summary line, the state file and
 * the control API.
 */
#include <errno.h>
#include <libgen.h>
#include <malloc.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent.h"
#include "api.h"
#include "clock.h"
#include "cluster.h"
#include "config.h"
#include "container_of.h"
#include "discovery.h"
#include "etcdsrc.h"
#include "fdlimit.h"
#include "fleet.h"
#include "kevents.h"
#include "log.h"
#include "loop.h"
#include "memlimit.h"
#include "notify.h"
#include "pool.h"
#include "report.h"
#include "resolver.h"

/*
 * What a signal asks for (a state dump, a reload) costs time in proportion
 * to the fleet. Signals come faster than that now and then: a script that
 * sends SIGUSR1 every few seconds and reads the file, an agent slowed
 * down. Answered at once each time, they took the whole loop: under
 * valgrind a dump of 2,000 engines took longer than the test's wait for
 * it, its next SIGUSR1 came during the dump, and the agent dumped back
 * to back for 20 minutes, its engines never connected. So after work that
 * took D ms (a dump or a reload), no more starts until D ms more have
 * passed: the loop keeps at least half of its time. Requests meanwhile
 * are answered by one each, done after the last of them came: its answer
 * is at least as new as each.
 */
struct agent;

struct sigwork {
	struct loop_timer timer;	/* asked for, waiting for its turn */
	void (*fn)(struct agent *a);
	struct agent *a;
};

struct agent {
	const struct config *cfg;
	struct loop *loop;
	struct pool *pool;
	struct resolver *resolver;
	struct fleet *fleet;
	struct kevents *kev;		/* NULL: no netlink at all */
	struct discovery *discovery;
	struct api *api;
	struct cluster *cluster;	/* NULL: alone */
	struct notify *notify;		/* NULL: not under systemd */
	bool ready;			/* READY=1 sent */
	uint64_t started_ms;		/* loop time the engines were added */
	int fatal;			/* why agent_run() stopped early */
	struct report report;
	sigset_t oldmask;
	int sigfd;
	struct loop_io sig_io;
	struct sigwork dump;		/* SIGUSR1 */
	struct sigwork reload;		/* SIGHUP */
	uint64_t sigwork_next_ms;	/* no signal's work before */
	struct loop_timer summary_timer;
	struct loop_timer discovery_timer;
	struct loop_timer memory_timer;
	struct loop_timer status_timer;
};

static const struct conn_opts *cfg_conn(const struct agent *a)
{
	return &a->cfg->engine.conn;
}

/* The memory limit, again: a cgroup's may change under a running agent. */
static void memory_budget(struct agent *a)
{
	char what[96];
	uint64_t limit = memlimit_read(a->cfg->memory_max, what, sizeof(what));

	fleet_set_memory(a->fleet, limit, what);
}

static void reload(struct agent *a)
{
	struct addr_list want = { 0 };
	int err;

	memory_budget(a);
	err = discovery_load(a->discovery, &want);
	if (err) {
		log_err("discovery: %s; keeping the %zu engines we have",
			strerror(-err), a->fleet->n);
		return;
	}
	err = fleet_sync(a->fleet, &want);
	if (err)
		log_err("discovery: %s", strerror(-err));
	kevents_fleet_changed(a->kev);
	addr_list_clear(&want);
}

/* New connections to engines use the new files; live ones stay. */
static void reload_tls(struct agent *a)
{
	struct tls_ctx *t = a->fleet->env.tls;
	char why[256];

	if (!t)
		return;
	if (tls_ctx_reload(t, &a->cfg->engine.tls, why, sizeof(why))) {
		log_err("TLS: %s; keeping the certificates in use", why);
		return;
	}
	log_notice("TLS: certificates reloaded; live connections keep theirs until they reconnect");
}

static void dump_state(struct agent *a)
{
	char *copy = strdup(a->cfg->state_file);
	int err;

	/* The default lives under /run, which may not have it yet. */
	if (copy && mkdir(dirname(copy), 0755) && errno != EEXIST)
		log_warn("state: cannot create the directory of %s: %s",
			 a->cfg->state_file, strerror(errno));
	free(copy);
	err = report_dump(a->fleet, a->cfg->state_file);
	if (err)
		log_err("state: %s: %s", a->cfg->state_file, strerror(-err));
}

/*
 * systemd is told the agent is ready once every engine has been tried
 * (none pending), or after one request timeout, whichever comes first:
 * an unreachable engine must not hold the boot. STATUS= carries the
 * counts, refreshed every AGENT_STATUS_MS.
 */
#define AGENT_READY_POLL_MS	100
#define AGENT_STATUS_MS		10000

static void send_status(struct agent *a)
{
	size_t c[ENGINE_NSTATES];

	fleet_count(a->fleet, c);
	notify_send(a->notify,
		    "%sSTATUS=%zu engines: %zu healthy, %zu suspect, %zu unhealthy, %zu down, %zu pending",
		    a->ready ? "READY=1\n" : "", a->fleet->n, c[ENGINE_HEALTHY],
		    c[ENGINE_SUSPECT], c[ENGINE_UNHEALTHY], c[ENGINE_DOWN],
		    c[ENGINE_PENDING]);
}

static void status_fn(struct loop_timer *t)
{
	struct agent *a = container_of(t, struct agent, status_timer);
	size_t c[ENGINE_NSTATES];

	if (!a->ready) {
		fleet_count(a->fleet, c);
		if (c[ENGINE_PENDING] && loop_now(a->loop) - a->started_ms <
		    a->cfg->engine.request_timeout_ms) {
			loop_timer_start(a->loop, t, AGENT_READY_POLL_MS);
			return;
		}
		a->ready = true;
		log_info("ready: %zu engines, %zu pending", a->fleet->n,
			 c[ENGINE_PENDING]);
	}
	send_status(a);
	loop_timer_start(a->loop, t, AGENT_STATUS_MS);
}

/* Done now if its turn has come, else when it comes (the timer). */
static void sigwork_try(struct sigwork *w)
{
	struct agent *a = w->a;
	uint64_t t0 = clock_mono_ms(), t1;

	if (t0 < a->sigwork_next_ms) {
		/* The loop's clock may be behind: the wait counts from it. */
		loop_timer_start(a->loop, &w->timer,
				 a->sigwork_next_ms - loop_now(a->loop));
		return;
	}
	w->fn(a);
	t1 = clock_mono_ms();
	a->sigwork_next_ms = t1 + (t1 - t0);
}

static void sigwork_fn(struct loop_timer *t)
{
	sigwork_try(container_of(t, struct sigwork, timer));
}

static void sigwork_init(struct sigwork *w, struct agent *a,
			 void (*fn)(struct agent *a))
{
	w->a = a;
	w->fn = fn;
	loop_timer_init(&w->timer, sigwork_fn);
}

/* Asked for: one for all asked while it waits for its turn. */
static void sigwork_ask(struct sigwork *w)
{
	if (!loop_timer_active(&w->timer))
		sigwork_try(w);
}

static void reload_signalled(struct agent *a)
{
	log_info("discovery: reload (SIGHUP)");
	notify_reloading(a->notify);
	reload(a);
	reload_tls(a);
	send_status(a);
}

/*
 * The signals that came, all read before any is answered (one of each
 * is pending at most): a stop is not kept waiting behind a dump.
 */
static void signal_io(struct loop_io *io, uint32_t events)
{
	struct agent *a = container_of(io, struct agent, sig_io);
	struct signalfd_siginfo si;
	bool hup = false, usr1 = false;
	unsigned int stop = 0;

	(void)events;
	while (read(a->sigfd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGHUP)
			hup = true;
		else if (si.ssi_signo == SIGUSR1)
			usr1 = true;
		else
			stop = si.ssi_signo;
	}
	if (stop) {
		log_info("stopping (signal %u)", stop);
		notify_send(a->notify, "STOPPING=1");
		loop_stop(a->loop);
		return;
	}
	if (hup)
		sigwork_ask(&a->reload);
	if (usr1)
		sigwork_ask(&a->dump);
}

static void summary_fn(struct loop_timer *t)
{
	struct agent *a = container_of(t, struct agent, summary_timer);

	report_summary(&a->report, a->fleet, loop_now(a->loop));
	loop_timer_start(a->loop, t, a->cfg->summary_interval_ms);
}

/*
 * glibc keeps what it frees (fault storms, reconnects and big API answers
 * leave the heap fragmented, far above what is in use) and gives memory
 * back by itself only from the top of the heap. Every AGENT_TRIM_MS, when
 * a good part of the heap is free, free pages go back to the kernel: RSS
 * follows what the agent holds. malloc_trim costs a walk of the free
 * chunks, a few milliseconds at 20,000 connections.
 */
#define AGENT_TRIM_MS		10000
#define AGENT_TRIM_MIN_FREE	(1u << 20)

static void memory_fn(struct loop_timer *t)
{
	struct agent *a = container_of(t, struct agent, memory_timer);
	struct mallinfo2 mi = mallinfo2();

	if (mi.fordblks >= AGENT_TRIM_MIN_FREE &&
	    mi.fordblks > (mi.uordblks + mi.hblkhd) / 4)
		malloc_trim(0);
	/* Repeated log lines are summed up when their window ends. */
	log_flush();
	loop_timer_start(a->loop, t, AGENT_TRIM_MS);
}

static void discovery_fn(struct loop_timer *t)
{
	struct agent *a = container_of(t, struct agent, discovery_timer);

	reload(a);
	loop_timer_start(a->loop, t, a->cfg->discovery_interval_ms);
}

static int setup_signals(struct agent *a)
{
	sigset_t mask;

	sigemptyset(&mask);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGUSR1);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	if (sigprocmask(SIG_BLOCK, &mask, &a->oldmask))
		return -errno;
	/* Sends use MSG_NOSIGNAL; this covers c-ares' sockets too. */
	signal(SIGPIPE, SIG_IGN);
	a->sigfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (a->sigfd < 0)
		return -errno;
	return loop_io_add(a->loop, &a->sig_io, a->sigfd, LOOP_READ, signal_io);
}

/* Kernel events are a bonus: the agent works fully without them. */
static void start_kevents(struct agent *a)
{
	struct kevents_cfg kc = {
		.policy = a->cfg->kernel_policy,
		.user_timeout_ms = cfg_conn(a)->user_timeout_ms,
		.rcvbuf = a->cfg->kernel_rcvbuf,
	};
	int err;

	err = kevents_new(&a->kev, a->loop, &kc, &fleet_kevents_ops, a->fleet);
	if (err) {
		log_warn("kernel events: off: %s", strerror(-err));
		return;
	}
	fleet_hear_kevents(a->fleet, a->kev);
}

static void cluster_fatal(void *arg, const char *why)
{
	struct agent *a = arg;

	log_err("cluster: %s", why);
	a->fatal = -EEXIST;
	loop_stop(a->loop);
}

/* Engines taken or handed over: the kernel's rules follow their ports. */
static void cluster_reassigned(void *arg)
{
	struct agent *a = arg;

	kevents_fleet_changed(a->kev);
}

static int start_cluster(struct agent *a, const char **why)
{
	const struct cluster_ops ops = {
		.fatal = cluster_fatal, .reassigned = cluster_reassigned,
		.arg = a,
	};

	if (!a->cfg->cluster.url)
		return 0;
	return cluster_new(&a->cluster, a->loop, a->pool, a->resolver,
			   a->fleet, &a->cfg->cluster, &ops, why);
}

static void discovery_changed(void *arg)
{
	reload(arg);
}

static int start_discovery(struct agent *a, const char **why)
{
	const struct discovery_env env = {
		.loop = a->loop,
		.pool = a->pool,
		.resolver = a->resolver,
		.timeout_ms = a->cfg->engine.request_timeout_ms,
		.changed = discovery_changed,
		.arg = a,
	};

	return discovery_new(&a->discovery, a->cfg->url, a->cfg->engines.v,
			     a->cfg->engines.n, &env, why);
}

int agent_new(struct agent **ap, const struct config *cfg, const char **why)
{
	struct agent *a;
	int err;

	a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	a->cfg = cfg;
	a->sigfd = -1;
	/* Before any failure: agent_free() stops them. */
	loop_timer_init(&a->summary_timer, summary_fn);
	loop_timer_init(&a->discovery_timer, discovery_fn);
	loop_timer_init(&a->memory_timer, memory_fn);
	loop_timer_init(&a->status_timer, status_fn);
	sigwork_init(&a->dump, a, dump_state);
	sigwork_init(&a->reload, a, reload_signalled);
	/* Each engine needs two descriptors: take all the kernel allows. */
	fdlimit_raise();
	*why = "event loop";
	err = loop_new(&a->loop);
	if (!err) {
		*why = "signals";
		err = setup_signals(a);
	}
	if (!err) {
		*why = "NOTIFY_SOCKET";
		err = notify_new(&a->notify, a->loop);
	}
	if (!err) {
		*why = "buffer pool";
		err = pool_new(&a->pool);
	}
	if (!err) {
		*why = "resolver";
		/* A lookup is a request like any other: same bound. */
		err = resolver_new(&a->resolver, a->loop,
				   cfg->engine.request_timeout_ms);
	}
	if (!err) {
		*why = "fleet";
		err = fleet_new(&a->fleet, a->loop, a->pool, a->resolver,
				&cfg->engine);
	}
	if (!err)
		start_kevents(a);
	if (!err)
		err = start_cluster(a, why);
	if (!err)
		err = start_discovery(a, why);
	if (!err)
		err = api_new(&a->api, a->loop, a->fleet, a->kev, &cfg->api,
			      why);
	if (err)
		goto err;
	a->report.last_ms = loop_now(a->loop);
	*ap = a;
	return 0;

err:
	agent_free(a);
	return err;
}

/* With everything else open: what is left is the engines'. */
static void budget(struct agent *a)
{
	const struct fdlimit_needs needs = {
		.api_clients = a->cfg->api.max_clients,
		.cluster = a->cluster != NULL,
		.events = a->cfg->engine.events,
	};
	char limit[64];
	size_t n = fdlimit_engines(&needs, limit, sizeof(limit));

	if (n != SIZE_MAX)
		log_info("descriptors: room for %zu engines (%s)", n, limit);
	fleet_set_capacity(a->fleet, n, limit);
	memory_budget(a);
}

int agent_run(struct agent *a)
{
	struct addr_list want = { 0 };
	int err;

	err = discovery_load(a->discovery, &want);
	if (err)
		return err;
	if ((uint64_t)cfg_conn(a)->keepidle_s * 1000 >= cfg_conn(a)->user_timeout_ms)
		log_warn("--keepalive-idle is not below --user-timeout: a dead engine on an idle connection is seen only after %us",
			 cfg_conn(a)->keepidle_s + cfg_conn(a)->keepintvl_s);
	log_info("peerwatchd: %zu engines from %s", want.n,
		 discovery_describe(a->discovery));
	budget(a);
	err = fleet_sync(a->fleet, &want);
	addr_list_clear(&want);
	if (err)
		return err;
	kevents_fleet_changed(a->kev);
	if (a->cfg->summary_interval_ms)
		loop_timer_start(a->loop, &a->summary_timer,
				 a->cfg->summary_interval_ms);
	if (a->cfg->discovery_interval_ms)
		loop_timer_start(a->loop, &a->discovery_timer,
				 a->cfg->discovery_interval_ms);
	loop_timer_start(a->loop, &a->memory_timer, AGENT_TRIM_MS);
	a->started_ms = loop_now(a->loop);
	if (a->notify)
		loop_timer_start(a->loop, &a->status_timer, 0);
	err = loop_run(a->loop);
	return err ? err : a->fatal;
}

void agent_free(struct agent *a)
{
	if (!a)
		return;
	if (a->loop) {
		loop_timer_stop(a->loop, &a->summary_timer);
		loop_timer_stop(a->loop, &a->discovery_timer);
		loop_timer_stop(a->loop, &a->memory_timer);
		loop_timer_stop(a->loop, &a->status_timer);
		loop_timer_stop(a->loop, &a->dump.timer);
		loop_timer_stop(a->loop, &a->reload.timer);
	}
	notify_free(a->notify);
	api_free(a->api);
	cluster_free(a->cluster);
	/* Before the fleet and the loop it uses. */
	kevents_free(a->kev);
	fleet_free(a->fleet);
	discovery_free(a->discovery);
	resolver_free(a->resolver);
	if (a->loop) {
		/* Connections and queries are freed after a pass: run one. */
		loop_run_once(a->loop, 0);
		loop_io_del(a->loop, &a->sig_io);
	}
	if (a->sigfd >= 0)
		close(a->sigfd);
	pool_free(a->pool);
	loop_free(a->loop);
	sigprocmask(SIG_SETMASK, &a->oldmask, NULL);
	free(a);
}

// SPDX-License-Identifier: GPL-2.0
/*
 * --on-transition CMD: at each engine transition, /bin/sh -c CMD runs with
 * the transition in its environment (PEERWATCH_ENGINE, _ADDR, _OLD_STATE,
 * _NEW_STATE, _CAUSE, _ERROR, _SINCE, _TRANSITIONS), as keepalived runs
 * its notify scripts. The shell, not an argv of our own parsing, so that
 * CMD is written as in a unit file or a crontab.
 *
 * The loop never waits for a hook: children are started with posix_spawn
 * (vfork-like, back once the child has exec'd) and reaped when SIGCHLD
 * comes through a signalfd of our own, a loop event like a socket's
 * (pidfds would do too, but valgrind, which the host suite runs the agent
 * under, does not know pidfd_open). At most cfg->max
 * run at once; one still running at cfg->timeout_ms is killed with its
 * process group (the shell's children too). Transitions beyond that wait
 * in a FIFO queue holding at most one run per engine: a later transition
 * of an engine already waiting is folded into its run (the old state of
 * the first, the new state and cause of the last, and how many they
 * were), and a full queue drops new engines' runs, counted. A flood of
 * transitions thus costs at most one waiting run per engine, whatever its
 * length. Failures are logged once per window of HOOK_LOG_MS, the rest
 * summed up when it ends.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "container_of.h"
#include "hook.h"
#include "log.h"
#include "loop.h"

#define HOOK_LOG_MS	10000

extern char **environ;

/* One run, waiting in the queue or running. */
struct hook_job {
	struct hook *h;
	struct hook_job *next;		/* queue, or the running list */
	struct hook_job *hnext;		/* hash chain, while waiting */
	char *addr;
	char name[DOCKER_NAME_MAX];
	char error[sizeof(((struct engine *)0)->error)];
	enum engine_state from, to;
	enum cause cause;
	uint64_t since_ms;
	unsigned int transitions;
	pid_t pid;
	bool killed;
	struct loop_timer deadline;
};

struct hook {
	struct loop *loop;
	struct hook_cfg cfg;
	struct hook_job *head, **tail;	/* waiting, oldest first */
	struct hook_job **buckets;	/* waiting, by address */
	size_t nbuckets;		/* a power of two */
	struct hook_job *running;
	int sigfd;			/* SIGCHLD */
	struct loop_io sig_io;
	sigset_t oldmask;
	struct hook_stats stats;
	uint64_t log_failed, log_timeouts;	/* not logged in it */
	struct loop_timer log_timer;
};

static size_t bucket_of(const struct hook *h, const char *addr)
{
	uint64_t x = 1469598103934665603ULL;

	for (; *addr; addr++)
		x = (x ^ (unsigned char)*addr) * 1099511628211ULL;
	return x & (h->nbuckets - 1);
}

static void job_free(struct hook_job *j)
{
	free(j->addr);
	free(j);
}

static void log_fn(struct loop_timer *t)
{
	struct hook *h = container_of(t, struct hook, log_timer);

	if (h->log_failed || h->log_timeouts)
		log_warn("on-transition: %llu more failures and %llu more timeouts in %u s, not logged",
			 (unsigned long long)h->log_failed,
			 (unsigned long long)h->log_timeouts, HOOK_LOG_MS / 1000);
	h->log_failed = h->log_timeouts = 0;
}

/* One line per window; the rest counted for the line that ends it. */
static void failure(struct hook *h, const struct hook_job *j, bool timeout,
		    const char *why)
{
	if (timeout)
		h->stats.timeouts++;
	h->stats.failed++;
	if (loop_timer_active(&h->log_timer)) {
		if (timeout)
			h->log_timeouts++;
		else
			h->log_failed++;
		return;
	}
	log_warn("on-transition: engine %s%s%s%s: %s -> %s: %s", j->addr,
		 j->name[0] ? " (" : "", j->name, j->name[0] ? ")" : "",
		 engine_state_name(j->from), engine_state_name(j->to), why);
	loop_timer_start(h->loop, &h->log_timer, HOOK_LOG_MS);
}

#define HOOK_VARS	8

/* The environment of a run: ours, and the transition's (owned). */
struct job_env {
	char **v;
	char *own[HOOK_VARS];
};

static void env_clear(struct job_env *je)
{
	int i;

	for (i = 0; i < HOOK_VARS; i++)
		free(je->own[i]);
	free(je->v);
}

static __attribute__((format(printf, 3, 4)))
int env_set(struct job_env *je, int i, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&je->own[i], fmt, ap);
	va_end(ap);
	if (n < 0) {
		je->own[i] = NULL;
		return -ENOMEM;
	}
	return 0;
}

static int env_build(struct job_env *je, const struct hook_job *j)
{
	size_t n = 0, k = 0, i;
	int err;

	memset(je, 0, sizeof(*je));
	err = env_set(je, 0, "PEERWATCH_ENGINE=%s", j->name);
	err = err ?: env_set(je, 1, "PEERWATCH_ADDR=%s", j->addr);
	err = err ?: env_set(je, 2, "PEERWATCH_OLD_STATE=%s",
			     engine_state_name(j->from));
	err = err ?: env_set(je, 3, "PEERWATCH_NEW_STATE=%s",
			     engine_state_name(j->to));
	err = err ?: env_set(je, 4, "PEERWATCH_CAUSE=%s",
			     j->cause == CAUSE_NONE ? "" : cause_name(j->cause));
	err = err ?: env_set(je, 5, "PEERWATCH_ERROR=%s", j->error);
	err = err ?: env_set(je, 6, "PEERWATCH_SINCE=%llu",
			     (unsigned long long)(j->since_ms / 1000));
	err = err ?: env_set(je, 7, "PEERWATCH_TRANSITIONS=%u",
			     j->transitions);
	while (environ[n])
		n++;
	if (!err) {
		je->v = calloc(n + HOOK_VARS + 1, sizeof(*je->v));
		if (!je->v)
			err = -ENOMEM;
	}
	if (err) {
		env_clear(je);
		return err;
	}
	for (i = 0; i < n; i++)
		if (strncmp(environ[i], "PEERWATCH_", 10))
			je->v[k++] = environ[i];
	for (i = 0; i < HOOK_VARS; i++)
		je->v[k++] = je->own[i];
	return 0;
}

static void start_next(struct hook *h);

static void reaped(struct hook *h, struct hook_job *j, const siginfo_t *si)
{
	struct hook_job **pp;
	char why[64];

	for (pp = &h->running; *pp != j; pp = &(*pp)->next)
		;
	*pp = j->next;
	h->stats.running--;
	loop_timer_stop(h->loop, &j->deadline);
	if (j->killed) {
		snprintf(why, sizeof(why), "still running after %llu ms: killed",
			 (unsigned long long)h->cfg.timeout_ms);
		failure(h, j, true, why);
	} else if (si->si_code == CLD_EXITED && si->si_status == 0) {
		h->stats.ok++;
	} else {
		snprintf(why, sizeof(why), si->si_code == CLD_EXITED ?
			 "exit status %d" : "killed by signal %d",
			 si->si_status);
		failure(h, j, false, why);
	}
	job_free(j);
	start_next(h);
}

/*
 * SIGCHLDs coalesce: each is a cue to look at every run. Runs started
 * meanwhile go to the head of the list, behind the walk; a SIGCHLD of
 * theirs after the read above is pending again.
 */
static void sigchld_io(struct loop_io *io, uint32_t events)
{
	struct hook *h = container_of(io, struct hook, sig_io);
	struct signalfd_siginfo ssi;
	struct hook_job *j, *next;
	siginfo_t si;

	(void)events;
	while (read(h->sigfd, &ssi, sizeof(ssi)) == sizeof(ssi))
		;
	for (j = h->running; j; j = next) {
		next = j->next;
		memset(&si, 0, sizeof(si));
		if (!waitid(P_PID, j->pid, &si, WEXITED | WNOHANG) && si.si_pid)
			reaped(h, j, &si);
	}
}

/* The whole process group: the shell and what it started. */
static void deadline_fn(struct loop_timer *t)
{
	struct hook_job *j = container_of(t, struct hook_job, deadline);

	j->killed = true;
	kill(-j->pid, SIGKILL);
}

static int spawn(struct hook *h, struct hook_job *j)
{
	char *argv[] = { "sh", "-c", (char *)h->cfg.cmd, NULL };
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, all;
	struct job_env env;
	int err;

	err = env_build(&env, j);
	if (err)
		return err;
	sigemptyset(&none);
	sigfillset(&all);
	posix_spawnattr_init(&attr);
	posix_spawn_file_actions_init(&fa);
	/* Our blocked signals and ignored SIGPIPE are not the hook's. */
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK |
				 POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &all);
	posix_spawnattr_setpgroup(&attr, 0);
	/* stdout and stderr are ours (the journal); nothing else is. */
	posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null",
					 O_RDONLY, 0);
	posix_spawn_file_actions_addclosefrom_np(&fa, STDERR_FILENO + 1);
	err = -posix_spawn(&j->pid, "/bin/sh", &fa, &attr, argv, env.v);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	env_clear(&env);
	if (err)
		return err;
	/* Reaped only by sigchld_io(): until then the pid and group are its. */
	loop_timer_init(&j->deadline, deadline_fn);
	loop_timer_start(h->loop, &j->deadline, h->cfg.timeout_ms);
	return 0;
}

static struct hook_job *dequeue(struct hook *h)
{
	struct hook_job *j = h->head, **pp;

	if (!j)
		return NULL;
	h->head = j->next;
	if (!h->head)
		h->tail = &h->head;
	for (pp = &h->buckets[bucket_of(h, j->addr)]; *pp != j;
	     pp = &(*pp)->hnext)
		;
	*pp = j->hnext;
	h->stats.queued--;
	j->next = j->hnext = NULL;
	return j;
}

static void start_next(struct hook *h)
{
	struct hook_job *j;
	char why[96];
	int err;

	while (h->stats.running < h->cfg.max && (j = dequeue(h))) {
		err = spawn(h, j);
		if (err) {
			snprintf(why, sizeof(why), "cannot run /bin/sh: %s",
				 strerror(-err));
			failure(h, j, false, why);
			job_free(j);
			continue;
		}
		j->next = h->running;
		h->running = j;
		h->stats.running++;
	}
}

void hook_transition(struct hook *h, const struct engine *e,
		     enum engine_state from)
{
	struct hook_job *j;
	size_t b;

	b = bucket_of(h, e->addr);
	for (j = h->buckets[b]; j && strcmp(j->addr, e->addr); j = j->hnext)
		;
	if (j) {
		h->stats.coalesced++;
	} else {
		if (h->stats.queued >= h->cfg.queue) {
			h->stats.dropped++;
			return;
		}
		j = calloc(1, sizeof(*j));
		if (!j || !(j->addr = strdup(e->addr))) {
			free(j);
			h->stats.dropped++;
			return;
		}
		j->h = h;
		j->from = from;
		j->hnext = h->buckets[b];
		h->buckets[b] = j;
		*h->tail = j;
		h->tail = &j->next;
		h->stats.queued++;
	}
	j->to = e->state;
	j->cause = e->cause;
	j->since_ms = e->since_ms;
	j->transitions++;
	snprintf(j->name, sizeof(j->name), "%s", docker_info_name(&e->info));
	snprintf(j->error, sizeof(j->error), "%s",
		 e->cause == CAUSE_NONE ? "" : e->error);
	start_next(h);
}

int hook_new(struct hook **hp, struct loop *loop, const struct hook_cfg *cfg)
{
	struct hook *h;
	sigset_t mask;
	int err;

	h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->sigfd = -1;
	h->loop = loop;
	h->cfg = *cfg;
	h->tail = &h->head;
	h->nbuckets = 64;
	while (h->nbuckets < cfg->queue)
		h->nbuckets <<= 1;
	loop_timer_init(&h->log_timer, log_fn);
	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	if (sigprocmask(SIG_BLOCK, &mask, &h->oldmask)) {
		free(h);
		return -errno;
	}
	h->buckets = calloc(h->nbuckets, sizeof(*h->buckets));
	err = h->buckets ? 0 : -ENOMEM;
	if (!err) {
		h->sigfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
		err = h->sigfd < 0 ? -errno : 0;
	}
	if (!err)
		err = loop_io_add(loop, &h->sig_io, h->sigfd, LOOP_READ,
				  sigchld_io);
	if (err) {
		hook_free(h);
		return err;
	}
	*hp = h;
	return 0;
}

void hook_free(struct hook *h)
{
	struct hook_job *j;

	if (!h)
		return;
	while ((j = dequeue(h)))
		job_free(j);
	while ((j = h->running)) {
		h->running = j->next;
		kill(-j->pid, SIGKILL);
		waitpid(j->pid, NULL, 0);
		loop_timer_stop(h->loop, &j->deadline);
		job_free(j);
	}
	loop_timer_stop(h->loop, &h->log_timer);
	log_fn(&h->log_timer);
	if (h->sigfd >= 0) {
		loop_io_del(h->loop, &h->sig_io);
		close(h->sigfd);
	}
	sigprocmask(SIG_SETMASK, &h->oldmask, NULL);
	free(h->buckets);
	free(h);
}

const struct hook_stats *hook_stats(const struct hook *h)
{
	return &h->stats;
}

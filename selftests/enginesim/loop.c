// SPDX-License-Identifier: GPL-2.0
/*
 * The event loop: epoll for descriptors, an array min-heap for timers
 * (ties broken by arming order), and a list of deferred frees that runs
 * once the handlers of a batch are done.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "loop.h"

#define LOOP_BATCH	256

struct loop {
	int epfd;
	int stopping;
	uint64_t now_ms;
	uint64_t seq;
	struct loop_timer **heap;
	unsigned int nr_timers;
	unsigned int cap_timers;
	struct list_head deferred;
};

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int loop_new(struct loop **out)
{
	struct loop *l;

	l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd < 0) {
		int err = -errno;

		free(l);
		return err;
	}
	list_init(&l->deferred);
	l->now_ms = mono_ms();
	*out = l;
	return 0;
}

static void loop_run_deferred(struct loop *l)
{
	struct list_head *pos, *tmp;

	list_for_each_safe(pos, tmp, &l->deferred) {
		struct loop_deferred *d;

		d = container_of(pos, struct loop_deferred, node);
		list_del(pos);
		d->fn(d);
	}
}

void loop_free(struct loop *l)
{
	if (!l)
		return;
	loop_run_deferred(l);
	close(l->epfd);
	free(l->heap);
	free(l);
}

int loop_add(struct loop *l, struct loop_io *io, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = io };

	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, io->fd, &ev))
		return -errno;
	return 0;
}

int loop_mod(struct loop *l, struct loop_io *io, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = io };

	if (epoll_ctl(l->epfd, EPOLL_CTL_MOD, io->fd, &ev))
		return -errno;
	return 0;
}

void loop_del(struct loop *l, struct loop_io *io)
{
	epoll_ctl(l->epfd, EPOLL_CTL_DEL, io->fd, NULL);
}

uint64_t loop_now(const struct loop *l)
{
	return l->now_ms;
}

static int timer_less(const struct loop_timer *a, const struct loop_timer *b)
{
	if (a->when_ms != b->when_ms)
		return a->when_ms < b->when_ms;
	return a->seq < b->seq;
}

static void heap_set(struct loop *l, unsigned int i, struct loop_timer *t)
{
	l->heap[i] = t;
	t->idx = i + 1;
}

static void heap_up(struct loop *l, unsigned int i)
{
	struct loop_timer *t = l->heap[i];

	while (i) {
		unsigned int parent = (i - 1) / 2;

		if (!timer_less(t, l->heap[parent]))
			break;
		heap_set(l, i, l->heap[parent]);
		i = parent;
	}
	heap_set(l, i, t);
}

static void heap_down(struct loop *l, unsigned int i)
{
	struct loop_timer *t = l->heap[i];

	for (;;) {
		unsigned int c = 2 * i + 1;

		if (c >= l->nr_timers)
			break;
		if (c + 1 < l->nr_timers && timer_less(l->heap[c + 1], l->heap[c]))
			c++;
		if (!timer_less(l->heap[c], t))
			break;
		heap_set(l, i, l->heap[c]);
		i = c;
	}
	heap_set(l, i, t);
}

int loop_timer_start(struct loop *l, struct loop_timer *t, uint64_t delay_ms)
{
	loop_timer_stop(l, t);
	if (l->nr_timers == l->cap_timers) {
		unsigned int cap = l->cap_timers ? l->cap_timers * 2 : 64;
		struct loop_timer **h;

		h = realloc(l->heap, cap * sizeof(*h));
		if (!h)
			return -ENOMEM;
		l->heap = h;
		l->cap_timers = cap;
	}
	t->when_ms = l->now_ms + delay_ms;
	t->seq = l->seq++;
	heap_set(l, l->nr_timers++, t);
	heap_up(l, l->nr_timers - 1);
	return 0;
}

void loop_timer_stop(struct loop *l, struct loop_timer *t)
{
	unsigned int i;

	if (!t->idx)
		return;
	i = t->idx - 1;
	t->idx = 0;
	if (--l->nr_timers == i)
		return;
	heap_set(l, i, l->heap[l->nr_timers]);
	heap_down(l, i);
	heap_up(l, l->heap[i]->idx - 1);
}

void loop_defer(struct loop *l, struct loop_deferred *d)
{
	list_add_tail(&d->node, &l->deferred);
}

static void loop_run_timers(struct loop *l)
{
	while (l->nr_timers && l->heap[0]->when_ms <= l->now_ms) {
		struct loop_timer *t = l->heap[0];

		/* Stopped first, so the callback may re-arm it. */
		loop_timer_stop(l, t);
		t->cb(t);
		loop_run_deferred(l);
	}
}

int loop_run(struct loop *l)
{
	struct epoll_event evs[LOOP_BATCH];

	while (!l->stopping) {
		int timeout = -1;
		int n, i;

		if (l->nr_timers) {
			uint64_t when = l->heap[0]->when_ms;

			timeout = when > l->now_ms ? (int)(when - l->now_ms) : 0;
		}
		n = epoll_wait(l->epfd, evs, LOOP_BATCH, timeout);
		if (n < 0 && errno != EINTR)
			return -errno;
		l->now_ms = mono_ms();
		for (i = 0; i < n; i++) {
			struct loop_io *io = evs[i].data.ptr;

			/* Closed earlier in this batch: its free is deferred. */
			if (io->fd < 0)
				continue;
			io->cb(io, evs[i].events);
		}
		loop_run_deferred(l);
		loop_run_timers(l);
	}
	return 0;
}

void loop_stop(struct loop *l)
{
	l->stopping = 1;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * The event loop: descriptors from the backend, one-shot timers in a binary
 * min-heap of pointers into their owners, and deferred work. Fired events
 * are collected first and dispatched after, so a handler may remove any
 * other descriptor (or itself): a removed descriptor is skipped for the rest
 * of the pass and its owner frees it through loop_defer(), after the pass.
 */
#include <errno.h>
#include <stdlib.h>

#include "clock.h"
#include "loop.h"
#include "loop_backend.h"

#define LOOP_MAX_FIRED 1024

struct loop {
	struct loop_backend *backend;
	struct loop_fired fired[LOOP_MAX_FIRED];
	struct loop_timer **heap;
	unsigned int nheap, heap_cap;
	uint64_t timer_seq;
	uint64_t now;
	uint64_t iter;
	struct loop_defer *defer_head, **defer_tail;
	bool stop;
};

int loop_new(struct loop **loopp)
{
	struct loop *loop;
	int err;

	loop = calloc(1, sizeof(*loop));
	if (!loop)
		return -ENOMEM;
	err = backend_new(&loop->backend);
	if (err) {
		free(loop);
		return err;
	}
	loop->defer_tail = &loop->defer_head;
	/* Iteration 0 is never a dispatch pass: see loop_io_del(). */
	loop->iter = 1;
	loop->now = clock_mono_ms();
	*loopp = loop;
	return 0;
}

void loop_free(struct loop *loop)
{
	if (!loop)
		return;
	backend_free(loop->backend);
	free(loop->heap);
	free(loop);
}

uint64_t loop_now(const struct loop *loop)
{
	return loop->now;
}

void loop_update_time(struct loop *loop)
{
	loop->now = clock_mono_ms();
}

int loop_io_add(struct loop *loop, struct loop_io *io, int fd,
		uint32_t events, loop_io_fn fn)
{
	int err;

	io->fd = fd;
	io->events = events;
	io->fn = fn;
	err = backend_add(loop->backend, fd, events, io);
	io->active = !err;
	return err;
}

int loop_io_mod(struct loop *loop, struct loop_io *io, uint32_t events)
{
	int err;

	if (!io->active)
		return -EBADF;
	if (io->events == events)
		return 0;
	err = backend_mod(loop->backend, io->fd, events, io);
	if (!err)
		io->events = events;
	return err;
}

void loop_io_del(struct loop *loop, struct loop_io *io)
{
	if (!io->active)
		return;
	backend_del(loop->backend, io->fd);
	io->active = false;
	/* Events already collected in this pass must not reach it. */
	io->removed_iter = loop->iter;
}

/* Timer heap: ordered by (due, seq); idx kept in each timer for O(log n) stop. */
static bool timer_less(const struct loop_timer *a, const struct loop_timer *b)
{
	if (a->due != b->due)
		return a->due < b->due;
	return a->seq < b->seq;
}

static void heap_set(struct loop *loop, unsigned int i, struct loop_timer *t)
{
	loop->heap[i] = t;
	t->idx = i;
}

static void heap_up(struct loop *loop, unsigned int i)
{
	struct loop_timer *t = loop->heap[i];

	while (i > 0) {
		unsigned int parent = (i - 1) / 2;

		if (!timer_less(t, loop->heap[parent]))
			break;
		heap_set(loop, i, loop->heap[parent]);
		i = parent;
	}
	heap_set(loop, i, t);
}

static void heap_down(struct loop *loop, unsigned int i)
{
	struct loop_timer *t = loop->heap[i];

	for (;;) {
		unsigned int l = 2 * i + 1, r = l + 1, m = l;

		if (l >= loop->nheap)
			break;
		if (r < loop->nheap && timer_less(loop->heap[r], loop->heap[l]))
			m = r;
		if (!timer_less(loop->heap[m], t))
			break;
		heap_set(loop, i, loop->heap[m]);
		i = m;
	}
	heap_set(loop, i, t);
}

void loop_timer_init(struct loop_timer *t, loop_timer_fn fn)
{
	t->idx = LOOP_TIMER_IDLE;
	t->fn = fn;
	t->due = 0;
	t->seq = 0;
}

void loop_timer_stop(struct loop *loop, struct loop_timer *t)
{
	unsigned int i = t->idx;
	struct loop_timer *last;

	if (i == LOOP_TIMER_IDLE)
		return;
	t->idx = LOOP_TIMER_IDLE;
	last = loop->heap[--loop->nheap];
	if (last == t)
		return;
	heap_set(loop, i, last);
	if (i > 0 && timer_less(last, loop->heap[(i - 1) / 2]))
		heap_up(loop, i);
	else
		heap_down(loop, i);
}

int loop_timer_start(struct loop *loop, struct loop_timer *t,
		     uint64_t after_ms)
{
	loop_timer_stop(loop, t);
	if (loop->nheap == loop->heap_cap) {
		unsigned int cap = loop->heap_cap ? loop->heap_cap * 2 : 64;
		struct loop_timer **heap;

		heap = realloc(loop->heap, cap * sizeof(*heap));
		if (!heap)
			return -ENOMEM;
		loop->heap = heap;
		loop->heap_cap = cap;
	}
	t->due = loop->now + after_ms;
	t->seq = loop->timer_seq++;
	heap_set(loop, loop->nheap++, t);
	heap_up(loop, t->idx);
	return 0;
}

void loop_defer(struct loop *loop, struct loop_defer *d, loop_defer_fn fn)
{
	if (d->queued)
		return;
	d->fn = fn;
	d->next = NULL;
	d->queued = true;
	*loop->defer_tail = d;
	loop->defer_tail = &d->next;
}

static void run_timers(struct loop *loop)
{
	/* Timers armed by these callbacks wait for the next pass. */
	uint64_t seq_limit = loop->timer_seq;

	while (loop->nheap) {
		struct loop_timer *t = loop->heap[0];

		if (t->due > loop->now || t->seq >= seq_limit)
			break;
		/* Stopped first, so the callback may re-arm it. */
		loop_timer_stop(loop, t);
		t->fn(t);
	}
}

static void run_deferred(struct loop *loop)
{
	/* Work deferred by deferred work runs too: it is usually a free. */
	while (loop->defer_head) {
		struct loop_defer *d = loop->defer_head;

		loop->defer_head = d->next;
		if (!loop->defer_head)
			loop->defer_tail = &loop->defer_head;
		d->queued = false;
		d->fn(d);
	}
}

static int poll_timeout(struct loop *loop, int max_wait_ms)
{
	uint64_t wait;

	if (loop->defer_head)
		return 0;
	if (!loop->nheap)
		return max_wait_ms;
	wait = loop->heap[0]->due > loop->now ?
	       loop->heap[0]->due - loop->now : 0;
	if (max_wait_ms >= 0 && wait > (uint64_t)max_wait_ms)
		return max_wait_ms;
	return wait > 60000 ? 60000 : (int)wait;
}

int loop_run_once(struct loop *loop, int max_wait_ms)
{
	int i, n;

	n = backend_poll(loop->backend, loop->fired, LOOP_MAX_FIRED,
			 poll_timeout(loop, max_wait_ms));
	if (n < 0)
		return n;
	loop->now = clock_mono_ms();
	loop->iter++;
	for (i = 0; i < n; i++) {
		struct loop_io *io = loop->fired[i].ptr;

		if (!io->active || io->removed_iter == loop->iter)
			continue;
		io->fn(io, loop->fired[i].events);
	}
	run_timers(loop);
	run_deferred(loop);
	return 0;
}

int loop_run(struct loop *loop)
{
	int err = 0;

	loop->stop = false;
	while (!loop->stop && !err)
		err = loop_run_once(loop, -1);
	return err;
}

void loop_stop(struct loop *loop)
{
	loop->stop = true;
}

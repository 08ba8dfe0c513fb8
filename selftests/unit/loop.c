// SPDX-License-Identifier: GPL-2.0
/*
 * The event loop: timer heap order, re-arming, removal during dispatch,
 * readiness asked and told in the loop's own bits.
 */
#include <stddef.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "loop.h"

#define NTIMERS 500

struct rec_timer {
	struct loop_timer t;
	int id;
	int *log;
	int *nlog;
	struct loop *loop;
	int rearm;		/* times left to re-arm itself with 0 ms */
};

static void rec_fn(struct loop_timer *t)
{
	struct rec_timer *r = (struct rec_timer *)t;

	r->log[(*r->nlog)++] = r->id;
	if (r->rearm > 0) {
		r->rearm--;
		loop_timer_start(r->loop, t, 0);
	}
}

static void run_until(struct loop *loop, int *n, int want)
{
	int i;

	for (i = 0; i < 1000 && *n < want; i++)
		loop_run_once(loop, 5);
}

TEST(timers_fire_in_due_order_ties_fifo)
{
	static struct rec_timer t[NTIMERS];
	static int log[NTIMERS];
	struct loop *loop;
	int i, n = 0;

	ASSERT_EQ(0, loop_new(&loop));
	srand(1);
	for (i = 0; i < NTIMERS; i++) {
		t[i] = (struct rec_timer){ .id = i, .log = log, .nlog = &n,
					   .loop = loop };
		loop_timer_init(&t[i].t, rec_fn);
		/* Few distinct dues, so most are ties broken by start order. */
		ASSERT_EQ(0, loop_timer_start(loop, &t[i].t, (rand() % 4) * 10));
	}
	/* Stop every third one, restart some: the heap must stay sound. */
	for (i = 0; i < NTIMERS; i += 3)
		loop_timer_stop(loop, &t[i].t);
	for (i = 0; i < NTIMERS; i += 6)
		ASSERT_EQ(0, loop_timer_start(loop, &t[i].t, 40));
	run_until(loop, &n, NTIMERS - NTIMERS / 6);
	ASSERT_EQ(NTIMERS - (NTIMERS + 2) / 3 + (NTIMERS + 5) / 6, n);
	for (i = 1; i < n; i++) {
		struct rec_timer *a = &t[log[i - 1]], *b = &t[log[i]];

		ASSERT_TRUE(a->t.due < b->t.due ||
			    (a->t.due == b->t.due && a->t.seq < b->t.seq))
			TH_LOG("%d fired before %d", a->id, b->id);
	}
	for (i = 0; i < NTIMERS; i++)
		EXPECT_FALSE(loop_timer_active(&t[i].t));
	loop_free(loop);
}

TEST(rearmed_in_callback_waits_for_next_pass)
{
	struct rec_timer t = { .id = 7 };
	int log[8], n = 0;
	struct loop *loop;

	ASSERT_EQ(0, loop_new(&loop));
	t.log = log;
	t.nlog = &n;
	t.loop = loop;
	t.rearm = 3;
	loop_timer_init(&t.t, rec_fn);
	ASSERT_EQ(0, loop_timer_start(loop, &t.t, 0));
	/* Stopped before its callback, so it may re-arm; once per pass. */
	ASSERT_EQ(0, loop_run_once(loop, 0));
	EXPECT_EQ(1, n);
	EXPECT_TRUE(loop_timer_active(&t.t));
	ASSERT_EQ(0, loop_run_once(loop, 0));
	EXPECT_EQ(2, n);
	run_until(loop, &n, 4);
	EXPECT_EQ(4, n);
	EXPECT_FALSE(loop_timer_active(&t.t));
	loop_free(loop);
}

TEST(timer_waits_at_least_its_delay)
{
	struct rec_timer t = { .id = 1 };
	int log[2], n = 0;
	struct loop *loop;
	uint64_t t0;

	ASSERT_EQ(0, loop_new(&loop));
	t.log = log;
	t.nlog = &n;
	loop_timer_init(&t.t, rec_fn);
	loop_update_time(loop);
	t0 = loop_now(loop);
	ASSERT_EQ(0, loop_timer_start(loop, &t.t, 50));
	while (!n)
		ASSERT_EQ(0, loop_run_once(loop, -1));
	EXPECT_GE(loop_now(loop) - t0, 50ULL);
	EXPECT_LT(loop_now(loop) - t0, 500ULL);
	loop_free(loop);
}

struct pipe_io {
	struct loop_io io;
	struct loop *loop;
	struct pipe_io *other;
	int calls;
};

static void remove_other(struct loop_io *io, uint32_t events)
{
	struct pipe_io *p = (struct pipe_io *)io;

	(void)events;
	p->calls++;
	loop_io_del(p->loop, &p->other->io);
	loop_io_del(p->loop, io);
}

TEST(handler_removed_earlier_in_the_pass_is_not_called)
{
	struct pipe_io a = { 0 }, b = { 0 };
	int pa[2], pb[2];
	struct loop *loop;

	ASSERT_EQ(0, loop_new(&loop));
	ASSERT_EQ(0, pipe(pa));
	ASSERT_EQ(0, pipe(pb));
	ASSERT_EQ(1, write(pa[1], "x", 1));
	ASSERT_EQ(1, write(pb[1], "x", 1));
	a.loop = b.loop = loop;
	a.other = &b;
	b.other = &a;
	ASSERT_EQ(0, loop_io_add(loop, &a.io, pa[0], LOOP_READ, remove_other));
	ASSERT_EQ(0, loop_io_add(loop, &b.io, pb[0], LOOP_READ, remove_other));
	/* Both are ready in the same pass; whichever runs first removes the other. */
	ASSERT_EQ(0, loop_run_once(loop, 100));
	EXPECT_EQ(1, a.calls + b.calls);
	ASSERT_EQ(0, loop_run_once(loop, 0));
	EXPECT_EQ(1, a.calls + b.calls);
	close(pa[0]);
	close(pa[1]);
	close(pb[0]);
	close(pb[1]);
	loop_free(loop);
}

static int deferred_runs;

static void count_defer(struct loop_defer *d)
{
	(void)d;
	deferred_runs++;
}

TEST(deferred_work_runs_once_after_the_pass)
{
	struct loop_defer d = { 0 };
	struct loop *loop;

	ASSERT_EQ(0, loop_new(&loop));
	loop_defer(loop, &d, count_defer);
	loop_defer(loop, &d, count_defer);
	EXPECT_EQ(0, deferred_runs);
	/* Pending work makes the poll return at once. */
	ASSERT_EQ(0, loop_run_once(loop, 10000));
	EXPECT_EQ(1, deferred_runs);
	ASSERT_EQ(0, loop_run_once(loop, 0));
	EXPECT_EQ(1, deferred_runs);
	loop_free(loop);
}

/* What each pass handed to a watched socket. */
struct seen_io {
	struct loop_io io;
	int calls;
	uint32_t events;
};

static void record(struct loop_io *io, uint32_t events)
{
	struct seen_io *s = (struct seen_io *)io;

	s->calls++;
	s->events = events;
}

static uint32_t pass(struct loop *loop, struct seen_io *s)
{
	s->events = 0;
	loop_run_once(loop, 100);
	return s->events;
}

/* The loop's bits go through the backend and come back as the loop's. */
TEST(readiness_is_asked_and_told_in_loop_bits)
{
	struct seen_io r = { 0 }, w = { 0 }, e = { 0 };
	int sv[2], sw[2], se[2];
	struct loop *loop;

	ASSERT_EQ(0, loop_new(&loop));
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv));
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sw));
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, se));

	ASSERT_EQ(0, loop_io_add(loop, &w.io, sw[0], LOOP_WRITE, record));
	EXPECT_EQ(LOOP_WRITE, pass(loop, &w));
	loop_io_del(loop, &w.io);

	ASSERT_EQ(0, loop_io_add(loop, &r.io, sv[0], LOOP_READ | LOOP_HANGUP,
				 record));
	ASSERT_EQ(1, write(sv[1], "x", 1));
	EXPECT_EQ(LOOP_READ, pass(loop, &r));
	ASSERT_EQ(0, shutdown(sv[1], SHUT_WR));
	EXPECT_EQ(LOOP_READ | LOOP_HANGUP, pass(loop, &r));
	close(sv[1]);
	EXPECT_EQ(LOOP_READ | LOOP_HANGUP | LOOP_ERROR, pass(loop, &r));
	loop_io_del(loop, &r.io);

	/* Edge-triggered: one call for one arrival, though it stays unread. */
	ASSERT_EQ(0, loop_io_add(loop, &e.io, se[0], LOOP_READ | LOOP_EDGE,
				 record));
	ASSERT_EQ(1, write(se[1], "x", 1));
	EXPECT_EQ(LOOP_READ, pass(loop, &e));
	EXPECT_EQ(0U, pass(loop, &e));
	EXPECT_EQ(1, e.calls);
	loop_io_del(loop, &e.io);

	close(sv[0]);
	close(sw[0]);
	close(sw[1]);
	close(se[0]);
	close(se[1]);
	loop_free(loop);
}

TEST_HARNESS_MAIN

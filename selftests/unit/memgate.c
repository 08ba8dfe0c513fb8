// SPDX-License-Identifier: GPL-2.0
/*
 * The memory gate: first listings paced in order under a limit, an engine
 * refused only when nothing is in flight, none paced without a limit.
 */
#include <errno.h>

#include "kselftest_harness.h"
#include "container_of.h"
#include "loop.h"
#include "memgate.h"

#define N	40

/* A ticket that asks again when called, noting the order and answers. */
struct fake {
	struct memgate *g;
	struct memgate_ticket t;
	int idx;
	int answer;
};

static int order[N], norder;

static void fake_go(struct memgate_ticket *t)
{
	struct fake *f = container_of(t, struct fake, t);

	f->answer = memgate_ask(f->g, t);
	order[norder++] = f->idx;
}

FIXTURE(gate)
{
	struct loop *loop;
	struct memgate g;
	struct fake f[N];
};

FIXTURE_SETUP(gate)
{
	int i;

	ASSERT_EQ(0, loop_new(&self->loop));
	memset(&self->g, 0, sizeof(self->g));
	memgate_init(&self->g, self->loop, fake_go);
	self->g.engines = N;
	for (i = 0; i < N; i++) {
		memset(&self->f[i], 0, sizeof(self->f[i]));
		self->f[i].g = &self->g;
		self->f[i].idx = i;
	}
	norder = 0;
}

FIXTURE_TEARDOWN(gate)
{
	memgate_close(&self->g);
	loop_free(self->loop);
}

TEST_F(gate, no_limit_nothing_waits)
{
	int i;

	for (i = 0; i < N; i++)
		ASSERT_EQ(0, memgate_ask(&self->g, &self->f[i].t));
	EXPECT_EQ(N, (int)self->g.in_flight);
	for (i = 0; i < N; i++)
		memgate_end(&self->g, &self->f[i].t, true, 10);
	EXPECT_EQ(0, (int)self->g.in_flight);
	EXPECT_EQ(N, (int)self->g.admitted);
	EXPECT_EQ(N * 10ULL, self->g.containers);
	/* Admitted: never asked again. */
	EXPECT_EQ(0, memgate_ask(&self->g, &self->f[0].t));
	EXPECT_EQ(0, (int)self->g.in_flight);
}

TEST_F(gate, paced_in_order)
{
	int i;

	memgate_set_limit(&self->g, 1ULL << 40, "test");
	for (i = 0; i < MEM_LISTINGS_IN_FLIGHT; i++)
		ASSERT_EQ(0, memgate_ask(&self->g, &self->f[i].t));
	for (; i < N; i++)
		ASSERT_EQ(-EAGAIN, memgate_ask(&self->g, &self->f[i].t));
	EXPECT_EQ(MEM_LISTINGS_IN_FLIGHT, (int)self->g.in_flight);
	/* One waiting left the line: it is not called. */
	memgate_drop(&self->g, &self->f[MEM_LISTINGS_IN_FLIGHT + 1].t);
	/* Each listing that ends lets the next in line go, in order. */
	memgate_end(&self->g, &self->f[0].t, true, 5);
	memgate_end(&self->g, &self->f[1].t, false, 0);
	memgate_drop(&self->g, &self->f[2].t);
	ASSERT_EQ(3, norder);
	EXPECT_EQ(MEM_LISTINGS_IN_FLIGHT, order[0]);
	EXPECT_EQ(MEM_LISTINGS_IN_FLIGHT + 2, order[1]);
	EXPECT_EQ(MEM_LISTINGS_IN_FLIGHT + 3, order[2]);
	EXPECT_EQ(0, self->f[MEM_LISTINGS_IN_FLIGHT].answer);
	EXPECT_EQ(0, self->f[MEM_LISTINGS_IN_FLIGHT + 2].answer);
	EXPECT_EQ(0, self->f[MEM_LISTINGS_IN_FLIGHT + 3].answer);
	EXPECT_EQ(MEM_LISTINGS_IN_FLIGHT, (int)self->g.in_flight);
	EXPECT_EQ(1, (int)self->g.admitted);
	/* A newcomer waits behind those still in line. */
	EXPECT_EQ(-EAGAIN, memgate_ask(&self->g, &self->f[1].t));
}

TEST_F(gate, refused_only_when_nothing_is_in_flight)
{
	uint64_t limit;

	memgate_set_limit(&self->g, 1ULL << 40, "test");
	ASSERT_EQ(0, memgate_ask(&self->g, &self->f[0].t));
	/* Now the limit is what is held: nothing more fits. */
	limit = memgate_used(&self->g);
	memgate_set_limit(&self->g, limit, "test");
	/* While a listing is in flight, the next one waits for its end... */
	EXPECT_EQ(-EAGAIN, memgate_ask(&self->g, &self->f[1].t));
	EXPECT_EQ(-EAGAIN, memgate_ask(&self->g, &self->f[2].t));
	memgate_end(&self->g, &self->f[0].t, true, 100);
	/* ...then, nothing in flight and still no room, both are refused. */
	ASSERT_EQ(2, norder);
	EXPECT_EQ(1, order[0]);
	EXPECT_EQ(2, order[1]);
	EXPECT_EQ(-ENOMEM, self->f[1].answer);
	EXPECT_EQ(-ENOMEM, self->f[2].answer);
	EXPECT_EQ(2, (int)self->g.refused);
	EXPECT_EQ(1, (int)self->g.admitted);
	/* A raised limit: a refused engine asking again gets in. */
	memgate_set_limit(&self->g, 1ULL << 40, "test");
	EXPECT_EQ(0, memgate_ask(&self->g, &self->f[1].t));
	EXPECT_EQ(1, (int)self->g.refused);
	memgate_drop(&self->g, &self->f[2].t);
	EXPECT_EQ(0, (int)self->g.refused);
	memgate_drop(&self->g, &self->f[0].t);
	EXPECT_EQ(0, (int)self->g.admitted);
	EXPECT_EQ(0ULL, self->g.containers);
}

TEST_HARNESS_MAIN

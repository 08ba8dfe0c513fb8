// SPDX-License-Identifier: GPL-2.0
/*
 * The liveness ping: a polling connection idle for --ping-interval gets a
 * /_ping, on the same connection, never with a late ping behind it. An
 * engine that stops answering fails it (ping-timeout) and is unhealthy
 * after --engine-failure-retry of them; answering again, it is healthy.
 * No ping on a suspect connection; they resume when it is no longer.
 * Every /_ping has --ping-timeout as its deadline when that is shorter.
 * Against a scripted engine on loopback, as late_ping.c.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "discovery.h"
#include "fixture.h"
#include "fleet.h"
#include "kselftest_harness.h"
#include "loop.h"
#include "pool.h"

#define LATE_MS		100
#define PING_MS		100
#define TIMEOUT_MS	300
#define MAX_HELD	8

FIXTURE(idle) {
	struct loop *loop;
	struct pool *pool;
	struct fleet *fleet;
	struct engine_cfg cfg;
	struct engine *e;
	int lfd, fd;			/* listening; the engine's connection */
	unsigned int accepted;
	bool hold;			/* keep requests unanswered */
	char in[16384];			/* received, not yet a whole request */
	size_t inlen;
	char held[MAX_HELD][256];	/* request lines held */
	uint64_t held_at[MAX_HELD];	/* loop time each arrived */
	unsigned int nheld;
	unsigned int pings_seen;	/* GET /_ping received, answered or not */
	uint64_t ping_at;		/* loop time of the last one */
	uint64_t ping_gap;		/* shortest time between two */
};

static void send_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);

		if (n <= 0)
			return;
		buf += n;
		len -= n;
	}
}

/* Take whole requests off the input: answer them, or hold them. */
static void serve(struct _test_data_idle *self)
{
	static char out[1 << 20];
	char *end;
	size_t n;

	while ((end = memmem(self->in, self->inlen, "\r\n\r\n", 4))) {
		*end = '\0';
		if (!strncmp(self->in, "GET /_ping ", 11)) {
			uint64_t now = loop_now(self->loop);

			if (self->pings_seen &&
			    now - self->ping_at < self->ping_gap)
				self->ping_gap = now - self->ping_at;
			self->pings_seen++;
			self->ping_at = now;
		}
		if (self->hold) {
			if (self->nheld < MAX_HELD) {
				snprintf(self->held[self->nheld],
					 sizeof(self->held[0]), "%.*s",
					 (int)strcspn(self->in, "\r"), self->in);
				self->held_at[self->nheld] = loop_now(self->loop);
			}
			self->nheld++;
		} else {
			n = fixture_answer(self->in, out, sizeof(out));
			send_all(self->fd, out, n);
		}
		n = end + 4 - self->in;
		memmove(self->in, self->in + n, self->inlen - n);
		self->inlen -= n;
	}
}

/* Run the agent's loop and the engine's side for @ms. */
static void pump(struct _test_data_idle *self, int ms)
{
	uint64_t until;
	ssize_t n;
	int fd;

	loop_update_time(self->loop);
	until = loop_now(self->loop) + ms;
	while (loop_now(self->loop) < until) {
		loop_run_once(self->loop, 2);
		fd = accept4(self->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd >= 0) {
			if (self->fd >= 0)
				close(self->fd);
			self->fd = fd;
			self->inlen = 0;
			self->accepted++;
		}
		if (self->fd < 0)
			continue;
		n = recv(self->fd, self->in + self->inlen,
			 sizeof(self->in) - 1 - self->inlen, MSG_DONTWAIT);
		if (n > 0) {
			self->inlen += n;
			serve(self);
		}
	}
}

/* Pump until @n requests are held, at most 3 s. */
static void pump_held(struct _test_data_idle *self, unsigned int n)
{
	int i;

	for (i = 0; i < 300 && self->nheld < n; i++)
		pump(self, 10);
}

FIXTURE_SETUP(idle)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	struct addr_list want = { 0 };
	socklen_t len = sizeof(sa);
	char addr[32];
	int i;

	self->fd = -1;
	self->cfg = (struct engine_cfg){
		/* No refresh during a test: only pings. */
		.refresh_min_ms = 60000, .refresh_max_ms = 60000,
		.info_interval_ms = 600000, .request_timeout_ms = TIMEOUT_MS,
		.ping_interval_ms = PING_MS,
		.late_ping_ms = LATE_MS, .backoff_max_ms = 60000,
		.failure_retry = 3, .max_body = 1 << 20, .max_containers = 100,
		.conn = { .user_timeout_ms = 5000, .keepidle_s = 10,
			  .keepintvl_s = 1, .keepcnt = 3 },
	};
	ASSERT_EQ(0, loop_new(&self->loop));
	ASSERT_EQ(0, pool_new(&self->pool));
	ASSERT_EQ(0, fleet_new(&self->fleet, self->loop, self->pool, NULL,
			       &self->cfg));
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	self->lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
			   0);
	ASSERT_LE(0, self->lfd);
	ASSERT_EQ(0, bind(self->lfd, (struct sockaddr *)&sa, sizeof(sa)));
	ASSERT_EQ(0, listen(self->lfd, 8));
	ASSERT_EQ(0, getsockname(self->lfd, (struct sockaddr *)&sa, &len));

	snprintf(addr, sizeof(addr), "127.0.0.1:%u", ntohs(sa.sin_port));
	want.v = calloc(1, sizeof(char *));
	ASSERT_NE(NULL, want.v);
	want.v[0] = strdup(addr);
	want.n = want.cap = 1;
	ASSERT_EQ(0, fleet_sync(self->fleet, &want));
	addr_list_clear(&want);
	self->e = self->fleet->v[0];
	for (i = 0; i < 300 && self->e->state != ENGINE_HEALTHY; i++)
		pump(self, 10);
	ASSERT_EQ(ENGINE_HEALTHY, (int)self->e->state);
	self->pings_seen = 0;
	self->ping_gap = UINT64_MAX;
	self->fleet->env.stats.pings = 0;
}

FIXTURE_TEARDOWN(idle)
{
	fleet_free(self->fleet);
	loop_run_once(self->loop, 0);
	if (self->fd >= 0)
		close(self->fd);
	close(self->lfd);
	pool_free(self->pool);
	loop_free(self->loop);
}


/* Pump until the engine is in @state, at most @ms. */
static void pump_state(struct _test_data_idle *self, enum engine_state state,
		       int ms)
{
	int i;

	for (i = 0; i < ms / 10 && self->e->state != state; i++)
		pump(self, 10);
}

/* The engine stops answering from now on, which is returned. */
static uint64_t freeze(struct _test_data_idle *self)
{
	self->hold = true;
	self->nheld = 0;
	loop_update_time(self->loop);
	return loop_now(self->loop);
}

/* Whether what the frozen engine got next is one /_ping, alone. */
static bool held_one_ping(struct _test_data_idle *self)
{
	pump_held(self, 1);
	return self->nheld == 1 && !strncmp(self->held[0], "GET /_ping ", 11);
}

TEST_F(idle, idle_connection_pinged)
{
	pump(self, 10 * PING_MS);
	/* One every PING_MS of idleness, answered, on the same connection. */
	EXPECT_LE(5U, self->pings_seen);
	EXPECT_GE(11U, self->pings_seen);
	EXPECT_LE((uint64_t)PING_MS, self->ping_gap + 2);
	/*
	 * Pings are counted as sent: the engine saw every one, but one still
	 * in flight that it may not have read yet.
	 */
	EXPECT_GE(self->fleet->env.stats.pings, (uint64_t)self->pings_seen);
	EXPECT_LE(self->fleet->env.stats.pings -
		  (self->e->poll.ch.state > CHANNEL_IDLE),
		  (uint64_t)self->pings_seen);
	EXPECT_EQ(1U, self->accepted);
	EXPECT_EQ(0ULL, self->fleet->env.stats.errors);
	EXPECT_EQ(0ULL, self->fleet->env.stats.late_pings);
	EXPECT_EQ(ENGINE_HEALTHY, (int)self->e->state);
}

TEST_F(idle, frozen_engine_unhealthy_then_back)
{
	uint64_t t0 = freeze(self);

	/* The idle ping, alone: no late ping behind it. */
	ASSERT_TRUE(held_one_ping(self));
	pump(self, TIMEOUT_MS - 50);
	EXPECT_EQ(1U, self->nheld);
	EXPECT_EQ(0ULL, self->fleet->env.stats.late_pings);
	pump_state(self, ENGINE_UNHEALTHY, 5000);
	ASSERT_EQ(ENGINE_UNHEALTHY, (int)self->e->state);
	EXPECT_EQ(CAUSE_PING_TIMEOUT, (int)self->e->cause);
	EXPECT_EQ(3ULL,
		  self->fleet->env.stats.errors_by_cause[CAUSE_PING_TIMEOUT]);
	/* Bound: interval + timeout x 3 + backoff (0.25 + 0.5 s) + slack. */
	EXPECT_GE((uint64_t)PING_MS + 3 * TIMEOUT_MS + 750 + 500,
		  loop_now(self->loop) - t0);
	/* Answering again: a full refresh, then healthy. */
	self->hold = false;
	pump_state(self, ENGINE_HEALTHY, 5000);
	EXPECT_EQ(ENGINE_HEALTHY, (int)self->e->state);
	EXPECT_EQ(0U, self->e->failures);
}

/* --ping-timeout: a ping fails at its own deadline, not the request's. */
TEST_F(idle, ping_has_its_own_deadline)
{
	const uint64_t ping_timeout = TIMEOUT_MS / 2;
	uint64_t t0, t1;
	int i;

	self->fleet->env.chan.cfg.ping_timeout_ms = ping_timeout;
	t0 = freeze(self);
	ASSERT_TRUE(held_one_ping(self));
	/*
	 * Measured from the ping's arrival: on a loaded machine the ping may
	 * have been sent (and its deadline started) well before now.
	 */
	t1 = self->held_at[0];
	for (i = 0; i < 100 &&
	     !self->fleet->env.stats.errors_by_cause[CAUSE_PING_TIMEOUT]; i++)
		pump(self, 5);
	ASSERT_EQ(1ULL,
		  self->fleet->env.stats.errors_by_cause[CAUSE_PING_TIMEOUT]);
	EXPECT_LE(ping_timeout - 50, loop_now(self->loop) - t1);
	EXPECT_GT((uint64_t)TIMEOUT_MS, loop_now(self->loop) - t1);
	EXPECT_NE(NULL, strstr(self->e->error, "no answer within 150ms"))
		TH_LOG("%s", self->e->error);
	/* And so for the pings that open the next connections' refreshes. */
	pump_state(self, ENGINE_UNHEALTHY, 5000);
	ASSERT_EQ(ENGINE_UNHEALTHY, (int)self->e->state);
	EXPECT_EQ(3ULL,
		  self->fleet->env.stats.errors_by_cause[CAUSE_PING_TIMEOUT]);
	EXPECT_GE((uint64_t)PING_MS + 3 * ping_timeout + 750 + 300,
		  loop_now(self->loop) - t0);
	self->hold = false;
	pump_state(self, ENGINE_HEALTHY, 5000);
	EXPECT_EQ(ENGINE_HEALTHY, (int)self->e->state);
}

TEST_F(idle, no_ping_on_a_suspect_connection)
{
	uint64_t cookie = engine_cookie(self->e);

	ASSERT_NE(0ULL, cookie);
	ASSERT_EQ(0, engine_kernel_suspect(self->e, cookie, true));
	EXPECT_EQ(ENGINE_SUSPECT, (int)self->e->state);
	pump(self, 4 * PING_MS);
	EXPECT_EQ(0U, self->pings_seen);
	EXPECT_EQ(0ULL, self->fleet->env.stats.pings);
	/* No longer retransmitting: healthy, and pinged again. */
	ASSERT_EQ(0, engine_kernel_suspect(self->e, cookie, false));
	EXPECT_EQ(ENGINE_HEALTHY, (int)self->e->state);
	pump(self, 3 * PING_MS);
	EXPECT_LE(1U, self->pings_seen);
	EXPECT_EQ(1U, self->accepted);
}

TEST_HARNESS_MAIN

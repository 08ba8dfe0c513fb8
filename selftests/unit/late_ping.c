// SPDX-License-Identifier: GPL-2.0
/*
 * The late ping: an answer later than --late-ping gets a /_ping pipelined
 * behind its request, so that a lost answer leaves data of ours in flight
 * for the kernel to retransmit. Against a scripted engine on loopback that
 * answers with captured dockerd responses, at once or when told: both
 * answers in one segment, the ping's later, a close between them, junk
 * after them, and no ping on a suspect connection.
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
#define MAX_HELD	8

FIXTURE(late) {
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
static void serve(struct _test_data_late *self)
{
	static char out[1 << 20];
	char *end;
	size_t n;

	while ((end = memmem(self->in, self->inlen, "\r\n\r\n", 4))) {
		*end = '\0';
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
static void pump(struct _test_data_late *self, int ms)
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
static void pump_held(struct _test_data_late *self, unsigned int n)
{
	int i;

	for (i = 0; i < 300 && self->nheld < n; i++)
		pump(self, 10);
}

/* The answers to the held requests, in order, concatenated. */
static size_t answers(struct _test_data_late *self, unsigned int from,
		      unsigned int to, char *out, size_t cap)
{
	size_t len = 0;
	unsigned int i;

	for (i = from; i < to; i++)
		len += fixture_answer(self->held[i], out + len, cap - len);
	return len;
}

FIXTURE_SETUP(late)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	struct addr_list want = { 0 };
	socklen_t len = sizeof(sa);
	char addr[32];
	int i;

	self->fd = -1;
	self->cfg = (struct engine_cfg){
		.refresh_min_ms = 30, .refresh_max_ms = 30,
		.info_interval_ms = 60000, .request_timeout_ms = 5000,
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
	/* Answered at once, then: no ping was needed. */
	ASSERT_EQ(0ULL, self->fleet->env.stats.late_pings);
}

FIXTURE_TEARDOWN(late)
{
	fleet_free(self->fleet);
	loop_run_once(self->loop, 0);
	if (self->fd >= 0)
		close(self->fd);
	close(self->lfd);
	pool_free(self->pool);
	loop_free(self->loop);
}

/* Hold the next request and the ping that must follow it. */
static void late_request(struct _test_data_late *self,
			 struct __test_metadata *_metadata)
{
	self->hold = true;
	self->nheld = 0;
	pump_held(self, 2);
	ASSERT_EQ(2U, self->nheld);
	EXPECT_EQ(0, strncmp(self->held[1], "GET /_ping ", 11));
	/* Not before the late mark (the loop's clock, in whole ms). */
	EXPECT_LE((uint64_t)LATE_MS, self->held_at[1] - self->held_at[0] + 2);
	EXPECT_EQ(1ULL, self->fleet->env.stats.late_pings);
	EXPECT_TRUE(self->e->poll.ch.ping_behind);
}

TEST_F(late, both_answers_in_one_segment)
{
	static char out[1 << 21];
	struct engine *e = self->e;
	uint64_t cookie = engine_cookie(e);
	size_t n;

	late_request(self, _metadata);
	n = answers(self, 0, 2, out, sizeof(out));
	ASSERT_LT(0U, n);
	self->hold = false;
	send_all(self->fd, out, n);
	pump(self, 100);
	EXPECT_EQ(ENGINE_HEALTHY, (int)e->state);
	EXPECT_EQ(0ULL, self->fleet->env.stats.errors);
	EXPECT_EQ(0U, e->failures);
	/* The same connection, serving the next refreshes. */
	EXPECT_EQ(cookie, engine_cookie(e));
	EXPECT_EQ(1U, self->accepted);
	EXPECT_NE(CHANNEL_PING_BEHIND, (int)e->poll.ch.state);
}

TEST_F(late, ping_answer_later)
{
	static char out[1 << 21];
	struct engine *e = self->e;
	uint64_t cookie = engine_cookie(e), requests;
	size_t n;

	late_request(self, _metadata);
	n = answers(self, 0, 1, out, sizeof(out));
	send_all(self->fd, out, n);
	pump(self, 100);
	/* The request is done; the ping's answer is awaited, nothing sent. */
	EXPECT_EQ(CHANNEL_PING_BEHIND, (int)e->poll.ch.state);
	EXPECT_EQ(CHANNEL_PING, (int)e->poll.ch.mode);
	EXPECT_EQ(2U, self->nheld);
	requests = e->requests;
	pump(self, 100);
	EXPECT_EQ(requests, e->requests);
	EXPECT_EQ(2U, self->nheld);

	self->hold = false;
	n = answers(self, 1, 2, out, sizeof(out));
	send_all(self->fd, out, n);
	pump(self, 100);
	EXPECT_NE(CHANNEL_PING_BEHIND, (int)e->poll.ch.state);
	EXPECT_LT(requests, e->requests);
	EXPECT_EQ(ENGINE_HEALTHY, (int)e->state);
	EXPECT_EQ(0ULL, self->fleet->env.stats.errors);
	EXPECT_EQ(cookie, engine_cookie(e));
}

TEST_F(late, closed_between_the_answers)
{
	static char out[1 << 21];
	struct engine *e = self->e;
	uint64_t cookie = engine_cookie(e);
	size_t n;
	int i;

	late_request(self, _metadata);
	n = answers(self, 0, 1, out, sizeof(out));
	send_all(self->fd, out, n);
	pump(self, 100);
	ASSERT_EQ(CHANNEL_PING_BEHIND, (int)e->poll.ch.state);
	/* The daemon closes before the ping's answer: no failure. */
	self->hold = false;
	shutdown(self->fd, SHUT_WR);
	for (i = 0; i < 300 && self->accepted < 2; i++)
		pump(self, 10);
	pump(self, 50);
	EXPECT_EQ(ENGINE_HEALTHY, (int)e->state);
	EXPECT_EQ(0ULL, self->fleet->env.stats.errors);
	EXPECT_EQ(0U, e->failures);
	/* The next refresh went on a new connection. */
	EXPECT_EQ(2U, self->accepted);
	EXPECT_NE(0ULL, engine_cookie(e));
	EXPECT_NE(cookie, engine_cookie(e));
}

TEST_F(late, junk_after_the_ping_answer)
{
	static char out[1 << 21];
	struct engine *e = self->e;
	size_t n;

	late_request(self, _metadata);
	n = answers(self, 0, 2, out, sizeof(out));
	memcpy(out + n, "HTTP/1.1 200 OK\r\n", 17);
	send_all(self->fd, out, n + 17);
	pump(self, 100);
	EXPECT_EQ(1ULL, self->fleet->env.stats.errors_by_cause[CAUSE_PROTOCOL]);
	EXPECT_EQ(1U, e->failures);
	EXPECT_STRNE("", e->error);
	EXPECT_NE(NULL, strstr(e->error, "data after the response"));
}

TEST_F(late, no_ping_on_a_suspect_connection)
{
	struct engine *e = self->e;

	/* A late mark far enough to turn suspect before it, however loaded. */
	self->fleet->env.chan.cfg.late_ping_ms = 1000;
	self->hold = true;
	self->nheld = 0;
	pump_held(self, 1);
	ASSERT_EQ(1U, self->nheld);
	ASSERT_EQ(0, engine_kernel_suspect(e, engine_cookie(e), true));
	EXPECT_EQ(ENGINE_SUSPECT, (int)e->state);
	pump(self, 1500);
	EXPECT_EQ(1U, self->nheld);
	EXPECT_EQ(0ULL, self->fleet->env.stats.late_pings);
	EXPECT_FALSE(e->poll.ch.ping_behind);
}

TEST_HARNESS_MAIN

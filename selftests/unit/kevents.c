// SPDX-License-Identifier: GPL-2.0
/*
 * Kernel events applied to engines, without the kernel module: crafted
 * peerwatch event messages go through pw_event_parse() and kevents_apply()
 * to an engine polling a local responder that answers with the captured
 * dockerd responses; the resync checks the engine's real socket.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <linux/genetlink.h>
#include <linux/peerwatch.h>

#include "container_of.h"
#include "discovery.h"
#include "fixture.h"
#include "fleet.h"
#include "kevents.h"
#include "kselftest_harness.h"
#include "loop.h"
#include "pool.h"

#define MAX_CLIENTS 4

struct client {
	struct loop_io io;
	struct responder *r;
	char req[4096];
	size_t len;
};

/* A Docker engine in miniature: each request answered by a fixture. */
struct responder {
	struct loop *loop;
	struct loop_io lio;
	struct client c[MAX_CLIENTS];
	uint16_t port;
};

/* The fixture's answer, framed with a Content-Length of its own. */
static void respond(int fd, const char *req)
{
	static char out[1 << 16];
	size_t n = fixture_answer(req, out, sizeof(out));

	/* Small on loopback: one write takes it all. */
	if (n && write(fd, out, n) != (ssize_t)n)
		return;
}

static void answer(struct client *c)
{
	char *end;
	size_t n;

	while ((end = memmem(c->req, c->len, "\r\n\r\n", 4))) {
		respond(c->io.fd, c->req);
		n = end + 4 - c->req;
		memmove(c->req, c->req + n, c->len - n);
		c->len -= n;
		c->req[c->len] = '\0';
	}
}

static void client_io(struct loop_io *io, uint32_t events)
{
	struct client *c = container_of(io, struct client, io);
	ssize_t n;

	(void)events;
	n = read(io->fd, c->req + c->len, sizeof(c->req) - 1 - c->len);
	if (n <= 0) {
		loop_io_del(c->r->loop, io);
		close(io->fd);
		return;
	}
	c->len += n;
	c->req[c->len] = '\0';
	answer(c);
}

static void accept_io(struct loop_io *io, uint32_t events)
{
	struct responder *r = container_of(io, struct responder, lio);
	int fd, i;

	(void)events;
	fd = accept4(io->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0)
		return;
	for (i = 0; i < MAX_CLIENTS && r->c[i].io.active; i++)
		;
	if (i == MAX_CLIENTS || loop_io_add(r->loop, &r->c[i].io, fd, LOOP_READ,
					    client_io)) {
		close(fd);
		return;
	}
	r->c[i].r = r;
	r->c[i].len = 0;
}

/* Reset every connection of the responder: the engine's socket errs. */
static void responder_reset(struct responder *r)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	int i;

	for (i = 0; i < MAX_CLIENTS; i++) {
		if (!r->c[i].io.active)
			continue;
		setsockopt(r->c[i].io.fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		loop_io_del(r->loop, &r->c[i].io);
		close(r->c[i].io.fd);
	}
}

/* A peerwatch event as the module would send it, parsed back. */
static int craft(struct pw_event *ev, uint8_t event, uint8_t reason,
		 uint64_t cookie, uint16_t dport)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct genlmsghdr *genl;
	struct nlmsghdr *nlh;
	struct in_addr lo = { htonl(INADDR_LOOPBACK) };

	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = GENL_MIN_ID;
	genl = mnl_nlmsg_put_extra_header(nlh, sizeof(*genl));
	genl->cmd = PEERWATCH_CMD_EVENT;
	genl->version = PEERWATCH_GENL_VERSION;
	mnl_attr_put_u8(nlh, PEERWATCH_A_EVENT, event);
	if (reason)
		mnl_attr_put_u8(nlh, PEERWATCH_A_REASON, reason);
	mnl_attr_put_u64(nlh, PEERWATCH_A_COOKIE, cookie);
	mnl_attr_put_u16(nlh, PEERWATCH_A_FAMILY, AF_INET);
	mnl_attr_put(nlh, PEERWATCH_A_SADDR4, sizeof(lo), &lo);
	mnl_attr_put_u16(nlh, PEERWATCH_A_SPORT, 40000);
	mnl_attr_put(nlh, PEERWATCH_A_DADDR4, sizeof(lo), &lo);
	mnl_attr_put_u16(nlh, PEERWATCH_A_DPORT, dport);
	mnl_attr_put_u8(nlh, PEERWATCH_A_STATE, 1);
	mnl_attr_put_u32(nlh, PEERWATCH_A_USER_TIMEOUT, 20000);
	return pw_event_parse(nlh, ev);
}

FIXTURE(kev) {
	struct loop *loop;
	struct pool *pool;
	struct fleet *fleet;
	struct kevents *k;
	struct engine_cfg cfg;
	struct responder r;
	struct engine *e;
};

static void run_until(struct loop *loop, struct engine *e,
		      enum engine_state state)
{
	int i;

	for (i = 0; i < 500 && e->state != state; i++)
		loop_run_once(loop, 10);
}

FIXTURE_SETUP(kev)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	struct kevents_cfg kc = { 0 };
	struct addr_list want = { 0 };
	socklen_t len = sizeof(sa);
	char addr[32];
	int fd;

	memset(&self->r, 0, sizeof(self->r));
	self->cfg = (struct engine_cfg){
		.refresh_min_ms = 20, .refresh_max_ms = 20,
		.info_interval_ms = 60000, .request_timeout_ms = 5000,
		.backoff_max_ms = 60000, .failure_retry = 3,
		.max_body = 1 << 20, .max_containers = 100,
		.conn = { .user_timeout_ms = 5000, .keepidle_s = 10,
			  .keepintvl_s = 1, .keepcnt = 3 },
	};
	ASSERT_EQ(0, loop_new(&self->loop));
	ASSERT_EQ(0, pool_new(&self->pool));
	ASSERT_EQ(0, fleet_new(&self->fleet, self->loop, self->pool, NULL,
			       &self->cfg));

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, bind(fd, (struct sockaddr *)&sa, sizeof(sa)));
	ASSERT_EQ(0, listen(fd, 8));
	ASSERT_EQ(0, getsockname(fd, (struct sockaddr *)&sa, &len));
	self->r.loop = self->loop;
	self->r.port = ntohs(sa.sin_port);
	ASSERT_EQ(0, loop_io_add(self->loop, &self->r.lio, fd, LOOP_READ,
				 accept_io));

	/* No module on the host: it says so and waits, which is what we test. */
	ASSERT_EQ(0, kevents_new(&self->k, self->loop, &kc, &fleet_kevents_ops,
				 self->fleet));
	fleet_hear_kevents(self->fleet, self->k);

	snprintf(addr, sizeof(addr), "127.0.0.1:%u", self->r.port);
	want.v = calloc(1, sizeof(char *));
	ASSERT_NE(NULL, want.v);
	want.v[0] = strdup(addr);
	want.n = want.cap = 1;
	ASSERT_EQ(0, fleet_sync(self->fleet, &want));
	addr_list_clear(&want);
	ASSERT_EQ(1U, self->fleet->n);
	self->e = self->fleet->v[0];
	run_until(self->loop, self->e, ENGINE_HEALTHY);
	ASSERT_EQ(ENGINE_HEALTHY, (int)self->e->state);
	ASSERT_NE(0ULL, engine_cookie(self->e));
}

FIXTURE_TEARDOWN(kev)
{
	kevents_free(self->k);
	fleet_free(self->fleet);
	responder_reset(&self->r);
	loop_io_del(self->loop, &self->r.lio);
	close(self->r.lio.fd);
	loop_run_once(self->loop, 0);
	pool_free(self->pool);
	loop_free(self->loop);
}

TEST_F(kev, suspect_stops_requests_recovered_resumes)
{
	struct engine *e = self->e;
	uint64_t cookie = engine_cookie(e), before;
	struct pw_event ev;
	int i;

	ASSERT_EQ(0, craft(&ev, PEERWATCH_EVENT_SUSPECT, 0, cookie, self->r.port));
	ASSERT_EQ(0, kevents_apply(self->k, &ev));
	ASSERT_EQ(ENGINE_SUSPECT, (int)e->state);
	ASSERT_STREQ("kernel:suspect", cause_name(e->cause));

	/* Ten refresh intervals: no request on the suspect connection. */
	for (i = 0; i < 20; i++)
		loop_run_once(self->loop, 10);
	before = e->requests;
	for (i = 0; i < 20; i++)
		loop_run_once(self->loop, 10);
	EXPECT_EQ(before, e->requests);
	EXPECT_EQ(cookie, engine_cookie(e));

	ASSERT_EQ(0, craft(&ev, PEERWATCH_EVENT_RECOVERED, 0, cookie, self->r.port));
	ASSERT_EQ(0, kevents_apply(self->k, &ev));
	EXPECT_EQ(ENGINE_HEALTHY, (int)e->state);
	for (i = 0; i < 20; i++)
		loop_run_once(self->loop, 10);
	EXPECT_LT(before, e->requests);

	EXPECT_EQ(1ULL, kevents_stats(self->k)->events[PEERWATCH_EVENT_SUSPECT]);
	EXPECT_EQ(1ULL, kevents_stats(self->k)->events[PEERWATCH_EVENT_RECOVERED]);
	EXPECT_EQ(2ULL, kevents_stats(self->k)->matched);
}

TEST_F(kev, dead_closes_at_once_with_the_kernel_reason)
{
	struct engine *e = self->e;
	struct pw_event ev;

	ASSERT_EQ(0, craft(&ev, PEERWATCH_EVENT_DEAD,
			   PEERWATCH_REASON_USER_TIMEOUT, engine_cookie(e),
			   self->r.port));
	ASSERT_EQ(0, kevents_apply(self->k, &ev));
	EXPECT_EQ(ENGINE_DOWN, (int)e->state);
	EXPECT_STREQ("kernel:user-timeout", cause_name(e->cause));
	EXPECT_EQ(0ULL, engine_cookie(e));
	EXPECT_TRUE(e->retrying);
	EXPECT_TRUE(loop_timer_active(&e->timer));
	EXPECT_EQ(1ULL, kevents_stats(self->k)->dead[PEERWATCH_REASON_USER_TIMEOUT]);

	/* The reconnect makes it healthy again. */
	run_until(self->loop, e, ENGINE_HEALTHY);
	EXPECT_EQ(ENGINE_HEALTHY, (int)e->state);
}

TEST_F(kev, other_sockets_are_not_ours)
{
	struct engine *e = self->e;
	uint64_t cookie = engine_cookie(e);
	struct pw_event ev;

	/* Another cookie, or our cookie with another tuple. */
	ASSERT_EQ(0, craft(&ev, PEERWATCH_EVENT_DEAD, PEERWATCH_REASON_RESET,
			   cookie + 1, self->r.port));
	EXPECT_EQ(-ENOENT, kevents_apply(self->k, &ev));
	ASSERT_EQ(0, craft(&ev, PEERWATCH_EVENT_DEAD, PEERWATCH_REASON_RESET,
			   cookie, self->r.port + 1));
	EXPECT_EQ(-ENOENT, kevents_apply(self->k, &ev));
	EXPECT_EQ(ENGINE_HEALTHY, (int)e->state);
	EXPECT_EQ(cookie, engine_cookie(e));
	EXPECT_EQ(0ULL, kevents_stats(self->k)->matched);
	EXPECT_EQ(2ULL, kevents_stats(self->k)->dead[PEERWATCH_REASON_RESET]);

	/* A DEAD event without its reason is malformed. */
	EXPECT_EQ(-EINVAL, craft(&ev, PEERWATCH_EVENT_DEAD, 0, cookie,
				 self->r.port));
}

TEST_F(kev, cookie_index_follows_reconnects)
{
	struct engine *e = self->e;
	uint64_t old = engine_cookie(e);
	struct pw_event ev;

	/* Events are off here: the polling connection only. */
	EXPECT_EQ(1U, self->fleet->env.chan.conns.n);
	EXPECT_EQ(e, engine_by_cookie(&self->fleet->env, old));
	ASSERT_EQ(0, craft(&ev, PEERWATCH_EVENT_DEAD, PEERWATCH_REASON_RESET,
			   old, self->r.port));
	ASSERT_EQ(0, kevents_apply(self->k, &ev));
	ASSERT_EQ(ENGINE_DOWN, (int)e->state);
	EXPECT_EQ(0U, self->fleet->env.chan.conns.n);
	EXPECT_EQ(NULL, engine_by_cookie(&self->fleet->env, old));

	run_until(self->loop, e, ENGINE_HEALTHY);
	ASSERT_EQ(ENGINE_HEALTHY, (int)e->state);
	ASSERT_NE(old, engine_cookie(e));
	EXPECT_EQ(1U, self->fleet->env.chan.conns.n);
	/* The old connection's events are no longer ours; the new one's are. */
	ASSERT_EQ(0, craft(&ev, PEERWATCH_EVENT_SUSPECT, 0, old, self->r.port));
	EXPECT_EQ(-ENOENT, kevents_apply(self->k, &ev));
	EXPECT_EQ(ENGINE_HEALTHY, (int)e->state);
	ASSERT_EQ(0, craft(&ev, PEERWATCH_EVENT_SUSPECT, 0, engine_cookie(e),
			   self->r.port));
	EXPECT_EQ(0, kevents_apply(self->k, &ev));
	EXPECT_EQ(ENGINE_SUSPECT, (int)e->state);
}

TEST_F(kev, resync_recovers_a_quiet_suspect_and_fails_an_erred_socket)
{
	struct engine *e = self->e;
	struct pw_event ev;

	/* A healthy connection: nothing to do. */
	EXPECT_EQ(0U, kevents_resync(self->k));

	/* A lost RECOVERED: TCP_INFO shows no retransmission. */
	ASSERT_EQ(0, craft(&ev, PEERWATCH_EVENT_SUSPECT, 0, engine_cookie(e),
			   self->r.port));
	ASSERT_EQ(0, kevents_apply(self->k, &ev));
	ASSERT_EQ(ENGINE_SUSPECT, (int)e->state);
	EXPECT_EQ(1U, kevents_resync(self->k));
	EXPECT_EQ(ENGINE_HEALTHY, (int)e->state);

	/* A lost DEAD: the reset is found in SO_ERROR, before the loop sees it. */
	responder_reset(&self->r);
	usleep(20000);
	EXPECT_EQ(1U, kevents_resync(self->k));
	EXPECT_EQ(ENGINE_DOWN, (int)e->state);
	EXPECT_STREQ("reset", cause_name(e->cause));
	EXPECT_EQ(3ULL, kevents_stats(self->k)->resyncs);
	EXPECT_EQ(2ULL, kevents_stats(self->k)->resync_found);
}

TEST_HARNESS_MAIN

// SPDX-License-Identifier: GPL-2.0
/*
 * The HTTP channel on its own, as an owner other than the engine (an etcd
 * JSON-gateway client) uses it: a POST with a JSON body and its JSON
 * answer, a stream of JSON values split anywhere, the request deadline.
 * The peer is a loopback socket that the test reads and answers by hand.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "channel.h"
#include "kselftest_harness.h"
#include "loop.h"
#include "pool.h"

#define TIMEOUT_MS	300

struct owner {
	struct channel ch;
	bool connected;
	unsigned int answers, events, closed, failed, sent;
	unsigned int status;
	enum channel_end end;
	enum cause cause;
	char why[160];
	char key[32];			/* "key" of the last body or event */
	bool close_on_event;		/* closes the channel in event() */
};

static void take_key(struct owner *o, struct json_object *obj)
{
	struct json_object *v;

	if (json_object_object_get_ex(obj, "key", &v))
		snprintf(o->key, sizeof(o->key), "%s", json_object_get_string(v));
}

static void on_connected(void *arg)
{
	((struct owner *)arg)->connected = true;
}

static void on_answer(void *arg, struct channel_answer *ans)
{
	struct owner *o = arg;

	o->answers++;
	o->status = ans->status;
	if (ans->body)
		take_key(o, ans->body);
	json_object_put(ans->body);
}

static int on_event(void *arg, struct json_object *obj)
{
	struct owner *o = arg;

	o->events++;
	take_key(o, obj);
	if (o->close_on_event)
		channel_close(&o->ch);
	return 0;
}

static void on_closed(void *arg, enum channel_end how)
{
	struct owner *o = arg;

	o->closed++;
	o->end = how;
}

static void on_failed(void *arg, enum cause cause, const char *why)
{
	struct owner *o = arg;

	o->failed++;
	o->cause = cause;
	snprintf(o->why, sizeof(o->why), "%s", why);
}

static void on_sent(void *arg, enum channel_sent what)
{
	if (what == CHANNEL_SENT_REQUEST)
		((struct owner *)arg)->sent++;
}

static const struct channel_ops ops = {
	.connected = on_connected,
	.answer = on_answer,
	.event = on_event,
	.closed = on_closed,
	.failed = on_failed,
	.sent = on_sent,
};

FIXTURE(chan) {
	struct loop *loop;
	struct pool *pool;
	struct channel_env env;
	struct owner o;
	int lfd, fd;			/* listening; the peer's end */
};

/* Run the loop until *@flag is set, at most 2 s. */
static void run_until(struct _test_data_chan *self, const unsigned int *flag)
{
	int i;

	for (i = 0; i < 200 && !*flag; i++)
		loop_run_once(self->loop, 10);
}

/* What the peer received within 2 s: one request, with its body. */
static size_t peer_read(int fd, char *buf, size_t cap)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	size_t len = 0;
	ssize_t n;

	while (len < cap - 1 && poll(&pfd, 1, 2000) == 1) {
		n = recv(fd, buf + len, cap - 1 - len, 0);
		if (n <= 0)
			break;
		len += n;
		buf[len] = '\0';
		if (strstr(buf, "\r\n\r\n") && (!strstr(buf, "POST") ||
						 strchr(buf, '}')))
			break;
	}
	buf[len] = '\0';
	return len;
}

static void peer_write(int fd, const char *s)
{
	ssize_t n = send(fd, s, strlen(s), MSG_NOSIGNAL);

	(void)n;
}

FIXTURE_SETUP(chan)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);
	int i;

	ASSERT_EQ(0, loop_new(&self->loop));
	ASSERT_EQ(0, pool_new(&self->pool));
	self->env = (struct channel_env){
		.loop = self->loop,
		.pool = self->pool,
		.cfg = {
			.request_timeout_ms = TIMEOUT_MS,
			.max_body = 1 << 20,
			.ping_path = "/health",
			.conn = { .user_timeout_ms = 5000, .keepidle_s = 10,
				  .keepintvl_s = 1, .keepcnt = 3 },
		},
	};
	memset(&self->o, 0, sizeof(self->o));
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	self->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ASSERT_LE(0, self->lfd);
	ASSERT_EQ(0, bind(self->lfd, (struct sockaddr *)&sa, sizeof(sa)));
	ASSERT_EQ(0, listen(self->lfd, 1));
	ASSERT_EQ(0, getsockname(self->lfd, (struct sockaddr *)&sa, &len));

	channel_init(&self->o.ch, &self->env, "127.0.0.1", &ops, &self->o);
	channel_connect(&self->o.ch, (struct sockaddr *)&sa, len, NULL);
	ASSERT_EQ(CHANNEL_CONNECTING, (int)self->o.ch.state);
	self->fd = accept4(self->lfd, NULL, NULL, SOCK_CLOEXEC);
	ASSERT_LE(0, self->fd);
	for (i = 0; i < 200 && !self->o.connected; i++)
		loop_run_once(self->loop, 10);
	ASSERT_TRUE(self->o.connected);
	ASSERT_TRUE(channel_idle(&self->o.ch));
	ASSERT_NE(0ULL, channel_cookie(&self->o.ch));
	EXPECT_EQ(&self->o.ch,
		  channel_by_cookie(&self->env, channel_cookie(&self->o.ch)));
}

FIXTURE_TEARDOWN(chan)
{
	channel_close(&self->o.ch);
	loop_run_once(self->loop, 0);
	close(self->fd);
	close(self->lfd);
	pool_free(self->pool);
	loop_free(self->loop);
}

TEST_F(chan, post_with_a_json_body_and_its_json_answer)
{
	static const char body[] = "{\"key\":\"Zm9v\"}";
	struct channel_req req = {
		.method = "POST",
		.path = "/v3/kv/range",
		.body = body,
		.body_len = sizeof(body) - 1,
		.mode = CHANNEL_ANSWER,
	};
	char in[4096];

	ASSERT_EQ(0, channel_send(&self->o.ch, &req));
	/* One request at a time. */
	EXPECT_EQ(-EBUSY, channel_send(&self->o.ch, &req));
	EXPECT_EQ(1U, self->o.sent);
	ASSERT_LT(0U, peer_read(self->fd, in, sizeof(in)));
	EXPECT_EQ(0, strncmp(in, "POST /v3/kv/range HTTP/1.1\r\n", 28));
	EXPECT_NE(NULL, strstr(in, "\r\nHost: 127.0.0.1\r\n"));
	EXPECT_NE(NULL, strstr(in, "\r\nContent-Type: application/json\r\n"));
	EXPECT_NE(NULL, strstr(in, "\r\nContent-Length: 14\r\n"));
	EXPECT_NE(NULL, strstr(in, "\r\n\r\n{\"key\":\"Zm9v\"}"));

	peer_write(self->fd, "HTTP/1.1 200 OK\r\n"
		   "Content-Type: application/json\r\n"
		   "Content-Length: 15\r\n\r\n"
		   "{\"key\":\"value\"}");
	run_until(self, &self->o.answers);
	ASSERT_EQ(1U, self->o.answers);
	EXPECT_EQ(200U, self->o.status);
	EXPECT_STREQ("value", self->o.key);
	EXPECT_EQ(0U, self->o.failed);
	/* Kept alive, ready for the next. */
	EXPECT_TRUE(channel_idle(&self->o.ch));
	EXPECT_EQ(1U, self->o.ch.served);
}

TEST_F(chan, stream_of_json_values_split_anywhere)
{
	struct channel_req req = {
		.method = "GET",
		.path = "/v3/watch",
		.mode = CHANNEL_STREAM,
	};
	char in[4096];
	int i;

	ASSERT_EQ(0, channel_send(&self->o.ch, &req));
	ASSERT_LT(0U, peer_read(self->fd, in, sizeof(in)));
	EXPECT_EQ(0, strncmp(in, "GET /v3/watch HTTP/1.1\r\n", 24));
	peer_write(self->fd, "HTTP/1.1 200 OK\r\n"
		   "Transfer-Encoding: chunked\r\n\r\n"
		   "10\r\n{\"key\":\"1\"}\n{\"ke\r\n"
		   "8\r\ny\":\"2\"}\n\r\n");
	for (i = 0; i < 200 && self->o.events < 2; i++)
		loop_run_once(self->loop, 10);
	/* The answer once its headers were in, then each value. */
	EXPECT_EQ(1U, self->o.answers);
	EXPECT_EQ(200U, self->o.status);
	ASSERT_EQ(2U, self->o.events);
	EXPECT_STREQ("2", self->o.key);
	EXPECT_EQ(CHANNEL_STREAMING, (int)self->o.ch.state);
	/* A stream may stay quiet past the request deadline. */
	for (i = 0; i < 2 * TIMEOUT_MS / 10; i++)
		loop_run_once(self->loop, 10);
	EXPECT_EQ(0U, self->o.failed);

	peer_write(self->fd, "0\r\n\r\n");
	run_until(self, &self->o.closed);
	ASSERT_EQ(1U, self->o.closed);
	EXPECT_EQ(CHANNEL_END_STREAM, (int)self->o.end);
	EXPECT_EQ(CHANNEL_CLOSED, (int)self->o.ch.state);
	EXPECT_EQ(0U, self->o.failed);
}

TEST_F(chan, unanswered_request_fails_at_its_deadline)
{
	struct channel_req req = {
		.method = "GET",
		.path = "/v3/slow",
		.mode = CHANNEL_ANSWER,
	};
	uint64_t t0;
	char in[4096];

	loop_update_time(self->loop);
	t0 = loop_now(self->loop);
	ASSERT_EQ(0, channel_send(&self->o.ch, &req));
	EXPECT_EQ(CHANNEL_TIMER_DEADLINE, (int)self->o.ch.timer);
	ASSERT_LT(0U, peer_read(self->fd, in, sizeof(in)));
	run_until(self, &self->o.failed);
	ASSERT_EQ(1U, self->o.failed);
	EXPECT_LE((uint64_t)TIMEOUT_MS, loop_now(self->loop) - t0 + 2);
	EXPECT_EQ(CAUSE_DEADLINE, (int)self->o.cause);
	EXPECT_STREQ("GET /v3/slow: no answer within 300ms", self->o.why);
	/* Closed, out of the cookie index; it may connect again. */
	EXPECT_EQ(CHANNEL_CLOSED, (int)self->o.ch.state);
	EXPECT_EQ(0ULL, channel_cookie(&self->o.ch));
	EXPECT_EQ(0U, self->env.conns.n);
	EXPECT_EQ(0U, self->o.answers);
}

/*
 * What an answer is read with is lent by the pool from the request to its
 * answer, kept across reads while the answer comes in pieces, and reused
 * by the next request: an idle channel holds none of it.
 */
TEST_F(chan, request_state_lent_while_asked)
{
	struct channel_req req = {
		.method = "GET",
		.path = "/v3/split",
		.mode = CHANNEL_ANSWER,
	};
	struct pool_stats st;
	char in[4096];
	int i;

	EXPECT_EQ(NULL, self->o.ch.fl);
	ASSERT_EQ(0, channel_send(&self->o.ch, &req));
	ASSERT_NE(NULL, self->o.ch.fl);
	pool_stats(self->pool, &st);
	EXPECT_EQ(1U, st.states_used);
	ASSERT_LT(0U, peer_read(self->fd, in, sizeof(in)));
	peer_write(self->fd, "HTTP/1.1 200 OK\r\n"
		   "Content-Length: 15\r\n\r\n{\"key\":\"va");
	for (i = 0; i < 10; i++)
		loop_run_once(self->loop, 10);
	EXPECT_EQ(0U, self->o.answers);
	EXPECT_TRUE(jsonl_partial(&self->o.ch.fl->jl));
	peer_write(self->fd, "lue\"}");
	run_until(self, &self->o.answers);
	ASSERT_EQ(1U, self->o.answers);
	EXPECT_STREQ("value", self->o.key);
	EXPECT_TRUE(channel_idle(&self->o.ch));
	EXPECT_EQ(NULL, self->o.ch.fl);
	pool_stats(self->pool, &st);
	EXPECT_EQ(0U, st.states_used);
	EXPECT_EQ(0U, st.toks_used);
	/* Its slab kept, empty, as the spare. */
	EXPECT_EQ(1U, st.state_slabs);

	/* The next request takes a state from it: no new mapping. */
	ASSERT_EQ(0, channel_send(&self->o.ch, &req));
	pool_stats(self->pool, &st);
	EXPECT_EQ(1U, st.states_used);
	EXPECT_EQ(1U, st.state_slabs);
}

/* A stream's owner closes it from an event: the state goes back after. */
TEST_F(chan, stream_closed_by_its_owner_gives_its_state_back)
{
	struct channel_req req = {
		.method = "GET",
		.path = "/v3/watch",
		.mode = CHANNEL_STREAM,
	};
	struct pool_stats st;
	char in[4096];

	self->o.close_on_event = true;
	ASSERT_EQ(0, channel_send(&self->o.ch, &req));
	ASSERT_LT(0U, peer_read(self->fd, in, sizeof(in)));
	peer_write(self->fd, "HTTP/1.1 200 OK\r\n"
		   "Transfer-Encoding: chunked\r\n\r\n"
		   "18\r\n{\"key\":\"1\"}\n{\"key\":\"2\"}\n\r\n");
	run_until(self, &self->o.events);
	/* Closed at the first value: the second is not read. */
	ASSERT_EQ(1U, self->o.events);
	EXPECT_STREQ("1", self->o.key);
	EXPECT_EQ(CHANNEL_CLOSED, (int)self->o.ch.state);
	EXPECT_EQ(NULL, self->o.ch.fl);
	pool_stats(self->pool, &st);
	EXPECT_EQ(0U, st.states_used);
	EXPECT_EQ(0U, st.toks_used);
	EXPECT_EQ(0U, self->o.failed);
}

/* Run the loop until *@count reaches @n, then a little on. */
static void run_until_n(struct _test_data_chan *self,
			const unsigned int *count, unsigned int n)
{
	int i;

	for (i = 0; i < 200 && *count < n; i++)
		loop_run_once(self->loop, 10);
	for (i = 0; i < 5; i++)
		loop_run_once(self->loop, 10);
}

static void open_stream(struct _test_data_chan *self,
			struct __test_metadata *_metadata)
{
	struct channel_req req = {
		.method = "GET",
		.path = "/v3/watch",
		.mode = CHANNEL_STREAM,
	};
	char in[4096];

	ASSERT_EQ(0, channel_send(&self->o.ch, &req));
	ASSERT_LT(0U, peer_read(self->fd, in, sizeof(in)));
}

/* What the pool has lent: request states, small states, tokeners. */
static void expect_lent(struct __test_metadata *_metadata, struct pool *pool,
			size_t states, size_t smalls, size_t toks)
{
	struct pool_stats st;

	pool_stats(pool, &st);
	EXPECT_EQ(states, st.states_used);
	EXPECT_EQ(smalls, st.smalls_used);
	EXPECT_EQ(toks, st.toks_used);
}

/*
 * A quiet stream holds no flight: at the end of a value, even within a
 * chunk, it keeps its parser and its path in a small state; a value cut
 * in two keeps its flight until it ends; bytes borrow the flight again,
 * and the small state goes back when the stream closes.
 */
TEST_F(chan, stream_parked_between_values)
{
	open_stream(self, _metadata);
	/* A chunk of two values (0x18 bytes), the first one alone for now. */
	peer_write(self->fd, "HTTP/1.1 200 OK\r\n"
		   "Transfer-Encoding: chunked\r\n\r\n"
		   "18\r\n{\"key\":\"1\"}\n");
	run_until_n(self, &self->o.events, 1);
	ASSERT_EQ(1U, self->o.events);
	EXPECT_TRUE(self->o.ch.parked);
	expect_lent(_metadata, self->pool, 0, 1, 0);

	/* The chunk's rest, then a value cut in two: the flight stays. */
	peer_write(self->fd, "{\"key\":\"2\"}\n\r\nc\r\n{\"key\":");
	run_until_n(self, &self->o.events, 2);
	ASSERT_EQ(2U, self->o.events);
	EXPECT_STREQ("2", self->o.key);
	EXPECT_FALSE(self->o.ch.parked);
	expect_lent(_metadata, self->pool, 1, 0, 1);

	peer_write(self->fd, "\"3\"}\n\r\n");
	run_until_n(self, &self->o.events, 3);
	ASSERT_EQ(3U, self->o.events);
	EXPECT_STREQ("3", self->o.key);
	EXPECT_TRUE(self->o.ch.parked);
	expect_lent(_metadata, self->pool, 0, 1, 0);

	/* Its bounds hold across parking: a chunk too large fails it. */
	self->env.cfg.max_body = 16;
	peer_write(self->fd, "11\r\n");
	run_until(self, &self->o.failed);
	ASSERT_EQ(1U, self->o.failed);
	EXPECT_EQ(CAUSE_PROTOCOL, (int)self->o.cause);
	EXPECT_STREQ("GET /v3/watch: chunk too large", self->o.why);
	EXPECT_EQ(0U, self->o.closed);
	expect_lent(_metadata, self->pool, 0, 0, 0);
}

/* A quiet stream's owner closes it: its small state goes back. */
TEST_F(chan, parked_stream_closed)
{
	struct pool_stats st;

	open_stream(self, _metadata);
	peer_write(self->fd, "HTTP/1.1 200 OK\r\n"
		   "Transfer-Encoding: chunked\r\n\r\n");
	run_until(self, &self->o.answers);
	ASSERT_EQ(1U, self->o.answers);
	EXPECT_EQ(CHANNEL_STREAMING, (int)self->o.ch.state);
	EXPECT_TRUE(self->o.ch.parked);
	channel_close(&self->o.ch);
	EXPECT_FALSE(self->o.ch.parked);
	EXPECT_EQ(NULL, self->o.ch.fl);
	pool_stats(self->pool, &st);
	EXPECT_EQ(0U, st.states_used);
	EXPECT_EQ(0U, st.smalls_used);
	/* Its slab kept, empty, as the spare. */
	EXPECT_EQ(1U, st.small_slabs);
}

/* The states one process may map: no more than it has (RLIMIT_AS). */
static int limit_address_space(struct rlimit *old)
{
	unsigned long pages;
	struct rlimit rl;
	FILE *f;
	int n;

	f = fopen("/proc/self/statm", "r");
	if (!f)
		return -errno;
	n = fscanf(f, "%lu", &pages);
	fclose(f);
	if (n != 1 || getrlimit(RLIMIT_AS, old))
		return -EIO;
	rl.rlim_cur = pages * (unsigned long)sysconf(_SC_PAGESIZE);
	rl.rlim_max = old->rlim_max;
	return setrlimit(RLIMIT_AS, &rl) ? -errno : 0;
}

#define DRAIN_MAX	100000

/*
 * Bytes come for a quiet stream and the pool has no flight to lend: the
 * stream fails, saying why, and holds nothing after.
 */
TEST_F(chan, parked_stream_without_memory_fails)
{
	static void *held[DRAIN_MAX];
	struct pool_stats st;
	struct rlimit old;
	size_t n = 0;

	open_stream(self, _metadata);
	peer_write(self->fd, "HTTP/1.1 200 OK\r\n"
		   "Transfer-Encoding: chunked\r\n\r\n"
		   "c\r\n{\"key\":\"1\"}\n\r\n");
	run_until_n(self, &self->o.events, 1);
	ASSERT_EQ(1U, self->o.events);
	ASSERT_TRUE(self->o.ch.parked);

	/* Every state lent, and no room to map another slab. */
	ASSERT_EQ(0, limit_address_space(&old));
	while (n < DRAIN_MAX && (held[n] = pool_state_get(self->pool)))
		n++;
	peer_write(self->fd, "c\r\n{\"key\":\"2\"}\n\r\n");
	run_until(self, &self->o.failed);
	ASSERT_EQ(0, setrlimit(RLIMIT_AS, &old));
	while (n)
		pool_state_put(self->pool, held[--n]);
	ASSERT_EQ(1U, self->o.failed);
	EXPECT_EQ(CAUSE_ERROR, (int)self->o.cause);
	EXPECT_STREQ("GET /v3/watch: no memory to read the stream",
		     self->o.why);
	EXPECT_EQ(1U, self->o.events);
	pool_stats(self->pool, &st);
	EXPECT_EQ(0U, st.states_used);
	EXPECT_EQ(0U, st.smalls_used);
}

TEST_HARNESS_MAIN

// SPDX-License-Identifier: GPL-2.0
/*
 * Policies: a rule gives a user timeout to sockets without their own, never
 * overrides one set with setsockopt (not even one set while the rule is
 * being applied), is bounded per netns, and dies with
 * its netns. Rule ids are never 0 nor those of live rules, across the 2^32
 * wrap, and a dump sends every rule once, in the order they are tried. The
 * first rule that matches, in that order, is the one applied.
 */
#include "kselftest_harness.h"
#include "pw_test.h"

FIXTURE(policy) {
	struct pw_topo t;
	struct pw_nl nl;
	int lfd;
	int lfd2;
};

FIXTURE_SETUP(policy)
{
	ASSERT_EQ(0, pw_topo_setup(&self->t));
	self->lfd = pw_listen(self->t.srv, AF_INET6, PW_PORT, 0);
	ASSERT_LE(0, self->lfd);
	self->lfd2 = pw_listen(self->t.srv, AF_INET6, PW_PORT + 1, 0);
	ASSERT_LE(0, self->lfd2);
	ASSERT_EQ(0, pw_subscribe(self->t.cli, &self->nl));
}

static int set_policy_delay(unsigned int ms)
{
	return pw_sh("echo %u >/sys/module/peerwatch/parameters/policy_delay_ms",
		     ms);
}

FIXTURE_TEARDOWN(policy)
{
	set_policy_delay(0);
	pw_nl_close(&self->nl);
	pw_topo_teardown(&self->t);
}

TEST_F_TIMEOUT(policy, gives_timeout_without_override, 60)
{
	int plain, own, other, s[3], i;
	struct pw_stats st;
	struct pw_event ev;
	uint64_t t0;

	ASSERT_EQ(0, pw_policy_add4(&self->nl, "10.77.0.0", 24, PW_PORT, PW_PORT,
				    1500));
	ASSERT_EQ(1, pw_dump_count(&self->nl, PEERWATCH_CMD_POLICY_DUMP));

	plain = pw_connect(self->t.cli, PW_SRV_ADDR, PW_PORT, 0);
	own = pw_connect(self->t.cli, PW_SRV_ADDR, PW_PORT, 3000);
	other = pw_connect(self->t.cli, PW_SRV_ADDR, PW_PORT + 1, 0);
	ASSERT_LE(0, plain | own | other);
	s[0] = accept(self->lfd, NULL, NULL);
	s[1] = accept(self->lfd, NULL, NULL);
	s[2] = accept(self->lfd2, NULL, NULL);

	EXPECT_EQ(1500U, pw_user_timeout(plain));
	EXPECT_EQ(3000U, pw_user_timeout(own));
	EXPECT_EQ(0U, pw_user_timeout(other));
	ASSERT_EQ(0, pw_stats_get(&self->nl, &st));
	EXPECT_EQ(1U, st.v[PEERWATCH_STAT_A_POLICY_HITS]);
	EXPECT_EQ(1U, st.v[PEERWATCH_STAT_A_POLICIES]);

	/* The value the policy gave decides when the connection dies. */
	ASSERT_EQ(0, pw_sysctl(self->t.cli, "net.ipv4.tcp_early_retrans", "0"));
	ASSERT_EQ(0, pw_blackhole(&self->t, true));
	t0 = pw_now_ns();
	ASSERT_EQ(0, pw_send_some(plain, 100));
	ASSERT_EQ(0, pw_wait_event(&self->nl, pw_cookie(plain),
				   PEERWATCH_EVENT_DEAD, 15000, &ev));
	TH_LOG("user timeout 1500 ms from a policy: DEAD %llu ms after the blackhole",
	       (unsigned long long)(ev.timestamp_ns - t0) / 1000000);
	EXPECT_EQ(PEERWATCH_REASON_USER_TIMEOUT, ev.reason);
	EXPECT_EQ(1500U, ev.user_timeout_ms);
	EXPECT_GE(ev.timestamp_ns - t0, 1500000000ULL);

	close(plain);
	close(own);
	close(other);
	for (i = 0; i < 3; i++)
		close(s[i]);
	ASSERT_EQ(0, pw_simple(&self->nl, PEERWATCH_CMD_POLICY_FLUSH));
	EXPECT_EQ(0, pw_dump_count(&self->nl, PEERWATCH_CMD_POLICY_DUMP));
}

/*
 * Since 6.6, setsockopt(TCP_USER_TIMEOUT) takes no socket lock: an
 * application's value set while the rule is being applied (the module's
 * policy_delay_ms holds it between match and write) must win. It needs a
 * second CPU: on one, the hook runs with preemption off and nothing can
 * come between. On 6.1 setsockopt waits for the socket lock, which the
 * connecting thread holds while the hook runs; the test passes there with
 * or without the compare-and-exchange.
 */
TEST_F_TIMEOUT(policy, app_value_set_meanwhile_wins, 60)
{
	const unsigned int delay = 1000, app = 7000, rule = 1500;
	struct pollfd pfd = { .events = POLLOUT };
	struct sockaddr_in a = { .sin_family = AF_INET };
	uint64_t t_set, t_returned;
	int go[2], done[2], status, s;
	pid_t pid;

	if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
		SKIP(return, "one CPU: setsockopt cannot run while the hook does");
	ASSERT_EQ(0, pw_policy_add4(&self->nl, NULL, 0, 0, 0, rule));
	ASSERT_EQ(0, pw_enter(self->t.cli));
	pfd.fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	ASSERT_LE(0, pfd.fd);
	ASSERT_EQ(0, pipe(go));
	ASSERT_EQ(0, pipe(done));

	/* The application's other thread of control, on the other CPU. */
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		char c;

		if (read(go[0], &c, 1) != 1)
			_exit(1);
		usleep(100000);
		if (setsockopt(pfd.fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &app,
			       sizeof(app)))
			_exit(1);
		t_set = pw_now_ms();
		write(done[1], &t_set, sizeof(t_set));
		_exit(0);
	}

	/*
	 * Over veth the SYN-ACK is handled while connect() still owns the
	 * socket: the hook runs, and waits, before connect() returns.
	 */
	ASSERT_EQ(0, set_policy_delay(delay));
	a.sin_port = htons(PW_PORT);
	inet_pton(AF_INET, PW_SRV_ADDR, &a.sin_addr);
	ASSERT_EQ(1, write(go[1], "g", 1));
	connect(pfd.fd, (void *)&a, sizeof(a));
	t_returned = pw_now_ms();
	ASSERT_EQ(1, poll(&pfd, 1, 10000));
	ASSERT_EQ(0, set_policy_delay(0));
	ASSERT_EQ((ssize_t)sizeof(t_set), read(done[0], &t_set, sizeof(t_set)));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_EQ(0, WEXITSTATUS(status));
	s = accept(self->lfd, NULL, NULL);
	ASSERT_LE(0, s);

	TH_LOG("setsockopt returned %lld ms before connect() did",
	       (long long)(t_returned - t_set));
	/* The application set its value while the rule was being applied. */
	ASSERT_LT(t_set, t_returned);
	EXPECT_EQ(app, pw_user_timeout(pfd.fd));
	close(pfd.fd);
	close(s);
}

TEST_F(policy, bounded_and_deletable)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;
	int i;

	for (i = 0; i < PEERWATCH_POLICY_MAX; i++)
		ASSERT_EQ(0, pw_policy_add4(&self->nl, NULL, 0, 1000 + i,
					    1000 + i, 1000));
	EXPECT_EQ(-ENOSPC, pw_policy_add4(&self->nl, NULL, 0, 1, 1, 1000));
	TH_LOG("past the limit: \"%s\"", self->nl.errmsg);
	EXPECT_NE(NULL, strstr(self->nl.errmsg, "limit"));
	EXPECT_EQ(PEERWATCH_POLICY_MAX,
		  pw_dump_count(&self->nl, PEERWATCH_CMD_POLICY_DUMP));

	/* Rule ids start at 1 in a new netns. */
	nlh = pw_nl_request(&self->nl, buf, PEERWATCH_CMD_POLICY_DEL, 0);
	mnl_attr_put_u32(nlh, PEERWATCH_A_POLICY_ID, 1);
	EXPECT_EQ(0, pw_nl_talk(&self->nl, nlh, NULL, NULL));
	nlh = pw_nl_request(&self->nl, buf, PEERWATCH_CMD_POLICY_DEL, 0);
	mnl_attr_put_u32(nlh, PEERWATCH_A_POLICY_ID, 1);
	EXPECT_EQ(-ENOENT, pw_nl_talk(&self->nl, nlh, NULL, NULL));
	EXPECT_EQ(PEERWATCH_POLICY_MAX - 1,
		  pw_dump_count(&self->nl, PEERWATCH_CMD_POLICY_DUMP));

	ASSERT_EQ(0, pw_simple(&self->nl, PEERWATCH_CMD_POLICY_FLUSH));
	EXPECT_EQ(0, pw_dump_count(&self->nl, PEERWATCH_CMD_POLICY_DUMP));
}

TEST_F(policy, rules_die_with_netns)
{
	struct pw_stats before, after;
	struct pw_nl onl;
	char other[32];
	uint64_t end;
	int i;

	ASSERT_EQ(0, pw_stats_get(&self->nl, &before));
	snprintf(other, sizeof(other), "pwp%d", getpid());
	ASSERT_EQ(0, pw_sh("ip netns add %s", other));
	ASSERT_EQ(0, pw_enter(other));
	ASSERT_EQ(0, pw_nl_open(&onl));
	for (i = 0; i < 10; i++)
		ASSERT_EQ(0, pw_policy_add4(&onl, NULL, 0, 0, 0, 1000));
	pw_nl_close(&onl);
	ASSERT_EQ(0, pw_enter(self->t.cli));
	/*
	 * Ten rules and their index; the indexes each addition replaced go
	 * after a grace period.
	 */
	end = pw_now_ms() + 10000;
	do {
		ASSERT_EQ(0, pw_stats_get(&self->nl, &after));
		if (after.v[PEERWATCH_STAT_A_LIVE_OBJECTS] ==
		    before.v[PEERWATCH_STAT_A_LIVE_OBJECTS] + 11)
			break;
		usleep(100000);
	} while (pw_now_ms() < end);
	EXPECT_EQ(before.v[PEERWATCH_STAT_A_LIVE_OBJECTS] + 11,
		  after.v[PEERWATCH_STAT_A_LIVE_OBJECTS]);

	/* The netns goes away asynchronously, and its rules after an RCU grace period. */
	ASSERT_EQ(0, pw_sh("ip netns del %s", other));
	end = pw_now_ms() + 10000;
	do {
		usleep(100000);
		ASSERT_EQ(0, pw_stats_get(&self->nl, &after));
	} while (after.v[PEERWATCH_STAT_A_LIVE_OBJECTS] !=
		 before.v[PEERWATCH_STAT_A_LIVE_OBJECTS] && pw_now_ms() < end);
	EXPECT_EQ(before.v[PEERWATCH_STAT_A_LIVE_OBJECTS],
		  after.v[PEERWATCH_STAT_A_LIVE_OBJECTS]);
}

TEST_F(policy, ipv6_rule)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;
	struct in6_addr a;
	int c, s;

	inet_pton(AF_INET6, "fd00::", &a);
	nlh = pw_nl_request(&self->nl, buf, PEERWATCH_CMD_POLICY_ADD, 0);
	mnl_attr_put_u16(nlh, PEERWATCH_A_FAMILY, AF_INET6);
	mnl_attr_put(nlh, PEERWATCH_A_DADDR6, 16, &a);
	mnl_attr_put_u8(nlh, PEERWATCH_A_PREFIX_LEN, 64);
	mnl_attr_put_u32(nlh, PEERWATCH_A_USER_TIMEOUT, 2500);
	ASSERT_EQ(0, pw_nl_talk(&self->nl, nlh, NULL, NULL));

	c = pw_connect(self->t.cli, PW_SRV_ADDR6, PW_PORT, 0);
	ASSERT_LE(0, c);
	s = accept(self->lfd, NULL, NULL);
	EXPECT_EQ(2500U, pw_user_timeout(c));
	close(c);
	close(s);

	/* An IPv4 peer does not match an IPv6 rule. */
	c = pw_connect(self->t.cli, PW_SRV_ADDR, PW_PORT, 0);
	ASSERT_LE(0, c);
	s = accept(self->lfd, NULL, NULL);
	EXPECT_EQ(0U, pw_user_timeout(c));
	close(c);
	close(s);
}

struct ids {
	uint32_t v[PEERWATCH_POLICY_MAX + 1];
	int n;
};

static int ids_cb(const struct nlmsghdr *nlh, void *data)
{
	struct ids *ids = data;
	const struct nlattr *attr;

	mnl_attr_for_each(attr, nlh, sizeof(struct genlmsghdr))
		if (mnl_attr_get_type(attr) == PEERWATCH_A_POLICY_ID &&
		    ids->n < PEERWATCH_POLICY_MAX + 1)
			ids->v[ids->n++] = mnl_attr_get_u32(attr);
	return MNL_CB_OK;
}

/* Add a rule for remote port @port; its id, or 0 on failure. */
static uint32_t add_rule(struct pw_nl *nl, uint16_t port)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;
	struct ids ids = { .n = 0 };

	nlh = pw_nl_request(nl, buf, PEERWATCH_CMD_POLICY_ADD, 0);
	mnl_attr_put_u16(nlh, PEERWATCH_A_FAMILY, AF_INET);
	mnl_attr_put_u32(nlh, PEERWATCH_A_USER_TIMEOUT, 1000);
	mnl_attr_put_u16(nlh, PEERWATCH_A_DPORT_MIN, port);
	mnl_attr_put_u16(nlh, PEERWATCH_A_DPORT_MAX, port);
	if (pw_nl_talk(nl, nlh, ids_cb, &ids) || ids.n != 1)
		return 0;
	return ids.v[0];
}

static int del_rule(struct pw_nl *nl, uint32_t id)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;

	nlh = pw_nl_request(nl, buf, PEERWATCH_CMD_POLICY_DEL, 0);
	mnl_attr_put_u32(nlh, PEERWATCH_A_POLICY_ID, id);
	return pw_nl_talk(nl, nlh, NULL, NULL);
}

/* The module parameter that moves the next id search, for this test. */
static int id_next(uint32_t id)
{
	return pw_sh("echo %u >/sys/module/peerwatch/parameters/policy_id_next",
		     id);
}

TEST_F(policy, ids_across_the_wrap)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	static struct ids added, dumped;
	struct nlmsghdr *nlh;
	int i;

	/* 200 rules, the first 100 up to U32_MAX, the next after the wrap. */
	ASSERT_EQ(0, id_next(UINT32_MAX - 99));
	for (i = 0; i < 200; i++) {
		added.v[i] = add_rule(&self->nl, 1000 + i);
		ASSERT_NE(0U, added.v[i]);
	}
	added.n = 200;
	EXPECT_EQ(UINT32_MAX - 99, added.v[0]);
	EXPECT_EQ(UINT32_MAX, added.v[99]);
	EXPECT_EQ(1U, added.v[100]);	/* never 0 */
	EXPECT_EQ(100U, added.v[199]);

	/* A dump of several messages sends each rule once, in added order. */
	nlh = pw_nl_request(&self->nl, buf, PEERWATCH_CMD_POLICY_DUMP, NLM_F_DUMP);
	ASSERT_EQ(0, pw_nl_talk(&self->nl, nlh, ids_cb, &dumped));
	ASSERT_EQ(200, dumped.n);
	EXPECT_EQ(0, memcmp(added.v, dumped.v, 200 * sizeof(added.v[0])));

	/* A search that meets live ids skips them all, across the wrap. */
	ASSERT_EQ(0, id_next(UINT32_MAX - 99));
	EXPECT_EQ(101U, add_rule(&self->nl, 2000));
	ASSERT_EQ(0, del_rule(&self->nl, 50));
	ASSERT_EQ(0, id_next(UINT32_MAX - 10));
	EXPECT_EQ(50U, add_rule(&self->nl, 2001));
	EXPECT_EQ(201, pw_dump_count(&self->nl, PEERWATCH_CMD_POLICY_DUMP));

	ASSERT_EQ(0, pw_simple(&self->nl, PEERWATCH_CMD_POLICY_FLUSH));
}

/* A rule of the order test, as the test adds it and as it should match. */
struct order_rule {
	const char *addr;	/* NULL: every address */
	int plen;
	uint16_t pmin, pmax;	/* 0, 0: every port */
	uint32_t ms;
	uint32_t id;
};

/* What the test connects from, each to PW_SRV_ADDR. */
static const char *const order_peer_addr[] = { PW_SRV_ADDR, "::ffff:" PW_SRV_ADDR };

static bool order_match(const struct order_rule *r, uint16_t port)
{
	struct in_addr a, srv;
	uint32_t mask;

	if ((r->pmin || r->pmax) && (port < r->pmin || port > r->pmax))
		return false;
	if (!r->addr)
		return true;
	inet_pton(AF_INET, r->addr, &a);
	inet_pton(AF_INET, PW_SRV_ADDR, &srv);
	mask = r->plen ? htonl(~0U << (32 - r->plen)) : 0;
	return !((a.s_addr ^ srv.s_addr) & mask);
}

/* The timeout the first matching rule of @rules gives, 0 for none. */
static uint32_t order_expect(const struct order_rule *rules, int n,
			     uint16_t port)
{
	int i;

	for (i = 0; i < n; i++)
		if (order_match(&rules[i], port))
			return rules[i].ms;
	return 0;
}

static int order_add(struct pw_nl *nl, struct order_rule *r)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct ids ids = { .n = 0 };
	struct nlmsghdr *nlh;
	struct in_addr a;

	nlh = pw_nl_request(nl, buf, PEERWATCH_CMD_POLICY_ADD, 0);
	mnl_attr_put_u16(nlh, PEERWATCH_A_FAMILY, AF_INET);
	mnl_attr_put_u32(nlh, PEERWATCH_A_USER_TIMEOUT, r->ms);
	if (r->addr) {
		inet_pton(AF_INET, r->addr, &a);
		mnl_attr_put(nlh, PEERWATCH_A_DADDR4, 4, &a);
		mnl_attr_put_u8(nlh, PEERWATCH_A_PREFIX_LEN, r->plen);
	}
	if (r->pmin || r->pmax) {
		mnl_attr_put_u16(nlh, PEERWATCH_A_DPORT_MIN, r->pmin);
		mnl_attr_put_u16(nlh, PEERWATCH_A_DPORT_MAX, r->pmax);
	}
	if (pw_nl_talk(nl, nlh, ids_cb, &ids) || ids.n != 1)
		return -1;
	r->id = ids.v[0];
	return 0;
}

/* The timeout a new connection to @port from @addr gets, or -1. */
static int64_t order_got(FIXTURE_DATA(policy) *self, const char *addr,
			 uint16_t port)
{
	int c, s;
	int64_t ms;

	c = pw_connect(self->t.cli, addr, port, 0);
	if (c < 0)
		return -1;
	s = accept(port == PW_PORT ? self->lfd : self->lfd2, NULL, NULL);
	ms = s < 0 ? -1 : (int64_t)pw_user_timeout(c);
	close(c);
	if (s >= 0)
		close(s);
	return ms;
}

/*
 * The rules are tried in the order they were added, whatever the module
 * does to find the first match faster: exact rules (one host, one port or
 * every port) and the others (prefixes, ranges), in every order, with
 * duplicates, added and deleted at random, through an IPv4 and an
 * IPv4-mapped IPv6 socket. The expected timeout comes from a plain walk of
 * the rules in the test.
 */
TEST_F_TIMEOUT(policy, first_match_in_rule_order, 300)
{
	/* What a rule may be: hosts, prefixes, every address; ports alike. */
	static const struct { const char *addr; int plen; } addrs[] = {
		{ PW_SRV_ADDR, 32 }, { "10.77.0.3", 32 }, { "10.77.0.0", 24 },
		{ "10.0.0.0", 8 }, { NULL, 0 },
	};
	static const uint16_t ports[][2] = {
		{ PW_PORT, PW_PORT }, { PW_PORT + 1, PW_PORT + 1 }, { 0, 0 },
		{ PW_PORT, PW_PORT + 1 }, { 1, PW_PORT - 1 }, { 0, 65535 },
	};
	static const struct order_rule directed[] = {
		{ "10.77.0.0", 24, 0, 0, 1100, 0 },
		{ PW_SRV_ADDR, 32, PW_PORT, PW_PORT, 1200, 0 },
		{ PW_SRV_ADDR, 32, 0, 0, 1300, 0 },
	};
	struct order_rule rules[24];
	unsigned int seed = 22, ms = 2000;
	int n = 0, round, op, i, k, a, p;
	uint16_t port;

	/* A range before an exact rule wins; then the exact one, then any port. */
	for (i = 0; i < 3; i++) {
		rules[n] = directed[i];
		ASSERT_EQ(0, order_add(&self->nl, &rules[n]));
		n++;
	}
	for (i = 0; i < 3; i++) {
		EXPECT_EQ(directed[i].ms, order_got(self, PW_SRV_ADDR, PW_PORT));
		ASSERT_EQ(0, del_rule(&self->nl, rules[i].id));
	}
	n = 0;

	srand(seed);
	TH_LOG("seed %u", seed);
	for (round = 0; round < 40; round++) {
		for (op = 0; op < 3; op++) {
			if (n && (n == (int)ARRAY_SIZE(rules) || rand() % 3 == 0)) {
				k = rand() % n;
				ASSERT_EQ(0, del_rule(&self->nl, rules[k].id));
				memmove(&rules[k], &rules[k + 1],
					(n - k - 1) * sizeof(rules[0]));
				n--;
				continue;
			}
			a = rand() % ARRAY_SIZE(addrs);
			p = rand() % ARRAY_SIZE(ports);
			rules[n] = (struct order_rule){
				.addr = addrs[a].addr, .plen = addrs[a].plen,
				.pmin = ports[p][0], .pmax = ports[p][1],
				.ms = ms++,
			};
			ASSERT_EQ(0, order_add(&self->nl, &rules[n]));
			n++;
		}
		for (i = 0; i < 4; i++) {
			port = PW_PORT + i % 2;
			ASSERT_EQ((int64_t)order_expect(rules, n, port),
				  order_got(self, order_peer_addr[i / 2], port))
				TH_LOG("round %d, %d rules, port %u from %s", round,
				       n, port, order_peer_addr[i / 2]);
		}
	}
	ASSERT_EQ(n, pw_dump_count(&self->nl, PEERWATCH_CMD_POLICY_DUMP));
	ASSERT_EQ(0, pw_simple(&self->nl, PEERWATCH_CMD_POLICY_FLUSH));
}

TEST_HARNESS_MAIN

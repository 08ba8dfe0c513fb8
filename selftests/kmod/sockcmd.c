// SPDX-License-Identifier: GPL-2.0
/*
 * SOCK_GET (one socket, and dumps with filters) shows what setsockopt set;
 * SOCK_SET changes a live socket and the new value decides its death.
 */
#include <net/if.h>
#include <sys/resource.h>

#include "kselftest_harness.h"
#include "pw_test.h"

FIXTURE(sock) {
	struct pw_topo t;
	struct pw_nl nl;
	int lfd;
	int lfd2;
};

FIXTURE_SETUP(sock)
{
	ASSERT_EQ(0, pw_topo_setup(&self->t));
	self->lfd = pw_listen(self->t.srv, AF_INET6, PW_PORT, 0);
	ASSERT_LE(0, self->lfd);
	self->lfd2 = pw_listen(self->t.srv, AF_INET6, PW_PORT + 1, 0);
	ASSERT_LE(0, self->lfd2);
	ASSERT_EQ(0, pw_subscribe(self->t.cli, &self->nl));
}

FIXTURE_TEARDOWN(sock)
{
	pw_nl_close(&self->nl);
	pw_topo_teardown(&self->t);
}

TEST_F(sock, get_shows_setsockopt)
{
	static const char * const addrs[] = { PW_SRV_ADDR, PW_SRV_ADDR6 };
	struct pw_event ev;
	int i, c, s;

	for (i = 0; i < 2; i++) {
		c = pw_connect(self->t.cli, addrs[i], PW_PORT, 1234 + i);
		ASSERT_LE(0, c);
		s = accept(self->lfd, NULL, NULL);
		ASSERT_LE(0, s);

		ASSERT_EQ(0, pw_sock_get(&self->nl, c, pw_cookie(c), &ev));
		EXPECT_EQ(pw_cookie(c), ev.cookie);
		EXPECT_EQ(1234U + i, ev.user_timeout_ms);
		EXPECT_EQ(TCP_ESTABLISHED, ev.state);
		EXPECT_EQ((uint16_t)PW_PORT, ev.dport);
		EXPECT_EQ(i ? AF_INET6 : AF_INET, ev.family);

		/* The tuple alone finds it; a wrong cookie does not. */
		ASSERT_EQ(0, pw_sock_get(&self->nl, c, 0, &ev));
		EXPECT_EQ(pw_cookie(c), ev.cookie);
		EXPECT_EQ(-ENOENT, pw_sock_get(&self->nl, c, pw_cookie(c) + 1000, &ev));
		close(c);
		close(s);
	}
}

/*
 * Connect from @ns to @addr:PW_PORT through @dev: bound to it with
 * SO_BINDTODEVICE for IPv4, as the scope of a link-local address for IPv6.
 */
static int connect_dev(const char *ns, const char *addr, const char *dev)
{
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6 };
	struct sockaddr_in a4 = { .sin_family = AF_INET };
	int fd, ret;

	if (pw_enter(ns))
		return -1;
	if (inet_pton(AF_INET, addr, &a4.sin_addr) == 1) {
		fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return -1;
		a4.sin_port = htons(PW_PORT);
		ret = setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, dev,
				 strlen(dev) + 1);
		if (!ret)
			ret = connect(fd, (void *)&a4, sizeof(a4));
	} else {
		fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return -1;
		inet_pton(AF_INET6, addr, &a6.sin6_addr);
		a6.sin6_port = htons(PW_PORT);
		a6.sin6_scope_id = if_nametoindex(dev);
		ret = connect(fd, (void *)&a6, sizeof(a6));
	}
	if (ret) {
		close(fd);
		return -1;
	}
	return fd;
}

struct collect {
	uint64_t cookies[64];
	uint32_t timeouts[64];
	int n;
};

static int collect_cb(const struct nlmsghdr *nlh, void *data)
{
	struct collect *col = data;
	struct pw_event ev;

	if (pw_event_parse(nlh, &ev) == 0 && col->n < 64) {
		col->timeouts[col->n] = ev.user_timeout_ms;
		col->cookies[col->n++] = ev.cookie;
	}
	return MNL_CB_OK;
}

static bool has(const struct collect *col, uint64_t cookie)
{
	int i;

	for (i = 0; i < col->n; i++)
		if (col->cookies[i] == cookie)
			return true;
	return false;
}

enum { F_DPORT = 1, F_TIMEOUT = 2, F_DST = 4, F_STATE = 8 };

static int dump(struct pw_nl *nl, int filters, const char *dst, int plen,
		struct collect *col)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;
	struct in_addr a;

	memset(col, 0, sizeof(*col));
	nlh = pw_nl_request(nl, buf, PEERWATCH_CMD_SOCK_GET, NLM_F_DUMP);
	if (filters & F_DPORT)
		mnl_attr_put_u16(nlh, PEERWATCH_A_DPORT, PW_PORT);
	if (filters & F_TIMEOUT)
		mnl_attr_put_u32(nlh, PEERWATCH_A_DUMP_FLAGS,
				 PEERWATCH_DUMP_F_USER_TIMEOUT);
	if (filters & F_STATE)
		mnl_attr_put_u32(nlh, PEERWATCH_A_STATE_MASK, 1U << TCP_LISTEN);
	if (filters & F_DST) {
		inet_pton(AF_INET, dst, &a);
		mnl_attr_put_u16(nlh, PEERWATCH_A_FAMILY, AF_INET);
		mnl_attr_put(nlh, PEERWATCH_A_DADDR4, 4, &a);
		mnl_attr_put_u8(nlh, PEERWATCH_A_PREFIX_LEN, plen);
	}
	return pw_nl_talk(nl, nlh, collect_cb, col);
}

TEST_F(sock, dump_filters)
{
	struct collect col;
	int c1, c2, c3, s1, s2, s3;
	uint64_t k1, k2, k3;

	c1 = pw_connect(self->t.cli, PW_SRV_ADDR, PW_PORT, 1000);
	s1 = accept(self->lfd, NULL, NULL);
	c2 = pw_connect(self->t.cli, PW_SRV_ADDR, PW_PORT, 0);
	s2 = accept(self->lfd, NULL, NULL);
	c3 = pw_connect(self->t.cli, PW_SRV_ADDR, PW_PORT + 1, 3000);
	s3 = accept(self->lfd2, NULL, NULL);
	ASSERT_LE(0, c1 | c2 | c3 | s1 | s2 | s3);
	k1 = pw_cookie(c1);
	k2 = pw_cookie(c2);
	k3 = pw_cookie(c3);

	ASSERT_EQ(0, dump(&self->nl, 0, NULL, 0, &col));
	EXPECT_EQ(3, col.n);
	EXPECT_TRUE(has(&col, k1) && has(&col, k2) && has(&col, k3));

	ASSERT_EQ(0, dump(&self->nl, F_DPORT, NULL, 0, &col));
	EXPECT_EQ(2, col.n);
	EXPECT_TRUE(has(&col, k1) && has(&col, k2));

	ASSERT_EQ(0, dump(&self->nl, F_TIMEOUT, NULL, 0, &col));
	EXPECT_EQ(2, col.n);
	EXPECT_TRUE(has(&col, k1) && has(&col, k3));

	ASSERT_EQ(0, dump(&self->nl, F_DPORT | F_TIMEOUT, NULL, 0, &col));
	ASSERT_EQ(1, col.n);
	EXPECT_EQ(k1, col.cookies[0]);
	EXPECT_EQ(1000U, col.timeouts[0]);

	ASSERT_EQ(0, dump(&self->nl, F_DST, "10.77.0.0", 24, &col));
	EXPECT_EQ(3, col.n);
	ASSERT_EQ(0, dump(&self->nl, F_DST, "10.78.0.0", 16, &col));
	EXPECT_EQ(0, col.n);
	ASSERT_EQ(0, dump(&self->nl, F_STATE, NULL, 0, &col));
	EXPECT_EQ(0, col.n);

	close(c1);
	close(c2);
	close(c3);
	close(s1);
	close(s2);
	close(s3);
}

/* Whether a dump restricted to sockets bound to @ifindex lists @cookie. */
static int dump_dev_has(struct pw_nl *nl, int ifindex, uint64_t cookie)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;
	struct collect col = { 0 };
	int ret;

	nlh = pw_nl_request(nl, buf, PEERWATCH_CMD_SOCK_GET, NLM_F_DUMP);
	mnl_attr_put_u32(nlh, PEERWATCH_A_IFINDEX, ifindex);
	ret = pw_nl_talk(nl, nlh, collect_cb, &col);
	return ret ? ret : has(&col, cookie);
}

/*
 * The IPv4 child of a dual-stack listener is an AF_INET6 socket hashed as
 * IPv4: its description (v4-mapped addresses) finds it again. A socket
 * bound to a device (SO_BINDTODEVICE, or connected to an IPv6 link-local
 * address) is found with the ifindex its description gives, and not
 * without it.
 */
TEST_F(sock, get_finds_mapped_and_bound)
{
	static const char * const addrs[] = { PW_SRV_ADDR, "fe80::2" };
	struct pw_nl srv_nl;
	struct pw_event ev;
	int i, c, s, ifindex;

	c = pw_connect(self->t.cli, PW_SRV_ADDR, PW_PORT, 0);
	ASSERT_LE(0, c);
	s = accept(self->lfd, NULL, NULL);
	ASSERT_LE(0, s);
	ASSERT_EQ(0, pw_enter(self->t.srv));
	ASSERT_EQ(0, pw_nl_open(&srv_nl));
	ASSERT_EQ(0, pw_sock_get(&srv_nl, s, pw_cookie(s), &ev));
	EXPECT_EQ(AF_INET6, ev.family);
	EXPECT_TRUE(IN6_IS_ADDR_V4MAPPED(&ev.saddr.v6));
	EXPECT_TRUE(IN6_IS_ADDR_V4MAPPED(&ev.daddr.v6));
	EXPECT_EQ(0, pw_sock_set(&srv_nl, s, pw_cookie(s), 2500));
	EXPECT_EQ(2500U, pw_user_timeout(s));
	pw_nl_close(&srv_nl);
	close(c);
	close(s);

	ASSERT_EQ(0, pw_sh("ip -n %s addr add fe80::1/64 dev pwc0 nodad && "
			   "ip -n %s addr add fe80::2/64 dev pws0 nodad",
			   self->t.cli, self->t.srv));
	ASSERT_EQ(0, pw_enter(self->t.cli));
	ifindex = if_nametoindex("pwc0");
	ASSERT_LT(0, ifindex);
	for (i = 0; i < 2; i++) {
		c = connect_dev(self->t.cli, addrs[i], "pwc0");
		ASSERT_LE(0, c);
		s = accept(self->lfd, NULL, NULL);
		ASSERT_LE(0, s);
		ASSERT_EQ(ifindex, pw_bound_ifindex(c));

		ASSERT_EQ(0, pw_sock_get(&self->nl, c, pw_cookie(c), &ev));
		EXPECT_EQ((uint32_t)ifindex, ev.ifindex);
		EXPECT_EQ(-ENOENT, pw_sock_get_if(&self->nl, c, 0, pw_cookie(c),
						  &ev));
		EXPECT_EQ(0, pw_sock_set(&self->nl, c, pw_cookie(c), 3000 + i));
		EXPECT_EQ(3000U + i, pw_user_timeout(c));
		EXPECT_EQ(1, dump_dev_has(&self->nl, ifindex, pw_cookie(c)));
		EXPECT_EQ(0, dump_dev_has(&self->nl, ifindex + 1, pw_cookie(c)));
		close(c);
		close(s);
	}
}

TEST_F_TIMEOUT(sock, set_decides_death, 60)
{
	struct pw_event ev;
	uint64_t t0, ms, cookie;
	unsigned int rto;
	int c, s;

	ASSERT_EQ(0, pw_sysctl(self->t.cli, "net.ipv4.tcp_early_retrans", "0"));
	c = pw_connect(self->t.cli, PW_SRV_ADDR, PW_PORT, 0);
	ASSERT_LE(0, c);
	s = accept(self->lfd, NULL, NULL);
	ASSERT_LE(0, s);
	cookie = pw_cookie(c);
	rto = pw_rto_ms(c);

	/* A stale cookie changes nothing. */
	EXPECT_EQ(-ENOENT, pw_sock_set(&self->nl, c, cookie + 1000, 1500));
	EXPECT_EQ(0U, pw_user_timeout(c));

	ASSERT_EQ(0, pw_sock_set(&self->nl, c, cookie, 1500));
	EXPECT_EQ(1500U, pw_user_timeout(c));

	ASSERT_EQ(0, pw_blackhole(&self->t, true));
	t0 = pw_now_ns();
	ASSERT_EQ(0, pw_send_some(c, 1000));
	ASSERT_EQ(0, pw_wait_event(&self->nl, cookie, PEERWATCH_EVENT_DEAD,
				   15000, &ev));
	ms = (ev.timestamp_ns - t0) / 1000000;
	/* Its first retransmission an RTO on, then the user timeout (dead.c). */
	TH_LOG("user timeout 1500 ms set by SOCK_SET: DEAD %llu ms after the blackhole (bound [1500, %u])",
	       (unsigned long long)ms, 1500 + 2 * rto + PW_LATE_MS);
	EXPECT_EQ(PEERWATCH_REASON_USER_TIMEOUT, ev.reason);
	EXPECT_GE(ms, 1500U);
	EXPECT_LE(ms, 1500U + 2 * rto + PW_LATE_MS);
	close(c);
	close(s);
}

/* 10,000 connections: 20,000 sockets of one netns, each dumped once. */
TEST_F_TIMEOUT(sock, dump_20000_sockets, 300)
{
	struct rlimit rl = { 25000, 25000 };
	char buf[MNL_SOCKET_BUFFER_SIZE];
	const int pairs = 10000;
	struct nlmsghdr *nlh;
	int *fds, lfd, i, n = 0;
	uint64_t t0;

	if (setrlimit(RLIMIT_NOFILE, &rl))
		SKIP(return, "cannot raise RLIMIT_NOFILE to 25000");
	fds = calloc(2 * pairs, sizeof(int));
	ASSERT_NE(NULL, fds);
	lfd = pw_listen(self->t.cli, AF_INET, PW_PORT, 0);
	ASSERT_LE(0, lfd);
	ASSERT_EQ(0, pw_sysctl(self->t.cli, "net.ipv4.ip_local_port_range",
			       "\"10000 60000\""));

	t0 = pw_now_ms();
	for (i = 0; i < pairs; i++) {
		fds[2 * i] = pw_connect(self->t.cli, "127.0.0.1", PW_PORT, 0);
		ASSERT_LE(0, fds[2 * i]);
		fds[2 * i + 1] = accept(lfd, NULL, NULL);
		ASSERT_LE(0, fds[2 * i + 1]);
	}
	TH_LOG("%d connections in %llu ms", pairs,
	       (unsigned long long)(pw_now_ms() - t0));

	t0 = pw_now_ms();
	nlh = pw_nl_request(&self->nl, buf, PEERWATCH_CMD_SOCK_GET, NLM_F_DUMP);
	ASSERT_EQ(0, pw_nl_talk(&self->nl, nlh, pw_count_cb, &n));
	TH_LOG("dumped %d sockets in %llu ms", n,
	       (unsigned long long)(pw_now_ms() - t0));
	EXPECT_EQ(2 * pairs, n);

	for (i = 0; i < 2 * pairs; i++)
		close(fds[i]);
	free(fds);
	close(lfd);
}

TEST_HARNESS_MAIN

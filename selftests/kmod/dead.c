// SPDX-License-Identifier: GPL-2.0
/*
 * DEAD events: each reason caused for real between two namespaces (see
 * pw_test.h for the topology), and no event for a normal close or in
 * another namespace.
 */
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>

#include "kselftest_harness.h"
#include "pw_test.h"

#define WATCH_ALL "/sys/module/peerwatch/parameters/watch_all"

static int write_file(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, val, strlen(val));
	close(fd);
	return n == (ssize_t)strlen(val) ? 0 : -EIO;
}

FIXTURE(dead) {
	struct pw_topo t;
	struct pw_nl nl;
	int lfd;
	bool watch_all;
};

FIXTURE_SETUP(dead)
{
	ASSERT_EQ(0, pw_topo_setup(&self->t));
	self->lfd = pw_listen(self->t.srv, AF_INET6, PW_PORT, 0);
	ASSERT_LE(0, self->lfd);
	ASSERT_EQ(0, pw_subscribe(self->t.cli, &self->nl));
}

FIXTURE_TEARDOWN(dead)
{
	if (self->watch_all)
		write_file(WATCH_ALL, "N");
	pw_nl_close(&self->nl);
	pw_topo_teardown(&self->t);
}

static void expect_tuple(struct __test_metadata *_metadata,
			 const struct pw_event *ev, int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	char addr[INET6_ADDRSTRLEN];

	ASSERT_EQ(0, getsockname(fd, (void *)&ss, &len));
	EXPECT_EQ(ss.ss_family, ev->family);
	if (ss.ss_family == AF_INET) {
		EXPECT_EQ(ntohs(((struct sockaddr_in *)&ss)->sin_port), ev->sport);
	} else {
		EXPECT_EQ(ntohs(((struct sockaddr_in6 *)&ss)->sin6_port), ev->sport);
	}
	EXPECT_EQ((uint16_t)PW_PORT, ev->dport);
	ASSERT_EQ(0, pw_event_addr(ev, false, addr, sizeof(addr)));
	EXPECT_TRUE(!strcmp(addr, PW_SRV_ADDR) || !strcmp(addr, PW_SRV_ADDR6));
	EXPECT_EQ(pw_cookie(fd), ev->cookie);
}

/*
 * The kernel counts the user timeout from the first retransmission
 * (retrans_stamp), which comes one RTO after the blackhole, or, with tail
 * loss probes on, after the probe timeout (about one RTO on a quiet
 * connection) plus an RTO. The timer then fires a few jiffies late, or
 * PW_LATE_MS in a starved guest. Without the user timeout it would be
 * the retransmissions' 15 minutes.
 */
static void user_timeout_case(struct __test_metadata *_metadata,
			      FIXTURE_DATA(dead) *self, bool tlp)
{
	const unsigned int timeout = 2000;
	unsigned int rto, bound;
	uint64_t t0, ms, suspect;
	struct pw_event ev;
	int c, s;
	char b;

	if (!tlp)
		ASSERT_EQ(0, pw_sysctl(self->t.cli, "net.ipv4.tcp_early_retrans", "0"));
	c = pw_connect(self->t.cli, PW_SRV_ADDR, PW_PORT, timeout);
	ASSERT_LE(0, c);
	s = accept(self->lfd, NULL, NULL);
	ASSERT_LE(0, s);
	rto = pw_rto_ms(c);
	bound = timeout + (tlp ? 3 : 2) * rto + PW_LATE_MS;

	ASSERT_EQ(0, pw_blackhole(&self->t, true));
	t0 = pw_now_ns();
	ASSERT_EQ(0, pw_send_some(c, 1000));

	ASSERT_EQ(0, pw_wait_event(&self->nl, pw_cookie(c), PEERWATCH_EVENT_SUSPECT,
				   timeout, &ev));
	suspect = (ev.timestamp_ns - t0) / 1000000;
	ASSERT_EQ(0, pw_wait_event(&self->nl, pw_cookie(c), PEERWATCH_EVENT_DEAD,
				   timeout + 10000, &ev));
	ms = (ev.timestamp_ns - t0) / 1000000;
	TH_LOG("user timeout %u ms, rto %u ms, tail loss probes %s: blackhole to SUSPECT in %llu ms, to DEAD in %llu ms (bound [%u, %u]), %u retransmissions",
	       timeout, rto, tlp ? "on" : "off", (unsigned long long)suspect,
	       (unsigned long long)ms, timeout, bound, ev.retransmits);
	EXPECT_EQ(PEERWATCH_REASON_USER_TIMEOUT, ev.reason);
	EXPECT_EQ((uint32_t)ETIMEDOUT, ev.sk_err);
	EXPECT_EQ(timeout, ev.user_timeout_ms);
	EXPECT_EQ(TCP_ESTABLISHED, ev.state);
	EXPECT_GT(ev.retransmits, 0U);
	EXPECT_GE(ms, timeout);
	EXPECT_LE(ms, bound);
	expect_tuple(_metadata, &ev, c);

	/* The application sees the same verdict. */
	EXPECT_EQ(-1, recv(c, &b, 1, MSG_DONTWAIT));
	EXPECT_EQ(ETIMEDOUT, errno);
	close(c);
	close(s);
}

TEST_F_TIMEOUT(dead, user_timeout, 60)
{
	user_timeout_case(_metadata, self, false);
}

TEST_F_TIMEOUT(dead, user_timeout_tlp, 60)
{
	user_timeout_case(_metadata, self, true);
}

TEST_F_TIMEOUT(dead, retries, 60)
{
	struct pw_event ev;
	uint64_t t0;
	int c, s;

	/* No user timeout: watched only with watch_all. */
	self->watch_all = true;
	ASSERT_EQ(0, write_file(WATCH_ALL, "Y"));
	ASSERT_EQ(0, pw_sysctl(self->t.cli, "net.ipv4.tcp_retries2", "2"));

	c = pw_connect(self->t.cli, PW_SRV_ADDR, PW_PORT, 0);
	ASSERT_LE(0, c);
	s = accept(self->lfd, NULL, NULL);
	ASSERT_LE(0, s);
	ASSERT_EQ(0, pw_blackhole(&self->t, true));
	t0 = pw_now_ns();
	ASSERT_EQ(0, pw_send_some(c, 1000));

	ASSERT_EQ(0, pw_wait_event(&self->nl, pw_cookie(c), PEERWATCH_EVENT_DEAD,
				   20000, &ev));
	TH_LOG("tcp_retries2=2: blackhole to DEAD in %llu ms after %u retransmissions",
	       (unsigned long long)(ev.timestamp_ns - t0) / 1000000, ev.retransmits);
	EXPECT_EQ(PEERWATCH_REASON_RETRIES, ev.reason);
	EXPECT_EQ(0U, ev.user_timeout_ms);
	EXPECT_GE(ev.retransmits, 2U);
	expect_tuple(_metadata, &ev, c);
	close(c);
	close(s);
}

TEST_F_TIMEOUT(dead, keepalive, 60)
{
	int one = 1, idle = 1, intvl = 1;
	struct pw_event ev;
	uint64_t t0;
	int c, s;

	c = pw_connect(self->t.cli, PW_SRV_ADDR, PW_PORT, 1500);
	ASSERT_LE(0, c);
	s = accept(self->lfd, NULL, NULL);
	ASSERT_LE(0, s);
	ASSERT_EQ(0, setsockopt(c, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one)));
	ASSERT_EQ(0, setsockopt(c, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle)));
	ASSERT_EQ(0, setsockopt(c, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl)));

	ASSERT_EQ(0, pw_blackhole(&self->t, true));
	t0 = pw_now_ns();
	ASSERT_EQ(0, pw_wait_event(&self->nl, pw_cookie(c), PEERWATCH_EVENT_DEAD,
				   15000, &ev));
	/* Idle time counts from the last segment received, before t0. */
	TH_LOG("idle connection, keepalive 1s/1s, user timeout 1500 ms: DEAD %llu ms after the blackhole",
	       (unsigned long long)(ev.timestamp_ns - t0) / 1000000);
	EXPECT_EQ(PEERWATCH_REASON_KEEPALIVE, ev.reason);
	EXPECT_GT(ev.probes, 0U);
	EXPECT_EQ(0U, ev.retransmits);
	expect_tuple(_metadata, &ev, c);
	close(c);
	close(s);
}

TEST_F_TIMEOUT(dead, zero_window, 60)
{
	int small = 4096, lfd, c, s;
	struct pw_event ev;
	uint64_t t0;
	char buf[16384];

	/* The server never reads: its window closes and stays shut. */
	lfd = pw_listen(self->t.srv, AF_INET, PW_PORT + 1, small);
	ASSERT_LE(0, lfd);
	c = pw_connect(self->t.cli, PW_SRV_ADDR, PW_PORT + 1, 2000);
	ASSERT_LE(0, c);
	s = accept(lfd, NULL, NULL);
	ASSERT_LE(0, s);

	memset(buf, 'z', sizeof(buf));
	t0 = pw_now_ns();
	while (pw_now_ns() - t0 < 5000000000ULL &&
	       (send(c, buf, sizeof(buf), MSG_DONTWAIT) > 0 || errno != EAGAIN))
		;
	ASSERT_EQ(EAGAIN, errno);

	ASSERT_EQ(0, pw_wait_event(&self->nl, pw_cookie(c), PEERWATCH_EVENT_DEAD,
				   20000, &ev));
	TH_LOG("zero window, user timeout 2000 ms: DEAD %llu ms after the send buffer filled",
	       (unsigned long long)(ev.timestamp_ns - t0) / 1000000);
	EXPECT_EQ(PEERWATCH_REASON_ZERO_WINDOW, ev.reason);
	EXPECT_EQ((uint32_t)ETIMEDOUT, ev.sk_err);
	close(c);
	close(s);
	close(lfd);
}

/*
 * A reset sent after the move to TCP_CLOSE (here tcp_disconnect()'s, lost
 * in the blackhole so that the peer's close does not come between) must not
 * be taken, later, for the reset of a keepalive abort of the same socket.
 */
TEST_F_TIMEOUT(dead, zero_window_after_disconnect, 60)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	struct sockaddr unspec = { .sa_family = AF_UNSPEC };
	int small = 4096, ms = 2000, lfd, c, s, s0;
	struct pw_event ev;
	char buf[16384];
	uint64_t t0;

	lfd = pw_listen(self->t.srv, AF_INET, PW_PORT + 1, small);
	ASSERT_LE(0, lfd);
	c = pw_connect(self->t.cli, PW_SRV_ADDR, PW_PORT + 1, ms);
	ASSERT_LE(0, c);
	s0 = accept(lfd, NULL, NULL);
	ASSERT_LE(0, s0);
	ASSERT_EQ(0, pw_blackhole(&self->t, true));
	ASSERT_EQ(0, connect(c, &unspec, sizeof(unspec)));
	ASSERT_EQ(0, pw_blackhole(&self->t, false));

	/* The same socket connects again, and its peer never reads. */
	sa.sin_port = htons(PW_PORT + 1);
	inet_pton(AF_INET, PW_SRV_ADDR, &sa.sin_addr);
	ASSERT_EQ(0, setsockopt(c, IPPROTO_TCP, TCP_USER_TIMEOUT, &ms, sizeof(ms)));
	ASSERT_EQ(0, connect(c, (struct sockaddr *)&sa, sizeof(sa)));
	s = accept(lfd, NULL, NULL);
	ASSERT_LE(0, s);
	memset(buf, 'z', sizeof(buf));
	t0 = pw_now_ns();
	while (pw_now_ns() - t0 < 5000000000ULL &&
	       (send(c, buf, sizeof(buf), MSG_DONTWAIT) > 0 || errno != EAGAIN))
		;
	ASSERT_EQ(EAGAIN, errno);

	ASSERT_EQ(0, pw_wait_event(&self->nl, pw_cookie(c), PEERWATCH_EVENT_DEAD,
				   20000, &ev));
	EXPECT_EQ(PEERWATCH_REASON_ZERO_WINDOW, ev.reason);
	close(c);
	close(s);
	close(s0);
	close(lfd);
}

static void reset_case(struct __test_metadata *_metadata,
		       FIXTURE_DATA(dead) *self, const char *addr)
{
	struct linger lin = { .l_onoff = 1, .l_linger = 0 };
	struct pw_event ev;
	int c, s;

	c = pw_connect(self->t.cli, addr, PW_PORT, 5000);
	ASSERT_LE(0, c);
	s = accept(self->lfd, NULL, NULL);
	ASSERT_LE(0, s);
	ASSERT_EQ(0, setsockopt(s, SOL_SOCKET, SO_LINGER, &lin, sizeof(lin)));
	close(s);

	ASSERT_EQ(0, pw_wait_event(&self->nl, pw_cookie(c), PEERWATCH_EVENT_DEAD,
				   5000, &ev));
	EXPECT_EQ(PEERWATCH_REASON_RESET, ev.reason);
	EXPECT_EQ((uint32_t)ECONNRESET, ev.sk_err);
	EXPECT_EQ(5000U, ev.user_timeout_ms);
	expect_tuple(_metadata, &ev, c);
	close(c);
}

TEST_F_TIMEOUT(dead, reset, 30)
{
	reset_case(_metadata, self, PW_SRV_ADDR);
}

TEST_F_TIMEOUT(dead, reset_ipv6, 30)
{
	reset_case(_metadata, self, PW_SRV_ADDR6);
}

TEST_F_TIMEOUT(dead, abort, 30)
{
	struct pw_event ev;
	int c, s;

	c = pw_connect(self->t.cli, PW_SRV_ADDR, PW_PORT, 5000);
	ASSERT_LE(0, c);
	s = accept(self->lfd, NULL, NULL);
	ASSERT_LE(0, s);

	/* SOCK_DESTROY through inet_diag, as an administrator would. */
	ASSERT_EQ(0, pw_sh("ip netns exec %s ss -K -t dst %s dport = %d >/dev/null",
			   self->t.cli, PW_SRV_ADDR, PW_PORT));
	ASSERT_EQ(0, pw_wait_event(&self->nl, pw_cookie(c), PEERWATCH_EVENT_DEAD,
				   5000, &ev));
	EXPECT_EQ(PEERWATCH_REASON_ABORT, ev.reason);
	EXPECT_EQ((uint32_t)ECONNABORTED, ev.sk_err);
	expect_tuple(_metadata, &ev, c);
	close(c);
	close(s);
}

TEST_F_TIMEOUT(dead, normal_close_no_event, 30)
{
	struct pw_event ev;
	int c, s, i;
	char b[8];

	for (i = 0; i < 2; i++) {
		c = pw_connect(self->t.cli, PW_SRV_ADDR, PW_PORT, 2000);
		ASSERT_LE(0, c);
		s = accept(self->lfd, NULL, NULL);
		ASSERT_LE(0, s);
		ASSERT_EQ(4, send(c, "ping", 4, 0));
		ASSERT_EQ(4, recv(s, b, sizeof(b), 0));
		ASSERT_EQ(4, send(s, "pong", 4, 0));
		ASSERT_EQ(4, recv(c, b, sizeof(b), 0));
		/* Client first, then server first. */
		close(i ? s : c);
		ASSERT_EQ(0, recv(i ? c : s, b, sizeof(b), 0));
		close(i ? c : s);
	}
	EXPECT_EQ(-ETIMEDOUT, pw_wait_event(&self->nl, 0, 0, 1500, &ev));
}

TEST_F_TIMEOUT(dead, other_netns_sees_nothing, 30)
{
	struct linger lin = { .l_onoff = 1, .l_linger = 0 };
	char other[32];
	struct pw_nl onl;
	struct pw_event ev;
	int c, s;

	snprintf(other, sizeof(other), "pwo%d", getpid());
	ASSERT_EQ(0, pw_sh("ip netns add %s", other));
	ASSERT_EQ(0, pw_subscribe(other, &onl));

	c = pw_connect(self->t.cli, PW_SRV_ADDR, PW_PORT, 5000);
	ASSERT_LE(0, c);
	s = accept(self->lfd, NULL, NULL);
	ASSERT_LE(0, s);
	ASSERT_EQ(0, setsockopt(s, SOL_SOCKET, SO_LINGER, &lin, sizeof(lin)));
	close(s);

	/* Seen in the socket's netns, not in the other one. */
	ASSERT_EQ(0, pw_wait_event(&self->nl, pw_cookie(c), PEERWATCH_EVENT_DEAD,
				   5000, &ev));
	EXPECT_EQ(-ETIMEDOUT, pw_wait_event(&onl, 0, 0, 1000, &ev));
	pw_nl_close(&onl);
	pw_sh("ip netns del %s", other);
	close(c);
}

/* The next sequence number @s expects, read in repair mode. */
static int rcv_nxt(int s, uint32_t *seq)
{
	int on = TCP_REPAIR_ON, off = TCP_REPAIR_OFF_NO_WP, q = TCP_RECV_QUEUE;
	socklen_t len = sizeof(*seq);
	int ret = 0;

	if (setsockopt(s, IPPROTO_TCP, TCP_REPAIR, &on, sizeof(on)))
		return -errno;
	if (setsockopt(s, IPPROTO_TCP, TCP_REPAIR_QUEUE, &q, sizeof(q)) ||
	    getsockopt(s, IPPROTO_TCP, TCP_QUEUE_SEQ, seq, &len))
		ret = -errno;
	setsockopt(s, IPPROTO_TCP, TCP_REPAIR, &off, sizeof(off));
	return ret;
}

static uint16_t icmp_csum(const void *p, size_t len)
{
	const uint16_t *w = p;
	uint32_t sum = 0;

	for (; len > 1; len -= 2)
		sum += *w++;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return ~sum;
}

/*
 * An ICMP host unreachable from the server's side, as a router would send
 * it, about the client's segment @seq to @dport: the client's TCP takes it
 * as a soft error (sk_err_soft) while it is connected.
 */
static int send_unreach(int raw, uint16_t sport, uint16_t dport, uint32_t seq)
{
	struct sockaddr_in to = { .sin_family = AF_INET };
	struct {
		struct icmphdr icmp;
		struct iphdr ip;
		uint16_t sport, dport;
		uint32_t seq;
	} __attribute__((packed)) m = {
		.icmp = { .type = ICMP_DEST_UNREACH, .code = ICMP_HOST_UNREACH },
		.ip = { .version = 4, .ihl = 5, .ttl = 64,
			.protocol = IPPROTO_TCP, .tot_len = htons(60) },
		.sport = htons(sport),
		.dport = htons(dport),
		.seq = htonl(seq),
	};

	inet_pton(AF_INET, PW_CLI_ADDR, &m.ip.saddr);
	inet_pton(AF_INET, PW_SRV_ADDR, &m.ip.daddr);
	m.icmp.checksum = icmp_csum(&m, sizeof(m));
	inet_pton(AF_INET, PW_CLI_ADDR, &to.sin_addr);
	return sendto(raw, &m, sizeof(m), 0, (void *)&to, sizeof(to)) ==
	       sizeof(m) ? 0 : -errno;
}

/*
 * A zero-window abort with a soft error left by an ICMP unreachable: the
 * timer closes with that error instead of ETIMEDOUT, and the ACKs of the
 * probes have kept icsk_probes_out at 0. The ICMP comes every 50 ms, so
 * that one lands after the last probe's ACK (which clears the soft error).
 * Before the fix, the socket closed with EHOSTUNREACH and no DEAD.
 */
TEST_F_TIMEOUT(dead, zero_window_icmp, 60)
{
	struct sockaddr_in sa;
	socklen_t salen = sizeof(sa);
	int small = 4096, lfd, c, s, raw, err = 0;
	socklen_t tilen = sizeof(struct tcp_info), errlen = sizeof(err);
	struct tcp_info ti = { 0 };
	struct pw_event ev;
	char buf[16384];
	uint32_t una;
	uint64_t t0;

	lfd = pw_listen(self->t.srv, AF_INET, PW_PORT + 1, small);
	ASSERT_LE(0, lfd);
	raw = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMP);
	ASSERT_LE(0, raw);
	c = pw_connect(self->t.cli, PW_SRV_ADDR, PW_PORT + 1, 2000);
	ASSERT_LE(0, c);
	s = accept(lfd, NULL, NULL);
	ASSERT_LE(0, s);
	ASSERT_EQ(0, getsockname(c, (void *)&sa, &salen));

	memset(buf, 'z', sizeof(buf));
	t0 = pw_now_ns();
	while (pw_now_ns() - t0 < 5000000000ULL &&
	       (send(c, buf, sizeof(buf), MSG_DONTWAIT) > 0 || errno != EAGAIN))
		;
	ASSERT_EQ(EAGAIN, errno);
	/* The window is shut and all data acknowledged: snd_una stays. */
	usleep(300000);
	ASSERT_EQ(0, rcv_nxt(s, &una));

	/* Until the zero-window timer gives up: the socket is closed. */
	do {
		ASSERT_EQ(0, send_unreach(raw, ntohs(sa.sin_port), PW_PORT + 1, una));
		usleep(50000);
		ASSERT_EQ(0, getsockopt(c, IPPROTO_TCP, TCP_INFO, &ti, &tilen));
	} while (ti.tcpi_state != 7 /* TCP_CLOSE */ &&
		 pw_now_ns() - t0 < 20000000000ULL);
	ASSERT_EQ(0, getsockopt(c, SOL_SOCKET, SO_ERROR, &err, &errlen));
	TH_LOG("closed %llu ms after the send buffer filled, error %d",
	       (unsigned long long)(pw_now_ns() - t0) / 1000000, err);
	ASSERT_EQ(EHOSTUNREACH, err);
	ASSERT_EQ(0, pw_wait_event(&self->nl, pw_cookie(c), PEERWATCH_EVENT_DEAD,
				   1000, &ev));
	TH_LOG("zero window and ICMP unreachables, user timeout 2000 ms: DEAD %llu ms after the send buffer filled, error %u",
	       (unsigned long long)(ev.timestamp_ns - t0) / 1000000, ev.sk_err);
	EXPECT_EQ(PEERWATCH_REASON_ZERO_WINDOW, ev.reason);
	EXPECT_EQ((uint32_t)EHOSTUNREACH, ev.sk_err);
	EXPECT_EQ(0U, ev.retransmits);
	close(raw);
	close(c);
	close(s);
	close(lfd);
}

/*
 * A connection attempt that an ICMP host unreachable ends, at the first
 * SYN or at its retransmission (the server's netns drops the first SYN,
 * quota of 100 bytes, and rejects the next), is refused as by a RST: the
 * error is EHOSTUNREACH and no timer ran out. Over veth the answer to the
 * first SYN would come back while connect() still owns the socket, which
 * TCP then keeps as a soft error only: it is delayed 100 ms, as over a
 * real path. With every SYN dropped the attempt times out: USER_TIMEOUT
 * and ETIMEDOUT. Before the fix, the first went unreported and the
 * second was a user timeout.
 */
static void syn_sent_case(struct __test_metadata *_metadata,
			  FIXTURE_DATA(dead) *self, const char *rules,
			  int delay_ms, int reason, int err, int rtx,
			  unsigned int ms)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	struct pw_event ev;
	uint64_t t0;
	int c;

	ASSERT_EQ(0, pw_sh("ip netns exec %s nft -f - <<'EOF'\n"
			   "table ip pwsyn {\n"
			   "  chain in { type filter hook input priority 0; %s }\n"
			   "}\nEOF", self->t.srv, rules));
	if (delay_ms)
		ASSERT_EQ(0, pw_sh("tc -n %s qdisc add dev pws0 root netem delay %dms",
				   self->t.srv, delay_ms));
	ASSERT_EQ(0, pw_enter(self->t.cli));
	c = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	ASSERT_LE(0, c);
	ASSERT_EQ(0, setsockopt(c, IPPROTO_TCP, TCP_USER_TIMEOUT, &ms, sizeof(ms)));
	sa.sin_port = htons(PW_PORT + 2);
	inet_pton(AF_INET, PW_SRV_ADDR, &sa.sin_addr);
	t0 = pw_now_ns();
	ASSERT_EQ(-1, connect(c, (void *)&sa, sizeof(sa)));
	ASSERT_EQ(EINPROGRESS, errno);

	ASSERT_EQ(0, pw_wait_event(&self->nl, pw_cookie(c), PEERWATCH_EVENT_DEAD,
				   ms + 5000, &ev));
	TH_LOG("SYN_SENT: DEAD %llu ms after connect, reason %u, error %u, %u retransmits",
	       (unsigned long long)(ev.timestamp_ns - t0) / 1000000,
	       ev.reason, ev.sk_err, ev.retransmits);
	EXPECT_EQ(reason, ev.reason);
	EXPECT_EQ((uint32_t)err, ev.sk_err);
	EXPECT_EQ(2 /* TCP_SYN_SENT */, ev.state);
	if (rtx >= 0)
		EXPECT_EQ((uint32_t)rtx, ev.retransmits);
	close(c);
}

TEST_F_TIMEOUT(dead, syn_sent_icmp_first, 30)
{
	syn_sent_case(_metadata, self,
		      "tcp dport 5002 reject with icmp type host-unreachable;",
		      100, PEERWATCH_REASON_RESET, EHOSTUNREACH, 0, 5000);
}

TEST_F_TIMEOUT(dead, syn_sent_icmp_retransmission, 30)
{
	syn_sent_case(_metadata, self,
		      "tcp dport 5002 quota until 100 bytes drop; "
		      "tcp dport 5002 reject with icmp type host-unreachable;",
		      0, PEERWATCH_REASON_RESET, EHOSTUNREACH, 1, 5000);
}

TEST_F_TIMEOUT(dead, syn_sent_timeout, 30)
{
	syn_sent_case(_metadata, self, "tcp dport 5002 drop;", 0,
		      PEERWATCH_REASON_USER_TIMEOUT, ETIMEDOUT, -1, 1500);
}

TEST_HARNESS_MAIN

// SPDX-License-Identifier: GPL-2.0
/*
 * SUSPECT at the first retransmission timeout of a watched socket, once
 * per episode, then RECOVERED when the blackhole lifts and the peer ACKs.
 * The timeout counts whatever becomes of its retransmission: it may be
 * lost on the way (the peer blackholed) or fail before it leaves (the
 * route withdrawn, a netfilter OUTPUT drop); each gets SUSPECT within
 * RTO + 100 ms, one per episode, then DEAD. A socket in CLOSE-WAIT gets
 * SUSPECT and RECOVERED too.
 *
 * The episode fixture covers the other ways a timeout runs: a qdisc that
 * drops the retransmission (NET_XMIT_DROP, the resource-probe branch), the
 * first transmission still held in a shaper (EBUSY), the zero-window
 * branch, an F-RTO undo by SACK, and the closing states FIN-WAIT-1,
 * CLOSING, LAST-ACK and an episode that moves into CLOSE-WAIT.
 * -ENOMEM/-ENOBUFS need failed allocations: the guest kernels have no
 * fault injection, and tcp_enter_loss() runs before tcp_retransmit_skb()
 * whatever it returns, as for the errors tested here.
 */
#include "kselftest_harness.h"
#include "pw_test.h"

FIXTURE(suspect) {
	struct pw_topo t;
	struct pw_nl nl;
	int lfd;
};

FIXTURE_SETUP(suspect)
{
	ASSERT_EQ(0, pw_topo_setup(&self->t));
	/* One RTO to the first retransmission, without a loss probe. */
	ASSERT_EQ(0, pw_sysctl(self->t.cli, "net.ipv4.tcp_early_retrans", "0"));
	self->lfd = pw_listen(self->t.srv, AF_INET, PW_PORT, 0);
	ASSERT_LE(0, self->lfd);
	ASSERT_EQ(0, pw_subscribe(self->t.cli, &self->nl));
}

FIXTURE_TEARDOWN(suspect)
{
	pw_nl_close(&self->nl);
	pw_topo_teardown(&self->t);
}

/* Events about @cookie within @ms: how many of @type; fails on DEAD. */
static int count_events(struct pw_nl *nl, uint64_t cookie, int type, int ms)
{
	uint64_t end = pw_now_ms() + ms;
	struct pw_event ev;
	int n = 0;

	while (pw_now_ms() < end) {
		if (pw_wait_event(nl, cookie, 0, end - pw_now_ms(), &ev))
			break;
		if (ev.event == PEERWATCH_EVENT_DEAD)
			return -1;
		n += ev.event == type;
	}
	return n;
}

/*
 * SUSPECT is the first timeout's own: sent before that timeout counts its
 * retransmission (none counted), and before the second timeout (2 RTOs
 * later). Measured in a quiet guest it comes within RTO + 100 ms; the
 * bound adds PW_LATE_MS for a guest starved by a loaded host, where the
 * timer itself fires late: no retransmission counted says which timeout.
 */
static void expect_first_timeout(struct __test_metadata *_metadata,
				 const struct pw_event *ev, uint64_t t0)
{
	EXPECT_EQ(0U, ev->retransmits);
	EXPECT_LT(ev->timestamp_ns - t0,
		  (3ULL * ev->rto_ms + PW_LATE_MS) * 1000000ULL);
}

TEST_F_TIMEOUT(suspect, then_recovered, 60)
{
	struct pw_event ev;
	uint64_t t0, cookie;
	struct pw_stats st;
	int c, s, round;
	char buf[4096];

	c = pw_connect(self->t.cli, PW_SRV_ADDR, PW_PORT, 20000);
	ASSERT_LE(0, c);
	s = accept(self->lfd, NULL, NULL);
	ASSERT_LE(0, s);
	cookie = pw_cookie(c);

	/* Two episodes: each has one SUSPECT and one RECOVERED. */
	for (round = 0; round < 2; round++) {
		ASSERT_EQ(0, pw_blackhole(&self->t, true));
		t0 = pw_now_ns();
		ASSERT_EQ(0, pw_send_some(c, 1000));
		ASSERT_EQ(0, pw_wait_event(&self->nl, cookie, 0, 3000, &ev));
		ASSERT_EQ(PEERWATCH_EVENT_SUSPECT, ev.event);
		EXPECT_EQ(20000U, ev.user_timeout_ms);
		expect_first_timeout(_metadata, &ev, t0);
		TH_LOG("round %d: SUSPECT %llu ms after the blackhole (rto %u ms, %u retransmits)",
		       round, (unsigned long long)(ev.timestamp_ns - t0) / 1000000,
		       ev.rto_ms, ev.retransmits);

		/* Two more timeouts pass without a second SUSPECT. */
		EXPECT_EQ(0, count_events(&self->nl, cookie,
					  PEERWATCH_EVENT_SUSPECT, 1300));
		ASSERT_EQ(0, pw_stats_get(&self->nl, &st));
		EXPECT_GE(st.v[PEERWATCH_STAT_A_TRACKED], 1U);

		/* The next retransmission may beat nft's exit: time from before. */
		t0 = pw_now_ns();
		ASSERT_EQ(0, pw_blackhole(&self->t, false));
		ASSERT_EQ(0, pw_wait_event(&self->nl, cookie, 0, 10000, &ev));
		ASSERT_EQ(PEERWATCH_EVENT_RECOVERED, ev.event);
		EXPECT_GT(ev.timestamp_ns, t0);
		TH_LOG("round %d: RECOVERED %llu ms after the blackhole lifted",
		       round, (unsigned long long)(ev.timestamp_ns - t0) / 1000000);

		/* The connection works and the episode is over. */
		ASSERT_EQ(1000, recv(s, buf, 1000, MSG_WAITALL));
		ASSERT_EQ(0, pw_stats_get(&self->nl, &st));
		EXPECT_EQ(0U, st.v[PEERWATCH_STAT_A_TRACKED]);
	}
	EXPECT_EQ(2U, st.v[PEERWATCH_STAT_A_SUSPECT]);
	EXPECT_EQ(2U, st.v[PEERWATCH_STAT_A_RECOVERED]);
	close(c);
	close(s);
}

TEST_F_TIMEOUT(suspect, unwatched_socket_is_silent, 30)
{
	struct pw_event ev;
	int c, s;

	c = pw_connect(self->t.cli, PW_SRV_ADDR, PW_PORT, 0);
	ASSERT_LE(0, c);
	s = accept(self->lfd, NULL, NULL);
	ASSERT_LE(0, s);
	ASSERT_EQ(0, pw_blackhole(&self->t, true));
	ASSERT_EQ(0, pw_send_some(c, 1000));
	EXPECT_EQ(-ETIMEDOUT, pw_wait_event(&self->nl, pw_cookie(c), 0, 1500, &ev));
	close(c);
	close(s);
}

enum rto_kind { RTO_REMOTE, RTO_ROUTE, RTO_NFT_OUTPUT, RTO_CLOSE_WAIT };

/*
 * The path breaks at once, between the send and its timeout, when the
 * socket takes a mark: routing then finds the unreachable route of table
 * 77, or netfilter's OUTPUT hook drops its packets. A command run at that
 * moment would take longer than the RTO in a loaded guest.
 */
#define MARK_NO_ROUTE	0x77
#define MARK_NFT_DROP	0x78

FIXTURE(rto) {
	struct pw_topo t;
	struct pw_nl nl;
	int lfd;
};

FIXTURE_VARIANT(rto) {
	enum rto_kind kind;
	int mark;
};

/* The peer drops everything: the retransmissions leave and are lost. */
FIXTURE_VARIANT_ADD(rto, remote) {
	.kind = RTO_REMOTE,
};

/* No route any more: the retransmissions fail with EHOSTUNREACH. */
FIXTURE_VARIANT_ADD(rto, route) {
	.kind = RTO_ROUTE,
	.mark = MARK_NO_ROUTE,
};

/* A local firewall drops them: EPERM. */
FIXTURE_VARIANT_ADD(rto, nft_output) {
	.kind = RTO_NFT_OUTPUT,
	.mark = MARK_NFT_DROP,
};

/* The peer has closed its half: the episode runs in CLOSE-WAIT. */
FIXTURE_VARIANT_ADD(rto, close_wait) {
	.kind = RTO_CLOSE_WAIT,
};

FIXTURE_SETUP(rto)
{
	ASSERT_EQ(0, pw_topo_setup(&self->t));
	ASSERT_EQ(0, pw_sysctl(self->t.cli, "net.ipv4.tcp_early_retrans", "0"));
	ASSERT_EQ(0, pw_sh("ip -n %s -b - <<'EOF'\n"
			   "rule add fwmark %#x table 77\n"
			   "route add unreachable default table 77\n"
			   "EOF", self->t.cli, MARK_NO_ROUTE));
	ASSERT_EQ(0, pw_sh("ip netns exec %s nft -f - <<'EOF'\n"
			   "table inet pwlocal {\n"
			   "  chain out { type filter hook output priority 0; meta mark %#x drop; }\n"
			   "}\nEOF", self->t.cli, MARK_NFT_DROP));
	self->lfd = pw_listen(self->t.srv, AF_INET, PW_PORT, 0);
	ASSERT_LE(0, self->lfd);
	ASSERT_EQ(0, pw_subscribe(self->t.cli, &self->nl));
}

FIXTURE_TEARDOWN(rto)
{
	pw_nl_close(&self->nl);
	pw_topo_teardown(&self->t);
}

TEST_F_TIMEOUT(rto, suspect_then_dead_or_recovered, 60)
{
	bool close_wait = variant->kind == RTO_CLOSE_WAIT;
	int c, s, state, suspects = 0;
	struct pw_event ev;
	uint64_t t0, cookie;
	char byte;

	state = close_wait ? 8 /* TCP_CLOSE_WAIT */ : 1 /* TCP_ESTABLISHED */;
	c = pw_connect(self->t.cli, PW_SRV_ADDR, PW_PORT, close_wait ? 20000 : 4000);
	ASSERT_LE(0, c);
	s = accept(self->lfd, NULL, NULL);
	ASSERT_LE(0, s);
	cookie = pw_cookie(c);
	if (close_wait) {
		ASSERT_EQ(0, shutdown(s, SHUT_WR));
		ASSERT_EQ(0, recv(c, &byte, 1, 0));
	}

	ASSERT_EQ(0, pw_blackhole(&self->t, true));
	t0 = pw_now_ns();
	ASSERT_EQ(0, pw_send_some(c, 1000));
	if (variant->mark)
		ASSERT_EQ(0, setsockopt(c, SOL_SOCKET, SO_MARK, &variant->mark,
					sizeof(variant->mark)));

	ASSERT_EQ(0, pw_wait_event(&self->nl, cookie, 0, 5000, &ev));
	ASSERT_EQ(PEERWATCH_EVENT_SUSPECT, ev.event);
	EXPECT_EQ(state, ev.state);
	TH_LOG("SUSPECT %llu ms after the send (rto %u ms)",
	       (unsigned long long)(ev.timestamp_ns - t0) / 1000000, ev.rto_ms);
	expect_first_timeout(_metadata, &ev, t0);

	if (close_wait) {
		t0 = pw_now_ns();
		ASSERT_EQ(0, pw_blackhole(&self->t, false));
		ASSERT_EQ(0, pw_wait_event(&self->nl, cookie, 0, 10000, &ev));
		ASSERT_EQ(PEERWATCH_EVENT_RECOVERED, ev.event);
		EXPECT_EQ(state, ev.state);
		TH_LOG("RECOVERED in CLOSE-WAIT %llu ms after the blackhole lifted",
		       (unsigned long long)(ev.timestamp_ns - t0) / 1000000);
	} else {
		/* Nothing but DEAD until the user timeout. */
		for (;;) {
			ASSERT_EQ(0, pw_wait_event(&self->nl, cookie, 0, 10000, &ev));
			if (ev.event == PEERWATCH_EVENT_DEAD)
				break;
			suspects += ev.event == PEERWATCH_EVENT_SUSPECT;
			ASSERT_NE(PEERWATCH_EVENT_RECOVERED, ev.event);
		}
		EXPECT_EQ(0, suspects);
		EXPECT_EQ(PEERWATCH_REASON_USER_TIMEOUT, ev.reason);
		/* A routing failure leaves its error in sk_err_soft. */
		EXPECT_EQ((uint32_t)(variant->kind == RTO_ROUTE ? EHOSTUNREACH :
				     ETIMEDOUT), ev.sk_err);
		TH_LOG("DEAD %llu ms after the send, %u retransmits, error %u",
		       (unsigned long long)(ev.timestamp_ns - t0) / 1000000,
		       ev.retransmits, ev.sk_err);
	}
	close(c);
	close(s);
}

enum ep_kind {
	EP_QDISC_DROP, EP_HOST_QUEUE, EP_ZERO_WINDOW, EP_FRTO_UNDO,
	EP_FIN_WAIT1, EP_CLOSING, EP_LAST_ACK, EP_INTO_CLOSE_WAIT,
};

/*
 * The client's egress is a prio qdisc whose extra bands take the socket's
 * mark: one that drops everything (pfifo limit 0 returns NET_XMIT_DROP to
 * the sender), one that holds each packet 1500 ms (netem: the clone stays
 * in the qdisc, so a retransmission finds it still in the host queue),
 * and one that loses them silently (netem loss 100%: NET_XMIT_SUCCESS).
 */
#define MARK_QDISC_DROP	0x79
#define MARK_HOLD	0x7a
#define MARK_LOSE	0x7b
#define HOLD_MS		1500

FIXTURE(episode) {
	struct pw_topo t;
	struct pw_nl nl;
	int lfd;
};

FIXTURE_VARIANT(episode) {
	enum ep_kind kind;
	int state;	/* where SUSPECT is seen */
};

FIXTURE_VARIANT_ADD(episode, qdisc_drop) { .kind = EP_QDISC_DROP, .state = 1 };
FIXTURE_VARIANT_ADD(episode, host_queue) { .kind = EP_HOST_QUEUE, .state = 1 };
FIXTURE_VARIANT_ADD(episode, zero_window) { .kind = EP_ZERO_WINDOW, .state = 1 };
FIXTURE_VARIANT_ADD(episode, frto_undo) { .kind = EP_FRTO_UNDO, .state = 1 };
FIXTURE_VARIANT_ADD(episode, fin_wait1) { .kind = EP_FIN_WAIT1, .state = 4 };
FIXTURE_VARIANT_ADD(episode, closing) { .kind = EP_CLOSING, .state = 11 };
FIXTURE_VARIANT_ADD(episode, last_ack) { .kind = EP_LAST_ACK, .state = 9 };
FIXTURE_VARIANT_ADD(episode, into_close_wait) {
	.kind = EP_INTO_CLOSE_WAIT, .state = 1
};

FIXTURE_SETUP(episode)
{
	ASSERT_EQ(0, pw_topo_setup(&self->t));
	ASSERT_EQ(0, pw_sysctl(self->t.cli, "net.ipv4.tcp_early_retrans", "0"));
	ASSERT_EQ(0, pw_sh("tc -n %s -b - <<'EOF'\n"
			   "qdisc add dev pwc0 root handle 1: prio bands 6\n"
			   "qdisc add dev pwc0 parent 1:4 pfifo limit 0\n"
			   "qdisc add dev pwc0 parent 1:5 netem delay %dms limit 1000\n"
			   "qdisc add dev pwc0 parent 1:6 netem loss 100%%\n"
			   "filter add dev pwc0 parent 1: protocol ip prio 1 handle %#x fw classid 1:4\n"
			   "filter add dev pwc0 parent 1: protocol ip prio 1 handle %#x fw classid 1:5\n"
			   "filter add dev pwc0 parent 1: protocol ip prio 1 handle %#x fw classid 1:6\n"
			   "EOF", self->t.cli, HOLD_MS, MARK_QDISC_DROP, MARK_HOLD,
			   MARK_LOSE));
	self->lfd = pw_listen(self->t.srv, AF_INET, PW_PORT, 0);
	ASSERT_LE(0, self->lfd);
	ASSERT_EQ(0, pw_subscribe(self->t.cli, &self->nl));
}

FIXTURE_TEARDOWN(episode)
{
	pw_nl_close(&self->nl);
	pw_topo_teardown(&self->t);
}

/*
 * The server's netns drops what the client sends (with @data_only, only
 * segments with a payload: the client's pure ACKs pass), while the
 * server's own segments still reach the client.
 */
static int drop_from_client(const struct pw_topo *t, bool on, bool data_only)
{
	if (!on)
		return pw_sh("ip netns exec %s nft delete table ip pwdir", t->srv);
	return pw_sh("ip netns exec %s nft -f - <<'EOF'\n"
		     "table ip pwdir {\n"
		     "  chain in { type filter hook input priority 0; tcp dport %d %s drop; }\n"
		     "}\nEOF", t->srv, PW_PORT, data_only ? "ip length > 100" : "");
}

static int set_mark(int fd, int mark)
{
	return setsockopt(fd, SOL_SOCKET, SO_MARK, &mark, sizeof(mark));
}

/* A TcpExt counter of the current netns, or -1. */
static long tcpext(const char *name)
{
	char names[4096], vals[4096], *n, *v, *sn, *sv;
	long val = -1;
	FILE *f = fopen("/proc/net/netstat", "r");

	if (!f)
		return -1;
	while (fgets(names, sizeof(names), f) && fgets(vals, sizeof(vals), f)) {
		if (strncmp(names, "TcpExt:", 7))
			continue;
		n = strtok_r(names, " \n", &sn);
		v = strtok_r(vals, " \n", &sv);
		while (n && v) {
			if (!strcmp(n, name))
				val = atol(v);
			n = strtok_r(NULL, " \n", &sn);
			v = strtok_r(NULL, " \n", &sv);
		}
	}
	fclose(f);
	return val;
}

static struct tcp_info tcpinfo(int fd)
{
	struct tcp_info ti = { 0 };
	socklen_t len = sizeof(ti);

	getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len);
	return ti;
}

/*
 * Events about @cookie within @ms, counted by type into @n (SUSPECT,
 * RECOVERED, DEAD); returns once one of type @until arrives (0: never).
 */
static int collect(struct pw_nl *nl, uint64_t cookie, int ms, int until,
		   int n[PEERWATCH_EVENT_MAX + 1], struct pw_event *ev)
{
	uint64_t end = pw_now_ms() + ms;

	while (pw_now_ms() < end) {
		if (pw_wait_event(nl, cookie, 0, end - pw_now_ms(), ev))
			break;
		if (ev->event <= PEERWATCH_EVENT_MAX)
			n[ev->event]++;
		if (ev->event == until)
			return 0;
	}
	return until ? -ETIMEDOUT : 0;
}

TEST_F_TIMEOUT(episode, one_suspect_then_recovered, 90)
{
	int n[PEERWATCH_EVENT_MAX + 1] = { 0 }, one = 1, tos = 0x20, zero = 0;
	unsigned int ut = 4000;
	enum ep_kind kind = variant->kind;
	long hostq = 0, spurious = 0;
	struct tcp_info ti;
	uint64_t t0, cookie;
	struct pw_event ev;
	int c, s, i;
	char buf[4096];

	c = pw_connect(self->t.cli, PW_SRV_ADDR, PW_PORT, 30000);
	ASSERT_LE(0, c);
	s = accept(self->lfd, NULL, NULL);
	ASSERT_LE(0, s);
	cookie = pw_cookie(c);
	ASSERT_EQ(0, setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)));
	hostq = tcpext("TCPSpuriousRtxHostQueues");
	spurious = tcpext("TCPSpuriousRTOs");

	switch (kind) {
	case EP_QDISC_DROP:
		ASSERT_EQ(0, setsockopt(c, IPPROTO_TCP, TCP_USER_TIMEOUT, &ut,
					sizeof(ut)));
		ASSERT_EQ(0, pw_blackhole(&self->t, true));
		break;
	case EP_HOST_QUEUE:
		ASSERT_EQ(0, set_mark(c, MARK_HOLD));
		break;
	case EP_ZERO_WINDOW:
		/* The server's segments sent with DSCP CS1 say window 0. */
		ASSERT_EQ(0, pw_sh("ip netns exec %s nft -f - <<'EOF'\n"
				   "table ip pwzw {\n"
				   "  chain pre { type filter hook prerouting priority -150; ip dscp cs1 tcp sport %d tcp window set 0; }\n"
				   "}\nEOF", self->t.cli, PW_PORT));
		ASSERT_EQ(0, drop_from_client(&self->t, true, true));
		break;
	case EP_FRTO_UNDO:
		ASSERT_EQ(0, set_mark(c, MARK_LOSE));
		break;
	case EP_LAST_ACK:
	case EP_FIN_WAIT1:
	case EP_CLOSING:
	case EP_INTO_CLOSE_WAIT:
		ASSERT_EQ(0, drop_from_client(&self->t, true, false));
		break;
	}
	if (kind == EP_LAST_ACK) {
		ASSERT_EQ(0, shutdown(s, SHUT_WR));
		ASSERT_EQ(0, recv(c, buf, 1, 0));
	}

	t0 = pw_now_ns();
	ASSERT_EQ(0, pw_send_some(c, 1000));
	switch (kind) {
	case EP_QDISC_DROP:
		/* Sent, lost; the retransmissions meet the full qdisc. */
		ASSERT_EQ(0, set_mark(c, MARK_QDISC_DROP));
		break;
	case EP_ZERO_WINDOW:
		/* Data lost, then the server shuts the window on it. */
		ASSERT_EQ(0, setsockopt(s, IPPROTO_IP, IP_TOS, &tos, sizeof(tos)));
		ASSERT_EQ(1, send(s, "w", 1, 0));
		ASSERT_EQ(0, setsockopt(s, IPPROTO_IP, IP_TOS, &zero, sizeof(zero)));
		break;
	case EP_FRTO_UNDO:
		/* The head is lost, the three after it arrive late. */
		ASSERT_EQ(0, set_mark(c, MARK_HOLD));
		for (i = 0; i < 3; i++)
			ASSERT_EQ(0, pw_send_some(c, 1000));
		ASSERT_EQ(0, set_mark(c, MARK_LOSE));
		break;
	case EP_FIN_WAIT1:
	case EP_LAST_ACK:
		ASSERT_EQ(0, shutdown(c, SHUT_WR));
		break;
	case EP_CLOSING:
		ASSERT_EQ(0, shutdown(c, SHUT_WR));
		ASSERT_EQ(0, shutdown(s, SHUT_WR));
		break;
	default:
		break;
	}

	ASSERT_EQ(0, collect(&self->nl, cookie, 5000, PEERWATCH_EVENT_SUSPECT, n, &ev));
	TH_LOG("SUSPECT %llu ms after the send (rto %u ms), state %u",
	       (unsigned long long)(ev.timestamp_ns - t0) / 1000000, ev.rto_ms,
	       ev.state);
	EXPECT_EQ(variant->state, ev.state);
	expect_first_timeout(_metadata, &ev, t0);

	switch (kind) {
	case EP_QDISC_DROP:
		/* Every retransmission dropped by the qdisc, then DEAD. */
		ASSERT_EQ(0, collect(&self->nl, cookie, 40000, PEERWATCH_EVENT_DEAD, n, &ev));
		EXPECT_EQ(PEERWATCH_REASON_USER_TIMEOUT, ev.reason);
		TH_LOG("DEAD %llu ms after the send, %u retransmits",
		       (unsigned long long)(ev.timestamp_ns - t0) / 1000000,
		       ev.retransmits);
		EXPECT_EQ(1, n[PEERWATCH_EVENT_SUSPECT]);
		EXPECT_EQ(0, n[PEERWATCH_EVENT_RECOVERED]);
		EXPECT_EQ(0, pw_sh("tc -n %s -s qdisc show dev pwc0 parent 1:4 | grep -q 'dropped [1-9]'",
				   self->t.cli));
		close(c);
		close(s);
		return;
	case EP_HOST_QUEUE:
		/* The held segment leaves at HOLD_MS and is acknowledged. */
		break;
	case EP_ZERO_WINDOW:
		/* Timeouts in the zero-window branch count no retransmits. */
		ASSERT_EQ(0, collect(&self->nl, cookie, 1500, 0, n, &ev));
		ti = tcpinfo(c);
		TH_LOG("zero window: %u retransmits counted, %u sent, rto %u ms",
		       ti.tcpi_retransmits, ti.tcpi_total_retrans,
		       ti.tcpi_rto / 1000);
		EXPECT_EQ(0, ti.tcpi_retransmits);
		EXPECT_LE(1U, ti.tcpi_total_retrans);
		EXPECT_LT(ev.rto_ms, ti.tcpi_rto / 1000);
		t0 = pw_now_ns();
		ASSERT_EQ(0, drop_from_client(&self->t, false, true));
		break;
	case EP_FRTO_UNDO:
		/* The late segments are SACKed: the timeout was spurious. */
		ASSERT_EQ(0, collect(&self->nl, cookie, HOLD_MS + 1500, 0, n, &ev));
		ti = tcpinfo(c);
		TH_LOG("F-RTO: TCPSpuriousRTOs +%ld, ca_state %u, %u retransmits, %u unacked, %u sacked",
		       tcpext("TCPSpuriousRTOs") - spurious, ti.tcpi_ca_state,
		       ti.tcpi_retransmits, ti.tcpi_unacked, ti.tcpi_sacked);
		EXPECT_LT(spurious, tcpext("TCPSpuriousRTOs"));
		EXPECT_LT(0U, ti.tcpi_sacked);
		EXPECT_EQ(0, n[PEERWATCH_EVENT_RECOVERED]);
		t0 = pw_now_ns();
		ASSERT_EQ(0, set_mark(c, 0));
		break;
	case EP_INTO_CLOSE_WAIT:
		ASSERT_EQ(0, shutdown(s, SHUT_WR));
		ASSERT_EQ(0, recv(c, buf, 1, 0));
		/* fall through */
	default:
		t0 = pw_now_ns();
		ASSERT_EQ(0, drop_from_client(&self->t, false, false));
		break;
	}

	/* Up to 13 s measured (CLOSING, into CLOSE-WAIT on 6.12): backed off. */
	ASSERT_EQ(0, collect(&self->nl, cookie, 30000, PEERWATCH_EVENT_RECOVERED, n, &ev));
	TH_LOG("RECOVERED %llu ms after the path came back, state %u",
	       (unsigned long long)(ev.timestamp_ns - t0) / 1000000, ev.state);
	EXPECT_EQ(1, n[PEERWATCH_EVENT_SUSPECT]);
	EXPECT_EQ(0, n[PEERWATCH_EVENT_DEAD]);
	EXPECT_EQ(kind == EP_INTO_CLOSE_WAIT ? 8 /* TCP_CLOSE_WAIT */ :
		  variant->state, ev.state);
	if (kind == EP_HOST_QUEUE) {
		EXPECT_GE(ev.timestamp_ns - t0, HOLD_MS * 1000000ULL);
		TH_LOG("retransmissions found in the host queue: %ld",
		       tcpext("TCPSpuriousRtxHostQueues") - hostq);
		EXPECT_LT(hostq, tcpext("TCPSpuriousRtxHostQueues"));
	}

	/* Once over, the next timeout is a new episode with its SUSPECT. */
	if (variant->state == 1 && kind != EP_INTO_CLOSE_WAIT) {
		memset(n, 0, sizeof(n));
		ASSERT_EQ(0, set_mark(c, 0));
		ASSERT_EQ(0, pw_blackhole(&self->t, true));
		t0 = pw_now_ns();
		ASSERT_EQ(0, pw_send_some(c, 1000));
		ASSERT_EQ(0, collect(&self->nl, cookie, 5000, PEERWATCH_EVENT_SUSPECT, n, &ev));
		expect_first_timeout(_metadata, &ev, t0);
		ASSERT_EQ(0, pw_blackhole(&self->t, false));
		ASSERT_EQ(0, collect(&self->nl, cookie, 15000, PEERWATCH_EVENT_RECOVERED, n, &ev));
		EXPECT_EQ(1, n[PEERWATCH_EVENT_SUSPECT]);
	}
	close(c);
	close(s);
}

TEST_HARNESS_MAIN

// SPDX-License-Identifier: GPL-2.0
/*
 * SUSPECT at the first retransmission timeout of a watched socket, once
 * per episode, then RECOVERED when the blackhole lifts and the peer ACKs.
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
		EXPECT_GE(ev.retransmits, 1U);
		EXPECT_EQ(20000U, ev.user_timeout_ms);
		TH_LOG("round %d: SUSPECT %llu ms after the blackhole (rto %u ms)",
		       round, (unsigned long long)(ev.timestamp_ns - t0) / 1000000,
		       ev.rto_ms);

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

TEST_HARNESS_MAIN

// SPDX-License-Identifier: GPL-2.0
/*
 * A third-party subscriber written with libnl-3, from the uapi header
 * alone, receives the same events as the libmnl one.
 */
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/netlink.h>

#include "kselftest_harness.h"
#include "pw_test.h"

struct seen {
	bool got;
	uint8_t event, reason;
	uint64_t cookie, timestamp;
	uint16_t family, sport, dport;
	uint32_t user_timeout;
	struct in_addr daddr;
};

static struct nla_policy pw_policy[PEERWATCH_A_MAX + 1] = {
	[PEERWATCH_A_EVENT]		= { .type = NLA_U8 },
	[PEERWATCH_A_REASON]		= { .type = NLA_U8 },
	[PEERWATCH_A_COOKIE]		= { .type = NLA_U64 },
	[PEERWATCH_A_FAMILY]		= { .type = NLA_U16 },
	[PEERWATCH_A_SPORT]		= { .type = NLA_U16 },
	[PEERWATCH_A_DPORT]		= { .type = NLA_U16 },
	[PEERWATCH_A_DADDR4]		= { .type = NLA_U32 },
	[PEERWATCH_A_USER_TIMEOUT]	= { .type = NLA_U32 },
	[PEERWATCH_A_TIMESTAMP]		= { .type = NLA_U64 },
};

static int on_msg(struct nl_msg *msg, void *arg)
{
	struct genlmsghdr *gh = nlmsg_data(nlmsg_hdr(msg));
	struct nlattr *tb[PEERWATCH_A_MAX + 1];
	struct seen *s = arg;

	if (gh->cmd != PEERWATCH_CMD_EVENT ||
	    genlmsg_parse(nlmsg_hdr(msg), 0, tb, PEERWATCH_A_MAX, pw_policy) ||
	    !tb[PEERWATCH_A_EVENT] || !tb[PEERWATCH_A_COOKIE])
		return NL_OK;
	s->got = true;
	s->event = nla_get_u8(tb[PEERWATCH_A_EVENT]);
	s->reason = tb[PEERWATCH_A_REASON] ? nla_get_u8(tb[PEERWATCH_A_REASON]) : 0;
	s->cookie = nla_get_u64(tb[PEERWATCH_A_COOKIE]);
	s->family = nla_get_u16(tb[PEERWATCH_A_FAMILY]);
	s->sport = nla_get_u16(tb[PEERWATCH_A_SPORT]);
	s->dport = nla_get_u16(tb[PEERWATCH_A_DPORT]);
	s->user_timeout = nla_get_u32(tb[PEERWATCH_A_USER_TIMEOUT]);
	s->timestamp = nla_get_u64(tb[PEERWATCH_A_TIMESTAMP]);
	if (tb[PEERWATCH_A_DADDR4])
		s->daddr.s_addr = nla_get_u32(tb[PEERWATCH_A_DADDR4]);
	return NL_STOP;
}

TEST(libnl_subscriber_sees_events)
{
	struct linger lin = { .l_onoff = 1, .l_linger = 0 };
	struct seen seen = { 0 };
	struct pw_event ev;
	struct nl_sock *sk;
	struct pw_topo t;
	struct pw_nl nl;
	int grp, lfd, c, s;
	uint64_t end;

	ASSERT_EQ(0, pw_topo_setup(&t));
	lfd = pw_listen(t.srv, AF_INET, PW_PORT, 0);
	ASSERT_LE(0, lfd);
	ASSERT_EQ(0, pw_subscribe(t.cli, &nl));

	sk = nl_socket_alloc();
	ASSERT_NE(NULL, sk);
	nl_socket_disable_seq_check(sk);
	nl_socket_modify_cb(sk, NL_CB_VALID, NL_CB_CUSTOM, on_msg, &seen);
	ASSERT_EQ(0, genl_connect(sk));
	grp = genl_ctrl_resolve_grp(sk, PEERWATCH_GENL_NAME, PEERWATCH_MCGRP_EVENTS);
	ASSERT_GT(grp, 0);
	ASSERT_EQ(0, nl_socket_add_membership(sk, grp));

	c = pw_connect(t.cli, PW_SRV_ADDR, PW_PORT, 3000);
	ASSERT_LE(0, c);
	s = accept(lfd, NULL, NULL);
	ASSERT_LE(0, s);
	ASSERT_EQ(0, setsockopt(s, SOL_SOCKET, SO_LINGER, &lin, sizeof(lin)));
	close(s);

	ASSERT_EQ(0, pw_wait_event(&nl, pw_cookie(c), PEERWATCH_EVENT_DEAD, 5000, &ev));
	end = pw_now_ms() + 5000;
	while (!seen.got && pw_now_ms() < end) {
		struct pollfd pfd = { .fd = nl_socket_get_fd(sk), .events = POLLIN };

		if (poll(&pfd, 1, 500) > 0)
			nl_recvmsgs_default(sk);
	}
	ASSERT_TRUE(seen.got);
	EXPECT_EQ(ev.event, seen.event);
	EXPECT_EQ(PEERWATCH_REASON_RESET, seen.reason);
	EXPECT_EQ(ev.cookie, seen.cookie);
	EXPECT_EQ(AF_INET, seen.family);
	EXPECT_EQ(ev.sport, seen.sport);
	EXPECT_EQ((uint16_t)PW_PORT, seen.dport);
	EXPECT_EQ(ev.daddr.v4.s_addr, seen.daddr.s_addr);
	EXPECT_EQ(3000U, seen.user_timeout);
	EXPECT_EQ(ev.timestamp_ns, seen.timestamp);

	nl_socket_free(sk);
	pw_nl_close(&nl);
	close(c);
	close(lfd);
	pw_topo_teardown(&t);
}

TEST_HARNESS_MAIN

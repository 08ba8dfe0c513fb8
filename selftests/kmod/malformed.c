// SPDX-License-Identifier: GPL-2.0
/*
 * Malformed requests: wrong types, missing, unknown or oversized
 * attributes, a dirty header, unknown commands. Each is refused and
 * nothing changes. Values and lengths outside what the policy states get
 * the netlink core's ERANGE, the rest EINVAL.
 */
#include "kselftest_harness.h"
#include "pw_test.h"

FIXTURE(bad) {
	struct pw_topo t;
	struct pw_nl nl;
	int lfd, c, s;
	uint64_t cookie;
	char buf[8192];
};

FIXTURE_SETUP(bad)
{
	ASSERT_EQ(0, pw_topo_setup(&self->t));
	self->lfd = pw_listen(self->t.srv, AF_INET, PW_PORT, 0);
	ASSERT_LE(0, self->lfd);
	ASSERT_EQ(0, pw_subscribe(self->t.cli, &self->nl));
	self->c = pw_connect(self->t.cli, PW_SRV_ADDR, PW_PORT, 4000);
	ASSERT_LE(0, self->c);
	self->s = accept(self->lfd, NULL, NULL);
	ASSERT_LE(0, self->s);
	self->cookie = pw_cookie(self->c);
	ASSERT_EQ(0, pw_policy_add4(&self->nl, NULL, 0, 7, 7, 1000));
}

FIXTURE_TEARDOWN(bad)
{
	/* Whatever was refused, the socket and the rules are untouched. */
	EXPECT_EQ(4000U, pw_user_timeout(self->c));
	EXPECT_EQ(1, pw_dump_count(&self->nl, PEERWATCH_CMD_POLICY_DUMP));
	pw_nl_close(&self->nl);
	pw_topo_teardown(&self->t);
}

static struct nlmsghdr *req(FIXTURE_DATA(bad) *self, uint8_t cmd)
{
	return pw_nl_request(&self->nl, self->buf, cmd, 0);
}

static struct nlmsghdr *set_req(FIXTURE_DATA(bad) *self)
{
	struct nlmsghdr *nlh = req(self, PEERWATCH_CMD_SOCK_SET);

	pw_put_tuple(nlh, self->c);
	return nlh;
}

static int talk(FIXTURE_DATA(bad) *self, struct nlmsghdr *nlh)
{
	return pw_nl_talk(&self->nl, nlh, NULL, NULL);
}

TEST_F(bad, wrong_type)
{
	struct nlmsghdr *nlh = set_req(self);

	mnl_attr_put_u64(nlh, PEERWATCH_A_COOKIE, self->cookie);
	mnl_attr_put_u16(nlh, PEERWATCH_A_USER_TIMEOUT, 1);	/* u32 */
	EXPECT_EQ(-EINVAL, talk(self, nlh));

	nlh = req(self, PEERWATCH_CMD_POLICY_ADD);
	mnl_attr_put_u32(nlh, PEERWATCH_A_FAMILY, AF_INET);	/* u16 */
	mnl_attr_put_u32(nlh, PEERWATCH_A_USER_TIMEOUT, 1000);
	EXPECT_EQ(-EINVAL, talk(self, nlh));
}

TEST_F(bad, missing_attribute)
{
	struct nlmsghdr *nlh = set_req(self);

	mnl_attr_put_u32(nlh, PEERWATCH_A_USER_TIMEOUT, 1);	/* no cookie */
	EXPECT_EQ(-EINVAL, talk(self, nlh));

	nlh = req(self, PEERWATCH_CMD_SOCK_SET);
	mnl_attr_put_u64(nlh, PEERWATCH_A_COOKIE, self->cookie);
	mnl_attr_put_u32(nlh, PEERWATCH_A_USER_TIMEOUT, 1);	/* no tuple */
	EXPECT_EQ(-EINVAL, talk(self, nlh));

	nlh = req(self, PEERWATCH_CMD_POLICY_ADD);
	mnl_attr_put_u32(nlh, PEERWATCH_A_USER_TIMEOUT, 1000);	/* no family */
	EXPECT_EQ(-EINVAL, talk(self, nlh));

	nlh = req(self, PEERWATCH_CMD_POLICY_DEL);		/* no id */
	EXPECT_EQ(-EINVAL, talk(self, nlh));
}

TEST_F(bad, out_of_range_or_oversized)
{
	struct nlmsghdr *nlh = set_req(self);
	char big[20] = { 0 };
	struct in_addr a = { 0 };

	mnl_attr_put_u64(nlh, PEERWATCH_A_COOKIE, self->cookie);
	mnl_attr_put_u32(nlh, PEERWATCH_A_USER_TIMEOUT, 0x80000000U);
	EXPECT_EQ(-ERANGE, talk(self, nlh));
	TH_LOG("user timeout > INT_MAX: \"%s\"", self->nl.errmsg);

	nlh = req(self, PEERWATCH_CMD_POLICY_ADD);
	mnl_attr_put_u16(nlh, PEERWATCH_A_FAMILY, AF_INET);
	mnl_attr_put_u32(nlh, PEERWATCH_A_USER_TIMEOUT, 0);	/* 1.. */
	EXPECT_EQ(-ERANGE, talk(self, nlh));

	nlh = req(self, PEERWATCH_CMD_POLICY_ADD);
	mnl_attr_put_u16(nlh, PEERWATCH_A_FAMILY, AF_INET);
	mnl_attr_put_u32(nlh, PEERWATCH_A_USER_TIMEOUT, 1000);
	mnl_attr_put(nlh, PEERWATCH_A_DADDR4, 4, &a);
	mnl_attr_put_u8(nlh, PEERWATCH_A_PREFIX_LEN, 33);
	EXPECT_EQ(-EINVAL, talk(self, nlh));
	TH_LOG("prefix 33: \"%s\"", self->nl.errmsg);

	nlh = req(self, PEERWATCH_CMD_POLICY_ADD);
	mnl_attr_put_u16(nlh, PEERWATCH_A_FAMILY, AF_INET);
	mnl_attr_put_u32(nlh, PEERWATCH_A_USER_TIMEOUT, 1000);
	mnl_attr_put(nlh, PEERWATCH_A_DADDR6, sizeof(big), big);	/* 16 */
	EXPECT_EQ(-ERANGE, talk(self, nlh));
	TH_LOG("20-byte IPv6 address: \"%s\"", self->nl.errmsg);

	nlh = req(self, PEERWATCH_CMD_POLICY_ADD);
	mnl_attr_put_u16(nlh, PEERWATCH_A_FAMILY, AF_INET);
	mnl_attr_put_u32(nlh, PEERWATCH_A_USER_TIMEOUT, 1000);
	mnl_attr_put_u16(nlh, PEERWATCH_A_DPORT_MIN, 10);
	mnl_attr_put_u16(nlh, PEERWATCH_A_DPORT_MAX, 9);
	EXPECT_EQ(-EINVAL, talk(self, nlh));
	TH_LOG("empty port range: \"%s\"", self->nl.errmsg);

	nlh = req(self, PEERWATCH_CMD_POLICY_ADD);
	mnl_attr_put_u16(nlh, PEERWATCH_A_FAMILY, 99);
	mnl_attr_put_u32(nlh, PEERWATCH_A_USER_TIMEOUT, 1000);
	EXPECT_EQ(-EINVAL, talk(self, nlh));
	TH_LOG("family 99: \"%s\"", self->nl.errmsg);
}

TEST_F(bad, unknown_or_foreign_attribute)
{
	struct nlmsghdr *nlh = set_req(self);

	mnl_attr_put_u64(nlh, PEERWATCH_A_COOKIE, self->cookie);
	mnl_attr_put_u32(nlh, PEERWATCH_A_USER_TIMEOUT, 1);
	mnl_attr_put_u32(nlh, 200, 1);				/* unknown */
	EXPECT_EQ(-EINVAL, talk(self, nlh));

	nlh = set_req(self);
	mnl_attr_put_u64(nlh, PEERWATCH_A_COOKIE, self->cookie);
	mnl_attr_put_u32(nlh, PEERWATCH_A_USER_TIMEOUT, 1);
	mnl_attr_put_u32(nlh, PEERWATCH_A_POLICY_ID, 1);	/* not SET's */
	EXPECT_EQ(-EINVAL, talk(self, nlh));

	nlh = req(self, PEERWATCH_CMD_STATS_GET);
	mnl_attr_put_u32(nlh, PEERWATCH_A_POLICY_ID, 1);	/* takes none */
	EXPECT_EQ(-EINVAL, talk(self, nlh));

	nlh = req(self, PEERWATCH_CMD_POLICY_FLUSH);
	mnl_attr_put_u32(nlh, PEERWATCH_A_POLICY_ID, 1);
	EXPECT_EQ(-EINVAL, talk(self, nlh));
}

/*
 * A lookup with family AF_UNSPEC and no address: a dump takes it as no
 * filter, a lookup must refuse it (it once took it for AF_INET6 and
 * dereferenced the missing addresses: an oops any user could cause with
 * SOCK_GET; found by nlfuzz).
 */
TEST_F(bad, lookup_without_family)
{
	uint8_t cmds[] = { PEERWATCH_CMD_SOCK_GET, PEERWATCH_CMD_SOCK_SET };
	struct nlmsghdr *nlh;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(cmds); i++) {
		nlh = req(self, cmds[i]);
		mnl_attr_put_u16(nlh, PEERWATCH_A_FAMILY, AF_UNSPEC);
		mnl_attr_put_u16(nlh, PEERWATCH_A_SPORT, PW_PORT);
		mnl_attr_put_u16(nlh, PEERWATCH_A_DPORT, PW_PORT);
		mnl_attr_put_u64(nlh, PEERWATCH_A_COOKIE, self->cookie);
		if (cmds[i] == PEERWATCH_CMD_SOCK_SET)
			mnl_attr_put_u32(nlh, PEERWATCH_A_USER_TIMEOUT, 1);
		EXPECT_EQ(-EINVAL, talk(self, nlh));
		TH_LOG("cmd %u, AF_UNSPEC: \"%s\"", cmds[i], self->nl.errmsg);
	}
}

TEST_F(bad, truncated_attribute)
{
	struct nlmsghdr *nlh = set_req(self);
	struct nlattr *attr;

	mnl_attr_put_u64(nlh, PEERWATCH_A_COOKIE, self->cookie);
	attr = mnl_nlmsg_get_payload_tail(nlh);
	mnl_attr_put_u32(nlh, PEERWATCH_A_USER_TIMEOUT, 1);
	attr->nla_len = 64;					/* past the end */
	EXPECT_EQ(-EINVAL, talk(self, nlh));
}

TEST_F(bad, dirty_header_and_unknown_command)
{
	struct nlmsghdr *nlh = set_req(self);
	struct genlmsghdr *genl = mnl_nlmsg_get_payload(nlh);

	mnl_attr_put_u64(nlh, PEERWATCH_A_COOKIE, self->cookie);
	mnl_attr_put_u32(nlh, PEERWATCH_A_USER_TIMEOUT, 1);
	genl->reserved = 1;
	EXPECT_EQ(-EINVAL, talk(self, nlh));

	EXPECT_EQ(-EOPNOTSUPP, talk(self, req(self, PEERWATCH_CMD_MAX + 1)));
	EXPECT_EQ(-EOPNOTSUPP, talk(self, req(self, PEERWATCH_CMD_EVENT)));
	EXPECT_EQ(-EOPNOTSUPP, talk(self, req(self, PEERWATCH_CMD_UNSPEC)));
}

TEST_HARNESS_MAIN

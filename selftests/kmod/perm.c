// SPDX-License-Identifier: GPL-2.0
/*
 * Without CAP_NET_ADMIN, admin commands and joining the events group fail
 * with EPERM and change nothing; reading stays open, but the module-wide
 * counters are for CAP_NET_ADMIN over the initial user namespace only, not
 * for the root of a user namespace of its own.
 */
#include <sys/prctl.h>

#include "kselftest_harness.h"
#include "pw_test.h"

enum {
	R_POLICY_ADD, R_POLICY_DEL, R_POLICY_DUMP, R_POLICY_FLUSH, R_SOCK_SET,
	R_JOIN, R_SOCK_DUMP, R_STATS, R_SOCK_GET, R_STATS_SENT, R_MAX
};

#define GLOBAL_STATS	(1 << PEERWATCH_STAT_A_LIVE_OBJECTS)
#define NETNS_STATS	(1 << PEERWATCH_STAT_A_SUSPECT | \
			 1 << PEERWATCH_STAT_A_POLICIES | \
			 1 << PEERWATCH_STAT_A_TRACKED)

/* In a child that lost every capability: each request's result. */
static void unprivileged(int fd, int sfd, uint64_t cookie, int out)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	int res[R_MAX], ret = 0;
	struct nlmsghdr *nlh;
	struct pw_event ev;
	struct pw_stats st;
	struct pw_nl nl;

	if (setresgid(65534, 65534, 65534) || setresuid(65534, 65534, 65534))
		ret = -errno;
	if (!ret)
		ret = pw_nl_open(&nl);
	if (ret) {
		res[0] = ret;
		write(out, res, sizeof(res[0]));
		_exit(1);
	}
	res[R_POLICY_ADD] = pw_policy_add4(&nl, NULL, 0, 0, 0, 1000);
	nlh = pw_nl_request(&nl, buf, PEERWATCH_CMD_POLICY_DEL, 0);
	mnl_attr_put_u32(nlh, PEERWATCH_A_POLICY_ID, 1);
	res[R_POLICY_DEL] = pw_nl_talk(&nl, nlh, NULL, NULL);
	res[R_POLICY_DUMP] = pw_dump_count(&nl, PEERWATCH_CMD_POLICY_DUMP);
	res[R_POLICY_FLUSH] = pw_simple(&nl, PEERWATCH_CMD_POLICY_FLUSH);
	res[R_SOCK_SET] = pw_sock_set(&nl, sfd, cookie, 1);
	res[R_JOIN] = pw_nl_join_events(&nl);
	res[R_SOCK_DUMP] = pw_dump_count(&nl, PEERWATCH_CMD_SOCK_GET);
	res[R_STATS] = pw_stats_get(&nl, &st);
	res[R_STATS_SENT] = st.present;
	res[R_SOCK_GET] = pw_sock_get(&nl, sfd, cookie, &ev);
	write(out, res, sizeof(res));
	_exit(0);
}

/*
 * In a child: nobody, then root of a user and network namespace of its
 * own, which has CAP_NET_ADMIN there. Writes which counters STATS_GET sent.
 */
static void userns_root(int out)
{
	int sent = -1, ret = 0;
	struct pw_stats st;
	struct pw_nl nl;

	if (setresgid(65534, 65534, 65534) || setresuid(65534, 65534, 65534) ||
	    unshare(CLONE_NEWUSER | CLONE_NEWNET))
		ret = -errno;
	if (!ret)
		ret = pw_nl_open(&nl);
	if (!ret)
		ret = pw_policy_add4(&nl, NULL, 0, 0, 0, 1000);
	if (!ret)
		ret = pw_stats_get(&nl, &st);
	if (!ret)
		sent = st.present;
	write(out, &ret, sizeof(ret));
	write(out, &sent, sizeof(sent));
	_exit(0);
}

FIXTURE(perm) {
	struct pw_topo t;
	struct pw_nl nl;
	int lfd;
};

FIXTURE_SETUP(perm)
{
	ASSERT_EQ(0, pw_topo_setup(&self->t));
	self->lfd = pw_listen(self->t.srv, AF_INET, PW_PORT, 0);
	ASSERT_LE(0, self->lfd);
	ASSERT_EQ(0, pw_subscribe(self->t.cli, &self->nl));
}

FIXTURE_TEARDOWN(perm)
{
	pw_nl_close(&self->nl);
	pw_topo_teardown(&self->t);
}

TEST_F(perm, admin_commands_need_cap_net_admin)
{
	int res[R_MAX], p[2], status, c, s;
	uint64_t cookie;
	pid_t pid;

	c = pw_connect(self->t.cli, PW_SRV_ADDR, PW_PORT, 4000);
	ASSERT_LE(0, c);
	s = accept(self->lfd, NULL, NULL);
	ASSERT_LE(0, s);
	cookie = pw_cookie(c);
	ASSERT_EQ(0, pw_policy_add4(&self->nl, NULL, 0, 9, 9, 1000));

	ASSERT_EQ(0, pipe(p));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid)
		unprivileged(self->nl.sock ? mnl_socket_get_fd(self->nl.sock) : -1,
			     c, cookie, p[1]);
	close(p[1]);
	ASSERT_EQ((ssize_t)sizeof(res), read(p[0], res, sizeof(res)));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));

	EXPECT_EQ(-EPERM, res[R_POLICY_ADD]);
	EXPECT_EQ(-EPERM, res[R_POLICY_DEL]);
	EXPECT_EQ(-EPERM, res[R_POLICY_DUMP]);
	EXPECT_EQ(-EPERM, res[R_POLICY_FLUSH]);
	EXPECT_EQ(-EPERM, res[R_SOCK_SET]);
	EXPECT_EQ(-EPERM, res[R_JOIN]);
	EXPECT_GE(res[R_SOCK_DUMP], 1);
	EXPECT_EQ(0, res[R_STATS]);
	EXPECT_EQ(NETNS_STATS, res[R_STATS_SENT] & NETNS_STATS);
	EXPECT_EQ(0, res[R_STATS_SENT] & GLOBAL_STATS);
	EXPECT_EQ(0, res[R_SOCK_GET]);

	/* Nothing changed. */
	EXPECT_EQ(4000U, pw_user_timeout(c));
	EXPECT_EQ(1, pw_dump_count(&self->nl, PEERWATCH_CMD_POLICY_DUMP));
	close(c);
	close(s);
}

TEST_F(perm, userns_root_sees_its_netns_counters_only)
{
	int p[2], status, ret, sent;
	struct pw_stats st;
	pid_t pid;

	ASSERT_EQ(0, pw_stats_get(&self->nl, &st));
	EXPECT_EQ((uint32_t)GLOBAL_STATS, st.present & GLOBAL_STATS);

	ASSERT_EQ(0, pipe(p));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid)
		userns_root(p[1]);
	close(p[1]);
	ASSERT_EQ((ssize_t)sizeof(ret), read(p[0], &ret, sizeof(ret)));
	ASSERT_EQ((ssize_t)sizeof(sent), read(p[0], &sent, sizeof(sent)));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	close(p[0]);

	/* Its own rule shows it acts as root of its netns. */
	ASSERT_EQ(0, ret);
	EXPECT_EQ(NETNS_STATS, sent & NETNS_STATS);
	EXPECT_EQ(0, sent & GLOBAL_STATS);
}

TEST_HARNESS_MAIN

// SPDX-License-Identifier: GPL-2.0
/*
 * The peerwatch family and its events group resolve by name through the
 * generic netlink controller, as any third-party subscriber would do it.
 */
#include <errno.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>

#include <libmnl/libmnl.h>
#include <linux/genetlink.h>
#include <linux/peerwatch.h>

#include "kselftest_harness.h"

struct family_info {
	int id;
	int version;
	int events_grp;
};

static int grp_attr_cb(const struct nlattr *attr, void *data)
{
	const struct nlattr **tb = data;
	int type = mnl_attr_get_type(attr);

	if (mnl_attr_type_valid(attr, CTRL_ATTR_MCAST_GRP_MAX) < 0)
		return MNL_CB_OK;
	tb[type] = attr;
	return MNL_CB_OK;
}

static void parse_groups(const struct nlattr *nest, struct family_info *fi)
{
	const struct nlattr *pos;

	mnl_attr_for_each_nested(pos, nest) {
		const struct nlattr *tb[CTRL_ATTR_MCAST_GRP_MAX + 1] = {};

		mnl_attr_parse_nested(pos, grp_attr_cb, tb);
		if (!tb[CTRL_ATTR_MCAST_GRP_NAME] || !tb[CTRL_ATTR_MCAST_GRP_ID])
			continue;
		if (!strcmp(mnl_attr_get_str(tb[CTRL_ATTR_MCAST_GRP_NAME]),
			    PEERWATCH_MCGRP_EVENTS))
			fi->events_grp = mnl_attr_get_u32(tb[CTRL_ATTR_MCAST_GRP_ID]);
	}
}

static int family_cb(const struct nlmsghdr *nlh, void *data)
{
	struct family_info *fi = data;
	struct nlattr *attr;

	mnl_attr_for_each(attr, nlh, sizeof(struct genlmsghdr)) {
		switch (mnl_attr_get_type(attr)) {
		case CTRL_ATTR_FAMILY_ID:
			fi->id = mnl_attr_get_u16(attr);
			break;
		case CTRL_ATTR_VERSION:
			fi->version = mnl_attr_get_u32(attr);
			break;
		case CTRL_ATTR_MCAST_GROUPS:
			parse_groups(attr, fi);
			break;
		}
	}
	return MNL_CB_OK;
}

/* Returns 0 and fills @fi, or -errno (ENOENT when the family is absent). */
static int resolve(const char *name, struct family_info *fi)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct mnl_socket *nl;
	struct nlmsghdr *nlh;
	struct genlmsghdr *genl;
	unsigned int seq = time(NULL), portid;
	int ret;

	nl = mnl_socket_open(NETLINK_GENERIC);
	if (!nl)
		return -errno;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		ret = -errno;
		goto out;
	}
	portid = mnl_socket_get_portid(nl);

	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = GENL_ID_CTRL;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = seq;
	genl = mnl_nlmsg_put_extra_header(nlh, sizeof(*genl));
	genl->cmd = CTRL_CMD_GETFAMILY;
	genl->version = 1;
	mnl_attr_put_strz(nlh, CTRL_ATTR_FAMILY_NAME, name);

	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		ret = -errno;
		goto out;
	}
	for (;;) {
		ret = mnl_socket_recvfrom(nl, buf, sizeof(buf));
		if (ret < 0) {
			ret = -errno;
			break;
		}
		ret = mnl_cb_run(buf, ret, seq, portid, family_cb, fi);
		if (ret <= MNL_CB_STOP) {
			ret = ret < 0 ? -errno : 0;
			break;
		}
	}
out:
	mnl_socket_close(nl);
	return ret;
}

TEST(family_resolves_by_name)
{
	struct family_info fi = {};

	ASSERT_EQ(0, resolve(PEERWATCH_GENL_NAME, &fi));
	EXPECT_GT(fi.id, GENL_MIN_ID - 1);
	EXPECT_EQ(PEERWATCH_GENL_VERSION, fi.version);
	EXPECT_GT(fi.events_grp, 0);
	TH_LOG("family %s id %d version %d, group %s id %d",
	       PEERWATCH_GENL_NAME, fi.id, fi.version,
	       PEERWATCH_MCGRP_EVENTS, fi.events_grp);
}

TEST(events_group_can_be_joined)
{
	struct family_info fi = {};
	struct mnl_socket *nl;
	int grp;

	ASSERT_EQ(0, resolve(PEERWATCH_GENL_NAME, &fi));
	nl = mnl_socket_open(NETLINK_GENERIC);
	ASSERT_NE(NULL, nl);
	ASSERT_EQ(0, mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID));
	grp = fi.events_grp;
	EXPECT_EQ(0, mnl_socket_setsockopt(nl, NETLINK_ADD_MEMBERSHIP,
					   &grp, sizeof(grp)));
	mnl_socket_close(nl);
}

TEST(unknown_family_is_not_found)
{
	struct family_info fi = {};

	EXPECT_EQ(-ENOENT, resolve("pw-nonexistent", &fi));
}

TEST_HARNESS_MAIN

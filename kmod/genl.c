// SPDX-License-Identifier: GPL-2.0
/*
 * The peerwatch generic netlink family: its operations with a strict
 * policy each, and its events multicast group.
 */
#include <linux/module.h>
#include <net/genetlink.h>
#include <linux/peerwatch.h>

#include "genl.h"
#include "pernet.h"
#include "policy.h"
#include "sock.h"
#include "stats.h"

/* User timeouts and interface indexes: a non-negative int. */
static struct netlink_range_validation pw_int_range = {
	.max = INT_MAX,
};

static struct netlink_range_validation pw_policy_timeout_range = {
	.min = 1,
	.max = INT_MAX,
};

static const struct nla_policy pw_sock_get_policy[PEERWATCH_A_MAX + 1] = {
	[PEERWATCH_A_FAMILY]	 = { .type = NLA_U16 },
	[PEERWATCH_A_SADDR4]	 = { .type = NLA_BE32 },
	[PEERWATCH_A_SADDR6]	 = NLA_POLICY_EXACT_LEN(sizeof(struct in6_addr)),
	[PEERWATCH_A_SPORT]	 = { .type = NLA_U16 },
	[PEERWATCH_A_DADDR4]	 = { .type = NLA_BE32 },
	[PEERWATCH_A_DADDR6]	 = NLA_POLICY_EXACT_LEN(sizeof(struct in6_addr)),
	[PEERWATCH_A_DPORT]	 = { .type = NLA_U16 },
	[PEERWATCH_A_COOKIE]	 = { .type = NLA_U64 },
	[PEERWATCH_A_PREFIX_LEN] = NLA_POLICY_MAX(NLA_U8, 128),
	[PEERWATCH_A_STATE_MASK] = { .type = NLA_U32 },
	[PEERWATCH_A_DUMP_FLAGS] = NLA_POLICY_MASK(NLA_U32,
						   PEERWATCH_DUMP_F_USER_TIMEOUT),
	[PEERWATCH_A_IFINDEX]	 = NLA_POLICY_FULL_RANGE(NLA_U32, &pw_int_range),
};

static const struct nla_policy pw_sock_set_policy[PEERWATCH_A_MAX + 1] = {
	[PEERWATCH_A_FAMILY]	   = { .type = NLA_U16 },
	[PEERWATCH_A_SADDR4]	   = { .type = NLA_BE32 },
	[PEERWATCH_A_SADDR6]	   = NLA_POLICY_EXACT_LEN(sizeof(struct in6_addr)),
	[PEERWATCH_A_SPORT]	   = { .type = NLA_U16 },
	[PEERWATCH_A_DADDR4]	   = { .type = NLA_BE32 },
	[PEERWATCH_A_DADDR6]	   = NLA_POLICY_EXACT_LEN(sizeof(struct in6_addr)),
	[PEERWATCH_A_DPORT]	   = { .type = NLA_U16 },
	[PEERWATCH_A_COOKIE]	   = { .type = NLA_U64 },
	[PEERWATCH_A_IFINDEX]	   = NLA_POLICY_FULL_RANGE(NLA_U32, &pw_int_range),
	[PEERWATCH_A_USER_TIMEOUT] = NLA_POLICY_FULL_RANGE(NLA_U32,
							   &pw_int_range),
};

static const struct nla_policy pw_policy_add_policy[PEERWATCH_A_MAX + 1] = {
	[PEERWATCH_A_FAMILY]	   = { .type = NLA_U16 },
	[PEERWATCH_A_DADDR4]	   = { .type = NLA_BE32 },
	[PEERWATCH_A_DADDR6]	   = NLA_POLICY_EXACT_LEN(sizeof(struct in6_addr)),
	[PEERWATCH_A_PREFIX_LEN]   = NLA_POLICY_MAX(NLA_U8, 128),
	[PEERWATCH_A_DPORT_MIN]	   = { .type = NLA_U16 },
	[PEERWATCH_A_DPORT_MAX]	   = { .type = NLA_U16 },
	[PEERWATCH_A_USER_TIMEOUT] = NLA_POLICY_FULL_RANGE(NLA_U32,
							   &pw_policy_timeout_range),
};

static const struct nla_policy pw_policy_del_policy[PEERWATCH_A_MAX + 1] = {
	[PEERWATCH_A_POLICY_ID]	= { .type = NLA_U32 },
};

/* Operations without a policy accept no attribute at all. */
static const struct genl_ops pw_genl_ops[] = {
	{
		.cmd	= PEERWATCH_CMD_SOCK_GET,
		.doit	= pw_nl_sock_get,
		.start	= pw_nl_sock_dump_start,
		.dumpit	= pw_nl_sock_dump,
		.policy	= pw_sock_get_policy,
		.maxattr = PEERWATCH_A_MAX,
	},
	{
		.cmd	= PEERWATCH_CMD_SOCK_SET,
		.doit	= pw_nl_sock_set,
		.policy	= pw_sock_set_policy,
		.maxattr = PEERWATCH_A_MAX,
		.flags	= GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd	= PEERWATCH_CMD_POLICY_ADD,
		.doit	= pw_nl_policy_add,
		.policy	= pw_policy_add_policy,
		.maxattr = PEERWATCH_A_MAX,
		.flags	= GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd	= PEERWATCH_CMD_POLICY_DEL,
		.doit	= pw_nl_policy_del,
		.policy	= pw_policy_del_policy,
		.maxattr = PEERWATCH_A_MAX,
		.flags	= GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd	= PEERWATCH_CMD_POLICY_DUMP,
		.dumpit	= pw_nl_policy_dump,
		.flags	= GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd	= PEERWATCH_CMD_POLICY_FLUSH,
		.doit	= pw_nl_policy_flush,
		.flags	= GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd	= PEERWATCH_CMD_STATS_GET,
		.doit	= pw_nl_stats_get,
	},
};

/*
 * Events reveal, as they happen, which connections of every user of the
 * netns fail and their owners: listening needs CAP_NET_ADMIN over the
 * netns, as for MPTCP's events. A kernel without the check (before 6.8,
 * or Debian's 6.1 before 6.1.176) would let anyone listen: no build there.
 */
#ifndef GENL_MCAST_CAP_NET_ADMIN
#error "GENL_MCAST_CAP_NET_ADMIN missing: the events group would be open to every user"
#endif

static const struct genl_multicast_group pw_mcgrps[] = {
	[PW_MCGRP_EVENTS] = {
		.name = PEERWATCH_MCGRP_EVENTS,
		.flags = GENL_MCAST_CAP_NET_ADMIN,
	},
};

struct genl_family pw_genl_family __ro_after_init = {
	.name		= PEERWATCH_GENL_NAME,
	.version	= PEERWATCH_GENL_VERSION,
	.maxattr	= PEERWATCH_A_MAX,
	.netnsok	= true,
	.parallel_ops	= true,
	.resv_start_op	= 0,
	.module		= THIS_MODULE,
	.ops		= pw_genl_ops,
	.n_ops		= ARRAY_SIZE(pw_genl_ops),
	.mcgrps		= pw_mcgrps,
	.n_mcgrps	= ARRAY_SIZE(pw_mcgrps),
};

int __init pw_genl_init(void)
{
	return genl_register_family(&pw_genl_family);
}

void pw_genl_exit(void)
{
	genl_unregister_family(&pw_genl_family);
}

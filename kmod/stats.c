// SPDX-License-Identifier: GPL-2.0
/*
 * STATS_GET: the counters of the caller's netns, its tracked sockets
 * among them, plus the module's live objects for a caller with
 * CAP_NET_ADMIN over the initial user namespace. Those tell of every
 * netns's connections (how many are failing now, how many rules exist), a
 * side channel between tenants, so the root of a user namespace does not
 * see them.
 */
#include <net/genetlink.h>
#include <linux/peerwatch.h>

#include "genl.h"
#include "pernet.h"
#include "stats.h"
#include "track.h"

int pw_nl_stats_get(struct sk_buff *skb, struct genl_info *info)
{
	struct net *net = genl_info_net(info);
	struct pw_net *pn = pw_net(net);
	bool global = netlink_capable(skb, CAP_NET_ADMIN);
	struct sk_buff *reply;
	struct nlattr *nest;
	int i;
	void *hdr;

	reply = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!reply)
		return -ENOMEM;
	hdr = genlmsg_put_reply(reply, info, &pw_genl_family, 0,
				PEERWATCH_CMD_STATS_GET);
	if (!hdr)
		goto nla_put_failure;
	nest = nla_nest_start(reply, PEERWATCH_A_STATS);
	if (!nest)
		goto nla_put_failure;

	for (i = PEERWATCH_STAT_A_SUSPECT; i <= PEERWATCH_STAT_A_MAX; i++) {
		u64 val;

		switch (i) {
		case PEERWATCH_STAT_A_POLICIES:
			val = READ_ONCE(pn->n_policies);
			break;
		case PEERWATCH_STAT_A_TRACKED:
			val = pw_track_net_count(net);
			break;
		case PEERWATCH_STAT_A_LIVE_OBJECTS:
			if (!global)
				continue;
			val = atomic_long_read(&pw_live_objects);
			break;
		default:
			val = atomic64_read(&pn->stats[i]);
		}
		if (nla_put_u64_64bit(reply, i, val, PEERWATCH_STAT_A_PAD))
			goto nla_put_failure;
	}
	nla_nest_end(reply, nest);
	genlmsg_end(reply, hdr);
	return genlmsg_reply(reply, info);

nla_put_failure:
	nlmsg_free(reply);
	return -EMSGSIZE;
}

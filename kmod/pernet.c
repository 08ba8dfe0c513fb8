// SPDX-License-Identifier: GPL-2.0
/*
 * Per network namespace state: the policy rules and the counters. It lives
 * and dies with its netns.
 */
#include <linux/module.h>
#include <net/netns/generic.h>

#include "genl.h"
#include "pernet.h"
#include "policy.h"
#include "track.h"

static unsigned int pw_net_id __read_mostly;

atomic_long_t pw_live_objects = ATOMIC_LONG_INIT(0);

struct pw_net *pw_net(const struct net *net)
{
	return net_generic(net, pw_net_id);
}

static int __net_init pw_net_init(struct net *net)
{
	struct pw_net *pn = pw_net(net);

	mutex_init(&pn->lock);
	INIT_LIST_HEAD(&pn->policies);
	pn->next_policy_id = 1;
	return 0;
}

static void __net_exit pw_net_exit(struct net *net)
{
	pw_policy_flush(pw_net(net));
}

int pw_nl_stats_get(struct sk_buff *skb, struct genl_info *info)
{
	struct pw_net *pn = pw_net(genl_info_net(info));
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
			val = atomic_read(&pw_track_count);
			break;
		case PEERWATCH_STAT_A_LIVE_OBJECTS:
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

static struct pernet_operations pw_net_ops = {
	.init = pw_net_init,
	.exit = pw_net_exit,
	.id   = &pw_net_id,
	.size = sizeof(struct pw_net),
};

int __init pw_pernet_init(void)
{
	return register_pernet_subsys(&pw_net_ops);
}

void pw_pernet_exit(void)
{
	unregister_pernet_subsys(&pw_net_ops);
}

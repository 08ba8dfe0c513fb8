// SPDX-License-Identifier: GPL-2.0
/*
 * Per network namespace state: the policy rules and the counters. It lives
 * and dies with its netns.
 */
#include <linux/module.h>
#include <net/netns/generic.h>

#include "pernet.h"
#include "policy.h"

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
	xa_init_flags(&pn->policy_ids, XA_FLAGS_ALLOC1);
	pn->next_policy_id = 1;
	return 0;
}

static void __net_exit pw_net_exit(struct net *net)
{
	struct pw_net *pn = pw_net(net);

	pw_policy_flush(pn);
	xa_destroy(&pn->policy_ids);
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

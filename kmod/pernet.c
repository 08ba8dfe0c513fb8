// SPDX-License-Identifier: GPL-2.0
/*
 * Per network namespace state (struct pw_net): it lives and dies with its
 * netns. Its parts are set up and taken down by their users through the
 * table main.c gives, so that this file calls none of them by name.
 */
#include <linux/module.h>
#include <net/netns/generic.h>

#include "pernet.h"

unsigned int pw_net_id __read_mostly;

atomic_long_t pw_live_objects = ATOMIC_LONG_INIT(0);

static const struct pw_net_user *const *pw_net_users __ro_after_init;
static unsigned int pw_net_n_users __ro_after_init;

static int __net_init pw_net_init(struct net *net)
{
	struct pw_net *pn = pw_net(net);
	unsigned int i;
	int ret;

	for (i = 0; i < pw_net_n_users; i++) {
		ret = pw_net_users[i]->init(net, pn);
		if (ret)
			goto err_exit;
	}
	return 0;

err_exit:
	/*
	 * No reader to wait for between the two: readers come through the
	 * netns's sockets and the hooks, and a new netns has no socket yet,
	 * while at load no hook is registered yet.
	 */
	while (i--) {
		if (pw_net_users[i]->pre_exit)
			pw_net_users[i]->pre_exit(pn);
		pw_net_users[i]->exit(pn);
	}
	return ret;
}

static void __net_exit pw_net_pre_exit(struct net *net)
{
	struct pw_net *pn = pw_net(net);
	unsigned int i = pw_net_n_users;

	while (i--)
		if (pw_net_users[i]->pre_exit)
			pw_net_users[i]->pre_exit(pn);
}

static void __net_exit pw_net_exit(struct net *net)
{
	struct pw_net *pn = pw_net(net);
	unsigned int i = pw_net_n_users;

	while (i--)
		pw_net_users[i]->exit(pn);
}

static struct pernet_operations pw_net_ops = {
	.init	  = pw_net_init,
	.pre_exit = pw_net_pre_exit,
	.exit	  = pw_net_exit,
	.id	  = &pw_net_id,
	.size	  = sizeof(struct pw_net),
};

int __init pw_pernet_init(const struct pw_net_user *const *users,
			  unsigned int n)
{
	pw_net_users = users;
	pw_net_n_users = n;
	return register_pernet_subsys(&pw_net_ops);
}

void pw_pernet_exit(void)
{
	unregister_pernet_subsys(&pw_net_ops);
}

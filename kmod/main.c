// SPDX-License-Identifier: GPL-2.0
/*
 * peerwatch: per-socket TCP_USER_TIMEOUT and dead-peer events over
 * generic netlink. This file only sets up and tears down.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/rcupdate.h>
#include <net/genetlink.h>
#include <linux/peerwatch.h>

#include "event.h"
#include "genl.h"
#include "hooks.h"
#include "pernet.h"
#include "policy.h"
#include "track.h"

/* The parts of the per-netns state, set up in this order. */
static const struct pw_net_user *const pw_net_users[] = {
	&pw_policy_net_user,
	&pw_track_net_user,
};

/* Steps before the hooks: the pernet state, the family. */
#define PW_INIT_STEPS_BEFORE_HOOKS 2

static unsigned int fail_init;
module_param(fail_init, uint, 0444);
MODULE_PARM_DESC(fail_init,
		 "For tests: fail init after step N (1 pernet state, 2 family, 3 tracepoints found, 4-7 each probe registered)");

static int __init peerwatch_init(void)
{
	unsigned int hooks_fail = 0;
	int ret;

	ret = pw_track_init();
	if (ret)
		return ret;
	ret = pw_pernet_init(pw_net_users, ARRAY_SIZE(pw_net_users));
	if (ret)
		goto err_track;
	if (fail_init == 1) {
		ret = -ECANCELED;
		goto err_pernet;
	}

	ret = pw_genl_init();
	if (ret)
		goto err_pernet;
	if (fail_init == 2) {
		ret = -ECANCELED;
		goto err_genl;
	}

	if (fail_init > PW_INIT_STEPS_BEFORE_HOOKS)
		hooks_fail = fail_init - PW_INIT_STEPS_BEFORE_HOOKS;
	ret = pw_hooks_init(hooks_fail);
	if (ret)
		goto err_genl;

	return 0;

err_genl:
	pw_genl_exit();
err_pernet:
	/* Probes may have run a while: the tables go with what they hold. */
	pw_pernet_exit();
	/* Policies added meanwhile are freed by RCU callbacks in our text. */
	rcu_barrier();
err_track:
	pw_track_exit();
	return ret;
}

static void __exit peerwatch_exit(void)
{
	long live;

	/*
	 * The family first, before anything sleeps: from the moment rmmod
	 * marks the module going, netlink refuses to start its dumps
	 * (EPROTONOSUPPORT); once the family is gone, requests get ENOENT,
	 * and those already running have finished. Events stop before it
	 * (event.c says why); the hooks run on, silent, until they are
	 * unregistered, after which nothing creates objects.
	 */
	pw_event_stop();
	pw_genl_exit();
	pw_hooks_exit();
	pw_pernet_exit();
	/* Our RCU callbacks are module code: let them all run. */
	rcu_barrier();
	pw_track_exit();

	live = atomic_long_read(&pw_live_objects);
	pr_info("unloaded, %ld live objects\n", live);
	WARN_ON(live);
}

module_init(peerwatch_init);
module_exit(peerwatch_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("TCP dead-peer events and per-socket TCP_USER_TIMEOUT over generic netlink");
MODULE_VERSION(PEERWATCH_VERSION);
MODULE_AUTHOR("The peerwatch developers");
MODULE_ALIAS_GENL_FAMILY(PEERWATCH_GENL_NAME);

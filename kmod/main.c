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
#include "track.h"

static int __init peerwatch_init(void)
{
	int ret;

	ret = pw_pernet_init();
	if (ret)
		return ret;

	ret = pw_genl_init();
	if (ret)
		goto err_pernet;

	ret = pw_hooks_init();
	if (ret)
		goto err_genl;

	return 0;

err_genl:
	pw_genl_exit();
err_pernet:
	pw_pernet_exit();
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
	pw_track_exit();
	pw_pernet_exit();
	/* Our RCU callbacks are module code: let them all run. */
	rcu_barrier();

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

// SPDX-License-Identifier: GPL-2.0
/*
 * peerwatch: per-socket TCP_USER_TIMEOUT and dead-peer events over
 * generic netlink. This file only sets up and tears down.
 */
#include <linux/module.h>
#include <net/genetlink.h>
#include <linux/peerwatch.h>

#include "genl.h"

static int __init peerwatch_init(void)
{
	int ret;

	ret = pw_genl_init();
	if (ret)
		return ret;

	return 0;
}

static void __exit peerwatch_exit(void)
{
	pw_genl_exit();
}

module_init(peerwatch_init);
module_exit(peerwatch_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("TCP dead-peer events and per-socket TCP_USER_TIMEOUT over generic netlink");
MODULE_VERSION("0.1");
MODULE_AUTHOR("The peerwatch developers");
MODULE_ALIAS_GENL_FAMILY(PEERWATCH_GENL_NAME);

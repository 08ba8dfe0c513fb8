// SPDX-License-Identifier: GPL-2.0
/*
 * The peerwatch generic netlink family and its events multicast group.
 */
#include <linux/module.h>
#include <net/genetlink.h>
#include <linux/peerwatch.h>

#include "genl.h"

enum pw_mcgrp {
	PW_MCGRP_EVENTS,
};

static const struct genl_multicast_group pw_mcgrps[] = {
	[PW_MCGRP_EVENTS] = { .name = PEERWATCH_MCGRP_EVENTS },
};

static struct genl_family pw_genl_family __ro_after_init = {
	.name		= PEERWATCH_GENL_NAME,
	.version	= PEERWATCH_GENL_VERSION,
	.maxattr	= PEERWATCH_A_MAX,
	.netnsok	= true,
	.parallel_ops	= true,
	.resv_start_op	= 0,
	.module		= THIS_MODULE,
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

// SPDX-License-Identifier: GPL-2.0
/*
 * A module that misbehaves on purpose, so that the runner's own test can
 * show that a kernel warning in the guest fails the run.
 */
#include <linux/module.h>

static bool oops;
module_param(oops, bool, 0444);
MODULE_PARM_DESC(oops, "dereference NULL instead of warning");

static int __init warnmod_init(void)
{
	if (oops)
		return *(volatile int *)NULL;
	WARN_ON(1);
	return 0;
}

static void __exit warnmod_exit(void)
{
}

module_init(warnmod_init);
module_exit(warnmod_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("peerwatch test: a module that warns or oopses at load");

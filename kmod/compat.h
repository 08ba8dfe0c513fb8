/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The differences between the kernels peerwatch is built for, Debian 12's
 * 6.1 and Debian 13's 6.12: one entry each, with the version that made it.
 */
#ifndef _PEERWATCH_COMPAT_H
#define _PEERWATCH_COMPAT_H

#include <linux/version.h>
#include <net/genetlink.h>

/* 6.10: trace_tcp_send_reset() also passes why the reset was sent. */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 10, 0)
#include <net/rstreason.h>
#define PW_TCP_SEND_RESET_HAS_REASON	1
#else
#define PW_TCP_SEND_RESET_HAS_REASON	0
#endif

/* 6.6: a dump's parsed attributes moved into an embedded genl_info. */
static inline struct nlattr **pw_dump_attrs(struct netlink_callback *cb)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 6, 0)
	return genl_info_dump(cb)->attrs;
#else
	return genl_dumpit_info(cb)->attrs;
#endif
}

#endif /* _PEERWATCH_COMPAT_H */

/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT */
/*
 * peerwatch: TCP dead-peer events and per-socket TCP_USER_TIMEOUT over
 * generic netlink.
 *
 * Family PEERWATCH_GENL_NAME, version PEERWATCH_GENL_VERSION, multicast
 * group PEERWATCH_MCGRP_EVENTS. Resolve the family and group ids by name
 * through the generic netlink controller (nlctrl).
 *
 * Values are never renumbered; new ones are only appended.
 */
#ifndef _UAPI_LINUX_PEERWATCH_H
#define _UAPI_LINUX_PEERWATCH_H

#define PEERWATCH_GENL_NAME	"peerwatch"
#define PEERWATCH_GENL_VERSION	1
#define PEERWATCH_MCGRP_EVENTS	"events"

enum peerwatch_cmd {
	PEERWATCH_CMD_UNSPEC,

	__PEERWATCH_CMD_MAX
};
#define PEERWATCH_CMD_MAX (__PEERWATCH_CMD_MAX - 1)

enum peerwatch_attr {
	PEERWATCH_A_UNSPEC,

	__PEERWATCH_A_MAX
};
#define PEERWATCH_A_MAX (__PEERWATCH_A_MAX - 1)

#endif /* _UAPI_LINUX_PEERWATCH_H */

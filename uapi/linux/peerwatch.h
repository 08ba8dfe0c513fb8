/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT */
/*
 * peerwatch: TCP dead-peer events and per-socket TCP_USER_TIMEOUT over
 * generic netlink.
 *
 * Documentation
 * =============
 *
 * Family PEERWATCH_GENL_NAME, version PEERWATCH_GENL_VERSION, multicast
 * group PEERWATCH_MCGRP_EVENTS. Resolve the family and group ids by name
 * through the generic netlink controller (nlctrl). The family is netns
 * aware: every command and event concerns the sockets of the netns of the
 * netlink socket that sends or receives it, never another one.
 *
 * All commands use one attribute space, enum peerwatch_attr, and each
 * command validates strictly: an attribute it does not list, a missing or
 * inconsistent one, a wrong type, or a non-zero genlmsghdr.reserved is
 * refused with EINVAL; a value or length outside the range its policy
 * states with ERANGE, as the netlink core does for every family. Either
 * way an extended ack message says why, and nothing is changed.
 * IPv4 addresses are struct in_addr (network byte order), IPv6 addresses
 * struct in6_addr; ports and every other integer are in host byte order.
 * Times are milliseconds unless the name says otherwise. PEERWATCH_A_PAD
 * (and PEERWATCH_STAT_A_PAD) only align 64-bit attributes; skip them.
 *
 * A socket is named by its tuple, seen from the local end:
 *
 *    PEERWATCH_A_FAMILY: NLA_U16, AF_INET or AF_INET6
 *    PEERWATCH_A_SADDR4 / PEERWATCH_A_SADDR6: local address
 *    PEERWATCH_A_SPORT: NLA_U16, local port
 *    PEERWATCH_A_DADDR4 / PEERWATCH_A_DADDR6: remote address
 *    PEERWATCH_A_DPORT: NLA_U16, remote port
 *    PEERWATCH_A_COOKIE: NLA_U64, the socket cookie (SO_COOKIE, ss -e "sk:")
 *    PEERWATCH_A_IFINDEX: NLA_U32, the interface the socket is bound to
 *                         (SO_BINDTODEVICE, an IPv6 link-local address's
 *                         scope, a VRF), 0 if none
 *
 * An IPv4 peer of an AF_INET6 socket (a dual-stack listener's child, a
 * connect() to ::ffff:a.b.c.d) has FAMILY AF_INET6 and v4-mapped addresses
 * ::ffff:a.b.c.d; either that tuple or its AF_INET form finds it.
 *
 * The socket description, sent in events and SOCK_GET replies, is the tuple
 * and cookie above plus:
 *
 *    PEERWATCH_A_STATE: NLA_U8, TCP state (TCP_ESTABLISHED == 1, ...); for
 *                       DEAD, the state the socket died in
 *    PEERWATCH_A_USER_TIMEOUT: NLA_U32, TCP_USER_TIMEOUT in ms, 0 if unset
 *    PEERWATCH_A_RETRANSMITS: NLA_U32, consecutive RTO retransmissions
 *    PEERWATCH_A_PROBES: NLA_U32, unanswered keepalive or zero window probes
 *    PEERWATCH_A_RTO: NLA_U32, current retransmission timeout in ms
 *    PEERWATCH_A_LAST_ACK: NLA_U32, ms since the last ACK was received
 *    PEERWATCH_A_UID: NLA_U32, owner uid in the netns' user namespace
 *    PEERWATCH_A_TIMER: NLA_U8, enum peerwatch_timer (SOCK_GET only)
 *    PEERWATCH_A_TIMER_EXPIRES: NLA_U32, ms until the timer fires
 *                               (SOCK_GET only)
 *
 * PEERWATCH_CMD_EVENT
 * -------------------
 *
 * Sent by the kernel to the PEERWATCH_MCGRP_EVENTS group of the socket's
 * netns, never requested. Joining the group needs CAP_NET_ADMIN over that
 * netns (the module builds only where the kernel checks it), since events
 * tell the fate of other users' connections as they happen.
 * Events concern watched sockets only: those with a user timeout (their
 * own or one given by a policy), or every TCP socket when the module
 * parameter watch_all is set. Each carries the socket description and:
 *
 *    PEERWATCH_A_EVENT: NLA_U8, enum peerwatch_event
 *    PEERWATCH_A_REASON: NLA_U8, enum peerwatch_reason (DEAD only)
 *    PEERWATCH_A_SK_ERR: NLA_U32, the error the socket reports (DEAD only)
 *    PEERWATCH_A_TIMESTAMP: NLA_U64, CLOCK_MONOTONIC time in ns
 *
 * PEERWATCH_EVENT_SUSPECT is sent at the first retransmission timeout of a
 * socket in ESTABLISHED, CLOSE_WAIT, FIN_WAIT1, CLOSING or LAST_ACK that its
 * program has not closed, once per episode, as the timeout fires: before
 * its retransmission is counted in RETRANSMITS, whether it then leaves or
 * fails locally (no route, a firewall drop, a full queue).
 * PEERWATCH_EVENT_RECOVERED ends the episode when the peer then
 * acknowledges new data (in the closing states: all the data outstanding
 * at the timeout). PEERWATCH_EVENT_DEAD is sent when the kernel gives up on
 * the connection, and ends the episode too. A normal close sends nothing.
 *
 * PEERWATCH_CMD_SOCK_GET
 * ----------------------
 *
 * As a request (doit): the tuple (all of FAMILY, SADDR, SPORT, DADDR, DPORT)
 * and optionally COOKIE and IFINDEX; the reply is one socket description.
 * ENOENT when no established socket has that tuple (and cookie). A socket
 * bound to a device is found only with its IFINDEX; IFINDEX is ignored
 * for the others.
 *
 * As a dump (NLM_F_DUMP): one socket description per connected TCP socket
 * of the caller's netns (listeners and TIME_WAIT excluded), restricted by
 * the optional filters:
 *
 *    PEERWATCH_A_FAMILY: NLA_U16, AF_INET or AF_INET6
 *    PEERWATCH_A_SPORT, PEERWATCH_A_DPORT: NLA_U16
 *    PEERWATCH_A_DADDR4 or PEERWATCH_A_DADDR6 with PEERWATCH_A_PREFIX_LEN:
 *        the remote address lies in that prefix
 *    PEERWATCH_A_IFINDEX: NLA_U32, bound to that interface
 *    PEERWATCH_A_STATE_MASK: NLA_U32, bit (1 << state) for each TCP state
 *    PEERWATCH_A_DUMP_FLAGS: NLA_U32, PEERWATCH_DUMP_F_*
 *
 * PEERWATCH_CMD_SOCK_SET
 * ----------------------
 *
 * Needs CAP_NET_ADMIN over the netns. The full tuple, COOKIE, IFINDEX if
 * the socket is bound to a device, and
 *
 *    PEERWATCH_A_USER_TIMEOUT: NLA_U32, 0..INT_MAX ms (0 restores the
 *                              system default)
 *
 * sets TCP_USER_TIMEOUT on that socket, exactly as setsockopt would: it
 * takes effect when the socket next arms a timer.
 *
 * PEERWATCH_CMD_POLICY_ADD, _DEL, _DUMP, _FLUSH
 * ---------------------------------------------
 *
 * Need CAP_NET_ADMIN over the netns. A policy rule gives a user timeout to
 * sockets of its netns that become ESTABLISHED without a value of their own
 * (accepted sockets inherit their listener's). The rules are tried in the
 * order they were added; the first one that matches applies. A netns holds
 * at most PEERWATCH_POLICY_MAX rules (ENOSPC past it); they die with it.
 *
 * POLICY_ADD takes
 *
 *    PEERWATCH_A_FAMILY: NLA_U16, required
 *    PEERWATCH_A_USER_TIMEOUT: NLA_U32, required, 1..INT_MAX ms
 *    PEERWATCH_A_DADDR4 or PEERWATCH_A_DADDR6 (matching FAMILY) with
 *    PEERWATCH_A_PREFIX_LEN: NLA_U8, optional: the remote address prefix
 *    PEERWATCH_A_DPORT_MIN, PEERWATCH_A_DPORT_MAX: NLA_U16, optional: the
 *        remote port range, bounds included
 *
 * and replies with the rule, including PEERWATCH_A_POLICY_ID: NLA_U32, never
 * 0 and never the id of another live rule of the netns (ids are handed out
 * in turn and wrap after 2^32 additions). POLICY_DEL takes
 * PEERWATCH_A_POLICY_ID. POLICY_DUMP (NLM_F_DUMP) sends one message per
 * rule (command POLICY_DUMP, as every reply carries the command it
 * answers), in the order they are tried, with its attributes and
 * PEERWATCH_A_HITS: NLA_U64.
 * POLICY_FLUSH takes nothing and deletes every rule of the netns.
 *
 * PEERWATCH_CMD_STATS_GET
 * -----------------------
 *
 * Takes nothing; replies with PEERWATCH_A_STATS: NLA_NESTED, holding the
 * counters of enum peerwatch_stat_attr (NLA_U64 each) of the caller's netns,
 * except LIVE_OBJECTS, which is module-wide and sent only to a caller with
 * CAP_NET_ADMIN over the initial user namespace.
 */
#ifndef _UAPI_LINUX_PEERWATCH_H
#define _UAPI_LINUX_PEERWATCH_H

#define PEERWATCH_GENL_NAME	"peerwatch"
#define PEERWATCH_GENL_VERSION	1
#define PEERWATCH_MCGRP_EVENTS	"events"

#define PEERWATCH_POLICY_MAX	256

/* PEERWATCH_A_DUMP_FLAGS */
#define PEERWATCH_DUMP_F_USER_TIMEOUT	(1U << 0) /* only with a user timeout */

enum peerwatch_cmd {
	PEERWATCH_CMD_UNSPEC,
	PEERWATCH_CMD_EVENT,
	PEERWATCH_CMD_SOCK_GET,
	PEERWATCH_CMD_SOCK_SET,
	PEERWATCH_CMD_POLICY_ADD,
	PEERWATCH_CMD_POLICY_DEL,
	PEERWATCH_CMD_POLICY_DUMP,
	PEERWATCH_CMD_POLICY_FLUSH,
	PEERWATCH_CMD_STATS_GET,

	__PEERWATCH_CMD_MAX
};

#define PEERWATCH_CMD_MAX (__PEERWATCH_CMD_MAX - 1)

enum peerwatch_event {
	PEERWATCH_EVENT_UNSPEC,
	PEERWATCH_EVENT_DEAD,
	PEERWATCH_EVENT_SUSPECT,
	PEERWATCH_EVENT_RECOVERED,

	__PEERWATCH_EVENT_MAX
};

#define PEERWATCH_EVENT_MAX (__PEERWATCH_EVENT_MAX - 1)

enum peerwatch_reason {
	PEERWATCH_REASON_UNSPEC,
	PEERWATCH_REASON_USER_TIMEOUT,	/* TCP_USER_TIMEOUT expired */
	PEERWATCH_REASON_RETRIES,	/* tcp_retries2 retransmissions */
	PEERWATCH_REASON_KEEPALIVE,	/* keepalive probes unanswered */
	PEERWATCH_REASON_ZERO_WINDOW,	/* zero window probing timed out */
	PEERWATCH_REASON_RESET,		/* the peer sent a RST (SK_ERR tells
					 * ECONNREFUSED in SYN_SENT, EPIPE in
					 * CLOSE_WAIT, else ECONNRESET), or an
					 * ICMP error refused a connection
					 * attempt (SK_ERR: EHOSTUNREACH...)
					 */
	PEERWATCH_REASON_ABORT,		/* SOCK_DESTROY, e.g. ss -K */

	__PEERWATCH_REASON_MAX
};

#define PEERWATCH_REASON_MAX (__PEERWATCH_REASON_MAX - 1)

enum peerwatch_timer {
	PEERWATCH_TIMER_UNSPEC,		/* no timer pending */
	PEERWATCH_TIMER_RETRANS,	/* retransmission or loss probe */
	PEERWATCH_TIMER_PROBE0,		/* zero window probe */
	PEERWATCH_TIMER_KEEPALIVE,	/* keepalive */

	__PEERWATCH_TIMER_MAX
};

#define PEERWATCH_TIMER_MAX (__PEERWATCH_TIMER_MAX - 1)

enum peerwatch_attr {
	PEERWATCH_A_UNSPEC,
	PEERWATCH_A_PAD,
	PEERWATCH_A_EVENT,
	PEERWATCH_A_REASON,
	PEERWATCH_A_COOKIE,
	PEERWATCH_A_FAMILY,
	PEERWATCH_A_SADDR4,
	PEERWATCH_A_SADDR6,
	PEERWATCH_A_SPORT,
	PEERWATCH_A_DADDR4,
	PEERWATCH_A_DADDR6,
	PEERWATCH_A_DPORT,
	PEERWATCH_A_STATE,
	PEERWATCH_A_USER_TIMEOUT,
	PEERWATCH_A_RETRANSMITS,
	PEERWATCH_A_PROBES,
	PEERWATCH_A_RTO,
	PEERWATCH_A_LAST_ACK,
	PEERWATCH_A_UID,
	PEERWATCH_A_TIMESTAMP,
	PEERWATCH_A_SK_ERR,
	PEERWATCH_A_TIMER,
	PEERWATCH_A_TIMER_EXPIRES,
	PEERWATCH_A_STATE_MASK,
	PEERWATCH_A_DUMP_FLAGS,
	PEERWATCH_A_PREFIX_LEN,
	PEERWATCH_A_POLICY_ID,
	PEERWATCH_A_DPORT_MIN,
	PEERWATCH_A_DPORT_MAX,
	PEERWATCH_A_HITS,
	PEERWATCH_A_STATS,
	PEERWATCH_A_IFINDEX,

	__PEERWATCH_A_MAX
};

#define PEERWATCH_A_MAX (__PEERWATCH_A_MAX - 1)

enum peerwatch_stat_attr {
	PEERWATCH_STAT_A_UNSPEC,
	PEERWATCH_STAT_A_PAD,
	PEERWATCH_STAT_A_SUSPECT,		/* events sent, by type... */
	PEERWATCH_STAT_A_RECOVERED,
	PEERWATCH_STAT_A_DEAD_USER_TIMEOUT,	/* ...and DEAD by reason */
	PEERWATCH_STAT_A_DEAD_RETRIES,
	PEERWATCH_STAT_A_DEAD_KEEPALIVE,
	PEERWATCH_STAT_A_DEAD_ZERO_WINDOW,
	PEERWATCH_STAT_A_DEAD_RESET,
	PEERWATCH_STAT_A_DEAD_ABORT,
	PEERWATCH_STAT_A_UNDELIVERED_NOMEM,	/* event not allocated */
	/*
	 * A listener's queue was full; seen only for listeners that set
	 * NETLINK_BROADCAST_ERROR (peerwatchd and `peerwatch monitor` do).
	 */
	PEERWATCH_STAT_A_UNDELIVERED_OVERFLOW,
	PEERWATCH_STAT_A_POLICY_HITS,		/* user timeouts given by policy */
	PEERWATCH_STAT_A_POLICIES,		/* rules in this netns */
	PEERWATCH_STAT_A_TRACKED,		/* sockets in a SUSPECT episode */
	PEERWATCH_STAT_A_UNTRACKED,		/* episodes missed: netns's bound */
	PEERWATCH_STAT_A_LIVE_OBJECTS,		/* module allocations alive */

	__PEERWATCH_STAT_A_MAX
};

#define PEERWATCH_STAT_A_MAX (__PEERWATCH_STAT_A_MAX - 1)

#endif /* _UAPI_LINUX_PEERWATCH_H */

/* SPDX-License-Identifier: GPL-2.0 */
#ifndef PEERWATCH_NLEVENT_H
#define PEERWATCH_NLEVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <netinet/in.h>
#include <linux/netlink.h>

/*
 * One socket as the module describes it: in a PEERWATCH_CMD_EVENT message
 * (event set) or a PEERWATCH_CMD_SOCK_GET reply (event 0, timer set).
 */
struct pw_event {
	uint8_t cmd;			/* PEERWATCH_CMD_EVENT or _SOCK_GET */
	uint8_t event;			/* enum peerwatch_event */
	uint8_t reason;			/* enum peerwatch_reason */
	uint8_t state;			/* TCP state; DEAD: the one it died in */
	uint8_t timer;			/* enum peerwatch_timer */
	uint16_t family;		/* AF_INET or AF_INET6 */
	uint16_t sport;
	uint16_t dport;
	union {
		struct in_addr v4;
		struct in6_addr v6;
	} saddr, daddr;
	uint64_t cookie;
	uint32_t user_timeout_ms;
	uint32_t retransmits;
	uint32_t probes;
	uint32_t rto_ms;
	uint32_t last_ack_ms;
	uint32_t uid;
	uint32_t ifindex;		/* bound to this interface; 0: none */
	uint32_t sk_err;
	uint32_t timer_ms;
	uint64_t timestamp_ns;		/* CLOCK_MONOTONIC */
};

/*
 * Parse a peerwatch event or socket message (after the nlmsghdr, a
 * genlmsghdr). Unknown attributes are skipped, known ones validated.
 * Returns 0, -ENOMSG if it is neither, -EINVAL if it is malformed.
 */
int pw_event_parse(const struct nlmsghdr *nlh, struct pw_event *ev);

/*
 * Call @cb for each event of family @family_id among the @len bytes of
 * messages at @buf, as one recv() returned them; a message that is not a
 * well-formed event is skipped. Returns the number of events.
 */
int pw_event_walk(const void *buf, size_t len, uint16_t family_id,
		  void (*cb)(const struct pw_event *ev, void *data),
		  void *data);

struct pw_nl;

/*
 * Read one datagram from @nl's socket (blocking or not, as the socket is)
 * and call @cb for each event in it. Returns the number of events, or
 * -EAGAIN, -EINTR, or -ENOBUFS when the kernel dropped events because the
 * receive queue was full (resynchronise, e.g. with a SOCK_GET dump).
 */
int pw_nl_read_events(struct pw_nl *nl,
		      void (*cb)(const struct pw_event *ev, void *data),
		      void *data);

/* Names used by the CLI and the JSON interfaces ("dead", "reset"...). */
const char *pw_event_name(unsigned int event);
const char *pw_reason_name(unsigned int reason);
const char *pw_timer_name(unsigned int timer);
const char *pw_tcp_state_name(unsigned int state);

/* Text of @ev's local (or remote) address, as inet_ntop() writes it. */
int pw_event_addr(const struct pw_event *ev, bool local, char *buf,
		  size_t len);

#endif

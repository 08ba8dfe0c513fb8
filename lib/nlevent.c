// SPDX-License-Identifier: GPL-2.0
/*
 * Parse peerwatch events and socket descriptions; shared by the CLI and
 * the agent's kernel event subscriber.
 */
#include <errno.h>
#include <string.h>

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/genetlink.h>
#include <linux/peerwatch.h>

#include "nl.h"
#include "nlevent.h"

/* The type each known attribute must have; 0: not used in descriptions. */
static const uint8_t pw_attr_type[PEERWATCH_A_MAX + 1] = {
	[PEERWATCH_A_EVENT]		= MNL_TYPE_U8,
	[PEERWATCH_A_REASON]		= MNL_TYPE_U8,
	[PEERWATCH_A_COOKIE]		= MNL_TYPE_U64,
	[PEERWATCH_A_FAMILY]		= MNL_TYPE_U16,
	[PEERWATCH_A_SADDR4]		= MNL_TYPE_U32,
	[PEERWATCH_A_DADDR4]		= MNL_TYPE_U32,
	[PEERWATCH_A_SADDR6]		= MNL_TYPE_BINARY,
	[PEERWATCH_A_DADDR6]		= MNL_TYPE_BINARY,
	[PEERWATCH_A_SPORT]		= MNL_TYPE_U16,
	[PEERWATCH_A_DPORT]		= MNL_TYPE_U16,
	[PEERWATCH_A_STATE]		= MNL_TYPE_U8,
	[PEERWATCH_A_USER_TIMEOUT]	= MNL_TYPE_U32,
	[PEERWATCH_A_RETRANSMITS]	= MNL_TYPE_U32,
	[PEERWATCH_A_PROBES]		= MNL_TYPE_U32,
	[PEERWATCH_A_RTO]		= MNL_TYPE_U32,
	[PEERWATCH_A_LAST_ACK]		= MNL_TYPE_U32,
	[PEERWATCH_A_UID]		= MNL_TYPE_U32,
	[PEERWATCH_A_TIMESTAMP]		= MNL_TYPE_U64,
	[PEERWATCH_A_SK_ERR]		= MNL_TYPE_U32,
	[PEERWATCH_A_TIMER]		= MNL_TYPE_U8,
	[PEERWATCH_A_TIMER_EXPIRES]	= MNL_TYPE_U32,
	[PEERWATCH_A_IFINDEX]		= MNL_TYPE_U32,
};

static int pw_event_attr(const struct nlattr *attr, struct pw_event *ev)
{
	unsigned int type = mnl_attr_get_type(attr);

	if (type > PEERWATCH_A_MAX || !pw_attr_type[type])
		return 0;
	if (pw_attr_type[type] == MNL_TYPE_BINARY) {
		if (mnl_attr_validate2(attr, MNL_TYPE_BINARY,
				       sizeof(struct in6_addr)) < 0)
			return -EINVAL;
	} else if (mnl_attr_validate(attr, pw_attr_type[type]) < 0) {
		return -EINVAL;
	}

	switch (type) {
	case PEERWATCH_A_EVENT:
		ev->event = mnl_attr_get_u8(attr);
		break;
	case PEERWATCH_A_REASON:
		ev->reason = mnl_attr_get_u8(attr);
		break;
	case PEERWATCH_A_COOKIE:
		ev->cookie = mnl_attr_get_u64(attr);
		break;
	case PEERWATCH_A_FAMILY:
		ev->family = mnl_attr_get_u16(attr);
		break;
	case PEERWATCH_A_SADDR4:
		memcpy(&ev->saddr.v4, mnl_attr_get_payload(attr), 4);
		break;
	case PEERWATCH_A_DADDR4:
		memcpy(&ev->daddr.v4, mnl_attr_get_payload(attr), 4);
		break;
	case PEERWATCH_A_SADDR6:
		memcpy(&ev->saddr.v6, mnl_attr_get_payload(attr), 16);
		break;
	case PEERWATCH_A_DADDR6:
		memcpy(&ev->daddr.v6, mnl_attr_get_payload(attr), 16);
		break;
	case PEERWATCH_A_SPORT:
		ev->sport = mnl_attr_get_u16(attr);
		break;
	case PEERWATCH_A_DPORT:
		ev->dport = mnl_attr_get_u16(attr);
		break;
	case PEERWATCH_A_STATE:
		ev->state = mnl_attr_get_u8(attr);
		break;
	case PEERWATCH_A_USER_TIMEOUT:
		ev->user_timeout_ms = mnl_attr_get_u32(attr);
		break;
	case PEERWATCH_A_RETRANSMITS:
		ev->retransmits = mnl_attr_get_u32(attr);
		break;
	case PEERWATCH_A_PROBES:
		ev->probes = mnl_attr_get_u32(attr);
		break;
	case PEERWATCH_A_RTO:
		ev->rto_ms = mnl_attr_get_u32(attr);
		break;
	case PEERWATCH_A_LAST_ACK:
		ev->last_ack_ms = mnl_attr_get_u32(attr);
		break;
	case PEERWATCH_A_UID:
		ev->uid = mnl_attr_get_u32(attr);
		break;
	case PEERWATCH_A_TIMESTAMP:
		ev->timestamp_ns = mnl_attr_get_u64(attr);
		break;
	case PEERWATCH_A_SK_ERR:
		ev->sk_err = mnl_attr_get_u32(attr);
		break;
	case PEERWATCH_A_TIMER:
		ev->timer = mnl_attr_get_u8(attr);
		break;
	case PEERWATCH_A_TIMER_EXPIRES:
		ev->timer_ms = mnl_attr_get_u32(attr);
		break;
	case PEERWATCH_A_IFINDEX:
		ev->ifindex = mnl_attr_get_u32(attr);
		break;
	}
	return 0;
}

int pw_event_parse(const struct nlmsghdr *nlh, struct pw_event *ev)
{
	const struct genlmsghdr *genl;
	const struct nlattr *attr;

	memset(ev, 0, sizeof(*ev));
	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*genl)))
		return -ENOMSG;
	/* The attribute walk runs to the aligned end of the message. */
	if (nlh->nlmsg_len != MNL_ALIGN(nlh->nlmsg_len))
		return -EINVAL;
	genl = mnl_nlmsg_get_payload(nlh);
	if (genl->cmd != PEERWATCH_CMD_EVENT &&
	    genl->cmd != PEERWATCH_CMD_SOCK_GET)
		return -ENOMSG;
	ev->cmd = genl->cmd;

	mnl_attr_for_each(attr, nlh, sizeof(*genl))
		if (pw_event_attr(attr, ev))
			return -EINVAL;

	if (!ev->cookie || (ev->family != AF_INET && ev->family != AF_INET6))
		return -EINVAL;
	if (ev->cmd == PEERWATCH_CMD_EVENT &&
	    (!ev->event || ev->event > PEERWATCH_EVENT_MAX ||
	     (ev->event == PEERWATCH_EVENT_DEAD && !ev->reason)))
		return -EINVAL;
	return 0;
}

int pw_event_walk(const void *buf, size_t len, uint16_t family_id,
		  void (*cb)(const struct pw_event *ev, void *data),
		  void *data)
{
	const struct nlmsghdr *nlh;
	struct pw_event ev;
	int n = 0;

	for (nlh = buf; pw_nlmsg_ok(nlh, len); nlh = pw_nlmsg_next(nlh, &len)) {
		if (nlh->nlmsg_type != family_id ||
		    pw_event_parse(nlh, &ev) || ev.cmd != PEERWATCH_CMD_EVENT)
			continue;
		cb(&ev, data);
		n++;
	}
	return n;
}

int pw_nl_read_events(struct pw_nl *nl,
		      void (*cb)(const struct pw_event *ev, void *data),
		      void *data)
{
	static char buf[PW_NL_RECV_SIZE];
	ssize_t ret;

	ret = mnl_socket_recvfrom(nl->sock, buf, sizeof(buf));
	if (ret < 0)
		return -errno;
	return pw_event_walk(buf, ret, nl->family_id, cb, data);
}

const char *pw_event_name(unsigned int event)
{
	static const char * const names[] = {
		[PEERWATCH_EVENT_DEAD] = "dead",
		[PEERWATCH_EVENT_SUSPECT] = "suspect",
		[PEERWATCH_EVENT_RECOVERED] = "recovered",
	};

	return event < PEERWATCH_EVENT_MAX + 1 && names[event] ?
	       names[event] : "unknown";
}

const char *pw_reason_name(unsigned int reason)
{
	static const char * const names[] = {
		[PEERWATCH_REASON_USER_TIMEOUT] = "user-timeout",
		[PEERWATCH_REASON_RETRIES] = "retries",
		[PEERWATCH_REASON_KEEPALIVE] = "keepalive",
		[PEERWATCH_REASON_ZERO_WINDOW] = "zero-window",
		[PEERWATCH_REASON_RESET] = "reset",
		[PEERWATCH_REASON_ABORT] = "abort",
	};

	if (!reason)
		return "";
	return reason < PEERWATCH_REASON_MAX + 1 && names[reason] ?
	       names[reason] : "unknown";
}

const char *pw_timer_name(unsigned int timer)
{
	static const char * const names[] = {
		[PEERWATCH_TIMER_UNSPEC] = "off",
		[PEERWATCH_TIMER_RETRANS] = "retrans",
		[PEERWATCH_TIMER_PROBE0] = "probe0",
		[PEERWATCH_TIMER_KEEPALIVE] = "keepalive",
	};

	return timer < PEERWATCH_TIMER_MAX + 1 ? names[timer] : "unknown";
}

const char *pw_tcp_state_name(unsigned int state)
{
	static const char * const names[] = {
		"UNKNOWN", "ESTAB", "SYN-SENT", "SYN-RECV", "FIN-WAIT-1",
		"FIN-WAIT-2", "TIME-WAIT", "UNCONN", "CLOSE-WAIT", "LAST-ACK",
		"LISTEN", "CLOSING", "NEW-SYN-RECV",
	};

	return state < sizeof(names) / sizeof(names[0]) ? names[state] :
							  "UNKNOWN";
}

int pw_event_addr(const struct pw_event *ev, bool local, char *buf,
		  size_t len)
{
	const void *addr = local ? (const void *)&ev->saddr :
				   (const void *)&ev->daddr;

	if (!inet_ntop(ev->family, addr, buf, len))
		return -errno;
	return 0;
}

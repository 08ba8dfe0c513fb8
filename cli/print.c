// SPDX-License-Identifier: GPL-2.0
/*
 * One socket or event per line: human text, or a JSON object with the
 * fields DESIGN.md fixes (event, reason, cookie, family, saddr, sport,
 * daddr, dport, user_timeout_ms, ...).
 */
#include <stdio.h>
#include <string.h>

#include <arpa/inet.h>
#include <net/if.h>
#include <json-c/json.h>
#include <linux/peerwatch.h>

#include "cli.h"

static void print_json(const struct pw_event *ev, const char *saddr,
		       const char *daddr)
{
	struct json_object *o = json_object_new_object();

#define ADD(key, val) json_object_object_add(o, key, val)
	if (ev->cmd == PEERWATCH_CMD_EVENT) {
		ADD("event", json_object_new_string(pw_event_name(ev->event)));
		if (ev->reason)
			ADD("reason", json_object_new_string(pw_reason_name(ev->reason)));
	}
	ADD("cookie", json_object_new_uint64(ev->cookie));
	ADD("family", json_object_new_string(ev->family == AF_INET ? "inet" : "inet6"));
	ADD("saddr", json_object_new_string(saddr));
	ADD("sport", json_object_new_int(ev->sport));
	ADD("daddr", json_object_new_string(daddr));
	ADD("dport", json_object_new_int(ev->dport));
	if (ev->ifindex) {
		char dev[IF_NAMESIZE];

		ADD("ifindex", json_object_new_uint64(ev->ifindex));
		if (if_indextoname(ev->ifindex, dev))
			ADD("dev", json_object_new_string(dev));
	}
	ADD("state", json_object_new_string(pw_tcp_state_name(ev->state)));
	ADD("user_timeout_ms", json_object_new_uint64(ev->user_timeout_ms));
	ADD("retransmits", json_object_new_uint64(ev->retransmits));
	ADD("probes", json_object_new_uint64(ev->probes));
	ADD("rto_ms", json_object_new_uint64(ev->rto_ms));
	ADD("last_ack_ms", json_object_new_uint64(ev->last_ack_ms));
	ADD("uid", json_object_new_uint64(ev->uid));
	if (ev->cmd == PEERWATCH_CMD_EVENT) {
		if (ev->event == PEERWATCH_EVENT_DEAD)
			ADD("sk_err", json_object_new_uint64(ev->sk_err));
		ADD("time_ns", json_object_new_uint64(ev->timestamp_ns));
	} else {
		ADD("timer", json_object_new_string(pw_timer_name(ev->timer)));
		ADD("timer_ms", json_object_new_uint64(ev->timer_ms));
	}
#undef ADD
	puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
}

/*
 * A device-bound socket's local address as ss prints it and set-timeout
 * reads it back: ADDR%DEV (the index when the device has no name here).
 */
static void local_with_dev(const struct pw_event *ev, char *saddr, size_t len)
{
	char dev[IF_NAMESIZE];
	size_t n = strlen(saddr);

	if (!ev->ifindex)
		return;
	if (if_indextoname(ev->ifindex, dev))
		snprintf(saddr + n, len - n, "%%%s", dev);
	else
		snprintf(saddr + n, len - n, "%%%u", ev->ifindex);
}

void cli_print_sock(const struct pw_event *ev, bool json)
{
	char saddr[INET6_ADDRSTRLEN + IF_NAMESIZE + 1], daddr[INET6_ADDRSTRLEN];
	const char *l = ev->family == AF_INET6 ? "[" : "";
	const char *r = ev->family == AF_INET6 ? "]" : "";

	if (pw_event_addr(ev, true, saddr, sizeof(saddr)) ||
	    pw_event_addr(ev, false, daddr, sizeof(daddr)))
		return;
	if (json) {
		print_json(ev, saddr, daddr);
		fflush(stdout);
		return;
	}
	local_with_dev(ev, saddr, sizeof(saddr));
	if (ev->cmd == PEERWATCH_CMD_EVENT) {
		printf("%-9s %-12s %s%s%s:%u -> %s%s%s:%u cookie %llu state %s user_timeout %ums retrans %u probes %u rto %ums last_ack %ums uid %u\n",
		       pw_event_name(ev->event),
		       ev->reason ? pw_reason_name(ev->reason) : "-",
		       l, saddr, r, ev->sport, l, daddr, r, ev->dport,
		       (unsigned long long)ev->cookie,
		       pw_tcp_state_name(ev->state), ev->user_timeout_ms,
		       ev->retransmits, ev->probes, ev->rto_ms,
		       ev->last_ack_ms, ev->uid);
	} else {
		printf("%-10s %s%s%s:%u -> %s%s%s:%u cookie %llu user_timeout %ums timer %s:%ums retrans %u probes %u uid %u\n",
		       pw_tcp_state_name(ev->state),
		       l, saddr, r, ev->sport, l, daddr, r, ev->dport,
		       (unsigned long long)ev->cookie, ev->user_timeout_ms,
		       pw_timer_name(ev->timer), ev->timer_ms,
		       ev->retransmits, ev->probes, ev->uid);
	}
	fflush(stdout);
}

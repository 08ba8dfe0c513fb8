// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: the peerwatch netlink event parser (lib/nlevent.c).
 * The input is what one recv() on the events socket returns; it goes
 * through pw_event_walk(), as a subscriber's does, with the first
 * message's type as the family id. The
 * module is trusted code, but a subscriber must not trust a message it
 * did not check: a bad one is refused, never read past its end.
 */
#include <errno.h>
#include <stdbool.h>

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/peerwatch.h>

#include "nl.h"
#include "nlevent.h"
#include "fuzz.h"

/* What a subscriber reads, prints or logs of any event it accepted. */
static void check_event(const struct pw_event *ev, void *data)
{
	char addr[INET6_ADDRSTRLEN + 2];
	unsigned int *events = data;

	(*events)++;
	fuzz_assert(ev->cmd == PEERWATCH_CMD_EVENT);
	fuzz_assert(ev->family == AF_INET || ev->family == AF_INET6);
	fuzz_assert(ev->cookie);
	fuzz_assert(ev->event && ev->event <= PEERWATCH_EVENT_MAX);
	fuzz_assert(pw_event_name(ev->event));
	fuzz_assert(pw_reason_name(ev->reason));
	fuzz_assert(pw_timer_name(ev->timer));
	fuzz_assert(pw_tcp_state_name(ev->state));
	fuzz_assert(!pw_event_addr(ev, true, addr, sizeof(addr)));
	fuzz_assert(!pw_event_addr(ev, false, addr, sizeof(addr)));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct nlmsghdr *nlh = (const void *)data;
	unsigned int events = 0, parsed = 0;
	size_t len = size;
	uint16_t family = size >= sizeof(*nlh) ? nlh->nlmsg_type : 0;
	struct pw_event ev;
	int err;

	/*
	 * Every message the framing check lets through parses or is refused
	 * with a clear error; the walk a subscriber uses agrees with it.
	 */
	for (; pw_nlmsg_ok(nlh, len); nlh = pw_nlmsg_next(nlh, &len)) {
		err = pw_event_parse(nlh, &ev);
		fuzz_assert(!err || err == -ENOMSG || err == -EINVAL);
		if (!err && ev.cmd == PEERWATCH_CMD_EVENT &&
		    nlh->nlmsg_type == family)
			parsed++;
	}
	fuzz_assert(pw_event_walk(data, size, family, check_event,
				  &events) == (int)parsed);
	fuzz_assert(events == parsed);
	return 0;
}

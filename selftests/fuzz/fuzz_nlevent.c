// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: the peerwatch netlink event parser (lib/nlevent.c).
 * The input is what one recv() on the events socket returns; it goes
 * through mnl_cb_run() to pw_event_parse(), as a subscriber's does. The
 * module is trusted code, but a subscriber must not trust a message it
 * did not check: a bad one is refused, never read past its end.
 */
#include <errno.h>
#include <stdbool.h>

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/peerwatch.h>

#include "nlevent.h"
#include "fuzz.h"

static int on_msg(const struct nlmsghdr *nlh, void *data)
{
	char addr[INET6_ADDRSTRLEN + 2];
	unsigned int *events = data;
	struct pw_event ev;
	int err;

	err = pw_event_parse(nlh, &ev);
	if (err) {
		fuzz_assert(err == -ENOMSG || err == -EINVAL);
		return MNL_CB_OK;
	}
	(*events)++;
	fuzz_assert(ev.cmd == PEERWATCH_CMD_EVENT ||
		    ev.cmd == PEERWATCH_CMD_SOCK_GET);
	fuzz_assert(ev.family == AF_INET || ev.family == AF_INET6);
	fuzz_assert(ev.cookie);
	if (ev.cmd == PEERWATCH_CMD_EVENT)
		fuzz_assert(ev.event && ev.event <= PEERWATCH_EVENT_MAX);
	/* What a subscriber prints or logs for any event it accepted. */
	fuzz_assert(pw_event_name(ev.event));
	fuzz_assert(pw_reason_name(ev.reason));
	fuzz_assert(pw_timer_name(ev.timer));
	fuzz_assert(pw_tcp_state_name(ev.state));
	fuzz_assert(!pw_event_addr(&ev, true, addr, sizeof(addr)));
	fuzz_assert(!pw_event_addr(&ev, false, addr, sizeof(addr)));
	return MNL_CB_OK;
}

/*
 * Framing the kernel never sends and that libmnl trusts, reported and
 * left out here so that the fuzzer looks past them:
 * - an nlmsg_len of 2 GiB or more: libmnl 1.0.4 compares it as an int,
 *   so it passes mnl_nlmsg_ok() and mnl_cb_run() steps that far past the
 *   buffer (corpus/crashes/nlevent-nlmsg-len-sign);
 * - an nlmsg_len that is not a multiple of 4 on the last message:
 *   mnl_attr_for_each() runs to the aligned end, and pw_event_parse()
 *   reads an attribute up to 3 bytes past the buffer
 *   (corpus/crashes/nlevent-unaligned-len).
 */
static bool known_bad_framing(const uint8_t *data, size_t size)
{
	const struct nlmsghdr *nlh;
	size_t off = 0;

	while (size - off >= sizeof(*nlh)) {
		nlh = (const struct nlmsghdr *)(data + off);
		if (nlh->nlmsg_len > INT32_MAX)
			return true;
		if (nlh->nlmsg_len < sizeof(*nlh) ||
		    nlh->nlmsg_len > size - off)
			return false;
		if (MNL_ALIGN(nlh->nlmsg_len) > size - off)
			return true;
		off += MNL_ALIGN(nlh->nlmsg_len);
	}
	return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned int events = 0;

	/* -1: not worth keeping in the corpus either. */
	if (known_bad_framing(data, size))
		return -1;
	/* seq and portid 0: a multicast subscriber checks neither. */
	mnl_cb_run(data, size, 0, 0, on_msg, &events);
	return 0;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * Events: a socket's fate becomes one multicast message to the events group
 * of the socket's own netns. Called from the hooks: atomic context, the
 * socket locked by softirq or owner, so nothing here sleeps.
 *
 * At unload the family goes first, while the hooks still run, and its
 * group id is then free for another family to take, without the
 * CAP_NET_ADMIN check on joining it. So events stop before the family
 * goes: pw_event_stop() takes pw_event_lock for writing, which waits for
 * the senders in flight (they hold it for reading, with preemption off)
 * without sleeping, and clears pw_event_on, which later senders see.
 */
#include <linux/ktime.h>
#include <net/genetlink.h>
#include <linux/peerwatch.h>

#include "event.h"
#include "genl.h"
#include "pernet.h"
#include "sock.h"

static DEFINE_RWLOCK(pw_event_lock);
static bool pw_event_on = true;

bool pw_event_listening(const struct sock *sk)
{
	struct net *net = sock_net(sk);

	return READ_ONCE(pw_event_on) && check_net(net) &&
	       genl_has_listeners(&pw_genl_family, net, PW_MCGRP_EVENTS);
}

/* The DEAD counter of a reason other than UNSPEC. */
#define PW_DEAD_STAT(reason) \
	(PEERWATCH_STAT_A_DEAD_USER_TIMEOUT + \
	 ((reason) - PEERWATCH_REASON_USER_TIMEOUT))

static enum peerwatch_stat_attr pw_event_stat(enum peerwatch_event event,
					      enum peerwatch_reason reason)
{
	if (event == PEERWATCH_EVENT_SUSPECT)
		return PEERWATCH_STAT_A_SUSPECT;
	if (event == PEERWATCH_EVENT_RECOVERED)
		return PEERWATCH_STAT_A_RECOVERED;
	/* The DEAD counters follow the reasons, one for one and in order. */
	BUILD_BUG_ON(PW_DEAD_STAT(PEERWATCH_REASON_RETRIES) !=
		     PEERWATCH_STAT_A_DEAD_RETRIES);
	BUILD_BUG_ON(PW_DEAD_STAT(PEERWATCH_REASON_KEEPALIVE) !=
		     PEERWATCH_STAT_A_DEAD_KEEPALIVE);
	BUILD_BUG_ON(PW_DEAD_STAT(PEERWATCH_REASON_ZERO_WINDOW) !=
		     PEERWATCH_STAT_A_DEAD_ZERO_WINDOW);
	BUILD_BUG_ON(PW_DEAD_STAT(PEERWATCH_REASON_RESET) !=
		     PEERWATCH_STAT_A_DEAD_RESET);
	BUILD_BUG_ON(PW_DEAD_STAT(PEERWATCH_REASON_ABORT) !=
		     PEERWATCH_STAT_A_DEAD_ABORT);
	BUILD_BUG_ON(PEERWATCH_REASON_ABORT != PEERWATCH_REASON_MAX);
	return PW_DEAD_STAT(reason);
}

void pw_event_send(struct sock *sk, enum peerwatch_event event,
		   enum peerwatch_reason reason, int state)
{
	size_t size = nla_total_size(sizeof(u8)) * 2 +
		      nla_total_size(sizeof(u32)) +
		      nla_total_size_64bit(sizeof(u64)) +
		      pw_sock_desc_size();
	struct net *net = sock_net(sk);
	struct sk_buff *skb;
	void *hdr;
	int ret;

	skb = genlmsg_new(size, GFP_ATOMIC);
	if (!skb)
		goto nomem;

	hdr = genlmsg_put(skb, 0, 0, &pw_genl_family, 0, PEERWATCH_CMD_EVENT);
	if (!hdr)
		goto nla_put_failure;

	if (nla_put_u8(skb, PEERWATCH_A_EVENT, event) ||
	    nla_put_u64_64bit(skb, PEERWATCH_A_TIMESTAMP, ktime_get_ns(),
			      PEERWATCH_A_PAD) ||
	    pw_sock_fill_desc(skb, sk, state, false))
		goto nla_put_failure;
	if (reason &&
	    (nla_put_u8(skb, PEERWATCH_A_REASON, reason) ||
	     nla_put_u32(skb, PEERWATCH_A_SK_ERR, READ_ONCE(sk->sk_err))))
		goto nla_put_failure;
	genlmsg_end(skb, hdr);

	read_lock(&pw_event_lock);
	if (pw_event_on) {
		ret = genlmsg_multicast_netns(&pw_genl_family, net, skb, 0,
					      PW_MCGRP_EVENTS, GFP_ATOMIC);
	} else {
		nlmsg_free(skb);
		ret = -ESRCH;
	}
	read_unlock(&pw_event_lock);
	if (!ret)
		pw_stat_inc(net, pw_event_stat(event, reason));
	else if (ret != -ESRCH)
		pw_stat_inc(net, PEERWATCH_STAT_A_UNDELIVERED_OVERFLOW);
	return;

nla_put_failure:
	/* The size above covers every attribute: this is a bug. */
	WARN_ON_ONCE(1);
	nlmsg_free(skb);
nomem:
	pw_stat_inc(net, PEERWATCH_STAT_A_UNDELIVERED_NOMEM);
}

/* No event is in flight once this returns, and none is sent after. */
void pw_event_stop(void)
{
	write_lock_bh(&pw_event_lock);
	WRITE_ONCE(pw_event_on, false);
	write_unlock_bh(&pw_event_lock);
}

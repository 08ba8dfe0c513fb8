/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _PEERWATCH_POLICY_H
#define _PEERWATCH_POLICY_H

#include <net/genetlink.h>
#include <net/sock.h>

#include "pernet.h"

/* The rules of each netns: set up and freed with it. */
extern const struct pw_net_user pw_policy_net_user;

void pw_policy_apply(const struct sock *sk);

int pw_nl_policy_add(struct sk_buff *skb, struct genl_info *info);
int pw_nl_policy_del(struct sk_buff *skb, struct genl_info *info);
int pw_nl_policy_dump(struct sk_buff *skb, struct netlink_callback *cb);
int pw_nl_policy_flush(struct sk_buff *skb, struct genl_info *info);

#endif /* _PEERWATCH_POLICY_H */

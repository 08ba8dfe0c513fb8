/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _PEERWATCH_SOCK_H
#define _PEERWATCH_SOCK_H

#include <net/genetlink.h>
#include <net/sock.h>

u64 pw_sock_cookie(const struct sock *sk);
size_t pw_sock_desc_size(void);
int pw_sock_fill_desc(struct sk_buff *skb, struct sock *sk, int state,
		      bool timer);

int pw_nl_sock_get(struct sk_buff *skb, struct genl_info *info);
int pw_nl_sock_dump_start(struct netlink_callback *cb);
int pw_nl_sock_dump(struct sk_buff *skb, struct netlink_callback *cb);
int pw_nl_sock_set(struct sk_buff *skb, struct genl_info *info);

#endif /* _PEERWATCH_SOCK_H */

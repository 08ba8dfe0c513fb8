/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _PEERWATCH_STATS_H
#define _PEERWATCH_STATS_H

#include <net/genetlink.h>

int pw_nl_stats_get(struct sk_buff *skb, struct genl_info *info);

#endif /* _PEERWATCH_STATS_H */

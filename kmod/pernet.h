/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _PEERWATCH_PERNET_H
#define _PEERWATCH_PERNET_H

#include <linux/atomic.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/xarray.h>
#include <net/genetlink.h>
#include <net/net_namespace.h>
#include <linux/peerwatch.h>

struct pw_policy_index;

struct pw_net {
	struct mutex lock;		/* serialises policy changes */
	struct list_head policies;	/* struct pw_policy, RCU readers */
	struct pw_policy_index __rcu *policy_index; /* policy.c: what hooks read */
	struct xarray policy_ids;	/* id -> struct pw_policy, under lock */
	unsigned int n_policies;	/* READ_ONCE() in stats */
	u32 next_policy_id;		/* where the next id search starts */
	u64 policy_seq;			/* of the last rule added */
	atomic64_t stats[__PEERWATCH_STAT_A_MAX];
};

struct pw_net *pw_net(const struct net *net);

static inline void pw_stat_inc(const struct net *net,
			       enum peerwatch_stat_attr stat)
{
	atomic64_inc(&pw_net(net)->stats[stat]);
}

/* Objects the module allocated and not yet freed: must be 0 at unload. */
extern atomic_long_t pw_live_objects;

int pw_pernet_init(void);
void pw_pernet_exit(void);

#endif /* _PEERWATCH_PERNET_H */

/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _PEERWATCH_PERNET_H
#define _PEERWATCH_PERNET_H

#include <linux/atomic.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/xarray.h>
#include <net/genetlink.h>
#include <net/net_namespace.h>
#include <net/netns/generic.h>
#include <linux/peerwatch.h>

struct pw_policy_index;
struct pw_track_table;

/*
 * One per netns, allocated and freed by pernet.c; each part is set up and
 * taken down by its user (struct pw_net_user): the rules by policy.c, the
 * episode table by track.c. The counters are pernet.c's own.
 */
struct pw_net {
	struct mutex lock;		/* serialises policy changes */
	struct list_head policies;	/* struct pw_policy, RCU readers */
	struct pw_policy_index __rcu *policy_index; /* policy.c: what hooks read */
	struct xarray policy_ids;	/* id -> struct pw_policy, under lock */
	unsigned int n_policies;	/* READ_ONCE() in stats */
	u32 next_policy_id;		/* where the next id search starts */
	u64 policy_seq;			/* of the last rule added */
	struct pw_track_table __rcu *track;	/* NULL once the netns goes */
	struct pw_track_table *track_gone;	/* from pre_exit to exit */
	atomic64_t stats[__PEERWATCH_STAT_A_MAX];
};

/*
 * A part of the per-netns state. init runs when a netns appears (or for
 * every netns at load), in the order of the users given to
 * pw_pernet_init(); pre_exit (optional) when it starts to go, and exit, in
 * the reverse order, once an RCU grace period has passed since every
 * pre_exit: a reader that found something through pre_exit's netns is
 * gone. A failed init unwinds the parts set up with pre_exit and exit.
 */
struct pw_net_user {
	int (*init)(struct net *net, struct pw_net *pn);
	void (*pre_exit)(struct pw_net *pn);
	void (*exit)(struct pw_net *pn);
};

extern unsigned int pw_net_id;

static inline struct pw_net *pw_net(const struct net *net)
{
	return net_generic(net, pw_net_id);
}

static inline void pw_stat_inc(const struct net *net,
			       enum peerwatch_stat_attr stat)
{
	atomic64_inc(&pw_net(net)->stats[stat]);
}

/* Objects the module allocated and not yet freed: must be 0 at unload. */
extern atomic_long_t pw_live_objects;

int pw_pernet_init(const struct pw_net_user *const *users, unsigned int n);
void pw_pernet_exit(void);

#endif /* _PEERWATCH_PERNET_H */

// SPDX-License-Identifier: GPL-2.0
/*
 * Sockets in a SUSPECT episode. The kernel has no spare per-socket field,
 * so a small RCU hash keyed by the socket's address remembers them from the
 * first retransmission timeout until the peer acknowledges again or the
 * socket closes. Entries hold no reference: the state hook removes them
 * when the socket reaches TCP_CLOSE, which every TCP socket does before it
 * is freed. The cookie guards against a stale entry meeting a new socket at
 * the same address.
 *
 * Each netns has a table of its own, with its own lock and its own bound,
 * so that the root of one user and network namespace (anyone, on most
 * distributions) who fills its table with blackholed sockets under a
 * user timeout of weeks takes nobody else's place, and another netns's
 * segments and closes never walk its chains nor wait for its lock. The
 * bounds: netns_max_tracked in each netns but the initial one, max_tracked
 * in all of those together, and max_tracked in the initial netns (the
 * host's own, which no tenant can starve). The memory is charged to the
 * tenant: the table to whoever made the netns, an entry to the socket's
 * memory cgroup.
 *
 * A close looks its socket up without the lock, and takes the lock only to
 * delete an entry it found. A miss is final: for one socket, the hooks
 * that add and delete its entry run under its socket lock, one at a time.
 *
 * The table goes with its netns: pre_exit unpublishes it, and exit, after
 * the RCU grace period the netns core waits for between the two, frees it
 * with whatever entries kernel sockets of the netns left (user sockets hold
 * the netns, so theirs are gone). Hooks of sockets closed later in the
 * netns's teardown find no table.
 */
#include <linux/hash.h>
#include <linux/memcontrol.h>
#include <linux/moduleparam.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>

#include "pernet.h"
#include "track.h"

struct pw_track {
	struct hlist_node node;
	struct rcu_head rcu;
	const struct sock *sk;
	u64 cookie;
};

struct pw_track_table {
	spinlock_t lock;		/* taken by writers only */
	atomic_t count;			/* entries; read without the lock */
	bool host;			/* of the initial netns */
	unsigned int bits;
	struct hlist_head buckets[];
};

static unsigned int max_tracked = 65536;
module_param(max_tracked, uint, 0644);
MODULE_PARM_DESC(max_tracked,
		 "Most sockets in a SUSPECT episode at once in the initial netns, and in all the others together");

static unsigned int netns_max_tracked = 4096;
module_param(netns_max_tracked, uint, 0644);
MODULE_PARM_DESC(netns_max_tracked,
		 "Most sockets in a SUSPECT episode at once in one netns other than the initial one");

/*
 * Buckets: the initial netns's as many as the one host-wide table had; a
 * tenant's 256 (2 KiB), a chain of 16 at the default bound, its own.
 */
#define PW_TRACK_BITS_HOST	12
#define PW_TRACK_BITS_NETNS	8

atomic_t pw_track_count = ATOMIC_INIT(0);
/* Entries of every netns but the initial one. */
static atomic_t pw_track_tenants = ATOMIC_INIT(0);

static struct kmem_cache *pw_track_cache __ro_after_init;

static struct hlist_head *pw_track_bucket(struct pw_track_table *tt,
					  const struct sock *sk)
{
	return &tt->buckets[hash_ptr(sk, tt->bits)];
}

static struct pw_track *pw_track_lookup(struct pw_track_table *tt,
					const struct sock *sk)
{
	struct pw_track *t;

	hlist_for_each_entry_rcu(t, pw_track_bucket(tt, sk), node,
				 lockdep_is_held(&tt->lock))
		if (t->sk == sk)
			return t;
	return NULL;
}

/* The table of @sk's netns, under rcu_read_lock(); NULL once it goes. */
static struct pw_track_table *pw_track_table(const struct sock *sk)
{
	return rcu_dereference(pw_net(sock_net(sk))->track);
}

static void pw_track_free(struct pw_track *t)
{
	kmem_cache_free(pw_track_cache, t);
	atomic_long_dec(&pw_live_objects);
}

static void pw_track_free_rcu(struct rcu_head *head)
{
	pw_track_free(container_of(head, struct pw_track, rcu));
}

/* Count one more entry in @tt: -ENOSPC past a bound. */
static int pw_track_charge(struct pw_track_table *tt)
{
	unsigned int bound = READ_ONCE(max_tracked);

	lockdep_assert_held(&tt->lock);
	if (atomic_read(&tt->count) >=
	    (tt->host ? bound : READ_ONCE(netns_max_tracked)))
		return -ENOSPC;
	if (!tt->host && atomic_inc_return(&pw_track_tenants) > bound) {
		atomic_dec(&pw_track_tenants);
		return -ENOSPC;
	}
	atomic_inc(&tt->count);
	atomic_inc(&pw_track_count);
	return 0;
}

static void pw_track_uncharge(struct pw_track_table *tt)
{
	atomic_dec(&tt->count);
	atomic_dec(&pw_track_count);
	if (!tt->host)
		atomic_dec(&pw_track_tenants);
}

static struct pw_track *pw_track_alloc(const struct sock *sk, u64 cookie)
{
	struct mem_cgroup *old;
	struct pw_track *t;

	/* In softirq, the socket's cgroup pays; nobody would otherwise. */
	old = set_active_memcg(sk->sk_memcg);
	t = kmem_cache_alloc(pw_track_cache, GFP_ATOMIC);
	set_active_memcg(old);
	if (!t)
		return NULL;
	atomic_long_inc(&pw_live_objects);
	t->sk = sk;
	t->cookie = cookie;
	return t;
}

/*
 * Start an episode for @sk: 1 if it started, 0 if one is already running,
 * -ENOSPC, -ENOMEM or -ENOENT (netns going) if it cannot be tracked.
 */
int pw_track_add(const struct sock *sk, u64 cookie)
{
	struct pw_track_table *tt;
	struct pw_track *t, *old;
	unsigned long flags;
	int ret;

	rcu_read_lock();
	tt = pw_track_table(sk);
	if (!tt) {
		ret = -ENOENT;
		goto out;
	}
	t = pw_track_lookup(tt, sk);
	if (t && t->cookie == cookie) {
		ret = 0;
		goto out;
	}
	t = pw_track_alloc(sk, cookie);
	if (!t) {
		ret = -ENOMEM;
		goto out;
	}

	spin_lock_irqsave(&tt->lock, flags);
	old = pw_track_lookup(tt, sk);
	if (old && old->cookie == cookie)
		ret = 0;
	else if (old)
		ret = 1;	/* replaces one left by an earlier socket */
	else
		ret = pw_track_charge(tt) ?: 1;
	if (ret == 1) {
		if (old)
			hlist_del_rcu(&old->node);
		hlist_add_head_rcu(&t->node, pw_track_bucket(tt, sk));
	}
	spin_unlock_irqrestore(&tt->lock, flags);

	if (ret != 1)
		pw_track_free(t);	/* never published */
	else if (old)
		call_rcu(&old->rcu, pw_track_free_rcu);
out:
	rcu_read_unlock();
	return ret;
}

/* End the episode of @sk, if any; true if there was one. */
bool pw_track_del(const struct sock *sk)
{
	struct pw_track_table *tt;
	struct pw_track *t = NULL;
	unsigned long flags;

	rcu_read_lock();
	tt = pw_track_table(sk);
	/* Most sockets that close were never tracked: no lock for them. */
	if (!tt || !atomic_read(&tt->count) || !pw_track_lookup(tt, sk))
		goto out;

	spin_lock_irqsave(&tt->lock, flags);
	t = pw_track_lookup(tt, sk);
	if (t) {
		hlist_del_rcu(&t->node);
		pw_track_uncharge(tt);
	}
	spin_unlock_irqrestore(&tt->lock, flags);

	if (t)
		call_rcu(&t->rcu, pw_track_free_rcu);
out:
	rcu_read_unlock();
	return t;
}

bool pw_track_find(const struct sock *sk)
{
	struct pw_track_table *tt;
	bool found;

	rcu_read_lock();
	tt = pw_track_table(sk);
	found = tt && atomic_read(&tt->count) && pw_track_lookup(tt, sk);
	rcu_read_unlock();
	return found;
}

/* Sockets in an episode in @net, for STATS_GET. */
unsigned int pw_track_net_count(const struct net *net)
{
	struct pw_track_table *tt;
	unsigned int n;

	rcu_read_lock();
	tt = rcu_dereference(pw_net(net)->track);
	n = tt ? atomic_read(&tt->count) : 0;
	rcu_read_unlock();
	return n;
}

static int pw_track_net_init(struct net *net, struct pw_net *pn)
{
	bool host = net_eq(net, &init_net);
	unsigned int bits = host ? PW_TRACK_BITS_HOST : PW_TRACK_BITS_NETNS;
	struct pw_track_table *tt;

	/* Charged to the task that makes the netns: the tenant. */
	tt = kvzalloc(struct_size(tt, buckets, 1U << bits), GFP_KERNEL_ACCOUNT);
	if (!tt)
		return -ENOMEM;
	spin_lock_init(&tt->lock);
	tt->host = host;
	tt->bits = bits;
	rcu_assign_pointer(pn->track, tt);
	return 0;
}

/* Readers find it no more; exit frees it after an RCU grace period. */
static void pw_track_net_pre_exit(struct pw_net *pn)
{
	pn->track_gone = rcu_replace_pointer(pn->track, NULL, true);
}

static void pw_track_net_exit(struct pw_net *pn)
{
	struct pw_track_table *tt = pn->track_gone;
	struct hlist_node *tmp;
	struct pw_track *t;
	unsigned int i;

	pn->track_gone = NULL;
	for (i = 0; i < (1U << tt->bits); i++) {
		hlist_for_each_entry_safe(t, tmp, &tt->buckets[i], node) {
			hlist_del(&t->node);
			pw_track_uncharge(tt);
			pw_track_free(t);
		}
	}
	kvfree(tt);
}

const struct pw_net_user pw_track_net_user = {
	.init	  = pw_track_net_init,
	.pre_exit = pw_track_net_pre_exit,
	.exit	  = pw_track_net_exit,
};

int __init pw_track_init(void)
{
	pw_track_cache = kmem_cache_create("peerwatch_track",
					   sizeof(struct pw_track), 0,
					   SLAB_ACCOUNT, NULL);
	return pw_track_cache ? 0 : -ENOMEM;
}

/* Once every table is gone and every RCU callback has run. */
void pw_track_exit(void)
{
	kmem_cache_destroy(pw_track_cache);
}

// SPDX-License-Identifier: GPL-2.0
/*
 * Sockets in a SUSPECT episode. The kernel has no spare per-socket field,
 * so a small RCU hash keyed by the socket's address remembers them from the
 * first retransmission timeout until the peer acknowledges again or the
 * socket closes. Entries hold no reference: the state hook removes them
 * when the socket reaches TCP_CLOSE, which every TCP socket does before it
 * is freed. The cookie guards against a stale entry meeting a new socket at
 * the same address. The table is bounded by the max_tracked parameter.
 */
#include <linux/hashtable.h>
#include <linux/moduleparam.h>
#include <linux/slab.h>
#include <linux/sock_diag.h>

#include "pernet.h"
#include "track.h"

struct pw_track {
	struct hlist_node node;
	struct rcu_head rcu;
	const struct sock *sk;
	u64 cookie;
};

static unsigned int max_tracked = 65536;
module_param(max_tracked, uint, 0644);
MODULE_PARM_DESC(max_tracked, "Most sockets in a SUSPECT episode at once");

#define PW_TRACK_BITS 12
static DEFINE_HASHTABLE(pw_track_table, PW_TRACK_BITS);
static DEFINE_SPINLOCK(pw_track_lock);
atomic_t pw_track_count = ATOMIC_INIT(0);

static struct pw_track *pw_track_lookup(const struct sock *sk)
{
	struct pw_track *t;

	hash_for_each_possible_rcu(pw_track_table, t, node, (unsigned long)sk,
				   lockdep_is_held(&pw_track_lock))
		if (t->sk == sk)
			return t;
	return NULL;
}

static void pw_track_free_rcu(struct rcu_head *head)
{
	kfree(container_of(head, struct pw_track, rcu));
	atomic_long_dec(&pw_live_objects);
}

/*
 * Start an episode for @sk: 1 if it started, 0 if one is already running,
 * -ENOSPC or -ENOMEM if it cannot be tracked.
 */
int pw_track_add(const struct sock *sk, u64 cookie)
{
	struct pw_track *t, *old;
	unsigned long flags;

	rcu_read_lock();
	t = pw_track_lookup(sk);
	if (t && t->cookie == cookie) {
		rcu_read_unlock();
		return 0;
	}
	rcu_read_unlock();

	if (atomic_read(&pw_track_count) >= READ_ONCE(max_tracked))
		return -ENOSPC;
	t = kmalloc(sizeof(*t), GFP_ATOMIC);
	if (!t)
		return -ENOMEM;
	atomic_long_inc(&pw_live_objects);
	t->sk = sk;
	t->cookie = cookie;

	spin_lock_irqsave(&pw_track_lock, flags);
	old = pw_track_lookup(sk);
	if (old && old->cookie == cookie) {
		spin_unlock_irqrestore(&pw_track_lock, flags);
		kfree(t);
		atomic_long_dec(&pw_live_objects);
		return 0;
	}
	if (old)
		hash_del_rcu(&old->node);	/* left by an earlier socket */
	else
		atomic_inc(&pw_track_count);
	hash_add_rcu(pw_track_table, &t->node, (unsigned long)sk);
	spin_unlock_irqrestore(&pw_track_lock, flags);

	if (old)
		call_rcu(&old->rcu, pw_track_free_rcu);
	return 1;
}

/* End the episode of @sk, if any; true if there was one. */
bool pw_track_del(const struct sock *sk)
{
	struct pw_track *t;
	unsigned long flags;

	spin_lock_irqsave(&pw_track_lock, flags);
	t = pw_track_lookup(sk);
	if (t) {
		hash_del_rcu(&t->node);
		atomic_dec(&pw_track_count);
	}
	spin_unlock_irqrestore(&pw_track_lock, flags);

	if (t)
		call_rcu(&t->rcu, pw_track_free_rcu);
	return t;
}

bool pw_track_find(const struct sock *sk)
{
	bool found;

	rcu_read_lock();
	found = pw_track_lookup(sk);
	rcu_read_unlock();
	return found;
}

/* Called once no hook can run any more. */
void pw_track_exit(void)
{
	struct hlist_node *tmp;
	struct pw_track *t;
	unsigned int bkt;

	hash_for_each_safe(pw_track_table, bkt, tmp, t, node) {
		hash_del(&t->node);
		atomic_dec(&pw_track_count);
		kfree(t);
		atomic_long_dec(&pw_live_objects);
	}
}

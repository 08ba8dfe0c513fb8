// SPDX-License-Identifier: GPL-2.0
/*
 * Policy rules: give a TCP_USER_TIMEOUT to the sockets of a netns that
 * become ESTABLISHED without one, by remote prefix and port range.
 *
 * The rules are a list in the order they were added, which is the order
 * they are tried in: the first that matches wins. The state hook does not
 * walk it (every connection would pay for every rule) but asks an index,
 * under RCU, for the same first match (see below). Their ids come
 * from an xarray, cyclically from 1 to U32_MAX: an id is never 0 and never
 * that of a live rule, even after 2^32 additions. A dump resumes after the
 * sequence number of the last rule it sent, which only grows, so it sends
 * the rules in list order, each once, whatever their ids.
 */
#include <linux/delay.h>
#include <linux/inetdevice.h>
#include <linux/jhash.h>
#include <linux/log2.h>
#include <linux/moduleparam.h>
#include <linux/random.h>
#include <linux/slab.h>
#include <linux/stringify.h>
#include <net/genetlink.h>
#include <net/inet_connection_sock.h>
#include <net/ipv6.h>
#include <linux/peerwatch.h>

#include "genl.h"
#include "pernet.h"
#include "policy.h"

struct pw_policy {
	struct list_head list;
	struct rcu_head rcu;
	u32 id;
	u16 family;
	u8 prefix_len;
	u16 dport_min;
	u16 dport_max;
	u32 user_timeout;
	union {
		__be32 v4;
		struct in6_addr v6;
	} daddr;			/* masked to prefix_len */
	u64 seq;			/* order of addition, for dumps */
	atomic64_t hits;
};

static unsigned int policy_id_next;
module_param(policy_id_next, uint, 0600);
MODULE_PARM_DESC(policy_id_next,
		 "For tests of the id wrap: the id search of the next rule added starts here (0: where it left off)");

static unsigned int policy_delay_ms;
module_param(policy_delay_ms, uint, 0600);
MODULE_PARM_DESC(policy_delay_ms,
		 "For tests of the race with setsockopt: wait this long (at most 1000 ms) between a rule's match and its write");

/* The peer of a socket as the rules see it. */
struct pw_peer {
	u16 family;
	u16 port;
	union {
		__be32 v4;
		struct in6_addr v6;
	} addr;
};

static void pw_peer_of(const struct sock *sk, struct pw_peer *peer)
{
	peer->family = sk->sk_family;
	peer->port = ntohs(inet_sk(sk)->inet_dport);
	peer->addr.v4 = sk->sk_daddr;
#if IS_ENABLED(CONFIG_IPV6)
	if (peer->family != AF_INET6)
		return;
	/* An IPv4 peer reached through an IPv6 socket is an IPv4 peer. */
	if (ipv6_addr_v4mapped(&sk->sk_v6_daddr)) {
		peer->family = AF_INET;
		peer->addr.v4 = sk->sk_v6_daddr.s6_addr32[3];
	} else {
		peer->addr.v6 = sk->sk_v6_daddr;
	}
#endif
}

static bool pw_policy_match(const struct pw_policy *p,
			    const struct pw_peer *peer)
{
	if (p->family != peer->family || peer->port < p->dport_min ||
	    peer->port > p->dport_max)
		return false;
	if (p->family == AF_INET)
		return !((peer->addr.v4 ^ p->daddr.v4) &
			 inet_make_mask(p->prefix_len));
	return ipv6_prefix_equal(&peer->addr.v6, &p->daddr.v6, p->prefix_len);
}

/*
 * The index. The common rule names one host (a full-length prefix) and one
 * port or every port: a rule per engine. Those rules are in a hash keyed
 * by family, address and port, where a peer finds its two candidates (its
 * port, every port) in two probes; of several rules with one key only the
 * first is kept, since a later one can never be the first match. The
 * others (prefixes, port ranges) are in an array in the order they are
 * tried, walked after the probes and only as long as its rules come before
 * the hash's candidate. A rule's seq is its rank in the order, so the
 * result is the first match of the list, as if it were walked whole.
 *
 * An index is immutable: every change builds a new one under pn->lock and
 * replaces the old under RCU. It is allocated before anything changes, so
 * that a change that cannot have its index fails whole. No rule, no index.
 */
struct pw_policy_index {
	struct rcu_head rcu;
	u32 seed;
	unsigned int mask;		/* slots - 1, slots a power of 2 */
	unsigned int n_other;
	const struct pw_policy **slots;	/* the hashed rules; NULL: free */
	const struct pw_policy *other[];	/* the others, in order */
};

/*
 * The key port of a rule: PW_KEY_PORT | N for port N alone, PW_KEY_PORT
 * for every port, 0 for a rule that is not hashed.
 */
#define PW_KEY_PORT	0x10000U

static u32 pw_policy_key_port(const struct pw_policy *p)
{
	if (p->prefix_len != (p->family == AF_INET ? 32 : 128))
		return 0;
	if (p->dport_min == p->dport_max)
		return PW_KEY_PORT | p->dport_min;
	if (p->dport_min == 0 && p->dport_max == U16_MAX)
		return PW_KEY_PORT;
	return 0;
}

static u32 pw_policy_hash(const struct pw_policy_index *idx, u16 family,
			  const void *addr, u32 key_port)
{
	if (family == AF_INET)
		return jhash_2words((__force u32)*(const __be32 *)addr,
				    key_port, idx->seed);
	return jhash2((__force const u32 *)((const struct in6_addr *)addr)->s6_addr32,
		      4, idx->seed ^ key_port);
}

static bool pw_policy_key_equal(const struct pw_policy *p, u16 family,
				const void *addr, u32 key_port)
{
	if (p->family != family || pw_policy_key_port(p) != key_port)
		return false;
	if (family == AF_INET)
		return p->daddr.v4 == *(const __be32 *)addr;
	return ipv6_addr_equal(&p->daddr.v6, addr);
}

/* The slot of the rule with this key, or the free slot where it goes. */
static const struct pw_policy **
pw_policy_slot(const struct pw_policy_index *idx, u16 family,
	       const void *addr, u32 key_port)
{
	unsigned int i = pw_policy_hash(idx, family, addr, key_port);
	const struct pw_policy *p;

	/* At most half full: a free slot ends every probe. */
	for (;; i++) {
		p = idx->slots[i & idx->mask];
		if (!p || pw_policy_key_equal(p, family, addr, key_port))
			return &idx->slots[i & idx->mask];
	}
}

static const struct pw_policy *
pw_policy_find(const struct pw_policy_index *idx, const struct pw_peer *peer)
{
	const struct pw_policy *best, *p;
	unsigned int i;

	best = *pw_policy_slot(idx, peer->family, &peer->addr,
			       PW_KEY_PORT | peer->port);
	p = *pw_policy_slot(idx, peer->family, &peer->addr, PW_KEY_PORT);
	if (p && (!best || p->seq < best->seq))
		best = p;
	for (i = 0; i < idx->n_other; i++) {
		p = idx->other[i];
		if (best && p->seq > best->seq)
			break;
		if (pw_policy_match(p, peer))
			return p;
	}
	return best;
}

static void pw_policy_index_free_rcu(struct rcu_head *head)
{
	kfree(container_of(head, struct pw_policy_index, rcu));
	atomic_long_dec(&pw_live_objects);
}

/* An empty index with room for @n rules, or NULL for none. */
static int pw_policy_index_new(unsigned int n, struct pw_policy_index **idxp)
{
	unsigned int slots = roundup_pow_of_two(2 * n);
	struct pw_policy_index *idx;

	*idxp = NULL;
	if (!n)
		return 0;
	idx = kzalloc(struct_size(idx, other, n) + slots * sizeof(*idx->slots),
		      GFP_KERNEL_ACCOUNT);
	if (!idx)
		return -ENOMEM;
	atomic_long_inc(&pw_live_objects);
	idx->seed = get_random_u32();
	idx->mask = slots - 1;
	idx->slots = (const struct pw_policy **)&idx->other[n];
	*idxp = idx;
	return 0;
}

/* An index that was never published. */
static void pw_policy_index_free(struct pw_policy_index *idx)
{
	if (!idx)
		return;
	kfree(idx);
	atomic_long_dec(&pw_live_objects);
}

/* Fill @idx with the rules of @pn but @skip, the rule being deleted. */
static void pw_policy_index_fill(struct pw_policy_index *idx,
				 struct pw_net *pn,
				 const struct pw_policy *skip)
{
	const struct pw_policy **slot;
	const struct pw_policy *p;
	u32 key_port;

	list_for_each_entry(p, &pn->policies, list) {
		if (p == skip)
			continue;
		key_port = pw_policy_key_port(p);
		if (!key_port) {
			idx->other[idx->n_other++] = p;
			continue;
		}
		slot = pw_policy_slot(idx, p->family, &p->daddr, key_port);
		if (!*slot)
			*slot = p;
	}
}

/*
 * Put @idx (filled, or NULL when no rule is left) in place of the old
 * index, which goes after a grace period: a reader that still holds it
 * still finds rules in it, freed after the same grace period or later.
 */
static void pw_policy_index_publish(struct pw_net *pn,
				    struct pw_policy_index *idx)
{
	struct pw_policy_index *old;

	old = rcu_replace_pointer(pn->policy_index, idx,
				  lockdep_is_held(&pn->lock));
	if (old)
		call_rcu(&old->rcu, pw_policy_index_free_rcu);
}

/*
 * Called from the state change hook when @sk becomes ESTABLISHED, with the
 * socket locked by its softirq or owner (never sleeping). Only a zero is
 * replaced: since 6.6, setsockopt(TCP_USER_TIMEOUT) takes no socket lock,
 * so the program's own value (set right after a non-blocking connect, say)
 * can land between the first read and the write, and must win. The
 * compare-and-exchange pairs with setsockopt's WRITE_ONCE.
 */
void pw_policy_apply(const struct sock *sk)
{
	struct inet_connection_sock *icsk = inet_csk((struct sock *)sk);
	const struct pw_policy_index *idx;
	struct net *net = sock_net(sk);
	const struct pw_policy *p;
	struct pw_peer peer;
	unsigned int delay;

	if (READ_ONCE(icsk->icsk_user_timeout) || !check_net(net))
		return;

	rcu_read_lock();
	idx = rcu_dereference(pw_net(net)->policy_index);
	if (!idx)
		goto out;
	pw_peer_of(sk, &peer);
	p = pw_policy_find(idx, &peer);
	if (!p)
		goto out;
	delay = READ_ONCE(policy_delay_ms);
	if (delay)
		mdelay(min(delay, 1000U));
	if (cmpxchg(&icsk->icsk_user_timeout, 0, p->user_timeout))
		goto out;
	atomic64_inc((atomic64_t *)&p->hits);
	pw_stat_inc(net, PEERWATCH_STAT_A_POLICY_HITS);
out:
	rcu_read_unlock();
}

static void pw_policy_free_rcu(struct rcu_head *head)
{
	kfree(container_of(head, struct pw_policy, rcu));
	atomic_long_dec(&pw_live_objects);
}

static void pw_policy_del_locked(struct pw_net *pn, struct pw_policy *p)
{
	lockdep_assert_held(&pn->lock);
	xa_erase(&pn->policy_ids, p->id);
	list_del_rcu(&p->list);
	WRITE_ONCE(pn->n_policies, pn->n_policies - 1);
	call_rcu(&p->rcu, pw_policy_free_rcu);
}

static void pw_policy_flush(struct pw_net *pn)
{
	struct pw_policy *p, *tmp;

	mutex_lock(&pn->lock);
	pw_policy_index_publish(pn, NULL);
	list_for_each_entry_safe(p, tmp, &pn->policies, list)
		pw_policy_del_locked(pn, p);
	mutex_unlock(&pn->lock);
}

static int pw_policy_net_init(struct net *net, struct pw_net *pn)
{
	mutex_init(&pn->lock);
	INIT_LIST_HEAD(&pn->policies);
	xa_init_flags(&pn->policy_ids, XA_FLAGS_ALLOC1);
	pn->next_policy_id = 1;
	return 0;
}

static void pw_policy_net_exit(struct pw_net *pn)
{
	pw_policy_flush(pn);
	xa_destroy(&pn->policy_ids);
}

const struct pw_net_user pw_policy_net_user = {
	.init = pw_policy_net_init,
	.exit = pw_policy_net_exit,
};

/* A reply carries the command it answers: POLICY_ADD or POLICY_DUMP. */
static int pw_policy_fill(struct sk_buff *skb, const struct pw_policy *p,
			  u32 portid, u32 seq, int flags, u8 cmd)
{
	void *hdr;

	hdr = genlmsg_put(skb, portid, seq, &pw_genl_family, flags, cmd);
	if (!hdr)
		return -EMSGSIZE;

	if (nla_put_u32(skb, PEERWATCH_A_POLICY_ID, p->id) ||
	    nla_put_u16(skb, PEERWATCH_A_FAMILY, p->family) ||
	    nla_put_u8(skb, PEERWATCH_A_PREFIX_LEN, p->prefix_len) ||
	    nla_put_u16(skb, PEERWATCH_A_DPORT_MIN, p->dport_min) ||
	    nla_put_u16(skb, PEERWATCH_A_DPORT_MAX, p->dport_max) ||
	    nla_put_u32(skb, PEERWATCH_A_USER_TIMEOUT, p->user_timeout) ||
	    nla_put_u64_64bit(skb, PEERWATCH_A_HITS,
			      atomic64_read(&p->hits), PEERWATCH_A_PAD))
		goto nla_put_failure;
	if (p->family == AF_INET &&
	    nla_put_in_addr(skb, PEERWATCH_A_DADDR4, p->daddr.v4))
		goto nla_put_failure;
	if (p->family == AF_INET6 &&
	    nla_put_in6_addr(skb, PEERWATCH_A_DADDR6, &p->daddr.v6))
		goto nla_put_failure;

	genlmsg_end(skb, hdr);
	return 0;

nla_put_failure:
	genlmsg_cancel(skb, hdr);
	return -EMSGSIZE;
}

static int pw_policy_parse(struct genl_info *info, struct pw_policy *p)
{
	struct netlink_ext_ack *extack = info->extack;
	struct nlattr **attrs = info->attrs;
	unsigned int max_prefix;
	struct nlattr *addr;

	if (GENL_REQ_ATTR_CHECK(info, PEERWATCH_A_FAMILY) ||
	    GENL_REQ_ATTR_CHECK(info, PEERWATCH_A_USER_TIMEOUT))
		return -EINVAL;

	p->family = nla_get_u16(attrs[PEERWATCH_A_FAMILY]);
	p->user_timeout = nla_get_u32(attrs[PEERWATCH_A_USER_TIMEOUT]);
	switch (p->family) {
	case AF_INET:
		addr = attrs[PEERWATCH_A_DADDR4];
		max_prefix = 32;
		if (attrs[PEERWATCH_A_DADDR6]) {
			NL_SET_ERR_MSG_ATTR(extack, attrs[PEERWATCH_A_DADDR6],
					    "IPv6 address in an AF_INET rule");
			return -EINVAL;
		}
		break;
	case AF_INET6:
		addr = attrs[PEERWATCH_A_DADDR6];
		max_prefix = 128;
		if (attrs[PEERWATCH_A_DADDR4]) {
			NL_SET_ERR_MSG_ATTR(extack, attrs[PEERWATCH_A_DADDR4],
					    "IPv4 address in an AF_INET6 rule");
			return -EINVAL;
		}
		break;
	default:
		NL_SET_ERR_MSG_ATTR(extack, attrs[PEERWATCH_A_FAMILY],
				    "family must be AF_INET or AF_INET6");
		return -EINVAL;
	}

	p->prefix_len = addr ? max_prefix : 0;
	if (attrs[PEERWATCH_A_PREFIX_LEN]) {
		if (!addr) {
			NL_SET_ERR_MSG_ATTR(extack, attrs[PEERWATCH_A_PREFIX_LEN],
					    "prefix length without an address");
			return -EINVAL;
		}
		p->prefix_len = nla_get_u8(attrs[PEERWATCH_A_PREFIX_LEN]);
		if (p->prefix_len > max_prefix) {
			NL_SET_ERR_MSG_ATTR(extack, attrs[PEERWATCH_A_PREFIX_LEN],
					    "prefix length too long for the family");
			return -EINVAL;
		}
	}
	if (p->family == AF_INET && addr)
		p->daddr.v4 = nla_get_in_addr(addr) &
			      inet_make_mask(p->prefix_len);
	else if (addr)
		ipv6_addr_prefix(&p->daddr.v6, nla_data(addr), p->prefix_len);

	p->dport_min = attrs[PEERWATCH_A_DPORT_MIN] ?
		       nla_get_u16(attrs[PEERWATCH_A_DPORT_MIN]) : 0;
	p->dport_max = attrs[PEERWATCH_A_DPORT_MAX] ?
		       nla_get_u16(attrs[PEERWATCH_A_DPORT_MAX]) : U16_MAX;
	if (p->dport_min > p->dport_max) {
		NL_SET_ERR_MSG(extack, "port range is empty (min > max)");
		return -EINVAL;
	}
	return 0;
}

int pw_nl_policy_add(struct sk_buff *skb, struct genl_info *info)
{
	struct pw_net *pn = pw_net(genl_info_net(info));
	struct pw_policy_index *idx = NULL;
	struct sk_buff *reply;
	struct pw_policy *p;
	u32 next;
	int ret;

	p = kzalloc(sizeof(*p), GFP_KERNEL_ACCOUNT);
	if (!p)
		return -ENOMEM;
	atomic_long_inc(&pw_live_objects);

	ret = pw_policy_parse(info, p);
	if (ret)
		goto err_free;

	reply = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!reply) {
		ret = -ENOMEM;
		goto err_free;
	}

	mutex_lock(&pn->lock);
	if (pn->n_policies >= PEERWATCH_POLICY_MAX) {
		NL_SET_ERR_MSG(info->extack,
			       "too many policy rules in this netns (limit "
			       __stringify(PEERWATCH_POLICY_MAX) ")");
		ret = -ENOSPC;
		goto err_unlock;
	}
	ret = pw_policy_index_new(pn->n_policies + 1, &idx);
	if (ret)
		goto err_unlock;
	next = xchg(&policy_id_next, 0);
	if (next)
		pn->next_policy_id = next;
	ret = xa_alloc_cyclic(&pn->policy_ids, &p->id, p, XA_LIMIT(1, U32_MAX),
			      &pn->next_policy_id, GFP_KERNEL_ACCOUNT);
	if (ret < 0)
		goto err_unlock;
	ret = pw_policy_fill(reply, p, info->snd_portid, info->snd_seq, 0,
			     PEERWATCH_CMD_POLICY_ADD);
	if (ret) {
		xa_erase(&pn->policy_ids, p->id);
		goto err_unlock;
	}
	p->seq = ++pn->policy_seq;
	list_add_tail_rcu(&p->list, &pn->policies);
	WRITE_ONCE(pn->n_policies, pn->n_policies + 1);
	pw_policy_index_fill(idx, pn, NULL);
	pw_policy_index_publish(pn, idx);
	mutex_unlock(&pn->lock);

	return genlmsg_reply(reply, info);

err_unlock:
	mutex_unlock(&pn->lock);
	pw_policy_index_free(idx);
	nlmsg_free(reply);
err_free:
	kfree(p);
	atomic_long_dec(&pw_live_objects);
	return ret;
}

int pw_nl_policy_del(struct sk_buff *skb, struct genl_info *info)
{
	struct pw_net *pn = pw_net(genl_info_net(info));
	struct pw_policy_index *idx;
	struct pw_policy *p;
	int ret;
	u32 id;

	if (GENL_REQ_ATTR_CHECK(info, PEERWATCH_A_POLICY_ID))
		return -EINVAL;
	id = nla_get_u32(info->attrs[PEERWATCH_A_POLICY_ID]);

	mutex_lock(&pn->lock);
	p = xa_load(&pn->policy_ids, id);
	if (!p) {
		NL_SET_ERR_MSG_ATTR(info->extack,
				    info->attrs[PEERWATCH_A_POLICY_ID],
				    "no policy rule with this id");
		ret = -ENOENT;
		goto out;
	}
	ret = pw_policy_index_new(pn->n_policies - 1, &idx);
	if (ret)
		goto out;
	if (idx)
		pw_policy_index_fill(idx, pn, p);
	pw_policy_index_publish(pn, idx);
	pw_policy_del_locked(pn, p);
out:
	mutex_unlock(&pn->lock);
	return ret;
}

int pw_nl_policy_flush(struct sk_buff *skb, struct genl_info *info)
{
	pw_policy_flush(pw_net(genl_info_net(info)));
	return 0;
}

struct pw_policy_dump_ctx {
	u64 last_seq;
};

int pw_nl_policy_dump(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct pw_policy_dump_ctx *ctx = (void *)cb->ctx;
	struct pw_net *pn = pw_net(sock_net(skb->sk));
	const struct pw_policy *p;
	int ret = 0;

	BUILD_BUG_ON(sizeof(*ctx) > sizeof(cb->ctx));

	rcu_read_lock();
	list_for_each_entry_rcu(p, &pn->policies, list) {
		if (p->seq <= ctx->last_seq)
			continue;
		ret = pw_policy_fill(skb, p, NETLINK_CB(cb->skb).portid,
				     cb->nlh->nlmsg_seq, NLM_F_MULTI,
				     PEERWATCH_CMD_POLICY_DUMP);
		if (ret)
			break;
		ctx->last_seq = p->seq;
	}
	rcu_read_unlock();

	/* A full skb is sent and the dump resumes after last_seq. */
	if (ret && !skb->len)
		return ret;
	return skb->len;
}

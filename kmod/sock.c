// SPDX-License-Identifier: GPL-2.0
/*
 * Sockets: describe one, find one by tuple and cookie, dump those of a
 * netns, and set the user timeout of a live one.
 */
#include <linux/inetdevice.h>
#include <linux/sock_diag.h>
#include <net/genetlink.h>
#include <net/inet6_hashtables.h>
#include <net/inet_hashtables.h>
#include <net/ipv6.h>
#include <net/tcp.h>
#include <linux/peerwatch.h>

#include "compat.h"
#include "genl.h"
#include "sock.h"

/* The generated cookie is stored atomically, so a const socket is fine. */
u64 pw_sock_cookie(const struct sock *sk)
{
	u32 cookie[2];

	sock_diag_save_cookie((struct sock *)sk, cookie);
	return (u64)cookie[1] << 32 | cookie[0];
}

size_t pw_sock_desc_size(void)
{
	return nla_total_size_64bit(sizeof(u64)) +		/* COOKIE */
	       nla_total_size(sizeof(u16)) * 3 +		/* FAMILY, ports */
	       nla_total_size(sizeof(struct in6_addr)) * 2 +	/* addresses */
	       nla_total_size(sizeof(u8)) * 2 +			/* STATE, TIMER */
	       nla_total_size(sizeof(u32)) * 8;
}

static void pw_sock_timer(const struct sock *sk, u8 *timer, u32 *expires)
{
	const struct inet_connection_sock *icsk = inet_csk(sk);
	unsigned long when = 0;

	switch (READ_ONCE(icsk->icsk_pending)) {
	case ICSK_TIME_RETRANS:
	case ICSK_TIME_REO_TIMEOUT:
	case ICSK_TIME_LOSS_PROBE:
		*timer = PEERWATCH_TIMER_RETRANS;
		when = READ_ONCE(icsk->icsk_timeout);
		break;
	case ICSK_TIME_PROBE0:
		*timer = PEERWATCH_TIMER_PROBE0;
		when = READ_ONCE(icsk->icsk_timeout);
		break;
	default:
		if (timer_pending(&sk->sk_timer)) {
			*timer = PEERWATCH_TIMER_KEEPALIVE;
			when = READ_ONCE(sk->sk_timer.expires);
		} else {
			*timer = PEERWATCH_TIMER_UNSPEC;
		}
	}
	*expires = time_after(when, jiffies) ?
		   jiffies_to_msecs(when - jiffies) : 0;
}

/*
 * Reads are lockless: the hooks hold the socket's lock, the dump and get
 * paths do not, so each field the socket's owner may change meanwhile is
 * read once (READ_ONCE), and a report may mix values of two instants. The
 * local port comes from inet_sport: by the time the state hook sees
 * TCP_CLOSE, tcp_set_state() has released the port and zeroed inet_num.
 */
int pw_sock_fill_desc(struct sk_buff *skb, struct sock *sk, int state,
		      bool timer)
{
	const struct inet_connection_sock *icsk = inet_csk(sk);
	const struct tcp_sock *tp = tcp_sk(sk);
	const struct inet_sock *inet = inet_sk(sk);
	u32 uid = from_kuid_munged(sock_net(sk)->user_ns, sk->sk_uid);
	u32 last_ack = tcp_jiffies32 - READ_ONCE(tp->rcv_tstamp);

	if (nla_put_u64_64bit(skb, PEERWATCH_A_COOKIE, pw_sock_cookie(sk),
			      PEERWATCH_A_PAD) ||
	    nla_put_u16(skb, PEERWATCH_A_FAMILY, sk->sk_family) ||
	    nla_put_u16(skb, PEERWATCH_A_SPORT, ntohs(inet->inet_sport)) ||
	    nla_put_u16(skb, PEERWATCH_A_DPORT, ntohs(inet->inet_dport)) ||
	    nla_put_u8(skb, PEERWATCH_A_STATE, state) ||
	    nla_put_u32(skb, PEERWATCH_A_USER_TIMEOUT,
			READ_ONCE(icsk->icsk_user_timeout)) ||
	    nla_put_u32(skb, PEERWATCH_A_RETRANSMITS,
			READ_ONCE(icsk->icsk_retransmits)) ||
	    nla_put_u32(skb, PEERWATCH_A_PROBES,
			READ_ONCE(icsk->icsk_probes_out)) ||
	    nla_put_u32(skb, PEERWATCH_A_RTO,
			jiffies_to_msecs(READ_ONCE(icsk->icsk_rto))) ||
	    nla_put_u32(skb, PEERWATCH_A_LAST_ACK, jiffies_to_msecs(last_ack)) ||
	    nla_put_u32(skb, PEERWATCH_A_UID, uid) ||
	    nla_put_u32(skb, PEERWATCH_A_IFINDEX,
			READ_ONCE(sk->sk_bound_dev_if)))
		return -EMSGSIZE;

	if (sk->sk_family == AF_INET) {
		if (nla_put_in_addr(skb, PEERWATCH_A_SADDR4, inet->inet_rcv_saddr) ||
		    nla_put_in_addr(skb, PEERWATCH_A_DADDR4, inet->inet_daddr))
			return -EMSGSIZE;
#if IS_ENABLED(CONFIG_IPV6)
	} else {
		if (nla_put_in6_addr(skb, PEERWATCH_A_SADDR6, &sk->sk_v6_rcv_saddr) ||
		    nla_put_in6_addr(skb, PEERWATCH_A_DADDR6, &sk->sk_v6_daddr))
			return -EMSGSIZE;
#endif
	}

	if (timer) {
		u32 expires;
		u8 which;

		pw_sock_timer(sk, &which, &expires);
		if (nla_put_u8(skb, PEERWATCH_A_TIMER, which) ||
		    nla_put_u32(skb, PEERWATCH_A_TIMER_EXPIRES, expires))
			return -EMSGSIZE;
	}
	return 0;
}

static int pw_sock_fill_msg(struct sk_buff *skb, struct sock *sk, u32 portid,
			    u32 seq, int flags)
{
	void *hdr;

	hdr = genlmsg_put(skb, portid, seq, &pw_genl_family, flags,
			  PEERWATCH_CMD_SOCK_GET);
	if (!hdr)
		return -EMSGSIZE;
	if (pw_sock_fill_desc(skb, sk, inet_sk_state_load(sk), true)) {
		genlmsg_cancel(skb, hdr);
		return -EMSGSIZE;
	}
	genlmsg_end(skb, hdr);
	return 0;
}

/* Parse the family and the remote address, both optional for a dump. */
static int pw_sock_parse_family(struct nlattr **attrs,
				struct netlink_ext_ack *extack, u16 *family)
{
	*family = attrs[PEERWATCH_A_FAMILY] ?
		  nla_get_u16(attrs[PEERWATCH_A_FAMILY]) : AF_UNSPEC;
	if (*family != AF_UNSPEC && *family != AF_INET && *family != AF_INET6) {
		NL_SET_ERR_MSG_ATTR(extack, attrs[PEERWATCH_A_FAMILY],
				    "family must be AF_INET or AF_INET6");
		return -EINVAL;
	}
	if ((attrs[PEERWATCH_A_SADDR4] || attrs[PEERWATCH_A_DADDR4]) &&
	    *family != AF_INET) {
		NL_SET_ERR_MSG(extack, "IPv4 address needs family AF_INET");
		return -EINVAL;
	}
	if ((attrs[PEERWATCH_A_SADDR6] || attrs[PEERWATCH_A_DADDR6]) &&
	    *family != AF_INET6) {
		NL_SET_ERR_MSG(extack, "IPv6 address needs family AF_INET6");
		return -EINVAL;
	}
	return 0;
}

/*
 * Find the full TCP socket of a tuple (and cookie), as
 * inet_diag_find_one_icsk() does; a reference is held. The interface is
 * that of a socket bound to a device (SO_BINDTODEVICE, an IPv6 link-local
 * address, a VRF), 0 for the others, which match any. An IPv4 peer of a
 * dual-stack socket is described with v4-mapped addresses but hashed as
 * IPv4, so such a tuple is looked up as IPv4.
 */
static struct sock *pw_sock_lookup(struct genl_info *info, bool need_cookie)
{
	struct netlink_ext_ack *extack = info->extack;
	struct inet_hashinfo *hashinfo;
	struct nlattr **attrs = info->attrs;
	struct net *net = genl_info_net(info);
	struct sock *sk = NULL;
	u16 family, sport, dport;
	__be32 laddr4 = 0, raddr4 = 0;
	int ifindex, ret;

	if (GENL_REQ_ATTR_CHECK(info, PEERWATCH_A_FAMILY) ||
	    GENL_REQ_ATTR_CHECK(info, PEERWATCH_A_SPORT) ||
	    GENL_REQ_ATTR_CHECK(info, PEERWATCH_A_DPORT) ||
	    (need_cookie && GENL_REQ_ATTR_CHECK(info, PEERWATCH_A_COOKIE)))
		return ERR_PTR(-EINVAL);
	ret = pw_sock_parse_family(attrs, extack, &family);
	if (ret)
		return ERR_PTR(ret);
	/* AF_UNSPEC means "any" to a dump only: a lookup needs addresses. */
	if (family == AF_UNSPEC) {
		NL_SET_ERR_MSG_ATTR(extack, attrs[PEERWATCH_A_FAMILY],
				    "family must be AF_INET or AF_INET6");
		return ERR_PTR(-EINVAL);
	}
	if (family == AF_INET &&
	    (GENL_REQ_ATTR_CHECK(info, PEERWATCH_A_SADDR4) ||
	     GENL_REQ_ATTR_CHECK(info, PEERWATCH_A_DADDR4)))
		return ERR_PTR(-EINVAL);
	if (family == AF_INET6 &&
	    (GENL_REQ_ATTR_CHECK(info, PEERWATCH_A_SADDR6) ||
	     GENL_REQ_ATTR_CHECK(info, PEERWATCH_A_DADDR6)))
		return ERR_PTR(-EINVAL);

	sport = nla_get_u16(attrs[PEERWATCH_A_SPORT]);
	dport = nla_get_u16(attrs[PEERWATCH_A_DPORT]);
	ifindex = attrs[PEERWATCH_A_IFINDEX] ?
		  nla_get_u32(attrs[PEERWATCH_A_IFINDEX]) : 0;
	hashinfo = net->ipv4.tcp_death_row.hashinfo;

	if (family == AF_INET) {
		laddr4 = nla_get_in_addr(attrs[PEERWATCH_A_SADDR4]);
		raddr4 = nla_get_in_addr(attrs[PEERWATCH_A_DADDR4]);
#if IS_ENABLED(CONFIG_IPV6)
	} else {
		const struct in6_addr *laddr = nla_data(attrs[PEERWATCH_A_SADDR6]);
		const struct in6_addr *raddr = nla_data(attrs[PEERWATCH_A_DADDR6]);

		if (ipv6_addr_v4mapped(laddr) && ipv6_addr_v4mapped(raddr)) {
			family = AF_INET;
			laddr4 = laddr->s6_addr32[3];
			raddr4 = raddr->s6_addr32[3];
		} else {
			/* The packet's view: remote first, then local. */
			rcu_read_lock();
			sk = __inet6_lookup_established(net, hashinfo, raddr,
							htons(dport), laddr,
							sport, ifindex, 0);
			rcu_read_unlock();
		}
#endif
	}
	if (family == AF_INET) {
		rcu_read_lock();
		sk = __inet_lookup_established(net, hashinfo, raddr4,
					       htons(dport), laddr4, sport,
					       ifindex, 0);
		rcu_read_unlock();
	}

	if (sk && !sk_fullsock(sk)) {
		sock_gen_put(sk);
		sk = NULL;
	}
	if (sk && attrs[PEERWATCH_A_COOKIE] &&
	    nla_get_u64(attrs[PEERWATCH_A_COOKIE]) != pw_sock_cookie(sk)) {
		sock_put(sk);
		sk = NULL;
	}
	if (!sk) {
		NL_SET_ERR_MSG(extack, "no such socket");
		return ERR_PTR(-ENOENT);
	}
	return sk;
}

int pw_nl_sock_get(struct sk_buff *skb, struct genl_info *info)
{
	struct sk_buff *reply;
	struct sock *sk;
	int ret;

	sk = pw_sock_lookup(info, false);
	if (IS_ERR(sk))
		return PTR_ERR(sk);

	reply = genlmsg_new(pw_sock_desc_size(), GFP_KERNEL);
	if (!reply) {
		ret = -ENOMEM;
		goto out;
	}
	ret = pw_sock_fill_msg(reply, sk, info->snd_portid, info->snd_seq, 0);
	if (ret) {
		nlmsg_free(reply);
		goto out;
	}
	ret = genlmsg_reply(reply, info);
out:
	sock_put(sk);
	return ret;
}

int pw_nl_sock_set(struct sk_buff *skb, struct genl_info *info)
{
	struct sock *sk;
	int ret = 0;
	u32 ms;

	if (GENL_REQ_ATTR_CHECK(info, PEERWATCH_A_USER_TIMEOUT))
		return -EINVAL;
	ms = nla_get_u32(info->attrs[PEERWATCH_A_USER_TIMEOUT]);

	sk = pw_sock_lookup(info, true);
	if (IS_ERR(sk))
		return PTR_ERR(sk);

	/* Process context: the same locking as setsockopt(TCP_USER_TIMEOUT). */
	lock_sock(sk);
	if (sk->sk_state == TCP_CLOSE) {
		NL_SET_ERR_MSG(info->extack, "socket is closed");
		ret = -ENOENT;
	} else {
		WRITE_ONCE(inet_csk(sk)->icsk_user_timeout, ms);
	}
	release_sock(sk);
	sock_put(sk);
	return ret;
}

struct pw_dump_ctx {
	u32 bucket;
	u32 num;
	u32 state_mask;
	u32 flags;
	u16 family;
	u16 sport;
	u16 dport;
	int ifindex;
	u8 prefix_len;
	bool has_addr;
	union {
		__be32 v4;
		struct in6_addr v6;
	} daddr;
};

int pw_nl_sock_dump_start(struct netlink_callback *cb)
{
	struct nlattr **attrs = pw_dump_attrs(cb);
	struct pw_dump_ctx *ctx = (void *)cb->ctx;
	struct netlink_ext_ack *extack = cb->extack;
	unsigned int max_prefix = 0;
	int ret;

	BUILD_BUG_ON(sizeof(*ctx) > sizeof(cb->ctx));

	memset(ctx, 0, sizeof(*ctx));
	ret = pw_sock_parse_family(attrs, extack, &ctx->family);
	if (ret)
		return ret;
	if (attrs[PEERWATCH_A_SADDR4] || attrs[PEERWATCH_A_SADDR6]) {
		NL_SET_ERR_MSG(extack, "filter on the remote address only");
		return -EINVAL;
	}
	if (attrs[PEERWATCH_A_DADDR4]) {
		ctx->daddr.v4 = nla_get_in_addr(attrs[PEERWATCH_A_DADDR4]);
		max_prefix = 32;
	} else if (attrs[PEERWATCH_A_DADDR6]) {
		ctx->daddr.v6 = nla_get_in6_addr(attrs[PEERWATCH_A_DADDR6]);
		max_prefix = 128;
	}
	ctx->has_addr = max_prefix;
	ctx->prefix_len = max_prefix;
	if (attrs[PEERWATCH_A_PREFIX_LEN]) {
		ctx->prefix_len = nla_get_u8(attrs[PEERWATCH_A_PREFIX_LEN]);
		if (!ctx->has_addr || ctx->prefix_len > max_prefix) {
			NL_SET_ERR_MSG_ATTR(extack, attrs[PEERWATCH_A_PREFIX_LEN],
					    "prefix length needs an address and must fit it");
			return -EINVAL;
		}
	}
	if (attrs[PEERWATCH_A_SPORT])
		ctx->sport = nla_get_u16(attrs[PEERWATCH_A_SPORT]);
	if (attrs[PEERWATCH_A_DPORT])
		ctx->dport = nla_get_u16(attrs[PEERWATCH_A_DPORT]);
	if (attrs[PEERWATCH_A_IFINDEX])
		ctx->ifindex = nla_get_u32(attrs[PEERWATCH_A_IFINDEX]);
	ctx->state_mask = attrs[PEERWATCH_A_STATE_MASK] ?
			  nla_get_u32(attrs[PEERWATCH_A_STATE_MASK]) : ~0U;
	if (attrs[PEERWATCH_A_DUMP_FLAGS])
		ctx->flags = nla_get_u32(attrs[PEERWATCH_A_DUMP_FLAGS]);
	return 0;
}

static bool pw_dump_match(const struct pw_dump_ctx *ctx, const struct sock *sk)
{
	if (!sk_fullsock(sk))		/* TIME_WAIT, NEW_SYN_RECV */
		return false;
	if (!(ctx->state_mask & (1U << sk->sk_state)))
		return false;
	if (ctx->family && sk->sk_family != ctx->family)
		return false;
	if (ctx->sport && sk->sk_num != ctx->sport)
		return false;
	if (ctx->dport && ntohs(sk->sk_dport) != ctx->dport)
		return false;
	if (ctx->ifindex && READ_ONCE(sk->sk_bound_dev_if) != ctx->ifindex)
		return false;
	if ((ctx->flags & PEERWATCH_DUMP_F_USER_TIMEOUT) &&
	    !READ_ONCE(inet_csk(sk)->icsk_user_timeout))
		return false;
	if (!ctx->has_addr)
		return true;
	if (sk->sk_family == AF_INET)
		return !((sk->sk_daddr ^ ctx->daddr.v4) &
			 inet_make_mask(ctx->prefix_len));
#if IS_ENABLED(CONFIG_IPV6)
	return ipv6_prefix_equal(&sk->sk_v6_daddr, &ctx->daddr.v6,
				 ctx->prefix_len);
#else
	return false;
#endif
}

/*
 * Walk the established hash of the caller's netns like inet_diag does,
 * resuming at (bucket, position in bucket) in the next message.
 */
int pw_nl_sock_dump(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct pw_dump_ctx *ctx = (void *)cb->ctx;
	struct net *net = sock_net(skb->sk);
	struct inet_hashinfo *hashinfo = net->ipv4.tcp_death_row.hashinfo;
	u32 portid = NETLINK_CB(cb->skb).portid;
	u32 seq = cb->nlh->nlmsg_seq;

	for (; ctx->bucket <= hashinfo->ehash_mask; ctx->bucket++, ctx->num = 0) {
		struct inet_ehash_bucket *head = &hashinfo->ehash[ctx->bucket];
		spinlock_t *lock = inet_ehash_lockp(hashinfo, ctx->bucket);
		struct hlist_nulls_node *node;
		struct sock *sk;
		u32 num = 0;

		if (hlist_nulls_empty(&head->chain))
			continue;

		spin_lock_bh(lock);
		sk_nulls_for_each(sk, node, &head->chain) {
			if (!net_eq(sock_net(sk), net))
				continue;
			if (num++ < ctx->num || !pw_dump_match(ctx, sk))
				continue;
			if (pw_sock_fill_msg(skb, sk, portid, seq, NLM_F_MULTI)) {
				spin_unlock_bh(lock);
				ctx->num = num - 1;
				return skb->len;
			}
		}
		spin_unlock_bh(lock);
	}
	return skb->len;
}

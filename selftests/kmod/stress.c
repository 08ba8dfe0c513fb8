// SPDX-License-Identifier: GPL-2.0
/*
 * Module stress: 20,000 loopback connect/close cycles while requesters
 * send random SOCK_GET, SOCK_SET and POLICY requests, a subscriber reads
 * the events, and a reloader unloads and loads the module in a loop.
 *
 * Everything runs in a netns of its own (the churner's in theirs), each
 * role in its own process:
 *
 *   connectors  CONNECTORS processes, CYCLES in all (PW_STRESS_CYCLES);
 *               each keeps a window of WINDOW connections open, v4 or v6,
 *               some with a user timeout, and closes the oldest for each
 *               new one (half with a RST, which the peer sees as DEAD)
 *   requesters  REQUESTERS processes: random requests on the live and
 *               dead connections the connectors publish, with random
 *               cookies, values in and out of range, random rules
 *   subscriber  joined to the events group, validates every event
 *   victims     VICTIMS connections to a port that loses half the data
 *               segments, some in a SUSPECT episode at any time
 *   netns churn one netns after another, each with a connection, a rule
 *               and a SOCK_SET, left to die with them still in place
 *   reloader    delete_module (retried while a dump holds the module),
 *               then finit_module, with random pauses, until the
 *               connectors are done (at least once); every unload must
 *               log 0 live objects; the first instance stays until the
 *               subscriber has had a DEAD and a SUSPECT
 *   tenant      a hostile tenant (pw_tenant.h): root of a user and network
 *               namespace of its own, its table full (TENANT_QUOTA, each
 *               instance loaded with it) of blackholed sockets under a user
 *               timeout of weeks, some replaced each second, joined again
 *               to each new instance's events
 *
 * Every request knows the results it may get, and anything else fails the
 * test; unexpected success too. While the module is loaded and its family
 * resolved (the reload generation did not move during the request):
 *
 *   valid request on a published connection   0 or ENOENT (closed since)
 *   wrong cookie, or a value of a dead socket  ENOENT
 *   SOCK_SET value past INT_MAX, rule timeout 0, prefix past 128   ERANGE
 *   address of the wrong family, prefix too long for the family,
 *   empty port range, missing attribute        EINVAL
 *   POLICY_ADD of a valid rule                 0 or ENOSPC (table full)
 *   POLICY_DEL of a random id                  0 or ENOENT
 *   dumps, POLICY_FLUSH, STATS_GET             0
 *
 * When the generation moved (the module went or came back meanwhile), the
 * family may be missing: ENOENT (no family with that id) and, for a dump
 * that starts while the module is going away, EPROTONOSUPPORT (the netlink
 * core cannot take a reference on it) are allowed too. The subscriber may
 * see ENOBUFS (its queue overflowed). Nothing else: no other errno, no
 * lost answer (a 30 s receive timeout, generous for a loaded TCG guest,
 * fails the test).
 *
 * Afterwards, with the module loaded, the tenant's table full again, then
 * the tenant gone, and every socket closed: the module's
 * live objects (STATS_GET) are back to 0, its refcount is 0, the TCP socket
 * slabs are back near where they started (a leaked socket reference would
 * hold thousands), the final unload succeeds and logs 0 live objects, and
 * the module is loaded again for the tests after this one. vm-run fails
 * the run on any WARN, oops or lockdep report meanwhile.
 */
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>

#include "kselftest_harness.h"
#include "pw_test.h"
#include "pw_ctrl.h"
#include "pw_tenant.h"

#define CONNECTORS	4
#define REQUESTERS	3
#define WINDOW		16
#define NSLOTS		(CONNECTORS * WINDOW)
#define DEFAULT_CYCLES	20000
#define PORT_V4		20000
#define PORT_V6		21000
#define PORT_LOSSY	23000
#define VICTIMS		8
#define TENANT_QUOTA	256
#define TENANT_PARAMS	"netns_max_tracked=256"
#define MAX_ERRNO	134
/* Generous: the cycles take ~30-60 s in the TCG guest, alone. */
#define RUN_LIMIT_S	240

enum {
	OP_GET, OP_GET_BADCOOKIE, OP_GET_INVALID, OP_GET_DUMP,
	OP_SET, OP_SET_DEAD, OP_SET_RANGE,
	OP_POLICY_ADD, OP_POLICY_BAD, OP_POLICY_DEL, OP_POLICY_DUMP,
	OP_POLICY_FLUSH, OP_STATS, OP_MAX
};

static const char *const op_names[OP_MAX] = {
	"SOCK_GET", "SOCK_GET bad cookie", "SOCK_GET invalid", "SOCK_GET dump",
	"SOCK_SET", "SOCK_SET dead", "SOCK_SET out of range",
	"POLICY_ADD", "POLICY_ADD invalid", "POLICY_DEL", "POLICY_DUMP",
	"POLICY_FLUSH", "STATS_GET",
};

/* A connection a connector published: seq is odd while it is written. */
struct slot {
	uint32_t seq;
	uint16_t family;
	uint16_t lport, rport;
	uint8_t laddr[16], raddr[16];
	uint64_t cookie;
};

struct shared {
	int stop;		/* the connectors are done */
	uint32_t gen;		/* odd while the module is (being) unloaded */
	int failed;
	char why[512];
	long cycles;
	long connect_fail;
	long reloads;
	long unload_busy;
	long unload_ms, unload_max_ms;	/* delete_module() calls */
	long load_ms, load_max_ms;	/* finit_module() calls */
	long loaded_ms;			/* loaded, between the calls */
	long unload_logs;
	long absent_resolves;
	long events[PEERWATCH_EVENT_MAX + 1];
	long enobufs;
	long subscriber_joins;
	long netns, netns_rules, netns_absent;
	long victims;
	long res[OP_MAX][MAX_ERRNO + 1];
	struct slot slots[NSLOTS];
};

static struct shared *sh;

static void __attribute__((format(printf, 1, 2)))
fail(const char *fmt, ...)
{
	va_list ap;
	int zero = 0;

	if (!__atomic_compare_exchange_n(&sh->failed, &zero, 1, false,
					 __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
		return;
	va_start(ap, fmt);
	vsnprintf(sh->why, sizeof(sh->why), fmt, ap);
	va_end(ap);
	__atomic_store_n(&sh->stop, 1, __ATOMIC_SEQ_CST);
}

#define inc(p) __atomic_fetch_add((p), 1, __ATOMIC_RELAXED)

static bool stopping(void)
{
	return __atomic_load_n(&sh->stop, __ATOMIC_SEQ_CST);
}

static uint32_t gen_now(void)
{
	return __atomic_load_n(&sh->gen, __ATOMIC_SEQ_CST);
}

/* xorshift64*: each process its own stream of the printed seed. */
static uint64_t rng_state;

static uint64_t rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545F4914F6CDD1DULL;
}

static uint32_t rnd_below(uint32_t n)
{
	return n ? rnd() % n : 0;
}

/* ---- connectors ---- */

static int listen_on(int family, int port)
{
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6,
				   .sin6_port = htons(port),
				   .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	struct sockaddr_in a4 = { .sin_family = AF_INET,
				  .sin_port = htons(port) };
	int one = 1, fd;

	fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if ((family == AF_INET ? bind(fd, (void *)&a4, sizeof(a4)) :
				 bind(fd, (void *)&a6, sizeof(a6))) ||
	    listen(fd, 64)) {
		close(fd);
		return -1;
	}
	return fd;
}

static void publish(struct slot *s, int fd)
{
	struct sockaddr_storage l, r;
	socklen_t ll = sizeof(l), rl = sizeof(r);
	uint32_t seq = __atomic_load_n(&s->seq, __ATOMIC_RELAXED);

	if (getsockname(fd, (void *)&l, &ll) || getpeername(fd, (void *)&r, &rl))
		return;
	__atomic_store_n(&s->seq, seq + 1, __ATOMIC_RELEASE);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	s->family = l.ss_family;
	if (l.ss_family == AF_INET) {
		struct sockaddr_in *l4 = (void *)&l, *r4 = (void *)&r;

		memcpy(s->laddr, &l4->sin_addr, 4);
		memcpy(s->raddr, &r4->sin_addr, 4);
		s->lport = ntohs(l4->sin_port);
		s->rport = ntohs(r4->sin_port);
	} else {
		struct sockaddr_in6 *l6 = (void *)&l, *r6 = (void *)&r;

		memcpy(s->laddr, &l6->sin6_addr, 16);
		memcpy(s->raddr, &r6->sin6_addr, 16);
		s->lport = ntohs(l6->sin6_port);
		s->rport = ntohs(r6->sin6_port);
	}
	s->cookie = pw_cookie(fd);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	__atomic_store_n(&s->seq, seq + 2, __ATOMIC_RELEASE);
}

/* Connect to our own listener, with a user timeout one time in three. */
static int connect_one(int family, int port, int *peer)
{
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6,
				   .sin6_port = htons(port),
				   .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	struct sockaddr_in a4 = { .sin_family = AF_INET,
				  .sin_port = htons(port) };
	unsigned int ms = 1000 + rnd_below(60000);
	int fd, lfd = *peer;

	/* 127.0.0.1 to 127.0.0.4: four times the tuples for TIME_WAIT. */
	a4.sin_addr.s_addr = htonl(0x7f000001 + rnd_below(4));
	fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (!rnd_below(3))
		setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &ms, sizeof(ms));
	if (family == AF_INET ? connect(fd, (void *)&a4, sizeof(a4)) :
				connect(fd, (void *)&a6, sizeof(a6)))
		goto err;
	*peer = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (*peer < 0)
		goto err;
	return fd;
err:
	close(fd);
	return -1;
}

static void close_pair(int c, int s)
{
	struct linger lin = { .l_onoff = 1, .l_linger = 0 };
	int first = c, second = s;

	if (rnd_below(2)) {
		first = s;
		second = c;
	}
	/* A RST from the first side: the second dies of it (DEAD, reset). */
	if (rnd_below(2))
		setsockopt(first, SOL_SOCKET, SO_LINGER, &lin, sizeof(lin));
	close(first);
	close(second);
}

static void connector(int idx, long cycles)
{
	int c[WINDOW], s[WINDOW], l4, l6, i;
	long n;

	for (i = 0; i < WINDOW; i++) {
		c[i] = -1;
		s[i] = -1;
	}
	l4 = listen_on(AF_INET, PORT_V4 + idx);
	l6 = listen_on(AF_INET6, PORT_V6 + idx);
	if (l4 < 0) {
		fail("%s %d: no IPv4 listener: %s", __func__, idx, strerror(errno));
		_exit(1);
	}
	for (n = 0; n < cycles && !stopping(); n++) {
		int w = n % WINDOW, family = AF_INET, peer = l4, port = PORT_V4;

		if (c[w] >= 0)
			close_pair(c[w], s[w]);
		s[w] = -1;
		if (l6 >= 0 && !rnd_below(4)) {
			family = AF_INET6;
			peer = l6;
			port = PORT_V6;
		}
		c[w] = connect_one(family, port + idx, &peer);
		if (c[w] < 0) {
			/* Loopback never refuses its own listener. */
			fail("%s %d: cycle %ld: %s", __func__, idx, n,
			     strerror(errno));
			break;
		}
		s[w] = peer;
		publish(&sh->slots[idx * WINDOW + w], rnd_below(2) ? c[w] : s[w]);
		inc(&sh->cycles);
	}
	for (i = 0; i < WINDOW; i++)
		if (c[i] >= 0)
			close_pair(c[i], s[i]);
	_exit(0);
}

/* ---- requesters ---- */

/* A netlink socket on the family as resolved at generation @gen. */
struct req_nl {
	struct pw_nl nl;
	uint32_t gen;		/* generation it was resolved at; 1: none */
	uint32_t policy_ids[8];
};

static int nl_socket(struct pw_nl *nl)
{
	struct timeval tv = { .tv_sec = 30 };
	int one = 1;

	memset(nl, 0, sizeof(*nl));
	nl->sock = mnl_socket_open(NETLINK_GENERIC);
	if (!nl->sock)
		return -errno;
	if (mnl_socket_bind(nl->sock, 0, MNL_SOCKET_AUTOPID) < 0)
		return -errno;
	mnl_socket_setsockopt(nl->sock, NETLINK_EXT_ACK, &one, sizeof(one));
	mnl_socket_setsockopt(nl->sock, NETLINK_CAP_ACK, &one, sizeof(one));
	/* A lost answer fails the test instead of hanging it. */
	setsockopt(mnl_socket_get_fd(nl->sock), SOL_SOCKET, SO_RCVTIMEO, &tv,
		   sizeof(tv));
	nl->portid = mnl_socket_get_portid(nl->sock);
	nl->seq = rnd();
	return 0;
}

/*
 * Resolve the family again if the generation moved to a loaded one;
 * keep the old id (now stale) while the module is away.
 */
static void refresh(struct req_nl *r, const char *who)
{
	static struct pw_ctrl_family f;
	uint32_t g = gen_now();
	int ret;

	if (g == r->gen || (g & 1))
		return;
	ret = pw_ctrl_find(r->nl.sock, PEERWATCH_GENL_NAME,
			   PEERWATCH_MCGRP_EVENTS, &f);
	if (ret == -ENOENT) {
		inc(&sh->absent_resolves);
		return;
	}
	if (ret) {
		fail("%s: resolving the family: %s", who, strerror(-ret));
		return;
	}
	r->nl.family_id = f.id;
	r->nl.events_grp = f.events_grp;
	/* Loaded all along the resolution: the id belongs to generation g. */
	r->gen = gen_now() == g ? g : 1;
}

static void put_slot(struct nlmsghdr *nlh, const struct slot *s)
{
	mnl_attr_put_u16(nlh, PEERWATCH_A_FAMILY, s->family);
	if (s->family == AF_INET) {
		mnl_attr_put(nlh, PEERWATCH_A_SADDR4, 4, s->laddr);
		mnl_attr_put(nlh, PEERWATCH_A_DADDR4, 4, s->raddr);
	} else {
		mnl_attr_put(nlh, PEERWATCH_A_SADDR6, 16, s->laddr);
		mnl_attr_put(nlh, PEERWATCH_A_DADDR6, 16, s->raddr);
	}
	mnl_attr_put_u16(nlh, PEERWATCH_A_SPORT, s->lport);
	mnl_attr_put_u16(nlh, PEERWATCH_A_DPORT, s->rport);
}

/* A consistent copy of a random slot, or false if none is written yet. */
static bool pick_slot(struct slot *out)
{
	const struct slot *s = &sh->slots[rnd_below(NSLOTS)];
	uint32_t seq;
	int tries;

	for (tries = 0; tries < 4; tries++) {
		seq = __atomic_load_n(&s->seq, __ATOMIC_ACQUIRE);
		if (!seq || (seq & 1))
			continue;
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		memcpy(out, s, sizeof(*out));
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		if (__atomic_load_n(&s->seq, __ATOMIC_ACQUIRE) == seq)
			return true;
	}
	return false;
}

/* A set of results: 0 (success) and errno values. */
struct results {
	bool ok[MAX_ERRNO + 1];
};

static void allow(struct results *r, int e)
{
	r->ok[e] = true;
}

static int policy_cb(const struct nlmsghdr *nlh, void *data)
{
	uint32_t *id = data;
	const struct nlattr *a;

	mnl_attr_for_each(a, nlh, sizeof(struct genlmsghdr))
		if (mnl_attr_get_type(a) == PEERWATCH_A_POLICY_ID &&
		    mnl_attr_validate(a, MNL_TYPE_U32) >= 0)
			*id = mnl_attr_get_u32(a);
	return MNL_CB_OK;
}

static void put_random_rule(struct nlmsghdr *nlh, int *bad)
{
	uint8_t addr[16];
	int family = rnd_below(2) ? AF_INET : AF_INET6;
	int max_prefix = family == AF_INET ? 32 : 128;
	uint16_t pmin = rnd(), pmax = rnd();

	*bad = 0;
	((uint32_t *)addr)[0] = rnd();
	((uint32_t *)addr)[1] = rnd();
	((uint32_t *)addr)[2] = rnd();
	((uint32_t *)addr)[3] = rnd();
	if (family == AF_INET)
		addr[0] = 127;		/* some rules hit the connections */
	mnl_attr_put_u16(nlh, PEERWATCH_A_FAMILY, family);
	switch (rnd_below(6)) {
	case 0:				/* timeout 0: out of range */
		mnl_attr_put_u32(nlh, PEERWATCH_A_USER_TIMEOUT, 0);
		*bad = ERANGE;
		return;
	case 1:				/* prefix too long for the family */
		mnl_attr_put_u32(nlh, PEERWATCH_A_USER_TIMEOUT, 5000);
		mnl_attr_put(nlh, family == AF_INET ? PEERWATCH_A_DADDR4 :
			     PEERWATCH_A_DADDR6, family == AF_INET ? 4 : 16,
			     addr);
		if (family == AF_INET && rnd_below(2)) {
			mnl_attr_put_u8(nlh, PEERWATCH_A_PREFIX_LEN,
					33 + rnd_below(96));
			*bad = EINVAL;
		} else {
			mnl_attr_put_u8(nlh, PEERWATCH_A_PREFIX_LEN,
					129 + rnd_below(127));
			*bad = ERANGE;
		}
		return;
	case 2:				/* address of the other family */
		mnl_attr_put_u32(nlh, PEERWATCH_A_USER_TIMEOUT, 5000);
		mnl_attr_put(nlh, family == AF_INET ? PEERWATCH_A_DADDR6 :
			     PEERWATCH_A_DADDR4, family == AF_INET ? 16 : 4,
			     addr);
		*bad = EINVAL;
		return;
	case 3:				/* empty port range */
		mnl_attr_put_u32(nlh, PEERWATCH_A_USER_TIMEOUT, 5000);
		if (pmin == pmax)
			pmax++;
		mnl_attr_put_u16(nlh, PEERWATCH_A_DPORT_MIN,
				 pmin > pmax ? pmin : pmax);
		mnl_attr_put_u16(nlh, PEERWATCH_A_DPORT_MAX,
				 pmin > pmax ? pmax : pmin);
		*bad = EINVAL;
		return;
	}
	mnl_attr_put_u32(nlh, PEERWATCH_A_USER_TIMEOUT,
			 1 + rnd_below(0x7fffffff));
	if (rnd_below(2)) {
		mnl_attr_put(nlh, family == AF_INET ? PEERWATCH_A_DADDR4 :
			     PEERWATCH_A_DADDR6, family == AF_INET ? 4 : 16,
			     addr);
		mnl_attr_put_u8(nlh, PEERWATCH_A_PREFIX_LEN,
				rnd_below(max_prefix + 1));
	}
	if (rnd_below(2)) {
		mnl_attr_put_u16(nlh, PEERWATCH_A_DPORT_MIN,
				 pmin < pmax ? pmin : pmax);
		mnl_attr_put_u16(nlh, PEERWATCH_A_DPORT_MAX,
				 pmin < pmax ? pmax : pmin);
	}
}

static void put_dump_filters(struct nlmsghdr *nlh)
{
	uint32_t a = htonl(0x7f000000 | (uint32_t)rnd_below(4));

	if (!rnd_below(2))
		return;
	switch (rnd_below(4)) {
	case 0:
		mnl_attr_put_u16(nlh, PEERWATCH_A_FAMILY, AF_INET);
		mnl_attr_put(nlh, PEERWATCH_A_DADDR4, 4, &a);
		mnl_attr_put_u8(nlh, PEERWATCH_A_PREFIX_LEN, rnd_below(33));
		break;
	case 1:
		mnl_attr_put_u16(nlh, PEERWATCH_A_FAMILY, AF_INET6);
		break;
	case 2:
		mnl_attr_put_u16(nlh, PEERWATCH_A_DPORT,
				 PORT_V4 + rnd_below(CONNECTORS));
		mnl_attr_put_u32(nlh, PEERWATCH_A_STATE_MASK, rnd());
		break;
	case 3:
		mnl_attr_put_u32(nlh, PEERWATCH_A_DUMP_FLAGS,
				 PEERWATCH_DUMP_F_USER_TIMEOUT);
		break;
	}
}

/* Build one random request; its expected results go in @ok. */
static struct nlmsghdr *build(struct req_nl *r, char *buf, int *op,
			      struct results *ok, mnl_cb_t *cb, uint32_t *id)
{
	struct pw_nl *nl = &r->nl;
	struct nlmsghdr *nlh;
	struct slot s;
	uint32_t ms;
	int bad;

	*cb = NULL;
	*op = rnd_below(100);
	if (*op < 60 && !pick_slot(&s))
		*op = 60 + rnd_below(40);
	if (*op < 20)
		*op = OP_GET;
	else if (*op < 26)
		*op = OP_GET_BADCOOKIE;
	else if (*op < 30)
		*op = OP_GET_INVALID;
	else if (*op < 45)
		*op = OP_SET;
	else if (*op < 52)
		*op = OP_SET_DEAD;
	else if (*op < 60)
		*op = OP_SET_RANGE;
	else if (*op < 70)
		*op = OP_GET_DUMP;
	else if (*op < 80)
		*op = OP_POLICY_ADD;
	else if (*op < 86)
		*op = OP_POLICY_DEL;
	else if (*op < 92)
		*op = OP_POLICY_DUMP;
	else if (*op < 93)
		*op = OP_POLICY_FLUSH;
	else
		*op = OP_STATS;

	switch (*op) {
	case OP_GET:
		nlh = pw_nl_request(nl, buf, PEERWATCH_CMD_SOCK_GET, 0);
		put_slot(nlh, &s);
		if (rnd_below(2))
			mnl_attr_put_u64(nlh, PEERWATCH_A_COOKIE, s.cookie);
		allow(ok, 0);
		allow(ok, ENOENT);
		return nlh;
	case OP_GET_BADCOOKIE:
		nlh = pw_nl_request(nl, buf, PEERWATCH_CMD_SOCK_GET, 0);
		put_slot(nlh, &s);
		mnl_attr_put_u64(nlh, PEERWATCH_A_COOKIE, s.cookie ^ (rnd() | 1));
		allow(ok, ENOENT);
		return nlh;
	case OP_GET_INVALID:
		nlh = pw_nl_request(nl, buf, PEERWATCH_CMD_SOCK_GET, 0);
		if (rnd_below(2)) {
			/* Addresses of the other family. */
			s.family = s.family == AF_INET ? AF_INET6 : AF_INET;
			mnl_attr_put_u16(nlh, PEERWATCH_A_FAMILY, s.family);
			if (s.family == AF_INET)
				mnl_attr_put(nlh, PEERWATCH_A_SADDR6, 16, s.laddr);
			else
				mnl_attr_put(nlh, PEERWATCH_A_SADDR4, 4, s.laddr);
			mnl_attr_put_u16(nlh, PEERWATCH_A_SPORT, s.lport);
			mnl_attr_put_u16(nlh, PEERWATCH_A_DPORT, s.rport);
		} else {
			/* No remote port. */
			mnl_attr_put_u16(nlh, PEERWATCH_A_FAMILY, s.family);
			mnl_attr_put_u16(nlh, PEERWATCH_A_SPORT, s.lport);
		}
		allow(ok, EINVAL);
		return nlh;
	case OP_SET:
	case OP_SET_DEAD:
	case OP_SET_RANGE:
		nlh = pw_nl_request(nl, buf, PEERWATCH_CMD_SOCK_SET, 0);
		put_slot(nlh, &s);
		mnl_attr_put_u64(nlh, PEERWATCH_A_COOKIE, *op == OP_SET_DEAD ?
				 s.cookie ^ (rnd() | 1) : s.cookie);
		ms = rnd_below(4) ? rnd_below(120000) : rnd_below(0x80000000);
		if (*op == OP_SET_RANGE) {
			ms = 0x80000000U + rnd_below(0x80000000U);
			allow(ok, ERANGE);
		} else {
			if (*op == OP_SET)
				allow(ok, 0);
			allow(ok, ENOENT);
		}
		mnl_attr_put_u32(nlh, PEERWATCH_A_USER_TIMEOUT, ms);
		return nlh;
	case OP_GET_DUMP:
		nlh = pw_nl_request(nl, buf, PEERWATCH_CMD_SOCK_GET, NLM_F_DUMP);
		put_dump_filters(nlh);
		allow(ok, 0);
		return nlh;
	case OP_POLICY_ADD:
		nlh = pw_nl_request(nl, buf, PEERWATCH_CMD_POLICY_ADD, 0);
		put_random_rule(nlh, &bad);
		if (bad) {
			*op = OP_POLICY_BAD;
			allow(ok, bad);
		} else {
			allow(ok, 0);
			allow(ok, ENOSPC);
			*cb = policy_cb;
		}
		return nlh;
	case OP_POLICY_DEL:
		nlh = pw_nl_request(nl, buf, PEERWATCH_CMD_POLICY_DEL, 0);
		*id = rnd_below(2) ? r->policy_ids[rnd_below(8)] : rnd_below(600);
		mnl_attr_put_u32(nlh, PEERWATCH_A_POLICY_ID, *id);
		allow(ok, 0);
		allow(ok, ENOENT);
		return nlh;
	case OP_POLICY_DUMP:
		nlh = pw_nl_request(nl, buf, PEERWATCH_CMD_POLICY_DUMP,
				    NLM_F_DUMP);
		allow(ok, 0);
		return nlh;
	case OP_POLICY_FLUSH:
		nlh = pw_nl_request(nl, buf, PEERWATCH_CMD_POLICY_FLUSH, 0);
		allow(ok, 0);
		return nlh;
	default:
		nlh = pw_nl_request(nl, buf, PEERWATCH_CMD_STATS_GET, 0);
		allow(ok, 0);
		return nlh;
	}
}

static void requester(int idx)
{
	static char buf[8192];
	struct req_nl r = { .gen = 1 };
	char who[32];

	snprintf(who, sizeof(who), "%s %d", __func__, idx);
	if (nl_socket(&r.nl)) {
		fail("%s: netlink socket: %s", who, strerror(errno));
		_exit(1);
	}
	while (!stopping()) {
		uint32_t g0, g1, id = 0;
		struct nlmsghdr *nlh;
		struct results ok = { 0 };
		mnl_cb_t cb;
		int op, ret, e;

		refresh(&r, who);
		if (!r.nl.family_id) {
			usleep(1000);
			continue;
		}
		g0 = gen_now();
		nlh = build(&r, buf, &op, &ok, &cb, &id);
		ret = pw_nl_talk(&r.nl, nlh, cb, &id);
		g1 = gen_now();
		e = -ret;
		if (e < 0 || e > MAX_ERRNO)
			e = MAX_ERRNO;
		inc(&sh->res[op][e]);
		/* The family may have gone or come back meanwhile. */
		if (g0 != r.gen || g1 != r.gen) {
			allow(&ok, ENOENT);
			allow(&ok, EPROTONOSUPPORT);
		}
		if (!ok.ok[e]) {
			fail("%s: %s: %s (%d)%s%s, generation %u/%u/%u",
			     who, op_names[op], e ? strerror(e) : "success",
			     e, r.nl.errmsg[0] ? ": " : "", r.nl.errmsg,
			     r.gen, g0, g1);
			break;
		}
		/* The module is away: give the CPU to the others. */
		if (ret == -ENOENT && (gen_now() & 1))
			usleep(1000);
		/* Remember some rule ids for POLICY_DEL to find. */
		if (op == OP_POLICY_ADD && !ret)
			r.policy_ids[rnd_below(8)] = id;
	}
	pw_nl_close(&r.nl);
	_exit(0);
}

/* ---- subscriber ---- */

static void subscriber(void)
{
	static char buf[PW_NL_RECV_SIZE];
	struct req_nl r = { .gen = 1 };
	uint32_t joined = 1;
	int rcvbuf = 1 << 20;

	while (!stopping()) {
		struct pollfd pfd;
		const struct nlmsghdr *nlh;
		size_t len;
		ssize_t n;

		if (gen_now() != joined && !(gen_now() & 1)) {
			/* Memberships went with the family: join again. */
			pw_nl_close(&r.nl);
			r.gen = 1;
			if (nl_socket(&r.nl)) {
				fail("%s: netlink socket: %s", __func__,
				     strerror(errno));
				break;
			}
			setsockopt(pw_nl_fd(&r.nl), SOL_SOCKET, SO_RCVBUF,
				   &rcvbuf, sizeof(rcvbuf));
			refresh(&r, "subscriber");
			if (r.gen == 1)
				continue;
			if (pw_nl_join_events(&r.nl)) {
				/* Unloaded again since: wait for the next. */
				if (errno != ENOENT && errno != EINVAL)
					fail("%s: join: %s", __func__,
					     strerror(errno));
				continue;
			}
			joined = r.gen;
			inc(&sh->subscriber_joins);
		}
		if (!r.nl.sock) {
			usleep(5000);
			continue;
		}
		pfd.fd = pw_nl_fd(&r.nl);
		pfd.events = POLLIN;
		if (poll(&pfd, 1, 50) <= 0)
			continue;
		n = recv(pfd.fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n < 0) {
			if (errno == ENOBUFS)
				inc(&sh->enobufs);
			else if (errno != EAGAIN)
				fail("%s: recv: %s", __func__, strerror(errno));
			continue;
		}
		len = n;
		for (nlh = (void *)buf; pw_nlmsg_ok(nlh, len);
		     nlh = pw_nlmsg_next(nlh, &len)) {
			struct pw_event ev;

			if (nlh->nlmsg_type != r.nl.family_id)
				continue;
			if (pw_event_parse(nlh, &ev) ||
			    ev.cmd != PEERWATCH_CMD_EVENT || !ev.event ||
			    ev.event > PEERWATCH_EVENT_MAX || !ev.cookie ||
			    (ev.family != AF_INET && ev.family != AF_INET6) ||
			    (ev.event == PEERWATCH_EVENT_DEAD &&
			     (!ev.reason || ev.reason > PEERWATCH_REASON_MAX))) {
				fail("%s: malformed event (event %u, reason %u, family %u)",
				     __func__, ev.event, ev.reason, ev.family);
				break;
			}
			inc(&sh->events[ev.event]);
		}
	}
	pw_nl_close(&r.nl);
	_exit(0);
}

/* ---- lossy connections ---- */

/*
 * VICTIMS connections with a 3 s user timeout to the lossy port, each
 * sending 200 bytes every 300 ms: their retransmissions keep sockets in
 * SUSPECT episodes (tracked by the module) across the reloads. One that
 * died, or sent 20 times, is replaced.
 */
static void victims(void)
{
	int c[VICTIMS], s[VICTIMS], sent[VICTIMS] = { 0 }, lfd, i, peer;
	char buf[4096];

	memset(buf, 'v', sizeof(buf));
	lfd = listen_on(AF_INET, PORT_LOSSY);
	if (lfd < 0) {
		fail("%s: listener: %s", __func__, strerror(errno));
		_exit(1);
	}
	for (i = 0; i < VICTIMS; i++)
		c[i] = -1;
	while (!stopping()) {
		for (i = 0; i < VICTIMS; i++) {
			if (c[i] >= 0 && sent[i] < 20 &&
			    send(c[i], buf, 200, MSG_DONTWAIT | MSG_NOSIGNAL) >= 0) {
				sent[i]++;
				recv(s[i], buf, sizeof(buf), MSG_DONTWAIT);
				continue;
			}
			if (c[i] >= 0)
				close_pair(c[i], s[i]);
			peer = lfd;
			c[i] = connect_one(AF_INET, PORT_LOSSY, &peer);
			if (c[i] < 0) {
				fail("%s: connect: %s", __func__, strerror(errno));
				_exit(1);
			}
			s[i] = peer;
			sent[i] = 0;
			setsockopt(c[i], IPPROTO_TCP, TCP_USER_TIMEOUT,
				   &(unsigned int){ 3000 }, sizeof(unsigned int));
			inc(&sh->victims);
		}
		usleep(300000);
	}
	_exit(0);
}

/* ---- netns churn ---- */

static int lo_up(void)
{
	struct ifreq ifr = { .ifr_name = "lo" };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), ret = -1;

	if (fd < 0)
		return -errno;
	if (!ioctl(fd, SIOCGIFFLAGS, &ifr)) {
		ifr.ifr_flags |= IFF_UP;
		ret = ioctl(fd, SIOCSIFFLAGS, &ifr);
	}
	ret = ret ? -errno : 0;
	close(fd);
	return ret;
}

/*
 * In a netns of its own: a connection with a user timeout, a rule, a
 * SOCK_SET on the connection, then exit with all of it still there, so
 * that the module's per-netns state dies with the netns, while reloads go
 * on. A missing family (ENOENT) is the only other result allowed.
 */
static void netns_one(void)
{
	static struct pw_ctrl_family f;
	static char buf[8192];
	struct pw_nl nl;
	struct nlmsghdr *nlh;
	int lfd, fds[2], ret, bad;

	if (unshare(CLONE_NEWNET) || lo_up()) {
		fail("%s: new netns: %s", __func__, strerror(errno));
		_exit(1);
	}
	lfd = listen_on(AF_INET, PORT_V4);
	fds[1] = lfd;
	fds[0] = lfd < 0 ? -1 : connect_one(AF_INET, PORT_V4, &fds[1]);
	if (fds[0] < 0 || nl_socket(&nl)) {
		fail("%s: setup: %s", __func__, strerror(errno));
		_exit(1);
	}
	ret = pw_ctrl_find(nl.sock, PEERWATCH_GENL_NAME, PEERWATCH_MCGRP_EVENTS,
			   &f);
	if (ret == -ENOENT) {
		inc(&sh->netns_absent);
		_exit(0);
	}
	nl.family_id = f.id;
	do {
		nlh = pw_nl_request(&nl, buf, PEERWATCH_CMD_POLICY_ADD, 0);
		put_random_rule(nlh, &bad);
	} while (bad);
	ret = pw_nl_talk(&nl, nlh, NULL, NULL);
	if (!ret)
		inc(&sh->netns_rules);
	if (!ret || ret == -ENOENT)
		ret = pw_sock_set(&nl, fds[0], pw_cookie(fds[0]), 1000);
	if (ret && ret != -ENOENT)
		fail("%s: %s", __func__, strerror(-ret));
	_exit(0);
}

static void netns_churn(void)
{
	int status;
	pid_t pid;

	while (!stopping()) {
		pid = fork();
		if (pid < 0) {
			fail("%s: fork: %s", __func__, strerror(errno));
			break;
		}
		if (!pid)
			netns_one();
		if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
		    WEXITSTATUS(status))
			fail("%s: child status %#x", __func__, status);
		inc(&sh->netns);
		/* A netns costs the guest much: a few per second. */
		usleep(200000 + rnd_below(200000));
	}
	_exit(0);
}

/* ---- reloader ---- */

static int ko_memfd(void)
{
	const char *ko = getenv("PEERWATCH_KO") ?: "peerwatch.ko";
	int in, fd;
	char buf[65536];
	ssize_t n;

	/* Loads read the module from memory, not from 9p each time. */
	in = open(ko, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return -errno;
	fd = memfd_create("peerwatch.ko", MFD_CLOEXEC);
	if (fd < 0) {
		close(in);
		return -errno;
	}
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(fd, buf, n) != n)
			n = -1;
	close(in);
	if (n < 0) {
		close(fd);
		return -EIO;
	}
	return fd;
}

static int unload(void)
{
	return syscall(SYS_delete_module, "peerwatch", O_NONBLOCK) ? -errno : 0;
}

/* With the tenant's bound while the test runs, the defaults after. */
static const char *load_params = "";

static int load(int fd)
{
	return syscall(SYS_finit_module, fd, load_params, 0) ? -errno : 0;
}

/*
 * The "unloaded, N live objects" lines logged since the last call:
 * their number, and -1 in @bad if one said anything but 0.
 */
static int unload_logs(int kmsg, long *bad)
{
	char rec[2048];
	const char *p;
	ssize_t n;
	int count = 0;

	for (;;) {
		errno = 0;
		n = read(kmsg, rec, sizeof(rec) - 1);
		if (n < 0 && errno == EPIPE)
			continue;	/* records overwritten: read on */
		if (n <= 0)
			break;
		rec[n] = '\0';
		p = strstr(rec, "peerwatch: unloaded, ");
		if (!p)
			continue;
		count++;
		if (strtol(p + strlen("peerwatch: unloaded, "), NULL, 10))
			*bad = strtol(p + strlen("peerwatch: unloaded, "),
				      NULL, 10);
	}
	return count;
}

static void account(long *total, long *max, uint64_t t0)
{
	long ms = pw_now_ms() - t0;

	*total += ms;
	if (ms > *max)
		*max = ms;
}

/*
 * The first instance stays until the subscriber has had a DEAD and a
 * SUSPECT from it (at most FIRST_EVENTS_MS): the events are then asserted
 * whatever the unloads cost. They can cost the whole run: on the debug
 * kernel under TCG the exit path's rcu_barrier() (unregister_pernet_subsys)
 * waits for an RCU callback backlog the load grows faster than the one
 * vCPU drains it, so an unload started under load ends when the load does.
 */
#define FIRST_EVENTS_MS	30000

static void first_events(void)
{
	uint64_t end = pw_now_ms() + FIRST_EVENTS_MS;

	while (pw_now_ms() < end &&
	       (!__atomic_load_n(&sh->events[PEERWATCH_EVENT_DEAD],
				 __ATOMIC_RELAXED) ||
		!__atomic_load_n(&sh->events[PEERWATCH_EVENT_SUSPECT],
				 __ATOMIC_RELAXED)))
		usleep(20000);
}

static void reloader(int kofd, int kmsg)
{
	uint64_t end, t0, t_loaded = pw_now_ms();
	long bad = 0;
	int ret;

	first_events();
	/* At least one reload, even when the connectors are done by now. */
	while (!sh->reloads || !stopping()) {
		if (sh->reloads)
			usleep(50000 + rnd_below(250000));
		sh->loaded_ms += pw_now_ms() - t_loaded;
		if (sh->reloads && stopping())
			break;
		__atomic_fetch_add(&sh->gen, 1, __ATOMIC_SEQ_CST);
		end = pw_now_ms() + 20000;
		/* A dump in progress holds the module: EWOULDBLOCK. */
		for (;;) {
			t0 = pw_now_ms();
			ret = unload();
			account(&sh->unload_ms, &sh->unload_max_ms, t0);
			if (ret != -EWOULDBLOCK || pw_now_ms() >= end)
				break;
			inc(&sh->unload_busy);
			usleep(2000);
		}
		if (ret) {
			fail("%s: unload: %s", __func__, strerror(-ret));
			break;
		}
		sh->unload_logs += unload_logs(kmsg, &bad);
		if (bad) {
			fail("%s: an unload left %ld live objects", __func__,
			     bad);
			break;
		}
		usleep(rnd_below(30000));
		t0 = pw_now_ms();
		ret = load(kofd);
		account(&sh->load_ms, &sh->load_max_ms, t0);
		if (ret) {
			fail("%s: load: %s", __func__, strerror(-ret));
			_exit(1);
		}
		__atomic_fetch_add(&sh->gen, 1, __ATOMIC_SEQ_CST);
		inc(&sh->reloads);
		t_loaded = pw_now_ms();
	}
	/* Leave it loaded. */
	if (__atomic_load_n(&sh->gen, __ATOMIC_SEQ_CST) & 1) {
		ret = load(kofd);
		if (ret)
			fail("%s: last load: %s", __func__, strerror(-ret));
		__atomic_fetch_add(&sh->gen, 1, __ATOMIC_SEQ_CST);
	}
	_exit(0);
}

/* ---- the test ---- */

/* Active objects of the TCP and TCPv6 socket slabs. */
static long tcp_slab_objects(void)
{
	FILE *f = fopen("/proc/slabinfo", "r");
	char line[512], name[64];
	long total = 0, active;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%63s %ld", name, &active) == 2 &&
		    (!strcmp(name, "TCP") || !strcmp(name, "TCPv6")))
			total += active;
	fclose(f);
	return total;
}

static long module_refcnt(void)
{
	FILE *f = fopen("/sys/module/peerwatch/refcnt", "r");
	long n = -1;

	if (!f)
		return -1;
	if (fscanf(f, "%ld", &n) != 1)
		n = -1;
	fclose(f);
	return n;
}

FIXTURE(stress) {
	pid_t pids[CONNECTORS + REQUESTERS + 4];
	int npids;
	int kofd, kmsg;
	struct pw_tenant ten;
	char quota[32];
};

FIXTURE_SETUP(stress)
{
	self->kofd = ko_memfd();
	ASSERT_LE(0, self->kofd) TH_LOG("PEERWATCH_KO: %s", strerror(-self->kofd));
	self->kmsg = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	ASSERT_LE(0, self->kmsg);
	ASSERT_LE(0, lseek(self->kmsg, 0, SEEK_END));
	self->ten.pid = -1;
	ASSERT_EQ(0, pw_param_get("netns_max_tracked", self->quota,
				  sizeof(self->quota)));
	ASSERT_EQ(0, unshare(CLONE_NEWNET));
	ASSERT_EQ(0, pw_sh("ip link set lo up"));
	/*
	 * Lossy port: half the segments with data to it are lost (at
	 * input: a drop at output is a local error TCP just retries), so that
	 * its connections retransmit, go SUSPECT and RECOVERED, or DEAD.
	 */
	ASSERT_EQ(0, pw_sh("nft -f - <<'EOF'\n"
			   "table inet pwstress {\n"
			   "  chain in { type filter hook input priority 0;\n"
			   "    tcp dport %d ip length > 100 numgen random mod 10 < 5 drop;\n"
			   "  }\n"
			   "}\nEOF", PORT_LOSSY));
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, sh);
}

FIXTURE_TEARDOWN(stress)
{
	int i;

	for (i = 0; i < self->npids; i++) {
		kill(self->pids[i], SIGKILL);
		waitpid(self->pids[i], NULL, 0);
	}
	pw_tenant_stop(&self->ten);
	/* Whatever happened, leave the module loaded for the next tests. */
	load_params = "";
	if (module_refcnt() < 0)
		load(self->kofd);
	else
		pw_param_set("netns_max_tracked", self->quota);
	close(self->kofd);
	close(self->kmsg);
}

static pid_t spawn(FIXTURE_DATA(stress) *self, uint64_t seed, int role,
		   int idx, long cycles)
{
	pid_t pid = fork();

	if (pid)
		return self->pids[self->npids++] = pid;
	rng_state = seed * 0x9E3779B97F4A7C15ULL + role * 1000 + idx + 1;
	switch (role) {
	case 0:
		connector(idx, cycles);
		break;
	case 1:
		requester(idx);
		break;
	case 2:
		subscriber();
		break;
	case 3:
		netns_churn();
		break;
	case 5:
		victims();
		break;
	default:
		reloader(self->kofd, self->kmsg);
	}
	_exit(0);
}

static void print_results(struct __test_metadata *_metadata)
{
	char line[1024];
	int op, e, n;
	long total;

	for (op = 0; op < OP_MAX; op++) {
		total = 0;
		n = snprintf(line, sizeof(line), "%-22s", op_names[op]);
		for (e = 0; e <= MAX_ERRNO; e++) {
			if (!sh->res[op][e])
				continue;
			total += sh->res[op][e];
			n += snprintf(line + n, sizeof(line) - n, " %s %ld",
				      e ? strerrorname_np(e) ?: "?" : "ok",
				      sh->res[op][e]);
		}
		TH_LOG("%s (%ld)", line, total);
	}
}

TEST_F_TIMEOUT(stress, reload_under_load, 400)
{
	struct rlimit rl = { 4096, 4096 };
	const char *env = getenv("PW_STRESS_CYCLES");
	long cycles = env ? strtol(env, NULL, 10) : DEFAULT_CYCLES;
	uint64_t seed, t0, t_run, t_end, deadline;
	long slab0, slab, ref, requests = 0, bad = 0;
	struct pw_tenant_report tr;
	struct pw_stats st;
	struct pw_nl nl;
	pid_t conns[CONNECTORS];
	int i, op, e, status, ret;

	env = getenv("PW_STRESS_SEED");
	seed = env ? strtoull(env, NULL, 0) : pw_now_ns();
	ASSERT_GT(cycles, 0);
	TH_LOG("seed %llu (PW_STRESS_SEED), %ld cycles (PW_STRESS_CYCLES)",
	       (unsigned long long)seed, cycles);
	ASSERT_EQ(0, setrlimit(RLIMIT_NOFILE, &rl));
	slab0 = tcp_slab_objects();
	ASSERT_LE(0, slab0);

	/* The hostile tenant first, its table full before the rest starts. */
	load_params = TENANT_PARAMS;
	ASSERT_EQ(0, pw_param_set("netns_max_tracked",
				  strchr(TENANT_PARAMS, '=') + 1));
	ret = pw_tenant_start(&self->ten, TENANT_QUOTA + 64, true);
	if (ret == -EPERM || ret == -EINVAL || ret == -ENOSPC) {
		TH_LOG("no hostile tenant: no user namespace for nobody (%s)",
		       strerror(-ret));
		pw_tenant_stop(&self->ten);
	} else {
		ASSERT_EQ(0, ret);
		ASSERT_EQ(0, pw_tenant_wait_full(&self->ten, TENANT_QUOTA,
						 60000, &tr));
		TH_LOG("hostile tenant: %d connections, tracked %llu, untracked %llu",
		       tr.conns, (unsigned long long)tr.tracked,
		       (unsigned long long)tr.untracked);
	}

	t0 = pw_now_ms();
	for (i = 0; i < CONNECTORS; i++)
		conns[i] = spawn(self, seed, 0, i, cycles / CONNECTORS +
				 (i < cycles % CONNECTORS));
	for (i = 0; i < REQUESTERS; i++)
		spawn(self, seed, 1, i, 0);
	spawn(self, seed, 2, 0, 0);
	spawn(self, seed, 3, 0, 0);
	spawn(self, seed, 4, 0, 0);
	spawn(self, seed, 5, 0, 0);

	deadline = t0 + RUN_LIMIT_S * 1000;
	for (i = 0; i < CONNECTORS; i++) {
		while (!(ret = waitpid(conns[i], &status, WNOHANG)) &&
		       pw_now_ms() < deadline)
			usleep(50000);
		if (ret != conns[i])
			fail("connectors still running after %d s (%ld cycles)",
			     RUN_LIMIT_S, sh->cycles);
	}
	t_run = pw_now_ms() - t0;
	__atomic_store_n(&sh->stop, 1, __ATOMIC_SEQ_CST);
	for (i = 0; i < self->npids; i++) {
		if (waitpid(self->pids[i], &status, 0) == self->pids[i] &&
		    (!WIFEXITED(status) || WEXITSTATUS(status)))
			fail("child %d (%d) exited with status %#x", i,
			     self->pids[i], status);
	}
	self->npids = 0;

	TH_LOG("%ld connect/close cycles in %llu ms by %d connectors, %ld reloads (%ld unloads retried while busy), %ld resolutions found no family",
	       sh->cycles, (unsigned long long)t_run, CONNECTORS, sh->reloads,
	       sh->unload_busy, sh->absent_resolves);
	for (op = 0; op < OP_MAX; op++)
		for (e = 0; e <= MAX_ERRNO; e++)
			requests += sh->res[op][e];
	TH_LOG("%ld requests by %d requesters, by result:", requests,
	       REQUESTERS);
	print_results(_metadata);
	TH_LOG("subscriber: %ld joins, events suspect %ld recovered %ld dead %ld, ENOBUFS %ld",
	       sh->subscriber_joins, sh->events[PEERWATCH_EVENT_SUSPECT],
	       sh->events[PEERWATCH_EVENT_RECOVERED],
	       sh->events[PEERWATCH_EVENT_DEAD], sh->enobufs);
	TH_LOG("lossy connections: %ld", sh->victims);
	TH_LOG("netns churn: %ld netns, %ld with a rule, %ld found no family",
	       sh->netns, sh->netns_rules, sh->netns_absent);
	TH_LOG("reloads: unload calls %ld ms (longest %ld), loads %ld ms (longest %ld), loaded %ld ms between them",
	       sh->unload_ms, sh->unload_max_ms, sh->load_ms,
	       sh->load_max_ms, sh->loaded_ms);
	ASSERT_EQ(0, sh->failed) TH_LOG("%s", sh->why);
	ASSERT_EQ(cycles, sh->cycles);
	ASSERT_LT(0, sh->reloads);
	EXPECT_EQ(sh->reloads, sh->unload_logs);
	/*
	 * RSTs to connections with a user timeout: some DEAD were seen; the
	 * lossy connections, always retransmitting, had tracked episodes
	 * (the first instance waited for both). RECOVERED, which needs the
	 * same module instance through a whole episode, is only counted.
	 */
	EXPECT_LT(0, sh->events[PEERWATCH_EVENT_DEAD]);
	EXPECT_LT(0, sh->events[PEERWATCH_EVENT_SUSPECT]);

	/*
	 * The tenant, through every reload: its table full again (its newest
	 * sockets enter their episode at their first RTO), then gone.
	 */
	if (self->ten.pid > 0) {
		EXPECT_EQ(0, pw_tenant_wait_full(&self->ten, TENANT_QUOTA,
						 40000, &tr));
		TH_LOG("hostile tenant after: tracked %llu, untracked %llu, suspect %llu",
		       (unsigned long long)tr.tracked,
		       (unsigned long long)tr.untracked,
		       (unsigned long long)tr.suspect);
		pw_tenant_stop(&self->ten);
	}

	/* Settled: no rule, no socket; the module's objects all gone. */
	t_end = pw_now_ms();
	ASSERT_EQ(0, pw_nl_open(&nl));
	ASSERT_EQ(0, pw_simple(&nl, PEERWATCH_CMD_POLICY_FLUSH));
	deadline = pw_now_ms() + 10000;
	do {
		ASSERT_EQ(0, pw_stats_get(&nl, &st));
		if (!st.v[PEERWATCH_STAT_A_LIVE_OBJECTS])
			break;
		usleep(20000);
	} while (pw_now_ms() < deadline);
	pw_nl_close(&nl);
	EXPECT_EQ(0U, st.v[PEERWATCH_STAT_A_LIVE_OBJECTS]);
	deadline = pw_now_ms() + 5000;
	while ((ref = module_refcnt()) != 0 && pw_now_ms() < deadline)
		usleep(20000);
	EXPECT_EQ(0, ref);
	deadline = pw_now_ms() + 20000;
	while ((slab = tcp_slab_objects()) > slab0 + 256 &&
	       pw_now_ms() < deadline)
		usleep(100000);
	TH_LOG("TCP socket slab objects: %ld before, %ld after; module refcount %ld; settled in %llu ms",
	       slab0, slab, ref, (unsigned long long)(pw_now_ms() - t_end));
	EXPECT_GE(slab0 + 256, slab);

	ASSERT_EQ(0, unload()) TH_LOG("the final unload failed");
	EXPECT_EQ(1, unload_logs(self->kmsg, &bad));
	EXPECT_EQ(0, bad);
	load_params = "";
	ASSERT_EQ(0, load(self->kofd));
}

TEST_HARNESS_MAIN

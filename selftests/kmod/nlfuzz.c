// SPDX-License-Identifier: GPL-2.0
/*
 * Random-attribute netlink fuzzing of every command of the family, a third
 * of the messages each from root, from nobody (no capability), and from
 * nobody in a user and network namespace of its own (CAP_NET_ADMIN over
 * that netns only: what GENL_UNS_ADMIN_PERM commands let any user reach
 * where unprivileged user namespaces are allowed). Each netns holds one
 * live loopback connection.
 *
 * The commands and their attribute policies come from the controller's
 * dumps (CTRL_CMD_GETFAMILY, CTRL_CMD_GETPOLICY), so a command or an
 * attribute added later is fuzzed too. Three messages in five are chaos:
 * a command of the family (or, one time in eight, any command number),
 * random flags (NLM_F_DUMP on commands without a dump, NLM_F_ROOT or
 * NLM_F_MATCH alone, no NLM_F_REQUEST...), a random genl version,
 * sometimes a dirty reserved field or a header cut short, and up to 10
 * attributes: well-formed for the command's policy; of random types,
 * lengths (0 included) and flags; nested garbage; oversized; duplicated;
 * the last one sometimes claiming more bytes than the message holds. Two
 * in five are clean but for their values: a command of the family with
 * the flags it takes, and each attribute of its policy or not, its value
 * in, at the edges of or out of the policy's range (a wrong width or
 * length now and then). Half the clean ones and one chaos message in ten
 * carry the tuple and cookie of the live connection, so that lookups
 * succeed and what follows them runs too.
 *
 * Every message gets one answer (a 30 s receive timeout fails the test),
 * and the answer must be one the message allows:
 *
 *   without NLM_F_REQUEST: the plain ACK (0)
 *   header cut short, reserved field set, or a flag other than
 *       NLM_F_REQUEST, NLM_F_ACK, NLM_F_ECHO and the whole NLM_F_DUMP: EINVAL
 *   command the family does not have: EOPNOTSUPP
 *   admin command from nobody, or a GENL_ADMIN_PERM one from nobody in
 *       its userns: EPERM (or EOPNOTSUPP, as 6.12 checks the do/dump kind
 *       first)
 *   do on a dump-only command, dump on a do-only one: EOPNOTSUPP
 *   otherwise: 0, EINVAL, ERANGE (value or length outside the policy),
 *       ENOENT (no such socket or rule), ENOSPC (rule table full)
 *
 * Anything else, a reply that does not parse, or a success of an admin
 * command from nobody fails the test. All along, a hostile tenant
 * (pw_tenant.h) keeps its netns's table full (TENANT_QUOTA, lowered for
 * the run) with blackholed sockets, replacing some each second. Afterwards
 * the kernel must still be healthy: a valid SOCK_GET finds each live
 * connection with its cookie, the tenant's table was full all along, once
 * our rules are flushed and the tenant is gone (nobody's rules and the
 * tenant's entries went with their netns) the module's live objects are
 * back where they started, and its refcount is 0.
 * vm-run fails the run on any WARN or oops.
 *
 * PW_FUZZ_SEED=N reproduces a run's messages (the seed is printed),
 * PW_FUZZ_ITERS=N sets the number of messages (a third for each sender).
 */
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "kselftest_harness.h"
#include "pw_test.h"
#include "pw_ctrl.h"
#include "pw_tenant.h"

#define DEFAULT_ITERS	750000
#define MAX_ERRNO	134
#define MSG_MAX		4096
#define NCMD		256
#define FUZZ_PORT	22000
#define TENANT_QUOTA	256

struct fuzz_stats {
	int failed;
	int skipped;		/* no unprivileged user namespaces */
	char why[1024];
	int health;		/* SOCK_GET of the live connection after */
	long msgs;
	long replies;
	long res[NCMD][MAX_ERRNO + 1];
	long by_errno[MAX_ERRNO + 1];
};

/*
 * Who sends: root; nobody without any capability; nobody in a user and
 * network namespace of its own, where it holds CAP_NET_ADMIN over that
 * netns only (what GENL_UNS_ADMIN_PERM lets any user reach).
 */
enum sender { ROOT, NOBODY, NOBODY_USERNS, N_WHO };

static const char *const who_names[N_WHO] = {
	"root", "nobody", "nobody in its own userns",
};

static struct fuzz_stats *stats;
static struct pw_ctrl_family fam;

/* The live connection, seen from the client's end. */
struct tuple {
	uint16_t family, sport, dport;
	struct in_addr saddr, daddr;
	uint64_t cookie;
};

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

static void rnd_bytes(void *p, size_t len)
{
	uint8_t *b = p;

	while (len--)
		*b++ = rnd();
}

struct msg {
	char buf[MSG_MAX];
	struct nlmsghdr *nlh;
};

static bool room(const struct msg *m, size_t len)
{
	return m->nlh->nlmsg_len + NLA_HDRLEN + len + 8 <= MSG_MAX;
}

/* Append an attribute with raw type bits and @len bytes of @data. */
static struct nlattr *put(struct msg *m, uint16_t type, const void *data,
			  size_t len)
{
	struct nlattr *a;

	if (!room(m, len))
		return NULL;
	a = (struct nlattr *)((char *)m->nlh + NLMSG_ALIGN(m->nlh->nlmsg_len));
	a->nla_type = type;
	a->nla_len = NLA_HDRLEN + len;
	if (data)
		memcpy((char *)a + NLA_HDRLEN, data, len);
	else
		rnd_bytes((char *)a + NLA_HDRLEN, len);
	m->nlh->nlmsg_len = NLMSG_ALIGN(m->nlh->nlmsg_len) + NLA_ALIGN(a->nla_len);
	return a;
}

static int type_width(uint32_t t)
{
	switch (t) {
	case NL_ATTR_TYPE_U8:
	case NL_ATTR_TYPE_S8:
		return 1;
	case NL_ATTR_TYPE_U16:
	case NL_ATTR_TYPE_S16:
		return 2;
	case NL_ATTR_TYPE_U32:
	case NL_ATTR_TYPE_S32:
		return 4;
	case NL_ATTR_TYPE_U64:
	case NL_ATTR_TYPE_S64:
		return 8;
	}
	return 0;
}

/* A value for an integer attribute: in range, at its edges, or not. */
static uint64_t int_value(const struct pw_ctrl_attr *pa)
{
	switch (rnd_below(pa->has_range || pa->has_mask ? 8 : 3)) {
	case 0:
		return rnd();
	case 1: {
		/* Small numbers, address families, prefix lengths... */
		static const uint64_t some[] = {
			0, 1, 2, 3, 10, 16, 31, 32, 33, 64, 127, 128, 129,
			255, 256, 1000, 65535, 0x7fffffff, 0x80000000,
		};

		return some[rnd_below(ARRAY_SIZE(some))];
	}
	case 2:
		return ~0ULL - rnd_below(2);
	case 3:
		if (pa->has_mask)
			return pa->mask;
		return pa->min;
	case 4:
		if (pa->has_mask)
			return ~pa->mask & rnd();
		return pa->max;
	case 5:
		return pa->has_mask ? pa->mask + 1 : pa->min - 1;
	case 6:
		return pa->has_mask ? rnd() & pa->mask : pa->max + 1;
	}
	if (pa->has_range && pa->max > pa->min && pa->max - pa->min < ~0ULL)
		return pa->min + rnd() % (pa->max - pa->min + 1);
	return rnd();
}

/* Attribute @type of policy @pol, with a random value of its type. */
static void put_value(struct msg *m, const struct pw_ctrl_attr *pol, int type)
{
	const struct pw_ctrl_attr *pa = &pol[type];
	int w = type_width(pa->type), len;
	uint8_t data[64];
	uint64_t v;

	if (w) {
		v = int_value(pa);
		memcpy(data, &v, w);	/* little endian: the low bytes */
		len = w;
		if (!rnd_below(16))
			len = rnd_below(9);	/* wrong width */
		put(m, type, data, len);
		return;
	}
	len = pa->has_len ? pa->min_len : rnd_below(20);
	if (!rnd_below(8))
		len = rnd_below(len + 2);	/* a wrong length */
	if (len > (int)sizeof(data))
		len = sizeof(data);
	put(m, type, NULL, len);
}

/* An attribute the policy accepts, with a random value of its type. */
static void put_wellformed(struct msg *m, const struct pw_ctrl_attr *pol)
{
	int tries, type;

	if (!pol)
		return;
	for (tries = 0; tries < 8; tries++) {
		type = rnd_below(PW_CTRL_MAX_ATTRS);
		if (pol[type].type) {
			put_value(m, pol, type);
			return;
		}
	}
}

/* Random attributes inside a nest, nested again one time in four. */
static void put_nested_garbage(struct msg *m, int depth)
{
	struct nlattr *nest;
	int n = rnd_below(4);
	char *start;

	nest = put(m, rnd_below(fam.maxattr + 4) | NLA_F_NESTED, NULL, 0);
	if (!nest)
		return;
	start = (char *)nest;
	while (n--) {
		if (depth < 3 && !rnd_below(4))
			put_nested_garbage(m, depth + 1);
		else
			put(m, rnd_below(64) | (rnd_below(8) ? 0 : NLA_F_NESTED),
			    NULL, rnd_below(12));
	}
	nest->nla_len = (char *)m->nlh + m->nlh->nlmsg_len - start;
}

static void put_tuple(struct msg *m, const struct tuple *t)
{
	put(m, PEERWATCH_A_FAMILY, &t->family, 2);
	put(m, PEERWATCH_A_SADDR4, &t->saddr, 4);
	put(m, PEERWATCH_A_DADDR4, &t->daddr, 4);
	put(m, PEERWATCH_A_SPORT, &t->sport, 2);
	put(m, PEERWATCH_A_DPORT, &t->dport, 2);
	put(m, PEERWATCH_A_COOKIE, &t->cookie, 8);
}

static bool in_tuple(int type)
{
	return type == PEERWATCH_A_FAMILY || type == PEERWATCH_A_SADDR4 ||
	       type == PEERWATCH_A_DADDR4 || type == PEERWATCH_A_SPORT ||
	       type == PEERWATCH_A_DPORT || type == PEERWATCH_A_COOKIE;
}

static const struct pw_ctrl_op *find_op(unsigned int cmd)
{
	int i;

	for (i = 0; i < fam.n_ops; i++)
		if (fam.ops[i].cmd == cmd)
			return &fam.ops[i];
	return NULL;
}

/* The results a message allows: 0 for success, else errno values. */
struct results {
	bool ok[MAX_ERRNO + 1];
};

static void allow(struct results *r, int n, ...)
{
	va_list ap;

	va_start(ap, n);
	while (n--)
		r->ok[va_arg(ap, int)] = true;
	va_end(ap);
}

/* Build one random message in @m, and the results it allows in @ok. */
static void build(struct msg *m, const struct tuple *t, enum sender who,
		  uint32_t seq, uint8_t *cmd_out, struct results *ok)
{
	static const uint16_t extra[] = {
		NLM_F_ROOT, NLM_F_MATCH, NLM_F_ECHO, NLM_F_ATOMIC,
		NLM_F_EXCL, NLM_F_CREATE, NLM_F_APPEND, NLM_F_MULTI,
		NLM_F_NONREC,
	};
	const struct pw_ctrl_op *op;
	const struct pw_ctrl_attr *pol = NULL;
	struct genlmsghdr *genl;
	struct nlattr *last = NULL;
	bool dump, req = true, shortmsg = false, dirty = false;
	/* Two messages in five are clean but for their values. */
	bool clean = rnd_below(5) < 2;
	int i, n, pidx;
	uint8_t cmd;

	memset(m->buf, 0, sizeof(m->buf));
	m->nlh = (struct nlmsghdr *)m->buf;
	m->nlh->nlmsg_len = NLMSG_HDRLEN + GENL_HDRLEN;
	m->nlh->nlmsg_type = fam.id;
	m->nlh->nlmsg_seq = seq;
	m->nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;

	if (clean || rnd_below(8))
		cmd = fam.ops[rnd_below(fam.n_ops)].cmd;
	else
		cmd = rnd();
	*cmd_out = cmd;
	op = find_op(cmd);
	if (clean)
		dump = !(op->flags & GENL_CMD_CAP_DO) ||
		       ((op->flags & GENL_CMD_CAP_DUMP) && rnd_below(2));
	else
		dump = op && (op->flags & GENL_CMD_CAP_DUMP) ?
		       rnd_below(4) != 0 : rnd_below(6) == 0;
	if (dump)
		m->nlh->nlmsg_flags |= NLM_F_DUMP;
	if (!clean && !rnd_below(5))
		m->nlh->nlmsg_flags |= extra[rnd_below(ARRAY_SIZE(extra))];
	if (!clean && !rnd_below(50)) {
		m->nlh->nlmsg_flags &= ~NLM_F_REQUEST;
		req = false;
	}
	dump = (m->nlh->nlmsg_flags & NLM_F_DUMP) == NLM_F_DUMP;
	/* The core takes no flag but these: any other is EINVAL. */
	if (m->nlh->nlmsg_flags & ~(NLM_F_REQUEST | NLM_F_ACK | NLM_F_ECHO |
				    (dump ? NLM_F_DUMP : 0)))
		dirty = true;

	genl = (struct genlmsghdr *)NLMSG_DATA(m->nlh);
	genl->cmd = cmd;
	genl->version = rnd_below(5) ? fam.version : rnd();
	if (!clean && !rnd_below(40)) {
		genl->reserved = rnd() | 1;
		dirty = true;
	}

	if (op) {
		pidx = dump ? op->dump_policy : op->do_policy;
		if (pidx >= 0 && pidx < fam.n_policies)
			pol = fam.policy[pidx];
	}
	if (clean) {
		/* Each attribute the policy takes, or not, once. */
		bool tuple = t && rnd_below(2);

		if (tuple)
			put_tuple(m, t);
		for (i = 0; pol && i < PW_CTRL_MAX_ATTRS; i++)
			if (pol[i].type && !(tuple && in_tuple(i)) &&
			    !rnd_below(3))
				put_value(m, pol, i);
		n = 0;
	} else {
		if (t && !rnd_below(10))
			put_tuple(m, t);
		n = rnd_below(11);
	}
	for (i = 0; i < n; i++) {
		char *before = (char *)m->nlh + m->nlh->nlmsg_len;
		unsigned int k = rnd_below(100);

		if (k < 50 && pol)
			put_wellformed(m, pol);
		else if (k < 70)
			put(m, rnd_below(fam.maxattr + 4), NULL, rnd_below(20));
		else if (k < 78)
			put_nested_garbage(m, 0);
		else if (k < 82)
			put(m, rnd_below(fam.maxattr + 4) | NLA_F_NET_BYTEORDER,
			    NULL, rnd_below(9));
		else if (k < 86)
			put(m, rnd() & 0xffff, NULL, rnd_below(12));
		else if (k < 90)
			put(m, rnd_below(fam.maxattr + 1), NULL,
			    100 + rnd_below(1000));
		else if (last)
			put(m, last->nla_type, (char *)last + NLA_HDRLEN,
			    last->nla_len - NLA_HDRLEN);	/* duplicate */
		if ((char *)m->nlh + m->nlh->nlmsg_len > before)
			last = (struct nlattr *)before;
	}
	/* The last attribute claims more than the message holds, or less
	 * than its own header.
	 */
	if (!clean && last && !rnd_below(12))
		last->nla_len = rnd_below(2) ? last->nla_len + 1 + rnd_below(64) :
					       rnd_below(NLA_HDRLEN);
	if (!clean && !rnd_below(40)) {
		m->nlh->nlmsg_len = NLMSG_HDRLEN + rnd_below(GENL_HDRLEN);
		shortmsg = true;
	}

	memset(ok, 0, sizeof(*ok));
	if (!req)
		allow(ok, 1, 0);
	else if (shortmsg || dirty)
		allow(ok, 1, EINVAL);
	else if (!op)
		allow(ok, 1, EOPNOTSUPP);
	else if (((op->flags & GENL_ADMIN_PERM) && who != ROOT) ||
		 ((op->flags & GENL_UNS_ADMIN_PERM) && who == NOBODY))
		allow(ok, 2, EPERM, EOPNOTSUPP);
	else if (!(op->flags & (dump ? GENL_CMD_CAP_DUMP : GENL_CMD_CAP_DO)))
		allow(ok, 1, EOPNOTSUPP);
	else
		allow(ok, 5, 0, EINVAL, ERANGE, ENOENT, ENOSPC);
}

/* A reply must be of the family and its attributes must walk cleanly. */
static bool reply_ok(const struct nlmsghdr *nlh)
{
	const struct nlattr *a;
	size_t left;

	if (nlh->nlmsg_type != fam.id ||
	    nlh->nlmsg_len < NLMSG_HDRLEN + GENL_HDRLEN)
		return false;
	left = nlh->nlmsg_len - NLMSG_HDRLEN - GENL_HDRLEN;
	a = (const void *)((const char *)NLMSG_DATA(nlh) + GENL_HDRLEN);
	while (left >= NLA_HDRLEN) {
		if (a->nla_len < NLA_HDRLEN || a->nla_len > left)
			return false;
		if ((size_t)NLA_ALIGN(a->nla_len) >= left)
			return true;
		left -= NLA_ALIGN(a->nla_len);
		a = (const void *)((const char *)a + NLA_ALIGN(a->nla_len));
	}
	return left == 0;
}

/* Send @m and wait for its answer: 0 or -errno, or 1 if none came. */
static int exchange(int fd, struct msg *m, struct fuzz_stats *st)
{
	static char buf[65536];
	uint32_t seq = m->nlh->nlmsg_seq;
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	size_t len;
	ssize_t n;

	if (sendto(fd, m->buf, m->nlh->nlmsg_len, 0, (void *)&kernel,
		   sizeof(kernel)) < 0)
		return -errno;	/* not the kernel's answer: never expected */
	for (;;) {
		const struct nlmsghdr *nlh;

		n = recv(fd, buf, sizeof(buf), 0);
		if (n < 0)
			return errno == EAGAIN ? 1 : -errno;
		len = n;
		for (nlh = (void *)buf; pw_nlmsg_ok(nlh, len);
		     nlh = pw_nlmsg_next(nlh, &len)) {
			if (nlh->nlmsg_seq != seq)
				continue;
			if (nlh->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = NLMSG_DATA(nlh);

				if (nlh->nlmsg_len < NLMSG_LENGTH(sizeof(*e)))
					return -EBADMSG;
				return e->error;
			}
			if (nlh->nlmsg_type == NLMSG_DONE) {
				if (nlh->nlmsg_len < NLMSG_LENGTH(sizeof(int)))
					return -EBADMSG;
				return *(const int *)NLMSG_DATA(nlh);
			}
			if (!reply_ok(nlh))
				return -EBADMSG;
			st->replies++;
		}
	}
}

static void hexdump(char *out, size_t size, const void *p, size_t len)
{
	const uint8_t *b = p;
	size_t i, n = 0;

	for (i = 0; i < len && n + 3 < size; i++)
		n += snprintf(out + n, size - n, "%02x", b[i]);
}

static void fuzz(struct fuzz_stats *st, const struct tuple *t, enum sender who,
		 long iters)
{
	struct timeval tv = { .tv_sec = 30 };
	struct sockaddr_nl local = { .nl_family = AF_NETLINK };
	static struct msg m;
	uint32_t seq = rnd();
	int fd, one = 1, e;
	long i;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
	if (fd < 0 || bind(fd, (void *)&local, sizeof(local))) {
		snprintf(st->why, sizeof(st->why), "netlink socket: %s",
			 strerror(errno));
		st->failed = 1;
		return;
	}
	setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));

	for (i = 0; i < iters; i++) {
		struct results ok;
		uint8_t cmd;
		int ret;

		build(&m, t, who, ++seq, &cmd, &ok);
		ret = exchange(fd, &m, st);
		st->msgs++;
		e = ret > 0 ? MAX_ERRNO : -ret;
		if (e < 0 || e > MAX_ERRNO)
			e = MAX_ERRNO;
		st->res[cmd][e]++;
		st->by_errno[e]++;
		if (ret <= 0 && ok.ok[e])
			continue;
		{
			char hex[2 * 128 + 1] = "";

			hexdump(hex, sizeof(hex), m.buf,
				m.nlh->nlmsg_len < 128 ? m.nlh->nlmsg_len : 128);
			snprintf(st->why, sizeof(st->why),
				 "message %ld (cmd %u, flags %#x): %s; bytes %s",
				 i, cmd, m.nlh->nlmsg_flags,
				 ret > 0 ? "no answer in 30 s" :
				 ret ? strerror(-ret) : "success", hex);
		}
		st->failed = 1;
		break;
	}
	close(fd);
}

/* Bring lo up without exec: nobody's capabilities would not survive it. */
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

/* A loopback connection in the current netns: fds[0..2], its tuple. */
static int live_pair(int fds[3], struct tuple *t)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t alen = sizeof(a);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a.sin_port = htons(FUZZ_PORT);
	fds[0] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	fds[1] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fds[0] < 0 || fds[1] < 0 ||
	    bind(fds[0], (void *)&a, sizeof(a)) || listen(fds[0], 4) ||
	    connect(fds[1], (void *)&a, sizeof(a)))
		return -errno;
	fds[2] = accept4(fds[0], NULL, NULL, SOCK_CLOEXEC);
	if (fds[2] < 0 || getsockname(fds[1], (void *)&a, &alen))
		return -errno;
	t->family = AF_INET;
	t->saddr = a.sin_addr;
	t->sport = ntohs(a.sin_port);
	t->daddr.s_addr = htonl(INADDR_LOOPBACK);
	t->dport = FUZZ_PORT;
	t->cookie = pw_cookie(fds[1]);
	return 0;
}

/* SOCK_GET of @t: 0 if it finds the connection with its cookie. */
static int still_found(int fd, const struct tuple *t)
{
	struct pw_event ev;
	struct pw_nl nl;
	int ret;

	ret = pw_nl_open(&nl);
	if (ret)
		return ret;
	ret = pw_sock_get(&nl, fd, t->cookie, &ev);
	if (!ret && (ev.cookie != t->cookie || ev.sport != t->sport))
		ret = -ESTALE;
	pw_nl_close(&nl);
	return ret;
}

/* In a child: become @who and send @iters messages. */
static void fuzz_as(enum sender who, uint64_t seed, const struct tuple *root_t,
		    long iters)
{
	struct fuzz_stats *st = &stats[who];
	struct tuple own;
	const struct tuple *t = root_t;
	int fds[3], ret;

	rng_state = seed * 0x9E3779B97F4A7C15ULL + who + 1;
	if (who != ROOT &&
	    (setresgid(65534, 65534, 65534) || setresuid(65534, 65534, 65534))) {
		snprintf(st->why, sizeof(st->why), "setresuid: %s",
			 strerror(errno));
		st->failed = 1;
		_exit(1);
	}
	if (who == NOBODY_USERNS) {
		if (unshare(CLONE_NEWUSER | CLONE_NEWNET)) {
			snprintf(st->why, sizeof(st->why),
				 "no unprivileged user namespace: %s",
				 strerror(errno));
			st->skipped = 1;
			_exit(0);
		}
		ret = lo_up();
		if (!ret)
			ret = live_pair(fds, &own);
		if (ret) {
			snprintf(st->why, sizeof(st->why),
				 "own netns setup: %s", strerror(-ret));
			st->failed = 1;
			_exit(1);
		}
		t = &own;
	}
	fuzz(st, t, who, iters);
	if (who == NOBODY_USERNS)
		st->health = still_found(fds[1], t);
	_exit(0);
}

FIXTURE(nlfuzz) {
	int fds[3];
	struct tuple t;
	struct pw_nl nl;
	struct pw_tenant ten;
	char quota[32];
};

FIXTURE_SETUP(nlfuzz)
{
	struct mnl_socket *sock;

	ASSERT_EQ(0, unshare(CLONE_NEWNET));
	ASSERT_EQ(0, lo_up());
	stats = mmap(NULL, N_WHO * sizeof(*stats), PROT_READ | PROT_WRITE,
		     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, stats);

	sock = mnl_socket_open(NETLINK_GENERIC);
	ASSERT_NE(NULL, sock);
	ASSERT_EQ(0, mnl_socket_bind(sock, 0, MNL_SOCKET_AUTOPID));
	ASSERT_EQ(0, pw_ctrl_find(sock, PEERWATCH_GENL_NAME,
				  PEERWATCH_MCGRP_EVENTS, &fam));
	ASSERT_EQ(0, pw_ctrl_policies(sock, &fam));
	mnl_socket_close(sock);
	ASSERT_LT(0, fam.n_ops);
	ASSERT_LT(0, fam.n_policies);
	ASSERT_EQ(0, pw_nl_open(&self->nl));
	ASSERT_EQ(0, live_pair(self->fds, &self->t));
	self->ten.pid = -1;
	ASSERT_EQ(0, pw_param_get("netns_max_tracked", self->quota,
				  sizeof(self->quota)));
}

FIXTURE_TEARDOWN(nlfuzz)
{
	int i;

	pw_tenant_stop(&self->ten);
	pw_param_set("netns_max_tracked", self->quota);
	pw_nl_close(&self->nl);
	for (i = 0; i < 3; i++)
		close(self->fds[i]);
}

/*
 * The hostile tenant, its table full: 1, or 0 where nobody may not have a
 * user namespace, or -errno.
 */
static int tenant_start(struct __test_metadata *_metadata,
			FIXTURE_DATA(nlfuzz) *self)
{
	struct pw_tenant_report r = { 0 };
	char val[16];
	int ret;

	snprintf(val, sizeof(val), "%d", TENANT_QUOTA);
	ret = pw_param_set("netns_max_tracked", val);
	if (ret)
		return ret;
	ret = pw_tenant_start(&self->ten, TENANT_QUOTA + 64, true);
	if (ret == -EPERM || ret == -EINVAL || ret == -ENOSPC) {
		TH_LOG("no hostile tenant: no user namespace for nobody (%s)",
		       strerror(-ret));
		pw_tenant_stop(&self->ten);
		return 0;
	}
	if (!ret)
		ret = pw_tenant_wait_full(&self->ten, TENANT_QUOTA, 60000, &r);
	TH_LOG("hostile tenant: %d connections, tracked %llu, untracked %llu (%s)",
	       r.conns, (unsigned long long)r.tracked,
	       (unsigned long long)r.untracked, strerror(-ret));
	return ret ?: 1;
}

static void print_stats(struct __test_metadata *_metadata, const char *who,
			const struct fuzz_stats *st, uint64_t ms)
{
	char line[1024];
	int cmd, e, n;

	n = snprintf(line, sizeof(line), "%s: %ld messages in %llu ms, %ld replies;",
		     who, st->msgs, (unsigned long long)ms, st->replies);
	for (e = 0; e <= MAX_ERRNO; e++)
		if (st->by_errno[e])
			n += snprintf(line + n, sizeof(line) - n, " %s %ld",
				      e ? strerrorname_np(e) ?: "?" : "ok",
				      st->by_errno[e]);
	TH_LOG("%s", line);
	for (cmd = 0; cmd < NCMD; cmd++) {
		if (!find_op(cmd))
			continue;
		n = snprintf(line, sizeof(line), "  cmd %d:", cmd);
		for (e = 0; e <= MAX_ERRNO; e++)
			if (st->res[cmd][e])
				n += snprintf(line + n, sizeof(line) - n,
					      " %s %ld",
					      e ? strerrorname_np(e) ?: "?" : "ok",
					      st->res[cmd][e]);
		TH_LOG("%s", line);
	}
}

/*
 * Fuzz as @first to @last in turn (a share of the messages each), then
 * check the kernel is still healthy.
 */
static void run(struct __test_metadata *_metadata,
		FIXTURE_DATA(nlfuzz) *self, enum sender first, enum sender last)
{
	const char *env = getenv("PW_FUZZ_ITERS");
	long iters = env ? strtol(env, NULL, 10) : DEFAULT_ITERS;
	struct pw_stats before, after;
	struct pw_tenant_report tr;
	uint64_t seed, t0, ms, deadline;
	int tenant;
	long ref = -1;
	int i, status;
	enum sender who;
	pid_t pid;
	FILE *f;

	env = getenv("PW_FUZZ_SEED");
	seed = env ? strtoull(env, NULL, 0) : pw_now_ns();
	ASSERT_LT(0, iters);
	TH_LOG("seed %llu (PW_FUZZ_SEED), a third of %ld messages (PW_FUZZ_ITERS) per sender, family id %u with %d commands, %d policies, maxattr %u",
	       (unsigned long long)seed, iters, fam.id, fam.n_ops,
	       fam.n_policies, fam.maxattr);
	for (i = 0; i < fam.n_ops; i++)
		TH_LOG("  cmd %u flags %#x policy do %d dump %d",
		       fam.ops[i].cmd, fam.ops[i].flags, fam.ops[i].do_policy,
		       fam.ops[i].dump_policy);
	ASSERT_EQ(0, pw_stats_get(&self->nl, &before));
	tenant = tenant_start(_metadata, self);
	ASSERT_LE(0, tenant);

	for (who = first; who <= last; who++) {
		t0 = pw_now_ms();
		pid = fork();
		ASSERT_LE(0, pid);
		if (!pid)
			fuzz_as(who, seed, &self->t, iters / N_WHO +
				(who < iters % N_WHO));
		ASSERT_EQ(pid, waitpid(pid, &status, 0));
		ms = pw_now_ms() - t0;
		if (stats[who].skipped)
			SKIP(return, "%s: %.200s", who_names[who],
			     stats[who].why);
		print_stats(_metadata, who_names[who], &stats[who], ms);
		ASSERT_EQ(0, stats[who].failed)
			TH_LOG("%s: %s", who_names[who], stats[who].why);
		ASSERT_EQ(0, status);
	}

	/* Still healthy: the live connections are found with their cookie. */
	EXPECT_EQ(0, still_found(self->fds[1], &self->t));
	if (last == NOBODY_USERNS)
		EXPECT_EQ(0, stats[NOBODY_USERNS].health);
	/* The tenant's table still full, with sockets it opened since. */
	if (tenant) {
		/* Its newest sockets enter their episode at their first RTO. */
		EXPECT_EQ(0, pw_tenant_wait_full(&self->ten, TENANT_QUOTA,
						 10000, &tr));
		TH_LOG("hostile tenant after: tracked %llu, untracked %llu, suspect %llu",
		       (unsigned long long)tr.tracked,
		       (unsigned long long)tr.untracked,
		       (unsigned long long)tr.suspect);
		pw_tenant_stop(&self->ten);
	}
	/* Our rules flushed, those of nobody's netns gone with it. */
	ASSERT_EQ(0, pw_simple(&self->nl, PEERWATCH_CMD_POLICY_FLUSH));
	deadline = pw_now_ms() + 20000;
	do {
		ASSERT_EQ(0, pw_stats_get(&self->nl, &after));
		if (after.v[PEERWATCH_STAT_A_LIVE_OBJECTS] <=
		    before.v[PEERWATCH_STAT_A_LIVE_OBJECTS])
			break;
		usleep(20000);
	} while (pw_now_ms() < deadline);
	EXPECT_EQ(before.v[PEERWATCH_STAT_A_LIVE_OBJECTS],
		  after.v[PEERWATCH_STAT_A_LIVE_OBJECTS]);
	f = fopen("/sys/module/peerwatch/refcnt", "r");
	ASSERT_NE(NULL, f);
	EXPECT_EQ(1, fscanf(f, "%ld", &ref));
	fclose(f);
	EXPECT_EQ(0, ref);
	TH_LOG("after: live objects %llu (before %llu), module refcount %ld",
	       (unsigned long long)after.v[PEERWATCH_STAT_A_LIVE_OBJECTS],
	       (unsigned long long)before.v[PEERWATCH_STAT_A_LIVE_OBJECTS],
	       ref);
}

TEST_F_TIMEOUT(nlfuzz, root_and_nobody, 600)
{
	run(_metadata, self, ROOT, NOBODY);
}

/* Skipped where the kernel forbids user namespaces to unprivileged users. */
TEST_F_TIMEOUT(nlfuzz, nobody_in_own_userns, 600)
{
	run(_metadata, self, NOBODY_USERNS, NOBODY_USERNS);
}

TEST_HARNESS_MAIN

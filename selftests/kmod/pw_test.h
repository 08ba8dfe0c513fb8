/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the module's selftests: a two-namespace topology, TCP
 * endpoints, a blackhole, and an events subscriber.
 *
 *   netns pwc<pid>                    netns pws<pid>
 *   +------------------+              +------------------+
 *   | client           |    veth      | server           |
 *   | 10.77.0.1  pwc0  +--------------+ pws0  10.77.0.2  |
 *   | fd00::1          |              | fd00::2          |
 *   +------------------+              +------------------+
 *
 * The blackhole is an nft table in the server's netns that drops every
 * packet in and out, so the server neither receives nor answers.
 */
#ifndef PEERWATCH_PW_TEST_H
#define PEERWATCH_PW_TEST_H

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sched.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/genetlink.h>
#include <linux/peerwatch.h>

#include "nl.h"
#include "nlevent.h"

#define PW_CLI_ADDR	"10.77.0.1"
#define PW_SRV_ADDR	"10.77.0.2"
#define PW_CLI_ADDR6	"fd00::1"
#define PW_SRV_ADDR6	"fd00::2"
#define PW_PORT		5000

/*
 * How late a kernel timer may fire in the guest: under TCG on one host
 * core, which it may share with another guest on a loaded host, its clock
 * goes on while its vCPU waits, and a timer due meanwhile fires when it
 * runs again. A bound on the kernel's own timing adds this margin (the
 * timing alone left 180 ms over what was measured).
 */
#define PW_LATE_MS	3000

struct pw_topo {
	char cli[32];
	char srv[32];
	int orig_fd;
};

static inline uint64_t pw_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000ULL + ts.tv_nsec / 1000000;
}

static inline uint64_t pw_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static inline int pw_sh(const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;
	int ret;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	ret = system(cmd);
	if (ret == -1 || !WIFEXITED(ret))
		return -1;
	return WEXITSTATUS(ret);
}

static inline int pw_enter(const char *ns)
{
	char path[64];
	int fd, ret;

	snprintf(path, sizeof(path), "/run/netns/%s", ns);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ret = setns(fd, CLONE_NEWNET) ? -errno : 0;
	close(fd);
	return ret;
}

static inline int pw_topo_setup(struct pw_topo *t)
{
	int pid = getpid();

	snprintf(t->cli, sizeof(t->cli), "pwc%d", pid);
	snprintf(t->srv, sizeof(t->srv), "pws%d", pid);
	t->orig_fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (t->orig_fd < 0)
		return -errno;
	/* Three ip processes: exec is slow in the guest (9p, TCG). */
	if (pw_sh("ip -b - <<'EOF'\n"
		  "netns add %s\n"
		  "netns add %s\n"
		  "link add pwc0 netns %s type veth peer name pws0 netns %s\n"
		  "EOF", t->cli, t->srv, t->cli, t->srv) ||
	    pw_sh("ip -n %s -b - <<'EOF'\n"
		  "link set lo up\n"
		  "addr add 10.77.0.1/24 dev pwc0\n"
		  "addr add fd00::1/64 dev pwc0 nodad\n"
		  "link set pwc0 up\n"
		  "EOF", t->cli) ||
	    pw_sh("ip -n %s -b - <<'EOF'\n"
		  "link set lo up\n"
		  "addr add 10.77.0.2/24 dev pws0\n"
		  "addr add fd00::2/64 dev pws0 nodad\n"
		  "link set pws0 up\n"
		  "EOF", t->srv))
		return -1;
	return 0;
}

static inline void pw_topo_teardown(struct pw_topo *t)
{
	if (t->orig_fd >= 0) {
		setns(t->orig_fd, CLONE_NEWNET);
		close(t->orig_fd);
	}
	pw_sh("ip -b - 2>/dev/null <<'EOF'\nnetns del %s\nnetns del %s\nEOF",
	      t->cli, t->srv);
}

/* Drop every packet in and out of the server's netns, or stop it. */
static inline int pw_blackhole(const struct pw_topo *t, bool on)
{
	if (on)
		return pw_sh("ip netns exec %s nft -f - <<'EOF'\n"
			     "table inet pwtest {\n"
			     "  chain in { type filter hook input priority 0; policy drop; }\n"
			     "  chain out { type filter hook output priority 0; policy drop; }\n"
			     "}\nEOF", t->srv);
	return pw_sh("ip netns exec %s nft delete table inet pwtest", t->srv);
}

static inline int pw_sysctl(const char *ns, const char *key, const char *val)
{
	return pw_sh("ip netns exec %s sysctl -qw %s=%s", ns, key, val);
}

static inline int pw_listen(const char *ns, int family, int port, int rcvbuf)
{
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6 };
	struct sockaddr_in a4 = { .sin_family = AF_INET };
	int one = 1, fd;

	if (pw_enter(ns))
		return -1;
	fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (rcvbuf)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	a4.sin_port = htons(port);
	a6.sin6_port = htons(port);
	if ((family == AF_INET ? bind(fd, (void *)&a4, sizeof(a4)) :
				 bind(fd, (void *)&a6, sizeof(a6))) ||
	    listen(fd, 1024)) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Connect from @ns to addr:port with TCP_USER_TIMEOUT @ms (if non-zero). */
static inline int pw_connect(const char *ns, const char *addr, int port,
			     unsigned int ms)
{
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6 };
	struct sockaddr_in a4 = { .sin_family = AF_INET };
	int family = strchr(addr, ':') ? AF_INET6 : AF_INET;
	int fd, ret;

	if (pw_enter(ns))
		return -1;
	fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (ms && setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &ms, sizeof(ms)))
		goto err;
	if (family == AF_INET) {
		a4.sin_port = htons(port);
		inet_pton(AF_INET, addr, &a4.sin_addr);
		ret = connect(fd, (void *)&a4, sizeof(a4));
	} else {
		a6.sin6_port = htons(port);
		inet_pton(AF_INET6, addr, &a6.sin6_addr);
		ret = connect(fd, (void *)&a6, sizeof(a6));
	}
	if (ret)
		goto err;
	return fd;
err:
	close(fd);
	return -1;
}

static inline uint64_t pw_cookie(int fd)
{
	uint64_t cookie = 0;
	socklen_t len = sizeof(cookie);

	getsockopt(fd, SOL_SOCKET, SO_COOKIE, &cookie, &len);
	return cookie;
}

static inline unsigned int pw_user_timeout(int fd)
{
	unsigned int ms = 0;
	socklen_t len = sizeof(ms);

	getsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &ms, &len);
	return ms;
}

static inline unsigned int pw_rto_ms(int fd)
{
	struct tcp_info ti = { 0 };
	socklen_t len = sizeof(ti);

	getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len);
	return ti.tcpi_rto / 1000;
}

/* Open the family in @ns (NULL: the current one), joined to events. */
static inline int pw_subscribe(const char *ns, struct pw_nl *nl)
{
	int ret;

	if (ns && pw_enter(ns))
		return -1;
	ret = pw_nl_open(nl);
	if (ret)
		return ret;
	return pw_nl_join_events(nl);
}

/*
 * Wait up to @timeout_ms for an event about @cookie (any if 0) and of
 * type @type (any if 0). 0 and @ev filled, or -ETIMEDOUT.
 */
static inline int pw_wait_event(struct pw_nl *nl, uint64_t cookie, int type,
				int timeout_ms, struct pw_event *ev)
{
	uint64_t deadline = pw_now_ms() + timeout_ms;
	static char buf[PW_NL_RECV_SIZE];

	for (;;) {
		struct pollfd pfd = { .fd = pw_nl_fd(nl), .events = POLLIN };
		int64_t left = (int64_t)(deadline - pw_now_ms());
		const struct nlmsghdr *nlh;
		ssize_t n;
		int len;

		if (left <= 0)
			return -ETIMEDOUT;
		if (poll(&pfd, 1, left) <= 0)
			continue;
		n = recv(pw_nl_fd(nl), buf, sizeof(buf), 0);
		if (n < 0)
			return -errno;
		len = n;
		for (nlh = (void *)buf; mnl_nlmsg_ok(nlh, len);
		     nlh = mnl_nlmsg_next(nlh, &len)) {
			if (pw_event_parse(nlh, ev) || ev->cmd != PEERWATCH_CMD_EVENT)
				continue;
			if ((!cookie || ev->cookie == cookie) &&
			    (!type || ev->event == type))
				return 0;
		}
	}
}

/* Fill a send buffer so that data is in flight or queued. */
static inline int pw_send_some(int fd, size_t len)
{
	char buf[4096];

	memset(buf, 'x', sizeof(buf));
	if (len > sizeof(buf))
		len = sizeof(buf);
	return send(fd, buf, len, MSG_DONTWAIT) == (ssize_t)len ? 0 : -1;
}

/* The interface @fd is bound to (a link-local scope included), or 0. */
static inline int pw_bound_ifindex(int fd)
{
	socklen_t len = sizeof(int);
	int ifindex = 0;

	getsockopt(fd, SOL_SOCKET, SO_BINDTOIFINDEX, &ifindex, &len);
	return ifindex;
}

/*
 * Put the tuple of connected socket @fd, seen from its end, in @nlh, and
 * @ifindex if non-zero.
 */
static inline int pw_put_tuple_if(struct nlmsghdr *nlh, int fd, int ifindex)
{
	struct sockaddr_storage l, r;
	socklen_t ll = sizeof(l), rl = sizeof(r);

	if (getsockname(fd, (void *)&l, &ll) || getpeername(fd, (void *)&r, &rl))
		return -errno;
	mnl_attr_put_u16(nlh, PEERWATCH_A_FAMILY, l.ss_family);
	if (l.ss_family == AF_INET) {
		struct sockaddr_in *l4 = (void *)&l, *r4 = (void *)&r;

		mnl_attr_put(nlh, PEERWATCH_A_SADDR4, 4, &l4->sin_addr);
		mnl_attr_put(nlh, PEERWATCH_A_DADDR4, 4, &r4->sin_addr);
		mnl_attr_put_u16(nlh, PEERWATCH_A_SPORT, ntohs(l4->sin_port));
		mnl_attr_put_u16(nlh, PEERWATCH_A_DPORT, ntohs(r4->sin_port));
	} else {
		struct sockaddr_in6 *l6 = (void *)&l, *r6 = (void *)&r;

		mnl_attr_put(nlh, PEERWATCH_A_SADDR6, 16, &l6->sin6_addr);
		mnl_attr_put(nlh, PEERWATCH_A_DADDR6, 16, &r6->sin6_addr);
		mnl_attr_put_u16(nlh, PEERWATCH_A_SPORT, ntohs(l6->sin6_port));
		mnl_attr_put_u16(nlh, PEERWATCH_A_DPORT, ntohs(r6->sin6_port));
	}
	if (ifindex)
		mnl_attr_put_u32(nlh, PEERWATCH_A_IFINDEX, ifindex);
	return 0;
}

/* The whole name of @fd: its tuple and the interface it is bound to. */
static inline int pw_put_tuple(struct nlmsghdr *nlh, int fd)
{
	return pw_put_tuple_if(nlh, fd, pw_bound_ifindex(fd));
}

static inline int pw_sock_cb(const struct nlmsghdr *nlh, void *data)
{
	struct pw_event *ev = data;

	pw_event_parse(nlh, ev);
	return MNL_CB_OK;
}

/* SOCK_GET for @fd's tuple and @ifindex, with @cookie if non-zero. */
static inline int pw_sock_get_if(struct pw_nl *nl, int fd, int ifindex,
				 uint64_t cookie, struct pw_event *ev)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;

	memset(ev, 0, sizeof(*ev));
	nlh = pw_nl_request(nl, buf, PEERWATCH_CMD_SOCK_GET, 0);
	if (pw_put_tuple_if(nlh, fd, ifindex))
		return -EINVAL;
	if (cookie)
		mnl_attr_put_u64(nlh, PEERWATCH_A_COOKIE, cookie);
	return pw_nl_talk(nl, nlh, pw_sock_cb, ev);
}

/* SOCK_GET for @fd's whole name, with @cookie if non-zero. */
static inline int pw_sock_get(struct pw_nl *nl, int fd, uint64_t cookie,
			      struct pw_event *ev)
{
	return pw_sock_get_if(nl, fd, pw_bound_ifindex(fd), cookie, ev);
}

/* SOCK_SET on @fd's tuple with @cookie. */
static inline int pw_sock_set(struct pw_nl *nl, int fd, uint64_t cookie,
			      uint32_t ms)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;

	nlh = pw_nl_request(nl, buf, PEERWATCH_CMD_SOCK_SET, 0);
	if (pw_put_tuple(nlh, fd))
		return -EINVAL;
	mnl_attr_put_u64(nlh, PEERWATCH_A_COOKIE, cookie);
	mnl_attr_put_u32(nlh, PEERWATCH_A_USER_TIMEOUT, ms);
	return pw_nl_talk(nl, nlh, NULL, NULL);
}

struct pw_stats {
	uint64_t v[PEERWATCH_STAT_A_MAX + 1];
	uint32_t present;	/* bit (1 << attribute) of those sent */
};

static inline int pw_stats_cb(const struct nlmsghdr *nlh, void *data)
{
	struct pw_stats *st = data;
	const struct nlattr *attr, *pos;

	mnl_attr_for_each(attr, nlh, sizeof(struct genlmsghdr)) {
		if (mnl_attr_get_type(attr) != PEERWATCH_A_STATS)
			continue;
		mnl_attr_for_each_nested(pos, attr)
			if (mnl_attr_get_type(pos) <= PEERWATCH_STAT_A_MAX &&
			    mnl_attr_validate(pos, MNL_TYPE_U64) >= 0) {
				st->v[mnl_attr_get_type(pos)] = mnl_attr_get_u64(pos);
				st->present |= 1U << mnl_attr_get_type(pos);
			}
	}
	return MNL_CB_OK;
}

static inline int pw_stats_get(struct pw_nl *nl, struct pw_stats *st)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;

	memset(st, 0, sizeof(*st));
	nlh = pw_nl_request(nl, buf, PEERWATCH_CMD_STATS_GET, 0);
	return pw_nl_talk(nl, nlh, pw_stats_cb, st);
}

/* A policy rule for IPv4 @addr/@plen, ports [@pmin, @pmax] (0: any). */
static inline int pw_policy_add4(struct pw_nl *nl, const char *addr, int plen,
				 uint16_t pmin, uint16_t pmax, uint32_t ms)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;
	struct in_addr a;

	nlh = pw_nl_request(nl, buf, PEERWATCH_CMD_POLICY_ADD, 0);
	mnl_attr_put_u16(nlh, PEERWATCH_A_FAMILY, AF_INET);
	mnl_attr_put_u32(nlh, PEERWATCH_A_USER_TIMEOUT, ms);
	if (addr) {
		inet_pton(AF_INET, addr, &a);
		mnl_attr_put(nlh, PEERWATCH_A_DADDR4, 4, &a);
		mnl_attr_put_u8(nlh, PEERWATCH_A_PREFIX_LEN, plen);
	}
	if (pmin || pmax) {
		mnl_attr_put_u16(nlh, PEERWATCH_A_DPORT_MIN, pmin);
		mnl_attr_put_u16(nlh, PEERWATCH_A_DPORT_MAX, pmax);
	}
	return pw_nl_talk(nl, nlh, NULL, NULL);
}

static inline int pw_count_cb(const struct nlmsghdr *nlh, void *data)
{
	(void)nlh;
	(*(int *)data)++;
	return MNL_CB_OK;
}

/* Number of messages a dump of @cmd returns, or -errno. */
static inline int pw_dump_count(struct pw_nl *nl, uint8_t cmd)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;
	int n = 0, ret;

	nlh = pw_nl_request(nl, buf, cmd, NLM_F_DUMP);
	ret = pw_nl_talk(nl, nlh, pw_count_cb, &n);
	return ret ? ret : n;
}

static inline int pw_simple(struct pw_nl *nl, uint8_t cmd)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];

	return pw_nl_talk(nl, pw_nl_request(nl, buf, cmd, 0), NULL, NULL);
}

#endif

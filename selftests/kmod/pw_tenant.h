/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A hostile tenant for the module's tests: a child that is nobody outside
 * and root of a user and network namespace of its own inside, as
 * `unshare --user --map-root-user --net` makes it (open to anyone on
 * Debian), subscribed to its netns's events and holding loopback
 * connections whose data a netfilter rule of its own drops, each with a
 * user timeout of INT_MAX ms (24 days): at its first retransmission timeout
 * each enters a SUSPECT episode and stays in it, tracked by the module, for
 * weeks. Given more connections than its netns's bound, it fills its table.
 *
 * With churn it also follows module reloads (it joins the events group of
 * the new instance each second) and replaces its oldest connections a few
 * at a time, so that new ones keep entering episodes: those the previous
 * instance tracked are forgotten, and their next timeout is far away.
 *
 * The parent talks to it over a socketpair: a command byte, answered with
 * a struct pw_tenant_report. Connections are closed with a reset (SO_LINGER
 * 0), which ends them and their episode at once: a plain close would leave
 * orphans retransmitting into the blackhole for a minute, and its netns
 * alive with them.
 */
#ifndef PEERWATCH_PW_TENANT_H
#define PEERWATCH_PW_TENANT_H

#include <limits.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#include "pw_test.h"

#define PW_TENANT_PORT		24000
#define PW_TENANT_MAX		1024
#define PW_TENANT_TIMEOUT_MS	60000
/* Connections replaced each second with churn: all of 320 in 20 s. */
#define PW_TENANT_CHURN		16

enum {
	PW_TENANT_REPORT = 'r',	/* counters only */
	PW_TENANT_CLOSE = 'c',	/* close every connection */
	PW_TENANT_FILL = 'f',	/* open connections up to the number given */
	PW_TENANT_FILL_PLAIN = 'p',	/* the same, without a user timeout */
	PW_TENANT_QUIT = 'q',	/* close every connection and exit */
};

struct pw_tenant_report {
	int err;		/* 0, or -errno of the first failure */
	int conns;		/* connections held */
	uint64_t tracked;	/* its netns's counters */
	uint64_t untracked;
	uint64_t suspect;
	uint32_t present;	/* which counters STATS_GET sent it */
};

struct pw_tenant {
	pid_t pid;
	int sock;		/* the parent's end */
};

/* The child's own state. */
struct pw_tenant_child {
	int sock, lfd, n, err;
	bool churn;
	bool plain;		/* no user timeout: the module ignores them */
	int c[PW_TENANT_MAX], s[PW_TENANT_MAX];
	int head, count;	/* a ring of connections, oldest at head */
	struct pw_nl ev;	/* joined to the events group */
	struct pw_nl ctl;	/* requests */
};

static inline int pw_tenant_write(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), ret = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, s, strlen(s)) != (ssize_t)strlen(s))
		ret = -errno;
	close(fd);
	return ret;
}

/* Nobody outside, root of a new user and network namespace inside. */
static inline int pw_tenant_enter(void)
{
	int ret;

	if (setresgid(65534, 65534, 65534) || setresuid(65534, 65534, 65534))
		return -errno;
	/* Dumpable again, or /proc/self is root's and the maps unwritable. */
	if (prctl(PR_SET_DUMPABLE, 1) || unshare(CLONE_NEWUSER | CLONE_NEWNET))
		return -errno;
	ret = pw_tenant_write("/proc/self/setgroups", "deny");
	if (!ret)
		ret = pw_tenant_write("/proc/self/uid_map", "0 65534 1");
	if (!ret)
		ret = pw_tenant_write("/proc/self/gid_map", "0 65534 1");
	if (ret)
		return ret;
	/* Data segments to the port are lost; handshakes and ACKs pass. */
	if (pw_sh("ip link set lo up && nft -f - <<'EOF'\n"
		  "table inet pwtenant {\n"
		  "  chain in { type filter hook input priority 0;\n"
		  "    tcp dport %d ip length > 100 drop;\n"
		  "  }\n"
		  "}\nEOF", PW_TENANT_PORT))
		return -EIO;
	return 0;
}

static inline void pw_tenant_close_one(struct pw_tenant_child *tc)
{
	struct linger lin = { .l_onoff = 1, .l_linger = 0 };
	int i = tc->head;

	setsockopt(tc->c[i], SOL_SOCKET, SO_LINGER, &lin, sizeof(lin));
	close(tc->c[i]);
	close(tc->s[i]);
	tc->head = (tc->head + 1) % PW_TENANT_MAX;
	tc->count--;
}

/*
 * One more blackholed connection under a user timeout of INT_MAX ms (none
 * if plain: the same traffic, but unwatched, so never tracked).
 */
static inline int pw_tenant_open_one(struct pw_tenant_child *tc)
{
	struct sockaddr_in a = {
		.sin_family = AF_INET,
		.sin_port = htons(PW_TENANT_PORT),
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK),
	};
	unsigned int ms = tc->plain ? 0 : INT_MAX;
	int i = (tc->head + tc->count) % PW_TENANT_MAX, c, s;

	c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c < 0)
		return -errno;
	if (setsockopt(c, IPPROTO_TCP, TCP_USER_TIMEOUT, &ms, sizeof(ms)) ||
	    connect(c, (void *)&a, sizeof(a))) {
		close(c);
		return -errno;
	}
	s = accept4(tc->lfd, NULL, NULL, SOCK_CLOEXEC);
	if (s < 0 || pw_send_some(c, 200)) {
		close(c);
		if (s >= 0)
			close(s);
		return -EIO;
	}
	tc->c[i] = c;
	tc->s[i] = s;
	tc->count++;
	return 0;
}

/* Joined to the events group of the instance loaded now. */
static inline int pw_tenant_join(struct pw_tenant_child *tc)
{
	struct pw_nl ev, ctl;
	int ret;

	ret = pw_subscribe(NULL, &ev);
	if (ret) {
		if (ev.sock)
			pw_nl_close(&ev);
		return ret;
	}
	ret = pw_nl_open(&ctl);
	if (ret) {
		pw_nl_close(&ev);
		return ret;
	}
	/* The new socket joined before the old one leaves: no gap. */
	if (tc->ev.sock)
		pw_nl_close(&tc->ev);
	if (tc->ctl.sock)
		pw_nl_close(&tc->ctl);
	tc->ev = ev;
	tc->ctl = ctl;
	fcntl(pw_nl_fd(&tc->ev), F_SETFL, O_NONBLOCK);
	return 0;
}

static inline void pw_tenant_report(struct pw_tenant_child *tc)
{
	struct pw_tenant_report r = { .err = tc->err, .conns = tc->count };
	struct pw_stats st;
	int ret = -ENOENT;

	if (tc->ctl.sock)
		ret = pw_stats_get(&tc->ctl, &st);
	if (!ret) {
		r.tracked = st.v[PEERWATCH_STAT_A_TRACKED];
		r.untracked = st.v[PEERWATCH_STAT_A_UNTRACKED];
		r.suspect = st.v[PEERWATCH_STAT_A_SUSPECT];
		r.present = st.present;
	} else if (!tc->churn && !r.err) {
		/* Without reloads the family never goes. */
		r.err = ret;
	}
	write(tc->sock, &r, sizeof(r));
}

static inline void __attribute__((noreturn))
pw_tenant_main(struct pw_tenant_child *tc)
{
	struct sockaddr_in a = {
		.sin_family = AF_INET,
		.sin_port = htons(PW_TENANT_PORT),
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK),
	};
	uint64_t next = pw_now_ms() + 1000;
	static char buf[PW_NL_RECV_SIZE];
	struct pollfd pfd[2];
	char cmd;
	int i;

	if (!tc->err)
		tc->err = pw_tenant_enter();
	if (!tc->err) {
		tc->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (tc->lfd < 0 || bind(tc->lfd, (void *)&a, sizeof(a)) ||
		    listen(tc->lfd, 1024))
			tc->err = -errno;
	}
	if (!tc->err)
		tc->err = pw_tenant_join(tc);
	while (!tc->err && tc->count < tc->n)
		tc->err = pw_tenant_open_one(tc);
	pw_tenant_report(tc);	/* the first: set up, or why not */
	if (tc->err)
		_exit(1);

	for (;;) {
		pfd[0] = (struct pollfd){ .fd = tc->sock, .events = POLLIN };
		pfd[1] = (struct pollfd){ .fd = tc->ev.sock ? pw_nl_fd(&tc->ev) : -1,
					  .events = POLLIN };
		poll(pfd, 2, 200);
		/* Events are only drained: the table is what matters. */
		while (tc->ev.sock && recv(pw_nl_fd(&tc->ev), buf, sizeof(buf),
					   MSG_DONTWAIT) > 0)
			;
		if (pfd[0].revents) {
			if (read(tc->sock, &cmd, 1) != 1)
				cmd = PW_TENANT_QUIT;	/* the parent is gone */
			if (cmd == PW_TENANT_CLOSE || cmd == PW_TENANT_QUIT)
				while (tc->count)
					pw_tenant_close_one(tc);
			if (cmd == PW_TENANT_QUIT)
				_exit(0);
			if (cmd == PW_TENANT_FILL || cmd == PW_TENANT_FILL_PLAIN)
				tc->plain = cmd == PW_TENANT_FILL_PLAIN;
			while ((cmd == PW_TENANT_FILL ||
				cmd == PW_TENANT_FILL_PLAIN) &&
			       !tc->err && tc->count < tc->n)
				tc->err = pw_tenant_open_one(tc);
			pw_tenant_report(tc);
		}
		if (!tc->churn || pw_now_ms() < next)
			continue;
		next = pw_now_ms() + 1000;
		/* Fails while the module is out or going: tried again. */
		pw_tenant_join(tc);
		for (i = 0; i < PW_TENANT_CHURN && tc->count; i++)
			pw_tenant_close_one(tc);
		while (!tc->err && tc->count < tc->n)
			tc->err = pw_tenant_open_one(tc);
	}
}

/* Read a report, waiting up to PW_TENANT_TIMEOUT_MS. */
static inline int pw_tenant_read(struct pw_tenant *t, struct pw_tenant_report *r)
{
	struct pollfd pfd = { .fd = t->sock, .events = POLLIN };

	if (poll(&pfd, 1, PW_TENANT_TIMEOUT_MS) != 1)
		return -ETIMEDOUT;
	if (read(t->sock, r, sizeof(*r)) != sizeof(*r))
		return -EIO;
	return r->err;
}

/*
 * Start a tenant holding @n connections (at most PW_TENANT_MAX), replacing
 * them over time if @churn: 0 once they are open, -errno if it could not
 * set up (-EPERM, -EINVAL or -ENOSPC: no user namespace for nobody here).
 */
static inline int pw_tenant_start(struct pw_tenant *t, int n, bool churn)
{
	static struct pw_tenant_child tc;
	struct rlimit rl = { 4 * PW_TENANT_MAX, 4 * PW_TENANT_MAX };
	struct pw_tenant_report r;
	int sv[2];

	t->pid = -1;
	t->sock = -1;
	if (n > PW_TENANT_MAX)
		return -EINVAL;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		return -errno;
	t->pid = fork();
	if (t->pid < 0) {
		close(sv[0]);
		close(sv[1]);
		return -errno;
	}
	if (!t->pid) {
		close(sv[0]);
		memset(&tc, 0, sizeof(tc));
		tc.sock = sv[1];
		tc.n = n;
		tc.churn = churn;
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (setrlimit(RLIMIT_NOFILE, &rl))
			tc.err = -errno;
		pw_tenant_main(&tc);
	}
	close(sv[1]);
	t->sock = sv[0];
	return pw_tenant_read(t, &r);
}

static inline int pw_tenant_ask(struct pw_tenant *t, char cmd,
				struct pw_tenant_report *r)
{
	if (write(t->sock, &cmd, 1) != 1)
		return -errno;
	return pw_tenant_read(t, r);
}

/* Wait up to @ms for its netns to track @tracked sockets and miss one. */
static inline int pw_tenant_wait_full(struct pw_tenant *t, uint64_t tracked,
				      int ms, struct pw_tenant_report *r)
{
	uint64_t end = pw_now_ms() + ms;
	int ret;

	for (;;) {
		ret = pw_tenant_ask(t, PW_TENANT_REPORT, r);
		if (ret)
			return ret;
		if (r->tracked >= tracked && r->untracked)
			return 0;
		if (pw_now_ms() >= end)
			return -ETIMEDOUT;
		usleep(200000);
	}
}

/* Close its connections, let it exit, and reap it. */
static inline void pw_tenant_stop(struct pw_tenant *t)
{
	char cmd = PW_TENANT_QUIT;
	uint64_t end = pw_now_ms() + 10000;

	if (t->pid <= 0)
		return;
	write(t->sock, &cmd, 1);
	while (waitpid(t->pid, NULL, WNOHANG) == 0) {
		if (pw_now_ms() >= end) {
			kill(t->pid, SIGKILL);
			waitpid(t->pid, NULL, 0);
			break;
		}
		usleep(20000);
	}
	close(t->sock);
	t->pid = -1;
	t->sock = -1;
}

/* A module parameter's value, as text; 0 or -errno. */
static inline int pw_param_get(const char *name, char *buf, size_t len)
{
	char path[128];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/sys/module/peerwatch/parameters/%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n <= 0)
		return -EIO;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

static inline int pw_param_set(const char *name, const char *val)
{
	char path[128];

	snprintf(path, sizeof(path), "/sys/module/peerwatch/parameters/%s", name);
	return pw_tenant_write(path, val);
}

#endif

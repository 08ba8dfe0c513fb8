// SPDX-License-Identifier: GPL-2.0
/*
 * Unloading under load: sockets in SUSPECT episodes, a policy, 1,000
 * connections churning with events, a subscriber listening and a client
 * sending requests (a doit, a dump with answers, an empty dump) without a
 * pause. The module goes, every request gets an answer or ENOENT (never
 * EPROTONOSUPPORT, as a dump started while the module is half torn down
 * would), the kernel stays clean (vm-run fails on any WARN), the module's
 * live objects are back to zero, and it loads again for the tests after.
 */
#include <sys/klog.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>

#include "kselftest_harness.h"
#include "pw_test.h"

#define VICTIMS 50
#define CHURN 1000

/* What the requester got, shared with the test. */
struct answers {
	volatile int stop;
	long ok, enoent, other;
	int other_err;
};

FIXTURE(unload) {
	struct pw_topo t;
	struct pw_nl nl;	/* the subscriber, flooded by the churn */
	struct pw_nl ctl;	/* commands */
	int lfd, vfd;
	pid_t churner, requester;
	struct answers *ans;
	bool loaded;
};

FIXTURE_SETUP(unload)
{
	self->loaded = true;
	ASSERT_EQ(0, pw_topo_setup(&self->t));
	self->lfd = pw_listen(self->t.srv, AF_INET, PW_PORT, 0);
	ASSERT_LE(0, self->lfd);
	self->vfd = pw_listen(self->t.srv, AF_INET, PW_PORT + 1, 0);
	ASSERT_LE(0, self->vfd);
	ASSERT_EQ(0, pw_subscribe(self->t.cli, &self->nl));
	ASSERT_EQ(0, pw_nl_open(&self->ctl));
	self->ans = mmap(NULL, sizeof(*self->ans), PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->ans);
}

static int load_module_with(const char *params)
{
	const char *ko = getenv("PEERWATCH_KO") ?: "peerwatch.ko";
	int fd = open(ko, O_RDONLY | O_CLOEXEC), ret;

	if (fd < 0)
		return -errno;
	ret = syscall(SYS_finit_module, fd, params, 0) ? -errno : 0;
	close(fd);
	return ret;
}

static int load_module(void)
{
	return load_module_with("");
}

/* Unload, waiting out references that requests hold for a moment. */
static int unload_module(void)
{
	int i, ret = -1;

	for (i = 0; i < 50 && ret; i++) {
		ret = syscall(SYS_delete_module, "peerwatch", O_NONBLOCK) ? -errno : 0;
		if (ret)
			usleep(100000);
	}
	return ret;
}

FIXTURE_TEARDOWN(unload)
{
	if (self->churner > 0) {
		kill(self->churner, SIGKILL);
		waitpid(self->churner, NULL, 0);
	}
	if (self->requester > 0) {
		kill(self->requester, SIGKILL);
		waitpid(self->requester, NULL, 0);
	}
	munmap(self->ans, sizeof(*self->ans));
	pw_nl_close(&self->nl);
	pw_nl_close(&self->ctl);
	pw_topo_teardown(&self->t);
	if (!self->loaded)
		load_module();
}

/*
 * Open CHURN connections (a quarter get their user timeout from the
 * policy), then close them, half with a RST; forever.
 */
static void churn(FIXTURE_DATA(unload) *self)
{
	struct linger lin = { .l_onoff = 1, .l_linger = 0 };
	static int c[CHURN], s[CHURN];
	int i;

	for (;;) {
		for (i = 0; i < CHURN; i++) {
			c[i] = pw_connect(self->t.cli, PW_SRV_ADDR, PW_PORT,
					  i % 4 ? 5000 : 0);
			s[i] = accept(self->lfd, NULL, NULL);
			if (c[i] < 0 || s[i] < 0)
				_exit(1);
		}
		for (i = 0; i < CHURN; i++) {
			if (i & 1)
				setsockopt(s[i], SOL_SOCKET, SO_LINGER, &lin,
					   sizeof(lin));
			close(i & 1 ? s[i] : c[i]);
			close(i & 1 ? c[i] : s[i]);
		}
	}
}

/*
 * Send requests until told to stop, through a family id resolved once:
 * STATS_GET (a doit), POLICY_DUMP (a dump with one answer) and SOCK_GET
 * dumps that match nothing; count the answers by kind.
 */
static void request(struct answers *ans)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;
	struct pw_stats st;
	struct pw_nl nl;
	int i, ret;

	if (pw_nl_open(&nl))
		_exit(1);
	for (i = 0; !ans->stop; i++) {
		switch (i % 3) {
		case 0:
			ret = pw_stats_get(&nl, &st);
			break;
		case 1:
			ret = pw_dump_count(&nl, PEERWATCH_CMD_POLICY_DUMP);
			break;
		default:
			nlh = pw_nl_request(&nl, buf, PEERWATCH_CMD_SOCK_GET,
					    NLM_F_DUMP);
			mnl_attr_put_u16(nlh, PEERWATCH_A_DPORT, 1);
			ret = pw_nl_talk(&nl, nlh, NULL, NULL);
		}
		if (ret >= 0) {
			ans->ok++;
		} else if (ret == -ENOENT) {
			ans->enoent++;
		} else {
			ans->other++;
			ans->other_err = -ret;
		}
	}
	_exit(0);
}

/* The count the last unload printed, or -1. */
static long last_unload_count(void)
{
	int size = klogctl(10, NULL, 0);
	char *buf, *p, *last = NULL;
	long n = -1;

	if (size <= 0)
		return -1;
	buf = malloc(size + 1);
	if (!buf)
		return -1;
	size = klogctl(3, buf, size);
	if (size < 0)
		size = 0;
	buf[size] = '\0';
	for (p = buf; (p = strstr(p, "peerwatch: unloaded, ")); p++)
		last = p;
	if (last)
		n = strtol(last + strlen("peerwatch: unloaded, "), NULL, 10);
	free(buf);
	return n;
}

TEST_F_TIMEOUT(unload, under_load, 120)
{
	struct rlimit rl = { 4 * CHURN, 4 * CHURN };
	int victims[VICTIMS], peers[VICTIMS], i;
	struct pw_stats st;
	uint64_t end;

	ASSERT_EQ(0, setrlimit(RLIMIT_NOFILE, &rl));
	ASSERT_EQ(0, pw_policy_add4(&self->ctl, PW_SRV_ADDR, 32, 0, 0, 60000));

	/* Victims: their peer port is blackholed while data is in flight. */
	for (i = 0; i < VICTIMS; i++) {
		victims[i] = pw_connect(self->t.cli, PW_SRV_ADDR, PW_PORT + 1, 60000);
		ASSERT_LE(0, victims[i]);
		peers[i] = accept(self->vfd, NULL, NULL);
		ASSERT_LE(0, peers[i]);
	}
	ASSERT_EQ(0, pw_sh("ip netns exec %s nft -f - <<'EOF'\n"
			   "table inet pwvictim {\n"
			   "  chain in { type filter hook input priority 0; tcp dport %d drop; }\n"
			   "  chain out { type filter hook output priority 0; tcp sport %d drop; }\n"
			   "}\nEOF", self->t.srv, PW_PORT + 1, PW_PORT + 1));
	for (i = 0; i < VICTIMS; i++)
		ASSERT_EQ(0, pw_send_some(victims[i], 100));
	end = pw_now_ms() + 10000;
	do {
		usleep(100000);
		ASSERT_EQ(0, pw_stats_get(&self->ctl, &st));
	} while (st.v[PEERWATCH_STAT_A_TRACKED] < VICTIMS && pw_now_ms() < end);
	ASSERT_EQ((uint64_t)VICTIMS, st.v[PEERWATCH_STAT_A_TRACKED]);

	self->churner = fork();
	ASSERT_LE(0, self->churner);
	if (!self->churner)
		churn(self);
	usleep(1500000);

	ASSERT_EQ(0, pw_stats_get(&self->ctl, &st));
	TH_LOG("before unload: %llu live objects, %llu tracked, %llu resets and %llu policy hits so far",
	       (unsigned long long)st.v[PEERWATCH_STAT_A_LIVE_OBJECTS],
	       (unsigned long long)st.v[PEERWATCH_STAT_A_TRACKED],
	       (unsigned long long)st.v[PEERWATCH_STAT_A_DEAD_RESET],
	       (unsigned long long)st.v[PEERWATCH_STAT_A_POLICY_HITS]);
	EXPECT_GE(st.v[PEERWATCH_STAT_A_LIVE_OBJECTS], VICTIMS + 1U);
	ASSERT_EQ(0, waitpid(self->churner, NULL, WNOHANG));

	self->requester = fork();
	ASSERT_LE(0, self->requester);
	if (!self->requester)
		request(self->ans);
	end = pw_now_ms() + 5000;
	while (!self->ans->ok && pw_now_ms() < end)
		usleep(10000);

	ASSERT_EQ(0, unload_module());
	self->loaded = false;
	ASSERT_EQ(0, waitpid(self->churner, NULL, WNOHANG));
	end = pw_now_ms() + 5000;
	while (!self->ans->enoent && pw_now_ms() < end)
		usleep(10000);
	self->ans->stop = 1;
	ASSERT_EQ(self->requester, waitpid(self->requester, NULL, 0));
	self->requester = 0;
	TH_LOG("requests during the unload: %ld answered, %ld ENOENT, %ld other (last: %s)",
	       self->ans->ok, self->ans->enoent, self->ans->other,
	       self->ans->other ? strerror(self->ans->other_err) : "none");
	EXPECT_EQ(0, self->ans->other);
	EXPECT_LT(0, self->ans->ok);
	EXPECT_LT(0, self->ans->enoent);
	EXPECT_EQ(0, last_unload_count());
	TH_LOG("unloaded while churning: %ld live objects left", last_unload_count());

	ASSERT_EQ(0, load_module());
	self->loaded = true;
	pw_nl_close(&self->ctl);
	ASSERT_EQ(0, pw_nl_open(&self->ctl));
	ASSERT_EQ(0, pw_stats_get(&self->ctl, &st));
	EXPECT_EQ(0U, st.v[PEERWATCH_STAT_A_TRACKED]);

	for (i = 0; i < VICTIMS; i++) {
		close(victims[i]);
		close(peers[i]);
	}
}

/*
 * Init fails after each of its steps in turn (the fail_init parameter):
 * the pernet state, the family, the tracepoint look-up, then each of the
 * four probes registered. Every failure leaves no module behind and a
 * clean kernel (vm-run checks), and a step past the last one loads.
 */
TEST(init_fails_cleanly_at_each_step)
{
	char params[32];
	int step;

	ASSERT_EQ(0, unload_module());
	for (step = 1; step <= 7; step++) {
		snprintf(params, sizeof(params), "fail_init=%d", step);
		EXPECT_EQ(-ECANCELED, load_module_with(params)) {
			TH_LOG("step %d", step);
		}
		EXPECT_NE(0, access("/sys/module/peerwatch", F_OK));
	}
	ASSERT_EQ(0, load_module_with("fail_init=8"));
	ASSERT_EQ(0, unload_module());
	ASSERT_EQ(0, load_module());
}

TEST_HARNESS_MAIN

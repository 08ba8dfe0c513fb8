// SPDX-License-Identifier: GPL-2.0
/*
 * One tenant cannot take the others' episodes: a hostile tenant (root of a
 * user and network namespace of its own, pw_tenant.h) fills its netns's
 * table with blackholed sockets under a user timeout of weeks, past its
 * bound (netns_max_tracked, lowered here to TENANT_QUOTA so that the guest
 * fills it in seconds). Meanwhile:
 *
 *   - another netns still gets SUSPECT and DEAD for its own episode, and
 *     counts nothing UNTRACKED (with one table for the whole host, the
 *     tenant's sockets took every place and nobody else got SUSPECT);
 *   - the tenant's STATS_GET shows its own netns's TRACKED (= its bound)
 *     and UNTRACKED, and not the module's live objects;
 *   - the host's connection rate (connect, accept and reset over loopback
 *     in a third netns, as bench/crr.c) with the tenant's table full is
 *     not measurably below its rate while the tenant's connections are the
 *     same but unwatched (no user timeout: nothing tracked), measured as
 *     long after they were opened: their retransmissions cost the guest
 *     the same in both, and only the table differs. The median of ROUNDS
 *     pairs, each pair back to back so that the drift of a loaded host's
 *     speed hits both;
 *   - when the tenant's netns goes, its entries go with it;
 *   - its entries are charged to its memory cgroup: the cgroup's slab
 *     grows by about its bound times an entry's size more with its
 *     sockets tracked than with the same sockets unwatched.
 */
#include <sys/stat.h>

#include "kselftest_harness.h"
#include "pw_test.h"
#include "pw_tenant.h"

#define TENANT_QUOTA	512
#define TENANT_CONNS	(TENANT_QUOTA + 64)
#define FILL_MS		60000
#define CRR_PORT	(PW_PORT + 7)
#define CRR_MS		1000
#define ROUNDS		5
/*
 * The rate with the table full over the rate with the same connections
 * unwatched, at least. The host's close costs one more look at its own
 * netns's (empty) table: nothing a TCG guest can measure; the bound only
 * catches a lock or a walk shared across netns, and leaves room for the
 * noise of a loaded 2-core host.
 */
#define MIN_RATIO	0.7

FIXTURE(tenant) {
	struct pw_topo t;
	struct pw_nl nl;	/* the client netns's, joined to events */
	struct pw_nl host;	/* the test's own netns, for live objects */
	struct pw_tenant ten;
	char quota[32];
	int lfd;
};

FIXTURE_SETUP(tenant)
{
	char val[16];

	self->ten.pid = -1;
	ASSERT_EQ(0, pw_param_get("netns_max_tracked", self->quota,
				  sizeof(self->quota)));
	snprintf(val, sizeof(val), "%d", TENANT_QUOTA);
	ASSERT_EQ(0, pw_param_set("netns_max_tracked", val));
	ASSERT_EQ(0, pw_nl_open(&self->host));
	ASSERT_EQ(0, pw_topo_setup(&self->t));
	/* One RTO to the first retransmission, without a loss probe. */
	ASSERT_EQ(0, pw_sysctl(self->t.cli, "net.ipv4.tcp_early_retrans", "0"));
	self->lfd = pw_listen(self->t.srv, AF_INET, PW_PORT, 0);
	ASSERT_LE(0, self->lfd);
	ASSERT_EQ(0, pw_subscribe(self->t.cli, &self->nl));
}

FIXTURE_TEARDOWN(tenant)
{
	pw_tenant_stop(&self->ten);
	pw_nl_close(&self->nl);
	pw_nl_close(&self->host);
	pw_topo_teardown(&self->t);
	pw_param_set("netns_max_tracked", self->quota);
}

static int start_full(struct __test_metadata *_metadata,
		      FIXTURE_DATA(tenant) *self, struct pw_tenant_report *r)
{
	uint64_t t0 = pw_now_ms();
	int ret;

	ret = pw_tenant_start(&self->ten, TENANT_CONNS, false);
	if (ret == -EPERM || ret == -EINVAL || ret == -ENOSPC)
		return ret;
	if (!ret)
		ret = pw_tenant_wait_full(&self->ten, TENANT_QUOTA, FILL_MS, r);
	TH_LOG("tenant: %d connections, tracked %llu, untracked %llu, suspect %llu, in %llu ms (%s)",
	       r->conns, (unsigned long long)r->tracked,
	       (unsigned long long)r->untracked,
	       (unsigned long long)r->suspect,
	       (unsigned long long)(pw_now_ms() - t0), strerror(-ret));
	return ret;
}

TEST_F_TIMEOUT(tenant, full_quota_takes_nobody_elses_episodes, 300)
{
	struct pw_stats before, st;
	struct pw_tenant_report r;
	struct pw_event ev;
	uint64_t cookie, end;
	int c, s, ret;

	ASSERT_EQ(0, pw_stats_get(&self->host, &before));
	ret = start_full(_metadata, self, &r);
	if (ret == -EPERM || ret == -EINVAL || ret == -ENOSPC)
		SKIP(return, "no user namespace for nobody: %s", strerror(-ret));
	ASSERT_EQ(0, ret);
	/* Its own counters: its bound reached, the rest missed. */
	EXPECT_EQ((uint64_t)TENANT_QUOTA, r.tracked);
	EXPECT_LT(0U, r.untracked);
	EXPECT_NE(0U, r.present & 1U << PEERWATCH_STAT_A_TRACKED);
	EXPECT_EQ(0U, r.present & 1U << PEERWATCH_STAT_A_LIVE_OBJECTS);

	/* Another netns's episode: SUSPECT, then DEAD at its user timeout. */
	c = pw_connect(self->t.cli, PW_SRV_ADDR, PW_PORT, 3000);
	ASSERT_LE(0, c);
	s = accept(self->lfd, NULL, NULL);
	ASSERT_LE(0, s);
	cookie = pw_cookie(c);
	ASSERT_EQ(0, pw_blackhole(&self->t, true));
	ASSERT_EQ(0, pw_send_some(c, 100));
	ASSERT_EQ(0, pw_wait_event(&self->nl, cookie, PEERWATCH_EVENT_SUSPECT,
				   5000, &ev));
	ASSERT_EQ(0, pw_stats_get(&self->nl, &st));
	EXPECT_EQ(1U, st.v[PEERWATCH_STAT_A_TRACKED]);
	EXPECT_EQ(0U, st.v[PEERWATCH_STAT_A_UNTRACKED]);
	ASSERT_EQ(0, pw_wait_event(&self->nl, cookie, PEERWATCH_EVENT_DEAD,
				   15000, &ev));
	EXPECT_EQ(PEERWATCH_REASON_USER_TIMEOUT, ev.reason);
	ASSERT_EQ(0, pw_stats_get(&self->nl, &st));
	EXPECT_EQ(0U, st.v[PEERWATCH_STAT_A_TRACKED]);
	EXPECT_EQ(1U, st.v[PEERWATCH_STAT_A_SUSPECT]);
	EXPECT_EQ(1U, st.v[PEERWATCH_STAT_A_DEAD_USER_TIMEOUT]);
	close(c);
	close(s);

	/* The tenant's table is still full, and the module's entries with it. */
	ASSERT_EQ(0, pw_tenant_ask(&self->ten, PW_TENANT_REPORT, &r));
	EXPECT_EQ((uint64_t)TENANT_QUOTA, r.tracked);
	ASSERT_EQ(0, pw_stats_get(&self->host, &st));
	EXPECT_LE(before.v[PEERWATCH_STAT_A_LIVE_OBJECTS] + TENANT_QUOTA,
		  st.v[PEERWATCH_STAT_A_LIVE_OBJECTS]);

	/* Its netns gone, its entries are freed. */
	pw_tenant_stop(&self->ten);
	end = pw_now_ms() + 20000;
	do {
		usleep(100000);
		ASSERT_EQ(0, pw_stats_get(&self->host, &st));
	} while (st.v[PEERWATCH_STAT_A_LIVE_OBJECTS] >
		 before.v[PEERWATCH_STAT_A_LIVE_OBJECTS] && pw_now_ms() < end);
	EXPECT_EQ(before.v[PEERWATCH_STAT_A_LIVE_OBJECTS],
		  st.v[PEERWATCH_STAT_A_LIVE_OBJECTS]);
}

static int crr_listen(void)
{
	struct sockaddr_in a = {
		.sin_family = AF_INET,
		.sin_port = htons(CRR_PORT),
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK),
	};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	if (bind(fd, (void *)&a, sizeof(a)) || listen(fd, 128)) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Connect, accept and reset over loopback for @ms: cycles per second. */
static double crr_rate(int lfd, int ms)
{
	struct sockaddr_in a = {
		.sin_family = AF_INET,
		.sin_port = htons(CRR_PORT),
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK),
	};
	struct linger lin = { .l_onoff = 1, .l_linger = 0 };
	uint64_t t0 = pw_now_ns(), end = t0 + ms * 1000000ULL, now;
	long n = 0;
	int c, s;

	do {
		c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (c < 0 || connect(c, (void *)&a, sizeof(a)))
			return -1;
		s = accept(lfd, NULL, NULL);
		if (s < 0)
			return -1;
		/* A reset: no TIME-WAIT, so the ports last any number of rounds. */
		setsockopt(c, SOL_SOCKET, SO_LINGER, &lin, sizeof(lin));
		close(c);
		close(s);
		n++;
		now = pw_now_ns();
	} while (now < end);
	return n * 1e9 / (now - t0);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

TEST_F_TIMEOUT(tenant, host_connection_rate_unchanged, 300)
{
	double plain, full, ratio[ROUNDS];
	struct pw_tenant_report r;
	uint64_t t0, fill_ms;
	int lfd, i, ret;

	ret = start_full(_metadata, self, &r);
	if (ret == -EPERM || ret == -EINVAL || ret == -ENOSPC)
		SKIP(return, "no user namespace for nobody: %s", strerror(-ret));
	ASSERT_EQ(0, ret);
	ASSERT_EQ(0, pw_enter(self->t.cli));
	lfd = crr_listen();
	ASSERT_LE(0, lfd);

	for (i = 0; i < ROUNDS; i++) {
		ASSERT_EQ(0, pw_tenant_ask(&self->ten, PW_TENANT_CLOSE, &r));
		/* A reset ends each socket and its episode at once. */
		EXPECT_EQ(0U, r.tracked);
		t0 = pw_now_ms();
		ASSERT_EQ(0, pw_tenant_ask(&self->ten, PW_TENANT_FILL, &r));
		ASSERT_EQ(0, pw_tenant_wait_full(&self->ten, TENANT_QUOTA,
						 FILL_MS, &r));
		fill_ms = pw_now_ms() - t0;
		full = crr_rate(lfd, CRR_MS);
		ASSERT_LT(0, full);

		ASSERT_EQ(0, pw_tenant_ask(&self->ten, PW_TENANT_CLOSE, &r));
		t0 = pw_now_ms();
		ASSERT_EQ(0, pw_tenant_ask(&self->ten, PW_TENANT_FILL_PLAIN, &r));
		if (pw_now_ms() < t0 + fill_ms)
			usleep((t0 + fill_ms - pw_now_ms()) * 1000);
		ASSERT_EQ(0, pw_tenant_ask(&self->ten, PW_TENANT_REPORT, &r));
		EXPECT_EQ(0U, r.tracked);
		plain = crr_rate(lfd, CRR_MS);
		ASSERT_LT(0, plain);
		ratio[i] = full / plain;
		TH_LOG("round %d: %.0f/s with the tenant's %d tracked, %.0f/s with the same unwatched: %.3f",
		       i, full, TENANT_QUOTA, plain, ratio[i]);
	}
	close(lfd);
	qsort(ratio, ROUNDS, sizeof(ratio[0]), cmp_double);
	TH_LOG("ratio full/unwatched: median %.3f, from %.3f to %.3f (bound %.2f)",
	       ratio[ROUNDS / 2], ratio[0], ratio[ROUNDS - 1], MIN_RATIO);
	EXPECT_LE(MIN_RATIO, ratio[ROUNDS / 2]);
}

/* A cgroup v2 number of memory.stat, in bytes; -1 if absent. */
static long long memcg_stat(const char *cg, const char *key)
{
	char path[PATH_MAX], k[64];
	long long v, ret = -1;
	FILE *f;

	snprintf(path, sizeof(path), "%s/memory.stat", cg);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fscanf(f, "%63s %lld", k, &v) == 2)
		if (!strcmp(k, key))
			ret = v;
	fclose(f);
	return ret;
}

static int write_str(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), ret = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, val, strlen(val)) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

/* An entry's size as the slab allocator gives it; a floor without SLUB's files. */
static long entry_size(void)
{
	long v = 32;
	FILE *f = fopen("/sys/kernel/slab/peerwatch_track/object_size", "r");

	if (f) {
		if (fscanf(f, "%ld", &v) != 1)
			v = 32;
		fclose(f);
	}
	return v;
}

/*
 * Slab of the tenant's cgroup once its sockets are in place and the
 * cgroup's statistics flushed (every 2 s), after @fill ('f' or 'p');
 * -1 on failure.
 */
static long long slab_after(FIXTURE_DATA(tenant) *self, const char *cg,
			    char fill, struct pw_tenant_report *r)
{
	if (pw_tenant_ask(&self->ten, PW_TENANT_CLOSE, r))
		return -1;
	/* The entries of the closed sockets go after a grace period. */
	usleep(2000000);
	if (pw_tenant_ask(&self->ten, fill, r))
		return -1;
	if (fill == PW_TENANT_FILL) {
		if (pw_tenant_wait_full(&self->ten, TENANT_QUOTA, FILL_MS, r))
			return -1;
	} else {
		usleep(10000000);
	}
	usleep(4000000);
	if (pw_tenant_ask(&self->ten, PW_TENANT_REPORT, r))
		return -1;
	return memcg_stat(cg, "slab_unreclaimable");
}

TEST_F_TIMEOUT(tenant, entries_charged_to_the_tenants_cgroup, 300)
{
	long long tracked, plain;
	struct pw_tenant_report r;
	char cg[64], procs[96], pid[16];
	long size = entry_size();
	int ret;

	if (access("/sys/fs/cgroup/cgroup.controllers", R_OK) ||
	    write_str("/sys/fs/cgroup/cgroup.subtree_control", "+memory"))
		SKIP(return, "no cgroup v2 memory controller in this guest");
	snprintf(cg, sizeof(cg), "/sys/fs/cgroup/pwt-tenant-%d", getpid());
	ASSERT_EQ(0, mkdir(cg, 0755));
	ret = start_full(_metadata, self, &r);
	if (ret == -EPERM || ret == -EINVAL || ret == -ENOSPC) {
		rmdir(cg);
		SKIP(return, "no user namespace for nobody: %s", strerror(-ret));
	}
	ASSERT_EQ(0, ret);
	/* From here on its sockets are made in the cgroup. */
	snprintf(pid, sizeof(pid), "%d", self->ten.pid);
	snprintf(procs, sizeof(procs), "%s/cgroup.procs", cg);
	ASSERT_EQ(0, write_str(procs, pid));
	tracked = slab_after(self, cg, PW_TENANT_FILL, &r);
	ASSERT_LE(0, tracked);
	EXPECT_EQ((uint64_t)TENANT_QUOTA, r.tracked);
	plain = slab_after(self, cg, PW_TENANT_FILL_PLAIN, &r);
	ASSERT_LE(0, plain);
	EXPECT_EQ(0U, r.tracked);
	EXPECT_EQ(TENANT_CONNS, r.conns);
	TH_LOG("the tenant's cgroup: slab %lld KiB with %d sockets tracked, %lld KiB with the same unwatched: %lld B more, %d entries of %ld B are %ld B",
	       tracked >> 10, TENANT_QUOTA, plain >> 10, tracked - plain,
	       TENANT_QUOTA, size, TENANT_QUOTA * size);
	/* Half of what the entries take: the rest is room for the noise. */
	EXPECT_LE(TENANT_QUOTA * size / 2, tracked - plain);
	pw_tenant_stop(&self->ten);
	EXPECT_EQ(0, rmdir(cg));
}

TEST_HARNESS_MAIN

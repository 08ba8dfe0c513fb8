// SPDX-License-Identifier: GPL-2.0
/*
 * The peerwatch CLI against the live module: monitor -j prints a real DEAD
 * event, sockets -j shows a user timeout, set-timeout changes it (also
 * of a socket bound to a device, named ADDR%DEV as sockets prints it),
 * policy and stats work, and bad usage exits 2. Each test runs the CLI
 * several times: 120 s each, as a TCG guest on a loaded host ran three
 * of them past the harness's default 30 s.
 */
#include <json-c/json.h>
#include <libgen.h>
#include <net/if.h>
#include <limits.h>
#include <signal.h>

#include "kselftest_harness.h"
#include "pw_test.h"

FIXTURE(cli) {
	struct pw_topo t;
	int lfd;
	char bin[PATH_MAX];
};

FIXTURE_SETUP(cli)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	ASSERT_GT(n, 0);
	exe[n] = '\0';
	/* BUILD/selftests/kmod/cli -> BUILD/peerwatch */
	snprintf(self->bin, sizeof(self->bin), "%s/../../peerwatch",
		 dirname(exe));
	ASSERT_EQ(0, access(self->bin, X_OK));
	ASSERT_EQ(0, pw_topo_setup(&self->t));
	self->lfd = pw_listen(self->t.srv, AF_INET, PW_PORT, 0);
	ASSERT_LE(0, self->lfd);
	ASSERT_EQ(0, pw_enter(self->t.cli));
}

FIXTURE_TEARDOWN(cli)
{
	pw_topo_teardown(&self->t);
}

/* Run the CLI in the client netns; its exit status, first line in @out. */
static int run(FIXTURE_DATA(cli) *self, char *out, size_t len,
	       const char *args)
{
	char cmd[PATH_MAX + 512];
	FILE *f;
	int st;

	snprintf(cmd, sizeof(cmd), "%s %s 2>&1", self->bin, args);
	f = popen(cmd, "r");
	if (!f)
		return -1;
	if (out) {
		out[0] = '\0';
		if (!fgets(out, len, f))
			out[0] = '\0';
	}
	while (fgetc(f) != EOF)
		;
	st = pclose(f);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static const char *jstr(struct json_object *o, const char *key)
{
	struct json_object *v;

	return json_object_object_get_ex(o, key, &v) ? json_object_get_string(v) : "";
}

static uint64_t jnum(struct json_object *o, const char *key)
{
	struct json_object *v;

	return json_object_object_get_ex(o, key, &v) ? json_object_get_uint64(v) : 0;
}

TEST_F_TIMEOUT(cli, monitor_prints_dead_event, 120)
{
	struct linger lin = { .l_onoff = 1, .l_linger = 0 };
	struct json_object *o;
	char line[1024];
	int p[2], c[40], s, n, i;
	bool found = false;
	pid_t pid;
	FILE *f;

	ASSERT_EQ(0, pipe(p));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		dup2(p[1], 1);
		close(p[0]);
		execl(self->bin, self->bin, "monitor", "-j", NULL);
		_exit(127);
	}
	close(p[1]);

	/* Kill connections until the monitor, once it joined, prints one. */
	for (n = 0; n < 40; n++) {
		struct pollfd pfd = { .fd = p[0], .events = POLLIN };

		c[n] = pw_connect(self->t.cli, PW_SRV_ADDR, PW_PORT, 3000);
		ASSERT_LE(0, c[n]);
		s = accept(self->lfd, NULL, NULL);
		ASSERT_LE(0, s);
		ASSERT_EQ(0, setsockopt(s, SOL_SOCKET, SO_LINGER, &lin, sizeof(lin)));
		close(s);
		if (poll(&pfd, 1, 500) > 0)
			break;
	}
	ASSERT_LT(n, 40);

	f = fdopen(p[0], "r");
	ASSERT_NE(NULL, f);
	ASSERT_NE(NULL, fgets(line, sizeof(line), f));
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	fclose(f);
	TH_LOG("%.*s", (int)strcspn(line, "\n"), line);

	o = json_tokener_parse(line);
	ASSERT_NE(NULL, o);
	EXPECT_STREQ("dead", jstr(o, "event"));
	EXPECT_STREQ("reset", jstr(o, "reason"));
	EXPECT_STREQ("inet", jstr(o, "family"));
	EXPECT_STREQ(PW_CLI_ADDR, jstr(o, "saddr"));
	EXPECT_STREQ(PW_SRV_ADDR, jstr(o, "daddr"));
	EXPECT_EQ((uint64_t)PW_PORT, jnum(o, "dport"));
	EXPECT_EQ(3000U, jnum(o, "user_timeout_ms"));
	for (i = 0; i <= n; i++) {
		found |= pw_cookie(c[i]) == jnum(o, "cookie");
		close(c[i]);
	}
	EXPECT_TRUE(found);
	json_object_put(o);
}

TEST_F_TIMEOUT(cli, sockets_and_set_timeout, 120)
{
	struct sockaddr_in l;
	socklen_t len = sizeof(l);
	struct json_object *o;
	char line[1024], args[256];
	int c, s;

	c = pw_connect(self->t.cli, PW_SRV_ADDR, PW_PORT, 1234);
	ASSERT_LE(0, c);
	s = accept(self->lfd, NULL, NULL);
	ASSERT_LE(0, s);

	ASSERT_EQ(0, run(self, line, sizeof(line), "sockets -j with-timeout dport 5000"));
	TH_LOG("%.*s", (int)strcspn(line, "\n"), line);
	o = json_tokener_parse(line);
	ASSERT_NE(NULL, o);
	EXPECT_EQ(pw_cookie(c), jnum(o, "cookie"));
	EXPECT_EQ(1234U, jnum(o, "user_timeout_ms"));
	EXPECT_STREQ("ESTAB", jstr(o, "state"));
	json_object_put(o);

	ASSERT_EQ(0, getsockname(c, (void *)&l, &len));
	snprintf(args, sizeof(args), "set-timeout %s:%u %s:%d 2500ms",
		 PW_CLI_ADDR, ntohs(l.sin_port), PW_SRV_ADDR, PW_PORT);
	EXPECT_EQ(0, run(self, NULL, 0, args));
	EXPECT_EQ(2500U, pw_user_timeout(c));

	snprintf(args, sizeof(args), "set-timeout --cookie %llu %s:%u %s:%d 1s",
		 (unsigned long long)pw_cookie(c) + 1000, PW_CLI_ADDR,
		 ntohs(l.sin_port), PW_SRV_ADDR, PW_PORT);
	EXPECT_EQ(1, run(self, line, sizeof(line), args));
	TH_LOG("stale cookie: %.*s", (int)strcspn(line, "\n"), line);
	EXPECT_EQ(2500U, pw_user_timeout(c));
	close(c);
	close(s);
}

/*
 * A socket bound to a device is found by the kernel only with its device:
 * sockets prints it as ADDR%DEV and filters on dev, set-timeout takes that
 * form back; without the device the socket is not found (exit 1).
 */
TEST_F_TIMEOUT(cli, device_bound_socket, 120)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(PW_PORT) };
	struct sockaddr_in l;
	socklen_t len = sizeof(l);
	char line[1024], args[256], want[64];
	struct json_object *o;
	int c, s;

	inet_pton(AF_INET, PW_SRV_ADDR, &a.sin_addr);
	c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ASSERT_LE(0, c);
	ASSERT_EQ(0, setsockopt(c, SOL_SOCKET, SO_BINDTODEVICE, "pwc0", 5));
	ASSERT_EQ(0, connect(c, (void *)&a, sizeof(a)));
	s = accept(self->lfd, NULL, NULL);
	ASSERT_LE(0, s);
	ASSERT_EQ(0, getsockname(c, (void *)&l, &len));

	ASSERT_EQ(0, run(self, line, sizeof(line), "sockets -j dev pwc0 dport 5000"));
	TH_LOG("%.*s", (int)strcspn(line, "\n"), line);
	o = json_tokener_parse(line);
	ASSERT_NE(NULL, o);
	EXPECT_EQ(pw_cookie(c), jnum(o, "cookie"));
	EXPECT_STREQ("pwc0", jstr(o, "dev"));
	EXPECT_EQ((uint64_t)if_nametoindex("pwc0"), jnum(o, "ifindex"));
	json_object_put(o);

	ASSERT_EQ(0, run(self, line, sizeof(line), "sockets dport 5000"));
	snprintf(want, sizeof(want), " %s%%pwc0:%u -> ", PW_CLI_ADDR,
		 ntohs(l.sin_port));
	EXPECT_NE(NULL, strstr(line, want));
	TH_LOG("%.*s", (int)strcspn(line, "\n"), line);
	EXPECT_EQ(0, run(self, line, sizeof(line), "sockets dev lo dport 5000"));
	EXPECT_STREQ("", line);

	snprintf(args, sizeof(args), "set-timeout %s:%u %s:%d 2500ms",
		 PW_CLI_ADDR, ntohs(l.sin_port), PW_SRV_ADDR, PW_PORT);
	EXPECT_EQ(1, run(self, NULL, 0, args));
	EXPECT_EQ(0U, pw_user_timeout(c));
	snprintf(args, sizeof(args), "set-timeout %s%%pwc0:%u %s:%d 2500ms",
		 PW_CLI_ADDR, ntohs(l.sin_port), PW_SRV_ADDR, PW_PORT);
	EXPECT_EQ(0, run(self, NULL, 0, args));
	EXPECT_EQ(2500U, pw_user_timeout(c));

	snprintf(args, sizeof(args), "set-timeout %s%%nosuch0:%u %s:%d 1s",
		 PW_CLI_ADDR, ntohs(l.sin_port), PW_SRV_ADDR, PW_PORT);
	EXPECT_EQ(2, run(self, line, sizeof(line), args));
	TH_LOG("unknown device: %.*s", (int)strcspn(line, "\n"), line);
	EXPECT_EQ(2, run(self, NULL, 0, "sockets dev nosuch0"));
	EXPECT_EQ(2500U, pw_user_timeout(c));
	close(c);
	close(s);
}

TEST_F_TIMEOUT(cli, policy_and_stats, 120)
{
	struct json_object *o;
	char line[1024];

	ASSERT_EQ(0, run(self, line, sizeof(line),
			 "policy add dst 10.77.0.2/32 dport 5000-5001 timeout 1500ms"));
	ASSERT_EQ(0, run(self, line, sizeof(line), "policy list -j"));
	TH_LOG("%.*s", (int)strcspn(line, "\n"), line);
	o = json_tokener_parse(line);
	ASSERT_NE(NULL, o);
	EXPECT_EQ(1500U, jnum(o, "user_timeout_ms"));
	EXPECT_STREQ("10.77.0.2/32", jstr(o, "dst"));
	EXPECT_EQ(5001U, jnum(o, "dport_max"));
	json_object_put(o);

	EXPECT_EQ(0, run(self, NULL, 0, "policy del 1"));
	EXPECT_EQ(1, run(self, line, sizeof(line), "policy del 1"));
	TH_LOG("deleting twice: %.*s", (int)strcspn(line, "\n"), line);
	EXPECT_EQ(0, run(self, NULL, 0, "policy flush"));

	ASSERT_EQ(0, run(self, line, sizeof(line), "stats -j"));
	o = json_tokener_parse(line);
	ASSERT_NE(NULL, o);
	EXPECT_EQ(0U, jnum(o, "policies"));
	json_object_put(o);
}

TEST_F_TIMEOUT(cli, usage_and_help, 120)
{
	static const char * const subs[] = {
		"monitor", "sockets", "set-timeout", "policy", "stats",
	};
	char args[64];
	size_t i;

	EXPECT_EQ(0, run(self, NULL, 0, "--help"));
	EXPECT_EQ(2, run(self, NULL, 0, ""));
	EXPECT_EQ(2, run(self, NULL, 0, "frobnicate"));
	for (i = 0; i < sizeof(subs) / sizeof(subs[0]); i++) {
		snprintf(args, sizeof(args), "%s --help", subs[i]);
		EXPECT_EQ(0, run(self, NULL, 0, args));
	}
	EXPECT_EQ(2, run(self, NULL, 0, "sockets dport notaport"));
	EXPECT_EQ(2, run(self, NULL, 0, "set-timeout 1.2.3.4:5 6.7.8.9:10"));
	EXPECT_EQ(2, run(self, NULL, 0, "policy add timeout 0"));
}

TEST_HARNESS_MAIN

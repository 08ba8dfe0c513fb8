// SPDX-License-Identifier: GPL-2.0
/*
 * peerwatchd's flags (agent/config.c): the defaults the man page and
 * --help promise, every flag into its field, the checks across flags,
 * and --help naming every flag.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "kselftest_harness.h"
#include "config.h"
#include "pwapi.h"

FIXTURE(config)
{
	struct config c;
	char err[256];
};

FIXTURE_SETUP(config)
{
	/* The docker CLI's variables would turn TLS on. */
	unsetenv("DOCKER_TLS_VERIFY");
	unsetenv("DOCKER_CERT_PATH");
	unsetenv("DOCKER_CONFIG");
	self->err[0] = '\0';
}

FIXTURE_TEARDOWN(config)
{
	config_clear(&self->c);
}

static int parse(struct config *c, char *err, size_t len, char **argv)
{
	int argc = 0;

	while (argv[argc])
		argc++;
	return config_parse(c, argc, argv, err, len);
}

#define PARSE(...) \
	parse(&self->c, self->err, sizeof(self->err), \
	      (char *[]){ "peerwatchd", __VA_ARGS__, NULL })

TEST_F(config, defaults)
{
	const struct engine_cfg *e = &self->c.engine;

	ASSERT_EQ(0, PARSE("--engine", "127.0.0.1:1")) TH_LOG("%s", self->err);
	EXPECT_EQ(30000ULL, e->refresh_min_ms);
	EXPECT_EQ(60000ULL, e->refresh_max_ms);
	EXPECT_EQ(300000ULL, e->info_interval_ms);
	EXPECT_EQ(3U, e->failure_retry);
	EXPECT_EQ(10000ULL, e->request_timeout_ms);
	EXPECT_EQ(250ULL, e->late_ping_ms);
	EXPECT_EQ(5000ULL, e->ping_interval_ms);
	EXPECT_EQ(3000ULL, e->ping_timeout_ms);
	EXPECT_EQ(60000ULL, e->backoff_max_ms);
	EXPECT_EQ(64ULL << 20, e->max_body);
	EXPECT_TRUE(e->events);
	EXPECT_EQ(20000U, e->conn.user_timeout_ms);
	EXPECT_EQ(10U, e->conn.keepidle_s);
	EXPECT_EQ(1U, e->conn.keepintvl_s);
	EXPECT_EQ(3U, e->conn.keepcnt);
	EXPECT_FALSE(e->tls.enable);
	EXPECT_EQ(NULL, e->tls.ca);
	EXPECT_EQ(60000ULL, self->c.discovery_interval_ms);
	EXPECT_EQ(10000ULL, self->c.summary_interval_ms);
	EXPECT_STREQ("/run/peerwatch/state.json", self->c.state_file);
	EXPECT_STREQ(API_DEFAULT_SOCKET, self->c.api.socket);
	EXPECT_EQ(NULL, self->c.api.listen);
	EXPECT_FALSE(self->c.api.listen_any);
	EXPECT_FALSE(self->c.api.no_docker);
	EXPECT_EQ(256U, self->c.api.max_clients);
	EXPECT_FALSE(self->c.kernel_policy);
	EXPECT_EQ(8U << 20, self->c.kernel_rcvbuf);
	EXPECT_EQ(LOG_INFO, (int)self->c.log_level);
	EXPECT_EQ(-1, self->c.tlsverify);
	EXPECT_EQ(NULL, self->c.url);
	ASSERT_EQ(1U, self->c.engines.n);
	EXPECT_STREQ("127.0.0.1:1", self->c.engines.v[0]);
}

TEST_F(config, every_flag_into_its_field)
{
	const struct engine_cfg *e = &self->c.engine;

	ASSERT_EQ(0, PARSE("--engine", "a:1", "nodes://b:2", "--engine=c:3",
			   "--engine-refresh-min-interval", "1s",
			   "--engine-refresh-max-interval", "2s",
			   "--engine-info-interval", "1m",
			   "--engine-failure-retry", "5",
			   "--request-timeout", "4s", "--late-ping", "0",
			   "--ping-interval", "0", "--ping-timeout", "1s",
			   "--user-timeout", "7s", "--keepalive-idle", "2s",
			   "--keepalive-interval", "2s", "--keepalive-count", "9",
			   "--backoff-max", "5s", "--no-events",
			   "--discovery-interval", "0", "--max-body", "1MiB",
			   "--state-file", "/tmp/s.json",
			   "--summary-interval", "0", "--api-socket", "",
			   "--api-listen", "127.0.0.1:2380", "--api-listen-any",
			   "--no-docker-api", "--api-max-clients", "10",
			   "--kernel-policy", "--kernel-rcvbuf", "64KiB", "-q"))
		TH_LOG("%s", self->err);
	EXPECT_STREQ("nodes://b:2", self->c.url);
	ASSERT_EQ(2U, self->c.engines.n);
	EXPECT_STREQ("c:3", self->c.engines.v[1]);
	EXPECT_EQ(1000ULL, e->refresh_min_ms);
	EXPECT_EQ(2000ULL, e->refresh_max_ms);
	EXPECT_EQ(60000ULL, e->info_interval_ms);
	EXPECT_EQ(5U, e->failure_retry);
	EXPECT_EQ(4000ULL, e->request_timeout_ms);
	EXPECT_EQ(0ULL, e->late_ping_ms);
	EXPECT_EQ(0ULL, e->ping_interval_ms);
	EXPECT_EQ(1000ULL, e->ping_timeout_ms);
	EXPECT_EQ(7000U, e->conn.user_timeout_ms);
	EXPECT_EQ(2U, e->conn.keepidle_s);
	EXPECT_EQ(2U, e->conn.keepintvl_s);
	EXPECT_EQ(9U, e->conn.keepcnt);
	EXPECT_EQ(5000ULL, e->backoff_max_ms);
	EXPECT_FALSE(e->events);
	EXPECT_EQ(0ULL, self->c.discovery_interval_ms);
	EXPECT_EQ(1ULL << 20, e->max_body);
	EXPECT_STREQ("/tmp/s.json", self->c.state_file);
	EXPECT_EQ(0ULL, self->c.summary_interval_ms);
	EXPECT_EQ(NULL, self->c.api.socket);
	EXPECT_STREQ("127.0.0.1:2380", self->c.api.listen);
	EXPECT_TRUE(self->c.api.listen_any);
	EXPECT_TRUE(self->c.api.no_docker);
	EXPECT_EQ(10U, self->c.api.max_clients);
	EXPECT_TRUE(self->c.kernel_policy);
	EXPECT_EQ(64U << 10, self->c.kernel_rcvbuf);
	EXPECT_EQ(LOG_WARN, (int)self->c.log_level);
}

static int mkdir_file(const char *dir, const char *name)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	return f && !fclose(f) ? 0 : -1;
}

TEST_F(config, tls_flags)
{
	char dir[] = "/tmp/pw-config-XXXXXX", want[512];

	ASSERT_NE(NULL, mkdtemp(dir));
	setenv("DOCKER_CERT_PATH", dir, 1);
	ASSERT_EQ(0, PARSE("--tlsverify=false", "--tlscert", "/c.pem",
			   "--tlskey", "/k.pem", "--engine", "a:1"))
		TH_LOG("%s", self->err);
	EXPECT_TRUE(self->c.engine.tls.enable);
	EXPECT_FALSE(self->c.engine.tls.verify);
	EXPECT_STREQ("/c.pem", self->c.engine.tls.cert);
	EXPECT_STREQ("/k.pem", self->c.engine.tls.key);
	/* Not verifying, a CA that is not there is not looked for. */
	EXPECT_EQ(NULL, self->c.engine.tls.ca);
	config_clear(&self->c);
	ASSERT_EQ(0, PARSE("--tls", "--tlscacert", "/ca.pem", "--engine", "a:1"));
	EXPECT_TRUE(self->c.engine.tls.verify);
	EXPECT_STREQ("/ca.pem", self->c.engine.tls.ca);
	config_clear(&self->c);
	EXPECT_EQ(-EINVAL, PARSE("--tlscacert=", "--engine", "a:1"));
	EXPECT_STREQ("--tlscacert: empty path", self->err);
	config_clear(&self->c);
	/* One of the pair: the files are named, not flags never given. */
	ASSERT_EQ(0, mkdir_file(dir, "key.pem"));
	EXPECT_EQ(-EINVAL, PARSE("--tlsverify=false", "--engine", "a:1"));
	snprintf(want, sizeof(want),
		 "%s holds key.pem but not cert.pem: a client key and its certificate go together",
		 dir);
	EXPECT_STREQ(want, self->err);
	config_clear(&self->c);
	snprintf(want, sizeof(want), "%s/key.pem", dir);
	unlink(want);
	EXPECT_EQ(-EINVAL, PARSE("--tlsverify=false", "--tlscert", "/c.pem",
				 "--engine", "a:1"));
	snprintf(want, sizeof(want),
		 "--tlscert /c.pem: its --tlskey is missing (not given, and no %s/key.pem)",
		 dir);
	EXPECT_STREQ(want, self->err);
	rmdir(dir);
}

TEST_F(config, checks_across_flags)
{
	EXPECT_EQ(-EINVAL, PARSE("--engine-refresh-min-interval", "10s",
				 "--engine-refresh-max-interval", "5s",
				 "--engine", "a:1"));
	EXPECT_STREQ("--engine-refresh-max-interval is below --engine-refresh-min-interval",
		     self->err);
	config_clear(&self->c);
	/* --api-listen-any counts wherever it stands. */
	ASSERT_EQ(0, PARSE("--api-listen", "0.0.0.0:2380", "--engine", "a:1",
			   "--api-listen-any"));
	config_clear(&self->c);
	EXPECT_EQ(-EINVAL, PARSE("--api-listen", "0.0.0.0:2380", "--engine",
				 "a:1"));
	config_clear(&self->c);
	EXPECT_EQ(-EINVAL, PARSE("-v"));
	EXPECT_STREQ("no engines: give a discovery URL or --engine", self->err);
	config_clear(&self->c);
	EXPECT_EQ(-EINVAL, PARSE("nodes://a:1", "file:///x"));
	EXPECT_STREQ("one discovery URL only, got 'file:///x' too", self->err);
	config_clear(&self->c);
	/* A ping's deadline given above a request's: refused, not cut. */
	EXPECT_EQ(-EINVAL, PARSE("--ping-timeout", "20s", "--engine", "a:1"));
	EXPECT_STREQ("--ping-timeout 20s is above --request-timeout 10s: a ping's deadline is at most a request's",
		     self->err);
	config_clear(&self->c);
	/* Its default gives way to a shorter --request-timeout. */
	ASSERT_EQ(0, PARSE("--request-timeout", "1s", "--engine", "a:1"));
	config_clear(&self->c);
	EXPECT_EQ(-EINVAL, PARSE("--keepalive-idle", "1500ms", "--engine", "a:1"));
	EXPECT_STREQ("--keepalive-idle: 1500ms is not a whole number of seconds (the kernel counts in seconds: 1s, 2s...)",
		     self->err);
	config_clear(&self->c);
	/* Docker's tcp:// is an engine; http:// says what is wrong. */
	ASSERT_EQ(0, PARSE("--engine", "tcp://127.1.0.3:2375"));
	config_clear(&self->c);
	EXPECT_EQ(-EINVAL, PARSE("--engine", "http://127.1.0.3:2375"));
	EXPECT_STREQ("--engine 'http://127.1.0.3:2375': http:// is not how Docker names an engine: write tcp://HOST:PORT or HOST:PORT",
		     self->err);
}

TEST_F(config, bad_values_keep_their_messages)
{
	EXPECT_EQ(-EINVAL, PARSE("--user-timeout", "2h", "--engine", "a:1"));
	EXPECT_STREQ("--user-timeout: 2h is out of range [100ms, 1h]", self->err);
	config_clear(&self->c);
	EXPECT_EQ(-EINVAL, PARSE("--ping-interval", "50ms", "--engine", "a:1"));
	EXPECT_STREQ("--ping-interval: 0 or at least 100ms", self->err);
	config_clear(&self->c);
	EXPECT_EQ(-EINVAL, PARSE("--max-body", "12", "--engine", "a:1"));
	EXPECT_STREQ("--max-body: '12' is not a size in [4KiB, 1GiB]", self->err);
	config_clear(&self->c);
	EXPECT_EQ(-EINVAL, PARSE("--engine-failure-retry", "0", "--engine", "a:1"));
	EXPECT_STREQ("--engine-failure-retry: '0' is not an integer in [1, 1000]",
		     self->err);
	config_clear(&self->c);
	EXPECT_EQ(-EINVAL, PARSE("--engine", "[::1]"));
	EXPECT_EQ(0, strncmp(self->err, "--engine '[::1]': ", 18)) TH_LOG("%s", self->err);
	config_clear(&self->c);
	EXPECT_EQ(-EINVAL, PARSE("--user-timeout"));
	EXPECT_STREQ("option '--user-timeout' needs a value", self->err);
}

TEST_F(config, abbreviations_are_refused)
{
	EXPECT_EQ(-EINVAL, PARSE("--engine-refresh-min", "5s", "--engine", "a:1"));
	EXPECT_STREQ("unknown option '--engine-refresh-min': options are never abbreviated; did you mean --engine-refresh-min-interval?",
		     self->err);
	config_clear(&self->c);
	EXPECT_EQ(-EINVAL, PARSE("--verb", "--engine", "a:1"));
	config_clear(&self->c);
	EXPECT_EQ(-EINVAL, PARSE("--no-event", "--engine", "a:1"));
}

TEST_F(config, help_names_every_flag)
{
	static const char *const flags[] = {
		"--engine [tcp://]HOST:PORT", "--engine-refresh-min-interval DUR",
		"--engine-refresh-max-interval DUR", "--engine-info-interval DUR",
		"--engine-failure-retry N", "--request-timeout DUR",
		"--late-ping DUR", "--ping-interval DUR", "--ping-timeout DUR",
		"--user-timeout DUR", "--keepalive-idle DUR",
		"--keepalive-interval DUR", "--keepalive-count N",
		"--backoff-max DUR", "--events, --no-events",
		"--discovery-interval DUR", "--max-body SIZE",
		"--state-file PATH", "--summary-interval DUR", "--tls ",
		"--tlsverify[=BOOL]", "--tlscacert FILE", "--tlscert FILE",
		"--tlskey FILE", "--api-socket PATH", "--api-listen ADDR:PORT",
		"--api-listen-any", "--no-docker-api", "--api-max-clients N",
		"--kernel-policy", "--kernel-rcvbuf SIZE", "-v, --verbose",
		"-q, --quiet", "-h, --help",
	};
	char *buf = NULL;
	size_t size = 0, i;
	FILE *f = open_memstream(&buf, &size);

	ASSERT_EQ(0, PARSE("--help"));
	EXPECT_TRUE(self->c.help);
	ASSERT_NE(NULL, f);
	config_usage(f);
	ASSERT_EQ(0, fclose(f));
	for (i = 0; i < sizeof(flags) / sizeof(flags[0]); i++)
		EXPECT_TRUE(strstr(buf, flags[i]) != NULL) TH_LOG("flag %zu", i);
	/* Defaults come from the table. */
	EXPECT_NE(NULL, strstr(buf, "TCP_USER_TIMEOUT of each socket (20s)"));
	EXPECT_NE(NULL, strstr(buf, "(" API_DEFAULT_SOCKET ")"));
	free(buf);
}

TEST_HARNESS_MAIN

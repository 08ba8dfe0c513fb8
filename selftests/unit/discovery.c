// SPDX-License-Identifier: GPL-2.0
/* Discovery: Swarm's nodes:// and file:// syntax, ranges, bad entries. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "discovery.h"
#include "hostport.h"

struct warnings {
	int n;
	char text[16][256];
};

static void collect(void *arg, const char *where, unsigned int line,
		    const char *reason)
{
	struct warnings *w = arg;

	if (w->n < 16)
		snprintf(w->text[w->n], sizeof(w->text[0]), "%s:%u: %s", where,
			 line, reason);
	w->n++;
}

static bool has(const struct addr_list *l, const char *addr)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (!strcmp(l->v[i], addr))
			return true;
	return false;
}

static int write_file(char *path, const char *content)
{
	int fd = mkstemp(path);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, content, strlen(content));
	close(fd);
	return n == (ssize_t)strlen(content) ? 0 : -1;
}

TEST(nodes_with_ranges_ipv6_and_names)
{
	struct addr_list l = { 0 };
	struct warnings w = { 0 };

	ASSERT_EQ(0, discovery_parse_nodes("10.0.0.[1:3]:2375, [::1]:2375,"
					   "engine-[1:2].example.com:2376,"
					   "[fd00::[1:2]]:2375", &l, collect, &w));
	EXPECT_EQ(0, w.n);
	ASSERT_EQ(8U, l.n);
	EXPECT_TRUE(has(&l, "10.0.0.1:2375"));
	EXPECT_TRUE(has(&l, "10.0.0.3:2375"));
	EXPECT_TRUE(has(&l, "[::1]:2375"));
	EXPECT_TRUE(has(&l, "engine-2.example.com:2376"));
	EXPECT_TRUE(has(&l, "[fd00::2]:2375"));
	addr_list_clear(&l);
}

TEST(two_ranges_multiply)
{
	struct addr_list l = { 0 };
	struct warnings w = { 0 };

	ASSERT_EQ(0, discovery_parse_nodes("127.1.[0:2].[1:4]:2375", &l,
					   collect, &w));
	EXPECT_EQ(12U, l.n);
	EXPECT_TRUE(has(&l, "127.1.2.4:2375"));
	addr_list_clear(&l);
}

TEST(file_comments_bad_lines_reported_rest_loads)
{
	char path[] = "/tmp/pw-discovery-XXXXXX";
	struct addr_list l = { 0 };
	struct warnings w = { 0 };
	char want[512];

	ASSERT_EQ(0, write_file(path,
		"# engines of rack 1\n"
		"\n"
		"192.168.1.[10:12]:2375   # three\n"
		"192.168.1.300:2375\n"
		"no-port\n"
		"10.0.0.[5:1]:2375\n"
		"  [2001:db8::1]:2376\n"
		"::1:2375\n"
		"10.0.0.1:0\n"
		"a b:1\n"
		"10.0.0.[0:99999]:1\n"
		"host_name:1\n"
		"last.example:65535"));
	ASSERT_EQ(0, discovery_parse_file(path, &l, collect, &w));
	unlink(path);
	EXPECT_EQ(5U, l.n);
	EXPECT_TRUE(has(&l, "192.168.1.11:2375"));
	EXPECT_TRUE(has(&l, "[2001:db8::1]:2376"));
	EXPECT_TRUE(has(&l, "last.example:65535"));
	ASSERT_EQ(8, w.n);
	snprintf(want, sizeof(want), "%s:4: '192.168.1.300:2375': bad IPv4 address", path);
	EXPECT_STREQ(want, w.text[0]);
	snprintf(want, sizeof(want), "%s:5: 'no-port': missing :port", path);
	EXPECT_STREQ(want, w.text[1]);
	snprintf(want, sizeof(want), "%s:6: '10.0.0.[5:1]:2375': range goes backwards", path);
	EXPECT_STREQ(want, w.text[2]);
	snprintf(want, sizeof(want), "%s:8: '::1:2375': IPv6 addresses need brackets: [addr]:port", path);
	EXPECT_STREQ(want, w.text[3]);
	snprintf(want, sizeof(want), "%s:9: '10.0.0.1:0': bad port", path);
	EXPECT_STREQ(want, w.text[4]);
	snprintf(want, sizeof(want), "%s:10: one address per line", path);
	EXPECT_STREQ(want, w.text[5]);
	snprintf(want, sizeof(want), "%s:11: '10.0.0.[0:99999]:1': range too large", path);
	EXPECT_STREQ(want, w.text[6]);
	snprintf(want, sizeof(want), "%s:12: 'host_name:1': bad host name", path);
	EXPECT_STREQ(want, w.text[7]);
	addr_list_clear(&l);
}

TEST(a_bad_expansion_drops_the_whole_entry)
{
	struct addr_list l = { 0 };
	struct warnings w = { 0 };

	/* 10.0.0.250 .. 10.0.0.260: the last five are not addresses. */
	ASSERT_EQ(0, discovery_parse_nodes("10.0.0.[250:260]:1,10.0.0.1:1",
					   &l, collect, &w));
	EXPECT_EQ(1, w.n);
	EXPECT_EQ(1U, l.n);
	EXPECT_STREQ("nodes://:1: '10.0.0.[250:260]:1': bad IPv4 address", w.text[0]);
	addr_list_clear(&l);
}

/* Docker's tcp:// is taken; other schemes say what is wrong with them. */
TEST(schemes_named)
{
	struct addr_list l = { 0 };
	struct warnings w = { 0 };

	ASSERT_EQ(0, discovery_parse_nodes("tcp://127.1.0.[1:2]:2375,"
					   "http://127.1.0.3:2375,a:2375,garbage,"
					   "https://h:2376,unix:///run/docker.sock,"
					   "ssh://h:22,tcp://[::1]:2375", &l,
					   collect, &w));
	ASSERT_EQ(4U, l.n);
	EXPECT_TRUE(has(&l, "127.1.0.1:2375"));
	EXPECT_TRUE(has(&l, "127.1.0.2:2375"));
	EXPECT_TRUE(has(&l, "[::1]:2375"));
	EXPECT_TRUE(has(&l, "a:2375"));
	ASSERT_EQ(5, w.n);
	EXPECT_STREQ("nodes://:2: 'http://127.1.0.3:2375': http:// is not how Docker names an engine: write tcp://HOST:PORT or HOST:PORT",
		     w.text[0]);
	EXPECT_STREQ("nodes://:4: 'garbage': missing :port", w.text[1]);
	EXPECT_STREQ("nodes://:5: 'https://h:2376': https:// is not how Docker names an engine: write tcp://HOST:PORT, with TLS on (--tlsverify)",
		     w.text[2]);
	EXPECT_STREQ("nodes://:6: 'unix:///run/docker.sock': unix:// engines cannot be watched: peerwatchd reaches engines over TCP (tcp://HOST:PORT)",
		     w.text[3]);
	EXPECT_STREQ("nodes://:7: 'ssh://h:22': an unknown scheme: write tcp://HOST:PORT or HOST:PORT",
		     w.text[4]);
	addr_list_clear(&l);
}

TEST(too_many_engines_refused)
{
	struct addr_list l = { 0 };
	struct warnings w = { 0 };

	ASSERT_EQ(0, discovery_parse_nodes("10.[0:255].[0:255].[1:2]:1",
					   &l, collect, &w));
	EXPECT_EQ(1, w.n);
	EXPECT_EQ(0U, l.n);
	EXPECT_STREQ("nodes://:1: '10.[0:255].[0:255].[1:2]:1': more than 100000 engines: this one and those after it are ignored",
		     w.text[0]);
	addr_list_clear(&l);
}

/* Found by fuzzing: the bound held per entry, so many big entries passed it. */
TEST(the_bound_is_on_the_whole_source)
{
	char path[] = "/tmp/pw-discovery-XXXXXX";
	struct addr_list l = { 0 };
	struct warnings w = { 0 };
	char want[512];

	/* 40,000 + 40,000 fit; the third entry would pass 100,000. */
	ASSERT_EQ(0, write_file(path,
		"10.0.[0:155].[0:255]:1\n"
		"10.1.[0:155].[0:255]:1\n"
		"10.2.[0:155].[0:255]:1\n"
		"10.3.0.1:1\n"));
	ASSERT_EQ(0, discovery_parse_file(path, &l, collect, &w));
	unlink(path);
	EXPECT_EQ(2U * 156 * 256, l.n);
	ASSERT_EQ(1, w.n);
	snprintf(want, sizeof(want),
		 "%s:3: '10.2.[0:155].[0:255]:1': more than 100000 engines: this one and those after it are ignored", path);
	EXPECT_STREQ(want, w.text[0]);
	addr_list_clear(&l);
}

TEST(overlong_line_reported_once)
{
	char path[] = "/tmp/pw-discovery-XXXXXX";
	struct addr_list l = { 0 };
	struct warnings w = { 0 };
	char *content;

	content = malloc(3 * DISCOVERY_MAX_LINE + 64);
	ASSERT_NE(NULL, content);
	memset(content, 'a', 3 * DISCOVERY_MAX_LINE);
	strcpy(content + 3 * DISCOVERY_MAX_LINE, ":1\n10.0.0.1:2375\n");
	ASSERT_EQ(0, write_file(path, content));
	free(content);
	ASSERT_EQ(0, discovery_parse_file(path, &l, collect, &w));
	unlink(path);
	EXPECT_EQ(1, w.n);
	EXPECT_EQ(1U, l.n);
	EXPECT_TRUE(has(&l, "10.0.0.1:2375"));
	addr_list_clear(&l);
}

TEST(load_sorts_dedupes_and_keeps_engine_flags)
{
	char *engines[] = { "10.0.0.2:1", "10.0.0.1:1" };
	struct addr_list l = { 0 };
	struct discovery *d;
	const char *why = NULL;

	ASSERT_EQ(0, discovery_new(&d, "nodes://10.0.0.[1:3]:1", engines, 2,
				   NULL, &why));
	ASSERT_EQ(0, discovery_load(d, &l));
	ASSERT_EQ(3U, l.n);
	EXPECT_STREQ("10.0.0.1:1", l.v[0]);
	EXPECT_STREQ("10.0.0.3:1", l.v[2]);
	addr_list_clear(&l);
	discovery_free(d);
	EXPECT_EQ(-EINVAL, discovery_new(&d, "consul://x", NULL, 0, NULL, &why));
	EXPECT_NE(NULL, why);
}

TEST(unreadable_file_is_an_error_not_an_empty_fleet)
{
	struct addr_list l = { 0 };
	struct discovery *d;
	const char *why;

	ASSERT_EQ(0, discovery_new(&d, "file:///nonexistent/pw", NULL, 0, NULL,
				   &why));
	EXPECT_EQ(-ENOENT, discovery_load(d, &l));
	EXPECT_EQ(0U, l.n);
	discovery_free(d);
}

TEST(hostport)
{
	char host[64];
	const char *why;
	uint16_t port;

	ASSERT_EQ(0, hostport_parse("[::ffff:10.0.0.1]:2375", host,
				    sizeof(host), &port, &why));
	EXPECT_STREQ("::ffff:10.0.0.1", host);
	EXPECT_EQ(2375, port);
	EXPECT_TRUE(host_is_literal(host));
	ASSERT_EQ(0, hostport_parse("docker.example:1", host, sizeof(host),
				    &port, &why));
	EXPECT_FALSE(host_is_literal(host));
	EXPECT_EQ(-EINVAL, hostport_parse("[::1]2375", host, sizeof(host),
					  &port, &why));
	EXPECT_EQ(-EINVAL, hostport_parse("[zz::1]:1", host, sizeof(host),
					  &port, &why));
	EXPECT_EQ(-EINVAL, hostport_parse("a:65536", host, sizeof(host),
					  &port, &why));
	EXPECT_EQ(-EINVAL, hostport_parse("a:-1", host, sizeof(host), &port,
					  &why));
	EXPECT_EQ(-EINVAL, hostport_parse(":1", host, sizeof(host), &port,
					  &why));
	EXPECT_EQ(-EINVAL, hostport_parse("a..b:1", host, sizeof(host), &port,
					  &why));
}

TEST(literal_host_address)
{
	struct sockaddr_storage sa;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&sa;
	struct sockaddr_in *s4 = (struct sockaddr_in *)&sa;
	socklen_t len;

	ASSERT_EQ(0, host_sockaddr("127.1.0.7", 2375, &sa, &len));
	EXPECT_EQ(AF_INET, s4->sin_family);
	EXPECT_EQ(sizeof(*s4), len);
	EXPECT_EQ(2375, ntohs(s4->sin_port));
	EXPECT_EQ(htonl(0x7f010007), s4->sin_addr.s_addr);
	ASSERT_EQ(0, host_sockaddr("::1", 2376, &sa, &len));
	EXPECT_EQ(AF_INET6, s6->sin6_family);
	EXPECT_EQ(sizeof(*s6), len);
	EXPECT_EQ(2376, ntohs(s6->sin6_port));
	EXPECT_TRUE(IN6_IS_ADDR_LOOPBACK(&s6->sin6_addr));
	/* A name is looked up, not taken: nothing is set. */
	EXPECT_EQ(-EINVAL, host_sockaddr("docker.example", 1, &sa, &len));
	EXPECT_EQ(0, sa.ss_family);
}

TEST_HARNESS_MAIN

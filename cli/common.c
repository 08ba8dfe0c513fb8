// SPDX-License-Identifier: GPL-2.0
/*
 * Helpers every subcommand uses: opening the family with a clear error,
 * parsing addresses, ports and durations.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <net/if.h>
#include <linux/peerwatch.h>

#include "cli.h"
#include "duration.h"
#include "hostport.h"

/* The program's name in its messages. */
const char *prog = "peerwatch";

volatile sig_atomic_t cli_stop;

static void on_stop(int sig)
{
	(void)sig;
	cli_stop = 1;
}

void cli_stop_on_signals(void)
{
	struct sigaction sa = { .sa_handler = on_stop };

	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

bool cli_is_help(const char *arg)
{
	return !strcmp(arg, "--help") || !strcmp(arg, "-h") ||
	       !strcmp(arg, "help");
}

int cli_nl_open(struct pw_nl *nl)
{
	int ret = pw_nl_open(nl);

	if (ret == -ENOENT)
		fprintf(stderr, "%s: kernel module not loaded (generic netlink family \"%s\" not found)\n",
			prog, PEERWATCH_GENL_NAME);
	else if (ret)
		fprintf(stderr, "%s: generic netlink: %s\n", prog,
			strerror(-ret));
	return ret;
}

void cli_nl_error(const struct pw_nl *nl, const char *what, int err)
{
	if (err == -EPERM)
		fprintf(stderr, "%s: %s: %s (needs CAP_NET_ADMIN)\n", prog,
			what, strerror(-err));
	else if (nl->errmsg[0])
		fprintf(stderr, "%s: %s: %s\n", prog, what, nl->errmsg);
	else
		fprintf(stderr, "%s: %s: %s\n", prog, what, strerror(-err));
}

int cli_parse_prefix(const char *s, struct cli_addr *out)
{
	char buf[INET6_ADDRSTRLEN + 8];
	unsigned long len;
	char *slash, *end;
	unsigned int max;

	if (strlen(s) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, s);
	slash = strchr(buf, '/');
	if (slash)
		*slash = '\0';

	memset(out, 0, sizeof(*out));
	if (inet_pton(AF_INET, buf, &out->addr.v4) == 1) {
		out->family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, buf, &out->addr.v6) == 1) {
		out->family = AF_INET6;
		max = 128;
	} else {
		return -EINVAL;
	}
	out->prefix_len = max;
	if (!slash)
		return 0;
	errno = 0;
	len = strtoul(slash + 1, &end, 10);
	if (errno || end == slash + 1 || *end || len > max)
		return -EINVAL;
	out->prefix_len = len;
	return 0;
}

void cli_put_dst(struct nlmsghdr *nlh, const struct cli_addr *dst)
{
	if (dst->family == AF_INET)
		mnl_attr_put(nlh, PEERWATCH_A_DADDR4, 4, &dst->addr.v4);
	if (dst->family == AF_INET6)
		mnl_attr_put(nlh, PEERWATCH_A_DADDR6, 16, &dst->addr.v6);
	if (dst->family)
		mnl_attr_put_u8(nlh, PEERWATCH_A_PREFIX_LEN, dst->prefix_len);
}

int cli_parse_dev(const char *s, uint32_t *ifindex)
{
	unsigned long v;
	char *end;

	if (!*s || strlen(s) >= IF_NAMESIZE)
		return -EINVAL;
	*ifindex = if_nametoindex(s);
	if (*ifindex)
		return 0;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || !v || v > INT32_MAX)
		return -ENODEV;
	*ifindex = v;
	return 0;
}

int cli_parse_endpoint(const char *s, struct cli_addr *addr, uint16_t *port)
{
	char host[INET6_ADDRSTRLEN + 1], ep[INET6_ADDRSTRLEN + IF_NAMESIZE + 9];
	char dev[IF_NAMESIZE] = "";
	const char *why, *pct, *rest;
	size_t len;

	/* Cut "%DEV" out: it ends at ']' or at the port's ':'. */
	if (strlen(s) >= sizeof(ep))
		return -EINVAL;
	pct = strchr(s, '%');
	if (pct) {
		rest = *s == '[' ? strchr(pct, ']') : strrchr(pct, ':');
		if (!rest || (size_t)(rest - pct - 1) >= sizeof(dev))
			return -EINVAL;
		memcpy(dev, pct + 1, rest - pct - 1);
		dev[rest - pct - 1] = '\0';
		len = pct - s;
		memcpy(ep, s, len);
		strcpy(ep + len, rest);
		s = ep;
	}
	if (hostport_parse(s, host, sizeof(host), port, &why) ||
	    !host_is_literal(host) || cli_parse_prefix(host, addr))
		return -EINVAL;
	if (pct && cli_parse_dev(dev, &addr->ifindex))
		return -ENODEV;
	return 0;
}

int cli_parse_u16(const char *s, uint16_t *out)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v > UINT16_MAX)
		return -EINVAL;
	*out = v;
	return 0;
}

/* A Go-style duration ("2s", "1500ms"), or a bare number of ms. */
int cli_parse_ms(const char *s, uint32_t *ms)
{
	uint64_t v;
	char *end;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *end) {
		if (duration_parse(s, &v))
			return -EINVAL;
	}
	if (v > INT32_MAX)
		return -ERANGE;
	*ms = v;
	return 0;
}

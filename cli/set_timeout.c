// SPDX-License-Identifier: GPL-2.0
/*
 * peerwatch set-timeout: set TCP_USER_TIMEOUT on a live socket of this
 * netns, named by its tuple and cookie.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/peerwatch.h>

#include "cli.h"

static void usage(FILE *f)
{
	fprintf(f, "Usage: %s set-timeout [--cookie COOKIE] LOCAL REMOTE TIMEOUT\n\n"
		"Set TCP_USER_TIMEOUT of the connected socket LOCAL -> REMOTE\n"
		"(ADDR:PORT or [ADDR6]:PORT) to TIMEOUT (\"2s\", \"1500ms\"; 0\n"
		"restores the system default). Without --cookie the socket that\n"
		"has the tuple now is used. Needs CAP_NET_ADMIN.\n", prog);
}

static void put_tuple(struct nlmsghdr *nlh, const struct cli_addr *l,
		      uint16_t lport, const struct cli_addr *r, uint16_t rport)
{
	mnl_attr_put_u16(nlh, PEERWATCH_A_FAMILY, l->family);
	if (l->family == AF_INET) {
		mnl_attr_put(nlh, PEERWATCH_A_SADDR4, 4, &l->addr.v4);
		mnl_attr_put(nlh, PEERWATCH_A_DADDR4, 4, &r->addr.v4);
	} else {
		mnl_attr_put(nlh, PEERWATCH_A_SADDR6, 16, &l->addr.v6);
		mnl_attr_put(nlh, PEERWATCH_A_DADDR6, 16, &r->addr.v6);
	}
	mnl_attr_put_u16(nlh, PEERWATCH_A_SPORT, lport);
	mnl_attr_put_u16(nlh, PEERWATCH_A_DPORT, rport);
}

static int cookie_cb(const struct nlmsghdr *nlh, void *data)
{
	struct pw_event ev;

	if (pw_event_parse(nlh, &ev) == 0)
		*(uint64_t *)data = ev.cookie;
	return MNL_CB_OK;
}

int cmd_set_timeout(int argc, char **argv)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct cli_addr local, remote;
	uint16_t lport, rport;
	struct nlmsghdr *nlh;
	uint64_t cookie = 0;
	struct pw_nl nl;
	uint32_t ms;
	char *end;
	int ret;

	if (argc > 1 && cli_is_help(argv[1])) {
		usage(stdout);
		return EXIT_OK;
	}
	argc--;
	argv++;
	if (argc >= 2 && !strcmp(argv[0], "--cookie")) {
		errno = 0;
		cookie = strtoull(argv[1], &end, 0);
		if (errno || end == argv[1] || *end || !cookie) {
			fprintf(stderr, "%s set-timeout: bad cookie '%s'\n", prog, argv[1]);
			return EXIT_USAGE;
		}
		argc -= 2;
		argv += 2;
	}
	if (argc != 3) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (cli_parse_endpoint(argv[0], &local, &lport) ||
	    cli_parse_endpoint(argv[1], &remote, &rport) ||
	    local.family != remote.family) {
		fprintf(stderr, "%s set-timeout: LOCAL and REMOTE must be ADDR:PORT of one family\n",
			prog);
		return EXIT_USAGE;
	}
	if (cli_parse_ms(argv[2], &ms)) {
		fprintf(stderr, "%s set-timeout: bad timeout '%s'\n", prog, argv[2]);
		return EXIT_USAGE;
	}

	if (cli_nl_open(&nl))
		return EXIT_FAIL;
	if (!cookie) {
		nlh = pw_nl_request(&nl, buf, PEERWATCH_CMD_SOCK_GET, 0);
		put_tuple(nlh, &local, lport, &remote, rport);
		ret = pw_nl_talk(&nl, nlh, cookie_cb, &cookie);
		if (ret) {
			cli_nl_error(&nl, "finding the socket", ret);
			goto out;
		}
	}
	nlh = pw_nl_request(&nl, buf, PEERWATCH_CMD_SOCK_SET, 0);
	put_tuple(nlh, &local, lport, &remote, rport);
	mnl_attr_put_u64(nlh, PEERWATCH_A_COOKIE, cookie);
	mnl_attr_put_u32(nlh, PEERWATCH_A_USER_TIMEOUT, ms);
	ret = pw_nl_talk(&nl, nlh, NULL, NULL);
	if (ret)
		cli_nl_error(&nl, "setting the user timeout", ret);
out:
	pw_nl_close(&nl);
	return ret ? EXIT_FAIL : EXIT_OK;
}

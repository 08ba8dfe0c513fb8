// SPDX-License-Identifier: GPL-2.0
/*
 * peerwatch set-timeout: set TCP_USER_TIMEOUT on a live socket of this
 * netns, named by its tuple and cookie.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include <linux/peerwatch.h>

#include "cli.h"

static void usage(FILE *f)
{
	fprintf(f, "Usage: %s set-timeout [--cookie COOKIE] LOCAL REMOTE TIMEOUT\n\n"
		"Set TCP_USER_TIMEOUT of the connected socket LOCAL -> REMOTE\n"
		"(ADDR:PORT or [ADDR6]:PORT) to TIMEOUT (\"2s\", \"1500ms\"; 0\n"
		"restores the system default). A socket bound to a device (an\n"
		"IPv6 link-local address, a VRF, SO_BINDTODEVICE) is named with\n"
		"its device, ADDR%%DEV:PORT or [ADDR6%%DEV]:PORT, as the sockets\n"
		"command prints it. Without --cookie the socket that has the\n"
		"tuple now is used. Needs CAP_NET_ADMIN.\n", prog);
}

struct set_timeout_args {
	bool help;
	uint64_t cookie;
};

static int parse_cookie(const struct opt *o, void *args, const char *arg,
			char *err, size_t len)
{
	uint64_t *cookie = opt_field(o, args);
	char *end;

	errno = 0;
	*cookie = strtoull(arg, &end, 0);
	if (errno || end == arg || *end || !*cookie)
		return opt_error(err, len, "bad cookie '%s'", arg);
	return 0;
}

static const struct opt options[] = {
	{ .name = "cookie", .type = OPT_FUNC,
	  OPT_FIELD(struct set_timeout_args, cookie), .parse = parse_cookie,
	  .arg = "COOKIE" },
	CLI_OPT_HELP(struct set_timeout_args),
	CLI_OPT_HELP_WORD(struct set_timeout_args),
	{ 0 },
};

/* LOCAL REMOTE TIMEOUT */
static const struct cli_cmd cmd = {
	.name = "set-timeout", .opts = options, .usage = usage, .nargs = 3,
};

static void put_tuple(struct nlmsghdr *nlh, const struct cli_addr *l,
		      uint16_t lport, const struct cli_addr *r, uint16_t rport,
		      uint32_t ifindex)
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
	if (ifindex)
		mnl_attr_put_u32(nlh, PEERWATCH_A_IFINDEX, ifindex);
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
	struct set_timeout_args a = { 0 };
	struct cli_addr local, remote;
	uint16_t lport, rport;
	struct nlmsghdr *nlh;
	uint32_t ms, ifindex;
	struct pw_nl nl;
	int ret;

	ret = cli_parse(&cmd, &a, argc, argv);
	if (ret != CLI_PARSED)
		return ret;
	ret = cli_parse_endpoint(argv[1], &local, &lport) ?:
	      cli_parse_endpoint(argv[2], &remote, &rport);
	if (ret == -ENODEV) {
		fprintf(stderr, "%s set-timeout: no such device in '%s' or '%s'\n",
			prog, argv[1], argv[2]);
		return EXIT_USAGE;
	}
	if (ret || local.family != remote.family) {
		fprintf(stderr, "%s set-timeout: LOCAL and REMOTE must be ADDR:PORT of one family\n",
			prog);
		return EXIT_USAGE;
	}
	if (local.ifindex && remote.ifindex && local.ifindex != remote.ifindex) {
		fprintf(stderr, "%s set-timeout: LOCAL and REMOTE name two devices\n",
			prog);
		return EXIT_USAGE;
	}
	ifindex = local.ifindex ?: remote.ifindex;
	if (cli_parse_ms(argv[3], &ms)) {
		fprintf(stderr, "%s set-timeout: bad timeout '%s'\n", prog, argv[3]);
		return EXIT_USAGE;
	}

	if (cli_nl_open(&nl))
		return EXIT_FAIL;
	if (!a.cookie) {
		nlh = pw_nl_request(&nl, buf, PEERWATCH_CMD_SOCK_GET, 0);
		put_tuple(nlh, &local, lport, &remote, rport, ifindex);
		ret = pw_nl_talk(&nl, nlh, cookie_cb, &a.cookie);
		if (ret) {
			cli_nl_error(&nl, "finding the socket", ret);
			goto out;
		}
	}
	nlh = pw_nl_request(&nl, buf, PEERWATCH_CMD_SOCK_SET, 0);
	put_tuple(nlh, &local, lport, &remote, rport, ifindex);
	mnl_attr_put_u64(nlh, PEERWATCH_A_COOKIE, a.cookie);
	mnl_attr_put_u32(nlh, PEERWATCH_A_USER_TIMEOUT, ms);
	ret = pw_nl_talk(&nl, nlh, NULL, NULL);
	if (ret)
		cli_nl_error(&nl, "setting the user timeout", ret);
out:
	pw_nl_close(&nl);
	return ret ? EXIT_FAIL : EXIT_OK;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * peerwatch sockets: dump the TCP sockets of this netns with their user
 * timeout and timer state, filtered in the kernel.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <netinet/tcp.h>
#include <linux/peerwatch.h>

#include "cli.h"

static void usage(FILE *f)
{
	fprintf(f, "Usage: %s sockets [-j] [-4|-6] [sport PORT] [dport PORT]\n"
		"                 [dst PREFIX] [state STATE]... [with-timeout]\n\n"
		"List the connected TCP sockets of this network namespace with\n"
		"their TCP_USER_TIMEOUT and timer. STATE is a name as ss prints\n"
		"it (estab, syn-sent, fin-wait-1, close-wait...). -j prints JSON.\n",
		prog);
}

static int parse_state(const char *s, uint32_t *mask)
{
	unsigned int st;

	for (st = 1; st <= TCP_CLOSING; st++) {
		if (!strcasecmp(s, pw_tcp_state_name(st))) {
			*mask |= 1U << st;
			return 0;
		}
	}
	return -EINVAL;
}

static int sockets_cb(const struct nlmsghdr *nlh, void *data)
{
	struct pw_event ev;
	bool *json = data;

	if (pw_event_parse(nlh, &ev) == 0)
		cli_print_sock(&ev, *json);
	return MNL_CB_OK;
}

int cmd_sockets(int argc, char **argv)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	uint16_t family = 0, sport = 0, dport = 0;
	struct cli_addr dst = { 0 };
	uint32_t states = 0, flags = 0;
	struct nlmsghdr *nlh;
	struct pw_nl nl;
	bool json = false;
	int i, ret;

	for (i = 1; i < argc; i++) {
		const char *arg = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;

		if (cli_is_help(arg)) {
			usage(stdout);
			return EXIT_OK;
		} else if (!strcmp(arg, "-j") || !strcmp(arg, "--json")) {
			json = true;
		} else if (!strcmp(arg, "-4")) {
			family = AF_INET;
		} else if (!strcmp(arg, "-6")) {
			family = AF_INET6;
		} else if (!strcmp(arg, "with-timeout")) {
			flags |= PEERWATCH_DUMP_F_USER_TIMEOUT;
		} else if (!strcmp(arg, "sport") && val && !cli_parse_u16(val, &sport)) {
			i++;
		} else if (!strcmp(arg, "dport") && val && !cli_parse_u16(val, &dport)) {
			i++;
		} else if (!strcmp(arg, "dst") && val && !cli_parse_prefix(val, &dst)) {
			i++;
		} else if (!strcmp(arg, "state") && val && !parse_state(val, &states)) {
			i++;
		} else {
			fprintf(stderr, "%s sockets: bad argument '%s'\n", prog, arg);
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (dst.family && family && dst.family != family) {
		fprintf(stderr, "%s sockets: dst does not match -4/-6\n", prog);
		return EXIT_USAGE;
	}
	if (dst.family)
		family = dst.family;

	if (cli_nl_open(&nl))
		return EXIT_FAIL;
	nlh = pw_nl_request(&nl, buf, PEERWATCH_CMD_SOCK_GET, NLM_F_DUMP);
	if (family)
		mnl_attr_put_u16(nlh, PEERWATCH_A_FAMILY, family);
	if (sport)
		mnl_attr_put_u16(nlh, PEERWATCH_A_SPORT, sport);
	if (dport)
		mnl_attr_put_u16(nlh, PEERWATCH_A_DPORT, dport);
	if (states)
		mnl_attr_put_u32(nlh, PEERWATCH_A_STATE_MASK, states);
	if (flags)
		mnl_attr_put_u32(nlh, PEERWATCH_A_DUMP_FLAGS, flags);
	if (dst.family == AF_INET)
		mnl_attr_put(nlh, PEERWATCH_A_DADDR4, 4, &dst.addr.v4);
	if (dst.family == AF_INET6)
		mnl_attr_put(nlh, PEERWATCH_A_DADDR6, 16, &dst.addr.v6);
	if (dst.family)
		mnl_attr_put_u8(nlh, PEERWATCH_A_PREFIX_LEN, dst.prefix_len);

	ret = pw_nl_talk(&nl, nlh, sockets_cb, &json);
	if (ret)
		cli_nl_error(&nl, "listing sockets", ret);
	pw_nl_close(&nl);
	return ret ? EXIT_FAIL : EXIT_OK;
}

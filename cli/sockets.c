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
	fprintf(f, "Usage: %s sockets [-j|--json] [-4|-6] [sport PORT] [dport PORT]\n"
		"                 [dst PREFIX] [dev DEV] [state STATE]...\n"
		"                 [with-timeout]\n\n"
		"List the connected TCP sockets of this network namespace with\n"
		"their TCP_USER_TIMEOUT and timer. STATE is a name as ss prints\n"
		"it (estab, syn-sent, fin-wait-1, close-wait...). dev: only the\n"
		"sockets bound to device DEV; a bound socket's local address is\n"
		"printed ADDR%%DEV. -j prints JSON.\n",
		prog);
}

struct sockets_args {
	bool json, help, with_timeout;
	uint16_t family, sport, dport;
	struct cli_addr dst;
	uint32_t states, ifindex;
};

/* state STATE, repeatable: any of them. */
static int parse_state(const struct opt *o, void *args, const char *arg,
		       char *err, size_t len)
{
	uint32_t *mask = opt_field(o, args);
	unsigned int st;

	for (st = 1; st <= TCP_CLOSING; st++) {
		if (!strcasecmp(arg, pw_tcp_state_name(st))) {
			*mask |= 1U << st;
			return 0;
		}
	}
	return opt_error(err, len, "state: '%s' is not a TCP state", arg);
}

static int parse_dev(const struct opt *o, void *args, const char *arg,
		     char *err, size_t len)
{
	if (cli_parse_dev(arg, opt_field(o, args)))
		return opt_error(err, len, "dev: no device '%s'", arg);
	return 0;
}

static const struct opt options[] = {
	CLI_OPT_JSON(struct sockets_args),
	CLI_OPT_FAMILY(struct sockets_args),
	CLI_OPT_DST(struct sockets_args),
	CLI_OPT_WORD(struct sockets_args, "sport", sport, cli_opt_port),
	CLI_OPT_WORD(struct sockets_args, "dport", dport, cli_opt_port),
	CLI_OPT_WORD(struct sockets_args, "state", states, parse_state),
	CLI_OPT_WORD(struct sockets_args, "dev", ifindex, parse_dev),
	{ .name = "with-timeout", .flags = OPT_WORD, .type = OPT_FLAG,
	  OPT_FIELD(struct sockets_args, with_timeout) },
	CLI_OPT_HELP(struct sockets_args),
	CLI_OPT_HELP_WORD(struct sockets_args),
	{ 0 },
};

static const struct cli_cmd cmd = {
	.name = "sockets", .opts = options, .usage = usage,
};

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
	struct sockets_args a = { 0 };
	const struct cli_addr *dst = &a.dst;
	struct nlmsghdr *nlh;
	struct pw_nl nl;
	int ret;

	ret = cli_parse(&cmd, &a, argc, argv);
	if (ret != CLI_PARSED)
		return ret;
	if (dst->family && a.family && dst->family != a.family) {
		fprintf(stderr, "%s sockets: dst does not match -4/-6\n", prog);
		return EXIT_USAGE;
	}
	if (dst->family)
		a.family = dst->family;

	if (cli_nl_open(&nl))
		return EXIT_FAIL;
	nlh = pw_nl_request(&nl, buf, PEERWATCH_CMD_SOCK_GET, NLM_F_DUMP);
	if (a.family)
		mnl_attr_put_u16(nlh, PEERWATCH_A_FAMILY, a.family);
	if (a.sport)
		mnl_attr_put_u16(nlh, PEERWATCH_A_SPORT, a.sport);
	if (a.dport)
		mnl_attr_put_u16(nlh, PEERWATCH_A_DPORT, a.dport);
	if (a.states)
		mnl_attr_put_u32(nlh, PEERWATCH_A_STATE_MASK, a.states);
	if (a.ifindex)
		mnl_attr_put_u32(nlh, PEERWATCH_A_IFINDEX, a.ifindex);
	if (a.with_timeout)
		mnl_attr_put_u32(nlh, PEERWATCH_A_DUMP_FLAGS,
				 PEERWATCH_DUMP_F_USER_TIMEOUT);
	cli_put_dst(nlh, dst);

	ret = pw_nl_talk(&nl, nlh, sockets_cb, &a.json);
	if (ret)
		cli_nl_error(&nl, "listing sockets", ret);
	pw_nl_close(&nl);
	return ret ? EXIT_FAIL : EXIT_OK;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * peerwatch monitor: print each event of the current netns as one line.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include <linux/peerwatch.h>

#include "cli.h"

static void usage(FILE *f)
{
	fprintf(f, "Usage: %s monitor [-j]\n\n"
		"Print the module's events (dead, suspect, recovered) for the\n"
		"sockets of this network namespace, one per line, until\n"
		"interrupted. -j prints JSON objects. Needs CAP_NET_ADMIN.\n",
		prog);
}

static const struct cli_cmd cmd = {
	.name = "monitor", .opts = cli_json_opts, .usage = usage,
};

static void monitor_cb(const struct pw_event *ev, void *data)
{
	cli_print_sock(ev, *(bool *)data);
}

int cmd_monitor(int argc, char **argv)
{
	struct cli_json_args a = { 0 };
	struct pw_nl nl;
	int ret;

	ret = cli_parse_nl(&cmd, &a, argc, argv, &nl);
	if (ret != CLI_PARSED)
		return ret;
	ret = pw_nl_join_events(&nl);
	if (ret) {
		cli_nl_error(&nl, "joining the events group", ret);
		pw_nl_close(&nl);
		return EXIT_FAIL;
	}
	cli_stop_on_signals();

	ret = 0;
	while (!cli_stop) {
		ret = pw_nl_read_events(&nl, monitor_cb, &a.json);
		if (ret == -ENOBUFS)
			fprintf(stderr, "%s: events lost: receive queue overflowed\n",
				prog);
		else if (ret < 0 && ret != -EINTR)
			break;
		ret = 0;
	}
	if (ret)
		fprintf(stderr, "%s: receiving events: %s\n", prog,
			strerror(-ret));
	pw_nl_close(&nl);
	return ret ? EXIT_FAIL : EXIT_OK;
}

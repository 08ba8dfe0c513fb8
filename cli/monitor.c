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

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void usage(FILE *f)
{
	fprintf(f, "Usage: %s monitor [-j]\n\n"
		"Print the module's events (dead, suspect, recovered) for the\n"
		"sockets of this network namespace, one per line, until\n"
		"interrupted. -j prints JSON objects. Needs CAP_NET_ADMIN.\n",
		prog);
}

static int monitor_cb(const struct nlmsghdr *nlh, void *data)
{
	struct pw_event ev;
	bool *json = data;

	if (pw_event_parse(nlh, &ev) == 0 && ev.cmd == PEERWATCH_CMD_EVENT)
		cli_print_sock(&ev, *json);
	return MNL_CB_OK;
}

int cmd_monitor(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_signal };
	char buf[PW_NL_RECV_SIZE];
	struct pw_nl nl;
	bool json = false;
	int i, ret;

	for (i = 1; i < argc; i++) {
		if (cli_is_help(argv[i])) {
			usage(stdout);
			return EXIT_OK;
		} else if (!strcmp(argv[i], "-j") || !strcmp(argv[i], "--json")) {
			json = true;
		} else {
			usage(stderr);
			return EXIT_USAGE;
		}
	}

	if (cli_nl_open(&nl))
		return EXIT_FAIL;
	ret = pw_nl_join_events(&nl);
	if (ret) {
		cli_nl_error(&nl, "joining the events group", ret);
		pw_nl_close(&nl);
		return EXIT_FAIL;
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	ret = 0;
	while (!stop) {
		ssize_t n = mnl_socket_recvfrom(nl.sock, buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == ENOBUFS) {
			fprintf(stderr, "%s: events lost: receive queue overflowed\n",
				prog);
			continue;
		}
		if (n < 0) {
			ret = -errno;
			fprintf(stderr, "%s: receiving events: %s\n", prog,
				strerror(errno));
			break;
		}
		mnl_cb_run(buf, n, 0, 0, monitor_cb, &json);
	}
	pw_nl_close(&nl);
	return ret ? EXIT_FAIL : EXIT_OK;
}

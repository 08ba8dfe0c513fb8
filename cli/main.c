// SPDX-License-Identifier: GPL-2.0
/*
 * peerwatch: the reference subscriber and admin tool of peerwatch.ko. One
 * subcommand per file, dispatched from the table below.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *desc;
} subcommands[] = {
	/* peerwatch.ko, over generic netlink */
	{ "monitor", cmd_monitor, "Print dead-peer events as they happen" },
	{ "sockets", cmd_sockets, "List TCP sockets with their user timeout" },
	{ "set-timeout", cmd_set_timeout, "Set TCP_USER_TIMEOUT on a live socket" },
	{ "policy", cmd_policy, "Add, delete, list or flush user timeout policies" },
	{ "stats", cmd_stats, "Show the module's counters for this netns" },
	/* peerwatchd, over its control API */
	{ "nodes", cmd_nodes, "List the engines peerwatchd watches" },
	{ "node", cmd_node, "Show one engine and its containers" },
	{ "containers", cmd_containers, "List every engine's containers" },
	{ "watch", cmd_watch, "Print engine transitions as they happen" },
	{ "top", cmd_top, "A live view of the fleet" },
	{ "version", cmd_version, "Show the CLI's and the agent's versions" },
};

static void show_usage(FILE *f)
{
	size_t i;

	fprintf(f, "Usage: %s <cmd> [<args>]\n\nAvailable subcommands:\n", prog);
	for (i = 0; i < sizeof(subcommands) / sizeof(subcommands[0]); i++)
		fprintf(f, "  %-12s %s\n", subcommands[i].name,
			subcommands[i].desc);
	fprintf(f, "\nEach subcommand takes --help. The agent's subcommands reach it at\n"
		"-H unix://PATH or tcp://HOST:PORT, else $PEERWATCH_HOST, else\n"
		"unix://" API_DEFAULT_SOCKET ".\n");
}

int main(int argc, char **argv)
{
	size_t i;

	if (argc < 2) {
		show_usage(stderr);
		return EXIT_USAGE;
	}
	if (cli_is_help(argv[1])) {
		show_usage(stdout);
		return EXIT_OK;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
		printf("peerwatch %s\n", PEERWATCH_VERSION);
		return EXIT_OK;
	}
	for (i = 0; i < sizeof(subcommands) / sizeof(subcommands[0]); i++)
		if (!strcmp(argv[1], subcommands[i].name))
			return subcommands[i].fn(argc - 1, argv + 1);

	fprintf(stderr, "%s: invalid subcommand '%s'\n", prog, argv[1]);
	show_usage(stderr);
	return EXIT_USAGE;
}

// SPDX-License-Identifier: GPL-2.0
/* peerwatch containers: every engine's containers, from peerwatchd. */
#include <getopt.h>
#include <stdio.h>

#include "api.h"
#include "cli.h"

static const struct option options[] = {
	{ "json", no_argument, NULL, 'j' },
	{ "node", required_argument, NULL, 'n' },
	{ "state", required_argument, NULL, 's' },
	{ "label", required_argument, NULL, 'l' },
	{ "name", required_argument, NULL, 'N' },
	{ "api-socket", required_argument, NULL, 'S' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static void usage(FILE *f)
{
	fprintf(f, "Usage: %s containers [-j] [--node ADDR|ID|NAME] [--state STATE]\n"
		"           [--label KEY[=VALUE]]... [--name PART] [--api-socket PATH]\n\n"
		"List the containers of every engine, as peerwatchd last saw them.\n"
		"--label selects by the labels of the container; STATE is its state\n"
		"(created, running, paused, restarting, removing, exited, dead).\n"
		"PATH defaults to " API_DEFAULT_SOCKET ".\n", prog);
}

static int print_containers(struct json_object *a)
{
	size_t i, n = json_object_array_length(a);
	struct cli_table *t;
	int err;

	err = cli_table_new(&t, 5);
	if (!err)
		err = cli_table_add(t, "NODE", "NAME", "STATE", "IMAGE", "ID");
	for (i = 0; i < n && !err; i++) {
		struct json_object *o = json_object_array_get_idx(a, i);
		const char *id = cli_json_str(o, "id");
		char shortid[13];

		snprintf(shortid, sizeof(shortid), "%s", id ? id : "-");
		err = cli_table_add(t, cli_json_str(o, "node_name"),
				    cli_json_str(o, "name"),
				    cli_json_str(o, "state"),
				    cli_json_str(o, "image"), shortid);
	}
	if (!err)
		cli_table_print(t, stdout);
	cli_table_free(t);
	return err;
}

int cmd_containers(int argc, char **argv)
{
	const char *sock = API_DEFAULT_SOCKET;
	char path[2048] = "/v1/containers";
	bool json = false;
	int opt, err = 0;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "jh", options, NULL)) != -1) {
		switch (opt) {
		case 'j':
			json = true;
			break;
		case 'n':
			err = err ?: cli_api_query(path, sizeof(path), "node", optarg);
			break;
		case 's':
			err = err ?: cli_api_query(path, sizeof(path), "state", optarg);
			break;
		case 'l':
			err = err ?: cli_api_query(path, sizeof(path), "label", optarg);
			break;
		case 'N':
			err = err ?: cli_api_query(path, sizeof(path), "name", optarg);
			break;
		case 'S':
			sock = optarg;
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind < argc || err) {
		usage(stderr);
		return EXIT_USAGE;
	}
	return cli_api_show(sock, path, json, print_containers);
}

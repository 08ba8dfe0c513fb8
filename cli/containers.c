// SPDX-License-Identifier: GPL-2.0
/* peerwatch containers: every engine's containers, from peerwatchd. */
#include <stdio.h>

#include "cli.h"

static void usage(FILE *f)
{
	fprintf(f, "Usage: %s containers [-j] [--node ADDR|ID|NAME] [--state STATE]\n"
		"           [--label KEY[=VALUE]]... [--name PART] [--api-socket PATH]\n\n"
		"List the containers of every engine, as peerwatchd last saw them.\n"
		"--label selects by the labels of the container; STATE is its state\n"
		"(created, running, paused, restarting, removing, exited, dead).\n"
		"PATH defaults to " API_DEFAULT_SOCKET ".\n", prog);
}

static const struct opt options[] = {
	CLI_OPT_JSON(struct cli_api_args),
	CLI_OPT_FILTER(struct cli_api_args, "node", "ADDR|ID|NAME"),
	CLI_OPT_FILTER(struct cli_api_args, "state", "STATE"),
	CLI_OPT_FILTER(struct cli_api_args, "label", "KEY[=VALUE]"),
	CLI_OPT_FILTER(struct cli_api_args, "name", "PART"),
	CLI_OPT_SOCKET(struct cli_api_args),
	CLI_OPT_HELP(struct cli_api_args),
	{ 0 },
};

static const struct cli_cmd cmd = {
	.name = "containers", .opts = options, .usage = usage,
};

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
	struct cli_api_args a = { .path = API_PATH_CONTAINERS };
	int ret;

	ret = cli_parse(&cmd, &a, argc, argv);
	if (ret != CLI_PARSED)
		return ret;
	return cli_api_show(a.sock, a.path, a.json, print_containers);
}

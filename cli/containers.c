// SPDX-License-Identifier: GPL-2.0
/* peerwatch containers: every engine's containers, from peerwatchd. */
#include <stdio.h>

#include "cli.h"

static void usage(FILE *f)
{
	fprintf(f, "Usage: %s containers [-j|-q|--format TEMPLATE] [--node ADDR|HOST|ID|NAME]\n"
		"           [--state STATE[,STATE]]... [--node-state STATE[,STATE]]...\n"
		"           [--label KEY[=VALUE]]... [--name PART] [-H URL | --api-socket PATH]\n\n"
		"List the containers of every engine, as peerwatchd last saw them,\n"
		"by engine address then name. --label selects by the labels of the\n"
		"container; STATE is its state (created, running, paused, restarting,\n"
		"removing, exited, dead); --node-state its engine's (pending, healthy,\n"
		"suspect, unhealthy, down). Several states mean any of them.\n"
		"STALE: the containers of an engine that is not healthy are those of\n"
		"its last listing, this long ago; \"-\" when current.\n"
		"  -j, --json           the rows as one JSON array\n"
		"  -q, --quiet          short IDs only, one a line\n"
		"  --format TEMPLATE    docker's: {{.ID}} {{.Name}} {{.State}} {{.Image}}\n"
		"                       {{.Node}} {{.NodeName}} {{.NodeState}} {{.Stale}}\n"
		"                       {{.Listed}}..., \"table \" for a header, {{json .}}\n"
		"  -H, --host URL       unix://PATH or tcp://HOST:PORT (--api-listen);\n"
		"                       default $PEERWATCH_HOST, else unix://" API_DEFAULT_SOCKET "\n"
		"Exit status, as grep's: 0 if a container is shown, 1 if none\n"
		"matched, 2 on an error.\n", prog);
}

static const struct opt options[] = {
	CLI_OPT_JSON(struct cli_api_args),
	CLI_OPT_LIST(struct cli_api_args),
	CLI_OPT_FILTER(struct cli_api_args, "node", "ADDR|ID|NAME"),
	CLI_OPT_FILTER(struct cli_api_args, "state", "STATE"),
	{ .name = "node-state", .type = OPT_FUNC, OPT_FIELD(struct cli_api_args, path),
	  .parse = cli_opt_query, .arg = "STATE" },
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

	err = cli_table_new(&t, 7);
	if (!err)
		err = cli_table_add(t, "NODE", "NODE NAME", "NAME", "STATE",
				    "STALE", "IMAGE", "ID");
	for (i = 0; i < n && !err; i++) {
		struct json_object *o = json_object_array_get_idx(a, i), *v;
		const char *id = cli_json_str(o, "id");
		char shortid[13], age[16] = "-";

		snprintf(shortid, sizeof(shortid), "%s", id ? id : "-");
		if (json_object_object_get_ex(o, "stale", &v) &&
		    json_object_get_boolean(v))
			cli_age(cli_json_str(o, "listed"), age, sizeof(age));
		err = cli_table_add(t, cli_json_str(o, "node"),
				    cli_json_str(o, "node_name"),
				    cli_json_str(o, "name"),
				    cli_json_str(o, "state"), age,
				    cli_json_str(o, "image"), shortid);
	}
	if (!err)
		cli_table_print(t, stdout);
	cli_table_free(t);
	return err;
}

static const char *const fields[] = {
	"id", "name", "image", "state", "labels", "labels_dropped", "node",
	"node_name", "node_state", "stale", "listed", NULL,
};

static const struct cli_list list = {
	.cmd = "containers", .fields = fields, .sort_key = "node",
	.quiet_key = "id", .quiet_len = 12, .table = print_containers,
};

int cmd_containers(int argc, char **argv)
{
	struct cli_api_args a = { .path = API_PATH_CONTAINERS };
	int ret;

	ret = cli_parse(&cmd, &a, argc, argv);
	if (ret != CLI_PARSED)
		return ret;
	return cli_list_show(&a, &list);
}

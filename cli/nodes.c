// SPDX-License-Identifier: GPL-2.0
/*
 * peerwatch nodes, peerwatch node X: the engines peerwatchd watches, from
 * its control API.
 */
#include <stdio.h>

#include "cli.h"

static void usage(FILE *f)
{
	fprintf(f, "Usage: %s nodes [-j|-q|--format TEMPLATE] [--state STATE[,STATE]]...\n"
		"           [--label KEY[=VALUE]]... [-H URL | --api-socket PATH]\n"
		"       %s node ADDR|HOST|ID|NAME [-j] [-H URL | --api-socket PATH]\n\n"
		"List the engines peerwatchd watches, in address order, or show one\n"
		"with its containers. node takes an address with or without its\n"
		"port, an ID or a unique prefix of one, or a name.\n"
		"STATE: pending, healthy, suspect, unhealthy, down; several states\n"
		"(--state down,unhealthy or --state down --state unhealthy) mean\n"
		"any of them, several labels all of them.\n"
		"  -j, --json           the rows as one JSON array\n"
		"  -q, --quiet          addresses only, one a line\n"
		"  --format TEMPLATE    docker's: {{.Addr}} {{.Name}} {{.State}} {{.Cause}}\n"
		"                       {{.Since}} {{.Failures}} {{.Containers}}...,\n"
		"                       \"table \" for a header, {{json .}}, or \"json\"\n"
		"  -H, --host URL       unix://PATH or tcp://HOST:PORT (--api-listen);\n"
		"                       default $PEERWATCH_HOST, else unix://" API_DEFAULT_SOCKET "\n"
		"Exit status, as grep's: 0 if an engine is shown, 1 if none matched,\n"
		"2 on an error.\n", prog, prog);
}

static const struct opt nodes_opts[] = {
	CLI_OPT_JSON(struct cli_api_args),
	CLI_OPT_LIST(struct cli_api_args),
	CLI_OPT_FILTER(struct cli_api_args, "state", "STATE"),
	CLI_OPT_FILTER(struct cli_api_args, "label", "KEY[=VALUE]"),
	CLI_OPT_SOCKET(struct cli_api_args),
	CLI_OPT_HELP(struct cli_api_args),
	{ 0 },
};

static const struct cli_cmd nodes_cmd = {
	.name = "nodes", .opts = nodes_opts, .usage = usage,
};

/* ADDR|ID|NAME */
static const struct cli_cmd node_cmd = {
	.name = "node", .opts = cli_api_opts, .usage = usage, .nargs = 1,
};

static const char *num(struct json_object *o, const char *key, char *buf,
		       size_t size)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !v)
		return NULL;
	snprintf(buf, size, "%lld", (long long)json_object_get_int64(v));
	return buf;
}

/* Several agents share the fleet: each node has a watcher. */
static bool shared(struct json_object *a)
{
	size_t i, n = json_object_array_length(a);

	for (i = 0; i < n; i++)
		if (cli_json_str(json_object_array_get_idx(a, i), "watcher"))
			return true;
	return false;
}

static int print_nodes(struct json_object *a)
{
	struct cli_table *t;
	size_t i, n = json_object_array_length(a);
	bool w = shared(a);
	int err;

	err = cli_table_new(&t, w ? 8 : 7);
	if (!err)
		err = w ? cli_table_add(t, "ADDR", "NAME", "STATE", "CAUSE",
					"SINCE", "FAILURES", "CONTAINERS",
					"WATCHER") :
			  cli_table_add(t, "ADDR", "NAME", "STATE", "CAUSE",
					"SINCE", "FAILURES", "CONTAINERS");
	for (i = 0; i < n && !err; i++) {
		struct json_object *o = json_object_array_get_idx(a, i);
		char age[16], fails[24], cont[24];

		cli_age(cli_json_str(o, "since"), age, sizeof(age));
		err = cli_table_add(t, cli_json_str(o, "addr"),
				    cli_json_str(o, "name"),
				    cli_json_str(o, "state"),
				    cli_json_str(o, "cause"), age,
				    num(o, "failures", fails, sizeof(fails)),
				    num(o, "containers", cont, sizeof(cont)),
				    cli_json_str(o, "watcher"));
	}
	if (!err)
		cli_table_print(t, stdout);
	cli_table_free(t);
	return err;
}

static const char *const node_fields[] = {
	"addr", "id", "name", "state", "cause", "error", "since", "failures",
	"requests", "refreshed", "server_version", "api_version", "ncpu",
	"mem_total", "labels", "cookie", "events_cookie", "containers",
	"watcher", NULL,
};

static const struct cli_list nodes_list = {
	.cmd = "nodes", .fields = node_fields, .sort_key = "addr",
	.quiet_key = "addr", .table = print_nodes,
};

int cmd_nodes(int argc, char **argv)
{
	struct cli_api_args a = { .path = API_PATH_NODES };
	int ret;

	ret = cli_parse(&nodes_cmd, &a, argc, argv);
	if (ret != CLI_PARSED)
		return ret;
	return cli_list_show(&a, &nodes_list);
}

static void print_field(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !v)
		return;
	printf("%-16s %s\n", key, json_object_is_type(v, json_type_string) ?
	       json_object_get_string(v) :
	       json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN));
}

static int print_node(struct json_object *o)
{
	static const char *const keys[] = {
		"addr", "name", "id", "state", "cause", "error", "since",
		"failures", "requests", "refreshed", "server_version",
		"api_version", "ncpu", "mem_total", "labels", "cookie",
		"events_cookie",
	};
	struct json_object *list;
	struct cli_table *t;
	size_t i, n;
	int err;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		print_field(o, keys[i]);
	if (!json_object_object_get_ex(o, "containers", &list) ||
	    !json_object_is_type(list, json_type_array))
		return 0;
	n = json_object_array_length(list);
	printf("%-16s %zu\n\n", "containers", n);
	if (!n)
		return 0;
	err = cli_table_new(&t, 4);
	if (!err)
		err = cli_table_add(t, "NAME", "STATE", "IMAGE", "ID");
	for (i = 0; i < n && !err; i++) {
		struct json_object *c = json_object_array_get_idx(list, i);
		const char *id = cli_json_str(c, "id");
		char shortid[13];

		snprintf(shortid, sizeof(shortid), "%s", id ? id : "-");
		err = cli_table_add(t, cli_json_str(c, "name"),
				    cli_json_str(c, "state"),
				    cli_json_str(c, "image"), shortid);
	}
	if (!err)
		cli_table_print(t, stdout);
	cli_table_free(t);
	return err;
}

int cmd_node(int argc, char **argv)
{
	struct cli_api_args a = { .path = API_PATH_NODES "/" };
	int ret;

	ret = cli_parse(&node_cmd, &a, argc, argv);
	if (ret != CLI_PARSED)
		return ret;
	if (cli_api_escape(a.path, sizeof(a.path), argv[1])) {
		usage(stderr);
		return EXIT_USAGE;
	}
	return cli_api_show(cli_host(a.host, a.sock), a.path, a.json,
			    print_node);
}

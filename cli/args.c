// SPDX-License-Identifier: GPL-2.0
/*
 * Every subcommand's command line, by an option table (lib/opt.h), as
 * peerwatchd's: the same rules in each (names never abbreviated,
 * --name=value, options and arguments in any order, -h and --help), one
 * way to refuse a bad one (a message, the usage, EXIT_USAGE), and the
 * values several subcommands take: the control API's filters, ports,
 * address prefixes and durations.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

const struct opt cli_api_opts[] = {
	CLI_OPT_JSON(struct cli_api_args),
	CLI_OPT_SOCKET(struct cli_api_args),
	CLI_OPT_HELP(struct cli_api_args),
	{ 0 },
};

const struct opt cli_json_opts[] = {
	CLI_OPT_JSON(struct cli_json_args),
	CLI_OPT_HELP(struct cli_json_args),
	CLI_OPT_HELP_WORD(struct cli_json_args),
	{ 0 },
};

int cli_parse(const struct cli_cmd *cmd, void *args, int argc, char **argv)
{
	const struct opt *help = opt_find(cmd->opts, "help");
	char err[256];
	int n;

	n = opt_defaults(cmd->opts, args, err, sizeof(err));
	if (!n)
		n = opt_parse(cmd->opts, args, argc, argv, err, sizeof(err));
	if (n >= 0 && help && *(bool *)opt_field(help, args)) {
		cmd->usage(stdout);
		return EXIT_OK;
	}
	if (n == cmd->nargs)
		return CLI_PARSED;
	if (n < 0)
		fprintf(stderr, "%s %s: %s\n", prog, cmd->name, err);
	else if (n > cmd->nargs)
		fprintf(stderr, "%s %s: unexpected argument '%s'\n", prog,
			cmd->name, argv[1 + cmd->nargs]);
	else
		fprintf(stderr, "%s %s: %d argument%s wanted, %d given\n",
			prog, cmd->name, cmd->nargs, cmd->nargs > 1 ? "s" : "",
			n);
	cmd->usage(stderr);
	return EXIT_USAGE;
}

int cli_opt_query(const struct opt *o, void *args, const char *arg,
		  char *err, size_t len)
{
	char *q = opt_field(o, args), key[64], *c;

	/* --node-state: the API's node_state */
	snprintf(key, sizeof(key), "%s", o->name);
	for (c = key; *c; c++)
		if (*c == '-')
			*c = '_';
	if (cli_api_query(q, o->size, key, arg))
		return opt_error(err, len, "--%s: the request gets too long",
				 o->name);
	return 0;
}

int cli_opt_port(const struct opt *o, void *args, const char *arg,
		 char *err, size_t len)
{
	if (cli_parse_u16(arg, opt_field(o, args)))
		return opt_error(err, len, "%s: '%s' is not a port", o->name,
				 arg);
	return 0;
}

int cli_opt_prefix(const struct opt *o, void *args, const char *arg,
		   char *err, size_t len)
{
	if (cli_parse_prefix(arg, opt_field(o, args)))
		return opt_error(err, len, "%s: '%s' is not ADDR or ADDR/LEN",
				 o->name, arg);
	return 0;
}

int cli_parse_nl(const struct cli_cmd *cmd, void *args, int argc,
		 char **argv, struct pw_nl *nl)
{
	int ret = cli_parse(cmd, args, argc, argv);

	if (ret != CLI_PARSED)
		return ret;
	return cli_nl_open(nl) ? EXIT_FAIL : CLI_PARSED;
}

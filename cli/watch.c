// SPDX-License-Identifier: GPL-2.0
/* peerwatch watch: engine transitions and container events, live. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

static void usage(FILE *f)
{
	fprintf(f, "Usage: %s watch [-j] [--api-socket PATH]\n\n"
		"Print each engine state transition (with its cause) and each\n"
		"container event as peerwatchd sees it; -j: one JSON object a line.\n"
		"PATH defaults to " API_DEFAULT_SOCKET ".\n", prog);
}

static const struct cli_cmd cmd = {
	.name = "watch", .opts = cli_api_opts, .usage = usage,
};

/* "2026-01-02T03:04:05.678Z" -> "03:04:05.678" */
static const char *clock_part(const char *iso)
{
	const char *t = iso ? strchr(iso, 'T') : NULL;

	return t ? t + 1 : "-";
}

int cli_print_transition(struct json_object *o, FILE *f)
{
	const char *type = cli_json_str(o, "type");
	const char *cause = cli_json_str(o, "cause");
	const char *error = cli_json_str(o, "error");
	const char *name = cli_json_str(o, "name");

	if (!type)
		return -EPROTO;
	fprintf(f, "%.12s  %-21s %-14s ", clock_part(cli_json_str(o, "time")),
		cli_json_str(o, "addr") ?: "-", name && *name ? name : "-");
	if (!strcmp(type, "engine"))
		fprintf(f, "%s -> %s%s%s%s%s%s\n", cli_json_str(o, "from") ?: "?",
			cli_json_str(o, "state") ?: "?", cause ? " (" : "",
			cause ?: "", error ? ": " : "", error ?: "",
			cause ? ")" : "");
	else
		fprintf(f, "container %.12s %s\n",
			cli_json_str(o, "container") ?: "-",
			cli_json_str(o, "action") ?: "-");
	return 0;
}

static int on_line(void *arg, const char *line)
{
	bool json = *(bool *)arg;
	struct json_object *o;
	int err = 0;

	if (json) {
		printf("%s\n", line);
	} else {
		o = json_tokener_parse(line);
		err = o ? cli_print_transition(o, stdout) : -EPROTO;
		json_object_put(o);
	}
	fflush(stdout);
	return err;
}

int cmd_watch(int argc, char **argv)
{
	struct cli_api_args a = { 0 };
	int ret;

	ret = cli_parse(&cmd, &a, argc, argv);
	if (ret != CLI_PARSED)
		return ret;
	return cli_api_stream(a.sock, API_PATH_EVENTS, -1, on_line, &a.json) ?
	       EXIT_FAIL : EXIT_OK;
}

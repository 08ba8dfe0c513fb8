// SPDX-License-Identifier: GPL-2.0
/* peerwatch version: the CLI's version and the agent's, from its summary. */
#include <stdio.h>

#include "cli.h"

static void usage(FILE *f)
{
	fprintf(f, "Usage: %s version [-j] [-H URL | --api-socket PATH]\n\n"
		"The versions of this CLI and of the peerwatchd it reaches (\"unknown\"\n"
		"when it cannot be reached or does not say). Exit status 1 when the\n"
		"agent cannot be reached.\n"
		"  -j, --json           as one JSON object\n"
		"  -H, --host URL       unix://PATH or tcp://HOST:PORT (--api-listen);\n"
		"                       default $PEERWATCH_HOST, else unix://" API_DEFAULT_SOCKET "\n", prog);
}

static const struct cli_cmd cmd = {
	.name = "version", .opts = cli_api_opts, .usage = usage,
};

int cmd_version(int argc, char **argv)
{
	struct cli_api_args a = { 0 };
	struct json_object *s = NULL, *o;
	const char *host, *agent = NULL;
	int ret, err;

	ret = cli_parse(&cmd, &a, argc, argv);
	if (ret != CLI_PARSED)
		return ret;
	host = cli_host(a.host, a.sock);
	err = cli_api_get(host, API_PATH_SUMMARY, &s);
	if (!err)
		agent = cli_json_str(s, "version");
	if (a.json) {
		o = json_object_new_object();
		if (!o) {
			json_object_put(s);
			return EXIT_FAIL;
		}
		json_object_object_add(o, "cli", json_object_new_string(PEERWATCH_VERSION));
		json_object_object_add(o, "agent", agent ? json_object_new_string(agent) : NULL);
		json_object_object_add(o, "host", json_object_new_string(host));
		printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
							      JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(o);
	} else {
		printf("peerwatch %s\nagent:    %s%s (%s)\n", PEERWATCH_VERSION,
		       agent ?: "unknown", !err && !agent ? ", it does not say" : "",
		       host);
	}
	json_object_put(s);
	return err ? EXIT_FAIL : EXIT_OK;
}

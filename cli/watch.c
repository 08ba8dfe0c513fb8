// SPDX-License-Identifier: GPL-2.0
/*
 * peerwatch watch: engine transitions and container events, live. When
 * the agent goes away (a restart) after the stream opened, it says so on
 * stderr and reconnects,
 * backing off from 250 ms to 5 s, for as long as --reconnect allows.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "tmpl.h"

#define WATCH_BACKOFF_MIN_MS	250
#define WATCH_BACKOFF_MAX_MS	5000

static void usage(FILE *f)
{
	fprintf(f, "Usage: %s watch [-j|-q|--format TEMPLATE] [--type engine|container]\n"
		"           [--reconnect DUR] [-H URL | --api-socket PATH]\n\n"
		"Print each engine state transition (with its cause) and each\n"
		"container event as peerwatchd sees it.\n"
		"  -j, --json           one JSON object a line, as the agent sends it\n"
		"  --type TYPE          engine (transitions) or container (events) only\n"
		"  -q, --quiet          the engine's address only\n"
		"  --format TEMPLATE    docker's: {{.Time}} {{.Type}} {{.Addr}} {{.Name}}\n"
		"                       {{.From}} {{.State}} {{.Cause}} {{.Error}}\n"
		"                       {{.Action}} {{.Container}}, {{json .}}\n"
		"  --reconnect DUR      when the agent goes away (once reached), try\n"
		"                       again this long, backing off up to 5s\n"
		"                       (1m; 0: exit at once)\n"
		"  -H, --host URL       unix://PATH or tcp://HOST:PORT (--api-listen);\n"
		"                       default $PEERWATCH_HOST, else unix://" API_DEFAULT_SOCKET "\n"
		"Exit status: 0 when interrupted, 1 when the agent is gone for\n"
		"longer than --reconnect, 2 on a bad command line.\n", prog);
}

struct watch_args {
	struct cli_api_args api;
	const char *type;
	uint64_t reconnect_ms;
	struct tmpl *tmpl;
	bool opened;			/* the stream answered, this time */
	bool ever_opened;		/* else a failure is final: a typo */
	uint64_t gone_ms;		/* since the agent went away; 0: here */
};

static int check_type(const char *arg, const char **why)
{
	if (strcmp(arg, "engine") && strcmp(arg, "container")) {
		*why = "want engine or container";
		return -EINVAL;
	}
	return 0;
}

#define W(member)	OPT_FIELD(struct watch_args, member)

static const struct opt options[] = {
	{ .name = "json", .short_name = 'j', .type = OPT_FLAG, W(api.json) },
	{ .name = "quiet", .short_name = 'q', .type = OPT_FLAG,
	  W(api.quiet), .help = "addresses only" },
	{ .name = "format", .type = OPT_STRING, W(api.format),
	  .arg = "TEMPLATE", .help = "docker's {{.Field}}" },
	{ .name = "type", .type = OPT_STRING, W(type), .arg = "TYPE",
	  .check = check_type },
	{ .name = "reconnect", .type = OPT_DURATION, W(reconnect_ms),
	  .def = 60000, .max = 86400000, .flags = OPT_ZERO, .arg = "DUR" },
	{ .name = "api-socket", .type = OPT_STRING, .flags = OPT_PATH,
	  W(api.sock), .arg = "PATH" },
	{ .name = "host", .short_name = 'H', .type = OPT_STRING, W(api.host),
	  .arg = "URL", .check = cli_check_host },
	{ .name = "help", .short_name = 'h', .type = OPT_FLAG, W(api.help) },
	{ 0 },
};

static const struct cli_cmd cmd = {
	.name = "watch", .opts = options, .usage = usage,
};

static const char *const fields[] = {
	"time", "type", "addr", "id", "name", "from", "state", "cause", "error",
	"action", "container", NULL,
};

static const struct cli_list list = {
	.cmd = "watch", .fields = fields, .quiet_key = "addr",
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

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int on_line(void *arg, const char *line)
{
	struct watch_args *a = arg;
	struct json_object *o;
	int err = 0;

	if (!line) {
		if (a->gone_ms)
			fprintf(stderr, "%s watch: reconnected after %llus\n",
				prog, (unsigned long long)(now_ms() - a->gone_ms) / 1000);
		a->opened = a->ever_opened = true;
		a->gone_ms = 0;
		return 0;
	}
	if (a->api.json) {
		printf("%s\n", line);
	} else {
		o = json_tokener_parse(line);
		if (!o)
			err = -EPROTO;
		else if (a->tmpl || a->api.quiet)
			err = cli_list_row(o, &list, a->tmpl, a->api.quiet);
		else
			err = cli_print_transition(o, stdout);
		json_object_put(o);
	}
	fflush(stdout);
	return err;
}

/* Whether @err means the agent is away (stopped, restarting). */
static bool agent_away(int err)
{
	return !err || err == -ECONNREFUSED || err == -ENOENT ||
	       err == -ECONNRESET || err == -EPIPE;
}

static int stream(struct watch_args *a)
{
	const char *host = cli_host(a->api.host, a->api.sock);
	uint64_t backoff = WATCH_BACKOFF_MIN_MS;
	char path[64];
	int err;

	snprintf(path, sizeof(path), "%s%s%s", API_PATH_EVENTS,
		 a->type ? "?type=" : "", a->type ?: "");
	for (;;) {
		a->opened = false;
		err = cli_api_stream(host, path, -1, a->gone_ms != 0, on_line, a);
		if (!agent_away(err) || !a->reconnect_ms || !a->ever_opened)
			break;
		if (a->opened || !a->gone_ms) {
			a->gone_ms = now_ms();
			backoff = WATCH_BACKOFF_MIN_MS;
			fprintf(stderr, "%s watch: %s; reconnecting for up to %llus\n",
				prog, err ? "lost the agent" : "the agent ended the stream",
				(unsigned long long)(a->reconnect_ms + 999) / 1000);
		} else if (now_ms() - a->gone_ms >= a->reconnect_ms) {
			fprintf(stderr, "%s watch: no agent at %s for %llus: giving up\n",
				prog, host,
				(unsigned long long)(now_ms() - a->gone_ms) / 1000);
			return -ETIMEDOUT;
		}
		poll(NULL, 0, (int)backoff);
		backoff = backoff * 2 > WATCH_BACKOFF_MAX_MS ?
			  WATCH_BACKOFF_MAX_MS : backoff * 2;
	}
	return err;
}

int cmd_watch(int argc, char **argv)
{
	struct watch_args a = { 0 };
	int ret, err = 0;

	ret = cli_parse(&cmd, &a, argc, argv);
	if (ret != CLI_PARSED)
		return ret;
	if ((a.api.json || a.api.quiet) && a.api.format) {
		fprintf(stderr, "%s watch: --format and %s: one or the other\n",
			prog, a.api.json ? "-j" : "-q");
		return EXIT_USAGE;
	}
	if (a.api.format && cli_list_format("watch", a.api.format, &list, &a.tmpl))
		return EXIT_USAGE;
	err = stream(&a);
	tmpl_free(a.tmpl);
	return err ? EXIT_FAIL : EXIT_OK;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * peerwatch top: a live view of peerwatchd: engines by state, rates, and
 * the latest transitions, redrawn from GET /v1/summary every interval.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

#define BAR_WIDTH	50
#define STATES		5

/* Healthy first: the bar gives the others their cells from it. */
static const char *const states[STATES] = {
	"healthy", "suspect", "unhealthy", "down", "pending",
};

static void usage(FILE *f)
{
	fprintf(f, "Usage: %s top [-j] [-i DUR] [-n COUNT] [-H URL | --api-socket PATH]\n\n"
		"A live view of peerwatchd: engines by state, request, error and\n"
		"transition rates, and the latest transitions. q or Ctrl-C quits.\n"
		"  -j, --json             each refresh as one line of JSON (the summary)\n"
		"  -i, --interval DUR     refresh period (1s)\n"
		"  -n, --iterations N     stop after N refreshes (0: never)\n"
		"  -H, --host URL         unix://PATH or tcp://HOST:PORT (--api-listen);\n"
		"                         default $PEERWATCH_HOST, else unix://" API_DEFAULT_SOCKET "\n", prog);
}

struct top_args {
	bool help, json;
	const char *sock, *host;
	uint32_t interval;		/* ms */
	unsigned int iterations;	/* 0: until stopped */
};

/* A Go-style duration or a number of ms, as set-timeout takes. */
static int parse_interval(const struct opt *o, void *args, const char *arg,
			  char *err, size_t len)
{
	uint32_t *ms = opt_field(o, args);

	if (cli_parse_ms(arg, ms) || *ms < 100)
		return opt_error(err, len, "--interval: at least 100ms");
	return 0;
}

#define T(member)	OPT_FIELD(struct top_args, member)

static const struct opt options[] = {
	{ .name = "interval", .short_name = 'i', .type = OPT_FUNC,
	  T(interval), .parse = parse_interval, .arg = "DUR" },
	{ .name = "iterations", .short_name = 'n', .type = OPT_UINT,
	  T(iterations), .min = 1, .max = UINT32_MAX, .arg = "N",
	  .flags = OPT_ZERO },
	CLI_OPT_JSON(struct top_args),
	CLI_OPT_SOCKET(struct top_args),
	CLI_OPT_HELP(struct top_args),
	{ 0 },
};

static const struct cli_cmd cmd = {
	.name = "top", .opts = options, .usage = usage,
};

struct sample {
	double t;			/* monotonic seconds */
	uint64_t requests, errors, transitions;
	bool valid;
};

static double mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t get_u64(struct json_object *o, const char *key)
{
	struct json_object *v;

	return json_object_object_get_ex(o, key, &v) ?
	       (uint64_t)json_object_get_int64(v) : 0;
}

static double rate(uint64_t now, uint64_t then, double dt)
{
	return dt > 0 && now >= then ? (double)(now - then) / dt : 0;
}

static const char *state_color(const char *state, bool tty)
{
	if (!tty)
		return "";
	if (!strcmp(state, "healthy"))
		return "\033[32m";
	if (!strcmp(state, "down"))
		return "\033[31m";
	if (!strcmp(state, "pending"))
		return "\033[36m";
	return "\033[33m";
}

/*
 * One bar, each state its share of the fleet in its colour; a state with
 * any engine gets at least one cell, taken from healthy, so that three
 * down engines in a thousand still show.
 */
static void bar(struct json_object *st, uint64_t engines, bool tty)
{
	unsigned int w[STATES], used = 0, i;

	for (i = 0; i < STATES; i++) {
		uint64_t n = get_u64(st, states[i]);

		w[i] = engines ? (unsigned int)(n * BAR_WIDTH / engines) : 0;
		if (n && !w[i])
			w[i] = 1;
		used += w[i];
	}
	if (engines && used > BAR_WIDTH)
		w[0] -= used - BAR_WIDTH < w[0] ? used - BAR_WIDTH : w[0];
	else if (engines)
		w[0] += BAR_WIDTH - used;
	for (i = 0; i < STATES; i++) {
		printf("%s", state_color(states[i], tty));
		for (; w[i]; w[i]--)
			putchar(i ? '#' : '=');
		printf("%s", tty ? "\033[0m" : "");
	}
}

static void draw(struct json_object *s, const struct sample *prev,
		 const struct sample *cur, bool tty, unsigned int rows)
{
	const char *reset = tty ? "\033[0m" : "";
	const char *bold = tty ? "\033[1m" : "";
	struct json_object *st = NULL, *recent = NULL;
	uint64_t engines = get_u64(s, "engines");
	double dt = prev->valid ? cur->t - prev->t : 0;
	unsigned int i, shown;
	size_t n, k;

	json_object_object_get_ex(s, "states", &st);
	if (tty)
		fputs("\033[H\033[2J", stdout);
	printf("%speerwatch top%s   %" PRIu64 " engines, %" PRIu64 " containers, %" PRIu64
	       " connections   %s\n\n", bold, reset, engines,
	       get_u64(s, "containers"), get_u64(s, "connections"),
	       cli_json_str(s, "time") ?: "");
	printf("%sENGINES%s    ", bold, reset);
	for (i = 0; i < STATES; i++)
		printf("%s%s %" PRIu64 "%s   ", state_color(states[i], tty),
		       states[i], get_u64(st, states[i]), reset);
	printf("\n           [");
	bar(st, engines, tty);
	printf("]\n\n%sRATES%s      requests %.1f/s   errors %.1f/s   transitions %.1f/s\n",
	       bold, reset, rate(cur->requests, prev->requests, dt),
	       rate(cur->errors, prev->errors, dt),
	       rate(cur->transitions, prev->transitions, dt));
	printf("%sTOTALS%s     requests %" PRIu64 "   errors %" PRIu64
	       "   transitions %" PRIu64 "   API clients %" PRIu64 "\n\n",
	       bold, reset, cur->requests, cur->errors, cur->transitions,
	       get_u64(s, "api_clients"));
	printf("%sRECENT TRANSITIONS%s\n", bold, reset);
	if (!json_object_object_get_ex(s, "recent", &recent) ||
	    !json_object_is_type(recent, json_type_array))
		return;
	n = json_object_array_length(recent);
	/* Newest first, as many as the terminal has rows for. */
	shown = rows > 12 ? rows - 12 : 1;
	for (k = 0; k < n && k < shown; k++)
		cli_print_transition(json_object_array_get_idx(recent, n - 1 - k),
				     stdout);
	if (tty)
		printf("\n(q quits)");
	fflush(stdout);
}

/* Waits up to @ms for 'q' on a terminal; true if the user asked to quit. */
static bool wait_key(int ms, bool tty_in)
{
	struct pollfd pfd = { .fd = STDIN_FILENO, .events = POLLIN };
	char ch;

	if (!tty_in)
		return poll(NULL, 0, ms), false;
	if (poll(&pfd, 1, ms) <= 0)
		return false;
	return read(STDIN_FILENO, &ch, 1) == 1 && (ch == 'q' || ch == 'Q');
}

int cmd_top(int argc, char **argv)
{
	struct top_args a = { .interval = 1000 };
	struct sample prev = { 0 }, cur;
	bool tty, tty_in = isatty(STDIN_FILENO);
	unsigned int done = 0, rows = 24;
	struct termios saved, raw;
	struct winsize ws;
	int ret;

	ret = cli_parse(&cmd, &a, argc, argv);
	if (ret != CLI_PARSED)
		return ret;
	ret = EXIT_OK;
	tty = !a.json && isatty(STDOUT_FILENO);
	cli_stop_on_signals();
	if (tty_in && !tcgetattr(STDIN_FILENO, &saved)) {
		raw = saved;
		raw.c_lflag &= ~(ICANON | ECHO);
		tcsetattr(STDIN_FILENO, TCSANOW, &raw);
	} else {
		tty_in = false;
	}
	if (tty)
		fputs("\033[?1049h\033[?25l", stdout);
	while (!cli_stop) {
		struct json_object *s = NULL;

		if (cli_api_get(cli_host(a.host, a.sock), API_PATH_SUMMARY, &s)) {
			ret = EXIT_FAIL;
			break;
		}
		cur.t = mono_s();
		cur.requests = get_u64(s, "requests");
		cur.errors = get_u64(s, "errors");
		cur.transitions = get_u64(s, "transitions");
		cur.valid = true;
		if (tty && !ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) && ws.ws_row)
			rows = ws.ws_row;
		if (a.json)
			printf("%s\n", json_object_to_json_string_ext(s,
				JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
		else
			draw(s, &prev, &cur, tty, rows);
		if (!tty && !a.json)
			putchar('\n');
		fflush(stdout);
		json_object_put(s);
		prev = cur;
		if (a.iterations && ++done == a.iterations)
			break;
		if (wait_key((int)a.interval, tty_in))
			break;
	}
	if (tty)
		fputs("\033[?25h\033[?1049l", stdout);
	if (tty_in)
		tcsetattr(STDIN_FILENO, TCSANOW, &saved);
	fflush(stdout);
	return ret;
}

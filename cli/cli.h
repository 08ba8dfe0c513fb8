/* SPDX-License-Identifier: GPL-2.0 */
#ifndef PEERWATCH_CLI_H
#define PEERWATCH_CLI_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include <stddef.h>
#include <stdio.h>
#include <netinet/in.h>
#include <json-c/json.h>

#include "nl.h"
#include "nlevent.h"
#include "opt.h"
#include "pwapi.h"

extern const char *prog;

/* Exit statuses of every subcommand. */
enum {
	EXIT_OK = 0,
	EXIT_FAIL = 1,		/* the operation failed */
	EXIT_USAGE = 2,		/* bad command line */
};

/*
 * The listings (nodes, node, containers) follow grep: 0 when a row is
 * shown, 1 when none matched, 2 on any error, so that a script can
 * branch on "is any engine down" without reading the output.
 */
enum {
	EXIT_LIST_NONE = 1,
	EXIT_LIST_ERROR = 2,
};

/*
 * A subcommand's command line (args.c): its option table, which holds a
 * "help" flag and owns nothing (no OPT_COPY, no OPT_LIST), and how many
 * positional arguments it wants.
 */
struct cli_cmd {
	const char *name;		/* "peerwatch NAME: what is wrong" */
	const struct opt *opts;
	void (*usage)(FILE *f);
	int nargs;
};

/* What cli_parse() returns when the subcommand goes on. */
#define CLI_PARSED	(-1)

/*
 * Parses argv by @cmd into @args, which holds the values of its OPT_FUNC
 * fields to start from; the positional arguments are left in argv[1..].
 * Returns CLI_PARSED, or the exit status after --help (the usage on
 * stdout) or a bad command line (why, and the usage, on stderr).
 */
int cli_parse(const struct cli_cmd *cmd, void *args, int argc, char **argv);
/* cli_parse(), then the module's family opened into @nl if it went on. */
int cli_parse_nl(const struct cli_cmd *cmd, void *args, int argc,
		 char **argv, struct pw_nl *nl);
/* --NAME VALUE: "?NAME=VALUE" or "&NAME=VALUE" on the path in the field. */
int cli_opt_query(const struct opt *o, void *args, const char *arg,
		  char *err, size_t len);
/* A port (uint16_t field), a prefix (struct cli_addr field). */
int cli_opt_port(const struct opt *o, void *args, const char *arg,
		 char *err, size_t len);
int cli_opt_prefix(const struct opt *o, void *args, const char *arg,
		   char *err, size_t len);

/* The options several subcommands share, for a table of @args_type. */
#define CLI_OPT_HELP(args_type) \
	{ .name = "help", .short_name = 'h', .type = OPT_FLAG, \
	  OPT_FIELD(args_type, help), .help = "this text" }
/* The module's subcommands take "help" too, as ip(8) does. */
#define CLI_OPT_HELP_WORD(args_type) \
	{ .name = "help", .flags = OPT_WORD, .type = OPT_FLAG, \
	  OPT_FIELD(args_type, help), .help = "this text" }
#define CLI_OPT_JSON(args_type) \
	{ .name = "json", .short_name = 'j', .type = OPT_FLAG, \
	  OPT_FIELD(args_type, json), .help = "one JSON object a line" }
#define CLI_OPT_SOCKET(args_type) \
	{ .name = "api-socket", .type = OPT_STRING, .flags = OPT_PATH, \
	  OPT_FIELD(args_type, sock), .arg = "PATH", \
	  .help = "peerwatchd's control API socket (as -H unix://PATH)" }, \
	{ .name = "host", .short_name = 'H', .type = OPT_STRING, \
	  OPT_FIELD(args_type, host), .arg = "URL", .check = cli_check_host, \
	  .help = "unix://PATH or tcp://HOST:PORT (--api-listen)" }
/* -q, --format: what a listing shows of each row (list.c). */
#define CLI_OPT_LIST(args_type) \
	{ .name = "quiet", .short_name = 'q', .type = OPT_FLAG, \
	  OPT_FIELD(args_type, quiet), .help = "addresses or IDs only" }, \
	{ .name = "format", .type = OPT_STRING, \
	  OPT_FIELD(args_type, format), .arg = "TEMPLATE", \
	  .help = "docker's {{.Field}}, table prefix, {{json .}}" }
/* The module's filters, as ip(8) spells them: "dport 80", by @fn. */
#define CLI_OPT_WORD(args_type, word, member, fn) \
	{ .name = word, .flags = OPT_WORD, .type = OPT_FUNC, \
	  OPT_FIELD(args_type, member), .parse = fn }
/* -4, -6 into a uint16_t family; dst PREFIX into a struct cli_addr. */
#define CLI_OPT_FAMILY(args_type) \
	{ .short_name = '4', .type = OPT_SET, \
	  OPT_FIELD(args_type, family), .val = AF_INET }, \
	{ .short_name = '6', .type = OPT_SET, \
	  OPT_FIELD(args_type, family), .val = AF_INET6 }
#define CLI_OPT_DST(args_type) \
	CLI_OPT_WORD(args_type, "dst", dst, cli_opt_prefix)
#define CLI_OPT_FILTER(args_type, filter, value) \
	{ .name = filter, .type = OPT_FUNC, OPT_FIELD(args_type, path), \
	  .parse = cli_opt_query, .arg = value }

/* The control API's views: a GET of @path, its filters as its query. */
struct cli_api_args {
	bool json, help, quiet;
	const char *sock, *host;	/* --api-socket, -H */
	const char *format;
	char path[2048];
};

/* -H's URL, or PEERWATCH_HOST's: 0 or -EINVAL with the reason in @why. */
int cli_check_host(const char *arg, const char **why);
/*
 * Where the agent is: -H, else --api-socket, else $PEERWATCH_HOST, else
 * the default socket.
 */
const char *cli_host(const char *host, const char *sock);

/* How a listing is shown (list.c): a table, -q, --format or -j. */
struct cli_list {
	const char *cmd;		/* "nodes": for its messages */
	const char *const *fields;	/* the JSON keys --format may name */
	const char *sort_key;		/* rows by this address, then name */
	const char *quiet_key;		/* what -q prints of each row */
	int quiet_len;			/* of it, as docker's short IDs; 0: all */
	int (*table)(struct json_object *a);
};
/* GETs @a->path and shows the rows; the exit status, grep's way. */
int cli_list_show(const struct cli_api_args *a, const struct cli_list *l);
/* One row by -q or --format (@t); 0 or -errno. */
struct tmpl;
int cli_list_row(struct json_object *o, const struct cli_list *l,
		 const struct tmpl *t, bool quiet);
/* --format parsed for @l, or why not on stderr: 0 or -EINVAL. */
int cli_list_format(const char *cmd, const char *format,
		    const struct cli_list *l, struct tmpl **tp);

/* -j, --api-socket: the API's subcommands without filters. */
extern const struct opt cli_api_opts[];

/* The module's subcommands that take -j alone. */
struct cli_json_args {
	bool json, help;
};
extern const struct opt cli_json_opts[];

int cmd_monitor(int argc, char **argv);
int cmd_sockets(int argc, char **argv);
int cmd_set_timeout(int argc, char **argv);
int cmd_policy(int argc, char **argv);
int cmd_stats(int argc, char **argv);
int cmd_nodes(int argc, char **argv);
int cmd_node(int argc, char **argv);
int cmd_containers(int argc, char **argv);
int cmd_watch(int argc, char **argv);
int cmd_top(int argc, char **argv);
int cmd_version(int argc, char **argv);

/* peerwatchd's control API (api.c); errors are printed for the user. */
int cli_api_get(const char *sock, const char *path, struct json_object **out);
/*
 * GET @path and show the answer: as one line of JSON with @json, else
 * through @print. Returns the exit status, grep's way: 1 for a 404.
 */
int cli_api_show(const char *sock, const char *path, bool json,
		 int (*print)(struct json_object *o));
/*
 * Each line of a chunked answer to @line, until it ends or @stop_fd is
 * readable; first @line(@arg, NULL) when the stream opens. With @quiet, failing to connect is not printed (a retry).
 * 0 when the stream ended, -errno: -ECONNREFUSED, -ENOENT (no agent),
 * -ECONNRESET (it went away), -EIO (it refused the request)...
 */
int cli_api_stream(const char *sock, const char *path, int stop_fd,
		   bool quiet, int (*line)(void *arg, const char *line),
		   void *arg);
/* Appends @v to @q, percent-encoded. */
int cli_api_escape(char *q, size_t size, const char *v);
/* Appends "?k=v" or "&k=v" to @q, @v percent-encoded. */
int cli_api_query(char *q, size_t size, const char *k, const char *v);

/* Tables (table.c): cells are copied; NULL and "" show as "-". */
struct cli_table;
int cli_table_new(struct cli_table **tp, size_t ncols);
int cli_table_add(struct cli_table *t, ...);
void cli_table_print(const struct cli_table *t, FILE *f);
void cli_table_free(struct cli_table *t);
/* A string member of @o, NULL when absent or null. */
const char *cli_json_str(struct json_object *o, const char *key);
/* One /v1/events object as a line of text (watch.c). */
int cli_print_transition(struct json_object *o, FILE *f);
/* How long ago an RFC 3339 UTC time was: "12s", "5m", "3h", "2d". */
void cli_age(const char *iso, char *buf, size_t size);

/* Open the family, or print why not (module not loaded...). */
int cli_nl_open(struct pw_nl *nl);
/* Print "peerwatch: WHAT: strerror (extack message)". */
void cli_nl_error(const struct pw_nl *nl, const char *what, int err);
bool cli_is_help(const char *arg);
/* SIGINT and SIGTERM set cli_stop (not restarting reads: EINTR). */
extern volatile sig_atomic_t cli_stop;
void cli_stop_on_signals(void);

struct cli_addr {
	uint16_t family;
	uint8_t prefix_len;
	uint32_t ifindex;		/* "%DEV" of an endpoint; 0: none */
	union {
		struct in_addr v4;
		struct in6_addr v6;
	} addr;
};

/* "ADDR" or "ADDR/LEN". */
int cli_parse_prefix(const char *s, struct cli_addr *out);
/* A prefix as the module's destination filter; none when @dst has no family. */
void cli_put_dst(struct nlmsghdr *nlh, const struct cli_addr *dst);
/*
 * "ADDR:PORT" or "[ADDR6]:PORT", each address optionally followed by
 * "%DEV" (a device name or index) for a socket bound to that device, as
 * ss and the sockets command print it.
 */
int cli_parse_endpoint(const char *s, struct cli_addr *addr, uint16_t *port);
/* A device name, or an interface index, into an index of this netns. */
int cli_parse_dev(const char *s, uint32_t *ifindex);
int cli_parse_u16(const char *s, uint16_t *out);
int cli_parse_ms(const char *s, uint32_t *ms);

void cli_print_sock(const struct pw_event *ev, bool json);

#endif

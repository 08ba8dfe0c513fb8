/* SPDX-License-Identifier: GPL-2.0 */
#ifndef PEERWATCH_CLI_H
#define PEERWATCH_CLI_H

#include <stdbool.h>
#include <stdint.h>

#include <stddef.h>
#include <stdio.h>
#include <netinet/in.h>
#include <json-c/json.h>

#include "nl.h"
#include "nlevent.h"

extern const char *prog;

/* Exit statuses of every subcommand. */
enum {
	EXIT_OK = 0,
	EXIT_FAIL = 1,		/* the operation failed */
	EXIT_USAGE = 2,		/* bad command line */
};

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

/* peerwatchd's control API (api.c); errors are printed for the user. */
int cli_api_get(const char *sock, const char *path, struct json_object **out);
/*
 * GET @path and show the answer: as one line of JSON with @json, else
 * through @print. Returns the subcommand's exit code.
 */
int cli_api_show(const char *sock, const char *path, bool json,
		 int (*print)(struct json_object *o));
/* Each line of a chunked answer to @line, until it ends or @stop_fd is readable. */
int cli_api_stream(const char *sock, const char *path, int stop_fd,
		   int (*line)(void *arg, const char *line), void *arg);
/* Appends @v to @q, percent-encoded. */
int cli_api_escape(char *q, size_t size, const char *v);
/* Appends "?k=v" or "&k=v" to @q, @v percent-encoded. */
int cli_api_query(char *q, size_t size, const char *k, const char *v);

/* Tables (table.c): cells are copied; NULL shows as "-". */
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

struct cli_addr {
	uint16_t family;
	uint8_t prefix_len;
	union {
		struct in_addr v4;
		struct in6_addr v6;
	} addr;
};

/* "ADDR" or "ADDR/LEN". */
int cli_parse_prefix(const char *s, struct cli_addr *out);
/* "ADDR:PORT" or "[ADDR6]:PORT". */
int cli_parse_endpoint(const char *s, struct cli_addr *addr, uint16_t *port);
int cli_parse_u16(const char *s, uint16_t *out);
int cli_parse_ms(const char *s, uint32_t *ms);

void cli_print_sock(const struct pw_event *ev, bool json);

#endif

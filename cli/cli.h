/* SPDX-License-Identifier: GPL-2.0 */
#ifndef PEERWATCH_CLI_H
#define PEERWATCH_CLI_H

#include <stdbool.h>
#include <stdint.h>

#include <netinet/in.h>

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

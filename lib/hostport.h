/* SPDX-License-Identifier: GPL-2.0 */
#ifndef PEERWATCH_HOSTPORT_H
#define PEERWATCH_HOSTPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/*
 * "host:port", "1.2.3.4:port" or "[v6]:port", port 1..65535. Host names
 * follow RFC 1123 (letters, digits, '-', '.'). Returns 0 or -EINVAL and, on
 * error, a reason in @why.
 */
int hostport_parse(const char *s, char *host, size_t hostlen, uint16_t *port,
		   const char **why);
/*
 * Docker's tcp://HOST:PORT is HOST:PORT: @s past its "tcp://", or @s if it
 * has no scheme. Another scheme (http://, unix://...): NULL, and in @why
 * what to write instead.
 */
const char *hostport_strip_tcp(const char *s, const char **why);
/* Whether @host is an IPv4 or IPv6 literal (no brackets). */
bool host_is_literal(const char *host);
/* The address of literal @host with @port: 0, or -EINVAL for a name. */
int host_sockaddr(const char *host, uint16_t port,
		  struct sockaddr_storage *sa, socklen_t *salen);

/*
 * Orders "host:port" strings as an operator reads them: IPv4 literals
 * numerically (127.1.0.9 before 127.1.0.10), then IPv6 ones, then names
 * alphabetically; the port breaks ties. Bare addresses (no port) too.
 */
int hostport_cmp(const char *a, const char *b);

#endif

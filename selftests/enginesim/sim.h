/* SPDX-License-Identifier: GPL-2.0 */
/* The simulator's shared context: options, the loop, the fleet, counters. */
#ifndef ENGINESIM_SIM_H
#define ENGINESIM_SIM_H

#include <stdint.h>

#include "loop.h"

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

struct conn_ops;
struct fleet;
struct listener;
struct ctl;
struct tls;

/* Request classes, as counted in the "stats" reply. */
enum api_class {
	API_PING,
	API_VERSION,
	API_INFO,
	API_CONTAINERS,
	API_INSPECT,
	API_EVENTS,
	API_NOTFOUND,
	API_BAD,
	API_NR,
};

struct sim_opts {
	unsigned int count;
	uint32_t base;		/* host byte order */
	uint16_t port;
	const char *ctl_path;
	unsigned int containers;
	uint64_t seed;
	uint64_t events_interval_ms;
	int reuseport;
	const char *tls_cert;
	const char *tls_key;
	const char *tls_ca;
	int quiet;
};

struct sim_stats {
	uint64_t accepted;
	uint64_t rejected;	/* outside the fleet, reset or refused */
	uint64_t conns_open;
	uint64_t streams_open;
	uint64_t requests[API_NR];
	uint64_t events_sent;	/* events generated, not copies per stream */
};

struct sim {
	struct sim_opts opts;
	struct loop *loop;
	struct fleet *fleet;
	struct listener *listener;
	struct ctl *ctl;
	struct tls *tls;	/* NULL for plain HTTP */
	const struct conn_ops *conn_ops;
	struct sim_stats stats;
};

void sim_log(const struct sim *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif

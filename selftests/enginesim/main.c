// SPDX-License-Identifier: GPL-2.0
/*
 * enginesim: a simulated fleet of Docker engines (dockerd 20.10.24, API
 * 1.41) for peerwatchd's tests, demo and benchmarks.
 *
 *   enginesim --count N [--base 127.1.0.1] [--port 2375] [--ctl PATH]
 *             [--containers K] [--seed S] [--events-interval DUR]
 *             [--reuseport] [--tls-cert F --tls-key F [--tls-ca F]] [--quiet]
 *   enginesim ctl PATH COMMAND...
 *
 * Engine i (0..N-1) has the IPv4 address base + i, counted as one 32-bit
 * number (127.1.0.255 + 1 = 127.1.1.0; .0 and .255 are ordinary
 * addresses here). One socket listening on 0.0.0.0:PORT serves them all;
 * the engine of a connection is its local address (getsockname), and a
 * connection to any other address is closed at once. On loopback every
 * 127/8 address is local, so no address needs configuring.
 *
 * Each engine's ID, name ("engine-<i>"), NCPU, MemTotal, labels and K
 * containers derive from (seed, address), and the synthetic container
 * events (one every DUR, +-50% jitter, per engine) from the wall clock, so
 * several processes started with the same options and --reuseport answer
 * identically for every engine as long as they receive the same control
 * commands. Use that to stay under the per-process descriptor limit.
 * --events-interval 0 turns the synthetic events off.
 *
 * Served: /_ping (GET, HEAD), /version, /info (chunked), /containers/json
 * (?all=1), /containers/{id|name|prefix}/json (chunked), /events (chunked
 * stream; filters and since/until ignored); /vX.Y/ prefixes accepted;
 * anything else is 404 {"message":"page not found"}. HTTP/1.1 keep-alive,
 * pipelining, Connection: close. Limits: URL 511 bytes (414), headers 8 KiB
 * (431), request body 64 KiB (400).
 *
 * Control socket (--ctl PATH): one command per line, one reply line per
 * command: "ok ..." or "error: <reason>" ("stats" replies with bare JSON).
 * ADDR is an IPv4 address in the fleet, ADDR-ADDR2 a range, or "all".
 *
 *   fault ADDR KIND [ARG]  one fault per engine; a new one replaces it:
 *     freeze               accept and read, never answer (events dropped);
 *                          clearing it answers what was read meanwhile
 *     reset                RST open connections and every new one
 *     refuse               close open and new connections (FIN), no answer
 *     slow BYTES_PER_SEC   responses trickle at that rate
 *     malformed            every answer is an unparseable HTTP response
 *     oversized BYTES      every answer is 200 with a BYTES-long body
 *                          (chunked for /info, inspect and /events)
 *     close-after N        close a connection after its Nth response
 *     id-change            /info reports a new ID (again: another new ID);
 *                          kept alongside the fault kind
 *     BYTES and N take binary suffixes: 64K, 16MiB, 1G.
 *   clear ADDR | clear all lift every fault, restore the original ID
 *   event ADDR start|stop|die|create [NAME]
 *                          emit a container event on the engine's /events
 *                          streams now and change that container's state:
 *                          start -> running; stop -> exited (0), events
 *                          "die" then "stop"; die -> exited (1); create ->
 *                          a new container, "created". Without NAME, start
 *                          picks the first container not running, stop and
 *                          die the first running one, create makes up one
 *   stats                  {"engines","connections","streams","accepted",
 *                          "rejected","requests":{per class},
 *                          "events_sent","faults_active"}
 *
 * "enginesim ctl PATH COMMAND..." sends one command, prints the reply and
 * exits 0, or 1 if the reply is an error or there is none.
 *
 * TLS, as dockerd --tlsverify: --tls-cert and --tls-key make every engine
 * speak HTTPS only (one certificate for all; give it the engines' IP
 * addresses as subjectAltNames for clients that verify them); --tls-ca
 * also requires a client certificate signed by that CA. A plain-HTTP
 * request gets Go's "Client sent an HTTP request to an HTTPS server."
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "ctl.h"
#include "duration.h"
#include "events.h"
#include "sim.h"
#include "sim_api.h"
#include "sim_conn.h"
#include "sim_fleet.h"
#include "sim_http.h"
#include "sim_tls.h"

#define MAX_ENGINES	(1U << 20)
#define MAX_CONTAINERS	256

static const char usage[] =
	"usage: enginesim --count N [--base ADDR] [--port PORT] [--ctl PATH]\n"
	"                 [--containers K] [--seed S] [--events-interval DUR]\n"
	"                 [--reuseport] [--tls-cert F --tls-key F [--tls-ca F]]\n"
	"                 [--quiet]\n"
	"       enginesim ctl PATH COMMAND...\n"
	"\n"
	"  --count N             engines, at ADDR, ADDR+1, ... (required)\n"
	"  --base ADDR           first engine address (127.1.0.1)\n"
	"  --port PORT           TCP port of every engine (2375)\n"
	"  --ctl PATH            control socket (none)\n"
	"  --containers K        containers per engine (5, at most 256)\n"
	"  --seed S              identity seed (1)\n"
	"  --events-interval DUR synthetic event period per engine, e.g.\n"
	"                        500ms, 5s, 2m; 0 for none (5s)\n"
	"  --reuseport           share the port with other enginesim processes\n"
	"  --tls-cert F          serve HTTPS with this certificate (PEM chain)\n"
	"  --tls-key F           and this private key (PEM)\n"
	"  --tls-ca F            require client certificates signed by this CA\n"
	"  --quiet               log errors only\n"
	"\n"
	"control commands (one per line, reply \"ok ...\" or \"error: ...\"):\n"
	"  fault ADDR[-ADDR2]|all freeze|reset|refuse|malformed|id-change\n"
	"  fault ADDR[-ADDR2]|all slow BYTES_PER_SEC | oversized BYTES |\n"
	"                         close-after N\n"
	"  clear ADDR[-ADDR2]|all\n"
	"  event ADDR[-ADDR2]|all start|stop|die|create [NAME]\n"
	"  stats\n";

static int parse_uint(const char *s, unsigned long long max,
		      unsigned long long *out)
{
	unsigned long long v;
	char *end;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || *end || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

static int parse_args(int argc, char **argv, struct sim_opts *o)
{
	enum { O_TLS_CERT = 256, O_TLS_KEY, O_TLS_CA, O_EVENTS };
	static const struct option longopts[] = {
		{ "count", required_argument, NULL, 'n' },
		{ "base", required_argument, NULL, 'b' },
		{ "port", required_argument, NULL, 'p' },
		{ "ctl", required_argument, NULL, 'c' },
		{ "containers", required_argument, NULL, 'k' },
		{ "seed", required_argument, NULL, 's' },
		{ "events-interval", required_argument, NULL, O_EVENTS },
		{ "reuseport", no_argument, NULL, 'r' },
		{ "tls-cert", required_argument, NULL, O_TLS_CERT },
		{ "tls-key", required_argument, NULL, O_TLS_KEY },
		{ "tls-ca", required_argument, NULL, O_TLS_CA },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	unsigned long long v;
	struct in_addr ia;
	int opt;

	o->base = 0x7f010001;
	o->port = 2375;
	o->containers = 5;
	o->seed = 1;
	o->events_interval_ms = 5000;
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (opt) {
		case 'n':
			if (parse_uint(optarg, MAX_ENGINES, &v) || !v)
				goto bad;
			o->count = v;
			break;
		case 'b':
			if (inet_pton(AF_INET, optarg, &ia) != 1)
				goto bad;
			o->base = ntohl(ia.s_addr);
			break;
		case 'p':
			if (parse_uint(optarg, 65535, &v) || !v)
				goto bad;
			o->port = v;
			break;
		case 'c':
			o->ctl_path = optarg;
			break;
		case 'k':
			if (parse_uint(optarg, MAX_CONTAINERS, &v))
				goto bad;
			o->containers = v;
			break;
		case 's':
			if (parse_uint(optarg, ~0ULL, &v))
				goto bad;
			o->seed = v;
			break;
		case O_EVENTS:
			if (duration_parse(optarg, &o->events_interval_ms))
				goto bad;
			break;
		case 'r':
			o->reuseport = 1;
			break;
		case O_TLS_CERT:
			o->tls_cert = optarg;
			break;
		case O_TLS_KEY:
			o->tls_key = optarg;
			break;
		case O_TLS_CA:
			o->tls_ca = optarg;
			break;
		case 'q':
			o->quiet = 1;
			break;
		case 'h':
			fputs(usage, stdout);
			return 1;
		default:
			fputs(usage, stderr);
			return -EINVAL;
		}
	}
	if (optind != argc || !o->count) {
		fputs(usage, stderr);
		return -EINVAL;
	}
	if ((uint64_t)o->base + o->count - 1 > 0xffffffffULL) {
		fprintf(stderr, "enginesim: --base + --count overflows IPv4\n");
		return -EINVAL;
	}
	return 0;
bad:
	fprintf(stderr, "enginesim: invalid value: %s\n", optarg);
	return -EINVAL;
}

/* 2,000 engines x 2 connections fit anywhere; 18,000 need the hard limit. */
static void raise_nofile(const struct sim *s)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl))
		return;
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl))
		sim_log(s, "cannot raise RLIMIT_NOFILE: %s", strerror(errno));
}

/* The layers above a connection: HTTP framing, the API, event streams. */
static const struct conn_ops conn_ops = {
	.opened = http_conn_init,
	.input = api_feed,
	.unsubscribe = events_unsubscribe,
};

struct sigwatch {
	struct loop_io io;
	struct sim *sim;
};

static void on_signal(struct loop_io *io, uint32_t events)
{
	struct sigwatch *sw = container_of(io, struct sigwatch, io);
	struct signalfd_siginfo si;

	(void)events;
	while (read(io->fd, &si, sizeof(si)) == sizeof(si))
		loop_stop(sw->sim->loop);
}

int main(int argc, char **argv)
{
	struct sigwatch sw = { .io.fd = -1 };
	struct sim s = {};
	char first[16], last[16];
	sigset_t mask;
	int err;

	if (argc >= 2 && !strcmp(argv[1], "ctl")) {
		if (argc < 4) {
			fputs(usage, stderr);
			return 2;
		}
		return ctl_client(argv[2], argc - 3, argv + 3) ? 1 : 0;
	}
	err = parse_args(argc, argv, &s.opts);
	if (err)
		return err > 0 ? 0 : 2;
	raise_nofile(&s);
	s.conn_ops = &conn_ops;

	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);

	err = loop_new(&s.loop);
	if (err)
		goto out;
	sw.sim = &s;
	sw.io.fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (sw.io.fd < 0) {
		err = -errno;
		goto err_loop;
	}
	err = loop_io_add(s.loop, &sw.io, sw.io.fd, LOOP_READ, on_signal);
	if (err)
		goto err_signal;
	if (s.opts.tls_cert || s.opts.tls_key || s.opts.tls_ca) {
		err = tls_new(&s.opts, &s.tls);
		if (err)
			goto err_signal;
	}
	err = fleet_new(&s, &s.fleet);
	if (err)
		goto err_tls;
	events_init(s.fleet);
	err = listener_new(&s, &s.listener);
	if (err) {
		fprintf(stderr, "enginesim: port %u: %s\n", s.opts.port,
			strerror(-err));
		goto err_fleet;
	}
	if (s.opts.ctl_path) {
		err = ctl_new(&s, s.opts.ctl_path, &s.ctl);
		if (err) {
			fprintf(stderr, "enginesim: %s: %s\n", s.opts.ctl_path,
				strerror(-err));
			goto err_listener;
		}
	}
	addr_str(s.opts.base, first);
	addr_str(s.opts.base + s.opts.count - 1, last);
	sim_log(&s, "%u engines %s..%s port %u, ctl %s, pid %d", s.opts.count,
		first, last, s.opts.port,
		s.opts.ctl_path ? s.opts.ctl_path : "none", getpid());

	err = loop_run(s.loop);

	ctl_free(s.ctl);
err_listener:
	listener_free(s.listener);
err_fleet:
	fleet_free(s.fleet);
err_tls:
	tls_free(s.tls);
err_signal:
	/* Connections are freed after a pass: run one. */
	loop_run_once(s.loop, 0);
	loop_io_del(s.loop, &sw.io);
	if (sw.io.fd >= 0)
		close(sw.io.fd);
err_loop:
	loop_free(s.loop);
out:
	if (err)
		fprintf(stderr, "enginesim: %s\n", strerror(-err));
	return err ? 1 : 0;
}

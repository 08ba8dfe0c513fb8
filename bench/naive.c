// SPDX-License-Identifier: GPL-2.0
/*
 * naive: the baseline of make bench. The same workload as peerwatchd,
 * written the obvious way: one OS thread per engine connection, blocking
 * sockets, one request at a time.
 *
 *   naive --count N [--base ADDR] [--port PORT] [--interval DUR]
 *         [--interval-max DUR] [--events] [--status-interval DUR]
 *
 * Engine i (0..N-1) is at base + i, as enginesim numbers them. Each engine
 * gets a polling thread: connect, GET /_ping, /version and /info once,
 * as the agent does on each new connection, then GET
 * /containers/json?all=1 on the same keep-alive connection, waiting
 * --interval (or a time drawn from [--interval, --interval-max]) after
 * each answer, as the agent's refresh does; each answer parsed as HTTP (Content-Length or chunked, by
 * http_parser) and its body as JSON (json-c), as the agent does. With
 * --events a second thread per engine follows GET /events, reading the
 * chunked stream forever. A failed connection is retried after a second.
 *
 * Every --status-interval the main thread prints one line:
 *   naive: ms=T threads=N ready=N polls=N errors=N bytes=N
 * ready: engines whose first /containers/json has been parsed; polls:
 * answers parsed. When the last engine becomes ready it prints
 *   naive: all N ready ms=T at=WALL_MS
 * (WALL_MS: CLOCK_REALTIME in ms). If the system refuses a thread, it says so once
 * ("naive: thread N of M: ...") and goes on with those it has: how far
 * thread-per-connection gets is a result. SIGINT/SIGTERM end it.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <http_parser.h>
#include <json-c/json.h>

#include "clock.h"
#include "duration.h"

#define MAX_ENGINES	20000
#define MAX_BODY	(64u << 20)
#define RETRY_MS	1000

struct cfg {
	uint32_t base;		/* host order */
	uint16_t port;
	unsigned int count;
	uint64_t interval_ms;
	uint64_t interval_max_ms;	/* 0: interval_ms */
	uint64_t status_ms;
	bool events;
};

static struct cfg cfg = {
	.port = 2375,
	.interval_ms = 1000,
	.status_ms = 1000,
};

static uint64_t t0_wall;
static atomic_ullong n_threads, n_ready, n_polls, n_errors, n_bytes;

/* One response being read: the body kept only when asked for. */
struct resp {
	http_parser parser;
	char *body;
	size_t len, cap;
	bool keep, done, too_big;
};

static int on_body(http_parser *p, const char *at, size_t len)
{
	struct resp *r = p->data;
	char *nb;

	atomic_fetch_add(&n_bytes, len);
	if (!r->keep)
		return 0;
	if (r->len + len > MAX_BODY) {
		r->too_big = true;
		return 1;
	}
	if (r->len + len + 1 > r->cap) {
		size_t cap = r->cap ? r->cap : 16384;

		while (cap < r->len + len + 1)
			cap *= 2;
		nb = realloc(r->body, cap);
		if (!nb)
			return 1;
		r->body = nb;
		r->cap = cap;
	}
	memcpy(r->body + r->len, at, len);
	r->len += len;
	r->body[r->len] = '\0';
	return 0;
}

static int on_complete(http_parser *p)
{
	((struct resp *)p->data)->done = true;
	http_parser_pause(p, 1);
	return 0;
}

static const http_parser_settings settings = {
	.on_body = on_body,
	.on_message_complete = on_complete,
};

static void sleep_ms(uint64_t ms)
{
	struct timespec ts = {
		.tv_sec = (time_t)(ms / 1000),
		.tv_nsec = (long)(ms % 1000) * 1000000,
	};

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* The connect storm is over: say when, on the wall clock, for the bench. */
static void all_ready(void)
{
	uint64_t now = clock_wall_ms();

	printf("naive: all %u ready ms=%llu at=%llu\n", cfg.count,
	       (unsigned long long)(now - t0_wall), (unsigned long long)now);
	fflush(stdout);
}

static int dial(uint32_t addr)
{
	struct sockaddr_in sa = {
		.sin_family = AF_INET,
		.sin_port = htons(cfg.port),
		.sin_addr.s_addr = htonl(addr),
	};
	int one = 1, fd;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

static int send_all(int fd, const char *buf, size_t len)
{
	ssize_t n;

	while (len) {
		n = send(fd, buf, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -EIO;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * Read one response on a blocking socket. Bytes after it (there are none:
 * one request at a time) would be an error. Returns the status code, or a
 * negative errno.
 */
static int read_resp(int fd, struct resp *r)
{
	char buf[16384];
	size_t used;
	ssize_t n;

	r->len = 0;
	r->done = r->too_big = false;
	http_parser_init(&r->parser, HTTP_RESPONSE);
	r->parser.data = r;
	while (!r->done) {
		n = recv(fd, buf, sizeof(buf), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n ? -errno : -ECONNRESET;
		used = http_parser_execute(&r->parser, &settings, buf,
					   (size_t)n);
		if (r->done && used == (size_t)n)
			break;
		if (used != (size_t)n || HTTP_PARSER_ERRNO(&r->parser))
			return -EPROTO;
	}
	return (int)r->parser.status_code;
}

static int request(int fd, const char *host, const char *path,
		   struct resp *r)
{
	char req[256];
	int n;

	n = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: %s\r\n"
		     "User-Agent: naive\r\n\r\n", path, host);
	if (send_all(fd, req, (size_t)n))
		return -EIO;
	return read_resp(fd, r);
}

/* As the agent does with each answer: parse it, count the containers. */
static int parse_containers(struct resp *r)
{
	struct json_object *o;
	int ok;

	o = json_tokener_parse(r->body ? r->body : "");
	ok = o && json_object_is_type(o, json_type_array);
	json_object_put(o);
	return ok ? 0 : -EPROTO;
}

/* The next wait, uniform in [interval, interval-max], as the agent draws. */
static uint64_t next_wait(unsigned int *seed)
{
	uint64_t span = cfg.interval_max_ms - cfg.interval_ms;

	if (!span)
		return cfg.interval_ms;
	return cfg.interval_ms + (uint64_t)rand_r(seed) % (span + 1);
}

static void poller(uint32_t addr, const char *host)
{
	unsigned int seed = addr ^ (unsigned int)clock_wall_ms();
	struct resp r = { .keep = true };
	bool ready = false;
	int fd;

	for (;;) {
		fd = dial(addr);
		if (fd < 0)
			goto retry;
		/* What the agent asks first, in Swarm's order. */
		if (request(fd, host, "/_ping", &r) != 200 ||
		    request(fd, host, "/version", &r) != 200 ||
		    request(fd, host, "/info", &r) != 200)
			goto fail;
		for (;;) {
			if (request(fd, host, "/containers/json?all=1", &r) !=
			    200 || parse_containers(&r))
				goto fail;
			atomic_fetch_add(&n_polls, 1);
			if (!ready) {
				ready = true;
				if (atomic_fetch_add(&n_ready, 1) + 1 == cfg.count)
					all_ready();
			}
			sleep_ms(next_wait(&seed));
		}
fail:
		close(fd);
retry:
		atomic_fetch_add(&n_errors, 1);
		sleep_ms(RETRY_MS);
	}
}

static void follower(uint32_t addr, const char *host)
{
	struct resp r = { .keep = false };
	int fd;

	for (;;) {
		fd = dial(addr);
		if (fd >= 0) {
			/* Returns only when the stream breaks. */
			request(fd, host, "/events", &r);
			close(fd);
		}
		atomic_fetch_add(&n_errors, 1);
		sleep_ms(RETRY_MS);
	}
}

/* The thread's argument: engine index * 2, + 1 for its /events thread. */
static void *thread_main(void *arg)
{
	uintptr_t v = (uintptr_t)arg;
	uint32_t addr = cfg.base + (uint32_t)(v / 2);
	struct in_addr in = { .s_addr = htonl(addr) };
	char host[INET_ADDRSTRLEN + 8];
	char ip[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &in, ip, sizeof(ip));
	snprintf(host, sizeof(host), "%s:%u", ip, cfg.port);
	if (v & 1)
		follower(addr, host);
	else
		poller(addr, host);
	return NULL;
}

static void usage(FILE *f)
{
	fprintf(f,
"usage: naive --count N [--base ADDR] [--port PORT] [--interval DUR]\n"
"             [--interval-max DUR] [--events] [--status-interval DUR]\n"
"\n"
"  --count N               engines, at ADDR, ADDR+1, ... (1..%d)\n"
"  --base ADDR             first engine address (127.1.0.1)\n"
"  --port PORT             TCP port of every engine (2375)\n"
"  --interval DUR          wait between an engine's /containers/json\n"
"                          (1s; 100ms..1h)\n"
"  --interval-max DUR      wait drawn uniformly from [--interval, this]\n"
"                          after each answer (--interval)\n"
"  --events                a second thread per engine follows /events\n"
"  --status-interval DUR   status line period (1s; 100ms..1m)\n",
		MAX_ENGINES);
}

static int parse_args(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "count", required_argument, NULL, 'c' },
		{ "base", required_argument, NULL, 'b' },
		{ "port", required_argument, NULL, 'p' },
		{ "interval", required_argument, NULL, 'i' },
		{ "interval-max", required_argument, NULL, 'm' },
		{ "events", no_argument, NULL, 'e' },
		{ "status-interval", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	const char *base = "127.1.0.1";
	struct in_addr in;
	unsigned long v;
	char *end;
	int c;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			errno = 0;
			v = strtoul(optarg, &end, 10);
			if (errno || *end || end == optarg || v < 1 ||
			    v > MAX_ENGINES) {
				fprintf(stderr, "naive: --count: 1..%d, not '%s'\n",
					MAX_ENGINES, optarg);
				return -1;
			}
			cfg.count = (unsigned int)v;
			break;
		case 'b':
			base = optarg;
			break;
		case 'p':
			errno = 0;
			v = strtoul(optarg, &end, 10);
			if (errno || *end || end == optarg || !v || v > 65535) {
				fprintf(stderr, "naive: --port: 1..65535, not '%s'\n",
					optarg);
				return -1;
			}
			cfg.port = (uint16_t)v;
			break;
		case 'i':
			if (duration_parse(optarg, &cfg.interval_ms) ||
			    cfg.interval_ms < 100 || cfg.interval_ms > 3600000) {
				fprintf(stderr, "naive: --interval: 100ms..1h, not '%s'\n",
					optarg);
				return -1;
			}
			break;
		case 'm':
			if (duration_parse(optarg, &cfg.interval_max_ms) ||
			    cfg.interval_max_ms < 100 ||
			    cfg.interval_max_ms > 3600000) {
				fprintf(stderr, "naive: --interval-max: 100ms..1h, not '%s'\n",
					optarg);
				return -1;
			}
			break;
		case 'e':
			cfg.events = true;
			break;
		case 's':
			if (duration_parse(optarg, &cfg.status_ms) ||
			    cfg.status_ms < 100 || cfg.status_ms > 60000) {
				fprintf(stderr, "naive: --status-interval: 100ms..1m, not '%s'\n",
					optarg);
				return -1;
			}
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -1;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "naive: unexpected argument '%s'\n", argv[optind]);
		return -1;
	}
	if (!cfg.count) {
		fprintf(stderr, "naive: --count is required\n");
		return -1;
	}
	if (!cfg.interval_max_ms)
		cfg.interval_max_ms = cfg.interval_ms;
	if (cfg.interval_max_ms < cfg.interval_ms) {
		fprintf(stderr, "naive: --interval-max is below --interval\n");
		return -1;
	}
	if (inet_pton(AF_INET, base, &in) != 1) {
		fprintf(stderr, "naive: --base: not an IPv4 address: '%s'\n", base);
		return -1;
	}
	cfg.base = ntohl(in.s_addr);
	if ((uint64_t)cfg.base + cfg.count - 1 > UINT32_MAX) {
		fprintf(stderr, "naive: --base + --count passes 255.255.255.255\n");
		return -1;
	}
	return 0;
}

static void status(uint64_t t0)
{
	printf("naive: ms=%llu threads=%llu ready=%llu polls=%llu errors=%llu bytes=%llu\n",
	       (unsigned long long)(clock_mono_ms() - t0),
	       (unsigned long long)atomic_load(&n_threads),
	       (unsigned long long)atomic_load(&n_ready),
	       (unsigned long long)atomic_load(&n_polls),
	       (unsigned long long)atomic_load(&n_errors),
	       (unsigned long long)atomic_load(&n_bytes));
	fflush(stdout);
}

int main(int argc, char **argv)
{
	unsigned int per = 1, i, want;
	struct timespec ts;
	uint64_t t0;
	sigset_t set;
	pthread_t t;
	int err, sig;

	if (parse_args(argc, argv))
		return 2;
	/* Signals go to the main thread only: block them before any thread. */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);

	t0 = clock_mono_ms();
	t0_wall = clock_wall_ms();
	if (cfg.events)
		per = 2;
	want = cfg.count * per;
	for (i = 0; i < want; i++) {
		/* Default attributes: the stack size a naive program gets. */
		err = pthread_create(&t, NULL, thread_main,
				     (void *)(uintptr_t)(per == 2 ? i : i * 2));
		if (err) {
			printf("naive: thread %u of %u: %s\n", i + 1, want,
			       strerror(err));
			fflush(stdout);
			break;
		}
		pthread_detach(t);
		atomic_fetch_add(&n_threads, 1);
	}

	ts.tv_sec = (time_t)(cfg.status_ms / 1000);
	ts.tv_nsec = (long)(cfg.status_ms % 1000) * 1000000;
	for (;;) {
		status(t0);
		sig = sigtimedwait(&set, NULL, &ts);
		if (sig == SIGINT || sig == SIGTERM)
			break;
	}
	status(t0);
	/* exit() ends every thread; their sockets close with the process. */
	return 0;
}

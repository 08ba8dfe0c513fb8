// SPDX-License-Identifier: GPL-2.0
/*
 * Flags, with Swarm's names where Swarm had one and Go-style durations.
 * Every value is bounded: a typo must fail at start, not at 3 a.m.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backoff.h"
#include "config.h"
#include "duration.h"
#include "hostport.h"
#include "size.h"

enum {
	OPT_REFRESH_MIN = 256,
	OPT_REFRESH_MAX,
	OPT_INFO_INTERVAL,
	OPT_FAILURE_RETRY,
	OPT_REQUEST_TIMEOUT,
	OPT_USER_TIMEOUT,
	OPT_KEEPALIVE_IDLE,
	OPT_KEEPALIVE_INTERVAL,
	OPT_KEEPALIVE_COUNT,
	OPT_BACKOFF_MAX,
	OPT_EVENTS,
	OPT_NO_EVENTS,
	OPT_DISCOVERY_INTERVAL,
	OPT_MAX_BODY,
	OPT_ENGINE,
	OPT_STATE_FILE,
	OPT_SUMMARY_INTERVAL,
	OPT_TLS,
	OPT_TLSVERIFY,
	OPT_TLSCACERT,
	OPT_TLSCERT,
	OPT_TLSKEY,
	OPT_API_SOCKET,
	OPT_API_LISTEN,
	OPT_API_LISTEN_ANY,
	OPT_NO_DOCKER_API,
	OPT_API_MAX_CLIENTS,
	OPT_KERNEL_POLICY,
	OPT_LATE_PING,
	OPT_PING_INTERVAL,
	OPT_PING_TIMEOUT,
	OPT_KERNEL_RCVBUF,
	OPT_CLUSTER,
	OPT_CLUSTER_NAME,
	OPT_CLUSTER_TTL,
	OPT_CLUSTER_REPLICAS,
	OPT_ETCD_CACERT,
	OPT_ETCD_CERT,
	OPT_ETCD_KEY,
};

static const struct option options[] = {
	{ "engine-refresh-min-interval", required_argument, NULL, OPT_REFRESH_MIN },
	{ "engine-refresh-max-interval", required_argument, NULL, OPT_REFRESH_MAX },
	{ "engine-info-interval", required_argument, NULL, OPT_INFO_INTERVAL },
	{ "engine-failure-retry", required_argument, NULL, OPT_FAILURE_RETRY },
	{ "request-timeout", required_argument, NULL, OPT_REQUEST_TIMEOUT },
	{ "user-timeout", required_argument, NULL, OPT_USER_TIMEOUT },
	{ "keepalive-idle", required_argument, NULL, OPT_KEEPALIVE_IDLE },
	{ "keepalive-interval", required_argument, NULL, OPT_KEEPALIVE_INTERVAL },
	{ "keepalive-count", required_argument, NULL, OPT_KEEPALIVE_COUNT },
	{ "backoff-max", required_argument, NULL, OPT_BACKOFF_MAX },
	{ "events", no_argument, NULL, OPT_EVENTS },
	{ "no-events", no_argument, NULL, OPT_NO_EVENTS },
	{ "discovery-interval", required_argument, NULL, OPT_DISCOVERY_INTERVAL },
	{ "max-body", required_argument, NULL, OPT_MAX_BODY },
	{ "engine", required_argument, NULL, OPT_ENGINE },
	{ "state-file", required_argument, NULL, OPT_STATE_FILE },
	{ "summary-interval", required_argument, NULL, OPT_SUMMARY_INTERVAL },
	{ "tls", no_argument, NULL, OPT_TLS },
	{ "tlsverify", optional_argument, NULL, OPT_TLSVERIFY },
	{ "tlscacert", required_argument, NULL, OPT_TLSCACERT },
	{ "tlscert", required_argument, NULL, OPT_TLSCERT },
	{ "tlskey", required_argument, NULL, OPT_TLSKEY },
	{ "api-socket", required_argument, NULL, OPT_API_SOCKET },
	{ "api-listen", required_argument, NULL, OPT_API_LISTEN },
	{ "api-listen-any", no_argument, NULL, OPT_API_LISTEN_ANY },
	{ "no-docker-api", no_argument, NULL, OPT_NO_DOCKER_API },
	{ "api-max-clients", required_argument, NULL, OPT_API_MAX_CLIENTS },
	{ "kernel-policy", no_argument, NULL, OPT_KERNEL_POLICY },
	{ "late-ping", required_argument, NULL, OPT_LATE_PING },
	{ "ping-interval", required_argument, NULL, OPT_PING_INTERVAL },
	{ "ping-timeout", required_argument, NULL, OPT_PING_TIMEOUT },
	{ "kernel-rcvbuf", required_argument, NULL, OPT_KERNEL_RCVBUF },
	{ "cluster", required_argument, NULL, OPT_CLUSTER },
	{ "cluster-name", required_argument, NULL, OPT_CLUSTER_NAME },
	{ "cluster-ttl", required_argument, NULL, OPT_CLUSTER_TTL },
	{ "cluster-replicas", required_argument, NULL, OPT_CLUSTER_REPLICAS },
	{ "etcd-cacert", required_argument, NULL, OPT_ETCD_CACERT },
	{ "etcd-cert", required_argument, NULL, OPT_ETCD_CERT },
	{ "etcd-key", required_argument, NULL, OPT_ETCD_KEY },
	{ "verbose", no_argument, NULL, 'v' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

#define SEC	1000ULL
#define MIN	(60 * SEC)
#define HOUR	(60 * MIN)

void config_usage(FILE *f)
{
	fprintf(f,
"Usage: peerwatchd [OPTIONS] [nodes://HOST:PORT,... | file://PATH]\n"
"\n"
"Watches Docker engines over one event loop and marks them pending,\n"
"healthy, unhealthy or down. Durations are Go-style (500ms, 10s, 2m).\n"
"\n"
"  --engine HOST:PORT                 an engine (repeatable), with or\n"
"                                     instead of the discovery URL\n"
"  --engine-refresh-min-interval DUR  container refresh, lower bound (30s)\n"
"  --engine-refresh-max-interval DUR  container refresh, upper bound (60s)\n"
"  --engine-info-interval DUR         /info and /version again (5m)\n"
"  --engine-failure-retry N           failures in a row before unhealthy (3)\n"
"  --request-timeout DUR              deadline of every request (10s)\n"
"  --late-ping DUR                    an answer this late gets a /_ping\n"
"                                     pipelined behind its request, so that\n"
"                                     a lost answer shows as retransmission\n"
"                                     (suspect); 0: never (250ms)\n"
"  --ping-interval DUR                /_ping on a polling connection idle\n"
"                                     this long; no answer within\n"
"                                     --ping-timeout fails like a\n"
"                                     refresh (ping-timeout); 0: never (5s).\n"
"                                     A frozen engine is unhealthy within\n"
"                                     ping-interval + ping-timeout x\n"
"                                     failure-retry + 0.75s of backoff\n"
"                                     (3 tries; 5s + 3s x 3: ~15s)\n"
"  --ping-timeout DUR                 deadline of every /_ping, at most\n"
"                                     --request-timeout (3s)\n"
"  --user-timeout DUR                 TCP_USER_TIMEOUT of each socket (20s)\n"
"  --keepalive-idle DUR               TCP_KEEPIDLE, whole seconds (10s)\n"
"  --keepalive-interval DUR           TCP_KEEPINTVL, whole seconds (1s)\n"
"  --keepalive-count N                TCP_KEEPCNT (3)\n"
"  --backoff-max DUR                  cap of reconnect backoff (60s)\n"
"  --events, --no-events              follow each engine's /events (on)\n"
"  --discovery-interval DUR           re-read discovery; 0: SIGHUP only (60s)\n"
"  --max-body SIZE                    largest response body (64MiB)\n"
"  --state-file PATH                  JSON state written on SIGUSR1\n"
"                                     (" CONFIG_DEFAULT_STATE_FILE ")\n"
"  --summary-interval DUR             summary line on stderr; 0: none (10s)\n"
"  --tls                              TLS to every engine, verified unless\n"
"                                     --tlsverify=false\n"
"  --tlsverify[=BOOL]                 TLS, and verify the engines (true)\n"
"  --tlscacert FILE                   CA of the engines ($DOCKER_CERT_PATH/ca.pem)\n"
"  --tlscert FILE, --tlskey FILE      our client certificate and key\n"
"                                     ($DOCKER_CERT_PATH/{cert,key}.pem if there)\n"
"  --api-socket PATH                  control API socket, mode 0660; \"\": none\n"
"                                     (" API_DEFAULT_SOCKET ")\n"
"  --api-listen ADDR:PORT             control API on TCP too, loopback only\n"
"  --api-listen-any                   allow a non-loopback --api-listen\n"
"                                     (the API has no authentication)\n"
"  --no-docker-api                    do not serve the Docker Engine API on\n"
"                                     the API sockets (docker inspect there\n"
"                                     shows every container's environment)\n"
"  --api-max-clients N                control API clients at once (256)\n"
"  --kernel-policy                    peerwatch.ko gives every connection to\n"
"                                     the engines' ports --user-timeout\n"
"  --kernel-rcvbuf SIZE               receive buffer for the module's events\n"
"                                     (8MiB; smaller loses events sooner)\n"
"  --cluster etcd://H:P[,H:P...][/PREFIX]\n"
"                                     share the fleet with the other agents\n"
"                                     of PREFIX (" CLUSTER_DEFAULT_PREFIX ") through etcd v3\n"
"  --cluster-name NAME                this agent's name there (host name)\n"
"  --cluster-ttl DUR                  lease TTL: a dead agent's engines are\n"
"                                     taken over within 2 x TTL (10s)\n"
"  --cluster-replicas N               agents watching each engine (1)\n"
"  --etcd-cacert FILE, --etcd-cert FILE, --etcd-key FILE\n"
"                                     etcd over TLS ($ETCDCTL_CACERT,\n"
"                                     $ETCDCTL_CERT, $ETCDCTL_KEY)\n"
"  -v, --verbose / -q, --quiet        more / less logging\n"
"  -h, --help\n"
"\n"
"DOCKER_CERT_PATH defaults to ~/.docker; a non-empty DOCKER_TLS_VERIFY\n"
"turns on --tlsverify, as with the docker CLI.\n"
"\n"
"Signals: SIGHUP re-reads discovery, SIGUSR1 writes the state file,\n"
"SIGINT/SIGTERM stop.\n");
}

static int fail(char *err, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static int get_duration(const char *name, const char *arg, uint64_t min,
			uint64_t max, uint64_t *out, char *err, size_t len)
{
	char lo[32], hi[32];

	duration_format(min, lo, sizeof(lo));
	duration_format(max, hi, sizeof(hi));
	if (duration_parse(arg, out))
		return fail(err, len, "--%s: '%s' is not a duration (e.g. 500ms, 10s, 2m)",
			    name, arg);
	if (*out < min || *out > max)
		return fail(err, len, "--%s: %s is out of range [%s, %s]",
			    name, arg, lo, hi);
	return 0;
}

static int get_uint(const char *name, const char *arg, unsigned long min,
		    unsigned long max, unsigned int *out, char *err, size_t len)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = strtoul(arg, &end, 10);
	if (errno || end == arg || *end || *arg == '-' || v < min || v > max)
		return fail(err, len, "--%s: '%s' is not an integer in [%lu, %lu]",
			    name, arg, min, max);
	*out = (unsigned int)v;
	return 0;
}

static void set_defaults(struct config *c)
{
	memset(c, 0, sizeof(*c));
	c->engine.refresh_min_ms = 30 * SEC;
	c->engine.refresh_max_ms = 60 * SEC;
	c->engine.info_interval_ms = 5 * MIN;
	c->engine.failure_retry = 3;
	c->engine.request_timeout_ms = 10 * SEC;
	/* With an RTO of 200 ms and more, a lost answer is suspect in < 1 s. */
	c->engine.late_ping_ms = 250;
	/* Idle polling connections answer a ping: a frozen engine shows. */
	c->engine.ping_interval_ms = 5 * SEC;
	/*
	 * dockerd answers /_ping from memory, touching no container: a
	 * short deadline there, not that of /containers/json, bounds a
	 * frozen engine.
	 */
	c->engine.ping_timeout_ms = 3 * SEC;
	c->engine.backoff_max_ms = 60 * SEC;
	c->engine.max_body = 64ULL << 20;
	c->engine.events = true;
	c->engine.conn.user_timeout_ms = 20 * SEC;
	c->engine.conn.keepidle_s = 10;
	/*
	 * Probes go out only on a silent connection: a short interval costs
	 * nothing while the peer answers, and bounds detection on an idle
	 * connection to the user timeout + 1 s.
	 */
	c->engine.conn.keepintvl_s = 1;
	c->engine.conn.keepcnt = 3;
	c->discovery_interval_ms = 60 * SEC;
	c->summary_interval_ms = 10 * SEC;
	c->state_file = CONFIG_DEFAULT_STATE_FILE;
	c->api.socket = API_DEFAULT_SOCKET;
	c->api.max_clients = 256;
	c->kernel_rcvbuf = 8 << 20;
	c->log_level = LOG_INFO;
	c->tlsverify = -1;
	c->cluster.ttl_ms = 10 * SEC;
	c->cluster.replicas = 1;
}

/* Keepalive takes whole seconds: round up, never to 0. */
static uint32_t to_seconds(uint64_t ms)
{
	return (uint32_t)((ms + 999) / 1000);
}

static int set_path(char **dst, const char *name, const char *arg, char *err,
		    size_t len)
{
	if (!*arg)
		return fail(err, len, "--%s: empty path", name);
	free(*dst);
	*dst = strdup(arg);
	return *dst ? 0 : fail(err, len, "out of memory");
}

/* A file of DOCKER_CERT_PATH, or NULL if @must is false and it is not there. */
static int cert_path_file(char **dst, const char *dir, const char *file,
			  bool must)
{
	if (*dst)
		return 0;
	if (asprintf(dst, "%s/%s", dir, file) < 0) {
		*dst = NULL;
		return -ENOMEM;
	}
	if (!must && access(*dst, F_OK)) {
		free(*dst);
		*dst = NULL;
	}
	return 0;
}

/*
 * As the docker CLI: --tlsverify given (true or false) or DOCKER_TLS_VERIFY
 * set to anything turns TLS on; files default to DOCKER_CERT_PATH, else
 * DOCKER_CONFIG, else ~/.docker, the client pair only if it is there.
 * Unlike the docker CLI, --tls alone verifies too.
 */
static int resolve_tls(struct config *c, char *err, size_t len)
{
	struct tls_cfg *t = &c->engine.tls;
	const char *env_verify = getenv("DOCKER_TLS_VERIFY");
	const char *dir = getenv("DOCKER_CERT_PATH");
	const char *home = getenv("HOME");
	char *fallback = NULL;
	int ret;

	if (c->tlsverify >= 0 || (env_verify && *env_verify))
		t->enable = true;
	if (!t->enable)
		return 0;
	t->verify = c->tlsverify != 0;
	if (!dir || !*dir)
		dir = getenv("DOCKER_CONFIG");
	if (!dir || !*dir) {
		if (asprintf(&fallback, "%s/.docker", home ? home : "") < 0)
			return fail(err, len, "out of memory");
		dir = fallback;
	}
	ret = cert_path_file(&t->ca, dir, "ca.pem", t->verify);
	if (!ret)
		ret = cert_path_file(&t->cert, dir, "cert.pem", false);
	if (!ret)
		ret = cert_path_file(&t->key, dir, "key.pem", false);
	free(fallback);
	return ret ? fail(err, len, "out of memory") : 0;
}

static int parse_one(struct config *c, int opt, const char *arg, char *err,
		     size_t len)
{
	struct engine_cfg *e = &c->engine;
	uint64_t v, bytes;
	char **engines, host[256];
	const char *why;
	uint16_t port;
	int ret = 0;

	switch (opt) {
	case OPT_REFRESH_MIN:
		return get_duration("engine-refresh-min-interval", arg, 100,
				    24 * HOUR, &e->refresh_min_ms, err, len);
	case OPT_REFRESH_MAX:
		return get_duration("engine-refresh-max-interval", arg, 100,
				    24 * HOUR, &e->refresh_max_ms, err, len);
	case OPT_INFO_INTERVAL:
		return get_duration("engine-info-interval", arg, SEC, 24 * HOUR,
				    &e->info_interval_ms, err, len);
	case OPT_FAILURE_RETRY:
		return get_uint("engine-failure-retry", arg, 1, 1000,
				&e->failure_retry, err, len);
	case OPT_REQUEST_TIMEOUT:
		return get_duration("request-timeout", arg, 100, 10 * MIN,
				    &e->request_timeout_ms, err, len);
	case OPT_USER_TIMEOUT:
		ret = get_duration("user-timeout", arg, 100, HOUR, &v, err, len);
		e->conn.user_timeout_ms = (uint32_t)v;
		return ret;
	case OPT_KEEPALIVE_IDLE:
		ret = get_duration("keepalive-idle", arg, SEC, 2 * HOUR, &v, err,
				   len);
		e->conn.keepidle_s = to_seconds(v);
		return ret;
	case OPT_KEEPALIVE_INTERVAL:
		ret = get_duration("keepalive-interval", arg, SEC, 10 * MIN, &v,
				   err, len);
		e->conn.keepintvl_s = to_seconds(v);
		return ret;
	case OPT_KEEPALIVE_COUNT:
		return get_uint("keepalive-count", arg, 1, 127, &e->conn.keepcnt,
				err, len);
	case OPT_BACKOFF_MAX:
		return get_duration("backoff-max", arg, BACKOFF_BASE_MS, HOUR,
				    &e->backoff_max_ms, err, len);
	case OPT_EVENTS:
		e->events = true;
		return 0;
	case OPT_NO_EVENTS:
		e->events = false;
		return 0;
	case OPT_KERNEL_POLICY:
		c->kernel_policy = true;
		return 0;
	case OPT_LATE_PING:
		ret = get_duration("late-ping", arg, 0, 10 * MIN,
				   &e->late_ping_ms, err, len);
		if (!ret && e->late_ping_ms && e->late_ping_ms < 10)
			return fail(err, len, "--late-ping: 0 or at least 10ms");
		return ret;
	case OPT_PING_INTERVAL:
		ret = get_duration("ping-interval", arg, 0, HOUR,
				   &e->ping_interval_ms, err, len);
		if (!ret && e->ping_interval_ms && e->ping_interval_ms < 100)
			return fail(err, len, "--ping-interval: 0 or at least 100ms");
		return ret;
	case OPT_PING_TIMEOUT:
		return get_duration("ping-timeout", arg, 100, 10 * MIN,
				    &e->ping_timeout_ms, err, len);
	case OPT_KERNEL_RCVBUF:
		if (size_parse(arg, &bytes) || bytes < 4096 || bytes > (1ULL << 30))
			return fail(err, len, "--kernel-rcvbuf: '%s' is not a size in [4KiB, 1GiB]",
				    arg);
		c->kernel_rcvbuf = (uint32_t)bytes;
		return 0;
	case OPT_DISCOVERY_INTERVAL:
		ret = get_duration("discovery-interval", arg, 0, 24 * HOUR,
				   &c->discovery_interval_ms, err, len);
		if (!ret && c->discovery_interval_ms &&
		    c->discovery_interval_ms < SEC)
			return fail(err, len, "--discovery-interval: 0 or at least 1s");
		return ret;
	case OPT_SUMMARY_INTERVAL:
		ret = get_duration("summary-interval", arg, 0, 24 * HOUR,
				   &c->summary_interval_ms, err, len);
		if (!ret && c->summary_interval_ms &&
		    c->summary_interval_ms < 100)
			return fail(err, len, "--summary-interval: 0 or at least 100ms");
		return ret;
	case OPT_MAX_BODY:
		if (size_parse(arg, &bytes) || bytes < 4096 || bytes > (1ULL << 30))
			return fail(err, len, "--max-body: '%s' is not a size in [4KiB, 1GiB]",
				    arg);
		e->max_body = bytes;
		return 0;
	case OPT_ENGINE:
		if (hostport_parse(arg, host, sizeof(host), &port, &why))
			return fail(err, len, "--engine '%s': %s", arg, why);
		engines = realloc(c->engines, (c->nengines + 1) * sizeof(*engines));
		if (!engines)
			return fail(err, len, "out of memory");
		c->engines = engines;
		c->engines[c->nengines++] = (char *)arg;
		return 0;
	case OPT_STATE_FILE:
		if (!*arg)
			return fail(err, len, "--state-file: empty path");
		c->state_file = arg;
		return 0;
	case OPT_API_SOCKET:
		c->api.socket = *arg ? arg : NULL;
		return 0;
	case OPT_API_LISTEN:
		c->api.listen = arg;
		return 0;
	case OPT_API_LISTEN_ANY:
		c->api.listen_any = true;
		return 0;
	case OPT_NO_DOCKER_API:
		c->api.no_docker = true;
		return 0;
	case OPT_API_MAX_CLIENTS:
		return get_uint("api-max-clients", arg, 1, 10000,
				&c->api.max_clients, err, len);
	case OPT_TLS:
		c->engine.tls.enable = true;
		return 0;
	case OPT_TLSVERIFY:
		if (!arg || !strcmp(arg, "true") || !strcmp(arg, "1"))
			c->tlsverify = 1;
		else if (!strcmp(arg, "false") || !strcmp(arg, "0"))
			c->tlsverify = 0;
		else
			return fail(err, len, "--tlsverify: '%s' is not true or false",
				    arg);
		return 0;
	case OPT_TLSCACERT:
		return set_path(&c->engine.tls.ca, "tlscacert", arg, err, len);
	case OPT_TLSCERT:
		return set_path(&c->engine.tls.cert, "tlscert", arg, err, len);
	case OPT_TLSKEY:
		return set_path(&c->engine.tls.key, "tlskey", arg, err, len);
	case OPT_CLUSTER:
		c->cluster.url = arg;
		return 0;
	case OPT_CLUSTER_NAME:
		c->cluster.name = arg;
		return 0;
	case OPT_CLUSTER_TTL:
		return get_duration("cluster-ttl", arg, 2 * SEC, 10 * MIN,
				    &c->cluster.ttl_ms, err, len);
	case OPT_CLUSTER_REPLICAS:
		return get_uint("cluster-replicas", arg, 1, 8,
				&c->cluster.replicas, err, len);
	case OPT_ETCD_CACERT:
		return set_path(&c->cluster.cacert, "etcd-cacert", arg, err, len);
	case OPT_ETCD_CERT:
		return set_path(&c->cluster.cert, "etcd-cert", arg, err, len);
	case OPT_ETCD_KEY:
		return set_path(&c->cluster.key, "etcd-key", arg, err, len);
	case 'v':
		c->log_level = LOG_DEBUG;
		return 0;
	case 'q':
		c->log_level = LOG_WARN;
		return 0;
	case 'h':
		c->help = true;
		return 0;
	default:
		return fail(err, len, "unknown option (see --help)");
	}
}

/* etcdctl's environment, for what the flags left unset. */
static int resolve_cluster(struct cluster_cfg *cl, char *err, size_t len)
{
	static const struct {
		const char *env, *flag;
		size_t off;
	} files[] = {
		{ "ETCDCTL_CACERT", "etcd-cacert", offsetof(struct cluster_cfg, cacert) },
		{ "ETCDCTL_CERT", "etcd-cert", offsetof(struct cluster_cfg, cert) },
		{ "ETCDCTL_KEY", "etcd-key", offsetof(struct cluster_cfg, key) },
	};
	const char *why, *v;
	unsigned int i;
	int ret;

	if (!cl->url)
		return 0;
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		char **dst = (char **)((char *)cl + files[i].off);

		v = getenv(files[i].env);
		if (*dst || !v || !*v)
			continue;
		ret = set_path(dst, files[i].flag, v, err, len);
		if (ret)
			return ret;
	}
	if (!cl->cert != !cl->key)
		return fail(err, len, "--etcd-cert and --etcd-key go together");
	if (cluster_check(cl, &why))
		return fail(err, len, "%s", why);
	return 0;
}

/* After every flag: --api-listen-any may come after --api-listen. */
static int check_api_listen(const struct config *c, char *err, size_t len)
{
	struct sockaddr_storage ss;
	const char *why;
	socklen_t sslen;

	if (c->api.listen && api_listen_addr(c->api.listen, c->api.listen_any,
					     &ss, &sslen, &why))
		return fail(err, len, "--api-listen '%s': %s", c->api.listen,
			    why);
	return 0;
}

int config_parse(struct config *c, int argc, char **argv, char *err,
		 size_t errlen)
{
	int opt, ret;

	set_defaults(c);
	opterr = 0;
	optind = 1;
	while ((opt = getopt_long(argc, argv, ":vqh", options, NULL)) != -1) {
		if (opt == '?')
			return fail(err, errlen, "unknown option '%s' (see --help)",
				    argv[optind - 1]);
		if (opt == ':')
			return fail(err, errlen, "option '%s' needs a value",
				    argv[optind - 1]);
		ret = parse_one(c, opt, optarg, err, errlen);
		if (ret)
			return ret;
	}
	if (c->help)
		return 0;
	if (optind < argc)
		c->url = argv[optind++];
	if (optind < argc)
		return fail(err, errlen, "one discovery URL only, got '%s' too",
			    argv[optind]);
	if (c->url && strncmp(c->url, "nodes://", 8) &&
	    strncmp(c->url, "file://", 7))
		return fail(err, errlen,
			    "'%s': the discovery URL must be nodes://HOST:PORT,... or file://PATH",
			    c->url);
	if (!c->nengines && !c->url)
		return fail(err, errlen, "no engines: give a discovery URL or --engine");
	if (c->engine.refresh_max_ms < c->engine.refresh_min_ms)
		return fail(err, errlen,
			    "--engine-refresh-max-interval is below --engine-refresh-min-interval");
	ret = resolve_tls(c, err, errlen);
	if (!ret)
		ret = resolve_cluster(&c->cluster, err, errlen);
	if (ret)
		return ret;
	c->cluster.api = c->api.listen;
	return check_api_listen(c, err, errlen);
}

void config_clear(struct config *c)
{
	free(c->engines);
	c->engines = NULL;
	c->nengines = 0;
	free(c->engine.tls.ca);
	free(c->engine.tls.cert);
	free(c->engine.tls.key);
	c->engine.tls.ca = c->engine.tls.cert = c->engine.tls.key = NULL;
	free(c->cluster.cacert);
	free(c->cluster.cert);
	free(c->cluster.key);
	c->cluster.cacert = c->cluster.cert = c->cluster.key = NULL;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * Flags, with Swarm's names where Swarm had one and Go-style durations.
 * Every value is bounded: a typo must fail at start, not at 3 a.m. Each
 * flag is one entry of the table below (lib/opt.h), which gives its
 * parsing, its default and its line of --help; what spans flags (refresh
 * bounds, TLS files, --api-listen-any) is checked after all of them.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backoff.h"
#include "config.h"
#include "duration.h"
#include "hostport.h"
#include "opt.h"
#include "pwapi.h"

#define SEC	1000LL
#define MIN	(60 * SEC)
#define HOUR	(60 * MIN)

#define F(member)	OPT_FIELD(struct config, member)

static int check_engine(const char *arg, const char **why)
{
	const char *addr = hostport_strip_tcp(arg, why);
	char host[256];
	uint16_t port;

	return addr ? hostport_parse(addr, host, sizeof(host), &port, why) :
		      -EINVAL;
}

/* Every flag, in the order of --help. */
static const struct opt options[] = {
	{ .name = "engine", .type = OPT_LIST, F(engines), .arg = "[tcp://]HOST:PORT",
	  .check = check_engine,
	  .help = "an engine (repeatable), with or instead of the "
		  "discovery URL" },
	{ .name = "engine-refresh-min-interval", .type = OPT_DURATION,
	  F(engine.refresh_min_ms), .min = 100, .max = 24 * HOUR,
	  .def = 30 * SEC, .arg = "DUR",
	  .help = "container refresh, lower bound" },
	{ .name = "engine-refresh-max-interval", .type = OPT_DURATION,
	  F(engine.refresh_max_ms), .min = 100, .max = 24 * HOUR,
	  .def = 60 * SEC, .arg = "DUR",
	  .help = "container refresh, upper bound" },
	{ .name = "engine-info-interval", .type = OPT_DURATION,
	  F(engine.info_interval_ms), .min = SEC, .max = 24 * HOUR,
	  .def = 5 * MIN, .arg = "DUR", .help = "/info and /version again" },
	{ .name = "engine-failure-retry", .type = OPT_UINT,
	  F(engine.failure_retry), .min = 1, .max = 1000, .def = 3,
	  .arg = "N", .help = "failures in a row before unhealthy" },
	{ .name = "request-timeout", .type = OPT_DURATION,
	  F(engine.request_timeout_ms), .min = 100, .max = 10 * MIN,
	  .def = 10 * SEC, .arg = "DUR", .help = "deadline of every request" },
	/* With an RTO of 200 ms and more, a lost answer is suspect in < 1 s. */
	{ .name = "late-ping", .type = OPT_DURATION, .flags = OPT_ZERO,
	  F(engine.late_ping_ms), .min = 10, .max = 10 * MIN, .def = 250,
	  .arg = "DUR",
	  .help = "an answer this late gets a /_ping pipelined behind its "
		  "request, so that a lost answer shows as retransmission "
		  "(suspect); 0: never" },
	/* Idle polling connections answer a ping: a frozen engine shows. */
	{ .name = "ping-interval", .type = OPT_DURATION, .flags = OPT_ZERO,
	  F(engine.ping_interval_ms), .min = 100, .max = HOUR, .def = 5 * SEC,
	  .arg = "DUR",
	  .help = "/_ping on a polling connection idle this long; no answer "
		  "within --ping-timeout fails like a refresh (ping-timeout). "
		  "A frozen engine is unhealthy within ping-interval + "
		  "ping-timeout x failure-retry + 0.75s of backoff (3 tries; "
		  "5s + 3s x 3: ~15s); 0: never" },
	/*
	 * dockerd answers /_ping from memory, touching no container: a
	 * short deadline there, not that of /containers/json, bounds a
	 * frozen engine.
	 */
	{ .name = "ping-timeout", .type = OPT_DURATION,
	  F(engine.ping_timeout_ms), .min = 100, .max = 10 * MIN,
	  .def = 3 * SEC, .arg = "DUR",
	  .help = "deadline of every /_ping, at most --request-timeout" },
	{ .name = "user-timeout", .type = OPT_DURATION,
	  F(engine.conn.user_timeout_ms), .min = 100, .max = HOUR,
	  .def = 20 * SEC, .arg = "DUR",
	  .help = "TCP_USER_TIMEOUT of each socket" },
	{ .name = "keepalive-idle", .type = OPT_DURATION, .flags = OPT_SECONDS,
	  F(engine.conn.keepidle_s), .min = SEC, .max = 2 * HOUR,
	  .def = 10 * SEC, .arg = "DUR",
	  .help = "TCP_KEEPIDLE, whole seconds" },
	/*
	 * Probes go out only on a silent connection: a short interval costs
	 * nothing while the peer answers, and bounds detection on an idle
	 * connection to the user timeout + 1 s.
	 */
	{ .name = "keepalive-interval", .type = OPT_DURATION,
	  .flags = OPT_SECONDS, F(engine.conn.keepintvl_s), .min = SEC,
	  .max = 10 * MIN, .def = SEC, .arg = "DUR",
	  .help = "TCP_KEEPINTVL, whole seconds" },
	{ .name = "keepalive-count", .type = OPT_UINT, F(engine.conn.keepcnt),
	  .min = 1, .max = 127, .def = 3, .arg = "N", .help = "TCP_KEEPCNT" },
	{ .name = "backoff-max", .type = OPT_DURATION,
	  F(engine.backoff_max_ms), .min = BACKOFF_BASE_MS, .max = HOUR,
	  .def = 60 * SEC, .arg = "DUR",
	  .help = "cap of reconnect backoff: once a fault clears, an engine "
		  "is back within this (a random wait up to it); lower it "
		  "to recover sooner, at the price of more connection "
		  "attempts to engines that stay down" },
	{ .name = "events", .type = OPT_FLAG, .flags = OPT_NEG,
	  F(engine.events), .def = true,
	  .help = "follow each engine's /events" },
	{ .name = "discovery-interval", .type = OPT_DURATION, .flags = OPT_ZERO,
	  F(discovery_interval_ms), .min = SEC, .max = 24 * HOUR,
	  .def = 60 * SEC, .arg = "DUR",
	  .help = "re-read discovery; 0: SIGHUP only" },
	{ .name = "max-body", .type = OPT_SIZE, F(engine.max_body),
	  .min = 4096, .max = 1LL << 30, .def = 64LL << 20, .arg = "SIZE",
	  .help = "largest response body" },
	{ .name = "max-containers", .type = OPT_UINT,
	  F(engine.max_containers), .min = 1, .max = DOCKER_MAX_CONTAINERS,
	  .def = 20000, .arg = "N",
	  .help = "containers an engine may list; more: unhealthy" },
	{ .name = "memory-max", .type = OPT_SIZE, .flags = OPT_ZERO,
	  F(memory_max), .min = 16LL << 20, .max = 1LL << 50, .arg = "SIZE",
	  .help = "memory the agent may use, if below its cgroup's limit; "
		  "engines that do not fit are unhealthy, cause mem-limit" },
	{ .name = "state-file", .type = OPT_STRING, .flags = OPT_PATH,
	  F(state_file), .def_str = CONFIG_DEFAULT_STATE_FILE, .arg = "PATH",
	  .help = "JSON state written on SIGUSR1" },
	{ .name = "summary-interval", .type = OPT_DURATION, .flags = OPT_ZERO,
	  F(summary_interval_ms), .min = 100, .max = 24 * HOUR,
	  .def = 10 * SEC, .arg = "DUR",
	  .help = "summary line on stderr; 0: none" },
	{ .name = "tls", .type = OPT_FLAG, F(engine.tls.enable),
	  .help = "TLS to every engine, verified unless --tlsverify=false" },
	{ .name = "tlsverify", .type = OPT_BOOL, F(tlsverify), .def = -1,
	  .arg = "BOOL", .help = "TLS, and verify the engines (BOOL: true)" },
	{ .name = "tlscacert", .type = OPT_STRING, .flags = OPT_PATH | OPT_COPY,
	  F(engine.tls.ca), .arg = "FILE",
	  .help = "CA of the engines ($DOCKER_CERT_PATH/ca.pem)" },
	{ .name = "tlscert", .type = OPT_STRING, .flags = OPT_PATH | OPT_COPY,
	  F(engine.tls.cert), .arg = "FILE",
	  .help = "our client certificate "
		  "($DOCKER_CERT_PATH/cert.pem if there)" },
	{ .name = "tlskey", .type = OPT_STRING, .flags = OPT_PATH | OPT_COPY,
	  F(engine.tls.key), .arg = "FILE",
	  .help = "our client key ($DOCKER_CERT_PATH/key.pem if there)" },
	{ .name = "tls-own-records", .type = OPT_BOOL,
	  F(engine.tls.own_records), .def = 1, .arg = "BOOL",
	  .help = "after a TLS 1.3 handshake, free OpenSSL's connection "
		  "and keep only its keys (about 300 bytes instead of "
		  "17 KiB); false: OpenSSL to the end" },
	/*
	 * An idle TLS connection off own records holds an SSL object of
	 * ~20 KiB that OpenSSL cannot shrink; a resumption per poll costs
	 * CPU, and a frozen engine is then seen at its next poll, not at
	 * the next ping: off.
	 */
	{ .name = "tls-close-idle", .type = OPT_DURATION, .flags = OPT_ZERO,
	  F(engine.tls_close_idle_ms), .min = SEC, .max = 24 * HOUR,
	  .arg = "DUR",
	  .help = "over TLS with --events, close the polling connection "
		  "after an answer when the next poll is at least DUR away, "
		  "and reopen it then, resuming the TLS session: one "
		  "connection per idle engine instead of two; a frozen "
		  "engine is then seen at its next poll, not by "
		  "--ping-interval; 0: never" },
	/*
	 * A full handshake costs the agent about a millisecond of CPU: 128
	 * at once keep a pass of the loop to a fraction of a second, and
	 * the pipe full to engines 100 ms away (640 a second).
	 */
	{ .name = "tls-handshakes-max", .type = OPT_UINT,
	  F(engine.tls_handshakes_max), .min = 1, .max = 100000, .def = 128,
	  .arg = "N",
	  .help = "TLS handshakes at once; beyond, a connection waits its "
		  "turn, its connect deadline stopped (a storm of thousands "
		  "would delay every engine's answers past their "
		  "deadlines)" },
	{ .name = "api-socket", .type = OPT_STRING, .flags = OPT_EMPTY_NULL,
	  F(api.socket), .def_str = API_DEFAULT_SOCKET, .arg = "PATH",
	  .help = "control API socket, mode 0660; \"\": none" },
	{ .name = "api-listen", .type = OPT_STRING, F(api.listen),
	  .arg = "ADDR:PORT", .help = "control API on TCP too, loopback only" },
	{ .name = "api-listen-any", .type = OPT_FLAG, F(api.listen_any),
	  .help = "allow a non-loopback --api-listen (the API has no "
		  "authentication)" },
	{ .name = "no-docker-api", .type = OPT_FLAG, F(api.no_docker),
	  .help = "do not serve the Docker Engine API on the API sockets "
		  "(docker inspect there shows every container's "
		  "environment)" },
	{ .name = "api-max-clients", .type = OPT_UINT, F(api.max_clients),
	  .min = 1, .max = 10000, .def = 256, .arg = "N",
	  .help = "control API clients at once (at the limit, one silent "
		  "for 1 s gives its place)" },
	{ .name = "on-transition", .type = OPT_STRING, F(api.hook.cmd),
	  .arg = "CMD",
	  .help = "run /bin/sh -c CMD at each engine transition, with "
		  "PEERWATCH_ENGINE, _ADDR, _OLD_STATE, _NEW_STATE, _CAUSE, "
		  "_ERROR, _SINCE and _TRANSITIONS in its environment" },
	{ .name = "on-transition-max", .type = OPT_UINT, F(api.hook.max),
	  .min = 1, .max = 1024, .def = 8, .arg = "N",
	  .help = "runs of --on-transition at once" },
	{ .name = "on-transition-timeout", .type = OPT_DURATION,
	  F(api.hook.timeout_ms), .min = 100, .max = HOUR, .def = 30 * SEC,
	  .arg = "DUR",
	  .help = "a run still going then is killed, with its children" },
	{ .name = "on-transition-queue", .type = OPT_UINT, F(api.hook.queue),
	  .min = 1, .max = 1000000, .def = 1024, .arg = "N",
	  .help = "engines whose run may wait (one each: later transitions "
		  "are folded in); beyond, runs are dropped and counted" },
	{ .name = "kernel-policy", .type = OPT_FLAG, F(kernel_policy),
	  .help = "peerwatch.ko gives every connection to the engines' "
		  "ports --user-timeout" },
	{ .name = "kernel-rcvbuf", .type = OPT_SIZE, F(kernel_rcvbuf),
	  .min = 4096, .max = 1LL << 30, .def = 8LL << 20, .arg = "SIZE",
	  .help = "receive buffer for the module's events; smaller loses "
		  "events sooner" },
	{ .name = "cluster", .type = OPT_STRING, F(cluster.url),
	  .arg = "etcd://H:P[,H:P...][/PREFIX]",
	  .help = "share the fleet with the other agents of PREFIX "
		  "(" CLUSTER_DEFAULT_PREFIX ") through etcd v3" },
	{ .name = "cluster-name", .type = OPT_STRING, F(cluster.name),
	  .arg = "NAME", .help = "this agent's name there (the host name)" },
	{ .name = "cluster-ttl", .type = OPT_DURATION, F(cluster.ttl_ms),
	  .min = 2 * SEC, .max = 10 * MIN, .def = 10 * SEC, .arg = "DUR",
	  .help = "lease TTL: a dead agent's engines are taken over within "
		  "2 x TTL" },
	{ .name = "cluster-replicas", .type = OPT_UINT, F(cluster.replicas),
	  .min = 1, .max = 8, .def = 1, .arg = "N",
	  .help = "agents watching each engine" },
	{ .name = "etcd-cacert", .type = OPT_STRING, .flags = OPT_PATH | OPT_COPY,
	  F(cluster.cacert), .arg = "FILE",
	  .help = "CA of etcd's members ($ETCDCTL_CACERT)" },
	{ .name = "etcd-cert", .type = OPT_STRING, .flags = OPT_PATH | OPT_COPY,
	  F(cluster.cert), .arg = "FILE",
	  .help = "our client certificate for etcd ($ETCDCTL_CERT)" },
	{ .name = "etcd-key", .type = OPT_STRING, .flags = OPT_PATH | OPT_COPY,
	  F(cluster.key), .arg = "FILE",
	  .help = "our client key for etcd ($ETCDCTL_KEY)" },
	{ .name = "verbose", .short_name = 'v', .type = OPT_SET, F(log_level),
	  .val = LOG_DEBUG, .def = LOG_INFO, .help = "more logging" },
	{ .name = "quiet", .short_name = 'q', .type = OPT_SET, F(log_level),
	  .val = LOG_WARN, .def = LOG_INFO, .help = "less logging" },
	{ .name = "help", .short_name = 'h', .type = OPT_FLAG, F(help),
	  .help = "this text" },
	{ .name = "version", .type = OPT_FLAG, F(version),
	  .help = "print the version and exit" },
	{ 0 },
};

void config_usage(FILE *f)
{
	fprintf(f,
"Usage: peerwatchd [OPTIONS] [nodes://HOST:PORT,... | file://PATH |\n"
"                             etcd://HOST:PORT[,HOST:PORT...][/PATH]]\n"
"\n"
"Watches Docker engines over one event loop and marks them pending,\n"
"healthy, unhealthy or down. Durations are Go-style (500ms, 10s, 2m).\n"
"\n");
	opt_usage(options, f);
	fprintf(f,
"\n"
"DOCKER_CERT_PATH defaults to ~/.docker; a non-empty DOCKER_TLS_VERIFY\n"
"turns on --tlsverify, as with the docker CLI.\n"
"\n"
"Signals: SIGHUP re-reads discovery and the TLS files, SIGUSR1 writes\n"
"the state file, SIGINT/SIGTERM stop.\n");
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
	bool given_cert, given_key;
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
			return opt_error(err, len, "out of memory");
		dir = fallback;
	}
	given_cert = t->cert != NULL;
	given_key = t->key != NULL;
	ret = cert_path_file(&t->ca, dir, "ca.pem", t->verify);
	if (!ret)
		ret = cert_path_file(&t->cert, dir, "cert.pem", false);
	if (!ret)
		ret = cert_path_file(&t->key, dir, "key.pem", false);
	if (ret) {
		ret = opt_error(err, len, "out of memory");
	} else if (!t->cert != !t->key) {
		/* Name what was there: the files, or the flag given alone. */
		if (given_cert || given_key)
			ret = opt_error(err, len, "--%s %s: its --%s is missing (not given, and no %s/%s)",
					given_cert ? "tlscert" : "tlskey",
					given_cert ? t->cert : t->key,
					given_cert ? "tlskey" : "tlscert", dir,
					given_cert ? "key.pem" : "cert.pem");
		else
			ret = opt_error(err, len, "%s holds %s but not %s: a client key and its certificate go together",
					dir, t->key ? "key.pem" : "cert.pem",
					t->key ? "cert.pem" : "key.pem");
	}
	free(fallback);
	return ret;
}

/* etcdctl's environment, for what the flags left unset. */
static int resolve_cluster(struct cluster_cfg *cl, char *err, size_t len)
{
	static const struct {
		const char *env;
		size_t off;
	} files[] = {
		{ "ETCDCTL_CACERT", offsetof(struct cluster_cfg, cacert) },
		{ "ETCDCTL_CERT", offsetof(struct cluster_cfg, cert) },
		{ "ETCDCTL_KEY", offsetof(struct cluster_cfg, key) },
	};
	const char *why, *v;
	unsigned int i;

	if (!cl->url)
		return 0;
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		char **dst = (char **)((char *)cl + files[i].off);

		v = getenv(files[i].env);
		if (*dst || !v || !*v)
			continue;
		*dst = strdup(v);
		if (!*dst)
			return opt_error(err, len, "out of memory");
	}
	if (!cl->cert != !cl->key)
		return opt_error(err, len, "--etcd-cert and --etcd-key go together");
	if (cluster_check(cl, &why))
		return opt_error(err, len, "%s", why);
	return 0;
}

/* Whether --@name was on the command line, not its default. */
static bool given(int argc, char **argv, const char *name)
{
	size_t len = strlen(name);
	int i;

	for (i = 1; i < argc; i++)
		if (!strncmp(argv[i], "--", 2) && !strncmp(argv[i] + 2, name, len) &&
		    (!argv[i][len + 2] || argv[i][len + 2] == '='))
			return true;
	return false;
}

/* After every flag: --api-listen-any may come after --api-listen. */
static int check_api_listen(const struct config *c, char *err, size_t len)
{
	struct sockaddr_storage ss;
	const char *why;
	socklen_t sslen;

	if (c->api.listen && api_listen_addr(c->api.listen, c->api.listen_any,
					     &ss, &sslen, &why))
		return opt_error(err, len, "--api-listen '%s': %s",
				 c->api.listen, why);
	return 0;
}

int config_parse(struct config *c, int argc, char **argv, char *err,
		 size_t errlen)
{
	int nargs, ret;

	memset(c, 0, sizeof(*c));
	ret = opt_defaults(options, c, err, errlen);
	if (ret)
		return ret;
	nargs = opt_parse(options, c, argc, argv, err, errlen);
	if (nargs < 0)
		return nargs;
	if (c->help || c->version)
		return 0;
	if (nargs > 1)
		return opt_error(err, errlen,
				 "one discovery URL only, got '%s' too",
				 argv[2]);
	if (nargs)
		c->url = argv[1];
	if (c->url && strncmp(c->url, "nodes://", 8) &&
	    strncmp(c->url, "file://", 7) && strncmp(c->url, "etcd://", 7))
		return opt_error(err, errlen,
				 "'%s': the discovery URL must be nodes://HOST:PORT,..., file://PATH or etcd://HOST:PORT[,HOST:PORT...][/PATH]",
				 c->url);
	if (!c->engines.n && !c->url)
		return opt_error(err, errlen,
				 "no engines: give a discovery URL or --engine");
	/* Checks across flags, after all of them. */
	if (c->engine.refresh_max_ms < c->engine.refresh_min_ms)
		return opt_error(err, errlen,
				 "--engine-refresh-max-interval is below --engine-refresh-min-interval");
	/*
	 * A ping's deadline is at most a request's: one given above it would
	 * be cut without a word. Its default (3s) gives way to a shorter
	 * --request-timeout, as the help says.
	 */
	if (c->engine.ping_timeout_ms > c->engine.request_timeout_ms &&
	    given(argc, argv, "ping-timeout")) {
		char p[32], r[32];

		duration_format(c->engine.ping_timeout_ms, p, sizeof(p));
		duration_format(c->engine.request_timeout_ms, r, sizeof(r));
		return opt_error(err, errlen,
				 "--ping-timeout %s is above --request-timeout %s: a ping's deadline is at most a request's",
				 p, r);
	}
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
	opt_clear(options, c);
}

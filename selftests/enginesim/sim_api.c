// SPDX-License-Identifier: GPL-2.0
/*
 * The Docker Engine API as dockerd 20.10.24 serves it: routes and JSON
 * bodies, in the shapes and field order of the captured responses. Bodies
 * end with a newline, as Go's json.Encoder writes them. The faults that
 * replace or end answers (malformed, oversized, close-after) are applied
 * per request here.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "events.h"
#include "sim_api.h"
#include "sim_conn.h"
#include "sim_fleet.h"
#include "sim_http.h"
#include "strbuf.h"

static const char version_body[] =
	"{\"Platform\":{\"Name\":\"\"},\"Components\":[{\"Name\":\"Engine\","
	"\"Version\":\"20.10.24+dfsg1\",\"Details\":{\"ApiVersion\":\"1.41\","
	"\"Arch\":\"amd64\",\"BuildTime\":\"2026-05-07T21:09:36.000000000+00:00\","
	"\"Experimental\":\"false\",\"GitCommit\":\"5d6db84\","
	"\"GoVersion\":\"go1.19.8\",\"KernelVersion\":\"6.1.0-18-amd64\","
	"\"MinAPIVersion\":\"1.12\",\"Os\":\"linux\"}},{\"Name\":\"containerd\","
	"\"Version\":\"1.6.20~ds1\",\"Details\":{\"GitCommit\":"
	"\"1.6.20~ds1-1+deb12u3\"}},{\"Name\":\"runc\",\"Version\":\"1.1.5+ds1\","
	"\"Details\":{\"GitCommit\":\"1.1.5+ds1-1+deb12u1\"}},{\"Name\":"
	"\"docker-init\",\"Version\":\"0.19.0\",\"Details\":{\"GitCommit\":\"\"}}],"
	"\"Version\":\"20.10.24+dfsg1\",\"ApiVersion\":\"1.41\","
	"\"MinAPIVersion\":\"1.12\",\"GitCommit\":\"5d6db84\","
	"\"GoVersion\":\"go1.19.8\",\"Os\":\"linux\",\"Arch\":\"amd64\","
	"\"KernelVersion\":\"6.1.0-18-amd64\","
	"\"BuildTime\":\"2026-05-07T21:09:36.000000000+00:00\"}\n";

static const char info_fmt[] =
	"{\"ID\":\"%s\",\"Containers\":%u,\"ContainersRunning\":%u,"
	"\"ContainersPaused\":0,\"ContainersStopped\":%u,\"Images\":%u,"
	"\"Driver\":\"overlay2\",\"DriverStatus\":[[\"Backing Filesystem\","
	"\"extfs\"],[\"Supports d_type\",\"true\"],[\"Native Overlay Diff\","
	"\"true\"],[\"userxattr\",\"false\"]],\"Plugins\":{\"Volume\":[\"local\"],"
	"\"Network\":[\"bridge\",\"host\",\"ipvlan\",\"macvlan\",\"null\","
	"\"overlay\"],\"Authorization\":null,\"Log\":[\"awslogs\",\"fluentd\","
	"\"gcplogs\",\"gelf\",\"journald\",\"json-file\",\"local\",\"logentries\","
	"\"splunk\",\"syslog\"]},\"MemoryLimit\":true,\"SwapLimit\":true,"
	"\"KernelMemory\":true,\"KernelMemoryTCP\":true,\"CpuCfsPeriod\":true,"
	"\"CpuCfsQuota\":true,\"CPUShares\":true,\"CPUSet\":true,"
	"\"PidsLimit\":true,\"IPv4Forwarding\":true,\"BridgeNfIptables\":true,"
	"\"BridgeNfIp6tables\":true,\"Debug\":false,\"NFd\":%u,"
	"\"OomKillDisable\":true,\"NGoroutines\":%u,\"SystemTime\":\"%s\","
	"\"LoggingDriver\":\"json-file\",\"CgroupDriver\":\"systemd\","
	"\"CgroupVersion\":\"2\",\"NEventsListener\":0,"
	"\"KernelVersion\":\"6.1.0-18-amd64\","
	"\"OperatingSystem\":\"Debian GNU/Linux 12 (bookworm)\","
	"\"OSVersion\":\"12\",\"OSType\":\"linux\",\"Architecture\":\"x86_64\","
	"\"IndexServerAddress\":\"https://index.docker.io/v1/\","
	"\"RegistryConfig\":{\"AllowNondistributableArtifactsCIDRs\":[],"
	"\"AllowNondistributableArtifactsHostnames\":[],"
	"\"InsecureRegistryCIDRs\":[\"127.0.0.0/8\"],\"IndexConfigs\":"
	"{\"docker.io\":{\"Name\":\"docker.io\",\"Mirrors\":[],\"Secure\":true,"
	"\"Official\":true}},\"Mirrors\":[]},\"NCPU\":%u,\"MemTotal\":%llu,"
	"\"GenericResources\":null,\"DockerRootDir\":\"/var/lib/docker\","
	"\"HttpProxy\":\"\",\"HttpsProxy\":\"\",\"NoProxy\":\"\","
	"\"Name\":\"engine-%u\",\"Labels\":[\"enginesim.index=%u\","
	"\"enginesim.addr=%s\",\"zone=z%u\"],\"ExperimentalBuild\":false,"
	"\"ServerVersion\":\"20.10.24+dfsg1\",\"Runtimes\":"
	"{\"io.containerd.runc.v2\":{\"path\":\"runc\"},"
	"\"io.containerd.runtime.v1.linux\":{\"path\":\"runc\"},"
	"\"runc\":{\"path\":\"runc\"}},\"DefaultRuntime\":\"runc\","
	"\"Swarm\":{\"NodeID\":\"\",\"NodeAddr\":\"\","
	"\"LocalNodeState\":\"inactive\",\"ControlAvailable\":false,"
	"\"Error\":\"\",\"RemoteManagers\":null},\"LiveRestoreEnabled\":false,"
	"\"Isolation\":\"\",\"InitBinary\":\"docker-init\","
	"\"ContainerdCommit\":{\"ID\":\"1.6.20~ds1-1+deb12u3\","
	"\"Expected\":\"1.6.20~ds1-1+deb12u3\"},\"RuncCommit\":"
	"{\"ID\":\"1.1.5+ds1-1+deb12u1\",\"Expected\":\"1.1.5+ds1-1+deb12u1\"},"
	"\"InitCommit\":{\"ID\":\"\",\"Expected\":\"\"},\"SecurityOptions\":"
	"[\"name=seccomp,profile=default\",\"name=cgroupns\"],\"Warnings\":"
	"[\"WARNING: API is accessible on http://%s:%u without encryption.\\n"
	"         Access to the remote API is equivalent to root access on the "
	"host. Refer\\n         to the 'Docker daemon attack surface' section in "
	"the documentation for\\n         more information: "
	"https://docs.docker.com/go/attack-surface/\"]}\n";

static const char ctr_list_fmt[] =
	"{\"Id\":\"%s\",\"Names\":[\"/%s\"],\"Image\":\"%s\",\"ImageID\":\"%s\","
	"\"Command\":\"%s\",\"Created\":%lld,\"Ports\":[],\"Labels\":{%s},"
	"\"State\":\"%s\",\"Status\":\"%s\",\"HostConfig\":{\"NetworkMode\":"
	"\"none\"},\"NetworkSettings\":{\"Networks\":{\"none\":{"
	"\"IPAMConfig\":null,\"Links\":null,\"Aliases\":null,"
	"\"NetworkID\":\"%s\",\"EndpointID\":\"%s\",\"Gateway\":\"\","
	"\"IPAddress\":\"\",\"IPPrefixLen\":0,\"IPv6Gateway\":\"\","
	"\"GlobalIPv6Address\":\"\",\"GlobalIPv6PrefixLen\":0,"
	"\"MacAddress\":\"\",\"DriverOpts\":null}}},\"Mounts\":[]}";

static const char inspect_fmt[] =
	"{\"Id\":\"%s\",\"Created\":\"%s\",\"Path\":\"%s\",\"Args\":[%s],"
	"\"State\":{\"Status\":\"%s\",\"Running\":%s,\"Paused\":false,"
	"\"Restarting\":false,\"OOMKilled\":false,\"Dead\":false,\"Pid\":%d,"
	"\"ExitCode\":%d,\"Error\":\"\",\"StartedAt\":\"%s\","
	"\"FinishedAt\":\"%s\"},\"Image\":\"%s\","
	"\"ResolvConfPath\":\"/var/lib/docker/containers/%s/resolv.conf\","
	"\"HostnamePath\":\"/var/lib/docker/containers/%s/hostname\","
	"\"HostsPath\":\"/var/lib/docker/containers/%s/hosts\","
	"\"LogPath\":\"/var/lib/docker/containers/%s/%s-json.log\","
	"\"Name\":\"/%s\",\"RestartCount\":0,\"Driver\":\"overlay2\","
	"\"Platform\":\"linux\",\"MountLabel\":\"\",\"ProcessLabel\":\"\","
	"\"AppArmorProfile\":\"\",\"ExecIDs\":null,\"HostConfig\":{\"Binds\":null,"
	"\"ContainerIDFile\":\"\",\"LogConfig\":{\"Type\":\"json-file\","
	"\"Config\":{}},\"NetworkMode\":\"none\",\"PortBindings\":{},"
	"\"RestartPolicy\":{\"Name\":\"no\",\"MaximumRetryCount\":0},"
	"\"AutoRemove\":false,\"VolumeDriver\":\"\",\"VolumesFrom\":null,"
	"\"CapAdd\":null,\"CapDrop\":null,\"CgroupnsMode\":\"private\","
	"\"Dns\":[],\"DnsOptions\":[],\"DnsSearch\":[],\"ExtraHosts\":null,"
	"\"GroupAdd\":null,\"IpcMode\":\"private\",\"Cgroup\":\"\","
	"\"Links\":null,\"OomScoreAdj\":0,\"PidMode\":\"\",\"Privileged\":false,"
	"\"PublishAllPorts\":false,\"ReadonlyRootfs\":false,"
	"\"SecurityOpt\":null,\"UTSMode\":\"\",\"UsernsMode\":\"\","
	"\"ShmSize\":67108864,\"Runtime\":\"runc\",\"ConsoleSize\":[0,0],"
	"\"Isolation\":\"\",\"CpuShares\":0,\"Memory\":0,\"NanoCpus\":0,"
	"\"CgroupParent\":\"\",\"BlkioWeight\":0,\"BlkioWeightDevice\":[],"
	"\"BlkioDeviceReadBps\":null,\"BlkioDeviceWriteBps\":null,"
	"\"BlkioDeviceReadIOps\":null,\"BlkioDeviceWriteIOps\":null,"
	"\"CpuPeriod\":0,\"CpuQuota\":0,\"CpuRealtimePeriod\":0,"
	"\"CpuRealtimeRuntime\":0,\"CpusetCpus\":\"\",\"CpusetMems\":\"\","
	"\"Devices\":[],\"DeviceCgroupRules\":null,\"DeviceRequests\":null,"
	"\"KernelMemory\":0,\"KernelMemoryTCP\":0,\"MemoryReservation\":0,"
	"\"MemorySwap\":0,\"MemorySwappiness\":null,\"OomKillDisable\":false,"
	"\"PidsLimit\":null,\"Ulimits\":null,\"CpuCount\":0,\"CpuPercent\":0,"
	"\"IOMaximumIOps\":0,\"IOMaximumBandwidth\":0,\"MaskedPaths\":"
	"[\"/proc/asound\",\"/proc/acpi\",\"/proc/kcore\",\"/proc/keys\","
	"\"/proc/latency_stats\",\"/proc/timer_list\",\"/proc/timer_stats\","
	"\"/proc/sched_debug\",\"/proc/scsi\",\"/sys/firmware\"],"
	"\"ReadonlyPaths\":[\"/proc/bus\",\"/proc/fs\",\"/proc/irq\","
	"\"/proc/sys\",\"/proc/sysrq-trigger\"]},\"GraphDriver\":{\"Data\":null,"
	"\"Name\":\"overlay2\"},\"Mounts\":[],\"Config\":{\"Hostname\":\"%.12s\","
	"\"Domainname\":\"\",\"User\":\"\",\"AttachStdin\":false,"
	"\"AttachStdout\":false,\"AttachStderr\":false,\"Tty\":false,"
	"\"OpenStdin\":false,\"StdinOnce\":false,\"Env\":null,"
	"\"Cmd\":[%s],\"Image\":\"%s\",\"Volumes\":null,\"WorkingDir\":\"\","
	"\"Entrypoint\":null,\"OnBuild\":null,\"Labels\":{%s}},"
	"\"NetworkSettings\":{\"Bridge\":\"\",\"SandboxID\":\"\","
	"\"HairpinMode\":false,\"LinkLocalIPv6Address\":\"\","
	"\"LinkLocalIPv6PrefixLen\":0,\"Ports\":{},\"SandboxKey\":\"\","
	"\"SecondaryIPAddresses\":null,\"SecondaryIPv6Addresses\":null,"
	"\"EndpointID\":\"\",\"Gateway\":\"\",\"GlobalIPv6Address\":\"\","
	"\"GlobalIPv6PrefixLen\":0,\"IPAddress\":\"\",\"IPPrefixLen\":0,"
	"\"IPv6Gateway\":\"\",\"MacAddress\":\"\",\"Networks\":{\"none\":{"
	"\"IPAMConfig\":null,\"Links\":null,\"Aliases\":null,"
	"\"NetworkID\":\"%s\",\"EndpointID\":\"%s\",\"Gateway\":\"\","
	"\"IPAddress\":\"\",\"IPPrefixLen\":0,\"IPv6Gateway\":\"\","
	"\"GlobalIPv6Address\":\"\",\"GlobalIPv6PrefixLen\":0,"
	"\"MacAddress\":\"\",\"DriverOpts\":null}}}}\n";

#define ZERO_TIME	"0001-01-01T00:00:00Z"

static const char *const state_names[] = {
	[CTR_CREATED] = "created",
	[CTR_RUNNING] = "running",
	[CTR_EXITED] = "exited",
};

/* Go's RFC3339Nano: trailing zeros of the fraction dropped. */
static void fmt_time(int64_t ms, char out[40])
{
	time_t sec = ms / 1000;
	int frac = ms % 1000;
	struct tm tm;
	size_t n;

	gmtime_r(&sec, &tm);
	n = strftime(out, 40, "%Y-%m-%dT%H:%M:%S", &tm);
	if (frac) {
		n += snprintf(out + n, 40 - n, ".%03d", frac);
		while (out[n - 1] == '0')
			n--;
	}
	snprintf(out + n, 40 - n, "Z");
}

/* docker/go-units HumanDuration, which "docker ps" Status uses. */
static void fmt_human(int64_t ms, char *out, size_t size)
{
	int64_t s = ms / 1000, m = s / 60, h = (ms + 1800000) / 3600000;

	if (s < 1)
		snprintf(out, size, "Less than a second");
	else if (s == 1)
		snprintf(out, size, "1 second");
	else if (s < 60)
		snprintf(out, size, "%lld seconds", (long long)s);
	else if (m == 1)
		snprintf(out, size, "About a minute");
	else if (m < 60)
		snprintf(out, size, "%lld minutes", (long long)m);
	else if (h == 1)
		snprintf(out, size, "About an hour");
	else if (h < 48)
		snprintf(out, size, "%lld hours", (long long)h);
	else if (h < 24 * 7 * 2)
		snprintf(out, size, "%lld days", (long long)h / 24);
	else if (h < 24 * 30 * 2)
		snprintf(out, size, "%lld weeks", (long long)h / 24 / 7);
	else if (h < 24 * 365 * 2)
		snprintf(out, size, "%lld months", (long long)h / 24 / 30);
	else
		snprintf(out, size, "%lld years", (long long)h / 24 / 365);
}

static void ctr_status(const struct ctr *c, int64_t now_ms, char *out,
		       size_t size)
{
	char human[32];

	fmt_human(now_ms - c->changed_ms, human, sizeof(human));
	if (c->state == CTR_RUNNING)
		snprintf(out, size, "Up %s", human);
	else if (c->state == CTR_EXITED)
		snprintf(out, size, "Exited (%d) %s ago", c->exit_code, human);
	else
		snprintf(out, size, "Created");
}

static int json_escape(char *out, size_t size, const char *s)
{
	size_t n = 0;

	for (; *s; s++) {
		unsigned char ch = *s;
		char esc[8];
		size_t len;

		if (ch == '"' || ch == '\\')
			len = snprintf(esc, sizeof(esc), "\\%c", ch);
		else if (ch < 0x20)
			len = snprintf(esc, sizeof(esc), "\\u%04x", ch);
		else
			len = snprintf(esc, sizeof(esc), "%c", ch);
		if (n + len >= size)
			return -ENAMETOOLONG;
		memcpy(out + n, esc, len);
		n += len;
	}
	out[n] = '\0';
	return 0;
}

/* The bridge-less "none" network every simulated container is on. */
static void network_id(const struct engine *e, char out[65])
{
	static const char hex[] = "0123456789abcdef";
	uint64_t x = e->key;
	int i;

	for (i = 0; i < 64; i++) {
		if (!(i % 16))
			x = x * 6364136223846793005ULL + 1442695040888963407ULL;
		out[i] = hex[(x >> ((i % 16) * 4)) & 15];
	}
	out[64] = '\0';
}

static void endpoint_id(const struct ctr *c, char out[65])
{
	size_t i;

	if (c->state != CTR_RUNNING) {
		out[0] = '\0';
		return;
	}
	/* Stable per container; a reversed ID is distinct enough. */
	for (i = 0; i < 64; i++)
		out[i] = c->id[63 - i];
	out[64] = '\0';
}

/*
 * A container's labels, JSON object members without the braces, from
 * (seed, address, index) alone: its tier and its compose project and
 * service, as docker compose sets them. Mixed here rather than taken from
 * the ID, so that a renamed or recreated container keeps them.
 */
static void ctr_labels(const struct engine *e, const struct ctr *ct,
		       char *out, size_t size)
{
	static const char *const tiers[] = { "web", "db", "cache" };
	static const char *const projects[] = { "shop", "blog", "ci", "wiki" };
	uint64_t h = (e->key ^ 0x6c6162656c73ULL) + ct->idx * 0x9e3779b97f4a7c15ULL;

	h ^= h >> 31;
	h *= 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 29;
	snprintf(out, size,
		 "\"com.docker.compose.project\":\"%s\","
		 "\"com.docker.compose.service\":\"%s\","
		 "\"com.example.tier\":\"%s\"",
		 projects[(h >> 8) % 4], tiers[h % 3], tiers[h % 3]);
}

static int respond_json(struct conn *c, int status, unsigned int flags,
			struct strbuf *body)
{
	int err = http_respond(c, status, flags, body->p + body->off,
			       strbuf_pending(body));

	strbuf_release(body);
	return err;
}

static int api_message(struct conn *c, int status, const char *msg)
{
	struct strbuf body = {};
	char esc[2 * URL_MAX];
	int err;

	err = json_escape(esc, sizeof(esc), msg);
	if (!err)
		err = strbuf_addf(&body, "{\"message\":\"%s\"}\n", esc);
	if (err) {
		strbuf_release(&body);
		return err;
	}
	return respond_json(c, status, 0, &body);
}

static int api_info(struct conn *c)
{
	const struct engine *e = c->engine;
	unsigned int i, n = engine_nr_containers(e), run = 0, imgs = 0;
	const char *seen[8] = {};
	int64_t now = clock_wall_ms();
	char id[60], addr[16], now_s[40];
	struct strbuf body = {};
	struct ctr ct;
	int err;

	for (i = 0; i < n; i++) {
		unsigned int j;

		engine_container(e, i, now, &ct);
		run += ct.state == CTR_RUNNING;
		for (j = 0; j < imgs && seen[j] != ct.image; j++)
			;
		if (j == imgs && imgs < 8)
			seen[imgs++] = ct.image;
	}
	engine_id(e, id);
	addr_str(e->addr, addr);
	fmt_time(now, now_s);
	err = strbuf_addf(&body, info_fmt, id, n, run, n - run, imgs,
			  23 + 2 * run, 41 + 3 * run, now_s, engine_ncpu(e),
			  (unsigned long long)engine_memtotal(e), e->index,
			  e->index, addr, e->index % 4, addr,
			  c->sim->opts.port);
	if (err) {
		strbuf_release(&body);
		return err;
	}
	return respond_json(c, 200, HTTP_CHUNKED, &body);
}

static int query_all(const char *query)
{
	const char *p = query;

	while (p && *p) {
		if (!strncmp(p, "all=", 4))
			return p[4] == '1' || !strncmp(p + 4, "true", 4) ||
			       !strncmp(p + 4, "True", 4);
		p = strchr(p, '&');
		if (p)
			p++;
	}
	return 0;
}

static int api_containers(struct conn *c, const char *query)
{
	const struct engine *e = c->engine;
	unsigned int i, n = engine_nr_containers(e);
	int64_t now = clock_wall_ms();
	int all = query_all(query);
	char net[65], ep[65], status[64], labels[256];
	struct strbuf body = {};
	const char *sep = "";
	struct ctr ct;
	int err;

	network_id(e, net);
	err = strbuf_add(&body, "[", 1);
	/* Newest first, as dockerd lists them: creation follows idx. */
	for (i = n; !err && i-- > 0;) {
		engine_container(e, i, now, &ct);
		if (!all && ct.state != CTR_RUNNING)
			continue;
		ctr_status(&ct, now, status, sizeof(status));
		ctr_labels(e, &ct, labels, sizeof(labels));
		endpoint_id(&ct, ep);
		err = strbuf_addf(&body, "%s", sep);
		if (!err)
			err = strbuf_addf(&body, ctr_list_fmt, ct.id, ct.name,
					  ct.image, ct.image_id, ct.command,
					  (long long)(ct.created_ms / 1000),
					  labels, state_names[ct.state], status,
					  net, ep);
		sep = ",";
	}
	if (!err)
		err = strbuf_add(&body, "]\n", 2);
	if (err) {
		strbuf_release(&body);
		return err;
	}
	return respond_json(c, 200, 0, &body);
}

static int api_inspect(struct conn *c, const char *ref)
{
	const struct engine *e = c->engine;
	int64_t now = clock_wall_ms();
	char created[40], started[40], finished[40], net[65], ep[65];
	char msg[URL_MAX + 32], labels[256];
	struct strbuf body = {};
	struct ctr ct;
	int err;

	if (engine_find_container(e, ref, now, &ct)) {
		snprintf(msg, sizeof(msg), "No such container: %s", ref);
		return api_message(c, 404, msg);
	}
	fmt_time(ct.created_ms, created);
	snprintf(started, sizeof(started), ZERO_TIME);
	snprintf(finished, sizeof(finished), ZERO_TIME);
	if (ct.state == CTR_RUNNING) {
		fmt_time(ct.changed_ms, started);
	} else if (ct.state == CTR_EXITED) {
		fmt_time(ct.created_ms + 200, started);
		fmt_time(ct.changed_ms, finished);
	}
	network_id(e, net);
	endpoint_id(&ct, ep);
	ctr_labels(e, &ct, labels, sizeof(labels));
	err = strbuf_addf(&body, inspect_fmt, ct.id, created, ct.path, ct.args,
			  state_names[ct.state],
			  ct.state == CTR_RUNNING ? "true" : "false",
			  ct.state == CTR_RUNNING ? ct.pid : 0,
			  ct.state == CTR_EXITED ? ct.exit_code : 0,
			  started, finished, ct.image_id, ct.id, ct.id, ct.id,
			  ct.id, ct.id, ct.name, ct.id, ct.args, ct.image,
			  labels, net, ep);
	if (err) {
		strbuf_release(&body);
		return err;
	}
	return respond_json(c, 200, HTTP_CHUNKED, &body);
}

/*
 * Classifies a request. For an inspect, *ref points at the container
 * reference inside path, which is cut at its "/json".
 */
static enum api_class api_route(char *path, unsigned int method,
				const char **ref)
{
	static const char ctr_prefix[] = "/containers/";
	size_t plen = sizeof(ctr_prefix) - 1;
	size_t len = strlen(path);

	*ref = NULL;
	if (!strcmp(path, "/_ping"))
		return method == HTTP_GET || method == HTTP_HEAD ?
			API_PING : API_NOTFOUND;
	if (method != HTTP_GET)
		return API_NOTFOUND;
	if (!strcmp(path, "/version"))
		return API_VERSION;
	if (!strcmp(path, "/info"))
		return API_INFO;
	if (!strcmp(path, "/events"))
		return API_EVENTS;
	if (!strcmp(path, "/containers/json"))
		return API_CONTAINERS;
	if (len > plen + 5 && !strncmp(path, ctr_prefix, plen) &&
	    !strcmp(path + len - 5, "/json") &&
	    !memchr(path + plen, '/', len - plen - 5)) {
		path[len - 5] = '\0';
		*ref = path + plen;
		return API_INSPECT;
	}
	return API_NOTFOUND;
}

static int api_respond(struct conn *c, enum api_class cls, const char *ref,
		       const char *query)
{
	int err;

	switch (cls) {
	case API_PING:
		if (c->parser.method == HTTP_HEAD)
			return http_respond(c, 200, HTTP_PING, "", 0);
		return http_respond(c, 200, HTTP_PING, "OK", 2);
	case API_VERSION:
		return http_respond(c, 200, 0, version_body,
				    sizeof(version_body) - 1);
	case API_INFO:
		return api_info(c);
	case API_CONTAINERS:
		return api_containers(c, query);
	case API_INSPECT:
		return api_inspect(c, ref);
	case API_EVENTS:
		err = http_respond(c, 200, HTTP_STREAM, NULL, 0);
		return err ? err : events_subscribe(c);
	default:
		return api_message(c, 404, "page not found");
	}
}

/* Splits "/v1.41/info?x=y" into "/info" and "x=y", in place. */
static void split_url(char *url, char **path, char **query)
{
	char *q = strchr(url, '?');
	char *p = url;

	*query = "";
	if (q) {
		*q = '\0';
		*query = q + 1;
	}
	if (p[0] == '/' && p[1] == 'v' && p[2] >= '0' && p[2] <= '9') {
		char *s = p + 2;

		while ((*s >= '0' && *s <= '9') || *s == '.')
			s++;
		if (*s == '/')
			p = s;
	}
	*path = p;
}

/* One whole request: counted, routed, and answered as the engine's fault says. */
static int api_serve(struct conn *c)
{
	struct engine *e = c->engine;
	enum api_class cls;
	char *path, *query;
	const char *ref;
	int err;

	split_url(c->url, &path, &query);
	cls = api_route(path, c->parser.method, &ref);
	c->sim->stats.requests[cls]++;
	if (e->fault == FAULT_MALFORMED)
		err = http_malformed(c);
	else if (e->fault == FAULT_OVERSIZED)
		err = http_oversized(c, e->fault_arg, cls == API_INFO ||
				     cls == API_EVENTS || cls == API_INSPECT);
	else
		err = api_respond(c, cls, ref, query);
	if (err)
		return err;
	c->responses++;
	if (e->fault == FAULT_CLOSE_AFTER && c->responses >= e->fault_arg)
		c->close_after_write = 1;
	return 0;
}

/* The connection's input: parse, and answer each whole request. */
int api_feed(struct conn *c)
{
	int ret = http_feed(c);

	return ret > 0 ? api_serve(c) : ret;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * The client side of peerwatchd's control API: one GET per connection over
 * its UNIX socket or its --api-listen TCP address, as docker -H names them
 * (unix://PATH, tcp://HOST:PORT), the answer read with http_parser, errors
 * in words.
 */
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <http_parser.h>

#include "cli.h"
#include "hostport.h"
#include "strbuf.h"

#define UNIX_PREFIX	"unix://"
#define TCP_PREFIX	"tcp://"

/* More than any answer of a 100,000-engine fleet. */
#define CLI_API_MAX_BODY	(1U << 30)

struct reply {
	struct strbuf body;
	unsigned int status;
	bool complete;
	bool too_big;
	bool quiet;		/* failing to connect is not said */
	/* Streaming: each whole line goes here as it arrives. */
	int (*line)(void *arg, const char *line);
	void *arg;
	int line_err;
};

static int on_body(http_parser *p, const char *at, size_t len)
{
	struct reply *r = p->data;
	char *nl;

	if (r->body.len + len > CLI_API_MAX_BODY) {
		r->too_big = true;
		return -1;
	}
	if (strbuf_add(&r->body, at, len))
		return -1;
	if (!r->line || r->status != 200)
		return 0;
	while ((nl = memchr(r->body.p + r->body.off, '\n',
			    strbuf_pending(&r->body)))) {
		const char *l = r->body.p + r->body.off;

		*nl = '\0';
		r->line_err = r->line(r->arg, l);
		strbuf_consume(&r->body, (size_t)(nl - l) + 1);
		if (r->line_err)
			return -1;
	}
	return 0;
}

static int on_headers_complete(http_parser *p)
{
	struct reply *r = p->data;

	r->status = p->status_code;
	if (r->line && r->status == 200)
		r->line_err = r->line(r->arg, NULL);
	return r->line_err ? -1 : 0;
}

static int on_message_complete(http_parser *p)
{
	struct reply *r = p->data;

	r->complete = true;
	return 0;
}

static const http_parser_settings settings = {
	.on_body = on_body,
	.on_headers_complete = on_headers_complete,
	.on_message_complete = on_message_complete,
};

int cli_check_host(const char *arg, const char **why)
{
	char host[256];
	uint16_t port;

	if (!strncmp(arg, UNIX_PREFIX, strlen(UNIX_PREFIX))) {
		if (arg[strlen(UNIX_PREFIX)] != '/') {
			*why = "want unix:///absolute/path";
			return -EINVAL;
		}
		return 0;
	}
	if (!strncmp(arg, TCP_PREFIX, strlen(TCP_PREFIX)))
		return hostport_parse(arg + strlen(TCP_PREFIX), host,
				      sizeof(host), &port, why);
	if (arg[0] == '/')
		return 0;
	*why = "want unix://PATH or tcp://HOST:PORT";
	return -EINVAL;
}

const char *cli_host(const char *host, const char *sock)
{
	const char *env = getenv("PEERWATCH_HOST");

	if (host)
		return host;
	if (sock)
		return sock;
	return env && *env ? env : API_DEFAULT_SOCKET;
}

static int connect_unix(const char *path, int *fdp, bool quiet)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd, err;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "%s: %s: path too long\n", prog, path);
		return -ENAMETOOLONG;
	}
	strcpy(sun.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun))) {
		err = -errno;
		close(fd);
		if (quiet && (err == -ENOENT || err == -ECONNREFUSED))
			return err;
		if (err == -ENOENT || err == -ECONNREFUSED)
			fprintf(stderr, "%s: peerwatchd is not running (no control API at %s: %s)\n",
				prog, path, strerror(-err));
		else if (err == -EACCES)
			fprintf(stderr, "%s: %s: %s (the socket is mode 0660: run as root or in its group)\n",
				prog, path, strerror(-err));
		else
			fprintf(stderr, "%s: %s: %s\n", prog, path, strerror(-err));
		return err;
	}
	*fdp = fd;
	return 0;
}

/* tcp://HOST:PORT, HOST a literal or a name, each address in turn. */
static int connect_tcp(const char *url, int *fdp, bool quiet)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res, *ai;
	const char *why = NULL;
	char host[256], port_s[8];
	uint16_t port;
	int fd = -1, err, gai;

	if (hostport_parse(url + strlen(TCP_PREFIX), host, sizeof(host), &port,
			   &why)) {
		fprintf(stderr, "%s: %s: %s\n", prog, url, why);
		return -EINVAL;
	}
	snprintf(port_s, sizeof(port_s), "%u", port);
	gai = getaddrinfo(host, port_s, &hints, &res);
	if (gai) {
		fprintf(stderr, "%s: %s: %s\n", prog, url, gai_strerror(gai));
		return -EHOSTUNREACH;
	}
	err = -ECONNREFUSED;
	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0) {
			err = -errno;
			continue;
		}
		if (!connect(fd, ai->ai_addr, ai->ai_addrlen))
			break;
		err = -errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0) {
		if (!quiet || err != -ECONNREFUSED)
			fprintf(stderr, "%s: peerwatchd is not reachable at %s: %s\n",
				prog, url, strerror(-err));
		return err;
	}
	*fdp = fd;
	return 0;
}

static int connect_agent(const char *host, int *fdp, bool quiet)
{
	const char *why = NULL;

	if (cli_check_host(host, &why)) {
		fprintf(stderr, "%s: %s'%s': %s\n", prog,
			getenv("PEERWATCH_HOST") && !strcmp(getenv("PEERWATCH_HOST"), host) ?
			"PEERWATCH_HOST " : "", host, why);
		return -EINVAL;
	}
	if (!strncmp(host, TCP_PREFIX, strlen(TCP_PREFIX)))
		return connect_tcp(host, fdp, quiet);
	if (!strncmp(host, UNIX_PREFIX, strlen(UNIX_PREFIX)))
		host += strlen(UNIX_PREFIX);
	return connect_unix(host, fdp, quiet);
}

static int send_all(int fd, const char *buf, size_t len)
{
	ssize_t n;

	while (len) {
		n = send(fd, buf, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* The agent's {"error": ...} in words, or the status alone. */
static void print_error(const char *path, const struct reply *r)
{
	struct json_object *o = NULL, *e;

	if (r->body.len && r->body.len < 65536) {
		char *copy = strndup(r->body.p + r->body.off,
				     strbuf_pending(&r->body));

		o = copy ? json_tokener_parse(copy) : NULL;
		free(copy);
	}
	if (o && json_object_object_get_ex(o, "error", &e))
		fprintf(stderr, "%s: %s: %s\n", prog, path,
			json_object_get_string(e));
	else
		fprintf(stderr, "%s: %s: HTTP %u\n", prog, path, r->status);
	json_object_put(o);
}

/*
 * GET @path and read the answer into @r; with @r->line, each line as it
 * comes (and until @stop_fd, if not -1, becomes readable).
 */
static int get(const char *sock, const char *path, struct reply *r, int stop_fd)
{
	char req[4096], buf[65536];
	http_parser parser;
	int fd = -1, n, err;
	ssize_t got;

	n = snprintf(req, sizeof(req),
		     "GET %s HTTP/1.1\r\nHost: peerwatchd\r\nConnection: close\r\n\r\n",
		     path);
	if (n >= (int)sizeof(req)) {
		fprintf(stderr, "%s: request too long\n", prog);
		return -EINVAL;
	}
	err = connect_agent(sock, &fd, r->quiet);
	if (err)
		return err;
	err = send_all(fd, req, (size_t)n);
	http_parser_init(&parser, HTTP_RESPONSE);
	parser.data = r;
	while (!err && !r->complete) {
		struct pollfd pfd[2] = {
			{ .fd = fd, .events = POLLIN },
			{ .fd = stop_fd, .events = POLLIN },
		};

		if (poll(pfd, stop_fd < 0 ? 1 : 2, -1) < 0) {
			err = errno == EINTR ? 0 : -errno;
			continue;
		}
		if (pfd[1].revents)
			break;
		got = recv(fd, buf, sizeof(buf), 0);
		if (got < 0) {
			err = errno == EINTR ? 0 : -errno;
			continue;
		}
		http_parser_execute(&parser, &settings, buf, (size_t)got);
		if (r->line_err) {
			err = r->line_err;
		} else if (!got && !r->complete) {
			/* Before http_parser's "stream ended at an unexpected time". */
			if (!r->line)
				fprintf(stderr, "%s: %s: the agent closed the connection before its answer was whole\n",
					prog, path);
			err = -ECONNRESET;
		} else if (HTTP_PARSER_ERRNO(&parser) != HPE_OK) {
			fprintf(stderr, "%s: %s: %s\n", prog, path, r->too_big ?
				"answer too large" : "the agent's answer is not HTTP we understand");
			err = -EPROTO;
		}
	}
	close(fd);
	if (!err && r->complete && r->status != 200) {
		print_error(path, r);
		err = r->status == 404 ? -ENODATA : -EIO;
	}
	return err;
}

int cli_api_get(const char *sock, const char *path, struct json_object **out)
{
	struct reply r = { 0 };
	json_tokener *tok;
	int err;

	err = get(sock, path, &r, -1);
	tok = err ? NULL : json_tokener_new();
	if (!err && !tok)
		err = -ENOMEM;
	if (!err) {
		*out = json_tokener_parse_ex(tok, r.body.p ? r.body.p : "",
					     (int)r.body.len);
		if (!*out || json_tokener_get_error(tok) != json_tokener_success) {
			fprintf(stderr, "%s: %s: bad JSON from the agent\n", prog,
				path);
			json_object_put(*out);
			*out = NULL;
			err = -EPROTO;
		}
	}
	if (tok)
		json_tokener_free(tok);
	strbuf_release(&r.body);
	return err;
}

int cli_api_show(const char *sock, const char *path, bool json,
		 int (*print)(struct json_object *o))
{
	struct json_object *o = NULL;
	int err = 0;

	err = cli_api_get(sock, path, &o);
	if (err)
		return err == -ENODATA ? EXIT_LIST_NONE : EXIT_LIST_ERROR;
	if (json)
		printf("%s\n", json_object_to_json_string_ext(o,
			JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	else
		err = print(o);
	json_object_put(o);
	return err ? EXIT_LIST_ERROR : EXIT_OK;
}

int cli_api_stream(const char *sock, const char *path, int stop_fd,
		   bool quiet, int (*line)(void *arg, const char *line),
		   void *arg)
{
	struct reply r = { .line = line, .arg = arg, .quiet = quiet };
	int err;

	err = get(sock, path, &r, stop_fd);
	strbuf_release(&r.body);
	return err;
}

/* Appends @v to @q, percent-encoded. */
int cli_api_escape(char *q, size_t size, const char *v)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t off = strlen(q);

	for (; *v; v++) {
		unsigned char ch = (unsigned char)*v;

		if (off + 4 > size)
			return -ENAMETOOLONG;
		if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || strchr("-._~:", ch)) {
			q[off++] = (char)ch;
		} else {
			q[off++] = '%';
			q[off++] = hex[ch >> 4];
			q[off++] = hex[ch & 15];
		}
	}
	q[off] = '\0';
	return 0;
}

int cli_api_query(char *q, size_t size, const char *k, const char *v)
{
	size_t off = strlen(q);
	int n;

	n = snprintf(q + off, size - off, "%c%s=", strchr(q, '?') ? '&' : '?', k);
	if (n < 0 || (size_t)n >= size - off)
		return -ENAMETOOLONG;
	return cli_api_escape(q, size, v);
}

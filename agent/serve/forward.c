// SPDX-License-Identifier: GPL-2.0
/*
 * One request to one engine on behalf of an API client (GET
 * /containers/{id}/json of the Docker façade): a connection opened for it
 * and closed after, bounded in time and size, the answer relayed whole.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "container_of.h"
#include "engine.h"
#include "forward.h"
#include "log.h"
#include "strbuf.h"

struct forward {
	struct loop *loop;
	struct conn *conn;
	struct tls_peer *peer;
	struct http_resp resp;
	struct strbuf body;
	struct loop_timer deadline;
	forward_fn done;
	void *arg;
	char addr[300];
	char why[200];
};

static void forward_free(struct forward *f)
{
	if (f->conn)
		conn_close(f->conn);
	loop_timer_stop(f->loop, &f->deadline);
	tls_peer_free(f->peer);
	strbuf_release(&f->body);
	free(f);
}

void forward_cancel(struct forward *f)
{
	if (f)
		forward_free(f);
}

static void finish(struct forward *f, const char *why)
{
	if (why)
		f->done(f->arg, 0, NULL, 0, why);
	else
		f->done(f->arg, http_resp_status(&f->resp), f->body.p,
			f->body.len, NULL);
	forward_free(f);
}

static void failf(struct forward *f, const char *fmt, const char *detail)
{
	snprintf(f->why, sizeof(f->why), fmt, f->addr, detail);
	finish(f, f->why);
}

static int on_body(void *arg, const char *data, size_t len)
{
	struct forward *f = arg;

	return strbuf_add(&f->body, data, len);
}

static void fwd_data(void *arg, const char *buf, size_t len)
{
	struct forward *f = arg;
	ssize_t n = http_resp_feed(&f->resp, buf, len);

	if (n < 0) {
		failf(f, "engine %s: bad answer: %s", n == -EMSGSIZE ?
		      "too large" : f->resp.error ? f->resp.error : strerror((int)-n));
		return;
	}
	if (f->resp.complete)
		finish(f, NULL);
}

static void fwd_eof(void *arg)
{
	struct forward *f = arg;

	if (http_resp_eof(&f->resp)) {
		failf(f, "engine %s: %s", "closed before the answer");
		return;
	}
	finish(f, NULL);
}

static void fwd_error(void *arg, int err)
{
	struct forward *f = arg;
	char msg[160];

	if (conn_error_cause(f->conn, err, msg, sizeof(msg)) == CAUSE_NONE)
		snprintf(msg, sizeof(msg), "%s", strerror(-err));
	failf(f, "engine %s: %s", msg);
}

static void fwd_connected(void *arg)
{
	(void)arg;
}

static const struct conn_cbs fwd_cbs = {
	.connected = fwd_connected,
	.data = fwd_data,
	.eof = fwd_eof,
	.error = fwd_error,
};

static void fwd_deadline(struct loop_timer *t)
{
	struct forward *f = container_of(t, struct forward, deadline);

	failf(f, "engine %s: %s", "no answer in time");
}

int forward_start(struct forward **fp, struct engine *e, const char *path,
		  forward_fn done, void *arg)
{
	const struct engine_cfg *cfg = e->env->cfg;
	struct conn_opts opts = cfg->conn;
	struct conn_transport *tr = NULL;
	struct forward *f;
	char req[1024];
	int n, err;

	if (!e->salen)
		return -EDESTADDRREQ;
	n = http_request_format(req, sizeof(req), "GET", e->addr, path);
	if (n < 0)
		return n;
	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	f->loop = e->env->loop;
	f->done = done;
	f->arg = arg;
	snprintf(f->addr, sizeof(f->addr), "%s", e->addr);
	loop_timer_init(&f->deadline, fwd_deadline);
	http_resp_init(&f->resp, cfg->max_body, false, false, on_body, f);
	opts.connect_timeout_ms = cfg->request_timeout_ms;
	err = 0;
	if (e->env->tls) {
		err = tls_peer_new(&f->peer, e->env->tls, engine_host(e));
		if (!err)
			err = tls_transport_new(&tr, f->peer);
	}
	if (!err)
		err = conn_new(&f->conn, f->loop, e->env->pool,
			       (const struct sockaddr *)&e->sa, e->salen, &opts,
			       tr, &fwd_cbs, f);
	if (err)
		f->conn = NULL;
	if (!err)
		err = conn_write(f->conn, req, (size_t)n);
	if (!err)
		err = loop_timer_start(f->loop, &f->deadline,
				       cfg->request_timeout_ms);
	if (err) {
		forward_free(f);
		return err;
	}
	*fp = f;
	return 0;
}

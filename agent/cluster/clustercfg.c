// SPDX-License-Identifier: GPL-2.0
/*
 * What the cluster accepts: --cluster's URL and --cluster-name, checked
 * at start and used to join, and keys under PREFIX it cannot read.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cluster_int.h"
#include "hostport.h"
#include "log.h"

bool cluster_name_ok(const char *s, size_t len)
{
	size_t i;

	if (!len || len > CLUSTER_NAME_MAX)
		return false;
	for (i = 0; i < len; i++) {
		char ch = s[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' ||
		      ch == '.'))
			return false;
	}
	return true;
}

int cluster_parse_url(const char *url, struct etcd_cfg *ec, char *prefix,
		      size_t plen, const char **why)
{
	const char *p = url + strlen("etcd://"), *slash;
	char list[1024], *tok, *save;

	if (strncmp(url, "etcd://", 7)) {
		*why = "--cluster: want etcd://HOST:PORT[,HOST:PORT...][/PREFIX]";
		return -EINVAL;
	}
	slash = strchr(p, '/');
	if ((slash ? (size_t)(slash - p) : strlen(p)) >= sizeof(list)) {
		*why = "--cluster: too many endpoints";
		return -EINVAL;
	}
	snprintf(list, sizeof(list), "%.*s",
		 (int)(slash ? (size_t)(slash - p) : strlen(p)), p);
	snprintf(prefix, plen, "%s", slash && slash[1] ? slash :
		 CLUSTER_DEFAULT_PREFIX);
	while (strlen(prefix) > 1 && prefix[strlen(prefix) - 1] == '/')
		prefix[strlen(prefix) - 1] = '\0';
	if (strlen(prefix) > 200) {
		*why = "--cluster: the prefix is longer than 200 bytes";
		return -EINVAL;
	}
	ec->nep = 0;
	for (tok = strtok_r(list, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		struct etcd_endpoint *ep = &ec->ep[ec->nep];
		const char *hwhy;

		if (ec->nep == ETCD_MAX_ENDPOINTS) {
			*why = "--cluster: at most 16 endpoints";
			return -EINVAL;
		}
		if (hostport_parse(tok, ep->host, sizeof(ep->host), &ep->port,
				   &hwhy)) {
			*why = "--cluster: an endpoint is not HOST:PORT";
			return -EINVAL;
		}
		ec->nep++;
	}
	if (!ec->nep) {
		*why = "--cluster: no etcd endpoint";
		return -EINVAL;
	}
	return 0;
}

int cluster_resolve_name(const struct cluster_cfg *cfg, char *name,
			 const char **why)
{
	char host[256];

	if (cfg->name) {
		snprintf(name, CLUSTER_NAME_MAX + 1, "%s", cfg->name);
		if (!cluster_name_ok(cfg->name, strlen(cfg->name)))
			goto bad;
		return 0;
	}
	if (gethostname(host, sizeof(host)))
		return -errno;
	host[sizeof(host) - 1] = '\0';
	if (cluster_name_ok(host, strlen(host))) {
		memcpy(name, host, strlen(host) + 1);
		return 0;
	}
bad:
	*why = "--cluster-name: 1 to 63 of a-z A-Z 0-9 . _ -";
	return -EINVAL;
}

int cluster_check(const struct cluster_cfg *cfg, const char **why)
{
	char prefix[256], name[CLUSTER_NAME_MAX + 1];
	struct etcd_cfg ec;
	int err;

	err = cluster_parse_url(cfg->url, &ec, prefix, sizeof(prefix), why);
	if (!err)
		err = cluster_resolve_name(cfg, name, why);
	return err;
}

/* A key under PREFIX that we cannot read: counted, told once in a while. */
void cluster_bad_key(struct cluster *c, const char *key, const char *why)
{
	/* The first few each, then fewer: a flood must not fill the log. */
	c->bad_keys++;
	if (c->bad_keys <= CLUSTER_BAD_KEYS_LOGGED ||
	    !(c->bad_keys & (c->bad_keys - 1)))
		log_warn("cluster: ignoring %.200s: %s (%llu such keys so far)",
			 key, why, (unsigned long long)c->bad_keys);
}

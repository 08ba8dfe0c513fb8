// SPDX-License-Identifier: GPL-2.0
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hostport.h"

bool host_is_literal(const char *host)
{
	struct in6_addr a6;
	struct in_addr a4;

	return inet_pton(AF_INET, host, &a4) == 1 ||
	       inet_pton(AF_INET6, host, &a6) == 1;
}

int host_sockaddr(const char *host, uint16_t port,
		  struct sockaddr_storage *sa, socklen_t *salen)
{
	struct sockaddr_in *s4 = (struct sockaddr_in *)sa;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)sa;

	memset(sa, 0, sizeof(*sa));
	if (inet_pton(AF_INET, host, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		*salen = sizeof(*s4);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		*salen = sizeof(*s6);
		return 0;
	}
	memset(sa, 0, sizeof(*sa));
	return -EINVAL;
}

static bool name_valid(const char *h)
{
	size_t label = 0;

	if (!*h || strlen(h) > 253)
		return false;
	for (; *h; h++) {
		if (*h == '.') {
			if (!label)
				return false;
			label = 0;
			continue;
		}
		if (!((*h >= 'a' && *h <= 'z') || (*h >= 'A' && *h <= 'Z') ||
		      (*h >= '0' && *h <= '9') || *h == '-'))
			return false;
		if (++label > 63)
			return false;
	}
	return true;
}

const char *hostport_strip_tcp(const char *s, const char **why)
{
	const char *sep = strstr(s, "://");

	if (!sep)
		return s;
	if (sep - s == 3 && !strncmp(s, "tcp", 3))
		return sep + 3;
	if (sep - s == 4 && !strncmp(s, "http", 4))
		*why = "http:// is not how Docker names an engine: write tcp://HOST:PORT or HOST:PORT";
	else if (sep - s == 5 && !strncmp(s, "https", 5))
		*why = "https:// is not how Docker names an engine: write tcp://HOST:PORT, with TLS on (--tlsverify)";
	else if (sep - s == 4 && !strncmp(s, "unix", 4))
		*why = "unix:// engines cannot be watched: peerwatchd reaches engines over TCP (tcp://HOST:PORT)";
	else
		*why = "an unknown scheme: write tcp://HOST:PORT or HOST:PORT";
	return NULL;
}

static int fail(const char **why, const char *reason)
{
	*why = reason;
	return -EINVAL;
}

int hostport_parse(const char *s, char *host, size_t hostlen, uint16_t *port,
		   const char **why)
{
	const char *colon, *h = s;
	size_t len;
	unsigned long p;
	char *end;
	struct in6_addr a6;

	if (*s == '[') {
		const char *close = strchr(s, ']');

		if (!close || close[1] != ':')
			return fail(why, "expected [IPv6]:port");
		h = s + 1;
		len = close - h;
		colon = close + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon)
			return fail(why, "missing :port");
		len = colon - s;
		if (memchr(s, ':', len))
			return fail(why, "IPv6 addresses need brackets: [addr]:port");
	}
	if (!len || len >= hostlen)
		return fail(why, "bad host length");
	memcpy(host, h, len);
	host[len] = '\0';
	if (*s == '[' && inet_pton(AF_INET6, host, &a6) != 1)
		return fail(why, "bad IPv6 address");
	if (*s != '[' && strspn(host, "0123456789.") == len &&
	    !host_is_literal(host))
		return fail(why, "bad IPv4 address");
	if (*s != '[' && !host_is_literal(host) && !name_valid(host))
		return fail(why, "bad host name");
	if (colon[1] < '0' || colon[1] > '9')
		return fail(why, "bad port");
	errno = 0;
	p = strtoul(colon + 1, &end, 10);
	if (errno || *end || p == 0 || p > 65535)
		return fail(why, "bad port");
	*port = (uint16_t)p;
	return 0;
}

/*
 * An address as a sort key: @fam 4 or 6 with its bytes in @a, 0 for a
 * name; the port (0: none).
 */
static void sort_key(const char *s, int *fam, unsigned char a[16],
		     unsigned long *port)
{
	char host[256];
	const char *colon, *h = s;
	size_t len;

	*fam = 0;
	*port = 0;
	if (*s == '[') {
		colon = strchr(s, ']');
		h = s + 1;
		len = colon ? (size_t)(colon - h) : strlen(h);
		colon = colon && colon[1] == ':' ? colon + 1 : NULL;
	} else {
		colon = strrchr(s, ':');
		if (colon && memchr(s, ':', (size_t)(colon - s)))
			colon = NULL;	/* a bare IPv6 address */
		len = colon ? (size_t)(colon - s) : strlen(s);
	}
	if (len >= sizeof(host))
		return;
	memcpy(host, h, len);
	host[len] = '\0';
	if (colon)
		*port = strtoul(colon + 1, NULL, 10);
	if (inet_pton(AF_INET, host, a) == 1)
		*fam = 4;
	else if (inet_pton(AF_INET6, host, a) == 1)
		*fam = 6;
}

int hostport_cmp(const char *a, const char *b)
{
	unsigned char ka[16], kb[16];
	unsigned long pa, pb;
	int fa, fb, d;

	sort_key(a, &fa, ka, &pa);
	sort_key(b, &fb, kb, &pb);
	if (fa != fb)
		return !fa ? 1 : !fb ? -1 : fa - fb;
	if (!fa)
		return strcmp(a, b);
	d = memcmp(ka, kb, fa == 4 ? 4 : 16);
	if (d)
		return d;
	return pa < pb ? -1 : pa > pb;
}

/* SPDX-License-Identifier: GPL-2.0 */
#ifndef PEERWATCH_CAUSE_H
#define PEERWATCH_CAUSE_H

#include <stdbool.h>

/* Why an engine left healthy; names are part of the JSON interface. */
enum cause {
	CAUSE_NONE,
	CAUSE_USER_TIMEOUT,	/* ETIMEDOUT on an established connection */
	CAUSE_CONNECT_TIMEOUT,
	CAUSE_RESET,
	CAUSE_REFUSED,
	CAUSE_UNREACHABLE,
	CAUSE_DEADLINE,		/* a request got no complete answer in time */
	CAUSE_PING_TIMEOUT,	/* nor the ping of an idle connection */
	CAUSE_PROTOCOL,		/* bad HTTP or JSON, or a bound exceeded */
	CAUSE_STATUS,		/* an HTTP error status */
	CAUSE_CLOSED,		/* the engine closed mid-response */
	CAUSE_DNS,
	CAUSE_ID_CHANGE,
	CAUSE_DISCOVERY,	/* removed from the discovery source */
	CAUSE_TLS_UNKNOWN_CA,	/* its certificate is not from our CA */
	CAUSE_TLS_NAME,		/* nor for its address or name */
	CAUSE_TLS_EXPIRED,
	CAUSE_TLS_VERIFY,	/* refused for another reason */
	CAUSE_TLS_CERT_REFUSED,	/* the engine refused our certificate */
	CAUSE_TLS_REQUIRED,	/* plain HTTP sent to a TLS port */
	CAUSE_NOT_TLS,		/* TLS sent to a plain port */
	CAUSE_TLS,		/* any other TLS failure */
	CAUSE_KERNEL_SUSPECT,	/* peerwatch.ko: a retransmission timeout */
	CAUSE_KERNEL_USER_TIMEOUT,	/* peerwatch.ko: DEAD, and why */
	CAUSE_KERNEL_RETRIES,
	CAUSE_KERNEL_KEEPALIVE,
	CAUSE_KERNEL_ZERO_WINDOW,
	CAUSE_KERNEL_RESET,
	CAUSE_KERNEL_ABORT,
	CAUSE_HANDOVER,		/* another agent watches it now (--cluster) */
	CAUSE_FD_LIMIT,		/* no descriptor for its connections */
	CAUSE_MEM_LIMIT,	/* no memory for its inventory */
	CAUSE_ERROR,		/* a local error (out of descriptors...) */
};

const char *cause_name(enum cause c);
/* The cause of a socket error; @connected tells connect errors apart. */
enum cause cause_from_errno(int err, bool connected);
/* Whether the cause means the engine cannot be reached (down). */
bool cause_is_down(enum cause c);

#endif

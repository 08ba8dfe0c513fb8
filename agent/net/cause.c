// SPDX-License-Identifier: GPL-2.0
#include <errno.h>

#include "cause.h"

const char *cause_name(enum cause c)
{
	static const char *const names[] = {
		[CAUSE_NONE] = "",
		[CAUSE_USER_TIMEOUT] = "user-timeout",
		[CAUSE_CONNECT_TIMEOUT] = "connect-timeout",
		[CAUSE_RESET] = "reset",
		[CAUSE_REFUSED] = "refused",
		[CAUSE_UNREACHABLE] = "unreachable",
		[CAUSE_DEADLINE] = "deadline",
		[CAUSE_PING_TIMEOUT] = "ping-timeout",
		[CAUSE_PROTOCOL] = "protocol",
		[CAUSE_STATUS] = "status",
		[CAUSE_CLOSED] = "closed",
		[CAUSE_DNS] = "dns",
		[CAUSE_ID_CHANGE] = "id-change",
		[CAUSE_DISCOVERY] = "discovery",
		[CAUSE_TLS_UNKNOWN_CA] = "tls-unknown-ca",
		[CAUSE_TLS_NAME] = "tls-name-mismatch",
		[CAUSE_TLS_EXPIRED] = "tls-expired",
		[CAUSE_TLS_VERIFY] = "tls-verify",
		[CAUSE_TLS_CERT_REFUSED] = "tls-cert-refused",
		[CAUSE_TLS_REQUIRED] = "tls-required",
		[CAUSE_NOT_TLS] = "not-tls",
		[CAUSE_TLS] = "tls",
		[CAUSE_KERNEL_SUSPECT] = "kernel:suspect",
		[CAUSE_KERNEL_USER_TIMEOUT] = "kernel:user-timeout",
		[CAUSE_KERNEL_RETRIES] = "kernel:retries",
		[CAUSE_KERNEL_KEEPALIVE] = "kernel:keepalive",
		[CAUSE_KERNEL_ZERO_WINDOW] = "kernel:zero-window",
		[CAUSE_KERNEL_RESET] = "kernel:reset",
		[CAUSE_KERNEL_ABORT] = "kernel:abort",
		[CAUSE_HANDOVER] = "handover",
		[CAUSE_FD_LIMIT] = "fd-limit",
		[CAUSE_MEM_LIMIT] = "mem-limit",
		[CAUSE_ERROR] = "error",
	};

	return (unsigned int)c < sizeof(names) / sizeof(names[0]) ?
	       names[c] : "error";
}

enum cause cause_from_errno(int err, bool connected)
{
	switch (-err) {
	case ETIMEDOUT:
		return connected ? CAUSE_USER_TIMEOUT : CAUSE_CONNECT_TIMEOUT;
	case ECONNRESET:
	case EPIPE:
	case ECONNABORTED:
		return CAUSE_RESET;
	case ECONNREFUSED:
		return CAUSE_REFUSED;
	case EHOSTUNREACH:
	case ENETUNREACH:
	case EHOSTDOWN:
	case ENETDOWN:
		return CAUSE_UNREACHABLE;
	case EMFILE:
	case ENFILE:
		return CAUSE_FD_LIMIT;
	default:
		return CAUSE_ERROR;
	}
}

bool cause_is_down(enum cause c)
{
	switch (c) {
	case CAUSE_USER_TIMEOUT:
	case CAUSE_CONNECT_TIMEOUT:
	case CAUSE_RESET:
	case CAUSE_REFUSED:
	case CAUSE_UNREACHABLE:
	case CAUSE_DNS:
	case CAUSE_KERNEL_USER_TIMEOUT:
	case CAUSE_KERNEL_RETRIES:
	case CAUSE_KERNEL_KEEPALIVE:
	case CAUSE_KERNEL_ZERO_WINDOW:
	case CAUSE_KERNEL_RESET:
	case CAUSE_KERNEL_ABORT:
		return true;
	default:
		return false;
	}
}

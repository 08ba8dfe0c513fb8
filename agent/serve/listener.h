/* SPDX-License-Identifier: GPL-2.0 */
#ifndef PEERWATCH_LISTENER_H
#define PEERWATCH_LISTENER_H

/*
 * The sockets the control API listens on, bound and listening,
 * non-blocking: what server.c accepts from. Each returns 0 with the
 * socket in @fdp, or -errno with what failed in @why.
 */
#include <sys/socket.h>

/*
 * A UNIX socket at @path, mode 0660, its directory made if need be. A
 * socket file left by a dead agent is replaced; a live agent's, or a file
 * that is not a socket, is left alone.
 */
int listener_unix(const char *path, int *fdp, const char **why);
int listener_tcp(const struct sockaddr_storage *ss, socklen_t len, int *fdp,
		 const char **why);

#endif

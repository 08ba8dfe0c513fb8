/* SPDX-License-Identifier: GPL-2.0 */
#ifndef PEERWATCH_PWAPI_H
#define PEERWATCH_PWAPI_H

/*
 * What peerwatchd's control API and its clients (peerwatch, the tests)
 * agree on: where it listens by default and the paths of its /v1 views.
 */
#define API_DEFAULT_SOCKET	"/run/peerwatch/agent.sock"

#define API_PATH_NODES		"/v1/nodes"
#define API_PATH_CONTAINERS	"/v1/containers"
#define API_PATH_EVENTS		"/v1/events"
#define API_PATH_SUMMARY	"/v1/summary"

#endif
